// compute_domain_bench: the domain-level figures of the compute issue's
// "Benchmark" (figures 4 to 6; tools/bench/compute_bench has the gRPC ones).
// A program, not a test: it links the domain (tools/ may use generated
// clients only, so it lives here) and times the classes directly, each on a
// RocksDB in a fresh temp dir (removed at the end):
//   alarms     MetricStore + Alarms on a ManualClock, --alarms alarms (period
//              60, one datapoint each, an OK and an ALARM action into a sink
//              that does nothing); per tick the minute's data is put (not
//              timed) and Alarms::EvaluateDue(boundary) is timed: --ticks
//              ticks where no alarm changes state, then --flip-ticks where
//              every alarm does (OK <-> ALARM, one history item and one action
//              each); the tick's thread CPU time too (the machines are shared)
//   stats      MetricStore::GetMetricStatistics over a day of 1-minute data
//              (1,440 datapoints) and its serialization (compute_bench's stats
//              scenario without gRPC), on the same store
//   placement  Placement with --instances instances of mixed small types on
//              --hosts hosts (5 zones); each timed placement (alternately Place
//              in a given zone, and the zone choice RunInstances makes without
//              one + Place) is followed by an untimed Release of the oldest
//              instance (steady state), for --seconds
//   run        Instances::RunInstances of one instance (mixed types) with
//              --instances running on --hosts hosts: placement, state, the
//              RocksDB write; every 100 calls the 100 are terminated and the
//              clock moved on (untimed) so the running count stays
//   describe   Instances::DescribeInstances of 1,000 instances and the
//              response's serialization (where compute_bench's describe time goes)
//   launch     ComputeService on a RealClock (--time-scale, default 60: a
//              minute per second) with its ThreadPool: per repetition a group
//              (0..1), a simple policy (+1) and an alarm on a metric whose
//              datapoint breaches; from the wall time of the alarm period's
//              end (the minute boundary) to the group's instance existing
//              (Pending), polled every 100 us; also to its launch_time and to
//              the scaling activity's start (clock times, converted to wall)
// Prints one line per measurement and one per figure with its target, met or
// not; --json FILE writes them. Linked with jemalloc as `thingtank` is: with
// glibc malloc the allocation-heavy paths here (GetMetricStatistics,
// DescribeInstances) take up to 8x longer than in the server.

#include <time.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "services/common/clock.h"
#include "services/common/executor.h"
#include "services/common/log.h"
#include "services/common/storage/db.h"
#include "services/compute/cloudwatch/alarms.h"
#include "services/compute/cloudwatch/metric_store.h"
#include "services/compute/compute_domain_bench_report.h"
#include "services/compute/compute_service.h"
#include "services/compute/drivers/simulated_driver.h"
#include "services/compute/instance_types.h"
#include "services/compute/instances.h"
#include "services/compute/placement.h"
#include "services/compute/proto_time.h"

namespace thingtank::compute {
namespace {

using bench_report::Figure;
using bench_report::Measured;
using bench_report::Print;
using bench_report::PrintFigures;
using bench_report::Summarize;
using bench_report::ToJson;
using Json = nlohmann::json;
using SteadyClock = std::chrono::steady_clock;

constexpr const char* kProgram = "compute_domain_bench";
// A minute boundary (2025-12-02 10:00:00 UTC), as serve's clock would reach.
constexpr int64_t kStartUnixSeconds = 1'764'669'600;
// Small types, so 10,000 fit on 1,000 hosts with room to spare.
constexpr const char* kMixedTypes[] = {"t2.nano", "t2.micro", "t3.small", "m5.large",
                                       "c5.xlarge", "t2.medium", "r5.large", "m5.xlarge"};

struct Options {
  int alarms = 10000;
  int ticks = 50;
  int flip_ticks = 10;
  int instances = 10000;
  int hosts = 1000;
  double seconds = 1.0;
  int launches = 20;
  double time_scale = 60;
  std::string json_path;
  std::string only;  // empty: every part
};

void Usage(std::ostream& out) {
  out << "usage: compute_domain_bench [--alarms N] [--ticks N] [--flip-ticks N] [--instances N] [--hosts N]\n"
         "                            [--seconds S] [--launches N] [--time-scale X]\n"
         "                            [--only alarms|placement|run|describe|launch] [--json FILE]\n"
         "  --alarms      alarms evaluated per tick (default 10000)\n"
         "  --ticks       timed ticks without transitions (default 50)\n"
         "  --flip-ticks  timed ticks where every alarm transitions (default 10)\n"
         "  --instances   running instances for placement and RunInstances (default 10000)\n"
         "  --hosts       hosts for them, over 5 zones (default 1000)\n"
         "  --seconds     how long bare placement is sampled (default 1)\n"
         "  --launches    alarm-to-launch repetitions (default 20)\n"
         "  --time-scale  RealClock speed for them (default 60: one alarm minute per second)\n";
}

bool ParseArgs(int argc, char** argv, Options* o) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i], v;
    const size_t eq = a.find('=');
    if (a.rfind("--", 0) == 0 && eq != std::string::npos) {
      v = a.substr(eq + 1);
      a = a.substr(0, eq);
    } else if (a != "--help" && a != "-h") {
      if (i + 1 >= argc) {
        std::cerr << kProgram << ": " << a << " needs a value\n";
        return false;
      }
      v = argv[++i];
    }
    auto positive_int = [&](int* into) {
      *into = std::atoi(v.c_str());
      return *into > 0;
    };
    bool ok = true;
    if (a == "--help" || a == "-h") {
      Usage(std::cout);
      std::exit(0);
    } else if (a == "--alarms") {
      ok = positive_int(&o->alarms);
    } else if (a == "--ticks") {
      ok = positive_int(&o->ticks);
    } else if (a == "--flip-ticks") {
      ok = positive_int(&o->flip_ticks);
    } else if (a == "--instances") {
      ok = positive_int(&o->instances);
    } else if (a == "--hosts") {
      ok = positive_int(&o->hosts) && o->hosts >= 5;
    } else if (a == "--launches") {
      ok = positive_int(&o->launches);
    } else if (a == "--seconds") {
      o->seconds = std::atof(v.c_str());
      ok = o->seconds > 0;
    } else if (a == "--time-scale") {
      o->time_scale = std::atof(v.c_str());
      ok = o->time_scale >= 1;
    } else if (a == "--json") {
      o->json_path = v;
    } else if (a == "--only") {
      o->only = v;
    } else {
      std::cerr << kProgram << ": unknown argument " << a << "\n";
      Usage(std::cerr);
      return false;
    }
    if (!ok) {
      std::cerr << kProgram << ": bad value for " << a << ": " << v << "\n";
      return false;
    }
  }
  return true;
}

// ---------------------------------------------------------------- fixtures

// A fresh directory under /tmp, removed with its contents at the end.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix) {
    std::string pattern = "/tmp/" + prefix + "XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) {
      std::perror("compute_domain_bench: mkdtemp");
      std::exit(1);
    }
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::unique_ptr<Db> OpenDb(const TempDir& dir, std::vector<std::string> cfs) {
  Db::Options options;
  options.path = dir.path() + "/db";
  options.column_families = std::move(cfs);
  auto db = Db::Open(options);
  if (!db.ok()) {
    std::cerr << kProgram << ": opening RocksDB: " << db.status() << "\n";
    std::exit(1);
  }
  return *std::move(db);
}

template <typename T>
T Must(absl::StatusOr<T> v, const char* what) {
  if (!v.ok()) {
    std::cerr << kProgram << ": " << what << ": " << v.status() << "\n";
    std::exit(1);
  }
  return *std::move(v);
}

void Must(const absl::Status& s, const char* what) {
  if (!s.ok()) {
    std::cerr << kProgram << ": " << what << ": " << s << "\n";
    std::exit(1);
  }
}

int64_t NsSince(SteadyClock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(SteadyClock::now() - t).count();
}

// CPU time of the calling thread.
int64_t ThreadCpuNs() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

// Takes every action and does nothing; no action repeats. Notes when the
// first action of a tick ran (EvaluateDue runs them after its commit), so a
// tick splits into evaluate + commit and actions + their history commit.
// Called on the evaluating thread only.
class NullSink final : public AlarmActionSink {
 public:
  absl::Status CheckAction(const std::string&) override { return absl::OkStatus(); }
  bool RepeatsWhileInAlarm(const std::string&) override { return false; }
  absl::Status RunAction(const std::string&, const AlarmActionEvent&) override {
    if (!first_action_) first_action_ = SteadyClock::now();
    ++runs_;
    return absl::OkStatus();
  }
  int64_t runs() const { return runs_; }
  // The first action since the last call, if any.
  std::optional<SteadyClock::time_point> TakeFirstAction() { return std::exchange(first_action_, std::nullopt); }

 private:
  int64_t runs_ = 0;
  std::optional<SteadyClock::time_point> first_action_;
};

PlacementOptions Hosts(int hosts) {
  PlacementOptions p;
  p.zones = {"us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d", "us-east-1e"};
  p.hosts_per_zone = (hosts + 4) / 5;
  return p;
}

// ---------------------------------------------------------------- figure 4

struct AlarmFigures {
  Measured quiet, transitions, to_first_action, stats, stats_wire;
};

// MetricStore::GetMetricStatistics over one day of 1-minute data (period 60,
// five statistics: what compute_bench's stats scenario asks over gRPC) and
// its response's serialization: the server's share of that call.
void BenchStatistics(MetricStore* store, absl::Time end, AlarmFigures* f) {
  v1::PutMetricDataRequest r;
  r.set_namespace_("Bench");
  for (int m = 0; m < 1440; ++m) {
    v1::MetricDatum* d = r.add_metric_data();
    d->set_metric_name("DayMetric");
    d->set_value(50 + 40 * std::sin(m / 60.0));
    d->set_unit("Percent");
    *d->mutable_timestamp() = ToProto(end - absl::Minutes(1440 - m));
    if (r.metric_data_size() == 1000 || m == 1439) {
      Must(store->PutMetricData(r), "PutMetricData");
      r.clear_metric_data();
    }
  }
  v1::GetMetricStatisticsRequest q;
  q.set_namespace_("Bench");
  q.set_metric_name("DayMetric");
  *q.mutable_start_time() = ToProto(end - absl::Hours(24));
  *q.mutable_end_time() = ToProto(end);
  q.set_period(60);
  for (auto st : {v1::STATISTIC_AVERAGE, v1::STATISTIC_SUM, v1::STATISTIC_MINIMUM, v1::STATISTIC_MAXIMUM,
                  v1::STATISTIC_SAMPLE_COUNT}) {
    q.add_statistics(st);
  }
  std::vector<int64_t> get_ns, wire_ns;
  size_t bytes = 0;
  int datapoints = 0;
  for (int i = 0; i < 500; ++i) {
    auto t0 = SteadyClock::now();
    v1::GetMetricStatisticsResponse resp = Must(store->GetMetricStatistics(q), "GetMetricStatistics");
    get_ns.push_back(NsSince(t0));
    t0 = SteadyClock::now();
    bytes = resp.SerializeAsString().size();
    wire_ns.push_back(NsSince(t0));
    datapoints = resp.datapoints_size();
  }
  f->stats = Summarize("stats", "MetricStore::GetMetricStatistics, 1 day of 1-min data, period 60", get_ns);
  f->stats.extra["datapoints"] = datapoints;
  f->stats_wire = Summarize("stats_wire", "its response's SerializeAsString", wire_ns);
  f->stats_wire.extra["bytes"] = bytes;
}

AlarmFigures BenchAlarms(const Options& o) {
  TempDir dir("compute-domain-bench-alarms.");
  std::vector<std::string> cfs = MetricStore::ColumnFamilies();
  for (auto& cf : Alarms::ColumnFamilies()) cfs.push_back(cf);
  std::unique_ptr<Db> db = OpenDb(dir, cfs);
  ManualClock clock(absl::FromUnixSeconds(kStartUnixSeconds));
  NullSink sink;
  std::unique_ptr<MetricStore> store = Must(MetricStore::Open(db.get(), &clock), "MetricStore::Open");
  std::unique_ptr<Alarms> alarms = Must(Alarms::Open(db.get(), &clock, store.get(), &sink), "Alarms::Open");

  const auto t_setup = SteadyClock::now();
  for (int i = 0; i < o.alarms; ++i) {
    v1::PutMetricAlarmRequest a;
    a.set_alarm_name(absl::StrCat("alarm-", i));
    a.set_namespace_("Bench");
    a.set_metric_name("Load");
    v1::Dimension* d = a.add_dimensions();
    d->set_name("Device");
    d->set_value(absl::StrCat("device-", i));
    a.set_statistic(v1::STATISTIC_AVERAGE);
    a.set_period(60);
    a.set_evaluation_periods(1);
    a.set_threshold(50);
    a.set_comparison_operator(v1::COMPARISON_OPERATOR_GREATER_THAN_THRESHOLD);
    a.add_alarm_actions("bench:scale-up");
    a.add_ok_actions("bench:scale-down");
    Must(alarms->PutMetricAlarm(a), "PutMetricAlarm");
  }
  const double setup_s = std::chrono::duration<double>(SteadyClock::now() - t_setup).count();

  // Puts every alarm's datapoint for the minute ending at the next boundary,
  // moves the clock there and times the evaluation.
  int64_t put_ns = 0;
  int puts = 0;
  std::vector<int64_t> to_first_action;
  std::vector<int64_t> quiet_cpu, flip_cpu, setup_cpu;
  auto tick = [&](double value, std::vector<int64_t>* cpu) {
    const absl::Time boundary = clock.Now() + absl::Minutes(1);
    const auto t_put = SteadyClock::now();
    for (int first = 0; first < o.alarms; first += 1000) {
      v1::PutMetricDataRequest r;
      r.set_namespace_("Bench");
      for (int i = first; i < std::min(o.alarms, first + 1000); ++i) {
        v1::MetricDatum* d = r.add_metric_data();
        d->set_metric_name("Load");
        v1::Dimension* dim = d->add_dimensions();
        dim->set_name("Device");
        dim->set_value(absl::StrCat("device-", i));
        d->set_value(value);
        *d->mutable_timestamp() = ToProto(boundary - absl::Seconds(30));
      }
      Must(store->PutMetricData(r), "PutMetricData");
    }
    put_ns += NsSince(t_put);
    ++puts;
    clock.Advance(absl::Minutes(1));
    sink.TakeFirstAction();
    const int64_t cpu0 = ThreadCpuNs();
    const auto t0 = SteadyClock::now();
    Must(alarms->EvaluateDue(boundary), "EvaluateDue");
    const int64_t ns = NsSince(t0);
    cpu->push_back(ThreadCpuNs() - cpu0);
    if (auto first = sink.TakeFirstAction()) {
      to_first_action.push_back(std::chrono::duration_cast<std::chrono::nanoseconds>(*first - t0).count());
    }
    return ns;
  };

  // INSUFFICIENT_DATA -> OK for all (not counted), then quiet ticks, then
  // ticks that flip every alarm.
  tick(10, &setup_cpu);
  to_first_action.clear();
  std::vector<int64_t> quiet, flips;
  for (int t = 0; t < o.ticks; ++t) quiet.push_back(tick(10, &quiet_cpu));
  const AlarmCounts before = alarms->Counts();
  const int64_t actions_before = sink.runs();
  for (int t = 0; t < o.flip_ticks; ++t) flips.push_back(tick(t % 2 == 0 ? 90 : 10, &flip_cpu));
  const AlarmCounts after = alarms->Counts();

  AlarmFigures f;
  BenchStatistics(store.get(), clock.Now(), &f);
  f.quiet = Summarize("alarm_tick", absl::StrCat("EvaluateDue, ", o.alarms, " alarms due, no transition"), quiet);
  f.transitions = Summarize("alarm_tick_flip",
                            absl::StrCat("EvaluateDue, ", o.alarms, " alarms due, all transition"), flips);
  f.to_first_action = Summarize("alarm_tick_flip_eval",
                                "of which evaluate + stage + commit (to the first action)", to_first_action);
  const Measured quiet_cpu_m = Summarize("", "", quiet_cpu), flip_cpu_m = Summarize("", "", flip_cpu);
  f.quiet.extra["cpu_p50_us"] = quiet_cpu_m.p50_us;
  f.quiet.extra["cpu_p99_us"] = quiet_cpu_m.p99_us;
  f.transitions.extra["cpu_p50_us"] = flip_cpu_m.p50_us;
  f.transitions.extra["cpu_p99_us"] = flip_cpu_m.p99_us;
  f.quiet.extra["alarms"] = o.alarms;
  f.quiet.extra["setup_s"] = setup_s;
  f.quiet.extra["put_ms_per_tick"] = static_cast<double>(put_ns) / puts / 1e6;
  f.transitions.extra["transitions"] = after.transitions_total - before.transitions_total;
  f.transitions.extra["actions"] = sink.runs() - actions_before;
  return f;
}

// ---------------------------------------------------------------- figure 5

struct PlacementFigures {
  Measured in_zone, any_zone;
};

// Alternates two ways of placing: Place in a given zone (round robin), and
// the zone choice RunInstances makes without one (LeastLoadedZone, Fits)
// followed by Place, timed together.
PlacementFigures BenchPlacement(const Options& o) {
  Placement placement(Hosts(o.hosts));
  const std::vector<std::string>& zones = placement.zones();
  std::mt19937_64 rng(42);
  std::vector<const InstanceType*> types;
  for (const char* name : kMixedTypes) types.push_back(FindInstanceType(name));
  std::deque<std::string> placed;
  uint64_t next = 0;
  auto place = [&](bool choose_zone, std::vector<int64_t>* ns) {
    std::string id = absl::StrCat("i-", next);
    const InstanceType& type = *types[rng() % types.size()];
    const auto t0 = SteadyClock::now();
    std::string zone = zones[next % zones.size()];
    if (choose_zone) {
      zone = placement.LeastLoadedZone(type, 1);
      if (placement.Fits(zone, type) < 1) zone.clear();
    }
    auto host = placement.Place(zone, id, type);
    if (ns != nullptr) ns->push_back(NsSince(t0));
    Must(host.status(), "Place");
    ++next;
    placed.push_back(std::move(id));
  };
  for (int i = 0; i < o.instances; ++i) place(false, nullptr);
  std::vector<int64_t> in_zone, any_zone;
  in_zone.reserve(1 << 20);
  any_zone.reserve(1 << 18);
  const auto end = SteadyClock::now() + std::chrono::duration_cast<SteadyClock::duration>(
                                            std::chrono::duration<double>(o.seconds));
  while (SteadyClock::now() < end) {
    const bool choose = next % 2 == 1;
    place(choose, choose ? &any_zone : &in_zone);
    placement.Release(placed.front());
    placed.pop_front();
  }
  const std::string where =
      absl::StrCat(o.instances, " placed on ", Hosts(o.hosts).hosts_per_zone * 5, " hosts");
  PlacementFigures f;
  f.in_zone = Summarize("placement", absl::StrCat("Placement::Place in a given zone, ", where), std::move(in_zone));
  f.any_zone = Summarize("placement_any", absl::StrCat("LeastLoadedZone + Fits + Place (RunInstances without a zone), ",
                                                       where),
                         std::move(any_zone));
  int64_t used = 0, total = 0;
  for (const auto& u : placement.ZoneUtilization()) {
    used += u.used_vcpus;
    total += u.total_vcpus;
  }
  f.in_zone.extra["vcpus_used"] = used;
  f.in_zone.extra["vcpus_total"] = total;
  return f;
}

struct InstancesFigures {
  Measured run, describe, serialize;
};

InstancesFigures BenchInstances(const Options& o, bool run, bool describe) {
  TempDir dir("compute-domain-bench-instances.");
  std::unique_ptr<Db> db = OpenDb(dir, Instances::ColumnFamilies());
  ManualClock clock(absl::FromUnixSeconds(kStartUnixSeconds));
  InlineExecutor executor;
  SimulatedDriver simulated;
  InstancesOptions options;
  options.placement = Hosts(o.hosts);
  std::unique_ptr<Instances> instances =
      Must(Instances::Open(db.get(), &clock, &executor, {&simulated, nullptr}, options), "Instances::Open");
  std::mt19937_64 rng(7);
  auto request = [&](int count) {
    v1::RunInstancesRequest r;
    r.set_image_id("ami-0abcdef1");
    r.set_instance_type(kMixedTypes[rng() % std::size(kMixedTypes)]);
    r.set_min_count(count);
    r.set_max_count(count);
    return r;
  };
  InstancesFigures f;
  // The first 1,000 (t2.nano, as compute_bench launches them): DescribeInstances.
  for (int i = 0; i < 10; ++i) {
    v1::RunInstancesRequest r = request(100);
    r.set_instance_type("t2.nano");
    Must(instances->RunInstances(r), "RunInstances");
  }
  clock.Advance(absl::Seconds(11));  // pending -> running
  if (describe) {
    std::vector<int64_t> describe_ns, serialize_ns;
    size_t bytes = 0;
    for (int i = 0; i < 200; ++i) {
      auto t0 = SteadyClock::now();
      v1::DescribeInstancesResponse resp = Must(instances->DescribeInstances({}), "DescribeInstances");
      describe_ns.push_back(NsSince(t0));
      t0 = SteadyClock::now();
      std::string wire = resp.SerializeAsString();
      serialize_ns.push_back(NsSince(t0));
      bytes = wire.size();
    }
    f.describe = Summarize("describe", "Instances::DescribeInstances of 1,000 running", std::move(describe_ns));
    f.serialize = Summarize("describe_wire", "its response's SerializeAsString", std::move(serialize_ns));
    f.serialize.extra["bytes"] = bytes;
  }
  if (!run) return f;
  for (int launched = 1000; launched < o.instances; launched += 100) {
    Must(instances->RunInstances(request(std::min(100, o.instances - launched))), "RunInstances");
  }
  clock.Advance(absl::Seconds(11));
  std::vector<int64_t> ns;
  const int calls = 2000;
  std::vector<std::string> batch;
  for (int i = 0; i < calls; ++i) {
    v1::RunInstancesRequest r = request(1);
    const auto t0 = SteadyClock::now();
    v1::RunInstancesResponse resp = Must(instances->RunInstances(r), "RunInstances");
    ns.push_back(NsSince(t0));
    batch.push_back(resp.instances(0).instance_id());
    if (batch.size() == 100) {
      v1::TerminateInstancesRequest t;
      for (auto& id : batch) t.add_instance_ids(id);
      Must(instances->TerminateInstances(t), "TerminateInstances");
      batch.clear();
      clock.Advance(absl::Seconds(6));  // shutting-down -> terminated: capacity back
    }
  }
  f.run = Summarize("run_instances",
                    absl::StrCat("Instances::RunInstances of 1 with ", o.instances, " running on ",
                                 Hosts(o.hosts).hosts_per_zone * 5, " hosts (RocksDB write included)"),
                    std::move(ns));
  return f;
}

// ---------------------------------------------------------------- figure 6

struct LaunchFigures {
  Measured polled, launch_time, activity;
  int missed = 0;
};

LaunchFigures BenchLaunch(const Options& o) {
  TempDir dir("compute-domain-bench-launch.");
  std::unique_ptr<Db> db = OpenDb(dir, ComputeService::ColumnFamilies());
  RealClock clock(o.time_scale);
  ThreadPool executor("compute-exec", 4, 20000);
  SimulatedDriver simulated;
  std::unique_ptr<ComputeService> service =
      Must(ComputeService::Open(db.get(), &clock, &executor, {&simulated, nullptr}), "ComputeService::Open");
  service->Start();
  AutoScaling* as = service->autoscaling();
  v1::CreateLaunchConfigurationRequest lc;
  lc.set_launch_configuration_name("bench-lc");
  lc.set_image_id("ami-0abcdef1");
  lc.set_instance_type("t1.micro");
  Must(as->CreateLaunchConfiguration(lc), "CreateLaunchConfiguration");

  // The wall time at which the clock reads `t`, from one (wall, clock) pair.
  auto wall_of = [&](absl::Time t) {
    const absl::Time w0 = absl::Now();
    const absl::Time c = clock.Now();
    const absl::Time w1 = absl::Now();
    return w0 + (w1 - w0) / 2 + (t - c) / o.time_scale;
  };

  std::vector<int64_t> polled, launch_time, activity;
  LaunchFigures f;
  for (int rep = 0; rep < o.launches; ++rep) {
    const std::string group = absl::StrCat("bench-group-", rep);
    // Start just after a boundary, so the setup below ends well inside the minute.
    const absl::Time now = clock.Now();
    const absl::Time boundary = absl::FromUnixSeconds((absl::ToUnixSeconds(now) / 60 + 1) * 60);
    if (boundary - now < absl::Seconds(20)) {
      std::this_thread::sleep_for(absl::ToChronoNanoseconds((boundary - now) / o.time_scale) +
                                  std::chrono::milliseconds(20));
      --rep;
      continue;
    }
    v1::CreateAutoScalingGroupRequest g;
    g.set_auto_scaling_group_name(group);
    g.set_launch_configuration_name("bench-lc");
    g.add_availability_zones("us-east-1a");
    g.set_min_size(0);
    g.set_max_size(1);
    Must(as->CreateAutoScalingGroup(g), "CreateAutoScalingGroup");
    v1::PutScalingPolicyRequest p;
    p.set_auto_scaling_group_name(group);
    p.set_policy_name("up");
    p.set_adjustment_type(v1::ADJUSTMENT_TYPE_CHANGE_IN_CAPACITY);
    p.set_scaling_adjustment(1);
    p.set_cooldown(0);
    const std::string arn = Must(as->PutScalingPolicy(p), "PutScalingPolicy").policy_arn();
    v1::PutMetricAlarmRequest a;
    a.set_alarm_name(absl::StrCat("bench-alarm-", rep));
    a.set_namespace_("Bench/Launch");
    a.set_metric_name("Load");
    v1::Dimension* d = a.add_dimensions();
    d->set_name("Rep");
    d->set_value(absl::StrCat(rep));
    a.set_statistic(v1::STATISTIC_AVERAGE);
    a.set_period(60);
    a.set_evaluation_periods(1);
    a.set_threshold(50);
    a.set_comparison_operator(v1::COMPARISON_OPERATOR_GREATER_THAN_THRESHOLD);
    a.add_alarm_actions(arn);
    Must(service->alarms()->PutMetricAlarm(a), "PutMetricAlarm");
    v1::PutMetricDataRequest data;
    data.set_namespace_("Bench/Launch");
    v1::MetricDatum* datum = data.add_metric_data();
    datum->set_metric_name("Load");
    *datum->add_dimensions() = *d;
    datum->set_value(100);
    *datum->mutable_timestamp() = ToProto(clock.Now());
    Must(service->metrics()->PutMetricData(data), "PutMetricData");
    if (clock.Now() >= boundary) {
      std::cerr << kProgram << ": launch " << rep << ": setup crossed the boundary; skipped\n";
      ++f.missed;
      continue;
    }
    const absl::Time boundary_wall = wall_of(boundary);

    v1::DescribeInstancesRequest by_group;
    v1::Filter* filter = by_group.add_filters();
    filter->set_name("auto-scaling-group");
    filter->add_values(group);
    const absl::Time give_up = boundary_wall + absl::Seconds(5);
    std::optional<v1::Instance> found;
    absl::Time found_wall;
    while (!found && absl::Now() < give_up) {
      std::this_thread::sleep_for(std::chrono::microseconds(100));
      v1::DescribeInstancesResponse resp = Must(service->instances()->DescribeInstances(by_group), "Describe");
      if (resp.instances_size() > 0) {
        found_wall = absl::Now();
        found = resp.instances(0);
      }
    }
    if (!found) {
      std::cerr << kProgram << ": launch " << rep << ": no instance 5 s after the boundary\n";
      ++f.missed;
      continue;
    }
    polled.push_back(absl::ToInt64Nanoseconds(found_wall - boundary_wall));
    // Clock times of the launch and of the activity, as wall offsets from the boundary.
    launch_time.push_back(absl::ToInt64Nanoseconds((FromProto(found->launch_time()) - boundary) / o.time_scale));
    v1::DescribeScalingActivitiesRequest ar;
    ar.set_auto_scaling_group_name(group);
    auto acts = Must(as->DescribeScalingActivities(ar), "DescribeScalingActivities");
    if (acts.activities_size() > 0) {
      absl::Time first = FromProto(acts.activities(0).start_time());
      for (const auto& act : acts.activities()) first = std::min(first, FromProto(act.start_time()));
      activity.push_back(absl::ToInt64Nanoseconds((first - boundary) / o.time_scale));
    }
  }
  f.polled = Summarize("alarm_to_launch", "boundary -> Pending instance seen (polled every 100 us), wall",
                       std::move(polled));
  f.polled.extra["time_scale"] = o.time_scale;
  f.polled.extra["missed"] = f.missed;
  f.launch_time = Summarize("to_launch_time", "boundary -> the instance's launch_time, wall", std::move(launch_time));
  f.activity = Summarize("to_activity", "boundary -> the launch activity's start_time, wall", std::move(activity));
  return f;
}

}  // namespace
}  // namespace thingtank::compute

int main(int argc, char** argv) {
  using namespace thingtank::compute;  // NOLINT: main only
  Options o;
  if (!ParseArgs(argc, argv, &o)) return 2;
  thingtank::InitLogging("warn");
  auto want = [&](const char* part) { return o.only.empty() || o.only == part; };
  std::printf("%s: %d alarms x %d + %d ticks, %d instances on %d hosts, %d launches at time scale %g\n", kProgram,
              o.alarms, o.ticks, o.flip_ticks, o.instances, o.hosts, o.launches, o.time_scale);
  std::fflush(stdout);

  std::vector<Measured> measured;
  std::vector<Figure> figures;
  auto add = [&](const Measured& m) {
    Print(m);
    measured.push_back(m);
  };
  if (want("alarms")) {
    AlarmFigures a = BenchAlarms(o);
    add(a.quiet);
    add(a.transitions);
    add(a.to_first_action);
    add(a.stats);
    add(a.stats_wire);
    const std::string n = std::to_string(o.alarms);
    figures.push_back({"alarm tick, " + n + " alarms, no transition, p99", a.quiet.p99_us / 1000, "ms",
                       Figure::kAtMost, 20});
    figures.push_back({"alarm tick, " + n + " alarms, no transition, p50", a.quiet.p50_us / 1000, "ms"});
    figures.push_back({"alarm tick, " + n + " alarms, no transition, thread CPU p99",
                       a.quiet.extra["cpu_p99_us"].get<double>() / 1000, "ms"});
    figures.push_back({"alarm tick, " + n + " alarms, all transition, p99", a.transitions.p99_us / 1000, "ms"});
    figures.push_back({"alarm tick, " + n + " alarms, all transition, p50", a.transitions.p50_us / 1000, "ms"});
  }
  if (want("placement")) {
    PlacementFigures p = BenchPlacement(o);
    add(p.in_zone);
    add(p.any_zone);
    const std::string where = std::to_string(o.instances) + " on " + std::to_string(o.hosts) + " hosts";
    figures.push_back({"Placement::Place p99 (zone given), " + where, p.in_zone.p99_us, "us", Figure::kAtMost, 200});
    figures.push_back({"zone choice + Place p99 (no zone given), " + where, p.any_zone.p99_us, "us",
                       Figure::kAtMost, 200});
  }
  if (want("run") || want("describe")) {
    InstancesFigures i = BenchInstances(o, want("run"), want("describe"));
    if (want("describe")) {
      add(i.describe);
      add(i.serialize);
    }
    if (want("run")) {
      add(i.run);
      figures.push_back({"Instances::RunInstances p99, whole call (placement's limit applied)", i.run.p99_us, "us",
                         Figure::kAtMost, 200});
      figures.push_back({"Instances::RunInstances p50, whole call", i.run.p50_us, "us"});
    }
  }
  if (want("launch")) {
    LaunchFigures l = BenchLaunch(o);
    add(l.polled);
    add(l.launch_time);
    add(l.activity);
    figures.push_back({"alarm period end -> launch (instance Pending), p50", l.polled.p50_us / 1000, "ms",
                       Figure::kAtMost, 10});
    figures.push_back({"alarm period end -> launch (instance Pending), max", l.polled.max_us / 1000, "ms",
                       Figure::kAtMost, 10});
    figures.push_back({"alarm period end -> instance launch_time, max", l.launch_time.max_us / 1000, "ms"});
  }
  PrintFigures(figures);
  if (!o.json_path.empty()) {
    Json j = {{"program", kProgram}, {"measured", Json::array()}, {"figures", Json::array()}};
    for (const auto& m : measured) j["measured"].push_back(ToJson(m));
    for (const auto& f : figures) j["figures"].push_back(ToJson(f));
    std::ofstream out(o.json_path);
    out << j.dump(1) << "\n";
    if (!out) {
      std::cerr << kProgram << ": cannot write " << o.json_path << "\n";
      return 1;
    }
  }
  return 0;
}
