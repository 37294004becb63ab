"""AutobahnJS (node, the repo's node_modules/autobahn) against the ThingTank
WAMP router: pub/sub and RPC (call/register, progressive results, errors)
between two AutobahnJS connections, with JSON, MessagePack, CBOR and mixed
serializers. The client is autobahn_js_client.js, run with subprocess.
"""

import os
import shutil
import unittest

import wamp_testing as wt

SCRIPT = os.path.join(wt.HERE, "autobahn_js_client.js")


class AutobahnJsTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        if shutil.which(wt.NODE) is None:
            raise AssertionError("node not found (PATH, or set THINGTANK_NODE)")
        if not os.path.isdir(os.path.join(wt.NODE_MODULES, "autobahn")):
            raise AssertionError("no AutobahnJS in %s (run tools/setup.sh)" % wt.NODE_MODULES)
        cls.server = wt.start_class_server(cls)

    def check(self, serializer_a, serializer_b=None):
        serializer_b = serializer_b or serializer_a
        report = wt.run_json_client(
            self, [wt.NODE, SCRIPT, self.server.url, serializer_a, serializer_b],
            env={"NODE_PATH": wt.NODE_MODULES}, timeout=60)
        c = "\nclient %s\nserver log:\n%s" % (report["_output"], self.server.log_tail())
        if "exception" in report:
            self.fail("the client raised:\n%s%s" % (report["exception"], c))
        self.assertEqual(report["protocols"], ["wamp.2." + serializer_a, "wamp.2." + serializer_b], c)
        # Pub/sub: every acknowledged publication delivered once, in order,
        # an empty publication with empty args/kwargs.
        self.assertEqual(report["events"], report["published"], c)
        # RPC.
        self.assertEqual(report["add2"], 5, c)
        self.assertEqual(report["fail"], {"error": "com.example.error", "args": ["bad"],
                                          "kwargs": {"why": "testing"}}, c)
        self.assertEqual(report["progressive"], [["progress", 1], ["progress", 2], ["progress", 3],
                                                 ["result", "done"]], c)
        self.assertEqual(report["no_such_procedure"].get("error"), "wamp.error.no_such_procedure", c)
        # Both closed with GOODBYE answered by goodbye_and_out.
        self.assertEqual(report["close"], ["closed", "wamp.close.goodbye_and_out",
                                           "closed", "wamp.close.goodbye_and_out"], c)
        self.assertTrue(self.server.running(), self.server.log_tail())

    def test_json(self):
        self.check("json")

    def test_msgpack(self):
        self.check("msgpack")

    def test_cbor_publisher_caller_json_subscriber_callee(self):
        self.check("cbor", "json")


if __name__ == "__main__":
    unittest.main()
