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

void QueuesMetrics::CountFor(const std::string& queue, int which, int64_t n) {
  absl::MutexLock lock(&mu_);
  per_queue_[queue][which] += n;
}

void QueuesMetrics::OnSent(const std::string& queue, int64_t n) {
  sent_.Increment(n);
  CountFor(queue, kSent, n);
}

void QueuesMetrics::OnReceived(const std::string& queue, int64_t n) {
  received_.Increment(n);
  CountFor(queue, kReceived, n);
}

void QueuesMetrics::OnDeleted(const std::string& queue, int64_t n) {
  deleted_.Increment(n);
  CountFor(queue, kDeleted, n);
}

void QueuesMetrics::SetCountsSource(std::function<std::vector<QueueCounts>()> source) {
  source_ = std::move(source);
}

std::map<std::string, int64_t> QueuesMetrics::SentTotals() const {
  std::map<std::string, int64_t> out;
  absl::MutexLock lock(&mu_);
  for (const auto& [queue, totals] : per_queue_) out[queue] = totals[kSent];
  return out;
}

std::vector<prometheus::MetricFamily> QueuesMetrics::Collect() const {
  if (!source_) return {};
  static constexpr GaugeSpec kGauges[] = {
      {"thingtank_queues_messages_visible", "Messages available for receive."},
      {"thingtank_queues_messages_in_flight", "Messages received and not yet deleted or visible again."},
      {"thingtank_queues_messages_delayed", "Messages waiting for their delay to pass."},
      {"thingtank_queues_oldest_message_age_seconds",
       "Age of the oldest message in the queue (SQS ApproximateAgeOfOldestMessage); 0 when empty."},
      {"thingtank_queues_queue_messages_sent_total", "Messages sent to the queue since start.", true},
      {"thingtank_queues_queue_messages_received_total",
       "Messages of the queue handed out by ReceiveMessages since start.", true},
      {"thingtank_queues_queue_messages_deleted_total", "Messages of the queue deleted since start.",
       true},
  };
  std::vector<GaugeRow> rows;
  const std::vector<QueueCounts> counts = source_();
  absl::MutexLock lock(&mu_);
  for (const QueueCounts& c : counts) {
    std::array<int64_t, 3> totals{};
    if (auto it = per_queue_.find(c.queue); it != per_queue_.end()) totals = it->second;
    rows.push_back({c.queue,
                    {static_cast<double>(c.visible), static_cast<double>(c.in_flight),
                     static_cast<double>(c.delayed), c.oldest_message_age_seconds,
                     static_cast<double>(totals[kSent]), static_cast<double>(totals[kReceived]),
                     static_cast<double>(totals[kDeleted])}});
  }
  return CappedGauges("queue", kGauges, rows, series_limit_);
}

}  // namespace thingtank::queues
