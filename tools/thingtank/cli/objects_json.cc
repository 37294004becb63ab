#include "tools/thingtank/cli/objects_json.h"

#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>

namespace thingtank::cli::objects {
namespace {

namespace v1 = thingtank::objects::v1;
using nlohmann::json;

std::string Lower(std::string text) {
  for (char& ch : text) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return text;
}

// Parses `text` as a document whose one member is `list` ("rules") or the
// bare array, and returns the request's JSON ({"rules": [...]}) in `*doc`.
bool ReadDocument(const std::string& text, const std::string& list, json* doc, std::string* error) {
  json parsed = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) {
    *error = "not JSON";
    return false;
  }
  if (parsed.is_array()) parsed = json{{list, parsed}};
  if (!parsed.is_object()) {
    *error = "expected an object {\"" + list + "\": [...]} or an array";
    return false;
  }
  for (const auto& [name, value] : parsed.items()) {
    if (Lower(name) == "bucket") {
      *error = "the bucket comes from the tt:// URL, not the file";
      return false;
    }
    if (Lower(name) != list) {
      *error = "unknown member \"" + name + "\" (expected \"" + list + "\")";
      return false;
    }
  }
  *doc = json::object();
  for (const auto& [name, value] : parsed.items()) (*doc)[list] = value;
  if (!doc->contains(list) || !(*doc)[list].is_array()) {
    *error = "\"" + list + "\" must be an array";
    return false;
  }
  return true;
}

bool ToMessage(const json& doc, google::protobuf::Message* out, std::string* error) {
  out->Clear();
  const auto status = google::protobuf::util::JsonStringToMessage(doc.dump(), out);
  if (!status.ok()) {
    std::string message(status.message());
    *error = message.substr(0, message.find('\n'));
    return false;
  }
  return true;
}

}  // namespace

bool ParseLifecycleJson(const std::string& text, v1::PutBucketLifecycleConfigurationRequest* out,
                        std::string* error) {
  json doc;
  if (!ReadDocument(text, "rules", &doc, error)) return false;
  for (json& rule : doc["rules"]) {
    if (!rule.is_object() || !rule.contains("status") || !rule["status"].is_string()) continue;
    const std::string status = Lower(rule["status"].get<std::string>());
    if (status == "enabled") rule["status"] = "LIFECYCLE_RULE_STATUS_ENABLED";
    if (status == "disabled") rule["status"] = "LIFECYCLE_RULE_STATUS_DISABLED";
  }
  return ToMessage(doc, out, error);
}

bool ParseNotificationsJson(const std::string& text,
                            v1::PutBucketNotificationConfigurationRequest* out,
                            std::string* error) {
  json doc;
  if (!ReadDocument(text, "configurations", &doc, error)) return false;
  return ToMessage(doc, out, error);
}

}  // namespace thingtank::cli::objects
