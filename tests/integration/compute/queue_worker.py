#!/usr/bin/python3
"""A ThingTank queue consumer, run by the compute service's process driver as
the image `ami-worker` of the queue-depth test (test_compute_loops.py).

User data (THINGTANK_USER_DATA): "<gateway host:port> <jobs queue> <done queue>".
Each message of the jobs queue is worked on for WORK_SECONDS (a real worker
would do something), its body sent to the done queue, then deleted. Exits on
SIGTERM (the driver's stop) or when the gateway has been unreachable for 10 s.
"""

import importlib
import os
import signal
import sys
import time

sys.path.insert(0, os.environ["PY_GEN_DIR"])  # the Python modules generated from proto/
import grpc  # noqa: E402
from google.protobuf import duration_pb2  # noqa: E402

pb = importlib.import_module("thingtank.queues.v1.queues_pb2")
pb_grpc = importlib.import_module("thingtank.queues.v1.queues_pb2_grpc")

WORK_SECONDS = float(os.environ.get("WORK_SECONDS", "0.05"))
stopping = False


def stop(signum, frame):
    global stopping
    stopping = True


def main():
    signal.signal(signal.SIGTERM, stop)
    endpoint, jobs, done = os.environ["THINGTANK_USER_DATA"].split()
    stub = pb_grpc.QueuesServiceStub(grpc.insecure_channel(endpoint))
    last_ok = time.monotonic()
    while not stopping:
        try:
            r = stub.ReceiveMessages(pb.ReceiveMessagesRequest(
                queue_name=jobs, max_number_of_messages=1,
                wait_time=duration_pb2.Duration(seconds=1)), timeout=5)
            last_ok = time.monotonic()
        except grpc.RpcError:
            if time.monotonic() - last_ok > 10:
                return 1
            time.sleep(0.2)
            continue
        for m in r.messages:
            time.sleep(WORK_SECONDS)
            stub.SendMessage(pb.SendMessageRequest(queue_name=done, message_body=m.body), timeout=5)
            stub.DeleteMessage(pb.DeleteMessageRequest(queue_name=jobs, receipt_handle=m.receipt_handle),
                               timeout=5)
    return 0


if __name__ == "__main__":
    sys.exit(main())
