// The DynamoDB scalar key types (S, N, B) of an attribute value: one place
// for the domain's validation and queries and the fake tables.
#pragma once

#include "thingtank/tables/v1/tables.pb.h"

namespace thingtank::tables {

// Whether `v` is of the scalar type `t` (false for UNSPECIFIED).
inline bool HasType(const v1::AttributeValue& v, v1::ScalarAttributeType t) {
  switch (t) {
    case v1::SCALAR_ATTRIBUTE_TYPE_S: return v.value_case() == v1::AttributeValue::kS;
    case v1::SCALAR_ATTRIBUTE_TYPE_N: return v.value_case() == v1::AttributeValue::kN;
    case v1::SCALAR_ATTRIBUTE_TYPE_B: return v.value_case() == v1::AttributeValue::kB;
    default: return false;
  }
}

// "S", "N", "B" (or "?").
inline const char* TypeName(v1::ScalarAttributeType t) {
  switch (t) {
    case v1::SCALAR_ATTRIBUTE_TYPE_S: return "S";
    case v1::SCALAR_ATTRIBUTE_TYPE_N: return "N";
    case v1::SCALAR_ATTRIBUTE_TYPE_B: return "B";
    default: return "?";
  }
}

}  // namespace thingtank::tables
