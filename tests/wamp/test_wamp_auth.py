"""WAMP authentication and authorization end to end: a `thingtank serve`
started with --wamp-config (services/wamp/auth/CONFIG.md) and real
Autobahn|Python (asyncio) sessions in this process:

- ticket and WAMP-CRA (unsalted and salted, Autobahn's compute_wcs /
  derive_key) logins, and their failures (ABORT reasons of
  services/wamp/auth/auth.h);
- anonymous refused in a realm without anonymous; unknown realm;
- the role rules (prefix grant, deny rule on a longer prefix, missing
  actions) for publish, subscribe, register and call;
- the router's Prometheus metrics after all that.

Run with /usr/bin/python3 (Debian's python3-autobahn). Debian's
autobahn.asyncio.component.run is broken on Python 3.11, so sessions are
ApplicationSessions started through WampWebSocketClientFactory.
"""

import asyncio
import json
import os
import re
import tempfile
import time
import unittest
import urllib.request

import wamp_testing as wt

from autobahn.asyncio.wamp import ApplicationSession
from autobahn.asyncio.websocket import WampWebSocketClientFactory
from autobahn.wamp import auth as wamp_auth
from autobahn.wamp.exception import ApplicationError
from autobahn.wamp.types import ComponentConfig, PublishOptions
import txaio

txaio.use_asyncio()

# services/wamp/auth/auth.h
NO_SUCH_REALM = "wamp.error.no_such_realm"
NO_AUTH_METHOD = "wamp.error.no_auth_method"
AUTHENTICATION_FAILED = "wamp.error.authentication_failed"
PROTOCOL_VIOLATION = "wamp.error.protocol_violation"
NOT_AUTHORIZED = "wamp.error.not_authorized"
GOODBYE_AND_OUT = "wamp.close.goodbye_and_out"

TIMEOUT = 10.0
SALT, ITERATIONS, KEYLEN = "salt123", 100, 32

CONFIG = {"realms": [
    {"name": "realm1",
     "anonymous": {"allow": True, "loopback_only": True, "role": "anonymous"},
     "roles": {"anonymous": [
         {"uri": "com.example.public.", "match": "prefix", "allow": ["subscribe", "call"]},
         {"uri": "wamp.session.", "match": "prefix", "allow": ["call"]}]}},
    {"name": "devices",
     "roles": {
         "device": [{"uri": "com.example.", "match": "prefix", "allow": ["publish", "call"]},
                    {"uri": "com.example.admin.", "match": "prefix", "allow": []}],
         # A callee / subscriber for the device's calls and events.
         "service": [{"uri": "com.example.", "match": "prefix",
                      "allow": ["subscribe", "register"]}]},
     "principals": [
         {"authid": "dev1", "role": "device", "ticket": "s3cret"},
         {"authid": "dash", "role": "device", "secret": "pw"},
         {"authid": "salty", "role": "device", "secret": "pw2",
          "salt": SALT, "iterations": ITERATIONS, "keylen": KEYLEN},
         {"authid": "svc", "role": "service", "ticket": "svc-ticket"}]}]}


class Client(ApplicationSession):
    """Joins with the given auth parameters; `answer(challenge)` signs the
    CHALLENGE. join_result resolves with the SessionDetails or with the
    CloseDetails of an ABORT / GOODBYE that came before WELCOME."""

    def __init__(self, config, authmethods, authid, answer):
        super().__init__(config)
        self._authmethods, self._authid, self._answer = authmethods, authid, answer
        self.challenges = []
        self.join_result = asyncio.get_running_loop().create_future()
        self.left = asyncio.get_running_loop().create_future()
        self.disconnected = asyncio.get_running_loop().create_future()

    def onConnect(self):
        self.join(self.config.realm, authmethods=self._authmethods, authid=self._authid)

    def onChallenge(self, challenge):
        self.challenges.append(challenge)
        return self._answer(challenge)

    def onJoin(self, details):
        if not self.join_result.done():
            self.join_result.set_result(details)

    def onLeave(self, details):
        if not self.join_result.done():
            self.join_result.set_result(details)
        if not self.left.done():
            self.left.set_result(details)
        self.disconnect()

    def onDisconnect(self):
        if not self.join_result.done():
            self.join_result.set_exception(RuntimeError("disconnected before WELCOME or ABORT"))
        if not self.disconnected.done():
            self.disconnected.set_result(None)

    async def close(self):
        self.leave()
        details = await asyncio.wait_for(self.left, TIMEOUT)
        await asyncio.wait_for(self.disconnected, TIMEOUT)
        return details.reason


_clients = []  # of the current run(), dropped at its end


async def connect(url, realm, authmethods=None, authid=None, answer=None):
    """(client, SessionDetails or CloseDetails)."""
    session = Client(ComponentConfig(realm=realm), authmethods, authid,
                     answer or (lambda c: ""))
    _clients.append(session)
    factory = WampWebSocketClientFactory(lambda: session, url=url)
    port = int(url.split(":")[2].split("/")[0])
    await asyncio.get_running_loop().create_connection(factory, "127.0.0.1", port)
    result = await asyncio.wait_for(session.join_result, TIMEOUT)
    return session, result


def ticket(value):
    return lambda challenge: value


def wampcra(secret, salted=False):
    def answer(challenge):
        key = secret
        if salted:
            extra = challenge.extra
            key = wamp_auth.derive_key(secret, extra["salt"], extra["iterations"], extra["keylen"])
        return wamp_auth.compute_wcs(key, challenge.extra["challenge"]).decode("ascii")
    return answer


def run(coro):
    """Runs a scenario; connections it left open (after a failure) are
    dropped so that later tests see no stale sessions."""
    async def main():
        # txaio's futures belong to txaio.config.loop: another module of the
        # same run (test_wamp_bridge's Loop) may have left its own, closed, loop
        # there.
        txaio.config.loop = asyncio.get_running_loop()
        try:
            return await asyncio.wait_for(coro, 25)
        finally:
            for client in _clients:
                transport = getattr(client, "_transport", None)
                if transport is not None and transport.isOpen():
                    transport.abort()
            del _clients[:]
            await asyncio.sleep(0.05)  # lets the transports close
    return asyncio.run(main())


class WampAuthTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        fd, cls.config_path = tempfile.mkstemp(prefix="thingtank-wamp-auth-", suffix=".json")
        with os.fdopen(fd, "w") as f:
            json.dump(CONFIG, f)
        cls.addClassCleanup(os.remove, cls.config_path)
        cls.server = wt.start_class_server(cls, ["--wamp-config", cls.config_path])
        cls.url = cls.server.url

    def ctx(self):
        return "\nserver log:\n%s" % self.server.log_tail()

    # -- metrics helpers
    def metrics_text(self):
        port = self.server.process.ports["metrics"]
        with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=5) as r:
            return r.read().decode("utf-8")

    @staticmethod
    def metric(text, name, labels=""):
        """Value of the sample `name{labels}` (labels as in the exposition, e.g.
        'type="HELLO"'), or None."""
        pattern = re.escape(name) + (r"\{" + re.escape(labels) + r"\}" if labels else r"(?:\{\})?")
        m = re.search(r"^" + pattern + r" (\S+)$", text, re.M)
        return float(m.group(1)) if m else None

    def assert_abort(self, details, reason):
        self.assertEqual(type(details).__name__, "CloseDetails",
                         "expected an ABORT, the session joined: %r%s" % (details, self.ctx()))
        self.assertEqual(details.reason, reason, "%r%s" % (details, self.ctx()))

    def assert_joined(self, details, authid, authrole, authmethod):
        self.assertEqual(type(details).__name__, "SessionDetails",
                         "expected WELCOME, got %r%s" % (details, self.ctx()))
        self.assertEqual((details.authid, details.authrole, details.authmethod),
                         (authid, authrole, authmethod), "%r" % details)

    # -- 1. ticket
    def test_1_ticket(self):
        async def scenario():
            s, d = await connect(self.url, "devices", ["ticket"], "dev1", ticket("s3cret"))
            self.assert_joined(d, "dev1", "device", "ticket")
            self.assertEqual([c.method for c in s.challenges], ["ticket"])
            self.assertEqual(s.challenges[0].extra, {})
            # The gauge counts the established session. Polled: the router
            # sends WELCOME before Realm::Join increments it (session.cc
            # Conclude), so a scrape right after WELCOME can miss it.
            deadline = time.monotonic() + TIMEOUT
            while True:
                sessions = self.metric(self.metrics_text(), "thingtank_wamp_sessions", 'realm="devices"')
                if (sessions or 0) >= 1 or time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.02)
            self.assertGreaterEqual(sessions or 0, 1, 'thingtank_wamp_sessions{realm="devices"} = %r' % sessions)
            self.assertEqual(await s.close(), GOODBYE_AND_OUT)

            s, d = await connect(self.url, "devices", ["ticket"], "dev1", ticket("wrong"))
            self.assert_abort(d, AUTHENTICATION_FAILED)
            self.assertEqual(len(s.challenges), 1)
            # A principal without a ticket cannot use the ticket method.
            s, d = await connect(self.url, "devices", ["ticket"], "dash", ticket("pw"))
            self.assert_abort(d, NO_AUTH_METHOD)
            self.assertEqual(s.challenges, [])
        run(scenario())

    # -- 2. WAMP-CRA
    def test_2_wampcra(self):
        async def scenario():
            s, d = await connect(self.url, "devices", ["wampcra"], "dash", wampcra("pw"))
            self.assert_joined(d, "dash", "device", "wampcra")
            extra = s.challenges[0].extra
            self.assertNotIn("salt", extra)
            challenge = json.loads(extra["challenge"])
            self.assertEqual((challenge["authid"], challenge["authrole"], challenge["authmethod"]),
                             ("dash", "device", "wampcra"), challenge)
            self.assertEqual(challenge["session"], d.session, challenge)
            self.assertEqual(await s.close(), GOODBYE_AND_OUT)

            s, d = await connect(self.url, "devices", ["wampcra"], "salty", wampcra("pw2", salted=True))
            self.assert_joined(d, "salty", "device", "wampcra")
            extra = s.challenges[0].extra
            self.assertEqual((extra.get("salt"), extra.get("iterations"), extra.get("keylen")),
                             (SALT, ITERATIONS, KEYLEN), extra)
            self.assertEqual(await s.close(), GOODBYE_AND_OUT)

            s, d = await connect(self.url, "devices", ["wampcra"], "dash", wampcra("not-pw"))
            self.assert_abort(d, AUTHENTICATION_FAILED)
            # Salted principal answered as if unsalted: wrong key.
            s, d = await connect(self.url, "devices", ["wampcra"], "salty", wampcra("pw2"))
            self.assert_abort(d, AUTHENTICATION_FAILED)
            # The first satisfiable method of the client's list is used.
            s, d = await connect(self.url, "devices", ["ticket", "wampcra"], "dash", wampcra("pw"))
            self.assert_joined(d, "dash", "device", "wampcra")
            await s.close()
        run(scenario())

    # -- 3. anonymous / realms
    def test_3_anonymous_and_realms(self):
        async def scenario():
            s, d = await connect(self.url, "devices")  # no authmethods: anonymous
            self.assert_abort(d, NO_AUTH_METHOD)
            s, d = await connect(self.url, "devices", ["anonymous"])
            self.assert_abort(d, NO_AUTH_METHOD)
            s, d = await connect(self.url, "nosuchrealm")
            self.assert_abort(d, NO_SUCH_REALM)
            s, d = await connect(self.url, "nosuchrealm", ["ticket"], "dev1", ticket("s3cret"))
            self.assert_abort(d, NO_SUCH_REALM)
            # Unknown authid.
            s, d = await connect(self.url, "devices", ["ticket"], "nobody", ticket("s3cret"))
            self.assert_abort(d, NO_AUTH_METHOD)
            # realm1 allows anonymous from loopback.
            s, d = await connect(self.url, "realm1")
            self.assertEqual(type(d).__name__, "SessionDetails", "%r%s" % (d, self.ctx()))
            self.assertEqual((d.authrole, d.authmethod), ("anonymous", "anonymous"))
            self.assertRegex(d.authid, r"^anonymous-[0-9a-f]{16}$")
            await s.close()
        run(scenario())

    # -- 4. authorization
    def test_4_authorization(self):
        async def scenario():
            svc, d = await connect(self.url, "devices", ["ticket"], "svc", ticket("svc-ticket"))
            self.assert_joined(d, "svc", "service", "ticket")
            dev, d = await connect(self.url, "devices", ["ticket"], "dev1", ticket("s3cret"))
            self.assert_joined(d, "dev1", "device", "ticket")

            events = []
            await svc.subscribe(lambda *a, **kw: events.append((a, kw)), "com.example.x")
            await svc.register(lambda a, b: a + b, "com.example.add2")

            pub = await dev.publish("com.example.x", 1, k="v", options=PublishOptions(acknowledge=True))
            self.assertIsInstance(pub.id, int)
            deadline = time.monotonic() + TIMEOUT
            while not events and time.monotonic() < deadline:
                await asyncio.sleep(0.02)
            self.assertEqual(events, [((1,), {"k": "v"})])
            self.assertEqual(await dev.call("com.example.add2", 2, 3), 5)

            async def denied(coro, what):
                try:
                    result = await coro
                except ApplicationError as e:
                    self.assertEqual(e.error, NOT_AUTHORIZED, "%s: %r" % (what, e))
                    return
                self.fail("%s succeeded (%r), expected %s%s" % (what, result, NOT_AUTHORIZED, self.ctx()))

            opts = PublishOptions(acknowledge=True)
            await denied(dev.publish("com.example.admin.x", options=opts), "device publish admin")
            await denied(dev.call("com.example.admin.reboot"), "device call admin")
            await denied(dev.subscribe(lambda *a: None, "com.example.x"), "device subscribe")
            await denied(dev.subscribe(lambda *a: None, "org.other.t"), "device subscribe other")
            await denied(dev.register(lambda: None, "com.example.mine"), "device register")
            await denied(dev.publish("org.other.x", options=opts), "device publish outside prefix")
            await denied(svc.publish("com.example.x", options=opts), "service publish")
            # Denied publications reached nobody.
            self.assertEqual(len(events), 1, events)

            anon, d = await connect(self.url, "realm1")
            sub = await anon.subscribe(lambda *a: None, "com.example.public.t")
            self.assertIsInstance(sub.id, int)
            self.assertGreaterEqual(await anon.call("wamp.session.count"), 1)
            await denied(anon.publish("com.example.public.t", options=opts), "anonymous publish")
            await denied(anon.register(lambda: None, "com.example.public.p"), "anonymous register")
            await denied(anon.subscribe(lambda *a: None, "com.example.private.t"),
                         "anonymous subscribe outside public")
            await denied(anon.call("wamp.registration.list"), "anonymous call wamp.registration.")

            for s in (anon, dev, svc):
                self.assertEqual(await s.close(), GOODBYE_AND_OUT)
        run(scenario())

    # -- 5. protocol violation (raw) and metrics; runs last
    def test_5_metrics(self):
        before = self.metric(self.metrics_text(), "thingtank_wamp_protocol_errors_total")
        self.assertIsNotNone(before, "no thingtank_wamp_protocol_errors_total")
        # AUTHENTICATE without HELLO / CHALLENGE.
        ws = wt.RawWebSocket(self.server.port)
        self.addCleanup(ws.close_socket)
        self.assertEqual(ws.status, 101)
        ws.send_json([5, "sig", {}])
        m = ws.recv_wamp()
        self.assertEqual(m[0], wt.ABORT, m)
        self.assertEqual(m[2], PROTOCOL_VIOLATION, m)
        ws.expect_closed()

        # After the earlier tests (ctest runs the whole file; a lone run of
        # this test does its own logins above only partly), poll until every
        # devices session is gone.
        def settled():
            text = self.metrics_text()
            if self.metric(text, "thingtank_wamp_sessions", 'realm="devices"') == 0:
                return text
            return None
        text = wt.wait_until(settled, 10, 'thingtank_wamp_sessions{realm="devices"} 0')
        c = "\nmetrics:\n%s" % "\n".join(l for l in text.splitlines() if l.startswith("thingtank_wamp_"))

        def value(name, labels=""):
            v = self.metric(text, name, labels)
            self.assertIsNotNone(v, "no %s{%s}%s" % (name, labels, c))
            return v

        self.assertGreater(value("thingtank_wamp_protocol_errors_total"), before, c)
        self.assertGreater(value("thingtank_wamp_messages_received_total", 'type="HELLO"'), 0, c)
        self.assertGreater(value("thingtank_wamp_messages_received_total", 'type="AUTHENTICATE"'), 0, c)
        self.assertGreater(value("thingtank_wamp_messages_sent_total", 'type="WELCOME"'), 0, c)
        self.assertGreater(value("thingtank_wamp_messages_sent_total", 'type="CHALLENGE"'), 0, c)
        self.assertGreater(value("thingtank_wamp_messages_sent_total", 'type="ABORT"'), 0, c)
        self.assertGreater(value("thingtank_wamp_messages_sent_total", 'type="ERROR"'), 0, c)
        self.assertGreater(value("thingtank_wamp_calls_routed_total"), 0, c)
        self.assertGreater(value("thingtank_wamp_call_duration_seconds_count"), 0, c)
        self.assertGreater(value("thingtank_wamp_events_delivered_total"), 0, c)
        reasons = re.findall(r'^thingtank_wamp_disconnects_total\{reason="([^"]+)"\} (\S+)$', text, re.M)
        self.assertTrue(reasons, "no thingtank_wamp_disconnects_total{reason=...}" + c)
        self.assertGreater(sum(float(v) for _, v in reasons), 0, c)


if __name__ == "__main__":
    unittest.main()
