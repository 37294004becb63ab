#include "services/objects/core/s3_errors.h"

#include "absl/container/flat_hash_map.h"
#include "services/common/status.h"
#include "services/common/string_views.h"

namespace thingtank::objects::s3 {

absl::StatusCode CodeOf(std::string_view s3_code) {
  using C = absl::StatusCode;
  static const auto* kCodes = new absl::flat_hash_map<std::string_view, C>{
      {"NoSuchBucket", C::kNotFound},
      {"NoSuchKey", C::kNotFound},
      {"NoSuchVersion", C::kNotFound},
      {"NoSuchUpload", C::kNotFound},
      {"NoSuchTagSet", C::kNotFound},
      {"NoSuchLifecycleConfiguration", C::kNotFound},
      {"NoSuchCORSConfiguration", C::kNotFound},
      {"BucketAlreadyExists", C::kAlreadyExists},
      {"BucketAlreadyOwnedByYou", C::kAlreadyExists},
      {"BucketNotEmpty", C::kFailedPrecondition},
      {"PreconditionFailed", C::kFailedPrecondition},
      {"NotModified", C::kFailedPrecondition},
      {"MethodNotAllowed", C::kFailedPrecondition},
      {"InvalidObjectState", C::kFailedPrecondition},
      {"InvalidRange", C::kOutOfRange},
      {"InvalidPartNumber", C::kOutOfRange},
      {"OperationAborted", C::kAborted},
      {"ConditionalRequestConflict", C::kAborted},
      {"SlowDown", C::kUnavailable},
      {"ServiceUnavailable", C::kUnavailable},
      {"InternalError", C::kInternal},
  };
  auto it = kCodes->find(s3_code);
  return it == kCodes->end() ? C::kInvalidArgument : it->second;
}

absl::Status Error(std::string_view s3_code, std::string_view message,
                   const std::map<std::string, std::string>& metadata) {
  return ErrorWithReason(CodeOf(s3_code), Av(s3_code), Av(message), metadata);
}

absl::Status FieldError(std::string_view field, std::string_view s3_code,
                        std::string_view message) {
  return InvalidField(Av(field), Av(message), Av(s3_code));
}

}  // namespace thingtank::objects::s3
