#include "services/wamp/codec/codec.h"

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace thingtank::wamp {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

constexpr Serializer kAll[] = {Serializer::kJson, Serializer::kMsgPack, Serializer::kCbor};

json Bytes(std::vector<uint8_t> bytes) { return json::binary(std::move(bytes)); }

void ExpectInvalid(Serializer serializer, const std::string& bytes, const std::string& needle) {
  absl::StatusOr<json> decoded = Decode(serializer, bytes);
  ASSERT_FALSE(decoded.ok()) << decoded->dump();
  EXPECT_EQ(decoded.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(decoded.status().message(), HasSubstr(needle));
}

TEST(CodecTest, SubprotocolNames) {
  EXPECT_EQ(SerializerForSubprotocol("wamp.2.json"), Serializer::kJson);
  EXPECT_EQ(SerializerForSubprotocol("wamp.2.msgpack"), Serializer::kMsgPack);
  EXPECT_EQ(SerializerForSubprotocol("wamp.2.cbor"), Serializer::kCbor);
  EXPECT_EQ(SerializerForSubprotocol("wamp.2.ubjson"), std::nullopt);
  EXPECT_EQ(SerializerForSubprotocol("wamp.2.json.batched"), std::nullopt);
  EXPECT_EQ(SerializerForSubprotocol(""), std::nullopt);
  for (Serializer s : kAll) EXPECT_EQ(SerializerForSubprotocol(SubprotocolName(s)), s);
  EXPECT_FALSE(IsBinary(Serializer::kJson));
  EXPECT_TRUE(IsBinary(Serializer::kMsgPack));
  EXPECT_TRUE(IsBinary(Serializer::kCbor));
}

TEST(CodecTest, JsonDecodesAndEncodesCompactly) {
  absl::StatusOr<json> decoded =
      Decode(Serializer::kJson, R"( [16, 239714735, {}, "com.myapp.mytopic1", ["Hello, world!"]] )");
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(*decoded, json::parse(R"([16,239714735,{},"com.myapp.mytopic1",["Hello, world!"]])"));
  EXPECT_EQ(Encode(Serializer::kJson, *decoded),
            R"([16,239714735,{},"com.myapp.mytopic1",["Hello, world!"]])");
}

TEST(CodecTest, LargeIdsStayIntegersInEveryFormat) {
  const uint64_t max_id = uint64_t{1} << 53;
  const json message = {36, max_id, max_id - 1, json::object(), {max_id + 1, UINT64_MAX, -5, 1.5}};
  for (Serializer s : kAll) {
    SCOPED_TRACE(std::string(SubprotocolName(s)));
    absl::StatusOr<json> decoded = Decode(s, Encode(s, message));
    ASSERT_TRUE(decoded.ok()) << decoded.status();
    EXPECT_EQ(*decoded, message);
    EXPECT_TRUE((*decoded)[1].is_number_unsigned());
    EXPECT_EQ((*decoded)[1].get<uint64_t>(), max_id);
    EXPECT_TRUE((*decoded)[4][0].is_number_unsigned());
    EXPECT_EQ((*decoded)[4][1].get<uint64_t>(), UINT64_MAX);
    EXPECT_EQ((*decoded)[4][2].get<int64_t>(), -5);
    EXPECT_TRUE((*decoded)[4][3].is_number_float());
  }
  EXPECT_EQ(Encode(Serializer::kJson, json{max_id}), "[9007199254740992]");
  absl::StatusOr<json> decoded = Decode(Serializer::kJson, "[9007199254740992]");
  ASSERT_TRUE(decoded.ok());
  EXPECT_TRUE((*decoded)[0].is_number_unsigned());
}

TEST(CodecTest, BinaryRoundTripsInEveryFormat) {
  const json message = {16, 1, {{"enc_algo", "cryptobox"}, {"key", Bytes({})}}, "a.b",
                        Bytes({0x00, 0x01, 0x02, 0xff, 0xfe}),
                        json::array({Bytes({'h', 'i'}), "plain", json::array({Bytes({7})})})};
  for (Serializer s : kAll) {
    SCOPED_TRACE(std::string(SubprotocolName(s)));
    const std::string encoded = Encode(s, message);
    absl::StatusOr<json> decoded = Decode(s, encoded);
    ASSERT_TRUE(decoded.ok()) << decoded.status();
    EXPECT_EQ(*decoded, message);
    EXPECT_TRUE((*decoded)[4].is_binary());
    EXPECT_TRUE((*decoded)[2]["key"].is_binary());
  }
  // The spec's JSON convention: "\0" followed by base64 (padded).
  EXPECT_EQ(Encode(Serializer::kJson, message),
            R"([16,1,{"enc_algo":"cryptobox","key":"\u0000"},"a.b","\u0000AAEC//4=",)"
            R"(["\u0000aGk=","plain",["\u0000Bw=="]]])");
  // MessagePack bin 8, CBOR byte string.
  EXPECT_EQ(Encode(Serializer::kMsgPack, Bytes({1, 2})), std::string("\xc4\x02\x01\x02", 4));
  EXPECT_EQ(Encode(Serializer::kCbor, Bytes({1, 2})), std::string("\x42\x01\x02", 3));
}

TEST(CodecTest, JsonBinaryStringsDecode) {
  absl::StatusOr<json> decoded = Decode(Serializer::kJson, R"(["\u0000AAEC//4=", "\u0000", "x\u0000"])");
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ((*decoded)[0], Bytes({0x00, 0x01, 0x02, 0xff, 0xfe}));
  EXPECT_EQ((*decoded)[1], Bytes({}));
  EXPECT_EQ((*decoded)[2], std::string("x\0", 2));  // only a leading NUL marks binary
  ExpectInvalid(Serializer::kJson, R"(["\u0000not base64!"])", "invalid base64");
}

TEST(CodecTest, MalformedJsonIsInvalidArgument) {
  ExpectInvalid(Serializer::kJson, "", "invalid JSON");
  ExpectInvalid(Serializer::kJson, "[1,", "invalid JSON");
  ExpectInvalid(Serializer::kJson, "[1,]", "invalid JSON");
  ExpectInvalid(Serializer::kJson, "[16, 1] x", "invalid JSON");       // trailing garbage
  ExpectInvalid(Serializer::kJson, "[16, 1][2]", "invalid JSON");      // two values
  // nlohmann's lexer reads a NUL byte as end of input; it must not hide garbage.
  ExpectInvalid(Serializer::kJson, std::string("[1]\0", 4), "invalid JSON: NUL byte");
  ExpectInvalid(Serializer::kJson, std::string("[1]\0garbage", 11), "invalid JSON: NUL byte");
  ExpectInvalid(Serializer::kJson, "[\"\xff\"]", "UTF-8");             // invalid byte
  ExpectInvalid(Serializer::kJson, "[\"\xc0\xaf\"]", "UTF-8");         // overlong '/'
  ExpectInvalid(Serializer::kJson, "[\"\xed\xa0\x80\"]", "UTF-8");     // encoded surrogate
  ExpectInvalid(Serializer::kJson, R"(["\ud800"])", "surrogate");      // lone escaped surrogate
  ExpectInvalid(Serializer::kJson, "[NaN]", "invalid JSON");
}

TEST(CodecTest, MalformedBinaryFormatsAreInvalidArgument) {
  ExpectInvalid(Serializer::kMsgPack, "", "unexpected end of input");
  ExpectInvalid(Serializer::kMsgPack, "\x93\x01", "unexpected end of input");      // truncated
  ExpectInvalid(Serializer::kMsgPack, "\xa5hel", "unexpected end of input");       // short str
  ExpectInvalid(Serializer::kMsgPack, "\x91\x01\x01", "expected end of input");    // trailing
  ExpectInvalid(Serializer::kMsgPack, "\x91\xc1", "invalid byte");                 // never used
  ExpectInvalid(Serializer::kMsgPack, "\x81\x01\x01", "MessagePack");              // int key
  ExpectInvalid(Serializer::kMsgPack, "\x91\xa1\xff", "invalid UTF-8 in a string");
  ExpectInvalid(Serializer::kMsgPack, "\x91\xa3\xed\xa0\x80", "invalid UTF-8 in a string");
  ExpectInvalid(Serializer::kMsgPack, "\x81\xa1\xff\x01", "invalid UTF-8 in a map key");
  ExpectInvalid(Serializer::kMsgPack, "\xdd\xff\xff\xff\xff", "unexpected end of input");
  ExpectInvalid(Serializer::kCbor, "", "unexpected end of input");
  ExpectInvalid(Serializer::kCbor, "\x83\x01", "unexpected end of input");
  ExpectInvalid(Serializer::kCbor, "\x81\x01\x01", "expected end of input");
  ExpectInvalid(Serializer::kCbor, "\x81\x61\xff", "invalid UTF-8 in a string");
  ExpectInvalid(Serializer::kCbor, "\x81\xc1\x01", "invalid CBOR");               // tag 1
  ExpectInvalid(Serializer::kCbor, "\x9b\xff\xff\xff\xff\xff\xff\xff\xff", "invalid CBOR");
}

TEST(CodecTest, DeepNestingIsRejectedWithoutRecursionBlowup) {
  const int n = 100000;
  ExpectInvalid(Serializer::kJson, std::string(n, '['), "nesting deeper than 64 levels");
  ExpectInvalid(Serializer::kJson, std::string(n, '[') + std::string(n, ']'),
                "nesting deeper than 64 levels");
  ExpectInvalid(Serializer::kJson, std::string(n, '{'), "invalid JSON");  // keys must be strings
  ExpectInvalid(Serializer::kMsgPack, std::string(n, '\x91'), "nesting deeper than 64 levels");
  ExpectInvalid(Serializer::kCbor, std::string(n, '\x81'), "nesting deeper than 64 levels");
  ExpectInvalid(Serializer::kCbor, std::string(n, '\x9f'), "nesting deeper than 64 levels");

  // Exactly kMaxNestingDepth levels decode; one more does not.
  std::string ok = std::string(kMaxNestingDepth, '[') + std::string(kMaxNestingDepth, ']');
  EXPECT_TRUE(Decode(Serializer::kJson, ok).ok());
  std::string deep = "[" + ok + "]";
  ExpectInvalid(Serializer::kJson, deep, "nesting deeper than 64 levels");
  json nested = json::array();
  for (int i = 1; i < kMaxNestingDepth; ++i) nested = json::array({nested});
  for (Serializer s : {Serializer::kMsgPack, Serializer::kCbor}) {
    EXPECT_TRUE(Decode(s, Encode(s, nested)).ok());
    ExpectInvalid(s, Encode(s, json::array({nested})), "nesting deeper than 64 levels");
  }
  // Objects count as levels too.
  json objects = json::object();
  for (int i = 0; i < kMaxNestingDepth; ++i) objects = json{{"k", objects}};
  ExpectInvalid(Serializer::kJson, objects.dump(), "nesting deeper than 64 levels");
}

TEST(CodecTest, EncodeNeverThrowsOnInvalidUtf8) {
  const json value = {"ok", std::string("bad\xff")};
  EXPECT_EQ(Encode(Serializer::kJson, value), "[\"ok\",\"bad\xef\xbf\xbd\"]");
  // Binary formats carry the bytes; the peer's decoder judges them (ours rejects).
  ExpectInvalid(Serializer::kMsgPack, Encode(Serializer::kMsgPack, value), "invalid UTF-8");
}

TEST(CodecTest, EncodingsMatchOtherImplementations) {
  // Bytes from the spec's test vectors (autobahn-python).
  const json published = {17, 239714735, 4429313566};
  EXPECT_EQ(Encode(Serializer::kJson, published), "[17,239714735,4429313566]");
  EXPECT_EQ(Encode(Serializer::kMsgPack, published),
            std::string("\x93\x11\xce\x0e\x49\xc1\xaf\xcf\x00\x00\x00\x01\x08\x01\xf6\x1e", 16));
  EXPECT_EQ(Encode(Serializer::kCbor, published),
            std::string("\x83\x11\x1a\x0e\x49\xc1\xaf\x1b\x00\x00\x00\x01\x08\x01\xf6\x1e", 16));
}

// Truncated, bit-flipped and spliced frames: Decode answers (ok or
// InvalidArgument) and never crashes; whatever decodes also encodes.
TEST(CodecTest, MutatedFramesNeverCrash) {
  const json message = {36, 5512315355, 4429313566, {{"publisher", 1}, {"topic", "a.b"}},
                        {1, -2, 3.5, "x", nullptr, true, Bytes({1, 2, 3})},
                        {{"k", {{"nested", {1, {2, {3}}}}}}}};
  std::mt19937 random(12345);
  for (Serializer s : kAll) {
    const std::string frame = Encode(s, message);
    for (int i = 0; i < 5000; ++i) {
      std::string mutated = frame;
      switch (random() % 3) {
        case 0:
          mutated.resize(random() % mutated.size());
          break;
        case 1:
          for (int flips = 1 + random() % 3; flips > 0; --flips) {
            mutated[random() % mutated.size()] ^= static_cast<char>(1 << (random() % 8));
          }
          break;
        default:
          mutated.insert(random() % mutated.size(), frame.substr(random() % frame.size()));
          break;
      }
      absl::StatusOr<json> decoded = Decode(s, mutated);
      if (decoded.ok()) {
        for (Serializer to : kAll) EXPECT_TRUE(Decode(to, Encode(to, *decoded)).ok());
      } else {
        EXPECT_EQ(decoded.status().code(), absl::StatusCode::kInvalidArgument);
      }
    }
  }
}

}  // namespace
}  // namespace thingtank::wamp
