#include "services/objects/core/listing.h"

#include <optional>
#include <string>

#include <gtest/gtest.h>

#include "absl/strings/escaping.h"
#include "services/common/testing/status_matchers.h"

namespace thingtank::objects {
namespace {

struct RollUpCase {
  std::string key;
  std::string prefix;
  std::string delimiter;
  std::optional<std::string> want;
};

TEST(RolledUpPrefixTest, DelimiterEdgeCases) {
  const RollUpCase cases[] = {
      // Plain roll-ups.
      {"photos/2024/a.jpg", "", "/", "photos/"},
      {"photos/2024/a.jpg", "photos/", "/", "photos/2024/"},
      {"photos/a.jpg", "photos/", "/", std::nullopt},
      // The delimiter right after the prefix.
      {"a//b", "a/", "/", "a//"},
      {"/leading", "", "/", "/"},
      // A multi-character delimiter; only its occurrences after the prefix.
      {"a--b--c", "", "--", "a--"},
      {"a--b--c", "a--", "--", "a--b--"},
      {"a-b", "", "--", std::nullopt},
      {"a--b", "a-", "--", std::nullopt},  // "--" straddles the prefix: "-b" has none
      {"a---b", "a-", "--", "a---"},
      // The prefix equal to the key.
      {"a/b", "a/b", "/", std::nullopt},
      {"a/", "a/", "/", std::nullopt},
      {"a/", "", "/", "a/"},
      {"a/", "a", "/", "a/"},
      // A key that is also a prefix of others.
      {"a", "", "/", std::nullopt},
      {"a/b", "", "/", "a/"},
      {"a/c/d", "", "/", "a/"},
      {"a/c/d", "a/", "/", "a/c/"},
      {"a/b", "a/", "/", std::nullopt},
      // No delimiter.
      {"a/b/c", "", "", std::nullopt},
      {"a/b/c", "a/", "", std::nullopt},
      // The prefix does not match.
      {"b/c", "a/", "/", std::nullopt},
      {"a", "a/", "/", std::nullopt},
      {"", "a", "/", std::nullopt},
      // Non-slash delimiters.
      {"2024-01-02", "", "-", "2024-"},
      {"x|y|z", "x|", "|", "x|y|"},
  };
  for (const RollUpCase& c : cases) {
    EXPECT_EQ(RolledUpPrefix(c.key, c.prefix, c.delimiter), c.want)
        << "key=" << c.key << " prefix=" << c.prefix << " delimiter=" << c.delimiter;
  }
}

TEST(ListTokenTest, RoundTrips) {
  const std::pair<std::string, std::string> cases[] = {
      {"", ""},
      {"a", ""},
      {"photos/2024/a.jpg", "3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY"},
      {std::string(1024, 'k'), "null"},
      {std::string("nul\0byte", 8), std::string("v\0", 2)},
      {"caf\xC3\xA9/\xF0\x9F\x98\x80", "v"},
  };
  for (const auto& [key, version] : cases) {
    const std::string token = EncodeListToken(key, version);
    EXPECT_EQ(token.find_first_of("+/="), std::string::npos) << token;
    auto decoded = DecodeListToken(token);
    ASSERT_THAT(decoded, IsOk());
    EXPECT_EQ(decoded->first, key);
    EXPECT_EQ(decoded->second, version);
  }
  EXPECT_EQ(DecodeListToken(EncodeListToken("k"))->second, "");
}

TEST(ListTokenTest, RejectsAnythingElse) {
  const std::string good = EncodeListToken("photos/a.jpg", "v1");
  std::string raw;
  ASSERT_TRUE(absl::WebSafeBase64Unescape(good, &raw));
  const auto encode = [](const std::string& bytes) { return absl::WebSafeBase64Escape(bytes); };
  const std::string bad[] = {
      "",
      "photos/a.jpg",                    // a plain key
      good + "=",                        // padding
      good + "!",                        // not base64
      good.substr(0, good.size() - 1),   // truncated
      absl::Base64Escape(raw),           // standard base64 with padding
      encode(std::string("\x02", 1) + raw.substr(1)),  // unknown version
      encode(raw + "x"),                 // trailing bytes
      encode(raw.substr(0, raw.size() - 1)),  // a part cut short
      encode(std::string("\x01\x05" "ab", 4)),  // length beyond the data
      encode(std::string("\x01\xff\xff\xff\xff\xff\x01", 7)),  // varint too long
      encode(std::string("\x01", 1)),    // no parts
  };
  for (const std::string& token : bad) {
    const auto r = DecodeListToken(token);
    EXPECT_THAT(r, IsStatus(absl::StatusCode::kInvalidArgument, "InvalidArgument",
                            "continuation_token"))
        << token;
    EXPECT_EQ(r.status().message(),
              "continuation_token: The continuation token provided is incorrect");
  }
  EXPECT_THAT(DecodeListToken("x", "key_marker"),
              IsStatus(absl::StatusCode::kInvalidArgument, "InvalidArgument", "key_marker"));
}

}  // namespace
}  // namespace thingtank::objects
