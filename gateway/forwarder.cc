#include "gateway/forwarder.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gateway/routes.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/impl/rpc_service_method.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/server_callback.h"
#include "services/common/grpc_status.h"

namespace thingtank::gateway {
namespace {

// Metadata the gateway does not pass on: credentials stop here (the backend
// trusts the gateway), and transport headers belong to each hop.
bool Forwardable(absl::string_view key) {
  return key != "authorization" && !absl::StartsWith(key, "grpc-") && key != "user-agent" &&
         key != "te" && key != "content-type" && !absl::StartsWith(key, ":");
}

}  // namespace

ForwardingService::ForwardingService(const google::protobuf::ServiceDescriptor* descriptor,
                                     std::string short_name, std::shared_ptr<grpc::Channel> backend,
                                     CallGate* gate, RpcMetrics* metrics,
                                     absl::Duration default_deadline)
    : short_name_(std::move(short_name)),
      stub_(std::move(backend)),
      gate_(gate),
      metrics_(metrics),
      default_deadline_(default_deadline) {
  int index = 0;
  for (int i = 0; i < descriptor->method_count(); ++i) {
    const auto* method = descriptor->method(i);
    if (method->client_streaming() || method->server_streaming()) continue;
    method_names_.push_back(absl::StrCat("/", descriptor->full_name(), "/", method->name()));
    const std::string& name = method_names_.back();
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
  auto* client_context = new grpc::ClientContext();
  const auto fallback = std::chrono::system_clock::now() +
                        std::chrono::milliseconds(absl::ToInt64Milliseconds(default_deadline_));
  client_context->set_deadline(std::min(context->deadline(), fallback));
  for (const auto& [key, value] : context->client_metadata()) {
    if (Forwardable(absl::string_view(key.data(), key.size()))) {
      client_context->AddMetadata(std::string(key.data(), key.size()), std::string(value.data(), value.size()));
    }
  }
  stub_.UnaryCall(client_context, method, grpc::StubOptions(), request, response,
                  [client_context, finish](grpc::Status status) {
                    delete client_context;
                    finish(status);
                  });
  return reactor;
}

absl::StatusOr<std::unique_ptr<Backends>> Backends::Create(
    const std::map<std::string, std::string>& addresses, CallGate* gate, RpcMetrics* metrics,
    absl::Duration default_deadline) {
  auto backends = std::unique_ptr<Backends>(new Backends());
  for (const auto& [service, address] : addresses) {
    const std::vector<const google::protobuf::ServiceDescriptor*> descriptors = ProtoServicesOf(service);
    if (descriptors.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--backends: this gateway knows no API of service \"", service, "\""));
    }
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(-1);  // The gateway's own server enforces the limits.
    args.SetMaxSendMessageSize(-1);
    auto channel = grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
    backends->channels_[service] = channel;
    for (const auto* descriptor : descriptors) {
      backends->names_[service].push_back(descriptor->full_name());
      backends->services_.push_back(std::make_unique<ForwardingService>(
          descriptor, service, channel, gate, metrics, default_deadline));
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
