#pragma once

#include <string>
#include <vector>

#include "prometheus/collectable.h"
#include "prometheus/metric_family.h"

namespace thingtank {

// The standard process_* metrics of Prometheus client libraries
// (process_cpu_seconds_total, process_resident_memory_bytes,
// process_virtual_memory_bytes, process_start_time_seconds, process_open_fds,
// process_max_fds), read from /proc/self at scrape time, and
// thingtank_build_info{version, services} = 1. Thread-safe.
class ProcessMetrics final : public prometheus::Collectable {
 public:
  // `version` of this build; `services` it runs ("queues,tables").
  ProcessMetrics(std::string version, std::string services);
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  const std::string version_;
  const std::string services_;
  double start_time_seconds_ = 0;
};

}  // namespace thingtank
