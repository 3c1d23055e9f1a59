"""HTTP/2 toward targets (DESIGN.md §13-14, alb-http-targets-and-tls.md §1.2): target groups
with protocol_version HTTP2 speak h2c (prior knowledge) to `protocol: HTTP` targets and ALPN h2
over TLS to `protocol: HTTPS` ones, one multiplexed connection per target; an HTTP/1.1
request to such a group is ALB's 464. The targets are Debian's nghttpd (nghttp2-server).
"""
import hashlib
import os
import re
import shutil
import socket
import struct
import subprocess
import tempfile
import threading
import unittest

from lbcommon import config, free_port, log_for, wait_for
from h2wire import hpack_literal
from lbtest import Lb
from tlscommon import Pki

PKI = Pki()
SITE = PKI.issue("site", dns=["localhost"], ip=["127.0.0.1"])
TARGET = PKI.issue("target", dns=["localhost"], ip=["127.0.0.1"], key="rsa")
HAVE_TOOLS = shutil.which("nghttpd") and shutil.which("curl") and shutil.which("h2load")


def big_bytes(n):
    """n deterministic bytes that do not compress."""
    out, block = bytearray(), b"lb"
    while len(out) < n:
        block = hashlib.sha256(block).digest()
        out += block
    return bytes(out[:n])


class Nghttpd:
    """nghttpd on a free port, serving docroot; --echo-upload answers POST with its body."""

    def __init__(self, docroot, tls=False):
        self.port = free_port()
        self.log = tempfile.NamedTemporaryFile(prefix="lb-nghttpd-", suffix=".log", delete=False)
        cmd = ["nghttpd", "-v", "--echo-upload", "-a", "127.0.0.1", "-d", docroot, str(self.port)]
        cmd += [TARGET.key, TARGET.cert] if tls else ["--no-tls"]
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT)
        wait_for(self.listening, timeout=15)

    def listening(self):
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
            return True
        except OSError:
            return False

    def connections(self):
        """Ids of the HTTP/2 sessions nghttpd saw (the probe in listening() makes none)."""
        with open(self.log.name, "rb") as f:
            text = f.read().decode("latin-1")
        return set(re.findall(r"^\[id=(\d+)\] \[[ 0-9.]+\] recv SETTINGS", text, re.M))

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)
        self.log.close()
        if not os.environ.get("H2T_KEEP_LOGS"):
            os.unlink(self.log.name)


class RawH2Target:
    """An h2c target written frame by frame, for what nghttpd will not do: mode "rst"
    resets every stream, "goaway" answers every request with GOAWAY (last stream 0),
    "silent" sends its SETTINGS and then nothing, "grpc" answers each request once it
    ends as a gRPC server does: head, one message, trailers with grpc-status; "odd"
    answers :status 999 (nghttp2 takes any three digits) with a 2-byte body; "switch"
    answers :status 101, which HTTP/2 forbids (RFC 9113 §8.6)."""

    def __init__(self, mode):
        self.mode = mode
        self.connections = 0
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.conns = []
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            self.conns.append(c)
            threading.Thread(target=self.serve, args=(c,), daemon=True).start()

    @staticmethod
    def frame(ftype, flags, sid, payload=b""):
        return struct.pack(">I", len(payload))[1:] + bytes([ftype, flags]) + struct.pack(">I", sid) + payload

    def serve(self, c):
        try:
            buf = b""
            while len(buf) < 24:
                d = c.recv(65536)
                if not d:
                    return
                buf += d
            buf = buf[24:]
            c.sendall(self.frame(4, 0, 0))
            while True:
                while len(buf) < 9 or len(buf) < 9 + int.from_bytes(buf[:3], "big"):
                    d = c.recv(65536)
                    if not d:
                        return
                    buf += d
                n, ftype, flags = int.from_bytes(buf[:3], "big"), buf[3], buf[4]
                sid = struct.unpack(">I", buf[5:9])[0] & 0x7fffffff
                buf = buf[9 + n:]
                if ftype == 4 and not flags & 1:
                    c.sendall(self.frame(4, 1, 0))
                elif ftype == 1 and self.mode == "rst":
                    c.sendall(self.frame(3, 0, sid, struct.pack(">I", 2)))   # INTERNAL_ERROR
                elif ftype == 1 and self.mode == "goaway":
                    c.sendall(self.frame(7, 0, 0, struct.pack(">II", 0, 0)))
                elif ftype == 1 and self.mode == "odd":
                    head = hpack_literal(":status", "999") + hpack_literal("content-length", "2")
                    c.sendall(self.frame(1, 4, sid, head) + self.frame(0, 1, sid, b"ok"))
                elif ftype == 1 and self.mode == "switch":
                    c.sendall(self.frame(1, 4, sid, hpack_literal(":status", "101")))
                elif ftype in (0, 1) and flags & 1 and self.mode == "grpc":
                    head = hpack_literal(":status", "200") + hpack_literal("content-type", "application/grpc")
                    trailers = hpack_literal("grpc-status", "0") + hpack_literal("grpc-message", "all-good")
                    c.sendall(self.frame(1, 4, sid, head) + self.frame(0, 0, sid, b"\0\0\0\0\2hi") +
                              self.frame(1, 5, sid, trailers))
        except OSError:
            return

    def stop(self):
        self.sock.close()
        for c in self.conns:
            c.close()


def listener():
    return ("  - port: 0\n"
            "    protocol: HTTPS\n"
            f"    certificates: [{{certificate: {SITE.cert}, private_key: {SITE.key}}}]\n"
            "    rules:\n"
            "      - priority: 1\n"
            "        conditions: [{path_pattern: {values: [\"/tls/*\"]}}]\n"
            "        actions: [{type: forward, target_group: tls}]\n"
            "      - priority: 2\n"
            "        conditions: [{path_pattern: {values: [\"/down/*\"]}}]\n"
            "        actions: [{type: forward, target_group: down}]\n"
            "    default_actions: [{type: forward, target_group: h2}]\n")


def failures_listener():
    rules = "".join(
        f"      - priority: {i + 1}\n"
        f"        conditions: [{{path_pattern: {{values: [\"/{m}/*\"]}}}}]\n"
        f"        actions: [{{type: forward, target_group: {m}}}]\n"
        for i, m in enumerate(("rst", "goaway", "silent", "grpc", "odd", "switch")))
    return ("  - port: 0\n"
            "    protocol: HTTPS\n"
            f"    certificates: [{{certificate: {SITE.cert}, private_key: {SITE.key}}}]\n"
            "    rules:\n" + rules +
            "    default_actions: [{type: forward, target_group: rst}]\n")


def group(name, port, protocol="HTTP", version="HTTP2"):
    return (f"  - name: {name}\n"
            "    target_type: ip\n"
            f"    protocol: {protocol}\n"
            f"    protocol_version: {version}\n"
            f"    port: {port}\n"
            f"    targets: [{{id: 127.0.0.1, port: {port}}}]\n"
            f"    health_check: {{protocol: {protocol}, healthy_threshold: 2, unhealthy_threshold: 2}}\n")


@unittest.skipUnless(HAVE_TOOLS, "nghttpd (nghttp2-server), h2load or curl not installed")
class Http2TargetsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.docroot = tempfile.mkdtemp(prefix="lb-h2t-")
        cls.big = big_bytes(4 * 1024 * 1024 + 7)
        with open(os.path.join(cls.docroot, "index.html"), "w") as f:
            f.write("hello over h2\n")
        with open(os.path.join(cls.docroot, "big.bin"), "wb") as f:
            f.write(cls.big)
        os.mkdir(os.path.join(cls.docroot, "tls"))
        with open(os.path.join(cls.docroot, "tls", "index.html"), "w") as f:
            f.write("hello over h2 and TLS\n")
        cls.h2c = Nghttpd(cls.docroot)
        cls.tls = Nghttpd(cls.docroot, tls=True)
        cls.closed_port = free_port()
        groups = ("target_groups:\n" + group("h2", cls.h2c.port) + group("tls", cls.tls.port, "HTTPS") +
                  group("down", cls.closed_port))
        cls.lb = Lb(config(attributes={"idle_timeout.timeout_seconds": 300}, listeners=listener(),
                           target_groups=groups), env={"LB_HEALTH_INTERVAL_MS": "300"})
        cls.lb.start()
        cls.url = f"https://localhost:{cls.lb.port}"

    @classmethod
    def tearDownClass(cls):
        try:
            cls.lb.stop()
        finally:
            cls.lb.tmp.cleanup()
            cls.h2c.stop()
            cls.tls.stop()
            shutil.rmtree(cls.docroot, ignore_errors=True)

    def curl(self, *args, timeout=60):
        return subprocess.run(["curl", "-sS", "--cacert", PKI.ca_cert] + list(args), capture_output=True,
                              timeout=timeout)

    def test_get_over_h2c_and_its_log_line(self):
        p = self.curl("--http2", "-A", "h2t-get", "-w", "\n%{http_version} %{http_code}",
                      self.url + "/index.html")
        self.assertEqual(p.stdout, b"hello over h2\n\n2 200", self.lb.stderr())
        e = log_for(self.lb, '"h2t-get"')
        self.assertEqual((e["type"], e["elb_status_code"], e["target_status_code"]), ("h2", "200", "200"))
        self.assertEqual(e["target_port"], f"127.0.0.1:{self.h2c.port}")

    def test_target_answer_headers_reach_the_client(self):
        p = self.curl("--http2", "-i", self.url + "/index.html")
        head = p.stdout.split(b"\r\n\r\n")[0].decode().lower()
        self.assertTrue(head.startswith("http/2 200"), head)
        self.assertIn("server: nghttpd", head)
        self.assertIn("content-length: 14", head)

    def test_missing_file_is_the_targets_404(self):
        p = self.curl("--http2", "-o", "/dev/null", "-w", "%{http_code}", self.url + "/nope")
        self.assertEqual(p.stdout, b"404")

    def test_post_body_both_ways(self):
        p = self.curl("--http2", "--data-binary", "ping=pong&x=1", self.url + "/echo")
        self.assertEqual(p.stdout, b"ping=pong&x=1", p.stderr)

    def test_large_download_streamed(self):
        with tempfile.NamedTemporaryFile() as out:
            p = self.curl("--http2", "-o", out.name, "-w", "%{http_code}", self.url + "/big.bin")
            self.assertEqual(p.stdout, b"200", p.stderr)
            with open(out.name, "rb") as f:
                self.assertEqual(hashlib.sha256(f.read()).hexdigest(), hashlib.sha256(self.big).hexdigest())

    def test_slow_clients_in_parallel_get_every_byte(self):
        # Rate-limited clients make lb pause the answers (flow control toward the target)
        # on the one shared connection; every body arrives whole.
        outs = [tempfile.NamedTemporaryFile() for _ in range(4)]
        procs = [subprocess.Popen(["curl", "-sS", "--cacert", PKI.ca_cert, "--http2", "--limit-rate", "3M",
                                   "-o", o.name, self.url + "/big.bin"]) for o in outs]
        for p in procs:
            self.assertEqual(p.wait(timeout=120), 0)
        want = hashlib.sha256(self.big).hexdigest()
        for o in outs:
            with open(o.name, "rb") as f:
                self.assertEqual(hashlib.sha256(f.read()).hexdigest(), want)
            o.close()

    def test_large_upload_echoed(self):
        with tempfile.NamedTemporaryFile() as src, tempfile.NamedTemporaryFile() as out:
            src.write(self.big)
            src.flush()
            p = self.curl("--http2", "--data-binary", "@" + src.name, "-o", out.name, "-w", "%{http_code}",
                          self.url + "/upload")
            self.assertEqual(p.stdout, b"200", p.stderr)
            with open(out.name, "rb") as f:
                self.assertEqual(hashlib.sha256(f.read()).hexdigest(), hashlib.sha256(self.big).hexdigest())

    def test_chunked_upload_without_length(self):
        # curl sends no content-length for stdin with -T -: lb reads it as a stream.
        p = subprocess.run(["curl", "-sS", "--cacert", PKI.ca_cert, "--http2", "-X", "POST", "-T", "-",
                            self.url + "/stdin"], input=b"a" * 100000, capture_output=True, timeout=60)
        self.assertEqual(p.stdout, b"a" * 100000, p.stderr)

    def test_many_concurrent_requests_share_one_target_connection(self):
        p = subprocess.run(["h2load", "-n", "300", "-c", "3", "-m", "30", self.url + "/index.html"],
                           capture_output=True, timeout=120)
        out = p.stdout.decode()
        self.assertIn("requests: 300 total, 300 started, 300 done, 300 succeeded", out)
        self.assertIn("status codes: 300 2xx", out)
        # Every request of the class went over one HTTP/2 connection to the target.
        self.assertEqual(len(self.h2c.connections()), 1, self.h2c.connections())

    def test_https_target_over_alpn_h2(self):
        p = self.curl("--http2", "-A", "h2t-tls", self.url + "/tls/index.html")
        self.assertEqual(p.stdout, b"hello over h2 and TLS\n", p.stderr)
        e = log_for(self.lb, '"h2t-tls"')
        self.assertEqual((e["elb_status_code"], e["target_status_code"]), ("200", "200"))
        self.assertEqual(e["target_port"], f"127.0.0.1:{self.tls.port}")
        self.assertEqual(len(self.tls.connections()), 1)

    def test_target_down_is_502(self):
        p = self.curl("--http2", "-A", "h2t-down", "-o", "/dev/null", "-w", "%{http_code}",
                      self.url + "/down/x")
        self.assertEqual(p.stdout, b"502")
        e = log_for(self.lb, '"h2t-down"')
        self.assertEqual((e["elb_status_code"], e["target_status_code"]), ("502", "-"))
        self.assertEqual(e["target_port"], f"127.0.0.1:{self.closed_port}")
        self.assertIn("refused the connection", self.lb.stderr())

    def test_http11_request_to_an_http2_group_is_464(self):
        # ALB: an HTTP/1.1 request to an HTTP2 group is 464 (alb-http-targets-and-tls.md §1.2).
        p = self.curl("--http1.1", "-A", "h2t-h1", "-o", "/dev/null", "-w", "%{http_code}",
                      self.url + "/index.html")
        self.assertEqual(p.stdout, b"464")
        e = log_for(self.lb, '"h2t-h1"')
        self.assertEqual((e["type"], e["elb_status_code"], e["target_status_code"]), ("https", "464", "-"))

    def test_health_checks_go_over_http2(self):
        # HTTP2 groups are checked over HTTP/2, on the targets' connections: both turn healthy.
        for port in (self.h2c.port, self.tls.port):
            self.assertTrue(wait_for(lambda: f"target 127.0.0.1:{port} is healthy" in self.lb.stderr(),
                                     timeout=20), self.lb.stderr())
        self.assertTrue(wait_for(lambda: f"target 127.0.0.1:{self.closed_port} is unhealthy" in self.lb.stderr(),
                                 timeout=20), self.lb.stderr())

    def test_zz_lb_still_serves(self):
        # Runs last (by name): after every failure above lb answers, on the same target connection.
        p = self.curl("--http2", self.url + "/index.html")
        self.assertEqual(p.stdout, b"hello over h2\n")
        self.assertEqual(len(self.h2c.connections()), 1)


@unittest.skipUnless(HAVE_TOOLS, "nghttpd (nghttp2-server), h2load or curl not installed")
class Http2TargetFailuresTest(unittest.TestCase):
    """Targets that reset, go away or stay silent: ALB's 502 and 504 (§1.12)."""

    @classmethod
    def setUpClass(cls):
        cls.targets = {m: RawH2Target(m) for m in ("rst", "goaway", "silent", "grpc", "odd", "switch")}
        groups = "target_groups:\n" + "".join(group(m, t.port, version="GRPC" if m == "grpc" else "HTTP2")
                                               for m, t in cls.targets.items())
        cls.lb = Lb(config(attributes={"idle_timeout.timeout_seconds": 1}, listeners=failures_listener(),
                           target_groups=groups))
        cls.lb.start()
        cls.url = f"https://localhost:{cls.lb.port}"

    @classmethod
    def tearDownClass(cls):
        try:
            cls.lb.stop()
        finally:
            cls.lb.tmp.cleanup()
            for t in cls.targets.values():
                t.stop()

    def status(self, path, agent):
        p = subprocess.run(["curl", "-sS", "--cacert", PKI.ca_cert, "--http2", "-A", agent, "-o", "/dev/null",
                            "-w", "%{http_code}", self.url + path], capture_output=True, timeout=60)
        return p.stdout.decode()

    def test_rst_stream_is_502(self):
        self.assertEqual(self.status("/rst/x", "h2t-rst"), "502")
        e = log_for(self.lb, '"h2t-rst"')
        self.assertEqual((e["elb_status_code"], e["target_status_code"]), ("502", "-"))
        self.assertEqual(e["target_port"], f"127.0.0.1:{self.targets['rst'].port}")

    def test_status_outside_100_to_599_is_502(self):
        # RFC 9110 §15: a status is 100-599; any other is a malformed answer (§1.12).
        self.assertEqual(self.status("/odd/x", "h2t-odd"), "502")
        e = log_for(self.lb, '"h2t-odd"')
        self.assertEqual((e["elb_status_code"], e["target_status_code"]), ("502", "-"))
        self.assertIn("sent a malformed answer", self.lb.stderr())

    def test_switching_protocols_is_a_malformed_answer(self):
        # RFC 9113 §8.6: HTTP/2 has no 101; nghttp2 resets the stream, and lb names
        # the target's fault as for any malformed answer, not as a closed connection.
        self.assertEqual(self.status("/switch/x", "h2t-switch"), "502")
        e = log_for(self.lb, '"h2t-switch"')
        self.assertEqual((e["elb_status_code"], e["target_status_code"]), ("502", "-"))
        self.assertRegex(self.lb.stderr(), r"/switch/x.*sent a malformed answer")

    def test_goaway_is_502_and_the_next_request_opens_a_new_connection(self):
        self.assertEqual(self.status("/goaway/1", "h2t-goaway-1"), "502")
        self.assertEqual(self.status("/goaway/2", "h2t-goaway-2"), "502")
        self.assertGreaterEqual(self.targets["goaway"].connections, 2)

    def test_silence_past_the_idle_timeout_is_504(self):
        self.assertEqual(self.status("/silent/x", "h2t-silent"), "504")
        e = log_for(self.lb, '"h2t-silent"')
        self.assertEqual((e["elb_status_code"], e["target_status_code"]), ("504", "-"))
        self.assertIn("sent nothing within the idle timeout", self.lb.stderr())

    @unittest.skipUnless(shutil.which("nghttp"), "nghttp (nghttp2-client) not installed")
    def test_grpc_trailers_reach_an_http2_client(self):
        with tempfile.NamedTemporaryFile() as msg:
            msg.write(b"\0\0\0\0\2yo")
            msg.flush()
            p = subprocess.run(["nghttp", "-v", "-d", msg.name, "-H", "content-type: application/grpc",
                                "-H", "te: trailers", self.url + "/grpc/pkg.Svc/Call"],
                               capture_output=True, timeout=60)
        out = p.stdout.decode("latin-1")
        self.assertIn("grpc-status: 0", out, out[-3000:])
        self.assertIn("grpc-message: all-good", out)
        self.assertIn(":status: 200", out)

    def test_grpc_group_takes_only_post(self):
        # ALB: a GRPC group answers 464 to anything but POST (§1.2).
        self.assertEqual(self.status("/grpc/pkg.Svc/Call", "h2t-grpc-get"), "464")


if __name__ == "__main__":
    unittest.main()
