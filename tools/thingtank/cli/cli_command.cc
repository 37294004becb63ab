#include "tools/thingtank/cli/cli_command.h"

#include <algorithm>
#include <fstream>
#include <iterator>
#include <ostream>
#include <sstream>

namespace thingtank::cli {
namespace {

const Command* FindCommand(const Service& service, const std::string& name) {
  for (const Command& command : service.commands) {
    if (command.name == name || (!command.alias.empty() && command.alias == name)) return &command;
  }
  return nullptr;
}

// The command's flags plus the connection flags (and the target flag when
// it takes positionals, for `send --queue q` style).
std::vector<FlagSpec> AllFlags(const Service& service, const Command& command) {
  std::vector<FlagSpec> flags = command.flags;
  if (!command.required.empty()) flags.push_back(service.target_flag);
  const std::vector<FlagSpec>& common = ConnectionFlags();
  flags.insert(flags.end(), common.begin(), common.end());
  return flags;
}

void PrintSynopsis(const Service& service, const Command& command, std::ostream& os) {
  os << "usage: thingtank " << service.name << " " << command.name;
  if (!command.synopsis.empty()) {
    os << " " << command.synopsis << " [flags]\n";
    return;
  }
  for (const std::string& arg : command.required) os << " <" << arg << ">";
  for (const std::string& arg : command.optional) os << " [" << arg << "]";
  if (command.variadic && !command.optional.empty()) os << "...";
  os << " [flags]\n";
}

void PrintCommandUsage(const Service& service, const Command& command, std::ostream& os) {
  PrintSynopsis(service, command, os);
  os << "\n" << command.summary << "\n";
  if (!command.alias.empty()) os << "(alias: " << command.alias << ")\n";
  os << "\nflags:\n";
  PrintFlagHelp(AllFlags(service, command), os);
}

}  // namespace

size_t CommandIndex(const Service& service, const std::vector<std::string>& args) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg.compare(0, 2, "--") != 0) return i;
    if (arg.find('=') != std::string::npos) continue;
    if (arg == "--" + service.target_flag.name) ++i;
    for (const FlagSpec& spec : ConnectionFlags()) {
      if (arg == "--" + spec.name && !spec.value_name.empty()) ++i;
    }
  }
  return args.size();
}

void PrintServiceUsage(const Service& service, std::ostream& os) {
  os << "usage: thingtank " << service.name << " <command> [arguments] [flags]\n\n"
     << service.description << "\n\ncommands:\n";
  size_t width = 0;
  for (const Command& command : service.commands) width = std::max(width, command.name.size());
  for (const Command& command : service.commands) {
    os << "  " << command.name << std::string(width + 2 - command.name.size(), ' ')
       << command.summary << "\n";
  }
  os << "\nconnection flags (every command):\n";
  PrintFlagHelp(ConnectionFlags(), os);
  os << "\n" << service.notes << "Run `thingtank " << service.name
     << " <command> --help` for a command's arguments and flags.\n"
        "Exit codes: 0 ok, 1 the call failed, 2 bad command line.\n";
}

int RunService(const Service& service, const std::vector<std::string>& raw_args, const Io& io) {
  const bool json = WantsJson(raw_args);
  auto service_usage = [&service](std::ostream& os) { PrintServiceUsage(service, os); };
  const size_t index = CommandIndex(service, raw_args);
  if (index == raw_args.size()) {
    for (const std::string& arg : raw_args) {
      if (arg == "--help" || arg == "-h") {
        service_usage(io.out);
        return kExitOk;
      }
    }
    return ReportUsageError("missing command", json, io, service_usage);
  }
  const std::string& name = raw_args[index];
  if (name == "help" || name == "-h") {
    service_usage(io.out);
    return kExitOk;
  }
  const Command* command = FindCommand(service, name);
  if (command == nullptr) {
    return ReportUsageError("unknown command \"" + name + "\"", json, io, service_usage);
  }
  // After a mistake: the synopsis and where to find more (the full help is long).
  auto usage = [&service, command](std::ostream& os) {
    PrintSynopsis(service, *command, os);
    os << "run `thingtank " << service.name << " " << command->name << " --help` for its flags\n";
  };
  std::vector<std::string> args = raw_args;
  args.erase(args.begin() + static_cast<std::ptrdiff_t>(index));
  if (std::find(args.begin(), args.end(), "-h") != args.end()) args.push_back("--help");

  const std::vector<FlagSpec> flags = AllFlags(service, *command);
  ParsedArgs parsed;
  std::string error;
  if (!ParseFlags(args, flags, &parsed, &error)) return ReportUsageError(error, json, io, usage);
  if (parsed.Bool("help")) {
    PrintCommandUsage(service, *command, io.out);
    return kExitOk;
  }
  if (parsed.Has(service.target_flag.name)) {
    // Re-parse with the target in front so that positional()[0] is it.
    args.insert(args.begin(), parsed.Get(service.target_flag.name));
    parsed = ParsedArgs();
    ParseFlags(args, flags, &parsed, &error);
  }
  const size_t count = parsed.positional().size();
  if (count < command->required.size()) {
    return ReportUsageError("missing <" + command->required[count] + ">", json, io, usage);
  }
  if (!command->variadic && count > command->required.size() + command->optional.size()) {
    return ReportUsageError("unexpected argument \"" + parsed.positional().back() + "\"", json,
                            io, usage);
  }
  ConnectionOptions options;
  if (!ResolveConnectionOptions(parsed, io, &options, &error)) {
    return ReportUsageError(error, json, io, usage);
  }
  const Connection connection(options);
  return command->run(CallContext{parsed, connection, io, usage});
}

int Finish(const CallContext& c, const grpc::Status& status,
           const google::protobuf::Message& response,
           const std::function<void(std::ostream&)>& human) {
  if (!status.ok()) return ReportRpcError(status, c.connection.options(), c.io);
  if (c.json()) {
    PrintJson(response, c.io.out);
  } else {
    human(c.io.out);
  }
  return kExitOk;
}

bool ParseInt64(const std::string& text, size_t max_chars, int64_t* out) {
  if (text.empty() || text.size() > max_chars) return false;
  size_t used = 0;
  long long value = 0;
  try {
    value = std::stoll(text, &used);
  } catch (const std::exception&) {
    return false;
  }
  if (used != text.size()) return false;
  *out = value;
  return true;
}

bool ReadFile(const std::string& path, std::string* out) {
  std::ifstream file(path, std::ios::binary);
  std::ostringstream content;
  if (file) content << file.rdbuf();
  if (!file || file.bad()) return false;
  *out = content.str();
  return true;
}

std::string ReadAll(std::istream& in) {
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace thingtank::cli
