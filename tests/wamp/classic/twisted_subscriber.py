# The classic Autobahn|Python (Twisted) subscriber: prints every event of
# "test-topic". Unchanged but for the URL (and the optional serializer).
import os

from autobahn.twisted.wamp import ApplicationRunner, ApplicationSession
from twisted.internet.defer import inlineCallbacks

import serializers


class MyComponent(ApplicationSession):
    @inlineCallbacks
    def onJoin(self, details):
        print("session ready")

        def on_event(msg):
            print("event received: {}".format(msg))

        try:
            yield self.subscribe(on_event, "test-topic")
            print("subscribed to topic")
        except Exception as e:
            print("could not subscribe to topic: {}".format(e))


if __name__ == "__main__":
    url = os.environ.get("WAMP_URL", "ws://127.0.0.1:8080/ws")
    runner = ApplicationRunner(url=url, realm="realm1", serializers=serializers.from_env())
    runner.run(MyComponent)
