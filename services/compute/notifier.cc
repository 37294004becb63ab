#include "services/compute/notifier.h"

#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/notification.h"
#include "google/protobuf/empty.pb.h"
#include "services/common/log.h"
#include "services/common/status.h"
#include "thingtank/queues/v1/queues.pb.h"
#include "thingtank/wamp/v1/wamp.pb.h"

namespace thingtank::compute {
namespace {

constexpr char kQueuePrefix[] = "arn:aws:sqs:";
constexpr char kTopicPrefix[] = "arn:thingtank:wamp:";

// "arn:aws:sqs:region:account:name" -> its six parts.
std::vector<std::string> Parts(const std::string& arn) {
  return absl::StrSplit(arn, absl::MaxSplits(':', 5));
}

// "arn:thingtank:wamp:realm:topic" -> {realm, topic}; empty topic when malformed.
std::pair<std::string, std::string> RealmAndTopic(const std::string& arn) {
  std::string rest = arn.substr(sizeof(kTopicPrefix) - 1);
  size_t colon = rest.find(':');
  if (colon == std::string::npos) return {"", ""};
  return {rest.substr(0, colon), rest.substr(colon + 1)};
}

}  // namespace

Notifier::Notifier(Clock* clock, std::string region, std::string account)
    : clock_(clock), region_(std::move(region)), account_(std::move(account)) {}

Notifier::~Notifier() { Shutdown(); }

void Notifier::SetChannel(std::shared_ptr<grpc::Channel> channel, prometheus::Registry* registry) {
  auto client = std::make_shared<AsyncClient>(std::move(channel), clock_, registry);
  absl::MutexLock lock(&mu_);
  client_ = std::move(client);
}

void Notifier::Shutdown() {
  std::shared_ptr<AsyncClient> client;
  {
    absl::MutexLock lock(&mu_);
    client = std::move(client_);
  }
  if (client) client->Shutdown();
}

bool Notifier::IsTarget(const std::string& arn) {
  return absl::StartsWith(arn, kQueuePrefix) || absl::StartsWith(arn, kTopicPrefix);
}

absl::Status Notifier::CheckTarget(const std::string& arn, const std::string& field) {
  std::vector<std::string> parts = Parts(arn);
  if (absl::StartsWith(arn, kQueuePrefix)) {
    if (parts.size() != 6 || parts[3] != region_ || parts[4] != account_ || parts[5].empty()) {
      return InvalidField(field,
                          absl::StrCat("a queue target is arn:aws:sqs:", region_, ":", account_,
                                       ":<queue>, not ", arn),
                          "ValidationError");
    }
    return absl::OkStatus();
  }
  if (absl::StartsWith(arn, kTopicPrefix)) {
    auto [realm, topic] = RealmAndTopic(arn);
    if (topic.empty() || absl::StartsWith(topic, "wamp.") || topic.find(':') != std::string::npos) {
      return InvalidField(field,
                          absl::StrCat("a WAMP target is arn:thingtank:wamp:<realm>:<topic> "
                                       "(topic not under wamp.), not ", arn),
                          "ValidationError");
    }
    return absl::OkStatus();
  }
  return InvalidField(field,
                      absl::StrCat("not a notification target (arn:aws:sqs:... or "
                                   "arn:thingtank:wamp:...): ", arn),
                      "ValidationError");
}

void Notifier::Send(const std::string& arn, const std::string& json, AsyncClient::Done done) {
  std::shared_ptr<AsyncClient> client;
  {
    absl::MutexLock lock(&mu_);
    client = client_;
  }
  if (client == nullptr) {
    done(absl::UnavailableError("notifications are not connected yet (no channel to the "
                                "queues and wamp services)"));
    return;
  }
  std::vector<std::string> parts = Parts(arn);
  auto response = std::make_shared<google::protobuf::Empty>();
  auto keep = [response, done = std::move(done)](absl::Status status) { done(status); };
  if (absl::StartsWith(arn, kQueuePrefix)) {
    queues::v1::SendMessageRequest request;
    request.set_queue_name(parts.size() == 6 ? parts[5] : "");
    request.set_message_body(json);
    client->Call("/thingtank.queues.v1.QueuesService/SendMessage", request, response.get(), keep);
    return;
  }
  wamp::v1::PublishRequest request;
  auto [realm, topic] = RealmAndTopic(arn);
  request.set_realm(realm);  // empty: the default realm
  request.set_topic(topic);
  request.set_kwargs_json(json);
  client->Call("/thingtank.wamp.v1.WampService/Publish", request, response.get(), keep);
}

void Notifier::Notify(const std::string& arn, const std::string& json) {
  Send(arn, json, [arn](absl::Status status) {
    if (!status.ok()) TT_LOG_WARN("compute: notification to {} failed: {}", arn, status.ToString());
  });
}

absl::Status Notifier::NotifyAndWait(const std::string& arn, const std::string& json,
                                     absl::Duration timeout) {
  struct Result {
    absl::Notification done;
    absl::Status status;
  };
  auto result = std::make_shared<Result>();
  Send(arn, json, [result](absl::Status status) {
    result->status = std::move(status);
    result->done.Notify();
  });
  if (!result->done.WaitForNotificationWithTimeout(timeout)) {
    return absl::DeadlineExceededError(absl::StrCat("no answer from ", arn, " within ",
                                                    absl::FormatDuration(timeout)));
  }
  return result->status;
}

}  // namespace thingtank::compute
