"""Helpers of the objects (S3) integration tests: streamed puts and gets,
deterministic content, S3's ETags and checksums, errors of streaming calls.

Used by test_objects_gateway.py, test_objects_memory.py and
test_objects_crash.py (next to them; they put tests/python on sys.path first).
"""

import base64
import hashlib
import random
import struct

import grpc

import thingtank_testing as tt

T = tt.CALL_DEADLINE_S
KiB = 1024
MiB = 1024 * 1024
CHUNK = 1 * MiB  # bytes per PutObject / UploadPart message (the limit is 4 MiB)


def quoted(hexdigest):
    return '"%s"' % hexdigest


def etag_of(data):
    """S3's ETag of a single put: the quoted MD5 hex."""
    return quoted(hashlib.md5(data).hexdigest())


def multipart_etag(part_md5_digests):
    """S3's ETag of a multipart object: MD5 of the concatenated binary part
    MD5s, "-<number of parts>", quoted."""
    return quoted("%s-%d" % (hashlib.md5(b"".join(part_md5_digests)).hexdigest(),
                             len(part_md5_digests)))


def b64(digest):
    return base64.b64encode(digest).decode()


def crc32_b64(data):
    import zlib
    return b64(struct.pack(">I", zlib.crc32(data) & 0xFFFFFFFF))


def sha256_b64(data):
    return b64(hashlib.sha256(data).digest())


def md5_b64(data):
    return b64(hashlib.md5(data).digest())


def pattern(size, seed):
    """Deterministic bytes of this size (small objects)."""
    return random.Random(seed).randbytes(size)


class Stream:
    """Deterministic content of `size` bytes for `seed`, generated chunk by
    chunk (never held whole): chunk i is its index and the size, then bytes
    of a block derived from the seed. A misplaced, repeated or truncated chunk
    changes the MD5."""

    def __init__(self, seed, size, chunk=CHUNK):
        self.seed = str(seed)
        self.size = size
        self.chunk = chunk
        self._block = random.Random(self.seed).randbytes(chunk)

    def chunks(self):
        sent, i = 0, 0
        while sent < self.size:
            n = min(self.chunk, self.size - sent)
            head = struct.pack(">QQ", i, self.size)
            yield (head + self._block[len(head):])[:n]
            sent += n
            i += 1

    def md5(self):
        h = hashlib.md5()
        for c in self.chunks():
            h.update(c)
        return h


def put_requests(pb, header, chunks, progress=None):
    """The PutObject stream: the header alone, then one message per chunk;
    progress(bytes_sent) after each chunk was taken by gRPC."""
    yield pb.PutObjectRequest(header=header)
    sent = 0
    for c in chunks:
        yield pb.PutObjectRequest(data=c)
        sent += len(c)
        if progress:
            progress(sent)


def put(stub, pb, bucket, key, data=b"", chunks=None, timeout=T, **header):
    """PutObject of `data` (or of the iterable `chunks`); returns the response."""
    h = pb.PutObjectHeader(bucket=bucket, key=key, **header)
    if chunks is None:
        chunks = [data[i:i + CHUNK] for i in range(0, len(data), CHUNK)]
    return stub.PutObject(put_requests(pb, h, chunks), timeout=timeout)


def upload_part(stub, pb, bucket, key, upload_id, part_number, data=b"", chunks=None, timeout=T,
                **header):
    h = pb.UploadPartHeader(bucket=bucket, key=key, upload_id=upload_id, part_number=part_number,
                            **header)
    if chunks is None:
        chunks = [data[i:i + CHUNK] for i in range(0, len(data), CHUNK)]

    def requests():
        yield pb.UploadPartRequest(header=h)
        for c in chunks:
            yield pb.UploadPartRequest(data=c)
    return stub.UploadPart(requests(), timeout=timeout)


class Got:
    """A whole GetObject answer: the first message's fields and the data."""

    def __init__(self, messages):
        first = messages[0] if messages else None
        self.info = first.info if first else None
        self.content_range = first.content_range if first else None
        self.content_length = first.content_length if first else None
        self.messages = len(messages)
        self.data = b"".join(m.data for m in messages)
        # info and content_range only in the first message.
        self.later_infos = sum(1 for m in messages[1:] if m.HasField("info") or m.content_range)


def get(stub, pb, bucket, key, timeout=T, **kw):
    return Got(list(stub.GetObject(pb.GetObjectRequest(bucket=bucket, key=key, **kw),
                                   timeout=timeout)))


def stream_error(fn, request, timeout=T):
    """Calls a streaming method (a server stream is read to its end; a client
    stream takes `request` as the iterator) expecting it to fail; returns the
    ErrorDetails."""
    try:
        result = fn(request, timeout=timeout)
        if not hasattr(result, "DESCRIPTOR"):  # a server stream
            result = list(result)
    except grpc.RpcError as e:
        return tt.error_details(e)
    raise AssertionError("expected the call to fail, it returned %r" % (result,))


def get_error(stub, pb, bucket, key, **kw):
    return stream_error(stub.GetObject, pb.GetObjectRequest(bucket=bucket, key=key, **kw))


def put_error(stub, pb, bucket, key, data=b"", **header):
    h = pb.PutObjectHeader(bucket=bucket, key=key, **header)
    chunks = [data[i:i + CHUNK] for i in range(0, len(data), CHUNK)]
    return stream_error(stub.PutObject, put_requests(pb, h, chunks))


def list_keys(stub, pb, bucket, **kw):
    """Every key of ListObjectsV2 (all pages)."""
    keys, token = [], ""
    for _ in range(10000):
        r = stub.ListObjectsV2(pb.ListObjectsV2Request(bucket=bucket, continuation_token=token,
                                                        **kw), timeout=T)
        keys.extend(o.key for o in r.contents)
        token = r.next_continuation_token
        if not r.is_truncated:
            return keys
    raise AssertionError("ListObjectsV2 does not end")


def list_objects(stub, pb, bucket):
    """{key: ObjectInfo} of every current object."""
    out, token = {}, ""
    for _ in range(10000):
        r = stub.ListObjectsV2(pb.ListObjectsV2Request(bucket=bucket, continuation_token=token),
                               timeout=T)
        for o in r.contents:
            out[o.key] = o
        token = r.next_continuation_token
        if not r.is_truncated:
            return out
    raise AssertionError("ListObjectsV2 does not end")
