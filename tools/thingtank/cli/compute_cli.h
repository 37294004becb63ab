#pragma once

// `thingtank compute ...`: client commands of the compute service (EC2
// instances, CloudWatch metrics and alarms, EC2 Auto Scaling), one flat list.

#include <iosfwd>
#include <string>
#include <vector>

#include "tools/thingtank/cli/cli_common.h"

namespace thingtank::cli {

// Runs `thingtank compute <args...>`; `args` is what follows "compute" on the
// command line. Returns the process exit code (0 ok, 1 failed call, 2 usage).
int RunCompute(const std::vector<std::string>& args);
// The same with explicit streams and environment (for tests).
int RunCompute(const std::vector<std::string>& args, const Io& io);

// The overview of every compute command.
void PrintComputeUsage(std::ostream& os);

}  // namespace thingtank::cli
