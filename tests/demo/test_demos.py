#!/usr/bin/python3
"""The autoscaling demos (tools/demo/) in their fast mode (--quick), each with
its own `thingtank serve` and Prometheus, asserting what each must show:

- cpu_alarm_group: the group's in-service count goes 1 -> 2 -> 1, the launch
  caused by the cpu-high alarm, the termination by cpu-low, in that order
  after the load steps, with CloudWatch's average CPU at the loads set;
- queue_depth_workers: the group of process workers scaled above 1 and back to
  1 by the target tracking alarms; every message sent was deleted by a worker,
  the queue ends empty;
- keda_formula: the query is the chart's; every poll's replica count is
  KEDA's formula of the value Prometheus gave (recomputed here), it reached
  maxReplicaCount and came back to minReplicaCount; no message lost;
- each wrote a valid PNG of nonzero size and a text summary.

Needs Debian's prometheus and python3-matplotlib (the demos say so when
missing). Run: /usr/bin/python3 -m unittest -v tests/demo/test_demos.py
"""

import json
import math
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import unittest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEMO_DIR = os.path.join(REPO, "tools", "demo")
PYTHON = "/usr/bin/python3"
DEMO_DEADLINE_S = 240  # each quick demo takes 15-30 s here


def png_size(path):
    """(width, height) of a PNG file, or None if it is not one."""
    with open(path, "rb") as f:
        head = f.read(33)
    if len(head) < 33 or head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
        return None
    return struct.unpack(">II", head[16:24])


def chart_query():
    """keda.prometheus.query of the chart's values.yaml, or None without the chart."""
    path = os.path.join(REPO, "deploy/k8s/thingtank/values.yaml")
    try:
        with open(path) as f:
            text = f.read()
    except OSError:
        return None
    block = re.search(r"^keda:\n((?:[ #].*\n|\n)*)", text, re.M)
    if not block:
        return None
    m = re.search(r"^\s+query:\s*(.+?)\s*$", block.group(1), re.M)
    if not m:
        return None
    q = m.group(1)
    return q[1:-1] if q[:1] in "\"'" and q[-1:] == q[:1] else q


class DemoTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        missing = [p for p in ("prometheus",) if shutil.which(p) is None]
        probe = subprocess.run([PYTHON, "-c", "import matplotlib, grpc"], capture_output=True)
        if probe.returncode != 0:
            missing.append("python3-matplotlib/python3-grpcio")
        if missing:
            raise AssertionError("the demos need Debian's %s (apt-get install prometheus "
                                 "python3-matplotlib)" % ", ".join(missing))
        cls.out = tempfile.mkdtemp(prefix="thingtank-demo-test-")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.out, ignore_errors=True)

    def run_demo(self, name):
        out = os.path.join(self.out, name)
        try:
            p = subprocess.run([PYTHON, os.path.join(DEMO_DIR, name + ".py"), "--quick", "--out", out],
                               capture_output=True, text=True, timeout=DEMO_DEADLINE_S)
        except subprocess.TimeoutExpired as e:
            self.fail("%s did not finish within %d s:\n%s\n%s" % (name, DEMO_DEADLINE_S, e.stdout, e.stderr))
        report = "%s exited %d\nstdout:\n%s\nstderr:\n%s" % (name, p.returncode, p.stdout[-6000:],
                                                            p.stderr[-6000:])
        self.assertEqual(p.returncode, 0, report)
        png, txt, js = (os.path.join(out, name + ext) for ext in (".png", ".txt", ".json"))
        for path in (png, txt, js):
            self.assertIn(path, p.stdout, "the demo prints where its outputs are")
        size = png_size(png)
        self.assertIsNotNone(size, "%s is not a PNG" % png)
        self.assertGreater(size[0], 0)
        self.assertGreater(size[1], 0)
        self.assertGreater(os.path.getsize(png), 10000)
        with open(txt) as f:
            self.assertIn("%s: OK" % name, f.read())
        with open(js) as f:
            data = json.load(f)
        self.assertTrue(data["ok"], report)
        self.assertTrue(all(data["checks"].values()), data["checks"])
        return data

    def test_cpu_alarm_group(self):
        data = self.run_demo("cpu_alarm_group")
        self.assertEqual(data["in_service_sequence"], [1, 2, 1])
        acts = data["activities"]
        launches = [a for a in acts if a["description"].startswith("Launching")]
        terminations = [a for a in acts if a["description"].startswith("Terminating")]
        self.assertEqual(len(launches), 2, acts)
        self.assertEqual(len(terminations), 1, acts)
        self.assertIn("a user request created an AutoScalingGroup", launches[0]["cause"])
        self.assertIn("alarm cpu-high in state ALARM triggered policy scale_up changing the desired "
                      "capacity from 1 to 2", launches[1]["cause"])
        self.assertIn("alarm cpu-low in state ALARM triggered policy scale_down changing the desired "
                      "capacity from 2 to 1", terminations[0]["cause"])
        self.assertTrue(all(a["status"] == "Successful" for a in acts), acts)
        e = data["events"]
        order = ["load_up", "cpu_high_alarm", "two_in_service", "load_down", "cpu_low_alarm",
                 "one_in_service"]
        times = [e[k] for k in order]
        self.assertNotIn(None, times, e)
        self.assertEqual(times, sorted(times), e)
        # The alarm fires 2 to 4 clock minutes after the step: the minute in
        # progress, then two whole periods above the threshold.
        self.assertGreaterEqual(e["cpu_high_alarm"] - e["load_up"], 1.0, e)
        self.assertLessEqual(e["cpu_high_alarm"] - e["load_up"], 4.5, e)
        cpus = [v for _, v in data["cpu"]]
        self.assertIn(10.0, cpus)
        self.assertIn(90.0, cpus)
        self.assertTrue(all(10.0 <= v <= 90.0 for v in cpus), cpus)

    def test_queue_depth_workers(self):
        data = self.run_demo("queue_depth_workers")
        sent = data["messages_sent"]
        self.assertGreater(sent, 0)
        self.assertEqual(data["lost"], 0, data["lost_bodies"])
        self.assertEqual(data["deleted_distinct"], sent)
        self.assertEqual(data["queue_sent_total"], sent)
        self.assertGreaterEqual(data["queue_deleted_total"], sent)
        self.assertEqual(data["final_queue"], [0, 0])
        self.assertGreater(data["peak_in_service"], 1)
        seq = data["in_service_sequence"]
        self.assertEqual(seq[0], 1, seq)
        self.assertEqual(seq[-1], 1, seq)
        self.assertGreaterEqual(data["scale_outs"], 1)
        self.assertGreaterEqual(data["scale_ins"], 1)
        self.assertGreaterEqual(data["workers_started"], data["peak_in_service"])
        self.assertGreater(data["peak_throughput_per_wall_s"], 0)

    def test_keda_formula(self):
        data = self.run_demo("keda_formula")
        expected = chart_query()
        if expected is not None:
            self.assertEqual(data["query"], expected)
            self.assertEqual(data["source"], "deploy/k8s/thingtank/values.yaml")
        th, act = data["threshold"], data["activation_threshold"]
        lo, hi = data["min_replicas"], data["max_replicas"]

        def keda(value):  # KEDA (AverageValue) + HPA: ceil(value / threshold), clamped
            if value <= act:
                return lo
            return min(hi, max(max(lo, 1), math.ceil(value / th)))
        polls = data["polls"]
        self.assertGreaterEqual(len(polls), 5)
        for t, value, replicas in polls:
            self.assertEqual(replicas, keda(value), "poll at %.2f min: value %g" % (t, value))
        self.assertEqual(data["mismatched"], [])
        replicas = [r for _, _, r in polls]
        self.assertEqual(replicas[0], lo)
        self.assertEqual(replicas[-1], lo)
        self.assertEqual(max(replicas), hi)
        self.assertTrue(any(lo < r < hi for r in replicas), replicas)
        self.assertTrue(data["metric"], "the query_range series is empty")
        self.assertEqual(data["lost"], 0)
        self.assertEqual(data["deleted_distinct"], data["sent"])
        self.assertEqual(data["final_queue"], [0, 0])


if __name__ == "__main__":
    unittest.main()
