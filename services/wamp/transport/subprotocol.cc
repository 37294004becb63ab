#include "services/wamp/transport/subprotocol.h"

#include <array>
#include <utility>

namespace thingtank::wamp::transport {
namespace {

constexpr std::array<std::pair<std::string_view, Serializer>, 3> kTable = {{
    {"wamp.2.json", Serializer::kJson},
    {"wamp.2.msgpack", Serializer::kMsgPack},
    {"wamp.2.cbor", Serializer::kCbor},
}};

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::string_view WireName(Serializer serializer) {
  for (const auto& [name, value] : kTable) {
    if (value == serializer) return name;
  }
  return "";
}

std::optional<Serializer> SerializerForWireName(std::string_view name) {
  for (const auto& [wire, value] : kTable) {
    if (wire == name) return value;
  }
  return std::nullopt;
}

std::optional<Serializer> PickSubprotocol(std::string_view header_value) {
  while (!header_value.empty()) {
    size_t comma = header_value.find(',');
    std::string_view token = Trim(header_value.substr(0, comma));
    if (auto serializer = SerializerForWireName(token)) return serializer;
    if (comma == std::string_view::npos) break;
    header_value.remove_prefix(comma + 1);
  }
  return std::nullopt;
}

}  // namespace thingtank::wamp::transport
