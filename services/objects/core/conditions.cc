#include "services/objects/core/conditions.h"

#include <cstdint>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "services/objects/core/checksums.h"
#include "services/objects/core/s3_errors.h"
#include "services/common/string_views.h"

namespace thingtank::objects {
namespace {

constexpr char kPreconditionFailed[] = "At least one of the pre-conditions you specified did not hold";

absl::Status Failed(std::string_view condition) {
  return s3::Error("PreconditionFailed", kPreconditionFailed,
                   {{"Condition", std::string(condition)}});
}

absl::Status NotModified(std::string_view condition) {
  return s3::Error("NotModified", "Not Modified", {{"Condition", std::string(condition)}});
}

// HTTP dates have whole seconds: both sides are floored to a second.
int64_t Seconds(absl::Time t) { return absl::ToUnixSeconds(t); }
int64_t Seconds(const google::protobuf::Timestamp& ts) { return ts.seconds(); }

// Modified after `since` at one-second resolution.
bool ModifiedSince(absl::Time last_modified, const google::protobuf::Timestamp& since) {
  return Seconds(last_modified) > Seconds(since);
}

}  // namespace

bool EtagListMatches(std::string_view header, std::string_view etag, bool weak) {
  const std::string want = UnquoteEtag(Sv(absl::StripAsciiWhitespace(Av(etag))));
  for (absl::string_view piece : absl::StrSplit(Av(header), ',')) {
    std::string_view entry = Sv(absl::StripAsciiWhitespace(piece));
    if (entry == "*") return true;
    if (entry.substr(0, 2) == "W/") {
      if (!weak) continue;  // strong comparison: a weak tag never matches
      entry.remove_prefix(2);
    }
    if (!entry.empty() && UnquoteEtag(entry) == want) return true;
  }
  return false;
}

absl::Status CheckReadConditions(const v1::Conditions& c, const ObjectState& object,
                                 absl::Time now) {
  if (!c.if_match().empty()) {
    if (!EtagListMatches(c.if_match(), object.etag, /*weak=*/false)) return Failed("If-Match");
  } else if (c.has_if_unmodified_since() &&
             ModifiedSince(object.last_modified, c.if_unmodified_since())) {
    return Failed("If-Unmodified-Since");
  }
  if (!c.if_none_match().empty() && EtagListMatches(c.if_none_match(), object.etag, /*weak=*/true)) {
    return NotModified("If-None-Match");
  }
  if (c.has_if_modified_since() && Seconds(c.if_modified_since()) <= Seconds(now) &&
      !ModifiedSince(object.last_modified, c.if_modified_since())) {
    return NotModified("If-Modified-Since");
  }
  return absl::OkStatus();
}

absl::Status CheckWriteConditions(const v1::Conditions& c,
                                  const std::optional<ObjectState>& current) {
  if (!c.if_none_match().empty() && current.has_value() &&
      EtagListMatches(c.if_none_match(), current->etag, /*weak=*/true)) {
    return Failed("If-None-Match");
  }
  if (!c.if_match().empty()) {
    if (!current.has_value()) return s3::Error("NoSuchKey", "The specified key does not exist.");
    if (!EtagListMatches(c.if_match(), current->etag, /*weak=*/false)) return Failed("If-Match");
  }
  if (c.has_if_unmodified_since() && current.has_value() &&
      ModifiedSince(current->last_modified, c.if_unmodified_since())) {
    return Failed("If-Unmodified-Since");
  }
  if (c.has_if_modified_since() &&
      (!current.has_value() || !ModifiedSince(current->last_modified, c.if_modified_since()))) {
    return Failed("If-Modified-Since");
  }
  return absl::OkStatus();
}

}  // namespace thingtank::objects
