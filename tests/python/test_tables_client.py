#!/usr/bin/python3
"""The Python generated client against a real monolithic `thingtank serve`,
through the gateway: the classic DynamoDB example (a `messages` table keyed by
msgid and date, 1 read and 1 write unit: create, wait for ACTIVE, list,
describe, put, get) and a device time series queried by time range.

Run: /usr/bin/python3 -m unittest -v test_tables_client   (from tests/python)
"""

import unittest

import grpc

import thingtank_testing as tt

T = tt.CALL_DEADLINE_S


class TablesPythonClientTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        tt.require_build("tables")
        deployment = tt.Deployment(tt.Deployment.MONOLITHIC)
        cls.addClassCleanup(deployment.cleanup)
        cls.deployment = deployment
        cls.pb = tt.tables_pb2

    @classmethod
    def tearDownClass(cls):
        cls.deployment.stop()

    def setUp(self):
        self.stub = self.deployment.tables_stub()

    def test_classic_messages_example(self):
        pb = self.pb
        schema, defs = tt.key_schema("msgid", "S", "date", "S")
        created = self.stub.CreateTable(pb.CreateTableRequest(
            table_name="messages", key_schema=schema, attribute_definitions=defs,
            billing_mode=pb.BILLING_MODE_PROVISIONED,
            provisioned_throughput=pb.ProvisionedThroughput(read_capacity_units=1,
                                                            write_capacity_units=1)), timeout=T)
        self.assertEqual(created.table_description.table_name, "messages")
        self.assertIn(created.table_description.table_status,
                      (pb.TABLE_STATUS_CREATING, pb.TABLE_STATUS_ACTIVE))

        # Poll DescribeTable with a deadline until ACTIVE.
        tt.wait_table_active(self.stub, "messages")

        listed = self.stub.ListTables(pb.ListTablesRequest(), timeout=T)
        self.assertIn("messages", list(listed.table_names))
        self.assertEqual(listed.next_page_token, "")

        t = self.stub.DescribeTable(pb.DescribeTableRequest(table_name="messages"),
                                    timeout=T).table
        self.assertEqual(t.table_name, "messages")
        self.assertEqual(t.table_status, pb.TABLE_STATUS_ACTIVE)
        self.assertEqual([(k.attribute_name, k.key_type) for k in t.key_schema],
                         [("msgid", pb.KEY_TYPE_HASH), ("date", pb.KEY_TYPE_RANGE)])
        self.assertEqual(sorted((d.attribute_name, d.attribute_type)
                                for d in t.attribute_definitions),
                         [("date", pb.SCALAR_ATTRIBUTE_TYPE_S),
                          ("msgid", pb.SCALAR_ATTRIBUTE_TYPE_S)])
        self.assertEqual(t.billing_mode, pb.BILLING_MODE_PROVISIONED)
        self.assertEqual((t.provisioned_throughput.read_capacity_units,
                          t.provisioned_throughput.write_capacity_units), (1, 1))
        self.assertEqual(t.item_count, 0)
        self.assertTrue(t.table_arn.endswith("table/messages"), t.table_arn)
        self.assertGreater(t.creation_date_time.seconds, 0)

        message = {"msgid": "LOLCat Forum", "date": "2012-01-01",
                   "Body": "http://url_to_lolcat.gif", "CreatedBy": "joe", "Time": "12:00 PM"}
        self.stub.PutItem(pb.PutItemRequest(table_name="messages", item=tt.item(**message)),
                          timeout=T)
        got = self.stub.GetItem(pb.GetItemRequest(
            table_name="messages", key=tt.item(msgid="LOLCat Forum", date="2012-01-01"),
            consistent_read=True), timeout=T)
        self.assertEqual(tt.attrs(got.item), message)
        for name, value in message.items():
            self.assertEqual(got.item[name].WhichOneof("value"), "s", name)
            self.assertEqual(got.item[name].s, value, name)

        # Another range key of the same hash key: not found (empty item).
        missing = self.stub.GetItem(pb.GetItemRequest(
            table_name="messages", key=tt.item(msgid="LOLCat Forum", date="2012-01-02")),
            timeout=T)
        self.assertEqual(len(missing.item), 0)
        # The describe now counts the item.
        t = self.stub.DescribeTable(pb.DescribeTableRequest(table_name="messages"),
                                    timeout=T).table
        self.assertEqual(t.item_count, 1)
        self.assertEqual(t.table_size_bytes, sum(len(k) + len(v) for k, v in message.items()))

    def test_device_time_series(self):
        pb = self.pb
        tt.create_table(self.stub, "readings", ("device", "S"), ("ts", "N"))
        t = self.stub.DescribeTable(pb.DescribeTableRequest(table_name="readings"),
                                    timeout=T).table
        self.assertEqual(t.billing_mode, pb.BILLING_MODE_PAY_PER_REQUEST)
        stamps = [1, 2, 5, 10, 20, 100]
        for device in ("dev-A", "dev-B"):
            for ts in stamps:
                self.stub.PutItem(pb.PutItemRequest(table_name="readings", item=tt.item(
                    device=device, ts=ts, temp=ts * 10, hot=ts >= 10)), timeout=T)

        def query(**kw):
            names = {"#d": "device", "#t": "ts"}
            names.update(kw.pop("names", {}))
            values = {":dev": tt.av("dev-A"), ":a": tt.N(2), ":b": tt.N(20)}
            values.update(kw.pop("values", {}))
            return self.stub.Query(pb.QueryRequest(
                table_name="readings", key_condition_expression="#d = :dev AND #t BETWEEN :a AND :b",
                expression_attribute_names=names, expression_attribute_values=values, **kw),
                timeout=T)

        def stamps_of(response):
            return [tt.attrs(i)["ts"] for i in response.items]

        # Numeric order: 2 before 10 (not "10" < "2").
        r = query()
        self.assertEqual(stamps_of(r), [2, 5, 10, 20])
        self.assertEqual((r.count, r.scanned_count), (4, 4))
        self.assertEqual(len(r.last_evaluated_key), 0)
        for i in r.items:
            self.assertEqual(tt.attrs(i)["device"], "dev-A")
            self.assertEqual(tt.attrs(i)["temp"], tt.attrs(i)["ts"] * 10)

        # Backward.
        self.assertEqual(stamps_of(query(scan_index_forward=False)), [20, 10, 5, 2])

        # Pagination: limit 3, then continue from last_evaluated_key.
        page1 = query(limit=3)
        self.assertEqual(stamps_of(page1), [2, 5, 10])
        self.assertEqual(tt.attrs(page1.last_evaluated_key), {"device": "dev-A", "ts": 10})
        page2 = query(limit=3, exclusive_start_key=page1.last_evaluated_key)
        self.assertEqual(stamps_of(page2), [20])
        pages, start, seen = 0, {}, []
        while True:
            p = query(limit=1, exclusive_start_key=start)
            pages += 1
            seen.extend(stamps_of(p))
            start = p.last_evaluated_key
            if not start:
                break
            self.assertLess(pages, 20, "pagination does not end")
        self.assertEqual(seen, [2, 5, 10, 20])
        # Backward pagination.
        back1 = query(limit=2, scan_index_forward=False)
        self.assertEqual(stamps_of(back1), [20, 10])
        back2 = query(limit=2, scan_index_forward=False,
                      exclusive_start_key=back1.last_evaluated_key)
        self.assertEqual(stamps_of(back2), [5, 2])

        # Filter: read 4, return the hot ones.
        f = query(filter_expression="hot = :yes", values={":yes": tt.av(True)})
        self.assertEqual(stamps_of(f), [10, 20])
        self.assertEqual((f.count, f.scanned_count), (2, 4))

        # Select COUNT.
        c = query(select=pb.SELECT_COUNT)
        self.assertEqual((c.count, len(c.items)), (4, 0))

        # Range conditions on the number key: < and >=, and the other device.
        r = self.stub.Query(pb.QueryRequest(
            table_name="readings", key_condition_expression="device = :d AND ts < :x",
            expression_attribute_values={":d": tt.av("dev-B"), ":x": tt.N("10")}), timeout=T)
        self.assertEqual(stamps_of(r), [1, 2, 5])
        r = self.stub.Query(pb.QueryRequest(
            table_name="readings", key_condition_expression="device = :d AND ts >= :x",
            expression_attribute_values={":d": tt.av("dev-B"), ":x": tt.N("1e1")}), timeout=T)
        self.assertEqual(stamps_of(r), [10, 20, 100])
        r = self.stub.Query(pb.QueryRequest(
            table_name="readings", key_condition_expression="device = :d",
            projection_expression="ts",
            expression_attribute_values={":d": tt.av("dev-B")}), timeout=T)
        self.assertEqual([tt.attrs(i) for i in r.items], [{"ts": s} for s in stamps])

    def test_unknown_table(self):
        err = tt.call_error(self.stub.GetItem, self.pb.GetItemRequest(
            table_name="no-such-table", key=tt.item(k="x")))
        self.assertEqual(err.code, grpc.StatusCode.NOT_FOUND, err)
        self.assertIn("ResourceNotFoundException", err.reasons, err)


if __name__ == "__main__":
    unittest.main()
