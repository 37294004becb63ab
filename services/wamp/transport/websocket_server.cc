#include "services/wamp/transport/websocket_server.h"

#include <future>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include "absl/strings/str_cat.h"
#include "services/common/log.h"
#include "services/wamp/transport/session.h"

namespace thingtank::wamp {

std::string_view DisconnectReasonName(DisconnectReason reason) {
  switch (reason) {
    case DisconnectReason::kClientClosed: return "client_closed";
    case DisconnectReason::kServerClosed: return "server_closed";
    case DisconnectReason::kProtocolViolation: return "protocol_violation";
    case DisconnectReason::kSlowConsumer: return "slow_consumer";
    case DisconnectReason::kPingTimeout: return "ping_timeout";
    case DisconnectReason::kShutdown: return "shutdown";
    case DisconnectReason::kError: return "error";
  }
  return "unknown";
}

namespace transport {
namespace {

using tcp = net::ip::tcp;

// Waits this long before accepting again after an accept error (e.g. out of
// file descriptors), instead of spinning.
constexpr auto kAcceptRetryDelay = std::chrono::milliseconds(50);
// After the grace period, teardown is immediate; this only bounds a handler
// whose OnClose blocks.
constexpr absl::Duration kAbortWait = absl::Seconds(10);

class WebSocketServerImpl final : public WebSocketServer {
 public:
  explicit WebSocketServerImpl(std::shared_ptr<ServerState> state)
      : state_(std::move(state)),
        acceptor_(*state_->contexts[0]),
        retry_timer_(*state_->contexts[0]) {}

  ~WebSocketServerImpl() override { Shutdown(); }

  absl::Status Listen() {
    const auto& options = state_->options;
    beast::error_code ec;
    net::ip::address address = net::ip::make_address(options.host, ec);
    if (ec) {
      tcp::resolver resolver(*state_->contexts[0]);
      auto results = resolver.resolve(options.host, "", ec);
      if (ec || results.empty()) {
        return absl::InvalidArgumentError(
            absl::StrCat("host: cannot resolve \"", options.host, "\": ", ec.message()));
      }
      address = results.begin()->endpoint().address();
    }
    const tcp::endpoint endpoint(address, static_cast<unsigned short>(options.port));
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
    if (ec) {
      return absl::UnavailableError(absl::StrCat("listen on ", options.host, ":", options.port,
                                                 ": ", ec.message()));
    }
    port_ = acceptor_.local_endpoint().port();
    return absl::OkStatus();
  }

  void Run() {
    for (auto& context : state_->contexts) {
      work_.push_back(net::make_work_guard(*context));
    }
    net::post(acceptor_.get_executor(), [this] { Accept(); });
    for (auto& context : state_->contexts) {
      threads_.emplace_back([ctx = context.get()] { ctx->run(); });
    }
  }

  int port() const override { return port_; }

  void Shutdown() override {
    std::call_once(shutdown_once_, [this] { DoShutdown(); });
  }

 private:
  void Accept() {
    net::io_context& target = *state_->contexts[next_context_++ % state_->contexts.size()];
    // Accepting "into" the target context yields a socket bound to its executor.
    acceptor_.async_accept(target, [this, &target](beast::error_code ec, Socket socket) {
      OnAccept(ec, target, std::move(socket));
    });
  }

  void OnAccept(beast::error_code ec, net::io_context& target, Socket socket) {
    if (!acceptor_.is_open()) return;  // shutting down
    if (ec) {
      TT_LOG_WARN("wamp websocket accept failed error={}", ec.message());
      retry_timer_.expires_after(kAcceptRetryDelay);
      retry_timer_.async_wait([this](beast::error_code wait_ec) {
        if (!wait_ec && acceptor_.is_open()) Accept();
      });
      return;
    }
    socket.set_option(tcp::no_delay(true), ec);
    auto session = std::make_shared<Session>(state_, target, std::move(socket));
    if (state_->Register(session)) session->Start();
    Accept();
  }

  void DoShutdown() {
    if (threads_.empty()) {  // never ran (Listen failed)
      beast::error_code ignored;
      acceptor_.close(ignored);
      return;
    }
    // 1. Stop accepting (on the acceptor's thread; wait so no accept races).
    std::promise<void> closed;
    net::post(acceptor_.get_executor(), [this, &closed] {
      beast::error_code ignored;
      acceptor_.close(ignored);
      retry_timer_.cancel();
      closed.set_value();
    });
    closed.get_future().wait();

    // 2. Close everyone politely (flush, then 1001), then impolitely.
    for (const auto& session : state_->StopAndSnapshot()) {
      session->Close(DisconnectReason::kShutdown);
    }
    if (!state_->AwaitEmpty(state_->options.shutdown_grace)) {
      for (const auto& session : state_->Snapshot()) session->Abort(DisconnectReason::kShutdown);
      if (!state_->AwaitEmpty(kAbortWait)) {
        TT_LOG_ERROR("wamp websocket shutdown: connections still open after teardown");
      }
    }

    // 3. Stop the threads. Beast's idle timers may still be armed (they hold
    // only weak references), so stop rather than wait for run() to drain.
    for (auto& guard : work_) guard.reset();
    for (auto& context : state_->contexts) context->stop();
    for (auto& thread : threads_) thread.join();
    threads_.clear();
    // Completions that became ready meanwhile (aborted socket operations)
    // hold sessions; run them so nothing keeps a session, and through it the
    // io_contexts, alive in a cycle.
    for (auto& context : state_->contexts) {
      context->restart();
      context->poll();
    }
    TT_LOG_INFO("wamp websocket server stopped port={}", port_);
  }

  std::shared_ptr<ServerState> state_;  // first: outlives the acceptor
  tcp::acceptor acceptor_;
  net::steady_timer retry_timer_;
  std::vector<net::executor_work_guard<net::io_context::executor_type>> work_;
  std::vector<std::thread> threads_;
  size_t next_context_ = 0;  // acceptor thread only
  int port_ = 0;
  std::once_flag shutdown_once_;
};

}  // namespace
}  // namespace transport

absl::StatusOr<std::unique_ptr<WebSocketServer>> WebSocketServer::Start(
    WebSocketServerOptions options, HandlerFactory factory) {
  if (!factory) return absl::InvalidArgumentError("factory: must be set");
  if (options.port < 0 || options.port > 65535) {
    return absl::InvalidArgumentError("port: must be in [0, 65535]");
  }
  if (options.path.empty() || options.path[0] != '/') {
    return absl::InvalidArgumentError("path: must start with '/'");
  }
  if (options.io_threads < 1) return absl::InvalidArgumentError("io_threads: must be >= 1");
  if (options.max_message_bytes == 0) {
    return absl::InvalidArgumentError("max_message_bytes: must be > 0");
  }
  if (options.max_queued_bytes == 0) {
    return absl::InvalidArgumentError("max_queued_bytes: must be > 0");
  }
  if (options.handshake_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("handshake_timeout: must be > 0");
  }
  if (options.ping_interval < absl::ZeroDuration() || options.ping_timeout < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("ping_interval, ping_timeout: must be >= 0");
  }
  auto state = std::make_shared<transport::ServerState>(std::move(options), std::move(factory));
  auto server = std::make_unique<transport::WebSocketServerImpl>(state);
  if (absl::Status status = server->Listen(); !status.ok()) return status;
  server->Run();
  TT_LOG_INFO("wamp websocket listening host={} port={} path={} io_threads={}",
              state->options.host, server->port(), state->options.path,
              state->options.io_threads);
  return std::unique_ptr<WebSocketServer>(std::move(server));
}

}  // namespace thingtank::wamp
