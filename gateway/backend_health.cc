#include "gateway/backend_health.h"

#include "grpcpp/client_context.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/support/byte_buffer.h"
#include "services/common/log.h"

namespace thingtank::gateway {
namespace {

// grpc.health.v1.HealthCheckRequest{service: ""} is the empty message; a
// SERVING HealthCheckResponse is field 1 (varint) = 1. Encoded by hand to avoid
// generating health.proto, which Debian does not ship.
bool CheckServing(const std::shared_ptr<grpc::Channel>& channel) {
  grpc::GenericStub stub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(1));
  grpc::ByteBuffer request, response;
  grpc::Slice empty;
  request = grpc::ByteBuffer(&empty, 1);
  absl::Mutex mu;
  bool done = false;
  grpc::Status status;
  stub.UnaryCall(&context, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &request, &response,
                 [&](grpc::Status s) {
                   absl::MutexLock lock(&mu);
                   status = std::move(s);
                   done = true;
                 });
  absl::MutexLock lock(&mu);
  mu.Await(absl::Condition(&done));
  if (!status.ok()) return false;
  std::vector<grpc::Slice> slices;
  if (!response.Dump(&slices).ok()) return false;
  std::string bytes;
  for (const auto& s : slices) bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
  return bytes == std::string("\x08\x01", 2);
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
