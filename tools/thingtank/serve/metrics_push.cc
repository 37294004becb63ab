#include "tools/thingtank/serve/metrics_push.h"

#include "services/compute/client/service_metrics.h"
#include "services/common/status.h"

namespace thingtank::serve {

absl::Status MetricsPush::Init(const ServeContext& context, Executor* executor,
                               const std::string& who, MetricPublisher::Build build) {
  TT_ASSIGN_OR_RETURN(peer_, ParsePeerAddress(*context.config, /*required=*/false, who));
  enabled_ = context.config->Runs("compute") || !peer_.gateway_address.empty();
  registry_ = context.metrics->registry();
  publisher_ = std::make_unique<MetricPublisher>(context.clock, executor,
                                                 compute::ServiceMetricsBatch::kMethod,
                                                 std::move(build));
  return absl::OkStatus();
}

void MetricsPush::Start(grpc::Server* server) {
  if (enabled_) publisher_->Start(PeerChannel(server, peer_), registry_);
}

void MetricsPush::Stop() {
  if (publisher_) publisher_->Stop();
}

}  // namespace thingtank::serve
