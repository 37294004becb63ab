#pragma once

#include <memory>

#include "services/common/stream_runner.h"
#include "services/objects/core/s3_errors.h"
#include "services/objects/multipart.h"
#include "services/objects/objects.h"
#include "thingtank/objects/v1/objects.pb.h"

namespace thingtank::objects {

// The streamed calls, adapted: the header of the first message opens a
// session, data goes to it as it comes, the end commits. Run by the
// StreamRunner (one message at a time on the executor).
template <typename Req, typename Resp, typename Header, typename Session, typename Open>
class UploadStream final : public ClientStreamHandler<Req, Resp> {
 public:
  explicit UploadStream(Open open) : open_(std::move(open)) {}
  absl::Status OnMessage(const Req& m) override {
    if (session_ == nullptr) {
      if (!m.has_header()) {
        return s3::FieldError("header", "InvalidArgument", "the first message of the stream carries the header");
      }
      TT_ASSIGN_OR_RETURN(session_, open_(m.header()));
    } else if (m.has_header()) {
      return s3::FieldError("header", "InvalidArgument", "only the first message carries the header");
    }
    return m.data().empty() ? absl::OkStatus() : session_->Append(m.data());
  }
  absl::StatusOr<Resp> OnEnd() override {
    if (session_ == nullptr) {
      return s3::FieldError("header", "InvalidArgument", "the stream ended without a header");
    }
    return session_->Finish();
  }

 private:
  Open open_;
  std::unique_ptr<Session> session_;
};

class GetObjectStream final : public ServerStreamHandler<v1::GetObjectRequest, v1::GetObjectResponse> {
 public:
  explicit GetObjectStream(ObjectStore* store) : store_(store) {}
  absl::Status Start(const v1::GetObjectRequest& r) override {
    TT_ASSIGN_OR_RETURN(session_, store_->OpenRead(r));
    return absl::OkStatus();
  }
  absl::Status Next(std::vector<v1::GetObjectResponse>* out, bool* more) override {
    out->emplace_back();
    return session_->Next(&out->back(), more);
  }
  // A small object whose metadata is in memory is answered on the reactor
  // thread; anything that would touch the disk goes the usual way.
  absl::Status StartAndNextNonBlocking(const v1::GetObjectRequest& r, std::vector<v1::GetObjectResponse>* out,
                                       bool* more) override {
    TT_ASSIGN_OR_RETURN(std::unique_ptr<ReadSession> session, store_->OpenRead(r, /*non_blocking=*/true));
    if (!session->in_memory()) return WouldBlock();
    session_ = std::move(session);
    return Next(out, more);
  }

 private:
  ObjectStore* const store_;
  std::unique_ptr<ReadSession> session_;
};

}  // namespace thingtank::objects
