#pragma once

#include <bitset>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace thingtank::compute {

// A Unix cron recurrence of five fields, in UTC, as Auto Scaling's scheduled
// actions take it: minute (0-59), hour (0-23), day of month (1-31), month
// (1-12) and day of week (0-7, 0 and 7 Sunday). Each field is `*`, a value,
// a range `a-b`, a list `a,b,...` of those, each optionally with a step
// `/n`. As in cron, when both day fields are restricted a day matches either.
class Cron {
 public:
  // INVALID_ARGUMENT naming the field and what is wrong.
  static absl::StatusOr<Cron> Parse(const std::string& text);
  // The first matching minute strictly after `after`; nullopt when none
  // within four years (e.g. "0 0 30 2 *").
  std::optional<absl::Time> Next(absl::Time after) const;
  const std::string& text() const { return text_; }

 private:
  bool DayMatches(const absl::CivilDay& day) const;

  std::string text_;
  std::bitset<60> minutes_;
  std::bitset<24> hours_;
  std::bitset<32> days_;      // 1..31
  std::bitset<13> months_;    // 1..12
  std::bitset<8> weekdays_;   // 0..6 (7 folded into 0)
  bool days_restricted_ = false;
  bool weekdays_restricted_ = false;
};

}  // namespace thingtank::compute
