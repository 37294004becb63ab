// AWS/Kinesis data points for compute's CloudWatch, minute by minute.
#include "services/streams/cloudwatch_metrics.h"

#include <map>

#include "gtest/gtest.h"
#include "thingtank/compute/v1/compute.pb.h"

namespace thingtank::streams {
namespace {

// metric name -> value of stream `stream` in `requests`.
std::map<std::string, double> Points(const MetricPublisher::Requests& requests, const std::string& stream) {
  std::map<std::string, double> out;
  for (const auto& m : requests) {
    const auto& r = static_cast<const compute::v1::PublishServiceMetricsRequest&>(*m);
    EXPECT_EQ(r.namespace_(), "AWS/Kinesis");
    for (const auto& d : r.metric_data()) {
      if (d.dimensions_size() == 1 && d.dimensions(0).name() == "StreamName" && d.dimensions(0).value() == stream) {
        out[d.metric_name()] = d.value();
      }
    }
  }
  return out;
}

TEST(KinesisMetrics, PerMinuteDeltasAndTheLargestIteratorAge) {
  prometheus::Registry registry;
  StreamsMetrics metrics(&registry, 10);
  KinesisMetrics kinesis;
  const std::vector<StreamCounts> streams = {{"temperature", 1, 0}};
  metrics.OnPut("temperature", 500, 50000);
  metrics.OnRead("temperature", 200, 20000, 1500, false);
  metrics.OnRead("temperature", 300, 30000, 40, true);
  metrics.OnThrottled("temperature", "PutRecords");
  metrics.OnThrottled("temperature", "GetRecords");
  const absl::Time t = absl::FromUnixSeconds(1'760'000'040);
  auto first = Points(kinesis.Build(t, streams, metrics.StreamTotals(), metrics.TakeIteratorAges()), "temperature");
  EXPECT_EQ(first["IncomingRecords"], 500);
  EXPECT_EQ(first["IncomingBytes"], 50000);
  EXPECT_EQ(first["GetRecords.Records"], 500);
  EXPECT_EQ(first["GetRecords.Bytes"], 50000);
  EXPECT_EQ(first["GetRecords.IteratorAgeMilliseconds"], 1500);
  EXPECT_EQ(first["WriteProvisionedThroughputExceeded"], 1);
  EXPECT_EQ(first["ReadProvisionedThroughputExceeded"], 1);
  // The next minute counts only what came after.
  metrics.OnPut("temperature", 7, 70);
  auto second = Points(kinesis.Build(t + absl::Minutes(1), streams, metrics.StreamTotals(),
                                     metrics.TakeIteratorAges()),
                       "temperature");
  EXPECT_EQ(second["IncomingRecords"], 7);
  EXPECT_EQ(second["IncomingBytes"], 70);
  EXPECT_EQ(second["GetRecords.Records"], 0);
  EXPECT_EQ(second["GetRecords.IteratorAgeMilliseconds"], 0);
}

}  // namespace
}  // namespace thingtank::streams
