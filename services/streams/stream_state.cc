#include "services/streams/stream_state.h"

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "services/common/string_views.h"

namespace thingtank::streams {

std::string ShardIdOf(uint64_t index) { return absl::StrFormat("shardId-%012d", index); }

std::optional<uint64_t> ParseShardId(std::string_view id) {
  constexpr std::string_view kPrefix = "shardId-";
  if (id.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  std::string_view digits = id.substr(kPrefix.size());
  if (digits.empty() || digits.size() > 15) return std::nullopt;
  for (char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  uint64_t index = 0;
  if (!absl::SimpleAtoi(Av(digits), &index)) return std::nullopt;
  return index;
}

std::string HashKeyBytes(HashKey key) {
  std::string out(16, '\0');
  for (int i = 15; i >= 0; --i) {
    out[i] = static_cast<char>(static_cast<uint8_t>(key & 0xff));
    key >>= 8;
  }
  return out;
}

HashKey HashKeyFromBytes(std::string_view bytes) {
  HashKey key = 0;
  for (char c : bytes) key = (key << 8) | static_cast<uint8_t>(c);
  return key;
}

google::protobuf::Timestamp ToTimestamp(absl::Time t) {
  google::protobuf::Timestamp ts;
  const int64_t micros = absl::ToUnixMicros(t);
  ts.set_seconds(micros >= 0 ? micros / 1'000'000 : (micros - 999'999) / 1'000'000);
  ts.set_nanos(static_cast<int32_t>((micros - ts.seconds() * 1'000'000) * 1000));
  return ts;
}

absl::Time FromMicros(int64_t micros) { return absl::FromUnixMicros(micros); }

v1::Shard ShardMessage(const ShardState& shard) {
  v1::Shard out;
  out.set_shard_id(ShardIdOf(shard.record.index()));
  if (shard.record.parent_plus_one() != 0) {
    out.set_parent_shard_id(ShardIdOf(shard.record.parent_plus_one() - 1));
  }
  if (shard.record.adjacent_parent_plus_one() != 0) {
    out.set_adjacent_parent_shard_id(ShardIdOf(shard.record.adjacent_parent_plus_one() - 1));
  }
  out.mutable_hash_key_range()->set_starting_hash_key(FormatHashKey(shard.start));
  out.mutable_hash_key_range()->set_ending_hash_key(FormatHashKey(shard.end));
  out.mutable_sequence_number_range()->set_starting_sequence_number(
      shard.record.starting_sequence_number());
  out.mutable_sequence_number_range()->set_ending_sequence_number(shard.record.ending_sequence_number());
  return out;
}

std::vector<v1::ChildShard> ChildShardsOf(const StreamState& s, uint64_t parent) {
  std::vector<v1::ChildShard> out;
  for (const auto& [index, shard] : s.shards) {
    const storage::ShardRecord& r = shard.record;
    if (r.parent_plus_one() != parent + 1 && r.adjacent_parent_plus_one() != parent + 1) continue;
    v1::ChildShard child;
    child.set_shard_id(ShardIdOf(index));
    if (r.parent_plus_one() != 0) child.add_parent_shards(ShardIdOf(r.parent_plus_one() - 1));
    if (r.adjacent_parent_plus_one() != 0) {
      child.add_parent_shards(ShardIdOf(r.adjacent_parent_plus_one() - 1));
    }
    child.mutable_hash_key_range()->set_starting_hash_key(FormatHashKey(shard.start));
    child.mutable_hash_key_range()->set_ending_hash_key(FormatHashKey(shard.end));
    out.push_back(std::move(child));
  }
  return out;
}

ShardState& StreamState::ShardFor(HashKey key) {
  // The last open shard starting at or before `key`; open ranges tile the
  // whole key space, so it holds the key.
  auto it = std::upper_bound(open.begin(), open.end(), key,
                             [this](HashKey k, uint64_t index) { return k < shards.at(index).start; });
  if (it != open.begin()) --it;
  return shards.at(*it);
}

ShardState* StreamState::FindShard(const std::string& shard_id) {
  std::optional<uint64_t> index = ParseShardId(shard_id);
  if (!index) return nullptr;
  auto it = shards.find(*index);
  return it == shards.end() ? nullptr : &it->second;
}

}  // namespace thingtank::streams
