#include "services/compute/instance_state.h"

#include "absl/strings/str_cat.h"
#include "services/common/status.h"

namespace thingtank::compute {

using v1::InstanceStateName;

int32_t StateCode(InstanceStateName name) {
  switch (name) {
    case v1::INSTANCE_STATE_NAME_PENDING: return 0;
    case v1::INSTANCE_STATE_NAME_RUNNING: return 16;
    case v1::INSTANCE_STATE_NAME_SHUTTING_DOWN: return 32;
    case v1::INSTANCE_STATE_NAME_TERMINATED: return 48;
    case v1::INSTANCE_STATE_NAME_STOPPING: return 64;
    case v1::INSTANCE_STATE_NAME_STOPPED: return 80;
    default: return -1;
  }
}

const char* StateText(InstanceStateName name) {
  switch (name) {
    case v1::INSTANCE_STATE_NAME_PENDING: return "pending";
    case v1::INSTANCE_STATE_NAME_RUNNING: return "running";
    case v1::INSTANCE_STATE_NAME_SHUTTING_DOWN: return "shutting-down";
    case v1::INSTANCE_STATE_NAME_TERMINATED: return "terminated";
    case v1::INSTANCE_STATE_NAME_STOPPING: return "stopping";
    case v1::INSTANCE_STATE_NAME_STOPPED: return "stopped";
    default: return "";
  }
}

v1::InstanceState MakeState(InstanceStateName name) {
  v1::InstanceState state;
  state.set_code(StateCode(name));
  state.set_name(name);
  state.set_text(StateText(name));
  return state;
}

InstanceStateName StateFromText(const std::string& text) {
  for (int n = v1::INSTANCE_STATE_NAME_PENDING; n <= v1::INSTANCE_STATE_NAME_STOPPED; ++n) {
    if (text == StateText(static_cast<InstanceStateName>(n))) {
      return static_cast<InstanceStateName>(n);
    }
  }
  return v1::INSTANCE_STATE_NAME_UNSPECIFIED;
}

const char* ActionName(InstanceAction action) {
  switch (action) {
    case InstanceAction::kStart: return "started";
    case InstanceAction::kStop: return "stopped";
    case InstanceAction::kReboot: return "rebooted";
    case InstanceAction::kTerminate: return "terminated";
  }
  return "";
}

absl::StatusOr<InstanceStateName> NextState(InstanceAction action, InstanceStateName current,
                                            const std::string& instance_id) {
  auto incorrect = [&] {
    return ErrorWithReason(
        absl::StatusCode::kFailedPrecondition, "IncorrectInstanceState",
        absl::StrCat("The instance '", instance_id, "' is not in a state from which it can be ",
                     ActionName(action), " (it is ", StateText(current), ")."),
        {{"instance_id", instance_id}, {"state", StateText(current)}});
  };
  switch (action) {
    case InstanceAction::kStart:
      if (current == v1::INSTANCE_STATE_NAME_STOPPED) return v1::INSTANCE_STATE_NAME_PENDING;
      if (current == v1::INSTANCE_STATE_NAME_PENDING || current == v1::INSTANCE_STATE_NAME_RUNNING) {
        return current;
      }
      return incorrect();
    case InstanceAction::kStop:
      if (current == v1::INSTANCE_STATE_NAME_RUNNING) return v1::INSTANCE_STATE_NAME_STOPPING;
      if (current == v1::INSTANCE_STATE_NAME_STOPPING || current == v1::INSTANCE_STATE_NAME_STOPPED) {
        return current;
      }
      return incorrect();
    case InstanceAction::kReboot:
      if (current == v1::INSTANCE_STATE_NAME_RUNNING) return current;
      return incorrect();
    case InstanceAction::kTerminate:
      if (current == v1::INSTANCE_STATE_NAME_SHUTTING_DOWN ||
          current == v1::INSTANCE_STATE_NAME_TERMINATED) {
        return current;
      }
      if (current == v1::INSTANCE_STATE_NAME_UNSPECIFIED) return incorrect();
      return v1::INSTANCE_STATE_NAME_SHUTTING_DOWN;
  }
  return incorrect();
}

InstanceStateName SettledState(InstanceStateName transitional) {
  switch (transitional) {
    case v1::INSTANCE_STATE_NAME_PENDING: return v1::INSTANCE_STATE_NAME_RUNNING;
    case v1::INSTANCE_STATE_NAME_STOPPING: return v1::INSTANCE_STATE_NAME_STOPPED;
    case v1::INSTANCE_STATE_NAME_SHUTTING_DOWN: return v1::INSTANCE_STATE_NAME_TERMINATED;
    default: return v1::INSTANCE_STATE_NAME_UNSPECIFIED;
  }
}

}  // namespace thingtank::compute
