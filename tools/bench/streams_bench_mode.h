// What streams_bench measures in one mode (through that mode's gateway):
// setup, the put and get rates, the two put-to-read latencies and the health
// baselines, as table rows.

#pragma once

#include <string>
#include <vector>

#include "streams_bench.h"
#include "streams_bench_report.h"

namespace thingtank::bench::streams {

// Runs every selected part against `mode`; false (after a message) if setup
// failed. `cpu` samples the mode's servers and this process.
bool RunMode(const Options& o, const Mode& mode, CpuSampler* cpu, std::vector<Row>* rows,
             std::vector<Result>* runs);

}  // namespace thingtank::bench::streams
