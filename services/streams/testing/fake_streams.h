// In-memory streams on a FakeBackend, for the tests of services that write to
// or read from streams (the wamp rules) without running the streams domain.
// It answers CreateStream (ACTIVE at once), DeleteStream (gone at once),
// ListShards (one page, no filter), PutRecord, GetShardIterator
// (TRIM_HORIZON, LATEST, AT_ and AFTER_SEQUENCE_NUMBER), GetRecords (a
// closed shard read to its end gives no next iterator and lists its
// children), SplitShard and MergeShards, with the streams service's error
// names (ResourceNotFoundException, ResourceInUseException,
// InvalidArgumentException naming the field, ExpiredIteratorException).
//
// Deliberately simple: no throughput limits, retention, consumers or tags;
// sequence numbers are 56-digit decimal strings from one counter (string
// order is write order); a record goes to the open shard whose hash key
// range holds its explicit hash key or, without one, a 64-bit FNV-1a hash of
// its partition key in the top half of the 128 bits (not MD5: tests that
// need a shard give an explicit hash key). Failures and throttling are
// injected with FailNext, iterator expiry with ExpireIterators.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "services/common/testing/fake_backend.h"

namespace thingtank::streams {

class FakeStreams {
 public:
  // A record as stored.
  struct StoredRecord {
    std::string shard_id;
    std::string sequence_number;
    std::string partition_key;
    std::string data;
  };

  // Registers the handlers on `backend`, which must outlive this object's use.
  explicit FakeStreams(FakeBackend* backend);
  FakeStreams(const FakeStreams&) = delete;
  FakeStreams& operator=(const FakeStreams&) = delete;

  // The records of `stream` in write order, over all its shards (none when
  // there is no such stream).
  std::vector<StoredRecord> Records(const std::string& stream) const;

  // The next `n` calls of `method` ("PutRecord", "GetRecords", ...) answer
  // `status` instead of doing anything (after any failures queued before).
  void FailNext(const std::string& method, int n, absl::Status status);
  // ProvisionedThroughputExceededException with RetryInfo `retry_delay`, as
  // the streams service throttles.
  static absl::Status Throttled(absl::Duration retry_delay);

  // Every iterator handed out so far is expired (ExpiredIteratorException).
  void ExpireIterators();

 private:
  using HashKey = unsigned __int128;
  struct Record {
    std::string sequence_number;
    std::string partition_key;
    std::string data;
    absl::Time arrival;
  };
  struct Shard {
    std::string id;
    std::string parent;
    std::string adjacent_parent;
    HashKey start = 0;
    HashKey end = 0;
    std::string starting_sequence;
    std::string ending_sequence;  // set once closed
    std::vector<Record> records;
    bool open() const { return ending_sequence.empty(); }
  };
  struct Stream {
    uint64_t incarnation = 0;  // tells a stream from an earlier one of the same name
    int next_shard = 0;
    std::vector<Shard> shards;  // in id order
  };
  struct Failure {
    int left = 0;
    absl::Status status;
  };

  void RegisterStreams(FakeBackend* backend);
  void RegisterRecords(FakeBackend* backend);
  void RegisterResharding(FakeBackend* backend);

  // The queued failure of `method`, if any (consumed); else OK.
  absl::Status TakeFailure(const std::string& method) ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<Stream*> Named(const std::string& name) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  static absl::StatusOr<Shard*> ShardOf(Stream* stream, const std::string& id,
                                        const std::string& field);
  std::string NextSequence() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // A new open shard of `stream` over [start, end].
  Shard& AddShard(Stream* stream, HashKey start, HashKey end) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::string Iterator(const std::string& stream, uint64_t incarnation, const std::string& shard,
                       size_t index) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  std::map<std::string, Stream> streams_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::vector<Failure>> failures_ ABSL_GUARDED_BY(mu_);
  uint64_t next_sequence_ ABSL_GUARDED_BY(mu_) = 1;
  uint64_t next_incarnation_ ABSL_GUARDED_BY(mu_) = 1;
  uint64_t iterator_epoch_ ABSL_GUARDED_BY(mu_) = 1;  // older iterators are expired
};

}  // namespace thingtank::streams
