#include "services/streams/core/kinesis_errors.h"

#include <gtest/gtest.h>

#include "services/common/testing/status_matchers.h"

namespace thingtank::streams {
namespace {

using C = absl::StatusCode;

TEST(KinesisErrorsTest, CodesFollowTheTable) {
  EXPECT_THAT(Error("ResourceNotFoundException", "no stream"),
              IsStatus(C::kNotFound, "ResourceNotFoundException"));
  EXPECT_THAT(Error("ResourceInUseException", "creating"),
              IsStatus(C::kFailedPrecondition, "ResourceInUseException"));
  EXPECT_THAT(Error("LimitExceededException", "too many"),
              IsStatus(C::kResourceExhausted, "LimitExceededException"));
  EXPECT_THAT(Error("ExpiredIteratorException", "old"),
              IsStatus(C::kFailedPrecondition, "ExpiredIteratorException"));
  EXPECT_THAT(Error("InvalidArgumentException", "bad"),
              IsStatus(C::kInvalidArgument, "InvalidArgumentException"));
  EXPECT_EQ(CodeOf("SomethingElse"), C::kInvalidArgument);
  EXPECT_EQ(Error("ResourceNotFoundException", "no stream").message(),
            "no stream");
}

TEST(KinesisErrorsTest, FieldErrorNamesTheField) {
  const absl::Status s =
      FieldError("stream_name", "ResourceNotFoundException", "bad name");
  EXPECT_THAT(s, IsStatus(C::kInvalidArgument, "ResourceNotFoundException",
                          "stream_name"));
}

TEST(KinesisErrorsTest, ThrottledCarriesRetryInfo) {
  const absl::Status s =
      Throttled("slow down", absl::Milliseconds(250), "shardId-000000000000");
  EXPECT_THAT(s, IsStatus(C::kResourceExhausted,
                          "ProvisionedThroughputExceededException"));
  EXPECT_TRUE(
      s.GetPayload("type.googleapis.com/google.rpc.RetryInfo").has_value());
}

} // namespace
} // namespace thingtank::streams
