#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace thingtank::objects {

// The files that hold object content: <root>/<2 hex>/<32 hex>, named by a
// random blob id, never by a key. A file is written once, from start to end,
// then only read until it is removed. Whether a file belongs to anything is
// recorded in RocksDB (blobs column family), not here: a file no record names
// is an orphan (a put cut short by a crash) and RemoveOrphans deletes it.
// Thread-safe; every call blocks on disk.
class BlobStore {
 public:
  // Creates the directory if needed. With `sync`, Finish fsyncs the file
  // (power-loss durability, as --sync-writes asks of RocksDB).
  static absl::StatusOr<std::unique_ptr<BlobStore>> Open(std::string root, bool sync);

  // Writes one new blob. Destroying a writer that was not kept removes its
  // file: content that never committed leaves nothing behind.
  class Writer {
   public:
    ~Writer();
    Writer(const Writer&) = delete;
    Writer& operator=(const Writer&) = delete;
    const std::string& id() const { return id_; }
    int64_t size() const { return size_; }
    absl::Status Append(std::string_view data);
    // Flushes (and with sync, fsyncs) and closes.
    absl::Status Finish();
    // The file's record is committed: the file stays when the writer goes.
    void Keep() { kept_ = true; }

   private:
    friend class BlobStore;
    Writer(std::string id, std::string path, int fd, bool sync)
        : id_(std::move(id)), path_(std::move(path)), fd_(fd), sync_(sync) {}
    const std::string id_;
    const std::string path_;
    int fd_;
    const bool sync_;
    int64_t size_ = 0;
    bool kept_ = false;
  };
  absl::StatusOr<std::unique_ptr<Writer>> Create();

  // An open blob for reading; the file may be unlinked meanwhile (the open
  // descriptor keeps its bytes).
  class Reader {
   public:
    ~Reader();
    Reader(const Reader&) = delete;
    Reader& operator=(const Reader&) = delete;
    // Reads exactly `length` bytes at `offset` into `out` (replacing it).
    absl::Status ReadAt(int64_t offset, int64_t length, std::string* out) const;

   private:
    friend class BlobStore;
    explicit Reader(int fd) : fd_(fd) {}
    const int fd_;
  };
  absl::StatusOr<std::unique_ptr<Reader>> OpenForRead(std::string_view id) const;

  // Removes a blob's file; a missing file is not an error.
  absl::Status Remove(std::string_view id);
  // Every blob id with a file, for the start-up orphan sweep.
  absl::StatusOr<std::vector<std::string>> List() const;
  // Bytes held in files (for metrics and tests).
  absl::StatusOr<int64_t> TotalBytes() const;

 private:
  BlobStore(std::string root, bool sync) : root_(std::move(root)), sync_(sync) {}
  std::string PathOf(std::string_view id) const;

  const std::string root_;
  const bool sync_;
};

}  // namespace thingtank::objects
