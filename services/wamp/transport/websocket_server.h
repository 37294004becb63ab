// The WAMP WebSocket transport (Boost.Beast): accepts connections on one
// port and path, negotiates exactly one WAMP subprotocol, and hands each
// connection's messages to a ConnectionHandler. Knows nothing of WAMP
// semantics beyond the subprotocol names.
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
  kPingTimeout,        // no pong within the timeout
  kShutdown,           // server shutting down
  kError,              // socket error
};
std::string_view DisconnectReasonName(DisconnectReason reason);

// One accepted connection after a successful handshake. Thread-safe.
class Connection {
 public:
  virtual ~Connection() = default;
  // Queues one WebSocket message (text frame for JSON, binary otherwise).
  // Frames are written in the order queued. When the queued bytes exceed
  // the bound, the connection is closed (kSlowConsumer) and false returned.
  // The frame is shared, so one encoded event can go to many connections.
  virtual bool Send(std::shared_ptr<const std::string> frame) = 0;
  // Writes what is queued, then closes the WebSocket (close code 1000 for
  // kServerClosed, 1002 protocol error, 1008 policy/slow consumer, 1001 going away).
  virtual void Close(DisconnectReason reason) = 0;
  virtual Serializer serializer() const = 0;
  virtual const std::string& peer() const = 0;  // "127.0.0.1:54321"
  virtual bool peer_is_loopback() const = 0;
  virtual size_t queued_bytes() const = 0;
};

// Implemented by the router; one per connection.
class ConnectionHandler {
 public:
  virtual ~ConnectionHandler() = default;
  // One complete WebSocket message, in arrival order, never concurrently for
  // the same connection.
  virtual void OnMessage(std::string_view payload) = 0;
  // Called exactly once when the connection is gone, for any reason.
  virtual void OnClose(DisconnectReason reason) = 0;
};

using HandlerFactory =
    std::function<std::unique_ptr<ConnectionHandler>(std::shared_ptr<Connection>)>;

struct WebSocketServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;  // 0 picks a free port
  std::string path = "/ws";
  size_t max_message_bytes = 1 << 20;           // larger: close 1009
  absl::Duration handshake_timeout = absl::Seconds(10);
  absl::Duration ping_interval = absl::Seconds(30);  // 0 disables pings
  absl::Duration ping_timeout = absl::Seconds(30);
  size_t max_queued_bytes = 4 << 20;            // per connection, outgoing
  int io_threads = 2;
};

class WebSocketServer {
 public:
  static absl::StatusOr<std::unique_ptr<WebSocketServer>> Start(
      WebSocketServerOptions options, HandlerFactory factory);
  virtual ~WebSocketServer() = default;
  virtual int port() const = 0;
  // Stops accepting, closes every connection (kShutdown), joins threads.
  virtual void Shutdown() = 0;
};

}  // namespace thingtank::wamp
