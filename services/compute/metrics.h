#pragma once

#include <vector>

#include "prometheus/collectable.h"
#include "prometheus/metric_family.h"
#include "services/compute/compute_service.h"

namespace thingtank::compute {

// Every Prometheus metric of the compute service, read from the domain at
// scrape time:
//   thingtank_compute_instances{state,instance_type}          instances by state and type
//   thingtank_compute_zone_vcpus{zone}, _zone_vcpus_used{zone},
//   thingtank_compute_zone_memory_mib{zone}, _zone_memory_mib_used{zone}   host capacity
//   thingtank_compute_group_{desired_capacity,in_service_instances,pending_instances,
//     terminating_instances,min_size,max_size}{group}          per group, capped
//   thingtank_compute_alarm_in_alarm{alarm}                    1 in ALARM, else 0; capped
//   thingtank_compute_alarms{state}                            alarms by state
//   thingtank_compute_alarm_{evaluations,transitions,actions,action_failures}_total
//   thingtank_compute_lifecycle_actions_total{event=started|continued|abandoned|timed_out}
//   thingtank_compute_scaling_activities_total, thingtank_compute_ticks_total,
//   thingtank_compute_datapoints_published_total
// Resource labels are capped at `series_limit` series per family (the rest
// summed as "_other", services/common/capped_gauges.h). `domain` must outlive
// this; thread-safe.
class ComputeMetrics final : public prometheus::Collectable {
 public:
  ComputeMetrics(ComputeService* domain, size_t series_limit)
      : domain_(domain), series_limit_(series_limit) {}
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  ComputeService* const domain_;
  const size_t series_limit_;
};

}  // namespace thingtank::compute
