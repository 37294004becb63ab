#include "streams_bench_load.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/wire_format_lite.h>
#include <grpcpp/support/proto_buffer_reader.h>

#include <chrono>
#include <condition_variable>
#include <cstring>
#include <mutex>

namespace thingtank::bench::streams {

namespace {

using google::protobuf::internal::WireFormatLite;

// ---- responses scanned on the wire: the fields the loop needs, the records
// skipped (a GetRecords page is ~2 MB; parsing it would load the client more
// than the server).

struct PutScan {
  int64_t failed = 0;
  int entries = 0;
};

bool ScanPutRecords(const grpc::ByteBuffer& buf, PutScan* out) {
  grpc::ByteBuffer copy(buf);  // shares the slices
  grpc::ProtoBufferReader reader(&copy);
  google::protobuf::io::CodedInputStream in(&reader);
  while (const uint32_t tag = in.ReadTag()) {
    if (tag == WireFormatLite::MakeTag(1, WireFormatLite::WIRETYPE_VARINT)) {
      uint64_t v;
      if (!in.ReadVarint64(&v)) return false;
      out->failed = static_cast<int64_t>(v);
    } else {
      if (tag == WireFormatLite::MakeTag(2, WireFormatLite::WIRETYPE_LENGTH_DELIMITED)) ++out->entries;
      if (!WireFormatLite::SkipField(&in, tag)) return false;
    }
  }
  return in.ConsumedEntireMessage();
}

struct GetScan {
  int records = 0;
  std::string next_iterator;
};

bool ScanGetRecords(const grpc::ByteBuffer& buf, GetScan* out) {
  grpc::ByteBuffer copy(buf);
  grpc::ProtoBufferReader reader(&copy);
  google::protobuf::io::CodedInputStream in(&reader);
  while (const uint32_t tag = in.ReadTag()) {
    if (tag == WireFormatLite::MakeTag(2, WireFormatLite::WIRETYPE_LENGTH_DELIMITED)) {
      if (!WireFormatLite::ReadString(&in, &out->next_iterator)) return false;
    } else {
      if (tag == WireFormatLite::MakeTag(1, WireFormatLite::WIRETYPE_LENGTH_DELIMITED)) ++out->records;
      if (!WireFormatLite::SkipField(&in, tag)) return false;
    }
  }
  return in.ConsumedEntireMessage();
}

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

constexpr char kMagic[4] = {'T', 'T', 'S', 'B'};
constexpr size_t kStampBytes = 8 + 8 + 4 + sizeof kMagic;

}  // namespace

// ---------------------------------------------------------------- requests

sv1::PutRecordsRequest PutRequest(const std::string& stream, uint64_t seed) {
  sv1::PutRecordsRequest req;
  req.set_stream_name(stream);
  const std::string bytes = RandomBytes(static_cast<size_t>(kRecordsPerPut) * kRecordBytes, seed);
  for (int i = 0; i < kRecordsPerPut; ++i) {
    sv1::PutRecordsRequestEntry* e = req.add_records();
    e->set_partition_key("pk-" + std::to_string(i));
    e->set_data(bytes.substr(static_cast<size_t>(i) * kRecordBytes, kRecordBytes));
  }
  return req;
}

void WriteStamp(const Stamp& s, std::string* data) {
  if (data->size() < kStampBytes) data->resize(kStampBytes);
  char* p = data->data();
  std::memcpy(p, &s.sent_ns, 8);
  std::memcpy(p + 8, &s.call, 8);
  std::memcpy(p + 16, &s.index, 4);
  std::memcpy(p + 20, kMagic, sizeof kMagic);
}

bool ReadStamp(const std::string& data, Stamp* s) {
  if (data.size() < kStampBytes || std::memcmp(data.data() + 20, kMagic, sizeof kMagic) != 0) return false;
  std::memcpy(&s->sent_ns, data.data(), 8);
  std::memcpy(&s->call, data.data() + 8, 8);
  std::memcpy(&s->index, data.data() + 16, 4);
  return true;
}

// ---------------------------------------------------------------- workers

std::unique_ptr<Worker> MakePutWorker(Loop* loop, grpc::GenericStub* stub, std::vector<grpc::ByteBuffer> requests) {
  return std::make_unique<bench::RawWorker>(
      loop, stub, Method("PutRecords"), std::move(requests),
      [](const grpc::ByteBuffer& resp, bench::RawWorker* w) -> uint64_t {
        PutScan scan;
        if (!ScanPutRecords(resp, &scan) || scan.entries != kRecordsPerPut) {
          w->Miss(kRecordsPerPut);
          return 0;
        }
        if (scan.failed > 0) w->Miss(static_cast<uint64_t>(scan.failed));
        return static_cast<uint64_t>(kRecordsPerPut - scan.failed);
      });
}

std::unique_ptr<Worker> MakeStampedPutWorker(Loop* loop, grpc::GenericStub* stub, sv1::PutRecordsRequest tmpl,
                                             StampedLoad* load) {
  auto req = std::make_shared<sv1::PutRecordsRequest>(std::move(tmpl));
  return std::make_unique<bench::RawWorker>(
      loop, stub, Method("PutRecords"),
      [req, load](uint64_t) {
        Stamp s;
        s.sent_ns = Nanos(Clock::now());
        s.call = load->next_call.fetch_add(1);
        if (s.sent_ns >= load->window_from_ns.load() && s.sent_ns < load->window_to_ns.load()) {
          load->calls_in_window.fetch_add(1);
        }
        for (int i = 0; i < req->records_size(); ++i) {
          s.index = static_cast<uint32_t>(i);
          WriteStamp(s, req->mutable_records(i)->mutable_data());
        }
        return Serialized(*req);
      },
      [n = req->records_size()](const grpc::ByteBuffer& resp, bench::RawWorker* w) -> uint64_t {
        PutScan scan;
        if (!ScanPutRecords(resp, &scan) || scan.entries != n) {
          w->Miss(static_cast<uint64_t>(n));
          return 0;
        }
        if (scan.failed > 0) w->Miss(static_cast<uint64_t>(scan.failed));
        return static_cast<uint64_t>(n - scan.failed);
      });
}

std::unique_ptr<Worker> MakeGetWorker(Loop* loop, grpc::GenericStub* stub, std::string start) {
  struct Cursor {
    std::string start, next;
  };
  auto cursor = std::make_shared<Cursor>();
  cursor->start = std::move(start);
  return std::make_unique<bench::RawWorker>(
      loop, stub, Method("GetRecords"),
      [cursor](uint64_t) {
        sv1::GetRecordsRequest req;
        req.set_shard_iterator(cursor->next.empty() ? cursor->start : cursor->next);
        req.set_limit(kGetLimit);
        return Serialized(req);
      },
      [cursor](const grpc::ByteBuffer& resp, bench::RawWorker* w) -> uint64_t {
        GetScan scan;
        if (!ScanGetRecords(resp, &scan)) {
          w->Miss();
          cursor->next.clear();
          return 0;
        }
        if (scan.records == 0) w->Miss();
        // A short page is the tip: start over.
        cursor->next = scan.records < kGetLimit ? std::string() : std::move(scan.next_iterator);
        return static_cast<uint64_t>(scan.records);
      });
}

// ---------------------------------------------------------------- latency probes

void Arrivals::Add(const sv1::Record& r, Clock::time_point at, const StampedLoad& load) {
  Stamp s;
  if (!ReadStamp(r.data(), &s)) {
    ++unstamped;
    return;
  }
  if (!seen_.insert((s.call << 16) | s.index).second) {
    ++duplicates;
    return;
  }
  if (s.sent_ns >= load.window_from_ns.load() && s.sent_ns < load.window_to_ns.load()) {
    latency_ns.push_back(Nanos(at) - s.sent_ns);
    ++in_window;
  } else {
    ++outside_window;
  }
}

void Probe::Stop() {
  stop_ = true;
  Interrupt();
  if (thread_.joinable()) thread_.join();
}

void Probe::Note(Clock::time_point at, const google::protobuf::RepeatedPtrField<sv1::Record>& records) {
  ++arrivals_.reads;
  if (records.empty()) ++arrivals_.empty_reads;
  for (const sv1::Record& r : records) arrivals_.Add(r, at, *load_);
  in_window_.store(arrivals_.in_window);
}

void Probe::Error(const grpc::Status& s) {
  ++arrivals_.errors;
  if (arrivals_.first_error.empty()) arrivals_.first_error = StatusText(s);
}

namespace {

void SetDeadline(grpc::ClientContext* ctx, std::chrono::seconds s) {
  ctx->set_deadline(std::chrono::system_clock::now() + s);
}

// GetRecords in a tight loop (no pause between calls: the best a poller can
// do) from a LATEST iterator taken at Start.
class Poller final : public Probe {
 public:
  Poller(Stub* stub, const StampedLoad* load, std::string stream, std::string shard)
      : Probe(stub, load), stream_(std::move(stream)), shard_(std::move(shard)) {}
  ~Poller() override { Stop(); }

  bool Start(std::string* error) override {
    grpc::ClientContext ctx;
    SetDeadline(&ctx, std::chrono::seconds(10));
    sv1::GetShardIteratorRequest req;
    req.set_stream_name(stream_);
    req.set_shard_id(shard_);
    req.set_shard_iterator_type(sv1::SHARD_ITERATOR_TYPE_LATEST);
    sv1::GetShardIteratorResponse resp;
    const grpc::Status s = stub_->GetShardIterator(&ctx, req, &resp);
    if (!s.ok()) {
      *error = "GetShardIterator LATEST: " + StatusText(s);
      return false;
    }
    arrivals_.read_ns.reserve(1 << 18);
    thread_ = std::thread([this, it = resp.shard_iterator()]() mutable { Run(std::move(it)); });
    return true;
  }

 private:
  void Run(std::string iterator) {
    sv1::GetRecordsRequest req;
    req.set_limit(kGetLimit);
    sv1::GetRecordsResponse resp;
    while (!stop_.load()) {
      grpc::ClientContext ctx;
      SetDeadline(&ctx, std::chrono::seconds(10));
      req.set_shard_iterator(iterator);
      const auto t0 = Clock::now();
      const grpc::Status s = stub_->GetRecords(&ctx, req, &resp);
      const auto at = Clock::now();
      if (!s.ok()) {
        Error(s);
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
        continue;
      }
      arrivals_.read_ns.push_back(std::chrono::duration_cast<std::chrono::nanoseconds>(at - t0).count());
      Note(at, resp.records());
      if (resp.next_shard_iterator().empty()) break;  // the shard closed
      iterator = resp.next_shard_iterator();
    }
  }

  const std::string stream_, shard_;
};

// One SubscribeToShard call from LATEST; Start waits for its first event.
class Subscriber final : public Probe {
 public:
  Subscriber(Stub* stub, const StampedLoad* load, std::string consumer_arn, std::string shard)
      : Probe(stub, load), consumer_arn_(std::move(consumer_arn)), shard_(std::move(shard)) {}
  ~Subscriber() override { Stop(); }

  bool Start(std::string* error) override {
    SetDeadline(&ctx_, std::chrono::seconds(600));
    thread_ = std::thread([this] { Run(); });
    std::unique_lock<std::mutex> lock(mu_);
    if (!cv_.wait_for(lock, std::chrono::seconds(10), [&] { return started_ || ended_; }) || !started_) {
      lock.unlock();
      Stop();
      *error = "SubscribeToShard: no first event within 10 s" +
               (arrivals_.first_error.empty() ? std::string() : " (" + arrivals_.first_error + ")");
      return false;
    }
    return true;
  }

 private:
  void Interrupt() override { ctx_.TryCancel(); }

  void Run() {
    sv1::SubscribeToShardRequest req;
    req.set_consumer_arn(consumer_arn_);
    req.set_shard_id(shard_);
    req.mutable_starting_position()->set_type(sv1::SHARD_ITERATOR_TYPE_LATEST);
    auto reader = stub_->SubscribeToShard(&ctx_, req);
    sv1::SubscribeToShardResponse event;
    while (reader->Read(&event)) {
      const auto at = Clock::now();
      Note(at, event.records());
      if (!started_) {
        std::lock_guard<std::mutex> lock(mu_);
        started_ = true;
        cv_.notify_all();
      }
    }
    const grpc::Status s = reader->Finish();
    if (!stop_.load()) {
      // Ended before Stop: an error, or (OK) the subscription's 5 minutes.
      Error(s.ok() ? grpc::Status(grpc::StatusCode::ABORTED, "the subscription ended before the run did") : s);
    }
    std::lock_guard<std::mutex> lock(mu_);
    ended_ = true;
    cv_.notify_all();
  }

  const std::string consumer_arn_, shard_;
  grpc::ClientContext ctx_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool started_ = false;  // written under mu_ (read without it on the reading thread only)
  bool ended_ = false;
};

}  // namespace

std::unique_ptr<Probe> MakePoller(Stub* stub, const StampedLoad* load, std::string stream, std::string shard) {
  return std::make_unique<Poller>(stub, load, std::move(stream), std::move(shard));
}

std::unique_ptr<Probe> MakeSubscriber(Stub* stub, const StampedLoad* load, std::string consumer_arn,
                                      std::string shard) {
  return std::make_unique<Subscriber>(stub, load, std::move(consumer_arn), std::move(shard));
}

}  // namespace thingtank::bench::streams
