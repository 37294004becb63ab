#!/usr/bin/python3
"""Memory of a 1 GiB object through the microservice-mode gateway: a PutObject
of 1 GiB streamed from a deterministic generator (the test never holds the
object: chunks are made on the fly and hashed as they go), then a GetObject
hashed as it streams. The ETag and the MD5 of what comes back must be the
MD5 of what was sent, and the resident memory (VmRSS, /proc/<pid>/status) of
the objects process and of the gateway process, sampled throughout, must stay
under 200 MiB each: neither side holds an object in memory (objects.proto).

Run: PYTHONPATH=tests/python /usr/bin/python3 -m unittest -v tests/integration/test_objects_memory.py
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

import objects_testing as ot  # noqa: E402
import thingtank_testing as tt  # noqa: E402

SIZE = 1024 * ot.MiB
CHUNK = ot.MiB
RSS_LIMIT = 200 * ot.MiB
SAMPLE_INTERVAL_S = 0.02
TRANSFER_DEADLINE_S = 300  # per direction; the figure is reported


def vm_rss(pid):
    """VmRSS of a process in bytes (None once it is gone)."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


class RssSampler:
    """Samples VmRSS of named processes in a thread; keeps the peaks."""

    def __init__(self, pids):
        self.pids = dict(pids)
        self.peaks = {name: 0 for name in self.pids}
        self.first = {name: vm_rss(pid) for name, pid in self.pids.items()}
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            for name, pid in self.pids.items():
                rss = vm_rss(pid)
                if rss is not None and rss > self.peaks[name]:
                    self.peaks[name] = rss
            self.samples += 1
            self._stop.wait(SAMPLE_INTERVAL_S)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def mib(n):
    return "%.1f MiB" % (n / ot.MiB)


class ObjectsMemoryTest(unittest.TestCase):
    def test_one_gib_put_and_get_in_bounded_memory(self):
        pb, grpc_mod = tt.load_objects()
        started = time.monotonic()
        d = tt.Deployment(tt.Deployment.MICROSERVICE, service="objects", peer_gateway=True)
        self.addCleanup(d.cleanup)
        s3 = grpc_mod.ObjectsServiceStub(d.channel)
        s3.CreateBucket(pb.CreateBucketRequest(bucket="memory"), timeout=tt.CALL_DEADLINE_S)
        pids = {"objects": d.backend.proc.pid, "gateway": d.gateway.proc.pid}

        stream = ot.Stream("memory-1GiB", SIZE, CHUNK)
        sent_md5 = hashlib.md5()

        def chunks():
            for c in stream.chunks():
                sent_md5.update(c)
                yield c
        with RssSampler(pids) as sampler:
            t0 = time.monotonic()
            header = pb.PutObjectHeader(bucket="memory", key="one-gib", content_length=SIZE)
            r = s3.PutObject(ot.put_requests(pb, header, chunks()), timeout=TRANSFER_DEADLINE_S)
            put_s = time.monotonic() - t0
            put_peaks = dict(sampler.peaks)

            t0 = time.monotonic()
            got_md5, got_size, first = hashlib.md5(), 0, None
            for m in s3.GetObject(pb.GetObjectRequest(bucket="memory", key="one-gib"),
                                  timeout=TRANSFER_DEADLINE_S):
                if first is None:
                    first = m
                got_md5.update(m.data)
                got_size += len(m.data)
            get_s = time.monotonic() - t0
        want = ot.quoted(sent_md5.hexdigest())
        print("\nobjects memory: 1 GiB put %.1f s (%.0f MiB/s), get %.1f s (%.0f MiB/s); VmRSS "
              "peaks: objects %s (put %s; at start %s), gateway %s (put %s; at start %s); %d samples;"
              " total %.1f s"
              % (put_s, 1024 / put_s, get_s, 1024 / get_s,
                 mib(sampler.peaks["objects"]), mib(put_peaks["objects"]),
                 mib(sampler.first["objects"] or 0),
                 mib(sampler.peaks["gateway"]), mib(put_peaks["gateway"]),
                 mib(sampler.first["gateway"] or 0), sampler.samples,
                 time.monotonic() - started), file=sys.stderr)
        self.assertEqual(r.size, SIZE)
        self.assertEqual(r.etag, want)
        self.assertEqual(got_size, SIZE)
        self.assertEqual(got_md5.hexdigest(), sent_md5.hexdigest())
        self.assertEqual(first.info.etag, want)
        self.assertEqual(first.info.size, SIZE)
        self.assertEqual(first.content_length, SIZE)
        self.assertGreater(sampler.samples, 10)
        for name in pids:
            self.assertLess(sampler.peaks[name], RSS_LIMIT,
                            "%s process VmRSS peaked at %s" % (name, mib(sampler.peaks[name])))
        s3.DeleteObject(pb.DeleteObjectRequest(bucket="memory", key="one-gib"),
                        timeout=tt.CALL_DEADLINE_S)
        d.stop()


if __name__ == "__main__":
    unittest.main()
