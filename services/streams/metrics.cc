#include "services/streams/metrics.h"

#include <algorithm>
#include <cstring>

#include "services/common/capped_gauges.h"

namespace thingtank::streams {
namespace {

prometheus::Counter& Total(prometheus::Registry* registry, const std::string& name, const std::string& help) {
  return prometheus::BuildCounter().Name(name).Help(help).Register(*registry).Add({});
}

}  // namespace

StreamsMetrics::StreamsMetrics(prometheus::Registry* registry, size_t series_limit)
    : series_limit_(series_limit),
      records_in_(Total(registry, "thingtank_streams_records_in_total", "Records written (PutRecord, PutRecords).")),
      bytes_in_(Total(registry, "thingtank_streams_bytes_in_total",
                      "Bytes written: data and partition keys of records written.")),
      records_out_(Total(registry, "thingtank_streams_records_out_total",
                         "Records read by GetRecords or pushed to SubscribeToShard.")),
      bytes_out_(Total(registry, "thingtank_streams_bytes_out_total", "Bytes of records read or pushed.")),
      throttled_(prometheus::BuildCounter()
                     .Name("thingtank_streams_throttled_total")
                     .Help("Calls (records, for PutRecords) refused with ProvisionedThroughputExceededException.")
                     .Register(*registry)),
      subscriptions_(prometheus::BuildGauge()
                         .Name("thingtank_streams_subscriptions")
                         .Help("SubscribeToShard calls running.")
                         .Register(*registry)
                         .Add({})) {
  for (const char* op : {"PutRecord", "PutRecords", "GetRecords"}) throttled_.Add({{"operation", op}});
}

void StreamsMetrics::SetCountsSource(std::function<std::vector<StreamCounts>()> source) {
  source_ = std::move(source);
}

void StreamsMetrics::OnPut(const std::string& stream, int64_t records, int64_t bytes) {
  records_in_.Increment(static_cast<double>(records));
  bytes_in_.Increment(static_cast<double>(bytes));
  absl::MutexLock lock(&mu_);
  Totals& t = per_stream_[stream];
  t.incoming_records += records;
  t.incoming_bytes += bytes;
}

void StreamsMetrics::OnRead(const std::string& stream, int64_t records, int64_t bytes, int64_t age_ms,
                            bool subscription) {
  records_out_.Increment(static_cast<double>(records));
  bytes_out_.Increment(static_cast<double>(bytes));
  absl::MutexLock lock(&mu_);
  Totals& t = per_stream_[stream];
  t.get_records += records;
  t.get_bytes += bytes;
  scrape_age_[stream] = std::max(scrape_age_[stream], age_ms);
  minute_age_[stream] = std::max(minute_age_[stream], age_ms);
}

void StreamsMetrics::OnThrottled(const std::string& stream, const char* operation) {
  throttled_.Add({{"operation", operation}}).Increment();
  absl::MutexLock lock(&mu_);
  Totals& t = per_stream_[stream];
  (std::strcmp(operation, "GetRecords") == 0 ? t.throttled_reads : t.throttled_writes) += 1;
}

std::map<std::string, StreamsMetrics::Totals> StreamsMetrics::StreamTotals() const {
  absl::MutexLock lock(&mu_);
  return {per_stream_.begin(), per_stream_.end()};
}

std::map<std::string, int64_t> StreamsMetrics::TakeIteratorAges() {
  absl::MutexLock lock(&mu_);
  std::map<std::string, int64_t> out(minute_age_.begin(), minute_age_.end());
  minute_age_.clear();
  return out;
}

std::vector<prometheus::MetricFamily> StreamsMetrics::Collect() const {
  if (!source_) return {};
  static constexpr GaugeSpec kGauges[] = {
      {"thingtank_streams_open_shards", "Open shards of the stream."},
      {"thingtank_streams_consumers", "Registered enhanced fan-out consumers of the stream."},
      {"thingtank_streams_iterator_age_milliseconds",
       "Largest MillisBehindLatest of the stream's reads since the last scrape (0 when caught up or idle)."},
      {"thingtank_streams_stream_incoming_records_total", "Records written to the stream since start.", true},
      {"thingtank_streams_stream_incoming_bytes_total", "Bytes written to the stream since start.", true},
      {"thingtank_streams_stream_outgoing_records_total", "Records of the stream read or pushed since start.", true},
      {"thingtank_streams_stream_outgoing_bytes_total", "Bytes of the stream read or pushed since start.", true},
  };
  const std::vector<StreamCounts> counts = source_();
  std::vector<GaugeRow> rows;
  absl::MutexLock lock(&mu_);
  for (const StreamCounts& c : counts) {
    Totals t;
    if (auto it = per_stream_.find(c.stream); it != per_stream_.end()) t = it->second;
    int64_t age = 0;
    if (auto it = scrape_age_.find(c.stream); it != scrape_age_.end()) age = it->second;
    rows.push_back({c.stream,
                    {static_cast<double>(c.open_shards), static_cast<double>(c.consumers), static_cast<double>(age),
                     static_cast<double>(t.incoming_records), static_cast<double>(t.incoming_bytes),
                     static_cast<double>(t.get_records), static_cast<double>(t.get_bytes)}});
  }
  scrape_age_.clear();
  return CappedGauges("stream", kGauges, rows, series_limit_);
}

}  // namespace thingtank::streams
