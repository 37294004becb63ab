// Templates of topic_to_table's key_template and topic_to_stream's
// partition_key_template: literal text and placeholders {topic},
// {publication}, {timestamp_ms} and {kwargs.NAME}, filled from one event,
// e.g. "{kwargs.device}" or "t-{timestamp_ms}". And the event as JSON text.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/wamp/router/local_client.h"

namespace thingtank::wamp {

// A literal run of text, or a placeholder: "topic", "publication",
// "timestamp_ms" or "kwargs.NAME".
struct TemplatePart {
  bool placeholder = false;
  std::string text;
};

// INVALID_ARGUMENT for an unbalanced brace or an unknown placeholder (the
// message lists the known ones).
absl::StatusOr<std::vector<TemplatePart>> ParseTemplate(const std::string& text);

// The text for `event` received at `now`; INVALID_ARGUMENT when the event
// lacks a named keyword argument. Strings are inserted as they are, other
// values as JSON.
absl::StatusOr<std::string> ExpandTemplate(const std::vector<TemplatePart>& parts,
                                           const EventData& event, absl::Time now);

// JSON text that never throws on invalid UTF-8 (replaced by U+FFFD).
std::string DumpJson(const Json& j);

// The event as the JSON object {"topic","publication","args","kwargs"} (in
// that order): topic_to_queue's message body, topic_to_stream's record data.
std::string EventJson(const EventData& event);

}  // namespace thingtank::wamp
