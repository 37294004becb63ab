#include "services/common/clock.h"

#include <utility>

namespace thingtank {

Clock::TimerId TimerSet::Add(absl::Time when, Clock::Callback fn) {
  const Clock::TimerId id = next_id_++;
  timers_.emplace(std::make_pair(when, id), std::move(fn));
  due_by_id_.emplace(id, when);
  return id;
}

bool TimerSet::Cancel(Clock::TimerId id) {
  auto it = due_by_id_.find(id);
  if (it == due_by_id_.end()) return false;
  timers_.erase({it->second, id});
  due_by_id_.erase(it);
  return true;
}

Clock::Callback TimerSet::PopEarliest() {
  auto first = timers_.begin();
  Clock::Callback fn = std::move(first->second);
  due_by_id_.erase(first->first.second);
  timers_.erase(first);
  return fn;
}

RealClock::RealClock(double time_scale, absl::Time start)
    : time_scale_(time_scale),
      real_start_(absl::Now()),
      start_(start == absl::InfinitePast() ? real_start_ : start) {
  thread_ = std::thread([this] { TimerLoop(); });
}

RealClock::~RealClock() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    cv_.Signal();
  }
  thread_.join();
}

absl::Time RealClock::Now() const {
  const absl::Time real = absl::Now();
  if (time_scale_ == 1.0 && start_ == real_start_) return real;
  return start_ + (real - real_start_) * time_scale_;
}

absl::Time RealClock::RealDeadline(absl::Time when) const {
  if (time_scale_ == 1.0 && start_ == real_start_) return when;
  return real_start_ + (when - start_) / time_scale_;
}

Clock::TimerId RealClock::RunAt(absl::Time when, Callback fn) {
  absl::MutexLock lock(&mu_);
  const bool earliest = timers_.empty() || when < timers_.earliest();
  const TimerId id = timers_.Add(when, std::move(fn));
  if (earliest) cv_.Signal();  // The timer thread may be sleeping too long.
  return id;
}

bool RealClock::Cancel(TimerId id) {
  absl::MutexLock lock(&mu_);
  return timers_.Cancel(id);
}

void RealClock::TimerLoop() {
  absl::MutexLock lock(&mu_);
  while (!stopping_) {
    if (timers_.empty()) {
      cv_.Wait(&mu_);  // Signalled by RunAt and by the destructor.
      continue;
    }
    const absl::Time due = timers_.earliest();
    if (Now() < due) {
      cv_.WaitWithDeadline(&mu_, RealDeadline(due));
      continue;
    }
    Callback fn = timers_.PopEarliest();
    mu_.Unlock();
    fn();
    mu_.Lock();
  }
}

ManualClock::ManualClock(absl::Time start) : now_(start) {}

absl::Time ManualClock::Now() const {
  absl::MutexLock lock(&mu_);
  return now_;
}

Clock::TimerId ManualClock::RunAt(absl::Time when, Callback fn) {
  absl::MutexLock lock(&mu_);
  return timers_.Add(when, std::move(fn));
}

bool ManualClock::Cancel(TimerId id) {
  absl::MutexLock lock(&mu_);
  return timers_.Cancel(id);
}

void ManualClock::Advance(absl::Duration d) {
  absl::Time target;
  {
    absl::MutexLock lock(&mu_);
    target = now_ + d;
  }
  for (;;) {
    Callback fn;
    {
      absl::MutexLock lock(&mu_);
      if (timers_.empty() || timers_.earliest() > target) {
        now_ = target;
        return;
      }
      if (timers_.earliest() > now_) now_ = timers_.earliest();
      fn = timers_.PopEarliest();
    }
    fn();
  }
}

size_t ManualClock::pending_timers() const {
  absl::MutexLock lock(&mu_);
  return timers_.size();
}

}  // namespace thingtank
