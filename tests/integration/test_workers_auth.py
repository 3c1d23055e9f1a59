"""workers: N with what used to be per loop (README "Workers"): authenticate-oidc's keys
(a session cookie sealed by one loop opens on every other, and x-amzn-oidc-data from any
loop verifies with the key at /.lb/keys/{kid}), jwt-validation's JWKS (a refetch for a
rotated key serves every loop), and TLS session tickets (a session made on one loop
resumes on the others).

Which loop accepts a connection is the kernel's choice (SO_REUSEPORT's hash), so each
test opens new connections until /metrics' lb_worker_connections shows both loops
accepted some during it: deterministic, whatever the hash does.
"""
import base64
import json
import os
import socket
import ssl
import subprocess
import tempfile
import unittest
import urllib.request

from backend import Backend
from httpcommon import http_group
from lbcommon import get_raw, wait_for, wait_stderr
from oidc_provider import USER, OidcProvider
from test_auth_oidc import PKI, SITE, Browser, auth_rule, b64url_decode, der_from_jws
from test_jwt_jwks_url import PKI as JWKS_PKI, JwksServer, rules as jwks_rules
from test_jwt_validation import Key, claims
from test_workers import accepted, start as workers_start

MIN_CONNS = 40      # new connections per phase, at least
MAX_CONNS = 400     # ... and at most, waiting for both loops to have accepted some


def start(test, config, **kw):
    """An lb with 2 workers and a console; returns (lb, console port)."""
    lb, admin = workers_start(test, config, **kw)
    test.assertIsNotNone(admin)
    return lb, admin


def on_both_loops(test, admin, one):
    """Calls one() (a request on a new connection) at least MIN_CONNS times, and until both
    loops accepted connections since the first call; returns its results."""
    before = accepted(admin)
    out = []
    while len(out) < MAX_CONNS:
        out.append(one(len(out)))
        if len(out) >= MIN_CONNS:
            now = accepted(admin)
            if all(now.get(w, 0) > before.get(w, 0) for w in (0, 1)):
                return out
    test.fail(f"one loop accepted every connection: {before} then {accepted(admin)}")


def headers_of(entry):
    h = entry["headers"]
    items = h.items() if isinstance(h, dict) else h
    return {k.lower(): v for k, v in items}


class WorkersOidcTest(unittest.TestCase):
    def setUp(self):
        self.idp = OidcProvider().__enter__()
        self.addCleanup(self.idp.__exit__, None, None, None)
        self.web = Backend("web").__enter__()
        self.addCleanup(self.web.__exit__, None, None, None)
        config = ("load_balancer: {name: auth-alb, region: eu-west-1, account_id: \"123456789012\", "
                  "workers: 2}\n"
                  "listeners:\n"
                  "  - port: 0\n"
                  "    protocol: HTTPS\n"
                  f"    certificates: [{{certificate: {SITE.cert}, private_key: {SITE.key}}}]\n"
                  "    rules: [\"rules/*.yaml\"]\n"
                  "    default_actions: [{type: fixed-response, fixed_response: {status_code: \"404\"}}]\n"
                  "admin: {port: 0}\n"
                  "target_groups:\n" + http_group("web", [self.web]))
        self.lb, self.admin = start(self, config, rules={"a.yaml": "rules:\n" + auth_rule(10, "/app*", self.idp)})

    def key_pem(self, kid):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.admin}/.lb/keys/{kid}", timeout=20) as r:
            return r.read()

    def verify(self, data, pems):
        """x-amzn-oidc-data: its kid's key (from /.lb/keys) verifies its ES256 signature."""
        head_b64, body_b64, sig_b64 = data.split(".")
        head = json.loads(b64url_decode(head_b64))
        self.assertEqual(head["alg"], "ES256")
        if head["kid"] not in pems:
            pems[head["kid"]] = self.key_pem(head["kid"])
        with tempfile.TemporaryDirectory() as d:
            for name, blob in (("key.pem", pems[head["kid"]]), ("in", f"{head_b64}.{body_b64}".encode()),
                               ("sig", der_from_jws(b64url_decode(sig_b64)))):
                with open(os.path.join(d, name), "wb") as f:
                    f.write(blob)
            out = subprocess.run(["openssl", "dgst", "-sha256", "-verify", "key.pem", "-signature",
                                  "sig", "in"], cwd=d, capture_output=True, timeout=30)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.assertEqual(json.loads(b64url_decode(body_b64))["sub"], USER["sub"])

    def test_a_session_from_one_loop_is_valid_on_every_loop(self):
        b = Browser(self.lb.port)        # one HTTPS connection per request
        first, idp, back = b.login("/app/start")
        self.assertEqual((first.status, idp.status, back.status), (302, 302, 302), back.body)
        self.assertTrue(any(k.startswith("AWSELBAuthSessionCookie-") for k in b.jar), b.jar)
        seen = len(self.web.requests)
        answers = on_both_loops(self, self.admin, lambda i: b.get(b.lb(f"/app/{i}")))
        self.assertEqual([r.status for r in answers], [200] * len(answers))
        got = self.web.requests[seen:]
        self.assertEqual(len(got), len(answers))
        pems = {}
        for entry in got:
            self.verify(headers_of(entry)["x-amzn-oidc-data"], pems)
        self.assertEqual(len(pems), 1, "every loop signs with the same key")


class WorkersJwtTest(unittest.TestCase):
    def setUp(self):
        self.keydir = tempfile.TemporaryDirectory(prefix="lbtest-keys-")
        self.addCleanup(self.keydir.cleanup)
        self.k1 = Key(self.keydir.name, "k1")
        self.k2 = Key(self.keydir.name, "k2")
        self.server = JwksServer()
        self.addCleanup(self.server.close)
        self.server.keys = [self.k1.jwk]
        config = ("load_balancer: {name: test-alb, workers: 2}\n"
                  "listeners:\n  - port: 0\n    rules: [\"rules/*.yaml\"]\n"
                  "    default_actions: [{type: fixed-response, fixed_response: {status_code: \"404\"}}]\n"
                  "admin: {port: 0}\n")
        self.lb, self.admin = start(self, config, rules={"a.yaml": jwks_rules(self.server.url)},
                                    env={"SSL_CERT_FILE": JWKS_PKI.ca_cert})

    def call(self, path, token):
        return self.lb.request(get_raw(path, "api.example.com", [f"Authorization: Bearer {token}"]))

    def test_every_loop_takes_the_refetched_jwks(self):
        t1 = self.k1.token(claims())
        answers = on_both_loops(self, self.admin, lambda i: self.call(f"/api/k1/{i}", t1))
        self.assertEqual([r.status for r in answers], [200] * len(answers))
        # the IdP rotates to k2: the first k2 tokens are 401 until a loop has refetched the
        # JWKS (at most every 5 s); then every loop accepts them
        self.server.keys = [self.k1.jwk, self.k2.jwk]
        t2 = self.k2.token(claims())
        self.assertTrue(wait_for(lambda: self.call("/api/k2", t2).status == 200, 30, 0.2))
        self.assertTrue(wait_stderr(self.lb, "jwt-validation: refreshed the JWKS " + self.server.url, 15))
        answers = on_both_loops(self, self.admin,
                                lambda i: self.call(f"/api/k2/{i}", t2 if i % 2 else t1))
        self.assertEqual([r.status for r in answers], [200] * len(answers))


class WorkersTlsResumptionTest(unittest.TestCase):
    def setUp(self):
        config = ("load_balancer: {name: test-alb, workers: 2}\n"
                  "listeners:\n  - port: 0\n    protocol: HTTPS\n"
                  "    ssl_policy: ELBSecurityPolicy-TLS13-1-2-2021-06\n"
                  f"    certificates: [{{certificate: {SITE.cert}, private_key: {SITE.key}}}]\n"
                  "    default_actions: [{type: fixed-response, fixed_response: "
                  "{status_code: \"200\", content_type: text/plain, message_body: \"hi\"}}]\n"
                  "admin: {port: 0}\n")
        self.lb, self.admin = start(self, config)

    def get(self, ctx, session=None):
        """One request on a new TLS connection; returns (body, its session, whether resumed)."""
        with socket.create_connection(("127.0.0.1", self.lb.port), timeout=20) as raw:
            with ctx.wrap_socket(raw, server_hostname="localhost", session=session) as s:
                s.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
                data = b""
                while True:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    data += chunk
                return data, s.session, s.session_reused

    def resumes_everywhere(self, version):
        ctx = ssl.create_default_context(cafile=PKI.ca_cert)
        ctx.minimum_version = ctx.maximum_version = version
        body, session, reused = self.get(ctx)
        self.assertTrue(body.startswith(b"HTTP/1.1 200") and body.endswith(b"hi"), body)
        self.assertFalse(reused)
        self.assertTrue(session is not None and session.has_ticket, "lb issued no session ticket")
        answers = on_both_loops(self, self.admin, lambda i: self.get(ctx, session))
        self.assertEqual([a[2] for a in answers], [True] * len(answers), "a loop did not resume")
        self.assertTrue(all(a[0].endswith(b"hi") for a in answers))

    def test_a_tls13_session_resumes_on_every_loop(self):
        self.resumes_everywhere(ssl.TLSVersion.TLSv1_3)

    def test_a_tls12_session_resumes_on_every_loop(self):
        self.resumes_everywhere(ssl.TLSVersion.TLSv1_2)


if __name__ == "__main__":
    unittest.main()
