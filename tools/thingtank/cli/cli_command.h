#pragma once

// The command machinery shared by `thingtank queues`, `tables` and `wamp`:
// a table of commands, the dispatcher that picks and checks one, the help
// printers, and helpers the command handlers of every service use.

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <limits>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "tools/thingtank/cli/cli_common.h"

namespace thingtank::cli {

// What one command invocation works with, whatever the service.
struct CallContext {
  const ParsedArgs& args;
  const Connection& connection;
  const Io& io;
  // Prints this command's usage.
  std::function<void(std::ostream&)> usage;

  bool json() const { return connection.options().json; }
  int UsageError(const std::string& message) const {
    return ReportUsageError(message, json(), io, usage);
  }
};

// One `thingtank <service> <name>` command.
struct Command {
  using Run = std::function<int(const CallContext&)>;

  std::string name;
  std::vector<std::string> required;  // positional argument names
  std::string summary;
  std::vector<FlagSpec> flags;  // besides the connection flags
  Run run;
  std::vector<std::string> optional = {};  // optional positionals after the required ones
  std::string alias = {};
  // The last optional positional repeats: any number of them ([arg...]).
  bool variadic = false;
  // Replaces the generated positionals in the usage line when not empty
  // (for arguments that go with a flag).
  std::string synopsis = {};
};

// A service's commands and the texts of its help.
struct Service {
  std::string name;         // "queues"
  std::string description;  // the line under the usage line
  // Names the first positional as a flag (--queue NAME) for commands that
  // take positionals.
  FlagSpec target_flag;
  std::string notes;  // printed after the connection flags
  std::vector<Command> commands;
};

// Adapts a handler taking a service context (a CallContext plus a `stub`
// member) to Command::Run: the stub is made on the call's channel.
template <typename Context>
Command::Run WithStub(int (*handler)(const Context&)) {
  return [handler](const CallContext& call) {
    std::remove_reference_t<decltype(Context::stub)> stub(call.connection.channel());
    return handler(Context{call, stub});
  };
}

// The service's overview: its commands, the connection flags and notes.
void PrintServiceUsage(const Service& service, std::ostream& os);

// The index of the command name in `raw_args`: the first argument that is
// neither a flag nor the value of a connection flag (or the target flag)
// given before it; raw_args.size() when there is none.
size_t CommandIndex(const Service& service, const std::vector<std::string>& raw_args);

// Finds the command in `raw_args`, parses its flags and positionals, connects
// and runs it. Returns the exit code.
int RunService(const Service& service, const std::vector<std::string>& raw_args, const Io& io);

// Ends a call: the error, the response as JSON, or the human form.
int Finish(const CallContext& c, const grpc::Status& status,
           const google::protobuf::Message& response,
           const std::function<void(std::ostream&)>& human);

// Parses the whole of `text` as a decimal integer of at most `max_chars`
// characters.
bool ParseInt64(const std::string& text, size_t max_chars, int64_t* out);

// An optional integer flag within Int's range, at most `max_chars` long;
// false with *exit set when bad.
template <typename Int>
bool IntFlag(const CallContext& c, const std::string& flag, std::optional<Int>* out, int* exit,
             size_t max_chars = 20) {
  if (!c.args.Has(flag)) return true;
  int64_t value = 0;
  if (!ParseInt64(c.args.Get(flag), max_chars, &value) ||
      value < std::numeric_limits<Int>::min() || value > std::numeric_limits<Int>::max()) {
    *exit = c.UsageError("--" + flag + ": \"" + c.args.Get(flag) + "\" is not an integer");
    return false;
  }
  *out = static_cast<Int>(value);
  return true;
}

// The whole content of a file; false when it cannot be read.
bool ReadFile(const std::string& path, std::string* out);
// Everything left on `in`.
std::string ReadAll(std::istream& in);

}  // namespace thingtank::cli
