// Comparison and equality of attribute values as DynamoDB defines them.

#include <algorithm>
#include <vector>

#include "services/tables/decimal.h"
#include "services/tables/expression/ast.h"

namespace thingtank::tables::expr {
namespace {

int Sign(int c) { return c < 0 ? -1 : (c > 0 ? 1 : 0); }

// Numbers that fail to parse (stored values are validated, so only corrupt
// data) compare as text so comparisons stay total.
int CompareNumbers(const std::string& a, const std::string& b) {
  auto da = Decimal::Parse(a);
  auto db = Decimal::Parse(b);
  if (da.ok() && db.ok()) return da->Compare(*db);
  return Sign(a.compare(b));
}

template <typename Less>
bool SameSet(std::vector<std::string> a, std::vector<std::string> b, Less less) {
  std::sort(a.begin(), a.end(), less);
  std::sort(b.begin(), b.end(), less);
  auto eq = [&](const std::string& x, const std::string& y) { return !less(x, y) && !less(y, x); };
  a.erase(std::unique(a.begin(), a.end(), eq), a.end());
  b.erase(std::unique(b.begin(), b.end(), eq), b.end());
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), eq);
}

std::vector<std::string> ToVector(const google::protobuf::RepeatedPtrField<std::string>& r) {
  return std::vector<std::string>(r.begin(), r.end());
}

}  // namespace

absl::string_view TypeName(const v1::AttributeValue& value) {
  switch (value.value_case()) {
    case v1::AttributeValue::kS: return "S";
    case v1::AttributeValue::kN: return "N";
    case v1::AttributeValue::kB: return "B";
    case v1::AttributeValue::kBoolValue: return "BOOL";
    case v1::AttributeValue::kNullValue: return "NULL";
    case v1::AttributeValue::kL: return "L";
    case v1::AttributeValue::kM: return "M";
    case v1::AttributeValue::kSs: return "SS";
    case v1::AttributeValue::kNs: return "NS";
    case v1::AttributeValue::kBs: return "BS";
    case v1::AttributeValue::VALUE_NOT_SET: return "";
  }
  return "";
}

bool IsTypeName(absl::string_view name) {
  for (absl::string_view t : {"S", "N", "B", "BOOL", "NULL", "L", "M", "SS", "NS", "BS"}) {
    if (name == t) return true;
  }
  return false;
}

std::optional<int> CompareScalars(const v1::AttributeValue& a, const v1::AttributeValue& b) {
  if (a.value_case() != b.value_case()) return std::nullopt;
  switch (a.value_case()) {
    case v1::AttributeValue::kS: return Sign(a.s().compare(b.s()));
    case v1::AttributeValue::kB: return Sign(a.b().compare(b.b()));  // bytes, unsigned
    case v1::AttributeValue::kN: return CompareNumbers(a.n(), b.n());
    default: return std::nullopt;
  }
}

bool Equal(const v1::AttributeValue& a, const v1::AttributeValue& b) {
  if (a.value_case() != b.value_case()) return false;
  switch (a.value_case()) {
    case v1::AttributeValue::kS: return a.s() == b.s();
    case v1::AttributeValue::kB: return a.b() == b.b();
    case v1::AttributeValue::kN: return CompareNumbers(a.n(), b.n()) == 0;
    case v1::AttributeValue::kBoolValue: return a.bool_value() == b.bool_value();
    case v1::AttributeValue::kNullValue: return true;
    case v1::AttributeValue::kL: {
      if (a.l().values_size() != b.l().values_size()) return false;
      for (int i = 0; i < a.l().values_size(); ++i) {
        if (!Equal(a.l().values(i), b.l().values(i))) return false;
      }
      return true;
    }
    case v1::AttributeValue::kM: {
      if (a.m().fields_size() != b.m().fields_size()) return false;
      for (const auto& [key, value] : a.m().fields()) {
        auto it = b.m().fields().find(key);
        if (it == b.m().fields().end() || !Equal(value, it->second)) return false;
      }
      return true;
    }
    case v1::AttributeValue::kSs:
      return SameSet(ToVector(a.ss().values()), ToVector(b.ss().values()), std::less<>());
    case v1::AttributeValue::kBs:
      return SameSet(ToVector(a.bs().values()), ToVector(b.bs().values()), std::less<>());
    case v1::AttributeValue::kNs:
      return SameSet(ToVector(a.ns().values()), ToVector(b.ns().values()),
                     [](const std::string& x, const std::string& y) {
                       return CompareNumbers(x, y) < 0;
                     });
    case v1::AttributeValue::VALUE_NOT_SET: return true;
  }
  return false;
}

}  // namespace thingtank::tables::expr
