"""`endpoint: aws` functions (real AWS Lambda, SigV4) and HTTPS toward targets.

No AWS account is used: AWS_ENDPOINT_URL_LAMBDA points lb at a local HTTPS Invoke
API (tests/integration/sigv4/server.js) that verifies every signature with the AWS
SDK's own signer, npm @smithy/signature-v4 — an implementation independent of lb's
— installed into that folder by `npm ci` from its committed package-lock.json. Its
certificate is self-signed (made here by the openssl CLI) and trusted through
AWS_CA_BUNDLE, as the SDKs do. HOME points at an empty directory so no real
~/.aws file is read.
"""
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

from lambdacommon import LambdaCase, wait_for

HERE = os.path.dirname(os.path.abspath(__file__))
SIGV4_DIR = os.path.join(HERE, "sigv4")
KEY_ID, SECRET = "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
TEMP_ID, TEMP_SECRET, TOKEN = "ASIATEMPEXAMPLE", "temp/secret+key", "FwoGZXIvYXdzEXAMPLE//token=="
CREDS = {KEY_ID: {"secret": SECRET, "token": None}, TEMP_ID: {"secret": TEMP_SECRET, "token": TOKEN}}
ARN = "arn:aws:lambda:us-east-1:123456789012:function:my-function:live"


def make_cert(directory):
    """A self-signed certificate for 127.0.0.1 and localhost (openssl CLI)."""
    cert, key = os.path.join(directory, "cert.pem"), os.path.join(directory, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                   check=True, capture_output=True)
    return cert, key


def npm_ready():
    """Installs the verifier's npm packages (once) from the lock file."""
    if os.path.isdir(os.path.join(SIGV4_DIR, "node_modules", "@smithy", "signature-v4")):
        return
    subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=SIGV4_DIR,
                   check=True, capture_output=True, timeout=300)


class Verifier:
    """The Node Invoke API server; .requests holds what it recorded, in order."""

    def __init__(self, cert, key):
        self.proc = subprocess.Popen(["node", "server.js", cert, key, json.dumps(CREDS)], cwd=SIGV4_DIR,
                                     stdout=subprocess.PIPE, text=True)
        first = self.proc.stdout.readline()
        if not first.startswith("port "):
            self.proc.kill()
            raise RuntimeError("verifier did not start: %r" % first)
        self.port = int(first.split()[1])
        self.requests = []
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        for line in self.proc.stdout:
            self.requests.append(json.loads(line))

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)
        self.thread.join(timeout=10)
        self.proc.stdout.close()


def have(cmd):
    return shutil.which(cmd) is not None


@unittest.skipUnless(have("node") and have("npm") and have("openssl"), "needs node, npm and openssl")
class LambdaAwsTest(LambdaCase):

    @classmethod
    def setUpClass(cls):
        npm_ready()
        cls.tmp = tempfile.TemporaryDirectory()
        cls.cert, cls.key = make_cert(cls.tmp.name)
        cls.verifier = Verifier(cls.cert, cls.key)

    @classmethod
    def tearDownClass(cls):
        cls.verifier.stop()
        cls.tmp.cleanup()

    def env(self, **extra):
        home = tempfile.mkdtemp(dir=self.tmp.name)
        e = {"HOME": home, "AWS_ENDPOINT_URL_LAMBDA": f"https://127.0.0.1:{self.verifier.port}",
             "AWS_CA_BUNDLE": self.cert}
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN",
                     "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION",
                     "AWS_ENDPOINT_URL", "AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE"):
            e.setdefault(name, "")
        e.update(extra)
        return e

    def serve_aws(self, functions, env):
        fns = [dict({"name": name, "endpoint": "aws", "region": "us-east-1"}, **extra) for name, extra in functions]
        return self.serve(fns, {}, env=env)

    def recorded(self, name):
        """The verifier's records for function name (as decoded from the path)."""
        return [r for r in self.verifier.requests if r["name"] == name]

    def last_record(self, name):
        self.assertTrue(wait_for(lambda: self.recorded(name), 10), f"the verifier saw no call to {name}")
        return self.recorded(name)[-1]

    # --- signed requests --------------------------------------------------------------------------

    def test_signed_requests_are_accepted(self):
        lb = self.serve_aws([("plain", {"function_name": "my-function"}), ("byarn", {"function_name": ARN})],
                            self.env(AWS_ACCESS_KEY_ID=KEY_ID, AWS_SECRET_ACCESS_KEY=SECRET))
        r = lb.get("/plain/x")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(json.loads(r.body), {"function": "my-function", "qualifier": None, "path": "/plain/x",
                                              "token": None})
        rec = self.last_record("my-function")
        self.assertEqual(rec["verdict"], "ok", rec)
        h = rec["headers"]
        self.assertEqual(rec["url"], "/2015-03-31/functions/my-function/invocations")
        self.assertRegex(h["authorization"], r"^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/\d{8}/us-east-1/lambda/"
                                             r"aws4_request, SignedHeaders=host;x-amz-date;x-amz-invocation-type, "
                                             r"Signature=[0-9a-f]{64}$")
        self.assertEqual(h["host"], f"127.0.0.1:{self.verifier.port}")
        self.assertNotIn("x-amz-security-token", h)
        # A full ARN with a qualifier: ':' travels as %3A and is signed double-encoded (§1.3).
        r = lb.get("/byarn")
        self.assertEqual(r.status, 200, r)
        rec = self.last_record(ARN)
        self.assertEqual(rec["verdict"], "ok", rec)
        self.assertIn("/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Amy-function%3Alive/",
                      rec["url"])
        # The pooled TLS connection carries the next call too.
        self.assertEqual(lb.get("/plain/again").status, 200)
        self.assertEqual(self.last_record("my-function")["verdict"], "ok")

    def test_new_connections_resume_the_tls_session(self):
        # The endpoint closes after each answer: the next connection resumes the session.
        lb = self.serve_aws([("closing", {"function_name": "fn-close"})],
                            self.env(AWS_ACCESS_KEY_ID=KEY_ID, AWS_SECRET_ACCESS_KEY=SECRET))
        # (Node issues no new ticket on a resumed connection, so only the second is checked.)
        for _ in range(2):
            self.assertEqual(lb.get("/closing").status, 200)
        self.assertTrue(wait_for(lambda: len(self.recorded("fn-close")) == 2, 10))
        self.assertEqual([r["tls_reused"] for r in self.recorded("fn-close")], [False, True])

    def test_host_name_endpoint_is_verified_with_sni(self):
        first = socket.getaddrinfo("localhost", self.verifier.port, type=socket.SOCK_STREAM)[0][4][0]
        if first != "127.0.0.1":
            self.skipTest("localhost does not resolve to 127.0.0.1 first here")
        lb = self.serve_aws([("named", {"function_name": "named-fn"})],
                            self.env(AWS_ACCESS_KEY_ID=KEY_ID, AWS_SECRET_ACCESS_KEY=SECRET,
                                     AWS_ENDPOINT_URL_LAMBDA="",
                                     AWS_ENDPOINT_URL=f"https://localhost:{self.verifier.port}"))
        self.assertEqual(lb.get("/named").status, 200)
        rec = self.last_record("named-fn")
        self.assertEqual((rec["verdict"], rec["sni"], rec["headers"]["host"]),
                         ("ok", "localhost", f"localhost:{self.verifier.port}"))

    def test_session_token_is_sent_and_signed(self):
        lb = self.serve_aws([("temp", {"function_name": "temp-fn"})],
                            self.env(AWS_ACCESS_KEY_ID=TEMP_ID, AWS_SECRET_ACCESS_KEY=TEMP_SECRET,
                                     AWS_SESSION_TOKEN=TOKEN))
        r = lb.get("/temp")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(json.loads(r.body)["token"], TOKEN)
        rec = self.last_record("temp-fn")
        self.assertEqual(rec["verdict"], "ok", rec)
        self.assertIn("x-amz-security-token", rec["headers"]["authorization"])

    def test_client_context_is_passed_on_and_signed(self):
        # An x-amz-* header: signed, as botocore signs it (aws-integration.md §1.12 vector D)
        from test_lambda_api import PATH, api_config, invoke_bytes, read_api_port
        from lbtest import Conn
        config, rules = api_config([{"name": "ctx", "endpoint": "aws", "region": "us-east-1",
                                     "function_name": "ctx-fn"}])
        lb = self.start(config, rules=rules, env=self.env(AWS_ACCESS_KEY_ID=KEY_ID, AWS_SECRET_ACCESS_KEY=SECRET))
        value = "eyJhIjp7fX0="   # {"a":{}}
        c = Conn(read_api_port(lb), timeout=20)
        try:
            c.send(invoke_bytes(PATH % "ctx", b"{}", [("X-Amz-Client-Context", value)]))
            r = c.read_response()
        finally:
            c.close()
        self.assertEqual(r.status, 200, r)
        rec = self.last_record("ctx-fn")
        self.assertEqual(rec["verdict"], "ok", rec)
        self.assertEqual(rec["headers"]["x-amz-client-context"], value)
        self.assertIn("SignedHeaders=host;x-amz-client-context;x-amz-date;x-amz-invocation-type,",
                      rec["headers"]["authorization"])

    def test_profile_from_shared_files(self):
        d = tempfile.mkdtemp(dir=self.tmp.name)
        creds, conf = os.path.join(d, "creds"), os.path.join(d, "conf")
        with open(creds, "w") as f:
            f.write(f"[default]\naws_access_key_id = WRONG\naws_secret_access_key = wrong\n\n"
                    f"[dev]\naws_access_key_id = {TEMP_ID}\naws_secret_access_key = {TEMP_SECRET}\n"
                    f"aws_session_token = {TOKEN}\n")
        with open(conf, "w") as f:
            f.write("[profile dev]\nregion = eu-west-1\n")
        # No region in lb.yaml: the profile's (eu-west-1) is the one signed for.
        lb = self.serve([{"name": "prof", "endpoint": "aws", "function_name": "prof-fn"}], {},
                        env=self.env(AWS_PROFILE="dev", AWS_SHARED_CREDENTIALS_FILE=creds, AWS_CONFIG_FILE=conf))
        r = lb.get("/prof")
        self.assertEqual(r.status, 200, r)
        rec = self.last_record("prof-fn")
        self.assertEqual(rec["verdict"], "ok", rec)
        self.assertIn(f"Credential={TEMP_ID}/", rec["headers"]["authorization"])
        self.assertIn("/eu-west-1/lambda/aws4_request", rec["headers"]["authorization"])

    # --- failures -------------------------------------------------------------------------------

    def test_wrong_secret_is_502_access_denied(self):
        lb = self.serve_aws([("denied", {"function_name": "denied-fn"})],
                            self.env(AWS_ACCESS_KEY_ID=KEY_ID, AWS_SECRET_ACCESS_KEY="not-the-secret"))
        r = lb.get("/denied")
        self.assertEqual(self.last_record("denied-fn")["verdict"], "InvalidSignatureException")
        self.assert_502(lb, r, "/denied", "LambdaAccessDenied", "denied")
        self.wait_stderr(lb, r"^lb: warning: function denied: endpoint answered 403: .*signature we calculated")

    def test_no_credentials_is_502_access_denied(self):
        lb = self.serve_aws([("nocreds", {})], self.env())
        r = lb.get("/nocreds")
        self.assert_502(lb, r, "/nocreds", "LambdaAccessDenied", "nocreds")
        self.wait_stderr(lb, r"^lb: warning: function nocreds: no AWS credentials: tried AWS_ACCESS_KEY_ID")
        self.assertEqual(self.recorded("nocreds"), [])

    def test_invoke_errors(self):
        fns = [("fails", {}), ("throttled", {}), ("missing", {}), ("broken", {})]
        lb = self.serve_aws(fns, self.env(AWS_ACCESS_KEY_ID=KEY_ID, AWS_SECRET_ACCESS_KEY=SECRET))
        # 200 with X-Amz-Function-Error: the function failed.
        self.assert_502(lb, lb.get("/fails"), "/fails", "LambdaUnhandled", "fails")
        # 429 TooManyRequestsException: ALB's documented 502 LambdaThrottling.
        self.assert_502(lb, lb.get("/throttled"), "/throttled", "LambdaThrottling", "throttled")
        self.assert_502(lb, lb.get("/missing"), "/missing", "LambdaResourceNotFound", "missing")
        # Lambda's own failure (500 ServiceException): 503, lb's choice (undocumented).
        r = lb.get("/broken")
        self.assertEqual(r.status, 503, r)
        self.assert_forward_log(lb, "/broken", 503, "-", "LambdaServiceException", "broken")
        for name, _ in fns:
            self.assertEqual(self.last_record(name)["verdict"], "ok")

    def test_untrusted_certificate_is_refused(self):
        lb = self.serve_aws([("untrusted", {})], self.env(AWS_ACCESS_KEY_ID=KEY_ID, AWS_SECRET_ACCESS_KEY=SECRET,
                                                          AWS_CA_BUNDLE=""))
        r = lb.get("/untrusted")
        self.assertEqual(r.status, 504, r)
        self.assert_forward_log(lb, "/untrusted", 504, "-", "LambdaConnectionTimeout", "untrusted")
        self.wait_stderr(lb, r"^lb: warning: endpoint 127\.0\.0\.1: certificate verification failed: ")
        self.assertEqual(self.recorded("untrusted"), [])

    def test_https_url_endpoint_needs_no_signature(self):
        # endpoint: https://... is an Invoke API like RIE's, over TLS: verified, not signed.
        lb = self.serve([{"name": "tls", "endpoint": f"https://127.0.0.1:{self.verifier.port}"}], {},
                        env=self.env())
        r = lb.get("/tls")
        self.assertEqual(r.status, 502, r)   # the verifier wants a signature: 403, ALB's 502
        rec = self.last_record("tls")
        self.assertEqual(rec["verdict"], "IncompleteSignatureException")
        self.assertNotIn("authorization", rec["headers"])


# --- HTTPS toward targets ---------------------------------------------------------------------


class HttpsBackend(http.server.ThreadingHTTPServer):
    """A Python HTTPS server with the self-signed certificate: /health and an echo."""

    def __init__(self, cert, key):
        super().__init__(("127.0.0.1", 0), HttpsHandler)
        self.paths = []
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        self.socket = ctx.wrap_socket(self.socket, server_side=True)
        self.port = self.server_address[1]
        threading.Thread(target=self.serve_forever, daemon=True).start()


class HttpsHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        self.server.paths.append((self.path, self.headers.get("User-Agent", "")))
        body = json.dumps({"path": self.path, "tls": True,
                           "xfp": self.headers.get("X-Forwarded-Proto")}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@unittest.skipUnless(have("openssl"), "needs openssl")
class HttpsTargetTest(LambdaCase):

    def test_https_target_group_and_health_checks(self):
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        cert, key = make_cert(tmp.name)
        backend = HttpsBackend(cert, key)
        self.addCleanup(backend.server_close)
        self.addCleanup(backend.shutdown)
        config = f"""
load_balancer: {{name: test-alb}}
listeners:
  - port: 0
    default_actions: [{{type: forward, target_group: secure}}]
target_groups:
  - name: secure
    target_type: ip
    protocol: HTTPS
    port: {backend.port}
    targets: [{{id: 127.0.0.1}}]
    health_check: {{protocol: HTTPS, path: /health, interval: 5, timeout: 4, healthy_threshold: 2}}
"""
        lb = self.start(config)
        # The certificate is self-signed and not trusted by lb: ALB does not verify targets.
        r = lb.get("/over/tls")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(json.loads(r.body), {"path": "/over/tls", "tls": True, "xfp": "http"})
        self.assertTrue(wait_for(lambda: ("/health", "ELB-HealthChecker/2.0") in backend.paths, 15),
                        backend.paths)
        # A second request goes out too (a pooled or resumed TLS connection).
        self.assertEqual(lb.get("/again").status, 200)

    def test_https_group_toward_a_plain_http_target_is_502(self):
        plain = http.server.ThreadingHTTPServer(("127.0.0.1", 0), HttpsHandler)
        plain.paths = []
        threading.Thread(target=plain.serve_forever, daemon=True).start()
        self.addCleanup(plain.server_close)
        self.addCleanup(plain.shutdown)
        config = f"""
load_balancer: {{name: test-alb}}
listeners:
  - port: 0
    default_actions: [{{type: forward, target_group: secure}}]
target_groups:
  - name: secure
    target_type: ip
    protocol: HTTPS
    port: {plain.server_address[1]}
    targets: [{{id: 127.0.0.1}}]
"""
        lb = self.start(config)
        r = lb.get("/x")
        self.assertEqual(r.status, 502, r)
        self.wait_stderr(lb, r"target 127\.0\.0\.1:\d+ failed the TLS handshake")
        # lb goes on serving
        self.assertEqual(lb.get("/y").status, 502)


if __name__ == "__main__":
    unittest.main()
