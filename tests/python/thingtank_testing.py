"""Shared helpers of the Python integration tests: real `thingtank serve` processes.

Starts servers on free ports (port 0) with temporary data directories, finds
their ports in <data-dir>/ports.json, waits for the gRPC channel to be ready,
and stops them (SIGTERM, exit code 0 expected) or kills them (kill -9). Only
processes started here are signalled, by pid.

Environment:
  THINGTANK_BIN     the thingtank binary (default build/dev/tools/thingtank/thingtank)
  THINGTANK_PY_GEN  the generated Python modules (default build/dev/gen/python)

Run with /usr/bin/python3 (Debian's, with python3-grpcio and python3-protobuf).
"""

import importlib
import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("THINGTANK_BIN", os.path.join(REPO, "build/dev/tools/thingtank/thingtank"))
PY_GEN = os.environ.get("THINGTANK_PY_GEN", os.path.join(REPO, "build/dev/gen/python"))

# Generous deadlines: a slow or busy machine must not fail the tests. Every
# wait below polls a condition until its deadline; none is a fixed sleep.
START_DEADLINE_S = 60
STOP_DEADLINE_S = 60
CALL_DEADLINE_S = 30
POLL_INTERVAL_S = 0.02

import grpc  # noqa: E402  (Debian's python3-grpcio)


def _load_generated():
    """Imports the modules generated from proto/ (and google/rpc) from PY_GEN.

    The generated package directories have no __init__.py; they are namespace
    packages. `google` is also Debian's google.protobuf namespace, so PY_GEN is
    put first on sys.path and, should that not resolve google.rpc, the two files
    are loaded directly.
    """
    if not os.path.isdir(PY_GEN):
        raise unittest.SkipTest("no generated Python modules at %s (build first, or set "
                                "THINGTANK_PY_GEN)" % PY_GEN)
    if PY_GEN not in sys.path:
        sys.path.insert(0, PY_GEN)
    importlib.invalidate_caches()
    try:
        status_pb2 = importlib.import_module("google.rpc.status_pb2")
        error_details_pb2 = importlib.import_module("google.rpc.error_details_pb2")
    except ImportError:
        def load(name, relpath):
            spec = importlib.util.spec_from_file_location(name, os.path.join(PY_GEN, relpath))
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = module
            spec.loader.exec_module(module)
            return module
        status_pb2 = load("google.rpc.status_pb2", "google/rpc/status_pb2.py")
        error_details_pb2 = load("google.rpc.error_details_pb2", "google/rpc/error_details_pb2.py")
    queues_pb2 = importlib.import_module("thingtank.queues.v1.queues_pb2")
    queues_pb2_grpc = importlib.import_module("thingtank.queues.v1.queues_pb2_grpc")
    return queues_pb2, queues_pb2_grpc, status_pb2, error_details_pb2


def _load_tables():
    """The tables modules, loaded separately so that queues tests keep working
    on a build without them."""
    tables_pb2 = importlib.import_module("thingtank.tables.v1.tables_pb2")
    tables_pb2_grpc = importlib.import_module("thingtank.tables.v1.tables_pb2_grpc")
    return tables_pb2, tables_pb2_grpc


try:
    queues_pb2, queues_pb2_grpc, status_pb2, error_details_pb2 = _load_generated()
    GENERATED_ERROR = None
except (unittest.SkipTest, ImportError) as e:  # reported by require_build()
    queues_pb2 = queues_pb2_grpc = status_pb2 = error_details_pb2 = None
    GENERATED_ERROR = e

try:
    if GENERATED_ERROR is not None:
        raise GENERATED_ERROR
    tables_pb2, tables_pb2_grpc = _load_tables()
    TABLES_GENERATED_ERROR = None
except (unittest.SkipTest, ImportError) as e:  # reported by require_build("tables")
    tables_pb2 = tables_pb2_grpc = None
    TABLES_GENERATED_ERROR = e


def load_compute():
    """The compute modules (EC2, CloudWatch, Auto Scaling): (compute_pb2, compute_pb2_grpc)."""
    require_build()
    return (importlib.import_module("thingtank.compute.v1.compute_pb2"),
            importlib.import_module("thingtank.compute.v1.compute_pb2_grpc"))


def load_objects():
    """The objects modules (S3): (objects_pb2, objects_pb2_grpc)."""
    require_build()
    return (importlib.import_module("thingtank.objects.v1.objects_pb2"),
            importlib.import_module("thingtank.objects.v1.objects_pb2_grpc"))


def free_port():
    """A TCP port that was free a moment ago (for a process that must know
    another's port before that one starts, e.g. --gateway-address)."""
    import socket
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def require_build(service="queues"):
    """Fails (not skips) when the binary or the generated modules are missing:
    under ctest a missing build is an error, not a reason to pass."""
    if not os.access(BIN, os.X_OK):
        raise AssertionError("no thingtank binary at %s (build first, or set THINGTANK_BIN)" % BIN)
    if GENERATED_ERROR is not None:
        raise AssertionError("generated Python modules not loadable: %s" % GENERATED_ERROR)
    if service == "tables" and TABLES_GENERATED_ERROR is not None:
        raise AssertionError("generated tables Python modules not loadable: %s"
                             % TABLES_GENERATED_ERROR)


def wait_until(predicate, timeout, what, interval=POLL_INTERVAL_S):
    """Polls predicate() until it returns a truthy value; returns that value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError("timed out after %.0f s waiting for %s" % (timeout, what))
        time.sleep(interval)


class ServerProcess:
    """One `thingtank serve` process with its own data directory.

    ports: the JSON object of <data-dir>/ports.json once started.
    """

    def __init__(self, args, data_dir=None, env=None):
        self.args = list(args)
        self.own_dir = data_dir is None
        self.data_dir = data_dir or tempfile.mkdtemp(prefix="thingtank-it-")
        self.env = env
        self.proc = None
        self.ports = None
        self.log_path = None
        self._log = None
        self.starts = 0

    @property
    def ports_path(self):
        return os.path.join(self.data_dir, "ports.json")

    def start(self, required=()):
        """Starts the process and waits until ports.json names `required` keys."""
        # A stale ports.json (from a killed run on this data dir) must not be read.
        try:
            os.remove(self.ports_path)
        except FileNotFoundError:
            pass
        self.starts += 1
        self.log_path = os.path.join(self.data_dir, "server-%d.log" % self.starts)
        self._log = open(self.log_path, "wb")
        cmd = [BIN, "serve", "--data-dir", self.data_dir] + self.args
        self.proc = subprocess.Popen(cmd, stdout=self._log, stderr=subprocess.STDOUT,
                                     env=self.env, start_new_session=True)
        self.ports = self._wait_for_ports(required)
        return self

    def _wait_for_ports(self, required):
        def read():
            if self.proc.poll() is not None:
                raise AssertionError("thingtank serve %s exited with %d before writing ports.json:\n%s"
                                     % (" ".join(self.args), self.proc.returncode, self.log_tail()))
            try:
                with open(self.ports_path) as f:
                    ports = json.load(f)
            except (OSError, ValueError):
                return None
            if not isinstance(ports, dict) or not all(k in ports for k in required):
                return None
            return ports
        return wait_until(read, START_DEADLINE_S, "%s" % self.ports_path)

    def log_tail(self, n=4000):
        try:
            with open(self.log_path, "rb") as f:
                data = f.read()
            return data[-n:].decode("utf-8", "replace")
        except (OSError, TypeError):
            return ""

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, check=True):
        """SIGTERM and wait; asserts exit code 0 when check."""
        if self.proc is None:
            return None
        code = self.proc.poll()
        if code is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                code = self.proc.wait(timeout=STOP_DEADLINE_S)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                self._close_log()
                raise AssertionError("thingtank serve did not stop within %d s of SIGTERM:\n%s"
                                     % (STOP_DEADLINE_S, self.log_tail()))
        self._close_log()
        if check and code != 0:
            raise AssertionError("thingtank serve exited with %d after SIGTERM (expected 0):\n%s"
                                 % (code, self.log_tail()))
        return code

    def kill9(self):
        """kill -9 (crash tests)."""
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self._close_log()

    def _close_log(self):
        if self._log is not None:
            self._log.close()
            self._log = None

    def cleanup(self):
        """Kills the process if still running and removes its data directory."""
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self._close_log()
        if self.own_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)


def ready_channel(port, timeout=START_DEADLINE_S):
    channel = grpc.insecure_channel("127.0.0.1:%d" % port)
    try:
        grpc.channel_ready_future(channel).result(timeout=timeout)
    except grpc.FutureTimeoutError:
        channel.close()
        raise AssertionError("gRPC channel to 127.0.0.1:%d not ready within %d s" % (port, timeout))
    return channel


class Deployment:
    """ThingTank reachable through a gateway: monolithic (one process) or
    microservice (a process running `service` -- "queues" or "tables" -- and a
    gateway process forwarding to it). In monolithic mode the args of both are
    given to the one process."""

    MONOLITHIC = "monolithic"
    MICROSERVICE = "microservice"

    def __init__(self, mode, gateway_args=(), backend_args=(), service="queues",
                 other_services=(), peer_gateway=False):
        """other_services (microservice mode): more services, each in its own
        process behind the same gateway (e.g. queues beside objects).
        peer_gateway (microservice mode): the service's process reaches the
        others through the gateway (--gateway-address); the gateway's port is
        chosen before the gateway starts."""
        self.mode = mode
        self.service = service
        self.processes = []
        self.channels = []
        self.others = {}
        if mode == self.MICROSERVICE and (other_services or peer_gateway):
            self._start_microservices(gateway_args, backend_args, other_services, peer_gateway)
        elif mode == self.MONOLITHIC:
            self.gateway = ServerProcess(["--gateway-port", "0", "--metrics-port", "0", "--wamp-ws-port", "0"]
                                         + list(gateway_args) + list(backend_args))
            self.backend = self.gateway
            self.processes.append(self.gateway)
            self.gateway.start(required=("gateway", "metrics"))
        elif mode == self.MICROSERVICE:
            self.backend = ServerProcess(["--services=%s" % service, "--%s-port" % service, "0",
                                          "--metrics-port", "0", "--wamp-ws-port", "0"] + list(backend_args))
            self.processes.append(self.backend)
            self.backend.start(required=(service, "metrics"))
            self.gateway = ServerProcess(
                ["--services=gateway",
                 "--backends=%s=127.0.0.1:%d" % (service, self.backend.ports[service]),
                 "--gateway-port", "0", "--metrics-port", "0", "--wamp-ws-port", "0"] + list(gateway_args))
            self.processes.append(self.gateway)
            self.gateway.start(required=("gateway", "metrics"))
        else:
            raise ValueError(mode)
        self.channel = self.new_channel()

    def _start_microservices(self, gateway_args, backend_args, other_services, peer_gateway):
        common = ["--metrics-port", "0", "--wamp-ws-port", "0"]
        backends = {}
        for name in other_services:
            p = ServerProcess(["--services=%s" % name, "--%s-port" % name, "0"] + common)
            self.processes.append(p)
            p.start(required=(name, "metrics"))
            self.others[name] = p
            backends[name] = p.ports[name]
        gateway_port = free_port() if peer_gateway else 0
        peer = ["--gateway-address", "127.0.0.1:%d" % gateway_port] if peer_gateway else []
        self.backend = ServerProcess(["--services=%s" % self.service, "--%s-port" % self.service, "0"]
                                     + common + peer + list(backend_args))
        self.processes.append(self.backend)
        self.backend.start(required=(self.service, "metrics"))
        backends[self.service] = self.backend.ports[self.service]
        self.gateway = ServerProcess(
            ["--services=gateway",
             "--backends=" + ",".join("%s=127.0.0.1:%d" % kv for kv in sorted(backends.items())),
             "--gateway-port", str(gateway_port)] + common + list(gateway_args))
        self.processes.append(self.gateway)
        self.gateway.start(required=("gateway", "metrics"))

    @property
    def gateway_port(self):
        return self.gateway.ports["gateway"]

    @property
    def gateway_metrics_port(self):
        return self.gateway.ports["metrics"]

    @property
    def queues_metrics_port(self):
        """The metrics port of the process that runs the queues service."""
        return self.backend.ports["metrics"]

    @property
    def service_metrics_port(self):
        """The metrics port of the process that runs the service."""
        return self.backend.ports["metrics"]

    def new_channel(self):
        channel = ready_channel(self.gateway_port)
        self.channels.append(channel)
        return channel

    def stub(self, channel=None):
        return queues_pb2_grpc.QueuesServiceStub(channel or self.channel)

    def tables_stub(self, channel=None):
        return tables_pb2_grpc.TablesServiceStub(channel or self.channel)

    def stop(self):
        """Graceful stop, gateway first; asserts every exit code is 0."""
        self._close_channels()
        errors = []
        for p in reversed(self.processes):
            try:
                p.stop(check=True)
            except AssertionError as e:
                errors.append(str(e))
        if errors:
            raise AssertionError("\n".join(errors))

    def _close_channels(self):
        for c in self.channels:
            c.close()
        self.channels = []

    def cleanup(self):
        self._close_channels()
        for p in reversed(self.processes):
            p.cleanup()


# ---------------------------------------------------------------------------
# Crash tests: a load against a server that is killed (kill -9) and restarted


# Codes a call may fail with when the server is killed under it.
CRASH_CODES = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED,
               grpc.StatusCode.CANCELLED, grpc.StatusCode.UNKNOWN, grpc.StatusCode.INTERNAL)


class CrashLoad:
    """Worker threads that write to the current server. Subclasses implement
    work(index, channel): write until a call fails (then return, to wait for
    the restarted server) or stopped() is true. A write is recorded with ack()
    only after its RPC returned OK; one whose RPC failed with failed(...,
    unsure=key) is `unsure`: the kill may have landed before or after it."""

    WORKER = "worker"  # for messages: "a <WORKER> thread did not stop"

    def __init__(self, pb, workers):
        self.pb = pb
        self.cond = threading.Condition()
        self.port = None
        self.generation = 0
        self.stopping = False
        self.acked = []
        self.unsure = []
        self.errors = []
        self.threads = [threading.Thread(target=self._run, args=(i,), daemon=True)
                        for i in range(workers)]

    def set_server(self, port):
        with self.cond:
            self.port = port
            self.generation += 1
            self.cond.notify_all()

    def server_down(self):
        with self.cond:
            self.port = None

    def start(self):
        for t in self.threads:
            t.start()

    def stop(self):
        with self.cond:
            self.stopping = True
            self.cond.notify_all()
        for t in self.threads:
            t.join(CALL_DEADLINE_S)
            if t.is_alive():
                raise AssertionError("a %s thread did not stop" % self.WORKER)

    def stopped(self):
        with self.cond:
            return self.stopping

    def acked_count(self):
        with self.cond:
            return len(self.acked)

    def ack(self, key):
        with self.cond:
            self.acked.append(key)

    def failed(self, what, e, unsure=None):
        """Records a failed call (its key as unsure when given); an error
        other than one of CRASH_CODES is recorded in errors."""
        with self.cond:
            if unsure is not None:
                self.unsure.append(unsure)
            if e.code() not in CRASH_CODES:
                self.errors.append("%s: %s %s" % (what, e.code(), e.details()))

    def work(self, index, channel):
        raise NotImplementedError

    def _run(self, index):
        seen_generation = 0
        channel = None
        try:
            while True:
                with self.cond:
                    while not self.stopping and (self.port is None
                                                 or self.generation == seen_generation):
                        self.cond.wait()
                    if self.stopping:
                        return
                    seen_generation, port = self.generation, self.port
                channel = grpc.insecure_channel("127.0.0.1:%d" % port)
                self.work(index, channel)
                channel.close()
                channel = None
        finally:
            if channel is not None:
                channel.close()


def start_crash_server(test):
    """A monolithic server for a crash test (cleaned up with the test) and a
    ready channel to its gateway."""
    server = ServerProcess(["--gateway-port", "0", "--metrics-port", "0", "--wamp-ws-port", "0"])
    test.addCleanup(server.cleanup)
    server.start(required=("gateway", "metrics"))
    return server, ready_channel(server.ports["gateway"])


def start_crash_load(test, load, server):
    """Starts load against server; stops it with the test unless stopped before."""
    test.addCleanup(lambda: load.stop() if not load.stopping else None)
    load.set_server(server.ports["gateway"])
    load.start()


def kill_and_restart(server, load, channel, resume=True):
    """kill -9 under load, restart on the same data directory and, when resume,
    point the load at it again; returns a ready channel to the new gateway."""
    channel.close()
    load.server_down()
    server.kill9()
    server.start(required=("gateway", "metrics"))  # removes the stale ports.json first
    channel = ready_channel(server.ports["gateway"])
    if resume:
        load.set_server(server.ports["gateway"])
    return channel


# ---------------------------------------------------------------------------
# Errors


class ErrorDetails:
    """The google.rpc details of a failed call."""

    def __init__(self, code, message, status):
        self.code = code
        self.message = message
        self.status = status
        self.fields = []        # BadRequest.field_violations[].field
        self.reasons = []       # ErrorInfo.reason
        self.retry_delays = []  # RetryInfo.retry_delay, in seconds
        if status is None:
            return
        for any_msg in status.details:
            br = error_details_pb2.BadRequest()
            ei = error_details_pb2.ErrorInfo()
            ri = error_details_pb2.RetryInfo()
            if any_msg.Is(br.DESCRIPTOR):
                any_msg.Unpack(br)
                self.fields.extend(v.field for v in br.field_violations)
            elif any_msg.Is(ei.DESCRIPTOR):
                any_msg.Unpack(ei)
                self.reasons.append(ei.reason)
            elif any_msg.Is(ri.DESCRIPTOR):
                any_msg.Unpack(ri)
                self.retry_delays.append(ri.retry_delay.seconds + ri.retry_delay.nanos / 1e9)

    @property
    def reason(self):
        return self.reasons[0] if self.reasons else None

    def __repr__(self):
        return ("ErrorDetails(code=%s, fields=%r, reasons=%r, retry_delays=%r, message=%r)"
                % (self.code, self.fields, self.reasons, self.retry_delays, self.message))


def error_details(rpc_error):
    """Decodes grpc-status-details-bin of a grpc.RpcError into ErrorDetails."""
    status = None
    for key, value in (rpc_error.trailing_metadata() or ()):
        if key == "grpc-status-details-bin":
            status = status_pb2.Status()
            status.ParseFromString(value)
    return ErrorDetails(rpc_error.code(), rpc_error.details(), status)


def call_error(fn, *args, **kwargs):
    """Calls fn expecting it to fail; returns the ErrorDetails. Fails if it succeeds."""
    kwargs.setdefault("timeout", CALL_DEADLINE_S)
    try:
        response = fn(*args, **kwargs)
    except grpc.RpcError as e:
        return error_details(e)
    raise AssertionError("expected the call to fail, it returned %r" % (response,))


# ---------------------------------------------------------------------------
# Health and HTTP

HEALTH_CHECK = "/grpc.health.v1.Health/Check"
SERVING = b"\x08\x01"  # HealthCheckResponse{status: SERVING}


def health_check(channel, service="", timeout=CALL_DEADLINE_S):
    """grpc.health.v1.Health/Check with raw bytes (Debian has no grpc_health).

    Returns the serialized HealthCheckResponse; SERVING is b'\\x08\\x01'."""
    request = b""
    if service:
        encoded = service.encode()
        request = b"\x0a" + _varint(len(encoded)) + encoded
    check = channel.unary_unary(HEALTH_CHECK, request_serializer=None, response_deserializer=None)
    return check(request, timeout=timeout)


def _varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def http_get(port, path, timeout=CALL_DEADLINE_S):
    """Returns (status, body text) of GET http://127.0.0.1:port/path."""
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=timeout) as r:
            return r.status, r.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", "replace")


def parse_labels(text):
    labels = {}
    i = 0
    while i < len(text):
        eq = text.index("=", i)
        name = text[i:eq].strip().lstrip(",").strip()
        assert text[eq + 1] == '"'
        j = eq + 2
        value = []
        while text[j] != '"':
            if text[j] == "\\":
                j += 1
                value.append({"n": "\n"}.get(text[j], text[j]))
            else:
                value.append(text[j])
            j += 1
        labels[name] = "".join(value)
        i = j + 1
        while i < len(text) and text[i] in ", ":
            i += 1
    return labels


def metric_samples(text, name):
    """[(labels dict, value)] of the samples of metric `name` in Prometheus text."""
    samples = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        if line.startswith(name + "{"):
            close = line.rindex("}")
            labels = parse_labels(line[len(name) + 1:close])
            value = line[close + 1:].split()[0]
        elif line.startswith(name + " "):
            labels = {}
            value = line[len(name) + 1:].split()[0]
        else:
            continue
        samples.append((labels, float(value)))
    return samples


def metric_sum(text, name, **match):
    """Sum of the samples of `name` whose labels include every key=value of match."""
    return sum(v for labels, v in metric_samples(text, name)
               if all(labels.get(k) == str(want) for k, want in match.items()))


def duration(seconds):
    """A google.protobuf.Duration of (possibly fractional) seconds."""
    from google.protobuf import duration_pb2
    d = duration_pb2.Duration()
    d.seconds = int(seconds)
    d.nanos = int(round((seconds - int(seconds)) * 1e9))
    return d


# ---------------------------------------------------------------------------
# Tables: attribute values, items, waiting for a table


def av(value):
    """A tables AttributeValue from a Python value: str S, int/float/Decimal N
    (use N("...") for an exact text), bytes B, bool BOOL, None NULL, list L,
    dict M, set/frozenset of str SS; an AttributeValue passes through."""
    pb = tables_pb2
    if isinstance(value, pb.AttributeValue):
        return value
    if isinstance(value, bool):
        return pb.AttributeValue(bool_value=value)
    if value is None:
        return pb.AttributeValue(null_value=True)
    if isinstance(value, str):
        return pb.AttributeValue(s=value)
    if isinstance(value, (int, float)):
        return pb.AttributeValue(n=str(value))
    if isinstance(value, bytes):
        return pb.AttributeValue(b=value)
    if isinstance(value, list):
        return pb.AttributeValue(l=pb.ListValue(values=[av(v) for v in value]))
    if isinstance(value, dict):
        return pb.AttributeValue(m=pb.MapValue(fields={k: av(v) for k, v in value.items()}))
    if isinstance(value, (set, frozenset)):
        return pb.AttributeValue(ss=pb.StringSet(values=sorted(value)))
    raise TypeError(type(value))


def N(text):
    """A number AttributeValue with this exact text."""
    return tables_pb2.AttributeValue(n=str(text))


def NS(*numbers):
    return tables_pb2.AttributeValue(ns=tables_pb2.NumberSet(values=[str(n) for n in numbers]))


def SS(*strings):
    return tables_pb2.AttributeValue(ss=tables_pb2.StringSet(values=list(strings)))


def item(**attrs):
    """A map of attribute name to AttributeValue (for item=, key=, values=)."""
    return {k: av(v) for k, v in attrs.items()}


def attrs(mapping):
    """An item map (or Item message) as plain Python: S str, N the text as
    int when integral else str, B bytes, BOOL, NULL None, L list, M dict,
    SS/NS/BS sorted tuples ('SS'|'NS'|'BS', ...)."""
    if isinstance(mapping, tables_pb2.Item):
        mapping = mapping.attributes
    return {k: plain(v) for k, v in mapping.items()}


def plain(v):
    kind = v.WhichOneof("value")
    if kind == "s":
        return v.s
    if kind == "n":
        try:
            return int(v.n)
        except ValueError:
            return v.n
    if kind == "b":
        return v.b
    if kind == "bool_value":
        return v.bool_value
    if kind == "null_value":
        return None
    if kind == "l":
        return [plain(x) for x in v.l.values]
    if kind == "m":
        return {k: plain(x) for k, x in v.m.fields.items()}
    if kind == "ss":
        return ("SS",) + tuple(sorted(v.ss.values))
    if kind == "ns":
        return ("NS",) + tuple(sorted(v.ns.values, key=float))
    if kind == "bs":
        return ("BS",) + tuple(sorted(v.bs.values))
    raise AssertionError("attribute value with no type: %r" % v)


def key_schema(hash_name, hash_type, range_name=None, range_type=None):
    """(key_schema, attribute_definitions) for CreateTableRequest; types "S", "N", "B"."""
    pb = tables_pb2
    types = {"S": pb.SCALAR_ATTRIBUTE_TYPE_S, "N": pb.SCALAR_ATTRIBUTE_TYPE_N,
             "B": pb.SCALAR_ATTRIBUTE_TYPE_B}
    schema = [pb.KeySchemaElement(attribute_name=hash_name, key_type=pb.KEY_TYPE_HASH)]
    defs = [pb.AttributeDefinition(attribute_name=hash_name, attribute_type=types[hash_type])]
    if range_name:
        schema.append(pb.KeySchemaElement(attribute_name=range_name, key_type=pb.KEY_TYPE_RANGE))
        defs.append(pb.AttributeDefinition(attribute_name=range_name,
                                           attribute_type=types[range_type]))
    return schema, defs


def create_table(stub, name, hash_key, range_key=None, read_units=None, write_units=None,
                 wait=True):
    """Creates a table (hash_key/range_key: (name, type)); provisioned when
    read_units/write_units are given, else on-demand. Waits until ACTIVE when
    wait; returns the CreateTableResponse."""
    pb = tables_pb2
    schema, defs = key_schema(hash_key[0], hash_key[1], *(range_key or (None, None)))
    request = pb.CreateTableRequest(table_name=name, key_schema=schema,
                                    attribute_definitions=defs)
    if read_units is None and write_units is None:
        request.billing_mode = pb.BILLING_MODE_PAY_PER_REQUEST
    else:
        request.billing_mode = pb.BILLING_MODE_PROVISIONED
        request.provisioned_throughput.CopyFrom(pb.ProvisionedThroughput(
            read_capacity_units=read_units or 1, write_capacity_units=write_units or 1))
    response = stub.CreateTable(request, timeout=CALL_DEADLINE_S)
    if wait:
        wait_table_active(stub, name)
    return response


def wait_table_active(stub, name, timeout=START_DEADLINE_S):
    """Polls DescribeTable until the table is ACTIVE; returns its TableDescription."""
    pb = tables_pb2

    def active():
        t = stub.DescribeTable(pb.DescribeTableRequest(table_name=name),
                               timeout=CALL_DEADLINE_S).table
        return t if t.table_status == pb.TABLE_STATUS_ACTIVE else None
    return wait_until(active, timeout, "table %s ACTIVE" % name)
