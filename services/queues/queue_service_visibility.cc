// Delete and visibility operations of QueueService.

#include <mutex>
#include <optional>
#include <unordered_set>

#include "absl/strings/str_cat.h"
#include "services/common/status.h"
#include "services/queues/queue_service.h"
#include "services/queues/queue_service_internal.h"

namespace thingtank::queues {

// ---- Delete and visibility ----

absl::StatusOr<ReceiptHandle> QueueService::CheckHandle(const QueueState& q,
                                                        const std::string& handle,
                                                        const std::string& field) const {
  std::optional<ReceiptHandle> decoded = DecodeReceiptHandle(handle);
  if (!decoded || decoded->queue_id != q.id) {
    return InvalidField(field, absl::StrCat("not a receipt handle of queue ", q.name),
                        "ReceiptHandleIsInvalid");
  }
  return *decoded;
}

bool QueueService::StageDelete(QueueState* q, const ReceiptHandle& handle,
                               rocksdb::WriteBatch* batch) {
  const IndexedMessage* m = q->index.Find(handle.seq);
  // Already deleted, or received again since this handle was issued: SQS
  // reports success without deleting.
  if (m == nullptr || m->receipt_token != handle.token) return false;
  store_.DeleteMessage(batch, q->id, handle.seq);
  return true;
}

absl::Status QueueService::CheckInFlight(QueueState* q, const ReceiptHandle& handle) {
  const IndexedMessage* m = q->index.Find(handle.seq);
  if (m == nullptr || m->receipt_token != handle.token ||
      m->state != DeliveryState::kInFlight) {
    return ErrorWithReason(absl::StatusCode::kFailedPrecondition, "MessageNotInflight",
                           "the message is not in flight under this receipt handle");
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::DeleteMessageResponse> QueueService::DeleteMessage(
    const v1::DeleteMessageRequest& request) {
  return DoDeleteMessage(request, /*non_blocking=*/false);
}

absl::StatusOr<v1::DeleteMessageResponse> QueueService::DeleteMessageNonBlocking(
    const v1::DeleteMessageRequest& request) {
  return DoDeleteMessage(request, /*non_blocking=*/true);
}

absl::StatusOr<v1::DeleteMessageResponse> QueueService::DoDeleteMessage(
    const v1::DeleteMessageRequest& request, bool non_blocking) {
  TT_ASSIGN_OR_RETURN(QueuePtr q, Find(request.queue_name()));
  {
    MaybeTryLock lock(&q->mu, non_blocking);
    if (!lock.held()) return WouldBlock();
    if (q->deleted) return QueueDoesNotExist(q->name);
    TT_ASSIGN_OR_RETURN(ReceiptHandle handle,
                        CheckHandle(*q, request.receipt_handle(), "receipt_handle"));
    rocksdb::WriteBatch batch;
    if (!StageDelete(q.get(), handle, &batch)) return v1::DeleteMessageResponse();
    TT_RETURN_IF_ERROR(store_.Write(&batch, non_blocking));
    q->index.Remove(handle.seq);
  }
  if (events_ != nullptr) events_->OnDeleted(q->name, 1);
  return v1::DeleteMessageResponse();
}

absl::StatusOr<v1::DeleteMessageBatchResponse> QueueService::DeleteMessageBatch(
    const v1::DeleteMessageBatchRequest& request) {
  return DoDeleteMessageBatch(request, /*non_blocking=*/false);
}

absl::StatusOr<v1::DeleteMessageBatchResponse> QueueService::DeleteMessageBatchNonBlocking(
    const v1::DeleteMessageBatchRequest& request) {
  return DoDeleteMessageBatch(request, /*non_blocking=*/true);
}

absl::StatusOr<v1::DeleteMessageBatchResponse> QueueService::DoDeleteMessageBatch(
    const v1::DeleteMessageBatchRequest& request, bool non_blocking) {
  TT_ASSIGN_OR_RETURN(QueuePtr q, Find(request.queue_name()));
  std::vector<const std::string*> ids;
  for (const auto& e : request.entries()) ids.push_back(&e.id());
  TT_RETURN_IF_ERROR(ValidateBatchIds(ids));
  v1::DeleteMessageBatchResponse response;
  int64_t deleted = 0;
  {
    MaybeTryLock lock(&q->mu, non_blocking);
    if (!lock.held()) return WouldBlock();
    if (q->deleted) return QueueDoesNotExist(q->name);
    rocksdb::WriteBatch batch;
    std::vector<uint64_t> staged;
    std::unordered_set<uint64_t> seen;
    for (int i = 0; i < request.entries_size(); ++i) {
      const auto& e = request.entries(i);
      absl::StatusOr<ReceiptHandle> handle =
          CheckHandle(*q, e.receipt_handle(), absl::StrCat("entries[", i, "].receipt_handle"));
      if (!handle.ok()) {
        FillBatchError(e.id(), handle.status(), response.add_failed());
        continue;
      }
      if (seen.insert(handle->seq).second && StageDelete(q.get(), *handle, &batch)) {
        staged.push_back(handle->seq);
      }
      response.add_successful(e.id());
    }
    if (!staged.empty()) {
      TT_RETURN_IF_ERROR(store_.Write(&batch, non_blocking));
      for (uint64_t seq : staged) q->index.Remove(seq);
      deleted = static_cast<int64_t>(staged.size());
    }
  }
  if (events_ != nullptr && deleted > 0) events_->OnDeleted(q->name, deleted);
  return response;
}

absl::StatusOr<v1::ChangeMessageVisibilityResponse> QueueService::ChangeMessageVisibility(
    const v1::ChangeMessageVisibilityRequest& request) {
  return DoChangeMessageVisibility(request, /*non_blocking=*/false);
}

absl::StatusOr<v1::ChangeMessageVisibilityResponse>
QueueService::ChangeMessageVisibilityNonBlocking(const v1::ChangeMessageVisibilityRequest& request) {
  return DoChangeMessageVisibility(request, /*non_blocking=*/true);
}

absl::StatusOr<v1::ChangeMessageVisibilityResponse> QueueService::DoChangeMessageVisibility(
    const v1::ChangeMessageVisibilityRequest& request, bool non_blocking) {
  TT_ASSIGN_OR_RETURN(QueuePtr qp, Find(request.queue_name()));
  TT_RETURN_IF_ERROR(ValidateDuration(request.visibility_timeout(), absl::ZeroDuration(),
                                      kMaxVisibilityTimeout, "visibility_timeout"));
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
    TT_ASSIGN_OR_RETURN(ReceiptHandle handle,
                        CheckHandle(*q, request.receipt_handle(), "receipt_handle"));
    const int64_t now = NowMicros();
    q->index.Promote(now);
    TT_RETURN_IF_ERROR(CheckInFlight(q, handle));
    const IndexedMessage& m = *q->index.Find(handle.seq);
    const int64_t visible =
        now + absl::ToInt64Microseconds(ToDuration(request.visibility_timeout()));
    storage::MessageState state;
    state.set_receive_count(m.receive_count);
    state.set_visible_micros(visible);
    state.set_first_receive_micros(m.first_receive_micros);
    state.set_receipt_token(m.receipt_token);
    rocksdb::WriteBatch batch;
    store_.PutState(&batch, q->id, handle.seq, state);
    TT_RETURN_IF_ERROR(store_.Write(&batch, non_blocking));
    q->index.SetVisibleAt(handle.seq, visible);
    q->index.Promote(now);
    ServeWaiters(q, lock->dlq(), &deferred, non_blocking);
    ArmTimer(qp);
  }
  RunDeferred(&deferred);
  return v1::ChangeMessageVisibilityResponse();
}

absl::StatusOr<v1::ChangeMessageVisibilityBatchResponse>
QueueService::ChangeMessageVisibilityBatch(const v1::ChangeMessageVisibilityBatchRequest& request) {
  TT_ASSIGN_OR_RETURN(QueuePtr qp, Find(request.queue_name()));
  std::vector<const std::string*> ids;
  for (const auto& e : request.entries()) ids.push_back(&e.id());
  TT_RETURN_IF_ERROR(ValidateBatchIds(ids));
  v1::ChangeMessageVisibilityBatchResponse response;
  Deferred deferred;
  {
    QueueLock lock(this, qp);
    QueueState* q = lock.q();
    if (q->deleted) return QueueDoesNotExist(q->name);
    const int64_t now = NowMicros();
    q->index.Promote(now);
    rocksdb::WriteBatch batch;
    std::vector<std::pair<uint64_t, int64_t>> staged;  // seq, visible_micros
    std::unordered_set<uint64_t> seen;
    std::vector<int> ok_entries;
    for (int i = 0; i < request.entries_size(); ++i) {
      const auto& e = request.entries(i);
      const std::string prefix = absl::StrCat("entries[", i, "].");
      absl::StatusOr<ReceiptHandle> handle =
          CheckHandle(*q, e.receipt_handle(), prefix + "receipt_handle");
      absl::Status s = handle.status();
      if (s.ok()) {
        s = ValidateDuration(e.visibility_timeout(), absl::ZeroDuration(), kMaxVisibilityTimeout,
                             prefix + "visibility_timeout");
      }
      if (s.ok()) s = CheckInFlight(q, *handle);
      if (!s.ok()) {
        FillBatchError(e.id(), s, response.add_failed());
        continue;
      }
      const int64_t visible = now + absl::ToInt64Microseconds(ToDuration(e.visibility_timeout()));
      if (seen.insert(handle->seq).second) {
        staged.emplace_back(handle->seq, visible);
      } else {
        for (auto& st : staged) {
          if (st.first == handle->seq) st.second = visible;  // last entry wins
        }
      }
      ok_entries.push_back(i);
    }
    for (const auto& [seq, visible] : staged) {
      const IndexedMessage& m = *q->index.Find(seq);
      storage::MessageState state;
      state.set_receive_count(m.receive_count);
      state.set_visible_micros(visible);
      state.set_first_receive_micros(m.first_receive_micros);
      state.set_receipt_token(m.receipt_token);
      store_.PutState(&batch, q->id, seq, state);
    }
    if (!staged.empty()) TT_RETURN_IF_ERROR(store_.Write(&batch));
    for (const auto& [seq, visible] : staged) q->index.SetVisibleAt(seq, visible);
    for (int i : ok_entries) response.add_successful(request.entries(i).id());
    q->index.Promote(now);
    ServeWaiters(q, lock.dlq(), &deferred);
    ArmTimer(qp);
  }
  RunDeferred(&deferred);
  return response;
}

}  // namespace thingtank::queues
