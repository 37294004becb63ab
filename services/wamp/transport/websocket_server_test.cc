// End-to-end tests of the WebSocket transport: a real server on port 0 and
// real Beast WebSocket (or raw TCP) clients over loopback sockets.
#include "services/wamp/transport/websocket_server.h"

#include <chrono>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace thingtank::wamp {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;

// ---- Server side: a handler that records (and by default echoes) ----

// What the test observes of one server-side connection.
struct Observed {
  std::shared_ptr<Connection> connection;
  std::vector<std::string> messages;
  std::vector<DisconnectReason> closes;
};

class Recorder {
 public:
  // Called inside OnMessage after recording; default: echo.
  using OnMessageHook = std::function<void(Connection&, std::string_view, size_t index)>;

  explicit Recorder(OnMessageHook hook = Echo) : hook_(std::move(hook)) {}

  static void Echo(Connection& c, std::string_view payload, size_t) {
    c.Send(std::make_shared<const std::string>(payload));
  }
  static void Ignore(Connection&, std::string_view, size_t) {}

  HandlerFactory Factory() {
    return [this](std::shared_ptr<Connection> connection) -> std::unique_ptr<ConnectionHandler> {
      auto observed = std::make_shared<Observed>();
      observed->connection = connection;
      absl::MutexLock lock(&mu_);
      conns_.push_back(observed);
      return std::make_unique<Handler>(this, std::move(observed));
    };
  }

  // Polls (on the mutex's condition, no sleeps) until pred() holds.
  bool WaitUntil(const std::function<bool()>& pred, absl::Duration timeout = absl::Seconds(10)) {
    absl::MutexLock lock(&mu_);
    auto cond = [&pred]() { return pred(); };
    return mu_.AwaitWithTimeout(absl::Condition(&cond), timeout);
  }
  // pred runs with the lock held (inside WaitUntil); use the unlocked accessors.
  size_t connections_locked() const ABSL_NO_THREAD_SAFETY_ANALYSIS { return conns_.size(); }
  Observed& conn_locked(size_t i) const ABSL_NO_THREAD_SAFETY_ANALYSIS { return *conns_[i]; }

  size_t connections() {
    absl::MutexLock lock(&mu_);
    return conns_.size();
  }
  std::shared_ptr<Observed> conn(size_t i) {
    absl::MutexLock lock(&mu_);
    return conns_.at(i);
  }
  std::vector<DisconnectReason> closes(size_t i) {
    absl::MutexLock lock(&mu_);
    return conns_.at(i)->closes;
  }
  std::vector<std::string> messages(size_t i) {
    absl::MutexLock lock(&mu_);
    return conns_.at(i)->messages;
  }
  bool WaitClosed(size_t i, absl::Duration timeout = absl::Seconds(10)) {
    return WaitUntil([&] { return connections_locked() > i && !conn_locked(i).closes.empty(); },
                     timeout);
  }

 private:
  class Handler : public ConnectionHandler {
   public:
    Handler(Recorder* recorder, std::shared_ptr<Observed> observed)
        : recorder_(recorder), observed_(std::move(observed)) {}
    void OnMessage(std::string_view payload) override {
      size_t index;
      {
        absl::MutexLock lock(&recorder_->mu_);
        observed_->messages.emplace_back(payload);
        index = observed_->messages.size() - 1;
      }
      recorder_->hook_(*observed_->connection, payload, index);
    }
    void OnClose(DisconnectReason reason) override {
      absl::MutexLock lock(&recorder_->mu_);
      observed_->closes.push_back(reason);
    }

   private:
    Recorder* recorder_;
    std::shared_ptr<Observed> observed_;
  };

  OnMessageHook hook_;
  absl::Mutex mu_;
  std::vector<std::shared_ptr<Observed>> conns_ ABSL_GUARDED_BY(mu_);
};

WebSocketServerOptions TestOptions() {
  WebSocketServerOptions options;
  options.port = 0;
  options.handshake_timeout = absl::Seconds(5);
  options.shutdown_grace = absl::Milliseconds(500);
  return options;
}

std::unique_ptr<WebSocketServer> StartServer(Recorder& recorder,
                                             WebSocketServerOptions options = TestOptions()) {
  auto server = WebSocketServer::Start(std::move(options), recorder.Factory());
  EXPECT_TRUE(server.ok()) << server.status();
  return server.ok() ? std::move(*server) : nullptr;
}

// ---- Client side ----

tcp::endpoint Local(int port) {
  return {net::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)};
}

// A synchronous Beast WebSocket client.
struct Client {
  explicit Client(net::io_context& ioc) : ws(ioc) {}

  beast::error_code Connect(int port, std::string protocols, const std::string& target = "/ws",
                            int receive_buffer = 0) {
    beast::error_code ec;
    ws.next_layer().open(tcp::v4(), ec);
    if (receive_buffer > 0) {
      ws.next_layer().set_option(net::socket_base::receive_buffer_size(receive_buffer), ec);
    }
    ws.next_layer().connect(Local(port), ec);
    if (ec) return ec;
    if (!protocols.empty()) {
      ws.set_option(websocket::stream_base::decorator(
          [protocols](websocket::request_type& req) {
            req.set(http::field::sec_websocket_protocol, protocols);
          }));
    }
    ws.handshake(response, "127.0.0.1", target, ec);
    return ec;
  }
  void Write(std::string_view payload, bool text = true) {
    ws.text(text);
    ws.write(net::buffer(payload.data(), payload.size()));
  }
  // Next message, or empty with ec set.
  std::string Read(beast::error_code& ec) {
    beast::flat_buffer buffer;
    ws.read(buffer, ec);
    return beast::buffers_to_string(buffer.data());
  }
  std::string subprotocol() const {
    return std::string(response[http::field::sec_websocket_protocol]);
  }

  websocket::stream<tcp::socket> ws;
  websocket::response_type response;
};

// A plain HTTP request (no WebSocket client logic).
http::response<http::string_body> HttpGet(int port, const std::string& target,
                                          bool upgrade_headers,
                                          const std::string& protocols = "wamp.2.json") {
  net::io_context ioc;
  tcp::socket socket(ioc);
  socket.connect(Local(port));
  http::request<http::empty_body> req(http::verb::get, target, 11);
  req.set(http::field::host, "127.0.0.1");
  if (upgrade_headers) {
    req.set(http::field::upgrade, "websocket");
    req.set(http::field::connection, "Upgrade");
    req.set(http::field::sec_websocket_key, "dGhlIHNhbXBsZSBub25jZQ==");
    req.set(http::field::sec_websocket_version, "13");
    if (!protocols.empty()) req.set(http::field::sec_websocket_protocol, protocols);
  }
  http::write(socket, req);
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  http::read(socket, buffer, res);
  return res;
}

constexpr char kRawUpgrade[] =
    "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
    "Sec-WebSocket-Protocol: wamp.2.json\r\n\r\n";

// Completes the upgrade over a raw socket; returns the response head.
std::string RawUpgrade(tcp::socket& socket, int port) {
  socket.connect(Local(port));
  net::write(socket, net::buffer(kRawUpgrade, sizeof(kRawUpgrade) - 1));
  net::streambuf head;
  size_t n = net::read_until(socket, head, "\r\n\r\n");
  EXPECT_EQ(n, head.size()) << "server sent bytes after the handshake response";
  return std::string(net::buffers_begin(head.data()), net::buffers_begin(head.data()) + n);
}

// Reads raw bytes until the peer closes or `limit` passes.
struct RawReadResult {
  std::string bytes;
  bool closed = false;
  std::chrono::steady_clock::duration elapsed{};
};
RawReadResult ReadUntilClosed(tcp::socket& socket, std::chrono::milliseconds limit) {
  // A private io_context so the wait can be bounded with run_for.
  net::io_context ioc;
  tcp::socket s(ioc, tcp::v4(), socket.release());
  RawReadResult result;
  const auto start = std::chrono::steady_clock::now();
  std::array<char, 4096> chunk;
  std::function<void(beast::error_code, size_t)> on_read = [&](beast::error_code ec, size_t n) {
    result.bytes.append(chunk.data(), n);
    if (ec) {
      result.closed = true;
      result.elapsed = std::chrono::steady_clock::now() - start;
      return;
    }
    s.async_read_some(net::buffer(chunk), on_read);
  };
  s.async_read_some(net::buffer(chunk), on_read);
  ioc.run_for(limit);
  return result;
}

// For state with no condition to wait on (atomics): poll with a deadline.
bool PollUntil(const std::function<bool()>& pred, absl::Duration timeout = absl::Seconds(5)) {
  const absl::Time deadline = absl::Now() + timeout;
  while (!pred()) {
    if (absl::Now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

size_t ResidentBytes() {
  std::ifstream statm("/proc/self/statm");
  size_t pages = 0, resident = 0;
  statm >> pages >> resident;
  return resident * static_cast<size_t>(sysconf(_SC_PAGESIZE));
}

// ---- Handshake ----

TEST(WebSocketServerTest, NegotiatesJsonAndEchoesIt) {
  Recorder recorder;
  auto server = StartServer(recorder);
  ASSERT_NE(server, nullptr);
  ASSERT_GT(server->port(), 0);
  net::io_context ioc;
  Client client(ioc);
  ASSERT_FALSE(client.Connect(server->port(), "wamp.2.json"));
  EXPECT_EQ(client.response.result(), http::status::switching_protocols);
  EXPECT_EQ(client.subprotocol(), "wamp.2.json");
  EXPECT_EQ(client.response[http::field::server], "ThingTank");
  ASSERT_TRUE(recorder.WaitUntil([&] { return recorder.connections_locked() == 1; }));
  auto conn = recorder.conn(0)->connection;
  EXPECT_EQ(conn->serializer(), Serializer::kJson);
  EXPECT_TRUE(conn->peer_is_loopback());
  EXPECT_EQ(conn->peer(), "127.0.0.1:" + std::to_string(client.ws.next_layer().local_endpoint().port()));
}

TEST(WebSocketServerTest, NegotiatesMsgPackAndCbor) {
  Recorder recorder;
  auto server = StartServer(recorder);
  net::io_context ioc;
  Client msgpack(ioc), cbor(ioc);
  ASSERT_FALSE(msgpack.Connect(server->port(), "wamp.2.msgpack"));
  EXPECT_EQ(msgpack.subprotocol(), "wamp.2.msgpack");
  ASSERT_TRUE(recorder.WaitUntil([&] { return recorder.connections_locked() == 1; }));
  EXPECT_EQ(recorder.conn(0)->connection->serializer(), Serializer::kMsgPack);
  ASSERT_FALSE(cbor.Connect(server->port(), "wamp.2.cbor, wamp.2.json"));
  EXPECT_EQ(cbor.subprotocol(), "wamp.2.cbor");
  ASSERT_TRUE(recorder.WaitUntil([&] { return recorder.connections_locked() == 2; }));
  EXPECT_EQ(recorder.conn(1)->connection->serializer(), Serializer::kCbor);
}

TEST(WebSocketServerTest, SkipsUnsupportedOffersInClientOrder) {
  Recorder recorder;
  auto server = StartServer(recorder);
  net::io_context ioc;
  Client client(ioc);
  ASSERT_FALSE(client.Connect(server->port(), "foo, wamp.2.msgpack"));
  EXPECT_EQ(client.subprotocol(), "wamp.2.msgpack");
}

TEST(WebSocketServerTest, RefusesWhenNoSubprotocolIsAcceptable) {
  Recorder recorder;
  auto server = StartServer(recorder);
  for (const std::string offer : {"foo, bar", ""}) {
    SCOPED_TRACE("offer: " + offer);
    // Beast's client reports the refusal (upgrade_declined) ...
    net::io_context ioc;
    Client client(ioc);
    EXPECT_EQ(client.Connect(server->port(), offer), websocket::error::upgrade_declined);
    // ... and the response itself, seen by a plain HTTP client.
    auto res = HttpGet(server->port(), "/ws", /*upgrade_headers=*/true, offer);
    EXPECT_EQ(res.result(), http::status::bad_request);
    EXPECT_EQ(res[http::field::server], "ThingTank");
    EXPECT_TRUE(res[http::field::sec_websocket_protocol].empty());
    EXPECT_NE(res.body().find("wamp.2.json, wamp.2.msgpack, wamp.2.cbor"), std::string::npos)
        << res.body();
  }
  // A later good client still works, and only it got a handler.
  net::io_context ioc;
  Client good(ioc);
  ASSERT_FALSE(good.Connect(server->port(), "wamp.2.json"));
  ASSERT_TRUE(recorder.WaitUntil([&] { return recorder.connections_locked() == 1; }));
  EXPECT_EQ(recorder.connections(), 1u);
}

TEST(WebSocketServerTest, WrongPathIs404AndPlainGetIs426) {
  Recorder recorder;
  auto server = StartServer(recorder);
  auto not_found = HttpGet(server->port(), "/other", /*upgrade_headers=*/true);
  EXPECT_EQ(not_found.result(), http::status::not_found);
  EXPECT_EQ(not_found[http::field::server], "ThingTank");
  auto plain = HttpGet(server->port(), "/ws", /*upgrade_headers=*/false);
  EXPECT_EQ(plain.result(), http::status::upgrade_required);
  EXPECT_FALSE(plain.body().empty());
  EXPECT_EQ(plain[http::field::server], "ThingTank");
  // The query string does not take part in path matching.
  net::io_context ioc;
  Client client(ioc);
  EXPECT_FALSE(client.Connect(server->port(), "wamp.2.json", "/ws?token=x"));
  ASSERT_TRUE(recorder.WaitUntil([&] { return recorder.connections_locked() == 1; }));
  EXPECT_EQ(recorder.connections(), 1u);
}

TEST(WebSocketServerTest, HandshakeTimeoutClosesSilentSocket) {
  Recorder recorder;
  auto options = TestOptions();
  options.handshake_timeout = absl::Milliseconds(200);
  auto server = StartServer(recorder, options);
  net::io_context ioc;
  tcp::socket socket(ioc);
  socket.connect(Local(server->port()));
  RawReadResult read = ReadUntilClosed(socket, std::chrono::seconds(5));
  EXPECT_TRUE(read.closed);
  EXPECT_EQ(read.bytes, "");
  EXPECT_GE(read.elapsed, std::chrono::milliseconds(150));
  EXPECT_LT(read.elapsed, std::chrono::seconds(3));
  EXPECT_EQ(recorder.connections(), 0u);
}

// ---- Messages ----

TEST(WebSocketServerTest, EchoesTextForJsonAndBinaryForMsgPack) {
  Recorder recorder;
  auto server = StartServer(recorder);
  net::io_context ioc;
  Client json(ioc), msgpack(ioc);
  ASSERT_FALSE(json.Connect(server->port(), "wamp.2.json"));
  ASSERT_FALSE(msgpack.Connect(server->port(), "wamp.2.msgpack"));

  json.Write(R"([1,"realm1",{}])", /*text=*/true);
  beast::error_code ec;
  EXPECT_EQ(json.Read(ec), R"([1,"realm1",{}])");
  ASSERT_FALSE(ec);
  EXPECT_TRUE(json.ws.got_text());

  const std::string binary("\x93\x01\xa6realm1\x80\x00\xff", 11);
  msgpack.Write(binary, /*text=*/false);
  EXPECT_EQ(msgpack.Read(ec), binary);
  ASSERT_FALSE(ec);
  EXPECT_TRUE(msgpack.ws.got_binary());
}

TEST(WebSocketServerTest, PreservesOrderOf10000MessagesBothWays) {
  Recorder recorder;
  auto server = StartServer(recorder);
  net::io_context ioc;
  Client client(ioc);
  ASSERT_FALSE(client.Connect(server->port(), "wamp.2.json"));
  constexpr int kCount = 10000;
  std::thread writer([&] {
    for (int i = 0; i < kCount; ++i) client.Write(std::to_string(i));
  });
  int in_order = 0;
  beast::error_code ec;
  for (int i = 0; i < kCount && !ec; ++i) {
    if (client.Read(ec) == std::to_string(i)) ++in_order;
  }
  writer.join();
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_EQ(in_order, kCount);
  auto received = recorder.messages(0);
  ASSERT_EQ(received.size(), static_cast<size_t>(kCount));
  for (int i = 0; i < kCount; ++i) ASSERT_EQ(received[i], std::to_string(i));
  // The last write's completion may still be on its way.
  auto conn = recorder.conn(0)->connection;
  EXPECT_TRUE(PollUntil([&] { return conn->queued_bytes() == 0; }));
}

TEST(WebSocketServerTest, OversizeMessageClosesWith1009) {
  Recorder recorder;
  auto options = TestOptions();
  options.max_message_bytes = 1024;
  auto server = StartServer(recorder, options);
  net::io_context ioc;
  Client client(ioc);
  ASSERT_FALSE(client.Connect(server->port(), "wamp.2.json"));
  client.Write(std::string(1024, 'a'));  // exactly the limit: fine
  beast::error_code ec;
  EXPECT_EQ(client.Read(ec).size(), 1024u);
  client.Write(std::string(1025, 'a'));
  client.Read(ec);
  EXPECT_EQ(ec, websocket::error::closed);
  EXPECT_EQ(client.ws.reason().code, websocket::close_code::too_big);
  ASSERT_TRUE(recorder.WaitClosed(0));
  EXPECT_EQ(recorder.closes(0), std::vector<DisconnectReason>{DisconnectReason::kProtocolViolation});
  EXPECT_EQ(recorder.messages(0).size(), 1u);
}

TEST(WebSocketServerTest, WrongFrameTypeIsAProtocolViolation) {
  Recorder recorder;
  auto server = StartServer(recorder);
  net::io_context ioc;
  Client json(ioc), cbor(ioc);
  ASSERT_FALSE(json.Connect(server->port(), "wamp.2.json"));
  ASSERT_TRUE(recorder.WaitUntil([&] { return recorder.connections_locked() == 1; }));
  ASSERT_FALSE(cbor.Connect(server->port(), "wamp.2.cbor"));
  ASSERT_TRUE(recorder.WaitUntil([&] { return recorder.connections_locked() == 2; }));

  json.Write("binary on json", /*text=*/false);
  cbor.Write("text on cbor", /*text=*/true);
  for (Client* client : {&json, &cbor}) {
    beast::error_code ec;
    client->Read(ec);
    EXPECT_EQ(ec, websocket::error::closed);
    EXPECT_EQ(client->ws.reason().code, websocket::close_code::unknown_data);
  }
  for (size_t i = 0; i < 2; ++i) {
    ASSERT_TRUE(recorder.WaitClosed(i));
    EXPECT_EQ(recorder.closes(i), std::vector<DisconnectReason>{DisconnectReason::kProtocolViolation});
    EXPECT_TRUE(recorder.messages(i).empty());
  }
}

// ---- Closing ----

TEST(WebSocketServerTest, ServerCloseFlushesQueueThenSends1000) {
  constexpr int kCount = 100;
  Recorder recorder([](Connection& c, std::string_view, size_t) {
    for (int i = 0; i < kCount; ++i) c.Send(std::make_shared<const std::string>(std::to_string(i)));
    c.Close(DisconnectReason::kServerClosed);
    EXPECT_FALSE(c.Send(std::make_shared<const std::string>("after close")));
  });
  auto server = StartServer(recorder);
  net::io_context ioc;
  Client client(ioc);
  ASSERT_FALSE(client.Connect(server->port(), "wamp.2.json"));
  client.Write("go");
  beast::error_code ec;
  for (int i = 0; i < kCount; ++i) {
    ASSERT_EQ(client.Read(ec), std::to_string(i)) << ec.message();
  }
  client.Read(ec);
  EXPECT_EQ(ec, websocket::error::closed);
  EXPECT_EQ(client.ws.reason().code, websocket::close_code::normal);
  ASSERT_TRUE(recorder.WaitClosed(0));
  EXPECT_EQ(recorder.closes(0), std::vector<DisconnectReason>{DisconnectReason::kServerClosed});
  EXPECT_FALSE(recorder.conn(0)->connection->Send(std::make_shared<const std::string>("x")));
}

TEST(WebSocketServerTest, ClientCloseAndEofAreClientClosed) {
  Recorder recorder;
  auto server = StartServer(recorder);
  net::io_context ioc;
  Client polite(ioc), rude(ioc);
  ASSERT_FALSE(polite.Connect(server->port(), "wamp.2.json"));
  ASSERT_TRUE(recorder.WaitUntil([&] { return recorder.connections_locked() == 1; }));
  ASSERT_FALSE(rude.Connect(server->port(), "wamp.2.json"));
  ASSERT_TRUE(recorder.WaitUntil([&] { return recorder.connections_locked() == 2; }));
  polite.ws.close(websocket::close_code::normal);
  rude.ws.next_layer().shutdown(tcp::socket::shutdown_send);
  for (size_t i = 0; i < 2; ++i) {
    ASSERT_TRUE(recorder.WaitClosed(i));
    EXPECT_EQ(recorder.closes(i), std::vector<DisconnectReason>{DisconnectReason::kClientClosed});
  }
  auto conn = recorder.conn(0)->connection;
  EXPECT_FALSE(conn->Send(std::make_shared<const std::string>("late")));
  conn->Close(DisconnectReason::kServerClosed);  // no-op, no second OnClose
  server->Shutdown();
  EXPECT_EQ(recorder.closes(0).size(), 1u);
}

TEST(WebSocketServerTest, SlowConsumerIsBoundedAndDisconnected) {
  Recorder recorder(Recorder::Ignore);
  auto options = TestOptions();
  options.max_queued_bytes = 256 * 1024;
  auto server = StartServer(recorder, options);
  net::io_context ioc;
  Client client(ioc);
  ASSERT_FALSE(client.Connect(server->port(), "wamp.2.json", "/ws", /*receive_buffer=*/4096));
  ASSERT_TRUE(recorder.WaitUntil([&] { return recorder.connections_locked() == 1; }));
  auto conn = recorder.conn(0)->connection;

  // The client never reads. Feed the connection as long as it drains (into
  // the kernel buffers); once they are full the queue fills behind a stuck
  // write and the bound is hit.
  constexpr size_t kFrame = 16 * 1024;
  const auto frame = std::make_shared<const std::string>(kFrame, 'x');
  size_t accepted = 0;
  size_t max_queued = 0;
  bool refused = false;
  for (int i = 0; i < 100000 && !refused; ++i) {
    refused = !conn->Send(frame);
    if (!refused) ++accepted;
    max_queued = std::max(max_queued, conn->queued_bytes());
    PollUntil([&] { return conn->queued_bytes() < options.max_queued_bytes / 2; },
              absl::Milliseconds(5));
  }
  ASSERT_TRUE(refused);
  EXPECT_GT(accepted, options.max_queued_bytes / kFrame);  // the kernel took some
  EXPECT_LE(max_queued, options.max_queued_bytes + kFrame);
  ASSERT_TRUE(recorder.WaitClosed(0));
  EXPECT_EQ(recorder.closes(0), std::vector<DisconnectReason>{DisconnectReason::kSlowConsumer});
  EXPECT_FALSE(conn->Send(frame));
  EXPECT_LE(conn->queued_bytes(), kFrame);
}

TEST(WebSocketServerTest, PingTimeoutDropsPeerThatNeverPongs) {
  Recorder recorder;
  auto options = TestOptions();
  options.ping_interval = absl::Milliseconds(100);
  options.ping_timeout = absl::Milliseconds(100);
  auto server = StartServer(recorder, options);
  net::io_context ioc;
  tcp::socket socket(ioc);
  std::string head = RawUpgrade(socket, server->port());
  ASSERT_EQ(head.rfind("HTTP/1.1 101", 0), 0u) << head;
  // Never answers: the server pings once after 100 ms, drops us at 200 ms.
  RawReadResult read = ReadUntilClosed(socket, std::chrono::seconds(5));
  EXPECT_TRUE(read.closed);
  ASSERT_GE(read.bytes.size(), 2u);
  EXPECT_EQ(static_cast<unsigned char>(read.bytes[0]), 0x89);  // FIN + ping
  EXPECT_LT(read.elapsed, std::chrono::seconds(3));
  ASSERT_TRUE(recorder.WaitClosed(0));
  EXPECT_EQ(recorder.closes(0), std::vector<DisconnectReason>{DisconnectReason::kPingTimeout});
}

TEST(WebSocketServerTest, ResponsiveClientOutlivesManyPingIntervals) {
  Recorder recorder;
  auto options = TestOptions();
  options.ping_interval = absl::Milliseconds(50);
  options.ping_timeout = absl::Milliseconds(50);
  auto server = StartServer(recorder, options);
  net::io_context ioc;
  Client client(ioc);
  ASSERT_FALSE(client.Connect(server->port(), "wamp.2.json"));
  ASSERT_TRUE(recorder.WaitUntil([&] { return recorder.connections_locked() == 1; }));
  int pings = 0;
  client.ws.control_callback([&pings](websocket::frame_type kind, beast::string_view) {
    if (kind == websocket::frame_type::ping) ++pings;
  });
  // A pending read answers pings; the server speaks only after 6 idle periods.
  std::thread later([conn = recorder.conn(0)->connection] {
    std::this_thread::sleep_for(std::chrono::milliseconds(600));
    conn->Send(std::make_shared<const std::string>("still here"));
  });
  beast::error_code ec;
  EXPECT_EQ(client.Read(ec), "still here");
  later.join();
  EXPECT_FALSE(ec) << ec.message();
  EXPECT_GE(pings, 3);
  EXPECT_TRUE(recorder.closes(0).empty());
}

TEST(WebSocketServerTest, ThousandConcurrentConnectionsEachCloseOnce) {
  Recorder recorder;
  auto server = StartServer(recorder);
  constexpr int kClients = 1000;
  net::io_context ioc;
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.push_back(std::make_unique<Client>(ioc));
    ASSERT_FALSE(clients.back()->Connect(server->port(), i % 2 ? "wamp.2.json" : "wamp.2.cbor"))
        << i;
  }
  for (int i = 0; i < kClients; ++i) {
    clients[i]->Write("hello " + std::to_string(i), /*text=*/i % 2 == 1);
  }
  beast::error_code ec;
  for (int i = 0; i < kClients; ++i) {
    ASSERT_EQ(clients[i]->Read(ec), "hello " + std::to_string(i)) << ec.message();
  }
  for (auto& client : clients) client->ws.close(websocket::close_code::normal);
  ASSERT_TRUE(recorder.WaitUntil([&] {
    if (recorder.connections_locked() != kClients) return false;
    for (int i = 0; i < kClients; ++i) {
      if (recorder.conn_locked(i).closes.empty()) return false;
    }
    return true;
  }));
  for (int i = 0; i < kClients; ++i) {
    ASSERT_EQ(recorder.closes(i), std::vector<DisconnectReason>{DisconnectReason::kClientClosed});
    ASSERT_EQ(recorder.messages(i).size(), 1u);
  }
}

// ---- Shutdown ----

TEST(WebSocketServerTest, ShutdownClosesEveryoneWith1001) {
  Recorder recorder;
  auto server = StartServer(recorder);
  constexpr int kClients = 8;
  net::io_context ioc;
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.push_back(std::make_unique<Client>(ioc));
    ASSERT_FALSE(clients.back()->Connect(server->port(), "wamp.2.json"));
  }
  // One more that never reads: torn down after the grace period.
  tcp::socket silent(ioc);
  RawUpgrade(silent, server->port());
  ASSERT_TRUE(recorder.WaitUntil([&] { return recorder.connections_locked() == kClients + 1; }));
  // Readers answer the close handshake.
  std::vector<websocket::close_code> codes(kClients, websocket::close_code::none);
  std::vector<std::thread> readers;
  for (int i = 0; i < kClients; ++i) {
    readers.emplace_back([&, i] {
      beast::error_code ec;
      while (!ec) clients[i]->Read(ec);
      if (ec == websocket::error::closed) {
        codes[i] = static_cast<websocket::close_code>(clients[i]->ws.reason().code);
      }
    });
  }
  server->Shutdown();
  for (auto& reader : readers) reader.join();
  for (int i = 0; i <= kClients; ++i) {
    EXPECT_EQ(recorder.closes(i), std::vector<DisconnectReason>{DisconnectReason::kShutdown}) << i;
  }
  for (int i = 0; i < kClients; ++i) EXPECT_EQ(codes[i], websocket::close_code::going_away) << i;
  // Idempotent, and connections stay usable (inert) after the server is gone.
  server->Shutdown();
  auto conn = recorder.conn(0)->connection;
  server.reset();
  EXPECT_FALSE(conn->Send(std::make_shared<const std::string>("x")));
  conn->Close(DisconnectReason::kServerClosed);
  EXPECT_EQ(recorder.closes(0).size(), 1u);
  // New connections are refused.
}

TEST(WebSocketServerTest, StartReportsBadOptions) {
  Recorder recorder;
  auto options = TestOptions();
  options.path = "ws";
  EXPECT_EQ(WebSocketServer::Start(options, recorder.Factory()).status().code(),
            absl::StatusCode::kInvalidArgument);
  auto first = StartServer(recorder);
  options = TestOptions();
  options.port = first->port();
  auto taken = WebSocketServer::Start(options, recorder.Factory());
  EXPECT_EQ(taken.status().code(), absl::StatusCode::kUnavailable);
}

// ---- Memory ----

TEST(WebSocketServerTest, IdleConnectionsStaySmall) {
  Recorder recorder;
  auto server = StartServer(recorder);
  constexpr int kClients = 2000;
  net::io_context ioc;
  std::vector<std::unique_ptr<tcp::socket>> sockets;
  sockets.reserve(kClients);
  // Warm up allocator arenas and the first connection's one-time costs.
  sockets.push_back(std::make_unique<tcp::socket>(ioc));
  RawUpgrade(*sockets.back(), server->port());
  ASSERT_TRUE(recorder.WaitUntil([&] { return recorder.connections_locked() == 1; }));
  const size_t before = ResidentBytes();
  for (int i = 1; i < kClients; ++i) {
    sockets.push_back(std::make_unique<tcp::socket>(ioc));
    RawUpgrade(*sockets.back(), server->port());
  }
  ASSERT_TRUE(recorder.WaitUntil([&] { return recorder.connections_locked() == kClients; }));
  const size_t per_connection = (ResidentBytes() - before) / (kClients - 1);
  std::cout << "resident bytes per idle connection (server side incl. test handler): "
            << per_connection << "\n";
  // 10,000 sessions in 500 MB leaves 50 KB each for everything.
#if defined(__SANITIZE_ADDRESS__)
  EXPECT_LT(per_connection, 64u * 1024);  // ASan's redzones and quarantine
#else
  EXPECT_LT(per_connection, 16u * 1024);
#endif
}

}  // namespace
}  // namespace thingtank::wamp
