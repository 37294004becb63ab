// queues_bench: closed-loop load generator for the queues service (issue 2, section 7).
//
// Drives N concurrent outstanding calls over a few HTTP/2 connections with the
// gRPC callback client API (the shared closed loop in load.{h,cc}), so gRPC's
// own callback threads run every worker's state machine; no thread per call.
// Each scenario runs on a fresh queue, warms up, then measures for --seconds;
// it prints throughput (calls/s, messages/s) and latency percentiles. A
// grpc.health.v1 Check baseline at the same concurrency against the same
// endpoint is measured in the same run.
//
// Uses generated clients only (no server internals).

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "load.h"
#include "thingtank/queues/v1/queues.grpc.pb.h"

namespace {

namespace qv1 = ::thingtank::queues::v1;
using thingtank::bench::Clock;
using thingtank::bench::FillPercentiles;
using thingtank::bench::Loop;
using thingtank::bench::Result;
using thingtank::bench::SetDeadline;
using thingtank::bench::Worker;
using Stub = qv1::QueuesService::Stub;

constexpr int kBodyBytes = 1024;
constexpr int kBatch = 10;
constexpr const char* kProgram = "queues_bench";

const thingtank::bench::UnitNames kNames{"messages", "msgs_per_s", "empty_receives", "msgs", "empty receives"};

struct Options : thingtank::bench::CommonOptions {
  int longpoll_iterations = 200;
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

std::string Body(char fill) { return std::string(kBodyBytes, fill); }

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
      if (Measuring()) ++misses;
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
  explicit Bench(const Options& o) : o_(o), conns_(o.endpoint, o.channels), run_id_(thingtank::bench::RunId()) {
    for (size_t i = 0; i < conns_.size(); ++i) stubs_.push_back(qv1::QueuesService::NewStub(conns_.channel(i)));
  }

  bool WaitConnected() { return conns_.WaitConnected(kProgram); }

  std::optional<Result> Run(const std::string& scenario) {
    if (scenario == "health") {
      return Closed(scenario, [&](Loop* loop, int i) -> std::unique_ptr<Worker> {
        return std::make_unique<thingtank::bench::HealthWorker>(loop, conns_.generic(static_cast<size_t>(i)));
      });
    }
    if (scenario == "longpoll") return LongPoll();
    const std::string queue = "bench-" + scenario + "-" + run_id_;
    if (!CreateQueue(queue)) return std::nullopt;
    std::optional<Result> r;
    auto stub_for = [&](int i) { return stubs_[static_cast<size_t>(i % o_.channels)].get(); };
    if (scenario == "send") {
      r = Closed(scenario, [&](Loop* loop, int i) -> std::unique_ptr<Worker> {
        return std::make_unique<SendWorker>(loop, stub_for(i), queue);
      });
    } else if (scenario == "send_batch") {
      r = Closed(scenario, [&](Loop* loop, int i) -> std::unique_ptr<Worker> {
        return std::make_unique<SendBatchWorker>(loop, stub_for(i), queue);
      });
    } else if (scenario == "cycle" || scenario == "cycle_batch") {
      const bool batched = scenario == "cycle_batch";
      r = Closed(scenario, [&](Loop* loop, int i) -> std::unique_ptr<Worker> {
        return std::make_unique<CycleWorker>(loop, stub_for(i), queue, batched);
      });
      if (r) r->latency_of = "cycle";
    }
    DeleteQueue(queue);
    return r;
  }

 private:
  Result Closed(const std::string& scenario, const thingtank::bench::WorkerFactory& make) {
    return thingtank::bench::RunClosed(scenario, o_.concurrency, o_.channels, o_.warmup, o_.seconds, make);
  }

  // Sequential: a receiver long-polls (wait 20 s) on an empty queue on one
  // connection; after it is parked, the sender (another connection) sends one
  // message; latency = just before Send until the receive callback fires.
  std::optional<Result> LongPoll() {
    const std::string queue = "bench-longpoll-" + run_id_;
    if (!CreateQueue(queue)) return std::nullopt;
    Stub* receiver = stubs_[0].get();
    Stub* sender = stubs_[stubs_.size() > 1 ? 1 : 0].get();
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
        ++r.misses;
        continue;
      }
      if (ss.ok()) {
        lat.push_back(std::chrono::duration_cast<std::chrono::nanoseconds>(woke - t0).count());
        r.units += 1;
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
    r.units_per_s = static_cast<double>(r.units) / r.seconds;
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
  thingtank::bench::Connections conns_;
  std::vector<std::unique_ptr<Stub>> stubs_;
  std::string run_id_;
};

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (!thingtank::bench::ParseArgs(argc, argv, kProgram, Usage, &o,
                                   {{"--longpoll-iterations", &o.longpoll_iterations}})) {
    return 2;
  }
  const std::vector<std::string> scenarios = thingtank::bench::SelectScenarios(
      o.scenario, {"health", "send", "send_batch", "cycle", "cycle_batch", "longpoll"}, kProgram, Usage);
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
    if (!o.json) thingtank::bench::PrintHuman(*r, kNames);
    results.push_back(*r);
  }
  if (o.json) thingtank::bench::PrintJson(o, results, kNames);
  return failures ? 1 : 0;
}