// tables_bench: closed-loop load generator for the tables service (issue 3, "Benchmark").
//
// The same closed loop as queues_bench (load.{h,cc}): N concurrent outstanding
// calls over a few HTTP/2 connections with the gRPC callback client API. Each
// item scenario runs on a fresh on-demand (PAY_PER_REQUEST) table, so throughput
// limits never interfere, preloads what it reads, warms up, then measures for
// --seconds; it prints throughput (calls/s, items/s) and latency percentiles.
// With --paced-percent P every scenario is then measured open-loop, calls
// started at P% of the throughput just measured (the latency under load
// without the closed loop's own queue: at concurrency 32 a closed loop makes
// the median 32 / throughput whatever the server does). With
// --unloaded-seconds S it is measured once more at concurrency 1 on the same
// table (the unloaded latency). A grpc.health.v1 Check baseline at the same
// concurrency is the "health" scenario.
//
// Uses generated clients only (no server internals).

#include <grpcpp/grpcpp.h>

#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/wire_format_lite.h"
#include "grpcpp/support/proto_buffer_reader.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "load.h"
#include "thingtank/tables/v1/tables.grpc.pb.h"

namespace {

namespace tv1 = ::thingtank::tables::v1;
namespace bench = ::thingtank::bench;
using bench::Loop;
using bench::Result;
using bench::Worker;
using Stub = tv1::TablesService::Stub;

constexpr const char* kProgram = "tables_bench";
constexpr int kBatchWrite = 25;  // BatchWriteItem's limit

const bench::UnitNames kNames{"items", "items_per_s", "misses", "items", "misses"};

struct Options : bench::CommonOptions {
  int item_bytes = 1024;         // size of a put / batch-written / preloaded item, as DynamoDB counts it
  int preload_items = 20000;     // items of the GetItem table
  int devices = 64;              // hash keys of the Query table
  int items_per_device = 120;    // range keys per device (>= --query-items)
  int query_items = 100;         // Query limit: items per call
  int query_item_bytes = 1024;   // size of a Query table item
  int unloaded_seconds = 0;      // > 0: also measure each scenario at concurrency 1
  int paced_percent = 0;         // > 0: also measure each scenario paced at this % of its throughput
};

void Usage(std::ostream& out) {
  out << "usage: tables_bench [--endpoint host:port] [--scenario NAME[,NAME...]|all]\n"
         "                    [--concurrency N] [--channels N] [--seconds S] [--warmup S] [--label TEXT] [--json]\n"
         "                    [--item-bytes N] [--preload-items N] [--devices N] [--items-per-device N]\n"
         "                    [--query-items N] [--query-item-bytes N] [--unloaded-seconds N]\n"
         "                    [--paced-percent P]\n"
         "scenarios: health put get query batch_write (all = every one)\n"
         "  health       grpc.health.v1.Health/Check baseline (empty request, GenericStub)\n"
         "  put          PutItem, --item-bytes items (default 1 KiB), a unique key per call\n"
         "  get          GetItem of a random key among --preload-items preloaded items\n"
         "  query        Query device = :d (hash device S, range ts N) with limit --query-items on a\n"
         "               random one of --devices devices of --items-per-device items (items/s counts items)\n"
         "  batch_write  BatchWriteItem of 25 new --item-bytes items (items/s counts processed puts)\n"
         "Misses: GetItem not found, Query pages short of --query-items, unprocessed batch entries.\n";
}

// The string attribute that pads an item to `bytes` (DynamoDB size: attribute
// names plus values; `other` = bytes of the other names and values).
std::string Padding(int bytes, size_t other) {
  const size_t want = static_cast<size_t>(std::max(bytes, 0));
  const size_t used = other + 4;  // "data"
  return std::string(want > used ? want - used : 1, 'x');
}

tv1::AttributeValue S(const std::string& s) {
  tv1::AttributeValue v;
  v.set_s(s);
  return v;
}

tv1::AttributeValue N(int64_t n) {
  tv1::AttributeValue v;
  v.set_n(std::to_string(n));
  return v;
}

class Bench {
 public:
  explicit Bench(const Options& o) : o_(o), conns_(o.endpoint, o.channels), run_id_(bench::RunId()) {
    for (size_t i = 0; i < conns_.size(); ++i) stubs_.push_back(tv1::TablesService::NewStub(conns_.channel(i)));
  }

  bool WaitConnected() { return conns_.WaitConnected(kProgram); }

  // The loaded result, then (with --unloaded-seconds) the concurrency-1 one.
  std::vector<Result> Run(const std::string& scenario) {
    if (scenario == "health") {
      return Measure(scenario, [&](Loop* loop, int i, int) -> std::unique_ptr<Worker> {
        return std::make_unique<bench::HealthWorker>(loop, conns_.generic(static_cast<size_t>(i)));
      });
    }
    const std::string table = "bench-" + scenario + "-" + run_id_;
    std::vector<Result> out;
    if (scenario == "query") {
      if (!CreateTable(table, "device", tv1::SCALAR_ATTRIBUTE_TYPE_S, "ts", tv1::SCALAR_ATTRIBUTE_TYPE_N)) return {};
      if (Preload(table, static_cast<int64_t>(o_.devices) * o_.items_per_device, [&](int64_t n) {
            tv1::Item item;
            auto& a = *item.mutable_attributes();
            const std::string device = DeviceName(static_cast<int>(n / o_.items_per_device));
            const int64_t ts = 1700000000000 + n % o_.items_per_device;
            a["device"] = S(device);
            a["ts"] = N(ts);
            a["data"] = S(Padding(o_.query_item_bytes, 6 + device.size() + 2 + 13));
            return item;
          })) {
        out = Measure(scenario, [&](Loop* loop, int i, int pass) -> std::unique_ptr<Worker> {
          return QueryWorker(loop, i, pass, table);
        });
      }
    } else {
      if (!CreateTable(table, "pk", tv1::SCALAR_ATTRIBUTE_TYPE_S, "", tv1::SCALAR_ATTRIBUTE_TYPE_UNSPECIFIED)) {
        return {};
      }
      bool ok = true;
      if (scenario == "get") {
        ok = Preload(table, o_.preload_items, [&](int64_t n) { return KeyedItem("k" + std::to_string(n)); });
      }
      if (ok) {
        out = Measure(scenario, [&](Loop* loop, int i, int pass) -> std::unique_ptr<Worker> {
          if (scenario == "put") return PutWorker(loop, i, pass, table);
          if (scenario == "get") return GetWorker(loop, i, table);
          return BatchWriteWorker(loop, i, pass, table);
        });
      }
    }
    DeleteTable(table);
    return out;
  }

 private:
  // Makes worker i of pass `pass` (0 loaded, 1 unloaded).
  using Factory = std::function<std::unique_ptr<Worker>(Loop*, int, int)>;

  std::vector<Result> Measure(const std::string& scenario, const Factory& make) {
    std::vector<Result> out;
    std::cerr << kProgram << ": measuring " << scenario << " c=" << o_.concurrency << std::endl;
    out.push_back(bench::RunClosed(scenario, o_.concurrency, o_.channels, o_.warmup, o_.seconds,
                                   [&](Loop* loop, int i) { return make(loop, i, 0); }));
    if (o_.paced_percent > 0 && out.back().calls_per_s > 0) {
      // The latency under load without the closed loop's self-made queue:
      // calls started at a steady share of the throughput just measured.
      const double rate = out.back().calls_per_s * o_.paced_percent / 100.0;
      std::cerr << kProgram << ": measuring " << scenario << " paced " << static_cast<int64_t>(rate) << "/s"
                << std::endl;
      out.push_back(bench::RunPaced(scenario, rate, o_.concurrency, o_.channels, std::min(o_.warmup, 0.5),
                                    o_.seconds, [&](Loop* loop, int i) { return make(loop, i, 2); }));
    }
    if (o_.unloaded_seconds > 0) {
      std::cerr << kProgram << ": measuring " << scenario << " c=1" << std::endl;
      out.push_back(bench::RunClosed(scenario, 1, 1, std::min(o_.warmup, 0.5), o_.unloaded_seconds,
                                     [&](Loop* loop, int i) { return make(loop, i, 1); }));
    }
    return out;
  }

  Stub* StubFor(int i) const { return stubs_[static_cast<size_t>(i) % stubs_.size()].get(); }

  static std::string DeviceName(int d) { return "device-" + std::to_string(d); }

  tv1::Item KeyedItem(const std::string& pk) const {
    tv1::Item item;
    auto& a = *item.mutable_attributes();
    a["pk"] = S(pk);
    a["data"] = S(Padding(o_.item_bytes, 2 + pk.size()));
    return item;
  }

  // PutItem through a GenericStub like the health baseline: the request is
  // serialized once with a 9-digit key counter, and each call patches the
  // digits in a copy of those bytes (a unique key per call, no protobuf work
  // on the client).
  std::unique_ptr<Worker> PutWorker(Loop* loop, int i, int pass, const std::string& table) {
    tv1::PutItemRequest req;
    req.set_table_name(table);
    const std::string prefix = "p" + std::to_string(pass) + "-w" + std::to_string(i) + "-";
    *req.mutable_item() = KeyedItem(prefix + "000000000").attributes();
    const std::string bytes = req.SerializeAsString();
    const size_t digits = bytes.find(prefix + "000000000") + prefix.size();
    return std::make_unique<bench::RawWorker>(
        loop, conns_.generic(static_cast<size_t>(i)), "/thingtank.tables.v1.TablesService/PutItem",
        [bytes, digits](uint64_t n) {
          grpc::Slice slice(bytes.size());
          char* out = reinterpret_cast<char*>(const_cast<uint8_t*>(slice.begin()));
          std::memcpy(out, bytes.data(), bytes.size());
          char num[16];
          std::snprintf(num, sizeof num, "%09llu", static_cast<unsigned long long>(n % 1000000000ULL));
          std::memcpy(out + digits, num, 9);
          return grpc::ByteBuffer(&slice, 1);
        },
        [](const grpc::ByteBuffer&, bench::RawWorker*) -> uint64_t { return 1; });
  }

  std::unique_ptr<Worker> GetWorker(Loop* loop, int i, const std::string& table) {
    using W = bench::UnaryWorker<tv1::GetItemRequest, tv1::GetItemResponse>;
    tv1::GetItemRequest req;
    req.set_table_name(table);
    (*req.mutable_key())["pk"] = S("k0");
    Stub* stub = StubFor(i);
    const int n = o_.preload_items;
    return std::make_unique<W>(
        loop, std::move(req),
        [stub](grpc::ClientContext* ctx, const tv1::GetItemRequest* rq, tv1::GetItemResponse* rs,
               std::function<void(grpc::Status)> cb) { stub->async()->GetItem(ctx, rq, rs, std::move(cb)); },
        [rng = std::mt19937_64(static_cast<uint64_t>(i) * 7919 + 17), n](tv1::GetItemRequest* rq) mutable {
          (*rq->mutable_key())["pk"].set_s("k" + std::to_string(rng() % static_cast<uint64_t>(n)));
        },
        [](const tv1::GetItemResponse& rs, W* w) -> uint64_t {
          if (rs.item().empty()) {
            w->Miss();
            return 0;
          }
          return 1;
        });
  }

  // Query through a GenericStub with pre-serialized requests (one per
  // device, taken in turn from a per-worker offset), like the health
  // baseline: the client only counts the items of each response (top-level
  // field 1) instead of parsing 100 items, so the scenario measures the
  // server rather than the load generator sharing its cores.
  std::unique_ptr<Worker> QueryWorker(Loop* loop, int i, int pass, const std::string& table) {
    std::vector<grpc::ByteBuffer> requests;
    for (int d = 0; d < o_.devices; ++d) {
      tv1::QueryRequest req;
      req.set_table_name(table);
      req.set_key_condition_expression("device = :d");
      (*req.mutable_expression_attribute_values())[":d"] =
          S(DeviceName((d + i * 7 + pass) % o_.devices));
      req.set_limit(o_.query_items);
      const std::string bytes = req.SerializeAsString();
      grpc::Slice slice(bytes);
      requests.emplace_back(&slice, 1);
    }
    const uint64_t want = static_cast<uint64_t>(o_.query_items);
    return std::make_unique<bench::RawWorker>(
        loop, conns_.generic(static_cast<size_t>(i)), "/thingtank.tables.v1.TablesService/Query",
        std::move(requests), [want](const grpc::ByteBuffer& response, bench::RawWorker* w) -> uint64_t {
          const uint64_t items = CountTopLevelField(response, 1);
          if (items < want) w->Miss();
          return items;
        });
  }

  // Occurrences of length-delimited field `number` at the top level of a
  // serialized message (items of a QueryResponse), skipping their contents.
  static uint64_t CountTopLevelField(const grpc::ByteBuffer& buffer, uint32_t number) {
    grpc::ByteBuffer copy(buffer);  // shares the slices: no byte is copied
    grpc::ProtoBufferReader reader(&copy);
    google::protobuf::io::CodedInputStream in(&reader);
    uint64_t count = 0;
    for (uint32_t tag = in.ReadTag(); tag != 0; tag = in.ReadTag()) {
      if ((tag >> 3) == number) ++count;
      if (!google::protobuf::internal::WireFormatLite::SkipField(&in, tag)) return 0;
    }
    return count;
  }

  std::unique_ptr<Worker> BatchWriteWorker(Loop* loop, int i, int pass, const std::string& table) {
    using W = bench::UnaryWorker<tv1::BatchWriteItemRequest, tv1::BatchWriteItemResponse>;
    tv1::BatchWriteItemRequest req;
    auto& list = (*req.mutable_request_items())[table];
    const std::string prefix = "b" + std::to_string(pass) + "-w" + std::to_string(i) + "-";
    for (int k = 0; k < kBatchWrite; ++k) {
      *list.add_requests()->mutable_put_request()->mutable_item() = KeyedItem(prefix + "000000000").attributes();
    }
    Stub* stub = StubFor(i);
    return std::make_unique<W>(
        loop, std::move(req),
        [stub](grpc::ClientContext* ctx, const tv1::BatchWriteItemRequest* rq, tv1::BatchWriteItemResponse* rs,
               std::function<void(grpc::Status)> cb) { stub->async()->BatchWriteItem(ctx, rq, rs, std::move(cb)); },
        [prefix, table, seq = uint64_t{0}](tv1::BatchWriteItemRequest* rq) mutable {
          auto& l = (*rq->mutable_request_items())[table];
          for (auto& w : *l.mutable_requests()) {
            char num[16];
            std::snprintf(num, sizeof num, "%09llu", static_cast<unsigned long long>(seq++ % 1000000000ULL));
            (*w.mutable_put_request()->mutable_item())["pk"].set_s(prefix + num);
          }
        },
        [](const tv1::BatchWriteItemResponse& rs, W* w) -> uint64_t {
          uint64_t unprocessed = 0;
          for (const auto& kv : rs.unprocessed_items()) unprocessed += static_cast<uint64_t>(kv.second.requests_size());
          if (unprocessed) w->Miss(unprocessed);
          return static_cast<uint64_t>(kBatchWrite) - std::min<uint64_t>(unprocessed, kBatchWrite);
        });
  }

  // Writes items 0..count-1 (made by `make`) with BatchWriteItem from
  // --concurrency threads, retrying unprocessed entries.
  bool Preload(const std::string& table, int64_t count, const std::function<tv1::Item(int64_t)>& make) {
    const auto t0 = bench::Clock::now();
    std::atomic<int64_t> next{0};
    std::atomic<bool> failed{false};
    std::mutex mu;
    std::string error;
    const int threads = std::max(1, std::min(o_.concurrency, 16));
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
      pool.emplace_back([&, t] {
        Stub* stub = StubFor(t);
        while (!failed.load()) {
          const int64_t first = next.fetch_add(kBatchWrite);
          if (first >= count) return;
          tv1::BatchWriteItemRequest req;
          auto& list = (*req.mutable_request_items())[table];
          for (int64_t n = first; n < std::min<int64_t>(count, first + kBatchWrite); ++n) {
            *list.add_requests()->mutable_put_request()->mutable_item() = make(n).attributes();
          }
          for (int attempt = 0; attempt < 100 && !req.request_items().empty(); ++attempt) {
            tv1::BatchWriteItemResponse resp;
            grpc::ClientContext ctx;
            bench::SetDeadline(&ctx);
            const grpc::Status s = stub->BatchWriteItem(&ctx, req, &resp);
            if (!s.ok()) {
              std::lock_guard<std::mutex> lock(mu);
              error = std::to_string(s.error_code()) + ": " + s.error_message();
              failed.store(true);
              return;
            }
            *req.mutable_request_items() = resp.unprocessed_items();
            if (!req.request_items().empty()) std::this_thread::sleep_for(std::chrono::milliseconds(10));
          }
          if (!req.request_items().empty()) {
            std::lock_guard<std::mutex> lock(mu);
            error = "items still unprocessed after 100 attempts";
            failed.store(true);
            return;
          }
        }
      });
    }
    for (auto& th : pool) th.join();
    if (failed.load()) {
      std::cerr << kProgram << ": preloading " << table << " failed: " << error << "\n";
      return false;
    }
    std::cerr << kProgram << ": preloaded " << count << " items into " << table << " in "
              << std::chrono::duration<double>(bench::Clock::now() - t0).count() << " s" << std::endl;
    return true;
  }

  bool CreateTable(const std::string& name, const std::string& hash, tv1::ScalarAttributeType hash_type,
                   const std::string& range, tv1::ScalarAttributeType range_type) {
    tv1::CreateTableRequest req;
    req.set_table_name(name);
    req.set_billing_mode(tv1::BILLING_MODE_PAY_PER_REQUEST);
    auto* k = req.add_key_schema();
    k->set_attribute_name(hash);
    k->set_key_type(tv1::KEY_TYPE_HASH);
    auto* d = req.add_attribute_definitions();
    d->set_attribute_name(hash);
    d->set_attribute_type(hash_type);
    if (!range.empty()) {
      k = req.add_key_schema();
      k->set_attribute_name(range);
      k->set_key_type(tv1::KEY_TYPE_RANGE);
      d = req.add_attribute_definitions();
      d->set_attribute_name(range);
      d->set_attribute_type(range_type);
    }
    tv1::CreateTableResponse resp;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    const grpc::Status s = stubs_[0]->CreateTable(&ctx, req, &resp);
    if (!s.ok()) {
      std::cerr << kProgram << ": CreateTable " << name << " failed: " << s.error_code() << " " << s.error_message()
                << "\n";
      return false;
    }
    // CREATING -> ACTIVE.
    const auto deadline = bench::Clock::now() + std::chrono::seconds(30);
    while (bench::Clock::now() < deadline) {
      tv1::DescribeTableRequest dreq;
      dreq.set_table_name(name);
      tv1::DescribeTableResponse dresp;
      grpc::ClientContext dctx;
      dctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
      const grpc::Status ds = stubs_[0]->DescribeTable(&dctx, dreq, &dresp);
      if (ds.ok() && dresp.table().table_status() == tv1::TABLE_STATUS_ACTIVE) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    std::cerr << kProgram << ": table " << name << " not ACTIVE after 30 s\n";
    return false;
  }

  void DeleteTable(const std::string& name) {
    tv1::DeleteTableRequest req;
    req.set_table_name(name);
    tv1::DeleteTableResponse resp;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    const grpc::Status s = stubs_[0]->DeleteTable(&ctx, req, &resp);
    if (!s.ok()) {
      std::cerr << kProgram << ": warning: DeleteTable " << name << " failed: " << s.error_message() << "\n";
    }
  }

  const Options o_;
  bench::Connections conns_;
  std::vector<std::unique_ptr<Stub>> stubs_;
  std::string run_id_;
};

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (!bench::ParseArgs(argc, argv, kProgram, Usage, &o,
                        {{"--item-bytes", &o.item_bytes},
                         {"--preload-items", &o.preload_items},
                         {"--devices", &o.devices},
                         {"--items-per-device", &o.items_per_device},
                         {"--query-items", &o.query_items},
                         {"--query-item-bytes", &o.query_item_bytes},
                         {"--unloaded-seconds", &o.unloaded_seconds},
                         {"--paced-percent", &o.paced_percent}})) {
    return 2;
  }
  const std::vector<std::string> scenarios =
      bench::SelectScenarios(o.scenario, {"health", "put", "get", "query", "batch_write"}, kProgram, Usage);
  Bench b(o);
  if (!b.WaitConnected()) return 1;
  if (!o.json) {
    std::printf("tables_bench %s%s%s: concurrency %d over %d channels, %.1f s per scenario (+%.1f s warm-up)%s\n",
                o.endpoint.c_str(), o.label.empty() ? "" : " ", o.label.c_str(), o.concurrency, o.channels,
                o.seconds, o.warmup, o.unloaded_seconds > 0 ? ", then concurrency 1" : "");
    std::fflush(stdout);
  }
  std::vector<Result> results;
  int failures = 0;
  for (const auto& s : scenarios) {
    std::vector<Result> rs = b.Run(s);
    if (rs.empty()) {
      ++failures;
      continue;
    }
    for (const auto& r : rs) {
      if (!o.json) bench::PrintHuman(r, kNames);
      results.push_back(r);
    }
  }
  if (o.json) bench::PrintJson(o, results, kNames);
  return failures ? 1 : 0;
}
