#!/usr/bin/python3
"""End-to-end tests of `thingtank objects ...` (the S3 commands in the manner
of `aws s3`) through the real binary against a real `thingtank serve`.

One monolithic server (gateway and every service, free ports, a temporary data
directory) runs for the class. Files are made in temporary directories and
compared byte for byte (SHA-256) after a round trip; S3's ETag and checksum
rules are computed here independently. The progress bar is checked under a
pseudo-terminal (pty) and its absence without one.

Binary: $THINGTANK_BIN (default build/dev/tools/thingtank/thingtank).
Run: PYTHONPATH=tests/python /usr/bin/python3 -m unittest -v tests/integration/test_objects_cli.py
"""

import base64
import hashlib
import importlib
import json
import os
import pty
import random
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "python"))

import grpc  # noqa: E402  (Debian's python3-grpcio)

import thingtank_testing as tt  # noqa: E402

CLI_DEADLINE_S = 120
MiB = 1024 * 1024


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(MiB), b""):
            h.update(block)
    return h.hexdigest()


def write_random(path, size, seed):
    """A file of `size` pseudo-random bytes, written a MiB at a time."""
    rng = random.Random(seed)
    with open(path, "wb") as f:
        left = size
        while left > 0:
            n = min(MiB, left)
            f.write(rng.randbytes(n))
            left -= n
    return path


def multipart_etag(path, part_size):
    """S3's ETag of a multipart object: MD5 of the parts' binary MD5s, "-N", quoted."""
    digests = []
    with open(path, "rb") as f:
        for part in iter(lambda: f.read(part_size), b""):
            digests.append(hashlib.md5(part).digest())
    return '"%s-%d"' % (hashlib.md5(b"".join(digests)).hexdigest(), len(digests))


class ObjectsCliTest(unittest.TestCase):
    endpoint = None

    @classmethod
    def setUpClass(cls):
        if not os.access(tt.BIN, os.X_OK):
            raise AssertionError("no thingtank binary at %s (build first, or set THINGTANK_BIN)"
                                 % tt.BIN)
        help_text = subprocess.run([tt.BIN, "serve", "--help"], capture_output=True, text=True,
                                   timeout=CLI_DEADLINE_S).stdout
        if "objects" not in help_text:
            raise AssertionError("this thingtank has no objects service (`serve --help` does not "
                                 "list it)")
        server = tt.ServerProcess(["--gateway-port", "0", "--metrics-port", "0",
                                   "--wamp-ws-port", "0"])
        cls.addClassCleanup(server.cleanup)
        cls.addClassCleanup(server.stop)
        server.start(required=("gateway", "metrics"))
        tt.ready_channel(server.ports["gateway"]).close()
        cls.endpoint = "127.0.0.1:%d" % server.ports["gateway"]

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="thingtank-objects-cli-")
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)

    # -- running the CLI -----------------------------------------------------

    def env(self):
        env = dict(os.environ)
        env.pop("THINGTANK_API_KEY_ID", None)
        env.pop("THINGTANK_API_KEY_SECRET", None)
        env["THINGTANK_ENDPOINT"] = self.endpoint
        return env

    def cli(self, *args, binary=False, service="objects"):
        """Runs `thingtank SERVICE ARGS` (objects unless told); returns the CompletedProcess
        (stdout as bytes when binary)."""
        return subprocess.run([tt.BIN, service, *args], capture_output=True, text=not binary,
                              env=self.env(), timeout=CLI_DEADLINE_S)

    def ok(self, *args, **kwargs):
        result = self.cli(*args, **kwargs)
        self.assertEqual(result.returncode, 0, "objects %s failed (%d):\n%s%s"
                         % (" ".join(args), result.returncode, result.stdout, result.stderr))
        return result.stdout

    def json_ok(self, *args):
        return json.loads(self.ok(*args, "--json"))

    def fails(self, *args, reason=None, code=1):
        result = self.cli(*args)
        self.assertEqual(result.returncode, code, "objects %s: expected exit %d, got %d:\n%s%s"
                         % (" ".join(args), code, result.returncode, result.stdout,
                            result.stderr))
        if reason is not None:
            self.assertIn(reason, result.stderr)
        return result

    def bucket(self, name):
        self.assertEqual(self.ok("mb", "tt://" + name), "make_bucket: %s\n" % name)
        return name

    def path(self, *parts):
        return os.path.join(self.tmp, *parts)

    def write(self, rel, data):
        path = self.path(rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
        return path

    # -- small objects -------------------------------------------------------

    def test_small_file_up_stat_cat_ls_down_and_range(self):
        b = self.bucket("cli-small")
        data = b"hello, objects\n" * 100
        src = self.write("hello.txt", data)
        out = self.ok("cp", src, "tt://%s/dir/" % b)
        self.assertEqual(out, "upload: %s to tt://%s/dir/hello.txt\n" % (src, b))

        info = self.json_ok("stat", "tt://%s/dir/hello.txt" % b)["info"]
        self.assertEqual(info["key"], "dir/hello.txt")
        self.assertEqual(int(info["size"]), len(data))
        self.assertEqual(info["etag"], '"%s"' % hashlib.md5(data).hexdigest())
        self.assertEqual(info["headers"]["content_type"], "text/plain")
        human = self.ok("stat", "tt://%s/dir/hello.txt" % b)
        self.assertIn("size: %d\n" % len(data), human)
        self.assertIn("etag: %s\n" % info["etag"], human)
        self.assertIn("content type: text/plain\n", human)
        self.assertIn("version id: null\n", human)

        self.assertEqual(self.ok("cat", "tt://%s/dir/hello.txt" % b, binary=True), data)
        self.assertEqual(self.ok("cat", "tt://%s/dir/hello.txt" % b, "--range", "bytes=7-13",
                                 binary=True), data[7:14])
        self.assertEqual(self.ok("cat", "tt://%s/dir/hello.txt" % b, "--range", "bytes=-5",
                                 binary=True), data[-5:])

        # ls: buckets; one level with PRE; every key with --recursive.
        self.assertRegex(self.ok("ls"), r"(?m)^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d cli-small$")
        self.write("top.bin", b"\x00\x01\x02")
        self.ok("cp", self.path("top.bin"), "tt://%s/top.bin" % b)
        top = self.ok("ls", "tt://" + b).splitlines()
        self.assertEqual(top[0], " " * 27 + "PRE dir/")
        self.assertRegex(top[1], r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d +3 top.bin$")
        self.assertEqual(len(top), 2, top)
        inside = self.ok("ls", "tt://%s/dir/" % b).splitlines()
        self.assertEqual(len(inside), 1, inside)
        self.assertRegex(inside[0], r" +%d hello.txt$" % len(data))
        recursive = [line.split()[-1] for line in
                     self.ok("ls", "tt://" + b, "--recursive").splitlines()]
        self.assertEqual(recursive, ["dir/hello.txt", "top.bin"])
        listed = self.json_ok("ls", "tt://" + b)
        self.assertEqual(listed["common_prefixes"], ["dir/"])
        self.assertEqual([o["key"] for o in listed["contents"]], ["top.bin"])

        # Down: into a folder (the key's base name), to a file name, a range.
        os.mkdir(self.path("down"))
        out = self.ok("cp", "tt://%s/dir/hello.txt" % b, self.path("down"))
        target = self.path("down", "hello.txt")
        self.assertEqual(out, "download: tt://%s/dir/hello.txt to %s\n" % (b, target))
        self.assertEqual(sha256_file(target), hashlib.sha256(data).hexdigest())
        self.ok("cp", "tt://%s/dir/hello.txt" % b, self.path("down", "part.txt"), "--range",
                "bytes=0-4")
        with open(self.path("down", "part.txt"), "rb") as f:
            self.assertEqual(f.read(), data[:5])
        self.assertEqual(sorted(os.listdir(self.path("down"))), ["hello.txt", "part.txt"])

        # Server-side copy, with the base name for a "/" destination.
        self.assertEqual(self.ok("cp", "tt://%s/dir/hello.txt" % b, "tt://%s/copies/" % b),
                         "copy: tt://%s/dir/hello.txt to tt://%s/copies/hello.txt\n" % (b, b))
        self.assertEqual(self.ok("cat", "tt://%s/copies/hello.txt" % b, binary=True), data)

    def test_metadata_checksum_content_type_and_create_only(self):
        b = self.bucket("cli-meta")
        data = os.urandom(3000)
        src = self.write("pic.png", data)
        self.ok("cp", src, "tt://%s/pic" % b, "--metadata", "owner=me,stage=test",
                "--checksum-algorithm", "SHA256", "--quiet")
        info = self.json_ok("stat", "tt://%s/pic" % b)["info"]
        self.assertEqual(info["headers"]["content_type"], "image/png")
        self.assertEqual(info["headers"]["metadata"], {"owner": "me", "stage": "test"})
        self.assertEqual(info["checksums"]["sha256"],
                         base64.b64encode(hashlib.sha256(data).digest()).decode())
        human = self.ok("stat", "tt://%s/pic" % b)
        self.assertIn("metadata owner: me\n", human)
        self.assertIn("checksum SHA256: %s\n" % info["checksums"]["sha256"], human)

        self.ok("cp", src, "tt://%s/typed" % b, "--content-type", "application/x-thing")
        self.assertEqual(self.json_ok("stat", "tt://%s/typed" % b)["info"]["headers"]
                         ["content_type"], "application/x-thing")

        # --if-none-match '*': only when the key does not exist yet.
        self.ok("cp", src, "tt://%s/once" % b, "--if-none-match", "*")
        self.fails("cp", src, "tt://%s/once" % b, "--if-none-match", "*",
                   reason="PreconditionFailed")

    # -- multipart -----------------------------------------------------------

    def test_multipart_upload_of_20_mib_and_download(self):
        b = self.bucket("cli-multipart")
        src = write_random(self.path("big.bin"), 20 * MiB, seed=20)
        out = self.json_ok("cp", src, "tt://%s/big.bin" % b, "--multipart-threshold", "8MiB",
                           "--part-size", "5MiB")
        self.assertEqual(out["parts"], 4, out)
        expected = multipart_etag(src, 5 * MiB)
        self.assertEqual(out["etag"], expected)
        self.assertTrue(out["etag"].endswith('-4"'), out)
        info = self.json_ok("stat", "tt://%s/big.bin" % b)["info"]
        self.assertEqual(info["etag"], expected)
        self.assertEqual(int(info["size"]), 20 * MiB)
        self.assertEqual(info["parts_count"], 4)

        down = self.path("big.down")
        self.ok("cp", "tt://%s/big.bin" % b, down)
        self.assertEqual(sha256_file(down), sha256_file(src))
        # A range across a part boundary.
        with open(src, "rb") as f:
            f.seek(5 * MiB - 10)
            piece = f.read(20)
        self.assertEqual(self.ok("cat", "tt://%s/big.bin" % b, "--range",
                                 "bytes=%d-%d" % (5 * MiB - 10, 5 * MiB + 9), binary=True), piece)
        # Create-only over an existing key: the completion is refused and the
        # upload aborted, none left in progress.
        result = self.fails("cp", src, "tt://%s/big.bin" % b, "--multipart-threshold", "8MiB",
                            "--part-size", "5MiB", "--if-none-match", "*",
                            reason="PreconditionFailed")
        self.assertNotIn("could not be aborted", result.stderr)
        self.assertEqual(self.uploads_in_progress(b), [])
        self.assertEqual(self.json_ok("stat", "tt://%s/big.bin" % b)["info"]["etag"], expected)
        self.ok("rb", "tt://" + b, "--force")

    def uploads_in_progress(self, bucket):
        """The keys of the bucket's multipart uploads, through the generated client."""
        tt.require_build()
        pb = importlib.import_module("thingtank.objects.v1.objects_pb2")
        pb_grpc = importlib.import_module("thingtank.objects.v1.objects_pb2_grpc")
        with grpc.insecure_channel(self.endpoint) as channel:
            stub = pb_grpc.ObjectsServiceStub(channel)
            response = stub.ListMultipartUploads(pb.ListMultipartUploadsRequest(bucket=bucket),
                                                 timeout=tt.CALL_DEADLINE_S)
        return [u.key for u in response.uploads]

    # -- folders ---------------------------------------------------------------

    def test_recursive_up_and_down_rm_and_rb(self):
        b = self.bucket("cli-tree")
        tree = {"a.txt": b"a", "sub/b.txt": b"bb", "sub/deeper/c.bin": os.urandom(5000),
                "sub/deeper/empty": b""}
        for rel, data in tree.items():
            self.write(os.path.join("tree", rel), data)
        out = self.ok("cp", self.path("tree"), "tt://%s/up" % b, "--recursive")
        self.assertEqual(len(out.splitlines()), len(tree), out)
        keys = [line.split()[-1] for line in
                self.ok("ls", "tt://%s/up/" % b, "--recursive").splitlines()]
        self.assertEqual(keys, sorted("up/" + rel for rel in tree))
        # A key with an empty component lands as the file system reads it.
        self.write("x", b"double slash")
        self.ok("cp", self.path("x"), "tt://%s/up/x//y" % b)

        self.ok("cp", "tt://%s/up" % b, self.path("down"), "--recursive")
        for rel, data in tree.items():
            with open(self.path("down", rel), "rb") as f:
                self.assertEqual(f.read(), data, rel)
        with open(self.path("down", "x", "y"), "rb") as f:
            self.assertEqual(f.read(), b"double slash")

        # A key that would climb out of the folder is refused, the others written.
        self.ok("cp", self.path("x"), "tt://%s/up/../evil" % b)
        self.ok("cp", self.path("x"), "tt://%s/up/sub/../../evil2" % b)
        result = self.fails("cp", "tt://%s/up/" % b, self.path("guarded", "inside"),
                            "--recursive")
        self.assertIn('".." path component', result.stderr)
        self.assertIn("tt://%s/up/../evil" % b, result.stderr)
        self.assertTrue(os.path.exists(self.path("guarded", "inside", "a.txt")))
        for root, _, files in os.walk(self.tmp):
            self.assertNotIn("evil", files, root)
            self.assertNotIn("evil2", files, root)

        # rm --recursive deletes the folder (and the exact key), not its neighbours.
        self.ok("cp", self.path("x"), "tt://%s/upstairs" % b)
        out = self.ok("rm", "tt://%s/up" % b, "--recursive")
        deleted = sorted(line.split(" ", 1)[1] for line in out.splitlines())
        self.assertEqual(deleted, sorted("tt://%s/%s" % (b, k) for k in
                                         [*("up/" + rel for rel in tree), "up/x//y",
                                          "up/../evil", "up/sub/../../evil2"]))
        self.assertEqual([line.split()[-1] for line in
                          self.ok("ls", "tt://" + b, "--recursive").splitlines()], ["upstairs"])
        self.fails("rb", "tt://" + b, reason="BucketNotEmpty")
        self.assertEqual(self.ok("rm", "tt://%s/upstairs" % b), "delete: tt://%s/upstairs\n" % b)
        self.assertEqual(self.ok("rb", "tt://" + b), "remove_bucket: %s\n" % b)
        self.assertNotIn(" %s\n" % b, self.ok("ls"))

    # -- versions --------------------------------------------------------------

    def test_versioning_two_puts_and_versions_listing(self):
        b = self.bucket("cli-versions")
        self.assertEqual(self.ok("versioning", "tt://" + b), "not enabled (never versioned)\n")
        self.ok("versioning", "tt://" + b, "enable")
        self.assertEqual(self.ok("versioning", "tt://" + b), "Enabled\n")
        first = self.write("v1", b"first")
        second = self.write("v2", b"second!")
        v1 = self.json_ok("cp", first, "tt://%s/doc" % b)["version_id"]
        v2 = self.json_ok("cp", second, "tt://%s/doc" % b)["version_id"]
        self.assertNotEqual(v1, v2)
        self.assertNotIn("null", (v1, v2))

        lines = self.ok("ls", "--versions", "tt://" + b).splitlines()
        self.assertEqual(len(lines), 2, lines)
        self.assertRegex(lines[0], r" +7 %s latest doc$" % v2)
        self.assertRegex(lines[1], r" +5 %s - doc$" % v1)
        listed = self.json_ok("ls", "--versions", "tt://" + b)
        self.assertEqual([v["version_id"] for v in listed["versions"]], [v2, v1])
        self.assertEqual(self.ok("cat", "tt://%s/doc" % b, "--version-id", v1, binary=True),
                         b"first")

        out = self.ok("rm", "tt://%s/doc" % b)
        self.assertTrue(out.startswith("delete: tt://%s/doc (delete marker " % b), out)
        self.fails("cat", "tt://%s/doc" % b, reason="NoSuchKey")
        lines = self.ok("ls", "--versions", "tt://" + b).splitlines()
        self.assertEqual(len(lines), 3, lines)
        self.assertIn("DELETE-MARKER", lines[0])
        self.fails("rb", "tt://" + b, reason="BucketNotEmpty")
        self.ok("rb", "tt://" + b, "--force")
        self.fails("versioning", "tt://" + b, reason="NoSuchBucket")

    # -- progress ----------------------------------------------------------------

    def run_on_pty(self, *args):
        """Runs the CLI with stderr on a pseudo-terminal; returns (code, stdout, terminal text)."""
        master, slave = pty.openpty()
        proc = subprocess.Popen([tt.BIN, "objects", *args], stdout=subprocess.PIPE,
                                stderr=slave, env=self.env())
        os.close(slave)
        chunks = []
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the other end closed
                break
            if not chunk:
                break
            chunks.append(chunk)
        os.close(master)
        out = proc.stdout.read().decode()
        proc.stdout.close()
        code = proc.wait(timeout=CLI_DEADLINE_S)
        return code, out, b"".join(chunks).decode("utf-8", "replace")

    def test_progress_bar_only_on_a_terminal(self):
        b = self.bucket("cli-progress")
        src = write_random(self.path("p.bin"), 12 * MiB, seed=12)
        code, out, terminal = self.run_on_pty("cp", src, "tt://%s/p.bin" % b,
                                              "--multipart-threshold", "8MiB", "--part-size",
                                              "5MiB")
        self.assertEqual(code, 0, terminal)
        self.assertEqual(out, "upload: %s to tt://%s/p.bin\n" % (src, b))
        self.assertIn("\r", terminal)
        self.assertRegex(terminal, r"\[[#.]{20}\] +\d+% [\d.]+ [KMG]?i?B/12\.0 MiB [\d.]+ MiB/s "
                                   r"ETA (\d+:\d\d|--:--)")
        code, out, terminal = self.run_on_pty("cp", "tt://%s/p.bin" % b, self.path("p.down"))
        self.assertEqual(code, 0, terminal)
        self.assertIn("MiB/s", terminal)
        self.assertEqual(sha256_file(self.path("p.down")), sha256_file(src))

        # --quiet on a terminal: neither the bar nor the final line.
        code, out, terminal = self.run_on_pty("cp", src, "tt://%s/q.bin" % b, "--quiet")
        self.assertEqual((code, out), (0, ""), terminal)
        self.assertNotIn("MiB/s", terminal)
        # No terminal: no bar.
        result = self.cli("cp", src, "tt://%s/r.bin" % b)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stderr, "")
        self.assertEqual(result.stdout, "upload: %s to tt://%s/r.bin\n" % (src, b))

    # -- configurations ----------------------------------------------------------

    def test_lifecycle_set_show_delete(self):
        b = self.bucket("cli-lifecycle")
        self.fails("lifecycle", "tt://" + b, reason="NoSuchLifecycleConfiguration")
        rules = self.write("rules.json", json.dumps({"rules": [
            {"id": "logs", "status": "Enabled", "filter": {"prefix": "logs/"},
             "expiration": {"days": 30},
             "abort_incomplete_multipart_upload": {"days_after_initiation": 2}}]}).encode())
        self.assertEqual(self.ok("lifecycle", "tt://" + b, "--set", rules),
                         "set 1 lifecycle rules on %s\n" % b)
        shown = self.ok("lifecycle", "tt://" + b)
        self.assertIn("rule logs: Enabled\n", shown)
        self.assertIn("expire current versions after 30 days\n", shown)
        got = self.json_ok("lifecycle", "tt://" + b)["rules"]
        self.assertEqual(got[0]["filter"]["prefix"], "logs/")
        self.assertEqual(got[0]["expiration"]["days"], 30)
        bad = self.write("bad.json", b'{"rules": [{"expiration": {"dayz": 1}}]}')
        self.fails("lifecycle", "tt://" + b, "--set", bad, reason="dayz", code=2)
        self.ok("lifecycle", "tt://" + b, "--delete")
        self.fails("lifecycle", "tt://" + b, reason="NoSuchLifecycleConfiguration")

    def test_notifications_set_and_show(self):
        b = self.bucket("cli-notify")
        self.assertEqual(self.ok("notifications", "tt://" + b), "no notifications\n")
        self.ok("create", "cli-notify-q", service="queues")
        arn = "arn:aws:sqs:us-east-1:000000000000:cli-notify-q"
        conf = self.write("n.json", json.dumps({"configurations": [
            {"id": "new", "destination_arn": arn, "events": ["s3:ObjectCreated:*"],
             "prefix": "in/"}]}).encode())
        self.ok("notifications", "tt://" + b, "--set", conf)
        self.assertEqual(self.ok("notifications", "tt://" + b),
                         "new %s s3:ObjectCreated:* prefix=in/\n" % arn)
        self.ok("notifications", "tt://" + b, "--set", self.write("none.json", b"[]"))
        self.assertEqual(self.ok("notifications", "tt://" + b), "no notifications\n")

    def test_tags(self):
        b = self.bucket("cli-tags")
        self.write("t", b"t")
        self.ok("cp", self.path("t"), "tt://%s/t" % b)
        self.ok("tag", "tt://%s/t" % b, "team=blue", "env=test")
        self.assertEqual(self.ok("tag", "tt://%s/t" % b), "env=test\nteam=blue\n")
        self.ok("tag", "tt://%s/t" % b, "--delete")
        self.assertEqual(self.ok("tag", "tt://%s/t" % b), "no tags\n")
        self.ok("tag", "tt://" + b, "cost=1")
        self.assertEqual(self.json_ok("tag", "tt://" + b)["tags"], {"cost": "1"})

    # -- errors --------------------------------------------------------------------

    def test_errors_carry_the_s3_code(self):
        result = self.fails("mb", "tt://Bad_Name", reason="InvalidBucketName")
        self.assertTrue(result.stderr.startswith("error: "), result.stderr)
        result = self.cli("mb", "tt://Bad_Name", "--json")
        self.assertEqual(result.returncode, 1)
        self.assertEqual(json.loads(result.stderr)["error"]["reason"], "InvalidBucketName")

        b = self.bucket("cli-errors")
        self.fails("mb", "tt://" + b, reason="BucketAlreadyOwnedByYou")
        self.fails("cat", "tt://%s/missing" % b, reason="NoSuchKey")
        self.fails("stat", "tt://%s/missing" % b)
        self.fails("cat", "tt://cli-no-such-bucket/k", reason="NoSuchBucket")
        self.fails("ls", "tt://cli-no-such-bucket", reason="NoSuchBucket")
        # A failed download leaves no file, partial or temporary.
        os.mkdir(self.path("out"))
        self.fails("cp", "tt://%s/missing" % b, self.path("out") + "/", reason="NoSuchKey")
        self.assertEqual(os.listdir(self.path("out")), [])
        self.write("f", b"0123456789")
        self.ok("cp", self.path("f"), "tt://%s/f" % b)
        self.fails("cat", "tt://%s/f" % b, "--range", "bytes=100-200", reason="InvalidRange")
        self.fails("cp", "tt://%s/f" % b, self.path("out") + "/", "--range", "bytes=100-200",
                   reason="InvalidRange")
        self.assertEqual(os.listdir(self.path("out")), [])
        # Usage errors are 2, before any call.
        self.fails("cp", self.path("f"), self.path("g"), code=2)


if __name__ == "__main__":
    unittest.main()
