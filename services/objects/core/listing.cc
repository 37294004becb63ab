#include "services/objects/core/listing.h"

#include <cstdint>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "services/objects/core/s3_errors.h"
#include "services/common/string_views.h"

namespace thingtank::objects {
namespace {

constexpr char kTokenVersion = 1;
constexpr int kMaxVarintBytes = 5;  // lengths fit in 32 bits

void PutPart(std::string* out, std::string_view part) {
  uint64_t n = part.size();
  while (n >= 0x80) {
    out->push_back(static_cast<char>((n & 0x7f) | 0x80));
    n >>= 7;
  }
  out->push_back(static_cast<char>(n));
  out->append(part);
}

bool GetPart(std::string_view* in, std::string* part) {
  uint64_t n = 0;
  for (int i = 0;; ++i) {
    if (in->empty() || i == kMaxVarintBytes) return false;
    const auto b = static_cast<unsigned char>(in->front());
    in->remove_prefix(1);
    n |= static_cast<uint64_t>(b & 0x7f) << (7 * i);
    if ((b & 0x80) == 0) break;
  }
  if (n > in->size()) return false;
  part->assign(in->data(), n);
  in->remove_prefix(n);
  return true;
}

}  // namespace

std::optional<std::string> RolledUpPrefix(std::string_view key, std::string_view prefix,
                                          std::string_view delimiter) {
  if (delimiter.empty() || !absl::StartsWith(Av(key), Av(prefix))) return std::nullopt;
  const size_t at = key.find(delimiter, prefix.size());
  if (at == std::string_view::npos) return std::nullopt;
  return std::string(key.substr(0, at + delimiter.size()));
}

std::string EncodeListToken(std::string_view last_key, std::string_view last_version) {
  std::string raw(1, kTokenVersion);
  PutPart(&raw, last_key);
  PutPart(&raw, last_version);
  return absl::WebSafeBase64Escape(raw);
}

absl::StatusOr<std::pair<std::string, std::string>> DecodeListToken(std::string_view token,
                                                                     std::string_view field) {
  const auto bad = [field] {
    return s3::FieldError(field, "InvalidArgument", "The continuation token provided is incorrect");
  };
  std::string raw;
  // Only the canonical encoding: no padding, no stray characters.
  if (token.empty() || !absl::WebSafeBase64Unescape(Av(token), &raw) ||
      absl::WebSafeBase64Escape(raw) != token) {
    return bad();
  }
  std::string_view in = raw;
  if (in.empty() || in.front() != kTokenVersion) return bad();
  in.remove_prefix(1);
  std::pair<std::string, std::string> out;
  if (!GetPart(&in, &out.first) || !GetPart(&in, &out.second) || !in.empty()) return bad();
  return out;
}

}  // namespace thingtank::objects
