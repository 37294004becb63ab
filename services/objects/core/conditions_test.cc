#include "services/objects/core/conditions.h"

#include <optional>
#include <string>

#include <gtest/gtest.h>

#include "services/common/testing/status_matchers.h"

namespace thingtank::objects {
namespace {

constexpr absl::StatusCode kPrecondition = absl::StatusCode::kFailedPrecondition;

// The object: ETag "abc", last modified at T + 0.5 s (within second T).
const absl::Time kT = absl::FromUnixSeconds(1'700'000'000);
const ObjectState kObject{"\"abc\"", kT + absl::Milliseconds(500)};
const absl::Time kNow = kT + absl::Hours(1);

enum class Time { kUnset, kBefore, kSameSecond, kAfter, kFuture };

google::protobuf::Timestamp ToProto(absl::Time t) {
  google::protobuf::Timestamp ts;
  const int64_t nanos = absl::ToUnixNanos(t);
  ts.set_seconds(nanos / 1'000'000'000);
  ts.set_nanos(static_cast<int32_t>(nanos % 1'000'000'000));
  return ts;
}

void SetTime(Time which, google::protobuf::Timestamp* ts) {
  switch (which) {
    case Time::kUnset:
      return;
    case Time::kBefore:  // the object was modified after this
      *ts = ToProto(kT - absl::Seconds(1));
      return;
    case Time::kSameSecond:  // as an HTTP date of the object's own time
      *ts = ToProto(kT);
      return;
    case Time::kAfter:  // the object is older than this
      *ts = ToProto(kT + absl::Seconds(10));
      return;
    case Time::kFuture:  // beyond the clock
      *ts = ToProto(kNow + absl::Hours(24));
      return;
  }
}

struct Case {
  const char* name;
  std::string if_match;
  std::string if_none_match;
  Time if_modified_since;
  Time if_unmodified_since;
  std::string want;  // "" OK, else the S3 code
};

v1::Conditions Make(const Case& c) {
  v1::Conditions out;
  out.set_if_match(c.if_match);
  out.set_if_none_match(c.if_none_match);
  // mutable_*() sets the field: only for the times the case gives.
  if (c.if_modified_since != Time::kUnset) {
    SetTime(c.if_modified_since, out.mutable_if_modified_since());
  }
  if (c.if_unmodified_since != Time::kUnset) {
    SetTime(c.if_unmodified_since, out.mutable_if_unmodified_since());
  }
  return out;
}

void ExpectCase(const Case& c, const absl::Status& got) {
  if (c.want.empty()) {
    EXPECT_THAT(got, IsOk()) << c.name;
  } else if (c.want == "NoSuchKey") {
    EXPECT_THAT(got, IsStatus(absl::StatusCode::kNotFound, "NoSuchKey")) << c.name;
  } else {
    EXPECT_THAT(got, IsStatus(kPrecondition, c.want)) << c.name;
  }
}

constexpr Time U = Time::kUnset;

TEST(ReadConditionsTest, Table) {
  const Case cases[] = {
      {"none", "", "", U, U, ""},
      // If-Match.
      {"if-match equal", "\"abc\"", "", U, U, ""},
      {"if-match unquoted", "abc", "", U, U, ""},
      {"if-match star", "*", "", U, U, ""},
      {"if-match in list", "\"x\", \"abc\"", "", U, U, ""},
      {"if-match list without spaces", "\"x\",\"abc\"", "", U, U, ""},
      {"if-match other", "\"x\"", "", U, U, "PreconditionFailed"},
      {"if-match list miss", "\"x\", \"y\"", "", U, U, "PreconditionFailed"},
      {"if-match weak never matches", "W/\"abc\"", "", U, U, "PreconditionFailed"},
      // If-Unmodified-Since.
      {"ius after", "", "", U, Time::kAfter, ""},
      {"ius same second", "", "", U, Time::kSameSecond, ""},
      {"ius before", "", "", U, Time::kBefore, "PreconditionFailed"},
      // S3: If-Match true and If-Unmodified-Since false -> OK.
      {"if-match true, ius false", "\"abc\"", "", U, Time::kBefore, ""},
      {"if-match false, ius true", "\"x\"", "", U, Time::kAfter, "PreconditionFailed"},
      {"if-match false, ius false", "\"x\"", "", U, Time::kBefore, "PreconditionFailed"},
      // If-None-Match.
      {"inm other", "", "\"x\"", U, U, ""},
      {"inm equal", "", "\"abc\"", U, U, "NotModified"},
      {"inm unquoted", "", "abc", U, U, "NotModified"},
      {"inm in list", "", "\"x\", \"abc\"", U, U, "NotModified"},
      {"inm weak matches", "", "W/\"abc\"", U, U, "NotModified"},
      {"inm star", "", "*", U, U, "NotModified"},
      // If-Modified-Since.
      {"ims before", "", "", Time::kBefore, U, ""},
      {"ims same second", "", "", Time::kSameSecond, U, "NotModified"},
      {"ims after", "", "", Time::kAfter, U, "NotModified"},
      {"ims in the future is ignored", "", "", Time::kFuture, U, ""},
      // S3: If-None-Match false and If-Modified-Since true -> NotModified.
      {"inm false, ims true", "", "\"abc\"", Time::kBefore, U, "NotModified"},
      {"inm true, ims true", "", "\"x\"", Time::kBefore, U, ""},
      {"inm true, ims false", "", "\"x\"", Time::kAfter, U, "NotModified"},
      // If-Match / If-Unmodified-Since failures come before NotModified.
      {"if-match false, inm matches", "\"x\"", "\"abc\"", U, U, "PreconditionFailed"},
      {"ius false, ims false", "", "", Time::kAfter, Time::kBefore, "PreconditionFailed"},
      {"if-match true, inm matches", "\"abc\"", "\"abc\"", U, U, "NotModified"},
      {"if-match true, ius false, ims false", "\"abc\"", "", Time::kAfter, Time::kBefore,
       "NotModified"},
      {"all pass", "\"abc\"", "\"x\"", Time::kBefore, Time::kAfter, ""},
  };
  for (const Case& c : cases) ExpectCase(c, CheckReadConditions(Make(c), kObject, kNow));
}

TEST(ReadConditionsTest, FractionalSecondsAreIgnored) {
  // Last modified at T + 0.5 s; If-Modified-Since T + 0.2 s: same second.
  v1::Conditions c;
  *c.mutable_if_modified_since() = ToProto(kT + absl::Milliseconds(200));
  EXPECT_THAT(CheckReadConditions(c, kObject, kNow), IsStatus(kPrecondition, "NotModified"));
  v1::Conditions u;
  *u.mutable_if_unmodified_since() = ToProto(kT + absl::Milliseconds(200));
  EXPECT_THAT(CheckReadConditions(u, kObject, kNow), IsOk());
}

TEST(WriteConditionsTest, TableWithCurrentObject) {
  const Case cases[] = {
      {"none", "", "", U, U, ""},
      {"inm star, exists", "", "*", U, U, "PreconditionFailed"},
      {"inm equal", "", "\"abc\"", U, U, "PreconditionFailed"},
      {"inm in list", "", "\"x\", abc", U, U, "PreconditionFailed"},
      {"inm other", "", "\"x\"", U, U, ""},
      {"if-match equal", "\"abc\"", "", U, U, ""},
      {"if-match star", "*", "", U, U, ""},
      {"if-match other", "\"x\"", "", U, U, "PreconditionFailed"},
      {"ius after", "", "", U, Time::kAfter, ""},
      {"ius same second", "", "", U, Time::kSameSecond, ""},
      {"ius before", "", "", U, Time::kBefore, "PreconditionFailed"},
      {"ims before", "", "", Time::kBefore, U, ""},
      {"ims same second", "", "", Time::kSameSecond, U, "PreconditionFailed"},
      {"ims after", "", "", Time::kAfter, U, "PreconditionFailed"},
      {"if-match true, ius false", "\"abc\"", "", U, Time::kBefore, "PreconditionFailed"},
  };
  const std::optional<ObjectState> current = kObject;
  for (const Case& c : cases) ExpectCase(c, CheckWriteConditions(Make(c), current));
}

TEST(WriteConditionsTest, TableWithoutCurrentObject) {
  const Case cases[] = {
      {"none", "", "", U, U, ""},
      {"inm star: create only", "", "*", U, U, ""},
      {"inm etag", "", "\"abc\"", U, U, ""},
      {"if-match", "\"abc\"", "", U, U, "NoSuchKey"},
      {"if-match star", "*", "", U, U, "NoSuchKey"},
      {"ius", "", "", U, Time::kBefore, ""},
      {"ims", "", "", Time::kBefore, U, "PreconditionFailed"},
      {"inm star and if-match", "\"abc\"", "*", U, U, "NoSuchKey"},
  };
  for (const Case& c : cases) ExpectCase(c, CheckWriteConditions(Make(c), std::nullopt));
}

TEST(EtagListMatchesTest, Forms) {
  EXPECT_TRUE(EtagListMatches("*", "\"abc\"", false));
  EXPECT_TRUE(EtagListMatches("\"x\", *", "abc", false));
  EXPECT_TRUE(EtagListMatches(" \"abc\" ", "abc", false));
  EXPECT_TRUE(EtagListMatches("\"abc-2\"", "\"abc-2\"", false));
  EXPECT_FALSE(EtagListMatches("\"abc\"", "\"abc-2\"", false));
  EXPECT_FALSE(EtagListMatches("\"ABC\"", "\"abc\"", false));
  EXPECT_FALSE(EtagListMatches(",", "abc", false));
  EXPECT_FALSE(EtagListMatches("\"\"", "abc", false));
  EXPECT_TRUE(EtagListMatches("W/\"abc\"", "abc", true));
  EXPECT_FALSE(EtagListMatches("W/\"abc\"", "abc", false));
}

}  // namespace
}  // namespace thingtank::objects
