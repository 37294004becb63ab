#!/usr/bin/python3
"""Demo 3: the chart's KEDA trigger, evaluated against a running Prometheus.

The Helm chart (deploy/k8s/thingtank/values.yaml, key `keda`) ships a
ScaledObject whose prometheus trigger scales a consumer Deployment on a
ThingTank queue's depth. This demo takes that trigger as the chart has it
(query, threshold, activationThreshold, min/maxReplicaCount, pollingInterval),
creates the queue the query names, runs a producer whose rate steps up and
down, and plays KEDA + HPA: every pollingInterval it evaluates the query
against its own Prometheus (instant query, /api/v1/query) and sets the number
of consumers (threads of this script, each consuming --consumer-rate messages
per clock second, the stand-in for the Deployment's pods) to what KEDA's
formula gives. Afterwards it reads the query's series back with
/api/v1/query_range and plots metric and replicas.

The formula (KEDA's prometheus scaler, metricType AverageValue, the default;
the HPA it feeds computes ceil(currentReplicas * (value / currentReplicas) /
threshold), i.e. ceil(value / threshold)):

    value   = the query's result; an empty result counts as 0 (ignoreNullValues)
    if value <= activationThreshold:  replicas = minReplicaCount   (KEDA deactivates)
    else:     replicas = clamp(ceil(value / threshold), max(minReplicaCount, 1), maxReplicaCount)

Not modelled (so real replicas change later, never to other values): the
HPA's 10 % tolerance, its 300 s scale-down stabilization window and KEDA's
cooldownPeriod before going from 1 to 0.

Time: KEDA's pollingInterval and the producer's and consumers' rates are on
ThingTank's clock (--time-scale times faster than wall time), the queue's
gauges are scraped by Prometheus every second of wall time; the plot's x axis
is the ThingTank clock.

Run: tools/demo/keda_formula.py [--out DIR] [--quick] [--time-scale N] [--values FILE]
"""

import math
import os
import re
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import demo_common as dc  # noqa: E402

VALUES = os.path.join(dc.REPO, "deploy/k8s/thingtank/values.yaml")
# Used when the chart is not there (or has no keda block).
FALLBACK = {"query": 'sum(thingtank_queues_messages_visible{queue="jobs"})', "threshold": "10",
            "activationThreshold": "0", "minReplicaCount": 0, "maxReplicaCount": 10,
            "pollingInterval": 15, "cooldownPeriod": 60}


def keda_values(path):
    """The chart's keda trigger settings (and where they came from)."""
    try:
        with open(path) as f:
            text = f.read()
    except OSError:
        return dict(FALLBACK), "built-in fallback (no %s)" % path
    try:
        import yaml
        keda = (yaml.safe_load(text) or {}).get("keda") or {}
    except ImportError:
        keda = _keda_block(text)
    prom = keda.get("prometheus") or {}
    if not prom.get("query"):
        return dict(FALLBACK), "built-in fallback (no keda.prometheus.query in %s)" % path
    out = dict(FALLBACK)
    for key in ("minReplicaCount", "maxReplicaCount", "pollingInterval", "cooldownPeriod"):
        if key in keda:
            out[key] = keda[key]
    for key in ("query", "threshold", "activationThreshold"):
        if key in prom:
            out[key] = prom[key]
    return out, os.path.relpath(path, dc.REPO) if path.startswith(dc.REPO) else path


def _keda_block(text):
    """Without PyYAML: the scalars of `keda:` and `keda.prometheus:` (two-space indents)."""
    keda, prom, section = {}, {}, None
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        indent = len(line) - len(line.lstrip())
        if indent == 0:
            section = "keda" if line.startswith("keda:") else None
            continue
        if section is None:
            continue
        key, _, value = line.strip().partition(":")
        value = value.strip()
        if value.startswith(('"', "'")):
            value = value[1:-1]
        elif value.isdigit():
            value = int(value)
        if indent == 2:
            if key != "prometheus":
                keda[key] = value
        elif indent == 4 and key in ("query", "threshold", "activationThreshold", "serverAddress"):
            prom[key] = value
    keda["prometheus"] = prom
    return keda


def keda_replicas(value, threshold, activation, min_replicas, max_replicas):
    """KEDA's replica count for one evaluation of the query (see the module doc)."""
    if value <= activation:
        return min_replicas
    return min(max_replicas, max(max(min_replicas, 1), int(math.ceil(value / threshold))))


class Consumers:
    """N consumer threads (the Deployment's pods): each receives up to 10
    messages, works 1 / (rate x time scale) wall seconds on each, deletes them."""

    def __init__(self, d, queue, rate):
        self.d, self.queue, self.rate = d, queue, rate
        self.threads = []
        self.lock = threading.Lock()
        self.deleted = []
        self.errors = []

    def scale(self, n):
        while len(self.threads) > n:
            t, stop = self.threads.pop()
            stop.set()  # it finishes (deletes) the batch in hand
        while len(self.threads) < n:
            stop = threading.Event()
            t = threading.Thread(target=self._run, args=(stop,), daemon=True)
            t.start()
            self.threads.append((t, stop))

    def _run(self, stop):
        q = self.d.qpb
        work = 1.0 / (self.rate * self.d.args.time_scale)
        while not stop.is_set():
            try:
                r = self.d.queues.ReceiveMessages(q.ReceiveMessagesRequest(
                    queue_name=self.queue, max_number_of_messages=10,
                    wait_time=dc.duration(2)), timeout=dc.CALL_S)
                if not r.messages:
                    continue
                time.sleep(work * len(r.messages))
                d = self.d.queues.DeleteMessageBatch(q.DeleteMessageBatchRequest(
                    queue_name=self.queue, entries=[
                        q.DeleteMessageBatchRequestEntry(id=str(i), receipt_handle=m.receipt_handle)
                        for i, m in enumerate(r.messages)]), timeout=dc.CALL_S)
                with self.lock:
                    self.deleted.extend(r.messages[int(i)].body for i in d.successful)
                    self.errors.extend(f.code for f in d.failed)
            except dc.grpc.RpcError as e:
                with self.lock:
                    self.errors.append(str(e.code()))
                time.sleep(0.1)

    def stop_all(self):
        threads = [t for t, _ in self.threads]
        self.scale(0)
        for t in threads:
            t.join(timeout=dc.CALL_S)


def main():
    args = dc.parse_args(__doc__.splitlines()[0], normal_scale=5, quick_scale=15, extra=lambda p: (
        p.add_argument("--values", default=VALUES, help="the chart's values.yaml (default %s)" % VALUES),
        p.add_argument("--consumer-rate", type=float, default=1.0,
                       help="messages one consumer handles per clock second (default 1)")))
    k, source = keda_values(args.values)
    query = k["query"]
    threshold, activation = float(k["threshold"]), float(k["activationThreshold"])
    min_r, max_r, polling = int(k["minReplicaCount"]), int(k["maxReplicaCount"]), float(k["pollingInterval"])
    m = re.search(r'queue="([A-Za-z0-9_-]+)"', query)
    if not m:
        raise SystemExit("keda_formula: the query %r names no queue=\"...\" to create" % query)
    queue = m.group(1)
    # Producer rates in messages per clock second over clock-second phases:
    # idle, a steady load a few consumers keep up with, more than max_r can,
    # idle again until the backlog is gone and the replicas are back to min.
    unit = 0.5 if args.quick else 1.0
    steady = max(1.0, 0.3 * max_r * args.consumer_rate)
    peak = 1.2 * max_r * args.consumer_rate
    phases = [(0, 30 * unit, 0.0), (30 * unit, 210 * unit, steady), (210 * unit, 330 * unit, peak)]
    produce_end = phases[-1][1]
    scrape = "500ms" if args.quick else "1s"
    with dc.Demo("keda_formula", args, scrape_interval=scrape) as d:
        q = d.qpb
        d.queues.CreateQueue(q.CreateQueueRequest(queue_name=queue, attributes=q.QueueAttributes(
            visibility_timeout=dc.duration(600))), timeout=dc.CALL_S)
        consumers = Consumers(d, queue, args.consumer_rate)
        sent = []
        stop_producer = threading.Event()

        def produce():
            n = 0
            owed = 0.0
            last = d.clock.now() - d.t0
            while not stop_producer.is_set():
                now = d.clock.now() - d.t0
                if now >= produce_end:
                    return
                rate = next((r for lo, hi, r in phases if lo <= now < hi), 0.0)
                owed += rate * (now - last)
                last = now
                while owed >= 1:
                    batch = min(10, int(owed))
                    bodies = ["msg-%06d" % (n + i) for i in range(batch)]
                    d.queues.SendMessageBatch(q.SendMessageBatchRequest(queue_name=queue, entries=[
                        q.SendMessageBatchRequestEntry(id=str(i), message_body=b)
                        for i, b in enumerate(bodies)]), timeout=dc.CALL_S)
                    sent.extend(bodies)
                    n += batch
                    owed -= batch
                time.sleep(0.02)
        producer = threading.Thread(target=produce, daemon=True)
        producer.start()

        polls = []  # (clock minutes, value, replicas)

        def poll():
            result = d.prom.query(query)
            value = sum(v for _, v in result)  # empty: 0
            replicas = keda_replicas(value, threshold, activation, min_r, max_r)
            consumers.scale(replicas)
            polls.append((d.clock_minutes_now(), value, replicas))
            return replicas

        def counts():
            a = d.queues.GetQueueAttributes(q.GetQueueAttributesRequest(queue_name=queue),
                                            timeout=dc.CALL_S)
            return a.approximate_number_of_messages, a.approximate_number_of_messages_not_visible

        # KEDA's loop: one evaluation each pollingInterval of the clock, until
        # the producer is done, the queue is empty and the replicas are at min.
        deadline = time.monotonic() + (produce_end + 600 * unit) / args.time_scale + 60
        next_poll = d.t0
        try:
            while True:
                dc.wait_until(lambda: d.clock.now() >= next_poll, polling / args.time_scale + 30,
                              "the next poll")
                replicas = poll()
                next_poll += polling
                if (not producer.is_alive() and replicas == min_r and counts() == (0, 0)
                        and len(polls) >= 2 and polls[-2][2] == min_r):
                    break
                if time.monotonic() > deadline:
                    raise dc.DemoError("the backlog did not drain (last polls %s)" % polls[-3:])
        finally:
            stop_producer.set()
            producer.join(timeout=dc.CALL_S)
            consumers.stop_all()
        end_wall = time.time()
        metric = d.series(query, end_wall)
        final = counts()

    formula = [(t, keda_replicas(v, threshold, activation, min_r, max_r)) for t, v in metric]
    mismatched = [p for p in polls if keda_replicas(p[1], threshold, activation, min_r, max_r) != p[2]]
    peak_replicas = max(r for _, _, r in polls)
    lost = sorted(set(sent) - set(consumers.deleted))
    checks = {
        "replicas_follow_formula": not mismatched,
        "scaled_from_min": any(r > max(min_r, 1) for _, _, r in polls),
        "reached_max": peak_replicas == max_r,
        "back_to_min": polls[-1][2] == min_r,
        "no_message_lost": not lost and tuple(final) == (0, 0),
    }
    ok = all(checks.values())
    first_active = next((t for t, v, r in polls if r > 0), None)
    at_max = next((t for t, v, r in polls if r == max_r), None)
    back = next((t for t, v, r in reversed(polls) if r != min_r), None)

    def fmt(m):
        return "-" if m is None else "%.1f min (%.1f s wall)" % (m, m * 60 / args.time_scale)
    lines = [
        "KEDA trigger from %s:" % source,
        "  query: %s" % query,
        "  threshold %g, activationThreshold %g, minReplicaCount %d, maxReplicaCount %d, pollingInterval %g s "
        "(clock), cooldownPeriod %s s (not modelled)" % (threshold, activation, min_r, max_r, polling,
                                                       k["cooldownPeriod"]),
        "formula: value <= activationThreshold -> minReplicaCount; else "
        "clamp(ceil(value / threshold), max(minReplicaCount, 1), maxReplicaCount)",
        "producer (messages per clock second): %s; each replica consumes %g per clock second"
        % (", ".join("%g from %g s" % (r, lo) for lo, hi, r in phases), args.consumer_rate),
        "",
        "%d polls; replicas over time: %s" % (len(polls), " -> ".join(map(str, dc.transitions(r for _, _, r in polls)))),
        "  first replica:       %s" % fmt(first_active),
        "  %d replicas (max):    %s" % (max_r, fmt(at_max)),
        "  last above min:      %s" % fmt(back),
        "  peak query value:    %g" % max((v for _, v, _ in polls), default=0),
        "messages: sent %d, deleted %d (%d distinct), lost %d; consumer errors %d; queue at the end %d visible, %d in flight"
        % (len(sent), len(consumers.deleted), len(set(consumers.deleted)), len(lost), len(consumers.errors),
           final[0], final[1]),
        "",
        "checks: " + ", ".join("%s %s" % (k_, "ok" if v else "FAILED") for k_, v in checks.items()),
    ]
    png = d.outputs()[0]
    px, pv, pr = [p[0] for p in polls], [p[1] for p in polls], [p[2] for p in polls]
    dc.plot(png, "KEDA ScaledObject on ThingTank: %s" % query, [
        {"ylabel": "query value\n(messages)", "hlines": [(threshold, "threshold %g (per replica)" % threshold)],
         "lines": [
             {"x": [t for t, _ in metric], "y": [v for _, v in metric], "label": "query_range (Prometheus)",
              "style": {"color": "tab:blue"}},
             {"x": px, "y": pv, "label": "KEDA polls (instant query)",
              "style": {"color": "tab:red", "marker": "o", "markersize": 3, "linestyle": "none"}}]},
        {"ylabel": "replicas", "ylim": (-0.3, max_r + 1),
         "hlines": [(max_r, "maxReplicaCount %d" % max_r)],
         "lines": [
             {"x": [t for t, _ in formula], "y": [r for _, r in formula],
              "label": "formula on every sample", "style": {"color": "grey", "linewidth": 0.8}},
             {"x": px, "y": pr, "step": True, "label": "replicas at each poll (consumers run)",
              "style": {"color": "tab:purple", "linewidth": 2}}]},
    ], d)
    d.finish(lines, {
        "checks": checks, "source": source, "query": query, "threshold": threshold,
        "activation_threshold": activation, "min_replicas": min_r, "max_replicas": max_r,
        "polling_interval": polling, "polls": polls, "metric": metric, "mismatched": mismatched,
        "sent": len(sent), "deleted_distinct": len(set(consumers.deleted)), "lost": len(lost),
        "final_queue": list(final), "peak_replicas": peak_replicas,
    }, ok)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
