#include "services/compute/autoscaling/autoscaling.h"

#include <algorithm>
#include <cstdio>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "services/common/log.h"
#include "services/common/status.h"
#include "services/compute/autoscaling/autoscaling_internal.h"
#include "services/compute/autoscaling/policy_math.h"
#include "services/compute/autoscaling/termination.h"
#include "services/compute/proto_time.h"

namespace thingtank::compute {

using autoscaling_internal::ActivityKey;
using autoscaling_internal::GroupKey;
using autoscaling_internal::kFamily;
using autoscaling_internal::Leaving;
using autoscaling_internal::MemberKey;
using autoscaling_internal::Page;
using autoscaling_internal::PolicyKey;
using autoscaling_internal::ScalingInProgress;
using autoscaling_internal::ValidationError;

namespace {

constexpr char kLaunchConfigPrefix[] = "lc/";

absl::Status ValidateName(const std::string& name, const std::string& field) {
  if (name.empty() || name.size() > 255) {
    return ValidationError(field, "must be 1 to 255 characters");
  }
  if (name.find(':') != std::string::npos) {
    return ValidationError(field, "must not contain ':'");
  }
  return absl::OkStatus();
}

absl::Status AlreadyExists(const std::string& what, const std::string& name) {
  return ErrorWithReason(absl::StatusCode::kAlreadyExists, "AlreadyExists",
                         absl::StrCat(what, " by this name already exists - A ", what,
                                      " with the name ", name, " already exists"));
}

absl::Status LimitExceeded(const std::string& message) {
  return ErrorWithReason(absl::StatusCode::kResourceExhausted, "LimitExceeded", message);
}

absl::Status InUse(const std::string& message) {
  return ErrorWithReason(absl::StatusCode::kFailedPrecondition, "ResourceInUse", message);
}

absl::Status CheckSizes(int32_t min, int32_t max, int32_t desired, int32_t limit) {
  if (min < 0) return ValidationError("min_size", "must be 0 or more");
  if (max < 0) return ValidationError("max_size", "must be 0 or more");
  if (max > limit) {
    return ValidationError("max_size", absl::StrCat("at most ", limit, " (the group size limit)"));
  }
  if (min > max) {
    return ValidationError("min_size", absl::StrCat("min_size (", min,
                                                    ") must not be greater than max_size (", max,
                                                    ")"));
  }
  if (desired < min || desired > max) {
    return ValidationError("desired_capacity",
                           absl::StrCat("Desired capacity:", desired,
                                        " must be between the specified min size:", min,
                                        " and max size:", max));
  }
  return absl::OkStatus();
}

using Names = google::protobuf::RepeatedPtrField<std::string>;

absl::Status CheckZones(const Instances& instances, const Names& zones) {
  for (int i = 0; i < zones.size(); ++i) {
    if (!instances.HasZone(zones[i])) {
      return ValidationError(absl::StrCat("availability_zones[", i, "]"),
                             absl::StrCat("Invalid Availability Zone: ", zones[i]));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckHealthCheckType(const std::string& type) {
  if (!type.empty() && type != "EC2" && type != "ELB") {
    return ValidationError("health_check_type", "must be EC2 or ELB");
  }
  return absl::OkStatus();
}

absl::Status CheckTerminationPolicies(const Names& policies) {
  for (int i = 0; i < policies.size(); ++i) {
    if (!IsTerminationPolicy(policies[i])) {
      return ValidationError(absl::StrCat("termination_policies[", i, "]"),
                             absl::StrCat("Unknown termination policy ", policies[i]));
    }
  }
  return absl::OkStatus();
}

std::string UserRequestCause(absl::Time now, const std::string& what) {
  return absl::StrCat("At ", Iso8601(now), " a user request ", what);
}

}  // namespace

namespace autoscaling_internal {

absl::Status ValidationError(const std::string& field, const std::string& message) {
  return InvalidField(field, message, "ValidationError");
}

absl::Status ScalingInProgress(const std::string& message) {
  return ErrorWithReason(absl::StatusCode::kFailedPrecondition, "ScalingActivityInProgress",
                         message);
}

std::string GroupKey(const std::string& group) { return absl::StrCat("g/", group); }
std::string MemberKey(const std::string& group, const std::string& id) {
  return absl::StrCat("m/", group, "/", id);
}
std::string PolicyKey(const std::string& group, const std::string& name) {
  return absl::StrCat("p/", group, "/", name);
}
std::string ActivityKey(const std::string& group, absl::Time start, uint64_t sequence,
                        const std::string& id) {
  char inverted[64];
  std::snprintf(inverted, sizeof(inverted), "%020llu/%020llu",
                static_cast<unsigned long long>(UINT64_MAX / 2 - absl::ToUnixMicros(start)),
                static_cast<unsigned long long>(UINT64_MAX - sequence));
  return absl::StrCat("a/", group, "/", inverted, "/", id);
}

absl::StatusOr<Page> ParsePage(int32_t max_records, const std::string& next_token,
                               int32_t default_size) {
  Page page;
  if (max_records < 0 || max_records > 100) {
    return ValidationError("max_records", "must be 1 to 100");
  }
  page.size = max_records == 0 ? default_size : max_records;
  if (!next_token.empty() && (!absl::SimpleAtoi(next_token, &page.offset) || page.offset < 0)) {
    return ValidationError("next_token", "is not a token this server gave");
  }
  return page;
}

}  // namespace autoscaling_internal

std::vector<std::string> AutoScaling::ColumnFamilies() { return {kFamily}; }

AutoScaling::AutoScaling(Db* db, Clock* clock, Executor* executor, Instances* instances,
                         ManagedAlarms* alarms, AutoScalingOptions options)
    : db_(db),
      cf_(db->cf(kFamily)),
      clock_(clock),
      executor_(executor),
      instances_(instances),
      alarms_(alarms),
      options_(std::move(options)),
      life_(Lifeline::Create(this, executor, clock)),
      rng_(std::random_device{}()) {}

AutoScaling::~AutoScaling() { life_->Detach(); }

absl::StatusOr<std::unique_ptr<AutoScaling>> AutoScaling::Open(Db* db, Clock* clock,
                                                               Executor* executor,
                                                               Instances* instances,
                                                               ManagedAlarms* alarms,
                                                               AutoScalingOptions options) {
  std::unique_ptr<AutoScaling> as(
      new AutoScaling(db, clock, executor, instances, alarms, std::move(options)));
  TT_RETURN_IF_ERROR(as->Load());
  as->Poke();  // carry on with what was in progress
  return as;
}

absl::Status AutoScaling::Load() {
  absl::MutexLock lock(&mu_);
  auto parse = [](auto* message, const rocksdb::Slice& value, const rocksdb::Slice& key) {
    if (!message->ParseFromArray(value.data(), static_cast<int>(value.size()))) {
      return absl::DataLossError(absl::StrCat("unreadable auto scaling record ", key.ToString()));
    }
    return absl::OkStatus();
  };
  {
    auto it = db_->Scan(cf_, kLaunchConfigPrefix);
    for (it->SeekSuffix(""); it->Valid(); it->Next()) {
      storage::LaunchConfigurationRecord record;
      TT_RETURN_IF_ERROR(parse(&record, it->value(), it->key()));
      launch_configurations_[record.launch_configuration().launch_configuration_name()] = record;
    }
    TT_RETURN_IF_ERROR(it->status());
  }
  {
    auto it = db_->Scan(cf_, "g/");
    for (it->SeekSuffix(""); it->Valid(); it->Next()) {
      Group group;
      TT_RETURN_IF_ERROR(parse(&group.record, it->value(), it->key()));
      groups_[group.record.group().auto_scaling_group_name()] = std::move(group);
    }
    TT_RETURN_IF_ERROR(it->status());
  }
  {
    auto it = db_->Scan(cf_, "m/");
    for (it->SeekSuffix(""); it->Valid(); it->Next()) {
      storage::MemberRecord member;
      TT_RETURN_IF_ERROR(parse(&member, it->value(), it->key()));
      std::string suffix(it->suffix());
      std::string group = suffix.substr(0, suffix.rfind('/'));
      auto g = groups_.find(group);
      if (g != groups_.end()) g->second.members[member.instance_id()] = member;
    }
    TT_RETURN_IF_ERROR(it->status());
  }
  {
    auto it = db_->Scan(cf_, "p/");
    for (it->SeekSuffix(""); it->Valid(); it->Next()) {
      storage::PolicyRecord policy;
      TT_RETURN_IF_ERROR(parse(&policy, it->value(), it->key()));
      auto g = groups_.find(policy.policy().auto_scaling_group_name());
      if (g == groups_.end()) continue;
      policy_by_arn_[policy.policy().policy_arn()] = {policy.policy().auto_scaling_group_name(),
                                                      policy.policy().policy_name()};
      g->second.policies[policy.policy().policy_name()] = policy;
    }
    TT_RETURN_IF_ERROR(it->status());
  }
  {
    auto it = db_->Scan(cf_, "a/");
    for (it->SeekSuffix(""); it->Valid(); it->Next()) {
      storage::ActivityRecord activity;
      TT_RETURN_IF_ERROR(parse(&activity, it->value(), it->key()));
      ++activities_total_;
      activity_sequence_ = std::max(activity_sequence_, activity.sequence());
      if (activity.activity().status_code() != "InProgress") continue;
      auto g = groups_.find(activity.activity().auto_scaling_group_name());
      if (g != groups_.end()) g->second.open_activities[activity.activity().activity_id()] = activity;
    }
    TT_RETURN_IF_ERROR(it->status());
  }
  return absl::OkStatus();
}

// ---- records ----

std::string AutoScaling::NewUuid() {
  uint64_t a = rng_(), b = rng_();
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%08x-%04x-4%03x-%04x-%012llx", static_cast<unsigned>(a >> 32),
                static_cast<unsigned>((a >> 16) & 0xffff), static_cast<unsigned>(a & 0xfff),
                static_cast<unsigned>(0x8000 | ((b >> 48) & 0x3fff)),
                static_cast<unsigned long long>(b & 0xffffffffffffULL));
  return buf;
}

std::string AutoScaling::Arn(const std::string& kind, const std::string& path) {
  return absl::StrCat("arn:aws:autoscaling:", options_.region, ":", options_.account, ":", kind,
                      ":", NewUuid(), ":", path);
}

void AutoScaling::PutGroup(const Group& group, Batch* batch) const {
  batch->Put(cf_, GroupKey(group.record.group().auto_scaling_group_name()),
             group.record.SerializeAsString());
}

void AutoScaling::PutMember(const Group& group, const storage::MemberRecord& member,
                            Batch* batch) const {
  batch->Put(cf_, MemberKey(group.record.group().auto_scaling_group_name(), member.instance_id()),
             member.SerializeAsString());
}

void AutoScaling::PutActivity(const storage::ActivityRecord& activity, Batch* batch) const {
  batch->Put(cf_,
             ActivityKey(activity.activity().auto_scaling_group_name(),
                         FromProto(activity.activity().start_time()), activity.sequence(),
                         activity.activity().activity_id()),
             activity.SerializeAsString());
}

storage::ActivityRecord AutoScaling::NewActivity(const Group& group, const std::string& kind,
                                                 const std::string& description,
                                                 const std::string& cause, absl::Time now) {
  storage::ActivityRecord record;
  record.set_kind(kind);
  record.set_sequence(++activity_sequence_);
  v1::Activity* a = record.mutable_activity();
  a->set_activity_id(NewUuid());
  a->set_auto_scaling_group_name(group.record.group().auto_scaling_group_name());
  a->set_description(description);
  a->set_cause(cause);
  *a->mutable_start_time() = ToProto(now);
  a->set_status_code("InProgress");
  a->set_progress(0);
  ++activities_total_;
  return record;
}

absl::Status AutoScaling::Commit(Batch* batch) {
  if (batch->Count() == 0) return absl::OkStatus();
  return db_->Write(batch);
}

void AutoScaling::Poke() {
  {
    absl::MutexLock lock(&poke_mu_);
    if (poke_pending_) return;
    poke_pending_ = true;
  }
  std::weak_ptr<Lifeline> weak = life_;
  // Through the clock, never inline: callers may hold the scheduler's lock
  // or this one, and an inline executor would run Reconcile right here.
  clock_->RunAfter(absl::ZeroDuration(), [weak] {
    if (auto life = weak.lock()) {
      Lifeline::Post(life, [](AutoScaling* self) {
        {
          absl::MutexLock lock(&self->poke_mu_);
          self->poke_pending_ = false;
        }
        self->Reconcile();
      });
    }
  });
}

// ---- lookups ----

absl::StatusOr<AutoScaling::Group*> AutoScaling::FindGroup(const std::string& name) {
  auto it = groups_.find(name);
  if (it == groups_.end()) {
    return ValidationError("auto_scaling_group_name",
                           absl::StrCat("AutoScalingGroup name not found - ", name));
  }
  return &it->second;
}

absl::StatusOr<const AutoScaling::Group*> AutoScaling::FindGroup(const std::string& name) const {
  auto it = groups_.find(name);
  if (it == groups_.end()) {
    return ValidationError("auto_scaling_group_name",
                           absl::StrCat("AutoScalingGroup name not found - ", name));
  }
  return &it->second;
}

absl::StatusOr<std::pair<AutoScaling::Group*, storage::PolicyRecord*>> AutoScaling::FindPolicy(
    const std::string& group_name, const std::string& name_or_arn) {
  std::string group = group_name, name = name_or_arn;
  if (absl::StartsWith(name_or_arn, "arn:")) {
    auto it = policy_by_arn_.find(name_or_arn);
    if (it == policy_by_arn_.end()) {
      return ValidationError("policy_name", absl::StrCat("No such policy: ", name_or_arn));
    }
    std::tie(group, name) = it->second;
  }
  TT_ASSIGN_OR_RETURN(Group * g, FindGroup(group));
  auto p = g->policies.find(name);
  if (p == g->policies.end()) {
    return ValidationError("policy_name",
                           absl::StrCat("No policy ", name, " in group ", group));
  }
  return std::make_pair(g, &p->second);
}

AutoScaling::Group* AutoScaling::GroupOfInstance(const std::string& instance_id) {
  for (auto& [name, group] : groups_) {
    if (group.members.count(instance_id) > 0) return &group;
  }
  return nullptr;
}

bool AutoScaling::Suspended(const Group& group, const std::string& process) const {
  const auto& s = group.record.group().suspended_processes();
  return std::find(s.begin(), s.end(), process) != s.end();
}

int32_t AutoScaling::Counted(const Group& group) const {
  int32_t n = 0;
  for (const auto& [id, m] : group.members) {
    if (!Leaving(m.lifecycle_state())) ++n;
  }
  for (const auto& [id, a] : group.open_activities) {
    if (a.kind() == "launch" && a.instance_id().empty()) ++n;  // decided, not yet launched
  }
  return n;
}

v1::AutoScalingGroup AutoScaling::Describe(const Group& group) const {
  v1::AutoScalingGroup out = group.record.group();
  for (const auto& [id, m] : group.members) {
    v1::GroupInstance* i = out.add_instances();
    i->set_instance_id(m.instance_id());
    i->set_availability_zone(m.availability_zone());
    i->set_lifecycle_state(m.lifecycle_state());
    i->set_health_status(m.health_status());
    i->set_launch_configuration_name(m.launch_configuration_name());
    if (m.has_launch_template()) *i->mutable_launch_template() = m.launch_template();
    i->set_instance_type(m.instance_type());
    i->set_protected_from_scale_in(m.protected_from_scale_in());
  }
  return out;
}

absl::Status AutoScaling::CheckLaunchSource(const std::string& configuration,
                                            const v1::LaunchTemplateSpecification& spec,
                                            bool has_template) const {
  if (configuration.empty() == !has_template) {
    return ValidationError("launch_configuration_name",
                           "Valid requests must contain either LaunchTemplate, "
                           "LaunchConfigurationName (exactly one)");
  }
  if (has_template) {
    if (templates_ == nullptr) return ValidationError("launch_template", "no launch templates here");
    return templates_->Resolve(spec, "launch_template.").status();
  }
  if (launch_configurations_.count(configuration) == 0) {
    return ValidationError("launch_configuration_name",
                           absl::StrCat("Launch configuration name not found - ", configuration));
  }
  return absl::OkStatus();
}

void AutoScaling::SetLaunchTemplates(const LaunchTemplates* templates) {
  absl::MutexLock lock(&mu_);
  templates_ = templates;
}

// ---- launch configurations ----

absl::StatusOr<v1::CreateLaunchConfigurationResponse> AutoScaling::CreateLaunchConfiguration(
    const v1::CreateLaunchConfigurationRequest& request) {
  TT_RETURN_IF_ERROR(ValidateName(request.launch_configuration_name(), "launch_configuration_name"));
  v1::RunInstancesRequest spec;
  spec.set_image_id(request.image_id());
  spec.set_instance_type(request.instance_type());
  spec.set_key_name(request.key_name());
  *spec.mutable_security_groups() = request.security_groups();
  spec.set_user_data(request.user_data());
  spec.set_driver(request.driver());
  if (request.has_load()) *spec.mutable_load() = request.load();
  absl::Status valid = instances_->ValidateLaunch(spec, "");
  if (!valid.ok()) return ValidationError(ErrorField(valid), std::string(valid.message()));
  absl::MutexLock lock(&mu_);
  if (launch_configurations_.count(request.launch_configuration_name()) > 0) {
    return AlreadyExists("Launch Configuration", request.launch_configuration_name());
  }
  if (static_cast<int32_t>(launch_configurations_.size()) >= options_.max_launch_configurations) {
    return LimitExceeded(absl::StrCat("You have reached the limit of ",
                                      options_.max_launch_configurations, " launch configurations"));
  }
  storage::LaunchConfigurationRecord record;
  v1::LaunchConfiguration* lc = record.mutable_launch_configuration();
  lc->set_launch_configuration_name(request.launch_configuration_name());
  lc->set_launch_configuration_arn(Arn(
      "launchConfiguration",
      absl::StrCat("launchConfigurationName/", request.launch_configuration_name())));
  lc->set_image_id(request.image_id());
  lc->set_instance_type(request.instance_type());
  lc->set_key_name(request.key_name());
  if (request.security_groups().empty()) {
    lc->add_security_groups("default");
  } else {
    *lc->mutable_security_groups() = request.security_groups();
  }
  lc->set_user_data(request.user_data());
  lc->set_driver(request.driver() == v1::DRIVER_PROCESS ? v1::DRIVER_PROCESS : v1::DRIVER_SIMULATED);
  if (request.has_load()) *lc->mutable_load() = request.load();
  *lc->mutable_created_time() = ToProto(clock_->Now());
  TT_RETURN_IF_ERROR(db_->Put(cf_, absl::StrCat(kLaunchConfigPrefix, lc->launch_configuration_name()),
                              record.SerializeAsString()));
  launch_configurations_[lc->launch_configuration_name()] = record;
  return v1::CreateLaunchConfigurationResponse();
}

absl::StatusOr<v1::DescribeLaunchConfigurationsResponse> AutoScaling::DescribeLaunchConfigurations(
    const v1::DescribeLaunchConfigurationsRequest& request) const {
  TT_ASSIGN_OR_RETURN(Page page, autoscaling_internal::ParsePage(request.max_records(),
                                                                 request.next_token(), 50));
  std::set<std::string> wanted(request.launch_configuration_names().begin(),
                               request.launch_configuration_names().end());
  v1::DescribeLaunchConfigurationsResponse response;
  absl::ReaderMutexLock lock(&mu_);
  response.set_next_token(autoscaling_internal::PageOver(
      launch_configurations_, wanted, page, [&](const storage::LaunchConfigurationRecord& record) {
        *response.add_launch_configurations() = record.launch_configuration();
      }));
  return response;
}

absl::StatusOr<v1::DeleteLaunchConfigurationResponse> AutoScaling::DeleteLaunchConfiguration(
    const v1::DeleteLaunchConfigurationRequest& request) {
  absl::MutexLock lock(&mu_);
  const std::string& name = request.launch_configuration_name();
  if (launch_configurations_.count(name) == 0) {
    return ValidationError("launch_configuration_name",
                           absl::StrCat("Launch configuration name not found - ", name));
  }
  for (const auto& [g, group] : groups_) {
    if (group.record.group().launch_configuration_name() == name) {
      return InUse(absl::StrCat("Cannot delete launch configuration ", name,
                                " because it is attached to AutoScalingGroup ", g));
    }
  }
  Batch batch;
  batch.Delete(cf_, absl::StrCat(kLaunchConfigPrefix, name));
  TT_RETURN_IF_ERROR(Commit(&batch));
  launch_configurations_.erase(name);
  return v1::DeleteLaunchConfigurationResponse();
}

// ---- groups ----

absl::StatusOr<v1::CreateAutoScalingGroupResponse> AutoScaling::CreateAutoScalingGroup(
    const v1::CreateAutoScalingGroupRequest& request) {
  TT_RETURN_IF_ERROR(ValidateName(request.auto_scaling_group_name(), "auto_scaling_group_name"));
  int32_t desired = request.has_desired_capacity() ? request.desired_capacity() : request.min_size();
  TT_RETURN_IF_ERROR(CheckSizes(request.min_size(), request.max_size(), desired,
                                options_.max_group_size));
  if (request.availability_zones().empty()) {
    return ValidationError("availability_zones", "At least one Availability Zone is required");
  }
  TT_RETURN_IF_ERROR(CheckZones(*instances_, request.availability_zones()));
  TT_RETURN_IF_ERROR(CheckHealthCheckType(request.health_check_type()));
  if (request.health_check_grace_period() < 0) {
    return ValidationError("health_check_grace_period", "must be 0 or more");
  }
  if (request.has_default_cooldown() && request.default_cooldown() < 0) {
    return ValidationError("default_cooldown", "must be 0 or more");
  }
  TT_RETURN_IF_ERROR(CheckTerminationPolicies(request.termination_policies()));
  for (int i = 0; i < request.tags().size(); ++i) {
    if (request.tags(i).key().empty() || request.tags(i).key().size() > 128 ||
        absl::StartsWith(request.tags(i).key(), "aws:")) {
      return ValidationError(absl::StrCat("tags[", i, "].key"),
                             "must be 1 to 128 characters, not starting with aws:");
    }
  }
  absl::MutexLock lock(&mu_);
  const std::string& name = request.auto_scaling_group_name();
  if (groups_.count(name) > 0) return AlreadyExists("AutoScalingGroup", name);
  TT_RETURN_IF_ERROR(CheckLaunchSource(request.launch_configuration_name(), request.launch_template(),
                                       request.has_launch_template()));
  if (static_cast<int32_t>(groups_.size()) >= options_.max_groups) {
    return LimitExceeded(absl::StrCat("You have reached the limit of ", options_.max_groups,
                                      " auto scaling groups"));
  }
  absl::Time now = clock_->Now();
  Group group;
  v1::AutoScalingGroup* g = group.record.mutable_group();
  g->set_auto_scaling_group_name(name);
  g->set_auto_scaling_group_arn(Arn("autoScalingGroup", absl::StrCat("autoScalingGroupName/", name)));
  g->set_launch_configuration_name(request.launch_configuration_name());
  if (request.has_launch_template()) *g->mutable_launch_template() = request.launch_template();
  g->set_min_size(request.min_size());
  g->set_max_size(request.max_size());
  g->set_desired_capacity(desired);
  g->set_default_cooldown(request.has_default_cooldown() ? request.default_cooldown() : 300);
  *g->mutable_availability_zones() = request.availability_zones();
  g->set_health_check_type(request.health_check_type().empty() ? "EC2" : request.health_check_type());
  g->set_health_check_grace_period(request.health_check_grace_period());
  *g->mutable_created_time() = ToProto(now);
  if (request.termination_policies().empty()) {
    g->add_termination_policies("Default");
  } else {
    *g->mutable_termination_policies() = request.termination_policies();
  }
  g->set_new_instances_protected_from_scale_in(request.new_instances_protected_from_scale_in());
  *g->mutable_tags() = request.tags();
  group.record.set_pending_cause(UserRequestCause(
      now, absl::StrCat("created an AutoScalingGroup changing the desired capacity from 0 to ",
                        desired, ".")));
  Batch batch;
  PutGroup(group, &batch);
  TT_RETURN_IF_ERROR(Commit(&batch));
  groups_[name] = std::move(group);
  Poke();
  return v1::CreateAutoScalingGroupResponse();
}

absl::StatusOr<v1::UpdateAutoScalingGroupResponse> AutoScaling::UpdateAutoScalingGroup(
    const v1::UpdateAutoScalingGroupRequest& request) {
  absl::MutexLock lock(&mu_);
  TT_ASSIGN_OR_RETURN(Group * group, FindGroup(request.auto_scaling_group_name()));
  Group updated = *group;
  v1::AutoScalingGroup* g = updated.record.mutable_group();
  if (!request.launch_configuration_name().empty() || request.has_launch_template()) {
    TT_RETURN_IF_ERROR(CheckLaunchSource(request.launch_configuration_name(),
                                         request.launch_template(), request.has_launch_template()));
    g->set_launch_configuration_name(request.launch_configuration_name());
    if (request.has_launch_template()) {
      *g->mutable_launch_template() = request.launch_template();
    } else {
      g->clear_launch_template();
    }
  }
  int32_t min = request.has_min_size() ? request.min_size() : g->min_size();
  int32_t max = request.has_max_size() ? request.max_size() : g->max_size();
  int32_t desired = request.has_desired_capacity() ? request.desired_capacity()
                                                   : std::clamp(g->desired_capacity(), min, std::max(min, max));
  TT_RETURN_IF_ERROR(CheckSizes(min, max, desired, options_.max_group_size));
  if (request.has_default_cooldown()) {
    if (request.default_cooldown() < 0) return ValidationError("default_cooldown", "must be 0 or more");
    g->set_default_cooldown(request.default_cooldown());
  }
  if (!request.availability_zones().empty()) {
    TT_RETURN_IF_ERROR(CheckZones(*instances_, request.availability_zones()));
    *g->mutable_availability_zones() = request.availability_zones();
  }
  if (!request.health_check_type().empty()) {
    TT_RETURN_IF_ERROR(CheckHealthCheckType(request.health_check_type()));
    g->set_health_check_type(request.health_check_type());
  }
  if (request.has_health_check_grace_period()) {
    g->set_health_check_grace_period(request.health_check_grace_period());
  }
  if (!request.termination_policies().empty()) {
    TT_RETURN_IF_ERROR(CheckTerminationPolicies(request.termination_policies()));
    *g->mutable_termination_policies() = request.termination_policies();
  }
  if (request.has_new_instances_protected_from_scale_in()) {
    g->set_new_instances_protected_from_scale_in(request.new_instances_protected_from_scale_in());
  }
  g->set_min_size(min);
  g->set_max_size(max);
  updated.record.clear_launch_retry_micros();  // new settings: try launching at once
  absl::Time now = clock_->Now();
  if (desired != g->desired_capacity()) {
    updated.record.set_pending_cause(UserRequestCause(
        now, absl::StrCat("update of AutoScalingGroup constraints to min: ", min, ", max: ", max,
                          ", desired: ", desired, " changing the desired capacity from ",
                          g->desired_capacity(), " to ", desired, ".")));
    g->set_desired_capacity(desired);
  }
  Batch batch;
  PutGroup(updated, &batch);
  TT_RETURN_IF_ERROR(Commit(&batch));
  *group = std::move(updated);
  Poke();
  return v1::UpdateAutoScalingGroupResponse();
}

absl::StatusOr<v1::DescribeAutoScalingGroupsResponse> AutoScaling::DescribeAutoScalingGroups(
    const v1::DescribeAutoScalingGroupsRequest& request) const {
  TT_ASSIGN_OR_RETURN(Page page, autoscaling_internal::ParsePage(request.max_records(),
                                                                 request.next_token(), 50));
  std::set<std::string> wanted(request.auto_scaling_group_names().begin(),
                               request.auto_scaling_group_names().end());
  v1::DescribeAutoScalingGroupsResponse response;
  absl::ReaderMutexLock lock(&mu_);
  response.set_next_token(autoscaling_internal::PageOver(
      groups_, wanted, page, [&](const Group& group) ABSL_NO_THREAD_SAFETY_ANALYSIS {
        *response.add_auto_scaling_groups() = Describe(group);
      }));
  return response;
}

absl::StatusOr<v1::DeleteAutoScalingGroupResponse> AutoScaling::DeleteAutoScalingGroup(
    const v1::DeleteAutoScalingGroupRequest& request) {
  std::vector<std::string> alarms_to_delete;
  {
    absl::MutexLock lock(&mu_);
    TT_ASSIGN_OR_RETURN(Group * group, FindGroup(request.auto_scaling_group_name()));
    const std::string name = request.auto_scaling_group_name();
    if (!group->members.empty() || Counted(*group) > 0) {
      if (!request.force_delete()) {
        return InUse(absl::StrCat("You cannot delete an AutoScalingGroup while there are "
                                  "instances or pending Spot instance request(s) still in the group (",
                                  name, ")."));
      }
      // Forced: no more launches; terminate every member, delete once they are gone.
      Batch batch;
      group->record.mutable_group()->set_status("Delete in progress");
      group->record.mutable_group()->set_min_size(0);
      group->record.mutable_group()->set_desired_capacity(0);
      absl::Time now = clock_->Now();
      for (auto& [id, activity] : group->open_activities) {
        if (activity.kind() == "launch" && activity.instance_id().empty()) {
          activity.mutable_activity()->set_status_code("Cancelled");
          *activity.mutable_activity()->mutable_end_time() = ToProto(now);
          PutActivity(activity, &batch);
        }
      }
      for (auto it = group->open_activities.begin(); it != group->open_activities.end();) {
        it = it->second.activity().status_code() == "Cancelled" ? group->open_activities.erase(it)
                                                                 : std::next(it);
      }
      std::string cause = UserRequestCause(now, "to delete the group with force_delete.");
      for (auto& [id, member] : group->members) {
        if (!Leaving(member.lifecycle_state())) {
          BeginTermination(group, &member, cause, now, &batch, /*use_hooks=*/false);
        }
      }
      PutGroup(*group, &batch);
      TT_RETURN_IF_ERROR(Commit(&batch));
      Poke();
      return v1::DeleteAutoScalingGroupResponse();
    }
    Batch batch;
    batch.Delete(cf_, GroupKey(name));
    db_->DeletePrefix(&batch, cf_, absl::StrCat("p/", name, "/"));
    db_->DeletePrefix(&batch, cf_, absl::StrCat("m/", name, "/"));
    db_->DeletePrefix(&batch, cf_, absl::StrCat("a/", name, "/"));
    TT_RETURN_IF_ERROR(Commit(&batch));
    for (const auto& [pname, policy] : group->policies) {
      policy_by_arn_.erase(policy.policy().policy_arn());
      for (const auto& alarm : policy.policy().alarm_names()) {
        if (absl::StartsWith(alarm, "TargetTracking-")) alarms_to_delete.push_back(alarm);
      }
    }
    groups_.erase(name);
  }
  if (alarms_ != nullptr && !alarms_to_delete.empty()) {
    absl::Status deleted = alarms_->DeleteAlarms(alarms_to_delete);
    if (!deleted.ok()) TT_LOG_WARN("compute: deleting target tracking alarms: {}", deleted.ToString());
  }
  return v1::DeleteAutoScalingGroupResponse();
}

absl::Status AutoScaling::SetDesired(Group* group, int32_t desired, const std::string& cause,
                                     Batch* batch) {
  v1::AutoScalingGroup* g = group->record.mutable_group();
  group->record.set_pending_cause(cause);
  g->set_desired_capacity(desired);
  PutGroup(*group, batch);
  return absl::OkStatus();
}

absl::StatusOr<v1::SetDesiredCapacityResponse> AutoScaling::SetDesiredCapacity(
    const v1::SetDesiredCapacityRequest& request) {
  absl::MutexLock lock(&mu_);
  TT_ASSIGN_OR_RETURN(Group * group, FindGroup(request.auto_scaling_group_name()));
  const v1::AutoScalingGroup& g = group->record.group();
  if (request.desired_capacity() < g.min_size() || request.desired_capacity() > g.max_size()) {
    return ValidationError("desired_capacity",
                           absl::StrCat("New SetDesiredCapacity value ", request.desired_capacity(),
                                        " is ", request.desired_capacity() < g.min_size() ? "below min value " : "above max value ",
                                        request.desired_capacity() < g.min_size() ? g.min_size() : g.max_size(),
                                        " for the AutoScalingGroup."));
  }
  absl::Time now = clock_->Now();
  if (request.honor_cooldown() && now < absl::FromUnixMicros(group->record.cooldown_end_micros())) {
    return ScalingInProgress("Scaling activity is in progress and blocks this action (the group's cooldown).");
  }
  if (request.desired_capacity() == g.desired_capacity()) return v1::SetDesiredCapacityResponse();
  Batch batch;
  std::string cause = UserRequestCause(
      now, absl::StrCat("explicitly set group desired capacity changing the desired capacity from ",
                        g.desired_capacity(), " to ", request.desired_capacity(), "."));
  int32_t cooldown = g.default_cooldown();
  TT_RETURN_IF_ERROR(SetDesired(group, request.desired_capacity(), cause, &batch));
  if (request.honor_cooldown()) {
    group->record.set_cooldown_end_micros(absl::ToUnixMicros(now + absl::Seconds(cooldown)));
    group->record.set_cooldown_after_activity(cooldown);
    PutGroup(*group, &batch);
  }
  TT_RETURN_IF_ERROR(Commit(&batch));
  Poke();
  return v1::SetDesiredCapacityResponse();
}

}  // namespace thingtank::compute
