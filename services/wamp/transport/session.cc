#include "services/wamp/transport/session.h"

#include <algorithm>
#include <chrono>
#include <string_view>
#include <utility>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/websocket.hpp>

#include "services/common/log.h"
#include "services/wamp/transport/subprotocol.h"

namespace thingtank::wamp::transport {
namespace {

namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;

// A read buffer grown past this by one big message is given back afterwards,
// so idle connections stay small.
constexpr size_t kMaxRetainedReadBuffer = 64 * 1024;
constexpr size_t kMaxRequestHeaderBytes = 8 * 1024;
// A slow consumer gets this long to answer our 1008 close frame.
constexpr auto kSlowConsumerCloseTimeout = std::chrono::milliseconds(500);

std::chrono::steady_clock::duration ToChrono(absl::Duration d) {
  return std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      absl::ToChronoNanoseconds(d));
}

std::string_view View(beast::string_view s) { return {s.data(), s.size()}; }

websocket::close_code CloseCodeFor(DisconnectReason reason) {
  switch (reason) {
    case DisconnectReason::kClientClosed:
    case DisconnectReason::kServerClosed:
      return websocket::close_code::normal;
    case DisconnectReason::kProtocolViolation:
      return websocket::close_code::protocol_error;
    case DisconnectReason::kSlowConsumer:
      return websocket::close_code::policy_error;
    case DisconnectReason::kShutdown:
      return websocket::close_code::going_away;
    case DisconnectReason::kPingTimeout:
    case DisconnectReason::kError:
      return websocket::close_code::internal_error;
  }
  return websocket::close_code::internal_error;
}

// Why the read loop failed, when we did not start the close ourselves.
DisconnectReason ReasonForReadError(const beast::error_code& ec) {
  if (ec == websocket::error::closed || ec == net::error::eof) {
    return DisconnectReason::kClientClosed;
  }
  if (ec == beast::error::timeout) return DisconnectReason::kPingTimeout;
  if (ec == websocket::error::message_too_big ||
      ec == websocket::condition::protocol_violation) {
    return DisconnectReason::kProtocolViolation;
  }
  return DisconnectReason::kError;
}

}  // namespace

// ---- ServerState ----

ServerState::ServerState(WebSocketServerOptions options_in, HandlerFactory factory_in)
    : options(std::move(options_in)), factory(std::move(factory_in)) {
  for (int i = 0; i < options.io_threads; ++i) {
    // Concurrency hint 1: each context is run by exactly one thread.
    contexts.push_back(std::make_unique<net::io_context>(1));
  }
}

bool ServerState::Register(std::shared_ptr<Session> session) {
  absl::MutexLock lock(&mu_);
  if (stopping_) return false;
  Session* key = session.get();
  sessions_.emplace(key, std::move(session));
  return true;
}

void ServerState::Unregister(Session* session) {
  std::shared_ptr<Session> removed;  // released after the lock
  absl::MutexLock lock(&mu_);
  auto it = sessions_.find(session);
  if (it == sessions_.end()) return;
  removed = std::move(it->second);
  sessions_.erase(it);
}

std::vector<std::shared_ptr<Session>> ServerState::StopAndSnapshot() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  return Snapshot();
}

std::vector<std::shared_ptr<Session>> ServerState::Snapshot() {
  absl::MutexLock lock(&mu_);
  std::vector<std::shared_ptr<Session>> out;
  out.reserve(sessions_.size());
  for (const auto& [key, session] : sessions_) out.push_back(session);
  return out;
}

bool ServerState::AwaitEmpty(absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  auto empty = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return sessions_.empty(); };
  return mu_.AwaitWithTimeout(absl::Condition(&empty), timeout);
}

// ---- Session: construction and public API ----

Session::Session(std::shared_ptr<ServerState> server, net::io_context& context,
                 Socket socket)
    : server_(std::move(server)),
      executor_(context.get_executor()),
      ws_(std::move(socket)) {
  beast::error_code ec;
  const tcp::endpoint remote = beast::get_lowest_layer(ws_).socket().remote_endpoint(ec);
  if (!ec) {
    const net::ip::address address = remote.address();
    peer_ = address.is_v6() ? "[" + address.to_string() + "]:" + std::to_string(remote.port())
                            : address.to_string() + ":" + std::to_string(remote.port());
    peer_is_loopback_ = address.is_loopback() ||
                        (address.is_v6() && address.to_v6().is_v4_mapped() &&
                         address.to_v6().to_v4().is_loopback());
  }
}

Session::~Session() = default;

template <class F>
void Session::RunOnStrand(F&& f) {
  if (executor_.running_in_this_thread()) {
    f();
  } else {
    net::post(executor_, std::forward<F>(f));
  }
}

void Session::Start() {
  net::dispatch(executor_, [self = shared_from_this()] { self->ReadRequest(); });
}

bool Session::Send(std::shared_ptr<const std::string> frame) {
  if (frame == nullptr) return false;
  const size_t size = frame->size();
  bool start_writer = false;
  {
    absl::MutexLock lock(&mu_);
    if (state_ != State::kOpen) return false;
    // Always accept into an empty queue, so one frame larger than the bound
    // can still go out; queued bytes never exceed the bound + one frame.
    const size_t queued = queued_bytes_.load(std::memory_order_relaxed);
    if (queued != 0 && queued + size > server_->options.max_queued_bytes) {
      state_ = State::kClosing;
      close_reason_ = DisconnectReason::kSlowConsumer;
      pending_.clear();
    } else {
      pending_.push_back(std::move(frame));
      queued_bytes_.fetch_add(size, std::memory_order_relaxed);
      start_writer = !write_scheduled_;
      write_scheduled_ = true;
      frame = nullptr;  // marks "queued"
    }
  }
  if (frame != nullptr) {  // over the bound
    TT_LOG_WARN("wamp websocket slow consumer peer={} queued_bytes={}", peer_,
                queued_bytes_.load(std::memory_order_relaxed));
    RunOnStrand([self = shared_from_this()] { self->BeginClose(); });
    return false;
  }
  if (start_writer) RunOnStrand([self = shared_from_this()] { self->StartWrite(); });
  return true;
}

void Session::Close(DisconnectReason reason) {
  {
    absl::MutexLock lock(&mu_);
    if (state_ == State::kClosing || state_ == State::kClosed) return;
    state_ = State::kClosing;
    close_reason_ = reason;
    if (reason == DisconnectReason::kSlowConsumer) pending_.clear();
  }
  RunOnStrand([self = shared_from_this()] { self->BeginClose(); });
}

void Session::Abort(DisconnectReason reason) {
  {
    absl::MutexLock lock(&mu_);
    if (state_ == State::kClosed) return;
    if (!close_reason_) close_reason_ = reason;
    state_ = State::kClosing;
    pending_.clear();
  }
  net::post(executor_, [self = shared_from_this()] { self->TearDown(); });
}

// ---- Handshake ----

void Session::ReadRequest() {
  parser_ = std::make_unique<http::request_parser<http::empty_body>>();
  parser_->header_limit(kMaxRequestHeaderBytes);
  beast::get_lowest_layer(ws_).expires_after(ToChrono(server_->options.handshake_timeout));
  http::async_read(ws_.next_layer(), buffer_, *parser_,
                   [self = shared_from_this()](beast::error_code ec, size_t) {
                     self->OnRequest(ec);
                   });
}

void Session::OnRequest(beast::error_code ec) {
  if (ec) {  // timeout, EOF, malformed request, or torn down by shutdown
    EndHandshake();
    return;
  }
  {
    absl::MutexLock lock(&mu_);
    if (state_ != State::kHandshake) {
      ec = net::error::operation_aborted;
    }
  }
  if (ec) {
    EndHandshake();
    return;
  }
  const auto& req = parser_->get();
  std::string_view target = View(req.target());
  const std::string_view path = target.substr(0, target.find('?'));
  if (path != server_->options.path) {
    Reject(http::status::not_found, "not found\n");
    return;
  }
  if (!beast::websocket::is_upgrade(req)) {
    Reject(http::status::upgrade_required, "this path only accepts WebSocket upgrades\n");
    return;
  }
  std::optional<Serializer> picked;
  auto [begin, end] = req.equal_range(http::field::sec_websocket_protocol);
  for (auto it = begin; it != end && !picked; ++it) picked = PickSubprotocol(View(it->value()));
  if (!picked) {
    Reject(http::status::bad_request,
           "no supported WebSocket subprotocol offered; supported: " +
               std::string(kSupportedSubprotocols) + "\n");
    return;
  }
  serializer_ = *picked;

  const auto& options = server_->options;
  // The WebSocket stream's own timer takes over from here (Beast requires
  // the tcp_stream's timeout to be off).
  beast::get_lowest_layer(ws_).expires_never();
  websocket::stream_base::timeout timeout;
  timeout.handshake_timeout = ToChrono(options.handshake_timeout);
  if (options.ping_interval > absl::ZeroDuration()) {
    timeout.idle_timeout = ToChrono(options.ping_interval + options.ping_timeout);
    timeout.keep_alive_pings = true;
  } else {
    timeout.idle_timeout = websocket::stream_base::none();
    timeout.keep_alive_pings = false;
  }
  ws_.set_option(timeout);
  const std::string_view name = WireName(serializer_);
  ws_.set_option(websocket::stream_base::decorator([name](websocket::response_type& res) {
    res.set(http::field::server, "ThingTank");
    res.set(http::field::sec_websocket_protocol, beast::string_view(name.data(), name.size()));
  }));
  ws_.read_message_max(options.max_message_bytes);
  ws_.auto_fragment(false);  // one frame per message; no write buffer needed
  ws_.binary(serializer_ != Serializer::kJson);
  ws_.async_accept(req, [self = shared_from_this()](beast::error_code ec) {
    self->OnHandshake(ec);
  });
}

void Session::Reject(http::status status, std::string body) {
  auto res = std::make_shared<http::response<http::string_body>>(status, parser_->get().version());
  res->set(http::field::server, "ThingTank");
  res->set(http::field::content_type, "text/plain; charset=utf-8");
  if (status == http::status::upgrade_required) {
    res->set(http::field::upgrade, "websocket");
  }
  res->keep_alive(false);
  res->body() = std::move(body);
  res->prepare_payload();
  // The handshake deadline is still armed on the tcp_stream: bounded.
  http::async_write(ws_.next_layer(), *res,
                    [self = shared_from_this(), res](beast::error_code, size_t) {
                      self->EndHandshake();
                    });
}

void Session::OnHandshake(beast::error_code ec) {
  parser_.reset();
  if (!ec) {
    absl::MutexLock lock(&mu_);
    if (state_ == State::kHandshake) {
      state_ = State::kOpen;
    } else {
      ec = net::error::operation_aborted;  // shutdown raced the handshake
    }
  }
  if (ec) {
    EndHandshake();
    return;
  }
  open_ = true;
  buffer_ = beast::flat_buffer();  // drop the request's buffer
  handler_ = server_->factory(shared_from_this());
  if (handler_ == nullptr) FailWith(DisconnectReason::kServerClosed, websocket::close_code::internal_error);
  ReadMessage();
}

void Session::EndHandshake() {
  {
    absl::MutexLock lock(&mu_);
    state_ = State::kClosed;
  }
  parser_.reset();
  finished_ = true;
  beast::error_code ignored;
  beast::get_lowest_layer(ws_).socket().shutdown(tcp::socket::shutdown_both, ignored);
  beast::get_lowest_layer(ws_).close();
  buffer_ = beast::flat_buffer();
  if (!unregistered_) {
    unregistered_ = true;
    server_->Unregister(this);
  }
}

// ---- Read loop ----

void Session::ReadMessage() {
  ws_.async_read(buffer_, [self = shared_from_this()](beast::error_code ec, size_t) {
    self->OnRead(ec);
  });
}

void Session::OnRead(beast::error_code ec) {
  if (ec) {
    Finish(ec);
    return;
  }
  if (ws_.got_text() != (serializer_ == Serializer::kJson)) {
    FailWith(DisconnectReason::kProtocolViolation, websocket::close_code::unknown_data);
  } else if (handler_ != nullptr) {
    bool open;
    {
      absl::MutexLock lock(&mu_);
      open = state_ == State::kOpen;
    }
    // After Close, messages are read (to complete the close handshake) but
    // no longer delivered.
    if (open) {
      const auto data = buffer_.cdata();
      handler_->OnMessage(std::string_view(static_cast<const char*>(data.data()), data.size()));
    }
  }
  buffer_.consume(buffer_.size());
  if (buffer_.capacity() > kMaxRetainedReadBuffer) buffer_.shrink_to_fit();
  ReadMessage();
}

void Session::Finish(beast::error_code ec) {
  if (finished_) return;
  finished_ = true;
  DisconnectReason reason;
  {
    absl::MutexLock lock(&mu_);
    reason = close_reason_ ? *close_reason_ : ReasonForReadError(ec);
    state_ = State::kClosed;
    pending_.clear();
  }
  if (!write_in_flight_) DropUnsent();
  TearDown();
  if (handler_ != nullptr) {
    // Destroyed after OnClose returns: breaks the handler → Connection cycle.
    std::unique_ptr<ConnectionHandler> handler = std::move(handler_);
    handler->OnClose(reason);
  }
  buffer_ = beast::flat_buffer();
  if (!unregistered_) {
    unregistered_ = true;
    server_->Unregister(this);
  }
}

// ---- Write queue ----

void Session::StartWrite() {
  // After the close frame no data frame may follow (the queue was flushed
  // before it, or dropped for a slow consumer).
  if (write_in_flight_ || finished_ || close_started_) return;
  if (batch_next_ == batch_.size()) {
    batch_.clear();
    batch_next_ = 0;
    {
      absl::MutexLock lock(&mu_);
      batch_.swap(pending_);  // pending_ keeps the old capacity: no allocation
      if (batch_.empty()) write_scheduled_ = false;
    }
    if (batch_.empty()) {
      if (close_after_flush_) StartCloseHandshake();
      return;
    }
  }
  write_in_flight_ = true;
  ws_.async_write(net::buffer(*batch_[batch_next_]),
                  [self = shared_from_this()](beast::error_code ec, size_t) { self->OnWrite(ec); });
}

void Session::OnWrite(beast::error_code ec) {
  write_in_flight_ = false;
  if (batch_next_ < batch_.size()) {
    queued_bytes_.fetch_sub(batch_[batch_next_]->size(), std::memory_order_relaxed);
    batch_[batch_next_].reset();
    ++batch_next_;
  }
  if (ec || finished_) {
    if (ec) {
      absl::MutexLock lock(&mu_);
      if (!close_reason_) close_reason_ = DisconnectReason::kError;
      if (state_ == State::kOpen) state_ = State::kClosing;
      pending_.clear();
    }
    DropUnsent();
    TearDown();  // the read loop fails and ends the connection
    return;
  }
  StartWrite();
}

void Session::DropUnsent() {
  size_t queued = 0;
  if (write_in_flight_) {
    batch_.resize(batch_next_ + 1);  // the in-flight frame is released by OnWrite
    queued = batch_[batch_next_]->size();
  } else {
    batch_.clear();
    batch_next_ = 0;
  }
  absl::MutexLock lock(&mu_);
  pending_.clear();
  queued_bytes_.store(queued, std::memory_order_relaxed);
}

// ---- Closing ----

void Session::FailWith(DisconnectReason reason, websocket::close_code code) {
  {
    absl::MutexLock lock(&mu_);
    if (state_ != State::kOpen) return;
    state_ = State::kClosing;
    close_reason_ = reason;
  }
  close_code_ = code;
  BeginClose();
}

void Session::BeginClose() {
  if (finished_ || close_started_) return;
  if (!open_) {  // still in the HTTP handshake: nothing to flush
    TearDown();
    return;
  }
  DisconnectReason reason;
  bool writer_active;
  {
    absl::MutexLock lock(&mu_);
    reason = close_reason_.value_or(DisconnectReason::kServerClosed);
    writer_active = write_scheduled_;
  }
  if (reason == DisconnectReason::kSlowConsumer) {
    // The peer is not reading: do not wait for the queue. If a write is
    // stuck the socket buffers are full and not even a close frame would get
    // through, so tear down; otherwise try a 1008 close (bounded by the
    // closing handshake timeout).
    DropUnsent();
    if (write_in_flight_) {
      TearDown();
    } else {
      websocket::stream_base::timeout timeout;
      ws_.get_option(timeout);
      timeout.handshake_timeout = std::min<std::chrono::steady_clock::duration>(
          timeout.handshake_timeout, kSlowConsumerCloseTimeout);
      ws_.set_option(timeout);  // bounds the closing handshake
      StartCloseHandshake();
    }
    return;
  }
  close_after_flush_ = true;
  if (!writer_active) StartCloseHandshake();
}

void Session::StartCloseHandshake() {
  if (finished_ || close_started_) return;
  close_started_ = true;
  DisconnectReason reason;
  {
    absl::MutexLock lock(&mu_);
    reason = close_reason_.value_or(DisconnectReason::kServerClosed);
  }
  const websocket::close_code code = close_code_.value_or(CloseCodeFor(reason));
  // The pending read completes (operation_aborted) once the close handshake
  // is done; that ends the connection.
  ws_.async_close(code, [self = shared_from_this()](beast::error_code ec) {
    if (ec) self->TearDown();
  });
}

void Session::TearDown() {
  auto& socket = beast::get_lowest_layer(ws_).socket();
  if (!socket.is_open()) return;
  beast::error_code ignored;
  socket.shutdown(tcp::socket::shutdown_both, ignored);
  beast::get_lowest_layer(ws_).close();
}

}  // namespace thingtank::wamp::transport
