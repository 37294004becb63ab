#include "tools/thingtank/cli/objects_paths.h"

#include <cctype>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <vector>

namespace thingtank::cli::objects {

bool IsS3Url(const std::string& text) { return text.rfind(kScheme, 0) == 0; }

bool ParseS3Url(const std::string& text, S3Url* out, std::string* error) {
  if (!IsS3Url(text)) {
    *error = "\"" + text + "\" is not a tt://bucket[/key] URL";
    return false;
  }
  const std::string rest = text.substr(std::strlen(kScheme));
  const size_t slash = rest.find('/');
  out->bucket = rest.substr(0, slash);
  out->key = slash == std::string::npos ? "" : rest.substr(slash + 1);
  if (out->bucket.empty()) {
    *error = "\"" + text + "\" names no bucket (tt://bucket[/key])";
    return false;
  }
  return true;
}

std::string FormatS3Url(const S3Url& url) { return kScheme + url.bucket + "/" + url.key; }

std::string KeyBaseName(const std::string& key) {
  const size_t slash = key.rfind('/');
  return slash == std::string::npos ? key : key.substr(slash + 1);
}

std::string TargetKey(const std::string& dst_key, const std::string& base) {
  if (dst_key.empty() || dst_key.back() == '/') return dst_key + base;
  return dst_key;
}

std::string TargetPath(const std::string& dst, bool dst_is_directory, const std::string& base) {
  if (!dst.empty() && dst.back() == '/') return dst + base;
  if (dst_is_directory) return dst + "/" + base;
  return dst;
}

std::string FolderPrefix(const std::string& prefix) {
  if (prefix.empty() || prefix.back() == '/') return prefix;
  return prefix + "/";
}

bool InFolder(const std::string& key, const std::string& prefix, bool include_exact) {
  if (prefix.empty() || prefix.back() == '/') return key.rfind(prefix, 0) == 0;
  if (key == prefix) return include_exact;
  return key.rfind(prefix + "/", 0) == 0;
}

bool SafeRelativePath(const std::string& relative_key, std::string* out, bool* is_directory,
                      std::string* error) {
  if (relative_key.find('\0') != std::string::npos) {
    *error = "the key contains a NUL byte";
    return false;
  }
  if (!relative_key.empty() && relative_key.front() == '/') {
    *error = "the key would be an absolute local path";
    return false;
  }
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= relative_key.size()) {
    size_t end = relative_key.find('/', start);
    if (end == std::string::npos) end = relative_key.size();
    const std::string part = relative_key.substr(start, end - start);
    if (part == "." || part == "..") {
      *error = "the key has a \"" + part + "\" path component";
      return false;
    }
    if (!part.empty()) parts.push_back(part);
    start = end + 1;
  }
  if (parts.empty()) {
    *error = "the key names no file below the prefix";
    return false;
  }
  out->clear();
  for (const std::string& part : parts) {
    if (!out->empty()) *out += "/";
    *out += part;
  }
  *is_directory = relative_key.back() == '/';
  return true;
}

std::string KeyUnder(const std::string& prefix, const std::string& relative_path) {
  return FolderPrefix(prefix) + relative_path;
}

std::optional<int64_t> ParseSize(const std::string& text) {
  size_t pos = 0;
  while (pos < text.size() &&
         (std::isdigit(static_cast<unsigned char>(text[pos])) || text[pos] == '.')) {
    ++pos;
  }
  const std::string number = text.substr(0, pos);
  if (number.empty() || number == "." || number.find('.') != number.rfind('.')) {
    return std::nullopt;
  }
  std::string unit;
  for (char ch : text.substr(pos))
    unit += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  static const std::map<std::string, int64_t> kUnits = {
      {"", 1},           {"b", 1},           {"k", 1LL << 10},
      {"kb", 1LL << 10}, {"kib", 1LL << 10}, {"m", 1LL << 20},
      {"mb", 1LL << 20}, {"mib", 1LL << 20}, {"g", 1LL << 30},
      {"gb", 1LL << 30}, {"gib", 1LL << 30}, {"t", 1LL << 40},
      {"tb", 1LL << 40}, {"tib", 1LL << 40}};
  const auto it = kUnits.find(unit);
  if (it == kUnits.end()) return std::nullopt;
  const double value = std::stod(number) * static_cast<double>(it->second);
  if (!std::isfinite(value) ||
      value > static_cast<double>(std::numeric_limits<int64_t>::max() / 2)) {
    return std::nullopt;
  }
  return static_cast<int64_t>(value);
}

std::string GuessContentType(const std::string& path) {
  static const std::map<std::string, std::string> kTypes = {
      {"html", "text/html"},
      {"htm", "text/html"},
      {"css", "text/css"},
      {"js", "text/javascript"},
      {"mjs", "text/javascript"},
      {"json", "application/json"},
      {"txt", "text/plain"},
      {"text", "text/plain"},
      {"log", "text/plain"},
      {"md", "text/markdown"},
      {"csv", "text/csv"},
      {"tsv", "text/tab-separated-values"},
      {"xml", "application/xml"},
      {"yaml", "application/yaml"},
      {"yml", "application/yaml"},
      {"pdf", "application/pdf"},
      {"wasm", "application/wasm"},
      {"zip", "application/zip"},
      {"gz", "application/gzip"},
      {"tgz", "application/gzip"},
      {"tar", "application/x-tar"},
      {"bz2", "application/x-bzip2"},
      {"xz", "application/x-xz"},
      {"7z", "application/x-7z-compressed"},
      {"png", "image/png"},
      {"jpg", "image/jpeg"},
      {"jpeg", "image/jpeg"},
      {"gif", "image/gif"},
      {"webp", "image/webp"},
      {"svg", "image/svg+xml"},
      {"ico", "image/vnd.microsoft.icon"},
      {"bmp", "image/bmp"},
      {"tif", "image/tiff"},
      {"tiff", "image/tiff"},
      {"avif", "image/avif"},
      {"mp3", "audio/mpeg"},
      {"wav", "audio/wav"},
      {"ogg", "audio/ogg"},
      {"flac", "audio/flac"},
      {"mp4", "video/mp4"},
      {"webm", "video/webm"},
      {"mov", "video/quicktime"},
      {"avi", "video/x-msvideo"},
      {"woff", "font/woff"},
      {"woff2", "font/woff2"},
      {"ttf", "font/ttf"},
      {"otf", "font/otf"},
  };
  const std::string name = KeyBaseName(path);
  const size_t dot = name.rfind('.');
  if (dot == std::string::npos || dot == 0) return "application/octet-stream";
  std::string ext;
  for (char ch : name.substr(dot + 1))
    ext += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  const auto it = kTypes.find(ext);
  return it == kTypes.end() ? "application/octet-stream" : it->second;
}

}  // namespace thingtank::cli::objects
