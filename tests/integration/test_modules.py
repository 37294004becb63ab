"""Every service this build registers (tools/thingtank/modules.cc) is routed by
the gateway, listed by reflection, health-checked, has its grpc_server_*
series, a client command, and is bridged to WAMP -- in monolithic mode and
behind a microservice-mode gateway.

The list is read from the binary itself (thingtank_build_info{services}), so a
service added to the module list is checked without editing this test.
"""

import importlib
import re
import subprocess
import unittest

import grpc

import thingtank_testing as tt
from thingtank_testing import Deployment

REFLECTION = "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo"
LIST_SERVICES = b"\x3a\x00"  # ServerReflectionRequest{list_services: ""}


def registered_services():
    """The service names of this build, from a throwaway server's build info."""
    d = Deployment(Deployment.MONOLITHIC)
    try:
        _, text = tt.http_get(d.gateway_metrics_port, "/metrics")
        (labels, _), = tt.metric_samples(text, "thingtank_build_info")
        return labels["services"].split(",")
    finally:
        d.stop()
        d.cleanup()


def proto_services(name):
    """The proto service descriptors of service `name` (its generated module)."""
    module = importlib.import_module("thingtank.%s.v1.%s_pb2" % (name, name))
    return list(module.DESCRIPTOR.services_by_name.values())


def snake(method):
    return re.sub(r"(?<!^)(?=[A-Z])", "_", method).lower()


class EveryModule(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        tt.require_build("tables")
        cls.services = registered_services()

    def test_the_list_is_the_build(self):
        self.assertEqual(sorted(self.services), ["compute", "objects", "queues", "streams", "tables", "wamp"])
        usage = subprocess.run([tt.BIN, "--help"], capture_output=True, text=True,
                               timeout=tt.CALL_DEADLINE_S).stdout
        for name in self.services:
            self.assertRegex(usage, r"\n  %s \.\.\. " % name)  # its client command

    def check(self, channel, metrics_text, services):
        reflect = channel.stream_stream(REFLECTION, request_serializer=None,
                                        response_deserializer=None)
        listed = b"".join(reflect(iter([LIST_SERVICES]), timeout=tt.CALL_DEADLINE_S))
        for name in services:
            for service in proto_services(name):
                with self.subTest(service=service.full_name):
                    self.assertIn(service.full_name.encode(), listed)          # reflected
                    self.assertEqual(tt.health_check(channel, service.full_name),  # health
                                     tt.SERVING)
                    method = service.methods[0]
                    path = "/%s/%s" % (service.full_name, method.name)
                    self.assertEqual(tt.metric_sum(metrics_text, "grpc_server_started_total",
                                                   grpc_service=service.full_name,
                                                   grpc_method=method.name), 0)  # series at zero
                    try:                                                        # routed
                        call = (channel.unary_stream if method.server_streaming
                                else channel.unary_unary)(path, request_serializer=None,
                                                          response_deserializer=None)
                        result = call(b"\xff", timeout=tt.CALL_DEADLINE_S)
                        if method.server_streaming:
                            list(result)
                        self.fail("%s accepted a malformed request" % path)
                    except grpc.RpcError as e:
                        self.assertEqual(e.code(), grpc.StatusCode.INVALID_ARGUMENT, path)

    def test_monolithic(self):
        d = Deployment(Deployment.MONOLITHIC)
        self.addCleanup(d.cleanup)
        self.check(d.channel, tt.http_get(d.gateway_metrics_port, "/metrics")[1], self.services)
        # Bridged: every service's methods are WAMP procedures thingtank.<service>.<method>.
        endpoint = "127.0.0.1:%d" % d.gateway_port
        for name in self.services:
            for service in proto_services(name):
                # A read that takes an empty request.
                method = next(m for m in service.methods if not m.server_streaming
                              and m.name.startswith(("List", "DescribeInstances",
                                                     "DescribeAutoScalingGroups")))
                procedure = "thingtank.%s.%s" % (name, snake(method.name))
                with self.subTest(procedure=procedure):
                    r = subprocess.run([tt.BIN, "wamp", "call", procedure, "--endpoint", endpoint],
                                       capture_output=True, text=True, timeout=tt.CALL_DEADLINE_S)
                    self.assertEqual(r.returncode, 0, (procedure, r.stderr))
        d.stop()

    def test_behind_a_microservice_gateway(self):
        for name in self.services:
            if name == "wamp":
                continue  # a wamp process needs --gateway-address; covered by the wamp tests
            with self.subTest(service=name):
                d = Deployment(Deployment.MICROSERVICE, service=name)
                self.addCleanup(d.cleanup)
                self.check(d.channel, tt.http_get(d.gateway_metrics_port, "/metrics")[1], [name])
                d.stop()


if __name__ == "__main__":
    unittest.main()
