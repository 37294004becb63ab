#include "services/wamp/router/realm.h"

#include <algorithm>
#include <optional>

#include "absl/random/random.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "services/wamp/codec/uri.h"
#include "services/wamp/router/metrics.h"

namespace thingtank::wamp {

namespace {

constexpr int kTypeError = static_cast<int>(MessageType::kError);

uint64_t IdAt(const Json& m, size_t i) { return m[i].get<uint64_t>(); }

const Json& Dict(const Json& m, size_t i) { return m[i]; }

bool BoolOption(const Json& options, const char* name, bool fallback) {
  auto it = options.find(name);
  return it != options.end() && it->is_boolean() ? it->get<bool>() : fallback;
}

std::string StringOption(const Json& options, const char* name, const std::string& fallback) {
  auto it = options.find(name);
  return it != options.end() && it->is_string() ? it->get<std::string>() : fallback;
}

const Json* Element(const Json& m, size_t i) { return m.size() > i ? &m[i] : nullptr; }

// An id from a client value: any non-negative integer (JSON and MessagePack
// decoders may give signed or unsigned).
std::optional<uint64_t> AsId(const Json& v) {
  if (v.is_number_unsigned()) return v.get<uint64_t>();
  if (v.is_number_integer() && v.get<int64_t>() >= 0) return static_cast<uint64_t>(v.get<int64_t>());
  return std::nullopt;
}

bool ContainsId(const Json& options, const char* name, uint64_t id) {
  auto it = options.find(name);
  if (it == options.end() || !it->is_array()) return false;
  for (const Json& v : *it) {
    if (AsId(v) == id) return true;
  }
  return false;
}
bool ContainsString(const Json& options, const char* name, const std::string& s) {
  auto it = options.find(name);
  if (it == options.end() || !it->is_array()) return false;
  for (const Json& v : *it) {
    if (v.is_string() && v.get_ref<const std::string&>() == s) return true;
  }
  return false;
}
bool Has(const Json& options, const char* name) {
  auto it = options.find(name);
  return it != options.end() && it->is_array();
}

bool Reserved(const std::string& uri) { return absl::StartsWith(uri, "wamp."); }

}  // namespace

uint64_t RandomId() {
  thread_local absl::BitGen gen;
  return absl::Uniform<uint64_t>(absl::IntervalClosed, gen, 1, kMaxId);
}

Realm::Realm(std::string name, const RealmConfig* config, Clock* clock, WampMetrics* metrics)
    : name_(std::move(name)), config_(config), clock_(clock), metrics_(metrics) {
  ProvideMetaProcedures();
}

Realm::~Realm() {
  absl::MutexLock lock(&mu_);
  for (auto& [id, inv] : invocations_) {
    if (inv.timer != 0) clock_->Cancel(inv.timer);
  }
}

size_t Realm::session_count() const {
  absl::MutexLock lock(&mu_);
  return external_sessions_;
}

Realm::Session* Realm::FindSession(uint64_t id) {
  auto it = sessions_.find(id);
  return it == sessions_.end() ? nullptr : it->second.get();
}

void Realm::SendTo(Session* s, Json message) {
  OutMessage out(std::move(message));
  if (s->peer->Send(out) && !s->info.internal) metrics_->MessageOut(out.type());
}

void Realm::SendError(Session* s, MessageType request_type, uint64_t request, std::string uri,
                      std::string message) {
  SendTo(s, Json::array({kTypeError, static_cast<int>(request_type), request, Json::object(),
                         std::move(uri), Json::array({std::move(message)})}));
}

bool Realm::Authorized(const Session& s, Action action, const std::string& uri) const {
  return s.info.internal || IsAuthorized(*config_, s.info.authrole, action, uri);
}

void Realm::Join(const SessionInfo& info, std::shared_ptr<Peer> peer) {
  absl::MutexLock lock(&mu_);
  auto session = std::make_unique<Session>();
  session->info = info;
  session->peer = std::move(peer);
  Session* s = session.get();
  sessions_[info.id] = std::move(session);
  if (info.internal) return;
  ++external_sessions_;
  metrics_->Sessions(name_)->Increment();
  const Json args = Json::array({SessionDetails(*s)});
  Publish(nullptr, "wamp.session.on_join", Json::object(), &args, nullptr);
}

void Realm::Leave(uint64_t session_id) {
  absl::MutexLock lock(&mu_);
  LeaveLocked(session_id);
}

void Realm::LeaveLocked(uint64_t session_id) {
  auto it = sessions_.find(session_id);
  if (it == sessions_.end()) return;
  Session* s = it->second.get();
  for (uint64_t sub : s->subscriptions) DropSubscriber(sub, session_id);
  for (uint64_t reg : s->registrations) DropCallee(reg, session_id);
  // Calls it made: the callee is told (if it can be), later results dropped.
  for (auto& [request, inv_id] : s->calls) {
    auto inv = invocations_.find(inv_id);
    if (inv == invocations_.end()) continue;
    inv->second.caller_done = true;
    Interrupt(&inv->second, "killnowait", "");
  }
  // Invocations it was serving: their callers get an error now.
  const std::vector<uint64_t> serving = s->invocations;  // Finish edits the list
  for (uint64_t inv_id : serving) {
    auto inv = invocations_.find(inv_id);
    if (inv == invocations_.end() || inv->second.callee != session_id) continue;
    Finish(inv_id, Json::array({kTypeError, static_cast<int>(MessageType::kCall), 0,
                                Json::object(), "wamp.error.canceled",
                                Json::array({"the callee left"})}));
  }
  const SessionInfo info = s->info;
  sessions_.erase(it);
  if (info.internal) return;
  --external_sessions_;
  metrics_->Sessions(name_)->Decrement();
  const Json args = Json::array({info.id, info.authid, info.authrole});
  Publish(nullptr, "wamp.session.on_leave", Json::object(), &args, nullptr);
}

absl::Status Realm::Handle(uint64_t session_id, Json& m) {
  After after;
  absl::Status status;
  {
    absl::MutexLock lock(&mu_);
    Session* s = FindSession(session_id);
    if (s == nullptr) return absl::OkStatus();  // left meanwhile
    switch (static_cast<MessageType>(m[0].get<int>())) {
      case MessageType::kPublish: OnPublish(s, m); break;
      case MessageType::kSubscribe: OnSubscribe(s, m); break;
      case MessageType::kUnsubscribe: OnUnsubscribe(s, m); break;
      case MessageType::kCall: OnCall(s, m, &after); break;
      case MessageType::kCancel: OnCancel(s, m); break;
      case MessageType::kRegister: OnRegister(s, m); break;
      case MessageType::kUnregister: OnUnregister(s, m); break;
      case MessageType::kYield: status = OnYield(s, m); break;
      case MessageType::kError: status = OnError(s, m); break;
      default:
        status = absl::InvalidArgumentError(
            absl::StrCat(std::string(MessageTypeName(static_cast<MessageType>(m[0].get<int>()))),
                         " is not a message a client sends to a router"));
    }
  }
  for (auto& fn : after) fn();
  return status;
}

// ---- Broker ----

void Realm::OnPublish(Session* s, Json& m) {
  const uint64_t request = IdAt(m, 1);
  const Json& options = Dict(m, 2);
  const std::string& topic = m[3].get_ref<const std::string&>();
  const bool acknowledge = BoolOption(options, "acknowledge", false);
  auto fail = [&](const char* uri, std::string message) {
    if (acknowledge) SendError(s, MessageType::kPublish, request, uri, std::move(message));
  };
  if (!IsValidUri(topic, MatchPolicy::kExact)) {
    return fail("wamp.error.invalid_uri", absl::StrCat("invalid topic URI '", topic, "'"));
  }
  if (Reserved(topic) && !s->info.internal) {
    return fail("wamp.error.invalid_uri",
                absl::StrCat("topic '", topic, "': the wamp. prefix is reserved"));
  }
  if (!Authorized(*s, Action::kPublish, topic)) {
    return fail("wamp.error.not_authorized",
                absl::StrCat("role '", s->info.authrole, "' may not publish to '", topic, "'"));
  }
  const uint64_t publication = Publish(s, topic, options, Element(m, 4), Element(m, 5));
  if (acknowledge) {
    SendTo(s, Json::array({static_cast<int>(MessageType::kPublished), request, publication}));
  }
}

uint64_t Realm::Publish(const Session* publisher, const std::string& topic, const Json& options,
                        const Json* args, const Json* kwargs) {
  const uint64_t publication = RandomId();
  std::vector<Subscription*> matching;
  if (auto it = exact_subscriptions_.find(topic); it != exact_subscriptions_.end()) {
    matching.push_back(it->second);
  }
  for (Subscription* sub : pattern_subscriptions_) {
    if (UriMatches(sub->match, sub->uri, topic)) matching.push_back(sub);
  }
  if (matching.empty()) return publication;

  const bool exclude_me = BoolOption(options, "exclude_me", true);
  const bool disclose = publisher != nullptr && BoolOption(options, "disclose_me", false);
  const bool has_exclude = Has(options, "exclude") || Has(options, "exclude_authid") ||
                           Has(options, "exclude_authrole");
  const bool has_eligible = Has(options, "eligible") || Has(options, "eligible_authid") ||
                            Has(options, "eligible_authrole");
  double delivered = 0;
  for (Subscription* sub : matching) {
    Json details = Json::object();
    if (sub->match != MatchPolicy::kExact) details["topic"] = topic;
    if (disclose) {
      details["publisher"] = publisher->info.id;
      details["publisher_authid"] = publisher->info.authid;
      details["publisher_authrole"] = publisher->info.authrole;
    }
    Json event = Json::array(
        {static_cast<int>(MessageType::kEvent), sub->id, publication, std::move(details)});
    AppendPayload(event, args, kwargs);
    OutMessage out(std::move(event));
    for (uint64_t id : sub->sessions) {
      if (publisher != nullptr && exclude_me && id == publisher->info.id) continue;
      Session* target = FindSession(id);
      if (target == nullptr) continue;
      if (has_exclude || has_eligible) {
        const SessionInfo& info = target->info;
        if (ContainsId(options, "exclude", id) ||
            ContainsString(options, "exclude_authid", info.authid) ||
            ContainsString(options, "exclude_authrole", info.authrole)) {
          continue;
        }
        if ((Has(options, "eligible") && !ContainsId(options, "eligible", id)) ||
            (Has(options, "eligible_authid") &&
             !ContainsString(options, "eligible_authid", info.authid)) ||
            (Has(options, "eligible_authrole") &&
             !ContainsString(options, "eligible_authrole", info.authrole))) {
          continue;
        }
      }
      if (target->peer->Send(out) && !target->info.internal) {
        metrics_->MessageOut(MessageType::kEvent);
        ++delivered;
      }
    }
  }
  if (delivered > 0) metrics_->EventsDelivered(delivered);
  return publication;
}

void Realm::OnSubscribe(Session* s, Json& m) {
  const uint64_t request = IdAt(m, 1);
  const Json& options = Dict(m, 2);
  const std::string& topic = m[3].get_ref<const std::string&>();
  const std::optional<MatchPolicy> match = ParseMatchPolicy(StringOption(options, "match", "exact"));
  if (!match) {
    return SendError(s, MessageType::kSubscribe, request, "wamp.error.invalid_argument",
                     "options.match must be exact, prefix or wildcard");
  }
  if (!IsValidUri(topic, *match)) {
    return SendError(s, MessageType::kSubscribe, request, "wamp.error.invalid_uri",
                     absl::StrCat("invalid topic URI '", topic, "' for match ",
                                  std::string(MatchPolicyName(*match))));
  }
  if (!Authorized(*s, Action::kSubscribe, topic)) {
    return SendError(s, MessageType::kSubscribe, request, "wamp.error.not_authorized",
                     absl::StrCat("role '", s->info.authrole, "' may not subscribe to '", topic,
                                  "'"));
  }
  Subscription* sub = nullptr;
  if (*match == MatchPolicy::kExact) {
    if (auto it = exact_subscriptions_.find(topic); it != exact_subscriptions_.end()) {
      sub = it->second;
    }
  } else {
    for (Subscription* p : pattern_subscriptions_) {
      if (p->match == *match && p->uri == topic) sub = p;
    }
  }
  if (sub == nullptr) {
    auto owned = std::make_unique<Subscription>();
    owned->id = RandomId();
    owned->uri = topic;
    owned->match = *match;
    sub = owned.get();
    if (*match == MatchPolicy::kExact) {
      exact_subscriptions_[topic] = sub;
    } else {
      pattern_subscriptions_.push_back(sub);
    }
    subscriptions_[sub->id] = std::move(owned);
  }
  if (std::find(sub->sessions.begin(), sub->sessions.end(), s->info.id) == sub->sessions.end()) {
    sub->sessions.push_back(s->info.id);
    s->subscriptions.push_back(sub->id);
  }
  SendTo(s, Json::array({static_cast<int>(MessageType::kSubscribed), request, sub->id}));
}

void Realm::OnUnsubscribe(Session* s, Json& m) {
  const uint64_t request = IdAt(m, 1);
  const uint64_t id = IdAt(m, 2);
  auto it = std::find(s->subscriptions.begin(), s->subscriptions.end(), id);
  if (it == s->subscriptions.end()) {
    return SendError(s, MessageType::kUnsubscribe, request, "wamp.error.no_such_subscription",
                     absl::StrCat("no subscription ", id, " in this session"));
  }
  s->subscriptions.erase(it);
  DropSubscriber(id, s->info.id);
  SendTo(s, Json::array({static_cast<int>(MessageType::kUnsubscribed), request}));
}

void Realm::DropSubscriber(uint64_t subscription, uint64_t session) {
  auto it = subscriptions_.find(subscription);
  if (it == subscriptions_.end()) return;
  Subscription* sub = it->second.get();
  sub->sessions.erase(std::remove(sub->sessions.begin(), sub->sessions.end(), session),
                      sub->sessions.end());
  if (!sub->sessions.empty()) return;
  if (sub->match == MatchPolicy::kExact) {
    exact_subscriptions_.erase(sub->uri);
  } else {
    pattern_subscriptions_.erase(
        std::remove(pattern_subscriptions_.begin(), pattern_subscriptions_.end(), sub),
        pattern_subscriptions_.end());
  }
  subscriptions_.erase(it);
}

// ---- Dealer ----

const Realm::Provided* Realm::FindProvided(const std::string& uri) const {
  const Provided* best = nullptr;
  for (const Provided& p : provided_) {
    if (p.match == MatchPolicy::kExact && p.uri == uri) return &p;
    if (UriMatches(p.match, p.uri, uri) && (best == nullptr || p.uri.size() > best->uri.size())) {
      best = &p;
    }
  }
  return best;
}

Realm::Registration* Realm::FindRegistration(const std::string& uri) {
  if (auto it = exact_registrations_.find(uri); it != exact_registrations_.end()) {
    return it->second;
  }
  // Most specific first: any prefix over any wildcard, longer prefixes first,
  // wildcards with fewer empty components first.
  Registration* best = nullptr;
  auto rank = [](const Registration* r) -> std::pair<int, long> {
    if (r->match == MatchPolicy::kPrefix) return {1, static_cast<long>(r->uri.size())};
    long empty = 0;
    for (size_t start = 0;;) {
      const size_t dot = r->uri.find('.', start);
      const size_t end = dot == std::string::npos ? r->uri.size() : dot;
      if (end == start) ++empty;
      if (dot == std::string::npos) break;
      start = dot + 1;
    }
    return {0, -empty};
  };
  for (Registration* r : pattern_registrations_) {
    if (!UriMatches(r->match, r->uri, uri)) continue;
    if (best == nullptr || rank(r) > rank(best)) best = r;
  }
  return best;
}

void Realm::Provide(std::string uri, MatchPolicy match, ProcedureHandler handler) {
  absl::MutexLock lock(&mu_);
  provided_.push_back({std::move(uri), match, std::move(handler)});
}

void Realm::OnRegister(Session* s, Json& m) {
  const uint64_t request = IdAt(m, 1);
  const Json& options = Dict(m, 2);
  const std::string& procedure = m[3].get_ref<const std::string&>();
  auto error = [&](const char* uri, std::string message) {
    SendError(s, MessageType::kRegister, request, uri, std::move(message));
  };
  const std::optional<MatchPolicy> match = ParseMatchPolicy(StringOption(options, "match", "exact"));
  if (!match) return error("wamp.error.invalid_argument", "options.match must be exact, prefix or wildcard");
  static const std::map<std::string, Invoke> kInvoke = {{"single", Invoke::kSingle},
                                                        {"roundrobin", Invoke::kRoundRobin},
                                                        {"random", Invoke::kRandom},
                                                        {"first", Invoke::kFirst},
                                                        {"last", Invoke::kLast}};
  auto invoke = kInvoke.find(StringOption(options, "invoke", "single"));
  if (invoke == kInvoke.end()) {
    return error("wamp.error.invalid_argument",
                 "options.invoke must be single, roundrobin, random, first or last");
  }
  if (!IsValidUri(procedure, *match)) {
    return error("wamp.error.invalid_uri", absl::StrCat("invalid procedure URI '", procedure, "'"));
  }
  if (!s->info.internal && Reserved(procedure)) {
    return error("wamp.error.invalid_uri",
                 absl::StrCat("procedure '", procedure, "': the wamp. prefix is reserved"));
  }
  if (!Authorized(*s, Action::kRegister, procedure)) {
    return error("wamp.error.not_authorized", absl::StrCat("role '", s->info.authrole,
                                                           "' may not register '", procedure, "'"));
  }
  for (const Provided& p : provided_) {
    if (UriMatches(p.match, p.uri, procedure) || (p.uri == procedure && p.match == *match)) {
      return error("wamp.error.procedure_already_exists",
                   absl::StrCat("'", procedure, "' is provided by the router"));
    }
  }
  Registration* reg = nullptr;
  if (*match == MatchPolicy::kExact) {
    if (auto it = exact_registrations_.find(procedure); it != exact_registrations_.end()) {
      reg = it->second;
    }
  } else {
    for (Registration* r : pattern_registrations_) {
      if (r->match == *match && r->uri == procedure) reg = r;
    }
  }
  if (reg != nullptr) {
    if (reg->invoke == Invoke::kSingle || invoke->second != reg->invoke) {
      return error("wamp.error.procedure_already_exists",
                   reg->invoke == Invoke::kSingle
                       ? absl::StrCat("'", procedure, "' is already registered")
                       : absl::StrCat("'", procedure,
                                      "' is registered with another invocation policy"));
    }
    if (std::find(reg->callees.begin(), reg->callees.end(), s->info.id) != reg->callees.end()) {
      return error("wamp.error.procedure_already_exists",
                   absl::StrCat("this session already registered '", procedure, "'"));
    }
  } else {
    auto owned = std::make_unique<Registration>();
    owned->id = RandomId();
    owned->uri = procedure;
    owned->match = *match;
    owned->invoke = invoke->second;
    owned->disclose_caller = BoolOption(options, "disclose_caller", false);
    reg = owned.get();
    if (*match == MatchPolicy::kExact) {
      exact_registrations_[procedure] = reg;
    } else {
      pattern_registrations_.push_back(reg);
    }
    registrations_[reg->id] = std::move(owned);
  }
  reg->callees.push_back(s->info.id);
  s->registrations.push_back(reg->id);
  SendTo(s, Json::array({static_cast<int>(MessageType::kRegistered), request, reg->id}));
}

void Realm::OnUnregister(Session* s, Json& m) {
  const uint64_t request = IdAt(m, 1);
  const uint64_t id = IdAt(m, 2);
  auto it = std::find(s->registrations.begin(), s->registrations.end(), id);
  if (it == s->registrations.end()) {
    return SendError(s, MessageType::kUnregister, request, "wamp.error.no_such_registration",
                     absl::StrCat("no registration ", id, " in this session"));
  }
  s->registrations.erase(it);
  DropCallee(id, s->info.id);
  SendTo(s, Json::array({static_cast<int>(MessageType::kUnregistered), request}));
}

void Realm::DropCallee(uint64_t registration, uint64_t session) {
  auto it = registrations_.find(registration);
  if (it == registrations_.end()) return;
  Registration* reg = it->second.get();
  reg->callees.erase(std::remove(reg->callees.begin(), reg->callees.end(), session),
                     reg->callees.end());
  if (!reg->callees.empty()) return;
  if (reg->match == MatchPolicy::kExact) {
    exact_registrations_.erase(reg->uri);
  } else {
    pattern_registrations_.erase(
        std::remove(pattern_registrations_.begin(), pattern_registrations_.end(), reg),
        pattern_registrations_.end());
  }
  registrations_.erase(it);
}

void Realm::OnCall(Session* s, Json& m, After* after) {
  const uint64_t request = IdAt(m, 1);
  const Json& options = Dict(m, 2);
  const std::string& procedure = m[3].get_ref<const std::string&>();
  auto error = [&](const char* uri, std::string message) {
    SendError(s, MessageType::kCall, request, uri, std::move(message));
  };
  if (!IsValidUri(procedure, MatchPolicy::kExact)) {
    return error("wamp.error.invalid_uri", absl::StrCat("invalid procedure URI '", procedure, "'"));
  }
  if (!Authorized(*s, Action::kCall, procedure)) {
    return error("wamp.error.not_authorized",
                 absl::StrCat("role '", s->info.authrole, "' may not call '", procedure, "'"));
  }
  if (s->calls.contains(request)) {
    return error("wamp.error.invalid_argument", "a call with this request id is pending");
  }
  metrics_->CallRouted();
  Invocation inv;
  inv.caller = s->info.id;
  inv.call_request = request;
  inv.receive_progress = BoolOption(options, "receive_progress", false);
  inv.started = absl::Now();
  int64_t timeout_ms = 0;
  if (auto t = options.find("timeout"); t != options.end() && t->is_number()) {
    timeout_ms = t->get<int64_t>();
  }

  if (const Provided* provided = FindProvided(procedure)) {
    inv.id = RandomId();
    const uint64_t id = inv.id;
    ProcedureCall call;
    call.procedure = procedure;
    call.caller = s->info.id;
    call.caller_authid = s->info.authid;
    call.caller_authrole = s->info.authrole;
    if (const Json* a = Element(m, 4)) call.args = *a;
    if (const Json* k = Element(m, 5)) call.kwargs = *k;
    s->calls[request] = id;
    invocations_[id] = inv;
    if (timeout_ms > 0) {
      std::weak_ptr<Realm> weak = weak_from_this();
      invocations_[id].timer = clock_->RunAfter(absl::Milliseconds(timeout_ms), [weak, id] {
        if (auto realm = weak.lock()) realm->OnTimeout(id);
      });
    }
    after->push_back([weak = weak_from_this(), handler = provided->handler, id,
                      call = std::move(call)]() mutable {
      handler(std::move(call), [weak, id](ProcedureOutcome outcome) {
        if (auto realm = weak.lock()) realm->FinishProvided(id, std::move(outcome));
      });
    });
    return;
  }

  Registration* reg = FindRegistration(procedure);
  if (reg == nullptr || reg->callees.empty()) {
    return error("wamp.error.no_such_procedure", absl::StrCat("no callee registered procedure '",
                                                              procedure, "'"));
  }
  uint64_t callee_id = 0;
  switch (reg->invoke) {
    case Invoke::kSingle:
    case Invoke::kFirst: callee_id = reg->callees.front(); break;
    case Invoke::kLast: callee_id = reg->callees.back(); break;
    case Invoke::kRoundRobin: callee_id = reg->callees[reg->next++ % reg->callees.size()]; break;
    case Invoke::kRandom: {
      thread_local absl::BitGen gen;
      callee_id = reg->callees[absl::Uniform<size_t>(gen, 0, reg->callees.size())];
      break;
    }
  }
  Session* callee = FindSession(callee_id);
  if (callee == nullptr) return error("wamp.error.no_such_procedure", "the callee is gone");
  inv.id = RandomId();
  inv.callee = callee_id;
  Json details = Json::object();
  if (reg->match != MatchPolicy::kExact) details["procedure"] = procedure;
  if (reg->disclose_caller || BoolOption(options, "disclose_me", false)) {
    details["caller"] = s->info.id;
    details["caller_authid"] = s->info.authid;
    details["caller_authrole"] = s->info.authrole;
  }
  if (inv.receive_progress) details["receive_progress"] = true;
  if (timeout_ms > 0) details["timeout"] = timeout_ms;
  Json invocation =
      Json::array({static_cast<int>(MessageType::kInvocation), inv.id, reg->id, std::move(details)});
  AppendPayload(invocation, Element(m, 4), Element(m, 5));
  const uint64_t id = inv.id;
  s->calls[request] = id;
  callee->invocations.push_back(id);
  invocations_[id] = inv;
  if (timeout_ms > 0) {
    std::weak_ptr<Realm> weak = weak_from_this();
    invocations_[id].timer = clock_->RunAfter(absl::Milliseconds(timeout_ms), [weak, id] {
      if (auto realm = weak.lock()) realm->OnTimeout(id);
    });
  }
  SendTo(callee, std::move(invocation));
}

void Realm::Finish(uint64_t invocation, Json final_message) {
  auto it = invocations_.find(invocation);
  if (it == invocations_.end()) return;
  Invocation inv = it->second;
  invocations_.erase(it);
  if (inv.timer != 0) clock_->Cancel(inv.timer);
  if (inv.callee != 0) {
    if (Session* callee = FindSession(inv.callee)) {
      auto& list = callee->invocations;
      list.erase(std::remove(list.begin(), list.end(), invocation), list.end());
    }
  }
  if (inv.caller_done) return;
  Session* caller = FindSession(inv.caller);
  if (caller == nullptr) return;
  caller->calls.erase(inv.call_request);
  metrics_->CallLatency(absl::ToDoubleSeconds(absl::Now() - inv.started));
  // RESULT [50, Request, ...]; ERROR [8, 48, Request, ...].
  final_message[final_message[0].get<int>() == kTypeError ? 2 : 1] = inv.call_request;
  SendTo(caller, std::move(final_message));
}

void Realm::FinishProvided(uint64_t invocation, ProcedureOutcome outcome) {
  absl::MutexLock lock(&mu_);
  Json message;
  if (outcome.error.empty()) {
    message = Json::array({static_cast<int>(MessageType::kResult), 0, Json::object()});
  } else {
    message = Json::array({kTypeError, static_cast<int>(MessageType::kCall), 0, Json::object(),
                           std::move(outcome.error)});
  }
  AppendPayload(message, &outcome.args, &outcome.kwargs);
  Finish(invocation, std::move(message));
}

void Realm::Interrupt(Invocation* inv, const std::string& mode, const std::string& caller_error) {
  Session* callee = inv->callee != 0 ? FindSession(inv->callee) : nullptr;
  const bool interrupt = callee != nullptr && callee->info.callee_cancels && mode != "skip";
  if (interrupt) {
    SendTo(callee, Json::array({static_cast<int>(MessageType::kInterrupt), inv->id,
                                Json::object({{"mode", mode}})}));
  }
  if (caller_error.empty()) return;  // the caller is gone
  if (mode == "kill" && interrupt) return;  // the callee's ERROR answers the caller
  // skip, killnowait (or kill without a callee that cancels): answer now and
  // drop whatever the callee sends later.
  Session* caller = FindSession(inv->caller);
  if (caller != nullptr) {
    caller->calls.erase(inv->call_request);
    SendTo(caller, Json::array({kTypeError, static_cast<int>(MessageType::kCall),
                                inv->call_request, Json::object(), caller_error,
                                Json::array({caller_error == "wamp.error.timeout"
                                                 ? "the call timed out"
                                                 : "the call was canceled"})}));
  }
  inv->caller_done = true;
  if (inv->callee == 0 || callee == nullptr) {
    // Nobody will answer: forget it (a router procedure's late outcome is dropped).
    if (inv->timer != 0) clock_->Cancel(inv->timer);
    invocations_.erase(inv->id);
  }
}

void Realm::OnCancel(Session* s, Json& m) {
  const uint64_t request = IdAt(m, 1);
  auto call = s->calls.find(request);
  if (call == s->calls.end()) return;  // already answered: nothing to cancel
  auto inv = invocations_.find(call->second);
  if (inv == invocations_.end()) return;
  std::string mode = StringOption(Dict(m, 2), "mode", "killnowait");
  if (mode != "skip" && mode != "kill" && mode != "killnowait") mode = "killnowait";
  Interrupt(&inv->second, mode, "wamp.error.canceled");
}

void Realm::OnTimeout(uint64_t invocation) {
  absl::MutexLock lock(&mu_);
  auto inv = invocations_.find(invocation);
  if (inv == invocations_.end() || inv->second.caller_done) return;
  inv->second.timer = 0;
  Interrupt(&inv->second, "killnowait", "wamp.error.timeout");
}

absl::Status Realm::OnYield(Session* s, Json& m) {
  const uint64_t id = IdAt(m, 1);
  auto it = invocations_.find(id);
  if (it == invocations_.end() || it->second.callee != s->info.id) {
    return absl::OkStatus();  // canceled or timed out meanwhile: dropped
  }
  Invocation& inv = it->second;
  if (BoolOption(Dict(m, 2), "progress", false)) {
    if (inv.caller_done || !inv.receive_progress) return absl::OkStatus();
    Session* caller = FindSession(inv.caller);
    if (caller == nullptr) return absl::OkStatus();
    Json result = Json::array({static_cast<int>(MessageType::kResult), inv.call_request,
                               Json::object({{"progress", true}})});
    AppendPayload(result, Element(m, 3), Element(m, 4));
    SendTo(caller, std::move(result));
    return absl::OkStatus();
  }
  Json result = Json::array({static_cast<int>(MessageType::kResult), 0, Json::object()});
  AppendPayload(result, Element(m, 3), Element(m, 4));
  Finish(id, std::move(result));
  return absl::OkStatus();
}

absl::Status Realm::OnError(Session* s, Json& m) {
  if (m[1].get<int>() != static_cast<int>(MessageType::kInvocation)) {
    return absl::InvalidArgumentError("a client may only send ERROR for an INVOCATION");
  }
  const uint64_t id = IdAt(m, 2);
  auto it = invocations_.find(id);
  if (it == invocations_.end() || it->second.callee != s->info.id) return absl::OkStatus();
  Json error = Json::array({kTypeError, static_cast<int>(MessageType::kCall), 0, m[3], m[4]});
  AppendPayload(error, Element(m, 5), Element(m, 6));
  Finish(id, std::move(error));
  return absl::OkStatus();
}

// ---- Session meta API ----

Json Realm::SessionDetails(const Session& s) const {
  return Json::object({{"session", s.info.id},
                       {"authid", s.info.authid},
                       {"authrole", s.info.authrole},
                       {"authmethod", s.info.authmethod},
                       {"authprovider", s.info.authprovider},
                       {"transport", s.peer->TransportInfo()}});
}

void Realm::ProvideMetaProcedures() {
  // Filter by authrole list, as wamp.session.count/list take it.
  auto selected = [](const Session& s, const Json& args) {
    if (s.info.internal) return false;
    if (args.is_array() && !args.empty() && args[0].is_array()) {
      for (const Json& role : args[0]) {
        if (role.is_string() && role.get_ref<const std::string&>() == s.info.authrole) return true;
      }
      return false;
    }
    return true;
  };
  provided_.push_back({"wamp.session.count", MatchPolicy::kExact,
                       [this, selected](ProcedureCall call, auto done) {
                         size_t n = 0;
                         {
                           absl::MutexLock lock(&mu_);
                           for (const auto& [id, s] : sessions_) n += selected(*s, call.args);
                         }
                         done(ProcedureOutcome::Result(Json::array({n})));
                       }});
  provided_.push_back({"wamp.session.list", MatchPolicy::kExact,
                       [this, selected](ProcedureCall call, auto done) {
                         Json ids = Json::array();
                         {
                           absl::MutexLock lock(&mu_);
                           for (const auto& [id, s] : sessions_) {
                             if (selected(*s, call.args)) ids.push_back(id);
                           }
                         }
                         done(ProcedureOutcome::Result(Json::array({std::move(ids)})));
                       }});
  provided_.push_back(
      {"wamp.session.get", MatchPolicy::kExact, [this](ProcedureCall call, auto done) {
         const std::optional<uint64_t> arg =
             call.args.is_array() && !call.args.empty() ? AsId(call.args[0]) : std::nullopt;
         if (!arg) {
           return done(ProcedureOutcome::Error("wamp.error.invalid_argument",
                                               "wamp.session.get takes a session id"));
         }
         const uint64_t id = *arg;
         Json details;
         {
           absl::MutexLock lock(&mu_);
           auto it = sessions_.find(id);
           if (it != sessions_.end() && !it->second->info.internal) {
             details = SessionDetails(*it->second);
           }
         }
         if (details.is_null()) {
           return done(ProcedureOutcome::Error("wamp.error.no_such_session",
                                               absl::StrCat("no session ", id)));
         }
         done(ProcedureOutcome::Result(Json::array({std::move(details)})));
       }});
}

}  // namespace thingtank::wamp
