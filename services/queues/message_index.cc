#include "services/queues/message_index.h"

#include <cstdlib>

namespace thingtank::queues {

void MessageIndex::Count(DeliveryState s, int delta) {
  switch (s) {
    case DeliveryState::kVisible: visible_ += delta; break;
    case DeliveryState::kDelayed: delayed_ += delta; break;
    case DeliveryState::kInFlight: in_flight_ += delta; break;
  }
}

void MessageIndex::Add(IndexedMessage m, int64_t now) {
  const uint64_t seq = m.seq;
  if (m.visible_micros > now) {
    m.state = m.receive_count > 0 ? DeliveryState::kInFlight : DeliveryState::kDelayed;
  } else {
    m.state = DeliveryState::kVisible;
  }
  by_sent_.emplace_hint(by_sent_.end(), m.sent_micros, seq);
  Count(m.state, 1);
  if (m.state != DeliveryState::kVisible) timeline_.emplace(m.visible_micros, seq);
  if (fifo_) {
    Group& g = groups_[m.group];
    if (m.state == DeliveryState::kInFlight) {
      ++g.in_flight;
    } else {
      g.pending.insert(seq);
    }
    const std::string group = m.group;
    messages_.emplace(seq, std::move(m));
    RefreshGroup(group);
  } else {
    if (m.state == DeliveryState::kVisible) ready_.emplace_hint(ready_.end(), seq);
    messages_.emplace(seq, std::move(m));
  }
}

void MessageIndex::Remove(uint64_t seq) {
  auto it = messages_.find(seq);
  if (it == messages_.end()) return;
  IndexedMessage& m = it->second;
  Count(m.state, -1);
  by_sent_.erase({m.sent_micros, seq});
  if (m.state != DeliveryState::kVisible) timeline_.erase({m.visible_micros, seq});
  if (fifo_) {
    const std::string group = m.group;
    Group& g = groups_[group];
    if (m.state == DeliveryState::kInFlight) {
      --g.in_flight;
    } else {
      g.pending.erase(seq);
    }
    messages_.erase(it);
    RefreshGroup(group);
  } else {
    ready_.erase(seq);
    messages_.erase(it);
  }
}

const IndexedMessage* MessageIndex::Find(uint64_t seq) const {
  auto it = messages_.find(seq);
  return it == messages_.end() ? nullptr : &it->second;
}

void MessageIndex::Clear() {
  messages_.clear();
  ready_.clear();
  groups_.clear();
  ready_groups_.clear();
  timeline_.clear();
  by_sent_.clear();
  visible_ = in_flight_ = delayed_ = 0;
}

void MessageIndex::RefreshGroup(const std::string& name) {
  auto it = groups_.find(name);
  if (it == groups_.end()) return;
  Group& g = it->second;
  if (g.ready_head) {
    ready_groups_.erase({*g.ready_head, name});
    g.ready_head.reset();
  }
  if (g.in_flight == 0 && g.pending.empty()) {
    groups_.erase(it);
    return;
  }
  if (g.in_flight > 0 || g.pending.empty()) return;
  const uint64_t head = *g.pending.begin();
  if (messages_.at(head).state != DeliveryState::kVisible) return;
  g.ready_head = head;
  ready_groups_.emplace(head, name);
}

void MessageIndex::MakeVisible(IndexedMessage* m) {
  const DeliveryState old = m->state;
  Count(old, -1);
  Count(DeliveryState::kVisible, 1);
  m->state = DeliveryState::kVisible;
  if (!fifo_) {
    ready_.insert(m->seq);
    return;
  }
  if (old == DeliveryState::kInFlight) {
    Group& g = groups_[m->group];
    --g.in_flight;
    g.pending.insert(m->seq);
  }
  RefreshGroup(m->group);
}

void MessageIndex::Promote(int64_t now) {
  while (!timeline_.empty() && timeline_.begin()->first <= now) {
    const uint64_t seq = timeline_.begin()->second;
    timeline_.erase(timeline_.begin());
    MakeVisible(&messages_.at(seq));
  }
}

std::vector<uint64_t> MessageIndex::Candidates(size_t max) const {
  std::vector<uint64_t> out;
  if (!fifo_) {
    for (auto it = ready_.begin(); it != ready_.end() && out.size() < max; ++it) {
      out.push_back(*it);
    }
    return out;
  }
  for (auto it = ready_groups_.begin(); it != ready_groups_.end() && out.size() < max; ++it) {
    const Group& g = groups_.at(it->second);
    for (auto p = g.pending.begin(); p != g.pending.end() && out.size() < max; ++p) {
      if (messages_.at(*p).state != DeliveryState::kVisible) break;
      out.push_back(*p);
    }
  }
  return out;
}

void MessageIndex::MarkReceived(uint64_t seq, int64_t visible_micros, uint64_t token,
                                int64_t now) {
  IndexedMessage& m = messages_.at(seq);
  if (m.state != DeliveryState::kVisible) abort();  // only candidates are received
  ++m.receive_count;
  if (m.first_receive_micros == 0) m.first_receive_micros = now;
  m.receipt_token = token;
  m.visible_micros = visible_micros;
  Count(DeliveryState::kVisible, -1);
  Count(DeliveryState::kInFlight, 1);
  m.state = DeliveryState::kInFlight;
  timeline_.emplace(visible_micros, seq);
  if (fifo_) {
    Group& g = groups_[m.group];
    g.pending.erase(seq);
    ++g.in_flight;
    RefreshGroup(m.group);
  } else {
    ready_.erase(seq);
  }
}

void MessageIndex::SetVisibleAt(uint64_t seq, int64_t visible_micros) {
  IndexedMessage& m = messages_.at(seq);
  if (m.state != DeliveryState::kInFlight) abort();
  timeline_.erase({m.visible_micros, seq});
  m.visible_micros = visible_micros;
  timeline_.emplace(visible_micros, seq);
}

std::optional<int64_t> MessageIndex::NextVisibleChange() const {
  if (timeline_.empty()) return std::nullopt;
  return timeline_.begin()->first;
}

std::optional<int64_t> MessageIndex::EarliestSent() const {
  if (by_sent_.empty()) return std::nullopt;
  return by_sent_.begin()->first;
}

std::vector<uint64_t> MessageIndex::SentAtOrBefore(int64_t cutoff_micros, size_t limit) const {
  std::vector<uint64_t> out;
  for (auto it = by_sent_.begin();
       it != by_sent_.end() && it->first <= cutoff_micros && out.size() < limit; ++it) {
    out.push_back(it->second);
  }
  return out;
}

}  // namespace thingtank::queues
