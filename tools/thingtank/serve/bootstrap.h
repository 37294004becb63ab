#pragma once

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "grpcpp/channel.h"

namespace thingtank::serve {

// `serve --bootstrap FILE`: creates the resources the file lists (JSON or
// YAML; docs/bootstrap.md), idempotently: what exists already is left as it
// is, so a second start with the same file succeeds and changes nothing.
//
// Top-level keys are service names ("queues", "tables"), each a list of that
// service's Create requests in proto JSON field names. Every entry is parsed
// before anything is created; then the calls go over `channel` (the gateway),
// each with a deadline and, when `authorization` is set ("ApiKey id:secret"),
// that metadata. A table is waited for until ACTIVE.
//
// Errors: INVALID_ARGUMENT for the file, else the failed call's code, with a
// message naming the entry: "--bootstrap FILE: tables[1] (readings): <what>".
// Blocks the calling thread (never call it on a reactor thread).
absl::Status Bootstrap(const std::string& path, const std::shared_ptr<grpc::Channel>& channel,
                       const std::string& authorization);

}  // namespace thingtank::serve
