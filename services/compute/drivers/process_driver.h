#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "services/compute/drivers/driver.h"
#include "thingtank/compute/v1/compute.pb.h"

namespace thingtank::compute {

// What an image of the operator's images file runs: the program (argv[0], an
// absolute path) with its arguments, and extra environment variables.
struct ImageCommand {
  std::vector<std::string> argv;
  std::map<std::string, std::string> env;
};

// Reads the operator's images file, JSON:
//
//   {"images": {"ami-worker": {"command": ["/usr/bin/python3", "/opt/worker.py"],
//                              "env": {"QUEUE": "jobs"}}}}
//
// `command` is required: a non-empty array of strings whose first element is
// an absolute path (relative paths are rejected, not resolved: the server's
// working directory is no place to look for programs). `env` is optional: an
// object of strings; names are non-empty, without '=' and not THINGTANK_*
// (the driver sets those). No string may hold a NUL. Unknown keys are errors
// (a misspelt "comand" should not pass silently). Errors are INVALID_ARGUMENT
// naming the JSON path as the field ("images.ami-worker.command[0]") and the
// file in the message; a file that cannot be read is NOT_FOUND or
// FAILED_PRECONDITION.
absl::StatusOr<std::map<std::string, ImageCommand>> ParseImagesFile(const std::string& path);

// Runs each instance as a real child process (its own process group) from
// the image's command. Instance `i-...` lives in `<root>/i-.../`: its working
// directory, holding `user-data` (the raw bytes), `console.log` (stdout and
// stderr, appended across starts, like EC2's console output; never rotated)
// and `pgid` (the process group). Children outlive a crashed server; a Start
// first SIGKILLs the group `pgid` names if that group's leader still carries
// this instance's THINGTANK_INSTANCE_ID (and is not this driver's own).
//
// The child gets no shell and none of the server's environment except PATH
// and HOME; it gets the image's env (which may override PATH and HOME) and
//   THINGTANK_INSTANCE_ID, THINGTANK_IMAGE_ID, THINGTANK_INSTANCE_TYPE,
//   THINGTANK_AVAILABILITY_ZONE, THINGTANK_PRIVATE_IP,
//   THINGTANK_USER_DATA       the user data as is when it is valid UTF-8
//                             without NUL, else its base64 with
//   THINGTANK_USER_DATA_BASE64=1 (unset otherwise),
//   THINGTANK_USER_DATA_FILE  the absolute path of `user-data`.
// stdin is /dev/null; no other descriptor of the server is inherited; signal
// dispositions and the signal mask are reset to the defaults.
//
// User data: v1::Instance does not carry it, so the scheduler hands it over
// first. The call order, from the thread making the driver call:
//   SetUserData(id, record.user_data());  Start(instance);
// before every Start (a launch, a start after a stop, a start after the
// server restarted). The data is kept while the instance runs (Restart reuses
// it) and dropped by Stop. Start without SetUserData runs with empty user data.
// A Start that fails leaves the instance unhealthy (until Stop or a Start
// that works), so a running instance without its process shows "impaired".
//
// Stop(id, force) sends SIGTERM to the group and SIGKILL after the grace
// period (real time: processes are real) if its leader has not exited; force
// sends SIGKILL at once. Stop never blocks: one reaper thread, owned by the
// driver, polls every 50 ms, sends the late SIGKILLs and reaps. Once a
// group's leader exits (asked or not), what remains of its group is killed.
// A process that exits without being asked makes Healthy false (EC2's
// "impaired") until the instance is started or restarted again.
// Restart is a reboot: SIGTERM as Stop, and the command starts again (same
// directory, same user data) once the old leader has exited or was killed,
// so the two never overlap; a start that then fails makes Healthy false.
// A Start right after a Stop does not wait: the stopping group may still be
// in its grace period.
//
// CpuUtilization: the CPU time of the process group (its live members and
// the children they reaped) between two calls, over the real (monotonic)
// time between them, as a percentage of the instance's vcpus (a one-thread
// busy loop on a 2-vCPU type reads 50 %, as on EC2), clipped to 0..100. The
// first call measures from the spawn. `now` (the scheduler's clock, perhaps
// scaled) is not used. /proc is scanned at most once per 100 ms for all
// instances (SampleCpu calls this for each running instance in a row).
//
// Thread-safe. The destructor SIGKILLs every group, reaps every leader and
// joins the reaper thread. The driver reaps only its own children; nothing
// else in the server may wait for them (waitpid(-1), SIGCHLD ignored).
class ProcessDriver final : public InstanceDriver {
 public:
  ProcessDriver(std::map<std::string, ImageCommand> images, std::string root,
                absl::Duration grace = absl::Seconds(10));
  ~ProcessDriver() override;
  ProcessDriver(const ProcessDriver&) = delete;
  ProcessDriver& operator=(const ProcessDriver&) = delete;

  // Whether `image_id` is in the images file (for RunInstances validation).
  bool HasImage(const std::string& image_id) const override { return images_.count(image_id) > 0; }
  // The user data the next Start of `instance_id` writes and passes on.
  void SetUserData(const std::string& instance_id, std::string data) override;

  // NOT_FOUND (InvalidAMIID.NotFound) for an image not in the images file,
  // INVALID_ARGUMENT for an instance id unfit for a directory name, the
  // errno's code when the directory, the file or the spawn fails. A Start of
  // an instance whose process runs is a no-op.
  absl::Status Start(const v1::Instance& instance) override;
  void Stop(const std::string& instance_id, bool force) override;
  absl::Status Restart(const v1::Instance& instance) override;
  double CpuUtilization(const v1::Instance& instance, absl::Time now) override;
  bool Healthy(const std::string& instance_id) override;

  // The process group (= leader pid) running `instance_id`, 0 if none.
  // For tests and diagnostics.
  pid_t ProcessGroup(const std::string& instance_id) const;

 private:
  using SteadyTime = std::chrono::steady_clock::time_point;

  // One spawned process group; its id is the leader's pid. The leader stays
  // unreaped until the reaper has killed the rest of the group, so the id
  // cannot be reused while the driver may signal it.
  struct Group {
    pid_t pid = 0;
    SteadyTime spawned;
    SteadyTime kill_at = SteadyTime::max();  // while stopping: SIGKILL due
    bool killed = false;
  };
  // One instance the driver knows of: from SetUserData or Start to Stop.
  struct Slot {
    v1::Instance instance;  // as of the last Start or Restart
    std::string user_data;
    Group group;          // pid 0: none running
    bool failed = false;  // the leader exited unasked, or the last spawn failed
    bool restart_pending = false;  // spawn once the old group is gone
    // CPU: group ticks at the last sample, its time (a /proc scan's) and result.
    uint64_t last_ticks = 0;
    SteadyTime last_sample;
    double last_percent = 0;
  };
  struct Stopping {
    std::string instance_id;
    Group group;
  };

  absl::Status SpawnLocked(Slot* slot) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // SIGKILLs the group named by `dir`/pgid if it still runs `instance_id`
  // and is not ours: a crashed server's child (children outlive the server).
  void KillLeftoverLocked(const std::string& dir, const std::string& instance_id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void BeginStopLocked(const std::string& instance_id, Group group, bool force)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool RestartBlockedLocked(const std::string& instance_id) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ReapLoop();
  void ReapOnce() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // CPU ticks per process group of ours, from a /proc scan at most 100 ms old.
  const std::map<pid_t, uint64_t>& GroupTicksLocked(SteadyTime now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::map<std::string, ImageCommand> images_;
  const std::string root_;
  const absl::Duration grace_;

  mutable absl::Mutex mu_;
  std::map<std::string, Slot> slots_ ABSL_GUARDED_BY(mu_);
  std::vector<Stopping> stopping_ ABSL_GUARDED_BY(mu_);
  std::map<pid_t, uint64_t> ticks_ ABSL_GUARDED_BY(mu_);
  SteadyTime ticks_at_ ABSL_GUARDED_BY(mu_);
  bool shutdown_ ABSL_GUARDED_BY(mu_) = false;
  std::thread reaper_;
};

}  // namespace thingtank::compute
