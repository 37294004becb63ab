#!/usr/bin/python3
"""Gateway authentication (--auth=apikey): missing and wrong keys, keys not
allowed a service, per-key rate limits; in monolithic and microservice mode.
Also: --auth=none on a non-loopback address refuses to start.

Run: PYTHONPATH=tests/python /usr/bin/python3 -m unittest -v tests/integration/test_auth.py
"""

import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "python"))

import grpc  # noqa: E402

import thingtank_testing as tt  # noqa: E402

T = tt.CALL_DEADLINE_S

KEYS = """\
# id       secret        services          rate  burst
admin      s3cret-admin  *
queuer     s3cret-q      queues,tables
tabler     s3cret-t      tables
limited    s3cret-l      queues            1     2
"""


def auth(key_id, secret):
    return (("authorization", "ApiKey %s:%s" % (key_id, secret)),)


class _AuthTests:
    MODE = None

    @classmethod
    def setUpClass(cls):
        tt.require_build()
        cls.keys_dir = tempfile.mkdtemp(prefix="thingtank-keys-")
        cls.addClassCleanup(shutil.rmtree, cls.keys_dir, True)
        keys_file = os.path.join(cls.keys_dir, "api-keys")
        with open(keys_file, "w") as f:
            f.write(KEYS)
        deployment = tt.Deployment(cls.MODE, gateway_args=["--auth=apikey",
                                                           "--api-keys-file", keys_file])
        cls.addClassCleanup(deployment.cleanup)
        cls.deployment = deployment
        cls.pb = tt.queues_pb2

    @classmethod
    def tearDownClass(cls):
        cls.deployment.stop()

    def setUp(self):
        self.stub = self.deployment.stub()

    def list_queues(self, metadata=None, timeout=T):
        return self.stub.ListQueues(self.pb.ListQueuesRequest(), metadata=metadata, timeout=timeout)

    def test_good_key_works(self):
        created = self.stub.CreateQueue(self.pb.CreateQueueRequest(queue_name="auth-ok"),
                                        metadata=auth("admin", "s3cret-admin"), timeout=T)
        self.assertTrue(created.queue_url)
        self.stub.SendMessage(self.pb.SendMessageRequest(queue_name="auth-ok", message_body="hi"),
                              metadata=auth("queuer", "s3cret-q"), timeout=T)
        got = self.stub.ReceiveMessages(self.pb.ReceiveMessagesRequest(queue_name="auth-ok"),
                                        metadata=auth("queuer", "s3cret-q"), timeout=T)
        self.assertEqual([m.body for m in got.messages], ["hi"])

    def test_no_key(self):
        err = tt.call_error(self.list_queues)
        self.assertEqual(err.code, grpc.StatusCode.UNAUTHENTICATED, err)

    def test_malformed_key(self):
        err = tt.call_error(self.list_queues, (("authorization", "Bearer abc"),))
        self.assertEqual(err.code, grpc.StatusCode.UNAUTHENTICATED, err)

    def test_wrong_secret(self):
        err = tt.call_error(self.list_queues, auth("admin", "not-the-secret"))
        self.assertEqual(err.code, grpc.StatusCode.UNAUTHENTICATED, err)
        err = tt.call_error(self.list_queues, auth("nobody", "s3cret-admin"))
        self.assertEqual(err.code, grpc.StatusCode.UNAUTHENTICATED, err)


class MonolithicAuthTest(_AuthTests, unittest.TestCase):
    MODE = tt.Deployment.MONOLITHIC

    def test_service_not_allowed(self):
        err = tt.call_error(self.list_queues, auth("tabler", "s3cret-t"))
        self.assertEqual(err.code, grpc.StatusCode.PERMISSION_DENIED, err)

    def test_rate_limit(self):
        md = auth("limited", "s3cret-l")
        # Rate 1/s, burst 2: two rapid calls pass, the third is refused. On a
        # slow machine the three calls may spread over a refill; then the
        # bucket is left to refill and the sequence is tried again.
        err = None
        for attempt in range(5):
            start = time.monotonic()
            self.list_queues(md)
            self.list_queues(md)
            try:
                self.list_queues(md)
            except grpc.RpcError as e:
                err = tt.error_details(e)
                break
            elapsed = time.monotonic() - start
            self.assertGreaterEqual(elapsed, 0.9, "third call within %.3f s was admitted" % elapsed)
            time.sleep(2.5)  # refill the bucket (rate 1/s, burst 2) before trying again
        self.assertIsNotNone(err, "the rate limit never refused a call")
        self.assertEqual(err.code, grpc.StatusCode.RESOURCE_EXHAUSTED, err)
        self.assertEqual(len(err.retry_delays), 1, err)
        self.assertGreater(err.retry_delays[0], 0, err)
        self.assertLessEqual(err.retry_delays[0], 1.0, err)
        # Other keys are not limited by it.
        for _ in range(5):
            self.list_queues(auth("admin", "s3cret-admin"))
        # After the advised delay the key works again (poll: refills are not instant).
        tt.wait_until(lambda: self._ok(md), T, "the limited key to be admitted again",
                      interval=err.retry_delays[0])

    def _ok(self, md):
        try:
            self.list_queues(md)
            return True
        except grpc.RpcError as e:
            if e.code() != grpc.StatusCode.RESOURCE_EXHAUSTED:
                raise
            return False


class MicroserviceAuthTest(_AuthTests, unittest.TestCase):
    MODE = tt.Deployment.MICROSERVICE


class InsecureListenTest(unittest.TestCase):
    def test_auth_none_on_non_loopback_refuses_to_start(self):
        tt.require_build()
        data_dir = tempfile.mkdtemp(prefix="thingtank-insecure-")
        self.addCleanup(shutil.rmtree, data_dir, True)
        proc = subprocess.Popen([tt.BIN, "serve", "--listen-address", "0.0.0.0",
                                 "--gateway-port", "0", "--metrics-port", "0", "--wamp-ws-port", "0",
                                 "--data-dir", data_dir],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            out, err = proc.communicate(timeout=tt.START_DEADLINE_S)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, 9)
            proc.communicate()
            self.fail("thingtank serve --listen-address 0.0.0.0 (auth none) did not exit")
        self.assertEqual(proc.returncode, 2, err.decode())
        self.assertIn("--auth", err.decode())
        self.assertFalse(os.path.exists(os.path.join(data_dir, "ports.json")))


if __name__ == "__main__":
    unittest.main()
