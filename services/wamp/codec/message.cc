#include "services/wamp/codec/message.h"

#include <array>
#include <cstddef>
#include <initializer_list>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "services/wamp/codec/uri.h"

namespace thingtank::wamp {
namespace {

using nlohmann::json;

// Debian's Abseil is built as C++11: absl::string_view is its own type.
absl::string_view Av(std::string_view s) { return absl::string_view(s.data(), s.size()); }

// ---- Element shapes (spec "Message Definitions", basic + advanced profile) ----

enum class Kind {
  kId,               // integer in [1, 2^53]
  kRevocableRequest, // id, or 0 when Details follow (subscription/registration revocation)
  kInteger,          // non-negative integer
  kString,
  kUri,              // string, valid exact URI
  kPatternUri,       // string, valid URI under Options.match
  kDict,             // Options / Details / Extra
  kArguments,        // list (or binary payload in payload passthru mode)
  kArgumentsKw,      // dict
};

struct Element {
  std::string_view name;
  Kind kind;
};

struct Shape {
  MessageType type;
  std::string_view name;
  size_t min_size;  // counting the type code
  size_t max_size;
  std::array<Element, 6> elements;  // elements[i] is message element i + 1
};

constexpr Element kRequest{"Request", Kind::kId};
constexpr Element kOptions{"Options", Kind::kDict};
constexpr Element kDetails{"Details", Kind::kDict};
constexpr Element kArgs{"Arguments", Kind::kArguments};
constexpr Element kKwargs{"ArgumentsKw", Kind::kArgumentsKw};

constexpr Shape kShapes[] = {
    {MessageType::kHello, "HELLO", 3, 3, {{{"Realm", Kind::kUri}, kDetails}}},
    {MessageType::kWelcome, "WELCOME", 3, 3, {{{"Session", Kind::kId}, kDetails}}},
    {MessageType::kAbort, "ABORT", 3, 3, {{kDetails, {"Reason", Kind::kUri}}}},
    {MessageType::kChallenge, "CHALLENGE", 3, 3,
     {{{"AuthMethod", Kind::kString}, {"Extra", Kind::kDict}}}},
    {MessageType::kAuthenticate, "AUTHENTICATE", 3, 3,
     {{{"Signature", Kind::kString}, {"Extra", Kind::kDict}}}},
    {MessageType::kGoodbye, "GOODBYE", 3, 3, {{kDetails, {"Reason", Kind::kUri}}}},
    {MessageType::kError, "ERROR", 5, 7,
     {{{"REQUEST.Type", Kind::kInteger}, {"REQUEST.Request", Kind::kId}, kDetails,
       {"Error", Kind::kUri}, kArgs, kKwargs}}},
    {MessageType::kPublish, "PUBLISH", 4, 6,
     {{kRequest, kOptions, {"Topic", Kind::kUri}, kArgs, kKwargs}}},
    {MessageType::kPublished, "PUBLISHED", 3, 3,
     {{{"PUBLISH.Request", Kind::kId}, {"Publication", Kind::kId}}}},
    {MessageType::kSubscribe, "SUBSCRIBE", 4, 4,
     {{kRequest, kOptions, {"Topic", Kind::kPatternUri}}}},
    {MessageType::kSubscribed, "SUBSCRIBED", 3, 3,
     {{{"SUBSCRIBE.Request", Kind::kId}, {"Subscription", Kind::kId}}}},
    {MessageType::kUnsubscribe, "UNSUBSCRIBE", 3, 3,
     {{kRequest, {"SUBSCRIBED.Subscription", Kind::kId}}}},
    {MessageType::kUnsubscribed, "UNSUBSCRIBED", 2, 3,
     {{{"UNSUBSCRIBE.Request", Kind::kRevocableRequest}, kDetails}}},
    {MessageType::kEvent, "EVENT", 4, 6,
     {{{"SUBSCRIBED.Subscription", Kind::kId}, {"PUBLISHED.Publication", Kind::kId}, kDetails,
       kArgs, kKwargs}}},
    {MessageType::kCall, "CALL", 4, 6,
     {{kRequest, kOptions, {"Procedure", Kind::kUri}, kArgs, kKwargs}}},
    {MessageType::kCancel, "CANCEL", 3, 3, {{{"CALL.Request", Kind::kId}, kOptions}}},
    {MessageType::kResult, "RESULT", 3, 5,
     {{{"CALL.Request", Kind::kId}, kDetails, kArgs, kKwargs}}},
    {MessageType::kRegister, "REGISTER", 4, 4,
     {{kRequest, kOptions, {"Procedure", Kind::kPatternUri}}}},
    {MessageType::kRegistered, "REGISTERED", 3, 3,
     {{{"REGISTER.Request", Kind::kId}, {"Registration", Kind::kId}}}},
    {MessageType::kUnregister, "UNREGISTER", 3, 3,
     {{kRequest, {"REGISTERED.Registration", Kind::kId}}}},
    {MessageType::kUnregistered, "UNREGISTERED", 2, 3,
     {{{"UNREGISTER.Request", Kind::kRevocableRequest}, kDetails}}},
    {MessageType::kInvocation, "INVOCATION", 4, 6,
     {{kRequest, {"REGISTERED.Registration", Kind::kId}, kDetails, kArgs, kKwargs}}},
    {MessageType::kInterrupt, "INTERRUPT", 3, 3, {{{"CANCEL.Request", Kind::kId}, kOptions}}},
    {MessageType::kYield, "YIELD", 3, 5,
     {{{"INVOCATION.Request", Kind::kId}, kOptions, kArgs, kKwargs}}},
};

const Shape* FindShape(int64_t code) {
  for (const Shape& shape : kShapes) {
    if (static_cast<int64_t>(shape.type) == code) return &shape;
  }
  return nullptr;
}

// ---- Options/Details attributes defined by the spec (advanced profile) ----

enum class AttrKind {
  kBool, kString, kUri, kId, kInteger, kDict, kIdList, kStringList, kDictList,
  kMatch, kInvoke, kCancelMode, kEncAlgo, kEncSerializer,
};

struct Attribute {
  std::string_view key;
  AttrKind kind;
};

// Payload passthru / transparency and router-to-router attributes, valid in
// every Options and Details dict.
constexpr Attribute kCommonAttributes[] = {
    {"forward_for", AttrKind::kDictList}, {"enc_algo", AttrKind::kEncAlgo},
    {"enc_serializer", AttrKind::kEncSerializer}, {"enc_key", AttrKind::kString},
    {"ppt_scheme", AttrKind::kString}, {"ppt_serializer", AttrKind::kString},
    {"ppt_cipher", AttrKind::kString}, {"ppt_keyid", AttrKind::kString},
};

constexpr Attribute kPublishOptions[] = {
    {"acknowledge", AttrKind::kBool}, {"exclude_me", AttrKind::kBool},
    {"exclude", AttrKind::kIdList}, {"exclude_authid", AttrKind::kStringList},
    {"exclude_authrole", AttrKind::kStringList}, {"eligible", AttrKind::kIdList},
    {"eligible_authid", AttrKind::kStringList}, {"eligible_authrole", AttrKind::kStringList},
    {"disclose_me", AttrKind::kBool}, {"retain", AttrKind::kBool},
    {"transaction_hash", AttrKind::kString},
};
constexpr Attribute kSubscribeOptions[] = {
    {"match", AttrKind::kMatch}, {"get_retained", AttrKind::kBool},
};
constexpr Attribute kEventDetails[] = {
    {"publisher", AttrKind::kId}, {"publisher_authid", AttrKind::kString},
    {"publisher_authrole", AttrKind::kString}, {"topic", AttrKind::kUri},
    {"retained", AttrKind::kBool}, {"transaction_hash", AttrKind::kString},
    {"x_acknowledged_delivery", AttrKind::kBool},
};
constexpr Attribute kCallOptions[] = {
    {"timeout", AttrKind::kInteger}, {"receive_progress", AttrKind::kBool},
    {"progress", AttrKind::kBool}, {"disclose_me", AttrKind::kBool},
    {"transaction_hash", AttrKind::kString},
};
constexpr Attribute kRegisterOptions[] = {
    {"match", AttrKind::kMatch}, {"invoke", AttrKind::kInvoke},
    {"disclose_caller", AttrKind::kBool}, {"concurrency", AttrKind::kInteger},
    {"force_reregister", AttrKind::kBool},
};
constexpr Attribute kInvocationDetails[] = {
    {"caller", AttrKind::kId}, {"caller_authid", AttrKind::kString},
    {"caller_authrole", AttrKind::kString}, {"procedure", AttrKind::kUri},
    {"receive_progress", AttrKind::kBool}, {"progress", AttrKind::kBool},
    {"timeout", AttrKind::kInteger}, {"transaction_hash", AttrKind::kString},
};
constexpr Attribute kProgressAttributes[] = {{"progress", AttrKind::kBool}};
constexpr Attribute kCancelOptions[] = {{"mode", AttrKind::kCancelMode}};
constexpr Attribute kSessionDetails[] = {
    {"roles", AttrKind::kDict}, {"authmethods", AttrKind::kStringList},
    {"authid", AttrKind::kString}, {"authrole", AttrKind::kString},
    {"authmethod", AttrKind::kString}, {"authprovider", AttrKind::kString},
    {"authextra", AttrKind::kDict}, {"agent", AttrKind::kString},
};

struct AttributeTable {
  const Attribute* begin;
  const Attribute* end;
};

template <size_t N>
constexpr AttributeTable Table(const Attribute (&attributes)[N]) {
  return {attributes, attributes + N};
}

AttributeTable SpecificAttributes(MessageType type) {
  switch (type) {
    case MessageType::kHello:
    case MessageType::kWelcome: return Table(kSessionDetails);
    case MessageType::kPublish: return Table(kPublishOptions);
    case MessageType::kSubscribe: return Table(kSubscribeOptions);
    case MessageType::kEvent: return Table(kEventDetails);
    case MessageType::kCall: return Table(kCallOptions);
    case MessageType::kRegister: return Table(kRegisterOptions);
    case MessageType::kInvocation: return Table(kInvocationDetails);
    case MessageType::kResult:
    case MessageType::kYield: return Table(kProgressAttributes);
    case MessageType::kCancel:
    case MessageType::kInterrupt: return Table(kCancelOptions);
    default: return {nullptr, nullptr};
  }
}

bool IsOneOf(const json& value, std::initializer_list<std::string_view> names) {
  if (!value.is_string()) return false;
  const std::string& s = value.get_ref<const std::string&>();
  for (std::string_view name : names) {
    if (s == name) return true;
  }
  return false;
}

// Custom identifiers of payload transparency: "x_" then [a-z][0-9a-z_]+ (Autobahn).
bool IsCustomIdentifier(const json& value) {
  if (!value.is_string()) return false;
  const std::string& s = value.get_ref<const std::string&>();
  if (s.rfind("x_", 0) != 0) return false;
  if (s.size() == 2) return true;
  if (s.size() < 4 || s[2] < 'a' || s[2] > 'z') return false;
  for (size_t i = 3; i < s.size(); ++i) {
    const char c = s[i];
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

bool IsNonNegativeInteger(const json& value) {
  return value.is_number_unsigned() ||
         (value.is_number_integer() && value.get<json::number_integer_t>() >= 0);
}

template <typename Pred>
bool IsListOf(const json& value, Pred pred) {
  if (!value.is_array()) return false;
  for (const json& item : value) {
    if (!pred(item)) return false;
  }
  return true;
}

// Returns the requirement `value` fails, or nullopt when it is fine.
std::optional<std::string_view> CheckAttribute(AttrKind kind, const json& value) {
  switch (kind) {
    case AttrKind::kBool:
      if (!value.is_boolean()) return "a bool";
      break;
    case AttrKind::kString:
      if (!value.is_string()) return "a string";
      break;
    case AttrKind::kUri:
      if (!value.is_string() ||
          !IsValidUri(value.get_ref<const std::string&>(), MatchPolicy::kExact)) {
        return "a valid URI";
      }
      break;
    case AttrKind::kId:
      if (!IsValidId(value)) return "an id (integer in [1, 2^53])";
      break;
    case AttrKind::kInteger:
      if (!IsNonNegativeInteger(value)) return "a non-negative integer";
      break;
    case AttrKind::kDict:
      if (!value.is_object()) return "a dict";
      break;
    case AttrKind::kIdList:
      if (!IsListOf(value, IsValidId)) return "a list of ids";
      break;
    case AttrKind::kStringList:
      if (!IsListOf(value, [](const json& v) { return v.is_string(); })) {
        return "a list of strings";
      }
      break;
    case AttrKind::kDictList:
      if (!IsListOf(value, [](const json& v) { return v.is_object(); })) return "a list of dicts";
      break;
    case AttrKind::kMatch:
      if (!IsOneOf(value, {"exact", "prefix", "wildcard"})) {
        return "one of \"exact\", \"prefix\", \"wildcard\"";
      }
      break;
    case AttrKind::kInvoke:
      if (!IsOneOf(value, {"single", "roundrobin", "random", "first", "last"})) {
        return "one of \"single\", \"roundrobin\", \"random\", \"first\", \"last\"";
      }
      break;
    case AttrKind::kCancelMode:
      if (!IsOneOf(value, {"skip", "kill", "killnowait"})) {
        return "one of \"skip\", \"kill\", \"killnowait\"";
      }
      break;
    case AttrKind::kEncAlgo:
      if (!IsOneOf(value, {"cryptobox", "mqtt", "xbr"}) && !IsCustomIdentifier(value)) {
        return "\"cryptobox\", \"mqtt\", \"xbr\" or a custom \"x_...\" identifier";
      }
      break;
    case AttrKind::kEncSerializer:
      if (!IsOneOf(value, {"json", "msgpack", "cbor", "ubjson", "flatbuffers"}) &&
          !IsCustomIdentifier(value)) {
        return "a serializer name or a custom \"x_...\" identifier";
      }
      break;
  }
  return std::nullopt;
}

absl::Status ElementError(const Shape& shape, size_t index, std::string_view requirement) {
  return absl::InvalidArgumentError(absl::StrCat(Av(shape.name), " element ", index, " (",
                                                 Av(shape.elements[index - 1].name), ") must be ",
                                                 Av(requirement)));
}

absl::Status CheckAttributes(const Shape& shape, size_t index, const json& dict,
                             AttributeTable table) {
  for (const AttributeTable& t : {Table(kCommonAttributes), table}) {
    for (const Attribute* a = t.begin; a != t.end; ++a) {
      const auto it = dict.find(a->key);
      if (it == dict.end()) continue;
      if (auto requirement = CheckAttribute(a->kind, *it)) {
        return absl::InvalidArgumentError(
            absl::StrCat(Av(shape.name), " element ", index, " (", Av(shape.elements[index - 1].name),
                         ") attribute '", Av(a->key), "' must be ", Av(*requirement)));
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace

std::string_view MessageTypeName(MessageType type) {
  const Shape* shape = FindShape(static_cast<int64_t>(type));
  return shape == nullptr ? "UNKNOWN" : shape->name;
}

bool IsValidId(const json& value) {
  if (value.is_number_unsigned()) {
    const auto id = value.get<json::number_unsigned_t>();
    return id >= 1 && id <= kMaxId;
  }
  if (value.is_number_integer()) {
    const auto id = value.get<json::number_integer_t>();
    return id >= 1 && static_cast<uint64_t>(id) <= kMaxId;
  }
  return false;
}

absl::StatusOr<MessageType> ValidateMessage(const json& message) {
  if (!message.is_array() || message.empty()) {
    return absl::InvalidArgumentError("a WAMP message must be a non-empty array");
  }
  const json& code = message[0];
  if (!code.is_number_integer()) {
    return absl::InvalidArgumentError("WAMP message type must be an integer");
  }
  // Codes beyond the extension range [256, 1023] cannot be any message.
  const bool in_range = IsNonNegativeInteger(code) && code.get<uint64_t>() <= 1023;
  const Shape* found = in_range ? FindShape(code.get<int64_t>()) : nullptr;
  if (found == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("unknown WAMP message type ", code.dump()));
  }
  const Shape& shape = *found;
  if (message.size() < shape.min_size || message.size() > shape.max_size) {
    return absl::InvalidArgumentError(
        shape.min_size == shape.max_size
            ? absl::StrCat(Av(shape.name), " must have ", shape.min_size, " elements, got ",
                           message.size())
            : absl::StrCat(Av(shape.name), " must have ", shape.min_size, " to ", shape.max_size,
                           " elements, got ", message.size()));
  }

  MatchPolicy policy = MatchPolicy::kExact;
  bool payload_mode = false;  // payload passthru: Arguments may be the binary payload
  for (size_t i = 1; i < message.size(); ++i) {
    const json& element = message[i];
    const Element& spec = shape.elements[i - 1];
    switch (spec.kind) {
      case Kind::kId:
        if (!IsValidId(element)) return ElementError(shape, i, "an id (integer in [1, 2^53])");
        break;
      case Kind::kRevocableRequest: {
        const bool revocation = message.size() == 3 && IsNonNegativeInteger(element) &&
                                element.get<uint64_t>() == 0;
        if (!revocation && !IsValidId(element)) {
          return ElementError(shape, i, "an id (integer in [1, 2^53]; 0 only with Details)");
        }
        break;
      }
      case Kind::kInteger:
        if (!IsNonNegativeInteger(element)) return ElementError(shape, i, "a non-negative integer");
        break;
      case Kind::kString:
        if (!element.is_string()) return ElementError(shape, i, "a string");
        break;
      case Kind::kUri:
      case Kind::kPatternUri: {
        const MatchPolicy uri_policy = spec.kind == Kind::kUri ? MatchPolicy::kExact : policy;
        if (!element.is_string()) return ElementError(shape, i, "a string (URI)");
        if (!IsValidUri(element.get_ref<const std::string&>(), uri_policy)) {
          return ElementError(shape, i,
                              absl::StrCat("a valid URI for match policy \"",
                                           Av(MatchPolicyName(uri_policy)), "\""));
        }
        break;
      }
      case Kind::kDict: {
        if (!element.is_object()) return ElementError(shape, i, "a dict");
        if (spec.name != "Options" && spec.name != "Details") break;
        if (auto status = CheckAttributes(shape, i, element, SpecificAttributes(shape.type));
            !status.ok()) {
          return status;
        }
        if (const auto it = element.find("match"); it != element.end() && it->is_string()) {
          policy = ParseMatchPolicy(it->get_ref<const std::string&>()).value_or(policy);
        }
        payload_mode = element.contains("enc_algo") || element.contains("ppt_scheme");
        break;
      }
      case Kind::kArguments:
        if (element.is_array()) break;
        if (!payload_mode) return ElementError(shape, i, "a list");
        if (!element.is_binary()) {
          return ElementError(shape, i, "a list or, in payload passthru mode, the binary payload");
        }
        if (message.size() > i + 1) {
          return ElementError(shape, i + 1, "absent after a binary payload");
        }
        break;
      case Kind::kArgumentsKw:
        if (!element.is_object()) return ElementError(shape, i, "a dict");
        break;
    }
  }
  return shape.type;
}

}  // namespace thingtank::wamp
