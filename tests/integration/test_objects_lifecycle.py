#!/usr/bin/python3
"""Lifecycle rules really delete, on the service's clock: one `thingtank serve`
(gateway, objects, queues) with --time-scale, so a day of rules passes in
seconds. Expiration by prefix, incomplete multipart uploads aborted, objects
outside the rule kept, a LifecycleExpiration event on a queue, and the
lifecycle counter in /metrics. (The rules' table of cases runs on a manual
clock in services/objects/lifecycle/lifecycle_test.cc.)
Run: PYTHONPATH=tests/python /usr/bin/python3 -m unittest -v tests/integration/test_objects_lifecycle.py
"""

import json
import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "python"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import objects_testing as ot  # noqa: E402
import thingtank_testing as tt  # noqa: E402

T = tt.CALL_DEADLINE_S
# A clock day is 4.3 s of real time; S3 rounds "1 day" up to the next
# midnight, so a rule is due within two clock days (under 9 s).
TIME_SCALE = 20000


class LifecycleOnTheClock(unittest.TestCase):
    def setUp(self):
        tt.require_build("objects")
        self.pb, self.grpc_mod = tt.load_objects()
        self.deployment = tt.Deployment(tt.Deployment.MONOLITHIC, gateway_args=[
            "--services=gateway,objects,queues", "--time-scale", str(TIME_SCALE)])
        self.addCleanup(self.deployment.cleanup)
        self.s3 = self.grpc_mod.ObjectsServiceStub(self.deployment.channel)
        self.sqs = tt.queues_pb2_grpc.QueuesServiceStub(self.deployment.channel)

    def test_expiration_and_aborted_uploads(self):
        pb, qpb = self.pb, tt.queues_pb2
        self.sqs.CreateQueue(qpb.CreateQueueRequest(queue_name="expired"), timeout=T)
        b = "lifecycle-demo"
        self.s3.CreateBucket(pb.CreateBucketRequest(bucket=b), timeout=T)
        self.s3.PutBucketNotificationConfiguration(pb.PutBucketNotificationConfigurationRequest(
            bucket=b, configurations=[pb.NotificationConfiguration(
                destination_arn="arn:aws:sqs:us-east-1:000000000000:expired",
                events=["s3:LifecycleExpiration:*"])]), timeout=T)
        for key in ("logs/a.txt", "logs/b.txt", "keep/c.txt"):
            ot.put(self.s3, pb, b, key, ot.pattern(100000, key))
        upload = self.s3.CreateMultipartUpload(
            pb.CreateMultipartUploadRequest(bucket=b, key="logs/big.bin"), timeout=T).upload_id
        ot.upload_part(self.s3, pb, b, "logs/big.bin", upload, 1, ot.pattern(200000, "part"))
        self.s3.PutBucketLifecycleConfiguration(pb.PutBucketLifecycleConfigurationRequest(
            bucket=b, rules=[pb.LifecycleRule(
                id="logs", status=pb.LIFECYCLE_RULE_STATUS_ENABLED,
                filter=pb.LifecycleFilter(prefix="logs/"),
                expiration=pb.LifecycleExpiration(days=1),
                abort_incomplete_multipart_upload=pb.AbortIncompleteMultipartUpload(
                    days_after_initiation=1))]), timeout=T)

        def keys():
            r = self.s3.ListObjectsV2(pb.ListObjectsV2Request(bucket=b), timeout=T)
            return [c.key for c in r.contents]

        def uploads():
            r = self.s3.ListMultipartUploads(pb.ListMultipartUploadsRequest(bucket=b), timeout=T)
            return [u.key for u in r.uploads]

        tt.wait_until(lambda: keys() == ["keep/c.txt"] and uploads() == [], 60,
                      "the logs/ objects expired and the upload aborted")
        # The object outside the rule is intact.
        self.assertEqual(ot.get(self.s3, pb, b, "keep/c.txt").data, ot.pattern(100000, "keep/c.txt"))

        events = []

        def poll():
            r = self.sqs.ReceiveMessages(qpb.ReceiveMessagesRequest(
                queue_name="expired", max_number_of_messages=10, wait_time=tt.duration(1)), timeout=T)
            for m in r.messages:
                for rec in json.loads(m.body)["Records"]:
                    events.append((rec["eventName"], rec["s3"]["object"]["key"]))
                self.sqs.DeleteMessage(qpb.DeleteMessageRequest(
                    queue_name="expired", receipt_handle=m.receipt_handle), timeout=T)
            return len(events) >= 2
        tt.wait_until(poll, 60, "two LifecycleExpiration events")
        self.assertEqual(sorted(events), [("LifecycleExpiration:Delete", "logs/a.txt"),
                                          ("LifecycleExpiration:Delete", "logs/b.txt")])
        status, text = tt.http_get(self.deployment.gateway.ports["metrics"], "/metrics")
        self.assertEqual(status, 200)
        self.assertEqual(tt.metric_sum(text, "thingtank_objects_lifecycle_deletions_total",
                                       action="expired"), 2)
        self.assertEqual(tt.metric_sum(text, "thingtank_objects_lifecycle_deletions_total",
                                       action="upload_aborted"), 1)


if __name__ == "__main__":
    unittest.main()
