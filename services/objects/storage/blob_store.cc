#include "services/objects/storage/blob_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"

namespace thingtank::objects {
namespace {

absl::Status ErrnoStatus(std::string_view what, const std::string& path) {
  int e = errno;
  std::string message = absl::StrCat(std::string(what), " ", path, ": ", std::strerror(e));
  // ENOSPC and friends are worth retrying later; others are not ours to fix.
  if (e == ENOSPC || e == EDQUOT || e == EIO || e == EAGAIN || e == EINTR) {
    return absl::UnavailableError(message);
  }
  return absl::InternalError(message);
}

std::string NewId() {
  static absl::Mutex* mu = new absl::Mutex;
  static absl::BitGen* gen = new absl::BitGen;
  absl::MutexLock lock(mu);
  return absl::StrFormat("%016x%016x", absl::Uniform<uint64_t>(*gen), absl::Uniform<uint64_t>(*gen));
}

bool IsBlobId(std::string_view name) {
  if (name.size() != 32) return false;
  for (char c : name) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace

absl::StatusOr<std::unique_ptr<BlobStore>> BlobStore::Open(std::string root, bool sync) {
  std::error_code ec;
  std::filesystem::create_directories(root, ec);
  if (ec) return absl::InternalError(absl::StrCat("cannot create ", root, ": ", ec.message()));
  return std::unique_ptr<BlobStore>(new BlobStore(std::move(root), sync));
}

std::string BlobStore::PathOf(std::string_view id) const {
  return absl::StrCat(root_, "/", std::string(id.substr(0, 2)), "/", std::string(id));
}

absl::StatusOr<std::unique_ptr<BlobStore::Writer>> BlobStore::Create() {
  std::string id = NewId();
  std::string path = PathOf(id);
  std::string dir = absl::StrCat(root_, "/", id.substr(0, 2));
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) return ErrnoStatus("mkdir", dir);
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoStatus("create", path);
  return std::unique_ptr<Writer>(new Writer(std::move(id), std::move(path), fd, sync_));
}

BlobStore::Writer::~Writer() {
  if (fd_ >= 0) ::close(fd_);
  if (!kept_) ::unlink(path_.c_str());
}

absl::Status BlobStore::Writer::Append(std::string_view data) {
  const char* p = data.data();
  size_t left = data.size();
  while (left > 0) {
    ssize_t n = ::write(fd_, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("write", path_);
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  size_ += static_cast<int64_t>(data.size());
  return absl::OkStatus();
}

absl::Status BlobStore::Writer::Finish() {
  if (sync_ && ::fdatasync(fd_) != 0) return ErrnoStatus("fdatasync", path_);
  int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) return ErrnoStatus("close", path_);
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<BlobStore::Reader>> BlobStore::OpenForRead(std::string_view id) const {
  std::string path = PathOf(id);
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return absl::DataLossError(absl::StrCat("blob ", std::string(id), " is missing"));
    return ErrnoStatus("open", path);
  }
  return std::unique_ptr<Reader>(new Reader(fd));
}

BlobStore::Reader::~Reader() { ::close(fd_); }

absl::Status BlobStore::Reader::ReadAt(int64_t offset, int64_t length, std::string* out) const {
  out->resize(static_cast<size_t>(length));
  int64_t done = 0;
  while (done < length) {
    ssize_t n = ::pread(fd_, out->data() + done, static_cast<size_t>(length - done), offset + done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("read", "blob");
    }
    if (n == 0) return absl::DataLossError("blob shorter than its record");
    done += n;
  }
  return absl::OkStatus();
}

absl::Status BlobStore::Remove(std::string_view id) {
  std::string path = PathOf(id);
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return ErrnoStatus("unlink", path);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> BlobStore::List() const {
  std::vector<std::string> ids;
  std::error_code ec;
  for (const auto& dir : std::filesystem::directory_iterator(root_, ec)) {
    if (!dir.is_directory()) continue;
    for (const auto& file : std::filesystem::directory_iterator(dir.path(), ec)) {
      std::string name = file.path().filename().string();
      if (IsBlobId(name)) ids.push_back(std::move(name));
    }
  }
  if (ec) return absl::InternalError(absl::StrCat("cannot list ", root_, ": ", ec.message()));
  return ids;
}

absl::StatusOr<int64_t> BlobStore::TotalBytes() const {
  int64_t total = 0;
  std::error_code ec;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(root_, ec)) {
    if (entry.is_regular_file()) total += static_cast<int64_t>(entry.file_size());
  }
  if (ec) return absl::InternalError(absl::StrCat("cannot list ", root_, ": ", ec.message()));
  return total;
}

}  // namespace thingtank::objects
