// Per-thread CPU sampling of some processes (/proc/<pid>/task/*/stat) for the
// benchmarks that start their own servers (objects_bench, streams_bench): the
// ticks of each "process:thread" between Begin and End, summed by label. Each
// benchmark prints them its own way (objects_bench_report.cc,
// streams_bench_report.cc) with PerProcess and PrintThreads. Not thread-safe:
// the main thread drives it.

#pragma once

#include <chrono>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace thingtank::bench {

class CpuSampler {
 public:
  using Clock = std::chrono::steady_clock;  // load.h's Clock

  // The ticks of one label's windows and how long they lasted.
  struct Acc {
    double seconds = 0;
    std::map<std::string, long> ticks;  // "process:thread" -> ticks
  };

  void Add(const std::string& name, int pid) { procs_.emplace_back(name, pid); }
  bool empty() const { return procs_.empty(); }
  // (name, pid), in the order they were added.
  const std::vector<std::pair<std::string, int>>& procs() const { return procs_; }

  void Begin();
  // Adds the ticks since Begin to the totals of `label`.
  void End(const std::string& label);

  // The totals of `label`; null when there are none or when they cover under
  // 0.1 s (ticks are 10 ms: a shorter window says nothing).
  const Acc* Find(const std::string& label) const;
  // sysconf(_SC_CLK_TCK) as a double.
  static double TicksPerSecond();
  // Process name ("process" of "process:thread") -> ticks.
  static std::map<std::string, long> PerProcess(const Acc& acc);
  // The busiest threads (at least 3% of one core), at most `most` of them, a
  // line each on stdout, then flushes it.
  static void PrintThreads(const Acc& acc, int most);

 private:
  // (pid, tid) -> ("process:thread", ticks)
  using Snapshot = std::map<std::pair<int, std::string>, std::pair<std::string, long>>;

  Snapshot Snap() const;

  std::vector<std::pair<std::string, int>> procs_;
  Snapshot before_;
  Clock::time_point t0_;
  std::map<std::string, Acc> acc_;
};

}  // namespace thingtank::bench
