#!/usr/bin/python3
"""The compute service through the gateway with the Python client generated
from proto/, as the classic EC2 / Auto Scaling / CloudWatch programs use it:
launch an instance and wait for `running`, stop it and wait for `stopped`;
then a launch configuration, the group My-Group (us-east-1b, 1..2), the
policies scale_up / scale_down (+1 / -1, cooldown 180 s) and two alarms on
the group's average CPUUtilization (period 60 s, 2 periods, > 70 / < 50). The
simulated load goes to 90 % and the group to 2, then to 10 % and back to 1.
The server runs with --time-scale 60: a simulated minute is a real second.
Monolithic and microservice mode; then kill -9 in the middle of a scale-out.

Run: PYTHONPATH=tests/python /usr/bin/python3 -m unittest -v tests/integration/test_compute_gateway.py
"""

import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "python"))

import thingtank_testing as tt  # noqa: E402

T = tt.CALL_DEADLINE_S
SCALE = 60  # simulated seconds per real second
# Simulated minutes, as real seconds, with room for a busy machine.
def sim_minutes(n):
    return n * 60.0 / SCALE * 3 + 10


class _ComputeTests:
    MODE = None

    @classmethod
    def setUpClass(cls):
        cls.pb, cls.grpc_mod = tt.load_compute()
        args = ["--time-scale", str(SCALE)]
        cls.deployment = tt.Deployment(cls.MODE, backend_args=args, gateway_args=[], service="compute")
        cls.addClassCleanup(cls.deployment.cleanup)
        ch = cls.deployment.channel
        cls.ec2 = cls.grpc_mod.ComputeServiceStub(ch)
        cls.cw = cls.grpc_mod.CloudWatchServiceStub(ch)
        cls.asg = cls.grpc_mod.AutoScalingServiceStub(ch)

    @classmethod
    def tearDownClass(cls):
        cls.deployment.stop()

    def instance(self, instance_id):
        r = self.ec2.DescribeInstances(self.pb.DescribeInstancesRequest(instance_ids=[instance_id]),
                                       timeout=T)
        self.assertEqual(len(r.instances), 1)
        return r.instances[0]

    def wait_state(self, instance_id, text, seconds):
        return tt.wait_until(lambda: (lambda i: i if i.state.text == text else None)(
            self.instance(instance_id)), seconds, "%s to be %s" % (instance_id, text))

    def group(self):
        r = self.asg.DescribeAutoScalingGroups(
            self.pb.DescribeAutoScalingGroupsRequest(auto_scaling_group_names=["My-Group"]), timeout=T)
        self.assertEqual(len(r.auto_scaling_groups), 1)
        return r.auto_scaling_groups[0]

    def in_service(self):
        g = self.group()
        return sum(1 for i in g.instances if i.lifecycle_state == "InService"), len(g.instances)

    def set_group_load(self, percent):
        self.ec2.SetInstanceLoad(self.pb.SetInstanceLoadRequest(
            auto_scaling_group_name="My-Group",
            load=self.pb.LoadModel(constant=self.pb.ConstantLoad(percent=percent))), timeout=T)

    def test_1_launch_wait_running_then_stop(self):
        r = self.ec2.RunInstances(self.pb.RunInstancesRequest(
            image_id="ami-d0f89fb9", instance_type="t1.micro", key_name="my-key",
            security_groups=["default"]), timeout=T)
        self.assertTrue(r.reservation_id.startswith("r-"))
        (launched,) = r.instances
        self.assertEqual(launched.state.text, "pending")
        self.assertEqual(launched.state.code, 0)
        running = self.wait_state(launched.instance_id, "running", sim_minutes(1))
        # What the classic program prints.
        self.assertEqual(running.instance_type, "t1.micro")
        self.assertEqual(running.state.code, 16)
        self.assertGreater(running.launch_time.seconds, 0)
        self.assertRegex(running.private_dns_name, r"^ip-10-\d+-\d+-\d+\.ec2\.internal$")
        self.assertRegex(running.public_dns_name, r"^ec2-54-\d+-\d+-\d+\.compute-1\.amazonaws\.com$")
        self.assertRegex(running.private_ip_address, r"^10\.")
        self.assertRegex(running.public_ip_address, r"^54\.")
        self.assertEqual(running.key_name, "my-key")
        self.assertEqual(list(running.security_groups), ["default"])
        r = self.ec2.StopInstances(self.pb.StopInstancesRequest(instance_ids=[launched.instance_id]),
                                   timeout=T)
        self.assertEqual(r.stopping_instances[0].previous_state.text, "running")
        self.assertEqual(r.stopping_instances[0].current_state.text, "stopping")
        stopped = self.wait_state(launched.instance_id, "stopped", sim_minutes(1))
        self.assertEqual(stopped.public_ip_address, "")
        self.assertEqual(stopped.state_reason.code, "Client.UserInitiatedShutdown")
        # Stopped: cannot reboot (EC2's error, with the instance id).
        e = tt.call_error(self.ec2.RebootInstances,
                          self.pb.RebootInstancesRequest(instance_ids=[launched.instance_id]))
        self.assertEqual(e.reason, "IncorrectInstanceState")
        self.assertIn(launched.instance_id, e.message)
        self.ec2.TerminateInstances(self.pb.TerminateInstancesRequest(
            instance_ids=[launched.instance_id]), timeout=T)

    def test_2_the_group_scales_out_and_back_in(self):
        pb = self.pb
        self.asg.CreateLaunchConfiguration(pb.CreateLaunchConfigurationRequest(
            launch_configuration_name="my-launch-config", image_id="ami-d0f89fb9",
            instance_type="t1.micro", key_name="my-key", security_groups=["default"]), timeout=T)
        self.asg.CreateAutoScalingGroup(pb.CreateAutoScalingGroupRequest(
            auto_scaling_group_name="My-Group", launch_configuration_name="my-launch-config",
            availability_zones=["us-east-1b"], min_size=1, max_size=2), timeout=T)
        arns = {}
        for name, adjust in (("scale_up", 1), ("scale_down", -1)):
            arns[name] = self.asg.PutScalingPolicy(pb.PutScalingPolicyRequest(
                auto_scaling_group_name="My-Group", policy_name=name,
                adjustment_type=pb.ADJUSTMENT_TYPE_CHANGE_IN_CAPACITY, scaling_adjustment=adjust,
                cooldown=180), timeout=T).policy_arn
        policies = self.asg.DescribePolicies(pb.DescribePoliciesRequest(
            auto_scaling_group_name="My-Group"), timeout=T).scaling_policies
        self.assertEqual(sorted(p.policy_name for p in policies), ["scale_down", "scale_up"])
        dims = [pb.Dimension(name="AutoScalingGroupName", value="My-Group")]
        for name, op, threshold, policy in (
                ("scale_up_on_cpu", pb.COMPARISON_OPERATOR_GREATER_THAN_THRESHOLD, 70, "scale_up"),
                ("scale_down_on_cpu", pb.COMPARISON_OPERATOR_LESS_THAN_THRESHOLD, 50, "scale_down")):
            self.cw.PutMetricAlarm(pb.PutMetricAlarmRequest(
                alarm_name=name, namespace="AWS/EC2", metric_name="CPUUtilization",
                dimensions=dims, statistic=pb.STATISTIC_AVERAGE, period=60, evaluation_periods=2,
                threshold=threshold, comparison_operator=op, alarm_actions=[arns[policy]]), timeout=T)
        tt.wait_until(lambda: self.in_service() == (1, 1), sim_minutes(1), "one instance in service")
        self.set_group_load(90)
        tt.wait_until(lambda: self.in_service() == (2, 2), sim_minutes(5), "the group to scale out to 2")
        alarm = self.cw.DescribeAlarms(pb.DescribeAlarmsRequest(alarm_names=["scale_up_on_cpu"]),
                                       timeout=T).metric_alarms[0]
        self.assertEqual(alarm.state_value, pb.STATE_VALUE_ALARM)
        self.assertIn("greater than the threshold (70.0)", alarm.state_reason)
        self.set_group_load(10)
        tt.wait_until(lambda: self.in_service() == (1, 1), sim_minutes(8), "the group to scale back in to 1")
        activities = self.asg.DescribeScalingActivities(pb.DescribeScalingActivitiesRequest(
            auto_scaling_group_name="My-Group"), timeout=T).activities
        self.assertEqual([a.description.split(":")[0] for a in activities],
                         ["Terminating EC2 instance", "Launching a new EC2 instance",
                          "Launching a new EC2 instance"])
        self.assertEqual({a.status_code for a in activities}, {"Successful"})
        self.assertIn("a monitor alarm scale_down_on_cpu in state ALARM triggered policy scale_down "
                      "changing the desired capacity from 2 to 1.", activities[0].cause)
        self.assertIn("a monitor alarm scale_up_on_cpu in state ALARM triggered policy scale_up "
                      "changing the desired capacity from 1 to 2.", activities[1].cause)
        history = self.cw.DescribeAlarmHistory(pb.DescribeAlarmHistoryRequest(
            alarm_name="scale_up_on_cpu", history_item_type=pb.HISTORY_ITEM_TYPE_STATE_UPDATE,
            scan_by_timestamp_ascending=True), timeout=T).alarm_history_items
        summaries = [h.history_summary for h in history]
        # From INSUFFICIENT_DATA or OK (as the first minutes fell), to ALARM, back to OK.
        self.assertRegex(summaries[-2], r"^Alarm updated from (INSUFFICIENT_DATA|OK) to ALARM$")
        self.assertEqual(summaries[-1], "Alarm updated from ALARM to OK")
        self.assertEqual(sum(1 for h in summaries if h.endswith("to ALARM")), 1)
        actions = self.cw.DescribeAlarmHistory(pb.DescribeAlarmHistoryRequest(
            alarm_name="scale_up_on_cpu", history_item_type=pb.HISTORY_ITEM_TYPE_ACTION),
            timeout=T).alarm_history_items
        self.assertTrue(actions)
        self.assertTrue(all(h.history_summary.startswith("Successfully executed action")
                            for h in actions))
        # The group's CPU as CloudWatch has it: the minutes at 90 % are there.
        metrics = self.cw.ListMetrics(pb.ListMetricsRequest(
            namespace="AWS/EC2", metric_name="CPUUtilization",
            dimensions=[pb.DimensionFilter(name="AutoScalingGroupName", value="My-Group")]),
            timeout=T).metrics
        self.assertEqual(len(metrics), 1)

    def test_3_bad_input_names_the_field_and_the_aws_error(self):
        pb = self.pb
        cases = [
            (self.ec2.RunInstances, pb.RunInstancesRequest(image_id="ami-d0f89fb9",
                                                           instance_type="t9.huge"),
             "InvalidInstanceType", "instance_type"),
            (self.ec2.StopInstances, pb.StopInstancesRequest(instance_ids=["i-nothex"]),
             "InvalidInstanceID.Malformed", "instance_ids[0]"),
            (self.asg.CreateAutoScalingGroup, pb.CreateAutoScalingGroupRequest(
                auto_scaling_group_name="g", launch_configuration_name="x", min_size=3, max_size=2,
                availability_zones=["us-east-1a"]), "ValidationError", "min_size"),
            (self.cw.PutMetricAlarm, pb.PutMetricAlarmRequest(
                alarm_name="a", namespace="AWS/EC2", metric_name="CPUUtilization",
                statistic=pb.STATISTIC_AVERAGE, period=45, evaluation_periods=1, threshold=1,
                comparison_operator=pb.COMPARISON_OPERATOR_GREATER_THAN_THRESHOLD), None, "period"),
            (self.cw.PutMetricAlarm, pb.PutMetricAlarmRequest(
                alarm_name="a", namespace="AWS/EC2", metric_name="CPUUtilization",
                statistic=pb.STATISTIC_AVERAGE, period=60, evaluation_periods=1, threshold=1,
                comparison_operator=pb.COMPARISON_OPERATOR_GREATER_THAN_THRESHOLD,
                alarm_actions=["arn:aws:autoscaling:us-east-1:000000000000:scalingPolicy:nope"]),
             "ValidationError", "alarm_actions[0]"),
            (self.cw.PutMetricData, pb.PutMetricDataRequest(
                namespace="MyApp", metric_data=[pb.MetricDatum(metric_name="m", value=1)] * 1001),
             None, "metric_data"),
        ]
        for call, request, reason, field in cases:
            with self.subTest(method=call._method if hasattr(call, "_method") else str(call),
                              field=field):
                e = tt.call_error(call, request)
                self.assertEqual(e.code, tt.grpc.StatusCode.INVALID_ARGUMENT, e)
                if reason:
                    self.assertEqual(e.reason, reason, e)
                else:
                    self.assertTrue(e.reason, e)
                self.assertIn(field, e.fields, e)


class MonolithicComputeTest(_ComputeTests, unittest.TestCase):
    MODE = tt.Deployment.MONOLITHIC


class MicroserviceComputeTest(_ComputeTests, unittest.TestCase):
    MODE = tt.Deployment.MICROSERVICE


if __name__ == "__main__":
    unittest.main()
