#include "services/wamp/rules/builtin_kinds.h"

namespace thingtank::wamp {

RuleKinds BuiltinRuleKinds() {
  RuleKinds kinds;
  // This order is the one the "set exactly one of ..." error lists.
  kinds.Add(TopicToQueueKind())
      .Add(QueueToTopicKind())
      .Add(TopicToTableKind())
      .Add(TopicToStreamKind())
      .Add(StreamToTopicKind());
  return kinds;
}

}  // namespace thingtank::wamp
