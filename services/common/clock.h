#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace thingtank {

// The one source of "now" and of timers for all domain code. Every timeout,
// retention, cooldown and alarm period is measured on a Clock so that tests can
// drive time by hand and demos can run it faster (--time-scale).
//
// Timer callbacks run on the clock's own thread (RealClock) or on the thread
// calling ManualClock::Advance; they must be short and must not block: post
// heavy work to an executor.
class Clock {
 public:
  using TimerId = uint64_t;
  using Callback = std::function<void()>;

  virtual ~Clock() = default;
  virtual absl::Time Now() const = 0;
  // Runs `fn` once the clock reaches `when` (at once, on the timer thread, if it
  // already has). Never calls `fn` inline.
  virtual TimerId RunAt(absl::Time when, Callback fn) = 0;
  // Cancels a timer. True if it had not run yet (and now never will).
  virtual bool Cancel(TimerId id) = 0;

  TimerId RunAfter(absl::Duration delay, Callback fn) {
    return RunAt(Now() + delay, std::move(fn));
  }
};

// Pending timers ordered by due time (then submission order). Not
// thread-safe: the owning clock locks.
class TimerSet {
 public:
  Clock::TimerId Add(absl::Time when, Clock::Callback fn);
  bool Cancel(Clock::TimerId id);
  bool empty() const { return timers_.empty(); }
  size_t size() const { return timers_.size(); }
  absl::Time earliest() const { return timers_.begin()->first.first; }
  // Removes and returns the earliest timer's callback.
  Clock::Callback PopEarliest();

 private:
  Clock::TimerId next_id_ = 1;
  std::map<std::pair<absl::Time, Clock::TimerId>, Clock::Callback> timers_;
  std::map<Clock::TimerId, absl::Time> due_by_id_;
};

// Wall-clock time, optionally running `time_scale` times faster than real time
// from the moment of construction, when it reads `start` (default: the wall
// clock then; a restarted server passes where its clock had got to, so that
// a scaled clock never goes back). Owns one timer thread; thread-safe.
class RealClock final : public Clock {
 public:
  explicit RealClock(double time_scale = 1.0, absl::Time start = absl::InfinitePast());
  ~RealClock() override;
  RealClock(const RealClock&) = delete;
  RealClock& operator=(const RealClock&) = delete;

  absl::Time Now() const override;
  TimerId RunAt(absl::Time when, Callback fn) override;
  bool Cancel(TimerId id) override;
  double time_scale() const { return time_scale_; }

 private:
  void TimerLoop();
  // Real (unscaled) time at which the clock reads `when`.
  absl::Time RealDeadline(absl::Time when) const;

  const double time_scale_;
  const absl::Time real_start_;
  const absl::Time start_;  // what Now() read at real_start_
  absl::Mutex mu_;
  absl::CondVar cv_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  TimerSet timers_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

// A clock that moves only when told to. For tests. Thread-safe.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(absl::Time start = absl::FromUnixSeconds(1'700'000'000));

  absl::Time Now() const override;
  TimerId RunAt(absl::Time when, Callback fn) override;
  bool Cancel(TimerId id) override;

  // Moves time forward by `d`, running every timer that falls due, in order, on
  // the calling thread (each sees Now() equal to its own due time).
  void Advance(absl::Duration d);
  // Runs timers already due (for example, ones set with a zero delay).
  void RunDue() { Advance(absl::ZeroDuration()); }
  size_t pending_timers() const;

 private:
  mutable absl::Mutex mu_;
  absl::Time now_ ABSL_GUARDED_BY(mu_);
  TimerSet timers_ ABSL_GUARDED_BY(mu_);
};

}  // namespace thingtank
