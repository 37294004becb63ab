#include "tools/thingtank/serve/serve.h"

#include <signal.h>
#include <stdlib.h>

#include <cerrno>
#include <cstring>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "gateway/api_key_gate.h"
#include "gateway/backend_health.h"
#include "gateway/forwarder.h"
#include "services/common/config.h"
#include "services/common/http_server.h"
#include "services/common/log.h"
#include "services/common/process_metrics.h"
#include "tools/thingtank/serve/bootstrap.h"
#include "tools/thingtank/serve/clock_anchor.h"
#include "tools/thingtank/serve/running_service.h"

#ifndef THINGTANK_VERSION
#define THINGTANK_VERSION "unknown"
#endif

namespace thingtank::serve {
namespace {

std::vector<std::string> NamesOf(const ServiceModules& modules) {
  std::vector<std::string> names;
  for (const auto& module : modules) names.push_back(module.name);
  return names;
}

std::vector<ServiceFlagSpec> FlagsOf(const ServiceModules& modules) {
  std::vector<ServiceFlagSpec> flags;
  for (const auto& module : modules) flags.insert(flags.end(), module.flags.begin(), module.flags.end());
  return flags;
}

const ServiceModule* Find(const ServiceModules& modules, const std::string& name) {
  for (const auto& module : modules) {
    if (module.name == name) return &module;
  }
  return nullptr;
}

absl::Status WritePorts(const std::string& data_dir, const std::map<std::string, int>& ports) {
  std::error_code ec;
  std::filesystem::create_directories(data_dir, ec);
  const auto path = std::filesystem::path(data_dir) / "ports.json";
  const auto tmp = std::filesystem::path(data_dir) / "ports.json.tmp";
  {
    std::ofstream out(tmp);
    out << "{";
    bool first = true;
    for (const auto& [name, port] : ports) {
      out << (first ? "" : ", ") << "\"" << name << "\": " << port;
      first = false;
    }
    out << "}\n";
    if (!out) return absl::UnavailableError(absl::StrCat("cannot write ", tmp.string()));
  }
  std::filesystem::rename(tmp, path, ec);  // Readers never see a half-written file.
  if (ec) return absl::UnavailableError(absl::StrCat("cannot write ", path.string(), ": ", ec.message()));
  return absl::OkStatus();
}

// --ephemeral: a fresh directory under $TMPDIR (or /tmp), removed with
// everything in it when this goes.
class TemporaryDataDir {
 public:
  static absl::StatusOr<std::unique_ptr<TemporaryDataDir>> Make() {
    std::error_code ec;
    std::string pattern = (std::filesystem::temp_directory_path(ec) / "thingtank-XXXXXX").string();
    if (ec || mkdtemp(pattern.data()) == nullptr) {
      return absl::UnavailableError(absl::StrCat("--ephemeral: cannot make a temporary directory: ",
                                                 ec ? ec.message() : std::strerror(errno)));
    }
    return std::unique_ptr<TemporaryDataDir>(new TemporaryDataDir(pattern));
  }
  ~TemporaryDataDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  explicit TemporaryDataDir(std::string path) : path_(std::move(path)) {}
  const std::string path_;
};

std::string RandomHex(int bytes) {
  std::random_device device;
  std::string out;
  for (int i = 0; i < bytes; ++i) absl::StrAppend(&out, absl::Hex(device() & 0xff, absl::kZeroPad2));
  return out;
}

int Fail(const absl::Status& status) {
  std::cerr << "thingtank serve: " << status.message() << "\n";
  return status.code() == absl::StatusCode::kInvalidArgument ? 2 : 1;
}

}  // namespace

int RunServe(const std::vector<std::string>& args, const ServiceModules& modules) {
  for (const auto& a : args) {
    if (a == "--help" || a == "-h") {
      std::cout << ServeUsage(NamesOf(modules), FlagsOf(modules));
      return 0;
    }
  }
  // Block the stop signals before any thread starts, so every thread inherits
  // the mask and only sigwait below sees them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  absl::StatusOr<ServeConfig> parsed = ParseServeConfig(args, ProcessEnvironment(), NamesOf(modules),
                                                        FlagsOf(modules));
  if (!parsed.ok()) return Fail(parsed.status());
  // Declared before everything that uses the data: removed after it is closed.
  std::unique_ptr<TemporaryDataDir> ephemeral;
  if (parsed->ephemeral) {
    auto made = TemporaryDataDir::Make();
    if (!made.ok()) return Fail(made.status());
    ephemeral = *std::move(made);
    parsed->data_dir = ephemeral->path();
  }
  const ServeConfig config = *std::move(parsed);
  InitLogging(config.log_level);
  // Debian's Abseil checks every Mutex acquisition for lock-order cycles (a
  // debug feature costing ~2% of a busy server's CPU). Tests keep it on.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);

  // A time-scaled clock goes on from where it was before a restart.
  const absl::Time wall_now = absl::Now();
  absl::StatusOr<absl::Time> clock_start = ClockStart(config.data_dir, config.time_scale, wall_now);
  if (!clock_start.ok()) return Fail(clock_start.status());
  RealClock clock(config.time_scale, *clock_start);
  MetricsHub metrics;
  RpcMetrics rpc_metrics(metrics.registry());
  std::unique_ptr<gateway::ApiKeyGate> gate;
  gateway::ApiKey internal_key;
  if (config.Runs("gateway") && config.auth == AuthMode::kApiKey) {
    auto keys = gateway::LoadApiKeys(config.api_keys_file);
    if (!keys.ok()) return Fail(absl::InvalidArgumentError(absl::StrCat("--api-keys-file: ", keys.status().message())));
    // A key of this process alone (random, never shown): its own start-up
    // calls (--bootstrap) pass the gate like anyone's.
    internal_key.id = absl::StrCat("thingtank-internal-", RandomHex(8));
    internal_key.secret = RandomHex(32);
    internal_key.services = {"*"};
    internal_key.rate_per_second = 1e9;
    internal_key.burst = 1e9;
    (*keys)[internal_key.id] = internal_key;
    gate = std::make_unique<gateway::ApiKeyGate>(*std::move(keys), &clock);
  }
  ServeContext context{&config, &clock, &metrics, &rpc_metrics,
                       config.Runs("gateway") ? gate.get() : nullptr, {}};
  for (const auto& module : modules) context.apis[module.name] = module.ProtoServices();

  // Start the domain services of this process.
  std::map<std::string, std::unique_ptr<RunningService>> running;
  for (const auto& name : config.services) {
    if (name == "gateway") continue;
    const ServiceModule* module = Find(modules, name);  // config accepts only modules' names
    auto service = module->start(context);
    if (!service.ok()) {
      return Fail(absl::Status(service.status().code(),
                               absl::StrCat(name, ": ", service.status().message())));
    }
    running[name] = *std::move(service);
  }
  if (running.empty() && !config.Runs("gateway")) {
    return Fail(absl::InvalidArgumentError("--services: none of the named services is in this build"));
  }

  GrpcServerOptions server_options;
  server_options.address = config.listen_address;
  server_options.max_message_bytes = config.max_message_bytes;
  server_options.max_concurrent_streams = config.max_concurrent_streams;

  std::map<std::string, int> ports;
  std::unique_ptr<gateway::UnroutedCalls> unrouted;  // outlives the servers
  std::vector<std::unique_ptr<GrpcServer>> servers;
  std::unique_ptr<gateway::Backends> backends;
  std::unique_ptr<gateway::BackendHealth> backend_health;
  if (config.Runs("gateway")) {
    // One port for everything: in-process services are registered on it
    // directly (no hop at all), others are forwarded to their backends.
    std::vector<grpc::Service*> services;
    for (auto& [name, service] : running) {
      for (auto* s : service->grpc_services()) services.push_back(s);
    }
    if (!config.backends.empty()) {
      auto created = gateway::Backends::Create(config.backends, context.apis, gate.get(), &rpc_metrics,
                                               config.default_deadline);
      if (!created.ok()) return Fail(created.status());
      backends = *std::move(created);
      for (auto* s : backends->services()) services.push_back(s);
    }
    std::vector<std::string> served;
    for (const auto& [name, service] : running) served.push_back(name);
    for (const auto& [name, address] : config.backends) served.push_back(name);
    unrouted = std::make_unique<gateway::UnroutedCalls>(served);
    server_options.port = config.gateway_port;
    auto server = GrpcServer::Start(server_options, services, unrouted.get());
    if (!server.ok()) {
      return Fail(absl::Status(server.status().code(),
                               absl::StrCat("--gateway-port ", config.gateway_port, ": ",
                                            server.status().message())));
    }
    ports["gateway"] = (*server)->port();
    servers.push_back(*std::move(server));
    if (backends) backend_health = std::make_unique<gateway::BackendHealth>(backends.get(), servers.back().get(), absl::Seconds(2));
  } else {
    for (auto& [name, service] : running) {
      auto port = config.service_ports.find(name);
      server_options.port = port != config.service_ports.end() ? port->second : DefaultServicePort(name);
      auto server = GrpcServer::Start(server_options, service->grpc_services(), nullptr);
      if (!server.ok()) {
        return Fail(absl::Status(server.status().code(),
                                 absl::StrCat("--", name, "-port ", server_options.port, ": ",
                                              server.status().message())));
      }
      ports[name] = (*server)->port();
      servers.push_back(*std::move(server));
    }
  }
  for (auto& server : servers) {
    for (auto& [name, service] : running) {
      for (const auto& proto_name : service->proto_service_names()) server->SetServing(proto_name, true);
    }
    if (!backends) server->SetServing("", true);
  }
  for (auto& [name, service] : running) {
    // The first server is the gateway in monolithic mode, else this
    // process's only one.
    if (!servers.empty()) service->OnServing(servers.front()->server());
    for (const auto& [port_name, port] : service->extra_ports()) ports[port_name] = port;
  }

  const std::string host = config.listen_address == "0.0.0.0" ? "localhost" : config.listen_address;
  for (auto& [name, service] : running) {
    const int port = ports.count("gateway") ? ports["gateway"] : ports[name];
    service->OnReachableAt(absl::StrCat(host.find(':') != std::string::npos ? "[" + host + "]" : host,
                                        ":", port));
  }

  std::vector<std::string> running_names;
  for (const auto& [name, service] : running) running_names.push_back(name);
  auto process_metrics = std::make_shared<ProcessMetrics>(THINGTANK_VERSION,
                                                          absl::StrJoin(running_names, ","));
  metrics.AddCollectable(process_metrics);

  // Every method's grpc_server_* series exist from the start, at zero.
  for (const auto& [name, service] : running) {
    for (const auto* d : context.apis[name]) rpc_metrics.Initialize(d);
  }
  for (const auto& [name, address] : config.backends) {
    for (const auto* d : context.apis[name]) rpc_metrics.Initialize(d);
  }

  // --bootstrap: the file's resources, through the gateway's own server
  // (in-process), before ports.json says the server is up.
  if (!config.bootstrap_file.empty()) {
    if (!ports.count("gateway")) {
      return Fail(absl::InvalidArgumentError(
          "--bootstrap: needs the gateway in this process (add gateway to --services)"));
    }
    grpc::ChannelArguments channel_args;
    const std::string authorization =
        gate ? absl::StrCat("ApiKey ", internal_key.id, ":", internal_key.secret) : "";
    if (absl::Status s = Bootstrap(config.bootstrap_file,
                                   servers.front()->server()->InProcessChannel(channel_args),
                                   authorization);
        !s.ok()) {
      return Fail(s);
    }
  }

  std::atomic<bool> ready{false};
  auto http = HttpServer::Start(config.listen_address, config.metrics_port, &metrics, [&] {
    return ready.load() && (backend_health == nullptr || backend_health->AllServing());
  });
  if (!http.ok()) {
    return Fail(absl::Status(http.status().code(), absl::StrCat("--metrics-port ", config.metrics_port,
                                                                ": ", http.status().message())));
  }
  ports["metrics"] = (*http)->port();
  if (absl::Status s = WritePorts(config.data_dir, ports); !s.ok()) return Fail(s);
  ready = true;

  std::vector<std::string> names;
  for (const auto& [name, service] : running) names.push_back(name);
  if (!config.backends.empty()) {
    for (const auto& [name, address] : config.backends) names.push_back(absl::StrCat(name, "@", address));
  }
  TT_LOG_INFO("started services=[{}] ports={} data_dir={} time_scale={}", absl::StrJoin(names, ","),
              absl::StrJoin(ports, ",", absl::PairFormatter("=")), config.data_dir, config.time_scale);
  if (ports.count("gateway")) {
    const std::string endpoint = absl::StrCat(" --endpoint ", host, ":", ports["gateway"]);
    std::cout << "ThingTank is running: gRPC gateway on " << host << ":" << ports["gateway"]
              << " (services: " << absl::StrJoin(names, ", ") << "), metrics on http://" << host << ":"
              << ports["metrics"] << "/metrics, data in " << config.data_dir << "\n"
              << "Try it:\n";
    if (config.auth == AuthMode::kApiKey) {
      // Every call needs a key: the lines below read it from the environment.
      std::cout << "  export THINGTANK_API_KEY_ID=<id> THINGTANK_API_KEY_SECRET=<secret>   # a key of "
                << config.api_keys_file << "\n";
    }
    if (running.count("queues") || config.backends.count("queues")) {
      std::cout << "  thingtank queues create hello" << endpoint << "\n"
                << "  thingtank queues send hello --body 'hi there'" << endpoint << "\n"
                << "  thingtank queues receive hello" << endpoint << "\n";
    } else {
      std::cout << "  thingtank --help   # the client commands; add" << endpoint << "\n";
    }
    if (ports.count("wamp_ws")) {
      std::cout << "WAMP router on ws://" << host << ":" << ports["wamp_ws"] << "/ws (realm realm1)\n";
    }
    std::cout << "Stop with Ctrl-C.\n" << std::flush;
  } else {
    std::cout << "ThingTank services [" << absl::StrJoin(names, ", ") << "] on "
              << absl::StrJoin(ports, ", ", absl::PairFormatter(" port ")) << "\n" << std::flush;
  }

  int signal = 0;
  sigwait(&stop_signals, &signal);
  TT_LOG_INFO("received {}, shutting down", signal == SIGINT ? "SIGINT" : "SIGTERM");
  ready = false;
  // Answer long polls, let running calls finish, then close storage cleanly.
  for (auto& [name, service] : running) service->Drain();
  backend_health.reset();
  for (auto& server : servers) server->Shutdown(absl::Seconds(5));
  http->reset();
  running.clear();
  TT_LOG_INFO("stopped");
  return 0;
}

}  // namespace thingtank::serve
