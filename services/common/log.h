#pragma once

// The one logging library of ThingTank: spdlog (Debian's Abseil has no
// absl/log). Lines are structured as "key=value" pairs after a short message.
// The level is set once at start (--log-level).
#include "spdlog/spdlog.h"

namespace thingtank {

// Sets up the default logger (stderr, "ts level [thingtank] msg") and level
// ("debug", "info", "warn", "error"). False for an unknown level name.
bool InitLogging(const std::string& level);

}  // namespace thingtank

#define TT_LOG_DEBUG(...) SPDLOG_DEBUG(__VA_ARGS__)
#define TT_LOG_INFO(...) SPDLOG_INFO(__VA_ARGS__)
#define TT_LOG_WARN(...) SPDLOG_WARN(__VA_ARGS__)
#define TT_LOG_ERROR(...) SPDLOG_ERROR(__VA_ARGS__)
