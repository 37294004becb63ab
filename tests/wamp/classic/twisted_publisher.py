# The classic Autobahn|Python (Twisted) publisher: a timestamped message to
# "test-topic" every 0.1 s (the classic does 1 s). Unchanged but for the URL
# (and the optional serializer, see serializers.py).
import datetime
import os

from autobahn.twisted.util import sleep
from autobahn.twisted.wamp import ApplicationRunner, ApplicationSession
from twisted.internet.defer import inlineCallbacks

import serializers


class MyComponent(ApplicationSession):
    @inlineCallbacks
    def onJoin(self, details):
        print("session ready")
        while True:
            now = datetime.datetime.now()
            msg = "Hello from Twisted publisher at {}".format(now.isoformat())
            self.publish("test-topic", msg)
            print("published: {}".format(msg))
            yield sleep(0.1)


if __name__ == "__main__":
    url = os.environ.get("WAMP_URL", "ws://127.0.0.1:8080/ws")
    runner = ApplicationRunner(url=url, realm="realm1", serializers=serializers.from_env())
    runner.run(MyComponent)
