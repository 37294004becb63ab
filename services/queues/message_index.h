#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace thingtank::queues {

// Where a message stands in its delivery cycle.
enum class DeliveryState { kVisible, kDelayed, kInFlight };

// What the index keeps of a message: delivery state only, never the body
// (that stays in RocksDB and is read on receive).
struct IndexedMessage {
  uint64_t seq = 0;
  int64_t sent_micros = 0;
  // When a delayed or in-flight message becomes visible.
  int64_t visible_micros = 0;
  int64_t receive_count = 0;
  int64_t first_receive_micros = 0;
  uint64_t receipt_token = 0;  // 0: never received
  std::string group;           // FIFO only
  DeliveryState state = DeliveryState::kVisible;
};

// The in-memory index of one queue's messages. Standard queues keep an ordered
// ready set; FIFO queues keep, per message group, the ordered messages not in
// flight plus the count in flight, and an ordered set of groups that can
// deliver (no message in flight, head visible). Delayed and in-flight messages
// sit on a timeline keyed by the time they become visible. Every operation is
// O(log n). Not thread-safe: the owning queue's mutex guards it.
class MessageIndex {
 public:
  explicit MessageIndex(bool fifo) : fifo_(fifo) {}

  // Adds a message; its state follows from visible_micros and receive_count
  // (later than `now`: in flight if received before, else delayed).
  void Add(IndexedMessage m, int64_t now);
  // Removes a message (any state). No-op when absent.
  void Remove(uint64_t seq);
  const IndexedMessage* Find(uint64_t seq) const;
  void Clear();

  // Makes every delayed or in-flight message due by `now` visible.
  void Promote(int64_t now);
  // Up to `max` messages receivable now, in delivery order. FIFO: the visible
  // heads of groups with nothing in flight, several consecutive messages of a
  // group when available.
  std::vector<uint64_t> Candidates(size_t max) const;
  // Marks a visible message received: in flight until `visible_micros`.
  void MarkReceived(uint64_t seq, int64_t visible_micros, uint64_t token, int64_t now);
  // Moves the visibility deadline of an in-flight message (call Promote to
  // apply a deadline already passed).
  void SetVisibleAt(uint64_t seq, int64_t visible_micros);

  // When the next delayed or in-flight message becomes visible.
  std::optional<int64_t> NextVisibleChange() const;
  // The earliest sent time of any message.
  std::optional<int64_t> EarliestSent() const;
  // Messages sent at or before `cutoff_micros`, oldest first, at most `limit`.
  std::vector<uint64_t> SentAtOrBefore(int64_t cutoff_micros, size_t limit) const;

  int64_t visible() const { return visible_; }
  int64_t in_flight() const { return in_flight_; }
  int64_t delayed() const { return delayed_; }
  size_t size() const { return messages_.size(); }
  bool fifo() const { return fifo_; }

 private:
  struct Group {
    std::set<uint64_t> pending;  // not in flight, in order
    int64_t in_flight = 0;
    std::optional<uint64_t> ready_head;  // key in ready_groups_ when ready
  };

  void Count(DeliveryState s, int delta);
  // Recomputes whether `name` can deliver and updates ready_groups_.
  void RefreshGroup(const std::string& name);
  // Makes an in-flight or delayed message visible.
  void MakeVisible(IndexedMessage* m);

  const bool fifo_;
  std::unordered_map<uint64_t, IndexedMessage> messages_;
  std::set<uint64_t> ready_;                            // standard: visible messages
  std::map<std::string, Group> groups_;                 // FIFO
  std::set<std::pair<uint64_t, std::string>> ready_groups_;  // FIFO: (head seq, group)
  std::set<std::pair<int64_t, uint64_t>> timeline_;     // (visible_micros, seq)
  std::set<std::pair<int64_t, uint64_t>> by_sent_;      // (sent_micros, seq)
  int64_t visible_ = 0;
  int64_t in_flight_ = 0;
  int64_t delayed_ = 0;
};

}  // namespace thingtank::queues
