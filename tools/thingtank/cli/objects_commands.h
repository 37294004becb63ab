#pragma once

// The handlers of `thingtank objects <command>`, one per command: buckets
// and their configurations (objects_commands_bucket.cc), listings and
// deletes (objects_commands_list.cc), transfers (objects_commands_cp.cc over
// objects_transfer.h). Each gets the parsed command line and returns the
// exit code. Internal to tools/thingtank/cli.

#include <string>
#include <vector>

#include "thingtank/objects/v1/objects.grpc.pb.h"
#include "tools/thingtank/cli/cli_command.h"
#include "tools/thingtank/cli/objects_paths.h"

namespace thingtank::cli::objects {

using Stub = thingtank::objects::v1::ObjectsService::Stub;

// What one command invocation works with: the shared context plus the stub.
struct CommandContext : CallContext {
  Stub& stub;

  // The positional argument `index` as a tt:// URL; false with *exit set (a
  // usage error) when it is not one.
  bool Url(size_t index, S3Url* out, int* exit) const;
  // The same, requiring a key (tt://bucket/key).
  bool ObjectUrl(size_t index, S3Url* out, int* exit) const;
  // The same, requiring no key (tt://bucket).
  bool BucketUrl(size_t index, S3Url* out, int* exit) const;
};

// The flags of cp (also used by the command table).
std::vector<FlagSpec> CopyFlags();

// Buckets.
int MakeBucket(const CommandContext& c);
int RemoveBucket(const CommandContext& c);
int Versioning(const CommandContext& c);
int Lifecycle(const CommandContext& c);
int Notifications(const CommandContext& c);
int Tag(const CommandContext& c);
// Listings and deletes.
int List(const CommandContext& c);
int Remove(const CommandContext& c);
// Objects.
int Copy(const CommandContext& c);
int Stat(const CommandContext& c);
int Cat(const CommandContext& c);

// Deletes `objects` (at most 1,000) with DeleteObjects, printing a line per
// deleted key (human form) and an error line per key that failed; returns
// the number of failures, or -1 when the call itself failed (reported).
int DeleteBatch(const CommandContext& c, const std::string& bucket,
                const std::vector<thingtank::objects::v1::ObjectIdentifier>& objects,
                thingtank::objects::v1::DeleteObjectsResponse* all);

}  // namespace thingtank::cli::objects
