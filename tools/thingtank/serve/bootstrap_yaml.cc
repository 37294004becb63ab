#include "tools/thingtank/serve/bootstrap_yaml.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/util/json_util.h"

namespace thingtank::serve {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::EnumDescriptor;
using google::protobuf::FieldDescriptor;

absl::Status FieldError(const std::string& path, absl::string_view what) {
  return absl::InvalidArgumentError(path.empty() ? std::string(what) : absl::StrCat(path, ": ", what));
}

void AppendQuoted(absl::string_view text, std::string* out) {
  out->push_back('"');
  for (char c : text) {
    switch (c) {
      case '"': out->append("\\\""); break;
      case '\\': out->append("\\\\"); break;
      case '\n': out->append("\\n"); break;
      case '\r': out->append("\\r"); break;
      case '\t': out->append("\\t"); break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          absl::StrAppendFormat(out, "\\u%04x", static_cast<unsigned char>(c));
        } else {
          out->push_back(c);
        }
    }
  }
  out->push_back('"');
}

// A plain (unquoted) YAML scalar: its type is what it looks like.
bool IsPlain(const YAML::Node& node) { return node.Tag() != "!"; }

// A JSON number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
bool LooksNumeric(const std::string& text) {
  size_t i = 0;
  const size_t n = text.size();
  auto digits = [&] {
    const size_t start = i;
    while (i < n && absl::ascii_isdigit(static_cast<unsigned char>(text[i]))) ++i;
    return i - start;
  };
  if (i < n && text[i] == '-') ++i;
  const size_t int_start = i;
  const size_t int_digits = digits();
  if (int_digits == 0 || (int_digits > 1 && text[int_start] == '0')) return false;
  if (i < n && text[i] == '.') {
    ++i;
    if (digits() == 0) return false;
  }
  if (i < n && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    if (i < n && (text[i] == '+' || text[i] == '-')) ++i;
    if (digits() == 0) return false;
  }
  return i == n;
}

// A scalar with no descriptor to guide it (inside google.protobuf.Struct and
// the like): JSON's types as YAML 1.2's core schema reads plain scalars.
void AppendUntypedScalar(const YAML::Node& node, std::string* out) {
  const std::string& text = node.Scalar();
  if (IsPlain(node) && (text == "true" || text == "false" || text == "null" || LooksNumeric(text))) {
    out->append(text);
  } else {
    AppendQuoted(text, out);
  }
}

void AppendUntyped(const YAML::Node& node, std::string* out) {
  if (node.IsMap()) {
    out->push_back('{');
    bool first = true;
    for (const auto& kv : node) {
      if (!first) out->push_back(',');
      first = false;
      AppendQuoted(kv.first.Scalar(), out);
      out->push_back(':');
      AppendUntyped(kv.second, out);
    }
    out->push_back('}');
  } else if (node.IsSequence()) {
    out->push_back('[');
    for (size_t i = 0; i < node.size(); ++i) {
      if (i > 0) out->push_back(',');
      AppendUntyped(node[i], out);
    }
    out->push_back(']');
  } else if (node.IsScalar()) {
    AppendUntypedScalar(node, out);
  } else {
    out->append("null");
  }
}

// "KEY_TYPE_" for KeyType, whose first value is KEY_TYPE_UNSPECIFIED; empty
// when the enum does not follow that convention.
std::string EnumPrefix(const EnumDescriptor* type) {
  if (type->value_count() == 0) return "";
  const std::string& first = type->value(0)->name();
  if (!absl::EndsWith(first, "_UNSPECIFIED")) return "";
  return first.substr(0, first.size() - std::string("UNSPECIFIED").size());
}

absl::Status AppendEnum(const YAML::Node& node, const FieldDescriptor* field, const std::string& path,
                        std::string* out) {
  const EnumDescriptor* type = field->enum_type();
  const std::string& text = node.Scalar();
  if (type->FindValueByName(text) != nullptr) {
    AppendQuoted(text, out);
    return absl::OkStatus();
  }
  const std::string prefix = EnumPrefix(type);
  const std::string upper = absl::AsciiStrToUpper(text);
  for (const std::string& name : {upper, prefix + upper}) {
    if (type->FindValueByName(name) != nullptr) {
      AppendQuoted(name, out);
      return absl::OkStatus();
    }
  }
  std::vector<std::string> names;
  for (int i = prefix.empty() ? 0 : 1; i < type->value_count(); ++i) {
    names.push_back(type->value(i)->name().substr(prefix.size()));
  }
  return FieldError(path, absl::StrCat("\"", text, "\" is not one of ", absl::StrJoin(names, ", ")));
}

absl::Status AppendMessage(const YAML::Node& node, const Descriptor* type, const std::string& path,
                           const std::vector<absl::string_view>& extra_keys, std::string* out);

// One value of `field` (an element, for a repeated field).
absl::Status AppendValue(const YAML::Node& node, const FieldDescriptor* field, const std::string& path,
                         std::string* out) {
  if (node.IsNull()) {
    out->append("null");
    return absl::OkStatus();
  }
  if (field->type() == FieldDescriptor::TYPE_MESSAGE || field->type() == FieldDescriptor::TYPE_GROUP) {
    const Descriptor* type = field->message_type();
    if (type->file()->package() == "google.protobuf") {
      // Well-known types have their own JSON forms; a bare number of seconds
      // is a Duration too.
      if (type->full_name() == "google.protobuf.Duration" && node.IsScalar() && IsPlain(node) &&
          LooksNumeric(node.Scalar())) {
        AppendQuoted(absl::StrCat(node.Scalar(), "s"), out);
      } else {
        AppendUntyped(node, out);
      }
      return absl::OkStatus();
    }
    if (!node.IsMap()) return FieldError(path, absl::StrCat("must be a mapping (", type->name(), ")"));
    return AppendMessage(node, type, path, {}, out);
  }
  if (!node.IsScalar()) return FieldError(path, "must be a single value, not a list or mapping");
  switch (field->cpp_type()) {
    case FieldDescriptor::CPPTYPE_ENUM:
      return AppendEnum(node, field, path, out);
    case FieldDescriptor::CPPTYPE_STRING:
      AppendQuoted(node.Scalar(), out);
      return absl::OkStatus();
    default:
      // Numbers and bools: JsonStringToMessage checks the value and names the
      // field when it is wrong.
      AppendUntypedScalar(node, out);
      return absl::OkStatus();
  }
}

absl::Status AppendField(const YAML::Node& node, const FieldDescriptor* field, const std::string& path,
                         std::string* out) {
  if (node.IsNull()) {
    out->append("null");
    return absl::OkStatus();
  }
  if (field->is_map()) {
    if (!node.IsMap()) return FieldError(path, "must be a mapping");
    const FieldDescriptor* value_field = field->message_type()->map_value();
    out->push_back('{');
    bool first = true;
    for (const auto& kv : node) {
      if (!first) out->push_back(',');
      first = false;
      if (!kv.first.IsScalar()) return FieldError(path, "keys must be single values");
      AppendQuoted(kv.first.Scalar(), out);
      out->push_back(':');
      if (absl::Status s =
              AppendValue(kv.second, value_field, absl::StrCat(path, "[", kv.first.Scalar(), "]"), out);
          !s.ok()) {
        return s;
      }
    }
    out->push_back('}');
    return absl::OkStatus();
  }
  if (field->is_repeated()) {
    if (!node.IsSequence()) return FieldError(path, "must be a list");
    out->push_back('[');
    for (size_t i = 0; i < node.size(); ++i) {
      if (i > 0) out->push_back(',');
      if (absl::Status s = AppendValue(node[i], field, absl::StrCat(path, "[", i, "]"), out); !s.ok()) {
        return s;
      }
    }
    out->push_back(']');
    return absl::OkStatus();
  }
  return AppendValue(node, field, path, out);
}

const FieldDescriptor* FindField(const Descriptor* type, const std::string& key) {
  if (const FieldDescriptor* f = type->FindFieldByName(key)) return f;
  for (int i = 0; i < type->field_count(); ++i) {
    if (type->field(i)->json_name() == key) return type->field(i);
  }
  return nullptr;
}

absl::Status AppendMessage(const YAML::Node& node, const Descriptor* type, const std::string& path,
                           const std::vector<absl::string_view>& extra_keys, std::string* out) {
  out->push_back('{');
  bool first = true;
  for (const auto& kv : node) {
    if (!kv.first.IsScalar()) return FieldError(path, "keys must be field names");
    const std::string& key = kv.first.Scalar();
    if (std::find(extra_keys.begin(), extra_keys.end(), key) != extra_keys.end()) continue;
    const std::string field_path = path.empty() ? key : absl::StrCat(path, ".", key);
    const FieldDescriptor* field = FindField(type, key);
    if (field == nullptr) {
      std::vector<std::string> known;
      for (int i = 0; i < type->field_count(); ++i) known.push_back(type->field(i)->name());
      for (absl::string_view extra : extra_keys) known.emplace_back(extra);
      return FieldError(field_path, absl::StrCat("unknown field; known: ", absl::StrJoin(known, ", ")));
    }
    if (!first) out->push_back(',');
    first = false;
    AppendQuoted(field->name(), out);
    out->push_back(':');
    if (absl::Status s = AppendField(kv.second, field, field_path, out); !s.ok()) return s;
  }
  out->push_back('}');
  return absl::OkStatus();
}

// JsonStringToMessage says "(a.b): invalid value ..."; we say "a.b: invalid value ...".
std::string TidyJsonError(absl::string_view message) {
  if (absl::StartsWith(message, "(")) {
    if (size_t close = message.find("): "); close != absl::string_view::npos) {
      return absl::StrCat(message.substr(1, close - 1), message.substr(close + 1));
    }
  }
  return std::string(message);
}

}  // namespace

absl::Status MessageFromYaml(const YAML::Node& node, const std::vector<absl::string_view>& extra_keys,
                             google::protobuf::Message* message) {
  if (!node.IsMap()) return absl::InvalidArgumentError("must be a mapping of field names to values");
  std::string json;
  if (absl::Status s = AppendMessage(node, message->GetDescriptor(), "", extra_keys, &json); !s.ok()) {
    return s;
  }
  auto parsed = google::protobuf::util::JsonStringToMessage(json, message);
  if (!parsed.ok()) return absl::InvalidArgumentError(TidyJsonError(parsed.message().as_string()));
  return absl::OkStatus();
}

}  // namespace thingtank::serve
