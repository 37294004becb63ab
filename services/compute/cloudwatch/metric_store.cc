#include "services/compute/cloudwatch/metric_store.h"

#include <algorithm>
#include <limits>

#include "absl/strings/escaping.h"
#include "rocksdb/write_batch.h"
#include "services/common/status.h"
#include "services/compute/cloudwatch/metric_validation.h"
#include "services/compute/cloudwatch/storage/cloudwatch_keys.h"
#include "services/compute/cloudwatch/storage/cloudwatch_records.pb.h"
#include "services/compute/proto_time.h"

namespace thingtank::compute {
namespace {

constexpr int64_t kMinuteMs = 60'000;

int64_t ToMs(absl::Time t) { return absl::ToUnixMillis(t); }
int64_t ToMs(absl::Duration d) { return absl::ToInt64Milliseconds(d); }
// The smallest multiple of `period_ms` at or after `t`.
int64_t AlignUpMs(int64_t t, int64_t period_ms) {
  const int64_t r = ((t % period_ms) + period_ms) % period_ms;
  return r == 0 ? t : t + (period_ms - r);
}

storage::SampleRecord ToRecord(const v1::MetricDatum& d) {
  storage::SampleRecord r;
  if (d.has_value()) {
    r.set_value(d.value());
  } else if (d.has_statistic_values()) {
    *r.mutable_statistic_values() = d.statistic_values();
  } else {
    *r.mutable_values() = d.values();
    *r.mutable_counts() = d.counts();
  }
  r.set_unit(d.unit().empty() ? UnitName(kUnitNone) : d.unit());
  r.set_high_resolution(d.storage_resolution() == 1);
  return r;
}

Sample FromRecord(int64_t time_ms, uint64_t seq, const storage::SampleRecord& r) {
  Sample s;
  if (r.has_value()) {
    s = Sample::Single(time_ms, r.value());
  } else if (r.has_statistic_values()) {
    const auto& v = r.statistic_values();
    s = Sample::Set(time_ms, v.sample_count(), v.sum(), v.minimum(), v.maximum());
  } else {
    s = Sample::Distribution(time_ms, {r.values().begin(), r.values().end()},
                             {r.counts().begin(), r.counts().end()});
  }
  s.seq = seq;
  s.unit = static_cast<uint8_t>(UnitIndex(r.unit()).value_or(kUnitNone));
  s.high_resolution = r.high_resolution();
  return s;
}

void Insert(std::deque<Sample>* samples, Sample s) {
  if (samples->empty() || samples->back().time_ms <= s.time_ms) {
    samples->push_back(std::move(s));
    return;
  }
  auto at = std::upper_bound(samples->begin(), samples->end(), s.time_ms,
                             [](int64_t t, const Sample& x) { return t < x.time_ms; });
  samples->insert(at, std::move(s));
}

std::deque<Sample>::const_iterator FirstAtOrAfter(const std::deque<Sample>& samples,
                                                  int64_t time_ms) {
  return std::lower_bound(samples.begin(), samples.end(), time_ms,
                          [](const Sample& x, int64_t t) { return x.time_ms < t; });
}

bool MatchesFilters(const MetricKey& key, const v1::ListMetricsRequest& request) {
  if (!request.namespace_().empty() && key.ns != request.namespace_()) return false;
  if (!request.metric_name().empty() && key.name != request.metric_name()) return false;
  for (const auto& f : request.dimensions()) {
    auto it = std::find_if(key.dimensions.begin(), key.dimensions.end(),
                           [&f](const auto& d) { return d.first == f.name(); });
    if (it == key.dimensions.end()) return false;
    if (!f.value().empty() && it->second != f.value()) return false;
  }
  return true;
}

}  // namespace

std::vector<std::string> MetricStore::ColumnFamilies() {
  return {storage::kSeriesCf, storage::kSamplesCf};
}

MetricStore::MetricStore(Db* db, Clock* clock, MetricStoreOptions options)
    : db_(db),
      clock_(clock),
      options_(std::move(options)),
      series_cf_(db->cf(storage::kSeriesCf)),
      samples_cf_(db->cf(storage::kSamplesCf)) {}

absl::StatusOr<std::unique_ptr<MetricStore>> MetricStore::Open(Db* db, Clock* clock,
                                                               MetricStoreOptions options) {
  std::unique_ptr<MetricStore> store(new MetricStore(db, clock, std::move(options)));
  TT_RETURN_IF_ERROR(store->Load());
  return store;
}

absl::Status MetricStore::Load() {
  absl::MutexLock wl(&write_mu_);
  absl::MutexLock l(&mu_);
  auto it = db_->Scan(series_cf_, "");
  for (; it->Valid(); it->Next()) {
    auto id = storage::ParseSeriesKey(it->suffix());
    v1::Metric metric;
    if (!id || !metric.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return absl::DataLossError("cloudwatch: unreadable series record");
    }
    auto series = std::make_unique<Series>();
    series->id = *id;
    series->key = MetricKey::From(metric.namespace_(), metric.metric_name(), metric.dimensions());
    by_id_[*id] = series.get();
    by_key_[series->key] = series.get();
    series_[series->key] = std::move(series);
    next_series_id_ = std::max(next_series_id_, *id + 1);
  }
  TT_RETURN_IF_ERROR(it->status());
  auto samples = db_->Scan(samples_cf_, "");
  storage::SampleRecord record;
  for (; samples->Valid(); samples->Next()) {
    auto key = storage::ParseSampleKey(samples->suffix());
    if (!key || !record.ParseFromArray(samples->value().data(),
                                       static_cast<int>(samples->value().size()))) {
      return absl::DataLossError("cloudwatch: unreadable sample record");
    }
    auto series = by_id_.find(key->series_id);
    if (series == by_id_.end()) {
      return absl::DataLossError("cloudwatch: a sample of an unknown series");
    }
    series->second->samples.push_back(FromRecord(key->time_ms, key->seq, record));
    ++sample_count_;
    next_seq_ = std::max(next_seq_, key->seq + 1);
  }
  return samples->status();
}

absl::StatusOr<v1::PutMetricDataResponse> MetricStore::PutMetricData(
    const v1::PutMetricDataRequest& request) {
  TT_RETURN_IF_ERROR(Put(request, /*allow_aws_namespace=*/false));
  return v1::PutMetricDataResponse();
}

absl::Status MetricStore::PutInternal(const v1::PutMetricDataRequest& request) {
  return Put(request, /*allow_aws_namespace=*/true);
}

absl::StatusOr<v1::PublishServiceMetricsResponse> MetricStore::PublishServiceMetrics(
    const v1::PublishServiceMetricsRequest& request) {
  if (request.namespace_().rfind("AWS/", 0) != 0) {
    return InvalidField("namespace",
                        "PublishServiceMetrics takes AWS/ namespaces (ThingTank's services); "
                        "use PutMetricData for others");
  }
  v1::PutMetricDataRequest put;
  put.set_namespace_(request.namespace_());
  *put.mutable_metric_data() = request.metric_data();
  TT_RETURN_IF_ERROR(PutInternal(put));
  return v1::PublishServiceMetricsResponse();
}

absl::Status MetricStore::Put(const v1::PutMetricDataRequest& request, bool allow_aws_namespace) {
  const absl::Time now = clock_->Now();
  TT_RETURN_IF_ERROR(ValidatePutMetricData(request, now, allow_aws_namespace));
  const int n = request.metric_data_size();
  std::vector<MetricKey> keys;
  std::vector<Sample> samples;
  std::vector<std::string> records;
  keys.reserve(n);
  samples.reserve(n);
  records.reserve(n);
  for (const auto& d : request.metric_data()) {
    keys.push_back(MetricKey::From(request.namespace_(), d.metric_name(), d.dimensions()));
    const int64_t t = ToMs(d.has_timestamp() ? FromProto(d.timestamp()) : now);
    storage::SampleRecord record = ToRecord(d);
    Sample s = FromRecord(t, 0, record);
    samples.push_back(std::move(s));
    records.push_back(record.SerializeAsString());
  }

  absl::MutexLock wl(&write_mu_);
  rocksdb::WriteBatch batch;
  std::vector<Series*> targets(n, nullptr);
  std::map<MetricKey, std::unique_ptr<Series>> created;
  {
    absl::ReaderMutexLock l(&mu_);
    for (int i = 0; i < n; ++i) {
      auto it = by_key_.find(keys[i]);
      if (it != by_key_.end()) {
        targets[i] = it->second;
        continue;
      }
      auto& fresh = created[keys[i]];
      if (!fresh) {
        fresh = std::make_unique<Series>();
        fresh->id = next_series_id_++;
        fresh->key = keys[i];
        const std::string record = fresh->key.ToProto().SerializeAsString();
        batch.Put(series_cf_, storage::SeriesKey(fresh->id), record);
      }
      targets[i] = fresh.get();
    }
  }
  for (int i = 0; i < n; ++i) {
    samples[i].seq = next_seq_++;
    batch.Put(samples_cf_, storage::SampleKey(targets[i]->id, samples[i].time_ms, samples[i].seq),
              records[i]);
  }
  TT_RETURN_IF_ERROR(db_->Write(&batch));

  absl::MutexLock l(&mu_);
  for (auto& [key, series] : created) {
    by_id_[series->id] = series.get();
    by_key_[key] = series.get();
    series_[key] = std::move(series);
  }
  for (int i = 0; i < n; ++i) Insert(&targets[i]->samples, std::move(samples[i]));
  sample_count_ += n;
  return absl::OkStatus();
}

const MetricStore::Series* MetricStore::Find(const MetricKey& key) const {
  auto it = by_key_.find(key);
  return it == by_key_.end() ? nullptr : it->second;
}

int64_t MetricStore::EarliestPeriodMs(int64_t start_ms, absl::Duration period) const {
  if (period >= absl::Seconds(60)) return start_ms;
  const int64_t period_ms = ToMs(period);
  return std::max(start_ms,
                  AlignUpMs(ToMs(clock_->Now() - options_.high_resolution_retention), period_ms));
}

void MetricStore::Aggregate(const Series& series, int64_t from_ms, int64_t to_ms,
                            int64_t period_ms, std::optional<int> unit, bool split_units,
                            bool keep_distribution, AggregateFn fn) const {
  if (from_ms >= to_ms) return;
  // A sample counts in the period holding its time (its minute's start for
  // standard resolution), so samples up to a minute past the last period's
  // end may still count in it.
  const int64_t raw_end = AlignUpMs(to_ms, period_ms) + kMinuteMs;
  std::map<std::pair<int64_t, int>, Accumulator> periods;
  for (auto it = FirstAtOrAfter(series.samples, from_ms);
       it != series.samples.end() && it->time_ms < raw_end; ++it) {
    if (unit && it->unit != *unit) continue;
    const int64_t start = PeriodStartMs(*it, period_ms);
    if (start < from_ms || start >= to_ms) continue;
    const std::pair<int64_t, int> key(start, split_units ? it->unit : unit.value_or(kUnitNone));
    periods.try_emplace(key, keep_distribution).first->second.Add(*it);
  }
  for (auto& [key, acc] : periods) fn(key.first, key.second, acc);
}

absl::StatusOr<v1::GetMetricStatisticsResponse> MetricStore::GetMetricStatistics(
    const v1::GetMetricStatisticsRequest& request) const {
  TT_ASSIGN_OR_RETURN(StatisticsQuery q, ValidateGetMetricStatistics(request));
  v1::GetMetricStatisticsResponse response;
  response.set_label(request.metric_name());
  std::vector<Stat> stats;
  for (v1::Statistic s : q.statistics) stats.push_back(Stat::Of(s));
  absl::ReaderMutexLock l(&mu_);
  const Series* series = Find(q.metric);
  if (series == nullptr) return response;
  Aggregate(*series, EarliestPeriodMs(ToMs(q.start), q.period), ToMs(q.end), ToMs(q.period),
            q.unit, /*split_units=*/!q.unit.has_value(), !q.extended.empty(),
            [&](int64_t start_ms, int unit, Accumulator& acc) {
              v1::Datapoint* dp = response.add_datapoints();
              *dp->mutable_timestamp() = ToProto(absl::FromUnixMillis(start_ms));
              dp->set_unit(UnitName(unit));
              for (size_t i = 0; i < stats.size(); ++i) {
                const std::optional<double> v = acc.Value(stats[i]);
                if (!v) continue;
                switch (q.statistics[i]) {
                  case v1::STATISTIC_SAMPLE_COUNT: dp->set_sample_count(*v); break;
                  case v1::STATISTIC_AVERAGE: dp->set_average(*v); break;
                  case v1::STATISTIC_SUM: dp->set_sum(*v); break;
                  case v1::STATISTIC_MINIMUM: dp->set_minimum(*v); break;
                  case v1::STATISTIC_MAXIMUM: dp->set_maximum(*v); break;
                  default: break;
                }
              }
              for (const Stat& p : q.extended) {
                if (auto v = acc.Value(p)) (*dp->mutable_extended_statistics())[p.name] = *v;
              }
            });
  return response;
}

absl::StatusOr<v1::GetMetricDataResponse> MetricStore::GetMetricData(
    const v1::GetMetricDataRequest& request) const {
  TT_ASSIGN_OR_RETURN(DataRequest r, ValidateGetMetricData(request));
  v1::GetMetricDataResponse response;
  int64_t budget = r.max_datapoints;
  absl::ReaderMutexLock l(&mu_);
  for (const DataQuery& q : r.queries) {
    v1::MetricDataResult* result = response.add_metric_data_results();
    result->set_id(q.id);
    result->set_label(q.label);
    result->set_status_code("Complete");
    const Series* series = Find(q.metric);
    if (series == nullptr) continue;
    std::vector<std::pair<int64_t, double>> points;
    const bool percentile = q.stat.kind == Stat::Kind::kPercentile;
    Aggregate(*series, EarliestPeriodMs(ToMs(AlignDown(r.start, q.period)), q.period),
              ToMs(r.end), ToMs(q.period), q.unit, /*split_units=*/false, percentile,
              [&](int64_t start_ms, int, Accumulator& acc) {
                if (auto v = acc.Value(q.stat)) points.emplace_back(start_ms, *v);
              });
    if (r.descending) std::reverse(points.begin(), points.end());
    if (static_cast<int64_t>(points.size()) > budget) {
      points.resize(static_cast<size_t>(budget));
      result->set_status_code("PartialData");
    }
    budget -= static_cast<int64_t>(points.size());
    for (const auto& [t, v] : points) {
      *result->add_timestamps() = ToProto(absl::FromUnixMillis(t));
      result->add_values(v);
    }
  }
  return response;
}

absl::StatusOr<v1::ListMetricsResponse> MetricStore::ListMetrics(
    const v1::ListMetricsRequest& request) const {
  TT_RETURN_IF_ERROR(ValidateListMetrics(request));
  std::optional<MetricKey> after;
  if (!request.next_token().empty()) {
    std::string bytes;
    if (absl::WebSafeBase64Unescape(request.next_token(), &bytes)) {
      after = storage::DecodeMetricKey(bytes);
    }
    if (!after) return InvalidField("next_token", "not a token of ListMetrics", "InvalidNextToken");
  }
  const int64_t active_ms = ToMs(clock_->Now() - options_.recently_active);
  v1::ListMetricsResponse response;
  absl::ReaderMutexLock l(&mu_);
  auto it = series_.begin();
  if (after) {
    it = series_.upper_bound(*after);
  } else if (!request.namespace_().empty()) {
    it = series_.lower_bound(MetricKey{request.namespace_(), "", {}});
  }
  const MetricKey* last = nullptr;
  for (; it != series_.end(); ++it) {
    const Series& s = *it->second;
    if (!request.namespace_().empty() && s.key.ns > request.namespace_()) break;
    if (s.samples.empty() || !MatchesFilters(s.key, request)) continue;
    if (request.recently_active() && s.samples.back().time_ms < active_ms) continue;
    if (response.metrics_size() == options_.list_page_size) {
      response.set_next_token(absl::WebSafeBase64Escape(storage::EncodeMetricKey(*last)));
      break;
    }
    *response.add_metrics() = s.key.ToProto();
    last = &s.key;
  }
  return response;
}

std::vector<std::optional<double>> MetricStore::PeriodValues(const MetricKey& metric,
                                                             const Stat& stat,
                                                             std::optional<int> unit,
                                                             absl::Duration period,
                                                             absl::Time end,
                                                             int periods) const {
  std::vector<std::optional<double>> out(static_cast<size_t>(std::max(periods, 0)));
  if (periods <= 0) return out;
  const int64_t period_ms = ToMs(period);
  const int64_t end_ms = ToMs(end);
  const int64_t from_ms = end_ms - period_ms * periods;
  const int64_t earliest = EarliestPeriodMs(from_ms, period);
  // The hot path of alarm evaluation: one accumulator per period, no map.
  std::vector<std::optional<Accumulator>> acc(out.size());
  absl::ReaderMutexLock l(&mu_);
  const Series* series = Find(metric);
  if (series == nullptr) return out;
  const bool percentile = stat.kind == Stat::Kind::kPercentile;
  for (auto it = FirstAtOrAfter(series->samples, earliest);
       it != series->samples.end() && it->time_ms < end_ms + kMinuteMs; ++it) {
    if (unit && it->unit != *unit) continue;
    const int64_t start = PeriodStartMs(*it, period_ms);
    if (start < earliest || start >= end_ms) continue;
    auto& a = acc[static_cast<size_t>((start - from_ms) / period_ms)];
    if (!a) a.emplace(percentile);
    a->Add(*it);
  }
  for (size_t i = 0; i < acc.size(); ++i) {
    if (acc[i]) out[i] = acc[i]->Value(stat);
  }
  return out;
}

absl::Status MetricStore::TrimExpired(absl::Time now) {
  const int64_t cutoff = ToMs(now - options_.retention);
  absl::MutexLock wl(&write_mu_);
  rocksdb::WriteBatch batch;
  std::vector<Series*> trimmed;
  {
    absl::ReaderMutexLock l(&mu_);
    for (const auto& [key, series] : series_) {
      if (!series->samples.empty() && series->samples.front().time_ms >= cutoff) continue;
      trimmed.push_back(series.get());
      batch.DeleteRange(samples_cf_,
                        storage::SampleKey(series->id, std::numeric_limits<int64_t>::min(), 0),
                        storage::SampleKey(series->id, cutoff, 0));
      if (series->samples.empty() || series->samples.back().time_ms < cutoff) {
        batch.Delete(series_cf_, storage::SeriesKey(series->id));
      }
    }
  }
  if (trimmed.empty()) return absl::OkStatus();
  TT_RETURN_IF_ERROR(db_->Write(&batch));
  absl::MutexLock l(&mu_);
  for (Series* s : trimmed) {
    auto keep = FirstAtOrAfter(s->samples, cutoff);
    sample_count_ -= static_cast<size_t>(keep - s->samples.cbegin());
    s->samples.erase(s->samples.cbegin(), keep);
    if (s->samples.empty()) {
      const MetricKey key = s->key;
      by_id_.erase(s->id);
      by_key_.erase(key);
      series_.erase(key);  // destroys *s
    }
  }
  return absl::OkStatus();
}

size_t MetricStore::series_count() const {
  absl::ReaderMutexLock l(&mu_);
  return series_.size();
}

size_t MetricStore::sample_count() const {
  absl::ReaderMutexLock l(&mu_);
  return sample_count_;
}

}  // namespace thingtank::compute
