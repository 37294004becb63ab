// objects_bench's shared vocabulary (see objects_bench.cc for what the
// benchmark measures): its constants, its options and the modes it runs, and
// the small helpers every part uses (number formatting, medians, test data,
// protobuf <-> byte buffer).

#pragma once

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "load.h"
#include "thingtank/objects/v1/objects.grpc.pb.h"

namespace thingtank::bench::objects {

namespace ov1 = ::thingtank::objects::v1;
namespace bench = ::thingtank::bench;
using bench::Clock;
using bench::Loop;
using bench::Result;
using bench::Worker;
using Stub = ov1::ObjectsService::Stub;

inline constexpr const char* kProgram = "objects_bench";
inline constexpr int64_t kMiB = 1 << 20;
inline constexpr int64_t kChunk = kMiB;
inline constexpr int kServerMaxMessage = 8 << 20;  // thingtank serve's default --max-message-bytes
inline constexpr auto kStreamTimeout = std::chrono::minutes(5);

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

struct Mode {
  std::string name;      // "mono", "micro"
  std::string title;
  std::string endpoint;  // the gateway
  std::string relay;     // micro: a gateway in front of the raw baseline (may be empty)
};

inline std::string Fmt(const char* fmt, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, v);
  return buf;
}

inline double Median(std::vector<double> v) {
  if (v.empty()) return NAN;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

inline double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// Incompressible bytes (xorshift), so no layer gets a cheap ride on zeros.
inline std::string RandomBytes(size_t n, uint64_t seed) {
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

inline bool ParseBuffer(const grpc::ByteBuffer& buf, google::protobuf::Message* m) {
  std::vector<grpc::Slice> slices;
  if (!buf.Dump(&slices).ok()) return false;
  std::string bytes;
  for (const auto& s : slices) bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
  return m->ParseFromString(bytes);
}

inline grpc::Slice SerializedSlice(const google::protobuf::Message& m) {
  std::string bytes = m.SerializeAsString();
  return grpc::Slice(std::move(bytes));
}

}  // namespace thingtank::bench::objects
