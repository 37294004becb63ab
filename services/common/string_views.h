#pragma once

// Debian's Abseil (20220623) is built with its own absl::string_view, not an
// alias of std::string_view, and neither converts to the other. Our
// interfaces take std::string_view; these adapt at the Abseil call sites.

#include <string_view>

#include "absl/strings/string_view.h"

namespace thingtank {

inline absl::string_view Av(std::string_view s) { return absl::string_view(s.data(), s.size()); }
inline std::string_view Sv(absl::string_view s) { return std::string_view(s.data(), s.size()); }

}  // namespace thingtank
