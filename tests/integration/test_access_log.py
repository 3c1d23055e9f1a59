"""The access log: ALB's format, 33 fields in order (alb-listener-rules.md §5),
one line per request, with the X-Amzn-Trace-Id of §6.

Lines are compared whole against the line the request must produce, with only
the clock-dependent parts (times, trace id, conn_trace_id) matched by pattern
and then checked on their own.
"""
import os
import re
import select
import time
import unittest

from lbcommon import (ELB_RE, ISO_RE, TID_RE, TRACE_ROOT_RE, ClassLb, Lb, config, fixed,
                      get_raw, log_for, parse_log, read_log, rules_file, wait_for)
from lbtest import run_lb

TARGET_GROUPS = """\
target_groups:
  - name: empty
    target_type: lambda
"""

RULES = rules_file(
    fixed(7, '[{path_pattern: {values: ["/fixed"]}}]', "fixed!"),
    "  - priority: 8\n"
    "    conditions: [{path_pattern: {values: [\"/redir\"]}}]\n"
    "    actions: [{type: redirect, redirect: {protocol: HTTPS, port: \"443\", status_code: HTTP_301}}]\n",
    "  - priority: 9\n"
    "    conditions: [{path_pattern: {values: [\"/fwd\"]}}]\n"
    "    actions: [{type: forward, target_group: empty}]\n",
)

TIME = r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z)"
TRACE = r'"(Root=1-[0-9a-f]{8}-[0-9a-f]{24})"'
TID = r"(TID_[0-9a-f]{32})"


class AccessLogTest(ClassLb):
    CONFIG = config(target_groups=TARGET_GROUPS)
    RULES = {"a.yaml": RULES}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        code, out, err = run_lb("check", "-c", cls.lb.config_path)
        assert code == 0, err
        cls.elb = re.search(r"\((app/test-alb/[0-9a-f]{16})\)", out).group(1)
        cls.tg_arn = re.search(r"^  (arn:aws:elasticloadbalancing:\S+targetgroup/empty/\S+)$", out,
                               re.M).group(1)

    def exchange(self, raw, head_request=False):
        """Sends raw on a new connection; (response, bytes read, client port)."""
        c = self.lb.connect()
        try:
            c.send(raw)
            r = c.read_response(head_request=head_request)
            return r, len(r.raw) + 4, c.sock.getsockname()[1]
        finally:
            c.close()

    def check_line(self, line, pattern):
        """line must match pattern in full; returns the groups."""
        m = re.fullmatch(pattern, line)
        self.assertIsNotNone(m, f"\n{line}\ndoes not match\n{pattern}")
        return m.groups()

    def check_times(self, t_resp, t_req):
        now = time.time()
        for t in (t_resp, t_req):
            self.assertRegex(t, ISO_RE)
            when = time.mktime(time.strptime(t[:19], "%Y-%m-%dT%H:%M:%S")) - time.timezone
            self.assertLess(abs(when - now), 10)
        self.assertLessEqual(t_req, t_resp)

    def check_trace(self, trace):
        m = TRACE_ROOT_RE.match(trace)
        self.assertIsNotNone(m, trace)
        self.assertLess(abs(int(m.group(1), 16) - time.time()), 10)

    # --- whole lines -----------------------------------------------------------------

    def test_fixed_response_line(self):
        raw = get_raw("/fixed?q=1&r", "www.example.com", headers=["User-Agent: curl/8.0 (log-fixed)"])
        r, sent, cport = self.exchange(raw)
        self.assertEqual(r.body, b"fixed!")
        line = log_for(self.lb, "(log-fixed)")["_raw"]
        p = self.lb.port
        t_resp, trace, t_req, tid = self.check_line(line, (
            rf"http {TIME} {re.escape(self.elb)} 127\.0\.0\.1:{cport} - -1 -1 -1 200 - "
            rf"{len(raw)} {sent} "
            rf'"GET http://www\.example\.com:{p}/fixed\?q=1&r HTTP/1\.1" "curl/8\.0 \(log-fixed\)" '
            rf'- - - {TRACE} "-" "-" 7 {TIME} "fixed-response" "-" "-" "-" "-" "-" "-" '
            rf'{TID} "-" "-" "-"'))
        self.check_times(t_resp, t_req)
        self.check_trace(trace)
        self.assertRegex(tid, TID_RE)

    def test_fields_one_by_one(self):
        raw = get_raw("/fixed", "h.example.com", headers=["User-Agent: by-field"])
        r, sent, cport = self.exchange(raw)
        e = log_for(self.lb, '"by-field"')
        self.assertEqual(e["_n"], 33)
        self.assertEqual(e["type"], "http")
        self.assertRegex(e["time"], ISO_RE)
        self.assertEqual(e["elb"], self.elb)
        self.assertRegex(e["elb"], ELB_RE)
        self.assertEqual(e["client_port"], f"127.0.0.1:{cport}")
        self.assertEqual(e["target_port"], "-")
        self.assertEqual(e["request_processing_time"], "-1")
        self.assertEqual(e["target_processing_time"], "-1")
        self.assertEqual(e["response_processing_time"], "-1")
        self.assertEqual(e["elb_status_code"], "200")
        self.assertEqual(e["target_status_code"], "-")
        self.assertEqual(e["received_bytes"], str(len(raw)))
        self.assertEqual(e["sent_bytes"], str(sent))
        self.assertEqual(e["request"], f"GET http://h.example.com:{self.lb.port}/fixed HTTP/1.1")
        self.assertEqual(e["user_agent"], "by-field")
        self.assertEqual(e["ssl_cipher"], "-")
        self.assertEqual(e["ssl_protocol"], "-")
        self.assertEqual(e["target_group_arn"], "-")
        self.check_trace(e["trace_id"])
        self.assertEqual(e["domain_name"], "-")
        self.assertEqual(e["chosen_cert_arn"], "-")
        self.assertEqual(e["matched_rule_priority"], "7")
        self.assertRegex(e["request_creation_time"], ISO_RE)
        self.assertEqual(e["actions_executed"], "fixed-response")
        self.assertEqual(e["redirect_url"], "-")
        self.assertEqual(e["error_reason"], "-")
        self.assertEqual(e["target_port_list"], "-")
        self.assertEqual(e["target_status_code_list"], "-")
        self.assertEqual(e["classification"], "-")
        self.assertEqual(e["classification_reason"], "-")
        self.assertRegex(e["conn_trace_id"], TID_RE)
        self.assertEqual(e["transformed_host"], "-")
        self.assertEqual(e["transformed_uri"], "-")
        self.assertEqual(e["request_transform_status"], "-")

    def test_redirect_line(self):
        raw = get_raw("/redir?x=y", "r.example.com:1234", headers=["User-Agent: log-redir"])
        r, sent, cport = self.exchange(raw)
        loc = "https://r.example.com:443/redir?x=y"
        self.assertEqual(r.header("Location"), loc)
        line = log_for(self.lb, '"log-redir"')["_raw"]
        t_resp, trace, t_req, tid = self.check_line(line, (
            rf"http {TIME} {re.escape(self.elb)} 127\.0\.0\.1:{cport} - -1 -1 -1 301 - "
            rf"{len(raw)} {sent} "
            rf'"GET http://r\.example\.com:{self.lb.port}/redir\?x=y HTTP/1\.1" "log-redir" '
            rf'- - - {TRACE} "-" "-" 8 {TIME} "redirect" "{re.escape(loc)}" "-" "-" "-" "-" "-" '
            rf'{TID} "-" "-" "-"'))
        self.check_times(t_resp, t_req)

    def test_forward_503_line(self):
        raw = get_raw("/fwd", "f.example.com", headers=["User-Agent: log-fwd"])
        r, sent, cport = self.exchange(raw)
        self.assertEqual(r.status, 503)
        line = log_for(self.lb, '"log-fwd"')["_raw"]
        t_resp, trace, t_req, tid = self.check_line(line, (
            rf"http {TIME} {re.escape(self.elb)} 127\.0\.0\.1:{cport} - -1 -1 -1 503 - "
            rf"{len(raw)} {sent} "
            rf'"GET http://f\.example\.com:{self.lb.port}/fwd HTTP/1\.1" "log-fwd" '
            rf'- - {re.escape(self.tg_arn)} {TRACE} "-" "-" 9 {TIME} "forward" "-" "-" "-" "-" '
            rf'"-" "-" {TID} "-" "-" "-"'))
        self.check_times(t_resp, t_req)

    def test_400_line(self):
        raw = b"NOT A REQUEST\r\n\r\n"
        r, sent, cport = self.exchange(raw)
        self.assertEqual(r.status, 400)
        line = log_for(self.lb, f" 127.0.0.1:{cport} ")["_raw"]
        t_resp, t_req, tid = self.check_line(line, (
            rf"http {TIME} {re.escape(self.elb)} 127\.0\.0\.1:{cport} - -1 -1 -1 400 - "
            rf"{len(raw)} {sent} "
            rf'"- http://127\.0\.0\.1:{self.lb.port}- -" "-" - - - "-" "-" "-" - {TIME} '
            rf'"-" "-" "-" "-" "-" "Severe" "BadVersion" {TID} "-" "-" "-"'))
        self.check_times(t_resp, t_req)

    def test_head_line_counts_only_the_head(self):
        raw = get_raw("/fixed", headers=["User-Agent: log-head"], method="HEAD")
        r, sent, _ = self.exchange(raw, head_request=True)
        e = log_for(self.lb, '"log-head"')
        self.assertEqual(e["sent_bytes"], str(sent))
        self.assertEqual(e["request"], f"HEAD http://example.com:{self.lb.port}/fixed HTTP/1.1")

    def test_request_with_body_counts_the_body(self):
        raw = get_raw("/fixed", method="POST", headers=["User-Agent: log-body"], body=b"b" * 300)
        self.exchange(raw)
        self.assertEqual(log_for(self.lb, '"log-body"')["received_bytes"], str(len(raw)))

    def test_leading_empty_lines_are_counted_as_received(self):
        raw = b"\r\n\r\n" + get_raw("/fixed", headers=["User-Agent: log-crlf"])
        self.exchange(raw)
        self.assertEqual(log_for(self.lb, '"log-crlf"')["received_bytes"], str(len(raw)))

    # --- keep-alive sequence -----------------------------------------------------------

    def test_keep_alive_sequence_shares_conn_trace_id_and_logs_no_460(self):
        c = self.lb.connect()
        sizes = []
        for i, path in enumerate(["/fixed", "/redir", "/fwd", "/nope", "/fixed"]):
            raw = get_raw(path, headers=[f"User-Agent: seq-{i}"])
            c.send(raw)
            r = c.read_response()
            sizes.append((len(raw), len(r.raw) + 4))
        cport = c.sock.getsockname()[1]
        c.close()
        time.sleep(0.2)
        lines = [e for e in read_log(self.lb) if e["client_port"] == f"127.0.0.1:{cport}"]
        self.assertEqual([e["elb_status_code"] for e in lines], ["200", "301", "503", "404", "200"])
        self.assertEqual([e["user_agent"] for e in lines], [f"seq-{i}" for i in range(5)])
        self.assertEqual([(int(e["received_bytes"]), int(e["sent_bytes"])) for e in lines], sizes)
        self.assertEqual([e["matched_rule_priority"] for e in lines], ["7", "8", "9", "0", "7"])
        self.assertEqual(len({e["conn_trace_id"] for e in lines}), 1)
        self.assertEqual(len({e["trace_id"] for e in lines}), 5)

    def test_conn_trace_id_differs_between_connections(self):
        self.exchange(get_raw("/fixed", headers=["User-Agent: tid-a"]))
        self.exchange(get_raw("/fixed", headers=["User-Agent: tid-b"]))
        a = log_for(self.lb, '"tid-a"')["conn_trace_id"]
        b = log_for(self.lb, '"tid-b"')["conn_trace_id"]
        self.assertRegex(a, TID_RE)
        self.assertNotEqual(a, b)

    # --- trace id ----------------------------------------------------------------------

    def test_trace_id_with_incoming_root_gets_self_in_front(self):
        root = "Root=1-67891233-abcdef012345678912345678"
        self.exchange(get_raw("/fixed", headers=["User-Agent: tr-root", f"X-Amzn-Trace-Id: {root}"]))
        t = log_for(self.lb, '"tr-root"')["trace_id"]
        self.assertRegex(t, r"^Self=1-[0-9a-f]{8}-[0-9a-f]{24};" + re.escape(root) + "$")

    def test_trace_id_keeps_custom_fields(self):
        v = "Root=1-67891233-abcdef012345678912345678;CalledFrom=app"
        self.exchange(get_raw("/fixed", headers=["User-Agent: tr-custom", f"X-Amzn-Trace-Id: {v}"]))
        t = log_for(self.lb, '"tr-custom"')["trace_id"]
        self.assertRegex(t, r"^Self=1-[0-9a-f]{8}-[0-9a-f]{24};" + re.escape(v) + "$")

    def test_trace_id_self_is_updated(self):
        v = "Self=1-11111111-222222222222222222222222;Root=1-67891233-abcdef012345678912345678"
        self.exchange(get_raw("/fixed", headers=["User-Agent: tr-self", f"X-Amzn-Trace-Id: {v}"]))
        t = log_for(self.lb, '"tr-self"')["trace_id"]
        m = re.fullmatch(r"Self=(1-[0-9a-f]{8}-[0-9a-f]{24});Root=1-67891233-abcdef012345678912345678", t)
        self.assertIsNotNone(m, t)
        self.assertNotEqual(m.group(1), "1-11111111-222222222222222222222222")

    def test_trace_ids_are_unique(self):
        for i in range(5):
            self.exchange(get_raw("/fixed", headers=[f"User-Agent: uniq-{i}"]))
        ids = {log_for(self.lb, f'"uniq-{i}"')["trace_id"] for i in range(5)}
        self.assertEqual(len(ids), 5)

    def test_trace_id_is_replaced_when_headers_pass_7kb(self):
        # "If the HTTP headers exceed 7 KB, ALB rewrites the header with just a Root field" (§6)
        root = "Root=1-67891233-abcdef012345678912345678"
        self.exchange(get_raw("/fixed", headers=["User-Agent: tr-big", f"X-Amzn-Trace-Id: {root}",
                                                 "X-Pad: " + "p" * 7200]))
        t = log_for(self.lb, '"tr-big"')["trace_id"]
        self.check_trace(t)
        self.assertNotIn("67891233", t)

    def test_user_agent_is_truncated_at_8_kb(self):
        ua = "ua-long-" + "u" * 10000
        self.exchange(get_raw("/fixed", headers=[f"User-Agent: {ua}"]))
        e = log_for(self.lb, '"ua-long-')
        self.assertEqual(e["user_agent"], ua[:8192])

    # --- quoting -----------------------------------------------------------------------

    def test_user_agent_quotes_and_backslashes_are_escaped(self):
        self.exchange(get_raw("/fixed", headers=['User-Agent: a "quoted" \\ ua esc-ua']))
        e = log_for(self.lb, "esc-ua")
        self.assertEqual(e["_n"], 33)
        self.assertEqual(e["user_agent"], 'a \\"quoted\\" \\\\ ua esc-ua')
        self.assertIn(' "a \\"quoted\\" \\\\ ua esc-ua" ', e["_raw"])

    def test_request_target_with_quote_stays_one_field(self):
        self.exchange(b'GET /fixed?x="y" HTTP/1.1\r\nHost: q.example.com\r\nUser-Agent: esc-req\r\n\r\n')
        e = log_for(self.lb, '"esc-req"')
        self.assertEqual(e["_n"], 33)
        self.assertEqual(e["request"],
                         f'GET http://q.example.com:{self.lb.port}/fixed?x=\\"y\\" HTTP/1.1')

    def test_absolute_form_target_without_a_path_logs_its_slash(self):
        # Such a target once made lb read past its path ("/" stands for the empty
        # one) when logging the request, and crash.
        for target, logged, ua in ((b"http://abs.example.com:99", "/", "abs-nopath"),
                                   (b"http://abs.example.com?x=1", "/?x=1", "abs-query"),
                                   (b"http://abs.example.com/fixed?y", "/fixed?y", "abs-path")):
            r, _, _ = self.exchange(b"GET " + target + b" HTTP/1.1\r\nHost: other.test\r\n"
                                    b"User-Agent: " + ua.encode() + b"\r\n\r\n")
            self.assertIn(r.status, (200, 404))
            e = log_for(self.lb, f'"{ua}"')
            self.assertEqual(e["_n"], 33)
            self.assertEqual(e["request"], f"GET http://abs.example.com:{self.lb.port}{logged} HTTP/1.1")
        self.assertEqual(self.exchange(get_raw("/fixed"))[0].status, 200)


class AccessLogStdoutTest(unittest.TestCase):
    def test_dash_writes_the_access_log_to_stdout(self):
        cfg = config(extra_lb='  access_log: "-"\n', target_groups=TARGET_GROUPS)
        lb = Lb(cfg, rules={"a.yaml": RULES}, access_log=False)
        lb.start()
        self.addCleanup(lb.tmp.cleanup)
        self.addCleanup(lb.stop)
        lb.request(get_raw("/fixed", headers=["User-Agent: to-stdout"]))
        ready, _, _ = select.select([lb.proc.stdout], [], [], 5)
        self.assertTrue(ready, "no access-log line on stdout")
        line = lb.proc.stdout.readline().decode().rstrip("\n")
        e = parse_log(line)
        self.assertEqual(e["_n"], 33)
        self.assertEqual(e["user_agent"], "to-stdout")
        self.assertEqual(e["elb_status_code"], "200")
        self.assertFalse(os.path.exists(os.path.join(lb.dir, "access.log")))

    def test_config_path_is_relative_to_the_config_file(self):
        # The config lives in sub/ while lb runs in the parent directory.
        cfg = config(extra_lb="  access_log: from-config.log\n", target_groups=TARGET_GROUPS)
        lb = Lb(cfg, files={"sub/lb.yaml": cfg, "sub/rules/a.yaml": RULES}, access_log=False)
        self.addCleanup(lb.tmp.cleanup)
        lb.config_path = os.path.join(lb.dir, "sub", "lb.yaml")
        lb.start()
        self.addCleanup(lb.stop)
        lb.request(get_raw("/fixed", headers=["User-Agent: from-config"]))
        path = os.path.join(lb.dir, "sub", "from-config.log")
        self.assertTrue(wait_for(lambda: os.path.exists(path) and os.path.getsize(path) > 0))
        self.assertFalse(os.path.exists(os.path.join(lb.dir, "from-config.log")))
        with open(path) as f:
            e = parse_log(f.readline().rstrip("\n"))
        self.assertEqual(e["user_agent"], "from-config")
        self.assertEqual(e["matched_rule_priority"], "7")

if __name__ == "__main__":
    unittest.main()
