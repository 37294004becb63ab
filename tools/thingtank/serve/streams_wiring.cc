// Wiring of the streams service: the only place that builds its objects.
#include <filesystem>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "services/common/executor.h"
#include "services/common/status.h"
#include "services/common/storage/db.h"
#include "services/streams/cloudwatch_metrics.h"
#include "services/streams/grpc_service.h"
#include "services/streams/metrics.h"
#include "services/streams/stream_service.h"
#include "tools/thingtank/serve/metrics_push.h"
#include "tools/thingtank/serve/running_service.h"

namespace thingtank::serve {
namespace {

constexpr size_t kStreamSeriesLimit = 200;
constexpr size_t kMaxQueuedCalls = 20000;

absl::StatusOr<int64_t> WholeFlag(const ServeConfig& config, const std::string& flag, int64_t fallback,
                                  int64_t min) {
  const std::string raw = config.ServiceFlag(flag);
  if (raw.empty()) return fallback;
  int64_t value = 0;
  if (!absl::SimpleAtoi(raw, &value) || value < min) {
    return absl::InvalidArgumentError(absl::StrCat("--", flag, ": not a whole number >= ", min, ": ", raw));
  }
  return value;
}

// The streams service's own settings (its module's flags), validated.
absl::StatusOr<streams::StreamsOptions> ParseStreamsOptions(const ServeConfig& config) {
  streams::StreamsOptions options;
  const std::string limits = config.ServiceFlag("streams-limits", "on");
  if (limits != "on" && limits != "off") {
    return absl::InvalidArgumentError(absl::StrCat("--streams-limits: on or off, not ", limits));
  }
  options.limits = limits == "on";
  TT_ASSIGN_OR_RETURN(const int64_t shard_limit, WholeFlag(config, "streams-shard-limit", options.shard_limit, 1));
  options.shard_limit = static_cast<int>(shard_limit);
  TT_ASSIGN_OR_RETURN(const int64_t transition_ms,
                      WholeFlag(config, "streams-transition-ms",
                                absl::ToInt64Milliseconds(options.transition), 0));
  options.transition = absl::Milliseconds(transition_ms);
  return options;
}

class RunningStreams final : public RunningService {
 public:
  std::vector<grpc::Service*> grpc_services() override { return {grpc_.get()}; }
  std::vector<std::string> proto_service_names() const override {
    return {streams::v1::StreamsService::service_full_name()};
  }
  // AWS/Kinesis metrics to the compute service (metrics_push.h).
  void OnServing(grpc::Server* server) override { metrics_push.Start(server); }
  void Drain() override { metrics_push.Stop(); }

  // Members in construction order; destroyed in reverse: the gRPC face, the
  // domain (cancels its timers), the executor (runs what is queued), the DB.
  std::unique_ptr<Db> db;
  std::unique_ptr<ThreadPool> executor;
  std::shared_ptr<streams::StreamsMetrics> metrics;
  std::unique_ptr<streams::StreamService> domain;
  std::unique_ptr<UnaryRunner> runner;
  std::unique_ptr<streams::StreamsGrpcService> grpc_;
  streams::KinesisMetrics kinesis_metrics;
  MetricsPush metrics_push;  // stopped before the domain goes
};

}  // namespace

absl::StatusOr<std::unique_ptr<RunningService>> StartStreams(const ServeContext& context) {
  TT_ASSIGN_OR_RETURN(streams::StreamsOptions options, ParseStreamsOptions(*context.config));
  auto running = std::make_unique<RunningStreams>();
  Db::Options db_options;
  db_options.path = (std::filesystem::path(context.config->data_dir) / "streams").string();
  db_options.column_families = streams::StreamService::ColumnFamilies();
  db_options.sync_writes = context.config->sync_writes;
  db_options.tune_family = &streams::StreamService::TuneFamily;
  TT_ASSIGN_OR_RETURN(running->db, Db::Open(db_options));
  running->executor =
      std::make_unique<ThreadPool>("streams-exec", context.config->executor_threads, kMaxQueuedCalls);
  running->metrics = std::make_shared<streams::StreamsMetrics>(context.metrics->registry(), kStreamSeriesLimit);
  TT_ASSIGN_OR_RETURN(running->domain,
                      streams::StreamService::Open(running->db.get(), context.clock, running->executor.get(),
                                                   running->metrics.get(), options));
  streams::StreamService* domain = running->domain.get();
  running->metrics->SetCountsSource([domain] { return domain->Counts(); });
  context.metrics->AddCollectable(running->metrics);
  running->runner = std::make_unique<UnaryRunner>(streams::v1::StreamsService::service_full_name(), "streams",
                                                  running->executor.get(), context.rpc_metrics, context.gate);
  running->grpc_ = std::make_unique<streams::StreamsGrpcService>(domain, running->runner.get());
  streams::StreamsMetrics* metrics = running->metrics.get();
  streams::KinesisMetrics* kinesis = &running->kinesis_metrics;
  TT_RETURN_IF_ERROR(running->metrics_push.Init(
      context, running->executor.get(), "streams", [domain, metrics, kinesis](absl::Time end) {
        return kinesis->Build(end, domain->Counts(), metrics->StreamTotals(), metrics->TakeIteratorAges());
      }));
  return running;
}

}  // namespace thingtank::serve
