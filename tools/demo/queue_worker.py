#!/usr/bin/python3
"""The worker of the queue-depth demo (queue_depth_workers.py): the program of
the image `ami-demo-worker` in the images file the demo gives
`thingtank serve --compute-images`, run by the compute service's process driver
as one instance of the Auto Scaling group.

How the driver passes what it needs (services/compute/README.md, Drivers):
- THINGTANK_USER_DATA, the launch configuration's user data:
  "<gateway host:port> <queue name>";
- THINGTANK_INSTANCE_ID, set by the driver;
- from the images file's "env": PY_GEN_DIR (the generated Python modules),
  WORK_SECONDS (wall seconds of work per message), DEMO_LOG_DIR (where each
  worker appends "deleted <body>" for every message it deleted, so that the
  demo can count that none was lost).

Loop: receive up to 10 messages (long poll), work WORK_SECONDS on each, delete
them with DeleteMessageBatch, log the bodies whose delete succeeded. SIGTERM
(the driver's stop when the group scales in) ends the loop after the batch in
hand; the worker also exits when the gateway has been unreachable for 10 s.
"""

import importlib
import os
import signal
import sys
import time

sys.path.insert(0, os.environ["PY_GEN_DIR"])
import grpc  # noqa: E402
from google.protobuf import duration_pb2  # noqa: E402

pb = importlib.import_module("thingtank.queues.v1.queues_pb2")
pb_grpc = importlib.import_module("thingtank.queues.v1.queues_pb2_grpc")

WORK_SECONDS = float(os.environ.get("WORK_SECONDS", "0.1"))
stopping = False


def on_sigterm(signum, frame):
    global stopping
    stopping = True


def main():
    signal.signal(signal.SIGTERM, on_sigterm)
    endpoint, queue = os.environ["THINGTANK_USER_DATA"].split()
    instance = os.environ.get("THINGTANK_INSTANCE_ID", "i-unknown")
    log = open(os.path.join(os.environ["DEMO_LOG_DIR"], instance + ".log"), "a", buffering=1)
    log.write("pid %d\n" % os.getpid())
    stub = pb_grpc.QueuesServiceStub(grpc.insecure_channel(endpoint))
    last_ok = time.monotonic()
    while not stopping:
        try:
            # wait_time is on ThingTank's clock: 20 s is 20 / --time-scale wall seconds.
            r = stub.ReceiveMessages(pb.ReceiveMessagesRequest(
                queue_name=queue, max_number_of_messages=10,
                wait_time=duration_pb2.Duration(seconds=20)), timeout=10)
            last_ok = time.monotonic()
        except grpc.RpcError:
            if time.monotonic() - last_ok > 10:
                return 1
            time.sleep(0.2)
            continue
        if not r.messages:
            continue
        for _ in r.messages:
            time.sleep(WORK_SECONDS)  # the work
        entries = [pb.DeleteMessageBatchRequestEntry(id=str(i), receipt_handle=m.receipt_handle)
                   for i, m in enumerate(r.messages)]
        try:
            d = stub.DeleteMessageBatch(pb.DeleteMessageBatchRequest(queue_name=queue, entries=entries),
                                        timeout=10)
        except grpc.RpcError as e:
            log.write("delete failed: %s\n" % e.code())
            continue  # the messages come back after their visibility timeout
        for i in d.successful:
            log.write("deleted %s\n" % r.messages[int(i)].body)
        for f in d.failed:
            log.write("delete failed %s: %s\n" % (r.messages[int(f.id)].body, f.code))
    log.write("stopped\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
