// streams_bench's client side: the PutRecords and GetRecords workers of the
// closed and paced loops (generic calls with pre-serialized or freshly
// stamped requests; responses scanned on the wire, never parsed into
// messages), the stamped record data the latency runs send, and the two
// latency probes that read it back: a GetRecords poller and a SubscribeToShard
// subscriber, each on its own thread with the sync API.

#pragma once

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "load.h"
#include "streams_bench.h"

namespace thingtank::bench::streams {

// ---------------------------------------------------------------- requests

// A PutRecords request of kRecordsPerPut records of kRecordBytes each, with
// partition keys "pk-0" .. "pk-499" (the same in every request, so each key
// always lands on the same shard); `seed` varies the bytes.
sv1::PutRecordsRequest PutRequest(const std::string& stream, uint64_t seed);

// The stamp at the front of a latency run's record data: when the PutRecords
// call carrying it started (the client's steady clock, just before the
// request was built and sent), the call's number and the record's index.
struct Stamp {
  int64_t sent_ns = 0;
  uint64_t call = 0;
  uint32_t index = 0;
};
void WriteStamp(const Stamp& s, std::string* data);  // data is kRecordBytes long
bool ReadStamp(const std::string& data, Stamp* s);   // false: not a stamped record

// ---------------------------------------------------------------- workers

// PutRecords of `requests` in turn. Units: records written; records the
// response reports failed count as misses (and the first as an error note).
std::unique_ptr<Worker> MakePutWorker(Loop* loop, grpc::GenericStub* stub, std::vector<grpc::ByteBuffer> requests);

// What the paced put load shares between its workers: the calls' numbers and
// the window whose calls the latency probes measure.
struct StampedLoad {
  std::atomic<uint64_t> next_call{0};
  std::atomic<int64_t> window_from_ns{0}, window_to_ns{0};
  std::atomic<uint64_t> calls_in_window{0};
};

// PutRecords of `tmpl`'s records, each stamped afresh (Stamp) at the start of
// every call.
std::unique_ptr<Worker> MakeStampedPutWorker(Loop* loop, grpc::GenericStub* stub, sv1::PutRecordsRequest tmpl,
                                             StampedLoad* load);

// GetRecords (limit kGetLimit) from `start`, following next_shard_iterator
// and starting over at `start` once at the tip (a short page or
// millis_behind_latest 0). Units: records read; empty pages count as misses.
std::unique_ptr<Worker> MakeGetWorker(Loop* loop, grpc::GenericStub* stub, std::string start);

// ---------------------------------------------------------------- latency probes

// The arrivals a probe saw. Filled by the probe's thread only; read once it
// has stopped.
struct Arrivals {
  std::vector<int64_t> latency_ns;  // first arrival of each stamped record sent in the window
  uint64_t in_window = 0;           // = latency_ns.size() until percentiles reorder it
  uint64_t outside_window = 0;      // stamped records of warm-up or drain calls
  uint64_t duplicates = 0;          // stamped records seen again
  uint64_t unstamped = 0;           // records not from this load
  uint64_t reads = 0;               // GetRecords calls or SubscribeToShard events
  uint64_t empty_reads = 0;         // of those, without records
  std::vector<int64_t> read_ns;     // poller: each GetRecords call's duration
  std::string first_error;
  uint64_t errors = 0;

  // A record returned at `at`.
  void Add(const sv1::Record& r, Clock::time_point at, const StampedLoad& load);

 private:
  std::unordered_set<uint64_t> seen_;  // (call << 16) | index
};

// Reads one shard on its own thread until Stop: a GetRecords poller (tight
// loop from a LATEST iterator) or a SubscribeToShard subscriber (from
// LATEST). Start returns once reading has begun (the iterator taken, the
// subscription's first event received).
class Probe {
 public:
  virtual ~Probe() = default;  // subclasses Stop() in theirs
  virtual bool Start(std::string* error) = 0;
  // Stops reading (and cancels a subscription), joins the thread.
  void Stop();
  const Arrivals& arrivals() const { return arrivals_; }
  uint64_t in_window() const { return in_window_.load(); }

 protected:
  Probe(Stub* stub, const StampedLoad* load) : stub_(stub), load_(load) {}
  // Wakes the thread up from a blocking read (a subscription's).
  virtual void Interrupt() {}
  void Note(Clock::time_point at, const google::protobuf::RepeatedPtrField<sv1::Record>& records);
  void Error(const grpc::Status& s);

  Stub* const stub_;
  const StampedLoad* const load_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> in_window_{0};  // for the drain to watch
  std::thread thread_;
  Arrivals arrivals_;
};

std::unique_ptr<Probe> MakePoller(Stub* stub, const StampedLoad* load, std::string stream, std::string shard);
std::unique_ptr<Probe> MakeSubscriber(Stub* stub, const StampedLoad* load, std::string consumer_arn,
                                      std::string shard);

}  // namespace thingtank::bench::streams
