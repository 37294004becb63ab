#pragma once

// Object transfers of `thingtank objects cp` and `cat`: uploads from a local
// file (one streamed PutObject, or a multipart upload above a threshold),
// downloads into a local file (through a temporary file renamed into place)
// or onto a stream. Content moves in 1 MiB chunks as it is read; no side
// holds a whole object in memory. Internal to tools/thingtank/cli.

#include <cstdint>
#include <iosfwd>
#include <memory>
#include <string>

#include "thingtank/objects/v1/objects.grpc.pb.h"
#include "tools/thingtank/cli/cli_common.h"
#include "tools/thingtank/cli/objects_paths.h"
#include "tools/thingtank/cli/objects_progress.h"

namespace thingtank::cli::objects {

namespace v1 = thingtank::objects::v1;
using Stub = v1::ObjectsService::Stub;

inline constexpr int64_t kMiB = 1024 * 1024;
inline constexpr int64_t kChunkBytes = kMiB;
inline constexpr int64_t kDefaultMultipartThreshold = 64 * kMiB;
inline constexpr int64_t kDefaultPartSize = 16 * kMiB;
inline constexpr int64_t kMinPartSize = 5 * kMiB;
inline constexpr int kMaxParts = 10'000;

// How a transfer ended: ok, a failed call, or a local I/O error.
struct Outcome {
  grpc::Status rpc = grpc::Status::OK;
  std::string local_error;  // non-empty: a local failure (the file, the disk)
  std::string warning;      // something left behind (an upload not aborted)

  bool ok() const { return rpc.ok() && local_error.empty(); }
  static Outcome Rpc(grpc::Status status) { return Outcome{std::move(status), "", ""}; }
  static Outcome Local(std::string message) {
    return Outcome{grpc::Status::OK, std::move(message), ""};
  }
};

// A context for a call moving `bytes` (< 0: unknown, up to the largest
// object): the --timeout plus a second per MiB, so a slow transfer is not cut
// short while a hung one still ends.
std::unique_ptr<grpc::ClientContext> TransferContext(const Connection& connection, int64_t bytes);

struct UploadOptions {
  v1::ObjectHeaders headers;
  v1::ChecksumAlgorithm checksum_algorithm = v1::CHECKSUM_ALGORITHM_UNSPECIFIED;
  std::string if_none_match;
  int64_t multipart_threshold = kDefaultMultipartThreshold;
  int64_t part_size = kDefaultPartSize;
};

struct UploadResult {
  std::string etag;
  std::string version_id;
  int64_t size = 0;
  int parts = 0;  // 0: a single PutObject
};

// Uploads the regular file at `path` to `dst`. Above the threshold: a
// multipart upload (part size raised when 10,000 parts would not do), aborted
// when any step fails. `progress` may be null.
Outcome Upload(Stub& stub, const Connection& connection, const std::string& path, const S3Url& dst,
               const UploadOptions& options, ProgressBar* progress, UploadResult* result);

struct DownloadOptions {
  std::string version_id;
  std::string range;  // "bytes=a-b" or empty
};

// Downloads `src` into `path`: written to a temporary file in the same
// directory, renamed over `path` once complete (a failure leaves no file).
// `info` gets the object's attributes. `size_hint` (< 0: unknown) sets the
// deadline.
Outcome Download(Stub& stub, const Connection& connection, const S3Url& src,
                 const DownloadOptions& options, const std::string& path, int64_t size_hint,
                 ProgressBar* progress, v1::ObjectInfo* info);

// Writes the content of `src` to `out` as it arrives (binary-safe).
Outcome StreamObject(Stub& stub, const Connection& connection, const S3Url& src,
                     const DownloadOptions& options, std::ostream& out);

}  // namespace thingtank::cli::objects
