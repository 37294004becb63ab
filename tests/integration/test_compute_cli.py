#!/usr/bin/python3
"""End-to-end tests of `thingtank compute ...` (EC2, CloudWatch, Auto Scaling
commands) through the real binary against a real `thingtank serve`.

One monolithic server (gateway and every service, free ports, a temporary data
directory) runs for the class with --time-scale 60: one second of real time is
a minute on the server's clock, so launch delays and alarm periods pass
quickly. Every wait polls a condition with a deadline (the CLI's own
`describe --watch --until-state`, or tt.wait_until); none is a fixed sleep.

Times given to the CLI are on the local clock; the server's clock runs ahead
of it (time scale), so data points are put at explicit timestamps in the past
and read back over explicit ranges.

Binary: $THINGTANK_BIN (default build/dev/tools/thingtank/thingtank).
Run: PYTHONPATH=tests/python /usr/bin/python3 -m unittest -v tests/integration/test_compute_cli.py
"""

import datetime
import json
import os
import re
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "python"))

import thingtank_testing as tt  # noqa: E402

# Each CLI run; a watch gets its own, longer deadline.
CLI_DEADLINE_S = 60
WATCH_DEADLINE_S = 120
TIME_SCALE = "60"
IMAGE = "ami-d0f89fb9"
TYPE = "t1.micro"


def rfc3339(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_rfc3339(text):
    """A JSON Timestamp ("2026-12-02T10:00:00.123456789Z") as an aware datetime (to the µs)."""
    match = re.fullmatch(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?Z", text)
    if not match:
        raise AssertionError("not an RFC 3339 UTC time: %r" % text)
    t = datetime.datetime.strptime(match.group(1), "%Y-%m-%dT%H:%M:%S")
    micros = int((match.group(2) or "0")[:6].ljust(6, "0"))
    return t.replace(microsecond=micros, tzinfo=datetime.timezone.utc)


class ComputeCliTest(unittest.TestCase):
    endpoint = None

    @classmethod
    def setUpClass(cls):
        cls.endpoint = cls.start_endpoint()

    @classmethod
    def start_endpoint(cls):
        """Starts the server for the class; returns the gateway's host:port."""
        if not os.access(tt.BIN, os.X_OK):
            raise AssertionError("no thingtank binary at %s (build first, or set THINGTANK_BIN)"
                                 % tt.BIN)
        help_text = subprocess.run([tt.BIN, "serve", "--help"], capture_output=True, text=True,
                                   timeout=CLI_DEADLINE_S).stdout
        if "compute" not in help_text:
            raise AssertionError("this thingtank has no compute service (`serve --help` does not "
                                 "list it)")
        server = tt.ServerProcess(["--gateway-port", "0", "--metrics-port", "0",
                                   "--wamp-ws-port", "0", "--time-scale", TIME_SCALE])
        cls.addClassCleanup(server.cleanup)
        cls.addClassCleanup(server.stop)
        server.start(required=("gateway", "metrics"))
        tt.ready_channel(server.ports["gateway"]).close()
        return "127.0.0.1:%d" % server.ports["gateway"]

    # -- running the CLI -----------------------------------------------------

    def cli(self, *args, timeout=CLI_DEADLINE_S, service="compute"):
        """Runs `thingtank SERVICE ARGS` (compute unless told); returns the CompletedProcess."""
        env = dict(os.environ)
        env.pop("THINGTANK_API_KEY_ID", None)
        env.pop("THINGTANK_API_KEY_SECRET", None)
        env["THINGTANK_ENDPOINT"] = self.endpoint
        return subprocess.run([tt.BIN, service, *args], capture_output=True, text=True,
                              env=env, timeout=timeout)

    def ok(self, *args, service="compute", **kwargs):
        result = self.cli(*args, service=service, **kwargs)
        self.assertEqual(result.returncode, 0, "%s %s failed (%d):\n%s%s"
                         % (service, " ".join(args), result.returncode, result.stdout,
                            result.stderr))
        return result.stdout

    def json_ok(self, *args, **kwargs):
        return json.loads(self.ok(*args, "--json", **kwargs))

    def instance(self, instance_id):
        instances = self.json_ok("describe", instance_id)["instances"]
        self.assertEqual([i["instance_id"] for i in instances], [instance_id])
        return instances[0]

    def watch_until(self, instance_id, state):
        """`describe ID --watch --until-state STATE`: returns once the CLI saw it."""
        out = self.ok("describe", instance_id, "--watch", "--until-state", state,
                      "--timeout", "%ds" % (WATCH_DEADLINE_S - 10), timeout=WATCH_DEADLINE_S)
        lines = [line for line in out.splitlines() if line.strip()]
        self.assertTrue(lines, "the watch printed no line")
        # One line per state change seen; the last one is the state waited for.
        for line in lines:
            self.assertTrue(line.startswith(instance_id + " "), line)
        self.assertEqual(lines[-1].split()[2], state, out)
        return lines

    # -- instances -------------------------------------------------------------

    def test_run_watch_until_running_then_stop(self):
        reservation = self.json_ok("run", "--image-id", IMAGE, "--instance-type", TYPE,
                                   "--count", "1", "--tag", "purpose=cli-test")
        self.assertTrue(reservation["reservation_id"].startswith("r-"), reservation)
        self.assertEqual(len(reservation["instances"]), 1, reservation)
        launched = reservation["instances"][0]
        instance_id = launched["instance_id"]
        self.assertRegex(instance_id, r"^i-[0-9a-f]{17}$")
        self.assertEqual(launched["state"]["name"], "INSTANCE_STATE_NAME_PENDING")
        self.assertEqual(launched["image_id"], IMAGE)
        self.assertEqual(launched["instance_type"], TYPE)

        self.watch_until(instance_id, "running")
        running = self.instance(instance_id)
        self.assertEqual(running["state"]["name"], "INSTANCE_STATE_NAME_RUNNING")
        self.assertTrue(running["public_ip_address"], running)
        self.assertTrue(running["private_dns_name"], running)

        # Human describe: id, type, state, zone, private IP and DNS, public IP and DNS, launch time.
        fields = self.ok("describe", instance_id).split()
        self.assertEqual(fields[:3], [instance_id, TYPE, "running"])
        self.assertEqual(fields[3], running["availability_zone"])
        self.assertEqual(fields[4], running["private_ip_address"])
        self.assertEqual(fields[5], running["private_dns_name"])
        self.assertEqual(fields[6], running["public_ip_address"])
        self.assertEqual(fields[7], running["public_dns_name"])
        self.assertRegex(fields[8], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d")
        # The filter reaches the server: the tag selects it.
        self.assertIn(instance_id, self.ok("describe", "--filter", "tag:purpose=cli-test"))

        stopped = self.ok("stop", instance_id)
        self.assertRegex(stopped, r"^%s +running -> stopping\n$" % instance_id)
        self.watch_until(instance_id, "stopped")
        self.assertEqual(self.ok("describe", instance_id).split()[2], "stopped")
        self.assertEqual(self.instance(instance_id)["state"]["name"], "INSTANCE_STATE_NAME_STOPPED")

    def test_unknown_instance_reports_the_aws_reason(self):
        result = self.cli("describe", "i-0123456789abcdef0")
        self.assertEqual(result.returncode, 1, result)
        self.assertIn("InvalidInstanceID.NotFound", result.stderr)

    # -- metrics ---------------------------------------------------------------

    def test_put_metric_and_get_statistics(self):
        # Ten minutes back on the local clock, on a minute: in the server's past
        # (its clock runs ahead) and within one 60 s period.
        now = datetime.datetime.now(datetime.timezone.utc).replace(second=0, microsecond=0)
        at = now - datetime.timedelta(minutes=10)
        common = ["--namespace", "ThingTank/CliTest", "--metric-name", "Temperature",
                  "--dimension", "device=d1"]
        self.ok("put-metric", *common, "--value", "20", "--timestamp", rfc3339(at))
        self.ok("put-metric", *common, "--value", "30", "--unit", "None", "--timestamp",
                rfc3339(at + datetime.timedelta(seconds=30)))
        self.ok("put-metric", *common, "--statistic-values", "3,210,60,80",
                "--timestamp", rfc3339(at + datetime.timedelta(seconds=59)))

        stats = self.json_ok("get-statistics", *common,
                             "--start", rfc3339(at - datetime.timedelta(minutes=5)),
                             "--end", rfc3339(at + datetime.timedelta(minutes=5)),
                             "--period", "60", "--statistics", "Average,Maximum",
                             "--statistics", "SampleCount,Minimum,Sum")
        self.assertEqual(len(stats["datapoints"]), 1, stats)
        point = stats["datapoints"][0]
        self.assertEqual(point["sample_count"], 5)
        self.assertEqual(point["sum"], 260)
        self.assertEqual(point["average"], 52)
        self.assertEqual(point["minimum"], 20)
        self.assertEqual(point["maximum"], 80)
        self.assertEqual(point["timestamp"], rfc3339(at))

        # Relative times (local clock) cover it too; human output: header and one row.
        text = self.ok("get-statistics", *common, "--start", "-1h", "--end", "+2h",
                       "--period", "1h", "--statistics", "Sum")
        self.assertIn("TIMESTAMP", text)
        sums = [float(line.split()[1]) for line in text.splitlines()
                if line[:4].isdigit()]
        self.assertEqual(sum(sums), 260, text)

        listed = self.json_ok("list-metrics", "--namespace", "ThingTank/CliTest")["metrics"]
        self.assertEqual([(m["metric_name"], m["dimensions"]) for m in listed],
                         [("Temperature", [{"name": "device", "value": "d1"}])])
        self.assertIn("device=d1", self.ok("list-metrics", "--namespace", "ThingTank/CliTest",
                                           "--dimension", "device"))

    # -- alarms ----------------------------------------------------------------

    def test_put_alarm_and_describe_alarms(self):
        self.ok("put-alarm", "--alarm-name", "cli-cpu-high", "--namespace", "AWS/EC2",
                "--metric-name", "CPUUtilization", "--dimension", "AutoScalingGroupName=cli-g",
                "--statistic", "Average", "--period", "60", "--evaluation-periods", "2",
                "--datapoints-to-alarm", "2", "--threshold", "70",
                "--comparison-operator", "GreaterThanThreshold",
                "--treat-missing-data", "notBreaching", "--description", "CPU above 70 %")
        alarms = self.json_ok("describe-alarms", "cli-cpu-high")["metric_alarms"]
        self.assertEqual(len(alarms), 1, alarms)
        alarm = alarms[0]
        self.assertEqual(alarm["alarm_name"], "cli-cpu-high")
        self.assertEqual(alarm["comparison_operator"], "COMPARISON_OPERATOR_GREATER_THAN_THRESHOLD")
        self.assertEqual(alarm["statistic"], "STATISTIC_AVERAGE")
        self.assertEqual(alarm["treat_missing_data"], "TREAT_MISSING_DATA_NOT_BREACHING")
        self.assertEqual(alarm["threshold"], 70)
        self.assertEqual(alarm["period"], 60)
        self.assertEqual(alarm["evaluation_periods"], 2)
        self.assertEqual(alarm["dimensions"], [{"name": "AutoScalingGroupName", "value": "cli-g"}])
        self.assertIn(alarm["state_value"], ("STATE_VALUE_INSUFFICIENT_DATA", "STATE_VALUE_OK"))

        text = self.ok("describe-alarms", "--prefix", "cli-cpu")
        self.assertIn("cli-cpu-high", text)
        self.assertIn("Average(AWS/EC2/CPUUtilization AutoScalingGroupName=cli-g) > 70 for 2 of 2",
                      text)

        # A state set by hand is recorded in the history (the next evaluation may change it).
        self.ok("set-alarm-state", "cli-cpu-high", "--state", "ALARM", "--reason", "cli test")
        history = self.json_ok("alarm-history", "cli-cpu-high", "--type", "StateUpdate")
        summaries = [h["history_summary"] for h in history["alarm_history_items"]]
        self.assertTrue(any("ALARM" in s for s in summaries), summaries)

        self.ok("delete-alarms", "cli-cpu-high")
        self.assertEqual(self.json_ok("describe-alarms", "cli-cpu-high").get("metric_alarms"), [])

    def test_unknown_comparison_operator_is_a_usage_error(self):
        args = ["put-alarm", "--alarm-name", "cli-bad", "--namespace", "MyApp",
                "--metric-name", "CPU", "--statistic", "Average", "--period", "60",
                "--evaluation-periods", "2", "--threshold", "70",
                "--comparison-operator", "BiggerThan"]
        result = self.cli(*args)
        self.assertEqual(result.returncode, 2, result)
        self.assertIn("--comparison-operator", result.stderr)
        self.assertIn("BiggerThan", result.stderr)
        self.assertIn("GreaterThanThreshold", result.stderr)
        self.assertEqual(result.stdout, "")
        as_json = self.cli(*args, "--json")
        self.assertEqual(as_json.returncode, 2, as_json)
        error = json.loads(as_json.stderr)["error"]
        self.assertEqual(error["code"], "USAGE")
        self.assertIn("--comparison-operator", error["message"])
        # Nothing was created.
        self.assertEqual(self.json_ok("describe-alarms", "cli-bad").get("metric_alarms"), [])

    # -- auto scaling ----------------------------------------------------------

    def test_group_keeps_one_instance(self):
        self.ok("create-launch-configuration", "--name", "cli-lc", "--image-id", IMAGE,
                "--instance-type", TYPE, "--load", "constant:20")
        configs = self.json_ok("describe-launch-configurations", "cli-lc")
        self.assertEqual([c["launch_configuration_name"]
                          for c in configs["launch_configurations"]], ["cli-lc"])
        zone = self.json_ok("zones")["availability_zones"][0]["zone_name"]

        self.ok("create-group", "--name", "cli-group", "--launch-configuration", "cli-lc",
                "--min", "1", "--max", "2", "--zone", zone, "--tag", "team=cli")

        def one_instance():
            groups = self.json_ok("describe-groups", "cli-group")["auto_scaling_groups"]
            self.assertEqual(len(groups), 1, groups)
            return groups[0] if len(groups[0].get("instances", [])) == 1 else None

        group = tt.wait_until(one_instance, WATCH_DEADLINE_S, "cli-group to have 1 instance",
                              interval=0.2)
        self.assertEqual((group["min_size"], group["desired_capacity"], group["max_size"]),
                         (1, 1, 2))
        member = group["instances"][0]
        self.assertEqual(member["launch_configuration_name"], "cli-lc")

        text = self.ok("describe-groups", "cli-group")
        lines = text.splitlines()
        self.assertTrue(lines[0].startswith("cli-group  cli-lc  min/desired/max 1/1/2  " + zone),
                        text)
        self.assertIn("1 instance", lines[0])
        self.assertEqual(len(lines), 2, text)
        self.assertEqual(lines[1].split()[:2], [member["instance_id"], member["availability_zone"]])
        self.assertIn(member["lifecycle_state"], lines[1])

        # The group's launch shows in its activities.
        activities = self.ok("activities", "--group", "cli-group")
        self.assertIn(member["instance_id"], activities)

        self.ok("delete-group", "cli-group", "--force")

    def test_launch_template_versions_launch_a_group_and_instances(self):
        name = "cli-lt"
        group_name = "cli-lt-group"
        created = self.json_ok("create-launch-template", "--name", name, "--image-id", IMAGE,
                               "--instance-type", "t2.micro", "--version-description", "small")
        template = created["launch_template"]
        template_id = template["launch_template_id"]
        self.assertRegex(template_id, r"^lt-[0-9a-f]{17}$")
        self.assertEqual(template["launch_template_name"], name)
        # int64 fields are JSON strings.
        self.assertEqual((int(template["default_version_number"]),
                          int(template["latest_version_number"])), (1, 1))

        # Version 2: version 1 with another type.
        self.assertEqual(self.ok("create-launch-template-version", "--name", name,
                                 "--source-version", "1", "--instance-type", "t3.micro",
                                 "--version-description", "bigger"),
                         "created version 2 of launch template %s (%s)\n" % (name, template_id))
        versions = self.json_ok("describe-launch-template-versions", "--id",
                                template_id)["launch_template_versions"]
        self.assertEqual([(int(v["version_number"]), v["launch_template_data"]["image_id"],
                           v["launch_template_data"]["instance_type"]) for v in versions],
                         [(2, IMAGE, "t3.micro"), (1, IMAGE, "t2.micro")])
        # Human: number, default mark, image, type, description; newest first.
        self.assertEqual([line.split() for line in
                          self.ok("describe-launch-template-versions", "--name",
                                  name).splitlines()],
                         [["2", "-", IMAGE, "t3.micro", "bigger"],
                          ["1", "default", IMAGE, "t2.micro", "small"]])
        self.assertEqual(self.ok("describe-launch-templates", name).split(),
                         [template_id, name, "default", "1", "latest", "2"])

        # A group on $Latest launches version 2.
        zone = self.json_ok("zones")["availability_zones"][0]["zone_name"]
        self.ok("create-group", "--name", group_name, "--launch-template", name + ":$Latest",
                "--min", "1", "--max", "2", "--zone", zone)
        self.addCleanup(self.cli, "delete-group", group_name, "--force")

        def one_t3_instance():
            groups = self.json_ok("describe-groups", group_name)["auto_scaling_groups"]
            self.assertEqual(len(groups), 1, groups)
            members = groups[0].get("instances", [])
            return groups[0] if len(members) == 1 and \
                members[0].get("instance_type") == "t3.micro" else None

        group = tt.wait_until(one_t3_instance, WATCH_DEADLINE_S,
                              "%s to have 1 instance of type t3.micro" % group_name, interval=0.2)
        self.assertEqual(group["launch_template"]["launch_template_name"], name)
        self.assertEqual(group["launch_template"]["version"], "$Latest")
        self.assertEqual(group["launch_configuration_name"], "")
        member = group["instances"][0]
        self.assertEqual(member["launch_template"], {"launch_template_id": template_id,
                                                     "launch_template_name": name,
                                                     "version": "2"})
        # Human: the group's template and version, and each instance's.
        lines = self.ok("describe-groups", group_name).splitlines()
        self.assertEqual(len(lines), 2, lines)
        self.assertTrue(lines[0].startswith("%s  %s:$Latest  min/desired/max 1/1/2  %s"
                                            % (group_name, name, zone)), lines)
        self.assertEqual(lines[1].split()[0], member["instance_id"])
        self.assertIn("  %s:2  " % name, lines[1])

        # run without a version: the default one (1).
        reservation = self.json_ok("run", "--launch-template", name)
        self.assertEqual(len(reservation["instances"]), 1, reservation)
        launched = reservation["instances"][0]
        self.addCleanup(self.cli, "terminate", launched["instance_id"])
        self.assertEqual((launched["image_id"], launched["instance_type"]), (IMAGE, "t2.micro"))

        # A new default by id.
        self.assertEqual(self.ok("modify-launch-template", "--id", template_id,
                                 "--default-version", "2"),
                         "default version of launch template %s (%s) set to 2\n"
                         % (name, template_id))
        self.assertEqual(self.ok("describe-launch-templates", name).split(),
                         [template_id, name, "default", "2", "latest", "2"])

    def test_lifecycle_hook_holds_a_launch_until_completed(self):
        self.ok("create-launch-configuration", "--name", "cli-hook-lc", "--image-id", IMAGE,
                "--instance-type", TYPE)
        zone = self.json_ok("zones")["availability_zones"][0]["zone_name"]
        self.ok("create-group", "--name", "cli-hook-group", "--launch-configuration",
                "cli-hook-lc", "--min", "0", "--max", "1", "--desired", "0", "--zone", zone)
        self.addCleanup(self.cli, "delete-group", "cli-hook-group", "--force")
        self.ok("create", "hooks", service="queues")
        queue_arn = "arn:aws:sqs:us-east-1:000000000000:hooks"
        # 7200 s on the server's clock is two minutes here: no timeout while the test runs.
        self.ok("put-lifecycle-hook", "--group", "cli-hook-group", "--name", "cli-launch",
                "--transition", "launching", "--heartbeat-timeout", "7200",
                "--notification-target", queue_arn, "--notification-metadata", "cli test")
        hooks = self.json_ok("describe-lifecycle-hooks", "--group",
                             "cli-hook-group")["lifecycle_hooks"]
        self.assertEqual([(h["lifecycle_hook_name"], h["lifecycle_transition"],
                           h["heartbeat_timeout"], h["default_result"],
                           h["notification_target_arn"]) for h in hooks],
                         [("cli-launch", "autoscaling:EC2_INSTANCE_LAUNCHING", 7200, "ABANDON",
                           queue_arn)])
        self.assertEqual(self.ok("describe-lifecycle-hooks", "--group", "cli-hook-group",
                                 "cli-launch").split(),
                         ["cli-launch", "autoscaling:EC2_INSTANCE_LAUNCHING", "heartbeat",
                          "7200s", "ABANDON", queue_arn])

        self.ok("set-desired-capacity", "cli-hook-group", "1")

        def member_in(state):
            def check():
                groups = self.json_ok("describe-groups", "cli-hook-group")["auto_scaling_groups"]
                self.assertEqual(len(groups), 1, groups)
                members = groups[0].get("instances", [])
                return members[0] if len(members) == 1 and \
                    members[0]["lifecycle_state"] == state else None
            return tt.wait_until(check, WATCH_DEADLINE_S, "cli-hook-group's instance to be "
                                 + state, interval=0.2)

        waiting = member_in("Pending:Wait")
        instance_id = waiting["instance_id"]
        # The human form shows the lifecycle state as the server names it.
        lines = self.ok("describe-groups", "cli-hook-group").splitlines()
        self.assertEqual(len(lines), 2, lines)
        self.assertEqual(lines[1].split()[:3], [instance_id, waiting["availability_zone"],
                                                "Pending:Wait"])

        # The queue gets the test notification of put-lifecycle-hook, then the wait's.
        def lifecycle_notice():
            received = json.loads(self.ok("receive", "hooks", "--max", "10", "--wait", "20",
                                          "--json", service="queues",
                                          timeout=CLI_DEADLINE_S + 20))
            for message in received.get("messages", []):
                body = json.loads(message["body"])
                if body.get("Event") == "autoscaling:TEST_NOTIFICATION":
                    continue
                return body
            return None

        notice = tt.wait_until(lifecycle_notice, WATCH_DEADLINE_S,
                               "the lifecycle notification in queue hooks", interval=0.2)
        self.assertEqual(notice["LifecycleTransition"], "autoscaling:EC2_INSTANCE_LAUNCHING",
                         notice)
        self.assertTrue(notice["LifecycleActionToken"], notice)
        self.assertEqual(notice["EC2InstanceId"], instance_id, notice)
        self.assertEqual(notice["LifecycleHookName"], "cli-launch", notice)
        self.assertEqual(notice["AutoScalingGroupName"], "cli-hook-group", notice)
        self.assertEqual(notice["NotificationMetadata"], "cli test", notice)

        # Still waiting: only the completion lets it into service. A heartbeat by instance id.
        self.assertEqual(self.ok("record-lifecycle-action-heartbeat", "--group",
                                 "cli-hook-group", "--hook", "cli-launch", "--instance-id",
                                 instance_id),
                         "recorded a heartbeat of the lifecycle action of %s on hook "
                         "cli-launch\n" % instance_id)
        self.assertEqual(member_in("Pending:Wait")["instance_id"], instance_id)
        done = self.ok("complete-lifecycle-action", "--group", "cli-hook-group", "--hook",
                       "cli-launch", "--token", notice["LifecycleActionToken"],
                       "--result", "CONTINUE")
        self.assertIn("CONTINUE", done)
        self.assertEqual(member_in("InService")["instance_id"], instance_id)

        self.ok("delete-lifecycle-hook", "--group", "cli-hook-group", "cli-launch")
        self.assertEqual(self.ok("describe-lifecycle-hooks", "--group", "cli-hook-group"),
                         "no lifecycle hooks\n")

    def test_scheduled_actions_change_the_group_on_the_servers_clock(self):
        group_name = "cli-sched-group"
        self.ok("create-launch-configuration", "--name", "cli-sched-lc", "--image-id", IMAGE,
                "--instance-type", TYPE)
        zone = self.json_ok("zones")["availability_zones"][0]["zone_name"]
        self.ok("create-group", "--name", group_name, "--launch-configuration", "cli-sched-lc",
                "--min", "1", "--max", "3", "--zone", zone)
        self.addCleanup(self.cli, "delete-group", group_name, "--force")

        def group():
            groups = self.json_ok("describe-groups", group_name)["auto_scaling_groups"]
            self.assertEqual(len(groups), 1, groups)
            return groups[0]

        def actions(*names):
            return self.json_ok("describe-scheduled-actions", "--group", group_name,
                                *names).get("scheduled_update_group_actions", [])

        def human_lines(*names):
            # Columns are padded with two spaces or more; a recurrence has single spaces.
            return [re.split(r"\s{2,}", line.strip()) for line in
                    self.ok("describe-scheduled-actions", "--group", group_name,
                            *names).splitlines()]

        # The server's clock (60 times faster than this one, and ahead of it): the
        # group's creation, a moment ago.
        server_now = parse_rfc3339(group()["created_time"])

        # A one-off two minutes ahead on the server's clock (two seconds here).
        start = server_now + datetime.timedelta(minutes=2)
        self.assertEqual(self.ok("put-scheduled-action", "--group", group_name, "--name",
                                 "cli-scale-up", "--start-time", rfc3339(start),
                                 "--desired", "3"),
                         "saved scheduled action cli-scale-up of group %s\n" % group_name)

        def ran():
            g = group()
            names = [a["scheduled_action_name"] for a in actions()]
            return g if g["desired_capacity"] == 3 and "cli-scale-up" not in names else None

        scaled = tt.wait_until(ran, WATCH_DEADLINE_S,
                               "the scheduled action to set %s's desired capacity to 3 and go"
                               % group_name, interval=0.2)
        self.assertEqual((scaled["min_size"], scaled["desired_capacity"], scaled["max_size"]),
                         (1, 3, 3))

        # A recurrence: listed with its next run, a weekday at 09:00 UTC after the server's now.
        self.ok("put-scheduled-action", "--group", group_name, "--name", "cli-weekdays",
                "--recurrence", "0 9 * * 1-5", "--min", "1", "--max", "3", "--desired", "2")
        listed = actions("cli-weekdays")
        self.assertEqual(len(listed), 1, listed)
        weekdays = listed[0]
        self.assertEqual((weekdays["auto_scaling_group_name"], weekdays["scheduled_action_name"],
                          weekdays["recurrence"], weekdays["min_size"], weekdays["max_size"],
                          weekdays["desired_capacity"]),
                         (group_name, "cli-weekdays", "0 9 * * 1-5", 1, 3, 2))
        self.assertIn(":scheduledActionName/cli-weekdays", weekdays["scheduled_action_arn"])
        next_run = parse_rfc3339(weekdays["next_run_time"])
        self.assertGreater(next_run, server_now)
        self.assertEqual((next_run.hour, next_run.minute, next_run.second), (9, 0, 0), next_run)
        self.assertLess(next_run.weekday(), 5, next_run)  # Monday to Friday
        self.assertLessEqual(next_run - server_now, datetime.timedelta(days=4), next_run)

        # A one-off a day ahead (never due while the test runs) with only a min.
        later = server_now + datetime.timedelta(days=1)
        self.ok("put-scheduled-action", "--group", group_name, "--name", "cli-later",
                "--start-time", rfc3339(later), "--min", "1")

        # Human: group, name, recurrence or "once", next run time, min/max/desired ("-": left).
        lines = human_lines()
        self.assertEqual(len(lines), 2, lines)
        self.assertEqual(lines[0], [group_name, "cli-later", "once", rfc3339(later),
                                    "min/max/desired 1/-/-"])
        # (The weekday one may run meanwhile on the fast clock: its next run moves on.)
        self.assertEqual(lines[1][:3], [group_name, "cli-weekdays", "0 9 * * 1-5"])
        self.assertRegex(lines[1][3], r"^\d{4}-\d\d-\d\dT09:00:00Z$")
        self.assertEqual(lines[1][4:], ["min/max/desired 1/3/2"])

        self.assertEqual(self.ok("delete-scheduled-action", "--group", group_name, "cli-later"),
                         "deleted scheduled action cli-later of group %s\n" % group_name)
        self.assertEqual([a["scheduled_action_name"] for a in actions()], ["cli-weekdays"])
        self.ok("delete-scheduled-action", "--group", group_name, "cli-weekdays")
        self.assertEqual(self.ok("describe-scheduled-actions", "--group", group_name),
                         "no scheduled actions\n")
        # Deleting it again: the server's error.
        again = self.cli("delete-scheduled-action", "--group", group_name, "cli-weekdays")
        self.assertEqual(again.returncode, 1, again)
        self.assertIn("cli-weekdays", again.stderr)


if __name__ == "__main__":
    unittest.main()
