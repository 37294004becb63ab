#include "objects_bench_mode.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "load.h"
#include "objects_bench_load.h"

namespace thingtank::bench::objects {

namespace {

const bench::UnitNames kNames{"bytes", "bytes_per_s", "misses", "bytes", "misses"};

class Bench {
 public:
  Bench(const Options& o, const Mode& mode, const std::string& raw_endpoint, CpuSampler* cpu)
      : o_(o),
        mode_(mode),
        objects_(mode.name, mode.endpoint, o.channels),
        raw_("raw", raw_endpoint, o.channels),
        cpu_(cpu),
        run_id_(bench::RunId()) {
    if (!mode.relay.empty()) relay_.emplace("relay", mode.relay, o.channels);
    bucket_ = "bench-" + run_id_ + "-" + mode.name;
    list_bucket_ = bucket_ + "-list";
    big_ = static_cast<int64_t>(o.big_mib) * kMiB;
    // Calibration: the raw baseline server stands in for the objects service
    // (keys are sizes there); every ratio should come out near 1.
    calibration_ = mode.name == "raw";
    big_key_ = calibration_ ? std::to_string(big_) : "big";
  }

  bool Setup() {
    if (!objects_.WaitConnected() || !raw_.WaitConnected()) return false;
    if (relay_ && !relay_->WaitConnected()) relay_.reset();
    if (calibration_) return true;
    for (const std::string& b : {bucket_, list_bucket_}) {
      grpc::ClientContext ctx;
      bench::SetDeadline(&ctx);
      ov1::CreateBucketRequest req;
      req.set_bucket(b);
      ov1::CreateBucketResponse resp;
      if (!Check(objects_.stub()->CreateBucket(&ctx, req, &resp), "CreateBucket " + b)) return false;
    }
    return true;
  }

  std::vector<Row> Run() {
    std::vector<Row> rows;
    if (Part("streams") || Part("ttfb") || Part("put") || Part("get")) Streams(&rows);
    if (Part("rates") || Part("ttfb") || Part("put_small") || Part("get_small")) Rates(&rows);
    if (Part("ttfb")) Ttfb(&rows);
    if (!calibration_) {
      if (Part("list")) List(&rows);
      if (Part("multipart")) Multipart(&rows);
    }
    uint64_t errors = stream_errors_;
    for (const Result& r : results_) errors += r.errors + r.misses;
    Row e = MakeRow("errors and wrong sizes over all calls", static_cast<double>(errors), "calls");
    e.kind = Row::kAtMost;
    e.target = 0;
    if (!first_error_.empty()) e.note = "first: " + first_error_;
    rows.push_back(e);
    return rows;
  }

 private:
  // Whether --only selects `name` (everything without --only).
  bool Part(const std::string& name) const {
    return o_.only.empty() || ("," + o_.only + ",").find("," + name + ",") != std::string::npos;
  }

  // ---- 1. the 64 MiB streams against the raw baseline
  void Streams(std::vector<Row>* rows) {
    const double mib = static_cast<double>(big_) / kMiB;
    std::map<std::string, std::vector<double>> rate;  // label -> MiB/s per repeat
    auto once = [&](const std::string& label, const std::function<StreamRun()>& call) {
      if (cpu_) cpu_->Begin();
      StreamRun r = call();
      if (cpu_) cpu_->End(mode_.name + " " + label);
      if (!r.status.ok()) {
        Error(label + ": " + StatusText(r.status));
        return r;
      }
      rate[label].push_back(mib / r.seconds);
      return r;
    };
    std::printf("[%s] %d x PUT then GET of %.0f MiB (1 MiB chunks), each against the raw baseline%s\n",
                mode_.name.c_str(), o_.repeats, mib, relay_ ? " and the raw stream through a gateway relay" : "");
    std::fflush(stdout);
    const std::string raw_key = std::to_string(big_);
    const bool puts = !Part("get") || Part("streams") || Part("ttfb") || Part("put");
    const bool gets = !Part("put") || Part("streams") || Part("ttfb") || Part("get");
    if (!puts && !Check(PutStream(objects_.stub(), bucket_, big_key_, big_, data_).status, "PutObject (setup)")) return;
    for (int i = 0; puts && i < o_.repeats; ++i) {
      once("raw PUT", [&] { return PutStream(raw_.stub(), "raw", raw_key, big_, data_); });
      if (relay_) once("relay PUT", [&] { return PutStream(relay_->stub(), "raw", raw_key, big_, data_); });
      once("objects PUT", [&] { return PutStream(objects_.stub(), bucket_, big_key_, big_, data_); });
    }
    std::vector<double> ttfb;
    for (int i = 0; gets && i < o_.repeats; ++i) {
      once("raw GET", [&] { return GetStream(raw_.stub(), "raw", raw_key, big_); });
      if (relay_) once("relay GET", [&] { return GetStream(relay_->stub(), "raw", raw_key, big_); });
      StreamRun g = once("objects GET", [&] { return GetStream(objects_.stub(), bucket_, big_key_, big_); });
      if (g.status.ok()) {
        ttfb.push_back(g.ttfb_s * 1000);
        big_get_seconds_.push_back(g.seconds);
      }
    }
    for (const auto& [label, v] : rate) {
      std::printf("  %-12s MiB/s:", label.c_str());
      for (double x : v) std::printf(" %.0f", x);
      std::printf("  (median %.0f)\n", Median(v));
      if (cpu_) cpu_->Print(mode_.name + " " + label);
    }
    std::printf("  objects GET time to first data, idle: median %.2f ms\n", Median(ttfb));
    std::fflush(stdout);
    const std::string size = Fmt("%.0f", mib) + " MiB";
    Row get = MakeRow("GetObject " + size + ", median of " + std::to_string(o_.repeats), Median(rate["objects GET"]),
            "MiB/s", Median(rate["raw GET"]));
    get.kind = Row::kRatioAtLeast;
    get.target = 0.8;
    Row put = MakeRow("PutObject " + size + ", median of " + std::to_string(o_.repeats), Median(rate["objects PUT"]),
            "MiB/s", Median(rate["raw PUT"]));
    put.kind = Row::kRatioAtLeast;
    put.target = 0.6;
    if (relay_) {
      const double rg = Median(rate["relay GET"]), rp = Median(rate["relay PUT"]);
      get.note = "raw stream through the gateway relay: " + Fmt("%.0f", rg) + " MiB/s (" +
                 Fmt("%.2f", rg / get.baseline) + " of direct); objects / relayed raw " + Fmt("%.2f", get.figure / rg);
      put.note = "raw stream through the gateway relay: " + Fmt("%.0f", rp) + " MiB/s (" +
                 Fmt("%.2f", rp / put.baseline) + " of direct); objects / relayed raw " + Fmt("%.2f", put.figure / rp);
    }
    rows->push_back(get);
    rows->push_back(put);
  }

  // ---- 2. 4 KiB PUT and GET rates against the health rate
  void Rates(std::vector<Row>* rows) {
    const int64_t n = o_.small_bytes;
    const std::string data = RandomBytes(static_cast<size_t>(n), 3);
    // The objects the GET workers read.
    if (calibration_) {
      small_keys_.push_back(std::to_string(n));
    } else {
      for (int i = 0; i < kSmallKeys; ++i) small_keys_.push_back("small/" + std::to_string(i));
      if (!PutMany(bucket_, small_keys_, data)) return;
    }
    std::printf("[%s] %lld-byte PUT and GET at concurrency %d over %d channels, %.1f s each (+%.1f s warm-up), "
                "between health Check runs\n",
                mode_.name.c_str(), static_cast<long long>(n), o_.concurrency, o_.channels, o_.seconds, o_.warmup);
    std::fflush(stdout);
    const bool only_get = Part("get_small") && !Part("rates") && !Part("ttfb") && !Part("put_small");
    const bool only_put = Part("put_small") && !Part("rates") && !Part("ttfb") && !Part("get_small");
    const Result h1 = only_get ? Result() : Health();
    const Result put = only_get ? Result() : Closed("put_small", [&](Loop* loop, int i) -> std::unique_ptr<Worker> {
      return MakePutWorker(loop, objects_.stub(static_cast<size_t>(i)), bucket_,
                           "put/" + std::to_string(i) + "/", data);
    });
    const Result h2 = Health();
    const Result get = only_put ? Result() : Closed("get_small", [&](Loop* loop, int i) -> std::unique_ptr<Worker> {
      return MakeGetWorker(loop, objects_.stub(static_cast<size_t>(i)), bucket_, small_keys_,
                           static_cast<size_t>(i), static_cast<size_t>(o_.concurrency), n, false);
    });
    const Result h3 = only_put ? Result() : Health();
    get_small_rate_ = get.calls_per_s;
    const std::string sz = n % 1024 == 0 ? std::to_string(n / 1024) + " KiB" : std::to_string(n) + " B";
    const std::string c = ", c=" + std::to_string(o_.concurrency);
    Row p = MakeRow("PutObject " + sz + c + " vs health Check", put.calls_per_s, "calls/s",
          (h1.calls_per_s + h2.calls_per_s) / 2);
    p.kind = Row::kRatioAtLeast;
    p.target = 0.4;
    p.note = "p50 " + Fmt("%.2f", put.p50_us / 1000) + " ms, p99 " + Fmt("%.2f", put.p99_us / 1000) +
             " ms; health runs " + Fmt("%.0f", h1.calls_per_s) + ", " + Fmt("%.0f", h2.calls_per_s) + " calls/s";
    Row g = MakeRow("GetObject " + sz + c + " vs health Check", get.calls_per_s, "calls/s",
          (h2.calls_per_s + h3.calls_per_s) / 2);
    g.kind = Row::kRatioAtLeast;
    g.target = 0.6;
    g.note = "p50 " + Fmt("%.2f", get.p50_us / 1000) + " ms, p99 " + Fmt("%.2f", get.p99_us / 1000) +
             " ms; health runs " + Fmt("%.0f", h2.calls_per_s) + ", " + Fmt("%.0f", h3.calls_per_s) + " calls/s";
    rows->push_back(p);
    rows->push_back(g);
  }

  // ---- 5. time to first byte at half the max GET rate (open loop)
  void Ttfb(std::vector<Row>* rows) {
    const double big_rate = big_get_seconds_.empty() ? NAN : 1.0 / Median(big_get_seconds_);
    struct Case {
      std::string label;
      std::vector<std::string> keys;
      int64_t size;
      double max_rate;
      double seconds;
      int workers;
    };
    const double small_seconds = std::max(o_.seconds, o_.quick ? 1.0 : 5.0);
    const double big_seconds = std::max(o_.seconds, o_.quick ? 2.0 : 15.0);
    std::vector<Case> cases = {
        {"ttfb_small", small_keys_, o_.small_bytes, get_small_rate_, small_seconds, std::max(32, o_.concurrency * 2)},
        {"ttfb_big", {big_key_}, big_, big_rate, big_seconds, 4},
    };
    for (const Case& k : cases) {
      const double rate = k.max_rate / 2;
      const std::string sz =
          k.size >= kMiB ? Fmt("%.0f", static_cast<double>(k.size) / kMiB) + " MiB" : std::to_string(k.size / 1024) + " KiB";
      Row r = MakeRow("GetObject " + sz + " time to first data p99, open loop at half max rate", NAN, "ms");
      r.kind = Row::kAtMost;
      r.target = 5;
      if (!(rate > 0) || k.keys.empty()) {
        r.note = "no max rate measured";
        rows->push_back(r);
        continue;
      }
      std::printf("[%s] %s: GetObject %s open loop at %.1f/s (half of %.1f/s), %.1f s\n", mode_.name.c_str(),
                  k.label.c_str(), sz.c_str(), rate, k.max_rate, k.seconds);
      std::fflush(stdout);
      if (cpu_) cpu_->Begin();
      Result res = bench::RunPaced(k.label, rate, k.workers, o_.channels, std::min(o_.warmup, 1.0), k.seconds,
                                   [&](Loop* loop, int i) -> std::unique_ptr<Worker> {
                                     return MakeGetWorker(loop, objects_.stub(static_cast<size_t>(i)),
                                                          bucket_, k.keys, static_cast<size_t>(i),
                                                          static_cast<size_t>(k.workers), k.size, true);
                                   });
      if (cpu_) cpu_->End(mode_.name + " " + k.label);
      if (cpu_) cpu_->Print(mode_.name + " " + k.label);
      Account(res);
      r.figure = res.ops ? res.p99_us / 1000 : NAN;
      r.note = "at " + Fmt("%.1f", rate) + " calls/s: p50 " + Fmt("%.2f", res.p50_us / 1000) + " ms, max " +
               Fmt("%.2f", res.max_us / 1000) + " ms, n=" + std::to_string(res.ops);
      rows->push_back(r);
    }
  }

  // ---- 3. ListObjectsV2 of a bucket of list_keys keys
  void List(std::vector<Row>* rows) {
    std::vector<std::string> keys;
    for (int i = 0; i < o_.list_keys; ++i) keys.push_back("list/" + Fmt("%06.0f", i));
    const auto t0 = Clock::now();
    if (!PutMany(list_bucket_, keys, RandomBytes(100, 5))) return;
    ov1::ListObjectsV2Request req;
    req.set_bucket(list_bucket_);
    req.set_max_keys(std::min(1000, o_.list_keys));
    {
      grpc::ClientContext ctx;
      bench::SetDeadline(&ctx);
      ov1::ListObjectsV2Response resp;
      if (!Check(objects_.stub()->ListObjectsV2(&ctx, req, &resp), "ListObjectsV2")) return;
      if (resp.contents_size() != std::min(1000, o_.list_keys)) {
        Error("ListObjectsV2 returned " + std::to_string(resp.contents_size()) + " keys, expected " +
              std::to_string(std::min(1000, o_.list_keys)));
      }
      std::printf("[%s] list: %d keys put in %.1f s; ListObjectsV2 response %zu bytes; c=1 for %.1f s\n",
                  mode_.name.c_str(), o_.list_keys, Seconds(Clock::now() - t0), resp.ByteSizeLong(), o_.seconds);
      std::fflush(stdout);
    }
    const std::string method = "/" + std::string(ov1::ObjectsService::service_full_name()) + "/ListObjectsV2";
    grpc::Slice slice = SerializedSlice(req);
    std::vector<grpc::ByteBuffer> reqs = {grpc::ByteBuffer(&slice, 1)};
    const uint64_t n = static_cast<uint64_t>(std::min(1000, o_.list_keys));
    const Result r = Closed(
        "list", [&](Loop* loop, int i) -> std::unique_ptr<Worker> {
          return std::make_unique<bench::RawWorker>(
              loop, objects_.generic(static_cast<size_t>(i)), method, reqs,
              [n](const grpc::ByteBuffer&, bench::RawWorker*) -> uint64_t { return n; });
        },
        1);
    const std::string what = "ListObjectsV2 of " + std::to_string(n) + " keys, c=1";
    Row p50 = MakeRow(what + ", p50", r.p50_us / 1000, "ms");
    Row p99 = MakeRow(what + ", p99", r.p99_us / 1000, "ms");
    p99.note = Fmt("%.0f", r.calls_per_s) + " calls/s, n=" + std::to_string(r.ops);
    rows->push_back(p50);
    rows->push_back(p99);
  }

  // ---- 4. CompleteMultipartUpload of `parts` parts
  void Multipart(std::vector<Row>* rows) {
    const int64_t part_size = 5 * kMiB, last_size = kMiB;
    std::vector<double> ms;
    double upload_mib_s = NAN;
    std::printf("[%s] multipart: %d x (%d parts: %d x 5 MiB + 1 MiB, uploaded on 2 streams), then Complete timed\n",
                mode_.name.c_str(), o_.mpu_repeats, o_.parts, o_.parts - 1);
    std::fflush(stdout);
    for (int rep = 0; rep < o_.mpu_repeats; ++rep) {
      const std::string key = "mpu/" + std::to_string(rep);
      std::string upload_id;
      {
        grpc::ClientContext ctx;
        bench::SetDeadline(&ctx);
        ov1::CreateMultipartUploadRequest req;
        req.set_bucket(bucket_);
        req.set_key(key);
        ov1::CreateMultipartUploadResponse resp;
        if (!Check(objects_.stub()->CreateMultipartUpload(&ctx, req, &resp), "CreateMultipartUpload")) return;
        upload_id = resp.upload_id();
      }
      std::vector<std::string> etags(static_cast<size_t>(o_.parts));
      std::atomic<int> next{0};
      std::atomic<bool> failed{false};
      std::mutex mu;
      const auto t0 = Clock::now();
      auto uploader = [&](size_t channel) {
        for (int p; (p = next.fetch_add(1)) < o_.parts && !failed;) {
          const int64_t size = p == o_.parts - 1 ? last_size : part_size;
          StreamRun r = UploadPartStream(objects_.stub(channel), bucket_, key, upload_id, p + 1, size, data_);
          if (!r.status.ok()) {
            std::lock_guard<std::mutex> lock(mu);
            Error("UploadPart " + std::to_string(p + 1) + ": " + StatusText(r.status));
            failed = true;
            return;
          }
          etags[static_cast<size_t>(p)] = r.etag;
        }
      };
      std::thread a(uploader, 0), b(uploader, 1);
      a.join();
      b.join();
      if (failed) return;
      upload_mib_s = static_cast<double>((o_.parts - 1) * part_size + last_size) / kMiB / Seconds(Clock::now() - t0);
      ov1::CompleteMultipartUploadRequest req;
      req.set_bucket(bucket_);
      req.set_key(key);
      req.set_upload_id(upload_id);
      for (int p = 0; p < o_.parts; ++p) {
        ov1::CompletedPart* part = req.add_parts();
        part->set_part_number(p + 1);
        part->set_etag(etags[static_cast<size_t>(p)]);
      }
      ov1::CompleteMultipartUploadResponse resp;
      grpc::ClientContext ctx;
      bench::SetDeadline(&ctx);
      if (cpu_) cpu_->Begin();
      const auto c0 = Clock::now();
      const grpc::Status s = objects_.stub()->CompleteMultipartUpload(&ctx, req, &resp);
      const double took = Seconds(Clock::now() - c0) * 1000;
      if (cpu_) cpu_->End(mode_.name + " complete");
      if (!Check(s, "CompleteMultipartUpload")) return;
      const int64_t expect = (o_.parts - 1) * part_size + last_size;
      if (resp.size() != expect) {
        Error("CompleteMultipartUpload size " + std::to_string(resp.size()) + ", expected " + std::to_string(expect));
      }
      ms.push_back(took);
      std::printf("  complete %d: %.2f ms (parts uploaded at %.0f MiB/s; etag %s)\n", rep + 1, took, upload_mib_s,
                  resp.etag().c_str());
      std::fflush(stdout);
      // Free the space for the next round.
      grpc::ClientContext dctx;
      bench::SetDeadline(&dctx);
      ov1::DeleteObjectRequest dreq;
      dreq.set_bucket(bucket_);
      dreq.set_key(key);
      ov1::DeleteObjectResponse dresp;
      Check(objects_.stub()->DeleteObject(&dctx, dreq, &dresp), "DeleteObject (multipart object)");
    }
    if (cpu_) cpu_->Print(mode_.name + " complete");
    Row r = MakeRow("CompleteMultipartUpload of " + std::to_string(o_.parts) + " parts, median of " +
              std::to_string(ms.size()),
          Median(ms), "ms");
    r.kind = Row::kAtMost;
    r.target = 50;
    if (!ms.empty()) {
      std::string all;
      for (double x : ms) all += (all.empty() ? "" : ", ") + Fmt("%.1f", x);
      r.note = "each: " + all + " ms; max " + Fmt("%.1f", *std::max_element(ms.begin(), ms.end())) + " ms";
    }
    rows->push_back(r);
  }

  // ---- helpers

  // Puts every key (size of `data`) at concurrency 8 with sync streams on threads.
  bool PutMany(const std::string& bucket, const std::vector<std::string>& keys, const std::string& data) {
    std::atomic<size_t> next{0};
    std::atomic<bool> failed{false};
    std::mutex mu;
    std::vector<std::thread> threads;
    for (size_t t = 0; t < 8; ++t) {
      threads.emplace_back([&, t] {
        for (size_t i; (i = next.fetch_add(1)) < keys.size() && !failed;) {
          grpc::ClientContext ctx;
          bench::SetDeadline(&ctx);
          ov1::PutObjectResponse resp;
          ov1::PutObjectRequest req;
          req.mutable_header()->set_bucket(bucket);
          req.mutable_header()->set_key(keys[i]);
          req.set_data(data);
          auto w = objects_.stub(t)->PutObject(&ctx, &resp);
          w->WriteLast(req, grpc::WriteOptions());
          const grpc::Status s = w->Finish();
          if (!s.ok()) {
            std::lock_guard<std::mutex> lock(mu);
            Error("setup PutObject " + keys[i] + ": " + StatusText(s));
            failed = true;
          }
        }
      });
    }
    for (auto& t : threads) t.join();
    return !failed;
  }

  Result Health() {
    return Closed("health", [&](Loop* loop, int i) -> std::unique_ptr<Worker> {
      return std::make_unique<bench::HealthWorker>(loop, objects_.generic(static_cast<size_t>(i)));
    });
  }

  Result Closed(const std::string& scenario, const bench::WorkerFactory& make, int concurrency = 0) {
    const std::string label = mode_.name + " " + scenario + " #" + std::to_string(results_.size() + 1);
    if (cpu_) cpu_->Begin();
    Result r = bench::RunClosed(scenario, concurrency ? concurrency : o_.concurrency, o_.channels, o_.warmup,
                                o_.seconds, make);
    if (cpu_) cpu_->End(label);
    std::printf("  ");
    bench::PrintHuman(r, kNames);
    if (cpu_) cpu_->Print(label);
    Account(r);
    return r;
  }

  void Account(const Result& r) {
    if (!r.first_error.empty() && first_error_.empty()) first_error_ = r.scenario + ": " + r.first_error;
    results_.push_back(r);
  }

  void Error(const std::string& what) {
    ++stream_errors_;
    if (first_error_.empty()) first_error_ = what;
    std::fprintf(stderr, "%s [%s]: %s\n", kProgram, mode_.name.c_str(), what.c_str());
  }

  bool Check(const grpc::Status& s, const std::string& what) {
    if (s.ok()) return true;
    Error(what + " failed: " + StatusText(s));
    return false;
  }

  static constexpr int kSmallKeys = 64;

  const Options& o_;
  const Mode mode_;
  Target objects_;
  Target raw_;
  std::optional<Target> relay_;
  CpuSampler* const cpu_;
  const std::string run_id_;
  const PutData data_;
  bool calibration_ = false;
  std::string bucket_, list_bucket_, big_key_;
  int64_t big_ = 0;
  std::vector<std::string> small_keys_;
  std::vector<double> big_get_seconds_;
  double get_small_rate_ = NAN;
  std::vector<Result> results_;
  uint64_t stream_errors_ = 0;
  std::string first_error_;
};

}  // namespace

bool RunMode(const Options& o, const Mode& mode, const std::string& raw_endpoint, CpuSampler* cpu,
             std::vector<Row>* rows) {
  Bench b(o, mode, raw_endpoint, cpu);
  if (!b.Setup()) return false;
  *rows = b.Run();
  return true;
}

}  // namespace thingtank::bench::objects
