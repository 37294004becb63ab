#include "services/common/stream_runner.h"

#include <atomic>
#include <chrono>
#include <type_traits>

#include "services/common/grpc_status.h"

namespace thingtank {
namespace {

using Buffer = grpc::ByteBuffer;

// One streaming call: `Base` is the caller-side reactor type. Reads, handler
// steps (on the executor) and writes alternate, never two at once: each is
// started from the completion of the one before, so the state below needs no
// lock (gRPC and the executor queue order the accesses). Only `cancelled_` and
// the handler's OnCancel are touched concurrently. Deletes itself in OnDone.
template <typename Base>
class StreamCall final : public Base {
  static constexpr bool kReads = !std::is_same_v<Base, grpc::ServerWriteReactor<Buffer>>;
  static constexpr bool kWrites = !std::is_same_v<Base, grpc::ServerReadReactor<Buffer>>;

 public:
  StreamCall(grpc::CallbackServerContext* context, Executor* executor, RpcMetrics::Method* series,
             Buffer* response)
      : context_(context), executor_(executor), series_(series), response_(response) {
    series_->Started();
  }

  // Starts the call once admitted; `request` is a server stream's request.
  void Begin(UnaryRunner* runner, const StreamHandlerFactory& make, const Buffer* request) {
    if (absl::Status admitted = runner->Admit(*context_); !admitted.ok()) return End(admitted);
    handler_ = make(context_);
    if constexpr (kReads) {
      this->StartRead(&in_);
    } else {
      in_ = *request;
      PostMessage();
    }
  }

  // OnReadDone and OnWriteDone override where Base has them (not `override`:
  // a read-only or write-only Base lacks one of them).
  void OnReadDone(bool ok) {
    if (ok) return PostMessage();
    if (context_->IsCancelled() || cancelled_.load()) return End(CancelStatus());
    PostEnd();  // the caller half-closed
  }

  void OnWriteDone(bool ok) {
    if (!ok) return End(CancelStatus());  // the caller is gone
    ++next_;
    WriteNext();
  }

  void OnCancel() override {
    cancelled_.store(true);
    if (handler_ != nullptr) handler_->OnCancel();
  }

  void OnDone() override { delete this; }

 private:
  void PostMessage() {
    Post([this] { status_ = handler_->OnMessage(in_, &out_); });
  }
  void PostEnd() {
    input_ended_ = true;
    Post([this] {
      more_ = false;
      status_ = handler_->OnEnd(&out_, &more_);
    });
  }

  // Runs `step` on the executor, then continues there.
  void Post(std::function<void()> step) {
    if (!executor_->Post([this, step = std::move(step)] {
          if (cancelled_.load()) return End(CancelStatus());
          step();
          if (!status_.ok()) return End(status_);
          if (cancelled_.load()) return End(CancelStatus());
          next_ = 0;
          WriteNext();
        })) {
      End(absl::UnavailableError("server overloaded: too many requests queued; retry"));
    }
  }

  // Writes the step's responses one at a time, then reads on or ends.
  void WriteNext() {
    if (next_ < out_.size()) {
      if constexpr (kWrites) {
        this->StartWrite(&out_[next_]);
        return;
      } else if (!input_ended_ || next_ > 0) {
        return End(absl::InternalError("a client stream answers once, at its end"));
      } else {
        response_->Swap(&out_[0]);
        out_.clear();
        return End(absl::OkStatus());
      }
    }
    out_.clear();
    if (!input_ended_) {
      if constexpr (kReads) {
        this->StartRead(&in_);
      } else {
        PostEnd();  // a server stream: its request is its only message
      }
    } else if (more_) {
      PostEnd();
    } else if constexpr (!kWrites) {
      End(absl::InternalError("a client stream ended without its response"));
    } else {
      End(absl::OkStatus());
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

  void End(const absl::Status& status) {
    const grpc::Status out = ToGrpcStatus(status);
    series_->Handled(out.error_code(), absl::Now() - start_);
    this->Finish(out);
  }

  grpc::CallbackServerContext* const context_;
  Executor* const executor_;
  RpcMetrics::Method* const series_;
  Buffer* const response_;  // a client stream's
  const absl::Time start_ = absl::Now();  // wall time, for latency metrics only
  std::unique_ptr<StreamHandler> handler_;
  std::atomic<bool> cancelled_{false};
  Buffer in_;
  std::vector<Buffer> out_;
  size_t next_ = 0;
  absl::Status status_;
  bool input_ended_ = false;
  bool more_ = false;
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
