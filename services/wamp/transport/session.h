// Internals of the WebSocket transport: one Session per accepted TCP
// connection (HTTP upgrade, then the WebSocket read loop and write queue),
// and the ServerState shared by the server and its sessions.
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket/stream.hpp>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "services/wamp/transport/websocket_server.h"

namespace thingtank::wamp::transport {

namespace net = boost::asio;
namespace beast = boost::beast;

class Session;

// Sockets bound to the concrete io_context executor (see Session::TcpStream).
using Socket = net::basic_stream_socket<net::ip::tcp, net::io_context::executor_type>;

// Owned jointly by the server and every session, so the io_contexts outlive
// every socket (a socket must be destroyed before its io_context) even when
// the router keeps a Connection after the server is gone.
struct ServerState {
  ServerState(WebSocketServerOptions options_in, HandlerFactory factory_in);

  const WebSocketServerOptions options;
  const HandlerFactory factory;
  // One io_context per io thread; never resized after construction.
  std::vector<std::unique_ptr<net::io_context>> contexts;

  // A session is registered from accept until it ends (handshake failure or
  // OnClose). Register is refused once shutdown began.
  bool Register(std::shared_ptr<Session> session);
  void Unregister(Session* session);
  // Refuses further registrations; returns the live sessions.
  std::vector<std::shared_ptr<Session>> StopAndSnapshot();
  std::vector<std::shared_ptr<Session>> Snapshot();
  // Waits until no session is registered; false on timeout.
  bool AwaitEmpty(absl::Duration timeout);

 private:
  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  absl::flat_hash_map<Session*, std::shared_ptr<Session>> sessions_ ABSL_GUARDED_BY(mu_);
};

// One connection. Everything not marked "any thread" runs on the session's
// strand: the single thread running its io_context.
//
// Lifetime: async operations hold shared_from_this(); the handler is
// destroyed right after OnClose. Invariant: the read loop runs from the end
// of the handshake until it fails, and its failure is the one place where
// the connection ends (Finish → OnClose, exactly once). Close and teardown
// only ever make the pending read fail; they never call the handler.
class Session final : public Connection, public std::enable_shared_from_this<Session> {
 public:
  Session(std::shared_ptr<ServerState> server, net::io_context& context,
          Socket socket);
  ~Session() override;

  // Starts reading the HTTP upgrade request. Any thread; call once.
  void Start();
  // Tears the socket down without flushing (shutdown's last resort). Any thread.
  void Abort(DisconnectReason reason);

  // Connection (any thread).
  bool Send(std::shared_ptr<const std::string> frame) override;
  void Close(DisconnectReason reason) override;
  Serializer serializer() const override { return serializer_; }
  const std::string& peer() const override { return peer_; }
  bool peer_is_loopback() const override { return peer_is_loopback_; }
  size_t queued_bytes() const override {
    return queued_bytes_.load(std::memory_order_relaxed);
  }

 private:
  enum class State { kHandshake, kOpen, kClosing, kClosed };
  using Frame = std::shared_ptr<const std::string>;
  // The concrete io_context executor (not tcp_stream's type-erased
  // any_io_executor, which costs a copy per operation), and no
  // permessage-deflate: the template flag drops its code and state.
  using TcpStream = beast::basic_stream<net::ip::tcp, net::io_context::executor_type>;
  using Stream = beast::websocket::stream<TcpStream, /*deflateSupported=*/false>;

  // Runs `f` inline when already on the strand (saves a hop per Send from a
  // handler on the same io thread), otherwise posts it.
  template <class F>
  void RunOnStrand(F&& f);

  // Handshake.
  void ReadRequest();
  void OnRequest(beast::error_code ec);
  void Reject(beast::http::status status, std::string body);
  void OnHandshake(beast::error_code ec);
  void EndHandshake();
  // Read loop.
  void ReadMessage();
  void OnRead(beast::error_code ec);
  void Finish(beast::error_code ec);
  // Write queue.
  void StartWrite();
  void OnWrite(beast::error_code ec);
  // Closing.
  void FailWith(DisconnectReason reason, beast::websocket::close_code code);
  void BeginClose();
  void StartCloseHandshake();
  void TearDown();
  void DropUnsent();

  const std::shared_ptr<ServerState> server_;  // first member: outlives ws_
  const net::io_context::executor_type executor_;
  Stream ws_;
  beast::flat_buffer buffer_;  // the HTTP request, then each message
  std::unique_ptr<beast::http::request_parser<beast::http::empty_body>> parser_;
  std::unique_ptr<ConnectionHandler> handler_;
  std::string peer_;
  bool peer_is_loopback_ = false;
  Serializer serializer_ = Serializer::kJson;

  // Strand-only state.
  bool open_ = false;              // handshake done
  bool finished_ = false;          // read loop ended, OnClose called
  bool unregistered_ = false;
  bool write_in_flight_ = false;
  bool close_after_flush_ = false;
  bool close_started_ = false;
  std::optional<beast::websocket::close_code> close_code_;  // overrides the reason's code
  std::vector<Frame> batch_;  // frames taken from pending_, written one by one
  size_t batch_next_ = 0;     // next (or in-flight) frame of batch_

  // Shared with Send/Close callers on other threads.
  mutable absl::Mutex mu_;
  State state_ ABSL_GUARDED_BY(mu_) = State::kHandshake;
  std::optional<DisconnectReason> close_reason_ ABSL_GUARDED_BY(mu_);
  std::vector<Frame> pending_ ABSL_GUARDED_BY(mu_);
  bool write_scheduled_ ABSL_GUARDED_BY(mu_) = false;  // StartWrite posted or writing
  std::atomic<size_t> queued_bytes_{0};
};

}  // namespace thingtank::wamp::transport
