#include "services/objects/core/checksums.h"

#include <openssl/evp.h>
#include <zlib.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "services/objects/core/s3_errors.h"
#include "services/common/string_views.h"

namespace thingtank::objects {
namespace {

// OpenSSL failing on a digest it ships is a broken installation, not input.
void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "objects checksums: %s failed\n", what);
    std::abort();
  }
}

struct EvpDeleter {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
using EvpCtx = std::unique_ptr<EVP_MD_CTX, EvpDeleter>;

EvpCtx NewCtx(const EVP_MD* md) {
  EvpCtx ctx(EVP_MD_CTX_new());
  Check(ctx != nullptr, "EVP_MD_CTX_new");
  Check(EVP_DigestInit_ex(ctx.get(), md, nullptr) == 1, "EVP_DigestInit_ex");
  return ctx;
}

void UpdateCtx(EVP_MD_CTX* ctx, std::string_view data) {
  Check(EVP_DigestUpdate(ctx, data.data(), data.size()) == 1, "EVP_DigestUpdate");
}

std::string FinishCtx(EVP_MD_CTX* ctx) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  Check(EVP_DigestFinal_ex(ctx, out, &len) == 1, "EVP_DigestFinal_ex");
  return std::string(reinterpret_cast<const char*>(out), len);
}

std::string OneShot(const EVP_MD* md, std::string_view data) {
  EvpCtx ctx = NewCtx(md);
  UpdateCtx(ctx.get(), data);
  return FinishCtx(ctx.get());
}

std::string BigEndian32(uint32_t v) {
  const char b[4] = {static_cast<char>(v >> 24), static_cast<char>(v >> 16),
                     static_cast<char>(v >> 8), static_cast<char>(v)};
  return std::string(b, 4);
}

uint32_t Crc32(uint32_t crc, std::string_view data) {
  return static_cast<uint32_t>(
      crc32_z(crc, reinterpret_cast<const Bytef*>(data.data()), data.size()));
}

bool IsKnown(v1::ChecksumAlgorithm alg) { return ChecksumSize(alg) != 0; }

// The raw digest of `data` by `alg` (a known algorithm).
std::string RawDigest(v1::ChecksumAlgorithm alg, std::string_view data) {
  switch (alg) {
    case v1::CHECKSUM_ALGORITHM_CRC32:
      return BigEndian32(Crc32(0, data));
    case v1::CHECKSUM_ALGORITHM_CRC32C:
      return BigEndian32(Crc32c(0, data));
    case v1::CHECKSUM_ALGORITHM_SHA1:
      return OneShot(EVP_sha1(), data);
    case v1::CHECKSUM_ALGORITHM_SHA256:
      return OneShot(EVP_sha256(), data);
    default:
      return "";
  }
}

// Strict base64: decodes, and the canonical (padded) encoding of the result
// is the input, so "AAAA" variants, whitespace and missing padding fail.
bool DecodeBase64(std::string_view b64, std::string* raw) {
  if (!absl::Base64Unescape(Av(b64), raw)) return false;
  return absl::Base64Escape(*raw) == b64;
}

bool DecodeDigest(std::string_view b64, size_t size, std::string* raw) {
  return DecodeBase64(b64, raw) && raw->size() == size;
}

}  // namespace

std::string Digest::EtagHex() const { return absl::BytesToHexString(md5); }

struct ContentHasher::State {
  EvpCtx md5;
  EvpCtx sha1;    // null unless requested
  EvpCtx sha256;  // null unless requested
  bool crc32 = false;
  bool crc32c = false;
  uint32_t crc32_value = 0;
  uint32_t crc32c_value = 0;
  bool finished = false;
};

ContentHasher::ContentHasher(std::vector<v1::ChecksumAlgorithm> extra)
    : state_(std::make_unique<State>()) {
  state_->md5 = NewCtx(EVP_md5());
  for (v1::ChecksumAlgorithm alg : extra) {
    switch (alg) {
      case v1::CHECKSUM_ALGORITHM_CRC32:
        state_->crc32 = true;
        break;
      case v1::CHECKSUM_ALGORITHM_CRC32C:
        state_->crc32c = true;
        break;
      case v1::CHECKSUM_ALGORITHM_SHA1:
        if (!state_->sha1) state_->sha1 = NewCtx(EVP_sha1());
        break;
      case v1::CHECKSUM_ALGORITHM_SHA256:
        if (!state_->sha256) state_->sha256 = NewCtx(EVP_sha256());
        break;
      default:
        break;
    }
  }
}

ContentHasher::~ContentHasher() = default;
ContentHasher::ContentHasher(ContentHasher&&) noexcept = default;
ContentHasher& ContentHasher::operator=(ContentHasher&&) noexcept = default;

void ContentHasher::Update(std::string_view data) {
  Check(state_ != nullptr && !state_->finished, "ContentHasher::Update after Finish");
  if (data.empty()) return;
  UpdateCtx(state_->md5.get(), data);
  if (state_->sha1) UpdateCtx(state_->sha1.get(), data);
  if (state_->sha256) UpdateCtx(state_->sha256.get(), data);
  if (state_->crc32) state_->crc32_value = Crc32(state_->crc32_value, data);
  if (state_->crc32c) state_->crc32c_value = Crc32c(state_->crc32c_value, data);
}

Digest ContentHasher::Finish() {
  Check(state_ != nullptr && !state_->finished, "ContentHasher::Finish twice");
  state_->finished = true;
  Digest d;
  d.md5 = FinishCtx(state_->md5.get());
  if (state_->crc32) d.checksums.set_crc32(absl::Base64Escape(BigEndian32(state_->crc32_value)));
  if (state_->crc32c) {
    d.checksums.set_crc32c(absl::Base64Escape(BigEndian32(state_->crc32c_value)));
  }
  if (state_->sha1) d.checksums.set_sha1(absl::Base64Escape(FinishCtx(state_->sha1.get())));
  if (state_->sha256) d.checksums.set_sha256(absl::Base64Escape(FinishCtx(state_->sha256.get())));
  return d;
}

absl::StatusOr<std::vector<v1::ChecksumAlgorithm>> ChecksumsToCompute(
    v1::ChecksumAlgorithm requested, const v1::Checksums& expected) {
  if (requested != v1::CHECKSUM_ALGORITHM_UNSPECIFIED && !IsKnown(requested)) {
    return s3::FieldError("checksum_algorithm", "InvalidArgument",
                          absl::StrCat("Unknown checksum algorithm ", static_cast<int>(requested)));
  }
  v1::ChecksumAlgorithm given = v1::CHECKSUM_ALGORITHM_UNSPECIFIED;
  for (v1::ChecksumAlgorithm alg : kChecksumAlgorithms) {
    if (ChecksumOf(expected, alg).empty()) continue;
    if (given != v1::CHECKSUM_ALGORITHM_UNSPECIFIED) {
      return s3::FieldError(
          "checksums", "InvalidRequest",
          "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.");
    }
    given = alg;
  }
  if (given != v1::CHECKSUM_ALGORITHM_UNSPECIFIED) {
    std::string raw;
    if (!DecodeDigest(ChecksumOf(expected, given), ChecksumSize(given), &raw)) {
      const std::string_view field = ChecksumFieldName(given);
      return s3::FieldError(absl::StrCat("checksums.", Av(field)), "InvalidRequest",
                            absl::StrCat("Value for x-amz-checksum-", Av(field), " header is invalid."));
    }
  }
  if (requested != v1::CHECKSUM_ALGORITHM_UNSPECIFIED &&
      given != v1::CHECKSUM_ALGORITHM_UNSPECIFIED && requested != given) {
    return s3::FieldError(
        "checksum_algorithm", "InvalidRequest",
        absl::StrCat("Value for x-amz-sdk-checksum-algorithm header is invalid: ",
                     Av(ChecksumName(requested)), " was requested but a ", Av(ChecksumName(given)),
                     " checksum was given."));
  }
  std::vector<v1::ChecksumAlgorithm> out;
  if (requested != v1::CHECKSUM_ALGORITHM_UNSPECIFIED) out.push_back(requested);
  if (given != v1::CHECKSUM_ALGORITHM_UNSPECIFIED && given != requested) out.push_back(given);
  return out;
}

absl::Status VerifyDigest(const Digest& d, std::string_view content_md5_b64,
                          const v1::Checksums& expected, std::string_view md5_field) {
  if (!content_md5_b64.empty()) {
    std::string raw;
    if (!DecodeDigest(content_md5_b64, 16, &raw)) {
      return s3::FieldError(md5_field, "InvalidDigest", "The Content-MD5 you specified is not valid.");
    }
    if (raw != d.md5) {
      return s3::FieldError(md5_field, "BadDigest",
                            "The Content-MD5 you specified did not match what we received.");
    }
  }
  for (v1::ChecksumAlgorithm alg : kChecksumAlgorithms) {
    const std::string want = ChecksumOf(expected, alg);
    if (want.empty()) continue;
    std::string want_raw;
    std::string have_raw;
    const std::string have = ChecksumOf(d.checksums, alg);
    if (have.empty() || !DecodeBase64(want, &want_raw) || !DecodeBase64(have, &have_raw) ||
        want_raw != have_raw) {
      return s3::FieldError(
          absl::StrCat("checksums.", Av(ChecksumFieldName(alg))), "BadDigest",
          absl::StrCat("The ", Av(ChecksumName(alg)),
                       " you specified did not match the calculated checksum."));
    }
  }
  return absl::OkStatus();
}

std::string QuoteEtag(std::string_view hex_or_hex_dash_n) {
  if (hex_or_hex_dash_n.size() >= 2 && hex_or_hex_dash_n.front() == '"' &&
      hex_or_hex_dash_n.back() == '"') {
    return std::string(hex_or_hex_dash_n);
  }
  return absl::StrCat("\"", Av(hex_or_hex_dash_n), "\"");
}

std::string UnquoteEtag(std::string_view etag) {
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') {
    etag.remove_prefix(1);
    etag.remove_suffix(1);
  }
  return std::string(etag);
}

std::string MultipartEtag(const std::vector<std::string>& part_md5_raw) {
  EvpCtx ctx = NewCtx(EVP_md5());
  for (const std::string& md5 : part_md5_raw) UpdateCtx(ctx.get(), md5);
  return absl::StrCat("\"", absl::BytesToHexString(FinishCtx(ctx.get())), "-",
                      part_md5_raw.size(), "\"");
}

absl::StatusOr<std::string> CompositeChecksum(
    v1::ChecksumAlgorithm alg, const std::vector<std::string>& part_checksums_b64) {
  if (!IsKnown(alg)) {
    return s3::FieldError("checksum_algorithm", "InvalidArgument",
                          "A composite checksum needs a checksum algorithm");
  }
  if (part_checksums_b64.empty()) {
    return s3::FieldError("parts", "InvalidRequest", "A multipart object has at least one part");
  }
  std::string concatenated;
  concatenated.reserve(part_checksums_b64.size() * ChecksumSize(alg));
  for (size_t i = 0; i < part_checksums_b64.size(); ++i) {
    std::string raw;
    if (!DecodeDigest(part_checksums_b64[i], ChecksumSize(alg), &raw)) {
      return s3::FieldError("parts", "InvalidPart",
                            absl::StrCat("The ", Av(ChecksumName(alg)), " checksum of part ", i + 1,
                                         " is not a valid ", Av(ChecksumName(alg)), " checksum."));
    }
    concatenated += raw;
  }
  return absl::StrCat(absl::Base64Escape(RawDigest(alg, concatenated)), "-",
                      part_checksums_b64.size());
}

std::string ChecksumOf(const v1::Checksums& c, v1::ChecksumAlgorithm alg) {
  switch (alg) {
    case v1::CHECKSUM_ALGORITHM_CRC32:
      return c.crc32();
    case v1::CHECKSUM_ALGORITHM_CRC32C:
      return c.crc32c();
    case v1::CHECKSUM_ALGORITHM_SHA1:
      return c.sha1();
    case v1::CHECKSUM_ALGORITHM_SHA256:
      return c.sha256();
    default:
      return "";
  }
}

void SetChecksum(v1::Checksums* c, v1::ChecksumAlgorithm alg, std::string value_b64) {
  switch (alg) {
    case v1::CHECKSUM_ALGORITHM_CRC32:
      c->set_crc32(std::move(value_b64));
      break;
    case v1::CHECKSUM_ALGORITHM_CRC32C:
      c->set_crc32c(std::move(value_b64));
      break;
    case v1::CHECKSUM_ALGORITHM_SHA1:
      c->set_sha1(std::move(value_b64));
      break;
    case v1::CHECKSUM_ALGORITHM_SHA256:
      c->set_sha256(std::move(value_b64));
      break;
    default:
      break;
  }
}

std::string_view ChecksumName(v1::ChecksumAlgorithm alg) {
  switch (alg) {
    case v1::CHECKSUM_ALGORITHM_CRC32:
      return "CRC32";
    case v1::CHECKSUM_ALGORITHM_CRC32C:
      return "CRC32C";
    case v1::CHECKSUM_ALGORITHM_SHA1:
      return "SHA1";
    case v1::CHECKSUM_ALGORITHM_SHA256:
      return "SHA256";
    default:
      return "";
  }
}

std::string_view ChecksumFieldName(v1::ChecksumAlgorithm alg) {
  switch (alg) {
    case v1::CHECKSUM_ALGORITHM_CRC32:
      return "crc32";
    case v1::CHECKSUM_ALGORITHM_CRC32C:
      return "crc32c";
    case v1::CHECKSUM_ALGORITHM_SHA1:
      return "sha1";
    case v1::CHECKSUM_ALGORITHM_SHA256:
      return "sha256";
    default:
      return "";
  }
}

size_t ChecksumSize(v1::ChecksumAlgorithm alg) {
  switch (alg) {
    case v1::CHECKSUM_ALGORITHM_CRC32:
    case v1::CHECKSUM_ALGORITHM_CRC32C:
      return 4;
    case v1::CHECKSUM_ALGORITHM_SHA1:
      return 20;
    case v1::CHECKSUM_ALGORITHM_SHA256:
      return 32;
    default:
      return 0;
  }
}

}  // namespace thingtank::objects
