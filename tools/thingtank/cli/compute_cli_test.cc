// Unit tests of `thingtank compute`: the value parsers (load SPEC, TIME,
// filters, steps, launch template NAME[:VERSION]), the AWS names of the enums, and the command table (help and
// usage errors, which need no server).

#include "tools/thingtank/cli/compute_cli.h"

#include <google/protobuf/util/time_util.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <sstream>

#include "tools/thingtank/cli/compute_args.h"
#include "tools/thingtank/cli/compute_format.h"

namespace thingtank::cli::compute {
namespace {

using google::protobuf::util::TimeUtil;

const absl::Time kNow = absl::FromUnixSeconds(1'796'205'600);  // 2026-12-02T10:00:00Z

absl::Time Rfc3339(const std::string& text) {
  absl::Time t;
  std::string error;
  EXPECT_TRUE(absl::ParseTime(absl::RFC3339_full, text, &t, &error)) << error;
  return t;
}

// ---------------------------------------------------------------------------
// Load SPEC

TEST(LoadSpec, Constant) {
  v1::LoadModel load;
  std::string error;
  ASSERT_TRUE(ParseLoadSpec("constant:90", kNow, &load, &error)) << error;
  ASSERT_EQ(load.model_case(), v1::LoadModel::kConstant);
  EXPECT_EQ(load.constant().percent(), 90);
  ASSERT_TRUE(ParseLoadSpec("constant:12.5", kNow, &load, &error)) << error;
  EXPECT_EQ(load.constant().percent(), 12.5);
  EXPECT_EQ(FormatLoadSpec(load), "constant:12.5");
}

TEST(LoadSpec, StepAtRfc3339AndRelativeTime) {
  v1::LoadModel load;
  std::string error;
  ASSERT_TRUE(ParseLoadSpec("step:10,90,2026-12-02T10:05:00Z", kNow, &load, &error)) << error;
  ASSERT_EQ(load.model_case(), v1::LoadModel::kStep);
  EXPECT_EQ(load.step().before_percent(), 10);
  EXPECT_EQ(load.step().after_percent(), 90);
  EXPECT_EQ(TimeUtil::ToString(load.step().at()), "2026-12-02T10:05:00Z");
  EXPECT_EQ(FormatLoadSpec(load), "step:10,90,2026-12-02T10:05:00Z");

  ASSERT_TRUE(ParseLoadSpec("step:0,100,+5m", kNow, &load, &error)) << error;
  EXPECT_EQ(FromTimestamp(load.step().at()), kNow + absl::Minutes(5));
}

TEST(LoadSpec, QueueDepthFollowsAQueue) {
  v1::LoadModel load;
  std::string error;
  ASSERT_TRUE(ParseLoadSpec("queue:jobs,2,5", kNow, &load, &error)) << error;
  ASSERT_EQ(load.model_case(), v1::LoadModel::kQueueDepth);
  EXPECT_EQ(load.queue_depth().queue_name(), "jobs");
  EXPECT_DOUBLE_EQ(load.queue_depth().percent_per_message(), 2);
  EXPECT_DOUBLE_EQ(load.queue_depth().idle_percent(), 5);
  EXPECT_EQ(FormatLoadSpec(load), "queue:jobs,2,5");
  ASSERT_TRUE(ParseLoadSpec("queue:jobs,0.5", kNow, &load, &error)) << error;
  EXPECT_DOUBLE_EQ(load.queue_depth().idle_percent(), 0);
}

TEST(LoadSpec, SinePeriodIsADuration) {
  v1::LoadModel load;
  std::string error;
  ASSERT_TRUE(ParseLoadSpec("sine:50,40,10m", kNow, &load, &error)) << error;
  ASSERT_EQ(load.model_case(), v1::LoadModel::kSine);
  EXPECT_EQ(load.sine().mean_percent(), 50);
  EXPECT_EQ(load.sine().amplitude_percent(), 40);
  EXPECT_EQ(load.sine().period().seconds(), 600);
  EXPECT_EQ(FormatLoadSpec(load), "sine:50,40,10m");

  for (const char* period : {"600s", "600", "0.5h", "5m300s"}) {
    ASSERT_TRUE(ParseLoadSpec(std::string("sine:50,40,") + period, kNow, &load, &error))
        << period << ": " << error;
    EXPECT_EQ(load.sine().period().seconds(), period == std::string("0.5h") ? 1800 : 600) << period;
  }
}

TEST(LoadSpec, RejectsMalformedSpecsNamingTheForm) {
  const struct {
    const char* spec;
    const char* says;
  } kCases[] = {
      {"constant:101", "constant:PERCENT"},
      {"constant:-1", "constant:PERCENT"},
      {"constant:", "constant:PERCENT"},
      {"constant", "constant:PERCENT"},
      {"constant:nan", "constant:PERCENT"},
      {"step:10,90", "step:BEFORE,AFTER,TIME"},
      {"step:10,90,tomorrow", "is not a time"},
      {"sine:50,40", "sine:MEAN,AMPLITUDE,PERIOD"},
      {"sine:50,40,0s", "not a positive duration"},
      {"sine:50,40,-1m", "not a positive duration"},
      {"sine:50,40,10 minutes", "not a positive duration"},
      {"square:1,2,3", "constant:PERCENT, step:BEFORE,AFTER,TIME, sine:MEAN,AMPLITUDE,PERIOD or queue:"},
      {"queue:jobs", "queue:NAME,PERCENT_PER_MESSAGE[,IDLE]"},
      {"", "constant:PERCENT, step"},
  };
  for (const auto& c : kCases) {
    v1::LoadModel load;
    std::string error;
    EXPECT_FALSE(ParseLoadSpec(c.spec, kNow, &load, &error)) << c.spec;
    EXPECT_NE(error.find(c.says), std::string::npos) << c.spec << ": " << error;
    EXPECT_NE(error.find(std::string("\"") + c.spec + "\""), std::string::npos) << error;
  }
}

TEST(LoadSpec, FormatOfNoModel) { EXPECT_EQ(FormatLoadSpec(v1::LoadModel()), "-"); }

// ---------------------------------------------------------------------------
// TIME

TEST(Time, Rfc3339WithZoneOffsetAndFraction) {
  absl::Time t;
  std::string error;
  ASSERT_TRUE(ParseTime("2026-12-02T10:00:00Z", kNow, &t, &error)) << error;
  EXPECT_EQ(t, kNow);
  ASSERT_TRUE(ParseTime("2026-12-02T11:00:00+01:00", kNow, &t, &error)) << error;
  EXPECT_EQ(t, kNow);
  ASSERT_TRUE(ParseTime("2026-12-02T10:00:00.250Z", kNow, &t, &error)) << error;
  EXPECT_EQ(t, kNow + absl::Milliseconds(250));
}

TEST(Time, NowAndRelativeToTheGivenClock) {
  absl::Time t;
  std::string error;
  ASSERT_TRUE(ParseTime("now", kNow, &t, &error));
  EXPECT_EQ(t, kNow);
  const struct {
    const char* text;
    absl::Duration offset;
  } kCases[] = {
      {"-1h", -absl::Hours(1)},      {"+30m", absl::Minutes(30)},
      {"-90s", -absl::Seconds(90)},  {"-1h30m", -absl::Minutes(90)},
      {"-2d", -absl::Hours(48)},     {"-1.5s", -absl::Milliseconds(1500)},
      {"+0s", absl::ZeroDuration()}, {"-600", -absl::Minutes(10)},
  };
  for (const auto& c : kCases) {
    ASSERT_TRUE(ParseTime(c.text, kNow, &t, &error)) << c.text << ": " << error;
    EXPECT_EQ(t, kNow + c.offset) << c.text;
  }
}

TEST(Time, RejectsWhatIsNoTime) {
  for (const char* text : {"", "yesterday", "2026-12-02", "2026-12-02T10:00:00", "-", "-x", "--1h",
                           "+-1h", "-inf", "1h", "2026-13-02T10:00:00Z"}) {
    absl::Time t;
    std::string error;
    EXPECT_FALSE(ParseTime(text, kNow, &t, &error)) << text;
    EXPECT_NE(error.find(std::string("\"") + text + "\""), std::string::npos) << error;
  }
}

TEST(Time, TimestampRoundTrip) {
  google::protobuf::Timestamp ts;
  const absl::Time t = Rfc3339("2026-12-02T10:00:00.123456789Z");
  SetTimestamp(t, &ts);
  EXPECT_EQ(ts.seconds(), 1'796'205'600);
  EXPECT_EQ(ts.nanos(), 123'456'789);
  EXPECT_EQ(FromTimestamp(ts), t);
  SetTimestamp(Rfc3339("1969-12-31T23:59:59.5Z"), &ts);  // before the epoch: nanos stay >= 0
  EXPECT_EQ(ts.seconds(), -1);
  EXPECT_EQ(ts.nanos(), 500'000'000);
}

TEST(Durations, AbslAndCliForms) {
  EXPECT_EQ(ParseDurationArg("600s"), absl::Seconds(600));
  EXPECT_EQ(ParseDurationArg("10m"), absl::Minutes(10));
  EXPECT_EQ(ParseDurationArg("1h30m"), absl::Minutes(90));
  EXPECT_EQ(ParseDurationArg("4d"), absl::Hours(96));
  EXPECT_EQ(ParseDurationArg("90"), absl::Seconds(90));
  EXPECT_EQ(ParseDurationArg("0"), absl::ZeroDuration());
  EXPECT_EQ(ParseDurationArg("-1s"), std::nullopt);
  EXPECT_EQ(ParseDurationArg("inf"), std::nullopt);
  EXPECT_EQ(ParseDurationArg("soon"), std::nullopt);
  EXPECT_EQ(ParseDurationArg(""), std::nullopt);
}

// ---------------------------------------------------------------------------
// AWS enum names

TEST(EnumNames, AwsStringsMapToTheProtoEnums) {
  EXPECT_EQ(ParseEnumName(ComparisonOperatorNames(), "GreaterThanThreshold"),
            v1::COMPARISON_OPERATOR_GREATER_THAN_THRESHOLD);
  EXPECT_EQ(ParseEnumName(ComparisonOperatorNames(), "GreaterThanOrEqualToThreshold"),
            v1::COMPARISON_OPERATOR_GREATER_THAN_OR_EQUAL_TO_THRESHOLD);
  EXPECT_EQ(ParseEnumName(ComparisonOperatorNames(), "LessThanThreshold"),
            v1::COMPARISON_OPERATOR_LESS_THAN_THRESHOLD);
  EXPECT_EQ(ParseEnumName(ComparisonOperatorNames(), "LessThanOrEqualToThreshold"),
            v1::COMPARISON_OPERATOR_LESS_THAN_OR_EQUAL_TO_THRESHOLD);
  EXPECT_EQ(ParseEnumName(StatisticNames(), "Average"), v1::STATISTIC_AVERAGE);
  EXPECT_EQ(ParseEnumName(StatisticNames(), "Sum"), v1::STATISTIC_SUM);
  EXPECT_EQ(ParseEnumName(StatisticNames(), "SampleCount"), v1::STATISTIC_SAMPLE_COUNT);
  EXPECT_EQ(ParseEnumName(StatisticNames(), "Minimum"), v1::STATISTIC_MINIMUM);
  EXPECT_EQ(ParseEnumName(StatisticNames(), "Maximum"), v1::STATISTIC_MAXIMUM);
  EXPECT_EQ(ParseEnumName(StateValueNames(), "OK"), v1::STATE_VALUE_OK);
  EXPECT_EQ(ParseEnumName(StateValueNames(), "ALARM"), v1::STATE_VALUE_ALARM);
  EXPECT_EQ(ParseEnumName(StateValueNames(), "INSUFFICIENT_DATA"),
            v1::STATE_VALUE_INSUFFICIENT_DATA);
  EXPECT_EQ(ParseEnumName(TreatMissingDataNames(), "notBreaching"),
            v1::TREAT_MISSING_DATA_NOT_BREACHING);
  EXPECT_EQ(ParseEnumName(AdjustmentTypeNames(), "PercentChangeInCapacity"),
            v1::ADJUSTMENT_TYPE_PERCENT_CHANGE_IN_CAPACITY);
  EXPECT_EQ(ParseEnumName(PolicyTypeNames(), "TargetTrackingScaling"),
            v1::POLICY_TYPE_TARGET_TRACKING_SCALING);
  EXPECT_EQ(ParseEnumName(HistoryItemTypeNames(), "StateUpdate"),
            v1::HISTORY_ITEM_TYPE_STATE_UPDATE);
  EXPECT_EQ(ParseEnumName(PredefinedMetricNames(), "ASGAverageCPUUtilization"),
            v1::PREDEFINED_METRIC_TYPE_ASG_AVERAGE_CPU_UTILIZATION);
  EXPECT_EQ(ParseEnumName(DriverNames(), "process"), v1::DRIVER_PROCESS);
  EXPECT_EQ(ParseEnumName(InstanceStateNames(), "shutting-down"),
            v1::INSTANCE_STATE_NAME_SHUTTING_DOWN);
}

TEST(EnumNames, CaseIsForgivenButUnknownNamesAreNot) {
  EXPECT_EQ(ParseEnumName(StatisticNames(), "average"), v1::STATISTIC_AVERAGE);
  EXPECT_EQ(ParseEnumName(StateValueNames(), "alarm"), v1::STATE_VALUE_ALARM);
  EXPECT_EQ(ParseEnumName(StatisticNames(), "Mean"), std::nullopt);
  EXPECT_EQ(ParseEnumName(StatisticNames(), ""), std::nullopt);
  EXPECT_EQ(ParseEnumName(StatisticNames(), "STATISTIC_AVERAGE"), std::nullopt);
  EXPECT_EQ(ParseEnumName(ComparisonOperatorNames(), "GreaterThan"), std::nullopt);
}

TEST(EnumNames, ErrorNamesTheFlagAndEveryAcceptedValue) {
  v1::ComparisonOperator op = v1::COMPARISON_OPERATOR_UNSPECIFIED;
  std::string error;
  EXPECT_FALSE(
      ParseEnumFlag("comparison-operator", "Bigger", ComparisonOperatorNames(), &op, &error));
  EXPECT_EQ(error,
            "--comparison-operator: \"Bigger\" is not GreaterThanThreshold, "
            "GreaterThanOrEqualToThreshold, LessThanThreshold or LessThanOrEqualToThreshold");
  EXPECT_EQ(op, v1::COMPARISON_OPERATOR_UNSPECIFIED);
  EXPECT_TRUE(ParseEnumFlag("comparison-operator", "LessThanThreshold", ComparisonOperatorNames(),
                            &op, &error));
  EXPECT_EQ(op, v1::COMPARISON_OPERATOR_LESS_THAN_THRESHOLD);
}

TEST(EnumNames, NameOfAValue) {
  EXPECT_EQ(EnumNameOf(StateValueNames(), v1::STATE_VALUE_INSUFFICIENT_DATA), "INSUFFICIENT_DATA");
  EXPECT_EQ(EnumNameOf(StateValueNames(), v1::STATE_VALUE_UNSPECIFIED), "-");
  EXPECT_EQ(EnumNameOf(StateValueNames(), static_cast<v1::StateValue>(42)), "42");
}

// Every value but UNSPECIFIED has exactly one name: a value added to the proto
// without a name here fails this test.
template <typename Enum>
void ExpectCovers(const EnumNames<Enum>& names, const google::protobuf::EnumDescriptor* d) {
  std::set<int> named;
  std::set<std::string> spellings;
  for (const EnumName<Enum>& n : names) {
    EXPECT_NE(static_cast<int>(n.value), 0) << d->name() << " names UNSPECIFIED";
    EXPECT_TRUE(named.insert(static_cast<int>(n.value)).second) << d->name() << " " << n.name;
    EXPECT_TRUE(spellings.insert(n.name).second) << d->name() << " " << n.name;
  }
  for (int i = 0; i < d->value_count(); ++i) {
    if (d->value(i)->number() == 0) continue;
    EXPECT_EQ(named.count(d->value(i)->number()), 1u) << d->value(i)->name() << " has no name";
  }
}

TEST(EnumNames, EveryProtoValueIsNamed) {
  ExpectCovers(StatisticNames(), v1::Statistic_descriptor());
  ExpectCovers(ComparisonOperatorNames(), v1::ComparisonOperator_descriptor());
  ExpectCovers(StateValueNames(), v1::StateValue_descriptor());
  ExpectCovers(TreatMissingDataNames(), v1::TreatMissingData_descriptor());
  ExpectCovers(HistoryItemTypeNames(), v1::HistoryItemType_descriptor());
  ExpectCovers(AdjustmentTypeNames(), v1::AdjustmentType_descriptor());
  ExpectCovers(PolicyTypeNames(), v1::PolicyType_descriptor());
  ExpectCovers(PredefinedMetricNames(), v1::PredefinedMetricType_descriptor());
  ExpectCovers(DriverNames(), v1::Driver_descriptor());
  ExpectCovers(InstanceStateNames(), v1::InstanceStateName_descriptor());
}

// ---------------------------------------------------------------------------
// Compound values

TEST(Compound, Filters) {
  v1::Filter filter;
  std::string error;
  ASSERT_TRUE(ParseFilter("instance-state-name=running,pending", &filter, &error)) << error;
  EXPECT_EQ(filter.name(), "instance-state-name");
  EXPECT_EQ(std::vector<std::string>(filter.values().begin(), filter.values().end()),
            (std::vector<std::string>{"running", "pending"}));
  ASSERT_TRUE(ParseFilter("Name=tag:env,Values=prod,dev", &filter, &error)) << error;
  EXPECT_EQ(filter.name(), "tag:env");
  EXPECT_EQ(filter.values_size(), 2);
  ASSERT_TRUE(ParseFilter("tag:k=a=b", &filter, &error)) << error;  // '=' in a value
  EXPECT_EQ(filter.name(), "tag:k");
  EXPECT_EQ(filter.values(0), "a=b");
  for (const char* bad : {"running", "=x", "name=", "Name=x", "Name=,Values=a"}) {
    EXPECT_FALSE(ParseFilter(bad, &filter, &error)) << bad;
  }
}

TEST(Compound, StepAdjustmentsWithOpenBounds) {
  v1::StepAdjustment step;
  std::string error;
  ASSERT_TRUE(ParseStepAdjustment("0:10:1", &step, &error)) << error;
  EXPECT_EQ(step.metric_interval_lower_bound(), 0);
  EXPECT_EQ(step.metric_interval_upper_bound(), 10);
  EXPECT_EQ(step.scaling_adjustment(), 1);
  ASSERT_TRUE(ParseStepAdjustment("10::2", &step, &error)) << error;
  EXPECT_TRUE(step.has_metric_interval_lower_bound());
  EXPECT_FALSE(step.has_metric_interval_upper_bound());
  ASSERT_TRUE(ParseStepAdjustment(":-5.5:-1", &step, &error)) << error;
  EXPECT_FALSE(step.has_metric_interval_lower_bound());
  EXPECT_EQ(step.metric_interval_upper_bound(), -5.5);
  EXPECT_EQ(step.scaling_adjustment(), -1);
  for (const char* bad : {"0:10", "0:10:1:2", "a:10:1", "0:10:x", "0:10:", "0:10:1.5"}) {
    EXPECT_FALSE(ParseStepAdjustment(bad, &step, &error)) << bad;
    EXPECT_NE(error.find("LOWER:UPPER:ADJUSTMENT"), std::string::npos) << error;
  }
}

TEST(Compound, StatisticSetsKeyValuesAndLists) {
  v1::StatisticSet set;
  std::string error;
  ASSERT_TRUE(ParseStatisticSet("3,210,60,80", &set, &error)) << error;
  EXPECT_EQ(set.sample_count(), 3);
  EXPECT_EQ(set.sum(), 210);
  EXPECT_EQ(set.minimum(), 60);
  EXPECT_EQ(set.maximum(), 80);
  EXPECT_FALSE(ParseStatisticSet("0,0,0,0", &set, &error));
  EXPECT_FALSE(ParseStatisticSet("3,210,60", &set, &error));

  std::string key;
  std::string value;
  ASSERT_TRUE(ParseKeyValue("env=prod=1", false, &key, &value));
  EXPECT_EQ(key, "env");
  EXPECT_EQ(value, "prod=1");
  EXPECT_FALSE(ParseKeyValue("env", false, &key, &value));
  ASSERT_TRUE(ParseKeyValue("env", true, &key, &value));
  EXPECT_EQ(value, "");
  EXPECT_FALSE(ParseKeyValue("=x", true, &key, &value));
  EXPECT_FALSE(ParseKeyValue("", true, &key, &value));

  EXPECT_EQ(SplitList({"Average,Maximum", "Sum", ",,"}),
            (std::vector<std::string>{"Average", "Maximum", "Sum"}));
  double d = 0;
  EXPECT_TRUE(ParseDouble("-1.5e2", &d));
  EXPECT_EQ(d, -150);
  EXPECT_FALSE(ParseDouble("inf", &d));
  EXPECT_FALSE(ParseDouble("70%", &d));
}

TEST(Compound, LifecycleTransitionsByAliasOrAwsName) {
  const std::string launching = "autoscaling:EC2_INSTANCE_LAUNCHING";
  const std::string terminating = "autoscaling:EC2_INSTANCE_TERMINATING";
  EXPECT_EQ(ParseLifecycleTransition("launching"), launching);
  EXPECT_EQ(ParseLifecycleTransition("Launching"), launching);
  EXPECT_EQ(ParseLifecycleTransition("autoscaling:EC2_INSTANCE_LAUNCHING"), launching);
  EXPECT_EQ(ParseLifecycleTransition("terminating"), terminating);
  EXPECT_EQ(ParseLifecycleTransition("autoscaling:EC2_INSTANCE_TERMINATING"), terminating);
  EXPECT_EQ(ParseLifecycleTransition("autoscaling:ec2_instance_terminating"), terminating);
  for (const char* bad : {"", "launch", "terminate", "EC2_INSTANCE_LAUNCHING",
                          "autoscaling:TEST_NOTIFICATION", "launching "}) {
    EXPECT_EQ(ParseLifecycleTransition(bad), std::nullopt) << bad;
  }
  EXPECT_EQ(LifecycleResults(), (std::vector<std::string>{"CONTINUE", "ABANDON"}));
}

TEST(Compound, LaunchTemplateNameAndVersion) {
  const struct {
    const char* text;
    const char* id;
    const char* name;
    const char* version;
  } kCases[] = {
      {"web", "", "web", "$Default"},
      {"web:2", "", "web", "2"},
      {"web:$Latest", "", "web", "$Latest"},
      {"web:$Default", "", "web", "$Default"},
      {"my-app/v1_(x).y:12", "", "my-app/v1_(x).y", "12"},
      {"lt-0123456789abcdef0", "lt-0123456789abcdef0", "", "$Default"},
      {"lt-0123456789abcdef0:$Latest", "lt-0123456789abcdef0", "", "$Latest"},
      {"lt-web", "", "lt-web", "$Default"},                              // not an id: a name
      {"lt-0123456789ABCDEF0", "", "lt-0123456789ABCDEF0", "$Default"},  // ids are lower case
  };
  for (const auto& c : kCases) {
    v1::LaunchTemplateSpecification spec;
    std::string error;
    ASSERT_TRUE(ParseLaunchTemplateSpec(c.text, &spec, &error)) << c.text << ": " << error;
    EXPECT_EQ(spec.launch_template_id(), c.id) << c.text;
    EXPECT_EQ(spec.launch_template_name(), c.name) << c.text;
    EXPECT_EQ(spec.version(), c.version) << c.text;
    // What describe-groups prints reads back the same.
    v1::LaunchTemplateSpecification again;
    ASSERT_TRUE(ParseLaunchTemplateSpec(FormatLaunchTemplateSpec(spec), &again, &error)) << error;
    EXPECT_EQ(again.SerializeAsString(), spec.SerializeAsString()) << c.text;
  }
  for (const char* bad : {"", ":2", "web:", "web:0", "web:01", "web:-1", "web:+1", "web:1.5",
                          "web:latest", "web:$latest", "web:$LATEST", "web:Latest", "web:2:3",
                          "web:1234567890123456789"}) {
    v1::LaunchTemplateSpecification spec;
    std::string error;
    EXPECT_FALSE(ParseLaunchTemplateSpec(bad, &spec, &error)) << bad;
    EXPECT_EQ(error, std::string("\"") + bad +
                         "\" is not NAME[:VERSION] (VERSION a version number, $Latest or "
                         "$Default, e.g. web:2 or web:$Latest)");
  }
  v1::LaunchTemplateSpecification by_id;
  by_id.set_launch_template_id("lt-0123456789abcdef0");
  EXPECT_EQ(FormatLaunchTemplateSpec(by_id), "lt-0123456789abcdef0:$Default");
  for (const char* version : {"1", "42", "$Latest", "$Default"}) {
    EXPECT_TRUE(IsLaunchTemplateVersion(version)) << version;
  }
  for (const char* version : {"", "0", "-2", "latest", "$Latest ", "1e3"}) {
    EXPECT_FALSE(IsLaunchTemplateVersion(version)) << version;
  }
}

// ---------------------------------------------------------------------------
// Human output of launch templates.

TEST(Format, LaunchTemplatesVersionsAndGroupsLaunchedFromOne) {
  v1::DescribeLaunchTemplatesResponse templates;
  v1::LaunchTemplate* t = templates.add_launch_templates();
  t->set_launch_template_id("lt-0123456789abcdef0");
  t->set_launch_template_name("web");
  t->set_default_version_number(1);
  t->set_latest_version_number(2);
  std::ostringstream os;
  PrintLaunchTemplates(templates, os);
  EXPECT_EQ(os.str(), "lt-0123456789abcdef0  web  default 1  latest 2\n");
  os.str("");
  PrintLaunchTemplates(v1::DescribeLaunchTemplatesResponse(), os);
  EXPECT_EQ(os.str(), "no launch templates\n");

  v1::DescribeLaunchTemplateVersionsResponse versions;
  v1::LaunchTemplateVersion* v2 = versions.add_launch_template_versions();
  v2->set_version_number(2);
  v2->mutable_launch_template_data()->set_instance_type("t3.micro");
  v2->set_version_description("bigger");
  v1::LaunchTemplateVersion* v1_ = versions.add_launch_template_versions();
  v1_->set_version_number(1);
  v1_->set_default_version(true);
  v1_->mutable_launch_template_data()->set_image_id("ami-d0f89fb9");
  v1_->mutable_launch_template_data()->set_instance_type("t2.micro");
  os.str("");
  PrintLaunchTemplateVersions(versions, os);
  EXPECT_EQ(os.str(),
            "2  -        -             t3.micro  bigger\n"
            "1  default  ami-d0f89fb9  t2.micro  -\n");

  v1::DescribeAutoScalingGroupsResponse groups;
  v1::AutoScalingGroup* g = groups.add_auto_scaling_groups();
  g->set_auto_scaling_group_name("g");
  g->mutable_launch_template()->set_launch_template_name("web");
  g->mutable_launch_template()->set_version("$Latest");
  g->set_min_size(1);
  g->set_desired_capacity(1);
  g->set_max_size(2);
  g->add_availability_zones("us-east-1a");
  v1::GroupInstance* i = g->add_instances();
  i->set_instance_id("i-1");
  i->set_availability_zone("us-east-1a");
  i->set_lifecycle_state("InService");
  i->set_health_status("Healthy");
  i->mutable_launch_template()->set_launch_template_id("lt-0123456789abcdef0");
  i->mutable_launch_template()->set_launch_template_name("web");
  i->mutable_launch_template()->set_version("2");
  v1::AutoScalingGroup* lc = groups.add_auto_scaling_groups();
  lc->set_auto_scaling_group_name("h");
  lc->set_launch_configuration_name("lc");
  os.str("");
  PrintGroups(groups, os);
  EXPECT_EQ(os.str(),
            "g  web:$Latest  min/desired/max 1/1/2  us-east-1a  1 instance\n"
            "  i-1  us-east-1a  InService  Healthy  web:2  -\n"
            "h  lc  min/desired/max 0/0/0  -  0 instances\n");
}

// ---------------------------------------------------------------------------
// The command table, without a server: help and usage errors.

struct Result {
  int code;
  std::string out;
  std::string err;
};

Result RunCli(const std::vector<std::string>& args) {
  std::istringstream in;
  std::ostringstream out;
  std::ostringstream err;
  const Io io{in, out, err, [](const std::string& name) -> std::optional<std::string> {
                // Nothing listens here: a command that got as far as calling fails (1), not 2.
                if (name == "THINGTANK_ENDPOINT") return std::string("127.0.0.1:1");
                return std::nullopt;
              }};
  const int code = RunCompute(args, io);
  return {code, out.str(), err.str()};
}

// The command names of `thingtank compute --help`.
std::vector<std::string> CommandNames() {
  const Result help = RunCli({"--help"});
  std::istringstream lines(help.out);
  std::vector<std::string> names;
  bool in_commands = false;
  for (std::string line; std::getline(lines, line);) {
    if (line == "commands:") {
      in_commands = true;
    } else if (in_commands && line.empty()) {
      break;
    } else if (in_commands) {
      std::istringstream words(line);
      std::string name;
      words >> name;
      names.push_back(name);
    }
  }
  return names;
}

TEST(Commands, HelpListsEveryCommandAndEachHasItsOwnHelp) {
  const std::vector<std::string> names = CommandNames();
  for (const char* expected : {"run",
                               "describe",
                               "start",
                               "stop",
                               "reboot",
                               "terminate",
                               "set-load",
                               "types",
                               "zones",
                               "hosts",
                               "create-launch-template",
                               "create-launch-template-version",
                               "describe-launch-templates",
                               "describe-launch-template-versions",
                               "modify-launch-template",
                               "delete-launch-template",
                               "put-metric",
                               "get-statistics",
                               "list-metrics",
                               "put-alarm",
                               "describe-alarms",
                               "alarm-history",
                               "set-alarm-state",
                               "delete-alarms",
                               "enable-alarm-actions",
                               "disable-alarm-actions",
                               "create-launch-configuration",
                               "describe-launch-configurations",
                               "delete-launch-configuration",
                               "create-group",
                               "update-group",
                               "describe-groups",
                               "delete-group",
                               "set-desired-capacity",
                               "set-instance-health",
                               "set-instance-protection",
                               "terminate-in-group",
                               "suspend-processes",
                               "resume-processes",
                               "put-scaling-policy",
                               "describe-policies",
                               "delete-policy",
                               "execute-policy",
                               "activities",
                               "put-lifecycle-hook",
                               "describe-lifecycle-hooks",
                               "delete-lifecycle-hook",
                               "complete-lifecycle-action",
                               "record-lifecycle-action-heartbeat",
                               "put-scheduled-action",
                               "describe-scheduled-actions",
                               "delete-scheduled-action"}) {
    EXPECT_NE(std::find(names.begin(), names.end(), expected), names.end()) << expected;
  }
  for (const std::string& name : names) {
    const Result help = RunCli({name, "--help"});
    EXPECT_EQ(help.code, 0) << name << ": " << help.err;
    EXPECT_NE(help.out.find("usage: thingtank compute " + name), std::string::npos) << help.out;
    // No flag is declared twice (the parser would take the first silently).
    std::set<std::string> flags;
    std::istringstream lines(help.out.substr(help.out.find("flags:")));
    for (std::string line; std::getline(lines, line);) {
      if (line.rfind("  --", 0) != 0) continue;
      const std::string flag = line.substr(2, line.find(' ', 2) - 2);
      EXPECT_TRUE(flags.insert(flag).second) << name << " declares " << flag << " twice";
    }
  }
}

TEST(Commands, UnknownComparisonOperatorIsAUsageErrorNamingTheFlag) {
  const Result r =
      RunCli({"put-alarm", "--alarm-name", "high", "--namespace", "MyApp", "--metric-name", "CPU",
              "--statistic", "Average", "--period", "60", "--evaluation-periods", "2",
              "--threshold", "70", "--comparison-operator", "Bigger"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--comparison-operator: \"Bigger\" is not GreaterThanThreshold"),
            std::string::npos)
      << r.err;
  const Result json =
      RunCli({"put-alarm", "--alarm-name", "high", "--namespace", "MyApp", "--metric-name", "CPU",
              "--statistic", "Average", "--period", "60", "--evaluation-periods", "2",
              "--threshold", "70", "--comparison-operator", "Bigger", "--json"});
  EXPECT_EQ(json.code, 2);
  EXPECT_NE(json.err.find("\"USAGE\""), std::string::npos) << json.err;
}

TEST(Commands, BadValuesAreUsageErrorsBeforeAnyCall) {
  const std::vector<std::vector<std::string>> kCases = {
      {"run", "--image-id", "ami-d0f89fb9"},  // no --instance-type
      {"run", "--image-id", "ami-d0f89fb9", "--instance-type", "t1.micro", "--load", "sine:1"},
      {"run", "--image-id", "a", "--instance-type", "t", "--count", "2", "--max-count", "3"},
      {"run", "--image-id", "a", "--instance-type", "t", "--driver", "docker"},
      {"describe", "--until-state", "up"},
      {"describe", "--filter", "running"},
      {"start"},
      {"set-load", "--load", "constant:5"},
      {"put-metric", "--namespace", "N", "--metric-name", "M"},
      {"put-metric", "--namespace", "N", "--metric-name", "M", "--value", "1", "--timestamp",
       "yesterday"},
      {"get-statistics", "--namespace", "N", "--metric-name", "M", "--start", "-1h", "--end", "now",
       "--period", "60", "--statistics", "Mean"},
      {"describe-alarms", "--state", "BAD"},
      {"set-alarm-state", "a", "--state", "ALARM"},
      {"create-group", "--name", "g", "--launch-configuration", "lc", "--min", "1", "--max", "2",
       "--zone", "z", "--health-check-type", "TCP"},
      {"update-group", "--name", "g"},
      {"set-instance-health", "i-1", "Sick"},
      {"set-instance-protection", "--group", "g", "i-1"},
      {"put-scaling-policy", "--group", "g", "--name", "p", "--adjustment-type", "More",
       "--scaling-adjustment", "1"},
      {"put-scaling-policy", "--group", "g", "--name", "p", "--policy-type", "StepScaling",
       "--adjustment-type", "ChangeInCapacity", "--step", "0:10"},
      {"put-scaling-policy", "--group", "g", "--name", "p", "--target-value", "50"},
      {"execute-policy", "p", "--metric-value", "5"},
  };
  for (const auto& args : kCases) {
    const Result r = RunCli(args);
    EXPECT_EQ(r.code, 2) << args[0] << " " << (args.size() > 1 ? args.back() : "") << ": " << r.err;
    EXPECT_NE(r.err.find("error: "), std::string::npos) << r.err;
  }
}

TEST(Commands, LifecycleUsageErrorsNameTheFlag) {
  const std::vector<std::string> hook = {"put-lifecycle-hook", "--group", "g", "--name", "h"};
  const std::vector<std::string> action = {"complete-lifecycle-action", "--group", "g", "--hook",
                                           "h"};
  const std::vector<std::string> beat = {"record-lifecycle-action-heartbeat", "--group", "g",
                                         "--hook", "h"};
  auto with = [](std::vector<std::string> args, const std::vector<std::string>& more) {
    args.insert(args.end(), more.begin(), more.end());
    return args;
  };
  const struct {
    std::vector<std::string> args;
    const char* says;
  } kCases[] = {
      {hook, "missing --transition"},
      {{"put-lifecycle-hook", "--name", "h", "--transition", "launching"}, "missing --group"},
      {{"put-lifecycle-hook", "--group", "g", "--transition", "launching"}, "missing --name"},
      {with(hook, {"--transition", "launch"}),
       "--transition: \"launch\" is not launching, terminating, "
       "autoscaling:EC2_INSTANCE_LAUNCHING or autoscaling:EC2_INSTANCE_TERMINATING"},
      {with(hook, {"--transition", "launching", "--default-result", "continue"}),
       "--default-result: \"continue\" is not CONTINUE or ABANDON"},
      {with(hook, {"--transition", "launching", "--default-result", "RETRY"}),
       "--default-result: \"RETRY\" is not CONTINUE or ABANDON"},
      {with(hook, {"--transition", "terminating", "--heartbeat-timeout", "soon"}),
       "--heartbeat-timeout: \"soon\" is not a whole number of seconds"},
      {{"describe-lifecycle-hooks", "h"}, "missing --group"},
      {{"delete-lifecycle-hook", "h"}, "missing --group"},
      {with(action, {"--token", "t"}), "missing --result"},
      {with(action, {"--token", "t", "--result", "DONE"}),
       "--result: \"DONE\" is not CONTINUE or ABANDON"},
      {with(action, {"--result", "CONTINUE"}), "give --token or --instance-id (one of them)"},
      {with(action, {"--token", "t", "--instance-id", "i-1", "--result", "CONTINUE"}),
       "give --token or --instance-id (one of them)"},
      {{"complete-lifecycle-action", "--group", "g", "--token", "t", "--result", "CONTINUE"},
       "missing --hook"},
      {beat, "give --token or --instance-id (one of them)"},
      {{"record-lifecycle-action-heartbeat", "--hook", "h", "--instance-id", "i-1"},
       "missing --group"},
  };
  for (const auto& c : kCases) {
    const Result r = RunCli(c.args);
    EXPECT_EQ(r.code, 2) << c.args[0] << " " << c.args.back() << ": " << r.err;
    EXPECT_NE(r.err.find(std::string("error: ") + c.says), std::string::npos)
        << c.args[0] << " " << c.args.back() << ": " << r.err;
  }
}

TEST(Commands, LifecycleArgumentsAcceptedGetAsFarAsTheCall) {
  // Nothing listens on the endpoint: an accepted command line fails (1) at the call.
  const std::vector<std::vector<std::string>> kCases = {
      {"put-lifecycle-hook", "--group", "g", "--name", "h", "--transition", "launching"},
      {"put-lifecycle-hook", "--group", "g", "--name", "h", "--transition", "terminating",
       "--heartbeat-timeout", "5m", "--default-result", "CONTINUE"},
      {"put-lifecycle-hook", "--group", "g", "--name", "h", "--transition",
       "autoscaling:EC2_INSTANCE_LAUNCHING", "--default-result", "ABANDON", "--notification-target",
       "arn:aws:sqs:us-east-1:000000000000:hooks", "--notification-metadata", "hello"},
      {"put-lifecycle-hook", "--group", "g", "--name", "h", "--transition",
       "autoscaling:EC2_INSTANCE_TERMINATING", "--notification-target",
       "arn:thingtank:wamp::hooks"},
      {"describe-lifecycle-hooks", "--group", "g"},
      {"describe-lifecycle-hooks", "--group", "g", "h1", "h2"},
      {"delete-lifecycle-hook", "--group", "g", "h"},
      {"complete-lifecycle-action", "--group", "g", "--hook", "h", "--token", "t", "--result",
       "CONTINUE"},
      {"complete-lifecycle-action", "--group", "g", "--hook", "h", "--instance-id", "i-1",
       "--result", "ABANDON"},
      {"record-lifecycle-action-heartbeat", "--group", "g", "--hook", "h", "--token", "t"},
      {"record-lifecycle-action-heartbeat", "--group", "g", "--hook", "h", "--instance-id", "i-1"},
  };
  for (std::vector<std::string> args : kCases) {
    args.insert(args.end(), {"--timeout", "2s"});
    const Result r = RunCli(args);
    EXPECT_EQ(r.code, 1) << args[0] << " " << args[args.size() - 3] << ": " << r.err;
    EXPECT_NE(r.err.find("cannot reach ThingTank"), std::string::npos) << r.err;
  }
}

TEST(Commands, ScheduledActionUsageErrorsNameTheFlag) {
  const std::vector<std::string> put = {"put-scheduled-action", "--group", "g", "--name", "n"};
  auto with = [](std::vector<std::string> args, const std::vector<std::string>& more) {
    args.insert(args.end(), more.begin(), more.end());
    return args;
  };
  const struct {
    std::vector<std::string> args;
    const char* says;
  } kCases[] = {
      {{"put-scheduled-action", "--name", "n", "--start-time", "now", "--desired", "1"},
       "missing --group"},
      {{"put-scheduled-action", "--group", "g", "--start-time", "now", "--desired", "1"},
       "missing --name"},
      {with(put, {"--desired", "1"}), "missing --start-time"},
      {with(put, {"--start-time", "tomorrow", "--desired", "1"}),
       "--start-time: \"tomorrow\" is not a time"},
      {with(put, {"--start-time", "+later", "--desired", "1"}),
       "--start-time: \"+later\" is not a relative time"},
      {with(put, {"--recurrence", "0 9 * * *", "--end-time", "someday", "--min", "1"}),
       "--end-time: \"someday\" is not a time"},
      {with(put, {"--start-time", "+1h", "--end-time", "+2h", "--desired", "1"}),
       "--end-time does not apply to a one-off action"},
      {with(put, {"--start-time", "+1h", "--min", "one"}), "--min: \"one\" is not an integer"},
      {with(put, {"--start-time", "+1h", "--max", "1.5"}), "--max: \"1.5\" is not an integer"},
      {with(put, {"--start-time", "+1h", "--desired", "99999999999"}),
       "--desired: \"99999999999\" is not an integer"},
      {with(put, {"--start-time", "+1h"}), "put-scheduled-action needs --min, --max or --desired"},
      {with(put, {"--recurrence", "0 9 * * 1-5"}),
       "put-scheduled-action needs --min, --max or --desired"},
      {{"delete-scheduled-action", "n"}, "missing --group"},
  };
  for (const auto& c : kCases) {
    const Result r = RunCli(c.args);
    EXPECT_EQ(r.code, 2) << c.args[0] << " " << c.args.back() << ": " << r.err;
    EXPECT_NE(r.err.find(std::string("error: ") + c.says), std::string::npos)
        << c.args[0] << " " << c.args.back() << ": " << r.err;
  }
  // The action's name is a positional of delete-scheduled-action.
  const Result r = RunCli({"delete-scheduled-action", "--group", "g"});
  EXPECT_EQ(r.code, 2) << r.err;
}

TEST(Commands, ScheduledActionArgumentsAcceptedGetAsFarAsTheCall) {
  // Nothing listens on the endpoint: an accepted command line fails (1) at the call.
  const std::vector<std::vector<std::string>> kCases = {
      {"put-scheduled-action", "--group", "g", "--name", "n", "--start-time",
       "2026-12-02T10:05:00Z", "--desired", "3"},
      {"put-scheduled-action", "--group", "g", "--name", "n", "--start-time", "+30m", "--min", "0",
       "--max", "0"},
      {"put-scheduled-action", "--group", "g", "--name", "n", "--recurrence", "0 9 * * 1-5",
       "--min", "2", "--max", "6", "--desired", "4"},
      {"put-scheduled-action", "--group", "g", "--name", "n", "--recurrence", "*/5 * * * *",
       "--start-time", "now", "--end-time", "+1d", "--desired", "1"},
      {"describe-scheduled-actions"},
      {"describe-scheduled-actions", "--group", "g"},
      {"describe-scheduled-actions", "--group", "g", "n1", "n2"},
      {"delete-scheduled-action", "--group", "g", "n"},
  };
  for (std::vector<std::string> args : kCases) {
    args.insert(args.end(), {"--timeout", "2s"});
    const Result r = RunCli(args);
    EXPECT_EQ(r.code, 1) << args[0] << " " << args[args.size() - 3] << ": " << r.err;
    EXPECT_NE(r.err.find("cannot reach ThingTank"), std::string::npos) << r.err;
  }
}

TEST(Commands, LaunchTemplateUsageErrorsNameTheFlag) {
  const std::string id = "lt-0123456789abcdef0";
  const std::vector<std::string> group = {"create-group", "--name", "g", "--min", "1",
                                          "--max",        "2",      "--zone", "z"};
  auto with = [](std::vector<std::string> args, const std::vector<std::string>& more) {
    args.insert(args.end(), more.begin(), more.end());
    return args;
  };
  const struct {
    std::vector<std::string> args;
    const char* says;
  } kCases[] = {
      {{"create-launch-template", "--image-id", "ami-d0f89fb9"}, "missing --name"},
      // The launch data flags are read as run reads them.
      {{"create-launch-template", "--name", "web", "--load", "sine:1"}, "--load: \"sine:1\""},
      {{"create-launch-template", "--name", "web", "--driver", "docker"},
       "--driver: \"docker\" is not simulated or process"},
      {{"create-launch-template", "--name", "web", "--tag", "=x"}, "--tag: \"=x\" is not KEY=VALUE"},
      {{"create-launch-template", "--name", "web", "--user-data", "a", "--user-data-file", "f"},
       "give --user-data or --user-data-file, not both"},
      {{"create-launch-template-version", "--instance-type", "t3.micro"},
       "give --name or --id (one of them)"},
      {{"create-launch-template-version", "--name", "web", "--id", id},
       "give --name or --id (one of them)"},
      {{"create-launch-template-version", "--name", "web", "--source-version", "latest"},
       "--source-version: \"latest\" is not a version number, $Latest or $Default"},
      {{"create-launch-template-version", "--id", id, "--load", "constant:101"}, "--load: "},
      {{"describe-launch-template-versions"}, "give --name or --id (one of them)"},
      {{"describe-launch-template-versions", "--name", "web", "--version", "0"},
       "--version: \"0\" is not a version number, $Latest or $Default"},
      {{"describe-launch-template-versions", "--name", "web", "--version", "1,two"},
       "--version: \"two\" is not"},
      {{"describe-launch-template-versions", "web"}, "unexpected argument \"web\""},
      {{"modify-launch-template", "--name", "web"}, "missing --default-version"},
      {{"modify-launch-template", "--default-version", "2"}, "give --name or --id (one of them)"},
      {{"modify-launch-template", "--name", "web", "--default-version", "$Default"},
       "--default-version: \"$Default\" is not a version number or $Latest"},
      {{"modify-launch-template", "--id", id, "--default-version", "v2"},
       "--default-version: \"v2\" is not a version number or $Latest"},
      {{"delete-launch-template"}, "give --name or --id (one of them)"},
      {{"delete-launch-template", "web"}, "unexpected argument \"web\""},
      {{"delete-launch-template", "--id", id, "web"}, "unexpected argument \"web\""},
      // run: the image and type are required without a template; the template is NAME[:VERSION].
      {{"run", "--instance-type", "t2.micro"}, "missing --image-id"},
      {{"run", "--launch-template", "web:latest"},
       "--launch-template: \"web:latest\" is not NAME[:VERSION] (VERSION a version number, "
       "$Latest or $Default"},
      {{"run", "--launch-template", ":2"}, "--launch-template: \":2\" is not NAME[:VERSION]"},
      {{"run", "--launch-template", "web", "--load", "sine:1"}, "--load: "},
      // create-group: exactly one of a launch configuration and a template.
      {group, "give --launch-configuration or --launch-template (one of them)"},
      {with(group, {"--launch-configuration", "lc", "--launch-template", "web"}),
       "give --launch-configuration or --launch-template (one of them)"},
      {with(group, {"--launch-template", "web:0"}), "--launch-template: \"web:0\" is not"},
      {{"create-group", "--name", "g", "--launch-template", "web", "--max", "2", "--zone", "z"},
       "missing --min"},
      {{"update-group", "--name", "g", "--launch-configuration", "lc", "--launch-template", "web"},
       "give --launch-configuration or --launch-template, not both"},
      {{"update-group", "--name", "g", "--launch-template", "web:$latest"},
       "--launch-template: \"web:$latest\" is not NAME[:VERSION]"},
  };
  for (const auto& c : kCases) {
    const Result r = RunCli(c.args);
    EXPECT_EQ(r.code, 2) << c.args[0] << " " << c.args.back() << ": " << r.err;
    EXPECT_NE(r.err.find(std::string("error: ") + c.says), std::string::npos)
        << c.args[0] << " " << c.args.back() << ": " << r.err;
  }
}

TEST(Commands, LaunchTemplateArgumentsAcceptedGetAsFarAsTheCall) {
  // Nothing listens on the endpoint: an accepted command line fails (1) at the call.
  const std::string id = "lt-0123456789abcdef0";
  const std::vector<std::vector<std::string>> kCases = {
      {"create-launch-template", "--name", "web", "--image-id", "ami-d0f89fb9", "--instance-type",
       "t2.micro", "--version-description", "first", "--key-name", "k", "--security-group", "sg",
       "--user-data", "hello", "--driver", "simulated", "--load", "constant:20", "--tag", "a=b"},
      {"create-launch-template", "--name", "empty"},
      {"create-launch-template-version", "--name", "web", "--source-version", "1",
       "--instance-type", "t3.micro"},
      {"create-launch-template-version", "--id", id, "--source-version", "$Latest",
       "--version-description", "more load", "--load", "sine:50,40,10m"},
      {"create-launch-template-version", "--name", "web", "--image-id", "ami-d0f89fb9",
       "--instance-type", "t2.micro"},
      {"describe-launch-templates"},
      {"describe-launch-templates", "web", "db"},
      {"describe-launch-template-versions", "--name", "web"},
      {"describe-launch-template-versions", "--id", id, "--version", "1", "--version",
       "$Latest,$Default"},
      {"modify-launch-template", "--name", "web", "--default-version", "2"},
      {"modify-launch-template", "--id", id, "--default-version", "$Latest"},
      {"delete-launch-template", "--name", "web"},
      {"delete-launch-template", "--id", id},
      {"run", "--launch-template", "web"},
      {"run", "--launch-template", "web:$Latest", "--instance-type", "t3.micro", "--count", "2"},
      {"run", "--launch-template", id + ":3", "--tag", "a=b"},
      {"create-group", "--name", "g", "--launch-template", "web:$Latest", "--min", "1", "--max",
       "2", "--zone", "z"},
      {"create-group", "--name", "g", "--launch-configuration", "lc", "--min", "1", "--max", "2",
       "--zone", "z"},
      {"update-group", "--name", "g", "--launch-template", "web:2"},
      {"update-group", "--name", "g", "--launch-configuration", "lc"},
  };
  for (std::vector<std::string> args : kCases) {
    args.insert(args.end(), {"--timeout", "2s"});
    const Result r = RunCli(args);
    EXPECT_EQ(r.code, 1) << args[0] << " " << args[args.size() - 3] << ": " << r.err;
    EXPECT_NE(r.err.find("cannot reach ThingTank"), std::string::npos) << r.err;
  }
}

TEST(Commands, AValidCommandGetsAsFarAsTheCall) {
  // Nothing listens on the endpoint: the call fails (1) after the line was accepted.
  const Result r = RunCli({"zones", "--timeout", "2s"});
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_NE(r.err.find("cannot reach ThingTank"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace thingtank::cli::compute
