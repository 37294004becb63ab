#include "services/queues/receipt_handle.h"

#include <string_view>

#include "absl/strings/escaping.h"
#include "services/common/storage/key_codec.h"

namespace thingtank::queues {
namespace {
constexpr char kVersion = 'R';
constexpr size_t kEncodedBytes = 1 + 3 * 8;
}  // namespace

std::string EncodeReceiptHandle(const ReceiptHandle& handle) {
  std::string raw;
  raw.push_back(kVersion);
  keys::AppendUint64(&raw, handle.queue_id);
  keys::AppendUint64(&raw, handle.seq);
  keys::AppendUint64(&raw, handle.token);
  std::string out;
  absl::WebSafeBase64Escape(raw, &out);
  return out;
}

std::optional<ReceiptHandle> DecodeReceiptHandle(const std::string& text) {
  if (text.empty() || text.size() > 64) return std::nullopt;
  std::string raw;
  if (!absl::WebSafeBase64Unescape(text, &raw)) return std::nullopt;
  if (raw.size() != kEncodedBytes || raw[0] != kVersion) return std::nullopt;
  std::string_view in(raw);
  in.remove_prefix(1);
  ReceiptHandle handle;
  handle.queue_id = *keys::ConsumeUint64(&in);
  handle.seq = *keys::ConsumeUint64(&in);
  handle.token = *keys::ConsumeUint64(&in);
  if (handle.token == 0) return std::nullopt;
  // Reject non-canonical encodings so one handle has one spelling.
  if (EncodeReceiptHandle(handle) != text) return std::nullopt;
  return handle;
}

}  // namespace thingtank::queues
