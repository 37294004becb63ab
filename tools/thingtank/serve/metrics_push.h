#pragma once

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "grpcpp/server.h"
#include "services/common/executor.h"
#include "services/common/metric_publisher.h"
#include "tools/thingtank/serve/peer_channel.h"
#include "tools/thingtank/serve/running_service.h"

namespace thingtank::serve {

// A service's AWS-namespace metrics pushed to the compute service once a
// minute (ARCHITECTURE: "Metrics between services"): when compute runs in
// this process, over the gateway's in-process channel; in microservice mode
// through --gateway-address; without either, nothing is sent. Wiring files
// own one, call Start from OnServing and Stop from Drain.
class MetricsPush {
 public:
  // `who` names the service in errors about --gateway-address.
  absl::Status Init(const ServeContext& context, Executor* executor, const std::string& who,
                    MetricPublisher::Build build);
  void Start(grpc::Server* server);
  void Stop();

 private:
  PeerAddress peer_;
  bool enabled_ = false;
  prometheus::Registry* registry_ = nullptr;
  std::unique_ptr<MetricPublisher> publisher_;
};

}  // namespace thingtank::serve
