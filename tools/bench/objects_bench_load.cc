#include "objects_bench_load.h"

#include <algorithm>
#include <chrono>

namespace thingtank::bench::objects {

std::string StatusText(const grpc::Status& s) {
  return std::to_string(s.error_code()) + " " + s.error_message();
}

namespace {

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

}  // namespace

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

namespace {

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

}  // namespace

std::unique_ptr<Worker> MakePutWorker(Loop* loop, Stub* stub, const std::string& bucket, std::string prefix,
                                      const std::string& data) {
  return std::make_unique<PutWorker>(loop, stub, bucket, std::move(prefix), data);
}

std::unique_ptr<Worker> MakeGetWorker(Loop* loop, Stub* stub, const std::string& bucket,
                                      std::vector<std::string> keys, size_t first, size_t stride, int64_t size,
                                      bool ttfb) {
  return std::make_unique<GetWorker>(loop, stub, bucket, std::move(keys), first, stride, size, ttfb);
}

}  // namespace thingtank::bench::objects
