#pragma once

#include <map>
#include <string>
#include "absl/strings/string_view.h"

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace thingtank {

// Error construction for domain code. Details travel as absl::Status payloads
// holding google.rpc messages (BadRequest, ErrorInfo, RetryInfo, QuotaFailure)
// and are turned into a google.rpc.Status by ToGrpcStatus (grpc_status.h) at
// the edge, so domain code never sees gRPC types.

// INVALID_ARGUMENT naming the field: message "<field>: <description>", with a
// google.rpc.BadRequest field violation and ErrorInfo `reason` (an AWS-style
// error name such as "InvalidParameterValue").
absl::Status InvalidField(absl::string_view field, absl::string_view description,
                          absl::string_view reason = "InvalidParameterValue");

// Any code with an ErrorInfo reason (e.g. NOT_FOUND, "QueueDoesNotExist"),
// and ErrorInfo metadata when given.
absl::Status ErrorWithReason(absl::StatusCode code, absl::string_view reason,
                             absl::string_view message,
                             const std::map<std::string, std::string>& metadata = {});

// RESOURCE_EXHAUSTED with RetryInfo (retry after `retry_delay`) and a
// QuotaFailure naming `subject`.
absl::Status QuotaExceeded(absl::string_view reason, absl::string_view subject,
                           absl::string_view message, absl::Duration retry_delay);

// UNAVAILABLE marked as "this non-blocking attempt would have to wait for
// disk": the caller retries the same work where blocking is allowed.
absl::Status WouldBlock();
bool IsWouldBlock(const absl::Status& status);

// The ErrorInfo reason of a status, or a generic name derived from its code.
std::string ErrorReason(const absl::Status& status);
// The field named by a BadRequest violation, or empty.
std::string ErrorField(const absl::Status& status);

}  // namespace thingtank

// Propagates a non-OK status.
#define TT_RETURN_IF_ERROR(expr)                 \
  do {                                           \
    ::absl::Status tt_status_ = (expr);          \
    if (!tt_status_.ok()) return tt_status_;     \
  } while (0)

#define TT_CONCAT_INNER(a, b) a##b
#define TT_CONCAT(a, b) TT_CONCAT_INNER(a, b)
// Assigns the value of a StatusOr or propagates its error.
#define TT_ASSIGN_OR_RETURN(lhs, expr) \
  TT_ASSIGN_OR_RETURN_IMPL(TT_CONCAT(tt_statusor_, __LINE__), lhs, expr)
#define TT_ASSIGN_OR_RETURN_IMPL(var, lhs, expr) \
  auto var = (expr);                             \
  if (!var.ok()) return var.status();            \
  lhs = std::move(var).value()
