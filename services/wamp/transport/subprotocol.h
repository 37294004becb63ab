// WAMP subprotocol negotiation for the WebSocket handshake. Kept inside the
// transport (a three-entry table) so the transport does not depend on the
// codec's implementation, only on its Serializer enum.
#pragma once

#include <optional>
#include <string_view>

#include "services/wamp/codec/codec.h"

namespace thingtank::wamp::transport {

// The names we accept, as listed in the 400 body of a refused handshake.
inline constexpr std::string_view kSupportedSubprotocols =
    "wamp.2.json, wamp.2.msgpack, wamp.2.cbor";

std::string_view WireName(Serializer serializer);
// Exact (case-sensitive) match of one subprotocol token.
std::optional<Serializer> SerializerForWireName(std::string_view name);

// Picks the first subprotocol of one Sec-WebSocket-Protocol header value
// ("foo, wamp.2.msgpack") that we support. For several header lines, call it
// on each line in order and take the first hit.
std::optional<Serializer> PickSubprotocol(std::string_view header_value);

}  // namespace thingtank::wamp::transport
