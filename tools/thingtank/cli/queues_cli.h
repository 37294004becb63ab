#pragma once

// `thingtank queues ...`: client commands of the queues service.

#include <iosfwd>
#include <string>
#include <vector>

#include "tools/thingtank/cli/cli_common.h"

namespace thingtank::cli {

// Runs `thingtank queues <args...>`; `args` is what follows "queues" on the
// command line. Returns the process exit code (0 ok, 1 failed call, 2 usage).
int RunQueues(const std::vector<std::string>& args);
// The same with explicit streams and environment (for tests).
int RunQueues(const std::vector<std::string>& args, const Io& io);

// The overview of every queues command.
void PrintQueuesUsage(std::ostream& os);

}  // namespace thingtank::cli
