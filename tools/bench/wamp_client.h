// The WAMP client side of wamp_bench: WAMP v2 JSON sessions over Boost.Beast
// WebSocket (subprotocol wamp.2.json), written by hand, plus the io threads
// and small synchronization helpers the scenarios share.
//
// Threading: each io_context is run by one thread (IoThreads); a Client lives
// on one context, so that thread is its strand. Request ids are sequential per
// session (1, 2, 3, ...), as the router demands.
#pragma once

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace thingtank::bench::wamp {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using Clock = std::chrono::steady_clock;

// WAMP message types the benchmark reads.
inline constexpr int kWelcome = 2, kAbort = 3, kGoodbye = 6, kError = 8, kSubscribed = 33, kEvent = 36, kResult = 50,
                     kRegistered = 65, kInvocation = 68;

// Where the router listens.
struct Endpoint {
  std::string host = "127.0.0.1";
  int port = 0;
  std::string path = "/ws";
  std::string realm = "realm1";
};

// Failures of every client of a run: a count and the first one. Thread-safe.
class Errors {
 public:
  void Add(const std::string& what);
  uint64_t count() const;
  std::string first() const;

 private:
  mutable std::mutex mu_;
  uint64_t count_ = 0;
  std::string first_;
};

// Counts down to zero; Wait returns false at the deadline. Thread-safe.
class Latch {
 public:
  explicit Latch(int64_t n) : n_(n) {}
  void CountDown();
  bool Wait(double seconds);

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int64_t n_;
};

// `n` io_contexts, each run by one thread until Stop (or destruction).
class IoThreads {
 public:
  explicit IoThreads(int n);
  ~IoThreads() { Stop(); }
  // Round robin; any thread.
  net::io_context& Next() { return *contexts_[next_.fetch_add(1) % contexts_.size()]; }
  // Joins the threads; handlers not run yet are dropped. Idempotent.
  void Stop();

 private:
  std::vector<std::unique_ptr<net::io_context>> contexts_;
  std::vector<net::executor_work_guard<net::io_context::executor_type>> guards_;
  std::vector<std::thread> threads_;
  std::atomic<size_t> next_{0};
};

// "[T,ID,..." -> T and ID (the router writes compact JSON; blanks are skipped anyway).
bool ParseHead(std::string_view m, int* type, uint64_t* id);
// The first integer of the last array in `m` (the benchmark's publishes carry a
// flat args array [send_ns, seq(, "pad")], the last element of EVENT).
bool ParseLastArrayFirstInt(std::string_view m, int64_t* out);

// One WAMP session over one WebSocket connection. The constructor, Start and
// Close may be called from any thread; everything else runs on the client's
// io_context thread (its callbacks too). Lives while a pending operation or an
// owner holds the shared_ptr. Any failure (socket error, ABORT, GOODBYE) is
// added to `errors`; ERROR messages are too, and the session carries on.
class Client : public std::enable_shared_from_this<Client> {
 public:
  // A message after WELCOME, with its type and second element (request or subscription id).
  using MessageFn = std::function<void(std::string_view message, int type, uint64_t id)>;

  Client(net::io_context& context, const Endpoint& endpoint, Errors* errors, std::string name)
      : context_(context), endpoint_(endpoint), ws_(context), errors_(errors), name_(std::move(name)) {}

  net::io_context& context() { return context_; }

  // Connects, upgrades, sends HELLO; `done(true)` on WELCOME, `done(false)` on
  // any failure before. Any thread; once.
  void Start(std::function<void(bool)> done);

  // Client thread only, from here to Close.
  void set_on_message(MessageFn f) { on_message_ = std::move(f); }
  void set_on_written(std::function<void()> f) { on_written_ = std::move(f); }  // after each frame written
  uint64_t NextRequest() { return ++last_request_; }
  size_t queued() const { return queue_.size(); }  // frames not yet written
  void Send(std::string message);                  // queued, written in order

  // Drops what is not being written and closes the WebSocket (1000); `done`
  // once it is closed or failed. Any thread.
  void Close(std::function<void()> done);

 private:
  void Connect();
  void Handshake();
  void Read();
  void OnRead(beast::error_code ec);
  void Dispatch(std::string_view m);
  void Write();
  void OnWrite(beast::error_code ec);
  void DoClose();
  void FinishClose();
  void Fail(const std::string& what);

  net::io_context& context_;
  const Endpoint& endpoint_;
  websocket::stream<beast::tcp_stream> ws_;
  Errors* const errors_;
  const std::string name_;
  websocket::response_type response_;
  beast::flat_buffer buffer_;
  std::deque<std::string> queue_;  // front() is being written while writing_
  MessageFn on_message_;
  std::function<void()> on_written_;
  std::function<void(bool)> on_welcome_;
  std::function<void()> close_done_;
  uint64_t last_request_ = 0;
  bool open_ = false, welcomed_ = false, writing_ = false, failed_ = false, closing_ = false;
  bool close_after_write_ = false;
};

using ClientPtr = std::shared_ptr<Client>;

// Runs `f` on `c`'s thread.
void Post(const ClientPtr& c, std::function<void()> f);
// Returns once everything posted to `c`'s thread before has run (10 s at most).
void Barrier(const ClientPtr& c);
// Starts every client; true once all are welcomed (false on a failure or at the timeout).
bool StartAll(const std::vector<ClientPtr>& clients, Errors* errors, double timeout_s = 60);
// Closes every client (1000), waiting at most `timeout_s`.
void CloseAll(const std::vector<ClientPtr>& clients, double timeout_s = 10);

}  // namespace thingtank::bench::wamp
