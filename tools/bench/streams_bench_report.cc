#include "streams_bench_report.h"

#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
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

void CpuSampler::Begin() {
  before_ = Snap();
  t0_ = Clock::now();
}

void CpuSampler::End(const std::string& label) {
  const auto after = Snap();
  Acc& acc = acc_[label];
  acc.seconds += Seconds(Clock::now() - t0_);
  for (const auto& [tid, v] : after) {
    auto b = before_.find(tid);
    acc.ticks[v.first] += v.second - (b != before_.end() ? b->second.second : 0);
  }
}

std::string CpuSampler::Shares(const std::string& label) const {
  auto it = acc_.find(label);
  // Ticks are 10 ms: a shorter window says nothing.
  if (it == acc_.end() || it->second.seconds < 0.1) return "";
  const double hz = static_cast<double>(sysconf(_SC_CLK_TCK));
  std::map<std::string, long> per_proc;
  for (const auto& [name, ticks] : it->second.ticks) per_proc[name.substr(0, name.find(':'))] += ticks;
  std::string out;
  // In the order the processes were added (servers, then the bench).
  for (const auto& [proc, pid] : procs_) {
    const double share = static_cast<double>(per_proc[proc]) / hz / it->second.seconds;
    if (share < 0.005) continue;
    out += (out.empty() ? "" : ", ") + proc + " " + Fmt("%.0f", 100 * share) + "%";
  }
  return out;
}

void CpuSampler::Print(const std::string& label) const {
  auto it = acc_.find(label);
  if (it == acc_.end() || it->second.seconds < 0.1) return;
  const double hz = static_cast<double>(sysconf(_SC_CLK_TCK));
  std::vector<std::pair<long, std::string>> rows;
  for (const auto& [name, ticks] : it->second.ticks) rows.emplace_back(ticks, name);
  std::sort(rows.rbegin(), rows.rend());
  std::printf("    CPU during %s (%.1f s; share of one core): %s\n", label.c_str(), it->second.seconds,
              Shares(label).c_str());
  int shown = 0;
  for (const auto& [ticks, name] : rows) {
    const double pct = 100.0 * static_cast<double>(ticks) / hz / it->second.seconds;
    if (pct < 3 || ++shown > 10) break;
    std::printf("      %-40s %6.1f %%\n", name.c_str(), pct);
  }
  std::fflush(stdout);
}

CpuSampler::Snapshot CpuSampler::Snap() const {
  Snapshot out;
  for (const auto& [name, pid] : procs_) {
    const std::string dir = "/proc/" + std::to_string(pid) + "/task";
    DIR* d = opendir(dir.c_str());
    if (d == nullptr) continue;
    while (dirent* e = readdir(d)) {
      if (e->d_name[0] == '.') continue;
      std::ifstream in(dir + "/" + e->d_name + "/stat");
      std::string st((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      const size_t open = st.find('('), close = st.rfind(')');
      if (open == std::string::npos || close == std::string::npos) continue;
      std::istringstream rest(st.substr(close + 2));
      std::vector<std::string> f((std::istream_iterator<std::string>(rest)), std::istream_iterator<std::string>());
      if (f.size() < 13) continue;
      out[{pid, e->d_name}] = {name + ":" + st.substr(open + 1, close - open - 1),
                               std::atol(f[11].c_str()) + std::atol(f[12].c_str())};
    }
    closedir(d);
  }
  return out;
}

}  // namespace thingtank::bench::streams
