// `queues:` of `serve --bootstrap`: CreateQueueRequest entries; redrive is an
// attribute (attributes.redrive_policy), so a dead-letter queue of the file is
// created before the queues that name it.
#include <algorithm>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "services/common/log.h"
#include "thingtank/queues/v1/queues.grpc.pb.h"
#include "tools/thingtank/serve/bootstrap_section.h"

namespace thingtank::serve {
namespace {

namespace v1 = queues::v1;

const v1::CreateQueueRequest& Request(const BootstrapEntry& entry) {
  return static_cast<const v1::CreateQueueRequest&>(*entry.request);
}

// Depth-first: an entry goes after the entry of its dead-letter queue.
absl::Status OrderDeadLetterQueuesFirst(std::vector<BootstrapEntry>* entries) {
  std::map<std::string, size_t> by_name;
  for (size_t i = 0; i < entries->size(); ++i) by_name[Request((*entries)[i]).queue_name()] = i;
  enum class Mark { kNone, kVisiting, kDone };
  std::vector<Mark> marks(entries->size(), Mark::kNone);
  std::vector<size_t> order;
  for (size_t start = 0; start < entries->size(); ++start) {
    std::vector<size_t> chain;  // start, its dead-letter queue, that one's, ...
    size_t i = start;
    while (marks[i] == Mark::kNone) {
      marks[i] = Mark::kVisiting;
      chain.push_back(i);
      const std::string& dlq = Request((*entries)[i]).attributes().redrive_policy().dead_letter_queue_name();
      auto next = by_name.find(dlq);
      if (dlq.empty() || next == by_name.end() || next->second == i) break;  // the service judges self
      i = next->second;
    }
    if (marks[i] == Mark::kVisiting && (chain.empty() || chain.back() != i)) {
      std::vector<std::string> names;
      for (auto it = std::find(chain.begin(), chain.end(), i); it != chain.end(); ++it) {
        names.push_back(Request((*entries)[*it]).queue_name());
      }
      names.push_back(Request((*entries)[i]).queue_name());
      return absl::InvalidArgumentError(
          absl::StrCat((*entries)[i].label, ": attributes.redrive_policy.dead_letter_queue_name: "
                                            "dead-letter queues form a cycle: ",
                       absl::StrJoin(names, " -> ")));
    }
    for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
      marks[*it] = Mark::kDone;
      order.push_back(*it);
    }
  }
  std::vector<BootstrapEntry> ordered;
  ordered.reserve(entries->size());
  for (size_t i : order) ordered.push_back(std::move((*entries)[i]));
  *entries = std::move(ordered);
  return absl::OkStatus();
}

absl::Status CreateQueue(const BootstrapEntry& entry, const BootstrapCalls& calls) {
  auto stub = v1::QueuesService::NewStub(calls.channel());
  v1::CreateQueueResponse response;
  // SQS's CreateQueue is idempotent with the same attributes; with others it
  // is ALREADY_EXISTS, and the queue stays as it is.
  const grpc::Status status = stub->CreateQueue(calls.NewContext().get(), Request(entry), &response);
  if (status.error_code() == grpc::StatusCode::ALREADY_EXISTS) {
    TT_LOG_WARN("--bootstrap: {}: {}; left as it is", entry.label, status.error_message());
    return absl::OkStatus();
  }
  if (!status.ok()) return BootstrapCallError("CreateQueue", status);
  return absl::OkStatus();
}

}  // namespace

const BootstrapSection& QueuesBootstrapSection() {
  static const BootstrapSection kSection{
      "queues", &v1::CreateQueueRequest::default_instance(), "queue_name", {},
      &OrderDeadLetterQueuesFirst, &CreateQueue};
  return kSection;
}

}  // namespace thingtank::serve
