#pragma once

// Shared by the client commands of every service: flag parsing, durations,
// connection options (endpoint, API key, deadline), JSON output and the
// translation of gRPC errors into one readable line.
//
// Exit codes: 0 success, 1 the call failed (server or local I/O error),
// 2 the command line is wrong.

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <google/protobuf/util/json_util.h>
#include <grpcpp/grpcpp.h>

namespace google::protobuf {
class Duration;
class Message;
}  // namespace google::protobuf

namespace thingtank::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

// Where a command reads and writes; the real process streams in production,
// string streams in tests.
struct Io {
  std::istream& in;
  std::ostream& out;
  std::ostream& err;
  // Returns the value of an environment variable, or nullopt when unset.
  std::function<std::optional<std::string>(const std::string&)> getenv;
};

// The process streams and environment.
Io ProcessIo();

// One flag a command accepts. `value_name` empty means a boolean flag.
struct FlagSpec {
  std::string name;        // without the leading "--"
  std::string value_name;  // e.g. "DURATION"; empty for booleans
  std::string help;
  bool repeated = false;
};

// Result of parsing a command line against a list of FlagSpecs.
class ParsedArgs {
 public:
  bool Has(const std::string& flag) const { return values_.count(flag) > 0; }
  // The (last) value of a flag, or `fallback` when absent.
  std::string Get(const std::string& flag, const std::string& fallback = "") const;
  // Every value of a repeated flag, in command-line order.
  const std::vector<std::string>& GetAll(const std::string& flag) const;
  // A boolean flag: true when given bare or as --flag=true.
  bool Bool(const std::string& flag) const;
  const std::vector<std::string>& positional() const { return positional_; }

 private:
  friend bool ParseFlags(const std::vector<std::string>&, const std::vector<FlagSpec>&,
                         ParsedArgs*, std::string*);
  std::map<std::string, std::vector<std::string>> values_;
  std::vector<std::string> positional_;
};

// Parses `--flag value`, `--flag=value`, bare booleans, repeated flags and
// positional arguments (anything after "--" is positional). On error returns
// false with a one-line message in `error`.
bool ParseFlags(const std::vector<std::string>& args, const std::vector<FlagSpec>& specs,
                ParsedArgs* out, std::string* error);

// Durations: "500ms", "30s", "5m", "12h", "4d", decimals ("1.5s") or plain
// seconds ("30"). Returns nanoseconds, or nullopt when malformed or negative.
std::optional<int64_t> ParseDurationNanos(const std::string& text);
// The shortest exact form: 30s, 4d, 500ms, 1.5s.
std::string FormatDurationNanos(int64_t nanos);
std::string FormatDuration(const google::protobuf::Duration& duration);
void SetDuration(int64_t nanos, google::protobuf::Duration* out);

// Prints help lines for flags, aligned, one per flag.
void PrintFlagHelp(const std::vector<FlagSpec>& specs, std::ostream& os);

// Flags shared by every client command.
const std::vector<FlagSpec>& ConnectionFlags();

// Where and how to call ThingTank.
struct ConnectionOptions {
  std::string endpoint = "localhost:50051";
  std::string api_key_id;
  std::string api_key_secret;
  int64_t timeout_nanos = 30'000'000'000;
  bool json = false;
};

// Reads connection flags, falling back to THINGTANK_ENDPOINT,
// THINGTANK_API_KEY_ID, THINGTANK_API_KEY_SECRET. False with `error` set on
// a bad value.
bool ResolveConnectionOptions(const ParsedArgs& args, const Io& io, ConnectionOptions* out,
                              std::string* error);

// A channel to ThingTank plus per-call contexts carrying the deadline and
// credentials.
class Connection {
 public:
  explicit Connection(ConnectionOptions options);
  const ConnectionOptions& options() const { return options_; }
  std::shared_ptr<grpc::Channel> channel() const { return channel_; }
  // A context whose deadline is now + timeout + `extra_wait_nanos` (the time
  // the server is asked to wait, e.g. a long poll).
  std::unique_ptr<grpc::ClientContext> NewContext(int64_t extra_wait_nanos = 0) const;

 private:
  ConnectionOptions options_;
  std::shared_ptr<grpc::Channel> channel_;
};

// Prints a message as JSON (proto field names, defaults included), one line.
void PrintJson(const google::protobuf::Message& message, std::ostream& os);

// A message as one line of JSON; if protobuf cannot print it, a JSON object
// {"error": ...} saying so (never an empty line).
std::string JsonOf(const google::protobuf::Message& message,
                   const google::protobuf::util::JsonPrintOptions& options = {});

// Reports a failed call on io.err, as a human line or (json) a JSON object,
// and returns kExitFailure.
int ReportRpcError(const grpc::Status& status, const ConnectionOptions& options, const Io& io);
// Reports a local failure (e.g. unreadable file); returns kExitFailure.
int ReportLocalError(const std::string& message, bool json, const Io& io);
// Reports a command-line mistake; returns kExitUsage. `usage` (may be empty)
// prints the relevant usage text in human mode.
int ReportUsageError(const std::string& message, bool json, const Io& io,
                     const std::function<void(std::ostream&)>& usage);

// The google.rpc.ErrorInfo reason attached to a failed call, or "".
std::string RpcErrorReason(const grpc::Status& status);

// Human form of a gRPC error (without the "error: " prefix).
std::string DescribeRpcError(const grpc::Status& status, const ConnectionOptions& options);

// True when the raw arguments ask for JSON output (checked before parsing so
// that even parse errors can be reported as JSON).
bool WantsJson(const std::vector<std::string>& args);

}  // namespace thingtank::cli
