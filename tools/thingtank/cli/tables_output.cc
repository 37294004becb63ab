#include "tools/thingtank/cli/tables_output.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <string>
#include <vector>

#include <google/protobuf/timestamp.pb.h>

#include "tools/thingtank/cli/tables_json.h"

namespace thingtank::cli::tables {
namespace {

namespace v1 = thingtank::tables::v1;
using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

// "table_size_bytes" -> "TableSizeBytes".
std::string PascalOf(const std::string& snake) {
  std::string out;
  bool upper = true;
  for (char c : snake) {
    if (c == '_') {
      upper = true;
      continue;
    }
    out += upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c;
    upper = false;
  }
  return out;
}

std::string DoubleText(double d) {
  char buffer[32];
  const auto result = std::to_chars(buffer, buffer + sizeof(buffer), d);
  return std::string(buffer, result.ptr);
}

// Epoch seconds, with the fraction when there is one: 1700000000.25.
std::string EpochSeconds(const google::protobuf::Timestamp& t) {
  std::string text = std::to_string(t.seconds());
  if (t.nanos() == 0) return text;
  std::string nanos = std::to_string(t.nanos());
  nanos.insert(0, 9 - nanos.size(), '0');
  nanos.erase(nanos.find_last_not_of('0') + 1);
  return text + "." + nanos;
}

bool IsAttributeMap(const FieldDescriptor* f) {
  return f->is_map() && f->message_type()->map_value()->message_type() ==
                            v1::AttributeValue::descriptor();
}

// A message printed as the list of its only field (ItemList, WriteRequestList).
bool IsListMessage(const Descriptor* d) {
  return d->field_count() == 1 && d->field(0)->is_repeated() && !d->field(0)->is_map();
}

std::string MessageJson(const Message& m, bool plain);

std::string ItemJson(const Message& item, bool plain) {
  return AttributeMapToJson(static_cast<const v1::Item&>(item).attributes(), plain);
}

// A message as JSON: an Item is its attributes, a list message its list,
// a timestamp epoch seconds.
std::string ValueMessageJson(const Message& m, bool plain) {
  const Descriptor* d = m.GetDescriptor();
  if (d == v1::Item::descriptor()) return ItemJson(m, plain);
  if (d == google::protobuf::Timestamp::descriptor()) {
    return EpochSeconds(static_cast<const google::protobuf::Timestamp&>(m));
  }
  if (IsListMessage(d)) {
    const FieldDescriptor* f = d->field(0);
    const Reflection* r = m.GetReflection();
    std::string json = "[";
    for (int i = 0; i < r->FieldSize(m, f); ++i) {
      if (i > 0) json += ",";
      json += ValueMessageJson(r->GetRepeatedMessage(m, f, i), plain);
    }
    return json + "]";
  }
  return MessageJson(m, plain);
}

// The entries of a map<string, Message> field, keys sorted (a protobuf map
// has no order).
std::vector<std::pair<std::string, const Message*>> SortedEntries(const Message& m,
                                                                  const FieldDescriptor* f) {
  const Reflection* r = m.GetReflection();
  std::vector<std::pair<std::string, const Message*>> entries;
  for (int i = 0; i < r->FieldSize(m, f); ++i) {
    const Message& entry = r->GetRepeatedMessage(m, f, i);
    const Reflection* er = entry.GetReflection();
    const Descriptor* ed = entry.GetDescriptor();
    entries.emplace_back(er->GetString(entry, ed->map_key()),
                         &er->GetMessage(entry, ed->map_value()));
  }
  std::sort(entries.begin(), entries.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  return entries;
}

std::string MapJson(const Message& m, const FieldDescriptor* f, bool plain) {
  const bool attributes = IsAttributeMap(f);
  std::string json = "{";
  for (const auto& [key, value] : SortedEntries(m, f)) {
    if (json.size() > 1) json += ",";
    json += JsonString(key) + ":" +
            (attributes ? AttributeValueToJson(static_cast<const v1::AttributeValue&>(*value), plain)
                        : ValueMessageJson(*value, plain));
  }
  return json + "}";
}

std::string ScalarJson(const Message& m, const FieldDescriptor* f, int index) {
  const Reflection* r = m.GetReflection();
  const bool repeated = index >= 0;
  switch (f->cpp_type()) {
    case FieldDescriptor::CPPTYPE_STRING:
      return JsonString(repeated ? r->GetRepeatedString(m, f, index) : r->GetString(m, f));
    case FieldDescriptor::CPPTYPE_BOOL:
      return (repeated ? r->GetRepeatedBool(m, f, index) : r->GetBool(m, f)) ? "true" : "false";
    case FieldDescriptor::CPPTYPE_INT32:
      return std::to_string(repeated ? r->GetRepeatedInt32(m, f, index) : r->GetInt32(m, f));
    case FieldDescriptor::CPPTYPE_INT64:
      return std::to_string(repeated ? r->GetRepeatedInt64(m, f, index) : r->GetInt64(m, f));
    case FieldDescriptor::CPPTYPE_UINT32:
      return std::to_string(repeated ? r->GetRepeatedUInt32(m, f, index) : r->GetUInt32(m, f));
    case FieldDescriptor::CPPTYPE_UINT64:
      return std::to_string(repeated ? r->GetRepeatedUInt64(m, f, index) : r->GetUInt64(m, f));
    case FieldDescriptor::CPPTYPE_DOUBLE:
      return DoubleText(repeated ? r->GetRepeatedDouble(m, f, index) : r->GetDouble(m, f));
    case FieldDescriptor::CPPTYPE_FLOAT:
      return DoubleText(repeated ? r->GetRepeatedFloat(m, f, index) : r->GetFloat(m, f));
    case FieldDescriptor::CPPTYPE_ENUM:
      return JsonString(
          DynamoEnumName(repeated ? r->GetRepeatedEnum(m, f, index) : r->GetEnum(m, f)));
    case FieldDescriptor::CPPTYPE_MESSAGE:
      break;
  }
  return "null";
}

// DynamoDB's member name of field `f` where it is not the PascalCase name.
std::string MemberName(const FieldDescriptor* f) {
  if (f->containing_type() == v1::TableDescription::descriptor()) {
    // DynamoDB nests the mode (BillingModeSummary.BillingMode) and calls the
    // time to live settings TimeToLiveDescription (DescribeTimeToLive).
    if (f->name() == "billing_mode") return "BillingModeSummary";
    if (f->name() == "time_to_live") return "TimeToLiveDescription";
  }
  return PascalOf(f->name());
}

// The value of field `f` of `m` as JSON; false when it is left out.
bool FieldJson(const Message& m, const FieldDescriptor* f, bool plain, std::string* out) {
  const Reflection* r = m.GetReflection();
  const bool is_message = f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE;
  if (f->is_map()) {
    if (IsAttributeMap(f) && r->FieldSize(m, f) == 0) return false;
    *out = MapJson(m, f, plain);
    return true;
  }
  if (f->is_repeated()) {
    if (is_message && f->message_type() == v1::ConsumedCapacity::descriptor() &&
        r->FieldSize(m, f) == 0) {
      return false;  // not asked for
    }
    // TransactGetItems: DynamoDB's Responses are [{"Item": {...}}, ...].
    const bool item_responses = m.GetDescriptor() == v1::TransactGetItemsResponse::descriptor() &&
                                f->name() == "responses";
    *out = "[";
    for (int i = 0; i < r->FieldSize(m, f); ++i) {
      if (i > 0) *out += ",";
      if (!is_message) {
        *out += ScalarJson(m, f, i);
      } else if (item_responses) {
        const auto& item = static_cast<const v1::Item&>(r->GetRepeatedMessage(m, f, i));
        *out += item.attributes().empty()
                    ? std::string("{}")
                    : "{\"Item\":" + AttributeMapToJson(item.attributes(), plain) + "}";
      } else {
        *out += ValueMessageJson(r->GetRepeatedMessage(m, f, i), plain);
      }
    }
    *out += "]";
    return true;
  }
  if (is_message) {
    if (!r->HasField(m, f)) return false;
    *out = ValueMessageJson(r->GetMessage(m, f), plain);
    return true;
  }
  if (f->cpp_type() == FieldDescriptor::CPPTYPE_STRING && r->GetString(m, f).empty()) {
    return false;
  }
  if (f->cpp_type() == FieldDescriptor::CPPTYPE_ENUM && r->GetEnumValue(m, f) == 0) return false;
  *out = ScalarJson(m, f, -1);
  if (MemberName(f) == "BillingModeSummary") *out = "{\"BillingMode\":" + *out + "}";
  return true;
}

std::string MessageJson(const Message& m, bool plain) {
  const Descriptor* d = m.GetDescriptor();
  std::string json = "{";
  for (int i = 0; i < d->field_count(); ++i) {
    const FieldDescriptor* f = d->field(i);
    std::string value;
    if (!FieldJson(m, f, plain, &value)) continue;
    if (json.size() > 1) json += ",";
    json += JsonString(MemberName(f)) + ":" + value;
  }
  return json + "}";
}

}  // namespace

std::string ResponseToJson(const Message& message, bool plain) {
  return MessageJson(message, plain);
}

std::string DynamoEnumName(const google::protobuf::EnumValueDescriptor* value) {
  // The prefix is the enum's name in upper snake case: TableStatus -> TABLE_STATUS_.
  std::string prefix;
  for (char c : value->type()->name()) {
    if (std::isupper(static_cast<unsigned char>(c)) && !prefix.empty()) prefix += '_';
    prefix += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  prefix += '_';
  const std::string& name = value->name();
  return name.compare(0, prefix.size(), prefix) == 0 ? name.substr(prefix.size()) : name;
}

}  // namespace thingtank::cli::tables
