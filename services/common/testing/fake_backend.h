// A fake backend: a real gRPC server on a free 127.0.0.1 port that answers
// the unary methods a test registers, so one service's tests need not run
// another service's domain. Handlers are typed, checked against the generated
// descriptors (the method exists, is unary, and takes and returns the types
// given), run on the backend's own threads (they may block, as a long poll
// does) and answer with an absl::Status built by the same helpers as domain
// code (ErrorWithReason, QuotaExceeded, ...), mapped by ToGrpcStatus as the
// real services map theirs. A method nobody registered answers UNIMPLEMENTED
// naming it. grpc.health.v1 and reflection cannot be faked: the server
// answers them itself, as every ThingTank server does.
//
//   FakeBackend backend;
//   backend.On<qv1::SendMessageRequest, qv1::SendMessageResponse>(
//       "thingtank.queues.v1.QueuesService.SendMessage",
//       [](const FakeCall&, const qv1::SendMessageRequest& req, qv1::SendMessageResponse* out) {
//         if (req.queue_name() != "q") {
//           return ErrorWithReason(absl::StatusCode::kNotFound, "QueueDoesNotExist", "...");
//         }
//         out->set_message_id("m-1");
//         return absl::OkStatus();
//       });
//   auto channel = backend.Channel();
//
// services/queues/testing/fake_queues.h and services/tables/testing/fake_tables.h
// build small in-memory queues and tables on it.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "grpcpp/channel.h"
#include "grpcpp/generic/async_generic_service.h"
#include "grpcpp/support/byte_buffer.h"
#include "services/common/executor.h"
#include "services/common/server.h"

namespace thingtank {

// What a handler knows of its call.
class FakeCall {
 public:
  // The caller cancelled, its deadline passed, or the backend is stopping.
  bool Ended() const;
  // Waits (polling every millisecond) until `condition` holds, the call
  // ends, or `limit` passes; returns whether `condition` held.
  bool WaitUntil(const std::function<bool()>& condition, absl::Duration limit) const;
  absl::Time deadline() const { return deadline_; }

 private:
  friend class FakeBackend;
  FakeCall(const std::atomic<bool>* cancelled, const std::atomic<bool>* stopping,
           absl::Time deadline)
      : cancelled_(cancelled), stopping_(stopping), deadline_(deadline) {}
  const std::atomic<bool>* cancelled_;
  const std::atomic<bool>* stopping_;
  absl::Time deadline_;
};

class FakeBackend final : public grpc::CallbackGenericService {
 public:
  template <typename Req, typename Resp>
  using Handler = std::function<absl::Status(const FakeCall&, const Req&, Resp*)>;

  // Starts the server (a failure fails the test and leaves port() 0).
  FakeBackend();
  ~FakeBackend() override;
  FakeBackend(const FakeBackend&) = delete;
  FakeBackend& operator=(const FakeBackend&) = delete;

  // Registers (or replaces) the handler of `method`, its full proto name
  // ("thingtank.queues.v1.QueuesService.SendMessage"). A method that does not exist,
  // is streaming, or has other types fails the test.
  template <typename Req, typename Resp>
  void On(absl::string_view method, Handler<Req, Resp> handler) {
    Register(method, Req::descriptor(), Resp::descriptor(),
             [handler = std::move(handler)](const FakeCall& call, const grpc::ByteBuffer& in,
                                            grpc::ByteBuffer* out) -> absl::Status {
               Req request;
               if (!Parse(in, &request)) {
                 return absl::InvalidArgumentError("the fake backend could not parse the request");
               }
               Resp response;
               absl::Status status = handler(call, request, &response);
               if (status.ok()) Serialize(response, out);
               return status;
             });
  }

  int port() const;
  std::string address() const;
  std::shared_ptr<grpc::Channel> Channel() const;
  // Calls that reached `method`'s handler (full proto name).
  int calls(absl::string_view method) const;
  // Waits (real time, up to `limit`) until `method` has had `n` calls.
  bool AwaitCalls(absl::string_view method, int n, absl::Duration limit = absl::Seconds(20));

  // Ends waiting handlers and stops the server; the destructor does it too.
  void Shutdown();

  grpc::ServerGenericBidiReactor* CreateReactor(grpc::GenericCallbackServerContext* context) override;

 private:
  using RawHandler =
      std::function<absl::Status(const FakeCall&, const grpc::ByteBuffer&, grpc::ByteBuffer*)>;
  class Reactor;

  void Register(absl::string_view method, const google::protobuf::Descriptor* request,
                const google::protobuf::Descriptor* response, RawHandler handler);
  // The handler of a gRPC path ("/pkg.Service/Method"), counting the call.
  RawHandler Find(const std::string& path);
  static bool Parse(const grpc::ByteBuffer& in, google::protobuf::Message* out);
  static void Serialize(const google::protobuf::Message& message, grpc::ByteBuffer* out);

  mutable absl::Mutex mu_;
  std::map<std::string, RawHandler, std::less<>> handlers_ ABSL_GUARDED_BY(mu_);  // by gRPC path
  std::map<std::string, int, std::less<>> calls_ ABSL_GUARDED_BY(mu_);          // by gRPC path
  std::atomic<bool> stopping_{false};
  ThreadPool pool_;
  std::unique_ptr<GrpcServer> server_;
};

}  // namespace thingtank
