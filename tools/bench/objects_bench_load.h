// objects_bench's client side: one endpoint's channels and stubs, the sync
// streams (PutObject, GetObject, UploadPart of big objects in 1 MiB chunks,
// timed, with GET's time to first data) and the callback workers of the
// closed and open loops (4 KiB PutObject with fresh keys; GetObject to the end
// of the stream or to the first data).

#pragma once

#include <grpcpp/grpcpp.h>

#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "load.h"
#include "objects_bench.h"

namespace thingtank::bench::objects {

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

std::string StatusText(const grpc::Status& s);

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

StreamRun PutStream(Stub* stub, const std::string& bucket, const std::string& key, int64_t size,
                    const PutData& data);
StreamRun GetStream(Stub* stub, const std::string& bucket, const std::string& key, int64_t expect);
StreamRun UploadPartStream(Stub* stub, const std::string& bucket, const std::string& key,
                           const std::string& upload_id, int part, int64_t size, const PutData& data);

// ---------------------------------------------------------------- callback workers

// PutObject of `data` in one message (header and data), a fresh key per
// call: "<prefix><n>".
std::unique_ptr<Worker> MakePutWorker(Loop* loop, Stub* stub, const std::string& bucket, std::string prefix,
                                      const std::string& data);

// GetObject of keys[(first + n * stride) % keys.size()], each `size` bytes.
// The latency is to the end of the call, or (ttfb) to the first message with
// data; the rest of the stream is read either way.
std::unique_ptr<Worker> MakeGetWorker(Loop* loop, Stub* stub, const std::string& bucket,
                                      std::vector<std::string> keys, size_t first, size_t stride, int64_t size,
                                      bool ttfb);

}  // namespace thingtank::bench::objects
