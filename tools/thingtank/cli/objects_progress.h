#pragma once

// The transfer progress bar of `thingtank objects cp`: one line on a
// terminal, redrawn in place with "\r" at most ten times a second. The line
// itself (FormatProgressLine) is a pure function for tests. Internal to
// tools/thingtank/cli.

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <string>

namespace thingtank::cli::objects {

// "512 B", "1.5 KiB", "20.0 MiB", "1.2 GiB" (one decimal from KiB on).
std::string FormatBytes(int64_t bytes);

// The progress line after `done` of `total` bytes (total < 0: unknown) in
// `elapsed_seconds`:
//   "[########............]  40% 8.0 MiB/20.0 MiB 2.0 MiB/s ETA 0:06"
// The bar has 20 cells; the percentage is rounded down; the rate is always in
// MiB/s; the ETA is m:ss (h:mm:ss from an hour on) or "--:--" before any
// byte moved. With an unknown total: "8.0 MiB 2.0 MiB/s".
std::string FormatProgressLine(int64_t done, int64_t total, double elapsed_seconds);

// Draws the progress of one transfer on `out` (nullptr: draws nothing).
// Not thread-safe; one per transfer.
class ProgressBar {
 public:
  // `now_seconds` is a monotonic clock (steady_clock when empty).
  ProgressBar(std::ostream* out, int64_t total, std::function<double()> now_seconds = {});
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;
  ~ProgressBar();

  void SetTotal(int64_t total) { total_ = total; }
  // Records `bytes` more done; redraws when 100 ms passed since the last draw.
  void Add(int64_t bytes);
  // Erases the line (before the final "upload: ..." line or an error).
  void Clear();

 private:
  void Draw();

  std::ostream* out_;
  int64_t total_;
  std::function<double()> now_;
  double start_;
  double last_draw_ = -1;
  int64_t done_ = 0;
  size_t drawn_width_ = 0;
};

}  // namespace thingtank::cli::objects
