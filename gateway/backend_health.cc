#include "gateway/backend_health.h"

#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/client_context.h"
#include "services/common/log.h"

namespace thingtank::gateway {
namespace {

// Runs on the poller's own thread, so a blocking call is fine here.
bool CheckServing(const std::shared_ptr<grpc::Channel>& channel) {
  auto stub = grpc::health::v1::Health::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(1));
  grpc::health::v1::HealthCheckRequest request;
  grpc::health::v1::HealthCheckResponse response;
  const grpc::Status status = stub->Check(&context, request, &response);
  return status.ok() && response.status() == grpc::health::v1::HealthCheckResponse::SERVING;
}

}  // namespace

BackendHealth::BackendHealth(const Backends* backends, GrpcServer* server, absl::Duration interval)
    : backends_(backends), server_(server), interval_(interval) {
  PollOnce();
  thread_ = std::thread([this] { Loop(); });
}

BackendHealth::~BackendHealth() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  thread_.join();
}

bool BackendHealth::AllServing() const {
  absl::MutexLock lock(&mu_);
  return all_serving_;
}

void BackendHealth::Loop() {
  for (;;) {
    {
      absl::MutexLock lock(&mu_);
      if (mu_.AwaitWithTimeout(absl::Condition(&stopping_), interval_)) return;
    }
    PollOnce();
  }
}

void BackendHealth::PollOnce() {
  bool all = true;
  for (const auto& [service, names] : backends_->service_names()) {
    const bool serving = CheckServing(backends_->channel(service));
    all = all && serving;
    for (const auto& name : names) server_->SetServing(name, serving);
  }
  server_->SetServing("", all);
  absl::MutexLock lock(&mu_);
  if (all != all_serving_) TT_LOG_INFO("backends {}", all ? "all serving" : "not all serving");
  all_serving_ = all;
}

}  // namespace thingtank::gateway
