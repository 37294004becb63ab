#include "services/wamp/codec/message.h"

#include <cstdint>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace thingtank::wamp {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

constexpr uint64_t kMax = uint64_t{1} << 53;

void ExpectInvalid(const json& message, const std::string& needle) {
  absl::StatusOr<MessageType> type = ValidateMessage(message);
  ASSERT_FALSE(type.ok()) << message.dump() << " validated as " << MessageTypeName(*type);
  EXPECT_EQ(type.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(type.status().message(), HasSubstr(needle)) << message.dump();
}

json Payload() { return json::binary({0xa1, 0x66}); }

TEST(MessageTest, EveryMessageTypeValidates) {
  const json kw = {{"k", 1}};
  const std::vector<std::pair<json, MessageType>> valid = {
      {{1, "realm1", {{"roles", {{"subscriber", json::object()}}}}}, MessageType::kHello},
      {{2, kMax, {{"roles", {{"broker", json::object()}}}}}, MessageType::kWelcome},
      {{3, json::object(), "wamp.error.no_such_realm"}, MessageType::kAbort},
      {{4, "wampcra", {{"challenge", "{}"}}}, MessageType::kChallenge},
      {{5, "", json::object()}, MessageType::kAuthenticate},
      {{6, json::object(), "wamp.close.normal"}, MessageType::kGoodbye},
      {{8, 48, 1, json::object(), "com.app.error"}, MessageType::kError},
      {{8, 48, 1, json::object(), "com.app.error", json::array(), kw}, MessageType::kError},
      {{16, 1, json::object(), "com.app.topic"}, MessageType::kPublish},
      {{16, 1, json::object(), "com.app.topic", {1, "a"}}, MessageType::kPublish},
      {{16, 1, json::object(), "com.app.topic", json::array(), kw}, MessageType::kPublish},
      {{16, 1, json::object(), "wamp.session.on_join"}, MessageType::kPublish},
      {{16, 1, {{"enc_algo", "cryptobox"}}, "com.app.topic", Payload()}, MessageType::kPublish},
      {{16, 1, {{"ppt_scheme", "mqtt"}}, "com.app.topic", {Payload()}}, MessageType::kPublish},
      {{17, 1, kMax}, MessageType::kPublished},
      {{32, 1, json::object(), "com.app.topic"}, MessageType::kSubscribe},
      {{32, 1, {{"match", "prefix"}}, "com.app."}, MessageType::kSubscribe},
      {{32, 1, {{"match", "wildcard"}}, "com..topic"}, MessageType::kSubscribe},
      {{33, 1, 2}, MessageType::kSubscribed},
      {{34, 2, 1}, MessageType::kUnsubscribe},
      {{35, 2}, MessageType::kUnsubscribed},
      {{35, 0, {{"subscription", 7}, {"reason", "gone"}}}, MessageType::kUnsubscribed},
      {{36, 1, 2, json::object()}, MessageType::kEvent},
      {{36, 1, 2, {{"publisher", 3}}, {1}, kw}, MessageType::kEvent},
      {{36, 1, 2, {{"enc_algo", "x_custom"}}, Payload()}, MessageType::kEvent},
      {{48, 1, {{"timeout", 0}, {"receive_progress", true}}, "com.app.proc", {1}}, MessageType::kCall},
      {{49, 1, {{"mode", "killnowait"}}}, MessageType::kCancel},
      {{50, 1, {{"progress", true}}}, MessageType::kResult},
      {{50, 1, json::object(), {1}, kw}, MessageType::kResult},
      {{64, 1, {{"match", "wildcard"}, {"invoke", "roundrobin"}}, "com..proc"}, MessageType::kRegister},
      {{65, 1, 2}, MessageType::kRegistered},
      {{66, 1, 2}, MessageType::kUnregister},
      {{67, 1}, MessageType::kUnregistered},
      {{67, 0, {{"registration", 2}}}, MessageType::kUnregistered},
      {{68, 1, 2, json::object()}, MessageType::kInvocation},
      {{68, 1, 2, {{"caller", 9}, {"procedure", "com.app.proc"}}, {1}, kw}, MessageType::kInvocation},
      {{69, 1, {{"mode", "kill"}}}, MessageType::kInterrupt},
      {{70, 1, json::object()}, MessageType::kYield},
      {{70, 1, {{"ppt_scheme", "wamp.eth"}}, Payload()}, MessageType::kYield},
  };
  for (const auto& [message, type] : valid) {
    absl::StatusOr<MessageType> got = ValidateMessage(message);
    ASSERT_TRUE(got.ok()) << message.dump() << ": " << got.status();
    EXPECT_EQ(*got, type) << message.dump();
  }
}

TEST(MessageTest, NotAMessage) {
  ExpectInvalid(json::object(), "a WAMP message must be a non-empty array");
  ExpectInvalid("[16]", "a WAMP message must be a non-empty array");
  ExpectInvalid(json::array(), "a WAMP message must be a non-empty array");
  ExpectInvalid({"16", 1, json::object(), "a"}, "WAMP message type must be an integer");
  ExpectInvalid({16.0, 1, json::object(), "a"}, "WAMP message type must be an integer");
  ExpectInvalid({99, 1}, "unknown WAMP message type 99");
  ExpectInvalid({7, 1}, "unknown WAMP message type 7");
  ExpectInvalid({337, 1}, "unknown WAMP message type 337");
  ExpectInvalid({-16, 1}, "unknown WAMP message type -16");
  ExpectInvalid({UINT64_MAX, 1}, "unknown WAMP message type 18446744073709551615");
}

TEST(MessageTest, ElementCounts) {
  ExpectInvalid({16, 1, json::object()}, "PUBLISH must have 4 to 6 elements, got 3");
  ExpectInvalid({16, 1, json::object(), "a", json::array(), json::object(), 1},
                "PUBLISH must have 4 to 6 elements, got 7");
  ExpectInvalid({1, "realm1"}, "HELLO must have 3 elements, got 2");
  ExpectInvalid({32, 1, json::object(), "a", json::array()}, "SUBSCRIBE must have 4 elements, got 5");
  ExpectInvalid({8, 48, 1, json::object()}, "ERROR must have 5 to 7 elements, got 4");
}

TEST(MessageTest, ElementTypes) {
  ExpectInvalid({16, 1, json::array(), "a"}, "PUBLISH element 2 (Options) must be a dict");
  ExpectInvalid({16, 1, json::object(), 5}, "PUBLISH element 3 (Topic) must be a string (URI)");
  ExpectInvalid({16, "1", json::object(), "a"}, "PUBLISH element 1 (Request) must be an id");
  ExpectInvalid({36, 1, 2, json::object(), {{"a", 1}}}, "EVENT element 4 (Arguments) must be a list");
  ExpectInvalid({36, 1, 2, json::object(), json::array(), json::array()},
                "EVENT element 5 (ArgumentsKw) must be a dict");
  ExpectInvalid({1, 5, json::object()}, "HELLO element 1 (Realm) must be a string (URI)");
  ExpectInvalid({4, 1, json::object()}, "CHALLENGE element 1 (AuthMethod) must be a string");
  ExpectInvalid({5, "sig", json::array()}, "AUTHENTICATE element 2 (Extra) must be a dict");
  ExpectInvalid({8, -1, 1, json::object(), "a.b"},
                "ERROR element 1 (REQUEST.Type) must be a non-negative integer");
  ExpectInvalid({8, 48, 1, json::object(), "a b"},
                "ERROR element 4 (Error) must be a valid URI for match policy \"exact\"");
  ExpectInvalid({6, json::object(), "wamp..close"},
                "GOODBYE element 2 (Reason) must be a valid URI");
  ExpectInvalid({49, 1, nullptr}, "CANCEL element 2 (Options) must be a dict");
  ExpectInvalid({69, 1, {{"mode", "abort"}}},
                "INTERRUPT element 2 (Options) attribute 'mode' must be one of");
}

TEST(MessageTest, IdRange) {
  EXPECT_TRUE(IsValidId(json(1)));
  EXPECT_TRUE(IsValidId(json(kMax)));
  EXPECT_TRUE(IsValidId(json(int64_t{5})));
  EXPECT_FALSE(IsValidId(json(0)));
  EXPECT_FALSE(IsValidId(json(kMax + 1)));
  EXPECT_FALSE(IsValidId(json(-1)));
  EXPECT_FALSE(IsValidId(json(1.0)));
  EXPECT_FALSE(IsValidId(json("1")));
  EXPECT_FALSE(IsValidId(json(true)));
  ExpectInvalid({17, 0, 1}, "PUBLISHED element 1 (PUBLISH.Request) must be an id (integer in [1, 2^53])");
  ExpectInvalid({17, 1, kMax + 1}, "PUBLISHED element 2 (Publication) must be an id");
  ExpectInvalid({33, -1, 1}, "SUBSCRIBED element 1 (SUBSCRIBE.Request) must be an id");
  ExpectInvalid({33, 1, 2.5}, "SUBSCRIBED element 2 (Subscription) must be an id");
  ExpectInvalid({2, 0, json::object()}, "WELCOME element 1 (Session) must be an id");
  // 0 is the revocation request id, only with Details.
  ExpectInvalid({67, 0}, "UNREGISTERED element 1 (UNREGISTER.Request) must be an id");
  ExpectInvalid({35, 0}, "UNSUBSCRIBED element 1 (UNSUBSCRIBE.Request) must be an id");
}

TEST(MessageTest, ArgumentsKwRequiresArguments) {
  ExpectInvalid({16, 1, json::object(), "a.b", {{"x", 1}}},
                "PUBLISH element 4 (Arguments) must be a list");
  ExpectInvalid({48, 1, json::object(), "a.b", nullptr, {{"x", 1}}},
                "CALL element 4 (Arguments) must be a list");
  ExpectInvalid({70, 1, json::object(), {{"x", 1}}}, "YIELD element 3 (Arguments) must be a list");
  ExpectInvalid({50, 1, json::object(), {{"x", 1}}}, "RESULT element 3 (Arguments) must be a list");
}

TEST(MessageTest, PayloadPassthru) {
  // Binary Arguments only with enc_algo / ppt_scheme, and nothing after it.
  ExpectInvalid({16, 1, json::object(), "a.b", Payload()}, "PUBLISH element 4 (Arguments) must be a list");
  ExpectInvalid({16, 1, {{"enc_algo", "cryptobox"}}, "a.b", "a166"},
                "PUBLISH element 4 (Arguments) must be a list or, in payload passthru mode, the binary payload");
  ExpectInvalid({16, 1, {{"enc_algo", "cryptobox"}}, "a.b", Payload(), json::object()},
                "PUBLISH element 5 (ArgumentsKw) must be absent after a binary payload");
  ExpectInvalid({16, 1, {{"enc_algo", "rot13"}}, "a.b", Payload()},
                "PUBLISH element 2 (Options) attribute 'enc_algo' must be");
  ExpectInvalid({36, 1, 2, {{"enc_algo", "cryptobox"}, {"enc_serializer", "xml"}}, Payload()},
                "EVENT element 3 (Details) attribute 'enc_serializer' must be");
  ExpectInvalid({48, 1, {{"ppt_scheme", 1}}, "a.b", Payload()},
                "CALL element 2 (Options) attribute 'ppt_scheme' must be a string");
}

TEST(MessageTest, MatchPoliciesGovernPatternUris) {
  ExpectInvalid({32, 1, json::object(), "com..topic"},
                "SUBSCRIBE element 3 (Topic) must be a valid URI for match policy \"exact\"");
  ExpectInvalid({32, 1, {{"match", "prefix"}}, "com..topic"},
                "SUBSCRIBE element 3 (Topic) must be a valid URI for match policy \"prefix\"");
  ExpectInvalid({64, 1, {{"match", "exact"}}, "com.proc."},
                "REGISTER element 3 (Procedure) must be a valid URI for match policy \"exact\"");
  ExpectInvalid({32, 1, {{"match", "regex"}}, "com.topic"},
                "SUBSCRIBE element 2 (Options) attribute 'match' must be one of \"exact\", \"prefix\", \"wildcard\"");
  ExpectInvalid({64, 1, {{"invoke", "all"}}, "com.proc"},
                "REGISTER element 2 (Options) attribute 'invoke' must be one of");
  // A concrete topic is always exact, whatever "match" says in PUBLISH.
  ExpectInvalid({16, 1, {{"match", "wildcard"}}, "com..topic"},
                "PUBLISH element 3 (Topic) must be a valid URI for match policy \"exact\"");
  ExpectInvalid({48, 1, json::object(), "com.proc#1"}, "CALL element 3 (Procedure) must be a valid URI");
}

TEST(MessageTest, OptionAndDetailAttributeTypes) {
  ExpectInvalid({16, 1, {{"acknowledge", 1}}, "a.b"},
                "PUBLISH element 2 (Options) attribute 'acknowledge' must be a bool");
  ExpectInvalid({16, 1, {{"exclude", {1, 0}}}, "a.b"},
                "PUBLISH element 2 (Options) attribute 'exclude' must be a list of ids");
  ExpectInvalid({16, 1, {{"eligible_authrole", {"a", 1}}}, "a.b"},
                "attribute 'eligible_authrole' must be a list of strings");
  ExpectInvalid({48, 1, {{"timeout", -1}}, "a.b"},
                "CALL element 2 (Options) attribute 'timeout' must be a non-negative integer");
  ExpectInvalid({68, 1, 2, {{"caller", "me"}}}, "INVOCATION element 3 (Details) attribute 'caller' must be an id");
  ExpectInvalid({36, 1, 2, {{"topic", "a b"}}}, "EVENT element 3 (Details) attribute 'topic' must be a valid URI");
  ExpectInvalid({36, 1, 2, {{"forward_for", {1}}}}, "attribute 'forward_for' must be a list of dicts");
  ExpectInvalid({1, "realm1", {{"roles", json::array()}}}, "HELLO element 2 (Details) attribute 'roles' must be a dict");
  ExpectInvalid({1, "realm1", {{"authmethods", "ticket"}}},
                "HELLO element 2 (Details) attribute 'authmethods' must be a list of strings");
  // Unknown attributes are ignored, as the spec requires; Extra dicts are free-form.
  EXPECT_TRUE(ValidateMessage({16, 1, {{"_custom", {1, 2}}, {"future_option", "x"}}, "a.b"}).ok());
  EXPECT_TRUE(ValidateMessage({4, "ticket", {{"acknowledge", 1}}}).ok());
}

TEST(MessageTest, TypeNames) {
  EXPECT_EQ(MessageTypeName(MessageType::kHello), "HELLO");
  EXPECT_EQ(MessageTypeName(MessageType::kUnsubscribed), "UNSUBSCRIBED");
  EXPECT_EQ(MessageTypeName(MessageType::kYield), "YIELD");
  EXPECT_EQ(MessageTypeName(static_cast<MessageType>(7)), "UNKNOWN");
}

}  // namespace
}  // namespace thingtank::wamp
