"""Targets by a host name with both IPv4 and IPv6 addresses (README "HTTP targets";
src/net/http_origin.c, http_client.c, h2_client.c).

Such a name is tried over IPv4 first; a connection IPv4 refuses goes on over the name's
IPv6 address (the request with it), and once IPv6 has answered, the target's next
connections go there first until it refuses in turn. Node >= 17 dev servers told
"localhost" listen on ::1 only, where Debian's /etc/hosts gives localhost both addresses.

This machine's /etc/hosts may give no name both, so lb runs in a mount namespace (a user
namespace too unless root) where /etc/hosts maps dual.test to 127.0.0.1 and ::1; the
tests are skipped where the kernel refuses the namespace.
"""
import atexit
import ctypes
import http.server
import json
import os
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
import unittest

from backend import Backend
from httpcommon import forward_config
from lbcommon import config, free_port, wait_for
from lbtest import Lb
from tlscommon import Pki

NAME = "dual.test"
HOSTS = f"127.0.0.1 localhost\n127.0.0.1 {NAME}\n::1 {NAME}\n"
LIBC = ctypes.CDLL(None, use_errno=True)   # loaded before any fork: the child only calls it
CLONE_NEWNS, CLONE_NEWUSER = 0x00020000, 0x10000000
MS_BIND, MS_REC, MS_PRIVATE = 4096, 16384, 1 << 18
FAST_HEALTH = {"LB_HEALTH_INTERVAL_MS": "50"}


def _check(rc, what):
    if rc != 0:
        raise OSError(ctypes.get_errno(), what)


def private_hosts(path):
    """A preexec_fn: the child gets a mount namespace of its own (and a user namespace,
    mapping its ids, unless root) where /etc/hosts is the file at path."""
    uid, gid = os.getuid(), os.getgid()

    def enter():
        _check(LIBC.unshare(CLONE_NEWNS | (CLONE_NEWUSER if uid else 0)), "unshare")
        if uid:
            for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1"),
                               ("gid_map", f"{gid} {gid} 1")):
                with open(f"/proc/self/{name}", "w") as f:
                    f.write(text)
        # Private first: the bind mount must not reach the machine's own namespace.
        _check(LIBC.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None), "mount --make-rprivate /")
        _check(LIBC.mount(path.encode(), b"/etc/hosts", None, MS_BIND, None), "mount --bind /etc/hosts")
    return enter


HOSTS_DIR = tempfile.mkdtemp(prefix="lb-dual-hosts-")
HOSTS_PATH = os.path.join(HOSTS_DIR, "hosts")
atexit.register(shutil.rmtree, HOSTS_DIR, True)
with open(HOSTS_PATH, "w") as _f:
    _f.write(HOSTS)


def dual_name_resolves():
    """Why not, or None: whether a child with the private /etc/hosts resolves NAME to both."""
    if not shutil.which("getent"):
        return "getent not installed"
    try:
        p = subprocess.run(["getent", "ahosts", NAME], capture_output=True, text=True, timeout=10,
                           preexec_fn=private_hosts(HOSTS_PATH))
    except (OSError, subprocess.SubprocessError) as e:
        return f"the kernel refuses a mount namespace with a private /etc/hosts: {e}"
    addrs = {line.split()[0] for line in p.stdout.splitlines() if line.strip()}
    if not {"127.0.0.1", "::1"} <= addrs:
        return f"{NAME} does not resolve to 127.0.0.1 and ::1 in the namespace: {p.stdout!r} {p.stderr!r}"
    return None


SKIP = dual_name_resolves()


def refused(host, port):
    try:
        socket.create_connection((host, port), timeout=2).close()
        return False
    except ConnectionRefusedError:
        return True


def group(port, protocol="HTTP", version="HTTP1", health_port=None):
    hc = f"{{protocol: {protocol}, path: /health, healthy_threshold: 2, unhealthy_threshold: 2"
    hc += f", port: {health_port}}}" if health_port else "}"
    return ("  - name: web\n"
            "    target_type: instance\n"
            f"    protocol: {protocol}\n"
            f"    protocol_version: {version}\n"
            f"    port: {port}\n"
            f"    targets: [{{id: {NAME}}}]\n"
            f"    health_check: {hc}\n")


def fallback_line(refusing, taking):
    return (f"target {refusing} refused the connection; {taking}, the other address of its name, "
            "took it and is tried first from now on")


class Ipv6Https(http.server.ThreadingHTTPServer):
    """An HTTPS/1.1 server on ::1 only: answers every GET with its path."""
    address_family = socket.AF_INET6

    def __init__(self, cert):
        super().__init__(("::1", 0), Ipv6HttpsHandler)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert.cert, cert.key)
        self.socket = ctx.wrap_socket(self.socket, server_side=True)
        self.port = self.server_address[1]
        threading.Thread(target=self.serve_forever, daemon=True).start()


class Ipv6HttpsHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        body = json.dumps({"path": self.path, "over": "tls on ::1"}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@unittest.skipIf(SKIP, SKIP)
class DualStackTargetsTest(unittest.TestCase):
    def start_lb(self, text):
        lb = Lb(text, rules={"a.yaml": "rules: []\n"}, env=FAST_HEALTH, preexec=private_hosts(HOSTS_PATH))
        self.addCleanup(lb.tmp.cleanup)
        lb.start()
        self.addCleanup(lb.stop)
        return lb

    def backend(self, id, host, port=0):
        b = Backend(id, host=host, port=port).start()
        self.addCleanup(b.stop)
        return b

    def wait_healthy(self, lb, port):
        text = f"target {NAME}:{port} is healthy"
        self.assertTrue(wait_for(lambda: text in lb.stderr(), 15), lb.stderr()[-3000:])

    def test_a_backend_on_ipv6_only_takes_the_request_that_ipv4_refused(self):
        v6 = self.backend("v6", "::1")
        self.assertTrue(refused("127.0.0.1", v6.port))
        # Checked on another port (answered over IPv4): the first request falls back itself.
        checked = self.backend("checked", "127.0.0.1")
        lb = self.start_lb(forward_config([group(v6.port, health_port=checked.port)]))
        self.wait_healthy(lb, v6.port)
        body = bytes(range(256)) * 400
        r = lb.get("/upload", method="POST", body=body)
        self.assertEqual((r.status, r.header("X-Backend-Id")), (200, "v6"), lb.stderr()[-3000:])
        self.assertEqual(json.loads(r.body)["len"], len(body))
        self.assertEqual(lb.get("/echo").header("X-Backend-Id"), "v6")
        log = lb.log_lines(2)
        self.assertEqual([line["target_port"] for line in log], [f"{NAME}:{v6.port}"] * 2)
        self.assertEqual([line["elb_status_code"] for line in log], ["200", "200"])
        self.assertEqual(lb.stderr().count(fallback_line(f"127.0.0.1:{v6.port}", f"[::1]:{v6.port}")), 1,
                         lb.stderr()[-3000:])

    def test_the_address_that_answered_goes_first_until_it_refuses(self):
        v6 = self.backend("v6", "::1")
        self.assertTrue(refused("127.0.0.1", v6.port))
        lb = self.start_lb(forward_config([group(v6.port)]))
        self.wait_healthy(lb, v6.port)
        self.assertEqual(lb.get("/echo").header("X-Backend-Id"), "v6")
        # IPv4 listens now too, but new connections (Connection: close ends each) stay on IPv6.
        v4 = self.backend("v4", "127.0.0.1", port=v6.port)
        for _ in range(3):
            r = lb.get("/headers?Connection=close")
            self.assertEqual((r.status, r.header("X-Backend-Id")), (200, "v6"))
        # IPv6 refuses: the next connection goes to IPv4, and the ones after it too.
        v6.stop()
        self.assertTrue(wait_for(lambda: refused("::1", v6.port), 5))
        for _ in range(3):
            r = lb.get("/headers?Connection=close")
            self.assertEqual((r.status, r.header("X-Backend-Id")), (200, "v4"), lb.stderr()[-3000:])
        self.assertGreater(len(v4.requests), 0)
        # One line, the first time: not per connection, nor when it goes back.
        self.assertEqual(lb.stderr().count("the other address of its name"), 1, lb.stderr()[-3000:])

    def test_health_checks_of_an_ipv6_only_backend_turn_it_healthy(self):
        v6 = self.backend("v6", "::1")
        lb = self.start_lb(forward_config([group(v6.port)]))
        self.wait_healthy(lb, v6.port)
        self.assertTrue(wait_for(lambda: len(v6.health_checks) >= 2, 5))
        self.assertNotIn(f"{NAME}:{v6.port} is unhealthy", lb.stderr())

    def test_an_https_backend_on_ipv6_only_is_reached_over_tls(self):
        pki = Pki()
        self.addCleanup(pki.cleanup)
        server = Ipv6Https(pki.issue("target", dns=[NAME], ip=["::1"]))
        self.addCleanup(server.server_close)
        self.addCleanup(server.shutdown)
        self.assertTrue(refused("127.0.0.1", server.port))
        lb = self.start_lb(forward_config([group(server.port, protocol="HTTPS")]))
        self.wait_healthy(lb, server.port)
        r = lb.get("/over/tls")
        self.assertEqual((r.status, json.loads(r.body)), (200, {"path": "/over/tls", "over": "tls on ::1"}),
                         lb.stderr()[-3000:])

    def test_a_backend_on_ipv4_only_still_answers(self):
        v4 = self.backend("v4", "127.0.0.1")
        self.assertTrue(refused("::1", v4.port))
        lb = self.start_lb(forward_config([group(v4.port)]))
        self.wait_healthy(lb, v4.port)
        for _ in range(3):
            r = lb.get("/headers?Connection=close")
            self.assertEqual((r.status, r.header("X-Backend-Id")), (200, "v4"))
        self.assertNotIn("refused", lb.stderr())

    def test_nothing_listening_is_502_with_one_line_per_request(self):
        port = free_port()
        self.assertTrue(refused("127.0.0.1", port) and refused("::1", port))
        lb = self.start_lb(forward_config([group(port)]))
        for _ in range(3):
            self.assertEqual(lb.get("/nothing").status, 502)
        lines = [line for line in lb.stderr().splitlines() if "/nothing" in line]
        self.assertEqual(lines, [f"lb: warning: GET /nothing: target {NAME}:{port} refused the connection: 502"] * 3)
        self.assertNotIn("the other address of its name", lb.stderr())


HAVE_H2 = shutil.which("nghttpd") and shutil.which("curl")


@unittest.skipIf(SKIP, SKIP)
@unittest.skipUnless(HAVE_H2, "nghttpd (nghttp2-server) or curl not installed")
class DualStackHttp2TargetTest(unittest.TestCase):
    def test_an_http2_backend_on_ipv6_only_is_checked_and_reached(self):
        pki = Pki()
        self.addCleanup(pki.cleanup)
        site = pki.issue("site", dns=["localhost"], ip=["127.0.0.1"])
        docroot = tempfile.mkdtemp(prefix="lb-dual-h2-")
        self.addCleanup(shutil.rmtree, docroot, True)
        for name, text in (("index.html", "hello over h2 on ::1\n"), ("health", "ok\n")):
            with open(os.path.join(docroot, name), "w") as f:
                f.write(text)
        port = free_port(socket.AF_INET6, "::1")
        target = subprocess.Popen(["nghttpd", "--no-tls", "-a", "::1", "-d", docroot, str(port)],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.addCleanup(target.wait, 10)
        self.addCleanup(target.terminate)
        self.assertTrue(wait_for(lambda: not refused("::1", port), 15))
        self.assertTrue(refused("127.0.0.1", port))
        listener = ("  - port: 0\n"
                    "    protocol: HTTPS\n"
                    f"    certificates: [{{certificate: {site.cert}, private_key: {site.key}}}]\n"
                    "    default_actions: [{type: forward, target_group: web}]\n")
        lb = Lb(config(listeners=listener, target_groups="target_groups:\n" + group(port, version="HTTP2")),
                env=FAST_HEALTH, preexec=private_hosts(HOSTS_PATH))
        self.addCleanup(lb.tmp.cleanup)
        lb.start()
        self.addCleanup(lb.stop)
        healthy = f"target {NAME}:{port} is healthy"
        self.assertTrue(wait_for(lambda: healthy in lb.stderr(), 15), lb.stderr()[-3000:])
        p = subprocess.run(["curl", "-sS", "--http2", "--cacert", pki.ca_cert, "-w", "\n%{http_version} %{http_code}",
                            f"https://localhost:{lb.port}/index.html"], capture_output=True, timeout=30)
        self.assertEqual(p.stdout.decode(), "hello over h2 on ::1\n\n2 200", (p.stderr, lb.stderr()[-3000:]))
        self.assertEqual(lb.stderr().count(fallback_line(f"127.0.0.1:{port}", f"[::1]:{port}")), 1)


if __name__ == "__main__":
    unittest.main()
