#!/usr/bin/python3
"""The README's tour, run as written, so that it cannot drift from the code.

Extracts the ```sh blocks of every section of README.md (and its python examples) in order
and runs them against one fresh `thingtank serve` (port 0, temporary data directory; ports
from <data-dir>/ports.json). In the blocks:

- `thingtank` is $THINGTANK_BIN with `--endpoint` of that server;
- a command is one line, or several joined by a trailing backslash, pipe or && or by an open
  quote;
- `#> TEXT` lines right after a command are its expected output (stdout, exactly);
- a command ending in `&` runs in the background; the next command runs once the condition
  in READY says the background one is ready (polled with a deadline); `python3 NAME.py` runs
  the section's python block before it, the URLs pointed at the test server;
- placeholders such as <receipt-handle> are filled from an earlier command's output.

Also runs services/wamp/README.md's subscriber example against the tour's own publish.
Binary: $THINGTANK_BIN; generated Python modules: $THINGTANK_PY_GEN.
Run: ctest -R readme (or /usr/bin/python3 -m unittest -v test_readme from tests/readme).
"""

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "python"))
import thingtank_testing as tt  # noqa: E402

README = os.path.join(tt.REPO, "README.md")
WAMP_README = os.path.join(tt.REPO, "services", "wamp", "README.md")
PYTHON = "/usr/bin/python3"
COMMAND_DEADLINE_S = 60
READY_DEADLINE_S = 30

# Sections whose blocks are not run, and why. Keep this short.
SKIPPED_SECTIONS = {
    # tools/run.sh builds a release tree and serves on fixed ports; tools/test.sh runs this test.
    "Quick start": "builds the tree",
    # `thingtank serve` on the fixed ports 50051 and 8080 (this test starts its own server with
    # port 0, as that section describes), and a gateway whose backends are at 10.0.0.7/10.0.0.8.
    "Running": "starts servers on fixed ports and names remote hosts",
    # Builds images and needs a Kubernetes cluster; tests/deploy/ checks the image, the chart and
    # the chart's configuration run locally, tests/demo/ the demos.
    "Deploy": "builds images and needs a cluster",
}
# Sections that must be there and run (a service whose tour vanished is a failure here).
SERVICE_SECTIONS = ("Queues", "Tables", "Objects", "Streams", "WAMP")


def sections(path):
    """[(title, [(language, text)])] of the file's "## " sections, in order (the text before
    the first one is the section "")."""
    out = [("", [])]
    language = None
    lines = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if language is None and line.startswith("## "):
                out.append((line[3:].strip(), []))
            elif language is None and line.startswith("```"):
                language = line[3:].strip()
                lines = []
            elif language is not None and line.startswith("```"):
                out[-1][1].append((language, "".join(lines)))
                language = None
            elif language is not None:
                lines.append(line)
    return out


def commands(block):
    """[(command text, [expected output lines] or None)] of a sh block."""
    out = []
    pending = ""
    for line in block.splitlines():
        if not pending and line.startswith("#>"):
            expected_line = line[2:].strip()
            if not out:
                raise AssertionError("#> before any command in:\n" + block)
            if out[-1][1] is None:
                out[-1] = (out[-1][0], [])
            out[-1][1].append(expected_line)
            continue
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        pending += line + "\n"
        if line.rstrip().endswith(("\\", "|", "&&")):  # the command goes on
            continue
        try:
            shlex.split(pending, comments=True)
        except ValueError:  # an open quote: the command goes on
            continue
        out.append((pending.rstrip("\n"), None))
        pending = ""
    if pending:
        raise AssertionError("unterminated command in README block: %r" % pending)
    return out


def without_comment(command):
    """The command's words (shell comments dropped), for matching."""
    return shlex.split(command, comments=True)


class Tour:
    """Runs commands against one server; tracks outputs and background processes."""

    def __init__(self, test, server, work_dir):
        self.test = test
        self.server = server
        self.work_dir = work_dir
        self.endpoint = "127.0.0.1:%d" % server.ports["gateway"]
        self.outputs = []  # stdout of every command run, in order
        self.background = []  # (command, Popen, stdout path, forever)
        self.env = dict(os.environ)
        for name in ("THINGTANK_API_KEY_ID", "THINGTANK_API_KEY_SECRET", "THINGTANK_ENDPOINT"):
            self.env.pop(name, None)
        self.env.update({"THINGTANK_BIN": tt.BIN, "TT_ENDPOINT": self.endpoint,
                         "PYTHONUNBUFFERED": "1",
                         "PYTHONPATH": os.pathsep.join(
                             [tt.PY_GEN, self.env.get("PYTHONPATH", "")])})

    # -- running

    def script(self, command):
        """bash text: `thingtank` and `python3` mapped to the binaries under test."""
        return ('thingtank() { "$THINGTANK_BIN" "$@" --endpoint "$TT_ENDPOINT"; }\n'
                'python3() { %s "$@"; }\n'
                'set -e -o pipefail\n%s\n' % (PYTHON, command))

    def fill(self, command):
        """Replaces the placeholders with values from earlier outputs."""
        def receipt_handle():
            for text in reversed(self.outputs):
                m = re.search(r"receipt handle:\s+(\S+)", text)
                if m:
                    return m.group(1)
            raise AssertionError("no receipt handle printed before %r" % command)
        for placeholder, value in (("<receipt-handle>", receipt_handle),):
            if placeholder in command:
                command = command.replace(placeholder, shlex.quote(value()))
        return command

    def run(self, command, expected):
        command = self.fill(command)
        words = without_comment(command)
        if words and words[-1] == "&":
            return self.start_background(command, words)
        result = subprocess.run(["bash", "-c", self.script(command)], cwd=self.work_dir,
                                env=self.env, capture_output=True, text=True,
                                timeout=COMMAND_DEADLINE_S)
        self.test.assertEqual(result.returncode, 0, "README command failed: %s\nstdout: %s\n"
                              "stderr: %s" % (command, result.stdout, result.stderr))
        self.outputs.append(result.stdout)
        if expected is not None:
            self.test.assertEqual(result.stdout.splitlines(), expected, command)
        return result.stdout

    def start_background(self, command, words):
        ready, forever = READY.get(tuple(words[:3])) or READY.get(tuple(words[:2])) or (None, None)
        self.test.assertIsNotNone(ready, "no READY condition for the background command %r"
                                  % command)
        out_path = os.path.join(self.work_dir, "background-%d.out" % len(self.background))
        text = command.rstrip()
        text = text[:text.rindex("&")]  # runs in the foreground of its own bash
        with open(out_path, "wb") as out:
            proc = subprocess.Popen(["bash", "-c", self.script(text)], cwd=self.work_dir,
                                    env=self.env, stdout=out, stderr=subprocess.STDOUT,
                                    start_new_session=True)
        self.background.append((command, proc, out_path, forever))
        try:
            tt.wait_until(lambda: self.alive(proc, command, out_path) and ready(self),
                          READY_DEADLINE_S, "%r to be ready" % command)
        except AssertionError as e:
            raise AssertionError("%s; its output:\n%s" % (e, read(out_path)))

    def alive(self, proc, command, out_path):
        if proc.poll() is not None and proc.returncode != 0:
            raise AssertionError("background command %r exited with %d:\n%s"
                                 % (command, proc.returncode, read(out_path)))
        return True

    def finish(self):
        """Background commands that end must have ended with 0; the others are stopped."""
        for command, proc, out_path, forever in self.background:
            if forever:
                self.test.assertIsNone(proc.poll(), "%r ended:\n%s" % (command, read(out_path)))
                continue
            try:
                code = proc.wait(timeout=COMMAND_DEADLINE_S)
            except subprocess.TimeoutExpired:
                raise AssertionError("%r did not end:\n%s" % (command, read(out_path)))
            self.test.assertEqual(code, 0, "%r:\n%s" % (command, read(out_path)))

    def stop(self):
        for command, proc, out_path, forever in self.background:
            if proc.poll() is None:
                os.killpg(proc.pid, 9)
                proc.wait()

    # -- python blocks

    def save_python(self, name, code):
        """Writes a README python example to work_dir/name, pointed at the test server."""
        code = code.replace("localhost:50051", self.endpoint)
        code = code.replace("ws://localhost:8080/ws",
                            "ws://127.0.0.1:%d/ws" % self.server.ports["wamp_ws"])
        with open(os.path.join(self.work_dir, name), "w", encoding="utf-8") as f:
            f.write(code)

    def metric(self, *names, **labels):
        status, text = tt.http_get(self.server.ports["metrics"], "/metrics")
        self.test.assertEqual(status, 200)
        return sum(tt.metric_sum(text, name, **labels) for name in names)


def read(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        return f.read()


def device_ready(tour):
    # The device registers com.example.add2, then sends "hi" to queue hello: once the
    # message is there the procedure is.
    result = subprocess.run([tt.BIN, "queues", "get-attributes", "hello", "--json",
                             "--endpoint", tour.endpoint], capture_output=True, text=True,
                            timeout=COMMAND_DEADLINE_S)
    if result.returncode != 0:
        return False
    return int(json.loads(result.stdout).get("approximate_number_of_messages", 0)) >= 1


def subscribed(tour):
    return tour.metric("wamp_grpc_subscriptions", "thingtank_wamp_grpc_subscriptions",
                       realm="realm1") >= 1


# Background commands of the README: (ready condition, runs until stopped).
READY = {
    ("python3", "device.py"): (device_ready, True),
    ("thingtank", "wamp", "subscribe"): (subscribed, False),
}


class ReadmeTest(unittest.TestCase):
    def setUp(self):
        tt.require_build()
        self.work_dir = tempfile.mkdtemp(prefix="thingtank-readme-")
        self.server = tt.ServerProcess(["--gateway-port", "0", "--metrics-port", "0",
                                        "--wamp-ws-port", "0"])
        self.addCleanup(self.server.cleanup)
        self.addCleanup(shutil.rmtree, self.work_dir, ignore_errors=True)
        self.server.start(required=("gateway", "metrics", "wamp_ws"))
        self.tour = Tour(self, self.server, self.work_dir)
        self.addCleanup(self.tour.stop)

    def test_readme_tour(self):
        ran = []
        for title, blocks in sections(README):
            if any(title.startswith(s) for s in SKIPPED_SECTIONS):
                continue
            python_block = None
            for language, text in blocks:
                if language == "python":
                    python_block = text
                    if "ApplicationRunner" not in text:  # a program that ends: run it now
                        self.tour.save_python("example.py", text)
                        self.tour.run("python3 example.py", None)
                elif language == "sh":
                    for command, expected in commands(text):
                        m = re.match(r"python3 (\S+\.py)", command)
                        if m:
                            self.assertIsNotNone(python_block, "no python block for " + command)
                            self.tour.save_python(m.group(1), python_block)
                        with self.subTest(section=title, command=command):
                            self.tour.run(command, expected)
                    ran.append(title)
        self.tour.finish()
        for service in SERVICE_SECTIONS:
            self.assertTrue(any(t.startswith(service) for t in ran),
                            "no sh block run in the %s section: %s" % (service, ran))

    def test_wamp_readme_subscriber(self):
        # The classic subscriber of services/wamp/README.md receives the tour's own publish.
        blocks = [text for _, bs in sections(WAMP_README) for lang, text in bs
                  if lang == "python" and text.startswith("# subscriber.py")]
        self.assertEqual(len(blocks), 1, "the subscriber example of " + WAMP_README)
        publish = [c for _, bs in sections(README) for lang, text in bs if lang == "sh"
                   for c, _ in commands(text) if c.startswith("thingtank wamp publish test-topic")]
        self.assertEqual(len(publish), 1, publish)
        self.tour.save_python("subscriber.py", blocks[0])
        out_path = os.path.join(self.work_dir, "subscriber.out")
        with open(out_path, "wb") as out:
            proc = subprocess.Popen([PYTHON, "subscriber.py"], cwd=self.work_dir,
                                    env=self.tour.env, stdout=out, stderr=subprocess.STDOUT)
        self.addCleanup(lambda: proc.poll() is None and (proc.kill(), proc.wait()))

        # Publish until the subscriber (whose subscription no metric shows) has an event.
        def received():
            self.assertIsNone(proc.poll(), "the subscriber ended:\n" + read(out_path))
            self.tour.run(publish[0], None)
            return "received" in read(out_path)
        tt.wait_until(received, READY_DEADLINE_S, "the subscriber's first event")
        first = [line for line in read(out_path).splitlines() if line.startswith("received")][0]
        self.assertEqual(first, "received ('hello', 42) {'unit': 'C'}")
        self.assertIsNone(proc.poll(), "the subscriber crashed:\n" + read(out_path))


if __name__ == "__main__":
    unittest.main(verbosity=2)
