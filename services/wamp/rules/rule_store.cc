#include "services/wamp/rules/rule_store.h"

#include <optional>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "rocksdb/write_batch.h"
#include "services/common/storage/key_codec.h"

namespace thingtank::wamp {
namespace {

constexpr char kRulesCf[] = "wamp_rules";

std::string EncodeRecord(uint64_t seq, const v1::Rule& rule) {
  std::string out;
  keys::AppendUint64(&out, seq);
  out += rule.SerializeAsString();
  return out;
}

}  // namespace

std::vector<std::string> RuleStore::ColumnFamilies() { return {kRulesCf}; }

RuleStore::RuleStore(Db* db) : db_(db), cf_(db->cf(kRulesCf)) {}

absl::StatusOr<std::vector<StoredRule>> RuleStore::LoadAll() const {
  std::vector<StoredRule> out;
  auto it = db_->Scan(cf_, "");
  for (; it->Valid(); it->Next()) {
    std::string_view value(it->value().data(), it->value().size());
    std::optional<uint64_t> seq = keys::ConsumeUint64(&value);
    v1::Rule rule;
    if (!seq || !rule.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
      return absl::DataLossError(
          absl::StrCat("unreadable forwarding rule record ", it->key().ToString()));
    }
    out.push_back(StoredRule{*seq, std::move(rule)});
  }
  if (absl::Status s = it->status(); !s.ok()) return s;
  return out;
}

absl::Status RuleStore::Put(const std::vector<StoredRule>& rules) {
  rocksdb::WriteBatch batch;
  for (const StoredRule& r : rules) batch.Put(cf_, r.rule.id(), EncodeRecord(r.seq, r.rule));
  return db_->Write(&batch);
}

absl::Status RuleStore::Delete(const std::string& id) {
  rocksdb::WriteBatch batch;
  batch.Delete(cf_, id);
  return db_->Write(&batch);
}

}  // namespace thingtank::wamp
