// wamp_bench: load generator for the WAMP router of `thingtank serve` (the WAMP
// router issue, "Benchmark").
//
// Boost.Beast WebSocket clients speaking WAMP v2 JSON (subprotocol wamp.2.json)
// by hand, on --threads io_context threads (one context per thread; a client
// lives on one context, so that thread is its strand). Scenarios:
//   fanout      1 publisher -> --subscribers subscribers of one topic: deliveries/s
//   one_to_one  1 publisher -> 1 subscriber: events/s
//   rpc         --callers sessions keep --outstanding calls in flight (in total) to
//               one callee registered for com.bench.echo: calls/s, call latency
//   latency     1 -> 1 at --rate events/s, open loop: every --tick-us (1000) the publisher
//               sends what is due, so bursts of rate/1000 (at 100 us the load generator's
//               own CPU saturates this 2-core machine); each publish carries its
//               steady-clock send time, the subscriber computes the publish-to-event
//               latency (same process, same clock)
//   idle        opens --sessions sessions (HELLO/WELCOME on each) and reports the
//               server's VmRSS (--server-pid) before and after
// Publishes are unacknowledged and pipelined; a window (--window events published
// and not yet received by the slowest subscriber) keeps the publisher from running
// away. What subscribers actually receive is what is counted.
//
// Request ids are sequential per session (1, 2, 3, ...), as the router demands.
// Uses the WebSocket wire only (no server internals).

#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iostream>
#include <iterator>
#include <limits>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "wamp_bench_report.h"
#include "wamp_client.h"

namespace {

namespace net = boost::asio;
using Json = nlohmann::json;
namespace w = ::thingtank::bench::wamp;
using w::Barrier;
using w::Client;
using w::ClientPtr;
using w::Clock;
using w::CloseAll;
using w::Errors;
using w::IoThreads;
using w::Latch;
using w::Post;
using w::StartAll;
using w::CpuWindow;
using w::Percentiles;
using w::Print;
using w::Result;
using w::RssKb;
using w::ToJson;

constexpr const char* kProgram = "wamp_bench";
constexpr const char* kProcedure = "com.bench.echo";

constexpr size_t kMaxQueuedPublishes = 64;      // publisher's own write queue (closed loop)
constexpr size_t kMaxLatencyQueue = 1'000'000;  // open loop: give up beyond this backlog

struct Options {
  w::Endpoint endpoint;
  std::string scenario = "all";
  double seconds = 3;
  double warmup = 1;
  int threads = 1;
  int subscribers = 100;
  int window = 1000;
  int callers = 4;
  int outstanding = 32;
  int sessions = 10000;
  int connect_parallel = 256;
  int server_pid = 0;
  int tick_us = 1000;  // latency: the publisher sends what is due every tick
  double rate = 0;     // latency: events/s; 0 = half of a one_to_one pass run first
  int payload_bytes = 0;
  std::string json_path;
};

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
}

double SecondsSince(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

void SleepSeconds(double s) { std::this_thread::sleep_for(std::chrono::duration<double>(s)); }

// Waits until received() reaches `want` or makes no progress for 2 s; returns received().
uint64_t Drain(uint64_t want, const std::function<uint64_t()>& received) {
  uint64_t last = received();
  auto last_progress = Clock::now();
  while (last < want && Clock::now() - last_progress < std::chrono::seconds(2)) {
    SleepSeconds(0.01);
    const uint64_t now = received();
    if (now != last) last_progress = Clock::now();
    last = now;
  }
  return last;
}

std::string PublishMessage(uint64_t request, const std::string& topic, int64_t send_ns, uint64_t seq,
                           const std::string& pad) {
  std::string m = "[16,";
  m += std::to_string(request);
  m += ",{},\"";
  m += topic;
  m += "\",[";
  m += std::to_string(send_ns);
  m += ',';
  m += std::to_string(seq);
  m += pad;
  m += "]]";
  return m;
}

std::string Pad(const Options& o) {
  return o.payload_bytes > 0 ? ",\"" + std::string(static_cast<size_t>(o.payload_bytes), 'x') + "\"" : "";
}

// Subscribes every subscriber to `topic`; true once all are SUBSCRIBED.
bool SubscribeAll(const std::vector<ClientPtr>& subs, const std::string& topic, Errors* errors) {
  Latch latch(static_cast<int64_t>(subs.size()));
  for (auto& s : subs) {
    Post(s, [s, topic, &latch] {
      const uint64_t req = s->NextRequest();
      s->set_on_message([&latch, req](std::string_view, int type, uint64_t id) {
        if (type == w::kSubscribed && id == req) latch.CountDown();
      });
      s->Send("[32," + std::to_string(req) + ",{},\"" + topic + "\"]");
    });
  }
  if (!latch.Wait(30)) {
    errors->Add("SUBSCRIBED not received within 30 s");
    return false;
  }
  return true;
}

// ---------------------------------------------------------------- pub/sub throughput

// 1 publisher, N subscribers, closed loop: the publisher keeps at most --window
// events ahead of the slowest subscriber (and at most kMaxQueuedPublishes in
// its own write queue).
class PubSubThroughput {
 public:
  PubSubThroughput(const Options& o, std::string scenario, int subscribers)
      : o_(o),
        scenario_(std::move(scenario)),
        topic_("com.bench." + scenario_),
        io_(o.threads),
        window_(static_cast<uint64_t>(std::max(o.window, 2))),
        received_(static_cast<size_t>(subscribers)) {
    pub_ = std::make_shared<Client>(io_.Next(), o_.endpoint, &errors_, "publisher");
    for (int i = 0; i < subscribers; ++i) {
      subs_.push_back(std::make_shared<Client>(io_.Next(), o_.endpoint, &errors_, "subscriber " + std::to_string(i)));
    }
  }

  Result Run() {
    Result r;
    r.scenario = scenario_;
    r.metric = subs_.size() == 1 ? "events_per_s" : "deliveries_per_s";
    std::vector<ClientPtr> all = subs_;
    all.push_back(pub_);
    if (StartAll(all, &errors_) && SubscribeAll(subs_, topic_, &errors_)) {
      for (size_t i = 0; i < subs_.size(); ++i) {
        Post(subs_[i], [this, i] {
          subs_[i]->set_on_message([this, i](std::string_view, int type, uint64_t) {
            if (type == w::kEvent) OnEvent(i);
          });
        });
      }
      Post(pub_, [this] {
        pub_->set_on_written([this] { Pump(); });
        Pump();
      });
      SleepSeconds(o_.warmup);
      const uint64_t d0 = TotalReceived(), p0 = published_.load();
      const auto t0 = Clock::now();
      CpuWindow cpu(o_.server_pid, scenario_);
      SleepSeconds(o_.seconds);
      const uint64_t d1 = TotalReceived(), p1 = published_.load();
      r.seconds = SecondsSince(t0);
      cpu.End(&r);
      stop_ = true;
      Barrier(pub_);  // published_ is final from here
      r.count = d1 - d0;
      r.value = static_cast<double>(r.count) / r.seconds;
      r.extra["publishes_per_s"] = static_cast<double>(p1 - p0) / r.seconds;
      r.extra["subscribers"] = subs_.size();
      r.extra["window"] = window_;
      // Everything published must arrive.
      const uint64_t want = published_.load() * subs_.size();
      r.extra["lost"] = want - std::min(want, Drain(want, [this] { return TotalReceived(); }));
    }
    CloseAll(all);
    io_.Stop();
    r.errors = errors_.count();
    r.first_error = errors_.first();
    return r;
  }

 private:
  uint64_t MinReceived() const {
    uint64_t m = std::numeric_limits<uint64_t>::max();
    for (const auto& r : received_) m = std::min(m, r.load());
    return m;
  }
  uint64_t TotalReceived() const {
    uint64_t t = 0;
    for (const auto& r : received_) t += r.load();
    return t;
  }

  // Publisher thread.
  void Pump() {
    while (!stop_ && pub_->queued() < kMaxQueuedPublishes) {
      const uint64_t published = published_.load();
      if (published - MinReceived() >= window_) {
        paused_.store(true);
        // A subscriber may have caught up before it could see paused_.
        if (published - MinReceived() >= window_) return;
        paused_.store(false);
      }
      pub_->Send(PublishMessage(pub_->NextRequest(), topic_, NowNs(), published, pad_));
      published_.store(published + 1);
    }
  }

  // Subscriber i's thread. The slowest subscriber (the one that paused the
  // publisher) resumes it when it is half a window behind.
  void OnEvent(size_t i) {
    const uint64_t received = received_[i].fetch_add(1) + 1;
    if (paused_.load() && published_.load() - received == window_ / 2 && paused_.exchange(false)) {
      Post(pub_, [this] { Pump(); });
    }
  }

  const Options& o_;
  const std::string scenario_, topic_;
  IoThreads io_;
  Errors errors_;
  const uint64_t window_;
  const std::string pad_ = Pad(o_);
  ClientPtr pub_;
  std::vector<ClientPtr> subs_;
  std::vector<std::atomic<uint64_t>> received_;
  std::atomic<uint64_t> published_{0};
  std::atomic<bool> paused_{false}, stop_{false};
};

// ---------------------------------------------------------------- latency

// 1 -> 1 at a fixed rate, open loop: every --tick-us the publisher sends what is due
// by then, each stamped with the steady clock as it is built.
class PubSubLatency {
 public:
  PubSubLatency(const Options& o, double rate)
      : o_(o),
        rate_(rate),
        io_(o.threads),
        pub_(std::make_shared<Client>(io_.Next(), o_.endpoint, &errors_, "publisher")),
        sub_(std::make_shared<Client>(io_.Next(), o_.endpoint, &errors_, "subscriber")),
        timer_(pub_->context()) {}

  Result Run() {
    Result r;
    r.scenario = "latency";
    r.metric = "p99_us";
    if (StartAll({pub_, sub_}, &errors_) && SubscribeAll({sub_}, topic_, &errors_)) {
      Post(sub_, [this] {
        sub_->set_on_message([this](std::string_view m, int type, uint64_t) {
          if (type != w::kEvent) return;
          int64_t sent = 0;
          if (!w::ParseLastArrayFirstInt(m, &sent)) return errors_.Add("EVENT without a send time");
          const int64_t latency = NowNs() - sent;
          received_.fetch_add(1);
          if (measuring_.load()) samples_.push_back(latency);  // subscriber thread; read after Stop
        });
      });
      Post(pub_, [this] {
        start_ = Clock::now();
        next_tick_ = start_;
        Tick();
      });
      SleepSeconds(o_.warmup);
      const uint64_t r0 = received_.load(), s0 = sent_.load();
      measuring_ = true;
      const auto t0 = Clock::now();
      CpuWindow cpu(o_.server_pid, "latency");
      SleepSeconds(o_.seconds);
      measuring_ = false;
      const uint64_t r1 = received_.load(), s1 = sent_.load();
      r.seconds = SecondsSince(t0);
      cpu.End(&r);
      stop_ = true;
      Barrier(pub_);  // sent_ is final from here
      r.count = r1 - r0;
      r.extra["target_rate"] = rate_;
      r.extra["tick_us"] = o_.tick_us;
      r.extra["sent_per_s"] = static_cast<double>(s1 - s0) / r.seconds;
      r.extra["received_per_s"] = static_cast<double>(r1 - r0) / r.seconds;
      const uint64_t want = sent_.load();
      r.extra["lost"] = want - std::min(want, Drain(want, [this] { return received_.load(); }));
    }
    Post(pub_, [this] { timer_.cancel(); });
    CloseAll({pub_, sub_});
    io_.Stop();
    Percentiles(std::move(samples_), &r);
    r.value = r.p99_us;
    r.errors = errors_.count();
    r.first_error = errors_.first();
    return r;
  }

 private:
  // Publisher thread.
  void Tick() {
    if (stop_) return;
    const double elapsed = std::chrono::duration<double>(Clock::now() - start_).count();
    const auto due = static_cast<uint64_t>(elapsed * rate_);
    for (uint64_t n = sent_.load(); n < due; ++n) {
      pub_->Send(PublishMessage(pub_->NextRequest(), topic_, NowNs(), n, pad_));
      sent_.store(n + 1);
    }
    if (pub_->queued() > kMaxLatencyQueue) {
      errors_.Add("publisher backlog over " + std::to_string(kMaxLatencyQueue) + " messages; rate too high");
      stop_ = true;
      return;
    }
    next_tick_ += std::chrono::microseconds(std::max(o_.tick_us, 10));
    timer_.expires_at(next_tick_);
    timer_.async_wait([this](boost::system::error_code ec) {
      if (!ec) Tick();
    });
  }

  const Options& o_;
  const double rate_;
  const std::string topic_ = "com.bench.latency";
  const std::string pad_ = Pad(o_);
  Errors errors_;
  IoThreads io_;
  ClientPtr pub_, sub_;
  net::steady_timer timer_;
  Clock::time_point start_, next_tick_;
  std::atomic<uint64_t> sent_{0}, received_{0};
  std::atomic<bool> measuring_{false}, stop_{false};
  std::vector<int64_t> samples_;
};

// ---------------------------------------------------------------- rpc

// --callers sessions share --outstanding calls to one callee that echoes the
// arguments back (YIELD as soon as INVOCATION arrives).
class RoutedRpc {
 public:
  explicit RoutedRpc(const Options& o) : o_(o), io_(o.threads) {
    callee_ = std::make_shared<Client>(io_.Next(), o_.endpoint, &errors_, "callee");
    const int n = std::max(o_.callers, 1);
    for (int i = 0; i < n; ++i) {
      auto c = std::make_unique<Caller>();
      c->client = std::make_shared<Client>(io_.Next(), o_.endpoint, &errors_, "caller " + std::to_string(i));
      c->window = std::max(1, o_.outstanding / n + (i < o_.outstanding % n ? 1 : 0));
      c->sent_ns.resize(static_cast<size_t>(c->window) * 4);
      callers_.push_back(std::move(c));
    }
  }

  Result Run() {
    Result r;
    r.scenario = "rpc";
    r.metric = "calls_per_s";
    std::vector<ClientPtr> all{callee_};
    for (auto& c : callers_) all.push_back(c->client);
    if (StartAll(all, &errors_) && Register()) {
      Post(callee_, [this] {
        callee_->set_on_message([this](std::string_view m, int type, uint64_t id) {
          if (type != w::kInvocation) return;
          // INVOCATION [68, id, registration, details, args]: args is the last array.
          const size_t open = m.rfind('[');
          std::string yield = "[70," + std::to_string(id) + ",{},";
          yield.append(m.substr(open, m.size() - 1 - open));
          yield += ']';
          callee_->Send(std::move(yield));
        });
      });
      for (auto& c : callers_) {
        Caller* caller = c.get();
        Post(caller->client, [this, caller] {
          caller->client->set_on_message([this, caller](std::string_view, int type, uint64_t id) {
            if (type == w::kResult) OnResult(caller, id);
          });
          for (int i = 0; i < caller->window; ++i) Call(caller);
        });
      }
      SleepSeconds(o_.warmup);
      const uint64_t c0 = Completed();
      measuring_ = true;
      const auto t0 = Clock::now();
      CpuWindow cpu(o_.server_pid, "rpc");
      SleepSeconds(o_.seconds);
      measuring_ = false;
      const uint64_t c1 = Completed();
      r.seconds = SecondsSince(t0);
      cpu.End(&r);
      stop_ = true;
      r.count = c1 - c0;
      r.value = static_cast<double>(r.count) / r.seconds;
      r.extra["callers"] = callers_.size();
      r.extra["outstanding"] = o_.outstanding;
    }
    CloseAll(all);
    io_.Stop();
    std::vector<int64_t> samples;
    for (auto& c : callers_) samples.insert(samples.end(), c->samples.begin(), c->samples.end());
    Percentiles(std::move(samples), &r);
    r.errors = errors_.count();
    r.first_error = errors_.first();
    return r;
  }

 private:
  struct Caller {
    ClientPtr client;
    int window = 1;
    std::vector<int64_t> sent_ns;  // by request id modulo its size (> window)
    std::atomic<uint64_t> completed{0};
    std::vector<int64_t> samples;  // caller thread; read after Stop
  };

  bool Register() {
    Latch latch(1);
    Post(callee_, [this, &latch] {
      const uint64_t req = callee_->NextRequest();
      callee_->set_on_message([&latch, req](std::string_view, int type, uint64_t id) {
        if (type == w::kRegistered && id == req) latch.CountDown();
      });
      callee_->Send("[64," + std::to_string(req) + ",{},\"" + kProcedure + "\"]");
    });
    if (!latch.Wait(30)) {
      errors_.Add("REGISTERED not received within 30 s");
      return false;
    }
    return true;
  }

  // Caller thread.
  void Call(Caller* c) {
    if (stop_) return;
    const uint64_t req = c->client->NextRequest();
    c->sent_ns[req % c->sent_ns.size()] = NowNs();
    c->client->Send("[48," + std::to_string(req) + ",{},\"" + kProcedure + "\",[" + std::to_string(req) + "]]");
  }

  void OnResult(Caller* c, uint64_t id) {
    const int64_t latency = NowNs() - c->sent_ns[id % c->sent_ns.size()];
    c->completed.fetch_add(1);
    if (measuring_.load()) c->samples.push_back(latency);
    Call(c);
  }

  uint64_t Completed() const {
    uint64_t t = 0;
    for (const auto& c : callers_) t += c->completed.load();
    return t;
  }

  const Options& o_;
  Errors errors_;
  IoThreads io_;
  ClientPtr callee_;
  std::vector<std::unique_ptr<Caller>> callers_;
  std::atomic<bool> measuring_{false}, stop_{false};
};

// ---------------------------------------------------------------- idle sessions

// Opens --sessions sessions, at most --connect-parallel handshakes at a time,
// and keeps them open (each with a read pending, so keep-alive pings are
// answered) while the server's RSS is read.
Result RunIdle(const Options& o) {
  Result r;
  r.scenario = "idle";
  r.metric = "server_rss_mb";
  Errors errors;
  IoThreads io(o.threads);
  const std::string server = o.server_pid > 0 ? std::to_string(o.server_pid) : "";
  const long before_kb = server.empty() ? -1 : RssKb(server);
  const long self_before_kb = RssKb("self");
  const size_t n = static_cast<size_t>(std::max(o.sessions, 1));
  std::vector<ClientPtr> clients(n);
  std::atomic<size_t> next{0};
  std::atomic<uint64_t> welcomed{0};
  Latch done(static_cast<int64_t>(n));
  std::function<void()> launch = [&] {
    const size_t i = next.fetch_add(1);
    if (i >= n) return;
    clients[i] = std::make_shared<Client>(io.Next(), o.endpoint, &errors, "session " + std::to_string(i));
    clients[i]->Start([&](bool ok) {
      if (ok) welcomed.fetch_add(1);
      done.CountDown();
      launch();
    });
  };
  const auto t0 = Clock::now();
  CpuWindow cpu(o.server_pid, "idle");
  for (int i = 0; i < std::max(o.connect_parallel, 1); ++i) launch();
  if (!done.Wait(300)) errors.Add("sessions not all opened within 300 s");
  const double open_s = SecondsSince(t0);
  SleepSeconds(1.0);  // let the server settle (allocator, deferred work)
  const long after_kb = server.empty() ? -1 : RssKb(server);
  cpu.End(&r);
  r.seconds = open_s;
  r.count = welcomed.load();
  r.extra["sessions_requested"] = n;
  r.extra["sessions_per_s"] = static_cast<double>(r.count) / open_s;
  r.extra["bench_rss_growth_mb"] = static_cast<double>(RssKb("self") - self_before_kb) / 1024.0;
  if (before_kb >= 0 && after_kb >= 0) {
    r.value = static_cast<double>(after_kb) / 1024.0;
    r.extra["server_rss_before_mb"] = static_cast<double>(before_kb) / 1024.0;
    r.extra["server_rss_growth_mb"] = static_cast<double>(after_kb - before_kb) / 1024.0;
    r.extra["server_kb_per_session"] =
        r.count > 0 ? static_cast<double>(after_kb - before_kb) / static_cast<double>(r.count) : 0.0;
  } else {
    r.value = NAN;
    if (!server.empty()) errors.Add("cannot read /proc/" + server + "/status");
  }
  std::vector<ClientPtr> open;
  for (auto& c : clients) {
    if (c) open.push_back(c);
  }
  CloseAll(open, 60);
  io.Stop();
  r.errors = errors.count();
  r.first_error = errors.first();
  return r;
}

// ---------------------------------------------------------------- main

void Usage(std::ostream& out) {
  out << "usage: wamp_bench --port N [--host 127.0.0.1] [--path /ws] [--realm realm1]\n"
         "                  [--scenario NAME[,NAME...]|all] [--seconds S] [--warmup S] [--threads N]\n"
         "                  [--subscribers N] [--window N] [--callers N] [--outstanding N]\n"
         "                  [--rate EVENTS_PER_S] [--tick-us N] [--sessions N] [--connect-parallel N] [--server-pid "
         "PID]\n"
         "                  [--payload-bytes N] [--json FILE]\n"
         "scenarios: fanout one_to_one rpc latency idle (all = every one, in that order)\n"
         "  fanout      1 publisher -> --subscribers (100) subscribers, one topic: deliveries/s\n"
         "  one_to_one  1 publisher -> 1 subscriber: events/s\n"
         "  rpc         --callers (4) sessions, --outstanding (32) calls in flight to com.bench.echo: calls/s\n"
         "  latency     1 -> 1 at --rate events/s (0: half the one_to_one rate, measured first): p50/p99\n"
         "  idle        --sessions (10000) sessions opened and held: the server's VmRSS (--server-pid)\n"
         "The publisher keeps at most --window (1000) events ahead of the slowest subscriber.\n"
         "--payload-bytes adds a string of that many bytes to every event's arguments.\n";
}

bool ParseOptions(int argc, char** argv, Options* o) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i], value;
    if (arg == "--help" || arg == "-h") {
      Usage(std::cout);
      std::exit(0);
    }
    const size_t eq = arg.find('=');
    if (eq != std::string::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      std::cerr << kProgram << ": " << arg << " needs a value\n";
      return false;
    }
    try {
      if (arg == "--host")
        o->endpoint.host = value;
      else if (arg == "--port")
        o->endpoint.port = std::stoi(value);
      else if (arg == "--path")
        o->endpoint.path = value;
      else if (arg == "--realm")
        o->endpoint.realm = value;
      else if (arg == "--scenario")
        o->scenario = value;
      else if (arg == "--seconds")
        o->seconds = std::stod(value);
      else if (arg == "--warmup")
        o->warmup = std::stod(value);
      else if (arg == "--threads")
        o->threads = std::stoi(value);
      else if (arg == "--subscribers")
        o->subscribers = std::stoi(value);
      else if (arg == "--window")
        o->window = std::stoi(value);
      else if (arg == "--callers")
        o->callers = std::stoi(value);
      else if (arg == "--outstanding")
        o->outstanding = std::stoi(value);
      else if (arg == "--rate")
        o->rate = std::stod(value);
      else if (arg == "--tick-us")
        o->tick_us = std::stoi(value);
      else if (arg == "--sessions")
        o->sessions = std::stoi(value);
      else if (arg == "--connect-parallel")
        o->connect_parallel = std::stoi(value);
      else if (arg == "--server-pid")
        o->server_pid = std::stoi(value);
      else if (arg == "--payload-bytes")
        o->payload_bytes = std::stoi(value);
      else if (arg == "--json")
        o->json_path = value;
      else {
        std::cerr << kProgram << ": unknown flag " << arg << "\n";
        return false;
      }
    } catch (const std::exception&) {
      std::cerr << kProgram << ": bad value for " << arg << ": " << value << "\n";
      return false;
    }
  }
  if (o->endpoint.port <= 0 || o->endpoint.port > 65535) {
    std::cerr << kProgram << ": --port is required\n";
    return false;
  }
  return true;
}

// Sessions need a descriptor each: raise the soft limit to the hard one.
void RaiseFileLimit() {
  rlimit l{};
  if (getrlimit(RLIMIT_NOFILE, &l) == 0 && l.rlim_cur < l.rlim_max) {
    l.rlim_cur = l.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &l) != 0) std::perror("wamp_bench: setrlimit(RLIMIT_NOFILE)");
  }
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (!ParseOptions(argc, argv, &o)) {
    Usage(std::cerr);
    return 2;
  }
  RaiseFileLimit();
  const std::vector<std::string> known{"fanout", "one_to_one", "rpc", "latency", "idle"};
  std::vector<std::string> scenarios;
  if (o.scenario == "all") {
    scenarios = known;
  } else {
    size_t start = 0;
    while (start <= o.scenario.size()) {
      const size_t comma = std::min(o.scenario.find(',', start), o.scenario.size());
      const std::string s = o.scenario.substr(start, comma - start);
      if (std::find(known.begin(), known.end(), s) == known.end()) {
        std::cerr << kProgram << ": unknown scenario '" << s << "'\n";
        Usage(std::cerr);
        return 2;
      }
      scenarios.push_back(s);
      start = comma + 1;
    }
  }

  std::vector<Result> results;
  double one_to_one_rate = 0;
  for (const auto& s : scenarios) {
    Result r;
    if (s == "fanout") {
      r = PubSubThroughput(o, s, o.subscribers).Run();
    } else if (s == "one_to_one") {
      r = PubSubThroughput(o, s, 1).Run();
      one_to_one_rate = r.value;
    } else if (s == "rpc") {
      r = RoutedRpc(o).Run();
    } else if (s == "latency") {
      double rate = o.rate;
      if (rate <= 0 && one_to_one_rate <= 0) {
        Result max = PubSubThroughput(o, "one_to_one", 1).Run();
        Print(max);
        results.push_back(max);
        one_to_one_rate = max.value;
      }
      if (rate <= 0) rate = one_to_one_rate / 2;
      if (rate <= 0) {
        r.scenario = s;
        r.metric = "p99_us";
        r.value = NAN;
        r.errors = 1;
        r.first_error = "no rate: the one_to_one pass delivered nothing";
      } else {
        r = PubSubLatency(o, rate).Run();
      }
    } else {
      r = RunIdle(o);
    }
    Print(r);
    results.push_back(std::move(r));
  }

  bool ok = true;
  Json out = {{"results", Json::array()}};
  for (const auto& r : results) {
    out["results"].push_back(ToJson(r));
    if (r.errors) ok = false;
  }
  if (!o.json_path.empty()) {
    std::ofstream f(o.json_path);
    f << out.dump(2) << "\n";
    if (!f) {
      std::cerr << kProgram << ": cannot write " << o.json_path << "\n";
      return 1;
    }
  }
  return ok ? 0 : 1;
}
