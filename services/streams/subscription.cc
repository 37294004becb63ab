#include "services/streams/subscription.h"

#include <algorithm>

#include "services/streams/stream_service_internal.h"
#include "services/streams/stream_state.h"

namespace thingtank::streams {

Subscription::Subscription(StreamService* service, std::shared_ptr<StreamState> stream, uint64_t shard_index,
                           std::string consumer_arn, storage::Position from, std::string continuation,
                           StreamService::SubscriptionSink sink)
    : service_(service),
      stream_(std::move(stream)),
      shard_index_(shard_index),
      consumer_arn_(std::move(consumer_arn)),
      sink_(std::move(sink)),
      next_(from),
      continuation_(std::move(continuation)) {}

Subscription::~Subscription() {
  absl::MutexLock lock(&mu_);
  service_->clock_->Cancel(heartbeat_timer_);
  service_->clock_->Cancel(lifetime_timer_);
}

void Subscription::StartLocked(ShardState& shard) {
  shard.subscribers.push_back(this);
  registered_ = true;
  if (service_->events_ != nullptr) service_->events_->OnSubscriptions(1);
  Clock* clock = service_->clock_;
  std::weak_ptr<Subscription> weak = weak_from_this();
  absl::MutexLock lock(&mu_);
  last_event_ = clock->Now();
  lifetime_timer_ = clock->RunAfter(service_->options_.subscription_lifetime, [weak] {
    if (auto self = weak.lock()) self->EndWith(absl::OkStatus());
  });
  // Every heartbeat: an empty event when nothing went out since the last.
  const absl::Duration beat = service_->options_.heartbeat;
  auto arm = std::make_shared<std::function<void()>>();
  *arm = [weak, clock, beat, arm_weak = std::weak_ptr<std::function<void()>>(arm)] {
    auto self = weak.lock();
    auto again = arm_weak.lock();
    if (!self || !again) return;
    absl::MutexLock l(&self->mu_);
    if (self->ended_) return;
    if (clock->Now() - self->last_event_ >= beat) {
      self->force_ = true;
      if (!self->in_flight_) self->ScheduleLocked();
    }
    self->heartbeat_timer_ = clock->RunAfter(beat, *again);
  };
  heartbeat_arm_ = arm;
  heartbeat_timer_ = clock->RunAfter(beat, *arm);
  ScheduleLocked();
}

void Subscription::Notify() {
  absl::MutexLock lock(&mu_);
  dirty_ = true;
  if (!in_flight_) ScheduleLocked();
}

void Subscription::EndWith(absl::Status status) {
  absl::MutexLock lock(&mu_);
  if (ended_ || end_.has_value()) return;
  end_ = std::move(status);
  if (!in_flight_) ScheduleLocked();
}

void Subscription::Delivered() {
  absl::MutexLock lock(&mu_);
  in_flight_ = false;
  if (dirty_ || force_ || end_.has_value()) ScheduleLocked();
}

void Subscription::ScheduleLocked() {
  if (scheduled_ || ended_) return;
  scheduled_ = true;
  std::weak_ptr<Subscription> weak = weak_from_this();
  std::shared_ptr<Lifeline<StreamService>> life = service_->life_;
  Lifeline<StreamService>::Post(life, [weak](StreamService*) {
    if (auto self = weak.lock()) self->Produce();
  });
}

void Subscription::Unregister() {
  absl::MutexLock lock(&stream_->mu);
  if (!registered_) return;
  registered_ = false;
  auto it = stream_->shards.find(shard_index_);
  if (it == stream_->shards.end()) return;
  auto& subs = it->second.subscribers;
  subs.erase(std::remove(subs.begin(), subs.end(), this), subs.end());
}

void Subscription::Cancel() {
  bool was_registered;
  {
    absl::MutexLock lock(&stream_->mu);
    was_registered = registered_;
  }
  Unregister();
  {
    absl::MutexLock lock(&sink_mu_);
    cancelled_ = true;
  }
  absl::MutexLock lock(&mu_);
  if (ended_ && !was_registered) return;
  ended_ = true;
  service_->clock_->Cancel(heartbeat_timer_);
  service_->clock_->Cancel(lifetime_timer_);
  heartbeat_arm_.reset();
  if (was_registered && service_->events_ != nullptr) service_->events_->OnSubscriptions(-1);
}

void Subscription::Produce() {
  std::optional<absl::Status> ending;
  storage::Position from;
  bool force = false;
  {
    absl::MutexLock lock(&mu_);
    if (ended_) {
      scheduled_ = false;
      return;
    }
    if (end_.has_value()) {
      ended_ = true;
      scheduled_ = false;
      ending = *end_;
    } else if (in_flight_) {
      scheduled_ = false;
      return;
    } else {
      from = next_;
      force = force_;
      dirty_ = false;
    }
  }
  auto finish = [this](const absl::Status& status) {
    absl::MutexLock lock(&sink_mu_);
    if (!cancelled_) sink_.end(status);
  };
  if (ending.has_value()) {
    finish(*ending);
    return;
  }
  const absl::Time now = service_->clock_->Now();
  uint64_t stream_id = 0;
  bool open = true;
  std::vector<v1::ChildShard> children;
  std::string stream_name;
  absl::Status gone;
  {
    absl::MutexLock lock(&stream_->mu);
    stream_name = stream_->record.name();
    auto it = stream_->shards.find(shard_index_);
    if (stream_->gone || it == stream_->shards.end()) {
      gone = internal::StreamNotFound(stream_name);
    } else {
      stream_id = stream_->record.id();
      open = it->second.open();
      if (!open) children = ChildShardsOf(*stream_, shard_index_);
      from = internal::Later(from, {internal::Micros(internal::RetentionCutoff(*stream_, now)), 0});
    }
  }
  v1::SubscribeToShardResponse event;
  absl::StatusOr<internal::ReadOutcome> read = internal::ReadOutcome();
  if (!gone.ok()) {
    read = gone;
  } else {
    read = internal::ReadShard(service_->db_, stream_id, shard_index_, from, service_->options_.event_max_records,
                               service_->options_.event_max_bytes, event.mutable_records());
  }
  if (!read.ok()) {
    {
      absl::MutexLock lock(&mu_);
      ended_ = true;
      scheduled_ = false;
    }
    finish(read.status());
    return;
  }
  const bool drained = !open && !read->more;
  int64_t age = 0;
  {
    absl::MutexLock lock(&mu_);
    scheduled_ = false;
    if (ended_) return;
    if (end_.has_value()) {
      ScheduleLocked();
      return;
    }
    if (read->count == 0 && !force && !drained) {
      if (dirty_) ScheduleLocked();
      return;
    }
    if (read->last) {
      continuation_ = FormatSequenceNumber(*read->last);
      next_ = internal::PositionAfter(*read->last);
    }
    event.set_continuation_sequence_number(continuation_);
    if (read->more && read->last) age = std::max<int64_t>(0, absl::ToInt64Milliseconds(now - read->last->arrival));
    event.set_millis_behind_latest(age);
    if (drained) {
      for (v1::ChildShard& child : children) *event.add_child_shards() = std::move(child);
      end_ = absl::OkStatus();
    }
    if (read->more) dirty_ = true;
    force_ = false;
    in_flight_ = true;
    last_event_ = now;
  }
  if (service_->events_ != nullptr && read->count > 0) {
    service_->events_->OnRead(stream_name, read->count, read->bytes, age, true);
  }
  absl::MutexLock lock(&sink_mu_);
  if (!cancelled_) sink_.deliver(std::move(event));
}

}  // namespace thingtank::streams
