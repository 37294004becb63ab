#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "rocksdb/write_batch.h"
#include "services/common/clock.h"
#include "services/common/storage/db.h"
#include "services/compute/cloudwatch/alarm_validation.h"
#include "services/compute/cloudwatch/metric_store.h"
#include "thingtank/compute/v1/compute.pb.h"

namespace thingtank::compute {

// What an alarm action is told when it runs.
struct AlarmActionEvent {
  std::string alarm_name;
  std::string alarm_arn;
  v1::StateValue old_state = v1::STATE_VALUE_UNSPECIFIED;
  v1::StateValue new_state = v1::STATE_VALUE_UNSPECIFIED;
  std::string reason;
  std::string reason_data;
  absl::Time time;
  // The newest evaluated datapoint's value, if any (step scaling uses it).
  std::optional<double> metric_value;
  double threshold = 0;
  v1::ComparisonOperator comparison = v1::COMPARISON_OPERATOR_UNSPECIFIED;
  // A once-a-minute re-run while in ALARM, not a transition.
  bool repeat = false;
};

// Where alarm actions go (the compute service: scaling policies). Called
// without any lock of Alarms held, so implementations may call back into
// Alarms or the MetricStore. Must be thread-safe.
class AlarmActionSink {
 public:
  virtual ~AlarmActionSink() = default;
  // At PutMetricAlarm, for every action ARN: OK, or why it cannot run (e.g.
  // INVALID_ARGUMENT "ValidationError": the policy does not exist). An
  // INVALID_ARGUMENT or NOT_FOUND comes back to the caller naming the field
  // (`alarm_actions[0]`) with the sink's reason and message; other codes
  // (UNAVAILABLE, ...) come back as they are.
  virtual absl::Status CheckAction(const std::string& arn) = 0;
  // Whether the action runs again once a minute while the alarm stays in
  // ALARM (CloudWatch does so for Auto Scaling actions). Asked when the alarm
  // is put or loaded; must be a pure function of the ARN.
  virtual bool RepeatsWhileInAlarm(const std::string& arn) = 0;
  // Runs the action; the status is recorded in the alarm's history.
  virtual absl::Status RunAction(const std::string& arn, const AlarmActionEvent& event) = 0;
};

struct AlarmOptions {
  std::string region = "us-east-1";
  std::string account = "000000000000";
  // CloudWatch keeps alarm history 30 days.
  absl::Duration history_retention = absl::Hours(24 * 30);
  // Alarm actions that repeat run again this often while in ALARM.
  absl::Duration repeat_interval = absl::Minutes(1);
  // Periods before the N evaluated ones that the evaluation may also look at
  // (CloudWatch's "evaluation range" is wider than N, by an amount it does
  // not document; see alarm_rules.h). 0: exactly the N periods.
  int extra_evaluation_periods = 0;
};

// For the service's Prometheus metrics.
struct AlarmCounts {
  std::vector<std::pair<std::string, v1::StateValue>> states;  // by name
  int64_t evaluations_total = 0;
  int64_t transitions_total = 0;
  int64_t actions_total = 0;
  int64_t action_failures_total = 0;
};

// CloudWatch metric alarms: their configuration, state, history and actions.
//
// Owns every alarm and its history in memory, backed by RocksDB (reloaded at
// Open). Evaluation is driven by the owner's tick: EvaluateDue(boundary) at
// every 10-second boundary of the clock, after the metrics for that boundary
// are published. An alarm is due when its period divides the boundary (the
// boundary is a multiple of the period since the epoch); it is then decided
// over the periods that ended at the boundary (alarm_rules.h has the rules).
// A new alarm starts in INSUFFICIENT_DATA.
//
// Durability: every change (state, history, last evaluation, last action
// time) is committed in one WriteBatch before it shows; an evaluation tick
// writes only the alarms that changed. After a restart evaluation continues
// from the stored state: a transition is stored with the boundary that made
// it, so it is neither lost nor repeated. Actions run after their transition
// is committed, outside every lock, at most once: a crash between the commit
// and the action loses that action (a repeating one runs again a minute
// later).
//
// Thread-safe. Methods block on RocksDB: call them on an executor. `db`,
// `clock`, `metrics` and `sink` must outlive the object.
class Alarms {
 public:
  static std::vector<std::string> ColumnFamilies();
  static absl::StatusOr<std::unique_ptr<Alarms>> Open(Db* db, Clock* clock, MetricStore* metrics,
                                                      AlarmActionSink* sink,
                                                      AlarmOptions options = {});
  Alarms(const Alarms&) = delete;
  Alarms& operator=(const Alarms&) = delete;

  // The RPCs. PutMetricAlarm and DeleteAlarms refuse alarms created through
  // PutAlarmInternal (ValidationError). DeleteAlarms ignores unknown names, as
  // CloudWatch does; so do Enable/DisableAlarmActions.
  absl::StatusOr<v1::PutMetricAlarmResponse> PutMetricAlarm(
      const v1::PutMetricAlarmRequest& request);
  absl::StatusOr<v1::DescribeAlarmsResponse> DescribeAlarms(
      const v1::DescribeAlarmsRequest& request) const;
  absl::StatusOr<v1::DeleteAlarmsResponse> DeleteAlarms(const v1::DeleteAlarmsRequest& request);
  // Sets the state (NOT_FOUND "ResourceNotFound" for an unknown alarm) and,
  // when it changes, records it and runs the new state's actions before
  // returning. The next evaluation sets the state the data gives.
  absl::StatusOr<v1::SetAlarmStateResponse> SetAlarmState(const v1::SetAlarmStateRequest& request);
  absl::StatusOr<v1::DescribeAlarmHistoryResponse> DescribeAlarmHistory(
      const v1::DescribeAlarmHistoryRequest& request) const;
  absl::StatusOr<v1::EnableAlarmActionsResponse> EnableAlarmActions(
      const v1::EnableAlarmActionsRequest& request);
  absl::StatusOr<v1::DisableAlarmActionsResponse> DisableAlarmActions(
      const v1::DisableAlarmActionsRequest& request);

  // For Auto Scaling target tracking: alarms it manages (callers cannot
  // change or delete them). DeleteAlarmsInternal ignores unknown names.
  absl::Status PutAlarmInternal(const v1::PutMetricAlarmRequest& request);
  absl::Status DeleteAlarmsInternal(const std::vector<std::string>& names);
  // Names of the alarms naming `arn` in any action list, in name order.
  std::vector<std::string> AlarmsWithAction(const std::string& arn) const;

  // Evaluates the alarms due at `boundary` (a multiple of 10 s since the
  // epoch), re-runs repeating ALARM actions whose interval has passed, trims
  // history past retention, and runs the actions of the transitions. A
  // boundary an alarm already evaluated (after a restart) is skipped.
  absl::Status EvaluateDue(absl::Time boundary);

  AlarmCounts Counts() const;

 private:
  struct Entry {
    v1::MetricAlarm alarm;
    AlarmSpec spec;
    std::vector<std::string> repeating;  // alarm actions that repeat while in ALARM
    absl::Time last_evaluated = absl::InfinitePast();
    absl::Time last_alarm_actions = absl::InfinitePast();
    std::optional<double> last_value;
    bool managed = false;
  };
  struct PendingAction {
    std::string arn;
    AlarmActionEvent event;
  };
  // Changes staged under the lock: the batch, and what to apply once it is
  // committed.
  struct Staged {
    rocksdb::WriteBatch batch;
    std::vector<std::pair<std::string, std::optional<Entry>>> entries;  // nullopt: delete
    std::vector<std::pair<std::pair<int64_t, uint64_t>, v1::AlarmHistoryItem>> history;
    std::vector<PendingAction> actions;
    std::optional<int64_t> history_trim_before_micros;
    int transitions = 0;
  };

  Alarms(Db* db, Clock* clock, MetricStore* metrics, AlarmActionSink* sink, AlarmOptions options);
  absl::Status Load();
  absl::Status Put(const v1::PutMetricAlarmRequest& request, bool managed);
  absl::Status Delete(const std::vector<std::string>& names, bool managed,
                      const std::string& field);
  absl::Status SetActionsEnabled(const google::protobuf::RepeatedPtrField<std::string>& names,
                                 bool enabled);
  std::string Arn(const std::string& name) const;

  // Staging (mu_ held).
  void StageEntry(Staged* staged, Entry entry) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void StageDelete(Staged* staged, const std::string& name) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void StageHistory(Staged* staged, const std::string& name, absl::Time when,
                    v1::HistoryItemType type, std::string summary, std::string data)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Moves `entry` (a copy of the stored one, state fields already updated
  // from `old_alarm`) into `staged` with its StateUpdate item and the
  // actions of its new state.
  void StageTransition(Staged* staged, Entry entry, const v1::MetricAlarm& old_alarm,
                       absl::Time when) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void StageHistoryTrim(Staged* staged, absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Writes the batch, then applies it in memory.
  absl::Status Commit(Staged* staged) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Runs the actions (no lock held), then records their history items.
  absl::Status RunActions(std::vector<PendingAction> actions) ABSL_LOCKS_EXCLUDED(mu_);
  // Evaluates one due alarm; stages its transition when its state changes
  // (true), else only notes the evaluation in memory (false).
  bool Evaluate(Entry& entry, absl::Time boundary, Staged* staged)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Stages the repeat of the alarm's repeating actions when it is in ALARM
  // and the interval has passed since they last ran.
  void MaybeRepeat(const Entry& entry, absl::Time boundary, Staged* staged)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  AlarmActionEvent EventFor(const Entry& entry, v1::StateValue old_state, absl::Time when,
                            bool repeat) const;

  Db* const db_;
  Clock* const clock_;
  MetricStore* const metrics_;
  AlarmActionSink* const sink_;
  const AlarmOptions options_;
  rocksdb::ColumnFamilyHandle* const alarms_cf_;
  rocksdb::ColumnFamilyHandle* const history_cf_;

  mutable absl::Mutex mu_;
  std::map<std::string, Entry> alarms_ ABSL_GUARDED_BY(mu_);
  // By (time in microseconds, sequence): oldest first.
  std::map<std::pair<int64_t, uint64_t>, v1::AlarmHistoryItem> history_ ABSL_GUARDED_BY(mu_);
  uint64_t next_history_seq_ ABSL_GUARDED_BY(mu_) = 1;
  int64_t evaluations_total_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t transitions_total_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t actions_total_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t action_failures_total_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace thingtank::compute
