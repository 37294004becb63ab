#include "wamp_bench_report.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>

namespace thingtank::bench::wamp {

void Percentiles(std::vector<int64_t> ns, Result* r) {
  if (ns.empty()) return;
  std::sort(ns.begin(), ns.end());
  auto at = [&](double q) {
    return static_cast<double>(ns[std::min(ns.size() - 1, static_cast<size_t>(q * static_cast<double>(ns.size())))]) /
           1000.0;
  };
  r->p50_us = at(0.50);
  r->p99_us = at(0.99);
  r->p999_us = at(0.999);
  r->max_us = static_cast<double>(ns.back()) / 1000.0;
}

long RssKb(const std::string& pid) {
  std::ifstream in("/proc/" + pid + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::strtol(line.c_str() + 6, nullptr, 10);
  }
  return -1;
}

Json ToJson(const Result& r) {
  auto num = [](double v) { return std::isnan(v) ? Json(nullptr) : Json(v); };
  Json j = {
      {"scenario", r.scenario},  {"metric", r.metric},      {"value", num(r.value)},       {"seconds", r.seconds},
      {"count", r.count},        {"p50_us", num(r.p50_us)}, {"p99_us", num(r.p99_us)},     {"p999_us", num(r.p999_us)},
      {"max_us", num(r.max_us)}, {"errors", r.errors},      {"first_error", r.first_error}};
  for (auto& [k, v] : r.extra.items()) j[k] = v;
  return j;
}

void Print(const Result& r) {
  char line[512];
  std::snprintf(line, sizeof line, "%-11s %-17s %12.1f", r.scenario.c_str(), r.metric.c_str(), r.value);
  std::cout << line;
  if (!std::isnan(r.p50_us)) {
    std::snprintf(line, sizeof line, "  p50 %.0f us  p99 %.0f us  p99.9 %.0f us  max %.0f us", r.p50_us, r.p99_us,
                  r.p999_us, r.max_us);
    std::cout << line;
  }
  for (auto& [k, v] : r.extra.items()) {
    std::cout << "  " << k << " ";
    if (v.is_number_float()) {
      std::snprintf(line, sizeof line, std::fabs(v.get<double>()) < 10 ? "%.2f" : "%.1f", v.get<double>());
      std::cout << line;
    } else {
      std::cout << v.dump();
    }
  }
  if (r.errors) std::cout << "  errors " << r.errors << "  first error: " << r.first_error;
  std::cout << std::endl;
}

}  // namespace thingtank::bench::wamp
