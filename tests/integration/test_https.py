"""HTTPS listeners (DESIGN.md §14, alb-http-targets-and-tls.md §2): HTTP/1.1
over TLS with real clients (Python's ssl, curl, openssl s_client), security
policies, SNI, automatic certificates, mutual TLS, TLS headers and log fields.
"""
import json
import os
import re
import select
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.parse

from lbcommon import ClassLb, config, fixed, get_raw, log_for, rules_file
from backend import Backend
from httpcommon import http_group, sent_headers
from lambdacommon import ECHO_PY, LambdaCase, fn, lambda_config
from lbcommon import wait_for
from lbtest import LB_BIN, Lb, LbTestCase, run_lb
from tlscommon import Cert, Pki, TlsConn, client_context, https_listener, openssl, s_client

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
    """`openssl s_client` handshake: (ok, protocol, cipher) from its
    "New, TLSv1.3, Cipher is ..." line, printed once the handshake is done."""
    code, out = s_client(port, "-servername", "localhost", *args)
    m = re.search(r"^New, (\S+), Cipher is (\S+)$", out, re.M)
    if not m or m.group(2) == "(NONE)":
        return False, None, None
    # "New, ..." names the cipher's version; the session's is "Protocol  : ...".
    p = re.search(r"^\s*Protocol\s*: (\S+)$", out, re.M)
    proto = p.group(1) if p else m.group(1)
    return True, {"TLSv1": "TLSv1.0"}.get(proto, proto), m.group(2)


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
        self.assertEqual(handshake(port, "-tls1", *LEGACY)[:2], (True, "TLSv1.0"))
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
        self.assertEqual(handshake(port, "-tls1", *LEGACY)[:2], (True, "TLSv1.0"))
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

    def test_resumed_session_logs_session_reused(self):
        ctx = client_context(PKI.ca_cert, max_version=ssl.TLSVersion.TLSv1_2)
        first = TlsConn(self.lb.port, context=ctx)
        first.send(get_raw("/a", headers=["User-Agent: resume-1"]))
        first.read_response()
        session = first.sock.session
        first.close()
        raw = socket.create_connection(("127.0.0.1", self.lb.port), timeout=10)
        again = ctx.wrap_socket(raw, server_hostname="localhost", session=session)
        self.addCleanup(again.close)
        self.assertTrue(again.session_reused)
        again.sendall(get_raw("/a", headers=["User-Agent: resume-2"]))
        data = b""
        while b"alpha" not in data:
            piece = again.recv(65536)
            self.assertTrue(piece, data)
            data += piece
        self.assertRegex(log_for(self.lb, '"resume-1"')["chosen_cert_arn"], r"^arn:aws:acm:")
        self.assertEqual(log_for(self.lb, '"resume-2"')["chosen_cert_arn"], "session-reused")

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


def pem_of(cert):
    """The leaf PEM of a Cert as the openssl CLI writes it."""
    return openssl("x509", "-in", cert.cert)


def fails(fn):
    """Whether a TLS exchange fails (a refused client certificate surfaces at the
    handshake with TLS 1.2, at the first read with TLS 1.3)."""
    try:
        fn()
    except (ssl.SSLError, ConnectionError, EOFError, OSError):
        return True
    return False


def issue_nameless(pki, name):
    """A client certificate of pki with an empty subject (RFC 5280 allows one; the
    openssl CLI's `ca` command does not): openssl req -subj / and x509 -req."""
    key, csr, out, ext = (pki.path(name + s) for s in (".key", ".csr", ".pem", ".ext"))
    openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", key)
    openssl("req", "-new", "-key", key, "-subj", "/", "-out", csr, "-config", pki.cnf)
    with open(ext, "w") as f:
        f.write("extendedKeyUsage=clientAuth\nsubjectAltName=email:nameless@example.com\n")
    openssl("x509", "-req", "-in", csr, "-CA", pki.ca_cert, "-CAkey", pki.ca_key, "-out", out,
            "-days", "30", "-set_serial", "7", "-extfile", ext)
    return Cert(out, key)


class MutualTlsTest(ClassLb):
    """passthrough, verify, verify ignoring expiry; headers toward an HTTP target."""

    ALICE = PKI.issue("alice", client=True)
    OLD = PKI.issue("old", client=True, expired=True)
    STRANGER_PKI = Pki("stranger CA")
    STRANGER = STRANGER_PKI.issue("mallory", client=True)

    @classmethod
    def setUpClass(cls):
        cls.backend = Backend("m").start()
        fwd = "[{type: forward, target_group: web}]"
        listeners = (
            https_listener([SITE], mtls="{mode: passthrough}", default=fwd, rules="[]",
                           attributes={"routing.http.response.strict_transport_security."
                                       "header_value": "max-age=31536000",
                                       "routing.http.response.x_frame_options.header_value":
                                       "DENY"}) +
            https_listener([SITE], mtls=f"{{mode: verify, trust_store: {PKI.ca_cert}}}",
                           default=fwd, rules="[]",
                           attributes={"routing.http.request.x_amzn_mtls_clientcert_leaf."
                                       "header_name": "X-Client-Leaf"}) +
            https_listener([SITE], mtls=f"{{mode: verify, trust_store: {PKI.ca_cert}, "
                           "ignore_client_certificate_expiry: true}", default=fwd, rules="[]") +
            https_listener([SITE], mtls=f"{{mode: verify, trust_store: {PKI.ca_cert}, "
                           "advertise_trust_store_ca_names: \"on\"}", default=fwd, rules="[]"))
        cls.CONFIG = config(
            listeners=listeners,
            attributes={"routing.http.x_amzn_tls_version_and_cipher_suite.enabled": "true"},
            target_groups="target_groups:\n" + http_group("web", [cls.backend]))
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        cls.backend.stop()

    def fetch(self, index, cert=None, headers=(), path="/echo"):
        c = tls_conn(self.lb, index, cert=cert)
        try:
            c.send(get_raw(path, headers=list(headers)))
            return c.read_response()
        finally:
            c.close()

    def test_verify_sends_the_five_headers_and_drops_client_copies(self):
        r = self.fetch(1, self.ALICE, headers=["X-Amzn-Mtls-Clientcert-Subject: CN=forged",
                                               "X-Client-Leaf: forged"])
        self.assertEqual(r.status, 200)
        h = dict(sent_headers(r))
        serial = openssl("x509", "-in", self.ALICE.cert, "-noout", "-serial").strip().split("=")[1]
        self.assertEqual(h["X-Amzn-Mtls-Clientcert-Serial-Number"], serial)
        self.assertEqual(h["X-Amzn-Mtls-Clientcert-Issuer"], "CN=lb test CA,O=lb tests")
        self.assertEqual(h["X-Amzn-Mtls-Clientcert-Subject"], "CN=alice,OU=clients,O=lb tests")
        self.assertRegex(h["X-Amzn-Mtls-Clientcert-Validity"],
                         r"^NotBefore=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ;"
                         r"NotAfter=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        # The leaf under the listener's name, URL-encoded PEM with "+=/" left as they are.
        self.assertEqual(urllib.parse.unquote(h["X-Client-Leaf"]), pem_of(self.ALICE))
        self.assertIn("-----BEGIN%20CERTIFICATE-----%0A", h["X-Client-Leaf"])
        self.assertNotIn("X-Amzn-Mtls-Clientcert-Leaf", h)
        names = [n for n, _ in sent_headers(r)]
        self.assertEqual(names.count("X-Amzn-Mtls-Clientcert-Subject"), 1)
        self.assertEqual(names.count("X-Client-Leaf"), 1)
        # The API's default policy, ELBSecurityPolicy-2016-08: TLS 1.2 at most.
        self.assertEqual(h["x-amzn-tls-version"], "TLSv1.2")
        self.assertEqual(h["x-amzn-tls-cipher-suite"], "ECDHE-ECDSA-AES128-GCM-SHA256")
        self.assertEqual(h["X-Forwarded-Proto"], "https")
        self.assertEqual(h["X-Forwarded-Port"], str(self.lb.ports[1]))

    def test_verify_sends_an_empty_subject_as_an_empty_header(self):
        # An empty subject printed nothing, and lb copied from the memory BIO's
        # NULL buffer: UBSan stopped lb (found probing with hostile certificates).
        r = self.fetch(1, issue_nameless(PKI, "nameless"))
        self.assertEqual(r.status, 200)
        h = dict(sent_headers(r))
        self.assertEqual(h["X-Amzn-Mtls-Clientcert-Subject"], "")
        self.assertEqual(h["X-Amzn-Mtls-Clientcert-Issuer"], "CN=lb test CA,O=lb tests")
        self.assertEqual(h["X-Amzn-Mtls-Clientcert-Serial-Number"], "07")
        self.assertEqual(self.fetch(1, self.ALICE).status, 200)

    def test_verify_refuses_no_certificate_a_stranger_and_an_expired_one(self):
        for cert in (None, self.STRANGER, self.OLD):
            self.assertTrue(fails(lambda: self.fetch(1, cert)), cert and cert.cert)
        # The listener keeps serving.
        self.assertEqual(self.fetch(1, self.ALICE).status, 200)

    def test_verify_refuses_over_tls_1_2_too(self):
        def go():
            c = tls_conn(self.lb, 1, cert=self.STRANGER, max_version=ssl.TLSVersion.TLSv1_2)
            c.send(get_raw("/echo"))
            c.read_response()
        self.assertTrue(fails(go))

    def test_ignore_expiry_accepts_an_expired_certificate_only(self):
        r = self.fetch(2, self.OLD)
        self.assertEqual(r.status, 200)
        h = dict(sent_headers(r))
        self.assertIn("NotAfter=2020-02-01T00:00:00Z", h["X-Amzn-Mtls-Clientcert-Validity"])
        self.assertTrue(fails(lambda: self.fetch(2, self.STRANGER)))

    def test_ca_names_are_advertised_only_when_asked(self):
        code, out = s_client(self.lb.ports[3], "-servername", "localhost")
        self.assertIn("Acceptable client certificate CA names", out)
        self.assertRegex(out, r"CN ?= ?lb test CA")
        code, out = s_client(self.lb.ports[1], "-servername", "localhost")
        self.assertIn("No client certificate CA names sent", out)

    def test_passthrough_sends_any_chain_unverified(self):
        r = self.fetch(0, self.STRANGER, headers=["X-Amzn-Mtls-Clientcert-Serial-Number: 01"])
        self.assertEqual(r.status, 200)
        h = dict(sent_headers(r))
        self.assertEqual(urllib.parse.unquote(h["X-Amzn-Mtls-Clientcert"]), pem_of(self.STRANGER))
        self.assertNotIn("X-Amzn-Mtls-Clientcert-Serial-Number", h)

    def test_passthrough_without_certificate_sends_no_header(self):
        r = self.fetch(0, None, headers=["X-Amzn-Mtls-Clientcert: forged"])
        self.assertEqual(r.status, 200)
        self.assertFalse([n for n, _ in sent_headers(r) if n.lower().startswith("x-amzn-mtls")])

    def test_response_header_attributes_on_target_and_lb_answers(self):
        r = self.fetch(0, None, path="/headers?Strict-Transport-Security=max-age%3D1")
        self.assertEqual(r.header_all("Strict-Transport-Security"), ["max-age=31536000"])
        self.assertEqual(r.header("X-Frame-Options"), "DENY")
        # lb's own answers too (a 404 for a target's unknown status is not lb's: use a
        # redirect-free path: the listener without attributes shows none).
        r2 = self.fetch(1, self.ALICE)
        self.assertIsNone(r2.header("Strict-Transport-Security"))

    def test_access_log_fields(self):
        self.fetch(1, self.ALICE, headers=["User-Agent: mtls-log"])
        e = log_for(self.lb, '"mtls-log"')
        self.assertEqual((e["type"], e["ssl_protocol"], e["ssl_cipher"]),
                         ("https", "TLSv1.2", "ECDHE-ECDSA-AES128-GCM-SHA256"))
        self.assertEqual(e["domain_name"], "localhost")


class ResponseHeadersOnLbAnswersTest(ClassLb):
    CONFIG = config(listeners=https_listener([SITE], attributes={
        "routing.http.response.strict_transport_security.header_value": "max-age=600",
        "routing.http.response.server.enabled": "false"}))
    RULES = {"a.yaml": RULES}

    def test_fixed_response_gets_hsts_and_no_server(self):
        c = tls_conn(self.lb)
        self.addCleanup(c.close)
        for path, status in (("/a", 200), ("/none", 404)):
            c.send(get_raw(path))
            r = c.read_response()
            self.assertEqual(r.status, status)
            self.assertEqual(r.header("Strict-Transport-Security"), "max-age=600")
            self.assertIsNone(r.header("Server"))


class LambdaOverHttpsTest(LambdaCase):
    def test_event_says_https_and_the_listeners_port(self):
        text, rules = lambda_config([fn("echo", code="fn")])
        text = text.replace("  - port: 0\n", "  - port: 0\n    protocol: HTTPS\n"
                            f"    certificates: [{{certificate: {SITE.cert}, private_key: {SITE.key}}}]\n", 1)
        lb = self.start(text, rules=rules, files={"fn/index.py": ECHO_PY})
        c = tls_conn(lb)
        self.addCleanup(c.close)
        c.send(get_raw("/echo", headers=["X-Forwarded-Proto: http", "X-Forwarded-Port: 80"]))
        r = c.read_response()
        self.assertEqual(r.status, 200, r)
        ev = json.loads(r.body)["event"]
        self.assertEqual(ev["headers"]["x-forwarded-proto"], "https")
        self.assertEqual(ev["headers"]["x-forwarded-port"], str(lb.port))
        e = log_for(lb, "/echo")
        self.assertEqual((e["type"], e["ssl_protocol"]), ("https", "TLSv1.2"))


class LifecycleTest(LbTestCase):
    def test_bad_certificate_stops_start_up_with_its_position(self):
        with tempfile.TemporaryDirectory(prefix="lbtls-") as d:
            path = os.path.join(d, "lb.yaml")
            with open(path, "w") as f:
                f.write(config(listeners=https_listener(
                    [Cert(os.path.join(d, "missing.pem"), SITE.key)], rules="[]")))
            code, out, err = run_lb("check", "-c", path)
            self.assertEqual(code, 1)
            self.assertIn("missing.pem", err)
            code, out, err = run_lb("-c", path, "-p", "0")
            self.assertEqual(code, 1)
            self.assertNotIn("listening", out)
            self.assertRegex(err, r"lb\.yaml:\d+:\d+: certificate '.*missing\.pem': .*No such file")
            with open(path, "w") as f:
                f.write(config(listeners=https_listener([Cert(SITE.cert, PKI.ca_key)], rules="[]")))
            code, out, err = run_lb("-c", path, "-p", "0")
            self.assertEqual(code, 1)
            self.assertRegex(err, r"lb\.yaml:\d+:\d+: private_key .*ca\.key.*mismatch")

    def test_reload_swaps_certificates_for_new_connections(self):
        other = PKI.issue("reloaded", dns=["localhost"])
        lb = self.start(config(listeners=https_listener([SITE], rules="[]")),
                        rules={"a.yaml": "rules: []\n"})
        old = tls_conn(lb)
        self.addCleanup(old.close)
        serial0 = old.peer_cert()["serialNumber"]
        lb.write("lb.yaml", config(listeners=https_listener([other], rules="[]")))
        before = lb.stderr()
        lb.signal(signal.SIGHUP)
        self.assertTrue(wait_for(lambda: "reloaded" in lb.stderr()[len(before):], timeout=10))
        new = tls_conn(lb)
        self.addCleanup(new.close)
        self.assertNotEqual(new.peer_cert()["serialNumber"], serial0)
        # The open connection keeps its TLS session and is served.
        old.send(get_raw("/"))
        self.assertEqual(old.read_response().status, 404)
        # A broken certificate in a reload keeps the running one.
        lb.write("lb.yaml", config(listeners=https_listener([Cert("nope.pem", "nope.key")],
                                                           rules="[]")))
        before = lb.stderr()
        lb.signal(signal.SIGHUP)
        self.assertTrue(wait_for(lambda: "nope.pem" in lb.stderr()[len(before):], timeout=10))
        c = tls_conn(lb)
        self.addCleanup(c.close)
        c.send(get_raw("/"))
        self.assertEqual(c.read_response().status, 404)

    @unittest.skipUnless(shutil.which("curl"), "curl not installed")
    def test_large_bodies_stream_both_ways_over_tls(self):
        b = Backend("big").start()
        self.addCleanup(b.stop)
        lb = self.start(config(listeners=https_listener(
            [SITE], rules="[]", default="[{type: forward, target_group: web}]"),
            target_groups="target_groups:\n" + http_group("web", [b])),
            rules={"a.yaml": "rules: []\n"})
        p = subprocess.run(["curl", "-sS", "--cacert", PKI.ca_cert, "-o", "/dev/null", "-w",
                            "%{size_download} %{http_code}",
                            f"https://localhost:{lb.port}/bytes?n=20M"],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(p.stdout, "20971520 200", p.stderr)
        p = subprocess.run(f"head -c 10000000 /dev/zero | curl -sS --cacert {PKI.ca_cert} -T - "
                           f"-X POST https://localhost:{lb.port}/upload", shell=True,
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(json.loads(p.stdout)["len"], 10000000, p.stderr)


class SlowReaderTest(LbTestCase):
    def test_slow_but_steady_reader_is_not_cut_by_the_idle_timeout(self):
        b = Backend("slow").start()
        self.addCleanup(b.stop)
        lb = self.start(config(
            attributes={"idle_timeout.timeout_seconds": 2},
            listeners=https_listener([SITE], rules="[]",
                                     default="[{type: forward, target_group: web}]"),
            target_groups="target_groups:\n" + http_group("web", [b])),
            rules={"a.yaml": "rules: []\n"})
        c = tls_conn(lb)
        self.addCleanup(c.close)
        c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        n = 8 << 20
        c.send(get_raw(f"/bytes?n={n}"))
        start = time.time()
        data = b""
        while b"\r\n\r\n" not in data:
            data += c.sock.recv(131072)
        want = data.index(b"\r\n\r\n") + 4 + n
        got = len(data)
        while got < want:   # 128 KiB every 100 ms
            piece = c.sock.recv(131072)
            self.assertTrue(piece, f"cut after {got} of {want} bytes")
            got += len(piece)
            time.sleep(0.1 * len(piece) / 131072)
        self.assertEqual(got, want)
        self.assertGreater(time.time() - start, 3)   # longer than the idle timeout


def client_hello():
    """The bytes of a ClientHello, as Python's ssl would send them first."""
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = client_context(PKI.ca_cert).wrap_bio(incoming, outgoing, server_hostname="localhost")
    try:
        tls.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return outgoing.read()


def dribble(sock, data, every=0.5, limit=8):
    """Sends data a byte every `every` seconds until the peer closes: the seconds it took,
    or None if it is still open after limit seconds."""
    start = time.time()
    for b in data:
        if time.time() - start > limit:
            return None
        readable = select.select([sock], [], [], every)[0]
        try:
            if readable and not sock.recv(65536):
                return time.time() - start
            sock.send(bytes([b]))
        except OSError:
            return time.time() - start
    return None


class TlsSlowlorisTest(LbTestCase):
    """Bytes that never make a TLS record, or a handshake, do not keep a connection:
    the idle timeout counts decrypted bytes, and the handshake has it in all."""

    def setUp(self):
        self.lb = self.start(config(attributes={"idle_timeout.timeout_seconds": 2},
                                    listeners=https_listener([SITE])), rules={"a.yaml": RULES})

    def test_a_client_hello_a_byte_at_a_time_is_cut_at_the_idle_timeout(self):
        hello = client_hello()
        self.assertGreater(len(hello), 100)
        s = socket.create_connection(("127.0.0.1", self.lb.port))
        self.addCleanup(s.close)
        took = dribble(s, hello)
        self.assertIsNotNone(took, "still open")
        self.assertLess(took, 4)

    def test_a_tls_record_a_byte_at_a_time_is_cut_at_the_idle_timeout(self):
        c = tls_conn(self.lb)
        self.addCleanup(c.close)
        c.send(get_raw("/a"))
        self.assertEqual(c.read_response().body, b"alpha")
        # Under the TLS layer: a record announcing 16 KB of application data, a byte at
        # a time. lb's reads saw bytes arrive and once waited for ever.
        raw = socket.socket(fileno=os.dup(c.sock.fileno()))
        self.addCleanup(raw.close)
        took = dribble(raw, b"\x17\x03\x03\x40\x00" + b"x" * 100)
        self.assertIsNotNone(took, "still open")
        self.assertLess(took, 4)
        # An ordinary request meanwhile, and a slow but real one: served.
        c2 = tls_conn(self.lb)
        self.addCleanup(c2.close)
        for piece in (b"GET /a HTTP/1.1\r\n", b"Host: x\r\n", b"\r\n"):
            c2.send(piece)
            time.sleep(1.2)
        self.assertEqual(c2.read_response().body, b"alpha")


class TlsIdleCloseTest(LbTestCase):
    def test_an_idle_keep_alive_connection_ends_with_close_notify(self):
        lb = self.start(config(attributes={"idle_timeout.timeout_seconds": 1},
                               listeners=https_listener([SITE])), rules={"a.yaml": RULES})
        raw = socket.create_connection(("127.0.0.1", lb.port), timeout=10)
        s = client_context(PKI.ca_cert).wrap_socket(raw, server_hostname="localhost",
                                                     suppress_ragged_eofs=False)
        self.addCleanup(s.close)
        s.sendall(get_raw("/a"))
        data = b""
        while not data.endswith(b"alpha"):
            data += s.recv(65536)
        # Idle past the timeout: lb closes with close_notify (recv gives b""); it once
        # closed the socket bare (SSLEOFError, "unexpected eof while reading").
        self.assertEqual(s.recv(100), b"")


class UpgradeEcho:
    """A target that answers any request with 101 and then echoes bytes (a tunnel's far end)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.echo, args=(c,), daemon=True).start()

    def echo(self, c):
        with c:
            data = b""
            while b"\r\n\r\n" not in data:
                piece = c.recv(4096)
                if not piece:
                    return
                data += piece
            c.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                      b"Connection: Upgrade\r\n\r\n" + data.split(b"\r\n\r\n", 1)[1])
            while True:
                piece = c.recv(65536)
                if not piece:
                    return
                c.sendall(piece)

    def close(self):
        self.sock.close()


class WssTest(LbTestCase):
    def test_websocket_tunnel_over_tls_is_logged_wss(self):
        echo = UpgradeEcho()
        self.addCleanup(echo.close)
        lb = self.start(config(listeners=https_listener(
            [SITE], rules="[]", default="[{type: forward, target_group: web}]"),
            target_groups="target_groups:\n" + http_group("web", [echo.port])),
            rules={"a.yaml": "rules: []\n"})
        c = tls_conn(lb)
        c.send(get_raw("/ws", headers=["Upgrade: websocket", "Connection: Upgrade",
                                       "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
                                       "Sec-WebSocket-Version: 13", "User-Agent: wss-test"]))
        while b"\r\n\r\n" not in c.buf:
            c._fill()
        head, _, c.buf = c.buf.partition(b"\r\n\r\n")
        self.assertTrue(head.startswith(b"HTTP/1.1 101 "), head)
        payload = os.urandom(300000)
        c.send(payload)
        while len(c.buf) < len(payload):
            c._fill()
        self.assertEqual(c.buf, payload)
        c.close()
        e = log_for(lb, '"wss-test"', timeout=10)
        self.assertEqual((e["type"], e["elb_status_code"]), ("wss", "101"))


if __name__ == "__main__":
    unittest.main()
