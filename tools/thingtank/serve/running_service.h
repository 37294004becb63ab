#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "google/protobuf/descriptor.h"
#include "grpcpp/impl/service_type.h"
#include "grpcpp/server.h"
#include "services/common/clock.h"
#include "services/common/config.h"
#include "services/common/metrics_hub.h"
#include "services/common/rpc_metrics.h"
#include "services/common/server.h"

namespace thingtank::serve {

// What every service's wiring receives from `thingtank serve`.
struct ServeContext {
  const ServeConfig* config;
  Clock* clock;
  MetricsHub* metrics;
  RpcMetrics* rpc_metrics;
  CallGate* gate;  // null unless the gateway runs in this process with auth
  // The proto services of every service of this build, by service name (the
  // WAMP bridge offers them all).
  std::map<std::string, std::vector<const google::protobuf::ServiceDescriptor*>> apis;
};

// One started service: its domain, storage and gRPC face. Destroying it closes
// everything it opened; the gRPC server that serves it must be shut down first.
class RunningService {
 public:
  virtual ~RunningService() = default;
  virtual std::vector<grpc::Service*> grpc_services() = 0;
  // Full proto service names, for health.
  virtual std::vector<std::string> proto_service_names() const = 0;
  // Answers everything still waiting (long polls) so the server can drain.
  virtual void Drain() {}
  // Ports the service opened itself (not gRPC), for ports.json: {"wamp_ws": 8080}.
  virtual std::map<std::string, int> extra_ports() const { return {}; }
  // Called once the gRPC server that hosts the service runs (in monolithic
  // mode the gateway, whose in-process channel reaches every service).
  virtual void OnServing(grpc::Server* server) {}
  // Called once every port is known: `address` is where clients reach this
  // service (host:port of the gateway in monolithic mode, else its own port).
  virtual void OnReachableAt(const std::string& address) {}
};

// One factory per service, each in its own <service>_wiring.cc.
absl::StatusOr<std::unique_ptr<RunningService>> StartCompute(const ServeContext& context);
absl::StatusOr<std::unique_ptr<RunningService>> StartObjects(const ServeContext& context);
absl::StatusOr<std::unique_ptr<RunningService>> StartQueues(const ServeContext& context);
absl::StatusOr<std::unique_ptr<RunningService>> StartStreams(const ServeContext& context);
absl::StatusOr<std::unique_ptr<RunningService>> StartTables(const ServeContext& context);
absl::StatusOr<std::unique_ptr<RunningService>> StartWamp(const ServeContext& context);

}  // namespace thingtank::serve
