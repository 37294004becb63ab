#pragma once

#include <functional>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "google/protobuf/message.h"
#include "grpcpp/channel.h"
#include "grpcpp/generic/generic_stub.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"
#include "services/common/clock.h"

namespace thingtank {

// Unary calls from one service to another (compute's alarm actions, object
// notifications, stream and WAMP rules): over an in-process channel in
// monolithic mode, the gateway or a backend address in microservice mode.
// Never blocks: every call completes through its callback.
//
// Each call has a deadline covering all its attempts. UNAVAILABLE, and
// RESOURCE_EXHAUSTED that carries a google.rpc.RetryInfo, are retried up to
// `max_attempts` in all, after an exponential backoff with jitter on the
// injected clock (at least RetryInfo's delay when the server gives one), as
// long as the deadline leaves room. Shutdown() cancels what is in flight or
// waiting and refuses new calls. Records grpc_client_started_total,
// grpc_client_handled_total{grpc_code}, grpc_client_handling_seconds (labels
// grpc_service, grpc_method, grpc_type) and thingtank_client_retries_total.
// Thread-safe.
class AsyncClient {
 public:
  struct Options {
    absl::Duration deadline = absl::Seconds(10);  // per call, all attempts together
    int max_attempts = 4;
    absl::Duration initial_backoff = absl::Milliseconds(100);
    double backoff_multiplier = 2.0;
    absl::Duration max_backoff = absl::Seconds(5);
    double jitter = 0.2;  // each delay is scaled by a factor in [1 - jitter, 1 + jitter]
  };
  using Done = std::function<void(absl::Status status)>;

  // `registry` may be null (no metrics). `clock` times the backoffs.
  AsyncClient(std::shared_ptr<grpc::Channel> channel, Clock* clock, prometheus::Registry* registry,
              Options options);
  AsyncClient(std::shared_ptr<grpc::Channel> channel, Clock* clock, prometheus::Registry* registry)
      : AsyncClient(std::move(channel), clock, registry, Options()) {}
  // Shuts down (see Shutdown).
  ~AsyncClient();

  // Calls `method` ("/thingtank.queues.v1.QueuesService/SendMessage") with
  // `request`, parses the answer into `*response` and runs `done` once, from
  // a gRPC or clock thread (at once with UNAVAILABLE after Shutdown).
  // `request` need not outlive the call; `response` must live until `done`
  // runs. `deadline` (optional) replaces the default of Options. Returns the
  // call's id, for Cancel.
  // `scope` (optional, from NewScope) groups calls for CancelScope.
  using CallId = uint64_t;
  using ScopeId = uint64_t;
  CallId Call(const std::string& method, const google::protobuf::Message& request,
              google::protobuf::Message* response, Done done,
              absl::Duration deadline = absl::ZeroDuration(), ScopeId scope = 0);

  // Typed convenience: `done(StatusOr<Response>)`.
  template <typename Response, typename Request>
  CallId Call(const std::string& method, const Request& request,
              std::function<void(absl::StatusOr<Response>)> done,
              absl::Duration deadline = absl::ZeroDuration(), ScopeId scope = 0) {
    auto response = std::make_shared<Response>();
    return Call(
        method, request, response.get(),
        [response, done = std::move(done)](absl::Status status) {
          if (status.ok()) return done(std::move(*response));
          done(std::move(status));
        },
        deadline, scope);
  }

  // Ends one call with CANCELLED (in flight: cancelled on the wire; waiting
  // for a retry: at once) unless it is already over. Its `done` still runs
  // exactly once.
  void Cancel(CallId id);

  // A group of calls (one user's: a rule, a subscription) to cancel together.
  ScopeId NewScope();
  // Cancels every call of `scope`, and ends calls made in it from now on with
  // CANCELLED at once.
  void CancelScope(ScopeId scope);

  // Refuses new calls, cancels every call in flight and every backoff, and
  // returns once no callback runs or will run. Idempotent.
  void Shutdown();

 private:
  struct Pending;
  struct Series {
    prometheus::Counter* started;
    prometheus::Histogram* seconds;
    prometheus::Counter* retries;
    std::map<std::string, std::string> labels;
  };

  void Attempt(std::shared_ptr<Pending> call);
  void Finished(std::shared_ptr<Pending> call, const grpc::Status& status);
  void Complete(const std::shared_ptr<Pending>& call, absl::Status status);
  // How long to wait before the next attempt, or nullopt not to retry.
  std::optional<absl::Duration> RetryDelay(const Pending& call, const grpc::Status& status);
  Series* SeriesFor(const std::string& method) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void CountHandled(const Pending& call, grpc::StatusCode code);

  grpc::GenericStub stub_;
  Clock* const clock_;
  const Options options_;
  prometheus::Family<prometheus::Counter>* started_ = nullptr;
  prometheus::Family<prometheus::Counter>* handled_ = nullptr;
  prometheus::Family<prometheus::Histogram>* seconds_ = nullptr;
  prometheus::Family<prometheus::Counter>* retries_ = nullptr;

  absl::Mutex mu_;
  bool shut_down_ ABSL_GUARDED_BY(mu_) = false;
  int busy_ ABSL_GUARDED_BY(mu_) = 0;  // calls not yet completed
  CallId next_id_ ABSL_GUARDED_BY(mu_) = 1;
  ScopeId next_scope_ ABSL_GUARDED_BY(mu_) = 1;
  std::set<ScopeId> cancelled_scopes_ ABSL_GUARDED_BY(mu_);
  std::map<CallId, std::shared_ptr<Pending>> calls_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::unique_ptr<Series>> series_ ABSL_GUARDED_BY(mu_);
  std::minstd_rand random_ ABSL_GUARDED_BY(mu_);
};

}  // namespace thingtank
