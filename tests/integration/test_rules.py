"""Listener rules: every condition type, AND/OR, priority order across files,
the default rule (alb-listener-rules.md §1, §1.2, §7 items 1-2).

Every rule answers with a fixed response naming itself, so a test reads which
rule matched from the body; the default rule answers 404 "no rule matched".
"""
import socket
import unittest

from lbcommon import (ClassLb, Lb, conn_from, config, fixed, get_raw, log_for,
                      rules_file)

DEFAULT = "no rule matched"

# a.yaml and b.yaml interleave priorities, and a.yaml lists its own out of order:
# lb must evaluate by priority, never by file or list order.
RULES_A = rules_file(
    fixed(760, '[{path_pattern: {values: ["/prio/*"]}}]', "prio-760"),
    fixed(750, '[{path_pattern: {values: ["/prio/x"]}}]', "prio-750"),
    fixed(100, '[{host_header: {values: ["api.example.com"]}}]', "host-exact"),
    fixed(101, '[{host_header: {values: ["*.wild.test"]}}]', "host-wild"),
    fixed(102, '[{host_header: {values: ["h?.one.test"]}}]', "host-one"),
    fixed(200, '[{path_pattern: {values: ["/api/*"]}}]', "path-api"),
    fixed(201, '[{path_pattern: {values: ["/v?/x"]}}]', "path-one"),
    fixed(202, '[{path_pattern: {values: ["/exact"]}}]', "path-exact"),
    fixed(203, '[{path_pattern: {values: ["/a/b"]}}]', "path-ab"),
    fixed(204, '[{path_pattern: {values: ["/caf*"]}}]', "path-caf"),
    fixed(300, '[{path_pattern: {values: ["/hdr/*"]}}, '
               '{http_header: {http_header_name: X-Env, values: [beta, "gamma*"]}}]', "hdr"),
    fixed(400, '[{path_pattern: {values: ["/m/*"]}}, '
               '{http_request_method: {values: [PUT, DELETE]}}]', "method"),
    fixed(401, '[{path_pattern: {values: ["/m/*"]}}, '
               '{http_request_method: {values: [PURGE_CACHE]}}]', "custom-method"),
)
RULES_B = rules_file(
    fixed(800, '[{path_pattern: {values: ["/prio/*"]}}]', "prio-800"),
    fixed(500, '[{path_pattern: {values: ["/q/*"]}}, '
               '{query_string: {values: [{key: version, value: v1}, {value: "*legacy*"}]}}]', "query"),
    fixed(501, "[{path_pattern: {values: [\"/lit\"]}}, "
               "{query_string: {values: [{key: k, value: 'a\\*'}]}}]", "query-lit"),
    fixed(600, '[{path_pattern: {values: ["/ip/*"]}}, {source_ip: {values: ["127.0.0.4/30"]}}]',
          "ip-narrow"),
    fixed(601, '[{path_pattern: {values: ["/ip/*"]}}, {source_ip: {values: ["10.0.0.0/8"]}}]',
          "ip-ten"),
    fixed(602, '[{path_pattern: {values: ["/ip/*"]}}, {source_ip: {values: ["127.0.0.0/8"]}}]',
          "ip-loop"),
    fixed(700, '[{path_pattern: {values: ["/and"]}}, {http_request_method: {values: [POST]}}]',
          "and"),
    fixed(701, '[{path_pattern: {values: ["/or1", "/or2"]}}]', "or"),
)


class RulesTest(ClassLb):
    RULES = {"a.yaml": RULES_A, "b.yaml": RULES_B}

    def which(self, path, host="paths.test", headers=(), method="GET"):
        r = self.ask(get_raw(path, host, headers, method))
        if r.body.decode() == DEFAULT:
            self.assertEqual(r.status, 404)
        else:
            self.assertEqual(r.status, 200, r)
        return r.body.decode()

    # --- host_header -----------------------------------------------------------------

    def test_host_exact(self):
        self.assertEqual(self.which("/", host="api.example.com"), "host-exact")

    def test_host_is_case_insensitive(self):
        self.assertEqual(self.which("/", host="API.Example.COM"), "host-exact")

    def test_host_port_is_stripped(self):
        self.assertEqual(self.which("/", host="api.example.com:8080"), "host-exact")
        self.assertEqual(self.which("/", host="API.EXAMPLE.COM:1"), "host-exact")

    def test_host_is_a_whole_match(self):
        self.assertEqual(self.which("/", host="api.example.com.evil"), DEFAULT)
        self.assertEqual(self.which("/", host="xapi.example.com"), DEFAULT)

    def test_host_star_wildcard(self):
        self.assertEqual(self.which("/", host="a.wild.test"), "host-wild")
        self.assertEqual(self.which("/", host="a.b.c.wild.test"), "host-wild")
        # "*.wild.test" does not match the apex (alb-listener-rules.md §1.2).
        self.assertEqual(self.which("/", host="wild.test"), DEFAULT)

    def test_host_question_mark_is_one_character(self):
        self.assertEqual(self.which("/", host="h1.one.test"), "host-one")
        self.assertEqual(self.which("/", host="h.one.test"), DEFAULT)
        self.assertEqual(self.which("/", host="h12.one.test"), DEFAULT)

    def test_host_only_the_first_host_header_counts(self):
        r = self.ask(b"GET / HTTP/1.1\r\nHost: other.test\r\nHost: api.example.com\r\n\r\n")
        self.assertEqual(r.body, b"no rule matched")
        r = self.ask(b"GET / HTTP/1.1\r\nHost: api.example.com\r\nHost: other.test\r\n\r\n")
        self.assertEqual(r.body, b"host-exact")

    def test_host_missing_matches_no_host_rule(self):
        r = self.ask(b"GET / HTTP/1.0\r\n\r\n")
        self.assertEqual((r.status, r.body), (404, b"no rule matched"))

    def test_host_absolute_form_uri_authority_wins(self):
        # RFC 9112 §3.2.2: an absolute-form target's authority replaces Host.
        r = self.ask(b"GET http://api.example.com/ HTTP/1.1\r\nHost: other.test\r\n\r\n")
        self.assertEqual(r.body, b"host-exact")

    # --- path_pattern ----------------------------------------------------------------

    def test_path_exact(self):
        self.assertEqual(self.which("/exact"), "path-exact")
        self.assertEqual(self.which("/exact/"), DEFAULT)
        self.assertEqual(self.which("/exactly"), DEFAULT)

    def test_path_is_case_sensitive(self):
        self.assertEqual(self.which("/EXACT"), DEFAULT)
        self.assertEqual(self.which("/API/x"), DEFAULT)

    def test_path_star_crosses_slashes(self):
        self.assertEqual(self.which("/api/x"), "path-api")
        self.assertEqual(self.which("/api/a/b/c.json"), "path-api")
        self.assertEqual(self.which("/api/"), "path-api")
        self.assertEqual(self.which("/api"), DEFAULT)

    def test_path_question_mark_is_one_character(self):
        self.assertEqual(self.which("/v1/x"), "path-one")
        self.assertEqual(self.which("/v/x"), DEFAULT)
        self.assertEqual(self.which("/v10/x"), DEFAULT)

    def test_path_query_is_excluded(self):
        self.assertEqual(self.which("/exact?x=1"), "path-exact")
        self.assertEqual(self.which("/exact?"), "path-exact")
        self.assertEqual(self.which("/v1/x?a=/api/"), "path-one")

    def test_path_percent_encoding_is_matched_raw(self):
        # lb's choice (§1.3 unverified): no decoding. Decoded, "/a%2Fb" would be
        # "/a/b" and "/%61pi/x" would be "/api/x".
        self.assertEqual(self.which("/a/b"), "path-ab")
        self.assertEqual(self.which("/a%2Fb"), DEFAULT)
        self.assertEqual(self.which("/%61pi/x"), DEFAULT)
        self.assertEqual(self.which("/caf%C3%A9"), "path-caf")

    # --- http_header -----------------------------------------------------------------

    def test_header_name_and_value_are_case_insensitive(self):
        self.assertEqual(self.which("/hdr/1", headers=["x-eNV: BETA"]), "hdr")
        self.assertEqual(self.which("/hdr/1", headers=["X-ENV: beta"]), "hdr")

    def test_header_value_wildcard(self):
        self.assertEqual(self.which("/hdr/1", headers=["X-Env: gammaray"]), "hdr")
        self.assertEqual(self.which("/hdr/1", headers=["X-Env: gamma"]), "hdr")
        self.assertEqual(self.which("/hdr/1", headers=["X-Env: agamma"]), DEFAULT)

    def test_header_value_is_a_whole_match(self):
        self.assertEqual(self.which("/hdr/1", headers=["X-Env: betamax"]), DEFAULT)
        self.assertEqual(self.which("/hdr/1", headers=["X-Env: delta"]), DEFAULT)

    def test_header_missing(self):
        self.assertEqual(self.which("/hdr/1"), DEFAULT)
        self.assertEqual(self.which("/hdr/1", headers=["X-Envy: beta"]), DEFAULT)

    def test_header_repeated_second_instance_matches(self):
        # "we search them in order until a match is found" (§1.2 http-header)
        self.assertEqual(self.which("/hdr/1", headers=["X-Env: alpha", "X-Env: beta"]), "hdr")
        self.assertEqual(self.which("/hdr/1", headers=["X-Env: alpha", "X-Env: delta"]), DEFAULT)

    # --- http_request_method ---------------------------------------------------------

    def test_method_exact(self):
        self.assertEqual(self.which("/m/1", method="PUT"), "method")
        self.assertEqual(self.which("/m/1", method="DELETE"), "method")
        self.assertEqual(self.which("/m/1", method="GET"), DEFAULT)
        self.assertEqual(self.which("/m/1", method="PATCH"), DEFAULT)
        self.assertEqual(self.which("/m/1", method="POST"), DEFAULT)

    def test_custom_method(self):
        # ALB allows custom methods in http_request_method conditions.
        self.assertEqual(self.which("/m/1", method="PURGE_CACHE"), "custom-method")
        self.assertEqual(self.which("/m/1", method="purge_cache"), DEFAULT)

    # --- query_string ----------------------------------------------------------------

    def test_query_key_value(self):
        self.assertEqual(self.which("/q/x?version=v1"), "query")
        self.assertEqual(self.which("/q/x?a=b&version=v1&c=d"), "query")
        self.assertEqual(self.which("/q/x?version=v2"), DEFAULT)
        self.assertEqual(self.which("/q/x?versions=v1"), DEFAULT)

    def test_query_is_case_insensitive(self):
        self.assertEqual(self.which("/q/x?VERSION=V1"), "query")

    def test_query_value_only_matches_any_key(self):
        self.assertEqual(self.which("/q/x?app=MyLegacyApp"), "query")
        self.assertEqual(self.which("/q/x?legacy=1"), DEFAULT)

    def test_query_absent(self):
        self.assertEqual(self.which("/q/x"), DEFAULT)
        self.assertEqual(self.which("/q/version=v1"), DEFAULT)

    def test_query_is_not_percent_decoded(self):
        self.assertEqual(self.which("/q/x?version=%761"), DEFAULT)

    def test_query_escaped_star_is_literal(self):
        self.assertEqual(self.which("/lit?k=a*"), "query-lit")
        self.assertEqual(self.which("/lit?K=A*"), "query-lit")
        self.assertEqual(self.which("/lit?k=ab"), DEFAULT)
        self.assertEqual(self.which("/lit?k=a"), DEFAULT)

    # --- source_ip -------------------------------------------------------------------

    def test_source_ip_loopback_8(self):
        self.assertEqual(self.which("/ip/1"), "ip-loop")

    def test_source_ip_narrow_block_and_priority(self):
        for src, want in (("127.0.0.5", "ip-narrow"), ("127.0.0.7", "ip-narrow"),
                          ("127.0.0.8", "ip-loop"), ("127.0.0.3", "ip-loop")):
            c = conn_from(self.lb.port, src)
            try:
                c.send(get_raw("/ip/1"))
                self.assertEqual(c.read_response().body.decode(), want, src)
            finally:
                c.close()

    def test_source_ip_ignores_x_forwarded_for(self):
        self.assertEqual(self.which("/ip/1", headers=["X-Forwarded-For: 10.1.2.3"]), "ip-loop")

    # --- AND, OR, priority -------------------------------------------------------------

    def test_conditions_are_and(self):
        self.assertEqual(self.which("/and", method="POST"), "and")
        self.assertEqual(self.which("/and", method="GET"), DEFAULT)
        self.assertEqual(self.which("/andx", method="POST"), DEFAULT)

    def test_values_are_or(self):
        self.assertEqual(self.which("/or1"), "or")
        self.assertEqual(self.which("/or2"), "or")
        self.assertEqual(self.which("/or3"), DEFAULT)

    def test_lowest_priority_wins_regardless_of_file_and_list_order(self):
        self.assertEqual(self.which("/prio/x"), "prio-750")
        self.assertEqual(self.which("/prio/y"), "prio-760")

    def test_host_rule_beats_later_path_rules(self):
        # priority 100 (host) comes before 200 (path)
        self.assertEqual(self.which("/api/x", host="api.example.com"), "host-exact")

    def test_matched_rule_priority_is_logged(self):
        self.ask(get_raw("/prio/x", headers=["User-Agent: prio-log-750"]))
        self.assertEqual(log_for(self.lb, '"prio-log-750"')["matched_rule_priority"], "750")
        self.ask(get_raw("/nowhere", headers=["User-Agent: prio-log-default"]))
        self.assertEqual(log_for(self.lb, '"prio-log-default"')["matched_rule_priority"], "0")
        self.ask(get_raw("/m/1", method="DELETE", headers=["User-Agent: prio-log-400"]))
        self.assertEqual(log_for(self.lb, '"prio-log-400"')["matched_rule_priority"], "400")


class DefaultRuleOnlyTest(ClassLb):
    """A listener with no rules at all: every request takes the default rule."""
    CONFIG = config(listeners="""\
  - port: 0
    default_actions:
      - type: fixed-response
        fixed_response: {status_code: "200", content_type: application/json, message_body: '{"d":1}'}
""")
    RULES = {}

    def test_default_rule_answers_everything(self):
        for path in ("/", "/x/y?z=1"):
            r = self.ask(get_raw(path))
            self.assertEqual((r.status, r.body), (200, b'{"d":1}'))
            self.assertEqual(r.header("Content-Type"), "application/json; charset=utf-8")


def fixed_listener(port, body):
    return (f"  - port: {port}\n"
            f"    rules: [\"rules/*.yaml\"]\n"
            f"    default_actions:\n"
            f"      - type: fixed-response\n"
            f"        fixed_response: {{status_code: \"404\", message_body: \"{body}\"}}\n")


class RuleFilesPerListenerTest(unittest.TestCase):
    """`listener: PORT` in a rule file gives its rules to that listener only."""

    def test_each_listener_gets_its_own_rules(self):
        from lbcommon import free_port
        p1, p2 = free_port(), free_port()
        lb = Lb(config(listeners=fixed_listener(p1, "default-1") + fixed_listener(p2, "default-2")),
                rules={"one.yaml": rules_file(fixed(10, '[{path_pattern: {values: ["/x"]}}]', "rule-1"),
                                              listener=p1),
                       "two.yaml": rules_file(fixed(10, '[{path_pattern: {values: ["/x"]}}]', "rule-2"),
                                              fixed(20, '[{path_pattern: {values: ["/y"]}}]', "rule-2y"),
                                              listener=p2)})
        lb.start()
        self.addCleanup(lb.tmp.cleanup)
        self.addCleanup(lb.stop)
        self.assertEqual(lb.ports, [p1, p2])
        self.assertEqual(lb.request(get_raw("/x"), index=0).body, b"rule-1")
        self.assertEqual(lb.request(get_raw("/x"), index=1).body, b"rule-2")
        self.assertEqual(lb.request(get_raw("/y"), index=0).body, b"default-1")
        self.assertEqual(lb.request(get_raw("/y"), index=1).body, b"rule-2y")


V6_LISTENERS = """\
  - port: 0
    address: "::1"
    rules: ["rules/*.yaml"]
    default_actions:
      - type: fixed-response
        fixed_response: {status_code: "404", content_type: text/plain, message_body: "no rule matched"}
  - port: 0
    rules: ["rules/*.yaml"]
    default_actions:
      - type: fixed-response
        fixed_response: {status_code: "404", content_type: text/plain, message_body: "no rule matched"}
"""


def have_ipv6():
    try:
        s = socket.socket(socket.AF_INET6)
        s.bind(("::1", 0))
        s.close()
        return True
    except OSError:
        return False


@unittest.skipUnless(have_ipv6(), "no IPv6 loopback")
class SourceIpV6Test(ClassLb):
    CONFIG = config(listeners=V6_LISTENERS)
    RULES = {"v6.yaml": rules_file(
        fixed(10, '[{source_ip: {values: ["127.0.0.0/8"]}}]', "v4-loop"),
        fixed(20, '[{source_ip: {values: ["::1/128"]}}]', "v6-loop"),
        fixed(30, '[{source_ip: {values: ["fe80::/10", "10.0.0.0/8"]}}]', "other"),
    ) + """  - priority: 5
    conditions: [{path_pattern: {values: ["/redir"]}}]
    actions: [{type: redirect, redirect: {path: "/new", status_code: HTTP_301}}]
"""}

    def test_ipv6_peer_matches_ipv6_block_only(self):
        from lbtest import Conn
        c = Conn(self.lb.ports[0], host="::1")
        try:
            c.send(get_raw("/", host="[::1]"))
            r = c.read_response()
            self.assertEqual((r.status, r.body), (200, b"v6-loop"))
        finally:
            c.close()

    def test_redirect_without_host_brackets_the_ipv6_listener_address(self):
        # HTTP/1.0 without Host: the Location names the listener, an IPv6 literal in
        # brackets (RFC 3986 §3.2.2), not "http://::1:PORT"
        from lbtest import Conn
        c = Conn(self.lb.ports[0], host="::1")
        try:
            c.send(b"GET /redir HTTP/1.0\r\n\r\n")
            r = c.read_response()
        finally:
            c.close()
        self.assertEqual((r.status, r.header("Location")), (301, f"http://[::1]:{self.lb.ports[0]}/new"))
        # and its access-log line names the listener the same way
        e = log_for(self.lb, f"http://[::1]:{self.lb.ports[0]}/redir ")
        self.assertEqual(e["request"], f"GET http://[::1]:{self.lb.ports[0]}/redir HTTP/1.0")

    def test_ipv4_peer_on_the_other_listener(self):
        r = self.lb.request(get_raw("/"), index=1)
        self.assertEqual((r.status, r.body), (200, b"v4-loop"))

    def test_ipv6_client_in_access_log(self):
        from lbtest import Conn
        c = Conn(self.lb.ports[0], host="::1")
        try:
            c.send(get_raw("/", host="[::1]", headers=["User-Agent: v6-log"]))
            c.read_response()
            local_port = c.sock.getsockname()[1]
        finally:
            c.close()
        e = log_for(self.lb, '"v6-log"')
        self.assertEqual(e["client_port"], f"::1:{local_port}")
        self.assertEqual(e["request"], f"GET http://[::1]:{self.lb.ports[0]}/ HTTP/1.1")
        self.assertEqual(e["matched_rule_priority"], "20")


if __name__ == "__main__":
    unittest.main()
