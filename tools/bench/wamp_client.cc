// See wamp_client.h.
#include "wamp_client.h"

#include <algorithm>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/http.hpp>
#include <cerrno>
#include <cstdlib>
#include <utility>

namespace thingtank::bench::wamp {
namespace {

namespace http = beast::http;
using tcp = net::ip::tcp;

constexpr const char* kSubprotocol = "wamp.2.json";

}  // namespace

void Errors::Add(const std::string& what) {
  std::lock_guard<std::mutex> lock(mu_);
  if (count_++ == 0) first_ = what;
}

uint64_t Errors::count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return count_;
}

std::string Errors::first() const {
  std::lock_guard<std::mutex> lock(mu_);
  return first_;
}

void Latch::CountDown() {
  std::lock_guard<std::mutex> lock(mu_);
  if (--n_ <= 0) cv_.notify_all();
}

bool Latch::Wait(double seconds) {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, std::chrono::duration<double>(seconds), [&] { return n_ <= 0; });
}

IoThreads::IoThreads(int n) {
  for (int i = 0; i < std::max(n, 1); ++i) {
    contexts_.push_back(std::make_unique<net::io_context>(1));
    guards_.push_back(net::make_work_guard(*contexts_.back()));
  }
  for (auto& c : contexts_) threads_.emplace_back([ctx = c.get()] { ctx->run(); });
}

void IoThreads::Stop() {
  guards_.clear();
  for (auto& c : contexts_) c->stop();
  for (auto& t : threads_) t.join();
  threads_.clear();
}

bool ParseHead(std::string_view m, int* type, uint64_t* id) {
  size_t i = 0;
  auto blanks = [&] {
    while (i < m.size() && (m[i] == ' ' || m[i] == '\n' || m[i] == '\r' || m[i] == '\t')) ++i;
  };
  auto number = [&](uint64_t* out) {
    blanks();
    const size_t start = i;
    uint64_t v = 0;
    while (i < m.size() && m[i] >= '0' && m[i] <= '9') v = v * 10 + static_cast<uint64_t>(m[i++] - '0');
    *out = v;
    return i > start;
  };
  blanks();
  if (i >= m.size() || m[i++] != '[') return false;
  uint64_t t = 0;
  if (!number(&t)) return false;
  *type = static_cast<int>(t);
  *id = 0;
  blanks();
  if (i < m.size() && m[i] == ',') {
    ++i;
    number(id);
  }
  return true;
}

bool ParseLastArrayFirstInt(std::string_view m, int64_t* out) {
  const size_t open = m.rfind('[');
  if (open == std::string_view::npos || open == 0) return false;
  const char* begin = m.data() + open + 1;
  char* end = nullptr;
  errno = 0;
  const long long v = std::strtoll(begin, &end, 10);
  if (end == begin || errno != 0) return false;
  *out = v;
  return true;
}

void Client::Start(std::function<void(bool)> done) {
  net::post(context_, [self = shared_from_this(), done = std::move(done)]() mutable {
    self->on_welcome_ = std::move(done);
    self->Connect();
  });
}

void Client::Send(std::string message) {
  if (failed_ || closing_) return;
  queue_.push_back(std::move(message));
  if (!writing_) Write();
}

void Client::Close(std::function<void()> done) {
  net::post(context_, [self = shared_from_this(), done = std::move(done)]() mutable {
    self->close_done_ = std::move(done);
    if (self->failed_ || !self->open_ || self->closing_) return self->FinishClose();
    self->closing_ = true;
    if (self->writing_) {
      self->queue_.erase(self->queue_.begin() + 1, self->queue_.end());
      self->close_after_write_ = true;
    } else {
      self->queue_.clear();
      self->DoClose();
    }
  });
}

void Client::Connect() {
  auto& stream = beast::get_lowest_layer(ws_);
  stream.expires_after(std::chrono::seconds(30));
  const tcp::endpoint endpoint(net::ip::make_address(endpoint_.host), static_cast<uint16_t>(endpoint_.port));
  stream.async_connect(endpoint, [self = shared_from_this()](beast::error_code ec) {
    if (ec) return self->Fail("connect: " + ec.message());
    self->Handshake();
  });
}

void Client::Handshake() {
  beast::error_code ignored;
  beast::get_lowest_layer(ws_).socket().set_option(tcp::no_delay(true), ignored);
  beast::get_lowest_layer(ws_).expires_never();
  ws_.set_option(websocket::stream_base::timeout::suggested(beast::role_type::client));
  ws_.set_option(websocket::stream_base::decorator(
      [](websocket::request_type& req) { req.set(http::field::sec_websocket_protocol, kSubprotocol); }));
  ws_.read_message_max(16 << 20);
  const std::string host = endpoint_.host + ":" + std::to_string(endpoint_.port);
  ws_.async_handshake(response_, host, endpoint_.path, [self = shared_from_this()](beast::error_code ec) {
    if (ec) return self->Fail("handshake: " + ec.message());
    if (self->response_[http::field::sec_websocket_protocol] != kSubprotocol) {
      return self->Fail("server did not accept subprotocol wamp.2.json");
    }
    self->open_ = true;
    self->ws_.text(true);
    self->Send(R"([1,")" + self->endpoint_.realm +
               R"(",{"roles":{"publisher":{},"subscriber":{},"caller":{},"callee":{}}}])");
    self->Read();
  });
}

void Client::Read() {
  ws_.async_read(buffer_, [self = shared_from_this()](beast::error_code ec, size_t) { self->OnRead(ec); });
}

void Client::OnRead(beast::error_code ec) {
  if (ec) {
    if (closing_) return;
    return Fail("read: " + ec.message());
  }
  const auto data = buffer_.cdata();
  Dispatch(std::string_view(static_cast<const char*>(data.data()), data.size()));
  buffer_.consume(buffer_.size());
  if (!failed_) Read();
}

void Client::Dispatch(std::string_view m) {
  int type = 0;
  uint64_t id = 0;
  if (!ParseHead(m, &type, &id)) return Fail("unparsable message: " + std::string(m.substr(0, 200)));
  if (!welcomed_) {
    if (type != kWelcome) return Fail("expected WELCOME, got " + std::string(m.substr(0, 200)));
    welcomed_ = true;
    if (auto done = std::exchange(on_welcome_, nullptr)) done(true);
    return;
  }
  if (type == kAbort || type == kGoodbye) {
    return Fail("router ended the session: " + std::string(m.substr(0, 200)));
  }
  if (type == kError) {
    errors_->Add(name_ + ": " + std::string(m.substr(0, 200)));
    return;
  }
  if (on_message_) on_message_(m, type, id);
}

void Client::Write() {
  writing_ = true;
  ws_.async_write(net::buffer(queue_.front()),
                  [self = shared_from_this()](beast::error_code ec, size_t) { self->OnWrite(ec); });
}

void Client::OnWrite(beast::error_code ec) {
  writing_ = false;
  if (ec) {
    if (closing_) return FinishClose();
    return Fail("write: " + ec.message());
  }
  queue_.pop_front();
  if (close_after_write_) {
    close_after_write_ = false;
    queue_.clear();
    return DoClose();
  }
  if (!queue_.empty()) Write();
  if (on_written_) on_written_();
}

void Client::DoClose() {
  ws_.async_close(websocket::close_code::normal,
                  [self = shared_from_this()](beast::error_code) { self->FinishClose(); });
}

void Client::FinishClose() {
  closing_ = true;
  beast::error_code ignored;
  beast::get_lowest_layer(ws_).socket().close(ignored);
  if (auto done = std::exchange(close_done_, nullptr)) done();
}

void Client::Fail(const std::string& what) {
  if (failed_ || closing_) return;
  failed_ = true;
  errors_->Add(name_ + ": " + what);
  beast::error_code ignored;
  beast::get_lowest_layer(ws_).socket().close(ignored);
  if (auto done = std::exchange(on_welcome_, nullptr)) done(false);
  if (auto done = std::exchange(close_done_, nullptr)) done();
}

void Post(const ClientPtr& c, std::function<void()> f) { net::post(c->context(), std::move(f)); }

void Barrier(const ClientPtr& c) {
  auto latch = std::make_shared<Latch>(1);
  Post(c, [latch] { latch->CountDown(); });
  latch->Wait(10);
}

bool StartAll(const std::vector<ClientPtr>& clients, Errors* errors, double timeout_s) {
  // Shared with the callbacks: a late one may run after a timeout.
  struct State {
    explicit State(size_t n) : latch(static_cast<int64_t>(n)) {}
    Latch latch;
    std::atomic<bool> ok{true};
  };
  auto state = std::make_shared<State>(clients.size());
  for (auto& c : clients) {
    c->Start([state](bool welcomed) {
      if (!welcomed) state->ok = false;
      state->latch.CountDown();
    });
  }
  if (!state->latch.Wait(timeout_s)) {
    errors->Add("sessions not welcomed within " + std::to_string(timeout_s) + " s");
    return false;
  }
  return state->ok;
}

void CloseAll(const std::vector<ClientPtr>& clients, double timeout_s) {
  auto latch = std::make_shared<Latch>(static_cast<int64_t>(clients.size()));
  for (auto& c : clients) c->Close([latch] { latch->CountDown(); });
  latch->Wait(timeout_s);
}

}  // namespace thingtank::bench::wamp
