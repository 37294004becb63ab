#!/usr/bin/python3
"""Crash test of the tables service: under a write load, `kill -9` the server
several times, restart it on the same data directory, and check that every
acknowledged put is readable and that no conditional update was applied twice.

Writers put items with unique keys under `attribute_not_exists(#k)` and
increment their own counter item with `SET c = c + :one` under `c = :expected`.
A put or increment is recorded as acknowledged only after its RPC returned OK;
one whose RPC failed (the kill landed during it) is `in flight`: it may or may
not have been applied. At the end, for each counter:
acknowledged <= value <= acknowledged + in flight.

Run: PYTHONPATH=tests/python /usr/bin/python3 -m unittest -v tests/integration/test_tables_crash.py
"""

import os
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "python"))

import grpc  # noqa: E402

import thingtank_testing as tt  # noqa: E402

TABLE = "crash-t"
ROUNDS = 3
PUTS_PER_ROUND = 1000
WRITERS = 3
CALL_TIMEOUT_S = 10
def counter_key(index):
    return "ctr-%d" % index


class Load(tt.CrashLoad):
    """Writer threads. Each thread owns one counter item, so it knows the value
    the counter should have; after a failed increment it re-reads the counter
    from the restarted server before going on."""

    WORKER = "writer"

    def __init__(self, pb):
        super().__init__(pb, WRITERS)  # acked, unsure: keys of puts
        self.seq = [0] * WRITERS
        self.incr_acked = [0] * WRITERS      # acknowledged increments per counter
        self.incr_unsure = [0] * WRITERS     # increments in flight at a kill

    def work(self, index, channel):
        pb = self.pb
        stub = tt.tables_pb2_grpc.TablesServiceStub(channel)
        # The counter's value as this (restarted) server has it.
        try:
            got = stub.GetItem(pb.GetItemRequest(
                table_name=TABLE, key=tt.item(k=counter_key(index)), consistent_read=True),
                timeout=CALL_TIMEOUT_S, wait_for_ready=True)
            expected = int(got.item["c"].n)
        except grpc.RpcError as e:
            self.failed("read counter", e)
            return
        while not self.stopped():
            key = "w%d-%06d" % (index, self.seq[index])
            self.seq[index] += 1
            try:
                stub.PutItem(pb.PutItemRequest(
                    table_name=TABLE, item=tt.item(k=key, writer=index, payload="p" + key),
                    condition_expression="attribute_not_exists(#k)",
                    expression_attribute_names={"#k": "k"}), timeout=CALL_TIMEOUT_S)
            except grpc.RpcError as e:
                self.failed("put " + key, e, unsure=key)
                return  # wait for the restarted server
            self.ack(key)
            try:
                stub.UpdateItem(pb.UpdateItemRequest(
                    table_name=TABLE, key=tt.item(k=counter_key(index)),
                    update_expression="SET c = c + :one",
                    condition_expression="c = :expected",
                    expression_attribute_values={":one": tt.N(1),
                                                 ":expected": tt.N(expected)}),
                    timeout=CALL_TIMEOUT_S)
            except grpc.RpcError as e:
                with self.cond:
                    self.incr_unsure[index] += 1
                self.failed("increment %s from %d" % (counter_key(index), expected), e)
                return
            expected += 1
            with self.cond:
                self.incr_acked[index] += 1


class TablesCrashTest(unittest.TestCase):
    def test_kill9_under_load_keeps_acknowledged_writes(self):
        tt.require_build("tables")
        pb = tt.tables_pb2
        started = time.monotonic()
        server, channel = tt.start_crash_server(self)
        stub = tt.tables_pb2_grpc.TablesServiceStub(channel)
        tt.create_table(stub, TABLE, ("k", "S"))
        for i in range(WRITERS):
            stub.PutItem(pb.PutItemRequest(table_name=TABLE, item=tt.item(k=counter_key(i), c=0)),
                         timeout=tt.CALL_DEADLINE_S)

        load = Load(pb)
        tt.start_crash_load(self, load, server)
        for round_no in range(ROUNDS):
            target = load.acked_count() + PUTS_PER_ROUND
            tt.wait_until(lambda: load.acked_count() >= target, tt.START_DEADLINE_S,
                          "%d puts acknowledged in round %d" % (PUTS_PER_ROUND, round_no))
            channel = tt.kill_and_restart(server, load, channel, resume=round_no < ROUNDS - 1)
            stub = tt.tables_pb2_grpc.TablesServiceStub(channel)
        load.stop()
        self.assertEqual(load.errors, [], "unexpected errors")

        # Every item, by scan.
        found = {}
        start, pages = {}, 0
        while True:
            r = stub.Scan(pb.ScanRequest(table_name=TABLE, exclusive_start_key=start,
                                         consistent_read=True), timeout=tt.CALL_DEADLINE_S)
            pages += 1
            for i in r.items:
                a = tt.attrs(i)
                self.assertNotIn(a["k"], found, "scan returned a key twice")
                found[a["k"]] = a
            start = r.last_evaluated_key
            if not start:
                break
            self.assertLess(pages, 10000)
        counters = {counter_key(i): found.pop(counter_key(i), None) for i in range(WRITERS)}
        acked, unsure = set(load.acked), set(load.unsure)
        lost = sorted(acked - set(found))
        unknown = sorted(set(found) - acked - unsure)
        bad_content = [k for k, a in found.items()
                       if a != {"k": k, "writer": int(k[1]), "payload": "p" + k}]
        # GetItem agrees with the scan for the acknowledged puts (a sample).
        for key in sorted(acked)[::50]:
            got = stub.GetItem(pb.GetItemRequest(table_name=TABLE, key=tt.item(k=key)),
                               timeout=tt.CALL_DEADLINE_S)
            self.assertEqual(tt.attrs(got.item).get("k"), key)
        # A put-if-absent of an acknowledged key fails: it is there exactly once.
        for key in sorted(acked)[::97]:
            err = tt.call_error(stub.PutItem, pb.PutItemRequest(
                table_name=TABLE, item=tt.item(k=key), condition_expression="attribute_not_exists(k)"))
            self.assertEqual(err.code, grpc.StatusCode.FAILED_PRECONDITION, err)
        item_count = stub.DescribeTable(pb.DescribeTableRequest(table_name=TABLE),
                                        timeout=tt.CALL_DEADLINE_S).table.item_count
        channel.close()
        server.stop(check=True)

        values = []
        for i in range(WRITERS):
            c = counters[counter_key(i)]
            values.append(None if c is None else c.get("c"))
        print("\ntables crash test: %d rounds, %d puts acknowledged, %d in flight at kills "
              "(%d of them stored), %d lost; counters %r, acknowledged increments %r, in flight %r;"
              " %.1f s" % (ROUNDS, len(acked), len(unsure), len(unsure & set(found)), len(lost),
                           values, load.incr_acked, load.incr_unsure, time.monotonic() - started),
              file=sys.stderr)
        self.assertEqual(len(acked), len(load.acked), "a key was acknowledged twice")
        self.assertEqual(lost, [], "%d acknowledged puts lost" % len(lost))
        self.assertEqual(unknown, [], "items that were never written")
        self.assertEqual(bad_content, [], "items with wrong attributes")
        self.assertEqual(item_count, len(found) + WRITERS, "DescribeTable item_count")
        for i in range(WRITERS):
            value = values[i]
            self.assertIsNotNone(value, "counter %d lost" % i)
            self.assertGreaterEqual(value, load.incr_acked[i],
                                    "counter %d lost acknowledged increments" % i)
            self.assertLessEqual(value, load.incr_acked[i] + load.incr_unsure[i],
                                 "counter %d: an increment applied twice" % i)


if __name__ == "__main__":
    unittest.main()
