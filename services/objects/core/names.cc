#include "services/objects/core/names.h"

#include <algorithm>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "services/objects/core/s3_errors.h"
#include "services/common/string_views.h"

namespace thingtank::objects {
namespace {

constexpr size_t kMaxKeyBytes = 1024;
constexpr size_t kMaxMetadataBytes = 2048;
constexpr size_t kMaxTagKeyChars = 128;
constexpr size_t kMaxTagValueChars = 256;

absl::Status BadBucket(std::string_view rule) {
  return s3::FieldError("bucket", "InvalidBucketName",
                        absl::StrCat("The specified bucket is not valid: ", Av(rule)));
}

bool IsIpv4Form(std::string_view name) {
  std::vector<absl::string_view> groups = absl::StrSplit(Av(name), '.');
  if (groups.size() != 4) return false;
  for (absl::string_view g : groups) {
    if (g.empty() || !std::all_of(g.begin(), g.end(), absl::ascii_isdigit)) return false;
  }
  return true;
}

// RFC 9110 tchar.
bool IsTokenChar(char c) {
  return absl::ascii_isalnum(c) || std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

// ASCII controls other than tab (CR and LF among them), and DEL.
bool HasControl(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return (u < 0x20 && u != '\t') || u == 0x7f;
  });
}

template <typename MapT>
std::vector<const typename MapT::value_type*> SortedEntries(const MapT& map) {
  std::vector<const typename MapT::value_type*> entries;
  entries.reserve(map.size());
  for (const auto& entry : map) entries.push_back(&entry);
  std::sort(entries.begin(), entries.end(),
            [](const auto* a, const auto* b) { return a->first < b->first; });
  return entries;
}

}  // namespace

bool IsValidUtf8(std::string_view s, size_t* code_points) {
  size_t count = 0;
  size_t i = 0;
  while (i < s.size()) {
    const auto b0 = static_cast<unsigned char>(s[i]);
    size_t len;
    uint32_t cp;
    if (b0 < 0x80) {
      len = 1;
      cp = b0;
    } else if (b0 >= 0xc2 && b0 <= 0xdf) {
      len = 2;
      cp = b0 & 0x1f;
    } else if (b0 >= 0xe0 && b0 <= 0xef) {
      len = 3;
      cp = b0 & 0x0f;
    } else if (b0 >= 0xf0 && b0 <= 0xf4) {
      len = 4;
      cp = b0 & 0x07;
    } else {
      return false;  // continuation byte, 0xc0/0xc1 (overlong) or > 0xf4
    }
    if (s.size() - i < len) return false;
    for (size_t k = 1; k < len; ++k) {
      const auto b = static_cast<unsigned char>(s[i + k]);
      if ((b & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (b & 0x3f);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff)) {
      return false;  // overlong, beyond Unicode, or a surrogate
    }
    i += len;
    ++count;
  }
  if (code_points != nullptr) *code_points = count;
  return true;
}

absl::Status ValidateBucketName(std::string_view name) {
  if (name.size() < 3 || name.size() > 63) {
    return BadBucket("bucket names must be between 3 and 63 characters long");
  }
  for (char c : name) {
    if (!(absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '.' || c == '-')) {
      return BadBucket(
          "bucket names can consist only of lowercase letters, numbers, dots and hyphens");
    }
  }
  if (!absl::ascii_isalnum(name.front()) || !absl::ascii_isalnum(name.back())) {
    return BadBucket("bucket names must begin and end with a letter or number");
  }
  if (name.find("..") != std::string_view::npos) {
    return BadBucket("bucket names must not contain two adjacent periods");
  }
  if (IsIpv4Form(name)) {
    return BadBucket("bucket names must not be formatted as an IP address");
  }
  for (std::string_view prefix : {"xn--", "sthree-", "amzn-s3-demo-"}) {
    if (absl::StartsWith(Av(name), Av(prefix))) {
      return BadBucket(absl::StrCat("bucket names must not start with the prefix ", Av(prefix)));
    }
  }
  for (std::string_view suffix : {"-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"}) {
    if (absl::EndsWith(Av(name), Av(suffix))) {
      return BadBucket(absl::StrCat("bucket names must not end with the suffix ", Av(suffix)));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateKey(std::string_view key, std::string_view field) {
  if (key.empty()) {
    return s3::FieldError(field, "InvalidArgument", "The key must not be empty");
  }
  if (key.size() > kMaxKeyBytes) {
    return s3::FieldError(field, "KeyTooLongError",
                          absl::StrCat("Your key is too long: ", key.size(),
                                       " bytes, at most 1024 are allowed"));
  }
  if (!IsValidUtf8(key)) {
    return s3::FieldError(field, "InvalidArgument", "The key must be valid UTF-8");
  }
  return absl::OkStatus();
}

absl::Status ValidateUserMetadata(const google::protobuf::Map<std::string, std::string>& metadata) {
  constexpr std::string_view kField = "headers.metadata";
  size_t total = 0;
  for (const auto* entry : SortedEntries(metadata)) {
    const std::string& name = entry->first;
    const std::string& value = entry->second;
    if (name.empty()) {
      return s3::FieldError(kField, "InvalidArgument", "A metadata name must not be empty");
    }
    if (!std::all_of(name.begin(), name.end(), IsTokenChar)) {
      return s3::FieldError(kField, "InvalidArgument",
                            absl::StrCat("The metadata name \"", absl::CHexEscape(name),
                                         "\" is not a valid HTTP header name"));
    }
    if (std::any_of(name.begin(), name.end(), absl::ascii_isupper)) {
      return s3::FieldError(kField, "InvalidArgument",
                            absl::StrCat("The metadata name \"", name, "\" must be lowercase"));
    }
    if (HasControl(value) || !IsValidUtf8(value)) {
      return s3::FieldError(kField, "InvalidArgument",
                            absl::StrCat("The value of metadata \"", name,
                                         "\" must be UTF-8 without control characters"));
    }
    total += name.size() + value.size();
  }
  if (total > kMaxMetadataBytes) {
    return s3::FieldError(kField, "MetadataTooLarge",
                          absl::StrCat("Your metadata headers exceed the maximum allowed metadata "
                                       "size: ",
                                       total, " bytes, at most 2048"));
  }
  return absl::OkStatus();
}

absl::Status ValidateTags(const google::protobuf::Map<std::string, std::string>& tags,
                          size_t max_tags, std::string_view field) {
  if (tags.size() > max_tags) {
    return s3::FieldError(
        field, "InvalidTag",
        max_tags == 10 ? std::string("Object tags cannot be greater than 10")
                       : absl::StrCat("Bucket tag count cannot be greater than ", max_tags));
  }
  for (const auto* entry : SortedEntries(tags)) {
    const std::string& key = entry->first;
    const std::string& value = entry->second;
    size_t key_chars = 0;
    if (!IsValidUtf8(key, &key_chars) || HasControl(key)) {
      return s3::FieldError(field, "InvalidTag", "The TagKey you have provided is invalid");
    }
    if (key_chars == 0) {
      return s3::FieldError(field, "InvalidTag", "The TagKey you have provided is empty");
    }
    if (key_chars > kMaxTagKeyChars) {
      return s3::FieldError(field, "InvalidTag",
                            "The TagKey you have provided is too long, max 128");
    }
    if (absl::StartsWithIgnoreCase(key, "aws:")) {
      return s3::FieldError(field, "InvalidTag", "Your TagKey cannot be prefixed with aws:");
    }
    size_t value_chars = 0;
    if (!IsValidUtf8(value, &value_chars) || HasControl(value)) {
      return s3::FieldError(field, "InvalidTag", "The TagValue you have provided is invalid");
    }
    if (value_chars > kMaxTagValueChars) {
      return s3::FieldError(field, "InvalidTag",
                            "The TagValue you have provided is too long, max 256");
    }
  }
  return absl::OkStatus();
}

}  // namespace thingtank::objects
