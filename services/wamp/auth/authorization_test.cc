#include "gtest/gtest.h"
#include "services/wamp/auth/auth.h"
#include "services/wamp/auth/internal.h"

namespace thingtank::wamp {
namespace {

Permission Rule(std::string uri, MatchPolicy match, std::string_view actions) {
  Permission p;
  p.uri = std::move(uri);
  p.match = match;
  p.publish = actions.find('P') != std::string_view::npos;
  p.subscribe = actions.find('S') != std::string_view::npos;
  p.register_ = actions.find('R') != std::string_view::npos;
  p.call = actions.find('C') != std::string_view::npos;
  return p;
}

TEST(PatternMatchesTest, Policies) {
  using auth_internal::PatternMatches;
  EXPECT_TRUE(PatternMatches(MatchPolicy::kExact, "a.b", "a.b"));
  EXPECT_FALSE(PatternMatches(MatchPolicy::kExact, "a.b", "a.bc"));
  EXPECT_TRUE(PatternMatches(MatchPolicy::kPrefix, "", "anything"));
  EXPECT_TRUE(PatternMatches(MatchPolicy::kPrefix, "a.b", "a.bc"));  // string prefix
  EXPECT_TRUE(PatternMatches(MatchPolicy::kPrefix, "a.b.", "a.b.c"));
  EXPECT_FALSE(PatternMatches(MatchPolicy::kPrefix, "a.b.", "a.b"));
  EXPECT_TRUE(PatternMatches(MatchPolicy::kWildcard, "a..c", "a.b.c"));
  EXPECT_TRUE(PatternMatches(MatchPolicy::kWildcard, "..", "x.y.z"));
  EXPECT_FALSE(PatternMatches(MatchPolicy::kWildcard, "a..c", "a.b.c.d"));
  EXPECT_FALSE(PatternMatches(MatchPolicy::kWildcard, "a..c", "a.b"));
  EXPECT_FALSE(PatternMatches(MatchPolicy::kWildcard, "a..c", "a.b.d"));
  EXPECT_TRUE(PatternMatches(MatchPolicy::kWildcard, "", "single"));
  EXPECT_FALSE(PatternMatches(MatchPolicy::kWildcard, "", "two.parts"));
}

class IsAuthorizedTest : public ::testing::Test {
 protected:
  IsAuthorizedTest() {
    realm_.name = "realm1";
    realm_.roles["r"] = {
        Rule("", MatchPolicy::kPrefix, "S"),                  // everything: subscribe
        Rule("com.x.", MatchPolicy::kPrefix, "PS"),           // publish under com.x.
        Rule("com.x.admin.", MatchPolicy::kPrefix, ""),       // deny rule
        Rule("com.x.admin.ping", MatchPolicy::kExact, "C"),   // exact beats prefixes
        Rule("com..status", MatchPolicy::kWildcard, "R"),     // loses to any prefix
        Rule("org..status", MatchPolicy::kWildcard, "R"),
    };
    realm_.roles["narrow"] = {Rule("com.x.", MatchPolicy::kPrefix, "PSRC")};
  }
  bool Can(std::string_view role, Action action, std::string_view uri) {
    return IsAuthorized(realm_, role, action, uri);
  }
  RealmConfig realm_;
};

TEST_F(IsAuthorizedTest, PrecedenceTable) {
  struct Case {
    const char* uri;
    Action action;
    bool allowed;
  } cases[] = {
      // Only the empty prefix matches.
      {"net.z", Action::kSubscribe, true},
      {"net.z", Action::kPublish, false},
      // Longer prefix "com.x." beats "": its actions, not the union.
      {"com.x.temp", Action::kPublish, true},
      {"com.x.temp", Action::kSubscribe, true},
      {"com.x.temp", Action::kCall, false},
      // Longer prefix "com.x.admin." (allows nothing) beats "com.x.".
      {"com.x.admin.reboot", Action::kPublish, false},
      {"com.x.admin.reboot", Action::kSubscribe, false},
      // Exact beats every prefix.
      {"com.x.admin.ping", Action::kCall, true},
      {"com.x.admin.ping", Action::kPublish, false},
      // Prefix "" beats wildcard "com..status".
      {"com.q.status", Action::kRegister, false},
      {"com.q.status", Action::kSubscribe, true},
      };
  for (const Case& c : cases) {
    EXPECT_EQ(Can("r", c.action, c.uri), c.allowed)
        << c.uri << " " << ActionName(c.action);
  }
}

TEST_F(IsAuthorizedTest, WildcardPrecedence) {
  // A role with only wildcard rules, to see their order among themselves.
  realm_.roles["w"] = {
      Rule("org..", MatchPolicy::kWildcard, "C"),        // 2 empty components
      Rule("org..status", MatchPolicy::kWildcard, "R"),  // 1 empty, length 11
      Rule("org.y.", MatchPolicy::kWildcard, "P"),       // 1 empty, length 6
      Rule(".y.status", MatchPolicy::kWildcard, "S"),    // 1 empty, length 9
      Rule("abcdefgh..", MatchPolicy::kWildcard, "C"),   // 2 empty, length 10
      Rule(".b.", MatchPolicy::kWildcard, "R"),          // 2 empty, length 3
      Rule("x..", MatchPolicy::kWildcard, "S"),          // 2 empty, length 3
      Rule("a..c", MatchPolicy::kWildcard, "P"),         // 1 empty, length 4
      Rule(".b.c", MatchPolicy::kWildcard, "S"),         // 1 empty, length 4
  };
  // Among one-empty matches, the longest wins; two-empty ones lose.
  EXPECT_TRUE(Can("w", Action::kRegister, "org.y.status"));
  EXPECT_FALSE(Can("w", Action::kPublish, "org.y.status"));
  EXPECT_FALSE(Can("w", Action::kSubscribe, "org.y.status"));
  EXPECT_FALSE(Can("w", Action::kCall, "org.y.status"));
  EXPECT_TRUE(Can("w", Action::kPublish, "org.y.other"));
  EXPECT_FALSE(Can("w", Action::kCall, "org.y.other"));
  EXPECT_TRUE(Can("w", Action::kCall, "org.z.other"));  // only "org.." matches
  // Equal empties: longer wins even over an earlier rule ...
  EXPECT_TRUE(Can("w", Action::kCall, "abcdefgh.b.q"));
  EXPECT_FALSE(Can("w", Action::kRegister, "abcdefgh.b.q"));
  // ... and equal length: the one whose empty component is further right.
  EXPECT_TRUE(Can("w", Action::kSubscribe, "x.b.z"));  // "x.." beats ".b."
  EXPECT_FALSE(Can("w", Action::kRegister, "x.b.z"));
  EXPECT_TRUE(Can("w", Action::kPublish, "a.b.c"));   // "a..c" beats ".b.c"
  EXPECT_FALSE(Can("w", Action::kSubscribe, "a.b.c"));
  // Fewer empty components beat a longer pattern.
  realm_.roles["w"].push_back(Rule(".b.q", MatchPolicy::kWildcard, "S"));  // 1 empty, length 4
  EXPECT_TRUE(Can("w", Action::kSubscribe, "abcdefgh.b.q"));
  EXPECT_FALSE(Can("w", Action::kCall, "abcdefgh.b.q"));
  // Wildcard beaten by any matching prefix (also the empty one).
  realm_.roles["w"].push_back(Rule("org.", MatchPolicy::kPrefix, ""));
  EXPECT_FALSE(Can("w", Action::kRegister, "org.y.status"));
}

TEST_F(IsAuthorizedTest, DeniedWithoutMatchingRuleOrRole) {
  EXPECT_FALSE(Can("narrow", Action::kCall, "com.y.f"));
  EXPECT_TRUE(Can("narrow", Action::kCall, "com.x.f"));
  EXPECT_FALSE(Can("nobody", Action::kSubscribe, "com.x.f"));
  realm_.roles["empty"] = {};
  EXPECT_FALSE(Can("empty", Action::kSubscribe, "com.x.f"));
}

TEST_F(IsAuthorizedTest, EachActionSeparately) {
  realm_.roles["a"] = {Rule("p.", MatchPolicy::kPrefix, "P"), Rule("s.", MatchPolicy::kPrefix, "S"),
                       Rule("r.", MatchPolicy::kPrefix, "R"), Rule("c.", MatchPolicy::kPrefix, "C")};
  const Action all[] = {Action::kPublish, Action::kSubscribe, Action::kRegister, Action::kCall};
  const char* uris[] = {"p.x", "s.x", "r.x", "c.x"};
  for (int i = 0; i < 4; ++i) {
    for (int k = 0; k < 4; ++k) {
      EXPECT_EQ(Can("a", all[k], uris[i]), i == k) << uris[i] << " " << ActionName(all[k]);
    }
  }
}

TEST_F(IsAuthorizedTest, DefaultConfigAllowsEverythingToAnonymous) {
  const WampConfig config = DefaultWampConfig();
  const RealmConfig& realm = config.realms.at("realm1");
  for (Action a : {Action::kPublish, Action::kSubscribe, Action::kRegister, Action::kCall}) {
    EXPECT_TRUE(IsAuthorized(realm, "anonymous", a, "com.example.anything"));
    EXPECT_FALSE(IsAuthorized(realm, "device", a, "com.example.anything"));
  }
}

TEST(ActionTest, NamesRoundTrip) {
  for (Action a : {Action::kPublish, Action::kSubscribe, Action::kRegister, Action::kCall}) {
    EXPECT_EQ(ParseAction(ActionName(a)), a);
  }
  EXPECT_EQ(ParseAction("delete"), std::nullopt);
}

}  // namespace
}  // namespace thingtank::wamp
