#pragma once

// Reporting of compute_domain_bench: measurements summarized as percentiles
// and the figures against their targets, as text and JSON.

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace thingtank::compute::bench_report {

using Json = nlohmann::json;

// One measurement: samples in nanoseconds, summarized.
struct Measured {
  std::string name;
  std::string what;
  uint64_t samples = 0;
  double p50_us = NAN, p99_us = NAN, max_us = NAN, mean_us = NAN;
  Json extra = Json::object();
};

// Sorts `ns` (nanoseconds) and takes p50, p99, max and mean in microseconds.
Measured Summarize(std::string name, std::string what, std::vector<int64_t> ns);
void Print(const Measured& m);
Json ToJson(const Measured& m);

// A figure of the issue against its target (kNone: only reported).
struct Figure {
  std::string what;
  double value = NAN;
  std::string unit;
  enum Kind { kNone, kAtMost } kind = kNone;
  double target = 0;
};

void PrintFigures(const std::vector<Figure>& figures);
Json ToJson(const Figure& f);

}  // namespace thingtank::compute::bench_report
