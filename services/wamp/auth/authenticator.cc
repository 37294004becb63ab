// Session authentication: HELLO -> [CHALLENGE -> AUTHENTICATE] -> WELCOME.
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "services/wamp/auth/auth.h"
#include "services/wamp/auth/internal.h"

namespace thingtank::wamp {
namespace {

using nlohmann::json;

constexpr size_t kNonceBytes = 32;

AuthResult Abort(std::string_view reason, std::string message) {
  AuthResult result;
  result.kind = AuthResult::kAbort;
  result.abort_reason = std::string(reason);
  result.abort_message = std::move(message);
  return result;
}

AuthResult Challenge(std::string_view method, json extra) {
  AuthResult result;
  result.kind = AuthResult::kChallenge;
  result.authmethod = std::string(method);
  result.challenge_extra = std::move(extra);
  return result;
}

}  // namespace

AuthResult Authenticator::Welcome(const Principal& principal, std::string_view method) {
  AuthResult result;
  result.kind = AuthResult::kWelcome;
  result.authid = principal.authid;
  result.authrole = principal.role;
  result.authmethod = std::string(method);
  return result;
}

AuthResult Authenticator::OnHello(std::string_view realm_name, const json& details,
                                  bool peer_is_loopback, uint64_t session_id) {
  if (state_ != State::kAwaitingHello) {
    state_ = State::kDone;
    return Abort(kErrorProtocolViolation, "HELLO received twice");
  }
  state_ = State::kDone;  // unless we send a CHALLENGE below

  const auto realm_it = config_.realms.find(realm_name);
  if (realm_it == config_.realms.end()) {
    return Abort(kErrorNoSuchRealm, absl::StrCat("no realm \"", absl::CEscape(std::string(realm_name)), "\""));
  }
  const RealmConfig& realm = realm_it->second;

  if (!details.is_object()) return Abort(kErrorProtocolViolation, "HELLO.Details must be a dict");
  json methods = json::array({"anonymous"});
  if (const auto it = details.find("authmethods"); it != details.end()) {
    methods = *it;
    bool strings = methods.is_array();
    for (const json& m : methods) strings = strings && m.is_string();
    if (!strings) {
      return Abort(kErrorProtocolViolation, "HELLO.Details.authmethods must be a list of strings");
    }
  }
  std::string authid;
  if (const auto it = details.find("authid"); it != details.end()) {
    if (!it->is_string()) return Abort(kErrorProtocolViolation, "HELLO.Details.authid must be a string");
    authid = it->get<std::string>();
  }
  const auto principal_it = realm.principals.find(authid);
  const Principal* principal =
      principal_it == realm.principals.end() ? nullptr : &principal_it->second;

  for (const json& m : methods) {
    const std::string& method = m.get_ref<const std::string&>();
    if (method == "anonymous") {
      if (!realm.anonymous || (realm.anonymous_loopback_only && !peer_is_loopback)) continue;
      // A fresh random authid (the client's is ignored, as in Crossbar); the
      // session id if the CSPRNG fails, which is unique but guessable.
      const std::optional<std::string> bytes = auth_internal::RandomBytes(8);
      Principal anonymous;
      anonymous.authid = bytes ? absl::StrCat("anonymous-", absl::BytesToHexString(*bytes))
                               : absl::StrCat("anonymous-", session_id);
      anonymous.role = realm.anonymous_role;
      return Welcome(anonymous, "anonymous");
    }
    if (principal == nullptr) continue;
    if (method == "ticket" && !principal->ticket.empty()) {
      pending_realm_ = &realm;
      pending_authid_ = authid;
      pending_method_ = method;
      pending_challenge_.clear();
      state_ = State::kChallenged;
      return Challenge(method, json::object());
    }
    if (method == "wampcra" && !principal->secret.empty()) {
      const std::optional<std::string> nonce = auth_internal::RandomBytes(kNonceBytes);
      if (!nonce) return Abort(kErrorAuthenticationFailed, "random source failed");
      const json challenge = {
          {"authid", principal->authid},
          {"authrole", principal->role},
          {"authmethod", "wampcra"},
          {"authprovider", "static"},
          {"nonce", auth_internal::Base64(*nonce)},
          {"timestamp",
           absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", clock_.Now(), absl::UTCTimeZone())},
          {"session", session_id},
      };
      pending_realm_ = &realm;
      pending_authid_ = authid;
      pending_method_ = method;
      pending_challenge_ = challenge.dump();
      state_ = State::kChallenged;
      json extra = {{"challenge", pending_challenge_}};
      if (!principal->salt.empty()) {
        extra["salt"] = principal->salt;
        extra["iterations"] = principal->iterations;
        extra["keylen"] = principal->keylen;
      }
      return Challenge(method, std::move(extra));
    }
  }
  return Abort(kErrorNoAuthMethod,
               absl::StrCat("cannot authenticate using any of the offered authmethods ",
                            // replace: MessagePack/CBOR strings may be invalid UTF-8
                            methods.dump(-1, ' ', false, json::error_handler_t::replace)));
}

AuthResult Authenticator::OnAuthenticate(std::string_view signature) {
  if (state_ != State::kChallenged) {
    state_ = State::kDone;
    return Abort(kErrorProtocolViolation, "AUTHENTICATE without a pending CHALLENGE");
  }
  state_ = State::kDone;  // one attempt per session
  const std::string challenge = std::move(pending_challenge_);
  pending_challenge_.clear();
  const Principal& principal = pending_realm_->principals.at(pending_authid_);
  bool ok = false;
  if (pending_method_ == "ticket") {
    ok = auth_internal::ConstantTimeEquals(signature, principal.ticket);
  } else {  // "wampcra"
    const std::string key =
        principal.salt.empty()
            ? principal.secret
            : DeriveKey(principal.secret, principal.salt, principal.iterations, principal.keylen);
    ok = auth_internal::ConstantTimeEquals(signature, ComputeWcsSignature(key, challenge));
  }
  if (!ok) {
    return Abort(kErrorAuthenticationFailed, pending_method_ == "ticket"
                                                 ? "invalid ticket"
                                                 : "invalid WAMP-CRA signature");
  }
  return Welcome(principal, pending_method_);
}

}  // namespace thingtank::wamp
