#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace thingtank::serve {

// Where the clock of `thingtank serve` starts, so that a time-scaled clock
// goes on after a restart instead of going back to the wall clock (timers,
// cooldowns and alarm periods stored under the old clock would otherwise lie
// far in the future). <data-dir>/clock.json holds the anchor
//   {"wall_micros": W, "clock_micros": C, "time_scale": S}:
// the clock read C at wall time W and runs S times faster. A server started
// with --time-scale, or on a data directory that has an anchor, starts its
// clock where the anchored clock reads now, C + (now - W) * S (the simulated
// world goes on while the server is down, as a cloud's would), never before
// the wall clock, and writes a new anchor (its own start, its own scale).
// Without --time-scale and without an anchor: the wall clock, nothing written.
absl::StatusOr<absl::Time> ClockStart(const std::string& data_dir, double time_scale,
                                      absl::Time wall_now);

}  // namespace thingtank::serve
