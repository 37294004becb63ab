#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "google/protobuf/duration.pb.h"
#include "google/protobuf/map.h"
#include "thingtank/queues/v1/queues.pb.h"

namespace thingtank::queues {

// SQS limits and defaults.
inline constexpr int kMaxQueueNameLength = 80;
inline constexpr int kMaxBatchEntries = 10;
inline constexpr int64_t kMaxBatchBytes = 1 << 20;
inline constexpr int kMaxMessageAttributes = 10;
inline constexpr int kMaxPageSize = 1000;
inline constexpr absl::Duration kMaxVisibilityTimeout = absl::Hours(12);
inline constexpr absl::Duration kMaxWaitTime = absl::Seconds(20);
inline constexpr absl::Duration kMaxDelay = absl::Seconds(900);
inline constexpr absl::Duration kDedupWindow = absl::Minutes(5);

// Syntax of a queue name; FIFO names end in ".fifo". Errors name `field`.
absl::Status ValidateQueueName(const std::string& name, const std::string& field = "queue_name");
bool IsFifoName(const std::string& name);

absl::Duration ToDuration(const google::protobuf::Duration& d);
void SetDuration(absl::Duration d, google::protobuf::Duration* out);
// A well-formed duration within [min, max], else InvalidField(field) with `reason`.
absl::Status ValidateDuration(const google::protobuf::Duration& d, absl::Duration min,
                              absl::Duration max, const std::string& field,
                              const std::string& reason = "InvalidParameterValue");

// The attributes of a new queue: `requested` with SQS defaults filled in and
// every range checked (fields "attributes.<name>"). Dead-letter queue existence
// is checked by the caller.
absl::StatusOr<v1::QueueAttributes> AttributesForCreate(const std::string& name,
                                                        const v1::QueueAttributes& requested);
// `current` with the fields set in `requested` applied and checked. An empty
// dead_letter_queue_name removes the redrive policy.
absl::StatusOr<v1::QueueAttributes> MergeAttributes(const v1::QueueAttributes& current,
                                                    const v1::QueueAttributes& requested);

// What a send carries, whether from SendMessage or a batch entry.
struct MessageInput {
  const std::string* body;
  const google::protobuf::Map<std::string, v1::MessageAttributeValue>* attributes;
  const google::protobuf::Duration* delay;  // nullptr when unset
  const std::string* group_id;
  const std::string* dedup_id;
  std::string field_prefix;  // "" or "entries[<i>]."
  // MD5s of the body and of the attributes, computed before the queue's lock
  // is taken (DoSendMessage, DoSendMessageBatch); empty: computed under it.
  std::string md5_body;
  std::string md5_attributes;
};

// Checks a message against its queue. `prefix` is prepended to field names
// (e.g. "entries[3]."). On success sets *size to the SQS message size.
absl::Status ValidateMessage(const MessageInput& in, const v1::QueueAttributes& queue,
                             const std::string& prefix, int64_t* size);

// Checks batch shape: 1 to 10 entries, valid and distinct ids.
absl::Status ValidateBatchIds(const std::vector<const std::string*>& ids);

// Page size: 0 means 1000; 1 to 1000 valid.
absl::StatusOr<int> ValidatePageSize(int32_t page_size);

}  // namespace thingtank::queues
