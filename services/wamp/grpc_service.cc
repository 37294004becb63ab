#include "services/wamp/grpc_service.h"

#include <deque>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "services/common/grpc_status.h"
#include "services/common/status.h"
#include "services/wamp/codec/uri.h"
#include "services/wamp/router/local_client.h"

namespace thingtank::wamp {

namespace {

constexpr absl::Duration kDefaultCallTimeout = absl::Seconds(10);
constexpr absl::Duration kMaxCallTimeout = absl::Minutes(10);
// Events a Subscribe stream may have waiting to be written; a client that
// reads slower than this is ended with RESOURCE_EXHAUSTED.
constexpr size_t kMaxQueuedEvents = 10000;

absl::StatusOr<std::shared_ptr<Realm>> RealmOf(Router* router, const std::string& name) {
  const std::string realm = name.empty() ? "realm1" : name;
  std::shared_ptr<Realm> r = router->FindRealm(realm);
  if (r == nullptr) {
    return ErrorWithReason(absl::StatusCode::kNotFound, "NoSuchRealm",
                           absl::StrCat("no realm \"", realm, "\""));
  }
  return r;
}

std::string Dump(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

// A WAMP error URI as a gRPC status (ErrorInfo reason = the URI).
absl::Status StatusOfWampError(const std::string& uri, const Json& args) {
  absl::StatusCode code = absl::StatusCode::kAborted;
  if (uri == "wamp.error.no_such_procedure") code = absl::StatusCode::kNotFound;
  else if (uri == "wamp.error.timeout") code = absl::StatusCode::kDeadlineExceeded;
  else if (uri == "wamp.error.canceled") code = absl::StatusCode::kCancelled;
  else if (uri == "wamp.error.not_authorized") code = absl::StatusCode::kPermissionDenied;
  else if (uri == "wamp.error.invalid_argument" || uri == "wamp.error.invalid_uri") {
    code = absl::StatusCode::kInvalidArgument;
  }
  std::string message = uri;
  if (args.is_array() && !args.empty()) {
    message = absl::StrCat(uri, ": ", args[0].is_string() ? args[0].get<std::string>() : Dump(args[0]));
  }
  return ErrorWithReason(code, uri, message);
}

}  // namespace

WampGrpcService::WampGrpcService(Router* router, RuleEngine* rules, UnaryRunner* runner)
    : GrpcAdapter(v1::WampService::service_full_name(), runner), router_(router), rules_(rules) {
  Unary<v1::PublishRequest>("Publish", [this](const v1::PublishRequest& request)
                                           -> absl::StatusOr<v1::PublishResponse> {
    v1::PublishResponse response;
    TT_RETURN_IF_ERROR(Publish(request, &response));
    return response;
  });
  UnaryAsync<v1::CallRequest, v1::CallResponse>(
      "Call", [this](grpc::CallbackServerContext*, const v1::CallRequest& request,
                     v1::CallResponse* response, UnaryRunner::Done done) {
        Call(request, response, std::move(done));
      });
  ServerStream<v1::SubscribeRequest>(
      "Subscribe", [this](grpc::CallbackServerContext*, const v1::SubscribeRequest& request,
                          RpcMetrics::Method* series) { return Subscribe(request, series); });
  Unary<v1::CreateRuleRequest>("CreateRule", [this](const v1::CreateRuleRequest& request)
                                                 -> absl::StatusOr<v1::CreateRuleResponse> {
    v1::CreateRuleResponse response;
    TT_ASSIGN_OR_RETURN(*response.mutable_rule(), rules_->Create(request.rule()));
    return response;
  });
  Unary<v1::ListRulesRequest>("ListRules", [this](const v1::ListRulesRequest&) {
    v1::ListRulesResponse response;
    for (v1::Rule& rule : rules_->List()) *response.add_rules() = std::move(rule);
    return absl::StatusOr<v1::ListRulesResponse>(std::move(response));
  });
  Unary<v1::DeleteRuleRequest>("DeleteRule", [this](const v1::DeleteRuleRequest& request)
                                                 -> absl::StatusOr<v1::DeleteRuleResponse> {
    TT_RETURN_IF_ERROR(rules_->Delete(request.id()));
    return v1::DeleteRuleResponse();
  });
  if (!HandlesEveryMethod()) abort();
}

WampGrpcService::~WampGrpcService() {
  absl::MutexLock lock(&mu_);
  for (auto& [name, client] : clients_) client->Leave();
}

std::shared_ptr<LocalClient> WampGrpcService::ClientFor(const std::shared_ptr<Realm>& realm) {
  absl::MutexLock lock(&mu_);
  auto& client = clients_[realm->name()];
  if (client == nullptr) client = LocalClient::Join(realm, "grpc");
  return client;
}

absl::StatusOr<Json> ParseJsonArgs(const std::string& text, const char* field, bool object) {
  if (text.empty()) return object ? Json::object() : Json::array();
  Json j = Json::parse(text, nullptr, false);
  if (j.is_discarded()) return InvalidField(field, "is not valid JSON");
  if (object && !j.is_object()) return InvalidField(field, "must be a JSON object");
  if (!object && !j.is_array()) return InvalidField(field, "must be a JSON array");
  return j;
}

absl::Status WampGrpcService::Publish(const v1::PublishRequest& request,
                                      v1::PublishResponse* response) {
    TT_ASSIGN_OR_RETURN(std::shared_ptr<Realm> realm, RealmOf(router_, request.realm()));
    if (!IsValidUri(request.topic(), MatchPolicy::kExact)) {
      return InvalidField("topic", "must be a WAMP URI such as test-topic or com.example.t");
    }
    // The gRPC face publishes for clients, not for the router: it must not
    // forge meta events (wamp.session.on_join, ...).
    if (absl::StartsWith(request.topic(), "wamp.")) {
      return InvalidField("topic", "the wamp. prefix is reserved for the router");
    }
    TT_ASSIGN_OR_RETURN(Json args, ParseJsonArgs(request.args_json(), "args_json", false));
    TT_ASSIGN_OR_RETURN(Json kwargs, ParseJsonArgs(request.kwargs_json(), "kwargs_json", true));
    absl::StatusOr<uint64_t> publication = ClientFor(realm)->Publish(request.topic(), std::move(args), std::move(kwargs));
    if (!publication.ok()) return InvalidField("topic", publication.status().message());
    response->set_publication(*publication);
    return absl::OkStatus();
}

void WampGrpcService::Call(const v1::CallRequest& request, v1::CallResponse* response,
                           UnaryRunner::Done done) {
    auto realm = RealmOf(router_, request.realm());
    if (!realm.ok()) return done(realm.status());
    if (!IsValidUri(request.procedure(), MatchPolicy::kExact)) {
      return done(InvalidField("procedure", "must be a WAMP URI such as com.example.add2"));
    }
    auto args = ParseJsonArgs(request.args_json(), "args_json", false);
    if (!args.ok()) return done(args.status());
    auto kwargs = ParseJsonArgs(request.kwargs_json(), "kwargs_json", true);
    if (!kwargs.ok()) return done(kwargs.status());
    absl::Duration timeout = kDefaultCallTimeout;
    if (request.has_timeout()) {
      timeout = absl::Seconds(request.timeout().seconds()) +
                absl::Nanoseconds(request.timeout().nanos());
      if (timeout <= absl::ZeroDuration() || timeout > kMaxCallTimeout) {
        return done(InvalidField("timeout", "must be more than 0 and at most 10 minutes"));
      }
    }
    // The callback runs under the realm's lock: it only finishes the RPC.
    ClientFor(*realm)->Call(request.procedure(), *std::move(args), *std::move(kwargs), timeout,
                 [response, done](CallResult result) {
                   if (!result.error.empty()) {
                     done(StatusOfWampError(result.error, result.args));
                   } else {
                     response->set_args_json(Dump(result.args));
                     response->set_kwargs_json(Dump(result.kwargs));
                     done(absl::OkStatus());
                   }
                 });
}

namespace {

// Streams a subscription's events; ends on client cancel, server shutdown or
// overflow. Records the grpc_server_* series of the method (handled, like the
// unary methods, before the status is sent), thingtank_wamp_grpc_subscriptions while
// subscribed, and each event it queues in thingtank_wamp_events_delivered_total.
class SubscribeReactor final : public grpc::ServerWriteReactor<grpc::ByteBuffer> {
 public:
  SubscribeReactor(RpcMetrics::Method* series, WampMetrics* metrics)
      : series_(series), metrics_(metrics), start_(absl::Now()) {}

  // Ends the call at once (before Start).
  void Fail(const absl::Status& status) { FinishOnce(ToGrpcStatus(status)); }

  void Start(std::shared_ptr<Realm> realm, const v1::SubscribeRequest& request, MatchPolicy match) {
    client_ = LocalClient::Join(realm, "grpc-subscribe");
    subscribed_ = metrics_->GrpcSubscriptions(realm->name());
    subscribed_->Increment();
    absl::Status s = client_->Subscribe(request.topic(), match, [this](const EventData& e) {
      v1::SubscribeResponse event;
      event.set_topic(e.topic);
      event.set_publication(e.publication);
      event.set_publisher(e.publisher);
      event.set_args_json(Dump(e.args));
      event.set_kwargs_json(Dump(e.kwargs));
      grpc::ByteBuffer bytes;
      bool own = false;
      // Fails only for a message past 2 GiB, which an event cannot reach.
      if (!grpc::SerializationTraits<v1::SubscribeResponse>::Serialize(event, &bytes, &own).ok()) return;
      Push(std::move(bytes));
    });
    if (!s.ok()) FinishOnce(ToGrpcStatus(InvalidField("topic", s.message())));
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
    if (client_) client_->Leave();
    if (subscribed_ != nullptr) subscribed_->Decrement();
    delete this;
  }

 private:
  void Push(grpc::ByteBuffer event) {
    absl::MutexLock lock(&mu_);
    if (finished_) return;
    if (queue_.size() >= kMaxQueuedEvents) {
      FinishLocked(ToGrpcStatus(QuotaExceeded(
          "SlowConsumer", "subscription",
          "more than 10000 events waiting: the client reads too slowly", absl::Seconds(1))));
      return;
    }
    queue_.push_back(std::move(event));
    metrics_->EventsDelivered(1);
    WriteNextLocked();
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
  WampMetrics* const metrics_;
  const absl::Time start_;  // wall time, for the latency metric
  std::shared_ptr<LocalClient> client_;
  prometheus::Gauge* subscribed_ = nullptr;
  absl::Mutex mu_;
  std::deque<grpc::ByteBuffer> queue_ ABSL_GUARDED_BY(mu_);
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace

grpc::ServerWriteReactor<grpc::ByteBuffer>* WampGrpcService::Subscribe(
    const v1::SubscribeRequest& request, RpcMetrics::Method* series) {
  auto* reactor = new SubscribeReactor(series, router_->metrics());
  auto fail = [reactor](const absl::Status& status) {
    reactor->Fail(status);
    return reactor;
  };
  auto realm = RealmOf(router_, request.realm());
  if (!realm.ok()) return fail(realm.status());
  std::optional<MatchPolicy> match =
      ParseMatchPolicy(request.match().empty() ? "exact" : request.match());
  if (!match) return fail(InvalidField("match", "must be exact, prefix or wildcard"));
  if (!IsValidUri(request.topic(), *match)) {
    return fail(InvalidField("topic", "must be a WAMP URI (or pattern for the match policy)"));
  }
  reactor->Start(*std::move(realm), request, *match);
  return reactor;
}

}  // namespace thingtank::wamp
