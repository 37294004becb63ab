#include "objects_bench_report.h"

#include <algorithm>
#include <cstdio>
#include <sstream>

namespace thingtank::bench::objects {

Row MakeRow(std::string what, double figure, std::string unit, double baseline) {
  Row r;
  r.what = std::move(what);
  r.figure = figure;
  r.unit = std::move(unit);
  r.baseline = baseline;
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
  std::printf("%-*s %10s %10s %7s  %-16s %s\n", width, "what", "figure", "baseline", "ratio", "target", "met");
  for (const Row& r : rows) {
    const std::string what = r.what + " (" + r.unit + ")";
    std::printf("%-*s %10s %10s %7s  %-16s %s\n", width, what.c_str(), Num(r.figure).c_str(),
                Num(r.baseline).c_str(), std::isnan(r.baseline) ? "-" : Fmt("%.2f", r.ratio()).c_str(),
                r.TargetText().c_str(), r.MetText().c_str());
    if (!r.note.empty()) std::printf("%-*s   %s\n", width, "", r.note.c_str());
  }
  std::fflush(stdout);
}

std::string JsonNumber(double v) { return std::isnan(v) ? "null" : Fmt("%.6g", v); }

std::string RowJson(const std::string& mode, const Row& r) {
  std::ostringstream j;
  j << "{\"mode\": \"" << mode << "\", \"what\": \"" << bench::JsonEscape(r.what) << "\", \"unit\": \""
    << bench::JsonEscape(r.unit) << "\", \"figure\": " << JsonNumber(r.figure)
    << ", \"baseline\": " << JsonNumber(r.baseline)
    << ", \"ratio\": " << JsonNumber(std::isnan(r.baseline) ? NAN : r.ratio()) << ", \"target\": ";
  if (r.kind == Row::kNone) {
    j << "null, \"met\": null";
  } else {
    j << "\"" << r.TargetText() << "\", \"met\": " << (r.Met() ? "true" : "false");
  }
  j << ", \"note\": \"" << bench::JsonEscape(r.note) << "\"}";
  return j.str();
}

// ---------------------------------------------------------------- CPU sampling

void CpuSampler::Print(const std::string& label) const {
  const Acc* acc = Find(label);
  if (acc == nullptr) return;
  const double hz = TicksPerSecond();
  std::printf("    CPU during %s (%.1f s; share of one core):", label.c_str(), acc->seconds);
  for (const auto& [proc, ticks] : PerProcess(*acc)) {
    if (static_cast<double>(ticks) / hz / acc->seconds < 0.01) continue;
    std::printf(" %s %.0f%%", proc.c_str(), 100.0 * static_cast<double>(ticks) / hz / acc->seconds);
  }
  std::printf("\n");
  PrintThreads(*acc, 8);
}

}  // namespace thingtank::bench::objects
