#!/usr/bin/python3
"""Integration tests of the queues service through the gateway, with the Python
client generated from proto/, in monolithic mode (one process) and in
microservice mode (a queues process and a gateway process forwarding raw frames).

Run: PYTHONPATH=tests/python /usr/bin/python3 -m unittest -v tests/integration/test_queues_gateway.py
"""

import hashlib
import os
import struct
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "python"))

import grpc  # noqa: E402

import thingtank_testing as tt  # noqa: E402

T = tt.CALL_DEADLINE_S
QUEUES_SERVICE = "thingtank.queues.v1.QueuesService"


def sqs_attributes_md5(attributes):
    """MD5 of message attributes as SQS computes it (sorted by name; each of
    name, type, value length-prefixed big-endian; transport byte 1 string, 2 binary)."""
    out = bytearray()

    def put(b):
        out.extend(struct.pack(">I", len(b)))
        out.extend(b)

    for name in sorted(attributes):
        v = attributes[name]
        put(name.encode())
        put(v.data_type.encode())
        if v.WhichOneof("value") == "binary_value":
            out.append(2)
            put(v.binary_value)
        else:
            out.append(1)
            put(v.string_value.encode())
    return hashlib.md5(bytes(out)).hexdigest()


class _GatewayTests:
    """The tests; subclasses choose the deployment mode."""

    MODE = None

    @classmethod
    def setUpClass(cls):
        tt.require_build()
        deployment = tt.Deployment(cls.MODE)
        cls.addClassCleanup(deployment.cleanup)
        cls.deployment = deployment
        cls.pb = tt.queues_pb2

    @classmethod
    def tearDownClass(cls):
        cls.deployment.stop()

    def setUp(self):
        self.stub = self.deployment.stub()

    # -- helpers ------------------------------------------------------------

    def create(self, name, **attrs):
        request = self.pb.CreateQueueRequest(queue_name=name)
        if attrs:
            request.attributes.CopyFrom(self.pb.QueueAttributes(**attrs))
        return self.stub.CreateQueue(request, timeout=T)

    def send(self, queue, body, **kw):
        return self.stub.SendMessage(self.pb.SendMessageRequest(queue_name=queue, message_body=body,
                                                                **kw), timeout=T)

    def receive(self, queue, n=10, **kw):
        return list(self.stub.ReceiveMessages(
            self.pb.ReceiveMessagesRequest(queue_name=queue, max_number_of_messages=n, **kw),
            timeout=T).messages)

    def receive_exactly(self, queue, count, **kw):
        """Receives until `count` messages arrived (SQS may return fewer per call)."""
        got = []
        deadline = time.monotonic() + T
        while len(got) < count and time.monotonic() < deadline:
            got.extend(self.receive(queue, n=min(10, count - len(got)), wait_time=tt.duration(1),
                                    **kw))
        self.assertEqual(len(got), count, "received %r" % [m.body for m in got])
        return got

    def attributes(self, queue):
        return self.stub.GetQueueAttributes(self.pb.GetQueueAttributesRequest(queue_name=queue),
                                            timeout=T)

    def list_all(self, prefix, page_size):
        names, token, pages = [], "", 0
        while True:
            r = self.stub.ListQueues(self.pb.ListQueuesRequest(
                queue_name_prefix=prefix, page_size=page_size, page_token=token), timeout=T)
            pages += 1
            self.assertLessEqual(len(r.queues), page_size)
            names.extend(q.name for q in r.queues)
            token = r.next_page_token
            if not token:
                return names, pages
            self.assertLess(pages, 100, "pagination does not end")

    # -- tests --------------------------------------------------------------

    def test_full_flow(self):
        pb = self.pb
        for name in ["flow-c", "flow-a", "flow-b", "flowx-other", "nope-flow"]:
            self.create(name)
        # Idempotent create; conflicting attributes give ALREADY_EXISTS.
        self.create("flow-a")
        err = tt.call_error(self.stub.CreateQueue, pb.CreateQueueRequest(
            queue_name="flow-a", attributes=pb.QueueAttributes(visibility_timeout=tt.duration(7))))
        self.assertEqual(err.code, grpc.StatusCode.ALREADY_EXISTS, err)
        self.assertIn("QueueAlreadyExists", err.reasons, err)

        # List with prefix and pagination.
        names, pages = self.list_all("flow-", page_size=2)
        self.assertEqual(names, ["flow-a", "flow-b", "flow-c"])
        self.assertEqual(pages, 2)
        names, _ = self.list_all("flow", page_size=1000)
        self.assertEqual(names, ["flow-a", "flow-b", "flow-c", "flowx-other"])

        url = self.stub.GetQueueUrl(pb.GetQueueUrlRequest(queue_name="flow-a"), timeout=T)
        self.assertTrue(url.queue_url.endswith("/flow-a"), url.queue_url)

        # Defaults.
        a = self.attributes("flow-a")
        self.assertEqual(a.queue.name, "flow-a")
        self.assertEqual(a.queue.url, url.queue_url)
        self.assertEqual(a.attributes.visibility_timeout.seconds, 30)
        self.assertEqual(a.attributes.message_retention_period.seconds, 4 * 24 * 3600)
        self.assertEqual(a.attributes.delay.seconds, 0)
        self.assertEqual(a.attributes.maximum_message_size, 1048576)
        self.assertEqual(a.attributes.receive_message_wait_time.seconds, 0)
        self.assertFalse(a.attributes.fifo_queue)
        self.assertTrue(a.queue_arn)
        created = a.created_time.ToNanoseconds()
        self.assertGreater(created, 0)

        # Set attributes: only the ones set change.
        self.stub.SetQueueAttributes(pb.SetQueueAttributesRequest(
            queue_name="flow-a", attributes=pb.QueueAttributes(visibility_timeout=tt.duration(45),
                                                               maximum_message_size=2048)),
            timeout=T)
        a = self.attributes("flow-a")
        self.assertEqual(a.attributes.visibility_timeout.seconds, 45)
        self.assertEqual(a.attributes.maximum_message_size, 2048)
        self.assertEqual(a.attributes.message_retention_period.seconds, 4 * 24 * 3600)
        self.assertGreaterEqual(a.last_modified_time.ToNanoseconds(), created)

        # Send (with attributes) and send batch.
        attrs = {
            "s": pb.MessageAttributeValue(data_type="String", string_value="text"),
            "n": pb.MessageAttributeValue(data_type="Number", string_value="42"),
            "b": pb.MessageAttributeValue(data_type="Binary", binary_value=b"\x00\x01"),
        }
        sent = self.send("flow-a", "one", message_attributes=attrs)
        self.assertEqual(sent.md5_of_message_body, hashlib.md5(b"one").hexdigest())
        self.assertEqual(sent.md5_of_message_attributes, sqs_attributes_md5(attrs))
        batch = self.stub.SendMessageBatch(pb.SendMessageBatchRequest(
            queue_name="flow-a",
            entries=[pb.SendMessageBatchRequestEntry(id="e%d" % i, message_body="batch-%d" % i)
                     for i in range(3)]), timeout=T)
        self.assertEqual(sorted(e.id for e in batch.successful), ["e0", "e1", "e2"])
        self.assertEqual(list(batch.failed), [])
        for e in batch.successful:
            self.assertEqual(e.md5_of_message_body,
                             hashlib.md5(("batch-" + e.id[1:]).encode()).hexdigest())
        self.assertEqual(self.attributes("flow-a").approximate_number_of_messages, 4)

        # Receive all four.
        msgs = self.receive_exactly("flow-a", 4, message_attribute_names=["All"])
        by_body = {m.body: m for m in msgs}
        self.assertEqual(sorted(by_body), ["batch-0", "batch-1", "batch-2", "one"])
        one = by_body["one"]
        self.assertEqual(one.message_id, sent.message_id)
        self.assertEqual(one.md5_of_message_attributes, sent.md5_of_message_attributes)
        self.assertEqual(set(one.message_attributes), {"s", "n", "b"})
        self.assertEqual(one.message_attributes["b"].binary_value, b"\x00\x01")
        self.assertEqual(one.attributes.approximate_receive_count, 1)
        self.assertGreater(one.attributes.sent_timestamp.ToNanoseconds(), 0)
        a = self.attributes("flow-a")
        self.assertEqual(a.approximate_number_of_messages, 0)
        self.assertEqual(a.approximate_number_of_messages_not_visible, 4)

        # Delete one, delete a batch of two.
        self.stub.DeleteMessage(pb.DeleteMessageRequest(
            queue_name="flow-a", receipt_handle=by_body["batch-0"].receipt_handle), timeout=T)
        deleted = self.stub.DeleteMessageBatch(pb.DeleteMessageBatchRequest(
            queue_name="flow-a", entries=[
                pb.DeleteMessageBatchRequestEntry(id="d1", receipt_handle=by_body["batch-1"].receipt_handle),
                pb.DeleteMessageBatchRequestEntry(id="d2", receipt_handle=by_body["batch-2"].receipt_handle),
            ]), timeout=T)
        self.assertEqual(sorted(deleted.successful), ["d1", "d2"])
        self.assertEqual(list(deleted.failed), [])

        # Change visibility to 0: "one" comes back with a new handle and count 2.
        self.stub.ChangeMessageVisibility(pb.ChangeMessageVisibilityRequest(
            queue_name="flow-a", receipt_handle=one.receipt_handle,
            visibility_timeout=tt.duration(0)), timeout=T)
        again = self.receive_exactly("flow-a", 1)[0]
        self.assertEqual(again.body, "one")
        self.assertEqual(again.attributes.approximate_receive_count, 2)
        self.assertNotEqual(again.receipt_handle, one.receipt_handle)
        # A stale handle does not delete the message received again since.
        self.stub.DeleteMessage(pb.DeleteMessageRequest(
            queue_name="flow-a", receipt_handle=one.receipt_handle), timeout=T)
        self.assertEqual(self.attributes("flow-a").approximate_number_of_messages_not_visible, 1)
        # Change visibility batch.
        cv = self.stub.ChangeMessageVisibilityBatch(pb.ChangeMessageVisibilityBatchRequest(
            queue_name="flow-a", entries=[pb.ChangeMessageVisibilityBatchRequestEntry(
                id="c1", receipt_handle=again.receipt_handle, visibility_timeout=tt.duration(0))]),
            timeout=T)
        self.assertEqual(list(cv.successful), ["c1"])
        self.assertEqual(self.attributes("flow-a").approximate_number_of_messages, 1)

        # Purge.
        self.send("flow-a", "two")
        purged = self.stub.PurgeQueue(pb.PurgeQueueRequest(queue_name="flow-a"), timeout=T)
        self.assertEqual(purged.purged_count, 2)
        a = self.attributes("flow-a")
        self.assertEqual((a.approximate_number_of_messages,
                          a.approximate_number_of_messages_not_visible,
                          a.approximate_number_of_messages_delayed), (0, 0, 0))
        self.assertEqual(self.receive("flow-a"), [])

        # Delete queue.
        for name in ["flow-a", "flow-b", "flow-c", "flowx-other", "nope-flow"]:
            self.stub.DeleteQueue(pb.DeleteQueueRequest(queue_name=name), timeout=T)
        err = tt.call_error(self.stub.GetQueueAttributes,
                            pb.GetQueueAttributesRequest(queue_name="flow-a"))
        self.assertEqual(err.code, grpc.StatusCode.NOT_FOUND, err)
        self.assertIn("QueueDoesNotExist", err.reasons, err)
        self.assertEqual(self.list_all("flow", 1000)[0], [])

    def test_batch_entries_fail_on_their_own(self):
        pb = self.pb
        self.create("partial-q", maximum_message_size=1024)
        r = self.stub.SendMessageBatch(pb.SendMessageBatchRequest(queue_name="partial-q", entries=[
            pb.SendMessageBatchRequestEntry(id="ok1", message_body="fine"),
            pb.SendMessageBatchRequestEntry(id="big", message_body="x" * 1025),
            pb.SendMessageBatchRequestEntry(id="empty", message_body=""),
            pb.SendMessageBatchRequestEntry(id="ok2", message_body="also fine"),
        ]), timeout=T)
        self.assertEqual(sorted(e.id for e in r.successful), ["ok1", "ok2"])
        self.assertEqual(sorted(e.id for e in r.failed), ["big", "empty"])
        for e in r.failed:
            self.assertTrue(e.sender_fault, e)
            self.assertTrue(e.code, e)
        got = self.receive_exactly("partial-q", 2)
        self.assertEqual(sorted(m.body for m in got), ["also fine", "fine"])
        # Delete batch: a garbage handle fails alone.
        d = self.stub.DeleteMessageBatch(pb.DeleteMessageBatchRequest(queue_name="partial-q", entries=[
            pb.DeleteMessageBatchRequestEntry(id="a", receipt_handle=got[0].receipt_handle),
            pb.DeleteMessageBatchRequestEntry(id="bad", receipt_handle="garbage"),
            pb.DeleteMessageBatchRequestEntry(id="b", receipt_handle=got[1].receipt_handle),
        ]), timeout=T)
        self.assertEqual(sorted(d.successful), ["a", "b"])
        self.assertEqual([(e.id, e.code) for e in d.failed], [("bad", "ReceiptHandleIsInvalid")])
        a = self.attributes("partial-q")
        self.assertEqual((a.approximate_number_of_messages,
                          a.approximate_number_of_messages_not_visible), (0, 0))

    def test_delay(self):
        self.create("delayed-q", delay=tt.duration(1))
        self.send("delayed-q", "later")
        self.assertEqual(self.attributes("delayed-q").approximate_number_of_messages_delayed, 1)
        self.assertEqual(self.receive("delayed-q"), [])
        got = self.receive_exactly("delayed-q", 1)
        self.assertEqual(got[0].body, "later")

    def test_fifo_order_and_dedup(self):
        pb = self.pb
        q = "order-q.fifo"
        self.create(q, fifo_queue=True)
        seqs, ids = [], {}
        for i in range(5):
            r = self.send(q, "m%d" % i, message_group_id="g1", message_deduplication_id="d%d" % i)
            self.assertTrue(r.sequence_number)
            seqs.append(int(r.sequence_number))
            ids[i] = r.message_id
        self.assertEqual(seqs, sorted(seqs))
        self.assertEqual(len(set(seqs)), 5)
        # A duplicate within 5 minutes is accepted but not enqueued again.
        dup = self.send(q, "m1 again", message_group_id="g1", message_deduplication_id="d1")
        self.assertEqual(dup.message_id, ids[1])
        self.assertEqual(self.attributes(q).approximate_number_of_messages, 5)

        # One at a time: while m0 is in flight, nothing else of group g1 is delivered.
        first = self.receive(q, n=1)
        self.assertEqual([m.body for m in first], ["m0"])
        self.assertEqual(first[0].attributes.message_group_id, "g1")
        self.assertEqual(first[0].attributes.message_deduplication_id, "d0")
        self.assertEqual(int(first[0].attributes.sequence_number), seqs[0])
        self.assertEqual(self.receive(q), [])
        self.stub.DeleteMessage(pb.DeleteMessageRequest(queue_name=q,
                                                        receipt_handle=first[0].receipt_handle),
                                timeout=T)
        rest = self.receive_exactly(q, 4)
        self.assertEqual([m.body for m in rest], ["m1", "m2", "m3", "m4"])
        for m in rest:
            self.stub.DeleteMessage(pb.DeleteMessageRequest(queue_name=q,
                                                            receipt_handle=m.receipt_handle),
                                    timeout=T)
        # Deduplication holds even after delete.
        again = self.send(q, "m0", message_group_id="g1", message_deduplication_id="d0")
        self.assertEqual(again.message_id, ids[0])
        self.assertEqual(self.receive(q), [])

        # Content-based deduplication.
        cq = "content-q.fifo"
        self.create(cq, fifo_queue=True, content_based_deduplication=True)
        a = self.send(cq, "same body", message_group_id="g")
        b = self.send(cq, "same body", message_group_id="g")
        self.assertEqual(a.message_id, b.message_id)
        c = self.send(cq, "other body", message_group_id="g")
        self.assertNotEqual(c.message_id, a.message_id)
        got = self.receive_exactly(cq, 2)
        self.assertEqual([m.body for m in got], ["same body", "other body"])

    def test_redrive_to_dead_letter_queue(self):
        pb = self.pb
        self.create("rd-dlq")
        self.create("rd-src", redrive_policy=pb.RedrivePolicy(dead_letter_queue_name="rd-dlq",
                                                              max_receive_count=1))
        self.create("rd-src2", redrive_policy=pb.RedrivePolicy(dead_letter_queue_name="rd-dlq",
                                                               max_receive_count=5))
        self.create("rd-unrelated")
        src_arn = self.attributes("rd-src").queue_arn
        sources = self.stub.ListDeadLetterSourceQueues(
            pb.ListDeadLetterSourceQueuesRequest(queue_name="rd-dlq"), timeout=T)
        self.assertEqual([q.name for q in sources.queues], ["rd-src", "rd-src2"])
        page = self.stub.ListDeadLetterSourceQueues(
            pb.ListDeadLetterSourceQueuesRequest(queue_name="rd-dlq", page_size=1), timeout=T)
        self.assertEqual([q.name for q in page.queues], ["rd-src"])
        self.assertTrue(page.next_page_token)
        page2 = self.stub.ListDeadLetterSourceQueues(pb.ListDeadLetterSourceQueuesRequest(
            queue_name="rd-dlq", page_size=1, page_token=page.next_page_token), timeout=T)
        self.assertEqual([q.name for q in page2.queues], ["rd-src2"])

        sent = self.send("rd-src", "poison")
        first = self.receive("rd-src", visibility_timeout=tt.duration(0))
        self.assertEqual([m.body for m in first], ["poison"])
        self.assertEqual(first[0].attributes.approximate_receive_count, 1)
        # The receive after max_receive_count moves it to the DLQ instead.
        self.assertEqual(self.receive("rd-src", visibility_timeout=tt.duration(0)), [])
        moved = self.receive_exactly("rd-dlq", 1)[0]
        self.assertEqual(moved.body, "poison")
        self.assertEqual(moved.message_id, sent.message_id)
        self.assertEqual(moved.attributes.dead_letter_queue_source_arn, src_arn)
        a = self.attributes("rd-src")
        self.assertEqual((a.approximate_number_of_messages,
                          a.approximate_number_of_messages_not_visible), (0, 0))

        # Removing the policy removes the queue from the sources.
        self.stub.SetQueueAttributes(pb.SetQueueAttributesRequest(
            queue_name="rd-src2",
            attributes=pb.QueueAttributes(redrive_policy=pb.RedrivePolicy())), timeout=T)
        sources = self.stub.ListDeadLetterSourceQueues(
            pb.ListDeadLetterSourceQueuesRequest(queue_name="rd-dlq"), timeout=T)
        self.assertEqual([q.name for q in sources.queues], ["rd-src"])

    def test_long_polling(self):
        pb = self.pb
        self.create("lp-q")
        receiver = self.deployment.stub(self.deployment.new_channel())
        sender = self.deployment.stub(self.deployment.new_channel())
        start = time.monotonic()
        future = receiver.ReceiveMessages.future(
            pb.ReceiveMessagesRequest(queue_name="lp-q", wait_time=tt.duration(10)), timeout=T)
        time.sleep(0.3)  # let the call park; the assertions hold even if it has not
        self.assertFalse(future.done())
        sent_at = time.monotonic()
        sender.SendMessage(pb.SendMessageRequest(queue_name="lp-q", message_body="ping"), timeout=T)
        response = future.result(timeout=T)
        self.assertEqual([m.body for m in response.messages], ["ping"])
        self.assertLess(time.monotonic() - sent_at, 2.0)
        self.assertLess(time.monotonic() - start, 5.0)

        # Empty: returns after the wait, with nothing.
        start = time.monotonic()
        self.assertEqual(self.receive("lp-q", wait_time=tt.duration(1)), [])
        self.assertGreaterEqual(time.monotonic() - start, 0.9)

        # The queue's receive_message_wait_time applies when the request sets none.
        self.create("lp-default", receive_message_wait_time=tt.duration(1))
        start = time.monotonic()
        self.assertEqual(self.receive("lp-default"), [])
        self.assertGreaterEqual(time.monotonic() - start, 0.9)

        # Several parked receivers, several sends: every message reaches someone.
        self.create("lp-many")
        futures = [receiver.ReceiveMessages.future(
            pb.ReceiveMessagesRequest(queue_name="lp-many", wait_time=tt.duration(10)), timeout=T)
            for _ in range(3)]
        time.sleep(0.3)
        for i in range(3):
            sender.SendMessage(pb.SendMessageRequest(queue_name="lp-many", message_body="m%d" % i),
                               timeout=T)
        bodies = sorted(m.body for f in futures for m in f.result(timeout=T).messages)
        bodies += [m.body for m in self.receive("lp-many")]
        self.assertEqual(sorted(bodies), ["m0", "m1", "m2"])

    def test_health_and_readiness(self):
        channel = self.deployment.channel
        # In microservice mode the gateway mirrors the backend's health (polled).
        tt.wait_until(lambda: tt.health_check(channel) == tt.SERVING, T, "overall health SERVING")
        tt.wait_until(lambda: tt.health_check(channel, QUEUES_SERVICE) == tt.SERVING, T,
                      "%s health SERVING" % QUEUES_SERVICE)
        err = tt.call_error(tt.health_check, channel, "no.such.Service")
        self.assertEqual(err.code, grpc.StatusCode.NOT_FOUND, err)
        for port in {self.deployment.gateway_metrics_port, self.deployment.queues_metrics_port}:
            tt.wait_until(lambda: tt.http_get(port, "/readyz")[0] == 200, T, "/readyz 200")
            self.assertEqual(tt.http_get(port, "/healthz")[0], 200)

    def test_metrics(self):
        pb = self.pb
        self.create("metrics-q")
        qport = self.deployment.queues_metrics_port
        gport = self.deployment.gateway_metrics_port

        def sent_total():
            return tt.metric_sum(tt.http_get(qport, "/metrics")[1],
                                 "thingtank_queues_messages_sent_total")

        def handled(code="OK", method="SendMessage", port=gport):
            return tt.metric_sum(tt.http_get(port, "/metrics")[1], "grpc_server_handled_total",
                                 grpc_service=QUEUES_SERVICE, grpc_method=method, grpc_code=code)

        sent0, ok0, nf0 = sent_total(), handled(), handled("NotFound")
        for i in range(3):
            self.send("metrics-q", "m%d" % i)
        self.stub.SendMessageBatch(pb.SendMessageBatchRequest(queue_name="metrics-q", entries=[
            pb.SendMessageBatchRequestEntry(id="a", message_body="x"),
            pb.SendMessageBatchRequestEntry(id="b", message_body="y")]), timeout=T)
        tt.call_error(self.stub.SendMessage,
                      pb.SendMessageRequest(queue_name="metrics-no-such-q", message_body="x"))
        # grpc_code values follow go-grpc-prometheus ("OK", "NotFound", ...).
        # Counters may be updated just after the response; poll to the value, then check exactness.
        tt.wait_until(lambda: sent_total() >= sent0 + 5, T, "messages_sent_total += 5")
        tt.wait_until(lambda: handled() >= ok0 + 3, T, "grpc_server_handled_total OK += 3")
        tt.wait_until(lambda: handled("NotFound") >= nf0 + 1, T, "handled NotFound += 1")
        self.assertEqual(sent_total(), sent0 + 5)
        self.assertEqual(handled(), ok0 + 3)
        self.assertEqual(handled("NotFound"), nf0 + 1)
        text = tt.http_get(qport, "/metrics")[1]
        self.assertIn("thingtank_queues_messages_visible", text)
        self.assertEqual(tt.metric_sum(text, "thingtank_queues_messages_visible", queue="metrics-q"), 5)

    def test_bad_input(self):
        """Each invalid request gives the right code and names the field."""
        pb = self.pb
        d = tt.duration
        INVALID = grpc.StatusCode.INVALID_ARGUMENT
        BAD_ATTR = "InvalidAttributeValue"
        self.create("bad-target")
        self.create("bad-small", maximum_message_size=1024)
        self.create("bad-dlq")
        self.create("bad-q.fifo", fifo_queue=True)
        got = []
        self.send("bad-target", "to receive")
        handle = self.receive_exactly("bad-target", 1, visibility_timeout=d(600))[0].receipt_handle

        def create(name, **attrs):
            return (self.stub.CreateQueue,
                    pb.CreateQueueRequest(queue_name=name, attributes=pb.QueueAttributes(**attrs)))

        def set_attrs(**attrs):
            return (self.stub.SetQueueAttributes, pb.SetQueueAttributesRequest(
                queue_name="bad-target", attributes=pb.QueueAttributes(**attrs)))

        def send(queue="bad-target", body="x", **kw):
            return (self.stub.SendMessage,
                    pb.SendMessageRequest(queue_name=queue, message_body=body, **kw))

        def receive(**kw):
            return (self.stub.ReceiveMessages,
                    pb.ReceiveMessagesRequest(queue_name="bad-target", **kw))

        def entries(n):
            return [pb.SendMessageBatchRequestEntry(id="e%d" % i, message_body="b")
                    for i in range(n)]

        rp = pb.RedrivePolicy
        cases = [
            # (name, (method, request), code, field, reason or None)
            ("empty name", create(""), INVALID, "queue_name", None),
            ("name with space", create("has space"), INVALID, "queue_name", None),
            ("name of 81 chars", create("a" * 81), INVALID, "queue_name", None),
            ("name with slash", create("a/b"), INVALID, "queue_name", None),
            ("only .fifo", create(".fifo", fifo_queue=True), INVALID, "queue_name", None),
            ("fifo attr without .fifo name", create("plain", fifo_queue=True), INVALID,
             "queue_name", None),
            ("x.fifo without fifo attr", create("x.fifo"), INVALID, "attributes.fifo_queue", BAD_ATTR),
            ("visibility 43201 s", create("v", visibility_timeout=d(43201)), INVALID,
             "attributes.visibility_timeout", BAD_ATTR),
            ("negative visibility", create("v", visibility_timeout=d(-1)), INVALID,
             "attributes.visibility_timeout", BAD_ATTR),
            ("retention 59 s", create("v", message_retention_period=d(59)), INVALID,
             "attributes.message_retention_period", BAD_ATTR),
            ("retention 14 days + 1 s", create("v", message_retention_period=d(14 * 86400 + 1)),
             INVALID, "attributes.message_retention_period", BAD_ATTR),
            ("delay 901 s", create("v", delay=d(901)), INVALID, "attributes.delay", BAD_ATTR),
            ("max size 1023", create("v", maximum_message_size=1023), INVALID,
             "attributes.maximum_message_size", BAD_ATTR),
            ("max size 1 MiB + 1", create("v", maximum_message_size=1048577), INVALID,
             "attributes.maximum_message_size", BAD_ATTR),
            ("wait time 21 s", create("v", receive_message_wait_time=d(21)), INVALID,
             "attributes.receive_message_wait_time", BAD_ATTR),
            ("redrive max_receive_count 0",
             create("v", redrive_policy=rp(dead_letter_queue_name="bad-dlq", max_receive_count=0)),
             INVALID, "attributes.redrive_policy.max_receive_count", BAD_ATTR),
            ("redrive max_receive_count 1001",
             create("v", redrive_policy=rp(dead_letter_queue_name="bad-dlq", max_receive_count=1001)),
             INVALID, "attributes.redrive_policy.max_receive_count", BAD_ATTR),
            ("redrive to a missing queue",
             create("v", redrive_policy=rp(dead_letter_queue_name="bad-none", max_receive_count=3)),
             INVALID, "attributes.redrive_policy.dead_letter_queue_name", None),
            ("redrive standard to FIFO",
             create("v", redrive_policy=rp(dead_letter_queue_name="bad-q.fifo", max_receive_count=3)),
             INVALID, "attributes.redrive_policy.dead_letter_queue_name", None),
            ("content dedup on standard", create("v", content_based_deduplication=True), INVALID,
             "attributes.content_based_deduplication", BAD_ATTR),
            ("set visibility 43201 s", set_attrs(visibility_timeout=d(43201)), INVALID,
             "attributes.visibility_timeout", BAD_ATTR),
            ("set fifo on standard", set_attrs(fifo_queue=True), INVALID,
             "attributes.fifo_queue", BAD_ATTR),
            ("oversize body", send("bad-small", "x" * 1025), INVALID, "message_body", None),
            ("empty body", send(body=""), INVALID, "message_body", None),
            ("send delay 901 s", send(delay=d(901)), INVALID, "delay", None),
            ("group id on standard", send(message_group_id="g"), INVALID, "message_group_id", None),
            ("FIFO without group id", send("bad-q.fifo", message_deduplication_id="d"), INVALID,
             "message_group_id", "MissingParameter"),
            ("FIFO without dedup id", send("bad-q.fifo", message_group_id="g"), INVALID,
             "message_deduplication_id", None),
            ("attribute name AWS.", send(message_attributes={
                "AWS.x": pb.MessageAttributeValue(data_type="String", string_value="v")}),
             INVALID, 'message_attributes["AWS.x"]', None),
            ("11 attributes", send(message_attributes={
                "a%d" % i: pb.MessageAttributeValue(data_type="String", string_value="v")
                for i in range(11)}), INVALID, "message_attributes", None),
            ("11-entry batch", (self.stub.SendMessageBatch, pb.SendMessageBatchRequest(
                queue_name="bad-target", entries=entries(11))), INVALID, "entries",
             "TooManyEntriesInBatchRequest"),
            ("batch over 1 MiB", (self.stub.SendMessageBatch, pb.SendMessageBatchRequest(
                queue_name="bad-target", entries=[pb.SendMessageBatchRequestEntry(
                    id="e%d" % i, message_body="x" * 110000) for i in range(10)])), INVALID,
             "entries", "BatchRequestTooLong"),
            ("duplicate entry ids", (self.stub.SendMessageBatch, pb.SendMessageBatchRequest(
                queue_name="bad-target", entries=[pb.SendMessageBatchRequestEntry(
                    id="same", message_body="x") for i in range(2)])), INVALID, "entries",
             "BatchEntryIdsNotDistinct"),
            ("bad entry id", (self.stub.SendMessageBatch, pb.SendMessageBatchRequest(
                queue_name="bad-target", entries=[pb.SendMessageBatchRequestEntry(
                    id="has space", message_body="x")])), INVALID, "entries[0].id",
             "InvalidBatchEntryId"),
            ("empty batch", (self.stub.SendMessageBatch, pb.SendMessageBatchRequest(
                queue_name="bad-target")), INVALID, "entries", "EmptyBatchRequest"),
            ("11-entry delete batch", (self.stub.DeleteMessageBatch, pb.DeleteMessageBatchRequest(
                queue_name="bad-target", entries=[pb.DeleteMessageBatchRequestEntry(
                    id="e%d" % i, receipt_handle=handle) for i in range(11)])), INVALID, "entries",
             "TooManyEntriesInBatchRequest"),
            ("unknown queue (send)", send("bad-none"), grpc.StatusCode.NOT_FOUND, None,
             "QueueDoesNotExist"),
            ("unknown queue (receive)", (self.stub.ReceiveMessages, pb.ReceiveMessagesRequest(
                queue_name="bad-none")), grpc.StatusCode.NOT_FOUND, None, "QueueDoesNotExist"),
            ("unknown queue (delete)", (self.stub.DeleteQueue, pb.DeleteQueueRequest(
                queue_name="bad-none")), grpc.StatusCode.NOT_FOUND, None, "QueueDoesNotExist"),
            ("bad receipt handle (delete)", (self.stub.DeleteMessage, pb.DeleteMessageRequest(
                queue_name="bad-target", receipt_handle="garbage")), INVALID, "receipt_handle",
             "ReceiptHandleIsInvalid"),
            ("bad receipt handle (visibility)", (self.stub.ChangeMessageVisibility,
                                                 pb.ChangeMessageVisibilityRequest(
                                                     queue_name="bad-target", receipt_handle="garbage",
                                                     visibility_timeout=d(1))),
             INVALID, "receipt_handle", "ReceiptHandleIsInvalid"),
            ("handle of another queue", (self.stub.DeleteMessage, pb.DeleteMessageRequest(
                queue_name="bad-small", receipt_handle=handle)), INVALID, "receipt_handle",
             "ReceiptHandleIsInvalid"),
            ("visibility change 43201 s", (self.stub.ChangeMessageVisibility,
                                           pb.ChangeMessageVisibilityRequest(
                                               queue_name="bad-target", receipt_handle=handle,
                                               visibility_timeout=d(43201))),
             INVALID, "visibility_timeout", None),
            ("max_number_of_messages 11", receive(max_number_of_messages=11), INVALID,
             "max_number_of_messages", None),
            ("max_number_of_messages -1", receive(max_number_of_messages=-1), INVALID,
             "max_number_of_messages", None),
            ("wait_time 21 s", receive(wait_time=d(21)), INVALID, "wait_time", None),
            ("receive visibility 43201 s", receive(visibility_timeout=d(43201)), INVALID,
             "visibility_timeout", None),
            ("page_size 1001", (self.stub.ListQueues, pb.ListQueuesRequest(page_size=1001)),
             INVALID, "page_size", None),
            ("bad page token", (self.stub.ListQueues, pb.ListQueuesRequest(page_token="garbage")),
             INVALID, "page_token", None),
        ]
        failures = []
        for name, (method, request), code, field, reason in cases:
            try:
                response = method(request, timeout=T)
                failures.append("%s: expected %s, the call succeeded: %r" % (name, code.name, response))
                continue
            except grpc.RpcError as e:
                err = tt.error_details(e)
            problems = []
            if err.code != code:
                problems.append("code %s (want %s)" % (err.code.name, code.name))
            if field is not None and field not in err.fields:
                problems.append("fields %r (want %r)" % (err.fields, field))
            if reason is not None and reason not in err.reasons:
                problems.append("reasons %r (want %r)" % (err.reasons, reason))
            if problems:
                failures.append("%s: %s; message %r" % (name, ", ".join(problems), err.message))
            got.append(name)
        self.assertEqual(failures, [], "\n" + "\n".join(failures))
        # Nothing was created by the invalid requests.
        names, _ = self.list_all("", 1000)
        for bad in ["v", "plain", "x.fifo", "has space"]:
            self.assertNotIn(bad, names)
        self.assertEqual(self.attributes("bad-target").approximate_number_of_messages, 0)
        self.assertEqual(self.attributes("bad-target").approximate_number_of_messages_not_visible, 1)


class RetentionTest(unittest.TestCase):
    """Retention is enforced: expired messages disappear and are counted. The
    service clock runs 100 times faster (--time-scale), so 60 s pass in 0.6 s."""

    def test_expired_messages_disappear_and_are_counted(self):
        tt.require_build()
        deployment = tt.Deployment(tt.Deployment.MONOLITHIC, gateway_args=["--time-scale=100"])
        self.addCleanup(deployment.cleanup)
        pb = tt.queues_pb2
        stub = deployment.stub()
        port = deployment.queues_metrics_port

        def expired_total():
            return tt.metric_sum(tt.http_get(port, "/metrics")[1],
                                 "thingtank_queues_messages_expired_total")

        stub.CreateQueue(pb.CreateQueueRequest(queue_name="short", attributes=pb.QueueAttributes(
            message_retention_period=tt.duration(60))), timeout=T)
        expired0 = expired_total()
        for i in range(3):
            stub.SendMessage(pb.SendMessageRequest(queue_name="short", message_body="m%d" % i),
                             timeout=T)

        def gone():
            a = stub.GetQueueAttributes(pb.GetQueueAttributesRequest(queue_name="short"), timeout=T)
            return (a.approximate_number_of_messages + a.approximate_number_of_messages_not_visible
                    + a.approximate_number_of_messages_delayed) == 0
        tt.wait_until(gone, T, "messages past their retention period to disappear")
        r = stub.ReceiveMessages(pb.ReceiveMessagesRequest(queue_name="short",
                                                           max_number_of_messages=10), timeout=T)
        self.assertEqual(list(r.messages), [])
        tt.wait_until(lambda: expired_total() >= expired0 + 3, T, "messages_expired_total += 3")
        self.assertEqual(expired_total(), expired0 + 3)
        deployment.stop()


class MonolithicGatewayTest(_GatewayTests, unittest.TestCase):
    MODE = tt.Deployment.MONOLITHIC


class MicroserviceGatewayTest(_GatewayTests, unittest.TestCase):
    MODE = tt.Deployment.MICROSERVICE


if __name__ == "__main__":
    unittest.main()
