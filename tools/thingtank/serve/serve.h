#pragma once

#include <string>
#include <vector>

namespace thingtank::serve {

// `thingtank serve [flags]`: starts the configured services and/or gateway and
// runs until SIGTERM or SIGINT. Returns the process exit code.
int RunServe(const std::vector<std::string>& args);

}  // namespace thingtank::serve
