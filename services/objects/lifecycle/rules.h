#pragma once

// S3's lifecycle rules as pure functions: when a version, delete marker or
// upload is due, given a bucket's rules and the time. No I/O; the pass
// (lifecycle.h) scans, plans with these, and re-plans inside each deletion's
// transaction to check that nothing changed.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/time/time.h"
#include "google/protobuf/repeated_field.h"
#include "services/objects/storage/object_records.pb.h"
#include "thingtank/objects/v1/objects.pb.h"

namespace thingtank::objects::lifecycle {

using Rules = google::protobuf::RepeatedPtrField<v1::LifecycleRule>;

// S3's rounding: `days` after `t`, rounded up to the next midnight UTC (the
// first midnight strictly after t + days). Created 2014-01-15 10:30 UTC with
// 3 days: 2014-01-19 00:00 UTC.
absl::Time DueTime(absl::Time t, int days);

bool Enabled(const v1::LifecycleRule& rule);
bool MatchesKey(const v1::LifecycleRule& rule, std::string_view key);
bool MatchesTags(const v1::LifecycleRule& rule, const std::map<std::string, std::string>& tags);
// Enabled rules only: the longest prefix every one of their filters starts
// with (what a scan of the bucket can be narrowed to).
std::string CommonPrefix(const Rules& rules);

// What the pass removes.
enum class Action {
  kExpire,        // the current version: removed (unversioned) or a delete marker added
  kNoncurrent,    // a noncurrent version or delete marker, removed for good
  kDeleteMarker,  // a latest delete marker with no other version of its key
  kAbortUpload,   // an incomplete multipart upload
};
// The metrics label: "expired", "noncurrent", "delete_marker", "upload_aborted".
std::string ActionName(Action action);

// What a plan needs of a version (never its content).
struct VersionFacts {
  uint64_t seq = 0;
  std::string version_id;
  bool delete_marker = false;
  int64_t modified_micros = 0;
  std::map<std::string, std::string> tags;
};
VersionFacts FactsOf(const storage::VersionRecord& v);

struct KeyStep {
  Action action;
  uint64_t seq;            // of the version it removes (kExpire: the current one)
  std::string version_id;  // of the version it removes
  bool operator==(const KeyStep& o) const {
    return action == o.action && seq == o.seq && version_id == o.version_id;
  }
};

// The steps due now for one key whose versions are `versions` (newest first,
// as the versions column family holds them; the first is the latest), in the
// order to run them: noncurrent versions oldest first (so each one's
// successor, whose creation made it noncurrent, is still there), then the
// delete marker left alone or the current version.
//
// - A current version (not a delete marker) expires at DueTime(created,
//   expiration.days), or from expiration.date on.
// - Version i >= 1 became noncurrent when version i-1 was created; it
//   expires at DueTime(that, noncurrent_days) unless it is one of the
//   newer_noncurrent_versions newest noncurrent versions.
// - A latest delete marker with no other version left (after the noncurrent
//   steps) is removed with expired_object_delete_marker, or with
//   expiration.days once it is that old (as S3 does).
std::vector<KeyStep> PlanKey(const Rules& rules, std::string_view key,
                             const std::vector<VersionFacts>& versions, absl::Time now);

// An upload is aborted at DueTime(initiated, days_after_initiation).
bool UploadDue(const Rules& rules, const storage::UploadRecord& upload, absl::Time now);

}  // namespace thingtank::objects::lifecycle
