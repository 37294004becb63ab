#pragma once

#include <memory>
#include <string_view>

#include "grpcpp/channel.h"
#include "prometheus/registry.h"
#include "services/common/clock.h"
#include "services/common/executor.h"
#include "services/common/storage/db.h"
#include "services/objects/catalog.h"
#include "services/objects/events.h"
#include "services/objects/metrics.h"
#include "services/objects/notify/deliverer.h"
#include "services/objects/storage/object_records.pb.h"

namespace thingtank::objects {

// S3 event notifications, at least once, through an outbox. Stage puts one
// OutboxRecord (destination ARN, S3 event JSON) per matching configuration
// into the change's own WriteBatch, so a change and its notifications commit
// together; the deliverer (notify/deliverer.h) sends them to queues and WAMP
// topics and deletes each once delivered, retrying failures with backoff.
//
// Lifetime: built before ObjectService::Open (given as Options::events) and
// destroyed after it; SetChannel once the server serves, Start when ready,
// Shutdown before the executor goes. Thread-safe.
class Notifications final : public EventSink {
 public:
  using Options = notify::DeliveryOptions;

  Notifications(Db* db, Clock* clock, Executor* executor, ObjectsMetrics* metrics,
                Options options = Options())
      : deliverer_(db, clock, executor, metrics, options) {}

  void Stage(Txn& txn, const storage::BucketRecord& bucket, std::string_view event,
             const storage::VersionRecord& v) override;
  // Wakes the deliverer (cheap, never blocks).
  void Committed() override { deliverer_.Wake(); }

  // The channel to the queues and wamp services (in-process, or the gateway).
  void SetChannel(std::shared_ptr<grpc::Channel> channel, prometheus::Registry* registry) {
    deliverer_.SetChannel(std::move(channel), registry);
  }
  // Delivers what is in the outbox (left by a previous run too) and what comes.
  void Start() { deliverer_.Start(); }
  // Stops delivering; undelivered records stay for the next run. Idempotent.
  void Shutdown() { deliverer_.Shutdown(); }

 private:
  notify::Deliverer deliverer_;
};

}  // namespace thingtank::objects
