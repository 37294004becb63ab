#include "services/wamp/rules/template.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace thingtank::wamp {

std::string DumpJson(const Json& j) {
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::string EventJson(const EventData& e) {
  return absl::StrCat("{\"topic\":", DumpJson(Json(e.topic)), ",\"publication\":", e.publication,
                      ",\"args\":", DumpJson(e.args), ",\"kwargs\":", DumpJson(e.kwargs), "}");
}

absl::StatusOr<std::vector<TemplatePart>> ParseTemplate(const std::string& t) {
  std::vector<TemplatePart> parts;
  size_t i = 0;
  while (i < t.size()) {
    const size_t open = t.find_first_of("{}", i);
    if (open == std::string::npos) {
      parts.push_back({false, t.substr(i)});
      break;
    }
    if (t[open] == '}') return absl::InvalidArgumentError("'}' without '{'");
    if (open > i) parts.push_back({false, t.substr(i, open - i)});
    const size_t close = t.find('}', open);
    if (close == std::string::npos) return absl::InvalidArgumentError("'{' without '}'");
    std::string name = t.substr(open + 1, close - open - 1);
    const bool known = name == "topic" || name == "publication" || name == "timestamp_ms" ||
                       (name.rfind("kwargs.", 0) == 0 && name.size() > 7);
    if (!known) {
      return absl::InvalidArgumentError(absl::StrCat(
          "unknown placeholder {", name,
          "}; known: {topic}, {publication}, {timestamp_ms}, {kwargs.NAME}"));
    }
    parts.push_back({true, std::move(name)});
    i = close + 1;
  }
  return parts;
}

namespace {

// A scalar keyword argument as template text (strings as they are).
std::string ScalarText(const Json& j) {
  if (j.is_string()) return j.get<std::string>();
  return DumpJson(j);
}

}  // namespace

absl::StatusOr<std::string> ExpandTemplate(const std::vector<TemplatePart>& parts,
                                           const EventData& event, absl::Time now) {
  std::string out;
  for (const TemplatePart& p : parts) {
    if (!p.placeholder) {
      out += p.text;
    } else if (p.text == "topic") {
      out += event.topic;
    } else if (p.text == "publication") {
      absl::StrAppend(&out, event.publication);
    } else if (p.text == "timestamp_ms") {
      absl::StrAppend(&out, absl::ToUnixMillis(now));
    } else {
      const std::string name = p.text.substr(7);
      auto it = event.kwargs.is_object() ? event.kwargs.find(name) : event.kwargs.end();
      if (it == event.kwargs.end()) {
        return absl::InvalidArgumentError(absl::StrCat("the event has no kwargs.", name));
      }
      out += ScalarText(*it);
    }
  }
  return out;
}

}  // namespace thingtank::wamp
