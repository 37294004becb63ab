#!/usr/bin/python3
"""Crash test of the objects service: a writer thread puts objects of 1 KiB to
64 MiB (content deterministic per key and size) and completes multipart
uploads (5 MiB + 5 MiB + 1 MiB) while the server is killed (`kill -9`) and
restarted on the same data directory, eight times: in the middle of a 64 MiB
put, in the middle of a multipart upload's second part, in the middle of an
8 MiB put, after every byte of a 64 MiB and of a 3 MiB put was sent but
before the stream ended, during the last part of an upload (the writer's
request stream is held at that point until the kill), and twice at whatever
point the writer has reached.

After each restart (the writer paused):
  * every acknowledged put and multipart completion reads back with the ETag
    it was acknowledged with and the MD5 of its content;
  * no key is visible that was never written, and a visible key whose write
    was not acknowledged (it may have committed just before the kill) has
    its whole, correct content;
  * the space of writes that never committed is reclaimed: the files under
    <data-dir>/objects/ (RocksDB and blob files) add up to at most the live
    objects plus the parts of uploads in progress plus SLACK.
At the end the uploads in progress are aborted and every object deleted; the
space must follow.

SLACK (8 MiB): besides object content, <data-dir>/objects/ holds the
service's metadata (RocksDB: a few hundred small records here, their WAL,
SST, MANIFEST and OPTIONS files, and RocksDB's info LOG of each of the five
starts, ~0.1-0.5 MiB each) -- a few MiB at most (0.4 MiB measured). An
unreclaimed orphan is bigger than SLACK at most kills: 32 or 64 MiB of a
64 MiB put, 11 MiB of a multipart upload; the smaller ones (2 MiB of an 8 MiB
put, 3 MiB) add up across kills, and the final check after deleting every
object (at most SLACK left, blobs included) catches what remains.

Run: PYTHONPATH=tests/python /usr/bin/python3 -m unittest -v tests/integration/test_objects_crash.py
"""

import hashlib
import os
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "python"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import grpc  # noqa: E402

import objects_testing as ot  # noqa: E402
import thingtank_testing as tt  # noqa: E402

KiB, MiB = ot.KiB, ot.MiB
BUCKET = "crash-objects"
CALL_TIMEOUT_S = 60
MP_PARTS = (5 * MiB, 5 * MiB, 1 * MiB)
# The writer's cycle: ("put", size) or ("mp", part sizes).
SCHEDULE = [("put", 1 * KiB), ("put", 64 * KiB + 3), ("put", 1 * MiB), ("put", 8 * MiB + 5),
            ("mp", MP_PARTS), ("put", 64 * MiB), ("put", 3 * MiB + 17), ("put", 300 * KiB)]
# Where each kill lands: the writer's stream is held at (what, bytes sent);
# None: wherever the writer is.
HOLDS = [(("put", 64 * MiB), 32 * MiB), (("part", 2), 2 * MiB), (("put", 8 * MiB + 5), 2 * MiB),
         None,
         # Every byte sent, the stream not yet ended: nothing may commit.
         (("put", 64 * MiB), 64 * MiB), (("put", 3 * MiB + 17), 3 * MiB + 17),
         (("part", 3), 1 * MiB), None]
MIN_ACKS_PER_ROUND = 4
SLACK = 8 * MiB


def put_key(seq, size):
    return "p-%05d-%d" % (seq, size)


def mp_key(seq):
    return "m-%05d" % seq


def expected(key, intended):
    """(ETag, MD5 hex, size) of the content the writer sends for key."""
    kind, arg = intended
    if kind == "put":
        md5 = ot.Stream(key, arg).md5()
        return ot.quoted(md5.hexdigest()), md5.hexdigest(), arg
    whole, digests = hashlib.md5(), []
    for n, size in enumerate(arg, start=1):
        part = hashlib.md5()
        for c in ot.Stream("%s#%d" % (key, n), size).chunks():
            part.update(c)
            whole.update(c)
        digests.append(part.digest())
    return ot.multipart_etag(digests), whole.hexdigest(), sum(arg)


def space(data_dir):
    """(bytes of all files under <data-dir>/objects/, of those under its blobs/)."""
    root = os.path.join(data_dir, "objects")
    total = blobs = 0
    for d, _, files in os.walk(root):
        for f in files:
            try:
                st = os.lstat(os.path.join(d, f))
            except FileNotFoundError:
                continue
            total += st.st_size
            if os.path.relpath(d, root).split(os.sep)[0] == "blobs":
                blobs += st.st_size
    return total, blobs


class Load(tt.CrashLoad):
    """One writer thread. Each key is written once; it is recorded as
    acknowledged (with the ETag and the MD5 of what was sent) only after its
    PutObject or CompleteMultipartUpload returned OK."""

    WORKER = "writer"

    def __init__(self, pb, grpc_mod):
        super().__init__(pb, 1)
        self.grpc_mod = grpc_mod
        self.step = 0
        self.seq = 0
        self.intended = {}   # key -> ("put", size) | ("mp", sizes)
        self.acked_info = {}  # key -> (etag, md5 hex, size)
        self.hold = None
        self.held = threading.Event()
        self.release = threading.Event()
        self.busy = False

    def set_hold(self, hold):
        with self.cond:
            self.held.clear()
            self.release.clear()
            self.hold = hold

    def release_hold(self):
        with self.cond:
            self.hold = None
        self.release.set()

    def _maybe_hold(self, what, sent):
        with self.cond:
            hold = self.hold
            if hold is None or hold[0] != what or sent < hold[1]:
                return
            self.hold = None
        self.held.set()
        self.release.wait(tt.START_DEADLINE_S)

    def _chunks(self, seed, size, what, digests):
        sent = 0
        for c in ot.Stream(seed, size).chunks():
            for h in digests:
                h.update(c)
            yield c
            sent += len(c)
            self._maybe_hold(what, sent)

    def work(self, index, channel):
        with self.cond:
            self.busy = True
        try:
            self._work(self.grpc_mod.ObjectsServiceStub(channel))
        finally:
            with self.cond:
                self.busy = False

    def multipart_broken(self):
        with self.cond:
            return any(e.startswith("mp ") for e in self.errors)

    def is_busy(self):
        with self.cond:
            return self.busy

    def _work(self, stub):
        pb = self.pb
        while not self.stopped():
            kind, arg = SCHEDULE[self.step % len(SCHEDULE)]
            self.step += 1
            self.seq += 1
            key = put_key(self.seq, arg) if kind == "put" else mp_key(self.seq)
            with self.cond:
                self.intended[key] = (kind, arg)
            whole = hashlib.md5()
            try:
                if kind == "put":
                    header = pb.PutObjectHeader(bucket=BUCKET, key=key)
                    r = stub.PutObject(ot.put_requests(pb, header, self._chunks(
                        key, arg, ("put", arg), [whole])), timeout=CALL_TIMEOUT_S)
                    etag, want = r.etag, ot.quoted(whole.hexdigest())
                else:
                    up = stub.CreateMultipartUpload(pb.CreateMultipartUploadRequest(
                        bucket=BUCKET, key=key), timeout=CALL_TIMEOUT_S)
                    parts, digests = [], []
                    for n, size in enumerate(arg, start=1):
                        part = hashlib.md5()
                        r = ot.upload_part(stub, pb, BUCKET, key, up.upload_id, n,
                                           chunks=self._chunks("%s#%d" % (key, n), size,
                                                               ("part", n), [part, whole]),
                                           timeout=CALL_TIMEOUT_S)
                        if r.etag != ot.quoted(part.hexdigest()):
                            with self.cond:
                                self.errors.append("%s part %d: etag %s, md5 %s"
                                                   % (key, n, r.etag, part.hexdigest()))
                        parts.append(pb.CompletedPart(part_number=n, etag=r.etag))
                        digests.append(part.digest())
                    r = stub.CompleteMultipartUpload(pb.CompleteMultipartUploadRequest(
                        bucket=BUCKET, key=key, upload_id=up.upload_id, parts=parts),
                        timeout=CALL_TIMEOUT_S)
                    etag, want = r.etag, ot.multipart_etag(digests)
            except grpc.RpcError as e:
                self.failed("%s %s" % (kind, key), e, unsure=key)
                if e.code() in tt.CRASH_CODES:
                    return  # wait for the restarted server
                continue  # a wrong answer (recorded in errors): go on, to test the rest
            if etag != want:
                with self.cond:
                    self.errors.append("%s: acknowledged with etag %s, want %s" % (key, etag, want))
            with self.cond:
                self.acked_info[key] = (etag, whole.hexdigest(), sum(arg) if kind == "mp" else arg)
            self.ack(key)


class ObjectsCrashTest(unittest.TestCase):
    def verify(self, s3, pb, load, data_dir, label):
        """The checks after a restart; returns a one-line summary."""
        listed = ot.list_objects(s3, pb, BUCKET)
        with load.cond:
            acked = dict(load.acked_info)
            unsure = set(load.unsure)
            intended = dict(load.intended)
        lost = sorted(set(acked) - set(listed))
        self.assertEqual(lost, [], "%s: acknowledged objects missing" % label)
        unknown = sorted(set(listed) - set(acked) - unsure)
        self.assertEqual(unknown, [], "%s: objects that were never written" % label)
        unsure_visible = 0
        for key, info in sorted(listed.items()):
            if key in acked:
                etag, md5hex, size = acked[key]
            else:
                etag, md5hex, size = expected(key, intended[key])
                unsure_visible += 1
            self.assertEqual((info.etag, info.size), (etag, size), "%s: %s listed" % (label, key))
            h, got, first = hashlib.md5(), 0, None
            for m in s3.GetObject(pb.GetObjectRequest(bucket=BUCKET, key=key),
                                  timeout=CALL_TIMEOUT_S):
                if first is None:
                    first = m
                h.update(m.data)
                got += len(m.data)
            self.assertEqual((first.info.etag, got, h.hexdigest()), (etag, size, md5hex),
                             "%s: %s (%s) read back" % (label, key,
                                                        "acknowledged" if key in acked
                                                        else "unacknowledged"))
        live = sum(i.size for i in listed.values())
        # Uploads in progress (created before a kill) keep their acknowledged parts.
        uploads = s3.ListMultipartUploads(pb.ListMultipartUploadsRequest(bucket=BUCKET),
                                          timeout=CALL_TIMEOUT_S).uploads
        parts = 0
        for u in uploads:
            self.assertIn(u.key, intended, "%s: an upload of a key never written" % label)
            self.assertNotIn(u.key, acked, "%s: a completed upload still listed" % label)
            r = s3.ListParts(pb.ListPartsRequest(bucket=BUCKET, key=u.key, upload_id=u.upload_id),
                             timeout=CALL_TIMEOUT_S)
            parts += sum(p.size for p in r.parts)
        bound = live + parts + SLACK
        measured = [None]

        def within():
            measured[0] = space(data_dir)
            return measured[0][0] <= bound
        try:
            tt.wait_until(within, tt.START_DEADLINE_S, "the orphans' space reclaimed")
        except AssertionError:
            total, blobs = measured[0]
            self.fail("%s: %d bytes under objects/ (%d in blobs/) > live objects %d + parts of "
                      "uploads in progress %d + slack %d: %.1f MiB not reclaimed"
                      % (label, total, blobs, live, parts, SLACK, (total - live - parts) / MiB))
        total, blobs = measured[0]
        return ("%s: %d objects (%d acknowledged, %d unacknowledged but committed), %d uploads in "
                "progress; live %.1f MiB + parts %.1f MiB; on disk %.1f MiB (blobs %.1f MiB, "
                "other %.2f MiB)" % (label, len(listed), len(listed) - unsure_visible,
                                     unsure_visible, len(uploads), live / MiB, parts / MiB,
                                     total / MiB, blobs / MiB, (total - blobs) / MiB))

    def test_kill9_during_puts_and_uploads(self):
        pb, grpc_mod = tt.load_objects()
        started = time.monotonic()
        server, channel = tt.start_crash_server(self)
        s3 = grpc_mod.ObjectsServiceStub(channel)
        s3.CreateBucket(pb.CreateBucketRequest(bucket=BUCKET), timeout=tt.CALL_DEADLINE_S)

        load = Load(pb, grpc_mod)
        tt.start_crash_load(self, load, server)
        self.addCleanup(load.release_hold)
        lines, notes = [], []
        for round_no, hold in enumerate(HOLDS):
            target = load.acked_count() + MIN_ACKS_PER_ROUND
            tt.wait_until(lambda: load.acked_count() >= target, 4 * tt.START_DEADLINE_S,
                          "%d writes acknowledged in round %d" % (MIN_ACKS_PER_ROUND, round_no))
            if hold is not None and hold[0][0] == "part" and load.multipart_broken():
                notes.append("kill %d: anywhere instead of during a part (multipart uploads "
                             "fail: %s)" % (round_no + 1, load.errors[0]))
                hold = None
            if hold is not None:
                load.set_hold(hold)
                tt.wait_until(load.held.is_set, 4 * tt.START_DEADLINE_S,
                              "the writer at %r (round %d)" % (hold, round_no))
            # What is on disk at the kill beyond the acknowledged objects: the
            # write cut short (when the writer is held mid-stream), to be reclaimed.
            with load.cond:
                acked_bytes = sum(v[2] for v in load.acked_info.values())
            at_kill = ("; at the kill, blob bytes beyond the acknowledged objects %.1f MiB"
                       % ((space(server.data_dir)[1] - acked_bytes) / MiB)) if hold else ""
            channel = tt.kill_and_restart(server, load, channel, resume=False)
            load.release_hold()
            tt.wait_until(lambda: not load.is_busy(), tt.START_DEADLINE_S,
                          "the writer to notice the kill")
            s3 = grpc_mod.ObjectsServiceStub(channel)
            lines.append(self.verify(s3, pb, load, server.data_dir,
                                     "after kill %d (%s)" % (round_no + 1, hold and hold[0][0]
                                                             or "anywhere"))
                         + at_kill)
            if round_no < len(HOLDS) - 1:
                load.set_server(server.ports["gateway"])
        load.stop()

        # Abort the uploads in progress, delete everything: the space follows.
        uploads = s3.ListMultipartUploads(pb.ListMultipartUploadsRequest(bucket=BUCKET),
                                          timeout=tt.CALL_DEADLINE_S).uploads
        for u in uploads:
            s3.AbortMultipartUpload(pb.AbortMultipartUploadRequest(
                bucket=BUCKET, key=u.key, upload_id=u.upload_id), timeout=tt.CALL_DEADLINE_S)
        lines.append(self.verify(s3, pb, load, server.data_dir, "after aborting %d uploads"
                                 % len(uploads)))
        keys = ot.list_keys(s3, pb, BUCKET)
        for i in range(0, len(keys), 1000):
            r = s3.DeleteObjects(pb.DeleteObjectsRequest(bucket=BUCKET, objects=[
                pb.ObjectIdentifier(key=k) for k in keys[i:i + 1000]]), timeout=tt.CALL_DEADLINE_S)
            self.assertEqual(list(r.errors), [])
        measured = [None]

        def emptied():
            measured[0] = space(server.data_dir)
            return measured[0][0] <= SLACK and measured[0][1] == 0  # no object, no upload
        try:
            tt.wait_until(emptied, tt.START_DEADLINE_S, "the space of deleted objects reclaimed")
        except AssertionError:
            self.fail("after deleting every object: %d bytes under objects/ (%d in blobs/) > "
                      "slack %d, or blob bytes left" % (measured[0][0], measured[0][1], SLACK))
        lines.append("after deleting every object: on disk %.2f MiB (blobs %.2f MiB)"
                     % (measured[0][0] / MiB, measured[0][1] / MiB))
        s3.DeleteBucket(pb.DeleteBucketRequest(bucket=BUCKET), timeout=tt.CALL_DEADLINE_S)
        channel.close()
        server.stop(check=True)
        acked, unsure = set(load.acked), set(load.unsure)
        print("\nobjects crash test: %d kills, %d writes acknowledged (%.0f MiB), %d in flight at "
              "kills; %.1f s\n  %s" % (len(HOLDS), len(acked),
                                       sum(v[2] for v in load.acked_info.values()) / MiB,
                                       len(unsure), time.monotonic() - started,
                                       "\n  ".join(lines + notes)), file=sys.stderr)
        self.assertEqual(len(acked), len(load.acked), "a key was acknowledged twice")
        self.assertEqual(load.errors[:5], [], "unexpected errors (%d; the first 5)"
                         % len(load.errors))


if __name__ == "__main__":
    unittest.main()
