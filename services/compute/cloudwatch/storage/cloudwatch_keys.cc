#include "services/compute/cloudwatch/storage/cloudwatch_keys.h"

#include "services/common/storage/key_codec.h"

namespace thingtank::compute::storage {

std::string SeriesKey(uint64_t series_id) {
  std::string k;
  keys::AppendUint64(&k, series_id);
  return k;
}

std::optional<uint64_t> ParseSeriesKey(std::string_view key) {
  auto id = keys::ConsumeUint64(&key);
  if (!id || !key.empty()) return std::nullopt;
  return id;
}

std::string SampleKey(uint64_t series_id, int64_t time_ms, uint64_t seq) {
  std::string k;
  k.reserve(24);
  keys::AppendUint64(&k, series_id);
  keys::AppendInt64(&k, time_ms);
  keys::AppendUint64(&k, seq);
  return k;
}

std::optional<SampleKeyParts> ParseSampleKey(std::string_view key) {
  auto id = keys::ConsumeUint64(&key);
  auto time = keys::ConsumeInt64(&key);
  auto seq = keys::ConsumeUint64(&key);
  if (!id || !time || !seq || !key.empty()) return std::nullopt;
  return SampleKeyParts{*id, *time, *seq};
}

std::string AlarmKey(std::string_view name) {
  std::string k;
  keys::AppendResource(&k, name);
  return k;
}

std::string HistoryKey(int64_t time_micros, uint64_t seq) {
  std::string k;
  keys::AppendInt64(&k, time_micros);
  keys::AppendUint64(&k, seq);
  return k;
}

std::optional<std::pair<int64_t, uint64_t>> ParseHistoryKey(std::string_view key) {
  auto time = keys::ConsumeInt64(&key);
  auto seq = keys::ConsumeUint64(&key);
  if (!time || !seq || !key.empty()) return std::nullopt;
  return std::make_pair(*time, *seq);
}

std::string EncodeMetricKey(const MetricKey& key) {
  std::string out;
  keys::AppendResource(&out, key.ns);
  keys::AppendResource(&out, key.name);
  for (const auto& [n, v] : key.dimensions) {
    keys::AppendResource(&out, n);
    keys::AppendResource(&out, v);
  }
  return out;
}

std::optional<MetricKey> DecodeMetricKey(std::string_view bytes) {
  MetricKey key;
  auto ns = keys::ConsumeResource(&bytes);
  auto name = keys::ConsumeResource(&bytes);
  if (!ns || !name) return std::nullopt;
  key.ns = std::string(*ns);
  key.name = std::string(*name);
  while (!bytes.empty()) {
    auto n = keys::ConsumeResource(&bytes);
    auto v = keys::ConsumeResource(&bytes);
    if (!n || !v) return std::nullopt;
    key.dimensions.emplace_back(std::string(*n), std::string(*v));
  }
  return key;
}

}  // namespace thingtank::compute::storage
