#include "gateway/forwarder.h"

#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <type_traits>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/impl/rpc_service_method.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/client_callback.h"
#include "grpcpp/support/server_callback.h"
#include "services/common/grpc_status.h"
#include "services/common/status.h"

namespace thingtank::gateway {
namespace {

// Metadata the gateway does not pass on: credentials stop here (the backend
// trusts the gateway), and transport headers belong to each hop.
bool Forwardable(absl::string_view key) {
  return key != "authorization" && !absl::StartsWith(key, "grpc-") && key != "user-agent" &&
         key != "te" && key != "content-type" && !absl::StartsWith(key, ":");
}

// A server-streaming call relayed to the backend: toward the caller a
// ServerWriteReactor, toward the backend a generic bidi call (on the wire a
// server stream is a stream with one request). Two messages in flight at the
// most: the next response is read from the backend while the last one is
// written to the caller, and no further read starts until a write is done,
// so a slow caller slows the backend's stream down instead of piling
// messages up here. A hold keeps the backend call open while a next read or
// write may follow (its OnDone, and so the caller's Finish, come after the
// last write); cancel on either side ends both. Deletes itself when both
// sides are done. The state is guarded by mu_; gRPC operations are started
// outside it.
class StreamRelay {
 public:
  // Records the end of the call; may rewrite the status the caller gets.
  using Done = std::function<void(grpc::Status*)>;
  StreamRelay(std::unique_ptr<grpc::ClientContext> backend_context, const grpc::ByteBuffer& request,
              Done done)
      : context_(std::move(backend_context)), request_(request), done_(std::move(done)),
        down_(this), up_(this) {}

  // Starts the backend call; the returned reactor is the caller's side.
  grpc::ServerWriteReactor<grpc::ByteBuffer>* Start(grpc::GenericStub* stub, const std::string& method) {
    stub->PrepareBidiStreamingCall(context_.get(), method, grpc::StubOptions(), &up_);
    up_.AddHold();
    up_.StartWriteLast(&request_, grpc::WriteOptions());
    {
      absl::MutexLock lock(&mu_);
      read_pending_ = true;
    }
    up_.StartRead(&read_buf_);
    up_.StartCall();
    return &down_;
  }

 private:
  static constexpr size_t kInFlight = 2;  // read ahead + being written

  // What to start once mu_ is released.
  struct Next {
    bool read = false;
    const grpc::ByteBuffer* write = nullptr;
    bool release = false;  // drop the hold: no backend operation follows
  };

  Next Plan() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    Next n;
    if (!write_pending_ && !ready_.empty() && !broken_) {
      write_pending_ = true;
      n.write = &ready_.front();
    }
    if (!read_pending_ && !ended_ && !broken_ && ready_.size() < kInFlight) {
      read_pending_ = true;
      n.read = true;
    }
    bool drained = (ended_ && ready_.empty()) || broken_;
    if (drained && !write_pending_ && !read_pending_ && !released_) {
      released_ = true;
      n.release = true;
    }
    return n;
  }

  void Run(const Next& n) {
    if (n.write != nullptr) down_.StartWrite(n.write);
    if (n.read) up_.StartRead(&read_buf_);
    if (n.release) up_.RemoveHold();
  }

  void BackendReadDone(bool ok) {
    Next n;
    {
      absl::MutexLock lock(&mu_);
      read_pending_ = false;
      if (ok) {
        ready_.emplace_back();
        ready_.back().Swap(&read_buf_);
      } else {
        ended_ = true;  // the stream ended; OnDone brings its status
      }
      n = Plan();
    }
    Run(n);
  }

  void CallerWriteDone(bool ok) {
    Next n;
    {
      absl::MutexLock lock(&mu_);
      write_pending_ = false;
      ready_.pop_front();
      if (!ok) broken_ = true;  // the caller is gone: no more reads
      n = Plan();
    }
    if (!ok) context_->TryCancel();
    Run(n);
  }

  class Down final : public grpc::ServerWriteReactor<grpc::ByteBuffer> {
   public:
    explicit Down(StreamRelay* relay) : relay_(relay) {}
    void OnWriteDone(bool ok) override { relay_->CallerWriteDone(ok); }
    void OnCancel() override { relay_->context_->TryCancel(); }
    void OnDone() override { relay_->Unref(); }

   private:
    StreamRelay* const relay_;
  };
  class Up final : public grpc::ClientBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
   public:
    explicit Up(StreamRelay* relay) : relay_(relay) {}
    void OnReadDone(bool ok) override { relay_->BackendReadDone(ok); }
    void OnDone(const grpc::Status& backend_status) override {
      // No write to the caller is in flight: the hold went only once the
      // last write was done.
      grpc::Status status = backend_status;
      relay_->done_(&status);
      relay_->down_.Finish(status);
      relay_->Unref();
    }

   private:
    StreamRelay* const relay_;
  };

  void Unref() {
    if (refs_.fetch_sub(1) == 1) delete this;
  }

  std::unique_ptr<grpc::ClientContext> context_;
  grpc::ByteBuffer request_;
  grpc::ByteBuffer read_buf_;  // the backend read in flight
  Done done_;
  absl::Mutex mu_;
  std::deque<grpc::ByteBuffer> ready_ ABSL_GUARDED_BY(mu_);  // front: being written
  bool read_pending_ ABSL_GUARDED_BY(mu_) = false;
  bool write_pending_ ABSL_GUARDED_BY(mu_) = false;
  bool ended_ ABSL_GUARDED_BY(mu_) = false;
  bool broken_ ABSL_GUARDED_BY(mu_) = false;
  bool released_ ABSL_GUARDED_BY(mu_) = false;
  Down down_;
  Up up_;
  std::atomic<int> refs_{2};  // Down::OnDone and Up::OnDone
};

// A client-streaming or bidi call relayed to the backend as a generic bidi
// call; `Caller` is the caller-side reactor (ServerReadReactor for a client
// stream, whose one response goes to `response`; ServerBidiReactor for bidi).
// Two pumps, each with one message in flight: up (caller read -> backend
// write -> next caller read; the caller's half-close becomes WritesDone) and
// down (backend read -> caller write -> next backend read). A slow side thus
// slows the other instead of piling messages up here. Each pump holds the
// backend call open (a hold) while it may start a backend operation from the
// caller's side; the caller's Finish comes from the backend's OnDone, with its
// status. Cancel on either side ends both. Deletes itself when both are done.
template <typename Caller>
class DuplexRelay {
  static constexpr bool kBidi = std::is_same_v<Caller, grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>>;

 public:
  using Done = std::function<void(grpc::Status*)>;
  DuplexRelay(grpc::CallbackServerContext* caller_context,
              std::unique_ptr<grpc::ClientContext> backend_context, grpc::ByteBuffer* response,
              Done done)
      : caller_context_(caller_context), context_(std::move(backend_context)), response_(response),
        done_(std::move(done)), down_(this), up_(this) {}

  Caller* Start(grpc::GenericStub* stub, const std::string& method) {
    stub->PrepareBidiStreamingCall(context_.get(), method, grpc::StubOptions(), &up_);
    up_.AddMultipleHolds(2);  // the up pump's and the down pump's
    up_.StartRead(&down_message_);
    up_.StartCall();
    down_.StartRead(&up_message_);
    return &down_;
  }

 private:
  enum class UpState { kReadingCaller, kWritingBackend, kClosed };

  // The caller's side.
  class Down final : public Caller {
   public:
    explicit Down(DuplexRelay* relay) : relay_(relay) {}
    void OnReadDone(bool ok) override { relay_->CallerReadDone(ok); }
    void OnWriteDone(bool ok) {  // overrides only for bidi (a read reactor writes nothing)
      if constexpr (kBidi) relay_->CallerWriteDone(ok);
    }
    void OnCancel() override {
      // A passed deadline ends the backend call by itself (it has the same
      // deadline), as DEADLINE_EXCEEDED there too rather than CANCELLED.
      // gRPC's timers and the system clock may differ by a few ms: a cancel
      // that close to the deadline is the deadline's.
      if (relay_->caller_context_->deadline() >
          std::chrono::system_clock::now() + std::chrono::milliseconds(100)) {
        relay_->context_->TryCancel();
      }
    }
    void OnDone() override { relay_->Unref(); }

   private:
    DuplexRelay* const relay_;
  };
  // The backend's side.
  class Up final : public grpc::ClientBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
   public:
    explicit Up(DuplexRelay* relay) : relay_(relay) {}
    void OnReadDone(bool ok) override { relay_->BackendReadDone(ok); }
    void OnWriteDone(bool ok) override { relay_->BackendWriteDone(ok); }
    void OnWritesDoneDone(bool) override { RemoveHold(); }
    void OnDone(const grpc::Status& backend_status) override {
      // Both pumps are over: no caller write is in flight.
      grpc::Status status = backend_status;
      relay_->done_(&status);
      relay_->down_.Finish(status);
      relay_->Unref();
    }

   private:
    DuplexRelay* const relay_;
  };

  // Up pump. Operations start outside the lock (a reaction may run inline);
  // the state says which one is in flight, so BackendEnded knows whether it
  // may drop the up pump's hold.
  void CallerReadDone(bool ok) {
    UpState next;
    {
      absl::MutexLock lock(&mu_);
      if (up_state_ == UpState::kClosed) return;  // the backend ended first
      next = ok ? UpState::kWritingBackend : UpState::kClosed;
      up_state_ = next;
    }
    if (next == UpState::kWritingBackend) {
      up_.StartWrite(&up_message_);
    } else if (caller_context_->IsCancelled()) {
      up_.RemoveHold();
    } else {
      up_.StartWritesDone();  // the caller half-closed; its completion drops the hold
    }
  }
  void BackendWriteDone(bool ok) {
    bool more;
    {
      absl::MutexLock lock(&mu_);
      more = ok && !backend_ended_;
      up_state_ = more ? UpState::kReadingCaller : UpState::kClosed;
    }
    if (more) {
      down_.StartRead(&up_message_);
    } else {
      up_.RemoveHold();
    }
  }

  // Down pump.
  void BackendReadDone(bool ok) {
    if (ok) {
      if constexpr (kBidi) {
        down_.StartWrite(&down_message_);
      } else {
        response_->Swap(&down_message_);  // a client stream's one response
        up_.StartRead(&down_message_);    // then its status
      }
      return;
    }
    BackendEnded();
  }
  void CallerWriteDone(bool ok) {
    if (ok) {
      up_.StartRead(&down_message_);
    } else {
      context_->TryCancel();  // the caller is gone
      BackendEnded();
    }
  }
  // The down pump is over: releases its hold, and the up pump's if it waits
  // on the caller (the caller's pending read ends with the caller's Finish).
  void BackendEnded() {
    bool release_up = false;
    {
      absl::MutexLock lock(&mu_);
      backend_ended_ = true;
      if (up_state_ == UpState::kReadingCaller) {
        up_state_ = UpState::kClosed;
        release_up = true;
      }
    }
    if (release_up) up_.RemoveHold();
    up_.RemoveHold();
  }

  void Unref() {
    if (refs_.fetch_sub(1) == 1) delete this;
  }

  grpc::CallbackServerContext* const caller_context_;
  std::unique_ptr<grpc::ClientContext> context_;
  grpc::ByteBuffer* const response_;  // a client stream's
  Done done_;
  grpc::ByteBuffer up_message_;
  grpc::ByteBuffer down_message_;
  absl::Mutex mu_;
  UpState up_state_ ABSL_GUARDED_BY(mu_) = UpState::kReadingCaller;
  bool backend_ended_ ABSL_GUARDED_BY(mu_) = false;
  Down down_;
  Up up_;
  std::atomic<int> refs_{2};  // Down::OnDone and Up::OnDone
};

// A caller's stream that ends at once with `status` (refused at the gate).
template <typename Reactor>
class RefusedStream final : public Reactor {
 public:
  explicit RefusedStream(const grpc::Status& status) { this->Finish(status); }
  void OnDone() override { delete this; }
};

const char* TypeOf(const google::protobuf::MethodDescriptor& m) {
  if (m.client_streaming()) return m.server_streaming() ? "bidi_stream" : "client_stream";
  return m.server_streaming() ? "server_stream" : "unary";
}

}  // namespace

ForwardingService::ForwardingService(const google::protobuf::ServiceDescriptor* descriptor,
                                     std::string short_name, std::string address,
                                     std::shared_ptr<grpc::Channel> backend, CallGate* gate,
                                     RpcMetrics* metrics, absl::Duration default_deadline)
    : short_name_(std::move(short_name)),
      address_(std::move(address)),
      stub_(std::move(backend)),
      gate_(gate),
      metrics_(metrics),
      default_deadline_(default_deadline) {
  int index = 0;
  for (int i = 0; i < descriptor->method_count(); ++i) {
    const auto* method = descriptor->method(i);
    method_names_.push_back(absl::StrCat("/", descriptor->full_name(), "/", method->name()));
    const std::string& name = method_names_.back();
    const char* type = TypeOf(*method);
    if (method->client_streaming() && method->server_streaming()) {
      AddMethod(new grpc::internal::RpcServiceMethod(
          name.c_str(), grpc::internal::RpcMethod::BIDI_STREAMING, nullptr));
      MarkMethodRawCallback(
          index++, new grpc::internal::CallbackBidiHandler<grpc::ByteBuffer, grpc::ByteBuffer>(
                       [this, &name, type](grpc::CallbackServerContext* context) {
                         return ForwardDuplex<grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>>(
                             context, name, type, nullptr);
                       }));
      continue;
    }
    if (method->client_streaming()) {
      AddMethod(new grpc::internal::RpcServiceMethod(
          name.c_str(), grpc::internal::RpcMethod::CLIENT_STREAMING, nullptr));
      MarkMethodRawCallback(
          index++, new grpc::internal::CallbackClientStreamingHandler<grpc::ByteBuffer, grpc::ByteBuffer>(
                       [this, &name, type](grpc::CallbackServerContext* context, grpc::ByteBuffer* response) {
                         return ForwardDuplex<grpc::ServerReadReactor<grpc::ByteBuffer>>(
                             context, name, type, response);
                       }));
      continue;
    }
    if (method->server_streaming()) {
      AddMethod(new grpc::internal::RpcServiceMethod(
          name.c_str(), grpc::internal::RpcMethod::SERVER_STREAMING, nullptr));
      MarkMethodRawCallback(
          index++, new grpc::internal::CallbackServerStreamingHandler<grpc::ByteBuffer, grpc::ByteBuffer>(
                       [this, &name](grpc::CallbackServerContext* context, const grpc::ByteBuffer* request) {
                         return ForwardStream(context, name, request);
                       }));
      continue;
    }
    AddMethod(new grpc::internal::RpcServiceMethod(name.c_str(), grpc::internal::RpcMethod::NORMAL_RPC,
                                                   nullptr));
    MarkMethodRawCallback(
        index++, new grpc::internal::CallbackUnaryHandler<grpc::ByteBuffer, grpc::ByteBuffer>(
                     [this, &name](grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
                                   grpc::ByteBuffer* response) {
                       return Forward(context, name, request, response);
                     }));
  }
}

std::unique_ptr<grpc::ClientContext> ForwardingService::BackendContext(
    const grpc::CallbackServerContext& context, bool stream) const {
  auto client_context = std::make_unique<grpc::ClientContext>();
  if (stream) {
    // A stream (a subscription) may rightly run for hours: only the caller's deadline.
    client_context->set_deadline(context.deadline());
  } else {
    const auto fallback = std::chrono::system_clock::now() +
                          std::chrono::milliseconds(absl::ToInt64Milliseconds(default_deadline_));
    client_context->set_deadline(std::min(context.deadline(), fallback));
  }
  for (const auto& [key, value] : context.client_metadata()) {
    if (Forwardable(absl::string_view(key.data(), key.size()))) {
      client_context->AddMetadata(std::string(key.data(), key.size()), std::string(value.data(), value.size()));
    }
  }
  return client_context;
}

grpc::ServerWriteReactor<grpc::ByteBuffer>* ForwardingService::ForwardStream(
    grpc::CallbackServerContext* context, const std::string& method, const grpc::ByteBuffer* request) {
  RpcMetrics::Method* series = metrics_->ForMethod(method, "server_stream");
  series->Started();
  const absl::Time start = absl::Now();
  auto done = [this, series, start](grpc::Status* status) {
    *status = Relayed(*status);
    series->Handled(status->error_code(), absl::Now() - start);
  };
  if (gate_ != nullptr) {
    if (absl::Status admitted = gate_->Admit(*context, short_name_); !admitted.ok()) {
      const grpc::Status status = ToGrpcStatus(admitted);
      series->Handled(status.error_code(), absl::Now() - start);
      return new RefusedStream<grpc::ServerWriteReactor<grpc::ByteBuffer>>(status);
    }
  }
  auto* relay = new StreamRelay(BackendContext(*context, /*stream=*/true), *request, std::move(done));
  return relay->Start(&stub_, method);
}

template <typename Caller>
Caller* ForwardingService::ForwardDuplex(grpc::CallbackServerContext* context,
                                         const std::string& method, const char* type,
                                         grpc::ByteBuffer* response) {
  RpcMetrics::Method* series = metrics_->ForMethod(method, type);
  series->Started();
  const absl::Time start = absl::Now();
  if (gate_ != nullptr) {
    if (absl::Status admitted = gate_->Admit(*context, short_name_); !admitted.ok()) {
      const grpc::Status status = ToGrpcStatus(admitted);
      series->Handled(status.error_code(), absl::Now() - start);
      return new RefusedStream<Caller>(status);
    }
  }
  auto done = [this, series, start](grpc::Status* status) {
    *status = Relayed(*status);
    series->Handled(status->error_code(), absl::Now() - start);
  };
  auto* relay = new DuplexRelay<Caller>(context, BackendContext(*context, /*stream=*/true), response,
                                        std::move(done));
  return relay->Start(&stub_, method);
}

grpc::ServerUnaryReactor* ForwardingService::Forward(grpc::CallbackServerContext* context,
                                                     const std::string& method,
                                                     const grpc::ByteBuffer* request,
                                                     grpc::ByteBuffer* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  RpcMetrics::Method* series = metrics_->ForMethod(method);
  series->Started();
  const absl::Time start = absl::Now();
  auto finish = [reactor, series, start](const grpc::Status& status) {
    series->Handled(status.error_code(), absl::Now() - start);
    reactor->Finish(status);
  };
  if (gate_ != nullptr) {
    if (absl::Status admitted = gate_->Admit(*context, short_name_); !admitted.ok()) {
      finish(ToGrpcStatus(admitted));
      return reactor;
    }
  }
  grpc::ClientContext* client_context = BackendContext(*context, /*stream=*/false).release();
  stub_.UnaryCall(client_context, method, grpc::StubOptions(), request, response,
                  [this, client_context, finish](grpc::Status status) {
                    delete client_context;
                    finish(Relayed(status));
                  });
  return reactor;
}

grpc::Status ForwardingService::Relayed(const grpc::Status& status) const {
  // The backend's own errors carry details; a transport failure has none.
  if (status.error_code() != grpc::StatusCode::UNAVAILABLE || !status.error_details().empty()) {
    return status;
  }
  return ToGrpcStatus(ErrorWithReason(
      absl::StatusCode::kUnavailable, "BackendUnavailable",
      absl::StrCat("the ", short_name_, " backend at ", address_,
                   " is unavailable (the gateway is up): ", status.error_message()),
      {{"service", short_name_}, {"address", address_}}));
}

namespace {

// A generic call that ends at once with `status`.
class RefusedGenericCall final : public grpc::ServerGenericBidiReactor {
 public:
  explicit RefusedGenericCall(const grpc::Status& status) { Finish(status); }
  void OnDone() override { delete this; }
};

}  // namespace

grpc::Status UnroutedCalls::StatusFor(const std::string& method) const {
  // "/thingtank.tables.v1.TablesService/GetItem" -> "tables"
  std::vector<std::string> parts = absl::StrSplit(method, absl::ByAnyChar("/."));
  const std::string served = served_.empty() ? "nothing" : absl::StrJoin(served_, ", ");
  if (parts.size() >= 4 && parts[0].empty() && parts[1] == "thingtank") {
    const std::string& service = parts[2];
    return ToGrpcStatus(ErrorWithReason(
        absl::StatusCode::kUnimplemented, "ServiceNotBehindGateway",
        absl::StrCat("the ", service, " service is not behind this gateway (it serves: ", served,
                     "); run it here or name its address in --backends"),
        {{"service", service}}));
  }
  return ToGrpcStatus(ErrorWithReason(absl::StatusCode::kUnimplemented, "UnknownMethod",
                                      absl::StrCat("unknown method ", method, " (this gateway serves: ",
                                                   served, ")")));
}

grpc::ServerGenericBidiReactor* UnroutedCalls::CreateReactor(
    grpc::GenericCallbackServerContext* context) {
  return new RefusedGenericCall(StatusFor(context->method()));
}

absl::StatusOr<std::unique_ptr<Backends>> Backends::Create(
    const std::map<std::string, std::string>& addresses, const Apis& apis, CallGate* gate,
    RpcMetrics* metrics, absl::Duration default_deadline) {
  auto backends = std::unique_ptr<Backends>(new Backends());
  for (const auto& [service, address] : addresses) {
    auto api = apis.find(service);
    const std::vector<const google::protobuf::ServiceDescriptor*> descriptors =
        api != apis.end() ? api->second : std::vector<const google::protobuf::ServiceDescriptor*>{};
    if (descriptors.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--backends: this gateway knows no API of service \"", service, "\""));
    }
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(-1);  // The gateway's own server enforces the limits.
    args.SetMaxSendMessageSize(-1);
    // A backend that comes back is used again within a second (gRPC's default
    // backoff grows to 2 minutes; 5-10 s after a short outage).
    args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
    args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
    auto channel = grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
    backends->channels_[service] = channel;
    for (const auto* descriptor : descriptors) {
      backends->names_[service].push_back(descriptor->full_name());
      backends->services_.push_back(std::make_unique<ForwardingService>(
          descriptor, service, address, channel, gate, metrics, default_deadline));
    }
  }
  return backends;
}

std::vector<grpc::Service*> Backends::services() const {
  std::vector<grpc::Service*> out;
  for (const auto& s : services_) out.push_back(s.get());
  return out;
}

}  // namespace thingtank::gateway
