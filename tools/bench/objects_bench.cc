// objects_bench: the gRPC benchmark of the objects service (S3 semantics).
//
// Starts its own servers (unless --mono/--micro name running gateways), all on
// ports 0 with temp data dirs:
//   mono   a monolithic `thingtank serve` (objects in-process behind the gateway)
//   micro  `thingtank serve --services=objects` and a gateway in front of it
//          (--services=gateway --backends=objects=...), which relays the
//          streams as raw frames
//   relay  (micro only) a second gateway whose "objects" backend is this
//          program's raw baseline server: the raw stream through the same
//          relay, so the gateway's share and the service's share can be told
//          apart
// and, inside this process, the raw gRPC streaming baseline: a
// CallbackGenericService on 127.0.0.1 (real TCP, the server's 8 MiB message
// limit) answering ObjectsService/PutObject by discarding every byte and
// ObjectsService/GetObject (key = the size in bytes) by writing a
// preallocated, pre-serialized 1 MiB chunk message again and again. The client
// code is the same for both: the generated ObjectsService stub over channels
// with the same arguments (load.h's Connections), so the only difference is
// the server.
//
// Each mode, through its gateway:
//   1. PutObject and GetObject of a 64 MiB object (1 MiB chunks; sync
//      streams, one at a time), interleaved with the same against the raw
//      baseline, --repeats times (5): median MiB/s and the ratio to the raw
//      baseline (targets GET >= 0.8, PUT >= 0.6).
//   2. 4 KiB PutObject (fresh keys) and GetObject (64 objects) calls/s at
//      --concurrency (16) with the callback API, between grpc.health.v1 Check
//      runs at the same concurrency on the same gateway: ratio to the mean of
//      the health runs around it (targets PUT >= 0.4, GET >= 0.6).
//   3. ListObjectsV2 of a bucket of 1,000 keys (one call, max_keys 1000) at
//      concurrency 1: p50 and p99.
//   4. CompleteMultipartUpload of 100 parts (99 of 5 MiB and a 1 MiB last
//      one; uploading them is setup), 3 times: ms (target <= 50 ms, median).
//   5. Time to first byte of GetObject (call start, or when it was due, to the
//      first message carrying data) of the 4 KiB and 64 MiB objects, open loop
//      at half the measured max GET rate of that size (step 2's calls/s, or
//      1 / step 1's median time): p99 (target <= 5 ms).
// Then a table: what, figure, baseline, ratio, target, met. --quick is a
// short smoke run (4 MiB objects, 2 repeats, 100 keys, 3 parts, short runs).
// --profile samples per-thread CPU (/proc/<pid>/task) of the servers and of
// this process during each measurement and prints the busiest threads.
//
// Uses generated clients only (no server internals).

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <dirent.h>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "load.h"
#include "thingtank/objects/v1/objects.grpc.pb.h"

namespace {

namespace ov1 = ::thingtank::objects::v1;
namespace bench = ::thingtank::bench;
using bench::Clock;
using bench::Loop;
using bench::Result;
using bench::Worker;
using Stub = ov1::ObjectsService::Stub;

constexpr const char* kProgram = "objects_bench";
constexpr int64_t kMiB = 1 << 20;
constexpr int64_t kChunk = kMiB;
constexpr int kServerMaxMessage = 8 << 20;  // thingtank serve's default --max-message-bytes
constexpr auto kStreamTimeout = std::chrono::minutes(5);

const bench::UnitNames kNames{"bytes", "bytes_per_s", "misses", "bytes", "misses"};

struct Options : bench::CommonOptions {
  std::string json_path;
  std::string thingtank;  // the binary; default: next to this one in the build tree
  std::string modes = "mono,micro";
  std::string mono_endpoint, micro_endpoint;  // running gateways instead of started servers
  std::string only;  // parts to run (empty: all)
  bool quick = false;
  bool profile = false;
  int repeats = 5;
  int list_keys = 1000;
  int parts = 100;
  int mpu_repeats = 3;
  int big_mib = 64;
  int small_bytes = 4096;
};

void Usage(std::ostream& out) {
  out << "usage: objects_bench [--quick] [--modes mono,micro] [--thingtank PATH]\n"
         "                     [--mono HOST:PORT] [--micro HOST:PORT] [--concurrency N]\n"
         "                     [--channels N] [--seconds S] [--warmup S] [--repeats N]\n"
         "                     [--big-mib N] [--small-bytes N] [--list-keys N] [--parts N]\n"
         "                     [--mpu-repeats N] [--only PART,...] [--profile] [--label TEXT]\n"
         "                     [--json FILE]\n"
         "Without --mono/--micro, starts `thingtank serve` (PATH, default the build tree's):\n"
         "monolithic, and objects + a gateway (microservice mode), on free ports with temp\n"
         "data dirs, and stops them at the end. --mono/--micro use running gateways instead\n"
         "(only those modes run). Defaults: concurrency 16, channels 4, 3 s runs + 1 s warm-up,\n"
         "5 repeats of the 64 MiB streams, 1,000 keys listed, 100 parts, 3 completes.\n"
         "--quick: 4 MiB objects, 2 repeats, 100 keys, 3 parts, 1 complete, 0.5 s runs.\n"
         "--modes raw: calibration, the raw baseline server in place of the objects service\n"
         "(streams, rates, time to first byte; every ratio should be near 1).\n"
         "--only PART,...: streams rates ttfb list multipart, or put get (64 MiB) put_small\n"
         "get_small (4 KiB) alone; ttfb runs streams and rates too, for its rates.\n"
         "--profile: per-thread CPU of the servers and this process during each measurement.\n"
         "--json FILE writes the figures as JSON.\n";
}

std::string Fmt(const char* fmt, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, v);
  return buf;
}

double Median(std::vector<double> v) {
  if (v.empty()) return NAN;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// ---------------------------------------------------------------- the servers

// One `thingtank serve` child process with its own temp data dir; stopped
// (SIGTERM, SIGKILL after 10 s) and the dir removed on destruction.
class Server {
 public:
  // Waits for `port_key` in <data-dir>/ports.json.
  static std::unique_ptr<Server> Start(const std::string& binary, const std::string& name,
                                       const std::vector<std::string>& flags, const std::string& port_key) {
    char dir_template[] = "/tmp/objects-bench.XXXXXX";
    if (mkdtemp(dir_template) == nullptr) {
      std::perror("objects_bench: mkdtemp");
      return nullptr;
    }
    auto server = std::unique_ptr<Server>(new Server(name, dir_template));
    std::vector<std::string> args = {binary, "serve", "--data-dir", server->dir_ + "/data"};
    args.insert(args.end(), flags.begin(), flags.end());
    const std::string log = server->dir_ + "/server.log";
    const pid_t pid = fork();
    if (pid < 0) {
      std::perror("objects_bench: fork");
      return nullptr;
    }
    if (pid == 0) {
      prctl(PR_SET_PDEATHSIG, SIGTERM);  // never outlive the bench
      std::FILE* out = std::freopen(log.c_str(), "w", stdout);
      if (out != nullptr) dup2(fileno(stdout), STDERR_FILENO);
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      std::perror("objects_bench: exec thingtank");
      _exit(127);
    }
    server->pid_ = pid;
    if (!server->WaitForPort(port_key)) return nullptr;
    return server;
  }

  ~Server() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      int status = 0;
      bool stopped = false;
      for (int i = 0; i < 100 && !stopped; ++i) {
        stopped = waitpid(pid_, &status, WNOHANG) == pid_;
        if (!stopped) std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
      if (!stopped) {
        std::cerr << kProgram << ": server " << name_ << " (" << pid_ << ") did not stop after SIGTERM; SIGKILL\n";
        kill(pid_, SIGKILL);
        waitpid(pid_, &status, 0);
      }
    }
    std::error_code ec;
    if (std::getenv("KEEP_TMP") == nullptr) {
      std::filesystem::remove_all(dir_, ec);
    } else {
      std::cerr << kProgram << ": kept " << dir_ << "\n";
    }
  }

  int pid() const { return pid_; }
  int port() const { return port_; }
  const std::string& name() const { return name_; }
  std::string endpoint() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  Server(std::string name, std::string dir) : name_(std::move(name)), dir_(std::move(dir)) {}

  bool WaitForPort(const std::string& key) {
    const auto deadline = Clock::now() + std::chrono::seconds(30);
    const std::string needle = "\"" + key + "\":";
    while (Clock::now() < deadline) {
      std::ifstream in(dir_ + "/data/ports.json");
      const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      const size_t at = text.find(needle);
      if (at != std::string::npos) {
        port_ = std::atoi(text.c_str() + at + needle.size());
        if (port_ > 0) return true;
      }
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        std::cerr << kProgram << ": thingtank serve (" << name_ << ") exited; its log:\n" << Log();
        return false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    std::cerr << kProgram << ": no '" << key << "' port in " << name_ << "'s ports.json after 30 s; log:\n"
              << Log();
    return false;
  }

  std::string Log() const {
    std::ifstream in(dir_ + "/server.log");
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }

  const std::string name_;
  const std::string dir_;
  pid_t pid_ = -1;
  int port_ = 0;
};

// ---------------------------------------------------------------- CPU sampling

// Per-thread CPU ticks of some processes (/proc/<pid>/task/*/stat), summed by
// process name and thread name between Begin and End.
class CpuSampler {
 public:
  void Add(const std::string& name, int pid) { procs_.emplace_back(name, pid); }
  bool empty() const { return procs_.empty(); }

  void Begin() {
    before_ = Snap();
    t0_ = Clock::now();
  }
  // Adds the ticks since Begin to the totals of `label`.
  void End(const std::string& label) {
    const auto after = Snap();
    Acc& acc = acc_[label];
    acc.seconds += Seconds(Clock::now() - t0_);
    for (const auto& [tid, v] : after) {
      auto b = before_.find(tid);
      const long used = v.second - (b != before_.end() ? b->second.second : 0);
      acc.ticks[v.first] += used;
    }
  }
  void Print(const std::string& label) const {
    auto it = acc_.find(label);
    // Ticks are 10 ms: a shorter window says nothing.
    if (it == acc_.end() || it->second.seconds < 0.1) return;
    const double hz = static_cast<double>(sysconf(_SC_CLK_TCK));
    std::vector<std::pair<long, std::string>> rows;
    std::map<std::string, long> per_proc;
    for (const auto& [name, ticks] : it->second.ticks) {
      rows.emplace_back(ticks, name);
      per_proc[name.substr(0, name.find(':'))] += ticks;
    }
    std::sort(rows.rbegin(), rows.rend());
    std::printf("    CPU during %s (%.1f s; share of one core):", label.c_str(), it->second.seconds);
    for (const auto& [proc, ticks] : per_proc) {
      if (static_cast<double>(ticks) / hz / it->second.seconds < 0.01) continue;
      std::printf(" %s %.0f%%", proc.c_str(), 100.0 * static_cast<double>(ticks) / hz / it->second.seconds);
    }
    std::printf("\n");
    int shown = 0;
    for (const auto& [ticks, name] : rows) {
      const double pct = 100.0 * static_cast<double>(ticks) / hz / it->second.seconds;
      if (pct < 3 || ++shown > 8) break;
      std::printf("      %-40s %6.1f %%\n", name.c_str(), pct);
    }
    std::fflush(stdout);
  }

 private:
  struct Acc {
    double seconds = 0;
    std::map<std::string, long> ticks;  // "process:thread" -> ticks
  };
  // (pid, tid) -> ("process:thread", ticks)
  using Snapshot = std::map<std::pair<int, std::string>, std::pair<std::string, long>>;

  Snapshot Snap() const {
    Snapshot out;
    for (const auto& [name, pid] : procs_) {
      const std::string dir = "/proc/" + std::to_string(pid) + "/task";
      DIR* d = opendir(dir.c_str());
      if (d == nullptr) continue;
      while (dirent* e = readdir(d)) {
        if (e->d_name[0] == '.') continue;
        std::ifstream in(dir + "/" + e->d_name + "/stat");
        std::string st((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        const size_t open = st.find('('), close = st.rfind(')');
        if (open == std::string::npos || close == std::string::npos) continue;
        std::istringstream rest(st.substr(close + 2));
        std::vector<std::string> f((std::istream_iterator<std::string>(rest)), std::istream_iterator<std::string>());
        if (f.size() < 13) continue;
        out[{pid, e->d_name}] = {name + ":" + st.substr(open + 1, close - open - 1),
                                 std::atol(f[11].c_str()) + std::atol(f[12].c_str())};
      }
      closedir(d);
    }
    return out;
  }

  std::vector<std::pair<std::string, int>> procs_;
  Snapshot before_;
  Clock::time_point t0_;
  std::map<std::string, Acc> acc_;
};

// ---------------------------------------------------------------- data

// Incompressible bytes (xorshift), so no layer gets a cheap ride on zeros.
std::string RandomBytes(size_t n, uint64_t seed) {
  std::string s(n, '\0');
  uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
  for (size_t i = 0; i < n; i += 8) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    for (size_t j = 0; j < 8 && i + j < n; ++j) s[i + j] = static_cast<char>(x >> (8 * j));
  }
  return s;
}

bool ParseBuffer(const grpc::ByteBuffer& buf, google::protobuf::Message* m) {
  std::vector<grpc::Slice> slices;
  if (!buf.Dump(&slices).ok()) return false;
  std::string bytes;
  for (const auto& s : slices) bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
  return m->ParseFromString(bytes);
}

grpc::Slice SerializedSlice(const google::protobuf::Message& m) {
  std::string bytes = m.SerializeAsString();
  return grpc::Slice(std::move(bytes));
}

// ---------------------------------------------------------------- the raw baseline

// The raw streaming baseline: PutObject discards what it reads (the first
// message is parsed, for the size to answer); GetObject
// (key = size in bytes) writes a small first message (info, content_length)
// merged with the first chunk, then the same preallocated, pre-serialized
// 1 MiB chunk message over and over (a slice reference, no copy).
class RawObjects final : public grpc::CallbackGenericService {
 public:
  RawObjects() {
    ov1::GetObjectResponse chunk;
    chunk.set_data(RandomBytes(kChunk, 7));
    chunk_ = SerializedSlice(chunk);
  }

  grpc::ServerGenericBidiReactor* CreateReactor(grpc::GenericCallbackServerContext* ctx) override {
    const std::string prefix = "/" + std::string(ov1::ObjectsService::service_full_name()) + "/";
    if (ctx->method() == prefix + "PutObject") return new Sink(this);
    if (ctx->method() == prefix + "GetObject") return new Source(this);
    return new Refused();
  }

  std::atomic<uint64_t> sunk{0};

 private:
  class Refused final : public grpc::ServerGenericBidiReactor {
   public:
    Refused() { Finish(grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "raw baseline: PutObject and GetObject only")); }
    void OnDone() override { delete this; }
  };

  class Sink final : public grpc::ServerGenericBidiReactor {
   public:
    explicit Sink(RawObjects* s) : s_(s) { StartRead(&in_); }
    void OnReadDone(bool ok) override {
      if (ok) {
        // Only the first message is parsed (for the header's content_length,
        // echoed as the size); the rest are counted and dropped unread.
        if (first_) {
          first_ = false;
          ov1::PutObjectRequest req;
          if (ParseBuffer(in_, &req)) size_ = req.header().content_length();
        }
        bytes_ += in_.Length();
        in_.Clear();
        StartRead(&in_);
        return;
      }
      s_->sunk += bytes_;
      ov1::PutObjectResponse resp;
      resp.set_etag("\"raw\"");
      resp.set_version_id("null");
      resp.set_size(size_);
      grpc::Slice slice = SerializedSlice(resp);
      out_ = grpc::ByteBuffer(&slice, 1);
      StartWriteAndFinish(&out_, grpc::WriteOptions(), grpc::Status::OK);
    }
    void OnDone() override { delete this; }

   private:
    RawObjects* const s_;
    grpc::ByteBuffer in_, out_;
    uint64_t bytes_ = 0;
    int64_t size_ = 0;
    bool first_ = true;
  };

  class Source final : public grpc::ServerGenericBidiReactor {
   public:
    explicit Source(const RawObjects* s) : s_(s) { StartRead(&in_); }
    void OnReadDone(bool ok) override {
      ov1::GetObjectRequest req;
      if (!ok || !ParseBuffer(in_, &req)) {
        Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "raw baseline: no GetObjectRequest"));
        return;
      }
      char* end = nullptr;
      size_ = std::strtoll(req.key().c_str(), &end, 10);
      if (req.key().empty() || *end != '\0' || size_ < 0) {
        Finish(grpc::Status(grpc::StatusCode::NOT_FOUND, "raw baseline: the key is the size in bytes"));
        return;
      }
      Next();
    }
    void OnWriteDone(bool ok) override {
      if (!ok) {
        Finish(grpc::Status(grpc::StatusCode::CANCELLED, "raw baseline: write failed"));
        return;
      }
      Next();
    }
    void OnDone() override { delete this; }

   private:
    void Next() {
      if (started_ && sent_ >= size_) {
        Finish(grpc::Status::OK);
        return;
      }
      const int64_t n = std::min(kChunk, size_ - sent_);
      std::vector<grpc::Slice> slices;
      if (!started_) {
        ov1::GetObjectResponse head;
        head.mutable_info()->set_key(std::to_string(size_));
        head.mutable_info()->set_size(size_);
        head.mutable_info()->set_etag("\"raw\"");
        head.set_content_length(size_);
        slices.push_back(SerializedSlice(head));
      }
      if (n == kChunk) {
        slices.push_back(s_->chunk_);
      } else if (n > 0) {
        ov1::GetObjectResponse tail;
        tail.set_data(RandomBytes(static_cast<size_t>(n), 8));
        slices.push_back(SerializedSlice(tail));
      }
      out_ = grpc::ByteBuffer(slices.data(), slices.size());
      started_ = true;
      sent_ += n;
      StartWrite(&out_);
    }

    const RawObjects* const s_;
    grpc::ByteBuffer in_, out_;
    int64_t size_ = 0, sent_ = 0;
    bool started_ = false;
  };

  grpc::Slice chunk_;
};

class RawServer {
 public:
  bool Start() {
    grpc::EnableDefaultHealthCheckService(true);  // a gateway in front polls it
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.SetMaxReceiveMessageSize(kServerMaxMessage);
    builder.SetMaxSendMessageSize(kServerMaxMessage);
    builder.RegisterCallbackGenericService(&service_);
    server_ = builder.BuildAndStart();
    if (server_ == nullptr || port_ == 0) {
      std::cerr << kProgram << ": cannot start the raw baseline server\n";
      return false;
    }
    return true;
  }
  ~RawServer() {
    if (server_) server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  }
  std::string endpoint() const { return "127.0.0.1:" + std::to_string(port_); }
  int port() const { return port_; }

 private:
  RawObjects service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

// ---------------------------------------------------------------- one endpoint

// Channels and stubs to one endpoint (the same channel arguments for all).
class Target {
 public:
  Target(std::string name, const std::string& endpoint, int channels)
      : name_(std::move(name)), endpoint_(endpoint), conns_(endpoint, channels) {
    for (size_t i = 0; i < conns_.size(); ++i) stubs_.push_back(ov1::ObjectsService::NewStub(conns_.channel(i)));
  }
  bool WaitConnected() { return conns_.WaitConnected(kProgram); }
  Stub* stub(size_t i = 0) const { return stubs_[i % stubs_.size()].get(); }
  grpc::GenericStub* generic(size_t i) const { return conns_.generic(i); }
  const std::string& name() const { return name_; }
  const std::string& endpoint() const { return endpoint_; }

 private:
  std::string name_, endpoint_;
  bench::Connections conns_;
  std::vector<std::unique_ptr<Stub>> stubs_;
};

std::string StatusText(const grpc::Status& s) {
  return std::to_string(s.error_code()) + " " + s.error_message();
}

// ---------------------------------------------------------------- sync streams

struct StreamRun {
  double seconds = 0;
  double ttfb_s = NAN;  // GET: to the first message with data
  int64_t bytes = 0;
  grpc::Status status;
  std::string etag;
};

// The data every put sends: 1 MiB of incompressible bytes, and the message
// with nothing else (built once).
struct PutData {
  std::string chunk = RandomBytes(kChunk, 1);
  ov1::PutObjectRequest data_only;
  ov1::UploadPartRequest part_data_only;
  PutData() {
    data_only.set_data(chunk);
    part_data_only.set_data(chunk);
  }
};

// Writes `size` bytes in kChunk messages; the first carries `first` (the
// header) and the first chunk.
template <class Req, class Writer>
bool WriteChunks(Writer* w, Req first, const Req& data_only, const std::string& chunk, int64_t size) {
  const int64_t n0 = std::min(kChunk, size);
  first.set_data(chunk.substr(0, static_cast<size_t>(n0)));
  if (!w->Write(first)) return false;
  int64_t sent = n0;
  while (sent < size) {
    const int64_t n = std::min(kChunk, size - sent);
    if (n == kChunk) {
      if (!w->Write(data_only)) return false;
    } else {
      Req tail;
      tail.set_data(chunk.substr(0, static_cast<size_t>(n)));
      if (!w->Write(tail)) return false;
    }
    sent += n;
  }
  return true;
}

StreamRun PutStream(Stub* stub, const std::string& bucket, const std::string& key, int64_t size,
                    const PutData& data) {
  StreamRun r;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + kStreamTimeout);
  ov1::PutObjectResponse resp;
  ov1::PutObjectRequest first;
  first.mutable_header()->set_bucket(bucket);
  first.mutable_header()->set_key(key);
  first.mutable_header()->set_content_length(size);
  const auto t0 = Clock::now();
  auto w = stub->PutObject(&ctx, &resp);
  if (WriteChunks(w.get(), first, data.data_only, data.chunk, size)) w->WritesDone();
  r.status = w->Finish();
  r.seconds = Seconds(Clock::now() - t0);
  r.bytes = resp.size();
  r.etag = resp.etag();
  if (r.status.ok() && resp.size() != size) {
    r.status = grpc::Status(grpc::StatusCode::DATA_LOSS, "PutObject says size " + std::to_string(resp.size()) +
                                                             ", sent " + std::to_string(size));
  }
  return r;
}

StreamRun GetStream(Stub* stub, const std::string& bucket, const std::string& key, int64_t expect) {
  StreamRun r;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + kStreamTimeout);
  ov1::GetObjectRequest req;
  req.set_bucket(bucket);
  req.set_key(key);
  const auto t0 = Clock::now();
  auto reader = stub->GetObject(&ctx, req);
  ov1::GetObjectResponse m;
  while (reader->Read(&m)) {
    if (std::isnan(r.ttfb_s) && !m.data().empty()) r.ttfb_s = Seconds(Clock::now() - t0);
    r.bytes += static_cast<int64_t>(m.data().size());
  }
  r.status = reader->Finish();
  r.seconds = Seconds(Clock::now() - t0);
  if (r.status.ok() && r.bytes != expect) {
    r.status = grpc::Status(grpc::StatusCode::DATA_LOSS, "GetObject returned " + std::to_string(r.bytes) +
                                                             " bytes, expected " + std::to_string(expect));
  }
  return r;
}

StreamRun UploadPartStream(Stub* stub, const std::string& bucket, const std::string& key,
                           const std::string& upload_id, int part, int64_t size, const PutData& data) {
  StreamRun r;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + kStreamTimeout);
  ov1::UploadPartResponse resp;
  ov1::UploadPartRequest first;
  first.mutable_header()->set_bucket(bucket);
  first.mutable_header()->set_key(key);
  first.mutable_header()->set_upload_id(upload_id);
  first.mutable_header()->set_part_number(part);
  first.mutable_header()->set_content_length(size);
  const auto t0 = Clock::now();
  auto w = stub->UploadPart(&ctx, &resp);
  if (WriteChunks(w.get(), first, data.part_data_only, data.chunk, size)) w->WritesDone();
  r.status = w->Finish();
  r.seconds = Seconds(Clock::now() - t0);
  r.etag = resp.etag();
  return r;
}

// ---------------------------------------------------------------- callback workers

// PutObject of `size` bytes in one message (header and data), a fresh key per
// call: "<prefix><n>".
class PutWorker final : public Worker {
 public:
  PutWorker(Loop* loop, Stub* stub, const std::string& bucket, std::string prefix, const std::string& data)
      : Worker(loop), stub_(stub), prefix_(std::move(prefix)) {
    request_.mutable_header()->set_bucket(bucket);
    request_.mutable_header()->set_content_length(static_cast<int64_t>(data.size()));
    request_.set_data(data);
  }

 protected:
  void Begin() override {
    request_.mutable_header()->set_key(prefix_ + std::to_string(n_++));
    (new Call(this))->Go();
  }

 private:
  class Call final : public grpc::ClientWriteReactor<ov1::PutObjectRequest> {
   public:
    explicit Call(PutWorker* w) : w_(w) {}
    void Go() {
      bench::SetDeadline(&ctx_);
      start_ = Clock::now();
      w_->stub_->async()->PutObject(&ctx_, &resp_, this);
      StartWriteLast(&w_->request_, grpc::WriteOptions());
      StartCall();
    }
    void OnDone(const grpc::Status& s) override {
      PutWorker* w = w_;
      const grpc::Status status = s;
      const Clock::time_point start = start_;
      const bool size_ok = resp_.size() == static_cast<int64_t>(w->request_.data().size());
      delete this;
      w->Finished(status, start, size_ok);
    }

   private:
    PutWorker* const w_;
    grpc::ClientContext ctx_;
    ov1::PutObjectResponse resp_;
    Clock::time_point start_;
  };

  void Finished(const grpc::Status& s, Clock::time_point start, bool size_ok) {
    if (s.ok()) {
      OpDone(start, request_.data().size());
      if (!size_ok && Measuring()) {
        ++misses;
        NoteError("PutObject response size differs from the bytes sent");
      }
    }
    if (CallDone(s)) Begin();
  }

  Stub* const stub_;
  const std::string prefix_;
  ov1::PutObjectRequest request_;
  uint64_t n_ = 0;
};

// GetObject of keys[(first + n * stride) % keys.size()], each `size` bytes.
// The latency is to the end of the call, or (ttfb) to the first message with
// data; the rest of the stream is read either way.
class GetWorker final : public Worker {
 public:
  GetWorker(Loop* loop, Stub* stub, const std::string& bucket, std::vector<std::string> keys, size_t first,
            size_t stride, int64_t size, bool ttfb)
      : Worker(loop), stub_(stub), keys_(std::move(keys)), next_(first), stride_(stride), size_(size), ttfb_(ttfb) {
    request_.set_bucket(bucket);
  }

 protected:
  void Begin() override {
    request_.set_key(keys_[next_ % keys_.size()]);
    next_ += stride_;
    (new Call(this))->Go();
  }

 private:
  class Call final : public grpc::ClientReadReactor<ov1::GetObjectResponse> {
   public:
    explicit Call(GetWorker* w) : w_(w) {}
    void Go() {
      ctx_.set_deadline(std::chrono::system_clock::now() + kStreamTimeout);
      start_ = Clock::now();
      w_->stub_->async()->GetObject(&ctx_, &w_->request_, this);
      StartRead(&msg_);
      StartCall();
    }
    void OnReadDone(bool ok) override {
      if (!ok) return;
      if (!msg_.data().empty() && !first_) {
        first_ = true;
        if (w_->ttfb_) w_->FirstByte(start_);
      }
      bytes_ += static_cast<int64_t>(msg_.data().size());
      StartRead(&msg_);
    }
    void OnDone(const grpc::Status& s) override {
      GetWorker* w = w_;
      const grpc::Status status = s;
      const Clock::time_point start = start_;
      const int64_t bytes = bytes_;
      delete this;
      w->Finished(status, start, bytes);
    }

   private:
    GetWorker* const w_;
    grpc::ClientContext ctx_;
    ov1::GetObjectResponse msg_;
    Clock::time_point start_;
    int64_t bytes_ = 0;
    bool first_ = false;
  };

  void FirstByte(Clock::time_point start) { OpDone(start, static_cast<uint64_t>(size_)); }

  void Finished(const grpc::Status& s, Clock::time_point start, int64_t bytes) {
    if (s.ok()) {
      if (!ttfb_) OpDone(start, static_cast<uint64_t>(bytes));
      if (bytes != size_ && Measuring()) {
        ++misses;
        NoteError("GetObject returned " + std::to_string(bytes) + " bytes, expected " + std::to_string(size_));
      }
    }
    if (CallDone(s)) Begin();
  }

  Stub* const stub_;
  const std::vector<std::string> keys_;
  size_t next_;
  const size_t stride_;
  const int64_t size_;
  const bool ttfb_;
  ov1::GetObjectRequest request_;
};

// ---------------------------------------------------------------- figures

struct Row {
  std::string what;
  double figure = NAN;
  std::string unit;
  double baseline = NAN;  // same unit; the ratio is figure / baseline
  enum Kind { kNone, kRatioAtLeast, kAtMost } kind = kNone;
  double target = 0;
  std::string note;

  double ratio() const { return figure / baseline; }
  bool Measured() const { return !std::isnan(kind == kRatioAtLeast ? ratio() : figure); }
  bool Met() const {
    if (!Measured()) return false;
    return kind == kRatioAtLeast ? ratio() >= target : kind == kAtMost ? figure <= target : true;
  }
  std::string TargetText() const {
    if (kind == kRatioAtLeast) return "ratio >= " + Fmt("%g", target);
    if (kind == kAtMost) return "<= " + Fmt("%g", target) + " " + unit;
    return "-";
  }
  std::string MetText() const {
    if (kind == kNone) return "-";
    if (!Measured()) return "NOT MEASURED";
    return Met() ? "yes" : "NO";
  }
};

Row MakeRow(std::string what, double figure, std::string unit, double baseline = NAN) {
  Row r;
  r.what = std::move(what);
  r.figure = figure;
  r.unit = std::move(unit);
  r.baseline = baseline;
  return r;
}

std::string Num(double v) {
  if (std::isnan(v)) return "-";
  const double a = std::fabs(v);
  if (v == std::floor(v) && a < 1e12) return Fmt("%.0f", v);
  return Fmt(a >= 100 ? "%.0f" : a >= 10 ? "%.1f" : a >= 1 ? "%.2f" : "%.3f", v);
}

void PrintTable(const std::string& title, const std::vector<Row>& rows) {
  size_t w = 4;
  for (const Row& r : rows) w = std::max(w, r.what.size() + r.unit.size() + 3);
  const int width = static_cast<int>(w);
  std::printf("\n%s\n", title.c_str());
  std::printf("%-*s %10s %10s %7s  %-16s %s\n", width, "what", "figure", "baseline", "ratio", "target", "met");
  for (const Row& r : rows) {
    const std::string what = r.what + " (" + r.unit + ")";
    std::printf("%-*s %10s %10s %7s  %-16s %s\n", width, what.c_str(), Num(r.figure).c_str(),
                Num(r.baseline).c_str(), std::isnan(r.baseline) ? "-" : Fmt("%.2f", r.ratio()).c_str(),
                r.TargetText().c_str(), r.MetText().c_str());
    if (!r.note.empty()) std::printf("%-*s   %s\n", width, "", r.note.c_str());
  }
  std::fflush(stdout);
}

std::string JsonNumber(double v) { return std::isnan(v) ? "null" : Fmt("%.6g", v); }

std::string RowJson(const std::string& mode, const Row& r) {
  std::ostringstream j;
  j << "{\"mode\": \"" << mode << "\", \"what\": \"" << bench::JsonEscape(r.what) << "\", \"unit\": \""
    << bench::JsonEscape(r.unit) << "\", \"figure\": " << JsonNumber(r.figure)
    << ", \"baseline\": " << JsonNumber(r.baseline)
    << ", \"ratio\": " << JsonNumber(std::isnan(r.baseline) ? NAN : r.ratio()) << ", \"target\": ";
  if (r.kind == Row::kNone) {
    j << "null, \"met\": null";
  } else {
    j << "\"" << r.TargetText() << "\", \"met\": " << (r.Met() ? "true" : "false");
  }
  j << ", \"note\": \"" << bench::JsonEscape(r.note) << "\"}";
  return j.str();
}

// ---------------------------------------------------------------- the bench

struct Mode {
  std::string name;      // "mono", "micro"
  std::string title;
  std::string endpoint;  // the gateway
  std::string relay;     // micro: a gateway in front of the raw baseline (may be empty)
};

class Bench {
 public:
  Bench(const Options& o, const Mode& mode, const std::string& raw_endpoint, CpuSampler* cpu)
      : o_(o),
        mode_(mode),
        objects_(mode.name, mode.endpoint, o.channels),
        raw_("raw", raw_endpoint, o.channels),
        cpu_(cpu),
        run_id_(bench::RunId()) {
    if (!mode.relay.empty()) relay_.emplace("relay", mode.relay, o.channels);
    bucket_ = "bench-" + run_id_ + "-" + mode.name;
    list_bucket_ = bucket_ + "-list";
    big_ = static_cast<int64_t>(o.big_mib) * kMiB;
    // Calibration: the raw baseline server stands in for the objects service
    // (keys are sizes there); every ratio should come out near 1.
    calibration_ = mode.name == "raw";
    big_key_ = calibration_ ? std::to_string(big_) : "big";
  }

  bool Setup() {
    if (!objects_.WaitConnected() || !raw_.WaitConnected()) return false;
    if (relay_ && !relay_->WaitConnected()) relay_.reset();
    if (calibration_) return true;
    for (const std::string& b : {bucket_, list_bucket_}) {
      grpc::ClientContext ctx;
      bench::SetDeadline(&ctx);
      ov1::CreateBucketRequest req;
      req.set_bucket(b);
      ov1::CreateBucketResponse resp;
      if (!Check(objects_.stub()->CreateBucket(&ctx, req, &resp), "CreateBucket " + b)) return false;
    }
    return true;
  }

  std::vector<Row> Run() {
    std::vector<Row> rows;
    if (Part("streams") || Part("ttfb") || Part("put") || Part("get")) Streams(&rows);
    if (Part("rates") || Part("ttfb") || Part("put_small") || Part("get_small")) Rates(&rows);
    if (Part("ttfb")) Ttfb(&rows);
    if (!calibration_) {
      if (Part("list")) List(&rows);
      if (Part("multipart")) Multipart(&rows);
    }
    uint64_t errors = stream_errors_;
    for (const Result& r : results_) errors += r.errors + r.misses;
    Row e = MakeRow("errors and wrong sizes over all calls", static_cast<double>(errors), "calls");
    e.kind = Row::kAtMost;
    e.target = 0;
    if (!first_error_.empty()) e.note = "first: " + first_error_;
    rows.push_back(e);
    return rows;
  }

 private:
  // Whether --only selects `name` (everything without --only).
  bool Part(const std::string& name) const {
    return o_.only.empty() || ("," + o_.only + ",").find("," + name + ",") != std::string::npos;
  }

  // ---- 1. the 64 MiB streams against the raw baseline
  void Streams(std::vector<Row>* rows) {
    const double mib = static_cast<double>(big_) / kMiB;
    std::map<std::string, std::vector<double>> rate;  // label -> MiB/s per repeat
    auto once = [&](const std::string& label, const std::function<StreamRun()>& call) {
      if (cpu_) cpu_->Begin();
      StreamRun r = call();
      if (cpu_) cpu_->End(mode_.name + " " + label);
      if (!r.status.ok()) {
        Error(label + ": " + StatusText(r.status));
        return r;
      }
      rate[label].push_back(mib / r.seconds);
      return r;
    };
    std::printf("[%s] %d x PUT then GET of %.0f MiB (1 MiB chunks), each against the raw baseline%s\n",
                mode_.name.c_str(), o_.repeats, mib, relay_ ? " and the raw stream through a gateway relay" : "");
    std::fflush(stdout);
    const std::string raw_key = std::to_string(big_);
    const bool puts = !Part("get") || Part("streams") || Part("ttfb") || Part("put");
    const bool gets = !Part("put") || Part("streams") || Part("ttfb") || Part("get");
    if (!puts && !Check(PutStream(objects_.stub(), bucket_, big_key_, big_, data_).status, "PutObject (setup)")) return;
    for (int i = 0; puts && i < o_.repeats; ++i) {
      once("raw PUT", [&] { return PutStream(raw_.stub(), "raw", raw_key, big_, data_); });
      if (relay_) once("relay PUT", [&] { return PutStream(relay_->stub(), "raw", raw_key, big_, data_); });
      once("objects PUT", [&] { return PutStream(objects_.stub(), bucket_, big_key_, big_, data_); });
    }
    std::vector<double> ttfb;
    for (int i = 0; gets && i < o_.repeats; ++i) {
      once("raw GET", [&] { return GetStream(raw_.stub(), "raw", raw_key, big_); });
      if (relay_) once("relay GET", [&] { return GetStream(relay_->stub(), "raw", raw_key, big_); });
      StreamRun g = once("objects GET", [&] { return GetStream(objects_.stub(), bucket_, big_key_, big_); });
      if (g.status.ok()) {
        ttfb.push_back(g.ttfb_s * 1000);
        big_get_seconds_.push_back(g.seconds);
      }
    }
    for (const auto& [label, v] : rate) {
      std::printf("  %-12s MiB/s:", label.c_str());
      for (double x : v) std::printf(" %.0f", x);
      std::printf("  (median %.0f)\n", Median(v));
      if (cpu_) cpu_->Print(mode_.name + " " + label);
    }
    std::printf("  objects GET time to first data, idle: median %.2f ms\n", Median(ttfb));
    std::fflush(stdout);
    const std::string size = Fmt("%.0f", mib) + " MiB";
    Row get = MakeRow("GetObject " + size + ", median of " + std::to_string(o_.repeats), Median(rate["objects GET"]),
            "MiB/s", Median(rate["raw GET"]));
    get.kind = Row::kRatioAtLeast;
    get.target = 0.8;
    Row put = MakeRow("PutObject " + size + ", median of " + std::to_string(o_.repeats), Median(rate["objects PUT"]),
            "MiB/s", Median(rate["raw PUT"]));
    put.kind = Row::kRatioAtLeast;
    put.target = 0.6;
    if (relay_) {
      const double rg = Median(rate["relay GET"]), rp = Median(rate["relay PUT"]);
      get.note = "raw stream through the gateway relay: " + Fmt("%.0f", rg) + " MiB/s (" +
                 Fmt("%.2f", rg / get.baseline) + " of direct); objects / relayed raw " + Fmt("%.2f", get.figure / rg);
      put.note = "raw stream through the gateway relay: " + Fmt("%.0f", rp) + " MiB/s (" +
                 Fmt("%.2f", rp / put.baseline) + " of direct); objects / relayed raw " + Fmt("%.2f", put.figure / rp);
    }
    rows->push_back(get);
    rows->push_back(put);
  }

  // ---- 2. 4 KiB PUT and GET rates against the health rate
  void Rates(std::vector<Row>* rows) {
    const int64_t n = o_.small_bytes;
    const std::string data = RandomBytes(static_cast<size_t>(n), 3);
    // The objects the GET workers read.
    if (calibration_) {
      small_keys_.push_back(std::to_string(n));
    } else {
      for (int i = 0; i < kSmallKeys; ++i) small_keys_.push_back("small/" + std::to_string(i));
      if (!PutMany(bucket_, small_keys_, data)) return;
    }
    std::printf("[%s] %lld-byte PUT and GET at concurrency %d over %d channels, %.1f s each (+%.1f s warm-up), "
                "between health Check runs\n",
                mode_.name.c_str(), static_cast<long long>(n), o_.concurrency, o_.channels, o_.seconds, o_.warmup);
    std::fflush(stdout);
    const bool only_get = Part("get_small") && !Part("rates") && !Part("ttfb") && !Part("put_small");
    const bool only_put = Part("put_small") && !Part("rates") && !Part("ttfb") && !Part("get_small");
    const Result h1 = only_get ? Result() : Health();
    const Result put = only_get ? Result() : Closed("put_small", [&](Loop* loop, int i) -> std::unique_ptr<Worker> {
      return std::make_unique<PutWorker>(loop, objects_.stub(static_cast<size_t>(i)), bucket_,
                                         "put/" + std::to_string(i) + "/", data);
    });
    const Result h2 = Health();
    const Result get = only_put ? Result() : Closed("get_small", [&](Loop* loop, int i) -> std::unique_ptr<Worker> {
      return std::make_unique<GetWorker>(loop, objects_.stub(static_cast<size_t>(i)), bucket_, small_keys_,
                                         static_cast<size_t>(i), static_cast<size_t>(o_.concurrency), n, false);
    });
    const Result h3 = only_put ? Result() : Health();
    get_small_rate_ = get.calls_per_s;
    const std::string sz = n % 1024 == 0 ? std::to_string(n / 1024) + " KiB" : std::to_string(n) + " B";
    const std::string c = ", c=" + std::to_string(o_.concurrency);
    Row p = MakeRow("PutObject " + sz + c + " vs health Check", put.calls_per_s, "calls/s",
          (h1.calls_per_s + h2.calls_per_s) / 2);
    p.kind = Row::kRatioAtLeast;
    p.target = 0.4;
    p.note = "p50 " + Fmt("%.2f", put.p50_us / 1000) + " ms, p99 " + Fmt("%.2f", put.p99_us / 1000) +
             " ms; health runs " + Fmt("%.0f", h1.calls_per_s) + ", " + Fmt("%.0f", h2.calls_per_s) + " calls/s";
    Row g = MakeRow("GetObject " + sz + c + " vs health Check", get.calls_per_s, "calls/s",
          (h2.calls_per_s + h3.calls_per_s) / 2);
    g.kind = Row::kRatioAtLeast;
    g.target = 0.6;
    g.note = "p50 " + Fmt("%.2f", get.p50_us / 1000) + " ms, p99 " + Fmt("%.2f", get.p99_us / 1000) +
             " ms; health runs " + Fmt("%.0f", h2.calls_per_s) + ", " + Fmt("%.0f", h3.calls_per_s) + " calls/s";
    rows->push_back(p);
    rows->push_back(g);
  }

  // ---- 5. time to first byte at half the max GET rate (open loop)
  void Ttfb(std::vector<Row>* rows) {
    const double big_rate = big_get_seconds_.empty() ? NAN : 1.0 / Median(big_get_seconds_);
    struct Case {
      std::string label;
      std::vector<std::string> keys;
      int64_t size;
      double max_rate;
      double seconds;
      int workers;
    };
    const double small_seconds = std::max(o_.seconds, o_.quick ? 1.0 : 5.0);
    const double big_seconds = std::max(o_.seconds, o_.quick ? 2.0 : 15.0);
    std::vector<Case> cases = {
        {"ttfb_small", small_keys_, o_.small_bytes, get_small_rate_, small_seconds, std::max(32, o_.concurrency * 2)},
        {"ttfb_big", {big_key_}, big_, big_rate, big_seconds, 4},
    };
    for (const Case& k : cases) {
      const double rate = k.max_rate / 2;
      const std::string sz =
          k.size >= kMiB ? Fmt("%.0f", static_cast<double>(k.size) / kMiB) + " MiB" : std::to_string(k.size / 1024) + " KiB";
      Row r = MakeRow("GetObject " + sz + " time to first data p99, open loop at half max rate", NAN, "ms");
      r.kind = Row::kAtMost;
      r.target = 5;
      if (!(rate > 0) || k.keys.empty()) {
        r.note = "no max rate measured";
        rows->push_back(r);
        continue;
      }
      std::printf("[%s] %s: GetObject %s open loop at %.1f/s (half of %.1f/s), %.1f s\n", mode_.name.c_str(),
                  k.label.c_str(), sz.c_str(), rate, k.max_rate, k.seconds);
      std::fflush(stdout);
      if (cpu_) cpu_->Begin();
      Result res = bench::RunPaced(k.label, rate, k.workers, o_.channels, std::min(o_.warmup, 1.0), k.seconds,
                                   [&](Loop* loop, int i) -> std::unique_ptr<Worker> {
                                     return std::make_unique<GetWorker>(loop, objects_.stub(static_cast<size_t>(i)),
                                                                        bucket_, k.keys, static_cast<size_t>(i),
                                                                        static_cast<size_t>(k.workers), k.size, true);
                                   });
      if (cpu_) cpu_->End(mode_.name + " " + k.label);
      if (cpu_) cpu_->Print(mode_.name + " " + k.label);
      Account(res);
      r.figure = res.ops ? res.p99_us / 1000 : NAN;
      r.note = "at " + Fmt("%.1f", rate) + " calls/s: p50 " + Fmt("%.2f", res.p50_us / 1000) + " ms, max " +
               Fmt("%.2f", res.max_us / 1000) + " ms, n=" + std::to_string(res.ops);
      rows->push_back(r);
    }
  }

  // ---- 3. ListObjectsV2 of a bucket of list_keys keys
  void List(std::vector<Row>* rows) {
    std::vector<std::string> keys;
    for (int i = 0; i < o_.list_keys; ++i) keys.push_back("list/" + Fmt("%06.0f", i));
    const auto t0 = Clock::now();
    if (!PutMany(list_bucket_, keys, RandomBytes(100, 5))) return;
    ov1::ListObjectsV2Request req;
    req.set_bucket(list_bucket_);
    req.set_max_keys(std::min(1000, o_.list_keys));
    {
      grpc::ClientContext ctx;
      bench::SetDeadline(&ctx);
      ov1::ListObjectsV2Response resp;
      if (!Check(objects_.stub()->ListObjectsV2(&ctx, req, &resp), "ListObjectsV2")) return;
      if (resp.contents_size() != std::min(1000, o_.list_keys)) {
        Error("ListObjectsV2 returned " + std::to_string(resp.contents_size()) + " keys, expected " +
              std::to_string(std::min(1000, o_.list_keys)));
      }
      std::printf("[%s] list: %d keys put in %.1f s; ListObjectsV2 response %zu bytes; c=1 for %.1f s\n",
                  mode_.name.c_str(), o_.list_keys, Seconds(Clock::now() - t0), resp.ByteSizeLong(), o_.seconds);
      std::fflush(stdout);
    }
    const std::string method = "/" + std::string(ov1::ObjectsService::service_full_name()) + "/ListObjectsV2";
    grpc::Slice slice = SerializedSlice(req);
    std::vector<grpc::ByteBuffer> reqs = {grpc::ByteBuffer(&slice, 1)};
    const uint64_t n = static_cast<uint64_t>(std::min(1000, o_.list_keys));
    const Result r = Closed(
        "list", [&](Loop* loop, int i) -> std::unique_ptr<Worker> {
          return std::make_unique<bench::RawWorker>(
              loop, objects_.generic(static_cast<size_t>(i)), method, reqs,
              [n](const grpc::ByteBuffer&, bench::RawWorker*) -> uint64_t { return n; });
        },
        1);
    const std::string what = "ListObjectsV2 of " + std::to_string(n) + " keys, c=1";
    Row p50 = MakeRow(what + ", p50", r.p50_us / 1000, "ms");
    Row p99 = MakeRow(what + ", p99", r.p99_us / 1000, "ms");
    p99.note = Fmt("%.0f", r.calls_per_s) + " calls/s, n=" + std::to_string(r.ops);
    rows->push_back(p50);
    rows->push_back(p99);
  }

  // ---- 4. CompleteMultipartUpload of `parts` parts
  void Multipart(std::vector<Row>* rows) {
    const int64_t part_size = 5 * kMiB, last_size = kMiB;
    std::vector<double> ms;
    double upload_mib_s = NAN;
    std::printf("[%s] multipart: %d x (%d parts: %d x 5 MiB + 1 MiB, uploaded on 2 streams), then Complete timed\n",
                mode_.name.c_str(), o_.mpu_repeats, o_.parts, o_.parts - 1);
    std::fflush(stdout);
    for (int rep = 0; rep < o_.mpu_repeats; ++rep) {
      const std::string key = "mpu/" + std::to_string(rep);
      std::string upload_id;
      {
        grpc::ClientContext ctx;
        bench::SetDeadline(&ctx);
        ov1::CreateMultipartUploadRequest req;
        req.set_bucket(bucket_);
        req.set_key(key);
        ov1::CreateMultipartUploadResponse resp;
        if (!Check(objects_.stub()->CreateMultipartUpload(&ctx, req, &resp), "CreateMultipartUpload")) return;
        upload_id = resp.upload_id();
      }
      std::vector<std::string> etags(static_cast<size_t>(o_.parts));
      std::atomic<int> next{0};
      std::atomic<bool> failed{false};
      std::mutex mu;
      const auto t0 = Clock::now();
      auto uploader = [&](size_t channel) {
        for (int p; (p = next.fetch_add(1)) < o_.parts && !failed;) {
          const int64_t size = p == o_.parts - 1 ? last_size : part_size;
          StreamRun r = UploadPartStream(objects_.stub(channel), bucket_, key, upload_id, p + 1, size, data_);
          if (!r.status.ok()) {
            std::lock_guard<std::mutex> lock(mu);
            Error("UploadPart " + std::to_string(p + 1) + ": " + StatusText(r.status));
            failed = true;
            return;
          }
          etags[static_cast<size_t>(p)] = r.etag;
        }
      };
      std::thread a(uploader, 0), b(uploader, 1);
      a.join();
      b.join();
      if (failed) return;
      upload_mib_s = static_cast<double>((o_.parts - 1) * part_size + last_size) / kMiB / Seconds(Clock::now() - t0);
      ov1::CompleteMultipartUploadRequest req;
      req.set_bucket(bucket_);
      req.set_key(key);
      req.set_upload_id(upload_id);
      for (int p = 0; p < o_.parts; ++p) {
        ov1::CompletedPart* part = req.add_parts();
        part->set_part_number(p + 1);
        part->set_etag(etags[static_cast<size_t>(p)]);
      }
      ov1::CompleteMultipartUploadResponse resp;
      grpc::ClientContext ctx;
      bench::SetDeadline(&ctx);
      if (cpu_) cpu_->Begin();
      const auto c0 = Clock::now();
      const grpc::Status s = objects_.stub()->CompleteMultipartUpload(&ctx, req, &resp);
      const double took = Seconds(Clock::now() - c0) * 1000;
      if (cpu_) cpu_->End(mode_.name + " complete");
      if (!Check(s, "CompleteMultipartUpload")) return;
      const int64_t expect = (o_.parts - 1) * part_size + last_size;
      if (resp.size() != expect) {
        Error("CompleteMultipartUpload size " + std::to_string(resp.size()) + ", expected " + std::to_string(expect));
      }
      ms.push_back(took);
      std::printf("  complete %d: %.2f ms (parts uploaded at %.0f MiB/s; etag %s)\n", rep + 1, took, upload_mib_s,
                  resp.etag().c_str());
      std::fflush(stdout);
      // Free the space for the next round.
      grpc::ClientContext dctx;
      bench::SetDeadline(&dctx);
      ov1::DeleteObjectRequest dreq;
      dreq.set_bucket(bucket_);
      dreq.set_key(key);
      ov1::DeleteObjectResponse dresp;
      Check(objects_.stub()->DeleteObject(&dctx, dreq, &dresp), "DeleteObject (multipart object)");
    }
    if (cpu_) cpu_->Print(mode_.name + " complete");
    Row r = MakeRow("CompleteMultipartUpload of " + std::to_string(o_.parts) + " parts, median of " +
              std::to_string(ms.size()),
          Median(ms), "ms");
    r.kind = Row::kAtMost;
    r.target = 50;
    if (!ms.empty()) {
      std::string all;
      for (double x : ms) all += (all.empty() ? "" : ", ") + Fmt("%.1f", x);
      r.note = "each: " + all + " ms; max " + Fmt("%.1f", *std::max_element(ms.begin(), ms.end())) + " ms";
    }
    rows->push_back(r);
  }

  // ---- helpers

  // Puts every key (size of `data`) at concurrency 8 with sync streams on threads.
  bool PutMany(const std::string& bucket, const std::vector<std::string>& keys, const std::string& data) {
    std::atomic<size_t> next{0};
    std::atomic<bool> failed{false};
    std::mutex mu;
    std::vector<std::thread> threads;
    for (size_t t = 0; t < 8; ++t) {
      threads.emplace_back([&, t] {
        for (size_t i; (i = next.fetch_add(1)) < keys.size() && !failed;) {
          grpc::ClientContext ctx;
          bench::SetDeadline(&ctx);
          ov1::PutObjectResponse resp;
          ov1::PutObjectRequest req;
          req.mutable_header()->set_bucket(bucket);
          req.mutable_header()->set_key(keys[i]);
          req.set_data(data);
          auto w = objects_.stub(t)->PutObject(&ctx, &resp);
          w->WriteLast(req, grpc::WriteOptions());
          const grpc::Status s = w->Finish();
          if (!s.ok()) {
            std::lock_guard<std::mutex> lock(mu);
            Error("setup PutObject " + keys[i] + ": " + StatusText(s));
            failed = true;
          }
        }
      });
    }
    for (auto& t : threads) t.join();
    return !failed;
  }

  Result Health() {
    return Closed("health", [&](Loop* loop, int i) -> std::unique_ptr<Worker> {
      return std::make_unique<bench::HealthWorker>(loop, objects_.generic(static_cast<size_t>(i)));
    });
  }

  Result Closed(const std::string& scenario, const bench::WorkerFactory& make, int concurrency = 0) {
    const std::string label = mode_.name + " " + scenario + " #" + std::to_string(results_.size() + 1);
    if (cpu_) cpu_->Begin();
    Result r = bench::RunClosed(scenario, concurrency ? concurrency : o_.concurrency, o_.channels, o_.warmup,
                                o_.seconds, make);
    if (cpu_) cpu_->End(label);
    std::printf("  ");
    bench::PrintHuman(r, kNames);
    if (cpu_) cpu_->Print(label);
    Account(r);
    return r;
  }

  void Account(const Result& r) {
    if (!r.first_error.empty() && first_error_.empty()) first_error_ = r.scenario + ": " + r.first_error;
    results_.push_back(r);
  }

  void Error(const std::string& what) {
    ++stream_errors_;
    if (first_error_.empty()) first_error_ = what;
    std::fprintf(stderr, "%s [%s]: %s\n", kProgram, mode_.name.c_str(), what.c_str());
  }

  bool Check(const grpc::Status& s, const std::string& what) {
    if (s.ok()) return true;
    Error(what + " failed: " + StatusText(s));
    return false;
  }

  static constexpr int kSmallKeys = 64;

  const Options& o_;
  const Mode mode_;
  Target objects_;
  Target raw_;
  std::optional<Target> relay_;
  CpuSampler* const cpu_;
  const std::string run_id_;
  const PutData data_;
  bool calibration_ = false;
  std::string bucket_, list_bucket_, big_key_;
  int64_t big_ = 0;
  std::vector<std::string> small_keys_;
  std::vector<double> big_get_seconds_;
  double get_small_rate_ = NAN;
  std::vector<Result> results_;
  uint64_t stream_errors_ = 0;
  std::string first_error_;
};

// ---------------------------------------------------------------- main

// Takes this program's own flags out of argv for ParseArgs.
std::vector<char*> OwnFlags(int argc, char** argv, Options* o, bool* ok) {
  std::vector<char*> rest = {argv[0]};
  *ok = true;
  const std::map<std::string, std::string*> valued = {{"--json", &o->json_path},
                                                       {"--thingtank", &o->thingtank},
                                                       {"--modes", &o->modes},
                                                       {"--mono", &o->mono_endpoint},
                                                       {"--micro", &o->micro_endpoint},
                                                       {"--only", &o->only}};
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--quick") {
      o->quick = true;
      continue;
    }
    if (a == "--profile") {
      o->profile = true;
      continue;
    }
    if (a == "--endpoint" || a.rfind("--endpoint=", 0) == 0) {
      std::cerr << kProgram << ": use --mono HOST:PORT or --micro HOST:PORT (the gateway of that mode)\n";
      *ok = false;
      return rest;
    }
    bool taken = false;
    for (const auto& [flag, into] : valued) {
      if (a == flag) {
        if (i + 1 >= argc) {
          std::cerr << kProgram << ": " << flag << " needs a value\n";
          *ok = false;
          return rest;
        }
        *into = argv[++i];
        taken = true;
        break;
      }
      if (a.rfind(flag + "=", 0) == 0) {
        *into = a.substr(flag.size() + 1);
        taken = true;
        break;
      }
    }
    if (!taken) rest.push_back(argv[i]);
  }
  return rest;
}

std::string DefaultThingtank(const char* argv0) {
  std::error_code ec;
  std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) self = argv0;
  // build/<preset>/tools/bench/objects_bench -> build/<preset>/tools/thingtank/thingtank
  return (self.parent_path().parent_path() / "thingtank" / "thingtank").string();
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  o.concurrency = 16;
  bool ok = true;
  std::vector<char*> rest = OwnFlags(argc, argv, &o, &ok);
  if (!ok) return 2;
  if (o.quick) {
    o.seconds = 0.5;
    o.warmup = 0.2;
    o.repeats = 2;
    o.big_mib = 4;
    o.list_keys = 100;
    o.parts = 3;
    o.mpu_repeats = 1;
  }
  if (!bench::ParseArgs(static_cast<int>(rest.size()), rest.data(), kProgram, Usage, &o,
                        {{"--repeats", &o.repeats},
                         {"--big-mib", &o.big_mib},
                         {"--small-bytes", &o.small_bytes},
                         {"--list-keys", &o.list_keys},
                         {"--parts", &o.parts},
                         {"--mpu-repeats", &o.mpu_repeats}})) {
    return 2;
  }
  if (o.json) {
    std::cerr << kProgram << ": --json needs a FILE\n";
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);

  RawServer raw;
  if (!raw.Start()) return 1;
  CpuSampler sampler;
  CpuSampler* cpu = o.profile ? &sampler : nullptr;
  sampler.Add("bench", getpid());

  std::vector<std::unique_ptr<Server>> servers;
  std::vector<Mode> modes;
  const std::vector<std::string> common = {"--metrics-port", "0", "--wamp-ws-port", "0"};
  auto flags = [&](std::vector<std::string> f) {
    f.insert(f.end(), common.begin(), common.end());
    return f;
  };
  auto start = [&](const std::string& name, std::vector<std::string> f, const std::string& key) -> Server* {
    auto s = Server::Start(o.thingtank, name, flags(std::move(f)), key);
    if (!s) return nullptr;
    sampler.Add(name, s->pid());
    servers.push_back(std::move(s));
    return servers.back().get();
  };
  if (!o.mono_endpoint.empty() || !o.micro_endpoint.empty()) {
    if (!o.mono_endpoint.empty()) modes.push_back({"mono", "monolithic (running gateway " + o.mono_endpoint + ")", o.mono_endpoint, ""});
    if (!o.micro_endpoint.empty()) modes.push_back({"micro", "microservice (running gateway " + o.micro_endpoint + ")", o.micro_endpoint, ""});
  } else {
    if (o.thingtank.empty()) o.thingtank = DefaultThingtank(argv[0]);
    for (std::stringstream ss(o.modes); ss.good();) {
      std::string m;
      std::getline(ss, m, ',');
      if (m == "mono") {
        Server* s = start("mono", {"--gateway-port", "0"}, "gateway");
        if (s == nullptr) return 1;
        modes.push_back({"mono", "monolithic: thingtank serve, objects in-process behind the gateway (pid " +
                                     std::to_string(s->pid()) + ")",
                         s->endpoint(), ""});
      } else if (m == "micro") {
        Server* svc = start("objects", {"--services=objects", "--objects-port", "0"}, "objects");
        if (svc == nullptr) return 1;
        Server* gw = start("gateway", {"--services=gateway", "--backends=objects=" + svc->endpoint(), "--gateway-port", "0"},
                           "gateway");
        if (gw == nullptr) return 1;
        Server* relay = start("relay", {"--services=gateway", "--backends=objects=" + raw.endpoint(), "--gateway-port", "0"},
                              "gateway");
        if (relay == nullptr) std::cerr << kProgram << ": no relay gateway in front of the raw baseline; going on without\n";
        modes.push_back({"micro", "microservice: gateway (pid " + std::to_string(gw->pid()) + ") -> objects (pid " +
                                      std::to_string(svc->pid()) + ")",
                         gw->endpoint(), relay ? relay->endpoint() : ""});
      } else if (m == "raw") {
        modes.push_back({"raw", "calibration: the raw baseline server in place of the objects service", raw.endpoint(), ""});
      } else if (!m.empty()) {
        std::cerr << kProgram << ": unknown mode '" << m << "' (mono, micro, raw)\n";
        return 2;
      }
    }
  }
  std::printf("objects_bench%s%s: raw baseline on %s; concurrency %d over %d channels, %.1f s runs (+%.1f s warm-up)\n",
              o.quick ? " --quick" : "", o.label.empty() ? "" : (" [" + o.label + "]").c_str(), raw.endpoint().c_str(),
              o.concurrency, o.channels, o.seconds, o.warmup);
  std::fflush(stdout);

  std::vector<std::pair<Mode, std::vector<Row>>> tables;
  bool setup_failed = false;
  for (const Mode& m : modes) {
    std::printf("\n== %s, gateway %s\n", m.title.c_str(), m.endpoint.c_str());
    std::fflush(stdout);
    Bench b(o, m, raw.endpoint(), cpu);
    if (!b.Setup()) {
      setup_failed = true;
      continue;
    }
    tables.emplace_back(m, b.Run());
  }
  for (const auto& [m, rows] : tables) PrintTable("objects benchmark, " + m.title, rows);
  if (!o.json_path.empty()) {
    std::ofstream out(o.json_path);
    out << "{\"program\": \"" << kProgram << "\", \"label\": \"" << bench::JsonEscape(o.label)
        << "\", \"quick\": " << (o.quick ? "true" : "false") << ", \"concurrency\": " << o.concurrency
        << ", \"seconds\": " << o.seconds << ",\n \"figures\": [";
    bool first = true;
    for (const auto& [m, rows] : tables) {
      for (const Row& r : rows) {
        out << (first ? "\n  " : ",\n  ") << RowJson(m.name, r);
        first = false;
      }
    }
    out << "\n ]}\n";
    if (!out) {
      std::cerr << kProgram << ": cannot write " << o.json_path << "\n";
      return 1;
    }
  }
  return setup_failed || tables.empty() ? 1 : 0;
}
