#pragma once

// Shared by the autoscaling_*.cc files; not an interface.

#include <cstdint>
#include <set>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace thingtank::compute::autoscaling_internal {

inline constexpr char kFamily[] = "autoscaling";

// Lifecycle states of a group's instance.
inline constexpr char kPending[] = "Pending";
inline constexpr char kPendingWait[] = "Pending:Wait";
inline constexpr char kInService[] = "InService";
inline constexpr char kTerminatingWait[] = "Terminating:Wait";
inline constexpr char kTerminating[] = "Terminating";
inline constexpr char kLaunching[] = "autoscaling:EC2_INSTANCE_LAUNCHING";
inline constexpr char kTerminatingTransition[] = "autoscaling:EC2_INSTANCE_TERMINATING";

// Leaving the group: Terminating:Wait or Terminating (not counted in its capacity).
inline bool Leaving(const std::string& lifecycle_state) {
  return lifecycle_state.rfind(kTerminating, 0) == 0;
}

// INVALID_ARGUMENT, ErrorInfo reason ValidationError, BadRequest `field`.
absl::Status ValidationError(const std::string& field, const std::string& message);
// FAILED_PRECONDITION, ErrorInfo reason ScalingActivityInProgress.
absl::Status ScalingInProgress(const std::string& message);

// Keys of the "autoscaling" family: lc/<name>, g/<group>, m/<group>/<instance>,
// p/<group>/<policy>, a/<group>/<start, newest first>/<sequence, newest first>/<activity id>.
std::string GroupKey(const std::string& group);
std::string MemberKey(const std::string& group, const std::string& instance_id);
std::string PolicyKey(const std::string& group, const std::string& policy);
std::string ActivityKey(const std::string& group, absl::Time start, uint64_t sequence,
                        const std::string& id);

// A page of a Describe call: max_records 1..100 (0: `default_size`), the
// token an offset.
struct Page {
  int32_t size = 0;
  int64_t offset = 0;
};
absl::StatusOr<Page> ParsePage(int32_t max_records, const std::string& next_token,
                               int32_t default_size);

// Walks `by_name` (a map by name) in order, skipping names not in `wanted`
// (all when empty) and the page's offset, calling `add(value)` for up to
// page.size entries; returns the next page's token, empty on the last.
template <typename Map, typename Add>
std::string PageOver(const Map& by_name, const std::set<std::string>& wanted, const Page& page,
                     Add add) {
  int64_t index = 0, added = 0;
  for (const auto& [name, value] : by_name) {
    if (!wanted.empty() && wanted.count(name) == 0) continue;
    if (index++ < page.offset) continue;
    if (added == page.size) return std::to_string(index - 1);
    add(value);
    ++added;
  }
  return "";
}

}  // namespace thingtank::compute::autoscaling_internal
