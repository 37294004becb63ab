#include "services/wamp/rules/runner.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "services/common/log.h"
#include "services/wamp/codec/uri.h"

namespace thingtank::wamp {

// ---- RuleCounters -------------------------------------------------------------

RuleCounters::RuleCounters(WampMetrics* metrics, const std::vector<std::string>& kinds) {
  for (const std::string& kind : kinds) {
    series_[kind] = Series{metrics->RuleForwarded(kind), metrics->RuleFailures(kind)};
  }
}

void RuleCounters::Forwarded(std::string_view kind, int n) {
  forwarded_ += n;
  // A runner's kind is always registered: the engine made it from the list.
  series_.find(kind)->second.forwarded->Increment(n);
}

void RuleCounters::Failed(std::string_view kind) {
  ++failed_;
  series_.find(kind)->second.failed->Increment();
}

// ---- RuleRunner ---------------------------------------------------------------

RuleRunner::RuleRunner(v1::Rule rule, std::string_view kind, RuleEnv env)
    : rule_(std::move(rule)), kind_(kind), env_(std::move(env)), scope_(env_.calls->NewScope()) {}

void RuleRunner::Start() {
  client_ = LocalClient::Join(env_.realm, absl::StrCat("rule:", rule_.id()));
  absl::Status s = Begin();
  if (!s.ok()) Fail("start", s.ToString());
}

void RuleRunner::Stop() {
  std::vector<Clock::TimerId> timers;
  bool first = false;
  {
    absl::MutexLock lock(&mu_);
    if (!stopped_) {
      stopped_ = first = true;
      for (Clock::TimerId id : timers_) timers.push_back(id);
    }
  }
  // No lock held: leaving takes the realm's lock (event callbacks run under
  // it and take mu_), and cancelling may run a completion inline.
  if (client_ != nullptr) client_->Leave();
  if (first) env_.calls->CancelScope(scope_);
  for (Clock::TimerId id : timers) {
    if (env_.clock->Cancel(id)) {
      absl::MutexLock lock(&mu_);
      timers_.erase(id);
      --busy_;
    }
  }
  {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(
        +[](int* busy) { return *busy == 0; }, &busy_));
  }
  client_.reset();
  env_.realm.reset();
  env_.calls.reset();
}

void RuleRunner::After(absl::Duration delay, std::function<void()> fn) {
  absl::MutexLock lock(&mu_);
  if (stopped_) return;
  ++busy_;
  auto id = std::make_shared<Clock::TimerId>(0);
  // Under mu_: the timer cannot look up its id before it is stored.
  *id = env_.clock->RunAfter(delay, [self = shared_from_this(), id, fn = std::move(fn)] {
    {
      absl::MutexLock lock(&self->mu_);
      self->timers_.erase(*id);
      if (self->stopped_) {
        --self->busy_;
        return;
      }
    }
    fn();
    absl::MutexLock lock(&self->mu_);
    --self->busy_;
  });
  timers_.insert(*id);
}

bool RuleRunner::stopped() {
  absl::MutexLock lock(&mu_);
  return stopped_;
}

void RuleRunner::Fail(std::string_view what, std::string_view detail) {
  env_.counters->Failed(kind_);
  TT_LOG_WARN("wamp rule failed rule={} kind={} op={} error={}", rule_.id(), kind_, what, detail);
}

void RuleRunner::Fail(std::string_view what, const grpc::Status& status) {
  Fail(what, absl::StrCat("grpc code ", static_cast<int>(status.error_code()), ": ",
                          status.error_message()));
}

absl::Status RuleRunner::Subscribe(const std::string& topic, const std::string& match,
                                   LocalClient::EventFn fn) {
  const MatchPolicy policy = ParseMatchPolicy(match).value_or(MatchPolicy::kExact);
  return client_->Subscribe(topic, policy, std::move(fn));
}

}  // namespace thingtank::wamp
