// What the router knows of a session's other end: a WebSocket connection or an
// in-process client (the gRPC face, forwarding rules). Messages go out as
// OutMessage so one EVENT is encoded once per serializer, however many
// subscribers receive it.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "services/wamp/codec/codec.h"
#include "services/wamp/codec/message.h"

namespace thingtank::wamp {

using Json = nlohmann::json;

// One outgoing message, encoded lazily and at most once per serializer. Not
// thread-safe: used by one thread during one dispatch.
class OutMessage {
 public:
  explicit OutMessage(Json message) : message_(std::move(message)) {}
  const Json& message() const { return message_; }
  MessageType type() const { return static_cast<MessageType>(message_[0].get<int>()); }
  const std::shared_ptr<const std::string>& Encoded(Serializer serializer) {
    auto& slot = encoded_[static_cast<int>(serializer)];
    if (!slot) slot = std::make_shared<const std::string>(Encode(serializer, message_));
    return slot;
  }

 private:
  Json message_;
  std::array<std::shared_ptr<const std::string>, 3> encoded_;
};

// Appends Arguments and ArgumentsKw to a message, omitting them when empty
// (never null): every message the router or an in-process client builds.
inline void AppendPayload(Json& message, const Json* args, const Json* kwargs) {
  const bool has_kwargs = kwargs != nullptr && kwargs->is_object() && !kwargs->empty();
  const bool has_args = args != nullptr && args->is_array() && !args->empty();
  if (has_args || has_kwargs) message.push_back(has_args ? *args : Json::array());
  if (has_kwargs) message.push_back(*kwargs);
}

class Peer {
 public:
  virtual ~Peer() = default;
  // Queues a message for the peer. Never blocks (called under the realm's
  // lock). False when the peer is gone or could not take it.
  virtual bool Send(OutMessage& message) = 0;
  // Ends the session's transport (after ABORT or GOODBYE).
  virtual void Close() = 0;
  // "websocket" or "internal"; shown by wamp.session.get.
  virtual Json TransportInfo() const = 0;
};

}  // namespace thingtank::wamp
