#pragma once

// `thingtank wamp ...`: client commands of the wamp service (publish, call,
// subscribe) and of its forwarding rules (`thingtank wamp rules ...`).

#include <iosfwd>
#include <string>
#include <vector>

#include "tools/thingtank/cli/cli_common.h"

namespace thingtank::cli {

// Runs `thingtank wamp <args...>`; `args` is what follows "wamp" on the
// command line. Returns the process exit code (0 ok, 1 failed call, 2 usage).
int RunWamp(const std::vector<std::string>& args);
// The same with explicit streams and environment (for tests).
int RunWamp(const std::vector<std::string>& args, const Io& io);

// The overview of every wamp command.
void PrintWampUsage(std::ostream& os);

}  // namespace thingtank::cli
