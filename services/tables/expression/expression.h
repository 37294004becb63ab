#pragma once

// DynamoDB's expression language: condition (and filter), update, projection
// and key-condition expressions, parsed by a real parser (clear syntax errors
// naming the position) and evaluated against items. No gRPC types; the item
// and value types are the generated protobuf messages of tables.proto.

#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/map.h"
#include "thingtank/tables/v1/tables.pb.h"

namespace thingtank::tables::expr {

using AttributeMap = google::protobuf::Map<std::string, v1::AttributeValue>;
using NameMap = google::protobuf::Map<std::string, std::string>;

// The expression_attribute_names and _values of one request, and which of them
// the request's expressions used. Not thread-safe; one per request.
class Substitutions {
 public:
  // Either may be null (the request has none).
  Substitutions(const NameMap* names, const AttributeMap* values);
  // "#n" -> the name; INVALID_ARGUMENT naming `field` and the position when
  // missing. Marks it used.
  absl::StatusOr<std::string> Name(absl::string_view token, absl::string_view field, size_t position);
  // ":v" -> the value; same errors. Marks it used.
  absl::StatusOr<const v1::AttributeValue*> Value(absl::string_view token, absl::string_view field,
                                                  size_t position);
  // After parsing every expression of the request: INVALID_ARGUMENT (field
  // "expression_attribute_names" or "expression_attribute_values", reason
  // ValidationException) listing entries no expression used, as DynamoDB does.
  absl::Status CheckAllUsed() const;

 private:
  const NameMap* names_;
  const AttributeMap* values_;
  std::set<std::string> used_names_;
  std::set<std::string> used_values_;
};

// One step of a document path: a map key / attribute name, or a list index.
struct PathElement {
  std::string name;  // when !is_index
  int64_t index = 0;   // when is_index
  bool is_index = false;
};
// "a.b[2].c": first element is the top-level attribute name.
using Path = std::vector<PathElement>;

// The value at `path` in `item`, or null.
const v1::AttributeValue* Resolve(const AttributeMap& item, const Path& path);

// Condition and filter expressions: comparisons (= <> < <= > >=), BETWEEN, IN,
// AND, OR, NOT, parentheses, attribute_exists, attribute_not_exists,
// attribute_type, begins_with, contains, size.
class Condition {
 public:
  // `field` names the request field for errors ("condition_expression",
  // "filter_expression"). Syntax errors are INVALID_ARGUMENT, reason
  // ValidationException, message naming the position and the token found.
  static absl::StatusOr<Condition> Parse(absl::string_view text, absl::string_view field,
                                         Substitutions* subs);
  // Whether `item` (empty map = no item) satisfies the condition. Comparisons
  // of mismatched types are false, as in DynamoDB.
  bool Evaluate(const AttributeMap& item) const;
  // Top-level attribute names the expression's document paths start with, in
  // order of first use (Query refuses filters on key attributes).
  std::vector<std::string> TopLevelNames() const;

  Condition(Condition&&) noexcept;
  Condition& operator=(Condition&&) noexcept;
  ~Condition();

  struct Node;

 private:
  explicit Condition(std::unique_ptr<Node> root);
  std::unique_ptr<Node> root_;
};

// Update expressions: SET (with +, -, if_not_exists, list_append), REMOVE,
// ADD (numbers and sets), DELETE (from sets); each clause at most once.
class Update {
 public:
  static absl::StatusOr<Update> Parse(absl::string_view text, absl::string_view field,
                                      Substitutions* subs);
  // Applies every action to `item` (empty for a new item), evaluating
  // operands against the item as it was before. INVALID_ARGUMENT (reason
  // ValidationException) for type errors (ADD to a string, arithmetic on a
  // non-number, list_append of a non-list, ...) or overlapping paths.
  absl::Status Apply(AttributeMap* item) const;
  // Top-level attribute names the expression writes or removes (for key
  // protection and UPDATED_OLD / UPDATED_NEW).
  std::vector<std::string> TopLevelNames() const;

  Update(Update&&) noexcept;
  Update& operator=(Update&&) noexcept;
  ~Update();

  struct Action;

 private:
  Update() = default;
  std::vector<Action> actions_;
  std::string field_;  // for errors from Apply
};

// Projection expressions: comma-separated document paths.
class Projection {
 public:
  static absl::StatusOr<Projection> Parse(absl::string_view text, absl::string_view field,
                                          Substitutions* subs);
  // The projected part of `item` (nested paths keep their enclosing maps/lists).
  AttributeMap Apply(const AttributeMap& item) const;
  const std::vector<Path>& paths() const { return paths_; }

 private:
  std::vector<Path> paths_;
};

// Key-condition expressions of Query: "hk = :v" optionally AND one range-key
// condition (=, <, <=, >, >=, BETWEEN, begins_with). Which attribute is the
// hash key is checked by the caller against the table's key schema.
struct KeyCondition {
  enum class RangeOp { kNone, kEq, kLt, kLe, kGt, kGe, kBetween, kBeginsWith };
  static absl::StatusOr<KeyCondition> Parse(absl::string_view text, absl::string_view field,
                                            Substitutions* subs);
  // With two equality conjuncts Parse takes the first as the hash key; call
  // this with the table's hash key name to swap them when the second one is.
  void AssumeHashKey(absl::string_view hash_key);
  std::string hash_name;
  v1::AttributeValue hash_value;
  RangeOp range_op = RangeOp::kNone;
  std::string range_name;
  v1::AttributeValue range_low;   // the operand (low bound for BETWEEN)
  v1::AttributeValue range_high;  // BETWEEN only
};

// Total order/equality of two scalar values of the same type (S, N, B) as
// DynamoDB compares them (N numerically, S and B bytewise). nullopt when the
// types differ or are not scalar.
std::optional<int> CompareScalars(const v1::AttributeValue& a, const v1::AttributeValue& b);
// Deep equality (sets compare as sets, numbers numerically).
bool Equal(const v1::AttributeValue& a, const v1::AttributeValue& b);

}  // namespace thingtank::tables::expr
