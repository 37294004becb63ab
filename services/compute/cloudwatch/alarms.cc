#include "services/compute/cloudwatch/alarms.h"

#include <algorithm>
#include <limits>
#include <set>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/util/json_util.h"
#include "nlohmann/json.hpp"
#include "services/common/status.h"
#include "services/compute/cloudwatch/alarm_rules.h"
#include "services/compute/cloudwatch/storage/cloudwatch_keys.h"
#include "services/compute/cloudwatch/storage/cloudwatch_records.pb.h"
#include "services/compute/proto_time.h"

namespace thingtank::compute {
namespace {

int64_t Micros(absl::Time t) { return t == absl::InfinitePast() ? 0 : absl::ToUnixMicros(t); }
absl::Time FromMicros(int64_t us) {
  return us == 0 ? absl::InfinitePast() : absl::FromUnixMicros(us);
}

absl::StatusOr<AlarmSpec> SpecOf(const v1::MetricAlarm& a) {
  AlarmSpec spec;
  spec.metric = MetricKey::From(a.namespace_(), a.metric_name(), a.dimensions());
  if (a.extended_statistic().empty()) {
    spec.stat = Stat::Of(a.statistic());
  } else {
    auto p = ParsePercentile(a.extended_statistic());
    if (!p) return absl::DataLossError("cloudwatch: stored alarm with a bad percentile");
    spec.stat = *std::move(p);
  }
  if (!a.unit().empty()) spec.unit = UnitIndex(a.unit());
  spec.datapoints_to_alarm = a.datapoints_to_alarm();
  return spec;
}

bool HasActionWithPrefix(const v1::MetricAlarm& a, const std::string& prefix) {
  for (const auto* list : {&a.ok_actions(), &a.alarm_actions(), &a.insufficient_data_actions()}) {
    for (const auto& arn : *list) {
      if (absl::StartsWith(arn, prefix)) return true;
    }
  }
  return false;
}

std::string ConfigurationData(absl::string_view type, absl::string_view key,
                              const v1::MetricAlarm& alarm) {
  std::string body;
  if (!google::protobuf::util::MessageToJsonString(alarm, &body).ok()) body = "{}";
  nlohmann::json j;
  j["version"] = "1.0";
  j["type"] = type;
  j[std::string(key)] = nlohmann::json::parse(body, nullptr, false);
  return j.dump();
}

std::string Token(absl::string_view bytes) { return absl::WebSafeBase64Escape(bytes); }
std::optional<std::string> FromToken(const std::string& token) {
  std::string bytes;
  if (!absl::WebSafeBase64Unescape(token, &bytes)) return std::nullopt;
  return bytes;
}
absl::Status BadToken() {
  return InvalidField("next_token", "not a token of this call", "InvalidNextToken");
}

}  // namespace

std::vector<std::string> Alarms::ColumnFamilies() {
  return {storage::kAlarmsCf, storage::kHistoryCf};
}

Alarms::Alarms(Db* db, Clock* clock, MetricStore* metrics, AlarmActionSink* sink,
               AlarmOptions options)
    : db_(db),
      clock_(clock),
      metrics_(metrics),
      sink_(sink),
      options_(std::move(options)),
      alarms_cf_(db->cf(storage::kAlarmsCf)),
      history_cf_(db->cf(storage::kHistoryCf)) {}

absl::StatusOr<std::unique_ptr<Alarms>> Alarms::Open(Db* db, Clock* clock, MetricStore* metrics,
                                                     AlarmActionSink* sink,
                                                     AlarmOptions options) {
  std::unique_ptr<Alarms> alarms(new Alarms(db, clock, metrics, sink, std::move(options)));
  TT_RETURN_IF_ERROR(alarms->Load());
  return alarms;
}

absl::Status Alarms::Load() {
  // Repeating actions are asked of the sink before taking the lock.
  std::vector<Entry> loaded;
  auto it = db_->Scan(alarms_cf_, "");
  for (; it->Valid(); it->Next()) {
    storage::AlarmRecord record;
    if (!record.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return absl::DataLossError("cloudwatch: unreadable alarm record");
    }
    Entry e;
    TT_ASSIGN_OR_RETURN(e.spec, SpecOf(record.alarm()));
    e.alarm = std::move(*record.mutable_alarm());
    e.last_evaluated = FromMicros(record.last_evaluated_micros());
    e.last_alarm_actions = FromMicros(record.last_alarm_actions_micros());
    if (record.has_last_value()) e.last_value = record.last_value();
    e.managed = record.managed();
    for (const auto& arn : e.alarm.alarm_actions()) {
      if (sink_->RepeatsWhileInAlarm(arn)) e.repeating.push_back(arn);
    }
    loaded.push_back(std::move(e));
  }
  TT_RETURN_IF_ERROR(it->status());
  absl::MutexLock l(&mu_);
  for (auto& e : loaded) {
    const std::string name = e.alarm.alarm_name();
    alarms_[name] = std::move(e);
  }
  auto h = db_->Scan(history_cf_, "");
  for (; h->Valid(); h->Next()) {
    auto key = storage::ParseHistoryKey(h->suffix());
    v1::AlarmHistoryItem item;
    if (!key || !item.ParseFromArray(h->value().data(), static_cast<int>(h->value().size()))) {
      return absl::DataLossError("cloudwatch: unreadable alarm history item");
    }
    next_history_seq_ = std::max(next_history_seq_, key->second + 1);
    history_.emplace(*key, std::move(item));
  }
  return h->status();
}

std::string Alarms::Arn(const std::string& name) const {
  return absl::StrCat("arn:aws:cloudwatch:", options_.region, ":", options_.account, ":alarm:",
                      name);
}

void Alarms::StageEntry(Staged* staged, Entry entry) {
  storage::AlarmRecord record;
  *record.mutable_alarm() = entry.alarm;
  record.set_last_evaluated_micros(Micros(entry.last_evaluated));
  record.set_last_alarm_actions_micros(Micros(entry.last_alarm_actions));
  if (entry.last_value) record.set_last_value(*entry.last_value);
  record.set_managed(entry.managed);
  staged->batch.Put(alarms_cf_, storage::AlarmKey(entry.alarm.alarm_name()),
                    record.SerializeAsString());
  std::string name = entry.alarm.alarm_name();
  staged->entries.emplace_back(std::move(name), std::move(entry));
}

void Alarms::StageDelete(Staged* staged, const std::string& name) {
  staged->batch.Delete(alarms_cf_, storage::AlarmKey(name));
  staged->entries.emplace_back(name, std::nullopt);
}

void Alarms::StageHistory(Staged* staged, const std::string& name, absl::Time when,
                          v1::HistoryItemType type, std::string summary, std::string data) {
  const std::pair<int64_t, uint64_t> key(absl::ToUnixMicros(when), next_history_seq_++);
  v1::AlarmHistoryItem item;
  item.set_alarm_name(name);
  *item.mutable_timestamp() = ToProto(when);
  item.set_history_item_type(type);
  item.set_history_summary(std::move(summary));
  item.set_history_data(std::move(data));
  staged->batch.Put(history_cf_, storage::HistoryKey(key.first, key.second),
                    item.SerializeAsString());
  staged->history.emplace_back(key, std::move(item));
}

void Alarms::StageHistoryTrim(Staged* staged, absl::Time now) {
  const int64_t cutoff = absl::ToUnixMicros(now - options_.history_retention);
  if (history_.empty() || history_.begin()->first.first >= cutoff) return;
  staged->batch.DeleteRange(history_cf_,
                            storage::HistoryKey(std::numeric_limits<int64_t>::min(), 0),
                            storage::HistoryKey(cutoff, 0));
  staged->history_trim_before_micros = cutoff;
}

absl::Status Alarms::Commit(Staged* staged) {
  if (staged->batch.Count() == 0) return absl::OkStatus();
  TT_RETURN_IF_ERROR(db_->Write(&staged->batch));
  for (auto& [name, entry] : staged->entries) {
    if (entry) {
      alarms_[name] = *std::move(entry);
    } else {
      alarms_.erase(name);
    }
  }
  if (staged->history_trim_before_micros) {
    history_.erase(history_.begin(),
                   history_.lower_bound({*staged->history_trim_before_micros, 0}));
  }
  for (auto& [key, item] : staged->history) history_.emplace(key, std::move(item));
  transitions_total_ += staged->transitions;
  return absl::OkStatus();
}

absl::StatusOr<v1::PutMetricAlarmResponse> Alarms::PutMetricAlarm(
    const v1::PutMetricAlarmRequest& request) {
  TT_RETURN_IF_ERROR(Put(request, /*managed=*/false));
  return v1::PutMetricAlarmResponse();
}

absl::Status Alarms::PutAlarmInternal(const v1::PutMetricAlarmRequest& request) {
  return Put(request, /*managed=*/true);
}

absl::Status Alarms::Put(const v1::PutMetricAlarmRequest& r, bool managed) {
  TT_ASSIGN_OR_RETURN(AlarmSpec spec, ValidatePutMetricAlarm(r));
  // The sink is asked without the lock: it may call back.
  const std::pair<const google::protobuf::RepeatedPtrField<std::string>*, const char*> lists[] = {
      {&r.ok_actions(), "ok_actions"},
      {&r.alarm_actions(), "alarm_actions"},
      {&r.insufficient_data_actions(), "insufficient_data_actions"}};
  for (const auto& [list, field] : lists) {
    for (int i = 0; i < list->size(); ++i) {
      absl::Status s = sink_->CheckAction((*list)[i]);
      if (s.ok()) continue;
      if (s.code() != absl::StatusCode::kInvalidArgument &&
          s.code() != absl::StatusCode::kNotFound) {
        return s;
      }
      return InvalidField(absl::StrCat(field, "[", i, "]"), s.message(), ErrorReason(s));
    }
  }
  std::vector<std::string> repeating;
  for (const auto& arn : r.alarm_actions()) {
    if (sink_->RepeatsWhileInAlarm(arn) &&
        std::find(repeating.begin(), repeating.end(), arn) == repeating.end()) {
      repeating.push_back(arn);
    }
  }
  const absl::Time now = clock_->Now();
  absl::MutexLock l(&mu_);
  auto it = alarms_.find(r.alarm_name());
  const bool exists = it != alarms_.end();
  if (exists && it->second.managed && !managed) {
    return InvalidField("alarm_name",
                        absl::StrCat("alarm \"", r.alarm_name(),
                                     "\" is managed by an Auto Scaling target tracking policy"),
                        "ValidationError");
  }
  Entry e;
  if (exists) {
    e = it->second;  // keeps the state, as CloudWatch does
  } else {
    e.alarm.set_state_value(v1::STATE_VALUE_INSUFFICIENT_DATA);
    e.alarm.set_state_reason("Unchecked: Initial alarm creation");
    *e.alarm.mutable_state_updated_timestamp() = ToProto(now);
  }
  v1::MetricAlarm& a = e.alarm;
  a.set_alarm_name(r.alarm_name());
  a.set_alarm_arn(Arn(r.alarm_name()));
  a.set_alarm_description(r.alarm_description());
  a.set_actions_enabled(!r.has_actions_enabled() || r.actions_enabled());
  *a.mutable_ok_actions() = r.ok_actions();
  *a.mutable_alarm_actions() = r.alarm_actions();
  *a.mutable_insufficient_data_actions() = r.insufficient_data_actions();
  a.set_metric_name(r.metric_name());
  a.set_namespace_(r.namespace_());
  *a.mutable_dimensions() = r.dimensions();
  a.set_statistic(r.statistic());
  a.set_extended_statistic(r.extended_statistic());
  a.set_period(r.period());
  a.set_unit(r.unit());
  a.set_evaluation_periods(r.evaluation_periods());
  a.set_datapoints_to_alarm(spec.datapoints_to_alarm);
  a.set_threshold(r.threshold());
  a.set_comparison_operator(r.comparison_operator());
  a.set_treat_missing_data(r.treat_missing_data() == v1::TREAT_MISSING_DATA_UNSPECIFIED
                               ? v1::TREAT_MISSING_DATA_MISSING
                               : r.treat_missing_data());
  *a.mutable_alarm_configuration_updated_timestamp() = ToProto(now);
  e.spec = std::move(spec);
  e.repeating = std::move(repeating);
  e.managed = managed;

  Staged staged;
  StageHistory(&staged, r.alarm_name(), now, v1::HISTORY_ITEM_TYPE_CONFIGURATION_UPDATE,
               absl::StrCat("Alarm \"", r.alarm_name(), "\" ", exists ? "updated" : "created"),
               ConfigurationData(exists ? "Update" : "Create",
                                 exists ? "updatedAlarm" : "createdAlarm", a));
  StageEntry(&staged, std::move(e));
  return Commit(&staged);
}

absl::StatusOr<v1::DescribeAlarmsResponse> Alarms::DescribeAlarms(
    const v1::DescribeAlarmsRequest& r) const {
  TT_RETURN_IF_ERROR(ValidateDescribeAlarms(r));
  TT_ASSIGN_OR_RETURN(const int max, ValidateMaxRecords(r.max_records(),
                                                        kDefaultDescribeAlarmsRecords));
  std::optional<std::string> after;
  if (!r.next_token().empty()) {
    after = FromToken(r.next_token());
    if (!after) return BadToken();
  }
  const std::set<std::string> names(r.alarm_names().begin(), r.alarm_names().end());
  v1::DescribeAlarmsResponse response;
  absl::ReaderMutexLock l(&mu_);
  auto it = after ? alarms_.upper_bound(*after) : alarms_.lower_bound(r.alarm_name_prefix());
  const std::string* last = nullptr;
  for (; it != alarms_.end(); ++it) {
    const v1::MetricAlarm& a = it->second.alarm;
    if (!absl::StartsWith(a.alarm_name(), r.alarm_name_prefix())) break;
    if (!names.empty() && names.count(a.alarm_name()) == 0) continue;
    if (r.state_value() != v1::STATE_VALUE_UNSPECIFIED && a.state_value() != r.state_value()) {
      continue;
    }
    if (!r.action_prefix().empty() && !HasActionWithPrefix(a, r.action_prefix())) continue;
    if (response.metric_alarms_size() == max) {
      response.set_next_token(Token(*last));
      break;
    }
    *response.add_metric_alarms() = a;
    last = &it->first;
  }
  return response;
}

absl::StatusOr<v1::DeleteAlarmsResponse> Alarms::DeleteAlarms(const v1::DeleteAlarmsRequest& r) {
  TT_RETURN_IF_ERROR(ValidateAlarmNames(r.alarm_names(), "alarm_names"));
  TT_RETURN_IF_ERROR(Delete({r.alarm_names().begin(), r.alarm_names().end()}, /*managed=*/false,
                            "alarm_names"));
  return v1::DeleteAlarmsResponse();
}

absl::Status Alarms::DeleteAlarmsInternal(const std::vector<std::string>& names) {
  return Delete(names, /*managed=*/true, "alarm_names");
}

absl::Status Alarms::Delete(const std::vector<std::string>& names, bool managed,
                            const std::string& field) {
  const absl::Time now = clock_->Now();
  absl::MutexLock l(&mu_);
  // All or none: refuse before deleting anything.
  for (size_t i = 0; i < names.size(); ++i) {
    auto it = alarms_.find(names[i]);
    if (it != alarms_.end() && it->second.managed && !managed) {
      return InvalidField(absl::StrCat(field, "[", i, "]"),
                          absl::StrCat("alarm \"", names[i],
                                       "\" is managed by an Auto Scaling target tracking policy"),
                          "ValidationError");
    }
  }
  Staged staged;
  std::set<std::string> done;
  for (const std::string& name : names) {
    auto it = alarms_.find(name);
    if (it == alarms_.end() || !done.insert(name).second) continue;
    StageHistory(&staged, name, now, v1::HISTORY_ITEM_TYPE_CONFIGURATION_UPDATE,
                 absl::StrCat("Alarm \"", name, "\" deleted"),
                 ConfigurationData("Delete", "deletedAlarm", it->second.alarm));
    StageDelete(&staged, name);
  }
  return Commit(&staged);
}

absl::StatusOr<v1::EnableAlarmActionsResponse> Alarms::EnableAlarmActions(
    const v1::EnableAlarmActionsRequest& r) {
  TT_RETURN_IF_ERROR(SetActionsEnabled(r.alarm_names(), true));
  return v1::EnableAlarmActionsResponse();
}

absl::StatusOr<v1::DisableAlarmActionsResponse> Alarms::DisableAlarmActions(
    const v1::DisableAlarmActionsRequest& r) {
  TT_RETURN_IF_ERROR(SetActionsEnabled(r.alarm_names(), false));
  return v1::DisableAlarmActionsResponse();
}

absl::Status Alarms::SetActionsEnabled(
    const google::protobuf::RepeatedPtrField<std::string>& names, bool enabled) {
  TT_RETURN_IF_ERROR(ValidateAlarmNames(names, "alarm_names"));
  absl::MutexLock l(&mu_);
  Staged staged;
  for (const std::string& name : std::set<std::string>(names.begin(), names.end())) {
    auto it = alarms_.find(name);
    if (it == alarms_.end() || it->second.alarm.actions_enabled() == enabled) continue;
    Entry e = it->second;
    e.alarm.set_actions_enabled(enabled);
    StageEntry(&staged, std::move(e));
  }
  return Commit(&staged);
}

absl::StatusOr<v1::DescribeAlarmHistoryResponse> Alarms::DescribeAlarmHistory(
    const v1::DescribeAlarmHistoryRequest& r) const {
  if (!r.alarm_name().empty()) TT_RETURN_IF_ERROR(ValidateAlarmName(r.alarm_name(), "alarm_name"));
  if (!v1::HistoryItemType_IsValid(r.history_item_type())) {
    return InvalidField("history_item_type", "unknown history item type");
  }
  TT_ASSIGN_OR_RETURN(const int max, ValidateMaxRecords(r.max_records(), kDefaultHistoryRecords));
  const int64_t start = r.has_start_date() ? absl::ToUnixMicros(FromProto(r.start_date()))
                                           : std::numeric_limits<int64_t>::min();
  const int64_t end = r.has_end_date() ? absl::ToUnixMicros(FromProto(r.end_date()))
                                       : std::numeric_limits<int64_t>::max();
  if (r.has_start_date() && r.has_end_date() && start >= end) {
    return InvalidField("start_date", "start_date must be before end_date");
  }
  std::optional<std::pair<int64_t, uint64_t>> after;
  if (!r.next_token().empty()) {
    auto bytes = FromToken(r.next_token());
    if (bytes) after = storage::ParseHistoryKey(*bytes);
    if (!after) return BadToken();
  }
  v1::DescribeAlarmHistoryResponse response;
  const std::pair<int64_t, uint64_t>* last = nullptr;
  bool more = false;
  auto visit = [&](const std::pair<int64_t, uint64_t>& key, const v1::AlarmHistoryItem& item) {
    if (key.first < start || key.first >= end) return true;
    if (!r.alarm_name().empty() && item.alarm_name() != r.alarm_name()) return true;
    if (r.history_item_type() != v1::HISTORY_ITEM_TYPE_UNSPECIFIED &&
        item.history_item_type() != r.history_item_type()) {
      return true;
    }
    if (response.alarm_history_items_size() == max) {
      more = true;
      return false;
    }
    *response.add_alarm_history_items() = item;
    last = &key;
    return true;
  };
  absl::ReaderMutexLock l(&mu_);
  if (r.scan_by_timestamp_ascending()) {
    for (auto it = after ? history_.upper_bound(*after) : history_.begin(); it != history_.end();
         ++it) {
      if (!visit(it->first, it->second)) break;
    }
  } else {
    auto it = after ? history_.lower_bound(*after) : history_.end();
    while (it != history_.begin()) {
      --it;
      if (!visit(it->first, it->second)) break;
    }
  }
  if (more) response.set_next_token(Token(storage::HistoryKey(last->first, last->second)));
  return response;
}

std::vector<std::string> Alarms::AlarmsWithAction(const std::string& arn) const {
  std::vector<std::string> out;
  absl::ReaderMutexLock l(&mu_);
  for (const auto& [name, e] : alarms_) {
    const v1::MetricAlarm& a = e.alarm;
    for (const auto* list : {&a.ok_actions(), &a.alarm_actions(), &a.insufficient_data_actions()}) {
      if (std::find(list->begin(), list->end(), arn) != list->end()) {
        out.push_back(name);
        break;
      }
    }
  }
  return out;
}

AlarmCounts Alarms::Counts() const {
  AlarmCounts c;
  absl::ReaderMutexLock l(&mu_);
  c.states.reserve(alarms_.size());
  for (const auto& [name, e] : alarms_) c.states.emplace_back(name, e.alarm.state_value());
  c.evaluations_total = evaluations_total_;
  c.transitions_total = transitions_total_;
  c.actions_total = actions_total_;
  c.action_failures_total = action_failures_total_;
  return c;
}

}  // namespace thingtank::compute
