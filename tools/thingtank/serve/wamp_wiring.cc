// Wiring of the wamp service: the WAMP router on its WebSocket port, the
// bridge to the other services, forwarding rules and the gRPC face.
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "services/common/executor.h"
#include "services/common/status.h"
#include "services/common/storage/db.h"
#include "services/wamp/bridge.h"
#include "services/wamp/grpc_service.h"
#include "services/wamp/router/router.h"
#include "services/wamp/rules.h"
#include "services/wamp/transport/websocket_server.h"
#include "services/wamp/wamp_service.h"
#include "tools/thingtank/serve/peer_channel.h"
#include "tools/thingtank/serve/running_service.h"

namespace thingtank::serve {
namespace {

// The wamp service's own settings (its module's flags), validated.
struct WampOptions {
  int ws_port = 8080;
  std::string config_file;            // empty: DefaultWampConfig()
  PeerAddress peer;  // where the bridge and the rules reach the other services
};

absl::StatusOr<WampOptions> ParseWampOptions(const ServeConfig& config) {
  WampOptions options;
  TT_ASSIGN_OR_RETURN(options.ws_port,
                      ParsePortFlag("wamp-ws-port", config.ServiceFlag("wamp-ws-port", "8080")));
  options.config_file = config.ServiceFlag("wamp-config");
  TT_ASSIGN_OR_RETURN(options.peer, ParsePeerAddress(config, /*required=*/true, "wamp"));
  return options;
}

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
    // The bridge and the rules reach the other services through the gateway:
    // in this process (monolithic) its in-process channel, else
    // --gateway-address.
    std::shared_ptr<grpc::Channel> channel = PeerChannel(server, peer);
    bridge->SetChannel(channel);
    rules->SetChannel(channel);
  }
  void Drain() override {
    rules->Drain();
    websocket->Shutdown();
  }

  PeerAddress peer;
  std::unique_ptr<Db> db;
  std::unique_ptr<ThreadPool> executor;
  std::unique_ptr<wamp::Router> router;
  std::unique_ptr<wamp::Bridge> bridge;
  std::unique_ptr<wamp::RuleEngine> rules;
  std::unique_ptr<wamp::WampService> service;  // the domain of the gRPC face
  std::unique_ptr<UnaryRunner> runner;
  std::unique_ptr<wamp::WampGrpcService> grpc_;
  std::unique_ptr<wamp::WebSocketServer> websocket;
};

// What --wamp-config declares: the router's config and the forwarding rules.
struct LoadedConfig {
  wamp::WampConfig wamp;
  std::vector<wamp::v1::Rule> rules;
};

// An error about the --wamp-config file, keeping the code.
absl::Status ConfigError(const std::string& path, const absl::Status& status) {
  return absl::Status(status.code(),
                      absl::StrCat("--wamp-config ", path, ": ", status.message()));
}

absl::StatusOr<LoadedConfig> LoadWampConfig(const std::string& path) {
  if (path.empty()) return LoadedConfig{wamp::DefaultWampConfig(), {}};
  std::ifstream in(path);
  if (!in) return absl::InvalidArgumentError(absl::StrCat("--wamp-config ", path, ": cannot read"));
  std::stringstream text;
  text << in.rdbuf();  // read once: both parsers see the same text
  auto config = wamp::ParseWampConfig(text.str());
  if (!config.ok()) return ConfigError(path, absl::InvalidArgumentError(config.status().message()));
  auto rules = wamp::ParseConfigRules(text.str());
  if (!rules.ok()) return ConfigError(path, rules.status());  // INVALID_ARGUMENT
  return LoadedConfig{*std::move(config), *std::move(rules)};
}

}  // namespace

absl::StatusOr<std::unique_ptr<RunningService>> StartWamp(const ServeContext& context) {
  auto running = std::make_unique<RunningWamp>();
  TT_ASSIGN_OR_RETURN(const WampOptions options, ParseWampOptions(*context.config));
  running->peer = options.peer;
  const std::string& config_path = options.config_file;
  TT_ASSIGN_OR_RETURN(LoadedConfig config, LoadWampConfig(config_path));
  Db::Options db_options;
  db_options.path = (std::filesystem::path(context.config->data_dir) / "wamp").string();
  db_options.column_families = wamp::RuleEngine::ColumnFamilies();
  db_options.sync_writes = context.config->sync_writes;
  TT_ASSIGN_OR_RETURN(running->db, Db::Open(db_options));
  running->executor = std::make_unique<ThreadPool>("wamp-exec", 2, 10000);
  running->router = std::make_unique<wamp::Router>(std::move(config.wamp), context.clock,
                                                   context.metrics->registry());
  // Every service behind the gateway, this one included (rules can be managed from WAMP).
  running->bridge = std::make_unique<wamp::Bridge>(context.apis);
  running->bridge->Install(running->router.get());
  TT_ASSIGN_OR_RETURN(running->rules,
                      wamp::RuleEngine::Open(running->db.get(), running->router.get(), context.clock));
  // Before the channel is set: the config's rules start with the stored ones.
  if (absl::Status s = running->rules->Ensure(config.rules); !s.ok()) {
    return ConfigError(config_path, s);
  }
  running->runner = std::make_unique<UnaryRunner>(wamp::v1::WampService::service_full_name(), "wamp",
                                                  running->executor.get(), context.rpc_metrics,
                                                  context.gate);
  running->service =
      std::make_unique<wamp::WampService>(running->router.get(), running->rules.get());
  running->grpc_ =
      std::make_unique<wamp::WampGrpcService>(running->service.get(), running->runner.get());
  wamp::WebSocketServerOptions ws;
  ws.host = context.config->listen_address;
  ws.port = options.ws_port;
  wamp::Router* router = running->router.get();
  TT_ASSIGN_OR_RETURN(running->websocket,
                      wamp::WebSocketServer::Start(ws, [router](auto connection) {
                        return router->NewSession(std::move(connection));
                      }));
  return running;
}

}  // namespace thingtank::serve
