// WAMP serializers: one WAMP message is one WebSocket message, encoded as
// JSON (text frames), MessagePack or CBOR (binary frames). Values are
// nlohmann::json everywhere in the router; binary values are
// nlohmann::json::binary_t (JSON carries them as "\0" + base64, per the spec).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"

namespace thingtank::wamp {

enum class Serializer { kJson, kMsgPack, kCbor };

// "wamp.2.json" -> kJson, "wamp.2.msgpack" -> kMsgPack, "wamp.2.cbor" -> kCbor.
std::optional<Serializer> SerializerForSubprotocol(std::string_view subprotocol);
std::string_view SubprotocolName(Serializer serializer);
// True when the serializer's frames are binary WebSocket messages.
bool IsBinary(Serializer serializer);

// Decodes one message's bytes. Malformed input is InvalidArgument naming what
// is wrong; never throws.
absl::StatusOr<nlohmann::json> Decode(Serializer serializer, std::string_view bytes);
// Encodes a value; never throws (invalid UTF-8 in JSON strings is replaced).
std::string Encode(Serializer serializer, const nlohmann::json& value);

}  // namespace thingtank::wamp
