#include "load.h"

#include <sys/prctl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <sstream>
#include <thread>

namespace thingtank::bench {

// ---------------------------------------------------------------- options

bool ParseArgs(int argc, char** argv, const std::string& program, const std::function<void(std::ostream&)>& usage,
               CommonOptions* o, const std::vector<IntFlag>& extra) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    std::string v;
    const auto eq = a.find('=');
    bool has_value = false;
    if (a.rfind("--", 0) == 0 && eq != std::string::npos) {
      v = a.substr(eq + 1);
      a = a.substr(0, eq);
      has_value = true;
    }
    auto value = [&]() -> bool {
      if (has_value) return true;
      if (i + 1 >= argc) {
        std::cerr << program << ": " << a << " needs a value\n";
        return false;
      }
      v = argv[++i];
      return true;
    };
    try {
      if (a == "--help" || a == "-h") {
        usage(std::cout);
        std::exit(0);
      } else if (a == "--json") {
        o->json = true;
      } else if (a == "--endpoint") {
        if (!value()) return false;
        o->endpoint = v;
      } else if (a == "--scenario") {
        if (!value()) return false;
        o->scenario = v;
      } else if (a == "--label") {
        if (!value()) return false;
        o->label = v;
      } else if (a == "--concurrency") {
        if (!value()) return false;
        o->concurrency = std::stoi(v);
      } else if (a == "--channels") {
        if (!value()) return false;
        o->channels = std::stoi(v);
      } else if (a == "--seconds") {
        if (!value()) return false;
        o->seconds = std::stod(v);
      } else if (a == "--warmup") {
        if (!value()) return false;
        o->warmup = std::stod(v);
      } else {
        const auto it = std::find_if(extra.begin(), extra.end(), [&](const IntFlag& f) { return f.name == a; });
        if (it == extra.end()) {
          std::cerr << program << ": unknown argument " << a << "\n";
          usage(std::cerr);
          return false;
        }
        if (!value()) return false;
        *it->value = std::stoi(v);
        if (*it->value < 1) {
          std::cerr << program << ": " << a << " must be positive\n";
          return false;
        }
      }
    } catch (const std::exception&) {
      std::cerr << program << ": bad value for " << a << ": " << v << "\n";
      return false;
    }
  }
  if (o->concurrency < 1 || o->channels < 1 || o->seconds <= 0 || o->warmup < 0) {
    std::cerr << program << ": --concurrency, --channels and --seconds must be positive\n";
    return false;
  }
  return true;
}

std::vector<std::string> SelectScenarios(const std::string& spec, const std::vector<std::string>& known,
                                         const std::string& program,
                                         const std::function<void(std::ostream&)>& usage) {
  if (spec == "all") return known;
  std::vector<std::string> out;
  std::stringstream ss(spec);
  std::string item;
  while (std::getline(ss, item, ',')) {
    if (item.empty()) continue;
    if (std::find(known.begin(), known.end(), item) == known.end()) {
      std::cerr << program << ": unknown scenario '" << item << "'\n";
      usage(std::cerr);
      std::exit(2);
    }
    out.push_back(item);
  }
  return out;
}

// ---------------------------------------------------------------- results

namespace {

double Percentile(std::vector<int64_t>* ns, double p) {
  if (ns->empty()) return 0;
  const size_t k = std::min(ns->size() - 1, static_cast<size_t>(p * static_cast<double>(ns->size())));
  std::nth_element(ns->begin(), ns->begin() + static_cast<std::ptrdiff_t>(k), ns->end());
  return static_cast<double>((*ns)[k]) / 1000.0;
}

}  // namespace

void FillPercentiles(std::vector<int64_t>* ns, Result* r) {
  r->p50_us = Percentile(ns, 0.50);
  r->p99_us = Percentile(ns, 0.99);
  r->max_us = ns->empty() ? 0 : static_cast<double>(*std::max_element(ns->begin(), ns->end())) / 1000.0;
}

std::string JsonEscape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += c;
        }
    }
  }
  return out;
}

std::string ToJson(const Result& r, const UnitNames& names) {
  std::ostringstream j;
  j << "{\"scenario\": \"" << r.scenario << "\", \"concurrency\": " << r.concurrency
    << ", \"channels\": " << r.channels << ", \"seconds\": " << r.seconds << ", \"calls\": " << r.calls << ", \""
    << names.units_json << "\": " << r.units << ", \"ops\": " << r.ops << ", \"errors\": " << r.errors << ", \""
    << names.misses_json << "\": " << r.misses << ", \"calls_per_s\": " << r.calls_per_s << ", \""
    << names.units_rate_json << "\": " << r.units_per_s << ", \"p50_us\": " << r.p50_us
    << ", \"p99_us\": " << r.p99_us << ", \"max_us\": " << r.max_us << ", \"offered_per_s\": " << r.offered_per_s
    << ", \"latency_of\": \"" << r.latency_of
    << "\", \"first_error\": \"" << JsonEscape(r.first_error) << "\"}";
  return j.str();
}

void PrintJson(const CommonOptions& o, const std::vector<Result>& results, const UnitNames& names) {
  std::cout << "{\"endpoint\": \"" << JsonEscape(o.endpoint) << "\", \"label\": \"" << JsonEscape(o.label)
            << "\", \"results\": [";
  for (size_t i = 0; i < results.size(); ++i) std::cout << (i ? ",\n  " : "\n  ") << ToJson(results[i], names);
  std::cout << "\n]}\n";
}

void PrintHuman(const Result& r, const UnitNames& names) {
  std::printf("%-12s c=%-3d calls/s %9.0f  %s/s %9.0f  p50 %8.1f us  p99 %8.1f us  (per %s, n=%llu",
              r.scenario.c_str(), r.concurrency, r.calls_per_s, names.units_human.c_str(), r.units_per_s, r.p50_us,
              r.p99_us, r.latency_of.c_str(), static_cast<unsigned long long>(r.ops));
  if (r.errors) std::printf(", errors %llu", static_cast<unsigned long long>(r.errors));
  if (r.misses) std::printf(", %s %llu", names.misses_human.c_str(), static_cast<unsigned long long>(r.misses));
  std::printf(")\n");
  if (!r.first_error.empty()) std::printf("    first error: %s\n", r.first_error.c_str());
  std::fflush(stdout);
}

// ---------------------------------------------------------------- closed loop

void Loop::WorkerStopped() {
  // Under the lock, so the waiter cannot return (and destroy this) before
  // the last worker is done touching it.
  std::lock_guard<std::mutex> lock(mu_);
  if (active_.fetch_sub(1) == 1) cv_.notify_all();
}

void Loop::WaitAllStopped() {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [&] { return active_.load() == 0; });
}

bool Worker::CallDone(const grpc::Status& status) {
  if (Measuring()) {
    ++calls;
    if (!status.ok()) ++errors;
  }
  if (!status.ok()) {
    if (first_error.empty()) {
      first_error = std::to_string(status.error_code()) + ": " + status.error_message();
    }
    // Do not spin against a failing server.
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (loop_->pacer != nullptr) {
    // Paced: the worker goes back to the pacer (which may start its next
    // call at once) before the call counts as ended, so the number of calls
    // in flight cannot touch 0 in between while more are due.
    due_.reset();
    if (loop_->phase.load(std::memory_order_relaxed) != kStop) loop_->pacer->Release(this);
    loop_->WorkerStopped();
    return false;
  }
  if (loop_->phase.load(std::memory_order_relaxed) == kStop) {
    loop_->WorkerStopped();
    return false;
  }
  return true;
}

void Pacer::Add(Worker* w) {
  std::lock_guard<std::mutex> lock(mu_);
  free_.push_back(w);
}

void Pacer::Due(Clock::time_point due) {
  Worker* w;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (free_.empty()) {
      late_.push_back(due);
      return;
    }
    w = free_.back();
    free_.pop_back();
  }
  Launch(w, due);
}

void Pacer::Release(Worker* w) {
  Clock::time_point due;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (late_.empty()) {
      free_.push_back(w);
      return;
    }
    due = late_.front();
    late_.pop_front();
  }
  Launch(w, due);
}

void Pacer::Launch(Worker* w, Clock::time_point due) {
  w->due_ = due;
  w->Start();
}

void SetDeadline(grpc::ClientContext* ctx) { ctx->set_deadline(std::chrono::system_clock::now() + kCallTimeout); }

RawWorker::RawWorker(Loop* loop, grpc::GenericStub* stub, std::string method,
                     std::vector<grpc::ByteBuffer> requests, Units units)
    : Worker(loop), stub_(stub), method_(std::move(method)), requests_(std::move(requests)),
      units_(std::move(units)) {}

RawWorker::RawWorker(Loop* loop, grpc::GenericStub* stub, std::string method, Next next, Units units)
    : Worker(loop), stub_(stub), method_(std::move(method)), make_(std::move(next)), units_(std::move(units)) {}

void RawWorker::Begin() {
  ctx_.emplace();
  SetDeadline(&*ctx_);
  const grpc::ByteBuffer* request;
  if (make_) {
    made_ = make_(next_++);
    request = &made_;
  } else {
    request = &requests_[next_++ % requests_.size()];
  }
  start_ = Clock::now();
  stub_->UnaryCall(&*ctx_, method_, grpc::StubOptions(), request, &response_,
                   [this](grpc::Status s) { Done(s); });
}

void RawWorker::Done(const grpc::Status& s) {
  if (s.ok()) OpDone(start_, units_ ? units_(response_, this) : 0);
  if (CallDone(s)) Begin();
}

namespace {
std::vector<grpc::ByteBuffer> EmptyRequest() {
  grpc::Slice empty;
  return {grpc::ByteBuffer(&empty, 1)};
}
}  // namespace

HealthWorker::HealthWorker(Loop* loop, grpc::GenericStub* stub)
    : RawWorker(loop, stub, "/grpc.health.v1.Health/Check", EmptyRequest(), nullptr) {}

// ---------------------------------------------------------------- harness

Connections::Connections(const std::string& endpoint, int channels) : endpoint_(endpoint) {
  for (int i = 0; i < channels; ++i) {
    grpc::ChannelArguments args;
    // Separate subchannel pools (and a distinguishing arg) so each channel
    // is its own HTTP/2 connection.
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    args.SetInt("thingtank.bench.channel", i);
    args.SetMaxReceiveMessageSize(16 << 20);
    auto ch = grpc::CreateCustomChannel(endpoint, grpc::InsecureChannelCredentials(), args);
    channels_.push_back(ch);
    generic_.push_back(std::make_unique<grpc::GenericStub>(ch));
  }
}

bool Connections::WaitConnected(const std::string& program) {
  const auto deadline = std::chrono::system_clock::now() + std::chrono::seconds(10);
  for (auto& ch : channels_) {
    if (!ch->WaitForConnected(deadline)) {
      std::cerr << program << ": cannot connect to " << endpoint_ << "\n";
      return false;
    }
  }
  return true;
}

namespace {
// Adds up the workers' counters and latencies into `r`.
void Collect(const std::vector<std::unique_ptr<Worker>>& workers, Result* r) {
  std::vector<int64_t> all;
  for (auto& w : workers) {
    r->calls += w->calls;
    r->units += w->units;
    r->errors += w->errors;
    r->misses += w->misses;
    if (r->first_error.empty()) r->first_error = w->first_error;
    all.insert(all.end(), w->latencies_ns_.begin(), w->latencies_ns_.end());
  }
  r->ops = all.size();
  r->calls_per_s = static_cast<double>(r->calls) / r->seconds;
  r->units_per_s = static_cast<double>(r->units) / r->seconds;
  FillPercentiles(&all, r);
}
}  // namespace

Result RunClosed(const std::string& scenario, int concurrency, int channels, double warmup, double seconds,
                 const WorkerFactory& make) {
  Loop loop;
  std::vector<std::unique_ptr<Worker>> workers;
  for (int i = 0; i < concurrency; ++i) workers.push_back(make(&loop, i));
  for (auto& w : workers) w->Start();
  std::this_thread::sleep_for(std::chrono::duration<double>(warmup));
  const auto t0 = Clock::now();
  loop.phase.store(kMeasure);
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  loop.phase.store(kStop);
  const auto t1 = Clock::now();
  loop.WaitAllStopped();

  Result r;
  r.scenario = scenario;
  r.concurrency = concurrency;
  r.channels = channels;
  r.latency_of = "call";
  r.seconds = std::chrono::duration<double>(t1 - t0).count();
  Collect(workers, &r);
  return r;
}


Result RunPaced(const std::string& scenario, double rate, int workers, int channels, double warmup,
                double seconds, const WorkerFactory& make) {
  Loop loop;
  Pacer pacer(&loop);
  loop.pacer = &pacer;
  std::vector<std::unique_ptr<Worker>> pool;
  for (int i = 0; i < workers; ++i) {
    pool.push_back(make(&loop, i));
    pacer.Add(pool.back().get());
  }
  // Wake up on time: the default 50 us timer slack would delay every tick.
  prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
  const auto interval = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(1.0 / rate));
  const auto start = Clock::now();
  const auto measure_from = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(warmup));
  const auto end = measure_from + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  auto next = start;
  auto t0 = measure_from;
  for (;;) {
    const auto now = Clock::now();
    if (loop.phase.load() == kWarmup && now >= measure_from) {
      t0 = now;
      loop.phase.store(kMeasure);
    }
    if (now >= end) break;
    for (; next <= now; next += interval) pacer.Due(next);
    std::this_thread::sleep_until(std::min(next, end));
  }
  loop.phase.store(kStop);
  const auto t1 = Clock::now();
  loop.WaitAllStopped();

  Result r;
  r.scenario = scenario;
  r.concurrency = workers;
  r.channels = channels;
  r.latency_of = "call";
  r.offered_per_s = rate;
  r.seconds = std::chrono::duration<double>(t1 - t0).count();
  Collect(pool, &r);
  return r;
}

std::string RunId() {
  return std::to_string(getpid()) + "-" +
         std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count() %
                        100000000);
}

}  // namespace thingtank::bench
