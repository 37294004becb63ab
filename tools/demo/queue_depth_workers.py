#!/usr/bin/python3
"""Demo 2: queue depth drives a group of worker processes (backlog per instance).

A queue "jobs" and an Auto Scaling group "workers" of 1 to 4 `process`
instances: `thingtank serve --compute-images FILE` maps the image
ami-demo-worker to tools/demo/queue_worker.py, and the launch configuration
asks for the process driver with the gateway's address and the queue name as
user data, so each instance is a real child process consuming the queue
(receive, work WORK_SECONDS of wall time per message, DeleteMessageBatch).

The policy is AWS's documented recipe for SQS workers: target tracking on a
customized metric, the queue's AWS/SQS ApproximateNumberOfMessagesVisible
(published by the queues service once a clock minute) divided by the group's
InService instances. ThingTank does that division itself (`per_instance`: each
minute compute publishes ThingTank/AutoScaling
ApproximateNumberOfMessagesVisiblePerInstance and the policy's two managed
alarms watch it): AlarmHigh (above the target 3 of 3 minutes) and AlarmLow
(below 90 % of it 15 of 15 minutes) set the capacity to
ceil(in-service x backlog-per-instance / target) within min and max.

The producer sends a burst; the group scales out, the backlog drains, the
group scales back in to 1. No message may be lost: every body sent must have
been deleted by some worker (their logs), and the queue must end empty.

Series: backlog (thingtank_queues_messages_visible and _in_flight), instances
(thingtank_compute_group_in_service_instances, _desired_capacity) and
throughput (rate of thingtank_queues_queue_messages_deleted_total, messages per
wall second) from Prometheus; backlog per instance from CloudWatch
(GetMetricStatistics of the per-instance series, ThingTank clock minutes).

Run: tools/demo/queue_depth_workers.py [--out DIR] [--quick] [--time-scale N]
"""

import glob
import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import demo_common as dc  # noqa: E402

GROUP, QUEUE, POLICY = "workers", "jobs", "backlog-per-instance"
IMAGE = "ami-demo-worker"
METRIC = "ApproximateNumberOfMessagesVisible"


def main():
    args = dc.parse_args(__doc__.splitlines()[0], normal_scale=30, quick_scale=60, extra=lambda p: (
        p.add_argument("--messages", type=int, default=None, help="the burst (default 600, --quick 400)"),
        p.add_argument("--work-seconds", type=float, default=0.1,
                       help="wall seconds of work per message in a worker (default 0.1)"),
        p.add_argument("--target", type=float, default=100, help="backlog per instance target (default 100)"),
        p.add_argument("--max-size", type=int, default=4, help="the group's max size (default 4)")))
    messages = args.messages or (300 if args.quick else 600)
    baseline, tail = (1, 1) if args.quick else (3, 3)  # clock minutes before the burst, after scale-in
    work_dir = tempfile.mkdtemp(prefix="thingtank-demo-workers-")
    log_dir = os.path.join(work_dir, "logs")
    os.makedirs(log_dir)
    images = os.path.join(work_dir, "images.json")
    with open(images, "w") as f:
        json.dump({"images": {IMAGE: {
            "command": [dc.DEBIAN_PYTHON, os.path.join(dc.HERE, "queue_worker.py")],
            "env": {"PY_GEN_DIR": os.path.abspath(dc.PY_GEN), "WORK_SECONDS": str(args.work_seconds),
                    "DEMO_LOG_DIR": log_dir, "PYTHONDONTWRITEBYTECODE": "1"}}}}, f)
    scrape = "500ms" if args.quick else "1s"
    # A scale-out shows ~4 clock minutes after the burst; scale-in 15 minutes
    # after the backlog is gone; draining takes messages / (workers x rate).
    deadline_s = lambda clock_min: clock_min * 60 / args.time_scale + 60  # noqa: E731
    with dc.Demo("queue_depth_workers", args, serve_args=["--compute-images", images],
                 scrape_interval=scrape) as d:
        pb, q, T = d.cpb, d.qpb, dc.CALL_S
        d.queues.CreateQueue(q.CreateQueueRequest(queue_name=QUEUE, attributes=q.QueueAttributes(
            visibility_timeout=dc.duration(600))), timeout=T)
        d.asg.CreateLaunchConfiguration(pb.CreateLaunchConfigurationRequest(
            launch_configuration_name="worker", image_id=IMAGE, instance_type="t2.micro",
            driver=pb.DRIVER_PROCESS, user_data=("%s %s" % (d.server.endpoint, QUEUE)).encode()),
            timeout=T)
        d.asg.CreateAutoScalingGroup(pb.CreateAutoScalingGroupRequest(
            auto_scaling_group_name=GROUP, launch_configuration_name="worker", min_size=1,
            max_size=args.max_size, availability_zones=["us-east-1a", "us-east-1b"]), timeout=T)
        policy = d.asg.PutScalingPolicy(pb.PutScalingPolicyRequest(
            auto_scaling_group_name=GROUP, policy_name=POLICY,
            policy_type=pb.POLICY_TYPE_TARGET_TRACKING_SCALING,
            target_tracking_configuration=pb.TargetTrackingConfiguration(
                target_value=args.target,
                customized_metric_specification=pb.CustomizedMetricSpecification(
                    namespace="AWS/SQS", metric_name=METRIC,
                    dimensions=[pb.Dimension(name="QueueName", value=QUEUE)],
                    statistic=pb.STATISTIC_AVERAGE, per_instance=True))), timeout=T)

        def group():
            return d.asg.DescribeAutoScalingGroups(pb.DescribeAutoScalingGroupsRequest(
                auto_scaling_group_names=[GROUP]), timeout=T).auto_scaling_groups[0]

        def in_service():
            return sum(1 for i in group().instances if i.lifecycle_state == "InService")

        def queue_counts():
            a = d.queues.GetQueueAttributes(q.GetQueueAttributesRequest(queue_name=QUEUE), timeout=T)
            return a.approximate_number_of_messages, a.approximate_number_of_messages_not_visible

        def mark(what):
            m = d.clock_minutes_now()
            dc.log("  %6.2f min  %s" % (m, what))
            return m

        dc.wait_until(lambda: in_service() == 1, deadline_s(5), "the first worker in service")
        # The worker process is up when it has logged its pid.
        dc.wait_until(lambda: glob.glob(os.path.join(log_dir, "*.log")), 30, "the first worker's log")
        mark("1 worker in service")
        d.wait_clock_minutes(baseline, "the baseline")
        bodies = ["job-%05d" % i for i in range(messages)]
        burst_at = mark("burst of %d messages" % messages)
        for i in range(0, messages, 10):
            r = d.queues.SendMessageBatch(q.SendMessageBatchRequest(queue_name=QUEUE, entries=[
                q.SendMessageBatchRequestEntry(id="e%d" % j, message_body=b)
                for j, b in enumerate(bodies[i:i + 10])]), timeout=T)
            if r.failed:
                raise dc.DemoError("SendMessageBatch failed: %s" % r.failed)
        burst_end = mark("burst sent")
        most = [1]

        def scaled_out():
            most[0] = max(most[0], in_service())
            return most[0] > 1
        dc.wait_until(scaled_out, deadline_s(15), "the group to scale out", interval=0.1)
        out_at = mark("%d workers in service" % most[0])

        def drained():
            most[0] = max(most[0], in_service())
            return queue_counts() == (0, 0)
        dc.wait_until(drained, deadline_s(10) + messages * args.work_seconds, "the backlog to drain",
                      interval=0.1)
        drained_at = mark("queue empty (peak %d workers)" % most[0])
        dc.wait_until(lambda: len(group().instances) == 1 and in_service() == 1, deadline_s(25),
                      "the group to scale back in to 1", interval=0.1)
        in_at = mark("back to 1 worker")
        d.wait_clock_minutes(in_at + tail, "the tail")
        end_wall = dc.time.time()

        visible = d.series('thingtank_queues_messages_visible{queue="%s"}' % QUEUE, end_wall)
        in_flight = d.series('thingtank_queues_messages_in_flight{queue="%s"}' % QUEUE, end_wall)
        window = "%gs" % max(4 * d.step_s(), 4)
        throughput = d.series('rate(thingtank_queues_queue_messages_deleted_total{queue="%s"}[%s])'
                              % (QUEUE, window), end_wall)
        in_service_s = d.series('thingtank_compute_group_in_service_instances{group="%s"}' % GROUP, end_wall)
        desired_s = d.series('thingtank_compute_group_desired_capacity{group="%s"}' % GROUP, end_wall)
        deleted_total = sum(v for _, v in d.prom.query(
            'thingtank_queues_queue_messages_deleted_total{queue="%s"}' % QUEUE))
        sent_total = sum(v for _, v in d.prom.query(
            'thingtank_queues_queue_messages_sent_total{queue="%s"}' % QUEUE))
        per_instance = d.cw.GetMetricStatistics(pb.GetMetricStatisticsRequest(
            namespace="ThingTank/AutoScaling", metric_name=METRIC + "PerInstance",
            dimensions=[pb.Dimension(name="AutoScalingGroupName", value=GROUP),
                        pb.Dimension(name="PolicyName", value=POLICY)],
            start_time={"seconds": int(d.t0) - 120}, end_time={"seconds": int(d.clock.now()) + 60},
            period=60, statistics=[pb.STATISTIC_AVERAGE]), timeout=T)
        per_instance_s = [(d.minutes(dc.timestamp_s(p.timestamp)), p.average) for p in per_instance.datapoints]
        activities = d.asg.DescribeScalingActivities(pb.DescribeScalingActivitiesRequest(
            auto_scaling_group_name=GROUP), timeout=T).activities
        acts = [{"start_min": d.minutes(dc.timestamp_s(a.start_time)),
                 "end_min": d.minutes(dc.timestamp_s(a.end_time)) if a.HasField("end_time") else None,
                 "status": a.status_code, "description": a.description, "cause": a.cause}
                for a in reversed(activities)]
        final_counts = queue_counts()
    # The server has stopped (SIGTERM stops its instances): read the workers' logs.
    deleted, pids, failures, stopped = [], [], [], 0
    for path in sorted(glob.glob(os.path.join(log_dir, "*.log"))):
        with open(path) as f:
            for line in f:
                if line.startswith("deleted "):
                    deleted.append(line.split(None, 1)[1].strip())
                elif line.startswith("pid "):
                    pids.append(int(line.split()[1]))
                elif line.startswith("delete failed"):
                    failures.append(line.strip())
                elif line.startswith("stopped"):
                    stopped += 1
    leftover = [p for p in pids if _is_our_worker(p)]
    for p in leftover:  # started by our server, which should have stopped them
        os.kill(p, 9)
    unique = set(deleted)
    lost = sorted(set(bodies) - unique)
    workers = len(pids)
    seq = dc.transitions(int(v) for _, v in in_service_s if v > 0)
    checks = {
        "no_message_lost": not lost,
        "queue_empty": tuple(final_counts) == (0, 0),
        "scaled_above_1": most[0] > 1 and max(seq) > 1,
        "back_to_1": seq[-1] == 1,
        "workers_stopped": not leftover,
    }
    ok = all(checks.values())
    scale_outs = [a for a in acts if "AlarmHigh" in a["cause"]]
    scale_ins = [a for a in acts if "AlarmLow" in a["cause"]]
    peak_rate = max((v for _, v in throughput), default=0.0)

    def fmt(m):
        return "-" if m is None else "%.1f min (%.1f s wall)" % (m, m * 60 / args.time_scale)
    lines = [
        "group %s: 1..%d process instances running tools/demo/queue_worker.py (%g s of work per message); "
        "target tracking %s: %s/%s per InService instance, target %g"
        % (GROUP, args.max_size, args.work_seconds, POLICY, "AWS/SQS", METRIC, args.target),
        "in-service instances over time: %s (peak %d); %d worker processes started"
        % (" -> ".join(map(str, seq)), max(seq), workers),
        "",
        "when (ThingTank clock since start):",
        "  burst of %d messages:       %s to %s" % (messages, fmt(burst_at), fmt(burst_end)),
        "  scaled out (> 1 in service): %s" % fmt(out_at),
        "  queue empty:                %s" % fmt(drained_at),
        "  back to 1 in service:       %s" % fmt(in_at),
        "  peak throughput:            %.1f messages/s (wall), %.0f per clock minute"
        % (peak_rate, peak_rate * 60 / args.time_scale),
        "",
        "messages: sent %d (queue counter %d), deleted by workers %d (%d distinct; queue counter %d), "
        "lost %d, deleted twice %d, delete failures %d; queue at the end: %d visible, %d in flight"
        % (messages, sent_total, len(deleted), len(unique), deleted_total, len(lost),
           len(deleted) - len(unique), len(failures), final_counts[0], final_counts[1]),
        "scaling activities:",
    ] + ["  %6.2f min %-10s %s; cause: %s" % (a["start_min"], a["status"], a["description"],
                                             a["cause"].split(".  ")[0]) for a in acts] + [
        "",
        "checks: " + ", ".join("%s %s" % (k, "ok" if v else "FAILED") for k, v in checks.items()),
    ]
    vlines = [(burst_at, "burst"), (drained_at, "queue empty")]
    png = d.outputs()[0]
    dc.plot(png, "Queue depth drives workers: %d messages, group %s" % (messages, " -> ".join(map(str, seq))), [
        {"ylabel": "messages", "vlines": vlines, "lines": [
            {"x": [m for m, _ in visible], "y": [v for _, v in visible],
             "label": "visible (Prometheus)", "style": {"color": "tab:blue"}},
            {"x": [m for m, _ in in_flight], "y": [v for _, v in in_flight],
             "label": "in flight", "style": {"color": "tab:cyan"}}]},
        {"ylabel": "backlog per\ninstance", "vlines": vlines,
         "hlines": [(args.target, "target %g" % args.target), (0.9 * args.target, "90 % of target (scale-in)")],
         "lines": [{"x": [m for m, _ in per_instance_s] + ([per_instance_s[-1][0] + 1] if per_instance_s else []),
                    "y": [v for _, v in per_instance_s] + ([per_instance_s[-1][1]] if per_instance_s else []),
                    "step": True, "label": "%sPerInstance (CloudWatch, 1 min)" % METRIC,
                    "style": {"color": "tab:orange"}}]},
        {"ylabel": "instances", "ylim": (0, args.max_size + 0.6), "vlines": vlines, "lines": [
            {"x": [m for m, _ in in_service_s], "y": [v for _, v in in_service_s], "step": True,
             "label": "in service (Prometheus)", "style": {"color": "tab:purple", "linewidth": 2}},
            {"x": [m for m, _ in desired_s], "y": [v + 0.05 for _, v in desired_s], "step": True,
             "label": "desired (+0.05)", "style": {"color": "grey", "linestyle": "--"}}]},
        {"ylabel": "deleted\nmessages/s (wall)", "vlines": vlines, "lines": [
            {"x": [m for m, _ in throughput], "y": [v for _, v in throughput],
             "label": "rate(deleted_total[%s])" % window, "style": {"color": "tab:green"}}]},
    ], d)
    d.finish(lines, {
        "checks": checks, "in_service_sequence": seq, "peak_in_service": max(seq),
        "messages_sent": messages, "queue_sent_total": sent_total, "deleted": len(deleted),
        "deleted_distinct": len(unique), "queue_deleted_total": deleted_total, "lost": len(lost),
        "lost_bodies": lost[:20], "final_queue": list(final_counts), "workers_started": workers,
        "activities": acts, "scale_outs": len(scale_outs), "scale_ins": len(scale_ins),
        "events": {"burst": burst_at, "scaled_out": out_at, "drained": drained_at, "back_to_1": in_at},
        "peak_throughput_per_wall_s": peak_rate,
    }, ok)
    if ok:
        dc.shutil.rmtree(work_dir, ignore_errors=True)
    else:
        dc.log("worker logs kept in %s" % log_dir)
    return 0 if ok else 1


def _is_our_worker(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return b"queue_worker.py" in f.read()
    except OSError:
        return False


if __name__ == "__main__":
    sys.exit(main())
