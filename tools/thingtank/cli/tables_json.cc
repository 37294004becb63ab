#include "tools/thingtank/cli/tables_json.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <vector>

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include "absl/strings/escaping.h"
#include "tools/thingtank/cli/cli_common.h"

namespace thingtank::cli::tables {
namespace {

namespace v1 = thingtank::tables::v1;
using google::protobuf::ListValue;
using google::protobuf::Struct;
using google::protobuf::Value;

// google.protobuf.Value keeps numbers as doubles. To keep a number's literal
// text, every number outside a string is rewritten as a string starting with
// this marker (U+FDD0, a Unicode noncharacter) before parsing, and marked
// strings are written back as bare numbers after printing.
constexpr char kNumberMark[] = "\xEF\xB7\x90";
constexpr size_t kNumberMarkSize = sizeof(kNumberMark) - 1;

bool IsNumberChar(char c) {
  return std::isdigit(static_cast<unsigned char>(c)) || std::strchr("+-.eE", c) != nullptr;
}

bool StartsWithMark(const std::string& text, size_t pos) {
  if (text.compare(pos, kNumberMarkSize, kNumberMark) == 0) return true;
  if (text.size() < pos + 6 || text.compare(pos, 2, "\\u") != 0) return false;
  std::string hex = text.substr(pos + 2, 4);
  for (char& c : hex) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return hex == "fdd0";
}

// Rewrites bare numbers as marked strings (see kNumberMark).
bool MarkNumbers(const std::string& json, std::string* out, std::string* error) {
  bool in_string = false;
  for (size_t i = 0; i < json.size(); ++i) {
    const char c = json[i];
    if (in_string) {
      out->push_back(c);
      if (c == '\\' && i + 1 < json.size()) {
        out->push_back(json[++i]);
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      if (StartsWithMark(json, i + 1)) {
        *error = "strings starting with U+FDD0 are not supported";
        return false;
      }
      in_string = true;
      out->push_back(c);
    } else if (c == '-' || std::isdigit(static_cast<unsigned char>(c))) {
      size_t end = i;
      while (end < json.size() && IsNumberChar(json[end])) ++end;
      out->append("\"").append(kNumberMark).append(json, i, end - i).append("\"");
      i = end - 1;
    } else {
      out->push_back(c);
    }
  }
  return true;
}

bool IsMarkedNumber(const Value& value) {
  return value.kind_case() == Value::kStringValue &&
         value.string_value().compare(0, kNumberMarkSize, kNumberMark) == 0;
}

std::string NumberText(const Value& value) { return value.string_value().substr(kNumberMarkSize); }

// Parses JSON text into a Value with numbers marked.
bool ParseJson(const std::string& json, Value* out, std::string* error) {
  std::string marked;
  if (!MarkNumbers(json, &marked, error)) return false;
  const auto status = google::protobuf::util::JsonStringToMessage(marked, out);
  if (!status.ok()) {
    std::string message(status.message());
    message = message.substr(0, message.find('\n'));
    // Error text may quote the marked input; show numbers as the user wrote them.
    for (size_t pos; (pos = message.find(kNumberMark)) != std::string::npos;) {
      message.erase(pos, kNumberMarkSize);
    }
    *error = "invalid JSON: " + message;
    return false;
  }
  return true;
}

bool PlainToAttribute(const Value& in, v1::AttributeValue* out, std::string* error) {
  switch (in.kind_case()) {
    case Value::kNullValue:
      out->set_null_value(true);
      return true;
    case Value::kBoolValue:
      out->set_bool_value(in.bool_value());
      return true;
    case Value::kStringValue:
      if (IsMarkedNumber(in)) {
        out->set_n(NumberText(in));
      } else {
        out->set_s(in.string_value());
      }
      return true;
    case Value::kListValue:
      for (const Value& element : in.list_value().values()) {
        if (!PlainToAttribute(element, out->mutable_l()->add_values(), error)) return false;
      }
      out->mutable_l();  // an empty list is still a list
      return true;
    case Value::kStructValue:
      out->mutable_m();
      for (const auto& [name, field] : in.struct_value().fields()) {
        if (!PlainToAttribute(field, &(*out->mutable_m()->mutable_fields())[name], error)) {
          *error = name + "." + *error;
          return false;
        }
      }
      return true;
    default:
      *error = "unsupported JSON value";
      return false;
  }
}

bool DynamoToAttribute(const Value& in, v1::AttributeValue* out, std::string* error);

// Elements of a set or list value, each checked by `element`.
template <typename Fn>
bool ForEachElement(const Value& in, const std::string& type, std::string* error, Fn element) {
  if (in.kind_case() != Value::kListValue) {
    *error = type + " takes a JSON array";
    return false;
  }
  for (const Value& v : in.list_value().values()) {
    if (!element(v)) return false;
  }
  return true;
}

bool StringOf(const Value& v, const std::string& type, std::string* out, std::string* error) {
  if (v.kind_case() != Value::kStringValue || IsMarkedNumber(v)) {
    *error = type + " takes strings";
    return false;
  }
  *out = v.string_value();
  return true;
}

bool NumberOf(const Value& v, const std::string& type, std::string* out, std::string* error) {
  if (IsMarkedNumber(v)) {
    *out = NumberText(v);
  } else if (v.kind_case() == Value::kStringValue) {
    *out = v.string_value();
  } else {
    *error = type + " takes numbers (as strings, e.g. \"5\", or bare)";
    return false;
  }
  return true;
}

bool BinaryOf(const Value& v, const std::string& type, std::string* out, std::string* error) {
  std::string text;
  if (!StringOf(v, type, &text, error)) return false;
  if (!absl::Base64Unescape(text, out)) {
    *error = type + " takes base64 text";
    return false;
  }
  return true;
}

bool DynamoToAttribute(const Value& in, v1::AttributeValue* out, std::string* error) {
  if (in.kind_case() != Value::kStructValue || in.struct_value().fields_size() != 1) {
    *error = "expected an object with one type key (S, N, B, BOOL, NULL, L, M, SS, NS, BS); "
             "use --plain for plain JSON";
    return false;
  }
  const auto& [type, v] = *in.struct_value().fields().begin();
  if (type == "S") return StringOf(v, type, out->mutable_s(), error);
  if (type == "N") return NumberOf(v, type, out->mutable_n(), error);
  if (type == "B") return BinaryOf(v, type, out->mutable_b(), error);
  if (type == "BOOL" || type == "NULL") {
    if (v.kind_case() != Value::kBoolValue || (type == "NULL" && !v.bool_value())) {
      *error = type + (type == "NULL" ? " takes true" : " takes true or false");
      return false;
    }
    type == "NULL" ? out->set_null_value(true) : out->set_bool_value(v.bool_value());
    return true;
  }
  if (type == "L") {
    out->mutable_l();
    return ForEachElement(v, type, error, [&](const Value& e) {
      return DynamoToAttribute(e, out->mutable_l()->add_values(), error);
    });
  }
  if (type == "M") {
    if (v.kind_case() != Value::kStructValue) {
      *error = "M takes a JSON object";
      return false;
    }
    out->mutable_m();
    for (const auto& [name, field] : v.struct_value().fields()) {
      if (!DynamoToAttribute(field, &(*out->mutable_m()->mutable_fields())[name], error)) {
        *error = name + ": " + *error;
        return false;
      }
    }
    return true;
  }
  if (type == "SS") {
    return ForEachElement(v, type, error, [&](const Value& e) {
      return StringOf(e, type, out->mutable_ss()->add_values(), error);
    });
  }
  if (type == "NS") {
    return ForEachElement(v, type, error, [&](const Value& e) {
      return NumberOf(e, type, out->mutable_ns()->add_values(), error);
    });
  }
  if (type == "BS") {
    return ForEachElement(v, type, error, [&](const Value& e) {
      return BinaryOf(e, type, out->mutable_bs()->add_values(), error);
    });
  }
  *error = "unknown type \"" + type + "\" (S, N, B, BOOL, NULL, L, M, SS, NS, BS)";
  return false;
}

Value MarkedNumber(const std::string& text) {
  Value v;
  v.set_string_value(kNumberMark + text);
  return v;
}

Value Tagged(const std::string& type, Value value) {
  Value v;
  (*v.mutable_struct_value()->mutable_fields())[type] = std::move(value);
  return v;
}

Value StringValue(const std::string& s) {
  Value v;
  v.set_string_value(s);
  return v;
}

template <typename Strings, typename Fn>
Value ListOf(const Strings& strings, Fn convert) {
  Value v;
  v.mutable_list_value();
  for (const std::string& s : strings) *v.mutable_list_value()->add_values() = convert(s);
  return v;
}

Value ToValue(const v1::AttributeValue& in, bool plain) {
  Value v;
  auto base64 = [](const std::string& s) { return StringValue(absl::Base64Escape(s)); };
  auto number = [plain](const std::string& s) { return plain ? MarkedNumber(s) : StringValue(s); };
  switch (in.value_case()) {
    case v1::AttributeValue::kS:
      v.set_string_value(in.s());
      return plain ? v : Tagged("S", v);
    case v1::AttributeValue::kN:
      return plain ? MarkedNumber(in.n()) : Tagged("N", StringValue(in.n()));
    case v1::AttributeValue::kB:
      return plain ? base64(in.b()) : Tagged("B", base64(in.b()));
    case v1::AttributeValue::kBoolValue:
      v.set_bool_value(in.bool_value());
      return plain ? v : Tagged("BOOL", v);
    case v1::AttributeValue::kNullValue:
      if (plain) {
        v.set_null_value(google::protobuf::NULL_VALUE);
        return v;
      }
      v.set_bool_value(true);
      return Tagged("NULL", v);
    case v1::AttributeValue::kL:
      v.mutable_list_value();
      for (const auto& e : in.l().values()) *v.mutable_list_value()->add_values() = ToValue(e, plain);
      return plain ? v : Tagged("L", v);
    case v1::AttributeValue::kM:
      v.mutable_struct_value();
      for (const auto& [name, e] : in.m().fields()) {
        (*v.mutable_struct_value()->mutable_fields())[name] = ToValue(e, plain);
      }
      return plain ? v : Tagged("M", v);
    case v1::AttributeValue::kSs:
      v = ListOf(in.ss().values(), StringValue);
      return plain ? v : Tagged("SS", v);
    case v1::AttributeValue::kNs:
      v = ListOf(in.ns().values(), number);
      return plain ? v : Tagged("NS", v);
    case v1::AttributeValue::kBs:
      v = ListOf(in.bs().values(), base64);
      return plain ? v : Tagged("BS", v);
    case v1::AttributeValue::VALUE_NOT_SET:
      break;
  }
  v.set_null_value(google::protobuf::NULL_VALUE);
  return v;
}

// Prints a Value and turns marked strings back into bare numbers.
std::string PrintJson(const Value& value) {
  std::string json = JsonOf(value);
  const std::string open = std::string("\"") + kNumberMark;
  for (size_t pos = 0; (pos = json.find(open, pos)) != std::string::npos;) {
    const size_t end = json.find('"', pos + open.size());  // number text has no quotes
    json.replace(pos, end + 1 - pos, json.substr(pos + open.size(), end - pos - open.size()));
  }
  return json;
}

}  // namespace

namespace {

bool AttributeMapOf(const Value& value, bool plain, AttributeMap* out, std::string* error) {
  if (value.kind_case() != Value::kStructValue) {
    *error = "expected a JSON object of attribute names to values";
    return false;
  }
  for (const auto& [name, field] : value.struct_value().fields()) {
    std::string field_error;
    v1::AttributeValue& attribute = (*out)[name];
    const bool ok = plain ? PlainToAttribute(field, &attribute, &field_error)
                          : DynamoToAttribute(field, &attribute, &field_error);
    if (!ok) {
      *error = "attribute \"" + name + "\": " + field_error;
      return false;
    }
  }
  return true;
}

// True when `value` is {"Item": {...}} and the inner object is not itself a
// key value (see ParseItem).
bool IsItemEnvelope(const Value& value, bool plain) {
  if (value.kind_case() != Value::kStructValue || value.struct_value().fields_size() != 1) {
    return false;
  }
  const auto& [name, inner] = *value.struct_value().fields().begin();
  if (name != "Item" || inner.kind_case() != Value::kStructValue) return false;
  if (plain) return true;
  v1::AttributeValue attribute;
  std::string ignored;
  if (!DynamoToAttribute(inner, &attribute, &ignored)) return true;
  return attribute.value_case() != v1::AttributeValue::kS &&
         attribute.value_case() != v1::AttributeValue::kN &&
         attribute.value_case() != v1::AttributeValue::kB;
}

}  // namespace

bool ParseAttributeMap(const std::string& json, bool plain, AttributeMap* out,
                       std::string* error) {
  Value value;
  return ParseJson(json, &value, error) && AttributeMapOf(value, plain, out, error);
}

bool ParseItem(const std::string& json, bool plain, AttributeMap* out, std::string* error) {
  Value value;
  if (!ParseJson(json, &value, error)) return false;
  if (IsItemEnvelope(value, plain)) {
    return AttributeMapOf(value.struct_value().fields().at("Item"), plain, out, error);
  }
  return AttributeMapOf(value, plain, out, error);
}

namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

// "ConditionCheck" -> "condition_check": DynamoDB's member names are the
// proto fields' names in PascalCase.
std::string SnakeOf(const std::string& pascal) {
  std::string out;
  for (size_t i = 0; i < pascal.size(); ++i) {
    const char c = pascal[i];
    if (std::isupper(static_cast<unsigned char>(c))) {
      if (i > 0) out += '_';
      out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    } else {
      out += c;
    }
  }
  return out;
}

bool RequestToMessage(const Value& in, bool plain, const std::string& path, Message* out,
                      std::string* error);

bool Fail(const std::string& path, const std::string& what, std::string* error) {
  *error = path + ": " + what;
  return false;
}

// A scalar (string, bool, enum) field of `out` from `in`.
bool ScalarToField(const Value& in, const std::string& path, const FieldDescriptor* f,
                   Message* out, std::string* error) {
  const auto* r = out->GetReflection();
  switch (f->cpp_type()) {
    case FieldDescriptor::CPPTYPE_STRING:
      if (in.kind_case() != Value::kStringValue || IsMarkedNumber(in)) {
        return Fail(path, "expected a string", error);
      }
      r->SetString(out, f, in.string_value());
      return true;
    case FieldDescriptor::CPPTYPE_BOOL:
      if (in.kind_case() != Value::kBoolValue) return Fail(path, "expected true or false", error);
      r->SetBool(out, f, in.bool_value());
      return true;
    case FieldDescriptor::CPPTYPE_ENUM: {
      // "TOTAL" for RETURN_CONSUMED_CAPACITY_TOTAL.
      std::string prefix = SnakeOf(f->enum_type()->name());
      std::transform(prefix.begin(), prefix.end(), prefix.begin(), ::toupper);
      const auto* value = in.kind_case() == Value::kStringValue
                              ? f->enum_type()->FindValueByName(prefix + "_" + in.string_value())
                              : nullptr;
      if (value == nullptr) return Fail(path, "not a " + f->enum_type()->name() + " value", error);
      r->SetEnum(out, f, value);
      return true;
    }
    default:
      return Fail(path, "unsupported field", error);
  }
}

// One entry of map field `f` of `out`: `key` -> `in`.
bool MapEntryToField(const std::string& key, const Value& in, bool plain,
                     const std::string& path, const FieldDescriptor* f, Message* out,
                     std::string* error) {
  Message* entry = out->GetReflection()->AddMessage(out, f);
  const FieldDescriptor* key_field = entry->GetDescriptor()->map_key();
  const FieldDescriptor* value_field = entry->GetDescriptor()->map_value();
  entry->GetReflection()->SetString(entry, key_field, key);
  if (value_field->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) {
    return ScalarToField(in, path, value_field, entry, error);
  }
  Message* value = entry->GetReflection()->MutableMessage(entry, value_field);
  if (value_field->message_type() == v1::AttributeValue::descriptor()) {
    std::string attribute_error;
    auto* attribute = static_cast<v1::AttributeValue*>(value);
    if (!(plain ? PlainToAttribute(in, attribute, &attribute_error)
                : DynamoToAttribute(in, attribute, &attribute_error))) {
      return Fail(path, attribute_error, error);
    }
    return true;
  }
  return RequestToMessage(in, plain, path, value, error);
}

bool ValueToField(const Value& in, bool plain, const std::string& path, const FieldDescriptor* f,
                  Message* out, std::string* error) {
  const auto* r = out->GetReflection();
  if (f->is_map()) {
    if (in.kind_case() != Value::kStructValue) return Fail(path, "expected a JSON object", error);
    for (const auto& [key, value] : in.struct_value().fields()) {
      if (!MapEntryToField(key, value, plain, path + "." + key, f, out, error)) return false;
    }
    return true;
  }
  if (f->is_repeated()) {
    if (in.kind_case() != Value::kListValue) return Fail(path, "expected a JSON array", error);
    if (f->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) return Fail(path, "unsupported", error);
    const auto& values = in.list_value().values();
    for (int i = 0; i < values.size(); ++i) {
      if (!RequestToMessage(values[i], plain, path + "[" + std::to_string(i) + "]",
                            r->AddMessage(out, f), error)) {
        return false;
      }
    }
    return true;
  }
  if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
    return RequestToMessage(in, plain, path, r->MutableMessage(out, f), error);
  }
  return ScalarToField(in, path, f, out, error);
}

bool RequestToMessage(const Value& in, bool plain, const std::string& path, Message* out,
                      std::string* error) {
  const auto* d = out->GetDescriptor();
  // An attribute map stands for an Item (BatchGetItem's Keys).
  if (d == v1::Item::descriptor()) {
    return ValueToField(in, plain, path, d->FindFieldByName("attributes"), out, error);
  }
  // A list stands for a message whose only field is repeated (the writes of
  // one table in BatchWriteItem).
  if (in.kind_case() == Value::kListValue && d->field_count() == 1 && d->field(0)->is_repeated()) {
    return ValueToField(in, plain, path, d->field(0), out, error);
  }
  if (in.kind_case() != Value::kStructValue) return Fail(path, "expected a JSON object", error);
  for (const auto& [name, value] : in.struct_value().fields()) {
    // PascalCase only: "item" is not a member name, "Item" is.
    const std::string field = SnakeOf(name);
    const FieldDescriptor* f = field == name ? nullptr : d->FindFieldByName(field);
    if (f == nullptr) {
      return Fail(path + "." + name, "unknown member of " + d->name(), error);
    }
    if (!ValueToField(value, plain, path + "." + name, f, out, error)) return false;
  }
  return true;
}

}  // namespace

bool ParseRequest(const std::string& json, const std::string& member, bool plain,
                  google::protobuf::Message* out, std::string* error) {
  Value value;
  if (!ParseJson(json, &value, error)) return false;
  const FieldDescriptor* f = out->GetDescriptor()->FindFieldByName(SnakeOf(member));
  if (f == nullptr) {
    *error = "no member " + member + " in " + out->GetDescriptor()->name();
    return false;
  }
  return ValueToField(value, plain, member, f, out, error);
}

bool ParseNameMap(const std::string& json, NameMap* out, std::string* error) {
  Value value;
  if (!ParseJson(json, &value, error)) return false;
  if (value.kind_case() != Value::kStructValue) {
    *error = "expected a JSON object such as {\"#n\": \"name\"}";
    return false;
  }
  for (const auto& [token, name] : value.struct_value().fields()) {
    if (name.kind_case() != Value::kStringValue || IsMarkedNumber(name)) {
      *error = "\"" + token + "\" must map to a string";
      return false;
    }
    (*out)[token] = name.string_value();
  }
  return true;
}

std::string AttributeMapToJson(const AttributeMap& map, bool plain) {
  // Top-level names sorted (a protobuf map prints in no fixed order).
  std::vector<std::string> names;
  for (const auto& entry : map) names.push_back(entry.first);
  std::sort(names.begin(), names.end());
  std::string json = "{";
  for (const std::string& name : names) {
    if (json.size() > 1) json += ",";
    json += PrintJson(StringValue(name)) + ":" + PrintJson(ToValue(map.at(name), plain));
  }
  return json + "}";
}

std::string AttributeValueToJson(const v1::AttributeValue& value, bool plain) {
  return PrintJson(ToValue(value, plain));
}

std::string JsonString(const std::string& text) { return PrintJson(StringValue(text)); }

}  // namespace thingtank::cli::tables
