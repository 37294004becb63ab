"""WAMP protocol conformance of the ThingTank router, with a raw WebSocket
client (wamp_testing.RawWebSocket: stdlib sockets, masked frames, JSON text
messages): handshake and subprotocol negotiation, WELCOME's roles, protocol
violations (each answered with ABORT wamp.error.protocol_violation and the
connection closed), GOODBYE, and the "arguments never null" rule.
"""

import unittest

import wamp_testing as wt
from wamp_testing import (ABORT, CALL, EVENT, GOODBYE, HELLO, INVOCATION, PUBLISH, PUBLISHED,
                          REGISTER, REGISTERED, RESULT, SUBSCRIBE, SUBSCRIBED, WELCOME, YIELD)

PROTOCOL_VIOLATION = "wamp.error.protocol_violation"
MAX_ID = 2 ** 53


class WampProtocolTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.server = wt.start_class_server(cls)

    def connect(self, protocols=("wamp.2.json",)):
        ws = wt.RawWebSocket(self.server.port, protocols=protocols)
        self.addCleanup(ws.close_socket)
        return ws

    def session(self):
        ws = self.connect()
        self.assertEqual(ws.status, 101)
        ws.welcome = ws.hello()
        return ws

    def assert_abort(self, ws, reason=PROTOCOL_VIOLATION, what=""):
        """The next message is ABORT [3, Details|dict, reason], then the
        connection ends (no further message)."""
        try:
            m = ws.recv_wamp()
        except wt.ConnectionClosed as e:
            self.fail("%s: connection closed without ABORT (%s)\nserver log:\n%s"
                      % (what, e, self.server.log_tail()))
        self.assertEqual(m[0], ABORT, "%s: expected ABORT, got %r" % (what, m))
        self.assertEqual(len(m), 3, "%s: ABORT %r" % (what, m))
        self.assertIsInstance(m[1], dict, "%s: ABORT %r" % (what, m))
        self.assertEqual(m[2], reason, "%s: ABORT %r" % (what, m))
        ws.expect_closed()
        return m

    # --- Handshake

    def test_handshake_each_subprotocol(self):
        for protocol in ("wamp.2.json", "wamp.2.msgpack", "wamp.2.cbor"):
            with self.subTest(protocol=protocol):
                ws = self.connect(protocols=(protocol,))
                self.assertEqual(ws.status, 101)
                self.assertEqual(ws.protocol, protocol)

    def test_handshake_picks_an_offered_subprotocol(self):
        ws = self.connect(protocols=("wamp.2.ubjson", "wamp.2.msgpack", "wamp.2.json"))
        self.assertEqual(ws.status, 101)
        self.assertIn(ws.protocol, ("wamp.2.msgpack", "wamp.2.json"))

    def test_handshake_no_acceptable_subprotocol_is_400(self):
        ws = self.connect(protocols=("wamp.2.ubjson", "mqtt"))
        self.assertEqual(ws.status, 400, "HTTP %d %r" % (ws.status, ws.headers))

    def test_handshake_without_subprotocol_header_is_400(self):
        ws = self.connect(protocols=())
        self.assertEqual(ws.status, 400, "HTTP %d %r" % (ws.status, ws.headers))

    # --- WELCOME

    def test_welcome_announces_broker_and_dealer_features(self):
        ws = self.session()
        m = ws.welcome
        self.assertEqual(len(m), 3, m)
        self.assertIsInstance(m[1], int)
        self.assertTrue(1 <= m[1] <= MAX_ID, m)
        details = m[2]
        for role in ("broker", "dealer"):
            self.assertIn(role, details.get("roles", {}), m)
            features = details["roles"][role].get("features")
            self.assertIsInstance(features, dict, "%s features: %r" % (role, m))
            self.assertTrue(features, "%s features empty: %r" % (role, m))
            for name, value in features.items():
                self.assertIsInstance(value, bool, "%s.%s = %r" % (role, name, value))
        self.assertEqual(details["roles"]["dealer"]["features"].get("progressive_call_results"),
                         True, m)
        self.assertEqual(details["roles"]["dealer"]["features"].get("call_canceling"), True, m)
        self.assertEqual(details["roles"]["broker"]["features"].get("publisher_exclusion"), True, m)

    # --- Protocol violations

    def test_second_hello_aborts(self):
        ws = self.session()
        ws.send_json([HELLO, wt.REALM, {"roles": wt.CLIENT_ROLES}])
        self.assert_abort(ws, what="second HELLO")

    def test_non_sequential_request_ids_abort(self):
        ws = self.session()
        ws.send_json([SUBSCRIBE, 1, {}, "com.example.a"])
        m = ws.recv_wamp()
        self.assertEqual(m[:2], [SUBSCRIBED, 1], m)
        ws.send_json([SUBSCRIBE, 5, {}, "com.example.b"])
        self.assert_abort(ws, what="SUBSCRIBE request 5 after 1")

    def test_sequential_request_ids_across_message_types_are_fine(self):
        ws = self.session()
        ws.send_json([SUBSCRIBE, 1, {}, "com.example.a"])
        self.assertEqual(ws.recv_wamp()[:2], [SUBSCRIBED, 1])
        ws.send_json([REGISTER, 2, {}, "com.example.proc"])
        self.assertEqual(ws.recv_wamp()[:2], [REGISTERED, 2])
        ws.send_json([PUBLISH, 3, {"acknowledge": True}, "com.example.b"])
        self.assertEqual(ws.recv_wamp()[:2], [PUBLISHED, 3])

    def test_unknown_message_type_aborts(self):
        ws = self.session()
        ws.send_json([99999, 1, {}])
        self.assert_abort(ws, what="message type 99999")

    def test_router_only_message_type_from_client_aborts(self):
        ws = self.session()
        ws.send_json([WELCOME, 12345, {}])
        self.assert_abort(ws, what="WELCOME sent by a client")

    def test_unknown_message_type_before_hello_aborts(self):
        ws = self.connect()
        ws.send_json([99999, 1])
        self.assert_abort(ws, what="message type 99999 before HELLO")

    def test_malformed_json_aborts(self):
        ws = self.session()
        ws.send_text('[16, 1, {}, "com.example.topic"')
        self.assert_abort(ws, what="malformed JSON")

    def test_malformed_json_before_hello_aborts(self):
        ws = self.connect()
        ws.send_text('[1, "realm1", {')
        self.assert_abort(ws, what="malformed JSON HELLO")

    def test_non_array_message_aborts(self):
        ws = self.session()
        ws.send_text('{"type": 16}')
        self.assert_abort(ws, what="a JSON object instead of an array")

    # --- GOODBYE

    def test_goodbye_with_any_reason_is_answered_goodbye_and_out(self):
        for reason in ("wamp.close.normal", "wamp.close.system_shutdown",
                       "wamp.close.close_realm", "com.example.my_own_reason"):
            with self.subTest(reason=reason):
                ws = self.session()
                ws.send_json([GOODBYE, {"message": "bye"}, reason])
                m = ws.recv_wamp()
                self.assertEqual(m[0], GOODBYE, m)
                self.assertEqual(len(m), 3, m)
                self.assertIsInstance(m[1], dict, m)
                self.assertEqual(m[2], "wamp.close.goodbye_and_out", m)
                ws.expect_closed()

    # --- Arguments are never null

    def test_event_without_arguments_has_exactly_four_elements(self):
        sub = self.session()
        sub.send_json([SUBSCRIBE, 1, {}, "com.example.noargs"])
        m = sub.recv_wamp()
        self.assertEqual(m[:2], [SUBSCRIBED, 1], m)
        subscription = m[2]
        pub = self.session()
        pub.send_json([PUBLISH, 1, {"acknowledge": True}, "com.example.noargs"])
        m = pub.recv_wamp()
        self.assertEqual(m[:2], [PUBLISHED, 1], m)
        publication = m[2]
        event = sub.recv_wamp()
        self.assertEqual(event, [EVENT, subscription, publication, {}],
                         "EVENT for a publication without args: %r" % (event,))
        # With kwargs only, args is an empty list (never null).
        pub.send_json([PUBLISH, 2, {"acknowledge": True}, "com.example.noargs", [], {"k": 1}])
        m = pub.recv_wamp()
        self.assertEqual(m[:2], [PUBLISHED, 2], m)
        event = sub.recv_wamp()
        self.assertEqual(event, [EVENT, subscription, m[2], {}, [], {"k": 1}], event)
        # With args only: five elements.
        pub.send_json([PUBLISH, 3, {"acknowledge": True}, "com.example.noargs", ["x"]])
        m = pub.recv_wamp()
        self.assertEqual(m[:2], [PUBLISHED, 3], m)
        event = sub.recv_wamp()
        self.assertEqual(event, [EVENT, subscription, m[2], {}, ["x"]], event)

    def test_invocation_and_result_without_arguments_have_exactly_four_elements(self):
        callee = self.session()
        callee.send_json([REGISTER, 1, {}, "com.example.noargs"])
        m = callee.recv_wamp()
        self.assertEqual(m[:2], [REGISTERED, 1], m)
        registration = m[2]
        caller = self.session()
        caller.send_json([CALL, 1, {}, "com.example.noargs"])
        inv = callee.recv_wamp()
        self.assertEqual(len(inv), 4, "INVOCATION without args: %r" % (inv,))
        self.assertEqual(inv[0], INVOCATION, inv)
        self.assertEqual(inv[2], registration, inv)
        self.assertIsInstance(inv[3], dict, inv)
        callee.send_json([YIELD, inv[1], {}])
        result = caller.recv_wamp()
        self.assertEqual(result, [RESULT, 1, {}], "RESULT without args: %r" % (result,))

    def test_msgpack_session(self):
        """The same handshake with binary frames and MessagePack."""
        import msgpack
        ws = self.connect(protocols=("wamp.2.msgpack",))
        self.assertEqual(ws.protocol, "wamp.2.msgpack")
        ws.send_frame(wt.OP_BINARY, msgpack.packb([HELLO, wt.REALM, {"roles": wt.CLIENT_ROLES}]))
        opcode, payload = ws.recv_message()
        self.assertEqual(opcode, wt.OP_BINARY)
        m = msgpack.unpackb(payload)
        self.assertEqual(m[0], WELCOME, m)
        ws.send_frame(wt.OP_BINARY, msgpack.packb([GOODBYE, {}, "wamp.close.normal"]))
        opcode, payload = ws.recv_message()
        self.assertEqual(msgpack.unpackb(payload), [GOODBYE, {}, "wamp.close.goodbye_and_out"])
        ws.expect_closed()

    def test_cbor_session(self):
        import cbor2
        ws = self.connect(protocols=("wamp.2.cbor",))
        self.assertEqual(ws.protocol, "wamp.2.cbor")
        ws.send_frame(wt.OP_BINARY, cbor2.dumps([HELLO, wt.REALM, {"roles": wt.CLIENT_ROLES}]))
        opcode, payload = ws.recv_message()
        self.assertEqual(opcode, wt.OP_BINARY)
        m = cbor2.loads(payload)
        self.assertEqual(m[0], WELCOME, m)

    def test_server_still_healthy(self):
        ws = self.session()
        ws.send_json([GOODBYE, {}, "wamp.close.normal"])
        self.assertEqual(ws.recv_wamp()[0], GOODBYE)
        self.assertTrue(self.server.running(), self.server.log_tail())


if __name__ == "__main__":
    unittest.main()
