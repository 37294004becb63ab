#pragma once

// Pieces shared by the queue_service*.cc files. Not for other users.

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "services/queues/queue_service.h"

namespace thingtank::queues {

// Work to run once every queue lock is released: replies to long polls,
// event notifications, and queues that gained visible messages (a
// dead-letter queue after a redrive) whose waiters should be served.
struct QueueService::Deferred {
  std::vector<std::pair<ReceiveCallback, absl::StatusOr<v1::ReceiveMessagesResponse>>> replies;
  std::vector<std::function<void()>> events;
  std::vector<QueuePtr> pokes;
  // Set by the non-blocking paths: the pokes are posted to the executor
  // instead of run inline (a Poke blocks on RocksDB).
  bool post_pokes = false;
};

// Locks a queue and, when its redrive policy names a live dead-letter queue,
// that queue as well, in ascending id order (the one lock order between
// queues). Retries if the policy changes while it was unlocked.
class QueueService::QueueLock {
 public:
  QueueLock(const QueueService* service, QueuePtr q);
  // Tries once, without waiting: held() tells whether it got every lock.
  QueueLock(const QueueService* service, QueuePtr q, std::try_to_lock_t);
  ~QueueLock();
  QueueLock(const QueueLock&) = delete;
  QueueLock& operator=(const QueueLock&) = delete;

  QueueState* q() const { return q_.get(); }
  const QueuePtr& q_ptr() const { return q_; }
  // Null when the queue has no (live) dead-letter queue.
  QueueState* dlq() const { return dlq_.get(); }
  bool held() const { return held_; }

 private:
  QueuePtr q_;
  QueuePtr dlq_;
  bool held_ = false;
};

// Holds `mu`; with `try_only`, only if it was free (see held()).
class MaybeTryLock {
 public:
  MaybeTryLock(absl::Mutex* mu, bool try_only) : mu_(mu) {
    if (try_only) {
      held_ = mu_->TryLock();
    } else {
      mu_->Lock();
      held_ = true;
    }
  }
  ~MaybeTryLock() {
    if (held_) mu_->Unlock();
  }
  MaybeTryLock(const MaybeTryLock&) = delete;
  MaybeTryLock& operator=(const MaybeTryLock&) = delete;
  bool held() const { return held_; }

 private:
  absl::Mutex* const mu_;
  bool held_ = false;
};

int64_t ToMicros(absl::Time t);
void SetTimestamp(int64_t micros, google::protobuf::Timestamp* out);
absl::Status QueueDoesNotExist(const std::string& name);
// Whether retrying a failed batch entry unchanged would fail again.
bool SenderFault(const absl::Status& s);
// A failed batch entry from its status (code = the SQS error name).
void FillBatchError(const std::string& id, const absl::Status& s, v1::BatchResultErrorEntry* e);

}  // namespace thingtank::queues
