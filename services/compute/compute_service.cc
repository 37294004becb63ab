#include "services/compute/compute_service.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "services/common/log.h"
#include "nlohmann/json.hpp"
#include "services/common/status.h"
#include "services/compute/cloudwatch/alarm_rules.h"
#include "services/compute/drivers/simulated_driver.h"
#include "services/compute/proto_time.h"

namespace thingtank::compute {
namespace {

constexpr char kAutoScalingArn[] = "arn:aws:autoscaling:";
// PutMetricData's limit, which PutInternal keeps too.
constexpr int kMaxDataPerCall = 1000;

void AddDatum(v1::PutMetricDataRequest* request, const std::string& name,
              std::vector<std::pair<std::string, std::string>> dims, double value,
              const std::string& unit, absl::Time at) {
  v1::MetricDatum* d = request->add_metric_data();
  d->set_metric_name(name);
  for (auto& [k, v] : dims) {
    v1::Dimension* dim = d->add_dimensions();
    dim->set_name(k);
    dim->set_value(v);
  }
  d->set_value(value);
  d->set_unit(unit);
  *d->mutable_timestamp() = ToProto(at);
}

}  // namespace

std::vector<std::string> ComputeService::ColumnFamilies() {
  std::vector<std::string> cfs = Instances::ColumnFamilies();
  for (auto* more : {LaunchTemplates::ColumnFamilies, MetricStore::ColumnFamilies,
                     Alarms::ColumnFamilies, AutoScaling::ColumnFamilies}) {
    for (auto& cf : more()) {
      if (std::find(cfs.begin(), cfs.end(), cf) == cfs.end()) cfs.push_back(cf);
    }
  }
  return cfs;
}

ComputeService::ComputeService(Clock* clock, Executor* executor, ComputeOptions options)
    : clock_(clock), executor_(executor), options_(std::move(options)),
      life_(Lifeline::Create(this, executor, clock)) {}

ComputeService::~ComputeService() {
  life_->Detach();
  // Autoscaling calls the scheduler and the alarms call back into it: it goes first.
  notifier_->Shutdown();
  autoscaling_.reset();
  alarms_.reset();
  metrics_.reset();
  launch_templates_.reset();
  instances_.reset();
}

absl::StatusOr<std::unique_ptr<ComputeService>> ComputeService::Open(Db* db, Clock* clock,
                                                                     Executor* executor,
                                                                     InstanceDrivers drivers,
                                                                     ComputeOptions options) {
  std::unique_ptr<ComputeService> service(new ComputeService(clock, executor, options));
  service->notifier_ =
      std::make_unique<Notifier>(clock, options.alarms.region, options.alarms.account);
  TT_ASSIGN_OR_RETURN(service->instances_,
                      Instances::Open(db, clock, executor, drivers, options.instances));
  Instances* instances = service->instances_.get();
  TT_ASSIGN_OR_RETURN(
      service->launch_templates_,
      LaunchTemplates::Open(db, clock, [instances](const v1::LaunchTemplateData& data,
                                                   const std::string& field) {
        v1::RunInstancesRequest spec;
        LaunchTemplates::Fill(data, &spec);
        return instances->ValidateLaunch(spec, field);
      }));
  TT_ASSIGN_OR_RETURN(service->metrics_, MetricStore::Open(db, clock, options.metrics));
  TT_ASSIGN_OR_RETURN(service->autoscaling_,
                      AutoScaling::Open(db, clock, executor, service->instances_.get(),
                                        service.get(), options.autoscaling));
  TT_ASSIGN_OR_RETURN(service->alarms_, Alarms::Open(db, clock, service->metrics_.get(),
                                                     service.get(), options.alarms));
  // Queue-depth loads read the queues' AWS/SQS depth (the newest of the last two minutes).
  MetricStore* metrics = service->metrics_.get();
  drivers.simulated->SetQueueDepth([metrics, clock](const std::string& queue) -> std::optional<double> {
    google::protobuf::RepeatedPtrField<v1::Dimension> dims;
    v1::Dimension* d = dims.Add();
    d->set_name("QueueName");
    d->set_value(queue);
    auto values = metrics->PeriodValues(
        MetricKey::From("AWS/SQS", "ApproximateNumberOfMessagesVisible", dims),
        Stat::Of(v1::STATISTIC_MAXIMUM), std::nullopt, absl::Minutes(1),
        absl::FromUnixSeconds(absl::ToUnixSeconds(clock->Now()) / 60 * 60 + 60), 2);
    std::optional<double> newest;
    for (const auto& v : values) {
      if (v) newest = v;
    }
    return newest;
  });
  AutoScaling* autoscaling = service->autoscaling_.get();
  autoscaling->SetNotifier(service->notifier_.get());
  autoscaling->SetLaunchTemplates(service->launch_templates_.get());
  service->instances_->SetOnChange([autoscaling] { autoscaling->Poke(); });
  return service;
}

void ComputeService::Start() { ArmTick(clock_->Now()); }

void ComputeService::ArmTick(absl::Time after) {
  const int64_t tick_us = absl::ToInt64Microseconds(options_.tick);
  const int64_t now_us = absl::ToUnixMicros(after);
  const absl::Time next = absl::FromUnixMicros((now_us / tick_us + 1) * tick_us);
  std::weak_ptr<Lifeline> weak = life_;
  clock_->RunAt(next, [weak, next] {
    if (auto life = weak.lock()) {
      Lifeline::Post(life, [next](ComputeService* self) {
        self->Tick(next);
        self->ArmTick(next);
      });
    }
  });
}

void ComputeService::Tick(absl::Time boundary) {
  const bool minute = absl::ToUnixMicros(boundary) % 60'000'000 == 0;
  if (minute) PublishMinute(boundary);
  instances_->SampleCpu(boundary);
  absl::Status evaluated = alarms_->EvaluateDue(boundary);
  if (!evaluated.ok()) TT_LOG_ERROR("compute: alarm evaluation: {}", evaluated.ToString());
  autoscaling_->Reconcile();
  bool trim = false;
  {
    absl::MutexLock lock(&mu_);
    counts_.ticks += 1;
    if (boundary - last_trim_ >= absl::Hours(1)) {
      last_trim_ = boundary;
      trim = true;
    }
  }
  if (trim) {
    absl::Status trimmed = metrics_->TrimExpired(boundary);
    if (!trimmed.ok()) TT_LOG_ERROR("compute: trimming metrics: {}", trimmed.ToString());
  }
}

void ComputeService::PublishMinute(absl::Time boundary) {
  const absl::Time minute_start = boundary - absl::Minutes(1);
  std::vector<v1::PutMetricDataRequest> requests;
  auto request_for = [&](const std::string& ns) -> v1::PutMetricDataRequest* {
    if (requests.empty() || requests.back().namespace_() != ns ||
        requests.back().metric_data_size() >= kMaxDataPerCall - 1) {
      requests.emplace_back();
      requests.back().set_namespace_(ns);
    }
    return &requests.back();
  };
  for (const CpuAverage& cpu : instances_->TakeCpuAverages()) {
    v1::PutMetricDataRequest* r = request_for("AWS/EC2");
    AddDatum(r, "CPUUtilization", {{"InstanceId", cpu.instance_id}}, cpu.percent, "Percent",
             minute_start);
    if (!cpu.group.empty()) {
      AddDatum(r, "CPUUtilization", {{"AutoScalingGroupName", cpu.group}}, cpu.percent, "Percent",
               minute_start);
    }
  }
  for (const GroupCounts& g : autoscaling_->Counts()) {
    v1::PutMetricDataRequest* r = request_for("AWS/AutoScaling");
    const std::vector<std::pair<const char*, int32_t>> values = {
        {"GroupMinSize", g.min_size},
        {"GroupMaxSize", g.max_size},
        {"GroupDesiredCapacity", g.desired},
        {"GroupInServiceInstances", g.in_service},
        {"GroupPendingInstances", g.pending},
        {"GroupTerminatingInstances", g.terminating},
        {"GroupTotalInstances", g.in_service + g.pending + g.terminating}};
    for (const auto& [name, value] : values) {
      r = request_for("AWS/AutoScaling");
      AddDatum(r, name, {{"AutoScalingGroupName", g.group}}, value, "None", minute_start);
    }
  }
  for (const PerInstanceTarget& t : autoscaling_->PerInstanceTargets()) {
    MetricKey key = MetricKey::From(t.metric.namespace_(), t.metric.metric_name(),
                                    t.metric.dimensions());
    // The newest of the last two minutes: the other service publishes its
    // minute at this same boundary, maybe after this runs.
    auto values = metrics_->PeriodValues(key, Stat::Of(t.metric.statistic()), std::nullopt,
                                         absl::Minutes(1), boundary, 2);
    std::optional<double> value;
    for (const auto& v : values) {
      if (v) value = v;
    }
    if (!value) continue;
    v1::PutMetricDataRequest* r = request_for("ThingTank/AutoScaling");
    AddDatum(r, absl::StrCat(t.metric.metric_name(), "PerInstance"),
             {{"AutoScalingGroupName", t.group}, {"PolicyName", t.policy}},
             *value / std::max(1, t.in_service), "None", minute_start);
  }
  int64_t published = 0;
  for (const auto& r : requests) {
    absl::Status status = metrics_->PutInternal(r);
    if (!status.ok()) {
      TT_LOG_ERROR("compute: publishing {} metrics: {}", r.namespace_(), status.ToString());
      continue;
    }
    published += r.metric_data_size();
  }
  absl::MutexLock lock(&mu_);
  counts_.datapoints_published += published;
}

TickCounts ComputeService::tick_counts() const {
  absl::MutexLock lock(&mu_);
  return counts_;
}

absl::StatusOr<v1::RunInstancesResponse> ComputeService::RunInstances(
    const v1::RunInstancesRequest& request) {
  if (!request.has_launch_template()) return instances_->RunInstances(request);
  TT_ASSIGN_OR_RETURN(v1::LaunchTemplateVersion version,
                      launch_templates_->Resolve(request.launch_template(), "launch_template."));
  v1::RunInstancesRequest filled = request;
  LaunchTemplates::Fill(version.launch_template_data(), &filled);
  return instances_->RunInstances(filled);
}

absl::StatusOr<v1::SetInstanceLoadResponse> ComputeService::SetInstanceLoad(
    const v1::SetInstanceLoadRequest& request) {
  if (request.auto_scaling_group_name().empty()) return instances_->SetInstanceLoad(request);
  if (!request.instance_ids().empty()) {
    return InvalidField("instance_ids", "give instance ids or a group, not both");
  }
  TT_ASSIGN_OR_RETURN(auto ids, autoscaling_->GroupInstanceIds(request.auto_scaling_group_name()));
  TT_RETURN_IF_ERROR(autoscaling_->SetGroupLoad(request.auto_scaling_group_name(), request.load()));
  v1::SetInstanceLoadResponse response;
  if (ids.empty()) return response;
  v1::SetInstanceLoadRequest by_ids;
  for (const auto& id : ids) by_ids.add_instance_ids(id);
  *by_ids.mutable_load() = request.load();
  return instances_->SetInstanceLoad(by_ids);
}

absl::Status ComputeService::CheckAction(const std::string& arn) {
  if (absl::StartsWith(arn, kAutoScalingArn)) return autoscaling_->CheckPolicyArn(arn);
  if (Notifier::IsTarget(arn)) return notifier_->CheckTarget(arn, "arn");
  return InvalidField("arn",
                      absl::StrCat("Invalid action ", arn,
                                   ": alarms here run scaling policies (arn:aws:autoscaling:...) "
                                   "or notify a queue (arn:aws:sqs:...) or a WAMP topic "
                                   "(arn:thingtank:wamp:<realm>:<topic>)"),
                      "ValidationError");
}

bool ComputeService::RepeatsWhileInAlarm(const std::string& arn) {
  return absl::StartsWith(arn, kAutoScalingArn);
}

absl::Status ComputeService::RunAction(const std::string& arn, const AlarmActionEvent& event) {
  if (Notifier::IsTarget(arn)) {
    // The transition as CloudWatch's SNS notification reads.
    nlohmann::json message = {
        {"AlarmName", event.alarm_name},
        {"AlarmArn", event.alarm_arn},
        {"AWSAccountId", options_.alarms.account},
        {"Region", options_.alarms.region},
        {"NewStateValue", StateName(event.new_state)},
        {"OldStateValue", StateName(event.old_state)},
        {"NewStateReason", event.reason},
        {"StateChangeTime", absl::FormatTime("%Y-%m-%dT%H:%M:%E3S+0000", event.time, absl::UTCTimeZone())},
        {"Trigger", {{"Threshold", event.threshold}}}};
    if (!event.reason_data.empty()) {
      message["NewStateReasonData"] = nlohmann::json::parse(event.reason_data, nullptr, false);
    }
    if (event.metric_value) message["Trigger"]["MetricValue"] = *event.metric_value;
    return notifier_->NotifyAndWait(arn, message.dump(), absl::Seconds(5));
  }
  // Policies run on whichever state's list names them, as CloudWatch allows.
  if (!absl::StartsWith(arn, kAutoScalingArn)) return CheckAction(arn);
  AlarmTrigger trigger;
  trigger.alarm_name = event.alarm_name;
  trigger.time = event.time;
  trigger.metric_value = event.metric_value;
  trigger.threshold = event.threshold;
  return autoscaling_->RunPolicyFromAlarm(arn, trigger);
}

absl::Status ComputeService::PutAlarm(const v1::PutMetricAlarmRequest& request) {
  return alarms_->PutAlarmInternal(request);
}

absl::Status ComputeService::DeleteAlarms(const std::vector<std::string>& names) {
  return alarms_->DeleteAlarmsInternal(names);
}

std::vector<std::string> ComputeService::AlarmsWithAction(const std::string& arn) {
  return alarms_->AlarmsWithAction(arn);
}

}  // namespace thingtank::compute
