#include "tools/thingtank/cli/compute_format.h"

#include <google/protobuf/util/time_util.h>

#include <algorithm>
#include <iomanip>
#include <set>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "tools/thingtank/cli/cli_common.h"
#include "tools/thingtank/cli/compute_args.h"

namespace thingtank::cli::compute {
namespace {

std::string Or(const std::string& text) { return text.empty() ? "-" : text; }

std::string Time(const google::protobuf::Timestamp& ts) {
  return google::protobuf::util::TimeUtil::ToString(ts);
}

std::string TimeOr(bool has, const google::protobuf::Timestamp& ts) { return has ? Time(ts) : "-"; }

// Up to 10 significant digits, no exponent for everyday values: 70, 12.5, 0.25.
std::string Num(double value) {
  std::ostringstream os;
  os << std::setprecision(10) << value;
  return os.str();
}

std::string Dimensions(const google::protobuf::RepeatedPtrField<v1::Dimension>& dimensions) {
  std::vector<std::string> parts;
  for (const v1::Dimension& d : dimensions) parts.push_back(d.name() + "=" + d.value());
  return absl::StrJoin(parts, ",");
}

std::string Joined(const google::protobuf::RepeatedPtrField<std::string>& values) {
  return values.empty() ? "-" : absl::StrJoin(values, ",");
}

std::string Tags(const google::protobuf::RepeatedPtrField<v1::Tag>& tags) {
  std::vector<std::string> parts;
  for (const v1::Tag& t : tags) parts.push_back(t.key() + "=" + t.value());
  return absl::StrJoin(parts, ",");
}

const char* ComparisonSymbol(v1::ComparisonOperator op) {
  switch (op) {
    case v1::COMPARISON_OPERATOR_GREATER_THAN_THRESHOLD:
      return ">";
    case v1::COMPARISON_OPERATOR_GREATER_THAN_OR_EQUAL_TO_THRESHOLD:
      return ">=";
    case v1::COMPARISON_OPERATOR_LESS_THAN_THRESHOLD:
      return "<";
    case v1::COMPARISON_OPERATOR_LESS_THAN_OR_EQUAL_TO_THRESHOLD:
      return "<=";
    default:
      return "?";
  }
}

// "Average(MyApp/CPU host=a) > 70 for 2 of 2 x 60s".
std::string AlarmCondition(const v1::MetricAlarm& a) {
  const std::string statistic = a.extended_statistic().empty()
                                    ? EnumNameOf(StatisticNames(), a.statistic())
                                    : a.extended_statistic();
  std::string metric = a.namespace_() + "/" + a.metric_name();
  if (!a.dimensions().empty()) metric += " " + Dimensions(a.dimensions());
  const int32_t m = a.datapoints_to_alarm() > 0 ? a.datapoints_to_alarm() : a.evaluation_periods();
  return absl::StrCat(statistic, "(", metric, ") ", ComparisonSymbol(a.comparison_operator()), " ",
                      Num(a.threshold()), " for ", m, " of ", a.evaluation_periods(), " x ",
                      a.period(), "s");
}

std::string Bound(const v1::StepAdjustment& s, bool lower) {
  if (lower) {
    return s.has_metric_interval_lower_bound() ? Num(s.metric_interval_lower_bound()) : "-inf";
  }
  return s.has_metric_interval_upper_bound() ? Num(s.metric_interval_upper_bound()) : "+inf";
}

std::string Signed(int32_t value) {
  return value > 0 ? absl::StrCat("+", value) : absl::StrCat(value);
}

// What a policy does, in one line.
std::string PolicyAction(const v1::ScalingPolicy& p) {
  const std::string adjustment = EnumNameOf(AdjustmentTypeNames(), p.adjustment_type());
  switch (p.policy_type()) {
    case v1::POLICY_TYPE_STEP_SCALING: {
      std::vector<std::string> steps;
      for (const v1::StepAdjustment& s : p.step_adjustments()) {
        steps.push_back(absl::StrCat("[", Bound(s, true), ",", Bound(s, false),
                                     "):", Signed(s.scaling_adjustment())));
      }
      return adjustment + " " + absl::StrJoin(steps, " ");
    }
    case v1::POLICY_TYPE_TARGET_TRACKING_SCALING: {
      const v1::TargetTrackingConfiguration& t = p.target_tracking_configuration();
      std::string metric;
      if (t.predefined_metric_type() != v1::PREDEFINED_METRIC_TYPE_UNSPECIFIED) {
        metric = EnumNameOf(PredefinedMetricNames(), t.predefined_metric_type());
      } else {
        const v1::CustomizedMetricSpecification& m = t.customized_metric_specification();
        metric = absl::StrCat(EnumNameOf(StatisticNames(), m.statistic()), "(", m.namespace_(), "/",
                              m.metric_name(),
                              m.dimensions().empty() ? "" : " " + Dimensions(m.dimensions()), ")",
                              m.per_instance() ? " per instance" : "");
      }
      return absl::StrCat("keep ", metric, " at ", Num(t.target_value()),
                          t.disable_scale_in() ? " (no scale-in)" : "");
    }
    default: {
      std::string text = adjustment + " " + Signed(p.scaling_adjustment());
      if (p.min_adjustment_magnitude() > 0) {
        absl::StrAppend(&text, " (at least ", p.min_adjustment_magnitude(), ")");
      }
      if (p.has_cooldown()) absl::StrAppend(&text, ", cooldown ", p.cooldown(), "s");
      return text;
    }
  }
}

// What a group, or one of its instances, launches from: the launch
// configuration, or the template as NAME:VERSION.
template <typename GroupOrInstance>
std::string LaunchSource(const GroupOrInstance& g) {
  if (g.has_launch_template()) return FormatLaunchTemplateSpec(g.launch_template());
  return Or(g.launch_configuration_name());
}

}  // namespace

void PrintTable(const std::vector<Row>& rows, std::ostream& os, const std::string& indent) {
  std::vector<size_t> widths;
  for (const Row& row : rows) {
    if (widths.size() < row.size()) widths.resize(row.size(), 0);
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  for (const Row& row : rows) {
    os << indent;
    for (size_t i = 0; i < row.size(); ++i) {
      if (i + 1 == row.size()) {
        os << row[i];
      } else {
        os << std::left << std::setw(static_cast<int>(widths[i] + 2)) << row[i];
      }
    }
    os << "\n";
  }
}

std::string StateText(const v1::InstanceState& state) {
  if (!state.text().empty()) return state.text();
  return EnumNameOf(InstanceStateNames(), state.name());
}

Row InstanceRow(const v1::Instance& i) {
  return {i.instance_id(),
          Or(i.instance_type()),
          StateText(i.state()),
          Or(i.availability_zone()),
          Or(i.private_ip_address()),
          Or(i.private_dns_name()),
          Or(i.public_ip_address()),
          Or(i.public_dns_name()),
          TimeOr(i.has_launch_time(), i.launch_time())};
}

void PrintReservation(const v1::RunInstancesResponse& response, std::ostream& os) {
  os << "reservation " << response.reservation_id() << "\n";
  std::vector<Row> rows;
  for (const v1::Instance& i : response.instances()) rows.push_back(InstanceRow(i));
  PrintTable(rows, os);
}

void PrintInstances(const v1::DescribeInstancesResponse& response, std::ostream& os) {
  if (response.instances().empty()) os << "no instances\n";
  std::vector<Row> rows;
  for (const v1::Instance& i : response.instances()) rows.push_back(InstanceRow(i));
  PrintTable(rows, os);
  PrintNextToken(response.next_token(), os);
}

void PrintStateChanges(const google::protobuf::RepeatedPtrField<v1::InstanceStateChange>& changes,
                       std::ostream& os) {
  std::vector<Row> rows;
  for (const v1::InstanceStateChange& c : changes) {
    rows.push_back(
        {c.instance_id(), StateText(c.previous_state()) + " -> " + StateText(c.current_state())});
  }
  PrintTable(rows, os);
}

void PrintInstanceTypes(const v1::DescribeInstanceTypesResponse& response, std::ostream& os) {
  std::vector<Row> rows = {{"TYPE", "VCPUS", "MEMORY", "BURSTABLE", "CURRENT"}};
  for (const v1::InstanceTypeInfo& t : response.instance_types()) {
    rows.push_back({t.instance_type(), std::to_string(t.vcpus()),
                    std::to_string(t.memory_mib()) + " MiB", t.burstable() ? "yes" : "no",
                    t.current_generation() ? "yes" : "no"});
  }
  PrintTable(rows, os);
}

void PrintZones(const v1::DescribeAvailabilityZonesResponse& response, std::ostream& os) {
  std::vector<Row> rows;
  for (const v1::AvailabilityZone& z : response.availability_zones()) {
    rows.push_back({z.zone_name(), Or(z.state()), Or(z.region_name())});
  }
  PrintTable(rows, os);
}

void PrintHosts(const v1::DescribeHostsResponse& response, std::ostream& os) {
  if (response.hosts().empty()) os << "no hosts\n";
  std::vector<Row> rows;
  for (const v1::Host& h : response.hosts()) {
    rows.push_back({h.host_id(), h.availability_zone(),
                    absl::StrCat(h.used_vcpus(), "/", h.total_vcpus(), " vCPUs"),
                    absl::StrCat(h.used_memory_mib(), "/", h.total_memory_mib(), " MiB"),
                    Joined(h.instance_ids())});
  }
  PrintTable(rows, os);
}

void PrintLaunchTemplates(const v1::DescribeLaunchTemplatesResponse& response, std::ostream& os) {
  if (response.launch_templates().empty()) os << "no launch templates\n";
  std::vector<Row> rows;
  for (const v1::LaunchTemplate& t : response.launch_templates()) {
    rows.push_back({t.launch_template_id(), t.launch_template_name(),
                    absl::StrCat("default ", t.default_version_number()),
                    absl::StrCat("latest ", t.latest_version_number())});
  }
  PrintTable(rows, os);
}

void PrintLaunchTemplateVersions(const v1::DescribeLaunchTemplateVersionsResponse& response,
                                 std::ostream& os) {
  if (response.launch_template_versions().empty()) os << "no versions\n";
  std::vector<Row> rows;
  for (const v1::LaunchTemplateVersion& v : response.launch_template_versions()) {
    rows.push_back({std::to_string(v.version_number()), v.default_version() ? "default" : "-",
                    Or(v.launch_template_data().image_id()),
                    Or(v.launch_template_data().instance_type()), Or(v.version_description())});
  }
  PrintTable(rows, os);
}

void PrintDatapoints(const v1::GetMetricStatisticsResponse& response, std::ostream& os) {
  os << Or(response.label()) << ": " << response.datapoints_size() << " data points\n";
  if (response.datapoints().empty()) return;
  struct Column {
    const char* name;
    bool (v1::Datapoint::*has)() const;
    double (v1::Datapoint::*get)() const;
  };
  static const Column kColumns[] = {
      {"SampleCount", &v1::Datapoint::has_sample_count, &v1::Datapoint::sample_count},
      {"Average", &v1::Datapoint::has_average, &v1::Datapoint::average},
      {"Sum", &v1::Datapoint::has_sum, &v1::Datapoint::sum},
      {"Minimum", &v1::Datapoint::has_minimum, &v1::Datapoint::minimum},
      {"Maximum", &v1::Datapoint::has_maximum, &v1::Datapoint::maximum},
  };
  std::vector<const Column*> columns;
  for (const Column& column : kColumns) {
    for (const v1::Datapoint& d : response.datapoints()) {
      if ((d.*column.has)()) {
        columns.push_back(&column);
        break;
      }
    }
  }
  std::set<std::string> percentiles;
  for (const v1::Datapoint& d : response.datapoints()) {
    for (const auto& entry : d.extended_statistics()) percentiles.insert(entry.first);
  }
  Row header = {"TIMESTAMP"};
  for (const Column* column : columns) header.push_back(column->name);
  header.insert(header.end(), percentiles.begin(), percentiles.end());
  header.push_back("UNIT");
  std::vector<Row> rows = {header};
  for (const v1::Datapoint& d : response.datapoints()) {
    Row row = {TimeOr(d.has_timestamp(), d.timestamp())};
    for (const Column* column : columns) {
      row.push_back((d.*column->has)() ? Num((d.*column->get)()) : "-");
    }
    for (const std::string& p : percentiles) {
      auto it = d.extended_statistics().find(p);
      row.push_back(it == d.extended_statistics().end() ? "-" : Num(it->second));
    }
    row.push_back(Or(d.unit()));
    rows.push_back(std::move(row));
  }
  PrintTable(rows, os);
}

void PrintMetrics(const v1::ListMetricsResponse& response, std::ostream& os) {
  if (response.metrics().empty()) os << "no metrics\n";
  std::vector<Row> rows;
  for (const v1::Metric& m : response.metrics()) {
    rows.push_back({m.namespace_(), m.metric_name(), Or(Dimensions(m.dimensions()))});
  }
  PrintTable(rows, os);
  PrintNextToken(response.next_token(), os);
}

void PrintAlarms(const v1::DescribeAlarmsResponse& response, std::ostream& os) {
  if (response.metric_alarms().empty()) os << "no alarms\n";
  for (const v1::MetricAlarm& a : response.metric_alarms()) {
    std::vector<std::string> actions;
    for (const std::string& arn : a.alarm_actions()) actions.push_back("ALARM->" + arn);
    for (const std::string& arn : a.ok_actions()) actions.push_back("OK->" + arn);
    for (const std::string& arn : a.insufficient_data_actions()) {
      actions.push_back("INSUFFICIENT_DATA->" + arn);
    }
    os << a.alarm_name() << "  " << EnumNameOf(StateValueNames(), a.state_value()) << "  "
       << AlarmCondition(a) << "  missing data: "
       << (a.treat_missing_data() == v1::TREAT_MISSING_DATA_UNSPECIFIED
               ? "missing"
               : EnumNameOf(TreatMissingDataNames(), a.treat_missing_data()))
       << "  actions " << (a.actions_enabled() ? "enabled" : "disabled") << "\n";
    if (!actions.empty()) os << "  actions: " << absl::StrJoin(actions, " ") << "\n";
    if (!a.state_reason().empty()) {
      os << "  since " << TimeOr(a.has_state_updated_timestamp(), a.state_updated_timestamp())
         << ": " << a.state_reason() << "\n";
    }
  }
  PrintNextToken(response.next_token(), os);
}

void PrintAlarmHistory(const v1::DescribeAlarmHistoryResponse& response, std::ostream& os) {
  if (response.alarm_history_items().empty()) os << "no history\n";
  std::vector<Row> rows;
  for (const v1::AlarmHistoryItem& h : response.alarm_history_items()) {
    rows.push_back({TimeOr(h.has_timestamp(), h.timestamp()),
                    EnumNameOf(HistoryItemTypeNames(), h.history_item_type()), h.alarm_name(),
                    h.history_summary()});
  }
  PrintTable(rows, os);
  PrintNextToken(response.next_token(), os);
}

void PrintLaunchConfigurations(const v1::DescribeLaunchConfigurationsResponse& response,
                               std::ostream& os) {
  if (response.launch_configurations().empty()) os << "no launch configurations\n";
  std::vector<Row> rows;
  for (const v1::LaunchConfiguration& l : response.launch_configurations()) {
    rows.push_back(
        {l.launch_configuration_name(), l.image_id(), l.instance_type(), Or(l.key_name()),
         Joined(l.security_groups()),
         l.driver() == v1::DRIVER_UNSPECIFIED ? "simulated" : EnumNameOf(DriverNames(), l.driver()),
         FormatLoadSpec(l.load()), TimeOr(l.has_created_time(), l.created_time())});
  }
  PrintTable(rows, os);
  PrintNextToken(response.next_token(), os);
}

void PrintGroups(const v1::DescribeAutoScalingGroupsResponse& response, std::ostream& os) {
  if (response.auto_scaling_groups().empty()) os << "no groups\n";
  for (const v1::AutoScalingGroup& g : response.auto_scaling_groups()) {
    os << g.auto_scaling_group_name() << "  " << LaunchSource(g)
       << "  min/desired/max " << g.min_size() << "/" << g.desired_capacity() << "/" << g.max_size()
       << "  " << Joined(g.availability_zones()) << "  " << g.instances_size()
       << (g.instances_size() == 1 ? " instance" : " instances");
    if (!g.suspended_processes().empty()) {
      os << "  suspended " << absl::StrJoin(g.suspended_processes(), ",");
    }
    if (!g.tags().empty()) os << "  tags " << Tags(g.tags());
    if (!g.status().empty()) os << "  " << g.status();
    os << "\n";
    std::vector<Row> rows;
    for (const v1::GroupInstance& i : g.instances()) {
      rows.push_back({i.instance_id(), Or(i.availability_zone()), Or(i.lifecycle_state()),
                      Or(i.health_status()), LaunchSource(i),
                      i.protected_from_scale_in() ? "protected" : "-"});
    }
    PrintTable(rows, os, "  ");
  }
  PrintNextToken(response.next_token(), os);
}

void PrintPolicies(const v1::DescribePoliciesResponse& response, std::ostream& os) {
  if (response.scaling_policies().empty()) os << "no policies\n";
  for (const v1::ScalingPolicy& p : response.scaling_policies()) {
    os << p.auto_scaling_group_name() << "  " << p.policy_name() << "  "
       << EnumNameOf(PolicyTypeNames(), p.policy_type() == v1::POLICY_TYPE_UNSPECIFIED
                                            ? v1::POLICY_TYPE_SIMPLE_SCALING
                                            : p.policy_type())
       << "  " << PolicyAction(p) << (p.enabled() ? "" : "  (disabled)") << "\n";
    os << "  " << p.policy_arn() << "\n";
    if (!p.alarm_names().empty())
      os << "  alarms: " << absl::StrJoin(p.alarm_names(), ", ") << "\n";
  }
  PrintNextToken(response.next_token(), os);
}

void PrintActivities(const google::protobuf::RepeatedPtrField<v1::Activity>& activities,
                     const std::string& next_token, std::ostream& os) {
  if (activities.empty()) os << "no activities\n";
  for (const v1::Activity& a : activities) {
    os << Or(a.status_code()) << "  " << TimeOr(a.has_start_time(), a.start_time()) << " - "
       << TimeOr(a.has_end_time(), a.end_time()) << "  " << a.auto_scaling_group_name() << "  "
       << a.description() << "\n";
    if (!a.cause().empty()) os << "  cause: " << a.cause() << "\n";
    if (!a.status_message().empty()) os << "  status: " << a.status_message() << "\n";
  }
  PrintNextToken(next_token, os);
}

void PrintLifecycleHooks(const v1::DescribeLifecycleHooksResponse& response, std::ostream& os) {
  if (response.lifecycle_hooks().empty()) os << "no lifecycle hooks\n";
  std::vector<Row> rows;
  for (const v1::LifecycleHook& h : response.lifecycle_hooks()) {
    rows.push_back({h.lifecycle_hook_name(), Or(h.lifecycle_transition()),
                    absl::StrCat("heartbeat ", h.heartbeat_timeout(), "s"), Or(h.default_result()),
                    Or(h.notification_target_arn())});
  }
  PrintTable(rows, os);
}

void PrintScheduledActions(const v1::DescribeScheduledActionsResponse& response,
                           std::ostream& os) {
  if (response.scheduled_update_group_actions().empty()) os << "no scheduled actions\n";
  auto size = [](bool has, int32_t value) { return has ? std::to_string(value) : "-"; };
  std::vector<Row> rows;
  for (const v1::ScheduledUpdateGroupAction& a : response.scheduled_update_group_actions()) {
    rows.push_back({a.auto_scaling_group_name(), a.scheduled_action_name(),
                    a.recurrence().empty() ? "once" : a.recurrence(),
                    TimeOr(a.has_next_run_time(), a.next_run_time()),
                    "min/max/desired " + size(a.has_min_size(), a.min_size()) + "/" +
                        size(a.has_max_size(), a.max_size()) + "/" +
                        size(a.has_desired_capacity(), a.desired_capacity())});
  }
  PrintTable(rows, os);
}

void PrintNextToken(const std::string& token, std::ostream& os) {
  if (!token.empty()) os << "(more: --next-token " << token << ")\n";
}

}  // namespace thingtank::cli::compute
