#include "services/queues/message_digest.h"

#include <gtest/gtest.h>

#include "services/queues/receipt_handle.h"

namespace thingtank::queues {
namespace {

TEST(MessageDigestTest, Md5OfBody) {
  EXPECT_EQ(Md5Hex("hello"), "5d41402abc4b2a76b9719d911017c592");
}

TEST(MessageDigestTest, Sha256ForContentDeduplication) {
  EXPECT_EQ(Sha256Hex("hello"),
            "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
}

TEST(MessageDigestTest, AttributesMd5MatchesSqsAlgorithm) {
  // Expected values computed independently with Python's hashlib using the
  // SQS encoding (sorted names; length-prefixed name, type, transport byte,
  // value).
  google::protobuf::Map<std::string, v1::MessageAttributeValue> attrs;
  attrs["Population"].set_data_type("Number");
  attrs["Population"].set_string_value("1250800");
  attrs["City"].set_data_type("String");
  attrs["City"].set_string_value("Any City");
  EXPECT_EQ(MessageAttributesMd5(attrs), "bf1eb494fecc925abadc71de4be9785c");

  google::protobuf::Map<std::string, v1::MessageAttributeValue> mixed;
  mixed["bin"].set_data_type("Binary");
  mixed["bin"].set_binary_value(std::string("\x00\x01\x02", 3));
  mixed["a"].set_data_type("String.custom");
  mixed["a"].set_string_value("x");
  EXPECT_EQ(MessageAttributesMd5(mixed), "de27bb5cdd43236a9903ce763dbba55d");
}

TEST(MessageDigestTest, NoAttributesGiveEmptyDigest) {
  EXPECT_EQ(MessageAttributesMd5({}), "");
}

TEST(ReceiptHandleTest, RoundTripsAndRejectsGarbage) {
  ReceiptHandle h{7, 42, 0x1234567890abcdefULL};
  const std::string text = EncodeReceiptHandle(h);
  auto back = DecodeReceiptHandle(text);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->queue_id, 7u);
  EXPECT_EQ(back->seq, 42u);
  EXPECT_EQ(back->token, 0x1234567890abcdefULL);
  EXPECT_FALSE(DecodeReceiptHandle("").has_value());
  EXPECT_FALSE(DecodeReceiptHandle("not a handle").has_value());
  EXPECT_FALSE(DecodeReceiptHandle(text.substr(0, text.size() - 2)).has_value());
  EXPECT_FALSE(DecodeReceiptHandle(text + "AA").has_value());
}

}  // namespace
}  // namespace thingtank::queues
