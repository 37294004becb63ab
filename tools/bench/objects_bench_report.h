// objects_bench's output: the figures of one mode as table rows (what,
// figure, baseline, ratio, target, met), printed as a table or as JSON, and
// --profile's per-thread CPU sampling of the servers and of the bench.

#pragma once

#include <cmath>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "objects_bench.h"

namespace thingtank::bench::objects {

// ---------------------------------------------------------------- figures

struct Row {
  std::string what;
  double figure = NAN;
  std::string unit;
  double baseline = NAN;  // same unit; the ratio is figure / baseline
  enum Kind { kNone, kRatioAtLeast, kAtMost } kind = kNone;
  double target = 0;
  std::string note;

  double ratio() const { return figure / baseline; }
  bool Measured() const { return !std::isnan(kind == kRatioAtLeast ? ratio() : figure); }
  bool Met() const {
    if (!Measured()) return false;
    return kind == kRatioAtLeast ? ratio() >= target : kind == kAtMost ? figure <= target : true;
  }
  std::string TargetText() const {
    if (kind == kRatioAtLeast) return "ratio >= " + Fmt("%g", target);
    if (kind == kAtMost) return "<= " + Fmt("%g", target) + " " + unit;
    return "-";
  }
  std::string MetText() const {
    if (kind == kNone) return "-";
    if (!Measured()) return "NOT MEASURED";
    return Met() ? "yes" : "NO";
  }
};

Row MakeRow(std::string what, double figure, std::string unit, double baseline = NAN);
std::string Num(double v);
void PrintTable(const std::string& title, const std::vector<Row>& rows);
std::string JsonNumber(double v);
std::string RowJson(const std::string& mode, const Row& r);

// ---------------------------------------------------------------- CPU sampling

// Per-thread CPU ticks of some processes (/proc/<pid>/task/*/stat), summed by
// process name and thread name between Begin and End.
class CpuSampler {
 public:
  void Add(const std::string& name, int pid) { procs_.emplace_back(name, pid); }
  bool empty() const { return procs_.empty(); }

  void Begin();
  // Adds the ticks since Begin to the totals of `label`.
  void End(const std::string& label);
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

}  // namespace thingtank::bench::objects
