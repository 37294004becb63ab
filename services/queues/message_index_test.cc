#include "services/queues/message_index.h"

#include <gtest/gtest.h>

namespace thingtank::queues {
namespace {

IndexedMessage Msg(uint64_t seq, int64_t visible = 0, const std::string& group = "") {
  IndexedMessage m;
  m.seq = seq;
  m.sent_micros = static_cast<int64_t>(seq);
  m.visible_micros = visible;
  m.group = group;
  return m;
}

TEST(MessageIndexTest, StandardReadyTimelineAndCounts) {
  MessageIndex index(false);
  index.Add(Msg(1), 100);
  index.Add(Msg(2, 200), 100);  // delayed until 200
  index.Add(Msg(3), 100);
  EXPECT_EQ(index.visible(), 2);
  EXPECT_EQ(index.delayed(), 1);
  EXPECT_EQ(index.Candidates(10), (std::vector<uint64_t>{1, 3}));
  index.MarkReceived(1, 150, 99, 100);
  EXPECT_EQ(index.in_flight(), 1);
  EXPECT_EQ(*index.NextVisibleChange(), 150);
  index.Promote(149);
  EXPECT_EQ(index.Candidates(10), (std::vector<uint64_t>{3}));
  index.Promote(200);
  EXPECT_EQ(index.Candidates(10), (std::vector<uint64_t>{1, 2, 3}));
  EXPECT_EQ(index.Find(1)->receive_count, 1);
  index.Remove(2);
  EXPECT_EQ(index.size(), 2u);
  EXPECT_EQ(index.visible(), 2);
  EXPECT_EQ(index.in_flight() + index.delayed(), 0);
}

TEST(MessageIndexTest, FifoGroupsBlockWhileInFlight) {
  MessageIndex index(true);
  index.Add(Msg(1, 0, "a"), 10);
  index.Add(Msg(2, 0, "a"), 10);
  index.Add(Msg(3, 0, "b"), 10);
  EXPECT_EQ(index.Candidates(10), (std::vector<uint64_t>{1, 2, 3}));
  EXPECT_EQ(index.Candidates(1), (std::vector<uint64_t>{1}));
  index.MarkReceived(1, 50, 7, 10);
  EXPECT_EQ(index.Candidates(10), (std::vector<uint64_t>{3}));  // group a blocked
  index.Promote(50);                                             // 1 visible again
  EXPECT_EQ(index.Candidates(10), (std::vector<uint64_t>{1, 2, 3}));
  index.MarkReceived(1, 60, 8, 50);
  index.Remove(1);  // deleted: group a unblocks at 2
  EXPECT_EQ(index.Candidates(10), (std::vector<uint64_t>{2, 3}));
}

}  // namespace
}  // namespace thingtank::queues
