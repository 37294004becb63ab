#include "services/objects/notify/event_json.h"

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "nlohmann/json.hpp"
#include "services/common/string_views.h"
#include "services/objects/storage/object_keys.h"

namespace thingtank::objects::notify {
namespace {

constexpr std::string_view kS3Prefix = "s3:";
constexpr char kDefaultRegion[] = "us-east-1";
constexpr char kPrincipal[] = "thingtank";

std::string Hex16(uint64_t v) { return absl::StrFormat("%016X", v); }

}  // namespace

bool EventMatches(std::string_view configured, std::string_view event) {
  if (configured.substr(0, kS3Prefix.size()) != kS3Prefix) return false;
  configured.remove_prefix(kS3Prefix.size());
  if (configured.size() >= 2 && configured.substr(configured.size() - 2) == ":*") {
    std::string_view family = configured.substr(0, configured.size() - 1);  // "ObjectCreated:"
    return event.size() > family.size() && event.substr(0, family.size()) == family;
  }
  return configured == event;
}

bool ConfigurationMatches(const v1::NotificationConfiguration& configuration,
                          std::string_view event, std::string_view key) {
  if (!absl::StartsWith(Av(key), configuration.prefix()) ||
      !absl::EndsWith(Av(key), configuration.suffix())) {
    return false;
  }
  for (const std::string& e : configuration.events()) {
    if (EventMatches(e, event)) return true;
  }
  return false;
}

std::string EncodeKey(std::string_view key) {
  std::string out;
  out.reserve(key.size());
  for (char ch : key) {
    auto c = static_cast<unsigned char>(ch);
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '_' || c == '.' || c == '*' || c == '/') {
      out.push_back(ch);
    } else if (c == ' ') {
      out.push_back('+');
    } else {
      absl::StrAppendFormat(&out, "%%%02X", c);
    }
  }
  return out;
}

EventMessage MessageFor(const storage::BucketRecord& bucket,
                        const v1::NotificationConfiguration& configuration,
                        std::string_view event, const storage::VersionRecord& v, absl::Time time,
                        uint64_t sequence) {
  EventMessage m;
  m.region = bucket.region();
  m.bucket = bucket.name();
  m.configuration_id = configuration.id();
  m.event_name = std::string(event);
  m.time = time;
  m.key = v.key();
  if (absl::StartsWith(Av(event), "ObjectCreated:") && !v.delete_marker()) {
    m.size = v.size();
    m.etag = v.etag();
  }
  if (v.version_id() != keys::kNullVersion) m.version_id = v.version_id();
  m.sequence = sequence;
  return m;
}

std::string EventJson(const EventMessage& m) {
  using Json = nlohmann::ordered_json;
  const std::string request_id = Hex16(m.sequence);
  Json object = Json::object();
  object["key"] = EncodeKey(m.key);
  if (m.size) object["size"] = *m.size;
  if (!m.etag.empty()) object["eTag"] = m.etag;
  if (!m.version_id.empty()) object["versionId"] = m.version_id;
  object["sequencer"] = request_id;

  Json record = Json::object();
  record["eventVersion"] = "2.1";
  record["eventSource"] = "aws:s3";
  record["awsRegion"] = m.region.empty() ? kDefaultRegion : m.region;
  record["eventTime"] = absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", m.time, absl::UTCTimeZone());
  record["eventName"] = m.event_name;
  record["userIdentity"] = {{"principalId", kPrincipal}};
  record["requestParameters"] = {{"sourceIPAddress", "127.0.0.1"}};
  record["responseElements"] = {
      {"x-amz-request-id", request_id},
      {"x-amz-id-2", absl::Base64Escape(absl::StrCat("thingtank/", request_id))}};
  record["s3"] = {
      {"s3SchemaVersion", "1.0"},
      {"configurationId", m.configuration_id},
      {"bucket",
       {{"name", m.bucket},
        {"ownerIdentity", {{"principalId", kPrincipal}}},
        {"arn", absl::StrCat("arn:aws:s3:::", m.bucket)}}},
      {"object", std::move(object)}};
  Json out = Json::object();
  out["Records"] = Json::array({std::move(record)});
  // Keys are arbitrary bytes: never throw on invalid UTF-8 (it is %-encoded
  // anyway; names and ids are ours).
  return out.dump(-1, ' ', false, Json::error_handler_t::replace);
}

}  // namespace thingtank::objects::notify
