#include "services/tables/item_validation.h"

#include <algorithm>
#include <set>
#include <vector>

#include "absl/strings/str_cat.h"
#include "services/common/status.h"
#include "services/tables/decimal.h"
#include "services/tables/scalar_types.h"

namespace thingtank::tables {
namespace {

constexpr char kValidation[] = "ValidationException";

absl::Status Invalid(const std::string& field, const std::string& message) {
  return InvalidField(field, message, kValidation);
}

// Whether `text` is already DynamoDB's canonical text of a valid number: "0",
// or an integer of at most 38 digits without a leading zero or a '+'. The
// common case, answered without parsing.
bool IsCanonicalInteger(std::string_view text) {
  if (text == "0") return true;
  size_t i = (!text.empty() && text[0] == '-') ? 1 : 0;
  const size_t digits = text.size() - i;
  if (digits == 0 || digits > 38 || text[i] == '0') return false;
  for (; i < text.size(); ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
  }
  return true;
}

// Checks a number's text; with `canonical`, stores its canonical text there
// when it differs ("1.50" -> "1.5", "1e2" -> "100", "-0" -> "0").
absl::Status CheckNumber(const std::string& text, const std::string& field,
                         std::string* canonical) {
  if (IsCanonicalInteger(text)) return absl::OkStatus();
  absl::StatusOr<Decimal> d = Decimal::Parse(text);
  if (!d.ok()) return Invalid(field, std::string(d.status().message()));
  if (canonical != nullptr) {
    std::string normal = d->ToString();
    if (normal != text) *canonical = std::move(normal);
  }
  return absl::OkStatus();
}

absl::Status CheckNumber(const std::string& text, const std::string& field) {
  return CheckNumber(text, field, nullptr);
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

namespace {

// ValidateValue and NormalizeValue in one walk: with `out` (which is `v`,
// writable) numbers are rewritten to their canonical text. `depth` is the
// number of documents (L, M) around `v`.
absl::Status CheckValue(const v1::AttributeValue& v, v1::AttributeValue* out,
                        const std::string& field, int depth) {
  switch (v.value_case()) {
    case v1::AttributeValue::VALUE_NOT_SET:
      return Invalid(field, "Supplied AttributeValue is empty, must contain exactly one of the "
                            "supported datatypes");
    case v1::AttributeValue::kS:
    case v1::AttributeValue::kB:
    case v1::AttributeValue::kBoolValue:
      return absl::OkStatus();
    case v1::AttributeValue::kN: {
      std::string canonical;
      TT_RETURN_IF_ERROR(CheckNumber(v.n(), field, out != nullptr ? &canonical : nullptr));
      if (!canonical.empty()) out->set_n(std::move(canonical));
      return absl::OkStatus();
    }
    case v1::AttributeValue::kNullValue:
      if (!v.null_value()) return Invalid(field, "null_value must be true");
      return absl::OkStatus();
    case v1::AttributeValue::kL:
    case v1::AttributeValue::kM:
      break;
    case v1::AttributeValue::kSs:
    case v1::AttributeValue::kBs: {
      const bool ss = v.value_case() == v1::AttributeValue::kSs;
      const auto& values = ss ? v.ss().values() : v.bs().values();
      const char* kind = ss ? "string" : "binary";
      if (values.empty()) {
        return Invalid(field, absl::StrCat("One or more parameter values were invalid: An ", kind,
                                           " set may not be empty"));
      }
      std::set<std::string> seen(values.begin(), values.end());
      if (seen.size() != static_cast<size_t>(values.size())) {
        return Invalid(field, "One or more parameter values were invalid: Input collection "
                              "contains duplicates");
      }
      return absl::OkStatus();
    }
    case v1::AttributeValue::kNs: {
      if (v.ns().values().empty()) {
        return Invalid(field, "One or more parameter values were invalid: An number set may not "
                              "be empty");
      }
      std::vector<Decimal> seen;
      seen.reserve(static_cast<size_t>(v.ns().values_size()));
      for (int i = 0; i < v.ns().values_size(); ++i) {
        absl::StatusOr<Decimal> d = Decimal::Parse(v.ns().values(i));
        if (!d.ok()) return Invalid(field, std::string(d.status().message()));
        if (out != nullptr) {
          std::string normal = d->ToString();
          if (normal != v.ns().values(i)) out->mutable_ns()->set_values(i, std::move(normal));
        }
        seen.push_back(*std::move(d));
      }
      std::sort(seen.begin(), seen.end());
      if (std::adjacent_find(seen.begin(), seen.end()) != seen.end()) {
        return Invalid(field, "One or more parameter values were invalid: Input collection "
                              "contains duplicates");
      }
      return absl::OkStatus();
    }
  }
  if (v.value_case() != v1::AttributeValue::kL && v.value_case() != v1::AttributeValue::kM) {
    return Invalid(field, "unknown attribute value type");
  }
  if (depth + 1 > kMaxNestingDepth) {
    return Invalid(field, absl::StrCat("Nesting Levels have exceeded supported limits: more than ",
                                       kMaxNestingDepth, " levels of lists and maps"));
  }
  if (v.value_case() == v1::AttributeValue::kL) {
    for (int i = 0; i < v.l().values_size(); ++i) {
      v1::AttributeValue* child = out != nullptr ? out->mutable_l()->mutable_values(i) : nullptr;
      TT_RETURN_IF_ERROR(
          CheckValue(v.l().values(i), child, absl::StrCat(field, "[", i, "]"), depth + 1));
    }
    return absl::OkStatus();
  }
  for (const auto& [name, value] : v.m().fields()) {
    v1::AttributeValue* child =
        out != nullptr ? &(*out->mutable_m()->mutable_fields())[name] : nullptr;
    TT_RETURN_IF_ERROR(CheckValue(value, child, absl::StrCat(field, ".", name), depth + 1));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateValue(const v1::AttributeValue& v, const std::string& field) {
  return CheckValue(v, nullptr, field, 0);
}

absl::Status NormalizeValue(v1::AttributeValue* v, const std::string& field) {
  return CheckValue(*v, v, field, 0);
}

absl::Status ValidateValues(const AttributeMap& values, const std::string& field) {
  for (const auto& [name, v] : values) {
    TT_RETURN_IF_ERROR(ValidateValue(v, absl::StrCat(field, "[\"", name, "\"]")));
  }
  return absl::OkStatus();
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

absl::Status ValidateItem(AttributeMap* item_ptr, const storage::KeySchema& schema,
                          const std::string& field) {
  const AttributeMap& item = *item_ptr;
  for (auto& [name, v] : *item_ptr) {
    if (name.empty()) return Invalid(field, "attribute names must not be empty");
    TT_RETURN_IF_ERROR(NormalizeValue(&v, absl::StrCat(field, ".", name)));
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
