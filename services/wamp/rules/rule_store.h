// The forwarding rules in RocksDB: column family "wamp_rules", key = the
// rule's id, value = its creation sequence number (8 bytes big-endian, the
// order ListRules shows) then the serialized thingtank.wamp.v1.Rule. Each
// method is one RocksDB write: call them off reactor threads.
//
// Thread-safe (RocksDB is); `db` must outlive the store.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "services/common/storage/db.h"
#include "thingtank/wamp/v1/wamp.pb.h"

namespace thingtank::wamp {

struct StoredRule {
  uint64_t seq = 0;
  v1::Rule rule;
};

class RuleStore {
 public:
  static std::vector<std::string> ColumnFamilies();

  explicit RuleStore(Db* db);

  // Every stored rule (in key order). DATA_LOSS for an unreadable record.
  absl::StatusOr<std::vector<StoredRule>> LoadAll() const;
  // Stores (or replaces) the rules in one write.
  absl::Status Put(const std::vector<StoredRule>& rules);
  absl::Status Delete(const std::string& id);

 private:
  Db* const db_;
  rocksdb::ColumnFamilyHandle* const cf_;
};

}  // namespace thingtank::wamp
