#include "services/tables/item_validation.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "services/common/status.h"
#include "services/tables/decimal.h"

namespace thingtank::tables {
namespace {

constexpr char kValidation[] = "ValidationException";

absl::Status Invalid(const std::string& field, const std::string& message) {
  return InvalidField(field, message, kValidation);
}

absl::Status CheckNumber(const std::string& text, const std::string& field) {
  absl::StatusOr<Decimal> d = Decimal::Parse(text);
  if (!d.ok()) return Invalid(field, std::string(d.status().message()));
  return absl::OkStatus();
}

// Significant digits of a valid number's text: mantissa digits without
// leading or trailing zeros.
int64_t SignificantDigits(std::string_view text) {
  int64_t digits = 0, leading = 0, trailing = 0;
  bool seen_nonzero = false;
  for (char c : text) {
    if (c == 'e' || c == 'E') break;
    if (c < '0' || c > '9') continue;
    ++digits;
    if (c == '0') {
      if (!seen_nonzero) ++leading;
      ++trailing;
    } else {
      seen_nonzero = true;
      trailing = 0;
    }
  }
  if (!seen_nonzero) return 0;
  return digits - leading - trailing;
}

const char* TypeName(v1::ScalarAttributeType t) {
  switch (t) {
    case v1::SCALAR_ATTRIBUTE_TYPE_S: return "S";
    case v1::SCALAR_ATTRIBUTE_TYPE_N: return "N";
    case v1::SCALAR_ATTRIBUTE_TYPE_B: return "B";
    default: return "?";
  }
}

bool HasType(const v1::AttributeValue& v, v1::ScalarAttributeType t) {
  switch (t) {
    case v1::SCALAR_ATTRIBUTE_TYPE_S: return v.value_case() == v1::AttributeValue::kS;
    case v1::SCALAR_ATTRIBUTE_TYPE_N: return v.value_case() == v1::AttributeValue::kN;
    case v1::SCALAR_ATTRIBUTE_TYPE_B: return v.value_case() == v1::AttributeValue::kB;
    default: return false;
  }
}

absl::Status CheckKeyAttribute(const AttributeMap& item, const std::string& name,
                               v1::ScalarAttributeType type, size_t max_bytes,
                               const std::string& field) {
  auto it = item.find(name);
  const std::string where = absl::StrCat(field, ".", name);
  if (it == item.end()) {
    return Invalid(field, absl::StrCat("missing the key attribute ", name));
  }
  if (!HasType(it->second, type)) {
    return Invalid(where, absl::StrCat("key attribute ", name, " must be of type ", TypeName(type)));
  }
  const v1::AttributeValue& v = it->second;
  if (type == v1::SCALAR_ATTRIBUTE_TYPE_N) return CheckNumber(v.n(), where);
  const std::string& bytes = type == v1::SCALAR_ATTRIBUTE_TYPE_S ? v.s() : v.b();
  if (bytes.empty()) {
    return Invalid(where, absl::StrCat("key attribute ", name, " must not be empty"));
  }
  if (bytes.size() > max_bytes) {
    return Invalid(where, absl::StrCat("key attribute ", name, " is longer than ", max_bytes,
                                       " bytes"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateValue(const v1::AttributeValue& v, const std::string& field, int depth) {
  if (depth > kMaxNestingDepth) {
    return Invalid(field, absl::StrCat("nesting deeper than ", kMaxNestingDepth, " levels"));
  }
  switch (v.value_case()) {
    case v1::AttributeValue::VALUE_NOT_SET:
      return Invalid(field, "attribute value has no type set");
    case v1::AttributeValue::kS:
    case v1::AttributeValue::kB:
    case v1::AttributeValue::kBoolValue:
      return absl::OkStatus();
    case v1::AttributeValue::kN:
      return CheckNumber(v.n(), field);
    case v1::AttributeValue::kNullValue:
      if (!v.null_value()) return Invalid(field, "null_value must be true");
      return absl::OkStatus();
    case v1::AttributeValue::kL:
      for (int i = 0; i < v.l().values_size(); ++i) {
        TT_RETURN_IF_ERROR(ValidateValue(v.l().values(i), absl::StrCat(field, "[", i, "]"), depth + 1));
      }
      return absl::OkStatus();
    case v1::AttributeValue::kM:
      for (const auto& [name, value] : v.m().fields()) {
        TT_RETURN_IF_ERROR(ValidateValue(value, absl::StrCat(field, ".", name), depth + 1));
      }
      return absl::OkStatus();
    case v1::AttributeValue::kSs: {
      if (v.ss().values().empty()) return Invalid(field, "a string set must not be empty");
      std::set<std::string> seen(v.ss().values().begin(), v.ss().values().end());
      if (seen.size() != static_cast<size_t>(v.ss().values_size())) {
        return Invalid(field, "a string set must not contain duplicates");
      }
      return absl::OkStatus();
    }
    case v1::AttributeValue::kBs: {
      if (v.bs().values().empty()) return Invalid(field, "a binary set must not be empty");
      std::set<std::string> seen(v.bs().values().begin(), v.bs().values().end());
      if (seen.size() != static_cast<size_t>(v.bs().values_size())) {
        return Invalid(field, "a binary set must not contain duplicates");
      }
      return absl::OkStatus();
    }
    case v1::AttributeValue::kNs: {
      if (v.ns().values().empty()) return Invalid(field, "a number set must not be empty");
      std::vector<Decimal> seen;
      for (const std::string& text : v.ns().values()) {
        absl::StatusOr<Decimal> d = Decimal::Parse(text);
        if (!d.ok()) return Invalid(field, std::string(d.status().message()));
        for (const Decimal& other : seen) {
          if (other == *d) return Invalid(field, "a number set must not contain duplicates");
        }
        seen.push_back(*d);
      }
      return absl::OkStatus();
    }
  }
  return Invalid(field, "unknown attribute value type");
}

int64_t ValueSize(const v1::AttributeValue& v) {
  switch (v.value_case()) {
    case v1::AttributeValue::kS: return static_cast<int64_t>(v.s().size());
    case v1::AttributeValue::kB: return static_cast<int64_t>(v.b().size());
    case v1::AttributeValue::kN: return NumberSize(v.n());
    case v1::AttributeValue::kBoolValue:
    case v1::AttributeValue::kNullValue: return 1;
    case v1::AttributeValue::kL: {
      int64_t n = 3;
      for (const auto& e : v.l().values()) n += 1 + ValueSize(e);
      return n;
    }
    case v1::AttributeValue::kM: {
      int64_t n = 3;
      for (const auto& [name, e] : v.m().fields()) {
        n += 1 + static_cast<int64_t>(name.size()) + ValueSize(e);
      }
      return n;
    }
    case v1::AttributeValue::kSs: {
      int64_t n = 0;
      for (const auto& s : v.ss().values()) n += static_cast<int64_t>(s.size());
      return n;
    }
    case v1::AttributeValue::kBs: {
      int64_t n = 0;
      for (const auto& s : v.bs().values()) n += static_cast<int64_t>(s.size());
      return n;
    }
    case v1::AttributeValue::kNs: {
      int64_t n = 0;
      for (const auto& s : v.ns().values()) n += NumberSize(s);
      return n;
    }
    case v1::AttributeValue::VALUE_NOT_SET: return 0;
  }
  return 0;
}

int64_t NumberSize(std::string_view text) { return (SignificantDigits(text) + 1) / 2 + 1; }

int64_t ItemSize(const AttributeMap& item) {
  int64_t n = 0;
  for (const auto& [name, v] : item) n += static_cast<int64_t>(name.size()) + ValueSize(v);
  return n;
}

absl::Status ValidateItem(const AttributeMap& item, const storage::KeySchema& schema,
                          const std::string& field) {
  for (const auto& [name, v] : item) {
    if (name.empty()) return Invalid(field, "attribute names must not be empty");
    TT_RETURN_IF_ERROR(ValidateValue(v, absl::StrCat(field, ".", name)));
  }
  TT_RETURN_IF_ERROR(
      CheckKeyAttribute(item, schema.hash_name, schema.hash_type, kMaxHashKeyBytes, field));
  if (schema.has_range()) {
    TT_RETURN_IF_ERROR(
        CheckKeyAttribute(item, schema.range_name, schema.range_type, kMaxRangeKeyBytes, field));
  }
  const int64_t size = ItemSize(item);
  if (size > kMaxItemBytes) {
    return Invalid(field, absl::StrCat("item size ", size, " bytes exceeds the limit of ",
                                       kMaxItemBytes, " bytes"));
  }
  return absl::OkStatus();
}

absl::Status ValidateKey(const AttributeMap& key, const storage::KeySchema& schema,
                         const std::string& field) {
  const size_t expected = schema.has_range() ? 2 : 1;
  for (const auto& [name, v] : key) {
    if (!schema.IsKey(name)) {
      return Invalid(field, absl::StrCat("the key holds ", name,
                                         ", which is not a key attribute of the table"));
    }
  }
  TT_RETURN_IF_ERROR(
      CheckKeyAttribute(key, schema.hash_name, schema.hash_type, kMaxHashKeyBytes, field));
  if (schema.has_range()) {
    TT_RETURN_IF_ERROR(
        CheckKeyAttribute(key, schema.range_name, schema.range_type, kMaxRangeKeyBytes, field));
  }
  if (key.size() != expected) return Invalid(field, "the key does not match the key schema");
  return absl::OkStatus();
}

AttributeMap KeyOf(const AttributeMap& item, const storage::KeySchema& schema) {
  AttributeMap key;
  if (auto it = item.find(schema.hash_name); it != item.end()) key[it->first] = it->second;
  if (schema.has_range()) {
    if (auto it = item.find(schema.range_name); it != item.end()) key[it->first] = it->second;
  }
  return key;
}

}  // namespace thingtank::tables
