// PutItem, GetItem, DeleteItem, UpdateItem.
#include <algorithm>
#include <optional>

#include "absl/cleanup/cleanup.h"
#include "services/tables/expression/expression.h"
#include "services/tables/table_service.h"

namespace thingtank::tables {

using internal::Invalid;

namespace {

absl::StatusOr<std::optional<expr::Condition>> ParseCondition(const std::string& text,
                                                              expr::Substitutions* subs) {
  if (text.empty()) return std::optional<expr::Condition>();
  TT_ASSIGN_OR_RETURN(expr::Condition c,
                      expr::Condition::Parse(text, "condition_expression", subs));
  return std::optional<expr::Condition>(std::move(c));
}

absl::Status CheckValues(const AttributeMap& values) {
  return ValidateValues(values, "expression_attribute_values");
}

bool Holds(const std::optional<expr::Condition>& c, const AttributeMap& item) {
  return !c || c->Evaluate(item);
}

absl::Status CheckReturnValues(v1::ReturnValue rv, bool update) {
  if (rv == v1::RETURN_VALUE_UNSPECIFIED || rv == v1::RETURN_VALUE_NONE ||
      rv == v1::RETURN_VALUE_ALL_OLD || update) {
    return absl::OkStatus();
  }
  return Invalid("return_values", "only NONE and ALL_OLD are allowed");
}

AttributeMap Only(const AttributeMap& item, const std::vector<std::string>& names) {
  AttributeMap out;
  for (const std::string& n : names) {
    if (auto it = item.find(n); it != item.end()) out[n] = it->second;
  }
  return out;
}

}  // namespace

absl::StatusOr<v1::PutItemResponse> TableService::PutItem(const v1::PutItemRequest& request) {
  return DoPutItem(request, WriteMode::kBlocking);
}

absl::StatusOr<v1::PutItemResponse> TableService::PutItemNonBlocking(
    const v1::PutItemRequest& request) {
  return DoPutItem(request, WriteMode::kNonBlocking);
}

absl::StatusOr<v1::PutItemResponse> TableService::DoPutItem(const v1::PutItemRequest& request,
                                                          WriteMode mode) {
  TT_ASSIGN_OR_RETURN(TablePtr t, FindForItems(request.table_name()));
  Mutation m;
  m.new_item.emplace();
  AttributeMap* item = m.new_item->mutable_attributes();
  *item = request.item();
  TT_RETURN_IF_ERROR(ValidateItem(item, t->schema, "item"));
  TT_RETURN_IF_ERROR(CheckReturnValues(request.return_values(), false));
  TT_RETURN_IF_ERROR(CheckValues(request.expression_attribute_values()));
  expr::Substitutions subs(&request.expression_attribute_names(),
                           &request.expression_attribute_values());
  TT_ASSIGN_OR_RETURN(auto condition, ParseCondition(request.condition_expression(), &subs));
  TT_RETURN_IF_ERROR(subs.CheckAllUsed());
  TT_ASSIGN_OR_RETURN(m.key, storage::ItemKey(t->id, t->schema, *item));
  TT_RETURN_IF_ERROR(Admit(t.get(), true));
  m.new_size = ItemSize(*item);
  v1::PutItemResponse response;
  TT_ASSIGN_OR_RETURN(
      const double units,
      WriteItem(
          t.get(), mode, &m, [&](const AttributeMap& old) { return Holds(condition, old); },
          [](const std::optional<v1::Item>&, const AttributeMap&) -> absl::StatusOr<bool> {
            return true;
          },
          [&](const std::optional<v1::Item>&, const AttributeMap& old_attrs) {
            if (request.return_values() == v1::RETURN_VALUE_ALL_OLD) {
              *response.mutable_attributes() = old_attrs;
            }
          }));
  internal::FillCapacity(t->name, 0, units, request.return_consumed_capacity(),
                         &response);
  return response;
}

absl::StatusOr<v1::GetItemResponse> TableService::GetItem(const v1::GetItemRequest& request) {
  return DoGetItem(request, /*non_blocking=*/false);
}

absl::StatusOr<v1::GetItemResponse> TableService::GetItemNonBlocking(
    const v1::GetItemRequest& request) {
  return DoGetItem(request, /*non_blocking=*/true);
}

absl::StatusOr<v1::GetItemResponse> TableService::DoGetItem(const v1::GetItemRequest& request,
                                                            bool non_blocking) {
  TT_ASSIGN_OR_RETURN(TablePtr t, FindForItems(request.table_name()));
  TT_RETURN_IF_ERROR(ValidateKey(request.key(), t->schema, "key"));
  expr::Substitutions subs(&request.expression_attribute_names(), nullptr);
  std::optional<expr::Projection> projection;
  if (!request.projection_expression().empty()) {
    TT_ASSIGN_OR_RETURN(expr::Projection p, expr::Projection::Parse(request.projection_expression(),
                                                                    "projection_expression", &subs));
    projection.emplace(std::move(p));
  }
  TT_RETURN_IF_ERROR(subs.CheckAllUsed());
  TT_ASSIGN_OR_RETURN(std::string key, storage::ItemKey(t->id, t->schema, request.key()));
  TT_RETURN_IF_ERROR(Admit(t.get(), false));
  int64_t stored = -1;
  TT_ASSIGN_OR_RETURN(std::optional<v1::Item> item, ReadItem(key, View(*t), &stored, non_blocking));
  v1::GetItemResponse response;
  int64_t size = 0;
  if (item) {
    size = ItemSize(item->attributes());
    *response.mutable_item() =
        projection ? projection->Apply(item->attributes()) : item->attributes();
  }
  const double units = ReadUnits(size, request.consistent_read());
  Charge(t.get(), units, 0);
  internal::FillCapacity(t->name, units, 0, request.return_consumed_capacity(),
                         &response);
  return response;
}

absl::StatusOr<v1::DeleteItemResponse> TableService::DeleteItem(
    const v1::DeleteItemRequest& request) {
  return DoDeleteItem(request, WriteMode::kBlocking);
}

absl::StatusOr<v1::DeleteItemResponse> TableService::DeleteItemNonBlocking(
    const v1::DeleteItemRequest& request) {
  return DoDeleteItem(request, WriteMode::kNonBlocking);
}

absl::StatusOr<v1::DeleteItemResponse> TableService::DoDeleteItem(
    const v1::DeleteItemRequest& request, WriteMode mode) {
  TT_ASSIGN_OR_RETURN(TablePtr t, FindForItems(request.table_name()));
  TT_RETURN_IF_ERROR(ValidateKey(request.key(), t->schema, "key"));
  TT_RETURN_IF_ERROR(CheckReturnValues(request.return_values(), false));
  TT_RETURN_IF_ERROR(CheckValues(request.expression_attribute_values()));
  expr::Substitutions subs(&request.expression_attribute_names(),
                           &request.expression_attribute_values());
  TT_ASSIGN_OR_RETURN(auto condition, ParseCondition(request.condition_expression(), &subs));
  TT_RETURN_IF_ERROR(subs.CheckAllUsed());
  TT_ASSIGN_OR_RETURN(std::string key, storage::ItemKey(t->id, t->schema, request.key()));
  TT_RETURN_IF_ERROR(Admit(t.get(), true));

  Mutation m;
  m.key = std::move(key);
  v1::DeleteItemResponse response;
  TT_ASSIGN_OR_RETURN(
      const double units,
      WriteItem(
          t.get(), mode, &m, [&](const AttributeMap& old) { return Holds(condition, old); },
          [&](const std::optional<v1::Item>&, const AttributeMap&) -> absl::StatusOr<bool> {
            return m.old_stored_size >= 0;
          },
          [&](const std::optional<v1::Item>&, const AttributeMap& old_attrs) {
            if (request.return_values() == v1::RETURN_VALUE_ALL_OLD) {
              *response.mutable_attributes() = old_attrs;
            }
          }));
  internal::FillCapacity(t->name, 0, units, request.return_consumed_capacity(),
                         &response);
  return response;
}

absl::StatusOr<v1::UpdateItemResponse> TableService::UpdateItem(
    const v1::UpdateItemRequest& request) {
  return DoUpdateItem(request, WriteMode::kBlocking);
}

absl::StatusOr<v1::UpdateItemResponse> TableService::UpdateItemNonBlocking(
    const v1::UpdateItemRequest& request) {
  return DoUpdateItem(request, WriteMode::kNonBlocking);
}

absl::StatusOr<v1::UpdateItemResponse> TableService::DoUpdateItem(
    const v1::UpdateItemRequest& request, WriteMode mode) {
  TT_ASSIGN_OR_RETURN(TablePtr t, FindForItems(request.table_name()));
  TT_RETURN_IF_ERROR(ValidateKey(request.key(), t->schema, "key"));
  TT_RETURN_IF_ERROR(CheckValues(request.expression_attribute_values()));
  expr::Substitutions subs(&request.expression_attribute_names(),
                           &request.expression_attribute_values());
  std::optional<expr::Update> update;
  std::vector<std::string> touched;
  if (!request.update_expression().empty()) {
    TT_ASSIGN_OR_RETURN(expr::Update u, expr::Update::Parse(request.update_expression(),
                                                            "update_expression", &subs));
    touched = u.TopLevelNames();
    update.emplace(std::move(u));
  }
  TT_ASSIGN_OR_RETURN(auto condition, ParseCondition(request.condition_expression(), &subs));
  TT_RETURN_IF_ERROR(subs.CheckAllUsed());
  for (const std::string& name : touched) {
    if (t->schema.IsKey(name)) {
      return Invalid("update_expression",
                     "Cannot update attribute " + name + ". This attribute is part of the key");
    }
  }
  TT_ASSIGN_OR_RETURN(std::string key, storage::ItemKey(t->id, t->schema, request.key()));
  TT_RETURN_IF_ERROR(Admit(t.get(), true));

  Mutation m;
  m.key = std::move(key);
  v1::UpdateItemResponse response;
  TT_ASSIGN_OR_RETURN(
      const double units,
      WriteItem(
          t.get(), mode, &m, [&](const AttributeMap& old) { return Holds(condition, old); },
          [&](const std::optional<v1::Item>& old,
              const AttributeMap& old_attrs) -> absl::StatusOr<bool> {
            m.new_item.emplace();
            AttributeMap* attrs = m.new_item->mutable_attributes();
            *attrs = old ? old_attrs : request.key();
            if (update) TT_RETURN_IF_ERROR(update->Apply(attrs));
            TT_RETURN_IF_ERROR(ValidateItem(attrs, t->schema, "update_expression"));
            m.new_size = ItemSize(*attrs);
            return true;
          },
          [&](const std::optional<v1::Item>& old, const AttributeMap& old_attrs) {
            const AttributeMap& attrs = m.new_item->attributes();
            switch (request.return_values()) {
              case v1::RETURN_VALUE_ALL_OLD:
                if (old) *response.mutable_attributes() = old_attrs;
                break;
              case v1::RETURN_VALUE_UPDATED_OLD:
                *response.mutable_attributes() = Only(old_attrs, touched);
                break;
              case v1::RETURN_VALUE_ALL_NEW:
                *response.mutable_attributes() = attrs;
                break;
              case v1::RETURN_VALUE_UPDATED_NEW:
                *response.mutable_attributes() = Only(attrs, touched);
                break;
              default:
                break;
            }
          }));
  internal::FillCapacity(t->name, 0, units, request.return_consumed_capacity(),
                         &response);
  return response;
}

absl::StatusOr<double> TableService::WriteItem(
    TableState* t, WriteMode mode, Mutation* m,
    absl::FunctionRef<bool(const AttributeMap&)> holds,
    absl::FunctionRef<absl::StatusOr<bool>(const std::optional<v1::Item>& old,
                                           const AttributeMap& old_attrs)>
        prepare,
    absl::FunctionRef<OldItemFn> respond) {
  const internal::ReadView view = View(*t);
  int64_t old_size = 0;
  bool failed = false;
  const bool non_blocking = mode == WriteMode::kNonBlocking;
  {
    if (!non_blocking) {
      t->write_mu.Lock();
    } else if (!t->write_mu.TryLock()) {
      // Taken: the holder may be reading from disk. (Waiting briefly first
      // measured slower: the spinning takes the CPU the holder needs.)
      return WouldBlock();
    }
    absl::Cleanup unlock = [t] { t->write_mu.Unlock(); };
    TT_RETURN_IF_ERROR(CheckLive(t));
    TT_ASSIGN_OR_RETURN(std::optional<v1::Item> old,
                        ReadItem(m->key, view, &m->old_stored_size, non_blocking));
    const v1::Item empty;
    const AttributeMap& old_attrs = old ? old->attributes() : empty.attributes();
    old_size = ItemSize(old_attrs);
    if (!holds(old_attrs)) {
      failed = true;
    } else {
      TT_ASSIGN_OR_RETURN(const bool write, prepare(old, old_attrs));
      if (write) {
        rocksdb::WriteBatch batch;
        Deltas deltas;
        Stage(t, *m, &batch, &deltas);
        TT_RETURN_IF_ERROR(Commit(&batch, deltas, non_blocking));
        respond(old, old_attrs);
      }
    }
  }
  const double units = WriteUnits(std::max(old_size, m->new_size));
  Charge(t, 0, units);
  if (failed) {
    ReportConditionFailed(t->name);
    return internal::ConditionFailed();
  }
  return units;
}

}  // namespace thingtank::tables
