#!/usr/bin/python3
"""End-to-end tests of `thingtank queues ...` against a real `thingtank serve`.

Starts the server on free ports (port 0) with a temporary data directory,
finds the gateway port in <data-dir>/ports.json and drives the CLI as a user
would. Binary: $THINGTANK_BIN (default build/dev/tools/thingtank/thingtank).
Run: /usr/bin/python3 tests/cli/test_cli.py
"""

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("THINGTANK_BIN",
                     os.path.join(REPO, "build/dev/tools/thingtank/thingtank"))
START_DEADLINE_S = 30
CALL_DEADLINE_S = 60


class Server:
    """A `thingtank serve` process on free ports, with its own data directory."""

    def __init__(self):
        self.data_dir = tempfile.mkdtemp(prefix="thingtank-cli-test-")
        self.log = open(os.path.join(self.data_dir, "server.log"), "wb")
        self.proc = subprocess.Popen(
            [BIN, "serve", "--data-dir", os.path.join(self.data_dir, "data"),
             "--gateway-port", "0", "--metrics-port", "0", "--wamp-ws-port", "0"],
            stdout=self.log, stderr=subprocess.STDOUT)
        self.gateway_port = self._wait_for_ports()

    def _wait_for_ports(self):
        path = os.path.join(self.data_dir, "data", "ports.json")
        deadline = time.monotonic() + START_DEADLINE_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("thingtank serve exited with %d; see %s"
                                   % (self.proc.returncode, self.log.name))
            try:
                with open(path) as f:
                    return int(json.load(f)["gateway"])
            except (OSError, ValueError, KeyError):
                time.sleep(0.05)  # poll interval, not a wait for a condition
        raise RuntimeError("no %s within %d s" % (path, START_DEADLINE_S))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=CALL_DEADLINE_S)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        shutil.rmtree(self.data_dir, ignore_errors=True)


class CliTestCase(unittest.TestCase):
    """Runs `thingtank COMMAND ...` against one server started for the class."""

    COMMAND = None  # "queues" or "tables"
    server = None

    @classmethod
    def setUpClass(cls):
        if not os.access(BIN, os.X_OK):
            raise unittest.SkipTest("no thingtank binary at %s (set THINGTANK_BIN)" % BIN)
        cls.server = Server()

    @classmethod
    def tearDownClass(cls):
        if cls.server:
            cls.server.stop()

    def cli(self, *args, stdin=None, env=None):
        """Runs `thingtank COMMAND ARGS`; returns the CompletedProcess."""
        full_env = dict(os.environ)
        full_env.pop("THINGTANK_API_KEY_ID", None)
        full_env.pop("THINGTANK_API_KEY_SECRET", None)
        full_env["THINGTANK_ENDPOINT"] = "127.0.0.1:%d" % self.server.gateway_port
        full_env.update(env or {})
        return subprocess.run([BIN, self.COMMAND, *args], input=stdin, capture_output=True,
                              text=True, env=full_env, timeout=CALL_DEADLINE_S)

    def ok(self, *args, **kwargs):
        result = self.cli(*args, **kwargs)
        self.assertEqual(result.returncode, 0,
                         "%s failed: %s%s" % (args, result.stdout, result.stderr))
        return result.stdout

    def json_ok(self, *args, **kwargs):
        return json.loads(self.ok(*args, "--json", **kwargs))


class QueuesCliTest(CliTestCase):
    COMMAND = "queues"

    def receive_one(self, queue):
        messages = self.json_ok("receive", queue, "--wait", "2s").get("messages", [])
        self.assertEqual(len(messages), 1, messages)
        return messages[0]

    def test_send_receive_delete(self):
        self.ok("create", "cli-basic")
        self.assertIn("cli-basic", self.ok("list", "--prefix", "cli-basic"))
        listed = self.json_ok("list", "--prefix", "cli-basic")
        self.assertEqual([q["name"] for q in listed["queues"]], ["cli-basic"])
        self.assertTrue(self.ok("url", "cli-basic").strip())

        # Body as argument.
        sent = self.json_ok("send", "cli-basic", "--body", "from argument")
        self.assertTrue(sent["message_id"])
        message = self.receive_one("cli-basic")
        self.assertEqual(message["body"], "from argument")
        self.assertEqual(int(message["attributes"]["approximate_receive_count"]), 1)
        self.ok("delete", "cli-basic", message["receipt_handle"])

        # Body from a file.
        with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
            f.write("from a file\nsecond line")
        try:
            self.ok("send", "cli-basic", "--file", f.name)
        finally:
            os.unlink(f.name)
        message = self.receive_one("cli-basic")
        self.assertEqual(message["body"], "from a file\nsecond line")
        self.ok("delete", "cli-basic", message["receipt_handle"])

        # Body from stdin, with an attribute; received twice (visibility 0).
        self.ok("send", "cli-basic", "--attribute", "color=String:blue", stdin="from stdin")
        first = self.json_ok("receive", "cli-basic", "--wait", "2s", "--visibility-timeout", "0",
                             "--attribute-names", "All")["messages"][0]
        self.assertEqual(first["body"], "from stdin")
        self.assertEqual(first["message_attributes"]["color"]["string_value"], "blue")
        second = self.receive_one("cli-basic")
        self.assertEqual(int(second["attributes"]["approximate_receive_count"]), 2)
        self.ok("delete", "cli-basic", second["receipt_handle"])

        attributes = self.json_ok("get-attributes", "cli-basic")
        self.assertEqual(int(attributes["approximate_number_of_messages"]), 0)
        self.ok("delete-queue", "cli-basic")
        self.assertNotIn("cli-basic", self.ok("list", "--prefix", "cli-basic"))

    def test_human_receive_and_purge(self):
        self.ok("create", "cli-purge", "--visibility-timeout", "5m", "--retention", "1d")
        attributes = self.json_ok("attributes", "cli-purge")
        self.assertEqual(attributes["attributes"]["visibility_timeout"], "300s")
        self.ok("send", "cli-purge", "hello human")
        out = self.ok("receive", "cli-purge", "--wait", "2s", "--visibility-timeout", "0")
        self.assertIn("hello human", out)
        self.assertIn("receipt handle", out)
        self.ok("send", "cli-purge", "two")
        purged = self.json_ok("purge", "cli-purge")
        self.assertEqual(int(purged.get("purged_count", 0)), 2)
        self.assertEqual(self.json_ok("receive", "cli-purge", "--wait", "0").get("messages", []),
                         [])
        self.ok("delete-queue", "cli-purge")

    def test_unknown_queue(self):
        result = self.cli("send", "cli-no-such-queue", "--body", "x")
        self.assertEqual(result.returncode, 1)
        self.assertIn("cli-no-such-queue", result.stderr)
        self.assertTrue(result.stderr.startswith("error: "), result.stderr)
        self.assertNotIn("StatusCode", result.stderr)

        result = self.cli("get-attributes", "cli-no-such-queue", "--json")
        self.assertEqual(result.returncode, 1)
        error = json.loads(result.stderr)["error"]
        self.assertEqual(error["code"], "NOT_FOUND")
        self.assertIn("cli-no-such-queue", error["message"])

    def test_out_of_range_attribute_names_field(self):
        result = self.cli("create", "cli-bad-attr", "--visibility-timeout", "13h")
        self.assertEqual(result.returncode, 1)
        self.assertIn("visibility_timeout", result.stderr)

    def test_usage_errors(self):
        result = self.cli("create", "cli-x", "--visibility-timeout", "soon")
        self.assertEqual(result.returncode, 2)
        self.assertIn("--visibility-timeout", result.stderr)
        result = self.cli("receive", "cli-x", "--wait", "3 fortnights")
        self.assertEqual(result.returncode, 2)
        self.assertIn("--wait", result.stderr)
        self.assertEqual(self.cli("list", "--no-such-flag").returncode, 2)
        self.assertEqual(self.cli("no-such-command").returncode, 2)
        self.assertEqual(self.cli("delete", "only-queue").returncode, 2)
        self.assertEqual(self.cli("--help").returncode, 0)
        self.assertIn("--visibility-timeout", self.ok("create", "--help"))

    def test_unreachable_endpoint(self):
        result = self.cli("list", "--timeout", "5s", env={"THINGTANK_ENDPOINT": "127.0.0.1:1"})
        self.assertEqual(result.returncode, 1)
        self.assertIn("cannot reach ThingTank at 127.0.0.1:1", result.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
