#include "services/queues/cloudwatch_metrics.h"

namespace thingtank::queues {

MetricPublisher::Requests SqsMetrics::Build(absl::Time end, const std::vector<QueueCounts>& counts,
                                            const std::map<std::string, int64_t>& sent_totals) {
  compute::ServiceMetricsBatch batch("AWS/SQS", end - absl::Minutes(1));
  absl::MutexLock lock(&mu_);
  for (const QueueCounts& c : counts) {
    const std::vector<std::pair<std::string, std::string>> dims = {{"QueueName", c.queue}};
    batch.Add("ApproximateNumberOfMessagesVisible", dims, static_cast<double>(c.visible), "Count");
    batch.Add("ApproximateNumberOfMessagesNotVisible", dims, static_cast<double>(c.in_flight), "Count");
    batch.Add("ApproximateNumberOfMessagesDelayed", dims, static_cast<double>(c.delayed), "Count");
    batch.Add("ApproximateAgeOfOldestMessage", dims, c.oldest_message_age_seconds, "Seconds");
    auto total = sent_totals.find(c.queue);
    batch.Add("NumberOfMessagesSent", dims,
              sent_.Delta(c.queue, total == sent_totals.end() ? 0 : static_cast<double>(total->second)),
              "Count");
  }
  sent_.Next();
  return batch.Take();
}

}  // namespace thingtank::queues
