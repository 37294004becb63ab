"""The classic Autobahn|Python publisher/subscriber example against the
ThingTank WAMP router, in both flavours (Twisted and asyncio), unchanged but
for the URL (ws://127.0.0.1:<port>/ws, realm1) and the publishing interval
(0.1 s instead of 1 s). The scripts are in classic/.

Each run starts the subscriber, waits until it printed "subscribed to topic",
then starts the publisher; once the subscriber printed enough events both are
stopped (SIGTERM, by pid). The subscriber must have received exactly the
first N messages the publisher sent, in order.
"""

import datetime
import os
import re
import unittest

import wamp_testing as wt

CLASSIC = os.path.join(wt.HERE, "classic")
EVENTS = 15  # at 0.1 s: 1.5 s of publishing
# Twisted's ApplicationRunner starts Twisted logging, which captures stdout
# and prefixes each printed line with a timestamp.
TWISTED_LOG_PREFIX = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4} ")


def printed(lines):
    """The lines as the script printed them."""
    return [TWISTED_LOG_PREFIX.sub("", line, count=1) for line in lines]


class ClassicExampleTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.server = wt.start_class_server(cls)

    def run_classic(self, pub_flavour, sub_flavour, pub_serializer="", sub_serializer=""):
        def start(script, serializer):
            client = wt.ClientProcess([wt.PYTHON, "-u", os.path.join(CLASSIC, script)],
                                      env={"WAMP_URL": self.server.url,
                                           "WAMP_SERIALIZER": serializer},
                                      cwd=CLASSIC)
            self.addCleanup(client.cleanup)
            return client

        subscriber = start("%s_subscriber.py" % sub_flavour, sub_serializer)
        subscriber.wait_for(lambda lines: "subscribed to topic" in printed(lines)
                            or any(l.startswith("could not subscribe") for l in printed(lines)),
                            20, "the subscriber to subscribe")
        self.assertNotIn("could not", "\n".join(subscriber.lines), subscriber.output())
        publisher = start("%s_publisher.py" % pub_flavour, pub_serializer)

        def events(lines):
            return [l[len("event received: "):] for l in printed(lines)
                    if l.startswith("event received: ")]

        try:
            subscriber.wait_for(lambda lines: len(events(lines)) >= EVENTS, 20,
                                "%d events at the subscriber" % EVENTS)
        finally:
            subscriber.terminate()
            publisher.terminate()
        received = events(subscriber.lines)
        published = [l[len("published: "):] for l in printed(publisher.lines)
                     if l.startswith("published: ")]
        context = "\nsubscriber %s\npublisher %s\nserver log:\n%s" % (
            subscriber.output(), publisher.output(), self.server.log_tail())
        self.assertIn("session ready", printed(publisher.lines), context)
        self.assertGreaterEqual(len(received), EVENTS, context)
        # Subscribed before the publisher started: nothing lost, nothing
        # duplicated, nothing reordered.
        self.assertEqual(received, published[:len(received)], context)
        prefix = "Hello from %s publisher at " % {"twisted": "Twisted", "asyncio": "asyncio"}[pub_flavour]
        stamps = []
        for message in received:
            self.assertTrue(message.startswith(prefix), message)
            stamps.append(datetime.datetime.fromisoformat(message[len(prefix):]))
        self.assertEqual(stamps, sorted(set(stamps)), "timestamps not strictly increasing")
        self.assertTrue(self.server.running(), "the server exited:\n" + self.server.log_tail())

    # Unchanged examples: Autobahn offers its default serializers, the router picks.
    def test_twisted_default_serializers(self):
        self.run_classic("twisted", "twisted")

    def test_asyncio_default_serializers(self):
        self.run_classic("asyncio", "asyncio")

    def test_twisted_json(self):
        self.run_classic("twisted", "twisted", "json", "json")

    def test_twisted_msgpack(self):
        self.run_classic("twisted", "twisted", "msgpack", "msgpack")

    def test_asyncio_json(self):
        self.run_classic("asyncio", "asyncio", "json", "json")

    def test_asyncio_msgpack(self):
        self.run_classic("asyncio", "asyncio", "msgpack", "msgpack")

    def test_asyncio_cbor_publisher_twisted_json_subscriber(self):
        self.run_classic("asyncio", "twisted", "cbor", "json")

    def test_twisted_msgpack_publisher_asyncio_json_subscriber(self):
        self.run_classic("twisted", "asyncio", "msgpack", "json")


if __name__ == "__main__":
    unittest.main()
