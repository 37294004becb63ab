// stream_to_topic: reads every shard of a stream with GetRecords and
// publishes each record on the topic.
//
// Shards: ListShards (every page) at start; LATEST reads the open shards from
// their end, TRIM_HORIZON every shard without a listed parent from its start.
// A shard that is closed and drained (GetRecords gives no next iterator)
// lists its children; a child is read from its start once each of its
// parents is drained (a merged shard waits for both), so that a partition
// key's records stay in order across a reshard.
//
// Polling: each shard is one chain of async calls, never more than one call
// in flight, never a waiting thread. After an empty answer the next call
// comes 200 ms of clock time later; after records, as soon as the 5 calls/s
// per shard read limit allows (200 ms after the previous call began, which
// may be now). Throttling (RESOURCE_EXHAUSTED) waits at least its RetryInfo
// delay; an expired iterator is replaced at once (after the last record
// published); a missing stream (NOT_FOUND), or an iterator refused
// (INVALID_ARGUMENT: the stream deleted and created again), starts
// everything again after 1 s, and a stream found after that is read from its
// start (its records were all written after the rule began). Other failures retry the
// same call with backoff. Every failure counts in the rule metrics.
//
// Delivery: at least once within a run (a record is published before the
// position moves past it). The position is kept in memory only: after a
// restart the rule starts again from starting_position.
#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "services/common/status.h"
#include "services/wamp/rules/builtin_kinds.h"
#include "services/wamp/rules/runner.h"
#include "services/wamp/rules/stream_support.h"
#include "services/wamp/rules/validation.h"

namespace thingtank::wamp {
namespace {

namespace sv1 = streams::v1;

constexpr char kLatest[] = "LATEST";
constexpr char kTrimHorizon[] = "TRIM_HORIZON";
// The read limit is 5 GetRecords calls a second per shard.
constexpr absl::Duration kPollInterval = absl::Milliseconds(200);
constexpr int kGetRecordsLimit = 1000;
constexpr int kListShardsPage = 10000;

// A record's data as the event's argument: JSON when it parses, else the
// text, else (not UTF-8) the bytes.
Json PayloadOf(const std::string& data) {
  Json parsed = Json::parse(data, nullptr, /*allow_exceptions=*/false);
  if (!parsed.is_discarded()) return parsed;
  if (Utf8Length(data).has_value()) return Json(data);
  return Json::binary(std::vector<uint8_t>(data.begin(), data.end()));
}

class StreamToTopicRunner final : public RuleRunner {
 public:
  StreamToTopicRunner(v1::Rule rule, std::string_view kind, RuleEnv env)
      : RuleRunner(std::move(rule), kind, std::move(env)),
        from_start_(rule_.stream_to_topic().starting_position() == kTrimHorizon) {}

 private:
  // One shard being read.
  struct Reader {
    sv1::ShardIteratorType start = sv1::SHARD_ITERATOR_TYPE_LATEST;  // where it began
    std::string iterator;
    std::string last_sequence;  // of the last record published
    absl::Time last_call;       // when the last GetRecords began
    int failures = 0;           // failed calls in a row
  };

  absl::Status Begin() override {
    Discover();
    return absl::OkStatus();
  }

  const std::string& stream() const { return rule_.stream_to_topic().stream(); }

  // Whether `gen` is still the current generation of readers: a discovery
  // (after the stream went missing) abandons the previous one's calls.
  bool Current(uint64_t gen) {
    absl::MutexLock lock(&mu_);
    return gen == generation_;
  }

  // Forgets every shard and lists them again.
  void Discover() {
    uint64_t gen;
    {
      absl::MutexLock lock(&mu_);
      gen = ++generation_;
      readers_.clear();
      drained_.clear();
    }
    ListPage(gen, "", std::make_shared<std::vector<sv1::Shard>>());
  }

  void ListPage(uint64_t gen, const std::string& token,
                std::shared_ptr<std::vector<sv1::Shard>> shards) {
    sv1::ListShardsRequest req;
    if (token.empty()) {
      req.set_stream_name(stream());
    } else {
      req.set_next_token(token);  // not with stream_name
    }
    req.set_max_results(kListShardsPage);
    Rpc<sv1::ListShardsResponse>(
        StreamsMethod("ListShards"), req, kRuleCallDeadline,
        [this, gen, shards](const grpc::Status& s, const sv1::ListShardsResponse& r) {
          if (!Current(gen)) return;
          if (!s.ok()) {
            Fail("ListShards", s);
            if (s.error_code() == grpc::StatusCode::NOT_FOUND) MarkMissing();
            After(kRuleBackoff, [this, gen] {
              if (Current(gen)) Discover();
            });
            return;
          }
          shards->insert(shards->end(), r.shards().begin(), r.shards().end());
          if (!r.next_token().empty()) return ListPage(gen, r.next_token(), shards);
          StartReaders(gen, *shards);
        });
  }

  void MarkMissing() {
    absl::MutexLock lock(&mu_);
    from_start_ = true;
  }

  void StartReaders(uint64_t gen, const std::vector<sv1::Shard>& shards) {
    std::set<std::string> listed;
    for (const auto& s : shards) listed.insert(s.shard_id());
    auto unlisted = [&](const std::string& id) { return id.empty() || listed.count(id) == 0; };
    std::vector<std::pair<std::string, sv1::ShardIteratorType>> start;
    {
      absl::MutexLock lock(&mu_);
      for (const auto& s : shards) {
        const bool take =
            from_start_ ? unlisted(s.parent_shard_id()) && unlisted(s.adjacent_parent_shard_id())
                        : s.sequence_number_range().ending_sequence_number().empty();
        if (!take) continue;
        const auto type =
            from_start_ ? sv1::SHARD_ITERATOR_TYPE_TRIM_HORIZON : sv1::SHARD_ITERATOR_TYPE_LATEST;
        readers_[s.shard_id()].start = type;
        start.emplace_back(s.shard_id(), type);
      }
    }
    for (const auto& [id, type] : start) StartShard(gen, id, type, "");
  }

  // Takes an iterator of the shard (after `after` when set), then polls.
  void StartShard(uint64_t gen, const std::string& id, sv1::ShardIteratorType type,
                  const std::string& after) {
    sv1::GetShardIteratorRequest req;
    req.set_stream_name(stream());
    req.set_shard_id(id);
    if (after.empty()) {
      req.set_shard_iterator_type(type);
    } else {
      req.set_shard_iterator_type(sv1::SHARD_ITERATOR_TYPE_AFTER_SEQUENCE_NUMBER);
      req.set_starting_sequence_number(after);
    }
    Rpc<sv1::GetShardIteratorResponse>(
        StreamsMethod("GetShardIterator"), req, kRuleCallDeadline,
        [this, gen, id, type, after](const grpc::Status& s,
                                     const sv1::GetShardIteratorResponse& r) {
          if (!Current(gen)) return;
          if (!s.ok()) {
            Fail("GetShardIterator", s);
            return Retry(gen, id, s,
                         [this, gen, id, type, after] { StartShard(gen, id, type, after); });
          }
          {
            absl::MutexLock lock(&mu_);
            auto it = readers_.find(id);
            if (it == readers_.end()) return;
            it->second.iterator = r.shard_iterator();
            it->second.failures = 0;
          }
          Poll(gen, id);
        });
  }

  // A new iterator for a reader whose iterator expired or was refused.
  void Renew(uint64_t gen, const std::string& id) {
    sv1::ShardIteratorType type;
    std::string after;
    {
      absl::MutexLock lock(&mu_);
      auto it = readers_.find(id);
      if (gen != generation_ || it == readers_.end()) return;
      type = it->second.start;
      after = it->second.last_sequence;
    }
    StartShard(gen, id, type, after);
  }

  void Poll(uint64_t gen, const std::string& id) {
    sv1::GetRecordsRequest req;
    req.set_limit(kGetRecordsLimit);
    {
      absl::MutexLock lock(&mu_);
      auto it = readers_.find(id);
      if (gen != generation_ || it == readers_.end()) return;
      req.set_shard_iterator(it->second.iterator);
      it->second.last_call = env_.clock->Now();
    }
    Rpc<sv1::GetRecordsResponse>(
        StreamsMethod("GetRecords"), req, kRuleCallDeadline,
        [this, gen, id](const grpc::Status& s, const sv1::GetRecordsResponse& r) {
          if (Current(gen)) OnRecords(gen, id, s, r);
        });
  }

  // On a gRPC callback thread, outside any realm lock: publishing is fine.
  void OnRecords(uint64_t gen, const std::string& id, const grpc::Status& s,
                 const sv1::GetRecordsResponse& r) {
    if (!s.ok()) {
      Fail("GetRecords", s);
      if (ErrorReasonOf(s) == "ExpiredIteratorException") return Renew(gen, id);
      return Retry(gen, id, s, [this, gen, id] { Poll(gen, id); });
    }
    const auto& topic = rule_.stream_to_topic().topic();
    for (const sv1::Record& rec : r.records()) {
      Json kwargs = {{"stream", stream()},
                     {"shard_id", id},
                     {"sequence_number", rec.sequence_number()},
                     {"partition_key", rec.partition_key()},
                     {"approximate_arrival_timestamp_ms",
                      rec.approximate_arrival_timestamp().seconds() * 1000 +
                          rec.approximate_arrival_timestamp().nanos() / 1000000}};
      absl::StatusOr<uint64_t> published =
          client_->Publish(topic, Json::array({PayloadOf(rec.data())}), std::move(kwargs));
      if (published.ok()) {
        Forwarded();
      } else {
        Fail("publish", published.status().ToString());
      }
    }
    std::optional<absl::Duration> next_in;
    {
      absl::MutexLock lock(&mu_);
      auto it = readers_.find(id);
      if (it == readers_.end()) return;
      Reader& reader = it->second;
      reader.failures = 0;
      if (r.records_size() > 0) reader.last_sequence = r.records().rbegin()->sequence_number();
      reader.iterator = r.next_shard_iterator();
      if (!reader.iterator.empty()) {
        const absl::Time now = env_.clock->Now();
        next_in = r.records_size() == 0
                      ? kPollInterval
                      : std::max(absl::ZeroDuration(), reader.last_call + kPollInterval - now);
      }
    }
    if (!next_in.has_value()) return Drained(gen, id, r);
    if (*next_in == absl::ZeroDuration()) return Poll(gen, id);
    After(*next_in, [this, gen, id] { Poll(gen, id); });
  }

  // The shard is closed and read to its end: its children whose parents are
  // all drained (or not read by this rule) start from their beginning.
  void Drained(uint64_t gen, const std::string& id, const sv1::GetRecordsResponse& r) {
    std::vector<std::string> start;
    {
      absl::MutexLock lock(&mu_);
      readers_.erase(id);
      drained_.insert(id);
      for (const sv1::ChildShard& child : r.child_shards()) {
        const std::string& cid = child.shard_id();
        if (readers_.count(cid) > 0 || drained_.count(cid) > 0) continue;
        bool ready = true;
        for (const std::string& p : child.parent_shards()) {
          if (readers_.count(p) > 0) ready = false;  // still being read
        }
        if (!ready) continue;
        readers_[cid].start = sv1::SHARD_ITERATOR_TYPE_TRIM_HORIZON;
        start.push_back(cid);
      }
    }
    for (const std::string& cid : start) {
      StartShard(gen, cid, sv1::SHARD_ITERATOR_TYPE_TRIM_HORIZON, "");
    }
  }

  // After a failed call of shard `id`: all again, from the start, when the
  // stream is gone or is not the one the iterators were for (NOT_FOUND; an
  // iterator or sequence number refused as INVALID_ARGUMENT); else `again`
  // after a backoff (throttling: at least its RetryInfo delay).
  void Retry(uint64_t gen, const std::string& id, const grpc::Status& s,
             std::function<void()> again) {
    if (s.error_code() == grpc::StatusCode::NOT_FOUND ||
        s.error_code() == grpc::StatusCode::INVALID_ARGUMENT) {
      MarkMissing();
      return After(kRuleBackoff, [this, gen] {
        if (Current(gen)) Discover();
      });
    }
    int failures = 1;
    {
      absl::MutexLock lock(&mu_);
      auto it = readers_.find(id);
      if (it != readers_.end()) failures = ++it->second.failures;
    }
    // Throttled: the read limit frees a call within a second, RetryInfo says when.
    const absl::Duration delay =
        s.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED
            ? std::max(kPollInterval, RetryInfoDelay(s).value_or(kPollInterval))
            : RetryBackoff(failures, RetryInfoDelay(s));
    After(delay, [this, gen, again = std::move(again)] {
      if (Current(gen)) again();
    });
  }

  uint64_t generation_ ABSL_GUARDED_BY(mu_) = 0;
  // TRIM_HORIZON, or LATEST after the stream was seen missing.
  bool from_start_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, Reader> readers_ ABSL_GUARDED_BY(mu_);  // by shard id
  std::set<std::string> drained_ ABSL_GUARDED_BY(mu_);          // closed shards read to their end
};

class StreamToTopic final : public RuleKind {
 public:
  std::string_view name() const override { return "stream_to_topic"; }
  v1::Rule::KindCase kind_case() const override { return v1::Rule::kStreamToTopic; }
  bool stops_on_drain() const override { return true; }
  absl::Status Validate(const v1::Rule& rule, const std::string& p) const override {
    const auto& r = rule.stream_to_topic();
    TT_RETURN_IF_ERROR(ValidateStreamField(p, r.stream()));
    TT_RETURN_IF_ERROR(ValidateTopic(p, r.topic(), "", /*pattern_allowed=*/false));
    const std::string& pos = r.starting_position();
    if (!pos.empty() && pos != kLatest && pos != kTrimHorizon) {
      return InvalidField(p + ".starting_position", "must be LATEST (default) or TRIM_HORIZON");
    }
    return absl::OkStatus();
  }
  std::shared_ptr<RuleRunner> NewRunner(v1::Rule rule, RuleEnv env) const override {
    return std::make_shared<StreamToTopicRunner>(std::move(rule), name(), std::move(env));
  }
};

}  // namespace

std::unique_ptr<RuleKind> StreamToTopicKind() { return std::make_unique<StreamToTopic>(); }

}  // namespace thingtank::wamp
