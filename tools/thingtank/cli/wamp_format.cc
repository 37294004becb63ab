#include "tools/thingtank/cli/wamp_format.h"

#include <map>

#include <nlohmann/json.hpp>

namespace thingtank::cli::wamp {
namespace {

namespace v1 = thingtank::wamp::v1;

// Keeps the order of keys as received (the server's order).
using Json = nlohmann::ordered_json;

std::string Dump(const Json& json) {
  return json.dump(-1, ' ', false, Json::error_handler_t::replace);
}

// Parses JSON the server sent; `fallback` when empty or (not expected)
// malformed, in which case the text is kept as a string.
Json ParseOr(const std::string& text, Json fallback) {
  if (text.empty()) return fallback;
  Json json = Json::parse(text, nullptr, false);
  return json.is_discarded() ? Json(text) : json;
}

// "[json.exception.parse_error.101] parse error at line 1, ..." -> "parse error at line 1, ...".
std::string ParseErrorText(const std::string& what) {
  const size_t close = what.find("] ");
  return what.compare(0, 1, "[") == 0 && close != std::string::npos ? what.substr(close + 2)
                                                                     : what;
}

std::string MatchOf(const std::string& match) { return match.empty() ? "exact" : match; }

}  // namespace

std::string ArgumentsJson(const std::vector<std::string>& args) {
  Json array = Json::array();
  for (const std::string& arg : args) {
    Json value = Json::parse(arg, nullptr, false);
    array.push_back(value.is_discarded() ? Json(arg) : std::move(value));
  }
  return Dump(array);
}

bool NormalizeJson(const std::string& text, bool object, std::string* out, std::string* error) {
  Json json;
  try {
    json = Json::parse(text);
  } catch (const Json::exception& e) {
    *error = "invalid JSON (" + ParseErrorText(e.what()) + ")";
    return false;
  }
  if (object && !json.is_object()) {
    *error = "must be a JSON object, e.g. {\"unit\": \"C\"}";
    return false;
  }
  if (!object && !json.is_array()) {
    *error = "must be a JSON array, e.g. [\"hello\", 42]";
    return false;
  }
  *out = Dump(json);
  return true;
}

void PrintCallResult(const v1::CallResponse& response, bool json, std::ostream& os) {
  const Json args = ParseOr(response.args_json(), Json::array());
  const Json kwargs = ParseOr(response.kwargs_json(), Json::object());
  if (json) {
    Json result = Json::object();
    result["args"] = args;
    result["kwargs"] = kwargs;
    os << Dump(result) << "\n";
    return;
  }
  if (args.is_array()) {
    for (const Json& arg : args) os << Dump(arg) << "\n";
  } else {
    os << Dump(args) << "\n";
  }
  if (!kwargs.is_object() || !kwargs.empty()) os << Dump(kwargs) << "\n";
}

void PrintEvent(const v1::SubscribeResponse& event, bool json, std::ostream& os) {
  const Json args = ParseOr(event.args_json(), Json::array());
  const Json kwargs = ParseOr(event.kwargs_json(), Json::object());
  if (json) {
    Json line = Json::object();
    line["topic"] = event.topic();
    line["publication"] = event.publication();
    line["args"] = args;
    line["kwargs"] = kwargs;
    line["publisher"] = event.publisher();
    os << Dump(line) << "\n";
  } else {
    os << event.topic() << " " << Dump(args) << " " << Dump(kwargs) << "\n";
  }
}

std::string DescribeRule(const v1::Rule& rule) {
  std::string line = rule.id() + "  " + (rule.realm().empty() ? "realm1" : rule.realm()) + "  ";
  switch (rule.kind_case()) {
    case v1::Rule::kTopicToQueue: {
      const v1::TopicToQueue& r = rule.topic_to_queue();
      return line + "topic-to-queue  " + r.topic() + " (" + MatchOf(r.match()) + ") -> queue " +
             r.queue();
    }
    case v1::Rule::kQueueToTopic: {
      const v1::QueueToTopic& r = rule.queue_to_topic();
      return line + "queue-to-topic  queue " + r.queue() + " -> " + r.topic();
    }
    case v1::Rule::kTopicToTable: {
      const v1::TopicToTable& r = rule.topic_to_table();
      line += "topic-to-table  " + r.topic() + " (" + MatchOf(r.match()) + ") -> table " +
              r.table() + " key";
      // Sorted for stable output (the map has no order).
      std::map<std::string, std::string> keys(r.key_template().begin(), r.key_template().end());
      for (const auto& [name, tmpl] : keys) line += " " + name + "=" + tmpl;
      return line;
    }
    case v1::Rule::kTopicToStream: {
      const v1::TopicToStream& r = rule.topic_to_stream();
      const std::string& key = r.partition_key_template();
      return line + "topic-to-stream  " + r.topic() + " (" + MatchOf(r.match()) + ") -> stream " +
             r.stream() + " partition key " + (key.empty() ? "{topic}" : key);
    }
    case v1::Rule::kStreamToTopic: {
      const v1::StreamToTopic& r = rule.stream_to_topic();
      const std::string& pos = r.starting_position();
      return line + "stream-to-topic  stream " + r.stream() + " (" + (pos.empty() ? "LATEST" : pos) +
             ") -> " + r.topic();
    }
    default:  // KIND_NOT_SET, and kinds this CLI does not describe yet
      break;
  }
  return line + "(unknown kind)";
}

void PrintRules(const v1::ListRulesResponse& response, std::ostream& os) {
  if (response.rules().empty()) {
    os << "no rules\n";
    return;
  }
  for (const v1::Rule& rule : response.rules()) os << DescribeRule(rule) << "\n";
}

}  // namespace thingtank::cli::wamp
