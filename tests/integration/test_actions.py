"""Actions: fixed-response, redirect, forward (alb-listener-rules.md §2.2-§2.4).

Forwarding goes to target groups without targets: ALB answers those with 503
and its 162-byte page (alb-lambda-targets.md §2.7, "TG with no targets").
"""
import re
import unittest

from lbcommon import (PAGE_301, PAGE_302, PAGE_503, ClassLb, config, get_raw, log_for,
                      rules_file)
from lbtest import run_lb


def redirect(priority, path, body):
    return (f"  - priority: {priority}\n"
            f"    conditions: [{{path_pattern: {{values: [\"{path}\"]}}}}]\n"
            f"    actions:\n"
            f"      - type: redirect\n"
            f"        redirect: {body}\n")


def fixed_rule(priority, path, fr):
    return (f"  - priority: {priority}\n"
            f"    conditions: [{{path_pattern: {{values: [\"{path}\"]}}}}]\n"
            f"    actions:\n"
            f"      - type: fixed-response\n"
            f"        fixed_response: {fr}\n")


BODY_1024 = "x" * 1024

RULES = rules_file(
    fixed_rule(1, "/fx/plain", '{status_code: "200", content_type: text/plain, message_body: hello}'),
    fixed_rule(2, "/fx/json", '{status_code: "201", content_type: application/json, '
                              'message_body: \'{"a": 1}\'}'),
    fixed_rule(3, "/fx/none", '{status_code: "500", message_body: oops}'),
    fixed_rule(4, "/fx/empty", '{status_code: "200", content_type: text/html}'),
    fixed_rule(5, "/fx/utf8", '{status_code: "200", content_type: text/css, message_body: "h\u00e9llo"}'),
    fixed_rule(6, "/fx/js", '{status_code: "404", content_type: application/javascript, '
                            'message_body: "var x;"}'),
    fixed_rule(7, "/fx/max", '{status_code: "200", content_type: text/plain, message_body: "'
               + BODY_1024 + '"}'),
    fixed_rule(8, "/fx/503", '{status_code: "503", content_type: text/plain, message_body: down}'),
    redirect(10, "/r301/*", "{host: new.example.com, status_code: HTTP_301}"),
    redirect(11, "/r302/*", '{protocol: HTTPS, port: "443", host: "#{host}", path: "/new/#{path}", '
                            'query: "#{query}&from=#{host}", status_code: HTTP_302}'),
    redirect(12, "/drop", '{path: /dropped, query: "", status_code: HTTP_301}'),
    redirect(13, "/ph/*", '{path: "/#{host}/#{port}/#{path}", status_code: HTTP_301}'),
    redirect(14, "/port", '{port: "8443", status_code: HTTP_301}'),
    redirect(15, "/proto", "{protocol: HTTPS, status_code: HTTP_302}"),
    redirect(16, "/newq", '{host: q.example.com, query: "a=1&b=#{port}", status_code: HTTP_301}'),
    "  - priority: 30\n"
    "    conditions: [{path_pattern: {values: [\"/fwd\"]}}]\n"
    "    actions: [{type: forward, target_group: empty}]\n",
    "  - priority: 31\n"
    "    conditions: [{path_pattern: {values: [\"/weighted\"]}}]\n"
    "    actions:\n"
    "      - type: forward\n"
    "        forward: {target_groups: [{name: empty, weight: 0}, {name: empty2, weight: 5}]}\n",
)

TARGET_GROUPS = """\
target_groups:
  - name: empty
    target_type: lambda
  - name: empty2
    target_type: lambda
"""

FIXED_HEAD = ["Server", "Date", "Content-Type", "Content-Length", "Connection"]
REDIRECT_HEAD = FIXED_HEAD + ["Location"]


class ActionsTest(ClassLb):
    CONFIG = config(target_groups=TARGET_GROUPS)
    RULES = {"a.yaml": RULES}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        code, out, err = run_lb("check", "-c", cls.lb.config_path)
        assert code == 0, err
        cls.arns = dict(re.findall(r"^target group (\S+): .*\n  (arn:\S+)$", out, re.M))
        cls.elb = re.search(r"\((app/test-alb/[0-9a-f]{16})\)", out).group(1)

    def location(self, path, host="req.example.com"):
        r = self.ask(get_raw(path, host))
        self.assertIn(r.status, (301, 302))
        return r.header("Location")

    # --- fixed-response --------------------------------------------------------------

    def test_fixed_text_plain(self):
        r = self.ask(get_raw("/fx/plain"))
        self.assertEqual(r.status_line, "HTTP/1.1 200 OK")
        self.assertAlbHead(r, FIXED_HEAD)
        self.assertEqual(r.header("Content-Type"), "text/plain; charset=utf-8")
        self.assertEqual(r.header("Content-Length"), "5")
        self.assertEqual(r.header("Connection"), "keep-alive")
        self.assertEqual(r.body, b"hello")

    def test_fixed_json_status_201(self):
        r = self.ask(get_raw("/fx/json"))
        self.assertEqual(r.status_line, "HTTP/1.1 201 Created")
        self.assertEqual(r.header("Content-Type"), "application/json; charset=utf-8")
        self.assertEqual(r.body, b'{"a": 1}')

    def test_fixed_without_content_type_has_no_content_type(self):
        r = self.ask(get_raw("/fx/none"))
        self.assertEqual(r.status_line, "HTTP/1.1 500 Internal Server Error")
        self.assertAlbHead(r, ["Server", "Date", "Content-Length", "Connection"])
        self.assertEqual(r.body, b"oops")

    def test_fixed_empty_body(self):
        r = self.ask(get_raw("/fx/empty"))
        self.assertEqual(r.status, 200)
        self.assertEqual(r.header("Content-Type"), "text/html; charset=utf-8")
        self.assertEqual(r.header("Content-Length"), "0")
        self.assertEqual(r.body, b"")

    def test_fixed_utf8_body_bytes(self):
        r = self.ask(get_raw("/fx/utf8"))
        self.assertEqual(r.header("Content-Type"), "text/css; charset=utf-8")
        self.assertEqual(r.body, "h\u00e9llo".encode())
        self.assertEqual(r.header("Content-Length"), "6")

    def test_fixed_404_javascript(self):
        r = self.ask(get_raw("/fx/js"))
        self.assertEqual(r.status_line, "HTTP/1.1 404 Not Found")
        self.assertEqual(r.header("Content-Type"), "application/javascript; charset=utf-8")
        self.assertEqual(r.body, b"var x;")

    def test_fixed_1024_byte_body(self):
        r = self.ask(get_raw("/fx/max"))
        self.assertEqual(r.body, BODY_1024.encode())
        self.assertEqual(r.header("Content-Length"), "1024")

    def test_fixed_503_keeps_its_own_body(self):
        r = self.ask(get_raw("/fx/503"))
        self.assertEqual(r.status_line, "HTTP/1.1 503 Service Temporarily Unavailable")
        self.assertEqual(r.body, b"down")

    def test_fixed_head_has_length_but_no_body(self):
        c = self.lb.connect()
        try:
            c.send(get_raw("/fx/plain", method="HEAD") + get_raw("/fx/json"))
            r = c.read_response(head_request=True)
            self.assertEqual(r.header("Content-Length"), "5")
            self.assertEqual(r.body, b"")
            # the next response starts right after the head: no body bytes were sent
            r2 = c.read_response()
            self.assertEqual((r2.status, r2.body), (201, b'{"a": 1}'))
        finally:
            c.close()

    def test_fixed_post_body_is_consumed(self):
        c = self.lb.connect()
        try:
            c.send(get_raw("/fx/plain", method="POST", body=b"GET /fx/json HTTP/1.1\r\n\r\n"))
            c.send(get_raw("/fx/js"))
            self.assertEqual(c.read_response().body, b"hello")
            self.assertEqual(c.read_response().body, b"var x;")
        finally:
            c.close()

    def test_fixed_log_fields(self):
        self.ask(get_raw("/fx/plain", headers=["User-Agent: fx-log"]))
        e = log_for(self.lb, '"fx-log"')
        self.assertEqual(e["elb_status_code"], "200")
        self.assertEqual(e["target_status_code"], "-")
        self.assertEqual(e["actions_executed"], "fixed-response")
        self.assertEqual(e["redirect_url"], "-")
        self.assertEqual(e["target_group_arn"], "-")
        self.assertEqual(e["matched_rule_priority"], "1")
        self.assertEqual(e["elb"], self.elb)

    # --- redirect --------------------------------------------------------------------

    def test_redirect_301_defaults_keep_path_query_port(self):
        r = self.ask(get_raw("/r301/x/y?q=1&r=%20", "req.example.com"))
        self.assertEqual(r.status_line, "HTTP/1.1 301 Moved Permanently")
        self.assertAlbHead(r, REDIRECT_HEAD)
        self.assertEqual(r.header("Content-Type"), "text/html")
        self.assertEqual(r.header("Content-Length"), "134")
        self.assertEqual(r.header("Location"),
                         f"http://new.example.com:{self.lb.port}/r301/x/y?q=1&r=%20")
        self.assertEqual(r.body, PAGE_301)

    def test_redirect_302_every_field(self):
        r = self.ask(get_raw("/r302/a/b?x=1", "req.example.com:9999"))
        self.assertEqual(r.status_line, "HTTP/1.1 302 Found")
        self.assertEqual(r.header("Location"),
                         "https://req.example.com:443/new/r302/a/b?x=1&from=req.example.com")
        self.assertEqual(r.body, PAGE_302)
        self.assertEqual(r.header("Content-Length"), str(len(PAGE_302)))

    def test_redirect_empty_query_drops_it(self):
        self.assertEqual(self.location("/drop?a=1"), f"http://req.example.com:{self.lb.port}/dropped")

    def test_redirect_no_query_gets_no_question_mark(self):
        self.assertEqual(self.location("/r301/z"), f"http://new.example.com:{self.lb.port}/r301/z")
        self.assertEqual(self.location("/r301/z?"), f"http://new.example.com:{self.lb.port}/r301/z")

    def test_redirect_placeholders_in_path(self):
        p = self.lb.port
        self.assertEqual(self.location("/ph/z?k=v", "h.example.com"),
                         f"http://h.example.com:{p}/h.example.com/{p}/ph/z?k=v")

    def test_redirect_port_only(self):
        self.assertEqual(self.location("/port?a"), "http://req.example.com:8443/port?a")

    def test_redirect_protocol_only(self):
        self.assertEqual(self.location("/proto"), f"https://req.example.com:{self.lb.port}/proto")

    def test_redirect_new_query_replaces_original(self):
        self.assertEqual(self.location("/newq?old=1"),
                         f"http://q.example.com:{self.lb.port}/newq?a=1&b={self.lb.port}")

    def test_redirect_host_from_listener_address_without_host_header(self):
        r = self.ask(b"GET /port HTTP/1.0\r\n\r\n")
        self.assertEqual(r.header("Location"), "http://127.0.0.1:8443/port")

    def test_redirect_head(self):
        r = self.ask(get_raw("/r301/h", method="HEAD"), head_request=True)
        self.assertEqual(r.status, 301)
        self.assertEqual(r.header("Content-Length"), "134")
        self.assertEqual(r.body, b"")

    def test_redirect_log_fields(self):
        self.ask(get_raw("/r302/l?x=1", "req.example.com", headers=["User-Agent: redir-log"]))
        e = log_for(self.lb, '"redir-log"')
        self.assertEqual(e["elb_status_code"], "302")
        self.assertEqual(e["target_status_code"], "-")
        self.assertEqual(e["actions_executed"], "redirect")
        self.assertEqual(e["redirect_url"],
                         "https://req.example.com:443/new/r302/l?x=1&from=req.example.com")
        self.assertEqual(e["target_group_arn"], "-")
        self.assertEqual(e["matched_rule_priority"], "11")
        self.assertEqual(e["request"], f"GET http://req.example.com:{self.lb.port}/r302/l?x=1 HTTP/1.1")
        self.assertEqual(e["error_reason"], "-")

    # --- forward ---------------------------------------------------------------------

    def test_forward_to_group_without_targets_is_503(self):
        c = self.lb.connect()
        try:
            c.send(get_raw("/fwd"))
            r = c.read_response()
            self.assertEqual(r.status_line, "HTTP/1.1 503 Service Temporarily Unavailable")
            self.assertAlbHead(r, FIXED_HEAD)
            self.assertEqual(r.header("Content-Type"), "text/html")
            self.assertEqual(r.header("Content-Length"), "162")
            self.assertEqual(r.header("Connection"), "keep-alive")
            self.assertEqual(r.body, PAGE_503)
            # the connection stays usable
            c.send(get_raw("/fx/plain"))
            self.assertEqual(c.read_response().body, b"hello")
        finally:
            c.close()

    def test_forward_log_fields(self):
        raw = get_raw("/fwd?a=b", "fwd.example.com", headers=["User-Agent: fwd-log"])
        r = self.ask(raw)
        e = log_for(self.lb, '"fwd-log"')
        self.assertEqual(e["elb_status_code"], "503")
        self.assertEqual(e["target_status_code"], "-")
        self.assertEqual(e["target_port"], "-")
        self.assertEqual(e["actions_executed"], "forward")
        self.assertEqual(e["target_group_arn"], self.arns["empty"])
        self.assertRegex(e["target_group_arn"],
                         r"^arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/empty/[0-9a-f]{16}$")
        self.assertEqual(e["matched_rule_priority"], "30")
        self.assertEqual(e["redirect_url"], "-")
        self.assertEqual(e["error_reason"], "-")
        self.assertEqual((e["request_processing_time"], e["target_processing_time"],
                          e["response_processing_time"]), ("-1", "-1", "-1"))
        self.assertEqual(e["received_bytes"], str(len(raw)))
        self.assertEqual(e["sent_bytes"], str(len(r.raw) + 4))  # + the CRLF CRLF ending the head

    def test_forward_weight_zero_group_is_never_chosen(self):
        for i in range(8):
            self.ask(get_raw("/weighted", headers=[f"User-Agent: weighted-{i}"]))
            e = log_for(self.lb, f'"weighted-{i}"')
            self.assertEqual(e["target_group_arn"], self.arns["empty2"])
            self.assertEqual(e["elb_status_code"], "503")


if __name__ == "__main__":
    unittest.main()
