#include "services/common/config.h"

#include "gtest/gtest.h"

namespace thingtank {
namespace {

TEST(ServeConfigTest, DefaultsRunEverythingMonolithic) {
  auto config = ParseServeConfig({}, {});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_TRUE(config->Runs("gateway"));
  EXPECT_TRUE(config->Runs("queues"));
  EXPECT_TRUE(config->Monolithic());
  EXPECT_EQ(config->gateway_port, 50051);
  EXPECT_EQ(config->data_dir, "./data");
}

TEST(ServeConfigTest, FlagsOverrideEnvironment) {
  auto config = ParseServeConfig({"--data-dir", "/tmp/x", "--sync-writes"},
                                 {{"THINGTANK_DATA_DIR", "/env"}, {"THINGTANK_GATEWAY_PORT", "6000"}});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->data_dir, "/tmp/x");
  EXPECT_EQ(config->gateway_port, 6000);
  EXPECT_TRUE(config->sync_writes);
}

TEST(ServeConfigTest, ErrorsNameTheFlag) {
  struct Case {
    std::vector<std::string> args;
    std::string expected;
  } cases[] = {
      {{"--gateway-port=70000"}, "--gateway-port"},
      {{"--services=queues,bogus"}, "unknown service \"bogus\""},
      {{"--auth=magic"}, "--auth"},
      {{"--time-scale=0"}, "--time-scale"},
      {{"--nope"}, "unknown flag --nope"},
      {{"--auth=apikey"}, "--api-keys-file"},
      {{"--listen-address=0.0.0.0"}, "--auth: none on the non-loopback"},
      {{"--services=queues", "--backends=queues=h:1"}, "--backends"},
      {{"--services=gateway", "--backends=queues=nohost"}, "is not service=host:port"},
      {{"--services=gateway"}, "--backends: the gateway alone forwards to backends"},
      {{"--ephemeral", "--data-dir=/tmp/x"}, "--ephemeral: makes its own temporary data directory"},
      {{"--bootstrap="}, "--bootstrap: is empty"},
  };
  for (const auto& c : cases) {
    auto config = ParseServeConfig(c.args, {});
    ASSERT_FALSE(config.ok()) << c.args[0];
    EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(config.status().message().find(c.expected), absl::string_view::npos)
        << config.status().message();
  }
}

TEST(ServeConfigTest, OnlyTheServicesOfThisBuildCanRun) {
  const std::vector<std::string> built = {"queues", "tables", "wamp"};
  auto config = ParseServeConfig({}, {}, built);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->services, (std::set<std::string>{"gateway", "queues", "tables", "wamp"}));
  auto planned = ParseServeConfig({"--services=compute"}, {}, built);
  ASSERT_FALSE(planned.ok());
  EXPECT_EQ(planned.status().message(),
            "--services: service \"compute\" is not in this build yet (this build has: queues, "
            "tables, wamp, gateway, all)");
  EXPECT_FALSE(ParseServeConfig({"--compute-port=1"}, {}, built).ok());
  EXPECT_TRUE(ParseServeConfig({"--tables-port=1"}, {}, built).ok());
  const std::string usage = ServeUsage(built);
  EXPECT_NE(usage.find("--tables-port (default 50054)"), std::string::npos) << usage;
  EXPECT_NE(usage.find("--wamp-port (default 50057)"), std::string::npos) << usage;
  EXPECT_EQ(usage.find("compute"), std::string::npos) << usage;
}

TEST(ServeConfigTest, ServiceSettingsAreKeptForTheirWiring) {
  const std::vector<ServiceFlagSpec> specs = {
      {"wamp", "wamp-ws-port", "N", "WebSocket port"},
      {"wamp", "api-key-secret", "", "its secret", /*env_only=*/true},
  };
  auto config = ParseServeConfig({"--wamp-ws-port", "0"}, {{"THINGTANK_API_KEY_SECRET", "s"}},
                                 {"queues", "wamp"}, specs);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->ServiceFlag("wamp-ws-port"), "0");
  EXPECT_EQ(config->ServiceFlag("api-key-secret"), "s");
  EXPECT_EQ(config->ServiceFlag("nope", "fallback"), "fallback");
  auto secret = ParseServeConfig({"--api-key-secret", "s"}, {}, {"wamp"}, specs);
  ASSERT_FALSE(secret.ok());
  EXPECT_NE(secret.status().message().find("set it in the environment (THINGTANK_API_KEY_SECRET)"),
            absl::string_view::npos)
      << secret.status().message();
  const std::string usage = ServeUsage({"wamp"}, specs);
  EXPECT_NE(usage.find("--wamp-ws-port=N"), std::string::npos) << usage;
  EXPECT_NE(usage.find("THINGTANK_API_KEY_SECRET"), std::string::npos) << usage;
  EXPECT_EQ(ParsePortFlag("wamp-ws-port", "x").status().message(),
            "--wamp-ws-port: \"x\" is not a port (0 to 65535; 0 picks a free one)");
}

TEST(ServeConfigTest, InsecureOffLoopbackNeedsForce) {
  auto config = ParseServeConfig({"--listen-address=0.0.0.0", "--allow-insecure"}, {});
  EXPECT_TRUE(config.ok()) << config.status();
}

TEST(ServeConfigTest, GatewayWithBackendsIsNotMonolithic) {
  auto config = ParseServeConfig({"--services=gateway", "--backends=queues=127.0.0.1:50056"}, {});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_FALSE(config->Monolithic());
  EXPECT_EQ(config->backends.at("queues"), "127.0.0.1:50056");
}

}  // namespace
}  // namespace thingtank
