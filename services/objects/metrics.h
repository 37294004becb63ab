#pragma once

#include <functional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "prometheus/collectable.h"
#include "prometheus/counter.h"
#include "prometheus/registry.h"
#include "services/objects/catalog.h"
#include "services/objects/events.h"

namespace thingtank::objects {

// Every metric of the objects service, declared in one place. Counters:
// thingtank_objects_bytes_{in,out}_total (content received and sent),
// thingtank_objects_lifecycle_deletions_total{action} (expired, noncurrent,
// delete_marker, upload_aborted), thingtank_objects_notifications_{sent,
// failed}_total. Gauges read at scrape time: thingtank_objects_objects{bucket}
// and thingtank_objects_bytes{bucket} (every version; at most `series_limit`
// buckets, the rest summed under bucket="_other"),
// thingtank_objects_multipart_uploads_in_progress. Requests by operation are
// grpc_server_handled_total{grpc_method} (services/common). Thread-safe.
class ObjectsMetrics final : public ObjectsObserver, public prometheus::Collectable {
 public:
  ObjectsMetrics(prometheus::Registry* registry, size_t series_limit);
  void SetSource(const Catalog* catalog) { catalog_ = catalog; }

  void BytesIn(int64_t n) override { bytes_in_.Increment(static_cast<double>(n)); }
  void BytesOut(int64_t n) override { bytes_out_.Increment(static_cast<double>(n)); }
  // action: "expired", "noncurrent", "delete_marker", "upload_aborted".
  void LifecycleDeleted(const std::string& action);
  void NotificationSent() { notifications_sent_.Increment(); }
  void NotificationFailed() { notifications_failed_.Increment(); }

  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  const size_t series_limit_;
  prometheus::Counter& bytes_in_;
  prometheus::Counter& bytes_out_;
  prometheus::Family<prometheus::Counter>& lifecycle_;
  prometheus::Counter& notifications_sent_;
  prometheus::Counter& notifications_failed_;
  const Catalog* catalog_ = nullptr;
};

}  // namespace thingtank::objects
