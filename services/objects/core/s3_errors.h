#pragma once

#include <map>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace thingtank::objects::s3 {

// S3 errors as absl::Status: the S3 error code (e.g. "NoSuchKey") is the
// ErrorInfo reason, the gRPC code follows from it by one table (s3_errors.cc):
//   NOT_FOUND            NoSuchBucket NoSuchKey NoSuchVersion NoSuchUpload
//                        NoSuchTagSet NoSuchLifecycleConfiguration
//                        NoSuchCORSConfiguration
//   ALREADY_EXISTS       BucketAlreadyExists BucketAlreadyOwnedByYou
//   FAILED_PRECONDITION  BucketNotEmpty PreconditionFailed NotModified
//                        MethodNotAllowed InvalidObjectState
//   OUT_OF_RANGE         InvalidRange InvalidPartNumber
//   ABORTED              OperationAborted ConditionalRequestConflict
//   UNAVAILABLE          SlowDown ServiceUnavailable
//   INTERNAL             InternalError
//   INVALID_ARGUMENT     everything else (InvalidArgument, InvalidBucketName,
//                        KeyTooLongError, BadDigest, InvalidDigest, InvalidPart,
//                        InvalidPartOrder, EntityTooSmall, EntityTooLarge,
//                        MetadataTooLarge, InvalidTag, IncompleteBody, ...)
absl::StatusCode CodeOf(std::string_view s3_code);

// An error with the S3 code as reason and, optionally, ErrorInfo metadata
// (e.g. {"ActualObjectSize", "10"}).
absl::Status Error(std::string_view s3_code, std::string_view message,
                   const std::map<std::string, std::string>& metadata = {});

// INVALID_ARGUMENT (whatever the table says) naming the request field that is
// wrong, for bad input: "<field>: <message>" with a BadRequest violation.
absl::Status FieldError(std::string_view field, std::string_view s3_code,
                        std::string_view message);

}  // namespace thingtank::objects::s3
