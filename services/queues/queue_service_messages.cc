// Message operations of QueueService: send, receive (with long polling and
// redrive), delete and visibility changes.

#include <cstdio>
#include <mutex>
#include <optional>
#include <unordered_set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "services/common/log.h"
#include "services/common/status.h"
#include "services/queues/message_digest.h"
#include "services/queues/queue_service.h"
#include "services/queues/queue_service_internal.h"

namespace thingtank::queues {
namespace {

std::string SequenceNumber(uint64_t seq) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%020llu", static_cast<unsigned long long>(seq));
  return buf;
}

bool WantAttribute(const v1::ReceiveMessagesRequest& request, const std::string& name) {
  for (const std::string& want : request.message_attribute_names()) {
    if (want == "All" || want == ".*" || want == name) return true;
    if (absl::EndsWith(want, ".*") &&
        absl::StartsWith(name, absl::string_view(want).substr(0, want.size() - 1))) {
      return true;
    }
  }
  return false;
}

int64_t SizeOf(const std::string& body,
               const google::protobuf::Map<std::string, v1::MessageAttributeValue>& attrs) {
  int64_t n = static_cast<int64_t>(body.size());
  for (const auto& [name, v] : attrs) {
    n += static_cast<int64_t>(name.size() + v.data_type().size() + v.string_value().size() +
                              v.binary_value().size());
  }
  return n;
}

}  // namespace

bool SenderFault(const absl::Status& s) {
  switch (s.code()) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kOutOfRange:
    case absl::StatusCode::kAlreadyExists:
      return true;
    default:
      return false;
  }
}

void FillBatchError(const std::string& id, const absl::Status& s, v1::BatchResultErrorEntry* e) {
  e->set_id(id);
  e->set_code(ErrorReason(s));
  e->set_message(std::string(s.message()));
  e->set_sender_fault(SenderFault(s));
}

// ---- Send ----

void QueueService::StageDedupExpiry(const QueueState& q, int64_t now,
                                    rocksdb::WriteBatch* batch) {
  for (const auto& [expires, id] : q.dedup_order) {
    if (expires > now) break;
    auto it = q.dedup.find(id);
    if (it != q.dedup.end() && it->second.expires_micros == expires) {
      store_.DeleteDedup(batch, q.id, id);
    }
  }
}

void QueueService::ForgetExpiredDedup(QueueState* q, int64_t now) {
  while (!q->dedup_order.empty() && q->dedup_order.front().first <= now) {
    const auto& [expires, id] = q->dedup_order.front();
    auto it = q->dedup.find(id);
    if (it != q->dedup.end() && it->second.expires_micros == expires) q->dedup.erase(it);
    q->dedup_order.pop_front();
  }
}

absl::Status QueueService::SendMany(QueueState* q, const std::vector<MessageInput>& inputs,
                                    std::vector<absl::StatusOr<SendResult>>* results,
                                    Deferred* deferred, bool non_blocking) {
  const int64_t now = NowMicros();
  const v1::QueueAttributes& attrs = q->attrs();
  rocksdb::WriteBatch batch;
  // Deduplication entries past their window go, with their stored copies
  // (from memory only once the batch is written, so that a refused
  // non-blocking attempt leaves the queue as it was).
  StageDedupExpiry(*q, now, &batch);
  uint64_t next_seq = q->next_seq;
  std::vector<IndexedMessage> added;
  std::unordered_map<std::string, DedupEntry> new_dedup;
  results->clear();
  for (const MessageInput& in : inputs) {
    int64_t size = 0;
    absl::Status valid = ValidateMessage(in, attrs, in.field_prefix, &size);
    if (!valid.ok()) {
      results->push_back(valid);
      continue;
    }
    SendResult r;
    r.md5_body = in.md5_body.empty() ? Md5Hex(*in.body) : in.md5_body;
    r.md5_attributes =
        in.md5_attributes.empty() ? MessageAttributesMd5(*in.attributes) : in.md5_attributes;
    std::string dedup_id;
    if (q->is_fifo) {
      dedup_id = in.dedup_id->empty() ? Sha256Hex(*in.body) : *in.dedup_id;
      const DedupEntry* dup = nullptr;
      if (auto it = new_dedup.find(dedup_id); it != new_dedup.end()) dup = &it->second;
      if (auto it = q->dedup.find(dedup_id);
          dup == nullptr && it != q->dedup.end() && it->second.expires_micros > now) {
        dup = &it->second;
      }
      if (dup != nullptr) {
        r.message_id = dup->message_id;
        r.sequence_number = SequenceNumber(dup->seq);
        results->push_back(std::move(r));
        continue;
      }
    }
    const uint64_t seq = next_seq++;
    const absl::Duration delay = in.delay != nullptr && !q->is_fifo ? ToDuration(*in.delay)
                                                                    : ToDuration(attrs.delay());
    storage::MessageRecord record;
    record.set_message_id(NewMessageId());
    record.set_body(*in.body);
    *record.mutable_message_attributes() = *in.attributes;
    record.set_md5_of_body(r.md5_body);
    record.set_md5_of_message_attributes(r.md5_attributes);
    record.set_sent_micros(now);
    record.set_initial_visible_micros(now + absl::ToInt64Microseconds(delay));
    if (q->is_fifo) {
      record.set_message_group_id(*in.group_id);
      record.set_message_deduplication_id(dedup_id);
      DedupEntry entry{record.message_id(), seq,
                       now + absl::ToInt64Microseconds(kDedupWindow)};
      storage::DedupRecord dr;
      dr.set_message_id(entry.message_id);
      dr.set_seq(seq);
      dr.set_expires_micros(entry.expires_micros);
      store_.PutDedup(&batch, q->id, dedup_id, dr);
      new_dedup.emplace(dedup_id, std::move(entry));
      r.sequence_number = SequenceNumber(seq);
    }
    store_.PutMessage(&batch, q->id, seq, record);
    r.message_id = record.message_id();
    IndexedMessage m;
    m.seq = seq;
    m.sent_micros = now;
    m.visible_micros = record.initial_visible_micros();
    m.group = record.message_group_id();
    added.push_back(std::move(m));
    results->push_back(std::move(r));
  }
  if (added.empty()) {
    // Only expired deduplication entries to forget (best effort: Open also
    // drops expired ones).
    // A refused non-blocking write is retried by a later call.
    if (batch.Count() > 0) {
      if (absl::Status s = store_.Write(&batch, non_blocking); s.ok()) {
        ForgetExpiredDedup(q, now);
      } else if (!IsWouldBlock(s)) {
        TT_LOG_WARN("queues: cannot forget expired deduplication entries of {}: {}", q->name,
                    s.ToString());
      }
    }
    return absl::OkStatus();
  }
  store_.PutCounters(&batch, q->id, next_seq);
  TT_RETURN_IF_ERROR(store_.Write(&batch, non_blocking));
  // Nothing in memory changed before this point.
  ForgetExpiredDedup(q, now);
  q->next_seq = next_seq;
  for (auto& m : added) q->index.Add(std::move(m), now);
  for (auto& [id, entry] : new_dedup) {
    q->dedup_order.emplace_back(entry.expires_micros, id);
    q->dedup.insert_or_assign(id, std::move(entry));
  }
  if (events_ != nullptr) {
    deferred->events.push_back([events = events_, name = q->name, n = added.size()] {
      events->OnSent(name, static_cast<int64_t>(n));
    });
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::SendMessageResponse> QueueService::SendMessage(
    const v1::SendMessageRequest& request) {
  return DoSendMessage(request, /*non_blocking=*/false);
}

absl::StatusOr<v1::SendMessageResponse> QueueService::SendMessageNonBlocking(
    const v1::SendMessageRequest& request) {
  return DoSendMessage(request, /*non_blocking=*/true);
}

absl::StatusOr<v1::SendMessageResponse> QueueService::DoSendMessage(
    const v1::SendMessageRequest& request, bool non_blocking) {
  TT_ASSIGN_OR_RETURN(QueuePtr qp, Find(request.queue_name()));
  // The digests are pure functions of the input: computed before the lock,
  // which every send and receive of the queue contends for.
  MessageInput in{&request.message_body(),
                  &request.message_attributes(),
                  request.has_delay() ? &request.delay() : nullptr,
                  &request.message_group_id(),
                  &request.message_deduplication_id(),
                  "",
                  Md5Hex(request.message_body()),
                  MessageAttributesMd5(request.message_attributes())};
  std::vector<absl::StatusOr<SendResult>> results;
  Deferred deferred;
  {
    std::optional<QueueLock> lock;
    if (non_blocking) {
      lock.emplace(this, qp, std::try_to_lock);
      if (!lock->held()) return WouldBlock();
    } else {
      lock.emplace(this, qp);
    }
    QueueState* q = lock->q();
    if (q->deleted) return QueueDoesNotExist(q->name);
    TT_RETURN_IF_ERROR(SendMany(q, {in}, &results, &deferred, non_blocking));
    if (results[0].ok()) {
      ServeWaiters(q, lock->dlq(), &deferred, non_blocking);
      ArmTimer(qp);
    }
  }
  RunDeferred(&deferred);
  TT_RETURN_IF_ERROR(results[0].status());
  v1::SendMessageResponse response;
  response.set_message_id(results[0]->message_id);
  response.set_md5_of_message_body(results[0]->md5_body);
  response.set_md5_of_message_attributes(results[0]->md5_attributes);
  response.set_sequence_number(results[0]->sequence_number);
  return response;
}

absl::StatusOr<v1::SendMessageBatchResponse> QueueService::SendMessageBatch(
    const v1::SendMessageBatchRequest& request) {
  return DoSendMessageBatch(request, /*non_blocking=*/false);
}

absl::StatusOr<v1::SendMessageBatchResponse> QueueService::SendMessageBatchNonBlocking(
    const v1::SendMessageBatchRequest& request) {
  return DoSendMessageBatch(request, /*non_blocking=*/true);
}

absl::StatusOr<v1::SendMessageBatchResponse> QueueService::DoSendMessageBatch(
    const v1::SendMessageBatchRequest& request, bool non_blocking) {
  TT_ASSIGN_OR_RETURN(QueuePtr qp, Find(request.queue_name()));
  std::vector<const std::string*> ids;
  int64_t total = 0;
  for (const auto& e : request.entries()) {
    ids.push_back(&e.id());
    total += SizeOf(e.message_body(), e.message_attributes());
  }
  TT_RETURN_IF_ERROR(ValidateBatchIds(ids));
  if (total > kMaxBatchBytes) {
    return InvalidField("entries",
                        absl::StrCat("the batch totals ", total, " bytes, more than ",
                                     kMaxBatchBytes),
                        "BatchRequestTooLong");
  }
  std::vector<MessageInput> inputs;
  for (int i = 0; i < request.entries_size(); ++i) {
    const auto& e = request.entries(i);
    inputs.push_back(MessageInput{&e.message_body(), &e.message_attributes(),
                                  e.has_delay() ? &e.delay() : nullptr, &e.message_group_id(),
                                  &e.message_deduplication_id(),
                                  absl::StrCat("entries[", i, "]."), Md5Hex(e.message_body()),
                                  MessageAttributesMd5(e.message_attributes())});
  }
  std::vector<absl::StatusOr<SendResult>> results;
  Deferred deferred;
  {
    std::optional<QueueLock> lock;
    if (non_blocking) {
      lock.emplace(this, qp, std::try_to_lock);
      if (!lock->held()) return WouldBlock();
    } else {
      lock.emplace(this, qp);
    }
    QueueState* q = lock->q();
    if (q->deleted) return QueueDoesNotExist(q->name);
    TT_RETURN_IF_ERROR(SendMany(q, inputs, &results, &deferred, non_blocking));
    ServeWaiters(q, lock->dlq(), &deferred, non_blocking);
    ArmTimer(qp);
  }
  RunDeferred(&deferred);
  v1::SendMessageBatchResponse response;
  for (int i = 0; i < request.entries_size(); ++i) {
    const std::string& id = request.entries(i).id();
    if (!results[i].ok()) {
      FillBatchError(id, results[i].status(), response.add_failed());
      continue;
    }
    auto* ok = response.add_successful();
    ok->set_id(id);
    ok->set_message_id(results[i]->message_id);
    ok->set_md5_of_message_body(results[i]->md5_body);
    ok->set_md5_of_message_attributes(results[i]->md5_attributes);
    ok->set_sequence_number(results[i]->sequence_number);
  }
  return response;
}

// ---- Receive ----

absl::Status QueueService::ValidateReceive(const v1::ReceiveMessagesRequest& request) const {
  if (request.max_number_of_messages() < 0 || request.max_number_of_messages() > 10) {
    return InvalidField("max_number_of_messages", "must be 1 to 10 (0 means 1)");
  }
  if (request.has_visibility_timeout()) {
    TT_RETURN_IF_ERROR(ValidateDuration(request.visibility_timeout(), absl::ZeroDuration(),
                                        kMaxVisibilityTimeout, "visibility_timeout"));
  }
  if (request.has_wait_time()) {
    TT_RETURN_IF_ERROR(
        ValidateDuration(request.wait_time(), absl::ZeroDuration(), kMaxWaitTime, "wait_time"));
  }
  return absl::OkStatus();
}

void QueueService::ReceiveMessages(const v1::ReceiveMessagesRequest& request,
                                   ReceiveCallback done,
                                   std::function<bool()> cancelled) {
  absl::StatusOr<QueuePtr> found = Find(request.queue_name());
  if (!found.ok()) return done(found.status());
  if (absl::Status s = ValidateReceive(request); !s.ok()) return done(s);
  QueuePtr qp = *std::move(found);
  Deferred deferred;
  absl::StatusOr<v1::ReceiveMessagesResponse> result;
  bool waiting = false;
  {
    QueueLock lock(this, qp);
    QueueState* q = lock.q();
    if (q->deleted) {
      result = QueueDoesNotExist(q->name);
    } else {
      const absl::Duration visibility = request.has_visibility_timeout()
                                            ? ToDuration(request.visibility_timeout())
                                            : ToDuration(q->attrs().visibility_timeout());
      const absl::Duration wait = request.has_wait_time()
                                      ? ToDuration(request.wait_time())
                                      : ToDuration(q->attrs().receive_message_wait_time());
      v1::ReceiveMessagesResponse response;
      absl::Status status = Maintain(q, &deferred);
      if (status.ok()) {
        status = ReceiveNow(q, lock.dlq(), request, absl::ToInt64Microseconds(visibility),
                            &response, &deferred);
      }
      if (!status.ok()) {
        result = status;
      } else if (response.messages_size() > 0 || wait <= absl::ZeroDuration()) {
        result = std::move(response);
      } else {
        waiting = true;
        Waiter w;
        w.id = next_waiter_id_.fetch_add(1);
        w.request = request;
        w.visibility_micros = absl::ToInt64Microseconds(visibility);
        w.done = std::move(done);
        w.cancelled = std::move(cancelled);
        std::weak_ptr<QueueState> weak = qp;
        std::shared_ptr<Lifeline> life = lifeline_;
        // Answered on the clock thread: a timeout touches no storage.
        w.timer = clock_->RunAt(clock_->Now() + wait, [life, weak, id = w.id] {
          life->RunIfAlive([&](QueueService* s) { s->OnWaiterTimeout(weak, id); });
        });
        q->waiters.push_back(std::move(w));
      }
      ArmTimer(qp);
    }
  }
  RunDeferred(&deferred);
  if (!waiting) done(std::move(result));
}

absl::StatusOr<v1::ReceiveMessagesResponse> QueueService::ReceiveMessagesNonBlocking(
    const v1::ReceiveMessagesRequest& request) {
  TT_ASSIGN_OR_RETURN(QueuePtr qp, Find(request.queue_name()));
  TT_RETURN_IF_ERROR(ValidateReceive(request));
  Deferred deferred;
  deferred.post_pokes = true;
  v1::ReceiveMessagesResponse response;
  absl::Status status;
  bool park = false;
  {
    QueueLock lock(this, qp, std::try_to_lock);
    if (!lock.held()) return WouldBlock();
    QueueState* q = lock.q();
    if (q->deleted) return QueueDoesNotExist(q->name);
    const absl::Duration visibility = request.has_visibility_timeout()
                                          ? ToDuration(request.visibility_timeout())
                                          : ToDuration(q->attrs().visibility_timeout());
    const absl::Duration wait = request.has_wait_time()
                                    ? ToDuration(request.wait_time())
                                    : ToDuration(q->attrs().receive_message_wait_time());
    status = Maintain(q, &deferred, /*non_blocking=*/true);
    if (status.ok()) {
      status = ReceiveNow(q, lock.dlq(), request, absl::ToInt64Microseconds(visibility), &response,
                          &deferred, /*non_blocking=*/true);
    }
    if (IsWouldBlock(status)) return status;
    // Nothing ready and a wait asked for: ReceiveMessages parks it. (Anything
    // this attempt did -- a redrive -- is committed and stays.)
    park = status.ok() && response.messages_size() == 0 && wait > absl::ZeroDuration();
    ArmTimer(qp);
  }
  RunDeferred(&deferred);
  if (park) return WouldBlock();
  TT_RETURN_IF_ERROR(status);
  return response;
}

v1::Message QueueService::BuildMessage(const QueueState& q, uint64_t seq, const IndexedMessage& m,
                                       const storage::MessageRecord& record,
                                       const v1::ReceiveMessagesRequest& request) const {
  v1::Message out;
  out.set_message_id(record.message_id());
  out.set_receipt_handle(EncodeReceiptHandle({q.id, seq, m.receipt_token}));
  out.set_body(record.body());
  out.set_md5_of_body(record.md5_of_body());
  out.set_md5_of_message_attributes(record.md5_of_message_attributes());
  for (const auto& [name, value] : record.message_attributes()) {
    if (WantAttribute(request, name)) (*out.mutable_message_attributes())[name] = value;
  }
  auto* sys = out.mutable_attributes();
  sys->set_approximate_receive_count(m.receive_count);
  SetTimestamp(record.sent_micros(), sys->mutable_sent_timestamp());
  SetTimestamp(m.first_receive_micros, sys->mutable_approximate_first_receive_timestamp());
  sys->set_message_group_id(record.message_group_id());
  sys->set_message_deduplication_id(record.message_deduplication_id());
  if (q.is_fifo) sys->set_sequence_number(SequenceNumber(seq));
  sys->set_dead_letter_queue_source_arn(record.dead_letter_queue_source_arn());
  return out;
}

absl::Status QueueService::ReceiveNow(QueueState* q, QueueState* dlq,
                                      const v1::ReceiveMessagesRequest& request,
                                      int64_t visibility_micros, v1::ReceiveMessagesResponse* out,
                                      Deferred* deferred, bool non_blocking) {
  const int64_t limit =
      q->is_fifo ? options_.max_in_flight_fifo : options_.max_in_flight_standard;
  if (q->index.in_flight() >= limit) {
    return QuotaExceeded("OverLimit", q->name,
                         absl::StrCat("queue ", q->name, " has ", q->index.in_flight(),
                                      " messages in flight, the maximum"),
                         absl::Seconds(1));
  }
  const size_t max = request.max_number_of_messages() == 0
                         ? 1
                         : static_cast<size_t>(request.max_number_of_messages());
  const int64_t now = NowMicros();
  const int64_t max_receives =
      dlq != nullptr ? q->attrs().redrive_policy().max_receive_count() : 0;
  rocksdb::WriteBatch batch;
  std::vector<IndexedMessage> before;  // for rollback
  std::vector<std::pair<uint64_t, storage::MessageRecord>> received;
  std::vector<std::pair<IndexedMessage, storage::MessageRecord>> redriven;
  auto rollback = [&] {
    for (auto it = before.rbegin(); it != before.rend(); ++it) {
      q->index.Remove(it->seq);
      q->index.Add(*it, now);
    }
  };
  while (received.size() < max) {
    std::vector<uint64_t> candidates = q->index.Candidates(max - received.size());
    if (candidates.empty()) break;
    for (uint64_t seq : candidates) {
      const IndexedMessage& m = *q->index.Find(seq);
      absl::StatusOr<storage::MessageRecord> record = store_.GetMessage(q->id, seq, non_blocking);
      if (!record.ok()) {
        rollback();
        return record.status();
      }
      before.push_back(m);
      if (dlq != nullptr && m.receive_count >= max_receives) {
        // The (maxReceiveCount+1)-th receive: move to the dead-letter queue
        // instead, keeping id, body, attributes and sent time.
        IndexedMessage moved;
        moved.seq = dlq->next_seq + redriven.size();
        moved.sent_micros = m.sent_micros;
        moved.visible_micros = now;
        moved.group = m.group;
        record->set_dead_letter_queue_source_arn(Arn(q->name));
        record->set_initial_visible_micros(now);
        store_.PutMessage(&batch, dlq->id, moved.seq, *record);
        store_.DeleteMessage(&batch, q->id, seq);
        q->index.Remove(seq);
        redriven.emplace_back(std::move(moved), *std::move(record));
        continue;
      }
      q->index.MarkReceived(seq, now + visibility_micros, NewToken(), now);
      const IndexedMessage& r = *q->index.Find(seq);
      storage::MessageState state;
      state.set_receive_count(r.receive_count);
      state.set_visible_micros(r.visible_micros);
      state.set_first_receive_micros(r.first_receive_micros);
      state.set_receipt_token(r.receipt_token);
      store_.PutState(&batch, q->id, seq, state);
      received.emplace_back(seq, *std::move(record));
    }
  }
  if (received.empty() && redriven.empty()) return absl::OkStatus();
  if (!redriven.empty()) store_.PutCounters(&batch, dlq->id, dlq->next_seq + redriven.size());
  if (absl::Status s = store_.Write(&batch, non_blocking); !s.ok()) {
    rollback();
    return s;
  }
  for (const auto& [seq, record] : received) {
    *out->add_messages() = BuildMessage(*q, seq, *q->index.Find(seq), record, request);
  }
  if (!redriven.empty()) {
    dlq->next_seq += redriven.size();
    for (auto& [m, record] : redriven) dlq->index.Add(std::move(m), now);
  }
  if (events_ != nullptr) {
    const int64_t n_received = static_cast<int64_t>(received.size());
    const int64_t n_redriven = static_cast<int64_t>(redriven.size());
    deferred->events.push_back([events = events_, name = q->name, n_received, n_redriven] {
      if (n_redriven > 0) events->OnRedriven(name, n_redriven);
      if (n_received > 0) events->OnReceived(name, n_received);
    });
  }
  if (!redriven.empty()) {
    deferred->pokes.push_back(dlq->shared_from_this());
    if (non_blocking) deferred->post_pokes = true;
  }
  return absl::OkStatus();
}

void QueueService::ServeWaiters(QueueState* q, QueueState* dlq, Deferred* deferred,
                                bool non_blocking) {
  while (!q->waiters.empty() && !q->index.Candidates(1).empty()) {
    Waiter& w = q->waiters.front();
    if (w.cancelled && w.cancelled()) {
      clock_->Cancel(w.timer);
      deferred->replies.emplace_back(std::move(w.done),
                                     absl::CancelledError("the receive was cancelled"));
      q->waiters.pop_front();
      continue;
    }
    v1::ReceiveMessagesResponse response;
    absl::Status status =
        ReceiveNow(q, dlq, w.request, w.visibility_micros, &response, deferred, non_blocking);
    if (IsWouldBlock(status)) {
      // The waiter stays; a Poke on the executor serves it.
      deferred->pokes.push_back(q->shared_from_this());
      deferred->post_pokes = true;
      return;
    }
    if (status.ok() && response.messages_size() == 0) continue;  // all redriven; try again
    clock_->Cancel(w.timer);
    if (status.ok()) {
      deferred->replies.emplace_back(std::move(w.done), std::move(response));
    } else {
      deferred->replies.emplace_back(std::move(w.done), status);
    }
    q->waiters.pop_front();
  }
}

}  // namespace thingtank::queues
