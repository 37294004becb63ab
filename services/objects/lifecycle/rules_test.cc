#include "services/objects/lifecycle/rules.h"

#include <gtest/gtest.h>

#include <vector>

#include "absl/time/civil_time.h"

namespace thingtank::objects::lifecycle {
namespace {

absl::Time At(int y, int mo, int d, int h = 0, int mi = 0, int s = 0) {
  return absl::FromCivil(absl::CivilSecond(y, mo, d, h, mi, s), absl::UTCTimeZone());
}

int64_t Micros(absl::Time t) { return absl::ToUnixMicros(t); }

TEST(DueTimeTest, AddsDaysThenRoundsUpToTheNextMidnightUtc) {
  // The example of S3's documentation.
  EXPECT_EQ(DueTime(At(2014, 1, 15, 10, 30), 3), At(2014, 1, 19));
  EXPECT_EQ(DueTime(At(2014, 1, 15, 23, 59, 59), 1), At(2014, 1, 17));
  EXPECT_EQ(DueTime(At(2014, 1, 15, 0, 0, 1), 1), At(2014, 1, 17));
  // Exactly at midnight: the next one ("rounded to the next day midnight").
  EXPECT_EQ(DueTime(At(2014, 1, 15), 1), At(2014, 1, 17));
  EXPECT_EQ(DueTime(At(2014, 12, 31, 12), 1), At(2015, 1, 2));
  EXPECT_EQ(DueTime(At(1969, 12, 31, 12), 1), At(1970, 1, 2));
}

v1::LifecycleRule Rule(const std::string& prefix) {
  v1::LifecycleRule r;
  r.set_status(v1::LIFECYCLE_RULE_STATUS_ENABLED);
  r.mutable_filter()->set_prefix(prefix);
  return r;
}

TEST(RulesTest, CommonPrefixOfEnabledRules) {
  Rules rules;
  *rules.Add() = Rule("logs/2024/");
  *rules.Add() = Rule("logs/2023/");
  EXPECT_EQ(CommonPrefix(rules), "logs/202");
  v1::LifecycleRule disabled = Rule("other/");
  disabled.set_status(v1::LIFECYCLE_RULE_STATUS_DISABLED);
  *rules.Add() = disabled;
  EXPECT_EQ(CommonPrefix(rules), "logs/202");
  *rules.Add() = Rule("");
  EXPECT_EQ(CommonPrefix(rules), "");
}

TEST(RulesTest, TagsMustAllBePresentWithTheirValues) {
  v1::LifecycleRule r = Rule("");
  (*r.mutable_filter()->mutable_tags())["a"] = "1";
  (*r.mutable_filter()->mutable_tags())["b"] = "2";
  EXPECT_TRUE(MatchesTags(r, {{"a", "1"}, {"b", "2"}, {"c", "3"}}));
  EXPECT_FALSE(MatchesTags(r, {{"a", "1"}}));
  EXPECT_FALSE(MatchesTags(r, {{"a", "1"}, {"b", "x"}}));
  EXPECT_TRUE(MatchesTags(Rule(""), {}));
}

VersionFacts V(uint64_t seq, absl::Time modified, bool marker = false) {
  VersionFacts f;
  f.seq = seq;
  f.version_id = "v" + std::to_string(seq);
  f.delete_marker = marker;
  f.modified_micros = Micros(modified);
  return f;
}

TEST(PlanKeyTest, NoncurrentOldestFirstKeepingTheNewestN) {
  Rules rules;
  v1::LifecycleRule r = Rule("");
  r.mutable_noncurrent_version_expiration()->set_noncurrent_days(1);
  r.mutable_noncurrent_version_expiration()->set_newer_noncurrent_versions(1);
  *rules.Add() = r;
  // Newest first: v4 current, v3 noncurrent since day 4, v2 since 3, v1 since 2.
  std::vector<VersionFacts> versions = {V(4, At(2024, 1, 4, 12)), V(3, At(2024, 1, 3, 12)),
                                        V(2, At(2024, 1, 2, 12)), V(1, At(2024, 1, 1, 12))};
  // v1 is due at Jan 4 (noncurrent since Jan 2 12:00), v2 at Jan 5; v3 is kept.
  EXPECT_TRUE(PlanKey(rules, "k", versions, At(2024, 1, 3, 23)).empty());
  std::vector<KeyStep> plan = PlanKey(rules, "k", versions, At(2024, 1, 4));
  ASSERT_EQ(plan.size(), 1u);
  EXPECT_EQ(plan[0], (KeyStep{Action::kNoncurrent, 1, "v1"}));
  plan = PlanKey(rules, "k", versions, At(2030, 1, 1));
  ASSERT_EQ(plan.size(), 2u);
  EXPECT_EQ(plan[0].seq, 1u);
  EXPECT_EQ(plan[1].seq, 2u);
}

TEST(PlanKeyTest, LoneDeleteMarkerAfterItsNoncurrentVersionsGo) {
  Rules rules;
  v1::LifecycleRule r = Rule("");
  r.mutable_expiration()->set_expired_object_delete_marker(true);
  r.mutable_noncurrent_version_expiration()->set_noncurrent_days(1);
  *rules.Add() = r;
  std::vector<VersionFacts> versions = {V(2, At(2024, 1, 2, 12), /*marker=*/true), V(1, At(2024, 1, 1))};
  // The version is still there: the marker stays.
  EXPECT_TRUE(PlanKey(rules, "k", versions, At(2024, 1, 3, 12)).empty());
  std::vector<KeyStep> plan = PlanKey(rules, "k", versions, At(2024, 1, 4));
  ASSERT_EQ(plan.size(), 2u);
  EXPECT_EQ(plan[0], (KeyStep{Action::kNoncurrent, 1, "v1"}));
  EXPECT_EQ(plan[1], (KeyStep{Action::kDeleteMarker, 2, "v2"}));
}

TEST(PlanKeyTest, DaysAlsoRemoveALoneMarkerOnceItIsThatOld) {
  Rules rules;
  v1::LifecycleRule r = Rule("");
  r.mutable_expiration()->set_days(2);
  *rules.Add() = r;
  std::vector<VersionFacts> versions = {V(1, At(2024, 1, 1, 12), /*marker=*/true)};
  EXPECT_TRUE(PlanKey(rules, "k", versions, At(2024, 1, 3, 23)).empty());
  EXPECT_EQ(PlanKey(rules, "k", versions, At(2024, 1, 4)).size(), 1u);
}

TEST(PlanKeyTest, TagRulesNeverMatchDeleteMarkers) {
  Rules rules;
  v1::LifecycleRule r = Rule("");
  r.mutable_expiration()->set_days(1);
  (*r.mutable_filter()->mutable_tags())["a"] = "1";
  *rules.Add() = r;
  std::vector<VersionFacts> versions = {V(1, At(2024, 1, 1), /*marker=*/true)};
  EXPECT_TRUE(PlanKey(rules, "k", versions, At(2030, 1, 1)).empty());
}

TEST(UploadDueTest, DaysAfterInitiationRoundedUp) {
  Rules rules;
  v1::LifecycleRule r = Rule("tmp/");
  r.mutable_abort_incomplete_multipart_upload()->set_days_after_initiation(2);
  *rules.Add() = r;
  storage::UploadRecord u;
  u.set_key("tmp/a");
  u.set_initiated_micros(Micros(At(2024, 1, 1, 8)));
  EXPECT_FALSE(UploadDue(rules, u, At(2024, 1, 3, 23, 59, 59)));
  EXPECT_TRUE(UploadDue(rules, u, At(2024, 1, 4)));
  u.set_key("other/a");
  EXPECT_FALSE(UploadDue(rules, u, At(2030, 1, 1)));
}

}  // namespace
}  // namespace thingtank::objects::lifecycle
