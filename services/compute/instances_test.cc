#include "services/compute/instances.h"

#include <gtest/gtest.h>

#include "services/common/testing/status_matchers.h"
#include "services/common/testing/temp_db.h"
#include "services/compute/drivers/simulated_driver.h"
#include "services/compute/proto_time.h"

namespace thingtank::compute {
namespace {

class InstancesTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(); }

  void Open() {
    instances_.reset();
    db_.reset();
    auto db = OpenTempDb(dir_, Instances::ColumnFamilies());
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::move(*db);
    InstancesOptions options;
    options.placement.zones = {"us-east-1a", "us-east-1b"};
    options.placement.hosts_per_zone = 2;
    options.placement.host_vcpus = 4;
    options.placement.host_memory_mib = 16384;
    options.timings.pending = absl::Seconds(10);
    options.timings.stopping = absl::Seconds(5);
    options.timings.shutting_down = absl::Seconds(5);
    auto opened = Instances::Open(db_.get(), &clock_, &executor_, {&simulated_, nullptr}, options);
    ASSERT_TRUE(opened.ok()) << opened.status();
    instances_ = std::move(*opened);
  }

  v1::Instance Run(const std::string& type = "t2.micro", const std::string& zone = "") {
    v1::RunInstancesRequest r;
    r.set_image_id("ami-d0f89fb9");
    r.set_instance_type(type);
    r.set_availability_zone(zone);
    r.set_key_name("mykey");
    auto response = instances_->RunInstances(r);
    EXPECT_TRUE(response.ok()) << response.status();
    return response.ok() ? response->instances(0) : v1::Instance();
  }

  v1::Instance Get(const std::string& id) { return instances_->Find(id).value_or(v1::Instance()); }
  v1::InstanceStateName State(const std::string& id) { return Get(id).state().name(); }

  template <typename Request>
  Request Ids(const std::string& id) {
    Request r;
    r.add_instance_ids(id);
    return r;
  }

  TempDir dir_;
  ManualClock clock_;
  InlineExecutor executor_;
  SimulatedDriver simulated_;
  std::unique_ptr<Db> db_;
  std::unique_ptr<Instances> instances_;
};

TEST_F(InstancesTest, LaunchIsPendingThenRunningWithAddresses) {
  v1::Instance launched = Run();
  EXPECT_EQ(launched.state().text(), "pending");
  EXPECT_EQ(launched.state().code(), 0);
  EXPECT_EQ(launched.instance_type(), "t2.micro");
  EXPECT_EQ(launched.key_name(), "mykey");
  ASSERT_EQ(launched.security_groups_size(), 1);
  EXPECT_EQ(launched.security_groups(0), "default");
  EXPECT_EQ(launched.instance_id().size(), 19u);
  EXPECT_EQ(launched.reservation_id().size(), 19u);
  EXPECT_EQ(FromProto(launched.launch_time()), clock_.Now());
  EXPECT_FALSE(launched.private_ip_address().empty());
  EXPECT_EQ(launched.private_dns_name().rfind("ip-10-0-", 0), 0u);
  EXPECT_TRUE(launched.public_ip_address().empty());
  EXPECT_FALSE(launched.host_id().empty());
  clock_.Advance(absl::Seconds(9));
  EXPECT_EQ(State(launched.instance_id()), v1::INSTANCE_STATE_NAME_PENDING);
  clock_.Advance(absl::Seconds(1));
  v1::Instance running = Get(launched.instance_id());
  EXPECT_EQ(running.state().text(), "running");
  EXPECT_EQ(running.state().code(), 16);
  EXPECT_EQ(running.public_ip_address().rfind("54.", 0), 0u);
  EXPECT_NE(running.public_dns_name().find(".compute-1.amazonaws.com"), std::string::npos);
  EXPECT_FALSE(running.has_transition_due_time());
}

TEST_F(InstancesTest, StopReleasesCapacityAndStartPlacesAgain) {
  std::string id = Run("m5.xlarge", "us-east-1a").instance_id();
  clock_.Advance(absl::Seconds(10));
  auto stop = instances_->StopInstances(Ids<v1::StopInstancesRequest>(id));
  ASSERT_TRUE(stop.ok()) << stop.status();
  EXPECT_EQ(stop->stopping_instances(0).previous_state().text(), "running");
  EXPECT_EQ(stop->stopping_instances(0).current_state().text(), "stopping");
  v1::Instance stopping = Get(id);
  EXPECT_TRUE(stopping.public_ip_address().empty());
  EXPECT_EQ(stopping.state_reason().code(), "Client.UserInitiatedShutdown");
  EXPECT_EQ(stopping.state_transition_reason().rfind("User initiated (", 0), 0u);
  clock_.Advance(absl::Seconds(5));
  v1::Instance stopped = Get(id);
  EXPECT_EQ(stopped.state().text(), "stopped");
  EXPECT_TRUE(stopped.host_id().empty());
  auto hosts = instances_->DescribeHosts({});
  ASSERT_TRUE(hosts.ok());
  for (const auto& h : hosts->hosts()) EXPECT_EQ(h.used_vcpus(), 0) << h.host_id();
  // Stopping again changes nothing; rebooting a stopped instance is refused.
  auto again = instances_->StopInstances(Ids<v1::StopInstancesRequest>(id));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->stopping_instances(0).current_state().text(), "stopped");
  EXPECT_THAT(instances_->RebootInstances(Ids<v1::RebootInstancesRequest>(id)),
              IsStatus(absl::StatusCode::kFailedPrecondition, "IncorrectInstanceState"));
  auto start = instances_->StartInstances(Ids<v1::StartInstancesRequest>(id));
  ASSERT_TRUE(start.ok()) << start.status();
  EXPECT_EQ(start->starting_instances(0).current_state().text(), "pending");
  EXPECT_FALSE(Get(id).host_id().empty());
  clock_.Advance(absl::Seconds(10));
  EXPECT_EQ(State(id), v1::INSTANCE_STATE_NAME_RUNNING);
}

TEST_F(InstancesTest, ForcedStopOfAStoppingInstanceEndsNow) {
  std::string id = Run().instance_id();
  clock_.Advance(absl::Seconds(10));
  ASSERT_TRUE(instances_->StopInstances(Ids<v1::StopInstancesRequest>(id)).ok());
  auto forced = Ids<v1::StopInstancesRequest>(id);
  forced.set_force(true);
  ASSERT_TRUE(instances_->StopInstances(forced).ok());
  clock_.RunDue();
  EXPECT_EQ(State(id), v1::INSTANCE_STATE_NAME_STOPPED);
}

TEST_F(InstancesTest, TerminatedStaysVisibleForAnHour) {
  std::string id = Run().instance_id();
  ASSERT_TRUE(instances_->TerminateInstances(Ids<v1::TerminateInstancesRequest>(id)).ok());
  EXPECT_EQ(State(id), v1::INSTANCE_STATE_NAME_SHUTTING_DOWN);
  clock_.Advance(absl::Seconds(5));
  EXPECT_EQ(State(id), v1::INSTANCE_STATE_NAME_TERMINATED);
  EXPECT_TRUE(Get(id).private_ip_address().empty());
  EXPECT_THAT(instances_->StartInstances(Ids<v1::StartInstancesRequest>(id)),
              IsStatus(absl::StatusCode::kFailedPrecondition, "IncorrectInstanceState"));
  clock_.Advance(absl::Minutes(59));
  EXPECT_TRUE(instances_->Find(id).has_value());
  clock_.Advance(absl::Minutes(1));
  EXPECT_FALSE(instances_->Find(id).has_value());
  EXPECT_THAT(instances_->DescribeInstances(Ids<v1::DescribeInstancesRequest>(id)),
              IsStatus(absl::StatusCode::kNotFound, "InvalidInstanceID.NotFound"));
}

TEST_F(InstancesTest, OneIllegalTransitionChangesNothing) {
  std::string running = Run().instance_id();
  clock_.Advance(absl::Seconds(10));
  std::string pending = Run().instance_id();
  v1::StopInstancesRequest r;
  r.add_instance_ids(running);
  r.add_instance_ids(pending);
  EXPECT_THAT(instances_->StopInstances(r),
              IsStatus(absl::StatusCode::kFailedPrecondition, "IncorrectInstanceState"));
  EXPECT_EQ(State(running), v1::INSTANCE_STATE_NAME_RUNNING);
  EXPECT_EQ(State(pending), v1::INSTANCE_STATE_NAME_PENDING);
}

TEST_F(InstancesTest, BadInput) {
  v1::RunInstancesRequest r;
  r.set_instance_type("t2.micro");
  EXPECT_THAT(instances_->RunInstances(r),
              IsStatus(absl::StatusCode::kInvalidArgument, "MissingParameter", "image_id"));
  r.set_image_id("ami-xyz");
  EXPECT_THAT(instances_->RunInstances(r),
              IsStatus(absl::StatusCode::kInvalidArgument, "InvalidAMIID.Malformed", "image_id"));
  r.set_image_id("ami-d0f89fb9");
  r.set_instance_type("t9.huge");
  EXPECT_THAT(instances_->RunInstances(r),
              IsStatus(absl::StatusCode::kInvalidArgument, "InvalidInstanceType", "instance_type"));
  r.set_instance_type("t2.micro");
  r.set_min_count(3);
  r.set_max_count(2);
  EXPECT_THAT(instances_->RunInstances(r),
              IsStatus(absl::StatusCode::kInvalidArgument, "InvalidParameterValue", "max_count"));
  r.set_max_count(3);
  r.set_availability_zone("us-west-9z");
  EXPECT_THAT(instances_->RunInstances(r), IsStatus(absl::StatusCode::kInvalidArgument,
                                                    "InvalidParameterValue", "availability_zone"));
  r.clear_availability_zone();
  r.set_driver(v1::DRIVER_PROCESS);
  EXPECT_THAT(instances_->RunInstances(r),
              IsStatus(absl::StatusCode::kInvalidArgument, "UnsupportedOperation", "driver"));
  r.clear_driver();
  r.mutable_load()->mutable_constant()->set_percent(120);
  EXPECT_THAT(instances_->RunInstances(r), IsStatus(absl::StatusCode::kInvalidArgument,
                                                    "InvalidParameterValue", "load.constant.percent"));
  r.clear_load();
  v1::Tag* tag = r.add_tags();
  tag->set_key("aws:mine");
  EXPECT_THAT(instances_->RunInstances(r),
              IsStatus(absl::StatusCode::kInvalidArgument, "InvalidParameterValue", "tags[0].key"));
  EXPECT_THAT(instances_->StopInstances(Ids<v1::StopInstancesRequest>("i-nothex")),
              IsStatus(absl::StatusCode::kInvalidArgument, "InvalidInstanceID.Malformed",
                       "instance_ids[0]"));
  EXPECT_THAT(instances_->StopInstances(Ids<v1::StopInstancesRequest>("i-0123456789abcdef0")),
              IsStatus(absl::StatusCode::kNotFound, "InvalidInstanceID.NotFound"));
}

TEST_F(InstancesTest, CapacityMinCountAndMaxCount) {
  // 2 zones x 2 hosts x 4 vCPUs: 4 m5.xlarge in all, 2 per zone.
  v1::RunInstancesRequest r;
  r.set_image_id("ami-d0f89fb9");
  r.set_instance_type("m5.xlarge");
  r.set_availability_zone("us-east-1a");
  r.set_min_count(1);
  r.set_max_count(5);
  auto some = instances_->RunInstances(r);
  ASSERT_TRUE(some.ok()) << some.status();
  EXPECT_EQ(some->instances_size(), 2);  // as many as fit, at least min_count
  auto none = instances_->RunInstances(r);
  EXPECT_THAT(none, IsStatus(absl::StatusCode::kResourceExhausted, "InsufficientInstanceCapacity"));
  // Without a zone, the one with room.
  r.clear_availability_zone();
  r.set_max_count(1);
  auto other = instances_->RunInstances(r);
  ASSERT_TRUE(other.ok()) << other.status();
  EXPECT_EQ(other->instances(0).availability_zone(), "us-east-1b");
}

TEST_F(InstancesTest, ClientTokenMakesRunIdempotent) {
  v1::RunInstancesRequest r;
  r.set_image_id("ami-d0f89fb9");
  r.set_instance_type("t2.micro");
  r.set_client_token("decision-1");
  auto first = instances_->RunInstances(r);
  auto second = instances_->RunInstances(r);
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ(first->reservation_id(), second->reservation_id());
  EXPECT_EQ(first->instances(0).instance_id(), second->instances(0).instance_id());
  auto all = instances_->DescribeInstances({});
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->instances_size(), 1);
}

TEST_F(InstancesTest, DescribeFiltersAndPages) {
  std::vector<std::string> ids;
  for (int i = 0; i < 7; ++i) ids.push_back(Run(i % 2 == 0 ? "t2.micro" : "t3.nano").instance_id());
  clock_.Advance(absl::Seconds(10));
  ASSERT_TRUE(instances_->StopInstances(Ids<v1::StopInstancesRequest>(ids[0])).ok());
  v1::DescribeInstancesRequest r;
  v1::Filter* f = r.add_filters();
  f->set_name("instance-state-name");
  f->add_values("running");
  auto running = instances_->DescribeInstances(r);
  ASSERT_TRUE(running.ok());
  EXPECT_EQ(running->instances_size(), 6);
  f = r.add_filters();
  f->set_name("instance-type");
  f->add_values("t3.nano");
  auto t3 = instances_->DescribeInstances(r);
  ASSERT_TRUE(t3.ok());
  EXPECT_EQ(t3->instances_size(), 3);
  // Pages of 5 in launch order.
  v1::DescribeInstancesRequest page;
  page.set_max_results(5);
  auto p1 = instances_->DescribeInstances(page);
  ASSERT_TRUE(p1.ok());
  ASSERT_EQ(p1->instances_size(), 5);
  EXPECT_EQ(p1->instances(0).instance_id(), ids[0]);
  ASSERT_FALSE(p1->next_token().empty());
  page.set_next_token(p1->next_token());
  auto p2 = instances_->DescribeInstances(page);
  ASSERT_TRUE(p2.ok());
  ASSERT_EQ(p2->instances_size(), 2);
  EXPECT_EQ(p2->instances(1).instance_id(), ids[6]);
  EXPECT_TRUE(p2->next_token().empty());
  v1::DescribeInstancesRequest bad;
  bad.add_filters()->set_name("colour");
  EXPECT_THAT(instances_->DescribeInstances(bad), IsStatus(absl::StatusCode::kInvalidArgument,
                                                           "InvalidParameterValue", "filters[0].name"));
}

TEST_F(InstancesTest, CpuFollowsTheLoadModel) {
  std::string id = Run().instance_id();
  clock_.Advance(absl::Seconds(10));
  v1::SetInstanceLoadRequest load;
  load.add_instance_ids(id);
  load.mutable_load()->mutable_constant()->set_percent(90);
  ASSERT_TRUE(instances_->SetInstanceLoad(load).ok());
  instances_->SampleCpu(clock_.Now());
  load.mutable_load()->mutable_constant()->set_percent(30);
  ASSERT_TRUE(instances_->SetInstanceLoad(load).ok());
  instances_->SampleCpu(clock_.Now());
  auto averages = instances_->TakeCpuAverages();
  ASSERT_EQ(averages.size(), 1u);
  EXPECT_DOUBLE_EQ(averages[0].percent, 60);
  EXPECT_TRUE(instances_->TakeCpuAverages().empty());
  // Pending instances report nothing.
  Run();
  instances_->SampleCpu(clock_.Now());
  EXPECT_EQ(instances_->TakeCpuAverages().size(), 1u);
}

TEST_F(InstancesTest, AQueueDepthLoadIsSharedByTheInstancesFollowingTheQueue) {
  simulated_.SetQueueDepth([](const std::string& queue) -> std::optional<double> {
    if (queue == "jobs") return 40.0;
    return std::nullopt;
  });
  std::string a = Run().instance_id();
  std::string b = Run().instance_id();
  clock_.Advance(absl::Seconds(10));
  v1::SetInstanceLoadRequest load;
  load.add_instance_ids(a);
  load.add_instance_ids(b);
  v1::QueueDepthLoad* q = load.mutable_load()->mutable_queue_depth();
  q->set_queue_name("jobs");
  q->set_percent_per_message(1.0);
  q->set_idle_percent(10);
  ASSERT_TRUE(instances_->SetInstanceLoad(load).ok());
  instances_->SampleCpu(clock_.Now());
  EXPECT_DOUBLE_EQ(Get(a).cpu_utilization(), 30);  // 10 + 1.0 * 40 / 2
  ASSERT_TRUE(instances_->StopInstances(Ids<v1::StopInstancesRequest>(b)).ok());
  instances_->SampleCpu(clock_.Now());
  EXPECT_DOUBLE_EQ(Get(a).cpu_utilization(), 50);  // b no longer shares it
  q->set_queue_name("unknown");
  load.clear_instance_ids();
  load.add_instance_ids(a);
  ASSERT_TRUE(instances_->SetInstanceLoad(load).ok());
  instances_->SampleCpu(clock_.Now());
  EXPECT_DOUBLE_EQ(Get(a).cpu_utilization(), 10);  // no depth known: idle
  q->set_percent_per_message(0);
  EXPECT_THAT(instances_->SetInstanceLoad(load),
              IsStatus(absl::StatusCode::kInvalidArgument, "InvalidParameterValue",
                       "load.queue_depth.percent_per_message"));
}

TEST_F(InstancesTest, RestartFinishesTransitionsThatFellDueWhileDown) {
  std::string a = Run("t2.micro", "us-east-1a").instance_id();
  clock_.Advance(absl::Seconds(4));
  std::string b = Run("t2.micro", "us-east-1a").instance_id();
  v1::Instance before = Get(a);
  Open();  // a restart: everything is read back from RocksDB
  v1::Instance after = Get(a);
  EXPECT_EQ(after.host_id(), before.host_id());
  EXPECT_EQ(after.private_ip_address(), before.private_ip_address());
  EXPECT_EQ(State(a), v1::INSTANCE_STATE_NAME_PENDING);
  clock_.Advance(absl::Seconds(6));
  EXPECT_EQ(State(a), v1::INSTANCE_STATE_NAME_RUNNING);
  EXPECT_EQ(State(b), v1::INSTANCE_STATE_NAME_PENDING);
  clock_.Advance(absl::Seconds(4));
  EXPECT_EQ(State(b), v1::INSTANCE_STATE_NAME_RUNNING);
  auto hosts = instances_->DescribeHosts({});
  ASSERT_TRUE(hosts.ok());
  int used = 0;
  for (const auto& h : hosts->hosts()) used += h.used_vcpus();
  EXPECT_EQ(used, 2);
}

}  // namespace
}  // namespace thingtank::compute
