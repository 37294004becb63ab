"""Checks of the Helm chart deploy/k8s/thingtank, without a cluster.

- `helm lint --strict`, with the default values and every scenario under values/;
- `helm template` of each scenario (default, monolithic, all off but queues, KEDA with
  ServiceMonitor and PrometheusRule, locked down, no auth, keys in the values), every
  object validated by validate.mjs against the Kubernetes JSON schemas of kubernetes-models
  and the CRD schemas of @kubernetes-models/prometheus-operator and @kubernetes-models/keda,
  unknown fields included;
- bad values rejected by values.schema.json (wrong types, unknown keys);
- what the chart must get right: the gateway's --backends, the gRPC probes and their
  service names (checked against proto/), the security contexts and volumes, the
  NetworkPolicies, the Secret kept out of NOTES and out of every pod spec, only flags
  `thingtank serve --help` lists, only metric series the code exports, every value in the
  chart's README;
- the rendered `helm test` scripts run with bash against a real `thingtank serve` using
  the rendered API keys file.

Tools come from deploy/k8s/tools.sh (tools/setup.sh runs it); a missing tool fails the test
with a message saying so, nothing is skipped.
"""

import base64
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))
CHART = os.path.join(REPO, "deploy", "k8s", "thingtank")
TOOLS = os.environ.get("THINGTANK_K8S_TOOLS", os.path.join(REPO, "build", "k8s-tools"))
HELM = os.path.join(TOOLS, "bin", "helm")
NODE_MODULES = os.path.join(TOOLS, "node_modules")
RELEASE, NAMESPACE = "tt", "demo"
FULLNAME = "tt-thingtank"
SERVICES = ["compute", "objects", "tables", "streams", "queues", "wamp"]
SCENARIOS = ["default", "monolithic", "queues-only", "keda", "locked-down", "no-auth", "extra-keys"]


def tools_missing():
    missing = []
    if not os.access(HELM, os.X_OK):
        missing.append(f"helm ({HELM})")
    for pkg in ("kubernetes-models", "@kubernetes-models/prometheus-operator", "@kubernetes-models/keda"):
        if not os.path.isfile(os.path.join(NODE_MODULES, pkg, "package.json")):
            missing.append(f"npm {pkg} (in {NODE_MODULES})")
    if shutil.which("node") is None:
        missing.append("node")
    return missing


def read(path):
    with open(path, errors="replace") as f:
        return f.read()


def helm(*args, check=True):
    r = subprocess.run([HELM, *args], capture_output=True, text=True, timeout=60)
    if check and r.returncode != 0:
        raise AssertionError(f"helm {' '.join(args)} failed:\n{r.stdout}{r.stderr}")
    return r


def values_args(scenario):
    return [] if scenario == "default" else ["-f", os.path.join(HERE, "values", scenario + ".yaml")]


def render(scenario, *extra):
    out = helm("template", RELEASE, CHART, "-n", NAMESPACE, *values_args(scenario), *extra).stdout
    return [d for d in yaml.safe_load_all(out) if d]


def find(objs, kind, name=None):
    found = [o for o in objs if o["kind"] == kind and (name is None or o["metadata"]["name"] == name)]
    return found


def one(objs, kind, name):
    found = find(objs, kind, name)
    if len(found) != 1:
        raise AssertionError(f"expected one {kind} {name}, found {len(found)}")
    return found[0]


def pod_specs(objs):
    """(object, pod spec) of every workload and test pod."""
    for o in objs:
        if o["kind"] in ("Deployment", "StatefulSet"):
            yield o, o["spec"]["template"]["spec"]
        elif o["kind"] == "Pod":
            yield o, o["spec"]


def matches(selector, labels):
    return all(labels.get(k) == v for k, v in selector.items())


def serve_help_flags():
    binary = os.environ.get("THINGTANK_BIN")
    if not binary:
        raise AssertionError("THINGTANK_BIN is not set (ctest sets it to the thingtank binary)")
    text = subprocess.run([binary, "serve", "--help"], capture_output=True, text=True, check=True).stdout
    return set(re.findall(r"--([a-z0-9-]+)", text)), set(re.findall(r"\b(THINGTANK_[A-Z_]+)\b", text))


def setUpModule():
    missing = tools_missing()
    if missing:
        raise AssertionError("chart tools missing: " + ", ".join(missing) +
                             "; run deploy/k8s/tools.sh (tools/setup.sh runs it)")


class ChartTest(unittest.TestCase):
    rendered = {}

    @classmethod
    def setUpClass(cls):
        cls.started = time.monotonic()
        cls.rendered = {s: render(s) for s in SCENARIOS}

    @classmethod
    def tearDownClass(cls):
        # The whole check stays well under a minute.
        elapsed = time.monotonic() - cls.started
        assert elapsed < 60, f"chart checks took {elapsed:.0f} s"

    # ---- helm lint, schemas of the rendered objects, bad values ----

    def test_lint_strict(self):
        for scenario in SCENARIOS:
            with self.subTest(scenario=scenario):
                r = helm("lint", "--strict", CHART, *values_args(scenario), check=False)
                self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
                self.assertIn("0 chart(s) failed", r.stdout)
                self.assertNotIn("[WARNING]", r.stdout)

    def test_rendered_objects_match_the_kubernetes_and_crd_schemas(self):
        kinds = set()
        for scenario, objs in self.rendered.items():
            with self.subTest(scenario=scenario):
                with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
                    json.dump(objs, f)
                try:
                    r = subprocess.run(["node", os.path.join(HERE, "validate.mjs"), f.name, NODE_MODULES],
                                       capture_output=True, text=True, timeout=60)
                finally:
                    os.unlink(f.name)
                self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
                self.assertIn(f"{len(objs)} valid, 0 invalid", r.stdout)
                kinds |= {o["kind"] for o in objs}
        # Every kind the chart can render was among the validated ones.
        self.assertLessEqual({"StatefulSet", "Deployment", "Service", "Secret", "ConfigMap", "ServiceAccount",
                              "HorizontalPodAutoscaler", "PodDisruptionBudget", "NetworkPolicy", "Pod",
                              "ServiceMonitor", "PrometheusRule", "ScaledObject"}, kinds)

    def test_the_validator_catches_unknown_fields_and_wrong_types(self):
        objs = json.loads(json.dumps(self.rendered["keda"]))
        sts = one(objs, "StatefulSet", f"{FULLNAME}-queues")
        container = sts["spec"]["template"]["spec"]["containers"][0]
        container["readinesProbe"] = container.pop("readinessProbe")
        container["ports"][0]["containerPort"] = "50056"
        one(objs, "ScaledObject", f"{FULLNAME}-orders-consumer")["spec"]["triggers"][0]["metdata"] = {}
        one(objs, "ServiceMonitor", FULLNAME)["spec"]["endpoints"][0]["relabeling"] = []
        bad = [sts, one(objs, "ScaledObject", f"{FULLNAME}-orders-consumer"), one(objs, "ServiceMonitor", FULLNAME),
               {"apiVersion": "v1", "kind": "Frobnicator", "metadata": {"name": "x"}}]
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            json.dump(bad, f)
        try:
            r = subprocess.run(["node", os.path.join(HERE, "validate.mjs"), f.name, NODE_MODULES],
                               capture_output=True, text=True, timeout=60)
        finally:
            os.unlink(f.name)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        for needle in ("readinesProbe: unknown field", "containerPort must be integer", "metdata: unknown field",
                       "relabeling: unknown field", "no schema for v1 Frobnicator", "0 valid, 4 invalid"):
            self.assertIn(needle, r.stdout)

    def test_bad_values_are_rejected_by_the_schema(self):
        cases = [
            (["--set", "monolithic=yes"], "/monolithic", "want boolean"),
            (["--set", "services.queues.port=high"], "/services/queues/port", "want integer"),
            (["--set", "services.queues.port=70000"], "/services/queues/port", "maximum"),
            (["--set", "gateway.autoscaling.enabled=1"], "/gateway/autoscaling/enabled", "want boolean"),
            (["--set", "serve.timeScale=fast"], "/serve/timeScale", "want number"),
            (["--set", "serve.logLevel=loud"], "/serve/logLevel", ""),
            (["--set", "colour=blue"], "additional properties 'colour' not allowed", ""),
            (["--set", "services.queuez.enabled=true"], "additional properties 'queuez' not allowed", ""),
            (["--set", "services.queues.prot=1"], "additional properties 'prot' not allowed", ""),
            (["--set", "gateway.autoscaling.maxReplica=3"], "additional properties 'maxReplica' not allowed", ""),
            (["--set", "networkPolicy.allowExternall=false"], "additional properties 'allowExternall' not allowed", ""),
            (["--set", "services.queues.resources.requests.cpus=1"], "additional properties 'cpus' not allowed", ""),
            (["--set", "keda.enabled=true"], "/keda/scaleTargetRef/name", "minLength"),
            (["--set-json", 'services.queues.extraArgs=["queues-port=1"]'], "/services/queues/extraArgs/0", "pattern"),
            (["--set-json", 'auth.extraKeys=[{"id":"a","secret":"b","services":["queue"]}]'],
             "/auth/extraKeys/0/services/0", ""),
            (["--set", "auth.adminKey.secret=has space"], "/auth/adminKey/secret", "pattern"),
        ]
        for args, where, what in cases:
            with self.subTest(args=args):
                r = helm("template", RELEASE, CHART, *args, check=False)
                self.assertNotEqual(r.returncode, 0, f"{args} was accepted")
                self.assertIn("don't meet the specifications of the schema", r.stderr)
                self.assertIn(where, r.stderr)
                self.assertIn(what, r.stderr)

    # ---- wiring ----

    def test_gateway_backends_name_every_enabled_service(self):
        for scenario, enabled in [("default", SERVICES), ("queues-only", ["queues"]), ("locked-down", SERVICES),
                                  ("keda", SERVICES)]:
            with self.subTest(scenario=scenario):
                objs = self.rendered[scenario]
                gw = one(objs, "Deployment", f"{FULLNAME}-gateway")["spec"]["template"]["spec"]["containers"][0]
                args = gw["args"]
                self.assertEqual(args[:2], ["serve", "--services=gateway"])
                backends = dict(item.split("=", 1) for item in
                                next(a for a in args if a.startswith("--backends="))[len("--backends="):].split(","))
                self.assertEqual(sorted(backends), sorted(enabled))
                self.assertEqual(len(find(objs, "StatefulSet")), len(enabled))
                for name, address in backends.items():
                    host, port = address.rsplit(":", 1)
                    svc_name = f"{FULLNAME}-{name}"
                    self.assertEqual(host, f"{svc_name}.{NAMESPACE}.svc.cluster.local")
                    svc = one(objs, "Service", svc_name)
                    self.assertNotEqual(svc["spec"].get("clusterIP"), "None")
                    self.assertEqual([p["port"] for p in svc["spec"]["ports"]], [int(port)])
                    sts = one(objs, "StatefulSet", svc_name)
                    pod = sts["spec"]["template"]
                    self.assertTrue(matches(svc["spec"]["selector"], pod["metadata"]["labels"]))
                    c = pod["spec"]["containers"][0]
                    self.assertEqual(c["args"][:3], ["serve", f"--services={name}", f"--{name}-port={port}"])
                    self.assertIn("--listen-address=0.0.0.0", c["args"])
                    self.assertIn("--data-dir=/data", c["args"])
                    grpc_port = next(p for p in c["ports"] if p["name"] == "grpc")
                    self.assertEqual(grpc_port["containerPort"], int(port))
                    self.assertEqual(svc["spec"]["ports"][0]["targetPort"], "grpc")
                    # Calls to the other services go through the gateway, with the services' key.
                    self.assertIn(f"--gateway-address={FULLNAME}-gateway.{NAMESPACE}.svc.cluster.local:50051",
                                  c["args"])
                    env = {e["name"]: e for e in c.get("env", [])}
                    self.assertEqual(env["THINGTANK_API_KEY_SECRET"]["valueFrom"]["secretKeyRef"]["key"],
                                     "service-key-secret")
                    self.assertEqual(sts["spec"]["serviceName"], f"{svc_name}-headless")
                    self.assertEqual(one(objs, "Service", f"{svc_name}-headless")["spec"]["clusterIP"], "None")
                    for claim in sts["spec"].get("volumeClaimTemplates", []):
                        self.assertEqual(claim["metadata"]["name"], "data")
                gw_svc = one(objs, "Service", f"{FULLNAME}-gateway")
                self.assertTrue(matches(gw_svc["spec"]["selector"],
                                        one(objs, "Deployment", f"{FULLNAME}-gateway")
                                        ["spec"]["template"]["metadata"]["labels"]))
                self.assertIn("--auth=apikey", args)
                self.assertIn("--api-keys-file=/etc/thingtank/api-keys/api-keys.txt", args)

    def test_monolithic_renders_one_statefulset_running_everything(self):
        objs = self.rendered["monolithic"]
        self.assertEqual([o["metadata"]["name"] for o in find(objs, "StatefulSet")], [FULLNAME])
        self.assertEqual(find(objs, "Deployment") + find(objs, "HorizontalPodAutoscaler"), [])
        sts = one(objs, "StatefulSet", FULLNAME)
        c = sts["spec"]["template"]["spec"]["containers"][0]
        self.assertEqual(c["args"][:2], ["serve", "--services=gateway," + ",".join(SERVICES)])
        self.assertFalse(any(a.startswith("--backends") or a.startswith("--gateway-address") for a in c["args"]))
        self.assertIn("--auth=apikey", c["args"])
        self.assertIn("--wamp-config=/etc/thingtank/wamp/wamp-config.json", c["args"])
        self.assertEqual(sts["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"], "20Gi")
        gw = one(objs, "Service", f"{FULLNAME}-gateway")
        self.assertTrue(matches(gw["spec"]["selector"], sts["spec"]["template"]["metadata"]["labels"]))
        ws = one(objs, "Service", f"{FULLNAME}-wamp-ws")
        self.assertTrue(matches(ws["spec"]["selector"], sts["spec"]["template"]["metadata"]["labels"]))
        no_auth = one(self.rendered["no-auth"], "StatefulSet", FULLNAME)["spec"]["template"]["spec"]["containers"][0]
        self.assertIn("--auth=none", no_auth["args"])
        self.assertIn("--allow-insecure", no_auth["args"])
        self.assertEqual(find(self.rendered["no-auth"], "Secret"), [])

    def test_each_service_can_be_disabled(self):
        for off in SERVICES:
            with self.subTest(off=off):
                objs = render("default", "--set", f"services.{off}.enabled=false")
                names = {o["metadata"]["name"] for o in objs}
                self.assertNotIn(f"{FULLNAME}-{off}", names)
                args = one(objs, "Deployment", f"{FULLNAME}-gateway")["spec"]["template"]["spec"]["containers"][0]["args"]
                backends = next(a for a in args if a.startswith("--backends="))
                self.assertNotIn(f"{off}=", backends)
                mono = render("monolithic", "--set", f"services.{off}.enabled=false")
                margs = one(mono, "StatefulSet", FULLNAME)["spec"]["template"]["spec"]["containers"][0]["args"]
                self.assertNotIn(off, margs[1].split("=", 1)[1].split(","))

    def test_probes_are_grpc_with_the_service_names_the_servers_report(self):
        # The names the servers register (grpc.health.v1): each package's first service.
        expected = {}
        for name in SERVICES:
            text = read(os.path.join(REPO, "proto", "thingtank", name, "v1", f"{name}.proto"))
            package = re.search(r"^package ([\w.]+);", text, re.M).group(1)
            service = re.search(r"^service (\w+)", text, re.M).group(1)
            expected[name] = f"{package}.{service}"
        for scenario in ("default", "queues-only"):
            objs = self.rendered[scenario]
            for sts in find(objs, "StatefulSet"):
                name = sts["metadata"]["labels"]["app.kubernetes.io/component"]
                c = sts["spec"]["template"]["spec"]["containers"][0]
                port = next(p["containerPort"] for p in c["ports"] if p["name"] == "grpc")
                for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
                    with self.subTest(scenario=scenario, service=name, probe=probe):
                        self.assertEqual(c[probe]["grpc"], {"port": port, "service": expected[name]})
                # RocksDB recovery: the startup probe waits far longer than readiness would.
                self.assertGreaterEqual(c["startupProbe"]["failureThreshold"] * c["startupProbe"]["periodSeconds"], 300)
            gw = one(objs, "Deployment", f"{FULLNAME}-gateway")["spec"]["template"]["spec"]["containers"][0]
            self.assertEqual(gw["readinessProbe"]["grpc"], {"port": 50051, "service": ""})
            self.assertEqual(gw["livenessProbe"]["httpGet"], {"path": "/healthz", "port": "metrics"})
        mono = one(self.rendered["monolithic"], "StatefulSet", FULLNAME)["spec"]["template"]["spec"]["containers"][0]
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            self.assertEqual(mono[probe]["grpc"], {"port": 50051, "service": ""})

    def test_security_context_volumes_and_pod_settings(self):
        for scenario, objs in self.rendered.items():
            for o, spec in pod_specs(objs):
                with self.subTest(scenario=scenario, pod=o["metadata"]["name"]):
                    psc = spec["securityContext"]
                    self.assertIs(psc["runAsNonRoot"], True)
                    self.assertEqual(psc["seccompProfile"], {"type": "RuntimeDefault"})
                    self.assertIs(spec["enableServiceLinks"], False)  # THINGTANK_<SVC>_PORT=tcp://...
                    self.assertIs(spec["automountServiceAccountToken"], False)
                    volumes = {v["name"]: v for v in spec.get("volumes", [])}
                    self.assertIn("emptyDir", volumes["tmp"])
                    for c in spec["containers"]:
                        sc = c["securityContext"]
                        self.assertIs(sc["allowPrivilegeEscalation"], False)
                        self.assertIs(sc["readOnlyRootFilesystem"], True)
                        self.assertIs(sc["runAsNonRoot"], True)
                        self.assertEqual(sc["capabilities"]["drop"], ["ALL"])
                        self.assertEqual(sc["seccompProfile"], {"type": "RuntimeDefault"})
                        mounts = {m["mountPath"]: m["name"] for m in c["volumeMounts"]}
                        self.assertEqual(mounts["/tmp"], "tmp")
                        self.assertIn("requests", c["resources"])
                        self.assertIn("memory", c["resources"]["limits"])
                        if o["kind"] == "Pod":
                            continue
                        self.assertEqual(mounts["/data"], "data")
                        if o["kind"] == "StatefulSet":
                            claims = [t["metadata"]["name"] for t in o["spec"].get("volumeClaimTemplates", [])]
                            self.assertTrue(claims == ["data"] or "emptyDir" in volumes.get("data", {}))
                            self.assertGreaterEqual(spec["terminationGracePeriodSeconds"], 30)
                        else:
                            self.assertIn("emptyDir", volumes["data"])
        default = self.rendered["default"]
        claims = [o for o in find(default, "StatefulSet") if o["spec"].get("volumeClaimTemplates")]
        self.assertEqual(len(claims), len(SERVICES))  # every stateful service has its PVC
        compute = one(self.rendered["locked-down"], "StatefulSet", f"{FULLNAME}-compute")
        self.assertNotIn("volumeClaimTemplates", compute["spec"])
        for o in find(default, "StatefulSet") + find(default, "Deployment"):
            self.assertTrue(o["spec"]["template"]["spec"]["topologySpreadConstraints"])

    def test_every_workload_has_a_pdb_and_the_gateway_an_hpa(self):
        for scenario in ("default", "queues-only", "monolithic"):
            objs = self.rendered[scenario]
            pdbs = find(objs, "PodDisruptionBudget")
            for o in find(objs, "StatefulSet") + find(objs, "Deployment"):
                labels = o["spec"]["template"]["metadata"]["labels"]
                self.assertEqual(len([p for p in pdbs if matches(p["spec"]["selector"]["matchLabels"], labels)]), 1,
                                 o["metadata"]["name"])
        hpa = one(self.rendered["default"], "HorizontalPodAutoscaler", f"{FULLNAME}-gateway")
        self.assertEqual(hpa["spec"]["scaleTargetRef"], {"apiVersion": "apps/v1", "kind": "Deployment",
                                                          "name": f"{FULLNAME}-gateway"})
        self.assertEqual(hpa["spec"]["metrics"][0]["resource"]["name"], "cpu")
        self.assertNotIn("replicas", one(self.rendered["default"], "Deployment", f"{FULLNAME}-gateway")["spec"])
        locked = self.rendered["locked-down"]
        self.assertEqual(find(locked, "HorizontalPodAutoscaler"), [])
        self.assertEqual(one(locked, "Deployment", f"{FULLNAME}-gateway")["spec"]["replicas"], 3)

    def test_network_policies(self):
        for scenario in ("default", "locked-down", "queues-only"):
            objs = self.rendered[scenario]
            policies = find(objs, "NetworkPolicy")
            gw_labels = one(objs, "Deployment", f"{FULLNAME}-gateway")["spec"]["template"]["metadata"]["labels"]
            for o in find(objs, "StatefulSet") + find(objs, "Deployment"):
                name = o["metadata"]["name"]
                labels = o["spec"]["template"]["metadata"]["labels"]
                c = o["spec"]["template"]["spec"]["containers"][0]
                ports = {p["name"]: p["containerPort"] for p in c["ports"]}
                mine = [p for p in policies if matches(p["spec"]["podSelector"]["matchLabels"], labels)]
                with self.subTest(scenario=scenario, workload=name):
                    self.assertEqual(len(mine), 1)
                    spec = mine[0]["spec"]
                    self.assertEqual(spec["policyTypes"], ["Ingress"])
                    rules = {r["ports"][0]["port"]: r for r in spec["ingress"]}
                    self.assertTrue(all(len(r["ports"]) == 1 for r in spec["ingress"]))
                    self.assertEqual(set(rules), set(ports.values()))
                    if o["kind"] == "StatefulSet":
                        # A backend's gRPC port: from the gateway's pods alone.
                        self.assertEqual(rules[ports["grpc"]]["from"], [{"podSelector": {"matchLabels": {
                            k: gw_labels[k] for k in ("app.kubernetes.io/name", "app.kubernetes.io/instance",
                                                      "app.kubernetes.io/component")}}}])
                    public = [rules[ports["grpc"]]] if o["kind"] == "Deployment" else []
                    if "ws" in ports:
                        public.append(rules[ports["ws"]])
                    for rule in public:
                        if scenario == "locked-down":
                            self.assertIn({"podSelector": {"matchLabels": {f"{FULLNAME}-client": "true"}}},
                                          rule["from"])
                            self.assertIn({"namespaceSelector": {"matchLabels": {
                                "kubernetes.io/metadata.name": "ingress"}}}, rule["from"])
                        else:
                            self.assertNotIn("from", rule)  # allowExternal: any source
                    metrics_rule = rules[ports["metrics"]]
                    if scenario == "locked-down":
                        self.assertIn({"namespaceSelector": {"matchLabels": {
                            "kubernetes.io/metadata.name": "monitoring"}}}, metrics_rule["from"])
                    else:
                        self.assertNotIn("from", metrics_rule)
        # The test pods carry the client label (they pass a locked-down gateway).
        for pod in find(self.rendered["locked-down"], "Pod"):
            self.assertEqual(pod["metadata"]["labels"][f"{FULLNAME}-client"], "true")

    # ---- secrets ----

    def secret_data(self, objs):
        secret = one(objs, "Secret", f"{FULLNAME}-api-keys")
        return {k: base64.b64decode(v).decode() for k, v in secret["data"].items()}

    def test_api_keys_secret_generated_and_never_shown(self):
        data = self.secret_data(self.rendered["default"])
        self.assertEqual(set(data), {"api-keys.txt", "admin-key-id", "admin-key-secret", "service-key-id",
                                     "service-key-secret"})
        self.assertRegex(data["admin-key-secret"], r"^[A-Za-z0-9]{40}$")
        self.assertRegex(data["service-key-secret"], r"^[A-Za-z0-9]{40}$")
        lines = [ln.split() for ln in data["api-keys.txt"].splitlines() if ln and not ln.startswith("#")]
        self.assertEqual(lines, [["admin", data["admin-key-secret"], "*", "1000", "2000"],
                                 ["thingtank-services", data["service-key-secret"], "*", "100000", "200000"]])
        given = self.secret_data(self.rendered["extra-keys"])
        self.assertEqual(given["admin-key-secret"], "given-admin-s3cret")
        self.assertIn("sensor-7 s3cret-7 queues,wamp 20 40\n", given["api-keys.txt"])
        self.assertIn("reader s3cret-r *\n", given["api-keys.txt"])
        self.assertEqual(find(self.rendered["locked-down"], "Secret"), [])
        gw = one(self.rendered["locked-down"], "Deployment", f"{FULLNAME}-gateway")["spec"]["template"]["spec"]
        self.assertEqual(next(v for v in gw["volumes"] if v["name"] == "api-keys")["secret"]["secretName"],
                         "my-thingtank-keys")
        # Helm's install output (manifest and NOTES): secrets only base64 in the Secret.
        for scenario in ("default", "extra-keys", "monolithic"):
            with self.subTest(scenario=scenario):
                r = helm("install", RELEASE, CHART, "-n", NAMESPACE, "--dry-run=client", *values_args(scenario))
                notes = r.stdout.split("\nNOTES:\n", 1)[1]
                manifest = r.stdout.split("\nNOTES:\n", 1)[0]
                secrets = self.secret_data([d for d in yaml.safe_load_all(manifest.split("\nMANIFEST:\n", 1)[1]) if d])
                for key in ("admin-key-secret", "service-key-secret"):
                    self.assertNotIn(secrets[key], notes)
                    self.assertNotIn(secrets[key], manifest)
                self.assertIn(f"get secret {FULLNAME}-api-keys -o jsonpath='{{.data.admin-key-secret}}'", notes)
                self.assertIn(f"port-forward svc/{FULLNAME}-gateway 50051:50051", notes)
                self.assertIn("thingtank queues create hello --endpoint localhost:50051", notes)

    # ---- what the containers run ----

    def test_only_flags_and_environment_serve_knows(self):
        flags, env_names = serve_help_flags()
        for scenario, objs in self.rendered.items():
            for o, spec in pod_specs(objs):
                for c in spec["containers"]:
                    if o["kind"] == "Pod":
                        continue
                    with self.subTest(scenario=scenario, container=o["metadata"]["name"]):
                        self.assertEqual(c["args"][0], "serve")
                        for arg in c["args"][1:]:
                            self.assertRegex(arg, r"^--[a-z0-9-]+")
                            self.assertIn(re.match(r"--([a-z0-9-]+)", arg).group(1), flags, arg)
                        for e in c.get("env", []):
                            if e["name"].startswith("THINGTANK_"):
                                self.assertIn(e["name"], env_names)

    def test_alerts_and_the_keda_query_use_series_the_code_exports(self):
        objs = self.rendered["keda"]
        exprs = [r["expr"] for g in one(objs, "PrometheusRule", FULLNAME)["spec"]["groups"] for r in g["rules"]]
        alerts = [r["alert"] for g in one(objs, "PrometheusRule", FULLNAME)["spec"]["groups"] for r in g["rules"]]
        self.assertLessEqual({"ThingTankTargetDown", "ThingTankStorageErrors", "ThingTankStreamsThrottling",
                              "ThingTankTablesThrottling", "ThingTankQueueMessageAge"}, set(alerts))
        query = one(objs, "ScaledObject", f"{FULLNAME}-orders-consumer")["spec"]["triggers"][0]["metadata"]["query"]
        source = ""
        for root in ("services", "gateway", "tools/thingtank"):
            for dirpath, _, names in os.walk(os.path.join(REPO, root)):
                for n in names:
                    if n.endswith((".cc", ".h")):
                        source += read(os.path.join(dirpath, n))
        for expr in exprs + [query]:
            for series in re.findall(r"\b((?:thingtank|grpc)_[a-z0-9_]+|up)\s*\{", expr):
                with self.subTest(series=series):
                    self.assertTrue(series == "up" or f'"{series}"' in source, f"{series} is not exported")
        self.assertIn('CappedGauges("queue"', source)  # the label the query selects on
        self.assertEqual(query, 'sum(thingtank_queues_messages_visible{queue="orders"})')
        readme = read(os.path.join(CHART, "README.md"))
        self.assertIn(query, readme)
        self.assertIn(query, read(os.path.join(CHART, "values.yaml")))
        monitor = one(objs, "ServiceMonitor", FULLNAME)["spec"]
        headless = [s for s in find(objs, "Service") if matches(monitor["selector"]["matchLabels"], s["metadata"]["labels"])]
        self.assertEqual(sorted(s["metadata"]["name"] for s in headless),
                         sorted(f"{FULLNAME}-{n}-headless" for n in ["gateway"] + SERVICES))

    def test_readme_documents_every_value(self):
        values = yaml.safe_load(read(os.path.join(CHART, "values.yaml")))
        readme = read(os.path.join(CHART, "README.md"))
        free_form = {"resources", "annotations", "labels", "config", "podAnnotations", "podLabels", "nodeSelector",
                     "affinity", "podSecurityContext", "containerSecurityContext"}

        def paths(node, prefix):
            for k, v in node.items():
                p = f"{prefix}{k}"
                yield p
                if isinstance(v, dict) and v and k not in free_form:
                    yield from paths(v, p + ".")

        for p in paths(values, ""):
            generic = re.sub(r"^services\.(compute|objects|tables|streams|queues|wamp)(?=\.|$)", "services.<name>", p)
            with self.subTest(value=p):
                self.assertTrue(f"`{p}`" in readme or f"`{generic}`" in readme, f"README.md does not document {p}")

    # ---- the helm test hooks, run here ----

    def test_helm_test_scripts_pass_against_a_real_server_with_the_rendered_keys_and_wamp_config(self):
        binary = os.environ.get("THINGTANK_BIN")
        if not binary:
            raise AssertionError("THINGTANK_BIN is not set (ctest sets it to the thingtank binary)")
        objs = self.rendered["default"]
        data = self.secret_data(objs)
        with tempfile.TemporaryDirectory() as tmp:
            keys = os.path.join(tmp, "api-keys.txt")
            with open(keys, "w") as f:
                f.write(data["api-keys.txt"])
            # The rendered WAMP config too: the server checks it at start.
            wamp_config = os.path.join(tmp, "wamp-config.json")
            with open(wamp_config, "w") as f:
                f.write(one(objs, "ConfigMap", f"{FULLNAME}-wamp-config")["data"]["wamp-config.json"])
            log_path = os.path.join(tmp, "serve.log")
            log = open(log_path, "w")
            server = subprocess.Popen(
                [binary, "serve", "--services=gateway,queues,wamp", "--data-dir", os.path.join(tmp, "data"),
                 "--gateway-port=0", "--metrics-port=0", "--wamp-ws-port=0", "--wamp-config", wamp_config,
                 "--auth=apikey", "--api-keys-file", keys],
                stdout=log, stderr=subprocess.STDOUT)
            try:
                ports_file = os.path.join(tmp, "data", "ports.json")
                deadline = time.monotonic() + 20
                while not os.path.exists(ports_file):
                    self.assertIsNone(server.poll(), f"serve exited: {read(log_path)}")
                    self.assertLess(time.monotonic(), deadline, "serve did not start")
                    time.sleep(0.05)
                ports = json.loads(read(ports_file))
                local = {
                    "TT_HEALTH_HOST": "127.0.0.1", "TT_HEALTH_PORT": str(ports["metrics"]),
                    "THINGTANK_ENDPOINT": f"127.0.0.1:{ports['gateway']}",
                    "THINGTANK_API_KEY_ID": data["admin-key-id"], "THINGTANK_API_KEY_SECRET": data["admin-key-secret"],
                }
                tests = find(objs, "Pod")
                self.assertEqual(sorted(p["metadata"]["name"] for p in tests),
                                 [f"{FULLNAME}-test-health", f"{FULLNAME}-test-queues"])
                for pod in tests:
                    self.assertEqual(pod["metadata"]["annotations"]["helm.sh/hook"], "test")
                    c = pod["spec"]["containers"][0]
                    self.assertEqual(c["command"], ["/bin/bash", "-c"])
                    env = {"PATH": os.path.dirname(os.path.abspath(binary)) + ":/usr/bin:/bin"}
                    for e in c.get("env", []):
                        self.assertIn(e["name"], local)  # every variable of the pod, given here
                        env[e["name"]] = local[e["name"]]
                    with self.subTest(pod=pod["metadata"]["name"]):
                        r = subprocess.run(["/bin/bash", "-c", c["args"][0]], env=env, capture_output=True,
                                           text=True, timeout=60)
                        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
                # The in-cluster addresses the pods use.
                health_env = {e["name"]: e.get("value") for e in
                              one(objs, "Pod", f"{FULLNAME}-test-health")["spec"]["containers"][0]["env"]}
                self.assertEqual(health_env["TT_HEALTH_HOST"],
                                 f"{FULLNAME}-gateway-headless.{NAMESPACE}.svc.cluster.local")
                queues_env = {e["name"]: e for e in
                              one(objs, "Pod", f"{FULLNAME}-test-queues")["spec"]["containers"][0]["env"]}
                self.assertEqual(queues_env["THINGTANK_ENDPOINT"]["value"],
                                 f"{FULLNAME}-gateway.{NAMESPACE}.svc.cluster.local:50051")
                self.assertEqual(queues_env["THINGTANK_API_KEY_SECRET"]["valueFrom"]["secretKeyRef"],
                                 {"name": f"{FULLNAME}-api-keys", "key": "admin-key-secret"})
            finally:
                server.send_signal(signal.SIGTERM)
                try:
                    self.assertEqual(server.wait(timeout=20), 0)
                finally:
                    if server.poll() is None:
                        server.kill()
                        server.wait()
                    log.close()


if __name__ == "__main__":
    unittest.main()
