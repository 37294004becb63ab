// Wiring of the compute service: the only place that builds its objects.
#include <filesystem>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "services/common/executor.h"
#include "services/common/status.h"
#include "services/common/storage/db.h"
#include "services/compute/compute_service.h"
#include "services/compute/drivers/process_driver.h"
#include "services/compute/drivers/simulated_driver.h"
#include "services/compute/grpc_service.h"
#include "services/compute/metrics.h"
#include "tools/thingtank/serve/peer_channel.h"
#include "tools/thingtank/serve/running_service.h"

namespace thingtank::serve {
namespace {

constexpr size_t kSeriesLimit = 200;
constexpr size_t kMaxQueuedCalls = 20000;

absl::StatusOr<int64_t> PositiveFlag(const ServeConfig& config, const std::string& flag,
                                     int64_t fallback) {
  std::string raw = config.ServiceFlag(flag);
  if (raw.empty()) return fallback;
  int64_t value = 0;
  if (!absl::SimpleAtoi(raw, &value) || value < 0) {
    return absl::InvalidArgumentError(absl::StrCat("--", flag, ": not a whole number >= 0: ", raw));
  }
  return value;
}

// The compute service's own settings (its module's flags), validated.
absl::StatusOr<compute::ComputeOptions> ParseComputeOptions(const ServeConfig& config) {
  compute::ComputeOptions options;
  compute::PlacementOptions& p = options.instances.placement;
  std::string zones = config.ServiceFlag("compute-zones");
  if (!zones.empty()) {
    p.zones = absl::StrSplit(zones, ',', absl::SkipWhitespace());
    if (p.zones.empty()) return absl::InvalidArgumentError("--compute-zones: no zone given");
  }
  TT_ASSIGN_OR_RETURN(int64_t hosts, PositiveFlag(config, "compute-hosts-per-zone", p.hosts_per_zone));
  TT_ASSIGN_OR_RETURN(int64_t vcpus, PositiveFlag(config, "compute-host-vcpus", p.host_vcpus));
  TT_ASSIGN_OR_RETURN(int64_t memory, PositiveFlag(config, "compute-host-memory-mib", p.host_memory_mib));
  if (hosts < 1 || hosts > 100000) {
    return absl::InvalidArgumentError("--compute-hosts-per-zone: 1 to 100000");
  }
  p.hosts_per_zone = static_cast<int>(hosts);
  p.host_vcpus = static_cast<int32_t>(vcpus);
  p.host_memory_mib = memory;
  compute::InstanceTimings& t = options.instances.timings;
  TT_ASSIGN_OR_RETURN(int64_t launch, PositiveFlag(config, "compute-launch-seconds",
                                                   absl::ToInt64Seconds(t.pending)));
  TT_ASSIGN_OR_RETURN(int64_t stop, PositiveFlag(config, "compute-stop-seconds",
                                                 absl::ToInt64Seconds(t.stopping)));
  t.pending = absl::Seconds(launch);
  t.stopping = absl::Seconds(stop);
  t.shutting_down = absl::Seconds(stop);
  return options;
}

class RunningCompute final : public RunningService {
 public:
  std::vector<grpc::Service*> grpc_services() override {
    return {ec2_.get(), cloudwatch_.get(), autoscaling_.get()};
  }
  std::vector<std::string> proto_service_names() const override {
    return {compute::v1::ComputeService::service_full_name(),
            compute::v1::CloudWatchService::service_full_name(),
            compute::v1::AutoScalingService::service_full_name()};
  }

  // Alarm and lifecycle notifications reach the queues and WAMP services
  // through the gateway (in-process here, or --gateway-address).
  void OnServing(grpc::Server* server) override {
    domain->notifier()->SetChannel(PeerChannel(server, peer), registry);
  }
  void Drain() override { domain->notifier()->Shutdown(); }

  PeerAddress peer;
  prometheus::Registry* registry = nullptr;
  // Members in construction order; destroyed in reverse: the gRPC faces, the
  // runners, the domain (cancels its timers), the executor, the DB.
  std::unique_ptr<Db> db;
  std::unique_ptr<ThreadPool> executor;
  compute::SimulatedDriver simulated;
  std::unique_ptr<compute::ProcessDriver> process;  // with --compute-images only
  std::unique_ptr<compute::ComputeService> domain;
  std::shared_ptr<compute::ComputeMetrics> metrics;
  std::unique_ptr<UnaryRunner> ec2_runner, cloudwatch_runner, autoscaling_runner;
  std::unique_ptr<compute::ComputeGrpcService> ec2_;
  std::unique_ptr<compute::CloudWatchGrpcService> cloudwatch_;
  std::unique_ptr<compute::AutoScalingGrpcService> autoscaling_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<RunningService>> StartCompute(const ServeContext& context) {
  TT_ASSIGN_OR_RETURN(compute::ComputeOptions options, ParseComputeOptions(*context.config));
  auto running = std::make_unique<RunningCompute>();
  TT_ASSIGN_OR_RETURN(running->peer, ParsePeerAddress(*context.config, /*required=*/false, "compute"));
  running->registry = context.metrics->registry();
  Db::Options db_options;
  db_options.path = (std::filesystem::path(context.config->data_dir) / "compute").string();
  db_options.column_families = compute::ComputeService::ColumnFamilies();
  db_options.sync_writes = context.config->sync_writes;
  TT_ASSIGN_OR_RETURN(running->db, Db::Open(db_options));
  running->executor = std::make_unique<ThreadPool>("compute-exec", context.config->executor_threads,
                                                   kMaxQueuedCalls);
  // The process driver runs what the operator's images file says, never a
  // caller's command; without the file it is off.
  const std::string images_file = context.config->ServiceFlag("compute-images");
  if (!images_file.empty()) {
    auto images = compute::ParseImagesFile(images_file);
    if (!images.ok()) {
      return absl::Status(images.status().code(),
                          absl::StrCat("--compute-images: ", images.status().message()));
    }
    running->process = std::make_unique<compute::ProcessDriver>(
        *std::move(images),
        (std::filesystem::path(context.config->data_dir) / "compute-instances").string());
  }
  compute::InstanceDrivers drivers{&running->simulated, running->process.get()};
  TT_ASSIGN_OR_RETURN(running->domain,
                      compute::ComputeService::Open(running->db.get(), context.clock,
                                                    running->executor.get(), drivers, options));
  compute::ComputeService* domain = running->domain.get();
  running->metrics = std::make_shared<compute::ComputeMetrics>(domain, kSeriesLimit);
  context.metrics->AddCollectable(running->metrics);
  auto runner = [&](const std::string& service) {
    return std::make_unique<UnaryRunner>(service, "compute", running->executor.get(),
                                         context.rpc_metrics, context.gate);
  };
  running->ec2_runner = runner(compute::v1::ComputeService::service_full_name());
  running->cloudwatch_runner = runner(compute::v1::CloudWatchService::service_full_name());
  running->autoscaling_runner = runner(compute::v1::AutoScalingService::service_full_name());
  running->ec2_ = std::make_unique<compute::ComputeGrpcService>(domain, running->ec2_runner.get());
  running->cloudwatch_ =
      std::make_unique<compute::CloudWatchGrpcService>(domain, running->cloudwatch_runner.get());
  running->autoscaling_ =
      std::make_unique<compute::AutoScalingGrpcService>(domain, running->autoscaling_runner.get());
  domain->Start();
  return running;
}

}  // namespace thingtank::serve
