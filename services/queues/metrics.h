#pragma once

#include <functional>
#include <vector>

#include "prometheus/collectable.h"
#include "prometheus/counter.h"
#include "prometheus/registry.h"
#include "services/queues/queue_service.h"

namespace thingtank::queues {

// Every metric of the queues service, declared in one place.
// Counters (process totals): thingtank_queues_messages_{sent,received,deleted,
// redriven,expired}_total. Gauges per queue, read from the domain at scrape
// time: thingtank_queues_messages_{visible,in_flight,delayed}{queue=...}, at
// most `series_limit` queues (the rest are summed under queue="_other").
// Thread-safe.
class QueuesMetrics final : public QueueEvents, public prometheus::Collectable {
 public:
  QueuesMetrics(prometheus::Registry* registry, size_t series_limit);
  // Where the per-queue gauges come from; set once the domain exists.
  void SetCountsSource(std::function<std::vector<QueueCounts>()> source);

  void OnSent(const std::string& queue, int64_t n) override { sent_.Increment(n); }
  void OnReceived(const std::string& queue, int64_t n) override { received_.Increment(n); }
  void OnDeleted(const std::string& queue, int64_t n) override { deleted_.Increment(n); }
  void OnRedriven(const std::string& queue, int64_t n) override { redriven_.Increment(n); }
  void OnExpired(const std::string& queue, int64_t n) override { expired_.Increment(n); }

  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  const size_t series_limit_;
  prometheus::Counter& sent_;
  prometheus::Counter& received_;
  prometheus::Counter& deleted_;
  prometheus::Counter& redriven_;
  prometheus::Counter& expired_;
  std::function<std::vector<QueueCounts>()> source_;
};

}  // namespace thingtank::queues
