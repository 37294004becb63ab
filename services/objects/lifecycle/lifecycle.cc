#include "services/objects/lifecycle/lifecycle.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "services/common/log.h"
#include "services/common/status.h"
#include "services/objects/storage/object_keys.h"
#include "services/objects/versioning.h"

namespace thingtank::objects {
namespace {

using lifecycle::Action;
using lifecycle::KeyStep;
using lifecycle::VersionFacts;

// Entries read per scan page (a page always ends at a key boundary, so a key
// with more versions than this makes a longer page).
constexpr size_t kPageEntries = 1000;

constexpr char kEventDelete[] = "LifecycleExpiration:Delete";
constexpr char kEventMarkerCreated[] = "LifecycleExpiration:DeleteMarkerCreated";

template <typename Record>
absl::StatusOr<Record> Parse(const rocksdb::Slice& bytes, std::string_view what) {
  Record r;
  if (!r.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return absl::DataLossError(std::string("corrupt ") + std::string(what) + " record");
  }
  return r;
}

bool WantsObjects(const lifecycle::Rules& rules) {
  return std::any_of(rules.begin(), rules.end(), [](const v1::LifecycleRule& r) {
    const v1::LifecycleExpiration& e = r.expiration();
    return lifecycle::Enabled(r) && (e.days() > 0 || e.has_date() || e.expired_object_delete_marker() ||
                                     r.has_noncurrent_version_expiration());
  });
}

bool WantsUploads(const lifecycle::Rules& rules) {
  return std::any_of(rules.begin(), rules.end(), [](const v1::LifecycleRule& r) {
    return lifecycle::Enabled(r) && r.has_abort_incomplete_multipart_upload();
  });
}

bool AnyRuleMatches(const lifecycle::Rules& rules, std::string_view key) {
  return std::any_of(rules.begin(), rules.end(), [key](const v1::LifecycleRule& r) {
    return lifecycle::Enabled(r) && lifecycle::MatchesKey(r, key);
  });
}

// The key's versions as they are now (inside a transaction: as of the lock).
absl::StatusOr<std::vector<storage::VersionRecord>> VersionsOf(Txn& txn, const std::string& bucket,
                                                               const std::string& key) {
  std::vector<storage::VersionRecord> out;
  auto it = txn.db()->Scan(txn.cf(keys::kVersions), keys::VersionsOfKey(bucket, key));
  for (it->SeekSuffix(""); it->Valid(); it->Next()) {
    TT_ASSIGN_OR_RETURN(storage::VersionRecord v, Parse<storage::VersionRecord>(it->value(), "version"));
    out.push_back(std::move(v));
  }
  TT_RETURN_IF_ERROR(it->status());
  return out;
}

}  // namespace

Lifecycle::Lifecycle(ObjectService* domain, Clock* clock, Executor* executor, ObjectsMetrics* metrics,
                     absl::Duration interval)
    : domain_(domain), clock_(clock), executor_(executor), metrics_(metrics), interval_(interval) {}

Lifecycle::~Lifecycle() { Stop(); }

void Lifecycle::Start() {
  absl::MutexLock lock(&mu_);
  if (life_ != nullptr) return;
  life_ = Lifeline<Lifecycle>::Create(this, executor_, clock_);
  Schedule(absl::ZeroDuration());
}

void Lifecycle::Stop() {
  std::shared_ptr<Lifeline<Lifecycle>> life;
  {
    absl::MutexLock lock(&mu_);
    life = std::move(life_);
    life_ = nullptr;
    if (timer_ != 0) clock_->Cancel(timer_);
    timer_ = 0;
  }
  // Waits for a pass in progress; a timer or post still in flight finds the
  // lifeline detached and does nothing.
  if (life != nullptr) life->Detach();
}

void Lifecycle::Schedule(absl::Duration delay) {
  std::shared_ptr<Lifeline<Lifecycle>> life = life_;
  timer_ = clock_->RunAfter(delay, [life] {
    Lifeline<Lifecycle>::Post(life, [](Lifecycle* self) { self->TimedPass(); });
  });
}

void Lifecycle::TimedPass() {
  absl::StatusOr<PassStats> stats = RunOnce();
  if (!stats.ok()) {
    TT_LOG_WARN("objects lifecycle: pass failed: {} (next pass in {})", stats.status().ToString(),
                absl::FormatDuration(interval_));
  } else if (stats->expired + stats->noncurrent + stats->delete_markers + stats->uploads_aborted > 0 ||
             stats->errors > 0) {
    TT_LOG_INFO(
        "objects lifecycle: {} buckets: {} expired, {} noncurrent, {} delete markers, {} uploads aborted, "
        "{} skipped (changed), {} errors",
        stats->buckets, stats->expired, stats->noncurrent, stats->delete_markers, stats->uploads_aborted,
        stats->skipped, stats->errors);
  }
  absl::MutexLock lock(&mu_);
  if (life_ != nullptr) Schedule(interval_);
}

absl::StatusOr<PassStats> Lifecycle::RunOnce() {
  absl::MutexLock pass_lock(&pass_mu_);
  PassStats stats;
  const absl::Time now = clock_->Now();
  TT_ASSIGN_OR_RETURN(std::vector<storage::BucketRecord> buckets, domain_->catalog->ListBuckets());
  for (const storage::BucketRecord& bucket : buckets) {
    if (!WantsObjects(bucket.lifecycle_rules()) && !WantsUploads(bucket.lifecycle_rules())) continue;
    ++stats.buckets;
    if (absl::Status s = PassBucket(bucket, now, &stats); !s.ok()) {
      ++stats.errors;
      TT_LOG_WARN("objects lifecycle: bucket {}: {}", bucket.name(), s.ToString());
    }
  }
  return stats;
}

absl::Status Lifecycle::PassBucket(const storage::BucketRecord& bucket, absl::Time now, PassStats* stats) {
  if (WantsObjects(bucket.lifecycle_rules())) TT_RETURN_IF_ERROR(ScanVersions(bucket, now, stats));
  if (WantsUploads(bucket.lifecycle_rules())) TT_RETURN_IF_ERROR(ScanUploads(bucket, now, stats));
  return absl::OkStatus();
}

absl::Status Lifecycle::ScanVersions(const storage::BucketRecord& bucket, absl::Time now, PassStats* stats) {
  const lifecycle::Rules& rules = bucket.lifecycle_rules();
  Db* db = domain_->catalog->db();
  const std::string prefix = keys::VersionsWithPrefix(bucket.name(), lifecycle::CommonPrefix(rules));
  std::string resume;  // suffix (after `prefix`) where the next page starts
  for (;;) {
    std::vector<KeyVersions> page;
    size_t entries = 0;
    bool more = false;
    {
      // The iterator lives for one page only: deletions run with no scan
      // open, and each page sees the store as it is when it starts.
      auto it = db->Scan(db->cf(keys::kVersions), prefix);
      for (it->SeekSuffix(resume); it->Valid(); it->Next()) {
        TT_ASSIGN_OR_RETURN(storage::VersionRecord v, Parse<storage::VersionRecord>(it->value(), "version"));
        if (page.empty() || page.back().key != v.key()) {
          if (entries >= kPageEntries) {
            // Start the next page at this key's first version, so that it
            // sees the key whole (newest first).
            more = true;
            resume = keys::VersionsOfKey(bucket.name(), v.key()).substr(prefix.size());
            break;
          }
          page.push_back(KeyVersions{v.key(), {}});
        }
        page.back().versions.push_back(lifecycle::FactsOf(v));
        ++entries;
      }
      TT_RETURN_IF_ERROR(it->status());
    }
    for (const KeyVersions& kv : page) {
      if (!AnyRuleMatches(rules, kv.key)) continue;
      for (const KeyStep& step : lifecycle::PlanKey(rules, kv.key, kv.versions, now)) {
        if (step_hook_) step_hook_(bucket.name(), kv.key);
        absl::StatusOr<bool> done = RunKeyStep(bucket.name(), kv.key, step);
        if (!done.ok()) {
          ++stats->errors;
          TT_LOG_WARN("objects lifecycle: bucket {}: {} of a version failed: {}", bucket.name(),
                      lifecycle::ActionName(step.action), done.status().ToString());
          break;  // the key's later steps depend on this one; the next pass retries
        }
        if (!*done) {
          ++stats->skipped;
          continue;
        }
        Count(step.action, stats);
      }
    }
    if (!more) return absl::OkStatus();
  }
}

absl::StatusOr<bool> Lifecycle::RunKeyStep(const std::string& bucket_name, const std::string& key,
                                           const KeyStep& step) {
  bool done = false;
  absl::Status s = domain_->catalog->Run([&](Txn& txn) -> absl::Status {
    absl::StatusOr<storage::BucketRecord> bucket = txn.Bucket(bucket_name);
    if (!bucket.ok()) {
      if (ErrorReason(bucket.status()) == "NoSuchBucket") return absl::OkStatus();  // gone meanwhile
      return bucket.status();
    }
    // The race guard: re-plan the key as it is now, under the commit lock,
    // with the bucket's current rules; a step no longer in the plan (the key
    // was written, the version removed, the rule changed) is not run.
    TT_ASSIGN_OR_RETURN(std::vector<storage::VersionRecord> versions, VersionsOf(txn, bucket_name, key));
    std::vector<VersionFacts> facts;
    facts.reserve(versions.size());
    for (const storage::VersionRecord& v : versions) facts.push_back(lifecycle::FactsOf(v));
    const std::vector<KeyStep> plan = lifecycle::PlanKey(bucket->lifecycle_rules(), key, facts, txn.now());
    if (std::find(plan.begin(), plan.end(), step) == plan.end()) return absl::OkStatus();

    // kExpire deletes without a version id (S3's versioning table: removal
    // when unversioned, a delete marker otherwise); the others remove the
    // one version for good.
    const std::string version_id = step.action == Action::kExpire ? std::string() : step.version_id;
    TT_ASSIGN_OR_RETURN(DeleteOutcome outcome, StageDelete(txn, *bucket, key, version_id));
    if (!outcome.removed_anything) return absl::OkStatus();
    const bool marker_made = step.action == Action::kExpire && outcome.delete_marker;
    storage::VersionRecord subject;
    if (!marker_made && outcome.removed) {
      subject = *outcome.removed;
      subject.clear_inline_data();
    }
    subject.set_key(key);
    subject.set_version_id(step.action == Action::kExpire && !marker_made ? std::string() : outcome.version_id);
    domain_->objects->StageEvent(txn, *bucket, marker_made ? kEventMarkerCreated : kEventDelete, subject);
    done = true;
    return absl::OkStatus();
  });
  TT_RETURN_IF_ERROR(s);
  if (done) domain_->objects->EventsCommitted();
  return done;
}

absl::Status Lifecycle::ScanUploads(const storage::BucketRecord& bucket, absl::Time now, PassStats* stats) {
  const lifecycle::Rules& rules = bucket.lifecycle_rules();
  Db* db = domain_->catalog->db();
  const std::string prefix = keys::UploadsWithPrefix(bucket.name(), lifecycle::CommonPrefix(rules));
  std::string resume;
  for (;;) {
    std::vector<storage::UploadRecord> due;
    size_t entries = 0;
    bool more = false;
    {
      auto it = db->Scan(db->cf(keys::kUploads), prefix);
      for (it->SeekSuffix(resume); it->Valid(); it->Next()) {
        if (entries >= kPageEntries) {
          more = true;
          resume = std::string(it->suffix());
          break;
        }
        ++entries;
        TT_ASSIGN_OR_RETURN(storage::UploadRecord u, Parse<storage::UploadRecord>(it->value(), "upload"));
        if (lifecycle::UploadDue(rules, u, now)) due.push_back(std::move(u));
      }
      TT_RETURN_IF_ERROR(it->status());
    }
    for (const storage::UploadRecord& u : due) {
      if (step_hook_) step_hook_(bucket.name(), u.key());
      absl::StatusOr<bool> done = AbortUpload(bucket.name(), u);
      if (!done.ok()) {
        ++stats->errors;
        TT_LOG_WARN("objects lifecycle: bucket {}: abort of upload {} failed: {}", bucket.name(), u.upload_id(),
                    done.status().ToString());
      } else if (!*done) {
        ++stats->skipped;
      } else {
        Count(Action::kAbortUpload, stats);
      }
    }
    if (!more) return absl::OkStatus();
  }
}

absl::StatusOr<bool> Lifecycle::AbortUpload(const std::string& bucket, const storage::UploadRecord& upload) {
  v1::AbortMultipartUploadRequest r;
  r.set_bucket(bucket);
  r.set_key(upload.key());
  r.set_upload_id(upload.upload_id());
  absl::StatusOr<v1::AbortMultipartUploadResponse> aborted = domain_->multipart->AbortMultipartUpload(r);
  if (aborted.ok()) return true;
  // Completed or aborted since the scan, or the bucket went: nothing to do.
  const std::string reason = ErrorReason(aborted.status());
  if (reason == "NoSuchUpload" || reason == "NoSuchBucket") return false;
  return aborted.status();
}

void Lifecycle::Count(Action action, PassStats* stats) {
  switch (action) {
    case Action::kExpire:
      ++stats->expired;
      break;
    case Action::kNoncurrent:
      ++stats->noncurrent;
      break;
    case Action::kDeleteMarker:
      ++stats->delete_markers;
      break;
    case Action::kAbortUpload:
      ++stats->uploads_aborted;
      break;
  }
  if (metrics_ != nullptr) metrics_->LifecycleDeleted(lifecycle::ActionName(action));
}

}  // namespace thingtank::objects
