#include "services/objects/lifecycle/rules.h"

#include <algorithm>

namespace thingtank::objects::lifecycle {
namespace {

constexpr int64_t kMicrosPerDay = int64_t{86'400} * 1'000'000;

absl::Time FromTimestamp(const google::protobuf::Timestamp& ts) {
  return absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos());
}

bool CurrentDue(const v1::LifecycleRule& rule, const VersionFacts& v, absl::Time now) {
  const v1::LifecycleExpiration& e = rule.expiration();
  if (e.days() > 0 && now >= DueTime(absl::FromUnixMicros(v.modified_micros), e.days())) return true;
  return e.has_date() && now >= FromTimestamp(e.date());
}

bool MarkerDue(const v1::LifecycleRule& rule, const VersionFacts& marker, absl::Time now) {
  const v1::LifecycleExpiration& e = rule.expiration();
  if (e.expired_object_delete_marker()) return true;
  return e.days() > 0 && now >= DueTime(absl::FromUnixMicros(marker.modified_micros), e.days());
}

}  // namespace

absl::Time DueTime(absl::Time t, int days) {
  const int64_t at = absl::ToUnixMicros(t) + int64_t{days} * kMicrosPerDay;
  // Floor division (times before 1970 included), then the next midnight.
  int64_t day = at / kMicrosPerDay;
  if (at % kMicrosPerDay < 0) --day;
  return absl::FromUnixMicros((day + 1) * kMicrosPerDay);
}

bool Enabled(const v1::LifecycleRule& rule) {
  return rule.status() == v1::LIFECYCLE_RULE_STATUS_ENABLED;
}

bool MatchesKey(const v1::LifecycleRule& rule, std::string_view key) {
  const std::string& prefix = rule.filter().prefix();
  return key.substr(0, prefix.size()) == prefix;
}

bool MatchesTags(const v1::LifecycleRule& rule, const std::map<std::string, std::string>& tags) {
  for (const auto& [name, value] : rule.filter().tags()) {
    auto it = tags.find(name);
    if (it == tags.end() || it->second != value) return false;
  }
  return true;
}

std::string CommonPrefix(const Rules& rules) {
  bool first = true;
  std::string common;
  for (const v1::LifecycleRule& rule : rules) {
    if (!Enabled(rule)) continue;
    const std::string& p = rule.filter().prefix();
    if (first) {
      common = p;
      first = false;
      continue;
    }
    size_t n = 0;
    while (n < common.size() && n < p.size() && common[n] == p[n]) ++n;
    common.resize(n);
  }
  return common;
}

std::string ActionName(Action action) {
  switch (action) {
    case Action::kExpire:
      return "expired";
    case Action::kNoncurrent:
      return "noncurrent";
    case Action::kDeleteMarker:
      return "delete_marker";
    case Action::kAbortUpload:
      return "upload_aborted";
  }
  return "unknown";
}

VersionFacts FactsOf(const storage::VersionRecord& v) {
  VersionFacts f;
  f.seq = v.seq();
  f.version_id = v.version_id();
  f.delete_marker = v.delete_marker();
  f.modified_micros = v.modified_micros();
  f.tags.insert(v.tags().begin(), v.tags().end());
  return f;
}

std::vector<KeyStep> PlanKey(const Rules& rules, std::string_view key,
                             const std::vector<VersionFacts>& versions, absl::Time now) {
  std::vector<KeyStep> steps;
  if (versions.empty()) return steps;
  const size_t n = versions.size();
  std::vector<bool> removed(n, false);
  // Noncurrent versions, oldest first. Version i is the i-th newest
  // noncurrent one (i - 1 noncurrent versions are newer).
  for (size_t i = n - 1; i >= 1; --i) {
    const VersionFacts& v = versions[i];
    const absl::Time noncurrent_since = absl::FromUnixMicros(versions[i - 1].modified_micros);
    for (const v1::LifecycleRule& rule : rules) {
      if (!Enabled(rule) || !rule.has_noncurrent_version_expiration()) continue;
      const v1::NoncurrentVersionExpiration& nve = rule.noncurrent_version_expiration();
      if (nve.noncurrent_days() <= 0 || !MatchesKey(rule, key) || !MatchesTags(rule, v.tags)) continue;
      if (static_cast<int64_t>(i) <= nve.newer_noncurrent_versions()) continue;
      if (now < DueTime(noncurrent_since, nve.noncurrent_days())) continue;
      steps.push_back(KeyStep{Action::kNoncurrent, v.seq, v.version_id});
      removed[i] = true;
      break;
    }
  }
  const VersionFacts& latest = versions[0];
  if (latest.delete_marker) {
    const bool alone = std::find(removed.begin() + 1, removed.end(), false) == removed.end();
    if (!alone) return steps;
    for (const v1::LifecycleRule& rule : rules) {
      // A delete marker carries no tags: a rule filtering on tags never
      // matches one.
      if (!Enabled(rule) || !MatchesKey(rule, key) || !rule.filter().tags().empty()) continue;
      if (!MarkerDue(rule, latest, now)) continue;
      steps.push_back(KeyStep{Action::kDeleteMarker, latest.seq, latest.version_id});
      break;
    }
    return steps;
  }
  for (const v1::LifecycleRule& rule : rules) {
    if (!Enabled(rule) || !MatchesKey(rule, key) || !MatchesTags(rule, latest.tags)) continue;
    if (!CurrentDue(rule, latest, now)) continue;
    steps.push_back(KeyStep{Action::kExpire, latest.seq, latest.version_id});
    break;
  }
  return steps;
}

bool UploadDue(const Rules& rules, const storage::UploadRecord& upload, absl::Time now) {
  for (const v1::LifecycleRule& rule : rules) {
    if (!Enabled(rule) || !rule.has_abort_incomplete_multipart_upload()) continue;
    const int days = rule.abort_incomplete_multipart_upload().days_after_initiation();
    if (days <= 0 || !MatchesKey(rule, upload.key())) continue;
    if (now >= DueTime(absl::FromUnixMicros(upload.initiated_micros()), days)) return true;
  }
  return false;
}

}  // namespace thingtank::objects::lifecycle
