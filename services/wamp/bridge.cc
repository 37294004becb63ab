#include "services/wamp/bridge.h"

#include <cctype>
#include <chrono>

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/dynamic_message.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/support/byte_buffer.h"
#include "grpcpp/impl/codegen/proto_utils.h"  // SerializationTraits for protobuf messages
#include "services/common/grpc_status.h"
#include "services/common/status.h"

namespace thingtank::wamp {

namespace {

constexpr absl::Duration kCallDeadline = absl::Seconds(60);

ProcedureOutcome ErrorFrom(const grpc::Status& status) {
  const absl::Status s = FromGrpcStatus(status);
  const std::string code = absl::StatusCodeToString(s.code());
  Json kwargs = Json::object({{"code", code}});
  if (std::string reason = ErrorReason(s); !reason.empty()) kwargs["reason"] = reason;
  if (std::string field = ErrorField(s); !field.empty()) kwargs["field"] = field;
  return ProcedureOutcome::Error(absl::StrCat("thingtank.error.", absl::AsciiStrToLower(code)),
                                 std::string(s.message()), std::move(kwargs));
}

// ---- DynamoDB's JSON form of the tables procedures ---------------------------
//
// The tables procedures take and return DynamoDB's JSON (as the AWS CLI and
// `thingtank tables --json` print it): members in PascalCase, attribute
// values {"S": "x"}, {"N": "5"}, {"L": [...]}, ..., enums without their
// prefix ("HASH", "PAY_PER_REQUEST", "ACTIVE"), an Item as its attribute map.
// Requests in the protobuf JSON mapping are accepted too (and both mixed):
// DynamoDB's form is rewritten into it before parsing. Reflection only, so a
// new tables method needs no code here.

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

constexpr char kTablesPackage[] = "thingtank.tables.v1";
constexpr char kAttributeValue[] = "thingtank.tables.v1.AttributeValue";
constexpr char kItem[] = "thingtank.tables.v1.Item";

bool InTablesPackage(const Descriptor* d) { return d->file()->package() == kTablesPackage; }

// AttributeValue's oneof fields and DynamoDB's type keys.
constexpr std::pair<const char*, const char*> kTypeKeys[] = {
    {"s", "S"},   {"n", "N"},   {"b", "B"},   {"bool_value", "BOOL"}, {"null_value", "NULL"},
    {"l", "L"},   {"m", "M"},   {"ss", "SS"}, {"ns", "NS"},           {"bs", "BS"}};

// A message printed as the list of its only field (ItemList, WriteRequestList).
bool IsListMessage(const Descriptor* d) {
  return d->field_count() == 1 && d->field(0)->is_repeated() && !d->field(0)->is_map();
}

bool IsAttributeMap(const FieldDescriptor* f) {
  return f->is_map() && f->message_type()->map_value()->message_type() != nullptr &&
         f->message_type()->map_value()->message_type()->full_name() == kAttributeValue;
}

// "TABLE_STATUS_ACTIVE" -> "ACTIVE": the value without the enum's prefix.
std::string DynamoEnumName(const google::protobuf::EnumValueDescriptor* value) {
  const std::string prefix =
      absl::AsciiStrToUpper(Bridge::SnakeCase(value->type()->name())) + "_";
  const std::string& name = value->name();
  return name.compare(0, prefix.size(), prefix) == 0 ? name.substr(prefix.size()) : name;
}

std::string PascalCase(const std::string& snake) {
  std::string out;
  bool upper = true;
  for (char c : snake) {
    if (c == '_') {
      upper = true;
    } else {
      out.push_back(upper ? absl::ascii_toupper(c) : c);
      upper = false;
    }
  }
  return out;
}

// -- requests: DynamoDB's form -> the protobuf JSON mapping

Json ToProtoMessage(const Json& in, const Descriptor* d);

Json Base64Text(const Json& j) {
  if (!j.is_binary()) return j;  // MessagePack and CBOR carry bytes as such
  return absl::Base64Escape(std::string(j.get_binary().begin(), j.get_binary().end()));
}

Json NumberText(const Json& j) { return j.is_number() ? Json(j.dump()) : j; }

template <typename Fn>
Json MapArray(const Json& j, Fn fn) {
  if (!j.is_array()) return j;
  Json out = Json::array();
  for (const Json& e : j) out.push_back(fn(e));
  return out;
}

template <typename Fn>
Json MapObject(const Json& j, Fn fn) {
  if (!j.is_object()) return j;
  Json out = Json::object();
  for (const auto& [k, v] : j.items()) out[k] = fn(v);
  return out;
}

Json AttributeToProto(const Json& in) {
  if (!in.is_object() || in.size() != 1) return in;  // the parser says what is wrong
  const std::string type = in.begin().key();
  const Json& v = in.begin().value();
  if (type == "S") return {{"s", v}};
  if (type == "N") return {{"n", NumberText(v)}};
  if (type == "B") return {{"b", Base64Text(v)}};
  if (type == "BOOL") return {{"bool_value", v}};
  if (type == "NULL") return {{"null_value", v}};
  if (type == "L" || type == "l") {
    const Json& values = type == "L" ? v : (v.is_object() && v.contains("values") ? v["values"] : v);
    return {{"l", {{"values", MapArray(values, AttributeToProto)}}}};
  }
  if (type == "M" || type == "m") {
    const Json& fields = type == "M" ? v : (v.is_object() && v.contains("fields") ? v["fields"] : v);
    return {{"m", {{"fields", MapObject(fields, AttributeToProto)}}}};
  }
  if (type == "SS") return {{"ss", {{"values", v}}}};
  if (type == "NS") return {{"ns", {{"values", MapArray(v, NumberText)}}}};
  if (type == "BS") return {{"bs", {{"values", MapArray(v, Base64Text)}}}};
  return in;
}

// An Item: {"attributes": {...}} (protobuf JSON) or the attribute map itself.
Json ItemToProto(const Json& in) {
  if (in.is_object() && in.size() == 1 && in.contains("attributes")) {
    const Json& attributes = in["attributes"];
    const bool proto_form =
        attributes.is_object() &&
        std::all_of(attributes.begin(), attributes.end(), [](const Json& v) { return v.is_object(); });
    if (proto_form) return {{"attributes", MapObject(attributes, AttributeToProto)}};
  }
  return {{"attributes", MapObject(in, AttributeToProto)}};
}

Json FieldToProto(const Json& in, const FieldDescriptor* f) {
  if (f->is_map()) {
    const FieldDescriptor* value = f->message_type()->map_value();
    if (value->message_type() == nullptr) return in;
    return MapObject(in, [value](const Json& v) { return ToProtoMessage(v, value->message_type()); });
  }
  if (f->message_type() != nullptr) {
    if (!f->is_repeated()) return ToProtoMessage(in, f->message_type());
    return MapArray(in, [f](const Json& v) { return ToProtoMessage(v, f->message_type()); });
  }
  if (f->enum_type() != nullptr && in.is_string() &&
      f->enum_type()->FindValueByName(in.get<std::string>()) == nullptr) {
    // "HASH" for KEY_TYPE_HASH.
    const std::string full = absl::StrCat(
        absl::AsciiStrToUpper(Bridge::SnakeCase(f->enum_type()->name())), "_", in.get<std::string>());
    if (f->enum_type()->FindValueByName(full) != nullptr) return full;
  }
  return in;
}

Json ToProtoMessage(const Json& in, const Descriptor* d) {
  if (d->full_name() == kAttributeValue) return AttributeToProto(in);
  if (d->full_name() == kItem) return ItemToProto(in);
  if (!InTablesPackage(d)) return in;  // Timestamp, ...
  if (IsListMessage(d) && in.is_array()) {
    return {{d->field(0)->name(), FieldToProto(in, d->field(0))}};
  }
  if (!in.is_object()) return in;
  Json out = Json::object();
  for (const auto& [name, value] : in.items()) {
    const FieldDescriptor* f = d->FindFieldByName(name);
    if (f == nullptr) f = d->FindFieldByCamelcaseName(name);
    if (f == nullptr) f = d->FindFieldByName(Bridge::SnakeCase(name));  // PascalCase
    if (f == nullptr) {
      out[name] = value;  // unknown: the parser names it
      continue;
    }
    out[f->name()] = FieldToProto(value, f);
  }
  return out;
}

// -- responses: a tables message -> DynamoDB's form

Json DynamoOf(const Message& m);
Json ItemOf(const Message& item);

Json BytesOf(const std::string& bytes) { return absl::Base64Escape(bytes); }

Json AttributeOf(const Message& value) {
  const Reflection* r = value.GetReflection();
  const FieldDescriptor* f =
      r->GetOneofFieldDescriptor(value, value.GetDescriptor()->oneof_decl(0));
  if (f == nullptr) return nullptr;
  std::string type;
  for (const auto& [field, key] : kTypeKeys) {
    if (f->name() == field) type = key;
  }
  Json v;
  if (type == "S" || type == "N") {
    v = r->GetString(value, f);
  } else if (type == "B") {
    v = BytesOf(r->GetString(value, f));
  } else if (type == "BOOL" || type == "NULL") {
    v = r->GetBool(value, f);
  } else {
    // L, M and the sets hold one field: values (repeated) or fields (a map).
    const Message& inner = r->GetMessage(value, f);
    const FieldDescriptor* g = inner.GetDescriptor()->field(0);
    const Reflection* ir = inner.GetReflection();
    v = g->is_map() ? Json::object() : Json::array();
    for (int i = 0; i < ir->FieldSize(inner, g); ++i) {
      if (g->is_map()) {
        const Message& entry = ir->GetRepeatedMessage(inner, g, i);
        const Descriptor* ed = entry.GetDescriptor();
        v[entry.GetReflection()->GetString(entry, ed->map_key())] =
            AttributeOf(entry.GetReflection()->GetMessage(entry, ed->map_value()));
      } else if (g->message_type() != nullptr) {
        v.push_back(AttributeOf(ir->GetRepeatedMessage(inner, g, i)));
      } else if (g->type() == FieldDescriptor::TYPE_BYTES) {
        v.push_back(BytesOf(ir->GetRepeatedString(inner, g, i)));
      } else {
        v.push_back(ir->GetRepeatedString(inner, g, i));
      }
    }
  }
  return {{type, std::move(v)}};
}

// A message as a value: an Item is its attributes, a list message its list,
// a timestamp epoch seconds.
Json ValueOf(const Message& m) {
  const Descriptor* d = m.GetDescriptor();
  const Reflection* r = m.GetReflection();
  if (d->full_name() == kAttributeValue) return AttributeOf(m);
  if (d->full_name() == kItem) return ItemOf(m);
  if (d->full_name() == "google.protobuf.Timestamp") {
    return static_cast<double>(r->GetInt64(m, d->FindFieldByName("seconds"))) +
           r->GetInt32(m, d->FindFieldByName("nanos")) / 1e9;
  }
  if (IsListMessage(d)) {
    Json out = Json::array();
    for (int i = 0; i < r->FieldSize(m, d->field(0)); ++i) {
      out.push_back(ValueOf(r->GetRepeatedMessage(m, d->field(0), i)));
    }
    return out;
  }
  return DynamoOf(m);
}

Json ScalarOf(const Message& m, const FieldDescriptor* f, int i) {
  const Reflection* r = m.GetReflection();
  const bool rep = i >= 0;
  switch (f->cpp_type()) {
    case FieldDescriptor::CPPTYPE_STRING:
      return rep ? r->GetRepeatedString(m, f, i) : r->GetString(m, f);
    case FieldDescriptor::CPPTYPE_BOOL:
      return rep ? r->GetRepeatedBool(m, f, i) : r->GetBool(m, f);
    case FieldDescriptor::CPPTYPE_INT32:
      return rep ? r->GetRepeatedInt32(m, f, i) : r->GetInt32(m, f);
    case FieldDescriptor::CPPTYPE_INT64:
      return rep ? r->GetRepeatedInt64(m, f, i) : r->GetInt64(m, f);
    case FieldDescriptor::CPPTYPE_UINT32:
      return rep ? r->GetRepeatedUInt32(m, f, i) : r->GetUInt32(m, f);
    case FieldDescriptor::CPPTYPE_UINT64:
      return rep ? r->GetRepeatedUInt64(m, f, i) : r->GetUInt64(m, f);
    case FieldDescriptor::CPPTYPE_DOUBLE:
      return rep ? r->GetRepeatedDouble(m, f, i) : r->GetDouble(m, f);
    case FieldDescriptor::CPPTYPE_FLOAT:
      return rep ? r->GetRepeatedFloat(m, f, i) : r->GetFloat(m, f);
    case FieldDescriptor::CPPTYPE_ENUM:
      return DynamoEnumName(rep ? r->GetRepeatedEnum(m, f, i) : r->GetEnum(m, f));
    case FieldDescriptor::CPPTYPE_MESSAGE:
      break;
  }
  return nullptr;
}

// The value of a map field (keys to attribute values or to messages).
Json MapOf(const Message& m, const FieldDescriptor* f) {
  const Reflection* r = m.GetReflection();
  Json out = Json::object();
  for (int i = 0; i < r->FieldSize(m, f); ++i) {
    const Message& entry = r->GetRepeatedMessage(m, f, i);
    const Reflection* er = entry.GetReflection();
    const Descriptor* ed = entry.GetDescriptor();
    const std::string key = er->GetString(entry, ed->map_key());
    out[key] = ed->map_value()->message_type() != nullptr
                   ? ValueOf(er->GetMessage(entry, ed->map_value()))
                   : ScalarOf(entry, ed->map_value(), -1);
  }
  return out;
}

// An Item's attribute map.
Json ItemOf(const Message& item) {
  return MapOf(item, item.GetDescriptor()->FindFieldByName("attributes"));
}

Json DynamoOf(const Message& m) {
  const Descriptor* d = m.GetDescriptor();
  const Reflection* r = m.GetReflection();
  Json out = Json::object();
  for (int i = 0; i < d->field_count(); ++i) {
    const FieldDescriptor* f = d->field(i);
    std::string name = PascalCase(f->name());
    const bool is_message = f->message_type() != nullptr && !f->is_map();
    Json v;
    if (f->is_map()) {
      if (IsAttributeMap(f) && r->FieldSize(m, f) == 0) continue;
      v = MapOf(m, f);
    } else if (f->is_repeated()) {
      if (is_message && f->message_type()->name() == "ConsumedCapacity" &&
          r->FieldSize(m, f) == 0) {
        continue;  // not asked for
      }
      // TransactGetItems: DynamoDB's Responses are [{"Item": {...}}, ...].
      const bool item_responses = d->name() == "TransactGetItemsResponse";
      v = Json::array();
      for (int j = 0; j < r->FieldSize(m, f); ++j) {
        if (!is_message) {
          v.push_back(ScalarOf(m, f, j));
          continue;
        }
        const Message& e = r->GetRepeatedMessage(m, f, j);
        if (item_responses) {
          Json item = ItemOf(e);
          v.push_back(item.empty() ? Json::object() : Json{{"Item", std::move(item)}});
        } else {
          v.push_back(ValueOf(e));
        }
      }
    } else if (is_message) {
      if (!r->HasField(m, f)) continue;
      v = ValueOf(r->GetMessage(m, f));
    } else {
      if (f->cpp_type() == FieldDescriptor::CPPTYPE_STRING && r->GetString(m, f).empty()) continue;
      if (f->cpp_type() == FieldDescriptor::CPPTYPE_ENUM && r->GetEnumValue(m, f) == 0) continue;
      v = ScalarOf(m, f, -1);
    }
    if (d->name() == "TableDescription" && f->name() == "billing_mode") {
      // DynamoDB nests the mode, and names the time to live settings as
      // DescribeTimeToLive does.
      name = "BillingModeSummary";
      v = Json{{"BillingMode", std::move(v)}};
    } else if (d->name() == "TableDescription" && f->name() == "time_to_live") {
      name = "TimeToLiveDescription";
    }
    out[name] = std::move(v);
  }
  return out;
}

}  // namespace

std::string Bridge::SnakeCase(const std::string& name) {
  std::string out;
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    if (std::isupper(static_cast<unsigned char>(c))) {
      if (i > 0) out.push_back('_');
      out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    } else {
      out.push_back(c);
    }
  }
  return out;
}

Bridge::Bridge(
    const std::map<std::string, std::vector<const google::protobuf::ServiceDescriptor*>>&
        services) {
  for (const auto& [short_name, descriptors] : services) {
    for (const auto* service : descriptors) {
      for (int i = 0; i < service->method_count(); ++i) {
        const auto* method = service->method(i);
        if (method->client_streaming() || method->server_streaming()) continue;
        methods_[absl::StrCat("thingtank.", short_name, ".", SnakeCase(method->name()))] = method;
      }
    }
  }
}

std::vector<std::string> Bridge::procedures() const {
  std::vector<std::string> out;
  for (const auto& [name, method] : methods_) out.push_back(name);
  return out;
}

void Bridge::Install(Router* router) {
  router->Provide("thingtank.", MatchPolicy::kPrefix,
                  [this](ProcedureCall call, std::function<void(ProcedureOutcome)> done) {
                    Invoke(std::move(call), std::move(done));
                  });
}

void Bridge::SetChannel(std::shared_ptr<grpc::Channel> channel) {
  absl::MutexLock lock(&mu_);
  stub_ = std::make_shared<grpc::GenericStub>(std::move(channel));
}

void Bridge::Invoke(ProcedureCall call, std::function<void(ProcedureOutcome)> done) {
  auto it = methods_.find(call.procedure);
  if (it == methods_.end()) {
    return done(ProcedureOutcome::Error(
        "wamp.error.no_such_procedure",
        absl::StrCat("no procedure '", call.procedure,
                     "': ThingTank procedures are thingtank.<service>.<method_in_snake_case>")));
  }
  const google::protobuf::MethodDescriptor* method = it->second;
  // The request: keyword arguments, or a single object as the positional argument.
  Json request_json = call.kwargs;
  if (request_json.empty() && call.args.is_array() && call.args.size() == 1 &&
      call.args[0].is_object()) {
    request_json = call.args[0];
  } else if (call.args.is_array() && !call.args.empty()) {
    return done(ProcedureOutcome::Error(
        "wamp.error.invalid_argument",
        "pass the request as keyword arguments (or one object as the only argument)"));
  }
  static google::protobuf::DynamicMessageFactory* factory = new google::protobuf::DynamicMessageFactory();
  std::unique_ptr<google::protobuf::Message> request(
      factory->GetPrototype(method->input_type())->New());
  const bool dynamo = InTablesPackage(method->input_type());
  if (dynamo) request_json = ToProtoMessage(request_json, method->input_type());
  google::protobuf::util::JsonParseOptions parse_options;
  const auto parsed = google::protobuf::util::JsonStringToMessage(
      request_json.dump(-1, ' ', false, Json::error_handler_t::replace), request.get(),
      parse_options);
  if (!parsed.ok()) {
    return done(ProcedureOutcome::Error(
        "wamp.error.invalid_argument",
        absl::StrCat(method->input_type()->name(), ": ", std::string(parsed.message())),
        Json::object({{"code", "INVALID_ARGUMENT"}})));
  }
  std::shared_ptr<grpc::GenericStub> stub;
  {
    absl::MutexLock lock(&mu_);
    stub = stub_;
  }
  if (stub == nullptr) {
    return done(ErrorFrom(grpc::Status(grpc::StatusCode::UNAVAILABLE, "ThingTank is starting")));
  }
  struct State {
    grpc::ClientContext context;
    grpc::ByteBuffer request, response;
  };
  auto state = std::make_shared<State>();
  bool own_buffer = false;
  if (!grpc::SerializationTraits<google::protobuf::Message>::Serialize(*request, &state->request,
                                                                        &own_buffer)
           .ok()) {
    return done(ProcedureOutcome::Error("wamp.error.invalid_argument", "unserializable request"));
  }
  state->context.set_deadline(std::chrono::system_clock::now() +
                              std::chrono::milliseconds(absl::ToInt64Milliseconds(kCallDeadline)));
  const std::string path =
      absl::StrCat("/", method->service()->full_name(), "/", method->name());
  stub->UnaryCall(
      &state->context, path, grpc::StubOptions(), &state->request, &state->response,
      [state, method, dynamo, done = std::move(done)](grpc::Status status) {
        if (!status.ok()) return done(ErrorFrom(status));
        std::unique_ptr<google::protobuf::Message> response(
            factory->GetPrototype(method->output_type())->New());
        if (!grpc::SerializationTraits<google::protobuf::Message>::Deserialize(
                 &state->response, response.get())
                 .ok()) {
          return done(ProcedureOutcome::Error("thingtank.error.internal", "unparsable response"));
        }
        if (dynamo) return done(ProcedureOutcome::Result(Json::array(), DynamoOf(*response)));
        google::protobuf::util::JsonPrintOptions print_options;
        print_options.preserve_proto_field_names = true;
        std::string json;
        if (auto printed = google::protobuf::util::MessageToJsonString(*response, &json, print_options);
            !printed.ok()) {
          return done(ProcedureOutcome::Error(
              "thingtank.error.internal",
              absl::StrCat("cannot print the response as JSON: ", printed.message().ToString())));
        }
        Json kwargs = Json::parse(json, nullptr, false);
        if (kwargs.is_discarded()) kwargs = Json::object();
        done(ProcedureOutcome::Result(Json::array(), std::move(kwargs)));
      });
}

}  // namespace thingtank::wamp
