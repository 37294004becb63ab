#include "services/common/testing/status_matchers.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/status/statusor.h"
#include "services/common/status.h"

namespace thingtank {
namespace {

using ::testing::Not;

TEST(StatusMatchersTest, MatchesCodeReasonAndField) {
  const absl::Status s = InvalidField("queue_name", "too long");
  EXPECT_THAT(s, IsStatus(absl::StatusCode::kInvalidArgument, "InvalidParameterValue",
                          "queue_name"));
  EXPECT_THAT(s, IsStatus(absl::StatusCode::kInvalidArgument, "InvalidParameterValue"));
  EXPECT_THAT(s, Not(IsStatus(absl::StatusCode::kNotFound, "InvalidParameterValue")));
  EXPECT_THAT(s, Not(IsStatus(absl::StatusCode::kInvalidArgument, "Other")));
  EXPECT_THAT(s, Not(IsStatus(absl::StatusCode::kInvalidArgument, "InvalidParameterValue",
                              "attributes")));
  EXPECT_THAT(s, Not(IsOk()));
  EXPECT_THAT(absl::OkStatus(), IsOk());
}

TEST(StatusMatchersTest, MatchesStatusOr) {
  absl::StatusOr<int> bad = ErrorWithReason(absl::StatusCode::kNotFound, "QueueDoesNotExist", "no");
  EXPECT_THAT(bad, IsStatus(absl::StatusCode::kNotFound, "QueueDoesNotExist"));
  EXPECT_THAT(bad, Not(IsOk()));
  absl::StatusOr<int> good = 3;
  EXPECT_THAT(good, IsOk());
}

TEST(StatusMatchersTest, ExplainsAMismatch) {
  const absl::Status s = InvalidField("queue_name", "too long");
  ::testing::StringMatchResultListener listener;
  EXPECT_FALSE(::testing::ExplainMatchResult(
      IsStatus(absl::StatusCode::kNotFound, "QueueDoesNotExist", "name"), s, &listener));
  EXPECT_THAT(listener.str(), ::testing::HasSubstr("code is INVALID_ARGUMENT"));
  EXPECT_THAT(listener.str(), ::testing::HasSubstr("field is \"queue_name\""));
}

}  // namespace
}  // namespace thingtank
