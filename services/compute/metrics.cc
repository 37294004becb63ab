#include "services/compute/metrics.h"

#include <map>
#include <string>

#include "services/common/capped_gauges.h"
#include "services/compute/cloudwatch/alarm_rules.h"

namespace thingtank::compute {
namespace {

prometheus::MetricFamily Family(const char* name, const char* help, prometheus::MetricType type) {
  prometheus::MetricFamily f;
  f.name = name;
  f.help = help;
  f.type = type;
  return f;
}

void Add(prometheus::MetricFamily* f, std::vector<prometheus::ClientMetric::Label> labels,
         double value) {
  prometheus::ClientMetric m;
  m.label = std::move(labels);
  if (f->type == prometheus::MetricType::Counter) {
    m.counter.value = value;
  } else {
    m.gauge.value = value;
  }
  f->metric.push_back(std::move(m));
}

prometheus::MetricFamily Counter(const char* name, const char* help, double value) {
  prometheus::MetricFamily f = Family(name, help, prometheus::MetricType::Counter);
  Add(&f, {}, value);
  return f;
}


}  // namespace

std::vector<prometheus::MetricFamily> ComputeMetrics::Collect() const {
  std::vector<prometheus::MetricFamily> out;
  const InstanceCounts instances = domain_->instances()->Counts();
  prometheus::MetricFamily by_state_type = Family(
      "thingtank_compute_instances", "Instances by state and type.", prometheus::MetricType::Gauge);
  for (const auto& [key, n] : instances.by_state_and_type) {
    Add(&by_state_type, {{"state", key.first}, {"instance_type", key.second}}, static_cast<double>(n));
  }
  out.push_back(std::move(by_state_type));
  static constexpr GaugeSpec kZones[] = {
      {"thingtank_compute_zone_vcpus", "vCPUs of the zone's hosts."},
      {"thingtank_compute_zone_vcpus_used", "vCPUs held by instances placed in the zone."},
      {"thingtank_compute_zone_memory_mib", "Memory of the zone's hosts, MiB."},
      {"thingtank_compute_zone_memory_mib_used", "Memory held by instances placed in the zone, MiB."},
  };
  std::vector<GaugeRow> zones;
  for (const auto& z : instances.zones) {
    zones.push_back({z.zone,
                     {static_cast<double>(z.total_vcpus), static_cast<double>(z.used_vcpus),
                      static_cast<double>(z.total_memory_mib), static_cast<double>(z.used_memory_mib)}});
  }
  for (auto& f : CappedGauges("zone", kZones, zones, series_limit_)) out.push_back(std::move(f));

  static constexpr GaugeSpec kGroups[] = {
      {"thingtank_compute_group_desired_capacity", "Desired capacity of the auto scaling group."},
      {"thingtank_compute_group_in_service_instances", "Instances of the group in service."},
      {"thingtank_compute_group_pending_instances", "Instances of the group pending."},
      {"thingtank_compute_group_terminating_instances", "Instances of the group terminating."},
      {"thingtank_compute_group_min_size", "Minimum size of the group."},
      {"thingtank_compute_group_max_size", "Maximum size of the group."},
  };
  std::vector<GaugeRow> groups;
  for (const GroupCounts& g : domain_->autoscaling()->Counts()) {
    groups.push_back({g.group,
                      {static_cast<double>(g.desired), static_cast<double>(g.in_service),
                       static_cast<double>(g.pending), static_cast<double>(g.terminating),
                       static_cast<double>(g.min_size), static_cast<double>(g.max_size)}});
  }
  for (auto& f : CappedGauges("group", kGroups, groups, series_limit_)) out.push_back(std::move(f));

  const AlarmCounts alarms = domain_->alarms()->Counts();
  static constexpr GaugeSpec kAlarms[] = {
      {"thingtank_compute_alarm_in_alarm",
       "1 while the alarm is in ALARM, else 0 (\"_other\": how many of the rest are)."},
  };
  std::vector<GaugeRow> alarm_rows;
  std::map<std::string, int64_t> by_state = {{"OK", 0}, {"ALARM", 0}, {"INSUFFICIENT_DATA", 0}};
  for (const auto& [name, state] : alarms.states) {
    alarm_rows.push_back({name, {state == v1::STATE_VALUE_ALARM ? 1.0 : 0.0}});
    by_state[StateName(state)] += 1;
  }
  for (auto& f : CappedGauges("alarm", kAlarms, alarm_rows, series_limit_)) out.push_back(std::move(f));
  prometheus::MetricFamily states =
      Family("thingtank_compute_alarms", "Alarms by state.", prometheus::MetricType::Gauge);
  for (const auto& [state, n] : by_state) Add(&states, {{"state", state}}, static_cast<double>(n));
  out.push_back(std::move(states));
  out.push_back(Counter("thingtank_compute_alarm_evaluations_total", "Alarm evaluations.",
                        static_cast<double>(alarms.evaluations_total)));
  out.push_back(Counter("thingtank_compute_alarm_transitions_total", "Alarm state changes.",
                        static_cast<double>(alarms.transitions_total)));
  out.push_back(Counter("thingtank_compute_alarm_actions_total", "Alarm actions run.",
                        static_cast<double>(alarms.actions_total)));
  out.push_back(Counter("thingtank_compute_alarm_action_failures_total", "Alarm actions that failed.",
                        static_cast<double>(alarms.action_failures_total)));
  out.push_back(Counter("thingtank_compute_scaling_activities_total",
                        "Scaling activities recorded (stored ones included after a restart).",
                        static_cast<double>(domain_->autoscaling()->activities_total())));
  const LifecycleCounts lifecycle = domain_->autoscaling()->lifecycle_counts();
  prometheus::MetricFamily hooks = Family("thingtank_compute_lifecycle_actions_total",
                                          "Lifecycle actions: started, and how they ended.",
                                          prometheus::MetricType::Counter);
  Add(&hooks, {{"event", "started"}}, static_cast<double>(lifecycle.started));
  Add(&hooks, {{"event", "continued"}}, static_cast<double>(lifecycle.continued));
  Add(&hooks, {{"event", "abandoned"}}, static_cast<double>(lifecycle.abandoned));
  Add(&hooks, {{"event", "timed_out"}}, static_cast<double>(lifecycle.timed_out));
  out.push_back(std::move(hooks));
  const TickCounts ticks = domain_->tick_counts();
  out.push_back(Counter("thingtank_compute_ticks_total", "Ticks of the compute loop.",
                        static_cast<double>(ticks.ticks)));
  out.push_back(Counter("thingtank_compute_datapoints_published_total",
                        "Built-in metric data points published (AWS/EC2, AWS/AutoScaling, ...).",
                        static_cast<double>(ticks.datapoints_published)));
  return out;
}

}  // namespace thingtank::compute
