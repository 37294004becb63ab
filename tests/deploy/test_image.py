#!/usr/bin/python3
"""The container image (deploy/image): built, run, called, stopped.

1. Build: `deploy/image/build.sh --from-build $THINGTANK_BIN --work-dir <build dir>/image
   --unpack <build dir>/image/bundle`: only the runtime stage of the Containerfile, from
   the binary the suite built (debug sections stripped), on the bookworm base build.sh
   makes with debootstrap. The base is cached in the work directory, so only a first
   run pays for debootstrap. The result is an OCI archive, which build.sh also unpacks
   (umoci) into an OCI runtime bundle: the image's root filesystem and its config.json.
2. Run, with the image's entrypoint and default command (`serve --listen-address=0.0.0.0
   --data-dir=/data --allow-insecure`), environment, user and working directory, and the
   ports chosen by the server (THINGTANK_*_PORT=0; it writes them to /data/ports.json):
   - podman, when it can run containers here: `podman run --network host -v DATA:/data
     oci-archive:...`, tried first (`podman run ... version`);
   - otherwise the unpacked root filesystem of that same archive under `unshare --mount`
     and a chroot (unshare --root), as the image's user (uid 10001, no capabilities),
     /data bind-mounted from DATA, /proc, a minimal /dev, /sys (read-only), the host's
     /etc/hosts and /etc/resolv.conf: what a container runtime sets up, without the
     namespaces other than mount, without cgroups (host network and pids).
   Either way the root filesystem is read-only (podman --read-only; a read-only bind
   mount), as under Kubernetes' readOnlyRootFilesystem: the server writes only to /data.
   On the machines of this project podman cannot run containers: podman's default
   rlimits need CAP_SYS_RESOURCE, which the machine withholds ("crun: setrlimit
   `RLIMIT_NOFILE`: Operation not permitted"), and with lower --ulimit values crun
   refuses the machine's hybrid cgroup layout ("crun: cgroups in hybrid mode not
   supported, drop all controllers from cgroupv2", also with --cgroups=disabled), so
   the test runs the chroot, and says so on stderr with podman's errors.
   THINGTANK_IMAGE_RUNTIME=podman or chroot forces one (podman failing is then an error).
3. Checks: the image's configuration (user 10001, entrypoint, command, /data volume,
   ports, org.opencontainers.image.* labels, no build tools inside); gRPC health
   (grpc.health.v1, the generated client of THINGTANK_PY_GEN) through the gateway,
   overall and for the queues service; the Containerfile's HEALTHCHECK command run
   inside the image; a queue create/send/receive/delete through the gateway (the
   generated thingtank.queues.v1 client); SIGTERM: exit code 0 within 10 s (the grace
   period of `docker stop`), the data directory intact (RocksDB of every service, owned
   by uid 10001) and a second run on it still holding the queue and its message.

Times on this machine (2 cores): a first run (debootstrap included) 45-56 s, up to about
2 minutes when Debian's mirror is slow; a cached run 9-20 s. Needs root (debootstrap, buildah, mounts); build.sh installs
with apt-get what it needs (debootstrap, buildah, binutils, umoci).

Run: PYTHONPATH=tests/python /usr/bin/python3 -m unittest -v tests/deploy/test_image.py
"""

import grpc
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
import unittest
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "python"))

import thingtank_testing as tt  # noqa: E402

BUILD_SH = os.path.join(tt.REPO, "deploy/image/build.sh")
CONTAINERFILE = os.path.join(tt.REPO, "deploy/image/Containerfile")
BUILD_DIR = os.path.dirname(os.path.dirname(os.path.abspath(tt.PY_GEN)))
WORK_DIR = os.environ.get("THINGTANK_IMAGE_WORK_DIR", os.path.join(BUILD_DIR, "image"))
BUNDLE = os.path.join(WORK_DIR, "bundle")
RUNTIME = os.environ.get("THINGTANK_IMAGE_RUNTIME", "auto")

BUILD_DEADLINE_S = 540      # a first run: debootstrap, apt-get in the image, commit, archive
PROBE_DEADLINE_S = 120
START_DEADLINE_S = 60
STOP_GRACE_S = 10           # `docker stop` / `podman stop` default
IMAGE_UID = 10001
QUEUE = "image-test"
KEPT = "kept across the restart"
QUEUES_SERVICE = "thingtank.queues.v1.QueuesService"

# The ports the server picks itself; the command stays the image's default.
PORT_ENV = {"THINGTANK_GATEWAY_PORT": "0", "THINGTANK_METRICS_PORT": "0",
            "THINGTANK_WAMP_WS_PORT": "0"}


def _load_health():
    """grpc.health.v1 from THINGTANK_PY_GEN (grpcio owns the `grpc` package)."""
    path = os.path.join(tt.PY_GEN, "grpc")
    if path not in grpc.__path__:
        grpc.__path__.append(path)
    from grpc.health.v1 import health_pb2, health_pb2_grpc
    return health_pb2, health_pb2_grpc


def _tail(path, n=4000):
    try:
        with open(path, "rb") as f:
            return f.read()[-n:].decode("utf-8", "replace")
    except OSError:
        return ""


def _healthcheck_command():
    """The exec form of the Containerfile's HEALTHCHECK ... CMD [...]."""
    with open(CONTAINERFILE) as f:
        text = f.read().replace("\\\n", " ")
    m = re.search(r"^HEALTHCHECK\b.*?\bCMD\s+(\[.*\])\s*$", text, re.M)
    if not m:
        raise AssertionError("no HEALTHCHECK ... CMD [...] in %s" % CONTAINERFILE)
    return json.loads(m.group(1))


def _oci_config(archive):
    """The image configuration (application/vnd.oci.image.config.v1+json) in the archive."""
    with tarfile.open(archive) as tar:
        def blob(digest):
            algo, hexdigest = digest.split(":", 1)
            return json.load(tar.extractfile("blobs/%s/%s" % (algo, hexdigest)))
        index = json.load(tar.extractfile("index.json"))
        manifest = blob(index["manifests"][0]["digest"])
        return blob(manifest["config"]["digest"])


# In a new mount namespace (unshare --mount: private propagation, gone when the
# process exits): what a container runtime mounts, then the chroot as the image's
# user. Every step execs, so the pid the test holds is thingtank's (PID of the
# "container"), which gets the signals.
CHROOT_SCRIPT = r"""
rootfs=$1 data=$2 uid=$3 gid=$4 cwd=$5; shift 5
for f in hosts resolv.conf; do
  [ ! -e "/etc/$f" ] || [ -e "$rootfs/etc/$f" ] || : > "$rootfs/etc/$f"
done
mount --bind "$rootfs" "$rootfs"
mount --bind "$data" "$rootfs/data"
mount -t proc -o nosuid,nodev,noexec proc "$rootfs/proc"
mount -t sysfs -o ro,nosuid,nodev,noexec sysfs "$rootfs/sys"
mount -t tmpfs -o nosuid,mode=0755,size=1m dev "$rootfs/dev"
for n in null zero full random urandom tty; do
  : > "$rootfs/dev/$n"; mount --bind "/dev/$n" "$rootfs/dev/$n"
done
mkdir "$rootfs/dev/shm" "$rootfs/dev/pts"
mount -t tmpfs -o nosuid,nodev,mode=1777 shm "$rootfs/dev/shm"
ln -s /proc/self/fd "$rootfs/dev/fd"
ln -s /proc/self/fd/0 "$rootfs/dev/stdin"
ln -s /proc/self/fd/1 "$rootfs/dev/stdout"
ln -s /proc/self/fd/2 "$rootfs/dev/stderr"
for f in hosts resolv.conf; do
  [ ! -e "/etc/$f" ] || mount --bind -o ro "/etc/$f" "$rootfs/etc/$f"
done
mount -o remount,bind,ro "$rootfs"
exec unshare --root="$rootfs" --wd="$cwd" --setgid="$gid" --setuid="$uid" -- "$@"
"""


class ChrootRuntime:
    """The bundle's root filesystem under unshare --mount + chroot, as its user."""

    name = "chroot"

    def __init__(self, bundle):
        with open(os.path.join(bundle, "config.json")) as f:
            self.spec = json.load(f)
        self.rootfs = os.path.join(bundle, self.spec["root"]["path"])
        self.proc = None

    def _command(self, data_dir, args):
        user = self.spec["process"]["user"]
        return (["unshare", "--mount", "--propagation", "private", "--", "/bin/sh", "-ec",
                 CHROOT_SCRIPT, "sh", self.rootfs, data_dir, str(user["uid"]), str(user["gid"]),
                 self.spec["process"].get("cwd", "/")] + list(args))

    def _env(self, extra):
        env = dict(e.split("=", 1) for e in self.spec["process"].get("env", []))
        env.update(extra)
        return env

    def start(self, data_dir, env, log):
        self.proc = subprocess.Popen(self._command(data_dir, self.spec["process"]["args"]),
                                     env=self._env(env), stdin=subprocess.DEVNULL, stdout=log,
                                     stderr=subprocess.STDOUT, start_new_session=True)

    def exec(self, data_dir, args, env, timeout):
        """Runs args in the image (a second chroot on the same root filesystem)."""
        return subprocess.run(self._command(data_dir, args), env=self._env(env),
                              stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout)

    def exited(self):
        return self.proc.poll() is not None

    def terminate(self):
        os.kill(self.proc.pid, signal.SIGTERM)

    def wait(self, timeout):
        """The exit code, or None when still running after timeout."""
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def cleanup(self):
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


class PodmanRuntime:
    """`podman run` of the OCI archive, host network, DATA on /data."""

    name = "podman"

    def __init__(self, archive, extra):
        self.image = "oci-archive:" + archive
        self.extra = list(extra)
        self.container = None
        self.waiter = None

    @staticmethod
    def probe(archive):
        """(extra podman run flags that work, or None; the errors of those that did not)."""
        if shutil.which("podman") is None:
            return None, ["podman is not installed"]
        nofile = min(65536, _hard_limit("RLIMIT_NOFILE"))
        nproc = min(32768, _hard_limit("RLIMIT_NPROC"))
        attempts = [[], ["--ulimit", "nofile=%d:%d" % (nofile, nofile),
                         "--ulimit", "nproc=%d:%d" % (nproc, nproc)]]
        errors = []
        for extra in attempts:
            cmd = ["podman", "run", "--rm", "--network", "host"] + extra + ["oci-archive:" + archive,
                                                                          "version"]
            try:
                r = subprocess.run(cmd, capture_output=True, timeout=PROBE_DEADLINE_S)
            except subprocess.TimeoutExpired:
                errors.append("%s: no answer within %d s" % (" ".join(cmd), PROBE_DEADLINE_S))
                continue
            if r.returncode == 0 and b"thingtank" in r.stdout:
                return extra, errors
            err = r.stderr.decode("utf-8", "replace").strip().splitlines()
            errors.append("`%s` exited %d: %s" % (" ".join(cmd[:-2] + ["IMAGE", "version"]),
                                                 r.returncode, err[-1] if err else "(no output)"))
        return None, errors

    def start(self, data_dir, env, log):
        self.container = "thingtank-image-test-%s" % uuid.uuid4().hex[:12]
        cmd = ["podman", "run", "-d", "--name", self.container, "--network", "host", "--read-only",
               "-v", "%s:/data" % data_dir] + self.extra
        for k, v in env.items():
            cmd += ["-e", "%s=%s" % (k, v)]
        r = subprocess.run(cmd + [self.image], capture_output=True, timeout=PROBE_DEADLINE_S)
        if r.returncode != 0:
            raise AssertionError("podman run failed: %s" % r.stderr.decode("utf-8", "replace"))
        # `podman logs -f` into the log; `podman wait` returns the exit code.
        self.logs = subprocess.Popen(["podman", "logs", "-f", self.container], stdout=log,
                                     stderr=subprocess.STDOUT)
        self.waiter = subprocess.Popen(["podman", "wait", self.container],
                                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)

    def exec(self, data_dir, args, env, timeout):
        cmd = ["podman", "exec"]
        for k, v in env.items():
            cmd += ["-e", "%s=%s" % (k, v)]
        return subprocess.run(cmd + [self.container] + list(args), capture_output=True,
                              timeout=timeout)

    def exited(self):
        return self.waiter.poll() is not None

    def terminate(self):
        subprocess.run(["podman", "kill", "--signal", "TERM", self.container],
                       capture_output=True, timeout=PROBE_DEADLINE_S, check=True)

    def wait(self, timeout):
        try:
            out, _ = self.waiter.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None
        return int(out.decode().strip().splitlines()[-1])

    def cleanup(self):
        if self.container is not None:
            subprocess.run(["podman", "rm", "-f", "-t", "0", self.container],
                           capture_output=True, timeout=PROBE_DEADLINE_S)
            for p in (self.waiter, getattr(self, "logs", None)):
                if p is not None:
                    try:
                        p.wait(timeout=30)
                    except subprocess.TimeoutExpired:
                        p.kill()
                        p.wait()


def _hard_limit(name):
    import resource
    hard = resource.getrlimit(getattr(resource, name))[1]
    return hard if hard != resource.RLIM_INFINITY else 1 << 20


class Container:
    """One run of the image on a data directory: start, ports, stop."""

    def __init__(self, runtime, data_dir, log_path):
        self.runtime = runtime
        self.data_dir = data_dir
        self.log_path = log_path
        self.ports = None

    def start(self):
        try:
            os.remove(os.path.join(self.data_dir, "ports.json"))
        except FileNotFoundError:
            pass
        self._log = open(self.log_path, "ab")
        self.runtime.start(self.data_dir, PORT_ENV, self._log)

        def ports():
            if self.runtime.exited():
                raise AssertionError("the container exited before writing /data/ports.json:\n%s"
                                     % _tail(self.log_path))
            try:
                with open(os.path.join(self.data_dir, "ports.json")) as f:
                    p = json.load(f)
            except (OSError, ValueError):
                return None
            return p if all(k in p for k in ("gateway", "metrics")) else None
        self.ports = tt.wait_until(ports, START_DEADLINE_S, "/data/ports.json of the container")
        return self

    def stop(self):
        """SIGTERM; the exit code, or None when it was still running after the grace period."""
        started = time.monotonic()
        self.runtime.terminate()
        code = self.runtime.wait(STOP_GRACE_S)
        self.stop_seconds = time.monotonic() - started
        self._log.close()
        return code

    def cleanup(self):
        self.runtime.cleanup()
        if not self._log.closed:
            self._log.close()


class ImageTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        tt.require_build()
        if os.geteuid() != 0:
            raise AssertionError("needs root: build.sh runs debootstrap and buildah, the "
                                 "chroot run mounts /proc and /data")
        for tool in ("bash", "unshare", "mount"):
            if shutil.which(tool) is None:
                raise AssertionError("%s is missing (Debian: apt-get install util-linux mount bash)"
                                     % tool)
        os.makedirs(WORK_DIR, exist_ok=True)
        build_log = os.path.join(WORK_DIR, "test-build.log")
        started = time.monotonic()
        with open(build_log, "wb") as log:
            try:
                r = subprocess.run([BUILD_SH, "--from-build", tt.BIN, "--work-dir", WORK_DIR,
                                    "--unpack", BUNDLE], stdout=subprocess.PIPE, stderr=log,
                                   timeout=BUILD_DEADLINE_S)
            except subprocess.TimeoutExpired:
                raise AssertionError("build.sh did not finish within %d s (log %s):\n%s"
                                     % (BUILD_DEADLINE_S, build_log, _tail(build_log)))
        cls.build_seconds = time.monotonic() - started
        out = r.stdout.decode("utf-8", "replace")
        if r.returncode != 0:
            raise AssertionError("build.sh --from-build exited %d (log %s):\n%s"
                                 % (r.returncode, build_log, _tail(build_log)))
        archives = [line[len("oci-archive:"):] for line in out.splitlines()
                    if line.startswith("oci-archive:")]
        if not archives or not os.path.isfile(archives[-1]):
            raise AssertionError("build.sh printed no oci-archive: path:\n%s" % out)
        cls.archive = archives[-1]
        sys.stderr.write("image test: build.sh --from-build took %.0f s; %s (%.0f MB)\n"
                         % (cls.build_seconds, cls.archive, os.path.getsize(cls.archive) / 1e6))

        cls.runtime_note = ""
        cls.podman_flags = None
        if RUNTIME in ("auto", "podman"):
            extra, errors = PodmanRuntime.probe(cls.archive)
            if extra is not None:
                cls.podman_flags = extra
                cls.runtime_note = "podman run" + (" " + " ".join(extra) if extra else "")
            elif RUNTIME == "podman":
                raise AssertionError("podman cannot run the image here:\n  " + "\n  ".join(errors))
            else:
                cls.runtime_note = ("chroot (unshare --mount + unshare --root, uid %d): podman "
                                    "cannot run containers here:\n  %s"
                                    % (IMAGE_UID, "\n  ".join(errors)))
        if not cls.runtime_note or cls.runtime_note.startswith("chroot"):
            if RUNTIME not in ("auto", "chroot"):
                raise AssertionError("THINGTANK_IMAGE_RUNTIME=%s: not podman, chroot or auto"
                                     % RUNTIME)
            if not os.path.isfile(os.path.join(BUNDLE, "config.json")):
                raise AssertionError("build.sh --unpack made no bundle at %s" % BUNDLE)
            cls.podman_flags = None
            cls.runtime_note = cls.runtime_note or "chroot (THINGTANK_IMAGE_RUNTIME=chroot)"
        sys.stderr.write("image test: running the image with %s\n" % cls.runtime_note)
        cls.tmp = tempfile.mkdtemp(prefix="thingtank-image-test-")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def make_runtime(self):
        if self.podman_flags is not None:
            return PodmanRuntime(self.archive, self.podman_flags)
        return ChrootRuntime(BUNDLE)

    def new_data_dir(self):
        d = tempfile.mkdtemp(prefix="data-", dir=self.tmp)
        os.chown(d, IMAGE_UID, IMAGE_UID)
        os.chmod(d, 0o750)
        return d

    def start(self, data_dir, name):
        c = Container(self.make_runtime(), data_dir, os.path.join(self.tmp, name + ".log"))
        self.addCleanup(c.cleanup)
        return c.start()

    def assert_stops_cleanly(self, c):
        code = c.stop()
        self.assertIsNotNone(code, "still running %d s after SIGTERM:\n%s"
                             % (STOP_GRACE_S, _tail(c.log_path)))
        self.assertEqual(code, 0, "exit code %s after SIGTERM:\n%s" % (code, _tail(c.log_path)))

    def test_image_configuration(self):
        config = _oci_config(self.archive)
        c = config["config"]
        self.assertEqual(c.get("User"), "%d:%d" % (IMAGE_UID, IMAGE_UID))
        self.assertEqual(c.get("Entrypoint"), ["/usr/local/bin/thingtank"])
        cmd = c.get("Cmd") or []
        self.assertEqual(cmd[:1], ["serve"])
        self.assertIn("--listen-address=0.0.0.0", cmd)
        self.assertIn("--data-dir=/data", cmd)
        self.assertIn("/data", c.get("Volumes", {}))
        self.assertEqual(c.get("WorkingDir"), "/data")
        for port in (50051, 8080, 9464, 50056):
            self.assertIn("%d/tcp" % port, c.get("ExposedPorts", {}))
        labels = c.get("Labels", {})
        version = subprocess.run([tt.BIN, "version"], capture_output=True,
                                 text=True).stdout.split()[-1]
        self.assertEqual(labels.get("org.opencontainers.image.version"), version)
        self.assertRegex(labels.get("org.opencontainers.image.revision", ""), r"^([0-9a-f]{40}|unknown)")
        self.assertRegex(labels.get("org.opencontainers.image.created", ""), r"^\d{4}-\d\d-\d\dT")
        self.assertEqual(labels.get("org.opencontainers.image.title"), "thingtank")
        # The runtime stage: the binary and shared libraries, no build tools.
        rootfs = os.path.join(BUNDLE, "rootfs")
        self.assertTrue(os.access(os.path.join(rootfs, "usr/local/bin/thingtank"), os.X_OK))
        for absent in ("usr/bin/gcc", "usr/bin/cmake", "usr/include/grpcpp", "usr/include/rocksdb"):
            self.assertFalse(os.path.exists(os.path.join(rootfs, absent)), absent)
        with open(os.path.join(rootfs, "etc/passwd")) as f:
            self.assertIn("thingtank:x:%d:%d:" % (IMAGE_UID, IMAGE_UID), f.read())

    def test_serve_health_queue_and_sigterm(self):
        health_pb2, health_pb2_grpc = _load_health()
        q = tt.queues_pb2
        data = self.new_data_dir()

        first = self.start(data, "first")
        channel = tt.ready_channel(first.ports["gateway"])
        self.addCleanup(channel.close)
        health = health_pb2_grpc.HealthStub(channel)
        serving = health_pb2.HealthCheckResponse.SERVING

        def status(service):
            try:
                return health.Check(health_pb2.HealthCheckRequest(service=service),
                                    timeout=tt.CALL_DEADLINE_S).status
            except grpc.RpcError as e:
                return e.code()
        tt.wait_until(lambda: status("") == serving, START_DEADLINE_S, "overall health SERVING")
        self.assertEqual(status(QUEUES_SERVICE), serving)
        self.assertEqual(tt.http_get(first.ports["metrics"], "/readyz")[0], 200)

        # The Containerfile's HEALTHCHECK, inside the image (as Docker runs it).
        hc = first.runtime.exec(data, _healthcheck_command(),
                                {"THINGTANK_METRICS_PORT": str(first.ports["metrics"])}, 30)
        self.assertEqual(hc.returncode, 0, "HEALTHCHECK command failed: %s%s"
                         % (hc.stdout.decode(errors="replace"), hc.stderr.decode(errors="replace")))

        stub = tt.queues_pb2_grpc.QueuesServiceStub(channel)
        stub.CreateQueue(q.CreateQueueRequest(queue_name=QUEUE), timeout=tt.CALL_DEADLINE_S)
        stub.SendMessage(q.SendMessageRequest(queue_name=QUEUE, message_body="hello from the image"),
                         timeout=tt.CALL_DEADLINE_S)
        got = stub.ReceiveMessages(q.ReceiveMessagesRequest(queue_name=QUEUE, wait_time={"seconds": 5}),
                                   timeout=tt.CALL_DEADLINE_S).messages
        self.assertEqual([m.body for m in got], ["hello from the image"])
        stub.DeleteMessage(q.DeleteMessageRequest(queue_name=QUEUE, receipt_handle=got[0].receipt_handle),
                           timeout=tt.CALL_DEADLINE_S)
        stub.SendMessage(q.SendMessageRequest(queue_name=QUEUE, message_body=KEPT),
                         timeout=tt.CALL_DEADLINE_S)
        channel.close()

        self.assert_stops_cleanly(first)
        sys.stderr.write("image test: stopped %.1f s after SIGTERM (%s)\n"
                         % (first.stop_seconds, first.runtime.name))
        self.assertIn("stopped", _tail(first.log_path))

        # The data directory: every service's RocksDB, written by the image's user.
        for service in ("compute", "objects", "queues", "streams", "tables", "wamp"):
            currents = [root for root, _, files in os.walk(os.path.join(data, service))
                        if "CURRENT" in files]
            self.assertTrue(currents, "no RocksDB (CURRENT) of %s in the data directory: %s"
                            % (service, sorted(os.listdir(data))))
        for root, dirs, files in os.walk(data):
            for name in dirs + files:
                path = os.path.join(root, name)
                self.assertEqual(os.lstat(path).st_uid, IMAGE_UID, "%s not owned by uid %d"
                                 % (path, IMAGE_UID))

        # A second run on the same data: the queue and its message are still there.
        second = self.start(data, "second")
        channel = tt.ready_channel(second.ports["gateway"])
        self.addCleanup(channel.close)
        stub = tt.queues_pb2_grpc.QueuesServiceStub(channel)
        got = stub.ReceiveMessages(q.ReceiveMessagesRequest(queue_name=QUEUE, wait_time={"seconds": 5}),
                                   timeout=tt.CALL_DEADLINE_S).messages
        self.assertEqual([m.body for m in got], [KEPT])
        channel.close()
        self.assert_stops_cleanly(second)


if __name__ == "__main__":
    unittest.main()
