#include "services/queues/queue_service.h"

#include <algorithm>
#include <cstdio>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "services/common/status.h"
#include "services/queues/queue_service_internal.h"

namespace thingtank::queues {

int64_t ToMicros(absl::Time t) { return absl::ToUnixMicros(t); }

void SetTimestamp(int64_t micros, google::protobuf::Timestamp* out) {
  out->set_seconds(micros / 1'000'000);
  out->set_nanos(static_cast<int32_t>((micros % 1'000'000) * 1000));
}

absl::Status QueueDoesNotExist(const std::string& name) {
  return ErrorWithReason(absl::StatusCode::kNotFound, "QueueDoesNotExist",
                         absl::StrCat("queue ", name, " does not exist"));
}

// ---- QueueLock ----

QueueService::QueueLock::QueueLock(const QueueService* service, QueuePtr q)
    : q_(std::move(q)), held_(true) {
  for (;;) {
    std::string dlq_name;
    q_->mu.Lock();
    if (q_->deleted || !q_->attrs().has_redrive_policy()) return;  // the common case
    dlq_name = q_->attrs().redrive_policy().dead_letter_queue_name();
    q_->mu.Unlock();

    QueuePtr dlq = service->FindOrNull(dlq_name);
    if (dlq == q_) dlq = nullptr;
    if (dlq && dlq->id < q_->id) {
      dlq->mu.Lock();
      q_->mu.Lock();
    } else {
      q_->mu.Lock();
      if (dlq) dlq->mu.Lock();
    }
    const bool same = !q_->deleted && q_->attrs().has_redrive_policy() &&
                      q_->attrs().redrive_policy().dead_letter_queue_name() == dlq_name;
    if (same || q_->deleted) {
      if (dlq && !dlq->deleted && !q_->deleted) {
        dlq_ = std::move(dlq);
      } else if (dlq) {
        dlq->mu.Unlock();
      }
      return;
    }
    if (dlq) dlq->mu.Unlock();
    q_->mu.Unlock();
  }
}

QueueService::QueueLock::QueueLock(const QueueService* service, QueuePtr q, std::try_to_lock_t)
    : q_(std::move(q)) {
  if (!q_->mu.TryLock()) return;
  if (q_->deleted || !q_->attrs().has_redrive_policy()) {  // the common case
    held_ = true;
    return;
  }
  const std::string dlq_name = q_->attrs().redrive_policy().dead_letter_queue_name();
  q_->mu.Unlock();  // the registry lock comes first
  QueuePtr dlq = service->FindOrNull(dlq_name);
  if (dlq == q_) dlq = nullptr;
  // Try-locks cannot deadlock, so the id order does not matter here.
  if (!q_->mu.TryLock()) return;
  if (dlq && !dlq->mu.TryLock()) {
    q_->mu.Unlock();
    return;
  }
  const bool same = !q_->deleted && q_->attrs().has_redrive_policy() &&
                    q_->attrs().redrive_policy().dead_letter_queue_name() == dlq_name;
  if (!same && !q_->deleted) {  // the policy changed meanwhile: let the blocking lock retry
    if (dlq) dlq->mu.Unlock();
    q_->mu.Unlock();
    return;
  }
  if (dlq && !dlq->deleted && !q_->deleted) {
    dlq_ = std::move(dlq);
  } else if (dlq) {
    dlq->mu.Unlock();
  }
  held_ = true;
}

QueueService::QueueLock::~QueueLock() {
  if (!held_) return;
  if (dlq_) dlq_->mu.Unlock();
  q_->mu.Unlock();
}

// ---- Lifecycle ----

std::vector<std::string> QueueService::ColumnFamilies() {
  return storage::QueueStore::ColumnFamilies();
}

QueueService::QueueService(Db* db, Clock* clock, Executor* executor, QueueEvents* events,
                           QueueServiceOptions options)
    : db_(db),
      clock_(clock),
      executor_(executor),
      events_(events),
      options_(std::move(options)),
      url_base_(options_.url_base),
      store_(db),
      lifeline_(Lifeline::Create(this, executor, clock)) {
  std::random_device rd;
  std::seed_seq seed{rd(), rd(), rd(), rd(), rd(), rd(), rd(), rd()};
  random_.seed(seed);
}

absl::StatusOr<std::unique_ptr<QueueService>> QueueService::Open(Db* db, Clock* clock,
                                                                 Executor* executor,
                                                                 QueueEvents* events,
                                                                 QueueServiceOptions options) {
  std::unique_ptr<QueueService> service(
      new QueueService(db, clock, executor, events, std::move(options)));
  TT_RETURN_IF_ERROR(service->Load());
  return service;
}

absl::Status QueueService::Load() {
  const int64_t now = NowMicros();
  TT_ASSIGN_OR_RETURN(uint64_t next_id, store_.NextQueueId());
  std::vector<QueuePtr> loaded;
  rocksdb::WriteBatch cleanup;
  TT_RETURN_IF_ERROR(store_.ForEachQueue([&](storage::QueueRecord record) -> absl::Status {
    const uint64_t id = record.id();
    next_id = std::max(next_id, id + 1);
    TT_ASSIGN_OR_RETURN(storage::QueueCounters counters, store_.Counters(id));
    auto q = std::make_shared<QueueState>(std::move(record), std::max<uint64_t>(1, counters.next_seq()));
    absl::MutexLock lock(&q->mu);
    std::unordered_map<uint64_t, storage::MessageState> states;
    TT_RETURN_IF_ERROR(store_.ForEachState(id, [&](uint64_t seq, storage::MessageState s) {
      states.emplace(seq, std::move(s));
      return absl::OkStatus();
    }));
    TT_RETURN_IF_ERROR(store_.ForEachMessage(id, [&](uint64_t seq, storage::MessageRecord rec) {
      IndexedMessage m;
      m.seq = seq;
      m.sent_micros = rec.sent_micros();
      m.visible_micros = rec.initial_visible_micros();
      m.group = rec.message_group_id();
      if (auto it = states.find(seq); it != states.end()) {
        m.visible_micros = it->second.visible_micros();
        m.receive_count = it->second.receive_count();
        m.first_receive_micros = it->second.first_receive_micros();
        m.receipt_token = it->second.receipt_token();
      }
      q->index.Add(std::move(m), now);
      q->next_seq = std::max(q->next_seq, seq + 1);
      return absl::OkStatus();
    }));
    TT_RETURN_IF_ERROR(store_.ForEachDedup(id, [&](std::string dedup_id, storage::DedupRecord r) {
      if (r.expires_micros() <= now) {
        store_.DeleteDedup(&cleanup, id, dedup_id);
        return absl::OkStatus();
      }
      q->next_seq = std::max(q->next_seq, r.seq() + 1);
      q->dedup_order.emplace_back(r.expires_micros(), dedup_id);
      q->dedup.emplace(std::move(dedup_id), DedupEntry{r.message_id(), r.seq(), r.expires_micros()});
      return absl::OkStatus();
    }));
    std::sort(q->dedup_order.begin(), q->dedup_order.end());
    loaded.push_back(std::move(q));
    return absl::OkStatus();
  }));
  if (cleanup.Count() > 0) TT_RETURN_IF_ERROR(store_.Write(&cleanup));
  {
    absl::MutexLock lock(&registry_mu_);
    next_queue_id_ = next_id;
    for (const auto& q : loaded) queues_.emplace(q->name, q);
  }
  for (const auto& q : loaded) {
    absl::MutexLock lock(&q->mu);
    ArmTimer(q);
  }
  return absl::OkStatus();
}

QueueService::~QueueService() {
  lifeline_->Detach();  // waits for timer work in progress
  AnswerAllWaiters(absl::UnavailableError("queues service shutting down"), /*cancel_queue_timers=*/true);
}

void QueueService::Drain() {
  AnswerAllWaiters(v1::ReceiveMessagesResponse(), /*cancel_queue_timers=*/false);
}

void QueueService::AnswerAllWaiters(const absl::StatusOr<v1::ReceiveMessagesResponse>& answer,
                                    bool cancel_queue_timers) {
  std::vector<QueuePtr> all;
  {
    absl::MutexLock lock(&registry_mu_);
    for (auto& [name, q] : queues_) all.push_back(q);
  }
  Deferred deferred;
  for (const auto& q : all) {
    absl::MutexLock lock(&q->mu);
    if (cancel_queue_timers && q->timer != 0) clock_->Cancel(q->timer);
    for (auto& w : q->waiters) {
      clock_->Cancel(w.timer);
      deferred.replies.emplace_back(std::move(w.done), answer);
    }
    q->waiters.clear();
  }
  for (auto& [done, result] : deferred.replies) done(std::move(result));
}

// ---- Registry ----

QueueService::QueuePtr QueueService::FindOrNull(const std::string& name) const {
  absl::MutexLock lock(&registry_mu_);
  auto it = queues_.find(name);
  return it == queues_.end() ? nullptr : it->second;
}

absl::StatusOr<QueueService::QueuePtr> QueueService::Find(const std::string& name) const {
  TT_RETURN_IF_ERROR(ValidateQueueName(name));
  QueuePtr q = FindOrNull(name);
  if (!q) return QueueDoesNotExist(name);
  return q;
}

absl::Status QueueService::CheckDeadLetterQueue(const std::string& name, bool fifo,
                                                const v1::QueueAttributes& requested) const {
  if (!requested.has_redrive_policy()) return absl::OkStatus();
  const std::string& dlq_name = requested.redrive_policy().dead_letter_queue_name();
  if (dlq_name.empty()) return absl::OkStatus();
  const char kField[] = "attributes.redrive_policy.dead_letter_queue_name";
  if (dlq_name == name) {
    return InvalidField(kField, "a queue cannot be its own dead-letter queue",
                        "InvalidAttributeValue");
  }
  QueuePtr dlq = FindOrNull(dlq_name);
  if (!dlq) {
    return InvalidField(kField, absl::StrCat("dead-letter queue ", dlq_name, " does not exist"),
                        "InvalidAttributeValue");
  }
  if (dlq->is_fifo != fifo) {
    return InvalidField(kField,
                        "the dead-letter queue must be of the same kind (FIFO or standard)",
                        "InvalidAttributeValue");
  }
  return absl::OkStatus();
}

int64_t QueueService::NowMicros() const { return ToMicros(clock_->Now()); }

std::string QueueService::NewMessageId() {
  uint64_t hi, lo;
  {
    absl::MutexLock lock(&random_mu_);
    hi = random_();
    lo = random_();
  }
  hi = (hi & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;  // version 4
  lo = (lo & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;  // RFC 4122 variant
  char buf[37];
  std::snprintf(buf, sizeof(buf), "%08x-%04x-%04x-%04x-%012llx",
                static_cast<unsigned>(hi >> 32), static_cast<unsigned>((hi >> 16) & 0xffff),
                static_cast<unsigned>(hi & 0xffff), static_cast<unsigned>(lo >> 48),
                static_cast<unsigned long long>(lo & 0xffffffffffffULL));
  return buf;
}

uint64_t QueueService::NewToken() {
  absl::MutexLock lock(&random_mu_);
  uint64_t t;
  do {
    t = random_();
  } while (t == 0);
  return t;
}

// ---- Queue operations ----

absl::StatusOr<v1::CreateQueueResponse> QueueService::CreateQueue(
    const v1::CreateQueueRequest& request) {
  const std::string& name = request.queue_name();
  TT_RETURN_IF_ERROR(ValidateQueueName(name));
  TT_ASSIGN_OR_RETURN(v1::QueueAttributes attrs, AttributesForCreate(name, request.attributes()));
  TT_RETURN_IF_ERROR(CheckDeadLetterQueue(name, attrs.fifo_queue(), attrs));
  v1::CreateQueueResponse response;
  response.set_queue_url(Url(name));

  absl::MutexLock lock(&registry_mu_);
  if (auto it = queues_.find(name); it != queues_.end()) {
    QueueState* q = it->second.get();
    absl::MutexLock qlock(&q->mu);
    if (q->attrs().SerializeAsString() != attrs.SerializeAsString()) {
      return ErrorWithReason(absl::StatusCode::kAlreadyExists, "QueueAlreadyExists",
                             absl::StrCat("queue ", name, " exists with different attributes"));
    }
    return response;
  }
  const int64_t now = NowMicros();
  storage::QueueRecord record;
  record.set_id(next_queue_id_);
  record.set_name(name);
  *record.mutable_attributes() = attrs;
  record.set_created_micros(now);
  record.set_modified_micros(now);
  rocksdb::WriteBatch batch;
  store_.PutQueue(&batch, record);
  store_.PutNextQueueId(&batch, next_queue_id_ + 1);
  store_.PutCounters(&batch, record.id(), 1);
  TT_RETURN_IF_ERROR(store_.Write(&batch));
  ++next_queue_id_;
  queues_.emplace(name, std::make_shared<QueueState>(std::move(record), 1));
  return response;
}

absl::StatusOr<v1::GetQueueUrlResponse> QueueService::GetQueueUrl(
    const v1::GetQueueUrlRequest& request) {
  TT_ASSIGN_OR_RETURN(QueuePtr q, Find(request.queue_name()));
  v1::GetQueueUrlResponse response;
  response.set_queue_url(Url(q->name));
  return response;
}

namespace {

absl::StatusOr<std::string> DecodePageToken(const std::string& token) {
  std::string name;
  if (!absl::WebSafeBase64Unescape(token, &name) || !ValidateQueueName(name).ok()) {
    return InvalidField("page_token", "not a next_page_token of a previous response");
  }
  return name;
}

std::string EncodePageToken(const std::string& name) {
  std::string out;
  absl::WebSafeBase64Escape(name, &out);
  return out;
}

}  // namespace

absl::StatusOr<v1::ListQueuesResponse> QueueService::ListQueues(
    const v1::ListQueuesRequest& request) {
  TT_ASSIGN_OR_RETURN(int page_size, ValidatePageSize(request.page_size()));
  const std::string& prefix = request.queue_name_prefix();
  std::string after;
  if (!request.page_token().empty()) {
    TT_ASSIGN_OR_RETURN(after, DecodePageToken(request.page_token()));
  }
  v1::ListQueuesResponse response;
  absl::MutexLock lock(&registry_mu_);
  auto it = after.empty() ? queues_.lower_bound(prefix) : queues_.upper_bound(after);
  if (!after.empty() && after < prefix) it = queues_.lower_bound(prefix);
  for (; it != queues_.end() && absl::StartsWith(it->first, prefix); ++it) {
    if (response.queues_size() == page_size) {
      response.set_next_page_token(EncodePageToken(response.queues(response.queues_size() - 1).name()));
      break;
    }
    auto* summary = response.add_queues();
    summary->set_name(it->first);
    summary->set_url(Url(it->first));
  }
  return response;
}

absl::StatusOr<v1::ListDeadLetterSourceQueuesResponse> QueueService::ListDeadLetterSourceQueues(
    const v1::ListDeadLetterSourceQueuesRequest& request) {
  TT_ASSIGN_OR_RETURN(QueuePtr dlq, Find(request.queue_name()));
  TT_ASSIGN_OR_RETURN(int page_size, ValidatePageSize(request.page_size()));
  std::string after;
  if (!request.page_token().empty()) {
    TT_ASSIGN_OR_RETURN(after, DecodePageToken(request.page_token()));
  }
  v1::ListDeadLetterSourceQueuesResponse response;
  absl::MutexLock lock(&registry_mu_);
  auto it = after.empty() ? queues_.begin() : queues_.upper_bound(after);
  for (; it != queues_.end(); ++it) {
    QueueState* q = it->second.get();
    bool source;
    {
      absl::MutexLock qlock(&q->mu);
      source = q->attrs().has_redrive_policy() &&
               q->attrs().redrive_policy().dead_letter_queue_name() == dlq->name;
    }
    if (!source) continue;
    if (response.queues_size() == page_size) {
      response.set_next_page_token(EncodePageToken(response.queues(response.queues_size() - 1).name()));
      break;
    }
    auto* summary = response.add_queues();
    summary->set_name(q->name);
    summary->set_url(Url(q->name));
  }
  return response;
}

absl::StatusOr<v1::GetQueueAttributesResponse> QueueService::GetQueueAttributes(
    const v1::GetQueueAttributesRequest& request) {
  TT_ASSIGN_OR_RETURN(QueuePtr q, Find(request.queue_name()));
  absl::MutexLock lock(&q->mu);
  if (q->deleted) return QueueDoesNotExist(q->name);
  q->index.Promote(NowMicros());
  v1::GetQueueAttributesResponse response;
  response.mutable_queue()->set_name(q->name);
  response.mutable_queue()->set_url(Url(q->name));
  *response.mutable_attributes() = q->attrs();
  response.set_approximate_number_of_messages(q->index.visible());
  response.set_approximate_number_of_messages_not_visible(q->index.in_flight());
  response.set_approximate_number_of_messages_delayed(q->index.delayed());
  SetTimestamp(q->record.created_micros(), response.mutable_created_time());
  SetTimestamp(q->record.modified_micros(), response.mutable_last_modified_time());
  response.set_queue_arn(Arn(q->name));
  return response;
}

absl::StatusOr<v1::SetQueueAttributesResponse> QueueService::SetQueueAttributes(
    const v1::SetQueueAttributesRequest& request) {
  TT_ASSIGN_OR_RETURN(QueuePtr q, Find(request.queue_name()));
  TT_RETURN_IF_ERROR(CheckDeadLetterQueue(q->name, q->is_fifo, request.attributes()));
  absl::MutexLock lock(&q->mu);
  if (q->deleted) return QueueDoesNotExist(q->name);
  TT_ASSIGN_OR_RETURN(v1::QueueAttributes merged, MergeAttributes(q->attrs(), request.attributes()));
  storage::QueueRecord record = q->record;
  *record.mutable_attributes() = std::move(merged);
  record.set_modified_micros(NowMicros());
  rocksdb::WriteBatch batch;
  store_.PutQueue(&batch, record);
  TT_RETURN_IF_ERROR(store_.Write(&batch));
  q->record = std::move(record);
  ArmTimer(q);  // retention may have shortened
  return v1::SetQueueAttributesResponse();
}

absl::StatusOr<v1::DeleteQueueResponse> QueueService::DeleteQueue(
    const v1::DeleteQueueRequest& request) {
  TT_RETURN_IF_ERROR(ValidateQueueName(request.queue_name()));
  Deferred deferred;
  {
    absl::MutexLock lock(&registry_mu_);
    auto it = queues_.find(request.queue_name());
    if (it == queues_.end()) return QueueDoesNotExist(request.queue_name());
    QueuePtr q = it->second;
    absl::MutexLock qlock(&q->mu);
    rocksdb::WriteBatch batch;
    store_.DeleteQueue(&batch, q->id, q->name);
    TT_RETURN_IF_ERROR(store_.Write(&batch));
    q->deleted = true;
    if (q->timer != 0) clock_->Cancel(q->timer);
    q->timer = 0;
    for (auto& w : q->waiters) {
      clock_->Cancel(w.timer);
      deferred.replies.emplace_back(std::move(w.done), QueueDoesNotExist(q->name));
    }
    q->waiters.clear();
    q->index.Clear();
    queues_.erase(it);
  }
  RunDeferred(&deferred);
  return v1::DeleteQueueResponse();
}

absl::StatusOr<v1::PurgeQueueResponse> QueueService::PurgeQueue(
    const v1::PurgeQueueRequest& request) {
  TT_ASSIGN_OR_RETURN(QueuePtr q, Find(request.queue_name()));
  absl::MutexLock lock(&q->mu);
  if (q->deleted) return QueueDoesNotExist(q->name);
  rocksdb::WriteBatch batch;
  store_.DeleteAllMessages(&batch, q->id);
  TT_RETURN_IF_ERROR(store_.Write(&batch));
  v1::PurgeQueueResponse response;
  response.set_purged_count(static_cast<int64_t>(q->index.size()));
  q->index.Clear();
  return response;
}

std::vector<QueueCounts> QueueService::Counts() const {
  std::vector<QueuePtr> all;
  {
    absl::MutexLock lock(&registry_mu_);
    for (const auto& [name, q] : queues_) all.push_back(q);
  }
  const int64_t now = NowMicros();
  std::vector<QueueCounts> out;
  out.reserve(all.size());
  for (const auto& q : all) {
    absl::MutexLock lock(&q->mu);
    if (q->deleted) continue;
    q->index.Promote(now);
    const std::optional<int64_t> earliest = q->index.EarliestSent();
    out.push_back(QueueCounts{q->name, q->index.visible(), q->index.in_flight(), q->index.delayed(),
                              earliest ? std::max<int64_t>(0, now - *earliest) / 1e6 : 0.0});
  }
  return out;
}

}  // namespace thingtank::queues
