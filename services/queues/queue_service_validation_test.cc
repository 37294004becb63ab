// Bad input: every invalid request gives the right code, reason and field.

#include <gtest/gtest.h>

#include <functional>

#include "services/queues/queue_service.h"
#include "services/queues/queue_service_test_util.h"

namespace thingtank::queues {
namespace {

using absl::StatusCode;

struct BadCase {
  std::string name;
  std::function<absl::Status(QueueService*)> call;
  StatusCode code;
  std::string reason;
  std::string field;
};

absl::Status CreateWith(QueueService* s, const std::string& name,
                        std::function<void(v1::QueueAttributes*)> edit) {
  v1::CreateQueueRequest req;
  req.set_queue_name(name);
  edit(req.mutable_attributes());
  return s->CreateQueue(req).status();
}

absl::Status SendWith(QueueService* s, std::function<void(v1::SendMessageRequest*)> edit) {
  v1::SendMessageRequest req;
  req.set_queue_name("q");
  req.set_message_body("body");
  edit(&req);
  return s->SendMessage(req).status();
}

absl::Status ReceiveWith(QueueService* s, std::function<void(v1::ReceiveMessagesRequest*)> edit) {
  v1::ReceiveMessagesRequest req;
  req.set_queue_name("q");
  edit(&req);
  absl::Status out = absl::InternalError("callback not called");
  s->ReceiveMessages(req, [&out](absl::StatusOr<v1::ReceiveMessagesResponse> r) {
    out = r.status();
  });
  return out;
}

absl::Status BatchOf(QueueService* s, int n, std::function<void(int, v1::SendMessageBatchRequestEntry*)> edit) {
  v1::SendMessageBatchRequest req;
  req.set_queue_name("q");
  for (int i = 0; i < n; ++i) {
    auto* e = req.add_entries();
    e->set_id("e" + std::to_string(i));
    e->set_message_body("x");
    edit(i, e);
  }
  return s->SendMessageBatch(req).status();
}

auto NoEdit = [](v1::QueueAttributes*) {};

std::vector<BadCase> Cases() {
  const auto kInvalid = StatusCode::kInvalidArgument;
  const std::string kAttr = "InvalidAttributeValue";
  const std::string kParam = "InvalidParameterValue";
  return {
      {"empty name", [](QueueService* s) { return CreateWith(s, "", NoEdit); }, kInvalid, kParam,
       "queue_name"},
      {"81-char name",
       [](QueueService* s) { return CreateWith(s, std::string(81, 'a'), NoEdit); }, kInvalid,
       kParam, "queue_name"},
      {"bad char", [](QueueService* s) { return CreateWith(s, "a b", NoEdit); }, kInvalid,
       kParam, "queue_name"},
      {"dot in standard name", [](QueueService* s) { return CreateWith(s, "a.b", NoEdit); },
       kInvalid, kParam, "queue_name"},
      {"fifo flag without .fifo",
       [](QueueService* s) {
         return CreateWith(s, "plain", [](v1::QueueAttributes* a) { a->set_fifo_queue(true); });
       },
       kInvalid, kParam, "queue_name"},
      {".fifo name without flag", [](QueueService* s) { return CreateWith(s, "x.fifo", NoEdit); },
       kInvalid, kAttr, "attributes.fifo_queue"},
      {"visibility > 12h",
       [](QueueService* s) {
         return CreateWith(s, "v", [](v1::QueueAttributes* a) {
           *a->mutable_visibility_timeout() = Secs(12 * 3600 + 1);
         });
       },
       kInvalid, kAttr, "attributes.visibility_timeout"},
      {"retention < 60s",
       [](QueueService* s) {
         return CreateWith(s, "v", [](v1::QueueAttributes* a) {
           *a->mutable_message_retention_period() = Secs(59);
         });
       },
       kInvalid, kAttr, "attributes.message_retention_period"},
      {"retention > 14d",
       [](QueueService* s) {
         return CreateWith(s, "v", [](v1::QueueAttributes* a) {
           *a->mutable_message_retention_period() = Secs(14 * 86400 + 1);
         });
       },
       kInvalid, kAttr, "attributes.message_retention_period"},
      {"delay > 900s",
       [](QueueService* s) {
         return CreateWith(s, "v", [](v1::QueueAttributes* a) { *a->mutable_delay() = Secs(901); });
       },
       kInvalid, kAttr, "attributes.delay"},
      {"max size < 1024",
       [](QueueService* s) {
         return CreateWith(s, "v", [](v1::QueueAttributes* a) { a->set_maximum_message_size(1023); });
       },
       kInvalid, kAttr, "attributes.maximum_message_size"},
      {"wait > 20s",
       [](QueueService* s) {
         return CreateWith(s, "v", [](v1::QueueAttributes* a) {
           *a->mutable_receive_message_wait_time() = Secs(21);
         });
       },
       kInvalid, kAttr, "attributes.receive_message_wait_time"},
      {"max receive count 0",
       [](QueueService* s) {
         return CreateWith(s, "v", [](v1::QueueAttributes* a) {
           a->mutable_redrive_policy()->set_dead_letter_queue_name("q");
           a->mutable_redrive_policy()->set_max_receive_count(0);
         });
       },
       kInvalid, kAttr, "attributes.redrive_policy.max_receive_count"},
      {"content dedup on standard",
       [](QueueService* s) {
         return CreateWith(s, "v",
                           [](v1::QueueAttributes* a) { a->set_content_based_deduplication(true); });
       },
       kInvalid, kAttr, "attributes.content_based_deduplication"},
      {"unknown queue (send)",
       [](QueueService* s) {
         return SendWith(s, [](v1::SendMessageRequest* r) { r->set_queue_name("nope"); });
       },
       StatusCode::kNotFound, "QueueDoesNotExist", ""},
      {"unknown queue (attributes)",
       [](QueueService* s) {
         v1::GetQueueAttributesRequest r;
         r.set_queue_name("nope");
         return s->GetQueueAttributes(r).status();
       },
       StatusCode::kNotFound, "QueueDoesNotExist", ""},
      {"empty body", [](QueueService* s) { return SendWith(s, [](v1::SendMessageRequest* r) { r->set_message_body(""); }); },
       kInvalid, kParam, "message_body"},
      {"oversize body",
       [](QueueService* s) {
         return SendWith(s, [](v1::SendMessageRequest* r) {
           r->set_message_body(std::string(2048, 'x'));
         });
       },
       kInvalid, kParam, "message_body"},
      {"invalid body char",
       [](QueueService* s) {
         return SendWith(s, [](v1::SendMessageRequest* r) { r->set_message_body(std::string("a\x01", 2)); });
       },
       kInvalid, "InvalidMessageContents", "message_body"},
      {"message delay > 900s",
       [](QueueService* s) {
         return SendWith(s, [](v1::SendMessageRequest* r) { *r->mutable_delay() = Secs(901); });
       },
       kInvalid, kParam, "delay"},
      {"bad attribute type",
       [](QueueService* s) {
         return SendWith(s, [](v1::SendMessageRequest* r) {
           auto& v = (*r->mutable_message_attributes())["x"];
           v.set_data_type("Integer");
           v.set_string_value("1");
         });
       },
       kInvalid, kParam, "message_attributes[\"x\"].data_type"},
      {"non-numeric Number",
       [](QueueService* s) {
         return SendWith(s, [](v1::SendMessageRequest* r) {
           auto& v = (*r->mutable_message_attributes())["n"];
           v.set_data_type("Number");
           v.set_string_value("12abc");
         });
       },
       kInvalid, kParam, "message_attributes[\"n\"].string_value"},
      {"reserved attribute name",
       [](QueueService* s) {
         return SendWith(s, [](v1::SendMessageRequest* r) {
           auto& v = (*r->mutable_message_attributes())["AWS.x"];
           v.set_data_type("String");
           v.set_string_value("1");
         });
       },
       kInvalid, kParam, "message_attributes[\"AWS.x\"]"},
      {"11 attributes",
       [](QueueService* s) {
         return SendWith(s, [](v1::SendMessageRequest* r) {
           for (int i = 0; i < 11; ++i) {
             auto& v = (*r->mutable_message_attributes())["a" + std::to_string(i)];
             v.set_data_type("String");
             v.set_string_value("v");
           }
         });
       },
       kInvalid, kParam, "message_attributes"},
      {"11-entry batch", [](QueueService* s) { return BatchOf(s, 11, [](int, auto*) {}); },
       kInvalid, "TooManyEntriesInBatchRequest", "entries"},
      {"empty batch", [](QueueService* s) { return BatchOf(s, 0, [](int, auto*) {}); }, kInvalid,
       "EmptyBatchRequest", "entries"},
      {"duplicate entry ids",
       [](QueueService* s) { return BatchOf(s, 2, [](int, auto* e) { e->set_id("same"); }); },
       kInvalid, "BatchEntryIdsNotDistinct", "entries"},
      {"bad entry id",
       [](QueueService* s) {
         return BatchOf(s, 3, [](int i, auto* e) { if (i == 2) e->set_id("bad id!"); });
       },
       kInvalid, "InvalidBatchEntryId", "entries[2].id"},
      {"batch over 1 MiB",
       [](QueueService* s) {
         return BatchOf(s, 2, [](int, auto* e) { e->set_message_body(std::string(600 * 1024, 'x')); });
       },
       kInvalid, "BatchRequestTooLong", "entries"},
      {"malformed receipt handle",
       [](QueueService* s) {
         v1::DeleteMessageRequest r;
         r.set_queue_name("q");
         r.set_receipt_handle("garbage");
         return s->DeleteMessage(r).status();
       },
       kInvalid, "ReceiptHandleIsInvalid", "receipt_handle"},
      {"max messages 11",
       [](QueueService* s) {
         return ReceiveWith(s, [](v1::ReceiveMessagesRequest* r) { r->set_max_number_of_messages(11); });
       },
       kInvalid, kParam, "max_number_of_messages"},
      {"wait 21s",
       [](QueueService* s) {
         return ReceiveWith(s, [](v1::ReceiveMessagesRequest* r) { *r->mutable_wait_time() = Secs(21); });
       },
       kInvalid, kParam, "wait_time"},
      {"receive visibility > 12h",
       [](QueueService* s) {
         return ReceiveWith(s, [](v1::ReceiveMessagesRequest* r) {
           *r->mutable_visibility_timeout() = Secs(12 * 3600 + 1);
         });
       },
       kInvalid, kParam, "visibility_timeout"},
      {"page size 1001",
       [](QueueService* s) {
         v1::ListQueuesRequest r;
         r.set_page_size(1001);
         return s->ListQueues(r).status();
       },
       kInvalid, kParam, "page_size"},
  };
}

class ValidationTest : public QueueServiceTest {
 protected:
  void SetUp() override {
    QueueServiceTest::SetUp();
    v1::QueueAttributes a;
    a.set_maximum_message_size(1024);
    Create("q", a);
  }
};

TEST_F(ValidationTest, EveryBadRequestNamesItsFault) {
  for (const BadCase& c : Cases()) {
    SCOPED_TRACE(c.name);
    EXPECT_THAT(c.call(service_.get()), IsStatus(c.code, c.reason, c.field));
  }
  // Nothing of the above reached the queue.
  EXPECT_EQ(CountsOf("q"), std::make_tuple(0, 0, 0));
}

TEST_F(ValidationTest, LimitsAreInclusive) {
  v1::SendMessageRequest r;
  r.set_queue_name("q");
  r.set_message_body(std::string(1024, 'x'));
  EXPECT_TRUE(service_->SendMessage(r).ok());
  r.set_message_body(std::string(1020, 'x'));
  auto& a = (*r.mutable_message_attributes())["k"];
  a.set_data_type("String");
  a.set_string_value("v");  // 1020 + 1 + 6 + 1 = 1028 > 1024
  EXPECT_THAT(service_->SendMessage(r).status(),
              IsStatus(StatusCode::kInvalidArgument, "InvalidParameterValue", "message_body"));
  v1::CreateQueueRequest c;
  c.set_queue_name(std::string(80, 'a'));
  *c.mutable_attributes()->mutable_visibility_timeout() = Secs(12 * 3600);
  *c.mutable_attributes()->mutable_receive_message_wait_time() = Secs(20);
  EXPECT_TRUE(service_->CreateQueue(c).ok());
  c.set_queue_name(std::string(75, 'b') + ".fifo");
  c.mutable_attributes()->set_fifo_queue(true);
  EXPECT_TRUE(service_->CreateQueue(c).ok());
}

}  // namespace
}  // namespace thingtank::queues
