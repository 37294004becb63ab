#include "services/compute/cloudwatch/metric_validation.h"

#include <cctype>
#include <cmath>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "services/common/status.h"
#include "services/compute/proto_time.h"

namespace thingtank::compute {
namespace {

constexpr char kMissing[] = "MissingParameter";
constexpr char kCombination[] = "InvalidParameterCombination";

std::string At(const std::string& field, int i) { return absl::StrCat(field, "[", i, "]"); }
std::string Sub(const std::string& field, absl::string_view name) {
  return absl::StrCat(field, ".", name);
}

absl::Status ValidateLength(const std::string& s, size_t max, const std::string& field,
                            absl::string_view what) {
  if (s.empty()) return InvalidField(field, absl::StrCat(what, " is required"), kMissing);
  if (s.size() > max) {
    return InvalidField(field, absl::StrCat(what, " has at most ", max, " characters"));
  }
  return absl::OkStatus();
}

absl::StatusOr<absl::Time> ValidateTimestamp(const google::protobuf::Timestamp& t,
                                             const std::string& field) {
  if (t.nanos() < 0 || t.nanos() > 999'999'999) {
    return InvalidField(field, "nanos must be 0 to 999,999,999");
  }
  return FromProto(t);
}

// Start and end both given, start before end.
absl::Status ValidateTimeRange(bool has_start, const google::protobuf::Timestamp& start,
                               bool has_end, const google::protobuf::Timestamp& end,
                               absl::Time* start_out, absl::Time* end_out) {
  if (!has_start) return InvalidField("start_time", "start_time is required", kMissing);
  if (!has_end) return InvalidField("end_time", "end_time is required", kMissing);
  TT_ASSIGN_OR_RETURN(*start_out, ValidateTimestamp(start, "start_time"));
  TT_ASSIGN_OR_RETURN(*end_out, ValidateTimestamp(end, "end_time"));
  if (*start_out >= *end_out) {
    return InvalidField("start_time", "start_time must be before end_time");
  }
  return absl::OkStatus();
}

bool ValidQueryId(const std::string& id) {
  if (id.empty() || id.size() > kMaxNameLength || !(id[0] >= 'a' && id[0] <= 'z')) return false;
  for (char c : id) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) return false;
  }
  return true;
}

absl::Status ValidateDatum(const v1::MetricDatum& d, const std::string& field, absl::Time now) {
  TT_RETURN_IF_ERROR(ValidateMetricName(d.metric_name(), Sub(field, "metric_name")));
  TT_RETURN_IF_ERROR(ValidateDimensions(d.dimensions(), Sub(field, "dimensions")));

  const bool has_value = d.has_value();
  const bool has_set = d.has_statistic_values();
  const bool has_values = d.values_size() > 0;
  if (!has_value && !has_set && !has_values) {
    return InvalidField(Sub(field, "value"),
                        "one of value, statistic_values or values is required", kMissing);
  }
  if (has_value + has_set + has_values > 1) {
    return InvalidField(Sub(field, has_value && has_set ? "statistic_values" : "values"),
                        "value, statistic_values and values are mutually exclusive",
                        kCombination);
  }
  if (has_value) TT_RETURN_IF_ERROR(ValidateValue(d.value(), Sub(field, "value")));
  if (has_set) {
    const auto& s = d.statistic_values();
    const std::string sf = Sub(field, "statistic_values");
    TT_RETURN_IF_ERROR(ValidateValue(s.sample_count(), Sub(sf, "sample_count")));
    if (s.sample_count() <= 0) {
      return InvalidField(Sub(sf, "sample_count"), "sample_count must be greater than 0");
    }
    TT_RETURN_IF_ERROR(ValidateValue(s.sum(), Sub(sf, "sum")));
    TT_RETURN_IF_ERROR(ValidateValue(s.minimum(), Sub(sf, "minimum")));
    TT_RETURN_IF_ERROR(ValidateValue(s.maximum(), Sub(sf, "maximum")));
    if (s.minimum() > s.maximum()) {
      return InvalidField(Sub(sf, "minimum"), "minimum must not exceed maximum");
    }
  }
  if (d.values_size() > kMaxValuesPerDatum) {
    return InvalidField(Sub(field, "values"),
                        absl::StrCat("at most ", kMaxValuesPerDatum, " values per datum"));
  }
  for (int i = 0; i < d.values_size(); ++i) {
    TT_RETURN_IF_ERROR(ValidateValue(d.values(i), At(Sub(field, "values"), i)));
  }
  if (d.counts_size() > 0 && !has_values) {
    return InvalidField(Sub(field, "counts"), "counts are only allowed with values",
                        kCombination);
  }
  if (d.counts_size() > 0 && d.counts_size() != d.values_size()) {
    return InvalidField(Sub(field, "counts"), "counts must have as many entries as values",
                        kCombination);
  }
  for (int i = 0; i < d.counts_size(); ++i) {
    const std::string cf = At(Sub(field, "counts"), i);
    TT_RETURN_IF_ERROR(ValidateValue(d.counts(i), cf));
    if (d.counts(i) < 0) return InvalidField(cf, "counts must not be negative");
  }
  TT_RETURN_IF_ERROR(ValidateUnit(d.unit(), Sub(field, "unit")).status());
  if (d.storage_resolution() != 0 && d.storage_resolution() != 1 &&
      d.storage_resolution() != 60) {
    return InvalidField(Sub(field, "storage_resolution"), "storage_resolution must be 1 or 60");
  }
  if (d.has_timestamp()) {
    const std::string tf = Sub(field, "timestamp");
    TT_ASSIGN_OR_RETURN(absl::Time t, ValidateTimestamp(d.timestamp(), tf));
    if (t < now - kMaxPastTimestamp) {
      return InvalidField(tf, "the timestamp must be no more than two weeks in the past");
    }
    if (t > now + kMaxFutureTimestamp) {
      return InvalidField(tf, "the timestamp must be no more than two hours in the future");
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateNamespace(const std::string& ns, const std::string& field,
                               bool allow_aws_prefix) {
  TT_RETURN_IF_ERROR(ValidateLength(ns, kMaxNameLength, field, "namespace"));
  for (char c : ns) {
    if (c < 0x20 || c > 0x7e) {
      return InvalidField(field, "namespaces use printable ASCII characters");
    }
  }
  if (!allow_aws_prefix && absl::StartsWith(ns, "AWS/")) {
    return InvalidField(field, "the namespace prefix \"AWS/\" is reserved for AWS services");
  }
  return absl::OkStatus();
}

absl::Status ValidateMetricName(const std::string& name, const std::string& field) {
  return ValidateLength(name, kMaxNameLength, field, "metric_name");
}

absl::Status ValidateDimensions(const google::protobuf::RepeatedPtrField<v1::Dimension>& dims,
                                const std::string& field) {
  if (dims.size() > kMaxDimensions) {
    return InvalidField(field, absl::StrCat("at most ", kMaxDimensions, " dimensions"));
  }
  for (int i = 0; i < dims.size(); ++i) {
    const std::string df = At(field, i);
    TT_RETURN_IF_ERROR(ValidateLength(dims[i].name(), kMaxNameLength, Sub(df, "name"),
                                      "the dimension name"));
    TT_RETURN_IF_ERROR(ValidateLength(dims[i].value(), kMaxDimensionValueLength,
                                      Sub(df, "value"), "the dimension value"));
    for (int j = 0; j < i; ++j) {
      if (dims[j].name() == dims[i].name()) {
        return InvalidField(Sub(df, "name"),
                            absl::StrCat("dimension \"", dims[i].name(), "\" is given twice"));
      }
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateValue(double value, const std::string& field) {
  static const double kLimit = std::ldexp(1.0, 360);
  if (!std::isfinite(value)) {
    return InvalidField(field, "NaN and infinite values are not supported");
  }
  if (std::fabs(value) > kLimit) {
    return InvalidField(field, "values must be between -2^360 and 2^360");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<int>> ValidateUnit(const std::string& unit,
                                                const std::string& field) {
  if (unit.empty()) return std::optional<int>();
  auto index = UnitIndex(unit);
  if (!index) {
    return InvalidField(field, absl::StrCat("\"", unit, "\" is not a CloudWatch unit"));
  }
  return std::optional<int>(*index);
}

absl::Status ValidateQueryPeriod(int32_t period, const std::string& field) {
  if (period == 0) return InvalidField(field, "period is required", kMissing);
  const bool ok = period == 1 || period == 5 || period == 10 || period == 30 ||
                  (period > 0 && period % 60 == 0 && period <= 86'400);
  if (!ok) {
    return InvalidField(field,
                        "period must be 1, 5, 10, 30 or a multiple of 60, up to 86,400 seconds");
  }
  return absl::OkStatus();
}

absl::StatusOr<Stat> ValidatePercentile(const std::string& name, const std::string& field) {
  auto stat = ParsePercentile(name);
  if (!stat) return InvalidField(field, absl::StrCat("\"", name, "\" is not p0 to p100"));
  return *stat;
}

absl::Status ValidatePutMetricData(const v1::PutMetricDataRequest& request, absl::Time now,
                                   bool allow_aws_namespace) {
  TT_RETURN_IF_ERROR(ValidateNamespace(request.namespace_(), "namespace", allow_aws_namespace));
  if (request.metric_data_size() == 0) {
    return InvalidField("metric_data", "metric_data is required", kMissing);
  }
  if (request.metric_data_size() > kMaxDatumsPerPut) {
    return InvalidField("metric_data",
                        absl::StrCat("at most ", kMaxDatumsPerPut, " data points per call"));
  }
  for (int i = 0; i < request.metric_data_size(); ++i) {
    TT_RETURN_IF_ERROR(ValidateDatum(request.metric_data(i), At("metric_data", i), now));
  }
  return absl::OkStatus();
}

absl::Time AlignDown(absl::Time t, absl::Duration period) {
  return absl::UnixEpoch() + absl::Floor(t - absl::UnixEpoch(), period);
}

absl::StatusOr<StatisticsQuery> ValidateGetMetricStatistics(
    const v1::GetMetricStatisticsRequest& request) {
  StatisticsQuery q;
  TT_RETURN_IF_ERROR(ValidateNamespace(request.namespace_(), "namespace", true));
  TT_RETURN_IF_ERROR(ValidateMetricName(request.metric_name(), "metric_name"));
  TT_RETURN_IF_ERROR(ValidateDimensions(request.dimensions(), "dimensions"));
  q.metric = MetricKey::From(request.namespace_(), request.metric_name(), request.dimensions());
  TT_RETURN_IF_ERROR(ValidateTimeRange(request.has_start_time(), request.start_time(),
                                       request.has_end_time(), request.end_time(), &q.start,
                                       &q.end));
  TT_RETURN_IF_ERROR(ValidateQueryPeriod(request.period(), "period"));
  q.period = absl::Seconds(request.period());
  q.start = AlignDown(q.start, q.period);

  if (request.statistics_size() == 0 && request.extended_statistics_size() == 0) {
    return InvalidField("statistics", "statistics or extended_statistics is required", kMissing);
  }
  if (request.statistics_size() > 0 && request.extended_statistics_size() > 0) {
    return InvalidField("extended_statistics",
                        "give either statistics or extended_statistics, not both", kCombination);
  }
  std::set<int> seen;
  for (int i = 0; i < request.statistics_size(); ++i) {
    const v1::Statistic s = request.statistics(i);
    if (StatisticName(s).empty()) {
      return InvalidField(At("statistics", i), "unknown statistic");
    }
    if (seen.insert(s).second) q.statistics.push_back(s);
  }
  if (request.extended_statistics_size() > kMaxExtendedStatistics) {
    return InvalidField("extended_statistics",
                        absl::StrCat("at most ", kMaxExtendedStatistics, " extended statistics"));
  }
  for (int i = 0; i < request.extended_statistics_size(); ++i) {
    TT_ASSIGN_OR_RETURN(Stat p, ValidatePercentile(request.extended_statistics(i),
                                                   At("extended_statistics", i)));
    q.extended.push_back(std::move(p));
  }
  TT_ASSIGN_OR_RETURN(q.unit, ValidateUnit(request.unit(), "unit"));

  const int64_t span_ms = absl::ToInt64Milliseconds(q.end - q.start);
  const int64_t period_ms = int64_t{request.period()} * 1000;
  const int64_t periods = (span_ms + period_ms - 1) / period_ms;
  if (periods > kMaxStatisticsDatapoints) {
    return InvalidField("period",
                        absl::StrCat("the request asks for up to ", periods,
                                     " datapoints, more than the limit of 1,440"),
                        kCombination);
  }
  return q;
}

absl::StatusOr<DataRequest> ValidateGetMetricData(const v1::GetMetricDataRequest& request) {
  DataRequest r;
  if (request.metric_data_queries_size() == 0) {
    return InvalidField("metric_data_queries", "metric_data_queries is required", kMissing);
  }
  if (request.metric_data_queries_size() > kMaxDataQueries) {
    return InvalidField("metric_data_queries",
                        absl::StrCat("at most ", kMaxDataQueries, " queries"));
  }
  TT_RETURN_IF_ERROR(ValidateTimeRange(request.has_start_time(), request.start_time(),
                                       request.has_end_time(), request.end_time(), &r.start,
                                       &r.end));
  r.descending = !request.has_scan_by_timestamp_descending() ||
                 request.scan_by_timestamp_descending();
  if (request.max_datapoints() < 0) {
    return InvalidField("max_datapoints", "max_datapoints must not be negative");
  }
  if (request.max_datapoints() > 0) r.max_datapoints = request.max_datapoints();
  std::set<std::string> ids;
  for (int i = 0; i < request.metric_data_queries_size(); ++i) {
    const auto& in = request.metric_data_queries(i);
    const std::string f = At("metric_data_queries", i);
    if (in.id().empty()) return InvalidField(Sub(f, "id"), "id is required", kMissing);
    if (!ValidQueryId(in.id())) {
      return InvalidField(Sub(f, "id"),
                          "ids start with a lowercase letter and use letters, digits and '_'");
    }
    if (!ids.insert(in.id()).second) {
      return InvalidField(Sub(f, "id"), absl::StrCat("id \"", in.id(), "\" is used twice"));
    }
    if (!in.has_metric_stat()) {
      return InvalidField(Sub(f, "metric_stat"), "metric_stat is required", kMissing);
    }
    const auto& ms = in.metric_stat();
    const std::string mf = Sub(f, "metric_stat");
    const std::string mm = Sub(mf, "metric");
    TT_RETURN_IF_ERROR(ValidateNamespace(ms.metric().namespace_(), Sub(mm, "namespace"), true));
    TT_RETURN_IF_ERROR(ValidateMetricName(ms.metric().metric_name(), Sub(mm, "metric_name")));
    TT_RETURN_IF_ERROR(ValidateDimensions(ms.metric().dimensions(), Sub(mm, "dimensions")));
    TT_RETURN_IF_ERROR(ValidateQueryPeriod(ms.period(), Sub(mf, "period")));
    if (ms.stat().empty()) return InvalidField(Sub(mf, "stat"), "stat is required", kMissing);
    auto stat = ParseStat(ms.stat());
    if (!stat) {
      return InvalidField(Sub(mf, "stat"), absl::StrCat("\"", ms.stat(), "\" is not a statistic"));
    }
    DataQuery q;
    q.id = in.id();
    q.label = in.label().empty() ? ms.metric().metric_name() : in.label();
    q.metric = MetricKey::From(ms.metric().namespace_(), ms.metric().metric_name(),
                               ms.metric().dimensions());
    q.stat = *std::move(stat);
    q.period = absl::Seconds(ms.period());
    TT_ASSIGN_OR_RETURN(q.unit, ValidateUnit(ms.unit(), Sub(mf, "unit")));
    r.queries.push_back(std::move(q));
  }
  return r;
}

absl::Status ValidateListMetrics(const v1::ListMetricsRequest& request) {
  if (!request.namespace_().empty()) {
    TT_RETURN_IF_ERROR(ValidateNamespace(request.namespace_(), "namespace", true));
  }
  if (!request.metric_name().empty()) {
    TT_RETURN_IF_ERROR(ValidateMetricName(request.metric_name(), "metric_name"));
  }
  if (request.dimensions_size() > kMaxDimensionFilters) {
    return InvalidField("dimensions",
                        absl::StrCat("at most ", kMaxDimensionFilters, " dimension filters"));
  }
  for (int i = 0; i < request.dimensions_size(); ++i) {
    const auto& d = request.dimensions(i);
    const std::string df = At("dimensions", i);
    TT_RETURN_IF_ERROR(
        ValidateLength(d.name(), kMaxNameLength, Sub(df, "name"), "the dimension name"));
    if (d.value().size() > kMaxDimensionValueLength) {
      return InvalidField(Sub(df, "value"), "the dimension value has at most 1024 characters");
    }
  }
  return absl::OkStatus();
}

}  // namespace thingtank::compute
