#pragma once

// Conditional requests (RFC 7232 as S3 applies them): If-Match,
// If-None-Match, If-Modified-Since and If-Unmodified-Since on reads and on
// writes. ETags are compared unquoted; a header may list several ETags,
// comma separated ("a", "b"); "*" matches any existing object. Times are
// compared at one-second resolution, as HTTP dates carry them.

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "thingtank/objects/v1/objects.pb.h"

namespace thingtank::objects {

namespace v1 = ::thingtank::objects::v1;

struct ObjectState {
  std::string etag;  // quoted or not
  absl::Time last_modified;
};

// GET/HEAD (and a copy's source conditions), in this order:
//   If-Match fails -> PreconditionFailed;
//   If-Unmodified-Since fails (only without If-Match: If-Match true and
//     If-Unmodified-Since false is OK, as S3 documents) -> PreconditionFailed;
//   If-None-Match matches -> NotModified (so If-None-Match false and
//     If-Modified-Since true is NotModified, as S3 documents);
//   If-Modified-Since not modified (last_modified <= since) -> NotModified.
// `now` is the clock's time: an If-Modified-Since in the future is ignored
// (RFC 7232 3.3). Errors: s3::Error("PreconditionFailed" | "NotModified")
// (FAILED_PRECONDITION) with ErrorInfo metadata {"Condition": <header>}.
absl::Status CheckReadConditions(const v1::Conditions& c, const ObjectState& object,
                                 absl::Time now);

// PUT / CompleteMultipartUpload / copy destination: `current` is the key's
// current object (nullopt: none, or its latest is a delete marker), in order:
//   If-None-Match "*" and current exists -> PreconditionFailed;
//   If-None-Match with an ETag list that matches -> PreconditionFailed;
//   If-Match with no current -> NoSuchKey;
//   If-Match mismatch -> PreconditionFailed;
//   If-Unmodified-Since and current modified after it -> PreconditionFailed;
//   If-Modified-Since and current not modified since (or no current) ->
//     PreconditionFailed.
absl::Status CheckWriteConditions(const v1::Conditions& c,
                                  const std::optional<ObjectState>& current);

// Whether an If-Match / If-None-Match value matches `etag`: "*" (alone or in
// the list) matches any; otherwise any listed ETag equal to `etag`, both
// unquoted. `weak` (If-None-Match) also lets a W/"..." entry match.
bool EtagListMatches(std::string_view header, std::string_view etag, bool weak);

}  // namespace thingtank::objects
