// topic_to_queue: every event becomes a SendMessage whose body is the event
// as JSON: {"topic","publication","args","kwargs"}.
#include <functional>
#include <memory>
#include <string>

#include "services/common/status.h"
#include "services/wamp/rules/builtin_kinds.h"
#include "services/wamp/rules/runner.h"
#include "services/wamp/rules/template.h"
#include "services/wamp/rules/validation.h"

namespace thingtank::wamp {
namespace {

class TopicToQueueRunner final : public RuleRunner {
 public:
  using RuleRunner::RuleRunner;

  void OnEvent(const EventData& e) {
    queues::v1::SendMessageRequest req;
    req.set_queue_name(rule_.topic_to_queue().queue());
    req.set_message_body(EventJson(e));
    Rpc<queues::v1::SendMessageResponse>(
        QueuesMethod("SendMessage"), req, kRuleCallDeadline,
        [this](const grpc::Status& s, const queues::v1::SendMessageResponse&) {
          if (s.ok()) {
            Forwarded();
          } else {
            Fail("SendMessage", s);
          }
        });
  }

 private:
  absl::Status Begin() override {
    const auto& r = rule_.topic_to_queue();
    return Subscribe(r.topic(), r.match(), OnEventOf<TopicToQueueRunner>());
  }
};

class TopicToQueue final : public RuleKind {
 public:
  std::string_view name() const override { return "topic_to_queue"; }
  v1::Rule::KindCase kind_case() const override { return v1::Rule::kTopicToQueue; }
  absl::Status Validate(const v1::Rule& rule, const std::string& p) const override {
    const auto& r = rule.topic_to_queue();
    TT_RETURN_IF_ERROR(ValidateTopic(p, r.topic(), r.match(), /*pattern_allowed=*/true));
    return ValidateQueueField(p, r.queue());
  }
  std::shared_ptr<RuleRunner> NewRunner(v1::Rule rule, RuleEnv env) const override {
    return std::make_shared<TopicToQueueRunner>(std::move(rule), name(), std::move(env));
  }
};

}  // namespace

std::unique_ptr<RuleKind> TopicToQueueKind() { return std::make_unique<TopicToQueue>(); }

}  // namespace thingtank::wamp
