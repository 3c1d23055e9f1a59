"""authenticate-oidc against a real, certified OpenID provider: npm oidc-provider, started by
the test from tests/integration/oidc (installed there with `npm ci` from the committed
package-lock.json — the only step that needs the network). The whole login is driven twice:
by raw HTTP with a cookie jar, and by Debian's headless Chromium through playwright-core.
Both end at the target with the x-amzn-oidc-* headers; x-amzn-oidc-data is verified by
independent code (npm jose) with the key fetched from lb's /.lb/keys/{kid} on the admin
listener.
"""
import base64
import http.client
import json
import os
import re
import shutil
import ssl
import subprocess
import tempfile
import threading
import unittest
import urllib.parse
import urllib.request

from backend import Backend
from httpcommon import http_group
from lbtest import Lb
from tlscommon import Pki

HERE = os.path.dirname(os.path.abspath(__file__))
OIDC_DIR = os.path.join(HERE, "oidc")
PKI = Pki()
SITE = PKI.issue("site", dns=["localhost"], ip=["127.0.0.1"])
CLIENT_ID, CLIENT_SECRET = "lb-alb-client", "a-client-secret-of-some-length"
_install_lock = threading.Lock()


def node():
    """Node 20+ (oidc-provider 9 and playwright-core need it): LB_NODE20, else the machine's."""
    path = os.environ.get("LB_NODE20")
    if path and os.access(path, os.X_OK):
        return path
    return shutil.which("node")


def node_env():
    env = dict(os.environ)
    env["PATH"] = os.path.dirname(node()) + os.pathsep + env.get("PATH", "")
    return env


def npm_ready():
    """npm ci in tests/integration/oidc unless its node_modules is already there."""
    with _install_lock:
        with open(os.path.join(OIDC_DIR, "package.json")) as f:
            deps = json.load(f)["dependencies"]

        def installed(name):
            try:
                with open(os.path.join(OIDC_DIR, "node_modules", name, "package.json")) as f:
                    return json.load(f)["version"]
            except (OSError, ValueError, KeyError):
                return None
        if all(installed(name) == version for name, version in deps.items()):
            return
        p = subprocess.run(["npm", "ci", "--prefer-offline", "--no-audit", "--no-fund",
                            "--loglevel=error"], cwd=OIDC_DIR, env=node_env(),
                           capture_output=True, text=True, timeout=600)
        if p.returncode != 0:
            raise AssertionError("npm ci in tests/integration/oidc failed:\n" + p.stdout + p.stderr)


class Provider:
    """node provider.mjs: oidc-provider with one client whose redirect URI is lb's."""

    def __init__(self):
        self.proc = subprocess.Popen([node(), "provider.mjs", CLIENT_ID, CLIENT_SECRET],
                                     cwd=OIDC_DIR, env=node_env(), stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        first = self.proc.stdout.readline()
        if not first.startswith("port "):
            self.stop()
            raise AssertionError("oidc-provider did not start: %r" % first)
        self.url = "http://127.0.0.1:%d" % int(first.split()[1])

    def register(self, redirect_uri):
        self.proc.stdin.write(redirect_uri + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if line.strip() != "ready":
            raise AssertionError("oidc-provider did not take the client: %r" % line)

    def discovery(self):
        with urllib.request.urlopen(self.url + "/.well-known/openid-configuration", timeout=20) as r:
            return json.loads(r.read())

    def stop(self):
        self.proc.kill()
        self.proc.wait(timeout=20)
        self.proc.stdin.close()
        self.proc.stdout.close()


class CookieJar:
    """A browser's jar, enough for this flow: cookies per host:port, all sent back."""

    def __init__(self, ca):
        self.jar = {}
        self.ctx = ssl.create_default_context(cafile=ca)
        self.trace = []

    def get(self, url):
        u = urllib.parse.urlsplit(url)
        if u.scheme == "https":
            c = http.client.HTTPSConnection(u.hostname, u.port, context=self.ctx, timeout=30)
        else:
            c = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
        cookies = self.jar.setdefault(u.netloc, {})
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())} if cookies else {}
        c.request("GET", (u.path or "/") + ("?" + u.query if u.query else ""), headers=headers)
        r = c.getresponse()
        r.body = r.read()
        c.close()
        r.cookies = r.headers.get_all("Set-Cookie") or []
        for sc in r.cookies:
            name, _, rest = sc.partition("=")
            value = rest.split(";", 1)[0]
            if re.search(r"expires=Thu, 01 Jan 1970", sc, re.I) or not value:
                cookies.pop(name.strip(), None)
            else:
                cookies[name.strip()] = value
        self.trace.append((url, r.status))
        return r

    def follow(self, url, limit=12):
        """GETs url and follows redirects (relative ones too) until a non-redirect."""
        for _ in range(limit):
            r = self.get(url)
            if r.status not in (301, 302, 303, 307, 308):
                return r
            url = urllib.parse.urljoin(url, r.headers["Location"])
        raise AssertionError("redirect loop: %r" % self.trace)


class OidcProviderTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        npm_ready()
        cls.idp = Provider()
        cls.web = Backend("web").__enter__()
        try:
            # oidc-provider's endpoints (its discovery document names them once it runs)
            u = cls.idp.url
            cfg = (f"{{issuer: {u}, authorization_endpoint: {u}/auth, "
                   f"token_endpoint: {u}/token, user_info_endpoint: {u}/me, "
                   f"client_id: {CLIENT_ID}, client_secret: {CLIENT_SECRET}, "
                   f"scope: openid email profile}}")
            rules = ("rules:\n  - priority: 10\n"
                     "    conditions: [{path_pattern: {values: [\"/app*\"]}}]\n"
                     "    actions:\n"
                     f"      - {{type: authenticate-oidc, authenticate_oidc: {cfg}}}\n"
                     "      - {type: forward, target_group: web}\n")
            config = ("load_balancer: {name: oidc-alb, region: eu-west-1, account_id: \"123456789012\"}\n"
                      "listeners:\n  - port: 0\n    protocol: HTTPS\n"
                      f"    certificates: [{{certificate: {SITE.cert}, private_key: {SITE.key}}}]\n"
                      "    rules: [\"rules/*.yaml\"]\n"
                      "    default_actions: [{type: fixed-response, fixed_response: {status_code: \"404\"}}]\n"
                      "admin: {port: 0}\n"
                      "target_groups:\n" + http_group("web", [cls.web]))
            cls.lb = Lb(config, rules={"a.yaml": rules})
            cls.lb.start()
            line = cls.lb.proc.stdout.readline().decode().strip()
            m = re.match(r"^lb: console on http://127\.0\.0\.1:(\d+)$", line)
            assert m, line
            cls.admin = int(m.group(1))
            cls.idp.register(f"https://localhost:{cls.lb.port}/oauth2/idpresponse")
        except BaseException:
            cls.idp.stop()
            cls.web.__exit__(None, None, None)
            raise

    @classmethod
    def tearDownClass(cls):
        cls.lb.stop()
        cls.lb.tmp.cleanup()
        cls.web.__exit__(None, None, None)
        cls.idp.stop()

    def app_url(self, path="/app/page?x=1"):
        return f"https://localhost:{self.lb.port}{path}"

    def target_headers(self, body):
        return {k.lower(): v for k, v in json.loads(body)["headers"]}

    def check_headers(self, h):
        self.assertEqual(h["x-amzn-oidc-identity"], "alice")
        self.assertTrue(h["x-amzn-oidc-accesstoken"])
        v = self.jose_verify(h["x-amzn-oidc-data"])
        self.assertEqual((v["header"]["alg"], v["header"]["typ"]), ("ES256", "JWT"))
        self.assertEqual(v["header"]["iss"], self.idp.url)
        self.assertEqual(v["header"]["client"], CLIENT_ID)
        self.assertTrue(v["header"]["signer"].startswith(
            "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/oidc-alb/"))
        # the user info oidc-provider answered, as ALB passes it on
        p = v["payload"]
        self.assertEqual((p["sub"], p["email"], p["name"]), ("alice", "alice@example.com", "Alice Liddell"))
        self.assertTrue(v["padded"], v)  # ALB pads, and the token verifies as sent (verify.mjs)
        self.assertTrue(v["tampered"].startswith("refused"), v)

    def jose_verify(self, token):
        head = token.split(".")[0].rstrip("=")
        kid = json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))["kid"]
        with urllib.request.urlopen(f"http://127.0.0.1:{self.admin}/.lb/keys/{kid}", timeout=20) as r:
            pem = r.read()
        with tempfile.NamedTemporaryFile(suffix=".pem") as f:
            f.write(pem)
            f.flush()
            p = subprocess.run([node(), "verify.mjs", token, f.name], cwd=OIDC_DIR, env=node_env(),
                               capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        return json.loads(p.stdout)

    def test_endpoints_are_the_providers_own(self):
        d = self.idp.discovery()
        self.assertEqual((d["issuer"], d["authorization_endpoint"], d["token_endpoint"],
                          d["userinfo_endpoint"]),
                         (self.idp.url, self.idp.url + "/auth", self.idp.url + "/token",
                          self.idp.url + "/me"))

    def test_raw_http_login_with_a_cookie_jar(self):
        b = CookieJar(PKI.ca_cert)
        first = b.get(self.app_url())
        self.assertEqual(first.status, 302)
        auth = urllib.parse.urlsplit(first.headers["Location"])
        self.assertEqual(f"{auth.scheme}://{auth.netloc}{auth.path}", self.idp.url + "/auth")
        # the provider's interaction and resume redirects, then its answer to lb's callback
        url = first.headers["Location"]
        for _ in range(10):
            r = b.get(url)
            self.assertIn(r.status, (302, 303), (url, r.status, r.body[:500]))
            url = urllib.parse.urljoin(url, r.headers["Location"])
            if url.startswith(f"https://localhost:{self.lb.port}/oauth2/idpresponse"):
                break
        q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))
        self.assertTrue(q.get("code"), url)
        back = b.get(url)
        self.assertEqual(back.status, 302, back.body)
        self.assertEqual(back.headers["Location"], self.app_url())
        self.assertTrue(any(c.startswith("AWSELBAuthSessionCookie-0=") for c in back.cookies))
        r = b.get(self.app_url())
        self.assertEqual(r.status, 200, r.body)
        self.check_headers(self.target_headers(r.body))

    def test_headless_chromium_login(self):
        if not os.access(os.environ.get("CHROMIUM", "/usr/bin/chromium"), os.X_OK):
            self.fail("Debian's chromium is not installed (scripts/deps.sh with LB_DEPS_EXTRA=chromium)")
        p = subprocess.run([node(), "browser.mjs", self.app_url()], cwd=OIDC_DIR, env=node_env(),
                           capture_output=True, text=True, timeout=120)
        self.assertEqual(p.returncode, 0, p.stderr)
        out = json.loads(p.stdout)
        self.assertNotIn("error", out, out)
        self.assertEqual((out["landed"]["url"], out["landed"]["status"]), (self.app_url(), 200), out)
        urls = [e["url"] for e in out["exchanges"]]
        self.assertTrue(any(u.startswith(self.idp.url + "/auth") for u in urls), urls)
        self.assertTrue(any("/oauth2/idpresponse?" in u for u in urls), urls)
        session = [c for c in out["cookies"] if c["name"] == "AWSELBAuthSessionCookie-0"]
        self.assertEqual(len(session), 1, out["cookies"])
        self.assertTrue(session[0]["httpOnly"] and session[0]["secure"])
        self.check_headers(self.target_headers(out["landed"]["body"]))
        # the second visit rides on the session cookie: no trip to the provider
        self.assertEqual(out["again"]["status"], 200)
        self.assertFalse(out["again"]["redirected"])
        self.assertEqual(self.target_headers(out["again"]["body"])["x-amzn-oidc-identity"], "alice")


if __name__ == "__main__":
    unittest.main()
