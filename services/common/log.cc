#include "services/common/log.h"

#include "spdlog/sinks/stdout_color_sinks.h"

namespace thingtank {

bool InitLogging(const std::string& level) {
  const spdlog::level::level_enum parsed = spdlog::level::from_str(level);
  if (parsed == spdlog::level::off && level != "off") return false;
  auto logger = spdlog::stderr_color_mt("thingtank");
  spdlog::set_default_logger(logger);
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %l [%n] %v", spdlog::pattern_time_type::utc);
  spdlog::set_level(parsed);
  return true;
}

}  // namespace thingtank
