// The gRPC face of the WAMP router (thingtank.wamp.v1.WampService): publish,
// call a procedure a WAMP client registered, stream a topic's events, and
// manage forwarding rules. Does not own its dependencies.
#pragma once

#include <map>
#include <memory>

#include "absl/synchronization/mutex.h"
#include "services/common/server.h"
#include "services/wamp/router/router.h"
#include "services/wamp/rules.h"
#include "thingtank/wamp/v1/wamp.grpc.pb.h"

namespace thingtank::wamp {

class WampGrpcService final : public v1::WampService::CallbackService {
 public:
  // `gate` (may be null) admits streaming calls; unary ones go through `runner`.
  WampGrpcService(Router* router, RuleEngine* rules, UnaryRunner* runner, CallGate* gate)
      : router_(router), rules_(rules), runner_(runner), gate_(gate) {}
  ~WampGrpcService() override;

  grpc::ServerUnaryReactor* Publish(grpc::CallbackServerContext* context,
                                    const v1::PublishRequest* request,
                                    v1::PublishResponse* response) override;
  grpc::ServerUnaryReactor* Call(grpc::CallbackServerContext* context,
                                 const v1::CallRequest* request,
                                 v1::CallResponse* response) override;
  grpc::ServerWriteReactor<v1::SubscribeResponse>* Subscribe(
      grpc::CallbackServerContext* context, const v1::SubscribeRequest* request) override;
  grpc::ServerUnaryReactor* CreateRule(grpc::CallbackServerContext* context,
                                       const v1::CreateRuleRequest* request,
                                       v1::CreateRuleResponse* response) override;
  grpc::ServerUnaryReactor* ListRules(grpc::CallbackServerContext* context,
                                      const v1::ListRulesRequest* request,
                                      v1::ListRulesResponse* response) override;
  grpc::ServerUnaryReactor* DeleteRule(grpc::CallbackServerContext* context,
                                       const v1::DeleteRuleRequest* request,
                                       v1::DeleteRuleResponse* response) override;

 private:
  // The in-process session that publishes and calls for gRPC clients in
  // `realm` (one per realm, joined on first use).
  std::shared_ptr<class LocalClient> ClientFor(const std::shared_ptr<Realm>& realm);

  Router* const router_;
  RuleEngine* const rules_;
  UnaryRunner* const runner_;
  CallGate* const gate_;
  absl::Mutex mu_;
  std::map<std::string, std::shared_ptr<class LocalClient>> clients_ ABSL_GUARDED_BY(mu_);
};

// Parses WAMP arguments given as JSON text ("" = none). INVALID_ARGUMENT
// naming `field` when the text is not a JSON array (args) / object (kwargs).
absl::StatusOr<Json> ParseJsonArgs(const std::string& text, const char* field, bool object);

}  // namespace thingtank::wamp
