#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "rocksdb/env.h"
#include "rocksdb/file_system.h"

namespace thingtank {

// A RocksDB file system over the default one whose writable files (WAL,
// MANIFEST, SST) fail on demand: while FailWrites(true), Append,
// PositionedAppend, Flush, Sync, Fsync and RangeSync return a retryable
// IOError ("injected write fault", a transient fault RocksDB can resume from)
// without touching the file. Debian's librocksdb-dev
// ships no FaultInjectionTestFS, and RocksDB 7 opens files through the
// FileSystem (not Env::NewWritableFile), so the seam is a FileSystemWrapper.
// Thread-safe.
class FaultInjectionFileSystem final : public rocksdb::FileSystemWrapper {
 public:
  FaultInjectionFileSystem();
  const char* Name() const override { return "ThingTankFaultInjectionFileSystem"; }

  void FailWrites(bool fail) { fail_.store(fail); }
  bool failing() const { return fail_.load(); }
  // How many writes failed because of FailWrites.
  int64_t injected_failures() const { return failures_.load(); }

  // Counts one injected failure when failing, and returns the error to give.
  rocksdb::IOStatus MaybeFail();

  rocksdb::IOStatus NewWritableFile(const std::string& f, const rocksdb::FileOptions& o,
                                    std::unique_ptr<rocksdb::FSWritableFile>* r,
                                    rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus ReopenWritableFile(const std::string& f, const rocksdb::FileOptions& o,
                                       std::unique_ptr<rocksdb::FSWritableFile>* r,
                                       rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus ReuseWritableFile(const std::string& f, const std::string& old,
                                      const rocksdb::FileOptions& o,
                                      std::unique_ptr<rocksdb::FSWritableFile>* r,
                                      rocksdb::IODebugContext* dbg) override;

 private:
  std::atomic<bool> fail_{false};
  std::atomic<int64_t> failures_{0};
};

// Owns a FaultInjectionFileSystem and an Env using it: pass env() as
// Db::Options::env. Must outlive every Db opened with it.
class FaultInjectionEnv {
 public:
  FaultInjectionEnv();
  rocksdb::Env* env() const { return env_.get(); }
  FaultInjectionFileSystem& fs() const { return *fs_; }
  void FailWrites(bool fail) { fs_->FailWrites(fail); }

 private:
  std::shared_ptr<FaultInjectionFileSystem> fs_;
  std::unique_ptr<rocksdb::Env> env_;
};

}  // namespace thingtank
