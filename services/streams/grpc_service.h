#pragma once

#include "services/common/grpc_adapter.h"
#include "services/streams/stream_service.h"
#include "thingtank/streams/v1/streams.grpc.pb.h"

namespace thingtank::streams {

// The gRPC face of the streams domain: unary calls on the executor, and
// SubscribeToShard as a server stream fed by the domain's Subscription (one
// event written at a time; the next is produced once it is on the wire).
// Does not own its dependencies.
class StreamsGrpcService final : public GrpcAdapter<v1::StreamsService::CallbackService> {
 public:
  StreamsGrpcService(StreamService* domain, UnaryRunner* runner);

 private:
  grpc::ServerWriteReactor<grpc::ByteBuffer>* Subscribe(const v1::SubscribeToShardRequest& request,
                                                        RpcMetrics::Method* series);
  StreamService* const domain_;
};

}  // namespace thingtank::streams
