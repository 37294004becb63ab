// The gRPC face of the wamp service (thingtank.wamp.v1.WampService): adapts
// each method to WampService, the domain, and finishes the call. Subscribe is
// a server stream fed by the subscription's events, with bounded buffering.
// Does not own its dependencies.
#pragma once

#include "services/common/grpc_adapter.h"
#include "services/wamp/wamp_service.h"
#include "thingtank/wamp/v1/wamp.grpc.pb.h"

namespace thingtank::wamp {

class WampGrpcService final : public GrpcAdapter<v1::WampService::CallbackService> {
 public:
  WampGrpcService(WampService* domain, UnaryRunner* runner);

 private:
  grpc::ServerWriteReactor<grpc::ByteBuffer>* Subscribe(const v1::SubscribeRequest& request,
                                                        RpcMetrics::Method* series);

  WampService* const domain_;
};

}  // namespace thingtank::wamp
