#pragma once

// The pure parts of `thingtank objects`: tt:// URLs, where a copy lands
// (local and remote target naming), turning a key into a safe local relative
// path, sizes such as 8MiB, and the content type guessed from a file name.
// No I/O and no RPCs here. Internal to tools/thingtank/cli.

#include <cstdint>
#include <optional>
#include <string>

namespace thingtank::cli::objects {

inline constexpr char kScheme[] = "tt://";

// An object or bucket address: tt://bucket/key (key may be empty).
struct S3Url {
  std::string bucket;
  std::string key;
};

// Whether `text` starts with tt://.
bool IsS3Url(const std::string& text);

// Parses tt://bucket[/key]. The key is everything after the first "/" after
// the bucket, byte for byte ("a//b", "../x" and a trailing "/" are kept: S3
// keys are not paths). False with `error` set when there is no tt:// or no
// bucket. The bucket's name rules are the server's to check.
bool ParseS3Url(const std::string& text, S3Url* out, std::string* error);

// tt://bucket/key (tt://bucket/ for an empty key).
std::string FormatS3Url(const S3Url& url);

// The last "/"-separated component of a key: "a/b/c.txt" -> "c.txt";
// "" for a key ending in "/".
std::string KeyBaseName(const std::string& key);

// The destination key of a copy whose source's base name is `base`: a
// destination key that is empty or ends in "/" takes the base name,
// otherwise it is the key itself.
std::string TargetKey(const std::string& dst_key, const std::string& base);

// The local destination of a download: a destination that ends in "/" or is
// an existing directory takes `base` (the key's base name) under it,
// otherwise it is the path itself.
std::string TargetPath(const std::string& dst, bool dst_is_directory, const std::string& base);

// A listing prefix as a folder: "" and "p/" stay, "p" becomes "p/".
std::string FolderPrefix(const std::string& prefix);

// Whether `key` is inside the folder `prefix` of a recursive command given
// `prefix` as typed: every key for an empty prefix or one ending in "/";
// otherwise the key equal to it (when `include_exact`) or under prefix + "/".
bool InFolder(const std::string& key, const std::string& prefix, bool include_exact);

// The local relative path ("/"-separated) that a key's part below the folder
// prefix becomes when written under a local directory. Refuses (false, with
// `error` naming the reason) anything that could leave that directory or is
// not a file name: an absolute path (leading "/"), a "." or ".." component,
// a NUL byte, or nothing left. Empty components ("a//b") collapse, as the
// file system would read them. A key ending in "/" (a folder marker) yields
// its directory with `*is_directory` set.
bool SafeRelativePath(const std::string& relative_key, std::string* out, bool* is_directory,
                      std::string* error);

// The key of a local file at `relative_path` ("/"-separated, from the walked
// folder) under the folder `prefix` (see FolderPrefix).
std::string KeyUnder(const std::string& prefix, const std::string& relative_path);

// Sizes: plain bytes, or a number with B, K/KB/KiB, M/MB/MiB, G/GB/GiB
// (powers of 1024 for all of them, as aws s3 reads them). Nullopt when
// malformed.
std::optional<int64_t> ParseSize(const std::string& text);

// The content type for a file name from its extension (common web, text,
// image, audio, video, archive and font types, case-insensitive), else
// application/octet-stream.
std::string GuessContentType(const std::string& path);

}  // namespace thingtank::cli::objects
