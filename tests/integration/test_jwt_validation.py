"""The jwt-validation action through the real ./lb (alb-listener-rules.md §2.5; AWS:
"Verify JWTs using an Application Load Balancer"): RS256 tokens the test signs with
openssl(1) against a JWKS file, expired, not yet valid, wrong issuer, wrong key, another
algorithm, missing, additional claims; ALB's 401 with WWW-Authenticate; the access log's
"authenticate" action; load-time errors with file:line:col.
"""
import base64
import json
import os
import subprocess
import tempfile
import time
import unittest

from lbcommon import ClassLb, config, get_raw, log_for, wait_stderr
from lbtest import run_lb

ISSUER = "https://idp.example.test"


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def openssl(*args, data=None):
    return subprocess.run(["openssl"] + list(args), input=data, capture_output=True, check=True,
                          timeout=60).stdout


class Key:
    """An RSA key made with openssl(1), its JWK, and RS256 signing."""

    def __init__(self, directory, kid):
        self.kid = kid
        self.path = os.path.join(directory, f"{kid}.pem")
        openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", self.path)
        modulus = openssl("rsa", "-in", self.path, "-noout", "-modulus").decode().strip()
        n = bytes.fromhex(modulus.split("=", 1)[1])
        self.jwk = {"kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid, "n": b64url(n),
                    "e": b64url((65537).to_bytes(3, "big"))}

    def token(self, claims, alg="RS256", kid=None):
        header = {"alg": alg, "typ": "JWT", "kid": kid or self.kid}
        signing_input = (b64url(json.dumps(header).encode()) + "." +
                         b64url(json.dumps(claims).encode())).encode()
        sig = openssl("dgst", "-sha256", "-sign", self.path, data=signing_input)
        return signing_input.decode() + "." + b64url(sig)


def claims(**extra):
    now = int(time.time())
    c = {"iss": ISSUER, "sub": "client-1", "exp": now + 600, "iat": now - 10, "aud": ["api", "other"],
         "scope": "read write"}
    c.update(extra)
    return {k: v for k, v in c.items() if v is not None}


RULES = f"""\
rules:
  - priority: 10
    conditions: [{{path_pattern: {{values: ["/api/*"]}}}}]
    actions:
      - type: jwt-validation
        jwt_validation:
          issuer: {ISSUER}
          jwks_endpoint: ../jwks.json
          additional_claims:
            - {{format: string-array, name: aud, values: [api]}}
            - {{format: space-separated-values, name: scope, values: [write, admin]}}
      - type: fixed-response
        fixed_response: {{status_code: "200", content_type: text/plain, message_body: "api ok"}}
  - priority: 20
    conditions: [{{path_pattern: {{values: ["/open"]}}}}]
    actions: [{{type: fixed-response, fixed_response: {{status_code: "200", message_body: "open"}}}}]
"""


class JwtValidationTests(ClassLb):
    @classmethod
    def setUpClass(cls):
        cls.keydir = tempfile.TemporaryDirectory(prefix="lbtest-keys-")
        cls.key = Key(cls.keydir.name, "k1")
        cls.other = Key(cls.keydir.name, "k2")    # not in the JWKS
        cls.CONFIG = config()
        cls.RULES = {"a.yaml": RULES}
        cls.FILES = {"jwks.json": json.dumps({"keys": [cls.key.jwk]})}
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        cls.keydir.cleanup()

    def call(self, path, token=None, scheme="Bearer"):
        headers = [f"Authorization: {scheme} {token}"] if token is not None else []
        return self.ask(get_raw(path, "api.example.com", headers))

    def assert_401(self, r, error=True):
        self.assertEqual(r.status, 401, r)
        self.assertIn(b"<title>401 Unauthorized</title>", r.body)
        want = 'Bearer error="invalid_token"' if error else "Bearer"
        self.assertEqual(r.header("WWW-Authenticate"), want)

    def test_a_valid_token_passes(self):
        r = self.call("/api/ok", self.key.token(claims()))
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body, b"api ok")
        e = log_for(self.lb, "/api/ok", timeout=15)
        self.assertEqual(e["actions_executed"], "authenticate,fixed-response")

    def test_no_token_is_401_without_an_error_code(self):
        self.assert_401(self.call("/api/none"), error=False)
        self.assert_401(self.call("/api/basic", "dXNlcjpwYXNz", scheme="Basic"), error=False)
        e = log_for(self.lb, "/api/none", timeout=15)
        self.assertEqual(e["elb_status_code"], "401")
        self.assertEqual(e["actions_executed"], "authenticate")
        self.assertEqual(e["matched_rule_priority"], "10")

    def test_expired_and_not_yet_valid_tokens_are_refused(self):
        now = int(time.time())
        self.assert_401(self.call("/api/expired", self.key.token(claims(exp=now - 5))))
        self.assertTrue(wait_stderr(self.lb, "jwt-validation: the token has expired: 401", timeout=15))
        self.assert_401(self.call("/api/nbf", self.key.token(claims(nbf=now + 3600))))
        self.assert_401(self.call("/api/noexp", self.key.token(claims(exp=None))))

    def test_wrong_issuer_is_refused(self):
        self.assert_401(self.call("/api/iss", self.key.token(claims(iss="https://evil.example"))))
        self.assert_401(self.call("/api/noiss", self.key.token(claims(iss=None))))

    def test_a_key_not_in_the_jwks_is_refused(self):
        self.assert_401(self.call("/api/k2", self.other.token(claims())))
        # Signed by k2 but claiming to be k1.
        self.assert_401(self.call("/api/k2as1", self.other.token(claims(), kid="k1")))
        self.assertTrue(wait_stderr(self.lb, "the token's signature does not verify", timeout=15))

    def test_only_rs256_is_accepted(self):
        # AWS: "Only the RS256 algorithm is supported".
        t = self.key.token(claims(), alg="ES256")
        self.assert_401(self.call("/api/es", t))
        self.assert_401(self.call("/api/none-alg", self.key.token(claims(), alg="none")))

    def test_a_tampered_token_is_refused(self):
        h, p, s = self.key.token(claims()).split(".")
        forged = b64url(json.dumps(claims(sub="admin")).encode())
        self.assert_401(self.call("/api/tamper", f"{h}.{forged}.{s}"))
        self.assert_401(self.call("/api/garbage", "not.a.jwt"))
        self.assert_401(self.call("/api/two", "a.b"))

    def test_additional_claims(self):
        self.assert_401(self.call("/api/aud", self.key.token(claims(aud=["other"]))))
        self.assert_401(self.call("/api/noaud", self.key.token(claims(aud=None))))
        self.assert_401(self.call("/api/scope", self.key.token(claims(scope="read"))))
        self.assertEqual(self.call("/api/admin", self.key.token(claims(scope="admin"))).status, 200)

    def test_rules_without_the_action_are_untouched(self):
        self.assertEqual(self.call("/open").status, 200)

    def test_explain_runs_the_check(self):
        good = self.key.token(claims())
        code, out, err = run_lb("explain", "-c", self.lb.config_path, "-H", f"Authorization: Bearer {good}",
                                f"http://api.example.com:{self.lb.port}/api/x")
        self.assertEqual(code, 0, err)
        self.assertIn(f"jwt-validation: the bearer token is valid (issuer {ISSUER})", out)
        code, out, err = run_lb("explain", "-c", self.lb.config_path, f"http://api.example.com:{self.lb.port}/api/x")
        self.assertIn("jwt-validation: no bearer token: ALB answers 401", out)


class JwtConfigTests(unittest.TestCase):
    def check(self, action, files=None):
        with tempfile.TemporaryDirectory(prefix="lbtest-") as d:
            os.makedirs(os.path.join(d, "rules"))
            with open(os.path.join(d, "lb.yaml"), "w") as f:
                f.write(config())
            for name, text in (files or {}).items():
                with open(os.path.join(d, name), "w") as f:
                    f.write(text)
            with open(os.path.join(d, "rules", "r.yaml"), "w") as f:
                f.write("rules:\n  - priority: 1\n    conditions: [{path_pattern: {values: [/a]}}]\n"
                        "    actions:\n" + action +
                        "      - {type: fixed-response, fixed_response: {status_code: \"200\"}}\n")
            return run_lb("check", "-c", os.path.join(d, "lb.yaml"), cwd=d)

    def jwt(self, body):
        return "      - type: jwt-validation\n        jwt_validation: " + body + "\n"

    def test_errors_name_the_place(self):
        code, _, err = self.check(self.jwt("{issuer: x, jwks_endpoint: ../nope.json}"))
        self.assertEqual(code, 1)
        self.assertRegex(err, r"rules/r\.yaml:6:52: cannot read the JWKS '.*nope\.json'")
        # a URL is fetched when lb serves (test_jwt_jwks_url.py), not by `lb check`
        code, _, err = self.check(self.jwt("{issuer: x, jwks_endpoint: 'https://idp/jwks'}"))
        self.assertEqual(code, 0, err)
        code, _, err = self.check(self.jwt("{issuer: x, jwks_endpoint: ../j.json}"), {"j.json": '{"keys": []}'})
        self.assertRegex(err, r"rules/r\.yaml:6:52: JWKS '.*j\.json': no RSA signing key")
        code, _, err = self.check(self.jwt("{issuer: x, jwks_endpoint: ../j.json, additional_claims: "
                                           "[{format: single-string, name: exp, values: [1]}]}"),
                                  {"j.json": json.dumps({"keys": [{"kty": "RSA", "n": "AQAB", "e": "AQAB"}]})})
        self.assertRegex(err, r"'exp' is validated by default: not an additional claim")

    def test_check_lists_the_action(self):
        jwks = json.dumps({"keys": [{"kty": "RSA", "n": "AQAB", "e": "AQAB"}]})
        code, out, err = self.check(self.jwt("{issuer: 'https://i', jwks_endpoint: ../j.json}"), {"j.json": jwks})
        self.assertEqual(code, 0, err)
        self.assertIn("      jwt-validation first: issuer https://i, 1 key from ../j.json\n", out)

    def test_the_routing_action_comes_last(self):
        code, _, err = self.check("      - {type: fixed-response, order: 1, fixed_response: {status_code: \"200\"}}\n")
        self.assertRegex(err, r"a rule has exactly one routing action")


if __name__ == "__main__":
    unittest.main()
