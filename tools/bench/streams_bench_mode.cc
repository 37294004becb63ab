#include "streams_bench_mode.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>

#include "load.h"
#include "streams_bench_load.h"

namespace thingtank::bench::streams {

namespace {

const bench::UnitNames kNames{"records", "records_per_s", "misses", "records", "misses"};

constexpr int kLatencyWorkers = 16;              // PutRecords calls in flight at most, paced runs
constexpr auto kDrain = std::chrono::seconds(2);  // after a paced run, for the last records to arrive
constexpr int kPrefillThreads = 4;

class Bench {
 public:
  Bench(const Options& o, const Mode& mode, CpuSampler* cpu)
      : o_(o),
        mode_(mode),
        conns_(mode.endpoint, o.channels),
        probe_conns_(mode.endpoint, 1),
        cpu_(cpu),
        run_id_(bench::RunId()) {
    stub_ = sv1::StreamsService::NewStub(conns_.channel(0));
    probe_stub_ = sv1::StreamsService::NewStub(probe_conns_.channel(0));
    put_stream_ = "bench-" + run_id_ + "-" + mode.name;
    read_stream_ = put_stream_ + "-read";
  }

  bool Setup() {
    if (!conns_.WaitConnected(kProgram) || !probe_conns_.WaitConnected(kProgram)) return false;
    const auto t0 = Clock::now();
    if (!CreateStream(put_stream_, &put_arn_)) return false;
    put_streams_ = {put_stream_};
    for (int i = 2; i <= o_.put_streams; ++i) {
      put_streams_.push_back(put_stream_ + "-" + std::to_string(i));
      if (!CreateStream(put_streams_.back(), nullptr)) return false;
    }
    if (Part("get") && !CreateStream(read_stream_, nullptr)) return false;
    if (!ListShards(put_stream_, &put_shards_)) return false;
    probe_shard_ = put_shards_.front();
    if (Latencies() && !RegisterConsumer()) return false;
    // Which of a request's partition keys land on the probed shard.
    {
      grpc::ClientContext ctx;
      bench::SetDeadline(&ctx);
      sv1::PutRecordsResponse resp;
      if (!Check(stub_->PutRecords(&ctx, PutRequest(put_stream_, 0), &resp), "PutRecords (setup)")) return false;
      for (const auto& e : resp.records()) probe_records_per_call_ += e.shard_id() == probe_shard_;
      if (resp.failed_record_count() != 0) {
        Error("PutRecords (setup): " + std::to_string(resp.failed_record_count()) + " records failed");
      }
    }
    std::printf("[%s] setup: streams %s (%d shards)%s, consumer %s; %.2f s\n", mode_.name.c_str(),
                put_stream_.c_str(), o_.shards, Part("get") ? (" and " + read_stream_).c_str() : "",
                consumer_arn_.empty() ? "-" : consumer_arn_.c_str(), Seconds(Clock::now() - t0));
    std::fflush(stdout);
    if (Part("get") && !Prefill()) return false;
    return true;
  }

  void Run(std::vector<Row>* rows, std::vector<Result>* runs) {
    if (Part("put") || Latencies()) Put(rows);
    if (Part("get")) Get(rows);
    if (Latencies()) {
      idle_ = Health(1);
      Row h = MakeRow("health Check, c=1 (the latency baseline), p50", idle_.p50_us / 1000, "ms");
      h.note = "p99 " + Fmt("%.3f", idle_.p99_us / 1000) + " ms, max " + Fmt("%.3f", idle_.max_us / 1000) +
               " ms, " + Fmt("%.0f", idle_.calls_per_s) + " calls/s";
      rows->push_back(h);
      if (Part("readable")) Latency(false, rows);
      if (Part("subscribe")) Latency(true, rows);
    }
    Row e = MakeRow("errors: failed calls and records, records read twice or not within 2 s",
                    static_cast<double>(errors_), "count", Row::kAtMost, 0);
    if (!first_error_.empty()) e.note = "first: " + first_error_;
    rows->push_back(e);
    *runs = results_;
  }

 private:
  bool Part(const std::string& name) const {
    return o_.only.empty() || ("," + o_.only + ",").find("," + name + ",") != std::string::npos;
  }
  bool Latencies() const { return Part("readable") || Part("subscribe"); }

  // ---- 1. PutRecords rate
  void Put(std::vector<Row>* rows) {
    // reqs[s]: the requests of put stream s (worker i puts to stream i % streams).
    std::vector<std::vector<grpc::ByteBuffer>> reqs(put_streams_.size());
    for (size_t st = 0; st < put_streams_.size(); ++st) {
      for (uint64_t seed = 1; seed <= 4; ++seed) reqs[st].push_back(Serialized(PutRequest(put_streams_[st], seed)));
    }
    auto make = [&](Loop* loop, int i) {
      const size_t n = static_cast<size_t>(i);
      return MakePutWorker(loop, conns_.generic(n), reqs[n % reqs.size()]);
    };
    const std::string over =
        put_streams_.size() > 1 ? " over " + std::to_string(put_streams_.size()) + " streams" : "";
    int best = o_.put_concurrency;
    std::string sweep;
    if (best == 0) {
      const double s = std::max(1.0, o_.seconds / 2);
      std::printf("[%s] PutRecords %d x %d B%s: callers in flight, %.1f s each (+0.5 s warm-up):\n",
                  mode_.name.c_str(), kRecordsPerPut, kRecordBytes, over.c_str(), s);
      double best_rate = -1;
      for (int c : kPutSweep) {
        const Result r = Closed("put c=" + std::to_string(c), c, 0.5, s, make);
        sweep += (sweep.empty() ? "" : ", ") + ("c=" + std::to_string(c) + " ") + Fmt("%.0f", r.units_per_s);
        if (r.units_per_s > best_rate) {
          best_rate = r.units_per_s;
          best = c;
        }
      }
      std::printf("[%s] best: %d callers\n", mode_.name.c_str(), best);
    }
    const Result h1 = Health(best);
    const Result put = Closed("put", best, o_.warmup, o_.seconds, make);
    const Result h2 = Health(best);
    max_put_rate_ = put.units_per_s;
    const double health = (h1.calls_per_s + h2.calls_per_s) / 2;
    Row r = MakeRow("PutRecords " + std::to_string(kRecordsPerPut) + " x " + std::to_string(kRecordBytes) +
                        " B" + over + ", best of callers: c=" + std::to_string(best),
                    put.units_per_s, "records/s", Row::kAtLeast, 150000);
    r.baseline = health;
    r.baseline_unit = "calls/s";
    r.ratio = put.calls_per_s / health;
    r.note = Fmt("%.0f", put.calls_per_s) + " calls/s, call p50 " + Fmt("%.2f", put.p50_us / 1000) + " ms, p99 " +
             Fmt("%.2f", put.p99_us / 1000) + " ms; health c=" + std::to_string(best) + " runs " +
             Fmt("%.0f", h1.calls_per_s) + ", " + Fmt("%.0f", h2.calls_per_s) + " calls/s" +
             (sweep.empty() ? "" : "; records/s by callers: " + sweep) + Cpu("put");
    rows->push_back(r);
  }

  // ---- 2. GetRecords rate, one reader per shard of the pre-filled stream
  void Get(std::vector<Row>* rows) {
    std::vector<std::string> shards, starts;
    if (!ListShards(read_stream_, &shards)) return;
    for (const std::string& shard : shards) {
      grpc::ClientContext ctx;
      bench::SetDeadline(&ctx);
      sv1::GetShardIteratorRequest req;
      req.set_stream_name(read_stream_);
      req.set_shard_id(shard);
      req.set_shard_iterator_type(sv1::SHARD_ITERATOR_TYPE_TRIM_HORIZON);
      sv1::GetShardIteratorResponse resp;
      if (!Check(stub_->GetShardIterator(&ctx, req, &resp), "GetShardIterator " + shard)) return;
      starts.push_back(resp.shard_iterator());
    }
    const int c = static_cast<int>(starts.size());
    std::printf("[%s] GetRecords limit %d, %d shards of ~%d records read in parallel (one reader each, over "
                "again from TRIM_HORIZON at the tip)\n",
                mode_.name.c_str(), kGetLimit, c, o_.fill / c);
    const Result get = Closed("get", c, o_.warmup, o_.seconds, [&](Loop* loop, int i) {
      return MakeGetWorker(loop, conns_.generic(static_cast<size_t>(i)), starts[static_cast<size_t>(i)]);
    });
    const Result h = Health(c);
    Row r = MakeRow("GetRecords limit " + std::to_string(kGetLimit) + ", " + std::to_string(c) + " shards in parallel",
                    get.units_per_s, "records/s", Row::kAtLeast, 400000);
    r.baseline = h.calls_per_s;
    r.baseline_unit = "calls/s";
    r.ratio = get.calls_per_s / h.calls_per_s;
    r.note = Fmt("%.0f", get.calls_per_s) + " calls/s of " +
             Fmt("%.0f", get.calls ? static_cast<double>(get.units) / static_cast<double>(get.calls) : 0) +
             " records, call p50 " + Fmt("%.2f", get.p50_us / 1000) + " ms, p99 " + Fmt("%.2f", get.p99_us / 1000) +
             " ms; " + std::to_string(get.misses) + " empty pages; health c=" + std::to_string(c) + " " +
             Fmt("%.0f", h.calls_per_s) + " calls/s" + Cpu("get");
    rows->push_back(r);
  }

  // ---- 3 and 4. put-to-readable (poller) and put-to-subscriber latency
  void Latency(bool subscriber, std::vector<Row>* rows) {
    const std::string name = subscriber ? "subscribe" : "readable";
    const std::string what =
        subscriber ? "put-to-subscriber (SubscribeToShard)" : "put-to-readable (GetRecords poller)";
    const double records_per_s = max_put_rate_ * o_.latency_load;
    const double calls_per_s = records_per_s / kRecordsPerPut;
    if (!(calls_per_s > 0) || probe_records_per_call_ == 0) {
      Row r = MakeRow(what + ", p99", NAN, "ms", Row::kAtMost, subscriber ? 2 : 5);
      r.note = probe_records_per_call_ == 0 ? "no record of a request lands on " + probe_shard_
                                            : "no max put rate measured";
      rows->push_back(r);
      return;
    }
    StampedLoad load;
    std::unique_ptr<Probe> probe = subscriber ? MakeSubscriber(probe_stub_.get(), &load, consumer_arn_, probe_shard_)
                                              : MakePoller(probe_stub_.get(), &load, put_stream_, probe_shard_);
    std::string error;
    if (!probe->Start(&error)) {
      Error(name + ": " + error);
      rows->push_back(MakeRow(what + ", p99", NAN, "ms", Row::kAtMost, subscriber ? 2 : 5));
      return;
    }
    std::printf("[%s] %s: PutRecords of %d records at %.0f records/s (%.1f calls/s, %.2f of the max), %.1f s "
                "(+%.1f s warm-up); %d records of each call land on %s, read there\n",
                mode_.name.c_str(), what.c_str(), kRecordsPerPut, records_per_s, calls_per_s, o_.latency_load,
                o_.latency_seconds, o_.warmup, probe_records_per_call_, probe_shard_.c_str());
    std::fflush(stdout);
    const sv1::PutRecordsRequest tmpl = PutRequest(put_stream_, 7);
    const auto start = Clock::now();
    load.window_from_ns = Nanos(start) + static_cast<int64_t>(o_.warmup * 1e9);
    load.window_to_ns = load.window_from_ns + static_cast<int64_t>(o_.latency_seconds * 1e9);
    if (cpu_) cpu_->Begin();
    Result put = bench::RunPaced(name, calls_per_s, kLatencyWorkers, o_.channels, o_.warmup, o_.latency_seconds,
                                 [&](Loop* loop, int i) {
                                   return MakeStampedPutWorker(loop, conns_.generic(static_cast<size_t>(i)), tmpl,
                                                               &load);
                                 });
    const uint64_t expected = load.calls_in_window.load() * static_cast<uint64_t>(probe_records_per_call_);
    const auto drain_until = Clock::now() + kDrain;
    while (probe->in_window() < expected && Clock::now() < drain_until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    probe->Stop();
    if (cpu_) cpu_->End(mode_.name + " " + name);
    std::printf("  ");
    bench::PrintHuman(put, kNames);
    if (cpu_ && o_.profile) cpu_->Print(mode_.name + " " + name);
    Account(put);

    Arrivals a = probe->arrivals();
    Result lat;
    bench::FillPercentiles(&a.latency_ns, &lat);
    const uint64_t unseen = expected > a.in_window ? expected - a.in_window : 0;
    errors_ += a.errors + a.duplicates + unseen;
    if (!a.first_error.empty()) Error(name + ": " + a.first_error, false);
    if (unseen > 0) Error(name + ": " + std::to_string(unseen) + " records put in the window not read", false);
    std::printf("  %s: %llu of %llu records seen, p50 %.3f ms, p99 %.3f ms, max %.3f ms; %llu reads (%llu empty)",
                name.c_str(), static_cast<unsigned long long>(a.in_window), static_cast<unsigned long long>(expected),
                lat.p50_us / 1000, lat.p99_us / 1000, lat.max_us / 1000, static_cast<unsigned long long>(a.reads),
                static_cast<unsigned long long>(a.empty_reads));
    Result reads;
    if (!a.read_ns.empty()) {
      bench::FillPercentiles(&a.read_ns, &reads);
      std::printf("; GetRecords call p50 %.3f ms, p99 %.3f ms", reads.p50_us / 1000, reads.p99_us / 1000);
    }
    std::printf("\n");
    std::fflush(stdout);

    const double ms = 1000;
    const std::string at = "at " + Fmt("%.0f", records_per_s) + " records/s (" + Fmt("%.1f", calls_per_s) +
                           " calls/s), n=" + std::to_string(a.in_window) + " records of " +
                           std::to_string(expected) + " put to " + probe_shard_ + " in the window";
    Row p50 = MakeRow(what + ", p50", a.in_window ? lat.p50_us / ms : NAN, "ms");
    Row p99 = MakeRow(what + ", p99", a.in_window ? lat.p99_us / ms : NAN, "ms", Row::kAtMost, subscriber ? 2 : 5);
    Row max = MakeRow(what + ", max", a.in_window ? lat.max_us / ms : NAN, "ms");
    using Pair = std::pair<Row*, double>;
    for (auto [row, base] : {Pair{&p50, idle_.p50_us}, Pair{&p99, idle_.p99_us}, Pair{&max, idle_.max_us}}) {
      row->baseline = base / ms;
      row->baseline_unit = "ms";
      row->ratio = row->figure / row->baseline;
    }
    p50.note = at;
    p99.note = "PutRecords call (from when due) p50 " + Fmt("%.2f", put.p50_us / ms) + " ms, p99 " +
               Fmt("%.2f", put.p99_us / ms) + " ms; " + std::to_string(a.reads) + " " +
               (subscriber ? "events" : "polls") + " (" + std::to_string(a.empty_reads) + " empty)" +
               (a.read_ns.empty() ? ""
                                  : ", GetRecords call p50 " + Fmt("%.3f", reads.p50_us / ms) + " ms, p99 " +
                                        Fmt("%.3f", reads.p99_us / ms) + " ms") +
               Cpu(name);
    rows->push_back(p50);
    rows->push_back(p99);
    rows->push_back(max);
  }

  // ---- setup

  bool CreateStream(const std::string& name, std::string* arn) {
    grpc::ClientContext ctx;
    bench::SetDeadline(&ctx);
    sv1::CreateStreamRequest req;
    req.set_stream_name(name);
    req.set_shard_count(o_.shards);
    sv1::CreateStreamResponse resp;
    if (!Check(stub_->CreateStream(&ctx, req, &resp), "CreateStream " + name)) return false;
    const auto deadline = Clock::now() + std::chrono::seconds(30);
    while (Clock::now() < deadline) {
      grpc::ClientContext c;
      bench::SetDeadline(&c);
      sv1::DescribeStreamSummaryRequest dreq;
      dreq.set_stream_name(name);
      sv1::DescribeStreamSummaryResponse d;
      if (!Check(stub_->DescribeStreamSummary(&c, dreq, &d), "DescribeStreamSummary " + name)) return false;
      if (d.stream_description_summary().stream_status() == sv1::STREAM_STATUS_ACTIVE) {
        if (arn) *arn = d.stream_description_summary().stream_arn();
        return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    Error("stream " + name + " not ACTIVE after 30 s");
    return false;
  }

  bool ListShards(const std::string& stream, std::vector<std::string>* out) {
    grpc::ClientContext ctx;
    bench::SetDeadline(&ctx);
    sv1::ListShardsRequest req;
    req.set_stream_name(stream);
    sv1::ListShardsResponse resp;
    if (!Check(stub_->ListShards(&ctx, req, &resp), "ListShards " + stream)) return false;
    out->clear();
    for (const auto& s : resp.shards()) out->push_back(s.shard_id());
    if (out->empty()) {
      Error("ListShards " + stream + ": no shards");
      return false;
    }
    return true;
  }

  bool RegisterConsumer() {
    {
      grpc::ClientContext ctx;
      bench::SetDeadline(&ctx);
      sv1::RegisterStreamConsumerRequest req;
      req.set_stream_arn(put_arn_);
      req.set_consumer_name("bench");
      sv1::RegisterStreamConsumerResponse resp;
      if (!Check(stub_->RegisterStreamConsumer(&ctx, req, &resp), "RegisterStreamConsumer")) return false;
      consumer_arn_ = resp.consumer().consumer_arn();
    }
    const auto deadline = Clock::now() + std::chrono::seconds(30);
    while (Clock::now() < deadline) {
      grpc::ClientContext ctx;
      bench::SetDeadline(&ctx);
      sv1::DescribeStreamConsumerRequest req;
      req.set_consumer_arn(consumer_arn_);
      sv1::DescribeStreamConsumerResponse resp;
      if (!Check(stub_->DescribeStreamConsumer(&ctx, req, &resp), "DescribeStreamConsumer")) return false;
      if (resp.consumer_description().consumer_status() == sv1::CONSUMER_STATUS_ACTIVE) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    Error("consumer " + consumer_arn_ + " not ACTIVE after 30 s");
    return false;
  }

  // Puts o_.fill records (in calls of kRecordsPerPut) into the read stream.
  bool Prefill() {
    const int calls = (o_.fill + kRecordsPerPut - 1) / kRecordsPerPut;
    const sv1::PutRecordsRequest req = PutRequest(read_stream_, 11);
    std::atomic<int> next{0};
    std::atomic<bool> failed{false};
    std::mutex mu;
    const auto t0 = Clock::now();
    std::vector<std::thread> threads;
    for (int t = 0; t < kPrefillThreads; ++t) {
      threads.emplace_back([&, t] {
        auto stub = sv1::StreamsService::NewStub(conns_.channel(static_cast<size_t>(t)));
        while (next.fetch_add(1) < calls && !failed) {
          grpc::ClientContext ctx;
          bench::SetDeadline(&ctx);
          sv1::PutRecordsResponse resp;
          const grpc::Status s = stub->PutRecords(&ctx, req, &resp);
          if (!s.ok() || resp.failed_record_count() != 0) {
            std::lock_guard<std::mutex> lock(mu);
            Error("prefill PutRecords: " + (s.ok() ? std::to_string(resp.failed_record_count()) + " records failed"
                                                   : StatusText(s)));
            failed = true;
          }
        }
      });
    }
    for (auto& t : threads) t.join();
    const double s = Seconds(Clock::now() - t0);
    std::printf("[%s] prefill: %d records into %s in %.2f s (%.0f records/s, %d sync callers)\n", mode_.name.c_str(),
                calls * kRecordsPerPut, read_stream_.c_str(), s, calls * kRecordsPerPut / s, kPrefillThreads);
    std::fflush(stdout);
    return !failed;
  }

  // ---- helpers

  Result Health(int c) {
    return Closed("health c=" + std::to_string(c), c, o_.warmup, o_.seconds, [&](Loop* loop, int i) {
      return std::make_unique<bench::HealthWorker>(loop, conns_.generic(static_cast<size_t>(i)));
    });
  }

  Result Closed(const std::string& scenario, int concurrency, double warmup, double seconds,
                const bench::WorkerFactory& make) {
    const std::string label = mode_.name + " " + scenario;
    if (cpu_) cpu_->Begin();
    Result r = bench::RunClosed(scenario, concurrency, o_.channels, warmup, seconds, make);
    if (cpu_) cpu_->End(label);
    std::printf("  ");
    bench::PrintHuman(r, kNames);
    if (cpu_ && o_.profile) cpu_->Print(label);
    Account(r);
    return r;
  }

  // The CPU note of `scenario`'s last run ("; CPU ...").
  std::string Cpu(const std::string& scenario) const {
    if (!cpu_) return "";
    const std::string shares = cpu_->Shares(mode_.name + " " + scenario);
    return shares.empty() ? "" : "; CPU (cores): " + shares;
  }

  void Account(const Result& r) {
    errors_ += r.errors;
    // A put's misses are failed records; a get's are empty pages (not errors).
    if (r.scenario.rfind("put", 0) == 0 || r.scenario == "readable" || r.scenario == "subscribe") errors_ += r.misses;
    if (!r.first_error.empty() && first_error_.empty()) first_error_ = r.scenario + ": " + r.first_error;
    results_.push_back(r);
  }

  // A failure outside the loops (counted once unless `count` is false: the
  // caller counted it).
  void Error(const std::string& what, bool count = true) {
    if (count) ++errors_;
    if (first_error_.empty()) first_error_ = what;
    std::fprintf(stderr, "%s [%s]: %s\n", kProgram, mode_.name.c_str(), what.c_str());
  }

  bool Check(const grpc::Status& s, const std::string& what) {
    if (s.ok()) return true;
    Error(what + " failed: " + StatusText(s));
    return false;
  }

  const Options& o_;
  const Mode mode_;
  bench::Connections conns_;
  bench::Connections probe_conns_;  // the latency probes' own connection
  std::unique_ptr<Stub> stub_, probe_stub_;
  CpuSampler* const cpu_;
  const std::string run_id_;
  std::string put_stream_, read_stream_, put_arn_, consumer_arn_, probe_shard_;
  std::vector<std::string> put_streams_;  // put_stream_ first
  std::vector<std::string> put_shards_;
  int probe_records_per_call_ = 0;
  double max_put_rate_ = NAN;
  Result idle_;
  std::vector<Result> results_;
  uint64_t errors_ = 0;
  std::string first_error_;
};

}  // namespace

bool RunMode(const Options& o, const Mode& mode, CpuSampler* cpu, std::vector<Row>* rows,
             std::vector<Result>* runs) {
  Bench b(o, mode, cpu);
  if (!b.Setup()) return false;
  b.Run(rows, runs);
  return true;
}

}  // namespace thingtank::bench::streams
