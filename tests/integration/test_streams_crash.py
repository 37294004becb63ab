#!/usr/bin/python3
"""Crash test of the streams service (Kinesis): a writer puts records with
PutRecords (50 a call, 20 partition keys with per-key counters, over a stream
of 4 shards) while the server (monolithic: gateway and streams in one
process, its own data directory, limits off so the load is as heavy as the
box allows) is killed (`kill -9`) at a random moment and restarted on the same
data directory, 20 times.

After each restart (the writer paused), every shard is read from
TRIM_HORIZON:
  * every acknowledged record is present, with the shard and sequence number
    it was acknowledged with;
  * sequence numbers increase within each shard, and each key's counters
    increase in its shard's order;
  * every record is in the shard holding the MD5 of its partition key;
  * no record appears that was never sent, or that PutRecords answered as
    failed; a record appears at most once, except the records of the call
    in flight at a kill: the writer sends that call again once after the
    restart, so they may appear twice (at most as many times as sent).

Run: PYTHONPATH=tests/python /usr/bin/python3 -m unittest -v tests/integration/test_streams_crash.py
"""

import os
import random
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "python"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import grpc  # noqa: E402

import streams_testing as st  # noqa: E402
import thingtank_testing as tt  # noqa: E402

STREAM = "crash"
SHARDS = 4
KEYS = ["meter-%02d" % i for i in range(20)]
PER_CALL = 50
ROUNDS = 20
CALL_TIMEOUT_S = 10
# A kill lands after 1 to MAX_CALLS_BEFORE_KILL acknowledged calls of the
# round, plus up to MAX_EXTRA_DELAY_S: anywhere in a call or between calls.
MAX_CALLS_BEFORE_KILL = 4
MAX_EXTRA_DELAY_S = 0.03


def record_data(key, counter):
    return ("%s:%07d" % (key, counter)).encode()


def parse(data):
    key, counter = data.decode().rsplit(":", 1)
    return key, int(counter)


class StreamsWriter(tt.CrashLoad):
    """One writer thread. attempts {(key, counter): calls that may have
    written it}; acked {(key, counter): (shard_id, sequence_number)};
    refused: records PutRecords answered as failed (never written by that
    call); retry: the call in flight at the last kill, sent again once when
    the writer resumes."""

    WORKER = "writer"

    def __init__(self, pb):
        super().__init__(pb, workers=1)
        self.counters = {k: 0 for k in KEYS}
        self.next_key = 0
        self.attempts = {}
        self.acked_records = {}
        self.refused = set()
        self.calls_acked = 0
        self.retry = None
        self.retried_calls = 0

    def batch(self):
        out = []
        for _ in range(PER_CALL):
            key = KEYS[self.next_key % len(KEYS)]
            self.next_key += 1
            out.append((key, self.counters[key]))
            self.counters[key] += 1
        return out

    def calls(self):
        with self.cond:
            return self.calls_acked

    def _put(self, stub, batch):
        """One PutRecords of batch; returns False when the call failed."""
        pb = self.pb
        with self.cond:
            for r in batch:
                self.attempts[r] = self.attempts.get(r, 0) + 1
        request = pb.PutRecordsRequest(stream_name=STREAM, records=[
            pb.PutRecordsRequestEntry(partition_key=k, data=record_data(k, c)) for k, c in batch])
        try:
            response = stub.PutRecords(request, timeout=CALL_TIMEOUT_S)
        except grpc.RpcError as e:
            self.failed("PutRecords", e)
            return False
        with self.cond:
            if len(response.records) != len(batch):
                self.errors.append("PutRecords answered %d results for %d records"
                                   % (len(response.records), len(batch)))
            failed = 0
            for r, result in zip(batch, response.records):
                if result.error_code:
                    failed += 1
                    self.attempts[r] -= 1  # this call did not write it
                    self.refused.add(r)
                else:
                    self.acked_records[r] = (result.shard_id, result.sequence_number)
            if failed != response.failed_record_count:
                self.errors.append("failed_record_count %d, %d records failed"
                                   % (response.failed_record_count, failed))
            self.calls_acked += 1
            self.cond.notify_all()
        return True

    def work(self, index, channel):
        stub = st.stub(channel)
        if self.retry is not None:
            batch, self.retry = self.retry, None
            with self.cond:
                self.retried_calls += 1
            if not self._put(stub, batch):
                return  # sent twice now: no more retries
        while not self.stopped():
            batch = self.batch()
            if not self._put(stub, batch):
                self.retry = batch
                return


class StreamsCrashTest(unittest.TestCase):

    def test_kill9_under_put_records(self):
        pb, _ = st.load()
        seed = int(os.environ.get("THINGTANK_CRASH_SEED", time.time_ns() % 1000000))
        rng = random.Random(seed)
        print("\n  seed %d (THINGTANK_CRASH_SEED to repeat)" % seed)
        t_start = time.monotonic()
        server = tt.ServerProcess(["--services=gateway,streams", "--gateway-port", "0",
                                   "--metrics-port", "0", "--streams-limits=off"])
        self.addCleanup(server.cleanup)
        server.start(required=("gateway", "metrics"))
        channel = tt.ready_channel(server.ports["gateway"])
        stub = st.stub(channel)
        st.create_stream(stub, STREAM, SHARDS)
        shards = st.all_shards(stub, STREAM)
        self.assertEqual([st.shard_range(s) for s in shards], st.uniform_ranges(SHARDS))

        writer = StreamsWriter(pb)
        tt.start_crash_load(self, writer, server)
        restarts = []
        for round_ in range(ROUNDS):
            target = writer.calls() + rng.randint(1, MAX_CALLS_BEFORE_KILL)
            with writer.cond:
                ok = writer.cond.wait_for(lambda: writer.calls_acked >= target or writer.errors,
                                          tt.CALL_DEADLINE_S)
                self.assertEqual(writer.errors, [])
                self.assertTrue(ok, "round %d: the writer made no progress (%d calls)"
                                % (round_, writer.calls_acked))
            time.sleep(rng.uniform(0, MAX_EXTRA_DELAY_S))  # a random moment of the load
            t_kill = time.monotonic()
            channel = tt.kill_and_restart(server, writer, channel, resume=False)
            restarts.append(time.monotonic() - t_kill)
            self.verify(st.stub(channel), writer, shards, "after kill %d" % (round_ + 1))
            writer.set_server(server.ports["gateway"])
        writer.stop()
        self.assertEqual(writer.errors, [])
        twice = self.verify(st.stub(channel), writer, shards, "at the end")
        channel.close()
        elapsed = time.monotonic() - t_start
        print("  %d kills in %.1f s: %d calls acknowledged (%d records), %d sent again after a "
              "kill (%d records read twice), %d records refused; restart %.2f s median, "
              "%.2f s max"
              % (ROUNDS, elapsed, writer.calls_acked, len(writer.acked_records),
                 writer.retried_calls, twice, len(writer.refused),
                 sorted(restarts)[len(restarts) // 2], max(restarts)))
        server.stop(check=True)

    def verify(self, stub, writer, shards, when):
        """Checks what every shard holds; returns how many records were read twice."""
        with writer.cond:
            attempts = dict(writer.attempts)
            acked = dict(writer.acked_records)
        seen = {}       # (key, counter) -> [(shard_id, sequence_number)]
        for s in shards:
            read = st.read_shard(stub, STREAM, s.shard_id)
            self.assertFalse(read.closed, s.shard_id)
            seqs = [int(r.sequence_number) for r in read.records]
            self.assertEqual(seqs, sorted(set(seqs)), "%s: %s sequence numbers not increasing"
                             % (when, s.shard_id))
            lo, hi = st.shard_range(s)
            last = {}
            for r in read.records:
                key, counter = parse(r.data)
                self.assertEqual(r.partition_key, key)
                self.assertTrue(lo <= st.md5_hash_key(key) <= hi,
                                "%s: %s:%d in %s" % (when, key, counter, s.shard_id))
                copies = seen.setdefault((key, counter), [])
                copies.append((s.shard_id, r.sequence_number))
                if len(copies) == 1:
                    self.assertGreater(counter, last.get(key, -1),
                                       "%s: %s: counter %d after %d in %s"
                                       % (when, key, counter, last.get(key, -1), s.shard_id))
                    last[key] = counter
        lost = sorted(r for r in acked if r not in seen)
        self.assertEqual(lost[:5], [], "%s: %d acknowledged records lost" % (when, len(lost)))
        for r, (shard, seq) in acked.items():
            self.assertIn((shard, seq), seen[r], "%s: %s:%d not where it was acknowledged"
                          % (when, r[0], r[1]))
        for r, copies in seen.items():
            self.assertLessEqual(len(copies), attempts.get(r, 0),
                                 "%s: %s:%d read %d times, sent %d times (refused: %s)"
                                 % (when, r[0], r[1], len(copies), attempts.get(r, 0),
                                    r in writer.refused))
        return sum(1 for copies in seen.values() if len(copies) > 1)


if __name__ == "__main__":
    unittest.main()
