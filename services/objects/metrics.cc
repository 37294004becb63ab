#include "services/objects/metrics.h"

#include <algorithm>

#include "prometheus/gauge.h"
#include "services/common/capped_gauges.h"

namespace thingtank::objects {
namespace {

prometheus::Counter& NewCounter(prometheus::Registry* registry, const char* name, const char* help) {
  return prometheus::BuildCounter().Name(name).Help(help).Register(*registry).Add({});
}

}  // namespace

ObjectsMetrics::ObjectsMetrics(prometheus::Registry* registry, size_t series_limit)
    : series_limit_(series_limit),
      bytes_in_(NewCounter(registry, "thingtank_objects_bytes_in_total", "Object content received, bytes")),
      bytes_out_(NewCounter(registry, "thingtank_objects_bytes_out_total", "Object content sent, bytes")),
      lifecycle_(prometheus::BuildCounter()
                     .Name("thingtank_objects_lifecycle_deletions_total")
                     .Help("Versions, delete markers and uploads removed by lifecycle rules")
                     .Register(*registry)),
      notifications_sent_(NewCounter(registry, "thingtank_objects_notifications_sent_total",
                                     "Event notifications delivered")),
      notifications_failed_(NewCounter(registry, "thingtank_objects_notifications_failed_total",
                                       "Event notification delivery attempts that failed (retried)")) {
  for (const char* action : {"expired", "noncurrent", "delete_marker", "upload_aborted"}) {
    lifecycle_.Add({{"action", action}});
  }
}

void ObjectsMetrics::LifecycleDeleted(const std::string& action) {
  lifecycle_.Add({{"action", action}}).Increment();
}

std::vector<prometheus::MetricFamily> ObjectsMetrics::Collect() const {
  std::vector<prometheus::MetricFamily> out;
  if (catalog_ == nullptr) return out;
  static const GaugeSpec kSpecs[] = {
      {"thingtank_objects_objects", "Object versions stored (delete markers apart)"},
      {"thingtank_objects_bytes", "Bytes stored, every version"},
  };
  std::vector<GaugeRow> rows;
  for (const auto& [bucket, counts] : catalog_->Counts()) {
    rows.push_back({bucket, {static_cast<double>(counts.objects), static_cast<double>(counts.bytes)}});
  }
  std::sort(rows.begin(), rows.end(), [](const GaugeRow& a, const GaugeRow& b) { return a.resource < b.resource; });
  out = CappedGauges("bucket", kSpecs, rows, series_limit_);
  prometheus::MetricFamily uploads;
  uploads.name = "thingtank_objects_multipart_uploads_in_progress";
  uploads.help = "Multipart uploads created and not yet completed or aborted";
  uploads.type = prometheus::MetricType::Gauge;
  prometheus::ClientMetric m;
  m.gauge.value = static_cast<double>(catalog_->uploads_in_progress());
  uploads.metric.push_back(m);
  out.push_back(std::move(uploads));
  return out;
}

}  // namespace thingtank::objects
