"""Robustness of the ThingTank WAMP router: 1,000 concurrent sessions, an
oversize message, and a subscriber that never reads while its topic is
flooded (it must be disconnected and the server's memory stay bounded).
After each, the server still serves a new client.
"""

import asyncio
import re
import resource
import socket
import sys
import threading
import time
import unittest
import urllib.request

import msgpack

import wamp_testing as wt
from wamp_testing import (CALL, EVENT, GOODBYE, PUBLISH, PUBLISHED, RESULT, SUBSCRIBE,
                          SUBSCRIBED)

SESSIONS = 1000
MAX_MESSAGE = 1 << 20  # the router's default max message size
RSS_LIMIT_KB = 300 * 1024
FLOOD_PAYLOAD = 64 * 1024
FLOOD_MAX_BYTES = 384 * 1024 * 1024  # unbounded buffering would exceed RSS_LIMIT_KB
FLOOD_MIN_BYTES = 128 * 1024 * 1024  # keeps flooding after the drop, RSS still sampled


def raise_fd_limit(needed):
    """The clients (and the server, started from this process) need ~1 fd per
    session; raise the soft limit towards the hard one."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        target = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


class WampRobustnessTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        limit = raise_fd_limit(3 * SESSIONS)
        if limit != resource.RLIM_INFINITY and limit < SESSIONS + 200:
            raise AssertionError("open-files limit %d is too low for %d sessions" % (limit, SESSIONS))
        cls.server = wt.start_class_server(cls)

    def context(self):
        return "\nserver log:\n" + self.server.log_tail()

    def assert_healthy(self):
        """The server runs and a fresh session can publish to a subscriber and
        call a meta procedure."""
        self.assertTrue(self.server.running(), "server exited" + self.context())
        sub = wt.raw_session(self.server.port)
        self.addCleanup(sub.close_socket)
        sub.send_json([SUBSCRIBE, 1, {}, "com.example.health"])
        m = sub.recv_wamp()
        self.assertEqual(m[:2], [SUBSCRIBED, 1], m)
        pub = wt.raw_session(self.server.port)
        self.addCleanup(pub.close_socket)
        pub.send_json([PUBLISH, 1, {}, "com.example.health", ["ok"]])
        m = sub.recv_wamp()
        self.assertEqual(m[0], EVENT, m)
        self.assertEqual(m[4], ["ok"], m)
        pub.send_json([CALL, 2, {}, "wamp.session.count"])
        m = pub.recv_wamp()
        self.assertEqual(m[:2], [RESULT, 2], m)
        for ws in (sub, pub):
            ws.send_json([GOODBYE, {}, "wamp.close.normal"])
            self.assertEqual(ws.recv_wamp()[2], "wamp.close.goodbye_and_out")
        return m[3][0]  # the session count

    # --- 1,000 concurrent sessions

    def test_thousand_concurrent_sessions(self):
        started = time.monotonic()
        counted = asyncio.run(self.thousand_sessions())
        elapsed = time.monotonic() - started
        self.assertGreaterEqual(counted, SESSIONS,
                                "wamp.session.count while %d sessions were joined" % SESSIONS)
        self.assertLess(elapsed, 60, "1,000 sessions took %.1f s" % elapsed)
        sys.stderr.write("\n  %d sessions joined (wamp.session.count %d) and left in %.1f s\n"
                         % (SESSIONS, counted, elapsed))
        # All left: only sessions of this check remain counted.
        wt.wait_until(lambda: self.session_count() == 1, 10,
                      "wamp.session.count back to 1 after 1,000 sessions left")
        self.assert_healthy()

    def session_count(self):
        ws = wt.raw_session(self.server.port)
        try:
            ws.send_json([CALL, 1, {}, "wamp.session.count"])
            m = ws.recv_wamp()
            self.assertEqual(m[:2], [RESULT, 1], m)
            return m[3][0]
        finally:
            ws.close_socket()

    async def thousand_sessions(self):
        port = self.server.port
        gate = asyncio.Semaphore(200)  # handshakes in flight at once
        all_joined = asyncio.Event()
        joined = [0]
        counted = [None]
        errors = []

        async def one(i):
            ws = None
            try:
                async with gate:
                    ws = await asyncio.wait_for(wt.AsyncRawWebSocket.connect(port), 20)
                    await ws.send_json([wt.HELLO, wt.REALM, {"roles": wt.CLIENT_ROLES}])
                    m = await asyncio.wait_for(ws.recv_wamp(), 20)
                    if m[0] != wt.WELCOME:
                        raise AssertionError("session %d: expected WELCOME, got %r" % (i, m))
                joined[0] += 1
                if joined[0] == SESSIONS:
                    all_joined.set()
                await asyncio.wait_for(all_joined.wait(), 40)
                # Everyone is joined at once: one of them asks the router.
                if i == 0:
                    await ws.send_json([CALL, 1, {}, "wamp.session.count"])
                    m = await asyncio.wait_for(ws.recv_wamp(), 20)
                    counted[0] = m[3][0] if m[0] == RESULT else m
                    leave.set()
                await asyncio.wait_for(leave.wait(), 40)
                await ws.send_json([GOODBYE, {}, "wamp.close.normal"])
                m = await asyncio.wait_for(ws.recv_wamp(), 20)
                if m[:1] != [GOODBYE] or m[2] != "wamp.close.goodbye_and_out":
                    raise AssertionError("session %d: expected GOODBYE, got %r" % (i, m))
                await asyncio.wait_for(ws.close(), 20)
            except BaseException as e:  # noqa: B902 -- recorded, reported below
                errors.append("session %d: %r" % (i, e))
                all_joined.set()
                leave.set()
                if ws is not None:
                    ws.writer.close()

        leave = asyncio.Event()
        await asyncio.gather(*(one(i) for i in range(SESSIONS)))
        if errors:
            raise AssertionError("%d of %d sessions failed, first: %s%s"
                                 % (len(errors), SESSIONS, errors[:5], self.context()))
        if not isinstance(counted[0], int):
            raise AssertionError("wamp.session.count answered %r" % (counted[0],))
        return counted[0]

    # --- Oversize message

    def test_oversize_message_closes_the_connection(self):
        ws = wt.raw_session(self.server.port)
        self.addCleanup(ws.close_socket)
        # Just under the limit is fine.
        ws.send_json([PUBLISH, 1, {"acknowledge": True}, "com.example.big", ["x" * (MAX_MESSAGE - 1024)]])
        m = ws.recv_wamp(timeout=20)
        self.assertEqual(m[:2], [PUBLISHED, 1], m)
        # Over it: the connection is closed (1009 Message Too Big if a close
        # frame is sent at all), not answered.
        try:
            ws.send_json([PUBLISH, 2, {"acknowledge": True}, "com.example.big",
                          ["x" * (MAX_MESSAGE + 1024)]])
        except OSError:
            pass  # closed while still sending: fine
        close = ws.expect_closed(timeout=20)
        sys.stderr.write("\n  oversize message: connection closed, close frame %r\n" % (close,))
        if close is not None:
            self.assertEqual(close[0], 1009, "close frame %r" % (close,))
        self.assert_healthy()

    def metrics_text(self):
        port = self.server.process.ports["metrics"]
        with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=5) as r:
            return r.read().decode("utf-8")

    def test_websocket_violations_count_as_protocol_errors(self):
        def errors():
            m = re.search(r"^thingtank_wamp_protocol_errors_total(?:\{\})? (\S+)$", self.metrics_text(), re.M)
            self.assertIsNotNone(m, "no thingtank_wamp_protocol_errors_total")
            return float(m.group(1))
        before = errors()
        ws = wt.raw_session(self.server.port)
        self.addCleanup(ws.close_socket)
        ws.send_frame(3, b"reserved opcode")  # not a WebSocket frame type
        ws.expect_closed(timeout=20)
        wt.wait_until(lambda: errors() > before, 20, "the violation to be counted")
        self.assertEqual(errors(), before + 1)
        # Only the message types a router can receive, and those it sends, have series.
        text = self.metrics_text()
        received = set(re.findall(r'^thingtank_wamp_messages_received_total\{type="(\w+)"\}', text, re.M))
        sent = set(re.findall(r'^thingtank_wamp_messages_sent_total\{type="(\w+)"\}', text, re.M))
        self.assertEqual(received, {"HELLO", "AUTHENTICATE", "ABORT", "GOODBYE", "ERROR", "PUBLISH",
                                    "SUBSCRIBE", "UNSUBSCRIBE", "CALL", "CANCEL", "REGISTER",
                                    "UNREGISTER", "YIELD"})
        self.assertEqual(sent, {"WELCOME", "ABORT", "CHALLENGE", "GOODBYE", "ERROR", "PUBLISHED",
                                "SUBSCRIBED", "UNSUBSCRIBED", "EVENT", "RESULT", "REGISTERED",
                                "UNREGISTERED", "INVOCATION", "INTERRUPT"})
        self.assert_healthy()

    # --- Slow consumer

    def test_subscriber_that_never_reads_is_disconnected_and_memory_stays_bounded(self):
        port = self.server.port
        topic = "com.example.flood"
        rss_before = self.server.rss_kb()

        # An observer learns of the slow subscriber's end from the meta API.
        observer = wt.raw_session(port)
        self.addCleanup(observer.close_socket)
        observer.send_json([SUBSCRIBE, 1, {}, "wamp.session.on_leave"])
        self.assertEqual(observer.recv_wamp()[:2], [SUBSCRIBED, 1])

        # The slow subscriber: a small receive window, then it never reads.
        slow = wt.RawWebSocket(port, protocols=("wamp.2.msgpack",), rcvbuf=64 * 1024)
        self.addCleanup(slow.close_socket)
        slow.send_frame(wt.OP_BINARY, msgpack.packb([wt.HELLO, wt.REALM, {"roles": wt.CLIENT_ROLES}]))
        opcode, payload = slow.recv_message()
        welcome = msgpack.unpackb(payload)
        self.assertEqual(welcome[0], wt.WELCOME, welcome)
        slow_id = welcome[1]
        slow.send_frame(wt.OP_BINARY, msgpack.packb([SUBSCRIBE, 1, {}, topic]))
        opcode, payload = slow.recv_message()
        self.assertEqual(msgpack.unpackb(payload)[:2], [SUBSCRIBED, 1])

        publisher = wt.RawWebSocket(port, protocols=("wamp.2.msgpack",))
        self.addCleanup(publisher.close_socket)
        publisher.send_frame(wt.OP_BINARY, msgpack.packb([wt.HELLO, wt.REALM, {"roles": wt.CLIENT_ROLES}]))
        opcode, payload = publisher.recv_message()
        self.assertEqual(msgpack.unpackb(payload)[0], wt.WELCOME)

        # RSS sampler.
        peak = [rss_before]
        sampling = threading.Event()

        def sample():
            while not sampling.is_set():
                try:
                    peak[0] = max(peak[0], self.server.rss_kb())
                except (OSError, AssertionError):
                    return
                time.sleep(0.02)
        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()

        blob = bytes(range(256)) * (FLOOD_PAYLOAD // 256)
        sent = 0
        request = 0
        left = None
        started = time.monotonic()
        try:
            while sent < FLOOD_MAX_BYTES and (left is None or sent < FLOOD_MIN_BYTES):
                for _ in range(50):
                    request += 1
                    publisher.send_frame(wt.OP_BINARY,
                                         msgpack.packb([PUBLISH, request, {}, topic, [request, blob]]))
                    sent += FLOOD_PAYLOAD
                if left is not None:
                    continue
                # Has the router dropped the slow subscriber yet?
                try:
                    while True:
                        m = observer.recv_wamp(timeout=0.001)
                        if m[0] == EVENT and len(m) > 4 and m[4] and m[4][0] == slow_id:
                            left = time.monotonic() - started
                            break
                except (socket.timeout, TimeoutError):
                    pass
            flood_seconds = time.monotonic() - started
            if left is None:  # one last look
                try:
                    while left is None:
                        m = observer.recv_wamp(timeout=5)
                        if m[0] == EVENT and len(m) > 4 and m[4] and m[4][0] == slow_id:
                            left = time.monotonic() - started
                except (socket.timeout, TimeoutError):
                    pass
        finally:
            sampling.set()
            sampler.join(5)
        flood = "published %d messages (%.0f MiB) in %.1f s; server RSS %d MiB before, peak %d MiB" % (
            request, sent / 1048576.0, flood_seconds, rss_before // 1024, peak[0] // 1024)
        self.assertIsNotNone(left, "the slow subscriber was not disconnected (no on_leave): "
                             + flood + self.context())
        self.assertLess(peak[0], RSS_LIMIT_KB, "server memory not bounded: " + flood)

        # Its connection really is gone: reading now drains what the kernel
        # buffered and then ends (close frame or EOF), well short of all events.
        events = 0
        try:
            while True:
                opcode, payload = slow.recv_message(timeout=10)
                if opcode == wt.OP_CLOSE:
                    break
                events += 1
        except wt.ConnectionClosed:
            pass
        except (socket.timeout, TimeoutError):
            self.fail("the slow subscriber's connection stayed open after %d events; %s"
                      % (events, flood))
        self.assertLess(events, request, flood)
        sys.stderr.write("\n  slow consumer: %s; dropped after %.2f s, it had %d events buffered\n"
                         % (flood, left, events))
        # The publisher was not affected.
        publisher.send_frame(wt.OP_BINARY, msgpack.packb([GOODBYE, {}, "wamp.close.normal"]))
        while True:
            opcode, payload = publisher.recv_message(timeout=20)
            self.assertNotEqual(opcode, wt.OP_CLOSE, "publisher closed: %r" % (publisher.received_close,))
            m = msgpack.unpackb(payload)
            if m[0] == GOODBYE:
                self.assertEqual(m[2], "wamp.close.goodbye_and_out")
                break
        self.assert_healthy()


if __name__ == "__main__":
    unittest.main()
