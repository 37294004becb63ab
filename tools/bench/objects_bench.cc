// objects_bench: the gRPC benchmark of the objects service (S3 semantics).
//
// Starts its own servers (unless --mono/--micro name running gateways), all on
// ports 0 with temp data dirs:
//   mono   a monolithic `thingtank serve` (objects in-process behind the gateway)
//   micro  `thingtank serve --services=objects` and a gateway in front of it
//          (--services=gateway --backends=objects=...), which relays the
//          streams as raw frames
//   relay  (micro only) a second gateway whose "objects" backend is this
//          program's raw baseline server: the raw stream through the same
//          relay, so the gateway's share and the service's share can be told
//          apart
// and, inside this process, the raw gRPC streaming baseline: a
// CallbackGenericService on 127.0.0.1 (real TCP, the server's 8 MiB message
// limit) answering ObjectsService/PutObject by discarding every byte and
// ObjectsService/GetObject (key = the size in bytes) by writing a
// preallocated, pre-serialized 1 MiB chunk message again and again. The client
// code is the same for both: the generated ObjectsService stub over channels
// with the same arguments (load.h's Connections), so the only difference is
// the server.
//
// Each mode, through its gateway:
//   1. PutObject and GetObject of a 64 MiB object (1 MiB chunks; sync
//      streams, one at a time), interleaved with the same against the raw
//      baseline, --repeats times (5): median MiB/s and the ratio to the raw
//      baseline (targets GET >= 0.8, PUT >= 0.6).
//   2. 4 KiB PutObject (fresh keys) and GetObject (64 objects) calls/s at
//      --concurrency (16) with the callback API, between grpc.health.v1 Check
//      runs at the same concurrency on the same gateway: ratio to the mean of
//      the health runs around it (targets PUT >= 0.4, GET >= 0.6).
//   3. ListObjectsV2 of a bucket of 1,000 keys (one call, max_keys 1000) at
//      concurrency 1: p50 and p99.
//   4. CompleteMultipartUpload of 100 parts (99 of 5 MiB and a 1 MiB last
//      one; uploading them is setup), 3 times: ms (target <= 50 ms, median).
//   5. Time to first byte of GetObject (call start, or when it was due, to the
//      first message carrying data) of the 4 KiB and 64 MiB objects, open loop
//      at half the measured max GET rate of that size (step 2's calls/s, or
//      1 / step 1's median time): p99 (target <= 5 ms).
// Then a table: what, figure, baseline, ratio, target, met. --quick is a
// short smoke run (4 MiB objects, 2 repeats, 100 keys, 3 parts, short runs).
// --profile samples per-thread CPU (/proc/<pid>/task) of the servers and of
// this process during each measurement and prints the busiest threads.
//
// Uses generated clients only (no server internals). This file: the flags,
// the servers of each mode and the run over the modes; objects_bench_mode.cc
// what one mode measures, objects_bench_load.cc the client calls and workers,
// objects_bench_baseline.cc the raw baseline, objects_bench_report.cc the
// output, serve.cc (shared with compute_bench) the `thingtank serve`
// children.

#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "bench_flags.h"
#include "load.h"
#include "objects_bench.h"
#include "objects_bench_baseline.h"
#include "objects_bench_mode.h"
#include "objects_bench_report.h"
#include "serve.h"

namespace thingtank::bench::objects {
namespace {

void Usage(std::ostream& out) {
  out << "usage: objects_bench [--quick] [--modes mono,micro] [--thingtank PATH]\n"
         "                     [--mono HOST:PORT] [--micro HOST:PORT] [--concurrency N]\n"
         "                     [--channels N] [--seconds S] [--warmup S] [--repeats N]\n"
         "                     [--big-mib N] [--small-bytes N] [--list-keys N] [--parts N]\n"
         "                     [--mpu-repeats N] [--only PART,...] [--profile] [--label TEXT]\n"
         "                     [--json FILE]\n"
         "Without --mono/--micro, starts `thingtank serve` (PATH, default the build tree's):\n"
         "monolithic, and objects + a gateway (microservice mode), on free ports with temp\n"
         "data dirs, and stops them at the end. --mono/--micro use running gateways instead\n"
         "(only those modes run). Defaults: concurrency 16, channels 4, 3 s runs + 1 s warm-up,\n"
         "5 repeats of the 64 MiB streams, 1,000 keys listed, 100 parts, 3 completes.\n"
         "--quick: 4 MiB objects, 2 repeats, 100 keys, 3 parts, 1 complete, 0.5 s runs.\n"
         "--modes raw: calibration, the raw baseline server in place of the objects service\n"
         "(streams, rates, time to first byte; every ratio should be near 1).\n"
         "--only PART,...: streams rates ttfb list multipart, or put get (64 MiB) put_small\n"
         "get_small (4 KiB) alone; ttfb runs streams and rates too, for its rates.\n"
         "--profile: per-thread CPU of the servers and this process during each measurement.\n"
         "--json FILE writes the figures as JSON.\n";
}

// Takes this program's own flags out of argv for ParseArgs.
std::vector<char*> OwnFlags(int argc, char** argv, Options* o, bool* ok) {
  return bench::TakeOwnFlags(kProgram, argc, argv, {{"--quick", &o->quick}, {"--profile", &o->profile}},
                             {{"--json", &o->json_path},
                              {"--thingtank", &o->thingtank},
                              {"--modes", &o->modes},
                              {"--mono", &o->mono_endpoint},
                              {"--micro", &o->micro_endpoint},
                              {"--only", &o->only}},
                             ok);
}

}  // namespace
}  // namespace thingtank::bench::objects

int main(int argc, char** argv) {
  using namespace ::thingtank::bench::objects;  // NOLINT(google-build-using-namespace)
  Options o;
  o.concurrency = 16;
  bool ok = true;
  std::vector<char*> rest = OwnFlags(argc, argv, &o, &ok);
  if (!ok) return 2;
  if (o.quick) {
    o.seconds = 0.5;
    o.warmup = 0.2;
    o.repeats = 2;
    o.big_mib = 4;
    o.list_keys = 100;
    o.parts = 3;
    o.mpu_repeats = 1;
  }
  if (!bench::ParseArgs(static_cast<int>(rest.size()), rest.data(), kProgram, Usage, &o,
                        {{"--repeats", &o.repeats},
                         {"--big-mib", &o.big_mib},
                         {"--small-bytes", &o.small_bytes},
                         {"--list-keys", &o.list_keys},
                         {"--parts", &o.parts},
                         {"--mpu-repeats", &o.mpu_repeats}})) {
    return 2;
  }
  if (o.json) {
    std::cerr << kProgram << ": --json needs a FILE\n";
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);

  RawServer raw;
  if (!raw.Start()) return 1;
  CpuSampler sampler;
  CpuSampler* cpu = o.profile ? &sampler : nullptr;
  sampler.Add("bench", getpid());

  std::vector<std::unique_ptr<bench::ServeChild>> servers;
  std::vector<Mode> modes;
  const std::vector<std::string> common = {"--metrics-port", "0", "--wamp-ws-port", "0"};
  auto flags = [&](std::vector<std::string> f) {
    f.insert(f.end(), common.begin(), common.end());
    return f;
  };
  auto start = [&](const std::string& name, std::vector<std::string> f,
                   const std::string& key) -> bench::ServeChild* {
    auto s = bench::ServeChild::Start(kProgram, o.thingtank, name, flags(std::move(f)), key);
    if (!s) return nullptr;
    sampler.Add(name, s->pid());
    servers.push_back(std::move(s));
    return servers.back().get();
  };
  if (!o.mono_endpoint.empty() || !o.micro_endpoint.empty()) {
    if (!o.mono_endpoint.empty()) modes.push_back({"mono", "monolithic (running gateway " + o.mono_endpoint + ")", o.mono_endpoint, ""});
    if (!o.micro_endpoint.empty()) modes.push_back({"micro", "microservice (running gateway " + o.micro_endpoint + ")", o.micro_endpoint, ""});
  } else {
    if (o.thingtank.empty()) o.thingtank = bench::DefaultThingtank(argv[0]);
    for (std::stringstream ss(o.modes); ss.good();) {
      std::string m;
      std::getline(ss, m, ',');
      if (m == "mono") {
        bench::ServeChild* s = start("mono", {"--gateway-port", "0"}, "gateway");
        if (s == nullptr) return 1;
        modes.push_back({"mono", "monolithic: thingtank serve, objects in-process behind the gateway (pid " +
                                     std::to_string(s->pid()) + ")",
                         s->endpoint(), ""});
      } else if (m == "micro") {
        bench::ServeChild* svc = start("objects", {"--services=objects", "--objects-port", "0"}, "objects");
        if (svc == nullptr) return 1;
        bench::ServeChild* gw = start("gateway", {"--services=gateway", "--backends=objects=" + svc->endpoint(), "--gateway-port", "0"},
                           "gateway");
        if (gw == nullptr) return 1;
        bench::ServeChild* relay = start("relay", {"--services=gateway", "--backends=objects=" + raw.endpoint(), "--gateway-port", "0"},
                              "gateway");
        if (relay == nullptr) std::cerr << kProgram << ": no relay gateway in front of the raw baseline; going on without\n";
        modes.push_back({"micro", "microservice: gateway (pid " + std::to_string(gw->pid()) + ") -> objects (pid " +
                                      std::to_string(svc->pid()) + ")",
                         gw->endpoint(), relay ? relay->endpoint() : ""});
      } else if (m == "raw") {
        modes.push_back({"raw", "calibration: the raw baseline server in place of the objects service", raw.endpoint(), ""});
      } else if (!m.empty()) {
        std::cerr << kProgram << ": unknown mode '" << m << "' (mono, micro, raw)\n";
        return 2;
      }
    }
  }
  std::printf("objects_bench%s%s: raw baseline on %s; concurrency %d over %d channels, %.1f s runs (+%.1f s warm-up)\n",
              o.quick ? " --quick" : "", o.label.empty() ? "" : (" [" + o.label + "]").c_str(), raw.endpoint().c_str(),
              o.concurrency, o.channels, o.seconds, o.warmup);
  std::fflush(stdout);

  std::vector<std::pair<Mode, std::vector<Row>>> tables;
  bool setup_failed = false;
  for (const Mode& m : modes) {
    std::printf("\n== %s, gateway %s\n", m.title.c_str(), m.endpoint.c_str());
    std::fflush(stdout);
    std::vector<Row> rows;
    if (!RunMode(o, m, raw.endpoint(), cpu, &rows)) {
      setup_failed = true;
      continue;
    }
    tables.emplace_back(m, std::move(rows));
  }
  for (const auto& [m, rows] : tables) PrintTable("objects benchmark, " + m.title, rows);
  if (!o.json_path.empty()) {
    std::ofstream out(o.json_path);
    out << "{\"program\": \"" << kProgram << "\", \"label\": \"" << bench::JsonEscape(o.label)
        << "\", \"quick\": " << (o.quick ? "true" : "false") << ", \"concurrency\": " << o.concurrency
        << ", \"seconds\": " << o.seconds << ",\n \"figures\": [";
    bool first = true;
    for (const auto& [m, rows] : tables) {
      for (const Row& r : rows) {
        out << (first ? "\n  " : ",\n  ") << RowJson(m.name, r);
        first = false;
      }
    }
    out << "\n ]}\n";
    if (!out) {
      std::cerr << kProgram << ": cannot write " << o.json_path << "\n";
      return 1;
    }
  }
  return setup_failed || tables.empty() ? 1 : 0;
}
