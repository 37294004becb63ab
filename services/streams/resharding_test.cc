// Split, merge and UpdateShardCount bookkeeping.
#include <algorithm>
#include <set>

#include "services/streams/core/hash_key.h"
#include "services/streams/streams_test_util.h"

namespace thingtank::streams {
namespace {

using ::testing::ElementsAre;
using ::testing::SizeIs;

std::string Mid() { return FormatHashKey(HashKey{1} << 127); }

absl::StatusOr<v1::SplitShardResponse> Split(StreamService* s, const std::string& shard, const std::string& key) {
  v1::SplitShardRequest r;
  r.set_stream_name("s");
  r.set_shard_to_split(shard);
  r.set_new_starting_hash_key(key);
  return s->SplitShard(r);
}

TEST_F(StreamsTest, SplitClosesTheParentAndOpensTwoChildren) {
  Create("s", 1);
  auto before = Put("s", "k", "parent");
  ASSERT_THAT(before, IsOk());
  ASSERT_THAT(Split(service_.get(), "shardId-000000000000", Mid()), IsOk());
  EXPECT_EQ(Summary("s").stream_status(), v1::STREAM_STATUS_UPDATING);
  // A second reshard waits for ACTIVE.
  EXPECT_THAT(Split(service_.get(), "shardId-000000000001", FormatHashKey(HashKey{1} << 100)),
              IsStatus(absl::StatusCode::kFailedPrecondition, "ResourceInUseException"));
  Advance(options_.transition);
  const std::vector<v1::Shard> shards = Shards("s");
  ASSERT_THAT(shards, SizeIs(3));
  EXPECT_EQ(shards[0].sequence_number_range().ending_sequence_number(), before->sequence_number());
  EXPECT_EQ(shards[1].parent_shard_id(), "shardId-000000000000");
  EXPECT_EQ(shards[1].hash_key_range().starting_hash_key(), "0");
  EXPECT_EQ(shards[1].hash_key_range().ending_hash_key(), FormatHashKey((HashKey{1} << 127) - 1));
  EXPECT_EQ(shards[2].hash_key_range().starting_hash_key(), Mid());
  EXPECT_EQ(shards[2].hash_key_range().ending_hash_key(), FormatHashKey(kMaxHashKey));
  EXPECT_GT(shards[1].sequence_number_range().starting_sequence_number(), before->sequence_number());
  // New records go to the children; the parent, drained, names them.
  auto after = Put("s", "k", "child");
  ASSERT_THAT(after, IsOk());
  EXPECT_NE(after->shard_id(), "shardId-000000000000");
  auto parent = Get(Iterator("s", "shardId-000000000000", v1::SHARD_ITERATOR_TYPE_TRIM_HORIZON));
  ASSERT_THAT(parent, IsOk());
  ASSERT_THAT(parent->records(), SizeIs(1));
  EXPECT_EQ(parent->next_shard_iterator(), "");
  ASSERT_THAT(parent->child_shards(), SizeIs(2));
  EXPECT_THAT(parent->child_shards(0).parent_shards(), ElementsAre("shardId-000000000000"));
  // A shard cannot be split twice, nor at its own start or outside it.
  EXPECT_THAT(Split(service_.get(), "shardId-000000000000", Mid()),
              IsStatus(absl::StatusCode::kInvalidArgument, "InvalidArgumentException", "shard_to_split"));
  EXPECT_THAT(Split(service_.get(), "shardId-000000000002", Mid()),
              IsStatus(absl::StatusCode::kInvalidArgument, "InvalidArgumentException", "new_starting_hash_key"));
  EXPECT_THAT(Split(service_.get(), "shardId-000000000002", "1"),
              IsStatus(absl::StatusCode::kInvalidArgument, "InvalidArgumentException", "new_starting_hash_key"));
  // ListShards filters.
  v1::ListShardsRequest open;
  open.set_stream_name("s");
  open.mutable_shard_filter()->set_type(v1::SHARD_FILTER_TYPE_AT_LATEST);
  auto latest = service_->ListShards(open);
  ASSERT_THAT(latest, IsOk());
  EXPECT_THAT(latest->shards(), SizeIs(2));
  open.mutable_shard_filter()->set_type(v1::SHARD_FILTER_TYPE_AT_TRIM_HORIZON);
  auto horizon = service_->ListShards(open);
  ASSERT_THAT(horizon, IsOk());
  ASSERT_THAT(horizon->shards(), SizeIs(1));
  EXPECT_EQ(horizon->shards(0).shard_id(), "shardId-000000000000");
  // Pagination.
  v1::ListShardsRequest paged;
  paged.set_stream_name("s");
  paged.set_max_results(2);
  auto p1 = service_->ListShards(paged);
  ASSERT_THAT(p1, IsOk());
  ASSERT_THAT(p1->shards(), SizeIs(2));
  ASSERT_NE(p1->next_token(), "");
  v1::ListShardsRequest next;
  next.set_next_token(p1->next_token());
  auto p2 = service_->ListShards(next);
  ASSERT_THAT(p2, IsOk());
  ASSERT_THAT(p2->shards(), SizeIs(1));
  EXPECT_EQ(p2->shards(0).shard_id(), "shardId-000000000002");
  EXPECT_EQ(p2->next_token(), "");
}

TEST_F(StreamsTest, MergeAdjacentShards) {
  Create("s", 3);
  v1::MergeShardsRequest r;
  r.set_stream_name("s");
  r.set_shard_to_merge("shardId-000000000000");
  r.set_adjacent_shard_to_merge("shardId-000000000002");
  EXPECT_THAT(service_->MergeShards(r),
              IsStatus(absl::StatusCode::kInvalidArgument, "InvalidArgumentException", "adjacent_shard_to_merge"));
  r.set_adjacent_shard_to_merge("shardId-000000000001");
  ASSERT_THAT(service_->MergeShards(r), IsOk());
  Advance(options_.transition);
  const std::vector<v1::Shard> shards = Shards("s");
  ASSERT_THAT(shards, SizeIs(4));
  EXPECT_EQ(shards[3].parent_shard_id(), "shardId-000000000000");
  EXPECT_EQ(shards[3].adjacent_parent_shard_id(), "shardId-000000000001");
  EXPECT_EQ(shards[3].hash_key_range().starting_hash_key(), "0");
  EXPECT_EQ(shards[3].hash_key_range().ending_hash_key(), shards[1].hash_key_range().ending_hash_key());
  EXPECT_EQ(Summary("s").open_shard_count(), 2);
}

TEST_F(StreamsTest, UpdateShardCountIsUniformWithLineage) {
  Create("s", 3);
  for (int i = 0; i < 30; ++i) ASSERT_THAT(Put("s", "k" + std::to_string(i), "old"), IsOk());
  v1::UpdateShardCountRequest r;
  r.set_stream_name("s");
  r.set_target_shard_count(5);
  auto out = service_->UpdateShardCount(r);
  ASSERT_THAT(out, IsOk());
  EXPECT_EQ(out->current_shard_count(), 3);
  Advance(options_.transition);
  v1::ListShardsRequest open;
  open.set_stream_name("s");
  open.mutable_shard_filter()->set_type(v1::SHARD_FILTER_TYPE_AT_LATEST);
  auto latest = service_->ListShards(open);
  ASSERT_THAT(latest, IsOk());
  ASSERT_THAT(latest->shards(), SizeIs(5));
  std::vector<std::pair<HashKey, HashKey>> open_ranges;
  for (const v1::Shard& s : latest->shards()) {
    open_ranges.emplace_back(*ParseHashKey(s.hash_key_range().starting_hash_key(), ""),
                             *ParseHashKey(s.hash_key_range().ending_hash_key(), ""));
  }
  std::sort(open_ranges.begin(), open_ranges.end());
  EXPECT_TRUE(open_ranges == UniformRanges(5));
  // Every shard's parents are shards of the stream; every old record is still there.
  std::set<std::string> ids;
  int records = 0;
  for (const v1::Shard& s : Shards("s")) {
    ids.insert(s.shard_id());
    if (!s.parent_shard_id().empty()) {
      EXPECT_TRUE(ids.count(s.parent_shard_id())) << s.shard_id();
    }
    if (!s.adjacent_parent_shard_id().empty()) {
      EXPECT_TRUE(ids.count(s.adjacent_parent_shard_id())) << s.shard_id();
    }
    records += static_cast<int>(ReadAll("s", s.shard_id()).size());
  }
  EXPECT_EQ(records, 30);
  // Limits: at most double, at least half.
  r.set_target_shard_count(11);
  EXPECT_THAT(service_->UpdateShardCount(r), IsStatus(absl::StatusCode::kResourceExhausted, "LimitExceededException"));
  r.set_target_shard_count(2);
  EXPECT_THAT(service_->UpdateShardCount(r), IsStatus(absl::StatusCode::kResourceExhausted, "LimitExceededException"));
  r.set_target_shard_count(3);
  ASSERT_THAT(service_->UpdateShardCount(r), IsOk());
  Advance(options_.transition);
  EXPECT_EQ(Summary("s").open_shard_count(), 3);
}

TEST_F(StreamsTest, ReshardingSurvivesARestart) {
  Create("s", 1);
  ASSERT_THAT(Split(service_.get(), "shardId-000000000000", Mid()), IsOk());
  Reopen();
  Settle();
  EXPECT_EQ(Summary("s").stream_status(), v1::STREAM_STATUS_UPDATING);
  Advance(options_.transition);
  EXPECT_EQ(Summary("s").stream_status(), v1::STREAM_STATUS_ACTIVE);
  EXPECT_EQ(Summary("s").open_shard_count(), 2);
  EXPECT_THAT(Shards("s"), SizeIs(3));
}

}  // namespace
}  // namespace thingtank::streams
