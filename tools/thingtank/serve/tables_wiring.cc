// Wiring of the tables service: the only place that builds its objects.
#include <filesystem>

#include "services/common/executor.h"
#include "services/common/status.h"
#include "services/common/storage/db.h"
#include "services/tables/cloudwatch_metrics.h"
#include "services/tables/grpc_service.h"
#include "services/tables/metrics.h"
#include "services/tables/table_service.h"
#include "tools/thingtank/serve/metrics_push.h"
#include "tools/thingtank/serve/running_service.h"

namespace thingtank::serve {
namespace {

constexpr size_t kTableSeriesLimit = 200;
constexpr size_t kMaxQueuedCalls = 20000;

class RunningTables final : public RunningService {
 public:
  std::vector<grpc::Service*> grpc_services() override { return {grpc_.get()}; }
  std::vector<std::string> proto_service_names() const override {
    return {tables::v1::TablesService::service_full_name()};
  }
  // AWS/DynamoDB metrics to the compute service (metrics_push.h).
  void OnServing(grpc::Server* server) override { metrics_push.Start(server); }
  void Drain() override { metrics_push.Stop(); }

  // Members in construction order; destroyed in reverse: the gRPC face, the
  // domain (cancels its timers), the executor (runs what is queued), the DB.
  std::unique_ptr<Db> db;
  std::unique_ptr<ThreadPool> executor;
  std::shared_ptr<tables::TablesMetrics> metrics;
  std::unique_ptr<tables::TableService> domain;
  std::unique_ptr<UnaryRunner> runner;
  std::unique_ptr<tables::TablesGrpcService> grpc_;
  tables::DynamoDbMetrics dynamodb_metrics;
  MetricsPush metrics_push;  // stopped before the domain goes
};

}  // namespace

absl::StatusOr<std::unique_ptr<RunningService>> StartTables(const ServeContext& context) {
  auto running = std::make_unique<RunningTables>();
  Db::Options db_options;
  db_options.path = (std::filesystem::path(context.config->data_dir) / "tables").string();
  db_options.column_families = tables::TableService::ColumnFamilies();
  db_options.sync_writes = context.config->sync_writes;
  TT_ASSIGN_OR_RETURN(running->db, Db::Open(db_options));
  running->executor =
      std::make_unique<ThreadPool>("tables-exec", context.config->executor_threads, kMaxQueuedCalls);
  running->metrics =
      std::make_shared<tables::TablesMetrics>(context.metrics->registry(), kTableSeriesLimit);
  TT_ASSIGN_OR_RETURN(running->domain,
                      tables::TableService::Open(running->db.get(), context.clock,
                                                 running->executor.get(), running->metrics.get()));
  tables::TableService* domain = running->domain.get();
  running->metrics->SetStatsSource([domain] { return domain->Stats(); });
  context.metrics->AddCollectable(running->metrics);
  running->runner = std::make_unique<UnaryRunner>(tables::v1::TablesService::service_full_name(),
                                                  "tables", running->executor.get(),
                                                  context.rpc_metrics, context.gate);
  running->grpc_ = std::make_unique<tables::TablesGrpcService>(domain, running->runner.get());
  tables::DynamoDbMetrics* dynamodb = &running->dynamodb_metrics;
  TT_RETURN_IF_ERROR(running->metrics_push.Init(
      context, running->executor.get(), "tables",
      [domain, dynamodb](absl::Time end) { return dynamodb->Build(end, domain->Stats()); }));
  return running;
}

}  // namespace thingtank::serve
