"""Autobahn|Python (Twisted and asyncio) against the ThingTank WAMP router:
RPC (call, progressive results, cancel, errors), pub/sub with payloads, and
the session meta API, with the JSON, MessagePack and CBOR serializers and
mixed ones (caller and callee, publisher and subscriber on different
serializers: the router transcodes).

Each scenario runs in its own process (autobahn_scenarios.py, since Twisted's
reactor cannot restart) that records what the clients observed; the
assertions are here.
"""

import os
import unittest

import wamp_testing as wt

SCRIPT = os.path.join(wt.HERE, "autobahn_scenarios.py")
GOODBYE_AND_OUT = "wamp.close.goodbye_and_out"
CALL = 48
MAX_ID = 2 ** 53


class AutobahnTestBase(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.server = wt.start_class_server(cls)

    def scenario(self, scenario, flavour, serializer, serializer2=None):
        argv = [wt.PYTHON, SCRIPT, "--flavour", flavour, "--scenario", scenario,
                "--url", self.server.url, "--serializer", serializer]
        if serializer2:
            argv += ["--serializer2", serializer2]
        report = wt.run_json_client(self, argv, timeout=60)
        self.context = "\nclient %s\nserver log:\n%s" % (report["_output"], self.server.log_tail())
        if "exception" in report:
            self.fail("the client raised:\n%s%s" % (report["exception"], self.context))
        return report


class AutobahnRpcTest(AutobahnTestBase):

    def check_rpc(self, flavour, caller_serializer, callee_serializer=None):
        r = self.scenario("rpc", flavour, caller_serializer, callee_serializer)
        c = self.context
        self.assertEqual(r["add2"], 5, c)
        # Payloads survive the router (and its transcoding between serializers).
        self.assertEqual(r["echo"]["args"][:4], [1, "two", [3.5, None, True], {"k": "v"}], c)
        self.assertTrue(r["echo"]["binary_ok"], "binary argument changed: %r%s" % (r["echo"], c))
        self.assertEqual(r["echo"]["kwargs"], {"kw": 1, "nested": {"a": [1, 2]}}, c)
        self.assertEqual(r["echo_empty"], "None", c)
        # Progressive results: every progress before the final result, in order.
        self.assertEqual(r["progressive"], [
            ["progress", [1], {"step": "step-1"}],
            ["progress", [2], {"step": "step-2"}],
            ["progress", [3], {"step": "step-3"}],
            ["result", "done"]], c)
        # Cancel. Autobahn fails the caller's Deferred/Future with a local
        # CancelledError as soon as it sends CANCEL (it does not wait for the
        # router), so the router's answer is checked on the wire: an ERROR
        # wamp.error.canceled for the CALL. The callee got an INTERRUPT and its
        # endpoint coroutine was cancelled.
        cancel = r["cancel"]
        self.assertEqual(cancel["outcome"], "cancelled", "%r%s" % (cancel, c))
        canceled = [e for e in cancel["caller_errors"] if e[0] == CALL]
        self.assertEqual(len(canceled), 1, "ERRORs for CALLs at the caller: %r%s" % (cancel, c))
        self.assertEqual(canceled[0][2], "wamp.error.canceled", "%r%s" % (cancel, c))
        self.assertEqual(len(cancel["callee_interrupts"]), 1, "%r%s" % (cancel, c))
        self.assertEqual(cancel["callee_outcome"], "interrupted", "%r%s" % (cancel, c))
        # An application error reaches the caller with its URI and args.
        self.assertEqual(r["error"], {"error": "com.example.error", "args": ["bad"], "kwargs": {}}, c)
        self.assertEqual(r["no_such_procedure"], {"error": "wamp.error.no_such_procedure"}, c)
        self.assertEqual(r["add2_after"], 42, c)
        self.assertEqual(r["caller_leave_reason"], GOODBYE_AND_OUT, c)
        self.assertEqual(r["callee_leave_reason"], GOODBYE_AND_OUT, c)

    def test_twisted_json(self):
        self.check_rpc("twisted", "json")

    def test_twisted_msgpack(self):
        self.check_rpc("twisted", "msgpack")

    def test_asyncio_json(self):
        self.check_rpc("asyncio", "json")

    def test_asyncio_msgpack(self):
        self.check_rpc("asyncio", "msgpack")

    def test_asyncio_cbor(self):
        self.check_rpc("asyncio", "cbor")

    def test_asyncio_msgpack_caller_json_callee(self):
        self.check_rpc("asyncio", "msgpack", "json")

    def test_twisted_json_caller_cbor_callee(self):
        self.check_rpc("twisted", "json", "cbor")


class AutobahnPubSubTest(AutobahnTestBase):

    def check_pubsub(self, flavour, publisher_serializer, subscriber_serializer=None):
        r = self.scenario("pubsub", flavour, publisher_serializer, subscriber_serializer)
        c = self.context
        self.assertNotIn("wait", r, c)
        self.assertEqual(r["received"], r["published"], c)
        self.assertTrue(r["binary_ok"], "binary payload event: %r%s" % (r["received_tail"], c))
        self.assertEqual(r["received_tail"][1:], [repr([[], {}])], c)
        self.assertEqual(r["received_count"], 22, c)
        self.assertEqual(r["own_events"], 0, "publisher got its own events (exclude_me)" + c)
        ids = r["publication_ids"]
        self.assertEqual(len(set(ids)), 22, c)
        self.assertTrue(all(isinstance(i, int) and 1 <= i <= MAX_ID for i in ids), c)
        self.assertEqual(r["subscriber_leave_reason"], GOODBYE_AND_OUT, c)
        self.assertEqual(r["publisher_leave_reason"], GOODBYE_AND_OUT, c)

    def test_twisted_json(self):
        self.check_pubsub("twisted", "json")

    def test_asyncio_msgpack(self):
        self.check_pubsub("asyncio", "msgpack")

    def test_asyncio_cbor_publisher_json_subscriber(self):
        self.check_pubsub("asyncio", "cbor", "json")

    def test_twisted_json_publisher_msgpack_subscriber(self):
        self.check_pubsub("twisted", "json", "msgpack")


class AutobahnMetaApiTest(AutobahnTestBase):

    def check_meta(self, flavour, serializer, serializer2=None):
        r = self.scenario("meta", flavour, serializer, serializer2)
        c = "\nreport: %r%s" % ({k: v for k, v in r.items() if k != "_output"}, self.context)
        me, other = r["observer"], r["other"]
        # Before: count and list agree and include the caller.
        self.assertIsInstance(r["count0"], int, c)
        self.assertEqual(r["count0"], len(r["list0"]), c)
        self.assertIn(me, r["list0"], c)
        self.assertEqual(r["get_self"]["session"], me, c)
        for key in ("authid", "authrole", "authmethod"):
            self.assertIn(key, r["get_self"], c)
        self.assertEqual(r["get_self"]["authmethod"], "anonymous", c)
        # A second session joins: on_join with its details, count + 1.
        self.assertNotIn("join_wait", r, c)
        joined = [a for a in r["joins"] if a and isinstance(a[0], dict) and a[0].get("session") == other]
        self.assertEqual(len(joined), 1, c)
        self.assertEqual(r["count1"], r["count0"] + 1, c)
        self.assertEqual(sorted(r["list1"]), sorted(r["list0"] + [other]), c)
        self.assertEqual(r["get_other"]["session"], other, c)
        # It leaves: on_leave with its id first, count back, get fails.
        self.assertEqual(r["other_leave_reason"], GOODBYE_AND_OUT, c)
        self.assertNotIn("leave_wait", r, c)
        left = [a for a in r["leaves"] if a and a[0] == other]
        self.assertEqual(len(left), 1, c)
        self.assertEqual(r["count2"], r["count0"], c)
        self.assertEqual(sorted(r["list2"]), sorted(r["list0"]), c)
        self.assertEqual(r["get_gone"], {"error": "wamp.error.no_such_session"}, c)
        self.assertEqual(r["observer_leave_reason"], GOODBYE_AND_OUT, c)

    def test_twisted_json(self):
        self.check_meta("twisted", "json")

    def test_asyncio_msgpack_observer_cbor_other(self):
        self.check_meta("asyncio", "msgpack", "cbor")


if __name__ == "__main__":
    unittest.main()
