#include "services/queues/storage/queue_keys.h"

#include "services/common/storage/key_codec.h"

namespace thingtank::queues::storage {

std::string RegistryPrefix() {
  std::string out;
  keys::AppendResource(&out, "queues/registry");
  return out;
}

std::string RegistryKey(std::string_view name) {
  std::string out = RegistryPrefix();
  out.append(name);
  return out;
}

std::string NextIdKey() {
  std::string out;
  keys::AppendResource(&out, "queues/next_id");
  return out;
}

std::string QueuePrefix(uint64_t id) {
  std::string encoded;
  keys::AppendUint64(&encoded, id);
  std::string out;
  keys::AppendResource(&out, encoded);
  return out;
}

std::string CountersKey(uint64_t id) {
  std::string out = QueuePrefix(id);
  out.push_back('c');
  return out;
}

std::string MessageKey(uint64_t id, uint64_t seq) {
  std::string out = QueuePrefix(id);
  keys::AppendUint64(&out, seq);
  return out;
}

std::string DedupKey(uint64_t id, std::string_view dedup_id) {
  std::string out = QueuePrefix(id);
  out.append(dedup_id);
  return out;
}

}  // namespace thingtank::queues::storage
