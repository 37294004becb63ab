// objects_bench's raw gRPC streaming baseline: an in-process
// CallbackGenericService on 127.0.0.1 (real TCP, thingtank serve's 8 MiB
// message limit) answering ObjectsService/PutObject by discarding every byte
// and ObjectsService/GetObject (key = the size in bytes) with a preallocated,
// pre-serialized 1 MiB chunk message again and again. What the objects service
// is measured against, and (--modes raw) stands in for it in calibration.

#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

namespace thingtank::bench::objects {

class RawObjects;

class RawServer {
 public:
  RawServer();
  ~RawServer();
  bool Start();
  std::string endpoint() const { return "127.0.0.1:" + std::to_string(port_); }
  int port() const { return port_; }

 private:
  std::unique_ptr<RawObjects> service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

}  // namespace thingtank::bench::objects
