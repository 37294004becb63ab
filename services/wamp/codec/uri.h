// WAMP URIs and the three match policies for subscriptions, registrations
// and authorization rules. The `wamp.` prefix is an ordinary URI here: the
// router, not the codec, reserves it for application use.
#pragma once

#include <optional>
#include <string_view>

namespace thingtank::wamp {

enum class MatchPolicy { kExact, kPrefix, kWildcard };

// "exact", "prefix", "wildcard"; anything else is nullopt. An absent
// `match` option means kExact: the caller handles absence.
std::optional<MatchPolicy> ParseMatchPolicy(std::string_view name);
std::string_view MatchPolicyName(MatchPolicy policy);

// The spec's relaxed/loose URI rules (the regular expressions of the spec and
// Autobahn's check_or_raise_uri). Components are separated by '.', and never
// contain whitespace (ASCII or Unicode, as Python's \s) or '#'. Then:
//   kExact:    every component non-empty ("a.b.c").
//   kPrefix:   every component non-empty except the last ("a.b." and "" are
//              valid; "" matches every URI, as in Crossbar authorization rules).
//   kWildcard: any component may be empty ("a..c", ".b.", "").
bool IsValidUri(std::string_view uri, MatchPolicy policy);

// True when `uri` (a concrete topic/procedure) matches `pattern` under `policy`.
// Exact: equal. Prefix: uri starts with pattern as a plain string (so "a.b"
// matches "a.b", "a.b.c" and "a.bc", as the spec and Crossbar do). Wildcard:
// same number of components, and each empty pattern component matches any
// component while the others must be equal.
bool UriMatches(MatchPolicy policy, std::string_view pattern, std::string_view uri);

}  // namespace thingtank::wamp
