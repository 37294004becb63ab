// queue_to_topic: long-polls the queue; each message is published, then
// deleted (at least once: a message not deleted comes back after its
// visibility timeout and is published again).
#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "services/common/status.h"
#include "services/wamp/rules/builtin_kinds.h"
#include "services/wamp/rules/runner.h"
#include "services/wamp/rules/validation.h"

namespace thingtank::wamp {
namespace {

// ReceiveMessages long poll, and its deadline (the wait plus slack).
constexpr absl::Duration kPollWait = absl::Seconds(20);
constexpr absl::Duration kPollDeadline = absl::Seconds(30);  // kPollWait + 10 s
constexpr int kPollMax = 10;

// A queue message body as WAMP payload: a JSON object with "args" (an array)
// and/or "kwargs" (an object) is published as those, anything else as the
// single positional argument.
std::pair<Json, Json> PayloadOf(const std::string& body) {
  Json parsed = Json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_object()) {
    auto args = parsed.find("args");
    auto kwargs = parsed.find("kwargs");
    const bool has_args = args != parsed.end(), has_kwargs = kwargs != parsed.end();
    if ((has_args || has_kwargs) && (!has_args || args->is_array()) &&
        (!has_kwargs || kwargs->is_object())) {
      return {has_args ? std::move(*args) : Json::array(),
              has_kwargs ? std::move(*kwargs) : Json::object()};
    }
  }
  return {Json::array({body}), Json::object()};
}

class QueueToTopicRunner final : public RuleRunner {
 public:
  using RuleRunner::RuleRunner;

 private:
  absl::Status Begin() override {
    Poll();
    return absl::OkStatus();
  }

  void Poll() {
    queues::v1::ReceiveMessagesRequest req;
    req.set_queue_name(rule_.queue_to_topic().queue());
    req.set_max_number_of_messages(kPollMax);
    req.mutable_wait_time()->set_seconds(absl::ToInt64Seconds(kPollWait));
    Rpc<queues::v1::ReceiveMessagesResponse>(
        QueuesMethod("ReceiveMessages"), req, kPollDeadline,
        [this](const grpc::Status& s, const queues::v1::ReceiveMessagesResponse& r) {
          OnReceived(s, r);
        });
  }

  // On a gRPC callback thread, outside any realm lock: publishing is fine.
  void OnReceived(const grpc::Status& status, const queues::v1::ReceiveMessagesResponse& r) {
    if (!status.ok()) {
      Fail("ReceiveMessages", status);
      After(kRuleBackoff, [this] { Poll(); });
      return;
    }
    queues::v1::DeleteMessageBatchRequest del;
    del.set_queue_name(rule_.queue_to_topic().queue());
    for (int i = 0; i < r.messages_size(); ++i) {
      const queues::v1::Message& m = r.messages(i);
      auto [args, kwargs] = PayloadOf(m.body());
      absl::StatusOr<uint64_t> published =
          client_->Publish(rule_.queue_to_topic().topic(), std::move(args), std::move(kwargs));
      if (!published.ok()) {
        // Not deleted: it comes back after its visibility timeout.
        Fail("publish", published.status().ToString());
        continue;
      }
      Forwarded();
      auto* entry = del.add_entries();
      entry->set_id(absl::StrCat(i));
      entry->set_receipt_handle(m.receipt_handle());
    }
    if (del.entries_size() > 0) {
      Rpc<queues::v1::DeleteMessageBatchResponse>(
          QueuesMethod("DeleteMessageBatch"), del, kRuleCallDeadline,
          [this](const grpc::Status& s, const queues::v1::DeleteMessageBatchResponse& resp) {
            // A message not deleted is published again later (at least once).
            if (!s.ok()) return Fail("DeleteMessageBatch", s);
            for (const auto& f : resp.failed()) {
              Fail("DeleteMessageBatch", absl::StrCat(f.code(), ": ", f.message()));
            }
          });
    }
    Poll();
  }
};

class QueueToTopic final : public RuleKind {
 public:
  std::string_view name() const override { return "queue_to_topic"; }
  v1::Rule::KindCase kind_case() const override { return v1::Rule::kQueueToTopic; }
  bool stops_on_drain() const override { return true; }
  absl::Status Validate(const v1::Rule& rule, const std::string& p) const override {
    const auto& r = rule.queue_to_topic();
    TT_RETURN_IF_ERROR(ValidateQueueField(p, r.queue()));
    return ValidateTopic(p, r.topic(), "", /*pattern_allowed=*/false);
  }
  std::shared_ptr<RuleRunner> NewRunner(v1::Rule rule, RuleEnv env) const override {
    return std::make_shared<QueueToTopicRunner>(std::move(rule), name(), std::move(env));
  }
};

}  // namespace

std::unique_ptr<RuleKind> QueueToTopicKind() { return std::make_unique<QueueToTopic>(); }

}  // namespace thingtank::wamp
