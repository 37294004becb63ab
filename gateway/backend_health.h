#pragma once

#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "gateway/forwarder.h"
#include "services/common/server.h"

namespace thingtank::gateway {

// Polls each backend's grpc.health.v1 Check every `interval` and mirrors the
// answer into the gateway's own health service, under the backend's proto
// service names, so clients and probes asking the gateway see the truth.
// Owns one thread (off every reactor); stops in the destructor.
class BackendHealth {
 public:
  BackendHealth(const Backends* backends, GrpcServer* server, absl::Duration interval);
  ~BackendHealth();
  // True when every backend answered SERVING at the last poll.
  bool AllServing() const;

 private:
  void Loop();
  void PollOnce();

  const Backends* const backends_;
  GrpcServer* const server_;
  const absl::Duration interval_;
  mutable absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool all_serving_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace thingtank::gateway
