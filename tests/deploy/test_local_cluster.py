"""The chart's rendered configuration, run as a cluster-shaped set of local processes.

deploy/k8s/local_run.py renders deploy/k8s/thingtank with its default values (microservice
mode, API keys on), starts every StatefulSet and Deployment container as its own
`thingtank serve` with the rendered args and env (only the rewrites its docstring lists), the
gateway in front, runs the rendered probes, and a real Prometheus (Debian's) with the scrape
configuration the pods' prometheus.io/* annotations imply. Checked here:

- every Prometheus target is up: one per workload (gateway, compute, objects, tables, streams,
  queues, wamp), labelled kubernetes_pod_name / service, on the pod's metrics port;
- what ran is what was rendered: each process's /proc cmdline and environ are the rendered
  args and env with only the documented rewrites; the files of the Secret and ConfigMap
  volumes hold the rendered contents; --backends and --gateway-address reach the right pods;
- key series: up, thingtank_build_info and grpc_server_started_total of every service, start
  series of each service, thingtank_queues_messages_visible / _in_flight after a queue round
  trip, thingtank_streams_open_shards after a CreateStream, thingtank_wamp_sessions while a WAMP
  session is open, and each backend's grpc_server_handled_total for a call made through the
  gateway;
- authentication: without a key and with a wrong secret UNAUTHENTICATED, the rendered admin key
  (and the services' key) work;
- the CLI: prints the gateway, the admin key id (not its secret) and the Prometheus URL, and on
  Ctrl-C stops every child (exit 0 each) and removes its working directory;
- everything stops cleanly (every process exits 0), and the whole test stays under 60 s.

helm (deploy/k8s/tools.sh) and prometheus (apt-get install prometheus; tools/setup.sh) missing
fail the test with a message saying so; nothing is skipped.
"""

import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
import unittest
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))
SCRIPT = os.path.join(REPO, "deploy", "k8s", "local_run.py")
for path in (os.path.join(REPO, "deploy", "k8s"), os.path.join(REPO, "tests", "python"),
             os.path.join(REPO, "tests", "wamp")):
    if path not in sys.path:
        sys.path.insert(0, path)

import grpc  # noqa: E402

import local_run  # noqa: E402
import thingtank_testing as tt  # noqa: E402

SERVICES = ["compute", "objects", "tables", "streams", "queues", "wamp"]
WORKLOADS = ["gateway"] + SERVICES
DEADLINE_S = 20    # the longest any one poll below waits
T = tt.CALL_DEADLINE_S
STARTED = time.monotonic()


def setUpModule():
    missing = local_run.tools_missing()
    if missing:
        raise AssertionError("cannot run the local cluster, missing: " + "; ".join(missing))
    tt.require_build()


def poll(predicate, what, timeout=DEADLINE_S):
    deadline = time.monotonic() + timeout
    last = None
    while True:
        last = predicate()
        if last:
            return last
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.1)


def auth(key_id, secret):
    return (("authorization", f"ApiKey {key_id}:{secret}"),)


def children(pid):
    """The pids whose parent is pid."""
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    stat = f.read()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                out.append(int(entry))
    return out


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


class CliTest(unittest.TestCase):
    """`local_run.py` as a user runs it: the printed addresses, then Ctrl-C."""

    def test_cli_prints_the_addresses_and_stops_every_child_on_ctrl_c(self):
        proc = subprocess.Popen([sys.executable, SCRIPT], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, start_new_session=True)
        lines, err = queue.Queue(), []
        threading.Thread(target=lambda: [lines.put(ln) for ln in proc.stdout] + [lines.put(None)],
                         daemon=True).start()
        threading.Thread(target=lambda: err.extend(proc.stderr), daemon=True).start()
        out = []
        try:
            deadline = time.monotonic() + 60
            while not out or not out[-1].startswith("running;"):
                try:
                    line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
                except queue.Empty:
                    self.fail(f"the script printed no 'running;' line within 60 s:\n{''.join(out)}{''.join(err)}")
                self.assertIsNotNone(line, f"the script ended:\n{''.join(out)}{''.join(err)}")
                out.append(line)
            text = "".join(out)
            gateway = re.search(r"^gateway: (127\.0\.0\.1:\d+)$", text, re.M).group(1)
            m = re.search(r"^admin API key id: (\S+) \(its secret: the line '(\S+)' of (\S+)\)$", text, re.M)
            self.assertIsNotNone(m, text)
            key_id, keys_file = m.group(1), m.group(3)
            prometheus = re.search(r"^prometheus: (http://127\.0\.0\.1:\d+)$", text, re.M).group(1)
            workdir = re.search(r"^workdir: (\S+) \(removed at exit\)$", text, re.M).group(1)
            self.assertTrue(keys_file.startswith(workdir + "/"), keys_file)
            with open(keys_file) as f:
                secret = next(ln.split()[1] for ln in f if ln.split() and ln.split()[0] == key_id)
            self.assertEqual(key_id, "admin")
            # The key is usable; its secret was never printed.
            with grpc.insecure_channel(gateway) as channel:
                stub = tt.queues_pb2_grpc.QueuesServiceStub(channel)
                stub.ListQueues(tt.queues_pb2.ListQueuesRequest(), metadata=auth(key_id, secret), timeout=T)
                self.assertEqual(tt.call_error(stub.ListQueues, tt.queues_pb2.ListQueuesRequest()).code,
                                 grpc.StatusCode.UNAUTHENTICATED)
            with urllib.request.urlopen(prometheus + "/api/v1/targets?state=active", timeout=10) as r:
                targets = json.load(r)["data"]["activeTargets"]
            self.assertEqual(sorted(t["labels"]["service"] for t in targets), sorted(WORKLOADS))
            self.assertTrue(all(t["health"] == "up" for t in targets), targets)
            kids = children(proc.pid)
            self.assertEqual(len(kids), len(WORKLOADS) + 1, "a serve process per workload and a prometheus")
        finally:
            proc.send_signal(signal.SIGINT)   # Ctrl-C (the script's children are in their own sessions)
            try:
                code = proc.wait(timeout=90)
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
        rest = []
        while (line := lines.get(timeout=10)) is not None:
            rest.append(line)
        proc.stdout.close()
        proc.stderr.close()
        stopped = next((ln for ln in rest if ln.startswith("stopped: ")), "")
        self.assertEqual(code, 0, "".join(out + rest) + "".join(err))
        self.assertEqual(len(re.findall(r"=0\b", stopped)), len(WORKLOADS) + 1, stopped)
        self.assertNotIn("killed", stopped)
        for pid in kids:
            self.assertFalse(alive(pid), f"child {pid} outlived the script")
        self.assertFalse(os.path.exists(workdir), f"{workdir} was not removed")
        self.assertNotIn(secret, "".join(out + rest + err))


class LocalClusterTest(unittest.TestCase):
    cluster = None

    @classmethod
    def setUpClass(cls):
        cls.logged = []
        cls.cluster = local_run.LocalCluster(log=cls.logged.append)
        cls.cluster.start()
        cls.channel = grpc.insecure_channel(cls.cluster.gateway_address)
        cls.secret = {k: v.decode() for k, v in cls.cluster.secrets["thingtank-api-keys"].items()}
        cls.pods = {p.component: p for p in cls.cluster.pods}

    @classmethod
    def tearDownClass(cls):
        if cls.cluster is None:
            return
        cls.channel.close()
        pids = [c.proc.pid for p in cls.cluster.pods for c in p.containers] + [cls.cluster.prometheus_proc.pid]
        workdir = cls.cluster.workdir
        codes = cls.cluster.stop()
        # Everything stops cleanly: each process exited 0 on SIGTERM, none is left, the
        # working directory is gone.
        assert codes and set(codes.values()) == {0}, f"exit codes: {codes}"
        assert len(codes) == len(WORKLOADS) + 1, codes
        assert not [p for p in pids if alive(p)], "processes left"
        assert not os.path.exists(workdir), f"{workdir} was not removed"
        elapsed = time.monotonic() - STARTED
        assert elapsed < 60, f"the local cluster test took {elapsed:.0f} s"

    # ---- helpers ----

    def md(self):
        return auth(self.secret["admin-key-id"], self.secret["admin-key-secret"])

    def query(self, expr):
        return self.cluster.prometheus_api("query", query=expr)["result"]

    def wait_value(self, expr, want, what):
        """Polls an instant query until it has one sample equal to want."""
        def check():
            r = self.query(expr)
            return len(r) == 1 and float(r[0]["value"][1]) == want
        try:
            poll(check, what)
        except AssertionError:
            raise AssertionError(f"{what}: {expr} = {self.query(expr)}, want {want}") from None

    # ---- Prometheus targets and series ----

    def test_every_workload_is_a_prometheus_target_and_up(self):
        rendered = sorted(o["metadata"]["name"] + "-0" for o in self.cluster.objects
                          if o["kind"] in ("StatefulSet", "Deployment"))
        self.assertEqual(rendered, sorted(f"thingtank-{w}-0" for w in WORKLOADS))
        targets = self.cluster.prometheus_api("targets", state="active")["activeTargets"]
        self.assertEqual(len(targets), len(WORKLOADS))
        by_service = {t["labels"]["service"]: t for t in targets}
        self.assertEqual(sorted(by_service), sorted(WORKLOADS))
        for service, t in by_service.items():
            with self.subTest(service=service):
                pod = self.pods[service]
                self.assertEqual(t["health"], "up", t.get("lastError"))
                self.assertEqual(t["labels"]["job"], "kubernetes-pods")
                self.assertEqual(t["labels"]["kubernetes_pod_name"], f"thingtank-{service}-0")
                self.assertEqual(t["labels"]["kubernetes_namespace"], "thingtank")
                self.assertEqual(t["labels"]["app_kubernetes_io_component"], service)
                # The annotations' port and path, on this pod's own metrics port.
                a = pod.annotations
                self.assertEqual((a["prometheus.io/scrape"], a["prometheus.io/port"], a["prometheus.io/path"]),
                                 ("true", "9464", "/metrics"))
                self.assertEqual(t["scrapeUrl"], f"http://127.0.0.1:{pod.ports[9464]}/metrics")
                self.assertEqual(pod.containers[0].port_flags["metrics-port"], pod.ports[9464])
        ports = [hp for p in self.cluster.pods for hp in p.ports.values()]
        self.assertEqual(len(ports), len(set(ports)), "two pods share a host port")

    def test_key_series_of_every_service(self):
        self.assertEqual({r["metric"]["service"]: r["value"][1] for r in self.query("up")},
                         {w: "1" for w in WORKLOADS})
        for series in ("thingtank_build_info", "grpc_server_started_total"):
            with self.subTest(series=series):
                got = {r["metric"]["service"] for r in self.query(f"count by (service) ({series})")}
                self.assertEqual(got, set(WORKLOADS))
        at_start = {
            "compute": ["thingtank_compute_zone_vcpus", "thingtank_compute_ticks_total",
                        "thingtank_compute_alarms"],
            "objects": ["thingtank_objects_bytes_in_total", "thingtank_objects_multipart_uploads_in_progress"],
            "tables": ["thingtank_tables_read_units_consumed_total", "thingtank_tables_write_units_consumed_total"],
            "streams": ["thingtank_streams_records_in_total", "thingtank_streams_subscriptions"],
            "queues": ["thingtank_queues_messages_sent_total", "thingtank_queues_messages_received_total"],
            "wamp": ["thingtank_wamp_messages_received_total", "thingtank_wamp_calls_routed_total"],
        }
        for service, names in at_start.items():
            for name in names:
                with self.subTest(series=name):
                    r = self.query(f'{name}{{service="{service}"}}')
                    self.assertTrue(r, f"no {name} from the {service} pod")
                    self.assertEqual({x["metric"]["kubernetes_pod_name"] for x in r}, {f"thingtank-{service}-0"})

    def test_each_backend_answers_through_the_gateway(self):
        # One call per service through the gateway with the rendered admin key; each lands on
        # its own pod (the backend's grpc_server_handled_total), so --backends is wired right.
        calls = {}
        for service, module, stub_name, method, request in [
                ("compute", "compute", "ComputeService", "DescribeAvailabilityZones",
                 "DescribeAvailabilityZonesRequest"),
                ("objects", "objects", "ObjectsService", "ListBuckets", "ListBucketsRequest"),
                ("tables", "tables", "TablesService", "ListTables", "ListTablesRequest"),
                ("streams", "streams", "StreamsService", "ListStreams", "ListStreamsRequest"),
                ("queues", "queues", "QueuesService", "ListQueues", "ListQueuesRequest"),
                ("wamp", "wamp", "WampService", "ListRules", "ListRulesRequest")]:
            pb2 = __import__(f"thingtank.{module}.v1.{module}_pb2", fromlist=["x"])
            pb2_grpc = __import__(f"thingtank.{module}.v1.{module}_pb2_grpc", fromlist=["x"])
            stub = getattr(pb2_grpc, stub_name + "Stub")(self.channel)
            getattr(stub, method)(getattr(pb2, request)(), metadata=self.md(), timeout=T)
            calls[service] = (f"thingtank.{module}.v1.{stub_name}", method)
        for service, (grpc_service, method) in calls.items():
            with self.subTest(service=service):
                expr = (f'sum(grpc_server_handled_total{{service="{service}",grpc_service="{grpc_service}",'
                        f'grpc_method="{method}",grpc_code="OK"}}) >= 1')
                poll(lambda: self.query(expr), f"{service}'s pod to count {method}")

    def test_queue_round_trip_with_the_rendered_admin_key_and_its_metrics(self):
        pb = tt.queues_pb2
        stub = tt.queues_pb2_grpc.QueuesServiceStub(self.channel)
        # No key, a wrong secret, an unknown id: UNAUTHENTICATED at the gateway.
        err = tt.call_error(stub.ListQueues, pb.ListQueuesRequest())
        self.assertEqual(err.code, grpc.StatusCode.UNAUTHENTICATED, err)
        err = tt.call_error(stub.CreateQueue, pb.CreateQueueRequest(queue_name="nope"),
                            metadata=auth(self.secret["admin-key-id"], "not-the-secret"))
        self.assertEqual(err.code, grpc.StatusCode.UNAUTHENTICATED, err)
        err = tt.call_error(stub.ListQueues, pb.ListQueuesRequest(), metadata=auth("nobody", "x"))
        self.assertEqual(err.code, grpc.StatusCode.UNAUTHENTICATED, err)
        # The rendered admin key works: create, send, receive.
        self.assertEqual(self.cluster.admin_key_id, "admin")
        self.assertEqual(self.cluster.admin_key_secret, self.secret["admin-key-secret"])
        created = stub.CreateQueue(pb.CreateQueueRequest(queue_name="local-cluster"), metadata=self.md(), timeout=T)
        self.assertTrue(created.queue_url)
        for body in ("one", "two"):
            stub.SendMessage(pb.SendMessageRequest(queue_name="local-cluster", message_body=body),
                             metadata=self.md(), timeout=T)
        got = stub.ReceiveMessages(pb.ReceiveMessagesRequest(queue_name="local-cluster", max_number_of_messages=1),
                                   metadata=self.md(), timeout=T)
        self.assertEqual(len(got.messages), 1)
        self.assertIn(got.messages[0].body, ("one", "two"))
        # The services' key (what the backends present to the gateway) is one of its keys too.
        stub.ListQueues(pb.ListQueuesRequest(), timeout=T,
                        metadata=auth(self.secret["service-key-id"], self.secret["service-key-secret"]))
        # Scraped from the queues pod: one visible, one in flight.
        self.wait_value('thingtank_queues_messages_visible{service="queues",queue="local-cluster"}', 1,
                        "the visible message in Prometheus")
        self.wait_value('thingtank_queues_messages_in_flight{service="queues",queue="local-cluster"}', 1,
                        "the in-flight message in Prometheus")
        self.wait_value('thingtank_queues_messages_sent_total{service="queues"}', 2, "the sent messages")

    def test_stream_shards_in_prometheus(self):
        pb2 = __import__("thingtank.streams.v1.streams_pb2", fromlist=["x"])
        pb2_grpc = __import__("thingtank.streams.v1.streams_pb2_grpc", fromlist=["x"])
        stub = pb2_grpc.StreamsServiceStub(self.channel)
        err = tt.call_error(stub.CreateStream, pb2.CreateStreamRequest(stream_name="local-cluster", shard_count=2))
        self.assertEqual(err.code, grpc.StatusCode.UNAUTHENTICATED, err)
        stub.CreateStream(pb2.CreateStreamRequest(stream_name="local-cluster", shard_count=2),
                          metadata=self.md(), timeout=T)
        self.wait_value('thingtank_streams_open_shards{service="streams",stream="local-cluster"}', 2,
                        "the stream's open shards in Prometheus")

    def test_wamp_session_in_prometheus(self):
        import wamp_testing as wt
        pod = self.pods["wamp"]
        ws_port = pod.containers[0].port_flags["wamp-ws-port"]
        self.assertEqual(ws_port, pod.host_port("ws"))  # the container port named ws
        ws = wt.RawWebSocket(ws_port)
        try:
            self.assertEqual(ws.status, 101)
            ws.send_json([wt.HELLO, "realm1", {"roles": wt.CLIENT_ROLES}])
            welcome = ws.recv_wamp()
            self.assertEqual(welcome[0], wt.WELCOME, welcome)  # the rendered realms config admits anonymous
            self.wait_value('thingtank_wamp_sessions{service="wamp",realm="realm1"}', 1,
                            "the WAMP session in Prometheus")
        finally:
            ws.close_socket()
        self.wait_value('thingtank_wamp_sessions{service="wamp",realm="realm1"}', 0, "the session's end")

    # ---- what ran is what was rendered ----

    def test_processes_run_the_rendered_args_and_env_with_only_the_documented_rewrites(self):
        workdir = self.cluster.workdir
        gw_port = self.pods["gateway"].containers[0].port_flags["gateway-port"]
        for pod in self.cluster.pods:
            for c in pod.containers:
                with self.subTest(pod=pod.name):
                    with open(f"/proc/{c.proc.pid}/cmdline", "rb") as f:
                        cmdline = [a.decode() for a in f.read().split(b"\0")[:-1]]
                    self.assertEqual(cmdline, c.args)
                    self.assertEqual(cmdline[0], local_run.BIN)
                    rendered, ran = c.rendered_args, cmdline[1:]
                    self.assertEqual(len(rendered), len(ran))
                    for r, a in zip(rendered, ran):
                        if r == a:
                            continue
                        flag, rv = r.split("=", 1)
                        aflag, av = a.split("=", 1)
                        self.assertEqual(flag, aflag)
                        if flag.endswith("-port"):
                            self.assertEqual(int(av), pod.ports[int(rv)])
                        elif flag == "--listen-address":
                            self.assertEqual((rv, av), ("0.0.0.0", "127.0.0.1"))
                        elif flag in ("--data-dir", "--api-keys-file", "--wamp-config"):
                            # The volume's directory of this pod, the rest of the path kept.
                            m = next(m for m in c.spec["volumeMounts"]
                                     if rv == m["mountPath"] or rv.startswith(m["mountPath"] + "/"))
                            self.assertEqual(av, os.path.join(workdir, pod.name, "volumes", m["name"])
                                             + rv[len(m["mountPath"]):])
                        elif flag == "--gateway-address":
                            self.assertEqual(rv, "thingtank-gateway.thingtank.svc.cluster.local:50051")
                            self.assertEqual(av, f"127.0.0.1:{gw_port}")
                        elif flag == "--backends":
                            want = ",".join(f"{s}=127.0.0.1:{self.pods[s].containers[0].port_flags[s + '-port']}"
                                            for s in SERVICES)
                            self.assertEqual(av, want)
                            self.assertEqual(rv, ",".join(
                                f"{s}=thingtank-{s}.thingtank.svc.cluster.local:{50052 + i}"
                                for i, s in enumerate(SERVICES)))
                        else:
                            self.fail(f"{r} became {a}: not a documented rewrite")
                    # The environment: the rendered env (Secret references resolved) and PATH only.
                    with open(f"/proc/{c.proc.pid}/environ", "rb") as f:
                        environ = dict(e.decode().split("=", 1) for e in f.read().split(b"\0") if e)
                    want_env = {"PATH": local_run.PATH_ENV}
                    for e in c.spec.get("env") or []:
                        ref = e["valueFrom"]["secretKeyRef"]
                        self.assertEqual(ref["name"], "thingtank-api-keys")
                        want_env[e["name"]] = self.secret[ref["key"]]
                    self.assertEqual(environ, want_env)
                    self.assertEqual(c.env, want_env)
        # The mounted files hold what the rendered Secret and ConfigMap hold.
        gw = self.pods["gateway"].containers[0]
        keys_file = next(a.split("=", 1)[1] for a in gw.args if a.startswith("--api-keys-file="))
        with open(keys_file) as f:
            self.assertEqual(f.read(), self.secret["api-keys.txt"])
        self.assertEqual(os.stat(keys_file).st_mode & 0o777, 0o440)  # the volume's defaultMode 288
        self.assertEqual(keys_file, self.cluster.admin_key_file)
        wamp = self.pods["wamp"].containers[0]
        config = next(a.split("=", 1)[1] for a in wamp.args if a.startswith("--wamp-config="))
        with open(config, "rb") as f:
            self.assertEqual(f.read(), self.cluster.configmaps["thingtank-wamp-config"]["wamp-config.json"])
        # Every process reported the ports it was given (ports.json, checked at start too).
        for pod in self.cluster.pods:
            c = pod.containers[0]
            with open(os.path.join(c.data_dir, "ports.json")) as f:
                reported = json.load(f)
            self.assertEqual(reported, {local_run.ports_json_key(k): v for k, v in c.port_flags.items()})
        # The scrape config written is the one the annotations imply, and the probes ran.
        self.assertIn("prometheus scraped every target", self.logged)
        self.assertTrue(all(any(m.startswith(f"thingtank-{w}-0: {w} ready") for m in self.logged)
                            for w in WORKLOADS), self.logged)


if __name__ == "__main__":
    unittest.main()
