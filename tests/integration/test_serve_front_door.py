"""What a new user meets first at the front door (issue 10): ports that are
taken, malformed requests, services not behind a gateway, a backend that is
down, serve's own flags and help, --ephemeral, and the grpc_server_* series.

Real `thingtank serve` processes on free ports, called over real sockets, in
monolithic and microservice mode.
"""

import importlib
import os
import re
import socket
import subprocess
import tempfile
import time
import unittest

import grpc

import thingtank_testing as tt
from thingtank_testing import Deployment, ServerProcess

wamp_pb2 = importlib.import_module("thingtank.wamp.v1.wamp_pb2")

MALFORMED = b"\xff\xff\xff\xff"
NOT_A_MESSAGE = "the request is not a valid protobuf message"


def services_of(*pb2_modules):
    """[(full method path, server streaming?)] of every method of every service."""
    out = []
    for module in pb2_modules:
        for service in module.DESCRIPTOR.services_by_name.values():
            for method in service.methods:
                out.append(("/%s/%s" % (service.full_name, method.name),
                            method.server_streaming))
    return out


def raw_call(channel, path, payload, streaming, metadata=None):
    """Calls `path` with raw request bytes; returns tt.ErrorDetails of its failure."""
    try:
        if streaming:
            call = channel.unary_stream(path, request_serializer=None, response_deserializer=None)
            for _ in call(payload, timeout=tt.CALL_DEADLINE_S, metadata=metadata):
                pass
        else:
            call = channel.unary_unary(path, request_serializer=None, response_deserializer=None)
            call(payload, timeout=tt.CALL_DEADLINE_S, metadata=metadata)
    except grpc.RpcError as e:
        return tt.error_details(e)
    raise AssertionError("%s accepted %r" % (path, payload))


def nested_lists(depth):
    """An AttributeValue that nests lists `depth` deep."""
    pb = tt.tables_pb2
    value = pb.AttributeValue(n="1")
    for _ in range(depth):
        value = pb.AttributeValue(l=pb.ListValue(values=[value]))
    return value


def deep_request(method, depth):
    """The request body of an item method whose item or key nests lists `depth` deep."""
    pb = tt.tables_pb2
    if method == "TransactWriteItems":
        request = pb.TransactWriteItemsRequest()
        put = request.transact_items.add().put
        put.table_name = "deep"
        put.item["v"].CopyFrom(nested_lists(depth))
    else:
        request = getattr(pb, method + "Request")(table_name="deep")
        getattr(request, "item" if method == "PutItem" else "key")["v"].CopyFrom(nested_lists(depth))
    return request.SerializeToString()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_serve(args, timeout=tt.START_DEADLINE_S):
    """Runs `thingtank serve ARGS` expecting it to exit by itself."""
    return subprocess.run([tt.BIN, "serve"] + args, capture_output=True, text=True,
                          timeout=timeout)


class MalformedRequests(unittest.TestCase):
    """Every way a request can fail to parse is INVALID_ARGUMENT saying what
    failed, on every method, direct and through the gateway."""

    @classmethod
    def setUpClass(cls):
        tt.require_build("tables")

    def check_every_method(self, channel, modules):
        for path, streaming in services_of(*modules):
            with self.subTest(method=path):
                e = raw_call(channel, path, MALFORMED, streaming)
                self.assertEqual(e.code, grpc.StatusCode.INVALID_ARGUMENT, e)
                self.assertEqual(e.message,
                                 NOT_A_MESSAGE + ": truncated tag at byte 0", e)
                self.assertEqual(e.reason, "MalformedRequest", e)

    def test_monolithic_every_method_of_every_service(self):
        d = Deployment(Deployment.MONOLITHIC)
        self.addCleanup(d.cleanup)
        self.check_every_method(d.channel, (tt.queues_pb2, tt.tables_pb2, wamp_pb2))
        d.stop()

    def test_microservice_every_method_through_the_gateway_and_direct(self):
        for service, module in (("queues", tt.queues_pb2), ("tables", tt.tables_pb2)):
            with self.subTest(service=service):
                d = Deployment(Deployment.MICROSERVICE, service=service)
                self.addCleanup(d.cleanup)
                self.check_every_method(d.channel, (module,))
                direct = tt.ready_channel(d.backend.ports[service])
                self.addCleanup(direct.close)
                self.check_every_method(direct, (module,))
                direct.close()
                d.stop()

    def test_each_way_to_fail_names_what_failed(self):
        d = Deployment(Deployment.MONOLITHIC)
        self.addCleanup(d.cleanup)
        queues = "/thingtank.queues.v1.QueuesService/"
        tables = "/thingtank.tables.v1.TablesService/"
        cases = [
            (queues + "DeleteMessage", b"\x00", "", "field number 0 at byte 0"),
            # 0c: field 1 (page_size), wire type 4 (end group)
            (tables + "ListTables", b"\x0c", "page_size", "end-group tag without a start-group tag"),
            (queues + "GetQueueUrl", b"\x0a\x02\xc3\x28", "queue_name",
             "queue_name: invalid UTF-8 in a string field"),
        ]
        for path, payload, field, what in cases:
            with self.subTest(method=path, payload=payload):
                e = raw_call(d.channel, path, payload, False)
                self.assertEqual(e.code, grpc.StatusCode.INVALID_ARGUMENT, e)
                self.assertTrue(e.message.startswith(NOT_A_MESSAGE + ": "), e)
                self.assertIn(what, e.message)
                self.assertEqual(e.fields, [field] if field else [], e)
        # Nested past protobuf's parse depth: 50 lists are 100 messages deep.
        for method in ("PutItem", "GetItem", "UpdateItem", "DeleteItem", "TransactWriteItems"):
            with self.subTest(method=method):
                e = raw_call(d.channel, tables + method, deep_request(method, 50), False)
                self.assertEqual(e.code, grpc.StatusCode.INVALID_ARGUMENT, e)
                self.assertIn("nested more than 100 levels deep", e.message)
        d.stop()

    def test_an_unauthenticated_caller_gets_unauthenticated_first(self):
        keys = tempfile.NamedTemporaryFile("w", suffix=".keys", delete=False)
        keys.write("admin s3cret *\n")
        keys.close()
        self.addCleanup(os.remove, keys.name)
        for mode in (Deployment.MONOLITHIC, Deployment.MICROSERVICE):
            with self.subTest(mode=mode):
                d = Deployment(mode, gateway_args=["--auth=apikey", "--api-keys-file", keys.name])
                self.addCleanup(d.cleanup)
                for path in ("/thingtank.queues.v1.QueuesService/SendMessage",
                             "/thingtank.tables.v1.TablesService/PutItem",
                             "/thingtank.wamp.v1.WampService/Publish",
                             "/thingtank.wamp.v1.WampService/Subscribe"):
                    if mode == Deployment.MICROSERVICE and "queues" not in path:
                        continue
                    streaming = path.endswith("Subscribe")
                    e = raw_call(d.channel, path, MALFORMED, streaming)
                    self.assertEqual(e.code, grpc.StatusCode.UNAUTHENTICATED, (path, e))
                    e = raw_call(d.channel, path, MALFORMED, streaming,
                                 metadata=[("authorization", "ApiKey admin:s3cret")])
                    self.assertEqual(e.code, grpc.StatusCode.INVALID_ARGUMENT, (path, e))
                d.stop()


class GatewayRouting(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        tt.require_build("tables")

    def test_a_service_not_behind_the_gateway_is_named(self):
        d = Deployment(Deployment.MICROSERVICE, service="queues")
        self.addCleanup(d.cleanup)
        e = tt.call_error(d.tables_stub().ListTables, tt.tables_pb2.ListTablesRequest())
        self.assertEqual(e.code, grpc.StatusCode.UNIMPLEMENTED, e)
        self.assertEqual(e.message, "the tables service is not behind this gateway (it serves: "
                                    "queues); run it here or name its address in --backends")
        self.assertEqual(e.reason, "ServiceNotBehindGateway")
        e = raw_call(d.channel, "/no.such.Service/Method", b"", False)
        self.assertEqual(e.code, grpc.StatusCode.UNIMPLEMENTED, e)
        self.assertEqual(e.reason, "UnknownMethod")
        self.assertIn("/no.such.Service/Method", e.message)
        d.stop()

    def test_a_backend_that_is_down_is_named_and_back_within_a_second(self):
        d = Deployment(Deployment.MICROSERVICE, service="tables")
        self.addCleanup(d.cleanup)
        port = d.backend.ports["tables"]
        stub = d.tables_stub()
        stub.ListTables(tt.tables_pb2.ListTablesRequest(), timeout=tt.CALL_DEADLINE_S)
        d.backend.kill9()
        address = "127.0.0.1:%d" % port
        e = tt.call_error(stub.ListTables, tt.tables_pb2.ListTablesRequest())
        self.assertEqual(e.code, grpc.StatusCode.UNAVAILABLE, e)
        self.assertTrue(e.message.startswith(
            "the tables backend at %s is unavailable (the gateway is up)" % address), e)
        self.assertEqual(e.reason, "BackendUnavailable")
        # The CLI names the backend, not the gateway.
        cli = subprocess.run([tt.BIN, "tables", "list", "--endpoint",
                              "127.0.0.1:%d" % d.gateway_port], capture_output=True, text=True,
                             timeout=tt.CALL_DEADLINE_S)
        self.assertNotEqual(cli.returncode, 0)
        self.assertIn("the tables backend at %s is unavailable" % address, cli.stderr)
        self.assertNotIn("cannot reach ThingTank", cli.stderr)
        # Keep it down long enough for gRPC's default backoff to have grown past seconds.
        for _ in range(5):
            tt.call_error(stub.ListTables, tt.tables_pb2.ListTablesRequest())
        # Back on the same port, with the same data.
        d.backend.args[d.backend.args.index("--tables-port") + 1] = str(port)
        d.backend.start(required=("tables",))
        direct = tt.ready_channel(port)
        self.addCleanup(direct.close)
        backend_up = time.monotonic()

        def gateway_answers():
            try:
                stub.ListTables(tt.tables_pb2.ListTablesRequest(), timeout=tt.CALL_DEADLINE_S)
                return True
            except grpc.RpcError as e:
                if e.code() != grpc.StatusCode.UNAVAILABLE:
                    raise
                return False
        tt.wait_until(gateway_answers, tt.CALL_DEADLINE_S, "the gateway to reach the backend again")
        self.assertLess(time.monotonic() - backend_up, 1.5,
                        "the gateway took more than a second to use the backend again")
        direct.close()
        d.stop()


class ServeFlags(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        tt.require_build()

    def test_a_taken_gateway_port_fails_naming_the_flag(self):
        first = ServerProcess(["--gateway-port", "0", "--metrics-port", "0", "--wamp-ws-port", "0",
                               "--auth=none"])
        self.addCleanup(first.cleanup)
        first.start(required=("gateway",))
        port = first.ports["gateway"]
        with tempfile.TemporaryDirectory() as data:
            second = run_serve(["--data-dir", data, "--gateway-port", str(port),
                                "--metrics-port", "0", "--wamp-ws-port", "0"])
        self.assertEqual(second.returncode, 1, second.stderr)
        self.assertIn("--gateway-port %d: cannot listen for gRPC on 127.0.0.1:%d: address already "
                      "in use" % (port, port), second.stderr)
        # The first still gets every connection.
        for _ in range(10):
            channel = tt.ready_channel(port)
            tt.queues_pb2_grpc.QueuesServiceStub(channel).ListQueues(
                tt.queues_pb2.ListQueuesRequest(), timeout=tt.CALL_DEADLINE_S)
            channel.close()
        first.stop()

    def test_a_taken_service_port_fails_naming_the_flag(self):
        first = ServerProcess(["--services=queues", "--queues-port", "0", "--metrics-port", "0"])
        self.addCleanup(first.cleanup)
        first.start(required=("queues",))
        port = first.ports["queues"]
        with tempfile.TemporaryDirectory() as data:
            second = run_serve(["--data-dir", data, "--services=queues", "--queues-port", str(port),
                                "--metrics-port", "0"])
        self.assertEqual(second.returncode, 1, second.stderr)
        self.assertIn("--queues-port %d: cannot listen for gRPC on 127.0.0.1:%d: address already "
                      "in use" % (port, port), second.stderr)
        first.stop()

    def test_the_gateway_alone_needs_backends(self):
        with tempfile.TemporaryDirectory() as data:
            r = run_serve(["--data-dir", data, "--services=gateway", "--gateway-port", "0"])
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("--backends: the gateway alone forwards to backends", r.stderr)
        self.assertNotIn("Try it", r.stdout)

    def test_a_service_setting_is_validated_by_its_service(self):
        with tempfile.TemporaryDirectory() as data:
            r = run_serve(["--data-dir", data, "--gateway-port", "0", "--metrics-port", "0",
                           "--wamp-ws-port", "nope"])
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn('wamp: --wamp-ws-port: "nope" is not a port', r.stderr)
        r = run_serve(["--api-key-secret", "s3cret"])
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("set it in the environment (THINGTANK_API_KEY_SECRET)", r.stderr)

    def test_help_lists_exactly_what_this_build_has(self):
        r = subprocess.run([tt.BIN, "serve", "--help"], capture_output=True, text=True,
                           timeout=tt.CALL_DEADLINE_S)
        self.assertEqual(r.returncode, 0)
        for flag in ("--compute-port", "--objects-port", "--queues-port", "--streams-port",
                     "--tables-port", "--wamp-port", "--ephemeral", "--bootstrap",
                     "--streams-limits"):
            self.assertIn(flag, r.stdout)
        # Every doc it names is in the repository.
        for doc in re.findall(r"\b((?:docs|services)/[\w/.-]+\.md)", r.stdout):
            self.assertTrue(os.path.exists(os.path.join(tt.REPO, doc)), doc)
        r = run_serve(["--services=nosuch"])
        self.assertEqual(r.returncode, 2)
        self.assertIn('"nosuch"', r.stderr)

    def test_try_it_lines_work_as_printed_with_api_keys(self):
        with tempfile.TemporaryDirectory() as data:
            keys = os.path.join(data, "keys.txt")
            with open(keys, "w") as f:
                f.write("admin s3cret *\n")
            os.mkdir(os.path.join(data, "d"))
            server = ServerProcess(["--gateway-port", "0", "--metrics-port", "0",
                                    "--wamp-ws-port", "0", "--auth=apikey",
                                    "--api-keys-file", keys], data_dir=os.path.join(data, "d"))
            self.addCleanup(server.cleanup)
            server.start(required=("gateway",))
            out = tt.wait_until(lambda: "Stop with Ctrl-C" in server.log_tail(20000)
                                and server.log_tail(20000), tt.START_DEADLINE_S, "the Try it lines")
            self.assertIn("export THINGTANK_API_KEY_ID=<id> THINGTANK_API_KEY_SECRET=<secret>", out)
            commands = [line.strip() for line in out.splitlines()
                        if line.strip().startswith("thingtank queues")]
            self.assertEqual(len(commands), 3, out)
            env = dict(os.environ, THINGTANK_API_KEY_ID="admin", THINGTANK_API_KEY_SECRET="s3cret")
            for command in commands:
                words = [tt.BIN] + [w.strip("'") for w in re.findall(r"'[^']*'|\S+", command)[1:]]
                r = subprocess.run(words, capture_output=True, text=True, env=env,
                                   timeout=tt.CALL_DEADLINE_S)
                self.assertEqual(r.returncode, 0, (command, r.stdout, r.stderr))
            server.stop()

    def test_ephemeral_data_is_fresh_and_removed_at_exit(self):
        dirs = []
        for round_ in range(2):
            proc = subprocess.Popen([tt.BIN, "serve", "--ephemeral", "--gateway-port", "0",
                                     "--metrics-port", "0", "--wamp-ws-port", "0"],
                                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            self.addCleanup(lambda p=proc: p.poll() is None and p.kill())
            line = ""
            while "data in " not in line:
                line = proc.stdout.readline()
                self.assertTrue(line, "serve --ephemeral ended before saying where its data is")
            data_dir = re.search(r"data in (\S+)", line).group(1)
            self.assertTrue(os.path.isdir(data_dir), data_dir)
            self.assertNotIn(data_dir, dirs)
            dirs.append(data_dir)
            port = re.search(r"gateway on [\w.]+:(\d+)", line).group(1)
            channel = tt.ready_channel(int(port))
            stub = tt.queues_pb2_grpc.QueuesServiceStub(channel)
            # Fresh: the queue of the first round is not there in the second.
            self.assertEqual(list(stub.ListQueues(tt.queues_pb2.ListQueuesRequest(),
                                                  timeout=tt.CALL_DEADLINE_S).queues), [])
            stub.CreateQueue(tt.queues_pb2.CreateQueueRequest(queue_name="round-%d" % round_),
                             timeout=tt.CALL_DEADLINE_S)
            channel.close()
            proc.terminate()
            self.assertEqual(proc.wait(timeout=tt.STOP_DEADLINE_S), 0)
            proc.stdout.close()
            self.assertFalse(os.path.exists(data_dir), "%s was not removed" % data_dir)


class HealthFromPython(unittest.TestCase):
    """The generated health modules import beside grpcio as the README shows:
    grpcio owns the `grpc` package, so the generated grpc/health/v1 is added
    to its path."""

    def test_health_check_with_the_generated_modules(self):
        tt.require_build()
        import grpc as grpc_package
        grpc_package.__path__.append(os.path.join(tt.PY_GEN, "grpc"))
        health_pb2 = importlib.import_module("grpc.health.v1.health_pb2")
        health_pb2_grpc = importlib.import_module("grpc.health.v1.health_pb2_grpc")
        d = Deployment(Deployment.MONOLITHIC)
        self.addCleanup(d.cleanup)
        stub = health_pb2_grpc.HealthStub(d.channel)
        for service in ("", "thingtank.queues.v1.QueuesService", "thingtank.tables.v1.TablesService"):
            response = stub.Check(health_pb2.HealthCheckRequest(service=service),
                                  timeout=tt.CALL_DEADLINE_S)
            self.assertEqual(response.status, health_pb2.HealthCheckResponse.SERVING, service)
        d.stop()


class RpcSeriesFromTheStart(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        tt.require_build("tables")

    def test_every_method_has_its_series_at_zero_before_any_call(self):
        for mode, service in ((Deployment.MONOLITHIC, "queues"), (Deployment.MICROSERVICE, "tables")):
            with self.subTest(mode=mode):
                d = Deployment(mode, service=service)
                self.addCleanup(d.cleanup)
                _, text = tt.http_get(d.gateway_metrics_port, "/metrics")
                modules = (tt.queues_pb2, tt.tables_pb2, wamp_pb2) if mode == Deployment.MONOLITHIC \
                    else (tt.tables_pb2,)
                for path, streaming in services_of(*modules):
                    service_name, method = path[1:].split("/")
                    labels = dict(grpc_service=service_name, grpc_method=method,
                                  grpc_type="server_stream" if streaming else "unary")
                    started = [v for l, v in tt.metric_samples(text, "grpc_server_started_total")
                               if all(l.get(k) == x for k, x in labels.items())]
                    self.assertEqual(started, [0.0], path)
                    for code in ("OK", "InvalidArgument", "Unavailable"):
                        handled = [v for l, v in tt.metric_samples(text, "grpc_server_handled_total")
                                   if l.get("grpc_code") == code
                                   and all(l.get(k) == x for k, x in labels.items())]
                        self.assertEqual(handled, [0.0], (path, code))
                d.stop()


class ScalingDemoMetrics(unittest.TestCase):
    """The metrics a scaling demo reads move with the calls that move them."""

    @classmethod
    def setUpClass(cls):
        tt.require_build("tables")

    def metrics(self, d):
        return tt.http_get(d.service_metrics_port, "/metrics")[1]

    def test_queue_url_age_and_per_queue_counters(self):
        for mode in (Deployment.MONOLITHIC, Deployment.MICROSERVICE):
            with self.subTest(mode=mode):
                # 1000x: the oldest message ages a second per millisecond.
                d = Deployment(mode, backend_args=["--time-scale", "1000"])
                self.addCleanup(d.cleanup)
                stub = d.stub()
                q = tt.queues_pb2
                created = stub.CreateQueue(q.CreateQueueRequest(queue_name="demo"),
                                           timeout=tt.CALL_DEADLINE_S)
                # The URL names where the queue is reachable: the gateway in either mode
                # for a monolith, the queues port of a queues process.
                port = d.gateway_port if mode == Deployment.MONOLITHIC else d.backend.ports["queues"]
                self.assertEqual(created.queue_url,
                                 "http://127.0.0.1:%d/000000000000/demo" % port)
                text = self.metrics(d)
                self.assertEqual(tt.metric_sum(text, "thingtank_queues_oldest_message_age_seconds",
                                               queue="demo"), 0)
                for body in ("a", "b"):
                    stub.SendMessage(q.SendMessageRequest(queue_name="demo", message_body=body),
                                     timeout=tt.CALL_DEADLINE_S)
                received = stub.ReceiveMessages(q.ReceiveMessagesRequest(
                    queue_name="demo", max_number_of_messages=1), timeout=tt.CALL_DEADLINE_S)
                self.assertEqual(len(received.messages), 1)
                stub.DeleteMessage(q.DeleteMessageRequest(
                    queue_name="demo", receipt_handle=received.messages[0].receipt_handle),
                    timeout=tt.CALL_DEADLINE_S)
                text = self.metrics(d)
                for what, want in (("sent", 2), ("received", 1), ("deleted", 1)):
                    self.assertEqual(tt.metric_sum(
                        text, "thingtank_queues_queue_messages_%s_total" % what, queue="demo"),
                        want, what)
                tt.wait_until(lambda: tt.metric_sum(
                    self.metrics(d), "thingtank_queues_oldest_message_age_seconds",
                    queue="demo") >= 60, tt.CALL_DEADLINE_S, "the oldest message to age a minute")
                d.stop()

    def test_table_capacity_consumed_and_provisioned(self):
        for mode in (Deployment.MONOLITHIC, Deployment.MICROSERVICE):
            with self.subTest(mode=mode):
                d = Deployment(mode, service="tables")
                self.addCleanup(d.cleanup)
                stub = d.tables_stub()
                pb = tt.tables_pb2
                tt.create_table(stub, "demo", ("k", "S"), read_units=7, write_units=5)
                text = self.metrics(d)
                self.assertEqual(tt.metric_sum(text, "thingtank_tables_table_provisioned_read_units",
                                               table="demo"), 7)
                self.assertEqual(tt.metric_sum(text, "thingtank_tables_table_provisioned_write_units",
                                               table="demo"), 5)
                put = pb.PutItemRequest(table_name="demo")
                put.item["k"].CopyFrom(pb.AttributeValue(s="a"))
                stub.PutItem(put, timeout=tt.CALL_DEADLINE_S)
                get = pb.GetItemRequest(table_name="demo", consistent_read=True)
                get.key["k"].CopyFrom(pb.AttributeValue(s="a"))
                stub.GetItem(get, timeout=tt.CALL_DEADLINE_S)
                text = self.metrics(d)
                # One 1 KiB write unit; one strongly consistent 4 KiB read unit.
                self.assertEqual(tt.metric_sum(
                    text, "thingtank_tables_table_write_units_consumed_total", table="demo"), 1)
                self.assertEqual(tt.metric_sum(
                    text, "thingtank_tables_table_read_units_consumed_total", table="demo"), 1)
                d.stop()

    def test_fast_path_fallbacks_are_counted(self):
        # With --sync-writes a write cannot finish on the reactor thread: every put
        # goes to the executor, and says so.
        d = Deployment(Deployment.MONOLITHIC, backend_args=["--sync-writes"])
        self.addCleanup(d.cleanup)
        stub = d.tables_stub()
        pb = tt.tables_pb2
        tt.create_table(stub, "slow", ("k", "S"))
        for i in range(3):
            put = pb.PutItemRequest(table_name="slow")
            put.item["k"].CopyFrom(pb.AttributeValue(s="k%d" % i))
            stub.PutItem(put, timeout=tt.CALL_DEADLINE_S)
        text = self.metrics(d)
        self.assertEqual(tt.metric_sum(text, "thingtank_rpc_fast_path_fallbacks_total",
                                       grpc_service="thingtank.tables.v1.TablesService",
                                       grpc_method="PutItem"), 3)
        d.stop()

    def test_build_info_and_process_metrics(self):
        d = Deployment(Deployment.MONOLITHIC)
        self.addCleanup(d.cleanup)
        text = self.metrics(d)
        info = tt.metric_samples(text, "thingtank_build_info")
        self.assertEqual(len(info), 1, info)
        labels, value = info[0]
        self.assertEqual(value, 1)
        self.assertRegex(labels["version"], r"^\d+\.\d+\.\d+$")
        self.assertEqual(labels["services"], "compute,objects,queues,streams,tables,wamp")
        self.assertGreater(tt.metric_sum(text, "process_resident_memory_bytes"), 1 << 20)
        self.assertGreater(tt.metric_sum(text, "process_open_fds"), 3)
        self.assertGreater(tt.metric_sum(text, "process_max_fds"), 3)
        start = tt.metric_sum(text, "process_start_time_seconds")
        self.assertLess(abs(start - time.time()), 600, start)
        self.assertGreater(tt.metric_sum(text, "process_cpu_seconds_total"), 0)
        d.stop()


if __name__ == "__main__":
    unittest.main()
