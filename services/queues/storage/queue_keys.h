#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace thingtank::queues::storage {

// Key layout. Every key starts with a length-prefixed resource prefix
// (keys::AppendResource):
//
//   cf "queues_meta"
//     [res "queues/registry"] name          -> QueueRecord
//     [res "queues/next_id"]                -> 8-byte big-endian next queue id
//     [res <queue id, 8 bytes BE>] 'c'      -> QueueCounters
//   cf "queues_messages"  (immutable, written once per message)
//     [res <queue id>] <seq u64 BE>         -> MessageRecord
//   cf "queues_state"     (small, rewritten on every receive)
//     [res <queue id>] <seq u64 BE>         -> MessageState
//   cf "queues_dedup"     (FIFO deduplication window)
//     [res <queue id>] dedup id             -> DedupRecord
//
// Queues are keyed by a numeric id that is never reused, so a queue
// re-created under the same name never sees keys (or receipt handles) of its
// predecessor; deleting a queue deletes its id prefix in every family.

inline constexpr char kMetaCf[] = "queues_meta";
inline constexpr char kMessagesCf[] = "queues_messages";
inline constexpr char kStateCf[] = "queues_state";
inline constexpr char kDedupCf[] = "queues_dedup";

// Prefix of the name registry (followed by the queue name).
std::string RegistryPrefix();
std::string RegistryKey(std::string_view name);
std::string NextIdKey();
// The resource prefix of everything stored for queue `id`.
std::string QueuePrefix(uint64_t id);
std::string CountersKey(uint64_t id);
std::string MessageKey(uint64_t id, uint64_t seq);
std::string DedupKey(uint64_t id, std::string_view dedup_id);

}  // namespace thingtank::queues::storage
