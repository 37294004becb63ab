#include "services/tables/decimal.h"

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace thingtank::tables {
namespace {

Decimal D(absl::string_view text) {
  auto d = Decimal::Parse(text);
  EXPECT_TRUE(d.ok()) << text << ": " << d.status();
  return d.ok() ? *d : Decimal();
}

std::string Key(const Decimal& d) {
  std::string out;
  d.AppendOrderedKey(&out);
  return out;
}

TEST(DecimalTest, ParsesAndPrintsCanonically) {
  EXPECT_EQ(D("42").ToString(), "42");
  EXPECT_EQ(D("-0.5").ToString(), "-0.5");
  EXPECT_EQ(D("1.5E+3").ToString(), "1500");
  EXPECT_EQ(D("1.5e3").ToString(), "1500");
  EXPECT_EQ(D("+007.2500").ToString(), "7.25");
  EXPECT_EQ(D(".5").ToString(), "0.5");
  EXPECT_EQ(D("5.").ToString(), "5");
  EXPECT_EQ(D("0").ToString(), "0");
  EXPECT_EQ(D("-0.000").ToString(), "0");
  EXPECT_EQ(D("0E+500").ToString(), "0");
  EXPECT_EQ(D("1E+100").ToString(), "1E+100");
  EXPECT_EQ(D("1.25E-100").ToString(), "1.25E-100");
  EXPECT_EQ(D("0.00001").ToString(), "0.00001");
  EXPECT_EQ(D("123.456").ToString(), "123.456");
  EXPECT_FALSE(D("-3").is_zero());
  EXPECT_TRUE(D("-3").negative());
}

TEST(DecimalTest, RejectsBadSyntax) {
  for (const char* bad : {"", " 7", "7 ", "abc", "1e", "1e+", "--1", "+", ".", "1..2", "0x10",
                          "1.2.3", "NaN", "Infinity", "1e5.5"}) {
    auto d = Decimal::Parse(bad);
    EXPECT_EQ(d.status().code(), absl::StatusCode::kInvalidArgument) << "'" << bad << "'";
  }
}

TEST(DecimalTest, EnforcesPrecisionAndRange) {
  // 38 significant digits is fine; leading and trailing zeros don't count.
  EXPECT_TRUE(Decimal::Parse("12345678901234567890123456789012345678").ok());
  EXPECT_TRUE(Decimal::Parse("000.12345678901234567890123456789012345678000").ok());
  auto too_many = Decimal::Parse("123456789012345678901234567890123456789");
  EXPECT_EQ(too_many.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(too_many.status().message(),
            "Attempting to store more than 38 significant digits in a Number");
  EXPECT_TRUE(Decimal::Parse("9.9999999999999999999999999999999999999E+125").ok());
  auto overflow = Decimal::Parse("1E+126");
  EXPECT_EQ(overflow.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StartsWith(overflow.status().message(), "Number overflow"));
  EXPECT_TRUE(Decimal::Parse("1E-130").ok());
  EXPECT_TRUE(Decimal::Parse("-1E-130").ok());
  auto underflow = Decimal::Parse("9.9E-131");
  EXPECT_EQ(underflow.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StartsWith(underflow.status().message(), "Number underflow"));
  EXPECT_FALSE(Decimal::Parse("1E+99999999999999999999").ok());
  EXPECT_TRUE(Decimal::Parse("0E+99999999999999999999").ok());
}

TEST(DecimalTest, ComparesNumerically) {
  EXPECT_LT(D("2"), D("10"));
  EXPECT_LT(D("-5"), D("1"));
  EXPECT_LT(D("-10"), D("-2"));
  EXPECT_EQ(D("1"), D("1.0"));
  EXPECT_EQ(D("1"), D("10E-1"));
  EXPECT_EQ(D("0").Compare(D("-0")), 0);
  EXPECT_LT(D("0.12"), D("0.123"));
  EXPECT_LT(D("0.123"), D("0.13"));
  EXPECT_LT(D("-0.13"), D("-0.123"));
  EXPECT_EQ(D("3").Compare(D("2")), 1);
}

TEST(DecimalTest, AddsAndSubtractsExactly) {
  EXPECT_EQ(D("0.1").Add(D("0.2"))->ToString(), "0.3");
  EXPECT_EQ(D("1").Subtract(D("1.000"))->ToString(), "0");
  EXPECT_EQ(D("-5").Add(D("3"))->ToString(), "-2");
  EXPECT_EQ(D("5").Subtract(D("8"))->ToString(), "-3");
  EXPECT_EQ(D("999").Add(D("1"))->ToString(), "1000");
  EXPECT_EQ(D("1000").Subtract(D("0.001"))->ToString(), "999.999");
  EXPECT_EQ(D("1E+100").Add(D("1E+100"))->ToString(), "2E+100");
  EXPECT_EQ(D("0").Add(D("-7.5"))->ToString(), "-7.5");
  // Needs 39 digits: an error, not rounding.
  auto r = D("1E+38").Add(D("1"));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  auto o = D("9.9999999999999999999999999999999999999E+125").Add(D("1E+88"));
  EXPECT_EQ(o.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(D("99999999999999999999999999999999999999").Add(D("1"))->ToString(),
            "100000000000000000000000000000000000000");
}

TEST(DecimalTest, EqualValuesEncodeIdentically) {
  EXPECT_EQ(Key(D("1")), Key(D("1.0")));
  EXPECT_EQ(Key(D("1")), Key(D("10E-1")));
  EXPECT_EQ(Key(D("0")), Key(D("-0.0")));
  EXPECT_NE(Key(D("1")), Key(D("-1")));
}

TEST(DecimalTest, OrderedKeyIsSelfDelimiting) {
  std::string key;
  D("-12.5").AppendOrderedKey(&key);
  D("0").AppendOrderedKey(&key);
  D("1E+100").AppendOrderedKey(&key);
  key += "tail";
  absl::string_view in(key);
  EXPECT_EQ(Decimal::ConsumeOrderedKey(&in)->ToString(), "-12.5");
  EXPECT_EQ(Decimal::ConsumeOrderedKey(&in)->ToString(), "0");
  EXPECT_EQ(Decimal::ConsumeOrderedKey(&in)->ToString(), "1E+100");
  EXPECT_EQ(in, "tail");
}

TEST(DecimalTest, ConsumeRejectsGarbage) {
  for (std::string bad : {std::string(), std::string("\x01"), std::string("\xC0\x03"),
                          std::string("\xC0\x03\xE8\x23", 4)}) {
    absl::string_view in(bad);
    EXPECT_FALSE(Decimal::ConsumeOrderedKey(&in).ok());
  }
}

// ---- Property test against an independent fixed-point reference ----

// A random number as text, and its value as a fixed-point digit string with
// kIntDigits integer and kFracDigits fraction digits, plus a sign.
constexpr int kIntDigits = 100;
constexpr int kFracDigits = 100;
struct Sample {
  std::string text;
  bool negative = false;
  std::string fixed;  // kIntDigits + kFracDigits digits
};

bool IsZeroFixed(const std::string& f) { return f.find_first_not_of('0') == std::string::npos; }

int ReferenceCompare(const Sample& a, const Sample& b) {
  bool za = IsZeroFixed(a.fixed), zb = IsZeroFixed(b.fixed);
  int sa = za ? 0 : (a.negative ? -1 : 1), sb = zb ? 0 : (b.negative ? -1 : 1);
  if (sa != sb) return sa < sb ? -1 : 1;
  int c = a.fixed.compare(b.fixed);
  c = c < 0 ? -1 : (c > 0 ? 1 : 0);
  return sa >= 0 ? c : -c;
}

Sample RandomSample(std::mt19937_64& rng) {
  std::uniform_int_distribution<int> ndigits(1, 38), digit(0, 9), exp(-60, 40), coin(0, 3);
  Sample s;
  s.negative = coin(rng) == 0;
  int n = ndigits(rng);
  std::string m;
  for (int i = 0; i < n; ++i) m.push_back(static_cast<char>('0' + digit(rng)));
  if (coin(rng) == 0) m[m.size() - 1] = '0';  // trailing zeros are not significant
  int k = exp(rng);                         // value = m * 10^k
  if (n + k > 60) k = 60 - n;
  s.fixed.assign(kIntDigits + kFracDigits, '0');
  for (int i = 0; i < n; ++i) {
    int weight = k + (n - 1 - i);  // power of ten of this digit
    s.fixed[static_cast<size_t>(kIntDigits - 1 - weight)] = m[static_cast<size_t>(i)];
  }
  std::string sign = s.negative ? "-" : (coin(rng) == 0 ? "+" : "");
  switch (coin(rng)) {
    case 0:
      s.text = sign + m + (coin(rng) ? "E" : "e") + std::to_string(k);
      break;
    case 1:
      if (k >= 0) {
        s.text = sign + m + std::string(static_cast<size_t>(k), '0');
      } else if (-k < n) {
        s.text = sign + m.substr(0, static_cast<size_t>(n + k)) + "." +
                 m.substr(static_cast<size_t>(n + k));
      } else {
        s.text = sign + "0." + std::string(static_cast<size_t>(-k - n), '0') + m;
      }
      break;
    case 2:
      s.text = sign + "00" + m.substr(0, 1) + "." + m.substr(1) + "E" + std::to_string(k + n - 1);
      break;
    default:
      s.text = sign + "0." + m + "E+" + std::to_string(k + n);
      if (k + n < 0) s.text = sign + "0." + m + "E" + std::to_string(k + n);
      break;
  }
  return s;
}

TEST(DecimalPropertyTest, KeyOrderMatchesNumericOrder) {
  std::mt19937_64 rng(20261122);
  std::vector<Sample> samples;
  std::vector<Decimal> values;
  std::vector<std::string> keys;
  for (int i = 0; i < 2500; ++i) {
    Sample s = RandomSample(rng);
    auto d = Decimal::Parse(s.text);
    ASSERT_TRUE(d.ok()) << s.text << ": " << d.status();
    // Round trips: text and key.
    auto again = Decimal::Parse(d->ToString());
    ASSERT_TRUE(again.ok()) << d->ToString();
    ASSERT_EQ(again->Compare(*d), 0) << s.text;
    ASSERT_EQ(again->ToString(), d->ToString());
    std::string key = Key(*d);
    absl::string_view in(key);
    auto back = Decimal::ConsumeOrderedKey(&in);
    ASSERT_TRUE(back.ok()) << s.text;
    ASSERT_TRUE(in.empty());
    ASSERT_EQ(back->ToString(), d->ToString());
    samples.push_back(s);
    values.push_back(*d);
    keys.push_back(key);
  }
  // Every pair among the first 700, and adjacent pairs of all.
  auto check = [&](size_t i, size_t j) {
    int ref = ReferenceCompare(samples[i], samples[j]);
    ASSERT_EQ(values[i].Compare(values[j]), ref) << samples[i].text << " vs " << samples[j].text;
    int kc = keys[i].compare(keys[j]);
    kc = kc < 0 ? -1 : (kc > 0 ? 1 : 0);
    ASSERT_EQ(kc, ref) << samples[i].text << " vs " << samples[j].text;
  };
  for (size_t i = 0; i < 700; ++i) {
    for (size_t j = 0; j < 700; ++j) check(i, j);
  }
  for (size_t i = 0; i + 1 < samples.size(); ++i) check(i, i + 1);
  // Sorting by key and by value gives the same sequence.
  std::vector<size_t> by_key(samples.size()), by_value(samples.size());
  for (size_t i = 0; i < samples.size(); ++i) by_key[i] = by_value[i] = i;
  std::stable_sort(by_key.begin(), by_key.end(), [&](size_t a, size_t b) { return keys[a] < keys[b]; });
  std::stable_sort(by_value.begin(), by_value.end(),
                   [&](size_t a, size_t b) { return values[a] < values[b]; });
  for (size_t i = 0; i < samples.size(); ++i) {
    ASSERT_EQ(values[by_key[i]].Compare(values[by_value[i]]), 0);
  }
}

// Reference addition on the fixed-point strings.
Sample ReferenceAdd(const Sample& a, const Sample& b) {
  Sample r;
  const size_t w = a.fixed.size();
  r.fixed.assign(w, '0');
  if (a.negative == b.negative) {
    r.negative = a.negative;
    int carry = 0;
    for (size_t p = w; p-- > 0;) {
      int s = (a.fixed[p] - '0') + (b.fixed[p] - '0') + carry;
      r.fixed[p] = static_cast<char>('0' + s % 10);
      carry = s / 10;
    }
  } else {
    bool a_big = a.fixed >= b.fixed;
    const Sample& big = a_big ? a : b;
    const Sample& small = a_big ? b : a;
    r.negative = big.negative;
    int borrow = 0;
    for (size_t p = w; p-- > 0;) {
      int s = (big.fixed[p] - '0') - (small.fixed[p] - '0') - borrow;
      borrow = s < 0;
      r.fixed[p] = static_cast<char>('0' + s + 10 * borrow);
    }
  }
  return r;
}

size_t SignificantDigits(const std::string& fixed) {
  size_t first = fixed.find_first_not_of('0');
  if (first == std::string::npos) return 0;
  return fixed.find_last_not_of('0') - first + 1;
}

TEST(DecimalPropertyTest, AddMatchesReference) {
  std::mt19937_64 rng(7);
  int exact = 0, errors = 0;
  for (int i = 0; i < 3000; ++i) {
    Sample a = RandomSample(rng), b = RandomSample(rng);
    Decimal da = D(a.text), db = D(b.text);
    Sample ref = ReferenceAdd(a, b);
    auto sum = da.Add(db);
    if (SignificantDigits(ref.fixed) > 38) {
      ASSERT_EQ(sum.status().code(), absl::StatusCode::kInvalidArgument) << a.text << " + " << b.text;
      ++errors;
      continue;
    }
    ASSERT_TRUE(sum.ok()) << a.text << " + " << b.text << ": " << sum.status();
    // The reference sum rendered as plain fixed-point text must encode the same.
    std::string key = Key(*sum);
    std::string ref_text = (ref.negative ? "-" : "") + ref.fixed.substr(0, kIntDigits) + "." +
                           ref.fixed.substr(kIntDigits);
    ASSERT_EQ(Key(D(ref_text)), key) << a.text << " + " << b.text << " = " << sum->ToString();
    auto diff = sum->Subtract(db);
    if (diff.ok()) {
      ASSERT_EQ(diff->Compare(da), 0) << a.text << " + " << b.text;
    }
    ++exact;
  }
  EXPECT_GT(exact, 500);
  EXPECT_GT(errors, 100);
}

}  // namespace
}  // namespace thingtank::tables
