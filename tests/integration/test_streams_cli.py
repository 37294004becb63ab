#!/usr/bin/python3
"""End-to-end tests of `thingtank streams ...` (the Kinesis commands) through
the real binary against a real `thingtank serve --ephemeral`.

One monolithic server (free ports, a fresh temporary data directory the
server removes at exit) runs for the main class: create --wait, describe,
list, put (one record, and a line file in PutRecords batches with throttled
records sent again), get from every position, get --follow receiving records
put after it started (also into the children of a split shard), subscribe
receiving a record put after it started, split/merge/update-shard-count seen
in describe, retention up and down, delete with consumers, --json output, and
errors with the Kinesis error name and a non-zero exit. What the CLI wrote is
checked against the Python client generated from proto/ where the CLI alone
could agree with itself. A second server runs its clock 600 times faster, so
that a subscription's 5 minutes pass in half a second: subscribe resubscribes
from the continuation sequence number, losing and repeating nothing.

Every wait polls a condition until a deadline; there are no sleeps.

Binary: $THINGTANK_BIN (default build/dev/tools/thingtank/thingtank).
Run: PYTHONPATH=tests/python /usr/bin/python3 -m unittest -v tests/integration/test_streams_cli.py
"""

import base64
import hashlib
import importlib
import json
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "python"))

import thingtank_testing as tt  # noqa: E402

CLI_DEADLINE_S = 60
WAIT_S = 20
MAX_KEY = (1 << 128) - 1
HALF = 1 << 127


def md5_key(partition_key):
    return int.from_bytes(hashlib.md5(partition_key.encode("utf-8")).digest(), "big")


class EphemeralServer:
    """`thingtank serve --ephemeral` on free ports; its first stdout line says
    where the gateway, the metrics and the (temporary) data are."""

    def __init__(self, *args):
        self.log = tempfile.NamedTemporaryFile(prefix="thingtank-streams-cli-", suffix=".log",
                                               delete=False)
        self.proc = subprocess.Popen(
            [tt.BIN, "serve", "--ephemeral", "--gateway-port", "0", "--metrics-port", "0",
             "--wamp-ws-port", "0", *args],
            stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)

        def running_line():
            if self.proc.poll() is not None:
                raise AssertionError("thingtank serve exited with %d:\n%s"
                                     % (self.proc.returncode, self.text()))
            return re.search(r"gateway on [\w.]+:(\d+) .*metrics on http://[\w.]+:(\d+)/metrics,"
                             r" data in (\S+)", self.text())
        match = tt.wait_until(running_line, tt.START_DEADLINE_S, "serve --ephemeral to start")
        self.gateway_port, self.metrics_port = int(match.group(1)), int(match.group(2))
        self.data_dir = match.group(3)
        self.endpoint = "127.0.0.1:%d" % self.gateway_port
        self.channel = tt.ready_channel(self.gateway_port)

    def text(self):
        with open(self.log.name, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def stop(self):
        self.channel.close()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                code = self.proc.wait(timeout=tt.STOP_DEADLINE_S)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError("thingtank serve did not stop on SIGTERM:\n" + self.text())
            if code != 0:
                raise AssertionError("thingtank serve exited with %d:\n%s" % (code, self.text()))
        self.log.close()
        os.unlink(self.log.name)

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


class Running:
    """A `thingtank streams ...` process that runs until stopped (get --follow,
    subscribe): its stdout lines and stderr text are read by threads."""

    def __init__(self, argv, env):
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     env=env, text=True)
        self.lines = queue.Queue()
        self.err = []
        self._out_thread = threading.Thread(target=self._read_out, daemon=True)
        self._err_thread = threading.Thread(target=self._read_err, daemon=True)
        self._out_thread.start()
        self._err_thread.start()

    def _read_out(self):
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))

    def _read_err(self):
        for line in self.proc.stderr:
            self.err.append(line)

    def stderr(self):
        return "".join(self.err)

    def wait_stderr(self, text):
        def seen():
            if text in self.stderr():
                return True
            if self.proc.poll() is not None:
                raise AssertionError("exited with %s before saying %r:\n%s"
                                     % (self.proc.returncode, text, self.stderr()))
            return False
        tt.wait_until(seen, WAIT_S, repr(text))

    def next_line(self):
        try:
            return self.lines.get(timeout=WAIT_S)
        except queue.Empty:
            raise AssertionError("no output line within %d s; stderr:\n%s"
                                 % (WAIT_S, self.stderr()))

    def interrupt(self):
        """Ctrl-C; returns the exit code."""
        self.proc.send_signal(signal.SIGINT)
        return self.finish()

    def finish(self):
        code = self.proc.wait(timeout=WAIT_S)
        self._close()
        return code

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._close()

    def _close(self):
        self._out_thread.join(WAIT_S)
        self._err_thread.join(WAIT_S)
        for pipe in (self.proc.stdout, self.proc.stderr):
            if not pipe.closed:
                pipe.close()


class _CliBase(unittest.TestCase):
    SERVER_ARGS = ()

    @classmethod
    def setUpClass(cls):
        if not os.access(tt.BIN, os.X_OK):
            raise AssertionError("no thingtank binary at %s (build first, or set THINGTANK_BIN)"
                                 % tt.BIN)
        tt.require_build()
        cls.pb = importlib.import_module("thingtank.streams.v1.streams_pb2")
        pb_grpc = importlib.import_module("thingtank.streams.v1.streams_pb2_grpc")
        server = EphemeralServer(*cls.SERVER_ARGS)
        cls.addClassCleanup(server.kill)
        cls.server = server
        cls.k = pb_grpc.StreamsServiceStub(server.channel)

    @classmethod
    def tearDownClass(cls):
        data_dir = cls.server.data_dir
        cls.server.stop()
        assert not os.path.exists(data_dir), "serve --ephemeral left %s behind" % data_dir

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="thingtank-streams-cli-")
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)

    # -- running the CLI -----------------------------------------------------

    def env(self):
        env = dict(os.environ)
        env.pop("THINGTANK_API_KEY_ID", None)
        env.pop("THINGTANK_API_KEY_SECRET", None)
        env["THINGTANK_ENDPOINT"] = self.server.endpoint
        return env

    def cli(self, *args):
        return subprocess.run([tt.BIN, "streams", *args], capture_output=True, text=True,
                              env=self.env(), timeout=CLI_DEADLINE_S)

    def ok(self, *args):
        r = self.cli(*args)
        self.assertEqual(r.returncode, 0, "streams %s failed (%d):\n%s%s"
                         % (" ".join(args), r.returncode, r.stdout, r.stderr))
        return r.stdout

    def json_ok(self, *args):
        return json.loads(self.ok(*args, "--json"))

    def json_lines(self, *args):
        return [json.loads(line) for line in self.ok(*args, "--json").splitlines()]

    def fails(self, *args, code=1):
        r = self.cli(*args)
        self.assertEqual(r.returncode, code, "streams %s: expected exit %d, got %d:\n%s%s"
                         % (" ".join(args), code, r.returncode, r.stdout, r.stderr))
        self.assertEqual(r.stdout, "")
        return r.stderr

    def start(self, *args):
        running = Running([tt.BIN, "streams", *args], self.env())
        self.addCleanup(running.kill)
        return running

    def create(self, name, shards=1):
        self.assertEqual(self.ok("create", name, "--shards", str(shards), "--wait"),
                         "created stream %s (PROVISIONED, %d shards)\n"
                         "stream %s is ACTIVE (%d open shards)\n" % (name, shards, name, shards))
        return name

    def write_lines(self, lines):
        path = os.path.join(self.tmp, "lines.txt")
        with open(path, "wb") as f:
            f.write(b"".join(line + b"\n" for line in lines))
        return path

    # -- the server's view ---------------------------------------------------

    def records(self, stream, shard_id):
        """Every record of a shard, read with the Python client."""
        pb = self.pb
        it = self.k.GetShardIterator(pb.GetShardIteratorRequest(
            stream_name=stream, shard_id=shard_id,
            shard_iterator_type=pb.SHARD_ITERATOR_TYPE_TRIM_HORIZON), timeout=tt.CALL_DEADLINE_S)
        response = self.k.GetRecords(pb.GetRecordsRequest(shard_iterator=it.shard_iterator),
                                     timeout=tt.CALL_DEADLINE_S)
        return list(response.records)

    def describe(self, stream):
        return self.json_ok("describe", stream)["stream_description"]


class StreamsCliTest(_CliBase):

    def test_create_wait_describe_list_and_json(self):
        s = self.create("cli-create", shards=2)
        d = self.describe(s)
        self.assertEqual(d["stream_name"], s)
        self.assertEqual(d["stream_arn"], "arn:aws:kinesis:us-east-1:000000000000:stream/" + s)
        self.assertEqual(d["stream_status"], "STREAM_STATUS_ACTIVE")
        self.assertEqual(d["retention_period_hours"], 24)
        self.assertFalse(d["has_more_shards"])
        self.assertEqual([(x["shard_id"], x["hash_key_range"]) for x in d["shards"]], [
            ("shardId-000000000000", {"starting_hash_key": "0",
                                      "ending_hash_key": str(HALF - 1)}),
            ("shardId-000000000001", {"starting_hash_key": str(HALF),
                                      "ending_hash_key": str(MAX_KEY)})])
        human = self.ok("describe", s).splitlines()
        self.assertEqual(human[:4], ["name:       " + s,
                                     "arn:        arn:aws:kinesis:us-east-1:000000000000:stream/"
                                     + s,
                                     "status:     ACTIVE",
                                     "mode:       PROVISIONED"])
        self.assertIn("retention:  24 hours", human)
        self.assertIn("shards:     2 (2 open)", human)
        self.assertEqual(human[-3:], [
            "SHARD                 STATE  PARENTS  HASH KEYS",
            "shardId-000000000000  open   -        0-%d" % (HALF - 1),
            "shardId-000000000001  open   -        %d-%d" % (HALF, MAX_KEY)])

        # On demand, --json with --wait: the summary once ACTIVE.
        summary = self.json_ok("create", "cli-create-od", "--mode", "on-demand",
                               "--wait")["stream_description_summary"]
        self.assertEqual(summary["stream_mode"], "STREAM_MODE_ON_DEMAND")
        self.assertEqual(summary["stream_status"], "STREAM_STATUS_ACTIVE")
        self.assertEqual(summary["open_shard_count"], 4)
        self.assertEqual(self.json_ok("create", "cli-create-nowait", "--shards", "3"), {})

        listed = self.json_ok("list")
        for name in (s, "cli-create-od", "cli-create-nowait"):
            self.assertIn(name, listed["stream_names"])
        lines = self.ok("list").splitlines()
        self.assertTrue(any(re.match(r"^cli-create-od +ACTIVE +ON_DEMAND +\d{4}-\d\d-\d\dT", line)
                            for line in lines), lines)
        page = self.json_ok("list", "--limit", "1")
        self.assertEqual(len(page["stream_names"]), 1)
        self.assertTrue(page["has_more_streams"])
        self.assertEqual(self.ok("list", "--limit", "1").splitlines()[-1],
                         "(more: --next-token %s)" % page["next_token"])

    def test_put_one_record_and_a_line_file_then_get_from_trim_horizon(self):
        s = self.create("cli-put", shards=2)
        # One record: its shard and sequence number, as the server stored it.
        out = self.ok("put", s, "hello stream", "--partition-key", "device-1")
        shard_id, sequence = out.split()
        expected_shard = "shardId-00000000000%d" % (0 if md5_key("device-1") < HALF else 1)
        self.assertEqual(shard_id, expected_shard)
        stored = self.records(s, shard_id)
        self.assertEqual([(r.sequence_number, r.partition_key, r.data) for r in stored],
                         [(sequence, "device-1", b"hello stream")])

        # A line file under one key: one shard, in file order. A line with a
        # tab and one that is not UTF-8 print in base64; an empty line is a record.
        lines = [b"first line", "température 21 °C".encode("utf-8"), b"", b"tab\there",
                 b"\xff\xfe binary", b"last line"]
        self.assertEqual(self.ok("put", s, "--file", self.write_lines(lines), "--partition-key",
                                 "device-1"),
                         "put 6 records to %s (1 batch)\n" % s)
        got = self.ok("get", s, "--shard", shard_id).splitlines()
        stored = self.records(s, shard_id)
        self.assertEqual(len(stored), 7)
        self.assertEqual([r.data for r in stored], [b"hello stream"] + lines)
        texts = ["hello stream", "first line", "température 21 °C", "",
                 base64.b64encode(b"tab\there").decode(),
                 base64.b64encode(b"\xff\xfe binary").decode(), "last line"]
        self.assertEqual(got, ["%s device-1 %s" % (r.sequence_number, t)
                               for r, t in zip(stored, texts)])
        sequences = [int(r.sequence_number) for r in stored]
        self.assertEqual(sequences, sorted(sequences))
        self.assertEqual(len(set(sequences)), 7)
        # Every shard (the other one is empty), and --limit.
        self.assertEqual(self.ok("get", s).splitlines(), got)
        self.assertEqual(self.ok("get", s, "--limit", "2").splitlines(), got[:2])

        # --json: one Record object a line, data in base64.
        records = self.json_lines("get", s, "--shard", shard_id)
        self.assertEqual([base64.b64decode(r["data"]) for r in records],
                         [b"hello stream"] + lines)
        self.assertEqual([r["sequence_number"] for r in records],
                         [r.sequence_number for r in stored])

        # Positions: at/after a sequence number, latest, a timestamp.
        third = stored[2].sequence_number
        self.assertEqual(self.ok("get", s, "--shard", shard_id, "--from", "at-sequence",
                                 "--sequence", third).splitlines(), got[2:])
        self.assertEqual(self.ok("get", s, "--shard", shard_id, "--from", "after-sequence",
                                 "--sequence", third).splitlines(), got[3:])
        self.assertEqual(self.ok("get", s, "--from", "latest"), "")
        self.assertEqual(self.ok("get", s, "--from", "at-timestamp", "--timestamp",
                                 "-1h").splitlines(), got)

    def test_put_file_without_a_key_spreads_lines_and_throttled_records_are_sent_again(self):
        s = self.create("cli-put-many", shards=2)
        # 1,200 lines under one key go to one shard, in 3 batches, beyond the
        # shard's 1,000 records a second: some come back throttled and are
        # sent again, and every line is stored once, in order.
        lines = [b"line %04d" % i for i in range(1200)]
        out = self.ok("put", s, "--file", self.write_lines(lines), "--partition-key", "one-key")
        m = re.fullmatch(r"put 1200 records to %s \(3 batches; (\d+) throttled and sent again\)\n"
                         % s, out)
        self.assertTrue(m, out)
        self.assertGreater(int(m.group(1)), 0)
        shard_id = "shardId-00000000000%d" % (0 if md5_key("one-key") < HALF else 1)
        self.assertEqual([r.data for r in self.records(s, shard_id)], lines)

        # Without --partition-key each line's key is its line number: each
        # record is in the shard of its key's MD5 (--json: every result).
        s2 = self.create("cli-put-spread", shards=2)
        spread = [b"reading %d" % i for i in range(1, 41)]
        result = json.loads(self.ok("put", s2, "--file", self.write_lines(spread), "--json"))
        self.assertEqual(result["failed_record_count"], 0)
        self.assertEqual(len(result["records"]), 40)
        for number, entry in enumerate(result["records"], start=1):
            self.assertEqual(entry["shard_id"], "shardId-00000000000%d"
                             % (0 if md5_key(str(number)) < HALF else 1), number)
        by_shard = {}
        for shard in ("shardId-000000000000", "shardId-000000000001"):
            got = self.json_lines("get", s2, "--shard", shard)
            by_shard[shard] = [int(r["partition_key"]) for r in got]
            for record in got:
                self.assertEqual(base64.b64decode(record["data"]),
                                 b"reading " + record["partition_key"].encode())
            # In file order within the shard.
            self.assertEqual(by_shard[shard], sorted(by_shard[shard]))
        self.assertTrue(all(by_shard.values()), by_shard)
        self.assertEqual(sorted(by_shard["shardId-000000000000"] +
                                by_shard["shardId-000000000001"]), list(range(1, 41)))

    def test_get_follow_receives_records_put_after_it_started_also_in_children(self):
        s = self.create("cli-follow", shards=1)
        self.ok("put", s, "before", "--partition-key", "k")
        follow = self.start("get", s, "--follow")
        follow.wait_stderr("following 1 shard of %s from latest (Ctrl-C to stop)" % s)
        out = self.ok("put", s, "after one", "--partition-key", "k")
        _, sequence = out.split()
        self.assertEqual(follow.next_line(), "%s k after one" % sequence)
        # Split: the parent closes; the follower goes on in both children.
        self.ok("split", s, "--shard", "shardId-000000000000", "--wait")
        seen = {}
        for key in ("a", "b", "c", "d", "e", "f"):
            _, sequence = self.ok("put", s, "child " + key, "--partition-key", key).split()
            seen[key] = sequence
        got = sorted(follow.next_line() for _ in seen)
        self.assertEqual(got, sorted("%s %s child %s" % (seq, key, key)
                                     for key, seq in seen.items()))
        # Both children got some of the keys (else the test proves little).
        children = {("shardId-000000000001" if md5_key(k) < HALF else "shardId-000000000002")
                    for k in seen}
        self.assertEqual(len(children), 2)
        self.assertEqual(follow.interrupt(), 0, follow.stderr())
        self.assertTrue(follow.lines.empty(), "nothing more was put")

    def test_get_follow_json_limit_ends_it(self):
        s = self.create("cli-follow-json", shards=1)
        follow = self.start("get", s, "--follow", "--from", "trim-horizon", "--limit", "2",
                            "--json")
        self.ok("put", s, "one", "--partition-key", "k")
        self.ok("put", s, "two", "--partition-key", "k")
        self.ok("put", s, "three", "--partition-key", "k")
        self.assertEqual(follow.finish(), 0, follow.stderr())
        got = [json.loads(follow.next_line()) for _ in range(2)]
        self.assertEqual([base64.b64decode(r["data"]) for r in got], [b"one", b"two"])
        self.assertTrue(follow.lines.empty())

    def test_subscribe_receives_a_record_put_after_it_started_and_reuses_its_consumer(self):
        s = self.create("cli-subscribe", shards=1)
        self.ok("put", s, "old", "--partition-key", "k")
        sub = self.start("subscribe", s, "--consumer", "cli-reader")
        sub.wait_stderr("subscribed to shardId-000000000000 of %s as cli-reader from latest" % s)
        self.assertIn("registered consumer cli-reader of %s" % s, sub.stderr())
        _, sequence = self.ok("put", s, "pushed", "--partition-key", "k").split()
        self.assertEqual(sub.next_line(), "%s k pushed" % sequence)
        self.assertEqual(sub.interrupt(), 0, sub.stderr())

        # Again with the same consumer: reused, from the trim horizon, --limit ends it.
        again = self.start("subscribe", s, "--consumer", "cli-reader", "--from", "trim-horizon",
                           "--limit", "2")
        self.assertEqual(again.finish(), 0, again.stderr())
        self.assertNotIn("registered", again.stderr())
        self.assertIn("subscribed to shardId-000000000000 of %s as cli-reader from trim-horizon"
                      % s, again.stderr())
        self.assertEqual([again.next_line().split(" ", 1)[1] for _ in range(2)],
                         ["k old", "k pushed"])
        self.assertTrue(again.lines.empty())
        # --json: one Record object a line.
        as_json = self.start("subscribe", s, "--consumer", "cli-reader", "--from",
                             "trim-horizon", "--limit", "1", "--json")
        self.assertEqual(as_json.finish(), 0, as_json.stderr())
        self.assertEqual(base64.b64decode(json.loads(as_json.next_line())["data"]), b"old")
        arn = self.json_ok("retention", s)["stream_description_summary"]["stream_arn"]
        consumers = self.k.ListStreamConsumers(self.pb.ListStreamConsumersRequest(stream_arn=arn),
                                               timeout=tt.CALL_DEADLINE_S).consumers
        self.assertEqual([c.consumer_name for c in consumers], ["cli-reader"])

        # A stream with a consumer is deleted only with --enforce-consumer-deletion.
        err = self.fails("delete", s)
        self.assertIn("(ResourceInUseException)", err)
        self.assertEqual(self.ok("delete", s, "--enforce-consumer-deletion"),
                         "deleting stream %s\n" % s)

        def gone():
            r = self.cli("describe", s)
            return r.returncode == 1 and "(ResourceNotFoundException)" in r.stderr
        tt.wait_until(gone, WAIT_S, "stream %s deleted" % s)

    def test_split_merge_and_update_shard_count_are_seen_in_describe(self):
        s = self.create("cli-reshard", shards=2)
        quarter = 1 << 126
        self.assertEqual(self.ok("split", s, "--shard", "shardId-000000000000", "--wait"),
                         "split shardId-000000000000 at hash key %d\n"
                         "stream %s is ACTIVE (3 open shards)\n" % (quarter, s))
        d = self.describe(s)
        shards = {x["shard_id"]: x for x in d["shards"]}
        self.assertEqual(sorted(shards), ["shardId-00000000000%d" % i for i in range(4)])
        self.assertNotEqual(
            shards["shardId-000000000000"]["sequence_number_range"]["ending_sequence_number"], "")
        for child, (start, end) in (("shardId-000000000002", (0, quarter - 1)),
                                    ("shardId-000000000003", (quarter, HALF - 1))):
            self.assertEqual(shards[child]["parent_shard_id"], "shardId-000000000000")
            self.assertEqual(shards[child]["hash_key_range"],
                             {"starting_hash_key": str(start), "ending_hash_key": str(end)})

        self.assertEqual(self.ok("merge", s, "shardId-000000000002", "shardId-000000000003",
                                 "--wait"),
                         "merged shardId-000000000002 and shardId-000000000003\n"
                         "stream %s is ACTIVE (2 open shards)\n" % s)
        merged = {x["shard_id"]: x for x in self.describe(s)["shards"]}["shardId-000000000004"]
        self.assertEqual((merged["parent_shard_id"], merged["adjacent_parent_shard_id"]),
                         ("shardId-000000000002", "shardId-000000000003"))
        self.assertEqual(merged["hash_key_range"],
                         {"starting_hash_key": "0", "ending_hash_key": str(HALF - 1)})
        self.assertIn("shardId-000000000004  open    shardId-000000000002,shardId-000000000003"
                      "  0-%d" % (HALF - 1), self.ok("describe", s))

        self.assertEqual(self.json_ok("update-shard-count", s, "4"),
                         {"stream_name": s, "current_shard_count": 2, "target_shard_count": 4})
        tt.wait_until(lambda: self.describe(s)["stream_status"] == "STREAM_STATUS_ACTIVE", WAIT_S,
                      "stream ACTIVE after update-shard-count")
        d = self.describe(s)
        open_ranges = sorted((int(x["hash_key_range"]["starting_hash_key"]),
                              int(x["hash_key_range"]["ending_hash_key"]))
                             for x in d["shards"]
                             if not x["sequence_number_range"]["ending_sequence_number"])
        self.assertEqual(len(open_ranges), 4)
        self.assertEqual(open_ranges[0][0], 0)
        self.assertEqual(open_ranges[-1][1], MAX_KEY)
        for (_, end), (start, _) in zip(open_ranges, open_ranges[1:]):
            self.assertEqual(start, end + 1)
        self.assertIn("shards:     %d (4 open)" % len(d["shards"]), self.ok("describe", s))

        # A split point outside the shard: the server's error, exit 1.
        err = self.fails("split", s, "--shard", "shardId-000000000004", "--hash-key",
                         str(MAX_KEY))
        self.assertIn("(InvalidArgumentException)", err)

    def test_retention_up_and_down(self):
        s = self.create("cli-retention")
        self.assertEqual(self.ok("retention", s), "retention of %s: 24 hours\n" % s)
        self.assertEqual(self.ok("retention", s, "--hours", "48"),
                         "retention of %s: 48 hours (was 24)\n" % s)
        self.assertEqual(self.ok("retention", s, "--hours", "30"),
                         "retention of %s: 30 hours (was 48)\n" % s)
        self.assertEqual(self.ok("retention", s, "--hours", "30"), "retention of %s: 30 hours\n" % s)
        self.assertEqual(self.json_ok("retention", s)["stream_description_summary"]
                         ["retention_period_hours"], 30)
        err = self.fails("retention", s, "--hours", "10")
        self.assertIn("retention_period_hours", err)
        self.assertIn("(InvalidArgumentException)", err)

    def test_errors_name_the_kinesis_error_and_exit_non_zero(self):
        err = self.fails("create", "bad name!")
        self.assertTrue(err.startswith("error: invalid argument: stream_name: "), err)
        self.assertTrue(err.rstrip("\n").endswith("(InvalidArgumentException)"), err)
        r = self.cli("create", "bad name!", "--json")
        self.assertEqual(r.returncode, 1)
        error = json.loads(r.stderr)["error"]
        self.assertEqual((error["code"], error["reason"]),
                         ("INVALID_ARGUMENT", "InvalidArgumentException"))
        self.assertEqual([v["field"] for v in error["field_violations"]], ["stream_name"])

        self.assertIn("(ResourceNotFoundException)", self.fails("describe", "cli-no-such-stream"))
        self.assertIn("(ResourceNotFoundException)",
                      self.fails("put", "cli-no-such-stream", "x", "--partition-key", "k"))
        self.assertIn("(ResourceNotFoundException)", self.fails("get", "cli-no-such-stream"))
        s = self.create("cli-errors")
        self.assertIn("(ResourceInUseException)", self.fails("create", s, "--shards", "1"))
        self.assertIn("error: --from: \"oldest\" is not trim-horizon",
                      self.fails("get", s, "--from", "oldest", code=2))


class StreamsCliFastClockTest(_CliBase):
    """A clock 600 times faster: a subscription's 5 minutes take half a second."""

    SERVER_ARGS = ("--time-scale", "600")

    def subscriptions_started(self):
        _, text = tt.http_get(self.server.metrics_port, "/metrics")
        return tt.metric_sum(text, "grpc_server_started_total", grpc_method="SubscribeToShard")

    def test_subscribe_resubscribes_from_the_continuation(self):
        s = self.create("cli-resubscribe")
        sub = self.start("subscribe", s, "--consumer", "cli-long", "--from", "trim-horizon")
        sub.wait_stderr("subscribed to shardId-000000000000")
        _, first = self.ok("put", s, "first", "--partition-key", "k").split()
        self.assertEqual(sub.next_line(), "%s k first" % first)
        # The first subscription ends after 5 clock minutes; the CLI subscribes again.
        started = self.subscriptions_started()
        tt.wait_until(lambda: self.subscriptions_started() >= started + 2, WAIT_S,
                      "two more subscriptions")
        _, second = self.ok("put", s, "second", "--partition-key", "k").split()
        self.assertEqual(sub.next_line(), "%s k second" % second)
        self.assertEqual(sub.interrupt(), 0, sub.stderr())
        self.assertTrue(sub.lines.empty(), "a record came twice")


if __name__ == "__main__":
    unittest.main()
