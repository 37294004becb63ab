#include "services/wamp/codec/uri.h"

#include <cstddef>
#include <cstdint>

namespace thingtank::wamp {
namespace {

// Python's str.isspace(), which the spec's \s means: ASCII whitespace, the
// separators \x1c-\x1f, and the Unicode White_Space characters.
bool IsWhitespaceCodePoint(uint32_t c) {
  if (c <= 0x20) return c == 0x20 || (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x1f);
  return c == 0x85 || c == 0xa0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200a) ||
         c == 0x2028 || c == 0x2029 || c == 0x202f || c == 0x205f || c == 0x3000;
}

// Decodes the UTF-8 sequence at uri[*pos] and advances *pos. Invalid bytes
// decode as themselves (they are never whitespace); the decoders reject
// invalid UTF-8 before URIs get here.
uint32_t NextCodePoint(std::string_view s, size_t* pos) {
  const auto byte = [&](size_t i) { return static_cast<uint8_t>(s[i]); };
  const uint8_t lead = byte(*pos);
  size_t extra = lead >= 0xf0 ? 3 : lead >= 0xe0 ? 2 : lead >= 0xc0 ? 1 : 0;
  if (*pos + extra >= s.size()) extra = 0;  // truncated sequence
  uint32_t c = extra == 0 ? lead : lead & (0x3fu >> extra);
  for (size_t i = 1; i <= extra; ++i) {
    if ((byte(*pos + i) & 0xc0) != 0x80) {
      extra = 0;
      c = lead;
      break;
    }
    c = (c << 6) | (byte(*pos + i) & 0x3f);
  }
  *pos += 1 + extra;
  return c;
}

// A component (text between dots) holds no whitespace and no '#'.
bool IsValidComponent(std::string_view component) {
  for (size_t pos = 0; pos < component.size();) {
    if (component[pos] == '#') return false;
    if (IsWhitespaceCodePoint(NextCodePoint(component, &pos))) return false;
  }
  return true;
}

}  // namespace

std::optional<MatchPolicy> ParseMatchPolicy(std::string_view name) {
  if (name == "exact") return MatchPolicy::kExact;
  if (name == "prefix") return MatchPolicy::kPrefix;
  if (name == "wildcard") return MatchPolicy::kWildcard;
  return std::nullopt;
}

std::string_view MatchPolicyName(MatchPolicy policy) {
  switch (policy) {
    case MatchPolicy::kExact: return "exact";
    case MatchPolicy::kPrefix: return "prefix";
    case MatchPolicy::kWildcard: return "wildcard";
  }
  return "exact";
}

bool IsValidUri(std::string_view uri, MatchPolicy policy) {
  if (uri.empty()) return policy != MatchPolicy::kExact;
  size_t start = 0;
  while (true) {
    const size_t dot = uri.find('.', start);
    const bool last = dot == std::string_view::npos;
    const std::string_view component =
        uri.substr(start, last ? std::string_view::npos : dot - start);
    if (component.empty()) {
      const bool allowed = policy == MatchPolicy::kWildcard ||
                           (policy == MatchPolicy::kPrefix && last);
      if (!allowed) return false;
    } else if (!IsValidComponent(component)) {
      return false;
    }
    if (last) return true;
    start = dot + 1;
  }
}

bool UriMatches(MatchPolicy policy, std::string_view pattern, std::string_view uri) {
  switch (policy) {
    case MatchPolicy::kExact:
      return pattern == uri;
    case MatchPolicy::kPrefix:
      return uri.substr(0, pattern.size()) == pattern;
    case MatchPolicy::kWildcard: {
      size_t p = 0;
      size_t u = 0;
      while (true) {
        const size_t p_dot = pattern.find('.', p);
        const size_t u_dot = uri.find('.', u);
        const std::string_view p_part = pattern.substr(p, p_dot == std::string_view::npos
                                                              ? std::string_view::npos
                                                              : p_dot - p);
        const std::string_view u_part = uri.substr(u, u_dot == std::string_view::npos
                                                          ? std::string_view::npos
                                                          : u_dot - u);
        if (!p_part.empty() && p_part != u_part) return false;
        const bool p_last = p_dot == std::string_view::npos;
        const bool u_last = u_dot == std::string_view::npos;
        if (p_last || u_last) return p_last && u_last;  // same component count
        p = p_dot + 1;
        u = u_dot + 1;
      }
    }
  }
  return false;
}

}  // namespace thingtank::wamp
