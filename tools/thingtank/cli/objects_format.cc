#include "tools/thingtank/cli/objects_format.h"

#include <cstdio>

#include "absl/strings/str_join.h"
#include "absl/time/time.h"

namespace thingtank::cli::objects {
namespace {

namespace v1 = thingtank::objects::v1;

std::string Or(const std::string& text) { return text.empty() ? "-" : text; }

std::string Padded(const std::string& text, size_t width) {
  return text.size() >= width ? text : std::string(width - text.size(), ' ') + text;
}

std::string ChecksumLines(const v1::Checksums& c) {
  std::string lines;
  const std::pair<const char*, const std::string*> kAll[] = {
      {"CRC32", &c.crc32()}, {"CRC32C", &c.crc32c()}, {"SHA1", &c.sha1()}, {"SHA256", &c.sha256()}};
  for (const auto& [name, value] : kAll) {
    if (!value->empty()) lines += std::string("checksum ") + name + ": " + *value + "\n";
  }
  return lines;
}

}  // namespace

std::string FormatListTime(const google::protobuf::Timestamp& ts) {
  if (ts.seconds() == 0 && ts.nanos() == 0) return "-";
  const absl::Time t = absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos());
  return absl::FormatTime("%Y-%m-%d %H:%M:%S", t, absl::UTCTimeZone());
}

std::string BucketLine(const v1::Bucket& bucket) {
  return FormatListTime(bucket.creation_date()) + " " + bucket.name();
}

std::string ObjectLine(const v1::ObjectInfo& info, const std::string& name) {
  return FormatListTime(info.last_modified()) + " " + Padded(std::to_string(info.size()), 10) +
         " " + name;
}

std::string PrefixLine(const std::string& name) { return std::string(27, ' ') + "PRE " + name; }

std::string VersionLine(const v1::ObjectInfo& info) {
  const std::string size = info.delete_marker() ? "DELETE-MARKER" : std::to_string(info.size());
  return FormatListTime(info.last_modified()) + " " + Padded(size, 13) + " " +
         Or(info.version_id()) + " " + (info.is_latest() ? "latest" : "-") + " " + info.key();
}

void PrintObjectInfo(const v1::HeadObjectResponse& response, std::ostream& os) {
  const v1::ObjectInfo& info = response.info();
  const v1::ObjectHeaders& h = info.headers();
  os << "key: " << info.key() << "\n"
     << "size: " << info.size() << "\n"
     << "etag: " << info.etag() << "\n"
     << "content type: " << Or(h.content_type()) << "\n"
     << "last modified: " << FormatListTime(info.last_modified()) << "\n"
     << "version id: " << Or(info.version_id()) << "\n"
     << "storage class: " << Or(info.storage_class()) << "\n"
     << "parts: " << info.parts_count() << "\n";
  const std::pair<const char*, const std::string*> kHeaders[] = {
      {"content encoding", &h.content_encoding()},
      {"cache control", &h.cache_control()},
      {"content disposition", &h.content_disposition()},
      {"content language", &h.content_language()}};
  for (const auto& [name, value] : kHeaders) {
    if (!value->empty()) os << name << ": " << *value << "\n";
  }
  if (!response.content_range().empty())
    os << "content range: " << response.content_range() << "\n";
  if (info.tag_count() > 0) os << "tags: " << info.tag_count() << "\n";
  const std::map<std::string, std::string> metadata(h.metadata().begin(), h.metadata().end());
  for (const auto& [name, value] : metadata) os << "metadata " << name << ": " << value << "\n";
  os << ChecksumLines(info.checksums());
}

std::string VersioningName(v1::VersioningStatus status) {
  switch (status) {
    case v1::VERSIONING_STATUS_ENABLED:
      return "Enabled";
    case v1::VERSIONING_STATUS_SUSPENDED:
      return "Suspended";
    default:
      return "not enabled (never versioned)";
  }
}

void PrintLifecycleRules(const google::protobuf::RepeatedPtrField<v1::LifecycleRule>& rules,
                         std::ostream& os) {
  for (const v1::LifecycleRule& rule : rules) {
    os << "rule " << Or(rule.id()) << ": "
       << (rule.status() == v1::LIFECYCLE_RULE_STATUS_ENABLED ? "Enabled" : "Disabled") << "\n";
    os << "  filter: prefix \"" << rule.filter().prefix() << "\"";
    const std::map<std::string, std::string> tags(rule.filter().tags().begin(),
                                                  rule.filter().tags().end());
    for (const auto& [k, v] : tags) os << " tag " << k << "=" << v;
    os << "\n";
    const v1::LifecycleExpiration& e = rule.expiration();
    if (e.days() > 0) os << "  expire current versions after " << e.days() << " days\n";
    if (e.has_date()) os << "  expire current versions from " << FormatListTime(e.date()) << "\n";
    if (e.expired_object_delete_marker()) os << "  remove expired delete markers\n";
    const v1::NoncurrentVersionExpiration& n = rule.noncurrent_version_expiration();
    if (n.noncurrent_days() > 0) {
      os << "  expire noncurrent versions after " << n.noncurrent_days() << " days";
      if (n.newer_noncurrent_versions() > 0) {
        os << " (keeping the " << n.newer_noncurrent_versions() << " newest)";
      }
      os << "\n";
    }
    if (rule.abort_incomplete_multipart_upload().days_after_initiation() > 0) {
      os << "  abort incomplete multipart uploads after "
         << rule.abort_incomplete_multipart_upload().days_after_initiation() << " days\n";
    }
  }
}

void PrintNotifications(
    const google::protobuf::RepeatedPtrField<v1::NotificationConfiguration>& configurations,
    std::ostream& os) {
  if (configurations.empty()) {
    os << "no notifications\n";
    return;
  }
  for (const v1::NotificationConfiguration& c : configurations) {
    os << Or(c.id()) << " " << c.destination_arn() << " "
       << absl::StrJoin(c.events().begin(), c.events().end(), ",");
    if (!c.prefix().empty()) os << " prefix=" << c.prefix();
    if (!c.suffix().empty()) os << " suffix=" << c.suffix();
    os << "\n";
  }
}

void PrintTags(const google::protobuf::Map<std::string, std::string>& tags, std::ostream& os) {
  const std::map<std::string, std::string> sorted(tags.begin(), tags.end());
  if (sorted.empty()) os << "no tags\n";
  for (const auto& [k, v] : sorted) os << k << "=" << v << "\n";
}

}  // namespace thingtank::cli::objects
