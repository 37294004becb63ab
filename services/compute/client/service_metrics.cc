#include "services/compute/client/service_metrics.h"

#include "thingtank/compute/v1/compute.pb.h"

namespace thingtank::compute {
namespace {

constexpr int kMaxData = 1000;

}  // namespace

ServiceMetricsBatch::ServiceMetricsBatch(std::string ns, absl::Time at)
    : ns_(std::move(ns)), at_(at) {}

void ServiceMetricsBatch::Add(const std::string& metric,
                              const std::vector<std::pair<std::string, std::string>>& dims,
                              double value, const std::string& unit) {
  auto* request = requests_.empty()
                      ? nullptr
                      : static_cast<v1::PublishServiceMetricsRequest*>(requests_.back().get());
  if (request == nullptr || request->metric_data_size() == kMaxData) {
    auto next = std::make_unique<v1::PublishServiceMetricsRequest>();
    next->set_namespace_(ns_);
    request = next.get();
    requests_.push_back(std::move(next));
  }
  v1::MetricDatum* d = request->add_metric_data();
  d->set_metric_name(metric);
  for (const auto& [name, v] : dims) {
    v1::Dimension* dim = d->add_dimensions();
    dim->set_name(name);
    dim->set_value(v);
  }
  d->set_value(value);
  d->set_unit(unit);
  d->mutable_timestamp()->set_seconds(absl::ToUnixSeconds(at_));
}

std::vector<std::unique_ptr<google::protobuf::Message>> ServiceMetricsBatch::Take() {
  return std::move(requests_);
}

double TotalsDelta::Delta(const std::string& key, double total) {
  auto it = last_.find(key);
  double delta = total - (it == last_.end() ? 0 : it->second);
  seen_[key] = total;
  return delta;
}

void TotalsDelta::Next() {
  last_ = std::move(seen_);
  seen_.clear();
}

}  // namespace thingtank::compute
