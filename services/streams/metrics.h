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
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/registry.h"
#include "services/streams/stream_service.h"

namespace thingtank::streams {

// Every metric of the streams service, declared in one place.
// Process totals: thingtank_streams_records_{in,out}_total,
// thingtank_streams_bytes_{in,out}_total, thingtank_streams_throttled_total
// {operation} (per record for PutRecords), thingtank_streams_subscriptions
// (SubscribeToShard calls running). Per stream, at most `series_limit`
// streams (the rest summed under stream="_other"): counters
// thingtank_streams_stream_{incoming,outgoing}_{records,bytes}_total since
// start, and gauges thingtank_streams_open_shards,
// thingtank_streams_consumers and thingtank_streams_iterator_age_milliseconds
// (the largest MillisBehindLatest of reads since the last scrape). Thread-safe.
class StreamsMetrics final : public StreamEvents, public prometheus::Collectable {
 public:
  StreamsMetrics(prometheus::Registry* registry, size_t series_limit);
  void SetCountsSource(std::function<std::vector<StreamCounts>()> source);

  void OnPut(const std::string& stream, int64_t records, int64_t bytes) override;
  void OnRead(const std::string& stream, int64_t records, int64_t bytes, int64_t age_ms,
              bool subscription) override;
  void OnThrottled(const std::string& stream, const char* operation) override;
  void OnSubscriptions(int delta) override { subscriptions_.Increment(delta); }

  std::vector<prometheus::MetricFamily> Collect() const override;

  // Per stream since start, for AWS/Kinesis (cloudwatch_metrics.h).
  struct Totals {
    int64_t incoming_records = 0, incoming_bytes = 0, get_records = 0, get_bytes = 0;
    int64_t throttled_writes = 0, throttled_reads = 0;
  };
  std::map<std::string, Totals> StreamTotals() const;
  // The largest iterator age (ms) of each stream's reads since the last call.
  std::map<std::string, int64_t> TakeIteratorAges();

 private:
  const size_t series_limit_;
  prometheus::Counter& records_in_;
  prometheus::Counter& bytes_in_;
  prometheus::Counter& records_out_;
  prometheus::Counter& bytes_out_;
  prometheus::Family<prometheus::Counter>& throttled_;
  prometheus::Gauge& subscriptions_;
  std::function<std::vector<StreamCounts>()> source_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, Totals> per_stream_ ABSL_GUARDED_BY(mu_);
  // Largest age since the last scrape, and since the last TakeIteratorAges.
  mutable absl::flat_hash_map<std::string, int64_t> scrape_age_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, int64_t> minute_age_ ABSL_GUARDED_BY(mu_);
};

}  // namespace thingtank::streams
