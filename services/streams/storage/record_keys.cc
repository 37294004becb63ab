#include "services/streams/storage/record_keys.h"

#include "absl/time/time.h"
#include "services/common/storage/key_codec.h"

namespace thingtank::streams::storage {

std::string StreamPrefix(uint64_t stream_id) {
  std::string out;
  keys::AppendUint64(&out, stream_id);
  return out;
}

std::string ShardPrefix(uint64_t stream_id, uint64_t shard_index) {
  std::string out = StreamPrefix(stream_id);
  keys::AppendUint64(&out, shard_index);
  return out;
}

std::string PositionSuffix(const Position& p) {
  std::string out;
  keys::AppendUint64(&out, static_cast<uint64_t>(p.arrival_micros));
  keys::AppendUint64(&out, p.counter);
  return out;
}

std::optional<Position> ParsePositionSuffix(std::string_view suffix) {
  std::optional<uint64_t> arrival = keys::ConsumeUint64(&suffix);
  std::optional<uint64_t> counter = keys::ConsumeUint64(&suffix);
  if (!arrival || !counter || !suffix.empty()) return std::nullopt;
  return Position{static_cast<int64_t>(*arrival), *counter};
}

std::string RecordKey(uint64_t stream_id, const SequenceNumber& n) {
  return ShardPrefix(stream_id, n.shard_index) +
         PositionSuffix({absl::ToUnixMicros(n.arrival), n.counter});
}

std::string RecordValue(std::string_view partition_key, std::string_view data) {
  std::string out;
  out.reserve(partition_key.size() + data.size() + 2);
  uint64_t n = partition_key.size();
  while (n >= 0x80) {
    out.push_back(static_cast<char>((n & 0x7f) | 0x80));
    n >>= 7;
  }
  out.push_back(static_cast<char>(n));
  out.append(partition_key);
  out.append(data);
  return out;
}

std::optional<RecordParts> ParseRecordValue(std::string_view value) {
  uint64_t n = 0;
  int shift = 0;
  size_t i = 0;
  while (true) {
    if (i >= value.size() || shift > 28) return std::nullopt;
    const auto byte = static_cast<uint8_t>(value[i++]);
    n |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) break;
    shift += 7;
  }
  if (value.size() - i < n) return std::nullopt;
  return RecordParts{value.substr(i, n), value.substr(i + n)};
}

std::optional<SequenceNumber> SequenceAt(uint64_t shard_index, std::string_view suffix) {
  std::optional<Position> p = ParsePositionSuffix(suffix);
  if (!p) return std::nullopt;
  return SequenceNumber{absl::FromUnixMicros(p->arrival_micros), shard_index, p->counter};
}

}  // namespace thingtank::streams::storage
