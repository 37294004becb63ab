#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "services/common/clock.h"
#include "services/common/executor.h"
#include "services/common/lifeline.h"
#include "services/objects/lifecycle/rules.h"
#include "services/objects/metrics.h"
#include "services/objects/object_service.h"

namespace thingtank::objects {

// What one pass removed, by action, and what it left alone.
struct PassStats {
  int64_t buckets = 0;          // buckets with enabled rules, scanned
  int64_t expired = 0;          // current versions expired (removed or delete marker added)
  int64_t noncurrent = 0;       // noncurrent versions removed
  int64_t delete_markers = 0;   // expired object delete markers removed
  int64_t uploads_aborted = 0;  // incomplete multipart uploads aborted
  int64_t skipped = 0;          // due at the scan, changed before its transaction
  int64_t errors = 0;           // steps or bucket scans that failed (logged; the next pass retries)
};

// Runs S3 lifecycle rules: every `interval` of clock time, one pass over the
// buckets that have enabled rules expires current versions, removes
// noncurrent versions and lone delete markers, and aborts old multipart
// uploads (rules.h says when each is due). A pass reads only the current
// state, so passes missed while the server was down just catch up.
//
// The pass scans the versions and uploads column families in pages without
// the commit lock; each deletion then runs in its own transaction that
// re-reads the key and re-plans it with the bucket's current rules, and
// deletes only if the step is still due: a put racing the pass is never
// deleted by mistake.
//
// Holds pointers to the domain, clock, executor and metrics (nullable),
// which must outlive it. Thread-safe; Start and Stop are called from one
// thread.
class Lifecycle {
 public:
  Lifecycle(ObjectService* domain, Clock* clock, Executor* executor, ObjectsMetrics* metrics,
            absl::Duration interval = absl::Hours(1));
  ~Lifecycle();
  Lifecycle(const Lifecycle&) = delete;
  Lifecycle& operator=(const Lifecycle&) = delete;

  // Schedules a pass at once (catching up after a restart) and then every
  // `interval`, each posted to the executor (timer threads never touch
  // RocksDB).
  void Start();
  // Cancels the schedule and waits for a pass in progress. Idempotent.
  void Stop();

  // One pass, synchronously on the calling thread (passes never overlap).
  // Fails only if the buckets cannot be listed; a failed bucket or step is
  // counted in `errors` and the pass goes on.
  absl::StatusOr<PassStats> RunOnce();

  // Tests: called after the scan planned a step and before its transaction
  // (bucket, key), where a racing write can be made.
  void SetStepHookForTest(std::function<void(std::string_view, std::string_view)> hook) {
    step_hook_ = std::move(hook);
  }

 private:
  // One versions-scan entry group: a key and its versions, newest first.
  struct KeyVersions {
    std::string key;
    std::vector<lifecycle::VersionFacts> versions;
  };

  void Schedule(absl::Duration delay) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void TimedPass();

  absl::Status PassBucket(const storage::BucketRecord& bucket, absl::Time now, PassStats* stats);
  absl::Status ScanVersions(const storage::BucketRecord& bucket, absl::Time now, PassStats* stats);
  absl::Status ScanUploads(const storage::BucketRecord& bucket, absl::Time now, PassStats* stats);
  // Runs one step in its own transaction. False: the key changed, not done.
  absl::StatusOr<bool> RunKeyStep(const std::string& bucket, const std::string& key,
                                  const lifecycle::KeyStep& step);
  absl::StatusOr<bool> AbortUpload(const std::string& bucket, const storage::UploadRecord& upload);
  void Count(lifecycle::Action action, PassStats* stats);

  ObjectService* const domain_;
  Clock* const clock_;
  Executor* const executor_;
  ObjectsMetrics* const metrics_;
  const absl::Duration interval_;
  std::function<void(std::string_view, std::string_view)> step_hook_;

  // Serializes passes (timed and RunOnce).
  absl::Mutex pass_mu_;

  absl::Mutex mu_;
  // Set while started; a timer's posted pass runs only while it is attached.
  std::shared_ptr<Lifeline<Lifecycle>> life_ ABSL_GUARDED_BY(mu_);
  Clock::TimerId timer_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace thingtank::objects
