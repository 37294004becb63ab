#include "services/queues/testing/fake_queues.h"

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "services/common/status.h"
#include "thingtank/queues/v1/queues.grpc.pb.h"

namespace thingtank::queues {

namespace qv1 = ::thingtank::queues::v1;


namespace {

absl::Status QueueDoesNotExist(const std::string& name) {
  return ErrorWithReason(absl::StatusCode::kNotFound, "QueueDoesNotExist",
                         absl::StrCat("queue ", name, " does not exist"));
}

std::string Method(const char* name) {
  return absl::StrCat(qv1::QueuesService::service_full_name(), ".", name);
}

}  // namespace

absl::StatusOr<FakeQueues::Queue*> FakeQueues::Named(const std::string& name) {
  auto q = queues_.find(name);
  if (q == queues_.end()) return QueueDoesNotExist(name);
  return &q->second;
}

FakeQueues::FakeQueues(FakeBackend* backend) {
  backend->On<qv1::CreateQueueRequest, qv1::CreateQueueResponse>(
      Method("CreateQueue"),
      [this](const FakeCall&, const qv1::CreateQueueRequest& req, qv1::CreateQueueResponse* out) {
        absl::MutexLock lock(&mu_);
        queues_[req.queue_name()];
        out->set_queue_url(absl::StrCat("fake://queues/", req.queue_name()));
        return absl::OkStatus();
      });
  backend->On<qv1::SendMessageRequest, qv1::SendMessageResponse>(
      Method("SendMessage"),
      [this](const FakeCall&, const qv1::SendMessageRequest& req, qv1::SendMessageResponse* out) {
        absl::MutexLock lock(&mu_);
        TT_ASSIGN_OR_RETURN(Queue* q, Named(req.queue_name()));
        std::string id = absl::StrCat("m-", next_id_++);
        out->set_message_id(id);
        q->visible.emplace_back(std::move(id), req.message_body());
        return absl::OkStatus();
      });
  backend->On<qv1::ReceiveMessagesRequest, qv1::ReceiveMessagesResponse>(
      Method("ReceiveMessages"),
      [this](const FakeCall& call, const qv1::ReceiveMessagesRequest& req,
             qv1::ReceiveMessagesResponse* out) {
        const std::string& name = req.queue_name();
        auto ready = [&] {
          absl::MutexLock lock(&mu_);
          auto q = queues_.find(name);
          return q == queues_.end() || !q->second.visible.empty();
        };
        call.WaitUntil(ready, absl::Seconds(req.wait_time().seconds()));
        absl::MutexLock lock(&mu_);
        TT_ASSIGN_OR_RETURN(Queue* q, Named(name));
        const int max = req.max_number_of_messages() > 0 ? req.max_number_of_messages() : 1;
        while (out->messages_size() < max && !q->visible.empty()) {
          auto [id, body] = std::move(q->visible.front());
          q->visible.pop_front();
          qv1::Message* m = out->add_messages();
          m->set_message_id(id);
          m->set_body(std::move(body));
          m->set_receipt_handle(absl::StrCat("rh-", next_id_++));
          q->in_flight[m->receipt_handle()] = std::move(id);
        }
        return absl::OkStatus();
      });
  backend->On<qv1::DeleteMessageRequest, qv1::DeleteMessageResponse>(
      Method("DeleteMessage"),
      [this](const FakeCall&, const qv1::DeleteMessageRequest& req, qv1::DeleteMessageResponse*) {
        absl::MutexLock lock(&mu_);
        TT_ASSIGN_OR_RETURN(Queue* q, Named(req.queue_name()));
        if (q->in_flight.erase(req.receipt_handle()) == 0) {
          return ErrorWithReason(absl::StatusCode::kInvalidArgument, "ReceiptHandleIsInvalid",
                                 "receipt_handle: not in flight");
        }
        return absl::OkStatus();
      });
  backend->On<qv1::DeleteMessageBatchRequest, qv1::DeleteMessageBatchResponse>(
      Method("DeleteMessageBatch"),
      [this](const FakeCall&, const qv1::DeleteMessageBatchRequest& req,
             qv1::DeleteMessageBatchResponse* out) {
        absl::MutexLock lock(&mu_);
        TT_ASSIGN_OR_RETURN(Queue* q, Named(req.queue_name()));
        for (const auto& e : req.entries()) {
          if (q->in_flight.erase(e.receipt_handle()) == 1) {
            out->add_successful(e.id());
            continue;
          }
          qv1::BatchResultErrorEntry* f = out->add_failed();
          f->set_id(e.id());
          f->set_code("ReceiptHandleIsInvalid");
          f->set_message("not in flight");
          f->set_sender_fault(true);
        }
        return absl::OkStatus();
      });
  backend->On<qv1::GetQueueAttributesRequest, qv1::GetQueueAttributesResponse>(
      Method("GetQueueAttributes"),
      [this](const FakeCall&, const qv1::GetQueueAttributesRequest& req,
             qv1::GetQueueAttributesResponse* out) {
        absl::MutexLock lock(&mu_);
        TT_ASSIGN_OR_RETURN(Queue* q, Named(req.queue_name()));
        out->set_approximate_number_of_messages(static_cast<int64_t>(q->visible.size()));
        out->set_approximate_number_of_messages_not_visible(
            static_cast<int64_t>(q->in_flight.size()));
        return absl::OkStatus();
      });
}

}  // namespace thingtank::queues
