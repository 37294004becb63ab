// The gRPC face of the WAMP router (thingtank.wamp.v1.WampService): publish,
// call a procedure a WAMP client registered, stream a topic's events, and
// manage forwarding rules. Does not own its dependencies.
#pragma once

#include <map>
#include <memory>

#include "absl/synchronization/mutex.h"
#include "services/common/grpc_adapter.h"
#include "services/wamp/router/router.h"
#include "services/wamp/rules.h"
#include "thingtank/wamp/v1/wamp.grpc.pb.h"

namespace thingtank::wamp {

class WampGrpcService final : public GrpcAdapter<v1::WampService::CallbackService> {
 public:
  WampGrpcService(Router* router, RuleEngine* rules, UnaryRunner* runner);
  ~WampGrpcService() override;

 private:
  absl::Status Publish(const v1::PublishRequest& request, v1::PublishResponse* response);
  void Call(const v1::CallRequest& request, v1::CallResponse* response, UnaryRunner::Done done);
  grpc::ServerWriteReactor<grpc::ByteBuffer>* Subscribe(const v1::SubscribeRequest& request,
                                                        RpcMetrics::Method* series);

  // The in-process session that publishes and calls for gRPC clients in
  // `realm` (one per realm, joined on first use).
  std::shared_ptr<class LocalClient> ClientFor(const std::shared_ptr<Realm>& realm);

  Router* const router_;
  RuleEngine* const rules_;
  absl::Mutex mu_;
  std::map<std::string, std::shared_ptr<class LocalClient>> clients_ ABSL_GUARDED_BY(mu_);
};

// Parses WAMP arguments given as JSON text ("" = none). INVALID_ARGUMENT
// naming `field` when the text is not a JSON array (args) / object (kwargs).
absl::StatusOr<Json> ParseJsonArgs(const std::string& text, const char* field, bool object);

}  // namespace thingtank::wamp
