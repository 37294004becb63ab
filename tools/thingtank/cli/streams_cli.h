#pragma once

// `thingtank streams ...`: client commands of the streams service (Amazon
// Kinesis Data Streams semantics).

#include <iosfwd>
#include <string>
#include <vector>

#include "tools/thingtank/cli/cli_common.h"

namespace thingtank::cli {

// Runs `thingtank streams <args...>`; `args` is what follows "streams" on the
// command line. Returns the process exit code (0 ok, 1 failed call, 2 usage).
int RunStreams(const std::vector<std::string>& args);
// The same with explicit streams and environment (for tests).
int RunStreams(const std::vector<std::string>& args, const Io& io);

// The overview of every streams command.
void PrintStreamsUsage(std::ostream& os);

}  // namespace thingtank::cli
