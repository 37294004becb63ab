#include "services/common/stream_runner.h"

#include <atomic>
#include <deque>
#include <chrono>
#include <type_traits>

#include "absl/synchronization/mutex.h"
#include "services/common/grpc_status.h"

namespace thingtank {
namespace {

using Buffer = grpc::ByteBuffer;

// One streaming call: `Base` is the caller-side reactor type. Reading,
// handling (on the executor, one step at a time, in order) and writing
// overlap, each bounded: one message is read ahead of the handler, and at
// most kWriteAhead responses wait for the writer (a server stream produces
// its next step while the last one is on the wire). The state is guarded by
// mu_; gRPC operations and posts are started outside it (in-process
// transports may react inline). The call finishes only when no handler step
// runs and no write is in flight, so OnDone (which deletes it) never races a
// step. OnCancel is lock-free. The last response of a server stream goes out
// with its status (StartWriteAndFinish): one step fewer for short streams.
template <typename Base>
class StreamCall final : public Base {
  static constexpr bool kReads = !std::is_same_v<Base, grpc::ServerWriteReactor<Buffer>>;
  static constexpr bool kWrites = !std::is_same_v<Base, grpc::ServerReadReactor<Buffer>>;
  static constexpr size_t kReadAhead = 1;
  static constexpr size_t kWriteAhead = 2;
  static constexpr int kInlineSteps = 8;

 public:
  StreamCall(grpc::CallbackServerContext* context, Executor* executor, RpcMetrics::Method* series,
             Buffer* response)
      : context_(context), executor_(executor), series_(series), response_(response) {
    series_->Started();
  }

  // Starts the call once admitted; `request` is a server stream's request.
  void Begin(UnaryRunner* runner, const StreamHandlerFactory& make, const Buffer* request) {
    if (absl::Status admitted = runner->Admit(*context_); !admitted.ok()) {
      return FinishWith(ToGrpcStatus(admitted));
    }
    handler_ = make(context_);
    Actions a;
    if constexpr (!kReads) {
      // A short answer from memory goes out from this reactor thread.
      std::vector<Buffer> out;
      bool more = false;
      absl::Status first = handler_->FirstStepNonBlocking(*request, &out, &more);
      if (!IsWouldBlock(first)) {
        if (!first.ok()) return FinishWith(ToGrpcStatus(first));
        absl::MutexLock lock(&mu_);
        input_ended_ = end_started_ = true;
        more_ = more;
        for (Buffer& b : out) to_write_.push_back(std::move(b));
        a = Plan();
      }
    }
    if (!a.finish && a.write == nullptr && !a.post_message && !a.post_end) {
      absl::MutexLock lock(&mu_);
      if constexpr (!kReads) {
        if (!end_started_) {
          ready_.push_back(*request);
          input_ended_ = true;
        }
      }
      a = Plan();
    }
    Run(a);
  }

  // OnReadDone and OnWriteDone override where Base has them (not `override`:
  // a read-only or write-only Base lacks one of them).
  void OnReadDone(bool ok) {
    Actions a;
    {
      absl::MutexLock lock(&mu_);
      read_pending_ = false;
      if (ok) {
        ready_.emplace_back();
        ready_.back().Swap(&read_buf_);
      } else if (context_->IsCancelled() || cancelled_.load()) {
        Fail(CancelStatus());
      } else {
        input_ended_ = true;  // the caller half-closed
      }
      a = Plan();
    }
    Run(a);
  }

  void OnWriteDone(bool ok) {
    Actions a;
    {
      absl::MutexLock lock(&mu_);
      write_pending_ = false;
      if (!ok) {
        Fail(CancelStatus());  // the caller is gone
      } else {
        to_write_.pop_front();
      }
      a = Plan();
    }
    Run(a);
  }

  void OnCancel() override {
    cancelled_.store(true);
    if (handler_ != nullptr) handler_->OnCancel();
  }

  void OnDone() override { delete this; }

 private:
  // What to start once mu_ is released.
  struct Actions {
    bool read = false;
    const Buffer* write = nullptr;
    bool write_and_finish = false;
    bool post_message = false;
    bool post_end = false;
    bool finish = false;
    grpc::Status status;
  };

  void Fail(const absl::Status& status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (failed_.ok()) failed_ = status;
  }

  // Everything produced: the handler ended with nothing more to do.
  bool Produced() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return input_ended_ && ready_.empty() && end_started_ && !more_ && !handler_busy_;
  }

  Actions Plan() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    Actions a;
    if (finished_) return a;
    if (!failed_.ok()) {
      if (!handler_busy_ && !write_pending_) {
        finished_ = true;
        a.finish = true;
        a.status = ToGrpcStatus(failed_);
      }
      return a;
    }
    if constexpr (kWrites) {
      if (!write_pending_ && !to_write_.empty()) {
        write_pending_ = true;
        a.write = &to_write_.front();
        if (Produced() && to_write_.size() == 1) {
          a.write_and_finish = true;
          finished_ = true;
          return a;
        }
      }
    }
    if (!handler_busy_ && to_write_.size() < kWriteAhead) {
      if (!ready_.empty()) {
        handler_busy_ = true;
        current_.Swap(&ready_.front());
        ready_.pop_front();
        a.post_message = true;
        // A server stream's request and its first step run in one go.
        if (!kReads) a.post_end = end_started_ = true;
      } else if (input_ended_ && (!end_started_ || more_)) {
        handler_busy_ = true;
        end_started_ = true;
        a.post_end = true;
      }
    }
    if constexpr (kReads) {
      if (!read_pending_ && !input_ended_ && ready_.size() < kReadAhead &&
          to_write_.size() < kWriteAhead) {
        read_pending_ = true;
        a.read = true;
      }
    }
    if (a.write == nullptr && !write_pending_ && to_write_.empty() && Produced()) {
      finished_ = true;
      a.finish = true;
      if constexpr (kWrites) {
        a.status = grpc::Status::OK;
      } else if (has_response_) {
        response_->Swap(&response_ready_);
        a.status = grpc::Status::OK;
      } else {
        a.status = ToGrpcStatus(absl::InternalError("a client stream ended without its response"));
      }
    }
    return a;
  }

  void Run(Actions& a) {
    if (a.finish) return FinishWith(a.status);
    if (a.write != nullptr) {
      if constexpr (kWrites) {
        if (a.write_and_finish) {
          Record(grpc::Status::OK);
          this->StartWriteAndFinish(a.write, grpc::WriteOptions(), grpc::Status::OK);
          return;
        }
        this->StartWrite(a.write);
      }
    }
    if (a.read) {
      if constexpr (kReads) this->StartRead(&read_buf_);
    }
    if (a.post_message || a.post_end) Post(a.post_message, a.post_end);
  }

  // Runs one handler step (OnMessage, OnEnd, or both in turn) on the
  // executor, then plans what follows; a next step that is ready at once (a
  // message read meanwhile, a half-close, a server stream's next chunk) runs
  // in the same task, up to kInlineSteps, instead of going through the queue.
  void Post(bool message, bool end) {
    if (executor_->Post([this, message, end] { Step(message, end); })) return;
    Actions a;
    {
      absl::MutexLock lock(&mu_);
      handler_busy_ = false;
      Fail(absl::UnavailableError("server overloaded: too many requests queued; retry"));
      a = Plan();
    }
    Run(a);
  }

  void Step(bool message, bool end) {
    for (int steps = 1;; ++steps) {
      absl::Status status;
      std::vector<Buffer> out;
      bool more = false;
      if (cancelled_.load()) {
        status = CancelStatus();
      } else {
        if (message) status = handler_->OnMessage(current_, &out);
        if (status.ok() && end) status = handler_->OnEnd(&out, &more);
      }
      Actions a;
      {
        absl::MutexLock lock(&mu_);
        handler_busy_ = false;
        if (end) more_ = more;
        if (!status.ok()) {
          Fail(status);
        } else if constexpr (kWrites) {
          for (Buffer& b : out) to_write_.push_back(std::move(b));
        } else if (!out.empty()) {
          if (!end || out.size() != 1 || has_response_) {
            Fail(absl::InternalError("a client stream answers once, at its end"));
          } else {
            response_ready_.Swap(&out[0]);
            has_response_ = true;
          }
        }
        a = Plan();
      }
      const bool again = (a.post_message || a.post_end) && steps < kInlineSteps;
      if (again) {
        message = a.post_message;
        end = a.post_end;
        a.post_message = a.post_end = false;
      }
      Run(a);
      if (!again) return;
    }
  }

  // A cancel at (or a moment before) the deadline is the deadline's: the
  // caller's copy of it expires first (the wire carries a timeout, and gRPC's
  // timers and the system clock differ by a few ms) and its cancel arrives
  // before our own timer fires.
  absl::Status CancelStatus() const {
    return context_->deadline() <= std::chrono::system_clock::now() + std::chrono::milliseconds(100)
               ? absl::DeadlineExceededError("the call's deadline passed")
               : absl::CancelledError("the call was cancelled");
  }

  void Record(const grpc::Status& status) { series_->Handled(status.error_code(), absl::Now() - start_); }

  void FinishWith(const grpc::Status& status) {
    Record(status);
    this->Finish(status);
  }

  grpc::CallbackServerContext* const context_;
  Executor* const executor_;
  RpcMetrics::Method* const series_;
  Buffer* const response_;  // a client stream's
  const absl::Time start_ = absl::Now();  // wall time, for latency metrics only
  std::unique_ptr<StreamHandler> handler_;
  std::atomic<bool> cancelled_{false};
  Buffer read_buf_;  // the read in flight (touched by gRPC until OnReadDone)
  Buffer current_;   // the message the handler step works on
  absl::Mutex mu_;
  std::deque<Buffer> ready_ ABSL_GUARDED_BY(mu_);     // read, not yet handled
  std::deque<Buffer> to_write_ ABSL_GUARDED_BY(mu_);  // front: being written
  Buffer response_ready_ ABSL_GUARDED_BY(mu_);
  bool has_response_ ABSL_GUARDED_BY(mu_) = false;
  bool read_pending_ ABSL_GUARDED_BY(mu_) = false;
  bool write_pending_ ABSL_GUARDED_BY(mu_) = false;
  bool handler_busy_ ABSL_GUARDED_BY(mu_) = false;
  bool input_ended_ ABSL_GUARDED_BY(mu_) = false;
  bool end_started_ ABSL_GUARDED_BY(mu_) = false;
  bool more_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status failed_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

grpc::ServerReadReactor<Buffer>* StreamRunner::RunClientStream(grpc::CallbackServerContext* context,
                                                               const char* method, Buffer* response,
                                                               const StreamHandlerFactory& make) {
  auto* call = new StreamCall<grpc::ServerReadReactor<Buffer>>(
      context, runner_->executor(), runner_->StreamSeries(method, "client_stream"), response);
  call->Begin(runner_, make, nullptr);
  return call;
}

grpc::ServerWriteReactor<Buffer>* StreamRunner::RunServerStream(grpc::CallbackServerContext* context,
                                                                const char* method,
                                                                const Buffer* request,
                                                                const StreamHandlerFactory& make) {
  auto* call = new StreamCall<grpc::ServerWriteReactor<Buffer>>(
      context, runner_->executor(), runner_->StreamSeries(method, "server_stream"), nullptr);
  call->Begin(runner_, make, request);
  return call;
}

grpc::ServerBidiReactor<Buffer, Buffer>* StreamRunner::RunBidiStream(
    grpc::CallbackServerContext* context, const char* method, const StreamHandlerFactory& make) {
  auto* call = new StreamCall<grpc::ServerBidiReactor<Buffer, Buffer>>(
      context, runner_->executor(), runner_->StreamSeries(method, "bidi_stream"), nullptr);
  call->Begin(runner_, make, nullptr);
  return call;
}

}  // namespace thingtank
