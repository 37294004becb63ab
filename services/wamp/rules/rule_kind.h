// A kind of forwarding rule (topic -> queue, queue -> topic, topic -> table,
// topic -> stream, stream -> topic, ...) and the registry of kinds the engine runs. Each kind is one oneof case
// of thingtank.wamp.v1.Rule: it validates its part of a rule and makes the
// runner that carries it out. A new kind is a new oneof field, a class
// implementing RuleKind in its own file, and one Add() (BuiltinRuleKinds, or
// the wiring of the service that brings it): no switch to edit.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "thingtank/wamp/v1/wamp.pb.h"

namespace thingtank::wamp {

class RuleRunner;
struct RuleEnv;

// Stateless; shared by every rule of the kind (thread-safe).
class RuleKind {
 public:
  virtual ~RuleKind() = default;

  // The oneof field's name ("topic_to_queue"): in field paths of errors, the
  // `kind` label of the rule metrics and logs.
  virtual std::string_view name() const = 0;
  virtual v1::Rule::KindCase kind_case() const = 0;
  // Whether Drain stops rules of this kind (they poll another service).
  virtual bool stops_on_drain() const { return false; }
  // INVALID_ARGUMENT naming the field below `prefix` (e.g.
  // "rule.topic_to_queue" + ".queue"). `rule` has this kind's case set.
  virtual absl::Status Validate(const v1::Rule& rule, const std::string& prefix) const = 0;
  // The runner of a validated rule (not started).
  virtual std::shared_ptr<RuleRunner> NewRunner(v1::Rule rule, RuleEnv env) const = 0;
};

// The kinds the engine knows, in registration order. Built once before the
// engine opens, read-only afterwards (thread-safe to read).
class RuleKinds {
 public:
  RuleKinds() = default;
  RuleKinds(RuleKinds&&) = default;
  RuleKinds& operator=(RuleKinds&&) = default;

  // Registers a kind; two kinds for one oneof case is a programming error
  // (aborts).
  RuleKinds& Add(std::unique_ptr<RuleKind> kind);
  // Null when no kind handles the case (e.g. KIND_NOT_SET).
  const RuleKind* Find(v1::Rule::KindCase kind_case) const;
  const RuleKind* Find(const v1::Rule& rule) const { return Find(rule.kind_case()); }
  std::vector<std::string> names() const;

  // Validates `rule` by its kind; `p` names the rule in errors ("rule" for
  // CreateRule, "rules[i]" for the config): INVALID_ARGUMENT naming
  // p + ".kind" when no registered kind is set.
  absl::Status Validate(const v1::Rule& rule, const std::string& p) const;

 private:
  std::vector<std::unique_ptr<RuleKind>> kinds_;
};

// topic_to_queue, queue_to_topic, topic_to_table, topic_to_stream,
// stream_to_topic.
RuleKinds BuiltinRuleKinds();

}  // namespace thingtank::wamp
