"""`thingtank serve --bootstrap FILE`: queues (attributes, dead-letter queues)
and tables (keys, throughput, TTL) created at start, idempotently, from YAML or
JSON; a bad entry stops serve (exit 2) with a message naming the entry and the
field, before anything is created. docs/bootstrap.md is the user's side."""

import json
import os
import shutil
import subprocess
import tempfile
import unittest

import grpc

import thingtank_testing as tt
from thingtank_testing import CALL_DEADLINE_S as T

YAML_FILE = """\
# The source queue comes first: bootstrap creates its dead-letter queue before it.
queues:
  - queue_name: orders
    attributes:
      visibility_timeout: 45s
      redrive_policy: {dead_letter_queue_name: orders-dlq, max_receive_count: 3}
  - queue_name: orders-dlq
    attributes:
      message_retention_period: 1209600   # seconds: 14 days
tables:
  - table_name: readings
    key_schema:
      - {attribute_name: device, key_type: HASH}
      - {attribute_name: at, key_type: RANGE}
    attribute_definitions:
      - {attribute_name: device, attribute_type: S}
      - {attribute_name: at, attribute_type: N}
    billing_mode: PROVISIONED
    provisioned_throughput: {read_capacity_units: 5, write_capacity_units: 7}
    time_to_live_attribute: expires_at
"""

JSON_FILE = {
    "tables": [{
        "tableName": "sessions",
        "keySchema": [{"attributeName": "id", "keyType": "KEY_TYPE_HASH"}],
        "attributeDefinitions": [{"attributeName": "id", "attributeType": "B"}],
        "billingMode": "PAY_PER_REQUEST",
        "time_to_live_attribute": "ttl",
    }],
    "queues": [
        {"queue_name": "jobs.fifo",
         "attributes": {"fifo_queue": True, "content_based_deduplication": True,
                        "redrive_policy": {"dead_letter_queue_name": "jobs-dlq.fifo",
                                           "max_receive_count": 10}}},
        {"queue_name": "jobs-dlq.fifo", "attributes": {"fifo_queue": True}},
    ],
}


class BootstrapTest(unittest.TestCase):
    def setUp(self):
        tt.require_build("tables")
        self.dir = tempfile.mkdtemp(prefix="thingtank-bootstrap-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.q = tt.queues_pb2
        self.t = tt.tables_pb2

    def write(self, name, text):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def start(self, bootstrap, data_dir):
        args = ["--gateway-port", "0", "--metrics-port", "0", "--wamp-ws-port", "0"]
        if bootstrap:
            args += ["--bootstrap", bootstrap]
        os.makedirs(data_dir, exist_ok=True)
        server = tt.ServerProcess(args, data_dir=data_dir)
        self.addCleanup(server.cleanup)
        server.start(required=("gateway", "metrics"))
        channel = tt.ready_channel(server.ports["gateway"])
        self.addCleanup(channel.close)
        return server, tt.queues_pb2_grpc.QueuesServiceStub(channel), \
            tt.tables_pb2_grpc.TablesServiceStub(channel)

    def queue_attributes(self, queues, name):
        # Polls: the servers may answer before serve has finished the file.
        def get():
            try:
                return queues.GetQueueAttributes(
                    self.q.GetQueueAttributesRequest(queue_name=name), timeout=T)
            except tt.grpc.RpcError as e:
                if e.code() != tt.grpc.StatusCode.NOT_FOUND:
                    raise
                return None
        return tt.wait_until(get, tt.START_DEADLINE_S, "queue %s" % name)

    def table_with_ttl(self, tables, name):
        def get():
            try:
                ttl = tables.DescribeTimeToLive(self.t.DescribeTimeToLiveRequest(table_name=name),
                                                timeout=T).time_to_live_description
            except tt.grpc.RpcError as e:
                if e.code() != tt.grpc.StatusCode.NOT_FOUND:
                    raise
                return None
            if ttl.time_to_live_status != self.t.TIME_TO_LIVE_STATUS_ENABLED:
                return None
            table = tables.DescribeTable(self.t.DescribeTableRequest(table_name=name),
                                         timeout=T).table
            return table, ttl
        return tt.wait_until(get, tt.START_DEADLINE_S, "table %s with TTL" % name)

    def all_names(self, queues, tables):
        queue_names = [s.name for s in queues.ListQueues(self.q.ListQueuesRequest(), timeout=T).queues]
        table_names = list(tables.ListTables(self.t.ListTablesRequest(), timeout=T).table_names)
        return queue_names, table_names

    def assert_yaml_resources(self, queues, tables):
        orders = self.queue_attributes(queues, "orders").attributes
        self.assertEqual(orders.visibility_timeout.seconds, 45)
        self.assertEqual(orders.redrive_policy.dead_letter_queue_name, "orders-dlq")
        self.assertEqual(orders.redrive_policy.max_receive_count, 3)
        dlq = self.queue_attributes(queues, "orders-dlq").attributes
        self.assertEqual(dlq.message_retention_period.seconds, 1209600)
        self.assertEqual(dlq.visibility_timeout.seconds, 30)  # unset: the SQS default
        self.assertFalse(dlq.HasField("redrive_policy") and dlq.redrive_policy.dead_letter_queue_name)
        sources = queues.ListDeadLetterSourceQueues(
            self.q.ListDeadLetterSourceQueuesRequest(queue_name="orders-dlq"), timeout=T)
        self.assertEqual([s.name for s in sources.queues], ["orders"])

        table, ttl = self.table_with_ttl(tables, "readings")
        self.assertEqual(table.table_status, self.t.TABLE_STATUS_ACTIVE)
        self.assertEqual([(k.attribute_name, k.key_type) for k in table.key_schema],
                         [("device", self.t.KEY_TYPE_HASH), ("at", self.t.KEY_TYPE_RANGE)])
        self.assertEqual([(d.attribute_name, d.attribute_type) for d in table.attribute_definitions],
                         [("device", self.t.SCALAR_ATTRIBUTE_TYPE_S),
                          ("at", self.t.SCALAR_ATTRIBUTE_TYPE_N)])
        self.assertEqual(table.billing_mode, self.t.BILLING_MODE_PROVISIONED)
        self.assertEqual((table.provisioned_throughput.read_capacity_units,
                          table.provisioned_throughput.write_capacity_units), (5, 7))
        self.assertEqual(ttl.attribute_name, "expires_at")

    def test_yaml_creates_everything_and_a_restart_changes_nothing(self):
        path = self.write("bootstrap.yaml", YAML_FILE)
        data_dir = os.path.join(self.dir, "data")
        server, queues, tables = self.start(path, data_dir)
        self.assert_yaml_resources(queues, tables)
        self.assertEqual(self.all_names(queues, tables), (["orders", "orders-dlq"], ["readings"]))
        queues.SendMessage(self.q.SendMessageRequest(queue_name="orders", message_body="kept"),
                           timeout=T)
        key = tt.item(device="d1", at=1)
        tables.PutItem(self.t.PutItemRequest(table_name="readings",
                                             item=tt.item(device="d1", at=1, v="kept")), timeout=T)
        created = queues.GetQueueAttributes(self.q.GetQueueAttributesRequest(queue_name="orders"),
                                            timeout=T)
        server.stop()

        server, queues, tables = self.start(path, data_dir)
        self.assert_yaml_resources(queues, tables)
        self.assertEqual(self.all_names(queues, tables), (["orders", "orders-dlq"], ["readings"]))
        again = queues.GetQueueAttributes(self.q.GetQueueAttributesRequest(queue_name="orders"),
                                          timeout=T)
        self.assertEqual(again.attributes, created.attributes)
        self.assertEqual(again.last_modified_time, created.last_modified_time)
        self.assertEqual(again.approximate_number_of_messages, 1)
        got = tables.GetItem(self.t.GetItemRequest(table_name="readings", key=key), timeout=T)
        self.assertEqual(tt.attrs(got.item), {"device": "d1", "at": 1, "v": "kept"})
        server.stop()

    def test_with_api_keys_the_file_is_applied_and_callers_still_need_a_key(self):
        keys = self.write("keys.txt", "admin s3cret *\n")
        path = self.write("bootstrap.yaml", YAML_FILE)
        data_dir = os.path.join(self.dir, "data")
        os.makedirs(data_dir)
        server = tt.ServerProcess(["--gateway-port", "0", "--metrics-port", "0", "--wamp-ws-port", "0",
                                   "--auth=apikey", "--api-keys-file", keys, "--bootstrap", path],
                                  data_dir=data_dir)
        self.addCleanup(server.cleanup)
        server.start(required=("gateway",))
        channel = tt.ready_channel(server.ports["gateway"])
        self.addCleanup(channel.close)
        queues = tt.queues_pb2_grpc.QueuesServiceStub(channel)
        e = tt.call_error(queues.ListQueues, self.q.ListQueuesRequest())
        self.assertEqual(e.code, grpc.StatusCode.UNAUTHENTICATED, e)
        listed = queues.ListQueues(self.q.ListQueuesRequest(), timeout=T,
                                   metadata=[("authorization", "ApiKey admin:s3cret")])
        self.assertEqual(sorted(q.name for q in listed.queues), ["orders", "orders-dlq"])
        server.stop()

    def test_json_file(self):
        path = self.write("bootstrap.json", json.dumps(JSON_FILE, indent=2))
        server, queues, tables = self.start(path, os.path.join(self.dir, "data"))
        jobs = self.queue_attributes(queues, "jobs.fifo").attributes
        self.assertTrue(jobs.fifo_queue)
        self.assertTrue(jobs.content_based_deduplication)
        self.assertEqual(jobs.redrive_policy.dead_letter_queue_name, "jobs-dlq.fifo")
        self.assertEqual(jobs.redrive_policy.max_receive_count, 10)
        self.assertTrue(self.queue_attributes(queues, "jobs-dlq.fifo").attributes.fifo_queue)
        table, ttl = self.table_with_ttl(tables, "sessions")
        self.assertEqual([(k.attribute_name, k.key_type) for k in table.key_schema],
                         [("id", self.t.KEY_TYPE_HASH)])
        self.assertEqual([(d.attribute_name, d.attribute_type) for d in table.attribute_definitions],
                         [("id", self.t.SCALAR_ATTRIBUTE_TYPE_B)])
        self.assertEqual(table.billing_mode, self.t.BILLING_MODE_PAY_PER_REQUEST)
        self.assertEqual(ttl.attribute_name, "ttl")
        self.assertEqual(self.all_names(queues, tables), (["jobs-dlq.fifo", "jobs.fifo"], ["sessions"]))
        server.stop()

    def run_failing(self, path, data_dir):
        """Runs serve with the file; returns (exit code, stderr) once it exits."""
        cmd = [tt.BIN, "serve", "--data-dir", data_dir, "--gateway-port", "0", "--metrics-port", "0",
               "--wamp-ws-port", "0", "--bootstrap", path]
        try:
            done = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE, timeout=tt.START_DEADLINE_S)
        except subprocess.TimeoutExpired:
            self.fail("serve --bootstrap %s did not exit within %d s" % (path, tt.START_DEADLINE_S))
        return done.returncode, done.stderr.decode("utf-8", "replace")

    def test_bad_entries_stop_serve_naming_the_entry(self):
        good_queue = "queues:\n  - queue_name: fine\n"
        cases = [
            ("bad-key-type.yaml", good_queue +
             "tables:\n  - table_name: readings\n"
             "    key_schema: [{attribute_name: id, key_type: HASH}]\n"
             "    attribute_definitions: [{attribute_name: id, attribute_type: X}]\n",
             'tables[0] (readings): attribute_definitions[0].attribute_type: "X" is not one of S, N, B'),
            ("unknown-field.json", json.dumps({"queues": [
                {"queue_name": "a"}, {"queue_name": "b", "attributes": {"visiblity_timeout": "5s"}}]}),
             "queues[1] (b): attributes.visiblity_timeout: unknown field; known: visibility_timeout"),
            ("bad-number.yaml", "tables:\n  - table_name: t1\n"
             "    provisioned_throughput: {read_capacity_units: lots}\n",
             'tables[0] (t1): provisioned_throughput.read_capacity_units: invalid value "lots"'),
            ("unknown-section.yaml", good_queue + "streamz:\n  - name: s\n",
             'unknown section "streamz"; known: queues, tables'),
            ("duplicate.yaml", "queues:\n  - queue_name: q\n  - queue_name: q\n",
             "queues[1] (q): queue_name: also at queues[0] (q)"),
            ("cycle.yaml", "queues:\n"
             "  - {queue_name: a, attributes: {redrive_policy: {dead_letter_queue_name: b, max_receive_count: 1}}}\n"
             "  - {queue_name: b, attributes: {redrive_policy: {dead_letter_queue_name: a, max_receive_count: 1}}}\n",
             "dead-letter queues form a cycle: a -> b -> a"),
            ("not-yaml.yaml", "queues: [\n", "line 2, column 1: "),
            # Refused by the service itself: its message, after the method.
            ("missing-dlq.yaml", "queues:\n  - queue_name: a\n    attributes:\n"
             "      redrive_policy: {dead_letter_queue_name: nowhere, max_receive_count: 2}\n",
             "queues[0] (a): CreateQueue: attributes.redrive_policy.dead_letter_queue_name: "
             "dead-letter queue nowhere does not exist"),
            ("no-range-type.yaml", "tables:\n  - table_name: t2\n"
             "    key_schema: [{attribute_name: id, key_type: HASH}]\n"
             "    billing_mode: PAY_PER_REQUEST\n",
             "tables[0] (t2): CreateTable: "),
        ]
        for name, text, expected in cases:
            with self.subTest(name):
                path = self.write(name, text)
                data_dir = os.path.join(self.dir, "data-" + name)
                code, stderr = self.run_failing(path, data_dir)
                self.assertEqual(code, 2, stderr)
                self.assertIn("thingtank serve: --bootstrap %s: " % path, stderr)
                self.assertIn(expected, stderr)

        # An entry that does not parse stops serve before anything is created.
        server, queues, tables = self.start(None, os.path.join(self.dir, "data-bad-key-type.yaml"))
        self.assertEqual(self.all_names(queues, tables), ([], []))
        server.stop()

    def test_missing_file(self):
        path = os.path.join(self.dir, "nowhere.yaml")
        code, stderr = self.run_failing(path, os.path.join(self.dir, "data"))
        self.assertEqual(code, 2, stderr)
        self.assertIn("thingtank serve: --bootstrap %s: cannot read: No such file or directory" % path,
                      stderr)


if __name__ == "__main__":
    unittest.main()
