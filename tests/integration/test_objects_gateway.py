#!/usr/bin/python3
"""Integration tests of the objects service (S3) through the gateway, with the
Python client generated from proto/, in monolithic mode (one process) and in
microservice mode (an objects process and a queues process behind a gateway
process; the objects process reaches the queues through the gateway,
--gateway-address, for notifications).

The classic boto program (bucket, streamed upload of a file with a progress
callback, list, download, delete), ranges and part reads, multipart uploads
and S3's multipart ETag, versioning and delete markers, conditional puts and
gets (a create-only race between two threads), checksums, listing with
delimiters and continuation tokens, copies, multi-object delete, an event
notification arriving on a queue, and bad input with S3's error codes.

Run: PYTHONPATH=tests/python /usr/bin/python3 -m unittest -v tests/integration/test_objects_gateway.py
"""

import filecmp
import hashlib
import json
import os
import sys
import tempfile
import threading
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "python"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import grpc  # noqa: E402

import objects_testing as ot  # noqa: E402
import thingtank_testing as tt  # noqa: E402

T = tt.CALL_DEADLINE_S
MiB = ot.MiB
INVALID = grpc.StatusCode.INVALID_ARGUMENT
NOT_FOUND = grpc.StatusCode.NOT_FOUND
FAILED = grpc.StatusCode.FAILED_PRECONDITION


class _ObjectsTests:
    """The tests; subclasses choose the deployment mode."""

    MODE = None

    @classmethod
    def setUpClass(cls):
        cls.pb, cls.grpc_mod = tt.load_objects()
        if cls.MODE == tt.Deployment.MICROSERVICE:
            deployment = tt.Deployment(cls.MODE, service="objects", other_services=("queues",),
                                       peer_gateway=True)
        else:
            deployment = tt.Deployment(cls.MODE)
        cls.addClassCleanup(deployment.cleanup)
        cls.deployment = deployment
        cls.qpb = tt.queues_pb2

    @classmethod
    def tearDownClass(cls):
        cls.deployment.stop()

    def setUp(self):
        self.s3 = self.grpc_mod.ObjectsServiceStub(self.deployment.channel)
        self.sqs = tt.queues_pb2_grpc.QueuesServiceStub(self.deployment.channel)

    # -- helpers ------------------------------------------------------------

    def bucket(self, name):
        self.s3.CreateBucket(self.pb.CreateBucketRequest(bucket=name), timeout=T)
        return name

    def put(self, bucket, key, data=b"", **header):
        return ot.put(self.s3, self.pb, bucket, key, data, **header)

    def get(self, bucket, key, **kw):
        return ot.get(self.s3, self.pb, bucket, key, **kw)

    def head(self, bucket, key, **kw):
        return self.s3.HeadObject(self.pb.HeadObjectRequest(bucket=bucket, key=key, **kw),
                                  timeout=T)

    def assertError(self, err, code, reason=None, field=None):
        self.assertEqual(err.code, code, err)
        if reason is not None:
            self.assertIn(reason, err.reasons, err)
        if field is not None:
            self.assertIn(field, err.fields, err)

    def multipart(self, bucket, key, sizes, seed):
        """Uploads parts of these sizes; returns (upload_id, [(number, etag, data)])."""
        pb = self.pb
        up = self.s3.CreateMultipartUpload(pb.CreateMultipartUploadRequest(bucket=bucket, key=key),
                                           timeout=T)
        self.assertEqual((up.bucket, up.key), (bucket, key))
        self.assertTrue(up.upload_id)
        parts = []
        for n, size in enumerate(sizes, start=1):
            data = ot.pattern(size, "%s-%d" % (seed, n))
            r = ot.upload_part(self.s3, pb, bucket, key, up.upload_id, n, data)
            self.assertEqual(r.etag, ot.etag_of(data), "part %d" % n)
            parts.append((n, r.etag, data))
        return up.upload_id, parts

    def complete(self, bucket, key, upload_id, parts):
        pb = self.pb
        return self.s3.CompleteMultipartUpload(pb.CompleteMultipartUploadRequest(
            bucket=bucket, key=key, upload_id=upload_id,
            parts=[pb.CompletedPart(part_number=n, etag=e) for n, e in parts]), timeout=T)

    # -- the classic boto program --------------------------------------------

    def test_classic_boto_program(self):
        """boto's S3 tutorial: create_bucket('mybucket2013'), upload file.txt as
        data/file.txt with a progress callback, list, get_contents_to_filename,
        delete the key and the bucket."""
        pb = self.pb
        r = self.s3.CreateBucket(pb.CreateBucketRequest(bucket="mybucket2013"), timeout=T)
        self.assertEqual(r.location, "/mybucket2013")
        self.s3.HeadBucket(pb.HeadBucketRequest(bucket="mybucket2013"), timeout=T)
        buckets = self.s3.ListBuckets(pb.ListBucketsRequest(), timeout=T)
        self.assertIn("mybucket2013", [b.name for b in buckets.buckets])

        work = tempfile.mkdtemp(prefix="thingtank-boto-")
        self.addCleanup(lambda: __import__("shutil").rmtree(work, ignore_errors=True))
        local = os.path.join(work, "file.txt")
        content = b"".join(b"line %06d of the classic boto upload\n" % i for i in range(40000))
        with open(local, "wb") as f:
            f.write(content)
        total = os.path.getsize(local)
        calls = []

        def cb(bytes_sent, size):
            calls.append((bytes_sent, size))

        chunk = 256 * 1024

        def file_chunks():
            with open(local, "rb") as f:
                while True:
                    data = f.read(chunk)
                    if not data:
                        return
                    yield data
        header = pb.PutObjectHeader(bucket="mybucket2013", key="data/file.txt",
                                    headers=pb.ObjectHeaders(content_type="text/plain"))
        sent = self.s3.PutObject(ot.put_requests(pb, header, file_chunks(),
                                                 progress=lambda n: cb(n, total)), timeout=T)
        self.assertEqual(sent.etag, ot.etag_of(content))
        self.assertEqual(sent.size, total)
        self.assertEqual(sent.version_id, "null")
        # The callback: after each chunk, increasing, ending at the total.
        self.assertEqual(len(calls), -(-total // chunk))
        self.assertEqual([s for _, s in calls], [total] * len(calls))
        sent_values = [b for b, _ in calls]
        self.assertEqual(sent_values, sorted(set(sent_values)), "not strictly increasing")
        self.assertEqual(sent_values[-1], total)

        listed = self.s3.ListObjectsV2(pb.ListObjectsV2Request(bucket="mybucket2013"), timeout=T)
        self.assertEqual([(o.key, o.size, o.etag) for o in listed.contents],
                         [("data/file.txt", total, ot.etag_of(content))])
        self.assertEqual(listed.key_count, 1)
        self.assertFalse(listed.is_truncated)
        self.assertGreater(listed.contents[0].last_modified.seconds, 0)

        # get_contents_to_filename: stream into a file.
        back = os.path.join(work, "file-back.txt")
        first = None
        with open(back, "wb") as f:
            for m in self.s3.GetObject(pb.GetObjectRequest(bucket="mybucket2013",
                                                           key="data/file.txt"), timeout=T):
                if first is None:
                    first = m
                f.write(m.data)
        self.assertTrue(filecmp.cmp(local, back, shallow=False))
        self.assertEqual(first.info.key, "data/file.txt")
        self.assertEqual(first.info.size, total)
        self.assertEqual(first.info.etag, ot.etag_of(content))
        self.assertEqual(first.info.headers.content_type, "text/plain")
        self.assertEqual(first.content_length, total)
        self.assertEqual(first.content_range, "")

        d = self.s3.DeleteObject(pb.DeleteObjectRequest(bucket="mybucket2013", key="data/file.txt"),
                                 timeout=T)
        self.assertFalse(d.delete_marker)
        self.assertError(ot.get_error(self.s3, pb, "mybucket2013", "data/file.txt"), NOT_FOUND,
                         "NoSuchKey")
        self.s3.DeleteBucket(pb.DeleteBucketRequest(bucket="mybucket2013"), timeout=T)
        self.assertError(tt.call_error(self.s3.HeadBucket, pb.HeadBucketRequest(bucket="mybucket2013")),
                         NOT_FOUND, "NoSuchBucket")

    # -- ranges and parts ----------------------------------------------------

    def test_range_gets(self):
        pb = self.pb
        b = self.bucket("ranges")
        data = ot.pattern(100, "ranges")
        self.put(b, "hundred", data)
        for rng, want_range, lo, hi in [
                ("bytes=0-9", "bytes 0-9/100", 0, 10),
                ("bytes=10-", "bytes 10-99/100", 10, 100),
                ("bytes=-5", "bytes 95-99/100", 95, 100),
                ("bytes=90-1000", "bytes 90-99/100", 90, 100),   # clamped to the end
                ("bytes=-1000", "bytes 0-99/100", 0, 100),       # suffix longer than the object
                ("bytes=99-99", "bytes 99-99/100", 99, 100)]:
            got = self.get(b, "hundred", range=rng)
            self.assertEqual(got.data, data[lo:hi], rng)
            self.assertEqual(got.content_range, want_range, rng)
            self.assertEqual(got.content_length, hi - lo, rng)
            self.assertEqual(got.info.size, 100, rng)
            self.assertEqual(got.info.etag, ot.etag_of(data), rng)
            self.assertEqual(got.later_infos, 0, rng)
        h = self.head(b, "hundred", range="bytes=0-9")
        self.assertEqual((h.content_range, h.content_length), ("bytes 0-9/100", 10))
        for rng in ["bytes=100-", "bytes=100-200", "bytes=1000-"]:
            err = ot.get_error(self.s3, pb, b, "hundred", range=rng)
            self.assertError(err, grpc.StatusCode.OUT_OF_RANGE, "InvalidRange")

        # Part reads on a multipart object (5 MiB, 5 MiB, 1 MiB).
        upload_id, parts = self.multipart(b, "three-parts", [5 * MiB, 5 * MiB, 1 * MiB], "ranges-mp")
        self.complete(b, "three-parts", upload_id, [(n, e) for n, e, _ in parts])
        whole = b"".join(d for _, _, d in parts)
        offset = 0
        for n, _, d in parts:
            got = self.get(b, "three-parts", part_number=n)
            self.assertEqual(got.data, d, "part %d" % n)
            self.assertEqual(got.content_range, "bytes %d-%d/%d" % (offset, offset + len(d) - 1,
                                                                   len(whole)), "part %d" % n)
            self.assertEqual(got.content_length, len(d))
            self.assertEqual(got.info.parts_count, 3)
            self.assertEqual(got.info.size, len(whole))
            offset += len(d)
        got = self.get(b, "three-parts", range="bytes=5242878-5242881")
        self.assertEqual(got.data, whole[5242878:5242882])  # across the part boundary
        self.assertEqual(got.content_range, "bytes 5242878-5242881/%d" % len(whole))
        # A part the object does not have: S3's 416 InvalidPartNumber.
        err = ot.get_error(self.s3, pb, b, "three-parts", part_number=4)
        self.assertError(err, grpc.StatusCode.OUT_OF_RANGE, "InvalidPartNumber")
        # A part number of a single-put object other than 1: the same.
        err = ot.get_error(self.s3, pb, b, "hundred", part_number=2)
        self.assertError(err, grpc.StatusCode.OUT_OF_RANGE, "InvalidPartNumber")

    # -- multipart -----------------------------------------------------------

    def test_multipart_upload(self):
        pb = self.pb
        b = self.bucket("multipart")
        key = "big/three-parts.bin"
        sizes = [5 * MiB, 5 * MiB, 1 * MiB]
        upload_id, parts = self.multipart(b, key, sizes, "mp")
        # A second upload of the same key, to be aborted.
        other = self.s3.CreateMultipartUpload(pb.CreateMultipartUploadRequest(bucket=b, key=key),
                                              timeout=T).upload_id
        self.assertNotEqual(other, upload_id)

        listed = self.s3.ListParts(pb.ListPartsRequest(bucket=b, key=key, upload_id=upload_id),
                                   timeout=T)
        self.assertEqual([(p.part_number, p.etag, p.size) for p in listed.parts],
                         [(n, e, len(d)) for n, e, d in parts])
        self.assertFalse(listed.is_truncated)
        page = self.s3.ListParts(pb.ListPartsRequest(bucket=b, key=key, upload_id=upload_id,
                                                     max_parts=2), timeout=T)
        self.assertEqual([p.part_number for p in page.parts], [1, 2])
        self.assertTrue(page.is_truncated)
        self.assertEqual(page.next_part_number_marker, 2)
        rest = self.s3.ListParts(pb.ListPartsRequest(bucket=b, key=key, upload_id=upload_id,
                                                     part_number_marker=2), timeout=T)
        self.assertEqual([p.part_number for p in rest.parts], [3])

        uploads = self.s3.ListMultipartUploads(pb.ListMultipartUploadsRequest(bucket=b), timeout=T)
        self.assertEqual(sorted((u.key, u.upload_id) for u in uploads.uploads),
                         sorted([(key, upload_id), (key, other)]))
        # Not visible as an object before it completes.
        self.assertError(ot.get_error(self.s3, pb, b, key), NOT_FOUND, "NoSuchKey")

        done = self.complete(b, key, upload_id, [(n, e) for n, e, _ in parts])
        want_etag = ot.multipart_etag([hashlib.md5(d).digest() for _, _, d in parts])
        self.assertEqual(done.etag, want_etag)
        self.assertEqual((done.bucket, done.key), (b, key))
        self.assertEqual(done.size, sum(sizes))
        whole = b"".join(d for _, _, d in parts)
        got = self.get(b, key)
        self.assertEqual(len(got.data), len(whole))
        self.assertTrue(got.data == whole, "content differs")
        self.assertEqual(got.info.etag, want_etag)
        self.assertEqual(got.info.parts_count, 3)
        self.assertEqual(self.head(b, key).info.etag, want_etag)
        # The completed upload is gone; the other one is still listed.
        uploads = self.s3.ListMultipartUploads(pb.ListMultipartUploadsRequest(bucket=b), timeout=T)
        self.assertEqual([u.upload_id for u in uploads.uploads], [other])
        self.assertError(tt.call_error(self.s3.ListParts, pb.ListPartsRequest(
            bucket=b, key=key, upload_id=upload_id)), NOT_FOUND, "NoSuchUpload")

        # Abort.
        self.s3.AbortMultipartUpload(pb.AbortMultipartUploadRequest(bucket=b, key=key,
                                                                    upload_id=other), timeout=T)
        uploads = self.s3.ListMultipartUploads(pb.ListMultipartUploadsRequest(bucket=b), timeout=T)
        self.assertEqual(list(uploads.uploads), [])
        self.assertError(tt.call_error(self.s3.ListParts, pb.ListPartsRequest(
            bucket=b, key=key, upload_id=other)), NOT_FOUND, "NoSuchUpload")
        # The completed object is untouched by the abort.
        self.assertEqual(self.head(b, key).info.etag, want_etag)

    def test_multipart_errors(self):
        pb = self.pb
        b = self.bucket("multipart-errors")
        # A part other than the last under 5 MiB: EntityTooSmall.
        upload_id, parts = self.multipart(b, "small", [1 * MiB, 1 * MiB], "small")
        err = tt.call_error(self.s3.CompleteMultipartUpload, pb.CompleteMultipartUploadRequest(
            bucket=b, key="small", upload_id=upload_id,
            parts=[pb.CompletedPart(part_number=n, etag=e) for n, e, _ in parts]))
        self.assertError(err, INVALID, "EntityTooSmall")
        # A single small part is fine (the last part may be small).
        self.complete(b, "small", upload_id, [(parts[0][0], parts[0][1])])
        self.assertEqual(self.get(b, "small").data, parts[0][2])

        upload_id, parts = self.multipart(b, "order", [5 * MiB, 1 * MiB], "order")
        # A wrong ETag: InvalidPart.
        err = tt.call_error(self.s3.CompleteMultipartUpload, pb.CompleteMultipartUploadRequest(
            bucket=b, key="order", upload_id=upload_id, parts=[
                pb.CompletedPart(part_number=1, etag=parts[0][1]),
                pb.CompletedPart(part_number=2, etag=ot.quoted("0" * 32))]))
        self.assertError(err, INVALID, "InvalidPart")
        # A part never uploaded: InvalidPart.
        err = tt.call_error(self.s3.CompleteMultipartUpload, pb.CompleteMultipartUploadRequest(
            bucket=b, key="order", upload_id=upload_id, parts=[
                pb.CompletedPart(part_number=1, etag=parts[0][1]),
                pb.CompletedPart(part_number=7, etag=parts[1][1])]))
        self.assertError(err, INVALID, "InvalidPart")
        # Descending: InvalidPartOrder.
        err = tt.call_error(self.s3.CompleteMultipartUpload, pb.CompleteMultipartUploadRequest(
            bucket=b, key="order", upload_id=upload_id, parts=[
                pb.CompletedPart(part_number=2, etag=parts[1][1]),
                pb.CompletedPart(part_number=1, etag=parts[0][1])]))
        self.assertError(err, INVALID, "InvalidPartOrder")
        # The upload survived the failed completions; quotes are optional.
        done = self.complete(b, "order", upload_id, [(n, e.strip('"')) for n, e, _ in parts])
        self.assertEqual(done.etag, ot.multipart_etag([hashlib.md5(d).digest()
                                                       for _, _, d in parts]))
        # Unknown upload id: NoSuchUpload everywhere.
        bogus = "no-such-upload-id"
        for name, call in [
                ("UploadPart", lambda: ot.stream_error(self.s3.UploadPart, iter([pb.UploadPartRequest(
                    header=pb.UploadPartHeader(bucket=b, key="order", upload_id=bogus,
                                               part_number=1), data=b"x")]))),
                ("ListParts", lambda: tt.call_error(self.s3.ListParts, pb.ListPartsRequest(
                    bucket=b, key="order", upload_id=bogus))),
                ("Complete", lambda: tt.call_error(self.s3.CompleteMultipartUpload,
                                                   pb.CompleteMultipartUploadRequest(
                                                       bucket=b, key="order", upload_id=bogus,
                                                       parts=[pb.CompletedPart(
                                                           part_number=1, etag=parts[0][1])]))),
                ("Abort", lambda: tt.call_error(self.s3.AbortMultipartUpload,
                                                pb.AbortMultipartUploadRequest(
                                                    bucket=b, key="order", upload_id=bogus)))]:
            with self.subTest(name):
                self.assertError(call(), NOT_FOUND, "NoSuchUpload")

    # -- versioning ----------------------------------------------------------

    def test_versioning(self):
        pb = self.pb
        b = self.bucket("versioned")
        self.assertEqual(self.s3.GetBucketVersioning(pb.GetBucketVersioningRequest(bucket=b),
                                                     timeout=T).status,
                         pb.VERSIONING_STATUS_UNSPECIFIED)
        self.s3.PutBucketVersioning(pb.PutBucketVersioningRequest(
            bucket=b, status=pb.VERSIONING_STATUS_ENABLED), timeout=T)
        self.assertEqual(self.s3.GetBucketVersioning(pb.GetBucketVersioningRequest(bucket=b),
                                                     timeout=T).status,
                         pb.VERSIONING_STATUS_ENABLED)
        v1 = self.put(b, "doc", b"one").version_id
        v2 = self.put(b, "doc", b"two").version_id
        self.assertNotIn(v1, ("", "null"))
        self.assertNotIn(v2, ("", "null", v1))

        def versions():
            r = self.s3.ListObjectVersions(pb.ListObjectVersionsRequest(bucket=b, prefix="doc"),
                                           timeout=T)
            return ([(v.key, v.version_id, v.is_latest, v.size) for v in r.versions],
                    [(m.key, m.version_id, m.is_latest) for m in r.delete_markers])
        self.assertEqual(versions(), ([("doc", v2, True, 3), ("doc", v1, False, 3)], []))
        self.assertEqual(self.get(b, "doc").data, b"two")
        old = self.get(b, "doc", version_id=v1)
        self.assertEqual((old.data, old.info.version_id), (b"one", v1))
        self.assertEqual(self.head(b, "doc", version_id=v2).info.version_id, v2)

        # Delete without a version id: a delete marker.
        d = self.s3.DeleteObject(pb.DeleteObjectRequest(bucket=b, key="doc"), timeout=T)
        self.assertTrue(d.delete_marker)
        marker = d.version_id
        self.assertNotIn(marker, ("", "null", v1, v2))
        self.assertError(ot.get_error(self.s3, pb, b, "doc"), NOT_FOUND, "NoSuchKey")
        self.assertNotIn("doc", ot.list_keys(self.s3, pb, b))
        self.assertEqual(versions(), ([("doc", v2, False, 3), ("doc", v1, False, 3)],
                                      [("doc", marker, True)]))
        # The versions are still readable by id.
        self.assertEqual(self.get(b, "doc", version_id=v2).data, b"two")

        # Delete the marker by version id: the object is back.
        d = self.s3.DeleteObject(pb.DeleteObjectRequest(bucket=b, key="doc", version_id=marker),
                                 timeout=T)
        self.assertTrue(d.delete_marker)
        self.assertEqual(d.version_id, marker)
        self.assertEqual(self.get(b, "doc").data, b"two")
        self.assertIn("doc", ot.list_keys(self.s3, pb, b))
        self.assertEqual(versions(), ([("doc", v2, True, 3), ("doc", v1, False, 3)], []))

        # Delete one version for good.
        d = self.s3.DeleteObject(pb.DeleteObjectRequest(bucket=b, key="doc", version_id=v1),
                                 timeout=T)
        self.assertFalse(d.delete_marker)
        self.assertEqual(d.version_id, v1)
        self.assertError(ot.get_error(self.s3, pb, b, "doc", version_id=v1), NOT_FOUND)

        # Suspended: new writes are the "null" version, which a second put replaces.
        self.s3.PutBucketVersioning(pb.PutBucketVersioningRequest(
            bucket=b, status=pb.VERSIONING_STATUS_SUSPENDED), timeout=T)
        self.assertEqual(self.s3.GetBucketVersioning(pb.GetBucketVersioningRequest(bucket=b),
                                                     timeout=T).status,
                         pb.VERSIONING_STATUS_SUSPENDED)
        self.assertEqual(self.put(b, "doc", b"three").version_id, "null")
        self.assertEqual(self.put(b, "doc", b"four!").version_id, "null")
        self.assertEqual(versions(), ([("doc", "null", True, 5), ("doc", v2, False, 3)], []))
        self.assertEqual(self.get(b, "doc", version_id="null").data, b"four!")
        self.assertEqual(self.get(b, "doc", version_id=v2).data, b"two")
        # Re-enabled: a new version on top; the null version stays.
        self.s3.PutBucketVersioning(pb.PutBucketVersioningRequest(
            bucket=b, status=pb.VERSIONING_STATUS_ENABLED), timeout=T)
        v3 = self.put(b, "doc", b"five").version_id
        self.assertNotIn(v3, ("", "null", v2))
        self.assertEqual(versions(), ([("doc", v3, True, 4), ("doc", "null", False, 5),
                                       ("doc", v2, False, 3)], []))
        # An unversioned bucket's objects are the "null" version.
        plain = self.bucket("never-versioned")
        self.assertEqual(self.put(plain, "k", b"x").version_id, "null")
        self.assertEqual(self.head(plain, "k").info.version_id, "null")

    # -- conditions ----------------------------------------------------------

    def test_conditional_writes_and_reads(self):
        pb = self.pb
        b = self.bucket("conditions")
        create_only = pb.Conditions(if_none_match="*")
        # Two concurrent create-only puts of one key: exactly one wins.
        for attempt in range(3):
            key = "race-%d" % attempt
            barrier = threading.Barrier(2)
            results = [None, None]

            def racer(i):
                data = ot.pattern(256 * 1024, "%s-%d" % (key, i))
                header = pb.PutObjectHeader(bucket=b, key=key, conditions=create_only)

                def requests():
                    barrier.wait(T)
                    yield pb.PutObjectRequest(header=header)
                    yield pb.PutObjectRequest(data=data)
                try:
                    results[i] = ("ok", self.s3.PutObject(requests(), timeout=T), data)
                except grpc.RpcError as e:
                    results[i] = ("error", tt.error_details(e), data)
            threads = [threading.Thread(target=racer, args=(i,)) for i in range(2)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(2 * T)
            self.assertEqual(sorted(r[0] for r in results), ["error", "ok"], results)
            (winner,) = [r for r in results if r[0] == "ok"]
            (loser,) = [r for r in results if r[0] == "error"]
            self.assertError(loser[1], FAILED, "PreconditionFailed")
            got = self.get(b, key)
            self.assertEqual(got.data, winner[2])
            self.assertEqual(got.info.etag, winner[1].etag)

        first = self.put(b, "cond", b"first")
        # Create-only on an existing key.
        self.assertError(ot.put_error(self.s3, pb, b, "cond", b"again", conditions=create_only),
                         FAILED, "PreconditionFailed")
        # If-Match with another ETag: refused, the object unchanged.
        self.assertError(ot.put_error(self.s3, pb, b, "cond", b"second", conditions=pb.Conditions(
            if_match=ot.etag_of(b"something else"))), FAILED, "PreconditionFailed")
        self.assertEqual(self.get(b, "cond").data, b"first")
        # If-Match on a missing key.
        err = ot.put_error(self.s3, pb, b, "cond-missing", b"x",
                           conditions=pb.Conditions(if_match=first.etag))
        self.assertEqual(err.code, NOT_FOUND if "NoSuchKey" in err.reasons else FAILED, err)
        # If-Match with the current ETag: replaced.
        second = self.put(b, "cond", b"second", conditions=pb.Conditions(if_match=first.etag))
        self.assertEqual(second.etag, ot.etag_of(b"second"))
        self.assertEqual(self.get(b, "cond").data, b"second")

        # Reads.
        err = ot.get_error(self.s3, pb, b, "cond", conditions=pb.Conditions(if_none_match=second.etag))
        self.assertError(err, FAILED, "NotModified")
        self.assertEqual(self.get(b, "cond", conditions=pb.Conditions(
            if_none_match=first.etag)).data, b"second")
        err = ot.get_error(self.s3, pb, b, "cond", conditions=pb.Conditions(if_match=first.etag))
        self.assertError(err, FAILED, "PreconditionFailed")
        self.assertEqual(self.get(b, "cond", conditions=pb.Conditions(
            if_match=second.etag)).data, b"second")
        err = tt.call_error(self.s3.HeadObject, pb.HeadObjectRequest(
            bucket=b, key="cond", conditions=pb.Conditions(if_none_match=second.etag)))
        self.assertError(err, FAILED, "NotModified")

    # -- checksums -----------------------------------------------------------

    def test_checksums(self):
        pb = self.pb
        b = self.bucket("checksums")
        data = ot.pattern(3 * MiB + 17, "checksums")
        r = self.put(b, "crc", data, checksum_algorithm=pb.CHECKSUM_ALGORITHM_CRC32)
        self.assertEqual(r.checksums.crc32, ot.crc32_b64(data))
        self.assertEqual(r.etag, ot.etag_of(data))
        h = self.head(b, "crc", checksum_mode=pb.CHECKSUM_MODE_ENABLED)
        self.assertEqual(h.info.checksums.crc32, ot.crc32_b64(data))
        g = self.get(b, "crc", checksum_mode=pb.CHECKSUM_MODE_ENABLED)
        self.assertEqual(g.info.checksums.crc32, ot.crc32_b64(data))

        r = self.put(b, "sha", data, checksum_algorithm=pb.CHECKSUM_ALGORITHM_SHA256)
        self.assertEqual(r.checksums.sha256, ot.sha256_b64(data))
        self.assertEqual(self.head(b, "sha", checksum_mode=pb.CHECKSUM_MODE_ENABLED)
                         .info.checksums.sha256, ot.sha256_b64(data))
        # An expected checksum that matches is accepted; one that does not: BadDigest.
        self.put(b, "sha-given", data, checksums=pb.Checksums(sha256=ot.sha256_b64(data)))
        err = ot.put_error(self.s3, pb, b, "sha-given", b"other",
                           checksums=pb.Checksums(sha256=ot.sha256_b64(data)))
        self.assertError(err, INVALID, "BadDigest")
        self.assertEqual(self.get(b, "sha-given").info.etag, ot.etag_of(data))

        # content_md5.
        self.put(b, "md5", b"original")
        ok = self.put(b, "md5", b"right", content_md5=ot.md5_b64(b"right"))
        self.assertEqual(ok.etag, ot.etag_of(b"right"))
        err = ot.put_error(self.s3, pb, b, "md5", b"new content", content_md5=ot.md5_b64(b"other"))
        self.assertError(err, INVALID, "BadDigest", "header.content_md5")
        got = self.get(b, "md5")
        self.assertEqual((got.data, got.info.etag), (b"right", ot.etag_of(b"right")))
        # A content_md5 that is not base64 of 16 bytes: InvalidDigest.
        err = ot.put_error(self.s3, pb, b, "md5", b"x", content_md5="not-an-md5")
        self.assertError(err, INVALID, "InvalidDigest")
        self.assertEqual(self.get(b, "md5").data, b"right")

    # -- listing -------------------------------------------------------------

    def test_list_objects_v2(self):
        pb = self.pb
        b = self.bucket("listing")
        for key in ["photos/2006/jan/a.jpg", "photos/2006/feb/b.jpg", "photos/2007/c.jpg",
                    "photos/top.jpg", "readme.txt"]:
            self.put(b, key, key.encode())

        def ls(**kw):
            r = self.s3.ListObjectsV2(pb.ListObjectsV2Request(bucket=b, **kw), timeout=T)
            return [o.key for o in r.contents], list(r.common_prefixes), r
        keys, prefixes, r = ls(delimiter="/")
        self.assertEqual((keys, prefixes), (["readme.txt"], ["photos/"]))
        self.assertEqual(r.key_count, 2)
        keys, prefixes, r = ls(prefix="photos/", delimiter="/")
        self.assertEqual((keys, prefixes), (["photos/top.jpg"], ["photos/2006/", "photos/2007/"]))
        self.assertEqual((r.key_count, r.prefix, r.delimiter), (3, "photos/", "/"))
        keys, prefixes, _ = ls(prefix="photos/2006/", delimiter="/")
        self.assertEqual((keys, prefixes), ([], ["photos/2006/feb/", "photos/2006/jan/"]))
        keys, prefixes, _ = ls(prefix="photos/")
        self.assertEqual((keys, prefixes), (["photos/2006/feb/b.jpg", "photos/2006/jan/a.jpg",
                                             "photos/2007/c.jpg", "photos/top.jpg"], []))
        keys, prefixes, _ = ls(prefix="nothing/")
        self.assertEqual((keys, prefixes), ([], []))

        # 25 keys, 10 per page: every key once, in order.
        want = ["page/k%02d" % i for i in range(25)]
        for k in reversed(want):
            self.put(b, k, b"p")
        got, token, pages = [], "", []
        while True:
            r = self.s3.ListObjectsV2(pb.ListObjectsV2Request(bucket=b, prefix="page/", max_keys=10,
                                                              continuation_token=token), timeout=T)
            pages.append((len(r.contents), r.is_truncated, r.key_count))
            got.extend(o.key for o in r.contents)
            if not r.is_truncated:
                self.assertEqual(r.next_continuation_token, "")
                break
            self.assertTrue(r.next_continuation_token)
            self.assertEqual(r.max_keys, 10)
            token = r.next_continuation_token
            self.assertLess(len(pages), 10, "pagination does not end")
        self.assertEqual(got, want)
        self.assertEqual(pages, [(10, True, 10), (10, True, 10), (5, False, 5)])
        keys, _, _ = ls(prefix="page/", start_after="page/k14")
        self.assertEqual(keys, want[15:])
        keys, _, _ = ls(prefix="page/", start_after="page/k14x", max_keys=3)
        self.assertEqual(keys, want[15:18])
        # A bad continuation token.
        err = tt.call_error(self.s3.ListObjectsV2, pb.ListObjectsV2Request(
            bucket=b, continuation_token="garbage"))
        self.assertError(err, INVALID, field="continuation_token")

    def test_odd_keys_are_ordinary_keys(self):
        pb = self.pb
        b = self.bucket("odd-keys")
        keys = ["a", "a/b", "a//c", "../x", "trailing/", "./y", "/leading", "a/../b",
                "sp ace", "üñï©ødé", "tab\tkey", "%2F"]
        for k in keys:
            self.put(b, k, ("content of " + k).encode())
        for k in keys:
            got = self.get(b, k)
            self.assertEqual(got.data, ("content of " + k).encode(), k)
            self.assertEqual(got.info.key, k)
        listed = ot.list_keys(self.s3, pb, b)
        self.assertEqual(listed, sorted(keys, key=lambda k: k.encode()))
        r = self.s3.ListObjectsV2(pb.ListObjectsV2Request(bucket=b, delimiter="/"), timeout=T)
        self.assertEqual(list(r.common_prefixes), ["../", "./", "/", "a/", "trailing/"])
        self.assertEqual([o.key for o in r.contents],
                         sorted([k for k in keys if "/" not in k], key=lambda k: k.encode()))
        r = self.s3.ListObjectsV2(pb.ListObjectsV2Request(bucket=b, prefix="a/", delimiter="/"),
                                  timeout=T)
        self.assertEqual(([o.key for o in r.contents], list(r.common_prefixes)),
                         (["a/b"], ["a/../", "a//"]))
        # Deleting "a/b" leaves "a" and "a//c".
        self.s3.DeleteObject(pb.DeleteObjectRequest(bucket=b, key="a/b"), timeout=T)
        self.assertEqual(self.get(b, "a").data, b"content of a")
        self.assertEqual(self.get(b, "a//c").data, b"content of a//c")

    # -- copy and multi-delete -----------------------------------------------

    def test_copy_object(self):
        pb = self.pb
        b = self.bucket("copies")
        other = self.bucket("copies-other")
        data = ot.pattern(2 * MiB + 5, "copy")
        src = self.put(b, "src", data, headers=pb.ObjectHeaders(
            content_type="text/plain", cache_control="max-age=60", metadata={"color": "blue"}),
            tags={"t": "1"})
        c = self.s3.CopyObject(pb.CopyObjectRequest(source_bucket=b, source_key="src",
                                                    bucket=other, key="dst-copy"), timeout=T)
        self.assertEqual(c.etag, src.etag)
        self.assertEqual(c.copy_source_version_id, "null")
        self.assertGreater(c.last_modified.seconds, 0)
        h = self.head(other, "dst-copy").info
        self.assertEqual((h.headers.content_type, h.headers.cache_control, dict(h.headers.metadata)),
                         ("text/plain", "max-age=60", {"color": "blue"}))
        self.assertEqual(self.get(other, "dst-copy").data, data)
        tags = self.s3.GetObjectTagging(pb.GetObjectTaggingRequest(bucket=other, key="dst-copy"),
                                        timeout=T)
        self.assertEqual(dict(tags.tags), {"t": "1"})

        c = self.s3.CopyObject(pb.CopyObjectRequest(
            source_bucket=b, source_key="src", bucket=b, key="dst-replace",
            metadata_directive=pb.METADATA_DIRECTIVE_REPLACE,
            headers=pb.ObjectHeaders(content_type="application/json", metadata={"shape": "round"})),
            timeout=T)
        h = self.head(b, "dst-replace").info
        self.assertEqual((h.headers.content_type, h.headers.cache_control, dict(h.headers.metadata)),
                         ("application/json", "", {"shape": "round"}))
        self.assertEqual(h.etag, src.etag)
        self.assertEqual(self.get(b, "dst-replace").data, data)
        # Copy onto itself with COPY: S3 refuses (InvalidRequest); with REPLACE it works.
        err = tt.call_error(self.s3.CopyObject, pb.CopyObjectRequest(
            source_bucket=b, source_key="src", bucket=b, key="src"))
        self.assertError(err, INVALID, "InvalidRequest")
        self.s3.CopyObject(pb.CopyObjectRequest(
            source_bucket=b, source_key="src", bucket=b, key="src",
            metadata_directive=pb.METADATA_DIRECTIVE_REPLACE,
            headers=pb.ObjectHeaders(metadata={"new": "yes"})), timeout=T)
        self.assertEqual(dict(self.head(b, "src").info.headers.metadata), {"new": "yes"})
        # Overwriting or deleting the source leaves the copies intact.
        self.put(b, "src", b"replaced")
        self.s3.DeleteObject(pb.DeleteObjectRequest(bucket=b, key="src"), timeout=T)
        self.assertEqual(self.get(other, "dst-copy").data, data)
        self.assertEqual(self.get(b, "dst-replace").data, data)
        err = tt.call_error(self.s3.CopyObject, pb.CopyObjectRequest(
            source_bucket=b, source_key="src", bucket=b, key="x"))
        self.assertError(err, NOT_FOUND, "NoSuchKey")

    def test_delete_objects(self):
        pb = self.pb
        b = self.bucket("multi-delete")
        self.put(b, "d1", b"1")
        self.put(b, "d2", b"2")
        self.put(b, "keep", b"k")
        r = self.s3.DeleteObjects(pb.DeleteObjectsRequest(bucket=b, objects=[
            pb.ObjectIdentifier(key="d1"), pb.ObjectIdentifier(key="missing"),
            pb.ObjectIdentifier(key="d2")]), timeout=T)
        self.assertEqual(sorted(d.key for d in r.deleted), ["d1", "d2", "missing"])
        self.assertEqual(list(r.errors), [])
        self.assertEqual(ot.list_keys(self.s3, pb, b), ["keep"])
        # Quiet: only errors are reported.
        r = self.s3.DeleteObjects(pb.DeleteObjectsRequest(bucket=b, quiet=True, objects=[
            pb.ObjectIdentifier(key="keep")]), timeout=T)
        self.assertEqual((list(r.deleted), list(r.errors)), ([], []))
        self.assertEqual(ot.list_keys(self.s3, pb, b), [])
        err = tt.call_error(self.s3.DeleteObjects, pb.DeleteObjectsRequest(bucket=b, objects=[
            pb.ObjectIdentifier(key="k%d" % i) for i in range(1001)]))
        self.assertError(err, INVALID)

    # -- notifications -------------------------------------------------------

    def test_notification_arrives_on_a_queue(self):
        pb, qpb = self.pb, self.qpb
        queue = "object-events"
        self.sqs.CreateQueue(qpb.CreateQueueRequest(queue_name=queue), timeout=T)
        b = self.bucket("notified")
        arn = "arn:aws:sqs:us-east-1:000000000000:" + queue
        self.s3.PutBucketNotificationConfiguration(pb.PutBucketNotificationConfigurationRequest(
            bucket=b, configurations=[pb.NotificationConfiguration(
                id="to-queue", destination_arn=arn, events=["s3:ObjectCreated:*"],
                prefix="in/")]), timeout=T)
        conf = self.s3.GetBucketNotificationConfiguration(
            pb.GetBucketNotificationConfigurationRequest(bucket=b), timeout=T)
        self.assertEqual([(c.destination_arn, list(c.events), c.prefix) for c in conf.configurations],
                         [(arn, ["s3:ObjectCreated:*"], "in/")])
        a = self.put(b, "in/a.txt", b"hello, queue")
        self.put(b, "out/b.txt", b"not for the queue")
        # A later matching put, so that waiting for it covers out/b.txt's turn.
        self.put(b, "in/zz-last.txt", b"last")

        events, test_events, raw = {}, 0, []

        def poll():
            nonlocal test_events
            r = self.sqs.ReceiveMessages(qpb.ReceiveMessagesRequest(
                queue_name=queue, max_number_of_messages=10, wait_time=tt.duration(1),
                visibility_timeout=tt.duration(600)), timeout=T)
            for m in r.messages:
                raw.append(m.body)
                body = json.loads(m.body)
                if body.get("Event") == "s3:TestEvent":
                    test_events += 1
                else:
                    for rec in body["Records"]:
                        events.setdefault(rec["s3"]["object"]["key"], []).append(rec)
                self.sqs.DeleteMessage(qpb.DeleteMessageRequest(
                    queue_name=queue, receipt_handle=m.receipt_handle), timeout=T)
            return "in/zz-last.txt" in events and "in/a.txt" in events
        tt.wait_until(poll, 2 * T, "the notifications of in/a.txt and in/zz-last.txt")
        self.assertEqual(sorted(events), ["in/a.txt", "in/zz-last.txt"], raw)
        self.assertEqual(len(events["in/a.txt"]), 1, raw)
        rec = events["in/a.txt"][0]
        self.assertEqual(rec["eventName"], "ObjectCreated:Put")
        self.assertEqual(rec["eventSource"], "aws:s3")
        self.assertEqual(rec["s3"]["bucket"]["name"], b)
        self.assertEqual(rec["s3"]["configurationId"], "to-queue")
        self.assertEqual(rec["s3"]["object"]["key"], "in/a.txt")
        self.assertEqual(rec["s3"]["object"]["size"], len(b"hello, queue"))
        self.assertEqual(rec["s3"]["object"]["eTag"], a.etag.strip('"'))
        if test_events:
            print("\nnote: %d s3:TestEvent message(s) on the queue" % test_events, file=sys.stderr)

    # -- bad input -----------------------------------------------------------

    def test_bad_input(self):
        pb = self.pb
        b = self.bucket("bad-input")
        self.put(b, "present", ot.pattern(50, "present"))
        failures = []

        def soft(fn):
            """fn's ErrorDetails; a call that wrongly succeeded gives code None."""
            def call(*args, **kwargs):
                try:
                    return fn(*args, **kwargs)
                except AssertionError as e:
                    return tt.ErrorDetails(None, str(e), None)
            return call
        call_error = soft(tt.call_error)
        put_error = soft(ot.put_error)
        get_error = soft(ot.get_error)

        def check(name, err, code, reason=None, field=None):
            problems = []
            if err.code != code:
                problems.append("code %s (want %s)" % (err.code.name if err.code else None,
                                                       code.name))
            if reason is not None and reason not in err.reasons:
                problems.append("reasons %r (want %r)" % (err.reasons, reason))
            if field is not None and field not in err.fields:
                problems.append("fields %r (want %r)" % (err.fields, field))
            if problems:
                failures.append("%s: %s; message %r" % (name, ", ".join(problems), err.message))

        for name in ["ab", "Bad", "a..b", "192.168.1.1", "xn--abc", "-abc", "abc-", "a" * 64,
                     "under_score", "foo-s3alias", ".dot", ""]:
            check("bucket name %r" % name, call_error(
                self.s3.CreateBucket, pb.CreateBucketRequest(bucket=name)),
                INVALID, "InvalidBucketName", "bucket")
        for name in ["abc", "a" * 63, "my.bucket-1", "1-2-3"]:
            self.s3.CreateBucket(pb.CreateBucketRequest(bucket=name), timeout=T)
        check("existing bucket", call_error(self.s3.CreateBucket, pb.CreateBucketRequest(
            bucket="abc")), grpc.StatusCode.ALREADY_EXISTS, "BucketAlreadyOwnedByYou")

        big = {"m%02d" % i: "v" * 100 for i in range(21)}  # 21 * 103 > 2 KB
        check("metadata over 2 KB", put_error(self.s3, pb, b, "meta", b"x", headers=pb.ObjectHeaders(
            metadata=big)), INVALID, "MetadataTooLarge")
        self.put(b, "meta-ok", b"x", headers=pb.ObjectHeaders(metadata={"m": "v" * 1900}))
        long_key = "k" * 1025
        check("PutObject key of 1,025 bytes", put_error(self.s3, pb, b, long_key, b"x"),
              INVALID, "KeyTooLongError", "header.key")
        check("GetObject key of 1,025 bytes", get_error(self.s3, pb, b, long_key),
              INVALID, "KeyTooLongError", "key")
        check("PutObject key of 1,025 UTF-8 bytes", put_error(self.s3, pb, b, "é" * 512 + "k",
                                                                 b"x"),
              INVALID, "KeyTooLongError", "header.key")
        self.put(b, "k" * 1024, b"longest key")
        self.assertEqual(self.get(b, "k" * 1024).data, b"longest key")
        check("PutObject empty key", put_error(self.s3, pb, b, "", b"x"), INVALID,
              field="header.key")
        for rng in ["bytes=abc", "items=0-9", "bytes=-", "0-9"]:
            check("range %r" % rng, get_error(self.s3, pb, b, "present", range=rng),
                  INVALID, field="range")
        check("range and part_number", get_error(self.s3, pb, b, "present", range="bytes=0-1",
                                                    part_number=1), INVALID)
        check("unknown upload id", call_error(self.s3.ListParts, pb.ListPartsRequest(
            bucket=b, key="present", upload_id="nope")), grpc.StatusCode.NOT_FOUND, "NoSuchUpload")
        for what, err in [
                ("HeadBucket", call_error(self.s3.HeadBucket, pb.HeadBucketRequest(bucket="nobucket"))),
                ("DeleteBucket", call_error(self.s3.DeleteBucket,
                                               pb.DeleteBucketRequest(bucket="nobucket"))),
                ("PutObject", put_error(self.s3, pb, "nobucket", "k", b"x")),
                ("GetObject", get_error(self.s3, pb, "nobucket", "k")),
                ("ListObjectsV2", call_error(self.s3.ListObjectsV2,
                                                pb.ListObjectsV2Request(bucket="nobucket"))),
                ("CreateMultipartUpload", call_error(self.s3.CreateMultipartUpload,
                                                        pb.CreateMultipartUploadRequest(
                                                            bucket="nobucket", key="k")))]:
            check("NoSuchBucket (%s)" % what, err, NOT_FOUND, "NoSuchBucket")
        check("NoSuchKey", get_error(self.s3, pb, b, "absent"), NOT_FOUND, "NoSuchKey")
        check("HeadObject NoSuchKey", call_error(self.s3.HeadObject, pb.HeadObjectRequest(
            bucket=b, key="absent")), NOT_FOUND, "NoSuchKey")
        check("BucketNotEmpty", call_error(self.s3.DeleteBucket, pb.DeleteBucketRequest(
            bucket=b)), FAILED, "BucketNotEmpty")
        # A bucket whose only content is an upload in progress is not empty either.
        uploads = self.bucket("bad-input-uploads")
        up = self.s3.CreateMultipartUpload(pb.CreateMultipartUploadRequest(bucket=uploads, key="u"),
                                           timeout=T).upload_id
        check("BucketNotEmpty (an upload)", call_error(
            self.s3.DeleteBucket, pb.DeleteBucketRequest(bucket=uploads)), FAILED, "BucketNotEmpty")
        if not failures or not failures[-1].startswith("BucketNotEmpty (an upload)"):
            self.s3.AbortMultipartUpload(pb.AbortMultipartUploadRequest(bucket=uploads, key="u",
                                                                        upload_id=up), timeout=T)
            self.s3.DeleteBucket(pb.DeleteBucketRequest(bucket=uploads), timeout=T)
        # content_length that the body does not match: IncompleteBody.
        check("content_length longer than the body", put_error(
            self.s3, pb, b, "short", b"abc", content_length=10), INVALID, "IncompleteBody")
        self.assertEqual(failures, [], "\n" + "\n".join(failures))
        # Nothing was created by the invalid requests.
        self.assertEqual(sorted(ot.list_keys(self.s3, pb, b)),
                         sorted(["k" * 1024, "meta-ok", "present"]))
        names = [x.name for x in self.s3.ListBuckets(pb.ListBucketsRequest(), timeout=T).buckets]
        for bad in ["ab", "Bad", "a..b", "192.168.1.1", "xn--abc", "nobucket"]:
            self.assertNotIn(bad, names)


class MonolithicObjectsTest(_ObjectsTests, unittest.TestCase):
    MODE = tt.Deployment.MONOLITHIC


class MicroserviceObjectsTest(_ObjectsTests, unittest.TestCase):
    MODE = tt.Deployment.MICROSERVICE


if __name__ == "__main__":
    unittest.main()
