#include "services/common/async_client.h"

#include <atomic>
#include <deque>
#include <memory>

#include "absl/synchronization/notification.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "grpc/health/v1/health.pb.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/generic/async_generic_service.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/impl/codegen/proto_utils.h"
#include "gtest/gtest.h"
#include "prometheus/registry.h"
#include "services/common/server.h"

namespace thingtank {
namespace {

using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;

constexpr char kMethod[] = "/thingtank.testing.Fake/Call";
constexpr absl::Duration kWait = absl::Seconds(20);  // real-time bound of every wait

// What the fake backend does with each call, in order; the last repeats.
enum class Answer { kServing, kUnavailable, kThrottled, kInvalid, kHang };

// A real gRPC server on a free port whose one method answers as scripted.
class FakeBackend final : public grpc::CallbackGenericService {
 public:
  explicit FakeBackend(std::deque<Answer> script) : script_(std::move(script)) {
    auto server = GrpcServer::Start(GrpcServerOptions{}, {}, this);
    EXPECT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
  }
  ~FakeBackend() override { server_->Shutdown(absl::Seconds(1)); }

  std::shared_ptr<grpc::Channel> Channel() const {
    return grpc::CreateChannel(absl::StrCat("127.0.0.1:", server_->port()),
                               grpc::InsecureChannelCredentials());
  }
  int calls() const { return calls_.load(); }
  // Waits (real time, bounded) until `n` calls have arrived.
  bool AwaitCalls(int n) {
    absl::MutexLock lock(&mu_);
    awaited_ = n;
    return mu_.AwaitWithTimeout(absl::Condition(this, &FakeBackend::ReachedAwaited), kWait);
  }

  grpc::ServerGenericBidiReactor* CreateReactor(grpc::GenericCallbackServerContext*) override {
    return new Reactor(this);
  }

 private:
  bool ReachedAwaited() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return calls_ >= awaited_; }

  Answer Next() {
    absl::MutexLock lock(&mu_);
    ++calls_;
    Answer a = script_.front();
    if (script_.size() > 1) script_.pop_front();
    return a;
  }

  class Reactor final : public grpc::ServerGenericBidiReactor {
   public:
    explicit Reactor(FakeBackend* backend) : backend_(backend) { StartRead(&request_); }
    void OnReadDone(bool ok) override {
      if (!ok) return Finish(grpc::Status(grpc::StatusCode::INTERNAL, "no request"));
      switch (backend_->Next()) {
        case Answer::kServing: {
          HealthCheckResponse response;
          response.set_status(HealthCheckResponse::SERVING);
          bool own = false;
          EXPECT_TRUE(grpc::SerializationTraits<HealthCheckResponse>::Serialize(response, &reply_, &own).ok());
          return StartWriteAndFinish(&reply_, grpc::WriteOptions(), grpc::Status::OK);
        }
        case Answer::kUnavailable:
          return Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, "try again"));
        case Answer::kThrottled: {
          google::rpc::Status details;
          details.set_code(grpc::StatusCode::RESOURCE_EXHAUSTED);
          google::rpc::RetryInfo retry;
          retry.mutable_retry_delay()->set_seconds(2);
          details.add_details()->PackFrom(retry);
          return Finish(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, "slow down",
                                     details.SerializeAsString()));
        }
        case Answer::kInvalid:
          return Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "bad"));
        case Answer::kHang:
          return;  // until the caller cancels or its deadline passes
      }
    }
    void OnCancel() override { Finish(grpc::Status::CANCELLED); }
    void OnDone() override { delete this; }

   private:
    FakeBackend* const backend_;
    grpc::ByteBuffer request_, reply_;
  };

  absl::Mutex mu_;
  std::deque<Answer> script_ ABSL_GUARDED_BY(mu_);
  std::atomic<int> calls_{0};
  int awaited_ ABSL_GUARDED_BY(mu_) = 0;
  std::unique_ptr<GrpcServer> server_;
};

// The outcome of one call, awaited in real time.
struct Outcome {
  absl::Notification done;
  absl::StatusOr<HealthCheckResponse> result = absl::UnknownError("not done");
  std::function<void(absl::StatusOr<HealthCheckResponse>)> Callback() {
    return [this](absl::StatusOr<HealthCheckResponse> r) {
      result = std::move(r);
      done.Notify();
    };
  }
  bool Wait() { return done.WaitForNotificationWithTimeout(kWait); }
};

// Polls (real time, bounded) until the manual clock has `n` timers pending.
bool AwaitTimers(const ManualClock& clock, size_t n) {
  const absl::Time until = absl::Now() + kWait;
  while (clock.pending_timers() != n) {
    if (absl::Now() > until) return false;
    absl::SleepFor(absl::Milliseconds(1));  // polling a condition, with a deadline
  }
  return true;
}

double Retries(prometheus::Registry& registry) {
  for (const auto& family : registry.Collect()) {
    if (family.name != "thingtank_client_retries_total") continue;
    double sum = 0;
    for (const auto& m : family.metric) sum += m.counter.value;
    return sum;
  }
  return -1;
}

class AsyncClientTest : public testing::Test {
 protected:
  AsyncClient::Options options() {
    AsyncClient::Options o;
    o.initial_backoff = absl::Milliseconds(100);
    o.jitter = 0.2;
    return o;
  }
  ManualClock clock_;
  prometheus::Registry registry_;
};

TEST_F(AsyncClientTest, RetriesUnavailableAfterAnExponentialBackoffOnTheClock) {
  FakeBackend backend({Answer::kUnavailable, Answer::kUnavailable, Answer::kServing});
  AsyncClient client(backend.Channel(), &clock_, &registry_, options());
  Outcome outcome;
  client.Call<HealthCheckResponse>(kMethod, HealthCheckRequest(), outcome.Callback());
  ASSERT_TRUE(AwaitTimers(clock_, 1));  // the first attempt failed; backoff 80..120 ms
  clock_.Advance(absl::Milliseconds(79));
  EXPECT_EQ(backend.calls(), 1);
  clock_.Advance(absl::Milliseconds(42));
  // The second failed; backoff 160..240 ms from when it failed, which was at
  // 80..121 ms (it may land while Advance still runs): due at 240..361 ms.
  ASSERT_TRUE(AwaitTimers(clock_, 1));
  EXPECT_EQ(backend.calls(), 2);
  clock_.Advance(absl::Milliseconds(118));  // now 239 ms
  EXPECT_EQ(backend.calls(), 2);
  clock_.Advance(absl::Milliseconds(123));  // now 362 ms
  ASSERT_TRUE(outcome.Wait());
  ASSERT_TRUE(outcome.result.ok()) << outcome.result.status();
  EXPECT_EQ(outcome.result->status(), HealthCheckResponse::SERVING);
  EXPECT_EQ(backend.calls(), 3);
  EXPECT_EQ(Retries(registry_), 2);
}

TEST_F(AsyncClientTest, HonoursTheServersRetryInfo) {
  FakeBackend backend({Answer::kThrottled, Answer::kServing});
  AsyncClient client(backend.Channel(), &clock_, &registry_, options());
  Outcome outcome;
  client.Call<HealthCheckResponse>(kMethod, HealthCheckRequest(), outcome.Callback());
  ASSERT_TRUE(AwaitTimers(clock_, 1));
  clock_.Advance(absl::Milliseconds(1999));  // RetryInfo says 2 s, more than the backoff
  EXPECT_EQ(backend.calls(), 1);
  clock_.Advance(absl::Milliseconds(1));
  ASSERT_TRUE(outcome.Wait());
  EXPECT_TRUE(outcome.result.ok()) << outcome.result.status();
}

TEST_F(AsyncClientTest, OtherErrorsAreNotRetried) {
  FakeBackend backend({Answer::kInvalid});
  AsyncClient client(backend.Channel(), &clock_, &registry_, options());
  Outcome outcome;
  client.Call<HealthCheckResponse>(kMethod, HealthCheckRequest(), outcome.Callback());
  ASSERT_TRUE(outcome.Wait());
  EXPECT_EQ(outcome.result.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(outcome.result.status().message(), "bad");
  EXPECT_EQ(backend.calls(), 1);
  EXPECT_EQ(clock_.pending_timers(), 0u);
}

TEST_F(AsyncClientTest, GivesUpAfterMaxAttempts) {
  FakeBackend backend({Answer::kUnavailable});
  AsyncClient::Options o = options();
  o.max_attempts = 2;
  AsyncClient client(backend.Channel(), &clock_, &registry_, o);
  Outcome outcome;
  client.Call<HealthCheckResponse>(kMethod, HealthCheckRequest(), outcome.Callback());
  ASSERT_TRUE(AwaitTimers(clock_, 1));
  clock_.Advance(absl::Seconds(1));
  ASSERT_TRUE(outcome.Wait());
  EXPECT_EQ(outcome.result.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(outcome.result.status().message(), "try again");
  EXPECT_EQ(backend.calls(), 2);
}

TEST_F(AsyncClientTest, TheDeadlineEndsACallThatHangs) {
  FakeBackend backend({Answer::kHang});
  AsyncClient client(backend.Channel(), &clock_, &registry_, options());
  Outcome outcome;
  client.Call<HealthCheckResponse>(kMethod, HealthCheckRequest(), outcome.Callback(),
                                   absl::Milliseconds(200));
  ASSERT_TRUE(outcome.Wait());
  EXPECT_EQ(outcome.result.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(backend.calls(), 1);
}

TEST_F(AsyncClientTest, CancelEndsOneCallInFlightOrInBackoff) {
  FakeBackend hanging({Answer::kHang});
  FakeBackend failing({Answer::kUnavailable});
  Outcome in_flight, in_backoff, untouched;  // outlive the clients, whose shutdown ends `untouched`
  AsyncClient a(hanging.Channel(), &clock_, &registry_, options());
  AsyncClient b(failing.Channel(), &clock_, &registry_, options());
  const auto id = a.Call<HealthCheckResponse>(kMethod, HealthCheckRequest(), in_flight.Callback());
  a.Call<HealthCheckResponse>(kMethod, HealthCheckRequest(), untouched.Callback());
  const auto retrying =
      b.Call<HealthCheckResponse>(kMethod, HealthCheckRequest(), in_backoff.Callback());
  ASSERT_TRUE(hanging.AwaitCalls(2));
  ASSERT_TRUE(AwaitTimers(clock_, 1));
  a.Cancel(id);
  b.Cancel(retrying);
  ASSERT_TRUE(in_flight.Wait());
  ASSERT_TRUE(in_backoff.done.HasBeenNotified());  // at once: no attempt was in flight
  EXPECT_EQ(in_flight.result.status().code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(in_backoff.result.status().code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(clock_.pending_timers(), 0u);
  EXPECT_FALSE(untouched.done.HasBeenNotified());  // the other call goes on
  a.Cancel(id);  // over already: nothing happens
  EXPECT_EQ(failing.calls(), 1);
}

TEST_F(AsyncClientTest, ShutdownCancelsCallsInFlightAndInBackoff) {
  FakeBackend hanging({Answer::kHang});
  FakeBackend failing({Answer::kUnavailable});
  AsyncClient a(hanging.Channel(), &clock_, &registry_, options());
  AsyncClient b(failing.Channel(), &clock_, &registry_, options());
  Outcome in_flight, in_backoff;
  a.Call<HealthCheckResponse>(kMethod, HealthCheckRequest(), in_flight.Callback());
  b.Call<HealthCheckResponse>(kMethod, HealthCheckRequest(), in_backoff.Callback());
  ASSERT_TRUE(hanging.AwaitCalls(1));
  ASSERT_TRUE(AwaitTimers(clock_, 1));
  a.Shutdown();
  b.Shutdown();
  ASSERT_TRUE(in_flight.done.HasBeenNotified());  // Shutdown returns after the callbacks
  ASSERT_TRUE(in_backoff.done.HasBeenNotified());
  EXPECT_EQ(in_flight.result.status().code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(in_backoff.result.status().code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(clock_.pending_timers(), 0u);
  Outcome refused;
  a.Call<HealthCheckResponse>(kMethod, HealthCheckRequest(), refused.Callback());
  ASSERT_TRUE(refused.done.HasBeenNotified());
  EXPECT_EQ(refused.result.status().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace thingtank
