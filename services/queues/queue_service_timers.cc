// Time-driven work of QueueService: making messages visible, waking long
// polls, retention and deduplication expiry. Timers fire on the clock's
// thread and only post to the executor; the work itself (which writes to
// RocksDB) runs there.

#include <algorithm>
#include <limits>
#include <optional>

#include "absl/strings/str_cat.h"
#include "services/common/status.h"
#include "services/queues/queue_service.h"
#include "services/queues/queue_service_internal.h"

namespace thingtank::queues {
namespace {
constexpr size_t kExpireChunk = 1000;
}  // namespace

absl::Status QueueService::Maintain(QueueState* q, Deferred* deferred, bool non_blocking) {
  const int64_t now = NowMicros();
  q->index.Promote(now);  // a function of the time: harmless to repeat
  rocksdb::WriteBatch batch;
  // FIFO deduplication entries past their window.
  StageDedupExpiry(*q, now, &batch);
  // Retention.
  const int64_t retention = absl::ToInt64Microseconds(ToDuration(q->attrs().message_retention_period()));
  const int64_t cutoff = now - retention;
  if (non_blocking) {
    // Expiry writes in chunks and may be large: left to the executor.
    if (std::optional<int64_t> earliest = q->index.EarliestSent(); earliest && *earliest <= cutoff) {
      return WouldBlock();
    }
    if (batch.Count() > 0) {
      TT_RETURN_IF_ERROR(store_.Write(&batch, /*non_blocking=*/true));
      ForgetExpiredDedup(q, now);
    }
    return absl::OkStatus();
  }
  int64_t expired = 0;
  for (;;) {
    std::optional<int64_t> earliest = q->index.EarliestSent();
    if (!earliest || *earliest > cutoff) break;
    std::vector<uint64_t> seqs = q->index.SentAtOrBefore(cutoff, kExpireChunk);
    for (uint64_t seq : seqs) store_.DeleteMessage(&batch, q->id, seq);
    TT_RETURN_IF_ERROR(store_.Write(&batch));
    batch.Clear();
    for (uint64_t seq : seqs) q->index.Remove(seq);
    expired += static_cast<int64_t>(seqs.size());
  }
  if (batch.Count() > 0) TT_RETURN_IF_ERROR(store_.Write(&batch));
  ForgetExpiredDedup(q, now);
  if (expired > 0 && events_ != nullptr) {
    deferred->events.push_back(
        [events = events_, name = q->name, expired] { events->OnExpired(name, expired); });
  }
  return absl::OkStatus();
}

void QueueService::ArmTimer(const QueuePtr& q) {
  if (q->deleted) return;
  int64_t due = std::numeric_limits<int64_t>::max();
  if (auto earliest = q->index.EarliestSent()) {
    due = *earliest +
          absl::ToInt64Microseconds(ToDuration(q->attrs().message_retention_period()));
  }
  if (!q->waiters.empty()) {
    if (auto next = q->index.NextVisibleChange()) due = std::min(due, *next);
  }
  if (due == std::numeric_limits<int64_t>::max()) return;
  if (q->timer != 0 && q->timer_micros <= due) return;
  if (q->timer != 0) clock_->Cancel(q->timer);
  const uint64_t generation = ++q->timer_generation;
  q->timer_micros = due;
  std::weak_ptr<QueueState> weak = q;
  std::shared_ptr<Lifeline> life = lifeline_;
  q->timer = clock_->RunAt(absl::FromUnixMicros(due), [life, weak, generation] {
    Lifeline::Post(life, [weak, generation](QueueService* s) { s->OnTimer(weak, generation); });
  });
}

void QueueService::OnTimer(const std::weak_ptr<QueueState>& weak, uint64_t generation) {
  QueuePtr q = weak.lock();
  if (q) Poke(q, generation);
}

void QueueService::Poke(const QueuePtr& q, std::optional<uint64_t> timer_generation) {
  Deferred deferred;
  {
    QueueLock lock(this, q);
    if (q->deleted) return;
    if (timer_generation && *timer_generation == q->timer_generation) q->timer = 0;
    const absl::Status status = Maintain(q.get(), &deferred);
    if (status.ok()) {
      ServeWaiters(q.get(), lock.dlq(), &deferred);
    }
    ArmTimer(q);
  }
  RunDeferred(&deferred);
}

void QueueService::OnWaiterTimeout(const std::weak_ptr<QueueState>& weak, uint64_t waiter_id) {
  QueuePtr q = weak.lock();
  if (!q) return;
  ReceiveCallback done;
  {
    absl::MutexLock lock(&q->mu);
    auto it = std::find_if(q->waiters.begin(), q->waiters.end(),
                           [&](const Waiter& w) { return w.id == waiter_id; });
    if (it == q->waiters.end()) return;  // served meanwhile
    done = std::move(it->done);
    q->waiters.erase(it);
  }
  done(v1::ReceiveMessagesResponse());
}

void QueueService::RunDeferred(Deferred* deferred) {
  for (auto& event : deferred->events) event();
  for (auto& [done, result] : deferred->replies) done(std::move(result));
  for (auto& q : deferred->pokes) {
    if (deferred->post_pokes) {
      Lifeline::Post(lifeline_, [weak = std::weak_ptr<QueueState>(q)](QueueService* s) {
        if (QueuePtr q = weak.lock()) s->Poke(q);
      });
    } else {
      Poke(q);
    }
  }
  deferred->events.clear();
  deferred->replies.clear();
  deferred->pokes.clear();
}

}  // namespace thingtank::queues
