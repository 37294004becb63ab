#include "gtest/gtest.h"
#include "services/common/clock.h"
#include "services/wamp/auth/auth.h"

namespace thingtank::wamp {
namespace {

using nlohmann::json;

constexpr char kConfig[] = R"({"realms": [
  {"name": "realm1",
   "anonymous": {"allow": true, "loopback_only": true, "role": "anonymous"},
   "roles": {"anonymous": [{"uri": "", "match": "prefix", "allow": ["subscribe"]}],
             "device": [{"uri": "com.example.", "match": "prefix", "allow": ["publish", "call"]}],
             "dashboard": [{"uri": "", "match": "prefix", "allow": ["subscribe", "call"]}]},
   "principals": [
     {"authid": "dev1", "role": "device", "ticket": "s3cret"},
     {"authid": "cra", "role": "dashboard", "secret": "plainpw"},
     {"authid": "dash", "role": "dashboard", "secret": "pw", "salt": "salt123",
      "iterations": 100, "keylen": 32},
     {"authid": "both", "role": "device", "ticket": "tk", "secret": "pw2"}]},
  {"name": "open", "anonymous": {"allow": true, "loopback_only": false, "role": "guest"},
   "roles": {"guest": []}},
  {"name": "closed", "roles": {"device": []},
   "principals": [{"authid": "dev1", "role": "device", "ticket": "other"}]}]})";

class AuthenticatorTest : public ::testing::Test {
 protected:
  AuthenticatorTest()
      : config_(*ParseWampConfig(kConfig)),
        clock_(absl::FromUnixMillis(1'700'000'000'123)),
        auth_(config_, clock_) {}

  AuthResult Hello(std::string_view realm, json details, bool loopback = true) {
    return auth_.OnHello(realm, details, loopback, kSession);
  }

  static constexpr uint64_t kSession = 4'503'599'627'370'495;  // 2^52 - 1
  WampConfig config_;
  ManualClock clock_;
  Authenticator auth_;
};

TEST_F(AuthenticatorTest, AnonymousFromLoopback) {
  const AuthResult r = Hello("realm1", json::object());  // no authmethods: anonymous
  ASSERT_EQ(r.kind, AuthResult::kWelcome) << r.abort_reason;
  EXPECT_EQ(r.authmethod, "anonymous");
  EXPECT_EQ(r.authrole, "anonymous");
  EXPECT_EQ(r.authprovider, "static");
  EXPECT_EQ(r.authid.rfind("anonymous-", 0), 0u) << r.authid;
  EXPECT_EQ(r.authid.size(), std::string("anonymous-").size() + 16);
}

TEST_F(AuthenticatorTest, AnonymousAuthidsAreRandomAndIgnoreClientAuthid) {
  Authenticator other(config_, clock_);
  const AuthResult a = Hello("realm1", {{"authmethods", {"anonymous"}}, {"authid", "dev1"}});
  const AuthResult b = other.OnHello("realm1", json::object(), true, kSession);
  ASSERT_EQ(a.kind, AuthResult::kWelcome);
  ASSERT_EQ(b.kind, AuthResult::kWelcome);
  EXPECT_NE(a.authid, "dev1");
  EXPECT_NE(a.authid, b.authid);
}

TEST_F(AuthenticatorTest, AnonymousDeniedFromNonLoopback) {
  const AuthResult r = Hello("realm1", json::object(), /*loopback=*/false);
  EXPECT_EQ(r.kind, AuthResult::kAbort);
  EXPECT_EQ(r.abort_reason, "wamp.error.no_auth_method");
}

TEST_F(AuthenticatorTest, AnonymousFromAnywhereWhenNotLoopbackOnly) {
  const AuthResult r = Hello("open", json::object(), /*loopback=*/false);
  ASSERT_EQ(r.kind, AuthResult::kWelcome);
  EXPECT_EQ(r.authrole, "guest");
}

TEST_F(AuthenticatorTest, AnonymousDeniedWhenRealmDisallowsIt) {
  const AuthResult r = Hello("closed", json::object());
  EXPECT_EQ(r.kind, AuthResult::kAbort);
  EXPECT_EQ(r.abort_reason, "wamp.error.no_auth_method");
}

TEST_F(AuthenticatorTest, UnknownRealm) {
  const AuthResult r = Hello("nope", json::object());
  EXPECT_EQ(r.kind, AuthResult::kAbort);
  EXPECT_EQ(r.abort_reason, "wamp.error.no_such_realm");
}

TEST_F(AuthenticatorTest, TicketOk) {
  const AuthResult c = Hello("realm1", {{"authmethods", {"ticket"}}, {"authid", "dev1"}}, false);
  ASSERT_EQ(c.kind, AuthResult::kChallenge) << c.abort_reason;
  EXPECT_EQ(c.authmethod, "ticket");
  EXPECT_EQ(c.challenge_extra, json::object());
  const AuthResult w = auth_.OnAuthenticate("s3cret");
  ASSERT_EQ(w.kind, AuthResult::kWelcome) << w.abort_reason;
  EXPECT_EQ(w.authid, "dev1");
  EXPECT_EQ(w.authrole, "device");
  EXPECT_EQ(w.authmethod, "ticket");
  EXPECT_EQ(w.authprovider, "static");
}

TEST_F(AuthenticatorTest, TicketBad) {
  ASSERT_EQ(Hello("realm1", {{"authmethods", {"ticket"}}, {"authid", "dev1"}}).kind,
            AuthResult::kChallenge);
  const AuthResult r = auth_.OnAuthenticate("s3cre");
  EXPECT_EQ(r.kind, AuthResult::kAbort);
  EXPECT_EQ(r.abort_reason, "wamp.error.authentication_failed");
  // One attempt per session: a retry is a protocol violation.
  EXPECT_EQ(auth_.OnAuthenticate("s3cret").abort_reason, "wamp.error.protocol_violation");
}

TEST_F(AuthenticatorTest, TicketOfAnotherRealmIsBad) {
  ASSERT_EQ(Hello("closed", {{"authmethods", {"ticket"}}, {"authid", "dev1"}}).kind,
            AuthResult::kChallenge);
  EXPECT_EQ(auth_.OnAuthenticate("s3cret").abort_reason, "wamp.error.authentication_failed");
}

TEST_F(AuthenticatorTest, WampCraUnsaltedChallengeShape) {
  const AuthResult c = Hello("realm1", {{"authmethods", {"wampcra"}}, {"authid", "cra"}});
  ASSERT_EQ(c.kind, AuthResult::kChallenge) << c.abort_reason;
  EXPECT_EQ(c.authmethod, "wampcra");
  ASSERT_TRUE(c.challenge_extra.contains("challenge"));
  EXPECT_FALSE(c.challenge_extra.contains("salt"));
  EXPECT_EQ(c.challenge_extra.size(), 1u);
  const json challenge = json::parse(c.challenge_extra["challenge"].get<std::string>());
  EXPECT_EQ(challenge["authid"], "cra");
  EXPECT_EQ(challenge["authrole"], "dashboard");
  EXPECT_EQ(challenge["authmethod"], "wampcra");
  EXPECT_EQ(challenge["authprovider"], "static");
  EXPECT_EQ(challenge["session"], kSession);
  EXPECT_EQ(challenge["timestamp"], "2023-11-14T22:13:20.123Z");
  EXPECT_EQ(challenge["nonce"].get<std::string>().size(), 44u);  // base64 of 32 bytes
}

TEST_F(AuthenticatorTest, WampCraUnsaltedOk) {
  const AuthResult c = Hello("realm1", {{"authmethods", {"wampcra"}}, {"authid", "cra"}});
  ASSERT_EQ(c.kind, AuthResult::kChallenge);
  const AuthResult w = auth_.OnAuthenticate(
      ComputeWcsSignature("plainpw", c.challenge_extra["challenge"].get<std::string>()));
  ASSERT_EQ(w.kind, AuthResult::kWelcome) << w.abort_message;
  EXPECT_EQ(w.authid, "cra");
  EXPECT_EQ(w.authrole, "dashboard");
  EXPECT_EQ(w.authmethod, "wampcra");
}

TEST_F(AuthenticatorTest, WampCraUnsaltedBad) {
  const AuthResult c = Hello("realm1", {{"authmethods", {"wampcra"}}, {"authid", "cra"}});
  ASSERT_EQ(c.kind, AuthResult::kChallenge);
  const AuthResult r = auth_.OnAuthenticate(
      ComputeWcsSignature("wrongpw", c.challenge_extra["challenge"].get<std::string>()));
  EXPECT_EQ(r.kind, AuthResult::kAbort);
  EXPECT_EQ(r.abort_reason, "wamp.error.authentication_failed");
}

TEST_F(AuthenticatorTest, WampCraSignatureIsBoundToTheChallenge) {
  Authenticator other(config_, clock_);
  const AuthResult c1 = Hello("realm1", {{"authmethods", {"wampcra"}}, {"authid", "cra"}});
  const AuthResult c2 = other.OnHello("realm1", {{"authmethods", {"wampcra"}}, {"authid", "cra"}},
                                      true, kSession);
  ASSERT_NE(c1.challenge_extra["challenge"], c2.challenge_extra["challenge"]);  // fresh nonce
  // A signature over another session's challenge is rejected.
  const AuthResult r = auth_.OnAuthenticate(
      ComputeWcsSignature("plainpw", c2.challenge_extra["challenge"].get<std::string>()));
  EXPECT_EQ(r.abort_reason, "wamp.error.authentication_failed");
}

TEST_F(AuthenticatorTest, WampCraSaltedOk) {
  const AuthResult c = Hello("realm1", {{"authmethods", {"wampcra"}}, {"authid", "dash"}});
  ASSERT_EQ(c.kind, AuthResult::kChallenge);
  const json& extra = c.challenge_extra;
  EXPECT_EQ(extra["salt"], "salt123");
  EXPECT_EQ(extra["iterations"], 100);
  EXPECT_EQ(extra["keylen"], 32);
  // What Autobahn's AuthWampCra.on_challenge does with the extra.
  const std::string key = DeriveKey("pw", extra["salt"].get<std::string>(),
                                    extra["iterations"].get<int>(), extra["keylen"].get<int>());
  const AuthResult w =
      auth_.OnAuthenticate(ComputeWcsSignature(key, extra["challenge"].get<std::string>()));
  ASSERT_EQ(w.kind, AuthResult::kWelcome) << w.abort_message;
  EXPECT_EQ(w.authid, "dash");
  EXPECT_EQ(w.authrole, "dashboard");
}

TEST_F(AuthenticatorTest, WampCraSaltedBadWhenSignedWithTheRawSecret) {
  const AuthResult c = Hello("realm1", {{"authmethods", {"wampcra"}}, {"authid", "dash"}});
  ASSERT_EQ(c.kind, AuthResult::kChallenge);
  const AuthResult r = auth_.OnAuthenticate(
      ComputeWcsSignature("pw", c.challenge_extra["challenge"].get<std::string>()));
  EXPECT_EQ(r.kind, AuthResult::kAbort);
  EXPECT_EQ(r.abort_reason, "wamp.error.authentication_failed");
}

TEST_F(AuthenticatorTest, FirstSatisfiableMethodInClientOrder) {
  // dev1 has only a ticket: wampcra is skipped, ticket chosen before anonymous.
  AuthResult r = Hello("realm1", {{"authmethods", {"wampcra", "ticket", "anonymous"}},
                                  {"authid", "dev1"}});
  EXPECT_EQ(r.kind, AuthResult::kChallenge);
  EXPECT_EQ(r.authmethod, "ticket");

  // "both" has ticket and secret: the client's order decides.
  Authenticator a(config_, clock_), b(config_, clock_), c(config_, clock_), d(config_, clock_);
  r = a.OnHello("realm1", {{"authmethods", {"wampcra", "ticket"}}, {"authid", "both"}}, true, 1);
  EXPECT_EQ(r.authmethod, "wampcra");
  r = b.OnHello("realm1", {{"authmethods", {"ticket", "wampcra"}}, {"authid", "both"}}, true, 1);
  EXPECT_EQ(r.authmethod, "ticket");
  // Anonymous first wins on loopback; from elsewhere it is skipped.
  r = c.OnHello("realm1", {{"authmethods", {"anonymous", "ticket"}}, {"authid", "both"}}, true, 1);
  EXPECT_EQ(r.kind, AuthResult::kWelcome);
  EXPECT_EQ(r.authmethod, "anonymous");
  r = d.OnHello("realm1", {{"authmethods", {"anonymous", "ticket"}}, {"authid", "both"}}, false, 1);
  EXPECT_EQ(r.kind, AuthResult::kChallenge);
  EXPECT_EQ(r.authmethod, "ticket");
}

TEST_F(AuthenticatorTest, NoAcceptableMethod) {
  Authenticator a(config_, clock_), b(config_, clock_), c(config_, clock_);
  // Unknown principal.
  EXPECT_EQ(a.OnHello("realm1", {{"authmethods", {"ticket", "wampcra"}}, {"authid", "ghost"}},
                      true, 1).abort_reason,
            "wamp.error.no_auth_method");
  // No authid given for a method that needs one; unknown methods are skipped.
  EXPECT_EQ(b.OnHello("realm1", {{"authmethods", {"cryptosign", "ticket"}}}, false, 1)
                .abort_reason,
            "wamp.error.no_auth_method");
  // An empty list offers nothing.
  EXPECT_EQ(c.OnHello("realm1", {{"authmethods", json::array()}}, true, 1).abort_reason,
            "wamp.error.no_auth_method");
}

TEST_F(AuthenticatorTest, AuthenticateWithoutChallengeIsProtocolViolation) {
  AuthResult r = auth_.OnAuthenticate("s3cret");
  EXPECT_EQ(r.kind, AuthResult::kAbort);
  EXPECT_EQ(r.abort_reason, "wamp.error.protocol_violation");
  Authenticator after_welcome(config_, clock_);
  ASSERT_EQ(after_welcome.OnHello("realm1", json::object(), true, 1).kind, AuthResult::kWelcome);
  EXPECT_EQ(after_welcome.OnAuthenticate("x").abort_reason, "wamp.error.protocol_violation");
}

TEST_F(AuthenticatorTest, SecondHelloIsProtocolViolation) {
  ASSERT_EQ(Hello("realm1", {{"authmethods", {"ticket"}}, {"authid", "dev1"}}).kind,
            AuthResult::kChallenge);
  EXPECT_EQ(Hello("realm1", json::object()).abort_reason, "wamp.error.protocol_violation");
  // The pending challenge is gone too.
  EXPECT_EQ(auth_.OnAuthenticate("s3cret").abort_reason, "wamp.error.protocol_violation");
}

TEST_F(AuthenticatorTest, MalformedDetailsAreProtocolViolations) {
  Authenticator a(config_, clock_), b(config_, clock_), c(config_, clock_);
  EXPECT_EQ(a.OnHello("realm1", {{"authmethods", "ticket"}}, true, 1).abort_reason,
            "wamp.error.protocol_violation");
  EXPECT_EQ(b.OnHello("realm1", {{"authmethods", {"ticket", 3}}}, true, 1).abort_reason,
            "wamp.error.protocol_violation");
  EXPECT_EQ(c.OnHello("realm1", {{"authmethods", {"ticket"}}, {"authid", 7}}, true, 1)
                .abort_reason,
            "wamp.error.protocol_violation");
}

TEST_F(AuthenticatorTest, DefaultConfigAnonymousOnLoopbackOnly) {
  const WampConfig config = DefaultWampConfig();
  Authenticator local(config, clock_), remote(config, clock_);
  const AuthResult ok = local.OnHello("realm1", json::object(), true, 1);
  ASSERT_EQ(ok.kind, AuthResult::kWelcome);
  EXPECT_EQ(ok.authrole, "anonymous");
  EXPECT_EQ(remote.OnHello("realm1", json::object(), false, 1).abort_reason,
            "wamp.error.no_auth_method");
}

}  // namespace
}  // namespace thingtank::wamp
