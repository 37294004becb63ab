#include "tools/thingtank/cli/streams_interrupt.h"

#include <algorithm>
#include <atomic>
#include <chrono>

namespace thingtank::cli::streams {
namespace {

constexpr auto kSlice = std::chrono::milliseconds(50);

// Set by SIGINT/SIGTERM while an Interrupt is alive.
std::atomic<bool> g_interrupted{false};
static_assert(std::atomic<bool>::is_always_lock_free, "used in a signal handler");

void OnInterrupt(int) { g_interrupted.store(true); }

}  // namespace

Interrupt::Interrupt() {
  g_interrupted.store(false);
  struct sigaction action = {};
  action.sa_handler = &OnInterrupt;
  action.sa_flags = SA_RESTART;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, &old_int_);
  sigaction(SIGTERM, &action, &old_term_);
  thread_ = std::thread([this] { Run(); });
}

Interrupt::~Interrupt() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    done_ = true;
    watched_ = nullptr;
  }
  cv_.notify_all();
  thread_.join();
  sigaction(SIGINT, &old_int_, nullptr);
  sigaction(SIGTERM, &old_term_, nullptr);
}

bool Interrupt::interrupted() const { return g_interrupted.load(); }

void Interrupt::Watch(grpc::ClientContext* context) {
  std::lock_guard<std::mutex> lock(mu_);
  watched_ = context;
  if (watched_ != nullptr && g_interrupted.load()) watched_->TryCancel();
}

bool Interrupt::Sleep(int64_t nanos) const {
  const auto until = std::chrono::steady_clock::now() + std::chrono::nanoseconds(nanos);
  while (std::chrono::steady_clock::now() < until) {
    if (interrupted()) return false;
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(
        kSlice, until - std::chrono::steady_clock::now()));
  }
  return !interrupted();
}

void Interrupt::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  grpc::ClientContext* cancelled = nullptr;
  while (!done_) {
    if (g_interrupted.load() && watched_ != nullptr && watched_ != cancelled) {
      watched_->TryCancel();
      cancelled = watched_;
    }
    cv_.wait_for(lock, kSlice);
  }
}

}  // namespace thingtank::cli::streams
