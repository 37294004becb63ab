// The stream runner (services/common/stream_runner.h) behind a real backend
// GrpcServer, and the gateway's ForwardingService in front of it, over real
// sockets: every kind of call of the test-only EchoService
// (services/common/testing/testdata/thingtank/testing/v1/echo.proto).
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "gateway/forwarder.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "prometheus/registry.h"
#include "services/common/executor.h"
#include "services/common/grpc_adapter.h"
#include "services/common/rpc_metrics.h"
#include "services/common/server.h"
#include "thingtank/testing/v1/echo.grpc.pb.h"

namespace thingtank::gateway {
namespace {

namespace v1 = thingtank::testing::v1;
constexpr char kService[] = "thingtank.testing.v1.EchoService";

uint64_t Fnv(uint64_t h, const std::string& data) {
  for (unsigned char c : data) h = (h ^ c) * 1099511628211ull;
  return h;
}
constexpr uint64_t kFnvBasis = 14695981039346656037ull;

// Refuses calls carrying the metadata key `deny_key`; counts what it saw.
class FakeGate final : public CallGate {
 public:
  explicit FakeGate(std::string deny_key) : deny_key_(std::move(deny_key)) {}
  absl::Status Admit(const grpc::ServerContextBase& context, const std::string&) override {
    if (context.client_metadata().count(deny_key_) > 0) {
      refused.fetch_add(1);
      return absl::UnauthenticatedError("the fake gate says no");
    }
    return absl::OkStatus();
  }
  std::atomic<int> refused{0};

 private:
  const std::string deny_key_;
};

// What the backend's handlers saw; waits with deadlines.
struct Probe {
  absl::Mutex mu;
  int64_t consumed ABSL_GUARDED_BY(mu) = 0;  // Upload and Chat messages handled
  int64_t produced ABSL_GUARDED_BY(mu) = 0;  // Produce messages handed to the runner
  int handlers_made ABSL_GUARDED_BY(mu) = 0;
  int handlers_done ABSL_GUARDED_BY(mu) = 0;  // destroyed: the call ended, its metrics recorded
  std::chrono::system_clock::time_point deadline ABSL_GUARDED_BY(mu);
  absl::Notification cancelled;

  void Made(grpc::CallbackServerContext* context) {
    absl::MutexLock lock(&mu);
    ++handlers_made;
    deadline = context->deadline();
  }
  void Gone() {
    absl::MutexLock lock(&mu);
    ++handlers_done;
  }
  bool AwaitDone(int n) {
    return Await([this, n]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) { return handlers_done >= n; },
                 absl::Seconds(10));
  }
  // Waits up to `timeout` for `cond` (under mu); returns whether it held.
  template <typename Cond>
  bool Await(Cond cond, absl::Duration timeout) {
    absl::MutexLock lock(&mu);
    return mu.AwaitWithTimeout(absl::Condition(&cond), timeout);
  }
  int64_t Consumed() {
    absl::MutexLock lock(&mu);
    return consumed;
  }
  int64_t Produced() {
    absl::MutexLock lock(&mu);
    return produced;
  }
};

class UploadHandler final : public ClientStreamHandler<v1::Chunk, v1::Summary> {
 public:
  explicit UploadHandler(Probe* probe) : probe_(probe) { summary_.set_checksum(kFnvBasis); }
  ~UploadHandler() override { probe_->Gone(); }
  absl::Status OnMessage(const v1::Chunk& chunk) override {
    if (chunk.note() == "fail") return absl::FailedPreconditionError("the backend refuses");
    summary_.set_count(summary_.count() + 1);
    summary_.set_bytes(summary_.bytes() + static_cast<int64_t>(chunk.data().size()));
    summary_.set_checksum(Fnv(summary_.checksum(), chunk.data()));
    absl::MutexLock lock(&probe_->mu);
    ++probe_->consumed;
    return absl::OkStatus();
  }
  absl::StatusOr<v1::Summary> OnEnd() override { return summary_; }
  void OnCancel() override { probe_->cancelled.Notify(); }

 private:
  Probe* const probe_;
  v1::Summary summary_;
};

class ChatHandler final : public BidiStreamHandler<v1::Chunk, v1::Chunk> {
 public:
  explicit ChatHandler(Probe* probe) : probe_(probe) {}
  ~ChatHandler() override { probe_->Gone(); }
  absl::Status OnMessage(const v1::Chunk& chunk, std::vector<v1::Chunk>* out) override {
    if (chunk.note() == "fail") return absl::AbortedError("the backend aborts the chat");
    if (chunk.note() == "cancel") return absl::CancelledError("the backend cancels the chat");
    {
      absl::MutexLock lock(&probe_->mu);
      ++probe_->consumed;
    }
    out->push_back(chunk);
    return absl::OkStatus();
  }
  void OnCancel() override { probe_->cancelled.Notify(); }

 private:
  Probe* const probe_;
};

class ProduceHandler final : public ServerStreamHandler<v1::ProduceRequest, v1::Chunk> {
 public:
  explicit ProduceHandler(Probe* probe) : probe_(probe) {}
  ~ProduceHandler() override { probe_->Gone(); }
  absl::Status Start(const v1::ProduceRequest& request) override {
    request_ = request;
    return absl::OkStatus();
  }
  absl::Status Next(std::vector<v1::Chunk>* out, bool* more) override {
    v1::Chunk chunk;
    chunk.set_seq(sent_++);
    chunk.set_data(std::string(request_.size(), 'p'));
    out->push_back(std::move(chunk));
    *more = sent_ < request_.count();
    absl::MutexLock lock(&probe_->mu);
    ++probe_->produced;
    return absl::OkStatus();
  }
  void OnCancel() override { probe_->cancelled.Notify(); }

 private:
  Probe* const probe_;
  v1::ProduceRequest request_;
  int64_t sent_ = 0;
};

// The backend's adapter: every kind of method on the runners.
class EchoAdapter final : public GrpcAdapter<v1::EchoService::CallbackService> {
 public:
  EchoAdapter(UnaryRunner* runner, Probe* probe) : GrpcAdapter(kService, runner) {
    Unary<v1::Chunk>("Echo", [](const v1::Chunk& chunk) { return absl::StatusOr<v1::Chunk>(chunk); });
    PulledServerStream<v1::ProduceRequest, v1::Chunk>("Produce", [probe](grpc::CallbackServerContext* c) {
      probe->Made(c);
      return std::make_unique<ProduceHandler>(probe);
    });
    ClientStream<v1::Chunk, v1::Summary>("Upload", [probe](grpc::CallbackServerContext* c) {
      probe->Made(c);
      return std::make_unique<UploadHandler>(probe);
    });
    BidiStream<v1::Chunk, v1::Chunk>("Chat", [probe](grpc::CallbackServerContext* c) {
      probe->Made(c);
      return std::make_unique<ChatHandler>(probe);
    });
    if (!HandlesEveryMethod()) abort();
  }
};

// The sum of a metric's samples whose labels include `labels`.
double MetricSum(prometheus::Registry& registry, const std::string& name,
                 const std::map<std::string, std::string>& labels) {
  double sum = 0;
  for (const auto& family : registry.Collect()) {
    if (family.name != name) continue;
    for (const auto& metric : family.metric) {
      size_t matched = 0;
      for (const auto& label : metric.label) {
        auto it = labels.find(label.name);
        if (it != labels.end() && it->second == label.value) ++matched;
      }
      if (matched == labels.size()) sum += metric.counter.value;
    }
  }
  return sum;
}

int64_t RssBytes() {
  std::ifstream statm("/proc/self/statm");
  int64_t size = 0, resident = 0;
  statm >> size >> resident;
  return resident * sysconf(_SC_PAGESIZE);
}

class StreamRelayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto backend = GrpcServer::Start({}, {&adapter_}, nullptr);
    ASSERT_TRUE(backend.ok()) << backend.status();
    backend_ = *std::move(backend);
    const std::string address = absl::StrCat("127.0.0.1:", backend_->port());
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(-1);
    args.SetMaxSendMessageSize(-1);
    forwarder_ = std::make_unique<ForwardingService>(
        google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(kService), "echo", address,
        grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args), &gateway_gate_,
        &gateway_metrics_, absl::Seconds(5));
    auto gateway = GrpcServer::Start({}, {forwarder_.get()}, nullptr);
    ASSERT_TRUE(gateway.ok()) << gateway.status();
    gateway_ = *std::move(gateway);
    gateway_stub_ = Stub(gateway_->port());
    backend_stub_ = Stub(backend_->port());
  }

  static std::unique_ptr<v1::EchoService::Stub> Stub(int port) {
    return v1::EchoService::NewStub(grpc::CreateChannel(absl::StrCat("127.0.0.1:", port),
                                                        grpc::InsecureChannelCredentials()));
  }
  static void SetDeadline(grpc::ClientContext* context, absl::Duration d) {
    context->set_deadline(std::chrono::system_clock::now() +
                          std::chrono::milliseconds(absl::ToInt64Milliseconds(d)));
  }
  double Backend(const char* name, const char* method, const char* type, const char* code = nullptr) {
    std::map<std::string, std::string> labels = {{"grpc_method", method}, {"grpc_type", type}};
    if (code != nullptr) labels["grpc_code"] = code;
    return MetricSum(backend_registry_, name, labels);
  }
  double Gateway(const char* name, const char* method, const char* type, const char* code = nullptr) {
    std::map<std::string, std::string> labels = {{"grpc_method", method}, {"grpc_type", type}};
    if (code != nullptr) labels["grpc_code"] = code;
    return MetricSum(gateway_registry_, name, labels);
  }

  Probe probe_;
  prometheus::Registry backend_registry_;
  RpcMetrics backend_metrics_{&backend_registry_};
  ThreadPool pool_{"echo", 2, 1000};
  FakeGate backend_gate_{"x-deny-backend"};
  UnaryRunner runner_{kService, "echo", &pool_, &backend_metrics_, &backend_gate_};
  EchoAdapter adapter_{&runner_, &probe_};
  prometheus::Registry gateway_registry_;
  RpcMetrics gateway_metrics_{&gateway_registry_};
  FakeGate gateway_gate_{"x-deny-gateway"};
  std::unique_ptr<ForwardingService> forwarder_;
  std::unique_ptr<GrpcServer> backend_;
  std::unique_ptr<GrpcServer> gateway_;
  std::unique_ptr<v1::EchoService::Stub> gateway_stub_;
  std::unique_ptr<v1::EchoService::Stub> backend_stub_;
};

TEST_F(StreamRelayTest, ClientStreamOf64MiBArrivesWholeWithBoundedMemory) {
  constexpr int kChunks = 64;
  constexpr int kChunkBytes = 1 << 20;
  grpc::ClientContext context;
  SetDeadline(&context, absl::Seconds(60));
  v1::Summary summary;
  const int64_t rss_before = RssBytes();
  int64_t rss_peak = rss_before;
  int64_t max_ahead = 0;  // messages the client wrote that the backend had not yet handled
  uint64_t checksum = kFnvBasis;
  {
    auto writer = gateway_stub_->Upload(&context, &summary);
    v1::Chunk chunk;
    for (int i = 0; i < kChunks; ++i) {
      std::string data(kChunkBytes, static_cast<char>('a' + i % 26));
      data[i] = 'x';  // each chunk differs, so a reordering changes the checksum
      checksum = Fnv(checksum, data);
      chunk.set_seq(i);
      chunk.set_data(std::move(data));
      ASSERT_TRUE(writer->Write(chunk)) << "write " << i;
      max_ahead = std::max(max_ahead, i + 1 - probe_.Consumed());
      rss_peak = std::max(rss_peak, RssBytes());
    }
    ASSERT_TRUE(writer->WritesDone());
    const grpc::Status status = writer->Finish();
    ASSERT_TRUE(status.ok()) << status.error_code() << " " << status.error_message();
  }
  EXPECT_EQ(summary.count(), kChunks);
  EXPECT_EQ(summary.bytes(), int64_t{kChunks} * kChunkBytes);
  EXPECT_EQ(summary.checksum(), checksum);
  // Flow control end to end: the client can be only a few messages (the
  // HTTP/2 windows of two hops plus one in the relay) ahead of the handler,
  // and the process (client, gateway and backend) never holds the stream.
  printf("64 MiB upload: client at most %lld MiB ahead of the backend handler; RSS grew %lld MiB\n",
         static_cast<long long>(max_ahead), static_cast<long long>((rss_peak - rss_before) >> 20));
  EXPECT_LE(max_ahead, 24);  // measured 2 to 13
#if !defined(__SANITIZE_ADDRESS__)  // ASan's quarantine keeps freed memory resident
  EXPECT_LT(rss_peak - rss_before, int64_t{64} << 20);  // measured 17 to 36 MiB, allocator caches included
#endif
  EXPECT_EQ(Backend("grpc_server_handled_total", "Upload", "client_stream", "OK"), 1);
  EXPECT_EQ(Gateway("grpc_server_handled_total", "Upload", "client_stream", "OK"), 1);
}

TEST_F(StreamRelayTest, BidiEchoThroughTheGateway) {
  grpc::ClientContext context;
  SetDeadline(&context, absl::Seconds(30));
  auto stream = gateway_stub_->Chat(&context);
  for (int i = 0; i < 100; ++i) {
    v1::Chunk chunk;
    chunk.set_seq(i);
    chunk.set_data(std::string(1000 + i, 'c'));
    ASSERT_TRUE(stream->Write(chunk));
    v1::Chunk echo;
    ASSERT_TRUE(stream->Read(&echo)) << i;
    EXPECT_EQ(echo.seq(), i);
    EXPECT_EQ(echo.data().size(), 1000u + i);
  }
  ASSERT_TRUE(stream->WritesDone());
  v1::Chunk extra;
  EXPECT_FALSE(stream->Read(&extra));
  const grpc::Status status = stream->Finish();
  EXPECT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(Backend("grpc_server_started_total", "Chat", "bidi_stream"), 1);
  EXPECT_EQ(Backend("grpc_server_handled_total", "Chat", "bidi_stream", "OK"), 1);
  EXPECT_EQ(Gateway("grpc_server_handled_total", "Chat", "bidi_stream", "OK"), 1);
}

TEST_F(StreamRelayTest, ClientCancelReachesTheBackendHandler) {
  grpc::ClientContext context;
  SetDeadline(&context, absl::Seconds(30));
  auto stream = gateway_stub_->Chat(&context);
  v1::Chunk chunk;
  chunk.set_seq(1);
  ASSERT_TRUE(stream->Write(chunk));
  v1::Chunk echo;
  ASSERT_TRUE(stream->Read(&echo));
  context.TryCancel();
  EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::CANCELLED);
  EXPECT_TRUE(probe_.cancelled.WaitForNotificationWithTimeout(absl::Seconds(10)));
  ASSERT_TRUE(probe_.AwaitDone(1));
  EXPECT_EQ(Backend("grpc_server_handled_total", "Chat", "bidi_stream", "Canceled"), 1);
}

TEST_F(StreamRelayTest, BackendErrorReachesTheClientWithItsStatus) {
  {  // bidi: the client waits for a reply that never comes; the error arrives
    grpc::ClientContext context;
    SetDeadline(&context, absl::Seconds(30));
    auto stream = gateway_stub_->Chat(&context);
    v1::Chunk chunk;
    chunk.set_note("fail");
    ASSERT_TRUE(stream->Write(chunk));
    v1::Chunk echo;
    EXPECT_FALSE(stream->Read(&echo));
    const grpc::Status status = stream->Finish();
    EXPECT_EQ(status.error_code(), grpc::StatusCode::ABORTED);
    EXPECT_EQ(status.error_message(), "the backend aborts the chat");
  }
  {  // client stream: the error ends the upload while the client still writes
    grpc::ClientContext context;
    SetDeadline(&context, absl::Seconds(30));
    v1::Summary summary;
    auto writer = gateway_stub_->Upload(&context, &summary);
    v1::Chunk chunk;
    chunk.set_note("fail");
    writer->Write(chunk);  // may or may not succeed: the call ends at once
    const grpc::Status status = writer->Finish();
    EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
    EXPECT_EQ(status.error_message(), "the backend refuses");
  }
  ASSERT_TRUE(probe_.AwaitDone(2));
  EXPECT_EQ(Gateway("grpc_server_handled_total", "Upload", "client_stream", "FailedPrecondition"), 1);
  EXPECT_EQ(Backend("grpc_server_handled_total", "Chat", "bidi_stream", "Aborted"), 1);
}

TEST_F(StreamRelayTest, BackendCancelReachesTheClient) {
  grpc::ClientContext context;
  SetDeadline(&context, absl::Seconds(30));
  auto stream = gateway_stub_->Chat(&context);
  v1::Chunk chunk;
  chunk.set_seq(1);
  ASSERT_TRUE(stream->Write(chunk));
  v1::Chunk echo;
  ASSERT_TRUE(stream->Read(&echo));
  chunk.set_note("cancel");
  ASSERT_TRUE(stream->Write(chunk));
  EXPECT_FALSE(stream->Read(&echo));
  const grpc::Status status = stream->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::CANCELLED);
  EXPECT_EQ(status.error_message(), "the backend cancels the chat");
  EXPECT_EQ(Gateway("grpc_server_handled_total", "Chat", "bidi_stream", "Canceled"), 1);
}

TEST_F(StreamRelayTest, DeadlinePassesThrough) {
  grpc::ClientContext context;
  const auto deadline = std::chrono::system_clock::now() + std::chrono::milliseconds(500);
  context.set_deadline(deadline);
  v1::Summary summary;
  auto writer = gateway_stub_->Upload(&context, &summary);
  v1::Chunk chunk;
  ASSERT_TRUE(writer->Write(chunk));
  // The client neither ends the stream nor cancels it: the deadline does.
  EXPECT_EQ(writer->Finish().error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  EXPECT_TRUE(probe_.cancelled.WaitForNotificationWithTimeout(absl::Seconds(10)));
  ASSERT_TRUE(probe_.AwaitDone(1));
  EXPECT_EQ(Backend("grpc_server_handled_total", "Upload", "client_stream", "DeadlineExceeded"), 1);
  gateway_->Shutdown(absl::Seconds(5));  // waits for the relay to end and record its call
  EXPECT_EQ(Gateway("grpc_server_handled_total", "Upload", "client_stream", "DeadlineExceeded"), 1);
  absl::MutexLock lock(&probe_.mu);
  EXPECT_EQ(probe_.handlers_made, 1);
  // gRPC carries a deadline as a timeout: the backend's is the client's,
  // give or take the time on the way.
  EXPECT_LT(std::chrono::abs(probe_.deadline - deadline), std::chrono::milliseconds(200));
}

TEST_F(StreamRelayTest, SlowReaderKeepsTheBackendsWritesBounded) {
  grpc::ClientContext context;
  SetDeadline(&context, absl::Seconds(60));
  v1::ProduceRequest request;
  request.set_count(1'000'000);  // 64 GB if nothing held the producer back
  request.set_size(64 << 10);
  auto reader = gateway_stub_->Produce(&context, request);
  v1::Chunk chunk;
  ASSERT_TRUE(reader->Read(&chunk));
  // The reader stops. The producer fills the transport windows and the
  // relay's one slot, then waits: it never gets 400 messages (25 MiB) ahead
  // (measured: 150 to 193, the HTTP/2 windows of the two hops).
  constexpr int64_t kBound = 400;
  EXPECT_FALSE(probe_.Await([this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(probe_.mu) {
    return probe_.produced > kBound;
  }, absl::Seconds(2)));
  int64_t read = 1;
  int64_t max_ahead = probe_.Produced() - read;
  for (; read < 1000; ++read) {
    ASSERT_TRUE(reader->Read(&chunk));
    EXPECT_EQ(chunk.seq(), read);
    max_ahead = std::max(max_ahead, probe_.Produced() - read - 1);
  }
  printf("slow reader: the backend produced at most %lld messages (64 KiB) ahead of the reader\n",
         static_cast<long long>(max_ahead));
  EXPECT_LE(max_ahead, kBound);
  context.TryCancel();
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::CANCELLED);
  EXPECT_TRUE(probe_.cancelled.WaitForNotificationWithTimeout(absl::Seconds(10)));
  EXPECT_LT(probe_.Produced(), 1000 + kBound);
  EXPECT_EQ(Backend("grpc_server_started_total", "Produce", "server_stream"), 1);
  EXPECT_EQ(Gateway("grpc_server_started_total", "Produce", "server_stream"), 1);
}

TEST_F(StreamRelayTest, GatesRefuseBeforeTheFirstMessageIsRead) {
  for (const char* key : {"x-deny-gateway", "x-deny-backend"}) {
    SCOPED_TRACE(key);
    grpc::ClientContext context;
    SetDeadline(&context, absl::Seconds(30));
    context.AddMetadata(key, "1");
    auto stream = gateway_stub_->Chat(&context);
    v1::Chunk chunk;
    stream->Write(chunk);  // may fail: the call is refused at once
    const grpc::Status status = stream->Finish();
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
    EXPECT_EQ(status.error_message(), "the fake gate says no");
  }
  {
    grpc::ClientContext context;
    SetDeadline(&context, absl::Seconds(30));
    context.AddMetadata("x-deny-backend", "1");
    v1::Summary summary;
    auto writer = gateway_stub_->Upload(&context, &summary);
    EXPECT_EQ(writer->Finish().error_code(), grpc::StatusCode::UNAUTHENTICATED);
  }
  EXPECT_EQ(gateway_gate_.refused.load(), 1);
  EXPECT_EQ(backend_gate_.refused.load(), 2);
  absl::MutexLock lock(&probe_.mu);
  EXPECT_EQ(probe_.handlers_made, 0);
  EXPECT_EQ(probe_.consumed, 0);
}

TEST_F(StreamRelayTest, MalformedMessageEndsTheCallInvalidArgument) {
  for (auto* stub : {gateway_stub_.get(), backend_stub_.get()}) {
    grpc::ClientContext context;
    SetDeadline(&context, absl::Seconds(30));
    v1::Summary summary;
    auto writer = stub->Upload(&context, &summary);
    v1::Chunk good;
    good.set_data("fine");
    ASSERT_TRUE(writer->Write(good));
    v1::Chunk bad;
    bad.set_note("\xff\xfe not UTF-8");  // serialized anyway; parsing refuses it
    writer->Write(bad);
    const grpc::Status status = writer->Finish();
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_NE(status.error_message().find("not a valid protobuf message"), std::string::npos)
        << status.error_message();
  }
  EXPECT_EQ(probe_.Consumed(), 2);
  ASSERT_TRUE(probe_.AwaitDone(2));
  EXPECT_EQ(Backend("grpc_server_handled_total", "Upload", "client_stream", "InvalidArgument"), 2);
}

TEST_F(StreamRelayTest, UnaryStillRelays) {
  grpc::ClientContext context;
  SetDeadline(&context, absl::Seconds(10));
  v1::Chunk in, out;
  in.set_seq(7);
  ASSERT_TRUE(gateway_stub_->Echo(&context, in, &out).ok());
  EXPECT_EQ(out.seq(), 7);
  EXPECT_EQ(Gateway("grpc_server_handled_total", "Echo", "unary", "OK"), 1);
}

}  // namespace
}  // namespace thingtank::gateway
