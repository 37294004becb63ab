#include "services/streams/core/shard_iterator.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cstdint>
#include <cstdlib>

#include "absl/strings/escaping.h"
#include "services/streams/core/kinesis_errors.h"
#include "services/streams/core/sequence_number.h"
#include "services/common/string_views.h"

namespace thingtank::streams {
namespace {

constexpr char kVersion = 1;
constexpr size_t kMaxNameLength = 128;
constexpr size_t kMaxSequenceDigits = 129;
constexpr size_t kMacSize = 32;
constexpr int kMaxVarintBytes = 2; // every length here is under 2^14

void PutVarint(std::string *out, uint64_t n) {
  while (n >= 0x80) {
    out->push_back(static_cast<char>((n & 0x7f) | 0x80));
    n >>= 7;
  }
  out->push_back(static_cast<char>(n));
}

bool GetVarint(std::string_view *in, uint64_t *n) {
  *n = 0;
  for (int i = 0;; ++i) {
    if (in->empty() || i == kMaxVarintBytes)
      return false;
    const auto b = static_cast<unsigned char>(in->front());
    in->remove_prefix(1);
    *n |= static_cast<uint64_t>(b & 0x7f) << (7 * i);
    if ((b & 0x80) == 0)
      return true;
  }
}

bool GetPart(std::string_view *in, std::string *part) {
  uint64_t n = 0;
  if (!GetVarint(in, &n) || n > in->size())
    return false;
  part->assign(in->data(), n);
  in->remove_prefix(n);
  return true;
}

void PutDigits(std::string *out, std::string_view digits) {
  PutVarint(out, digits.size());
  for (size_t i = 0; i < digits.size(); i += 2) {
    const int hi = digits[i] - '0';
    const int lo = i + 1 < digits.size() ? digits[i + 1] - '0' : 0xF;
    out->push_back(static_cast<char>((hi << 4) | lo));
  }
}

bool GetDigits(std::string_view *in, std::string *digits) {
  uint64_t n = 0;
  if (!GetVarint(in, &n) || n > kMaxSequenceDigits || (n + 1) / 2 > in->size())
    return false;
  digits->clear();
  for (uint64_t i = 0; i < n; i += 2) {
    const auto b = static_cast<unsigned char>((*in)[i / 2]);
    const int hi = b >> 4;
    const int lo = b & 0xF;
    if (hi > 9)
      return false;
    digits->push_back(static_cast<char>('0' + hi));
    if (i + 1 < n) {
      if (lo > 9)
        return false;
      digits->push_back(static_cast<char>('0' + lo));
    } else if (lo != 0xF) {
      return false; // only the canonical padding
    }
  }
  in->remove_prefix((n + 1) / 2);
  return true;
}

std::string Mac(std::string_view key, std::string_view data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  // An OpenSSL failure means a broken installation, not bad input.
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char *>(data.data()), data.size(),
           mac, &size) == nullptr ||
      size != kMacSize) {
    std::abort();
  }
  return std::string(reinterpret_cast<const char *>(mac), size);
}

} // namespace

std::string EncodeShardIterator(const ShardIterator &it, std::string_view key) {
  if (it.stream_name.empty() || it.stream_name.size() > kMaxNameLength ||
      it.shard_id.empty() || it.shard_id.size() > kMaxNameLength ||
      (!it.sequence_number.empty() &&
       !ValidateSequenceNumber(it.sequence_number, "sequence_number").ok())) {
    std::abort(); // the service validated these before issuing
  }
  std::string raw(1, kVersion);
  PutVarint(&raw, it.stream_name.size());
  raw.append(it.stream_name);
  PutVarint(&raw, it.shard_id.size());
  raw.append(it.shard_id);
  raw.push_back(it.after ? 1 : 0);
  PutDigits(&raw, it.sequence_number);
  const auto micros = static_cast<uint64_t>(absl::ToUnixMicros(it.issued_at));
  for (int shift = 56; shift >= 0; shift -= 8) {
    raw.push_back(static_cast<char>((micros >> shift) & 0xff));
  }
  raw.append(Mac(key, raw));
  return absl::WebSafeBase64Escape(raw);
}

absl::StatusOr<ShardIterator> DecodeShardIterator(std::string_view token,
                                                  std::string_view key,
                                                  absl::Time now) {
  const auto bad = [] {
    return FieldError("shard_iterator", "InvalidArgumentException",
                      "Invalid ShardIterator");
  };
  std::string raw;
  // Only the canonical encoding: no padding, no stray characters.
  if (token.empty() || token.size() > kMaxShardIteratorLength ||
      !absl::WebSafeBase64Unescape(Av(token), &raw) ||
      absl::WebSafeBase64Escape(raw) != token || raw.size() < 1 + kMacSize) {
    return bad();
  }
  const std::string_view signed_part =
      std::string_view(raw).substr(0, raw.size() - kMacSize);
  const std::string want = Mac(key, signed_part);
  if (CRYPTO_memcmp(want.data(), raw.data() + signed_part.size(), kMacSize) !=
      0)
    return bad();

  std::string_view in = signed_part;
  if (in.front() != kVersion)
    return bad();
  in.remove_prefix(1);
  ShardIterator it;
  if (!GetPart(&in, &it.stream_name) || !GetPart(&in, &it.shard_id) ||
      in.empty() || static_cast<unsigned char>(in.front()) > 1) {
    return bad();
  }
  it.after = in.front() == 1;
  in.remove_prefix(1);
  if (!GetDigits(&in, &it.sequence_number) || in.size() != 8)
    return bad();
  uint64_t micros = 0;
  for (char c : in)
    micros = (micros << 8) | static_cast<unsigned char>(c);
  it.issued_at = absl::FromUnixMicros(static_cast<int64_t>(micros));

  if (now - it.issued_at > kShardIteratorLifetime) {
    return Error("ExpiredIteratorException", "Iterator expired");
  }
  return it;
}

} // namespace thingtank::streams
