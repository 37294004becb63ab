#include "services/wamp/wamp_service.h"

#include <optional>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "services/common/status.h"
#include "services/wamp/codec/uri.h"

namespace thingtank::wamp {

namespace {

constexpr char kDefaultRealm[] = "realm1";
constexpr absl::Duration kDefaultCallTimeout = absl::Seconds(10);
constexpr absl::Duration kMaxCallTimeout = absl::Minutes(10);

// JSON text that never throws on invalid UTF-8 (replaced by U+FFFD).
std::string Dump(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

}  // namespace

absl::StatusOr<Json> ParseJsonArgs(const std::string& text, const char* field, bool object) {
  if (text.empty()) return object ? Json::object() : Json::array();
  Json j = Json::parse(text, nullptr, false);
  if (j.is_discarded()) return InvalidField(field, "is not valid JSON");
  if (object && !j.is_object()) return InvalidField(field, "must be a JSON object");
  if (!object && !j.is_array()) return InvalidField(field, "must be a JSON array");
  return j;
}

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

// ---- Subscription ------------------------------------------------------------

WampService::Subscription::Subscription(std::shared_ptr<Realm> realm, v1::SubscribeRequest request,
                                        MatchPolicy match, WampMetrics* metrics)
    : request_(std::move(request)),
      match_(match),
      metrics_(metrics),
      client_(LocalClient::Join(realm, "grpc-subscribe")),
      open_(metrics->GrpcSubscriptions(realm->name())) {
  open_->Increment();
}

WampService::Subscription::~Subscription() {
  client_->Leave();  // takes the realm's lock: no event callback runs after it
  open_->Decrement();
}

absl::Status WampService::Subscription::Start(EventSink sink) {
  absl::Status s = client_->Subscribe(
      request_.topic(), match_, [this, sink = std::move(sink)](const EventData& e) {
        v1::SubscribeResponse event;
        event.set_topic(e.topic);
        event.set_publication(e.publication);
        event.set_publisher(e.publisher);
        event.set_args_json(Dump(e.args));
        event.set_kwargs_json(Dump(e.kwargs));
        if (sink(event)) metrics_->EventsDelivered(1);
      });
  if (!s.ok()) return InvalidField("topic", s.message());
  return absl::OkStatus();
}

// ---- WampService -------------------------------------------------------------

WampService::WampService(Router* router, RuleEngine* rules) : router_(router), rules_(rules) {}

WampService::~WampService() {
  absl::MutexLock lock(&mu_);
  for (auto& [name, client] : clients_) client->Leave();
}

absl::StatusOr<std::shared_ptr<Realm>> WampService::RealmOf(const std::string& name) const {
  const std::string realm = name.empty() ? kDefaultRealm : name;
  std::shared_ptr<Realm> r = router_->FindRealm(realm);
  if (r == nullptr) {
    return ErrorWithReason(absl::StatusCode::kNotFound, "NoSuchRealm",
                           absl::StrCat("no realm \"", realm, "\""));
  }
  return r;
}

std::shared_ptr<LocalClient> WampService::ClientFor(const std::shared_ptr<Realm>& realm) {
  absl::MutexLock lock(&mu_);
  auto& client = clients_[realm->name()];
  if (client == nullptr) client = LocalClient::Join(realm, "grpc");
  return client;
}

absl::StatusOr<v1::PublishResponse> WampService::Publish(const v1::PublishRequest& request) {
  TT_ASSIGN_OR_RETURN(std::shared_ptr<Realm> realm, RealmOf(request.realm()));
  if (!IsValidUri(request.topic(), MatchPolicy::kExact)) {
    return InvalidField("topic", "must be a WAMP URI such as test-topic or com.example.t");
  }
  // Publishing for clients, not for the router: it must not forge meta events
  // (wamp.session.on_join, ...).
  if (absl::StartsWith(request.topic(), "wamp.")) {
    return InvalidField("topic", "the wamp. prefix is reserved for the router");
  }
  TT_ASSIGN_OR_RETURN(Json args, ParseJsonArgs(request.args_json(), "args_json", false));
  TT_ASSIGN_OR_RETURN(Json kwargs, ParseJsonArgs(request.kwargs_json(), "kwargs_json", true));
  absl::StatusOr<uint64_t> publication =
      ClientFor(realm)->Publish(request.topic(), std::move(args), std::move(kwargs));
  if (!publication.ok()) return InvalidField("topic", publication.status().message());
  v1::PublishResponse response;
  response.set_publication(*publication);
  return response;
}

void WampService::Call(const v1::CallRequest& request, CallDone done) {
  auto realm = RealmOf(request.realm());
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
  ClientFor(*realm)->Call(request.procedure(), *std::move(args), *std::move(kwargs), timeout,
                          [done = std::move(done)](CallResult result) {
                            if (!result.error.empty()) {
                              return done(StatusOfWampError(result.error, result.args));
                            }
                            v1::CallResponse response;
                            response.set_args_json(Dump(result.args));
                            response.set_kwargs_json(Dump(result.kwargs));
                            done(std::move(response));
                          });
}

absl::StatusOr<std::unique_ptr<WampService::Subscription>> WampService::Subscribe(
    const v1::SubscribeRequest& request) {
  TT_ASSIGN_OR_RETURN(std::shared_ptr<Realm> realm, RealmOf(request.realm()));
  std::optional<MatchPolicy> match =
      ParseMatchPolicy(request.match().empty() ? "exact" : request.match());
  if (!match) return InvalidField("match", "must be exact, prefix or wildcard");
  if (!IsValidUri(request.topic(), *match)) {
    return InvalidField("topic", "must be a WAMP URI (or pattern for the match policy)");
  }
  return std::unique_ptr<Subscription>(
      new Subscription(std::move(realm), request, *match, router_->metrics()));
}

absl::StatusOr<v1::CreateRuleResponse> WampService::CreateRule(
    const v1::CreateRuleRequest& request) {
  v1::CreateRuleResponse response;
  TT_ASSIGN_OR_RETURN(*response.mutable_rule(), rules_->Create(request.rule()));
  return response;
}

absl::StatusOr<v1::ListRulesResponse> WampService::ListRules(const v1::ListRulesRequest&) {
  v1::ListRulesResponse response;
  for (v1::Rule& rule : rules_->List()) *response.add_rules() = std::move(rule);
  return response;
}

absl::StatusOr<v1::DeleteRuleResponse> WampService::DeleteRule(
    const v1::DeleteRuleRequest& request) {
  TT_RETURN_IF_ERROR(rules_->Delete(request.id()));
  return v1::DeleteRuleResponse();
}

}  // namespace thingtank::wamp
