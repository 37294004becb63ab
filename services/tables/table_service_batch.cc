// BatchGetItem, BatchWriteItem, TransactWriteItems, TransactGetItems.
#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "openssl/sha.h"
#include "services/tables/expression/expression.h"
#include "services/tables/table_service.h"

namespace thingtank::tables {

using internal::Invalid;

namespace {

constexpr int kMaxBatchGet = 100;
constexpr int kMaxBatchWrite = 25;
constexpr int kMaxTransactItems = 100;

// Holds the write locks of several tables, taken in id order.
class MultiLock {
 public:
  explicit MultiLock(std::vector<TableState*> tables) : tables_(std::move(tables)) {
    std::sort(tables_.begin(), tables_.end(),
              [](TableState* a, TableState* b) { return a->id < b->id; });
    tables_.erase(std::unique(tables_.begin(), tables_.end()), tables_.end());
    for (TableState* t : tables_) t->write_mu.Lock();
  }
  ~MultiLock() {
    for (auto it = tables_.rbegin(); it != tables_.rend(); ++it) (*it)->write_mu.Unlock();
  }
  MultiLock(const MultiLock&) = delete;
  MultiLock& operator=(const MultiLock&) = delete;

 private:
  std::vector<TableState*> tables_;
};

absl::Status Duplicates(const std::string& field) {
  return Invalid(field, "Provided list of item keys contains duplicates");
}

void AddCapacity(std::map<std::string, std::pair<double, double>>* totals,
                 v1::ReturnConsumedCapacity mode,
                 google::protobuf::RepeatedPtrField<v1::ConsumedCapacity>* out) {
  if (!internal::WantCapacity(mode)) return;
  for (const auto& [table, units] : *totals) {
    internal::FillCapacity(table, units.first, units.second, mode, out->Add());
  }
}

// The action's name in field paths and its table's name (null: no action).
std::pair<const char*, const std::string*> ActionTable(const v1::TransactWriteItem& item) {
  switch (item.action_case()) {
    case v1::TransactWriteItem::kConditionCheck:
      return {"condition_check", &item.condition_check().table_name()};
    case v1::TransactWriteItem::kPut: return {"put", &item.put().table_name()};
    case v1::TransactWriteItem::kDelete: return {"delete", &item.delete_().table_name()};
    case v1::TransactWriteItem::kUpdate: return {"update", &item.update().table_name()};
    default: return {"", nullptr};
  }
}

std::string Fingerprint(v1::TransactWriteItemsRequest request) {
  request.clear_client_request_token();
  request.clear_return_consumed_capacity();
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    request.SerializeToCodedStream(&coded);
  }
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), digest);
  return std::string(reinterpret_cast<const char*>(digest), sizeof(digest));
}

}  // namespace

absl::StatusOr<v1::BatchGetItemResponse> TableService::BatchGetItem(
    const v1::BatchGetItemRequest& request) {
  int total = 0;
  for (const auto& [name, kaa] : request.request_items()) {
    TT_RETURN_IF_ERROR(internal::CheckTableName(name, "request_items"));
    total += kaa.keys_size();
  }
  if (total == 0) return Invalid("request_items", "must name at least one key");
  if (total > kMaxBatchGet) {
    return Invalid("request_items", absl::StrCat("at most ", kMaxBatchGet, " keys in all, got ",
                                                 total));
  }
  struct TableRead {
    TablePtr t;
    std::optional<expr::Projection> projection;
    std::vector<std::string> keys;
  };
  std::map<std::string, TableRead> reads;
  for (const auto& [name, kaa] : request.request_items()) {
    TableRead& r = reads[name];
    TT_ASSIGN_OR_RETURN(r.t, FindForItems(name, "request_items"));
    const std::string field = absl::StrCat("request_items[", name, "]");
    expr::Substitutions subs(&kaa.expression_attribute_names(), nullptr);
    if (!kaa.projection_expression().empty()) {
      TT_ASSIGN_OR_RETURN(expr::Projection p,
                          expr::Projection::Parse(kaa.projection_expression(),
                                                  field + ".projection_expression", &subs));
      r.projection.emplace(std::move(p));
    }
    TT_RETURN_IF_ERROR(subs.CheckAllUsed());
    std::set<std::string> seen;
    for (int i = 0; i < kaa.keys_size(); ++i) {
      const std::string key_field = absl::StrCat(field, ".keys[", i, "]");
      TT_RETURN_IF_ERROR(ValidateKey(kaa.keys(i).attributes(), r.t->schema, key_field));
      TT_ASSIGN_OR_RETURN(std::string key,
                          storage::ItemKey(r.t->id, r.t->schema, kaa.keys(i).attributes()));
      if (!seen.insert(key).second) return Duplicates(key_field);
      r.keys.push_back(std::move(key));
    }
  }
  v1::BatchGetItemResponse response;
  std::map<std::string, std::pair<double, double>> consumed;
  int processed = 0;
  TableState* throttled = nullptr;
  for (auto& [name, r] : reads) {
    const v1::KeysAndAttributes& kaa = request.request_items().at(name);
    const internal::ReadView view = View(*r.t);
    double units = 0;
    for (size_t i = 0; i < r.keys.size(); ++i) {
      if (!CanAdmit(r.t.get(), false)) {
        v1::KeysAndAttributes& un = (*response.mutable_unprocessed_keys())[name];
        if (un.keys_size() == 0) {
          un.set_projection_expression(kaa.projection_expression());
          *un.mutable_expression_attribute_names() = kaa.expression_attribute_names();
          un.set_consistent_read(kaa.consistent_read());
        }
        *un.add_keys() = kaa.keys(static_cast<int>(i));
        throttled = r.t.get();
        continue;
      }
      int64_t stored = -1;
      TT_ASSIGN_OR_RETURN(std::optional<v1::Item> item, ReadItem(r.keys[i], view, &stored));
      const int64_t size = item ? ItemSize(item->attributes()) : 0;
      const double u = ReadUnits(size, kaa.consistent_read());
      units += u;
      Charge(r.t.get(), u, 0);
      ++processed;
      if (!item) continue;
      v1::Item* out = (*response.mutable_responses())[name].add_items();
      if (r.projection) {
        *out->mutable_attributes() = r.projection->Apply(item->attributes());
      } else {
        *out = std::move(*item);
      }
    }
    if (units > 0) consumed[name].first += units;
  }
  if (processed == 0 && throttled != nullptr) return Admit(throttled, false);
  AddCapacity(&consumed, request.return_consumed_capacity(), response.mutable_consumed_capacity());
  return response;
}

absl::StatusOr<v1::BatchWriteItemResponse> TableService::BatchWriteItem(
    const v1::BatchWriteItemRequest& request) {
  int total = 0;
  for (const auto& [name, list] : request.request_items()) {
    TT_RETURN_IF_ERROR(internal::CheckTableName(name, "request_items"));
    total += list.requests_size();
  }
  if (total == 0) return Invalid("request_items", "must hold at least one write");
  if (total > kMaxBatchWrite) {
    return Invalid("request_items", absl::StrCat("at most ", kMaxBatchWrite,
                                                 " writes in all, got ", total));
  }
  struct TableWrites {
    TablePtr t;
    std::vector<Mutation> mutations;
    std::vector<int> index;  // into the request's list
  };
  std::map<std::string, TableWrites> writes;
  for (const auto& [name, list] : request.request_items()) {
    TableWrites& w = writes[name];
    TT_ASSIGN_OR_RETURN(w.t, FindForItems(name, "request_items"));
    std::set<std::string> seen;
    for (int i = 0; i < list.requests_size(); ++i) {
      const v1::WriteRequest& wr = list.requests(i);
      const std::string field = absl::StrCat("request_items[", name, "].requests[", i, "]");
      Mutation m;
      if (wr.has_put_request()) {
        m.new_item.emplace();
        AttributeMap* item = m.new_item->mutable_attributes();
        *item = wr.put_request().item();
        TT_RETURN_IF_ERROR(ValidateItem(item, w.t->schema, field + ".put_request.item"));
        TT_ASSIGN_OR_RETURN(m.key, storage::ItemKey(w.t->id, w.t->schema, *item));
        m.new_size = ItemSize(*item);
      } else if (wr.has_delete_request()) {
        const auto& key = wr.delete_request().key();
        TT_RETURN_IF_ERROR(ValidateKey(key, w.t->schema, field + ".delete_request.key"));
        TT_ASSIGN_OR_RETURN(m.key, storage::ItemKey(w.t->id, w.t->schema, key));
      } else {
        return Invalid(field, "must hold a put_request or a delete_request");
      }
      if (!seen.insert(m.key).second) return Duplicates(field);
      w.mutations.push_back(std::move(m));
      w.index.push_back(i);
    }
  }
  v1::BatchWriteItemResponse response;
  std::map<std::string, std::pair<double, double>> consumed;
  int processed = 0;
  TableState* throttled = nullptr;
  for (auto& [name, w] : writes) {
    const v1::WriteRequestList& list = request.request_items().at(name);
    const internal::ReadView view = View(*w.t);
    double units = 0;
    {
      absl::MutexLock wl(&w.t->write_mu);
      TT_RETURN_IF_ERROR(CheckLive(w.t.get()));
      rocksdb::WriteBatch batch;
      Deltas deltas;
      for (size_t i = 0; i < w.mutations.size(); ++i) {
        Mutation& m = w.mutations[i];
        if (!CanAdmit(w.t.get(), true)) {
          *(*response.mutable_unprocessed_items())[name].add_requests() = list.requests(w.index[i]);
          throttled = w.t.get();
          continue;
        }
        TT_ASSIGN_OR_RETURN(std::optional<v1::Item> old, ReadItem(m.key, view, &m.old_stored_size));
        const int64_t old_size = old ? ItemSize(old->attributes()) : 0;
        const double u = WriteUnits(std::max(old_size, m.new_size));
        units += u;
        ChargeBuckets(w.t.get(), 0, u);
        Stage(w.t.get(), m, &batch, &deltas);
        ++processed;
      }
      TT_RETURN_IF_ERROR(Commit(&batch, deltas));
    }
    if (units > 0) {
      consumed[name].second += units;
      if (events_ != nullptr) events_->OnConsumed(name, 0, units);
    }
  }
  if (processed == 0 && throttled != nullptr) return Admit(throttled, true);
  AddCapacity(&consumed, request.return_consumed_capacity(), response.mutable_consumed_capacity());
  return response;
}

absl::StatusOr<v1::TransactWriteItemsResponse> TableService::TransactWriteItems(
    const v1::TransactWriteItemsRequest& request) {
  const int n = request.transact_items_size();
  if (n == 0 || n > kMaxTransactItems) {
    return Invalid("transact_items", absl::StrCat("must hold 1 to ", kMaxTransactItems,
                                                  " actions, got ", n));
  }
  if (request.client_request_token().size() > 36) {
    return Invalid("client_request_token", "must be at most 36 characters");
  }
  struct Action {
    TablePtr t;
    std::string key;
    AttributeMap key_attrs;
    std::optional<expr::Condition> condition;
    std::optional<expr::Update> update;
    std::optional<AttributeMap> put;
    bool is_delete = false;
  };
  for (int i = 0; i < n; ++i) {  // every name before any lookup
    const auto [kind, table] = ActionTable(request.transact_items(i));
    if (table == nullptr) continue;
    TT_RETURN_IF_ERROR(internal::CheckTableName(
        *table, absl::StrCat("transact_items[", i, "].", kind, ".table_name")));
  }
  std::vector<Action> actions(static_cast<size_t>(n));
  std::set<std::pair<uint64_t, std::string>> seen;
  for (int i = 0; i < n; ++i) {
    const v1::TransactWriteItem& item = request.transact_items(i);
    Action& a = actions[static_cast<size_t>(i)];
    std::string field = absl::StrCat("transact_items[", i, "]");
    const std::string* table = nullptr;
    const AttributeMap* key = nullptr;
    const std::string* condition = nullptr;
    const std::string* update = nullptr;
    const expr::NameMap* names = nullptr;
    const AttributeMap* values = nullptr;
    switch (item.action_case()) {
      case v1::TransactWriteItem::kConditionCheck: {
        const auto& c = item.condition_check();
        field += ".condition_check";
        table = &c.table_name(), key = &c.key(), condition = &c.condition_expression();
        names = &c.expression_attribute_names(), values = &c.expression_attribute_values();
        if (c.condition_expression().empty()) {
          return Invalid(field + ".condition_expression", "required");
        }
        break;
      }
      case v1::TransactWriteItem::kPut: {
        const auto& p = item.put();
        field += ".put";
        table = &p.table_name(), condition = &p.condition_expression();
        names = &p.expression_attribute_names(), values = &p.expression_attribute_values();
        a.put = p.item();
        break;
      }
      case v1::TransactWriteItem::kDelete: {
        const auto& d = item.delete_();
        field += ".delete";
        table = &d.table_name(), key = &d.key(), condition = &d.condition_expression();
        names = &d.expression_attribute_names(), values = &d.expression_attribute_values();
        a.is_delete = true;
        break;
      }
      case v1::TransactWriteItem::kUpdate: {
        const auto& u = item.update();
        field += ".update";
        table = &u.table_name(), key = &u.key(), condition = &u.condition_expression();
        update = &u.update_expression();
        names = &u.expression_attribute_names(), values = &u.expression_attribute_values();
        break;
      }
      default:
        return Invalid(field, "must hold an action");
    }
    TT_ASSIGN_OR_RETURN(a.t, FindForItems(*table, field + ".table_name"));
    if (values != nullptr) {
      TT_RETURN_IF_ERROR(ValidateValues(*values, field + ".expression_attribute_values"));
    }
    if (a.put) {
      TT_RETURN_IF_ERROR(ValidateItem(&*a.put, a.t->schema, field + ".item"));
      a.key_attrs = KeyOf(*a.put, a.t->schema);
    } else {
      TT_RETURN_IF_ERROR(ValidateKey(*key, a.t->schema, field + ".key"));
      a.key_attrs = *key;
    }
    TT_ASSIGN_OR_RETURN(a.key, storage::ItemKey(a.t->id, a.t->schema, a.key_attrs));
    if (!seen.emplace(a.t->id, a.key).second) {
      return Invalid(field, "Transaction request cannot include multiple operations on one item");
    }
    expr::Substitutions subs(names, values);
    if (update != nullptr && !update->empty()) {
      TT_ASSIGN_OR_RETURN(expr::Update u,
                          expr::Update::Parse(*update, field + ".update_expression", &subs));
      for (const std::string& name : u.TopLevelNames()) {
        if (a.t->schema.IsKey(name)) {
          return Invalid(field + ".update_expression",
                         "Cannot update attribute " + name + ". This attribute is part of the key");
        }
      }
      a.update.emplace(std::move(u));
    }
    if (!condition->empty()) {
      TT_ASSIGN_OR_RETURN(expr::Condition c,
                          expr::Condition::Parse(*condition, field + ".condition_expression", &subs));
      a.condition.emplace(std::move(c));
    }
    TT_RETURN_IF_ERROR(subs.CheckAllUsed());
  }
  std::vector<TableState*> tables;
  for (const Action& a : actions) tables.push_back(a.t.get());
  for (TableState* t : tables) TT_RETURN_IF_ERROR(Admit(t, true));

  const std::string& token = request.client_request_token();
  std::optional<absl::MutexLock> token_lock;
  std::string fingerprint;
  v1::TransactWriteItemsResponse response;
  if (!token.empty()) {
    token_lock.emplace(&token_mu_);
    fingerprint = Fingerprint(request);
    TT_ASSIGN_OR_RETURN(std::optional<storage::TokenRecord> seen_token, store_.GetToken(token));
    if (seen_token && seen_token->expires_micros() > absl::ToUnixMicros(Now())) {
      if (seen_token->fingerprint() != fingerprint) {
        return ErrorWithReason(absl::StatusCode::kInvalidArgument,
                               "IdempotentParameterMismatchException",
                               "The request uses the same client token as a previous, but "
                               "non-identical request");
      }
      return response;  // already applied
    }
  }

  std::map<std::string, std::pair<double, double>> consumed;
  std::vector<std::string> reasons;
  std::vector<std::pair<TableState*, Mutation>> mutations;
  std::map<TableState*, double> charges;
  std::vector<std::string> failed_tables;
  bool failed = false;
  {
    MultiLock lock(tables);
    for (Action& a : actions) {
      TT_RETURN_IF_ERROR(CheckLive(a.t.get()));
      Mutation m;
      m.key = a.key;
      TT_ASSIGN_OR_RETURN(std::optional<v1::Item> old, ReadItem(a.key, View(*a.t), &m.old_stored_size));
      const v1::Item empty;
      const AttributeMap& old_attrs = old ? old->attributes() : empty.attributes();
      const int64_t old_size = ItemSize(old_attrs);
      if (a.condition && !a.condition->Evaluate(old_attrs)) {
        reasons.push_back("ConditionalCheckFailed");
        failed = true;
        failed_tables.push_back(a.t->name);
        continue;
      }
      reasons.push_back("None");
      if (a.put) {
        m.new_item.emplace();
        *m.new_item->mutable_attributes() = *a.put;
      } else if (!a.is_delete && (a.update || !a.condition)) {
        m.new_item.emplace();
        AttributeMap* attrs = m.new_item->mutable_attributes();
        *attrs = old ? old_attrs : a.key_attrs;
        if (a.update) TT_RETURN_IF_ERROR(a.update->Apply(attrs));
        TT_RETURN_IF_ERROR(ValidateItem(attrs, a.t->schema, "transact_items.update"));
      } else if (!a.is_delete) {
        continue;  // condition check only
      }
      if (m.new_item) m.new_size = ItemSize(m.new_item->attributes());
      const double units = 2 * WriteUnits(std::max(old_size, m.new_size));
      consumed[a.t->name].second += units;
      charges[a.t.get()] += units;
      mutations.emplace_back(a.t.get(), std::move(m));
    }
    if (!failed) {
      rocksdb::WriteBatch batch;
      Deltas deltas;
      for (const auto& [t, m] : mutations) Stage(t, m, &batch, &deltas);
      if (!token.empty()) {
        storage::TokenRecord record;
        record.set_expires_micros(absl::ToUnixMicros(Now() + options_.token_ttl));
        record.set_fingerprint(fingerprint);
        store_.PutToken(&batch, token, record);
      }
      TT_RETURN_IF_ERROR(Commit(&batch, deltas));
    }
  }
  for (const auto& [t, units] : charges) Charge(t, 0, units);
  for (const std::string& table : failed_tables) ReportConditionFailed(table);
  if (failed) {
    return ErrorWithReason(
        absl::StatusCode::kAborted, "TransactionCanceledException",
        absl::StrCat("Transaction cancelled, please refer cancellation reasons for specific "
                     "reasons [",
                     absl::StrJoin(reasons, ", "), "]"));
  }
  AddCapacity(&consumed, request.return_consumed_capacity(), response.mutable_consumed_capacity());
  return response;
}

absl::StatusOr<v1::TransactGetItemsResponse> TableService::TransactGetItems(
    const v1::TransactGetItemsRequest& request) {
  const int n = request.transact_items_size();
  if (n == 0 || n > kMaxTransactItems) {
    return Invalid("transact_items", absl::StrCat("must hold 1 to ", kMaxTransactItems,
                                                  " reads, got ", n));
  }
  struct Read {
    TablePtr t;
    std::string key;
    std::optional<expr::Projection> projection;
  };
  for (int i = 0; i < n; ++i) {  // every name before any lookup
    TT_RETURN_IF_ERROR(internal::CheckTableName(request.transact_items(i).get().table_name(),
                                                absl::StrCat("transact_items[", i,
                                                             "].get.table_name")));
  }
  std::vector<Read> reads(static_cast<size_t>(n));
  std::set<std::pair<uint64_t, std::string>> seen;
  for (int i = 0; i < n; ++i) {
    const v1::TransactGet& g = request.transact_items(i).get();
    const std::string field = absl::StrCat("transact_items[", i, "].get");
    Read& r = reads[static_cast<size_t>(i)];
    TT_ASSIGN_OR_RETURN(r.t, FindForItems(g.table_name(), field + ".table_name"));
    TT_RETURN_IF_ERROR(ValidateKey(g.key(), r.t->schema, field + ".key"));
    TT_ASSIGN_OR_RETURN(r.key, storage::ItemKey(r.t->id, r.t->schema, g.key()));
    if (!seen.emplace(r.t->id, r.key).second) {
      return Invalid(field, "Transaction request cannot include multiple operations on one item");
    }
    expr::Substitutions subs(&g.expression_attribute_names(), nullptr);
    if (!g.projection_expression().empty()) {
      TT_ASSIGN_OR_RETURN(expr::Projection p,
                          expr::Projection::Parse(g.projection_expression(),
                                                  field + ".projection_expression", &subs));
      r.projection.emplace(std::move(p));
    }
    TT_RETURN_IF_ERROR(subs.CheckAllUsed());
  }
  std::vector<TableState*> tables;
  for (const Read& r : reads) tables.push_back(r.t.get());
  for (TableState* t : tables) TT_RETURN_IF_ERROR(Admit(t, false));
  v1::TransactGetItemsResponse response;
  std::map<std::string, std::pair<double, double>> consumed;
  std::map<TableState*, double> charges;
  {
    // Every write holds its table's write lock: holding them all gives one
    // consistent view of the items read.
    MultiLock lock(tables);
    for (Read& r : reads) {
      TT_RETURN_IF_ERROR(CheckLive(r.t.get()));
      int64_t stored = -1;
      TT_ASSIGN_OR_RETURN(std::optional<v1::Item> item, ReadItem(r.key, View(*r.t), &stored));
      v1::Item* out = response.add_responses();
      const int64_t size = item ? ItemSize(item->attributes()) : 0;
      const double units = 2 * ReadUnits(size, true);
      consumed[r.t->name].first += units;
      charges[r.t.get()] += units;
      if (!item) continue;
      if (r.projection) {
        *out->mutable_attributes() = r.projection->Apply(item->attributes());
      } else {
        *out = std::move(*item);
      }
    }
  }
  for (const auto& [t, units] : charges) Charge(t, units, 0);
  AddCapacity(&consumed, request.return_consumed_capacity(), response.mutable_consumed_capacity());
  return response;
}

}  // namespace thingtank::tables
