#pragma once

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"
#include "grpcpp/support/byte_buffer.h"

namespace thingtank {

// Parses a request's bytes into `out`. On failure, INVALID_ARGUMENT "the
// request is not a valid protobuf message: <what>" (ErrorInfo reason
// "MalformedRequest", a BadRequest naming the field when one is to blame):
// a truncated message, field number 0, a stray end-group tag, an invalid wire
// type, invalid UTF-8 in a string field, or messages nested past protobuf's
// recursion limit. gRPC itself answers such a request with an empty
// UNIMPLEMENTED, and before any authentication: services parse their requests
// themselves, after the gate (see GrpcAdapter).
absl::Status ParseRequest(const grpc::ByteBuffer& bytes, google::protobuf::Message* out);

// Why `data` does not parse as a `descriptor` message, as "<field path>" and
// "<what>"; false if it parses. Exposed for tests.
bool DiagnoseMalformed(const google::protobuf::Descriptor* descriptor, absl::string_view data,
                       std::string* field, std::string* what);

}  // namespace thingtank
