#!/usr/bin/python3
"""Integration tests of the streams service (Kinesis) through the gateway,
with the Python client generated from proto/, in monolithic mode (one
process) and in microservice mode (a streams process behind a gateway
process forwarding raw frames). Limits are on (the default): readers back off
on ProvisionedThroughputExceededException as a Kinesis client does.

The classic producer and consumer (a `temperature` stream of
"timestamp:temperature" records); every shard iterator type; hash-key
routing over 4 shards (explicit hash keys and MD5 of partition keys); a split,
a merge and an UpdateShardCount under a running producer with a consumer that
reads each parent before its children (per-key order, no loss, no
duplicates); SubscribeToShard pushing records within milliseconds; ListShards
filters and pagination, ListStreams pagination, tags, retention, DeleteStream
with consumers; bad input with Kinesis's error names and the BadRequest
field; throttling of writes (per record) and reads (the call, with
RetryInfo). A small class runs the clock 1000 times faster (--time-scale
1000): shard iterators expire after 5 clock minutes, a subscription ends
after 5 clock minutes with a heartbeat every 5 clock seconds.

Run: PYTHONPATH=tests/python /usr/bin/python3 -m unittest -v tests/integration/test_streams_gateway.py
"""

import os
import statistics
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "python"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import grpc  # noqa: E402

import streams_testing as st  # noqa: E402
import thingtank_testing as tt  # noqa: E402

T = tt.CALL_DEADLINE_S
MiB = st.MiB
INVALID, NOT_FOUND, FAILED, EXHAUSTED = st.INVALID, st.NOT_FOUND, st.FAILED, st.EXHAUSTED
BAD = "InvalidArgumentException"
MISSING = "ResourceNotFoundException"
IN_USE = "ResourceInUseException"


def ids(shards):
    return [s.shard_id for s in shards]


class _StreamsBase:
    """A deployment for the class; subclasses choose the mode."""

    MODE = None
    ARGS = ()

    @classmethod
    def setUpClass(cls):
        cls.pb, _ = st.load()
        deployment = st.deployment(cls.MODE, cls.ARGS)
        cls.addClassCleanup(deployment.cleanup)
        cls.deployment = deployment

    @classmethod
    def tearDownClass(cls):
        cls.deployment.stop()

    def setUp(self):
        self.k = st.stub(self.deployment.channel)

    def assertError(self, err, code, reason, field=None):
        st.check_error(self, err, code, reason, field)

    def error(self, method, **fields):
        """Calls StreamsService.<method> with a request of these fields
        expecting it to fail; returns the ErrorDetails."""
        request = getattr(self.pb, method + "Request")(**fields)
        return tt.call_error(getattr(self.k, method), request)

    def put(self, stream, data, key="k", **kw):
        return self.k.PutRecord(self.pb.PutRecordRequest(stream_name=stream, data=data,
                                                         partition_key=key, **kw), timeout=T)


class _GatewayTests(_StreamsBase):

    # -- 1. the classic producer and consumer ---------------------------------

    def test_classic_producer_and_consumer(self):
        """Kinesis's getting-started program: a `temperature` stream of one
        shard (created if missing), a producer putting "timestamp:temperature"
        records under partition key IoTExample, a consumer looping GetRecords
        from TRIM_HORIZON until it has them all."""
        pb = self.pb
        name = "temperature"
        try:
            st.summary(self.k, name)
            created = False
        except grpc.RpcError as e:
            self.assertError(tt.error_details(e), NOT_FOUND, MISSING)
            self.k.CreateStream(pb.CreateStreamRequest(stream_name=name, shard_count=1), timeout=T)
            created = True
        self.assertTrue(created, "a fresh server already has the stream")
        s = st.wait_active(self.k, name)
        self.assertEqual(s.stream_name, name)
        self.assertEqual(s.stream_arn, st.stream_arn(name))
        self.assertEqual(s.open_shard_count, 1)
        self.assertEqual(s.consumer_count, 0)
        self.assertEqual(s.retention_period_hours, 24)
        self.assertEqual(s.stream_mode, pb.STREAM_MODE_PROVISIONED)
        self.assertEqual(s.encryption_type, pb.ENCRYPTION_TYPE_NONE)
        self.assertGreater(s.stream_creation_timestamp.seconds, 0)
        # Creating it again: ResourceInUseException.
        self.assertError(self.error("CreateStream", stream_name=name, shard_count=1), FAILED, IN_USE)

        start_ns = time.time_ns()
        sent = []
        for i in range(20):
            data = ("%d:%.1f" % (start_ns // 1000000 + i, 21.5 + (i % 7) * 0.3)).encode()
            r = self.put(name, data, key="IoTExample")
            self.assertEqual(r.shard_id, "shardId-000000000000")
            self.assertEqual(len(r.sequence_number), 56, r.sequence_number)
            self.assertTrue(r.sequence_number.isdigit(), r.sequence_number)
            sent.append((data, r.sequence_number))
        self.assertEqual([int(q) for _, q in sent], sorted({int(q) for _, q in sent}),
                         "sequence numbers not strictly increasing")

        # The consumer.
        it = st.iterator(self.k, name, "shardId-000000000000", "TRIM_HORIZON")
        got, last = [], None
        deadline = time.monotonic() + T
        while len(got) < len(sent):
            self.assertLess(time.monotonic(), deadline, "got %d of %d records" % (len(got), len(sent)))
            last = st.get_records(self.k, it)
            got.extend(last.records)
            self.assertTrue(last.next_shard_iterator, "an open shard always has a next iterator")
            it = last.next_shard_iterator
        end_ns = time.time_ns()
        self.assertEqual([(r.data, r.sequence_number) for r in got], sent)
        self.assertEqual({r.partition_key for r in got}, {"IoTExample"})
        seqs = [int(r.sequence_number) for r in got]
        self.assertEqual(seqs, sorted(set(seqs)))
        stamps = [st.timestamp_of(r) for r in got]
        for t in stamps:
            self.assertGreater(t, 0)
            self.assertGreaterEqual(t, start_ns - 5 * 10**9)
            self.assertLessEqual(t, end_ns + 5 * 10**9)
        self.assertEqual(stamps, sorted(stamps), "arrival timestamps go back")
        self.assertEqual(last.millis_behind_latest, 0)
        # Caught up: no records, a next iterator, 0 behind.
        tail = st.get_records(self.k, it)
        self.assertEqual(list(tail.records), [])
        self.assertTrue(tail.next_shard_iterator)
        self.assertEqual(tail.millis_behind_latest, 0)

    # -- 2. shard iterator types ----------------------------------------------

    def test_iterator_positions(self):
        name = "positions"
        shard = "shardId-000000000000"
        st.create_stream(self.k, name, 1)
        a = [self.put(name, b"a%d" % i).sequence_number for i in range(5)]
        first = st.read_shard(self.k, name, shard).records
        self.assertEqual([r.data for r in first], [b"a%d" % i for i in range(5)])
        t_a = st.timestamp_of(first[-1])
        # The next batch arrives at a later time (the clock is the wall clock).
        tt.wait_until(lambda: time.time_ns() > t_a + 20 * 10**6, 10, "the clock to move on")
        b = [self.put(name, b"b%d" % i).sequence_number for i in range(5)]
        every = st.read_shard(self.k, name, shard).records
        data = [r.data for r in every]
        self.assertEqual(data, [b"a%d" % i for i in range(5)] + [b"b%d" % i for i in range(5)])
        self.assertEqual([r.sequence_number for r in every], a + b)
        t_b = st.timestamp_of(every[5])
        self.assertGreater(t_b, t_a)

        def at_time(nanos):
            return [r.data for r in st.read_shard(self.k, name, shard, "AT_TIMESTAMP",
                                                  timestamp=st.ts_from_nanos(nanos)).records]
        later = [b"b%d" % i for i in range(5)]
        self.assertEqual(at_time((t_a + t_b) // 2), later)
        self.assertEqual(at_time(t_b), later)  # at the timestamp: included
        self.assertEqual(at_time(t_a), [r.data for r in every if st.timestamp_of(r) >= t_a])
        self.assertIn(b"a4", at_time(t_a))
        self.assertEqual(at_time(10**9), data)  # long before: everything

        def seq_read(kind, seq):
            return [r.data for r in st.read_shard(self.k, name, shard, kind,
                                                  sequence_number=seq).records]
        self.assertEqual(seq_read("AT_SEQUENCE_NUMBER", a[2]), data[2:])
        self.assertEqual(seq_read("AFTER_SEQUENCE_NUMBER", a[2]), data[3:])
        self.assertEqual(seq_read("AT_SEQUENCE_NUMBER", b[4]), [b"b4"])
        self.assertEqual(seq_read("AFTER_SEQUENCE_NUMBER", b[4]), [])
        self.assertEqual(seq_read("AT_SEQUENCE_NUMBER", a[0]), data)

        # LATEST: just after the newest record when the iterator was taken.
        latest = st.iterator(self.k, name, shard, "LATEST")
        r = st.get_records(self.k, latest)
        self.assertEqual(list(r.records), [])
        self.assertTrue(r.next_shard_iterator)
        self.assertEqual(r.millis_behind_latest, 0)
        c = self.put(name, b"c0").sequence_number
        for it in (latest, r.next_shard_iterator):  # iterators can be used again
            got = st.read_shard(self.k, name, shard, shard_iterator=it).records
            self.assertEqual([(x.data, x.sequence_number) for x in got], [(b"c0", c)])

    # -- 3. hash-key routing ----------------------------------------------------

    def test_hash_key_routing(self):
        pb = self.pb
        name = "routing"
        st.create_stream(self.k, name, 4)
        shards = st.all_shards(self.k, name)
        self.assertEqual(ids(shards), [st.shard_id(i) for i in range(4)])
        self.assertEqual([st.shard_range(s) for s in shards], st.uniform_ranges(4))
        for s in shards:
            self.assertEqual((s.parent_shard_id, s.adjacent_parent_shard_id), ("", ""))
            self.assertTrue(s.sequence_number_range.starting_sequence_number)
            self.assertEqual(s.sequence_number_range.ending_sequence_number, "")
        described = self.k.DescribeStream(pb.DescribeStreamRequest(stream_name=name),
                                          timeout=T).stream_description
        self.assertEqual(list(described.shards), shards)
        self.assertFalse(described.has_more_shards)

        expected = {s.shard_id: [] for s in shards}  # data in the order put
        # Explicit hash keys override the partition key ("fixed" has its own shard).
        for i, (lo, hi) in enumerate(st.uniform_ranges(4)):
            for key in (lo, (lo + hi) // 2, hi):
                data = b"explicit-%d" % key
                r = self.put(name, data, key="fixed", explicit_hash_key=str(key))
                self.assertEqual(r.shard_id, st.shard_id(i), "hash key %d" % key)
                expected[r.shard_id].append((data, "fixed", r.sequence_number))
        # Partition keys: the shard holding the MD5 of the key, read big-endian.
        keys = ["device-%d" % i for i in range(40)]
        r = st.put_records(self.k, name, [(key, key.encode()) for key in keys]
                           + [("fixed", b"max-key", st.MAX_HASH_KEY), ("fixed", b"zero-key", 0)])
        self.assertEqual(r.failed_record_count, 0)
        self.assertEqual(len(r.records), len(keys) + 2)
        want = [st.shard_for(shards, st.md5_hash_key(key)) for key in keys]
        self.assertEqual([e.shard_id for e in r.records[:len(keys)]], want)
        self.assertEqual([e.shard_id for e in r.records[len(keys):]],
                         [st.shard_id(3), st.shard_id(0)])
        self.assertGreaterEqual(len(set(want)), 3, "40 keys on fewer than 3 of 4 shards")
        for key, e in zip(keys + ["fixed", "fixed"], r.records):
            data = key.encode() if key != "fixed" else (b"max-key" if e.shard_id == st.shard_id(3)
                                                         else b"zero-key")
            expected[e.shard_id].append((data, key, e.sequence_number))
        for s in shards:
            got = st.read_shard(self.k, name, s.shard_id).records
            self.assertEqual([(x.data, x.partition_key, x.sequence_number) for x in got],
                             expected[s.shard_id], s.shard_id)

    # -- 4. resharding under load -----------------------------------------------

    def test_reshard_under_load(self):
        """A split, a merge and UpdateShardCount 2 -> 4 while a producer puts
        records of 12 keys with per-key counters and a consumer reads each
        shard only after its parents: per-key order, no loss, no duplicates."""
        pb = self.pb
        name = "reshard"
        st.create_stream(self.k, name, 2)
        q = st.HASH_SPACE // 4
        # Three keys in each quarter of the hash space, so that every shard of
        # every step gets records.
        keys, per_quarter = [], {i: 0 for i in range(4)}
        for d in range(10000):
            key = "sensor-%d" % d
            quarter = st.md5_hash_key(key) // q
            if per_quarter[quarter] < 3:
                per_quarter[quarter] += 1
                keys.append(key)
            if len(keys) == 12:
                break
        roots = st.all_shards(self.k, name)
        self.assertEqual(ids(roots), [st.shard_id(0), st.shard_id(1)])
        consumer = st.LineageConsumer(self.k, name, ids(roots))
        producer = st.KeyedProducer(self.k, name, keys)
        self.addCleanup(lambda: producer.is_alive() and producer.finish())
        self.addCleanup(consumer.stop_now)
        consumer.start()
        producer.start()
        producer.wait_acked(120)

        def shards_by_id():
            listed = st.all_shards(self.k, name)
            described = self.k.DescribeStream(pb.DescribeStreamRequest(stream_name=name),
                                              timeout=T).stream_description
            self.assertEqual(list(described.shards), listed)
            return {s.shard_id: s for s in listed}

        def check(by_id, sid, rng, parent="", adjacent="", closed=False):
            s = by_id[sid]
            self.assertEqual(st.shard_range(s), rng, sid)
            self.assertEqual((s.parent_shard_id, s.adjacent_parent_shard_id), (parent, adjacent),
                             sid)
            self.assertTrue(s.sequence_number_range.starting_sequence_number, sid)
            self.assertEqual(bool(s.sequence_number_range.ending_sequence_number), closed, s)

        # Split shard 0 [0, 2^127 - 1] at 2^126: in effect at once.
        self.k.SplitShard(pb.SplitShardRequest(stream_name=name, shard_to_split=st.shard_id(0),
                                               new_starting_hash_key=str(q)), timeout=T)
        by_id = shards_by_id()
        self.assertEqual(sorted(by_id), [st.shard_id(i) for i in range(4)])
        check(by_id, st.shard_id(0), (0, 2 * q - 1), closed=True)
        check(by_id, st.shard_id(1), (2 * q, st.MAX_HASH_KEY))
        check(by_id, st.shard_id(2), (0, q - 1), parent=st.shard_id(0))
        check(by_id, st.shard_id(3), (q, 2 * q - 1), parent=st.shard_id(0))
        st.wait_active(self.k, name)
        producer.wait_acked(producer.acked_count() + 120)

        # Merge shard 3 [2^126, 2^127 - 1] with the adjacent shard 1.
        self.k.MergeShards(pb.MergeShardsRequest(stream_name=name, shard_to_merge=st.shard_id(3),
                                                 adjacent_shard_to_merge=st.shard_id(1)),
                           timeout=T)
        by_id = shards_by_id()
        self.assertEqual(sorted(by_id), [st.shard_id(i) for i in range(5)])
        check(by_id, st.shard_id(1), (2 * q, st.MAX_HASH_KEY), closed=True)
        check(by_id, st.shard_id(2), (0, q - 1), parent=st.shard_id(0))
        check(by_id, st.shard_id(3), (q, 2 * q - 1), parent=st.shard_id(0), closed=True)
        check(by_id, st.shard_id(4), (q, st.MAX_HASH_KEY), parent=st.shard_id(3),
              adjacent=st.shard_id(1))
        s = st.wait_active(self.k, name)
        self.assertEqual(s.open_shard_count, 2)
        producer.wait_acked(producer.acked_count() + 120)

        # UpdateShardCount 2 -> 4: uniform open shards.
        r = self.k.UpdateShardCount(pb.UpdateShardCountRequest(
            stream_name=name, target_shard_count=4, scaling_type=pb.SCALING_TYPE_UNIFORM_SCALING),
            timeout=T)
        self.assertEqual((r.stream_name, r.current_shard_count, r.target_shard_count), (name, 2, 4))
        open_now, _ = st.list_shards(self.k, name, shard_filter=pb.ShardFilter(
            type=pb.SHARD_FILTER_TYPE_AT_LATEST))
        self.assertEqual(sorted(st.shard_range(s) for s in open_now), st.uniform_ranges(4))
        by_id = shards_by_id()
        for sid, s in by_id.items():
            for p in (s.parent_shard_id, s.adjacent_parent_shard_id):
                if p:
                    self.assertIn(p, by_id, sid)
                    self.assertTrue(by_id[p].sequence_number_range.ending_sequence_number,
                                    "parent %s of %s is open" % (p, sid))
        self.assertEqual(st.wait_active(self.k, name).open_shard_count, 4)
        producer.wait_acked(producer.acked_count() + 120)
        producer.finish()
        self.assertEqual(producer.errors, [])
        consumer.finish()

        # What was read: every acknowledged record exactly once, where it was acknowledged.
        acked = dict(producer.acked)
        by_id = shards_by_id()
        read = {}
        last_counter = {}
        for sid, rec in consumer.records:
            key, counter = st.KeyedProducer.parse(rec.data)
            self.assertEqual(rec.partition_key, key)
            self.assertNotIn((key, counter), read, "read twice: %s:%d" % (key, counter))
            read[(key, counter)] = (sid, rec.sequence_number)
            self.assertGreater(counter, last_counter.get(key, -1),
                               "key %s: %d read after %d" % (key, counter, last_counter.get(key, -1)))
            last_counter[key] = counter
            lo, hi = st.shard_range(by_id[sid])
            self.assertTrue(lo <= st.md5_hash_key(key) <= hi, "%s in %s" % (key, sid))
            end = by_id[sid].sequence_number_range.ending_sequence_number
            if end:
                self.assertLessEqual(int(rec.sequence_number), int(end), sid)
        missing = sorted(set(acked) - set(read))
        self.assertEqual(missing[:10], [], "%d acknowledged records never read" % len(missing))
        self.assertEqual(sorted(set(read) - set(acked))[:10], [], "records read, never acknowledged")
        self.assertEqual(read, acked)
        per_shard = {}
        for sid, _ in consumer.records:
            per_shard[sid] = per_shard.get(sid, 0) + 1
        # Every shard of the split and the merge, and every open shard, got
        # records (UpdateShardCount may leave empty intermediate shards).
        final_open = {sid for sid, s in by_id.items()
                      if not s.sequence_number_range.ending_sequence_number}
        self.assertEqual(len(final_open), 4)
        for sid in sorted(final_open | {st.shard_id(i) for i in range(5)}):
            self.assertIn(sid, per_shard, "no records read from %s: %r" % (sid, per_shard))
        # Sequence numbers increase within each shard as read.
        for sid in by_id:
            seqs = [int(rec.sequence_number) for s, rec in consumer.records if s == sid]
            self.assertEqual(seqs, sorted(set(seqs)), sid)
        # GetRecords' child_shards agree with ListShards.
        for sid, children in consumer.child_shards.items():
            want = sorted(c for c, s in by_id.items() if sid in (s.parent_shard_id,
                                                                 s.adjacent_parent_shard_id))
            self.assertEqual(sorted(c.shard_id for c in children), want, sid)
            for c in children:
                s = by_id[c.shard_id]
                self.assertEqual(set(c.parent_shards),
                                 {p for p in (s.parent_shard_id, s.adjacent_parent_shard_id) if p})
                self.assertEqual(st.shard_range(c), st.shard_range(s))
        closed = sorted(sid for sid, s in by_id.items()
                        if s.sequence_number_range.ending_sequence_number)
        self.assertEqual(sorted(consumer.drained), closed)
        print("\n  reshard: %d records of %d keys over %d shards (%d throttled and retried)"
              % (len(read), len(keys), len(by_id), producer.record_failures))

    # -- 5. SubscribeToShard ------------------------------------------------------

    def test_subscribe_to_shard(self):
        pb = self.pb
        name = "fanout"
        shard = "shardId-000000000000"
        st.create_stream(self.k, name, 1)
        c = st.register_consumer(self.k, name, "dashboard")
        self.assertEqual(c.consumer_name, "dashboard")
        self.assertRegex(c.consumer_arn, r"^%s/consumer/dashboard:\d+$" % st.stream_arn(name))
        self.assertEqual(c.stream_arn, st.stream_arn(name))
        self.assertGreater(c.consumer_creation_timestamp.seconds, 0)
        by_name = self.k.DescribeStreamConsumer(pb.DescribeStreamConsumerRequest(
            stream_arn=st.stream_arn(name), consumer_name="dashboard"), timeout=T)
        self.assertEqual(by_name.consumer_description.consumer_arn, c.consumer_arn)
        listed = self.k.ListStreamConsumers(pb.ListStreamConsumersRequest(
            stream_arn=st.stream_arn(name)), timeout=T)
        self.assertEqual([x.consumer_arn for x in listed.consumers], [c.consumer_arn])
        self.assertEqual(st.summary(self.k, name).consumer_count, 1)

        sub = st.Subscription(self.k, c.consumer_arn, shard, "LATEST")
        self.addCleanup(sub.cancel)
        sub.wait(lambda events: len(events) >= 1, 10, "the first event")
        acked, latencies, round_trips = [], [], []
        for i in range(10):
            t0 = time.monotonic()
            r = self.put(name, b"reading-%d" % i, key="probe-%d" % i)
            t_ack = time.monotonic()
            acked.append((b"reading-%d" % i, r.sequence_number))
            seq = r.sequence_number
            sub.wait(lambda events: any(x.sequence_number == seq for _, e in events
                                        for x in e.records), 10, "record %d" % i)
            t_got = [t for t, x in sub.records() if x.sequence_number == seq][0]
            latencies.append(max(0.0, t_got - t_ack))
            round_trips.append(t_got - t0)
        print("\n  SubscribeToShard (%s): put ack -> receipt median %.2f ms, max %.2f ms; "
              "put sent -> receipt median %.2f ms, max %.2f ms"
              % (self.MODE, statistics.median(latencies) * 1e3, max(latencies) * 1e3,
                 statistics.median(round_trips) * 1e3, max(round_trips) * 1e3))
        self.assertLess(max(latencies), 0.5, "a record took %.0f ms to be pushed"
                        % (max(latencies) * 1e3))
        self.assertEqual([(x.data, x.sequence_number) for _, x in sub.records()], acked)
        with sub.cond:
            events = [e for _, e in sub.events]
        for e in events:
            if e.records:
                self.assertEqual(e.continuation_sequence_number, e.records[-1].sequence_number)
            self.assertTrue(e.continuation_sequence_number, e)
            self.assertEqual(e.millis_behind_latest, 0, e)
        self.assertEqual(events[-1].continuation_sequence_number, acked[-1][1])
        sub.cancel()
        self.assertIsNone(sub.error)

        # Another consumer resumes after the fifth record.
        c2 = st.register_consumer(self.k, name, "replay")
        self.assertNotEqual(c2.consumer_arn, c.consumer_arn)
        sub2 = st.Subscription(self.k, c2.consumer_arn, shard, "AFTER_SEQUENCE_NUMBER",
                               sequence_number=acked[4][1])
        self.addCleanup(sub2.cancel)
        sub2.wait(lambda events: sum(len(e.records) for _, e in events) >= 5, 10, "5 records")
        self.assertEqual([(x.data, x.sequence_number) for _, x in sub2.records()], acked[5:])
        sub2.cancel()
        # An unknown consumer: ResourceNotFoundException.
        err = st.stream_error(self.k.SubscribeToShard, pb.SubscribeToShardRequest(
            consumer_arn=c.consumer_arn + "0", shard_id=shard,
            starting_position=pb.StartingPosition(type=pb.SHARD_ITERATOR_TYPE_LATEST)), timeout=5)
        self.assertError(err, NOT_FOUND, MISSING)

    # -- 6. listing, tags, retention, deletion ------------------------------------

    def test_list_shards_filters_and_pages(self):
        pb = self.pb
        name = "listing"
        st.create_stream(self.k, name, 3)
        lo, hi = st.uniform_ranges(3)[1]
        self.k.SplitShard(pb.SplitShardRequest(stream_name=name, shard_to_split=st.shard_id(1),
                                               new_starting_hash_key=str((lo + hi) // 2)),
                          timeout=T)
        st.wait_active(self.k, name)
        every = [st.shard_id(i) for i in range(5)]

        def filtered(kind, **kw):
            return ids(st.list_shards(self.k, name, shard_filter=pb.ShardFilter(
                type=pb.ShardFilterType.Value("SHARD_FILTER_TYPE_" + kind), **kw))[0])
        self.assertEqual(ids(st.all_shards(self.k, name)), every)
        self.assertEqual(filtered("AT_LATEST"), [st.shard_id(i) for i in (0, 2, 3, 4)])
        self.assertEqual(filtered("AFTER_SHARD_ID", shard_id=st.shard_id(1)), every[2:])
        self.assertEqual(filtered("FROM_TRIM_HORIZON"), every)
        self.assertEqual(filtered("AT_TRIM_HORIZON"), every[:3])

        # Pages of two.
        page = self.k.ListShards(pb.ListShardsRequest(stream_name=name, max_results=2), timeout=T)
        self.assertEqual(ids(page.shards), every[:2])
        self.assertTrue(page.next_token)
        page2 = self.k.ListShards(pb.ListShardsRequest(next_token=page.next_token, max_results=2),
                                  timeout=T)
        self.assertEqual(ids(page2.shards), every[2:4])
        self.assertTrue(page2.next_token)
        page3 = self.k.ListShards(pb.ListShardsRequest(next_token=page2.next_token, max_results=2),
                                  timeout=T)
        self.assertEqual(ids(page3.shards), every[4:])
        self.assertEqual(page3.next_token, "")
        shards, pages = st.list_shards(self.k, name, max_results=1)
        self.assertEqual((ids(shards), pages), (every, 5))
        self.assertEqual(ids(self.k.ListShards(pb.ListShardsRequest(
            stream_name=name, exclusive_start_shard_id=st.shard_id(2)), timeout=T).shards), every[3:])
        # next_token with stream_name; max_results out of range; unknown stream.
        err = self.error("ListShards", stream_name=name, next_token=page.next_token)
        self.assertError(err, INVALID, BAD)
        self.assertError(self.error("ListShards", stream_name=name, max_results=10001), INVALID,
                         BAD, "max_results")
        self.assertError(self.error("ListShards", stream_name="no-such-stream"), NOT_FOUND, MISSING)
        # DescribeStream pages too.
        d = self.k.DescribeStream(pb.DescribeStreamRequest(stream_name=name, limit=2),
                                  timeout=T).stream_description
        self.assertEqual((ids(d.shards), d.has_more_shards), (every[:2], True))
        d = self.k.DescribeStream(pb.DescribeStreamRequest(
            stream_name=name, limit=2, exclusive_start_shard_id=st.shard_id(3)),
            timeout=T).stream_description
        self.assertEqual((ids(d.shards), d.has_more_shards), (every[4:], False))

    def test_list_streams_pages(self):
        pb = self.pb
        for n in ("ls-c", "ls-a", "ls-b"):
            st.create_stream(self.k, n, 1, wait=False)
        for n in ("ls-a", "ls-b", "ls-c"):
            st.wait_active(self.k, n)
        full = self.k.ListStreams(pb.ListStreamsRequest(), timeout=T)
        names = list(full.stream_names)
        self.assertEqual(names, sorted(set(names)))
        for n in ("ls-a", "ls-b", "ls-c"):
            self.assertIn(n, names)
        self.assertFalse(full.has_more_streams)
        self.assertEqual(full.next_token, "")
        self.assertEqual([s.stream_name for s in full.stream_summaries], names)
        for s in full.stream_summaries:
            self.assertEqual(s.stream_arn, st.stream_arn(s.stream_name))
            self.assertGreater(s.stream_creation_timestamp.seconds, 0)
        by_name = {s.stream_name: s for s in full.stream_summaries}
        self.assertEqual(by_name["ls-b"].stream_status, pb.STREAM_STATUS_ACTIVE)

        paged, token, pages = [], "", 0
        while True:
            r = self.k.ListStreams(pb.ListStreamsRequest(limit=2, next_token=token), timeout=T)
            pages += 1
            self.assertLessEqual(len(r.stream_names), 2)
            self.assertEqual(r.has_more_streams, bool(r.next_token), r)
            paged.extend(r.stream_names)
            token = r.next_token
            if not token:
                break
            self.assertLess(pages, 100)
        self.assertEqual(paged, names)
        self.assertEqual(pages, -(-len(names) // 2))
        after = self.k.ListStreams(pb.ListStreamsRequest(limit=2, exclusive_start_stream_name="ls-a"),
                                   timeout=T)
        i = names.index("ls-a")
        self.assertEqual(list(after.stream_names), names[i + 1:i + 3])
        self.assertEqual(after.has_more_streams, len(names) > i + 3)

    def test_tags(self):
        pb = self.pb
        name = "tagged"
        st.create_stream(self.k, name, 1, tags={"owner": "plant-7"})

        def tags(**kw):
            r = self.k.ListTagsForStream(pb.ListTagsForStreamRequest(stream_name=name, **kw),
                                         timeout=T)
            return dict(r.tags), r.has_more_tags
        self.assertEqual(tags(), ({"owner": "plant-7"}, False))
        self.k.AddTagsToStream(pb.AddTagsToStreamRequest(stream_name=name,
                                                         tags={"site": "lyon", "line": "3"}),
                               timeout=T)
        self.assertEqual(tags(), ({"owner": "plant-7", "site": "lyon", "line": "3"}, False))
        self.k.AddTagsToStream(pb.AddTagsToStreamRequest(stream_name=name, tags={"site": "paris"}),
                               timeout=T)
        self.k.RemoveTagsFromStream(pb.RemoveTagsFromStreamRequest(
            stream_name=name, tag_keys=["owner", "never-set"]), timeout=T)
        self.assertEqual(tags(), ({"site": "paris", "line": "3"}, False))
        self.assertEqual(tags(limit=1), ({"line": "3"}, True))
        self.assertEqual(tags(exclusive_start_tag_key="line"), ({"site": "paris"}, False))
        # 50 tags at most.
        err = self.error("AddTagsToStream", stream_name=name,
                         tags={"t%02d" % i: "v" for i in range(49)})
        self.assertError(err, EXHAUSTED, "LimitExceededException")
        self.assertEqual(len(tags()[0]), 2)
        self.k.AddTagsToStream(pb.AddTagsToStreamRequest(
            stream_name=name, tags={"t%02d" % i: "v" for i in range(48)}), timeout=T)
        self.assertEqual(len(tags()[0]), 50)
        self.assertError(self.error("ListTagsForStream", stream_name="no-such-stream"),
                         NOT_FOUND, MISSING)

    def test_retention(self):
        name = "retained"
        self.assertEqual(st.create_stream(self.k, name, 1).retention_period_hours, 24)

        def change(method, hours):
            getattr(self.k, method)(getattr(self.pb, method + "Request")(
                stream_name=name, retention_period_hours=hours), timeout=T)
            return st.wait_active(self.k, name).retention_period_hours

        def refused(method, hours):
            err = self.error(method, stream_name=name, retention_period_hours=hours)
            self.assertError(err, INVALID, BAD, "retention_period_hours")
        inc, dec = "IncreaseStreamRetentionPeriod", "DecreaseStreamRetentionPeriod"
        self.assertEqual(change(inc, 48), 48)
        refused(inc, 36)   # not an increase
        refused(inc, 8761)  # over a year
        self.assertEqual(change(dec, 30), 30)
        refused(dec, 40)   # not a decrease
        refused(dec, 23)   # under a day
        self.assertEqual(change(dec, 24), 24)
        self.assertEqual(change(inc, 8760), 8760)
        self.assertEqual(st.summary(self.k, name).retention_period_hours, 8760)
        # The contract: Increase must raise it, Decrease must lower it; the
        # current value is neither.
        refused(inc, 8760)
        refused(dec, 8760)
        self.assertError(self.error(inc, stream_name="no-such-stream", retention_period_hours=48),
                         NOT_FOUND, MISSING)

    def test_delete_stream_with_consumer(self):
        pb = self.pb
        name = "deleteme"
        st.create_stream(self.k, name, 1)
        c = st.register_consumer(self.k, name, "reader")
        err = self.error("DeleteStream", stream_name=name)
        self.assertError(err, FAILED, IN_USE)
        self.assertEqual(st.summary(self.k, name).stream_status, pb.STREAM_STATUS_ACTIVE)
        self.k.DeleteStream(pb.DeleteStreamRequest(stream_name=name, enforce_consumer_deletion=True),
                            timeout=T)
        # DELETING or gone: data calls say ResourceNotFoundException.
        self.assertError(tt.call_error(self.k.PutRecord, pb.PutRecordRequest(
            stream_name=name, data=b"x", partition_key="k")), NOT_FOUND, MISSING)
        st.wait_gone(self.k, name)
        self.assertNotIn(name, self.k.ListStreams(pb.ListStreamsRequest(), timeout=T).stream_names)
        self.assertError(self.error("DescribeStreamConsumer", consumer_arn=c.consumer_arn),
                         NOT_FOUND, MISSING)
        self.assertError(self.error("DeleteStream", stream_name=name), NOT_FOUND, MISSING)
        # The name can be used again.
        st.create_stream(self.k, name, 1)
        self.assertEqual(st.summary(self.k, name).consumer_count, 0)

    # -- 7. bad input ---------------------------------------------------------------

    def test_bad_stream_requests(self):
        for bad in ("bad name!", "", "x" * 129, "slash/name"):
            self.assertError(self.error("CreateStream", stream_name=bad, shard_count=1), INVALID,
                             BAD, "stream_name")
            self.assertError(self.error("PutRecord", stream_name=bad, data=b"x", partition_key="k"),
                             INVALID, BAD, "stream_name")
        self.assertError(self.error("CreateStream", stream_name="zero-shards", shard_count=0),
                         INVALID, BAD, "shard_count")
        self.assertError(self.error("DescribeStreamSummary", stream_name="no-such-stream"),
                         NOT_FOUND, MISSING)
        self.assertError(self.error("PutRecord", stream_name="no-such-stream", data=b"x",
                                    partition_key="k"), NOT_FOUND, MISSING)
        # A 128-character name is fine.
        st.create_stream(self.k, "n" * 128, 1)

    def test_bad_records(self):
        pb = self.pb
        name = "bad-records"
        st.create_stream(self.k, name, 2)

        def entries(n, **kw):
            return [pb.PutRecordsRequestEntry(data=b"r%d" % i, partition_key="k%d" % i, **kw)
                    for i in range(n)]

        def put_records_error(records):
            return self.error("PutRecords", stream_name=name, records=records)
        self.assertError(put_records_error(entries(501)), INVALID, BAD, "records")
        self.assertError(put_records_error([]), INVALID, BAD, "records")
        r = self.k.PutRecords(pb.PutRecordsRequest(stream_name=name, records=entries(500)),
                              timeout=T)
        self.assertEqual((r.failed_record_count, len(r.records)), (0, 500))

        # Data: at most 1 MiB together with the partition key.
        self.assertError(self.error("PutRecord", stream_name=name, data=b"d" * MiB,
                                    partition_key="k"), INVALID, BAD, "data")
        big = entries(3)
        big[1].data = b"d" * (MiB - 1)
        big[1].partition_key = "kk"
        self.assertError(put_records_error(big), INVALID, BAD, "records[1].data")

        # Partition keys: 1 to 256 characters (code points).
        for bad in ("", "p" * 257, "\u00e9" * 257):
            self.assertError(self.error("PutRecord", stream_name=name, data=b"x",
                                        partition_key=bad), INVALID, BAD, "partition_key")
            records = entries(4)
            records[3].partition_key = bad
            self.assertError(put_records_error(records), INVALID, BAD,
                             "records[3].partition_key")
        for good in ("p" * 256, "\u00e9" * 256):
            self.assertEqual(len(self.put(name, b"x", key=good).sequence_number), 56)

        # Explicit hash keys: decimal 0 to 2^128 - 1.
        for bad in (str(st.HASH_SPACE), "-1", "abc", "01", "1e5", str(10**40)):
            self.assertError(self.error("PutRecord", stream_name=name, data=b"x",
                                        partition_key="k", explicit_hash_key=bad),
                             INVALID, BAD, "explicit_hash_key")
            records = entries(3)
            records[2].explicit_hash_key = bad
            self.assertError(put_records_error(records), INVALID, BAD,
                             "records[2].explicit_hash_key")
        self.assertEqual(self.put(name, b"x", explicit_hash_key=str(st.MAX_HASH_KEY)).shard_id,
                         st.shard_id(1))
        # Nothing of a refused call was written.
        got = st.read_shard(self.k, name, st.shard_id(0)).records + \
            st.read_shard(self.k, name, st.shard_id(1)).records
        self.assertEqual(len(got), 500 + 2 + 1)

    def test_record_of_exactly_one_mib(self):
        name = "big-record"
        st.create_stream(self.k, name, 1)
        data = bytes(range(256)) * (MiB // 256)
        data = data[:MiB - 1]
        r = st.retrying(self.k.PutRecord, self.pb.PutRecordRequest(stream_name=name, data=data,
                                                                   partition_key="k"))
        got = st.read_shard(self.k, name, st.shard_id(0)).records
        self.assertEqual([(x.data, x.sequence_number) for x in got], [(data, r.sequence_number)])

    def test_bad_iterators(self):
        pb = self.pb
        name = "bad-iterators"
        shard = st.shard_id(0)
        st.create_stream(self.k, name, 1)
        seq = self.put(name, b"only").sequence_number

        def iterator_error(**kw):
            kw.setdefault("stream_name", name)
            kw.setdefault("shard_id", shard)
            kw.setdefault("shard_iterator_type", pb.SHARD_ITERATOR_TYPE_TRIM_HORIZON)
            return self.error("GetShardIterator", **kw)
        self.assertError(iterator_error(shard_id=st.shard_id(99)), NOT_FOUND, MISSING)
        self.assertError(iterator_error(stream_name="no-such-stream"), NOT_FOUND, MISSING)
        self.assertError(iterator_error(shard_id="bad shard!"), INVALID, BAD, "shard_id")
        self.assertError(iterator_error(shard_iterator_type=pb.SHARD_ITERATOR_TYPE_UNSPECIFIED),
                         INVALID, BAD, "shard_iterator_type")
        for bad in ("", "abc", "-1", "0" + seq):
            self.assertError(iterator_error(
                shard_iterator_type=pb.SHARD_ITERATOR_TYPE_AT_SEQUENCE_NUMBER,
                starting_sequence_number=bad), INVALID, BAD, "starting_sequence_number")
        self.assertError(iterator_error(shard_iterator_type=pb.SHARD_ITERATOR_TYPE_AT_TIMESTAMP),
                         INVALID, BAD, "timestamp")

        it = st.iterator(self.k, name, shard, "TRIM_HORIZON")
        self.assertEqual([x.data for x in st.get_records(self.k, it).records], [b"only"])
        # Forged and altered iterators.
        mid = len(it) // 2
        altered = it[:mid] + ("A" if it[mid] != "A" else "B") + it[mid + 1:]
        for bad in (altered, it[:-1], it + "A", "abc", "", "x" * 600):
            err = self.error("GetRecords", shard_iterator=bad)
            self.assertError(err, INVALID, BAD, "shard_iterator")
        for bad in (-1, 10001):
            self.assertError(self.error("GetRecords", shard_iterator=it, limit=bad), INVALID, BAD,
                             "limit")
        r = st.get_records(self.k, it, limit=1)
        self.assertEqual(len(r.records), 1)

    def test_bad_resharding(self):
        pb = self.pb
        name = "bad-resharding"
        st.create_stream(self.k, name, 2)
        half = st.HASH_SPACE // 2

        def split_error(shard, key):
            return self.error("SplitShard", stream_name=name, shard_to_split=shard,
                              new_starting_hash_key=key)
        # shard 0 is [0, 2^127 - 1].
        for key in ("0", str(half), str(half + 5), str(st.HASH_SPACE), "abc", ""):
            self.assertError(split_error(st.shard_id(0), key), INVALID, BAD,
                             "new_starting_hash_key")
        self.assertError(split_error(st.shard_id(7), "5"), NOT_FOUND, MISSING)
        self.assertEqual(len(st.all_shards(self.k, name)), 2)
        # A split; then the split shard again.
        self.k.SplitShard(pb.SplitShardRequest(stream_name=name, shard_to_split=st.shard_id(0),
                                               new_starting_hash_key=str(half // 2)), timeout=T)
        st.wait_active(self.k, name)
        self.assertError(split_error(st.shard_id(0), str(half // 4)), INVALID, BAD,
                         "shard_to_split")
        # Open now: 1 [2^127, max], 2 [0, 2^126 - 1], 3 [2^126, 2^127 - 1]; 2 and 1 do not touch.
        err = self.error("MergeShards", stream_name=name, shard_to_merge=st.shard_id(2),
                         adjacent_shard_to_merge=st.shard_id(1))
        self.assertError(err, INVALID, BAD, "adjacent_shard_to_merge")
        def update_error(target):
            return self.error("UpdateShardCount", stream_name=name, target_shard_count=target,
                              scaling_type=pb.SCALING_TYPE_UNIFORM_SCALING)
        for target in (0, -1):
            self.assertError(update_error(target), INVALID, BAD, "target_shard_count")
        # Kinesis's UpdateShardCount limits: at most double, at least half of
        # the 3 open shards.
        for target in (1, 7, 100):
            self.assertError(update_error(target), EXHAUSTED, "LimitExceededException")
        self.assertEqual(len(st.all_shards(self.k, name)), 4)

    # -- 8. throttling --------------------------------------------------------------

    def test_write_throttling(self):
        pb = self.pb
        name = "throttled-writes"
        st.create_stream(self.k, name, 1)
        responses = []
        t0 = time.monotonic()
        for call in range(5):  # 2,500 records: throttled unless this took 1.5 s
            responses.append(self.k.PutRecords(pb.PutRecordsRequest(stream_name=name, records=[
                pb.PutRecordsRequestEntry(data=b"%d-%03d" % (call, i), partition_key="p%d" % i)
                for i in range(500)]), timeout=T))
        elapsed = time.monotonic() - t0
        written = []
        for call, r in enumerate(responses):
            self.assertEqual(len(r.records), 500)
            failed = [e for e in r.records if e.error_code]
            self.assertEqual(r.failed_record_count, len(failed))
            for i, e in enumerate(r.records):
                if e.error_code:
                    self.assertEqual(e.error_code, st.THROTTLED, e)
                    self.assertTrue(e.error_message, e)
                    self.assertEqual(e.sequence_number, "", e)
                else:
                    self.assertEqual(e.shard_id, st.shard_id(0), e)
                    self.assertEqual(len(e.sequence_number), 56, e)
                    written.append((b"%d-%03d" % (call, i), e.sequence_number))
        failed = sum(r.failed_record_count for r in responses)
        print("\n  write throttling: %d of 2500 records refused in %.0f ms"
              % (failed, elapsed * 1e3))
        self.assertEqual(responses[0].failed_record_count, 0)  # a full bucket holds 1,000
        self.assertGreater(failed, 0, "2,500 records in %.0f ms to one shard all accepted"
                           % (elapsed * 1e3))
        self.assertLessEqual(len(written), 1000 + 1000 * elapsed + 1)
        self.assertGreaterEqual(len(written), 1000)
        # Only the accepted records were written.
        got = st.read_shard(self.k, name, st.shard_id(0)).records
        self.assertEqual([(x.data, x.sequence_number) for x in got], written)

    def test_read_throttling(self):
        name = "throttled-reads"
        st.create_stream(self.k, name, 1)
        self.put(name, b"one")
        it = st.iterator(self.k, name, st.shard_id(0), "TRIM_HORIZON")
        ok, err = 0, None
        t0 = time.monotonic()
        for _ in range(30):
            try:
                r = self.k.GetRecords(self.pb.GetRecordsRequest(shard_iterator=it), timeout=T)
                self.assertEqual(len(r.records), 1)
                ok += 1
            except grpc.RpcError as e:
                err = tt.error_details(e)
                break
        elapsed = time.monotonic() - t0
        self.assertIsNotNone(err, "30 GetRecords calls in %.0f ms, none throttled" % (elapsed * 1e3))
        self.assertError(err, EXHAUSTED, st.THROTTLED)
        self.assertTrue(err.retry_delays, err)
        self.assertGreater(max(err.retry_delays), 0, err)
        self.assertLessEqual(max(err.retry_delays), 1.0, err)
        self.assertGreaterEqual(ok, 5, "throttled after %d calls" % ok)
        self.assertLessEqual(ok, 5 + 5 * elapsed + 1)
        # After the delay the shard reads again.
        t1 = time.monotonic()
        r = st.retrying(self.k.GetRecords, self.pb.GetRecordsRequest(shard_iterator=it),
                        deadline_s=5)
        self.assertEqual([x.data for x in r.records], [b"one"])
        self.assertLess(time.monotonic() - t1, 3)


class _ClockTests(_StreamsBase):
    """The clock runs 1000 times faster: 5 minutes pass in 0.3 s."""

    ARGS = ("--time-scale", "1000")
    SCALE = 1000

    def test_expired_iterator(self):
        name = "clocked"
        shard = st.shard_id(0)
        st.create_stream(self.k, name, 1)
        self.put(name, b"tick")
        t0 = time.monotonic()
        it = st.iterator(self.k, name, shard, "TRIM_HORIZON")
        r = st.get_records(self.k, it)
        self.assertEqual([x.data for x in r.records], [b"tick"])

        def expired():
            try:
                self.k.GetRecords(self.pb.GetRecordsRequest(shard_iterator=it), timeout=T)
                return None
            except grpc.RpcError as e:
                return tt.error_details(e)
        err = tt.wait_until(expired, 30, "the iterator to expire")
        elapsed = time.monotonic() - t0
        self.assertError(err, FAILED, "ExpiredIteratorException")
        # 5 clock minutes: 0.3 s here.
        self.assertGreaterEqual(elapsed, 300.0 / self.SCALE * 0.8, "expired after %.3f s" % elapsed)
        # A fresh iterator reads again.
        it = st.iterator(self.k, name, shard, "TRIM_HORIZON")
        self.assertEqual([x.data for x in st.get_records(self.k, it).records], [b"tick"])

    def test_subscription_lifetime(self):
        name = "clocked-sub"
        shard = st.shard_id(0)
        st.create_stream(self.k, name, 1)
        seq = self.put(name, b"tick").sequence_number
        c = st.register_consumer(self.k, name, "watch")
        t0 = time.monotonic()
        sub = st.Subscription(self.k, c.consumer_arn, shard, "TRIM_HORIZON")
        self.addCleanup(sub.cancel)
        with sub.cond:
            sub.cond.wait_for(lambda: sub.ended, 30)
        elapsed = time.monotonic() - t0
        self.assertTrue(sub.ended, "the subscription did not end after 5 clock minutes")
        self.assertIsNone(sub.error)
        self.assertGreaterEqual(elapsed, 300.0 / self.SCALE * 0.8)
        self.assertEqual([(x.data, x.sequence_number) for _, x in sub.records()], [(b"tick", seq)])
        events = [e for _, e in sub.events]
        # A heartbeat every 5 clock seconds: about 60 in 5 clock minutes.
        self.assertGreaterEqual(len(events), 20, "%d events" % len(events))
        first = [i for i, e in enumerate(events) if e.records][0]
        for e in events[first:]:
            self.assertEqual(e.continuation_sequence_number, seq, e)
            self.assertEqual(e.millis_behind_latest, 0, e)
        for e in events[first + 1:]:
            self.assertEqual(list(e.records), [], e)


class MonolithicStreamsTest(_GatewayTests, unittest.TestCase):
    MODE = tt.Deployment.MONOLITHIC


class MicroserviceStreamsTest(_GatewayTests, unittest.TestCase):
    MODE = tt.Deployment.MICROSERVICE


class MonolithicStreamsClockTest(_ClockTests, unittest.TestCase):
    MODE = tt.Deployment.MONOLITHIC


class MicroserviceStreamsClockTest(_ClockTests, unittest.TestCase):
    MODE = tt.Deployment.MICROSERVICE


if __name__ == "__main__":
    unittest.main()
