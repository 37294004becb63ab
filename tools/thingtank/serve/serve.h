#pragma once

#include <string>
#include <vector>

#include "tools/thingtank/serve/module.h"

namespace thingtank::serve {

// `thingtank serve [flags]`: starts the configured services of `modules`
// and/or the gateway, and runs until SIGTERM or SIGINT. Returns the process
// exit code.
int RunServe(const std::vector<std::string>& args, const ServiceModules& modules);

}  // namespace thingtank::serve
