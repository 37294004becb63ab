#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "services/compute/cloudwatch/metric_types.h"

// Key layout of the CloudWatch column families (order-preserving encodings of
// services/common/storage/key_codec.h):
//   cloudwatch_series         series id (u64)                  -> v1::Metric
//   cloudwatch_samples        series id, time ms (i64), seq    -> SampleRecord
//   cloudwatch_alarms         alarm name (length-prefixed)     -> AlarmRecord
//   cloudwatch_alarm_history  time us (i64), seq (u64)         -> v1::AlarmHistoryItem
// The series id is the resource prefix of every sample key: one series'
// samples are contiguous and in time order, so retention is one range delete.
namespace thingtank::compute::storage {

inline constexpr char kSeriesCf[] = "cloudwatch_series";
inline constexpr char kSamplesCf[] = "cloudwatch_samples";
inline constexpr char kAlarmsCf[] = "cloudwatch_alarms";
inline constexpr char kHistoryCf[] = "cloudwatch_alarm_history";

std::string SeriesKey(uint64_t series_id);
std::optional<uint64_t> ParseSeriesKey(std::string_view key);

std::string SampleKey(uint64_t series_id, int64_t time_ms, uint64_t seq);
struct SampleKeyParts {
  uint64_t series_id;
  int64_t time_ms;
  uint64_t seq;
};
std::optional<SampleKeyParts> ParseSampleKey(std::string_view key);

std::string AlarmKey(std::string_view name);

std::string HistoryKey(int64_t time_micros, uint64_t seq);
std::optional<std::pair<int64_t, uint64_t>> ParseHistoryKey(std::string_view key);

// A metric as bytes (namespace, name, dimension pairs, each length-prefixed):
// the position in a ListMetrics page token.
std::string EncodeMetricKey(const MetricKey& key);
std::optional<MetricKey> DecodeMetricKey(std::string_view bytes);

}  // namespace thingtank::compute::storage
