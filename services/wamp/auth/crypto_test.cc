#include "gtest/gtest.h"
#include "services/wamp/auth/auth.h"
#include "services/wamp/auth/internal.h"

namespace thingtank::wamp {
namespace {

// Expected values computed once with Debian's python3-autobahn:
// /usr/bin/python3 -c "from autobahn.wamp import auth;
//   print(auth.compute_wcs(b'pw', b'{\"nonce\":\"abc\"}').decode());
//   print(auth.derive_key('pw', 'salt123', 100, 32).decode());
//   print(auth.derive_key('pw','salt123',1000,16).decode());
//   k=auth.derive_key('pw','salt123',100,32);
//   print(auth.compute_wcs(k, b'hello challenge').decode())"
TEST(WampCraTest, ComputeWcsSignatureMatchesAutobahn) {
  EXPECT_EQ(ComputeWcsSignature("pw", R"({"nonce":"abc"})"),
            "jCHpffbJ/avUqf14uFwvk6gZF7FM9J/OAUW+h4FW6pM=");
}

TEST(WampCraTest, DeriveKeyMatchesAutobahn) {
  EXPECT_EQ(DeriveKey("pw", "salt123", 100, 32), "njbtUK/Jd9wzJswH8bt64EYFJ4B11HqETSmsccwvN3w=");
  EXPECT_EQ(DeriveKey("pw", "salt123", 1000, 16), "MWa8jc85h8c6c8Jm+w5qVQ==");
}

TEST(WampCraTest, SaltedSignatureUsesBase64KeyTextAsHmacKey) {
  EXPECT_EQ(ComputeWcsSignature(DeriveKey("pw", "salt123", 100, 32), "hello challenge"),
            "tKqQSIw1X0Q4wtUsEOtkj63pqe5PehLJf10yDb2G4wE=");
}

TEST(WampCraTest, Base64PadsLikeBinascii) {
  EXPECT_EQ(auth_internal::Base64(""), "");
  EXPECT_EQ(auth_internal::Base64("f"), "Zg==");
  EXPECT_EQ(auth_internal::Base64("fo"), "Zm8=");
  EXPECT_EQ(auth_internal::Base64("foo"), "Zm9v");
}

TEST(WampCraTest, ConstantTimeEquals) {
  EXPECT_TRUE(auth_internal::ConstantTimeEquals("s3cret", "s3cret"));
  EXPECT_TRUE(auth_internal::ConstantTimeEquals("", ""));
  EXPECT_FALSE(auth_internal::ConstantTimeEquals("s3cret", "s3creT"));
  EXPECT_FALSE(auth_internal::ConstantTimeEquals("s3cret", "s3cret "));
  EXPECT_FALSE(auth_internal::ConstantTimeEquals("s3cret", ""));
}

}  // namespace
}  // namespace thingtank::wamp
