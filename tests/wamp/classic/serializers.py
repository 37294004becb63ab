"""WAMP_SERIALIZER (json, msgpack, cbor; unset: Autobahn's default list) as
the `serializers=` argument of ApplicationRunner. The only addition to the
classic examples besides the URL (WAMP_URL)."""

import os


def from_env():
    name = os.environ.get("WAMP_SERIALIZER", "")
    if not name:
        return None  # Autobahn's default: it offers all it has, the router picks one
    from autobahn.wamp import serializer
    return [{"json": serializer.JsonSerializer,
             "msgpack": serializer.MsgPackSerializer,
             "cbor": serializer.CBORSerializer}[name]()]
