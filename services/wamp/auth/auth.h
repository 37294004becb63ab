// WAMP realms, authentication (anonymous, ticket, WAMP-CRA with salted
// secrets) and authorization (per realm and role, by URI pattern).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "services/wamp/codec/uri.h"

namespace thingtank::wamp {

enum class Action { kPublish, kSubscribe, kRegister, kCall };

struct Permission {
  std::string uri;  // pattern
  MatchPolicy match = MatchPolicy::kPrefix;
  bool publish = false, subscribe = false, register_ = false, call = false;
};

struct Principal {
  std::string authid;
  std::string role;
  std::string ticket;  // for "ticket"
  std::string secret;  // for "wampcra"
  // Salted WAMP-CRA (PBKDF2-HMAC-SHA256) when salt is non-empty.
  std::string salt;
  int iterations = 1000;
  int keylen = 32;
};

struct RealmConfig {
  std::string name;
  bool anonymous = false;               // anonymous sessions allowed
  bool anonymous_loopback_only = true;  // ... only from loopback peers
  std::string anonymous_role = "anonymous";
  std::map<std::string, std::vector<Permission>> roles;  // role -> rules
  std::map<std::string, Principal> principals;           // authid -> principal
};

struct WampConfig {
  std::map<std::string, RealmConfig> realms;
};

// The default: realm1 open to anonymous sessions from loopback, which may do
// everything.
WampConfig DefaultWampConfig();
// Parses the JSON config file format (see services/wamp/README.md); errors
// name the offending field, e.g. "realms[0].roles.device[1].match".
absl::StatusOr<WampConfig> ParseWampConfig(std::string_view json_text);

// The outcome of a HELLO or AUTHENTICATE.
struct AuthResult {
  enum Kind { kWelcome, kChallenge, kAbort } kind = kAbort;
  // kWelcome: who the session is.
  std::string authid, authrole, authmethod, authprovider = "static";
  // kChallenge: the method and CHALLENGE.Extra.
  nlohmann::json challenge_extra = nlohmann::json::object();
  // kAbort: the reason URI (wamp.error.no_such_realm,
  // wamp.error.not_authorized, wamp.error.authentication_failed,
  // wamp.error.no_auth_method) and a message.
  std::string abort_reason, abort_message;
};

// The authentication state of one session (HELLO -> [CHALLENGE ->
// AUTHENTICATE] -> WELCOME). Not thread-safe; one per session.
class Authenticator {
 public:
  explicit Authenticator(const WampConfig& config) : config_(config) {}
  // `details` is HELLO.Details (authmethods, authid, ...).
  AuthResult OnHello(std::string_view realm, const nlohmann::json& details,
                     bool peer_is_loopback, uint64_t session_id);
  // `signature` from AUTHENTICATE. Valid only after a kChallenge.
  AuthResult OnAuthenticate(std::string_view signature);

 private:
  const WampConfig& config_;
  // pending challenge state (filled in by the implementation)
  std::string pending_realm_, pending_authid_, pending_method_, pending_challenge_;
};

// True when `role` in `realm` may do `action` on `uri`. Among matching
// rules the most specific wins: exact over prefix (longer prefix first) over
// wildcard. No matching rule: denied.
bool IsAuthorized(const RealmConfig& realm, std::string_view role, Action action,
                  std::string_view uri);

// WAMP-CRA helpers, as Autobahn computes them.
std::string ComputeWcsSignature(std::string_view key, std::string_view challenge);  // base64 HMAC-SHA256
std::string DeriveKey(std::string_view secret, std::string_view salt, int iterations,
                      int keylen);  // base64 PBKDF2-HMAC-SHA256

}  // namespace thingtank::wamp
