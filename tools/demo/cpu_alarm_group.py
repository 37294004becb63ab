#!/usr/bin/python3
"""Demo 1: the classic Auto Scaling group driven by a CloudWatch CPU alarm.

An Auto Scaling group of 1 to 2 simulated instances (launch configuration
"web", image ami-d0f89fb9, t2.micro, zones us-east-1a and us-east-1b), two
simple policies (scale_up +1, scale_down -1, cooldown 180 s) and two alarms on
the group's average CPUUtilization (AWS/EC2, dimension AutoScalingGroupName,
Average over 60 s periods, 2 evaluation periods): cpu-high > 70 % runs
scale_up, cpu-low < 40 % runs scale_down. The load is the simulated driver's
load model, set for the whole group with SetInstanceLoad (`thingtank compute
set-load --group`): 10 % (baseline), then 90 % until the group has had 2
instances in service for a while, then 10 % again. The group goes 1 -> 2 -> 1.

The simulated driver is used (not the process driver) because a real process'
CPU on this shared 2-core machine depends on whoever else is running; the load
model is what the instances report, sampled every 10 s of the clock and
published as AWS/EC2 CPUUtilization each minute, exactly as a real process'
/proc CPU would be.

Where the plotted series come from:
- load: what the script set (SetInstanceLoad), per instance, %;
- average CPU: CloudWatch, GetMetricStatistics AWS/EC2 CPUUtilization of the
  group, Average per minute (ThingTank's /metrics has no CPU gauge; the
  timestamps are ThingTank clock minutes, the minute's start);
- alarm state: Prometheus, thingtank_compute_alarm_in_alarm{alarm};
- instances: Prometheus, thingtank_compute_group_in_service_instances{group}
  and thingtank_compute_group_desired_capacity{group}.

Run: tools/demo/cpu_alarm_group.py [--out DIR] [--quick] [--time-scale N]
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import demo_common as dc  # noqa: E402

GROUP = "web-group"
LOW, HIGH = 10.0, 90.0
UP_THRESHOLD, DOWN_THRESHOLD = 70.0, 40.0


def main():
    args = dc.parse_args(__doc__.splitlines()[0], normal_scale=20, quick_scale=60)
    # Phases in clock minutes: baseline before the step up, time at 2 instances
    # before the step down, tail after the group is back to 1.
    baseline, hold, tail = (2, 2, 1) if args.quick else (5, 6, 5)
    # The scale-out takes ~4 clock minutes after the step (the minute in
    # progress, 2 periods, the launch); deadlines allow 5 times that.
    phase_deadline_min = 20
    scrape = "500ms" if args.quick else "1s"
    with dc.Demo("cpu_alarm_group", args, scrape_interval=scrape) as d:
        pb, T = d.cpb, dc.CALL_S
        d.asg.CreateLaunchConfiguration(pb.CreateLaunchConfigurationRequest(
            launch_configuration_name="web", image_id="ami-d0f89fb9", instance_type="t2.micro",
            load=pb.LoadModel(constant=pb.ConstantLoad(percent=LOW))), timeout=T)
        d.asg.CreateAutoScalingGroup(pb.CreateAutoScalingGroupRequest(
            auto_scaling_group_name=GROUP, launch_configuration_name="web", min_size=1, max_size=2,
            availability_zones=["us-east-1a", "us-east-1b"]), timeout=T)
        arns = {}
        for name, adjustment in (("scale_up", 1), ("scale_down", -1)):
            arns[name] = d.asg.PutScalingPolicy(pb.PutScalingPolicyRequest(
                auto_scaling_group_name=GROUP, policy_name=name,
                adjustment_type=pb.ADJUSTMENT_TYPE_CHANGE_IN_CAPACITY,
                scaling_adjustment=adjustment, cooldown=180), timeout=T).policy_arn
        dimension = [pb.Dimension(name="AutoScalingGroupName", value=GROUP)]
        for alarm, threshold, op, policy in (
                ("cpu-high", UP_THRESHOLD, pb.COMPARISON_OPERATOR_GREATER_THAN_THRESHOLD, "scale_up"),
                ("cpu-low", DOWN_THRESHOLD, pb.COMPARISON_OPERATOR_LESS_THAN_THRESHOLD, "scale_down")):
            d.cw.PutMetricAlarm(pb.PutMetricAlarmRequest(
                alarm_name=alarm, namespace="AWS/EC2", metric_name="CPUUtilization",
                dimensions=dimension, statistic=pb.STATISTIC_AVERAGE, period=60,
                evaluation_periods=2, threshold=threshold, comparison_operator=op,
                alarm_actions=[arns[policy]]), timeout=T)

        def group():
            return d.asg.DescribeAutoScalingGroups(pb.DescribeAutoScalingGroupsRequest(
                auto_scaling_group_names=[GROUP]), timeout=T).auto_scaling_groups[0]

        def in_service():
            return sum(1 for i in group().instances if i.lifecycle_state == "InService")

        loads = []  # (clock minutes, percent)

        def set_load(percent):
            d.ec2.SetInstanceLoad(pb.SetInstanceLoadRequest(
                auto_scaling_group_name=GROUP,
                load=pb.LoadModel(constant=pb.ConstantLoad(percent=percent))), timeout=T)
            loads.append((d.clock_minutes_now(), percent))
            dc.log("  %6.2f min  load %g %%" % (loads[-1][0], percent))

        def wait_phase(what, predicate):
            dc.wait_until(predicate, phase_deadline_min * 60 / args.time_scale + 30, what)
            m = d.clock_minutes_now()
            dc.log("  %6.2f min  %s" % (m, what))
            return m

        loads.append((0.0, LOW))
        wait_phase("1 instance in service", lambda: in_service() == 1)
        d.wait_clock_minutes(baseline, "the baseline phase")
        set_load(HIGH)
        at_two = wait_phase("2 instances in service", lambda: in_service() == 2)
        d.wait_clock_minutes(at_two + hold, "the high phase")
        set_load(LOW)
        at_one = wait_phase("back to 1 instance",
                            lambda: len(group().instances) == 1 and in_service() == 1)
        d.wait_clock_minutes(at_one + tail, "the tail")
        end_wall = dc.time.time()
        end_min = d.wall_minutes(end_wall)
        loads.append((end_min, LOW))

        # The series.
        in_service_s = d.series('thingtank_compute_group_in_service_instances{group="%s"}' % GROUP, end_wall)
        desired_s = d.series('thingtank_compute_group_desired_capacity{group="%s"}' % GROUP, end_wall)
        high_s = d.series('thingtank_compute_alarm_in_alarm{alarm="cpu-high"}', end_wall)
        low_s = d.series('thingtank_compute_alarm_in_alarm{alarm="cpu-low"}', end_wall)
        stats = d.cw.GetMetricStatistics(pb.GetMetricStatisticsRequest(
            namespace="AWS/EC2", metric_name="CPUUtilization", dimensions=dimension,
            start_time={"seconds": int(d.t0) - 120}, end_time={"seconds": int(d.clock.now()) + 60},
            period=60, statistics=[pb.STATISTIC_AVERAGE]), timeout=T)
        cpu = [(d.minutes(dc.timestamp_s(p.timestamp)), p.average) for p in stats.datapoints]
        activities = d.asg.DescribeScalingActivities(pb.DescribeScalingActivitiesRequest(
            auto_scaling_group_name=GROUP), timeout=T).activities
        acts = [{"start_min": d.minutes(dc.timestamp_s(a.start_time)),
                 "end_min": d.minutes(dc.timestamp_s(a.end_time)) if a.HasField("end_time") else None,
                 "status": a.status_code, "description": a.description, "cause": a.cause}
                for a in reversed(activities)]
        history = d.cw.DescribeAlarmHistory(pb.DescribeAlarmHistoryRequest(
            history_item_type=pb.HISTORY_ITEM_TYPE_STATE_UPDATE, max_records=100), timeout=T)
        alarm_changes = sorted((d.minutes(dc.timestamp_s(h.timestamp)), h.alarm_name, h.history_summary)
                               for h in history.alarm_history_items)

        seq = [int(v) for v in dc.transitions(int(v) for _, v in in_service_s) if v > 0]
        seq = dc.transitions(seq)
        up_at = loads[1][0]
        down_at = loads[2][0]
        launches = [a for a in acts if a["description"].startswith("Launching")]
        terminations = [a for a in acts if a["description"].startswith("Terminating")]

        def alarm_to(name, state, after):
            return next((m for m, a, summary in alarm_changes
                         if a == name and summary.endswith("to " + state) and m >= after), None)
        # Exact times from the APIs (alarm history, activities); the Prometheus
        # series show them up to a scrape interval (plus the query step) later.
        high_alarm_at = alarm_to("cpu-high", "ALARM", up_at)
        low_alarm_at = alarm_to("cpu-low", "ALARM", down_at)
        two_at = next((a["end_min"] for a in launches if "cpu-high" in a["cause"]), None)
        one_again_at = next((a["start_min"] for a in terminations if "cpu-low" in a["cause"]), None)
        seen_two = dc.first_time(in_service_s, lambda v: v == 2)
        seen_one = dc.first_time(in_service_s, lambda v: v == 1, after=seen_two or 0)

        def mean_cpu(lo, hi):
            vals = [v for m, v in cpu if lo <= m < hi]
            return sum(vals) / len(vals) if vals else None

        checks = {
            "in_service_sequence_1_2_1": seq == [1, 2, 1],
            "two_launches": len(launches) == 2,
            "one_termination": len(terminations) == 1,
            "scale_out_by_cpu_high": any("cpu-high" in a["cause"] for a in launches),
            "scale_in_by_cpu_low": any("cpu-low" in a["cause"] for a in terminations),
        }
        ok = all(checks.values())

        def fmt(m):
            return "-" if m is None else "%.1f min (%.1f s wall)" % (m, m * 60 / args.time_scale)
        lines = [
            "group %s: min 1, max 2; cpu-high: Average CPUUtilization > %g %% for 2 x 60 s -> scale_up +1; "
            "cpu-low: < %g %% for 2 x 60 s -> scale_down -1; cooldown 180 s" % (GROUP, UP_THRESHOLD, DOWN_THRESHOLD),
            "in-service instances over time: %s" % " -> ".join(map(str, seq)),
            "",
            "when (ThingTank clock since start):",
            "  load %g %% -> %g %%:           %s" % (LOW, HIGH, fmt(up_at)),
            "  cpu-high in ALARM:          %s" % fmt(high_alarm_at),
            "  2 instances in service:     %s (the launch's activity ended)" % fmt(two_at),
            "  load %g %% -> %g %%:           %s" % (HIGH, LOW, fmt(down_at)),
            "  cpu-low in ALARM:           %s" % fmt(low_alarm_at),
            "  back to 1 in service:       %s (the termination's activity started)" % fmt(one_again_at),
            "  (in Prometheus: 2 in service from %s, 1 again from %s: scrape interval %s wall)"
            % (fmt(seen_two), fmt(seen_one), scrape),
            "",
            "average CPU (CloudWatch, per minute): baseline %s %%, high phase (after the first full minute) %s %%, "
            "after the step down %s %%" % tuple(
                "-" if v is None else "%.1f" % v
                for v in (mean_cpu(0, up_at - 1), mean_cpu(up_at + 1, down_at - 1), mean_cpu(down_at + 1, end_min))),
            "scaling activities:",
        ] + ["  %6.2f min %-10s %s; cause: %s" % (a["start_min"], a["status"], a["description"],
                                                 a["cause"].split(".  ")[0]) for a in acts] + [
            "alarm state changes:",
        ] + ["  %6.2f min %-8s %s" % c for c in alarm_changes] + [
            "",
            "checks: " + ", ".join("%s %s" % (k, "ok" if v else "FAILED") for k, v in checks.items()),
        ]

        png = d.outputs()[0]
        vlines = [(up_at, "load up"), (down_at, "load down")]
        dc.plot(png, "Auto Scaling group on a CPU alarm: %s goes %s" % (GROUP, " -> ".join(map(str, seq))), [
            {"ylabel": "CPU %", "ylim": (0, 105), "vlines": vlines,
             "hlines": [(UP_THRESHOLD, "cpu-high > %g" % UP_THRESHOLD),
                        (DOWN_THRESHOLD, "cpu-low < %g" % DOWN_THRESHOLD)],
             "lines": [
                 {"x": [m for m, _ in loads], "y": [p for _, p in loads], "step": True,
                  "label": "load set per instance", "style": {"color": "tab:orange", "linestyle": "--"}},
                 {"x": [m for m, _ in cpu] + ([cpu[-1][0] + 1] if cpu else []),
                  "y": [v for _, v in cpu] + ([cpu[-1][1]] if cpu else []), "step": True,
                  "label": "group average CPUUtilization (CloudWatch, 1 min)", "style": {"color": "tab:blue"}}]},
            {"ylabel": "alarm in ALARM", "ylim": (-0.1, 1.3), "vlines": vlines, "lines": [
                {"x": [m for m, _ in high_s], "y": [v for _, v in high_s], "step": True,
                 "label": "cpu-high", "style": {"color": "tab:red"}},
                {"x": [m for m, _ in low_s], "y": [v * 0.95 for _, v in low_s], "step": True,
                 "label": "cpu-low (drawn at 0.95)", "style": {"color": "tab:green"}}]},
            {"ylabel": "instances", "ylim": (0, 2.6), "vlines": vlines, "lines": [
                {"x": [m for m, _ in in_service_s], "y": [v for _, v in in_service_s], "step": True,
                 "label": "in service (Prometheus)", "style": {"color": "tab:purple", "linewidth": 2}},
                {"x": [m for m, _ in desired_s], "y": [v + 0.05 for _, v in desired_s], "step": True,
                 "label": "desired (+0.05)", "style": {"color": "grey", "linestyle": "--"}}]},
        ], d)
        d.finish(lines, {
            "checks": checks, "in_service_sequence": seq, "activities": acts,
            "alarm_changes": alarm_changes, "loads": loads, "cpu": cpu,
            "in_service": in_service_s, "events": {
                "load_up": up_at, "cpu_high_alarm": high_alarm_at, "two_in_service": two_at,
                "load_down": down_at, "cpu_low_alarm": low_alarm_at, "one_in_service": one_again_at},
        }, ok)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
