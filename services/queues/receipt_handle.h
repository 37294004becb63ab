#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace thingtank::queues {

// What a receipt handle names: one receive of one message of one queue.
// Encoded as web-safe base64 (no padding) of a version byte, the queue's
// internal id, the message sequence number and the random token of that
// receive, each 8 bytes big-endian. Opaque to clients.
struct ReceiptHandle {
  uint64_t queue_id = 0;
  uint64_t seq = 0;
  uint64_t token = 0;
};

std::string EncodeReceiptHandle(const ReceiptHandle& handle);
// nullopt when `text` is not a handle this service produced.
std::optional<ReceiptHandle> DecodeReceiptHandle(const std::string& text);

}  // namespace thingtank::queues
