#include "tools/thingtank/cli/objects_transfer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <functional>
#include <ostream>
#include <vector>

namespace thingtank::cli::objects {
namespace {

constexpr int64_t kNanosPerSecond = 1'000'000'000;
// The largest object S3 stores in one put; bounds a deadline of unknown size.
constexpr int64_t kLargestObject = 5LL * 1024 * kMiB;

std::string Errno(const std::string& what, const std::string& path) {
  return what + " " + path + ": " + std::strerror(errno);
}

// An open file descriptor, closed on destruction.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { Close(); }
  int get() const { return fd_; }
  bool Close() {
    if (fd_ < 0) return true;
    const int rc = ::close(fd_);
    fd_ = -1;
    return rc == 0;
  }

 private:
  int fd_;
};

// Reads exactly `length` bytes at `offset` into `out`.
bool ReadAt(int fd, int64_t offset, int64_t length, std::string* out, std::string* error,
            const std::string& path) {
  out->resize(static_cast<size_t>(length));
  int64_t done = 0;
  while (done < length) {
    const ssize_t n = ::pread(fd, out->data() + done, static_cast<size_t>(length - done),
                              static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      *error = Errno("cannot read", path);
      return false;
    }
    if (n == 0) {
      *error = "cannot read " + path + ": the file shrank while it was uploaded";
      return false;
    }
    done += n;
  }
  return true;
}

bool WriteAll(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

// Streams [offset, offset + length) of the file through `writer`, the first
// message being `first` (the header) with the first chunk. Returns false when
// the stream broke (the status then says why) or, with *error set, when the
// file could not be read.
template <typename Request, typename Writer>
bool StreamFile(int fd, const std::string& path, int64_t offset, int64_t length, Request first,
                Writer& writer, ProgressBar* progress, std::string* error) {
  Request request = std::move(first);
  int64_t sent = 0;
  do {
    const int64_t n = std::min<int64_t>(kChunkBytes, length - sent);
    if (!ReadAt(fd, offset + sent, n, request.mutable_data(), error, path)) return false;
    if (!writer.Write(request)) return false;
    sent += n;
    if (progress != nullptr) progress->Add(n);
    request.Clear();
  } while (sent < length);
  return true;
}

// Ends a client stream: WritesDone unless it broke, then Finish.
template <typename Writer>
Outcome EndStream(grpc::ClientContext& context, Writer& writer, const std::string& local_error) {
  if (!local_error.empty()) {
    context.TryCancel();
    // The server's own failure, if it failed first, says more than ours.
    const grpc::Status status = writer.Finish();
    if (!status.ok() && status.error_code() != grpc::StatusCode::CANCELLED)
      return Outcome::Rpc(status);
    return Outcome::Local(local_error);
  }
  writer.WritesDone();
  return Outcome::Rpc(writer.Finish());
}

Outcome PutWhole(Stub& stub, const Connection& connection, int fd, const std::string& path,
                 int64_t size, const S3Url& dst, const UploadOptions& options,
                 ProgressBar* progress, UploadResult* result) {
  v1::PutObjectRequest first;
  v1::PutObjectHeader* header = first.mutable_header();
  header->set_bucket(dst.bucket);
  header->set_key(dst.key);
  *header->mutable_headers() = options.headers;
  header->set_checksum_algorithm(options.checksum_algorithm);
  header->mutable_conditions()->set_if_none_match(options.if_none_match);
  header->set_content_length(size);
  const auto context = TransferContext(connection, size);
  v1::PutObjectResponse response;
  const auto writer = stub.PutObject(context.get(), &response);
  std::string error;
  StreamFile(fd, path, 0, size, std::move(first), *writer, progress, &error);
  Outcome outcome = EndStream(*context, *writer, error);
  if (outcome.ok()) {
    result->etag = response.etag();
    result->version_id = response.version_id();
    result->size = response.size();
  }
  return outcome;
}

// Abandons the upload after `outcome` (its failure), noting in it when even
// that fails: a lifecycle rule (AbortIncompleteMultipartUpload) or `rb
// --force` reclaims it then.
Outcome Abort(Stub& stub, const Connection& connection, const S3Url& dst,
              const std::string& upload_id, Outcome outcome) {
  v1::AbortMultipartUploadRequest request;
  request.set_bucket(dst.bucket);
  request.set_key(dst.key);
  request.set_upload_id(upload_id);
  v1::AbortMultipartUploadResponse response;
  const grpc::Status status =
      stub.AbortMultipartUpload(connection.NewContext().get(), request, &response);
  if (!status.ok()) {
    outcome.warning = "the multipart upload " + upload_id +
                      " could not be aborted: " + DescribeRpcError(status, connection.options());
  }
  return outcome;
}

Outcome PutParts(Stub& stub, const Connection& connection, int fd, const std::string& path,
                 int64_t size, const S3Url& dst, const UploadOptions& options,
                 ProgressBar* progress, UploadResult* result) {
  int64_t part_size = options.part_size;
  if ((size + part_size - 1) / part_size > kMaxParts) {
    part_size = ((size + kMaxParts - 1) / kMaxParts + kMiB - 1) / kMiB * kMiB;
  }
  v1::CreateMultipartUploadRequest create;
  create.set_bucket(dst.bucket);
  create.set_key(dst.key);
  *create.mutable_headers() = options.headers;
  create.set_checksum_algorithm(options.checksum_algorithm);
  v1::CreateMultipartUploadResponse created;
  grpc::Status status = stub.CreateMultipartUpload(connection.NewContext().get(), create, &created);
  if (!status.ok()) return Outcome::Rpc(status);

  v1::CompleteMultipartUploadRequest complete;
  complete.set_bucket(dst.bucket);
  complete.set_key(dst.key);
  complete.set_upload_id(created.upload_id());
  complete.mutable_conditions()->set_if_none_match(options.if_none_match);
  int32_t number = 1;
  for (int64_t offset = 0; offset < size; offset += part_size, ++number) {
    const int64_t length = std::min(part_size, size - offset);
    v1::UploadPartRequest first;
    v1::UploadPartHeader* header = first.mutable_header();
    header->set_bucket(dst.bucket);
    header->set_key(dst.key);
    header->set_upload_id(created.upload_id());
    header->set_part_number(number);
    header->set_content_length(length);
    const auto context = TransferContext(connection, length);
    v1::UploadPartResponse part;
    const auto writer = stub.UploadPart(context.get(), &part);
    std::string error;
    StreamFile(fd, path, offset, length, std::move(first), *writer, progress, &error);
    Outcome outcome = EndStream(*context, *writer, error);
    if (!outcome.ok()) return Abort(stub, connection, dst, created.upload_id(), outcome);
    v1::CompletedPart* done = complete.add_parts();
    done->set_part_number(number);
    done->set_etag(part.etag());
    *done->mutable_checksums() = part.checksums();
  }
  v1::CompleteMultipartUploadResponse response;
  status = stub.CompleteMultipartUpload(TransferContext(connection, 0).get(), complete, &response);
  if (!status.ok()) return Abort(stub, connection, dst, created.upload_id(), Outcome::Rpc(status));
  result->etag = response.etag();
  result->version_id = response.version_id();
  result->size = response.size();
  result->parts = complete.parts_size();
  return Outcome{};
}

// Reads `src` as a stream, handing each chunk to `sink` (false: stop, with
// the sink's error). `on_info` gets the first message.
Outcome ReadObject(Stub& stub, const Connection& connection, const S3Url& src,
                   const DownloadOptions& options, int64_t size_hint,
                   const std::function<void(const v1::GetObjectResponse&)>& on_first,
                   const std::function<bool(const std::string&, std::string*)>& sink) {
  v1::GetObjectRequest request;
  request.set_bucket(src.bucket);
  request.set_key(src.key);
  request.set_version_id(options.version_id);
  request.set_range(options.range);
  const auto context = TransferContext(connection, size_hint);
  const auto reader = stub.GetObject(context.get(), request);
  v1::GetObjectResponse message;
  bool first = true;
  std::string error;
  while (reader->Read(&message)) {
    if (first) {
      on_first(message);
      first = false;
    }
    if (!message.data().empty() && !sink(message.data(), &error)) {
      context->TryCancel();
      const grpc::Status status = reader->Finish();
      if (!status.ok() && status.error_code() != grpc::StatusCode::CANCELLED) {
        return Outcome::Rpc(status);
      }
      return Outcome::Local(error);
    }
  }
  return Outcome::Rpc(reader->Finish());
}

}  // namespace

std::unique_ptr<grpc::ClientContext> TransferContext(const Connection& connection, int64_t bytes) {
  const int64_t size = bytes < 0 ? kLargestObject : bytes;
  return connection.NewContext((size / kMiB + 1) * kNanosPerSecond);
}

Outcome Upload(Stub& stub, const Connection& connection, const std::string& path, const S3Url& dst,
               const UploadOptions& options, ProgressBar* progress, UploadResult* result) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return Outcome::Local(Errno("cannot open", path));
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return Outcome::Local(Errno("cannot stat", path));
  if (!S_ISREG(st.st_mode)) return Outcome::Local(path + " is not a regular file");
  const int64_t size = st.st_size;
  if (progress != nullptr) progress->SetTotal(size);
  if (size > options.multipart_threshold) {
    return PutParts(stub, connection, fd.get(), path, size, dst, options, progress, result);
  }
  return PutWhole(stub, connection, fd.get(), path, size, dst, options, progress, result);
}

Outcome Download(Stub& stub, const Connection& connection, const S3Url& src,
                 const DownloadOptions& options, const std::string& path, int64_t size_hint,
                 ProgressBar* progress, v1::ObjectInfo* info) {
  const size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : path.substr(0, slash + 1);
  const std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  std::string temp = (slash == std::string::npos ? "" : dir) + "." + base + ".tt-XXXXXX";
  std::vector<char> name(temp.begin(), temp.end());
  name.push_back('\0');
  Fd fd(::mkostemp(name.data(), O_CLOEXEC));
  if (fd.get() < 0) return Outcome::Local(Errno("cannot create a file in", dir));
  temp = name.data();
  // mkstemp makes 0600; a downloaded file gets the usual 0666 & ~umask.
  const mode_t mask = ::umask(0);
  ::umask(mask);
  if (::fchmod(fd.get(), 0666 & ~mask) != 0) {
    // Not fatal: the file is complete, only readable by its owner alone.
  }

  Outcome outcome = ReadObject(
      stub, connection, src, options, size_hint,
      [&](const v1::GetObjectResponse& first) {
        *info = first.info();
        if (progress != nullptr) progress->SetTotal(first.content_length());
      },
      [&](const std::string& data, std::string* error) {
        if (!WriteAll(fd.get(), data)) {
          *error = Errno("cannot write", temp);
          return false;
        }
        if (progress != nullptr) progress->Add(static_cast<int64_t>(data.size()));
        return true;
      });
  if (outcome.ok() && !fd.Close()) outcome = Outcome::Local(Errno("cannot write", temp));
  if (outcome.ok() && ::rename(temp.c_str(), path.c_str()) != 0) {
    outcome = Outcome::Local(Errno("cannot rename " + temp + " to", path));
  }
  if (!outcome.ok()) ::unlink(temp.c_str());
  return outcome;
}

Outcome StreamObject(Stub& stub, const Connection& connection, const S3Url& src,
                     const DownloadOptions& options, std::ostream& out) {
  Outcome outcome = ReadObject(
      stub, connection, src, options, -1, [](const v1::GetObjectResponse&) {},
      [&](const std::string& data, std::string* error) {
        out.write(data.data(), static_cast<std::streamsize>(data.size()));
        if (!out) *error = "cannot write the output";
        return static_cast<bool>(out);
      });
  out.flush();
  if (outcome.ok() && !out) return Outcome::Local("cannot write the output");
  return outcome;
}

}  // namespace thingtank::cli::objects
