// Wiring of the queues service: the only place that builds its objects.
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "services/common/executor.h"
#include "services/common/status.h"
#include "services/common/storage/db.h"
#include "services/queues/cloudwatch_metrics.h"
#include "services/queues/grpc_service.h"
#include "services/queues/metrics.h"
#include "services/queues/queue_service.h"
#include "tools/thingtank/serve/metrics_push.h"
#include "tools/thingtank/serve/running_service.h"

namespace thingtank::serve {
namespace {

constexpr size_t kQueueSeriesLimit = 200;
constexpr size_t kMaxQueuedCalls = 20000;

class RunningQueues final : public RunningService {
 public:
  std::vector<grpc::Service*> grpc_services() override { return {grpc_.get()}; }
  std::vector<std::string> proto_service_names() const override {
    return {queues::v1::QueuesService::service_full_name()};
  }
  // Queue URLs name where the queues are reachable, as SQS's do.
  void OnReachableAt(const std::string& address) override {
    domain->SetUrlBase(absl::StrCat("http://", address, "/000000000000/"));
  }
  // AWS/SQS metrics to the compute service (metrics_push.h).
  void OnServing(grpc::Server* server) override { metrics_push.Start(server); }
  void Drain() override {
    domain->Drain();
    metrics_push.Stop();
  }

  // Members in construction order; destroyed in reverse: the gRPC face, the
  // domain (cancels its timers), the executor (runs what is queued), the DB.
  std::unique_ptr<Db> db;
  std::unique_ptr<ThreadPool> executor;
  std::shared_ptr<queues::QueuesMetrics> metrics;
  std::unique_ptr<queues::QueueService> domain;
  std::unique_ptr<UnaryRunner> runner;
  std::unique_ptr<queues::QueuesGrpcService> grpc_;
  queues::SqsMetrics sqs_metrics;
  MetricsPush metrics_push;  // stopped before the domain goes
};

}  // namespace

absl::StatusOr<std::unique_ptr<RunningService>> StartQueues(const ServeContext& context) {
  auto running = std::make_unique<RunningQueues>();
  Db::Options db_options;
  db_options.path = (std::filesystem::path(context.config->data_dir) / "queues").string();
  db_options.column_families = queues::QueueService::ColumnFamilies();
  db_options.sync_writes = context.config->sync_writes;
  TT_ASSIGN_OR_RETURN(running->db, Db::Open(db_options));
  running->executor =
      std::make_unique<ThreadPool>("queues-exec", context.config->executor_threads, kMaxQueuedCalls);
  running->metrics =
      std::make_shared<queues::QueuesMetrics>(context.metrics->registry(), kQueueSeriesLimit);
  TT_ASSIGN_OR_RETURN(running->domain,
                      queues::QueueService::Open(running->db.get(), context.clock,
                                                 running->executor.get(), running->metrics.get()));
  queues::QueueService* domain = running->domain.get();
  running->metrics->SetCountsSource([domain] { return domain->Counts(); });
  context.metrics->AddCollectable(running->metrics);
  running->runner = std::make_unique<UnaryRunner>(queues::v1::QueuesService::service_full_name(), "queues",
                                                  running->executor.get(), context.rpc_metrics,
                                                  context.gate);
  running->grpc_ = std::make_unique<queues::QueuesGrpcService>(domain, running->runner.get());
  queues::QueuesMetrics* metrics = running->metrics.get();
  queues::SqsMetrics* sqs = &running->sqs_metrics;
  TT_RETURN_IF_ERROR(running->metrics_push.Init(
      context, running->executor.get(), "queues", [domain, metrics, sqs](absl::Time end) {
        return sqs->Build(end, domain->Counts(), metrics->SentTotals());
      }));
  return running;
}

}  // namespace thingtank::serve
