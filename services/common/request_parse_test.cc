#include "services/common/request_parse.h"

#include <string>

#include "google/protobuf/struct.pb.h"
#include "grpc/health/v1/health.pb.h"
#include "gtest/gtest.h"
#include "services/common/status.h"

namespace thingtank {
namespace {

grpc::ByteBuffer Bytes(const std::string& data) {
  grpc::Slice slice(data);
  return grpc::ByteBuffer(&slice, 1);
}

// A google.protobuf.Value holding lists nested `depth` deep.
std::string NestedLists(int depth) {
  google::protobuf::Value value;
  google::protobuf::Value* v = &value;
  for (int i = 0; i < depth; ++i) v = v->mutable_list_value()->add_values();
  v->set_number_value(1);
  return value.SerializeAsString();
}

TEST(ParseRequest, ParsesAValidMessage) {
  grpc::health::v1::HealthCheckRequest request;
  request.set_service("thingtank.queues.v1.QueuesService");
  grpc::health::v1::HealthCheckRequest parsed;
  ASSERT_TRUE(ParseRequest(Bytes(request.SerializeAsString()), &parsed).ok());
  EXPECT_EQ(parsed.service(), "thingtank.queues.v1.QueuesService");
}

struct Malformed {
  std::string name;
  std::string bytes;
  std::string field;  // "" when no field is to blame
  std::string what;   // a part of the message
};

// Test names, not the bytes of the struct, in test listings.
void PrintTo(const Malformed& m, std::ostream* os) { *os << m.name; }

class ParseRequestMalformed : public testing::TestWithParam<Malformed> {};

TEST_P(ParseRequestMalformed, IsInvalidArgumentSayingWhatFailed) {
  const Malformed& c = GetParam();
  grpc::health::v1::HealthCheckRequest parsed;
  absl::Status status = ParseRequest(Bytes(c.bytes), &parsed);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message().find("the request is not a valid protobuf message: "), 0u)
      << status.message();
  EXPECT_NE(status.message().find(c.what), std::string::npos) << status.message();
  EXPECT_EQ(ErrorReason(status), "MalformedRequest");
  EXPECT_EQ(ErrorField(status), c.field);
}

INSTANTIATE_TEST_SUITE_P(
    EveryWayToFail, ParseRequestMalformed,
    testing::Values(Malformed{"Truncated", std::string("\xff\xff\xff\xff", 4), "", "truncated tag at byte 0"},
                    Malformed{"FieldNumberZero", std::string("\x00", 1), "", "field number 0 at byte 0"},
                    Malformed{"StrayEndGroup", "\x0c", "service", "end-group tag without a start-group tag"},
                    Malformed{"InvalidUtf8", std::string("\x0a\x02\xc3\x28", 4), "service", "invalid UTF-8"},
                    Malformed{"InvalidWireType", "\x0e", "service", "invalid wire type 6"},
                    Malformed{"TruncatedLength", "\x0a\x05zz", "service", "truncated length-delimited"},
                    Malformed{"UnendedGroup", "\x1b", "", "a group is not ended"}),
    [](const auto& info) { return info.param.name; });

TEST(ParseRequest, NamesTheDepthProtobufRefuses) {
  google::protobuf::Value parsed;
  ASSERT_TRUE(ParseRequest(Bytes(NestedLists(40)), &parsed).ok());
  absl::Status status = ParseRequest(Bytes(NestedLists(60)), &parsed);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("nested more than 100 levels deep"), std::string::npos)
      << status.message();
  EXPECT_EQ(ErrorField(status).rfind("list_value.values.list_value", 0), 0u) << ErrorField(status);
}

TEST(ParseRequest, SkipsAWellFormedUnknownGroup) {
  grpc::health::v1::HealthCheckRequest parsed;
  // field 3 start group, field 4 varint 1, field 3 end group
  EXPECT_TRUE(ParseRequest(Bytes("\x1b\x20\x01\x1c"), &parsed).ok());
}

}  // namespace
}  // namespace thingtank
