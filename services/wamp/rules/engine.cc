// RuleEngine (services/wamp/rules.h): the rules in memory, their storage
// (rule_store) and their runners, made by each rule's kind (rule_kind).
#include <algorithm>
#include <map>
#include <utility>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "google/protobuf/util/message_differencer.h"
#include "services/common/log.h"
#include "services/common/status.h"
#include "services/wamp/rules.h"
#include "services/wamp/rules/config_rules.h"
#include "services/wamp/rules/rule_store.h"
#include "services/wamp/rules/runner.h"

namespace thingtank::wamp {
namespace {

constexpr char kDefaultRealm[] = "realm1";

}  // namespace

class RuleEngine::Impl {
 public:
  Impl(Db* db, Router* router, Clock* clock, RuleKinds kinds)
      : store_(db),
        router_(router),
        clock_(clock),
        kinds_(std::move(kinds)),
        counters_(std::make_shared<RuleCounters>(router->metrics(), kinds_.names())) {}

  ~Impl() {
    std::vector<std::shared_ptr<RuleRunner>> runners;
    {
      absl::MutexLock lock(&mu_);
      for (auto& [id, e] : rules_) {
        if (e.runner != nullptr) runners.push_back(std::move(e.runner));
      }
    }
    for (auto& r : runners) r->Stop();
  }

  absl::Status Load() {
    TT_ASSIGN_OR_RETURN(std::vector<StoredRule> stored, store_.LoadAll());
    absl::MutexLock lock(&mu_);
    for (StoredRule& s : stored) {
      next_seq_ = std::max(next_seq_, s.seq + 1);
      std::string id = s.rule.id();
      rules_[id] = Entry{s.seq, std::move(s.rule), nullptr};
    }
    return absl::OkStatus();
  }

  void SetChannel(std::shared_ptr<grpc::Channel> channel) {
    absl::MutexLock lock(&mu_);
    if (calls_ != nullptr) {
      TT_LOG_WARN("wamp rules: SetChannel called again; keeping the first channel");
      return;
    }
    calls_ = std::make_shared<AsyncClient>(std::move(channel), clock_, router_->metrics()->registry());
    for (auto& [id, e] : rules_) StartLocked(&e);
  }

  absl::StatusOr<v1::Rule> Create(v1::Rule rule) {
    if (rule.realm().empty()) rule.set_realm(kDefaultRealm);
    if (router_->FindRealm(rule.realm()) == nullptr) {
      return ErrorWithReason(absl::StatusCode::kNotFound, "NoSuchRealm",
                             absl::StrCat("rule.realm: no realm named \"", rule.realm(), "\""));
    }
    TT_RETURN_IF_ERROR(kinds_.Validate(rule, "rule"));
    absl::MutexLock lock(&mu_);
    std::string id;
    do {
      id = absl::StrCat("r-", absl::Hex(absl::Uniform<uint64_t>(gen_, 0, uint64_t{1} << 48),
                                        absl::kZeroPad12));
    } while (rules_.count(id) > 0);
    rule.set_id(id);
    const uint64_t seq = next_seq_++;
    TT_RETURN_IF_ERROR(store_.Put({StoredRule{seq, rule}}));
    Entry& e = rules_[id] = Entry{seq, rule, nullptr};
    StartLocked(&e);
    return rule;
  }

  absl::Status Ensure(std::vector<v1::Rule> rules) {
    TT_RETURN_IF_ERROR(ValidateConfigRules(rules, kinds_));
    for (size_t i = 0; i < rules.size(); ++i) {
      v1::Rule& rule = rules[i];
      if (rule.realm().empty()) rule.set_realm(kDefaultRealm);
      if (router_->FindRealm(rule.realm()) == nullptr) {
        // A config error (the same file declares the realms): INVALID_ARGUMENT.
        return InvalidField(absl::StrCat("rules[", i, "].realm"),
                            absl::StrCat("no realm named \"", rule.realm(), "\""));
      }
    }
    // Store what is new or changed (one write), then swap the runners.
    std::vector<std::string> changed;
    std::vector<std::shared_ptr<RuleRunner>> old;
    {
      absl::MutexLock lock(&mu_);
      std::vector<StoredRule> entries;
      for (const v1::Rule& rule : rules) {
        auto it = rules_.find(rule.id());
        if (it != rules_.end() &&
            google::protobuf::util::MessageDifferencer::Equals(it->second.rule, rule)) {
          continue;  // unchanged: keep it running
        }
        // A replaced rule keeps its place in the list.
        const uint64_t seq = it != rules_.end() ? it->second.seq : next_seq_++;
        entries.push_back(StoredRule{seq, rule});
      }
      if (entries.empty()) return absl::OkStatus();
      TT_RETURN_IF_ERROR(store_.Put(entries));
      for (StoredRule& e : entries) {
        const std::string id = e.rule.id();
        Entry& slot = rules_[id];
        if (slot.runner != nullptr) old.push_back(std::move(slot.runner));
        slot = Entry{e.seq, std::move(e.rule), nullptr};
        changed.push_back(id);
        TT_LOG_INFO("wamp rule from config stored rule={} kind={}", id,
                    kinds_.Find(slot.rule)->name());
      }
    }
    // Outside mu_: stopping waits for the old rules' callbacks. The new
    // versions start after, so no event is forwarded twice by one rule.
    for (auto& r : old) r->Stop();
    absl::MutexLock lock(&mu_);
    for (const std::string& id : changed) {
      auto it = rules_.find(id);
      if (it != rules_.end()) StartLocked(&it->second);  // unless deleted meanwhile
    }
    return absl::OkStatus();
  }

  std::vector<v1::Rule> List() const {
    std::vector<std::pair<uint64_t, const v1::Rule*>> order;
    absl::MutexLock lock(&mu_);
    for (const auto& [id, e] : rules_) order.emplace_back(e.seq, &e.rule);
    std::sort(order.begin(), order.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    std::vector<v1::Rule> out;
    out.reserve(order.size());
    for (const auto& [seq, rule] : order) out.push_back(*rule);
    return out;
  }

  absl::Status Delete(const std::string& id) {
    std::shared_ptr<RuleRunner> runner;
    {
      absl::MutexLock lock(&mu_);
      auto it = rules_.find(id);
      if (it == rules_.end()) {
        return ErrorWithReason(absl::StatusCode::kNotFound, "RuleNotFound",
                               absl::StrCat("no forwarding rule with id \"", id, "\""));
      }
      TT_RETURN_IF_ERROR(store_.Delete(id));
      runner = std::move(it->second.runner);
      rules_.erase(it);
    }
    // Outside mu_: stopping waits for the rule's callbacks.
    if (runner != nullptr) runner->Stop();
    return absl::OkStatus();
  }

  void Drain() {
    std::vector<std::shared_ptr<RuleRunner>> pollers;
    {
      absl::MutexLock lock(&mu_);
      draining_ = true;
      for (auto& [id, e] : rules_) {
        if (e.runner != nullptr && StopsOnDrain(e.rule)) pollers.push_back(std::move(e.runner));
      }
    }
    for (auto& r : pollers) r->Stop();
  }

  Stats stats() const { return {counters_->forwarded(), counters_->failed()}; }

 private:
  struct Entry {
    uint64_t seq = 0;
    v1::Rule rule;
    std::shared_ptr<RuleRunner> runner;  // null while idle
  };

  bool StopsOnDrain(const v1::Rule& rule) const {
    const RuleKind* kind = kinds_.Find(rule);
    return kind != nullptr && kind->stops_on_drain();
  }

  // Starts a stored rule if the channel is there (and, for a kind that stops
  // on drain, the engine is not draining). Starting subscribes through the
  // realm, whose callbacks never take mu_, so holding it here is safe.
  void StartLocked(Entry* e) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (calls_ == nullptr || e->runner != nullptr) return;
    const RuleKind* kind = kinds_.Find(e->rule);
    if (kind == nullptr) {
      // Stored by a build that knew more kinds.
      TT_LOG_WARN("wamp rule idle: unknown kind rule={}", e->rule.id());
      return;
    }
    if (draining_ && kind->stops_on_drain()) return;
    std::shared_ptr<Realm> realm = router_->FindRealm(e->rule.realm());
    if (realm == nullptr) {
      // The config changed since the rule was created.
      TT_LOG_WARN("wamp rule idle: realm gone rule={} realm={}", e->rule.id(), e->rule.realm());
      return;
    }
    e->runner = kind->NewRunner(e->rule, RuleEnv{std::move(realm), clock_, calls_, counters_});
    e->runner->Start();
  }

  RuleStore store_;
  Router* const router_;
  Clock* const clock_;
  const RuleKinds kinds_;
  const std::shared_ptr<RuleCounters> counters_;

  mutable absl::Mutex mu_;
  std::map<std::string, Entry> rules_ ABSL_GUARDED_BY(mu_);
  uint64_t next_seq_ ABSL_GUARDED_BY(mu_) = 1;
  std::shared_ptr<AsyncClient> calls_ ABSL_GUARDED_BY(mu_);  // once SetChannel ran
  bool draining_ ABSL_GUARDED_BY(mu_) = false;
  absl::BitGen gen_ ABSL_GUARDED_BY(mu_);
};

std::vector<std::string> RuleEngine::ColumnFamilies() { return RuleStore::ColumnFamilies(); }

absl::StatusOr<std::unique_ptr<RuleEngine>> RuleEngine::Open(Db* db, Router* router, Clock* clock,
                                                             RuleKinds kinds) {
  auto impl = std::make_unique<Impl>(db, router, clock, std::move(kinds));
  TT_RETURN_IF_ERROR(impl->Load());
  return std::unique_ptr<RuleEngine>(new RuleEngine(std::move(impl)));
}

RuleEngine::RuleEngine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
RuleEngine::~RuleEngine() = default;

void RuleEngine::SetChannel(std::shared_ptr<grpc::Channel> channel) {
  impl_->SetChannel(std::move(channel));
}
absl::StatusOr<v1::Rule> RuleEngine::Create(v1::Rule rule) { return impl_->Create(std::move(rule)); }
absl::Status RuleEngine::Ensure(const std::vector<v1::Rule>& rules) {
  return impl_->Ensure(rules);
}
std::vector<v1::Rule> RuleEngine::List() const { return impl_->List(); }
absl::Status RuleEngine::Delete(const std::string& id) { return impl_->Delete(id); }
void RuleEngine::Drain() { impl_->Drain(); }
RuleEngine::Stats RuleEngine::stats() const { return impl_->stats(); }

}  // namespace thingtank::wamp
