#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "thingtank/compute/v1/compute.pb.h"

namespace thingtank::compute {

// The EC2 instance state machine:
//
//   pending -> running -> stopping -> stopped -> pending -> ...
//   pending | running | stopping | stopped -> shutting-down -> terminated
//
// pending, stopping and shutting-down end on their own after a delay (the
// scheduler's timers); the rest are what callers ask for. EC2's answers:
//   Start      stopped: -> pending; pending, running: no change;
//              stopping, shutting-down, terminated: IncorrectInstanceState.
//   Stop       running: -> stopping; stopping, stopped: no change;
//              pending, shutting-down, terminated: IncorrectInstanceState.
//   Reboot     running: reboots (stays running); else IncorrectInstanceState.
//   Terminate  pending, running, stopping, stopped: -> shutting-down;
//              shutting-down, terminated: no change.
enum class InstanceAction { kStart, kStop, kReboot, kTerminate };

// EC2's code (0, 16, 32, 48, 64, 80) and text ("shutting-down") of a state.
int32_t StateCode(v1::InstanceStateName name);
const char* StateText(v1::InstanceStateName name);
v1::InstanceState MakeState(v1::InstanceStateName name);
// "pending" -> PENDING; UNSPECIFIED when unknown.
v1::InstanceStateName StateFromText(const std::string& text);
const char* ActionName(InstanceAction action);

// The state `action` leads to from `current` (equal to `current` when it
// changes nothing), or IncorrectInstanceState naming `instance_id`.
absl::StatusOr<v1::InstanceStateName> NextState(InstanceAction action,
                                                v1::InstanceStateName current,
                                                const std::string& instance_id);

// The state a timed transition ends in (pending -> running, stopping ->
// stopped, shutting-down -> terminated); UNSPECIFIED for the others.
v1::InstanceStateName SettledState(v1::InstanceStateName transitional);

}  // namespace thingtank::compute
