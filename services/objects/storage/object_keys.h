#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace thingtank::objects::keys {

// Column families and key layouts of the objects service. Bucket names are
// length-prefixed (common/storage/key_codec.h) so no bucket's key space runs
// into another's; object keys are opaque bytes, never paths.
//
//   buckets   <bucket>                               BucketRecord
//   latest    lp(bucket) <key>                       VersionRecord (the key's newest)
//   versions  lp(bucket) esc(key) ~seq               VersionRecord
//   uploads   lp(bucket) esc(key) <upload id>        UploadRecord
//   parts     lp(upload id) part(be32)               PartRecord
//   blobs     <blob id>                              BlobRecord
//   outbox    seq(be64)                              OutboxRecord
//   default   "seq"                                  the last commit sequence number
//
// esc(key) escapes 0x00 as 00 ff and ends with 00 01, so that a key sorts
// before every longer key it is a prefix of, whatever bytes follow: the
// versions of "a" come before those of "a/b", and newest first within a key.
inline constexpr char kBuckets[] = "buckets";
inline constexpr char kLatest[] = "latest";
inline constexpr char kVersions[] = "versions";
inline constexpr char kUploads[] = "uploads";
inline constexpr char kParts[] = "parts";
inline constexpr char kBlobs[] = "blobs";
inline constexpr char kOutbox[] = "outbox";
inline constexpr char kSeqKey[] = "seq";

std::string BucketPrefix(std::string_view bucket);
std::string LatestKey(std::string_view bucket, std::string_view key);

// Appends esc(key) with (terminated) or without its terminator (a prefix of
// the escaped keys of every key starting with `key`).
void AppendEscaped(std::string* out, std::string_view key, bool terminated);
// Reads esc(key) from the front of `in` (consuming it); nullopt if malformed.
std::optional<std::string> ConsumeEscaped(std::string_view* in);

std::string VersionKey(std::string_view bucket, std::string_view key, uint64_t seq);
// Every version of one key.
std::string VersionsOfKey(std::string_view bucket, std::string_view key);
// Every version of every key starting with `key_prefix`.
std::string VersionsWithPrefix(std::string_view bucket, std::string_view key_prefix);
struct VersionKeyParts {
  std::string key;
  uint64_t seq;
};
// Parses a versions key given without its bucket prefix.
std::optional<VersionKeyParts> ParseVersionSuffix(std::string_view suffix);

std::string UploadKey(std::string_view bucket, std::string_view key, std::string_view upload_id);
std::string UploadsWithPrefix(std::string_view bucket, std::string_view key_prefix);
std::string PartsPrefix(std::string_view upload_id);
std::string PartKey(std::string_view upload_id, int32_t part_number);

std::string OutboxKey(uint64_t seq);

// Version ids: "null", or 32 hex characters: the commit seq (16) and 64
// random bits (16), so a lookup by id is one Get and a forged id is caught.
inline constexpr char kNullVersion[] = "null";
std::string MakeVersionId(uint64_t seq);
// The seq a non-null version id names; nullopt if it is not one of ours.
std::optional<uint64_t> SeqOfVersionId(std::string_view version_id);
// Upload ids have the same shape (sorting by creation within a key).
std::string MakeUploadId(uint64_t seq);

}  // namespace thingtank::objects::keys
