"""The command line: lb check, lb explain, --help, --version (DESIGN.md §4).

Broken configurations must be refused with exit status 1 and one message
"FILE:LINE:COL: what is wrong", pointing at the offending value.
"""
import os
import re
import tempfile
import textwrap
import unittest

from lbtest import run_lb

MAIN = """\
load_balancer:
  name: cli-alb
  region: eu-west-1
  account_id: "111122223333"
listeners:
  - port: 8080
    rules: ["rules/*.yaml"]
    default_actions:
      - type: fixed-response
        fixed_response: {status_code: "404", content_type: text/plain, message_body: "no rule matched"}
target_groups:
  - name: api
    target_type: lambda
"""

GOOD_RULES = """\
rules:
  - priority: 20
    conditions:
      - path_pattern: {values: ["/api/*"]}
      - http_request_method: {values: [GET, POST]}
    actions:
      - type: forward
        target_group: api
  - priority: 10
    conditions:
      - host_header: {values: [old.example.com]}
    actions:
      - type: redirect
        redirect: {host: new.example.com, path: "/v2/#{path}", status_code: HTTP_302}
  - priority: 30
    conditions:
      - http_header: {http_header_name: X-Env, values: [beta]}
      - query_string: {values: [{key: v, value: "1"}, {value: "*x*"}]}
      - source_ip: {values: ["10.0.0.0/8", "::1/128"]}
    actions:
      - type: fixed-response
        fixed_response: {status_code: "200", message_body: hi}
"""

FIXED = '[{type: fixed-response, fixed_response: {status_code: "200"}}]'


def rule(conditions, actions=FIXED, priority=1):
    return f"  - priority: {priority}\n    conditions: {conditions}\n    actions: {actions}\n"


class CliCase(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="lbcli-")
        self.addCleanup(self.tmp.cleanup)
        self.dir = self.tmp.name
        os.makedirs(os.path.join(self.dir, "rules"))

    def write(self, name, text):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(textwrap.dedent(text))
        return path

    def setup_config(self, main=MAIN, rules=None):
        self.write("lb.yaml", main)
        for name, text in (rules if rules is not None else {"api.yaml": GOOD_RULES}).items():
            self.write(os.path.join("rules", name), text)
        return os.path.join(self.dir, "lb.yaml")

    def lb(self, *args):
        code, out, err = run_lb(*args, cwd=self.dir)
        self.assertNotIn("Sanitizer", err)
        self.assertNotIn("runtime error", err)
        return code, out, err


class CheckTest(CliCase):

    def test_check_ok_prints_the_summary(self):
        self.setup_config()
        code, out, err = self.lb("check", "-c", "lb.yaml")
        self.assertEqual((code, err), (0, ""))
        lines = out.splitlines()
        self.assertRegex(lines[0], r"^load balancer cli-alb \(app/cli-alb/[0-9a-f]{16}\), eu-west-1, "
                                   r"account 111122223333$")
        self.assertEqual(lines[1:6], [
            "listener http://127.0.0.1:8080",
            "  10 host_header: old.example.com -> redirect 302 to "
            "#{protocol}://new.example.com:#{port}/v2/#{path}?#{query}",
            "  20 path_pattern: /api/* AND http_request_method: GET, POST -> forward to api",
            "  30 http_header X-Env: beta AND query_string: v=1, (any key)=*x* AND "
            "source_ip: 10.0.0.0/8, ::1/128 -> fixed-response 200",
            "  default -> fixed-response 404 text/plain",
        ])
        self.assertEqual(lines[6], "target group api: lambda, single-value headers, no target")
        self.assertRegex(lines[7], r"^  arn:aws:elasticloadbalancing:eu-west-1:111122223333:"
                                   r"targetgroup/api/[0-9a-f]{16}$")
        self.assertEqual(len(lines), 8)

    def test_check_ids_are_stable(self):
        self.setup_config()
        first = self.lb("check", "-c", "lb.yaml")[1]
        self.assertEqual(self.lb("check", "-c", "lb.yaml")[1], first)
        self.write("lb.yaml", MAIN.replace("cli-alb", "other-alb"))
        other = self.lb("check", "-c", "lb.yaml")[1]
        id1 = re.search(r"app/cli-alb/([0-9a-f]{16})", first).group(1)
        id2 = re.search(r"app/other-alb/([0-9a-f]{16})", other).group(1)
        self.assertNotEqual(id1, id2)

    def test_check_missing_file(self):
        code, out, err = self.lb("check", "-c", "nope.yaml")
        self.assertEqual(code, 1)
        self.assertEqual(out, "")
        self.assertIn("nope.yaml", err)

    # --- broken configurations ---------------------------------------------------------

    def broken(self, rules=None, main=MAIN, where="rules/a.yaml", line=None, col=None,
               message=None):
        """lb check fails with exactly 'where:line:col: message...' on stderr."""
        path = self.setup_config(main, rules if rules is not None else {})
        code, out, err = self.lb("check", "-c", path)
        self.assertEqual(code, 1, out + err)
        self.assertEqual(out, "")
        self.assertEqual(err.count("\n"), 1, err)
        want = f"{os.path.join(self.dir, where)}:{line}:{col}: "
        self.assertTrue(err.startswith(want), f"{err!r} does not start with {want!r}")
        self.assertRegex(err[len(want):], message)
        # lb refuses to serve the same configuration, with the same message
        code2, out2, err2 = self.lb("-c", path)
        self.assertEqual((code2, out2), (1, ""))
        self.assertEqual(err2, "lb: error: " + err)

    def test_unknown_key(self):
        self.broken({"a.yaml": "rules:\n  - priority: 1\n    conditons: [{path_pattern: {values: [/a]}}]\n"
                               f"    actions: {FIXED}\n"},
                    line=3, col=5, message=r"^unknown key 'conditons'")

    def test_unknown_key_in_main_config(self):
        self.broken({"a.yaml": "rules: []\n"},
                    main=MAIN.replace("  region: eu-west-1\n", "  region: eu-west-1\n  regoin: x\n"),
                    where="lb.yaml", line=4, col=3, message=r"^unknown key 'regoin'")

    def test_unknown_condition_type(self):
        self.broken({"a.yaml": "rules:\n" + rule("[{path: {values: [/a]}}]")},
                    line=3, col=19, message=r"^unknown key 'path'")

    def test_priority_zero(self):
        self.broken({"a.yaml": "rules:\n" + rule('[{path_pattern: {values: [/a]}}]', priority=0)},
                    line=2, col=15, message=r"^'priority' must be between 1 and 50000, not 0$")

    def test_priority_too_big(self):
        self.broken({"a.yaml": "rules:\n" + rule('[{path_pattern: {values: [/a]}}]', priority=50001)},
                    line=2, col=15, message=r"^'priority' must be between 1 and 50000, not 50001$")

    def test_priority_not_a_number(self):
        self.broken({"a.yaml": "rules:\n" + rule('[{path_pattern: {values: [/a]}}]', priority="ten")},
                    line=2, col=15, message=r"priority")

    def test_duplicate_priority_across_files(self):
        a = "rules:\n" + rule('[{path_pattern: {values: [/a]}}]', priority=5)
        b = ("rules:\n" + rule('[{path_pattern: {values: [/b]}}]', priority=7)
             + rule('[{path_pattern: {values: [/c]}}]', priority=5))
        self.broken({"a.yaml": a, "b.yaml": b}, where="rules/b.yaml", line=5, col=15,
                    message=r"^duplicate priority 5 \(also at " +
                            re.escape(os.path.join(self.dir, "rules", "a.yaml")) + r":2:\d+\)$")

    def test_too_many_values_in_a_condition(self):
        self.broken({"a.yaml": "rules:\n" + rule('[{path_pattern: {values: [/a, /b, /c, /d]}}]')},
                    line=3, col=55, message=r"^a path_pattern condition has at most 3 values$")

    def test_too_many_values_in_a_rule(self):
        conds = ('[{path_pattern: {values: [/a, /b, /c]}}, '
                 '{http_request_method: {values: [GET, PUT, POST]}}]')
        self.broken({"a.yaml": "rules:\n" + rule(conds)},
                    line=3, col=100, message=r"^a rule has at most 5 condition values$")

    def test_too_many_wildcards_in_a_rule(self):
        self.broken({"a.yaml": "rules:\n" + rule('[{path_pattern: {values: ["/a*b*c*d*e*f*"]}}]')},
                    line=3, col=43, message=r"^a rule has at most 5 wildcards")

    def test_bad_cidr_prefix(self):
        self.broken({"a.yaml": "rules:\n" + rule('[{source_ip: {values: ["10.0.0.0/33"]}}]')},
                    line=3, col=40, message=r"^source_ip value '10\.0\.0\.0/33' must be an IPv4 or "
                                            r"IPv6 CIDR block$")

    def test_bad_cidr_address(self):
        self.broken({"a.yaml": "rules:\n" + rule('[{source_ip: {values: ["10.0.0.0/8", "300.1.1.1/8"]}}]')},
                    line=3, col=54, message=r"^source_ip value '300\.1\.1\.1/8'")

    def test_cidr_without_prefix(self):
        self.broken({"a.yaml": "rules:\n" + rule('[{source_ip: {values: ["10.0.0.1"]}}]')},
                    line=3, col=40, message=r"CIDR")

    def test_fixed_response_status_302(self):
        self.broken({"a.yaml": "rules:\n" + rule('[{path_pattern: {values: [/a]}}]',
                                                 '[{type: fixed-response, fixed_response: {status_code: "302"}}]')},
                    line=4, col=68, message=r"^'status_code' must be a 2XX, 4XX or 5XX code, not '302'$")

    def test_fixed_response_status_600(self):
        self.broken({"a.yaml": "rules:\n" + rule('[{path_pattern: {values: [/a]}}]',
                                                 '[{type: fixed-response, fixed_response: {status_code: "600"}}]')},
                    line=4, col=68, message=r"not '600'")

    def test_fixed_response_bad_content_type(self):
        self.broken({"a.yaml": "rules:\n" + rule(
            '[{path_pattern: {values: [/a]}}]',
            '[{type: fixed-response, fixed_response: {status_code: "200", content_type: text/xml}}]')},
            line=4, col=89, message=r"^'content_type' must be text/plain, text/css, text/html, application/javascript or application/json, not 'text/xml'$")

    def test_fixed_response_body_over_1024(self):
        body = "b" * 1025
        self.broken({"a.yaml": "rules:\n" + rule(
            '[{path_pattern: {values: [/a]}}]',
            '[{type: fixed-response, fixed_response: {status_code: "200", message_body: ' + body + '}}]')},
            line=4, col=89, message=r"^'message_body' must be at most 1024 bytes$")

    def test_redirect_loop_query_only(self):
        self.broken({"a.yaml": "rules:\n" + rule(
            '[{path_pattern: {values: [/a]}}]',
            '[{type: redirect, redirect: {query: "x=1", status_code: HTTP_301}}]')},
            line=4, col=42, message=r"^redirect would loop: change the protocol, host, port or path$")

    def test_redirect_loop_with_placeholders(self):
        self.broken({"a.yaml": "rules:\n" + rule(
            '[{path_pattern: {values: [/a]}}]',
            '[{type: redirect, redirect: {host: "#{host}", path: "/#{path}", port: "#{port}", '
            'status_code: HTTP_301}}]')},
            line=4, col=42, message=r"^redirect would loop")

    def test_redirect_path_must_be_absolute(self):
        self.broken({"a.yaml": "rules:\n" + rule(
            '[{path_pattern: {values: [/a]}}]',
            '[{type: redirect, redirect: {path: "x/#{path}", status_code: HTTP_301}}]')},
            line=4, col=49, message=r"^'path' must be an absolute path")

    def test_redirect_bad_status(self):
        self.broken({"a.yaml": "rules:\n" + rule(
            '[{path_pattern: {values: [/a]}}]',
            '[{type: redirect, redirect: {host: a.example.com, status_code: HTTP_307}}]')},
            line=4, col=77, message=r"HTTP_307")

    def test_forward_to_undefined_target_group(self):
        self.broken({"a.yaml": "rules:\n" + rule('[{path_pattern: {values: [/a]}}]',
                                                 '[{type: forward, target_group: nope}]')},
                    line=4, col=45, message=r"^target group 'nope' is not defined$")

    def test_two_routing_actions(self):
        self.broken({"a.yaml": "rules:\n" + rule(
            '[{path_pattern: {values: [/a]}}]',
            '[{type: forward, target_group: api}, {type: fixed-response, fixed_response: {status_code: "200"}}]')},
            line=4, col=51, message=r"exactly one routing action")

    def test_rule_without_conditions(self):
        self.broken({"a.yaml": "rules:\n" + rule('[]')},
                    line=3, col=17, message=r"^a rule needs at least one condition$")

    def test_http_header_cannot_match_host(self):
        self.broken({"a.yaml": "rules:\n" + rule('[{http_header: {http_header_name: Host, values: [a]}}]')},
                    line=3, col=51, message=r"use host_header")

    def test_method_is_upper_case(self):
        self.broken({"a.yaml": "rules:\n" + rule('[{http_request_method: {values: [get]}}]')},
                    line=3, col=50, message=r"may hold only A-Z")

    def test_host_pattern_needs_a_dot(self):
        self.broken({"a.yaml": "rules:\n" + rule('[{host_header: {values: [localhost]}}]')},
                    line=3, col=42, message=r"needs a '\.'")

    def test_rule_file_for_another_listener(self):
        self.broken({"a.yaml": "listener: 9999\nrules:\n" + rule('[{path_pattern: {values: [/a]}}]')},
                    line=1, col=11, message=r"^no listener with port 9999 loads this file$")

    def test_plain_rule_path_matching_nothing(self):
        # A wildcard may match nothing (an empty rules directory); a plain path may not.
        self.broken({}, main=MAIN.replace('rules: ["rules/*.yaml"]', 'rules: ["none/api.yaml"]'),
                    where="lb.yaml", line=7, col=13, message=r"^'none/api\.yaml' matches no file$")

    def test_wildcard_in_a_missing_directory_loads_with_a_warning(self):
        # An empty rules directory is fine; one that does not exist is most likely a typo.
        main = MAIN.replace('rules: ["rules/*.yaml"]', 'rules: ["rulez/*.yaml"]')
        path = self.setup_config(main, {})
        code, out, err = self.lb("check", "-c", path)
        self.assertEqual(code, 0, err)
        self.assertIn(f"lb: warning: {os.path.join(self.dir, 'lb.yaml')}:7:13: 'rulez/*.yaml' matches no "
                      f"file: there is no directory '{os.path.join(self.dir, 'rulez')}/'", err)
        code, out, err = self.lb("check", "-c", self.setup_config(MAIN, {}))
        self.assertNotIn("matches no file", err)

    def test_duplicate_yaml_key(self):
        self.broken({"a.yaml": "rules:\n  - priority: 1\n    priority: 2\n"
                               "    conditions: [{path_pattern: {values: [/a]}}]\n"
                               f"    actions: {FIXED}\n"},
                    line=3, col=5, message=r"priority")

    def test_bad_attribute_value(self):
        self.broken({"a.yaml": "rules: []\n"},
                    main=MAIN.replace("  account_id: \"111122223333\"\n",
                                      "  account_id: \"111122223333\"\n  attributes:\n"
                                      "    routing.http.desync_mitigation_mode: paranoid\n"),
                    where="lb.yaml", line=6, col=42, message=r"paranoid")

    def test_idle_timeout_out_of_range(self):
        self.broken({"a.yaml": "rules: []\n"},
                    main=MAIN.replace("  account_id: \"111122223333\"\n",
                                      "  account_id: \"111122223333\"\n  attributes:\n"
                                      "    idle_timeout.timeout_seconds: 4001\n"),
                    where="lb.yaml", line=6, col=35, message=r"between 1 and 4000")

    def test_duplicate_listener(self):
        listeners = MAIN.split("listeners:\n")[1].split("target_groups:")[0]
        self.broken({"a.yaml": "rules: []\n"},
                    main=MAIN.replace(listeners, listeners + listeners),
                    where="lb.yaml", line=11, col=11, message=r"already defined on line 6")


class ExplainTest(CliCase):

    def setUp(self):
        super().setUp()
        self.setup_config()

    def explain(self, *args):
        code, out, err = self.lb("explain", "-c", "lb.yaml", *args)
        self.assertEqual((code, err), (0, ""), out + err)
        return out.splitlines()

    def test_forward_shows_misses_match_and_headers_toward_target(self):
        lines = self.explain("-X", "POST", "-H", "X-Forwarded-For: 203.0.113.9",
                             "-H", "X-Amzn-Trace-Id: Root=1-67891233-abcdef012345678912345678",
                             "http://www.example.com:8080/api/users?id=7")
        self.assertEqual(lines[:10], [
            "request: POST http://www.example.com:8080/api/users?id=7 from 127.0.0.1",
            "listener: http://127.0.0.1:8080 (3 rules)",
            "  rule 10 (rules/api.yaml:9): no match, host_header: old.example.com did not match",
            "matched: rule 20 (rules/api.yaml:2)",
            "action: forward to api",
            "headers toward the target:",
            "  Host: www.example.com:8080",
            "  X-Forwarded-For: 203.0.113.9, 127.0.0.1",
            "  X-Forwarded-Proto: http",
            "  X-Forwarded-Port: 8080",
        ])
        self.assertRegex(lines[10], r"^  X-Amzn-Trace-Id: Self=1-[0-9a-f]{8}-[0-9a-f]{24};"
                                    r"Root=1-67891233-abcdef012345678912345678$")
        # the target group has no target: what ALB would answer instead of an event
        self.assertEqual(lines[11:], ["target group api has no target: ALB answers 503"])

    def test_a_host_header_replaces_the_urls_as_curl_does(self):
        lines = self.explain("-H", "Host: old.example.com", "http://127.0.0.1:8080/a/b")
        self.assertEqual(lines[:3], ["request: GET http://127.0.0.1:8080/a/b from 127.0.0.1",
                                     "listener: http://127.0.0.1:8080 (3 rules)",
                                     "matched: rule 10 (rules/api.yaml:9)"])

    def test_forward_without_trace_gets_a_root(self):
        lines = self.explain("http://www.example.com:8080/api/x")
        trace = [l for l in lines if l.startswith("  X-Amzn-Trace-Id: ")]
        self.assertEqual(len(trace), 1, lines)
        self.assertRegex(trace[0], r"^  X-Amzn-Trace-Id: Root=1-[0-9a-f]{8}-[0-9a-f]{24}$")
        self.assertIn("  X-Forwarded-For: 127.0.0.1", lines)

    def test_redirect_shows_location(self):
        self.assertEqual(self.explain("http://old.example.com:8080/a/b?c=d"), [
            "request: GET http://old.example.com:8080/a/b?c=d from 127.0.0.1",
            "listener: http://127.0.0.1:8080 (3 rules)",
            "matched: rule 10 (rules/api.yaml:9)",
            "action: redirect 302 to #{protocol}://new.example.com:#{port}/v2/#{path}?#{query}",
            "Location: http://new.example.com:8080/v2/a/b?c=d",
        ])

    def test_every_failing_condition_and_the_default_rule(self):
        self.assertEqual(self.explain("-X", "DELETE", "http://h.example.com:8080/api/x"), [
            "request: DELETE http://h.example.com:8080/api/x from 127.0.0.1",
            "listener: http://127.0.0.1:8080 (3 rules)",
            "  rule 10 (rules/api.yaml:9): no match, host_header: old.example.com did not match",
            "  rule 20 (rules/api.yaml:2): no match, http_request_method: GET, POST did not match",
            "  rule 30 (rules/api.yaml:15): no match, http_header X-Env: beta did not match",
            "matched: the default rule (no other rule matched)",
            "action: fixed-response 404 text/plain",
        ])

    def test_source_ip_and_headers_decide(self):
        lines = self.explain("--source-ip", "10.1.2.3", "-H", "x-env: BETA",
                             "http://h.example.com:8080/q?v=1")
        self.assertEqual(lines[0], "request: GET http://h.example.com:8080/q?v=1 from 10.1.2.3")
        self.assertEqual(lines[-2:], ["matched: rule 30 (rules/api.yaml:15)",
                                      "action: fixed-response 200"])
        lines = self.explain("--source-ip", "192.168.1.1", "-H", "x-env: BETA",
                             "http://h.example.com:8080/q?v=1")
        self.assertIn("  rule 30 (rules/api.yaml:15): no match, source_ip: 10.0.0.0/8, ::1/128 "
                      "did not match", lines)

    def test_body_makes_a_post(self):
        lines = self.explain("-d", "x=1", "http://h.example.com:8080/api/form")
        self.assertEqual(lines[0], "request: POST http://h.example.com:8080/api/form from 127.0.0.1")
        self.assertEqual(lines[3], "matched: rule 20 (rules/api.yaml:2)")

    def test_bad_url(self):
        code, out, err = self.lb("explain", "-c", "lb.yaml", "ftp://x/")
        self.assertEqual(code, 1)
        self.assertEqual(err, "explain: unsupported scheme in 'ftp://x/'\n")
        code, out, err = self.lb("explain", "-c", "lb.yaml", "not-a-url")
        self.assertEqual(code, 1)
        self.assertIn("not an http:// URL", err)

    def test_bad_header_argument(self):
        code, out, err = self.lb("explain", "-c", "lb.yaml", "-H", "nocolon", "http://a:8080/")
        self.assertEqual(code, 1)
        self.assertIn("'nocolon' is not 'Name: value'", err)

    def test_bad_source_ip_argument(self):
        for ip in ("abc", "999.1.1.1", "10.0.0.0/8"):
            code, out, err = self.lb("explain", "-c", "lb.yaml", "--source-ip", ip, "http://a:8080/")
            self.assertEqual((code, out), (1, ""))
            self.assertEqual(err, f"explain: --source-ip '{ip}' is not an IPv4 or IPv6 address\n")

    def test_bad_method_argument(self):
        for method in ("G E T", ""):
            code, out, err = self.lb("explain", "-c", "lb.yaml", "-X", method, "http://a:8080/")
            self.assertEqual((code, out), (1, ""))
            self.assertEqual(err, f"explain: method '{method}' is not a token (RFC 9110 §9.1)\n")
        code, out, _ = self.lb("explain", "-c", "lb.yaml", "-X", "M-SEARCH", "http://a:8080/")
        self.assertEqual(code, 0)
        self.assertIn("request: M-SEARCH http://a:8080/", out)

    def test_no_url_is_usage_error(self):
        code, out, err = self.lb("explain", "-c", "lb.yaml")
        self.assertEqual(code, 2)
        self.assertIn("usage: lb", err)


class HelpVersionTest(CliCase):

    def test_help(self):
        code, out, err = self.lb("--help")
        self.assertEqual((code, err), (0, ""))
        self.assertTrue(out.startswith("usage: lb [-c FILE] [-p PORT] [--access-log PATH]"), out)
        for word in ("lb check", "lb explain", "--version"):
            self.assertIn(word, out)

    def test_version(self):
        code, out, err = self.lb("--version")
        self.assertEqual((code, err), (0, ""))
        self.assertRegex(out, r"^lb \d+\.\d+\.\d+\n$")

    def test_unknown_option(self):
        code, out, err = self.lb("--bogus")
        self.assertEqual(code, 2)
        self.assertEqual(out, "")
        self.assertIn("usage: lb", err)

    def test_stray_argument(self):
        code, out, err = self.lb("serve-please")
        self.assertEqual(code, 2)
        self.assertIn("usage: lb", err)


if __name__ == "__main__":
    unittest.main()
