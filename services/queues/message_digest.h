#pragma once

#include <string>

#include "google/protobuf/map.h"
#include "thingtank/queues/v1/queues.pb.h"

namespace thingtank::queues {

// Digests SQS returns to clients so they can check what was stored.

// Lower-case hex MD5 of `data`.
std::string Md5Hex(const std::string& data);
// Lower-case hex SHA-256 of `data` (content-based deduplication ids).
std::string Sha256Hex(const std::string& data);

// MD5 of message attributes exactly as SQS computes MD5OfMessageAttributes:
// attributes sorted by name; for each, 4-byte big-endian length + name,
// 4-byte length + data type, one transport byte (1 String/Number, 2 Binary),
// 4-byte length + value. Empty string when there are no attributes.
std::string MessageAttributesMd5(
    const google::protobuf::Map<std::string, v1::MessageAttributeValue>& attributes);

}  // namespace thingtank::queues
