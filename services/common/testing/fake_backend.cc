#include "services/common/testing/fake_backend.h"

#include <gtest/gtest.h>

#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/proto_buffer_reader.h"
#include "grpcpp/support/slice.h"
#include "services/common/grpc_status.h"

namespace thingtank {

bool FakeCall::Ended() const {
  return cancelled_->load() || stopping_->load() || absl::Now() >= deadline_;
}

bool FakeCall::WaitUntil(const std::function<bool()>& condition, absl::Duration limit) const {
  const absl::Time until = absl::Now() + limit;
  while (!condition()) {
    if (Ended() || absl::Now() >= until) return condition();
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

// One call: reads the request, runs the handler on the pool, answers.
class FakeBackend::Reactor final : public grpc::ServerGenericBidiReactor {
 public:
  Reactor(FakeBackend* backend, grpc::GenericCallbackServerContext* context)
      : backend_(backend), context_(context) {
    StartRead(&request_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) return Finish(grpc::Status(grpc::StatusCode::INTERNAL, "no request"));
    RawHandler handler = backend_->Find(context_->method());
    if (!handler) {
      return Finish(grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                                 absl::StrCat("the fake backend has no handler for ",
                                              context_->method())));
    }
    // No deadline arrives as the far future.
    const auto far = std::chrono::system_clock::now() + std::chrono::hours(24 * 365);
    const absl::Time deadline = context_->deadline() > far
                                    ? absl::InfiniteFuture()
                                    : absl::FromChrono(context_->deadline());
    const bool posted = backend_->pool_.Post([this, handler = std::move(handler), deadline] {
      const FakeCall call(&cancelled_, &backend_->stopping_, deadline);
      absl::Status status = handler(call, request_, &reply_);
      if (!status.ok()) return Finish(ToGrpcStatus(status));
      StartWriteAndFinish(&reply_, grpc::WriteOptions(), grpc::Status::OK);
    });
    if (!posted) Finish(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, "fake backend busy"));
  }
  // The handler sees it through FakeCall::Ended and answers; Finish follows.
  void OnCancel() override { cancelled_ = true; }
  void OnDone() override { delete this; }

 private:
  FakeBackend* const backend_;
  grpc::GenericCallbackServerContext* const context_;
  std::atomic<bool> cancelled_{false};
  grpc::ByteBuffer request_, reply_;
};

FakeBackend::FakeBackend() : pool_("fake-backend", 8, 10000) {
  auto server = GrpcServer::Start(GrpcServerOptions{}, {}, this);
  EXPECT_TRUE(server.ok()) << server.status();
  if (server.ok()) server_ = *std::move(server);
}

FakeBackend::~FakeBackend() { Shutdown(); }

void FakeBackend::Shutdown() {
  stopping_ = true;
  if (server_ != nullptr) server_->Shutdown(absl::Seconds(1));
}

int FakeBackend::port() const { return server_ == nullptr ? 0 : server_->port(); }

std::string FakeBackend::address() const { return absl::StrCat("127.0.0.1:", port()); }

std::shared_ptr<grpc::Channel> FakeBackend::Channel() const {
  return grpc::CreateChannel(address(), grpc::InsecureChannelCredentials());
}

namespace {
// "pkg.Service.Method" -> "/pkg.Service/Method"
std::string PathOf(const google::protobuf::MethodDescriptor& method) {
  return absl::StrCat("/", method.service()->full_name(), "/", method.name());
}
}  // namespace

void FakeBackend::Register(absl::string_view method, const google::protobuf::Descriptor* request,
                           const google::protobuf::Descriptor* response, RawHandler handler) {
  const google::protobuf::MethodDescriptor* m =
      google::protobuf::DescriptorPool::generated_pool()->FindMethodByName(std::string(method));
  ASSERT_NE(m, nullptr) << "no method " << method << " in the generated descriptors";
  ASSERT_FALSE(m->client_streaming() || m->server_streaming()) << method << " streams";
  ASSERT_EQ(m->input_type(), request) << method << " takes " << m->input_type()->full_name();
  ASSERT_EQ(m->output_type(), response) << method << " returns " << m->output_type()->full_name();
  absl::MutexLock lock(&mu_);
  handlers_[PathOf(*m)] = std::move(handler);
}

FakeBackend::RawHandler FakeBackend::Find(const std::string& path) {
  absl::MutexLock lock(&mu_);
  auto it = handlers_.find(path);
  if (it == handlers_.end()) return nullptr;
  ++calls_[path];
  return it->second;
}

int FakeBackend::calls(absl::string_view method) const {
  const google::protobuf::MethodDescriptor* m =
      google::protobuf::DescriptorPool::generated_pool()->FindMethodByName(std::string(method));
  if (m == nullptr) return 0;
  absl::MutexLock lock(&mu_);
  auto it = calls_.find(PathOf(*m));
  return it == calls_.end() ? 0 : it->second;
}

bool FakeBackend::AwaitCalls(absl::string_view method, int n, absl::Duration limit) {
  const absl::Time until = absl::Now() + limit;
  while (calls(method) < n) {
    if (absl::Now() >= until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

bool FakeBackend::Parse(const grpc::ByteBuffer& in, google::protobuf::Message* out) {
  grpc::ByteBuffer copy(in);
  grpc::ProtoBufferReader reader(&copy);
  return out->ParseFromZeroCopyStream(&reader);
}

void FakeBackend::Serialize(const google::protobuf::Message& message, grpc::ByteBuffer* out) {
  grpc::Slice slice(message.SerializeAsString());
  *out = grpc::ByteBuffer(&slice, 1);
}

grpc::ServerGenericBidiReactor* FakeBackend::CreateReactor(
    grpc::GenericCallbackServerContext* context) {
  return new Reactor(this, context);
}

}  // namespace thingtank
