#include "services/wamp/router/metrics.h"

namespace thingtank::wamp {

namespace {
// What a router receives from a client (WAMP v2 basic and advanced profile,
// router side) and what it sends; other types from a client are protocol
// errors, counted there.
constexpr MessageType kReceived[] = {
    MessageType::kHello,     MessageType::kAuthenticate, MessageType::kAbort,
    MessageType::kGoodbye,   MessageType::kError,        MessageType::kPublish,
    MessageType::kSubscribe, MessageType::kUnsubscribe,  MessageType::kCall,
    MessageType::kCancel,    MessageType::kRegister,     MessageType::kUnregister,
    MessageType::kYield,
};
constexpr MessageType kSent[] = {
    MessageType::kWelcome,      MessageType::kAbort,      MessageType::kChallenge,
    MessageType::kGoodbye,      MessageType::kError,      MessageType::kPublished,
    MessageType::kSubscribed,   MessageType::kUnsubscribed, MessageType::kEvent,
    MessageType::kResult,       MessageType::kRegistered, MessageType::kUnregistered,
    MessageType::kInvocation,   MessageType::kInterrupt,
};
}  // namespace

WampMetrics::WampMetrics(prometheus::Registry* registry) : registry_(registry) {
  in_family_ = &prometheus::BuildCounter()
                    .Name("thingtank_wamp_messages_received_total")
                    .Help("WAMP messages received from sessions, by message type")
                    .Register(*registry);
  out_family_ = &prometheus::BuildCounter()
                     .Name("thingtank_wamp_messages_sent_total")
                     .Help("WAMP messages sent to sessions, by message type")
                     .Register(*registry);
  for (MessageType t : kReceived) {
    in_[static_cast<int>(t)] = &in_family_->Add({{"type", std::string(MessageTypeName(t))}});
  }
  for (MessageType t : kSent) {
    out_[static_cast<int>(t)] = &out_family_->Add({{"type", std::string(MessageTypeName(t))}});
  }
  events_delivered_ = &prometheus::BuildCounter()
                           .Name("thingtank_wamp_events_delivered_total")
                           .Help("EVENTs delivered to subscribers (WAMP sessions and gRPC Subscribe streams)")
                           .Register(*registry)
                           .Add({});
  calls_routed_ = &prometheus::BuildCounter()
                       .Name("thingtank_wamp_calls_routed_total")
                       .Help("CALLs routed to a callee or a router procedure")
                       .Register(*registry)
                       .Add({});
  call_latency_ = &prometheus::BuildHistogram()
                       .Name("thingtank_wamp_call_duration_seconds")
                       .Help("CALL to final RESULT or ERROR")
                       .Register(*registry)
                       .Add({}, prometheus::Histogram::BucketBoundaries{
                                    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                                    0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10});
  protocol_errors_ = &prometheus::BuildCounter()
                          .Name("thingtank_wamp_protocol_errors_total")
                          .Help("Protocol violations: WAMP sessions aborted for one, and "
                                "WebSocket connections closed for a bad frame, an oversize "
                                "message or a wrong frame type")
                          .Register(*registry)
                          .Add({});
  disconnects_ = &prometheus::BuildCounter()
                      .Name("thingtank_wamp_disconnects_total")
                      .Help("WebSocket connections ended, by reason")
                      .Register(*registry);
  sessions_ = &prometheus::BuildGauge()
                   .Name("thingtank_wamp_sessions")
                   .Help("Established WAMP sessions, by realm")
                   .Register(*registry);
  grpc_subscriptions_ = &prometheus::BuildGauge()
                             .Name("thingtank_wamp_grpc_subscriptions")
                             .Help("Open gRPC Subscribe streams (WampService/Subscribe), by realm")
                             .Register(*registry);
  rule_forwarded_ = &prometheus::BuildCounter()
                         .Name("thingtank_wamp_rule_forwarded_total")
                         .Help("Events and messages forwarded by WAMP forwarding rules, by rule kind")
                         .Register(*registry);
  rule_failures_ = &prometheus::BuildCounter()
                        .Name("thingtank_wamp_rule_failures_total")
                        .Help("Forwarding failures of WAMP forwarding rules, by rule kind")
                        .Register(*registry);
}

void WampMetrics::Disconnect(DisconnectReason reason) {
  if (reason == DisconnectReason::kProtocolViolation) protocol_errors_->Increment();
  disconnects_->Add({{"reason", std::string(DisconnectReasonName(reason))}}).Increment();
}

prometheus::Gauge* WampMetrics::Sessions(const std::string& realm) {
  absl::MutexLock lock(&mu_);
  return &sessions_->Add({{"realm", realm}});
}

prometheus::Gauge* WampMetrics::GrpcSubscriptions(const std::string& realm) {
  absl::MutexLock lock(&mu_);
  return &grpc_subscriptions_->Add({{"realm", realm}});
}

}  // namespace thingtank::wamp

namespace thingtank::wamp {

prometheus::Counter* WampMetrics::RuleForwarded(const std::string& kind) {
  absl::MutexLock lock(&mu_);
  return &rule_forwarded_->Add({{"kind", kind}});
}

prometheus::Counter* WampMetrics::RuleFailures(const std::string& kind) {
  absl::MutexLock lock(&mu_);
  return &rule_failures_->Add({{"kind", kind}});
}

}  // namespace thingtank::wamp
