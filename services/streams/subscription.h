// One SubscribeToShard call as the domain sees it: a position in a shard and
// a sink to push events to. Woken by each write to its shard (Notify), it
// reads what is new on the executor and delivers it as one event; the next
// event waits until the owner says the last was written (Delivered), so a
// slow subscriber holds at most one event in memory and simply falls behind
// (MillisBehindLatest grows). An empty event goes out when nothing was sent
// for a heartbeat; the subscription ends after its lifetime (5 minutes) or
// once a closed shard is drained (its last event lists the children).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "services/streams/storage/record_keys.h"
#include "services/streams/stream_service.h"

namespace thingtank::streams {

class Subscription : public std::enable_shared_from_this<Subscription> {
 public:
  Subscription(StreamService* service, std::shared_ptr<StreamState> stream, uint64_t shard_index,
               std::string consumer_arn, storage::Position from, std::string continuation,
               StreamService::SubscriptionSink sink);
  ~Subscription();
  Subscription(const Subscription&) = delete;
  Subscription& operator=(const Subscription&) = delete;

  const std::string& consumer_arn() const { return consumer_arn_; }

  // Registers with the shard (the caller holds the stream's lock), arms the
  // timers, and schedules the first event.
  void StartLocked(ShardState& shard);
  // The shard has new records, or closed. Called under the stream's lock.
  void Notify();
  // Ends the subscription with `status` (OK: lifetime over). Called under
  // the stream's lock, or from a timer.
  void EndWith(absl::Status status);
  // From the owner: the last event is written.
  void Delivered();
  // From the owner, once the call is over: unregisters; no sink callback
  // runs after this returns. Idempotent.
  void Cancel();

 private:
  void ScheduleLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // On the executor: one event, or the end.
  void Produce();
  void Unregister();

  StreamService* const service_;
  const std::shared_ptr<StreamState> stream_;
  const uint64_t shard_index_;
  const std::string consumer_arn_;
  const StreamService::SubscriptionSink sink_;

  // Held while a sink callback runs; Cancel takes it to wait them out.
  absl::Mutex sink_mu_ ABSL_ACQUIRED_BEFORE(mu_);
  bool cancelled_ ABSL_GUARDED_BY(sink_mu_) = false;

  absl::Mutex mu_;
  storage::Position next_ ABSL_GUARDED_BY(mu_);
  std::string continuation_ ABSL_GUARDED_BY(mu_);
  bool dirty_ ABSL_GUARDED_BY(mu_) = true;      // something may be new
  bool force_ ABSL_GUARDED_BY(mu_) = true;      // send an event even if empty
  bool scheduled_ ABSL_GUARDED_BY(mu_) = false;  // a Produce is queued or running
  bool in_flight_ ABSL_GUARDED_BY(mu_) = false;  // an event is being written
  bool ended_ ABSL_GUARDED_BY(mu_) = false;
  std::optional<absl::Status> end_ ABSL_GUARDED_BY(mu_);
  absl::Time last_event_ ABSL_GUARDED_BY(mu_);
  Clock::TimerId heartbeat_timer_ ABSL_GUARDED_BY(mu_) = 0;
  Clock::TimerId lifetime_timer_ ABSL_GUARDED_BY(mu_) = 0;
  // The heartbeat timer's callback, which re-arms itself; dropped at Cancel.
  std::shared_ptr<std::function<void()>> heartbeat_arm_ ABSL_GUARDED_BY(mu_);
  bool registered_ = false;  // under the stream's lock
};

}  // namespace thingtank::streams
