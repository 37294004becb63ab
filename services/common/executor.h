#pragma once

#include <deque>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace thingtank {

// Runs closures off the gRPC reactor threads. Blocking work (RocksDB, fsync)
// goes here.
class Executor {
 public:
  virtual ~Executor() = default;
  // Queues `fn`. Returns false (and drops `fn`) when the executor is full or
  // shutting down; the caller then fails the request with UNAVAILABLE.
  [[nodiscard]] virtual bool Post(std::function<void()> fn) = 0;
};

// A fixed pool of threads with a bounded queue. Thread-safe. The destructor
// runs what is queued, then joins.
class ThreadPool final : public Executor {
 public:
  ThreadPool(std::string name, int threads, size_t max_queued);
  ~ThreadPool() override;
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  bool Post(std::function<void()> fn) override;
  size_t queued() const;

 private:
  void Loop();

  const std::string name_;
  const size_t max_queued_;
  mutable absl::Mutex mu_;
  absl::CondVar cv_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::deque<std::function<void()>> queue_ ABSL_GUARDED_BY(mu_);
  std::vector<std::thread> threads_;
};

// Runs every closure at once on the posting thread. For unit tests.
class InlineExecutor final : public Executor {
 public:
  bool Post(std::function<void()> fn) override {
    fn();
    return true;
  }
};

}  // namespace thingtank
