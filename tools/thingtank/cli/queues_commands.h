#pragma once

// The handlers of `thingtank queues <command>`, one per command. Each gets
// the parsed command line (queue name and other positionals already counted)
// and returns the exit code. Internal to tools/thingtank/cli.

#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include "thingtank/queues/v1/queues.grpc.pb.h"
#include "tools/thingtank/cli/cli_common.h"

namespace thingtank::cli::queues {

using Stub = thingtank::queues::v1::QueuesService::Stub;

// What one command invocation works with.
struct CommandContext {
  const ParsedArgs& args;
  const Connection& connection;
  Stub& stub;
  const Io& io;
  // Prints this command's usage.
  std::function<void(std::ostream&)> usage;

  bool json() const { return connection.options().json; }
  const std::string& queue() const { return args.positional().at(0); }
  int UsageError(const std::string& message) const {
    return ReportUsageError(message, json(), io, usage);
  }
};

// Flags setting queue attributes (create, set-attributes). `for_create` adds
// --fifo.
std::vector<FlagSpec> AttributeFlags(bool for_create);

int Create(const CommandContext& c);
int List(const CommandContext& c);
int Url(const CommandContext& c);
int GetAttributes(const CommandContext& c);
int SetAttributes(const CommandContext& c);
int Send(const CommandContext& c);
int Receive(const CommandContext& c);
int Delete(const CommandContext& c);
int ChangeVisibility(const CommandContext& c);
int Purge(const CommandContext& c);
int DeleteQueue(const CommandContext& c);
int DeadLetterSources(const CommandContext& c);

}  // namespace thingtank::cli::queues
