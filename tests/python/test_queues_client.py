#!/usr/bin/python3
"""The Python generated client (protoc + grpc_python_plugin on proto/) against a
real monolithic `thingtank serve`, through the gateway: create, send, receive,
long poll woken by a send from another client, delete, and an error case.

Run: /usr/bin/python3 -m unittest -v test_queues_client   (from tests/python)
"""

import hashlib
import threading
import time
import unittest

import grpc

import thingtank_testing as tt


class QueuesPythonClientTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        tt.require_build()
        cls.deployment = None
        deployment = tt.Deployment(tt.Deployment.MONOLITHIC)
        cls.addClassCleanup(deployment.cleanup)
        cls.deployment = deployment
        cls.pb = tt.queues_pb2

    @classmethod
    def tearDownClass(cls):
        cls.deployment.stop()

    def setUp(self):
        self.stub = self.deployment.stub()

    def test_create_send_receive_delete(self):
        pb = self.pb
        created = self.stub.CreateQueue(pb.CreateQueueRequest(queue_name="py-basic"),
                                        timeout=tt.CALL_DEADLINE_S)
        self.assertTrue(created.queue_url.endswith("py-basic"), created.queue_url)
        url = self.stub.GetQueueUrl(pb.GetQueueUrlRequest(queue_name="py-basic"),
                                    timeout=tt.CALL_DEADLINE_S)
        self.assertEqual(url.queue_url, created.queue_url)

        sent = self.stub.SendMessage(pb.SendMessageRequest(queue_name="py-basic",
                                                           message_body="hello from python"),
                                     timeout=tt.CALL_DEADLINE_S)
        self.assertTrue(sent.message_id)
        self.assertEqual(sent.md5_of_message_body, hashlib.md5(b"hello from python").hexdigest())

        got = self.stub.ReceiveMessages(pb.ReceiveMessagesRequest(queue_name="py-basic",
                                                                  max_number_of_messages=10),
                                        timeout=tt.CALL_DEADLINE_S)
        self.assertEqual(len(got.messages), 1)
        m = got.messages[0]
        self.assertEqual(m.body, "hello from python")
        self.assertEqual(m.message_id, sent.message_id)
        self.assertEqual(m.attributes.approximate_receive_count, 1)
        self.assertTrue(m.receipt_handle)

        self.stub.DeleteMessage(pb.DeleteMessageRequest(queue_name="py-basic",
                                                        receipt_handle=m.receipt_handle),
                                timeout=tt.CALL_DEADLINE_S)
        attrs = self.stub.GetQueueAttributes(pb.GetQueueAttributesRequest(queue_name="py-basic"),
                                             timeout=tt.CALL_DEADLINE_S)
        self.assertEqual(attrs.approximate_number_of_messages, 0)
        self.assertEqual(attrs.approximate_number_of_messages_not_visible, 0)
        self.stub.DeleteQueue(pb.DeleteQueueRequest(queue_name="py-basic"),
                              timeout=tt.CALL_DEADLINE_S)

    def test_long_poll_woken_by_send_from_another_client(self):
        pb = self.pb
        self.stub.CreateQueue(pb.CreateQueueRequest(queue_name="py-longpoll"),
                              timeout=tt.CALL_DEADLINE_S)
        # The receiver uses its own channel; the sender another.
        receiver = self.deployment.stub(self.deployment.new_channel())
        sender = self.deployment.stub(self.deployment.new_channel())
        future = receiver.ReceiveMessages.future(
            pb.ReceiveMessagesRequest(queue_name="py-longpoll", wait_time=tt.duration(10)),
            timeout=tt.CALL_DEADLINE_S)
        # Give the call a moment to reach the server and park (not a wait for a
        # condition: if it has not parked yet, the send makes it return at once
        # anyway, and the assertion below still holds).
        time.sleep(0.3)
        self.assertFalse(future.done(), "long poll returned before any message was sent")
        sent_at = time.monotonic()
        sender.SendMessage(pb.SendMessageRequest(queue_name="py-longpoll", message_body="wake up"),
                           timeout=tt.CALL_DEADLINE_S)
        response = future.result(timeout=tt.CALL_DEADLINE_S)
        woke_after = time.monotonic() - sent_at
        self.assertEqual([m.body for m in response.messages], ["wake up"])
        self.assertLess(woke_after, 2.0, "long poll woke %.3f s after the send" % woke_after)

    def test_long_poll_in_thread_returns_empty_after_wait(self):
        pb = self.pb
        self.stub.CreateQueue(pb.CreateQueueRequest(queue_name="py-empty"),
                              timeout=tt.CALL_DEADLINE_S)
        result = {}

        def poll():
            start = time.monotonic()
            r = self.stub.ReceiveMessages(
                pb.ReceiveMessagesRequest(queue_name="py-empty", wait_time=tt.duration(1)),
                timeout=tt.CALL_DEADLINE_S)
            result["elapsed"] = time.monotonic() - start
            result["count"] = len(r.messages)

        t = threading.Thread(target=poll)
        t.start()
        t.join(tt.CALL_DEADLINE_S)
        self.assertFalse(t.is_alive())
        self.assertEqual(result["count"], 0)
        self.assertGreaterEqual(result["elapsed"], 0.9)

    def test_error_unknown_queue_and_bad_name(self):
        pb = self.pb
        err = tt.call_error(self.stub.SendMessage,
                            pb.SendMessageRequest(queue_name="py-no-such-queue", message_body="x"))
        self.assertEqual(err.code, grpc.StatusCode.NOT_FOUND, err)
        self.assertIn("QueueDoesNotExist", err.reasons, err)

        err = tt.call_error(self.stub.CreateQueue, pb.CreateQueueRequest(queue_name="has space"))
        self.assertEqual(err.code, grpc.StatusCode.INVALID_ARGUMENT, err)
        self.assertIn("queue_name", err.fields, err)


if __name__ == "__main__":
    unittest.main()
