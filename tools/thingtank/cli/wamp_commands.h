#pragma once

// The handlers of `thingtank wamp <command>` and `thingtank wamp rules
// <command>`, one per command. Each gets the parsed command line (the URI or
// rule id and other positionals already counted) and returns the exit code.
// Internal to tools/thingtank/cli.

#include <string>

#include "thingtank/wamp/v1/wamp.grpc.pb.h"
#include "tools/thingtank/cli/cli_command.h"

namespace thingtank::cli::wamp {

using Stub = thingtank::wamp::v1::WampService::Stub;

// What one command invocation works with: the shared context plus the stub.
struct CommandContext : CallContext {
  Stub& stub;

  // The topic, procedure or rule id (the first positional).
  const std::string& target() const { return args.positional().at(0); }
};

int Publish(const CommandContext& c);
int Call(const CommandContext& c);
int Subscribe(const CommandContext& c);
int CreateRule(const CommandContext& c);
int ListRules(const CommandContext& c);
int DeleteRule(const CommandContext& c);

}  // namespace thingtank::cli::wamp
