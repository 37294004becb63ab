// The wamp service's domain (thingtank.wamp.v1.WampService without the wire):
// publish to a topic, call a procedure a WAMP client registered, subscribe to
// a topic's events, and manage forwarding rules. Owns the checks (realm, URIs,
// JSON arguments, call timeout), the mapping of WAMP errors to statuses, and
// one in-process WAMP session per realm (LocalClient, authid "grpc", joined on
// first use) through which it publishes and calls.
//
// Threading: every method is thread-safe. CreateRule, DeleteRule write to
// RocksDB: call them off reactor threads. Publish and Call only take the
// realm's lock.
//
// Lifetime: `router` and `rules` must outlive the service; a Subscription
// must not outlive the router.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "prometheus/gauge.h"
#include "services/wamp/router/local_client.h"
#include "services/wamp/router/router.h"
#include "services/wamp/rules.h"
#include "thingtank/wamp/v1/wamp.pb.h"

namespace thingtank::wamp {

class WampService {
 public:
  // Runs exactly once; may run under the realm's lock: it must only hand the
  // result on (finish an RPC), never block nor call into the realm.
  using CallDone = std::function<void(absl::StatusOr<v1::CallResponse>)>;
  // Receives a subscription's events, under the realm's lock (same rule as
  // CallDone). Returns whether it took the event (counted as delivered in
  // thingtank_wamp_events_delivered_total).
  using EventSink = std::function<bool(const v1::SubscribeResponse& event)>;

  // One open subscription: counted in thingtank_wamp_grpc_subscriptions{realm}
  // from Subscribe until it is destroyed. Destroying it leaves the realm: no
  // sink call runs after the destructor returns.
  class Subscription {
   public:
    ~Subscription();
    Subscription(const Subscription&) = delete;
    Subscription& operator=(const Subscription&) = delete;

    // Starts delivering events to `sink` (once). INVALID_ARGUMENT naming
    // "topic" when the broker refuses the subscription.
    absl::Status Start(EventSink sink);

   private:
    friend class WampService;
    Subscription(std::shared_ptr<Realm> realm, v1::SubscribeRequest request, MatchPolicy match,
                 WampMetrics* metrics);

    const v1::SubscribeRequest request_;
    const MatchPolicy match_;
    WampMetrics* const metrics_;
    std::shared_ptr<LocalClient> client_;
    prometheus::Gauge* const open_;
  };

  WampService(Router* router, RuleEngine* rules);
  ~WampService();  // leaves the per-realm sessions
  WampService(const WampService&) = delete;
  WampService& operator=(const WampService&) = delete;

  // NOT_FOUND (reason NoSuchRealm) for an unknown realm ("" is realm1);
  // INVALID_ARGUMENT naming topic, args_json or kwargs_json.
  absl::StatusOr<v1::PublishResponse> Publish(const v1::PublishRequest& request);
  // As Publish for the checks (procedure, timeout: more than 0, at most 10
  // minutes, default 10 s), then `done` with the callee's result, or the WAMP
  // error as a status whose ErrorInfo reason is the error URI
  // (no_such_procedure NOT_FOUND, timeout DEADLINE_EXCEEDED, canceled
  // CANCELLED, not_authorized PERMISSION_DENIED, invalid_argument/invalid_uri
  // INVALID_ARGUMENT, any other ABORTED).
  void Call(const v1::CallRequest& request, CallDone done);
  // Checks realm, match (exact, prefix, wildcard; "" is exact) and topic,
  // joins the realm; events flow once Subscription::Start is called.
  absl::StatusOr<std::unique_ptr<Subscription>> Subscribe(const v1::SubscribeRequest& request);

  absl::StatusOr<v1::CreateRuleResponse> CreateRule(const v1::CreateRuleRequest& request);
  absl::StatusOr<v1::ListRulesResponse> ListRules(const v1::ListRulesRequest& request);
  absl::StatusOr<v1::DeleteRuleResponse> DeleteRule(const v1::DeleteRuleRequest& request);

 private:
  absl::StatusOr<std::shared_ptr<Realm>> RealmOf(const std::string& name) const;
  std::shared_ptr<LocalClient> ClientFor(const std::shared_ptr<Realm>& realm);

  Router* const router_;
  RuleEngine* const rules_;
  absl::Mutex mu_;
  std::map<std::string, std::shared_ptr<LocalClient>> clients_ ABSL_GUARDED_BY(mu_);
};

// Parses WAMP arguments given as JSON text ("" = none). INVALID_ARGUMENT
// naming `field` when the text is not a JSON array (args) / object (kwargs).
absl::StatusOr<Json> ParseJsonArgs(const std::string& text, const char* field, bool object);

// A WAMP error URI as a status (ErrorInfo reason = the URI); the message is
// the URI and the first argument.
absl::Status StatusOfWampError(const std::string& uri, const Json& args);

}  // namespace thingtank::wamp
