#include "services/tables/decimal.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace thingtank::tables {
namespace {

constexpr size_t kMaxDigits = 38;
// 0.d * 10^exponent: the largest allowed is 0.99..9 (38 nines) * 10^126, the
// smallest nonzero 0.1 * 10^-129 (= 1E-130).
constexpr int64_t kMaxExponent = 126;
constexpr int64_t kMinExponent = -129;
// Bias for the two-byte big-endian exponent of the ordered encoding.
constexpr int kExponentBias = 1000;

constexpr char kNegativeClass = 0x40;
constexpr char kZeroClass = static_cast<char>(0x80);
constexpr char kPositiveClass = static_cast<char>(0xC0);

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Compares two digit strings (no trailing zeros) as fractions 0.a vs 0.b.
int CompareDigits(const std::string& a, const std::string& b) {
  int c = a.compare(b);
  return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

// |a| vs |b| for nonzero magnitudes.
int CompareMagnitude(const std::string& da, int32_t ea, const std::string& db, int32_t eb) {
  if (ea != eb) return ea < eb ? -1 : 1;
  return CompareDigits(da, db);
}

}  // namespace

absl::StatusOr<Decimal> Decimal::FromParts(bool negative, std::string digits, int64_t exponent) {
  size_t first = digits.find_first_not_of('0');
  if (first == std::string::npos) return Decimal();
  exponent -= static_cast<int64_t>(first);
  size_t last = digits.find_last_not_of('0');
  digits = digits.substr(first, last - first + 1);
  if (digits.size() > kMaxDigits) {
    return absl::InvalidArgumentError(
        "Attempting to store more than 38 significant digits in a Number");
  }
  if (exponent > kMaxExponent) {
    return absl::InvalidArgumentError(
        "Number overflow. Attempting to store a number with magnitude larger than supported "
        "range");
  }
  if (exponent < kMinExponent) {
    return absl::InvalidArgumentError(
        "Number underflow. Attempting to store a number with magnitude smaller than supported "
        "range");
  }
  Decimal d;
  d.negative_ = negative;
  d.digits_ = std::move(digits);
  d.exponent_ = static_cast<int32_t>(exponent);
  return d;
}

absl::StatusOr<Decimal> Decimal::Parse(absl::string_view text) {
  auto syntax = [&] {
    return absl::InvalidArgumentError(
        absl::StrCat("The parameter cannot be converted to a numeric value: ", text));
  };
  size_t i = 0;
  bool negative = false;
  if (i < text.size() && (text[i] == '+' || text[i] == '-')) {
    negative = text[i] == '-';
    ++i;
  }
  std::string digits;
  int64_t point = 0;  // digits before the decimal point
  bool any_digit = false;
  while (i < text.size() && IsDigit(text[i])) {
    digits.push_back(text[i++]);
    ++point;
    any_digit = true;
  }
  if (i < text.size() && text[i] == '.') {
    ++i;
    while (i < text.size() && IsDigit(text[i])) {
      digits.push_back(text[i++]);
      any_digit = true;
    }
  }
  if (!any_digit) return syntax();
  int64_t exp = 0;
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    bool exp_negative = false;
    if (i < text.size() && (text[i] == '+' || text[i] == '-')) {
      exp_negative = text[i] == '-';
      ++i;
    }
    if (i >= text.size() || !IsDigit(text[i])) return syntax();
    while (i < text.size() && IsDigit(text[i])) {
      // Clamp: anything this large is out of range unless the mantissa is 0.
      if (exp < 1000000) exp = exp * 10 + (text[i] - '0');
      ++i;
    }
    if (exp_negative) exp = -exp;
  }
  if (i != text.size()) return syntax();
  // Huge digit strings of zeros are still fine; guard the exponent arithmetic.
  return FromParts(negative, std::move(digits), point + exp);
}

std::string Decimal::ToString() const {
  if (is_zero()) return "0";
  std::string out = negative_ ? "-" : "";
  const int64_t n = static_cast<int64_t>(digits_.size());
  const int64_t e = exponent_;
  if (e >= -5 && e <= 40) {
    if (e <= 0) {
      out += "0.";
      out.append(static_cast<size_t>(-e), '0');
      out += digits_;
    } else if (e >= n) {
      out += digits_;
      out.append(static_cast<size_t>(e - n), '0');
    } else {
      out += digits_.substr(0, static_cast<size_t>(e));
      out += '.';
      out += digits_.substr(static_cast<size_t>(e));
    }
    return out;
  }
  out += digits_[0];
  if (n > 1) {
    out += '.';
    out += digits_.substr(1);
  }
  int64_t sci = e - 1;
  absl::StrAppend(&out, "E", sci >= 0 ? "+" : "-", sci >= 0 ? sci : -sci);
  return out;
}

int Decimal::Compare(const Decimal& other) const {
  auto sign = [](const Decimal& d) { return d.is_zero() ? 0 : (d.negative_ ? -1 : 1); };
  int sa = sign(*this), sb = sign(other);
  if (sa != sb) return sa < sb ? -1 : 1;
  if (sa == 0) return 0;
  int mag = CompareMagnitude(digits_, exponent_, other.digits_, other.exponent_);
  return sa > 0 ? mag : -mag;
}

absl::StatusOr<Decimal> Decimal::Add(const Decimal& other) const {
  if (other.is_zero()) return *this;
  if (is_zero()) return other;
  // Both as integers scaled by 10^low: value = D * 10^(exponent - n).
  const int64_t low_a = exponent_ - static_cast<int64_t>(digits_.size());
  const int64_t low_b = other.exponent_ - static_cast<int64_t>(other.digits_.size());
  const int64_t low = std::min(low_a, low_b);
  const int64_t top = std::max<int64_t>(exponent_, other.exponent_);
  const size_t width = static_cast<size_t>(top - low) + 1;  // +1 for a carry
  // Little-endian digit vectors: position p has weight 10^(low + p).
  auto spread = [&](const Decimal& d) {
    std::vector<int> v(width, 0);
    int64_t pos = d.exponent_ - 1 - low;  // weight of the first digit
    for (char c : d.digits_) v[static_cast<size_t>(pos--)] = c - '0';
    return v;
  };
  std::vector<int> a = spread(*this), b = spread(other);
  bool negative;
  std::vector<int> r(width, 0);
  if (negative_ == other.negative_) {
    negative = negative_;
    int carry = 0;
    for (size_t p = 0; p < width; ++p) {
      int s = a[p] + b[p] + carry;
      r[p] = s % 10;
      carry = s / 10;
    }
  } else {
    int mag = CompareMagnitude(digits_, exponent_, other.digits_, other.exponent_);
    if (mag == 0) return Decimal();
    const std::vector<int>& big = mag > 0 ? a : b;
    const std::vector<int>& small = mag > 0 ? b : a;
    negative = mag > 0 ? negative_ : other.negative_;
    int borrow = 0;
    for (size_t p = 0; p < width; ++p) {
      int s = big[p] - small[p] - borrow;
      borrow = s < 0 ? 1 : 0;
      r[p] = s + borrow * 10;
    }
  }
  std::string digits;
  digits.reserve(width);
  for (size_t p = width; p-- > 0;) digits.push_back(static_cast<char>('0' + r[p]));
  return FromParts(negative, std::move(digits), low + static_cast<int64_t>(width));
}

absl::StatusOr<Decimal> Decimal::Subtract(const Decimal& other) const {
  Decimal neg = other;
  if (!neg.is_zero()) neg.negative_ = !neg.negative_;
  return Add(neg);
}

// Layout: a class byte (negative < zero < positive); for nonzero values the
// exponent + bias as two big-endian bytes, then the digits two per byte as
// nibbles digit+1 (1..10), ended by a zero nibble (a whole 0x00 byte when the
// digit count is even). The terminator is below every digit, so a shorter
// prefix sorts first, and the encoding is prefix-free. Negatives complement
// every byte after the class byte, reversing the order of magnitudes.
void Decimal::AppendOrderedKey(std::string* out) const {
  if (is_zero()) {
    out->push_back(kZeroClass);
    return;
  }
  std::string body;
  const int biased = exponent_ + kExponentBias;
  body.push_back(static_cast<char>((biased >> 8) & 0xFF));
  body.push_back(static_cast<char>(biased & 0xFF));
  for (size_t i = 0; i < digits_.size(); i += 2) {
    int hi = digits_[i] - '0' + 1;
    int lo = i + 1 < digits_.size() ? digits_[i + 1] - '0' + 1 : 0;
    body.push_back(static_cast<char>((hi << 4) | lo));
  }
  if (digits_.size() % 2 == 0) body.push_back('\0');
  if (negative_) {
    out->push_back(kNegativeClass);
    for (char& c : body) c = static_cast<char>(~static_cast<unsigned char>(c));
  } else {
    out->push_back(kPositiveClass);
  }
  out->append(body);
}

absl::StatusOr<Decimal> Decimal::ConsumeOrderedKey(absl::string_view* in) {
  auto corrupt = [] { return absl::DataLossError("malformed ordered number key"); };
  if (in->empty()) return corrupt();
  const char cls = (*in)[0];
  if (cls == kZeroClass) {
    in->remove_prefix(1);
    return Decimal();
  }
  if (cls != kNegativeClass && cls != kPositiveClass) return corrupt();
  const bool negative = cls == kNegativeClass;
  auto byte_at = [&](size_t i) {
    unsigned char c = static_cast<unsigned char>((*in)[i]);
    return negative ? static_cast<unsigned char>(~c) : c;
  };
  if (in->size() < 4) return corrupt();
  const int biased = (byte_at(1) << 8) | byte_at(2);
  std::string digits;
  size_t i = 3;
  bool done = false;
  for (; i < in->size() && !done; ++i) {
    unsigned char b = byte_at(i);
    int hi = b >> 4, lo = b & 0xF;
    if (hi == 0) {
      if (lo != 0 || digits.empty()) return corrupt();
      done = true;
      continue;
    }
    if (hi > 10 || lo > 10) return corrupt();
    digits.push_back(static_cast<char>('0' + hi - 1));
    if (lo == 0) {
      done = true;
    } else {
      digits.push_back(static_cast<char>('0' + lo - 1));
    }
  }
  if (!done || digits.front() == '0' || digits.back() == '0' || digits.size() > kMaxDigits) {
    return corrupt();
  }
  auto d = FromParts(negative, std::move(digits), biased - kExponentBias);
  if (!d.ok()) return corrupt();
  in->remove_prefix(i);
  return d;
}

}  // namespace thingtank::tables
