"""HTTPS listeners (DESIGN.md §14, alb-http-targets-and-tls.md §2): HTTP/1.1
over TLS with real clients (Python's ssl, curl, openssl s_client), security
policies, SNI, automatic certificates, mutual TLS, TLS headers and log fields.
"""
import os
import shutil
import subprocess
import unittest

from lbcommon import ClassLb, config, fixed, get_raw, log_for, rules_file
from tlscommon import Pki, TlsConn, https_listener, s_client

PKI = Pki()
SITE = PKI.issue("site", dns=["localhost", "*.example.com"], ip=["127.0.0.1"])

RULES = rules_file(
    fixed(1, '[{path_pattern: {values: ["/a"]}}]', "alpha"),
)


def tls_conn(lb, index=0, **kw):
    kw.setdefault("cafile", PKI.ca_cert)
    return TlsConn(lb.ports[index], **kw)


class HttpsBasicsTest(ClassLb):
    CONFIG = config(listeners=https_listener([SITE], policy="ELBSecurityPolicy-TLS13-1-2-2021-06"))
    RULES = {"a.yaml": RULES}

    def conn(self, **kw):
        c = tls_conn(self.lb, **kw)
        self.addCleanup(c.close)
        return c

    def test_request_over_tls_keep_alive(self):
        c = self.conn()
        for i in range(3):
            c.send(get_raw("/a", headers=[f"User-Agent: basics-{i}"]))
            r = c.read_response()
            self.assertEqual((r.status, r.body), (200, b"alpha"))
        self.assertEqual(c.version, "TLSv1.3")
        e = log_for(self.lb, '"basics-2"')
        self.assertEqual(e["type"], "https")
        self.assertEqual(e["request"], f"GET https://example.com:{self.lb.port}/a HTTP/1.1")

    def test_connection_close_sends_close_notify(self):
        c = self.conn()
        c.send(get_raw("/a", headers=["Connection: close"]))
        r = c.read_response()
        self.assertEqual(r.header("Connection"), "close")
        # A clean TLS end: recv returns b"" (close_notify), not an SSL EOF error.
        self.assertEqual(c.sock.recv(100), b"")

    def test_default_rule_404(self):
        c = self.conn()
        c.send(get_raw("/nothing"))
        self.assertEqual(c.read_response().status, 404)

    @unittest.skipUnless(shutil.which("curl"), "curl not installed")
    def test_curl_with_cacert(self):
        p = subprocess.run(["curl", "-sS", "--http1.1", "--cacert", PKI.ca_cert,
                            f"https://localhost:{self.lb.port}/a"],
                           capture_output=True, timeout=20)
        self.assertEqual((p.returncode, p.stdout), (0, b"alpha"), p.stderr)

    def test_plain_http_on_tls_port_is_refused(self):
        # Not a TLS ClientHello: the handshake fails and the connection closes.
        c = self.lb.connect()
        self.addCleanup(c.close)
        c.send(get_raw("/a"))
        self.assertTrue(c.closed_by_peer(timeout=10))


if __name__ == "__main__":
    unittest.main()
