// Forwarding rules between WAMP topics and the other services: topic ->
// queue, queue -> topic (at least once), topic -> table, topic -> stream,
// stream -> topic (at least once). Rules are stored in
// RocksDB and run from startup until deleted. Semantics of each kind are
// documented on thingtank.wamp.v1.Rule (proto/thingtank/wamp/v1/wamp.proto).
//
// Each running rule owns an in-process WAMP session (LocalClient, authid
// "rule:<id>") and talks to the queues, tables and streams services through
// async gRPC calls on the channel given to SetChannel: no thread ever waits
// for them.
//
// Threading: every public method is thread-safe. Create and Delete write to
// RocksDB (one write each, so an acknowledged change survives a crash): call
// them off gRPC reactor threads. Delete, Drain and the destructor cancel the
// rule's calls in flight and wait for their callbacks, so nothing of a
// stopped rule runs after they return.
//
// Lifetime: `db`, `router` and `clock` must outlive the engine.
//
// The pieces live in rules/: engine.cc (this class), rule_store (RocksDB),
// runner (async calls with deadlines, backoff timers, stop), template
// ({kwargs.NAME} ...), rule_kind (the registry of kinds) and one file per
// kind (topic_to_queue.cc, queue_to_topic.cc, topic_to_table.cc,
// topic_to_stream.cc, stream_to_topic.cc; stream_support the part the two
// stream kinds share).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "grpcpp/channel.h"
#include "services/common/clock.h"
#include "services/common/storage/db.h"
#include "services/wamp/router/router.h"
#include "services/wamp/rules/rule_kind.h"
#include "thingtank/wamp/v1/wamp.pb.h"

namespace thingtank::wamp {

// The top-level "rules" array of the --wamp-config JSON text (other fields
// are ignored; no "rules" means none): each element is a
// thingtank.wamp.v1.Rule in the protobuf JSON mapping, with a required "id"
// (1..64 letters, digits, '-', '_', '.'; unique; not shaped like a generated
// id "r-" + 12 hex digits). INVALID_ARGUMENT naming the place, e.g.
// "rules[1].topic_to_queue.queue: is required" or "rules[0]: <parser message>".
// Realms are checked by RuleEngine::Ensure. Kinds are those of `kinds`.
absl::StatusOr<std::vector<v1::Rule>> ParseConfigRules(std::string_view json_text,
                                                       const RuleKinds& kinds = BuiltinRuleKinds());

class RuleEngine {
 public:
  // Events forwarded and failures (a call that failed, a message that could
  // not be published, a template that could not be filled), over all rules.
  struct Stats {
    uint64_t forwarded = 0;
    uint64_t failed = 0;
  };

  // Column families the engine stores its rules in.
  static std::vector<std::string> ColumnFamilies();
  // Loads the stored rules. They start running once SetChannel is called.
  // Counts in the router's metrics (thingtank_wamp_rule_forwarded_total and
  // thingtank_wamp_rule_failures_total, labelled by rule kind). Runs the
  // rules of `kinds`; a stored rule of another kind stays idle.
  static absl::StatusOr<std::unique_ptr<RuleEngine>> Open(Db* db, Router* router, Clock* clock,
                                                          RuleKinds kinds = BuiltinRuleKinds());
  ~RuleEngine();  // stops every rule (no callback runs after it returns)
  RuleEngine(const RuleEngine&) = delete;
  RuleEngine& operator=(const RuleEngine&) = delete;

  // The channel to the other services (in monolithic mode the gateway
  // server's in-process channel). Starts the stored rules. Only the first
  // call counts.
  void SetChannel(std::shared_ptr<grpc::Channel> channel);

  // Validates (INVALID_ARGUMENT naming the field, e.g. "rule.topic_to_queue.queue"),
  // assigns an id, stores durably, starts. NOT_FOUND when the realm is unknown.
  absl::StatusOr<v1::Rule> Create(v1::Rule rule);
  // Makes the rules of the config file (ids chosen by the operator) stored
  // and running: a stored rule with the same id and the same content is kept
  // as it runs; one that differs is replaced (stored, restarted, keeping its
  // place in the list); a missing one is stored and started (when the channel
  // is set). Other stored rules (created by RPC, or dropped from the config)
  // are untouched. Checks everything before changing anything:
  // INVALID_ARGUMENT naming the field as "rules[i]..." (an unknown realm
  // included). Changes are stored in one write. Call off reactor threads.
  absl::Status Ensure(const std::vector<v1::Rule>& rules);
  // Every rule, in creation order.
  std::vector<v1::Rule> List() const;
  // Stops the rule (none of its callbacks runs after this returns) and removes
  // it durably. NOT_FOUND when there is no such rule.
  absl::Status Delete(const std::string& id);
  // Stops polling queues and streams (graceful shutdown): in-flight long
  // polls and reads are cancelled and waited for; queue_to_topic and
  // stream_to_topic rules created later stay idle.
  // Topic rules keep forwarding.
  void Drain();

  Stats stats() const;

 private:
  class Impl;
  explicit RuleEngine(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace thingtank::wamp
