// `thingtank compute describe --watch [--until-state STATE]`: polls
// DescribeInstances and prints instances whose state changed.

#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <set>
#include <thread>

#include "absl/strings/str_join.h"
#include "tools/thingtank/cli/compute_commands.h"
#include "tools/thingtank/cli/compute_format.h"

namespace thingtank::cli::compute {
namespace {

using Clock = std::chrono::steady_clock;

constexpr auto kPollInterval = std::chrono::seconds(1);
constexpr auto kSleepSlice = std::chrono::milliseconds(50);
// The whole watch, unless --timeout says otherwise.
constexpr int64_t kDefaultWatchNanos = 600'000'000'000;
// Each DescribeInstances call while watching, within what is left of the watch.
constexpr auto kCallTimeout = std::chrono::seconds(30);

// Set by SIGINT/SIGTERM while a watch runs.
std::atomic<bool> g_interrupted{false};
static_assert(std::atomic<bool>::is_always_lock_free, "used in a signal handler");

void OnInterrupt(int) { g_interrupted.store(true); }

// While alive: SIGINT (Ctrl-C) and SIGTERM end the watch between polls
// instead of killing the process, so that it exits with a status of its own.
class InterruptFlag {
 public:
  InterruptFlag() {
    g_interrupted.store(false);
    struct sigaction action = {};
    action.sa_handler = &OnInterrupt;
    action.sa_flags = SA_RESTART;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, &old_int_);
    sigaction(SIGTERM, &action, &old_term_);
  }
  ~InterruptFlag() {
    sigaction(SIGINT, &old_int_, nullptr);
    sigaction(SIGTERM, &old_term_, nullptr);
  }
  InterruptFlag(const InterruptFlag&) = delete;
  InterruptFlag& operator=(const InterruptFlag&) = delete;

  bool set() const { return g_interrupted.load(); }

 private:
  struct sigaction old_int_ = {};
  struct sigaction old_term_ = {};
};

// Every page of the listing; each call's deadline is within `deadline`.
grpc::Status DescribeAll(const Ec2Context& c, v1::DescribeInstancesRequest request,
                         Clock::time_point deadline, std::vector<v1::Instance>* out) {
  out->clear();
  request.set_next_token("");
  do {
    std::unique_ptr<grpc::ClientContext> context = c.connection.NewContext();
    const auto left = std::min<Clock::duration>(kCallTimeout, deadline - Clock::now());
    context->set_deadline(std::chrono::system_clock::now() +
                          std::max<Clock::duration>(left, std::chrono::milliseconds(1)));
    v1::DescribeInstancesResponse response;
    grpc::Status status = c.stub.DescribeInstances(context.get(), request, &response);
    if (!status.ok()) return status;
    for (v1::Instance& instance : *response.mutable_instances()) {
      out->push_back(std::move(instance));
    }
    request.set_next_token(response.next_token());
  } while (!request.next_token().empty());
  return grpc::Status::OK;
}

std::string Line(const v1::Instance& instance) {
  return absl::StrJoin(InstanceRow(instance), "  ");
}

// Sleeps until `until` in short slices; false when interrupted first.
bool SleepUntil(Clock::time_point until, const InterruptFlag& interrupt) {
  while (Clock::now() < until) {
    if (interrupt.set()) return false;
    std::this_thread::sleep_for(std::min<Clock::duration>(kSleepSlice, until - Clock::now()));
  }
  return !interrupt.set();
}

}  // namespace

int WatchInstances(const Ec2Context& c, const v1::DescribeInstancesRequest& request) {
  std::optional<v1::InstanceStateName> until;
  if (c.args.Has("until-state")) {
    v1::InstanceStateName state = v1::INSTANCE_STATE_NAME_UNSPECIFIED;
    int exit = kExitOk;
    if (!EnumFlag(c, "until-state", InstanceStateNames(), &state, &exit)) return exit;
    until = state;
  }
  const std::string until_text = until ? EnumNameOf(InstanceStateNames(), *until) : "";
  const int64_t watch_nanos =
      c.args.Has("timeout") ? c.connection.options().timeout_nanos : kDefaultWatchNanos;
  const Clock::time_point deadline = Clock::now() + std::chrono::nanoseconds(watch_nanos);

  // The instances waited for: the ones named, else those of the first poll.
  std::set<std::string> watched(request.instance_ids().begin(), request.instance_ids().end());
  std::map<std::string, v1::InstanceStateName> last;
  const InterruptFlag interrupt;
  bool first = true;
  std::vector<v1::Instance> instances;
  while (true) {
    const Clock::time_point poll_start = Clock::now();
    const grpc::Status status = DescribeAll(c, request, deadline, &instances);
    if (!status.ok() &&
        !(status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED && Clock::now() >= deadline)) {
      return ReportRpcError(status, c.connection.options(), c.io);
    }
    for (const v1::Instance& instance : instances) {
      auto it = last.find(instance.instance_id());
      if (it != last.end() && it->second == instance.state().name()) continue;
      last[instance.instance_id()] = instance.state().name();
      if (c.json()) {
        PrintJson(instance, c.io.out);
      } else {
        c.io.out << Line(instance) << "\n";
      }
      c.io.out.flush();  // a line as soon as the change is seen, also into a pipe
    }
    if (first && status.ok()) {
      first = false;
      if (watched.empty()) {
        for (const v1::Instance& instance : instances) watched.insert(instance.instance_id());
      }
      if (until && watched.empty()) {
        return ReportLocalError("--until-state: no instance matches; nothing to wait for", c.json(),
                                c.io);
      }
      if (!c.json()) {
        if (until) {
          c.io.err << "waiting for " << watched.size() << " instance(s) to be " << until_text
                   << " (Ctrl-C to stop)\n";
        } else {
          c.io.err << "watching for state changes (Ctrl-C to stop)\n";
        }
      }
    }
    std::vector<std::string> waiting(watched.begin(), watched.end());
    if (until && status.ok()) {
      std::map<std::string, v1::InstanceStateName> now;
      for (const v1::Instance& instance : instances) {
        now[instance.instance_id()] = instance.state().name();
      }
      waiting.clear();
      for (const std::string& id : watched) {
        auto it = now.find(id);
        // Terminated instances drop out of the listing after an hour.
        const v1::InstanceStateName state =
            it == now.end() ? v1::INSTANCE_STATE_NAME_TERMINATED : it->second;
        if (state == *until) continue;
        if (state == v1::INSTANCE_STATE_NAME_TERMINATED) {
          return ReportLocalError(id + " is terminated; it will never be " + until_text, c.json(),
                                  c.io);
        }
        waiting.push_back(id);
      }
      if (waiting.empty()) {
        if (!c.json()) c.io.err << "all " << watched.size() << " " << until_text << "\n";
        return kExitOk;
      }
    }
    if (Clock::now() >= deadline) {
      if (!until) return kExitOk;  // the watch window ended
      return ReportLocalError("--until-state " + until_text + ": still waiting for " +
                                  absl::StrJoin(waiting, " ") + " after " +
                                  FormatDurationNanos(watch_nanos) + " (--timeout)",
                              c.json(), c.io);
    }
    if (!SleepUntil(std::min(poll_start + kPollInterval, deadline), interrupt)) {
      if (!until) return kExitOk;
      return ReportLocalError("interrupted before every instance was " + until_text, c.json(),
                              c.io);
    }
  }
}

}  // namespace thingtank::cli::compute
