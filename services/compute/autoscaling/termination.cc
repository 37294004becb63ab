#include "services/compute/autoscaling/termination.h"

#include <algorithm>
#include <functional>
#include <set>

namespace thingtank::compute {
namespace {

using Candidates = std::vector<TerminationCandidate>;

// Keeps the candidates with the smallest `key`.
Candidates KeepMin(const Candidates& in, const std::function<double(const TerminationCandidate&)>& key) {
  double best = 0;
  bool first = true;
  for (const auto& c : in) {
    double k = key(c);
    if (first || k < best) best = k;
    first = false;
  }
  Candidates out;
  for (const auto& c : in) {
    if (key(c) == best) out.push_back(c);
  }
  return out;
}

Candidates Apply(const std::string& policy, const Candidates& in,
                 const std::map<std::string, absl::Time>& config_created, absl::Time now) {
  if (policy == "OldestInstance") {
    return KeepMin(in, [](const auto& c) { return absl::ToDoubleSeconds(c.launched - absl::UnixEpoch()); });
  }
  if (policy == "NewestInstance") {
    return KeepMin(in, [](const auto& c) { return -absl::ToDoubleSeconds(c.launched - absl::UnixEpoch()); });
  }
  if (policy == "OldestLaunchConfiguration") {
    return KeepMin(in, [&](const auto& c) {
      auto it = config_created.find(c.launch_configuration);
      return it == config_created.end() ? -1e18 : absl::ToDoubleSeconds(it->second - absl::UnixEpoch());
    });
  }
  if (policy == "ClosestToNextInstanceHour") {
    return KeepMin(in, [&](const auto& c) {
      int64_t age = absl::ToInt64Seconds(now - c.launched);
      return static_cast<double>(3600 - ((age % 3600) + 3600) % 3600);
    });
  }
  if (policy == "Default") {
    return Apply("ClosestToNextInstanceHour",
                 Apply("OldestLaunchConfiguration", in, config_created, now), config_created, now);
  }
  return in;
}

}  // namespace

bool IsTerminationPolicy(const std::string& name) {
  static const std::set<std::string> kPolicies = {"Default", "OldestInstance", "NewestInstance",
                                                  "OldestLaunchConfiguration",
                                                  "ClosestToNextInstanceHour"};
  return kPolicies.count(name) > 0;
}

std::string PickForTermination(const std::vector<TerminationCandidate>& candidates,
                               const std::vector<std::string>& policies,
                               const std::map<std::string, absl::Time>& config_created,
                               absl::Time now) {
  std::map<std::string, int> per_zone;
  for (const auto& c : candidates) per_zone[c.zone] += 1;
  std::string zone;
  int most = -1;
  for (const auto& [z, n] : per_zone) {
    if (n > most) {
      most = n;
      zone = z;
    }
  }
  Candidates left;
  for (const auto& c : candidates) {
    if (c.zone == zone) left.push_back(c);
  }
  std::vector<std::string> order = policies.empty() ? std::vector<std::string>{"Default"} : policies;
  for (const auto& policy : order) {
    if (left.size() <= 1) break;
    left = Apply(policy, left, config_created, now);
  }
  return std::min_element(left.begin(), left.end(),
                          [](const auto& a, const auto& b) { return a.instance_id < b.instance_id; })
      ->instance_id;
}

}  // namespace thingtank::compute
