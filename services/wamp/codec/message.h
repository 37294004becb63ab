// WAMP v2 message types and shape validation (wamp-proto basic + advanced
// profile). A message is an array [type, ...]; ValidateMessage checks the
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

// "HELLO", ...; "UNKNOWN" for a value outside the enum.
std::string_view MessageTypeName(MessageType type);

// Largest id: 2^53. Ids are integers in [1, 2^53] (spec "IDs"); the only 0
// accepted is the Request of UNSUBSCRIBED/UNREGISTERED when it carries
// Details (subscription/registration revocation).
inline constexpr uint64_t kMaxId = uint64_t{1} << 53;

// True when `value` is an integer (not a float) in [1, kMaxId].
bool IsValidId(const nlohmann::json& value);

// OK with the type when `message` is a well-formed WAMP message, else
// InvalidArgument naming the message and element, e.g.
// "PUBLISH element 2 (Options) must be a dict". Checks:
//  - the element count and every element's type for the message type;
//  - ids in [1, 2^53]; URIs valid per IsValidUri (SUBSCRIBE and REGISTER
//    under the policy of Options.match, which must be exact/prefix/wildcard);
//  - Arguments a list and ArgumentsKw a dict (so ArgumentsKw needs Arguments);
//    in payload passthru mode (Options/Details has "enc_algo" or
//    "ppt_scheme") Arguments may instead be the binary payload, with no
//    ArgumentsKw after it;
//  - the types of the Options/Details attributes the spec defines (e.g.
//    PUBLISH.Options.acknowledge|bool, exclude|list[id]); unknown attributes
//    are ignored, as the spec requires.
// Extension messages (codes 256..1023, e.g. EVENT_RECEIVED = 337) are
// rejected as unknown types.
absl::StatusOr<MessageType> ValidateMessage(const nlohmann::json& message);

}  // namespace thingtank::wamp
