#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <list>
#include <memory>
#include <string>
#include <unordered_map>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "services/common/clock.h"
#include "services/queues/message_index.h"
#include "services/queues/storage/queue_records.pb.h"
#include "thingtank/queues/v1/queues.pb.h"

namespace thingtank::queues {

// A long-poll receive waiting for messages. Holds no thread.
struct Waiter {
  uint64_t id = 0;
  v1::ReceiveMessagesRequest request;
  int64_t visibility_micros = 0;
  std::function<void(absl::StatusOr<v1::ReceiveMessagesResponse>)> done;
  // True once the caller has gone (its RPC was cancelled): the waiter must
  // not take messages any more. May be empty.
  std::function<bool()> cancelled;
  Clock::TimerId timer = 0;
};

// A deduplication entry of a FIFO queue.
struct DedupEntry {
  std::string message_id;
  uint64_t seq = 0;
  int64_t expires_micros = 0;
};

// Everything the service keeps in memory about one queue. Shared (by
// shared_ptr) between the registry and in-progress calls and timers, which
// check `deleted` after locking. `mu` guards every mutable field; lock order
// between queues is by ascending id.
struct QueueState : std::enable_shared_from_this<QueueState> {
  QueueState(storage::QueueRecord r, uint64_t next)
      : id(r.id()),
        name(r.name()),
        is_fifo(r.attributes().fifo_queue()),
        record(std::move(r)),
        next_seq(next),
        index(is_fifo) {}

  const uint64_t id;
  const std::string name;
  const bool is_fifo;  // fixed at creation
  absl::Mutex mu;
  storage::QueueRecord record ABSL_GUARDED_BY(mu);
  bool deleted ABSL_GUARDED_BY(mu) = false;
  uint64_t next_seq ABSL_GUARDED_BY(mu);
  MessageIndex index ABSL_GUARDED_BY(mu);
  // FIFO deduplication: by id, and in expiry order for pruning.
  std::unordered_map<std::string, DedupEntry> dedup ABSL_GUARDED_BY(mu);
  std::deque<std::pair<int64_t, std::string>> dedup_order ABSL_GUARDED_BY(mu);
  std::list<Waiter> waiters ABSL_GUARDED_BY(mu);
  // The queue's one maintenance timer (visibility wake-ups, retention).
  Clock::TimerId timer ABSL_GUARDED_BY(mu) = 0;
  int64_t timer_micros ABSL_GUARDED_BY(mu) = 0;
  // Bumped on every arm, so a stale firing does not clear a newer timer.
  uint64_t timer_generation ABSL_GUARDED_BY(mu) = 0;

  const v1::QueueAttributes& attrs() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    return record.attributes();
  }
};

}  // namespace thingtank::queues
