"""Shared code of the autoscaling demos (tools/demo/*.py).

Each demo starts its own `thingtank serve` (temporary data directory, every port
0, the chosen ports read from <data-dir>/ports.json) with --time-scale, its own
Prometheus (Debian's `prometheus` binary, a generated config scraping the
server's /metrics every second or faster), drives a scenario through the
gateway with the Python clients generated from proto/, reads the series back
from Prometheus' HTTP API (/api/v1/query_range) and writes a PNG plot, a short
text summary and the numbers as JSON into --out.

Time. Prometheus stamps samples with wall time; ThingTank's clock runs
--time-scale times faster. <data-dir>/clock.json holds the clock's anchor
({"wall_micros": W, "clock_micros": C, "time_scale": S}: the clock read C at wall
time W), so clock = C + (wall - W) * S exactly. The plots' x axis is the
ThingTank clock (minutes since the demo started), with wall seconds on the top
axis.

Only processes started here are signalled, by pid (never by name).

Needs Debian's python3-grpcio, python3-protobuf, python3-matplotlib and
prometheus; a demo started with another python3 re-runs itself with
/usr/bin/python3.
"""

import os
import sys

DEBIAN_PYTHON = "/usr/bin/python3"


def _ensure_debian_python():
    try:
        import grpc  # noqa: F401
        import google.protobuf  # noqa: F401
        import matplotlib  # noqa: F401
        return
    except ImportError as e:
        missing = e
    if (os.path.realpath(sys.executable) != os.path.realpath(DEBIAN_PYTHON)
            and os.access(DEBIAN_PYTHON, os.X_OK) and not os.environ.get("THINGTANK_DEMO_REEXEC")):
        os.environ["THINGTANK_DEMO_REEXEC"] = "1"
        os.execv(DEBIAN_PYTHON, [DEBIAN_PYTHON] + sys.argv)
    raise SystemExit("demo: %s; install Debian's packages: apt-get install python3-grpcio "
                     "python3-protobuf python3-matplotlib prometheus (and run with %s)"
                     % (missing, DEBIAN_PYTHON))


_ensure_debian_python()

import argparse  # noqa: E402
import importlib  # noqa: E402
import json  # noqa: E402
import shutil  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import urllib.error  # noqa: E402
import urllib.parse  # noqa: E402
import urllib.request  # noqa: E402

import grpc  # noqa: E402
import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))


def _first_existing(paths):
    for p in paths:
        if os.path.exists(p):
            return p
    return paths[0]


BIN = os.environ.get("THINGTANK_BIN") or _first_existing(
    [os.path.join(REPO, "build", preset, "tools/thingtank/thingtank") for preset in ("dev", "release")])
PY_GEN = os.environ.get("THINGTANK_PY_GEN") or _first_existing(
    [os.path.join(REPO, "build", preset, "gen/python") for preset in ("dev", "release")])
PROMETHEUS = os.environ.get("PROMETHEUS_BIN") or shutil.which("prometheus") or "/usr/bin/prometheus"

CALL_S = 30          # deadline of each gRPC call
START_S = 60         # deadline of a process start
POLL_S = 0.05        # polling interval of wait_until


class DemoError(Exception):
    pass


def wait_until(predicate, timeout, what, interval=POLL_S):
    """Polls predicate() until it returns a truthy value (returned); raises DemoError at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise DemoError("timed out after %.0f s waiting for %s" % (timeout, what))
        time.sleep(interval)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def load_generated():
    """(queues_pb2, queues_pb2_grpc, compute_pb2, compute_pb2_grpc) from PY_GEN."""
    if not os.path.isdir(PY_GEN):
        raise DemoError("no generated Python modules at %s (build first, or set THINGTANK_PY_GEN)"
                        % PY_GEN)
    if PY_GEN not in sys.path:
        sys.path.insert(0, PY_GEN)
    importlib.invalidate_caches()
    return tuple(importlib.import_module(m) for m in (
        "thingtank.queues.v1.queues_pb2", "thingtank.queues.v1.queues_pb2_grpc",
        "thingtank.compute.v1.compute_pb2", "thingtank.compute.v1.compute_pb2_grpc"))


# ---------------------------------------------------------------------------
# The clock


class Clock:
    """ThingTank's clock from <data-dir>/clock.json: clock = C + (wall - W) * S."""

    def __init__(self, anchor):
        self.wall0 = anchor["wall_micros"] / 1e6
        self.clock0 = anchor["clock_micros"] / 1e6
        self.scale = float(anchor["time_scale"])

    def to_clock(self, wall):
        return self.clock0 + (wall - self.wall0) * self.scale

    def to_wall(self, clock):
        return self.wall0 + (clock - self.clock0) / self.scale

    def now(self):
        return self.to_clock(time.time())


# ---------------------------------------------------------------------------
# Processes


class Server:
    """One `thingtank serve`, monolithic, every port 0, in a temporary data directory."""

    def __init__(self, time_scale, extra_args=(), keep_data=False):
        self.time_scale = time_scale
        self.extra_args = list(extra_args)
        self.keep_data = keep_data
        self.data_dir = tempfile.mkdtemp(prefix="thingtank-demo-")
        self.log_path = os.path.join(self.data_dir, "serve.log")
        self.proc = None
        self.ports = None
        self.clock = None
        self.channel = None

    def start(self):
        if not os.access(BIN, os.X_OK):
            raise DemoError("no thingtank binary at %s (build first, or set THINGTANK_BIN)" % BIN)
        cmd = [BIN, "serve", "--data-dir", self.data_dir, "--gateway-port", "0",
               "--metrics-port", "0", "--wamp-ws-port", "0",
               "--time-scale", str(self.time_scale)] + self.extra_args
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(cmd, stdout=self._log, stderr=subprocess.STDOUT,
                                     start_new_session=True)

        def ready():
            if self.proc.poll() is not None:
                raise DemoError("thingtank serve exited with %d:\n%s" % (self.proc.returncode,
                                                                          self.log_tail()))
            try:
                with open(os.path.join(self.data_dir, "ports.json")) as f:
                    ports = json.load(f)
                with open(os.path.join(self.data_dir, "clock.json")) as f:
                    anchor = json.load(f)
            except (OSError, ValueError):
                return None
            if "gateway" not in ports or "metrics" not in ports:
                return None
            return ports, anchor
        self.ports, anchor = wait_until(ready, START_S, "thingtank serve's ports.json and clock.json")
        self.clock = Clock(anchor)
        self.channel = grpc.insecure_channel(self.endpoint)
        try:
            grpc.channel_ready_future(self.channel).result(timeout=START_S)
        except grpc.FutureTimeoutError:
            raise DemoError("gateway %s not ready within %d s" % (self.endpoint, START_S))
        return self

    @property
    def endpoint(self):
        return "127.0.0.1:%d" % self.ports["gateway"]

    @property
    def metrics_target(self):
        return "127.0.0.1:%d" % self.ports["metrics"]

    def log_tail(self, n=3000):
        try:
            with open(self.log_path, "rb") as f:
                return f.read()[-n:].decode("utf-8", "replace")
        except OSError:
            return ""

    def stop(self):
        """SIGTERM (the server stops its instances), then SIGKILL after 60 s; removes the data."""
        if self.channel is not None:
            self.channel.close()
            self.channel = None
        code = None
        if self.proc is not None:
            code = _terminate(self.proc, 60)
            self._log.close()
            self.proc = None
        if not self.keep_data:
            shutil.rmtree(self.data_dir, ignore_errors=True)
        return code


def _terminate(proc, grace_s):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return proc.returncode


class Prometheus:
    """Debian's prometheus server with a generated config scraping `targets`."""

    def __init__(self, targets, scrape_interval="1s"):
        self.targets = list(targets)
        self.scrape_interval = scrape_interval
        self.dir = tempfile.mkdtemp(prefix="thingtank-demo-prometheus-")
        self.proc = None
        self.port = None

    def start(self):
        if not os.access(PROMETHEUS, os.X_OK):
            raise DemoError("no prometheus at %s: apt-get install prometheus (Debian's; the demo runs "
                            "the server binary itself, not the systemd service)" % PROMETHEUS)
        config = os.path.join(self.dir, "prometheus.yml")
        with open(config, "w") as f:
            f.write("global:\n  scrape_interval: %s\n  scrape_timeout: %s\n  evaluation_interval: %s\n"
                    "scrape_configs:\n  - job_name: thingtank\n    static_configs:\n"
                    "      - targets: [%s]\n"
                    % (self.scrape_interval, self.scrape_interval, self.scrape_interval,
                       ", ".join('"%s"' % t for t in self.targets)))
        for attempt in range(5):  # a free port can be taken before prometheus binds it
            self.port = free_port()
            self._log = open(os.path.join(self.dir, "prometheus-%d.log" % attempt), "wb")
            self.proc = subprocess.Popen(
                [PROMETHEUS, "--config.file=" + config,
                 "--storage.tsdb.path=" + os.path.join(self.dir, "data"),
                 "--web.listen-address=127.0.0.1:%d" % self.port, "--log.level=warn"],
                stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)

            def ready():
                if self.proc.poll() is not None:
                    return "exited"
                try:
                    with urllib.request.urlopen("http://127.0.0.1:%d/-/ready" % self.port,
                                                timeout=2) as r:
                        return "ready" if r.status == 200 else None
                except (OSError, urllib.error.URLError):
                    return None
            if wait_until(ready, START_S, "prometheus /-/ready") == "ready":
                break
            self._log.close()
        else:
            raise DemoError("prometheus did not start: see %s" % self.dir)
        # Every target scraped once: the series exist from here on.
        wait_until(lambda: len([v for _, v in self.query('up{job="thingtank"}') if v == 1])
                   == len(self.targets), START_S, "prometheus to scrape thingtank")
        return self

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def _api(self, path, params):
        url = "%s/api/v1/%s?%s" % (self.url, path, urllib.parse.urlencode(params))
        with urllib.request.urlopen(url, timeout=CALL_S) as r:
            body = json.load(r)
        if body.get("status") != "success":
            raise DemoError("prometheus %s %r: %s" % (path, params, body))
        return body["data"]

    def query(self, expr, at=None):
        """Instant query: [(labels, value)]."""
        params = {"query": expr}
        if at is not None:
            params["time"] = "%.3f" % at
        data = self._api("query", params)
        if data["resultType"] == "scalar":
            return [({}, float(data["result"][1]))]
        return [(r["metric"], float(r["value"][1])) for r in data["result"]]

    def query_range(self, expr, start, end, step):
        """[(labels, [(wall seconds, value)])] of /api/v1/query_range."""
        data = self._api("query_range", {"query": expr, "start": "%.3f" % start,
                                         "end": "%.3f" % end, "step": "%.3f" % step})
        return [(r["metric"], [(float(t), float(v)) for t, v in r["values"]])
                for r in data["result"]]

    def series(self, expr, start, end, step):
        """The one series of expr (summed if there are several): [(wall, value)]."""
        out = {}
        for _, values in self.query_range(expr, start, end, step):
            for t, v in values:
                out[t] = out.get(t, 0.0) + v
        return sorted(out.items())

    def stop(self):
        if self.proc is not None:
            _terminate(self.proc, 30)
            self._log.close()
            self.proc = None
        shutil.rmtree(self.dir, ignore_errors=True)


# ---------------------------------------------------------------------------
# A demo run


def parse_args(description, normal_scale, quick_scale, extra=None):
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--out", default="demo-out", help="where the PNG, summary and JSON go (default ./demo-out)")
    p.add_argument("--quick", action="store_true",
                   help="fast mode for the test suite: higher time scale, shorter phases")
    p.add_argument("--time-scale", type=float, default=None,
                   help="thingtank serve --time-scale (default %g, --quick %g)" % (normal_scale, quick_scale))
    p.add_argument("--keep-data", action="store_true", help="keep the server's data directory")
    if extra:
        extra(p)
    args = p.parse_args()
    if args.time_scale is None:
        args.time_scale = quick_scale if args.quick else normal_scale
    return args


class Demo:
    """Starts the server and Prometheus; stops both (by pid) whatever happens.

    After start(): self.server, self.prom, self.clock, the stubs (ec2, cw, asg,
    queues), the generated modules (qpb, cpb), self.t0 (clock seconds at start).
    """

    def __init__(self, name, args, serve_args=(), scrape_interval="1s"):
        self.name = name
        self.args = args
        self.serve_args = list(serve_args)
        self.scrape_interval = scrape_interval
        self.server = None
        self.prom = None
        self.wall_start = time.time()

    def __enter__(self):
        self.qpb, qgrpc, self.cpb, cgrpc = load_generated()
        os.makedirs(self.args.out, exist_ok=True)
        self.server = Server(self.args.time_scale, self.serve_args, self.args.keep_data).start()
        self.clock = self.server.clock
        ch = self.server.channel
        self.queues = qgrpc.QueuesServiceStub(ch)
        self.ec2 = cgrpc.ComputeServiceStub(ch)
        self.cw = cgrpc.CloudWatchServiceStub(ch)
        self.asg = cgrpc.AutoScalingServiceStub(ch)
        self.prom = Prometheus([self.server.metrics_target], self.scrape_interval).start()
        self.wall0 = time.time()
        self.t0 = self.clock.to_clock(self.wall0)
        log("%s: thingtank serve --time-scale %g on %s (metrics %s), prometheus on %s"
            % (self.name, self.args.time_scale, self.server.endpoint, self.server.metrics_target,
               self.prom.url))
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None and self.server is not None:
            log("%s failed; server log tail:\n%s" % (self.name, self.server.log_tail()))
        if self.prom is not None:
            self.prom.stop()
        if self.server is not None:
            self.server.stop()
        return False

    # Time helpers: x values of the plots are clock minutes since t0.
    def minutes(self, clock_s):
        return (clock_s - self.t0) / 60.0

    def wall_minutes(self, wall_s):
        return self.minutes(self.clock.to_clock(wall_s))

    def clock_minutes_now(self):
        return self.minutes(self.clock.now())

    def wait_clock_minutes(self, until_minute, what, slack_s=60):
        """Waits until the ThingTank clock is `until_minute` minutes past t0 (a phase length)."""
        wall_needed = max(0.0, self.clock.to_wall(self.t0 + until_minute * 60) - time.time())
        wait_until(lambda: self.clock_minutes_now() >= until_minute, wall_needed + slack_s, what)

    def step_s(self):
        """query_range step: the scrape interval (wall seconds)."""
        return parse_duration_s(self.scrape_interval)

    def series(self, expr, end_wall=None):
        """[(clock minutes since t0, value)] of expr from the demo's start to now."""
        end_wall = end_wall or time.time()
        return [(self.wall_minutes(t), v)
                for t, v in self.prom.series(expr, self.wall0, end_wall, self.step_s())]

    def outputs(self):
        base = os.path.join(self.args.out, self.name)
        return base + ".png", base + ".txt", base + ".json"

    def finish(self, lines, data, ok):
        """Writes the summary (text and JSON) and prints where the outputs are."""
        png, txt, js = self.outputs()
        wall = time.time() - self.wall_start
        head = ["%s: %s" % (self.name, "OK" if ok else "FAILED"),
                "thingtank serve --time-scale %g; x axis: ThingTank clock minutes since the start "
                "(wall seconds = clock seconds / %g); prometheus scrape interval %s (wall)"
                % (self.args.time_scale, self.args.time_scale, self.scrape_interval),
                "run time: %.1f s wall (%.1f clock minutes)" % (wall, self.clock_minutes_now()), ""]
        with open(txt, "w") as f:
            f.write("\n".join(head + lines) + "\n")
        data = dict(data, demo=self.name, ok=ok, time_scale=self.args.time_scale,
                    quick=self.args.quick, wall_seconds=wall, png=png, summary=txt)
        with open(js, "w") as f:
            json.dump(data, f, indent=1, sort_keys=True)
        print("\n".join(head + lines))
        print("plot:    %s\nsummary: %s\ndata:    %s" % (png, txt, js))


def parse_duration_s(text):
    if text.endswith("ms"):
        return float(text[:-2]) / 1000
    if text.endswith("s"):
        return float(text[:-1])
    raise ValueError(text)


def log(message):
    print(message, file=sys.stderr, flush=True)


def transitions(values):
    """The sequence of distinct consecutive values: [1, 1, 2, 2, 1] -> [1, 2, 1]."""
    out = []
    for v in values:
        if not out or out[-1] != v:
            out.append(v)
    return out


def first_time(series, predicate, after=float("-inf")):
    """The first x of [(x, y)] at or after `after` whose y satisfies predicate, or None."""
    for x, y in series:
        if x >= after and predicate(y):
            return x
    return None


def timestamp_s(ts):
    """A google.protobuf.Timestamp as float seconds."""
    return ts.seconds + ts.nanos / 1e9


# ---------------------------------------------------------------------------
# Plotting


def plot(path, title, panels, demo, xlabel=None):
    """Stacked panels sharing the x axis (clock minutes since t0), wall seconds on top.

    panels: [{"ylabel": str, "lines": [{"x": [...], "y": [...], "label": str,
    "step": bool, "style": dict}], "hlines": [(y, label)], "ylim": (lo, hi),
    "vlines": [(x, label)]}]
    """
    fig, axes = plt.subplots(len(panels), 1, sharex=True, figsize=(13, 2.3 * len(panels) + 1))
    if len(panels) == 1:
        axes = [axes]
    for ax, panel in zip(axes, panels):
        for line in panel.get("lines", []):
            style = dict(line.get("style", {}))
            if line.get("step"):
                ax.step(line["x"], line["y"], where="post", label=line.get("label"), **style)
            else:
                ax.plot(line["x"], line["y"], label=line.get("label"), **style)
        for y, label in panel.get("hlines", []):
            ax.axhline(y, color="grey", linestyle=":", linewidth=1, label=label)
        for x, label in panel.get("vlines", []):
            ax.axvline(x, color="black", linestyle="--", linewidth=0.8, alpha=0.6)
            ax.annotate(label, (x, 1), xycoords=("data", "axes fraction"), fontsize=7,
                        rotation=90, va="top", ha="right")
        if "ylim" in panel:
            ax.set_ylim(*panel["ylim"])
        ax.set_ylabel(panel["ylabel"])
        ax.grid(True, alpha=0.3)
        if any(line.get("label") for line in panel.get("lines", [])) or panel.get("hlines"):
            ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, borderaxespad=0)
    axes[-1].set_xlabel(xlabel or "ThingTank clock, minutes since start (--time-scale %g)"
                        % demo.args.time_scale)
    scale = demo.args.time_scale
    top = axes[0].secondary_xaxis("top", functions=(lambda m: m * 60 / scale, lambda s: s * scale / 60))
    top.set_xlabel("wall seconds since start", fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def is_png(path):
    """True when path is a PNG of nonzero width and height (signature and IHDR)."""
    import struct
    try:
        with open(path, "rb") as f:
            head = f.read(24)
    except OSError:
        return False
    if len(head) < 24 or head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
        return False
    width, height = struct.unpack(">II", head[16:24])
    return width > 0 and height > 0


def duration(seconds):
    """A google.protobuf.Duration of (possibly fractional) seconds."""
    from google.protobuf import duration_pb2
    return duration_pb2.Duration(seconds=int(seconds), nanos=int(round((seconds - int(seconds)) * 1e9)))
