// streams_bench's shared vocabulary (see streams_bench.cc for what the
// benchmark measures): its constants, its options and the modes it runs, and
// the small helpers every part uses.

#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>

#include "load.h"
#include "thingtank/streams/v1/streams.grpc.pb.h"

namespace thingtank::bench::streams {

namespace sv1 = ::thingtank::streams::v1;
namespace bench = ::thingtank::bench;
using bench::Clock;
using bench::Loop;
using bench::Result;
using bench::Worker;
using Stub = sv1::StreamsService::Stub;

inline constexpr const char* kProgram = "streams_bench";
inline constexpr int kRecordsPerPut = 500;   // PutRecords' maximum
inline constexpr int kRecordBytes = 100;     // data of each record
inline constexpr int kGetLimit = 10000;      // GetRecords' maximum

struct Options : bench::CommonOptions {
  std::string json_path;
  std::string thingtank;  // the binary; default: next to this one in the build tree
  std::string modes = "mono,micro";
  std::string mono_endpoint, micro_endpoint;  // running gateways instead of started servers
  std::string only;                           // parts to run (empty: all)
  bool profile = false;
  int shards = 4;                  // of each stream
  int fill = 200000;               // records pre-filled into the read stream
  int put_concurrency = 0;         // 0: try kPutSweep and keep the best
  int put_streams = 1;             // streams the put rate run spreads its calls over
  double latency_seconds = 4;      // measured window of each latency run
  double latency_load = 0.5;       // the latency runs' put rate, a fraction of the max
};

// The put concurrencies tried when --put-concurrency is not given.
inline const int kPutSweep[] = {2, 4, 8, 16};

struct Mode {
  std::string name;      // "mono", "micro"
  std::string title;
  std::string endpoint;  // the gateway
};

inline std::string Fmt(const char* fmt, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, v);
  return buf;
}

inline double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

inline int64_t Nanos(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

inline std::string StatusText(const grpc::Status& s) {
  return std::to_string(s.error_code()) + " " + s.error_message();
}

inline grpc::ByteBuffer Serialized(const google::protobuf::Message& m) {
  std::string bytes = m.SerializeAsString();
  grpc::Slice slice(std::move(bytes));
  return grpc::ByteBuffer(&slice, 1);
}

inline std::string Method(const char* name) {
  return "/" + std::string(sv1::StreamsService::service_full_name()) + "/" + name;
}

}  // namespace thingtank::bench::streams
