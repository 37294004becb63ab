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
  };
  for (const auto& c : cases) {
    auto config = ParseServeConfig(c.args, {});
    ASSERT_FALSE(config.ok()) << c.args[0];
    EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(config.status().message().find(c.expected), absl::string_view::npos)
        << config.status().message();
  }
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
