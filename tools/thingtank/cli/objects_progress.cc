#include "tools/thingtank/cli/objects_progress.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ostream>

namespace thingtank::cli::objects {
namespace {

constexpr double kMiB = 1024.0 * 1024.0;
constexpr int kBarCells = 20;
constexpr double kRedrawSeconds = 0.1;

std::string Printf(const char* format, double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), format, value);
  return buffer;
}

std::string FormatEta(int64_t seconds) {
  char buffer[32];
  if (seconds >= 3600) {
    std::snprintf(buffer, sizeof(buffer), "%lld:%02lld:%02lld",
                  static_cast<long long>(seconds / 3600), static_cast<long long>(seconds / 60 % 60),
                  static_cast<long long>(seconds % 60));
  } else {
    std::snprintf(buffer, sizeof(buffer), "%lld:%02lld", static_cast<long long>(seconds / 60),
                  static_cast<long long>(seconds % 60));
  }
  return buffer;
}

double SteadySeconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace

std::string FormatBytes(int64_t bytes) {
  if (bytes < 1024) return std::to_string(bytes) + " B";
  const char* units[] = {"KiB", "MiB", "GiB", "TiB"};
  double value = static_cast<double>(bytes) / 1024.0;
  int unit = 0;
  while (value >= 1024.0 && unit < 3) {
    value /= 1024.0;
    ++unit;
  }
  return Printf("%.1f ", value) + units[unit];
}

std::string FormatProgressLine(int64_t done, int64_t total, double elapsed_seconds) {
  const double rate = elapsed_seconds > 0 ? static_cast<double>(done) / elapsed_seconds : 0.0;
  const std::string rate_text = Printf("%.1f MiB/s", rate / kMiB);
  if (total < 0) return FormatBytes(done) + " " + rate_text;
  const int64_t clamped = done > total ? total : done;
  const int percent = total == 0 ? 100 : static_cast<int>(clamped * 100 / total);
  const int cells = total == 0 ? kBarCells : static_cast<int>(clamped * kBarCells / total);
  std::string line = "[" + std::string(cells, '#') + std::string(kBarCells - cells, '.') + "] ";
  char pct[8];
  std::snprintf(pct, sizeof(pct), "%3d%%", percent);
  line += pct;
  line += " " + FormatBytes(done) + "/" + FormatBytes(total) + " " + rate_text + " ETA ";
  if (clamped == total) {
    line += "0:00";
  } else if (rate <= 0) {
    line += "--:--";
  } else {
    line += FormatEta(static_cast<int64_t>(std::ceil(static_cast<double>(total - clamped) / rate)));
  }
  return line;
}

ProgressBar::ProgressBar(std::ostream* out, int64_t total, std::function<double()> now_seconds)
    : out_(out),
      total_(total),
      now_(now_seconds ? std::move(now_seconds) : SteadySeconds),
      start_(now_()) {}

ProgressBar::~ProgressBar() { Clear(); }

void ProgressBar::Add(int64_t bytes) {
  done_ += bytes;
  if (out_ == nullptr) return;
  const double now = now_();
  if (last_draw_ >= 0 && now - last_draw_ < kRedrawSeconds) return;
  last_draw_ = now;
  Draw();
}

void ProgressBar::Draw() {
  const std::string line = FormatProgressLine(done_, total_, now_() - start_);
  *out_ << "\r" << line;
  if (line.size() < drawn_width_) *out_ << std::string(drawn_width_ - line.size(), ' ');
  drawn_width_ = std::max(drawn_width_, line.size());
  out_->flush();
}

void ProgressBar::Clear() {
  if (out_ == nullptr || drawn_width_ == 0) return;
  *out_ << "\r" << std::string(drawn_width_, ' ') << "\r";
  out_->flush();
  drawn_width_ = 0;
}

}  // namespace thingtank::cli::objects
