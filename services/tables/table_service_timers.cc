// Clock-driven work: CREATING -> ACTIVE, and the TTL sweeper (which also
// forgets expired client request tokens). Timer callbacks run on the clock's
// thread and only post to the executor.
#include <vector>

#include "services/common/log.h"
#include "services/common/storage/key_codec.h"
#include "services/tables/storage/encoded_item.h"
#include "services/tables/table_service.h"

namespace thingtank::tables {

void TableService::ScheduleActivation(uint64_t table_id, absl::Time when) {
  std::shared_ptr<Lifeline> life = lifeline_;
  clock_->RunAt(when, [life, table_id] {
    Lifeline::Post(life, [table_id](TableService* s) { s->Activate(table_id); });
  });
}

void TableService::Activate(uint64_t table_id) {
  TablePtr t = FindById(table_id);
  if (t == nullptr) return;
  absl::MutexLock wl(&t->write_mu);
  storage::TableRecord record;
  {
    absl::ReaderMutexLock lock(&t->mu);
    if (t->deleted || t->record.description().table_status() != v1::TABLE_STATUS_CREATING) return;
    record = t->record;
  }
  record.mutable_description()->set_table_status(v1::TABLE_STATUS_ACTIVE);
  rocksdb::WriteBatch batch;
  store_.PutTable(&batch, record);
  if (!store_.Write(&batch).ok()) {
    // Try again later; the table stays CREATING meanwhile.
    ScheduleActivation(table_id, Now() + options_.create_delay);
    return;
  }
  absl::MutexLock lock(&t->mu);
  t->record = std::move(record);
}

void TableService::ScheduleSweep() {
  std::shared_ptr<Lifeline> life = lifeline_;
  clock_->RunAfter(options_.ttl_sweep_interval, [life] {
    Lifeline::Post(life, [](TableService* s) {
      s->Sweep();
      s->ScheduleSweep();
    });
  });
}

void TableService::Sweep() {
  std::vector<TablePtr> tables;
  {
    absl::ReaderMutexLock lock(&registry_mu_);
    for (const auto& [name, t] : tables_) tables.push_back(t);
  }
  for (const TablePtr& t : tables) SweepTable(t);

  // Forget expired client request tokens.
  const int64_t now = absl::ToUnixMicros(Now());
  rocksdb::WriteBatch batch;
  const absl::Status listed =
      store_.ForEachToken([&](std::string_view token, const storage::TokenRecord& r) {
        if (r.expires_micros() <= now) store_.DeleteToken(&batch, token);
      });
  if (!listed.ok()) {
    TT_LOG_WARN("tables: cannot list client request tokens to forget: {}", listed.ToString());
  } else if (batch.Count() > 0) {
    // Best effort: the next sweep tries again.
    if (absl::Status s = store_.Write(&batch); !s.ok()) {
      TT_LOG_WARN("tables: cannot forget {} expired client request tokens: {}", batch.Count(),
                  s.ToString());
    }
  }
}

void TableService::SweepTable(const TablePtr& t) {
  const internal::ReadView view = View(*t);
  if (view.ttl_attribute.empty()) return;
  // Find candidates without the write lock (reading only each item's TTL
  // attribute from its stored bytes), then re-check each under it. Goes on
  // from where the last sweep stopped; wraps around at the table's end.
  std::string from;
  {
    absl::ReaderMutexLock lock(&t->mu);
    from = t->sweep_from.empty() ? t->prefix : t->sweep_from;
  }
  std::vector<std::string> candidates;
  int64_t scanned_items = 0;
  std::string next_from;  // stays empty when the scan reaches the table's end
  const std::string hi = keys::PrefixSuccessor(t->prefix);
  const absl::Status scanned =
      store_.ForEachItem(from, hi, /*non_blocking=*/false, /*reverse=*/false,
                         [&](std::string_view key, std::string_view value) {
                           absl::StatusOr<storage::EncodedItemInfo> info =
                               storage::InspectEncodedItem(value, view.ttl_attribute);
                           if (info.ok() && view.ExpiredNumber(info->ttl_number)) {
                             candidates.emplace_back(key);
                           }
                           if (++scanned_items < options_.ttl_max_scanned_per_sweep &&
                               static_cast<int64_t>(candidates.size()) <
                                   options_.ttl_max_deletes_per_sweep) {
                             return true;
                           }
                           next_from = storage::Successor(key);
                           return false;
                         });
  if (!scanned.ok()) return;
  {
    absl::MutexLock lock(&t->mu);
    t->sweep_from = next_from;
  }
  if (!scanned.ok() || candidates.empty()) return;
  int64_t deleted = 0;
  {
    absl::MutexLock wl(&t->write_mu);
    if (!CheckLive(t.get()).ok()) return;
    rocksdb::WriteBatch batch;
    Deltas deltas;
    for (const std::string& key : candidates) {
      int64_t stored = -1;
      absl::StatusOr<std::optional<v1::Item>> item = ReadItem(key, view, &stored);
      if (!item.ok() || item->has_value() || stored < 0) continue;  // gone or no longer expired
      Mutation m;
      m.key = key;
      m.old_stored_size = stored;
      Stage(t.get(), m, &batch, &deltas);
      ++deleted;
    }
    if (deleted == 0 || !Commit(&batch, deltas).ok()) return;
  }
  if (events_ != nullptr) events_->OnTtlDeleted(t->name, deleted);
}

}  // namespace thingtank::tables
