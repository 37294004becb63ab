// topic_to_stream: every event becomes a PutRecord whose data is the event as
// JSON (topic_to_queue's message body) and whose partition key is filled from
// partition_key_template ("{topic}" when empty).
//
// Records are written in the order the events arrive, one PutRecord at a
// time, so that a stream reader sees a device's events in order. A failed
// put is counted and retried with backoff on the clock (1 s doubling to 30 s,
// at least the RetryInfo delay of ProvisionedThroughputExceededException)
// up to kMaxPutAttempts times, then dropped; the events behind it wait, up to
// kMaxWaitingEvents, and newer ones are dropped (counted) while that many
// wait. A put the streams service refuses for its content (INVALID_ARGUMENT:
// data over 1 MiB, say) or that cannot succeed in this process (no streams
// service, no permission) is dropped at once. Within one put the AsyncClient
// already retries UNAVAILABLE and throttling (its own, shorter backoff).
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "services/common/log.h"
#include "services/common/status.h"
#include "services/wamp/rules/builtin_kinds.h"
#include "services/wamp/rules/runner.h"
#include "services/wamp/rules/stream_support.h"
#include "services/wamp/rules/template.h"
#include "services/wamp/rules/validation.h"

namespace thingtank::wamp {
namespace {

namespace sv1 = streams::v1;

// Events waiting for their put (the one under way included).
constexpr size_t kMaxWaitingEvents = 1000;
// Puts of one record before it is dropped: backoffs of 1+2+4+8+16+30+30 s.
constexpr int kMaxPutAttempts = 8;
// Kinesis: a partition key is 1 to 256 Unicode characters.
constexpr size_t kMaxPartitionKeyChars = 256;

constexpr char kDefaultPartitionKey[] = "{topic}";

// Whether a failed put may succeed later: not when the record itself is
// refused, nor when this process cannot reach a streams service at all.
bool Retryable(const grpc::Status& s) {
  switch (s.error_code()) {
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::OUT_OF_RANGE:
    case grpc::StatusCode::UNIMPLEMENTED:
    case grpc::StatusCode::PERMISSION_DENIED:
    case grpc::StatusCode::UNAUTHENTICATED:
    case grpc::StatusCode::CANCELLED:
      return false;
    default:
      return true;
  }
}

class TopicToStreamRunner final : public RuleRunner {
 public:
  TopicToStreamRunner(v1::Rule rule, std::string_view kind, RuleEnv env)
      : RuleRunner(std::move(rule), kind, std::move(env)),
        // Validated at Create; a stored rule failing here is a broken invariant.
        key_(ParseTemplate(KeyTemplateOf(rule_)).value()) {}

  // Under the realm's lock: must not block. Queues the record and starts a
  // put unless one is under way.
  void OnEvent(const EventData& e) {
    absl::StatusOr<std::string> key = ExpandTemplate(key_, e, env_.clock->Now());
    if (!key.ok()) return Fail("partition_key_template", key.status().ToString());
    const size_t chars = Utf8Length(*key).value_or(key->size());
    if (chars == 0 || chars > kMaxPartitionKeyChars) {
      return Fail("partition_key_template",
                  absl::StrCat("the partition key has ", chars,
                               " characters; a partition key has 1 to 256"));
    }
    bool start = false, dropped = false;
    {
      absl::MutexLock lock(&mu_);
      if (waiting_.size() < kMaxWaitingEvents) {
        waiting_.push_back(Record{EventJson(e), *std::move(key), 0});
        start = !putting_;
        putting_ = true;
      } else {
        dropped = true;
      }
    }
    if (dropped) {
      return Fail("buffer", absl::StrCat(kMaxWaitingEvents,
                                         " events wait for the stream already: event dropped"));
    }
    if (start) PutHead();
  }

 private:
  struct Record {
    std::string data;
    std::string partition_key;
    int failures = 0;  // failed puts of this record so far
  };

  static std::string KeyTemplateOf(const v1::Rule& rule) {
    const std::string& t = rule.topic_to_stream().partition_key_template();
    return t.empty() ? kDefaultPartitionKey : t;
  }

  absl::Status Begin() override {
    const auto& r = rule_.topic_to_stream();
    return Subscribe(r.topic(), r.match(), OnEventOf<TopicToStreamRunner>());
  }

  // Puts the oldest waiting record (putting_ is set: no other put runs).
  void PutHead() {
    sv1::PutRecordRequest req;
    req.set_stream_name(rule_.topic_to_stream().stream());
    {
      absl::MutexLock lock(&mu_);
      const Record& head = waiting_.front();
      req.set_data(head.data);
      req.set_partition_key(head.partition_key);
    }
    Rpc<sv1::PutRecordResponse>(
        StreamsMethod("PutRecord"), req, kRuleCallDeadline,
        [this](const grpc::Status& s, const sv1::PutRecordResponse&) { OnPut(s); });
  }

  // The head's put ended: next record, the same one after a backoff, or idle.
  void OnPut(const grpc::Status& s) {
    if (s.ok()) {
      Forwarded();
    } else {
      Fail("PutRecord", s);
    }
    std::optional<absl::Duration> retry_in;
    bool more = false;
    int failures = 0;
    {
      absl::MutexLock lock(&mu_);
      Record& head = waiting_.front();
      failures = s.ok() ? 0 : ++head.failures;
      if (!s.ok() && Retryable(s) && failures < kMaxPutAttempts) {
        retry_in = RetryBackoff(failures, RetryInfoDelay(s));
      } else {
        waiting_.pop_front();
      }
      more = retry_in.has_value() || !waiting_.empty();
      putting_ = more;
    }
    if (!s.ok() && !retry_in.has_value()) {
      TT_LOG_WARN("wamp rule dropped a record rule={} kind={} attempts={}", rule_.id(), kind_,
                  failures);
    }
    if (retry_in.has_value()) {
      After(*retry_in, [this] { PutHead(); });
    } else if (more) {
      PutHead();
    }
  }

  const std::vector<TemplatePart> key_;  // immutable
  std::deque<Record> waiting_ ABSL_GUARDED_BY(mu_);
  bool putting_ ABSL_GUARDED_BY(mu_) = false;  // a put or its backoff is under way
};

class TopicToStream final : public RuleKind {
 public:
  std::string_view name() const override { return "topic_to_stream"; }
  v1::Rule::KindCase kind_case() const override { return v1::Rule::kTopicToStream; }
  absl::Status Validate(const v1::Rule& rule, const std::string& p) const override {
    const auto& r = rule.topic_to_stream();
    TT_RETURN_IF_ERROR(ValidateTopic(p, r.topic(), r.match(), /*pattern_allowed=*/true));
    TT_RETURN_IF_ERROR(ValidateStreamField(p, r.stream()));
    if (!r.partition_key_template().empty()) {
      absl::StatusOr<std::vector<TemplatePart>> parts = ParseTemplate(r.partition_key_template());
      if (!parts.ok()) {
        return InvalidField(p + ".partition_key_template", std::string(parts.status().message()));
      }
    }
    return absl::OkStatus();
  }
  std::shared_ptr<RuleRunner> NewRunner(v1::Rule rule, RuleEnv env) const override {
    return std::make_shared<TopicToStreamRunner>(std::move(rule), name(), std::move(env));
  }
};

}  // namespace

std::unique_ptr<RuleKind> TopicToStreamKind() { return std::make_unique<TopicToStream>(); }

}  // namespace thingtank::wamp
