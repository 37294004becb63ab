#include "services/compute/placement.h"

#include <gtest/gtest.h>

#include "services/common/testing/status_matchers.h"

namespace thingtank::compute {
namespace {

PlacementOptions TwoZones(int hosts, int32_t vcpus, int64_t memory) {
  PlacementOptions o;
  o.zones = {"us-east-1a", "us-east-1b"};
  o.hosts_per_zone = hosts;
  o.host_vcpus = vcpus;
  o.host_memory_mib = memory;
  return o;
}

const InstanceType& Type(const char* name) { return *FindInstanceType(name); }

TEST(PlacementTest, BestFitFillsTheFullestHostThatFits) {
  Placement p(TwoZones(3, 8, 32768));
  auto a = p.Place("us-east-1a", "i-a", Type("m5.xlarge"));  // 4 vCPU
  ASSERT_TRUE(a.ok());
  // The second goes next to the first (the fullest host that still fits).
  auto b = p.Place("us-east-1a", "i-b", Type("m5.large"));  // 2 vCPU
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(*b, *a);
  // A 4-vCPU type no longer fits there (2 free): it goes to another host.
  auto c = p.Place("us-east-1a", "i-c", Type("m5.xlarge"));
  ASSERT_TRUE(c.ok());
  EXPECT_NE(*c, *a);
  // A 2-vCPU type fills the 2-vCPU hole of the first host, not the half-empty second.
  auto d = p.Place("us-east-1a", "i-d", Type("c5.large"));
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(*d, *a);
}

TEST(PlacementTest, MemoryCountsToo) {
  Placement p(TwoZones(1, 64, 16384));
  ASSERT_TRUE(p.Place("us-east-1a", "i-a", Type("r5.large")).ok());  // 2 vCPU, 16 GiB
  EXPECT_THAT(p.Place("us-east-1a", "i-b", Type("t2.nano")),
              IsStatus(absl::StatusCode::kResourceExhausted, "InsufficientInstanceCapacity"));
}

TEST(PlacementTest, ExhaustedZoneNamesZoneAndTypeAndReleaseGivesRoomBack) {
  Placement p(TwoZones(2, 4, 65536));
  ASSERT_TRUE(p.Place("us-east-1b", "i-1", Type("m5.xlarge")).ok());
  ASSERT_TRUE(p.Place("us-east-1b", "i-2", Type("m5.xlarge")).ok());
  EXPECT_EQ(p.Fits("us-east-1b", Type("m5.xlarge")), 0);
  auto full = p.Place("us-east-1b", "i-3", Type("m5.xlarge"));
  ASSERT_THAT(full, IsStatus(absl::StatusCode::kResourceExhausted, "InsufficientInstanceCapacity"));
  EXPECT_NE(full.status().message().find("m5.xlarge"), std::string::npos);
  EXPECT_NE(full.status().message().find("us-east-1b"), std::string::npos);
  // The other zone still has room.
  EXPECT_EQ(p.Fits("us-east-1a", Type("m5.xlarge")), 2);
  p.Release("i-1");
  EXPECT_EQ(p.Fits("us-east-1b", Type("m5.xlarge")), 1);
  EXPECT_TRUE(p.Place("us-east-1b", "i-3", Type("m5.xlarge")).ok());
}

TEST(PlacementTest, UnknownZoneIsInvalid) {
  Placement p(TwoZones(1, 4, 4096));
  EXPECT_THAT(p.Place("mars-1a", "i-1", Type("t2.micro")),
              IsStatus(absl::StatusCode::kInvalidArgument, "InvalidParameterValue",
                       "availability_zone"));
}

TEST(PlacementTest, LeastLoadedZoneSpreadsAndDescribeShowsUtilization) {
  Placement p(TwoZones(1, 4, 16384));
  ASSERT_TRUE(p.Place("us-east-1a", "i-1", Type("t2.micro")).ok());
  EXPECT_EQ(p.LeastLoadedZone(Type("t2.micro"), 1), "us-east-1b");
  EXPECT_EQ(p.LeastLoadedZone(Type("t2.micro"), 5), "");
  auto hosts = p.Describe("us-east-1a");
  ASSERT_EQ(hosts.size(), 1u);
  EXPECT_EQ(hosts[0].used_vcpus(), 1);
  EXPECT_EQ(hosts[0].used_memory_mib(), 1024);
  ASSERT_EQ(hosts[0].instance_ids_size(), 1);
  EXPECT_EQ(hosts[0].instance_ids(0), "i-1");
  EXPECT_EQ(p.Describe("").size(), 2u);
  // Restore puts an instance back on its host (loading).
  Placement q(TwoZones(1, 4, 16384));
  ASSERT_TRUE(q.Restore(hosts[0].host_id(), "i-1", Type("t2.micro")).ok());
  EXPECT_EQ(q.Describe("us-east-1a")[0].used_vcpus(), 1);
  EXPECT_FALSE(q.Restore("h-nope", "i-2", Type("t2.micro")).ok());
}

}  // namespace
}  // namespace thingtank::compute
