// Helpers shared by the streams domain's files (internal).
#pragma once

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "google/protobuf/map.h"
#include "absl/strings/str_cat.h"
#include "services/streams/core/kinesis_errors.h"
#include "services/streams/stream_state.h"

namespace thingtank::streams::internal {

inline absl::Status StreamNotFound(const std::string& name) {
  return Error("ResourceNotFoundException",
               absl::StrCat("Stream ", name, " under account 000000000000 not found."));
}

inline absl::Status ShardNotFound(const std::string& stream, const std::string& shard_id) {
  return Error("ResourceNotFoundException",
               absl::StrCat("Shard ", shard_id, " in stream ", stream, " under account 000000000000 does not exist"));
}

inline const char* StatusName(v1::StreamStatus status) {
  switch (status) {
    case v1::STREAM_STATUS_CREATING: return "CREATING";
    case v1::STREAM_STATUS_DELETING: return "DELETING";
    case v1::STREAM_STATUS_UPDATING: return "UPDATING";
    default: return "ACTIVE";
  }
}

// Data calls (records, iterators) need the stream ACTIVE or UPDATING.
inline absl::Status CheckReadable(const StreamState& s) ABSL_SHARED_LOCKS_REQUIRED(s.mu) {
  const v1::StreamStatus st = static_cast<v1::StreamStatus>(s.record.status());
  if (s.gone || st == v1::STREAM_STATUS_CREATING || st == v1::STREAM_STATUS_DELETING) {
    return Error("ResourceNotFoundException",
                 absl::StrCat("Stream ", s.record.name(), " under account 000000000000 not found (it is ",
                              StatusName(st), ")."));
  }
  return absl::OkStatus();
}

// Changes (resharding, settings, consumers) need it ACTIVE.
inline absl::Status CheckActive(const StreamState& s) ABSL_SHARED_LOCKS_REQUIRED(s.mu) {
  const v1::StreamStatus st = static_cast<v1::StreamStatus>(s.record.status());
  if (s.gone || st != v1::STREAM_STATUS_ACTIVE) {
    return Error("ResourceInUseException",
                 absl::StrCat("Stream ", s.record.name(), " under account 000000000000 is ", StatusName(st),
                              ", not ACTIVE."));
  }
  return absl::OkStatus();
}

inline constexpr int kMaxTags = 50;

inline absl::StatusOr<int> PageLimit(int value, int fallback, int max, const char* field) {
  if (value == 0) return fallback;
  if (value < 1 || value > max) {
    return FieldError(field, "InvalidArgumentException", absl::StrCat("must be between 1 and ", max));
  }
  return value;
}

inline absl::Status ValidateTags(const google::protobuf::Map<std::string, std::string>& tags, const char* field) {
  for (const auto& [key, value] : tags) {
    if (key.empty() || key.size() > 128) {
      return FieldError(field, "InvalidArgumentException", "a tag key must be 1-128 characters");
    }
    if (value.size() > 256) {
      return FieldError(field, "InvalidArgumentException", "a tag value must be at most 256 characters");
    }
  }
  return absl::OkStatus();
}

inline int64_t Micros(absl::Time t) { return absl::ToUnixMicros(t); }

// The oldest arrival time still retained.
inline absl::Time RetentionCutoff(const StreamState& s, absl::Time now) ABSL_SHARED_LOCKS_REQUIRED(s.mu) {
  return now - absl::Hours(s.record.retention_hours());
}

}  // namespace thingtank::streams::internal

#include "google/protobuf/repeated_field.h"
#include "services/common/storage/db.h"
#include "services/streams/storage/record_keys.h"

namespace thingtank::streams::internal {

// What one read of a shard returned.
struct ReadOutcome {
  int count = 0;
  int64_t bytes = 0;  // data + partition keys
  // The last record returned.
  std::optional<SequenceNumber> last;
  // More records follow the last one returned (a limit was reached).
  bool more = false;
};

// Appends to `out` the records of shard `shard_index` of stream `stream_id`
// from `from` (inclusive) on, at most `max_records` and (after the first)
// `max_bytes`.
absl::StatusOr<ReadOutcome> ReadShard(Db* db, uint64_t stream_id, uint64_t shard_index, storage::Position from,
                                      int max_records, int64_t max_bytes,
                                      google::protobuf::RepeatedPtrField<v1::Record>* out);

// The position just after `n`, and the position of `n`.
inline storage::Position PositionOf(const SequenceNumber& n) {
  return {absl::ToUnixMicros(n.arrival), n.counter};
}
inline storage::Position PositionAfter(const SequenceNumber& n) {
  return {absl::ToUnixMicros(n.arrival), n.counter + 1};
}
inline storage::Position Later(storage::Position a, storage::Position b) {
  return (a.arrival_micros > b.arrival_micros || (a.arrival_micros == b.arrival_micros && a.counter >= b.counter))
             ? a
             : b;
}

}  // namespace thingtank::streams::internal
