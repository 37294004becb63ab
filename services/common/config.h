#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace thingtank {

// Every service name ThingTank knows, in start order. "gateway" is the front
// door; the others are the services behind it.
const std::vector<std::string>& KnownServices();
// Default gRPC port of a service in microservice mode (50052..50057).
int DefaultServicePort(const std::string& service);

enum class AuthMode { kNone, kApiKey };

// A setting that belongs to one service: declared by the service's module,
// read here from the command line (`--<name>`) and the environment
// (THINGTANK_<NAME>), and parsed and validated by the service's wiring when
// it starts (errors name the flag).
struct ServiceFlagSpec {
  std::string service;     // "wamp"
  std::string name;        // "wamp-ws-port"
  std::string value_name;  // "N" for the help text; empty for a boolean flag
  std::string help;        // one line
  bool env_only = false;   // a secret: from the environment only, never a flag
};

// The environment variable of a flag: THINGTANK_ + upper snake case.
std::string EnvName(const std::string& flag);
// A port flag's value: 0 (pick a free one) to 65535; errors name the flag.
absl::StatusOr<int> ParsePortFlag(const std::string& flag, const std::string& value);

// Configuration of `thingtank serve`, typed and validated. Built once at start
// from flags and THINGTANK_* environment variables (flags win), then passed by
// value into the constructors that need it; nothing reads it from a global.
struct ServeConfig {
  std::set<std::string> services;             // --services (default: all + gateway)
  std::map<std::string, std::string> backends;  // --backends=queues=host:port,...
  std::string listen_address = "127.0.0.1";
  int gateway_port = 50051;
  std::map<std::string, int> service_ports;   // --queues-port etc.
  int metrics_port = 9464;
  std::string data_dir = "./data";
  bool ephemeral = false;        // --ephemeral: data in a fresh temporary directory, removed at exit
  std::string bootstrap_file;    // --bootstrap: resources (JSON or YAML) created at start
  AuthMode auth = AuthMode::kNone;
  std::string api_keys_file;
  bool allow_insecure = false;                // --allow-insecure: auth=none off loopback
  double time_scale = 1.0;
  bool sync_writes = false;
  std::string log_level = "info";
  absl::Duration default_deadline = absl::Seconds(60);
  int executor_threads = 4;                   // blocking-work threads per service
  int max_message_bytes = 8 << 20;            // gRPC receive/send limit
  int max_concurrent_streams = 1000;          // per HTTP/2 connection

  // Raw values of the services' own settings (ServiceFlagSpec), by name.
  std::map<std::string, std::string> service_flags;
  // The raw value of a service's setting, or `fallback` when it is not given.
  std::string ServiceFlag(const std::string& name, const std::string& fallback = "") const {
    auto it = service_flags.find(name);
    return it == service_flags.end() ? fallback : it->second;
  }

  // True when the gateway runs in this process alongside every service it
  // routes to (monolithic mode).
  bool Runs(const std::string& service) const { return services.count(service) > 0; }
  bool Monolithic() const;
};

// Parses `args` (the words after `thingtank serve`) with `env` as fallback
// (pass the process environment, e.g. from environ). Errors name the flag.
// `available` are the services this build has (empty: every known one);
// --services may name only those, and they are the default.
absl::StatusOr<ServeConfig> ParseServeConfig(const std::vector<std::string>& args,
                                             const std::map<std::string, std::string>& env,
                                             const std::vector<std::string>& available = {},
                                             const std::vector<ServiceFlagSpec>& service_flags = {});

// Help text for `thingtank serve --help`, naming the services of `available`
// (as for ParseServeConfig) and their port flags.
std::string ServeUsage(const std::vector<std::string>& available = {},
                       const std::vector<ServiceFlagSpec>& service_flags = {});

// The process environment as a map.
std::map<std::string, std::string> ProcessEnvironment();

}  // namespace thingtank
