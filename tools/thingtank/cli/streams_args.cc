#include "tools/thingtank/cli/streams_args.h"

#include <algorithm>
#include <cctype>

namespace thingtank::cli::streams {
namespace {

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

struct IteratorTypeEntry {
  v1::ShardIteratorType type;
  const char* name;
};

constexpr IteratorTypeEntry kIteratorTypes[] = {
    {v1::SHARD_ITERATOR_TYPE_TRIM_HORIZON, "trim-horizon"},
    {v1::SHARD_ITERATOR_TYPE_LATEST, "latest"},
    {v1::SHARD_ITERATOR_TYPE_AT_SEQUENCE_NUMBER, "at-sequence"},
    {v1::SHARD_ITERATOR_TYPE_AFTER_SEQUENCE_NUMBER, "after-sequence"},
    {v1::SHARD_ITERATOR_TYPE_AT_TIMESTAMP, "at-timestamp"},
};

constexpr int64_t kBackoffBaseNanos = 100'000'000;
constexpr int64_t kBackoffCapNanos = 2'000'000'000;

}  // namespace

bool ParseStreamMode(std::string_view text, v1::StreamMode* out) {
  const std::string mode = Lower(text);
  if (mode == "provisioned") {
    *out = v1::STREAM_MODE_PROVISIONED;
  } else if (mode == "on-demand" || mode == "on_demand") {
    *out = v1::STREAM_MODE_ON_DEMAND;
  } else {
    return false;
  }
  return true;
}

bool ParseIteratorType(std::string_view text, v1::ShardIteratorType* out) {
  const std::string name = Lower(text);
  for (const IteratorTypeEntry& entry : kIteratorTypes) {
    if (name == entry.name) {
      *out = entry.type;
      return true;
    }
  }
  return false;
}

std::string IteratorTypeName(v1::ShardIteratorType type) {
  for (const IteratorTypeEntry& entry : kIteratorTypes) {
    if (entry.type == type) return entry.name;
  }
  return "";
}

bool ParseHashKey(std::string_view text, HashKey* out) {
  if (text.empty() || text.size() > 39 || (text.size() > 1 && text[0] == '0')) return false;
  HashKey value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    const HashKey digit = static_cast<HashKey>(c - '0');
    if (value > (~HashKey{0} - digit) / 10) return false;  // past 2^128 - 1
    value = value * 10 + digit;
  }
  *out = value;
  return true;
}

std::string FormatHashKey(HashKey key) {
  if (key == 0) return "0";
  std::string out;
  while (key > 0) {
    out.push_back(static_cast<char>('0' + static_cast<int>(key % 10)));
    key /= 10;
  }
  std::reverse(out.begin(), out.end());
  return out;
}

bool MidpointHashKey(const v1::HashKeyRange& range, std::string* out, std::string* error) {
  HashKey start = 0;
  HashKey end = 0;
  if (!ParseHashKey(range.starting_hash_key(), &start) ||
      !ParseHashKey(range.ending_hash_key(), &end) || start > end) {
    *error = "the shard's hash key range \"" + range.starting_hash_key() + "\" to \"" +
             range.ending_hash_key() + "\" is not two ordered decimal hash keys";
    return false;
  }
  if (start == end) {
    *error = "the shard holds the one hash key " + range.starting_hash_key() + "; it cannot split";
    return false;
  }
  *out = FormatHashKey(start + (end - start) / 2 + 1);
  return true;
}

size_t EntryBytes(const v1::PutRecordsRequestEntry& entry) {
  return entry.data().size() + entry.partition_key().size();
}

bool BatchHasRoom(int records, size_t bytes, size_t entry_bytes) {
  if (records == 0) return true;
  return records < kMaxBatchRecords && bytes + entry_bytes <= kMaxBatchBytes;
}

std::vector<int> ThrottledRecords(const v1::PutRecordsResponse& response) {
  std::vector<int> out;
  for (int i = 0; i < response.records_size(); ++i) {
    if (response.records(i).error_code() == kThroughputExceeded) out.push_back(i);
  }
  return out;
}

int64_t BackoffNanos(int attempt, std::optional<int64_t> server_delay_nanos, double jitter) {
  int64_t ceiling = kBackoffBaseNanos;
  for (int i = 1; i < attempt && ceiling < kBackoffCapNanos; ++i) ceiling *= 2;
  ceiling = std::min(ceiling, kBackoffCapNanos);
  jitter = std::clamp(jitter, 0.0, 1.0);
  const int64_t wait =
      ceiling / 2 + static_cast<int64_t>(static_cast<double>(ceiling / 2) * jitter);
  return std::max(wait, server_delay_nanos.value_or(0));
}

std::vector<std::string> StartingShards(const std::vector<v1::Shard>& shards, bool open_only) {
  std::set<std::string> listed;
  for (const v1::Shard& shard : shards) listed.insert(shard.shard_id());
  std::vector<std::string> out;
  for (const v1::Shard& shard : shards) {
    if (open_only) {
      if (shard.sequence_number_range().ending_sequence_number().empty()) {
        out.push_back(shard.shard_id());
      }
      continue;
    }
    const bool has_listed_parent = listed.count(shard.parent_shard_id()) > 0 ||
                                   listed.count(shard.adjacent_parent_shard_id()) > 0;
    if (!has_listed_parent) out.push_back(shard.shard_id());
  }
  return out;
}

bool ShardWalk::Start(const std::string& shard_id) { return started_.insert(shard_id).second; }

std::vector<std::string> ShardWalk::Drained(const std::string& shard_id,
                                            const std::vector<v1::ChildShard>& children) {
  drained_.insert(shard_id);
  std::vector<std::string> ready;
  for (const v1::ChildShard& child : children) {
    if (started_.count(child.shard_id()) > 0) continue;
    const bool parents_done =
        std::all_of(child.parent_shards().begin(), child.parent_shards().end(),
                    [this](const std::string& parent) {
                      return started_.count(parent) == 0 || drained_.count(parent) > 0;
                    });
    if (!parents_done) continue;
    started_.insert(child.shard_id());
    ready.push_back(child.shard_id());
  }
  return ready;
}

}  // namespace thingtank::cli::streams
