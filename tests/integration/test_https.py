"""HTTPS listeners (DESIGN.md §14, alb-http-targets-and-tls.md §2): HTTP/1.1
over TLS with real clients (Python's ssl, curl, openssl s_client), security
policies, SNI, automatic certificates, mutual TLS, TLS headers and log fields.
"""
import os
import shutil
import subprocess
import tempfile
import unittest

from lbcommon import ClassLb, config, fixed, get_raw, log_for, rules_file
from lbtest import LB_BIN, Lb
from tlscommon import Pki, TlsConn, client_context, https_listener, s_client

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


def handshake(port, *args):
    """`openssl s_client` handshake: (ok, protocol, cipher) from its session summary."""
    code, out = s_client(port, "-servername", "localhost", *args)
    proto = cipher = None
    for line in out.splitlines():
        line = line.strip()
        if line.startswith("Protocol  :") or line.startswith("Protocol :"):
            proto = line.split(":", 1)[1].strip()
        if line.startswith("Cipher    :") or line.startswith("Cipher :"):
            cipher = line.split(":", 1)[1].strip()
    ok = code == 0 and cipher not in (None, "0000", "(NONE)")
    return ok, proto, cipher


LEGACY = "-cipher", "DEFAULT@SECLEVEL=0"


class PoliciesTest(unittest.TestCase):
    """Each policy's protocol versions and ciphers, seen by openssl s_client."""

    @classmethod
    def setUpClass(cls):
        listeners = "".join(
            https_listener([SITE], policy=p, rules="[]") for p in
            ("ELBSecurityPolicy-TLS13-1-2-2021-06", "ELBSecurityPolicy-2016-08",
             "ELBSecurityPolicy-TLS13-1-3-2021-06", "ELBSecurityPolicy-FS-1-2-Res-2020-10",
             "ELBSecurityPolicy-TLS13-1-0-2021-06"))
        cls.lb = Lb(config(listeners=listeners), rules={"a.yaml": "rules: []\n"})
        cls.lb.start()

    @classmethod
    def tearDownClass(cls):
        try:
            cls.lb.stop()
        finally:
            cls.lb.tmp.cleanup()

    def test_tls13_1_2_takes_1_2_and_1_3_only(self):
        port = self.lb.ports[0]
        self.assertEqual(handshake(port, "-tls1_3")[:2], (True, "TLSv1.3"))
        self.assertEqual(handshake(port, "-tls1_2")[:2], (True, "TLSv1.2"))
        self.assertFalse(handshake(port, "-tls1_1", *LEGACY)[0])
        self.assertFalse(handshake(port, "-tls1", *LEGACY)[0])

    def test_tls13_1_2_refuses_sha1_and_rsa_key_exchange(self):
        port = self.lb.ports[0]
        self.assertFalse(handshake(port, "-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-SHA")[0])
        self.assertFalse(handshake(port, "-tls1_2", "-cipher", "AES128-GCM-SHA256")[0])
        ok, _, cipher = handshake(port, "-tls1_2", "-cipher", "ECDHE-ECDSA-AES256-SHA384")
        self.assertEqual((ok, cipher), (True, "ECDHE-ECDSA-AES256-SHA384"))

    def test_server_order_picks_the_policys_first_cipher(self):
        ok, _, cipher = handshake(self.lb.ports[0], "-tls1_2", "-cipher",
                                  "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES128-GCM-SHA256")
        self.assertEqual((ok, cipher), (True, "ECDHE-ECDSA-AES128-GCM-SHA256"))

    def test_2016_08_takes_tls1_0_but_not_1_3(self):
        port = self.lb.ports[1]
        self.assertEqual(handshake(port, "-tls1", *LEGACY)[:2], (True, "TLSv1"))
        self.assertEqual(handshake(port, "-tls1_1", *LEGACY)[:2], (True, "TLSv1.1"))
        self.assertEqual(handshake(port, "-tls1_2")[:2], (True, "TLSv1.2"))
        self.assertFalse(handshake(port, "-tls1_3")[0])

    def test_tls13_1_3_takes_only_1_3(self):
        port = self.lb.ports[2]
        self.assertEqual(handshake(port, "-tls1_3")[:2], (True, "TLSv1.3"))
        self.assertFalse(handshake(port, "-tls1_2")[0])

    def test_fs_res_is_gcm_ecdhe_on_1_2(self):
        port = self.lb.ports[3]
        self.assertFalse(handshake(port, "-tls1_3")[0])
        self.assertFalse(handshake(port, "-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-SHA256")[0])
        self.assertTrue(handshake(port, "-tls1_2", "-cipher", "ECDHE-ECDSA-AES256-GCM-SHA384")[0])

    def test_tls13_1_0_spans_1_0_to_1_3(self):
        port = self.lb.ports[4]
        self.assertEqual(handshake(port, "-tls1", *LEGACY)[:2], (True, "TLSv1"))
        self.assertEqual(handshake(port, "-tls1_3")[:2], (True, "TLSv1.3"))


class SniTest(ClassLb):
    """Two certificates: the default (site) and one for other.test, chosen by SNI."""
    OTHER = PKI.issue("other", dns=["other.test"])
    CONFIG = config(listeners=https_listener([SITE, OTHER], policy="ELBSecurityPolicy-TLS13-1-2-2021-06"))
    RULES = {"a.yaml": RULES}

    def fetch(self, sni, ua):
        c = tls_conn(self.lb, server_hostname=sni)
        self.addCleanup(c.close)
        c.send(get_raw("/a", headers=[f"User-Agent: {ua}"]))
        self.assertEqual(c.read_response().status, 200)
        return c

    def test_sni_chooses_the_matching_certificate(self):
        c = self.fetch("other.test", "sni-other")
        self.assertIn(("DNS", "other.test"), c.peer_cert()["subjectAltName"])
        e = log_for(self.lb, '"sni-other"')
        self.assertEqual(e["domain_name"], "other.test")
        self.assertRegex(e["chosen_cert_arn"],
                         r"^arn:aws:acm:us-east-1:123456789012:certificate/[0-9a-f-]{36}$")
        self.assertEqual(e["ssl_protocol"], "TLSv1.3")
        self.assertEqual(e["ssl_cipher"], "TLS_AES_128_GCM_SHA256")

    def test_wildcard_of_the_default_certificate(self):
        c = self.fetch("www.example.com", "sni-wild")
        e = log_for(self.lb, '"sni-wild"')
        self.assertEqual(e["domain_name"], "www.example.com")

    def test_unknown_name_gets_the_default_and_dash(self):
        ctx = client_context(verify=False)
        c = TlsConn(self.lb.port, server_hostname="nowhere.test", context=ctx)
        self.addCleanup(c.close)
        c.send(get_raw("/a", headers=["User-Agent: sni-none"]))
        self.assertEqual(c.read_response().status, 200)
        e = log_for(self.lb, '"sni-none"')
        self.assertEqual(e["domain_name"], "-")
        self.assertRegex(e["chosen_cert_arn"], r"^arn:aws:acm:")


class AutoCertificateTest(unittest.TestCase):
    """certificates: auto: lb's CA under $XDG_DATA_HOME/lb, made once."""

    def test_auto_certificate_is_trusted_through_lb_ca(self):
        with tempfile.TemporaryDirectory(prefix="lbxdg-") as xdg:
            env = dict(os.environ, XDG_DATA_HOME=xdg)
            rules = rules_file(fixed(1, '[{host_header: {values: ["app.test"]}}]', "app"))
            lb = Lb(config(listeners=https_listener("auto")), rules={"a.yaml": rules},
                    env={"XDG_DATA_HOME": xdg})
            with lb:
                p = subprocess.run([LB_BIN, "ca"], capture_output=True, text=True, env=env,
                                   timeout=20)
                self.assertEqual(p.returncode, 0, p.stderr)
                ca = p.stdout.splitlines()[0]
                self.assertEqual(ca, os.path.join(xdg, "lb", "ca.pem"))
                for word in ("--cacert", "NODE_EXTRA_CA_CERTS", "SSL_CERT_FILE", "Firefox"):
                    self.assertIn(word, p.stdout)
                for name in ("localhost", "app.test"):
                    c = TlsConn(lb.port, cafile=ca, server_hostname=name)
                    c.send(get_raw("/", host=name))
                    self.assertEqual(c.read_response().status, 200 if name == "app.test" else 404)
                    c.close()
                # 127.0.0.1 is in the certificate too (no SNI for an address).
                ctx = client_context(ca)
                c = TlsConn(lb.port, server_hostname="127.0.0.1", context=ctx)
                c.close()
                before = open(ca).read()
            # Made once: a second lb reuses the same CA.
            with Lb(config(listeners=https_listener(None)), rules={"a.yaml": "rules: []\n"},
                    env={"XDG_DATA_HOME": xdg}) as lb2:
                self.assertEqual(open(ca).read(), before)
                c = TlsConn(lb2.port, cafile=ca)
                c.close()
            self.assertEqual(oct(os.stat(os.path.join(xdg, "lb", "ca.key")).st_mode & 0o777),
                             "0o600")


if __name__ == "__main__":
    unittest.main()
