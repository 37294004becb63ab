#pragma once

#include <functional>
#include <memory>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "services/common/clock.h"
#include "services/common/executor.h"

namespace thingtank {

// Lets clock timers reach a service that may be gone by the time they fire.
// The service creates one, hands shared_ptr copies to its timer callbacks, and
// calls Detach() first thing in its destructor. Thread-safe.
//
// The executor and clock must outlive the service; the executor may be
// destroyed right after the service (Detach waits for posts in progress).
template <typename Service>
class Lifeline {
 public:
  static std::shared_ptr<Lifeline> Create(Service* service, Executor* executor, Clock* clock) {
    return std::shared_ptr<Lifeline>(new Lifeline(service, executor, clock));
  }

  // Runs `fn(service)` now, on the calling thread, if the service is alive;
  // the service cannot be destroyed meanwhile. For short work (no I/O).
  void RunIfAlive(const std::function<void(Service*)>& fn) {
    absl::ReaderMutexLock lock(&mu_);
    if (service_ != nullptr) fn(service_);
  }

  // From a timer: runs `fn(service)` on the executor if the service is still
  // alive then; retries after 100 ms of clock time when the executor is full.
  static void Post(const std::shared_ptr<Lifeline>& life, std::function<void(Service*)> fn) {
    bool posted;
    {
      absl::ReaderMutexLock post_lock(&life->post_mu_);
      if (life->gone_) return;
      posted = life->executor_->Post([life, fn] { life->RunIfAlive(fn); });
    }
    if (!posted) {
      life->clock_->RunAfter(absl::Milliseconds(100), [life, fn] { Post(life, fn); });
    }
  }

  // Waits for work and posts in progress; afterwards callbacks do nothing.
  void Detach() {
    {
      absl::MutexLock lock(&mu_);
      service_ = nullptr;
    }
    absl::MutexLock lock(&post_mu_);
    gone_ = true;
  }

 private:
  Lifeline(Service* service, Executor* executor, Clock* clock)
      : service_(service), executor_(executor), clock_(clock) {}

  absl::Mutex mu_;
  Service* service_ ABSL_GUARDED_BY(mu_);
  // Held (shared) while posting, so the executor is never used after Detach.
  // A separate mutex: with an inline executor the posted work takes mu_.
  absl::Mutex post_mu_;
  bool gone_ ABSL_GUARDED_BY(post_mu_) = false;
  Executor* const executor_;
  Clock* const clock_;
};

}  // namespace thingtank
