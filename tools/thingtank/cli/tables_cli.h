#pragma once

// `thingtank tables ...`: client commands of the tables service.

#include <iosfwd>
#include <string>
#include <vector>

#include "tools/thingtank/cli/cli_common.h"

namespace thingtank::cli {

// Runs `thingtank tables <args...>`; `args` is what follows "tables" on the
// command line. Returns the process exit code (0 ok, 1 failed call, 2 usage).
int RunTables(const std::vector<std::string>& args);
// The same with explicit streams and environment (for tests).
int RunTables(const std::vector<std::string>& args, const Io& io);

// The overview of every tables command.
void PrintTablesUsage(std::ostream& os);

}  // namespace thingtank::cli
