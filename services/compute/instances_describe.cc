// The reading side of the EC2 scheduler: DescribeInstances and its filters,
// instance types, zones and hosts, load models, CPU samples and counts.
#include <algorithm>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "services/common/status.h"
#include "services/compute/drivers/simulated_driver.h"
#include "services/compute/instance_types.h"
#include "services/compute/instances.h"

namespace thingtank::compute {
namespace {

using v1::Instance;

bool MatchesFilter(const Instance& instance, const v1::Filter& filter) {
  auto any = [&](const std::string& value) {
    return std::find(filter.values().begin(), filter.values().end(), value) != filter.values().end();
  };
  const std::string& name = filter.name();
  if (name == "instance-state-name") return any(instance.state().text());
  if (name == "instance-state-code") return any(absl::StrCat(instance.state().code()));
  if (name == "instance-type") return any(instance.instance_type());
  if (name == "availability-zone") return any(instance.availability_zone());
  if (name == "image-id") return any(instance.image_id());
  if (name == "instance-id") return any(instance.instance_id());
  if (name == "reservation-id") return any(instance.reservation_id());
  if (name == "key-name") return any(instance.key_name());
  if (name == "host-id") return any(instance.host_id());
  if (name == "auto-scaling-group") return any(instance.auto_scaling_group_name());
  if (name == "tag-key") {
    return std::any_of(instance.tags().begin(), instance.tags().end(),
                       [&](const v1::Tag& t) { return any(t.key()); });
  }
  if (absl::StartsWith(name, "tag:")) {
    std::string key = name.substr(4);
    return std::any_of(instance.tags().begin(), instance.tags().end(),
                       [&](const v1::Tag& t) { return t.key() == key && any(t.value()); });
  }
  return false;
}

bool KnownFilter(const std::string& name) {
  static const std::set<std::string> kNames = {
      "instance-state-name", "instance-state-code", "instance-type", "availability-zone",
      "image-id",            "instance-id",         "reservation-id", "key-name",
      "host-id",             "auto-scaling-group",  "tag-key"};
  return kNames.count(name) > 0 || (absl::StartsWith(name, "tag:") && name.size() > 4);
}

}  // namespace

absl::StatusOr<v1::DescribeInstancesResponse> Instances::DescribeInstances(
    const v1::DescribeInstancesRequest& request) const {
  if (request.max_results() != 0 && (request.max_results() < 5 || request.max_results() > 1000)) {
    return InvalidField("max_results", "must be 5 to 1000");
  }
  for (int i = 0; i < request.filters().size(); ++i) {
    if (!KnownFilter(request.filters(i).name())) {
      return InvalidField(absl::StrCat("filters[", i, "].name"),
                          absl::StrCat("The filter '", request.filters(i).name(), "' is invalid"));
    }
  }
  uint64_t start = 0;
  if (!request.next_token().empty() && !absl::SimpleAtoi(request.next_token(), &start)) {
    return InvalidField("next_token", "is not a token this server gave", "InvalidParameterValue");
  }
  v1::DescribeInstancesResponse response;
  absl::ReaderMutexLock lock(&mu_);
  std::set<std::string> wanted;
  if (!request.instance_ids().empty()) {
    TT_RETURN_IF_ERROR(CheckIds(request.instance_ids()));
    wanted.insert(request.instance_ids().begin(), request.instance_ids().end());
  }
  const size_t limit = request.max_results() == 0 ? SIZE_MAX : request.max_results();
  for (auto it = by_sequence_.lower_bound(start); it != by_sequence_.end(); ++it) {
    const Instance& instance = entries_.at(it->second).record.instance();
    if (!wanted.empty() && wanted.count(instance.instance_id()) == 0) continue;
    bool match = std::all_of(request.filters().begin(), request.filters().end(),
                             [&](const v1::Filter& f) { return MatchesFilter(instance, f); });
    if (!match) continue;
    if (static_cast<size_t>(response.instances_size()) == limit) {
      response.set_next_token(absl::StrCat(it->first));
      break;
    }
    *response.add_instances() = instance;
  }
  return response;
}

absl::StatusOr<v1::DescribeInstanceTypesResponse> Instances::DescribeInstanceTypes(
    const v1::DescribeInstanceTypesRequest& request) const {
  v1::DescribeInstanceTypesResponse response;
  auto add = [&](const InstanceType& type) {
    v1::InstanceTypeInfo* info = response.add_instance_types();
    info->set_instance_type(type.name);
    info->set_vcpus(type.vcpus);
    info->set_memory_mib(type.memory_mib);
    info->set_burstable(type.burstable);
    info->set_current_generation(type.current_generation);
  };
  if (request.instance_types().empty()) {
    for (const InstanceType& type : InstanceTypes()) add(type);
    return response;
  }
  for (int i = 0; i < request.instance_types().size(); ++i) {
    const InstanceType* type = FindInstanceType(request.instance_types(i));
    if (type == nullptr) {
      return InvalidField(absl::StrCat("instance_types[", i, "]"),
                          absl::StrCat("The following supplied instance types do not exist: [",
                                       request.instance_types(i), "]"),
                          "InvalidInstanceType");
    }
    add(*type);
  }
  return response;
}

absl::StatusOr<v1::DescribeAvailabilityZonesResponse> Instances::DescribeAvailabilityZones(
    const v1::DescribeAvailabilityZonesRequest&) const {
  v1::DescribeAvailabilityZonesResponse response;
  for (const std::string& zone : options_.placement.zones) {
    v1::AvailabilityZone* z = response.add_availability_zones();
    z->set_zone_name(zone);
    z->set_state("available");
    z->set_region_name(options_.region);
  }
  return response;
}

absl::StatusOr<v1::DescribeHostsResponse> Instances::DescribeHosts(
    const v1::DescribeHostsRequest& request) const {
  absl::ReaderMutexLock lock(&mu_);
  if (!request.availability_zone().empty() && !placement_.HasZone(request.availability_zone())) {
    return InvalidField("availability_zone",
                        absl::StrCat("Invalid availability zone: [", request.availability_zone(), "]"));
  }
  v1::DescribeHostsResponse response;
  for (auto& host : placement_.Describe(request.availability_zone())) {
    *response.add_hosts() = std::move(host);
  }
  return response;
}

absl::StatusOr<v1::SetInstanceLoadResponse> Instances::SetInstanceLoad(
    const v1::SetInstanceLoadRequest& request) {
  TT_RETURN_IF_ERROR(ValidateLoad(request.load(), "load"));
  v1::SetInstanceLoadResponse response;
  absl::MutexLock lock(&mu_);
  TT_RETURN_IF_ERROR(CheckIds(request.instance_ids()));
  std::vector<Entry*> touched;
  for (int i = 0; i < request.instance_ids().size(); ++i) {
    Entry& entry = entries_.at(request.instance_ids(i));
    if (entry.record.instance().driver() == v1::DRIVER_PROCESS) {
      return InvalidField(absl::StrCat("instance_ids[", i, "]"),
                          absl::StrCat("instance ", request.instance_ids(i),
                                       " runs a process: its CPU is what the process uses"),
                          "UnsupportedOperation");
    }
    touched.push_back(&entry);
  }
  std::vector<Entry> updated;
  for (Entry* entry : touched) {
    updated.push_back(*entry);
    *updated.back().record.mutable_instance()->mutable_load() = request.load();
  }
  std::vector<const Entry*> to_store;
  for (const Entry& e : updated) to_store.push_back(&e);
  TT_RETURN_IF_ERROR(Store(to_store, {}));
  for (Entry* entry : touched) {
    *entry->record.mutable_instance()->mutable_load() = request.load();
    response.add_instance_ids(entry->record.instance().instance_id());
  }
  return response;
}

std::optional<v1::Instance> Instances::FindByClientToken(const std::string& client_token) const {
  absl::ReaderMutexLock lock(&mu_);
  auto known = by_token_.find(client_token);
  if (known == by_token_.end()) return std::nullopt;
  for (const auto& [id, entry] : entries_) {
    if (entry.record.client_token() == client_token) return entry.record.instance();
  }
  return std::nullopt;
}

std::optional<v1::Instance> Instances::Find(const std::string& instance_id) const {
  absl::ReaderMutexLock lock(&mu_);
  auto it = entries_.find(instance_id);
  if (it == entries_.end()) return std::nullopt;
  return it->second.record.instance();
}

bool Instances::Healthy(const std::string& instance_id) const {
  std::optional<Instance> instance = Find(instance_id);
  if (!instance) return false;
  InstanceDriver* driver = DriverOf(*instance);
  return driver == nullptr || driver->Healthy(instance_id);
}

void Instances::SampleCpu(absl::Time now) {
  absl::MutexLock lock(&mu_);
  // Queue-depth loads share their queue's backlog among the instances that follow it.
  std::map<std::string, int> sharing;
  for (const auto& [id, entry] : entries_) {
    const Instance& instance = entry.record.instance();
    if (instance.state().name() == v1::INSTANCE_STATE_NAME_RUNNING &&
        instance.driver() != v1::DRIVER_PROCESS && instance.load().has_queue_depth()) {
      sharing[instance.load().queue_depth().queue_name()] += 1;
    }
  }
  drivers_.simulated->SetSharing(std::move(sharing));
  for (auto& [id, entry] : entries_) {
    Instance* instance = entry.record.mutable_instance();
    if (instance->state().name() != v1::INSTANCE_STATE_NAME_RUNNING) continue;
    InstanceDriver* driver = DriverOf(*instance);
    double cpu = driver == nullptr ? 0 : driver->CpuUtilization(*instance, now);
    instance->set_cpu_utilization(cpu);
    if (driver != nullptr && !driver->Healthy(id)) instance->set_instance_status("impaired");
    entry.cpu_sum += cpu;
    entry.cpu_samples += 1;
  }
}

std::vector<CpuAverage> Instances::TakeCpuAverages() {
  std::vector<CpuAverage> out;
  absl::MutexLock lock(&mu_);
  for (auto& [id, entry] : entries_) {
    if (entry.cpu_samples == 0) continue;
    out.push_back({id, entry.record.instance().auto_scaling_group_name(), entry.cpu_sum / entry.cpu_samples});
    entry.cpu_sum = 0;
    entry.cpu_samples = 0;
  }
  return out;
}

InstanceCounts Instances::Counts() const {
  InstanceCounts counts;
  absl::ReaderMutexLock lock(&mu_);
  for (const auto& [id, entry] : entries_) {
    const Instance& instance = entry.record.instance();
    counts.by_state_and_type[{instance.state().text(), instance.instance_type()}] += 1;
  }
  counts.zones = placement_.ZoneUtilization();
  return counts;
}

}  // namespace thingtank::compute
