#!/usr/bin/python3
"""A cluster-shaped run of the Helm chart deploy/k8s/thingtank on one host, without Kubernetes.

No Kubernetes API server can run here, so this proves the rendered configuration another way:
`helm template` of the chart (default values: microservice mode, API keys on; or --values
FILE), then every container of every rendered StatefulSet and Deployment is started as its own
`thingtank serve` process with the rendered args and env, the StatefulSets (the backends)
first, then the Deployments (the gateway) in front, and a real Prometheus (Debian's
`prometheus`) scrapes every process with the scrape configuration the pods' prometheus.io/*
annotations imply.

    python3 deploy/k8s/local_run.py [--values FILE] [--keep]

prints the gateway address, the admin API key id (never its secret; the line of the rendered
api-keys file is named) and the Prometheus URL, then runs until Ctrl-C or SIGTERM, which sends
SIGTERM to every child (Prometheus, the gateway, then the backends; SIGKILL only after the pod's
terminationGracePeriodSeconds) and exits non-zero if a child did not exit 0. --keep keeps the
working directory (data, rendered files, logs, prometheus.yml) instead of removing it.

The rewrites, and only these; every other arg and env value is passed exactly as rendered:

1. Ports. Each pod gets its own free host port for every port it listens on: each
   `--<name>-port=N` flag (e.g. --gateway-port, --queues-port, --metrics-port, --wamp-ws-port;
   also the `--<name>-port N` form and THINGTANK_<NAME>_PORT env values) and each declared
   containerPort. The flag's N becomes that pod's host port for N. After the start, the ports
   the process reports in <data-dir>/ports.json are checked against the ones given.
2. Service addresses. Each `host:port` in an arg or env value whose host is a rendered Service
   (`svc`, `svc.ns`, `svc.ns.svc`, `svc.ns.svc.<cluster domain>`, or a headless Service's
   `pod.svc.ns.svc.<cluster domain>`), e.g. --backends=queues=thingtank-queues.thingtank.svc.
   cluster.local:50056 and --gateway-address=...:50051, becomes 127.0.0.1:<host port>, resolved
   as kube-proxy would: the Service port's targetPort (number or container port name) on the
   pod the Service's selector matches. A Service port that does not exist, or a selector that
   matches no rendered pod, is an error (the chart would not work).
3. Volumes. Every volumeMount's path becomes a directory of the pod under the working directory
   (a per-workload data dir for /data, whether a volumeClaimTemplate or an emptyDir; an empty
   dir for /tmp); Secret and ConfigMap volumes are written there from the rendered Secret and
   ConfigMap objects (the api keys file, the WAMP config), with their items, subPaths and
   modes. Args and env values equal to, or under, a mount path are rewritten to that directory
   (--data-dir=/data, --api-keys-file=/etc/thingtank/api-keys/api-keys.txt,
   --wamp-config=/etc/thingtank/wamp/wamp-config.json).
4. Env references. valueFrom secretKeyRef / configMapKeyRef (and envFrom) are resolved from the
   rendered Secret / ConfigMap objects; fieldRef metadata.name / metadata.namespace / status.podIP
   give the pod's name, the namespace, 127.0.0.1. The process gets exactly the rendered env plus
   PATH: nothing of this script's environment (no host THINGTANK_* setting, which serve would
   read as a flag) and no env of the image.
5. --listen-address=0.0.0.0 becomes 127.0.0.1 (this script's --listen-address): no
   NetworkPolicy guards the backends' unauthenticated ports here, so nothing listens beyond the
   loopback. `--listen-address as-rendered` keeps the rendered value.
6. The command: the image's entrypoint (a container without `command`, or a `command` naming
   thingtank) is the thingtank binary here (THINGTANK_BIN, or build/dev/tools/thingtank/thingtank).

What a kubelet would do that this does not: one process per workload (replicas, the gateway's
HPA minimum included, are not multiplied: one pod per StatefulSet and Deployment, named
<name>-0), no securityContext, resources, NetworkPolicy, PodDisruptionBudget or HPA; helm test
Pods are not run. The rendered probes are run, though: each container's startupProbe, then its
readinessProbe, must pass (grpc against grpc.health.v1 with the rendered service name, httpGet,
tcpSocket, on the pod's host ports), polled until their periodSeconds x failureThreshold (at
most 60 s), and the livenessProbe must pass once, before the next workloads start.

Prometheus: one job `kubernetes-pods` (the annotation-driven job of Prometheus' Kubernetes
example) with one static target per pod whose template has prometheus.io/scrape: "true": address
127.0.0.1:<host port of prometheus.io/port>, __metrics_path__ from prometheus.io/path (default
/metrics), __scheme__ from prometheus.io/scheme (default http), labels kubernetes_namespace,
kubernetes_pod_name, every pod label (labelmap: `app.kubernetes.io/component` ->
app_kubernetes_io_component) and `service` (the app.kubernetes.io/component label: gateway,
queues, ...); scrape interval 1 s (--scrape-interval). It runs on a free port with its own
storage dir and config (<workdir>/prometheus/); the start waits until it has scraped every
target successfully (about 5 s: Prometheus applies new targets on a 5 s tick).

Tools: helm from deploy/k8s/tools.sh (build/k8s-tools/bin/helm, or THINGTANK_K8S_TOOLS),
Debian's prometheus (apt-get install prometheus; or THINGTANK_PROMETHEUS), the grpc.health.v1
modules generated into build/dev/gen/python (THINGTANK_PY_GEN) and /usr/bin/python3 with
python3-yaml and python3-grpcio. Used as a module by tests/deploy/test_local_cluster.py
(LocalCluster).
"""

import argparse
import base64
import importlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

try:
    import grpc
    import yaml
except ImportError as e:  # e.g. a python3 other than Debian's first on PATH
    DEBIAN_PYTHON = "/usr/bin/python3"
    if __name__ == "__main__" and os.path.realpath(sys.executable) != os.path.realpath(DEBIAN_PYTHON) \
            and os.access(DEBIAN_PYTHON, os.X_OK):
        os.execv(DEBIAN_PYTHON, [DEBIAN_PYTHON, os.path.abspath(__file__)] + sys.argv[1:])
    raise ImportError(f"{e}: run with /usr/bin/python3 (Debian's python3-yaml and python3-grpcio)") from e

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))
CHART = os.path.join(HERE, "thingtank")
TOOLS = os.environ.get("THINGTANK_K8S_TOOLS", os.path.join(REPO, "build", "k8s-tools"))
HELM = os.path.join(TOOLS, "bin", "helm")
BIN = os.environ.get("THINGTANK_BIN", os.path.join(REPO, "build", "dev", "tools", "thingtank", "thingtank"))
PY_GEN = os.environ.get("THINGTANK_PY_GEN", os.path.join(REPO, "build", "dev", "gen", "python"))
PROMETHEUS = os.environ.get("THINGTANK_PROMETHEUS") or shutil.which("prometheus") or "/usr/bin/prometheus"

POLL_S = 0.05
START_DEADLINE_S = 60      # the longest any one wait of the start may take
SCRAPE_INTERVAL = "1s"
PATH_ENV = "/usr/local/bin:/usr/bin:/bin"

PORT_FLAG = re.compile(r"^--([a-z0-9][a-z0-9-]*-port)(?:=(.*))?$")
PORT_ENV = re.compile(r"^THINGTANK_([A-Z0-9_]+_PORT)$")
HOST_PORT = re.compile(r"(?<![A-Za-z0-9.-])([a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*)"
                       r":([0-9]{1,5})(?![0-9])")


class LocalRunError(Exception):
    """The rendered configuration cannot run (or a tool is missing); the message says why."""


def tools_missing(helm=HELM, prometheus=PROMETHEUS, binary=BIN):
    """What is missing to run, as messages naming how to get it."""
    missing = []
    if not os.access(helm, os.X_OK):
        missing.append(f"helm ({helm}): run deploy/k8s/tools.sh (tools/setup.sh runs it)")
    if not (prometheus and os.access(prometheus, os.X_OK)):
        missing.append(f"prometheus ({prometheus}): apt-get install prometheus (tools/setup.sh installs it)")
    if not os.access(binary, os.X_OK):
        missing.append(f"the thingtank binary ({binary}): build it, or set THINGTANK_BIN")
    if not os.path.isfile(os.path.join(PY_GEN, "grpc", "health", "v1", "health_pb2_grpc.py")):
        missing.append(f"the generated grpc.health.v1 modules in {PY_GEN}: build, or set THINGTANK_PY_GEN")
    return missing


def render(values=(), release="thingtank", namespace="thingtank", helm=HELM, chart=CHART, extra_args=()):
    """The objects `helm template` renders (a list of dicts)."""
    cmd = [helm, "template", release, chart, "-n", namespace]
    for v in values:
        cmd += ["-f", v]
    cmd += list(extra_args)
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        raise LocalRunError(f"{' '.join(cmd)} failed:\n{r.stdout}{r.stderr}")
    return [d for d in yaml.safe_load_all(r.stdout) if d]


def free_ports(n):
    """n distinct TCP ports free on every address a moment ago (held together while picked)."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def matches(selector, labels):
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def prom_label_name(name):
    return re.sub(r"[^a-zA-Z0-9_]", "_", name)


def ports_json_key(flag):
    """--wamp-ws-port -> wamp_ws (the key serve writes to ports.json)."""
    return flag[: -len("-port")].replace("-", "_")


class Pod:
    """One pod of a rendered workload: its containers' processes, host ports and directories."""

    def __init__(self, workload, name, directory):
        self.workload = workload
        self.kind = workload["kind"]
        self.workload_name = workload["metadata"]["name"]
        self.name = name
        self.template = workload["spec"]["template"]
        self.spec = self.template["spec"]
        self.labels = dict(self.template["metadata"].get("labels") or {})
        self.annotations = dict(self.template["metadata"].get("annotations") or {})
        self.component = self.labels.get("app.kubernetes.io/component", self.workload_name)
        self.dir = directory
        self.ports = {}          # container port -> host port (the pod's network namespace)
        self.port_names = {}     # container port name -> container port
        self.mounts = {}         # container name -> [(mountPath, local path)]
        self.containers = []     # Container objects
        self.grace_s = self.spec.get("terminationGracePeriodSeconds", 30)

    def host_port(self, port):
        """The host port of a container port (number, or the name of a declared port)."""
        if isinstance(port, str) and not port.isdigit():
            if port not in self.port_names:
                raise LocalRunError(f"{self.name}: no container port named {port!r}")
            port = self.port_names[port]
        port = int(port)
        if port not in self.ports:
            raise LocalRunError(f"{self.name}: port {port} is neither declared nor given to a --*-port flag")
        return self.ports[port]


class Container:
    def __init__(self, pod, spec):
        self.pod = pod
        self.spec = spec
        self.name = spec["name"]
        self.rendered_args = list(spec.get("args") or [])
        self.args = None          # the command line run (after the rewrites)
        self.env = None           # the environment given
        self.rewrites = []        # (rendered, local, why) of every changed arg or env value
        self.port_flags = {}      # flag name (gateway-port) -> host port given
        self.data_dir = None
        self.proc = None
        self.log_path = os.path.join(pod.dir, f"{self.name}.log")
        self._log = None

    def log_tail(self, n=3000):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()[-n:]
        except OSError:
            return ""


class LocalCluster:
    """The chart's workloads as local processes, and a Prometheus scraping them.

    start() renders and starts everything (raising LocalRunError, after stopping what it
    started, when something cannot run); stop() stops it and returns {process: exit code}.
    After start: gateway_address, admin_key_id / admin_key_secret (None with auth off),
    prometheus_url, pods, targets (Prometheus' active targets once all were scraped).
    """

    def __init__(self, values=(), release="thingtank", namespace="thingtank", keep=False,
                 listen_address="127.0.0.1", scrape_interval=SCRAPE_INTERVAL, binary=BIN, helm=HELM,
                 prometheus=PROMETHEUS, workdir=None, log=None, helm_args=()):
        self.values = list(values)
        self.release = release
        self.namespace = namespace
        self.keep = keep
        self.listen_address = listen_address
        self.scrape_interval = scrape_interval
        self.binary = binary
        self.helm = helm
        self.prometheus_bin = prometheus
        self.helm_args = list(helm_args)
        self.workdir = workdir
        self.own_workdir = workdir is None
        self.log = log or (lambda msg: print(f"local_run: {msg}", file=sys.stderr, flush=True))
        self.objects = []
        self.pods = []
        self.secrets = {}
        self.configmaps = {}
        self.services = {}
        self.gateway_address = None
        self.gateway_pod = None
        self.admin_key_id = None
        self.admin_key_secret = None
        self.admin_key_file = None
        self.prometheus_url = None
        self.prometheus_proc = None
        self.prometheus_config_path = None
        self.targets = []
        self.exit_codes = None
        self._prom_log = None
        self._channels = {}
        self._stopped = False
        self._lock = threading.Lock()

    # ---- the plan: rendered objects -> pods, ports, files, command lines ----

    def plan(self):
        missing = tools_missing(self.helm, self.prometheus_bin, self.binary)
        if missing:
            raise LocalRunError("missing: " + "; ".join(missing))
        if self.workdir is None:
            self.workdir = tempfile.mkdtemp(prefix="thingtank-local-run-")
        os.makedirs(self.workdir, exist_ok=True)
        self.objects = render(self.values, self.release, self.namespace, self.helm, extra_args=self.helm_args)
        for o in self.objects:
            kind, name = o["kind"], o["metadata"]["name"]
            if kind == "Secret":
                data = {k: base64.b64decode(v) for k, v in (o.get("data") or {}).items()}
                data.update({k: v.encode() for k, v in (o.get("stringData") or {}).items()})
                self.secrets[name] = data
            elif kind == "ConfigMap":
                data = {k: v.encode() for k, v in (o.get("data") or {}).items()}
                data.update({k: base64.b64decode(v) for k, v in (o.get("binaryData") or {}).items()})
                self.configmaps[name] = data
            elif kind == "Service":
                self.services[name] = o
        workloads = [o for o in self.objects if o["kind"] in ("StatefulSet", "Deployment")]
        if not workloads:
            raise LocalRunError("the chart rendered no StatefulSet or Deployment")
        # Backends (StatefulSets) first, then the Deployments in front of them.
        workloads.sort(key=lambda o: 0 if o["kind"] == "StatefulSet" else 1)
        for w in workloads:
            name = f"{w['metadata']['name']}-0"
            pod = Pod(w, name, os.path.join(self.workdir, name))
            os.makedirs(pod.dir, exist_ok=True)
            if pod.spec.get("initContainers"):
                raise LocalRunError(f"{name}: initContainers are not supported here")
            pod.containers = [Container(pod, c) for c in pod.spec["containers"]]
            self.pods.append(pod)

        # 1. Ports: every declared container port and every --*-port value, a host port each,
        # all picked together so that no two pods share one.
        wanted = {}
        for pod in self.pods:
            ports = set()
            for c in pod.containers:
                for p in c.spec.get("ports") or []:
                    ports.add(int(p["containerPort"]))
                    if p.get("name"):
                        pod.port_names[p["name"]] = int(p["containerPort"])
                for i in range(len(c.rendered_args)):
                    pf = self._port_flag_value(c.rendered_args, i)
                    if pf is not None and pf[1].isdigit() and int(pf[1]) != 0:
                        ports.add(int(pf[1]))
                for e in c.spec.get("env") or []:
                    if PORT_ENV.match(e["name"]) and str(e.get("value", "")).isdigit() and int(e["value"]) != 0:
                        ports.add(int(e["value"]))
            wanted[pod.name] = sorted(ports)
        fresh = iter(free_ports(sum(len(v) for v in wanted.values())))
        for pod in self.pods:
            pod.ports = {cp: next(fresh) for cp in wanted[pod.name]}

        # 3. Volumes; then the command lines (1, 2, 3, 5, 6) and env (4).
        for pod in self.pods:
            self._volumes(pod)
            for c in pod.containers:
                self._command(pod, c)

        self._auth_and_gateway()

    @staticmethod
    def _port_flag_value(args, i):
        """(flag, value, index of the value) when args[i] is a --*-port flag, else None."""
        m = PORT_FLAG.match(args[i])
        if not m:
            return None
        if m.group(2) is not None:
            return m.group(1), m.group(2), i
        if i + 1 < len(args) and not args[i + 1].startswith("--"):
            return m.group(1), args[i + 1], i + 1
        return None

    def _secret_or_configmap(self, kind, name, key=None, optional=False, who=""):
        store = self.secrets if kind == "Secret" else self.configmaps
        if name not in store:
            if optional:
                return None
            raise LocalRunError(f"{who}: {kind} {name!r} is not rendered by the chart (an existing {kind} "
                                f"of the cluster?): cannot resolve it here")
        if key is None:
            return store[name]
        if key not in store[name]:
            if optional:
                return None
            raise LocalRunError(f"{who}: {kind} {name!r} has no key {key!r}")
        return store[name][key]

    def _volumes(self, pod):
        volumes = {v["name"]: v for v in pod.spec.get("volumes") or []}
        claims = {t["metadata"]["name"] for t in pod.workload["spec"].get("volumeClaimTemplates") or []}
        local = {}
        for name in sorted(set(volumes) | claims):
            d = os.path.join(pod.dir, "volumes", name)
            os.makedirs(d, exist_ok=True)
            local[name] = d
            v = volumes.get(name)
            if v is None or "emptyDir" in v or "persistentVolumeClaim" in v:
                continue  # a fresh directory: the PVC of a first install, or an emptyDir
            for kind, field, ref in (("Secret", "secret", "secretName"), ("ConfigMap", "configMap", "name")):
                if field in v:
                    src = v[field]
                    data = self._secret_or_configmap(kind, src[ref], optional=src.get("optional", False),
                                                     who=f"{pod.name} volume {name}")
                    if data is None:
                        break
                    items = src.get("items") or [{"key": k, "path": k} for k in sorted(data)]
                    for item in items:
                        if item["key"] not in data:
                            raise LocalRunError(f"{pod.name} volume {name}: {kind} {src[ref]!r} has no key "
                                                f"{item['key']!r}")
                        path = os.path.join(d, item["path"])
                        os.makedirs(os.path.dirname(path), exist_ok=True)
                        with open(path, "wb") as f:
                            f.write(data[item["key"]])
                        os.chmod(path, item.get("mode", src.get("defaultMode", 0o644)))
                    break
            else:
                raise LocalRunError(f"{pod.name}: volume {name} of type "
                                    f"{[k for k in v if k != 'name']} is not supported here")
        for c in pod.containers:
            mounts = []
            for m in c.spec.get("volumeMounts") or []:
                if m["name"] not in local:
                    raise LocalRunError(f"{pod.name}/{c.name}: mount of undefined volume {m['name']!r}")
                path = local[m["name"]]
                if m.get("subPath"):
                    path = os.path.join(path, m["subPath"])
                mounts.append((m["mountPath"].rstrip("/") or "/", path))
            mounts.sort(key=lambda mp: -len(mp[0]))
            pod.mounts[c.name] = mounts

    def _rewrite_value(self, pod, container, value):
        """Rewrites 2 (Service addresses) and 3 (mount paths) of one arg or env value."""
        whys = []

        def address(m):
            host, port = m.group(1), int(m.group(2))
            resolved = self._resolve(host, port, pod)
            if resolved is None:
                return m.group(0)
            whys.append(f"Service {host}:{port}")
            return f"127.0.0.1:{resolved}"

        out = HOST_PORT.sub(address, value)
        for mount_path, local in pod.mounts[container.name]:
            if out == mount_path or out.startswith(mount_path + "/"):
                out = local + out[len(mount_path):]
                whys.append(f"mount {mount_path}")
                break
        return out, whys

    def _resolve(self, host, port, pod):
        """The host port behind a Service address, or None when host names no rendered Service."""
        def in_cluster(rest):  # [], [ns], [ns, svc], [ns, svc, <cluster domain>...]
            return rest[:2] == [self.namespace, "svc"][:len(rest)]
        parts = host.split(".")
        svc, pod_name = None, None
        if parts[0] in self.services and in_cluster(parts[1:]):
            svc = self.services[parts[0]]
        elif len(parts) >= 3 and parts[1] in self.services and in_cluster(parts[2:]) \
                and self.services[parts[1]]["spec"].get("clusterIP") == "None":
            svc, pod_name = self.services[parts[1]], parts[0]  # a pod of a headless Service
        if svc is None:
            return None
        selector = svc["spec"].get("selector") or {}
        backing = [p for p in self.pods if matches(selector, p.labels)]
        if pod_name is not None:
            backing = [p for p in backing if p.name == pod_name]
        if not backing:
            raise LocalRunError(f"{pod.name}: {host}:{port}: Service {svc['metadata']['name']} selects no "
                                f"rendered pod{' named ' + pod_name if pod_name else ''}")
        target = backing[0]
        svc_ports = svc["spec"].get("ports") or []
        match = [p for p in svc_ports if int(p["port"]) == port]
        if match:
            return target.host_port(match[0].get("targetPort", match[0]["port"]))
        if svc["spec"].get("clusterIP") == "None":
            return target.host_port(port)  # a headless Service: any port of the pod
        raise LocalRunError(f"{pod.name}: {host}:{port}: Service {svc['metadata']['name']} has no port {port} "
                            f"(it has {[p['port'] for p in svc_ports]})")

    def _command(self, pod, c):
        who = f"{pod.name}/{c.name}"
        command = c.spec.get("command")
        if command:
            if os.path.basename(command[0]) != "thingtank":
                raise LocalRunError(f"{who}: command {command} is not the thingtank binary")
            head = [self.binary] + list(command[1:])
        else:
            head = [self.binary]
        args = list(c.rendered_args)
        out = []
        skip_value = set()
        for i, arg in enumerate(args):
            if i in skip_value:
                continue
            pf = self._port_flag_value(args, i)
            if pf is not None:
                flag, value, vi = pf
                if value.isdigit() and int(value) != 0:
                    local = str(pod.ports[int(value)])
                    c.port_flags[flag] = int(local)
                    if vi == i:
                        new = f"--{flag}={local}"
                        out.append(new)
                        c.rewrites.append((arg, new, "port"))
                    else:
                        out += [arg, local]
                        skip_value.add(vi)
                        c.rewrites.append((value, local, "port"))
                    continue
            if arg.startswith("--listen-address") and self.listen_address != "as-rendered":
                new = f"--listen-address={self.listen_address}"
                if "=" not in arg and i + 1 < len(args):
                    skip_value.add(i + 1)
                if new != arg:
                    c.rewrites.append((arg, new, "listen address"))
                out.append(new)
                continue
            if arg.startswith("--") and "=" in arg:
                flag, value = arg.split("=", 1)
                new_value, whys = self._rewrite_value(pod, c, value)
                new = f"{flag}={new_value}"
            else:
                new, whys = self._rewrite_value(pod, c, arg)
            if new != arg:
                c.rewrites.append((arg, new, ", ".join(whys)))
            out.append(new)
        c.args = head + out

        env = {"PATH": PATH_ENV}
        for src in c.spec.get("envFrom") or []:
            prefix = src.get("prefix", "")
            for kind, field in (("Secret", "secretRef"), ("ConfigMap", "configMapRef")):
                if field in src:
                    data = self._secret_or_configmap(kind, src[field]["name"], optional=src[field].get("optional"),
                                                     who=f"{who} envFrom") or {}
                    for k, v in data.items():
                        env[prefix + k] = v.decode()
        for e in c.spec.get("env") or []:
            name = e["name"]
            if "value" in e or "valueFrom" not in e:
                value = str(e.get("value", ""))
            else:
                vf = e["valueFrom"]
                if "secretKeyRef" in vf or "configMapKeyRef" in vf:
                    kind, ref = ("Secret", vf["secretKeyRef"]) if "secretKeyRef" in vf else \
                        ("ConfigMap", vf["configMapKeyRef"])
                    raw = self._secret_or_configmap(kind, ref["name"], ref["key"], ref.get("optional", False),
                                                    who=f"{who} env {name}")
                    if raw is None:
                        continue
                    value = raw.decode()
                elif "fieldRef" in vf:
                    field = vf["fieldRef"]["fieldPath"]
                    known = {"metadata.name": pod.name, "metadata.namespace": self.namespace,
                             "status.podIP": "127.0.0.1", "status.hostIP": "127.0.0.1"}
                    if field not in known:
                        raise LocalRunError(f"{who} env {name}: fieldRef {field} is not supported here")
                    value = known[field]
                else:
                    raise LocalRunError(f"{who} env {name}: {list(vf)} is not supported here")
            if PORT_ENV.match(name) and value.isdigit() and int(value) != 0:
                new = str(pod.ports[int(value)])
                c.port_flags[PORT_ENV.match(name).group(1).lower().replace("_", "-")] = int(new)
                c.rewrites.append((f"{name}={value}", f"{name}={new}", "port"))
                value = new
            elif "valueFrom" not in e:
                new, whys = self._rewrite_value(pod, c, value)
                if new != value:
                    c.rewrites.append((f"{name}={value}", f"{name}={new}", ", ".join(whys)))
                value = new
            env[name] = value
        c.env = env
        # The data dir, where serve writes ports.json.
        for i, arg in enumerate(out):
            if arg.startswith("--data-dir="):
                c.data_dir = arg.split("=", 1)[1]
            elif arg == "--data-dir" and i + 1 < len(out):
                c.data_dir = out[i + 1]
        if c.data_dir is None and "THINGTANK_DATA_DIR" in env:
            c.data_dir = env["THINGTANK_DATA_DIR"]

    def _auth_and_gateway(self):
        for pod in self.pods:
            for c in pod.containers:
                services = next((a.split("=", 1)[1] for a in c.rendered_args if a.startswith("--services=")), "all")
                if "gateway-port" in c.port_flags and ("gateway" in services.split(",") or services == "all"):
                    if self.gateway_address is None:
                        self.gateway_address = f"127.0.0.1:{c.port_flags['gateway-port']}"
                        self.gateway_pod = pod
                    for arg in c.args:
                        if arg.startswith("--api-keys-file="):
                            self.admin_key_file = arg.split("=", 1)[1]
        if self.gateway_address is None:
            raise LocalRunError("no rendered container runs the gateway with a --gateway-port")
        for name, data in self.secrets.items():
            if "admin-key-id" in data and "admin-key-secret" in data:
                self.admin_key_id = data["admin-key-id"].decode()
                self.admin_key_secret = data["admin-key-secret"].decode()

    # ---- running ----

    def start(self):
        """Plans, starts the backends, then the gateway, then Prometheus; waits for each."""
        try:
            if not self.pods:
                self.plan()
                self.log(f"rendered {len(self.objects)} objects: {len(self.pods)} workloads")
            self._write_prometheus_config()
            groups = [[p for p in self.pods if p.kind == "StatefulSet"],
                      [p for p in self.pods if p.kind != "StatefulSet"]]
            for group in groups:
                for pod in group:
                    for c in pod.containers:
                        self._spawn(c)
                for pod in group:
                    for c in pod.containers:
                        self._wait_ready(pod, c)
                        self.log(f"{pod.name}: {c.name} ready, ports "
                                 + ", ".join(f"--{k}={v}" for k, v in sorted(c.port_flags.items())))
            self._start_prometheus()
            self.log(f"prometheus ready at {self.prometheus_url}")
            self.targets = self._wait_scraped()
            self.log("prometheus scraped every target")
        except BaseException:
            self.stop()
            raise
        return self

    def _spawn(self, c):
        c._log = open(c.log_path, "wb")
        if c.data_dir:
            try:
                os.remove(os.path.join(c.data_dir, "ports.json"))
            except FileNotFoundError:
                pass
        c.proc = subprocess.Popen(c.args, cwd=c.pod.dir, env=c.env, stdout=c._log, stderr=subprocess.STDOUT,
                                  stdin=subprocess.DEVNULL, start_new_session=True)

    def _exited(self, c, what):
        return LocalRunError(f"{c.pod.name}/{c.name} exited with {c.proc.returncode} while {what}:\n"
                             f"{' '.join(c.args)}\n{c.log_tail()}")

    def _wait_ready(self, pod, c):
        for kind in ("startupProbe", "readinessProbe"):
            probe = c.spec.get(kind)
            if not probe:
                continue
            limit = probe.get("initialDelaySeconds", 0) + probe.get("periodSeconds", 10) * probe.get(
                "failureThreshold", 3)
            deadline = time.monotonic() + min(limit, START_DEADLINE_S)
            last = None
            while True:
                if c.proc.poll() is not None:
                    raise self._exited(c, f"its {kind} was being run")
                ok, last = self._probe(pod, probe)
                if ok:
                    break
                if time.monotonic() >= deadline:
                    raise LocalRunError(f"{pod.name}/{c.name}: {kind} {json.dumps(probe)} did not pass in "
                                        f"{min(limit, START_DEADLINE_S)} s: {last}\n{c.log_tail()}")
                time.sleep(POLL_S)
        probe = c.spec.get("livenessProbe")
        if probe:
            ok, last = self._probe(pod, probe)
            if not ok:
                raise LocalRunError(f"{pod.name}/{c.name}: livenessProbe {json.dumps(probe)} failed: {last}")
        # Like the kubelet's, the probes' connections do not stay open (an open client
        # connection holds up serve's stop by its 5 s drain).
        self._close_channels()
        # The ports serve chose are the ones given.
        if c.data_dir:
            path = os.path.join(c.data_dir, "ports.json")
            deadline = time.monotonic() + START_DEADLINE_S
            while not os.path.exists(path):
                if c.proc.poll() is not None:
                    raise self._exited(c, "ports.json was awaited")
                if time.monotonic() >= deadline:
                    raise LocalRunError(f"{pod.name}/{c.name}: no {path}")
                time.sleep(POLL_S)
            reported = {}
            while not reported:
                try:
                    with open(path) as f:
                        reported = json.load(f)
                except ValueError:  # being written
                    time.sleep(POLL_S)
            for flag, port in c.port_flags.items():
                key = ports_json_key(flag)
                if key in reported and reported[key] != port:
                    raise LocalRunError(f"{pod.name}/{c.name}: --{flag}={port} given, ports.json says {reported[key]}")

    def _probe(self, pod, probe):
        """(passed, detail) of one run of a Kubernetes probe against the pod's host ports."""
        timeout = probe.get("timeoutSeconds", 1)
        try:
            if "grpc" in probe:
                port = pod.host_port(probe["grpc"]["port"])
                health_pb2, health_pb2_grpc = _health_modules()
                key = ("127.0.0.1", port)
                if key not in self._channels:
                    self._channels[key] = grpc.insecure_channel(f"127.0.0.1:{port}")
                stub = health_pb2_grpc.HealthStub(self._channels[key])
                try:
                    r = stub.Check(health_pb2.HealthCheckRequest(service=probe["grpc"].get("service", "")),
                                   timeout=timeout)
                except grpc.RpcError as e:
                    # A fresh connection next time, as the kubelet makes (a channel that failed
                    # to connect would wait out gRPC's reconnect backoff).
                    self._channels.pop(key).close()
                    return False, f"grpc {e.code()}: {e.details()}"
                return r.status == health_pb2.HealthCheckResponse.SERVING, f"grpc status {r.status}"
            if "httpGet" in probe:
                h = probe["httpGet"]
                url = f"{h.get('scheme', 'HTTP').lower()}://127.0.0.1:{pod.host_port(h['port'])}{h.get('path', '/')}"
                req = urllib.request.Request(url, headers={x["name"]: x["value"] for x in h.get("httpHeaders", [])})
                try:
                    with urllib.request.urlopen(req, timeout=timeout) as resp:
                        return 200 <= resp.status < 400, f"{url}: {resp.status}"
                except urllib.error.HTTPError as e:
                    return False, f"{url}: {e.code}"
            if "tcpSocket" in probe:
                port = pod.host_port(probe["tcpSocket"]["port"])
                with socket.create_connection(("127.0.0.1", port), timeout=timeout):
                    return True, f"tcp {port} open"
            raise LocalRunError(f"{pod.name}: probe {json.dumps(probe)} is not supported here")
        except (OSError, urllib.error.URLError) as e:
            return False, str(e)

    # ---- Prometheus ----

    def scrape_config(self):
        """The scrape configuration the pods' prometheus.io/* annotations imply (a dict)."""
        static = []
        for pod in self.pods:
            a = pod.annotations
            if a.get("prometheus.io/scrape") != "true":
                continue
            if "prometheus.io/port" not in a:
                raise LocalRunError(f"{pod.name}: prometheus.io/scrape without prometheus.io/port")
            labels = {prom_label_name(k): v for k, v in sorted(pod.labels.items())}
            labels.update({
                "__metrics_path__": a.get("prometheus.io/path") or "/metrics",
                "__scheme__": a.get("prometheus.io/scheme") or "http",
                "kubernetes_namespace": self.namespace,
                "kubernetes_pod_name": pod.name,
                "service": pod.component,
            })
            static.append({"targets": [f"127.0.0.1:{pod.host_port(a['prometheus.io/port'])}"], "labels": labels})
        if not static:
            raise LocalRunError("no pod has prometheus.io/scrape: \"true\" (metrics.podAnnotations off?)")
        return {
            "global": {"scrape_interval": self.scrape_interval, "scrape_timeout": self.scrape_interval,
                       "evaluation_interval": self.scrape_interval},
            "scrape_configs": [{"job_name": "kubernetes-pods", "static_configs": static}],
        }

    def _write_prometheus_config(self):
        d = os.path.join(self.workdir, "prometheus")
        os.makedirs(os.path.join(d, "data"), exist_ok=True)
        self.prometheus_config_path = os.path.join(d, "prometheus.yml")
        with open(self.prometheus_config_path, "w") as f:
            f.write("# Written by deploy/k8s/local_run.py from the chart's prometheus.io/* pod annotations.\n")
            yaml.safe_dump(self.scrape_config(), f, sort_keys=False)

    def _start_prometheus(self):
        d = os.path.dirname(self.prometheus_config_path)
        port = free_ports(1)[0]
        self.prometheus_url = f"http://127.0.0.1:{port}"
        self._prom_log = open(os.path.join(d, "prometheus.log"), "wb")
        self.prometheus_proc = subprocess.Popen(
            [self.prometheus_bin, f"--config.file={self.prometheus_config_path}",
             f"--storage.tsdb.path={os.path.join(d, 'data')}", f"--web.listen-address=127.0.0.1:{port}"],
            cwd=d, stdout=self._prom_log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True)

        def ready():
            if self.prometheus_proc.poll() is not None:
                raise LocalRunError(f"prometheus exited with {self.prometheus_proc.returncode}:\n"
                                    + _tail(os.path.join(d, "prometheus.log")))
            try:
                with urllib.request.urlopen(self.prometheus_url + "/-/ready", timeout=2) as r:
                    return r.status == 200
            except (OSError, urllib.error.URLError):
                return False
        _poll(ready, START_DEADLINE_S, "prometheus to be ready")

    def prometheus_api(self, path, **params):
        """GET /api/v1/<path> of the Prometheus; its `data`."""
        url = f"{self.prometheus_url}/api/v1/{path}"
        if params:
            url += "?" + urllib.parse.urlencode(params)
        with urllib.request.urlopen(url, timeout=10) as r:
            body = json.load(r)
        if body.get("status") != "success":
            raise LocalRunError(f"{url}: {body}")
        return body["data"]

    def _wait_scraped(self):
        expected = len(self.scrape_config()["scrape_configs"][0]["static_configs"])
        last = []

        def scraped():
            nonlocal last
            if self.prometheus_proc.poll() is not None:
                raise LocalRunError(f"prometheus exited with {self.prometheus_proc.returncode}")
            last = self.prometheus_api("targets", state="active")["activeTargets"]
            return len(last) == expected and all(t["health"] == "up" for t in last) and last
        try:
            return _poll(scraped, START_DEADLINE_S, "prometheus to scrape every target")
        except LocalRunError as e:
            detail = "\n".join(f"  {t['labels'].get('kubernetes_pod_name')} {t['scrapeUrl']}: {t['health']} "
                               f"{t.get('lastError', '')}" for t in last)
            raise LocalRunError(f"{e}\n{detail}") from None

    # ---- stopping ----

    def processes(self):
        """(name, Popen) of every child started, Prometheus first, then the Deployments, then the rest."""
        out = []
        if self.prometheus_proc is not None:
            out.append(("prometheus", self.prometheus_proc))
        for kind_first in (True, False):
            for pod in self.pods:
                if (pod.kind != "StatefulSet") == kind_first:
                    out += [(f"{pod.name}/{c.name}", c.proc) for c in pod.containers if c.proc is not None]
        return out

    def stop(self):
        """SIGTERM to every child: Prometheus, the gateway, then the backends together; SIGKILL
        after the pod's terminationGracePeriodSeconds. Returns {process: exit code}."""
        with self._lock:
            if self._stopped:
                return self.exit_codes
            self._stopped = True
        self._close_channels()
        codes = {}
        graces = {f"{p.name}/{c.name}": p.grace_s for p in self.pods for c in p.containers}

        def term(batch):
            for name, proc in batch:
                if proc.poll() is None:
                    proc.send_signal(signal.SIGTERM)
            for name, proc in batch:
                try:
                    codes[name] = proc.wait(timeout=graces.get(name, 30))
                except subprocess.TimeoutExpired:
                    self.log(f"{name} did not stop within its grace period: SIGKILL")
                    proc.kill()
                    proc.wait()
                    codes[name] = "killed"
        procs = self.processes()
        term([p for p in procs if p[0] == "prometheus"])
        term([p for p in procs if p[0] != "prometheus" and p[0].split("/")[0] in
              {pod.name for pod in self.pods if pod.kind != "StatefulSet"}])
        term([p for p in procs if p[0] not in codes])
        for pod in self.pods:
            for c in pod.containers:
                if c._log:
                    c._log.close()
        if self._prom_log:
            self._prom_log.close()
        if self.own_workdir and not self.keep and self.workdir and os.path.isdir(self.workdir):
            shutil.rmtree(self.workdir, ignore_errors=True)
        self.exit_codes = codes
        return codes

    def _close_channels(self):
        for ch in self._channels.values():
            ch.close()
        self._channels.clear()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def _health_modules():
    # grpcio owns the `grpc` package: the generated grpc/health/v1 is added to its path.
    path = os.path.join(PY_GEN, "grpc")
    if path not in grpc.__path__:
        grpc.__path__.append(path)
    return (importlib.import_module("grpc.health.v1.health_pb2"),
            importlib.import_module("grpc.health.v1.health_pb2_grpc"))


def _poll(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise LocalRunError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(POLL_S)


def _tail(path, n=3000):
    try:
        with open(path, errors="replace") as f:
            return f.read()[-n:]
    except OSError:
        return ""


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 epilog="The rewrites it does are listed in the script's docstring.")
    ap.add_argument("--values", "-f", action="append", default=[], metavar="FILE",
                    help="a values file for helm template (repeatable); default: the chart's values")
    ap.add_argument("--keep", action="store_true", help="keep the working directory (data, files, logs)")
    ap.add_argument("--release", default="thingtank")
    ap.add_argument("--namespace", default="thingtank")
    ap.add_argument("--listen-address", default="127.0.0.1",
                    help="what --listen-address becomes ('as-rendered' keeps the chart's 0.0.0.0)")
    ap.add_argument("--scrape-interval", default=SCRAPE_INTERVAL)
    args = ap.parse_args(argv)

    stop = threading.Event()
    running = False

    def on_signal(signum, _frame):
        if not running:  # during the start: abort it (start() stops what it started)
            raise KeyboardInterrupt(signal.Signals(signum).name)
        stop.set()
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    cluster = LocalCluster(values=args.values, release=args.release, namespace=args.namespace, keep=args.keep,
                           listen_address=args.listen_address, scrape_interval=args.scrape_interval)
    try:
        cluster.start()
    except LocalRunError as e:
        print(f"local_run: {e}", file=sys.stderr, flush=True)
        return 1
    except KeyboardInterrupt:
        print("local_run: interrupted during the start; stopped what had started", file=sys.stderr, flush=True)
        return 130
    running = True
    print(f"gateway: {cluster.gateway_address}", flush=True)
    if cluster.admin_key_id:
        print(f"admin API key id: {cluster.admin_key_id} (its secret: the line '{cluster.admin_key_id}' of "
              f"{cluster.admin_key_file})", flush=True)
    else:
        print("admin API key id: none (auth off)", flush=True)
    print(f"prometheus: {cluster.prometheus_url}", flush=True)
    for t in cluster.targets:
        print(f"  target {t['labels']['kubernetes_pod_name']} {t['scrapeUrl']}: {t['health']}", flush=True)
    print(f"workdir: {cluster.workdir}{' (kept)' if args.keep else ' (removed at exit)'}", flush=True)
    print("running; Ctrl-C stops every process", flush=True)
    died = None
    while not stop.wait(0.5):
        for name, proc in cluster.processes():
            if proc.poll() is not None:
                died = f"{name} exited with {proc.returncode}"
                break
        if died:
            print(f"local_run: {died}; stopping the rest", file=sys.stderr, flush=True)
            break
    codes = cluster.stop()
    bad = {k: v for k, v in codes.items() if v != 0}
    print("stopped: " + ", ".join(f"{k}={v}" for k, v in codes.items()), flush=True)
    return 1 if bad or died else 0


if __name__ == "__main__":
    sys.exit(main())
