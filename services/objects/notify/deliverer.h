#pragma once

#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "grpcpp/channel.h"
#include "prometheus/registry.h"
#include "services/common/clock.h"
#include "services/common/executor.h"
#include "services/common/lifeline.h"
#include "services/common/storage/db.h"
#include "services/objects/metrics.h"
#include "services/objects/notify/sender.h"
#include "services/objects/storage/object_records.pb.h"

namespace thingtank::objects::notify {

struct DeliveryOptions {
  // A record that failed this many times is dropped (each failure counted).
  int max_attempts = 100;
  // After the n-th failure a record waits initial_backoff * 2^(n-1), at most
  // max_backoff, on the clock.
  absl::Duration initial_backoff = absl::Seconds(1);
  absl::Duration max_backoff = absl::Minutes(5);
  absl::Duration call_deadline = absl::Seconds(10);
  // Sends outstanding at once.
  int max_in_flight = 32;
};

// Delivers the outbox column family (OutboxRecord at OutboxKey(seq)) at least
// once: every record is sent in seq order of first sight, deleted once its
// destination accepted it, and after a failure retried on its own
// exponential backoff on the clock (its attempt count kept in the record),
// so one dead destination never holds up the others. Records left by a
// previous run are found by the first pass after Start.
//
// Nothing blocks a caller: Wake (after a commit), clock timers and gRPC
// completions only post work; scans, reads and deletes run on `executor`.
// Passes do nothing until both Start and SetChannel were called.
//
// Seqs grow with commits and records are written in seq order under the
// catalog's commit lock, so a pass only reads the outbox past the last seq it
// saw; records waiting for a retry are held in memory by seq and due time
// (about 50 bytes each) and read again when due.
//
// Db, clock, executor and metrics (may be null) must outlive it; Shutdown
// (or the destructor) must come before the executor goes. Thread-safe.
class Deliverer {
 public:
  Deliverer(Db* db, Clock* clock, Executor* executor, ObjectsMetrics* metrics,
            DeliveryOptions options);
  ~Deliverer();
  Deliverer(const Deliverer&) = delete;
  Deliverer& operator=(const Deliverer&) = delete;

  void SetChannel(std::shared_ptr<grpc::Channel> channel, prometheus::Registry* registry);
  void Start();
  // Asks for a pass soon (cheap; coalesced).
  void Wake();
  // Stops: cancels the timer and the sends in flight (their records stay in
  // the outbox for the next run) and waits for work in progress. Idempotent.
  void Shutdown();

  // The n-th failure's wait.
  absl::Duration Backoff(int attempts) const;

 private:
  void Pass();
  void RunPass();
  void Dispatch(uint64_t seq, storage::OutboxRecord record);
  void Finish(uint64_t seq, storage::OutboxRecord record, const absl::Status& status);
  absl::Status Remove(uint64_t seq);
  void ArmTimer() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void TimerFired(uint64_t generation);

  Db* const db_;
  rocksdb::ColumnFamilyHandle* const cf_;
  Clock* const clock_;
  ObjectsMetrics* const metrics_;
  const DeliveryOptions options_;
  Sender sender_;
  std::shared_ptr<Lifeline<Deliverer>> life_;

  absl::Mutex mu_;
  bool started_ ABSL_GUARDED_BY(mu_) = false;
  bool connected_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool posted_ ABSL_GUARDED_BY(mu_) = false;    // a pass is queued
  bool scanning_ ABSL_GUARDED_BY(mu_) = false;  // a pass runs
  bool rerun_ ABSL_GUARDED_BY(mu_) = false;     // woken while it ran
  uint64_t next_scan_ ABSL_GUARDED_BY(mu_) = 0;  // first seq not yet read
  int in_flight_ ABSL_GUARDED_BY(mu_) = 0;
  std::set<std::pair<absl::Time, uint64_t>> retries_ ABSL_GUARDED_BY(mu_);  // due, seq
  Clock::TimerId timer_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Time timer_at_ ABSL_GUARDED_BY(mu_);
  uint64_t timer_generation_ ABSL_GUARDED_BY(mu_) = 0;
  // Destinations failing now (logged once until a delivery succeeds), and
  // whether a drop was logged for them.
  absl::flat_hash_map<std::string, bool> failing_ ABSL_GUARDED_BY(mu_);
};

}  // namespace thingtank::objects::notify
