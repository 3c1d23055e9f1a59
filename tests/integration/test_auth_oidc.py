"""authenticate-oidc / authenticate-cognito (DESIGN.md §15, alb-listener-rules.md §2.5):
the whole login against a real OpenID provider (oidc_provider.py), driven like a
browser over HTTPS with a cookie jar: the redirect to the IdP, the
/oauth2/idpresponse callback, the sharded session cookies, the x-amzn-oidc-*
headers at the target, the x-amzn-oidc-data JWT checked with `openssl` against
the key lb serves at /.lb/keys/{kid}, and ALB's answers for deny, allow, a forged
state and an IdP's error.
"""
import base64
import http.client
import json
import os
import re
import socket
import ssl
import subprocess
import tempfile
import threading
import unittest
import urllib.parse
import urllib.request

from backend import Backend
from httpcommon import http_group
from lambdacommon import ECHO_PY, fn, tg
from lbcommon import log_for, wait_for
from lbtest import Lb, run_lb
from oidc_provider import USER, OidcProvider
from tlscommon import Pki

PKI = Pki()
SITE = PKI.issue("site", dns=["localhost"], ip=["127.0.0.1"])
REGION, ACCOUNT = "eu-west-1", "123456789012"


def auth_rule(priority, path, idp, extra="", secret=None, kind="oidc", group="web", token=None):
    secret = idp.client_secret if secret is None else secret
    token = token or f"{idp.url}/token"
    if kind == "oidc":
        cfg = (f"{{issuer: {idp.url}, authorization_endpoint: {idp.url}/authorize, "
               f"token_endpoint: {token}, user_info_endpoint: {idp.url}/userinfo, "
               f"client_id: {idp.client_id}, client_secret: {secret}{extra}}}")
    else:
        cfg = (f"{{user_pool_arn: 'arn:aws:cognito-idp:{REGION}:{ACCOUNT}:userpool/{REGION}_Pool1', "
               f"user_pool_client_id: {idp.client_id}, user_pool_domain: my-app, "
               f"client_secret: {secret}, authorization_endpoint: {idp.url}/authorize, "
               f"token_endpoint: {idp.url}/token, user_info_endpoint: {idp.url}/userinfo{extra}}}")
    return (f"  - priority: {priority}\n"
            f"    conditions: [{{path_pattern: {{values: [\"{path}\"]}}}}]\n"
            f"    actions:\n"
            f"      - {{type: authenticate-{kind}, authenticate_{kind}: {cfg}}}\n"
            f"      - {{type: forward, target_group: {group}}}\n")


class Browser:
    """Cookies and requests over HTTPS to lb (and plain HTTP to the IdP), no auto-redirects."""

    def __init__(self, port):
        self.port = port
        self.jar = {}
        self.ctx = ssl.create_default_context(cafile=PKI.ca_cert)

    def get(self, url, headers=None):
        u = urllib.parse.urlsplit(url)
        if u.scheme == "https":
            c = http.client.HTTPSConnection(u.hostname, u.port, context=self.ctx, timeout=60)
        else:
            c = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
        h = dict(headers or {})
        if u.scheme == "https" and self.jar:
            h["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.jar.items())
        c.request("GET", (u.path or "/") + ("?" + u.query if u.query else ""), headers=h)
        r = c.getresponse()
        r.body = r.read()
        r.cookies = r.headers.get_all("Set-Cookie") or []
        c.close()
        for sc in r.cookies:
            name, _, rest = sc.partition("=")
            value = rest.split(";", 1)[0]
            if "Expires=Thu, 01 Jan 1970" in sc:
                self.jar.pop(name, None)
            else:
                self.jar[name] = value
        return r

    def lb(self, path):
        return f"https://localhost:{self.port}{path}"

    def login(self, path):
        """The whole flow; returns (first 302, IdP's 302, callback's answer)."""
        first = self.get(self.lb(path))
        idp = self.get(first.headers["Location"])
        back = self.get(idp.headers["Location"])
        return first, idp, back


def dead_port():
    """A port nothing listens on (bound, then closed)."""
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def der_from_jws(sig):
    """An ES256 JWS signature (r | s) as the DER ECDSA-Sig-Value openssl wants."""
    def integer(b):
        b = b.lstrip(b"\0") or b"\0"
        if b[0] & 0x80:
            b = b"\0" + b
        return b"\x02" + bytes([len(b)]) + b
    body = integer(sig[:32]) + integer(sig[32:])
    return b"\x30" + bytes([len(body)]) + body


def b64url_decode(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


class AuthOidcTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.idp = OidcProvider().__enter__()
        cls.web = Backend("web").__enter__()
        idp = cls.idp
        rules = ("rules:\n" +
                 auth_rule(10, "/app*", idp, ", scope: openid email, "
                           "authentication_request_extra_params: {prompt: login}") +
                 auth_rule(20, "/deny*", idp, ", on_unauthenticated_request: deny") +
                 auth_rule(30, "/allow*", idp, ", on_unauthenticated_request: allow") +
                 auth_rule(40, "/big*", idp, ", scope: openid big, session_cookie_name: BigSession") +
                 auth_rule(50, "/badclient*", idp, secret="wrong") +
                 auth_rule(60, "/refused*", idp, ", scope: openid refuse") +
                 auth_rule(70, "/cognito*", idp, kind="cognito") +
                 auth_rule(80, "/lambda*", idp, group="lam") +
                 auth_rule(90, "/short*", idp, ", session_timeout: 2, session_cookie_name: Short") +
                 auth_rule(100, "/dead*", idp, token=f"http://127.0.0.1:{dead_port()}/token") +
                 auth_rule(110, "/crlftoken*", idp, ", scope: openid crlf-token") +
                 auth_rule(120, "/crlfsub*", idp, ", scope: openid crlf-sub") +
                 auth_rule(130, "/nononce*", idp, ", scope: openid no-nonce") +
                 auth_rule(140, "/wrongnonce*", idp, ", scope: openid wrong-nonce") +
                 auth_rule(150, "/nosub*", idp, ", scope: openid no-sub"))
        config = (f"load_balancer: {{name: auth-alb, region: {REGION}, account_id: \"{ACCOUNT}\"}}\n"
                  "listeners:\n"
                  "  - port: 0\n"
                  "    protocol: HTTPS\n"
                  f"    certificates: [{{certificate: {SITE.cert}, private_key: {SITE.key}}}]\n"
                  "    rules: [\"rules/*.yaml\"]\n"
                  "    default_actions: [{type: fixed-response, fixed_response: {status_code: \"404\"}}]\n"
                  "admin: {port: 0}\n"
                  "target_groups:\n" + http_group("web", [cls.web]) +
                  "  - " + json.dumps(tg("lam", target="echo")) + "\n"
                  "functions:\n  - " + json.dumps(fn("echo")) + "\n")
        cls.lb = Lb(config, rules={"a.yaml": rules}, files={"fn/index.py": ECHO_PY})
        cls.lb.start()
        line = cls.lb.proc.stdout.readline().decode().strip()
        m = re.match(r"^lb: console on http://127\.0\.0\.1:(\d+)$", line)
        assert m, line
        cls.admin = int(m.group(1))

    @classmethod
    def tearDownClass(cls):
        cls.lb.stop()
        cls.lb.tmp.cleanup()
        cls.web.__exit__(None, None, None)
        cls.idp.__exit__(None, None, None)

    def browser(self):
        return Browser(self.lb.port)

    def echoed(self, r):
        self.assertEqual(r.status, 200, r.body)
        return {k.lower(): v for k, v in json.loads(r.body)["headers"]}

    def test_redirect_to_the_idp_has_albs_parameters(self):
        r = self.browser().get(self.lb_url("/app/page?x=1"))
        self.assertEqual(r.status, 302)
        loc = urllib.parse.urlsplit(r.headers["Location"])
        self.assertEqual(f"{loc.scheme}://{loc.netloc}{loc.path}", self.idp.url + "/authorize")
        q = dict(urllib.parse.parse_qsl(loc.query))
        self.assertEqual(q["client_id"], self.idp.client_id)
        self.assertEqual(q["response_type"], "code")
        self.assertEqual(q["scope"], "openid email")
        self.assertEqual(q["redirect_uri"], f"https://localhost:{self.lb.port}/oauth2/idpresponse")
        self.assertEqual(q["prompt"], "login")
        self.assertTrue(q["state"] and q["nonce"])
        self.assertEqual(len(self.web.requests), len(self.web.requests))  # nothing forwarded yet

    def lb_url(self, path):
        return f"https://localhost:{self.lb.port}{path}"

    def test_login_sets_session_cookies_and_target_gets_claims(self):
        b = self.browser()
        first, idp, back = b.login("/app/page?x=1")
        self.assertEqual(idp.status, 302)
        self.assertEqual(back.status, 302, back.body)
        self.assertEqual(back.headers["Location"], self.lb_url("/app/page?x=1"))
        cookies = [c for c in back.cookies if c.startswith("AWSELBAuthSessionCookie-")]
        self.assertEqual([c.split("=", 1)[0] for c in cookies], ["AWSELBAuthSessionCookie-0"])
        attrs = [a.strip() for a in cookies[0].split(";")[1:]]
        self.assertIn("Secure", attrs)
        self.assertIn("HttpOnly", attrs)
        self.assertIn("Path=/", attrs)
        # the code went to the token endpoint with client_secret_basic and the redirect_uri
        tr = self.idp.token_requests[-1]
        self.assertTrue(tr["auth"].startswith("Basic "))
        self.assertEqual(tr["form"]["redirect_uri"], f"https://localhost:{self.lb.port}/oauth2/idpresponse")
        # the target sees the user
        h = self.echoed(b.get(self.lb_url("/app/page?x=1")))
        self.assertEqual(h["x-amzn-oidc-identity"], USER["sub"])
        self.assertIn(h["x-amzn-oidc-accesstoken"], self.idp.tokens)
        self.check_data_jwt(h["x-amzn-oidc-data"])

    def check_data_jwt(self, token):
        head_b64, body_b64, sig_b64 = token.split(".")
        head = json.loads(b64url_decode(head_b64))
        body = json.loads(b64url_decode(body_b64))
        self.assertEqual((head["typ"], head["alg"]), ("JWT", "ES256"))
        self.assertEqual(head["iss"], self.idp.url)
        self.assertEqual(head["client"], self.idp.client_id)
        self.assertTrue(head["signer"].startswith(
            f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:loadbalancer/app/auth-alb/"), head)
        self.assertIsInstance(head["exp"], int)
        self.assertEqual((body["sub"], body["email"]), (USER["sub"], USER["email"]))
        # the key as ALB's regional endpoint serves it, then an independent check
        with urllib.request.urlopen(f"http://127.0.0.1:{self.admin}/.lb/keys/{head['kid']}",
                                    timeout=20) as r:
            pem = r.read()
        self.assertTrue(pem.startswith(b"-----BEGIN PUBLIC KEY-----"))
        with tempfile.TemporaryDirectory() as d:
            for name, data in (("key.pem", pem), ("in", f"{head_b64}.{body_b64}".encode()),
                               ("sig", der_from_jws(b64url_decode(sig_b64)))):
                with open(os.path.join(d, name), "wb") as f:
                    f.write(data)
            out = subprocess.run(["openssl", "dgst", "-sha256", "-verify", "key.pem",
                                  "-signature", "sig", "in"], cwd=d, capture_output=True,
                                 timeout=30)
            self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
            with open(os.path.join(d, "in"), "ab") as f:
                f.write(b"x")
            out = subprocess.run(["openssl", "dgst", "-sha256", "-verify", "key.pem",
                                  "-signature", "sig", "in"], cwd=d, capture_output=True,
                                 timeout=30)
            self.assertNotEqual(out.returncode, 0)

    def test_unknown_kid_is_404(self):
        with self.assertRaises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(f"http://127.0.0.1:{self.admin}/.lb/keys/nope", timeout=20)
        self.assertEqual(e.exception.code, 404)

    def test_client_sent_oidc_headers_never_reach_the_target(self):
        b = self.browser()
        b.login("/app/a")
        h = self.echoed(b.get(self.lb_url("/app/a"), {"x-amzn-oidc-identity": "mallory"}))
        self.assertEqual(h["x-amzn-oidc-identity"], USER["sub"])
        # allow without a session: no claims, and the client's copy is dropped
        h = self.echoed(self.browser().get(self.lb_url("/allow/a"), {"X-Amzn-Oidc-Data": "forged"}))
        self.assertNotIn("x-amzn-oidc-data", h)
        # allow with a session: the claims go on (ALB authenticates when it can)
        h = self.echoed(b.get(self.lb_url("/allow/a")))
        self.assertEqual(h["x-amzn-oidc-identity"], USER["sub"])

    def test_big_user_info_is_sharded(self):
        b = self.browser()
        _, _, back = b.login("/big/x")
        self.assertEqual(back.status, 302, back.body)
        names = [c.split("=", 1)[0] for c in back.cookies]
        self.assertGreaterEqual(len(names), 2)
        self.assertEqual(names, [f"BigSession-{i}" for i in range(len(names))])
        self.assertTrue(all(len(c) <= 4096 for c in back.cookies))
        h = self.echoed(b.get(self.lb_url("/big/x")))
        body = json.loads(b64url_decode(h["x-amzn-oidc-data"].split(".")[1]))
        self.assertEqual(len(body["bio"]), 7000)

    def test_deny_answers_401(self):
        r = self.browser().get(self.lb_url("/deny/x"))
        self.assertEqual(r.status, 401)

    def test_deny_with_a_session_passes(self):
        b = self.browser()
        b.login("/app/x")
        h = self.echoed(b.get(self.lb_url("/deny/x")))
        self.assertEqual(h["x-amzn-oidc-identity"], USER["sub"])

    def test_allow_passes_without_claims(self):
        h = self.echoed(self.browser().get(self.lb_url("/allow/x")))
        self.assertFalse([k for k in h if k.startswith("x-amzn-oidc")])

    def test_forged_or_missing_state_is_401(self):
        b = self.browser()
        r = b.get(self.lb_url("/oauth2/idpresponse?code=abc&state=" + "A" * 60))
        self.assertEqual(r.status, 401)
        r = b.get(self.lb_url("/oauth2/idpresponse?code=abc"))
        self.assertEqual(r.status, 401)

    def test_a_callback_from_another_browsers_login_is_401(self):
        # Login CSRF: the attacker begins a login and signs in at the IdP as himself, then
        # sends his callback URL (his state, his code) to the victim. Without the
        # AWSALBAuthNonce cookie of that login, the victim's browser must not get a session.
        attacker = self.browser()
        first = attacker.get(self.lb_url("/app/csrf"))
        nonce = [c for c in first.cookies if c.startswith("AWSALBAuthNonce=")]
        self.assertEqual(len(nonce), 1, first.cookies)
        self.assertEqual([a.strip() for a in nonce[0].split(";")[1:]], ["Path=/", "Secure", "HttpOnly"])
        q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(first.headers["Location"]).query))
        self.assertEqual(nonce[0].split(";")[0], "AWSALBAuthNonce=" + q["nonce"])
        callback = attacker.get(first.headers["Location"]).headers["Location"]
        victim = self.browser()
        victim.get(self.lb_url("/app/mine"))      # the victim's own login, begun and left
        for who, agent, reason in ((self.browser(), "csrf-1", "AuthMissingAWSALBAuthNonce"),
                                   (victim, "csrf-2", "AuthInvalidAWSALBAuthNonce")):
            r = who.get(callback, {"User-Agent": agent})
            self.assertEqual(r.status, 401, r.body)
            self.assertFalse([c for c in r.cookies if c.startswith("AWSELBAuthSessionCookie")])
            e = log_for(self.lb, f'"{agent}"', timeout=20)
            self.assertEqual((e["elb_status_code"], e["error_reason"]), ("401", reason))
        self.assertEqual(victim.get(self.lb_url("/app/csrf")).status, 302)   # not signed in
        # the browser that began the login finishes it
        self.assertEqual(attacker.get(callback).status, 302)
        self.assertEqual(self.echoed(attacker.get(self.lb_url("/app/csrf")))["x-amzn-oidc-identity"],
                         USER["sub"])

    def test_garbled_session_cookie_means_login_again(self):
        b = self.browser()
        b.login("/app/x")
        b.jar["AWSELBAuthSessionCookie-0"] = b.jar["AWSELBAuthSessionCookie-0"][:-4] + "AAAA"
        r = b.get(self.lb_url("/app/x"))
        self.assertEqual(r.status, 302)

    def test_idp_token_error_is_561(self):
        _, idp, back = self.browser().login("/badclient/x")
        self.assertEqual(idp.status, 302)
        self.assertEqual(back.status, 561)
        self.assertFalse(back.cookies)

    def test_idp_authorization_error_is_561(self):
        _, _, back = self.browser().login("/refused/x")
        self.assertEqual(back.status, 561)

    def test_curl_over_http2_logs_in_end_to_end(self):
        """A real client (curl, HTTP/2 by ALPN) follows the redirects with a cookie jar."""
        with tempfile.TemporaryDirectory() as d:
            jar = os.path.join(d, "jar")
            out = subprocess.run(["curl", "-sS", "-L", "--http2", "-c", jar, "-b", jar,
                                  "--cacert", PKI.ca_cert, "-w", "\n%{http_version} %{http_code}",
                                  self.lb_url("/app/curl")], capture_output=True, text=True,
                                 timeout=60)
            self.assertEqual(out.returncode, 0, out.stderr)
            body, _, last = out.stdout.rpartition("\n")
            self.assertEqual(last, "2 200")
            h = {k.lower(): v for k, v in json.loads(body)["headers"]}
            self.assertEqual(h["x-amzn-oidc-identity"], USER["sub"])
            with open(jar) as f:
                self.assertIn("AWSELBAuthSessionCookie-0", f.read())

    def test_absolute_form_request_returns_to_its_path(self):
        b = self.browser()
        c = http.client.HTTPSConnection("localhost", self.lb.port, context=b.ctx, timeout=20)
        c.request("GET", self.lb_url("/app/abs?x=1"))   # absolute-form request-target
        first = c.getresponse()
        first.read()
        c.close()
        self.assertEqual(first.status, 302)
        name, _, rest = first.headers["Set-Cookie"].partition("=")
        b.jar[name] = rest.split(";", 1)[0]      # AWSALBAuthNonce, for the callback
        idp = b.get(first.headers["Location"])
        back = b.get(idp.headers["Location"])
        self.assertEqual(back.headers["Location"], self.lb_url("/app/abs?x=1"))

    def test_a_session_counts_only_for_its_issuer_and_client(self):
        b = self.browser()
        b.login("/app/x")
        self.assertEqual(b.get(self.lb_url("/app/x")).status, 200)
        # the Cognito rule shares the cookie name but has another issuer: log in there
        self.assertEqual(b.get(self.lb_url("/cognito/x")).status, 302)

    def test_cognito_runs_the_same_flow(self):
        b = self.browser()
        first, _, back = b.login("/cognito/x")
        q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(first.headers["Location"]).query))
        self.assertEqual(q["scope"], "openid")
        self.assertEqual(back.status, 302, back.body)
        h = self.echoed(b.get(self.lb_url("/cognito/x")))
        head = json.loads(b64url_decode(h["x-amzn-oidc-data"].split(".")[0]))
        # without an issuer given, Cognito's: https://cognito-idp.REGION.amazonaws.com/POOL_ID
        self.assertEqual(head["iss"], f"https://cognito-idp.{REGION}.amazonaws.com/{REGION}_Pool1")

    def test_lambda_event_carries_the_claims(self):
        b = self.browser()
        b.login("/lambda/x")
        r = b.get(self.lb_url("/lambda/x"))
        self.assertEqual(r.status, 200, r.body)
        headers = json.loads(r.body)["event"]["headers"]
        self.assertEqual(headers["x-amzn-oidc-identity"], USER["sub"])
        self.check_data_jwt(headers["x-amzn-oidc-data"])

    def test_session_expires_after_session_timeout(self):
        b = self.browser()
        _, _, back = b.login("/short/x")
        self.assertEqual(back.status, 302, back.body)
        self.assertEqual(b.get(self.lb_url("/short/x")).status, 200)
        # session_timeout: 2 — once it has passed, the same cookie means a new login
        self.assertTrue(wait_for(lambda: b.get(self.lb_url("/short/x")).status == 302,
                                 timeout=20, step=0.5))

    def test_access_log_names_the_authenticate_action(self):
        b = self.browser()
        ua = {"User-Agent": "auth-log-1"}
        r = b.get(self.lb_url("/app/logged"), ua)
        e = log_for(self.lb, '"auth-log-1"', timeout=20)
        self.assertEqual((e["elb_status_code"], e["actions_executed"]), ("302", "authenticate"))
        self.assertEqual(e["redirect_url"], r.headers["Location"])
        idp = b.get(r.headers["Location"])
        b.get(idp.headers["Location"], {"User-Agent": "auth-log-2"})
        e = log_for(self.lb, '"auth-log-2"', timeout=20)
        self.assertEqual((e["elb_status_code"], e["actions_executed"]), ("302", "authenticate"))
        b.get(self.lb_url("/app/logged"), {"User-Agent": "auth-log-3"})
        e = log_for(self.lb, '"auth-log-3"', timeout=20)
        self.assertEqual((e["elb_status_code"], e["actions_executed"]),
                         ("200", "authenticate,forward"))
        b2 = self.browser()
        b2.get(self.lb_url("/oauth2/idpresponse?code=x"), {"User-Agent": "auth-log-4"})
        e = log_for(self.lb, '"auth-log-4"', timeout=20)
        self.assertEqual((e["elb_status_code"], e["error_reason"]), ("401", "AuthMissingAWSALBAuthNonce"))
        b2.get(self.lb_url("/app/start"))     # the nonce cookie, then a callback without state
        b2.get(self.lb_url("/oauth2/idpresponse?code=x"), {"User-Agent": "auth-log-5"})
        e = log_for(self.lb, '"auth-log-5"', timeout=20)
        self.assertEqual((e["elb_status_code"], e["error_reason"]), ("401", "AuthMissingStateParam"))

    def test_token_endpoint_out_of_reach_is_500(self):
        b = self.browser()
        _, _, back = b.login("/dead/x")
        self.assertEqual(back.status, 500)
        self.assertFalse(back.cookies)

    def refused_login(self, path, ua):
        """A login whose IdP answers lb must refuse, then the path again with whatever
        cookies it set: (callback answer, its access-log entry, the second answer)."""
        b = self.browser()
        first = b.get(self.lb_url(path))
        idp = b.get(first.headers["Location"])
        back = b.get(idp.headers["Location"], {"User-Agent": ua})
        again = b.get(self.lb_url(path))
        return back, log_for(self.lb, f'"{ua}"', timeout=20), again

    def assert_nothing_injected(self, path):
        """No request for path reached the target with a field the IdP smuggled in."""
        self.assertFalse([r["head"] for r in self.web.requests
                          if r["target"].startswith(path) and b"x-injected" in r["head"].lower()])

    def assert_no_session(self, back, again):
        self.assertFalse(back.cookies)
        self.assertEqual(again.status, 302)   # sent to log in again, never to the target

    def test_crlf_in_the_access_token_fails_the_login(self):
        """The token goes into the user info request's Authorization and the target's
        x-amzn-oidc-accesstoken: one that is not an RFC 6750 bearer token is the token
        endpoint's bad answer (561), and lb never sends it anywhere."""
        asked = len(self.idp.userinfo_requests)
        back, e, again = self.refused_login("/crlftoken/x", "auth-crlf-token")
        self.assert_nothing_injected("/crlftoken/")
        self.assertEqual(self.idp.userinfo_requests[asked:], [])   # nor the IdP
        self.assertEqual(back.status, 561)
        self.assertEqual((e["elb_status_code"], e["error_reason"]),
                         ("561", "AuthInvalidTokenResponse"))
        self.assert_no_session(back, again)
        self.assertIn("authenticate: AuthInvalidTokenResponse (561): access_token is not an "
                      "RFC 6750 bearer token", self.lb.stderr())

    def test_userinfo_request_carries_exactly_the_bearer_token(self):
        b = self.browser()
        _, _, back = b.login("/app/bearer")
        self.assertEqual(back.status, 302, back.body)
        fields = self.idp.userinfo_requests[-1]
        auth = [v for k, v in fields if k.lower() == "authorization"]
        self.assertEqual(len(auth), 1)
        self.assertRegex(auth[0], r"^Bearer [A-Za-z0-9_-]+$")
        self.assertIn(auth[0][7:], self.idp.tokens)
        self.assertEqual(sorted(k.lower() for k, _ in fields),
                         ["accept", "authorization", "host", "user-agent"])

    def test_crlf_in_the_sub_fails_the_login(self):
        """sub becomes the target's x-amzn-oidc-identity: one with a control character is
        the user info endpoint's bad answer (561)."""
        back, e, again = self.refused_login("/crlfsub/x", "auth-crlf-sub")
        self.assert_nothing_injected("/crlfsub/")
        self.assertEqual(back.status, 561)
        self.assertEqual((e["elb_status_code"], e["error_reason"]),
                         ("561", "AuthInvalidUserinfoResponse"))
        self.assert_no_session(back, again)
        self.assertIn("authenticate: AuthInvalidUserinfoResponse (561): sub holds a control "
                      "character", self.lb.stderr())

    def test_userinfo_without_a_sub_fails_the_login(self):
        """OpenID Connect Core §5.3.2: the UserInfo response always holds sub, which
        becomes x-amzn-oidc-identity: without it the answer is bad (561)."""
        back, e, again = self.refused_login("/nosub/x", "auth-no-sub")
        self.assertEqual(back.status, 561)
        self.assertEqual((e["elb_status_code"], e["error_reason"]),
                         ("561", "AuthInvalidUserinfoResponse"))
        self.assert_no_session(back, again)
        self.assertIn("authenticate: AuthInvalidUserinfoResponse (561): no sub", self.lb.stderr())

    def test_id_token_without_the_nonce_fails_as_a_wrong_nonce_does(self):
        """lb sends a nonce, so the ID token must carry it (OpenID Connect Core §3.1.3.7)."""
        for path, ua in (("/wrongnonce/x", "auth-wrong-nonce"), ("/nononce/x", "auth-no-nonce")):
            with self.subTest(path):
                back, e, again = self.refused_login(path, ua)
                self.assertEqual(back.status, 401)
                self.assertEqual((e["elb_status_code"], e["error_reason"]),
                                 ("401", "AuthInvalidIdToken"))
                self.assert_no_session(back, again)
        self.assertEqual(self.lb.stderr().count("authenticate: AuthInvalidIdToken (401)\n"), 2)

    def test_client_leaving_during_the_code_exchange(self):
        b = self.browser()
        first = b.get(self.lb_url("/app/leave"))
        idp = b.get(first.headers["Location"])
        u = urllib.parse.urlsplit(idp.headers["Location"])
        self.idp.token_gate = threading.Event()
        self.idp.token_waiting.clear()
        try:
            s = socket.create_connection(("127.0.0.1", self.lb.port), timeout=20)
            t = b.ctx.wrap_socket(s, server_hostname="localhost")
            cookies = "; ".join(f"{k}={v}" for k, v in b.jar.items())
            t.sendall(f"GET {u.path}?{u.query} HTTP/1.1\r\nHost: localhost:{self.lb.port}\r\n"
                      f"Cookie: {cookies}\r\n\r\n".encode())
            self.assertTrue(self.idp.token_waiting.wait(20))
            t.close()
        finally:
            self.idp.token_gate.set()
            self.idp.token_gate = None
        # lb goes on serving (and its exit, checked at the end, is clean)
        self.assertEqual(self.browser().get(self.lb_url("/deny/x")).status, 401)


class AuthOverTlsTest(unittest.TestCase):
    """An https:// IdP with its own CA, trusted through SSL_CERT_FILE as OpenSSL reads it."""

    def test_login_against_an_https_idp(self):
        cert = PKI.issue("idp", dns=["localhost"], ip=["127.0.0.1"])
        with OidcProvider(tls=(cert.cert, cert.key)) as idp, Backend("web2") as web:
            config = ("load_balancer: {name: tls-idp}\nlisteners:\n  - port: 0\n"
                      "    protocol: HTTPS\n"
                      f"    certificates: [{{certificate: {SITE.cert}, private_key: {SITE.key}}}]\n"
                      "    rules: [\"rules/*.yaml\"]\n"
                      "    default_actions: [{type: fixed-response, fixed_response: {status_code: \"404\"}}]\n"
                      "target_groups:\n" + http_group("web", [web]))
            lb = Lb(config, rules={"a.yaml": "rules:\n" + auth_rule(10, "/app*", idp)},
                    env={"SSL_CERT_FILE": PKI.ca_cert}).start()
            try:
                b = Browser(lb.port)
                first = b.get(f"https://localhost:{lb.port}/app/x")
                # the browser trusts the IdP's CA too
                b.ctx = ssl.create_default_context(cafile=PKI.ca_cert)
                idp_answer = b.get(first.headers["Location"])
                back = b.get(idp_answer.headers["Location"])
                self.assertEqual(back.status, 302, back.body)
                r = b.get(f"https://localhost:{lb.port}/app/x")
                self.assertEqual(r.status, 200)
                headers = {k.lower(): v for k, v in json.loads(r.body)["headers"]}
                self.assertEqual(headers["x-amzn-oidc-identity"], USER["sub"])
            finally:
                lb.stop()
                lb.tmp.cleanup()


class AuthCheckTest(unittest.TestCase):
    """`lb check`: the action in the summary; HTTP listeners refuse it at its position."""

    def check(self, protocol):
        idp = OidcProvider()   # not started: only its URL is used
        idp.server.server_close()
        listener = "  - port: 0\n    rules: [\"rules/*.yaml\"]\n"
        if protocol in ("HTTPS", "export"):
            listener += (f"    protocol: HTTPS\n    certificates: [{{certificate: {SITE.cert}, "
                         f"private_key: {SITE.key}}}]\n")
        listener += "    default_actions: [{type: fixed-response, fixed_response: {status_code: \"404\"}}]\n"
        with tempfile.TemporaryDirectory() as d:
            os.makedirs(os.path.join(d, "rules"))
            with open(os.path.join(d, "lb.yaml"), "w") as f:
                f.write("load_balancer: {name: chk}\nlisteners:\n" + listener +
                        "target_groups:\n" + http_group("web", [8080]))
            with open(os.path.join(d, "rules", "a.yaml"), "w") as f:
                f.write("rules:\n" + auth_rule(10, "/app*", idp, ", on_unauthenticated_request: deny"))
            if protocol == "export":
                code, out, err = run_lb("export", "cloudformation", "-c", "lb.yaml", cwd=d)
                self.assertEqual(code, 0, err)
                with open(os.path.join(d, "t.json"), "w") as f:
                    f.write(out)
                return run_lb("check", "-c", "t.json", cwd=d), idp, json.loads(out)
            return run_lb("check", "-c", "lb.yaml", cwd=d), idp

    def test_summary_shows_the_authenticate_action(self):
        (code, out, err), idp = self.check("HTTPS")
        self.assertEqual(code, 0, err)
        self.assertIn(f"  10 path_pattern: /app* -> authenticate-oidc at {idp.url}/authorize "
                      "(unauthenticated: deny), then forward to web", out)

    def test_export_round_trips_the_authenticate_action(self):
        (code, out, err), idp, template = self.check("export")
        self.assertEqual(code, 0, err)
        self.assertIn(f"  10 path_pattern: /app* -> authenticate-oidc at {idp.url}/authorize "
                      "(unauthenticated: deny), then forward to web", out)
        rule = [r for r in template["Resources"].values()
                if r["Type"] == "AWS::ElasticLoadBalancingV2::ListenerRule"][0]
        auth, fwd = rule["Properties"]["Actions"]
        self.assertEqual((auth["Type"], auth["Order"], fwd["Order"]), ("authenticate-oidc", 1, 2))
        self.assertEqual(auth["AuthenticateOidcConfig"]["OnUnauthenticatedRequest"], "deny")
        self.assertEqual(auth["AuthenticateOidcConfig"]["ClientSecret"], idp.client_secret)

    def test_http_listener_refuses_authenticate_at_its_position(self):
        (code, out, err), _ = self.check("HTTP")
        self.assertNotEqual(code, 0)
        self.assertRegex(err, r"rules/a\.yaml:5:\d+: authentication actions need an HTTPS listener")


if __name__ == "__main__":
    unittest.main()
