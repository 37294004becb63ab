// The running side of one forwarding rule: its in-process WAMP session and
// the asynchronous work it starts (gRPC calls to other services, each with a
// deadline; clock timers for backoff). A kind derives from RuleRunner and
// implements Begin.
//
// Every piece of asynchronous work is tracked; Stop refuses new work, cancels
// what is pending and waits until nothing runs. Callbacks hold a shared_ptr
// to the runner, so the object outlives them; Stop drops the runner's
// references to the session, realm and client, so a runner kept alive a little
// longer holds nothing.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"
#include "absl/strings/str_cat.h"
#include "prometheus/counter.h"
#include "services/common/async_client.h"
#include "services/common/clock.h"
#include "services/common/grpc_status.h"
#include "services/wamp/router/local_client.h"
#include "services/wamp/router/metrics.h"
#include "services/wamp/router/realm.h"
#include "thingtank/queues/v1/queues.grpc.pb.h"
#include "thingtank/streams/v1/streams.grpc.pb.h"
#include "thingtank/tables/v1/tables.grpc.pb.h"
#include "thingtank/wamp/v1/wamp.pb.h"

namespace thingtank::wamp {

// Deadline of the calls that do not wait (SendMessage, PutItem, ...).
inline constexpr absl::Duration kRuleCallDeadline = absl::Seconds(10);
// Pause after a failed call that the rule retries (clock time).
inline constexpr absl::Duration kRuleBackoff = absl::Seconds(1);

// Full method names of the services rules call ("/thingtank.queues.v1.QueuesService/SendMessage").
inline std::string QueuesMethod(absl::string_view method) {
  return absl::StrCat("/", queues::v1::QueuesService::service_full_name(), "/", method);
}
inline std::string TablesMethod(absl::string_view method) {
  return absl::StrCat("/", tables::v1::TablesService::service_full_name(), "/", method);
}
inline std::string StreamsMethod(absl::string_view method) {
  return absl::StrCat("/", streams::v1::StreamsService::service_full_name(), "/", method);
}

// Events forwarded and failures: totals over all rules (RuleEngine::stats)
// and thingtank_wamp_rule_{forwarded,failures}_total by kind. Thread-safe.
class RuleCounters {
 public:
  // Creates every kind's series (at zero).
  RuleCounters(WampMetrics* metrics, const std::vector<std::string>& kinds);
  void Forwarded(std::string_view kind, int n = 1);
  void Failed(std::string_view kind);
  uint64_t forwarded() const { return forwarded_.load(); }
  uint64_t failed() const { return failed_.load(); }

 private:
  struct Series {
    prometheus::Counter* forwarded;
    prometheus::Counter* failed;
  };
  std::map<std::string, Series, std::less<>> series_;  // immutable after construction
  std::atomic<uint64_t> forwarded_{0}, failed_{0};
};

// What a running rule needs from the engine. Everything here outlives the
// rule's activity (Stop releases the references).
struct RuleEnv {
  std::shared_ptr<Realm> realm;
  Clock* clock;
  // Calls to the other services (deadlines, retries of UNAVAILABLE, cancel).
  std::shared_ptr<AsyncClient> calls;
  std::shared_ptr<RuleCounters> counters;
};

class RuleRunner : public std::enable_shared_from_this<RuleRunner> {
 public:
  // `kind` names the kind in metrics and logs.
  RuleRunner(v1::Rule rule, std::string_view kind, RuleEnv env);
  virtual ~RuleRunner() = default;

  // Joins the realm and begins (subscribe, or the first poll).
  void Start();
  // Stops: none of the rule's callbacks runs after it returns. Call without
  // holding the realm's lock.
  void Stop();

  const v1::Rule& rule() const { return rule_; }

 protected:
  virtual absl::Status Begin() = 0;

  // Calls `method` (QueuesMethod("SendMessage")) through the engine's
  // AsyncClient with a deadline `deadline` from now (retries included),
  // unless the rule is stopped; `done(status, response)` runs on completion
  // unless the rule stopped meanwhile (Stop cancels what is in flight).
  template <typename Resp, typename Req, typename Done>
  void Rpc(const std::string& method, const Req& req, absl::Duration deadline, Done done) {
    std::shared_ptr<AsyncClient> calls;
    {
      absl::MutexLock lock(&mu_);
      if (stopped_) return;
      ++busy_;
      calls = env_.calls;
    }
    calls->Call<Resp>(
        method, req,
        [self = shared_from_this(), done](absl::StatusOr<Resp> response) mutable {
          if (!self->stopped()) {
            done(ToGrpcStatus(response.status()), response.ok() ? *response : Resp());
          }
          absl::MutexLock lock(&self->mu_);
          --self->busy_;
        },
        deadline, scope_);
  }

  // Runs `fn` after `delay` of clock time unless the rule stops first.
  void After(absl::Duration delay, std::function<void()> fn);

  bool stopped();

  // Counts a failure and logs it with the rule and the operation.
  void Fail(std::string_view what, std::string_view detail);
  void Fail(std::string_view what, const grpc::Status& status);
  void Forwarded(int n = 1) { env_.counters->Forwarded(kind_, n); }

  // The event callback: the runner, if still there (it runs under the
  // realm's lock: it must not block nor call into the realm).
  template <typename Self>
  LocalClient::EventFn OnEventOf() {
    std::weak_ptr<Self> weak = std::static_pointer_cast<Self>(shared_from_this());
    return [weak](const EventData& event) {
      if (auto self = weak.lock()) self->OnEvent(event);
    };
  }

  // Subscribes the rule's session ("" match is exact).
  absl::Status Subscribe(const std::string& topic, const std::string& match,
                         LocalClient::EventFn fn);

  const v1::Rule rule_;
  const std::string kind_;
  RuleEnv env_;
  std::shared_ptr<LocalClient> client_;  // set by Start, reset by Stop once idle
  const AsyncClient::ScopeId scope_;     // this rule's calls, cancelled by Stop

  absl::Mutex mu_;

 private:
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
  // Calls in flight and timers pending, plus their callbacks running.
  int busy_ ABSL_GUARDED_BY(mu_) = 0;
  absl::flat_hash_set<Clock::TimerId> timers_ ABSL_GUARDED_BY(mu_);
};

}  // namespace thingtank::wamp
