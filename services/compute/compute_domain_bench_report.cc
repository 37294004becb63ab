#include "services/compute/compute_domain_bench_report.h"

#include <algorithm>
#include <cstdio>

namespace thingtank::compute::bench_report {

Measured Summarize(std::string name, std::string what, std::vector<int64_t> ns) {
  Measured m;
  m.name = std::move(name);
  m.what = std::move(what);
  m.samples = ns.size();
  if (ns.empty()) return m;
  std::sort(ns.begin(), ns.end());
  auto at = [&](double q) {
    return static_cast<double>(ns[std::min(ns.size() - 1, static_cast<size_t>(q * static_cast<double>(ns.size())))]) /
           1000.0;
  };
  m.p50_us = at(0.50);
  m.p99_us = at(0.99);
  m.max_us = static_cast<double>(ns.back()) / 1000.0;
  double sum = 0;
  for (int64_t v : ns) sum += static_cast<double>(v);
  m.mean_us = sum / static_cast<double>(ns.size()) / 1000.0;
  return m;
}

void Print(const Measured& m) {
  std::printf("%-16s n=%-7llu p50 %10.1f us  p99 %10.1f us  max %10.1f us  mean %10.1f us  (%s)", m.name.c_str(),
              static_cast<unsigned long long>(m.samples), m.p50_us, m.p99_us, m.max_us, m.mean_us, m.what.c_str());
  for (auto& [k, v] : m.extra.items()) std::printf("  %s %s", k.c_str(), v.dump().c_str());
  std::printf("\n");
  std::fflush(stdout);
}

Json ToJson(const Measured& m) {
  auto num = [](double v) { return std::isnan(v) ? Json(nullptr) : Json(v); };
  Json j = {{"name", m.name},         {"what", m.what},          {"samples", m.samples},
            {"p50_us", num(m.p50_us)}, {"p99_us", num(m.p99_us)}, {"max_us", num(m.max_us)},
            {"mean_us", num(m.mean_us)}};
  for (auto& [k, v] : m.extra.items()) j[k] = v;
  return j;
}

void PrintFigures(const std::vector<Figure>& figures) {
  auto label = [](const Figure& f) { return f.what + " (" + f.unit + ")"; };
  int width = 6;
  for (const Figure& f : figures) width = std::max(width, static_cast<int>(label(f).size()));
  std::printf("\n%-*s %10s  %-10s %s\n", width, "figure", "measured", "target", "result");
  for (const Figure& f : figures) {
    char value[32], target[32];
    std::snprintf(value, sizeof value, f.value < 10 ? "%.2f" : "%.1f", f.value);
    std::snprintf(target, sizeof target, "<= %g", f.target);
    const char* result = f.kind == Figure::kNone ? "reported"
                         : std::isnan(f.value)   ? "NOT MEASURED"
                         : f.value <= f.target   ? "met"
                                                 : "NOT MET";
    std::printf("%-*s %10s  %-10s %s\n", width, label(f).c_str(), value, f.kind == Figure::kNone ? "(none)" : target,
                result);
  }
  std::fflush(stdout);
}

Json ToJson(const Figure& f) {
  const bool judged = f.kind != Figure::kNone;
  return {{"what", f.what},
          {"value", std::isnan(f.value) ? Json(nullptr) : Json(f.value)},
          {"unit", f.unit},
          {"target", judged ? Json(f.target) : Json(nullptr)},
          {"comparison", judged ? Json("<=") : Json(nullptr)},
          {"met", judged ? Json(!std::isnan(f.value) && f.value <= f.target) : Json(nullptr)}};
}

}  // namespace thingtank::compute::bench_report
