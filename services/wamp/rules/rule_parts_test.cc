// The small pieces of the rules: key templates and the registry of kinds (a
// kind registered from outside is validated and run without editing a
// switch). The engine end to end is in services/wamp/rules_test.cc.
#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "services/wamp/rules/rule_kind.h"
#include "services/wamp/rules/runner.h"
#include "services/wamp/rules/template.h"

namespace thingtank::wamp {
namespace {

TEST(TemplateTest, ExpandsEveryPlaceholder) {
  auto parts = ParseTemplate("{topic}/{publication}/{timestamp_ms}/{kwargs.device}-{kwargs.n}");
  ASSERT_TRUE(parts.ok()) << parts.status();
  EventData e;
  e.topic = "com.example.t";
  e.publication = 42;
  e.kwargs = Json{{"device", "d1"}, {"n", 7}};
  auto text = ExpandTemplate(*parts, e, absl::FromUnixMillis(1700000000123));
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_EQ(*text, "com.example.t/42/1700000000123/d1-7");
}

TEST(TemplateTest, RefusesBadTemplatesAndMissingKwargs) {
  EXPECT_EQ(ParseTemplate("a}").status().message(), "'}' without '{'");
  EXPECT_EQ(ParseTemplate("{topic").status().message(), "'{' without '}'");
  EXPECT_EQ(ParseTemplate("{kwargs.}").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseTemplate("{nope}").status().message(),
            "unknown placeholder {nope}; known: {topic}, {publication}, {timestamp_ms}, "
            "{kwargs.NAME}");
  auto parts = ParseTemplate("{kwargs.device}");
  ASSERT_TRUE(parts.ok());
  EventData e;
  e.kwargs = Json::object();
  auto text = ExpandTemplate(*parts, e, absl::UnixEpoch());
  EXPECT_EQ(text.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(text.status().message(), "the event has no kwargs.device");
}

TEST(RuleKindsTest, BuiltinKindsValidateByTheirFieldPath) {
  const RuleKinds kinds = BuiltinRuleKinds();
  EXPECT_EQ(kinds.names(),
            (std::vector<std::string>{"topic_to_queue", "queue_to_topic", "topic_to_table",
                                      "topic_to_stream", "stream_to_topic"}));
  v1::Rule none;
  absl::Status s = kinds.Validate(none, "rule");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("set exactly one of topic_to_queue, queue_to_topic, topic_to_table, "
                             "topic_to_stream, stream_to_topic"),
            std::string::npos)
      << s;
  v1::Rule rule;
  rule.mutable_topic_to_queue()->set_topic("com.example.t");
  s = kinds.Validate(rule, "rules[3]");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("rules[3].topic_to_queue.queue"), std::string::npos) << s;
  rule.mutable_topic_to_queue()->set_queue("readings");
  EXPECT_TRUE(kinds.Validate(rule, "rule").ok());
}

// A kind brought by someone else: here it claims the topic_to_table case.
class FakeKind final : public RuleKind {
 public:
  std::string_view name() const override { return "fake"; }
  v1::Rule::KindCase kind_case() const override { return v1::Rule::kTopicToTable; }
  absl::Status Validate(const v1::Rule&, const std::string& prefix) const override {
    return absl::InvalidArgumentError(prefix + ": fake says no");
  }
  std::shared_ptr<RuleRunner> NewRunner(v1::Rule, RuleEnv) const override { return nullptr; }
};

TEST(RuleKindsTest, AKindRegisteredFromOutsideIsDispatchedTo) {
  RuleKinds kinds;
  kinds.Add(std::make_unique<FakeKind>());
  v1::Rule rule;
  rule.mutable_topic_to_table()->set_table("t");
  EXPECT_EQ(kinds.Validate(rule, "rule").message(), "rule.fake: fake says no");
  EXPECT_EQ(kinds.Find(v1::Rule::kTopicToQueue), nullptr);
  v1::Rule other;
  other.mutable_topic_to_queue();
  EXPECT_NE(kinds.Validate(other, "rule").message().find("set exactly one of fake"),
            std::string::npos);
}

}  // namespace
}  // namespace thingtank::wamp
