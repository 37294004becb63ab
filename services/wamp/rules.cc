#include "services/wamp/rules.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string_view>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "grpcpp/client_context.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "rocksdb/write_batch.h"
#include "services/common/log.h"
#include "services/common/status.h"
#include "services/common/storage/key_codec.h"
#include "services/wamp/codec/uri.h"
#include "services/wamp/router/local_client.h"
#include "services/wamp/target_names.h"
#include "thingtank/queues/v1/queues.grpc.pb.h"
#include "thingtank/tables/v1/tables.grpc.pb.h"

namespace thingtank::wamp {
namespace {

constexpr char kRulesCf[] = "wamp_rules";
constexpr char kDefaultRealm[] = "realm1";
// Deadline of the calls that do not wait (SendMessage, PutItem, ...).
constexpr absl::Duration kCallDeadline = absl::Seconds(10);
// ReceiveMessages long poll, and its deadline (the wait plus slack).
constexpr absl::Duration kPollWait = absl::Seconds(20);
constexpr absl::Duration kPollDeadline = absl::Seconds(30);  // kPollWait + 10 s
constexpr int kPollMax = 10;
// Pause after a failed ReceiveMessages or DescribeTable (clock time).
constexpr absl::Duration kBackoff = absl::Seconds(1);
// Events a topic_to_table rule keeps while it learns the table's key types.
constexpr size_t kMaxPendingEvents = 1000;

enum Kind { kToQueue = 0, kToTopic = 1, kToTable = 2, kKinds = 3 };
constexpr std::array<const char*, kKinds> kKindNames = {"topic_to_queue", "queue_to_topic",
                                                        "topic_to_table"};

Kind KindOf(const v1::Rule& rule) {
  switch (rule.kind_case()) {
    case v1::Rule::kTopicToQueue:
      return kToQueue;
    case v1::Rule::kQueueToTopic:
      return kToTopic;
    default:
      return kToTable;
  }
}

// JSON text that never throws on invalid UTF-8 (replaced by U+FFFD).
std::string Dump(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

// ---- key_template placeholders --------------------------------------------

// A literal run of text, or a placeholder: "topic", "publication",
// "timestamp_ms" or "kwargs.NAME".
struct TemplatePart {
  bool placeholder = false;
  std::string text;
};

absl::StatusOr<std::vector<TemplatePart>> ParseTemplate(const std::string& t) {
  std::vector<TemplatePart> parts;
  size_t i = 0;
  while (i < t.size()) {
    const size_t open = t.find_first_of("{}", i);
    if (open == std::string::npos) {
      parts.push_back({false, t.substr(i)});
      break;
    }
    if (t[open] == '}') return absl::InvalidArgumentError("'}' without '{'");
    if (open > i) parts.push_back({false, t.substr(i, open - i)});
    const size_t close = t.find('}', open);
    if (close == std::string::npos) return absl::InvalidArgumentError("'{' without '}'");
    std::string name = t.substr(open + 1, close - open - 1);
    const bool known = name == "topic" || name == "publication" || name == "timestamp_ms" ||
                       (name.rfind("kwargs.", 0) == 0 && name.size() > 7);
    if (!known) {
      return absl::InvalidArgumentError(absl::StrCat(
          "unknown placeholder {", name,
          "}; known: {topic}, {publication}, {timestamp_ms}, {kwargs.NAME}"));
    }
    parts.push_back({true, std::move(name)});
    i = close + 1;
  }
  return parts;
}

// A scalar keyword argument as template text (strings as they are).
std::string ScalarText(const Json& j) {
  if (j.is_string()) return j.get<std::string>();
  return Dump(j);
}

absl::StatusOr<std::string> ExpandTemplate(const std::vector<TemplatePart>& parts,
                                           const EventData& event, absl::Time now) {
  std::string out;
  for (const TemplatePart& p : parts) {
    if (!p.placeholder) {
      out += p.text;
    } else if (p.text == "topic") {
      out += event.topic;
    } else if (p.text == "publication") {
      absl::StrAppend(&out, event.publication);
    } else if (p.text == "timestamp_ms") {
      absl::StrAppend(&out, absl::ToUnixMillis(now));
    } else {
      const std::string name = p.text.substr(7);
      auto it = event.kwargs.is_object() ? event.kwargs.find(name) : event.kwargs.end();
      if (it == event.kwargs.end()) {
        return absl::InvalidArgumentError(absl::StrCat("the event has no kwargs.", name));
      }
      out += ScalarText(*it);
    }
  }
  return out;
}

// ---- plain JSON -> AttributeValue -------------------------------------------

void ToAttribute(const Json& j, tables::v1::AttributeValue* out) {
  switch (j.type()) {
    case Json::value_t::string:
      out->set_s(j.get<std::string>());
      break;
    case Json::value_t::boolean:
      out->set_bool_value(j.get<bool>());
      break;
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
      out->set_n(j.dump());
      break;
    case Json::value_t::number_float:
      // JSON text has no NaN or infinity; MessagePack and CBOR do.
      if (std::isfinite(j.get<double>())) {
        out->set_n(j.dump());
      } else {
        out->set_null_value(true);
      }
      break;
    case Json::value_t::array:
      for (const Json& e : j) ToAttribute(e, out->mutable_l()->add_values());
      if (j.empty()) out->mutable_l();
      break;
    case Json::value_t::object:
      for (const auto& [k, v] : j.items()) ToAttribute(v, &(*out->mutable_m()->mutable_fields())[k]);
      if (j.empty()) out->mutable_m();
      break;
    case Json::value_t::binary:
      out->set_b(std::string(j.get_binary().begin(), j.get_binary().end()));
      break;
    default:  // null, discarded
      out->set_null_value(true);
      break;
  }
}

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

std::chrono::system_clock::time_point DeadlineAfter(absl::Duration d) {
  // gRPC deadlines are real time, whatever the domain clock reads.
  return std::chrono::system_clock::now() +
         std::chrono::milliseconds(absl::ToInt64Milliseconds(d));
}

// ---- shared pieces ------------------------------------------------------------

struct Stubs {
  explicit Stubs(const std::shared_ptr<grpc::Channel>& channel)
      : queues(queues::v1::QueuesService::NewStub(channel)),
        tables(tables::v1::TablesService::NewStub(channel)) {}
  std::unique_ptr<queues::v1::QueuesService::Stub> queues;
  std::unique_ptr<tables::v1::TablesService::Stub> tables;
};

// The rules' counters: totals for stats() and the per-kind series of the
// service's metrics.
class Counters {
 public:
  explicit Counters(WampMetrics* metrics) {
    for (int k = 0; k < kKinds; ++k) {
      forwarded_metric_[k] = metrics->RuleForwarded(kKindNames[k]);
      failed_metric_[k] = metrics->RuleFailures(kKindNames[k]);
    }
  }
  void Forwarded(Kind kind, int n = 1) {
    forwarded_ += n;
    forwarded_metric_[kind]->Increment(n);
  }
  void Failed(Kind kind) {
    ++failed_;
    failed_metric_[kind]->Increment();
  }
  RuleEngine::Stats stats() const { return {forwarded_.load(), failed_.load()}; }

 private:
  std::atomic<uint64_t> forwarded_{0}, failed_{0};
  std::array<prometheus::Counter*, kKinds> forwarded_metric_{}, failed_metric_{};
};

// What a running rule needs from the engine. Everything here outlives the
// rule's activity (Stop releases the references).
struct Env {
  std::shared_ptr<Realm> realm;
  Clock* clock;
  std::shared_ptr<Stubs> stubs;
  std::shared_ptr<Counters> counters;
};

// ---- a running rule -------------------------------------------------------

// The running side of one rule. Every asynchronous piece of work (gRPC call,
// clock timer) is tracked; Stop refuses new work, cancels what is pending and
// waits until nothing runs. Callbacks hold a shared_ptr to the runner, so the
// object outlives them; Stop drops the runner's references to the session,
// realm and stubs, so a runner kept alive a little longer holds nothing.
class Runner : public std::enable_shared_from_this<Runner> {
 public:
  Runner(v1::Rule rule, Env env) : rule_(std::move(rule)), kind_(KindOf(rule_)), env_(std::move(env)) {}
  virtual ~Runner() = default;

  // Joins the realm and begins (subscribe, or the first poll).
  void Start() {
    client_ = LocalClient::Join(env_.realm, absl::StrCat("rule:", rule_.id()));
    absl::Status s = Begin();
    if (!s.ok()) Fail("start", s.ToString());
  }

  void Stop() {
    std::vector<std::shared_ptr<grpc::ClientContext>> calls;
    std::vector<Clock::TimerId> timers;
    {
      absl::MutexLock lock(&mu_);
      if (!stopped_) {
        stopped_ = true;
        for (auto& [ctx, keep] : calls_) calls.push_back(keep);
        for (Clock::TimerId id : timers_) timers.push_back(id);
      }
    }
    // No lock held: leaving takes the realm's lock (event callbacks run under
    // it and take mu_), and cancelling may run a completion inline.
    if (client_ != nullptr) client_->Leave();
    for (auto& ctx : calls) ctx->TryCancel();
    for (Clock::TimerId id : timers) {
      if (env_.clock->Cancel(id)) {
        absl::MutexLock lock(&mu_);
        timers_.erase(id);
        --busy_;
      }
    }
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](int* busy) { return *busy == 0; }, &busy_));
    }
    client_.reset();
    env_.realm.reset();
    env_.stubs.reset();
  }

  const v1::Rule& rule() const { return rule_; }

 protected:
  virtual absl::Status Begin() = 0;

  template <typename Req, typename Resp>
  struct Call {
    grpc::ClientContext ctx;
    Req req;
    Resp resp;
  };

  // Starts an async call unless the rule is stopped. `issue(ctx, req, resp,
  // callback)` starts it on a stub; `done(status, resp)` runs on completion
  // unless the rule stopped meanwhile.
  template <typename Resp, typename Req, typename Issue, typename Done>
  void Rpc(Req req, absl::Duration deadline, Issue issue, Done done) {
    auto call = std::make_shared<Call<Req, Resp>>();
    call->req = std::move(req);
    call->ctx.set_deadline(DeadlineAfter(deadline));
    grpc::ClientContext* ctx = &call->ctx;
    {
      absl::MutexLock lock(&mu_);
      if (stopped_) return;
      ++busy_;
      calls_[ctx] = std::shared_ptr<grpc::ClientContext>(call, ctx);
    }
    issue(ctx, &call->req, &call->resp,
          [self = shared_from_this(), call, done](grpc::Status status) mutable {
            if (!self->stopped()) done(status, call->resp);
            absl::MutexLock lock(&self->mu_);
            self->calls_.erase(&call->ctx);
            --self->busy_;
          });
  }

  // Runs `fn` after `delay` of clock time unless the rule stops first.
  void After(absl::Duration delay, std::function<void()> fn) {
    absl::MutexLock lock(&mu_);
    if (stopped_) return;
    ++busy_;
    auto id = std::make_shared<Clock::TimerId>(0);
    // Under mu_: the timer cannot look up its id before it is stored.
    *id = env_.clock->RunAfter(delay, [self = shared_from_this(), id, fn = std::move(fn)] {
      {
        absl::MutexLock lock(&self->mu_);
        self->timers_.erase(*id);
        if (self->stopped_) {
          --self->busy_;
          return;
        }
      }
      fn();
      absl::MutexLock lock(&self->mu_);
      --self->busy_;
    });
    timers_.insert(*id);
  }

  bool stopped() {
    absl::MutexLock lock(&mu_);
    return stopped_;
  }

  void Fail(std::string_view what, std::string_view detail) {
    env_.counters->Failed(kind_);
    TT_LOG_WARN("wamp rule failed rule={} kind={} op={} error={}", rule_.id(), kKindNames[kind_],
                what, detail);
  }
  void Fail(std::string_view what, const grpc::Status& status) {
    Fail(what, absl::StrCat("grpc code ", static_cast<int>(status.error_code()), ": ",
                            status.error_message()));
  }
  void Forwarded(int n = 1) { env_.counters->Forwarded(kind_, n); }

  // The event callback: the runner, if still there (it runs under the
  // realm's lock: it must not block nor call into the realm).
  template <typename Self>
  LocalClient::EventFn OnEventOf() {
    std::weak_ptr<Self> weak = std::static_pointer_cast<Self>(shared_from_this());
    return [weak](const EventData& event) {
      if (auto self = weak.lock()) self->OnEvent(event);
    };
  }

  absl::Status Subscribe(const std::string& topic, const std::string& match,
                         LocalClient::EventFn fn) {
    const MatchPolicy policy = ParseMatchPolicy(match).value_or(MatchPolicy::kExact);
    return client_->Subscribe(topic, policy, std::move(fn));
  }

  const v1::Rule rule_;
  const Kind kind_;
  Env env_;
  std::shared_ptr<LocalClient> client_;  // set by Start, reset by Stop once idle

  absl::Mutex mu_;
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
  // Calls in flight and timers pending, plus their callbacks running.
  int busy_ ABSL_GUARDED_BY(mu_) = 0;
  absl::flat_hash_map<grpc::ClientContext*, std::shared_ptr<grpc::ClientContext>> calls_
      ABSL_GUARDED_BY(mu_);
  absl::flat_hash_set<Clock::TimerId> timers_ ABSL_GUARDED_BY(mu_);
};

// Every event -> SendMessage with the event as a JSON body.
class TopicToQueueRunner final : public Runner {
 public:
  using Runner::Runner;
  void OnEvent(const EventData& e) {
    queues::v1::SendMessageRequest req;
    req.set_queue_name(rule_.topic_to_queue().queue());
    req.set_message_body(absl::StrCat("{\"topic\":", Dump(Json(e.topic)),
                                      ",\"publication\":", e.publication, ",\"args\":",
                                      Dump(e.args), ",\"kwargs\":", Dump(e.kwargs), "}"));
    Rpc<queues::v1::SendMessageResponse>(
        std::move(req), kCallDeadline,
        [stubs = env_.stubs](auto* ctx, auto* rq, auto* rs, std::function<void(grpc::Status)> cb) {
          stubs->queues->async()->SendMessage(ctx, rq, rs, std::move(cb));
        },
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

// Long-polls the queue; each message is published, then deleted.
class QueueToTopicRunner final : public Runner {
 public:
  using Runner::Runner;

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
        std::move(req), kPollDeadline,
        [stubs = env_.stubs](auto* ctx, auto* rq, auto* rs, std::function<void(grpc::Status)> cb) {
          stubs->queues->async()->ReceiveMessages(ctx, rq, rs, std::move(cb));
        },
        [this](const grpc::Status& s, const queues::v1::ReceiveMessagesResponse& r) {
          OnReceived(s, r);
        });
  }

  // On a gRPC callback thread, outside any realm lock: publishing is fine.
  void OnReceived(const grpc::Status& status, const queues::v1::ReceiveMessagesResponse& r) {
    if (!status.ok()) {
      Fail("ReceiveMessages", status);
      After(kBackoff, [this] { Poll(); });
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
          std::move(del), kCallDeadline,
          [stubs = env_.stubs](auto* ctx, auto* rq, auto* rs,
                               std::function<void(grpc::Status)> cb) {
            stubs->queues->async()->DeleteMessageBatch(ctx, rq, rs, std::move(cb));
          },
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

// Every event -> PutItem of its kwargs plus the templated key attributes.
class TopicToTableRunner final : public Runner {
 public:
  TopicToTableRunner(v1::Rule rule, Env env) : Runner(std::move(rule), std::move(env)) {
    for (const auto& [name, text] : rule_.topic_to_table().key_template()) {
      // Validated at Create; a stored rule failing here is a broken invariant.
      templates_.emplace(name, ParseTemplate(text).value());
    }
  }

  void OnEvent(const EventData& e) {
    const absl::Time now = env_.clock->Now();
    std::shared_ptr<const KeyTypes> types;
    {
      absl::MutexLock lock(&mu_);
      if (key_types_ == nullptr) {
        // Still learning the key types: keep the event for later.
        if (pending_.size() < kMaxPendingEvents) {
          pending_.push_back({e, now});
        } else {
          dropped_pending_ = true;
        }
        return;
      }
      types = key_types_;
    }
    Put(e, now, *types);
  }

 private:
  using KeyTypes = std::map<std::string, tables::v1::ScalarAttributeType>;
  struct Pending {
    EventData event;
    absl::Time at;
  };

  absl::Status Begin() override {
    const auto& r = rule_.topic_to_table();
    TT_RETURN_IF_ERROR(Subscribe(r.topic(), r.match(), OnEventOf<TopicToTableRunner>()));
    Relearn();
    return absl::OkStatus();
  }

  // Learns the key attributes' types, unless that is under way already. At
  // the start; again when a put is refused as if the table had changed (it was
  // deleted and created again, maybe with other key types): until then events
  // go on with the types known.
  void Relearn() {
    {
      absl::MutexLock lock(&mu_);
      if (describing_) return;
      describing_ = true;
    }
    Describe();
  }

  // One DescribeTable; again after kBackoff on failure.
  void Describe() {
    tables::v1::DescribeTableRequest req;
    req.set_table_name(rule_.topic_to_table().table());
    Rpc<tables::v1::DescribeTableResponse>(
        std::move(req), kCallDeadline,
        [stubs = env_.stubs](auto* ctx, auto* rq, auto* rs, std::function<void(grpc::Status)> cb) {
          stubs->tables->async()->DescribeTable(ctx, rq, rs, std::move(cb));
        },
        [this](const grpc::Status& s, const tables::v1::DescribeTableResponse& r) {
          if (!s.ok()) {
            Fail("DescribeTable", s);
            After(kBackoff, [this] { Describe(); });
            return;
          }
          auto types = std::make_shared<KeyTypes>();
          for (const auto& d : r.table().attribute_definitions()) {
            (*types)[d.attribute_name()] = d.attribute_type();
          }
          std::deque<Pending> pending;
          bool dropped;
          {
            absl::MutexLock lock(&mu_);
            key_types_ = types;
            describing_ = false;
            pending.swap(pending_);
            dropped = dropped_pending_;
          }
          if (dropped) Fail("buffer", "events dropped while the table's key types were unknown");
          for (const Pending& p : pending) Put(p.event, p.at, *types);
        });
  }

  void Put(const EventData& e, absl::Time now, const KeyTypes& types) {
    tables::v1::PutItemRequest req;
    req.set_table_name(rule_.topic_to_table().table());
    auto& item = *req.mutable_item();
    if (e.kwargs.is_object()) {
      for (const auto& [k, v] : e.kwargs.items()) ToAttribute(v, &item[k]);
    }
    for (const auto& [name, parts] : templates_) {
      absl::StatusOr<std::string> text = ExpandTemplate(parts, e, now);
      if (!text.ok()) return Fail("key_template", text.status().ToString());
      tables::v1::AttributeValue& v = item[name];
      auto type = types.find(name);
      if (type != types.end() && type->second == tables::v1::SCALAR_ATTRIBUTE_TYPE_N) {
        v.set_n(*std::move(text));
      } else if (type != types.end() && type->second == tables::v1::SCALAR_ATTRIBUTE_TYPE_B) {
        v.set_b(*std::move(text));
      } else {
        v.set_s(*std::move(text));
      }
    }
    Rpc<tables::v1::PutItemResponse>(
        std::move(req), kCallDeadline,
        [stubs = env_.stubs](auto* ctx, auto* rq, auto* rs, std::function<void(grpc::Status)> cb) {
          stubs->tables->async()->PutItem(ctx, rq, rs, std::move(cb));
        },
        [this](const grpc::Status& s, const tables::v1::PutItemResponse&) {
          if (s.ok()) return Forwarded();
          Fail("PutItem", s);
          if (s.error_code() == grpc::StatusCode::NOT_FOUND ||
              s.error_code() == grpc::StatusCode::INVALID_ARGUMENT) {
            Relearn();
          }
        });
  }

  std::map<std::string, std::vector<TemplatePart>> templates_;  // immutable
  std::shared_ptr<const KeyTypes> key_types_ ABSL_GUARDED_BY(mu_);
  std::deque<Pending> pending_ ABSL_GUARDED_BY(mu_);
  bool dropped_pending_ ABSL_GUARDED_BY(mu_) = false;
  bool describing_ ABSL_GUARDED_BY(mu_) = false;  // a Describe is under way
};

// ---- validation -------------------------------------------------------------

absl::Status ValidateTopic(const std::string& prefix, const std::string& topic,
                           const std::string& match, bool pattern_allowed) {
  MatchPolicy policy = MatchPolicy::kExact;
  if (pattern_allowed && !match.empty()) {
    std::optional<MatchPolicy> parsed = ParseMatchPolicy(match);
    if (!parsed) {
      return InvalidField(prefix + ".match", "must be one of exact, prefix, wildcard");
    }
    policy = *parsed;
  }
  if (topic.empty() && policy == MatchPolicy::kExact) {
    return InvalidField(prefix + ".topic", "is required");
  }
  if (!IsValidUri(topic, policy)) {
    return InvalidField(prefix + ".topic",
                        absl::StrCat("is not a valid URI for match ", std::string(MatchPolicyName(policy))));
  }
  return absl::OkStatus();
}

// `p` names the rule in errors: "rule" (CreateRule) or "rules[i]" (config).
absl::Status ValidateRule(const v1::Rule& rule, const std::string& p) {
  switch (rule.kind_case()) {
    case v1::Rule::kTopicToQueue: {
      const auto& r = rule.topic_to_queue();
      TT_RETURN_IF_ERROR(ValidateTopic(p + ".topic_to_queue", r.topic(), r.match(), true));
      if (r.queue().empty()) return InvalidField(p + ".topic_to_queue.queue", "is required");
      if (!IsValidQueueName(r.queue())) {
        return InvalidField(p + ".topic_to_queue.queue", kQueueNameRule);
      }
      return absl::OkStatus();
    }
    case v1::Rule::kQueueToTopic: {
      const auto& r = rule.queue_to_topic();
      if (r.queue().empty()) return InvalidField(p + ".queue_to_topic.queue", "is required");
      if (!IsValidQueueName(r.queue())) {
        return InvalidField(p + ".queue_to_topic.queue", kQueueNameRule);
      }
      return ValidateTopic(p + ".queue_to_topic", r.topic(), "", false);
    }
    case v1::Rule::kTopicToTable: {
      const auto& r = rule.topic_to_table();
      TT_RETURN_IF_ERROR(ValidateTopic(p + ".topic_to_table", r.topic(), r.match(), true));
      if (r.table().empty()) return InvalidField(p + ".topic_to_table.table", "is required");
      if (!IsValidTableName(r.table())) {
        return InvalidField(p + ".topic_to_table.table", kTableNameRule);
      }
      if (r.key_template().empty()) {
        return InvalidField(p + ".topic_to_table.key_template",
                            "is required: one template per key attribute");
      }
      for (const auto& [name, text] : r.key_template()) {
        const std::string field = absl::StrCat(p, ".topic_to_table.key_template[\"", name, "\"]");
        if (name.empty()) return InvalidField(field, "attribute name is empty");
        if (text.empty()) return InvalidField(field, "template is empty");
        absl::StatusOr<std::vector<TemplatePart>> parts = ParseTemplate(text);
        if (!parts.ok()) return InvalidField(field, std::string(parts.status().message()));
      }
      return absl::OkStatus();
    }
    default:
      return InvalidField(p + ".kind",
                          "set exactly one of topic_to_queue, queue_to_topic, topic_to_table");
  }
}

// Stored value: the creation sequence number (8 bytes big-endian), then the
// serialized Rule.
std::string EncodeRecord(uint64_t seq, const v1::Rule& rule) {
  std::string out;
  keys::AppendUint64(&out, seq);
  out += rule.SerializeAsString();
  return out;
}

// The shape of the ids Create assigns: "r-" and 12 lowercase hex digits.
bool IsGeneratedId(std::string_view id) {
  if (id.size() != 14 || id.substr(0, 2) != "r-") return false;
  return std::all_of(id.begin() + 2, id.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

// A config rule's id: chosen by the operator, 1..64 of letters, digits,
// '-', '_', '.', and not shaped like a generated id (those belong to rules
// created by RPC, which config never touches).
absl::Status ValidateConfigId(const std::string& id, const std::string& p) {
  if (id.empty()) return InvalidField(p + ".id", "is required");
  if (id.size() > 64) return InvalidField(p + ".id", "is longer than 64 characters");
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.';
    if (!ok) return InvalidField(p + ".id", "may hold only letters, digits, '-', '_' and '.'");
  }
  if (IsGeneratedId(id)) {
    return InvalidField(p + ".id",
                        "has the shape of a generated id (r- and 12 hex digits), reserved for "
                        "rules created by CreateRule");
  }
  return absl::OkStatus();
}

// Validates config rules without the router: ids (valid, unique) and kinds.
absl::Status ValidateConfigRules(const std::vector<v1::Rule>& rules) {
  std::map<std::string, size_t> seen;
  for (size_t i = 0; i < rules.size(); ++i) {
    const std::string p = absl::StrCat("rules[", i, "]");
    TT_RETURN_IF_ERROR(ValidateConfigId(rules[i].id(), p));
    auto [it, inserted] = seen.emplace(rules[i].id(), i);
    if (!inserted) {
      return InvalidField(p + ".id", absl::StrCat("\"", rules[i].id(), "\" is already used by rules[",
                                                  it->second, "]"));
    }
    TT_RETURN_IF_ERROR(ValidateRule(rules[i], p));
  }
  return absl::OkStatus();
}

}  // namespace

// ---- the engine -------------------------------------------------------------

class RuleEngine::Impl {
 public:
  Impl(Db* db, Router* router, Clock* clock)
      : db_(db),
        cf_(db->cf(kRulesCf)),
        router_(router),
        clock_(clock),
        counters_(std::make_shared<Counters>(router->metrics())) {}

  ~Impl() {
    std::vector<std::shared_ptr<Runner>> runners;
    {
      absl::MutexLock lock(&mu_);
      for (auto& [id, e] : rules_) {
        if (e.runner != nullptr) runners.push_back(std::move(e.runner));
      }
    }
    for (auto& r : runners) r->Stop();
  }

  absl::Status Load() {
    auto it = db_->Scan(cf_, "");
    absl::MutexLock lock(&mu_);
    for (; it->Valid(); it->Next()) {
      std::string_view value(it->value().data(), it->value().size());
      std::optional<uint64_t> seq = keys::ConsumeUint64(&value);
      v1::Rule rule;
      if (!seq || !rule.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
        return absl::DataLossError(
            absl::StrCat("unreadable forwarding rule record ", it->key().ToString()));
      }
      next_seq_ = std::max(next_seq_, *seq + 1);
      std::string id = rule.id();
      rules_[id] = Entry{*seq, std::move(rule), nullptr};
    }
    return it->status();
  }

  void SetChannel(std::shared_ptr<grpc::Channel> channel) {
    absl::MutexLock lock(&mu_);
    if (stubs_ != nullptr) {
      TT_LOG_WARN("wamp rules: SetChannel called again; keeping the first channel");
      return;
    }
    stubs_ = std::make_shared<Stubs>(channel);
    for (auto& [id, e] : rules_) StartLocked(&e);
  }

  absl::StatusOr<v1::Rule> Create(v1::Rule rule) {
    if (rule.realm().empty()) rule.set_realm(kDefaultRealm);
    if (router_->FindRealm(rule.realm()) == nullptr) {
      return ErrorWithReason(absl::StatusCode::kNotFound, "NoSuchRealm",
                             absl::StrCat("rule.realm: no realm named \"", rule.realm(), "\""));
    }
    TT_RETURN_IF_ERROR(ValidateRule(rule, "rule"));
    absl::MutexLock lock(&mu_);
    std::string id;
    do {
      id = absl::StrCat("r-", absl::Hex(absl::Uniform<uint64_t>(gen_, 0, uint64_t{1} << 48),
                                        absl::kZeroPad12));
    } while (rules_.count(id) > 0);
    rule.set_id(id);
    const uint64_t seq = next_seq_++;
    TT_RETURN_IF_ERROR(db_->Put(cf_, id, EncodeRecord(seq, rule)));
    Entry& e = rules_[id] = Entry{seq, rule, nullptr};
    StartLocked(&e);
    return rule;
  }

  absl::Status Ensure(std::vector<v1::Rule> rules) {
    TT_RETURN_IF_ERROR(ValidateConfigRules(rules));
    for (size_t i = 0; i < rules.size(); ++i) {
      v1::Rule& rule = rules[i];
      if (rule.realm().empty()) rule.set_realm(kDefaultRealm);
      if (router_->FindRealm(rule.realm()) == nullptr) {
        // A config error (the same file declares the realms): INVALID_ARGUMENT.
        return InvalidField(absl::StrCat("rules[", i, "].realm"),
                            absl::StrCat("no realm named \"", rule.realm(), "\""));
      }
    }
    // Store what is new or changed (one write), then swap the runners.
    std::vector<std::string> changed;
    std::vector<std::shared_ptr<Runner>> old;
    {
      absl::MutexLock lock(&mu_);
      rocksdb::WriteBatch batch;
      std::vector<Entry> entries;
      for (const v1::Rule& rule : rules) {
        auto it = rules_.find(rule.id());
        if (it != rules_.end() &&
            google::protobuf::util::MessageDifferencer::Equals(it->second.rule, rule)) {
          continue;  // unchanged: keep it running
        }
        // A replaced rule keeps its place in the list.
        const uint64_t seq = it != rules_.end() ? it->second.seq : next_seq_++;
        batch.Put(cf_, rule.id(), EncodeRecord(seq, rule));
        entries.push_back(Entry{seq, rule, nullptr});
      }
      if (entries.empty()) return absl::OkStatus();
      TT_RETURN_IF_ERROR(db_->Write(&batch));
      for (Entry& e : entries) {
        const std::string id = e.rule.id();
        Entry& slot = rules_[id];
        if (slot.runner != nullptr) old.push_back(std::move(slot.runner));
        slot = std::move(e);
        changed.push_back(id);
        TT_LOG_INFO("wamp rule from config stored rule={} kind={}", id,
                    kKindNames[KindOf(slot.rule)]);
      }
    }
    // Outside mu_: stopping waits for the old rules' callbacks. The new
    // versions start after, so no event is forwarded twice by one rule.
    for (auto& r : old) r->Stop();
    absl::MutexLock lock(&mu_);
    for (const std::string& id : changed) {
      auto it = rules_.find(id);
      if (it != rules_.end()) StartLocked(&it->second);  // unless deleted meanwhile
    }
    return absl::OkStatus();
  }

  std::vector<v1::Rule> List() const {
    std::vector<std::pair<uint64_t, const v1::Rule*>> order;
    absl::MutexLock lock(&mu_);
    for (const auto& [id, e] : rules_) order.emplace_back(e.seq, &e.rule);
    std::sort(order.begin(), order.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    std::vector<v1::Rule> out;
    out.reserve(order.size());
    for (const auto& [seq, rule] : order) out.push_back(*rule);
    return out;
  }

  absl::Status Delete(const std::string& id) {
    std::shared_ptr<Runner> runner;
    {
      absl::MutexLock lock(&mu_);
      auto it = rules_.find(id);
      if (it == rules_.end()) {
        return ErrorWithReason(absl::StatusCode::kNotFound, "RuleNotFound",
                               absl::StrCat("no forwarding rule with id \"", id, "\""));
      }
      rocksdb::WriteBatch batch;
      batch.Delete(cf_, id);
      TT_RETURN_IF_ERROR(db_->Write(&batch));
      runner = std::move(it->second.runner);
      rules_.erase(it);
    }
    // Outside mu_: stopping waits for the rule's callbacks.
    if (runner != nullptr) runner->Stop();
    return absl::OkStatus();
  }

  void Drain() {
    std::vector<std::shared_ptr<Runner>> pollers;
    {
      absl::MutexLock lock(&mu_);
      draining_ = true;
      for (auto& [id, e] : rules_) {
        if (e.runner != nullptr && e.rule.has_queue_to_topic()) {
          pollers.push_back(std::move(e.runner));
        }
      }
    }
    for (auto& r : pollers) r->Stop();
  }

  Stats stats() const { return counters_->stats(); }

 private:
  struct Entry {
    uint64_t seq = 0;
    v1::Rule rule;
    std::shared_ptr<Runner> runner;  // null while idle
  };

  // Starts a stored rule if the channel is there (and, for a queue poller,
  // the engine is not draining). Starting subscribes through the realm, whose
  // callbacks never take mu_, so holding it here is safe.
  void StartLocked(Entry* e) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (stubs_ == nullptr || e->runner != nullptr) return;
    if (draining_ && e->rule.has_queue_to_topic()) return;
    std::shared_ptr<Realm> realm = router_->FindRealm(e->rule.realm());
    if (realm == nullptr) {
      // The config changed since the rule was created.
      TT_LOG_WARN("wamp rule idle: realm gone rule={} realm={}", e->rule.id(), e->rule.realm());
      return;
    }
    Env env{std::move(realm), clock_, stubs_, counters_};
    switch (KindOf(e->rule)) {
      case kToQueue:
        e->runner = std::make_shared<TopicToQueueRunner>(e->rule, std::move(env));
        break;
      case kToTopic:
        e->runner = std::make_shared<QueueToTopicRunner>(e->rule, std::move(env));
        break;
      case kToTable:
        e->runner = std::make_shared<TopicToTableRunner>(e->rule, std::move(env));
        break;
      default:
        break;
    }
    e->runner->Start();
  }

  Db* const db_;
  rocksdb::ColumnFamilyHandle* const cf_;
  Router* const router_;
  Clock* const clock_;
  const std::shared_ptr<Counters> counters_;

  mutable absl::Mutex mu_;
  std::map<std::string, Entry> rules_ ABSL_GUARDED_BY(mu_);
  uint64_t next_seq_ ABSL_GUARDED_BY(mu_) = 1;
  std::shared_ptr<Stubs> stubs_ ABSL_GUARDED_BY(mu_);
  bool draining_ ABSL_GUARDED_BY(mu_) = false;
  absl::BitGen gen_ ABSL_GUARDED_BY(mu_);
};

std::vector<std::string> RuleEngine::ColumnFamilies() { return {kRulesCf}; }

absl::StatusOr<std::unique_ptr<RuleEngine>> RuleEngine::Open(Db* db, Router* router,
                                                             Clock* clock) {
  auto impl = std::make_unique<Impl>(db, router, clock);
  TT_RETURN_IF_ERROR(impl->Load());
  return std::unique_ptr<RuleEngine>(new RuleEngine(std::move(impl)));
}

RuleEngine::RuleEngine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
RuleEngine::~RuleEngine() = default;

void RuleEngine::SetChannel(std::shared_ptr<grpc::Channel> channel) {
  impl_->SetChannel(std::move(channel));
}
absl::StatusOr<v1::Rule> RuleEngine::Create(v1::Rule rule) { return impl_->Create(std::move(rule)); }
absl::Status RuleEngine::Ensure(const std::vector<v1::Rule>& rules) {
  return impl_->Ensure(rules);
}
std::vector<v1::Rule> RuleEngine::List() const { return impl_->List(); }
absl::Status RuleEngine::Delete(const std::string& id) { return impl_->Delete(id); }
void RuleEngine::Drain() { impl_->Drain(); }
RuleEngine::Stats RuleEngine::stats() const { return impl_->stats(); }

absl::StatusOr<std::vector<v1::Rule>> ParseConfigRules(std::string_view json_text) {
  const Json doc = Json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return absl::InvalidArgumentError("not valid JSON");
  if (!doc.is_object()) return absl::InvalidArgumentError("the config must be a JSON object");
  std::vector<v1::Rule> rules;
  auto list = doc.find("rules");
  if (list == doc.end() || list->is_null()) return rules;
  if (!list->is_array()) return InvalidField("rules", "must be an array of rules");
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;  // a misspelt field is an error
  for (size_t i = 0; i < list->size(); ++i) {
    const std::string p = absl::StrCat("rules[", i, "]");
    const Json& item = (*list)[i];
    if (!item.is_object()) return InvalidField(p, "must be an object");
    v1::Rule rule;
    auto status = google::protobuf::util::JsonStringToMessage(Dump(item), &rule, options);
    if (!status.ok()) return InvalidField(p, std::string(status.message()));
    rules.push_back(std::move(rule));
  }
  TT_RETURN_IF_ERROR(ValidateConfigRules(rules));
  return rules;
}

}  // namespace thingtank::wamp
