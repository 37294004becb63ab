// WAMP v2 message types and shape validation (wamp-proto basic + advanced
// profile). A message is a JSON array [type, ...]; ValidateMessage checks the
// element count and the type of every element for its message type, so the
// router can index elements without further checks.
#pragma once

#include <cstdint>
#include <string_view>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"

namespace thingtank::wamp {

enum class MessageType : int {
  kHello = 1, kWelcome = 2, kAbort = 3, kChallenge = 4, kAuthenticate = 5,
  kGoodbye = 6, kError = 8, kPublish = 16, kPublished = 17, kSubscribe = 32,
  kSubscribed = 33, kUnsubscribe = 34, kUnsubscribed = 35, kEvent = 36,
  kCall = 48, kCancel = 49, kResult = 50, kRegister = 64, kRegistered = 65,
  kUnregister = 66, kUnregistered = 67, kInvocation = 68, kInterrupt = 69,
  kYield = 70,
};

std::string_view MessageTypeName(MessageType type);  // "HELLO", ...

// Largest id: 2^53 (ids are in [1, 2^53]).
inline constexpr uint64_t kMaxId = uint64_t{1} << 53;

// InvalidArgument naming the element when `message` is not a well-formed WAMP
// message of a known type (wrong element count or types, id out of range,
// Details/Options not a dict, Arguments not a list, ArgumentsKw not a dict).
absl::StatusOr<MessageType> ValidateMessage(const nlohmann::json& message);

}  // namespace thingtank::wamp
