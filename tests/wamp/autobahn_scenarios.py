"""Autobahn|Python scenarios against a WAMP router, in either flavour.

    autobahn_scenarios.py --flavour twisted|asyncio --scenario rpc|pubsub|meta
                          --url ws://127.0.0.1:PORT/ws
                          [--serializer json|msgpack|cbor] [--serializer2 ...]

Runs one scenario with two or more real Autobahn sessions (the first with
--serializer, the other(s) -- callee, subscriber, observed session -- with
--serializer2, default the same) and prints, as its last stdout line, a JSON
report of what the clients observed. The unittest in test_wamp_autobahn.py
makes the assertions; this script only records (an exception is recorded
under "exception", with its traceback).

Twisted's reactor cannot be restarted, so each run is its own process; the
scenario code is written once as coroutines (async def) that both flavours
run: txaio gives the futures, Deferreds are awaitable under ensureDeferred.
"""

import argparse
import json
import sys
import time
import traceback
from urllib.parse import urlparse

parser = argparse.ArgumentParser()
parser.add_argument("--flavour", choices=("twisted", "asyncio"), required=True)
parser.add_argument("--scenario", choices=("rpc", "pubsub", "meta"), required=True)
parser.add_argument("--url", required=True)
parser.add_argument("--serializer", choices=("json", "msgpack", "cbor"), default="json")
parser.add_argument("--serializer2", choices=("json", "msgpack", "cbor"), default=None)
ARGS = parser.parse_args()

if ARGS.flavour == "twisted":
    from autobahn.twisted.wamp import ApplicationSession
    from autobahn.twisted.websocket import WampWebSocketClientFactory
    from twisted.internet import defer, reactor, task
    from twisted.internet.endpoints import TCP4ClientEndpoint
    CANCELLED = (defer.CancelledError,)
else:
    import asyncio
    from autobahn.asyncio.wamp import ApplicationSession
    from autobahn.asyncio.websocket import WampWebSocketClientFactory
    CANCELLED = (asyncio.CancelledError,)

import txaio  # noqa: E402
from autobahn.wamp import message as wmsg  # noqa: E402
from autobahn.wamp import serializer as wser  # noqa: E402
from autobahn.wamp.exception import ApplicationError  # noqa: E402
from autobahn.wamp.types import (CallOptions, CallResult, ComponentConfig,  # noqa: E402
                                 PublishOptions, RegisterOptions)

SERIALIZERS = {"json": wser.JsonSerializer, "msgpack": wser.MsgPackSerializer,
               "cbor": wser.CBORSerializer}
TIMEOUT = 10.0
BINARY = b"\x00\x01\xfe\xff binary"


def sleep(seconds):
    return txaio.sleep(seconds)


async def wait_until(predicate, what, timeout=TIMEOUT):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError("timed out after %.0f s waiting for %s" % (timeout, what))
        await sleep(0.02)


async def within(future, what, timeout=TIMEOUT):
    """Awaits a txaio future (Deferred or asyncio Future) with a deadline."""
    if ARGS.flavour == "twisted":
        future.addTimeout(timeout, reactor)
        try:
            return await future
        except defer.TimeoutError:
            raise AssertionError("timed out after %.0f s waiting for %s" % (timeout, what))
    try:
        return await asyncio.wait_for(future, timeout)
    except asyncio.TimeoutError:
        raise AssertionError("timed out after %.0f s waiting for %s" % (timeout, what))


class Client(ApplicationSession):
    """An ApplicationSession that records every incoming WAMP message and
    exposes join/leave/disconnect as futures."""

    def __init__(self, config, name):
        super().__init__(config)
        self.name = name
        self.joined_id = None
        self.joined = txaio.create_future()
        self.left = txaio.create_future()
        self.disconnected = txaio.create_future()
        self.received = []

    def onMessage(self, msg):
        self.received.append(msg)
        return super().onMessage(msg)

    def onJoin(self, details):
        self.joined_id = details.session
        txaio.resolve(self.joined, details)

    def onLeave(self, details):
        if not txaio.is_called(self.left):
            txaio.resolve(self.left, details)
        self.disconnect()

    def onDisconnect(self):
        if not txaio.is_called(self.joined):
            txaio.reject(self.joined, RuntimeError("%s: disconnected before WELCOME" % self.name))
        if not txaio.is_called(self.disconnected):
            txaio.resolve(self.disconnected, None)

    def errors(self):
        """[request_type, request, error, args] of every ERROR received."""
        return [[m.request_type, m.request, m.error, list(m.args or [])]
                for m in self.received if isinstance(m, wmsg.Error)]

    def interrupts(self):
        return [[m.request, m.mode] for m in self.received if isinstance(m, wmsg.Interrupt)]

    async def close(self):
        """Leaves (GOODBYE) and returns the reason of the router's answer."""
        self.leave()
        details = await within(self.left, "%s: GOODBYE answer" % self.name)
        await within(self.disconnected, "%s: disconnect after GOODBYE" % self.name)
        return details.reason


async def connect(name, serializer):
    url = urlparse(ARGS.url)
    session = Client(ComponentConfig(realm="realm1"), name)
    factory = WampWebSocketClientFactory(lambda: session, url=ARGS.url,
                                         serializers=[SERIALIZERS[serializer]()])
    if ARGS.flavour == "twisted":
        await TCP4ClientEndpoint(reactor, url.hostname, url.port).connect(factory)
    else:
        await asyncio.get_running_loop().create_connection(factory, url.hostname, url.port)
    await within(session.joined, "%s: WELCOME" % name)
    return session


# ---------------------------------------------------------------------------
# Scenarios


async def scenario_rpc(report):
    callee = await connect("callee", ARGS.serializer2)
    caller = await connect("caller", ARGS.serializer)
    state = {"slow_started": False, "slow_outcome": None}

    def add2(a, b):
        return a + b

    def echo(*args, **kwargs):
        return CallResult(*args, **kwargs)

    async def progressive(n, details=None):
        if details is None or details.progress is None:
            raise ApplicationError("com.example.no_progress", "caller did not ask for progress")
        for i in range(1, n + 1):
            details.progress(i, step="step-%d" % i)
            await sleep(0.05)
        return "done"

    async def slow(details=None):
        state["slow_started"] = True
        try:
            await sleep(20)
        except CANCELLED:
            state["slow_outcome"] = "interrupted"
            raise
        except BaseException as e:  # recorded, then re-raised
            state["slow_outcome"] = "other: %r" % (e,)
            raise
        state["slow_outcome"] = "ran to completion"
        return "slow done"

    def fail():
        raise ApplicationError("com.example.error", "bad")

    await within(callee.register(add2, "com.example.add2"), "REGISTERED add2")
    await within(callee.register(echo, "com.example.echo"), "REGISTERED echo")
    await within(callee.register(progressive, "com.example.progressive",
                                 RegisterOptions(details_arg="details")), "REGISTERED progressive")
    await within(callee.register(slow, "com.example.slow",
                                 RegisterOptions(details_arg="details")), "REGISTERED slow")
    await within(callee.register(fail, "com.example.fail"), "REGISTERED fail")

    report["add2"] = await within(caller.call("com.example.add2", 2, 3), "RESULT add2")

    r = await within(caller.call("com.example.echo", 1, "two", [3.5, None, True], {"k": "v"},
                                 BINARY, kw=1, nested={"a": [1, 2]}), "RESULT echo")
    report["echo"] = {"args": list(r.results), "kwargs": r.kwresults,
                      "binary_ok": len(r.results) > 4 and r.results[4] == BINARY}

    r = await within(caller.call("com.example.echo"), "RESULT echo()")
    report["echo_empty"] = repr(r)

    events = []
    result = await within(caller.call(
        "com.example.progressive", 3,
        options=CallOptions(on_progress=lambda *a, **kw: events.append(["progress", list(a), kw]))),
        "RESULT progressive")
    events.append(["result", result])
    report["progressive"] = events

    # Cancel: the caller cancels a call the callee is still working on.
    d = caller.call("com.example.slow")
    await wait_until(lambda: state["slow_started"], "the callee to be invoked")
    started = time.monotonic()
    d.cancel()
    try:
        await d
        outcome = "resolved"
    except CANCELLED:
        outcome = "cancelled"
    except ApplicationError as e:
        outcome = "ApplicationError %s" % e.error
    except Exception as e:
        outcome = "other: %r" % (e,)
    cancel = {"outcome": outcome}
    try:
        await wait_until(lambda: [e for e in caller.errors()
                                  if e[0] == wmsg.Call.MESSAGE_TYPE], "ERROR for the canceled CALL",
                         timeout=5)
        cancel["caller_error_after_s"] = round(time.monotonic() - started, 3)
    except AssertionError as e:
        cancel["caller_error_wait"] = str(e)
    try:
        await wait_until(lambda: state["slow_outcome"], "the callee's endpoint to end", timeout=5)
    except AssertionError as e:
        cancel["callee_wait"] = str(e)
    cancel["caller_errors"] = caller.errors()
    cancel["callee_interrupts"] = callee.interrupts()
    cancel["callee_outcome"] = state["slow_outcome"]
    report["cancel"] = cancel

    try:
        r = await within(caller.call("com.example.fail"), "ERROR fail")
        report["error"] = {"outcome": "resolved: %r" % (r,)}
    except ApplicationError as e:
        report["error"] = {"error": e.error, "args": list(e.args), "kwargs": e.kwargs}

    try:
        r = await within(caller.call("com.example.nothing.here"), "ERROR no_such_procedure")
        report["no_such_procedure"] = {"outcome": "resolved: %r" % (r,)}
    except ApplicationError as e:
        report["no_such_procedure"] = {"error": e.error}

    # The session still works after all of the above.
    report["add2_after"] = await within(caller.call("com.example.add2", 20, 22), "RESULT add2")
    report["caller_leave_reason"] = await caller.close()
    report["callee_leave_reason"] = await callee.close()


async def scenario_pubsub(report):
    subscriber = await connect("subscriber", ARGS.serializer2)
    publisher = await connect("publisher", ARGS.serializer)
    topic = "com.example.topic"
    received, own = [], []

    def on_event(*args, **kwargs):
        received.append([list(args), kwargs])

    await within(subscriber.subscribe(on_event, topic), "SUBSCRIBED")
    # The publisher is subscribed too: by default a publisher is excluded
    # from its own events.
    await within(publisher.subscribe(lambda *a, **kw: own.append([list(a), kw]), topic),
                 "SUBSCRIBED (publisher)")
    published = []
    ids = []
    for i in range(20):
        args = [i, "msg-%d" % i, {"i": i, "list": [1.5, None, True]}]
        kwargs = {"n": i}
        pub = await within(publisher.publish(topic, *args, options=PublishOptions(acknowledge=True),
                                             **kwargs), "PUBLISHED %d" % i)
        ids.append(pub.id)
        published.append([args, kwargs])
    pub = await within(publisher.publish(topic, BINARY, options=PublishOptions(acknowledge=True)),
                       "PUBLISHED binary")
    ids.append(pub.id)
    pub = await within(publisher.publish(topic, options=PublishOptions(acknowledge=True)),
                       "PUBLISHED no args")
    ids.append(pub.id)
    try:
        await wait_until(lambda: len(received) >= 22, "22 events", timeout=5)
    except AssertionError as e:
        report["wait"] = str(e)
    await sleep(0.2)  # anything extra (duplicates, own events) shows up meanwhile
    report["published"] = published
    report["received"] = received[:20]
    report["binary_ok"] = len(received) > 20 and received[20] == [[BINARY], {}]
    report["received_tail"] = [repr(x) for x in received[20:]]
    report["received_count"] = len(received)
    report["own_events"] = len(own)
    report["publication_ids"] = ids
    report["subscriber_leave_reason"] = await subscriber.close()
    report["publisher_leave_reason"] = await publisher.close()


async def scenario_meta(report):
    observer = await connect("observer", ARGS.serializer)
    joins, leaves = [], []
    await within(observer.subscribe(lambda *a, **kw: joins.append(list(a)), "wamp.session.on_join"),
                 "SUBSCRIBED on_join")
    await within(observer.subscribe(lambda *a, **kw: leaves.append(list(a)),
                                    "wamp.session.on_leave"), "SUBSCRIBED on_leave")
    report["observer"] = observer.joined_id
    report["count0"] = await within(observer.call("wamp.session.count"), "count")
    report["list0"] = await within(observer.call("wamp.session.list"), "list")
    report["get_self"] = await within(observer.call("wamp.session.get", observer.joined_id), "get")

    other = await connect("other", ARGS.serializer2 or ARGS.serializer)
    report["other"] = other.joined_id
    try:
        await wait_until(lambda: any(a and isinstance(a[0], dict)
                                     and a[0].get("session") == other.joined_id for a in joins),
                         "on_join of the other session", timeout=5)
    except AssertionError as e:
        report["join_wait"] = str(e)
    report["count1"] = await within(observer.call("wamp.session.count"), "count")
    report["list1"] = await within(observer.call("wamp.session.list"), "list")
    report["get_other"] = await within(observer.call("wamp.session.get", other.joined_id), "get")
    report["other_leave_reason"] = await other.close()
    try:
        await wait_until(lambda: any(a and a[0] == other.joined_id for a in leaves),
                         "on_leave of the other session", timeout=5)
    except AssertionError as e:
        report["leave_wait"] = str(e)
    report["joins"] = joins
    report["leaves"] = leaves
    report["count2"] = await within(observer.call("wamp.session.count"), "count")
    report["list2"] = await within(observer.call("wamp.session.list"), "list")
    try:
        r = await within(observer.call("wamp.session.get", other.joined_id), "get (gone)")
        report["get_gone"] = {"outcome": "resolved: %r" % (r,)}
    except ApplicationError as e:
        report["get_gone"] = {"error": e.error}
    report["observer_leave_reason"] = await observer.close()


SCENARIOS = {"rpc": scenario_rpc, "pubsub": scenario_pubsub, "meta": scenario_meta}


async def main():
    report = {"flavour": ARGS.flavour, "scenario": ARGS.scenario}
    try:
        await SCENARIOS[ARGS.scenario](report)
    except BaseException:
        report["exception"] = traceback.format_exc()
    print(json.dumps(report, default=repr), flush=True)


if __name__ == "__main__":
    if ARGS.serializer2 is None:
        ARGS.serializer2 = ARGS.serializer
    if ARGS.flavour == "twisted":
        task.react(lambda _reactor: defer.ensureDeferred(main()))
    else:
        asyncio.run(main())
    sys.exit(0)
