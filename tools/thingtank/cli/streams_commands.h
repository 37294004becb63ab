#pragma once

// The handlers of `thingtank streams <command>`, one per command: streams
// and resharding (streams_commands.cc), writes (streams_commands_put.cc),
// reads with shard iterators (streams_commands_get.cc) and enhanced fan-out
// subscriptions (streams_commands_subscribe.cc), with the helpers they
// share. Each gets the parsed command line and returns the exit code.
// Internal to tools/thingtank/cli.

#include <cstdint>
#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "thingtank/streams/v1/streams.grpc.pb.h"
#include "tools/thingtank/cli/cli_command.h"

namespace thingtank::cli::streams {

namespace v1 = thingtank::streams::v1;
using Stub = v1::StreamsService::Stub;

// What one command invocation works with: the shared context plus the stub.
struct CommandContext : CallContext {
  Stub& stub;

  const std::string& stream() const { return args.positional().at(0); }
};

// Streams.
int Create(const CommandContext& c);
int Describe(const CommandContext& c);
int List(const CommandContext& c);
int Delete(const CommandContext& c);
int Retention(const CommandContext& c);
// Resharding.
int Split(const CommandContext& c);
int Merge(const CommandContext& c);
int UpdateShardCount(const CommandContext& c);
// Records.
int Put(const CommandContext& c);
int Get(const CommandContext& c);
int Subscribe(const CommandContext& c);

// ---------------------------------------------------------------------------
// Shared by the handlers.

// True for a call refused for throughput (ProvisionedThroughputExceeded, or
// a rate limit with RetryInfo), worth retrying after a backoff; not for a
// quota (LimitExceededException).
bool IsThrottled(const grpc::Status& status);
// The google.rpc.RetryInfo delay attached to a failed call, if any.
std::optional<int64_t> RetryDelayNanos(const grpc::Status& status);
// BackoffNanos with a random jitter.
int64_t Backoff(int attempt, const grpc::Status& status);

// Every shard of the stream (ListShards, page after page).
grpc::Status ListAllShards(const CommandContext& c, std::vector<v1::Shard>* out);

// An optional integer flag of at least `min`; false with *exit set (a usage
// error) when it is not one.
bool IntAtLeast(const CommandContext& c, const std::string& flag, int64_t min,
                std::optional<int64_t>* out, int* exit);

// --from with --sequence and --timestamp into `position`, `fallback` when
// --from is not given; false with *exit set on a bad or incomplete one.
bool ReadPosition(const CommandContext& c, v1::ShardIteratorType fallback,
                  v1::StartingPosition* position, int* exit);

// Ends a command that changed the stream: with --wait, polls until the
// stream is ACTIVE again (within --timeout) and prints `human` then
// "stream NAME is ACTIVE (N open shards)", or the summary as JSON; without,
// prints `human` or `response` as JSON.
int FinishChange(const CommandContext& c, const google::protobuf::Message& response,
                 const std::function<void(std::ostream&)>& human);

}  // namespace thingtank::cli::streams
