// Wiring of the wamp service: the WAMP router on its WebSocket port, the
// bridge to the other services, forwarding rules and the gRPC face.
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/support/client_interceptor.h"
#include "services/common/executor.h"
#include "services/common/status.h"
#include "services/common/storage/db.h"
#include "services/wamp/bridge.h"
#include "services/wamp/grpc_service.h"
#include "services/wamp/router/router.h"
#include "services/wamp/rules.h"
#include "services/wamp/transport/websocket_server.h"
#include "services/wamp/wamp_service.h"
#include "tools/thingtank/serve/running_service.h"

namespace thingtank::serve {
namespace {

// Presents an API key on every call the bridge and the rules make through a
// gateway in another process (microservice mode with --auth=apikey).
class ApiKeyInterceptor final : public grpc::experimental::Interceptor {
 public:
  explicit ApiKeyInterceptor(const std::string* authorization) : authorization_(authorization) {}
  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            grpc::experimental::InterceptionHookPoints::PRE_SEND_INITIAL_METADATA)) {
      methods->GetSendInitialMetadata()->insert({"authorization", *authorization_});
    }
    methods->Proceed();
  }

 private:
  const std::string* const authorization_;
};

class ApiKeyInterceptorFactory final
    : public grpc::experimental::ClientInterceptorFactoryInterface {
 public:
  explicit ApiKeyInterceptorFactory(std::string authorization)
      : authorization_(std::move(authorization)) {}
  grpc::experimental::Interceptor* CreateClientInterceptor(
      grpc::experimental::ClientRpcInfo*) override {
    return new ApiKeyInterceptor(&authorization_);
  }

 private:
  const std::string authorization_;
};

// The wamp service's own settings (its module's flags), validated.
struct WampOptions {
  int ws_port = 8080;
  std::string config_file;            // empty: DefaultWampConfig()
  std::string gateway_address;        // empty: the gateway runs in this process
  std::string gateway_authorization;  // "ApiKey id:secret" for gateway_address, or empty
};

absl::StatusOr<WampOptions> ParseWampOptions(const ServeConfig& config) {
  WampOptions options;
  TT_ASSIGN_OR_RETURN(options.ws_port,
                      ParsePortFlag("wamp-ws-port", config.ServiceFlag("wamp-ws-port", "8080")));
  options.config_file = config.ServiceFlag("wamp-config");
  if (!config.Runs("gateway")) {
    options.gateway_address = config.ServiceFlag("gateway-address");
    if (options.gateway_address.find(':') == std::string::npos) {
      return absl::InvalidArgumentError(
          options.gateway_address.empty()
              ? "--gateway-address: required to run wamp without the gateway (its bridge calls "
                "the other services through it)"
              : "--gateway-address: must be host:port");
    }
    // The key (as the CLI takes it; from the environment only: a secret on a
    // command line is visible to every user of the machine).
    const std::string id = config.ServiceFlag("api-key-id");
    const std::string secret = config.ServiceFlag("api-key-secret");
    if (id.empty() != secret.empty()) {
      return absl::InvalidArgumentError(
          "THINGTANK_API_KEY_ID and THINGTANK_API_KEY_SECRET go together (the API key the wamp "
          "bridge presents to --gateway-address)");
    }
    if (!id.empty()) options.gateway_authorization = absl::StrCat("ApiKey ", id, ":", secret);
  }
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
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(-1);
    std::shared_ptr<grpc::Channel> channel;
    if (gateway_address.empty()) {
      channel = server->InProcessChannel(args);
    } else if (gateway_authorization.empty()) {
      channel = grpc::CreateCustomChannel(gateway_address, grpc::InsecureChannelCredentials(), args);
    } else {
      std::vector<std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface>> key;
      key.push_back(std::make_unique<ApiKeyInterceptorFactory>(gateway_authorization));
      channel = grpc::experimental::CreateCustomChannelWithInterceptors(
          gateway_address, grpc::InsecureChannelCredentials(), args, std::move(key));
    }
    bridge->SetChannel(channel);
    rules->SetChannel(channel);
  }
  void Drain() override {
    rules->Drain();
    websocket->Shutdown();
  }

  std::string gateway_address;  // empty: the gateway runs in this process
  std::string gateway_authorization;  // "ApiKey id:secret" for gateway_address, or empty
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
  running->gateway_address = options.gateway_address;
  running->gateway_authorization = options.gateway_authorization;
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
