#include "services/wamp/codec/uri.h"

#include <string>

#include <gtest/gtest.h>

namespace thingtank::wamp {
namespace {

TEST(UriTest, MatchPolicyNames) {
  EXPECT_EQ(ParseMatchPolicy("exact"), MatchPolicy::kExact);
  EXPECT_EQ(ParseMatchPolicy("prefix"), MatchPolicy::kPrefix);
  EXPECT_EQ(ParseMatchPolicy("wildcard"), MatchPolicy::kWildcard);
  EXPECT_EQ(ParseMatchPolicy(""), std::nullopt);
  EXPECT_EQ(ParseMatchPolicy("Exact"), std::nullopt);
  for (MatchPolicy p : {MatchPolicy::kExact, MatchPolicy::kPrefix, MatchPolicy::kWildcard}) {
    EXPECT_EQ(ParseMatchPolicy(MatchPolicyName(p)), p);
  }
}

struct ValidityCase {
  std::string uri;
  bool exact;
  bool prefix;
  bool wildcard;
};

TEST(UriTest, Validity) {
  const ValidityCase cases[] = {
      {"com.myapp.mytopic1", true, true, true},
      {"a", true, true, true},
      {"wamp.session.on_join", true, true, true},  // reservation is the router's job
      {"com.MyApp.topic-1:x/y", true, true, true},  // loose rules allow any other character
      {"com.myäpp.tópic", true, true, true},
      {"", false, true, true},
      {".", false, false, true},
      {"a.", false, true, true},
      {".a", false, false, true},
      {"a..b", false, false, true},
      {"a.b.", false, true, true},
      {"..", false, false, true},
      {"a.b..", false, false, true},
      {"a b", false, false, false},
      {"a.b c", false, false, false},
      {"a\tb", false, false, false},
      {"a\nb", false, false, false},
      {"a\x1f" "b", false, false, false},          // Python's \s includes \x1c-\x1f
      {"a\xc2\xa0" "b", false, false, false},      // U+00A0 no-break space
      {"a\xe3\x80\x80" "b", false, false, false},  // U+3000 ideographic space
      {"a\xe2\x80\xa8" "b", false, false, false},  // U+2028 line separator
      {"a#b", false, false, false},
      {"a.#", false, false, false},
      {"a..#", false, false, false},
  };
  for (const ValidityCase& c : cases) {
    EXPECT_EQ(IsValidUri(c.uri, MatchPolicy::kExact), c.exact) << "exact: " << c.uri;
    EXPECT_EQ(IsValidUri(c.uri, MatchPolicy::kPrefix), c.prefix) << "prefix: " << c.uri;
    EXPECT_EQ(IsValidUri(c.uri, MatchPolicy::kWildcard), c.wildcard) << "wildcard: " << c.uri;
  }
}

struct MatchCase {
  MatchPolicy policy;
  std::string pattern;
  std::string uri;
  bool matches;
};

TEST(UriTest, Matching) {
  const MatchCase cases[] = {
      {MatchPolicy::kExact, "com.myapp.topic", "com.myapp.topic", true},
      {MatchPolicy::kExact, "com.myapp.topic", "com.myapp.topic.x", false},
      {MatchPolicy::kExact, "com.myapp.topic", "com.myapp", false},
      // Prefix: a plain string prefix (the spec's own examples).
      {MatchPolicy::kPrefix, "com.myapp.topic.emergency", "com.myapp.topic.emergency.11", true},
      {MatchPolicy::kPrefix, "com.myapp.topic.emergency", "com.myapp.topic.emergency-low", true},
      {MatchPolicy::kPrefix, "com.myapp.topic.emergency", "com.myapp.topic.emergency.category.severe", true},
      {MatchPolicy::kPrefix, "com.myapp.topic.emergency", "com.myapp.topic.emergency", true},
      {MatchPolicy::kPrefix, "com.myapp.topic.emergency", "com.myapp.topic.emerge", false},
      {MatchPolicy::kPrefix, "com.myapp.", "com.myapp.x", true},
      {MatchPolicy::kPrefix, "com.myapp.", "com.myapp", false},
      {MatchPolicy::kPrefix, "", "anything.at.all", true},
      {MatchPolicy::kPrefix, "wamp.", "wamp.session.on_join", true},
      // Wildcard: the spec's examples, then empty components in other positions.
      {MatchPolicy::kWildcard, "com.myapp..userevent", "com.myapp.foo.userevent", true},
      {MatchPolicy::kWildcard, "com.myapp..userevent", "com.myapp.bar.userevent", true},
      {MatchPolicy::kWildcard, "com.myapp..userevent", "com.myapp.a12.userevent", true},
      {MatchPolicy::kWildcard, "com.myapp..userevent", "com.myapp.foo.userevent.bar", false},
      {MatchPolicy::kWildcard, "com.myapp..userevent", "com.myapp.foo.user", false},
      {MatchPolicy::kWildcard, "com.myapp..userevent", "com.myapp2.foo.userevent", false},
      {MatchPolicy::kWildcard, ".myapp.topic", "com.myapp.topic", true},
      {MatchPolicy::kWildcard, "com.myapp.", "com.myapp.topic", true},
      {MatchPolicy::kWildcard, "com.myapp.", "com.myapp", false},
      {MatchPolicy::kWildcard, "..", "a.b.c", true},
      {MatchPolicy::kWildcard, "..", "a.b", false},
      {MatchPolicy::kWildcard, "..", "a.b.c.d", false},
      {MatchPolicy::kWildcard, "", "a", true},
      {MatchPolicy::kWildcard, "", "a.b", false},
      {MatchPolicy::kWildcard, "a.b.c", "a.b.c", true},
      {MatchPolicy::kWildcard, "a.b.c", "a.b.x", false},
      {MatchPolicy::kWildcard, "a..c", "a.bc", false},
  };
  for (const MatchCase& c : cases) {
    EXPECT_EQ(UriMatches(c.policy, c.pattern, c.uri), c.matches)
        << MatchPolicyName(c.policy) << " " << c.pattern << " vs " << c.uri;
  }
}

}  // namespace
}  // namespace thingtank::wamp
