// WAMP realms, authentication (anonymous, ticket, WAMP-CRA with salted
// secrets) and authorization (per realm and role, by URI pattern). The config
// file format and the methods are described in services/wamp/auth/CONFIG.md.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "services/common/clock.h"
#include "services/wamp/codec/uri.h"

namespace thingtank::wamp {

// ABORT reasons used by the Authenticator. The names are the ones Autobahn
// (autobahn.wamp.exception.ApplicationError) and Crossbar send; the current
// spec draft calls two of them wamp.error.no_matching_auth_method and
// wamp.error.authentication_denied.
inline constexpr char kErrorNoSuchRealm[] = "wamp.error.no_such_realm";
inline constexpr char kErrorNoAuthMethod[] = "wamp.error.no_auth_method";
inline constexpr char kErrorAuthenticationFailed[] = "wamp.error.authentication_failed";
inline constexpr char kErrorProtocolViolation[] = "wamp.error.protocol_violation";

enum class Action { kPublish, kSubscribe, kRegister, kCall };

// "publish", "subscribe", "register", "call".
std::string_view ActionName(Action action);
std::optional<Action> ParseAction(std::string_view name);

// One authorization rule of a role: the actions allowed on URIs matching
// `uri` under `match`. A rule allowing nothing is a deny rule for its URIs.
struct Permission {
  std::string uri;  // pattern
  MatchPolicy match = MatchPolicy::kPrefix;
  bool publish = false, subscribe = false, register_ = false, call = false;

  bool Allows(Action action) const;
};

struct Principal {
  std::string authid;
  std::string role;
  std::string ticket;  // for "ticket"; empty: the principal cannot use it
  std::string secret;  // for "wampcra"; empty: the principal cannot use it
  // Salted WAMP-CRA (PBKDF2-HMAC-SHA256) when salt is non-empty. The salt is
  // used as its UTF-8 bytes, as Autobahn does (not base64-decoded).
  std::string salt;
  int iterations = 1000;
  int keylen = 32;
};

struct RealmConfig {
  std::string name;
  bool anonymous = false;               // anonymous sessions allowed
  bool anonymous_loopback_only = true;  // ... only from loopback peers
  std::string anonymous_role = "anonymous";
  // std::less<> so lookups by string_view do not allocate.
  std::map<std::string, std::vector<Permission>, std::less<>> roles;  // role -> rules
  std::map<std::string, Principal, std::less<>> principals;           // authid -> principal
};

struct WampConfig {
  std::map<std::string, RealmConfig, std::less<>> realms;  // name -> realm
};

// The default: realm1 open to anonymous sessions from loopback, which may do
// everything.
WampConfig DefaultWampConfig();
// Parses the JSON config file format (see CONFIG.md). Errors are
// INVALID_ARGUMENT "<field path>: <what is wrong>", the path also in the
// BadRequest field violation (ErrorField), e.g.
// "realms[0].roles.device[1].match: must be one of exact, prefix, wildcard".
absl::StatusOr<WampConfig> ParseWampConfig(std::string_view json_text);

// The outcome of a HELLO or AUTHENTICATE.
struct AuthResult {
  enum Kind { kWelcome, kChallenge, kAbort } kind = kAbort;
  // kWelcome: who the session is. kChallenge: authmethod is CHALLENGE.AuthMethod.
  std::string authid, authrole, authmethod, authprovider = "static";
  // kChallenge: CHALLENGE.Extra.
  nlohmann::json challenge_extra = nlohmann::json::object();
  // kAbort: ABORT.Reason (one of the kError* URIs above) and a message for
  // ABORT.Details.message. kErrorProtocolViolation means the peer sent a
  // message that is wrong in this state or malformed.
  std::string abort_reason, abort_message;
};

// The authentication state of one session (HELLO -> [CHALLENGE ->
// AUTHENTICATE] -> WELCOME | ABORT). Borrows `config` and `clock`, which must
// outlive it. Not thread-safe; one per session. Each session gets one
// HELLO and at most one AUTHENTICATE: any other call is answered with
// kAbort / kErrorProtocolViolation.
class Authenticator {
 public:
  Authenticator(const WampConfig& config, const Clock& clock)
      : config_(config), clock_(clock) {}

  // `details` is HELLO.Details (authmethods, authid, ...). The method is the
  // first of Details.authmethods (absent: ["anonymous"]) that the realm can
  // satisfy for Details.authid; other methods are ignored.
  AuthResult OnHello(std::string_view realm, const nlohmann::json& details,
                     bool peer_is_loopback, uint64_t session_id);
  // `signature` from AUTHENTICATE. Valid only after a kChallenge.
  AuthResult OnAuthenticate(std::string_view signature);

 private:
  enum class State { kAwaitingHello, kChallenged, kDone };

  AuthResult Welcome(const Principal& principal, std::string_view method);

  const WampConfig& config_;
  const Clock& clock_;
  State state_ = State::kAwaitingHello;
  // Set while kChallenged.
  const RealmConfig* pending_realm_ = nullptr;
  std::string pending_authid_, pending_method_, pending_challenge_;
};

// True when `role` in `realm` may do `action` on `uri`. The most specific
// matching rule decides (even when it allows nothing): exact, then prefix
// (longer first), then wildcard (fewer empty components, then longer, then
// the one whose first empty component is further right); equal rank: the
// first in config order. No matching rule, or unknown role: denied.
bool IsAuthorized(const RealmConfig& realm, std::string_view role, Action action,
                  std::string_view uri);

// WAMP-CRA helpers, as Autobahn computes them (autobahn.wamp.auth).
// base64(HMAC-SHA256(key, challenge)), Autobahn's compute_wcs.
std::string ComputeWcsSignature(std::string_view key, std::string_view challenge);
// base64(PBKDF2-HMAC-SHA256(secret, salt, iterations, keylen)), Autobahn's
// derive_key. WAMP-CRA uses this base64 text (not the raw bytes) as the key.
std::string DeriveKey(std::string_view secret, std::string_view salt, int iterations,
                      int keylen);

}  // namespace thingtank::wamp
