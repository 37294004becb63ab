"""The WAMP <-> streams forwarding rules end to end: real Autobahn|Python
(asyncio) clients and the generated gRPC clients against one real `thingtank
serve` (monolithic, every port 0, temporary data directory), the rules created
through WampService.CreateRule.

1. topic_to_stream: a device publishes on a topic (JSON and MessagePack);
   each event is a record of the stream (read with GetRecords) whose data is
   the event as JSON and whose partition key comes from the template.
2. stream_to_topic: a record put into a stream arrives at an Autobahn
   subscriber, its data parsed as JSON (or as text) and the record's details
   in the keyword arguments; TRIM_HORIZON reads what was there before the
   rule, and the rule follows the child shards of a split.
3. Both ways at once: device -> stream -> device, and the rules' validation
   (INVALID_ARGUMENT naming the field) and listing.

The Autobahn sessions run on an asyncio loop in a background thread
(tests/wamp/test_wamp_bridge.py's Loop, Client and Inbox); every wait polls a
condition until a deadline. A LATEST rule gives no sign of the moment it has
its iterators, so a test puts probe records until one arrives, then the real
ones.

Run: ctest -R wamp_streams_bridge (or /usr/bin/python3 -m unittest -v
test_wamp_streams_bridge from tests/integration with PYTHONPATH=tests/python).
"""

import json
import os
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
_WAMP_TESTS = os.path.join(os.path.dirname(HERE), "wamp")
if _WAMP_TESTS not in sys.path:
    sys.path.insert(0, _WAMP_TESTS)

import test_wamp_bridge as wb  # noqa: E402  (Loop, Client, Inbox; puts tests/python on sys.path)
import thingtank_testing as tt  # noqa: E402
import streams_testing as st  # noqa: E402

import grpc  # noqa: E402

T = tt.CALL_DEADLINE_S
EVENT_DEADLINE_S = 30
SERVER_ARGS = ["--gateway-port", "0", "--metrics-port", "0", "--wamp-ws-port", "0"]
MIDDLE = 1 << 127  # the hash key where a split of a whole-range shard cuts


class StreamsBridgeTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        wb.require_build()
        cls.pb, _ = st.load()
        cls.server = tt.ServerProcess(list(SERVER_ARGS))
        cls.addClassCleanup(cls.server.cleanup)
        cls.server.start(required=("gateway", "wamp_ws", "metrics"))
        cls.loop = wb.Loop()
        cls.addClassCleanup(cls.loop.close)
        cls.channel = tt.ready_channel(cls.server.ports["gateway"])
        cls.addClassCleanup(cls.channel.close)
        cls.wamp = wb.wamp_pb2_grpc.WampServiceStub(cls.channel)
        cls.streams = st.stub(cls.channel)

    @classmethod
    def tearDownClass(cls):
        cls.channel.close()
        cls.server.stop(check=True)  # exit code 0 after SIGTERM

    def setUp(self):
        self.failures_before = self.rule_metric("thingtank_wamp_rule_failures_total")

    def tearDown(self):
        # Every stream exists before its rule, nothing is throttled for long:
        # no rule counts a failure.
        self.assertEqual(self.rule_metric("thingtank_wamp_rule_failures_total"),
                         self.failures_before, self.server.log_tail())

    def rule_metric(self, name, **labels):
        status, text = tt.http_get(self.server.ports["metrics"], "/metrics")
        self.assertEqual(status, 200)
        return tt.metric_sum(text, name, **labels)

    def client(self, serializer="json", name="client"):
        c = wb.Client(self.loop, "ws://127.0.0.1:%d/ws" % self.server.ports["wamp_ws"],
                      serializer, name)
        self.addCleanup(c.close)
        return c

    def rule(self, **kind):
        rule = self.wamp.CreateRule(wb.wamp_pb2.CreateRuleRequest(rule=wb.wamp_pb2.Rule(**kind)),
                                    timeout=T).rule
        self.addCleanup(self.wamp.DeleteRule, wb.wamp_pb2.DeleteRuleRequest(id=rule.id), timeout=T)
        return rule

    def put(self, stream, data, key, explicit_hash_key=None):
        request = self.pb.PutRecordRequest(stream_name=stream, data=data, partition_key=key)
        if explicit_hash_key is not None:
            request.explicit_hash_key = str(explicit_hash_key)
        return st.retrying(self.streams.PutRecord, request)

    def records(self, stream, n):
        """Every record of the stream (all shards, parents first) once there are n."""
        def read():
            reads, order = st.read_stream(self.streams, stream)
            got = [r for sid in order for r in reads[sid].records]
            return got if len(got) >= n else None
        return tt.wait_until(read, EVENT_DEADLINE_S, "%d records in stream %s" % (n, stream),
                             interval=st.POLL_SPACING_S)

    def probe(self, stream, inbox):
        """Puts probe records until one reaches the inbox (the LATEST rule has
        its iterators then); returns how many events to skip."""
        deadline = time.monotonic() + EVENT_DEADLINE_S
        while not inbox.snapshot():
            if time.monotonic() >= deadline:
                raise AssertionError("no probe record of %s was published\nserver log:\n%s"
                                     % (stream, self.server.log_tail()))
            self.put(stream, b'"probe"', "probe")
            with inbox.cond:
                inbox.cond.wait_for(lambda: inbox.items, 0.5)
        return len(inbox.snapshot())

    # -----------------------------------------------------------------------
    # 1. topic -> stream

    def test_device_events_become_stream_records(self):
        st.create_stream(self.streams, "telemetry", shards=2)
        self.rule(topic_to_stream=wb.wamp_pb2.TopicToStream(
            topic="sensors.", match="prefix", stream="telemetry",
            partition_key_template="{kwargs.device}"))
        sent = []
        for serializer, device in (("json", "d1"), ("msgpack", "d2")):
            device_client = self.client(serializer, "device-" + device)
            for i in range(2):
                pub = device_client.publish("sensors.temperature", i, "C", device=device,
                                            value=20.5 + i)
                sent.append((pub, device, i))
        got = self.records("telemetry", 4)
        self.assertEqual(len(got), 4, got)
        by_pub = {}
        for r in got:
            body = json.loads(r.data)
            by_pub[body["publication"]] = (body, r.partition_key)
        for pub, device, i in sent:
            body, key = by_pub[pub]
            self.assertEqual(key, device)
            self.assertEqual(body, {"topic": "sensors.temperature", "publication": pub,
                                    "args": [i, "C"],
                                    "kwargs": {"device": device, "value": 20.5 + i}})
        # A device's events are in one shard, in the order it published them.
        for device in ("d1", "d2"):
            pubs = [json.loads(r.data)["publication"] for r in got if r.partition_key == device]
            self.assertEqual(pubs, [p for p, d, _ in sent if d == device])

    # -----------------------------------------------------------------------
    # 2. stream -> topic

    def test_stream_records_reach_a_wamp_subscriber(self):
        st.create_stream(self.streams, "commands", shards=1)
        inbox = wb.Inbox()
        self.client("json", "device").subscribe("devices.commands", inbox)
        self.rule(stream_to_topic=wb.wamp_pb2.StreamToTopic(stream="commands",
                                                            topic="devices.commands"))
        skip = self.probe("commands", inbox)
        put = self.put("commands", b'{"speed": 3, "unit": "rpm"}', "d7")
        self.put("commands", b"reboot now", "d7")
        events = inbox.wait_count(skip + 2, "the two records")[skip:]
        self.assertEqual(events[0]["args"], [{"speed": 3, "unit": "rpm"}])
        self.assertEqual(events[1]["args"], ["reboot now"])
        kw = events[0]["kwargs"]
        self.assertEqual(kw["stream"], "commands")
        self.assertEqual(kw["shard_id"], put.shard_id)
        self.assertEqual(kw["sequence_number"], put.sequence_number)
        self.assertEqual(kw["partition_key"], "d7")
        self.assertGreater(kw["approximate_arrival_timestamp_ms"], 1_600_000_000_000)
        self.assertEqual(events[0]["topic"], "devices.commands")

    def test_trim_horizon_reads_what_was_there_and_follows_a_split(self):
        st.create_stream(self.streams, "history", shards=1)
        self.put("history", b'"before the rule"', "k", 0)
        inbox = wb.Inbox()
        self.client("msgpack", "reader").subscribe("history.events", inbox)
        self.rule(stream_to_topic=wb.wamp_pb2.StreamToTopic(
            stream="history", topic="history.events", starting_position="TRIM_HORIZON"))
        inbox.wait_count(1, "the record put before the rule")
        self.streams.SplitShard(self.pb.SplitShardRequest(
            stream_name="history", shard_to_split=st.shard_id(0),
            new_starting_hash_key=str(MIDDLE)), timeout=T)
        st.wait_active(self.streams, "history")
        low = self.put("history", b'"low child"', "k", 1)
        high = self.put("history", b'"high child"', "k", MIDDLE + 1)
        self.assertNotEqual(low.shard_id, high.shard_id)
        events = inbox.wait_count(3, "the records of both children")
        self.assertEqual(events[0]["args"], ["before the rule"])
        self.assertEqual(events[0]["kwargs"]["shard_id"], st.shard_id(0))
        self.assertEqual(sorted((e["args"][0], e["kwargs"]["shard_id"]) for e in events[1:]),
                         sorted([("high child", high.shard_id), ("low child", low.shard_id)]))

    # -----------------------------------------------------------------------
    # 3. both ways, validation, listing

    def test_device_to_stream_to_device(self):
        st.create_stream(self.streams, "relay", shards=1)
        inbox = wb.Inbox()
        self.client("json", "listener").subscribe("relay.out", inbox)
        self.rule(topic_to_stream=wb.wamp_pb2.TopicToStream(topic="relay.in", stream="relay"))
        self.rule(stream_to_topic=wb.wamp_pb2.StreamToTopic(stream="relay", topic="relay.out",
                                                            starting_position="TRIM_HORIZON"))
        pub = self.client("json", "sender").publish("relay.in", "hello", n=1)
        events = inbox.wait_count(1, "the relayed event")
        self.assertEqual(events[0]["args"], [{"topic": "relay.in", "publication": pub,
                                              "args": ["hello"], "kwargs": {"n": 1}}])
        self.assertEqual(events[0]["kwargs"]["partition_key"], "relay.in")  # the default key

        for kind in ("topic_to_stream", "stream_to_topic"):
            self.assertGreaterEqual(
                self.rule_metric("thingtank_wamp_rule_forwarded_total", kind=kind), 1, kind)

        listed = self.wamp.ListRules(wb.wamp_pb2.ListRulesRequest(), timeout=T).rules
        kinds = {r.WhichOneof("kind") for r in listed}
        self.assertTrue({"topic_to_stream", "stream_to_topic"} <= kinds, listed)

    def test_invalid_rules_name_the_field(self):
        cases = [
            (dict(topic_to_stream=wb.wamp_pb2.TopicToStream(topic="a.b")),
             "rule.topic_to_stream.stream"),
            (dict(topic_to_stream=wb.wamp_pb2.TopicToStream(
                topic="a.b", stream="s", partition_key_template="{nope}")),
             "rule.topic_to_stream.partition_key_template"),
            (dict(stream_to_topic=wb.wamp_pb2.StreamToTopic(stream="bad name!", topic="a.b")),
             "rule.stream_to_topic.stream"),
            (dict(stream_to_topic=wb.wamp_pb2.StreamToTopic(
                stream="s", topic="a.b", starting_position="EARLIEST")),
             "rule.stream_to_topic.starting_position"),
        ]
        for kind, field in cases:
            err = tt.call_error(self.wamp.CreateRule,
                                wb.wamp_pb2.CreateRuleRequest(rule=wb.wamp_pb2.Rule(**kind)))
            self.assertEqual(err.code, grpc.StatusCode.INVALID_ARGUMENT, err)
            self.assertIn(field, err.fields, err)


if __name__ == "__main__":
    unittest.main()
