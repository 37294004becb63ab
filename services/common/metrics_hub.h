#pragma once

#include <memory>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "prometheus/collectable.h"
#include "prometheus/registry.h"

namespace thingtank {

// The process's one metrics registry, plus collectables computed at scrape
// time (per-resource gauges read from a service's state). Thread-safe.
class MetricsHub {
 public:
  MetricsHub() : registry_(std::make_shared<prometheus::Registry>()) {}
  prometheus::Registry* registry() { return registry_.get(); }
  void AddCollectable(std::weak_ptr<prometheus::Collectable> collectable) {
    absl::MutexLock lock(&mu_);
    collectables_.push_back(std::move(collectable));
  }
  std::vector<prometheus::MetricFamily> Collect() {
    std::vector<prometheus::MetricFamily> out = registry_->Collect();
    absl::MutexLock lock(&mu_);
    for (const auto& weak : collectables_) {
      if (auto c = weak.lock()) {
        auto families = c->Collect();
        out.insert(out.end(), std::make_move_iterator(families.begin()),
                   std::make_move_iterator(families.end()));
      }
    }
    return out;
  }

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  absl::Mutex mu_;
  std::vector<std::weak_ptr<prometheus::Collectable>> collectables_ ABSL_GUARDED_BY(mu_);
};

}  // namespace thingtank
