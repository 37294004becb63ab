// WAMP serializers: one WAMP message is one WebSocket message, encoded as
// JSON (text frames), MessagePack or CBOR (binary frames). Values are
// nlohmann::json everywhere in the router; binary values are
// nlohmann::json::binary_t. JSON has no binary type, so the spec carries a
// binary value as a string holding "\0" followed by the base64 of the bytes;
// Decode turns such strings into binary_t and Encode turns binary_t back.
// MessagePack (bin) and CBOR (byte string) carry binary natively.
//
// All functions are stateless and thread-safe.
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

// Deepest nesting of arrays and objects Decode accepts (the message array
// itself is level 1). Bounds the recursion of the binary decoders.
inline constexpr int kMaxNestingDepth = 64;

// Decodes one message's bytes. Malformed input is InvalidArgument naming what
// is wrong: syntax errors, truncation, trailing bytes, invalid UTF-8 in any
// string (all three formats), nesting deeper than kMaxNestingDepth, bad base64
// after a JSON "\0" prefix, CBOR tags. Never throws. Does not check that the
// value is a WAMP message: that is ValidateMessage (message.h).
absl::StatusOr<nlohmann::json> Decode(Serializer serializer, std::string_view bytes);

// Encodes a value; never throws (invalid UTF-8 in JSON strings is replaced by
// U+FFFD). Integers stay integers in every format.
std::string Encode(Serializer serializer, const nlohmann::json& value);

}  // namespace thingtank::wamp
