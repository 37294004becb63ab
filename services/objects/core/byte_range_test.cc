#include "services/objects/core/byte_range.h"

#include <string>

#include <gtest/gtest.h>

#include "google/rpc/error_details.pb.h"
#include "services/common/testing/status_matchers.h"

namespace thingtank::objects {
namespace {

constexpr absl::StatusCode kInvalid = absl::StatusCode::kInvalidArgument;

struct RangeCase {
  std::string header;
  uint64_t size;
  uint64_t first;
  uint64_t last;
};

TEST(ParseRangeTest, Satisfiable) {
  const RangeCase cases[] = {
      {"bytes=0-0", 10, 0, 0},
      {"bytes=0-9", 10, 0, 9},
      {"bytes=2-5", 10, 2, 5},
      {"bytes=9-9", 10, 9, 9},
      {"bytes=5-100", 10, 5, 9},  // clamped
      {"bytes=0-18446744073709551615", 10, 0, 9},
      {"bytes=0-99999999999999999999999", 10, 0, 9},  // saturates, then clamps
      {"bytes=3-", 10, 3, 9},
      {"bytes=0-", 1, 0, 0},
      {"bytes=-1", 10, 9, 9},
      {"bytes=-4", 10, 6, 9},
      {"bytes=-10", 10, 0, 9},
      {"bytes=-11", 10, 0, 9},  // longer than the object: all of it
      {"bytes=-99999999999999999999999", 10, 0, 9},
      {"bytes=00-01", 10, 0, 1},
  };
  for (const RangeCase& c : cases) {
    auto r = ParseRange(c.header, c.size);
    ASSERT_THAT(r, IsOk()) << c.header;
    ASSERT_TRUE(r->has_value()) << c.header;
    EXPECT_EQ((*r)->first, c.first) << c.header;
    EXPECT_EQ((*r)->last, c.last) << c.header;
    EXPECT_EQ((*r)->length(), c.last - c.first + 1) << c.header;
  }
}

TEST(ParseRangeTest, EmptyHeaderIsTheWholeObject) {
  auto r = ParseRange("", 10);
  ASSERT_THAT(r, IsOk());
  EXPECT_FALSE(r->has_value());
  r = ParseRange("", 0);
  ASSERT_THAT(r, IsOk());
  EXPECT_FALSE(r->has_value());
}

TEST(ParseRangeTest, Malformed) {
  for (const char* h : {"0-5", "bytes 0-5", "Bytes=0-5", "items=0-5", "bytes=", "bytes=-",
                        "bytes=5", "bytes=0-1,3-4", "bytes=0-1,", "bytes=a-b", "bytes=1-x",
                        "bytes=+1-2", "bytes= 0-5", "bytes=0 -5", "bytes=5-2", "bytes=-0",
                        "bytes=--5", "bytes=1-2-3", "bytes=-1-2", "bytes=0x1-2"}) {
    EXPECT_THAT(ParseRange(h, 10), IsStatus(kInvalid, "InvalidArgument", "range")) << h;
  }
  EXPECT_THAT(ParseRange("bytes=x", 10, "source_range"),
              IsStatus(kInvalid, "InvalidArgument", "source_range"));
  // Malformed wins over unsatisfiable.
  EXPECT_THAT(ParseRange("bytes=-0", 0), IsStatus(kInvalid, "InvalidArgument", "range"));
}

TEST(ParseRangeTest, Unsatisfiable) {
  const std::pair<std::string, uint64_t> cases[] = {
      {"bytes=10-", 10}, {"bytes=10-20", 10}, {"bytes=11-11", 10},
      {"bytes=0-", 0},   {"bytes=0-0", 0},    {"bytes=-1", 0},
      {"bytes=99999999999999999999-", 10},
  };
  for (const auto& [h, size] : cases) {
    auto r = ParseRange(h, size);
    EXPECT_THAT(r, IsStatus(absl::StatusCode::kOutOfRange, "InvalidRange")) << h;
    EXPECT_EQ(r.status().message(), "The requested range is not satisfiable");
  }
}

TEST(ParseRangeTest, UnsatisfiableCarriesSizeAndRange) {
  const absl::Status s = ParseRange("bytes=10-", 10).status();
  const auto payload = s.GetPayload("type.googleapis.com/google.rpc.ErrorInfo");
  ASSERT_TRUE(payload.has_value());
  google::rpc::ErrorInfo info;
  ASSERT_TRUE(info.ParseFromString(std::string(*payload)));
  EXPECT_EQ(info.reason(), "InvalidRange");
  EXPECT_EQ(info.metadata().at("ActualObjectSize"), "10");
  EXPECT_EQ(info.metadata().at("RangeRequested"), "bytes=10-");
}

TEST(ContentRangeTest, Format) {
  EXPECT_EQ(ContentRange({0, 9}, 10), "bytes 0-9/10");
  EXPECT_EQ(ContentRange({5, 5}, 6), "bytes 5-5/6");
  EXPECT_EQ(ContentRange(ByteRange{0, 5368709119}, 5368709120), "bytes 0-5368709119/5368709120");
}

}  // namespace
}  // namespace thingtank::objects
