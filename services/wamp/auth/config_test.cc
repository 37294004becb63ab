#include "gtest/gtest.h"
#include "services/common/status.h"
#include "services/wamp/auth/auth.h"

namespace thingtank::wamp {
namespace {

// The example of CONFIG.md.
constexpr char kExample[] = R"({"realms":[{"name":"realm1",
  "anonymous":{"allow":true,"loopback_only":true,"role":"anonymous"},
  "roles":{"anonymous":[{"uri":"","match":"prefix","allow":["publish","subscribe","register","call"]}],
           "device":[{"uri":"com.example.","match":"prefix","allow":["publish","call"]},
                     {"uri":"com..status","match":"wildcard","allow":["subscribe"]},
                     {"uri":"com.example.admin","match":"exact","allow":[]}]},
  "principals":[{"authid":"dev1","role":"device","ticket":"s3cret"},
                {"authid":"dash","role":"device","secret":"pw","salt":"salt123","iterations":100,"keylen":32}]}]})";

TEST(ParseWampConfigTest, Example) {
  const absl::StatusOr<WampConfig> config = ParseWampConfig(kExample);
  ASSERT_TRUE(config.ok()) << config.status();
  ASSERT_EQ(config->realms.size(), 1u);
  const RealmConfig& realm = config->realms.at("realm1");
  EXPECT_EQ(realm.name, "realm1");
  EXPECT_TRUE(realm.anonymous);
  EXPECT_TRUE(realm.anonymous_loopback_only);
  EXPECT_EQ(realm.anonymous_role, "anonymous");
  ASSERT_EQ(realm.roles.size(), 2u);
  const std::vector<Permission>& device = realm.roles.at("device");
  ASSERT_EQ(device.size(), 3u);
  EXPECT_EQ(device[0].uri, "com.example.");
  EXPECT_EQ(device[0].match, MatchPolicy::kPrefix);
  EXPECT_TRUE(device[0].publish);
  EXPECT_FALSE(device[0].subscribe);
  EXPECT_FALSE(device[0].register_);
  EXPECT_TRUE(device[0].call);
  EXPECT_EQ(device[1].match, MatchPolicy::kWildcard);
  EXPECT_TRUE(device[1].subscribe);
  EXPECT_EQ(device[2].match, MatchPolicy::kExact);
  EXPECT_FALSE(device[2].publish || device[2].subscribe || device[2].register_ || device[2].call);
  const Permission& anon = realm.roles.at("anonymous").at(0);
  EXPECT_EQ(anon.uri, "");
  EXPECT_TRUE(anon.publish && anon.subscribe && anon.register_ && anon.call);

  ASSERT_EQ(realm.principals.size(), 2u);
  const Principal& dev1 = realm.principals.at("dev1");
  EXPECT_EQ(dev1.role, "device");
  EXPECT_EQ(dev1.ticket, "s3cret");
  EXPECT_EQ(dev1.secret, "");
  const Principal& dash = realm.principals.at("dash");
  EXPECT_EQ(dash.secret, "pw");
  EXPECT_EQ(dash.salt, "salt123");
  EXPECT_EQ(dash.iterations, 100);
  EXPECT_EQ(dash.keylen, 32);

  EXPECT_TRUE(IsAuthorized(realm, "device", Action::kCall, "com.example.f"));
  EXPECT_FALSE(IsAuthorized(realm, "device", Action::kCall, "com.example.admin"));
  EXPECT_TRUE(IsAuthorized(realm, "device", Action::kSubscribe, "com.x.status"));
}

TEST(ParseWampConfigTest, DefaultsAndIgnoredTopLevelFields) {
  const absl::StatusOr<WampConfig> config = ParseWampConfig(
      R"({"listen": {"port": 8080}, "realms": [{"name": "a"}, {"name": "b.c"}]})");
  ASSERT_TRUE(config.ok()) << config.status();
  ASSERT_EQ(config->realms.size(), 2u);
  const RealmConfig& a = config->realms.at("a");
  EXPECT_FALSE(a.anonymous);
  EXPECT_TRUE(a.anonymous_loopback_only);
  EXPECT_TRUE(a.roles.empty());
  EXPECT_TRUE(a.principals.empty());
  EXPECT_EQ(config->realms.count("b.c"), 1u);
}

TEST(ParseWampConfigTest, SaltedDefaults) {
  const absl::StatusOr<WampConfig> config = ParseWampConfig(R"({"realms": [{"name": "r",
    "roles": {"x": []}, "principals": [{"authid": "p", "role": "x", "secret": "s", "salt": "n"}]}]})");
  ASSERT_TRUE(config.ok()) << config.status();
  const Principal& p = config->realms.at("r").principals.at("p");
  EXPECT_EQ(p.iterations, 1000);  // Autobahn's derive_key defaults
  EXPECT_EQ(p.keylen, 32);
}

TEST(DefaultWampConfigTest, Realm1AnonymousLoopbackOnly) {
  const WampConfig config = DefaultWampConfig();
  ASSERT_EQ(config.realms.size(), 1u);
  const RealmConfig& realm = config.realms.at("realm1");
  EXPECT_TRUE(realm.anonymous);
  EXPECT_TRUE(realm.anonymous_loopback_only);
  EXPECT_EQ(realm.anonymous_role, "anonymous");
  ASSERT_EQ(realm.roles.at("anonymous").size(), 1u);
  EXPECT_EQ(realm.roles.at("anonymous")[0].uri, "");
  EXPECT_EQ(realm.roles.at("anonymous")[0].match, MatchPolicy::kPrefix);
  EXPECT_TRUE(realm.principals.empty());
}

struct BadCase {
  const char* name;
  const char* json;
  const char* field;    // ErrorField and the message's start
  const char* message;  // the whole message (null: only the field is checked)
};

// Wraps a realm body in {"realms":[{"name":"r", <body>}]}.
std::string Realm(const std::string& body) {
  return R"({"realms":[{"name":"r")" + (body.empty() ? "" : "," + body) + "}]}";
}

void PrintTo(const BadCase& c, std::ostream* os) { *os << c.name; }

class BadConfigTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(BadConfigTest, NamesTheField) {
  const BadCase& c = GetParam();
  const absl::StatusOr<WampConfig> config = ParseWampConfig(c.json);
  ASSERT_FALSE(config.ok()) << c.json;
  EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ErrorField(config.status()), c.field);
  if (c.message != nullptr) {
    EXPECT_EQ(config.status().message(), c.message);
  } else {
    EXPECT_EQ(config.status().message().rfind("(config): not valid JSON: ", 0), 0u)
        << config.status().message();
  }
}

const std::string kRole = R"("roles":{"device":[{"uri":"com.","match":"prefix","allow":["call"]}]})";

const std::string kBadJson[] = {
    Realm(R"("roles":{"device":[{"uri":"com.","match":"prefix","allow":["call"]},
                                {"uri":"x","match":"regex","allow":[]}]})"),
    Realm(R"("roles":{"device":[{"uri":"com.","match":"prefix","allow":["call","delete"]}]})"),
    R"({"realms":[{"name":"r"},{"name":"s"},{"name":"r"}]})",
    Realm(kRole + R"(,"principals":[{"authid":"a","role":"admin","ticket":"t"}])"),
    Realm(kRole + R"(,"principals":[{"authid":"a","role":"device"}])"),
    Realm(kRole + R"(,"principals":[{"authid":"a","role":"device","ticket":"t"},
                                    {"authid":"a","role":"device","ticket":"u"}])"),
    Realm(kRole + R"(,"principals":[{"authid":"a","role":"device","secret":"s","salt":"n","iterations":0}])"),
    Realm(kRole + R"(,"principals":[{"authid":"a","role":"device","secret":"s","salt":"n","keylen":"32"}])"),
    Realm(kRole + R"(,"principals":[{"authid":"a","role":"device","ticket":"t","salt":"n"}])"),
    Realm(kRole + R"(,"principals":[{"authid":"a","role":"device","secret":"s","iterations":10}])"),
    Realm(kRole + R"(,"principals":[{"authid":"a","role":"device","ticket":""}])"),
    Realm(R"("anonymous":{"allow":true,"role":"guest"})"),
    Realm(R"("anonymous":{"allow":"yes"})"),
    Realm(R"("anonymous":{"allow":true,"loopbackonly":false})"),
    Realm(R"("roles":{"device":[{"uri":"com.","allow":["call"]}]})"),
    Realm(R"("roles":{"device":[{"uri":"com..x","match":"exact","allow":["call"]}]})"),
    Realm(R"("roles":{"device":[{"uri":"com.","match":"prefix","allow":["call"]},
                                {"uri":"com.","match":"prefix","allow":["publish"]}]})"),
    Realm(R"("roles":{"device":{"uri":"com."}})"),
    R"({"realms":[{"name":""}]})",
    R"({"realms":[{"name":"a b"}]})",
    R"({"realms":[]})",
    R"({"realm":[]})",
    R"({"realms":[{"name":"r",]})",
    R"([1,2])",
};

INSTANTIATE_TEST_SUITE_P(
    Cases, BadConfigTest,
    ::testing::Values(
        BadCase{"BadMatch", kBadJson[0].c_str(), "realms[0].roles.device[1].match",
                "realms[0].roles.device[1].match: must be one of exact, prefix, wildcard"},
        BadCase{"UnknownAction", kBadJson[1].c_str(), "realms[0].roles.device[0].allow[1]",
                "realms[0].roles.device[0].allow[1]: unknown action \"delete\"; must be one of "
                "publish, subscribe, register, call"},
        BadCase{"DuplicateRealm", kBadJson[2].c_str(), "realms[2].name",
                "realms[2].name: duplicate realm \"r\""},
        BadCase{"UndefinedRole", kBadJson[3].c_str(), "realms[0].principals[0].role",
                "realms[0].principals[0].role: role \"admin\" is not defined in roles"},
        BadCase{"NoCredentials", kBadJson[4].c_str(), "realms[0].principals[0]",
                "realms[0].principals[0]: needs a ticket or a secret (or both)"},
        BadCase{"DuplicateAuthid", kBadJson[5].c_str(), "realms[0].principals[1].authid",
                "realms[0].principals[1].authid: duplicate authid \"a\""},
        BadCase{"ZeroIterations", kBadJson[6].c_str(), "realms[0].principals[0].iterations",
                "realms[0].principals[0].iterations: must be an integer from 1 to 1000000"},
        BadCase{"KeylenNotInt", kBadJson[7].c_str(), "realms[0].principals[0].keylen",
                "realms[0].principals[0].keylen: must be an integer from 1 to 256"},
        BadCase{"SaltWithoutSecret", kBadJson[8].c_str(), "realms[0].principals[0].salt",
                "realms[0].principals[0].salt: only valid with a secret"},
        BadCase{"IterationsWithoutSalt", kBadJson[9].c_str(),
                "realms[0].principals[0].iterations",
                "realms[0].principals[0].iterations: only valid with a salt"},
        BadCase{"EmptyTicket", kBadJson[10].c_str(), "realms[0].principals[0].ticket",
                "realms[0].principals[0].ticket: must not be empty"},
        BadCase{"AnonymousRoleUndefined", kBadJson[11].c_str(), "realms[0].anonymous.role",
                "realms[0].anonymous.role: role \"guest\" is not defined in roles"},
        BadCase{"AllowNotBool", kBadJson[12].c_str(), "realms[0].anonymous.allow",
                "realms[0].anonymous.allow: must be true or false"},
        BadCase{"UnknownField", kBadJson[13].c_str(), "realms[0].anonymous.loopbackonly",
                "realms[0].anonymous.loopbackonly: unknown field; expected one of allow, "
                "loopback_only, role"},
        BadCase{"MatchMissing", kBadJson[14].c_str(), "realms[0].roles.device[0].match",
                "realms[0].roles.device[0].match: required"},
        BadCase{"ExactWithEmptyComponent", kBadJson[15].c_str(), "realms[0].roles.device[0].uri",
                "realms[0].roles.device[0].uri: must not have empty components (\"\", \"a..b\", "
                "\".a\", \"a.\")"},
        BadCase{"DuplicateRule", kBadJson[16].c_str(), "realms[0].roles.device[1]",
                "realms[0].roles.device[1]: same uri and match as rule 0"},
        BadCase{"RulesNotArray", kBadJson[17].c_str(), "realms[0].roles.device",
                "realms[0].roles.device: must be an array of rules"},
        BadCase{"EmptyRealmName", kBadJson[18].c_str(), "realms[0].name",
                "realms[0].name: must not be empty"},
        BadCase{"RealmNameWhitespace", kBadJson[19].c_str(), "realms[0].name",
                "realms[0].name: must not contain whitespace or '#'"},
        BadCase{"NoRealms", kBadJson[20].c_str(), "realms", "realms: must be a non-empty array"},
        BadCase{"RealmsMissing", kBadJson[21].c_str(), "realms", "realms: required"},
        BadCase{"NotJson", kBadJson[22].c_str(), "(config)", nullptr},
        BadCase{"NotObject", kBadJson[23].c_str(), "(config)", "(config): must be a JSON object"}),
    [](const ::testing::TestParamInfo<BadCase>& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace thingtank::wamp
