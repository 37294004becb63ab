// Wiring of the wamp service: the WAMP router on its WebSocket port, the
// bridge to the other services, forwarding rules and the gRPC face.
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "gateway/routes.h"
#include "grpcpp/create_channel.h"
#include "services/common/executor.h"
#include "services/common/status.h"
#include "services/common/storage/db.h"
#include "services/wamp/bridge.h"
#include "services/wamp/grpc_service.h"
#include "services/wamp/router/router.h"
#include "services/wamp/rules.h"
#include "services/wamp/transport/websocket_server.h"
#include "tools/thingtank/serve/running_service.h"

namespace thingtank::serve {
namespace {

class RunningWamp final : public RunningService {
 public:
  ~RunningWamp() override {
    // Sessions first (their handlers point at the router), then the rest in
    // reverse construction order.
    if (websocket) websocket->Shutdown();
  }
  std::vector<grpc::Service*> grpc_services() override { return {grpc_.get()}; }
  std::vector<std::string> proto_service_names() const override {
    return {wamp::v1::WampService::service_full_name()};
  }
  std::map<std::string, int> extra_ports() const override {
    return {{"wamp_ws", websocket->port()}};
  }
  void OnServing(grpc::Server* server) override {
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(-1);
    std::shared_ptr<grpc::Channel> channel = server->InProcessChannel(args);
    bridge->SetChannel(channel);
    rules->SetChannel(channel);
  }
  void Drain() override {
    rules->Drain();
    websocket->Shutdown();
  }

  std::unique_ptr<Db> db;
  std::unique_ptr<ThreadPool> executor;
  std::unique_ptr<wamp::Router> router;
  std::unique_ptr<wamp::Bridge> bridge;
  std::unique_ptr<wamp::RuleEngine> rules;
  std::unique_ptr<UnaryRunner> runner;
  std::unique_ptr<wamp::WampGrpcService> grpc_;
  std::unique_ptr<wamp::WebSocketServer> websocket;
};

absl::StatusOr<wamp::WampConfig> LoadWampConfig(const std::string& path) {
  if (path.empty()) return wamp::DefaultWampConfig();
  std::ifstream in(path);
  if (!in) return absl::InvalidArgumentError(absl::StrCat("--wamp-config: cannot read ", path));
  std::stringstream text;
  text << in.rdbuf();
  auto config = wamp::ParseWampConfig(text.str());
  if (!config.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("--wamp-config ", path, ": ",
                                                   config.status().message()));
  }
  return config;
}

}  // namespace

absl::StatusOr<std::unique_ptr<RunningService>> StartWamp(const ServeContext& context) {
  auto running = std::make_unique<RunningWamp>();
  TT_ASSIGN_OR_RETURN(wamp::WampConfig config, LoadWampConfig(context.config->wamp_config_file));
  Db::Options db_options;
  db_options.path = (std::filesystem::path(context.config->data_dir) / "wamp").string();
  db_options.column_families = wamp::RuleEngine::ColumnFamilies();
  db_options.sync_writes = context.config->sync_writes;
  TT_ASSIGN_OR_RETURN(running->db, Db::Open(db_options));
  running->executor = std::make_unique<ThreadPool>("wamp-exec", 2, 10000);
  running->router = std::make_unique<wamp::Router>(std::move(config), context.clock,
                                                   context.metrics->registry());
  std::map<std::string, std::vector<const google::protobuf::ServiceDescriptor*>> services;
  for (const char* name : {"queues", "tables"}) services[name] = gateway::ProtoServicesOf(name);
  running->bridge = std::make_unique<wamp::Bridge>(services);
  running->bridge->Install(running->router.get());
  TT_ASSIGN_OR_RETURN(running->rules,
                      wamp::RuleEngine::Open(running->db.get(), running->router.get(), context.clock,
                                                 context.metrics->registry()));
  running->runner = std::make_unique<UnaryRunner>(wamp::v1::WampService::service_full_name(), "wamp",
                                                  running->executor.get(), context.rpc_metrics,
                                                  context.gate);
  running->grpc_ = std::make_unique<wamp::WampGrpcService>(
      running->router.get(), running->rules.get(), running->runner.get(), context.gate);
  wamp::WebSocketServerOptions ws;
  ws.host = context.config->listen_address;
  ws.port = context.config->wamp_ws_port;
  wamp::Router* router = running->router.get();
  TT_ASSIGN_OR_RETURN(running->websocket,
                      wamp::WebSocketServer::Start(ws, [router](auto connection) {
                        return router->NewSession(std::move(connection));
                      }));
  return running;
}

}  // namespace thingtank::serve
