#pragma once

#include <array>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"

#include "prometheus/collectable.h"
#include "prometheus/counter.h"
#include "prometheus/registry.h"
#include "services/queues/queue_service.h"

namespace thingtank::queues {

// Every metric of the queues service, declared in one place.
// Counters (process totals): thingtank_queues_messages_{sent,received,deleted,
// redriven,expired}_total. Per queue, at most `series_limit` queues (the rest
// are summed under queue="_other"): counters
// thingtank_queues_queue_messages_{sent,received,deleted}_total{queue} since
// the process started, and gauges read from the domain at scrape time:
// thingtank_queues_messages_{visible,in_flight,delayed}{queue} and
// thingtank_queues_oldest_message_age_seconds{queue}. Thread-safe.
class QueuesMetrics final : public QueueEvents, public prometheus::Collectable {
 public:
  QueuesMetrics(prometheus::Registry* registry, size_t series_limit);
  // Where the per-queue gauges come from; set once the domain exists.
  void SetCountsSource(std::function<std::vector<QueueCounts>()> source);

  void OnSent(const std::string& queue, int64_t n) override;
  void OnReceived(const std::string& queue, int64_t n) override;
  void OnDeleted(const std::string& queue, int64_t n) override;
  void OnRedriven(const std::string& queue, int64_t n) override { redriven_.Increment(n); }
  void OnExpired(const std::string& queue, int64_t n) override { expired_.Increment(n); }

  std::vector<prometheus::MetricFamily> Collect() const override;
  // Messages sent to each queue since start (AWS/SQS NumberOfMessagesSent).
  std::map<std::string, int64_t> SentTotals() const;

 private:
  const size_t series_limit_;
  prometheus::Counter& sent_;
  prometheus::Counter& received_;
  prometheus::Counter& deleted_;
  prometheus::Counter& redriven_;
  prometheus::Counter& expired_;
  std::function<std::vector<QueueCounts>()> source_;
  // Per queue since start: sent, received, deleted.
  enum { kSent, kReceived, kDeleted };
  void CountFor(const std::string& queue, int which, int64_t n);
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::array<int64_t, 3>> per_queue_ ABSL_GUARDED_BY(mu_);
};

}  // namespace thingtank::queues
