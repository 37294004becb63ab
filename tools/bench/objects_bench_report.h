// objects_bench's output: the figures of one mode as table rows (what,
// figure, baseline, ratio, target, met), printed as a table or as JSON, and
// --profile's per-thread CPU sampling of the servers and of the bench.

#pragma once

#include <cmath>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "cpu_sampler.h"
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

// cpu_sampler.h's sampler; Print shows a label's CPU by process and the
// busiest threads.
class CpuSampler : public bench::CpuSampler {
 public:
  void Print(const std::string& label) const;
};

}  // namespace thingtank::bench::objects
