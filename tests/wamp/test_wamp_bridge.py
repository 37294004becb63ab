"""The WAMP bridge end to end: Autobahn|Python (asyncio) clients and the
generated gRPC clients against one real `thingtank serve` (monolithic, every
port 0, temporary data directory).

1. WAMP -> ThingTank: Autobahn calls the thingtank.<service>.<method>
   procedures (JSON and MessagePack): queues (the message arrives at a gRPC
   ReceiveMessages), the bridge's errors (not_found with {code, reason},
   invalid_argument, no_such_procedure) and tables (create, put, get).
2. gRPC -> WAMP RPC: WampService.Call of procedures an Autobahn callee
   registered (result, kwargs round trip, callee error ABORTED, no callee
   NOT_FOUND, call timeout DEADLINE_EXCEEDED with the callee interrupted).
3. Pub/sub both ways: gRPC Publish -> Autobahn subscriber; Autobahn publisher
   -> gRPC Subscribe (server stream, prefix match); invalid topics.
4. Forwarding rules created through gRPC: topic -> queue, queue -> topic,
   topic -> table, list and delete, and the rules surviving a restart
   (SIGTERM, start again on the same data directory).

The Autobahn sessions run on an asyncio event loop in a background thread of
this process (autobahn.asyncio.wamp.ApplicationSession with the WebSocket
client factory, as in autobahn_scenarios.py: no autobahn.asyncio.component,
which is broken on Python 3.11); the unittest thread drives them through
run_coroutine_threadsafe and makes the gRPC calls.

No fixed sleep is an assertion: every wait polls a condition until a deadline.
A gRPC Subscribe stream gives no sign of the moment it is subscribed, so the
publisher sends probe events until the first one arrives, then the real ones.

Needs the generated Python wamp modules (build/dev/gen/python/thingtank/wamp/v1,
target thingtank_wamp_proto_python, part of the default build).
Run: ctest -R wamp_bridge (or /usr/bin/python3 -m unittest -v test_wamp_bridge
from tests/wamp with PYTHONPATH=tests/python).
"""

import asyncio
import hashlib
import importlib
import json
import os
import shutil
import socket
import tempfile
import threading
import time
import unittest

import wamp_testing as wt  # noqa: F401  (puts tests/python on sys.path)
import thingtank_testing as tt

import grpc
import txaio
from autobahn.asyncio.wamp import ApplicationSession
from autobahn.asyncio.websocket import WampWebSocketClientFactory
from autobahn.wamp import serializer as wser
from autobahn.wamp.exception import ApplicationError
from autobahn.wamp.types import (CallResult, ComponentConfig, PublishOptions, RegisterOptions,
                                 SubscribeOptions)

T = tt.CALL_DEADLINE_S
EVENT_DEADLINE_S = 20   # an event, a forwarded message or an item to arrive
WAMP_DEADLINE_S = 20    # one WAMP call / subscribe / publish acknowledgement
REALM = "realm1"
SERIALIZERS = {"json": wser.JsonSerializer, "msgpack": wser.MsgPackSerializer}

try:
    wamp_pb2 = importlib.import_module("thingtank.wamp.v1.wamp_pb2")
    wamp_pb2_grpc = importlib.import_module("thingtank.wamp.v1.wamp_pb2_grpc")
    WAMP_GENERATED_ERROR = None
except ImportError as e:  # reported (as a failure) by require_build()
    wamp_pb2 = wamp_pb2_grpc = None
    WAMP_GENERATED_ERROR = e


def require_build():
    tt.require_build("tables")
    if WAMP_GENERATED_ERROR is not None:
        raise AssertionError("generated Python wamp modules not loadable from %s: %s (build the "
                             "target thingtank_wamp_proto_python)"
                             % (tt.PY_GEN, WAMP_GENERATED_ERROR))


# ---------------------------------------------------------------------------
# Autobahn on a background asyncio loop


class Inbox:
    """Items appended from the loop thread, awaited from the test thread."""

    def __init__(self):
        self.cond = threading.Condition()
        self.items = []

    def add(self, item):
        with self.cond:
            self.items.append(item)
            self.cond.notify_all()

    def snapshot(self):
        with self.cond:
            return list(self.items)

    def wait_for(self, predicate, what, timeout=EVENT_DEADLINE_S):
        """Waits until predicate(items) is truthy; returns the items then."""
        with self.cond:
            if not self.cond.wait_for(lambda: predicate(self.items), timeout):
                raise AssertionError("timed out after %d s waiting for %s; got %r"
                                     % (timeout, what, self.items))
            return list(self.items)

    def wait_count(self, n, what, timeout=EVENT_DEADLINE_S):
        return self.wait_for(lambda items: len(items) >= n, what, timeout)


class Loop:
    """An asyncio event loop running in a daemon thread."""

    def __init__(self):
        self.loop = asyncio.new_event_loop()
        txaio.use_asyncio()
        txaio.config.loop = self.loop
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True,
                                       name="autobahn-loop")
        self.thread.start()

    def run(self, coro_fn, what, timeout=WAMP_DEADLINE_S):
        """Runs coro_fn() on the loop and returns its result (or raises its
        exception); fails after `timeout` seconds."""
        async def bounded():
            try:
                return await asyncio.wait_for(coro_fn(), timeout)
            except asyncio.TimeoutError:
                raise AssertionError("timed out after %d s waiting for %s" % (timeout, what))
        return asyncio.run_coroutine_threadsafe(bounded(), self.loop).result(timeout + 10)

    def close(self):
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        if not self.thread.is_alive():
            self.loop.close()


class Session(ApplicationSession):
    """An Autobahn session exposing join/leave as futures."""

    def __init__(self, config, name):
        super().__init__(config)
        self.name = name
        self.joined = txaio.create_future()
        self.left = txaio.create_future()

    def onJoin(self, details):
        txaio.resolve(self.joined, details)

    def onLeave(self, details):
        if not txaio.is_called(self.left):
            txaio.resolve(self.left, details)
        self.disconnect()

    def onDisconnect(self):
        if not txaio.is_called(self.joined):
            txaio.reject(self.joined, RuntimeError("%s: disconnected before WELCOME" % self.name))
        if not txaio.is_called(self.left):
            txaio.resolve(self.left, None)


class Client:
    """A joined Autobahn session driven from the test thread."""

    def __init__(self, loop, url, serializer="json", name="client"):
        self.loop = loop
        self.name = name

        async def connect():
            session = Session(ComponentConfig(realm=REALM), name)
            factory = WampWebSocketClientFactory(lambda: session, url=url,
                                                 serializers=[SERIALIZERS[serializer]()])
            host_port = url.split("//", 1)[1].split("/", 1)[0]
            host, port = host_port.rsplit(":", 1)
            await asyncio.get_running_loop().create_connection(factory, host, int(port))
            details = await session.joined
            return session, details.session
        self.session, self.id = loop.run(connect, "%s (%s): WELCOME" % (name, serializer))

    def call(self, procedure, *args, **kwargs):
        async def go():
            return await self.session.call(procedure, *args, **kwargs)
        return self.loop.run(go, "%s: RESULT of %s" % (self.name, procedure))

    def call_error(self, procedure, *args, **kwargs):
        """The ApplicationError of a call that must fail."""
        try:
            result = self.call(procedure, *args, **kwargs)
        except ApplicationError as e:
            return e
        raise AssertionError("%s: expected an error, the call returned %r" % (procedure, result))

    def publish(self, topic, *args, options=None, **kwargs):
        """Publishes with acknowledge=True; returns the publication id."""
        options = options or PublishOptions(acknowledge=True)

        async def go():
            return (await self.session.publish(topic, *args, options=options, **kwargs)).id
        return self.loop.run(go, "%s: PUBLISHED %s" % (self.name, topic))

    def subscribe(self, topic, inbox, options=None):
        """Subscribes; each event is added to inbox as
        {"args", "kwargs", "publication", "topic"}."""
        def on_event(*args, details=None, **kwargs):
            inbox.add({"args": list(args), "kwargs": kwargs, "publication": details.publication,
                       "topic": details.topic})
        options = options or SubscribeOptions(details_arg="details")

        async def go():
            return await self.session.subscribe(on_event, topic, options=options)
        return self.loop.run(go, "%s: SUBSCRIBED %s" % (self.name, topic))

    def register(self, endpoint, procedure, options=None):
        async def go():
            return await self.session.register(endpoint, procedure, options=options)
        return self.loop.run(go, "%s: REGISTERED %s" % (self.name, procedure))

    def close(self):
        async def go():
            if self.session.is_attached():
                self.session.leave()
            await self.session.left
        self.loop.run(go, "%s: GOODBYE" % self.name)


class GrpcStream:
    """A server stream read by a thread into an Inbox."""

    def __init__(self, call):
        self.call = call
        self.inbox = Inbox()
        self.error = None
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        try:
            for message in self.call:
                self.inbox.add(message)
        except grpc.RpcError as e:
            self.error = e
        self.inbox.add(None)  # end of stream

    def cancel(self):
        self.call.cancel()
        self.thread.join(T)

    def probe(self, publish_probe, what):
        """Calls publish_probe() until an event reaches the stream (a Subscribe
        gives no sign of the moment it is subscribed); returns how many probe
        events arrived, to skip them."""
        deadline = time.monotonic() + EVENT_DEADLINE_S
        while not self.inbox.snapshot():
            if time.monotonic() >= deadline:
                raise AssertionError("no probe event reached the stream " + what)
            publish_probe()
            with self.inbox.cond:  # until one arrives, or try again after 0.3 s
                self.inbox.cond.wait_for(lambda: self.inbox.items, 0.3)
        return len(self.inbox.snapshot())


# ---------------------------------------------------------------------------
# Servers


SERVER_ARGS = ["--gateway-port", "0", "--metrics-port", "0", "--wamp-ws-port", "0"]
REQUIRED_PORTS = ("gateway", "wamp_ws")


class BridgeTestBase(unittest.TestCase):
    """A monolithic server, an Autobahn loop and gRPC stubs through the gateway."""

    @classmethod
    def setUpClass(cls):
        require_build()
        cls.server = tt.ServerProcess(list(SERVER_ARGS))
        cls.addClassCleanup(cls.server.cleanup)
        cls.server.start(required=REQUIRED_PORTS)
        cls.loop = Loop()
        cls.addClassCleanup(cls.loop.close)
        cls.connect_grpc()

    @classmethod
    def connect_grpc(cls):
        cls.channel = tt.ready_channel(cls.server.ports["gateway"])
        cls.addClassCleanup(cls.channel.close)
        cls.wamp = wamp_pb2_grpc.WampServiceStub(cls.channel)
        cls.queues = tt.queues_pb2_grpc.QueuesServiceStub(cls.channel)
        cls.tables = tt.tables_pb2_grpc.TablesServiceStub(cls.channel)

    @classmethod
    def tearDownClass(cls):
        cls.channel.close()
        cls.server.stop(check=True)  # exit code 0 after SIGTERM

    @property
    def url(self):
        return "ws://127.0.0.1:%d/ws" % self.server.ports["wamp_ws"]

    def client(self, serializer="json", name="client"):
        c = Client(self.loop, self.url, serializer, name)
        self.addCleanup(c.close)
        return c

    def context(self):
        return "\nserver log:\n%s" % self.server.log_tail()

    def receive_one(self, queue, what):
        """Long-polls the queue until one message arrives; returns it (deleted)."""
        qpb = tt.queues_pb2

        def poll():
            got = self.queues.ReceiveMessages(qpb.ReceiveMessagesRequest(
                queue_name=queue, max_number_of_messages=10, wait_time=tt.duration(1)), timeout=T)
            return list(got.messages)
        messages = tt.wait_until(poll, EVENT_DEADLINE_S, what)
        self.assertEqual(len(messages), 1, "%s: %r" % (what, messages))
        self.queues.DeleteMessage(qpb.DeleteMessageRequest(
            queue_name=queue, receipt_handle=messages[0].receipt_handle), timeout=T)
        return messages[0]


# ---------------------------------------------------------------------------
# 1. WAMP -> ThingTank


class WampToThingTankTest(BridgeTestBase):

    def check_queues(self, serializer):
        c = self.client(serializer, "caller-" + serializer)
        queue = "bridge-" + serializer
        created = self.call_ok(c, "thingtank.queues.create_queue", queue_name=queue)
        self.assertTrue(created.kwresults["queue_url"].endswith("/" + queue), created.kwresults)

        body = "21.5 from %s \u00e9" % serializer
        sent = self.call_ok(c, "thingtank.queues.send_message", queue_name=queue,
                            message_body=body)
        self.assertEqual(list(sent.results), [])
        self.assertEqual(sent.kwresults["md5_of_message_body"],
                         hashlib.md5(body.encode("utf-8")).hexdigest(), sent.kwresults)
        self.assertTrue(sent.kwresults["message_id"], sent.kwresults)

        got = self.queues.ReceiveMessages(tt.queues_pb2.ReceiveMessagesRequest(
            queue_name=queue, max_number_of_messages=10), timeout=T)
        self.assertEqual([(m.body, m.message_id) for m in got.messages],
                         [(body, sent.kwresults["message_id"])])

        # lowerCamelCase field names are accepted too.
        sent2 = self.call_ok(c, "thingtank.queues.send_message", queueName=queue,
                             messageBody="camel")
        got = self.queues.ReceiveMessages(tt.queues_pb2.ReceiveMessagesRequest(
            queue_name=queue, max_number_of_messages=10), timeout=T)
        self.assertEqual([(m.body, m.message_id) for m in got.messages],
                         [("camel", sent2.kwresults["message_id"])])

        # gRPC errors: thingtank.error.<code>, message, {code, reason}.
        e = c.call_error("thingtank.queues.send_message", queue_name="no-such-queue-" + serializer,
                         message_body="x")
        self.assertEqual(e.error, "thingtank.error.not_found", e)
        self.assertEqual(len(e.args), 1, e.args)
        self.assertIsInstance(e.args[0], str)
        self.assertIn("no-such-queue-" + serializer, e.args[0])
        self.assertEqual(e.kwargs, {"code": "NOT_FOUND", "reason": "QueueDoesNotExist"})

        e = c.call_error("thingtank.queues.send_message", no_such_field=1)
        self.assertEqual(e.error, "wamp.error.invalid_argument", e)
        self.assertIn("no_such_field", e.args[0] if e.args else "", e.args)

        e = c.call_error("thingtank.queues.send_message", queue, "positional")
        self.assertEqual(e.error, "wamp.error.invalid_argument", e)

        e = c.call_error("thingtank.queues.create_queue", queue_name="bad name!")
        self.assertEqual(e.error, "thingtank.error.invalid_argument", e)
        self.assertEqual(e.kwargs, {"code": "INVALID_ARGUMENT", "reason": "InvalidParameterValue",
                                    "field": "queue_name"})

        e = c.call_error("thingtank.queues.nope", queue_name=queue)
        self.assertEqual(e.error, "wamp.error.no_such_procedure", e)

        # The session still works after the errors.
        self.call_ok(c, "thingtank.queues.delete_queue", queue_name=queue)
        e = c.call_error("thingtank.queues.get_queue_url", queue_name=queue)
        self.assertEqual(e.error, "thingtank.error.not_found", e)

    def call_ok(self, client, procedure, **kwargs):
        try:
            result = client.call(procedure, **kwargs)
        except ApplicationError as e:
            self.fail("%s failed: %s %r %r%s" % (procedure, e.error, e.args, e.kwargs,
                                                 self.context()))
        # Results are keyword arguments; an empty response (e.g. PutItem's)
        # is a RESULT without arguments, which Autobahn returns as None.
        if result is not None:
            self.assertIsInstance(result, CallResult, "%s returned %r" % (procedure, result))
            self.assertEqual(list(result.results), [], result)
        return result

    def test_queues_json(self):
        self.check_queues("json")

    def test_queues_msgpack(self):
        self.check_queues("msgpack")

    def test_tables(self):
        c = self.client("msgpack", "tables-caller")
        table = "bridge-readings"
        created = self.call_ok(
            c, "thingtank.tables.create_table", table_name=table,
            key_schema=[{"attribute_name": "device", "key_type": "KEY_TYPE_HASH"},
                        {"attribute_name": "ts", "key_type": "KEY_TYPE_RANGE"}],
            attribute_definitions=[
                {"attribute_name": "device", "attribute_type": "SCALAR_ATTRIBUTE_TYPE_S"},
                {"attribute_name": "ts", "attribute_type": "SCALAR_ATTRIBUTE_TYPE_N"}],
            billing_mode="BILLING_MODE_PAY_PER_REQUEST")
        # Results are in DynamoDB's JSON (issue 10: one form for people), whatever
        # form the request was in.
        described = created.kwresults["TableDescription"]
        self.assertEqual(described["TableName"], table)
        self.assertEqual(described["KeySchema"], [{"AttributeName": "device", "KeyType": "HASH"},
                                                  {"AttributeName": "ts", "KeyType": "RANGE"}])
        self.assertEqual(described["BillingModeSummary"], {"BillingMode": "PAY_PER_REQUEST"})
        tt.wait_table_active(self.tables, table)

        # A request in the protobuf JSON mapping.
        item = {"device": {"s": "d1"}, "ts": {"n": "1700000000"}, "temperature": {"n": "21.5"},
                "tags": {"l": {"values": [{"s": "a"}, {"bool_value": True}]}}}
        dynamo_item = {"device": {"S": "d1"}, "ts": {"N": "1700000000"},
                       "temperature": {"N": "21.5"}, "tags": {"L": [{"S": "a"}, {"BOOL": True}]}}
        self.assertIsNone(self.call_ok(c, "thingtank.tables.put_item", table_name=table,
                                       item=item))
        got = self.call_ok(c, "thingtank.tables.get_item", table_name=table,
                           key={"device": {"s": "d1"}, "ts": {"n": "1700000000"}})
        self.assertEqual(got.kwresults, {"Item": dynamo_item})

        # A request in DynamoDB's form; the result is valid input again.
        item2 = {"device": {"S": "d1"}, "ts": {"N": 1700000001}, "raw": {"B": "AAE="},
                 "m": {"M": {"ns": {"NS": ["1", "2"]}, "none": {"NULL": True}}}}
        self.assertIsNone(self.call_ok(c, "thingtank.tables.put_item", TableName=table,
                                       Item=item2))
        queried = self.call_ok(c, "thingtank.tables.query", TableName=table,
                               KeyConditionExpression="device = :d AND ts > :t",
                               ExpressionAttributeValues={":d": {"S": "d1"},
                                                          ":t": {"N": "1700000000"}})
        stored2 = dict(item2, ts={"N": "1700000001"})
        self.assertEqual(queried.kwresults, {"Items": [stored2], "Count": 1, "ScannedCount": 1})
        self.assertIsNone(self.call_ok(c, "thingtank.tables.put_item", TableName=table,
                                       Item=queried.kwresults["Items"][0]))
        described = self.call_ok(c, "thingtank.tables.describe_table", TableName=table)
        self.assertEqual(described.kwresults["Table"]["TableStatus"], "ACTIVE")
        self.assertEqual(described.kwresults["Table"]["ItemCount"], 2)
        # Batches in DynamoDB's request shapes (a table's writes as a list, keys as maps).
        written = self.call_ok(c, "thingtank.tables.batch_write_item", RequestItems={table: [
            {"PutRequest": {"Item": {"device": {"S": "d3"}, "ts": {"N": "3"}}}},
            {"DeleteRequest": {"Key": {"device": {"S": "d1"}, "ts": {"N": "1700000001"}}}}]})
        self.assertEqual(written.kwresults, {"UnprocessedItems": {}})
        batch = self.call_ok(c, "thingtank.tables.batch_get_item", RequestItems={table: {
            "Keys": [{"device": {"S": "d3"}, "ts": {"N": "3"}},
                     {"device": {"S": "d1"}, "ts": {"N": "1700000001"}}],
            "ConsistentRead": True}})
        self.assertEqual(batch.kwresults, {
            "Responses": {table: [{"device": {"S": "d3"}, "ts": {"N": "3"}}]},
            "UnprocessedKeys": {}})

        # The item is there for a gRPC client too.
        g = self.tables.GetItem(tt.tables_pb2.GetItemRequest(
            table_name=table, key=tt.item(device="d1", ts=tt.N("1700000000"))), timeout=T)
        self.assertEqual(tt.attrs(g.item), {"device": "d1", "ts": 1700000000,
                                            "temperature": "21.5", "tags": ["a", True]})

        # A missing item: empty result kwargs (no "Item"), as DynamoDB's {}.
        got = c.call("thingtank.tables.get_item", table_name=table,
                     key={"device": {"s": "d2"}, "ts": {"n": "1"}})
        kw = got.kwresults if isinstance(got, CallResult) else {}
        self.assertEqual(kw, {}, got)

    def test_the_wamp_service_itself(self):
        # The wamp service is behind the gateway too: its rules can be
        # managed from WAMP.
        c = self.client("json", "rules-caller")
        created = self.call_ok(c, "thingtank.wamp.create_rule",
                               rule={"topic_to_queue": {"topic": "bridge.self.t",
                                                        "queue": "bridge-self"}})
        rule_id = created.kwresults["rule"]["id"]
        listed = self.call_ok(c, "thingtank.wamp.list_rules")
        self.assertIn(rule_id, [r["id"] for r in listed.kwresults["rules"]])
        self.assertIsNone(self.call_ok(c, "thingtank.wamp.delete_rule", id=rule_id))
        e = c.call_error("thingtank.wamp.delete_rule", id=rule_id)
        self.assertEqual(e.error, "thingtank.error.not_found", e)


# ---------------------------------------------------------------------------
# 2. gRPC -> a procedure of a WAMP callee


class GrpcCallTest(BridgeTestBase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.callee = Client(cls.loop, "ws://127.0.0.1:%d/ws" % cls.server.ports["wamp_ws"],
                            "msgpack", "callee")
        cls.addClassCleanup(cls.callee.close)
        cls.slow = {"started": threading.Event(), "outcome": Inbox()}

        def add2(a, b):
            return a + b

        def echo(*args, **kwargs):
            return CallResult(*args, **kwargs)

        def fail(*args, **kwargs):
            raise ApplicationError("com.example.error", "bad", 42, detail="why")

        async def slow():
            cls.slow["started"].set()
            try:
                await asyncio.sleep(30)
            except asyncio.CancelledError:
                cls.slow["outcome"].add("interrupted")
                raise
            cls.slow["outcome"].add("ran to completion")
            return "slow done"

        cls.callee.register(add2, "com.example.add2")
        cls.callee.register(echo, "com.example.echo")
        cls.callee.register(fail, "com.example.fail")
        cls.callee.register(slow, "com.example.slow")

    def call(self, procedure, args_json="", kwargs_json="", timeout=None):
        request = wamp_pb2.CallRequest(procedure=procedure, args_json=args_json,
                                       kwargs_json=kwargs_json)
        if timeout is not None:
            request.timeout.CopyFrom(tt.duration(timeout))
        return request

    def test_add2(self):
        r = self.wamp.Call(self.call("com.example.add2", "[2,3]"), timeout=T)
        self.assertEqual(r.args_json, "[5]")
        self.assertEqual(r.kwargs_json, "{}")

    def test_kwargs_round_trip(self):
        args = [1, "two", [3.5, None, True], {"k": "v"}]
        kwargs = {"kw": 1, "nested": {"a": [1, 2], "s": "\u00e9\u4e2d"}, "f": -0.25}
        r = self.wamp.Call(self.call("com.example.echo", json.dumps(args), json.dumps(kwargs),
                                     timeout=5), timeout=T)
        self.assertEqual(json.loads(r.args_json), args)
        self.assertEqual(json.loads(r.kwargs_json), kwargs)
        r = self.wamp.Call(self.call("com.example.echo", "", '{"only":"kw"}'), timeout=T)
        self.assertEqual((r.args_json, json.loads(r.kwargs_json)), ("[]", {"only": "kw"}))
        r = self.wamp.Call(self.call("com.example.echo"), timeout=T)
        self.assertEqual((r.args_json, r.kwargs_json), ("[]", "{}"))

    def test_callee_error_is_aborted(self):
        err = tt.call_error(self.wamp.Call, self.call("com.example.fail", "[1]"))
        self.assertEqual(err.code, grpc.StatusCode.ABORTED, err)
        self.assertIn("com.example.error", err.message)
        self.assertEqual(err.message, "com.example.error: bad", err)
        self.assertEqual(err.reasons, ["com.example.error"], err)

    def test_no_callee_is_not_found(self):
        err = tt.call_error(self.wamp.Call, self.call("com.example.nobody.here", "[1]"))
        self.assertEqual(err.code, grpc.StatusCode.NOT_FOUND, err)
        self.assertIn("wamp.error.no_such_procedure", err.message)
        self.assertEqual(err.reasons, ["wamp.error.no_such_procedure"], err)

    def test_invalid_requests(self):
        for request, field in ((self.call("not a uri!", "[]"), "procedure"),
                               (self.call("com.example.add2", "{}"), "args_json"),
                               (self.call("com.example.add2", "", "[1]"), "kwargs_json"),
                               (self.call("com.example.add2", "[2,"), "args_json"),
                               (self.call("com.example.add2", "[2,3]", timeout=601), "timeout"),
                               (self.call("com.example.add2", "[2,3]", timeout=0), "timeout")):
            err = tt.call_error(self.wamp.Call, request)
            self.assertEqual(err.code, grpc.StatusCode.INVALID_ARGUMENT, (request, err))
            self.assertEqual(err.fields, [field], (request, err))

    def test_timeout_is_deadline_exceeded(self):
        started = time.monotonic()
        err = tt.call_error(self.wamp.Call, self.call("com.example.slow", timeout=0.3))
        elapsed = time.monotonic() - started
        self.assertEqual(err.code, grpc.StatusCode.DEADLINE_EXCEEDED, err)
        self.assertEqual(err.reasons, ["wamp.error.timeout"], err)
        self.assertTrue(self.slow["started"].is_set(), "the callee was never invoked")
        # The router's 300 ms timeout answered, not the client's 30 s deadline.
        self.assertLess(elapsed, 10, err)
        self.assertGreaterEqual(elapsed, 0.29, err)
        # The callee got an INTERRUPT: its endpoint was cancelled.
        self.assertEqual(self.slow["outcome"].wait_count(1, "the slow endpoint to end"),
                         ["interrupted"])
        # The callee still serves calls.
        r = self.wamp.Call(self.call("com.example.add2", "[20,22]"), timeout=T)
        self.assertEqual(r.args_json, "[42]")


# ---------------------------------------------------------------------------
# 3. Pub/sub between gRPC and WAMP


class PubSubTest(BridgeTestBase):

    def publish(self, topic, args_json="", kwargs_json=""):
        return self.wamp.Publish(wamp_pb2.PublishRequest(topic=topic, args_json=args_json,
                                                         kwargs_json=kwargs_json), timeout=T)

    def test_grpc_publish_to_autobahn_subscriber(self):
        for serializer in ("json", "msgpack"):
            with self.subTest(serializer=serializer):
                topic = "com.example.grpc2wamp." + serializer
                sub = self.client(serializer, "subscriber-" + serializer)
                inbox = Inbox()
                sub.subscribe(topic, inbox)
                args = [1, "two", {"x": [1.5, None, True]}, -7]
                kwargs = {"k": "v", "n": 2, "nested": {"l": []}}
                p1 = self.publish(topic, json.dumps(args), json.dumps(kwargs)).publication
                p2 = self.publish(topic, "", '{"only":"kw"}').publication
                p3 = self.publish(topic).publication
                p4 = self.publish(topic, '["end"]').publication
                self.assertEqual(len({p1, p2, p3, p4}), 4)
                self.assertTrue(all(1 <= p <= 2 ** 53 for p in (p1, p2, p3, p4)))
                events = inbox.wait_for(lambda items: any(e["args"] == ["end"] for e in items),
                                        "the last event")
                # EVENT details.topic is only required for pattern subscriptions;
                # the router may add it for exact ones too.
                for e in events:
                    self.assertIn(e.pop("topic"), (None, topic), e)
                self.assertEqual(events, [
                    {"args": args, "kwargs": kwargs, "publication": p1},
                    {"args": [], "kwargs": {"only": "kw"}, "publication": p2},
                    {"args": [], "kwargs": {}, "publication": p3},
                    {"args": ["end"], "kwargs": {}, "publication": p4}])

    def test_autobahn_publisher_to_grpc_subscribe(self):
        stream = GrpcStream(self.wamp.Subscribe(wamp_pb2.SubscribeRequest(
            topic="com.example.sensors.", match="prefix"), timeout=60))
        self.addCleanup(stream.cancel)
        pub = self.client("msgpack", "publisher")
        probes = stream.probe(lambda: pub.publish("com.example.sensors.probe", "probe"),
                              "from the Autobahn publisher")

        args = [21.5, "celsius", {"ok": True}]
        kwargs = {"device": "d1", "list": [1, None]}
        p1 = pub.publish("com.example.sensors.t1", *args, **kwargs)
        pub.publish("com.example.other.t1", "not matching")
        p2 = pub.publish("com.example.sensors.t2.deep", level=3)
        p3 = pub.publish("com.example.sensors.end", "end")
        events = stream.inbox.wait_count(probes + 3, "3 events on the stream")[probes:]
        self.assertIsNone(stream.error, stream.error)
        self.assertEqual(len(events), 3, events)
        self.assertEqual((events[0].topic, events[0].publication), ("com.example.sensors.t1", p1))
        self.assertEqual(json.loads(events[0].args_json), args)
        self.assertEqual(json.loads(events[0].kwargs_json), kwargs)
        self.assertEqual(events[0].publisher, 0)
        self.assertEqual((events[1].topic, events[1].publication, events[1].args_json,
                          json.loads(events[1].kwargs_json), events[1].publisher),
                         ("com.example.sensors.t2.deep", p2, "[]", {"level": 3}, 0))
        self.assertEqual((events[2].topic, events[2].publication, events[2].args_json,
                          events[2].kwargs_json), ("com.example.sensors.end", p3, '["end"]', "{}"))

    def test_grpc_subscribe_in_metrics(self):
        """A gRPC subscriber is visible to operators: thingtank_wamp_grpc_subscriptions
        while it is subscribed, its events in thingtank_wamp_events_delivered_total, and
        the grpc_server_* series of a server stream."""
        def metrics():
            status, text = tt.http_get(self.server.ports["metrics"], "/metrics")
            self.assertEqual(status, 200)
            return text

        def subscribed(text):
            return tt.metric_sum(text, "thingtank_wamp_grpc_subscriptions", realm="realm1")

        def rpc(text, name, **labels):
            return tt.metric_sum(text, name, grpc_service="thingtank.wamp.v1.WampService",
                                 grpc_method="Subscribe", grpc_type="server_stream", **labels)

        tt.wait_until(lambda: subscribed(metrics()) == 0, T, "other tests' streams to end")
        before = metrics()
        stream = GrpcStream(self.wamp.Subscribe(
            wamp_pb2.SubscribeRequest(topic="com.example.metered"), timeout=60))
        self.addCleanup(stream.cancel)
        stream.probe(lambda: self.publish("com.example.metered", '["probe"]'), "metered")
        self.publish("com.example.metered", '["end"]')
        received = stream.inbox.wait_for(
            lambda items: items[-1] is not None and items[-1].args_json == '["end"]', "the end event")
        during = metrics()
        self.assertEqual(subscribed(during), 1)
        self.assertEqual(tt.metric_sum(during, "thingtank_wamp_events_delivered_total")
                         - tt.metric_sum(before, "thingtank_wamp_events_delivered_total"), len(received))
        self.assertEqual(rpc(during, "grpc_server_started_total")
                         - rpc(before, "grpc_server_started_total"), 1)

        # The cancel reaches the server after the client has let go: wait for
        # the subscription to end. A refused Subscribe is counted before the
        # client sees its status.
        stream.cancel()

        def ended():
            text = metrics()
            return text if subscribed(text) == 0 else None
        after = tt.wait_until(ended, T, "the subscription to end")
        self.assertEqual(rpc(after, "grpc_server_handled_total", grpc_code="Canceled")
                         - rpc(before, "grpc_server_handled_total", grpc_code="Canceled"), 1)
        bad = self.wamp.Subscribe(wamp_pb2.SubscribeRequest(topic="bad topic!"), timeout=T)
        with self.assertRaises(grpc.RpcError):
            list(bad)
        last = metrics()
        self.assertEqual(rpc(last, "grpc_server_handled_total", grpc_code="InvalidArgument")
                         - rpc(before, "grpc_server_handled_total", grpc_code="InvalidArgument"), 1)
        self.assertEqual(rpc(last, "grpc_server_started_total")
                         - rpc(before, "grpc_server_started_total"), 2)

    def test_invalid_topic(self):
        for topic in ("", "bad topic!", "com..example", "com.example.#"):
            with self.subTest(topic=topic):
                err = tt.call_error(self.wamp.Publish, wamp_pb2.PublishRequest(topic=topic))
                self.assertEqual(err.code, grpc.StatusCode.INVALID_ARGUMENT, err)
                self.assertEqual(err.fields, ["topic"], err)
        err = tt.call_error(self.wamp.Publish, wamp_pb2.PublishRequest(
            topic="com.example.t", args_json='{"not":"an array"}'))
        self.assertEqual((err.code, err.fields), (grpc.StatusCode.INVALID_ARGUMENT, ["args_json"]))
        # Subscribe: the stream ends at once with INVALID_ARGUMENT.
        stream = self.wamp.Subscribe(wamp_pb2.SubscribeRequest(topic="bad topic!"), timeout=T)
        with self.assertRaises(grpc.RpcError) as cm:
            list(stream)
        self.assertEqual(cm.exception.code(), grpc.StatusCode.INVALID_ARGUMENT,
                         cm.exception.details())
        stream = self.wamp.Subscribe(wamp_pb2.SubscribeRequest(topic="com.example",
                                                               match="fuzzy"), timeout=T)
        with self.assertRaises(grpc.RpcError) as cm:
            list(stream)
        self.assertEqual(cm.exception.code(), grpc.StatusCode.INVALID_ARGUMENT,
                         cm.exception.details())


# ---------------------------------------------------------------------------
# 4. Forwarding rules


class MicroserviceSubscribeTest(unittest.TestCase):
    """Microservice mode: the gateway relays the Subscribe server stream to a
    wamp process. The gateway's default deadline (2 s here) caps unary calls
    only: a subscription outlives it."""

    @classmethod
    def setUpClass(cls):
        require_build()
        # The bridge (WAMP -> gRPC) is not used here; it needs some address.
        cls.backend = tt.ServerProcess(["--services=wamp", "--wamp-port", "0", "--metrics-port", "0",
                                        "--wamp-ws-port", "0", "--gateway-address", "127.0.0.1:1"])
        cls.addClassCleanup(cls.backend.cleanup)
        cls.backend.start(required=("wamp", "metrics", "wamp_ws"))
        cls.gateway = tt.ServerProcess([
            "--services=gateway", "--backends=wamp=127.0.0.1:%d" % cls.backend.ports["wamp"],
            "--gateway-port", "0", "--metrics-port", "0", "--wamp-ws-port", "0",
            "--default-deadline", "2s"])
        cls.addClassCleanup(cls.gateway.cleanup)
        cls.gateway.start(required=("gateway", "metrics"))
        cls.channel = tt.ready_channel(cls.gateway.ports["gateway"])
        cls.addClassCleanup(cls.channel.close)
        cls.wamp = wamp_pb2_grpc.WampServiceStub(cls.channel)

    def publish(self, topic, *args):
        return self.wamp.Publish(wamp_pb2.PublishRequest(topic=topic, args_json=json.dumps(list(args))),
                                 timeout=T).publication

    def test_subscribe_through_the_gateway(self):
        stream = GrpcStream(self.wamp.Subscribe(wamp_pb2.SubscribeRequest(topic="com.example.ms"),
                                                timeout=60))
        self.addCleanup(stream.cancel)
        probes = stream.probe(lambda: self.publish("com.example.ms", "probe"), "through the gateway")
        p1 = self.publish("com.example.ms", 1, "a")
        self.publish("com.example.other", "not this")
        # Past the gateway's default deadline for unary calls: still subscribed.
        time.sleep(2.5)  # the point is the time passing; nothing to wait for
        p2 = self.publish("com.example.ms", {"t": 21.5})
        events = stream.inbox.wait_count(probes + 2, "2 events through the gateway")[probes:]
        self.assertIsNone(stream.error, stream.error)
        self.assertEqual([(e.topic, e.publication, json.loads(e.args_json)) for e in events],
                         [("com.example.ms", p1, [1, "a"]), ("com.example.ms", p2, [{"t": 21.5}])])
        # A cancel at the gateway ends the subscription in the wamp process.
        stream.cancel()
        tt.wait_until(lambda: tt.metric_sum(tt.http_get(self.backend.ports["metrics"], "/metrics")[1],
                                            "thingtank_wamp_grpc_subscriptions", realm="realm1") == 0,
                      T, "the wamp process to drop the subscription")

    def test_stream_errors_come_through(self):
        stream = self.wamp.Subscribe(wamp_pb2.SubscribeRequest(topic="bad topic!"), timeout=T)
        with self.assertRaises(grpc.RpcError) as cm:
            list(stream)
        self.assertEqual(cm.exception.code(), grpc.StatusCode.INVALID_ARGUMENT,
                         cm.exception.details())


class MicroserviceApiKeyTest(unittest.TestCase):
    """Microservice mode with --auth=apikey: the wamp process's bridge presents
    the API key from THINGTANK_API_KEY_ID/SECRET to the gateway."""

    @classmethod
    def setUpClass(cls):
        require_build()
        keys_dir = tempfile.mkdtemp(prefix="thingtank-keys-")
        cls.addClassCleanup(shutil.rmtree, keys_dir, True)
        keys_file = os.path.join(keys_dir, "api-keys")
        with open(keys_file, "w") as f:
            f.write("bridge  s3cret-b  wamp\n")
        # Each side needs the other's port: the wamp port is chosen here.
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            wamp_port = probe.getsockname()[1]
        cls.gateway = tt.ServerProcess([
            "--services=gateway", "--backends=wamp=127.0.0.1:%d" % wamp_port,
            "--gateway-port", "0", "--metrics-port", "0", "--wamp-ws-port", "0",
            "--auth=apikey", "--api-keys-file", keys_file])
        cls.addClassCleanup(cls.gateway.cleanup)
        cls.gateway.start(required=("gateway", "metrics"))
        env = dict(os.environ, THINGTANK_API_KEY_ID="bridge", THINGTANK_API_KEY_SECRET="s3cret-b")
        cls.backend = tt.ServerProcess([
            "--services=wamp", "--wamp-port", str(wamp_port), "--metrics-port", "0",
            "--wamp-ws-port", "0", "--gateway-address", "127.0.0.1:%d" % cls.gateway.ports["gateway"]],
            env=env)
        cls.addClassCleanup(cls.backend.cleanup)
        cls.backend.start(required=("wamp", "wamp_ws"))
        # The gateway found the backend down at first; its health checks tell
        # when it is reachable.
        channel = tt.ready_channel(cls.gateway.ports["gateway"])
        cls.addClassCleanup(channel.close)
        tt.wait_until(lambda: tt.health_check(channel, "thingtank.wamp.v1.WampService") == b"\x08\x01",
                      EVENT_DEADLINE_S, "the gateway sees the wamp backend")
        cls.loop = Loop()
        cls.addClassCleanup(cls.loop.close)

    def test_bridge_calls_pass_the_gateways_key_check(self):
        c = Client(self.loop, "ws://127.0.0.1:%d/ws" % self.backend.ports["wamp_ws"], "json", "keyed")
        self.addCleanup(c.close)
        # WAMP -> bridge -> gateway (key checked) -> the wamp process's ListRules.
        created = c.call("thingtank.wamp.create_rule",
                         rule={"topic_to_queue": {"topic": "keyed.t", "queue": "keyed-q"}})
        rule_id = created.kwresults["rule"]["id"]
        listed = c.call("thingtank.wamp.list_rules")
        self.assertEqual([r["id"] for r in listed.kwresults["rules"]], [rule_id])
        # The gateway does check keys: without one, a gRPC caller is refused.
        channel = tt.ready_channel(self.gateway.ports["gateway"])
        self.addCleanup(channel.close)
        err = tt.call_error(wamp_pb2_grpc.WampServiceStub(channel).ListRules,
                            wamp_pb2.ListRulesRequest())
        self.assertEqual(err.code, grpc.StatusCode.UNAUTHENTICATED, err)


class RulesTest(BridgeTestBase):

    def rule(self, **kind):
        return self.wamp.CreateRule(wamp_pb2.CreateRuleRequest(rule=wamp_pb2.Rule(**kind)),
                                    timeout=T).rule

    def list_rules(self):
        return list(self.wamp.ListRules(wamp_pb2.ListRulesRequest(), timeout=T).rules)

    def queue_counts(self, queue):
        a = self.queues.GetQueueAttributes(tt.queues_pb2.GetQueueAttributesRequest(
            queue_name=queue), timeout=T)
        return a.approximate_number_of_messages, a.approximate_number_of_messages_not_visible

    def test_table_rule_follows_a_table_created_again(self):
        """A topic->table rule learns the key types once; when the table is
        deleted and created again with another range key type, the refused
        puts make it learn them again."""
        tpb = tt.tables_pb2
        tt.create_table(self.tables, "rule-retyped", ("device", "S"), ("ts", "N"))
        rule = self.rule(topic_to_table=wamp_pb2.TopicToTable(
            topic="sensors.retyped", table="rule-retyped",
            key_template={"device": "{kwargs.device}", "ts": "{kwargs.at}"}))
        self.addCleanup(self.wamp.DeleteRule, wamp_pb2.DeleteRuleRequest(id=rule.id), timeout=T)
        pub = self.client("json", "publisher")

        def item_at(device):
            """Publishes a reading of `device` until the rule has stored it."""
            pub.publish("sensors.retyped", device=device, at="7", v=1)
            r = self.tables.Query(tpb.QueryRequest(
                table_name="rule-retyped", key_condition_expression="device = :d",
                expression_attribute_values={":d": tt.av(device)}), timeout=T)
            return list(r.items)

        first = tt.wait_until(lambda: item_at("d1"), EVENT_DEADLINE_S, "d1's item", interval=0.1)
        self.assertEqual(first[0].attributes["ts"], tpb.AttributeValue(n="7"))

        self.tables.DeleteTable(tpb.DeleteTableRequest(table_name="rule-retyped"), timeout=T)

        def gone():
            try:
                self.tables.DescribeTable(tpb.DescribeTableRequest(table_name="rule-retyped"),
                                          timeout=T)
                return False  # still DELETING
            except grpc.RpcError as e:
                return e.code() == grpc.StatusCode.NOT_FOUND
        tt.wait_until(gone, EVENT_DEADLINE_S, "rule-retyped deleted")
        tt.create_table(self.tables, "rule-retyped", ("device", "S"), ("ts", "S"))
        second = tt.wait_until(lambda: item_at("d2"), EVENT_DEADLINE_S, "d2's item, a string ts",
                                interval=0.1)
        self.assertEqual(second[0].attributes["ts"], tpb.AttributeValue(s="7"))

    def test_rules(self):
        qpb, pb = tt.queues_pb2, wamp_pb2
        for q in ("rule-events", "rule-outbox"):
            self.queues.CreateQueue(qpb.CreateQueueRequest(queue_name=q), timeout=T)
        tt.create_table(self.tables, "rule-readings", ("device", "S"), ("ts", "N"))

        # Invalid rules are refused.
        err = tt.call_error(self.wamp.CreateRule, pb.CreateRuleRequest(rule=pb.Rule(
            topic_to_queue=pb.TopicToQueue(topic="sensors.q", queue=""))))
        self.assertEqual(err.code, grpc.StatusCode.INVALID_ARGUMENT, err)

        r1 = self.rule(topic_to_queue=pb.TopicToQueue(topic="sensors.q", queue="rule-events"))
        r2 = self.rule(queue_to_topic=pb.QueueToTopic(queue="rule-outbox", topic="alerts.out"))
        r3 = self.rule(topic_to_table=pb.TopicToTable(
            topic="sensors.table", table="rule-readings",
            key_template={"device": "{kwargs.device}", "ts": "{timestamp_ms}"}))
        ids = [r.id for r in (r1, r2, r3)]
        self.assertTrue(all(ids), ids)
        self.assertEqual(len(set(ids)), 3, ids)
        self.assertEqual([r.realm for r in (r1, r2, r3)], [REALM] * 3)
        self.assertEqual((r1.WhichOneof("kind"), r1.topic_to_queue.topic, r1.topic_to_queue.queue),
                         ("topic_to_queue", "sensors.q", "rule-events"))
        self.assertEqual(self.list_rules(), [r1, r2, r3])

        pub = self.client("json", "publisher")
        sub = self.client("msgpack", "subscriber")

        # topic -> queue
        p = pub.publish("sensors.q", 1, "a", device="d1", t=21.5)
        m = self.receive_one("rule-events", "the event forwarded to rule-events")
        self.assertEqual(json.loads(m.body), {"topic": "sensors.q", "publication": p,
                                              "args": [1, "a"],
                                              "kwargs": {"device": "d1", "t": 21.5}})

        # queue -> topic: a JSON body with args/kwargs, then a plain body.
        alerts = Inbox()
        sub.subscribe("alerts.out", alerts)
        self.queues.SendMessage(qpb.SendMessageRequest(
            queue_name="rule-outbox", message_body='{"args":["hot"],"kwargs":{"t":30}}'),
            timeout=T)
        self.queues.SendMessage(qpb.SendMessageRequest(
            queue_name="rule-outbox", message_body="plain text"), timeout=T)
        events = alerts.wait_count(2, "2 events on alerts.out")
        self.assertEqual(sorted([[e["args"], e["kwargs"]] for e in events], key=repr),
                         sorted([[["hot"], {"t": 30}], [["plain text"], {}]], key=repr))
        # Published, then deleted: the queue ends empty.
        tt.wait_until(lambda: self.queue_counts("rule-outbox") == (0, 0), EVENT_DEADLINE_S,
                      "rule-outbox empty (now %r)" % (self.queue_counts("rule-outbox"),))

        # topic -> table
        before = int(time.time() * 1000)
        pub.publish("sensors.table", device="d1", temperature=21.5)
        after = int(time.time() * 1000)
        tpb = tt.tables_pb2

        def query():
            r = self.tables.Query(tpb.QueryRequest(
                table_name="rule-readings", key_condition_expression="device = :d",
                expression_attribute_values={":d": tt.av("d1")}), timeout=T)
            return list(r.items)
        items = tt.wait_until(query, EVENT_DEADLINE_S, "the event's item in rule-readings")
        self.assertEqual(len(items), 1, items)
        got = items[0].attributes
        self.assertEqual(sorted(got), ["device", "temperature", "ts"])
        self.assertEqual(got["device"], tpb.AttributeValue(s="d1"))
        self.assertEqual(got["temperature"], tpb.AttributeValue(n="21.5"))
        self.assertEqual(got["ts"].WhichOneof("value"), "n")
        ts = int(got["ts"].n)
        self.assertTrue(before - 5000 <= ts <= after + 5000, (before, ts, after))

        # Delete: the table rule goes, an unknown id is NOT_FOUND.
        self.wamp.DeleteRule(pb.DeleteRuleRequest(id=r3.id), timeout=T)
        self.assertEqual(self.list_rules(), [r1, r2])
        err = tt.call_error(self.wamp.DeleteRule, pb.DeleteRuleRequest(id=r3.id))
        self.assertEqual(err.code, grpc.StatusCode.NOT_FOUND, err)

        # Restart on the same data directory: the rules are still there and run.
        pub.close()
        sub.close()
        self.channel.close()
        self.server.stop(check=True)
        self.server.start(required=REQUIRED_PORTS)
        type(self).connect_grpc()
        self.assertEqual(self.list_rules(), [r1, r2])
        pub = self.client("msgpack", "publisher-after-restart")
        p = pub.publish("sensors.q", kwargs_after="restart")
        m = self.receive_one("rule-events", "the event forwarded after the restart")
        self.assertEqual(json.loads(m.body), {"topic": "sensors.q", "publication": p,
                                              "args": [], "kwargs": {"kwargs_after": "restart"}})
        sub = self.client("json", "subscriber-after-restart")
        alerts = Inbox()
        sub.subscribe("alerts.out", alerts)
        self.queues.SendMessage(qpb.SendMessageRequest(
            queue_name="rule-outbox", message_body='{"kwargs":{"after":"restart"}}'), timeout=T)
        events = alerts.wait_count(1, "an event on alerts.out after the restart")
        self.assertEqual([[e["args"], e["kwargs"]] for e in events], [[[], {"after": "restart"}]])


if __name__ == "__main__":
    unittest.main()
