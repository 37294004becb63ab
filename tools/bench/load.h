// Closed-loop load generation shared by the benchmarks (queues_bench, tables_bench).
//
// N concurrent outstanding calls over a few HTTP/2 connections with the gRPC
// callback client API, so gRPC's own callback threads run every worker's state
// machine; no thread per call. A run warms up, then measures for a fixed time
// and reports throughput (calls/s, units/s: messages, items, ...) and latency
// percentiles. Includes the grpc.health.v1 Check baseline worker.
//
// Uses public gRPC client APIs only (no server internals).

#pragma once

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <iosfwd>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace thingtank::bench {

using Clock = std::chrono::steady_clock;

inline constexpr auto kCallTimeout = std::chrono::seconds(30);

// ---------------------------------------------------------------- options

// Options every benchmark has.
struct CommonOptions {
  std::string endpoint = "localhost:50051";
  std::string scenario = "all";
  std::string label;
  int concurrency = 32;
  int channels = 4;
  double seconds = 3.0;
  double warmup = 1.0;
  bool json = false;
};

// A benchmark-specific positive integer flag ("--name N").
struct IntFlag {
  std::string name;  // with the leading "--"
  int* value;
};

// Parses the common flags (--endpoint --scenario --label --concurrency
// --channels --seconds --warmup --json --help) and `extra`; "--flag=value" and
// "--flag value" both work. `usage` prints the program's help. Returns false
// (after a message on stderr) on a bad command line; exits 0 on --help.
bool ParseArgs(int argc, char** argv, const std::string& program, const std::function<void(std::ostream&)>& usage,
               CommonOptions* o, const std::vector<IntFlag>& extra = {});

// Splits "a,b,c" (or "all") into scenarios from `known`; exits 2 on an unknown one.
std::vector<std::string> SelectScenarios(const std::string& spec, const std::vector<std::string>& known,
                                         const std::string& program,
                                         const std::function<void(std::ostream&)>& usage);

// ---------------------------------------------------------------- results

struct Result {
  std::string scenario;
  int concurrency = 0;
  int channels = 0;
  double seconds = 0;   // measured window
  uint64_t calls = 0;   // RPCs completed in the window
  uint64_t units = 0;   // messages / items moved in the window
  uint64_t ops = 0;     // latency samples (calls, or cycles for multi-call operations)
  uint64_t errors = 0;
  uint64_t misses = 0;  // scenario-specific: empty receives, items not found, unprocessed
  double calls_per_s = 0;
  double units_per_s = 0;
  double p50_us = 0;
  double p99_us = 0;
  double max_us = 0;
  double offered_per_s = 0;  // paced runs: the calls started per second; 0: closed loop
  std::string latency_of;  // "call", "cycle", "wake-up"
  std::string first_error;
};

// How a benchmark names Result::units and Result::misses in its output.
struct UnitNames {
  std::string units_json;       // e.g. "messages"
  std::string units_rate_json;  // e.g. "msgs_per_s"
  std::string misses_json;      // e.g. "empty_receives"
  std::string units_human;      // e.g. "msgs"
  std::string misses_human;     // e.g. "empty receives"
};

// Sets p50/p99/max from nanosecond samples (reorders them).
void FillPercentiles(std::vector<int64_t>* ns, Result* r);

std::string JsonEscape(const std::string& s);
std::string ToJson(const Result& r, const UnitNames& names);
// {"endpoint": ..., "label": ..., "results": [...]} on stdout.
void PrintJson(const CommonOptions& o, const std::vector<Result>& results, const UnitNames& names);
void PrintHuman(const Result& r, const UnitNames& names);

// ---------------------------------------------------------------- closed loop

enum Phase : int { kWarmup = 0, kMeasure = 1, kStop = 2 };

class Pacer;

// Shared state of one run. `active` counts workers (closed loop) or calls in
// flight (paced: `pacer` set).
class Loop {
 public:
  std::atomic<int> phase{kWarmup};
  Pacer* pacer = nullptr;

  void WorkerStarted() { active_.fetch_add(1); }
  void WorkerStopped();
  void WaitAllStopped();

 private:
  std::atomic<int> active_{0};
  std::mutex mu_;
  std::condition_variable cv_;
};

// One closed-loop worker: exactly one call outstanding at a time; its
// callbacks are therefore serialized and its counters need no lock.
class Worker {
 public:
  explicit Worker(Loop* loop) : loop_(loop) { latencies_ns_.reserve(1 << 15); }
  virtual ~Worker() = default;
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  void Start() {
    loop_->WorkerStarted();
    Begin();
  }

  uint64_t calls = 0, units = 0, errors = 0, misses = 0;
  std::string first_error;
  std::vector<int64_t> latencies_ns_;

 protected:
  // Starts the next operation (a call or a cycle).
  virtual void Begin() = 0;

  bool Measuring() const { return loop_->phase.load(std::memory_order_relaxed) == kMeasure; }

  // Accounts one completed RPC. Returns false (and stops the worker) when the
  // run is over; the caller must not touch anything then unless it returned true.
  bool CallDone(const grpc::Status& status);

  // Accounts one completed operation (call or cycle) started at `start`.
  // In a paced run the latency counts from when the call was due, not from
  // when a worker got to it.
  void OpDone(Clock::time_point start, uint64_t n_units) {
    if (!Measuring()) return;
    units += n_units;
    if (due_) start = *due_;
    latencies_ns_.push_back(std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start).count());
  }

  // Records a non-RPC failure (a failed batch entry, ...) once.
  void NoteError(const std::string& what) {
    if (first_error.empty()) first_error = what;
  }

 private:
  friend class Pacer;
  Loop* loop_;
  std::optional<Clock::time_point> due_;  // paced runs: when the current call was due
};

// Open-loop load: hands calls, each due at a fixed time, to free workers
// (one call each at a time); a call due while every worker is busy waits for
// the first to free up, and its latency still counts from when it was due
// (no coordinated omission). Thread-safe.
class Pacer {
 public:
  explicit Pacer(Loop* loop) : loop_(loop) {}
  void Add(Worker* w);
  // One call is due at `due`.
  void Due(Clock::time_point due);
  // `w` finished its call (Worker::CallDone).
  void Release(Worker* w);

 private:
  void Launch(Worker* w, Clock::time_point due);

  Loop* const loop_;
  std::mutex mu_;
  std::vector<Worker*> free_;
  std::deque<Clock::time_point> late_;
};

void SetDeadline(grpc::ClientContext* ctx);

// grpc.health.v1.Health/Check with a zero-byte request (an empty
// HealthCheckRequest: the server's overall health).
// A worker for one unary method called with pre-serialized requests (taken
// in turn) through a GenericStub: no serialization on the client, and the
// response is not parsed unless `units` looks at it. The health baseline is
// one; so is the Query scenario, so both load the client equally.
class RawWorker : public Worker {
 public:
  using Units = std::function<uint64_t(const grpc::ByteBuffer&, RawWorker*)>;
  // Makes the request of call number `n` (a fresh key per call, ...).
  using Next = std::function<grpc::ByteBuffer(uint64_t n)>;
  RawWorker(Loop* loop, grpc::GenericStub* stub, std::string method,
            std::vector<grpc::ByteBuffer> requests, Units units);
  RawWorker(Loop* loop, grpc::GenericStub* stub, std::string method, Next next, Units units);
  void Miss(uint64_t n = 1) {
    if (Measuring()) misses += n;
  }

 protected:
  void Begin() override;

 private:
  void Done(const grpc::Status& s);

  grpc::GenericStub* stub_;
  const std::string method_;
  std::vector<grpc::ByteBuffer> requests_;
  Next make_;
  Units units_;
  size_t next_ = 0;
  grpc::ByteBuffer made_;
  std::optional<grpc::ClientContext> ctx_;
  grpc::ByteBuffer response_;
  Clock::time_point start_;
};

// grpc.health.v1.Health/Check with an empty request.
class HealthWorker final : public RawWorker {
 public:
  HealthWorker(Loop* loop, grpc::GenericStub* stub);
};

// A worker for one unary RPC of a generated stub, repeated. `prepare` edits the
// request before each call (fresh keys, ...); `units` counts what a successful
// response moved (and may record misses via the worker).
template <class Req, class Resp>
class UnaryWorker final : public Worker {
 public:
  using Invoke = std::function<void(grpc::ClientContext*, const Req*, Resp*, std::function<void(grpc::Status)>)>;
  using Prepare = std::function<void(Req*)>;
  using Units = std::function<uint64_t(const Resp&, UnaryWorker*)>;

  UnaryWorker(Loop* loop, Req request, Invoke invoke, Prepare prepare, Units count)
      : Worker(loop),
        request_(std::move(request)),
        invoke_(std::move(invoke)),
        prepare_(std::move(prepare)),
        count_(std::move(count)) {}

  void Miss(uint64_t n = 1) {
    if (Measuring()) misses += n;
  }
  void Error(const std::string& what) { NoteError(what); }

 protected:
  void Begin() override {
    if (prepare_) prepare_(&request_);
    ctx_.emplace();
    SetDeadline(&*ctx_);
    response_.Clear();
    start_ = Clock::now();
    invoke_(&*ctx_, &request_, &response_, [this](grpc::Status s) { Done(s); });
  }

 private:
  void Done(const grpc::Status& s) {
    if (s.ok()) OpDone(start_, count_ ? count_(response_, this) : 1);
    if (CallDone(s)) Begin();
  }

  Req request_;
  Resp response_;
  Invoke invoke_;
  Prepare prepare_;
  Units count_;
  std::optional<grpc::ClientContext> ctx_;
  Clock::time_point start_;
};

// ---------------------------------------------------------------- harness

// `channels` separate HTTP/2 connections to one endpoint.
class Connections {
 public:
  Connections(const std::string& endpoint, int channels);
  bool WaitConnected(const std::string& program);
  size_t size() const { return channels_.size(); }
  const std::shared_ptr<grpc::Channel>& channel(size_t i) const { return channels_[i % channels_.size()]; }
  grpc::GenericStub* generic(size_t i) const { return generic_[i % generic_.size()].get(); }

 private:
  std::string endpoint_;
  std::vector<std::shared_ptr<grpc::Channel>> channels_;
  std::vector<std::unique_ptr<grpc::GenericStub>> generic_;
};

// Makes worker i (0 <= i < concurrency) of a run.
using WorkerFactory = std::function<std::unique_ptr<Worker>(Loop*, int)>;

// Runs `concurrency` workers: warm-up, then a measured window of `seconds`.
Result RunClosed(const std::string& scenario, int concurrency, int channels, double warmup, double seconds,
                 const WorkerFactory& make);

// Open loop at `rate` calls per second (see Pacer) with up to `workers`
// calls in flight: warm-up, then a measured window of `seconds`. Result's
// offered_per_s is `rate`.
Result RunPaced(const std::string& scenario, double rate, int workers, int channels, double warmup,
                double seconds, const WorkerFactory& make);

// "<pid>-<ms>": makes resource names unique per run.
std::string RunId();

}  // namespace thingtank::bench
