#pragma once

#include <functional>
#include <memory>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "grpcpp/impl/codegen/proto_utils.h"
#include "grpcpp/server_context.h"
#include "grpcpp/support/byte_buffer.h"
#include "grpcpp/support/server_callback.h"
#include "services/common/request_parse.h"
#include "services/common/server.h"
#include "services/common/status.h"

namespace thingtank {

// The raw side of one streaming call (client, server or bidi stream), as the
// StreamRunner drives it. One object per call, made after the gate admitted
// the call and destroyed when it ends. OnMessage and OnEnd run on the
// executor, one at a time and in order, so a handler needs no lock for its own
// state; OnCancel runs on a reactor thread, possibly while one of them runs,
// and must not block.
class StreamHandler {
 public:
  virtual ~StreamHandler() = default;
  // One message of the caller (a server stream: its request). Responses to
  // send go to `out`; they are all written before the next message is read.
  // A non-OK status ends the call with it.
  virtual absl::Status OnMessage(const grpc::ByteBuffer& message,
                                 std::vector<grpc::ByteBuffer>* out) = 0;
  // After the caller's last message. Responses go to `out`; with *more set,
  // OnEnd runs again once they are written (a server stream producing in
  // steps). A client stream puts exactly one response in `out`.
  virtual absl::Status OnEnd(std::vector<grpc::ByteBuffer>* out, bool* more) = 0;
  // The call was cancelled (by the caller, its deadline or the server).
  virtual void OnCancel() {}
  // A server stream's request and first step (OnMessage then OnEnd) done at
  // once on the reactor thread, when that needs no blocking: responses to
  // `out`, *more as OnEnd's. WouldBlock() (status.h) when it would block:
  // nothing happened, and the call goes the usual way on the executor.
  virtual absl::Status FirstStepNonBlocking(const grpc::ByteBuffer& request,
                                            std::vector<grpc::ByteBuffer>* out, bool* more) {
    return WouldBlock();
  }
};

// Makes the handler of one admitted call; runs on the reactor thread, so it
// must not block.
using StreamHandlerFactory =
    std::function<std::unique_ptr<StreamHandler>(grpc::CallbackServerContext*)>;

// Runs the streaming methods of one service as UnaryRunner runs its unary
// ones, with the same executor, gate and metrics: the gate admits the call
// before anything is read (a refused call ends at once); each message is
// handled on the executor, never on the reactor; statuses map with
// ToGrpcStatus; grpc_server_* series carry grpc_type client_stream,
// server_stream or bidi_stream. Flow control, bounded with overlap: one
// message is read ahead of the handler (the next arrives while the last is
// handled), responses are written one at a time with at most two waiting (a
// server stream produces its next step while the last is on the wire), and
// no read or step starts beyond that; so neither a fast caller nor a slow
// reader makes the server buffer more than a few messages. The last response
// of a server stream leaves with its status. A cancelled call (caller, deadline, shutdown) ends as CANCELLED
// or DEADLINE_EXCEEDED in the metrics. Thread-safe; holds only the pointer.
class StreamRunner {
 public:
  using Buffer = grpc::ByteBuffer;
  explicit StreamRunner(UnaryRunner* runner) : runner_(runner) {}

  grpc::ServerReadReactor<Buffer>* RunClientStream(grpc::CallbackServerContext* context,
                                                   const char* method, Buffer* response,
                                                   const StreamHandlerFactory& make);
  grpc::ServerWriteReactor<Buffer>* RunServerStream(grpc::CallbackServerContext* context,
                                                    const char* method, const Buffer* request,
                                                    const StreamHandlerFactory& make);
  grpc::ServerBidiReactor<Buffer, Buffer>* RunBidiStream(grpc::CallbackServerContext* context,
                                                         const char* method,
                                                         const StreamHandlerFactory& make);

 private:
  UnaryRunner* const runner_;
};

// Typed handlers, for GrpcAdapter's ClientStream, PulledServerStream and
// BidiStream. The threading rules are StreamHandler's.
template <typename Req, typename Resp>
class ClientStreamHandler {
 public:
  virtual ~ClientStreamHandler() = default;
  virtual absl::Status OnMessage(const Req& message) = 0;
  virtual absl::StatusOr<Resp> OnEnd() = 0;
  virtual void OnCancel() {}
};

template <typename Req, typename Resp>
class BidiStreamHandler {
 public:
  virtual ~BidiStreamHandler() = default;
  virtual absl::Status OnMessage(const Req& message, std::vector<Resp>* out) = 0;
  virtual absl::Status OnEnd(std::vector<Resp>* /*out*/) { return absl::OkStatus(); }
  virtual void OnCancel() {}
};

// A server stream that produces its responses in steps (each written before
// the next step runs): Start with the request, then Next until *more is false.
template <typename Req, typename Resp>
class ServerStreamHandler {
 public:
  virtual ~ServerStreamHandler() = default;
  virtual absl::Status Start(const Req& request) = 0;
  virtual absl::Status Next(std::vector<Resp>* out, bool* more) = 0;
  virtual void OnCancel() {}
  // Start and the first Next at once on the reactor thread, or WouldBlock()
  // leaving no trace (StreamHandler::FirstStepNonBlocking).
  virtual absl::Status StartAndNextNonBlocking(const Req& request, std::vector<Resp>* out, bool* more) {
    return WouldBlock();
  }
};

namespace stream_internal {

template <typename Resp>
absl::Status Serialize(std::vector<Resp>* typed, std::vector<grpc::ByteBuffer>* out) {
  for (Resp& message : *typed) {
    bool own = false;
    out->emplace_back();
    if (!grpc::SerializationTraits<Resp>::Serialize(message, &out->back(), &own).ok()) {
      return absl::InternalError("cannot serialize a response");
    }
  }
  typed->clear();
  return absl::OkStatus();
}

// Parses each message (ParseRequest: a malformed one ends the call
// INVALID_ARGUMENT) and serializes the responses of a typed handler.
template <typename Req, typename Resp>
class TypedClientStream final : public StreamHandler {
 public:
  explicit TypedClientStream(std::unique_ptr<ClientStreamHandler<Req, Resp>> h) : h_(std::move(h)) {}
  absl::Status OnMessage(const grpc::ByteBuffer& message, std::vector<grpc::ByteBuffer>*) override {
    Req request;
    if (absl::Status s = ParseRequest(message, &request); !s.ok()) return s;
    return h_->OnMessage(request);
  }
  absl::Status OnEnd(std::vector<grpc::ByteBuffer>* out, bool* more) override {
    *more = false;
    absl::StatusOr<Resp> response = h_->OnEnd();
    if (!response.ok()) return response.status();
    std::vector<Resp> typed;
    typed.push_back(*std::move(response));
    return Serialize(&typed, out);
  }
  void OnCancel() override { h_->OnCancel(); }

 private:
  const std::unique_ptr<ClientStreamHandler<Req, Resp>> h_;
};

template <typename Req, typename Resp>
class TypedBidiStream final : public StreamHandler {
 public:
  explicit TypedBidiStream(std::unique_ptr<BidiStreamHandler<Req, Resp>> h) : h_(std::move(h)) {}
  absl::Status OnMessage(const grpc::ByteBuffer& message, std::vector<grpc::ByteBuffer>* out) override {
    Req request;
    if (absl::Status s = ParseRequest(message, &request); !s.ok()) return s;
    std::vector<Resp> typed;
    if (absl::Status s = h_->OnMessage(request, &typed); !s.ok()) return s;
    return Serialize(&typed, out);
  }
  absl::Status OnEnd(std::vector<grpc::ByteBuffer>* out, bool* more) override {
    *more = false;
    std::vector<Resp> typed;
    if (absl::Status s = h_->OnEnd(&typed); !s.ok()) return s;
    return Serialize(&typed, out);
  }
  void OnCancel() override { h_->OnCancel(); }

 private:
  const std::unique_ptr<BidiStreamHandler<Req, Resp>> h_;
};

template <typename Req, typename Resp>
class TypedServerStream final : public StreamHandler {
 public:
  explicit TypedServerStream(std::unique_ptr<ServerStreamHandler<Req, Resp>> h) : h_(std::move(h)) {}
  absl::Status OnMessage(const grpc::ByteBuffer& message, std::vector<grpc::ByteBuffer>*) override {
    Req request;
    if (absl::Status s = ParseRequest(message, &request); !s.ok()) return s;
    return h_->Start(request);
  }
  absl::Status OnEnd(std::vector<grpc::ByteBuffer>* out, bool* more) override {
    std::vector<Resp> typed;
    if (absl::Status s = h_->Next(&typed, more); !s.ok()) return s;
    return Serialize(&typed, out);
  }
  void OnCancel() override { h_->OnCancel(); }
  absl::Status FirstStepNonBlocking(const grpc::ByteBuffer& message, std::vector<grpc::ByteBuffer>* out,
                                    bool* more) override {
    Req request;
    if (absl::Status s = ParseRequest(message, &request); !s.ok()) return WouldBlock();
    std::vector<Resp> typed;
    if (absl::Status s = h_->StartAndNextNonBlocking(request, &typed, more); !s.ok()) return s;
    return Serialize(&typed, out);
  }

 private:
  const std::unique_ptr<ServerStreamHandler<Req, Resp>> h_;
};

}  // namespace stream_internal
}  // namespace thingtank
