#include "services/wamp/grpc_service.h"

#include <deque>

#include "services/common/grpc_status.h"
#include "services/common/status.h"

namespace thingtank::wamp {

namespace {

// Events a Subscribe stream may have waiting to be written; a client that
// reads slower than this is ended with RESOURCE_EXHAUSTED.
constexpr size_t kMaxQueuedEvents = 10000;

// Streams a subscription's events; ends on client cancel, server shutdown or
// overflow. One write in flight, at most kMaxQueuedEvents waiting. Records
// the grpc_server_* series of the method (handled, like the unary methods,
// before the status is sent); the subscription counts itself in
// thingtank_wamp_grpc_subscriptions and the events this reactor takes in
// thingtank_wamp_events_delivered_total.
class SubscribeReactor final : public grpc::ServerWriteReactor<grpc::ByteBuffer> {
 public:
  explicit SubscribeReactor(RpcMetrics::Method* series) : series_(series), start_(absl::Now()) {}

  // Ends the call at once (before Start).
  void Fail(const absl::Status& status) { FinishOnce(ToGrpcStatus(status)); }

  void Start(std::unique_ptr<WampService::Subscription> subscription) {
    subscription_ = std::move(subscription);
    absl::Status s = subscription_->Start(
        [this](const v1::SubscribeResponse& event) { return Push(event); });
    if (!s.ok()) FinishOnce(ToGrpcStatus(s));
  }

  void OnWriteDone(bool ok) override {
    absl::MutexLock lock(&mu_);
    writing_ = false;
    if (!ok) return;  // the stream is broken; OnDone follows
    if (!queue_.empty()) queue_.pop_front();
    WriteNextLocked();
  }
  void OnCancel() override { FinishOnce(grpc::Status::CANCELLED); }
  void OnDone() override {
    subscription_.reset();  // leaves the realm: no Push after this
    delete this;
  }

 private:
  // Runs under the realm's lock; true when the event is queued.
  bool Push(const v1::SubscribeResponse& event) {
    grpc::ByteBuffer bytes;
    bool own = false;
    // Fails only for a message past 2 GiB, which an event cannot reach.
    if (!grpc::SerializationTraits<v1::SubscribeResponse>::Serialize(event, &bytes, &own).ok()) {
      return false;
    }
    absl::MutexLock lock(&mu_);
    if (finished_) return false;
    if (queue_.size() >= kMaxQueuedEvents) {
      FinishLocked(ToGrpcStatus(QuotaExceeded(
          "SlowConsumer", "subscription",
          "more than 10000 events waiting: the client reads too slowly", absl::Seconds(1))));
      return false;
    }
    queue_.push_back(std::move(bytes));
    WriteNextLocked();
    return true;
  }
  void WriteNextLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (writing_ || finished_ || queue_.empty()) return;
    writing_ = true;
    StartWrite(&queue_.front());
  }
  void FinishOnce(grpc::Status status) {
    absl::MutexLock lock(&mu_);
    if (!finished_) FinishLocked(std::move(status));
  }
  void FinishLocked(grpc::Status status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    finished_ = true;
    series_->Handled(status.error_code(), absl::Now() - start_);
    Finish(std::move(status));
  }

  RpcMetrics::Method* const series_;
  const absl::Time start_;  // wall time, for the latency metric
  std::unique_ptr<WampService::Subscription> subscription_;
  absl::Mutex mu_;
  std::deque<grpc::ByteBuffer> queue_ ABSL_GUARDED_BY(mu_);
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace

WampGrpcService::WampGrpcService(WampService* domain, UnaryRunner* runner)
    : GrpcAdapter(v1::WampService::service_full_name(), runner), domain_(domain) {
#define TT_WAMP_UNARY(Method) \
  Unary<v1::Method##Request>(#Method, [domain](const v1::Method##Request& r) { return domain->Method(r); })
  TT_WAMP_UNARY(Publish);
  TT_WAMP_UNARY(CreateRule);
  TT_WAMP_UNARY(ListRules);
  TT_WAMP_UNARY(DeleteRule);
#undef TT_WAMP_UNARY
  // Answered when the callee yields (or the call fails): no thread waits.
  UnaryAsync<v1::CallRequest, v1::CallResponse>(
      "Call", [domain](grpc::CallbackServerContext*, const v1::CallRequest& request,
                       v1::CallResponse* response, UnaryRunner::Done done) {
        domain->Call(request, [response, done](absl::StatusOr<v1::CallResponse> result) {
          if (result.ok()) *response = *std::move(result);
          done(result.status());
        });
      });
  ServerStream<v1::SubscribeRequest>(
      "Subscribe", [this](grpc::CallbackServerContext*, const v1::SubscribeRequest& request,
                          RpcMetrics::Method* series) { return Subscribe(request, series); });
  if (!HandlesEveryMethod()) abort();
}

grpc::ServerWriteReactor<grpc::ByteBuffer>* WampGrpcService::Subscribe(
    const v1::SubscribeRequest& request, RpcMetrics::Method* series) {
  auto* reactor = new SubscribeReactor(series);
  absl::StatusOr<std::unique_ptr<WampService::Subscription>> subscription =
      domain_->Subscribe(request);
  if (!subscription.ok()) {
    reactor->Fail(subscription.status());
  } else {
    reactor->Start(*std::move(subscription));
  }
  return reactor;
}

}  // namespace thingtank::wamp
