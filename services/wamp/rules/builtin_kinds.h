// The rule kinds of the wamp service itself, one file each.
#pragma once

#include <memory>

#include "services/wamp/rules/rule_kind.h"

namespace thingtank::wamp {

std::unique_ptr<RuleKind> TopicToQueueKind();  // topic_to_queue.cc
std::unique_ptr<RuleKind> QueueToTopicKind();  // queue_to_topic.cc
std::unique_ptr<RuleKind> TopicToTableKind();  // topic_to_table.cc
std::unique_ptr<RuleKind> TopicToStreamKind();  // topic_to_stream.cc
std::unique_ptr<RuleKind> StreamToTopicKind();  // stream_to_topic.cc

}  // namespace thingtank::wamp
