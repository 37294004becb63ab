// In-memory queues on a FakeBackend, for the tests of services that send to
// or receive from queues (the wamp rules; later compute, objects, streams)
// without running the queues domain. It answers CreateQueue, SendMessage,
// ReceiveMessages (long polls until a message arrives, the wait ends or the
// call is cancelled), DeleteMessage, DeleteMessageBatch and GetQueueAttributes
// with the queues service's error names (QueueDoesNotExist,
// ReceiptHandleIsInvalid). Deliberately simple: a received message stays in
// flight until deleted (no visibility timeout), no FIFO, no attributes.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "services/common/testing/fake_backend.h"

namespace thingtank::queues {

class FakeQueues {
 public:
  // Registers the handlers on `backend`, which must outlive this object's use.
  explicit FakeQueues(FakeBackend* backend);
  FakeQueues(const FakeQueues&) = delete;
  FakeQueues& operator=(const FakeQueues&) = delete;

 private:
  struct Queue {
    std::deque<std::pair<std::string, std::string>> visible;  // message id, body
    std::map<std::string, std::string> in_flight;            // receipt handle -> message id
  };

  // The queue called `name`, or QueueDoesNotExist.
  absl::StatusOr<Queue*> Named(const std::string& name) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  absl::Mutex mu_;
  std::map<std::string, Queue> queues_ ABSL_GUARDED_BY(mu_);
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 1;
};

}  // namespace thingtank::queues
