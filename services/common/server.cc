#include "services/common/server.h"

#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"
#include "grpc/health/v1/health.pb.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"
#include "services/common/grpc_status.h"
#include "services/common/log.h"
#include "services/common/status.h"

namespace thingtank {
namespace {

// Why gRPC could not listen on host:port (it does not say): binds a socket
// there to find out.
std::string WhyCannotBind(const std::string& host, int port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* found = nullptr;
  if (int rc = getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found); rc != 0) {
    return absl::StrCat("not a local address (", gai_strerror(rc), ")");
  }
  std::string why = "unknown reason";
  const int fd = socket(found->ai_family, found->ai_socktype, found->ai_protocol);
  if (fd >= 0) {
    if (bind(fd, found->ai_addr, found->ai_addrlen) != 0) {
      why = errno == EADDRINUSE ? "address already in use" : std::strerror(errno);
    }
    close(fd);
  }
  freeaddrinfo(found);
  return why;
}

}  // namespace

UnaryRunner::UnaryRunner(std::string full_service, std::string short_name, Executor* executor,
                         RpcMetrics* metrics, CallGate* gate)
    : full_service_(std::move(full_service)),
      short_name_(std::move(short_name)),
      executor_(executor),
      metrics_(metrics),
      gate_(gate) {}

RpcMetrics::Method* UnaryRunner::ServerStreamSeries(const char* method) {
  return metrics_->ForMethod(absl::StrCat("/", full_service_, "/", method), "server_stream");
}

grpc::ServerUnaryReactor* UnaryRunner::RunAsync(grpc::CallbackServerContext* context,
                                                const char* method, std::function<void(Done)> fn) {
  return RunAsyncNonBlockingFirst(context, method, nullptr, std::move(fn));
}

grpc::ServerUnaryReactor* UnaryRunner::RunAsyncNonBlockingFirst(grpc::CallbackServerContext* context,
                                                        const char* method,
                                                        std::function<absl::Status()> inline_fn,
                                                        std::function<void(Done)> fn) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  RpcMetrics::Method* series = metrics_->ForMethod(absl::StrCat("/", full_service_, "/", method));
  series->Started();
  const absl::Time start = absl::Now();  // Wall time for latency metrics, not domain time.
  auto finish = [reactor, series, start](absl::Status status) {
    grpc::Status out = ToGrpcStatus(status);
    series->Handled(out.error_code(), absl::Now() - start);
    reactor->Finish(out);
  };
  if (gate_ != nullptr) {
    if (absl::Status admitted = gate_->Admit(*context, short_name_); !admitted.ok()) {
      finish(std::move(admitted));
      return reactor;
    }
  }
  if (inline_fn) {
    absl::Status status = inline_fn();
    if (!IsWouldBlock(status)) {
      finish(std::move(status));
      return reactor;
    }
    series->FellBack();
  }
  if (!executor_->Post([fn = std::move(fn), finish]() mutable { fn(finish); })) {
    finish(absl::UnavailableError("server overloaded: too many requests queued; retry"));
  }
  return reactor;
}

absl::StatusOr<std::unique_ptr<GrpcServer>> GrpcServer::Start(
    const GrpcServerOptions& options, const std::vector<grpc::Service*>& services,
    grpc::CallbackGenericService* generic) {
  grpc::EnableDefaultHealthCheckService(true);
  // Keeps the health descriptors linked in, for reflection.
  (void)grpc::health::v1::HealthCheckRequest::descriptor();
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  int selected_port = 0;
  const std::string address = options.address.find(':') != std::string::npos
                                  ? absl::StrCat("[", options.address, "]:", options.port)
                                  : absl::StrCat(options.address, ":", options.port);
  builder.AddListeningPort(address, grpc::InsecureServerCredentials(), &selected_port);
  // gRPC sets SO_REUSEPORT by default: a second server on a taken port would
  // then share it silently, each getting some of the connections.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.SetMaxReceiveMessageSize(options.max_message_bytes);
  builder.SetMaxSendMessageSize(options.max_message_bytes);
  builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS, options.max_concurrent_streams);
  // Keepalive enforcement: clients may ping at most every 10 s, also without
  // calls; more often gets them disconnected (GOAWAY too_many_pings).
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 10'000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_PING_STRIKES, 2);
  // The server pings idle connections every 2 h and drops dead ones after 20 s.
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, 2 * 60 * 60 * 1000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 20'000);
  for (grpc::Service* service : services) builder.RegisterService(service);
  if (generic != nullptr) builder.RegisterCallbackGenericService(generic);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || selected_port == 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen for gRPC on ", address, ": ",
                                               WhyCannotBind(options.address, options.port)));
  }
  auto out = std::unique_ptr<GrpcServer>(new GrpcServer());
  out->server_ = std::move(server);
  out->port_ = selected_port;
  return out;
}

GrpcServer::~GrpcServer() { Shutdown(absl::Seconds(5)); }

void GrpcServer::SetServing(const std::string& service, bool serving) {
  if (auto* health = server_->GetHealthCheckService()) health->SetServingStatus(service, serving);
}

void GrpcServer::Shutdown(absl::Duration grace) {
  if (shut_down_) return;
  shut_down_ = true;
  if (auto* health = server_->GetHealthCheckService()) health->Shutdown();
  server_->Shutdown(std::chrono::system_clock::now() +
                    std::chrono::milliseconds(absl::ToInt64Milliseconds(grace)));
  server_->Wait();
}

}  // namespace thingtank
