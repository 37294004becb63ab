// One WebSocket WAMP session: the opening handshake, authentication, request
// id checks and the closing handshake; everything else goes to its realm.
#include "absl/strings/str_cat.h"
#include "services/common/log.h"
#include "services/wamp/codec/uri.h"
#include "services/wamp/router/router.h"

namespace thingtank::wamp {

namespace {

constexpr int kAbort = static_cast<int>(MessageType::kAbort);

class ConnectionPeer final : public Peer {
 public:
  explicit ConnectionPeer(std::shared_ptr<Connection> connection)
      : connection_(std::move(connection)) {}
  bool Send(OutMessage& message) override {
    return connection_->Send(message.Encoded(connection_->serializer()));
  }
  void Close() override { connection_->Close(DisconnectReason::kServerClosed); }
  Json TransportInfo() const override {
    return Json::object({{"type", "websocket"},
                         {"protocol", SubprotocolName(connection_->serializer())},
                         {"peer", absl::StrCat("tcp:", connection_->peer())}});
  }

 private:
  std::shared_ptr<Connection> connection_;
};

// Messages that open a new request and so carry the next request id.
bool IsNewRequest(MessageType type) {
  switch (type) {
    case MessageType::kPublish:
    case MessageType::kSubscribe:
    case MessageType::kUnsubscribe:
    case MessageType::kCall:
    case MessageType::kRegister:
    case MessageType::kUnregister:
      return true;
    default:
      return false;
  }
}

class WebSocketSession final : public ConnectionHandler {
 public:
  WebSocketSession(Router* router, std::shared_ptr<Connection> connection)
      : router_(router),
        connection_(connection),
        peer_(std::make_shared<ConnectionPeer>(std::move(connection))),
        authenticator_(router->config(), *router->clock()) {}

  void OnMessage(std::string_view payload) override {
    if (state_ == State::kClosed) return;
    absl::StatusOr<Json> decoded = Decode(connection_->serializer(), payload);
    if (!decoded.ok()) return Violation(std::string(decoded.status().message()));
    Json& m = *decoded;
    absl::StatusOr<MessageType> type = ValidateMessage(m);
    if (!type.ok()) return Violation(std::string(type.status().message()));
    router_->metrics()->MessageIn(*type);
    switch (state_) {
      case State::kAwaitHello:
        if (*type != MessageType::kHello) {
          return Violation(absl::StrCat("expected HELLO, got ", std::string(MessageTypeName(*type))));
        }
        return OnHello(m);
      case State::kAuthenticating:
        if (*type == MessageType::kAbort) return Close();
        if (*type != MessageType::kAuthenticate) {
          return Violation(absl::StrCat("expected AUTHENTICATE, got ", std::string(MessageTypeName(*type))));
        }
        return Conclude(authenticator_.OnAuthenticate(m[1].get_ref<const std::string&>()));
      case State::kEstablished:
        return OnEstablished(*type, m);
      case State::kClosed:
        return;
    }
  }

  void OnClose(DisconnectReason reason) override {
    router_->metrics()->Disconnect(reason);
    LeaveRealm();
    state_ = State::kClosed;
  }

 private:
  enum class State { kAwaitHello, kAuthenticating, kEstablished, kClosed };

  void OnHello(const Json& m) {
    const std::string& realm = m[1].get_ref<const std::string&>();
    if (!IsValidUri(realm, MatchPolicy::kExact)) {
      return Abort("wamp.error.invalid_uri", absl::StrCat("invalid realm URI '", realm, "'"));
    }
    hello_details_ = m[2];
    realm_name_ = realm;
    session_id_ = RandomId();
    Conclude(authenticator_.OnHello(realm, hello_details_, connection_->peer_is_loopback(),
                                    session_id_));
  }

  void Conclude(const AuthResult& result) {
    switch (result.kind) {
      case AuthResult::kChallenge:
        state_ = State::kAuthenticating;
        return SendMessage(Json::array({static_cast<int>(MessageType::kChallenge),
                                        result.authmethod, result.challenge_extra}));
      case AuthResult::kAbort:
        if (result.abort_reason == kErrorProtocolViolation) {
          return Violation(result.abort_message);
        }
        return Abort(result.abort_reason, result.abort_message);
      case AuthResult::kWelcome:
        break;
    }
    realm_ = router_->FindRealm(realm_name_);
    if (realm_ == nullptr) return Abort("wamp.error.no_such_realm", "no such realm");
    SessionInfo info;
    info.id = session_id_;
    info.authid = result.authid;
    info.authrole = result.authrole;
    info.authmethod = result.authmethod;
    info.authprovider = result.authprovider;
    const Json* cancels = FindPath(hello_details_, {"roles", "callee", "features", "call_canceling"});
    info.callee_cancels = cancels != nullptr && cancels->is_boolean() && cancels->get<bool>();
    // Join before WELCOME: once the client holds its WELCOME, the meta API
    // and the sessions gauge already count it (nothing is routed to a session
    // before it subscribes or registers, so WELCOME is still its first message).
    state_ = State::kEstablished;
    realm_->Join(info, peer_);
    SendMessage(Json::array({static_cast<int>(MessageType::kWelcome), session_id_,
                             Json::object({{"realm", realm_name_},
                                           {"authid", info.authid},
                                           {"authrole", info.authrole},
                                           {"authmethod", info.authmethod},
                                           {"authprovider", info.authprovider},
                                           {"roles", RouterRoles()}})}));
  }

  void OnEstablished(MessageType type, Json& m) {
    switch (type) {
      case MessageType::kHello:
        return Violation("HELLO on an established session");
      case MessageType::kGoodbye:
        // Any reason is accepted; the answer is always goodbye_and_out.
        SendMessage(Json::array({static_cast<int>(MessageType::kGoodbye), Json::object(),
                                 "wamp.close.goodbye_and_out"}));
        return Close();
      case MessageType::kAbort:
        return Close();
      case MessageType::kPublish: case MessageType::kSubscribe: case MessageType::kUnsubscribe:
      case MessageType::kCall: case MessageType::kCancel: case MessageType::kRegister:
      case MessageType::kUnregister: case MessageType::kYield: case MessageType::kError:
        break;
      default:
        return Violation(absl::StrCat(std::string(MessageTypeName(type)), " is not sent by clients"));
    }
    if (IsNewRequest(type)) {
      const uint64_t id = m[1].get<uint64_t>();
      // The spec: request ids are sequential per session. The first one may be
      // anything (a reconnecting client keeps counting), then each is one more.
      if (last_request_ != 0) {
        const uint64_t want = last_request_ == kMaxId ? 1 : last_request_ + 1;
        if (id != want) {
          return Violation(absl::StrCat("request id ", id, " is not sequential (expected ",
                                        want, ")"));
        }
      }
      last_request_ = id;
    }
    absl::Status status = realm_->Handle(session_id_, m);
    if (!status.ok()) Violation(std::string(status.message()));
  }

  void SendMessage(Json message) {
    OutMessage out(std::move(message));
    if (peer_->Send(out)) router_->metrics()->MessageOut(out.type());
  }

  void Abort(const std::string& reason, const std::string& message) {
    SendMessage(Json::array({kAbort, Json::object({{"message", message}}), reason}));
    Close();
  }

  void Violation(const std::string& message) {
    router_->metrics()->ProtocolError();
    TT_LOG_DEBUG("wamp: protocol violation from {}: {}", connection_->peer(), message);
    Abort("wamp.error.protocol_violation", message);
  }

  void Close() {
    LeaveRealm();
    state_ = State::kClosed;
    connection_->Close(DisconnectReason::kServerClosed);
  }

  void LeaveRealm() {
    if (state_ == State::kEstablished && realm_ != nullptr) realm_->Leave(session_id_);
    realm_ = nullptr;
  }

  static const Json* FindPath(const Json& root, std::initializer_list<const char*> path) {
    const Json* node = &root;
    for (const char* key : path) {
      if (!node->is_object()) return nullptr;
      auto it = node->find(key);
      if (it == node->end()) return nullptr;
      node = &*it;
    }
    return node;
  }

  Router* const router_;
  std::shared_ptr<Connection> connection_;
  std::shared_ptr<ConnectionPeer> peer_;
  Authenticator authenticator_;
  State state_ = State::kAwaitHello;
  Json hello_details_;
  std::string realm_name_;
  std::shared_ptr<Realm> realm_;
  uint64_t session_id_ = 0;
  uint64_t last_request_ = 0;
};

}  // namespace

std::unique_ptr<ConnectionHandler> Router::NewSession(std::shared_ptr<Connection> connection) {
  return std::make_unique<WebSocketSession>(this, std::move(connection));
}

}  // namespace thingtank::wamp
