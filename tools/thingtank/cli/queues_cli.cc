#include "tools/thingtank/cli/queues_cli.h"

#include <algorithm>
#include <ostream>

#include "tools/thingtank/cli/queues_commands.h"

namespace thingtank::cli {
namespace {

using queues::CommandContext;

// One `thingtank queues <name>` command.
struct Command {
  std::string name;
  std::string alias;
  std::vector<std::string> required;  // positional argument names
  std::vector<std::string> optional;  // optional positionals after the required ones
  std::string summary;
  std::vector<FlagSpec> flags;  // besides the connection flags
  int (*run)(const CommandContext&);
};

const std::vector<Command>& Commands() {
  static const std::vector<Command> kCommands = [] {
    const std::vector<FlagSpec> paging = {
        {"page-size", "N", "at most N queues (1 to 1000)"},
        {"page-token", "TOKEN", "continue a previous listing"}};
    std::vector<FlagSpec> list_flags = {{"prefix", "PREFIX", "only names starting with PREFIX"}};
    list_flags.insert(list_flags.end(), paging.begin(), paging.end());
    return std::vector<Command>{
        {"create", "", {"name"}, {}, "create a queue (idempotent for identical attributes)",
         queues::AttributeFlags(true), &queues::Create},
        {"list", "", {}, {}, "list queues in name order", list_flags, &queues::List},
        {"url", "", {"name"}, {}, "print the URL of a queue", {}, &queues::Url},
        {"get-attributes", "attributes", {"name"}, {}, "show attributes and message counts", {},
         &queues::GetAttributes},
        {"set-attributes", "", {"name"}, {}, "change the attributes given",
         queues::AttributeFlags(false), &queues::SetAttributes},
        {"send", "", {"name"}, {"body"},
         "send a message; body from argument, --body, --file or stdin",
         {{"body", "TEXT", "the message body"},
          {"file", "PATH", "read the body from PATH (- for stdin)"},
          {"delay", "DURATION", "delay before the message is visible (0s to 15m)"},
          {"group", "GROUP", "FIFO: message group id (required there)"},
          {"dedup-id", "ID", "FIFO: deduplication id"},
          {"attribute", "NAME=TYPE:VALUE",
           "message attribute; TYPE String, Number or Binary (base64 value)", true}},
         &queues::Send},
        {"receive", "", {"name"}, {}, "receive messages, waiting up to --wait for one",
         {{"max", "N", "receive up to N messages (1 to 10, default 1)"},
          {"wait", "DURATION", "long-poll wait, 0s to 20s (default: the queue's)"},
          {"visibility-timeout", "DURATION", "invisibility of the received messages"},
          {"attribute-names", "NAMES", "message attributes to return: All, names, prefix.*",
           true}},
         &queues::Receive},
        {"delete", "", {"name", "receipt-handle"}, {}, "delete a received message", {},
         &queues::Delete},
        {"change-visibility", "", {"name", "receipt-handle", "timeout"}, {},
         "make a received message invisible for <timeout> from now (0 = visible now)", {},
         &queues::ChangeVisibility},
        {"purge", "", {"name"}, {}, "delete every message of a queue", {}, &queues::Purge},
        {"delete-queue", "", {"name"}, {}, "delete a queue and its messages", {},
         &queues::DeleteQueue},
        {"dead-letter-sources", "", {"name"}, {}, "list queues that dead-letter into <name>",
         paging, &queues::DeadLetterSources},
    };
  }();
  return kCommands;
}

const Command* FindCommand(const std::string& name) {
  for (const Command& command : Commands()) {
    if (command.name == name || (!command.alias.empty() && command.alias == name)) return &command;
  }
  return nullptr;
}

// The command's flags plus the connection flags (and --queue when it takes
// a queue name, for `send --queue q` style).
std::vector<FlagSpec> AllFlags(const Command& command) {
  std::vector<FlagSpec> flags = command.flags;
  if (!command.required.empty() && command.required[0] == "name") {
    flags.push_back({"queue", "NAME", "the queue (instead of the <name> argument)"});
  }
  const std::vector<FlagSpec>& common = ConnectionFlags();
  flags.insert(flags.end(), common.begin(), common.end());
  return flags;
}

void PrintSynopsis(const Command& command, std::ostream& os) {
  os << "usage: thingtank queues " << command.name;
  for (const std::string& arg : command.required) os << " <" << arg << ">";
  for (const std::string& arg : command.optional) os << " [" << arg << "]";
  os << " [flags]\n";
}

void PrintCommandUsage(const Command& command, std::ostream& os) {
  PrintSynopsis(command, os);
  os << "\n" << command.summary << "\n";
  if (!command.alias.empty()) os << "(alias: " << command.alias << ")\n";
  os << "\nflags:\n";
  PrintFlagHelp(AllFlags(command), os);
}

// The index of the command name: the first argument that is neither a flag
// nor the value of a connection flag (or --queue) given before it.
size_t CommandIndex(const std::vector<std::string>& args) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg.compare(0, 2, "--") != 0) return i;
    if (arg.find('=') != std::string::npos) continue;
    if (arg == "--queue") ++i;
    for (const FlagSpec& spec : ConnectionFlags()) {
      if (arg == "--" + spec.name && !spec.value_name.empty()) ++i;
    }
  }
  return args.size();
}

}  // namespace

void PrintQueuesUsage(std::ostream& os) {
  os << "usage: thingtank queues <command> [arguments] [flags]\n\n"
        "Client commands of the queues service (Amazon SQS semantics).\n\ncommands:\n";
  size_t width = 0;
  for (const Command& command : Commands()) width = std::max(width, command.name.size());
  for (const Command& command : Commands()) {
    os << "  " << command.name << std::string(width + 2 - command.name.size(), ' ')
       << command.summary << "\n";
  }
  os << "\nconnection flags (every command):\n";
  PrintFlagHelp(ConnectionFlags(), os);
  os << "\nDurations: 500ms, 30s, 5m, 12h, 4d or plain seconds.\n"
        "Run `thingtank queues <command> --help` for a command's arguments and flags.\n"
        "Exit codes: 0 ok, 1 the call failed, 2 bad command line.\n";
}

int RunQueues(const std::vector<std::string>& args) { return RunQueues(args, ProcessIo()); }

int RunQueues(const std::vector<std::string>& raw_args, const Io& io) {
  const bool json = WantsJson(raw_args);
  const size_t index = CommandIndex(raw_args);
  if (index == raw_args.size()) {
    for (const std::string& arg : raw_args) {
      if (arg == "--help" || arg == "-h") {
        PrintQueuesUsage(io.out);
        return kExitOk;
      }
    }
    return ReportUsageError("missing command", json, io, PrintQueuesUsage);
  }
  const std::string& name = raw_args[index];
  if (name == "help" || name == "-h") {
    PrintQueuesUsage(io.out);
    return kExitOk;
  }
  const Command* command = FindCommand(name);
  if (command == nullptr) {
    return ReportUsageError("unknown command \"" + name + "\"", json, io, PrintQueuesUsage);
  }
  // After a mistake: the synopsis and where to find more (the full help is long).
  auto usage = [command](std::ostream& os) {
    PrintSynopsis(*command, os);
    os << "run `thingtank queues " << command->name << " --help` for its flags\n";
  };
  std::vector<std::string> args = raw_args;
  args.erase(args.begin() + static_cast<std::ptrdiff_t>(index));
  if (std::find(args.begin(), args.end(), "-h") != args.end()) args.push_back("--help");

  ParsedArgs parsed;
  std::string error;
  if (!ParseFlags(args, AllFlags(*command), &parsed, &error)) {
    return ReportUsageError(error, json, io, usage);
  }
  if (parsed.Bool("help")) {
    PrintCommandUsage(*command, io.out);
    return kExitOk;
  }
  if (parsed.Has("queue")) {
    // Re-parse with the queue name in front so that positional()[0] is it.
    args.insert(args.begin(), parsed.Get("queue"));
    parsed = ParsedArgs();
    ParseFlags(args, AllFlags(*command), &parsed, &error);
  }
  const size_t count = parsed.positional().size();
  if (count < command->required.size()) {
    return ReportUsageError("missing <" + command->required[count] + ">", json, io, usage);
  }
  if (count > command->required.size() + command->optional.size()) {
    return ReportUsageError("unexpected argument \"" + parsed.positional().back() + "\"", json,
                            io, usage);
  }
  ConnectionOptions options;
  if (!ResolveConnectionOptions(parsed, io, &options, &error)) {
    return ReportUsageError(error, json, io, usage);
  }
  const Connection connection(options);
  queues::Stub stub(connection.channel());
  const CommandContext context{parsed, connection, stub, io, usage};
  return command->run(context);
}

}  // namespace thingtank::cli
