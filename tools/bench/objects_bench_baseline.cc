#include "objects_bench_baseline.h"

#include <grpcpp/generic/async_generic_service.h>

#include <atomic>
#include <cstdlib>
#include <iostream>
#include <vector>

#include "objects_bench.h"

namespace thingtank::bench::objects {

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

RawServer::RawServer() : service_(std::make_unique<RawObjects>()) {}

bool RawServer::Start() {
  grpc::EnableDefaultHealthCheckService(true);  // a gateway in front polls it
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
  builder.SetMaxReceiveMessageSize(kServerMaxMessage);
  builder.SetMaxSendMessageSize(kServerMaxMessage);
  builder.RegisterCallbackGenericService(service_.get());
  server_ = builder.BuildAndStart();
  if (server_ == nullptr || port_ == 0) {
    std::cerr << kProgram << ": cannot start the raw baseline server\n";
    return false;
  }
  return true;
}

RawServer::~RawServer() {
  if (server_) server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
}

}  // namespace thingtank::bench::objects
