#include "tools/thingtank/serve/clock_anchor.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

namespace thingtank::serve {
namespace {

absl::Status WriteAtomically(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return absl::UnavailableError(absl::StrCat(tmp, ": ", std::strerror(errno)));
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
            ::fsync(fd) == 0;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    return absl::UnavailableError(absl::StrCat(path, ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<absl::Time> ClockStart(const std::string& data_dir, double time_scale,
                                      absl::Time wall_now) {
  const std::string path = (std::filesystem::path(data_dir) / "clock.json").string();
  absl::Time start = wall_now;
  std::ifstream in(path);
  const bool anchored = static_cast<bool>(in);
  if (anchored) {
    std::stringstream text;
    text << in.rdbuf();
    nlohmann::json anchor = nlohmann::json::parse(text.str(), nullptr, false);
    if (!anchor.is_object() || !anchor["wall_micros"].is_number_integer() ||
        !anchor["clock_micros"].is_number_integer() || !anchor["time_scale"].is_number()) {
      return absl::DataLossError(absl::StrCat(path, ": not a clock anchor (delete it to start "
                                              "the clock from the wall clock)"));
    }
    const absl::Time wall = absl::FromUnixMicros(anchor["wall_micros"].get<int64_t>());
    const absl::Time clock = absl::FromUnixMicros(anchor["clock_micros"].get<int64_t>());
    const double scale = anchor["time_scale"].get<double>();
    start = std::max(wall_now, clock + (wall_now - wall) * scale);
  }
  if (!anchored && time_scale == 1.0) return start;
  std::filesystem::create_directories(data_dir);
  nlohmann::json anchor = {{"wall_micros", absl::ToUnixMicros(wall_now)},
                           {"clock_micros", absl::ToUnixMicros(start)},
                           {"time_scale", time_scale}};
  absl::Status written = WriteAtomically(path, anchor.dump());
  if (!written.ok()) return written;
  return start;
}

}  // namespace thingtank::serve
