// Wiring of the objects service: the only place that builds its objects.
#include <filesystem>

#include "services/common/executor.h"
#include "services/common/status.h"
#include "services/common/storage/db.h"
#include "services/objects/cloudwatch_metrics.h"
#include "services/objects/grpc_service.h"
#include "services/objects/lifecycle/lifecycle.h"
#include "services/objects/metrics.h"
#include "services/objects/notify/notifications.h"
#include "services/objects/object_service.h"
#include "tools/thingtank/serve/metrics_push.h"
#include "tools/thingtank/serve/peer_channel.h"
#include "tools/thingtank/serve/running_service.h"

namespace thingtank::serve {
namespace {

constexpr size_t kBucketSeriesLimit = 200;
constexpr size_t kMaxQueuedCalls = 20000;

class RunningObjects final : public RunningService {
 public:
  std::vector<grpc::Service*> grpc_services() override { return {grpc_.get()}; }
  std::vector<std::string> proto_service_names() const override {
    return {objects::v1::ObjectsService::service_full_name()};
  }
  // Notifications go to queues and WAMP topics, AWS/S3 storage metrics to
  // compute: in-process in monolithic mode, else through --gateway-address.
  void OnServing(grpc::Server* server) override {
    notifications->SetChannel(PeerChannel(server, peer), registry);
    metrics_push.Start(server);
  }
  void Drain() override {
    lifecycle->Stop();  // a pass stages notifications: stop it first
    notifications->Shutdown();
    metrics_push.Stop();
  }

  // Members in construction order; destroyed in reverse: the gRPC face, the
  // domain, the notifications (after the domain that stages them, before the
  // executor they deliver on), the executor (runs what is queued), the DB.
  PeerAddress peer;
  prometheus::Registry* registry = nullptr;
  std::unique_ptr<Db> db;
  std::unique_ptr<ThreadPool> executor;
  std::shared_ptr<objects::ObjectsMetrics> metrics;
  std::unique_ptr<objects::Notifications> notifications;
  std::unique_ptr<objects::ObjectService> domain;
  // Lifecycle passes on a thread of their own (a long pass never takes a
  // request thread); stopped before the domain goes.
  std::unique_ptr<ThreadPool> lifecycle_executor;
  std::unique_ptr<objects::Lifecycle> lifecycle;
  std::unique_ptr<UnaryRunner> runner;
  std::unique_ptr<objects::ObjectsGrpcService> grpc_;
  MetricsPush metrics_push;  // stopped before the domain goes
};

}  // namespace

absl::StatusOr<std::unique_ptr<RunningService>> StartObjects(const ServeContext& context) {
  auto running = std::make_unique<RunningObjects>();
  const std::filesystem::path root = std::filesystem::path(context.config->data_dir) / "objects";
  Db::Options db_options;
  db_options.path = (root / "db").string();
  db_options.column_families = objects::Catalog::ColumnFamilies();
  db_options.sync_writes = context.config->sync_writes;
  TT_ASSIGN_OR_RETURN(running->db, Db::Open(db_options));
  running->executor = std::make_unique<ThreadPool>("objects-exec", context.config->executor_threads,
                                                   kMaxQueuedCalls);
  running->metrics = std::make_shared<objects::ObjectsMetrics>(context.metrics->registry(), kBucketSeriesLimit);
  TT_ASSIGN_OR_RETURN(running->peer, ParsePeerAddress(*context.config, /*required=*/false, "objects"));
  running->registry = context.metrics->registry();
  running->notifications = std::make_unique<objects::Notifications>(
      running->db.get(), context.clock, running->executor.get(), running->metrics.get());
  objects::ObjectService::Options options;
  options.events = running->notifications.get();
  options.blob_root = (root / "blobs").string();
  options.sync_writes = context.config->sync_writes;
  options.observer = running->metrics.get();
  TT_ASSIGN_OR_RETURN(running->domain, objects::ObjectService::Open(running->db.get(), context.clock, options));
  running->notifications->Start();
  running->lifecycle_executor = std::make_unique<ThreadPool>("objects-lifecycle", 1, 4);
  running->lifecycle = std::make_unique<objects::Lifecycle>(
      running->domain.get(), context.clock, running->lifecycle_executor.get(), running->metrics.get());
  running->lifecycle->Start();
  running->metrics->SetSource(running->domain->catalog.get());
  context.metrics->AddCollectable(running->metrics);
  running->runner = std::make_unique<UnaryRunner>(objects::v1::ObjectsService::service_full_name(), "objects",
                                                  running->executor.get(), context.rpc_metrics, context.gate);
  running->grpc_ = std::make_unique<objects::ObjectsGrpcService>(running->domain.get(), running->runner.get());
  const objects::Catalog* catalog = running->domain->catalog.get();
  TT_RETURN_IF_ERROR(running->metrics_push.Init(context, running->executor.get(), "objects",
                                                [catalog](absl::Time end) {
                                                  return objects::S3StorageMetrics(end, catalog->Counts());
                                                }));
  return running;
}

}  // namespace thingtank::serve
