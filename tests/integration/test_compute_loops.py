#!/usr/bin/python3
"""The compute service's loops through the gateway, with real child processes
and kill -9:

- a queue-depth loop: a group of `process` instances, each a consumer of a
  ThingTank queue (compute/queue_worker.py, the operator's image ami-worker),
  a target tracking policy on the queue's backlog per instance, a producer
  burst; the group scales out, the backlog drains, the group scales in, and
  every message reaches the done queue;
- an alarm whose actions notify a queue: the transition arrives as
  CloudWatch's notification JSON;
- kill -9 in the middle of a scale-out and of alarm transitions: after each
  restart no instance is launched twice for one decision and none is
  forgotten; no alarm transition is lost or repeated.

The server runs with --time-scale 60: a simulated minute is a real second.

Run: PYTHONPATH=tests/python /usr/bin/python3 -m unittest -v tests/integration/test_compute_loops.py
"""

import json
import os
import random
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "python"))

import grpc  # noqa: E402
from google.protobuf import duration_pb2  # noqa: E402

import thingtank_testing as tt  # noqa: E402

T = tt.CALL_DEADLINE_S
SCALE = 60
HERE = os.path.dirname(os.path.abspath(__file__))
QUEUE_ARN = "arn:aws:sqs:us-east-1:000000000000:%s"


class _Stubs:
    def connect(self, port):
        self.channel = tt.ready_channel(port)
        self.ec2 = self.cgrpc.ComputeServiceStub(self.channel)
        self.cw = self.cgrpc.CloudWatchServiceStub(self.channel)
        self.asg = self.cgrpc.AutoScalingServiceStub(self.channel)
        self.queues = tt.queues_pb2_grpc.QueuesServiceStub(self.channel)

    def group(self, name="g"):
        r = self.asg.DescribeAutoScalingGroups(self.pb.DescribeAutoScalingGroupsRequest(
            auto_scaling_group_names=[name]), timeout=T)
        return r.auto_scaling_groups[0]

    def in_service(self, name="g"):
        return sum(1 for i in self.group(name).instances if i.lifecycle_state == "InService")

    def receive_all(self, queue, wait_s=0):
        q = tt.queues_pb2
        out = []
        while True:
            r = self.queues.ReceiveMessages(q.ReceiveMessagesRequest(
                queue_name=queue, max_number_of_messages=10,
                wait_time=duration_pb2.Duration(seconds=wait_s)), timeout=T)
            if not r.messages:
                return out
            for m in r.messages:
                out.append(m.body)
                self.queues.DeleteMessage(q.DeleteMessageRequest(
                    queue_name=queue, receipt_handle=m.receipt_handle), timeout=T)

    def launch_configuration(self, name, **kw):
        self.asg.CreateLaunchConfiguration(self.pb.CreateLaunchConfigurationRequest(
            launch_configuration_name=name, image_id=kw.pop("image_id", "ami-d0f89fb9"),
            instance_type=kw.pop("instance_type", "t2.micro"), **kw), timeout=T)


class QueueDepthLoopTest(_Stubs, unittest.TestCase):

    def setUp(self):
        self.pb, self.cgrpc = tt.load_compute()
        images = os.path.join(tempfile.mkdtemp(prefix="thingtank-images-"), "images.json")
        with open(images, "w") as f:
            json.dump({"images": {"ami-worker": {
                "command": ["/usr/bin/python3", os.path.join(HERE, "compute", "queue_worker.py")],
                "env": {"PY_GEN_DIR": tt.PY_GEN, "WORK_SECONDS": "0.05"}}}}, f)
        self.server = tt.ServerProcess(["--gateway-port", "0", "--metrics-port", "0",
                                        "--wamp-ws-port", "0", "--time-scale", str(SCALE),
                                        "--compute-images", images])
        self.addCleanup(self.server.cleanup)
        self.server.start(required=("gateway",))
        self.connect(self.server.ports["gateway"])
        self.addCleanup(self.channel.close)

    def test_backlog_per_instance_scales_out_drains_and_scales_in(self):
        pb, q = self.pb, tt.queues_pb2
        for name in ("jobs", "done"):
            self.queues.CreateQueue(q.CreateQueueRequest(queue_name=name), timeout=T)
        endpoint = "127.0.0.1:%d" % self.server.ports["gateway"]
        self.launch_configuration("workers", image_id="ami-worker", driver=pb.DRIVER_PROCESS,
                                  user_data=("%s jobs done" % endpoint).encode())
        self.asg.CreateAutoScalingGroup(pb.CreateAutoScalingGroupRequest(
            auto_scaling_group_name="g", launch_configuration_name="workers", min_size=1,
            max_size=4, availability_zones=["us-east-1a"]), timeout=T)
        r = self.asg.PutScalingPolicy(pb.PutScalingPolicyRequest(
            auto_scaling_group_name="g", policy_name="backlog",
            policy_type=pb.POLICY_TYPE_TARGET_TRACKING_SCALING,
            target_tracking_configuration=pb.TargetTrackingConfiguration(
                target_value=10,
                customized_metric_specification=pb.CustomizedMetricSpecification(
                    namespace="AWS/SQS", metric_name="ApproximateNumberOfMessagesVisible",
                    dimensions=[pb.Dimension(name="QueueName", value="jobs")],
                    statistic=pb.STATISTIC_AVERAGE, per_instance=True))), timeout=T)
        self.assertEqual(len(r.alarm_names), 2)
        tt.wait_until(lambda: self.in_service() == 1, 30, "the first worker in service")
        # The worker is a real process reading the user data.
        instance = self.ec2.DescribeInstances(pb.DescribeInstancesRequest(), timeout=T).instances[0]
        self.assertEqual(instance.driver, pb.DRIVER_PROCESS)
        bodies = ["job-%03d" % i for i in range(300)]
        for i in range(0, len(bodies), 10):
            self.queues.SendMessageBatch(q.SendMessageBatchRequest(queue_name="jobs", entries=[
                q.SendMessageBatchRequestEntry(id="e%d" % j, message_body=b)
                for j, b in enumerate(bodies[i:i + 10])]), timeout=T)
        most = [1]

        def drained():
            most[0] = max(most[0], self.in_service())
            a = self.queues.GetQueueAttributes(q.GetQueueAttributesRequest(queue_name="jobs"),
                                               timeout=T)
            return (a.approximate_number_of_messages == 0
                    and a.approximate_number_of_messages_not_visible == 0)

        tt.wait_until(drained, 120, "the backlog to drain", interval=0.2)
        self.assertGreaterEqual(most[0], 2, "the group never scaled out")
        tt.wait_until(lambda: len(self.group().instances) == 1 and self.in_service() == 1, 90,
                      "the group to scale back in to 1")
        done = self.receive_all("done")
        self.assertEqual(set(done), set(bodies))  # none lost (at least once: duplicates allowed)
        activities = self.asg.DescribeScalingActivities(pb.DescribeScalingActivitiesRequest(
            auto_scaling_group_name="g"), timeout=T).activities
        causes = " ".join(a.cause for a in activities)
        self.assertIn("TargetTracking-g-AlarmHigh-", causes)
        self.assertIn("TargetTracking-g-AlarmLow-", causes)


class AlarmNotificationTest(_Stubs, unittest.TestCase):

    def setUp(self):
        self.pb, self.cgrpc = tt.load_compute()
        self.deployment = tt.Deployment(tt.Deployment.MONOLITHIC,
                                        backend_args=["--time-scale", str(SCALE)])
        self.addCleanup(self.deployment.cleanup)
        self.connect(self.deployment.gateway_port)
        self.addCleanup(self.channel.close)

    def test_a_transition_reaches_a_queue_as_cloudwatch_writes_it(self):
        pb, q = self.pb, tt.queues_pb2
        self.queues.CreateQueue(q.CreateQueueRequest(queue_name="alarms"), timeout=T)
        e = tt.call_error(self.cw.PutMetricAlarm, pb.PutMetricAlarmRequest(
            alarm_name="hot", namespace="MyApp", metric_name="Temperature",
            statistic=pb.STATISTIC_MAXIMUM, period=60, evaluation_periods=1, threshold=30,
            comparison_operator=pb.COMPARISON_OPERATOR_GREATER_THAN_THRESHOLD,
            alarm_actions=["arn:aws:sqs:eu-west-1:000000000000:alarms"]))
        self.assertEqual((e.reason, e.fields), ("ValidationError", ["alarm_actions[0]"]))
        self.cw.PutMetricAlarm(pb.PutMetricAlarmRequest(
            alarm_name="hot", namespace="MyApp", metric_name="Temperature",
            statistic=pb.STATISTIC_MAXIMUM, period=60, evaluation_periods=1, threshold=30,
            comparison_operator=pb.COMPARISON_OPERATOR_GREATER_THAN_THRESHOLD,
            alarm_actions=[QUEUE_ARN % "alarms"], ok_actions=[QUEUE_ARN % "alarms"]), timeout=T)
        self.cw.SetAlarmState(pb.SetAlarmStateRequest(
            alarm_name="hot", state_value=pb.STATE_VALUE_ALARM, state_reason="testing"), timeout=T)
        (body,) = tt.wait_until(lambda: self.receive_all("alarms", wait_s=1), 30, "the notification")
        message = json.loads(body)
        self.assertEqual(message["AlarmName"], "hot")
        self.assertEqual(message["NewStateValue"], "ALARM")
        self.assertEqual(message["OldStateValue"], "INSUFFICIENT_DATA")
        self.assertEqual(message["NewStateReason"], "testing")
        self.assertTrue(message["AlarmArn"].endswith(":alarm:hot"))
        history = self.cw.DescribeAlarmHistory(pb.DescribeAlarmHistoryRequest(
            alarm_name="hot", history_item_type=pb.HISTORY_ITEM_TYPE_ACTION), timeout=T)
        self.assertTrue(history.alarm_history_items[0].history_summary.startswith(
            "Successfully executed action arn:aws:sqs:"))


    def test_the_other_services_metrics_drive_alarms(self):
        pb, q = self.pb, tt.queues_pb2
        self.queues.CreateQueue(q.CreateQueueRequest(queue_name="depth"), timeout=T)
        for i in range(5):
            self.queues.SendMessage(q.SendMessageRequest(queue_name="depth", message_body="m%d" % i),
                                    timeout=T)
        # An alarm on a queue's depth works like one on CPU.
        self.cw.PutMetricAlarm(pb.PutMetricAlarmRequest(
            alarm_name="backlog", namespace="AWS/SQS", metric_name="ApproximateNumberOfMessagesVisible",
            dimensions=[pb.Dimension(name="QueueName", value="depth")],
            statistic=pb.STATISTIC_MAXIMUM, period=60, evaluation_periods=1, threshold=3,
            comparison_operator=pb.COMPARISON_OPERATOR_GREATER_THAN_THRESHOLD), timeout=T)
        tt.wait_until(lambda: self.cw.DescribeAlarms(pb.DescribeAlarmsRequest(
            alarm_names=["backlog"]), timeout=T).metric_alarms[0].state_value == pb.STATE_VALUE_ALARM,
            30, "the queue-depth alarm to fire")
        # The tables publish AWS/DynamoDB the same way.
        tables = tt.tables_pb2_grpc.TablesServiceStub(self.channel)
        tt.create_table(tables, "readings", ("device", "S"))
        tables.PutItem(tt.tables_pb2.PutItemRequest(table_name="readings",
                                                    item=tt.item(device="d1", t=20)), timeout=T)

        def consumed():
            metrics = self.cw.ListMetrics(pb.ListMetricsRequest(
                namespace="AWS/DynamoDB", metric_name="ConsumedWriteCapacityUnits"), timeout=T).metrics
            return [m for m in metrics if [(d.name, d.value) for d in m.dimensions] ==
                    [("TableName", "readings")]]
        tt.wait_until(consumed, 30, "AWS/DynamoDB metrics of the table")


class CrashTest(_Stubs, unittest.TestCase):
    """kill -9 during scale-out, scale-in and alarm transitions."""

    def setUp(self):
        self.pb, self.cgrpc = tt.load_compute()
        self.server = tt.ServerProcess(["--gateway-port", "0", "--metrics-port", "0",
                                        "--wamp-ws-port", "0", "--time-scale", str(SCALE)])
        self.addCleanup(self.server.cleanup)
        self.restart(first=True)

    def restart(self, first=False):
        if not first:
            self.channel.close()
            self.server.kill9()
        self.server.start(required=("gateway",))
        self.connect(self.server.ports["gateway"])

    def tearDown(self):
        self.channel.close()

    def live_instances(self):
        r = self.ec2.DescribeInstances(self.pb.DescribeInstancesRequest(filters=[
            self.pb.Filter(name="instance-state-name", values=["pending", "running"])]), timeout=T)
        return [i.instance_id for i in r.instances]

    def test_no_double_launch_and_none_forgotten(self):
        pb = self.pb
        self.launch_configuration("lc")
        self.asg.CreateAutoScalingGroup(pb.CreateAutoScalingGroupRequest(
            auto_scaling_group_name="g", launch_configuration_name="lc", min_size=0, max_size=12,
            desired_capacity=0, availability_zones=["us-east-1a", "us-east-1b"]), timeout=T)
        rng = random.Random(12)
        for round_, desired in enumerate((9, 4, 12, 2)):
            with self.subTest(round=round_, desired=desired):
                self.asg.SetDesiredCapacity(pb.SetDesiredCapacityRequest(
                    auto_scaling_group_name="g", desired_capacity=desired), timeout=T)
                time.sleep(rng.uniform(0, 0.05))  # kill somewhere in the middle of it
                self.restart()
                tt.wait_until(lambda: self.in_service() == desired and
                              len(self.group().instances) == desired, 60,
                              "%d instances in service" % desired)
                live = self.live_instances()
                members = sorted(i.instance_id for i in self.group().instances)
                self.assertEqual(sorted(live), members)  # nothing launched beside the group
        activities = self.asg.DescribeScalingActivities(pb.DescribeScalingActivitiesRequest(
            auto_scaling_group_name="g"), timeout=T).activities
        launched = [a for a in activities if a.description.startswith("Launching a new EC2 instance: ")]
        all_ids = self.ec2.DescribeInstances(pb.DescribeInstancesRequest(), timeout=T).instances
        # One instance per launch decision, and one decision per instance.
        self.assertEqual(len(launched), len(all_ids))
        self.assertEqual(len({a.description for a in launched}), len(launched))

    def test_alarm_transitions_are_neither_lost_nor_repeated(self):
        pb = self.pb
        self.cw.PutMetricAlarm(pb.PutMetricAlarmRequest(
            alarm_name="flip", namespace="MyApp", metric_name="Load",
            statistic=pb.STATISTIC_AVERAGE, period=60, evaluation_periods=1, threshold=50,
            comparison_operator=pb.COMPARISON_OPERATOR_GREATER_THAN_THRESHOLD,
            treat_missing_data=pb.TREAT_MISSING_DATA_IGNORE), timeout=T)
        rng = random.Random(7)
        for i in range(6):
            # Every two real seconds (simulated minutes) the load flips; the server dies now and then.
            deadline = time.monotonic() + rng.uniform(1.5, 4.0)
            while time.monotonic() < deadline:
                value = 90.0 if int(time.monotonic() / 2) % 2 else 10.0
                try:
                    self.cw.PutMetricData(pb.PutMetricDataRequest(namespace="MyApp", metric_data=[
                        pb.MetricDatum(metric_name="Load", value=value)]), timeout=T)
                except grpc.RpcError:
                    pass
                time.sleep(0.05)
            self.restart()
        history = self.cw.DescribeAlarmHistory(pb.DescribeAlarmHistoryRequest(
            alarm_name="flip", history_item_type=pb.HISTORY_ITEM_TYPE_STATE_UPDATE,
            scan_by_timestamp_ascending=True, max_records=100), timeout=T).alarm_history_items
        self.assertGreaterEqual(len(history), 3, [h.history_summary for h in history])
        states = []
        for item in history:
            data = json.loads(item.history_data)
            states.append((data["oldState"]["stateValue"], data["newState"]["stateValue"]))
        for (old, new) in states:
            self.assertNotEqual(old, new)
        for (a, b) in zip(states, states[1:]):
            self.assertEqual(a[1], b[0], states)  # each begins where the last ended
        alarm = self.cw.DescribeAlarms(pb.DescribeAlarmsRequest(alarm_names=["flip"]),
                                       timeout=T).metric_alarms[0]
        self.assertEqual(pb.StateValue.Name(alarm.state_value), "STATE_VALUE_" + states[-1][1])


if __name__ == "__main__":
    unittest.main()
