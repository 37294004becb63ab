#include "tools/thingtank/cli/tables_cli.h"

#include <algorithm>
#include <ostream>

#include "tools/thingtank/cli/tables_commands.h"

namespace thingtank::cli {
namespace {

using tables::CommandContext;

// One `thingtank tables <name>` command.
struct Command {
  std::string name;
  std::vector<std::string> required;  // positional argument names
  std::string summary;
  std::vector<FlagSpec> flags;  // besides the connection flags
  int (*run)(const CommandContext&);
};

std::vector<FlagSpec> Join(std::vector<FlagSpec> a, const std::vector<FlagSpec>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

const std::vector<Command>& Commands() {
  static const std::vector<Command> kCommands = [] {
    const std::vector<FlagSpec> billing = {
        {"read-units", "N", "provisioned read capacity units (with --write-units)"},
        {"write-units", "N", "provisioned write capacity units (with --read-units)"},
        {"on-demand", "", "on-demand billing: no throughput limit"}};
    const std::vector<FlagSpec> expression = {
        {"names", "JSON", "expression attribute names, e.g. {\"#d\": \"date\"}"},
        {"values", "JSON", "expression attribute values, e.g. {\":v\": {\"S\": \"x\"}}"}};
    const std::vector<FlagSpec> write = Join(
        {{"condition", "EXPR", "write only if this condition expression holds"},
         {"return", "WHAT", "return values: NONE, ALL_OLD (update-item also UPDATED_OLD, "
                            "ALL_NEW, UPDATED_NEW)"}},
        expression);
    const std::vector<FlagSpec> read = {
        {"filter", "EXPR", "filter expression applied after reading"},
        {"projection", "EXPR", "attributes to return, e.g. \"msgid, #d\""},
        {"limit", "N", "read at most N items (before filtering)"},
        {"start-key", "JSON", "continue after this key (printed as \"more\")"},
        {"count", "", "print only the number of matching items"},
        {"consistent", "", "strongly consistent read"}};
    const std::vector<FlagSpec> items = tables::ItemFlags();
    return std::vector<Command>{
        {"create", {"table"}, "create a table",
         Join({{"hash-key", "NAME:TYPE", "hash (partition) key; TYPE S, N or B"},
               {"range-key", "NAME:TYPE", "range (sort) key; TYPE S, N or B"}},
              billing),
         &tables::Create},
        {"list", {}, "list tables in name order",
         {{"page-size", "N", "at most N tables (1 to 100)"},
          {"page-token", "TOKEN", "continue a previous listing"}},
         &tables::List},
        {"describe", {"table"}, "show keys, status, throughput, item count and size", {},
         &tables::Describe},
        {"delete", {"table"}, "delete a table and all its items", {}, &tables::Delete},
        {"update", {"table"}, "change billing mode or provisioned throughput", billing,
         &tables::Update},
        {"ttl", {"table"}, "show, enable (--attribute) or disable (--disable) time to live",
         {{"attribute", "NAME", "enable: the attribute holding expiry as epoch seconds"},
          {"disable", "", "turn time to live off"}},
         &tables::Ttl},
        {"put", {"table"}, "create or replace an item",
         Join(Join({{"item", "JSON", "the item (JSON, - for stdin, @FILE)"}}, write), items),
         &tables::Put},
        {"get", {"table"}, "read an item by its key",
         Join({{"key", "JSON", "the full primary key"},
               {"consistent", "", "strongly consistent read"},
               {"projection", "EXPR", "attributes to return"},
               {"names", "JSON", "expression attribute names"}},
              items),
         &tables::Get},
        {"update-item", {"table"}, "edit an item with an update expression (creates it if absent)",
         Join(Join({{"key", "JSON", "the full primary key"},
                    {"update", "EXPR", "e.g. \"SET #n = #n + :one REMOVE tmp\""}},
                   write),
              items),
         &tables::UpdateItem},
        {"delete-item", {"table"}, "delete an item by its key",
         Join(Join({{"key", "JSON", "the full primary key"}}, write), items),
         &tables::DeleteItem},
        {"query", {"table"}, "read the items of one hash key in range-key order",
         Join(Join(Join({{"key-condition", "EXPR", "e.g. \"msgid = :id AND #d > :since\""},
                         {"backward", "", "descending range-key order"}},
                        read),
                   expression),
              items),
         &tables::Query},
        {"scan", {"table"}, "read every item (or one segment) of a table",
         Join(Join(Join({{"segment", "I", "parallel scan: this segment (0 to N-1)"},
                         {"total-segments", "N", "parallel scan: number of segments"}},
                        read),
                   expression),
              items),
         &tables::Scan},
    };
  }();
  return kCommands;
}

const Command* FindCommand(const std::string& name) {
  for (const Command& command : Commands()) {
    if (command.name == name) return &command;
  }
  return nullptr;
}

// The command's flags plus the connection flags (and --table when it takes
// a table name, for `get --table t` style).
std::vector<FlagSpec> AllFlags(const Command& command) {
  std::vector<FlagSpec> flags = command.flags;
  if (!command.required.empty()) {
    flags.push_back({"table", "NAME", "the table (instead of the <table> argument)"});
  }
  const std::vector<FlagSpec>& common = ConnectionFlags();
  flags.insert(flags.end(), common.begin(), common.end());
  return flags;
}

void PrintSynopsis(const Command& command, std::ostream& os) {
  os << "usage: thingtank tables " << command.name;
  for (const std::string& arg : command.required) os << " <" << arg << ">";
  os << " [flags]\n";
}

void PrintCommandUsage(const Command& command, std::ostream& os) {
  PrintSynopsis(command, os);
  os << "\n" << command.summary << "\n\nflags:\n";
  PrintFlagHelp(AllFlags(command), os);
}

// The index of the command name: the first argument that is neither a flag
// nor the value of a connection flag (or --table) given before it.
size_t CommandIndex(const std::vector<std::string>& args) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg.compare(0, 2, "--") != 0) return i;
    if (arg.find('=') != std::string::npos) continue;
    if (arg == "--table") ++i;
    for (const FlagSpec& spec : ConnectionFlags()) {
      if (arg == "--" + spec.name && !spec.value_name.empty()) ++i;
    }
  }
  return args.size();
}

}  // namespace

void PrintTablesUsage(std::ostream& os) {
  os << "usage: thingtank tables <command> [arguments] [flags]\n\n"
        "Client commands of the tables service (Amazon DynamoDB semantics).\n\ncommands:\n";
  size_t width = 0;
  for (const Command& command : Commands()) width = std::max(width, command.name.size());
  for (const Command& command : Commands()) {
    os << "  " << command.name << std::string(width + 2 - command.name.size(), ' ')
       << command.summary << "\n";
  }
  os << "\nconnection flags (every command):\n";
  PrintFlagHelp(ConnectionFlags(), os);
  os << "\nItems, keys and values are JSON in DynamoDB's form, {\"msgid\": {\"S\": \"1\"}, "
        "\"n\": {\"N\": \"5\"}},\nor with --plain in plain JSON, {\"msgid\": \"1\", \"n\": 5}. "
        "A JSON flag may be - (stdin) or @FILE.\n"
        "Run `thingtank tables <command> --help` for a command's arguments and flags.\n"
        "Exit codes: 0 ok, 1 the call failed, 2 bad command line.\n";
}

int RunTables(const std::vector<std::string>& args) { return RunTables(args, ProcessIo()); }

int RunTables(const std::vector<std::string>& raw_args, const Io& io) {
  const bool json = WantsJson(raw_args);
  const size_t index = CommandIndex(raw_args);
  if (index == raw_args.size()) {
    for (const std::string& arg : raw_args) {
      if (arg == "--help" || arg == "-h") {
        PrintTablesUsage(io.out);
        return kExitOk;
      }
    }
    return ReportUsageError("missing command", json, io, PrintTablesUsage);
  }
  const std::string& name = raw_args[index];
  if (name == "help" || name == "-h") {
    PrintTablesUsage(io.out);
    return kExitOk;
  }
  const Command* command = FindCommand(name);
  if (command == nullptr) {
    return ReportUsageError("unknown command \"" + name + "\"", json, io, PrintTablesUsage);
  }
  // After a mistake: the synopsis and where to find more (the full help is long).
  auto usage = [command](std::ostream& os) {
    PrintSynopsis(*command, os);
    os << "run `thingtank tables " << command->name << " --help` for its flags\n";
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
  if (parsed.Has("table")) {
    // Re-parse with the table name in front so that positional()[0] is it.
    args.insert(args.begin(), parsed.Get("table"));
    parsed = ParsedArgs();
    ParseFlags(args, AllFlags(*command), &parsed, &error);
  }
  const size_t count = parsed.positional().size();
  if (count < command->required.size()) {
    return ReportUsageError("missing <" + command->required[count] + ">", json, io, usage);
  }
  if (count > command->required.size()) {
    return ReportUsageError("unexpected argument \"" + parsed.positional().back() + "\"", json,
                            io, usage);
  }
  ConnectionOptions options;
  if (!ResolveConnectionOptions(parsed, io, &options, &error)) {
    return ReportUsageError(error, json, io, usage);
  }
  const Connection connection(options);
  tables::Stub stub(connection.channel());
  const CommandContext context{parsed, connection, stub, io, usage};
  return command->run(context);
}

}  // namespace thingtank::cli
