"""Helpers of the WAMP interop tests: a `thingtank serve` with its WAMP
WebSocket router on a free port, a minimal raw WebSocket client (stdlib only,
blocking and asyncio flavours) for protocol-level tests, and subprocess
helpers for the Autobahn|Python and AutobahnJS clients.

Reuses tests/python/thingtank_testing.py (ServerProcess: port 0, temporary
data directory, ports.json, SIGTERM/exit code 0). The WAMP port is read from
ports.json under the key "wamp_ws".

Run with /usr/bin/python3 (Debian's, with python3-autobahn, python3-twisted,
python3-msgpack, python3-cbor2); the clients are started with the same
interpreter (sys.executable).
"""

import asyncio
import base64
import hashlib
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
_PY_HELPERS = os.path.join(REPO, "tests", "python")
if _PY_HELPERS not in sys.path:  # ctest sets PYTHONPATH; direct runs may not
    sys.path.insert(0, _PY_HELPERS)

from thingtank_testing import BIN, ServerProcess, wait_until  # noqa: E402

PYTHON = sys.executable
NODE = os.environ.get("THINGTANK_NODE", "node")
NODE_MODULES = os.path.join(REPO, "node_modules")
REALM = "realm1"

# WAMP message codes used by the raw tests.
HELLO, WELCOME, ABORT, GOODBYE, ERROR = 1, 2, 3, 6, 8
PUBLISH, PUBLISHED, SUBSCRIBE, SUBSCRIBED, EVENT = 16, 17, 32, 33, 36
CALL, RESULT, REGISTER, REGISTERED, INVOCATION, YIELD = 48, 50, 64, 65, 68, 70

CLIENT_ROLES = {"publisher": {}, "subscriber": {}, "caller": {}, "callee": {}}

OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0, 1, 2, 8, 9, 10
WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def require_binary():
    if not os.access(BIN, os.X_OK):
        raise AssertionError("no thingtank binary at %s (build first, or set THINGTANK_BIN)" % BIN)


class WampServer:
    """A monolithic `thingtank serve` with the WAMP router on a free port."""

    def __init__(self, extra_args=()):
        self.process = ServerProcess(["--gateway-port", "0", "--metrics-port", "0",
                                      "--wamp-ws-port", "0"] + list(extra_args))

    def start(self):
        require_binary()
        self.process.start(required=("wamp_ws",))
        return self

    @property
    def port(self):
        return self.process.ports["wamp_ws"]

    @property
    def url(self):
        return "ws://127.0.0.1:%d/ws" % self.port

    @property
    def pid(self):
        return self.process.proc.pid

    def running(self):
        return self.process.running()

    def log_tail(self, n=4000):
        return self.process.log_tail(n)

    def rss_kb(self):
        """VmRSS of the server process in KiB (from /proc/<pid>/status)."""
        with open("/proc/%d/status" % self.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        raise AssertionError("no VmRSS in /proc/%d/status" % self.pid)

    def stop(self):
        self.process.stop(check=True)

    def stop_if_running(self):
        """Graceful stop (exit code 0 asserted) unless a test already ended it."""
        if self.process.proc is not None and self.process.running():
            self.stop()

    def cleanup(self):
        self.process.cleanup()


def start_class_server(cls, extra_args=()):
    """Starts a WampServer for a TestCase class (in setUpClass); it is stopped
    (exit code 0 checked) and cleaned up with the class."""
    server = WampServer(extra_args)
    cls.addClassCleanup(server.cleanup)
    cls.addClassCleanup(server.stop_if_running)  # runs first (LIFO)
    server.start()
    return server


# ---------------------------------------------------------------------------
# Raw WebSocket framing (RFC 6455), client side: frames are masked.


def encode_frame(opcode, payload, fin=True, mask=True):
    if isinstance(payload, str):
        payload = payload.encode("utf-8")
    head = bytearray([(0x80 if fin else 0) | opcode])
    n = len(payload)
    mbit = 0x80 if mask else 0
    if n < 126:
        head.append(mbit | n)
    elif n < 65536:
        head.append(mbit | 126)
        head += struct.pack("!H", n)
    else:
        head.append(mbit | 127)
        head += struct.pack("!Q", n)
    if not mask:
        return bytes(head) + payload
    key = os.urandom(4)
    head += key
    # XOR with the repeated key, fast for large payloads.
    k = (key * (n // 4 + 1))[:n]
    masked = (int.from_bytes(payload, "big") ^ int.from_bytes(k, "big")).to_bytes(n, "big") if n else b""
    return bytes(head) + masked


def parse_frame(buf):
    """(fin, opcode, payload, consumed) of the first complete frame in buf, or None."""
    if len(buf) < 2:
        return None
    b0, b1 = buf[0], buf[1]
    n = b1 & 0x7F
    pos = 2
    if n == 126:
        if len(buf) < 4:
            return None
        n = struct.unpack("!H", bytes(buf[2:4]))[0]
        pos = 4
    elif n == 127:
        if len(buf) < 10:
            return None
        n = struct.unpack("!Q", bytes(buf[2:10]))[0]
        pos = 10
    key = None
    if b1 & 0x80:  # servers must not mask, but accept it
        if len(buf) < pos + 4:
            return None
        key = bytes(buf[pos:pos + 4])
        pos += 4
    if len(buf) < pos + n:
        return None
    payload = bytes(buf[pos:pos + n])
    if key:
        payload = bytes(c ^ key[i % 4] for i, c in enumerate(payload))
    return bool(b0 & 0x80), b0 & 0x0F, payload, pos + n


def handshake_request(port, protocols, path="/ws", key=None):
    key = key or base64.b64encode(os.urandom(16)).decode()
    lines = ["GET %s HTTP/1.1" % path,
             "Host: 127.0.0.1:%d" % port,
             "Upgrade: websocket",
             "Connection: Upgrade",
             "Sec-WebSocket-Key: %s" % key,
             "Sec-WebSocket-Version: 13"]
    if protocols:
        lines.append("Sec-WebSocket-Protocol: %s" % ", ".join(protocols))
    return ("\r\n".join(lines) + "\r\n\r\n").encode(), key


def accept_value(key):
    return base64.b64encode(hashlib.sha1(key.encode() + WS_GUID).digest()).decode()


def parse_http_head(data):
    """(status, headers dict with lower-case names) of an HTTP response head."""
    text = data.decode("iso-8859-1")
    lines = text.split("\r\n")
    parts = lines[0].split(" ", 2)
    status = int(parts[1])
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    return status, headers


class ConnectionClosed(Exception):
    """The server closed the TCP connection (EOF or reset)."""


class RawWebSocket:
    """A blocking WebSocket client speaking WAMP by hand.

    After construction, `status` and `headers` hold the HTTP answer to the
    upgrade; the WebSocket is open when status == 101.
    """

    def __init__(self, port, protocols=("wamp.2.json",), path="/ws", timeout=10.0, rcvbuf=None):
        self.timeout = timeout
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:  # before connect, so that the window stays small
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(timeout)
        self.sock.connect(("127.0.0.1", port))
        request, key = handshake_request(port, protocols, path)
        self.sock.sendall(request)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionClosed("connection closed during the handshake: %r" % data)
            data += chunk
        head, rest = data.split(b"\r\n\r\n", 1)
        self.status, self.headers = parse_http_head(head)
        self.buf = bytearray(rest)
        self.protocol = self.headers.get("sec-websocket-protocol")
        self.received_close = None  # (code, reason) of the server's close frame
        if self.status == 101 and self.headers.get("sec-websocket-accept") != accept_value(key):
            raise AssertionError("bad Sec-WebSocket-Accept %r" % self.headers.get("sec-websocket-accept"))

    def close_socket(self):
        try:
            self.sock.close()
        except OSError:
            pass

    # Sending
    def send_frame(self, opcode, payload, fin=True):
        self.sock.sendall(encode_frame(opcode, payload, fin))

    def send_text(self, text):
        self.send_frame(OP_TEXT, text)

    def send_json(self, message):
        self.send_text(json.dumps(message))

    # Receiving
    def _fill(self, deadline):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise socket.timeout("no data within the deadline")
        self.sock.settimeout(remaining)
        try:
            chunk = self.sock.recv(65536)
        except ConnectionResetError as e:
            raise ConnectionClosed("connection reset: %s" % e)
        if not chunk:
            raise ConnectionClosed("EOF")
        self.buf += chunk

    def recv_frame(self, timeout=None):
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            parsed = parse_frame(self.buf)
            if parsed:
                fin, opcode, payload, used = parsed
                del self.buf[:used]
                return fin, opcode, payload
            self._fill(deadline)

    def recv_message(self, timeout=None):
        """(opcode, payload) of the next data message or close frame; answers pings."""
        deadline = time.monotonic() + (timeout or self.timeout)
        parts, first = [], None
        while True:
            fin, opcode, payload = self.recv_frame(max(0.001, deadline - time.monotonic()))
            if opcode == OP_PING:
                self.send_frame(OP_PONG, payload)
                continue
            if opcode == OP_PONG:
                continue
            if opcode == OP_CLOSE:
                code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
                self.received_close = (code, payload[2:].decode("utf-8", "replace"))
                return OP_CLOSE, payload
            if first is None:
                first = opcode
            parts.append(payload)
            if fin:
                return first, b"".join(parts)

    def recv_wamp(self, timeout=None):
        """The next WAMP message (JSON decoded); raises ConnectionClosed on a
        close frame or EOF."""
        opcode, payload = self.recv_message(timeout)
        if opcode == OP_CLOSE:
            raise ConnectionClosed("close frame %r" % (self.received_close,))
        if opcode != OP_TEXT:
            raise AssertionError("expected a text frame (wamp.2.json), got opcode %d" % opcode)
        return json.loads(payload.decode("utf-8"))

    def expect_closed(self, timeout=10.0):
        """Reads until the server ends the connection (close frame and/or EOF)
        within `timeout`; fails if a WAMP message arrives first. Returns the
        server's close frame (code, reason) or None if it only dropped TCP."""
        deadline = time.monotonic() + timeout
        try:
            while True:
                opcode, payload = self.recv_message(max(0.001, deadline - time.monotonic()))
                if opcode == OP_CLOSE:
                    try:
                        self.send_frame(OP_CLOSE, payload[:2])
                    except OSError:
                        pass
                    # The server then closes TCP; wait for EOF.
                    try:
                        while True:
                            self._fill(deadline)
                    except ConnectionClosed:
                        pass
                    return self.received_close
                raise AssertionError("expected the connection to close, got a message: %r"
                                     % payload[:200])
        except ConnectionClosed:
            return self.received_close
        except (socket.timeout, TimeoutError):
            raise AssertionError("the server did not close the connection within %.0f s" % timeout)

    # WAMP
    def hello(self, realm=REALM, roles=None):
        """HELLO; returns the WELCOME (fails on anything else)."""
        self.send_json([HELLO, realm, {"roles": roles or CLIENT_ROLES}])
        m = self.recv_wamp()
        if m[0] != WELCOME:
            raise AssertionError("expected WELCOME, got %r" % (m,))
        return m


def raw_session(port, timeout=10.0):
    ws = RawWebSocket(port, timeout=timeout)
    if ws.status != 101:
        raise AssertionError("handshake failed with HTTP %d" % ws.status)
    ws.welcome = ws.hello()
    return ws


# ---------------------------------------------------------------------------
# asyncio raw client (for many concurrent sessions)


class AsyncRawWebSocket:
    def __init__(self, reader, writer):
        self.reader, self.writer = reader, writer
        self.buf = bytearray()

    @classmethod
    async def connect(cls, port, protocols=("wamp.2.json",)):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        request, key = handshake_request(port, protocols)
        writer.write(request)
        head = await reader.readuntil(b"\r\n\r\n")
        status, headers = parse_http_head(head[:-4])
        if status != 101:
            writer.close()
            raise AssertionError("handshake failed with HTTP %d" % status)
        if headers.get("sec-websocket-accept") != accept_value(key):
            writer.close()
            raise AssertionError("bad Sec-WebSocket-Accept")
        return cls(reader, writer)

    async def send_json(self, message):
        self.writer.write(encode_frame(OP_TEXT, json.dumps(message)))
        await self.writer.drain()

    async def recv_wamp(self):
        while True:
            parsed = parse_frame(self.buf)
            if parsed:
                fin, opcode, payload, used = parsed
                del self.buf[:used]
                if opcode == OP_PING:
                    self.writer.write(encode_frame(OP_PONG, payload))
                    continue
                if opcode == OP_CLOSE:
                    raise ConnectionClosed("close frame %r" % payload[:2])
                if not fin or opcode != OP_TEXT:
                    raise AssertionError("unexpected frame opcode %d fin %s" % (opcode, fin))
                return json.loads(payload.decode("utf-8"))
            chunk = await self.reader.read(65536)
            if not chunk:
                raise ConnectionClosed("EOF")
            self.buf += chunk

    async def close(self):
        """Sends a close frame and waits for the server to end the connection."""
        try:
            self.writer.write(encode_frame(OP_CLOSE, struct.pack("!H", 1000)))
            await self.writer.drain()
            while await self.reader.read(65536):
                pass
        except (ConnectionError, OSError):
            pass
        finally:
            self.writer.close()


# ---------------------------------------------------------------------------
# Client subprocesses


class ClientProcess:
    """A client subprocess whose stdout lines are collected by a thread
    (stderr goes to a file for diagnostics). Only this process is signalled,
    by pid."""

    def __init__(self, argv, env=None, cwd=HERE):
        self.argv = argv
        self.lines = []
        self.cond = threading.Condition()
        full_env = dict(os.environ)
        full_env.update(env or {})
        full_env["PYTHONUNBUFFERED"] = "1"
        self.stderr = tempfile.TemporaryFile(prefix="thingtank-wamp-client-")
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=self.stderr, env=full_env,
                                     cwd=cwd, start_new_session=True)
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        for raw in self.proc.stdout:
            with self.cond:
                self.lines.append(raw.decode("utf-8", "replace").rstrip("\n"))
                self.cond.notify_all()
        with self.cond:
            self.cond.notify_all()

    def wait_for(self, predicate, timeout, what):
        """Waits until predicate(lines) is truthy; fails with the output if the
        process exits first or the timeout passes."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                value = predicate(list(self.lines))
                if value:
                    return value
                if self.proc.poll() is not None and not self.thread.is_alive():
                    raise AssertionError("%s exited (%s) before %s:\n%s" % (
                        " ".join(self.argv), self.proc.returncode, what, self.output()))
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError("timed out after %.0f s waiting for %s from %s:\n%s" % (
                        timeout, what, " ".join(self.argv), self.output()))
                self.cond.wait(min(remaining, 0.2))

    def output(self):
        with self.cond:
            out = "\n".join(self.lines[-60:])
        return "stdout (last lines):\n%s\nstderr:\n%s" % (out, self.stderr_text())

    def stderr_text(self, n=6000):
        try:
            self.stderr.flush()
            self.stderr.seek(0)
            return self.stderr.read().decode("utf-8", "replace")[-n:]
        except (OSError, ValueError):
            return ""

    def terminate(self, timeout=15):
        """SIGTERM, then SIGKILL if it does not exit; returns the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.thread.join(timeout)
        return self.proc.returncode

    def wait(self, timeout):
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            self.thread.join(5)
            raise AssertionError("%s did not finish within %.0f s:\n%s"
                                 % (" ".join(self.argv), timeout, self.output()))
        self.thread.join(timeout)
        return code

    def cleanup(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc.stdout.close()
        self.stderr.close()


def run_json_client(test, argv, env=None, timeout=60):
    """Runs a client subprocess to completion; its last stdout line must be a
    JSON report. Returns the decoded report (fails with the output otherwise)."""
    client = ClientProcess(argv, env=env)
    test.addCleanup(client.cleanup)
    code = client.wait(timeout)
    with client.cond:
        lines = list(client.lines)
    report = None
    for line in reversed(lines):
        if line.startswith("{"):
            try:
                report = json.loads(line)
            except ValueError:
                pass
            break
    if code != 0 or report is None:
        raise AssertionError("%s exited with %s without a JSON report:\n%s"
                             % (" ".join(argv), code, client.output()))
    report["_output"] = client.output()
    return report
