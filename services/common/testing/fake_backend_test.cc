#include "services/common/testing/fake_backend.h"

#include <thread>

#include "absl/synchronization/notification.h"
#include "thingtank/testing/v1/echo.grpc.pb.h"
#include "gtest/gtest.h"
#include "services/common/grpc_status.h"
#include "services/common/status.h"
#include "services/common/testing/status_matchers.h"

namespace thingtank {
namespace {

using ::thingtank::testing::v1::Chunk;
using ::thingtank::testing::v1::EchoService;

constexpr char kEcho[] = "thingtank.testing.v1.EchoService.Echo";

TEST(FakeBackendTest, AnswersARegisteredMethodAndCountsItsCalls) {
  FakeBackend backend;
  backend.On<Chunk, Chunk>(
      kEcho, [](const FakeCall&, const Chunk& req, Chunk* out) {
        if (req.note() == "down") {
          return ErrorWithReason(absl::StatusCode::kNotFound, "NoSuchService", "down: unknown");
        }
        out->set_seq(req.seq() + 1);
        return absl::OkStatus();
      });
  auto stub = EchoService::NewStub(backend.Channel());
  {
    grpc::ClientContext ctx;
    Chunk req;
    req.set_seq(41);
    Chunk resp;
    ASSERT_TRUE(stub->Echo(&ctx, req, &resp).ok());
    EXPECT_EQ(resp.seq(), 42);
  }
  {
    grpc::ClientContext ctx;
    Chunk req;
    req.set_note("down");
    Chunk resp;
    grpc::Status s = stub->Echo(&ctx, req, &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
    EXPECT_EQ(s.error_message(), "down: unknown");
    // The details travel as the real services send them.
    EXPECT_EQ(ErrorReason(FromGrpcStatus(s)), "NoSuchService");
  }
  EXPECT_EQ(backend.calls(kEcho), 2);
}

TEST(FakeBackendTest, AnUnregisteredMethodIsUnimplementedByName) {
  FakeBackend backend;
  auto stub = EchoService::NewStub(backend.Channel());
  grpc::ClientContext ctx;
  Chunk resp;
  grpc::Status s = stub->Echo(&ctx, Chunk(), &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNIMPLEMENTED);
  EXPECT_EQ(s.error_message(), "the fake backend has no handler for /thingtank.testing.v1.EchoService/Echo");
  EXPECT_EQ(backend.calls(kEcho), 0);
}

TEST(FakeBackendTest, ABlockedHandlerSeesTheCallersCancel) {
  FakeBackend backend;
  absl::Notification ended;
  backend.On<Chunk, Chunk>(
      kEcho, [&](const FakeCall& call, const Chunk&, Chunk*) {
        EXPECT_FALSE(call.WaitUntil([] { return false; }, absl::Seconds(20)));
        EXPECT_TRUE(call.Ended());
        ended.Notify();
        return absl::CancelledError("cancelled");
      });
  auto stub = EchoService::NewStub(backend.Channel());
  grpc::ClientContext ctx;
  std::thread caller([&] {
    Chunk resp;
    EXPECT_EQ(stub->Echo(&ctx, Chunk(), &resp).error_code(),
              grpc::StatusCode::CANCELLED);
  });
  EXPECT_TRUE(backend.AwaitCalls(kEcho, 1));
  ctx.TryCancel();
  EXPECT_TRUE(ended.WaitForNotificationWithTimeout(absl::Seconds(20)));
  caller.join();
}

TEST(FakeBackendTest, ADeadlineEndsTheWait) {
  FakeBackend backend;
  backend.On<Chunk, Chunk>(
      kEcho, [&](const FakeCall& call, const Chunk&, Chunk*) {
        EXPECT_LT(call.deadline(), absl::InfiniteFuture());
        call.WaitUntil([] { return false; }, absl::Seconds(20));
        return absl::DeadlineExceededError("late");
      });
  auto stub = EchoService::NewStub(backend.Channel());
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(200));
  Chunk resp;
  EXPECT_EQ(stub->Echo(&ctx, Chunk(), &resp).error_code(),
            grpc::StatusCode::DEADLINE_EXCEEDED);
}

TEST(FakeBackendTest, ShutdownEndsAWaitingHandler) {
  auto backend = std::make_unique<FakeBackend>();
  backend->On<Chunk, Chunk>(
      kEcho, [](const FakeCall& call, const Chunk&, Chunk*) {
        call.WaitUntil([] { return false; }, absl::Seconds(20));
        return absl::UnavailableError("stopping");
      });
  auto stub = EchoService::NewStub(backend->Channel());
  std::thread caller([&] {
    grpc::ClientContext ctx;
    Chunk resp;
    EXPECT_FALSE(stub->Echo(&ctx, Chunk(), &resp).ok());
  });
  EXPECT_TRUE(backend->AwaitCalls(kEcho, 1));
  const absl::Time start = absl::Now();
  backend.reset();
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  caller.join();
}

}  // namespace
}  // namespace thingtank
