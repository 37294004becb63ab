#pragma once

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "google/protobuf/message.h"

namespace thingtank::compute {

// For the other services: their AWS-namespace metrics as the compute
// service's PublishServiceMetrics takes them (thingtank.compute.v1.
// PublishServiceMetricsRequest, at most 1,000 data points each). A client
// helper of the compute API, built on its generated code only (no compute
// internals); MetricPublisher (services/common) sends what Take() returns.
class ServiceMetricsBatch {
 public:
  static constexpr char kMethod[] = "/thingtank.compute.v1.CloudWatchService/PublishServiceMetrics";

  // Data points of namespace `ns` ("AWS/SQS") stamped `at`.
  ServiceMetricsBatch(std::string ns, absl::Time at);
  void Add(const std::string& metric, const std::vector<std::pair<std::string, std::string>>& dims,
           double value, const std::string& unit);
  std::vector<std::unique_ptr<google::protobuf::Message>> Take();

 private:
  const std::string ns_;
  const absl::Time at_;
  std::vector<std::unique_ptr<google::protobuf::Message>> requests_;
};

// Per-minute amounts of running totals (messages sent, units consumed): the
// difference since the last call for each key; a key seen first counts from 0.
class TotalsDelta {
 public:
  double Delta(const std::string& key, double total);
  // Forgets keys not seen since the last call to Next().
  void Next();

 private:
  std::map<std::string, double> last_, seen_;
};

}  // namespace thingtank::compute
