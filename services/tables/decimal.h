#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace thingtank::tables {

// A DynamoDB number: a decimal with up to 38 significant digits and a
// magnitude from 1e-130 to 9.9999999999999999999999999999999999999e+125 (or
// zero). Exact: no binary floating point anywhere. Immutable value type.
class Decimal {
 public:
  Decimal() = default;  // zero

  // Parses DynamoDB number text ("42", "-0.5", "1.5E+3", "  7" is invalid).
  // INVALID_ARGUMENT (reason ValidationException) for bad syntax, more than 38
  // significant digits, or magnitude out of range; the message says which.
  static absl::StatusOr<Decimal> Parse(absl::string_view text);

  // Canonical text: no exponent when it is reasonably short, no trailing
  // zeros after the point, "0" for zero, e.g. "1500", "-0.5", "1E+100".
  std::string ToString() const;

  // -1, 0, 1: numeric order (2 < 10, -5 < 1, 1.0 == 1).
  int Compare(const Decimal& other) const;
  bool operator==(const Decimal& o) const { return Compare(o) == 0; }
  bool operator<(const Decimal& o) const { return Compare(o) < 0; }

  // Exact sum / difference; INVALID_ARGUMENT if the result needs more than 38
  // significant digits or leaves the range (DynamoDB: "Number overflow").
  absl::StatusOr<Decimal> Add(const Decimal& other) const;
  absl::StatusOr<Decimal> Subtract(const Decimal& other) const;

  // Appends an encoding whose bytewise order is the numeric order, for keys.
  // Equal numbers ("1", "1.0", "10E-1") encode identically.
  void AppendOrderedKey(std::string* out) const;
  // Reads what AppendOrderedKey wrote from the front of `in`.
  static absl::StatusOr<Decimal> ConsumeOrderedKey(absl::string_view* in);

  bool is_zero() const { return digits_.empty(); }
  bool negative() const { return negative_; }

 private:
  // Normalizes (strips leading/trailing zeros) and checks the 38-digit limit
  // and the range. `digits` are '0'..'9'; value = 0.digits * 10^exponent.
  static absl::StatusOr<Decimal> FromParts(bool negative, std::string digits, int64_t exponent);

  // Value = (negative ? -1 : 1) * 0.d1d2d3... * 10^exponent, digits_ without
  // leading or trailing zeros ("" for zero).
  bool negative_ = false;
  std::string digits_;
  int32_t exponent_ = 0;
};

}  // namespace thingtank::tables
