// The one metrics class of the wamp service (thingtank_wamp_*): the router's
// traffic, sessions, gRPC subscriptions and the forwarding rules' counters,
// all declared in the constructor (metrics.cc). Counters are created up front
// so the hot paths only increment; the per-realm gauges and the per-rule-kind
// counters on first use (both label sets are bounded: realms come from the
// config, kinds from the rule kind registry).
//
// Thread-safe. Lives in the router (Router::metrics()), which every other part
// of the service reaches.
#pragma once

#include <array>
#include <memory>
#include <string>

#include "absl/synchronization/mutex.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"
#include "services/wamp/codec/message.h"
#include "services/wamp/transport/websocket_server.h"

namespace thingtank::wamp {

class WampMetrics {
 public:
  explicit WampMetrics(prometheus::Registry* registry);

  // Types a router cannot receive (or send) have no series: nothing counted.
  void MessageIn(MessageType type) { Count(in_, type); }
  void MessageOut(MessageType type) { Count(out_, type); }
  void EventsDelivered(double n) { events_delivered_->Increment(n); }
  void CallRouted() { calls_routed_->Increment(); }
  void CallLatency(double seconds) { call_latency_->Observe(seconds); }
  void ProtocolError() { protocol_errors_->Increment(); }
  void Disconnect(DisconnectReason reason);
  // Sessions gauge of one realm (created on first use).
  prometheus::Gauge* Sessions(const std::string& realm);
  // Open gRPC Subscribe streams of one realm (created on first use).
  prometheus::Gauge* GrpcSubscriptions(const std::string& realm);
  // Events and messages forwarded by rules of one kind, and forwarding
  // failures (created on first use; the rule engine creates every kind's at
  // start so they exist at zero).
  prometheus::Counter* RuleForwarded(const std::string& kind);
  prometheus::Counter* RuleFailures(const std::string& kind);

  // The registry the series live in (for the rules' service-to-service client).
  prometheus::Registry* registry() const { return registry_; }

 private:
  prometheus::Registry* const registry_;
  static constexpr int kTypes = 71;
  static void Count(const std::array<prometheus::Counter*, kTypes>& slots, MessageType type) {
    const int i = static_cast<int>(type);
    if (i >= 0 && i < kTypes && slots[i] != nullptr) slots[i]->Increment();
  }

  prometheus::Family<prometheus::Counter>* in_family_;
  prometheus::Family<prometheus::Counter>* out_family_;
  prometheus::Family<prometheus::Counter>* disconnects_;
  prometheus::Family<prometheus::Gauge>* sessions_;
  prometheus::Family<prometheus::Gauge>* grpc_subscriptions_;
  prometheus::Family<prometheus::Counter>* rule_forwarded_;
  prometheus::Family<prometheus::Counter>* rule_failures_;
  std::array<prometheus::Counter*, kTypes> in_{};
  std::array<prometheus::Counter*, kTypes> out_{};
  prometheus::Counter* events_delivered_;
  prometheus::Counter* calls_routed_;
  prometheus::Histogram* call_latency_;
  prometheus::Counter* protocol_errors_;
  absl::Mutex mu_;
};

}  // namespace thingtank::wamp
