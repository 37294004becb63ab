#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/time/time.h"
#include "services/objects/storage/object_records.pb.h"
#include "thingtank/objects/v1/objects.pb.h"

namespace thingtank::objects::notify {

// S3's event notifications as pure functions: which configurations an event
// matches, and the message (AWS "Event message structure", version 2.1).

// `configured` is a configuration's event ("s3:ObjectCreated:*",
// "s3:ObjectRemoved:Delete", ...), `event` what happened ("ObjectCreated:Put").
// "s3:<Family>:*" matches every "<Family>:..." event; other names only
// themselves.
bool EventMatches(std::string_view configured, std::string_view event);

// One of the configuration's events matches, and the key starts with its
// prefix and ends with its suffix (compared with the key as stored).
bool ConfigurationMatches(const v1::NotificationConfiguration& configuration,
                          std::string_view event, std::string_view key);

// The key as S3 writes it in events: form-URL-encoded (a space is "+"),
// letters, digits, "-_.*" and "/" as they are, every other byte %XX.
std::string EncodeKey(std::string_view key);

// What one event message says.
struct EventMessage {
  std::string region;            // the bucket's (us-east-1 when empty)
  std::string bucket;
  std::string configuration_id;
  std::string event_name;        // "ObjectCreated:Put"
  absl::Time time;
  std::string key;               // raw; encoded in the message
  std::optional<int64_t> size;   // created events only
  std::string etag;              // unquoted; created events only (empty: omitted)
  std::string version_id;        // empty: omitted (unversioned, "null")
  uint64_t sequence = 0;         // the sequencer, and the request id
};

// The message for `event` on version `v` of `bucket`, as `configuration`
// asked for it: size and ETag for created events, the version id unless it
// is "null".
EventMessage MessageFor(const storage::BucketRecord& bucket,
                        const v1::NotificationConfiguration& configuration,
                        std::string_view event, const storage::VersionRecord& v, absl::Time time,
                        uint64_t sequence);

// {"Records":[{...}]}, compact, fields in S3's order. eventTime is ISO-8601
// UTC with milliseconds; sequencer and x-amz-request-id are the sequence as
// 16 upper-case hex digits (they sort as the sequence does); x-amz-id-2 is
// the base64 of "thingtank/<request id>".
std::string EventJson(const EventMessage& m);

}  // namespace thingtank::objects::notify
