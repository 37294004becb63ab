#include "services/streams/grpc_service.h"

#include <optional>
#include <utility>

#include "services/common/grpc_status.h"
#include "services/streams/subscription.h"

namespace thingtank::streams {
namespace {

// Writes a subscription's events, one at a time: each is produced by the
// domain only after the previous one was written (Subscription::Delivered),
// so a slow reader holds one event here, never more. Ends when the domain
// ends the subscription (after its last event is written), on cancel or at
// server shutdown. Records the grpc_server_* series of the method.
class SubscribeReactor final : public grpc::ServerWriteReactor<grpc::ByteBuffer> {
 public:
  explicit SubscribeReactor(RpcMetrics::Method* series) : series_(series), start_(absl::Now()) {}

  StreamService::SubscriptionSink Sink() {
    return {[this](v1::SubscribeToShardResponse event) { Deliver(event); },
            [this](absl::Status status) { End(status); }};
  }
  void Fail(const absl::Status& status) {
    absl::MutexLock lock(&mu_);
    FinishLocked(ToGrpcStatus(status));
  }
  void Start(std::shared_ptr<Subscription> subscription) {
    bool delivered;
    {
      absl::MutexLock lock(&mu_);
      subscription_ = subscription;
      delivered = std::exchange(written_before_start_, false);
    }
    if (delivered) subscription->Delivered();
  }

  void OnWriteDone(bool ok) override {
    std::shared_ptr<Subscription> next;
    {
      absl::MutexLock lock(&mu_);
      writing_ = false;
      if (!ok) return;  // broken stream; OnDone follows
      if (pending_end_.has_value()) {
        FinishLocked(*pending_end_);
        return;
      }
      next = subscription_;
      // The first event may be written before Start has the subscription.
      if (!next) written_before_start_ = true;
    }
    if (next) next->Delivered();
  }
  void OnCancel() override {
    absl::MutexLock lock(&mu_);
    FinishLocked(grpc::Status::CANCELLED);
  }
  void OnDone() override {
    std::shared_ptr<Subscription> subscription;
    {
      absl::MutexLock lock(&mu_);
      subscription = std::move(subscription_);
    }
    if (subscription) subscription->Cancel();  // no sink call after this
    delete this;
  }

 private:
  void Deliver(const v1::SubscribeToShardResponse& event) {
    bool own = false;
    absl::MutexLock lock(&mu_);
    if (finished_) return;
    buffer_.Clear();
    if (!grpc::SerializationTraits<v1::SubscribeToShardResponse>::Serialize(event, &buffer_, &own).ok()) {
      FinishLocked(grpc::Status(grpc::StatusCode::INTERNAL, "cannot serialize an event"));
      return;
    }
    writing_ = true;
    StartWrite(&buffer_);
  }
  void End(const absl::Status& status) {
    absl::MutexLock lock(&mu_);
    if (writing_) {
      pending_end_ = ToGrpcStatus(status);
    } else {
      FinishLocked(ToGrpcStatus(status));
    }
  }
  void FinishLocked(grpc::Status status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (finished_) return;
    finished_ = true;
    series_->Handled(status.error_code(), absl::Now() - start_);
    Finish(std::move(status));
  }

  RpcMetrics::Method* const series_;
  const absl::Time start_;
  absl::Mutex mu_;
  std::shared_ptr<Subscription> subscription_ ABSL_GUARDED_BY(mu_);
  grpc::ByteBuffer buffer_ ABSL_GUARDED_BY(mu_);
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  std::optional<grpc::Status> pending_end_ ABSL_GUARDED_BY(mu_);
  bool written_before_start_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace

StreamsGrpcService::StreamsGrpcService(StreamService* d, UnaryRunner* runner)
    : GrpcAdapter(v1::StreamsService::service_full_name(), runner), domain_(d) {
#define TT_STREAMS_UNARY(Method) \
  Unary<v1::Method##Request>(#Method, [d](const v1::Method##Request& r) { return d->Method(r); })
  TT_STREAMS_UNARY(CreateStream);
  TT_STREAMS_UNARY(DeleteStream);
  TT_STREAMS_UNARY(DescribeStream);
  TT_STREAMS_UNARY(DescribeStreamSummary);
  TT_STREAMS_UNARY(ListStreams);
  TT_STREAMS_UNARY(ListShards);
  TT_STREAMS_UNARY(AddTagsToStream);
  TT_STREAMS_UNARY(RemoveTagsFromStream);
  TT_STREAMS_UNARY(ListTagsForStream);
  TT_STREAMS_UNARY(IncreaseStreamRetentionPeriod);
  TT_STREAMS_UNARY(DecreaseStreamRetentionPeriod);
  TT_STREAMS_UNARY(StartStreamEncryption);
  TT_STREAMS_UNARY(StopStreamEncryption);
  TT_STREAMS_UNARY(UpdateStreamMode);
  TT_STREAMS_UNARY(DescribeLimits);
  TT_STREAMS_UNARY(PutRecord);
  TT_STREAMS_UNARY(PutRecords);
  TT_STREAMS_UNARY(GetShardIterator);
  TT_STREAMS_UNARY(GetRecords);
  TT_STREAMS_UNARY(SplitShard);
  TT_STREAMS_UNARY(MergeShards);
  TT_STREAMS_UNARY(UpdateShardCount);
  TT_STREAMS_UNARY(RegisterStreamConsumer);
  TT_STREAMS_UNARY(DescribeStreamConsumer);
  TT_STREAMS_UNARY(ListStreamConsumers);
  TT_STREAMS_UNARY(DeregisterStreamConsumer);
#undef TT_STREAMS_UNARY
  ServerStream<v1::SubscribeToShardRequest>(
      "SubscribeToShard", [this](grpc::CallbackServerContext*, const v1::SubscribeToShardRequest& request,
                                 RpcMetrics::Method* series) { return Subscribe(request, series); });
  if (!HandlesEveryMethod()) abort();
}

grpc::ServerWriteReactor<grpc::ByteBuffer>* StreamsGrpcService::Subscribe(const v1::SubscribeToShardRequest& request,
                                                                         RpcMetrics::Method* series) {
  auto* reactor = new SubscribeReactor(series);
  absl::StatusOr<std::shared_ptr<Subscription>> subscription = domain_->SubscribeToShard(request, reactor->Sink());
  if (!subscription.ok()) {
    reactor->Fail(subscription.status());
  } else {
    reactor->Start(*std::move(subscription));
  }
  return reactor;
}

}  // namespace thingtank::streams
