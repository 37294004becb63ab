// The naming rules of the services forwarding rules write to, checked when a
// rule is created so that a rule never names a queue, table or stream that
// cannot exist. Kept here, not taken from the queues or tables services: the rules
// talk to them over gRPC only and must not link their internals.
#pragma once

#include <string_view>

namespace thingtank::wamp {

// An SQS queue name: 1 to 80 letters, digits, '-' and '_'; a FIFO queue's
// name ends in ".fifo" (counted in the 80).
inline bool IsValidQueueName(std::string_view name) {
  constexpr std::string_view kFifo = ".fifo";
  if (name.empty() || name.size() > 80) return false;
  std::string_view base = name;
  if (base.size() > kFifo.size() && base.substr(base.size() - kFifo.size()) == kFifo) {
    base.remove_suffix(kFifo.size());
  }
  for (char c : base) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

// A DynamoDB table name: 3 to 255 letters, digits, '_', '-' and '.'.
inline bool IsValidTableName(std::string_view name) {
  if (name.size() < 3 || name.size() > 255) return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

// A Kinesis stream name: 1 to 128 letters, digits, '_', '.' and '-'.
inline bool IsValidStreamName(std::string_view name) {
  if (name.empty() || name.size() > 128) return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

inline constexpr char kQueueNameRule[] =
    "is not a valid queue name: 1 to 80 letters, digits, '-' and '_' (a FIFO queue's ends in "
    "\".fifo\")";
inline constexpr char kTableNameRule[] =
    "is not a valid table name: 3 to 255 letters, digits, '_', '-' and '.'";
inline constexpr char kStreamNameRule[] =
    "is not a valid stream name: 1 to 128 letters, digits, '_', '.' and '-'";

}  // namespace thingtank::wamp
