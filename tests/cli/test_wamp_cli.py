#!/usr/bin/python3
"""End-to-end tests of `thingtank wamp ...` against a real `thingtank serve`.

Starts one monolithic server (tests/python/thingtank_testing.py's Deployment,
free ports, temporary data directory) and drives the CLI as a user would:
subscribe in the background while publishing, calls of the router's meta
procedures and of the bridge to the queues service, WAMP errors, command-line
mistakes, and forwarding rules created, used, listed and deleted.

No fixed sleep is an assertion: every wait polls a condition until a deadline.
A Subscribe stream gives no sign of the moment the server has subscribed it,
and an event published before then reaches nobody, so the publishing side
publishes again until the first event arrives.

Binary: $THINGTANK_BIN (default build/dev/tools/thingtank/thingtank).
Run: ctest -R cli_wamp, or PYTHONPATH=tests/python /usr/bin/python3 tests/cli/test_wamp_cli.py
"""

import json
import os
import signal
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "python"))
import thingtank_testing as tt  # noqa: E402

CALL_DEADLINE_S = 60    # one CLI run
EVENT_DEADLINE_S = 30   # an event (or forwarded message) to arrive
REPUBLISH_S = 0.5       # how long to wait for the first event before publishing again


class Background:
    """A CLI process whose stdout lines are collected as they come."""

    def __init__(self, args, env):
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, env=env)
        self.cond = threading.Condition()
        self.lines = []
        self.stderr = []
        self.threads = [threading.Thread(target=self._read, args=(self.proc.stdout, self.lines),
                                         daemon=True),
                        threading.Thread(target=self._read, args=(self.proc.stderr, self.stderr),
                                         daemon=True)]
        for t in self.threads:
            t.start()

    def _read(self, stream, into):
        for line in stream:
            with self.cond:
                into.append(line.rstrip("\n"))
                self.cond.notify_all()
        with self.cond:
            self.cond.notify_all()

    def wait_lines(self, n, timeout):
        """True once n stdout lines arrived, False after `timeout` seconds."""
        with self.cond:
            return self.cond.wait_for(lambda: len(self.lines) >= n, timeout)

    def wait_stderr(self, text, timeout):
        """True once a stderr line contains `text`, False after `timeout` seconds."""
        with self.cond:
            return self.cond.wait_for(lambda: any(text in line for line in self.stderr), timeout)

    def wait(self, timeout):
        """The exit code; fails the test when the process runs longer than `timeout`."""
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError("%s still running after %d s; stdout %s stderr %s"
                                 % (self.proc.args, timeout, self.lines, self.stderr))
        for t in self.threads:
            t.join(CALL_DEADLINE_S)
        return code

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        for t in self.threads:  # they end at EOF, which follows the exit
            t.join(CALL_DEADLINE_S)
        for stream in (self.proc.stdout, self.proc.stderr):
            stream.close()


class WampCliTest(unittest.TestCase):
    deployment = None

    @classmethod
    def setUpClass(cls):
        tt.require_build()
        cls.deployment = tt.Deployment(tt.Deployment.MONOLITHIC,
                                       backend_args=["--wamp-ws-port", "0"])

    @classmethod
    def tearDownClass(cls):
        if cls.deployment is not None:
            try:
                cls.deployment.stop()
            finally:
                cls.deployment.cleanup()

    # -- running the CLI --------------------------------------------------

    def env(self):
        env = dict(os.environ)
        env.pop("THINGTANK_API_KEY_ID", None)
        env.pop("THINGTANK_API_KEY_SECRET", None)
        env["THINGTANK_ENDPOINT"] = "127.0.0.1:%d" % self.deployment.gateway_port
        return env

    def run_cli(self, *args):
        return subprocess.run([tt.BIN, *args], capture_output=True, text=True, env=self.env(),
                              timeout=CALL_DEADLINE_S)

    def cli(self, *args):
        """`thingtank wamp ARGS`."""
        return self.run_cli("wamp", *args)

    def ok(self, *args, command="wamp"):
        result = self.run_cli(command, *args)
        self.assertEqual(result.returncode, 0, "%s %s failed: %s%s"
                         % (command, args, result.stdout, result.stderr))
        return result.stdout

    def json_ok(self, *args, command="wamp"):
        return json.loads(self.ok(*args, "--json", command=command))

    def background(self, *args):
        process = Background([tt.BIN, "wamp", *args], self.env())
        self.addCleanup(process.kill)
        return process

    def publish_until_received(self, subscriber, publish):
        """Calls publish() until the subscriber printed its first line."""
        deadline = time.monotonic() + EVENT_DEADLINE_S
        while not subscriber.wait_lines(1, 0):
            if subscriber.proc.poll() is not None:
                self.fail("subscriber exited with %d: %s" % (subscriber.proc.returncode,
                                                             subscriber.stderr))
            if time.monotonic() > deadline:
                self.fail("no event within %d s; subscriber stderr: %s"
                          % (EVENT_DEADLINE_S, subscriber.stderr))
            publish()
            subscriber.wait_lines(1, REPUBLISH_S)

    # -- tests ------------------------------------------------------------

    def test_subscribe_publish(self):
        subscriber = self.background("subscribe", "test-topic", "--count", "2", "--json")
        publications = []

        def publish():
            out = self.ok("publish", "test-topic", "hello", "42")
            publications.append(int(out.strip()))  # the publication id

        self.publish_until_received(subscriber, publish)
        publish()
        self.assertEqual(subscriber.wait(EVENT_DEADLINE_S), 0, subscriber.stderr)
        self.assertEqual(len(subscriber.lines), 2, subscriber.lines)
        for line in subscriber.lines:
            event = json.loads(line)
            self.assertEqual(event["topic"], "test-topic")
            self.assertEqual(event["args"], ["hello", 42])
            self.assertEqual(event["kwargs"], {})
            self.assertIn(event["publication"], publications)
        # --json: nothing but the events on stdout, nothing on stderr.
        self.assertEqual(subscriber.stderr, [])

    def test_subscribe_prefix_human(self):
        subscriber = self.background("subscribe", "wamp-cli.sensors", "--match", "prefix",
                                     "--count", "1")
        self.publish_until_received(subscriber, lambda: self.ok(
            "publish", "wamp-cli.sensors.temp", '"quoted"', "true", "--kwargs", '{"c": 21.5}'))
        self.assertEqual(subscriber.wait(EVENT_DEADLINE_S), 0, subscriber.stderr)
        topic, rest = subscriber.lines[0].split(" ", 1)
        self.assertEqual(topic, "wamp-cli.sensors.temp")
        args, kwargs = rest.rsplit(" ", 1)
        self.assertEqual(json.loads(args), ["quoted", True])
        self.assertEqual(json.loads(kwargs), {"c": 21.5})
        self.assertIn("waiting for events", "\n".join(subscriber.stderr))

    def test_subscribe_ends(self):
        # Ctrl-C (SIGINT) ends a subscription cleanly. The handler is in place
        # before the "waiting for events" line.
        subscriber = self.background("subscribe", "wamp-cli.nobody")
        self.assertTrue(subscriber.wait_stderr("waiting for events", EVENT_DEADLINE_S),
                        subscriber.stderr)
        subscriber.proc.send_signal(signal.SIGINT)
        self.assertEqual(subscriber.wait(EVENT_DEADLINE_S), 0, subscriber.stderr)
        self.assertEqual(subscriber.lines, [])
        # --timeout is a listening window; with --count too few events fail.
        result = self.cli("subscribe", "wamp-cli.nobody", "--timeout", "300ms")
        self.assertEqual(result.returncode, 0, result.stderr)
        result = self.cli("subscribe", "wamp-cli.nobody", "--timeout", "300ms", "--count", "1")
        self.assertEqual(result.returncode, 1, result.stderr)
        self.assertIn("0 of 1 events", result.stderr)

    def test_publish_json_args(self):
        out = self.json_ok("publish", "wamp-cli.t", "--args", '[1, "two", {"three": 3}]',
                           "--kwargs", '{"k": [true, null]}')
        self.assertGreater(int(out["publication"]), 0)

    def test_call_session_count(self):
        out = self.ok("call", "wamp.session.count").strip()
        self.assertRegex(out, r"^[0-9]+$")
        result = self.json_ok("call", "wamp.session.count")
        self.assertIsInstance(result["args"][0], int)
        self.assertEqual(result["kwargs"], {})

    def test_call_no_such_procedure(self):
        result = self.cli("call", "com.example.nothing")
        self.assertEqual(result.returncode, 1, result.stderr)
        self.assertEqual(result.stdout, "")
        self.assertTrue(result.stderr.startswith("error: "), result.stderr)
        self.assertIn("wamp.error.no_such_procedure", result.stderr)

        result = self.cli("call", "com.example.nothing", "--json")
        self.assertEqual(result.returncode, 1, result.stderr)
        error = json.loads(result.stderr)["error"]
        self.assertEqual(error["reason"], "wamp.error.no_such_procedure")
        self.assertEqual(error["code"], "NOT_FOUND")

    def test_call_bridge(self):
        self.ok("create", "wamp-cli-bridge", command="queues")
        result = self.json_ok("call", "thingtank.queues.list_queues")
        self.assertEqual(result["args"], [])
        names = [q.get("name") for q in result["kwargs"]["queues"]]
        self.assertIn("wamp-cli-bridge", names)
        # Human form: no positional results, the keyword results as one JSON line.
        lines = self.ok("call", "thingtank.queues.list_queues").splitlines()
        self.assertEqual(len(lines), 1, lines)
        self.assertIn("wamp-cli-bridge", json.dumps(json.loads(lines[0])))
        # A service error comes back as thingtank.error.<code>.
        result = self.cli("call", "thingtank.queues.get_queue_url",
                          "--kwargs", '{"queue_name": "wamp-cli-no-such-queue"}')
        self.assertEqual(result.returncode, 1, result.stderr)
        self.assertIn("thingtank.error.", result.stderr)

    def test_usage_errors(self):
        result = self.cli("publish", "test-topic", "--kwargs", "{not json")
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assertIn("kwargs", result.stderr)
        result = self.cli("publish", "test-topic", "--kwargs", "[1, 2]")
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assertIn("kwargs", result.stderr)
        result = self.cli("publish", "test-topic", "--kwargs", "{", "--json")
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assertEqual(json.loads(result.stderr)["error"]["code"], "USAGE")
        result = self.cli("call", "x.y", "1", "--args", "[2]")
        self.assertEqual(result.returncode, 2, result.stderr)
        result = self.cli("subscribe", "t", "--match", "fuzzy")
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assertIn("--match", result.stderr)
        result = self.cli("subscribe", "t", "--count", "0")
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assertEqual(self.cli("publish").returncode, 2)
        self.assertEqual(self.cli("no-such-command").returncode, 2)
        result = self.cli("rules", "create", "--topic-to-queue", "t")
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assertIn("QUEUE", result.stderr)
        result = self.cli("rules", "create", "--topic-to-table", "t", "table")
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assertIn("--key", result.stderr)
        self.assertEqual(self.cli("rules", "create").returncode, 2)
        # A server-side rejection is a failed call (1), not a usage error.
        result = self.cli("publish", "not a uri!")
        self.assertEqual(result.returncode, 1, result.stderr)
        self.assertIn("topic", result.stderr)

    def test_rule_target_names_are_validated(self):
        # Issue 10, bug 5: a target must be a name its service accepts.
        for args, field in ((("--topic-to-queue", "a.b", "bad queue name!"),
                             "rule.topic_to_queue.queue"),
                            (("--queue-to-topic", "q" * 81, "a.b"), "rule.queue_to_topic.queue"),
                            (("--topic-to-table", "a.b", "ab", "--key", "id={topic}"),
                             "rule.topic_to_table.table")):
            with self.subTest(args=args):
                result = self.cli("rules", "create", *args, "--json")
                self.assertEqual(result.returncode, 1, result)
                error = json.loads(result.stderr)["error"]
                self.assertEqual(error["code"], "INVALID_ARGUMENT")
                self.assertEqual([v["field"] for v in error["field_violations"]], [field])
        result = self.cli("rules", "create", "--topic-to-queue", "a.b", "bad queue name!")
        self.assertEqual(result.returncode, 1, result)
        self.assertIn("rule.topic_to_queue.queue", result.stderr)
        self.assertNotIn("bad queue name!", self.ok("rules", "list"))

    def test_help(self):
        overview = self.ok("--help")
        for command in ("publish", "call", "subscribe", "rules"):
            self.assertIn(command, overview)
        self.assertIn("--kwargs", self.ok("publish", "--help"))
        self.assertIn("--count", self.ok("subscribe", "--help"))
        self.assertIn("--topic-to-queue", self.ok("rules", "create", "--help"))
        rules = self.ok("rules", "--help")
        for command in ("create", "list", "delete"):
            self.assertIn(command, rules)
        self.assertIn("wamp", self.run_cli("--help").stdout)

    def test_rule_topic_to_queue(self):
        queue = "wamp-cli-events"
        self.ok("create", queue, command="queues")
        rule = self.json_ok("rules", "create", "--topic-to-queue", "wamp-cli.events", queue)["rule"]
        rule_id = rule["id"]
        self.assertTrue(rule_id)
        self.assertEqual(rule["topic_to_queue"]["queue"], queue)
        self.assertIn(rule_id, [r["id"] for r in self.json_ok("rules", "list")["rules"]])
        listed = self.ok("rules", "list")
        self.assertIn(rule_id, listed)
        self.assertIn("topic-to-queue", listed)

        # Publish until the rule has forwarded an event into the queue.
        deadline = time.monotonic() + EVENT_DEADLINE_S
        messages = []
        while not messages:
            self.assertLess(time.monotonic(), deadline, "no message in %s" % queue)
            self.ok("publish", "wamp-cli.events", "hello", "42", "--kwargs", '{"n": 1}')
            messages = self.json_ok("receive", queue, "--wait", "1s",
                                    command="queues").get("messages", [])
        body = json.loads(messages[0]["body"])
        self.assertEqual(body["topic"], "wamp-cli.events")
        self.assertEqual(body["args"], ["hello", 42])
        self.assertEqual(body["kwargs"], {"n": 1})

        self.assertIn(rule_id, self.ok("rules", "delete", rule_id))
        self.assertNotIn(rule_id, [r["id"] for r in self.json_ok("rules", "list")["rules"]])
        result = self.cli("rules", "delete", rule_id)
        self.assertEqual(result.returncode, 1, result.stderr)

    def test_rule_queue_to_topic(self):
        queue = "wamp-cli-outbox"
        self.ok("create", queue, command="queues")
        subscriber = self.background("subscribe", "wamp-cli.from-queue", "--count", "1", "--json")
        rule_id = self.json_ok("rules", "create", "--queue-to-topic", queue,
                               "wamp-cli.from-queue")["rule"]["id"]
        self.addCleanup(self.run_cli, "wamp", "rules", "delete", rule_id)
        body = json.dumps({"args": ["from", "queue"], "kwargs": {"k": 1}})
        self.publish_until_received(
            subscriber, lambda: self.ok("send", queue, "--body", body, command="queues"))
        self.assertEqual(subscriber.wait(EVENT_DEADLINE_S), 0, subscriber.stderr)
        event = json.loads(subscriber.lines[0])
        self.assertEqual(event["args"], ["from", "queue"])
        self.assertEqual(event["kwargs"], {"k": 1})


if __name__ == "__main__":
    unittest.main(verbosity=2)
