"""Regex conditions and rule transforms through the real ./lb
(alb-listener-rules.md §1.4, §2.6): which rule a regex picks, what an HTTP target and a
Lambda function receive after a host-header-rewrite or url-rewrite, the access log's
transform fields, ALB's 500 when a rewrite fails, `lb check` refusing ALB's unsupported
regex features with file:line:col, and `lb explain` showing the rewritten request.
"""
import json
import os
import re
import signal
import tempfile
import textwrap
import unittest

from backend import Backend
from httpcommon import echo, forward_config, http_group
from lambdacommon import ECHO_PY, PYTHON, SharedLbCase, fn, lambda_config, raw_request, tg
from lbcommon import ClassLb, config, fixed, get_raw, log_for, rules_file, wait_for, wait_stderr
from lbtest import Lb, LbTestCase, run_lb

DEFAULT = "no rule matched"

REGEX_RULES = rules_file(
    fixed(10, '[{host_header: {regex_values: ["^api[0-9]+\\\\.example\\\\.com:8443$"]}}]', "host-port"),
    fixed(11, '[{host_header: {regex_values: ["(?i)^www\\\\.example\\\\.org$"]}}]', "host-nocase"),
    fixed(20, '[{path_pattern: {regex_values: ["^/items/[0-9]+$", "^/legacy/"]}}]', "path"),
    fixed(21, '[{path_pattern: {regex_values: ["^/Case$"]}}]', "path-case"),
    fixed(30, '[{path_pattern: {values: ["/hdr"]}}, '
              '{http_header: {http_header_name: X-Version, regex_values: ["^v[2-9]$"]}}]', "header"),
    fixed(40, '[{path_pattern: {regex_values: ["search"]}}]', "unanchored"),
)


class RegexConditionTests(ClassLb):
    RULES = {"a.yaml": REGEX_RULES}

    def which(self, path, host="paths.test", headers=()):
        r = self.ask(get_raw(path, host, headers))
        self.assertEqual(r.status, 404 if r.body.decode() == DEFAULT else 200, r)
        return r.body.decode()

    def test_host_regex_sees_the_port(self):
        self.assertEqual(self.which("/", host="api7.example.com:8443"), "host-port")
        self.assertEqual(self.which("/", host="api7.example.com"), DEFAULT)
        self.assertEqual(self.which("/", host="api7.example.com:8080"), DEFAULT)

    def test_host_regex_is_case_sensitive_unless_it_says_otherwise(self):
        self.assertEqual(self.which("/", host="API7.example.com:8443"), DEFAULT)
        self.assertEqual(self.which("/", host="WWW.Example.ORG"), "host-nocase")

    def test_path_regex_values_are_or(self):
        self.assertEqual(self.which("/items/42"), "path")
        self.assertEqual(self.which("/legacy/x/y"), "path")
        self.assertEqual(self.which("/items/42x"), DEFAULT)

    def test_path_regex_excludes_the_query(self):
        self.assertEqual(self.which("/items/42?page=2"), "path")
        self.assertEqual(self.which("/x?search=1"), DEFAULT)

    def test_path_regex_is_case_sensitive(self):
        self.assertEqual(self.which("/Case"), "path-case")
        self.assertEqual(self.which("/case"), DEFAULT)

    def test_header_regex(self):
        self.assertEqual(self.which("/hdr", headers=["X-Version: v3"]), "header")
        self.assertEqual(self.which("/hdr", headers=["x-version: v1", "X-Version: v9"]), "header")
        self.assertEqual(self.which("/hdr", headers=["X-Version: v10"]), DEFAULT)

    def test_regex_is_a_search_unless_anchored(self):
        self.assertEqual(self.which("/a/search/b"), "unanchored")


class CheckTests(unittest.TestCase):
    """lb check refuses ALB's unsupported regex features, naming file:line:col."""

    def check(self, rules, *explain):
        """lb check, or with a URL lb explain, over one rules file."""
        with tempfile.TemporaryDirectory(prefix="lbtest-") as d:
            os.makedirs(os.path.join(d, "rules"))
            with open(os.path.join(d, "lb.yaml"), "w") as f:
                f.write(textwrap.dedent("""\
                    listeners:
                      - port: 0
                        rules: ["rules/*.yaml"]
                        default_actions: [{type: fixed-response, fixed_response: {status_code: "404"}}]
                    """))
            with open(os.path.join(d, "rules", "r.yaml"), "w") as f:
                f.write(rules)
            cmd = ("explain", "-c", os.path.join(d, "lb.yaml"), *explain) if explain else \
                ("check", "-c", os.path.join(d, "lb.yaml"))
            return run_lb(*cmd, cwd=d)

    def refused(self, regex, message):
        rules = ("rules:\n  - priority: 1\n"
                 f"    conditions: [{{path_pattern: {{regex_values: ['{regex}']}}}}]\n"
                 "    actions: [{type: fixed-response, fixed_response: {status_code: \"200\"}}]\n")
        code, out, err = self.check(rules)
        self.assertEqual(code, 1, out + err)
        self.assertRegex(err, r"rules/r\.yaml:3:49: regex '" + re.escape(regex) + "': " + re.escape(message))

    def test_unsupported_features_are_refused(self):
        self.refused("^/a(?=b)", "a lookahead at offset 3 is not supported")
        self.refused("(?<!a)b", "a lookbehind at offset 0 is not supported")
        self.refused("(a)\\1", "a backreference at offset 3 is not supported")
        self.refused("(?>a)", "an atomic group at offset 0 is not supported")
        self.refused("a++", "a possessive quantifier at offset 2 is not supported")
        self.refused("(a)(?1)", "recursion or a subroutine call at offset 3 is not supported")
        self.refused("\\p{L}", "a Unicode class at offset 0 is not supported")

    def test_the_check_reads_the_regex_as_pcre2_does(self):
        # A lookahead's text in a comment is none; a possessive '+' after a (?x) space is one.
        rules = ("rules:\n  - priority: 1\n"
                 "    conditions: [{path_pattern: {regex_values: ['^/a(?#(?=b)/']}}]\n"
                 "    actions: [{type: fixed-response, fixed_response: {status_code: \"200\"}}]\n"
                 "    transforms: [{type: url-rewrite, rewrites: [{regex: '^/a(?#(?=x)/(.*)$', replace: '/b/$1'}]}]\n")
        code, out, err = self.check(rules)
        self.assertEqual(code, 0, err)
        code, out, err = self.check(rules, "http://h.example.com/a/q")
        self.assertEqual(code, 0, err)
        self.assertIn("url-rewrite: /a/q -> /b/q", out)
        self.refused("(?x)^/a+ +", "a possessive quantifier at offset 9 is not supported")

    def test_a_missing_group_is_named_as_written(self):
        rules = ("rules:\n  - priority: 1\n"
                 "    conditions: [{path_pattern: {values: ['/a/*']}}]\n"
                 "    actions: [{type: fixed-response, fixed_response: {status_code: \"200\"}}]\n"
                 "    transforms: [{type: url-rewrite, rewrites: [{regex: '^/a/(.*)$', replace: '/b/$999999999999'}]}]\n")
        code, out, err = self.check(rules)
        self.assertEqual(code, 1, out + err)
        self.assertIn("rules/r.yaml:5:79: 'replace' refers to group $999999999999, but the regex has 1", err)

    def test_syntax_errors_carry_pcre2s_message(self):
        self.refused("^/a(b", "missing closing parenthesis at offset 5")

    def test_check_summary_shows_regexes_and_transforms(self):
        rules = ("rules:\n  - priority: 1\n"
                 "    conditions: [{path_pattern: {regex_values: ['^/a/(.*)$']}}]\n"
                 "    actions: [{type: fixed-response, fixed_response: {status_code: \"200\"}}]\n"
                 "    transforms: [{type: url-rewrite, rewrites: [{regex: '^/a/(.*)$', replace: '/b/$1'}]}]\n")
        code, out, err = self.check(rules)
        self.assertEqual(code, 0, err)
        self.assertIn("1 path_pattern ~ ^/a/(.*)$ -> fixed-response 200\n"
                      "      url-rewrite ^/a/(.*)$ -> /b/$1\n", out)


class ReloadTests(LbTestCase):
    """Compiled regexes live and die with their configuration: a reload swaps them,
    a failed reload keeps the old ones, and lb exits clean (no leak) afterwards."""

    def hup(self, lb, expect):
        before = len(lb.stderr())
        lb.signal(signal.SIGHUP)
        self.assertTrue(wait_for(lambda: expect in lb.stderr()[before:], timeout=20), lb.stderr())

    def test_reload_swaps_regexes(self):
        v1 = rules_file(fixed(1, '[{path_pattern: {regex_values: ["^/v1/"]}}]', "one"))
        v2 = rules_file(fixed(1, '[{path_pattern: {regex_values: ["^/v2/"]}}]', "two"))
        bad = rules_file(fixed(1, '[{path_pattern: {regex_values: ["^/v3(?=x)"]}}]', "three"))
        lb = self.start(config(), rules={"a.yaml": v1})
        self.assertEqual(lb.get("/v1/x").body, b"one")
        lb.write("rules/a.yaml", v2)
        self.hup(lb, "reloaded")
        self.assertEqual(lb.get("/v1/x").status, 404)
        self.assertEqual(lb.get("/v2/x").body, b"two")
        lb.write("rules/a.yaml", bad)
        self.hup(lb, "a lookahead at offset 4 is not supported")
        self.assertEqual(lb.get("/v2/x").body, b"two")


TRANSFORM_RULES = """\
rules:
  - priority: 10
    conditions: [{path_pattern: {values: ["/dp/*"]}}]
    actions: [{type: forward, target_group: web}]
    transforms:
      - type: url-rewrite
        rewrites: [{regex: "^/dp/([A-Za-z0-9]+)(\\\\?.*)?$", replace: "/echo/product?id=$1"}]
      - type: host-header-rewrite
        rewrites: [{regex: "^mywebsite-(.+)\\\\.com$", replace: "internal.dev.$1.myweb.com"}]
  - priority: 20
    conditions: [{path_pattern: {values: ["/host/*"]}}]
    actions: [{type: forward, target_group: web}]
    transforms:
      - type: host-header-rewrite
        host_header_rewrite_config:
          rewrites: [{regex: "^(.+)\\\\.example\\\\.com$", replace: "$1.internal"}]
  - priority: 30
    conditions: [{path_pattern: {values: ["/broken/*"]}}]
    actions: [{type: forward, target_group: web}]
    transforms:
      - type: url-rewrite
        rewrites: [{regex: "^/broken/(.*)$", replace: "no-leading-slash/$1"}]
  - priority: 40
    conditions: [{path_pattern: {regex_values: ["^/old/"]}}]
    actions: [{type: redirect, redirect: {path: "/moved/#{path}", status_code: HTTP_302}}]
    transforms:
      - type: url-rewrite
        rewrites: [{regex: "^/old/", replace: "/new/"}]
"""


class HttpTargetTransformTests(ClassLb):
    @classmethod
    def setUpClass(cls):
        cls.backend = Backend("a").start()
        cls.CONFIG = forward_config([http_group("web", [cls.backend], health="{path: /health}")])
        cls.RULES = {"t.yaml": TRANSFORM_RULES}
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        cls.backend.stop()

    def test_url_and_host_rewrite_reach_the_target(self):
        r = self.ask(get_raw("/dp/B0042?ref=mail", host="mywebsite-blue.com"))
        self.assertEqual(r.status, 200, r)
        seen = echo(r)
        self.assertEqual(seen["target"], "/echo/product?id=B0042")
        hosts = [v for n, v in seen["headers"] if n.lower() == "host"]
        self.assertEqual(hosts, [f"internal.dev.blue.myweb.com:{self.lb.port}"])
        e = log_for(self.lb, "/dp/B0042?ref=mail", timeout=15)
        self.assertIsNotNone(e)
        # The request field is the request as received; the new values are in 31-33.
        self.assertEqual(e["request"], f"GET http://mywebsite-blue.com:{self.lb.port}/dp/B0042?ref=mail HTTP/1.1")
        self.assertEqual(e["transformed_host"], "internal.dev.blue.myweb.com")
        self.assertEqual(e["transformed_uri"], "/echo/product?id=B0042")
        self.assertEqual(e["request_transform_status"], "success")
        self.assertEqual(e["matched_rule_priority"], "10")

    def test_a_regex_that_does_not_match_sends_the_original(self):
        r = self.ask(get_raw("/dp/B0042", host="other.example.net"))
        self.assertEqual(r.status, 200, r)
        seen = echo(r)
        self.assertEqual(seen["target"], "/echo/product?id=B0042")
        hosts = [v for n, v in seen["headers"] if n.lower() == "host"]
        self.assertEqual(hosts, [f"other.example.net:{self.lb.port}"])
        e = log_for(self.lb, "GET http://other.example.net", timeout=15)
        self.assertEqual(e["transformed_host"], "-")
        self.assertEqual(e["transformed_uri"], "/echo/product?id=B0042")

    def test_host_rewrite_in_the_api_shape_keeps_the_clients_port(self):
        r = self.ask(get_raw("/host/x", host="shop.example.com:9000"))
        self.assertEqual(r.status, 200, r)
        seen = echo(r)
        self.assertEqual(seen["target"], "/host/x")
        hosts = [v for n, v in seen["headers"] if n.lower() == "host"]
        self.assertEqual(hosts, ["shop.internal:9000"])
        e = log_for(self.lb, "/host/x", timeout=15)
        self.assertEqual(e["transformed_uri"], "-")
        self.assertEqual(e["transformed_host"], "shop.internal")

    def test_a_failed_rewrite_is_albs_500(self):
        self.backend.clear()
        r = self.ask(get_raw("/broken/thing", host="h.example.com"))
        self.assertEqual(r.status, 500, r)
        self.assertIn(b"500 Internal Server Error", r.body)
        self.assertEqual(self.backend.requests, [])
        e = log_for(self.lb, "/broken/thing", timeout=15)
        self.assertEqual(e["elb_status_code"], "500")
        self.assertEqual(e["request_transform_status"], "failed")
        self.assertEqual(e["matched_rule_priority"], "30")
        self.assertTrue(wait_stderr(self.lb, "rule 30: a transform failed", timeout=15))
        # lb keeps serving.
        self.assertEqual(self.ask(get_raw("/host/y", host="a.example.com")).status, 200)

    def test_a_redirect_sees_the_rewritten_path(self):
        r = self.ask(get_raw("/old/page", host="h.example.com"))
        self.assertEqual(r.status, 302, r)
        self.assertEqual(r.header("Location"), f"http://h.example.com:{self.lb.port}/moved/new/page")

    def test_explain_shows_the_rewritten_request(self):
        code, out, err = run_lb("explain", "-c", self.lb.config_path,
                                f"http://mywebsite-blue.com:{self.lb.port}/dp/B0042?ref=1")
        self.assertEqual(code, 0, err)
        self.assertIn("host-header-rewrite: mywebsite-blue.com -> internal.dev.blue.myweb.com", out)
        self.assertIn("url-rewrite: /dp/B0042?ref=1 -> /echo/product?id=B0042", out)
        self.assertIn(f"GET /echo/product?id=B0042 HTTP/1.1", out)
        self.assertIn(f"Host: internal.dev.blue.myweb.com:{self.lb.port}", out)
        code, out, err = run_lb("explain", "-c", self.lb.config_path,
                                f"http://a.example.com:{self.lb.port}/broken/x")
        self.assertEqual(code, 0, err)
        self.assertIn("transform: failed", out)
        self.assertIn("ALB answers 500", out)


class LambdaTransformTests(SharedLbCase):
    FUNCTIONS = [fn("echopy", PYTHON, "echo.handler")]
    TARGET_GROUPS = [tg("pys", "echopy")]
    FILES = {"fn/echo.py": ECHO_PY}
    ROUTES = [([{"path_pattern": {"regex_values": ["^/api/v[0-9]+/"]}}], "pys")]

    @classmethod
    def setUpClass(cls):
        config, rules = lambda_config(cls.FUNCTIONS, cls.TARGET_GROUPS, cls.ROUTES)
        # lambda_config's one rule, with transforms added.
        rules["lambda.yaml"] += ("    transforms:\n"
                                 "      - type: url-rewrite\n"
                                 "        rewrites: [{regex: '^/api/v[0-9]+/(.*)$', replace: '/$1'}]\n"
                                 "      - type: host-header-rewrite\n"
                                 "        rewrites: [{regex: '^example\\.com$', replace: 'backend.internal'}]\n")
        cls.lb = Lb(config, rules=rules, files=cls.FILES)
        try:
            cls.lb.start()
        except Exception:
            cls.lb.tmp.cleanup()
            raise

    def test_the_event_carries_the_rewritten_path_query_and_host(self):
        r = self.lb.request(raw_request("GET", "/api/v2/users?tag=a&page=3"))
        self.assertEqual(r.status, 200, r)
        ev = json.loads(r.body)["event"]
        self.assertEqual(ev["path"], "/users")
        self.assertEqual(ev["queryStringParameters"], {"tag": "a", "page": "3"})
        self.assertEqual(ev["headers"]["host"], f"backend.internal:{self.lb.port}")


if __name__ == "__main__":
    unittest.main()
