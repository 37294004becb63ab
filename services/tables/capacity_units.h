#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace thingtank::tables {

// Capacity units as DynamoDB counts them.
// Reads: one unit per 4 KB strongly consistent, half that eventually
// consistent (at least 0.5 or 1).
inline double ReadUnits(int64_t bytes, bool consistent) {
  const double units = std::max<double>(1, std::ceil(static_cast<double>(bytes) / 4096.0));
  return consistent ? units : units / 2;
}
// Writes: one unit per 1 KB of the larger of the old and new item, at least 1.
inline double WriteUnits(int64_t bytes) {
  return std::max<double>(1, std::ceil(static_cast<double>(bytes) / 1024.0));
}

}  // namespace thingtank::tables
