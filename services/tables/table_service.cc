#include "services/tables/table_service.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/time_util.h"
#include "services/common/status.h"

namespace thingtank::tables {

using internal::Invalid;

namespace {

absl::Status CheckThroughput(const v1::ProvisionedThroughput& t) {
  if (t.read_capacity_units() < 1) {
    return Invalid("provisioned_throughput.read_capacity_units", "must be at least 1");
  }
  if (t.write_capacity_units() < 1) {
    return Invalid("provisioned_throughput.write_capacity_units", "must be at least 1");
  }
  return absl::OkStatus();
}

absl::Status CheckKeySchema(const v1::CreateTableRequest& r) {
  const auto& ks = r.key_schema();
  if (ks.empty() || ks.size() > 2) {
    return Invalid("key_schema", "must hold one HASH element and at most one RANGE element");
  }
  if (ks[0].key_type() != v1::KEY_TYPE_HASH) {
    return Invalid("key_schema[0].key_type", "the first element must be the HASH key");
  }
  if (ks.size() == 2) {
    if (ks[1].key_type() != v1::KEY_TYPE_RANGE) {
      return Invalid("key_schema[1].key_type", "the second element must be the RANGE key");
    }
    if (ks[1].attribute_name() == ks[0].attribute_name()) {
      return Invalid("key_schema[1].attribute_name", "the RANGE key must differ from the HASH key");
    }
  }
  for (int i = 0; i < ks.size(); ++i) {
    if (ks[i].attribute_name().empty() || ks[i].attribute_name().size() > 255) {
      return Invalid(absl::StrCat("key_schema[", i, "].attribute_name"),
                     "must be 1 to 255 characters");
    }
  }
  const auto& defs = r.attribute_definitions();
  for (int i = 0; i < defs.size(); ++i) {
    const std::string field = absl::StrCat("attribute_definitions[", i, "]");
    const auto t = defs[i].attribute_type();
    if (t != v1::SCALAR_ATTRIBUTE_TYPE_S && t != v1::SCALAR_ATTRIBUTE_TYPE_N &&
        t != v1::SCALAR_ATTRIBUTE_TYPE_B) {
      return Invalid(field + ".attribute_type", "must be S, N or B");
    }
    bool used = false;
    for (const auto& e : ks) used = used || e.attribute_name() == defs[i].attribute_name();
    if (!used) {
      return Invalid(field, absl::StrCat("attribute ", defs[i].attribute_name(),
                                         " is defined but not part of the key schema"));
    }
    for (int j = 0; j < i; ++j) {
      if (defs[j].attribute_name() == defs[i].attribute_name()) {
        return Invalid(field, "attribute defined twice");
      }
    }
  }
  for (const auto& e : ks) {
    bool defined = false;
    for (const auto& d : defs) defined = defined || d.attribute_name() == e.attribute_name();
    if (!defined) {
      return Invalid("attribute_definitions",
                     absl::StrCat("key attribute ", e.attribute_name(), " is not defined"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

// ---- Lifecycle ----

std::vector<std::string> TableService::ColumnFamilies() {
  return storage::TableStore::ColumnFamilies();
}

TableService::TableService(Db* db, Clock* clock, Executor* executor, TableEvents* events,
                           TableServiceOptions options)
    : db_(db),
      clock_(clock),
      executor_(executor),
      events_(events),
      options_(std::move(options)),
      store_(db),
      lifeline_(Lifeline::Create(this, executor, clock)) {}

TableService::~TableService() {
  lifeline_->Detach();  // waits for timer work in progress; later timers do nothing
}

absl::StatusOr<std::unique_ptr<TableService>> TableService::Open(Db* db, Clock* clock,
                                                                 Executor* executor,
                                                                 TableEvents* events,
                                                                 TableServiceOptions options) {
  std::unique_ptr<TableService> service(
      new TableService(db, clock, executor, events, std::move(options)));
  TT_RETURN_IF_ERROR(service->Load());
  service->ScheduleSweep();
  return service;
}

absl::Status TableService::Load() {
  TT_ASSIGN_OR_RETURN(uint64_t next_id, store_.NextTableId());
  std::vector<uint64_t> creating;
  absl::MutexLock lock(&registry_mu_);
  TT_RETURN_IF_ERROR(store_.ForEachTable([&](storage::TableRecord record) -> absl::Status {
    TT_ASSIGN_OR_RETURN(storage::TableCounters counters, store_.Counters(record.id()));
    const std::string name = record.description().table_name();
    auto t = std::make_shared<TableState>(record.id(), name,
                                          storage::KeySchema::From(record.description()));
    absl::MutexLock tl(&t->mu);
    if (record.description().table_status() == v1::TABLE_STATUS_CREATING) {
      creating.push_back(t->id);
    }
    const auto& tp = record.description().provisioned_throughput();
    t->read_bucket = ProvisionedBucket(static_cast<double>(tp.read_capacity_units()),
                                       options_.burst_seconds, Now());
    t->write_bucket = ProvisionedBucket(static_cast<double>(tp.write_capacity_units()),
                                        options_.burst_seconds, Now());
    t->record = std::move(record);
    t->item_count = counters.item_count();
    t->size_bytes = counters.size_bytes();
    next_id = std::max(next_id, t->id + 1);
    tables_[name] = std::move(t);
    return absl::OkStatus();
  }));
  next_table_id_ = next_id;
  for (uint64_t id : creating) ScheduleActivation(id, Now() + options_.create_delay);
  return absl::OkStatus();
}

// ---- Registry ----

absl::StatusOr<TablePtr> TableService::Find(const std::string& name,
                                            const std::string& field) const {
  TT_RETURN_IF_ERROR(internal::CheckTableName(name, field));
  absl::ReaderMutexLock lock(&registry_mu_);
  auto it = tables_.find(name);
  if (it == tables_.end()) return internal::TableNotFound(name);
  return it->second;
}

namespace {
bool Serving(v1::TableStatus status) {
  return status == v1::TABLE_STATUS_ACTIVE || status == v1::TABLE_STATUS_UPDATING;
}
}  // namespace

absl::StatusOr<TablePtr> TableService::FindActive(const std::string& name,
                                                  const std::string& field) const {
  TT_ASSIGN_OR_RETURN(TablePtr t, Find(name, field));
  absl::ReaderMutexLock lock(&t->mu);
  if (t->deleted) return internal::TableNotFound(name);
  if (!Serving(t->record.description().table_status())) {
    return ErrorWithReason(absl::StatusCode::kFailedPrecondition, internal::kInUse,
                           absl::StrCat("Table ", name, " is not ACTIVE yet"));
  }
  return t;
}

absl::StatusOr<TablePtr> TableService::FindForItems(const std::string& name,
                                                    const std::string& field) const {
  TT_ASSIGN_OR_RETURN(TablePtr t, Find(name, field));
  absl::ReaderMutexLock lock(&t->mu);
  // DynamoDB: item calls on a table that is not ACTIVE (CREATING, DELETING)
  // are ResourceNotFoundException, not ResourceInUseException.
  if (t->deleted || !Serving(t->record.description().table_status())) {
    return internal::TableNotFound(name);
  }
  return t;
}

TablePtr TableService::FindById(uint64_t id) const {
  absl::ReaderMutexLock lock(&registry_mu_);
  for (const auto& [name, t] : tables_) {
    if (t->id == id) return t;
  }
  return nullptr;
}

v1::TableDescription TableService::Describe(const TableState& t) const {
  absl::ReaderMutexLock lock(&t.mu);
  v1::TableDescription d = t.record.description();
  d.set_item_count(t.item_count);
  d.set_table_size_bytes(t.size_bytes);
  if (!d.has_time_to_live()) {
    d.mutable_time_to_live()->set_time_to_live_status(v1::TIME_TO_LIVE_STATUS_DISABLED);
  }
  return d;
}

std::vector<TableStats> TableService::Stats() const {
  std::vector<TableStats> out;
  absl::ReaderMutexLock lock(&registry_mu_);
  for (const auto& [name, t] : tables_) {
    absl::ReaderMutexLock tl(&t->mu);
    TableStats stats;
    stats.table = name;
    stats.item_count = t->item_count;
    stats.size_bytes = t->size_bytes;
    stats.read_units_consumed = t->read_units_consumed;
    stats.write_units_consumed = t->write_units_consumed;
    stats.throttled_reads = t->throttled_reads;
    stats.throttled_writes = t->throttled_writes;
    const v1::TableDescription& d = t->record.description();
    if (d.billing_mode() == v1::BILLING_MODE_PROVISIONED) {
      stats.provisioned_read_units = d.provisioned_throughput().read_capacity_units();
      stats.provisioned_write_units = d.provisioned_throughput().write_capacity_units();
    }
    out.push_back(std::move(stats));
  }
  return out;
}

// ---- Tables ----

absl::StatusOr<v1::CreateTableResponse> TableService::CreateTable(
    const v1::CreateTableRequest& request) {
  TT_RETURN_IF_ERROR(internal::CheckTableName(request.table_name(), "table_name"));
  TT_RETURN_IF_ERROR(CheckKeySchema(request));
  v1::BillingMode billing = request.billing_mode();
  if (billing == v1::BILLING_MODE_UNSPECIFIED) billing = v1::BILLING_MODE_PROVISIONED;
  if (billing == v1::BILLING_MODE_PROVISIONED) {
    if (!request.has_provisioned_throughput()) {
      return Invalid("provisioned_throughput", "required for PROVISIONED tables");
    }
    TT_RETURN_IF_ERROR(CheckThroughput(request.provisioned_throughput()));
  } else if (billing == v1::BILLING_MODE_PAY_PER_REQUEST) {
    if (request.has_provisioned_throughput() &&
        (request.provisioned_throughput().read_capacity_units() != 0 ||
         request.provisioned_throughput().write_capacity_units() != 0)) {
      return Invalid("provisioned_throughput", "must be absent for PAY_PER_REQUEST tables");
    }
  } else {
    return Invalid("billing_mode", "unknown billing mode");
  }

  storage::TableRecord record;
  v1::TableDescription* d = record.mutable_description();
  d->set_table_name(request.table_name());
  d->set_table_arn(options_.arn_prefix + request.table_name());
  *d->mutable_key_schema() = request.key_schema();
  *d->mutable_attribute_definitions() = request.attribute_definitions();
  d->set_table_status(v1::TABLE_STATUS_CREATING);
  *d->mutable_creation_date_time() =
      google::protobuf::util::TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(Now()));
  d->set_billing_mode(billing);
  if (billing == v1::BILLING_MODE_PROVISIONED) {
    *d->mutable_provisioned_throughput() = request.provisioned_throughput();
  }
  d->mutable_time_to_live()->set_time_to_live_status(v1::TIME_TO_LIVE_STATUS_DISABLED);

  uint64_t id;
  {
    absl::MutexLock lock(&registry_mu_);
    if (tables_.count(request.table_name()) != 0) {
      return ErrorWithReason(absl::StatusCode::kAlreadyExists, internal::kInUse,
                             absl::StrCat("Table already exists: ", request.table_name()));
    }
    id = next_table_id_;
    record.set_id(id);
    rocksdb::WriteBatch batch;
    store_.PutTable(&batch, record);
    store_.PutNextTableId(&batch, id + 1);
    store_.PutCounters(&batch, id, storage::TableCounters());
    TT_RETURN_IF_ERROR(store_.Write(&batch));
    next_table_id_ = id + 1;
    auto t = std::make_shared<TableState>(id, request.table_name(), storage::KeySchema::From(*d));
    absl::MutexLock tl(&t->mu);
    const auto& tp = d->provisioned_throughput();
    t->read_bucket = ProvisionedBucket(static_cast<double>(tp.read_capacity_units()),
                                       options_.burst_seconds, Now());
    t->write_bucket = ProvisionedBucket(static_cast<double>(tp.write_capacity_units()),
                                        options_.burst_seconds, Now());
    t->record = record;
    tables_[request.table_name()] = std::move(t);
  }
  ScheduleActivation(id, Now() + options_.create_delay);
  v1::CreateTableResponse response;
  *response.mutable_table_description() = *d;
  return response;
}

absl::StatusOr<v1::DescribeTableResponse> TableService::DescribeTable(
    const v1::DescribeTableRequest& request) {
  TT_ASSIGN_OR_RETURN(TablePtr t, Find(request.table_name()));
  v1::DescribeTableResponse response;
  *response.mutable_table() = Describe(*t);
  return response;
}

absl::StatusOr<v1::ListTablesResponse> TableService::ListTables(
    const v1::ListTablesRequest& request) {
  if (request.page_size() < 0 || request.page_size() > 100) {
    return Invalid("page_size", "must be 1 to 100 (0 means 100)");
  }
  const size_t limit = request.page_size() == 0 ? 100 : static_cast<size_t>(request.page_size());
  v1::ListTablesResponse response;
  absl::ReaderMutexLock lock(&registry_mu_);
  auto it = request.page_token().empty() ? tables_.begin()
                                         : tables_.upper_bound(request.page_token());
  for (; it != tables_.end(); ++it) {
    if (static_cast<size_t>(response.table_names_size()) == limit) {
      response.set_next_page_token(response.table_names(response.table_names_size() - 1));
      break;
    }
    response.add_table_names(it->first);
  }
  return response;
}

absl::StatusOr<v1::UpdateTableResponse> TableService::UpdateTable(
    const v1::UpdateTableRequest& request) {
  TT_ASSIGN_OR_RETURN(TablePtr t, FindActive(request.table_name()));
  if (request.billing_mode() == v1::BILLING_MODE_UNSPECIFIED &&
      !request.has_provisioned_throughput()) {
    return Invalid("provisioned_throughput", "nothing to update");
  }
  absl::MutexLock wl(&t->write_mu);
  TT_RETURN_IF_ERROR(CheckLive(t.get()));
  storage::TableRecord record;
  {
    absl::ReaderMutexLock lock(&t->mu);
    record = t->record;
  }
  v1::TableDescription* d = record.mutable_description();
  const v1::BillingMode billing = request.billing_mode() == v1::BILLING_MODE_UNSPECIFIED
                                      ? d->billing_mode()
                                      : request.billing_mode();
  if (billing == v1::BILLING_MODE_PROVISIONED) {
    if (request.has_provisioned_throughput()) {
      TT_RETURN_IF_ERROR(CheckThroughput(request.provisioned_throughput()));
      *d->mutable_provisioned_throughput() = request.provisioned_throughput();
    } else if (!d->has_provisioned_throughput()) {
      return Invalid("provisioned_throughput", "required when switching to PROVISIONED");
    }
  } else if (billing == v1::BILLING_MODE_PAY_PER_REQUEST) {
    if (request.has_provisioned_throughput()) {
      return Invalid("provisioned_throughput", "not allowed for PAY_PER_REQUEST tables");
    }
    d->clear_provisioned_throughput();
  } else {
    return Invalid("billing_mode", "unknown billing mode");
  }
  d->set_billing_mode(billing);
  rocksdb::WriteBatch batch;
  store_.PutTable(&batch, record);
  TT_RETURN_IF_ERROR(store_.Write(&batch));
  {
    absl::MutexLock lock(&t->mu);
    const auto& tp = d->provisioned_throughput();
    const double rcu = static_cast<double>(tp.read_capacity_units());
    const double wcu = static_cast<double>(tp.write_capacity_units());
    t->read_bucket.SetRate(rcu, rcu * options_.burst_seconds, Now());
    t->write_bucket.SetRate(wcu, wcu * options_.burst_seconds, Now());
    t->record = std::move(record);
  }
  v1::UpdateTableResponse response;
  *response.mutable_table_description() = Describe(*t);
  return response;
}

absl::StatusOr<v1::DeleteTableResponse> TableService::DeleteTable(
    const v1::DeleteTableRequest& request) {
  TT_ASSIGN_OR_RETURN(TablePtr t, Find(request.table_name()));
  {
    absl::ReaderMutexLock lock(&t->mu);
    if (t->record.description().table_status() == v1::TABLE_STATUS_CREATING) {
      return ErrorWithReason(absl::StatusCode::kFailedPrecondition, internal::kInUse,
                             absl::StrCat("Table ", request.table_name(), " is being created"));
    }
  }
  v1::DeleteTableResponse response;
  *response.mutable_table_description() = Describe(*t);
  response.mutable_table_description()->set_table_status(v1::TABLE_STATUS_DELETING);
  absl::MutexLock reg(&registry_mu_);
  absl::MutexLock wl(&t->write_mu);
  TT_RETURN_IF_ERROR(CheckLive(t.get()));
  rocksdb::WriteBatch batch;
  store_.DeleteTable(&batch, t->id, t->name);
  TT_RETURN_IF_ERROR(store_.Write(&batch));
  {
    absl::MutexLock lock(&t->mu);
    t->deleted = true;
  }
  tables_.erase(t->name);
  return response;
}

absl::StatusOr<v1::UpdateTimeToLiveResponse> TableService::UpdateTimeToLive(
    const v1::UpdateTimeToLiveRequest& request) {
  TT_ASSIGN_OR_RETURN(TablePtr t, FindActive(request.table_name()));
  const auto& spec = request.time_to_live_specification();
  if (spec.attribute_name().empty() || spec.attribute_name().size() > 255) {
    return Invalid("time_to_live_specification.attribute_name", "must be 1 to 255 characters");
  }
  absl::MutexLock wl(&t->write_mu);
  TT_RETURN_IF_ERROR(CheckLive(t.get()));
  storage::TableRecord record;
  {
    absl::ReaderMutexLock lock(&t->mu);
    record = t->record;
  }
  v1::TimeToLiveDescription* ttl = record.mutable_description()->mutable_time_to_live();
  const bool enabled = ttl->time_to_live_status() == v1::TIME_TO_LIVE_STATUS_ENABLED;
  if (spec.enabled() == enabled) {
    return Invalid("time_to_live_specification.enabled",
                   enabled ? "TimeToLive is already enabled" : "TimeToLive is already disabled");
  }
  if (!spec.enabled() && ttl->attribute_name() != spec.attribute_name()) {
    return Invalid("time_to_live_specification.attribute_name",
                   "does not match the attribute TimeToLive is enabled on");
  }
  ttl->set_time_to_live_status(spec.enabled() ? v1::TIME_TO_LIVE_STATUS_ENABLED
                                              : v1::TIME_TO_LIVE_STATUS_DISABLED);
  if (spec.enabled()) {
    ttl->set_attribute_name(spec.attribute_name());
  } else {
    ttl->clear_attribute_name();
  }
  rocksdb::WriteBatch batch;
  store_.PutTable(&batch, record);
  TT_RETURN_IF_ERROR(store_.Write(&batch));
  {
    absl::MutexLock lock(&t->mu);
    t->record = std::move(record);
  }
  v1::UpdateTimeToLiveResponse response;
  *response.mutable_time_to_live_specification() = spec;
  return response;
}

absl::StatusOr<v1::DescribeTimeToLiveResponse> TableService::DescribeTimeToLive(
    const v1::DescribeTimeToLiveRequest& request) {
  TT_ASSIGN_OR_RETURN(TablePtr t, Find(request.table_name()));
  v1::DescribeTimeToLiveResponse response;
  *response.mutable_time_to_live_description() = Describe(*t).time_to_live();
  return response;
}

// ---- Shared item plumbing ----

internal::ReadView TableService::View(const TableState& t) const {
  internal::ReadView view;
  {
    absl::ReaderMutexLock lock(&t.mu);
    const auto& ttl = t.record.description().time_to_live();
    if (ttl.time_to_live_status() == v1::TIME_TO_LIVE_STATUS_ENABLED) {
      view.ttl_attribute = ttl.attribute_name();
    }
  }
  view.now_seconds = internal::SecondsOf(Now());
  return view;
}

absl::Status TableService::CheckLive(TableState* t) const {
  absl::ReaderMutexLock lock(&t->mu);
  if (t->deleted) return internal::TableNotFound(t->name);
  return absl::OkStatus();
}

absl::StatusOr<std::optional<v1::Item>> TableService::ReadItem(const std::string& key,
                                                               const internal::ReadView& view,
                                                               int64_t* stored_size,
                                                               bool non_blocking) {
  *stored_size = -1;
  TT_ASSIGN_OR_RETURN(std::optional<std::string> raw, store_.GetItem(key, non_blocking));
  if (!raw) return std::optional<v1::Item>();
  v1::Item item;
  if (!item.ParseFromString(*raw)) return absl::DataLossError("tables: corrupt item");
  *stored_size = ItemSize(item.attributes());
  if (view.Expired(item.attributes())) return std::optional<v1::Item>();
  return std::optional<v1::Item>(std::move(item));
}

void TableService::Stage(TableState* t, const Mutation& m, rocksdb::WriteBatch* batch,
                         Deltas* deltas) {
  auto& [count, size] = deltas->by_table[t];
  const int64_t old = std::max<int64_t>(0, m.old_stored_size);
  if (m.new_item) {
    store_.PutItem(batch, m.key, m.new_item->SerializeAsString());
    if (m.old_stored_size < 0) ++count;
    size += m.new_size - old;
  } else if (m.old_stored_size >= 0) {
    store_.DeleteItem(batch, m.key);
    --count;
    size -= old;
  }
}

absl::Status TableService::Commit(rocksdb::WriteBatch* batch, const Deltas& deltas,
                                  bool non_blocking) {
  std::vector<std::pair<TableState*, storage::TableCounters>> next;
  for (const auto& [t, delta] : deltas.by_table) {
    storage::TableCounters c;
    {
      absl::ReaderMutexLock lock(&t->mu);
      c.set_item_count(t->item_count + delta.first);
      c.set_size_bytes(t->size_bytes + delta.second);
    }
    if (delta.first != 0 || delta.second != 0) store_.PutCounters(batch, t->id, c);
    next.emplace_back(t, c);
  }
  TT_RETURN_IF_ERROR(store_.Write(batch, non_blocking));
  for (auto& [t, c] : next) {
    absl::MutexLock lock(&t->mu);
    t->item_count = c.item_count();
    t->size_bytes = c.size_bytes();
  }
  return absl::OkStatus();
}

// ---- Throughput ----

bool TableService::CanAdmit(TableState* t, bool write) {
  absl::MutexLock lock(&t->mu);
  if (t->record.description().billing_mode() != v1::BILLING_MODE_PROVISIONED) return true;
  TokenBucket& bucket = write ? t->write_bucket : t->read_bucket;
  return bucket.Admit(Now()) == absl::ZeroDuration();
}

absl::Status TableService::Admit(TableState* t, bool write) {
  absl::Duration wait;
  {
    absl::MutexLock lock(&t->mu);
    if (t->record.description().billing_mode() != v1::BILLING_MODE_PROVISIONED) {
      return absl::OkStatus();
    }
    TokenBucket& bucket = write ? t->write_bucket : t->read_bucket;
    wait = bucket.Admit(Now());
    if (wait != absl::ZeroDuration()) ++(write ? t->throttled_writes : t->throttled_reads);
  }
  if (wait == absl::ZeroDuration()) return absl::OkStatus();
  // Tell the client to back off at least a millisecond, and a second when the
  // bucket never refills (zero capacity units).
  wait = wait == absl::InfiniteDuration() ? absl::Seconds(1)
                                          : std::max(absl::Milliseconds(1), wait);
  if (events_ != nullptr) events_->OnThrottled(t->name);
  return QuotaExceeded("ProvisionedThroughputExceededException", "table/" + t->name,
                       absl::StrCat("The level of configured provisioned throughput for the table ",
                                    t->name, " was exceeded"),
                       wait);
}

void TableService::ChargeBuckets(TableState* t, double read_units, double write_units) {
  absl::MutexLock lock(&t->mu);
  t->read_units_consumed += read_units;
  t->write_units_consumed += write_units;
  if (t->record.description().billing_mode() == v1::BILLING_MODE_PROVISIONED) {
    if (read_units > 0) t->read_bucket.Charge(read_units, Now());
    if (write_units > 0) t->write_bucket.Charge(write_units, Now());
  }
}

void TableService::Charge(TableState* t, double read_units, double write_units) {
  ChargeBuckets(t, read_units, write_units);
  if (events_ != nullptr) events_->OnConsumed(t->name, read_units, write_units);
}

void TableService::ReportConditionFailed(const std::string& table) {
  if (events_ != nullptr) events_->OnConditionalCheckFailed(table);
}

}  // namespace thingtank::tables
