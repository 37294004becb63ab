#include "services/streams/core/sequence_number.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "services/common/testing/status_matchers.h"

namespace thingtank::streams {
namespace {

const absl::Time kT0 =
    absl::FromUnixMicros(1'764'771'000'000'000); // 2025-12-03T14:10Z

TEST(SequenceNumberTest, LayoutIsFixedWidth) {
  const std::string s = FormatSequenceNumber({kT0, 3, 2});
  EXPECT_EQ(s, "1"
               "00001764771000000000"
               "000000000000003"
               "00000000000000000002");
  EXPECT_EQ(s.size(), kSequenceNumberDigits);
  EXPECT_EQ(FormatSequenceNumber({absl::UnixEpoch(), 0, 0}).size(),
            kSequenceNumberDigits);
  EXPECT_THAT(ValidateSequenceNumber(s, "f"), IsOk());
}

TEST(SequenceNumberTest, ParseExtractsTimeAndShard) {
  const SequenceNumber n{kT0 + absl::Microseconds(7), kMaxShardIndex,
                         ~uint64_t{0}};
  const auto parsed = ParseSequenceNumber(FormatSequenceNumber(n));
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(*parsed, n);
  EXPECT_EQ(parsed->arrival, kT0 + absl::Microseconds(7));
  EXPECT_EQ(parsed->shard_index, kMaxShardIndex);
  // Not ours: wrong width, version, characters; a real Kinesis number.
  EXPECT_FALSE(ParseSequenceNumber("12345").has_value());
  EXPECT_FALSE(ParseSequenceNumber(
      "49590338271490256608559692538361571095921575989136588898"));
  EXPECT_FALSE(ParseSequenceNumber(std::string(56, '9')).has_value());
  std::string s = FormatSequenceNumber(n);
  s[30] = 'x';
  EXPECT_FALSE(ParseSequenceNumber(s).has_value());
}

TEST(SequenceNumberTest, IncreasesWithTimeAndCounter) {
  std::optional<SequenceNumber> last;
  std::string last_text;
  const absl::Time times[] = {kT0,
                              kT0,
                              kT0,
                              kT0 + absl::Microseconds(1),
                              kT0 +
                                  absl::Nanoseconds(1500), // same µs, truncated
                              kT0 - absl::Seconds(5), // the clock stepped back
                              kT0 + absl::Hours(24 * 365 * 30)};
  for (const absl::Time now : times) {
    const SequenceNumber next = NextSequenceNumber(last, now, 5);
    const std::string text = FormatSequenceNumber(next);
    if (last.has_value()) {
      EXPECT_GT(CompareSequenceNumbers(text, last_text), 0)
          << text << " vs " << last_text;
      EXPECT_GT(text, last_text); // fixed width: string order is numeric order
    }
    last = next;
    last_text = text;
  }
  EXPECT_EQ(NextSequenceNumber(std::nullopt, kT0, 1).counter, 0u);
  EXPECT_EQ(NextSequenceNumber(SequenceNumber{kT0, 1, 4}, kT0, 1).counter, 5u);
  EXPECT_EQ(NextSequenceNumber(SequenceNumber{kT0, 1, 4},
                               kT0 + absl::Microseconds(1), 1)
                .counter,
            0u);
  // A spent counter moves to the next microsecond.
  const SequenceNumber spent{kT0, 1, ~uint64_t{0}};
  const SequenceNumber after = NextSequenceNumber(spent, kT0, 1);
  EXPECT_GT(CompareSequenceNumbers(FormatSequenceNumber(after),
                                   FormatSequenceNumber(spent)),
            0);
}

TEST(SequenceNumberTest, LaterArrivalSortsAfterAnyShard) {
  const std::string early = FormatSequenceNumber({kT0, kMaxShardIndex, 99});
  const std::string late =
      FormatSequenceNumber({kT0 + absl::Microseconds(1), 0, 0});
  EXPECT_LT(CompareSequenceNumbers(early, late), 0);
  // Distinct across shards at the same instant and counter.
  EXPECT_NE(FormatSequenceNumber({kT0, 0, 0}),
            FormatSequenceNumber({kT0, 1, 0}));
}

TEST(SequenceNumberTest, CompareAcrossLengths) {
  EXPECT_EQ(CompareSequenceNumbers("0", "0"), 0);
  EXPECT_LT(CompareSequenceNumbers("9", "10"), 0);
  EXPECT_GT(CompareSequenceNumbers("10", "9"), 0);
  EXPECT_EQ(CompareSequenceNumbers("007", "7"), 0);
  EXPECT_LT(CompareSequenceNumbers("123", "124"), 0);
  const std::string huge(129, '9');
  EXPECT_LT(CompareSequenceNumbers(FormatSequenceNumber({kT0, 0, 0}), huge), 0);
  EXPECT_GT(CompareSequenceNumbers(FormatSequenceNumber({kT0, 0, 0}),
                                   std::string(55, '9')),
            0);
}

TEST(SequenceNumberTest, Validation) {
  for (const std::string &ok : std::vector<std::string>{
           "0", "1", "49590338271490256608559692538361571095921575989136588898",
           "1" + std::string(128, '0')}) {
    EXPECT_THAT(ValidateSequenceNumber(ok, "starting_sequence_number"), IsOk())
        << ok;
  }
  for (const std::string &bad : std::vector<std::string>{
           "", "01", "-1", "1.0", "12a", " 1", "1" + std::string(129, '0')}) {
    EXPECT_THAT(ValidateSequenceNumber(bad, "starting_sequence_number"),
                IsStatus(absl::StatusCode::kInvalidArgument,
                         "InvalidArgumentException",
                         "starting_sequence_number"))
        << bad;
  }
}

} // namespace
} // namespace thingtank::streams
