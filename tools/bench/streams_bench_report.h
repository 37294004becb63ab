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

#include "cpu_sampler.h"
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

// cpu_sampler.h's sampler, with this bench's summaries of a label's CPU.
class CpuSampler : public bench::CpuSampler {
 public:
  // "mono 142%, bench 51%": each process's CPU during `label`, in shares of
  // one core (empty when the window was too short to say).
  std::string Shares(const std::string& label) const;
  // Shares and the busiest threads, on stdout.
  void Print(const std::string& label) const;
};

}  // namespace thingtank::bench::streams
