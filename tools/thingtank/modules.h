#pragma once

#include "tools/thingtank/serve/module.h"

namespace thingtank {

// The services of this build, in start order: the one list to extend when a
// service is added (services/README.md).
const serve::ServiceModules& Modules();

}  // namespace thingtank
