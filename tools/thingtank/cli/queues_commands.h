#pragma once

// The handlers of `thingtank queues <command>`, one per command. Each gets
// the parsed command line (queue name and other positionals already counted)
// and returns the exit code. Internal to tools/thingtank/cli.

#include <string>
#include <vector>

#include "thingtank/queues/v1/queues.grpc.pb.h"
#include "tools/thingtank/cli/cli_command.h"

namespace thingtank::cli::queues {

using Stub = thingtank::queues::v1::QueuesService::Stub;

// What one command invocation works with: the shared context plus the stub.
struct CommandContext : CallContext {
  Stub& stub;

  const std::string& queue() const { return args.positional().at(0); }
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
