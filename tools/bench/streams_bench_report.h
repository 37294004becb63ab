// streams_bench's output: the figures of one mode as table rows (what,
// figure, target, met, health baseline, ratio), printed as a table or as
// JSON, and the per-thread CPU sampling of the servers and of the bench
// (/proc/<pid>/task) that says where the time of each measurement went.

#pragma once

#include <cmath>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "streams_bench.h"

namespace thingtank::bench::streams {

// ---------------------------------------------------------------- figures

// One figure. `baseline` is the health Check figure it is compared with (its
// calls/s for a rate, its latency for a latency) and `ratio` the figure over
// it in like terms (calls/s over calls/s, ms over ms); both NaN when none.
struct Row {
  std::string what;
  double figure = NAN;
  std::string unit;
  enum Kind { kNone, kAtLeast, kAtMost } kind = kNone;
  double target = 0;
  double baseline = NAN;
  std::string baseline_unit;
  double ratio = NAN;
  std::string note;

  bool Measured() const { return !std::isnan(figure); }
  bool Met() const {
    if (!Measured()) return false;
    return kind == kAtLeast ? figure >= target : kind == kAtMost ? figure <= target : true;
  }
  std::string TargetText() const;
  std::string MetText() const;
};

Row MakeRow(std::string what, double figure, std::string unit, Row::Kind kind = Row::kNone, double target = 0);
std::string Num(double v);
void PrintTable(const std::string& title, const std::vector<Row>& rows);
std::string RowJson(const std::string& mode, const Row& r);

// ---------------------------------------------------------------- CPU sampling

// Per-thread CPU ticks of some processes (/proc/<pid>/task/*/stat), summed by
// process name and thread name between Begin and End. Not thread-safe: the
// main thread drives it.
class CpuSampler {
 public:
  void Add(const std::string& name, int pid) { procs_.emplace_back(name, pid); }

  void Begin();
  // Adds the ticks since Begin to the totals of `label`.
  void End(const std::string& label);
  // "mono 142%, bench 51%": each process's CPU during `label`, in shares of
  // one core (empty when the window was too short to say).
  std::string Shares(const std::string& label) const;
  // Shares and the busiest threads, on stdout.
  void Print(const std::string& label) const;

 private:
  struct Acc {
    double seconds = 0;
    std::map<std::string, long> ticks;  // "process:thread" -> ticks
  };
  // (pid, tid) -> ("process:thread", ticks)
  using Snapshot = std::map<std::pair<int, std::string>, std::pair<std::string, long>>;

  Snapshot Snap() const;

  std::vector<std::pair<std::string, int>> procs_;
  Snapshot before_;
  Clock::time_point t0_;
  std::map<std::string, Acc> acc_;
};

}  // namespace thingtank::bench::streams
