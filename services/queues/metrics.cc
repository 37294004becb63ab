#include "services/queues/metrics.h"

#include "services/common/capped_gauges.h"

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
  static constexpr GaugeSpec kGauges[] = {
      {"thingtank_queues_messages_visible", "Messages available for receive."},
      {"thingtank_queues_messages_in_flight", "Messages received and not yet deleted or visible again."},
      {"thingtank_queues_messages_delayed", "Messages waiting for their delay to pass."},
  };
  std::vector<GaugeRow> rows;
  for (const QueueCounts& c : source_()) {
    rows.push_back({c.queue,
                    {static_cast<double>(c.visible), static_cast<double>(c.in_flight),
                     static_cast<double>(c.delayed)}});
  }
  return CappedGauges("queue", kGauges, rows, series_limit_);
}

}  // namespace thingtank::queues
