#include "services/common/config.h"

#include <algorithm>
#include <cctype>
#include <functional>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

extern char** environ;

namespace thingtank {
namespace {

absl::Status FlagError(const std::string& flag, const std::string& what) {
  return absl::InvalidArgumentError(absl::StrCat("--", flag, ": ", what));
}

}  // namespace

absl::StatusOr<int> ParsePortFlag(const std::string& flag, const std::string& v) {
  int port = 0;
  if (!absl::SimpleAtoi(v, &port) || port < 0 || port > 65535) {
    return FlagError(flag, absl::StrCat("\"", v, "\" is not a port (0 to 65535; 0 picks a free one)"));
  }
  return port;
}

namespace {

absl::StatusOr<int> ParsePort(const std::string& flag, const std::string& v) { return ParsePortFlag(flag, v); }

absl::StatusOr<bool> ParseBool(const std::string& flag, const std::string& v) {
  const std::string s = absl::AsciiStrToLower(v);
  if (s.empty() || s == "true" || s == "1" || s == "yes") return true;
  if (s == "false" || s == "0" || s == "no") return false;
  return FlagError(flag, absl::StrCat("\"", v, "\" is not a boolean"));
}

bool IsLoopback(const std::string& address) {
  return address == "127.0.0.1" || address == "::1" || address == "localhost" ||
         absl::StartsWith(address, "127.");
}

struct Flag {
  std::string name;
  bool is_bool;
  std::function<absl::Status(ServeConfig*, const std::string&)> set;
};

// Flags that set one member: a boolean, a port, a non-empty string.
Flag BoolFlag(const std::string& name, bool ServeConfig::*member) {
  return {name, true, [name, member](ServeConfig* c, const std::string& v) -> absl::Status {
            auto b = ParseBool(name, v);
            if (!b.ok()) return b.status();
            c->*member = *b;
            return absl::OkStatus();
          }};
}

Flag PortFlag(const std::string& name, int ServeConfig::*member) {
  return {name, false, [name, member](ServeConfig* c, const std::string& v) -> absl::Status {
            auto p = ParsePort(name, v);
            if (!p.ok()) return p.status();
            c->*member = *p;
            return absl::OkStatus();
          }};
}

Flag NonEmptyFlag(const std::string& name, std::string ServeConfig::*member) {
  return {name, false, [name, member](ServeConfig* c, const std::string& v) -> absl::Status {
            if (v.empty()) return FlagError(name, "is empty");
            c->*member = v;
            return absl::OkStatus();
          }};
}

std::vector<Flag> Flags(const std::vector<std::string>& available) {
  std::vector<Flag> flags = {
      {"services", false,
       [available](ServeConfig* c, const std::string& v) -> absl::Status {
         c->services.clear();
         for (absl::string_view s : absl::StrSplit(v, ',', absl::SkipEmpty())) {
           std::string name(absl::StripAsciiWhitespace(s));
           if (name == "all") {
             for (const auto& k : available) c->services.insert(k);
             continue;
           }
           if (std::find(available.begin(), available.end(), name) == available.end()) {
             const auto& known = KnownServices();
             const bool planned = std::find(known.begin(), known.end(), name) != known.end();
             return FlagError("services",
                              absl::StrCat(planned ? "service \"" : "unknown service \"", name,
                                           planned ? "\" is not in this build yet" : "\"",
                                           " (this build has: ", absl::StrJoin(available, ", "),
                                           ", all)"));
           }
           c->services.insert(name);
         }
         if (c->services.empty()) return FlagError("services", "names no service");
         return absl::OkStatus();
       }},
      {"backends", false,
       [available](ServeConfig* c, const std::string& v) -> absl::Status {
         for (absl::string_view item : absl::StrSplit(v, ',', absl::SkipEmpty())) {
           std::pair<std::string, std::string> kv = absl::StrSplit(item, absl::MaxSplits('=', 1));
           if (kv.first == "gateway" ||
               std::find(available.begin(), available.end(), kv.first) == available.end()) {
             return FlagError("backends", absl::StrCat("no service \"", kv.first,
                                                       "\" in this build"));
           }
           if (kv.second.empty() || kv.second.find(':') == std::string::npos) {
             return FlagError("backends", absl::StrCat("\"", std::string(item),
                                                       "\" is not service=host:port"));
           }
           c->backends[kv.first] = kv.second;
         }
         return absl::OkStatus();
       }},
      NonEmptyFlag("listen-address", &ServeConfig::listen_address),
      PortFlag("gateway-port", &ServeConfig::gateway_port),
      PortFlag("metrics-port", &ServeConfig::metrics_port),
      NonEmptyFlag("data-dir", &ServeConfig::data_dir),
      BoolFlag("ephemeral", &ServeConfig::ephemeral),
      NonEmptyFlag("bootstrap", &ServeConfig::bootstrap_file),
      {"auth", false,
       [](ServeConfig* c, const std::string& v) -> absl::Status {
         if (v == "none") {
           c->auth = AuthMode::kNone;
         } else if (v == "apikey") {
           c->auth = AuthMode::kApiKey;
         } else {
           return FlagError("auth", absl::StrCat("\"", v, "\" is not one of none, apikey"));
         }
         return absl::OkStatus();
       }},
      {"api-keys-file", false,
       [](ServeConfig* c, const std::string& v) -> absl::Status {
         c->api_keys_file = v;
         return absl::OkStatus();
       }},
      BoolFlag("allow-insecure", &ServeConfig::allow_insecure),
      {"time-scale", false,
       [](ServeConfig* c, const std::string& v) -> absl::Status {
         double d = 0;
         if (!absl::SimpleAtod(v, &d) || !(d >= 0.001 && d <= 1e6)) {
           return FlagError("time-scale", absl::StrCat("\"", v, "\" is not a number from 0.001 to 1000000"));
         }
         c->time_scale = d;
         return absl::OkStatus();
       }},
      BoolFlag("sync-writes", &ServeConfig::sync_writes),
      {"log-level", false,
       [](ServeConfig* c, const std::string& v) -> absl::Status {
         static const std::set<std::string> kLevels = {"trace", "debug", "info", "warn", "error", "off"};
         if (!kLevels.count(v)) {
           return FlagError("log-level", absl::StrCat("\"", v, "\" is not one of trace, debug, info, warn, error, off"));
         }
         c->log_level = v;
         return absl::OkStatus();
       }},
      {"default-deadline", false,
       [](ServeConfig* c, const std::string& v) -> absl::Status {
         absl::Duration d;
         if (!absl::ParseDuration(v, &d) || d <= absl::ZeroDuration()) {
           return FlagError("default-deadline", absl::StrCat("\"", v, "\" is not a positive duration like 60s"));
         }
         c->default_deadline = d;
         return absl::OkStatus();
       }},
      {"executor-threads", false,
       [](ServeConfig* c, const std::string& v) -> absl::Status {
         int n = 0;
         if (!absl::SimpleAtoi(v, &n) || n < 1 || n > 256) {
           return FlagError("executor-threads", absl::StrCat("\"", v, "\" is not from 1 to 256"));
         }
         c->executor_threads = n;
         return absl::OkStatus();
       }},
  };
  for (const auto& service : available) {
    if (service == "gateway") continue;
    const std::string flag = absl::StrCat(service, "-port");
    flags.push_back({flag, false, [flag, service](ServeConfig* c, const std::string& v) -> absl::Status {
                       auto p = ParsePort(flag, v);
                       if (!p.ok()) return p.status();
                       c->service_ports[service] = *p;
                       return absl::OkStatus();
                     }});
  }
  return flags;
}

}  // namespace

std::string EnvName(const std::string& flag) {
  std::string s = absl::StrCat("THINGTANK_", flag);
  for (char& ch : s) ch = ch == '-' ? '_' : static_cast<char>(std::toupper(ch));
  return s;
}

const std::vector<std::string>& KnownServices() {
  static const auto* kServices = new std::vector<std::string>{
      "compute", "objects", "tables", "streams", "queues", "wamp", "gateway"};
  return *kServices;
}

int DefaultServicePort(const std::string& service) {
  static const std::map<std::string, int> kPorts = {
      {"compute", 50052}, {"objects", 50053}, {"tables", 50054},
      {"streams", 50055}, {"queues", 50056},  {"wamp", 50057}};
  auto it = kPorts.find(service);
  return it == kPorts.end() ? 0 : it->second;
}

bool ServeConfig::Monolithic() const { return Runs("gateway") && backends.empty(); }

// The services of this build, the gateway included.
std::vector<std::string> WithGateway(const std::vector<std::string>& available) {
  if (available.empty()) return KnownServices();
  std::vector<std::string> out = available;
  if (std::find(out.begin(), out.end(), "gateway") == out.end()) out.push_back("gateway");
  return out;
}

absl::StatusOr<ServeConfig> ParseServeConfig(const std::vector<std::string>& args,
                                             const std::map<std::string, std::string>& env,
                                             const std::vector<std::string>& available_in,
                                             const std::vector<ServiceFlagSpec>& service_flags) {
  ServeConfig config;
  const std::vector<std::string> available = WithGateway(available_in);
  std::vector<Flag> flags = Flags(available);
  // The services' own settings: kept as given; their wiring parses them.
  for (const ServiceFlagSpec& spec : service_flags) {
    const std::string name = spec.name;
    flags.push_back({name, spec.value_name.empty(),
                     [name](ServeConfig* c, const std::string& v) -> absl::Status {
                       c->service_flags[name] = v;
                       return absl::OkStatus();
                     }});
  }
  auto env_only = [&service_flags](const std::string& name) {
    for (const auto& spec : service_flags) {
      if (spec.name == name) return spec.env_only;
    }
    return false;
  };
  bool data_dir_set = false;
  auto find = [&](const std::string& name) -> const Flag* {
    for (const auto& f : flags) {
      if (f.name == name) return &f;
    }
    return nullptr;
  };
  // Environment first, then flags over it.
  bool services_set = false;
  for (const auto& f : flags) {
    auto it = env.find(EnvName(f.name));
    if (it == env.end()) continue;
    absl::Status s = f.set(&config, it->second);
    if (!s.ok()) return absl::InvalidArgumentError(absl::StrCat(EnvName(f.name), " (environment) ", s.message()));
    if (f.name == "services") services_set = true;
    if (f.name == "data-dir") data_dir_set = true;
  }
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (!absl::StartsWith(arg, "--")) {
      return absl::InvalidArgumentError(absl::StrCat("unexpected argument \"", arg, "\"; see thingtank serve --help"));
    }
    std::string name = arg.substr(2), value;
    bool has_value = false;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      has_value = true;
    }
    const Flag* flag = find(name);
    if (flag != nullptr && env_only(name)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--", name, " is a secret: set it in the environment (", EnvName(name),
          "), where other users of the machine cannot read it"));
    }
    if (flag == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("unknown flag --", name, "; see thingtank serve --help"));
    }
    if (!has_value && !flag->is_bool) {
      if (i + 1 >= args.size()) return FlagError(name, "needs a value");
      value = args[++i];
    }
    if (absl::Status s = flag->set(&config, value); !s.ok()) return s;
    if (name == "services") services_set = true;
    if (name == "data-dir") data_dir_set = true;
  }
  if (!services_set) {
    for (const auto& k : available) config.services.insert(k);
  }
  if (config.ephemeral && data_dir_set) {
    return FlagError("ephemeral", "makes its own temporary data directory; drop --data-dir");
  }
  if (config.Runs("gateway") && config.services.size() == 1 && config.backends.empty()) {
    return FlagError("backends", "the gateway alone forwards to backends: name them "
                                 "(--backends=queues=host:port,tables=host:port), or run services "
                                 "with it (--services=gateway,queues)");
  }
  // Cross-field checks.
  for (const auto& [service, address] : config.backends) {
    if (config.Runs(service)) {
      return FlagError("backends", absl::StrCat("service \"", service,
                                                "\" runs in this process; it cannot also be a backend"));
    }
  }
  if (!config.backends.empty() && !config.Runs("gateway")) {
    return FlagError("backends", "only the gateway uses backends; add gateway to --services");
  }
  if (config.auth == AuthMode::kApiKey && config.api_keys_file.empty() && config.Runs("gateway")) {
    return FlagError("api-keys-file", "is required with --auth=apikey");
  }
  if (config.auth == AuthMode::kNone && config.Runs("gateway") &&
      !IsLoopback(config.listen_address) && !config.allow_insecure) {
    return FlagError("auth", absl::StrCat("none on the non-loopback address ", config.listen_address,
                                          " would open every service to the network; use --auth=apikey, "
                                          "or add --allow-insecure if you mean it"));
  }
  return config;
}

std::map<std::string, std::string> ProcessEnvironment() {
  std::map<std::string, std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string s(*e);
    auto eq = s.find('=');
    if (eq != std::string::npos) env[s.substr(0, eq)] = s.substr(eq + 1);
  }
  return env;
}

std::string ServeUsage(const std::vector<std::string>& available_in,
                       const std::vector<ServiceFlagSpec>& service_flags) {
  const std::vector<std::string> available = WithGateway(available_in);
  std::vector<std::string> services, ports;
  for (const auto& name : available) {
    if (name == "gateway") continue;
    services.push_back(name);
    ports.push_back(absl::StrCat("                         --", name, "-port (default ",
                                 DefaultServicePort(name), ")\n"));
  }
  std::string own;
  for (const ServiceFlagSpec& spec : service_flags) {
    std::string flag = spec.env_only ? EnvName(spec.name)
                                     : absl::StrCat("--", spec.name,
                                                    spec.value_name.empty() ? "" : "=",
                                                    spec.value_name);
    const size_t width = 22;  // as the flags above
    absl::StrAppend(&own, "  ", flag, std::string(flag.size() < width ? width - flag.size() : 1, ' '),
                    " ", spec.service, ": ", spec.help, "\n");
  }
  return absl::StrCat(R"(usage: thingtank serve [flags]

Runs ThingTank services. With no --services, runs everything and the gateway in
one process (monolithic mode), data in ./data.

  --services=LIST        all, or a comma list of: gateway, )", absl::StrJoin(services, ", "), R"(
                         (microservice mode: one per pod)
  --backends=LIST        gateway only: service=host:port,... to forward to
  --listen-address=ADDR  address to listen on (default 127.0.0.1)
  --gateway-port=N       the gRPC port clients use (default 50051; 0 picks one)
  --SERVICE-port=N       a service's own gRPC port in microservice mode:
)", absl::StrJoin(ports, ""), R"(  --metrics-port=N       HTTP /metrics, /healthz, /readyz (default 9464)
  --data-dir=DIR         one RocksDB per service under DIR (default ./data)
  --ephemeral            data in a fresh temporary directory, removed at exit (tests)
  --bootstrap=FILE       queues and tables (JSON or YAML) created at start, idempotently
                         (docs/bootstrap.md)
  --auth=none|apikey     gateway authentication (default none, loopback only)
  --api-keys-file=FILE   API keys for --auth=apikey (see docs/auth.md)
  --allow-insecure       allow --auth=none on a non-loopback address
  --time-scale=N         run the service clock N times faster (demos)
  --sync-writes          fsync every write (power-loss durable)
  --default-deadline=D   deadline for calls that carry none (default 60s)
  --executor-threads=N   blocking-work threads per service (default 4)
  --log-level=LEVEL      trace, debug, info, warn, error (default info)

Settings of one service (validated when that service starts):
)", own, R"(
Every flag can also be set as THINGTANK_<FLAG> (e.g. THINGTANK_DATA_DIR).
Chosen ports are written to <data-dir>/ports.json.
)");
}

}  // namespace thingtank
