#pragma once

#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "google/protobuf/descriptor.h"
#include "grpcpp/generic/async_generic_service.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/impl/service_type.h"
#include "services/common/rpc_metrics.h"
#include "services/common/server.h"

namespace thingtank::gateway {

// Stands in, on the gateway, for one service that runs in another process
// (microservice mode). Built from the service's protobuf descriptor, it
// registers every method under its real name, so health, reflection and
// routing by full method name all work, and forwards each call as raw gRPC
// frames: request and response stay serialized ByteBuffers, never parsed.
// Deadlines pass through; unary calls without one get `default_deadline`.
// All four kinds of method: streams are relayed one message in flight each
// way (flow control passes through), cancellation both ways.
// The backend channel reconnects within a second of the backend answering
// again (reconnect backoff capped at 1 s).
class ForwardingService final : public grpc::Service {
 public:
  ForwardingService(const google::protobuf::ServiceDescriptor* descriptor, std::string short_name,
                    std::string address, std::shared_ptr<grpc::Channel> backend, CallGate* gate,
                    RpcMetrics* metrics, absl::Duration default_deadline);

 private:
  grpc::ServerUnaryReactor* Forward(grpc::CallbackServerContext* context, const std::string& method,
                                    const grpc::ByteBuffer* request, grpc::ByteBuffer* response);
  grpc::ServerWriteReactor<grpc::ByteBuffer>* ForwardStream(grpc::CallbackServerContext* context,
                                                            const std::string& method,
                                                            const grpc::ByteBuffer* request);
  // A client-streaming (`Caller` a ServerReadReactor; its one response goes
  // to `response`) or bidi call, relayed message by message.
  template <typename Caller>
  Caller* ForwardDuplex(grpc::CallbackServerContext* context, const std::string& method,
                        const char* type, grpc::ByteBuffer* response);
  // The context of the backend call: the caller's deadline (a unary call
  // without one gets the default; a stream none) and its forwardable metadata.
  std::unique_ptr<grpc::ClientContext> BackendContext(const grpc::CallbackServerContext& context,
                                                      bool stream) const;

  // A failure of the backend's transport (it is down, or not there yet)
  // becomes UNAVAILABLE naming the backend and its address (ErrorInfo reason
  // BackendUnavailable, metadata service and address), so that callers do not
  // blame the gateway; the backend's own answers pass as they are.
  grpc::Status Relayed(const grpc::Status& status) const;

  const std::string short_name_;
  const std::string address_;
  grpc::GenericStub stub_;
  CallGate* const gate_;
  RpcMetrics* const metrics_;
  const absl::Duration default_deadline_;
  std::deque<std::string> method_names_;  // RpcServiceMethod keeps char pointers into these.
};

// Answers calls no registered service takes: a ThingTank service that is not
// behind this gateway (UNIMPLEMENTED naming it and what the gateway does
// serve, reason ServiceNotBehindGateway), or an unknown method.
class UnroutedCalls final : public grpc::CallbackGenericService {
 public:
  explicit UnroutedCalls(std::vector<std::string> served) : served_(std::move(served)) {}
  grpc::ServerGenericBidiReactor* CreateReactor(grpc::GenericCallbackServerContext* context) override;

  // The status for a call of `method` ("/pkg.Service/Method").
  grpc::Status StatusFor(const std::string& method) const;

 private:
  const std::vector<std::string> served_;  // service names ("queues")
};

// The backend channels of a gateway in microservice mode, and the forwarding
// services for every proto service of each backend.
class Backends {
 public:
  // The proto services of each service this gateway can route, by service
  // name (from the binary's module list).
  using Apis = std::map<std::string, std::vector<const google::protobuf::ServiceDescriptor*>>;

  // `addresses` maps service name ("queues") to "host:port". Fails for a
  // service with no API in `apis`.
  static absl::StatusOr<std::unique_ptr<Backends>> Create(
      const std::map<std::string, std::string>& addresses, const Apis& apis, CallGate* gate,
      RpcMetrics* metrics, absl::Duration default_deadline);

  std::vector<grpc::Service*> services() const;
  // Full proto service names behind each backend, for health reporting.
  const std::map<std::string, std::vector<std::string>>& service_names() const { return names_; }
  std::shared_ptr<grpc::Channel> channel(const std::string& service) const { return channels_.at(service); }

 private:
  std::map<std::string, std::shared_ptr<grpc::Channel>> channels_;
  std::map<std::string, std::vector<std::string>> names_;
  std::vector<std::unique_ptr<ForwardingService>> services_;
};

}  // namespace thingtank::gateway
