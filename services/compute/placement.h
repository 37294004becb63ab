#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "services/compute/instance_types.h"
#include "thingtank/compute/v1/compute.pb.h"

namespace thingtank::compute {

struct PlacementOptions {
  // The availability zones, in the order DescribeAvailabilityZones lists them.
  std::vector<std::string> zones = {"us-east-1a", "us-east-1b", "us-east-1c",
                                    "us-east-1d", "us-east-1e", "us-east-1f"};
  int hosts_per_zone = 4;
  // Capacity of every host (the size of an r5.metal).
  int32_t host_vcpus = 96;
  int64_t host_memory_mib = 786432;
};

// Hosts of the availability zones and what is placed on them.
//
// Policy: best fit within a zone — an instance goes on the host with the
// fewest free vCPUs (then the least free memory) that still has room for its
// type, so large holes stay for large types. Which zone is the caller's
// choice (the scheduler spreads a group across its zones; see
// LeastLoadedZone for launches without a zone). An instance holds its host's
// capacity while pending, running, stopping or shutting-down; Release gives
// it back. Not thread-safe: the scheduler locks around it. Placement costs
// O(log hosts) plus the hosts skipped for lack of memory.
class Placement {
 public:
  explicit Placement(PlacementOptions options);

  const std::vector<std::string>& zones() const { return options_.zones; }
  bool HasZone(const std::string& zone) const { return zone_index_.count(zone) > 0; }

  // Places `instance_id` in `zone`; returns its host id, or
  // InsufficientInstanceCapacity naming the zone and type.
  absl::StatusOr<std::string> Place(const std::string& zone, const std::string& instance_id,
                                    const InstanceType& type);
  // Puts an instance back on the host it had (loading stored instances).
  absl::Status Restore(const std::string& host_id, const std::string& instance_id,
                       const InstanceType& type);
  // Frees the instance's capacity; no-op if it holds none.
  void Release(const std::string& instance_id);
  // How many instances of `type` fit in `zone` now.
  int64_t Fits(const std::string& zone, const InstanceType& type) const;
  // The zone with the most free vCPUs that fits at least `count` of `type`;
  // empty if none does.
  std::string LeastLoadedZone(const InstanceType& type, int64_t count) const;

  // Hosts of `zone` (all zones when empty), by zone then host id.
  std::vector<v1::Host> Describe(const std::string& zone) const;
  struct Utilization {
    std::string zone;
    int32_t total_vcpus = 0, used_vcpus = 0;
    int64_t total_memory_mib = 0, used_memory_mib = 0;
  };
  std::vector<Utilization> ZoneUtilization() const;

 private:
  struct Host {
    std::string id;
    int zone = 0;
    int32_t free_vcpus = 0;
    int64_t free_memory_mib = 0;
    std::set<std::string> instances;
  };
  // Per zone: (free vCPUs, free memory, host index), smallest first.
  using FreeSet = std::set<std::tuple<int32_t, int64_t, int>>;
  struct Placed {
    int host = 0;
    int32_t vcpus = 0;
    int64_t memory_mib = 0;
  };

  void Take(int host, const std::string& instance_id, const InstanceType& type);

  PlacementOptions options_;
  std::map<std::string, int> zone_index_;
  std::map<std::string, int> host_index_;
  std::vector<Host> hosts_;
  std::vector<FreeSet> free_;
  std::map<std::string, Placed> placed_;
};

}  // namespace thingtank::compute
