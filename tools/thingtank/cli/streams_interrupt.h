#pragma once

// Ctrl-C for the commands of `thingtank streams` that run until stopped
// (get --follow, subscribe). Internal to tools/thingtank/cli.

#include <grpcpp/grpcpp.h>
#include <signal.h>

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>

namespace thingtank::cli::streams {

// While alive: SIGINT (Ctrl-C) and SIGTERM set a flag instead of killing the
// process, so that the command ends cleanly with exit 0, and cancel the call
// being watched (a thread polls the flag: a signal handler may not call
// gRPC). One at a time per process; Watch and Sleep from one thread.
class Interrupt {
 public:
  Interrupt();
  ~Interrupt();
  Interrupt(const Interrupt&) = delete;
  Interrupt& operator=(const Interrupt&) = delete;

  bool interrupted() const;
  // Cancels `context` if an interrupt comes (or came) while it is watched;
  // nullptr stops watching. The context must outlive its watch.
  void Watch(grpc::ClientContext* context);
  // Sleeps `nanos` in short slices; false when interrupted first.
  bool Sleep(int64_t nanos) const;

 private:
  void Run();

  struct sigaction old_int_ = {};
  struct sigaction old_term_ = {};
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;                       // guarded by mu_
  grpc::ClientContext* watched_ = nullptr;  // guarded by mu_
  std::thread thread_;
};

}  // namespace thingtank::cli::streams
