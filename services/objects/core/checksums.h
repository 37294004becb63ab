#pragma once

// Content digests as S3 computes and checks them: the MD5 ETag, the extra
// checksums (CRC32, CRC32C, SHA-1, SHA-256, base64 of the big-endian digest),
// multipart ETags and COMPOSITE checksums. Pure functions and one streaming
// hasher; no storage, no gRPC.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "services/objects/core/crc32c.h"
#include "thingtank/objects/v1/objects.pb.h"

namespace thingtank::objects {

namespace v1 = ::thingtank::objects::v1;

struct Digest {
  std::string md5;          // raw 16 bytes
  v1::Checksums checksums;  // base64 of the big-endian digests computed (only the requested algorithms)
  std::string EtagHex() const;  // lowercase hex of md5
};

// Computes MD5 and the given extra algorithms in one pass over streamed data.
// UNSPECIFIED, unknown and repeated entries of `extra` are ignored.
// Not thread-safe; movable, not copyable. Update after Finish, or a second
// Finish, is a bug and aborts.
class ContentHasher {
 public:
  explicit ContentHasher(std::vector<v1::ChecksumAlgorithm> extra);
  ~ContentHasher();
  ContentHasher(ContentHasher&&) noexcept;
  ContentHasher& operator=(ContentHasher&&) noexcept;
  ContentHasher(const ContentHasher&) = delete;
  ContentHasher& operator=(const ContentHasher&) = delete;

  void Update(std::string_view data);
  Digest Finish();  // once

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// Which extra algorithms a put computes: `requested` (may be UNSPECIFIED) plus
// the algorithm of any expected checksum given. S3 rules: at most one expected
// checksum value (else InvalidRequest field "checksums"); if requested and the
// given value's algorithm differ -> InvalidRequest (field
// "checksum_algorithm"). Also (S3's "Value for x-amz-checksum-<alg> header is
// invalid"): a given value that is not base64 of a digest of the algorithm's
// size -> InvalidRequest field "checksums.<alg>"; a `requested` value outside
// the enum -> InvalidArgument field "checksum_algorithm".
absl::StatusOr<std::vector<v1::ChecksumAlgorithm>> ChecksumsToCompute(
    v1::ChecksumAlgorithm requested, const v1::Checksums& expected);

// content_md5_b64 empty: not checked. Not valid base64 of 16 bytes ->
// FieldError(md5_field, "InvalidDigest"); mismatch -> FieldError(md5_field,
// "BadDigest"). Each non-empty expected checksum that differs from the
// computed one (compared as decoded bytes; a value that does not decode, or
// an algorithm that was not computed, differs) ->
// FieldError("checksums.<crc32|crc32c|sha1|sha256>", "BadDigest",
// "The <ALG> you specified did not match the calculated checksum.").
// The MD5 is checked first, then CRC32, CRC32C, SHA1, SHA256.
absl::Status VerifyDigest(const Digest& d, std::string_view content_md5_b64,
                          const v1::Checksums& expected,
                          std::string_view md5_field = "content_md5");

// Adds the double quotes (an already quoted ETag is returned as is).
std::string QuoteEtag(std::string_view hex_or_hex_dash_n);
// Strips surrounding quotes if present (both of them).
std::string UnquoteEtag(std::string_view etag);

// S3 multipart ETag: "\"" + hex(MD5(concatenation of the raw part MD5s)) +
// "-" + N + "\"".
std::string MultipartEtag(const std::vector<std::string>& part_md5_raw);

// S3 COMPOSITE checksum of a multipart object: base64(ALG(concatenation of the
// raw part digests)) + "-" + N. Parts given as base64 strings. A part that is
// not base64 of the algorithm's digest size -> FieldError("parts",
// "InvalidPart"); no parts -> FieldError("parts", "InvalidRequest");
// UNSPECIFIED/unknown alg -> FieldError("checksum_algorithm",
// "InvalidArgument").
absl::StatusOr<std::string> CompositeChecksum(
    v1::ChecksumAlgorithm alg, const std::vector<std::string>& part_checksums_b64);

// Field getters/setters on v1::Checksums by algorithm (UNSPECIFIED/unknown:
// ChecksumOf returns "", SetChecksum does nothing).
std::string ChecksumOf(const v1::Checksums& c, v1::ChecksumAlgorithm alg);
void SetChecksum(v1::Checksums* c, v1::ChecksumAlgorithm alg, std::string value_b64);
// "CRC32", "CRC32C", "SHA1", "SHA256" ("" for UNSPECIFIED/unknown).
std::string_view ChecksumName(v1::ChecksumAlgorithm alg);
// The v1::Checksums field name: "crc32", "crc32c", "sha1", "sha256" (or "").
std::string_view ChecksumFieldName(v1::ChecksumAlgorithm alg);
// Digest size in bytes: 4, 4, 20, 32 (0 for UNSPECIFIED/unknown).
size_t ChecksumSize(v1::ChecksumAlgorithm alg);

// The four extra algorithms in v1::Checksums field order.
inline constexpr v1::ChecksumAlgorithm kChecksumAlgorithms[] = {
    v1::CHECKSUM_ALGORITHM_CRC32, v1::CHECKSUM_ALGORITHM_CRC32C,
    v1::CHECKSUM_ALGORITHM_SHA1, v1::CHECKSUM_ALGORITHM_SHA256};

}  // namespace thingtank::objects
