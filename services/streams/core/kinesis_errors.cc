#include "services/streams/core/kinesis_errors.h"

#include "services/common/status.h"
#include "services/common/string_views.h"

namespace thingtank::streams {

absl::StatusCode CodeOf(std::string_view kinesis_code) {
  using C = absl::StatusCode;
  if (kinesis_code == "ResourceNotFoundException")
    return C::kNotFound;
  if (kinesis_code == "ResourceInUseException")
    return C::kFailedPrecondition;
  if (kinesis_code == "ExpiredIteratorException")
    return C::kFailedPrecondition;
  if (kinesis_code == "LimitExceededException")
    return C::kResourceExhausted;
  if (kinesis_code == "ProvisionedThroughputExceededException")
    return C::kResourceExhausted;
  return C::kInvalidArgument;
}

absl::Status Error(std::string_view kinesis_code, std::string_view message) {
  return ErrorWithReason(CodeOf(kinesis_code), Av(kinesis_code), Av(message));
}

absl::Status FieldError(std::string_view field, std::string_view kinesis_code,
                        std::string_view message) {
  return InvalidField(Av(field), Av(message), Av(kinesis_code));
}

absl::Status Throttled(std::string_view message, absl::Duration retry_delay,
                       std::string_view subject) {
  return QuotaExceeded("ProvisionedThroughputExceededException", Av(subject),
                       Av(message), retry_delay);
}

} // namespace thingtank::streams
