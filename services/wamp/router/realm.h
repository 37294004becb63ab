// One WAMP realm: its sessions, the broker (subscriptions, publish) and the
// dealer (registrations, calls, progressive results, cancel, timeouts), the
// session meta API, and procedures the router itself provides (in-process
// handlers such as the bridge to the other services).
//
// Threading: every public method is thread-safe. One mutex guards the realm;
// peers' Send never blocks, so messages are queued under the lock (which
// keeps each recipient's order) and in-process handlers run after it is
// released.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "services/common/clock.h"
#include "services/wamp/auth/auth.h"
#include "services/wamp/router/peer.h"

namespace thingtank::wamp {

class WampMetrics;

// Who a session is (from HELLO and authentication).
struct SessionInfo {
  uint64_t id = 0;
  std::string authid, authrole, authmethod, authprovider;
  // HELLO.Details.roles.callee.features.call_canceling: INTERRUPT is sent.
  bool callee_cancels = false;
  // In-process sessions (the gRPC face, forwarding rules): not listed by the
  // meta API, not subject to authorization, may use the reserved prefixes.
  bool internal = false;
};

// The final outcome of a router-provided procedure: a result ([args],
// {kwargs}) or an error URI with arguments.
struct ProcedureOutcome {
  std::string error;  // empty: success
  Json args = Json::array();
  Json kwargs = Json::object();

  static ProcedureOutcome Result(Json args, Json kwargs = Json::object()) {
    return {"", std::move(args), std::move(kwargs)};
  }
  static ProcedureOutcome Error(std::string uri, std::string message,
                                Json kwargs = Json::object()) {
    return {std::move(uri), Json::array({std::move(message)}), std::move(kwargs)};
  }
};

struct ProcedureCall {
  std::string procedure;  // the URI called
  uint64_t caller = 0;    // session id
  std::string caller_authid, caller_authrole;
  Json args = Json::array();
  Json kwargs = Json::object();
};
// Called outside the realm's lock, on the caller's thread; must call `done`
// exactly once, from any thread, possibly later.
using ProcedureHandler =
    std::function<void(ProcedureCall call, std::function<void(ProcedureOutcome)> done)>;

class Realm : public std::enable_shared_from_this<Realm> {
 public:
  Realm(std::string name, const RealmConfig* config, Clock* clock, WampMetrics* metrics);
  ~Realm();
  Realm(const Realm&) = delete;
  Realm& operator=(const Realm&) = delete;

  const std::string& name() const { return name_; }
  const RealmConfig& config() const { return *config_; }

  // Adds an established session (WELCOME already sent); publishes
  // wamp.session.on_join.
  void Join(const SessionInfo& info, std::shared_ptr<Peer> peer);
  // Removes a session and all it owns: its subscriptions, its registrations
  // (callers of its pending invocations get wamp.error.canceled), its pending
  // calls (callees get INTERRUPT). Publishes wamp.session.on_leave.
  // Idempotent.
  void Leave(uint64_t session_id);
  // Handles one validated message of an established session (PUBLISH,
  // SUBSCRIBE, UNSUBSCRIBE, CALL, CANCEL, REGISTER, UNREGISTER, YIELD, ERROR).
  // A non-OK status is a protocol violation: the session must be aborted.
  absl::Status Handle(uint64_t session_id, Json& message);

  // A procedure the router provides (exact URI, or every URI under a prefix).
  // Clients can neither register nor shadow it.
  void Provide(std::string uri, MatchPolicy match, ProcedureHandler handler);

  size_t session_count() const;

 private:
  enum class Invoke { kSingle, kRoundRobin, kRandom, kFirst, kLast };
  struct Subscription {
    uint64_t id;
    std::string uri;
    MatchPolicy match;
    std::vector<uint64_t> sessions;  // subscription order
  };
  struct Registration {
    uint64_t id;
    std::string uri;
    MatchPolicy match;
    Invoke invoke;
    bool disclose_caller = false;
    std::vector<uint64_t> callees;  // registration order
    size_t next = 0;                // round robin
  };
  // A call in flight: to a callee (callee != 0) or to a router procedure.
  struct Invocation {
    uint64_t id;
    uint64_t caller;
    uint64_t call_request;
    uint64_t callee = 0;
    bool receive_progress = false;
    // The caller got its final answer (cancel skip/killnowait, timeout, or it
    // left): whatever the callee still sends is dropped.
    bool caller_done = false;
    Clock::TimerId timer = 0;
    absl::Time started;
  };
  struct Session {
    SessionInfo info;
    std::shared_ptr<Peer> peer;
    std::vector<uint64_t> subscriptions;
    std::vector<uint64_t> registrations;
    // Pending calls: CALL.Request -> invocation id.
    absl::flat_hash_map<uint64_t, uint64_t> calls;
    std::vector<uint64_t> invocations;  // as callee (may hold finished ids)
  };
  struct Provided {
    std::string uri;
    MatchPolicy match;
    ProcedureHandler handler;
  };
  using After = std::vector<std::function<void()>>;

  Session* FindSession(uint64_t id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void SendTo(Session* s, Json message) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void SendError(Session* s, MessageType request_type, uint64_t request, std::string uri,
                 std::string message) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool Authorized(const Session& s, Action action, const std::string& uri) const;

  // Broker.
  void OnPublish(Session* s, Json& m) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void OnSubscribe(Session* s, Json& m) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void OnUnsubscribe(Session* s, Json& m) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Delivers to every matching subscription; returns the publication id.
  uint64_t Publish(const Session* publisher, const std::string& topic, const Json& options,
                   const Json* args, const Json* kwargs) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void DropSubscriber(uint64_t subscription, uint64_t session) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Dealer.
  void OnRegister(Session* s, Json& m) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void OnUnregister(Session* s, Json& m) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void OnCall(Session* s, Json& m, After* after) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void OnCancel(Session* s, Json& m) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status OnYield(Session* s, Json& m) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status OnError(Session* s, Json& m) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  const Provided* FindProvided(const std::string& uri) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  Registration* FindRegistration(const std::string& uri) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void DropCallee(uint64_t registration, uint64_t session) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Ends an invocation, answering the caller (unless it is done) with
  // `final_message` (RESULT or ERROR, request id filled in here).
  void Finish(uint64_t invocation, Json final_message) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Cancel semantics shared by CANCEL, timeouts and callers leaving.
  void Interrupt(Invocation* inv, const std::string& mode, const std::string& caller_error)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void OnTimeout(uint64_t invocation);
  void FinishProvided(uint64_t invocation, ProcedureOutcome outcome);

  // Meta API.
  void ProvideMetaProcedures();
  Json SessionDetails(const Session& s) const;
  void LeaveLocked(uint64_t session_id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::string name_;
  const RealmConfig* config_;
  Clock* const clock_;
  WampMetrics* const metrics_;

  mutable absl::Mutex mu_;
  absl::flat_hash_map<uint64_t, std::unique_ptr<Session>> sessions_ ABSL_GUARDED_BY(mu_);
  size_t external_sessions_ ABSL_GUARDED_BY(mu_) = 0;
  absl::flat_hash_map<uint64_t, std::unique_ptr<Subscription>> subscriptions_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, Subscription*> exact_subscriptions_ ABSL_GUARDED_BY(mu_);
  std::vector<Subscription*> pattern_subscriptions_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<uint64_t, std::unique_ptr<Registration>> registrations_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, Registration*> exact_registrations_ ABSL_GUARDED_BY(mu_);
  std::vector<Registration*> pattern_registrations_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<uint64_t, Invocation> invocations_ ABSL_GUARDED_BY(mu_);
  std::vector<Provided> provided_ ABSL_GUARDED_BY(mu_);
};

// Random ids in [1, 2^53], as the spec asks for session and publication ids.
uint64_t RandomId();

}  // namespace thingtank::wamp
