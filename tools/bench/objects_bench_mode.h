// What objects_bench measures in one mode, through that mode's gateway:
// the 64 MiB streams against the raw baseline (and the gateway relay), the
// 4 KiB PUT and GET rates against health Check runs, time to first byte open
// loop at half the max GET rate, ListObjectsV2 and CompleteMultipartUpload;
// with --only, the parts asked for.

#pragma once

#include <string>
#include <vector>

#include "objects_bench.h"
#include "objects_bench_report.h"

namespace thingtank::bench::objects {

// Creates the buckets on `mode`'s gateway, then runs the parts --only selects
// (all by default) and appends their rows, the error count last, to `rows`.
// `raw_endpoint` is the raw baseline server; `cpu` (may be null) samples
// during each measurement. False (after a message) if the setup failed.
bool RunMode(const Options& o, const Mode& mode, const std::string& raw_endpoint, CpuSampler* cpu,
             std::vector<Row>* rows);

}  // namespace thingtank::bench::objects
