#!/usr/bin/python3
"""Integration tests of the tables service through the gateway, with the Python
client generated from proto/, in monolithic mode (one process) and in
microservice mode (a tables process and a gateway process forwarding to it).

Run: PYTHONPATH=tests/python /usr/bin/python3 -m unittest -v tests/integration/test_tables_gateway.py
"""

import math
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "python"))

import grpc  # noqa: E402

import thingtank_testing as tt  # noqa: E402

T = tt.CALL_DEADLINE_S
TABLES_SERVICE = "thingtank.tables.v1.TablesService"


class _GatewayTests:
    """The tests; subclasses choose the deployment mode."""

    MODE = None

    @classmethod
    def setUpClass(cls):
        tt.require_build("tables")
        deployment = tt.Deployment(cls.MODE, service="tables")
        cls.addClassCleanup(deployment.cleanup)
        cls.deployment = deployment
        cls.pb = tt.tables_pb2

    @classmethod
    def tearDownClass(cls):
        cls.deployment.stop()

    def setUp(self):
        self.stub = self.deployment.tables_stub()

    # -- helpers ------------------------------------------------------------

    def put(self, table, condition="", names=None, values=None, **attrs):
        return self.stub.PutItem(self.pb.PutItemRequest(
            table_name=table, item=tt.item(**attrs), condition_expression=condition,
            expression_attribute_names=names or {}, expression_attribute_values=values or {}),
            timeout=T)

    def get(self, table, **key):
        return tt.attrs(self.stub.GetItem(self.pb.GetItemRequest(
            table_name=table, key=tt.item(**key), consistent_read=True), timeout=T).item)

    def update(self, table, key, expression, values=None, names=None, condition="",
               return_values=None):
        return self.stub.UpdateItem(self.pb.UpdateItemRequest(
            table_name=table, key=tt.item(**key), update_expression=expression,
            condition_expression=condition, expression_attribute_names=names or {},
            expression_attribute_values={k: tt.av(v) for k, v in (values or {}).items()},
            return_values=return_values or self.pb.RETURN_VALUE_NONE), timeout=T)

    def metrics(self):
        return tt.http_get(self.deployment.service_metrics_port, "/metrics")[1]

    def metric(self, name, text=None, **labels):
        return tt.metric_sum(text if text is not None else self.metrics(), name, **labels)

    def scan_all(self, table, **kw):
        """Every item of a Scan, following last_evaluated_key."""
        items, start, pages = [], {}, 0
        while True:
            r = self.stub.Scan(self.pb.ScanRequest(table_name=table, exclusive_start_key=start,
                                                   **kw), timeout=T)
            pages += 1
            items.extend(tt.attrs(i) for i in r.items)
            start = r.last_evaluated_key
            if not start:
                return items
            self.assertLess(pages, 1000, "scan pagination does not end")

    # -- tests --------------------------------------------------------------

    def test_table_lifecycle_and_listing(self):
        pb = self.pb
        for name in ("life-c", "life-a", "life-b"):
            tt.create_table(self.stub, name, ("k", "S"))
        err = tt.call_error(self.stub.CreateTable, pb.CreateTableRequest(
            table_name="life-a", key_schema=tt.key_schema("k", "S")[0],
            attribute_definitions=tt.key_schema("k", "S")[1],
            billing_mode=pb.BILLING_MODE_PAY_PER_REQUEST))
        self.assertEqual(err.code, grpc.StatusCode.ALREADY_EXISTS, err)
        self.assertIn("ResourceInUseException", err.reasons, err)
        # Pagination: every name once, in order.
        names, token, pages = [], "", 0
        while True:
            r = self.stub.ListTables(pb.ListTablesRequest(page_size=2, page_token=token),
                                     timeout=T)
            self.assertLessEqual(len(r.table_names), 2)
            names.extend(r.table_names)
            pages += 1
            token = r.next_page_token
            if not token:
                break
            self.assertLess(pages, 1000)
        self.assertEqual(names, sorted(set(names)))
        self.assertTrue({"life-a", "life-b", "life-c"} <= set(names), names)

        self.put("life-a", k="x", v=1)
        d = self.stub.DeleteTable(pb.DeleteTableRequest(table_name="life-a"), timeout=T)
        self.assertEqual(d.table_description.table_status, pb.TABLE_STATUS_DELETING)

        def gone():
            try:
                self.stub.DescribeTable(pb.DescribeTableRequest(table_name="life-a"), timeout=T)
                return False
            except grpc.RpcError as e:
                self.assertEqual(e.code(), grpc.StatusCode.NOT_FOUND)
                return True
        tt.wait_until(gone, T, "the deleted table to disappear")
        err = tt.call_error(self.stub.GetItem, pb.GetItemRequest(table_name="life-a",
                                                                 key=tt.item(k="x")))
        self.assertEqual(err.code, grpc.StatusCode.NOT_FOUND, err)
        self.assertIn("ResourceNotFoundException", err.reasons, err)
        self.assertNotIn("life-a", self.stub.ListTables(pb.ListTablesRequest(),
                                                        timeout=T).table_names)
        # Re-created under the same name: empty.
        tt.create_table(self.stub, "life-a", ("k", "S"))
        self.assertEqual(self.get("life-a", k="x"), {})
        self.assertEqual(self.scan_all("life-a"), [])

    def test_update_item_expressions(self):
        pb = self.pb
        tt.create_table(self.stub, "upd-t", ("pk", "S"))
        self.stub.PutItem(pb.PutItemRequest(table_name="upd-t", item={
            "pk": tt.av("u1"), "n": tt.N(5), "tags": tt.SS("a", "b"), "lst": tt.av([1]),
            "gone": tt.av("x"), "nums": tt.NS(1, 2)}), timeout=T)

        r = self.update("upd-t", {"pk": "u1"},
                        "SET n = n + :two, m = if_not_exists(m, :zero), "
                        "lst = list_append(lst, :more), newattr = :s "
                        "REMOVE gone ADD cnt :one, tags :c DELETE nums :del",
                        values={":two": 2, ":zero": 0, ":more": [2, 3], ":s": "hi", ":one": 1,
                                ":c": tt.SS("c"), ":del": tt.NS(1)},
                        return_values=pb.RETURN_VALUE_ALL_NEW)
        expected = {"pk": "u1", "n": 7, "m": 0, "lst": [1, 2, 3], "newattr": "hi", "cnt": 1,
                    "tags": ("SS", "a", "b", "c"), "nums": ("NS", "2")}
        self.assertEqual(tt.attrs(r.attributes), expected)
        self.assertEqual(self.get("upd-t", pk="u1"), expected)

        # UPDATED_OLD: only the attributes the expression touched, as they were.
        r = self.update("upd-t", {"pk": "u1"}, "SET n = n - :three REMOVE newattr ADD cnt :one",
                        values={":three": 3, ":one": 1},
                        return_values=pb.RETURN_VALUE_UPDATED_OLD)
        self.assertEqual(tt.attrs(r.attributes), {"n": 7, "newattr": "hi", "cnt": 1})
        r = self.update("upd-t", {"pk": "u1"}, "SET m = if_not_exists(m, :ten)",
                        values={":ten": 10}, return_values=pb.RETURN_VALUE_ALL_NEW)
        self.assertEqual(tt.attrs(r.attributes)["m"], 0, "if_not_exists kept the existing value")
        self.assertEqual(tt.attrs(r.attributes)["n"], 4)
        self.assertEqual(tt.attrs(r.attributes)["cnt"], 2)
        self.assertNotIn("newattr", tt.attrs(r.attributes))

        # DELETE of every member of a set removes the attribute.
        self.update("upd-t", {"pk": "u1"}, "DELETE tags :all",
                    values={":all": tt.SS("a", "b", "c")})
        self.assertNotIn("tags", self.get("upd-t", pk="u1"))

        # UpdateItem creates an absent item; if_not_exists inside arithmetic.
        r = self.update("upd-t", {"pk": "u2"}, "SET c = if_not_exists(c, :zero) + :one",
                        values={":zero": 0, ":one": 1}, return_values=pb.RETURN_VALUE_ALL_NEW)
        self.assertEqual(tt.attrs(r.attributes), {"pk": "u2", "c": 1})
        r = self.update("upd-t", {"pk": "u2"}, "SET c = if_not_exists(c, :zero) + :one",
                        values={":zero": 0, ":one": 1}, return_values=pb.RETURN_VALUE_UPDATED_NEW)
        self.assertEqual(tt.attrs(r.attributes), {"c": 2})

        # Exact decimal arithmetic: 0.1 + 0.2 is 0.3, not 0.30000000000000004.
        r = self.update("upd-t", {"pk": "u3"}, "SET f = :a + :b",
                        values={":a": tt.N("0.1"), ":b": tt.N("0.2")},
                        return_values=pb.RETURN_VALUE_ALL_NEW)
        self.assertEqual(r.attributes["f"].n, "0.3")
        # list_append prepending, and a nested path.
        r = self.update("upd-t", {"pk": "u3"},
                        "SET l = list_append(:front, if_not_exists(l, :empty)), #m = :map",
                        names={"#m": "map"},
                        values={":front": ["z"], ":empty": [], ":map": {"inner": 1}},
                        return_values=pb.RETURN_VALUE_ALL_NEW)
        self.assertEqual(tt.attrs(r.attributes)["l"], ["z"])
        r = self.update("upd-t", {"pk": "u3"}, "SET #m.#i = #m.#i + :one",
                        names={"#m": "map", "#i": "inner"}, values={":one": 1},
                        return_values=pb.RETURN_VALUE_ALL_NEW)
        self.assertEqual(tt.attrs(r.attributes)["map"], {"inner": 2})

        # The key cannot be updated.
        err = tt.call_error(self.stub.UpdateItem, pb.UpdateItemRequest(
            table_name="upd-t", key=tt.item(pk="u1"), update_expression="SET pk = :v",
            expression_attribute_values=tt.item(**{":v": "other"})))
        self.assertEqual(err.code, grpc.StatusCode.INVALID_ARGUMENT, err)

    def test_condition_expressions(self):
        pb = self.pb
        tt.create_table(self.stub, "cond-t", ("pk", "S"))
        # Put-if-absent.
        self.put("cond-t", condition="attribute_not_exists(pk)", pk="c1", v=1,
                 tags=tt.SS("x", "y"))
        err = tt.call_error(self.stub.PutItem, pb.PutItemRequest(
            table_name="cond-t", item=tt.item(pk="c1", v=2),
            condition_expression="attribute_not_exists(pk)"))
        self.assertEqual(err.code, grpc.StatusCode.FAILED_PRECONDITION, err)
        self.assertIn("ConditionalCheckFailedException", err.reasons, err)
        self.assertEqual(self.get("cond-t", pk="c1"), {"pk": "c1", "v": 1,
                                                       "tags": ("SS", "x", "y")})

        # Failed condition on UpdateItem and DeleteItem: nothing changes.
        err = tt.call_error(self.stub.UpdateItem, pb.UpdateItemRequest(
            table_name="cond-t", key=tt.item(pk="c1"), update_expression="SET v = :new",
            condition_expression="v = :expected",
            expression_attribute_values=tt.item(**{":new": 100, ":expected": 2})))
        self.assertEqual(err.code, grpc.StatusCode.FAILED_PRECONDITION, err)
        self.assertIn("ConditionalCheckFailedException", err.reasons, err)
        err = tt.call_error(self.stub.DeleteItem, pb.DeleteItemRequest(
            table_name="cond-t", key=tt.item(pk="c1"), condition_expression="attribute_exists(nope)"))
        self.assertEqual(err.code, grpc.StatusCode.FAILED_PRECONDITION, err)
        self.assertEqual(self.get("cond-t", pk="c1")["v"], 1)

        # A condition using every kind of operator, which holds.
        values = tt.item(**{":a": 0, ":b": 5, ":p": "c", ":big": 100, ":z": "z", ":one": 1,
                            ":ntype": "N", ":x": "x", ":sz": 2})
        r = self.stub.UpdateItem(pb.UpdateItemRequest(
            table_name="cond-t", key=tt.item(pk="c1"), update_expression="SET v = v + :one",
            condition_expression="v BETWEEN :a AND :b AND (begins_with(pk, :p) OR size(pk) > :big)"
                                 " AND NOT contains(tags, :z) AND contains(tags, :x)"
                                 " AND v IN (:a, :one) AND attribute_type(v, :ntype)"
                                 " AND attribute_exists(#t) AND size(#t) = :sz"
                                 " OR pk = :z",
            expression_attribute_names={"#t": "tags"}, expression_attribute_values=values,
            return_values=pb.RETURN_VALUE_UPDATED_NEW), timeout=T)
        self.assertEqual(tt.attrs(r.attributes), {"v": 2})
        # Conditional delete that holds.
        r = self.stub.DeleteItem(pb.DeleteItemRequest(
            table_name="cond-t", key=tt.item(pk="c1"), condition_expression="v >= :two",
            expression_attribute_values=tt.item(**{":two": 2}),
            return_values=pb.RETURN_VALUE_ALL_OLD), timeout=T)
        self.assertEqual(tt.attrs(r.attributes)["v"], 2)
        self.assertEqual(self.get("cond-t", pk="c1"), {})

    def test_condition_expressions_arithmetic_is_not_allowed(self):
        # (DynamoDB: arithmetic only in update expressions' SET.) Kept separate
        # from the test above so that a server accepting it is reported alone.
        pb = self.pb
        tt.create_table(self.stub, "cond-arith-t", ("pk", "S"))
        self.put("cond-arith-t", pk="a", v=1)
        err = tt.call_error(self.stub.PutItem, pb.PutItemRequest(
            table_name="cond-arith-t", item=tt.item(pk="a", v=2),
            condition_expression="v = :one + :one",
            expression_attribute_values=tt.item(**{":one": 1})))
        self.assertEqual(err.code, grpc.StatusCode.INVALID_ARGUMENT, err)

    def test_scan_filter_and_parallel_segments(self):
        pb = self.pb
        tt.create_table(self.stub, "scan-t", ("id", "N"))
        n = 60
        for start in range(0, n, 25):
            self.stub.BatchWriteItem(pb.BatchWriteItemRequest(request_items={
                "scan-t": pb.WriteRequestList(requests=[
                    pb.WriteRequest(put_request=pb.PutRequest(item=tt.item(
                        id=i, even=(i % 2 == 0), body="item %d" % i)))
                    for i in range(start, min(n, start + 25))])}), timeout=T)
        everything = self.scan_all("scan-t", limit=7)
        self.assertEqual(sorted(i["id"] for i in everything), list(range(n)))

        r = self.stub.Scan(pb.ScanRequest(
            table_name="scan-t", filter_expression="even = :t AND id < :lim",
            expression_attribute_values=tt.item(**{":t": True, ":lim": 20})), timeout=T)
        self.assertEqual(sorted(tt.attrs(i)["id"] for i in r.items), list(range(0, 20, 2)))
        self.assertEqual((r.count, r.scanned_count), (10, n))
        c = self.stub.Scan(pb.ScanRequest(table_name="scan-t", select=pb.SELECT_COUNT), timeout=T)
        self.assertEqual((c.count, len(c.items)), (n, 0))

        for total in (1, 3, 4, 7):
            segments = [sorted(i["id"] for i in self.scan_all(
                "scan-t", segment=s, total_segments=total, limit=5)) for s in range(total)]
            union = [i for seg in segments for i in seg]
            self.assertEqual(len(union), len(set(union)), "segments overlap: %r" % segments)
            self.assertEqual(sorted(union), list(range(n)), "total_segments=%d" % total)
            if total == 4:
                self.assertGreaterEqual(sum(1 for seg in segments if seg), 2,
                                        "parallel scan put everything in one segment")
        # Parallel scan with a filter.
        filtered = []
        for s in range(3):
            filtered.extend(i["id"] for i in self.scan_all(
                "scan-t", segment=s, total_segments=3, filter_expression="even = :f",
                expression_attribute_values=tt.item(**{":f": False})))
        self.assertEqual(sorted(filtered), list(range(1, n, 2)))

    def test_batch_write_and_get(self):
        pb = self.pb
        tt.create_table(self.stub, "batch-t", ("k", "S"), ("r", "N"))
        puts = [pb.WriteRequest(put_request=pb.PutRequest(item=tt.item(k="k%02d" % i, r=i, v="v%d" % i)))
                for i in range(25)]
        w = self.stub.BatchWriteItem(pb.BatchWriteItemRequest(
            request_items={"batch-t": pb.WriteRequestList(requests=puts)},
            return_consumed_capacity=pb.RETURN_CONSUMED_CAPACITY_TOTAL), timeout=T)
        self.assertEqual(len(w.unprocessed_items), 0)
        self.assertEqual([(c.table_name, c.write_capacity_units) for c in w.consumed_capacity],
                         [("batch-t", 25)])
        keys = [tt.item(k="k%02d" % i, r=i) for i in range(25)]
        g = self.stub.BatchGetItem(pb.BatchGetItemRequest(request_items={
            "batch-t": pb.KeysAndAttributes(keys=[pb.Item(attributes=k) for k in keys]
                                            + [pb.Item(attributes=tt.item(k="absent", r=0))],
                                            consistent_read=True)}), timeout=T)
        self.assertEqual(len(g.unprocessed_keys), 0)
        got = sorted((tt.attrs(i) for i in g.responses["batch-t"].items), key=lambda a: a["r"])
        self.assertEqual(got, [{"k": "k%02d" % i, "r": i, "v": "v%d" % i} for i in range(25)])

        # Mixed puts and deletes; a projection on the read.
        mixed = [pb.WriteRequest(delete_request=pb.DeleteRequest(key=tt.item(k="k%02d" % i, r=i)))
                 for i in range(5)]
        mixed += [pb.WriteRequest(put_request=pb.PutRequest(item=tt.item(k="new", r=i, v="n")))
                  for i in range(5)]
        w = self.stub.BatchWriteItem(pb.BatchWriteItemRequest(
            request_items={"batch-t": pb.WriteRequestList(requests=mixed)}), timeout=T)
        self.assertEqual(len(w.unprocessed_items), 0)
        g = self.stub.BatchGetItem(pb.BatchGetItemRequest(request_items={
            "batch-t": pb.KeysAndAttributes(
                keys=[pb.Item(attributes=tt.item(k="k%02d" % i, r=i)) for i in range(10)]
                + [pb.Item(attributes=tt.item(k="new", r=i)) for i in range(5)],
                projection_expression="r")}), timeout=T)
        got = sorted(tt.attrs(i)["r"] for i in g.responses["batch-t"].items)
        self.assertEqual(got, [0, 1, 2, 3, 4] + list(range(5, 10)))
        self.assertTrue(all(set(tt.attrs(i)) == {"r"} for i in g.responses["batch-t"].items))
        self.assertEqual(self.stub.DescribeTable(pb.DescribeTableRequest(table_name="batch-t"),
                                                 timeout=T).table.item_count, 25)

    def test_transact_write_all_or_nothing_and_idempotent(self):
        pb = self.pb
        tt.create_table(self.stub, "tx-t", ("k", "S"))
        self.put("tx-t", k="acct", bal=10)
        failing = [
            pb.TransactWriteItem(update=pb.TransactUpdate(
                table_name="tx-t", key=tt.item(k="acct"), update_expression="SET bal = bal - :five",
                condition_expression="bal >= :five",
                expression_attribute_values=tt.item(**{":five": 5}))),
            pb.TransactWriteItem(put=pb.TransactPut(table_name="tx-t",
                                                    item=tt.item(k="other", bal=5))),
            pb.TransactWriteItem(condition_check=pb.ConditionCheck(
                table_name="tx-t", key=tt.item(k="missing"),
                condition_expression="attribute_exists(k)")),
        ]
        err = tt.call_error(self.stub.TransactWriteItems,
                            pb.TransactWriteItemsRequest(transact_items=failing))
        self.assertEqual(err.code, grpc.StatusCode.ABORTED, err)
        self.assertIn("TransactionCanceledException", err.reasons, err)
        self.assertIn("ConditionalCheckFailed", err.message, err)
        self.assertEqual(self.get("tx-t", k="acct"), {"k": "acct", "bal": 10})
        self.assertEqual(self.get("tx-t", k="other"), {})

        # The same transfer with the condition check satisfied commits entirely.
        self.put("tx-t", k="missing", x=1)
        self.stub.TransactWriteItems(pb.TransactWriteItemsRequest(transact_items=failing),
                                     timeout=T)
        self.assertEqual(self.get("tx-t", k="acct")["bal"], 5)
        self.assertEqual(self.get("tx-t", k="other"), {"k": "other", "bal": 5})

        # Idempotency: the same token twice applies once; another token applies again.
        incr = [pb.TransactWriteItem(update=pb.TransactUpdate(
            table_name="tx-t", key=tt.item(k="counter"),
            update_expression="SET c = if_not_exists(c, :zero) + :one",
            expression_attribute_values=tt.item(**{":zero": 0, ":one": 1}))),
            pb.TransactWriteItem(delete=pb.TransactDelete(table_name="tx-t",
                                                          key=tt.item(k="missing")))]
        for _ in range(2):
            self.stub.TransactWriteItems(pb.TransactWriteItemsRequest(
                transact_items=incr, client_request_token="token-1"), timeout=T)
        self.assertEqual(self.get("tx-t", k="counter")["c"], 1)
        self.assertEqual(self.get("tx-t", k="missing"), {})
        self.stub.TransactWriteItems(pb.TransactWriteItemsRequest(
            transact_items=incr[:1], client_request_token="token-2"), timeout=T)
        self.assertEqual(self.get("tx-t", k="counter")["c"], 2)
        # The same token with different actions: IdempotentParameterMismatch.
        err = tt.call_error(self.stub.TransactWriteItems, pb.TransactWriteItemsRequest(
            transact_items=incr[:1], client_request_token="token-1"))
        self.assertEqual(err.code, grpc.StatusCode.INVALID_ARGUMENT, err)
        self.assertIn("IdempotentParameterMismatchException", err.reasons, err)
        self.assertEqual(self.get("tx-t", k="counter")["c"], 2)

    def test_transact_get(self):
        pb = self.pb
        tt.create_table(self.stub, "txg-t", ("k", "S"))
        tt.create_table(self.stub, "txg-u", ("id", "N"))
        self.put("txg-t", k="a", v=1, extra="e")
        self.put("txg-u", id=7, w="seven")
        r = self.stub.TransactGetItems(pb.TransactGetItemsRequest(transact_items=[
            pb.TransactGetItem(get=pb.TransactGet(table_name="txg-t", key=tt.item(k="a"))),
            pb.TransactGetItem(get=pb.TransactGet(table_name="txg-t", key=tt.item(k="none"))),
            pb.TransactGetItem(get=pb.TransactGet(table_name="txg-u", key=tt.item(id=7),
                                                  projection_expression="#w",
                                                  expression_attribute_names={"#w": "w"})),
        ], return_consumed_capacity=pb.RETURN_CONSUMED_CAPACITY_TOTAL), timeout=T)
        self.assertEqual([tt.attrs(i) for i in r.responses],
                         [{"k": "a", "v": 1, "extra": "e"}, {}, {"w": "seven"}])
        self.assertEqual(sorted(c.table_name for c in r.consumed_capacity), ["txg-t", "txg-u"])

    def test_time_to_live(self):
        pb = self.pb
        tt.create_table(self.stub, "ttl-t", ("k", "S"))
        r = self.stub.UpdateTimeToLive(pb.UpdateTimeToLiveRequest(
            table_name="ttl-t", time_to_live_specification=pb.TimeToLiveSpecification(
                enabled=True, attribute_name="expires")), timeout=T)
        self.assertEqual((r.time_to_live_specification.enabled,
                          r.time_to_live_specification.attribute_name), (True, "expires"))
        d = self.stub.DescribeTimeToLive(pb.DescribeTimeToLiveRequest(table_name="ttl-t"),
                                         timeout=T).time_to_live_description
        self.assertEqual((d.time_to_live_status, d.attribute_name),
                         (pb.TIME_TO_LIVE_STATUS_ENABLED, "expires"))
        deleted_before = self.metric("thingtank_tables_ttl_deleted_items_total")
        now = int(time.time())
        self.put("ttl-t", k="old", expires=now - 100)
        self.put("ttl-t", k="fresh", expires=now + 3600)
        self.put("ttl-t", k="forever")
        self.put("ttl-t", k="not-a-number", expires="yesterday")
        # Gone from reads at once, swept or not.
        self.assertEqual(self.get("ttl-t", k="old"), {})
        self.assertEqual(self.get("ttl-t", k="fresh")["expires"], now + 3600)
        self.assertEqual(sorted(i["k"] for i in self.scan_all("ttl-t")),
                         ["forever", "fresh", "not-a-number"])
        # The sweeper deletes it and counts it.
        tt.wait_until(lambda: self.metric("thingtank_tables_ttl_deleted_items_total")
                      >= deleted_before + 1, T, "the TTL sweeper to delete the expired item")
        self.assertEqual(self.metric("thingtank_tables_ttl_deleted_items_total"),
                         deleted_before + 1)
        tt.wait_until(lambda: self.stub.DescribeTable(pb.DescribeTableRequest(
            table_name="ttl-t"), timeout=T).table.item_count == 3, T, "item_count 3")
        # Disabled: DescribeTimeToLive says so.
        self.stub.UpdateTimeToLive(pb.UpdateTimeToLiveRequest(
            table_name="ttl-t", time_to_live_specification=pb.TimeToLiveSpecification(
                enabled=False, attribute_name="expires")), timeout=T)
        d = self.stub.DescribeTimeToLive(pb.DescribeTimeToLiveRequest(table_name="ttl-t"),
                                         timeout=T).time_to_live_description
        self.assertEqual(d.time_to_live_status, pb.TIME_TO_LIVE_STATUS_DISABLED)

    def test_provisioned_throughput(self):
        pb = self.pb
        tt.create_table(self.stub, "thr-t", ("k", "S"), read_units=1, write_units=1)
        # Items of about 100 KB: 100 write units each, so the 300-second burst
        # allowance of a 1-unit table is spent after 3 or 4 of them.
        body = "x" * (100 * 1024 - 30)

        def big(i):
            return tt.item(k="big-%03d" % i, Body=body)
        size = len("k") + len("big-000") + len("Body") + len(body)
        units = math.ceil(size / 1024)
        throttled_before = self.metric("thingtank_tables_throttled_requests_total")
        write_before = self.metric("thingtank_tables_write_units_consumed_total")
        read_before = self.metric("thingtank_tables_read_units_consumed_total")

        r = self.stub.PutItem(pb.PutItemRequest(
            table_name="thr-t", item=big(0),
            return_consumed_capacity=pb.RETURN_CONSUMED_CAPACITY_TOTAL), timeout=T)
        c = r.consumed_capacity
        self.assertEqual((c.table_name, c.write_capacity_units, c.read_capacity_units,
                          c.capacity_units), ("thr-t", units, 0, units))
        g = self.stub.GetItem(pb.GetItemRequest(
            table_name="thr-t", key=tt.item(k="big-000"), consistent_read=True,
            return_consumed_capacity=pb.RETURN_CONSUMED_CAPACITY_TOTAL), timeout=T)
        self.assertEqual(g.consumed_capacity.read_capacity_units, math.ceil(size / 4096))
        g = self.stub.GetItem(pb.GetItemRequest(
            table_name="thr-t", key=tt.item(k="big-000"),
            return_consumed_capacity=pb.RETURN_CONSUMED_CAPACITY_TOTAL), timeout=T)
        self.assertEqual(g.consumed_capacity.read_capacity_units, math.ceil(size / 4096) / 2)
        self.stub.PutItem(pb.PutItemRequest(table_name="thr-t", item=tt.item(k="small")),
                          timeout=T)

        ok, throttles = 2, []
        for i in range(1, 20):
            try:
                self.stub.PutItem(pb.PutItemRequest(table_name="thr-t", item=big(i)), timeout=T)
                ok += 1
            except grpc.RpcError as e:
                throttles.append(tt.error_details(e))
                if len(throttles) >= 3:
                    break
        self.assertTrue(throttles, "no write was throttled")
        self.assertLessEqual(ok, 2 + math.ceil(300 / units) + 1,
                             "more writes admitted than the burst allowance")
        for err in throttles:
            self.assertEqual(err.code, grpc.StatusCode.RESOURCE_EXHAUSTED, err)
            self.assertIn("ProvisionedThroughputExceededException", err.reasons, err)
            self.assertEqual(len(err.retry_delays), 1, err)
            self.assertGreater(err.retry_delays[0], 0, err)
        text = self.metrics()
        self.assertEqual(self.metric("thingtank_tables_throttled_requests_total", text),
                         throttled_before + len(throttles))
        self.assertEqual(self.metric("thingtank_tables_write_units_consumed_total", text),
                         write_before + (ok - 1) * units + 1)
        self.assertEqual(self.metric("thingtank_tables_read_units_consumed_total", text),
                         read_before + math.ceil(size / 4096) * 1.5)

        # Raising the write units lets writes through again (polled: the debt is
        # paid by the refill at the new rate).
        u = self.stub.UpdateTable(pb.UpdateTableRequest(
            table_name="thr-t", provisioned_throughput=pb.ProvisionedThroughput(
                read_capacity_units=1, write_capacity_units=10000)), timeout=T)
        self.assertEqual(u.table_description.provisioned_throughput.write_capacity_units, 10000)
        tt.wait_table_active(self.stub, "thr-t")

        def put_ok():
            try:
                self.stub.PutItem(pb.PutItemRequest(table_name="thr-t", item=big(99)), timeout=T)
                return True
            except grpc.RpcError as e:
                if e.code() != grpc.StatusCode.RESOURCE_EXHAUSTED:
                    raise
                return False
        tt.wait_until(put_ok, T, "a write admitted after UpdateTable", interval=0.2)
        t = self.stub.DescribeTable(pb.DescribeTableRequest(table_name="thr-t"), timeout=T).table
        self.assertEqual(t.provisioned_throughput.write_capacity_units, 10000)

        # On-demand tables are never throttled.
        tt.create_table(self.stub, "thr-od", ("k", "S"))
        for i in range(12):
            self.stub.PutItem(pb.PutItemRequest(table_name="thr-od", item=big(i)), timeout=T)

    def test_consumed_capacity_only_when_asked(self):
        pb = self.pb
        tt.create_table(self.stub, "cap-t", ("k", "S"))
        r = self.stub.PutItem(pb.PutItemRequest(table_name="cap-t", item=tt.item(k="a")),
                              timeout=T)
        self.assertFalse(r.HasField("consumed_capacity"), r)
        g = self.stub.GetItem(pb.GetItemRequest(table_name="cap-t", key=tt.item(k="a")),
                              timeout=T)
        self.assertFalse(g.HasField("consumed_capacity"), g)
        q = self.stub.Query(pb.QueryRequest(
            table_name="cap-t", key_condition_expression="k = :a",
            expression_attribute_values=tt.item(**{":a": "a"})), timeout=T)
        self.assertFalse(q.HasField("consumed_capacity"), q)
        r = self.stub.PutItem(pb.PutItemRequest(
            table_name="cap-t", item=tt.item(k="a"),
            return_consumed_capacity=pb.RETURN_CONSUMED_CAPACITY_TOTAL), timeout=T)
        self.assertEqual((r.consumed_capacity.table_name, r.consumed_capacity.capacity_units),
                         ("cap-t", 1))

    def test_metrics(self):
        pb = self.pb
        tt.create_table(self.stub, "metrics-t", ("k", "S"))
        before = self.metrics()
        items = [{"k": "m%d" % i, "v": "value-%d" % i} for i in range(3)]
        for a in items:
            self.put("metrics-t", **a)
        for a in items[:2]:
            self.get("metrics-t", k=a["k"])          # consistent: 1 unit each
        err = tt.call_error(self.stub.PutItem, pb.PutItemRequest(
            table_name="metrics-t", item=tt.item(k="m0"),
            condition_expression="attribute_not_exists(k)"))
        self.assertEqual(err.code, grpc.StatusCode.FAILED_PRECONDITION, err)
        after = self.metrics()

        def delta(name):
            return tt.metric_sum(after, name) - tt.metric_sum(before, name)
        self.assertEqual(delta("thingtank_tables_conditional_check_failures_total"), 1)
        self.assertEqual(delta("thingtank_tables_read_units_consumed_total"), 2)
        self.assertEqual(delta("thingtank_tables_write_units_consumed_total"), 4,
                         "3 puts and 1 failed conditional put, 1 unit each")
        self.assertEqual(delta("thingtank_tables_throttled_requests_total"), 0)
        self.assertEqual(tt.metric_sum(after, "thingtank_tables_items", table="metrics-t"), 3)
        size = sum(len(k) + len(v) for a in items for k, v in a.items())
        self.assertEqual(tt.metric_sum(after, "thingtank_tables_size_bytes", table="metrics-t"),
                         size)
        self.stub.DeleteItem(pb.DeleteItemRequest(table_name="metrics-t", key=tt.item(k="m2")),
                             timeout=T)
        after = self.metrics()
        self.assertEqual(tt.metric_sum(after, "thingtank_tables_items", table="metrics-t"), 2)
        self.assertEqual(tt.metric_sum(after, "thingtank_tables_size_bytes", table="metrics-t"),
                         size - len("k" "m2" "v" "value-2"))
        # The gateway counts the RPCs it forwarded.
        gw = tt.http_get(self.deployment.gateway_metrics_port, "/metrics")[1]
        self.assertGreater(tt.metric_sum(gw, "grpc_server_handled_total",
                                         grpc_service=TABLES_SERVICE), 0)

    def test_health(self):
        channel = self.deployment.channel
        tt.wait_until(lambda: tt.health_check(channel) == tt.SERVING, T, "overall health SERVING")
        tt.wait_until(lambda: tt.health_check(channel, TABLES_SERVICE) == tt.SERVING, T,
                      "%s health SERVING" % TABLES_SERVICE)
        for port in {self.deployment.gateway_metrics_port, self.deployment.service_metrics_port}:
            self.assertEqual(tt.http_get(port, "/healthz")[0], 200)

    def test_bad_input(self):
        pb = self.pb
        tt.create_table(self.stub, "bad-t", ("msgid", "S"), ("date", "S"))
        schema, defs = tt.key_schema("msgid", "S")
        good = tt.item(msgid="m", date="d")
        INVALID, VALIDATION = grpc.StatusCode.INVALID_ARGUMENT, "ValidationException"
        too_many_writes = pb.WriteRequestList(requests=[
            pb.WriteRequest(put_request=pb.PutRequest(item=tt.item(msgid="m%d" % i, date="d")))
            for i in range(26)])
        too_many_keys = pb.KeysAndAttributes(keys=[
            pb.Item(attributes=tt.item(msgid="m%d" % i, date="d")) for i in range(101)])
        # (name, method, request, code, reason, field, text the message must hold)
        cases = [
            ("name too short", self.stub.CreateTable, pb.CreateTableRequest(
                table_name="ab", key_schema=schema, attribute_definitions=defs,
                billing_mode=pb.BILLING_MODE_PAY_PER_REQUEST),
             INVALID, VALIDATION, "table_name", None),
            ("name with a space", self.stub.CreateTable, pb.CreateTableRequest(
                table_name="a b", key_schema=schema, attribute_definitions=defs,
                billing_mode=pb.BILLING_MODE_PAY_PER_REQUEST),
             INVALID, VALIDATION, "table_name", None),
            ("N value for an S key", self.stub.PutItem, pb.PutItemRequest(
                table_name="bad-t", item={"msgid": tt.N(1), "date": tt.av("d")}),
             INVALID, VALIDATION, "item.msgid", None),
            ("missing range key in put", self.stub.PutItem, pb.PutItemRequest(
                table_name="bad-t", item=tt.item(msgid="m", body="b")),
             INVALID, VALIDATION, "item", "date"),
            ("missing range key in get", self.stub.GetItem, pb.GetItemRequest(
                table_name="bad-t", key=tt.item(msgid="m")),
             INVALID, VALIDATION, "key", "date"),
            ("item over 400 KB", self.stub.PutItem, pb.PutItemRequest(
                table_name="bad-t", item=tt.item(msgid="m", date="d", Body="x" * (400 * 1024))),
             INVALID, VALIDATION, "item", "409600"),
            ("syntax error", self.stub.PutItem, pb.PutItemRequest(
                table_name="bad-t", item=good, condition_expression="msgid = = :v",
                expression_attribute_values=tt.item(**{":v": "m"})),
             INVALID, VALIDATION, "condition_expression", "position 8"),
            ("syntax error in an update", self.stub.UpdateItem, pb.UpdateItemRequest(
                table_name="bad-t", key=good, update_expression="SET a = :v,",
                expression_attribute_values=tt.item(**{":v": "m"})),
             INVALID, VALIDATION, "update_expression", "position 11"),
            ("missing :value", self.stub.PutItem, pb.PutItemRequest(
                table_name="bad-t", item=good, condition_expression="msgid = :nope"),
             INVALID, VALIDATION, "condition_expression", ":nope"),
            ("unused :value", self.stub.PutItem, pb.PutItemRequest(
                table_name="bad-t", item=good, condition_expression="attribute_exists(msgid)",
                expression_attribute_values=tt.item(**{":extra": 1})),
             INVALID, VALIDATION, "expression_attribute_values", ":extra"),
            ("unused #name", self.stub.Query, pb.QueryRequest(
                table_name="bad-t", key_condition_expression="msgid = :m",
                expression_attribute_names={"#unused": "x"},
                expression_attribute_values=tt.item(**{":m": "m"})),
             INVALID, VALIDATION, "expression_attribute_names", "#unused"),
            ("reserved word", self.stub.Query, pb.QueryRequest(
                table_name="bad-t", key_condition_expression="msgid = :m AND date > :d",
                expression_attribute_values=tt.item(**{":m": "m", ":d": "a"})),
             INVALID, VALIDATION, "key_condition_expression", "date"),
            ("26 batch writes", self.stub.BatchWriteItem, pb.BatchWriteItemRequest(
                request_items={"bad-t": too_many_writes}),
             INVALID, VALIDATION, "request_items", None),
            ("101 batch keys", self.stub.BatchGetItem, pb.BatchGetItemRequest(
                request_items={"bad-t": too_many_keys}),
             INVALID, VALIDATION, "request_items", None),
            ("unknown table", self.stub.PutItem, pb.PutItemRequest(
                table_name="no-such-table", item=good),
             grpc.StatusCode.NOT_FOUND, "ResourceNotFoundException", None, "no-such-table"),
            ("unknown table in describe", self.stub.DescribeTable, pb.DescribeTableRequest(
                table_name="no-such-table"),
             grpc.StatusCode.NOT_FOUND, "ResourceNotFoundException", None, None),
        ]
        for name, method, request, code, reason, field, text in cases:
            with self.subTest(name):
                err = tt.call_error(method, request)
                self.assertEqual(err.code, code, err)
                self.assertIn(reason, err.reasons, err)
                if field is not None:
                    self.assertEqual(err.fields, [field], err)
                if text is not None:
                    self.assertIn(text, err.message, err)
        # Nothing was written by the failed requests.
        self.assertEqual(self.stub.DescribeTable(pb.DescribeTableRequest(table_name="bad-t"),
                                                 timeout=T).table.item_count, 0)
        names = self.stub.ListTables(pb.ListTablesRequest(), timeout=T).table_names
        self.assertNotIn("ab", names)
        self.assertNotIn("a b", names)


class MonolithicGatewayTest(_GatewayTests, unittest.TestCase):
    MODE = tt.Deployment.MONOLITHIC


class MicroserviceGatewayTest(_GatewayTests, unittest.TestCase):
    MODE = tt.Deployment.MICROSERVICE


if __name__ == "__main__":
    unittest.main()
