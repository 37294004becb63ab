// Enhanced fan-out: consumers and SubscribeToShard.
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "services/common/status.h"
#include "services/common/string_views.h"
#include "services/streams/core/names.h"
#include "services/streams/stream_service.h"
#include "services/streams/stream_service_internal.h"
#include "services/streams/subscription.h"

namespace thingtank::streams {

using internal::CheckActive;
using internal::CheckReadable;
using internal::Micros;

namespace {

constexpr std::string_view kConsumerPart = "/consumer/";

absl::Status ConsumerNotFound(const std::string& what) {
  return Error("ResourceNotFoundException", absl::StrCat("Consumer ", what, " under account 000000000000 not found."));
}

v1::Consumer ConsumerMessage(const storage::ConsumerRecord& c, const std::string& stream_arn) {
  v1::Consumer out;
  out.set_consumer_name(c.name());
  out.set_consumer_arn(c.arn());
  out.set_consumer_status(static_cast<v1::ConsumerStatus>(c.status()));
  *out.mutable_consumer_creation_timestamp() = ToTimestamp(FromMicros(c.created_micros()));
  out.set_stream_arn(stream_arn);
  return out;
}

storage::ConsumerRecord* FindConsumer(StreamState& s, const std::string& name, const std::string& arn)
    ABSL_EXCLUSIVE_LOCKS_REQUIRED(s.mu) {
  for (storage::ConsumerRecord& c : *s.record.mutable_consumers()) {
    if ((!name.empty() && c.name() == name) || (!arn.empty() && c.arn() == arn)) return &c;
  }
  return nullptr;
}

// A consumer named by its ARN, or else by its name.
storage::ConsumerRecord* NamedConsumer(StreamState& s, const std::string& name, const std::string& arn)
    ABSL_EXCLUSIVE_LOCKS_REQUIRED(s.mu) {
  return arn.empty() ? FindConsumer(s, name, "") : FindConsumer(s, "", arn);
}

// The stream ARN inside a consumer ARN.
absl::StatusOr<std::string> StreamArnOfConsumer(const std::string& consumer_arn, const char* field) {
  const size_t at = consumer_arn.rfind(kConsumerPart);
  if (consumer_arn.rfind(kArnPrefix, 0) != 0 || at == std::string::npos) {
    return FieldError(field, "InvalidArgumentException",
                      absl::StrCat("is not a consumer ARN (", kArnPrefix, "<stream>/consumer/<name>:<time>)"));
  }
  return consumer_arn.substr(0, at);
}

}  // namespace

absl::StatusOr<std::shared_ptr<StreamState>> StreamService::FindConsumerStream(const std::string& stream_arn,
                                                                              const std::string& consumer_name,
                                                                              const std::string& consumer_arn) const {
  if (!consumer_arn.empty()) {
    TT_ASSIGN_OR_RETURN(const std::string of_consumer, StreamArnOfConsumer(consumer_arn, "consumer_arn"));
    return FindByArn(of_consumer, "consumer_arn");
  }
  if (stream_arn.empty() || consumer_name.empty()) {
    return FieldError("consumer_arn", "InvalidArgumentException", "is required, or else stream_arn and consumer_name");
  }
  return FindByArn(stream_arn, "stream_arn");
}

void StreamService::ArmConsumerTransition(const std::string& stream, const std::string& consumer, absl::Time when) {
  std::shared_ptr<Lifeline<StreamService>> life = life_;
  clock_->RunAt(when, [life, stream, consumer] {
    Lifeline<StreamService>::Post(
        life, [stream, consumer](StreamService* service) { service->EndConsumerTransition(stream, consumer); });
  });
}

void StreamService::EndConsumerTransition(const std::string& stream, const std::string& consumer) {
  absl::StatusOr<std::shared_ptr<StreamState>> s = Find(stream);
  if (!s.ok()) return;
  absl::MutexLock lock(&(*s)->mu);
  auto* consumers = (*s)->record.mutable_consumers();
  for (int i = 0; i < consumers->size(); ++i) {
    storage::ConsumerRecord& c = (*consumers)[i];
    if (c.name() != consumer) continue;
    const storage::StreamRecord before = (*s)->record;
    if (c.status() == v1::CONSUMER_STATUS_CREATING) {
      c.set_status(v1::CONSUMER_STATUS_ACTIVE);
    } else if (c.status() == v1::CONSUMER_STATUS_DELETING) {
      consumers->DeleteSubrange(i, 1);
    } else {
      return;
    }
    if (!Save(**s).ok()) {
      (*s)->record = before;
      ArmConsumerTransition(stream, consumer, clock_->Now() + options_.transition);
    }
    return;
  }
}

absl::StatusOr<v1::RegisterStreamConsumerResponse> StreamService::RegisterStreamConsumer(
    const v1::RegisterStreamConsumerRequest& r) {
  TT_RETURN_IF_ERROR(ValidateStreamName(r.consumer_name(), "consumer_name"));
  TT_ASSIGN_OR_RETURN(std::shared_ptr<StreamState> s, FindByArn(r.stream_arn(), "stream_arn"));
  absl::MutexLock lock(&s->mu);
  TT_RETURN_IF_ERROR(CheckReadable(*s));
  if (FindConsumer(*s, r.consumer_name(), "") != nullptr) {
    return Error("ResourceInUseException",
                 absl::StrCat("Consumer ", r.consumer_name(), " already exists on stream ", s->record.name()));
  }
  if (s->record.consumers_size() >= options_.consumers_per_stream) {
    return Error("LimitExceededException",
                 absl::StrCat("a stream has at most ", options_.consumers_per_stream, " consumers"));
  }
  const absl::Time now = clock_->Now();
  storage::ConsumerRecord* c = s->record.add_consumers();
  c->set_name(r.consumer_name());
  c->set_arn(absl::StrCat(s->arn(), Av(kConsumerPart), r.consumer_name(), ":", absl::ToUnixSeconds(now)));
  c->set_created_micros(Micros(now));
  c->set_status(v1::CONSUMER_STATUS_CREATING);
  c->set_transition_end_micros(Micros(now + options_.transition));
  v1::RegisterStreamConsumerResponse out;
  *out.mutable_consumer() = ConsumerMessage(*c, s->arn());
  if (absl::Status saved = Save(*s); !saved.ok()) {
    s->record.mutable_consumers()->RemoveLast();
    return saved;
  }
  ArmConsumerTransition(s->record.name(), r.consumer_name(), now + options_.transition);
  return out;
}

absl::StatusOr<v1::DescribeStreamConsumerResponse> StreamService::DescribeStreamConsumer(
    const v1::DescribeStreamConsumerRequest& r) {
  TT_ASSIGN_OR_RETURN(std::shared_ptr<StreamState> s,
                      FindConsumerStream(r.stream_arn(), r.consumer_name(), r.consumer_arn()));
  absl::MutexLock lock(&s->mu);
  storage::ConsumerRecord* c = NamedConsumer(*s, r.consumer_name(), r.consumer_arn());
  if (c == nullptr) return ConsumerNotFound(r.consumer_arn().empty() ? r.consumer_name() : r.consumer_arn());
  v1::DescribeStreamConsumerResponse out;
  *out.mutable_consumer_description() = ConsumerMessage(*c, s->arn());
  return out;
}

absl::StatusOr<v1::ListStreamConsumersResponse> StreamService::ListStreamConsumers(
    const v1::ListStreamConsumersRequest& r) {
  const int limit = r.max_results() == 0 ? 100 : r.max_results();
  if (limit < 1 || limit > 10000) {
    return FieldError("max_results", "InvalidArgumentException", "must be between 1 and 10000");
  }
  std::string after;
  if (!r.next_token().empty()) {
    std::string decoded;
    if (!absl::WebSafeBase64Unescape(Av(r.next_token()), &decoded) || decoded.rfind("lc:", 0) != 0) {
      return FieldError("next_token", "InvalidArgumentException", "is not a token of ListStreamConsumers");
    }
    after = decoded.substr(3);
  }
  TT_ASSIGN_OR_RETURN(std::shared_ptr<StreamState> s, FindByArn(r.stream_arn(), "stream_arn"));
  absl::MutexLock lock(&s->mu);
  std::vector<const storage::ConsumerRecord*> sorted;
  for (const storage::ConsumerRecord& c : s->record.consumers()) {
    if (after.empty() || c.name() > after) sorted.push_back(&c);
  }
  std::sort(sorted.begin(), sorted.end(), [](auto* a, auto* b) { return a->name() < b->name(); });
  v1::ListStreamConsumersResponse out;
  for (const storage::ConsumerRecord* c : sorted) {
    if (out.consumers_size() == limit) {
      out.set_next_token(absl::WebSafeBase64Escape(absl::StrCat("lc:", out.consumers().rbegin()->consumer_name())));
      break;
    }
    *out.add_consumers() = ConsumerMessage(*c, s->arn());
  }
  return out;
}

absl::StatusOr<v1::DeregisterStreamConsumerResponse> StreamService::DeregisterStreamConsumer(
    const v1::DeregisterStreamConsumerRequest& r) {
  TT_ASSIGN_OR_RETURN(std::shared_ptr<StreamState> s,
                      FindConsumerStream(r.stream_arn(), r.consumer_name(), r.consumer_arn()));
  absl::MutexLock lock(&s->mu);
  storage::ConsumerRecord* c = NamedConsumer(*s, r.consumer_name(), r.consumer_arn());
  if (c == nullptr) return ConsumerNotFound(r.consumer_arn().empty() ? r.consumer_name() : r.consumer_arn());
  if (c->status() == v1::CONSUMER_STATUS_DELETING) return v1::DeregisterStreamConsumerResponse();
  const storage::StreamRecord before = s->record;
  const absl::Time now = clock_->Now();
  c->set_status(v1::CONSUMER_STATUS_DELETING);
  c->set_transition_end_micros(Micros(now + options_.transition));
  const std::string name = c->name(), arn = c->arn();
  if (absl::Status saved = Save(*s); !saved.ok()) {
    s->record = before;
    return saved;
  }
  EndSubscriptionsLocked(*s, arn, ConsumerNotFound(arn));
  ArmConsumerTransition(s->record.name(), name, now + options_.transition);
  return v1::DeregisterStreamConsumerResponse();
}

absl::StatusOr<std::shared_ptr<Subscription>> StreamService::SubscribeToShard(const v1::SubscribeToShardRequest& r,
                                                                              SubscriptionSink sink) {
  if (r.consumer_arn().empty()) return FieldError("consumer_arn", "InvalidArgumentException", "is required");
  TT_RETURN_IF_ERROR(ValidateStreamName(r.shard_id(), "shard_id"));
  const v1::StartingPosition& p = r.starting_position();
  const v1::ShardIteratorType type = p.type();
  if (type == v1::SHARD_ITERATOR_TYPE_UNSPECIFIED || !v1::ShardIteratorType_IsValid(type)) {
    return FieldError("starting_position.type", "InvalidArgumentException",
                      "must be AT_SEQUENCE_NUMBER, AFTER_SEQUENCE_NUMBER, TRIM_HORIZON, LATEST or AT_TIMESTAMP");
  }
  const bool by_sequence =
      type == v1::SHARD_ITERATOR_TYPE_AT_SEQUENCE_NUMBER || type == v1::SHARD_ITERATOR_TYPE_AFTER_SEQUENCE_NUMBER;
  std::optional<SequenceNumber> given;
  if (by_sequence) {
    TT_RETURN_IF_ERROR(ValidateSequenceNumber(p.sequence_number(), "starting_position.sequence_number"));
    given = ParseSequenceNumber(p.sequence_number());
  }
  if (type == v1::SHARD_ITERATOR_TYPE_AT_TIMESTAMP && !p.has_timestamp()) {
    return FieldError("starting_position.timestamp", "InvalidArgumentException", "is required with AT_TIMESTAMP");
  }
  TT_ASSIGN_OR_RETURN(std::shared_ptr<StreamState> s, FindConsumerStream("", "", r.consumer_arn()));
  absl::MutexLock lock(&s->mu);
  TT_RETURN_IF_ERROR(CheckReadable(*s));
  storage::ConsumerRecord* c = NamedConsumer(*s, "", r.consumer_arn());
  if (c == nullptr || c->status() == v1::CONSUMER_STATUS_DELETING) return ConsumerNotFound(r.consumer_arn());
  if (c->status() != v1::CONSUMER_STATUS_ACTIVE) {
    return Error("ResourceInUseException", absl::StrCat("Consumer ", r.consumer_arn(), " is not ACTIVE yet."));
  }
  ShardState* shard = s->FindShard(r.shard_id());
  if (shard == nullptr) return internal::ShardNotFound(s->record.name(), r.shard_id());
  const uint64_t index = shard->record.index();
  if (by_sequence && (!given || given->shard_index != index)) {
    return FieldError("starting_position.sequence_number", "InvalidArgumentException",
                      "is not a sequence number of this shard");
  }
  const absl::Time now = clock_->Now();
  storage::Position from;
  std::string continuation = shard->record.starting_sequence_number();
  switch (type) {
    case v1::SHARD_ITERATOR_TYPE_LATEST:
      from = internal::PositionAfter(shard->last);
      continuation = FormatSequenceNumber(shard->last);
      break;
    case v1::SHARD_ITERATOR_TYPE_AT_SEQUENCE_NUMBER:
      from = internal::PositionOf(*given);
      break;
    case v1::SHARD_ITERATOR_TYPE_AFTER_SEQUENCE_NUMBER:
      from = internal::PositionAfter(*given);
      continuation = p.sequence_number();
      break;
    case v1::SHARD_ITERATOR_TYPE_AT_TIMESTAMP:
      from = {std::clamp<int64_t>(p.timestamp().seconds() * 1'000'000 + p.timestamp().nanos() / 1000, 0, Micros(now)),
              0};
      break;
    default:  // TRIM_HORIZON
      break;
  }
  auto sub = std::make_shared<Subscription>(this, s, index, r.consumer_arn(), from, continuation, std::move(sink));
  sub->StartLocked(*shard);
  return sub;
}

}  // namespace thingtank::streams
