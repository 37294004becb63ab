// compute_bench: the gRPC benchmark of the compute service (the compute issue,
// "Benchmark", figures 1 to 3). The domain-level figures (alarm evaluation,
// placement, alarm-to-launch latency) are services/compute/compute_domain_bench.
//
// Starts a monolithic `thingtank serve` itself (ports 0, a temp data dir, more
// hosts per zone so RunInstances does not run out of capacity) unless
// --endpoint names a running one, and drives its gateway with the shared
// closed loop (load.{h,cc}) through GenericStubs with pre-serialized
// requests, as the health baseline is driven, so the load generator does the
// same little work per call in every scenario. In this order:
//   setup      RunInstances of --instances t2.nano (in calls of up to 500),
//              PutMetricData of one day of 1-minute data (1,440 points) ending
//              at the last whole hour
//   health     grpc.health.v1 Check, empty request (the baseline)
//   describe   DescribeInstances of all --instances (one response of them all)
//   health
//   put        PutMetricData of 1,000 points per call (1,000 series, no timestamp)
//   stats      GetMetricStatistics over the day, period 60 (1,440 datapoints),
//              five statistics, at concurrency 1 (the latency of one caller)
//   stats_hour the same, period 3,600 (24 datapoints)
//   health
//   run        RunInstances of one t2.nano per call
//   health
// Each throughput ratio is to the mean of the baseline runs just before and
// after the scenario (the machines here are noisy). Prints one line per run
// (load.h's PrintHuman), then one line per figure with its target, met or
// not; --json FILE writes all of it.
//
// Uses generated clients only (no server internals).

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "load.h"
#include "serve.h"
#include "thingtank/compute/v1/compute.grpc.pb.h"

namespace {

namespace cv1 = ::thingtank::compute::v1;
namespace bench = ::thingtank::bench;
using bench::Loop;
using bench::Result;
using bench::Worker;

constexpr const char* kProgram = "compute_bench";
constexpr const char* kNamespace = "Bench/Compute";
constexpr int kPointsPerPut = 1000;
constexpr int kDayMinutes = 1440;
constexpr int kMaxPerRun = 500;

// Result::units is instances, points or datapoints depending on the
// scenario: the JSON names them generically, the figures say which.
const bench::UnitNames kNames{"units", "units_per_s", "misses", "units", "misses"};

struct Options : bench::CommonOptions {
  int instances = 1000;
  int hosts_per_zone = 100;  // 6 zones x 100 hosts x 96 vCPUs: room for the run scenario
  std::string json_path;
  std::string thingtank;  // the binary; default: next to this one in the build tree
  bool own_server = true;
};

void Usage(std::ostream& out) {
  out << "usage: compute_bench [--endpoint host:port] [--thingtank PATH] [--instances N]\n"
         "                     [--compute-hosts-per-zone N] [--concurrency N] [--channels N]\n"
         "                     [--seconds S] [--warmup S] [--label TEXT] [--json FILE]\n"
         "Without --endpoint, starts `thingtank serve` (PATH, default the build tree's) on free\n"
         "ports with a temp data dir and --compute-hosts-per-zone N (default 100), and stops it\n"
         "at the end. With --endpoint, that server must be empty of instances.\n"
         "Runs: setup, health, describe, health, put, stats, stats_hour, health, run, health\n"
         "  describe    DescribeInstances of all --instances (default 1000) t2.nano\n"
         "  put         PutMetricData, 1,000 points per call\n"
         "  stats       GetMetricStatistics over one day of 1-minute data, period 60, c=1\n"
         "  stats_hour  the same with period 3600, c=1\n"
         "  run         RunInstances, one t2.nano per call\n"
         "--json FILE writes the runs and the figures (with targets) as JSON.\n";
}

// ---------------------------------------------------------------- figures

// One figure of the issue: a measured value against its target (none for
// the figures it only asks to report).
struct Figure {
  std::string what;
  double value = NAN;
  std::string unit;
  enum Kind { kNone, kAtLeast, kAtMost } kind = kNone;
  double target = 0;
  bool Met() const { return kind == kAtLeast ? value >= target : kind == kAtMost ? value <= target : true; }
};

std::string Number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, std::fabs(v) < 10 ? "%.3g" : "%.0f", v);
  return buf;
}

void PrintFigures(const std::vector<Figure>& figures) {
  auto label = [](const Figure& f) { return f.what + " (" + f.unit + ")"; };
  int width = 6;
  for (const Figure& f : figures) width = std::max(width, static_cast<int>(label(f).size()));
  std::printf("\n%-*s %10s  %-10s %s\n", width, "figure", "measured", "target", "result");
  for (const Figure& f : figures) {
    const std::string target =
        f.kind == Figure::kNone ? "(none)" : (f.kind == Figure::kAtLeast ? ">= " : "<= ") + Number(f.target);
    const std::string result = f.kind == Figure::kNone ? "reported" : std::isnan(f.value) ? "NOT MEASURED"
                               : f.Met()               ? "met"
                                                       : "NOT MET";
    std::printf("%-*s %10s  %-10s %s\n", width, label(f).c_str(), Number(f.value).c_str(), target.c_str(),
                result.c_str());
  }
  std::fflush(stdout);
}

std::string FigureJson(const Figure& f) {
  std::ostringstream j;
  j << "{\"what\": \"" << bench::JsonEscape(f.what) << "\", \"value\": ";
  if (std::isnan(f.value)) {
    j << "null";
  } else {
    j << f.value;
  }
  j << ", \"unit\": \"" << bench::JsonEscape(f.unit) << "\", \"target\": ";
  if (f.kind == Figure::kNone) {
    j << "null, \"comparison\": null, \"met\": null}";
  } else {
    j << f.target << ", \"comparison\": \"" << (f.kind == Figure::kAtLeast ? ">=" : "<=")
      << "\", \"met\": " << (!std::isnan(f.value) && f.Met() ? "true" : "false") << "}";
  }
  return j.str();
}

bool WriteJson(const std::string& path, const Options& o, const std::string& endpoint,
               const std::vector<Result>& results, const std::vector<Figure>& figures) {
  std::ofstream out(path);
  out << "{\"program\": \"" << kProgram << "\", \"endpoint\": \"" << bench::JsonEscape(endpoint)
      << "\", \"label\": \"" << bench::JsonEscape(o.label) << "\", \"instances\": " << o.instances
      << ", \"concurrency\": " << o.concurrency << ", \"seconds\": " << o.seconds << ",\n \"results\": [";
  for (size_t i = 0; i < results.size(); ++i) out << (i ? ",\n  " : "\n  ") << bench::ToJson(results[i], kNames);
  out << "\n ],\n \"figures\": [";
  for (size_t i = 0; i < figures.size(); ++i) out << (i ? ",\n  " : "\n  ") << FigureJson(figures[i]);
  out << "\n ]}\n";
  out.close();
  if (!out) {
    std::cerr << kProgram << ": cannot write " << path << "\n";
    return false;
  }
  return true;
}

// ---------------------------------------------------------------- the bench

grpc::ByteBuffer Serialized(const google::protobuf::Message& m) {
  const std::string bytes = m.SerializeAsString();
  grpc::Slice slice(bytes);
  return grpc::ByteBuffer(&slice, 1);
}

google::protobuf::Timestamp ProtoTime(std::chrono::system_clock::time_point t) {
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
  google::protobuf::Timestamp ts;
  ts.set_seconds(us / 1'000'000);
  ts.set_nanos(static_cast<int32_t>(us % 1'000'000) * 1000);
  return ts;
}

std::string Method(const std::string& service, const char* method) { return "/" + service + "/" + method; }

class Bench {
 public:
  Bench(const Options& o, std::string endpoint)
      : o_(o), endpoint_(std::move(endpoint)), conns_(endpoint_, o.channels), run_id_(bench::RunId()) {
    ec2_ = cv1::ComputeService::NewStub(conns_.channel(0));
    cloudwatch_ = cv1::CloudWatchService::NewStub(conns_.channel(0));
  }

  bool WaitConnected() { return conns_.WaitConnected(kProgram); }

  // Launches --instances t2.nano and puts the day of 1-minute data.
  bool Setup() {
    const auto t0 = bench::Clock::now();
    for (int launched = 0; launched < o_.instances;) {
      cv1::RunInstancesRequest req = LaunchRequest();
      const int n = std::min(kMaxPerRun, o_.instances - launched);
      req.set_min_count(n);
      req.set_max_count(n);
      cv1::RunInstancesResponse resp;
      grpc::ClientContext ctx;
      bench::SetDeadline(&ctx);
      if (!Check(ec2_->RunInstances(&ctx, req, &resp), "setup RunInstances")) return false;
      launched += resp.instances_size();
    }
    // One day of 1-minute data ending at the last whole hour (so hourly
    // periods are whole too): 1,440 points in two calls (at most 1,000 each).
    const auto now = std::chrono::system_clock::now();
    const auto minute = std::chrono::minutes(1);
    day_end_ = std::chrono::floor<std::chrono::hours>(now);
    day_start_ = day_end_ - kDayMinutes * minute;
    for (int first = 0; first < kDayMinutes; first += kPointsPerPut) {
      cv1::PutMetricDataRequest req;
      req.set_namespace_(kNamespace);
      for (int m = first; m < std::min(kDayMinutes, first + kPointsPerPut); ++m) {
        cv1::MetricDatum* d = req.add_metric_data();
        d->set_metric_name("DayMetric");
        AddDimension(d, "Run", run_id_);
        d->set_value(50 + 40 * std::sin(m / 60.0));
        d->set_unit("Percent");
        *d->mutable_timestamp() = ProtoTime(day_start_ + m * minute);
      }
      cv1::PutMetricDataResponse resp;
      grpc::ClientContext ctx;
      bench::SetDeadline(&ctx);
      if (!Check(cloudwatch_->PutMetricData(&ctx, req, &resp), "setup PutMetricData")) return false;
    }
    // What the measured calls will return, checked once.
    described_ = CountDescribed();
    if (described_ < 0) return false;
    if (described_ != o_.instances) {
      std::cerr << kProgram << ": DescribeInstances returns " << described_ << " instances, not "
                << o_.instances << " (an --endpoint server must be empty)\n";
    }
    for (int period : {60, 3600}) {
      cv1::GetMetricStatisticsResponse resp;
      grpc::ClientContext ctx;
      bench::SetDeadline(&ctx);
      if (!Check(cloudwatch_->GetMetricStatistics(&ctx, StatsRequest(period), &resp), "GetMetricStatistics")) {
        return false;
      }
      datapoints_[period] = resp.datapoints_size();
      if (resp.datapoints_size() != kDayMinutes * 60 / period) {
        std::cerr << kProgram << ": GetMetricStatistics period " << period << " gives " << resp.datapoints_size()
                  << " datapoints, not " << kDayMinutes * 60 / period << "\n";
      }
    }
    std::printf("setup: %d instances launched, %d points put, %.1f s; DescribeInstances response %zu bytes\n",
                o_.instances, kDayMinutes, std::chrono::duration<double>(bench::Clock::now() - t0).count(),
                describe_bytes_);
    std::fflush(stdout);
    return true;
  }

  Result Health() {
    return Closed("health", o_.concurrency, [&](Loop* loop, int i) -> std::unique_ptr<Worker> {
      return std::make_unique<bench::HealthWorker>(loop, conns_.generic(static_cast<size_t>(i)));
    });
  }

  Result Describe() {
    const uint64_t n = static_cast<uint64_t>(std::max(0, described_));
    return Raw("describe", o_.concurrency, Method(cv1::ComputeService::service_full_name(), "DescribeInstances"),
               {Serialized(cv1::DescribeInstancesRequest())}, n);
  }

  Result Put() {
    cv1::PutMetricDataRequest req;
    req.set_namespace_(kNamespace);
    for (int i = 0; i < kPointsPerPut; ++i) {
      cv1::MetricDatum* d = req.add_metric_data();
      d->set_metric_name("Temperature");
      AddDimension(d, "Device", "device-" + std::to_string(i));
      d->set_value(20.0 + i % 10);
      d->set_unit("None");
    }
    return Raw("put", o_.concurrency, Method(cv1::CloudWatchService::service_full_name(), "PutMetricData"),
               {Serialized(req)}, kPointsPerPut);
  }

  Result Stats(const std::string& scenario, int period) {
    return Raw(scenario, 1, Method(cv1::CloudWatchService::service_full_name(), "GetMetricStatistics"),
               {Serialized(StatsRequest(period))}, static_cast<uint64_t>(datapoints_[period]));
  }

  Result Run() {
    return Raw("run", o_.concurrency, Method(cv1::ComputeService::service_full_name(), "RunInstances"),
               {Serialized(LaunchRequest())}, 1);
  }

  size_t describe_bytes() const { return describe_bytes_; }
  int described() const { return described_; }

 private:
  using Factory = bench::WorkerFactory;

  Result Closed(const std::string& scenario, int concurrency, const Factory& make) {
    std::cerr << "measuring " << scenario << std::endl;
    Result r = bench::RunClosed(scenario, concurrency, o_.channels, o_.warmup, o_.seconds, make);
    std::cerr << "measured " << scenario << std::endl;
    return r;
  }

  // A closed loop of one method with fixed pre-serialized requests; every
  // successful call moved `units`.
  Result Raw(const std::string& scenario, int concurrency, const std::string& method,
             std::vector<grpc::ByteBuffer> requests, uint64_t units) {
    return Closed(scenario, concurrency, [&, method, requests, units](Loop* loop, int i) -> std::unique_ptr<Worker> {
      return std::make_unique<bench::RawWorker>(
          loop, conns_.generic(static_cast<size_t>(i)), method, requests,
          [units](const grpc::ByteBuffer&, bench::RawWorker*) -> uint64_t { return units; });
    });
  }

  static cv1::RunInstancesRequest LaunchRequest() {
    cv1::RunInstancesRequest req;
    req.set_image_id("ami-0abcdef1");
    req.set_instance_type("t2.nano");
    req.set_min_count(1);
    req.set_max_count(1);
    return req;
  }

  static void AddDimension(cv1::MetricDatum* d, const std::string& name, const std::string& value) {
    cv1::Dimension* dim = d->add_dimensions();
    dim->set_name(name);
    dim->set_value(value);
  }

  cv1::GetMetricStatisticsRequest StatsRequest(int period) const {
    cv1::GetMetricStatisticsRequest req;
    req.set_namespace_(kNamespace);
    req.set_metric_name("DayMetric");
    cv1::Dimension* dim = req.add_dimensions();
    dim->set_name("Run");
    dim->set_value(run_id_);
    *req.mutable_start_time() = ProtoTime(day_start_);
    *req.mutable_end_time() = ProtoTime(day_end_);
    req.set_period(period);
    for (auto s : {cv1::STATISTIC_AVERAGE, cv1::STATISTIC_SUM, cv1::STATISTIC_MINIMUM, cv1::STATISTIC_MAXIMUM,
                   cv1::STATISTIC_SAMPLE_COUNT}) {
      req.add_statistics(s);
    }
    return req;
  }

  int CountDescribed() {
    cv1::DescribeInstancesResponse resp;
    grpc::ClientContext ctx;
    bench::SetDeadline(&ctx);
    if (!Check(ec2_->DescribeInstances(&ctx, cv1::DescribeInstancesRequest(), &resp), "DescribeInstances")) {
      return -1;
    }
    describe_bytes_ = resp.ByteSizeLong();
    return resp.instances_size();
  }

  static bool Check(const grpc::Status& s, const char* what) {
    if (s.ok()) return true;
    std::cerr << kProgram << ": " << what << " failed: " << s.error_code() << " " << s.error_message() << "\n";
    return false;
  }

  const Options o_;
  const std::string endpoint_;
  bench::Connections conns_;
  const std::string run_id_;
  std::unique_ptr<cv1::ComputeService::Stub> ec2_;
  std::unique_ptr<cv1::CloudWatchService::Stub> cloudwatch_;
  std::chrono::system_clock::time_point day_start_, day_end_;
  std::map<int, int> datapoints_;
  int described_ = 0;
  size_t describe_bytes_ = 0;
};

// Takes "--json FILE", "--thingtank PATH" (and notes --endpoint) out of argv
// for ParseArgs, whose --json means JSON on stdout.
std::vector<char*> OwnFlags(int argc, char** argv, Options* o, bool* ok) {
  std::vector<char*> rest = {argv[0]};
  *ok = true;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    for (const char* flag : {"--json", "--thingtank"}) {
      std::string* into = std::string(flag) == "--json" ? &o->json_path : &o->thingtank;
      if (a == flag) {
        if (i + 1 >= argc) {
          std::cerr << kProgram << ": " << flag << " needs a value\n";
          *ok = false;
          return rest;
        }
        *into = argv[++i];
        a.clear();
        break;
      }
      if (a.rfind(std::string(flag) + "=", 0) == 0) {
        *into = a.substr(std::string(flag).size() + 1);
        a.clear();
        break;
      }
    }
    if (a.empty()) continue;
    if (a == "--endpoint" || a.rfind("--endpoint=", 0) == 0) o->own_server = false;
    rest.push_back(argv[i]);
  }
  return rest;
}

// Mean calls/s of the baseline runs at `i` - 1 and `i` + 1 of `runs`.
double BaselineAround(const std::vector<Result>& runs, size_t i) {
  double sum = 0;
  int n = 0;
  for (size_t j : {i - 1, i + 1}) {
    if (j < runs.size() && runs[j].scenario == "health") {
      sum += runs[j].calls_per_s;
      ++n;
    }
  }
  return n ? sum / n : NAN;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  bool ok = true;
  std::vector<char*> rest = OwnFlags(argc, argv, &o, &ok);
  if (!ok || !bench::ParseArgs(static_cast<int>(rest.size()), rest.data(), kProgram, Usage, &o,
                               {{"--instances", &o.instances}, {"--compute-hosts-per-zone", &o.hosts_per_zone}})) {
    return 2;
  }
  if (o.json) {
    std::cerr << kProgram << ": --json needs a FILE\n";
    return 2;
  }
  std::unique_ptr<bench::ServeChild> server;
  std::string endpoint = o.endpoint;
  if (o.own_server) {
    if (o.thingtank.empty()) o.thingtank = bench::DefaultThingtank(argv[0]);
    server = bench::ServeChild::Start(kProgram, o.thingtank, "",
                                      {"--gateway-port", "0", "--metrics-port", "0", "--wamp-ws-port", "0",
                                       "--compute-hosts-per-zone", std::to_string(o.hosts_per_zone)},
                                      "gateway");
    if (!server) return 1;
    endpoint = server->endpoint();
  }
  std::printf("compute_bench %s%s%s%s: concurrency %d over %d channels, %.1f s per run (+%.1f s warm-up)\n",
              endpoint.c_str(), server ? " (started, pid " : "", server ? std::to_string(server->pid()).c_str() : "",
              server ? ")" : "", o.concurrency, o.channels, o.seconds, o.warmup);
  std::fflush(stdout);

  Bench b(o, endpoint);
  if (!b.WaitConnected() || !b.Setup()) return 1;
  std::vector<Result> runs;
  auto add = [&](Result r) {
    bench::PrintHuman(r, kNames);
    runs.push_back(std::move(r));
    return runs.size() - 1;
  };
  add(b.Health());
  const size_t describe = add(b.Describe());
  add(b.Health());
  const size_t put = add(b.Put());
  const size_t stats = add(b.Stats("stats", 60));
  const size_t stats_hour = add(b.Stats("stats_hour", 3600));
  add(b.Health());
  const size_t run = add(b.Run());
  add(b.Health());

  const std::string n = std::to_string(b.described());
  std::vector<Figure> figures = {
      {"DescribeInstances (one response of " + n + " instances) calls/s / empty health Check calls/s",
       runs[describe].calls_per_s /
           BaselineAround(runs, describe), "ratio", Figure::kAtLeast, 0.3},
      {"DescribeInstances of " + n + " instances", runs[describe].calls_per_s, "calls/s"},
      {"DescribeInstances of " + n + " instances", runs[describe].units_per_s, "instances/s"},
      {"RunInstances (1 t2.nano per call), calls/s / health calls/s", runs[run].calls_per_s /
           BaselineAround(runs, run), "ratio"},
      {"RunInstances (1 t2.nano per call)", runs[run].calls_per_s, "calls/s"},
      {"health Check baseline, mean of the runs around describe", BaselineAround(runs, describe), "calls/s"},
      {"PutMetricData, 1,000 points per call", runs[put].units_per_s, "points/s", Figure::kAtLeast, 200000},
      {"GetMetricStatistics, 1 day of 1-min data, period 60, c=1, p99", runs[stats].p99_us / 1000, "ms",
       Figure::kAtMost, 2},
      {"GetMetricStatistics, 1 day of 1-min data, period 60, c=1, p50", runs[stats].p50_us / 1000, "ms"},
      {"GetMetricStatistics, 1 day of 1-min data, period 3600, c=1, p99", runs[stats_hour].p99_us / 1000, "ms"},
  };
  uint64_t errors = 0;
  for (const Result& r : runs) errors += r.errors;
  figures.push_back({"errors over all runs", static_cast<double>(errors), "calls", Figure::kAtMost, 0});
  PrintFigures(figures);
  if (!o.json_path.empty() && !WriteJson(o.json_path, o, endpoint, runs, figures)) return 1;
  return 0;
}
