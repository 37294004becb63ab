#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/generic/async_generic_service.h"
#include "grpcpp/server.h"
#include "grpcpp/server_context.h"
#include "services/common/executor.h"
#include "services/common/rpc_metrics.h"

namespace thingtank {

// Decides whether a call may proceed (authentication, authorization, rate
// limits). The gateway implements it; a server without a gateway in front of
// it in the same process has none. Must not block: it runs on reactor threads.
class CallGate {
 public:
  virtual ~CallGate() = default;
  // `service` is the short service name ("queues").
  virtual absl::Status Admit(const grpc::ServerContextBase& context, const std::string& service) = 0;
};

// Runs the unary methods of one service: admits the call through the gate, runs
// the handler on the service's executor (never on the reactor thread), maps the
// status at the edge and records the grpc_server_* metrics. Thread-safe.
class UnaryRunner {
 public:
  using Done = std::function<void(absl::Status)>;

  // `full_service` is "thingtank.queues.v1.QueuesService"; `short_name` is
  // "queues". `gate` may be null.
  UnaryRunner(std::string full_service, std::string short_name, Executor* executor,
              RpcMetrics* metrics, CallGate* gate);

  // Whether the gate (if any) admits a call of this service.
  absl::Status Admit(const grpc::ServerContextBase& context) const {
    return gate_ != nullptr ? gate_->Admit(context, short_name_) : absl::OkStatus();
  }

  // The metric series of a server-streaming method of this service: its
  // handler records Started() and Handled() itself.
  RpcMetrics::Method* ServerStreamSeries(const char* method);

  // For StreamRunner (stream_runner.h), which runs the streaming methods of
  // the same service with the same executor, metrics and gate.
  Executor* executor() const { return executor_; }
  RpcMetrics::Method* StreamSeries(const char* method, const char* type) {
    return metrics_->ForMethod("/" + full_service_ + "/" + method, type);
  }

  // Runs `fn` (filling the response, returning the status) on the executor.
  template <typename Fn>
  grpc::ServerUnaryReactor* Run(grpc::CallbackServerContext* context, const char* method, Fn fn) {
    return RunAsync(context, method, [fn = std::move(fn)](Done done) mutable { done(fn()); });
  }

  // Runs `call` (returning absl::StatusOr<Response>) on the executor and
  // moves its value into `response`: the usual domain-method adapter. `call`
  // is a lambda rather than a member-function pointer (GCC 12's ASan+UBSan
  // misreports calls through the latter).
  template <typename Response, typename Call>
  grpc::ServerUnaryReactor* RunInto(grpc::CallbackServerContext* context, const char* method,
                                    Response* response, Call call) {
    return Run(context, method, Into(response, std::move(call)));
  }

  // Runs `fast` at once on the reactor thread; it must never block (no disk,
  // no lock held across I/O). If it returns WouldBlock() (status.h), runs
  // `slow` on the executor instead. For reads that are usually served from
  // memory: they skip the executor hop.
  template <typename Fast, typename Slow>
  grpc::ServerUnaryReactor* RunNonBlockingFirst(grpc::CallbackServerContext* context,
                                                const char* method, Fast fast, Slow slow) {
    return RunAsyncNonBlockingFirst(context, method,
                            [fast = std::move(fast)]() mutable { return fast(); },
                            [slow = std::move(slow)](Done done) mutable { done(slow()); });
  }

  // RunNonBlockingFirst for calls returning absl::StatusOr<Response>, moved
  // into `response` (as RunInto).
  template <typename Response, typename Fast, typename Slow>
  grpc::ServerUnaryReactor* RunNonBlockingFirstInto(grpc::CallbackServerContext* context,
                                                    const char* method, Response* response,
                                                    Fast fast, Slow slow) {
    return RunNonBlockingFirst(context, method, Into(response, std::move(fast)),
                               Into(response, std::move(slow)));
  }

  // Runs `fn` on the executor; `fn` calls `done` exactly once, at once or later
  // from any thread (long polls).
  grpc::ServerUnaryReactor* RunAsync(grpc::CallbackServerContext* context, const char* method,
                                     std::function<void(Done)> fn);

  // Admits the call, tries `inline_fn` (may be empty) on this thread, and
  // unless it finished the call (anything but WouldBlock()), posts `fn` to the
  // executor; `fn` calls its Done exactly once. A fallback is counted in
  // thingtank_rpc_fast_path_fallbacks_total.
  grpc::ServerUnaryReactor* RunAsyncNonBlockingFirst(grpc::CallbackServerContext* context,
                                                     const char* method,
                                                     std::function<absl::Status()> inline_fn,
                                                     std::function<void(Done)> fn);

 private:
  // `call` (returning absl::StatusOr<Response>) as a status-returning
  // function that moves the value into `response`.
  template <typename Response, typename Call>
  static auto Into(Response* response, Call call) {
    return [response, call = std::move(call)]() mutable -> absl::Status {
      absl::StatusOr<Response> result = call();
      if (result.ok()) *response = std::move(*result);
      return result.status();
    };
  }

  const std::string full_service_;
  const std::string short_name_;
  Executor* const executor_;
  RpcMetrics* const metrics_;
  CallGate* const gate_;
};

struct GrpcServerOptions {
  std::string address = "127.0.0.1";
  int port = 0;  // 0 picks a free port
  int max_message_bytes = 8 << 20;
  int max_concurrent_streams = 1000;
};

// A started gRPC server with health (grpc.health.v1) and reflection, and the
// limits ThingTank sets everywhere: message sizes, concurrent streams per
// connection and keepalive enforcement.
class GrpcServer {
 public:
  // `services` are registered as they are; `generic` (may be null) receives
  // every call no registered service takes.
  static absl::StatusOr<std::unique_ptr<GrpcServer>> Start(
      const GrpcServerOptions& options, const std::vector<grpc::Service*>& services,
      grpc::CallbackGenericService* generic);
  ~GrpcServer();

  int port() const { return port_; }
  grpc::Server* server() { return server_.get(); }
  // Health status of one service name ("" is the whole server).
  void SetServing(const std::string& service, bool serving);
  // Stops accepting calls, lets running ones finish until `grace`, then cancels.
  void Shutdown(absl::Duration grace);

 private:
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  bool shut_down_ = false;
};

}  // namespace thingtank
