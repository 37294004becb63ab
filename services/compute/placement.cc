#include "services/compute/placement.h"

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "services/common/status.h"

namespace thingtank::compute {
namespace {

std::string HostId(int zone, int index) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "h-0%08x%08x", 0x5a000000u + static_cast<unsigned>(zone),
                static_cast<unsigned>(index));
  return buf;
}

}  // namespace

Placement::Placement(PlacementOptions options) : options_(std::move(options)) {
  free_.resize(options_.zones.size());
  for (size_t z = 0; z < options_.zones.size(); ++z) {
    zone_index_[options_.zones[z]] = static_cast<int>(z);
    for (int h = 0; h < options_.hosts_per_zone; ++h) {
      Host host;
      host.id = HostId(static_cast<int>(z), h);
      host.zone = static_cast<int>(z);
      host.free_vcpus = options_.host_vcpus;
      host.free_memory_mib = options_.host_memory_mib;
      int index = static_cast<int>(hosts_.size());
      host_index_[host.id] = index;
      free_[z].insert({host.free_vcpus, host.free_memory_mib, index});
      hosts_.push_back(std::move(host));
    }
  }
}

void Placement::Take(int index, const std::string& instance_id, const InstanceType& type) {
  Host& host = hosts_[index];
  free_[host.zone].erase({host.free_vcpus, host.free_memory_mib, index});
  host.free_vcpus -= type.vcpus;
  host.free_memory_mib -= type.memory_mib;
  host.instances.insert(instance_id);
  free_[host.zone].insert({host.free_vcpus, host.free_memory_mib, index});
  placed_[instance_id] = Placed{index, type.vcpus, type.memory_mib};
}

absl::StatusOr<std::string> Placement::Place(const std::string& zone,
                                             const std::string& instance_id,
                                             const InstanceType& type) {
  auto z = zone_index_.find(zone);
  if (z == zone_index_.end()) {
    return InvalidField("availability_zone", absl::StrCat("unknown availability zone ", zone),
                        "InvalidParameterValue");
  }
  if (placed_.count(instance_id) > 0) return hosts_[placed_[instance_id].host].id;
  const FreeSet& free = free_[z->second];
  for (auto it = free.lower_bound({type.vcpus, 0, -1}); it != free.end(); ++it) {
    if (std::get<1>(*it) < type.memory_mib) continue;
    int index = std::get<2>(*it);
    Take(index, instance_id, type);
    return hosts_[index].id;
  }
  return ErrorWithReason(absl::StatusCode::kResourceExhausted, "InsufficientInstanceCapacity",
                         absl::StrCat("We currently do not have sufficient ", type.name,
                                      " capacity in the Availability Zone you requested (", zone,
                                      ")."));
}

absl::Status Placement::Restore(const std::string& host_id, const std::string& instance_id,
                                const InstanceType& type) {
  auto h = host_index_.find(host_id);
  if (h == host_index_.end()) {
    return absl::FailedPreconditionError(
        absl::StrCat("instance ", instance_id, " is stored on host ", host_id,
                     " which this configuration does not have"));
  }
  if (placed_.count(instance_id) == 0) Take(h->second, instance_id, type);
  return absl::OkStatus();
}

void Placement::Release(const std::string& instance_id) {
  auto p = placed_.find(instance_id);
  if (p == placed_.end()) return;
  Host& host = hosts_[p->second.host];
  free_[host.zone].erase({host.free_vcpus, host.free_memory_mib, p->second.host});
  host.free_vcpus += p->second.vcpus;
  host.free_memory_mib += p->second.memory_mib;
  host.instances.erase(instance_id);
  free_[host.zone].insert({host.free_vcpus, host.free_memory_mib, p->second.host});
  placed_.erase(p);
}

int64_t Placement::Fits(const std::string& zone, const InstanceType& type) const {
  auto z = zone_index_.find(zone);
  if (z == zone_index_.end() || type.vcpus <= 0 || type.memory_mib <= 0) return 0;
  int64_t n = 0;
  for (const auto& [vcpus, memory, index] : free_[z->second]) {
    n += std::min<int64_t>(vcpus / type.vcpus, memory / type.memory_mib);
  }
  return n;
}

std::string Placement::LeastLoadedZone(const InstanceType& type, int64_t count) const {
  std::string best;
  int64_t best_free = -1;
  for (const auto& zone : options_.zones) {
    if (Fits(zone, type) < count) continue;
    int64_t free = 0;
    for (const auto& entry : free_[zone_index_.at(zone)]) free += std::get<0>(entry);
    if (free > best_free) {
      best_free = free;
      best = zone;
    }
  }
  return best;
}

std::vector<v1::Host> Placement::Describe(const std::string& zone) const {
  std::vector<v1::Host> out;
  for (const Host& host : hosts_) {
    const std::string& host_zone = options_.zones[host.zone];
    if (!zone.empty() && host_zone != zone) continue;
    v1::Host h;
    h.set_host_id(host.id);
    h.set_availability_zone(host_zone);
    h.set_total_vcpus(options_.host_vcpus);
    h.set_total_memory_mib(options_.host_memory_mib);
    h.set_used_vcpus(options_.host_vcpus - host.free_vcpus);
    h.set_used_memory_mib(options_.host_memory_mib - host.free_memory_mib);
    for (const auto& id : host.instances) h.add_instance_ids(id);
    out.push_back(std::move(h));
  }
  return out;
}

std::vector<Placement::Utilization> Placement::ZoneUtilization() const {
  std::vector<Utilization> out(options_.zones.size());
  for (size_t z = 0; z < out.size(); ++z) out[z].zone = options_.zones[z];
  for (const Host& host : hosts_) {
    Utilization& u = out[host.zone];
    u.total_vcpus += options_.host_vcpus;
    u.used_vcpus += options_.host_vcpus - host.free_vcpus;
    u.total_memory_mib += options_.host_memory_mib;
    u.used_memory_mib += options_.host_memory_mib - host.free_memory_mib;
  }
  return out;
}

}  // namespace thingtank::compute
