// An in-process WAMP session: how the gRPC face and the forwarding rules
// publish, call and subscribe. It joins a realm as an internal session (not
// listed by the meta API, not subject to role authorization).
//
// Callbacks run while the realm's lock is held: they must not block and must
// not call back into the realm synchronously (hand work to an executor or an
// async gRPC call).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "services/wamp/router/realm.h"

namespace thingtank::wamp {

struct EventData {
  std::string topic;
  uint64_t publication = 0;
  uint64_t publisher = 0;
  Json args = Json::array();
  Json kwargs = Json::object();
};

// A call's final outcome: the result, or a WAMP error (uri + args/kwargs).
struct CallResult {
  std::string error;  // empty: success
  Json args = Json::array();
  Json kwargs = Json::object();
};

class LocalClient : public std::enable_shared_from_this<LocalClient> {
 public:
  using EventFn = std::function<void(const EventData&)>;
  using CallFn = std::function<void(CallResult)>;

  // Joins `realm` as a new internal session named `authid`.
  static std::shared_ptr<LocalClient> Join(std::shared_ptr<Realm> realm, std::string authid);
  ~LocalClient();

  // Publishes; returns the publication id or the broker's error.
  absl::StatusOr<uint64_t> Publish(const std::string& topic, Json args, Json kwargs);
  // Calls a procedure; `done` runs exactly once.
  void Call(const std::string& procedure, Json args, Json kwargs, absl::Duration timeout,
            CallFn done);
  // Subscribes; `on_event` runs for every event until Leave().
  absl::Status Subscribe(const std::string& topic, MatchPolicy match, EventFn on_event);
  // Leaves the realm; pending calls are dropped. Idempotent.
  void Leave();
  uint64_t session_id() const { return session_id_; }

 private:
  class PeerImpl;
  LocalClient(std::shared_ptr<Realm> realm, uint64_t session_id);
  void Deliver(const Json& message);  // from the realm, under its lock
  // Removes and returns a pending call's callback (empty if none).
  CallFn TakeCall(uint64_t request);
  // Removes and returns the synchronous reply to `request`.
  absl::StatusOr<Json> TakeReply(uint64_t request);

  const std::shared_ptr<Realm> realm_;
  const uint64_t session_id_;
  std::atomic<uint64_t> next_request_{1};
  std::atomic<bool> left_{false};
  absl::Mutex mu_;
  absl::flat_hash_map<uint64_t, CallFn> calls_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<uint64_t, EventFn> subscriptions_ ABSL_GUARDED_BY(mu_);
  // Replies that Handle() produces synchronously (SUBSCRIBED, PUBLISHED, ERROR).
  absl::flat_hash_map<uint64_t, Json> replies_ ABSL_GUARDED_BY(mu_);
  // Topic of each subscription (EVENT carries it only for pattern ones).
  absl::flat_hash_map<uint64_t, std::string> topics_ ABSL_GUARDED_BY(mu_);
};

}  // namespace thingtank::wamp
