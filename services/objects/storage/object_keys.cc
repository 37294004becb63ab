#include "services/objects/storage/object_keys.h"

#include "absl/random/random.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "services/common/storage/key_codec.h"

namespace thingtank::objects::keys {
namespace {

std::string WithBucket(std::string_view bucket) {
  std::string out;
  thingtank::keys::AppendResource(&out, bucket);
  return out;
}

std::string RandomIdWithSeq(uint64_t seq) {
  static absl::Mutex* mu = new absl::Mutex;
  static absl::BitGen* gen = new absl::BitGen;
  uint64_t salt;
  {
    absl::MutexLock lock(mu);
    salt = absl::Uniform<uint64_t>(*gen);
  }
  return absl::StrFormat("%016x%016x", seq, salt);
}

}  // namespace

std::string BucketPrefix(std::string_view bucket) { return WithBucket(bucket); }

std::string LatestKey(std::string_view bucket, std::string_view key) {
  std::string out = WithBucket(bucket);
  out.append(key);
  return out;
}

void AppendEscaped(std::string* out, std::string_view key, bool terminated) {
  for (char c : key) {
    out->push_back(c);
    if (c == '\0') out->push_back('\xff');
  }
  if (terminated) {
    out->push_back('\0');
    out->push_back('\x01');
  }
}

std::optional<std::string> ConsumeEscaped(std::string_view* in) {
  std::string key;
  for (size_t i = 0; i < in->size(); ++i) {
    char c = (*in)[i];
    if (c != '\0') {
      key.push_back(c);
      continue;
    }
    if (i + 1 >= in->size()) return std::nullopt;
    char next = (*in)[i + 1];
    if (next == '\x01') {
      in->remove_prefix(i + 2);
      return key;
    }
    if (next != '\xff') return std::nullopt;
    key.push_back('\0');
    ++i;
  }
  return std::nullopt;
}

std::string VersionKey(std::string_view bucket, std::string_view key, uint64_t seq) {
  std::string out = VersionsOfKey(bucket, key);
  thingtank::keys::AppendUint64(&out, ~seq);
  return out;
}

std::string VersionsOfKey(std::string_view bucket, std::string_view key) {
  std::string out = WithBucket(bucket);
  AppendEscaped(&out, key, /*terminated=*/true);
  return out;
}

std::string VersionsWithPrefix(std::string_view bucket, std::string_view key_prefix) {
  std::string out = WithBucket(bucket);
  AppendEscaped(&out, key_prefix, /*terminated=*/false);
  return out;
}

std::optional<VersionKeyParts> ParseVersionSuffix(std::string_view suffix) {
  std::optional<std::string> key = ConsumeEscaped(&suffix);
  if (!key) return std::nullopt;
  std::optional<uint64_t> inverted = thingtank::keys::ConsumeUint64(&suffix);
  if (!inverted || !suffix.empty()) return std::nullopt;
  return VersionKeyParts{*std::move(key), ~*inverted};
}

std::string UploadKey(std::string_view bucket, std::string_view key, std::string_view upload_id) {
  std::string out = VersionsOfKey(bucket, key);
  out.append(upload_id);
  return out;
}

std::string UploadsWithPrefix(std::string_view bucket, std::string_view key_prefix) {
  return VersionsWithPrefix(bucket, key_prefix);
}

std::string PartsPrefix(std::string_view upload_id) { return WithBucket(upload_id); }

std::string PartKey(std::string_view upload_id, int32_t part_number) {
  std::string out = PartsPrefix(upload_id);
  uint32_t n = static_cast<uint32_t>(part_number);
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((n >> shift) & 0xff));
  return out;
}

std::string OutboxKey(uint64_t seq) {
  std::string out;
  thingtank::keys::AppendUint64(&out, seq);
  return out;
}

std::string MakeVersionId(uint64_t seq) { return RandomIdWithSeq(seq); }
std::string MakeUploadId(uint64_t seq) { return RandomIdWithSeq(seq); }

std::optional<uint64_t> SeqOfVersionId(std::string_view version_id) {
  if (version_id.size() != 32) return std::nullopt;
  for (char c : version_id) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return std::nullopt;
  }
  uint64_t seq = 0;
  if (!absl::SimpleHexAtoi(absl::string_view(version_id.data(), 16), &seq)) return std::nullopt;
  return seq;
}

}  // namespace thingtank::objects::keys
