#include "services/objects/notify/deliverer.h"

#include <algorithm>
#include <optional>
#include <vector>

#include "rocksdb/write_batch.h"
#include "services/common/log.h"
#include "services/common/storage/key_codec.h"
#include "services/objects/storage/object_keys.h"

namespace thingtank::objects::notify {

Deliverer::Deliverer(Db* db, Clock* clock, Executor* executor, ObjectsMetrics* metrics,
                     DeliveryOptions options)
    : db_(db),
      cf_(db->cf(keys::kOutbox)),
      clock_(clock),
      metrics_(metrics),
      options_(options),
      sender_(clock, options.call_deadline),
      life_(Lifeline<Deliverer>::Create(this, executor, clock)) {}

Deliverer::~Deliverer() { Shutdown(); }

void Deliverer::SetChannel(std::shared_ptr<grpc::Channel> channel, prometheus::Registry* registry) {
  sender_.SetChannel(std::move(channel), registry);
  {
    absl::MutexLock lock(&mu_);
    connected_ = true;
  }
  Wake();
}

void Deliverer::Start() {
  {
    absl::MutexLock lock(&mu_);
    started_ = true;
  }
  Wake();
}

void Deliverer::Wake() {
  {
    absl::MutexLock lock(&mu_);
    if (!started_ || !connected_ || stopping_) return;
    if (scanning_) {
      rerun_ = true;
      return;
    }
    if (posted_) return;
    posted_ = true;
  }
  Lifeline<Deliverer>::Post(life_, [](Deliverer* d) { d->Pass(); });
}

void Deliverer::Shutdown() {
  Clock::TimerId timer = 0;
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    timer = std::exchange(timer_, 0);
  }
  if (timer != 0) clock_->Cancel(timer);
  sender_.Shutdown();  // completions that follow find stopping_
  life_->Detach();     // waits for passes and completions in progress
}

absl::Duration Deliverer::Backoff(int attempts) const {
  absl::Duration d = options_.initial_backoff;
  for (int i = 1; i < attempts && d < options_.max_backoff; ++i) d *= 2;
  return std::min(d, options_.max_backoff);
}

void Deliverer::Pass() {
  {
    absl::MutexLock lock(&mu_);
    posted_ = false;
    if (stopping_ || scanning_) return;
    scanning_ = true;
    rerun_ = false;
  }
  for (;;) {
    RunPass();
    absl::MutexLock lock(&mu_);
    if (stopping_ || !rerun_) {
      scanning_ = false;
      ArmTimer();
      return;
    }
    rerun_ = false;
  }
}

void Deliverer::RunPass() {
  const absl::Time now = clock_->Now();
  // Records due for a retry first (oldest due first), then new ones.
  std::vector<uint64_t> due;
  {
    absl::MutexLock lock(&mu_);
    const int room = options_.max_in_flight - in_flight_;
    while (!retries_.empty() && static_cast<int>(due.size()) < room &&
           retries_.begin()->first <= now) {
      due.push_back(retries_.begin()->second);
      retries_.erase(retries_.begin());
    }
  }
  for (uint64_t seq : due) {
    absl::StatusOr<std::optional<std::string>> bytes = db_->Get(cf_, keys::OutboxKey(seq));
    if (!bytes.ok()) {
      TT_LOG_WARN("objects: cannot read notification {}: {}", seq, bytes.status().ToString());
      absl::MutexLock lock(&mu_);
      retries_.emplace(now + options_.initial_backoff, seq);
      continue;
    }
    storage::OutboxRecord record;
    if (!bytes->has_value()) continue;
    if (!record.ParseFromString(**bytes)) {
      TT_LOG_ERROR("objects: notification {} is corrupt; dropped", seq);
      if (metrics_ != nullptr) metrics_->NotificationFailed();
      absl::Status s = Remove(seq);
      if (!s.ok()) TT_LOG_WARN("objects: cannot remove notification {}: {}", seq, s.ToString());
      continue;
    }
    Dispatch(seq, std::move(record));
  }

  int room;
  uint64_t from;
  {
    absl::MutexLock lock(&mu_);
    room = options_.max_in_flight - in_flight_;
    from = next_scan_;
  }
  if (room <= 0) return;  // a completion wakes the next pass
  std::unique_ptr<Db::PrefixIterator> it = db_->Scan(cf_, "");
  it->SeekSuffix(keys::OutboxKey(from));
  for (; it->Valid() && room > 0; it->Next()) {
    std::string_view key = it->suffix();
    std::optional<uint64_t> seq = thingtank::keys::ConsumeUint64(&key);
    storage::OutboxRecord record;
    const bool parsed = record.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()));
    if (!seq || !key.empty() || !parsed) {
      TT_LOG_ERROR("objects: a corrupt notification in the outbox; dropped");
      if (metrics_ != nullptr) metrics_->NotificationFailed();
      rocksdb::WriteBatch batch;
      batch.Delete(cf_, it->key());
      absl::Status s = db_->Write(&batch);
      if (!s.ok()) TT_LOG_WARN("objects: cannot remove a corrupt notification: {}", s.ToString());
      if (seq) {
        absl::MutexLock lock(&mu_);
        next_scan_ = std::max(next_scan_, *seq + 1);
      }
      continue;
    }
    {
      absl::MutexLock lock(&mu_);
      next_scan_ = *seq + 1;
    }
    --room;
    Dispatch(*seq, std::move(record));
  }
  if (absl::Status s = it->status(); !s.ok()) {
    TT_LOG_WARN("objects: cannot read the notification outbox: {} (retried at the next commit)",
                s.ToString());
  }
}

void Deliverer::Dispatch(uint64_t seq, storage::OutboxRecord record) {
  {
    absl::MutexLock lock(&mu_);
    ++in_flight_;
  }
  std::string arn = record.destination_arn();
  std::string json = record.event_json();
  sender_.Send(arn, json, [life = life_, seq, record = std::move(record)](absl::Status status) {
    // From a gRPC thread: the bookkeeping (a RocksDB write) goes to the executor.
    Lifeline<Deliverer>::Post(life, [seq, record, status](Deliverer* d) { d->Finish(seq, record, status); });
  });
}

absl::Status Deliverer::Remove(uint64_t seq) {
  rocksdb::WriteBatch batch;
  batch.Delete(cf_, keys::OutboxKey(seq));
  return db_->Write(&batch);
}

void Deliverer::Finish(uint64_t seq, storage::OutboxRecord record, const absl::Status& status) {
  const std::string& arn = record.destination_arn();
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) {  // cancelled by Shutdown: stays in the outbox for the next run
      --in_flight_;
      return;
    }
  }
  if (status.ok()) {
    absl::Status s = Remove(seq);
    if (!s.ok()) {
      TT_LOG_WARN("objects: notification {} was delivered but stays in the outbox ({}): it is "
                  "delivered again after a restart", seq, s.ToString());
    }
    bool recovered;
    {
      absl::MutexLock lock(&mu_);
      --in_flight_;
      recovered = failing_.erase(arn) > 0;
    }
    if (recovered) TT_LOG_INFO("objects: notifications to {} are delivered again", arn);
    if (metrics_ != nullptr) metrics_->NotificationSent();
    Wake();
    return;
  }

  const int attempts = record.attempts() + 1;
  const bool drop = attempts >= options_.max_attempts;
  absl::Status s;
  if (drop) {
    s = Remove(seq);
  } else {
    record.set_attempts(attempts);  // kept across restarts
    s = db_->Put(cf_, keys::OutboxKey(seq), record.SerializeAsString());
  }
  if (!s.ok()) TT_LOG_WARN("objects: cannot update notification {}: {}", seq, s.ToString());
  bool log_failure = false;
  bool log_drop = false;
  {
    absl::MutexLock lock(&mu_);
    --in_flight_;
    auto [episode, first] = failing_.try_emplace(arn, false);
    log_failure = first;
    if (drop && !episode->second) log_drop = episode->second = true;
    if (!drop) {
      retries_.emplace(clock_->Now() + Backoff(attempts), seq);
      ArmTimer();
    }
  }
  if (log_failure) {
    TT_LOG_WARN("objects: a notification to {} failed: {} (retried with backoff up to {}, "
                "dropped after {} attempts; logged once until one gets through)",
                arn, status.ToString(), absl::FormatDuration(options_.max_backoff),
                options_.max_attempts);
  }
  if (log_drop) {
    TT_LOG_WARN("objects: a notification to {} was dropped after {} attempts (last: {}); "
                "further drops to it are counted, not logged", arn, attempts, status.ToString());
  }
  if (metrics_ != nullptr) metrics_->NotificationFailed();
  Wake();
}

void Deliverer::ArmTimer() {
  // With every slot taken a completion wakes the next pass: a timer for a
  // record already due would only spin.
  if (stopping_ || retries_.empty() || in_flight_ >= options_.max_in_flight) return;
  const absl::Time due = retries_.begin()->first;
  if (timer_ != 0 && timer_at_ <= due) return;
  if (timer_ != 0) clock_->Cancel(timer_);
  const uint64_t generation = ++timer_generation_;
  timer_at_ = due;
  timer_ = clock_->RunAt(due, [life = life_, generation] {
    life->RunIfAlive([generation](Deliverer* d) { d->TimerFired(generation); });
  });
}

void Deliverer::TimerFired(uint64_t generation) {
  {
    absl::MutexLock lock(&mu_);
    if (generation == timer_generation_) timer_ = 0;
  }
  Wake();
}

}  // namespace thingtank::objects::notify
