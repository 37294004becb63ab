#pragma once

#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "google/protobuf/descriptor.h"
#include "grpcpp/impl/codegen/proto_utils.h"
#include "grpcpp/support/byte_buffer.h"
#include "grpcpp/support/server_callback.h"
#include "services/common/grpc_status.h"
#include "services/common/request_parse.h"
#include "services/common/server.h"
#include "services/common/status.h"
#include "services/common/stream_runner.h"

namespace thingtank {

// The base of a service's gRPC face: `Base` is the generated
// `<Service>::CallbackService`, and every method is registered here as a raw
// method (request and response bytes) with a typed handler. The request is
// parsed only after the call gate admitted it, so an unauthenticated caller
// gets UNAUTHENTICATED and a malformed request INVALID_ARGUMENT saying what is
// wrong (ParseRequest) -- gRPC's own parsing answers both with an empty
// UNIMPLEMENTED. The constructor of the derived adapter registers one handler
// per method; a method left out is a bug, caught by HandlesEveryMethod().
template <typename Base>
class GrpcAdapter : public Base {
 protected:
  GrpcAdapter(const char* full_service, UnaryRunner* runner)
      : runner_(runner),
        descriptor_(google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(full_service)) {}

  // `call(const Req&)` -> absl::StatusOr<R> runs on the executor; R is a
  // protobuf message or the response's bytes (grpc::ByteBuffer).
  template <typename Req, typename Call>
  void Unary(const char* method, Call call) {
    Register(method, [this, method, call](grpc::CallbackServerContext* context,
                                          const grpc::ByteBuffer* in, grpc::ByteBuffer* out) {
      return runner_->Run(context, method, [in, out, call]() -> absl::Status {
        Req request;
        if (absl::Status s = ParseRequest(*in, &request); !s.ok()) return s;
        return Write(call(request), out);
      });
    });
  }

  // `fast(const Req&)` runs at once on the reactor thread and must never
  // block; if it returns WouldBlock(), `slow(const Req&)` runs on the executor.
  template <typename Req, typename Fast, typename Slow>
  void UnaryNonBlockingFirst(const char* method, Fast fast, Slow slow) {
    Register(method, [this, method, fast, slow](grpc::CallbackServerContext* context,
                                                const grpc::ByteBuffer* in, grpc::ByteBuffer* out) {
      auto request = std::make_shared<Req>();
      return runner_->RunNonBlockingFirst(
          context, method,
          [request, in, out, fast]() -> absl::Status {
            if (absl::Status s = ParseRequest(*in, request.get()); !s.ok()) return s;
            auto result = fast(*request);
            if (IsWouldBlock(result.status())) return result.status();
            return Write(std::move(result), out);
          },
          [request, out, slow]() -> absl::Status { return Write(slow(*request), out); });
    });
  }

  // `start(context, const Req&, Resp*, done)` runs on the executor and calls
  // `done(status)` exactly once, at once or later from any thread (long polls).
  template <typename Req, typename Resp, typename Start>
  void UnaryAsync(const char* method, Start start) {
    Register(method, [this, method, start](grpc::CallbackServerContext* context,
                                           const grpc::ByteBuffer* in, grpc::ByteBuffer* out) {
      return runner_->RunAsync(context, method, [context, in, out, start](UnaryRunner::Done done) {
        auto call = std::make_shared<std::pair<Req, Resp>>();
        if (absl::Status s = ParseRequest(*in, &call->first); !s.ok()) return done(s);
        start(context, call->first, &call->second, [call, out, done](absl::Status status) {
          if (status.ok()) status = Write(std::move(call->second), out);
          done(std::move(status));
        });
      });
    });
  }

  // UnaryAsync with a fast path: `fast(const Req&)` -> absl::StatusOr<Resp>
  // runs at once on the reactor thread and must never block; if it returns
  // WouldBlock(), `start` runs on the executor as in UnaryAsync (a long poll
  // that has to wait). The request is parsed once, before `fast`.
  template <typename Req, typename Resp, typename Fast, typename Start>
  void UnaryAsyncNonBlockingFirst(const char* method, Fast fast, Start start) {
    Register(method, [this, method, fast, start](grpc::CallbackServerContext* context,
                                                const grpc::ByteBuffer* in, grpc::ByteBuffer* out) {
      auto call = std::make_shared<std::pair<Req, Resp>>();
      return runner_->RunAsyncNonBlockingFirst(
          context, method,
          [call, in, out, fast]() -> absl::Status {
            if (absl::Status s = ParseRequest(*in, &call->first); !s.ok()) return s;
            absl::StatusOr<Resp> result = fast(call->first);
            if (IsWouldBlock(result.status())) return result.status();
            return Write(std::move(result), out);
          },
          [context, call, out, start](UnaryRunner::Done done) {
            start(context, call->first, &call->second, [call, out, done](absl::Status status) {
              if (status.ok()) status = Write(std::move(call->second), out);
              done(std::move(status));
            });
          });
    });
  }

  // A server stream: `start(context, const Req&, series)` returns the reactor
  // once the call is admitted and its request parsed; the reactor records
  // series->Handled(). Refused or malformed calls end at once.
  template <typename Req, typename Start>
  void ServerStream(const char* method, Start start) {
    const int index = IndexOf(method);
    this->MarkMethodRawCallback(
        index, new grpc::internal::CallbackServerStreamingHandler<grpc::ByteBuffer, grpc::ByteBuffer>(
                   [this, method, start](grpc::CallbackServerContext* context,
                                         const grpc::ByteBuffer* in)
                       -> grpc::ServerWriteReactor<grpc::ByteBuffer>* {
                     RpcMetrics::Method* series = runner_->ServerStreamSeries(method);
                     series->Started();
                     const absl::Time begin = absl::Now();
                     absl::Status status = runner_->Admit(*context);
                     Req request;
                     if (status.ok()) status = ParseRequest(*in, &request);
                     if (status.ok()) return start(context, request, series);
                     const grpc::Status out = ToGrpcStatus(status);
                     series->Handled(out.error_code(), absl::Now() - begin);
                     return new RefusedStream(out);
                   }));
    handled_[index] = true;
  }

  // A client stream on the StreamRunner: `make(context)` returns a
  // std::unique_ptr<ClientStreamHandler<Req, Resp>> for each admitted call
  // (on the reactor thread: it must not block); its OnMessage and OnEnd run
  // on the executor, one message at a time, each parsed with ParseRequest.
  template <typename Req, typename Resp, typename Make>
  void ClientStream(const char* method, Make make) {
    const int index = IndexOf(method);
    this->MarkMethodRawCallback(
        index, new grpc::internal::CallbackClientStreamingHandler<grpc::ByteBuffer, grpc::ByteBuffer>(
                   [this, method, make](grpc::CallbackServerContext* context, grpc::ByteBuffer* out) {
                     return streams_.RunClientStream(context, method, out, [make](auto* c) {
                       return std::make_unique<stream_internal::TypedClientStream<Req, Resp>>(make(c));
                     });
                   }));
    handled_[index] = true;
  }

  // A bidirectional stream on the StreamRunner: `make(context)` returns a
  // std::unique_ptr<BidiStreamHandler<Req, Resp>>; the responses of each
  // message are written before the next message is read.
  template <typename Req, typename Resp, typename Make>
  void BidiStream(const char* method, Make make) {
    const int index = IndexOf(method);
    this->MarkMethodRawCallback(
        index, new grpc::internal::CallbackBidiHandler<grpc::ByteBuffer, grpc::ByteBuffer>(
                   [this, method, make](grpc::CallbackServerContext* context) {
                     return streams_.RunBidiStream(context, method, [make](auto* c) {
                       return std::make_unique<stream_internal::TypedBidiStream<Req, Resp>>(make(c));
                     });
                   }));
    handled_[index] = true;
  }

  // A server stream on the StreamRunner, produced in steps on the executor:
  // `make(context)` returns a std::unique_ptr<ServerStreamHandler<Req, Resp>>.
  // (ServerStream above stays for streams fed by events off the executor.)
  template <typename Req, typename Resp, typename Make>
  void PulledServerStream(const char* method, Make make) {
    const int index = IndexOf(method);
    this->MarkMethodRawCallback(
        index, new grpc::internal::CallbackServerStreamingHandler<grpc::ByteBuffer, grpc::ByteBuffer>(
                   [this, method, make](grpc::CallbackServerContext* context, const grpc::ByteBuffer* in) {
                     return streams_.RunServerStream(context, method, in, [make](auto* c) {
                       return std::make_unique<stream_internal::TypedServerStream<Req, Resp>>(make(c));
                     });
                   }));
    handled_[index] = true;
  }

  // True once every method of the service has a handler (the adapter's
  // constructor ends with a check of it).
  bool HandlesEveryMethod() const {
    if (handled_.size() != static_cast<size_t>(descriptor_->method_count())) return false;
    for (int i = 0; i < descriptor_->method_count(); ++i) {
      if (!handled_[i]) return false;
    }
    return true;
  }

  UnaryRunner* runner() const { return runner_; }

  // The response's bytes: a message is serialized, bytes are taken as they are.
  static absl::Status Write(grpc::ByteBuffer&& bytes, grpc::ByteBuffer* out) {
    out->Swap(&bytes);
    return absl::OkStatus();
  }
  template <typename Message,
            typename = std::enable_if_t<std::is_base_of_v<google::protobuf::MessageLite, Message>>>
  static absl::Status Write(const Message& message, grpc::ByteBuffer* out) {
    bool own = false;
    grpc::Status s = grpc::SerializationTraits<Message>::Serialize(message, out, &own);
    return s.ok() ? absl::OkStatus() : absl::InternalError("cannot serialize the response");
  }
  template <typename R>
  static absl::Status Write(absl::StatusOr<R>&& result, grpc::ByteBuffer* out) {
    if (!result.ok()) return result.status();
    return Write(*std::move(result), out);
  }

 private:
  // A stream that ends at once with `status`.
  class RefusedStream final : public grpc::ServerWriteReactor<grpc::ByteBuffer> {
   public:
    explicit RefusedStream(const grpc::Status& status) { Finish(status); }
    void OnDone() override { delete this; }
  };

  int IndexOf(const char* method) {
    const google::protobuf::MethodDescriptor* m = descriptor_->FindMethodByName(method);
    if (m == nullptr) {
      fprintf(stderr, "GrpcAdapter: %s has no method %s\n", descriptor_->full_name().c_str(), method);
      abort();
    }
    if (handled_.empty()) handled_.resize(descriptor_->method_count(), false);
    return m->index();
  }

  template <typename Handler>
  void Register(const char* method, Handler handler) {
    const int index = IndexOf(method);
    this->MarkMethodRawCallback(
        index, new grpc::internal::CallbackUnaryHandler<grpc::ByteBuffer, grpc::ByteBuffer>(
                   std::move(handler)));
    handled_[index] = true;
  }

  UnaryRunner* const runner_;
  StreamRunner streams_{runner_};
  const google::protobuf::ServiceDescriptor* const descriptor_;
  std::vector<bool> handled_;
};

}  // namespace thingtank
