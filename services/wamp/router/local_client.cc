#include "services/wamp/router/local_client.h"

#include "absl/strings/str_cat.h"
#include "services/common/status.h"

namespace thingtank::wamp {

class LocalClient::PeerImpl final : public Peer {
 public:
  explicit PeerImpl(std::weak_ptr<LocalClient> client) : client_(std::move(client)) {}
  bool Send(OutMessage& message) override {
    auto client = client_.lock();
    if (client == nullptr) return false;
    client->Deliver(message.message());
    return true;
  }
  void Close() override {}
  Json TransportInfo() const override { return Json::object({{"type", "internal"}}); }

 private:
  std::weak_ptr<LocalClient> client_;
};

namespace {
constexpr int kPublished = 17, kSubscribed = 33, kEvent = 36, kResult = 50, kError = 8;
}  // namespace

std::shared_ptr<LocalClient> LocalClient::Join(std::shared_ptr<Realm> realm, std::string authid) {
  std::shared_ptr<LocalClient> client(new LocalClient(realm, RandomId()));
  SessionInfo info;
  info.id = client->session_id_;
  info.authid = std::move(authid);
  info.authrole = "thingtank";
  info.authmethod = "internal";
  info.authprovider = "thingtank";
  info.internal = true;
  realm->Join(info, std::make_shared<PeerImpl>(client));
  return client;
}

LocalClient::LocalClient(std::shared_ptr<Realm> realm, uint64_t session_id)
    : realm_(std::move(realm)), session_id_(session_id) {}

LocalClient::~LocalClient() { Leave(); }

void LocalClient::Leave() {
  if (left_.exchange(true)) return;
  realm_->Leave(session_id_);
  absl::MutexLock lock(&mu_);
  calls_.clear();
  subscriptions_.clear();
}

void LocalClient::Deliver(const Json& m) {
  const int type = m[0].get<int>();
  auto payload = [&](size_t i, EventData* e) {
    if (m.size() > i) e->args = m[i];
    if (m.size() > i + 1) e->kwargs = m[i + 1];
  };
  if (type == kEvent) {
    EventFn fn;
    EventData event;
    {
      absl::MutexLock lock(&mu_);
      auto it = subscriptions_.find(m[1].get<uint64_t>());
      if (it == subscriptions_.end()) return;
      fn = it->second;
      const Json& details = m[3];
      auto topic = details.find("topic");
      event.topic = topic != details.end() && topic->is_string() ? topic->get<std::string>()
                                                                 : topics_[m[1].get<uint64_t>()];
    }
    event.publication = m[2].get<uint64_t>();
    if (auto p = m[3].find("publisher"); p != m[3].end() && p->is_number_unsigned()) {
      event.publisher = p->get<uint64_t>();
    }
    payload(4, &event);
    fn(event);
    return;
  }
  // RESULT [50, req, details, args?, kwargs?]; ERROR [8, type, req, details, uri, args?, kwargs?]
  const uint64_t request = type == kError ? m[2].get<uint64_t>() : m[1].get<uint64_t>();
  if (type == kResult || (type == kError && m[1].get<int>() == 48)) {
    if (type == kResult && m[2].is_object() && m[2].value("progress", false)) return;
    CallFn fn = TakeCall(request);
    if (!fn) return;
    CallResult result;
    EventData p;
    if (type == kError) {
      result.error = m[4].get<std::string>();
      payload(5, &p);
    } else {
      payload(3, &p);
    }
    result.args = std::move(p.args);
    result.kwargs = std::move(p.kwargs);
    fn(std::move(result));
    return;
  }
  absl::MutexLock lock(&mu_);
  replies_[request] = m;  // PUBLISHED, SUBSCRIBED, or an ERROR for them
}

LocalClient::CallFn LocalClient::TakeCall(uint64_t request) {
  absl::MutexLock lock(&mu_);
  auto it = calls_.find(request);
  if (it == calls_.end()) return nullptr;
  CallFn fn = std::move(it->second);
  calls_.erase(it);
  return fn;
}

absl::StatusOr<Json> LocalClient::TakeReply(uint64_t request) {
  absl::MutexLock lock(&mu_);
  auto it = replies_.find(request);
  if (it == replies_.end()) return absl::UnavailableError("the session left the realm");
  Json reply = std::move(it->second);
  replies_.erase(it);
  return reply;
}

absl::StatusOr<uint64_t> LocalClient::Publish(const std::string& topic, Json args, Json kwargs) {
  const uint64_t request = next_request_++;
  Json m = Json::array({16, request, {{"acknowledge", true}}, topic});
  AppendPayload(m, &args, &kwargs);
  if (absl::Status s = realm_->Handle(session_id_, m); !s.ok()) return s;
  TT_ASSIGN_OR_RETURN(Json reply, TakeReply(request));
  if (reply[0] == kPublished) return reply[2].get<uint64_t>();
  return absl::InvalidArgumentError(absl::StrCat(reply[4].get<std::string>(), ": ",
                                                 reply.size() > 5 ? reply[5][0].dump() : ""));
}

void LocalClient::Call(const std::string& procedure, Json args, Json kwargs,
                       absl::Duration timeout, CallFn done) {
  const uint64_t request = next_request_++;
  {
    absl::MutexLock lock(&mu_);
    calls_[request] = std::move(done);
  }
  Json options = Json::object();
  if (timeout > absl::ZeroDuration()) options["timeout"] = absl::ToInt64Milliseconds(timeout);
  Json m = Json::array({48, request, std::move(options), procedure});
  AppendPayload(m, &args, &kwargs);
  absl::Status s = realm_->Handle(session_id_, m);
  if (!s.ok()) {
    CallFn fn = TakeCall(request);
    if (!fn) return;
    fn(CallResult{"wamp.error.invalid_argument", Json::array({std::string(s.message())})});
  }
}

absl::Status LocalClient::Subscribe(const std::string& topic, MatchPolicy match, EventFn on_event) {
  const uint64_t request = next_request_++;
  Json m = Json::array(
      {32, request, {{"match", std::string(MatchPolicyName(match))}}, topic});
  if (absl::Status s = realm_->Handle(session_id_, m); !s.ok()) return s;
  TT_ASSIGN_OR_RETURN(Json reply, TakeReply(request));
  if (reply[0] != kSubscribed) {
    return absl::InvalidArgumentError(absl::StrCat(reply[4].get<std::string>(), ": ",
                                                   reply.size() > 5 ? reply[5][0].dump() : ""));
  }
  const uint64_t id = reply[2].get<uint64_t>();
  absl::MutexLock lock(&mu_);
  subscriptions_[id] = std::move(on_event);
  topics_[id] = topic;
  return absl::OkStatus();
}

}  // namespace thingtank::wamp
