#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "services/common/clock.h"
#include "services/common/executor.h"
#include "services/common/lifeline.h"
#include "services/common/storage/db.h"
#include "services/queues/queue_state.h"
#include "services/queues/receipt_handle.h"
#include "services/queues/validation.h"
#include "services/queues/storage/queue_store.h"
#include "thingtank/queues/v1/queues.pb.h"

namespace thingtank::queues {

// Observer of domain events, implemented by the metrics class
// (services/queues/metrics.h). Called outside queue locks, from whichever
// thread did the work; implementations must be thread-safe and cheap.
class QueueEvents {
 public:
  virtual ~QueueEvents() = default;
  virtual void OnSent(const std::string& queue, int64_t n) = 0;
  virtual void OnReceived(const std::string& queue, int64_t n) = 0;
  virtual void OnDeleted(const std::string& queue, int64_t n) = 0;
  // Messages moved to the dead-letter queue (named by source queue).
  virtual void OnRedriven(const std::string& queue, int64_t n) = 0;
  // Messages removed because their retention period passed.
  virtual void OnExpired(const std::string& queue, int64_t n) = 0;
};

// Approximate message counts of one queue, for metrics gauges.
struct QueueCounts {
  std::string queue;
  int64_t visible = 0;
  int64_t in_flight = 0;
  int64_t delayed = 0;
  double oldest_message_age_seconds = 0;  // 0 when empty (SQS ApproximateAgeOfOldestMessage)
};

struct QueueServiceOptions {
  int64_t max_in_flight_standard = 120000;
  int64_t max_in_flight_fifo = 20000;
  // Where queue URLs point until SetUrlBase (serve sets the address where the
  // queues are reachable once it listens).
  std::string url_base = "http://localhost:4566/000000000000/";
  std::string arn_prefix = "arn:aws:sqs:us-east-1:000000000000:";
};

// The queues domain: Amazon SQS semantics over RocksDB, free of gRPC types.
//
// Owns an in-memory index per queue (rebuilt from RocksDB at Open) and one
// maintenance timer per queue. Every method is thread-safe and blocks on
// RocksDB: run it on an executor, never on a gRPC reactor thread. Every change
// is committed in one WriteBatch before the method returns. Timer work that
// touches RocksDB is posted to `executor`. `db`, `clock`, `executor` and
// `events` must outlive the service; destroying it cancels its timers and
// waits for timer work in progress; pending long polls are answered UNAVAILABLE
// (the server should drain them before shutdown).
//
// Choices where SQS leaves room:
// - Redrive keeps the message id, body, attributes and sent time (so
//   retention counts from the original send), resets the receive count, gives
//   the message a new sequence number in the dead-letter queue and sets
//   dead_letter_queue_source_arn. It happens in the WriteBatch of the receive
//   that triggers it. If the dead-letter queue is gone, messages stay.
// - A per-message delay of 0 is accepted on FIFO queues; any other is not.
// - Deleting with a handle of an earlier receive succeeds without deleting;
//   ChangeMessageVisibility with one fails with MessageNotInflight.
// - Expired messages are removed whether visible or in flight.
class QueueService {
 public:
  using ReceiveCallback = std::function<void(absl::StatusOr<v1::ReceiveMessagesResponse>)>;

  // Column families `db` must have been opened with.
  static std::vector<std::string> ColumnFamilies();
  // Loads every queue and message from `db`. `events` may be null.
  static absl::StatusOr<std::unique_ptr<QueueService>> Open(Db* db, Clock* clock,
                                                            Executor* executor,
                                                            QueueEvents* events,
                                                            QueueServiceOptions options = {});
  ~QueueService();
  QueueService(const QueueService&) = delete;
  QueueService& operator=(const QueueService&) = delete;

  absl::StatusOr<v1::CreateQueueResponse> CreateQueue(const v1::CreateQueueRequest& request);
  absl::StatusOr<v1::GetQueueUrlResponse> GetQueueUrl(const v1::GetQueueUrlRequest& request);
  // Queue URLs from now on start with `base` ("http://host:port/000000000000/"):
  // where the queues are reachable, known once the server listens.
  void SetUrlBase(std::string base) {
    absl::MutexLock lock(&url_mu_);
    url_base_ = std::move(base);
  }
  absl::StatusOr<v1::ListQueuesResponse> ListQueues(const v1::ListQueuesRequest& request);
  absl::StatusOr<v1::GetQueueAttributesResponse> GetQueueAttributes(
      const v1::GetQueueAttributesRequest& request);
  absl::StatusOr<v1::SetQueueAttributesResponse> SetQueueAttributes(
      const v1::SetQueueAttributesRequest& request);
  absl::StatusOr<v1::DeleteQueueResponse> DeleteQueue(const v1::DeleteQueueRequest& request);
  absl::StatusOr<v1::PurgeQueueResponse> PurgeQueue(const v1::PurgeQueueRequest& request);
  absl::StatusOr<v1::ListDeadLetterSourceQueuesResponse> ListDeadLetterSourceQueues(
      const v1::ListDeadLetterSourceQueuesRequest& request);

  absl::StatusOr<v1::SendMessageResponse> SendMessage(const v1::SendMessageRequest& request);
  absl::StatusOr<v1::SendMessageBatchResponse> SendMessageBatch(
      const v1::SendMessageBatchRequest& request);
  // Long poll: calls `done` exactly once, possibly inline (messages available,
  // or wait 0, or an error), or later from a clock timer thread, an executor
  // thread, or the thread of a call that made a message available. Never
  // parks a thread. `cancelled` (may be empty) tells whether the caller has
  // gone: a waiting receive whose caller left takes no message (it would
  // stay invisible for its visibility timeout for nobody).
  void ReceiveMessages(const v1::ReceiveMessagesRequest& request, ReceiveCallback done,
                       std::function<bool()> cancelled = nullptr);
  absl::StatusOr<v1::DeleteMessageResponse> DeleteMessage(const v1::DeleteMessageRequest& request);
  absl::StatusOr<v1::DeleteMessageBatchResponse> DeleteMessageBatch(
      const v1::DeleteMessageBatchRequest& request);
  absl::StatusOr<v1::ChangeMessageVisibilityResponse> ChangeMessageVisibility(
      const v1::ChangeMessageVisibilityRequest& request);
  absl::StatusOr<v1::ChangeMessageVisibilityBatchResponse> ChangeMessageVisibilityBatch(
      const v1::ChangeMessageVisibilityBatchRequest& request);

  // Non-blocking variants of the message calls, for a gRPC reactor thread
  // (UnaryRunner::RunNonBlockingFirst): the same answer as the blocking
  // method, or WouldBlock() (services/common/status.h) with nothing changed
  // when answering would block: the queue's lock is busy, RocksDB would stall
  // or fsync (sync_writes), a message record is not in memory, or retention
  // work is due. The caller then runs the blocking method on the executor.
  // Long polls that a send or a visibility change serves are answered at
  // once when they can be without blocking, else by a Poke on the executor.
  absl::StatusOr<v1::SendMessageResponse> SendMessageNonBlocking(
      const v1::SendMessageRequest& request);
  absl::StatusOr<v1::SendMessageBatchResponse> SendMessageBatchNonBlocking(
      const v1::SendMessageBatchRequest& request);
  // Answers only when it can now (messages are ready, or the wait is 0); a
  // receive that would have to wait returns WouldBlock() (ReceiveMessages then
  // parks it).
  absl::StatusOr<v1::ReceiveMessagesResponse> ReceiveMessagesNonBlocking(
      const v1::ReceiveMessagesRequest& request);
  absl::StatusOr<v1::DeleteMessageResponse> DeleteMessageNonBlocking(
      const v1::DeleteMessageRequest& request);
  absl::StatusOr<v1::DeleteMessageBatchResponse> DeleteMessageBatchNonBlocking(
      const v1::DeleteMessageBatchRequest& request);
  absl::StatusOr<v1::ChangeMessageVisibilityResponse> ChangeMessageVisibilityNonBlocking(
      const v1::ChangeMessageVisibilityRequest& request);

  // Answers every waiting long poll now, with what it has (no messages), so a
  // server can drain before it stops. Long polls that arrive later still wait.
  void Drain();

  // Per-queue approximate counts, in name order.
  std::vector<QueueCounts> Counts() const;

 private:
  friend class QueueServiceTestPeer;  // reaches a queue's mutex (non-blocking tests)
  using QueuePtr = std::shared_ptr<QueueState>;
  // Shared with timer closures so they can tell the service is gone.
  using Lifeline = thingtank::Lifeline<QueueService>;
  // Locks a queue and, when it has a live dead-letter queue, that one too (in
  // id order). `dlq` is null without redrive.
  class QueueLock;
  // Callbacks and events to run once locks are released.
  struct Deferred;

  QueueService(Db* db, Clock* clock, Executor* executor, QueueEvents* events,
               QueueServiceOptions options);
  absl::Status Load();

  // Registry.
  absl::StatusOr<QueuePtr> Find(const std::string& name) const;
  QueuePtr FindOrNull(const std::string& name) const;
  std::string Url(const std::string& name) const {
    absl::MutexLock lock(&url_mu_);
    return url_base_ + name;
  }
  std::string Arn(const std::string& name) const { return options_.arn_prefix + name; }
  // The dead-letter queue named in `requested` exists, is not the queue
  // itself and is of the same kind.
  absl::Status CheckDeadLetterQueue(const std::string& name, bool fifo,
                                    const v1::QueueAttributes& requested) const;

  // Time and ids.
  int64_t NowMicros() const;
  std::string NewMessageId();
  uint64_t NewToken();

  // Message paths (queue_service_messages.cc).
  struct SendResult {
    std::string message_id;
    std::string md5_body;
    std::string md5_attributes;
    std::string sequence_number;
  };
  // The message calls; with `non_blocking`, the *NonBlocking variants.
  absl::StatusOr<v1::SendMessageResponse> DoSendMessage(const v1::SendMessageRequest& request,
                                                        bool non_blocking);
  absl::StatusOr<v1::SendMessageBatchResponse> DoSendMessageBatch(
      const v1::SendMessageBatchRequest& request, bool non_blocking);
  absl::StatusOr<v1::DeleteMessageResponse> DoDeleteMessage(
      const v1::DeleteMessageRequest& request, bool non_blocking);
  absl::StatusOr<v1::DeleteMessageBatchResponse> DoDeleteMessageBatch(
      const v1::DeleteMessageBatchRequest& request, bool non_blocking);
  absl::StatusOr<v1::ChangeMessageVisibilityResponse> DoChangeMessageVisibility(
      const v1::ChangeMessageVisibilityRequest& request, bool non_blocking);
  // Validates and sends up to 10 messages in one batch. Per entry: result or
  // error. Changes nothing in memory unless the write went through; with
  // `non_blocking` the write may return WouldBlock().
  absl::Status SendMany(QueueState* q, const std::vector<MessageInput>& inputs,
                        std::vector<absl::StatusOr<SendResult>>* results, Deferred* deferred,
                        bool non_blocking = false) ABSL_EXCLUSIVE_LOCKS_REQUIRED(q->mu);
  // Receives into `out` now (no waiting); may redrive into `dlq`. On any
  // error (WouldBlock() included, with `non_blocking`) the index is as before.
  absl::Status ReceiveNow(QueueState* q, QueueState* dlq, const v1::ReceiveMessagesRequest& request,
                          int64_t visibility_micros, v1::ReceiveMessagesResponse* out,
                          Deferred* deferred, bool non_blocking = false)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(q->mu);
  // Serves waiting long polls from what is visible now. With `non_blocking`,
  // a waiter that cannot be served without blocking is left to a Poke posted
  // to the executor.
  void ServeWaiters(QueueState* q, QueueState* dlq, Deferred* deferred, bool non_blocking = false)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(q->mu);
  // FIFO deduplication entries whose window has passed: StageDedupExpiry
  // stages their deletion (memory unchanged; lookups ignore expired entries),
  // ForgetExpiredDedup drops them from memory once that write went through.
  void StageDedupExpiry(const QueueState& q, int64_t now, rocksdb::WriteBatch* batch)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(q.mu);
  static void ForgetExpiredDedup(QueueState* q, int64_t now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(q->mu);
  // Decodes a receipt handle of queue `q` (ReceiptHandleIsInvalid naming `field`).
  absl::StatusOr<ReceiptHandle> CheckHandle(const QueueState& q, const std::string& handle,
                                            const std::string& field) const;
  // Stages deletion of a message if `handle` is its latest; true if staged.
  bool StageDelete(QueueState* q, const ReceiptHandle& handle, rocksdb::WriteBatch* batch)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(q->mu);
  // Checks `handle` names an in-flight message by its latest receive.
  absl::Status CheckInFlight(QueueState* q, const ReceiptHandle& handle)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(q->mu);
  v1::Message BuildMessage(const QueueState& q, uint64_t seq, const IndexedMessage& m,
                           const storage::MessageRecord& record,
                           const v1::ReceiveMessagesRequest& request) const;
  absl::Status ValidateReceive(const v1::ReceiveMessagesRequest& request) const;

  // Maintenance (queue_service_timers.cc).
  // Makes due messages visible and removes expired ones and dedup entries.
  // With `non_blocking`: WouldBlock() if messages are due to expire (that
  // work runs on the executor) or the write would block; making messages
  // visible (harmless to repeat) is the only change then.
  absl::Status Maintain(QueueState* q, Deferred* deferred, bool non_blocking = false)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(q->mu);
  // (Re)arms the queue's timer for its next due work.
  void ArmTimer(const QueuePtr& q) ABSL_EXCLUSIVE_LOCKS_REQUIRED(q->mu);
  void OnTimer(const std::weak_ptr<QueueState>& weak, uint64_t generation);
  void OnWaiterTimeout(const std::weak_ptr<QueueState>& weak, uint64_t waiter_id);
  // Runs Maintain + ServeWaiters + ArmTimer under the queue's lock; a timer
  // firing passes its generation to mark the queue's timer as gone.
  void Poke(const QueuePtr& q, std::optional<uint64_t> timer_generation = std::nullopt);
  void RunDeferred(Deferred* deferred);
  // Answers and forgets every waiting long poll.
  void AnswerAllWaiters(const absl::StatusOr<v1::ReceiveMessagesResponse>& answer,
                        bool cancel_queue_timers);

  Db* const db_;
  Clock* const clock_;
  Executor* const executor_;
  QueueEvents* const events_;
  const QueueServiceOptions options_;
  mutable absl::Mutex url_mu_;
  std::string url_base_ ABSL_GUARDED_BY(url_mu_);
  storage::QueueStore store_;
  std::shared_ptr<Lifeline> lifeline_;

  mutable absl::Mutex registry_mu_;
  std::map<std::string, QueuePtr> queues_ ABSL_GUARDED_BY(registry_mu_);
  uint64_t next_queue_id_ ABSL_GUARDED_BY(registry_mu_) = 1;

  absl::Mutex random_mu_;
  std::mt19937_64 random_ ABSL_GUARDED_BY(random_mu_);
  std::atomic<uint64_t> next_waiter_id_{1};
};

}  // namespace thingtank::queues
