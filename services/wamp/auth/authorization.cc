// Authorization: the most specific matching rule of a role decides.
#include <tuple>

#include "services/wamp/auth/auth.h"
#include "services/wamp/auth/internal.h"

namespace thingtank::wamp {
namespace auth_internal {
namespace {

size_t CountComponents(std::string_view s) {
  size_t n = 1;
  for (char c : s) n += c == '.';
  return n;
}

bool WildcardMatches(std::string_view pattern, std::string_view uri) {
  if (CountComponents(pattern) != CountComponents(uri)) return false;
  while (true) {
    const size_t p_end = pattern.find('.');
    const size_t u_end = uri.find('.');
    const std::string_view p = pattern.substr(0, p_end);
    const std::string_view u = uri.substr(0, u_end);
    if (!p.empty() && p != u) return false;
    if (p_end == std::string_view::npos) return true;  // counts equal: u_end too
    pattern.remove_prefix(p_end + 1);
    uri.remove_prefix(u_end + 1);
  }
}

}  // namespace

bool PatternMatches(MatchPolicy policy, std::string_view pattern, std::string_view uri) {
  switch (policy) {
    case MatchPolicy::kExact:
      return pattern == uri;
    case MatchPolicy::kPrefix:
      return uri.substr(0, pattern.size()) == pattern;
    case MatchPolicy::kWildcard:
      return WildcardMatches(pattern, uri);
  }
  return false;
}

std::optional<MatchPolicy> ParsePolicy(std::string_view name) {
  if (name == "exact") return MatchPolicy::kExact;
  if (name == "prefix") return MatchPolicy::kPrefix;
  if (name == "wildcard") return MatchPolicy::kWildcard;
  return std::nullopt;
}

}  // namespace auth_internal

namespace {

// Smaller is more specific: (policy class, then tie-breakers within it).
using Rank = std::tuple<int, long, long, long>;

Rank RankOf(const Permission& rule) {
  const long len = static_cast<long>(rule.uri.size());
  switch (rule.match) {
    case MatchPolicy::kExact:
      return {0, 0, 0, 0};
    case MatchPolicy::kPrefix:
      return {1, -len, 0, 0};
    case MatchPolicy::kWildcard:
      break;
  }
  long empties = 0, first_empty = -1, index = 0;
  std::string_view rest = rule.uri;
  while (true) {
    const size_t end = rest.find('.');
    if (rest.substr(0, end).empty()) {
      ++empties;
      if (first_empty < 0) first_empty = index;
    }
    if (end == std::string_view::npos) break;
    rest.remove_prefix(end + 1);
    ++index;
  }
  return {2, empties, -len, -first_empty};
}

}  // namespace

std::string_view ActionName(Action action) {
  switch (action) {
    case Action::kPublish:
      return "publish";
    case Action::kSubscribe:
      return "subscribe";
    case Action::kRegister:
      return "register";
    case Action::kCall:
      return "call";
  }
  return "?";
}

std::optional<Action> ParseAction(std::string_view name) {
  for (Action a : {Action::kPublish, Action::kSubscribe, Action::kRegister, Action::kCall}) {
    if (ActionName(a) == name) return a;
  }
  return std::nullopt;
}

bool Permission::Allows(Action action) const {
  switch (action) {
    case Action::kPublish:
      return publish;
    case Action::kSubscribe:
      return subscribe;
    case Action::kRegister:
      return register_;
    case Action::kCall:
      return call;
  }
  return false;
}

bool IsAuthorized(const RealmConfig& realm, std::string_view role, Action action,
                  std::string_view uri) {
  const auto it = realm.roles.find(role);
  if (it == realm.roles.end()) return false;
  const Permission* best = nullptr;
  Rank best_rank;
  for (const Permission& rule : it->second) {
    if (!auth_internal::PatternMatches(rule.match, rule.uri, uri)) continue;
    const Rank rank = RankOf(rule);
    if (best == nullptr || rank < best_rank) {  // strict: earlier rule wins ties
      best = &rule;
      best_rank = rank;
    }
  }
  return best != nullptr && best->Allows(action);
}

}  // namespace thingtank::wamp
