#include "services/streams/cloudwatch_metrics.h"

namespace thingtank::streams {

MetricPublisher::Requests KinesisMetrics::Build(absl::Time end, const std::vector<StreamCounts>& streams,
                                                const std::map<std::string, StreamsMetrics::Totals>& totals,
                                                const std::map<std::string, int64_t>& iterator_ages) {
  compute::ServiceMetricsBatch batch("AWS/Kinesis", end - absl::Minutes(1));
  absl::MutexLock lock(&mu_);
  for (const StreamCounts& s : streams) {
    const std::vector<std::pair<std::string, std::string>> dims = {{"StreamName", s.stream}};
    StreamsMetrics::Totals t;
    if (auto it = totals.find(s.stream); it != totals.end()) t = it->second;
    auto delta = [&](const char* name, int64_t total) {
      return delta_.Delta(s.stream + "/" + name, static_cast<double>(total));
    };
    batch.Add("IncomingRecords", dims, delta("IncomingRecords", t.incoming_records), "Count");
    batch.Add("IncomingBytes", dims, delta("IncomingBytes", t.incoming_bytes), "Bytes");
    batch.Add("GetRecords.Records", dims, delta("GetRecords.Records", t.get_records), "Count");
    batch.Add("GetRecords.Bytes", dims, delta("GetRecords.Bytes", t.get_bytes), "Bytes");
    auto age = iterator_ages.find(s.stream);
    batch.Add("GetRecords.IteratorAgeMilliseconds", dims,
              age == iterator_ages.end() ? 0.0 : static_cast<double>(age->second), "Milliseconds");
    batch.Add("WriteProvisionedThroughputExceeded", dims, delta("WriteThrottled", t.throttled_writes), "Count");
    batch.Add("ReadProvisionedThroughputExceeded", dims, delta("ReadThrottled", t.throttled_reads), "Count");
  }
  delta_.Next();
  return batch.Take();
}

}  // namespace thingtank::streams
