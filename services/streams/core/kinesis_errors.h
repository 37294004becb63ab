#pragma once

#include <string_view>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace thingtank::streams {

// Kinesis errors as absl::Status: the Kinesis error code (e.g.
// "ResourceNotFoundException") is the ErrorInfo reason, the gRPC code follows
// from it by one table (kinesis_errors.cc):
//   NOT_FOUND            ResourceNotFoundException
//   FAILED_PRECONDITION  ResourceInUseException ExpiredIteratorException
//   RESOURCE_EXHAUSTED   LimitExceededException
//                        ProvisionedThroughputExceededException (use Throttled)
//   INVALID_ARGUMENT     InvalidArgumentException and everything else
absl::StatusCode CodeOf(std::string_view kinesis_code);

// An error with the Kinesis code as reason.
absl::Status Error(std::string_view kinesis_code, std::string_view message);

// INVALID_ARGUMENT (whatever the table says) naming the request field that is
// wrong: "<field>: <message>" with a BadRequest violation.
absl::Status FieldError(std::string_view field, std::string_view kinesis_code,
                        std::string_view message);

// ProvisionedThroughputExceededException: RESOURCE_EXHAUSTED with RetryInfo
// (retry after `retry_delay`) and a QuotaFailure naming `subject` (e.g. the
// shard id; may be empty).
absl::Status Throttled(std::string_view message, absl::Duration retry_delay,
                       std::string_view subject = "");

} // namespace thingtank::streams
