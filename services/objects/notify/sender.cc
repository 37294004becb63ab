#include "services/objects/notify/sender.h"

#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/empty.pb.h"
#include "thingtank/queues/v1/queues.pb.h"
#include "thingtank/wamp/v1/wamp.pb.h"

namespace thingtank::objects::notify {
namespace {

constexpr char kQueuePrefix[] = "arn:aws:sqs:";
constexpr char kTopicPrefix[] = "arn:thingtank:wamp:";
constexpr char kSendMessage[] = "/thingtank.queues.v1.QueuesService/SendMessage";
constexpr char kPublish[] = "/thingtank.wamp.v1.WampService/Publish";

}  // namespace

void Sender::SetChannel(std::shared_ptr<grpc::Channel> channel, prometheus::Registry* registry) {
  AsyncClient::Options options;
  options.deadline = deadline_;
  options.max_attempts = 1;
  auto client = std::make_shared<AsyncClient>(std::move(channel), clock_, registry, options);
  std::shared_ptr<AsyncClient> old;
  {
    absl::MutexLock lock(&mu_);
    if (shut_down_) return;  // `client` goes, unused
    old = std::exchange(client_, std::move(client));
  }
  if (old) old->Shutdown();
}

bool Sender::connected() const {
  absl::MutexLock lock(&mu_);
  return client_ != nullptr;
}

void Sender::Shutdown() {
  std::shared_ptr<AsyncClient> client;
  {
    absl::MutexLock lock(&mu_);
    shut_down_ = true;
    client = std::move(client_);
  }
  if (client) client->Shutdown();
}

void Sender::Send(const std::string& arn, const std::string& json, Done done) {
  std::shared_ptr<AsyncClient> client;
  {
    absl::MutexLock lock(&mu_);
    client = client_;
  }
  if (client == nullptr) {
    done(absl::UnavailableError("notifications are not connected (no channel to the queues "
                                "and wamp services)"));
    return;
  }
  // The response is Empty-compatible for both (their fields are ignored).
  auto response = std::make_shared<google::protobuf::Empty>();
  auto keep = [response, done = std::move(done)](absl::Status status) { done(std::move(status)); };
  if (absl::StartsWith(arn, kQueuePrefix)) {
    // arn:aws:sqs:<region>:<account>:<queue>
    std::vector<std::string> parts = absl::StrSplit(arn, absl::MaxSplits(':', 5));
    queues::v1::SendMessageRequest request;
    request.set_queue_name(parts.size() == 6 ? parts[5] : "");
    request.set_message_body(json);
    client->Call(kSendMessage, request, response.get(), std::move(keep));
    return;
  }
  if (absl::StartsWith(arn, kTopicPrefix)) {
    std::string rest = arn.substr(sizeof(kTopicPrefix) - 1);
    size_t colon = rest.find(':');
    wamp::v1::PublishRequest request;
    if (colon != std::string::npos) {
      request.set_realm(rest.substr(0, colon));  // empty: the default realm (realm1)
      request.set_topic(rest.substr(colon + 1));
    }
    request.set_kwargs_json(json);
    client->Call(kPublish, request, response.get(), std::move(keep));
    return;
  }
  keep(absl::InvalidArgumentError(absl::StrCat("not a notification destination: ", arn)));
}

}  // namespace thingtank::objects::notify
