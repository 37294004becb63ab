// WAMP URIs and the three match policies for subscriptions, registrations
// and authorization rules.
#pragma once

#include <optional>
#include <string_view>

namespace thingtank::wamp {

enum class MatchPolicy { kExact, kPrefix, kWildcard };

// "exact" (or absent), "prefix", "wildcard".
std::optional<MatchPolicy> ParseMatchPolicy(std::string_view name);
std::string_view MatchPolicyName(MatchPolicy policy);

// Loose URI rules of the spec: components separated by '.', no whitespace,
// no '#'; components non-empty except that a wildcard pattern may have empty
// components, and a prefix pattern may be empty or end with '.'?  (see uri.cc)
bool IsValidUri(std::string_view uri, MatchPolicy policy);

// True when `uri` (a concrete topic/procedure) matches `pattern` under `policy`.
// Exact: equal. Prefix: uri starts with pattern. Wildcard: same number of
// components, each empty pattern component matches any component.
bool UriMatches(MatchPolicy policy, std::string_view pattern, std::string_view uri);

}  // namespace thingtank::wamp
