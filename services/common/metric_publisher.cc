#include "services/common/metric_publisher.h"

#include "google/protobuf/empty.pb.h"
#include "services/common/log.h"

namespace thingtank {

MetricPublisher::MetricPublisher(Clock* clock, Executor* executor, std::string method, Build build,
                                 absl::Duration period, absl::Duration lead)
    : clock_(clock),
      executor_(executor),
      method_(std::move(method)),
      build_(std::move(build)),
      period_(period),
      lead_(lead),
      life_(Lifeline::Create(this, executor, clock)) {}

MetricPublisher::~MetricPublisher() { Stop(); }

void MetricPublisher::Start(std::shared_ptr<grpc::Channel> channel, prometheus::Registry* registry) {
  {
    absl::MutexLock lock(&mu_);
    AsyncClient::Options options;
    options.deadline = absl::Seconds(20);
    client_ = std::make_shared<AsyncClient>(std::move(channel), clock_, registry, options);
  }
  Arm(clock_->Now());
}

void MetricPublisher::Stop() {
  life_->Detach();
  std::shared_ptr<AsyncClient> client;
  {
    absl::MutexLock lock(&mu_);
    client = std::move(client_);
  }
  if (client) client->Shutdown();
}

void MetricPublisher::Arm(absl::Time after) {
  const int64_t period_us = absl::ToInt64Microseconds(period_);
  const absl::Time end =
      absl::FromUnixMicros((absl::ToUnixMicros(after + lead_) / period_us + 1) * period_us);
  std::weak_ptr<Lifeline> weak = life_;
  clock_->RunAt(end - lead_, [weak, end] {
    if (auto life = weak.lock()) {
      Lifeline::Post(life, [end](MetricPublisher* self) {
        self->Publish(end);
        self->Arm(end);
      });
    }
  });
}

void MetricPublisher::Publish(absl::Time end) {
  std::shared_ptr<AsyncClient> client;
  {
    absl::MutexLock lock(&mu_);
    client = client_;
  }
  if (client == nullptr) return;
  // Outside mu_: a call may complete inline (after a Shutdown) and its callback locks it.
  for (auto& request : build_(end)) {
    auto response = std::make_shared<google::protobuf::Empty>();
    client->Call(method_, *request, response.get(), [this, response](absl::Status status) {
      absl::MutexLock done_lock(&mu_);
      if (status.ok()) {
        ++published_;
        failing_ = false;
        return;
      }
      ++failed_;
      if (!failing_) {
        TT_LOG_WARN("publishing metrics to {} failed: {} (further failures not logged until one "
                    "succeeds)", method_, status.ToString());
      }
      failing_ = true;
    });
  }
}

int64_t MetricPublisher::published() const {
  absl::MutexLock lock(&mu_);
  return published_;
}

int64_t MetricPublisher::failed() const {
  absl::MutexLock lock(&mu_);
  return failed_;
}

}  // namespace thingtank
