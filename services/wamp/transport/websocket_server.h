// The WAMP WebSocket transport (Boost.Beast): accepts connections on one
// port and path, negotiates exactly one WAMP subprotocol, and hands each
// connection's messages to a ConnectionHandler. Knows nothing of WAMP
// semantics beyond the subprotocol names.
//
// Threading: `io_threads` threads, each running its own io_context; accepted
// connections are spread over them round-robin. A connection lives on one
// io_context for its whole life, so that context's single thread is the
// connection's strand: its handler's OnMessage/OnClose always run there.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/wamp/codec/codec.h"

namespace thingtank::wamp {

// Why a connection ended (a metric label, so a small fixed set).
enum class DisconnectReason {
  kClientClosed,       // close frame or EOF from the client
  kServerClosed,       // Connection::Close called (e.g. after GOODBYE/ABORT)
  kProtocolViolation,  // bad frame, oversize message, wrong frame type
  kSlowConsumer,       // outgoing queue over its bound
  kPingTimeout,        // nothing (not even a pong) received within the timeout
  kShutdown,           // server shutting down
  kError,              // socket error
};
std::string_view DisconnectReasonName(DisconnectReason reason);

// One accepted connection after a successful handshake. Thread-safe: every
// method may be called from any thread, including from inside the
// connection's own OnMessage/OnClose. Stays valid (methods become no-ops
// returning false/closed values) as long as anyone holds the shared_ptr, even
// after the server is gone.
class Connection {
 public:
  virtual ~Connection() = default;
  // Queues one WebSocket message (text frame for JSON, binary otherwise).
  // Frames are written in the order queued. A frame is always accepted into
  // an empty queue; otherwise, when the queued bytes would exceed
  // max_queued_bytes, the connection is torn down (kSlowConsumer) and false
  // returned. False as well once Close was called or the connection ended.
  // The frame is shared, so one encoded event can go to many connections.
  virtual bool Send(std::shared_ptr<const std::string> frame) = 0;
  // Writes what is queued, then closes the WebSocket (close code 1000 for
  // kServerClosed, 1002 protocol error, 1001 going away for kShutdown, 1011
  // for kError). kSlowConsumer does not flush: the queue is dropped and the
  // socket torn down (a 1008 close frame is sent only if no write is stuck).
  // Idempotent; the first reason wins and is the one given to OnClose.
  virtual void Close(DisconnectReason reason) = 0;
  virtual Serializer serializer() const = 0;
  virtual const std::string& peer() const = 0;  // "127.0.0.1:54321"
  virtual bool peer_is_loopback() const = 0;
  // Bytes accepted by Send and not yet written to the socket.
  virtual size_t queued_bytes() const = 0;
};

// Implemented by the router; one per connection. Owned by the transport and
// destroyed right after OnClose returns (so a handler may hold the
// shared_ptr<Connection> without creating a cycle).
class ConnectionHandler {
 public:
  virtual ~ConnectionHandler() = default;
  // One complete WebSocket message, in arrival order, never concurrently for
  // the same connection. The payload is valid only during the call.
  virtual void OnMessage(std::string_view payload) = 0;
  // Called exactly once when the connection is gone, for any reason.
  virtual void OnClose(DisconnectReason reason) = 0;
};

// Called on the connection's strand after a successful handshake. Returning
// nullptr refuses the connection (close code 1011, no OnClose).
using HandlerFactory =
    std::function<std::unique_ptr<ConnectionHandler>(std::shared_ptr<Connection>)>;

struct WebSocketServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;  // 0 picks a free port
  std::string path = "/ws";
  size_t max_message_bytes = 1 << 20;  // incoming; larger: close 1009
  // TCP accepted to upgrade completed; also bounds the closing handshake.
  absl::Duration handshake_timeout = absl::Seconds(10);
  // Keep-alive (Beast's idle timeout with keep-alive pings). Beast uses one
  // idle period T = ping_interval + ping_timeout: after T/2 with nothing
  // received it pings, and if still nothing arrives by T it drops the
  // connection (kPingTimeout). With the defaults that is exactly "ping after
  // 30 s of silence, drop 30 s later". 0 disables pings and the idle timeout.
  absl::Duration ping_interval = absl::Seconds(30);
  absl::Duration ping_timeout = absl::Seconds(30);
  size_t max_queued_bytes = 4 << 20;  // per connection, outgoing
  int io_threads = 2;
  // Shutdown first lets each connection flush and close (1001); connections
  // still open after this grace period are torn down.
  absl::Duration shutdown_grace = absl::Seconds(2);
};

// Owns the listening socket and the io threads. Start and Shutdown must not
// be called from inside a ConnectionHandler (Shutdown joins the io threads).
class WebSocketServer {
 public:
  static absl::StatusOr<std::unique_ptr<WebSocketServer>> Start(
      WebSocketServerOptions options, HandlerFactory factory);
  virtual ~WebSocketServer() = default;
  virtual int port() const = 0;
  // Stops accepting, closes every connection (kShutdown, OnClose called for
  // each), joins threads. Idempotent; the destructor calls it.
  virtual void Shutdown() = 0;
};

}  // namespace thingtank::wamp
