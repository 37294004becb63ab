#pragma once

#include "services/common/grpc_adapter.h"
#include "services/queues/queue_service.h"
#include "thingtank/queues/v1/queues.grpc.pb.h"

namespace thingtank::queues {

// The gRPC face of the queues domain: each handler hands its request to the
// domain on the service's executor (via UnaryRunner), or first tries the
// domain's non-blocking variant on the reactor thread (message sends,
// receives, deletes and visibility changes), and finishes with the domain's
// answer. Nothing else happens here. Does not own its dependencies.
class QueuesGrpcService final : public GrpcAdapter<v1::QueuesService::CallbackService> {
 public:
  QueuesGrpcService(QueueService* domain, UnaryRunner* runner)
      : GrpcAdapter(v1::QueuesService::service_full_name(), runner) {
#define TT_QUEUES_UNARY(Method) \
  Unary<v1::Method##Request>(#Method, [domain](const v1::Method##Request& r) { return domain->Method(r); })
    TT_QUEUES_UNARY(CreateQueue);
    TT_QUEUES_UNARY(GetQueueUrl);
    TT_QUEUES_UNARY(ListQueues);
    TT_QUEUES_UNARY(GetQueueAttributes);
    TT_QUEUES_UNARY(SetQueueAttributes);
    TT_QUEUES_UNARY(DeleteQueue);
    TT_QUEUES_UNARY(PurgeQueue);
    TT_QUEUES_UNARY(ListDeadLetterSourceQueues);
    TT_QUEUES_UNARY(ChangeMessageVisibilityBatch);
#undef TT_QUEUES_UNARY

    // Message calls, usually served from memory: answered on the reactor
    // thread when the queue's lock is free, RocksDB would neither stall nor
    // fsync and the message records are in memory; on the executor otherwise.
#define TT_QUEUES_NON_BLOCKING_FIRST(Method)                                                     \
  UnaryNonBlockingFirst<v1::Method##Request>(                                                    \
      #Method, [domain](const v1::Method##Request& r) { return domain->Method##NonBlocking(r); }, \
      [domain](const v1::Method##Request& r) { return domain->Method(r); })
    TT_QUEUES_NON_BLOCKING_FIRST(SendMessage);
    TT_QUEUES_NON_BLOCKING_FIRST(SendMessageBatch);
    TT_QUEUES_NON_BLOCKING_FIRST(DeleteMessage);
    TT_QUEUES_NON_BLOCKING_FIRST(DeleteMessageBatch);
    TT_QUEUES_NON_BLOCKING_FIRST(ChangeMessageVisibility);
#undef TT_QUEUES_NON_BLOCKING_FIRST

    // On the reactor thread when messages are ready now; otherwise a long
    // poll: the domain answers when a message arrives or the wait ends, and
    // no thread waits meanwhile.
    UnaryAsyncNonBlockingFirst<v1::ReceiveMessagesRequest, v1::ReceiveMessagesResponse>(
        "ReceiveMessages",
        [domain](const v1::ReceiveMessagesRequest& r) { return domain->ReceiveMessagesNonBlocking(r); },
        [domain](grpc::CallbackServerContext* context,
                                    const v1::ReceiveMessagesRequest& request,
                                    v1::ReceiveMessagesResponse* response, UnaryRunner::Done done) {
          domain->ReceiveMessages(
              request,
              [response, done](absl::StatusOr<v1::ReceiveMessagesResponse> r) {
                if (r.ok()) *response = std::move(*r);
                done(r.status());
              },
              // The context lives until the call is finished, i.e. while the
              // waiter holds `done`.
              [context] { return context->IsCancelled(); });
        });
    if (!HandlesEveryMethod()) abort();
  }
};

}  // namespace thingtank::queues
