"""jwt-validation with its JWKS at an https:// URL (AWS's kind): a local HTTPS JWKS server
with its own CA (trusted through SSL_CERT_FILE, as OpenSSL reads it). lb fetches the JWKS
before it serves, refuses to start when it cannot, and fetches it again in the background
when a token's signature matches no key it holds (a rotated key), at most every 5 s.
"""
import http.server
import json
import os
import ssl
import subprocess
import tempfile
import threading
import unittest

from lbcommon import config, get_raw, wait_for, wait_stderr
from lbtest import LB_BIN, Lb
from test_jwt_validation import ISSUER, Key, b64url, claims, openssl
from tlscommon import Pki

PKI = Pki()
JWKS_CERT = PKI.issue("jwks", dns=["localhost"], ip=["127.0.0.1"])


class EcKey:
    """A P-256 key made with openssl(1), its JWK, and real ES256 signing (r | s)."""

    def __init__(self, directory, kid):
        self.kid = kid
        self.path = os.path.join(directory, f"{kid}.pem")
        openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", self.path)
        der = openssl("pkey", "-in", self.path, "-pubout", "-outform", "DER")
        point = der[-65:]   # the uncompressed point 04 | x | y ends the SubjectPublicKeyInfo
        self.jwk = {"kty": "EC", "crv": "P-256", "use": "sig", "alg": "ES256", "kid": kid,
                    "x": b64url(point[1:33]), "y": b64url(point[33:])}

    def token(self, claims_):
        header = {"alg": "ES256", "typ": "JWT", "kid": self.kid}
        signing_input = (b64url(json.dumps(header).encode()) + "." +
                         b64url(json.dumps(claims_).encode())).encode()
        der = openssl("dgst", "-sha256", "-sign", self.path, data=signing_input)
        # DER ECDSA-Sig-Value → r | s, 32 bytes each (JWS's form)
        i = 2
        parts = []
        for _ in range(2):
            n = der[i + 1]
            parts.append(int.from_bytes(der[i + 2:i + 2 + n], "big").to_bytes(32, "big"))
            i += 2 + n
        return signing_input.decode() + "." + b64url(parts[0] + parts[1])


class JwksServer:
    """HTTPS on 127.0.0.1: GET /jwks answers .keys; .hits counts the requests."""

    def __init__(self):
        self.keys = []
        self.hits = 0
        self.gate = threading.Event()   # cleared: answers wait (up to 20 s) until it is set
        self.gate.set()
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                server.hits += 1
                server.gate.wait(20)
                body = json.dumps({"keys": list(server.keys)}).encode()
                try:
                    self.send_response(200 if self.path == "/jwks" else 404)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:
                    pass    # lb stopped while this answer was held (a test does that)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(JWKS_CERT.cert, JWKS_CERT.key)
        self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        self.url = "https://127.0.0.1:%d/jwks" % self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def rules(url):
    return f"""\
rules:
  - priority: 10
    conditions: [{{path_pattern: {{values: ["/api/*"]}}}}]
    actions:
      - type: jwt-validation
        jwt_validation: {{issuer: {ISSUER}, jwks_endpoint: '{url}'}}
      - type: fixed-response
        fixed_response: {{status_code: "200", content_type: text/plain, message_body: "api ok"}}
"""


class JwksUrlTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.keydir = tempfile.TemporaryDirectory(prefix="lbtest-keys-")
        cls.k1 = Key(cls.keydir.name, "k1")
        cls.k2 = Key(cls.keydir.name, "k2")
        cls.k3 = Key(cls.keydir.name, "k3")
        cls.server = JwksServer()
        cls.server.keys = [cls.k1.jwk]

    @classmethod
    def tearDownClass(cls):
        cls.server.close()
        cls.keydir.cleanup()

    def start(self, url, env=None):
        lb = Lb(config(), rules={"a.yaml": rules(url)},
                env={"SSL_CERT_FILE": PKI.ca_cert} if env is None else env)
        self.addCleanup(lb.tmp.cleanup)
        return lb

    def call(self, lb, path, token):
        return lb.request(get_raw(path, "api.example.com", [f"Authorization: Bearer {token}"]))

    def test_fetched_before_serving_and_again_for_a_rotated_key(self):
        self.server.keys = [self.k1.jwk]
        before = self.server.hits
        lb = self.start(self.server.url).start()
        try:
            self.assertEqual(self.server.hits, before + 1)   # fetched before listening
            r = self.call(lb, "/api/a", self.k1.token(claims()))
            self.assertEqual((r.status, r.body), (200, b"api ok"), r)
            # a key the JWKS never held: 401 (ALB's answer; lb then asks the endpoint again)
            r = self.call(lb, "/api/forged", self.k3.token(claims()))
            self.assertEqual(r.status, 401, r)
            self.assertEqual(r.header("WWW-Authenticate"), 'Bearer error="invalid_token"')
            # the IdP rotates to k2: a k2 token passes once lb has refetched the JWKS
            self.server.keys = [self.k1.jwk, self.k2.jwk]
            token = self.k2.token(claims())
            self.assertTrue(wait_for(lambda: self.call(lb, "/api/b", token).status == 200, 30, 0.2))
            self.assertTrue(wait_stderr(lb, "jwt-validation: refreshed the JWKS " + self.server.url, 15))
            self.assertEqual(self.call(lb, "/api/c", self.k1.token(claims())).status, 200)
            self.assertEqual(self.call(lb, "/api/d", self.k3.token(claims())).status, 401)
            # lb explain fetches the JWKS as lb does
            p = subprocess.run([LB_BIN, "explain", "-c", lb.config_path, "-H",
                                f"Authorization: Bearer {token}",
                                f"http://api.example.com:{lb.port}/api/x"], capture_output=True,
                               text=True, timeout=60, env=dict(os.environ, SSL_CERT_FILE=PKI.ca_cert))
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertIn("jwt-validation: the bearer token is valid", p.stdout)
        finally:
            lb.stop()

    def test_refetching_the_same_jwks_keeps_the_keys_lb_holds(self):
        # Any client can make lb refetch (a token no key verifies, every 5 s): keys parsed
        # again into the configuration each time made its memory grow without end.
        self.server.keys = [self.k1.jwk]
        lb = self.start(self.server.url).start()
        try:
            before = self.server.hits
            forged = self.k3.token(claims())
            self.assertTrue(wait_for(lambda: self.call(lb, "/api/f", forged).status == 401 and
                                     self.server.hits > before, 30, 0.5))
            self.assertTrue(wait_stderr(lb, "jwt-validation: no new key in the JWKS " +
                                        self.server.url + " (1 RSA keys)", 15), lb.stderr())
            self.assertNotIn("refreshed the JWKS", lb.stderr())
            self.assertEqual(self.call(lb, "/api/k1", self.k1.token(claims())).status, 200)
        finally:
            lb.stop()

    def test_es256_tokens_are_refused_as_aws_documents(self):
        # AWS: "Only the RS256 algorithm is supported". The JWKS holds the EC key too
        # (lb skips it), and the token is a genuine ES256 one.
        ec = EcKey(self.keydir.name, "e1")
        self.server.keys = [self.k1.jwk, ec.jwk]
        lb = self.start(self.server.url).start()
        try:
            r = self.call(lb, "/api/es", ec.token(claims()))
            self.assertEqual(r.status, 401, r)
            self.assertTrue(wait_stderr(lb, "jwt-validation: the token is not signed RS256: 401", 15))
            self.assertEqual(self.call(lb, "/api/rs", self.k1.token(claims())).status, 200)
        finally:
            lb.stop()
            self.server.keys = [self.k1.jwk]

    def test_stopping_during_a_refresh_is_clean(self):
        self.server.keys = [self.k1.jwk]
        lb = self.start(self.server.url).start()
        try:
            before = self.server.hits
            self.server.gate.clear()
            forged = self.k3.token(claims())
            # tokens no key verifies, until lb's refresh (5 s after its first fetch) is held
            self.assertTrue(wait_for(lambda: self.call(lb, "/api/f", forged).status == 401 and
                                     self.server.hits > before, 30, 0.5))
        finally:
            lb.stop()    # exit 0 and no sanitizer report with the refresh in flight (cancelled)
            self.server.gate.set()

    def test_an_endpoint_lb_cannot_fetch_stops_the_start(self):
        dead = self.start("https://127.0.0.1:1/jwks")
        with self.assertRaises(RuntimeError) as e:
            dead.start()
        self.assertRegex(str(e.exception),
                         r"rules/a\.yaml:\d+:\d+: cannot fetch the JWKS https://127\.0\.0\.1:1/jwks: "
                         r"the connection was refused")
        # the server's certificate from a CA lb was not told to trust
        untrusted = self.start(self.server.url, env={"SSL_CERT_FILE": "/nonexistent.pem",
                                                     "SSL_CERT_DIR": "/nonexistent"})
        with self.assertRaises(RuntimeError) as e:
            untrusted.start()
        self.assertIn("the certificate did not verify", str(e.exception))
        # an answer that is no JWKS
        notfound = self.start(self.server.url.replace("/jwks", "/other"))
        with self.assertRaises(RuntimeError) as e:
            notfound.start()
        self.assertIn("answered 404", str(e.exception))


if __name__ == "__main__":
    unittest.main()
