// queues_bench: closed-loop load generator for the queues service (issue 2, section 7).
//
// Drives N concurrent outstanding calls over a few HTTP/2 connections with the
// gRPC callback client API, so gRPC's own callback threads run every worker's
// state machine; no thread per call. Each scenario runs on a fresh queue,
// warms up, then measures for --seconds; it prints throughput (calls/s,
// messages/s) and latency percentiles. A grpc.health.v1 Check baseline at the
// same concurrency against the same endpoint is measured in the same run.
//
// Uses generated clients only (no server internals).

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "thingtank/queues/v1/queues.grpc.pb.h"

namespace {

namespace qv1 = ::thingtank::queues::v1;
using Clock = std::chrono::steady_clock;
using Stub = qv1::QueuesService::Stub;

constexpr int kBodyBytes = 1024;
constexpr int kBatch = 10;
constexpr auto kCallTimeout = std::chrono::seconds(30);

// ---------------------------------------------------------------- options

struct Options {
  std::string endpoint = "localhost:50051";
  std::string scenario = "all";
  std::string label;
  int concurrency = 32;
  int channels = 4;
  double seconds = 3.0;
  double warmup = 1.0;
  int longpoll_iterations = 200;
  bool json = false;
};

void Usage(std::ostream& out) {
  out << "usage: queues_bench [--endpoint host:port] [--scenario NAME[,NAME...]|all]\n"
         "                    [--concurrency N] [--channels N] [--seconds S] [--warmup S]\n"
         "                    [--longpoll-iterations N] [--label TEXT] [--json]\n"
         "scenarios: health send send_batch cycle cycle_batch longpoll (all = every one)\n"
         "  health       grpc.health.v1.Health/Check baseline (empty request, GenericStub)\n"
         "  send         SendMessage, 1 KiB body\n"
         "  send_batch   SendMessageBatch, 10 x 1 KiB (messages/s counts entries)\n"
         "  cycle        per worker: Send 1, Receive 1, Delete 1 (messages/s = cycles/s)\n"
         "  cycle_batch  per worker: SendBatch 10, Receive up to 10, DeleteBatch\n"
         "  longpoll     sequential: receiver waits 20 s on an empty queue, time from just\n"
         "               before Send to the receiver getting the message\n";
}

bool ParseArgs(int argc, char** argv, Options* o) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    std::string v;
    const auto eq = a.find('=');
    bool has_value = false;
    if (a.rfind("--", 0) == 0 && eq != std::string::npos) {
      v = a.substr(eq + 1);
      a = a.substr(0, eq);
      has_value = true;
    }
    auto value = [&]() -> bool {
      if (has_value) return true;
      if (i + 1 >= argc) {
        std::cerr << "queues_bench: " << a << " needs a value\n";
        return false;
      }
      v = argv[++i];
      return true;
    };
    try {
      if (a == "--help" || a == "-h") {
        Usage(std::cout);
        std::exit(0);
      } else if (a == "--json") {
        o->json = true;
      } else if (a == "--endpoint") {
        if (!value()) return false;
        o->endpoint = v;
      } else if (a == "--scenario") {
        if (!value()) return false;
        o->scenario = v;
      } else if (a == "--label") {
        if (!value()) return false;
        o->label = v;
      } else if (a == "--concurrency") {
        if (!value()) return false;
        o->concurrency = std::stoi(v);
      } else if (a == "--channels") {
        if (!value()) return false;
        o->channels = std::stoi(v);
      } else if (a == "--seconds") {
        if (!value()) return false;
        o->seconds = std::stod(v);
      } else if (a == "--warmup") {
        if (!value()) return false;
        o->warmup = std::stod(v);
      } else if (a == "--longpoll-iterations") {
        if (!value()) return false;
        o->longpoll_iterations = std::stoi(v);
      } else {
        std::cerr << "queues_bench: unknown argument " << a << "\n";
        Usage(std::cerr);
        return false;
      }
    } catch (const std::exception&) {
      std::cerr << "queues_bench: bad value for " << a << ": " << v << "\n";
      return false;
    }
  }
  if (o->concurrency < 1 || o->channels < 1 || o->seconds <= 0 || o->warmup < 0 ||
      o->longpoll_iterations < 1) {
    std::cerr << "queues_bench: --concurrency, --channels, --seconds and --longpoll-iterations "
                 "must be positive\n";
    return false;
  }
  return true;
}

// ---------------------------------------------------------------- results

struct Result {
  std::string scenario;
  int concurrency = 0;
  int channels = 0;
  double seconds = 0;         // measured window
  uint64_t calls = 0;         // RPCs completed in the window
  uint64_t messages = 0;      // messages sent / cycled in the window
  uint64_t ops = 0;           // latency samples (calls, or cycles for cycle scenarios)
  uint64_t errors = 0;
  uint64_t empty_receives = 0;
  double calls_per_s = 0;
  double msgs_per_s = 0;
  double p50_us = 0;
  double p99_us = 0;
  double max_us = 0;
  std::string latency_of;     // "call", "cycle" or "wake-up"
  std::string first_error;
};

double Percentile(std::vector<int64_t>* ns, double p) {
  if (ns->empty()) return 0;
  const size_t k = std::min(ns->size() - 1, static_cast<size_t>(p * static_cast<double>(ns->size())));
  std::nth_element(ns->begin(), ns->begin() + static_cast<std::ptrdiff_t>(k), ns->end());
  return static_cast<double>((*ns)[k]) / 1000.0;
}

void FillPercentiles(std::vector<int64_t>* ns, Result* r) {
  r->p50_us = Percentile(ns, 0.50);
  r->p99_us = Percentile(ns, 0.99);
  r->max_us = ns->empty() ? 0 : static_cast<double>(*std::max_element(ns->begin(), ns->end())) / 1000.0;
}

std::string JsonEscape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += c;
        }
    }
  }
  return out;
}

// ---------------------------------------------------------------- closed loop

enum Phase : int { kWarmup = 0, kMeasure = 1, kStop = 2 };

class Worker;

// Shared state of one closed-loop scenario run.
class Loop {
 public:
  std::atomic<int> phase{kWarmup};

  void WorkerStarted() { active_.fetch_add(1); }
  void WorkerStopped() {
    // Under the lock, so the waiter cannot return (and destroy this) before
    // the last worker is done touching it.
    std::lock_guard<std::mutex> lock(mu_);
    if (active_.fetch_sub(1) == 1) cv_.notify_all();
  }
  void WaitAllStopped() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return active_.load() == 0; });
  }

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

  void Start() {
    loop_->WorkerStarted();
    Begin();
  }

  uint64_t calls = 0, messages = 0, errors = 0, empty_receives = 0;
  std::string first_error;
  std::vector<int64_t> latencies_ns_;

 protected:
  // Starts the next operation (a call or a cycle).
  virtual void Begin() = 0;

  bool Measuring() const { return loop_->phase.load(std::memory_order_relaxed) == kMeasure; }

  // Accounts one completed RPC. Returns false (and stops the worker) when the
  // run is over, or after an error; the caller must not touch anything then
  // unless it returned true.
  bool CallDone(const grpc::Status& status) {
    if (Measuring()) {
      ++calls;
      if (!status.ok()) ++errors;
    }
    if (!status.ok()) {
      if (first_error.empty()) {
        first_error = std::to_string(status.error_code()) + ": " + status.error_message();
      }
      // Do not spin against a failing server.
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    if (loop_->phase.load(std::memory_order_relaxed) == kStop) {
      loop_->WorkerStopped();
      return false;
    }
    return true;
  }

  // Accounts one completed operation (call or cycle) started at `start`.
  void OpDone(Clock::time_point start, uint64_t msgs) {
    if (!Measuring()) return;
    messages += msgs;
    latencies_ns_.push_back(std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start).count());
  }

 private:
  Loop* loop_;
};

void SetDeadline(grpc::ClientContext* ctx) {
  ctx->set_deadline(std::chrono::system_clock::now() + kCallTimeout);
}

std::string Body(char fill) { return std::string(kBodyBytes, fill); }

// grpc.health.v1.Health/Check with a zero-byte request (an empty
// HealthCheckRequest: the server's overall health).
class HealthWorker final : public Worker {
 public:
  HealthWorker(Loop* loop, grpc::GenericStub* stub) : Worker(loop), stub_(stub) {
    grpc::Slice empty;
    request_ = grpc::ByteBuffer(&empty, 1);
  }

 protected:
  void Begin() override {
    ctx_.emplace();
    SetDeadline(&*ctx_);
    start_ = Clock::now();
    stub_->UnaryCall(&*ctx_, Method(), grpc::StubOptions(), &request_, &response_,
                     [this](grpc::Status s) { Done(s); });
  }

 private:
  static const std::string& Method() {
    static const std::string* m = new std::string("/grpc.health.v1.Health/Check");
    return *m;
  }
  void Done(const grpc::Status& s) {
    if (s.ok()) OpDone(start_, 0);
    if (CallDone(s)) Begin();
  }

  grpc::GenericStub* stub_;
  std::optional<grpc::ClientContext> ctx_;
  grpc::ByteBuffer request_, response_;
  Clock::time_point start_;
};

class SendWorker final : public Worker {
 public:
  SendWorker(Loop* loop, Stub* stub, const std::string& queue) : Worker(loop), stub_(stub) {
    request_.set_queue_name(queue);
    request_.set_message_body(Body('s'));
  }

 protected:
  void Begin() override {
    ctx_.emplace();
    SetDeadline(&*ctx_);
    start_ = Clock::now();
    stub_->async()->SendMessage(&*ctx_, &request_, &response_, [this](grpc::Status s) { Done(s); });
  }

 private:
  void Done(const grpc::Status& s) {
    if (s.ok()) OpDone(start_, 1);
    if (CallDone(s)) Begin();
  }

  Stub* stub_;
  std::optional<grpc::ClientContext> ctx_;
  qv1::SendMessageRequest request_;
  qv1::SendMessageResponse response_;
  Clock::time_point start_;
};

void FillBatch(qv1::SendMessageBatchRequest* req, const std::string& queue) {
  req->set_queue_name(queue);
  const std::string body = Body('b');
  for (int i = 0; i < kBatch; ++i) {
    auto* e = req->add_entries();
    e->set_id("e" + std::to_string(i));
    e->set_message_body(body);
  }
}

class SendBatchWorker final : public Worker {
 public:
  SendBatchWorker(Loop* loop, Stub* stub, const std::string& queue) : Worker(loop), stub_(stub) {
    FillBatch(&request_, queue);
  }

 protected:
  void Begin() override {
    ctx_.emplace();
    SetDeadline(&*ctx_);
    start_ = Clock::now();
    stub_->async()->SendMessageBatch(&*ctx_, &request_, &response_, [this](grpc::Status s) { Done(s); });
  }

 private:
  void Done(const grpc::Status& s) {
    if (s.ok()) {
      if (response_.failed_size() > 0 && first_error.empty()) {
        first_error = "batch entry failed: " + response_.failed(0).code() + " " + response_.failed(0).message();
      }
      OpDone(start_, static_cast<uint64_t>(response_.successful_size()));
    }
    if (CallDone(s)) Begin();
  }

  Stub* stub_;
  std::optional<grpc::ClientContext> ctx_;
  qv1::SendMessageBatchRequest request_;
  qv1::SendMessageBatchResponse response_;
  Clock::time_point start_;
};

// Send -> Receive -> Delete, unbatched (1) or batched (10). A worker keeps
// receiving until it has taken as many messages as it sent ("owed"); since
// every worker in the receive step has sent at least that many, the queue
// always holds enough visible messages and empty receives are rare. Messages
// per second counts deleted messages; latency is per whole cycle.
class CycleWorker final : public Worker {
 public:
  CycleWorker(Loop* loop, Stub* stub, const std::string& queue, bool batched)
      : Worker(loop), stub_(stub), batched_(batched) {
    send_.set_queue_name(queue);
    send_.set_message_body(Body('c'));
    FillBatch(&send_batch_, queue);
    receive_.set_queue_name(queue);
    delete_.set_queue_name(queue);
    delete_batch_.set_queue_name(queue);
    for (int i = 0; i < kBatch; ++i) delete_batch_.add_entries()->set_id("d" + std::to_string(i));
  }

 protected:
  void Begin() override {
    start_ = Clock::now();
    owed_ = 0;
    deleted_ = 0;
    ctx_.emplace();
    SetDeadline(&*ctx_);
    if (batched_) {
      stub_->async()->SendMessageBatch(&*ctx_, &send_batch_, &send_batch_resp_,
                                       [this](grpc::Status s) { SendDone(s, send_batch_resp_.successful_size()); });
    } else {
      stub_->async()->SendMessage(&*ctx_, &send_, &send_resp_, [this](grpc::Status s) { SendDone(s, 1); });
    }
  }

 private:
  void SendDone(const grpc::Status& s, int sent) {
    if (!CallDone(s)) return;
    if (!s.ok() || sent == 0) return Begin();
    owed_ = sent;
    Receive();
  }

  void Receive() {
    ctx_.emplace();
    SetDeadline(&*ctx_);
    receive_.set_max_number_of_messages(owed_);
    receive_resp_.Clear();
    stub_->async()->ReceiveMessages(&*ctx_, &receive_, &receive_resp_, [this](grpc::Status s) { ReceiveDone(s); });
  }

  void ReceiveDone(const grpc::Status& s) {
    if (!CallDone(s)) return;
    if (!s.ok()) return Begin();
    const int n = receive_resp_.messages_size();
    if (n == 0) {
      if (Measuring()) ++empty_receives;
      return Receive();
    }
    owed_ = std::max(0, owed_ - n);
    ctx_.emplace();
    SetDeadline(&*ctx_);
    if (batched_) {
      // Reuse the preallocated entries; trim to n.
      while (delete_batch_.entries_size() > n) delete_batch_.mutable_entries()->RemoveLast();
      while (delete_batch_.entries_size() < n) {
        delete_batch_.add_entries()->set_id("d" + std::to_string(delete_batch_.entries_size()));
      }
      for (int i = 0; i < n; ++i) {
        delete_batch_.mutable_entries(i)->set_receipt_handle(receive_resp_.messages(i).receipt_handle());
      }
      in_delete_ = n;
      stub_->async()->DeleteMessageBatch(&*ctx_, &delete_batch_, &delete_batch_resp_,
                                         [this](grpc::Status st) { DeleteDone(st); });
    } else {
      delete_.set_receipt_handle(receive_resp_.messages(0).receipt_handle());
      in_delete_ = 1;
      stub_->async()->DeleteMessage(&*ctx_, &delete_, &delete_resp_, [this](grpc::Status st) { DeleteDone(st); });
    }
  }

  void DeleteDone(const grpc::Status& s) {
    if (!CallDone(s)) return;
    if (!s.ok()) return Begin();
    if (batched_) {
      if (delete_batch_resp_.failed_size() > 0 && first_error.empty()) {
        first_error = "delete entry failed: " + delete_batch_resp_.failed(0).code() + " " +
                      delete_batch_resp_.failed(0).message();
      }
      deleted_ += delete_batch_resp_.successful_size();
    } else {
      deleted_ += in_delete_;
    }
    if (owed_ > 0) return Receive();
    OpDone(start_, static_cast<uint64_t>(deleted_));
    Begin();
  }

  Stub* stub_;
  const bool batched_;
  std::optional<grpc::ClientContext> ctx_;
  qv1::SendMessageRequest send_;
  qv1::SendMessageResponse send_resp_;
  qv1::SendMessageBatchRequest send_batch_;
  qv1::SendMessageBatchResponse send_batch_resp_;
  qv1::ReceiveMessagesRequest receive_;
  qv1::ReceiveMessagesResponse receive_resp_;
  qv1::DeleteMessageRequest delete_;
  qv1::DeleteMessageResponse delete_resp_;
  qv1::DeleteMessageBatchRequest delete_batch_;
  qv1::DeleteMessageBatchResponse delete_batch_resp_;
  Clock::time_point start_;
  int owed_ = 0;
  int deleted_ = 0;
  int in_delete_ = 0;
};

// ---------------------------------------------------------------- harness

class Bench {
 public:
  explicit Bench(const Options& o) : o_(o) {
    for (int i = 0; i < o.channels; ++i) {
      grpc::ChannelArguments args;
      // Separate subchannel pools (and a distinguishing arg) so each channel
      // is its own HTTP/2 connection.
      args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
      args.SetInt("thingtank.bench.channel", i);
      args.SetMaxReceiveMessageSize(16 << 20);
      auto ch = grpc::CreateCustomChannel(o.endpoint, grpc::InsecureChannelCredentials(), args);
      channels_.push_back(ch);
      stubs_.push_back(qv1::QueuesService::NewStub(ch));
      generic_.push_back(std::make_unique<grpc::GenericStub>(ch));
    }
    run_id_ = std::to_string(getpid()) + "-" +
              std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                 std::chrono::system_clock::now().time_since_epoch())
                                 .count() %
                             100000000);
  }

  bool WaitConnected() {
    const auto deadline = std::chrono::system_clock::now() + std::chrono::seconds(10);
    for (auto& ch : channels_) {
      if (!ch->WaitForConnected(deadline)) {
        std::cerr << "queues_bench: cannot connect to " << o_.endpoint << "\n";
        return false;
      }
    }
    return true;
  }

  std::optional<Result> Run(const std::string& scenario) {
    if (scenario == "health") {
      return Closed(scenario, "", [&](Loop* loop, int i, const std::string&) -> std::unique_ptr<Worker> {
        return std::make_unique<HealthWorker>(loop, generic_[static_cast<size_t>(i % o_.channels)].get());
      });
    }
    if (scenario == "longpoll") return LongPoll();
    const std::string queue = "bench-" + scenario + "-" + run_id_;
    if (!CreateQueue(queue)) return std::nullopt;
    std::optional<Result> r;
    auto stub_for = [&](int i) { return stubs_[static_cast<size_t>(i % o_.channels)].get(); };
    if (scenario == "send") {
      r = Closed(scenario, queue, [&](Loop* loop, int i, const std::string& q) -> std::unique_ptr<Worker> {
        return std::make_unique<SendWorker>(loop, stub_for(i), q);
      });
    } else if (scenario == "send_batch") {
      r = Closed(scenario, queue, [&](Loop* loop, int i, const std::string& q) -> std::unique_ptr<Worker> {
        return std::make_unique<SendBatchWorker>(loop, stub_for(i), q);
      });
    } else if (scenario == "cycle" || scenario == "cycle_batch") {
      const bool batched = scenario == "cycle_batch";
      r = Closed(scenario, queue, [&](Loop* loop, int i, const std::string& q) -> std::unique_ptr<Worker> {
        return std::make_unique<CycleWorker>(loop, stub_for(i), q, batched);
      });
      if (r) r->latency_of = "cycle";
    }
    DeleteQueue(queue);
    return r;
  }

 private:
  using Factory = std::function<std::unique_ptr<Worker>(Loop*, int, const std::string&)>;

  Result Closed(const std::string& scenario, const std::string& queue, const Factory& make) {
    Loop loop;
    std::vector<std::unique_ptr<Worker>> workers;
    for (int i = 0; i < o_.concurrency; ++i) workers.push_back(make(&loop, i, queue));
    for (auto& w : workers) w->Start();
    std::this_thread::sleep_for(std::chrono::duration<double>(o_.warmup));
    const auto t0 = Clock::now();
    loop.phase.store(kMeasure);
    std::this_thread::sleep_for(std::chrono::duration<double>(o_.seconds));
    loop.phase.store(kStop);
    const auto t1 = Clock::now();
    loop.WaitAllStopped();

    Result r;
    r.scenario = scenario;
    r.concurrency = o_.concurrency;
    r.channels = o_.channels;
    r.latency_of = "call";
    r.seconds = std::chrono::duration<double>(t1 - t0).count();
    std::vector<int64_t> all;
    for (auto& w : workers) {
      r.calls += w->calls;
      r.messages += w->messages;
      r.errors += w->errors;
      r.empty_receives += w->empty_receives;
      if (r.first_error.empty()) r.first_error = w->first_error;
      all.insert(all.end(), w->latencies_ns_.begin(), w->latencies_ns_.end());
    }
    r.ops = all.size();
    r.calls_per_s = static_cast<double>(r.calls) / r.seconds;
    r.msgs_per_s = static_cast<double>(r.messages) / r.seconds;
    FillPercentiles(&all, &r);
    return r;
  }

  // Sequential: a receiver long-polls (wait 20 s) on an empty queue on one
  // connection; after it is parked, the sender (another connection) sends one
  // message; latency = just before Send until the receive callback fires.
  std::optional<Result> LongPoll() {
    const std::string queue = "bench-longpoll-" + run_id_;
    if (!CreateQueue(queue)) return std::nullopt;
    Stub* receiver = stubs_[0].get();
    Stub* sender = stubs_[channels_.size() > 1 ? 1 : 0].get();
    Result r;
    r.scenario = "longpoll";
    r.concurrency = 1;
    r.channels = o_.channels;
    r.latency_of = "wake-up";
    std::vector<int64_t> lat;
    const std::string body = Body('l');
    const auto t_begin = Clock::now();
    for (int i = 0; i < o_.longpoll_iterations; ++i) {
      qv1::ReceiveMessagesRequest rreq;
      rreq.set_queue_name(queue);
      rreq.set_max_number_of_messages(1);
      rreq.mutable_wait_time()->set_seconds(20);
      qv1::ReceiveMessagesResponse rresp;
      grpc::ClientContext rctx;
      rctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(25));
      std::mutex mu;
      std::condition_variable cv;
      bool done = false;
      grpc::Status rstatus;
      Clock::time_point woke;
      receiver->async()->ReceiveMessages(&rctx, &rreq, &rresp, [&](grpc::Status s) {
        const auto now = Clock::now();
        std::lock_guard<std::mutex> lock(mu);
        woke = now;
        rstatus = s;
        done = true;
        cv.notify_all();
      });
      // Let the receive reach the server and park.
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      qv1::SendMessageRequest sreq;
      sreq.set_queue_name(queue);
      sreq.set_message_body(body);
      qv1::SendMessageResponse sresp;
      grpc::ClientContext sctx;
      SetDeadline(&sctx);
      const auto t0 = Clock::now();
      grpc::Status ss = sender->SendMessage(&sctx, sreq, &sresp);
      r.calls += 2;
      if (!ss.ok()) {
        ++r.errors;
        if (r.first_error.empty()) r.first_error = "send: " + ss.error_message();
      }
      {
        std::unique_lock<std::mutex> lock(mu);
        cv.wait(lock, [&] { return done; });
      }
      if (!rstatus.ok()) {
        ++r.errors;
        if (r.first_error.empty()) r.first_error = "receive: " + rstatus.error_message();
        continue;
      }
      if (rresp.messages_size() == 0) {
        ++r.empty_receives;
        continue;
      }
      if (ss.ok()) {
        lat.push_back(std::chrono::duration_cast<std::chrono::nanoseconds>(woke - t0).count());
        r.messages += 1;
      }
      for (const auto& m : rresp.messages()) {
        qv1::DeleteMessageRequest dreq;
        dreq.set_queue_name(queue);
        dreq.set_receipt_handle(m.receipt_handle());
        qv1::DeleteMessageResponse dresp;
        grpc::ClientContext dctx;
        SetDeadline(&dctx);
        ++r.calls;
        grpc::Status ds = sender->DeleteMessage(&dctx, dreq, &dresp);
        if (!ds.ok()) ++r.errors;
      }
    }
    r.seconds = std::chrono::duration<double>(Clock::now() - t_begin).count();
    r.ops = lat.size();
    r.calls_per_s = static_cast<double>(r.calls) / r.seconds;
    r.msgs_per_s = static_cast<double>(r.messages) / r.seconds;
    FillPercentiles(&lat, &r);
    DeleteQueue(queue);
    return r;
  }

  bool CreateQueue(const std::string& name) {
    qv1::CreateQueueRequest req;
    req.set_queue_name(name);
    qv1::CreateQueueResponse resp;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    const grpc::Status s = stubs_[0]->CreateQueue(&ctx, req, &resp);
    if (!s.ok()) {
      std::cerr << "queues_bench: CreateQueue " << name << " failed: " << s.error_code() << " "
                << s.error_message() << "\n";
      return false;
    }
    return true;
  }

  void DeleteQueue(const std::string& name) {
    qv1::DeleteQueueRequest req;
    req.set_queue_name(name);
    qv1::DeleteQueueResponse resp;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    const grpc::Status s = stubs_[0]->DeleteQueue(&ctx, req, &resp);
    if (!s.ok()) {
      std::cerr << "queues_bench: warning: DeleteQueue " << name << " failed: " << s.error_message() << "\n";
    }
  }

  const Options o_;
  std::vector<std::shared_ptr<grpc::Channel>> channels_;
  std::vector<std::unique_ptr<Stub>> stubs_;
  std::vector<std::unique_ptr<grpc::GenericStub>> generic_;
  std::string run_id_;
};

std::vector<std::string> Scenarios(const std::string& spec) {
  static const std::vector<std::string> kAll = {"health", "send", "send_batch", "cycle", "cycle_batch", "longpoll"};
  if (spec == "all") return kAll;
  std::vector<std::string> out;
  std::stringstream ss(spec);
  std::string item;
  while (std::getline(ss, item, ',')) {
    if (item.empty()) continue;
    if (std::find(kAll.begin(), kAll.end(), item) == kAll.end()) {
      std::cerr << "queues_bench: unknown scenario '" << item << "'\n";
      Usage(std::cerr);
      std::exit(2);
    }
    out.push_back(item);
  }
  return out;
}

void PrintHuman(const Options& o, const Result& r) {
  std::printf("%-12s c=%-3d calls/s %9.0f  msgs/s %9.0f  p50 %8.1f us  p99 %8.1f us  (per %s, n=%llu",
              r.scenario.c_str(), r.concurrency, r.calls_per_s, r.msgs_per_s, r.p50_us, r.p99_us,
              r.latency_of.c_str(), static_cast<unsigned long long>(r.ops));
  if (r.errors) std::printf(", errors %llu", static_cast<unsigned long long>(r.errors));
  if (r.empty_receives) std::printf(", empty receives %llu", static_cast<unsigned long long>(r.empty_receives));
  std::printf(")\n");
  if (!r.first_error.empty()) std::printf("    first error: %s\n", r.first_error.c_str());
  std::fflush(stdout);
  (void)o;
}

std::string ToJson(const Result& r) {
  std::ostringstream j;
  j << "{\"scenario\": \"" << r.scenario << "\", \"concurrency\": " << r.concurrency
    << ", \"channels\": " << r.channels << ", \"seconds\": " << r.seconds << ", \"calls\": " << r.calls
    << ", \"messages\": " << r.messages << ", \"ops\": " << r.ops << ", \"errors\": " << r.errors
    << ", \"empty_receives\": " << r.empty_receives << ", \"calls_per_s\": " << r.calls_per_s
    << ", \"msgs_per_s\": " << r.msgs_per_s << ", \"p50_us\": " << r.p50_us << ", \"p99_us\": " << r.p99_us
    << ", \"max_us\": " << r.max_us << ", \"latency_of\": \"" << r.latency_of << "\", \"first_error\": \""
    << JsonEscape(r.first_error) << "\"}";
  return j.str();
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (!ParseArgs(argc, argv, &o)) return 2;
  const std::vector<std::string> scenarios = Scenarios(o.scenario);
  Bench bench(o);
  if (!bench.WaitConnected()) return 1;
  if (!o.json) {
    std::printf("queues_bench %s%s%s: concurrency %d over %d channels, %.1f s per scenario (+%.1f s warm-up)\n",
                o.endpoint.c_str(), o.label.empty() ? "" : " ", o.label.c_str(), o.concurrency, o.channels,
                o.seconds, o.warmup);
    std::fflush(stdout);
  }
  std::vector<Result> results;
  int failures = 0;
  for (const auto& s : scenarios) {
    std::optional<Result> r = bench.Run(s);
    if (!r) {
      ++failures;
      continue;
    }
    if (!o.json) PrintHuman(o, *r);
    results.push_back(*r);
  }
  if (o.json) {
    std::cout << "{\"endpoint\": \"" << JsonEscape(o.endpoint) << "\", \"label\": \"" << JsonEscape(o.label)
              << "\", \"results\": [";
    for (size_t i = 0; i < results.size(); ++i) std::cout << (i ? ",\n  " : "\n  ") << ToJson(results[i]);
    std::cout << "\n]}\n";
  }
  return failures ? 1 : 0;
}
