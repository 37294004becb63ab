// What the stream rule kinds (topic_to_stream.cc, stream_to_topic.cc) share:
// reading a streams error (its Kinesis reason, its RetryInfo delay), the
// backoff of retried calls, and UTF-8 checks of keys and record data.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "absl/time/time.h"
#include "grpcpp/support/status.h"

namespace thingtank::wamp {

// The google.rpc.RetryInfo delay in a status's details, if it has one
// (ProvisionedThroughputExceededException carries one).
std::optional<absl::Duration> RetryInfoDelay(const grpc::Status& status);

// The google.rpc.ErrorInfo reason ("ExpiredIteratorException"), or "".
std::string ErrorReasonOf(const grpc::Status& status);

// The pause before retrying after the `failures`-th failure in a row:
// kRuleBackoff doubling from 1 s, at most 30 s; at least `server_delay`.
absl::Duration RetryBackoff(int failures, std::optional<absl::Duration> server_delay);

// The number of code points of `s`, or nullopt when it is not valid UTF-8.
std::optional<size_t> Utf8Length(std::string_view s);

}  // namespace thingtank::wamp
