"""Helpers of the streams (Kinesis) integration tests: the generated client,
deployments, waiting for ACTIVE streams and consumers, throttle-aware reads,
hash-key arithmetic, reading a whole shard or a whole stream in lineage order
(parents before children), a keyed producer thread and a SubscribeToShard
reader.

Used by test_streams_gateway.py and test_streams_crash.py (next to them; they
put tests/python on sys.path first). Every wait polls a condition until a
deadline; the only pauses are a throttled call's RetryInfo delay and the
pacing of a polling consumer (5 GetRecords a second per shard is the limit).
"""

import hashlib
import importlib
import threading
import time

import grpc

import thingtank_testing as tt

T = tt.CALL_DEADLINE_S
KiB = 1024
MiB = 1024 * 1024
HASH_SPACE = 1 << 128
MAX_HASH_KEY = HASH_SPACE - 1
SERVICE = "thingtank.streams.v1.StreamsService"
THROTTLED = "ProvisionedThroughputExceededException"
INVALID = grpc.StatusCode.INVALID_ARGUMENT
NOT_FOUND = grpc.StatusCode.NOT_FOUND
FAILED = grpc.StatusCode.FAILED_PRECONDITION
EXHAUSTED = grpc.StatusCode.RESOURCE_EXHAUSTED
# A consumer polls one shard at most this often (the limit is 5 calls/s).
POLL_SPACING_S = 0.21

pb = None
pb_grpc = None


def load():
    """The generated streams modules: (streams_pb2, streams_pb2_grpc). Fails
    (not skips) when they were not built."""
    global pb, pb_grpc
    tt.require_build()
    if pb is None:
        try:
            pb = importlib.import_module("thingtank.streams.v1.streams_pb2")
            pb_grpc = importlib.import_module("thingtank.streams.v1.streams_pb2_grpc")
        except ImportError as e:
            raise AssertionError("generated streams modules not loadable from %s (build target "
                                 "thingtank_streams_proto): %s" % (tt.PY_GEN, e))
    return pb, pb_grpc


def deployment(mode, args=()):
    """The streams service behind a gateway; args go to the process running
    streams (the only process in monolithic mode)."""
    if mode == tt.Deployment.MONOLITHIC:
        return tt.Deployment(mode, backend_args=list(args))
    return tt.Deployment(mode, service="streams", backend_args=list(args))


def stub(channel):
    load()
    return pb_grpc.StreamsServiceStub(channel)


# ---------------------------------------------------------------------------
# Errors


def stream_error(fn, request, timeout=T):
    """Calls a server-streaming method expecting it to fail (read to its end);
    returns the ErrorDetails."""
    try:
        events = list(fn(request, timeout=timeout))
    except grpc.RpcError as e:
        return tt.error_details(e)
    raise AssertionError("expected the stream to fail, it returned %d events" % len(events))


def check_error(test, err, code, reason, field=None):
    """The gRPC code, the Kinesis error name in ErrorInfo.reason and, for bad
    input, the BadRequest field (the message then starts "<field>: ")."""
    test.assertEqual(err.code, code, err)
    test.assertIn(reason, err.reasons, err)
    if field is not None:
        test.assertIn(field, err.fields, err)
        test.assertTrue(err.message.startswith(field + ": "),
                        "message does not start with %r: %r" % (field + ": ", err.message))


def throttled(err):
    return err.code == EXHAUSTED and THROTTLED in err.reasons


def retrying(fn, request, deadline_s=T):
    """fn(request), retried after the RetryInfo delay while it is throttled
    (ProvisionedThroughputExceededException), as a Kinesis client does."""
    end = time.monotonic() + deadline_s
    while True:
        try:
            return fn(request, timeout=T)
        except grpc.RpcError as e:
            err = tt.error_details(e)
            if not throttled(err) or time.monotonic() > end:
                raise
            time.sleep(min(max(err.retry_delays or [0.05]), 1.0) or 0.01)


# ---------------------------------------------------------------------------
# Hash keys


def md5_hash_key(partition_key):
    """The hash key Kinesis derives from a partition key."""
    return int.from_bytes(hashlib.md5(partition_key.encode("utf-8")).digest(), "big")


def uniform_ranges(n):
    """[(start, end)] of n shards made by CreateStream / UpdateShardCount:
    floor(2^128 / n) wide, the last ending at 2^128 - 1."""
    width = HASH_SPACE // n
    return [(i * width, MAX_HASH_KEY if i == n - 1 else (i + 1) * width - 1) for i in range(n)]


def shard_range(shard):
    return (int(shard.hash_key_range.starting_hash_key), int(shard.hash_key_range.ending_hash_key))


def shard_for(shards, hash_key):
    """The id of the open shard whose range holds hash_key."""
    hits = [s.shard_id for s in shards if not s.sequence_number_range.ending_sequence_number
            and shard_range(s)[0] <= hash_key <= shard_range(s)[1]]
    assert len(hits) == 1, "hash key %d in open shards %r" % (hash_key, hits)
    return hits[0]


def shard_id(n):
    return "shardId-%012d" % n


# ---------------------------------------------------------------------------
# Streams and consumers


def summary(st, name):
    return st.DescribeStreamSummary(pb.DescribeStreamSummaryRequest(stream_name=name),
                                    timeout=T).stream_description_summary


def wait_active(st, name, timeout=tt.START_DEADLINE_S):
    """Polls DescribeStreamSummary until the stream is ACTIVE; returns the summary."""
    def active():
        s = summary(st, name)
        return s if s.stream_status == pb.STREAM_STATUS_ACTIVE else None
    return tt.wait_until(active, timeout, "stream %s ACTIVE" % name)


def wait_gone(st, name, timeout=tt.START_DEADLINE_S):
    def gone():
        try:
            summary(st, name)
            return False
        except grpc.RpcError as e:
            if e.code() != NOT_FOUND:
                raise
            return True
    tt.wait_until(gone, timeout, "stream %s deleted" % name)


def create_stream(st, name, shards=1, wait=True, **kw):
    """CreateStream; waits until ACTIVE when wait; returns the summary (or None)."""
    st.CreateStream(pb.CreateStreamRequest(stream_name=name, shard_count=shards, **kw), timeout=T)
    return wait_active(st, name) if wait else None


def stream_arn(name):
    return "arn:aws:kinesis:us-east-1:000000000000:stream/" + name


def wait_consumer_active(st, consumer_arn, timeout=tt.START_DEADLINE_S):
    def active():
        c = st.DescribeStreamConsumer(pb.DescribeStreamConsumerRequest(consumer_arn=consumer_arn),
                                      timeout=T).consumer_description
        return c if c.consumer_status == pb.CONSUMER_STATUS_ACTIVE else None
    return tt.wait_until(active, timeout, "consumer %s ACTIVE" % consumer_arn)


def register_consumer(st, stream, name):
    """Registers a consumer and waits until it is ACTIVE; returns the Consumer."""
    c = st.RegisterStreamConsumer(pb.RegisterStreamConsumerRequest(
        stream_arn=stream_arn(stream), consumer_name=name), timeout=T).consumer
    return wait_consumer_active(st, c.consumer_arn)


def list_shards(st, stream, max_results=0, shard_filter=None):
    """Every shard of ListShards (all pages); returns (shards, pages)."""
    shards, pages = [], 0
    request = pb.ListShardsRequest(stream_name=stream, max_results=max_results)
    if shard_filter is not None:
        request.shard_filter.CopyFrom(shard_filter)
    while True:
        r = st.ListShards(request, timeout=T)
        pages += 1
        shards.extend(r.shards)
        if not r.next_token:
            return shards, pages
        assert pages < 1000, "ListShards pagination does not end"
        request = pb.ListShardsRequest(next_token=r.next_token, max_results=max_results)


def all_shards(st, stream):
    return list_shards(st, stream)[0]


# ---------------------------------------------------------------------------
# Records


def put_records(st, stream, entries):
    """PutRecords of [(partition_key, data)] or [(partition_key, data,
    explicit_hash_key)]; returns the response."""
    records = []
    for e in entries:
        r = pb.PutRecordsRequestEntry(partition_key=e[0], data=e[1])
        if len(e) > 2 and e[2] is not None:
            r.explicit_hash_key = str(e[2])
        records.append(r)
    return st.PutRecords(pb.PutRecordsRequest(stream_name=stream, records=records), timeout=T)


def iterator(st, stream, shard, kind, sequence_number="", timestamp=None):
    """GetShardIterator; kind is "TRIM_HORIZON", "LATEST", "AT_SEQUENCE_NUMBER", ..."""
    request = pb.GetShardIteratorRequest(
        stream_name=stream, shard_id=shard,
        shard_iterator_type=pb.ShardIteratorType.Value("SHARD_ITERATOR_TYPE_" + kind),
        starting_sequence_number=sequence_number)
    if timestamp is not None:
        request.timestamp.CopyFrom(timestamp)
    return st.GetShardIterator(request, timeout=T).shard_iterator


def get_records(st, shard_iterator, limit=0):
    """GetRecords, retried while throttled."""
    return retrying(st.GetRecords, pb.GetRecordsRequest(shard_iterator=shard_iterator, limit=limit))


class ShardRead:
    """What reading one shard to its end (closed) or to its tip (open) gave."""

    def __init__(self):
        self.records = []
        self.closed = False       # next_shard_iterator came back empty
        self.child_shards = []    # of the last response of a closed shard
        self.last = None          # the last GetRecordsResponse
        self.calls = 0


def read_shard(st, stream, shard, kind="TRIM_HORIZON", sequence_number="", timestamp=None,
               shard_iterator=None, limit=0, deadline_s=T):
    """Reads a shard until it is drained (closed: no next iterator) or caught
    up (open: a response with no records and millis_behind_latest 0)."""
    it = shard_iterator or iterator(st, stream, shard, kind, sequence_number, timestamp)
    out = ShardRead()
    end = time.monotonic() + deadline_s
    while True:
        r = get_records(st, it, limit)
        out.calls += 1
        out.last = r
        out.records.extend(r.records)
        if not r.next_shard_iterator:
            out.closed = True
            out.child_shards = list(r.child_shards)
            return out
        if not r.records and r.millis_behind_latest == 0:
            return out
        if time.monotonic() > end:
            raise AssertionError("shard %s of %s not read to its end in %.0f s (%d records)"
                                 % (shard, stream, deadline_s, len(out.records)))
        it = r.next_shard_iterator


def read_stream(st, stream):
    """Reads every shard from TRIM_HORIZON, each parent to its end before its
    children (following child_shards of drained shards). Returns
    (reads {shard_id: ShardRead}, order [shard_id])."""
    shards = {s.shard_id: s for s in all_shards(st, stream)}
    parents = {sid: {p for p in (s.parent_shard_id, s.adjacent_parent_shard_id) if p}
               for sid, s in shards.items()}
    reads, order = {}, []
    ready = sorted(sid for sid, ps in parents.items() if not ps & set(shards))
    waiting = {sid: ps for sid, ps in parents.items() if sid not in ready}
    while ready:
        sid = ready.pop(0)
        read = read_shard(st, stream, sid)
        reads[sid] = read
        order.append(sid)
        for c in read.child_shards:
            waiting.setdefault(c.shard_id, set(c.parent_shards))
        for child, ps in sorted(waiting.items()):
            if ps <= set(reads) and child not in ready:
                ready.append(child)
                del waiting[child]
    assert not waiting, "shards never reached through their parents: %r" % waiting
    return reads, order


def timestamp_of(record):
    return record.approximate_arrival_timestamp.ToNanoseconds()


def ts_from_nanos(nanos):
    from google.protobuf import timestamp_pb2
    t = timestamp_pb2.Timestamp()
    t.FromNanoseconds(nanos)
    return t


# ---------------------------------------------------------------------------
# A producer thread with per-key counters


class KeyedProducer(threading.Thread):
    """Puts records of `keys` (data "<key>:<counter>") with PutRecords, one
    record per key a call, so each key has one record in flight at a time;
    records that fail on their own (throttled) are retried before the key's
    next one. acked {(key, counter): (shard_id, sequence_number)}."""

    def __init__(self, st, stream, keys, pause_s=0.005):
        super().__init__(daemon=True)
        self.st = st
        self.stream = stream
        self.keys = list(keys)
        self.pause_s = pause_s
        self.cond = threading.Condition()
        self.acked = {}
        self.record_failures = 0
        self.errors = []
        self._stopping = False

    @staticmethod
    def data(key, counter):
        return ("%s:%06d" % (key, counter)).encode()

    @staticmethod
    def parse(data):
        key, counter = data.decode().rsplit(":", 1)
        return key, int(counter)

    def acked_count(self):
        with self.cond:
            return len(self.acked)

    def wait_acked(self, n, timeout=T):
        """Waits until n records are acknowledged (or an error)."""
        with self.cond:
            ok = self.cond.wait_for(lambda: len(self.acked) >= n or self.errors, timeout)
            if self.errors:
                raise AssertionError("producer failed: %s" % self.errors)
            if not ok:
                raise AssertionError("producer acknowledged %d records, not %d, in %.0f s"
                                     % (len(self.acked), n, timeout))

    def finish(self):
        with self.cond:
            self._stopping = True
        self.join(T)
        if self.is_alive():
            raise AssertionError("producer thread did not stop")

    def run(self):
        counter = 0
        try:
            while True:
                with self.cond:
                    if self._stopping:
                        return
                pending = [(k, counter) for k in self.keys]
                end = time.monotonic() + T
                while pending:
                    r = put_records(self.st, self.stream,
                                    [(k, self.data(k, c)) for k, c in pending])
                    failed = []
                    with self.cond:
                        if len(r.records) != len(pending):
                            raise AssertionError("PutRecords answered %d results for %d records"
                                                 % (len(r.records), len(pending)))
                        for (k, c), res in zip(pending, r.records):
                            if res.error_code:
                                if res.error_code not in (THROTTLED, "InternalFailure"):
                                    raise AssertionError("record error %r" % res)
                                failed.append((k, c))
                                self.record_failures += 1
                            else:
                                self.acked[(k, c)] = (res.shard_id, res.sequence_number)
                        if r.failed_record_count != len(failed):
                            raise AssertionError("failed_record_count %d, %d records failed"
                                                 % (r.failed_record_count, len(failed)))
                        self.cond.notify_all()
                    pending = failed
                    if pending:
                        if time.monotonic() > end:
                            raise AssertionError("records throttled for %.0f s" % T)
                        time.sleep(0.02)  # back off before retrying throttled records
                counter += 1
                time.sleep(self.pause_s)  # pacing, not synchronization
        except Exception as e:  # noqa: BLE001  (reported to the test)
            with self.cond:
                self.errors.append(repr(e))
                self.cond.notify_all()


# ---------------------------------------------------------------------------
# A consumer following the shard lineage while a producer runs


class LineageConsumer(threading.Thread):
    """Polls every readable shard (each at most every POLL_SPACING_S), starts
    a shard only once each of its parents was read to its end (child_shards of
    the drained parents), and ends when, after finish() was called, every open
    shard answered no records and millis_behind_latest 0.

    records: [(shard_id, Record)] in the order read; started: shard ids in the
    order started; child_shards {closed shard id: [ChildShard]}."""

    def __init__(self, st, stream, roots):
        super().__init__(daemon=True)
        self.st = st
        self.stream = stream
        self.lock = threading.Lock()
        self.records = []
        self.started = []
        self.drained = set()
        self.child_shards = {}
        self.waiting = {}        # shard id -> parents not all drained yet
        self.active = {}         # shard id -> next iterator
        self.next_call = {}
        self.caught_up = set()   # open shards caught up after finish()
        self.errors = []
        self._finishing = False
        self._abort = False
        for r in roots:
            self._start(r)

    def _start(self, sid):
        self.started.append(sid)
        self.active[sid] = iterator(self.st, self.stream, sid, "TRIM_HORIZON")
        self.next_call[sid] = 0

    def finish(self, timeout=T):
        with self.lock:
            self._finishing = True
        self.join(timeout)
        if self.is_alive():
            raise AssertionError("consumer did not catch up in %.0f s (active %r, waiting %r, "
                                 "caught up %r)" % (timeout, sorted(self.active),
                                                    self.waiting, sorted(self.caught_up)))
        if self.errors:
            raise AssertionError("consumer failed: %s" % self.errors)

    def stop_now(self):
        """Ends the thread whatever it read (a failed test's cleanup)."""
        with self.lock:
            self._abort = True
        if self.ident is not None:
            self.join(T)

    def run(self):
        try:
            while True:
                with self.lock:
                    finishing = self._finishing
                    if self._abort:
                        return
                if finishing and not self.waiting and set(self.active) <= self.caught_up:
                    return
                sid = min(self.active, key=lambda s: self.next_call[s])
                delay = self.next_call[sid] - time.monotonic()
                if delay > 0:
                    time.sleep(delay)  # pacing: 5 GetRecords/s per shard
                self.next_call[sid] = time.monotonic() + POLL_SPACING_S
                try:
                    r = self.st.GetRecords(pb.GetRecordsRequest(shard_iterator=self.active[sid]),
                                           timeout=T)
                except grpc.RpcError as e:
                    err = tt.error_details(e)
                    if not throttled(err):
                        raise
                    self.next_call[sid] = time.monotonic() + max(err.retry_delays or [0.2])
                    continue
                with self.lock:
                    self.records.extend((sid, rec) for rec in r.records)
                if r.next_shard_iterator:
                    self.active[sid] = r.next_shard_iterator
                    if finishing and not r.records and r.millis_behind_latest == 0:
                        self.caught_up.add(sid)
                    continue
                # Closed and drained: its children become readable once all
                # their parents are drained.
                del self.active[sid]
                self.drained.add(sid)
                self.child_shards[sid] = list(r.child_shards)
                if not r.child_shards:
                    raise AssertionError("closed shard %s drained without child_shards" % sid)
                for c in r.child_shards:
                    if sid not in c.parent_shards:
                        raise AssertionError("child %s of %s lists parents %r"
                                             % (c.shard_id, sid, list(c.parent_shards)))
                    if c.shard_id not in self.started:
                        self.waiting.setdefault(c.shard_id, set(c.parent_shards))
                for child, parents in sorted(self.waiting.items()):
                    if parents <= self.drained:
                        del self.waiting[child]
                        self._start(child)
                if not self.active and not self.waiting:
                    raise AssertionError("no shard left to read")
        except Exception as e:  # noqa: BLE001  (reported to the test)
            with self.lock:
                self.errors.append(repr(e))


# ---------------------------------------------------------------------------
# SubscribeToShard


class Subscription(threading.Thread):
    """Reads a SubscribeToShard stream in a thread: events [(monotonic
    receipt time, SubscribeToShardResponse)], error (the RpcError details if
    the stream failed other than by cancel()), ended (OK end)."""

    def __init__(self, st, consumer_arn, shard, kind="LATEST", sequence_number="",
                 timestamp=None, timeout=120):
        super().__init__(daemon=True)
        request = pb.SubscribeToShardRequest(consumer_arn=consumer_arn, shard_id=shard)
        request.starting_position.type = pb.ShardIteratorType.Value("SHARD_ITERATOR_TYPE_" + kind)
        request.starting_position.sequence_number = sequence_number
        if timestamp is not None:
            request.starting_position.timestamp.CopyFrom(timestamp)
        self.call = st.SubscribeToShard(request, timeout=timeout)
        self.cond = threading.Condition()
        self.events = []
        self.error = None
        self.ended = False
        self.cancelled = False
        self.start()

    def run(self):
        try:
            for event in self.call:
                now = time.monotonic()
                with self.cond:
                    self.events.append((now, event))
                    self.cond.notify_all()
            with self.cond:
                self.ended = True
                self.cond.notify_all()
        except grpc.RpcError as e:
            with self.cond:
                if not self.cancelled:
                    self.error = tt.error_details(e)
                self.ended = True
                self.cond.notify_all()

    def records(self):
        """[(receipt time, Record)] so far."""
        with self.cond:
            return [(t, r) for t, e in self.events for r in e.records]

    def wait(self, predicate, timeout, what):
        """Waits until predicate(events) is true; fails on a stream error."""
        with self.cond:
            ok = self.cond.wait_for(lambda: predicate(self.events) or self.error is not None
                                    or self.ended, timeout)
            if self.error is not None:
                raise AssertionError("subscription failed while waiting for %s: %r"
                                     % (what, self.error))
            if not predicate(self.events):
                raise AssertionError("subscription %s waiting for %s (%d events)"
                                     % ("ended" if ok else "timed out", what, len(self.events)))

    def cancel(self):
        with self.cond:
            self.cancelled = True
        self.call.cancel()
        self.join(T)
