#include "services/common/async_client.h"

#include <atomic>
#include <deque>
#include <memory>

#include "absl/synchronization/notification.h"
#include "grpcpp/create_channel.h"
#include "gtest/gtest.h"
#include "prometheus/registry.h"
#include "services/common/status.h"
#include "services/common/testing/fake_backend.h"
#include "thingtank/testing/v1/echo.pb.h"

namespace thingtank {
namespace {

using ::thingtank::testing::v1::Chunk;

constexpr char kEcho[] = "thingtank.testing.v1.EchoService.Echo";
constexpr char kMethod[] = "/thingtank.testing.v1.EchoService/Echo";
constexpr absl::Duration kWait = absl::Seconds(20);  // real-time bound of every wait

// What the fake backend does with each call, in order; the last repeats.
enum class Answer { kServing, kUnavailable, kThrottled, kInvalid, kHang };

// A real gRPC server on a free port (the testing kit's FakeBackend) whose
// Echo method answers as scripted.
class ScriptedBackend {
 public:
  explicit ScriptedBackend(std::deque<Answer> script) : script_(std::move(script)) {
    backend_.On<Chunk, Chunk>(
        kEcho, [this](const FakeCall& call, const Chunk&, Chunk* out) -> absl::Status {
          switch (Next()) {
            case Answer::kServing:
              out->set_seq(1);  // "serving"
              return absl::OkStatus();
            case Answer::kUnavailable:
              return absl::UnavailableError("try again");
            case Answer::kThrottled:
              return QuotaExceeded("Throttling", "fake", "slow down", absl::Seconds(2));
            case Answer::kInvalid:
              return absl::InvalidArgumentError("bad");
            case Answer::kHang:  // until the caller cancels or its deadline passes
              call.WaitUntil([] { return false; }, absl::InfiniteDuration());
              return absl::CancelledError("cancelled");
          }
          return absl::InternalError("unreachable");
        });
  }

  std::shared_ptr<grpc::Channel> Channel() const { return backend_.Channel(); }
  int calls() const { return backend_.calls(kEcho); }
  // Waits (real time, bounded) until `n` calls have arrived.
  bool AwaitCalls(int n) { return backend_.AwaitCalls(kEcho, n, kWait); }

 private:
  Answer Next() {
    absl::MutexLock lock(&mu_);
    Answer a = script_.front();
    if (script_.size() > 1) script_.pop_front();
    return a;
  }

  absl::Mutex mu_;
  std::deque<Answer> script_ ABSL_GUARDED_BY(mu_);
  FakeBackend backend_;  // last: stopped before the script goes
};

// The outcome of one call, awaited in real time.
struct Outcome {
  absl::Notification done;
  absl::StatusOr<Chunk> result = absl::UnknownError("not done");
  std::function<void(absl::StatusOr<Chunk>)> Callback() {
    return [this](absl::StatusOr<Chunk> r) {
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

class AsyncClientTest : public ::testing::Test {
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
  ScriptedBackend backend({Answer::kUnavailable, Answer::kUnavailable, Answer::kServing});
  AsyncClient client(backend.Channel(), &clock_, &registry_, options());
  Outcome outcome;
  client.Call<Chunk>(kMethod, Chunk(), outcome.Callback());
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
  EXPECT_EQ(outcome.result->seq(), 1);
  EXPECT_EQ(backend.calls(), 3);
  EXPECT_EQ(Retries(registry_), 2);
}

TEST_F(AsyncClientTest, HonoursTheServersRetryInfo) {
  ScriptedBackend backend({Answer::kThrottled, Answer::kServing});
  AsyncClient client(backend.Channel(), &clock_, &registry_, options());
  Outcome outcome;
  client.Call<Chunk>(kMethod, Chunk(), outcome.Callback());
  ASSERT_TRUE(AwaitTimers(clock_, 1));
  clock_.Advance(absl::Milliseconds(1999));  // RetryInfo says 2 s, more than the backoff
  EXPECT_EQ(backend.calls(), 1);
  clock_.Advance(absl::Milliseconds(1));
  ASSERT_TRUE(outcome.Wait());
  EXPECT_TRUE(outcome.result.ok()) << outcome.result.status();
}

TEST_F(AsyncClientTest, OtherErrorsAreNotRetried) {
  ScriptedBackend backend({Answer::kInvalid});
  AsyncClient client(backend.Channel(), &clock_, &registry_, options());
  Outcome outcome;
  client.Call<Chunk>(kMethod, Chunk(), outcome.Callback());
  ASSERT_TRUE(outcome.Wait());
  EXPECT_EQ(outcome.result.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(outcome.result.status().message(), "bad");
  EXPECT_EQ(backend.calls(), 1);
  EXPECT_EQ(clock_.pending_timers(), 0u);
}

TEST_F(AsyncClientTest, GivesUpAfterMaxAttempts) {
  ScriptedBackend backend({Answer::kUnavailable});
  AsyncClient::Options o = options();
  o.max_attempts = 2;
  AsyncClient client(backend.Channel(), &clock_, &registry_, o);
  Outcome outcome;
  client.Call<Chunk>(kMethod, Chunk(), outcome.Callback());
  ASSERT_TRUE(AwaitTimers(clock_, 1));
  clock_.Advance(absl::Seconds(1));
  ASSERT_TRUE(outcome.Wait());
  EXPECT_EQ(outcome.result.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(outcome.result.status().message(), "try again");
  EXPECT_EQ(backend.calls(), 2);
}

TEST_F(AsyncClientTest, TheDeadlineEndsACallThatHangs) {
  ScriptedBackend backend({Answer::kHang});
  AsyncClient client(backend.Channel(), &clock_, &registry_, options());
  Outcome outcome;
  client.Call<Chunk>(kMethod, Chunk(), outcome.Callback(), absl::Milliseconds(200));
  ASSERT_TRUE(outcome.Wait());
  EXPECT_EQ(outcome.result.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(backend.calls(), 1);
}

TEST_F(AsyncClientTest, CancelEndsOneCallInFlightOrInBackoff) {
  ScriptedBackend hanging({Answer::kHang});
  ScriptedBackend failing({Answer::kUnavailable});
  Outcome in_flight, in_backoff, untouched;  // outlive the clients, whose shutdown ends `untouched`
  AsyncClient a(hanging.Channel(), &clock_, &registry_, options());
  AsyncClient b(failing.Channel(), &clock_, &registry_, options());
  const auto id = a.Call<Chunk>(kMethod, Chunk(), in_flight.Callback());
  a.Call<Chunk>(kMethod, Chunk(), untouched.Callback());
  const auto retrying =
      b.Call<Chunk>(kMethod, Chunk(), in_backoff.Callback());
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
  ScriptedBackend hanging({Answer::kHang});
  ScriptedBackend failing({Answer::kUnavailable});
  AsyncClient a(hanging.Channel(), &clock_, &registry_, options());
  AsyncClient b(failing.Channel(), &clock_, &registry_, options());
  Outcome in_flight, in_backoff;
  a.Call<Chunk>(kMethod, Chunk(), in_flight.Callback());
  b.Call<Chunk>(kMethod, Chunk(), in_backoff.Callback());
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
  a.Call<Chunk>(kMethod, Chunk(), refused.Callback());
  ASSERT_TRUE(refused.done.HasBeenNotified());
  EXPECT_EQ(refused.result.status().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace thingtank
