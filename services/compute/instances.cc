#include "services/compute/instances.h"

#include <algorithm>
#include <cstdio>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "services/common/log.h"
#include "services/common/status.h"
#include "services/compute/drivers/simulated_driver.h"
#include "services/compute/instance_state.h"
#include "services/compute/instance_types.h"
#include "services/compute/proto_time.h"

namespace thingtank::compute {
namespace {

constexpr char kFamily[] = "instances";
constexpr char kPrefix[] = "i/";
constexpr char kGroupTag[] = "aws:autoscaling:groupName";
constexpr int kMaxIdsPerCall = 1000;
constexpr int kMaxCount = 1000;
constexpr int kMaxTags = 50;
constexpr size_t kMaxUserData = 16 * 1024;

using v1::Instance;
using v1::InstanceStateName;

std::string Key(const std::string& id) { return absl::StrCat(kPrefix, id); }

bool IsHex(absl::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
  });
}

bool WellFormedId(absl::string_view id, absl::string_view prefix) {
  if (!absl::StartsWith(id, prefix)) return false;
  absl::string_view hex = id.substr(prefix.size());
  return (hex.size() == 8 || hex.size() == 17) && IsHex(hex);
}

std::string Ipv4(uint32_t a) {
  return absl::StrCat(a >> 24, ".", (a >> 16) & 0xff, ".", (a >> 8) & 0xff, ".", a & 0xff);
}

// 10.0.1.0 onwards by launch order; kept until termination.
uint32_t PrivateIp(uint64_t sequence) { return (10u << 24) + 256u + static_cast<uint32_t>(sequence); }
// 54.160.0.0 onwards; an instance has its public address only while running.
uint32_t PublicIp(uint64_t sequence) {
  return (54u << 24) + (160u << 16) + static_cast<uint32_t>(sequence & 0x1fffff);
}

std::string UserInitiated(absl::Time now) {
  return absl::StrCat("User initiated (",
                      absl::FormatTime("%Y-%m-%d %H:%M:%S GMT", now, absl::UTCTimeZone()), ")");
}

void SetReason(Instance* instance, const std::string& code) {
  if (code.empty()) {
    instance->clear_state_reason();
    return;
  }
  std::string message = code;
  if (code == "Client.UserInitiatedShutdown") message += ": User initiated shutdown";
  if (code == "Service.AutoScaling") message += ": Terminated by Auto Scaling";
  if (code == "Server.InsufficientInstanceCapacity") message += ": Insufficient capacity.";
  instance->mutable_state_reason()->set_code(code);
  instance->mutable_state_reason()->set_message(message);
}

absl::Status ValidateTags(const google::protobuf::RepeatedPtrField<v1::Tag>& tags,
                          const std::string& field) {
  if (tags.size() > kMaxTags) {
    return InvalidField(field, absl::StrCat("at most ", kMaxTags, " tags, not ", tags.size()));
  }
  std::set<std::string> keys;
  for (int i = 0; i < tags.size(); ++i) {
    const std::string f = absl::StrCat(field, "[", i, "]");
    const v1::Tag& tag = tags[i];
    if (tag.key().empty() || tag.key().size() > 128) {
      return InvalidField(f + ".key", "must be 1 to 128 characters");
    }
    if (absl::StartsWith(tag.key(), "aws:")) {
      return InvalidField(f + ".key", "the aws: prefix is reserved");
    }
    if (tag.value().size() > 256) return InvalidField(f + ".value", "at most 256 characters");
    if (!keys.insert(tag.key()).second) {
      return InvalidField(f + ".key", absl::StrCat("duplicate tag key ", tag.key()));
    }
  }
  return absl::OkStatus();
}

absl::Status NotFound(const std::vector<std::string>& ids) {
  return ErrorWithReason(absl::StatusCode::kNotFound, "InvalidInstanceID.NotFound",
                         absl::StrCat("The instance ID", ids.size() > 1 ? "s '" : " '",
                                      absl::StrJoin(ids, ", "), "' do", ids.size() > 1 ? "" : "es",
                                      " not exist"),
                         {{"instance_ids", absl::StrJoin(ids, ",")}});
}

}  // namespace

std::vector<std::string> Instances::ColumnFamilies() { return {kFamily}; }

Instances::Instances(Db* db, Clock* clock, Executor* executor, InstanceDrivers drivers,
                     InstancesOptions options)
    : db_(db),
      cf_(db->cf(kFamily)),
      clock_(clock),
      executor_(executor),
      drivers_(drivers),
      options_(std::move(options)),
      life_(Lifeline::Create(this, executor, clock)),
      placement_(options_.placement),
      rng_(std::random_device{}()) {}

Instances::~Instances() { life_->Detach(); }

absl::StatusOr<std::unique_ptr<Instances>> Instances::Open(Db* db, Clock* clock,
                                                           Executor* executor,
                                                           InstanceDrivers drivers,
                                                           InstancesOptions options) {
  if (drivers.simulated == nullptr) {
    return absl::InvalidArgumentError("the simulated driver is required");
  }
  std::unique_ptr<Instances> instances(
      new Instances(db, clock, executor, drivers, std::move(options)));
  TT_RETURN_IF_ERROR(instances->Load());
  return instances;
}

absl::Status Instances::Load() {
  std::vector<DriverCall> calls;
  {
    absl::MutexLock lock(&mu_);
    auto it = db_->Scan(cf_, kPrefix);
    for (it->SeekSuffix(""); it->Valid(); it->Next()) {
      Entry entry;
      if (!entry.record.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
        return absl::DataLossError(absl::StrCat("unreadable instance record ", it->key().ToString()));
      }
      const Instance& instance = entry.record.instance();
      const InstanceType* type = FindInstanceType(instance.instance_type());
      if (type == nullptr) {
        return absl::DataLossError(absl::StrCat("instance ", instance.instance_id(),
                                                " has unknown type ", instance.instance_type()));
      }
      if (!instance.host_id().empty()) {
        TT_RETURN_IF_ERROR(placement_.Restore(instance.host_id(), instance.instance_id(), *type));
      }
      if (instance.has_transition_due_time()) {
        due_.emplace(FromProto(instance.transition_due_time()), instance.instance_id());
      }
      if (entry.record.terminated_at_micros() > 0) {
        due_.emplace(absl::FromUnixMicros(entry.record.terminated_at_micros()) +
                         options_.timings.terminated_visible,
                     instance.instance_id());
      }
      if (instance.state().name() == v1::INSTANCE_STATE_NAME_RUNNING) {
        calls.push_back({DriverCall::kStart, instance, false, entry.record.user_data()});
      }
      if (!entry.record.client_token().empty()) {
        by_token_[entry.record.client_token()] = instance.reservation_id();
      }
      next_sequence_ = std::max(next_sequence_, entry.record.sequence() + 1);
      if (instance.state().name() == v1::INSTANCE_STATE_NAME_TERMINATED) ++terminated_;
      by_sequence_[entry.record.sequence()] = instance.instance_id();
      entries_.emplace(instance.instance_id(), std::move(entry));
    }
    TT_RETURN_IF_ERROR(it->status());
    if (!due_.empty()) Arm(due_.begin()->first);
  }
  RunDriverCalls(std::move(calls));
  return absl::OkStatus();
}

void Instances::SetOnChange(std::function<void()> on_change) {
  absl::MutexLock lock(&mu_);
  on_change_ = std::move(on_change);
}

void Instances::Changed() {
  std::function<void()> fn;
  {
    absl::MutexLock lock(&mu_);
    fn = on_change_;
  }
  if (fn) fn();
}

std::string Instances::NewId(const char* prefix) {
  char buf[32];
  for (;;) {
    uint64_t hi = rng_() & 0xfffffffffULL;  // 9 hex digits
    uint64_t lo = rng_() & 0xffffffffULL;   // 8 hex digits
    std::snprintf(buf, sizeof(buf), "%s%09llx%08llx", prefix, static_cast<unsigned long long>(hi),
                  static_cast<unsigned long long>(lo));
    if (entries_.count(buf) == 0) return buf;
  }
}

InstanceDriver* Instances::DriverOf(const Instance& instance) const {
  return instance.driver() == v1::DRIVER_PROCESS ? drivers_.process : drivers_.simulated;
}

absl::Status Instances::ValidateLaunch(const v1::RunInstancesRequest& spec,
                                       const std::string& prefix) const {
  if (spec.image_id().empty()) return InvalidField(prefix + "image_id", "is required", "MissingParameter");
  if (spec.driver() == v1::DRIVER_PROCESS) {
    if (drivers_.process == nullptr) {
      return InvalidField(prefix + "driver",
                          "the process driver is not enabled on this server (the operator "
                          "enables it with serve --compute-images=FILE)",
                          "UnsupportedOperation");
    }
    if (!drivers_.process->HasImage(spec.image_id())) {
      return InvalidField(prefix + "image_id",
                          absl::StrCat("The image id '[", spec.image_id(),
                                       "]' does not exist (not in the operator's images file)"),
                          "InvalidAMIID.NotFound");
    }
  } else if (!WellFormedId(spec.image_id(), "ami-")) {
    return InvalidField(prefix + "image_id",
                        absl::StrCat("Invalid id: \"", spec.image_id(),
                                     "\" (expecting \"ami-\" and 8 or 17 hex digits)"),
                        "InvalidAMIID.Malformed");
  }
  if (spec.instance_type().empty()) {
    return InvalidField(prefix + "instance_type", "is required", "MissingParameter");
  }
  if (FindInstanceType(spec.instance_type()) == nullptr) {
    return InvalidField(prefix + "instance_type",
                        absl::StrCat("The instance type '", spec.instance_type(),
                                     "' does not exist (see DescribeInstanceTypes)"),
                        "InvalidInstanceType");
  }
  if (spec.user_data().size() > kMaxUserData) {
    return InvalidField(prefix + "user_data",
                        absl::StrCat("at most 16 KiB, not ", spec.user_data().size(), " bytes"));
  }
  if (spec.has_load()) TT_RETURN_IF_ERROR(ValidateLoad(spec.load(), prefix + "load"));
  if (!spec.availability_zone().empty() && !placement_.HasZone(spec.availability_zone())) {
    return InvalidField(prefix + "availability_zone",
                        absl::StrCat("Invalid availability zone: [", spec.availability_zone(), "]"));
  }
  for (int i = 0; i < spec.security_groups().size(); ++i) {
    if (spec.security_groups(i).empty() || spec.security_groups(i).size() > 255) {
      return InvalidField(absl::StrCat(prefix, "security_groups[", i, "]"),
                          "must be 1 to 255 characters");
    }
  }
  return ValidateTags(spec.tags(), prefix + "tags");
}

bool Instances::HasZone(const std::string& zone) const { return placement_.HasZone(zone); }

absl::StatusOr<v1::RunInstancesResponse> Instances::RunInstances(
    const v1::RunInstancesRequest& request) {
  return Launch(request, "", request.client_token());
}

absl::StatusOr<v1::Instance> Instances::LaunchIntoGroup(v1::RunInstancesRequest request,
                                                        const std::string& group,
                                                        const std::string& client_token) {
  request.set_min_count(1);
  request.set_max_count(1);
  TT_ASSIGN_OR_RETURN(auto response, Launch(request, group, client_token));
  return response.instances(0);
}

absl::StatusOr<v1::RunInstancesResponse> Instances::Launch(const v1::RunInstancesRequest& request,
                                                           const std::string& group,
                                                           const std::string& client_token) {
  TT_RETURN_IF_ERROR(ValidateLaunch(request, ""));
  int min_count = request.min_count() == 0 ? 1 : request.min_count();
  int max_count = request.max_count() == 0 ? min_count : request.max_count();
  if (min_count < 1 || min_count > kMaxCount) {
    return InvalidField("min_count", absl::StrCat("must be 1 to ", kMaxCount));
  }
  if (max_count < min_count || max_count > kMaxCount) {
    return InvalidField("max_count", absl::StrCat("must be min_count (", min_count, ") to ",
                                                  kMaxCount));
  }
  if (client_token.size() > 64) return InvalidField("client_token", "at most 64 characters");
  const InstanceType& type = *FindInstanceType(request.instance_type());
  v1::RunInstancesResponse response;
  std::vector<DriverCall> calls;
  {
    absl::MutexLock lock(&mu_);
    if (!client_token.empty()) {
      auto known = by_token_.find(client_token);
      if (known != by_token_.end()) {
        response.set_reservation_id(known->second);
        for (const auto& [seq, id] : by_sequence_) {
          const Instance& instance = entries_.at(id).record.instance();
          if (instance.reservation_id() == known->second) *response.add_instances() = instance;
        }
        return response;
      }
    }
    const int64_t live = static_cast<int64_t>(entries_.size()) - terminated_;
    if (live + min_count > options_.max_instances) {
      return ErrorWithReason(absl::StatusCode::kResourceExhausted, "InstanceLimitExceeded",
                             absl::StrCat("You have requested more instances (", live + min_count,
                                          ") than your current instance limit of ",
                                          options_.max_instances, " allows."));
    }
    std::string zone = request.availability_zone();
    if (zone.empty()) zone = placement_.LeastLoadedZone(type, min_count);
    int64_t fits = zone.empty() ? 0 : placement_.Fits(zone, type);
    if (fits < min_count) {
      if (zone.empty()) zone = placement_.zones().empty() ? "" : "any zone";
      return ErrorWithReason(
          absl::StatusCode::kResourceExhausted, "InsufficientInstanceCapacity",
          absl::StrCat("We currently do not have sufficient ", type.name,
                       " capacity in the Availability Zone you requested (", zone, ")."),
          {{"availability_zone", zone}, {"instance_type", type.name}});
    }
    int count = static_cast<int>(std::min<int64_t>(max_count, fits));
    absl::Time now = clock_->Now();
    std::string reservation = NewId("r-");
    std::vector<Entry> launched;
    for (int i = 0; i < count; ++i) {
      Entry entry;
      storage::InstanceRecord& record = entry.record;
      record.set_sequence(next_sequence_ + i);
      record.set_client_token(client_token);
      record.set_user_data(request.user_data());
      Instance* instance = record.mutable_instance();
      std::string id = NewId("i-");
      while (std::any_of(launched.begin(), launched.end(), [&](const Entry& e) {
        return e.record.instance().instance_id() == id;
      })) {
        id = NewId("i-");
      }
      instance->set_instance_id(id);
      instance->set_image_id(request.image_id());
      instance->set_instance_type(type.name);
      instance->set_vcpus(type.vcpus);
      instance->set_memory_mib(type.memory_mib);
      instance->set_availability_zone(zone);
      instance->set_key_name(request.key_name());
      if (request.security_groups().empty()) {
        instance->add_security_groups("default");
      } else {
        *instance->mutable_security_groups() = request.security_groups();
      }
      std::vector<v1::Tag> tags(request.tags().begin(), request.tags().end());
      if (!group.empty()) {
        v1::Tag tag;
        tag.set_key(kGroupTag);
        tag.set_value(group);
        tags.push_back(tag);
        instance->set_auto_scaling_group_name(group);
      }
      std::sort(tags.begin(), tags.end(),
                [](const v1::Tag& a, const v1::Tag& b) { return a.key() < b.key(); });
      for (auto& tag : tags) *instance->add_tags() = tag;
      instance->set_reservation_id(reservation);
      instance->set_driver(request.driver() == v1::DRIVER_PROCESS ? v1::DRIVER_PROCESS
                                                                  : v1::DRIVER_SIMULATED);
      if (request.has_load()) {
        *instance->mutable_load() = request.load();
      } else {
        instance->mutable_load()->mutable_constant()->set_percent(0);
      }
      uint32_t private_ip = PrivateIp(record.sequence());
      instance->set_private_ip_address(Ipv4(private_ip));
      instance->set_private_dns_name(absl::StrCat(
          "ip-", absl::StrReplaceAll(Ipv4(private_ip), {{".", "-"}}), ".ec2.internal"));
      absl::Status entered = Enter(&entry, v1::INSTANCE_STATE_NAME_PENDING, now, "", &calls);
      if (!entered.ok()) {  // cannot happen after Fits; undo what was placed
        for (const Entry& e : launched) placement_.Release(e.record.instance().instance_id());
        return entered;
      }
      launched.push_back(std::move(entry));
    }
    std::vector<const Entry*> to_store;
    for (const Entry& e : launched) to_store.push_back(&e);
    absl::Status stored = Store(to_store, {});
    if (!stored.ok()) {
      for (const Entry& e : launched) placement_.Release(e.record.instance().instance_id());
      return stored;
    }
    next_sequence_ += count;
    if (!client_token.empty()) by_token_[client_token] = reservation;
    response.set_reservation_id(reservation);
    for (Entry& e : launched) {
      const Instance& instance = e.record.instance();
      *response.add_instances() = instance;
      due_.emplace(FromProto(instance.transition_due_time()), instance.instance_id());
      by_sequence_[e.record.sequence()] = instance.instance_id();
      entries_.emplace(instance.instance_id(), std::move(e));
    }
    Arm(due_.begin()->first);
  }
  Changed();
  return response;
}

absl::Status Instances::Enter(Entry* entry, InstanceStateName state, absl::Time now,
                              const std::string& reason_code, std::vector<DriverCall>* calls) {
  Instance* instance = entry->record.mutable_instance();
  const InstanceStateName before = instance->state().name();
  const InstanceType& type = *FindInstanceType(instance->instance_type());
  const InstanceTimings& t = options_.timings;
  instance->clear_transition_due_time();
  switch (state) {
    case v1::INSTANCE_STATE_NAME_PENDING: {
      TT_ASSIGN_OR_RETURN(std::string host,
                          placement_.Place(instance->availability_zone(), instance->instance_id(), type));
      instance->set_host_id(host);
      instance->mutable_launch_time()->CopyFrom(ToProto(now));
      *instance->mutable_transition_due_time() = ToProto(now + t.pending);
      instance->set_instance_status("initializing");
      instance->clear_state_transition_reason();
      instance->mutable_state_reason()->set_code("pending");
      instance->mutable_state_reason()->set_message("pending");
      break;
    }
    case v1::INSTANCE_STATE_NAME_RUNNING: {
      uint32_t public_ip = PublicIp(entry->record.sequence());
      instance->set_public_ip_address(Ipv4(public_ip));
      instance->set_public_dns_name(absl::StrCat(
          "ec2-", absl::StrReplaceAll(Ipv4(public_ip), {{".", "-"}}), ".compute-1.amazonaws.com"));
      instance->set_instance_status("ok");
      instance->clear_state_reason();
      calls->push_back({DriverCall::kStart, *instance, false, entry->record.user_data()});
      break;
    }
    case v1::INSTANCE_STATE_NAME_STOPPING:
    case v1::INSTANCE_STATE_NAME_SHUTTING_DOWN: {
      *instance->mutable_transition_due_time() =
          ToProto(now + (state == v1::INSTANCE_STATE_NAME_STOPPING ? t.stopping : t.shutting_down));
      instance->set_state_transition_reason(UserInitiated(now));
      SetReason(instance, reason_code);
      if (before == v1::INSTANCE_STATE_NAME_RUNNING) {
        calls->push_back({DriverCall::kStop, *instance, false, ""});
      }
      instance->clear_public_ip_address();
      instance->clear_public_dns_name();
      instance->set_cpu_utilization(0);
      break;
    }
    case v1::INSTANCE_STATE_NAME_STOPPED:
    case v1::INSTANCE_STATE_NAME_TERMINATED: {
      placement_.Release(instance->instance_id());
      instance->clear_host_id();
      instance->clear_instance_status();
      if (state == v1::INSTANCE_STATE_NAME_TERMINATED) {
        instance->clear_private_ip_address();
        instance->clear_private_dns_name();
        entry->record.set_terminated_at_micros(absl::ToUnixMicros(now));
      }
      break;
    }
    default:
      return absl::InternalError("no such instance state");
  }
  *instance->mutable_state() = MakeState(state);
  return absl::OkStatus();
}

absl::Status Instances::Store(const std::vector<const Entry*>& entries,
                              const std::vector<std::string>& removed) {
  rocksdb::WriteBatch batch;
  for (const Entry* entry : entries) {
    batch.Put(cf_, Key(entry->record.instance().instance_id()),
              entry->record.SerializeAsString());
  }
  for (const std::string& id : removed) batch.Delete(cf_, Key(id));
  return db_->Write(&batch);
}

void Instances::Arm(absl::Time due) {
  if (due >= armed_) return;
  armed_ = due;
  std::weak_ptr<Lifeline> weak = life_;
  clock_->RunAt(due, [weak] {
    if (auto life = weak.lock()) Lifeline::Post(life, [](Instances* self) { self->ProcessDue(); });
  });
}

void Instances::ProcessDue() {
  std::vector<DriverCall> calls;
  bool changed = false;
  {
    absl::MutexLock lock(&mu_);
    absl::Time now = clock_->Now();
    armed_ = absl::InfiniteFuture();
    std::vector<Entry*> touched;
    std::vector<std::string> removed;
    std::vector<std::pair<absl::Time, std::string>> requeue;
    while (!due_.empty() && due_.begin()->first <= now) {
      std::string id = due_.begin()->second;
      due_.erase(due_.begin());
      auto it = entries_.find(id);
      if (it == entries_.end()) continue;
      Entry& entry = it->second;
      const Instance& instance = entry.record.instance();
      if (instance.state().name() == v1::INSTANCE_STATE_NAME_TERMINATED) {
        if (absl::FromUnixMicros(entry.record.terminated_at_micros()) +
                options_.timings.terminated_visible <= now) {
          removed.push_back(id);
        }
        continue;
      }
      if (!instance.has_transition_due_time() || FromProto(instance.transition_due_time()) > now) {
        continue;  // a stale timer entry: the instance moved on
      }
      InstanceStateName settled = SettledState(instance.state().name());
      if (settled == v1::INSTANCE_STATE_NAME_UNSPECIFIED) continue;
      if (!Enter(&entry, settled, now, "", &calls).ok()) continue;
      if (settled == v1::INSTANCE_STATE_NAME_TERMINATED) {
        requeue.emplace_back(now + options_.timings.terminated_visible, id);
        ++terminated_;
      }
      touched.push_back(&entry);
    }
    std::vector<const Entry*> to_store(touched.begin(), touched.end());
    if (!to_store.empty() || !removed.empty()) {
      absl::Status stored = Store(to_store, removed);
      if (!stored.ok()) {
        // Memory is ahead of disk now; after a restart the transitions end
        // again from what is stored. Retry the write at the next timer.
        TT_LOG_ERROR("compute: storing {} instance transitions failed: {}", to_store.size(),
                     stored.ToString());
      }
      changed = true;
    }
    for (const std::string& id : removed) {
      by_sequence_.erase(entries_.at(id).record.sequence());
      entries_.erase(id);
      --terminated_;  // only terminated instances are forgotten
    }
    for (auto& [when, id] : requeue) due_.emplace(when, id);
    if (!due_.empty()) Arm(due_.begin()->first);
  }
  RunDriverCalls(std::move(calls));
  if (changed) Changed();
}

void Instances::RunDriverCalls(std::vector<DriverCall> calls) {
  for (DriverCall& call : calls) {
    InstanceDriver* driver = DriverOf(call.instance);
    if (driver == nullptr) continue;
    absl::Status status;
    switch (call.kind) {
      case DriverCall::kStart:
        driver->SetUserData(call.instance.instance_id(), std::move(call.user_data));
        status = driver->Start(call.instance);
        break;
      case DriverCall::kStop: driver->Stop(call.instance.instance_id(), call.force); break;
      case DriverCall::kRestart: status = driver->Restart(call.instance); break;
    }
    if (!status.ok()) {
      TT_LOG_WARN("compute: driver of {} failed: {}", call.instance.instance_id(), status.ToString());
    }
  }
}

absl::Status Instances::CheckIds(const google::protobuf::RepeatedPtrField<std::string>& ids) const {
  if (ids.empty()) return InvalidField("instance_ids", "at least one instance id", "MissingParameter");
  if (ids.size() > kMaxIdsPerCall) {
    return InvalidField("instance_ids", absl::StrCat("at most ", kMaxIdsPerCall, " ids"));
  }
  std::vector<std::string> missing;
  for (int i = 0; i < ids.size(); ++i) {
    if (!WellFormedId(ids[i], "i-")) {
      return InvalidField(absl::StrCat("instance_ids[", i, "]"),
                          absl::StrCat("Invalid id: \"", ids[i], "\""), "InvalidInstanceID.Malformed");
    }
    if (entries_.count(ids[i]) == 0) missing.push_back(ids[i]);
  }
  if (!missing.empty()) return NotFound(missing);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<v1::InstanceStateChange>> Instances::Apply(
    const google::protobuf::RepeatedPtrField<std::string>& ids, int action_value, bool force,
    const std::string& reason_code) {
  const auto action = static_cast<InstanceAction>(action_value);
  std::vector<v1::InstanceStateChange> changes;
  std::vector<DriverCall> calls;
  {
    absl::MutexLock lock(&mu_);
    TT_RETURN_IF_ERROR(CheckIds(ids));
    // First decide for all, so that one IncorrectInstanceState changes nothing.
    std::vector<std::pair<Entry*, InstanceStateName>> plan;
    for (const std::string& id : ids) {
      Entry& entry = entries_.at(id);
      TT_ASSIGN_OR_RETURN(InstanceStateName next,
                          NextState(action, entry.record.instance().state().name(), id));
      plan.emplace_back(&entry, next);
    }
    absl::Time now = clock_->Now();
    std::vector<Entry> before;
    for (auto& [entry, next] : plan) before.push_back(*entry);
    std::vector<const Entry*> touched;
    absl::Status status;
    for (auto& [entry, next] : plan) {
      v1::InstanceStateChange change;
      change.set_instance_id(entry->record.instance().instance_id());
      *change.mutable_previous_state() = entry->record.instance().state();
      InstanceStateName current = entry->record.instance().state().name();
      if (next != current) {
        status = Enter(entry, next, now, reason_code, &calls);
        if (!status.ok()) break;
        touched.push_back(entry);
      } else if (action == InstanceAction::kReboot) {
        calls.push_back({DriverCall::kRestart, entry->record.instance(), false, ""});
      } else if (action == InstanceAction::kStop && force &&
                 current == v1::INSTANCE_STATE_NAME_STOPPING) {
        // A forced stop of a stopping instance ends the stop now.
        *entry->record.mutable_instance()->mutable_transition_due_time() = ToProto(now);
        touched.push_back(entry);
      }
      *change.mutable_current_state() = entry->record.instance().state();
      changes.push_back(std::move(change));
    }
    if (status.ok()) status = Store(touched, {});
    if (!status.ok()) {
      // Put memory back as it was: nothing of this call happened.
      for (size_t i = 0; i < plan.size(); ++i) {
        const Instance& was = before[i].record.instance();
        const Instance& is = plan[i].first->record.instance();
        if (is.host_id() != was.host_id()) {
          placement_.Release(is.instance_id());
          if (!was.host_id().empty()) {
            (void)placement_.Restore(was.host_id(), was.instance_id(),
                                     *FindInstanceType(was.instance_type()));
          }
        }
        *plan[i].first = before[i];
      }
      return status;
    }
    for (const Entry* entry : touched) {
      const Instance& instance = entry->record.instance();
      if (instance.has_transition_due_time()) {
        due_.emplace(FromProto(instance.transition_due_time()), instance.instance_id());
      }
    }
    if (!due_.empty()) Arm(due_.begin()->first);
  }
  for (DriverCall& call : calls) call.force = force;
  RunDriverCalls(std::move(calls));
  Changed();
  return changes;
}

absl::StatusOr<v1::StartInstancesResponse> Instances::StartInstances(
    const v1::StartInstancesRequest& request) {
  TT_ASSIGN_OR_RETURN(auto changes, Apply(request.instance_ids(),
                                          static_cast<int>(InstanceAction::kStart), false, ""));
  v1::StartInstancesResponse response;
  for (auto& c : changes) *response.add_starting_instances() = std::move(c);
  return response;
}

absl::StatusOr<v1::StopInstancesResponse> Instances::StopInstances(
    const v1::StopInstancesRequest& request) {
  TT_ASSIGN_OR_RETURN(auto changes,
                      Apply(request.instance_ids(), static_cast<int>(InstanceAction::kStop),
                            request.force(), "Client.UserInitiatedShutdown"));
  v1::StopInstancesResponse response;
  for (auto& c : changes) *response.add_stopping_instances() = std::move(c);
  return response;
}

absl::StatusOr<v1::RebootInstancesResponse> Instances::RebootInstances(
    const v1::RebootInstancesRequest& request) {
  TT_RETURN_IF_ERROR(
      Apply(request.instance_ids(), static_cast<int>(InstanceAction::kReboot), false, "").status());
  return v1::RebootInstancesResponse();
}

absl::StatusOr<v1::TerminateInstancesResponse> Instances::TerminateInstances(
    const v1::TerminateInstancesRequest& request) {
  TT_ASSIGN_OR_RETURN(auto changes,
                      Apply(request.instance_ids(), static_cast<int>(InstanceAction::kTerminate),
                            false, "Client.UserInitiatedShutdown"));
  v1::TerminateInstancesResponse response;
  for (auto& c : changes) *response.add_terminating_instances() = std::move(c);
  return response;
}

absl::Status Instances::TerminateForGroup(const std::string& instance_id) {
  google::protobuf::RepeatedPtrField<std::string> ids;
  {
    absl::MutexLock lock(&mu_);
    auto it = entries_.find(instance_id);
    if (it == entries_.end()) return absl::OkStatus();
    InstanceStateName state = it->second.record.instance().state().name();
    if (state == v1::INSTANCE_STATE_NAME_SHUTTING_DOWN ||
        state == v1::INSTANCE_STATE_NAME_TERMINATED) {
      return absl::OkStatus();
    }
  }
  ids.Add()->assign(instance_id);
  auto changes =
      Apply(ids, static_cast<int>(InstanceAction::kTerminate), false, "Service.AutoScaling");
  if (!changes.ok() && changes.status().code() != absl::StatusCode::kNotFound) {
    return changes.status();
  }
  return absl::OkStatus();
}

}  // namespace thingtank::compute
