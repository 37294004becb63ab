#pragma once

// `thingtank objects ...`: client commands of the objects service (Amazon S3
// semantics, in the manner of `aws s3`).

#include <iosfwd>
#include <string>
#include <vector>

#include "tools/thingtank/cli/cli_common.h"

namespace thingtank::cli {

// Runs `thingtank objects <args...>`; `args` is what follows "objects" on
// the command line. Returns the process exit code (0 ok, 1 failed call, 2
// usage).
int RunObjects(const std::vector<std::string>& args);
// The same with explicit streams and environment (for tests).
int RunObjects(const std::vector<std::string>& args, const Io& io);

// The overview of every objects command.
void PrintObjectsUsage(std::ostream& os);

}  // namespace thingtank::cli
