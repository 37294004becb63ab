#include "services/queues/metrics.h"

namespace thingtank::queues {
namespace {

prometheus::Counter& Total(prometheus::Registry* registry, const std::string& name,
                           const std::string& help) {
  return prometheus::BuildCounter().Name(name).Help(help).Register(*registry).Add({});
}

}  // namespace

QueuesMetrics::QueuesMetrics(prometheus::Registry* registry, size_t series_limit)
    : series_limit_(series_limit),
      sent_(Total(registry, "thingtank_queues_messages_sent_total", "Messages sent (accepted).")),
      received_(Total(registry, "thingtank_queues_messages_received_total",
                      "Messages handed out by ReceiveMessages.")),
      deleted_(Total(registry, "thingtank_queues_messages_deleted_total", "Messages deleted.")),
      redriven_(Total(registry, "thingtank_queues_messages_redriven_total",
                      "Messages moved to a dead-letter queue.")),
      expired_(Total(registry, "thingtank_queues_messages_expired_total",
                     "Messages removed at the end of their retention period.")) {}

void QueuesMetrics::SetCountsSource(std::function<std::vector<QueueCounts>()> source) {
  source_ = std::move(source);
}

std::vector<prometheus::MetricFamily> QueuesMetrics::Collect() const {
  if (!source_) return {};
  struct Gauge {
    const char* name;
    const char* help;
    int64_t QueueCounts::*field;
  };
  static constexpr Gauge kGauges[] = {
      {"thingtank_queues_messages_visible", "Messages available for receive.", &QueueCounts::visible},
      {"thingtank_queues_messages_in_flight", "Messages received and not yet deleted or visible again.",
       &QueueCounts::in_flight},
      {"thingtank_queues_messages_delayed", "Messages waiting for their delay to pass.", &QueueCounts::delayed},
  };
  const std::vector<QueueCounts> counts = source_();
  std::vector<prometheus::MetricFamily> families;
  for (const Gauge& gauge : kGauges) {
    prometheus::MetricFamily family;
    family.name = gauge.name;
    family.help = gauge.help;
    family.type = prometheus::MetricType::Gauge;
    double other = 0;
    for (size_t i = 0; i < counts.size(); ++i) {
      const double value = static_cast<double>(counts[i].*gauge.field);
      if (i >= series_limit_) {
        other += value;
        continue;
      }
      prometheus::ClientMetric metric;
      metric.label.push_back({"queue", counts[i].queue});
      metric.gauge.value = value;
      family.metric.push_back(std::move(metric));
    }
    if (counts.size() > series_limit_) {
      prometheus::ClientMetric metric;
      metric.label.push_back({"queue", "_other"});
      metric.gauge.value = other;
      family.metric.push_back(std::move(metric));
    }
    families.push_back(std::move(family));
  }
  return families;
}

}  // namespace thingtank::queues
