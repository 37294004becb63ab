#pragma once

// The handlers of `thingtank tables <command>`, one per command. Each gets
// the parsed command line (table name and other positionals already counted)
// and returns the exit code. Internal to tools/thingtank/cli.

#include <string>
#include <vector>

#include "thingtank/tables/v1/tables.grpc.pb.h"
#include "tools/thingtank/cli/cli_command.h"

namespace thingtank::cli::tables {

using Stub = thingtank::tables::v1::TablesService::Stub;

// What one command invocation works with: the shared context plus the stub.
struct CommandContext : CallContext {
  Stub& stub;

  bool plain() const { return args.Bool("plain"); }
  const std::string& table() const { return args.positional().at(0); }
};

// Flags of the commands that take or print items (--plain).
std::vector<FlagSpec> ItemFlags();

int Create(const CommandContext& c);
int List(const CommandContext& c);
int Describe(const CommandContext& c);
int Delete(const CommandContext& c);
int Update(const CommandContext& c);
int Ttl(const CommandContext& c);
int Put(const CommandContext& c);
int Get(const CommandContext& c);
int UpdateItem(const CommandContext& c);
int DeleteItem(const CommandContext& c);
int Query(const CommandContext& c);
int Scan(const CommandContext& c);
int BatchWrite(const CommandContext& c);
int BatchGet(const CommandContext& c);
int TransactWrite(const CommandContext& c);
int TransactGet(const CommandContext& c);

}  // namespace thingtank::cli::tables
