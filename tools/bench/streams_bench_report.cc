#include "streams_bench_report.h"

#include <algorithm>
#include <cstdio>
#include <sstream>

namespace thingtank::bench::streams {

std::string Row::TargetText() const {
  if (kind == kAtLeast) return ">= " + Num(target) + " " + unit;
  if (kind == kAtMost) return "<= " + Num(target) + " " + unit;
  return "-";
}

std::string Row::MetText() const {
  if (kind == kNone) return "-";
  if (!Measured()) return "NOT MEASURED";
  return Met() ? "yes" : "NO";
}

Row MakeRow(std::string what, double figure, std::string unit, Row::Kind kind, double target) {
  Row r;
  r.what = std::move(what);
  r.figure = figure;
  r.unit = std::move(unit);
  r.kind = kind;
  r.target = target;
  return r;
}

std::string Num(double v) {
  if (std::isnan(v)) return "-";
  const double a = std::fabs(v);
  if (v == std::floor(v) && a < 1e12) return Fmt("%.0f", v);
  return Fmt(a >= 100 ? "%.0f" : a >= 10 ? "%.1f" : a >= 1 ? "%.2f" : "%.3f", v);
}

void PrintTable(const std::string& title, const std::vector<Row>& rows) {
  size_t w = 4;
  for (const Row& r : rows) w = std::max(w, r.what.size() + r.unit.size() + 3);
  const int width = static_cast<int>(w);
  std::printf("\n%s\n", title.c_str());
  std::printf("%-*s %10s  %-22s %-4s %16s %7s\n", width, "what", "figure", "target", "met", "health baseline",
              "ratio");
  for (const Row& r : rows) {
    const std::string what = r.what + " (" + r.unit + ")";
    const std::string baseline = std::isnan(r.baseline) ? "-" : Num(r.baseline) + " " + r.baseline_unit;
    std::printf("%-*s %10s  %-22s %-4s %16s %7s\n", width, what.c_str(), Num(r.figure).c_str(),
                r.TargetText().c_str(), r.MetText().c_str(), baseline.c_str(),
                std::isnan(r.ratio) ? "-" : Fmt(r.ratio < 0.1 ? "%.4f" : "%.2f", r.ratio).c_str());
    if (!r.note.empty()) std::printf("%-*s   %s\n", width, "", r.note.c_str());
  }
  std::fflush(stdout);
}

namespace {
std::string JsonNumber(double v) { return std::isnan(v) ? "null" : Fmt("%.6g", v); }
}  // namespace

std::string RowJson(const std::string& mode, const Row& r) {
  std::ostringstream j;
  j << "{\"mode\": \"" << mode << "\", \"what\": \"" << bench::JsonEscape(r.what) << "\", \"unit\": \""
    << bench::JsonEscape(r.unit) << "\", \"figure\": " << JsonNumber(r.figure) << ", \"target\": ";
  if (r.kind == Row::kNone) {
    j << "null, \"met\": null";
  } else {
    j << "\"" << r.TargetText() << "\", \"met\": " << (r.Met() ? "true" : "false");
  }
  j << ", \"baseline\": " << JsonNumber(r.baseline) << ", \"baseline_unit\": \"" << bench::JsonEscape(r.baseline_unit)
    << "\", \"ratio\": " << JsonNumber(r.ratio) << ", \"note\": \"" << bench::JsonEscape(r.note) << "\"}";
  return j.str();
}

// ---------------------------------------------------------------- CPU sampling

std::string CpuSampler::Shares(const std::string& label) const {
  const Acc* acc = Find(label);
  if (acc == nullptr) return "";
  const double hz = TicksPerSecond();
  std::map<std::string, long> per_proc = PerProcess(*acc);
  std::string out;
  // In the order the processes were added (servers, then the bench).
  for (const auto& [proc, pid] : procs()) {
    const double share = static_cast<double>(per_proc[proc]) / hz / acc->seconds;
    if (share < 0.005) continue;
    out += (out.empty() ? "" : ", ") + proc + " " + Fmt("%.0f", 100 * share) + "%";
  }
  return out;
}

void CpuSampler::Print(const std::string& label) const {
  const Acc* acc = Find(label);
  if (acc == nullptr) return;
  std::printf("    CPU during %s (%.1f s; share of one core): %s\n", label.c_str(), acc->seconds,
              Shares(label).c_str());
  PrintThreads(*acc, 10);
}

}  // namespace thingtank::bench::streams
