// Applying a parsed update expression to an item. Every operand is read from
// the item as it was before the update; the item changes only if every action
// succeeds.

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "services/common/status.h"
#include "services/tables/decimal.h"
#include "services/tables/expression/ast.h"

namespace thingtank::tables::expr {
namespace {

using Action = Update::Action;

v1::AttributeValue* MutableResolve(AttributeMap* item, const Path& path, size_t length) {
  auto it = item->find(path[0].name);
  if (it == item->end()) return nullptr;
  v1::AttributeValue* v = &it->second;
  for (size_t i = 1; i < length; ++i) {
    const PathElement& e = path[i];
    if (e.is_index) {
      if (v->value_case() != v1::AttributeValue::kL) return nullptr;
      if (e.index < 0 || e.index >= v->l().values_size()) return nullptr;
      v = v->mutable_l()->mutable_values(static_cast<int>(e.index));
    } else {
      if (v->value_case() != v1::AttributeValue::kM) return nullptr;
      auto* fields = v->mutable_m()->mutable_fields();
      auto f = fields->find(e.name);
      if (f == fields->end()) return nullptr;
      v = &f->second;
    }
  }
  return v;
}

class Applier {
 public:
  Applier(const AttributeMap& before, absl::string_view field) : before_(before), field_(field) {}

  absl::Status Error(absl::string_view message) const { return ExpressionError(field_, message); }
  absl::Status TypeError() const {
    return Error("An operand in the update expression has an incorrect data type");
  }

  absl::StatusOr<v1::AttributeValue> Value(const UpdateOperand& operand) const {
    switch (operand.kind) {
      case UpdateOperand::Kind::kValue:
        return operand.value;
      case UpdateOperand::Kind::kPath: {
        const v1::AttributeValue* v = Resolve(before_, operand.path);
        if (v == nullptr) {
          return Error(
              "The provided expression refers to an attribute that does not exist in the item");
        }
        return *v;
      }
      case UpdateOperand::Kind::kIfNotExists: {
        const v1::AttributeValue* v = Resolve(before_, operand.path);
        if (v != nullptr) return *v;
        return Value(operand.args[0]);
      }
      case UpdateOperand::Kind::kListAppend: {
        TT_ASSIGN_OR_RETURN(v1::AttributeValue a, Value(operand.args[0]));
        TT_ASSIGN_OR_RETURN(v1::AttributeValue b, Value(operand.args[1]));
        if (a.value_case() != v1::AttributeValue::kL || b.value_case() != v1::AttributeValue::kL) {
          return TypeError();
        }
        for (const auto& v : b.l().values()) *a.mutable_l()->add_values() = v;
        return a;
      }
    }
    return TypeError();
  }

  absl::StatusOr<v1::AttributeValue> SetValue(const Action& action) const {
    TT_ASSIGN_OR_RETURN(v1::AttributeValue left, Value(action.left));
    if (action.op == 0) return left;
    TT_ASSIGN_OR_RETURN(v1::AttributeValue right, Value(action.right));
    if (left.value_case() != v1::AttributeValue::kN || right.value_case() != v1::AttributeValue::kN) {
      return TypeError();
    }
    TT_ASSIGN_OR_RETURN(Decimal a, Number(left.n()));
    TT_ASSIGN_OR_RETURN(Decimal b, Number(right.n()));
    absl::StatusOr<Decimal> r = action.op == '+' ? a.Add(b) : a.Subtract(b);
    if (!r.ok()) return Error(r.status().message());
    v1::AttributeValue out;
    out.set_n(r->ToString());
    return out;
  }

  absl::StatusOr<Decimal> Number(const std::string& text) const {
    auto d = Decimal::Parse(text);
    if (!d.ok()) return Error(d.status().message());
    return *d;
  }

  // Writes `value` at `path`; the parent must exist and have the right type.
  absl::Status Assign(AttributeMap* item, const Path& path, v1::AttributeValue value) const {
    if (path.size() == 1) {
      (*item)[path[0].name] = std::move(value);
      return absl::OkStatus();
    }
    v1::AttributeValue* parent = MutableResolve(item, path, path.size() - 1);
    const PathElement& last = path.back();
    if (parent != nullptr && last.is_index && parent->value_case() == v1::AttributeValue::kL) {
      auto* values = parent->mutable_l()->mutable_values();
      if (last.index < values->size()) {
        *values->Mutable(static_cast<int>(last.index)) = std::move(value);
      } else {
        *values->Add() = std::move(value);  // past the end appends, as in DynamoDB
      }
      return absl::OkStatus();
    }
    if (parent != nullptr && !last.is_index && parent->value_case() == v1::AttributeValue::kM) {
      (*parent->mutable_m()->mutable_fields())[last.name] = std::move(value);
      return absl::OkStatus();
    }
    return Error("The document path provided in the update expression is invalid for update");
  }

  absl::Status Add(AttributeMap* item, const Action& action) const {
    v1::AttributeValue* current = MutableResolve(item, action.path, action.path.size());
    if (current == nullptr) return Assign(item, action.path, action.value);
    if (current->value_case() != action.value.value_case()) return TypeError();
    switch (current->value_case()) {
      case v1::AttributeValue::kN: {
        TT_ASSIGN_OR_RETURN(Decimal a, Number(current->n()));
        TT_ASSIGN_OR_RETURN(Decimal b, Number(action.value.n()));
        auto sum = a.Add(b);
        if (!sum.ok()) return Error(sum.status().message());
        current->set_n(sum->ToString());
        return absl::OkStatus();
      }
      case v1::AttributeValue::kSs:
        Union(current->mutable_ss()->mutable_values(), action.value.ss().values(), false);
        return absl::OkStatus();
      case v1::AttributeValue::kBs:
        Union(current->mutable_bs()->mutable_values(), action.value.bs().values(), false);
        return absl::OkStatus();
      case v1::AttributeValue::kNs:
        Union(current->mutable_ns()->mutable_values(), action.value.ns().values(), true);
        return absl::OkStatus();
      default:
        return TypeError();
    }
  }

  absl::Status Delete(AttributeMap* item, const Action& action) const {
    v1::AttributeValue* current = MutableResolve(item, action.path, action.path.size());
    if (current == nullptr) return absl::OkStatus();
    if (current->value_case() != action.value.value_case()) return TypeError();
    google::protobuf::RepeatedPtrField<std::string>* members;
    const google::protobuf::RepeatedPtrField<std::string>* remove;
    bool numeric = false;
    switch (current->value_case()) {
      case v1::AttributeValue::kSs:
        members = current->mutable_ss()->mutable_values();
        remove = &action.value.ss().values();
        break;
      case v1::AttributeValue::kBs:
        members = current->mutable_bs()->mutable_values();
        remove = &action.value.bs().values();
        break;
      case v1::AttributeValue::kNs:
        members = current->mutable_ns()->mutable_values();
        remove = &action.value.ns().values();
        numeric = true;
        break;
      default:
        return TypeError();
    }
    google::protobuf::RepeatedPtrField<std::string> kept;
    for (const std::string& m : *members) {
      if (!Member(*remove, m, numeric)) *kept.Add() = m;
    }
    members->Swap(&kept);
    if (members->empty()) Remove(item, action.path);  // sets are never empty
    return absl::OkStatus();
  }

  static void Remove(AttributeMap* item, const Path& path) {
    if (path.size() == 1) {
      item->erase(path[0].name);
      return;
    }
    v1::AttributeValue* parent = MutableResolve(item, path, path.size() - 1);
    if (parent == nullptr) return;
    const PathElement& last = path.back();
    if (last.is_index && parent->value_case() == v1::AttributeValue::kL) {
      auto* values = parent->mutable_l()->mutable_values();
      if (last.index < values->size()) {
        values->erase(values->begin() + static_cast<int>(last.index));
      }
    } else if (!last.is_index && parent->value_case() == v1::AttributeValue::kM) {
      parent->mutable_m()->mutable_fields()->erase(last.name);
    }
  }

 private:
  static bool Member(const google::protobuf::RepeatedPtrField<std::string>& set,
                     const std::string& x, bool numeric) {
    for (const std::string& m : set) {
      if (numeric) {
        auto a = Decimal::Parse(m);
        auto b = Decimal::Parse(x);
        if (a.ok() && b.ok() ? *a == *b : m == x) return true;
      } else if (m == x) {
        return true;
      }
    }
    return false;
  }

  static void Union(google::protobuf::RepeatedPtrField<std::string>* into,
                    const google::protobuf::RepeatedPtrField<std::string>& add, bool numeric) {
    for (const std::string& x : add) {
      if (!Member(*into, x, numeric)) *into->Add() = x;
    }
  }

  const AttributeMap& before_;
  absl::string_view field_;
};

// Orders REMOVEs so that removing list elements by index does not shift the
// indexes of later removals from the same list: higher indexes first.
bool RemoveBefore(const Action* a, const Action* b) {
  const Path& x = a->path;
  const Path& y = b->path;
  for (size_t i = 0; i < std::min(x.size(), y.size()); ++i) {
    if (x[i].is_index && y[i].is_index && x[i].index != y[i].index) {
      return x[i].index > y[i].index;
    }
    if (x[i].is_index != y[i].is_index) return x[i].is_index;
    if (!x[i].is_index && x[i].name != y[i].name) return x[i].name < y[i].name;
  }
  return x.size() > y.size();
}

}  // namespace

absl::Status Update::Apply(AttributeMap* item) const {
  Applier applier(*item, field_);
  // Evaluate every SET value first, against the item before the update.
  std::vector<v1::AttributeValue> set_values;
  for (const Action& action : actions_) {
    if (action.kind != Action::Kind::kSet) continue;
    TT_ASSIGN_OR_RETURN(v1::AttributeValue v, applier.SetValue(action));
    set_values.push_back(std::move(v));
  }
  AttributeMap result = *item;
  size_t next_set = 0;
  std::vector<const Action*> removes;
  for (const Action& action : actions_) {
    switch (action.kind) {
      case Action::Kind::kSet:
        TT_RETURN_IF_ERROR(applier.Assign(&result, action.path, std::move(set_values[next_set++])));
        break;
      case Action::Kind::kAdd:
        TT_RETURN_IF_ERROR(applier.Add(&result, action));
        break;
      case Action::Kind::kDelete:
        TT_RETURN_IF_ERROR(applier.Delete(&result, action));
        break;
      case Action::Kind::kRemove:
        removes.push_back(&action);
        break;
    }
  }
  std::sort(removes.begin(), removes.end(), RemoveBefore);
  for (const Action* action : removes) Applier::Remove(&result, action->path);
  item->swap(result);
  return absl::OkStatus();
}

}  // namespace thingtank::tables::expr
