// Helpers private to services/wamp/auth (not for the router).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "services/wamp/codec/uri.h"

namespace thingtank::wamp::auth_internal {

// `uri` matches `pattern` under `policy`. Kept here rather than using
// codec/uri.h's UriMatches so auth does not depend on the codec library.
// Exact: equal. Prefix: string prefix ("" matches everything). Wildcard: same
// number of '.'-separated components; an empty pattern component matches any.
bool PatternMatches(MatchPolicy policy, std::string_view pattern, std::string_view uri);

// "exact", "prefix", "wildcard".
std::optional<MatchPolicy> ParsePolicy(std::string_view name);

// Equality whose time does not depend on where the inputs differ or on their
// lengths (compares SHA-256 digests with CRYPTO_memcmp).
bool ConstantTimeEquals(std::string_view a, std::string_view b);

// Standard base64 with padding, no newlines (as binascii.b2a_base64().strip()).
std::string Base64(std::string_view bytes);

// `n` bytes from OpenSSL's CSPRNG, or nullopt if it failed.
std::optional<std::string> RandomBytes(size_t n);

}  // namespace thingtank::wamp::auth_internal
