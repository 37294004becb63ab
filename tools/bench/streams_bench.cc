// streams_bench: the gRPC benchmark of the streams service (Kinesis
// semantics).
//
// Starts its own servers (unless --mono/--micro name running gateways), all on
// ports 0 with temp data dirs and --streams-limits=off (no per-shard
// throughput limits: the figures are the service's, not the quota's), one
// mode at a time, stopped after it:
//   mono   a monolithic `thingtank serve` (streams in-process behind the gateway)
//   micro  `thingtank serve --services=streams` and a gateway in front of it
//          (--services=gateway --backends=streams=...), which relays the
//          calls and the SubscribeToShard stream as raw frames
// Each mode, through its gateway, on streams of --shards (4) shards:
//   1. PutRecords of 500 records of 100 B (partition keys pk-0..pk-499),
//      closed loop with the callback API: records/s with 2, 4, 8 and 16
//      callers (--put-concurrency N: only N), then the best count again
//      between two grpc.health.v1 Check runs at the same concurrency
//      (target >= 150,000 records/s).
//   2. GetRecords, limit 10,000, of a stream pre-filled with --fill (200,000)
//      records: one reader per shard in parallel, each following
//      next_shard_iterator and starting over from TRIM_HORIZON at the tip;
//      records/s (target >= 400,000), then a health run at that concurrency.
//   3. Put-to-readable latency: PutRecords open loop at half of 1.'s records/s
//      (--latency-load)
//      (a call due every 1/rate s whether or not the last one returned), each
//      record's data stamped with when its call started; a poller calls
//      GetRecords (limit 10,000) on one shard in a tight loop from a LATEST
//      iterator. A record's latency is from the start of the PutRecords call
//      that carried it (the client's steady clock, taken just before the
//      request is built and sent) to the return of the first GetRecords call
//      that returned it; every record of that shard whose call started in the
//      measured window counts: p50, p99 (target <= 5 ms), max.
//   4. Put-to-subscriber latency: the same load, a SubscribeToShard subscriber
//      (consumer registered at setup, ACTIVE; from LATEST; subscribed, first
//      event received, before the load starts) on that shard; latency to the
//      arrival of the first event carrying the record: p50, p99 (target <=
//      2 ms), max.
//   5. Baselines: health Check at the put and get concurrencies (the ratio
//      column of 1. and 2. is calls/s over Check calls/s) and at concurrency
//      1 (the ratio column of 3. and 4. is latency over Check latency, p50 to
//      p50, p99 to p99, max to max).
// Records the probes never see within 2 s of the end, or see twice, count as
// errors. Every measurement's CPU by process (servers and this bench, from
// /proc/<pid>/task) is in the notes; --profile adds the busiest threads.
// Then a table: what, figure, target, met, health baseline, ratio.
//
// Uses generated clients only (no server internals). This file: the flags,
// the servers of each mode and the run over the modes; streams_bench_mode.cc
// what one mode measures, streams_bench_load.cc the workers and the latency
// probes, streams_bench_report.cc the output, serve.cc the `thingtank serve`
// children.

#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "bench_flags.h"
#include "load.h"
#include "serve.h"
#include "streams_bench.h"
#include "streams_bench_mode.h"
#include "streams_bench_report.h"

namespace thingtank::bench::streams {
namespace {

const bench::UnitNames kNames{"records", "records_per_s", "misses", "records", "misses"};

void Usage(std::ostream& out) {
  out << "usage: streams_bench [--modes mono,micro] [--thingtank PATH] [--mono HOST:PORT]\n"
         "                     [--micro HOST:PORT] [--shards N] [--fill N] [--put-concurrency N]\n"
         "                     [--put-streams N] [--channels N] [--seconds S] [--warmup S]\n"
         "                     [--latency-seconds S] [--latency-load F] [--only PART,...]\n"
         "                     [--profile] [--label TEXT] [--json FILE]\n"
         "Without --mono/--micro, starts `thingtank serve --streams-limits=off` (PATH, default\n"
         "the build tree's): monolithic, then streams + a gateway (microservice mode), each on\n"
         "free ports with a temp data dir, stopped after its mode. --mono/--micro use running\n"
         "gateways instead (only those modes run; start them with --streams-limits=off).\n"
         "Defaults: 4 shards, 200,000 records pre-filled, put callers 2/4/8/16 (the best kept),\n"
         "4 channels, 2 s runs + 1 s warm-up, 4 s latency runs; about 35 s a mode.\n"
         "--only PART,...: put get readable subscribe (readable and subscribe run put too,\n"
         "for its rate).\n"
         "Diagnostics: --put-streams N spreads the put rate run over N streams (default 1);\n"
         "--latency-load F puts at F times the max rate in the latency runs (default 0.5).\n"
         "--profile: the busiest threads of the servers and this process in each measurement.\n"
         "--json FILE writes the figures and the runs as JSON.\n";
}

// Takes this program's own flags out of argv for ParseArgs.
std::vector<char*> OwnFlags(int argc, char** argv, Options* o, std::string* latency_seconds,
                            std::string* latency_load, bool* ok) {
  return bench::TakeOwnFlags(
      kProgram, argc, argv, {{"--profile", &o->profile}},
      {{"--json", &o->json_path},     {"--thingtank", &o->thingtank},         {"--modes", &o->modes},
       {"--mode", &o->modes},         {"--mono", &o->mono_endpoint},          {"--micro", &o->micro_endpoint},
       {"--only", &o->only},          {"--latency-seconds", latency_seconds}, {"--latency-load", latency_load}},
      ok);
}

bool WriteJson(const Options& o, const std::vector<std::pair<Mode, std::vector<Row>>>& tables,
               const std::vector<std::pair<std::string, Result>>& runs) {
  std::ofstream out(o.json_path);
  out << "{\"program\": \"" << kProgram << "\", \"label\": \"" << bench::JsonEscape(o.label)
      << "\", \"shards\": " << o.shards << ", \"fill\": " << o.fill << ", \"seconds\": " << o.seconds
      << ", \"warmup\": " << o.warmup << ", \"latency_seconds\": " << o.latency_seconds
      << ", \"latency_load\": " << o.latency_load << ", \"put_streams\": " << o.put_streams << ",\n \"figures\": [";
  bool first = true;
  for (const auto& [m, rows] : tables) {
    for (const Row& r : rows) {
      out << (first ? "\n  " : ",\n  ") << RowJson(m.name, r);
      first = false;
    }
  }
  out << "\n ],\n \"runs\": [";
  for (size_t i = 0; i < runs.size(); ++i) {
    out << (i ? ",\n  " : "\n  ") << "{\"mode\": \"" << runs[i].first
        << "\", \"run\": " << bench::ToJson(runs[i].second, kNames) << "}";
  }
  out << "\n ]}\n";
  out.close();
  if (!out) {
    std::cerr << kProgram << ": cannot write " << o.json_path << "\n";
    return false;
  }
  return true;
}

}  // namespace
}  // namespace thingtank::bench::streams

int main(int argc, char** argv) {
  using namespace ::thingtank::bench::streams;  // NOLINT(google-build-using-namespace)
  Options o;
  o.seconds = 2;
  bool ok = true;
  std::string latency_seconds, latency_load;
  std::vector<char*> rest = OwnFlags(argc, argv, &o, &latency_seconds, &latency_load, &ok);
  if (!ok) return 2;
  if (!bench::ParseArgs(static_cast<int>(rest.size()), rest.data(), kProgram, Usage, &o,
                        {{"--shards", &o.shards},
                         {"--fill", &o.fill},
                         {"--put-concurrency", &o.put_concurrency},
                         {"--put-streams", &o.put_streams}})) {
    return 2;
  }
  if (o.json) {
    std::cerr << kProgram << ": --json needs a FILE\n";
    return 2;
  }
  for (auto [flag, text, into] : {std::tuple{"--latency-seconds", &latency_seconds, &o.latency_seconds},
                                   std::tuple{"--latency-load", &latency_load, &o.latency_load}}) {
    if (text->empty()) continue;
    try {
      *into = std::stod(*text);
    } catch (const std::exception&) {
      *into = 0;
    }
    if (!(*into > 0)) {
      std::cerr << kProgram << ": bad value for " << flag << ": " << *text << "\n";
      return 2;
    }
  }
  signal(SIGPIPE, SIG_IGN);

  // The modes: (mode, how to start its servers; none for a running gateway).
  struct Plan {
    std::string name, endpoint;
  };
  std::vector<Plan> plans;
  if (!o.mono_endpoint.empty() || !o.micro_endpoint.empty()) {
    if (!o.mono_endpoint.empty()) plans.push_back({"mono", o.mono_endpoint});
    if (!o.micro_endpoint.empty()) plans.push_back({"micro", o.micro_endpoint});
  } else {
    if (o.thingtank.empty()) o.thingtank = bench::DefaultThingtank(argv[0]);
    for (std::stringstream ss(o.modes); ss.good();) {
      std::string m;
      std::getline(ss, m, ',');
      if (m == "mono" || m == "micro") {
        plans.push_back({m, ""});
      } else if (!m.empty()) {
        std::cerr << kProgram << ": unknown mode '" << m << "' (mono, micro)\n";
        return 2;
      }
    }
  }
  std::printf("streams_bench%s: %d shards, %d channels, %.1f s runs (+%.1f s warm-up), %.1f s latency runs at "
              "%.2f of the max put rate%s\n",
              o.label.empty() ? "" : (" [" + o.label + "]").c_str(), o.shards, o.channels, o.seconds, o.warmup,
              o.latency_seconds, o.latency_load,
              o.put_streams > 1 ? (", put rate over " + std::to_string(o.put_streams) + " streams").c_str() : "");
  std::fflush(stdout);

  const std::vector<std::string> common = {"--metrics-port", "0", "--wamp-ws-port", "0"};
  std::vector<std::pair<Mode, std::vector<Row>>> tables;
  std::vector<std::pair<std::string, Result>> all_runs;
  bool failed = false;
  for (const Plan& p : plans) {
    // This mode's servers, stopped (and their dirs removed) at the end of the iteration.
    std::vector<std::unique_ptr<bench::ServeChild>> servers;
    CpuSampler cpu;
    auto start = [&](const std::string& name, std::vector<std::string> f,
                     const std::string& key) -> bench::ServeChild* {
      f.insert(f.end(), common.begin(), common.end());
      auto s = bench::ServeChild::Start(kProgram, o.thingtank, name, f, key);
      if (!s) return nullptr;
      cpu.Add(name, s->pid());
      servers.push_back(std::move(s));
      return servers.back().get();
    };
    Mode mode{p.name, "", p.endpoint};
    if (!p.endpoint.empty()) {
      mode.title = (p.name == "mono" ? "monolithic" : "microservice") + std::string(" (running gateway ") +
                   p.endpoint + ")";
    } else if (p.name == "mono") {
      bench::ServeChild* s = start("mono", {"--gateway-port", "0", "--streams-limits=off"}, "gateway");
      if (s == nullptr) return 1;
      mode.endpoint = s->endpoint();
      mode.title = "monolithic: thingtank serve, streams in-process behind the gateway (pid " +
                   std::to_string(s->pid()) + ")";
    } else {
      bench::ServeChild* svc =
          start("streams", {"--services=streams", "--streams-port", "0", "--streams-limits=off"}, "streams");
      if (svc == nullptr) return 1;
      bench::ServeChild* gw = start(
          "gateway", {"--services=gateway", "--backends=streams=" + svc->endpoint(), "--gateway-port", "0"}, "gateway");
      if (gw == nullptr) return 1;
      mode.endpoint = gw->endpoint();
      mode.title = "microservice: gateway (pid " + std::to_string(gw->pid()) + ") -> streams (pid " +
                   std::to_string(svc->pid()) + ")";
    }
    cpu.Add("bench", getpid());
    std::printf("\n== %s, gateway %s\n", mode.title.c_str(), mode.endpoint.c_str());
    std::fflush(stdout);
    std::vector<Row> rows;
    std::vector<Result> runs;
    if (!RunMode(o, mode, &cpu, &rows, &runs)) {
      failed = true;
      continue;
    }
    for (const Result& r : runs) all_runs.emplace_back(mode.name, r);
    tables.emplace_back(mode, std::move(rows));
  }
  std::printf("\nratio: a rate's calls/s over the health Check calls/s at the same concurrency; a latency over the\n"
              "health Check latency at concurrency 1 (p50 to p50, p99 to p99, max to max). Latency: from the start\n"
              "of the PutRecords call to the first GetRecords return / SubscribeToShard event carrying the record.\n");
  for (const auto& [m, rows] : tables) PrintTable("streams benchmark, " + m.title, rows);
  if (!o.json_path.empty() && !WriteJson(o, tables, all_runs)) return 1;
  return failed || tables.empty() ? 1 : 0;
}
