#include "services/compute/autoscaling/cron/cron.h"

#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace thingtank::compute {
namespace {

struct Field {
  const char* name;
  int lo, hi;
};
constexpr Field kFields[] = {
    {"minute", 0, 59}, {"hour", 0, 23}, {"day of month", 1, 31}, {"month", 1, 12}, {"day of week", 0, 7}};

absl::Status Bad(const Field& f, const std::string& part, const std::string& why) {
  return absl::InvalidArgumentError(absl::StrCat("cron ", f.name, " field \"", part, "\": ", why));
}

// Sets the values `text` names in `out` (indexed by value).
template <size_t N>
absl::Status ParseField(const Field& f, const std::string& text, std::bitset<N>* out) {
  for (absl::string_view item : absl::StrSplit(text, ',')) {
    std::string part(item);
    int step = 1;
    std::string range = part;
    if (size_t slash = part.find('/'); slash != std::string::npos) {
      range = part.substr(0, slash);
      if (!absl::SimpleAtoi(part.substr(slash + 1), &step) || step < 1) {
        return Bad(f, part, "the step must be a whole number of 1 or more");
      }
    }
    int lo = f.lo, hi = f.hi;
    if (range != "*") {
      std::vector<std::string> ends = absl::StrSplit(range, '-');
      if (ends.size() > 2 || !absl::SimpleAtoi(ends[0], &lo) ||
          (ends.size() == 2 && !absl::SimpleAtoi(ends[1], &hi))) {
        return Bad(f, part, "expected *, a number or a range a-b");
      }
      if (ends.size() == 1) hi = step > 1 ? f.hi : lo;
      if (lo < f.lo || hi > f.hi || lo > hi) {
        return Bad(f, part, absl::StrCat("values must be ", f.lo, " to ", f.hi, ", ascending"));
      }
    }
    for (int v = lo; v <= hi; v += step) out->set(static_cast<size_t>(v));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Cron> Cron::Parse(const std::string& text) {
  std::vector<std::string> fields = absl::StrSplit(text, ' ', absl::SkipEmpty());
  if (fields.size() != 5) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cron \"", text, "\": needs 5 fields (minute hour day-of-month month day-of-week), not ",
        fields.size()));
  }
  Cron cron;
  cron.text_ = text;
  std::bitset<8> weekdays;
  if (auto s = ParseField(kFields[0], fields[0], &cron.minutes_); !s.ok()) return s;
  if (auto s = ParseField(kFields[1], fields[1], &cron.hours_); !s.ok()) return s;
  if (auto s = ParseField(kFields[2], fields[2], &cron.days_); !s.ok()) return s;
  if (auto s = ParseField(kFields[3], fields[3], &cron.months_); !s.ok()) return s;
  if (auto s = ParseField(kFields[4], fields[4], &weekdays); !s.ok()) return s;
  if (weekdays[7]) weekdays.set(0);
  weekdays.reset(7);
  cron.weekdays_ = weekdays;
  cron.days_restricted_ = fields[2] != "*";
  cron.weekdays_restricted_ = fields[4] != "*";
  return cron;
}

bool Cron::DayMatches(const absl::CivilDay& day) const {
  if (!months_[day.month()]) return false;
  const int weekday = static_cast<int>(absl::GetWeekday(day));  // Monday 0 .. Sunday 6
  const bool dom = days_[day.day()];
  const bool dow = weekdays_[(weekday + 1) % 7];               // cron: Sunday 0
  if (days_restricted_ && weekdays_restricted_) return dom || dow;
  return dom && dow;
}

std::optional<absl::Time> Cron::Next(absl::Time after) const {
  const absl::TimeZone utc = absl::UTCTimeZone();
  absl::CivilMinute t = absl::ToCivilMinute(after, utc) + 1;
  const absl::CivilDay limit = absl::CivilDay(t) + 4 * 366;
  while (absl::CivilDay(t) < limit) {
    if (!DayMatches(absl::CivilDay(t))) {
      t = absl::CivilMinute(absl::CivilDay(t) + 1);
      continue;
    }
    if (!hours_[t.hour()]) {
      t = absl::CivilMinute(absl::CivilHour(t) + 1);
      continue;
    }
    if (!minutes_[t.minute()]) {
      t += 1;
      continue;
    }
    return absl::FromCivil(t, utc);
  }
  return std::nullopt;
}

}  // namespace thingtank::compute
