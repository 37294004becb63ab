#include "tools/thingtank/cli/cli_common.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <iomanip>
#include <iostream>
#include <limits>

#include <google/protobuf/duration.pb.h>
#include <google/protobuf/util/json_util.h>
#include <nlohmann/json.hpp>

namespace thingtank::cli {
namespace {

constexpr int64_t kNanosPerSecond = 1'000'000'000;

const FlagSpec* FindSpec(const std::vector<FlagSpec>& specs, const std::string& name) {
  for (const FlagSpec& spec : specs) {
    if (spec.name == name) return &spec;
  }
  return nullptr;
}

bool ParseBoolValue(const std::string& text, bool* out) {
  if (text == "true" || text == "1" || text == "yes") {
    *out = true;
    return true;
  }
  if (text == "false" || text == "0" || text == "no") {
    *out = false;
    return true;
  }
  return false;
}

// Nanoseconds per unit suffix, 0 when unknown.
int64_t UnitNanos(const std::string& unit) {
  if (unit.empty() || unit == "s") return kNanosPerSecond;
  if (unit == "ms") return 1'000'000;
  if (unit == "m") return 60 * kNanosPerSecond;
  if (unit == "h") return 3600 * kNanosPerSecond;
  if (unit == "d") return 86400 * kNanosPerSecond;
  return 0;
}

}  // namespace

Io ProcessIo() {
  return Io{std::cin, std::cout, std::cerr,
            [](const std::string& name) -> std::optional<std::string> {
              const char* value = std::getenv(name.c_str());
              if (value == nullptr) return std::nullopt;
              return std::string(value);
            }};
}

std::string ParsedArgs::Get(const std::string& flag, const std::string& fallback) const {
  auto it = values_.find(flag);
  return it == values_.end() ? fallback : it->second.back();
}

const std::vector<std::string>& ParsedArgs::GetAll(const std::string& flag) const {
  static const std::vector<std::string> kEmpty;
  auto it = values_.find(flag);
  return it == values_.end() ? kEmpty : it->second;
}

bool ParsedArgs::Bool(const std::string& flag) const {
  return Has(flag) && Get(flag) == "true";
}

bool ParseFlags(const std::vector<std::string>& args, const std::vector<FlagSpec>& specs,
                ParsedArgs* out, std::string* error) {
  bool only_positional = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (only_positional || arg.size() < 2 || arg.compare(0, 2, "--") != 0) {
      out->positional_.push_back(arg);
      continue;
    }
    if (arg == "--") {
      only_positional = true;
      continue;
    }
    const size_t eq = arg.find('=');
    const std::string name = arg.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
    const FlagSpec* spec = FindSpec(specs, name);
    if (spec == nullptr) {
      *error = "unknown flag --" + name;
      return false;
    }
    std::string value;
    if (spec->value_name.empty()) {
      bool flag_value = true;
      if (eq != std::string::npos && !ParseBoolValue(arg.substr(eq + 1), &flag_value)) {
        *error = "--" + name + " takes true or false, not \"" + arg.substr(eq + 1) + "\"";
        return false;
      }
      value = flag_value ? "true" : "false";
    } else if (eq != std::string::npos) {
      value = arg.substr(eq + 1);
    } else if (i + 1 < args.size()) {
      value = args[++i];
    } else {
      *error = "--" + name + " needs a value (" + spec->value_name + ")";
      return false;
    }
    std::vector<std::string>& values = out->values_[name];
    if (!values.empty() && !spec->repeated) {
      *error = "--" + name + " given more than once";
      return false;
    }
    values.push_back(std::move(value));
  }
  return true;
}

std::optional<int64_t> ParseDurationNanos(const std::string& text) {
  size_t pos = 0;
  int64_t whole = 0;
  size_t digits = 0;
  while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos]))) {
    if (whole > std::numeric_limits<int64_t>::max() / 10 - 10) return std::nullopt;
    whole = whole * 10 + (text[pos++] - '0');
    ++digits;
  }
  int64_t frac = 0;
  int64_t frac_scale = 1;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos]))) {
      if (frac_scale < kNanosPerSecond) {  // finer than 1 ns is dropped
        frac = frac * 10 + (text[pos] - '0');
        frac_scale *= 10;
      }
      ++pos;
      ++digits;
    }
  }
  if (digits == 0) return std::nullopt;
  const int64_t unit = UnitNanos(text.substr(pos));
  if (unit == 0 || whole > std::numeric_limits<int64_t>::max() / unit) return std::nullopt;
  // unit / frac_scale is exact for every unit except sub-ns fractions of ms.
  return whole * unit + frac * (unit / frac_scale);
}

std::string FormatDurationNanos(int64_t nanos) {
  if (nanos == 0) return "0s";
  struct Unit {
    int64_t nanos;
    const char* suffix;
  };
  static const Unit kUnits[] = {{86400 * kNanosPerSecond, "d"},
                                {3600 * kNanosPerSecond, "h"},
                                {60 * kNanosPerSecond, "m"},
                                {kNanosPerSecond, "s"},
                                {1'000'000, "ms"}};
  for (const Unit& unit : kUnits) {
    if (nanos % unit.nanos == 0) return std::to_string(nanos / unit.nanos) + unit.suffix;
  }
  std::string frac = std::to_string(kNanosPerSecond + std::abs(nanos % kNanosPerSecond)).substr(1);
  frac.erase(frac.find_last_not_of('0') + 1);
  return std::to_string(nanos / kNanosPerSecond) + "." + frac + "s";
}

std::string FormatDuration(const google::protobuf::Duration& duration) {
  return FormatDurationNanos(duration.seconds() * kNanosPerSecond + duration.nanos());
}

void SetDuration(int64_t nanos, google::protobuf::Duration* out) {
  out->set_seconds(nanos / kNanosPerSecond);
  out->set_nanos(static_cast<int32_t>(nanos % kNanosPerSecond));
}

void PrintFlagHelp(const std::vector<FlagSpec>& specs, std::ostream& os) {
  std::vector<std::string> heads;
  size_t width = 0;
  for (const FlagSpec& spec : specs) {
    std::string head = "--" + spec.name;
    if (!spec.value_name.empty()) head += " " + spec.value_name;
    width = std::max(width, head.size());
    heads.push_back(std::move(head));
  }
  for (size_t i = 0; i < specs.size(); ++i) {
    os << "  " << std::left << std::setw(static_cast<int>(width + 2)) << heads[i]
       << specs[i].help << (specs[i].repeated ? " (repeatable)" : "") << "\n";
  }
}

const std::vector<FlagSpec>& ConnectionFlags() {
  static const std::vector<FlagSpec> kFlags = {
      {"endpoint", "HOST:PORT", "ThingTank gateway (env THINGTANK_ENDPOINT; default localhost:50051)"},
      {"api-key-id", "ID", "API key id (env THINGTANK_API_KEY_ID)"},
      {"api-key-secret", "SECRET", "API key secret (env THINGTANK_API_KEY_SECRET)"},
      {"timeout", "DURATION", "deadline of each call (default 30s; receive adds its wait)"},
      {"json", "", "print responses and errors as JSON"},
      {"help", "", "show help"},
  };
  return kFlags;
}

bool ResolveConnectionOptions(const ParsedArgs& args, const Io& io, ConnectionOptions* out,
                              std::string* error) {
  auto pick = [&](const std::string& flag, const std::string& env, const std::string& fallback) {
    if (args.Has(flag)) return args.Get(flag);
    std::optional<std::string> value = io.getenv(env);
    return value && !value->empty() ? *value : fallback;
  };
  out->endpoint = pick("endpoint", "THINGTANK_ENDPOINT", out->endpoint);
  out->api_key_id = pick("api-key-id", "THINGTANK_API_KEY_ID", "");
  out->api_key_secret = pick("api-key-secret", "THINGTANK_API_KEY_SECRET", "");
  out->json = args.Bool("json");
  if (out->endpoint.empty()) {
    *error = "--endpoint must not be empty";
    return false;
  }
  if (out->api_key_id.empty() != out->api_key_secret.empty()) {
    *error = "an API key needs both --api-key-id and --api-key-secret";
    return false;
  }
  if (args.Has("timeout")) {
    std::optional<int64_t> timeout = ParseDurationNanos(args.Get("timeout"));
    if (!timeout || *timeout <= 0) {
      *error = "--timeout: \"" + args.Get("timeout") +
               "\" is not a positive duration (e.g. 30s, 500ms, 2m)";
      return false;
    }
    out->timeout_nanos = *timeout;
  }
  return true;
}

Connection::Connection(ConnectionOptions options)
    : options_(std::move(options)),
      channel_(grpc::CreateChannel(options_.endpoint, grpc::InsecureChannelCredentials())) {}

std::unique_ptr<grpc::ClientContext> Connection::NewContext(int64_t extra_wait_nanos) const {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() +
                        std::chrono::nanoseconds(options_.timeout_nanos + extra_wait_nanos));
  if (!options_.api_key_id.empty()) {
    context->AddMetadata("authorization",
                         "ApiKey " + options_.api_key_id + ":" + options_.api_key_secret);
  }
  return context;
}

void PrintJson(const google::protobuf::Message& message, std::ostream& os) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  os << JsonOf(message, options) << "\n";
}

std::string JsonOf(const google::protobuf::Message& message,
                   const google::protobuf::util::JsonPrintOptions& options) {
  std::string json;
  if (auto status = google::protobuf::util::MessageToJsonString(message, &json, options);
      !status.ok()) {
    // Not expected for a message that parsed; say so rather than print nothing.
    return nlohmann::json{{"error", "cannot print the response as JSON: " +
                                        std::string(status.message())}}.dump();
  }
  return json;
}

bool WantsJson(const std::vector<std::string>& args) {
  for (const std::string& arg : args) {
    if (arg == "--") break;
    if (arg == "--json" || arg == "--json=true") return true;
  }
  return false;
}

}  // namespace thingtank::cli
