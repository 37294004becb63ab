#include "services/objects/lifecycle/lifecycle.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/notification.h"
#include "absl/time/civil_time.h"
#include "prometheus/registry.h"
#include "services/common/executor.h"
#include "services/common/status.h"
#include "services/common/testing/status_matchers.h"
#include "services/common/testing/temp_db.h"
#include "services/objects/catalog.h"
#include "services/objects/events.h"
#include "services/objects/object_service.h"

namespace thingtank::objects {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

// The manual clock starts at 2023-11-14 22:13:20 UTC.
absl::Time At(int y, int mo, int d, int h = 0, int mi = 0, int s = 0) {
  return absl::FromCivil(absl::CivilSecond(y, mo, d, h, mi, s), absl::UTCTimeZone());
}

struct RecordedEvent {
  std::string event;
  std::string key;
  std::string version_id;
  bool operator==(const RecordedEvent& o) const {
    return event == o.event && key == o.key && version_id == o.version_id;
  }
};

std::ostream& operator<<(std::ostream& os, const RecordedEvent& e) {
  return os << e.event << " " << e.key << " " << e.version_id;
}

// Records the lifecycle events staged (others are ignored).
class RecordingEvents final : public EventSink {
 public:
  void Stage(Txn&, const storage::BucketRecord&, std::string_view event,
             const storage::VersionRecord& v) override {
    if (event.substr(0, 20) != "LifecycleExpiration:") return;
    staged.push_back({std::string(event), v.key(), v.version_id()});
  }
  void Committed() override { ++committed; }
  std::vector<RecordedEvent> staged;
  int committed = 0;
};

v1::LifecycleRule Enabled(const std::string& prefix = "") {
  v1::LifecycleRule r;
  r.set_status(v1::LIFECYCLE_RULE_STATUS_ENABLED);
  r.mutable_filter()->set_prefix(prefix);
  return r;
}

v1::LifecycleRule ExpireAfterDays(int days, const std::string& prefix = "") {
  v1::LifecycleRule r = Enabled(prefix);
  r.mutable_expiration()->set_days(days);
  return r;
}

v1::LifecycleRule ExpireOnDate(absl::Time date) {
  v1::LifecycleRule r = Enabled();
  r.mutable_expiration()->mutable_date()->set_seconds(absl::ToUnixSeconds(date));
  return r;
}

v1::LifecycleRule WithTags(v1::LifecycleRule r, const std::map<std::string, std::string>& tags) {
  for (const auto& [k, v] : tags) (*r.mutable_filter()->mutable_tags())[k] = v;
  return r;
}

v1::LifecycleRule Disabled(v1::LifecycleRule r) {
  r.set_status(v1::LIFECYCLE_RULE_STATUS_DISABLED);
  return r;
}

v1::LifecycleRule Noncurrent(int days, int keep_newer = 0) {
  v1::LifecycleRule r = Enabled();
  r.mutable_noncurrent_version_expiration()->set_noncurrent_days(days);
  r.mutable_noncurrent_version_expiration()->set_newer_noncurrent_versions(keep_newer);
  return r;
}

v1::LifecycleRule ExpiredMarkers() {
  v1::LifecycleRule r = Enabled();
  r.mutable_expiration()->set_expired_object_delete_marker(true);
  return r;
}

v1::LifecycleRule AbortAfterDays(int days, const std::string& prefix) {
  v1::LifecycleRule r = Enabled(prefix);
  r.mutable_abort_incomplete_multipart_upload()->set_days_after_initiation(days);
  return r;
}

// The domain over a temp RocksDB and blob directory on the manual clock, and
// a Lifecycle over it (inline executor: a timed pass runs in Advance).
class LifecycleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = OpenTempDb(dir_, Catalog::ColumnFamilies());
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = *std::move(db);
    ObjectService::Options options;
    options.blob_root = dir_.path() + "/blobs";
    options.min_part_size = 1;
    options.events = &events_;
    auto domain = ObjectService::Open(db_.get(), &clock_, options);
    ASSERT_TRUE(domain.ok()) << domain.status();
    domain_ = *std::move(domain);
    metrics_ = std::make_unique<ObjectsMetrics>(&registry_, 10);
    lifecycle_ = std::make_unique<Lifecycle>(domain_.get(), &clock_, &executor_, metrics_.get());
  }

  void MakeBucket(const std::string& bucket, v1::VersioningStatus versioning) {
    v1::CreateBucketRequest create;
    create.set_bucket(bucket);
    ASSERT_THAT(domain_->buckets->CreateBucket(create), IsOk());
    if (versioning == v1::VERSIONING_STATUS_UNSPECIFIED) return;
    v1::PutBucketVersioningRequest v;
    v.set_bucket(bucket);
    v.set_status(v1::VERSIONING_STATUS_ENABLED);
    ASSERT_THAT(domain_->buckets->PutBucketVersioning(v), IsOk());
    if (versioning == v1::VERSIONING_STATUS_ENABLED) return;
    v.set_status(versioning);
    ASSERT_THAT(domain_->buckets->PutBucketVersioning(v), IsOk());
  }

  void SetRules(const std::string& bucket, const std::vector<v1::LifecycleRule>& rules) {
    v1::PutBucketLifecycleConfigurationRequest r;
    r.set_bucket(bucket);
    for (const v1::LifecycleRule& rule : rules) *r.add_rules() = rule;
    ASSERT_THAT(domain_->buckets->PutBucketLifecycleConfiguration(r), IsOk());
  }

  void Notify(const std::string& bucket) {
    v1::PutBucketNotificationConfigurationRequest r;
    r.set_bucket(bucket);
    auto* c = r.add_configurations();
    c->set_destination_arn("arn:aws:sqs:us-east-1:000000000000:events");
    c->add_events("s3:LifecycleExpiration:*");
    ASSERT_THAT(domain_->buckets->PutBucketNotificationConfiguration(r), IsOk());
  }

  // The new version's id.
  std::string Put(const std::string& bucket, const std::string& key, const std::string& data = "hello",
                  const std::map<std::string, std::string>& tags = {}) {
    v1::PutObjectHeader header;
    header.set_bucket(bucket);
    header.set_key(key);
    for (const auto& [k, v] : tags) (*header.mutable_tags())[k] = v;
    auto put = domain_->objects->StartPut(header);
    EXPECT_THAT(put, IsOk());
    if (!put.ok()) return "";
    EXPECT_THAT((*put)->Append(data), IsOk());
    auto done = (*put)->Finish();
    EXPECT_THAT(done, IsOk());
    return done.ok() ? done->version_id() : "";
  }

  void Delete(const std::string& bucket, const std::string& key, const std::string& version_id = "") {
    v1::DeleteObjectRequest r;
    r.set_bucket(bucket);
    r.set_key(key);
    r.set_version_id(version_id);
    ASSERT_THAT(domain_->objects->DeleteObject(r), IsOk());
  }

  // The current object's size, or -1 when there is none (NoSuchKey).
  int64_t CurrentSize(const std::string& bucket, const std::string& key) {
    v1::HeadObjectRequest r;
    r.set_bucket(bucket);
    r.set_key(key);
    auto head = domain_->objects->HeadObject(r);
    if (!head.ok()) {
      EXPECT_EQ(ErrorReason(head.status()), "NoSuchKey") << head.status();
      return -1;
    }
    return head->info().size();
  }

  v1::ListObjectVersionsResponse Versions(const std::string& bucket) {
    v1::ListObjectVersionsRequest r;
    r.set_bucket(bucket);
    auto list = domain_->lister->ListObjectVersions(r);
    EXPECT_THAT(list, IsOk());
    return list.ok() ? *list : v1::ListObjectVersionsResponse();
  }

  // "key version_id" of each version (not markers), newest first per key.
  std::vector<std::string> VersionIds(const std::string& bucket) {
    std::vector<std::string> out;
    const v1::ListObjectVersionsResponse list = Versions(bucket);
    for (const v1::ObjectInfo& v : list.versions()) out.push_back(v.key() + " " + v.version_id());
    return out;
  }

  std::vector<std::string> MarkerKeys(const std::string& bucket) {
    std::vector<std::string> out;
    const v1::ListObjectVersionsResponse list = Versions(bucket);
    for (const v1::ObjectInfo& v : list.delete_markers()) out.push_back(v.key());
    return out;
  }

  std::string StartUpload(const std::string& bucket, const std::string& key, const std::string& part,
                          std::string* part_etag = nullptr) {
    v1::CreateMultipartUploadRequest r;
    r.set_bucket(bucket);
    r.set_key(key);
    auto created = domain_->multipart->CreateMultipartUpload(r);
    EXPECT_THAT(created, IsOk());
    if (!created.ok()) return "";
    if (!part.empty()) {
      v1::UploadPartHeader h;
      h.set_bucket(bucket);
      h.set_key(key);
      h.set_upload_id(created->upload_id());
      h.set_part_number(1);
      auto session = domain_->multipart->StartPart(h);
      EXPECT_THAT(session, IsOk());
      if (session.ok()) {
        EXPECT_THAT((*session)->Append(part), IsOk());
        auto finished = (*session)->Finish();
        EXPECT_THAT(finished, IsOk());
        if (finished.ok() && part_etag != nullptr) *part_etag = finished->etag();
      }
    }
    return created->upload_id();
  }

  std::vector<std::string> UploadKeys(const std::string& bucket) {
    v1::ListMultipartUploadsRequest r;
    r.set_bucket(bucket);
    auto list = domain_->lister->ListMultipartUploads(r);
    EXPECT_THAT(list, IsOk());
    std::vector<std::string> out;
    if (list.ok()) {
      for (const auto& u : list->uploads()) out.push_back(u.key());
    }
    return out;
  }

  int64_t BlobBytes() {
    auto bytes = domain_->blobs->TotalBytes();
    EXPECT_THAT(bytes, IsOk());
    return bytes.ok() ? *bytes : -1;
  }

  void AdvanceTo(absl::Time t) {
    ASSERT_GE(t, clock_.Now());
    clock_.Advance(t - clock_.Now());
  }

  PassStats Pass() {
    auto stats = lifecycle_->RunOnce();
    EXPECT_THAT(stats, IsOk());
    EXPECT_EQ(stats.ok() ? stats->errors : 0, 0);
    return stats.ok() ? *stats : PassStats();
  }

  double Deleted(const std::string& action) {
    for (const prometheus::MetricFamily& f : registry_.Collect()) {
      if (f.name != "thingtank_objects_lifecycle_deletions_total") continue;
      for (const prometheus::ClientMetric& m : f.metric) {
        for (const prometheus::ClientMetric::Label& l : m.label) {
          if (l.name == "action" && l.value == action) return m.counter.value;
        }
      }
    }
    return -1;
  }

  TempDir dir_;
  ManualClock clock_;
  InlineExecutor executor_;
  RecordingEvents events_;
  prometheus::Registry registry_;
  std::unique_ptr<Db> db_;
  std::unique_ptr<ObjectService> domain_;
  std::unique_ptr<ObjectsMetrics> metrics_;
  std::unique_ptr<Lifecycle> lifecycle_;
};

// ---------------------------------------------------------------- table

// One object put at the clock's start (2023-11-14 22:13:20 UTC), one pass
// at `at`.
struct ExpirationCase {
  std::string name;
  v1::VersioningStatus versioning;
  std::vector<v1::LifecycleRule> rules;
  std::string key;
  std::map<std::string, std::string> tags;
  absl::Time at;
  bool expires;
  int versions_after;  // versions left (delete markers apart)
  int markers_after;
};

void PrintTo(const ExpirationCase& c, std::ostream* os) { *os << c.name; }

class ExpirationTableTest : public LifecycleTest, public ::testing::WithParamInterface<ExpirationCase> {};

TEST_P(ExpirationTableTest, ExpiresExactlyWhenDue) {
  const ExpirationCase& c = GetParam();
  MakeBucket("bkt", c.versioning);
  SetRules("bkt", c.rules);
  Put("bkt", c.key, "content", c.tags);
  AdvanceTo(c.at);
  PassStats stats = Pass();
  EXPECT_EQ(stats.expired, c.expires ? 1 : 0);
  EXPECT_EQ(CurrentSize("bkt", c.key), c.expires ? -1 : 7);
  v1::ListObjectVersionsResponse list = Versions("bkt");
  EXPECT_EQ(list.versions_size(), c.versions_after);
  EXPECT_EQ(list.delete_markers_size(), c.markers_after);
  EXPECT_EQ(Deleted("expired"), c.expires ? 1 : 0);
}

constexpr auto kNone = v1::VERSIONING_STATUS_UNSPECIFIED;
constexpr auto kEnabled = v1::VERSIONING_STATUS_ENABLED;
constexpr auto kSuspended = v1::VERSIONING_STATUS_SUSPENDED;

INSTANTIATE_TEST_SUITE_P(
    Cases, ExpirationTableTest,
    ::testing::Values(
        // Put 2023-11-14 22:13:20 + 1 day = 11-15 22:13:20, rounded up: 11-16 00:00.
        ExpirationCase{"DaysNotAtCreationPlusDays", kNone, {ExpireAfterDays(1)}, "k", {},
                       At(2023, 11, 15, 22, 13, 21), false, 1, 0},
        ExpirationCase{"DaysNotJustBeforeMidnight", kNone, {ExpireAfterDays(1)}, "k", {},
                       At(2023, 11, 15, 23, 59, 59), false, 1, 0},
        ExpirationCase{"DaysAtTheNextMidnight", kNone, {ExpireAfterDays(1)}, "k", {}, At(2023, 11, 16), true,
                       0, 0},
        ExpirationCase{"DaysWellAfter", kNone, {ExpireAfterDays(3)}, "k", {}, At(2024, 1, 1), true, 0, 0},
        ExpirationCase{"DateNotYet", kNone, {ExpireOnDate(At(2023, 11, 20))}, "k", {},
                       At(2023, 11, 19, 23, 59, 59), false, 1, 0},
        ExpirationCase{"DateOn", kNone, {ExpireOnDate(At(2023, 11, 20))}, "k", {}, At(2023, 11, 20), true, 0,
                       0},
        ExpirationCase{"PrefixMatches", kNone, {ExpireAfterDays(1, "logs/")}, "logs/a", {}, At(2023, 12, 1),
                       true, 0, 0},
        ExpirationCase{"PrefixOther", kNone, {ExpireAfterDays(1, "logs/")}, "data/logs/a", {},
                       At(2023, 12, 1), false, 1, 0},
        ExpirationCase{"TagsAllPresent", kNone, {WithTags(ExpireAfterDays(1), {{"tier", "cold"}, {"team", "a"}})},
                       "k", {{"tier", "cold"}, {"team", "a"}, {"x", "y"}}, At(2023, 12, 1), true, 0, 0},
        ExpirationCase{"TagsOneMissing", kNone, {WithTags(ExpireAfterDays(1), {{"tier", "cold"}, {"team", "a"}})},
                       "k", {{"tier", "cold"}}, At(2023, 12, 1), false, 1, 0},
        ExpirationCase{"TagsValueDiffers", kNone, {WithTags(ExpireAfterDays(1), {{"tier", "cold"}})}, "k",
                       {{"tier", "hot"}}, At(2023, 12, 1), false, 1, 0},
        ExpirationCase{"DisabledRuleIgnored", kNone, {Disabled(ExpireAfterDays(1))}, "k", {}, At(2024, 1, 1),
                       false, 1, 0},
        ExpirationCase{"SecondRuleApplies", kNone, {ExpireAfterDays(1, "x/"), ExpireAfterDays(2, "k")}, "k", {},
                       At(2023, 11, 17), true, 0, 0},
        // Versioned: the version stays (noncurrent) behind a new delete marker.
        ExpirationCase{"VersionedAddsDeleteMarker", kEnabled, {ExpireAfterDays(1)}, "k", {}, At(2023, 11, 16),
                       true, 1, 1},
        ExpirationCase{"VersionedNotYet", kEnabled, {ExpireAfterDays(1)}, "k", {}, At(2023, 11, 15, 23), false,
                       1, 0},
        // Suspended: the "null" marker replaces the "null" version.
        ExpirationCase{"SuspendedNullMarkerReplacesNullVersion", kSuspended, {ExpireAfterDays(1)}, "k", {},
                       At(2023, 11, 16), true, 0, 1}),
    [](const ::testing::TestParamInfo<ExpirationCase>& info) { return info.param.name; });

// ---------------------------------------------------------------- objects

TEST_F(LifecycleTest, ExpiredMarkerInAVersionedBucketIsNotExpiredAgain) {
  MakeBucket("bkt", kEnabled);
  SetRules("bkt", {ExpireAfterDays(1)});
  Put("bkt", "k");
  AdvanceTo(At(2023, 11, 16));
  EXPECT_EQ(Pass().expired, 1);
  // The marker is the latest now, with a noncurrent version under it: a
  // second pass leaves both.
  PassStats again = Pass();
  EXPECT_EQ(again.expired + again.delete_markers + again.noncurrent, 0);
  EXPECT_EQ(VersionIds("bkt").size(), 1u);
  EXPECT_THAT(MarkerKeys("bkt"), ElementsAre("k"));
}

TEST_F(LifecycleTest, EventsSayDeleteOrDeleteMarkerCreated) {
  MakeBucket("plain", kNone);
  MakeBucket("versioned", kEnabled);
  for (const char* bucket : {"plain", "versioned"}) {
    Notify(bucket);
    SetRules(bucket, {ExpireAfterDays(1)});
    Put(bucket, "k");
  }
  AdvanceTo(At(2023, 11, 16));
  EXPECT_EQ(Pass().expired, 2);
  auto markers = Versions("versioned").delete_markers();
  ASSERT_EQ(markers.size(), 1);
  EXPECT_THAT(events_.staged,
              ElementsAre(RecordedEvent{"LifecycleExpiration:Delete", "k", ""},
                          RecordedEvent{"LifecycleExpiration:DeleteMarkerCreated", "k", markers[0].version_id()}));
  EXPECT_GE(events_.committed, 2);
}

TEST_F(LifecycleTest, NoncurrentVersionsExpireDaysAfterTheirSuccessorWasCreated) {
  MakeBucket("bkt", kEnabled);
  SetRules("bkt", {Noncurrent(2)});
  const std::string v1 = Put("bkt", "k", std::string(100 * 1024, 'a'));  // a blob file
  AdvanceTo(At(2023, 11, 15, 12));
  const std::string v2 = Put("bkt", "k", "new");
  const int64_t blob_bytes = BlobBytes();
  EXPECT_EQ(blob_bytes, 100 * 1024);
  // Noncurrent since 11-15 12:00; + 2 days, rounded up: 11-18 00:00.
  AdvanceTo(At(2023, 11, 17, 23, 59, 59));
  EXPECT_EQ(Pass().noncurrent, 0);
  EXPECT_THAT(VersionIds("bkt"), ElementsAre("k " + v2, "k " + v1));
  AdvanceTo(At(2023, 11, 18));
  EXPECT_EQ(Pass().noncurrent, 1);
  EXPECT_THAT(VersionIds("bkt"), ElementsAre("k " + v2));
  EXPECT_EQ(CurrentSize("bkt", "k"), 3);
  EXPECT_EQ(BlobBytes(), 0);
  EXPECT_EQ(Deleted("noncurrent"), 1);
}

TEST_F(LifecycleTest, NewerNoncurrentVersionsAreKeptWhateverTheirAge) {
  MakeBucket("bkt", kEnabled);
  SetRules("bkt", {Noncurrent(1, /*keep_newer=*/2)});
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    ids.push_back(Put("bkt", "k", "v" + std::to_string(i)));
    clock_.Advance(absl::Hours(24));
  }
  AdvanceTo(At(2024, 6, 1));
  PassStats stats = Pass();
  EXPECT_EQ(stats.noncurrent, 2);
  // Current ids[4], the two newest noncurrent ids[3] and ids[2] stay.
  EXPECT_THAT(VersionIds("bkt"), ElementsAre("k " + ids[4], "k " + ids[3], "k " + ids[2]));
  EXPECT_EQ(Pass().noncurrent, 0);
}

TEST_F(LifecycleTest, ExpiredDeleteMarkerGoesOnlyWhenItIsTheOnlyVersion) {
  MakeBucket("bkt", kEnabled);
  SetRules("bkt", {ExpiredMarkers()});
  const std::string a1 = Put("bkt", "a");
  Delete("bkt", "a");  // a marker over a1
  Delete("bkt", "b");  // a marker alone
  PassStats stats = Pass();
  EXPECT_EQ(stats.delete_markers, 1);
  EXPECT_THAT(MarkerKeys("bkt"), ElementsAre("a"));
  // Once a1 is gone, a's marker is alone too.
  Delete("bkt", "a", a1);
  EXPECT_EQ(Pass().delete_markers, 1);
  EXPECT_THAT(MarkerKeys("bkt"), IsEmpty());
  EXPECT_THAT(VersionIds("bkt"), IsEmpty());
  EXPECT_EQ(Deleted("delete_marker"), 2);
}

TEST_F(LifecycleTest, NoncurrentThenItsLoneMarkerInOnePass) {
  MakeBucket("bkt", kEnabled);
  SetRules("bkt", {Noncurrent(1), ExpiredMarkers()});
  Put("bkt", "k", std::string(70 * 1024, 'x'));
  Delete("bkt", "k");
  AdvanceTo(At(2023, 11, 16));
  PassStats stats = Pass();
  EXPECT_EQ(stats.noncurrent, 1);
  EXPECT_EQ(stats.delete_markers, 1);
  EXPECT_THAT(VersionIds("bkt"), IsEmpty());
  EXPECT_THAT(MarkerKeys("bkt"), IsEmpty());
  EXPECT_EQ(BlobBytes(), 0);
}

TEST_F(LifecycleTest, ManyKeysAcrossScanPages) {
  MakeBucket("bkt", kEnabled);
  SetRules("bkt", {ExpireAfterDays(1, "p/"), Noncurrent(1)});
  // More entries than one page holds (1,000), keys with two versions each.
  for (int i = 0; i < 700; ++i) {
    const std::string key = "p/" + std::to_string(i);
    Put("bkt", key, "1");
    Put("bkt", key, "2");
  }
  Put("bkt", "q", "not in the prefix");
  AdvanceTo(At(2023, 11, 20));
  PassStats stats = Pass();
  EXPECT_EQ(stats.expired, 700);
  EXPECT_EQ(stats.noncurrent, 700);
  // Each key keeps the version its marker made noncurrent (this pass);
  // counted by the catalog (a listing stops at 1,000 entries).
  const BucketCounts counts = domain_->catalog->Counts()["bkt"];
  EXPECT_EQ(counts.delete_markers, 700);
  EXPECT_EQ(counts.objects, 701);
  EXPECT_EQ(CurrentSize("bkt", "q"), 17);
}

TEST_F(LifecycleTest, BlobFilesAreFreedWhenTheOnlyObjectsExpire) {
  MakeBucket("bkt", kNone);
  SetRules("bkt", {ExpireAfterDays(1)});
  Put("bkt", "big1", std::string(200 * 1024, 'a'));
  Put("bkt", "big2", std::string(100 * 1024, 'b'));
  Put("bkt", "small", "inline");
  EXPECT_EQ(BlobBytes(), 300 * 1024);
  AdvanceTo(At(2023, 11, 16));
  EXPECT_EQ(Pass().expired, 3);
  EXPECT_EQ(BlobBytes(), 0);
  EXPECT_EQ(domain_->catalog->Counts()["bkt"].objects, 0);
  EXPECT_EQ(domain_->catalog->Counts()["bkt"].bytes, 0);
}

// ---------------------------------------------------------------- races

TEST_F(LifecycleTest, APutRacingThePassIsNotDeleted) {
  MakeBucket("bkt", kNone);
  SetRules("bkt", {ExpireAfterDays(1)});
  Put("bkt", "k", "old");
  Put("bkt", "other", "old");
  AdvanceTo(At(2023, 11, 16));
  int hooks = 0;
  // After the scan saw the old "k", before its deletion's transaction.
  lifecycle_->SetStepHookForTest([&](std::string_view, std::string_view key) {
    ++hooks;
    if (key == "k") Put("bkt", "k", "overwritten");
  });
  PassStats stats = Pass();
  EXPECT_EQ(hooks, 2);
  EXPECT_EQ(stats.skipped, 1);
  EXPECT_EQ(stats.expired, 1);
  EXPECT_EQ(CurrentSize("bkt", "k"), 11);
  EXPECT_EQ(CurrentSize("bkt", "other"), -1);
}

TEST_F(LifecycleTest, APutRacingThePassInAVersionedBucketGetsNoMarker) {
  MakeBucket("bkt", kEnabled);
  SetRules("bkt", {ExpireAfterDays(1)});
  const std::string old_id = Put("bkt", "k", "old");
  AdvanceTo(At(2023, 11, 16));
  std::string new_id;
  lifecycle_->SetStepHookForTest([&](std::string_view, std::string_view) { new_id = Put("bkt", "k", "new"); });
  PassStats stats = Pass();
  EXPECT_EQ(stats.skipped, 1);
  EXPECT_EQ(stats.expired, 0);
  EXPECT_THAT(MarkerKeys("bkt"), IsEmpty());
  EXPECT_THAT(VersionIds("bkt"), ElementsAre("k " + new_id, "k " + old_id));
}

TEST_F(LifecycleTest, ARuleRemovedDuringThePassStopsItsDeletions) {
  MakeBucket("bkt", kNone);
  SetRules("bkt", {ExpireAfterDays(1)});
  Put("bkt", "k");
  AdvanceTo(At(2023, 11, 16));
  lifecycle_->SetStepHookForTest([&](std::string_view, std::string_view) {
    v1::DeleteBucketLifecycleRequest r;
    r.set_bucket("bkt");
    ASSERT_THAT(domain_->buckets->DeleteBucketLifecycle(r), IsOk());
  });
  EXPECT_EQ(Pass().skipped, 1);
  EXPECT_EQ(CurrentSize("bkt", "k"), 5);
}

TEST_F(LifecycleTest, AMarkerGettingAVersionBackIsNotRemoved) {
  MakeBucket("bkt", kEnabled);
  SetRules("bkt", {ExpiredMarkers()});
  Delete("bkt", "k");
  lifecycle_->SetStepHookForTest([&](std::string_view, std::string_view) { Put("bkt", "k", "back"); });
  EXPECT_EQ(Pass().skipped, 1);
  EXPECT_EQ(CurrentSize("bkt", "k"), 4);
  EXPECT_THAT(MarkerKeys("bkt"), ElementsAre("k"));
}

// ---------------------------------------------------------------- uploads

TEST_F(LifecycleTest, IncompleteUploadsAreAbortedDaysAfterInitiation) {
  MakeBucket("bkt", kNone);
  SetRules("bkt", {AbortAfterDays(2, "tmp/")});
  StartUpload("bkt", "tmp/a", std::string(10 * 1024, 'p'));
  StartUpload("bkt", "tmp/b", "");  // no part yet
  StartUpload("bkt", "keep/c", "");
  EXPECT_EQ(BlobBytes(), 10 * 1024);
  // Initiated 11-14 22:13:20 + 2 days, rounded up: 11-17 00:00.
  AdvanceTo(At(2023, 11, 16, 23, 59, 59));
  EXPECT_EQ(Pass().uploads_aborted, 0);
  EXPECT_EQ(UploadKeys("bkt").size(), 3u);
  AdvanceTo(At(2023, 11, 17));
  EXPECT_EQ(Pass().uploads_aborted, 2);
  EXPECT_THAT(UploadKeys("bkt"), ElementsAre("keep/c"));
  EXPECT_EQ(BlobBytes(), 0);
  EXPECT_EQ(domain_->catalog->uploads_in_progress(), 1);
  EXPECT_EQ(Deleted("upload_aborted"), 2);
}

TEST_F(LifecycleTest, AnUploadCompletedDuringThePassIsSkipped) {
  MakeBucket("bkt", kNone);
  SetRules("bkt", {AbortAfterDays(1, "")});
  std::string etag;
  const std::string id = StartUpload("bkt", "k", "part one", &etag);
  AdvanceTo(At(2023, 11, 16));
  lifecycle_->SetStepHookForTest([&](std::string_view, std::string_view key) {
    v1::CompleteMultipartUploadRequest r;
    r.set_bucket("bkt");
    r.set_key(std::string(key));
    r.set_upload_id(id);
    auto* part = r.add_parts();
    part->set_part_number(1);
    part->set_etag(etag);
    ASSERT_THAT(domain_->multipart->CompleteMultipartUpload(r), IsOk());
  });
  PassStats stats = Pass();
  EXPECT_EQ(stats.uploads_aborted, 0);
  EXPECT_EQ(stats.skipped, 1);
  EXPECT_EQ(CurrentSize("bkt", "k"), 8);
}

// ---------------------------------------------------------------- schedule

TEST_F(LifecycleTest, StartRunsAPassAtOnceThenEveryInterval) {
  MakeBucket("bkt", kNone);
  SetRules("bkt", {ExpireAfterDays(1)});
  Put("bkt", "early");
  // Down for days: the first pass catches up.
  AdvanceTo(At(2023, 11, 20));
  Put("bkt", "late");
  lifecycle_->Start();
  clock_.RunDue();
  EXPECT_EQ(CurrentSize("bkt", "early"), -1);
  EXPECT_EQ(CurrentSize("bkt", "late"), 5);
  // 2023-11-20 00:00 + 1 day, rounded up: 11-22 00:00, reached by an hourly pass.
  clock_.Advance(absl::Hours(47));
  EXPECT_EQ(CurrentSize("bkt", "late"), 5);
  clock_.Advance(absl::Hours(1));
  EXPECT_EQ(CurrentSize("bkt", "late"), -1);
  EXPECT_EQ(Deleted("expired"), 2);

  lifecycle_->Stop();
  EXPECT_EQ(clock_.pending_timers(), 0u);
  Put("bkt", "after-stop");
  clock_.Advance(absl::Hours(24 * 5));
  EXPECT_EQ(CurrentSize("bkt", "after-stop"), 5);
  lifecycle_->Stop();  // idempotent
}

TEST_F(LifecycleTest, StopWaitsForAPassInProgress) {
  MakeBucket("bkt", kNone);
  SetRules("bkt", {ExpireAfterDays(1)});
  Put("bkt", "k");
  AdvanceTo(At(2023, 11, 16));
  ThreadPool pool("lifecycle-test", 1, 4);
  Lifecycle lifecycle(domain_.get(), &clock_, &pool, nullptr);
  absl::Notification in_pass, release;
  lifecycle.SetStepHookForTest([&](std::string_view, std::string_view) {
    in_pass.Notify();
    release.WaitForNotification();
  });
  lifecycle.Start();
  clock_.RunDue();  // posts the pass to the pool
  in_pass.WaitForNotification();
  bool gone_when_stopped = false;
  std::thread stopper([&] {
    lifecycle.Stop();
    gone_when_stopped = CurrentSize("bkt", "k") == -1;
  });
  release.Notify();
  stopper.join();
  EXPECT_TRUE(gone_when_stopped);
}

}  // namespace
}  // namespace thingtank::objects
