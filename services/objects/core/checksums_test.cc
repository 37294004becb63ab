#include "services/objects/core/checksums.h"

#include <openssl/evp.h>
#include <zlib.h>

#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/escaping.h"
#include "services/common/testing/status_matchers.h"

namespace thingtank::objects {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

constexpr absl::StatusCode kInvalid = absl::StatusCode::kInvalidArgument;

const std::vector<v1::ChecksumAlgorithm> kAll = {
    v1::CHECKSUM_ALGORITHM_CRC32, v1::CHECKSUM_ALGORITHM_CRC32C, v1::CHECKSUM_ALGORITHM_SHA1,
    v1::CHECKSUM_ALGORITHM_SHA256};

Digest HashAll(std::string_view data, std::vector<v1::ChecksumAlgorithm> algs = kAll) {
  ContentHasher h(std::move(algs));
  h.Update(data);
  return h.Finish();
}

// OpenSSL directly, independent of ContentHasher.
std::string RawMd5(std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EXPECT_EQ(EVP_Digest(data.data(), data.size(), out, &len, EVP_md5(), nullptr), 1);
  return std::string(reinterpret_cast<const char*>(out), len);
}

// A deterministic, non-repeating test payload.
std::string Payload(size_t n) {
  std::string s(n, '\0');
  uint32_t x = 12345;
  for (char& c : s) {
    x = x * 1103515245 + 12345;
    c = static_cast<char>(x >> 16);
  }
  return s;
}

TEST(Crc32cTest, KnownVectors) {
  EXPECT_EQ(Crc32c(0, ""), 0u);
  EXPECT_EQ(Crc32c(0, "123456789"), 0xE3069283u);
  EXPECT_EQ(Crc32c(0, "abc"), 0x364B3FB7u);
  // RFC 3720 (iSCSI) B.4: 32 bytes of zeros, of 0xff.
  EXPECT_EQ(Crc32c(0, std::string(32, '\0')), 0x8A9136AAu);
  EXPECT_EQ(Crc32c(0, std::string(32, '\xff')), 0x62A8AB43u);
}

TEST(Crc32cTest, PortableAndHardwareAgreeOnEveryLengthAndAlignment) {
  const std::string data = Payload(300);
  for (size_t offset = 0; offset < 8; ++offset) {
    for (size_t len = 0; offset + len <= data.size(); len += (len < 40 ? 1 : 37)) {
      const std::string_view piece(data.data() + offset, len);
      const uint32_t portable = crc32c_internal::Crc32cPortable(0, piece);
      EXPECT_EQ(Crc32c(0, piece), portable) << offset << " " << len;
      if (crc32c_internal::Crc32cHardwareAvailable()) {
        EXPECT_EQ(crc32c_internal::Crc32cHardware(0, piece), portable) << offset << " " << len;
      }
    }
  }
  EXPECT_EQ(crc32c_internal::Crc32cPortable(0, "123456789"), 0xE3069283u);
  if (crc32c_internal::Crc32cHardwareAvailable()) {
    EXPECT_EQ(crc32c_internal::Crc32cHardware(0, "123456789"), 0xE3069283u);
  }
}

TEST(Crc32cTest, ContinuesAcrossCalls) {
  const std::string data = Payload(1000);
  const uint32_t whole = Crc32c(0, data);
  for (size_t cut : {0, 1, 7, 8, 9, 500, 999, 1000}) {
    const std::string_view a(data.data(), cut);
    const std::string_view b(data.data() + cut, data.size() - cut);
    EXPECT_EQ(Crc32c(Crc32c(0, a), b), whole) << cut;
    EXPECT_EQ(crc32c_internal::Crc32cPortable(crc32c_internal::Crc32cPortable(0, a), b), whole);
  }
}

TEST(ContentHasherTest, EmptyContent) {
  const Digest d = HashAll("");
  EXPECT_EQ(d.EtagHex(), "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(absl::Base64Escape(d.md5), "1B2M2Y8AsgTpgAmY7PhCfg==");
  EXPECT_EQ(d.checksums.crc32(), "AAAAAA==");
  EXPECT_EQ(d.checksums.crc32c(), "AAAAAA==");
  EXPECT_EQ(d.checksums.sha1(), "2jmj7l5rSw0yVb/vlWAYkK/YBwk=");
  EXPECT_EQ(d.checksums.sha256(), "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
}

TEST(ContentHasherTest, Abc) {
  const Digest d = HashAll("abc");
  EXPECT_EQ(d.EtagHex(), "900150983cd24fb0d6963f7d28e17f72");
  std::string raw;
  ASSERT_TRUE(absl::Base64Unescape(d.checksums.sha1(), &raw));
  EXPECT_EQ(absl::BytesToHexString(raw), "a9993e364706816aba3e25717850c26c9cd0d89d");
  ASSERT_TRUE(absl::Base64Unescape(d.checksums.sha256(), &raw));
  EXPECT_EQ(absl::BytesToHexString(raw),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(d.checksums.crc32(), "NSRBwg==");
  EXPECT_EQ(d.checksums.crc32c(), "Nks/tw==");
}

TEST(ContentHasherTest, CheckValueBase64IsBigEndian) {
  const Digest d = HashAll("123456789");
  EXPECT_EQ(d.checksums.crc32(), "y/Q5Jg==");   // 0xCBF43926
  EXPECT_EQ(d.checksums.crc32c(), "4waSgw==");  // 0xE3069283
  EXPECT_EQ(absl::Base64Escape(d.md5), "JfnnlDI7RTiF9RgfG2JNCw==");
  EXPECT_EQ(d.checksums.sha1(), "98O8HYCOBHMq32eZZczDTKeuNEE=");
  EXPECT_EQ(d.checksums.sha256(), "FeKw08M4keuw8e9gnsQZQgwg4yDOlMZfvIwzEkSOsiU=");
}

TEST(ContentHasherTest, OnlyRequestedAlgorithms) {
  Digest d = HashAll("abc", {});
  EXPECT_EQ(d.EtagHex(), "900150983cd24fb0d6963f7d28e17f72");
  EXPECT_EQ(d.checksums.ByteSizeLong(), 0u);
  d = HashAll("abc", {v1::CHECKSUM_ALGORITHM_CRC32C, v1::CHECKSUM_ALGORITHM_UNSPECIFIED,
                      v1::CHECKSUM_ALGORITHM_CRC32C});
  EXPECT_EQ(d.checksums.crc32c(), "Nks/tw==");
  EXPECT_THAT(d.checksums.crc32(), IsEmpty());
  EXPECT_THAT(d.checksums.sha1(), IsEmpty());
  EXPECT_THAT(d.checksums.sha256(), IsEmpty());
}

void ExpectStreamedEqualsWhole() {
  const std::string data = Payload(100'003);
  const Digest whole = HashAll(data);
  ContentHasher h(kAll);
  size_t at = 0;
  const size_t sizes[] = {0, 1, 3, 7, 8, 13, 4096, 65537, 31};
  for (size_t i = 0; at < data.size(); ++i) {
    const size_t n = std::min(sizes[i % std::size(sizes)], data.size() - at);
    h.Update(std::string_view(data.data() + at, n));
    at += n;
  }
  const Digest streamed = h.Finish();
  EXPECT_EQ(streamed.md5, whole.md5);
  EXPECT_EQ(streamed.md5, RawMd5(data));
  EXPECT_EQ(streamed.checksums.crc32(), whole.checksums.crc32());
  EXPECT_EQ(streamed.checksums.crc32c(), whole.checksums.crc32c());
  EXPECT_EQ(streamed.checksums.sha1(), whole.checksums.sha1());
  EXPECT_EQ(streamed.checksums.sha256(), whole.checksums.sha256());
  // CRC32 against zlib directly.
  const uLong crc = crc32_z(0, reinterpret_cast<const Bytef*>(data.data()), data.size());
  const char be[4] = {static_cast<char>(crc >> 24), static_cast<char>(crc >> 16),
                      static_cast<char>(crc >> 8), static_cast<char>(crc)};
  EXPECT_EQ(whole.checksums.crc32(), absl::Base64Escape(std::string(be, 4)));
}

TEST(ContentHasherTest, StreamedInOddPiecesEqualsOnePiece) { ExpectStreamedEqualsWhole(); }

TEST(ContentHasherTest, StreamedOnThePortableCrc32cPath) {
  const std::string data = Payload(5000);
  const std::string fast = HashAll(data).checksums.crc32c();
  crc32c_internal::ForceCrc32cPortableForTesting(true);
  ExpectStreamedEqualsWhole();
  const std::string portable = HashAll(data).checksums.crc32c();
  crc32c_internal::ForceCrc32cPortableForTesting(false);
  EXPECT_EQ(portable, fast);
}

TEST(ContentHasherTest, Movable) {
  ContentHasher a({v1::CHECKSUM_ALGORITHM_SHA256});
  a.Update("a");
  ContentHasher b = std::move(a);
  b.Update("bc");
  EXPECT_EQ(b.Finish().checksums.sha256(), "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=");
}

TEST(ContentHasherDeathTest, FinishTwiceAborts) {
  ContentHasher h({});
  h.Finish();
  EXPECT_DEATH(h.Finish(), "Finish twice");
}

v1::Checksums With(v1::ChecksumAlgorithm alg, std::string value) {
  v1::Checksums c;
  SetChecksum(&c, alg, std::move(value));
  return c;
}

TEST(ChecksumsToComputeTest, RequestedAndGiven) {
  EXPECT_THAT(*ChecksumsToCompute(v1::CHECKSUM_ALGORITHM_UNSPECIFIED, {}), IsEmpty());
  EXPECT_THAT(*ChecksumsToCompute(v1::CHECKSUM_ALGORITHM_SHA1, {}),
              ElementsAre(v1::CHECKSUM_ALGORITHM_SHA1));
  EXPECT_THAT(*ChecksumsToCompute(v1::CHECKSUM_ALGORITHM_UNSPECIFIED,
                                  With(v1::CHECKSUM_ALGORITHM_CRC32C, "4waSgw==")),
              ElementsAre(v1::CHECKSUM_ALGORITHM_CRC32C));
  EXPECT_THAT(*ChecksumsToCompute(v1::CHECKSUM_ALGORITHM_CRC32C,
                                  With(v1::CHECKSUM_ALGORITHM_CRC32C, "4waSgw==")),
              ElementsAre(v1::CHECKSUM_ALGORITHM_CRC32C));
}

TEST(ChecksumsToComputeTest, S3Rules) {
  v1::Checksums two = With(v1::CHECKSUM_ALGORITHM_CRC32, "y/Q5Jg==");
  two.set_crc32c("4waSgw==");
  EXPECT_THAT(ChecksumsToCompute(v1::CHECKSUM_ALGORITHM_UNSPECIFIED, two),
              IsStatus(kInvalid, "InvalidRequest", "checksums"));
  EXPECT_THAT(ChecksumsToCompute(v1::CHECKSUM_ALGORITHM_SHA256,
                                 With(v1::CHECKSUM_ALGORITHM_CRC32, "y/Q5Jg==")),
              IsStatus(kInvalid, "InvalidRequest", "checksum_algorithm"));
  EXPECT_THAT(ChecksumsToCompute(v1::CHECKSUM_ALGORITHM_UNSPECIFIED,
                                 With(v1::CHECKSUM_ALGORITHM_CRC32, "not base64")),
              IsStatus(kInvalid, "InvalidRequest", "checksums.crc32"));
  EXPECT_THAT(ChecksumsToCompute(v1::CHECKSUM_ALGORITHM_UNSPECIFIED,
                                 With(v1::CHECKSUM_ALGORITHM_SHA256, "y/Q5Jg==")),  // 4 bytes
              IsStatus(kInvalid, "InvalidRequest", "checksums.sha256"));
  EXPECT_THAT(ChecksumsToCompute(static_cast<v1::ChecksumAlgorithm>(9), {}),
              IsStatus(kInvalid, "InvalidArgument", "checksum_algorithm"));
}

TEST(VerifyDigestTest, Md5) {
  const Digest d = HashAll("abc", {});
  EXPECT_THAT(VerifyDigest(d, "", {}), IsOk());
  EXPECT_THAT(VerifyDigest(d, "kAFQmDzST7DWlj99KOF/cg==", {}), IsOk());
  EXPECT_THAT(VerifyDigest(d, "1B2M2Y8AsgTpgAmY7PhCfg==", {}),
              IsStatus(kInvalid, "BadDigest", "content_md5"));
  EXPECT_THAT(VerifyDigest(d, "1B2M2Y8AsgTpgAmY7PhCfg==", {}, "header.content_md5"),
              IsStatus(kInvalid, "BadDigest", "header.content_md5"));
  for (const char* bad : {"kAFQmDzST7DWlj99KOF/cg", "not base64!", "y/Q5Jg==",
                          "kAFQmDzST7DWlj99KOF/cg==AA==", "900150983cd24fb0d6963f7d28e17f72"}) {
    EXPECT_THAT(VerifyDigest(d, bad, {}), IsStatus(kInvalid, "InvalidDigest", "content_md5"))
        << bad;
  }
}

TEST(VerifyDigestTest, Checksums) {
  const Digest d = HashAll("123456789");
  v1::Checksums all;
  all.set_crc32("y/Q5Jg==");
  all.set_crc32c("4waSgw==");
  all.set_sha1("98O8HYCOBHMq32eZZczDTKeuNEE=");
  all.set_sha256("FeKw08M4keuw8e9gnsQZQgwg4yDOlMZfvIwzEkSOsiU=");
  EXPECT_THAT(VerifyDigest(d, "JfnnlDI7RTiF9RgfG2JNCw==", all), IsOk());
  for (v1::ChecksumAlgorithm alg : kAll) {
    const std::string field = "checksums." + std::string(ChecksumFieldName(alg));
    v1::Checksums wrong = all;
    SetChecksum(&wrong, alg, ChecksumOf(HashAll("12345678").checksums, alg));
    const absl::Status s = VerifyDigest(d, "", wrong);
    EXPECT_THAT(s, IsStatus(kInvalid, "BadDigest", field));
    EXPECT_EQ(s.message(), field + ": The " + std::string(ChecksumName(alg)) +
                               " you specified did not match the calculated checksum.");
    // Expected but not computed: it cannot match.
    EXPECT_THAT(VerifyDigest(HashAll("123456789", {}), "", With(alg, ChecksumOf(all, alg))),
                IsStatus(kInvalid, "BadDigest", field));
  }
}

TEST(EtagTest, QuoteAndUnquote) {
  EXPECT_EQ(QuoteEtag("abc"), "\"abc\"");
  EXPECT_EQ(QuoteEtag("abc-2"), "\"abc-2\"");
  EXPECT_EQ(QuoteEtag("\"abc\""), "\"abc\"");
  EXPECT_EQ(UnquoteEtag("\"abc\""), "abc");
  EXPECT_EQ(UnquoteEtag("abc"), "abc");
  EXPECT_EQ(UnquoteEtag("\""), "\"");
  EXPECT_EQ(UnquoteEtag("\"\""), "");
  EXPECT_EQ(UnquoteEtag("\"abc"), "\"abc");
}

TEST(EtagTest, MultipartEtagByHand) {
  const std::vector<std::string> parts = {"abc", "123456789", Payload(5 << 20)};
  std::string concatenated;
  std::vector<std::string> md5s;
  for (const std::string& p : parts) {
    md5s.push_back(RawMd5(p));
    concatenated += md5s.back();
  }
  const std::string expected = "\"" + absl::BytesToHexString(RawMd5(concatenated)) + "-3\"";
  EXPECT_EQ(MultipartEtag(md5s), expected);
  // Computed independently (Python hashlib) for the first two parts.
  EXPECT_EQ(MultipartEtag({RawMd5("abc"), RawMd5("123456789")}),
            "\"93c5c3242fb619a39cd929643af04f90-2\"");
}

TEST(CompositeChecksumTest, OfPartDigests) {
  const Digest a = HashAll("abc");
  const Digest b = HashAll("123456789");
  // Computed independently (Python zlib / hashlib / a bitwise CRC32C).
  const std::pair<v1::ChecksumAlgorithm, std::string> cases[] = {
      {v1::CHECKSUM_ALGORITHM_CRC32, "CyRHwQ==-2"},
      {v1::CHECKSUM_ALGORITHM_CRC32C, "JBjqDw==-2"},
      {v1::CHECKSUM_ALGORITHM_SHA1, "FfUQBldvzmVTf0Dg8jbyB01Knb4=-2"},
      {v1::CHECKSUM_ALGORITHM_SHA256, "BEPlTfyFCRR8rxsEDgceqMgyaEznHnCFsTqlJPyEBJ4=-2"},
  };
  for (const auto& [alg, want] : cases) {
    auto got = CompositeChecksum(alg, {ChecksumOf(a.checksums, alg), ChecksumOf(b.checksums, alg)});
    ASSERT_THAT(got, IsOk());
    EXPECT_EQ(*got, want) << ChecksumName(alg);
  }
  // One part: the digest of its digest.
  std::string raw;
  ASSERT_TRUE(absl::Base64Unescape(a.checksums.sha256(), &raw));
  EXPECT_EQ(*CompositeChecksum(v1::CHECKSUM_ALGORITHM_SHA256, {a.checksums.sha256()}),
            HashAll(raw).checksums.sha256() + "-1");
}

TEST(CompositeChecksumTest, Errors) {
  EXPECT_THAT(CompositeChecksum(v1::CHECKSUM_ALGORITHM_UNSPECIFIED, {"AAAAAA=="}),
              IsStatus(kInvalid, "InvalidArgument", "checksum_algorithm"));
  EXPECT_THAT(CompositeChecksum(v1::CHECKSUM_ALGORITHM_CRC32, {}),
              IsStatus(kInvalid, "InvalidRequest", "parts"));
  EXPECT_THAT(CompositeChecksum(v1::CHECKSUM_ALGORITHM_CRC32, {"AAAAAA==", "!!"}),
              IsStatus(kInvalid, "InvalidPart", "parts"));
  EXPECT_THAT(CompositeChecksum(v1::CHECKSUM_ALGORITHM_SHA1, {"AAAAAA=="}),
              IsStatus(kInvalid, "InvalidPart", "parts"));
}

TEST(ChecksumFieldsTest, GetSetAndNames) {
  v1::Checksums c;
  for (v1::ChecksumAlgorithm alg : kAll) {
    SetChecksum(&c, alg, std::string(ChecksumName(alg)));
  }
  EXPECT_EQ(c.crc32(), "CRC32");
  EXPECT_EQ(c.crc32c(), "CRC32C");
  EXPECT_EQ(c.sha1(), "SHA1");
  EXPECT_EQ(c.sha256(), "SHA256");
  for (v1::ChecksumAlgorithm alg : kAll) EXPECT_EQ(ChecksumOf(c, alg), ChecksumName(alg));
  EXPECT_EQ(ChecksumOf(c, v1::CHECKSUM_ALGORITHM_UNSPECIFIED), "");
  SetChecksum(&c, v1::CHECKSUM_ALGORITHM_UNSPECIFIED, "x");
  EXPECT_EQ(c.crc32(), "CRC32");
  EXPECT_EQ(ChecksumName(v1::CHECKSUM_ALGORITHM_UNSPECIFIED), "");
  EXPECT_EQ(ChecksumSize(v1::CHECKSUM_ALGORITHM_SHA1), 20u);
}

}  // namespace
}  // namespace thingtank::objects
