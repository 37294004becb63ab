#include "services/queues/cloudwatch_metrics.h"

#include <memory>

#include "thingtank/compute/v1/compute.pb.h"

namespace thingtank::queues {
namespace {

constexpr int kMaxData = 1000;

google::protobuf::Timestamp Timestamp(absl::Time t) {
  google::protobuf::Timestamp ts;
  ts.set_seconds(absl::ToUnixSeconds(t));
  return ts;
}

}  // namespace

MetricPublisher::Requests SqsMetrics::Build(absl::Time end, const std::vector<QueueCounts>& counts,
                                            const std::map<std::string, int64_t>& sent_totals) {
  const google::protobuf::Timestamp minute = Timestamp(end - absl::Minutes(1));
  MetricPublisher::Requests out;
  compute::v1::PublishServiceMetricsRequest* request = nullptr;
  auto add = [&](const std::string& queue, const char* name, double value, const char* unit) {
    if (request == nullptr || request->metric_data_size() == kMaxData) {
      auto next = std::make_unique<compute::v1::PublishServiceMetricsRequest>();
      next->set_namespace_("AWS/SQS");
      request = next.get();
      out.push_back(std::move(next));
    }
    compute::v1::MetricDatum* d = request->add_metric_data();
    d->set_metric_name(name);
    compute::v1::Dimension* dim = d->add_dimensions();
    dim->set_name("QueueName");
    dim->set_value(queue);
    d->set_value(value);
    d->set_unit(unit);
    *d->mutable_timestamp() = minute;
  };
  absl::MutexLock lock(&mu_);
  std::map<std::string, int64_t> now_sent;
  for (const QueueCounts& c : counts) {
    add(c.queue, "ApproximateNumberOfMessagesVisible", static_cast<double>(c.visible), "Count");
    add(c.queue, "ApproximateNumberOfMessagesNotVisible", static_cast<double>(c.in_flight), "Count");
    add(c.queue, "ApproximateNumberOfMessagesDelayed", static_cast<double>(c.delayed), "Count");
    add(c.queue, "ApproximateAgeOfOldestMessage", c.oldest_message_age_seconds, "Seconds");
    auto total = sent_totals.find(c.queue);
    const int64_t sent = total == sent_totals.end() ? 0 : total->second;
    auto last = last_sent_.find(c.queue);
    add(c.queue, "NumberOfMessagesSent",
        static_cast<double>(sent - (last == last_sent_.end() ? 0 : last->second)), "Count");
    now_sent[c.queue] = sent;
  }
  last_sent_ = std::move(now_sent);
  return out;
}

}  // namespace thingtank::queues
