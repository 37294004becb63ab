// QueueService on a disk that fails writes on demand: a failed write leaves
// the in-memory index as it is on disk (nothing half-applied), the call says
// UNAVAILABLE, and the next call once the disk is healthy works.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "services/common/testing/fault_injection_fs.h"
#include "services/queues/queue_service_test_util.h"

namespace thingtank::queues {
namespace {

using absl::StatusCode;
using ::testing::HasSubstr;

class QueueFaultTest : public QueueServiceTest {
 protected:
  QueueFaultTest() { db_env_ = fault_.env(); }

  static void ExpectDiskFault(const absl::Status& s) {
    EXPECT_EQ(s.code(), StatusCode::kUnavailable) << s;
    EXPECT_THAT(std::string(s.message()), HasSubstr("injected write fault"));
  }
  std::vector<std::string> Bodies(const v1::ReceiveMessagesResponse& r) {
    std::vector<std::string> bodies;
    for (const auto& m : r.messages()) bodies.push_back(m.body());
    return bodies;
  }

  FaultInjectionEnv fault_;  // outlives db_: TearDown closes it first
};

TEST_F(QueueFaultTest, FailedSendIsNotReceivableAndTheNextSendWorks) {
  Create("q");
  Send("q", "before");

  fault_.FailWrites(true);
  v1::SendMessageRequest req;
  req.set_queue_name("q");
  req.set_message_body("lost");
  ExpectDiskFault(service_->SendMessage(req).status());
  EXPECT_GT(fault_.fs().injected_failures(), 0);
  EXPECT_EQ(CountsOf("q"), std::make_tuple(1, 0, 0));
  EXPECT_EQ(events_.Get("sent", "q"), 1);

  fault_.FailWrites(false);
  Send("q", "after");
  EXPECT_THAT(Bodies(Receive("q", 10, 30)), ::testing::ElementsAre("before", "after"));
  EXPECT_EQ(CountsOf("q"), std::make_tuple(0, 2, 0));

  // What is on disk is what the index said.
  Reopen();
  EXPECT_EQ(CountsOf("q"), std::make_tuple(0, 2, 0));
  clock_.Advance(absl::Seconds(31));
  EXPECT_THAT(Bodies(Receive("q")), ::testing::ElementsAre("before", "after"));
}

TEST_F(QueueFaultTest, FailedReceiveAndDeleteLeaveTheMessageAsItWas) {
  Create("q");
  Send("q", "m");

  fault_.FailWrites(true);
  ExpectDiskFault(TryReceive("q", 1, 30).status());
  fault_.FailWrites(false);
  EXPECT_EQ(CountsOf("q"), std::make_tuple(1, 0, 0));  // still visible, not in flight

  auto got = Receive("q", 1, 30);
  ASSERT_EQ(got.messages_size(), 1);
  EXPECT_EQ(got.messages(0).attributes().approximate_receive_count(), 1);
  const std::string handle = got.messages(0).receipt_handle();

  fault_.FailWrites(true);
  ExpectDiskFault(Delete("q", handle));
  fault_.FailWrites(false);
  EXPECT_EQ(CountsOf("q"), std::make_tuple(0, 1, 0));  // still in flight
  EXPECT_TRUE(Delete("q", handle).ok());
  EXPECT_EQ(CountsOf("q"), std::make_tuple(0, 0, 0));
  Reopen();
  EXPECT_EQ(CountsOf("q"), std::make_tuple(0, 0, 0));
}

}  // namespace
}  // namespace thingtank::queues
