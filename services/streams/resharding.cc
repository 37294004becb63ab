// SplitShard, MergeShards and UpdateShardCount. Each takes effect at once in
// one write of the stream's record: parents close (their ending sequence
// number is the last they gave) and children open, starting after every
// record of their parents; the stream is UPDATING for the transition time.
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "services/common/status.h"
#include "services/streams/core/names.h"
#include "services/streams/stream_service.h"
#include "services/streams/stream_service_internal.h"
#include "services/streams/subscription.h"

namespace thingtank::streams {

using internal::CheckActive;
using internal::Micros;

namespace {

constexpr int kShardCountUpdatesPerDay = 10;

absl::Status ShardLimit(int open_total, int added, int limit) {
  return Error("LimitExceededException",
               absl::StrCat("This request would exceed the shard limit for the account 000000000000 in us-east-1. "
                            "Current shard count for the account: ",
                            open_total, ". Limit: ", limit, ". Number of additional shards that would have resulted "
                            "from this request: ", added, "."));
}

}  // namespace

namespace {

// What a reshard changes in memory, to publish once it is saved (subscribers
// of the closed shards drain them and end) or to undo when the save failed.
class ReshardCommit {
 public:
  explicit ReshardCommit(StreamState& s) ABSL_EXCLUSIVE_LOCKS_REQUIRED(s.mu)
      : s_(s), record_(s.record), shards_(s.shards) {}
  std::vector<uint64_t>& closed() { return closed_; }
  const storage::StreamRecord& record_before() const { return record_; }

  // `saved`: SaveUpdating's result (which restored the record itself).
  absl::Status Finish(absl::Status saved) ABSL_EXCLUSIVE_LOCKS_REQUIRED(s_.mu) {
    if (!saved.ok()) {
      s_.shards = shards_;
      return saved;
    }
    for (uint64_t index : closed_) {
      for (Subscription* sub : s_.shards.at(index).subscribers) sub->Notify();
    }
    return absl::OkStatus();
  }

 private:
  StreamState& s_;
  const storage::StreamRecord record_;
  const std::map<uint64_t, ShardState> shards_;
  std::vector<uint64_t> closed_;
};

// The open shard `id` of `s`, for `field` of a reshard request.
absl::StatusOr<ShardState*> OpenShard(StreamState& s, const std::string& id, const char* field)
    ABSL_EXCLUSIVE_LOCKS_REQUIRED(s.mu) {
  ShardState* shard = s.FindShard(id);
  if (shard == nullptr) return internal::ShardNotFound(s.record.name(), id);
  if (!shard->open()) {
    return FieldError(field, "InvalidArgumentException",
                      absl::StrCat("Shard ", id, " is closed (already split or merged)"));
  }
  return shard;
}

}  // namespace

absl::StatusOr<v1::SplitShardResponse> StreamService::SplitShard(const v1::SplitShardRequest& r) {
  TT_RETURN_IF_ERROR(ValidateStreamName(r.stream_name()));
  TT_RETURN_IF_ERROR(ValidateStreamName(r.shard_to_split(), "shard_to_split"));
  TT_ASSIGN_OR_RETURN(const HashKey key, ParseHashKey(r.new_starting_hash_key(), "new_starting_hash_key"));
  const int open_total = OpenShardsTotal();
  TT_ASSIGN_OR_RETURN(std::shared_ptr<StreamState> s, Find(r.stream_name()));
  absl::MutexLock write_lock(&s->write_mu);  // no write between assigning and committing
  absl::MutexLock lock(&s->mu);
  TT_RETURN_IF_ERROR(CheckActive(*s));
  TT_ASSIGN_OR_RETURN(ShardState* const shard, OpenShard(*s, r.shard_to_split(), "shard_to_split"));
  if (key <= shard->start || key > shard->end) {
    return FieldError("new_starting_hash_key", "InvalidArgumentException",
                      absl::StrCat("must be greater than the shard's starting hash key ", FormatHashKey(shard->start),
                                   " and at most its ending hash key ", FormatHashKey(shard->end)));
  }
  if (open_total + 1 > options_.shard_limit) return ShardLimit(open_total, 1, options_.shard_limit);
  ReshardCommit commit(*s);
  const absl::Time now = clock_->Now();
  const uint64_t parent = shard->record.index();
  const HashKey start = shard->start, end = shard->end;
  CloseShardLocked(*s, *shard, now);
  commit.closed().push_back(parent);
  for (auto [from, to] : {std::pair{start, key - 1}, std::pair{key, end}}) {
    ShardState child = NewShard(*s, from, to, now, parent + 1, 0);
    const uint64_t index = child.record.index();
    s->shards.emplace(index, std::move(child));
  }
  RebuildOpenLocked(*s);
  TT_RETURN_IF_ERROR(commit.Finish(SaveUpdating(s, commit.record_before(), now)));
  return v1::SplitShardResponse();
}

absl::StatusOr<v1::MergeShardsResponse> StreamService::MergeShards(const v1::MergeShardsRequest& r) {
  TT_RETURN_IF_ERROR(ValidateStreamName(r.stream_name()));
  TT_RETURN_IF_ERROR(ValidateStreamName(r.shard_to_merge(), "shard_to_merge"));
  TT_RETURN_IF_ERROR(ValidateStreamName(r.adjacent_shard_to_merge(), "adjacent_shard_to_merge"));
  TT_ASSIGN_OR_RETURN(std::shared_ptr<StreamState> s, Find(r.stream_name()));
  absl::MutexLock write_lock(&s->write_mu);  // no write between assigning and committing
  absl::MutexLock lock(&s->mu);
  TT_RETURN_IF_ERROR(CheckActive(*s));
  TT_ASSIGN_OR_RETURN(ShardState* const a, OpenShard(*s, r.shard_to_merge(), "shard_to_merge"));
  TT_ASSIGN_OR_RETURN(ShardState* const b, OpenShard(*s, r.adjacent_shard_to_merge(), "adjacent_shard_to_merge"));
  const bool adjacent = (a->end != kMaxHashKey && a->end + 1 == b->start) ||
                        (b->end != kMaxHashKey && b->end + 1 == a->start);
  if (!adjacent) {
    return FieldError("adjacent_shard_to_merge", "InvalidArgumentException",
                      absl::StrCat("Shard ", r.adjacent_shard_to_merge(), "'s hash key range does not adjoin ",
                                   r.shard_to_merge(), "'s"));
  }
  ReshardCommit commit(*s);
  const absl::Time now = clock_->Now();
  const uint64_t ia = a->record.index(), ib = b->record.index();
  const HashKey start = std::min(a->start, b->start), end = std::max(a->end, b->end);
  CloseShardLocked(*s, *a, now);
  CloseShardLocked(*s, *b, now);
  commit.closed() = {ia, ib};
  ShardState child = NewShard(*s, start, end, now, ia + 1, ib + 1);
  const uint64_t index = child.record.index();
  s->shards.emplace(index, std::move(child));
  RebuildOpenLocked(*s);
  TT_RETURN_IF_ERROR(commit.Finish(SaveUpdating(s, commit.record_before(), now)));
  return v1::MergeShardsResponse();
}

// UNIFORM_SCALING as a series of splits and merges done at once: every open
// shard is split at each new boundary inside it, then the pieces inside one
// new range are merged left to right. Each step has the usual lineage (one
// parent for a split, two for a merge), so a consumer that drains parents
// before children keeps per-key order; the intermediate shards close at
// once, empty.
absl::StatusOr<v1::UpdateShardCountResponse> StreamService::UpdateShardCount(const v1::UpdateShardCountRequest& r) {
  TT_RETURN_IF_ERROR(ValidateStreamName(r.stream_name()));
  if (r.scaling_type() != v1::SCALING_TYPE_UNSPECIFIED && r.scaling_type() != v1::SCALING_TYPE_UNIFORM_SCALING) {
    return FieldError("scaling_type", "InvalidArgumentException", "must be UNIFORM_SCALING");
  }
  const int target = r.target_shard_count();
  if (target < 1 || target > 10000) {
    return FieldError("target_shard_count", "InvalidArgumentException", "must be between 1 and 10000");
  }
  const int open_total = OpenShardsTotal();
  TT_ASSIGN_OR_RETURN(std::shared_ptr<StreamState> s, Find(r.stream_name()));
  absl::MutexLock write_lock(&s->write_mu);  // no write between assigning and committing
  absl::MutexLock lock(&s->mu);
  TT_RETURN_IF_ERROR(CheckActive(*s));
  const int current = static_cast<int>(s->open.size());
  v1::UpdateShardCountResponse out;
  out.set_stream_name(r.stream_name());
  out.set_current_shard_count(current);
  out.set_target_shard_count(target);
  if (target > 2 * current) {
    return Error("LimitExceededException",
                 absl::StrCat("UpdateShardCount cannot scale up to more than double the current shard count (",
                              current, ")"));
  }
  if (2 * target < current) {
    return Error("LimitExceededException",
                 absl::StrCat("UpdateShardCount cannot scale down below half the current shard count (", current,
                              ")"));
  }
  if (open_total - current + target > options_.shard_limit) {
    return ShardLimit(open_total, target - current, options_.shard_limit);
  }
  const absl::Time now = clock_->Now();
  std::vector<int64_t> recent;
  for (int64_t t : s->record.shard_count_updates_micros()) {
    if (t > Micros(now - absl::Hours(24))) recent.push_back(t);
  }
  if (static_cast<int>(recent.size()) >= kShardCountUpdatesPerDay) {
    return Error("LimitExceededException", "UpdateShardCount can run at most 10 times in a rolling 24 hours");
  }
  const std::vector<std::pair<HashKey, HashKey>> ranges = UniformRanges(target);
  bool uniform_already = current == target;
  for (int i = 0; uniform_already && i < current; ++i) {
    const ShardState& sh = s->shards.at(s->open[i]);
    uniform_already = sh.start == ranges[i].first && sh.end == ranges[i].second;
  }
  if (uniform_already) return out;

  ReshardCommit commit(*s);
  // Pieces: open shards, split at every new boundary inside them.
  std::vector<uint64_t> pieces;
  const std::vector<uint64_t> open = s->open;
  for (uint64_t index : open) {
    uint64_t current_index = index;
    for (const auto& [boundary, unused] : ranges) {
      ShardState& cur = s->shards.at(current_index);
      if (boundary <= cur.start || boundary > cur.end) continue;
      const HashKey start = cur.start, end = cur.end;
      CloseShardLocked(*s, cur, now);
      commit.closed().push_back(current_index);
      ShardState left = NewShard(*s, start, boundary - 1, now, current_index + 1, 0);
      ShardState right = NewShard(*s, boundary, end, now, current_index + 1, 0);
      const uint64_t li = left.record.index(), ri = right.record.index();
      s->shards.emplace(li, std::move(left));
      s->shards.emplace(ri, std::move(right));
      pieces.push_back(li);
      current_index = ri;
    }
    pieces.push_back(current_index);
  }
  // Merge the pieces of each new range, left to right.
  size_t p = 0;
  for (const auto& [start, end] : ranges) {
    uint64_t acc = pieces[p++];
    while (p < pieces.size() && s->shards.at(pieces[p]).end <= end) {
      ShardState& a = s->shards.at(acc);
      ShardState& b = s->shards.at(pieces[p]);
      const uint64_t ia = acc, ib = pieces[p];
      const HashKey from = a.start, to = b.end;
      CloseShardLocked(*s, a, now);
      CloseShardLocked(*s, b, now);
      commit.closed().push_back(ia);
      commit.closed().push_back(ib);
      ShardState merged = NewShard(*s, from, to, now, ia + 1, ib + 1);
      acc = merged.record.index();
      s->shards.emplace(acc, std::move(merged));
      ++p;
    }
  }
  RebuildOpenLocked(*s);
  recent.push_back(Micros(now));
  *s->record.mutable_shard_count_updates_micros() = {recent.begin(), recent.end()};
  TT_RETURN_IF_ERROR(commit.Finish(SaveUpdating(s, commit.record_before(), now)));
  return out;
}

}  // namespace thingtank::streams
