#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace thingtank::compute {

// An instance that scale-in may terminate (not protected, not terminating).
struct TerminationCandidate {
  std::string instance_id;
  std::string zone;
  std::string launch_configuration;
  absl::Time launched;
};

// The termination policies of EC2 Auto Scaling.
bool IsTerminationPolicy(const std::string& name);

// The instance to terminate, as EC2 Auto Scaling picks it: first the zone
// with the most candidates (keeping zones balanced; ties by zone name), then
// each policy in order narrows the candidates of that zone:
//   OldestInstance / NewestInstance: the earliest / latest launched;
//   OldestLaunchConfiguration: launched from the oldest configuration (one
//     that no longer exists counts as oldest);
//   ClosestToNextInstanceHour: the nearest to a full hour since launch;
//   Default: OldestLaunchConfiguration, then ClosestToNextInstanceHour.
// What ties after the policies, the smallest instance id (AWS picks at random).
// `candidates` must not be empty; `config_created` gives each launch
// configuration's creation time.
std::string PickForTermination(const std::vector<TerminationCandidate>& candidates,
                               const std::vector<std::string>& policies,
                               const std::map<std::string, absl::Time>& config_created,
                               absl::Time now);

}  // namespace thingtank::compute
