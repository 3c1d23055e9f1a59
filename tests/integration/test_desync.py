"""Desync mitigation (routing.http.desync_mitigation_mode, alb-listener-rules.md
§4.2): a few cases of AWS's http-desync-guardian corpus
(tests/data/desync-corpus) sent as raw requests, under each mode.

                 monitor    defensive                strictest
  Compliant      serve      serve                    serve
  Acceptable     serve      serve                    400 + close
  Ambiguous      serve      serve, then close        400 + close
  Severe         serve      400 + close              400 + close

Every request is logged with its classification and reason, whatever the mode.
Requests llhttp cannot frame (two Content-Length values) get 400 in every mode,
monitor included: lb cannot serve what its parser rejects.
"""
import unittest

from lbcommon import PAGE_400, ClassLb, config, fixed, get_raw, log_for, page, rules_file

RULES = rules_file(fixed(1, '[{path_pattern: {values: ["/*"]}}]', "ok"))

# name in the corpus file -> (raw request, classification, reason)
CASES = {
    # severe.yaml "Bad Content-Length: 1000,1000"
    "bad_cl_list": (b"POST /foo/bar HTTP/1.1\r\nHost: x\r\nUser-Agent: UA\r\n"
                    b"Content-Length: 1000,1000\r\n\r\n", "Severe", "BadContentLength"),
    # severe.yaml: NUL inside a header value ("BadHeader")
    "nul_header": (b"GET /foo/bar HTTP/1.1\r\nHost: x\r\nUser-Agent: UA\r\nX-A: a\x00b\r\n\r\n",
                   "Severe", "BadHeader"),
    # ambiguous.yaml "Both TE and CL present"
    "te_and_cl": (b"POST /foo/bar HTTP/1.1\r\nHost: x\r\nUser-Agent: UA\r\nContent-Length: 5\r\n"
                  b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", "Ambiguous", "BothTeClPresent"),
    # ambiguous.yaml "Transfer-Encoding with a trailing space in name"
    "te_space": (b"POST /foo/bar HTTP/1.1\r\nHost: x\r\nUser-Agent: UA\r\n"
                 b"Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n", "Ambiguous", "SuspiciousHeader"),
    # acceptable.yaml: GET with Content-Length: 0
    "get_cl0": (b"GET /foo/bar HTTP/1.1\r\nHost: x\r\nUser-Agent: UA\r\nContent-Length: 0\r\n\r\n",
                "Acceptable", "GetHeadZeroContentLength"),
    # acceptable.yaml "No TE/CL headers, some others are non-compliant"
    "odd_header_name": (b"PUT /foo/bar HTTP/1.1\r\nHost: x\r\nUser-Agent: UA\r\n"
                        b"x-my-custom-header : some value\r\nContent-Length: 0\r\n\r\n",
                        "Acceptable", "NonCompliantHeader"),
    "compliant": (b"POST /foo/bar HTTP/1.1\r\nHost: x\r\nUser-Agent: UA\r\nContent-Length: 2\r\n\r\nhi",
                  "-", "-"),
}

# What each mode does: "serve" (keep-alive), "serve-close", "block".
EXPECT = {
    "monitor": {"Severe": "serve", "Ambiguous": "serve", "Acceptable": "serve", "-": "serve"},
    "defensive": {"Severe": "block", "Ambiguous": "serve-close", "Acceptable": "serve", "-": "serve"},
    "strictest": {"Severe": "block", "Ambiguous": "block", "Acceptable": "block", "-": "serve"},
}


class DesyncBase(ClassLb):
    MODE = None
    RULES = {"a.yaml": RULES}

    def run_case(self, name):
        raw, cls, reason = CASES[name]
        ua = f"desync-{self.MODE}-{name}".encode()
        raw = raw.replace(b"User-Agent: UA", b"User-Agent: " + ua)
        want = EXPECT[self.MODE][cls]
        c = self.lb.connect()
        self.addCleanup(c.close)
        # a second, harmless request behind it: answered only when the connection lives on
        c.send(raw + get_raw("/next"))
        r = c.read_response()
        if want == "block":
            self.assertEqual(r.status_line, "HTTP/1.1 400 Bad Request")
            self.assertEqual(r.header("Connection"), "close")
            self.assertEqual(r.body, PAGE_400)
            self.assertEqual(c.read_all(), b"")
        elif want == "serve-close":
            self.assertEqual((r.status, r.body), (200, b"ok"))
            self.assertEqual(r.header("Connection"), "close")
            self.assertEqual(c.read_all(), b"")
        else:
            self.assertEqual((r.status, r.body), (200, b"ok"))
            self.assertEqual(r.header("Connection"), "keep-alive")
        e = log_for(self.lb, '"' + ua.decode() + '"')
        self.assertEqual(e["classification"], cls)
        self.assertEqual(e["classification_reason"], reason)
        self.assertEqual(e["elb_status_code"], "400" if want == "block" else "200")
        return c

    def test_severe_bad_content_length_list(self):
        if self.MODE == "monitor":
            self.skipTest("lb cannot frame it: see test_severe_bad_cl_is_400_even_in_monitor")
        self.run_case("bad_cl_list")

    def test_severe_nul_in_header(self):
        self.run_case("nul_header")

    def test_ambiguous_both_te_and_cl(self):
        c = self.run_case("te_and_cl")
        if EXPECT[self.MODE]["Ambiguous"] == "serve":
            # chunked framing wins: the next request is read right after "0\r\n\r\n"
            self.assertEqual(c.read_response().body, b"ok")

    def test_ambiguous_suspicious_te_name(self):
        self.run_case("te_space")

    def test_acceptable_get_with_zero_content_length(self):
        c = self.run_case("get_cl0")
        if EXPECT[self.MODE]["Acceptable"] == "serve":
            self.assertEqual(c.read_response().body, b"ok")

    def test_acceptable_non_compliant_header_name(self):
        self.run_case("odd_header_name")

    def test_compliant_is_logged_with_dashes(self):
        c = self.run_case("compliant")
        self.assertEqual(c.read_response().body, b"ok")

    def test_duplicate_content_length_is_400_in_every_mode_lb_cannot_frame_it(self):
        # ambiguous.yaml DuplicateContentLength: ALB serves it in monitor and defensive
        # mode; llhttp rejects two Content-Length fields, so lb answers 400 in every mode.
        c = self.lb.connect()
        self.addCleanup(c.close)
        c.send(b"POST / HTTP/1.1\r\nHost: x\r\nUser-Agent: dupcl-" + self.MODE.encode() +
               b"\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc")
        r = c.read_response()
        self.assertEqual((r.status, r.body), (400, PAGE_400))
        self.assertEqual(c.read_all(), b"")
        port = c.sock.getsockname()[1]
        e = log_for(self.lb, f"127.0.0.1:{port} ")
        self.assertEqual(e["classification"], "Ambiguous")
        self.assertEqual(e["classification_reason"], "DuplicateContentLength")


class DesyncMonitorTest(DesyncBase):
    MODE = "monitor"
    CONFIG = config(attributes={"routing.http.desync_mitigation_mode": "monitor"})

    def test_severe_bad_cl_is_400_even_in_monitor_lb_cannot_frame_it(self):
        # ALB's monitor mode would forward it; llhttp cannot read "1000,1000" as a length.
        c = self.lb.connect()
        self.addCleanup(c.close)
        c.send(CASES["bad_cl_list"][0].replace(b"User-Agent: UA", b"User-Agent: mon-badcl"))
        r = c.read_response()
        self.assertEqual((r.status, r.body), (400, PAGE_400))
        self.assertEqual(c.read_all(), b"")
        port = c.sock.getsockname()[1]
        e = log_for(self.lb, f"127.0.0.1:{port} ")
        self.assertEqual((e["classification"], e["classification_reason"]),
                         ("Severe", "BadContentLength"))

    def test_identity_transfer_encoding_is_no_coding(self):
        # ALB accepts "identity" (alb-http-targets-and-tls.md §1.3): the body is framed as
        # if the header were absent. llhttp alone would read it to the end of the
        # connection, swallowing every request behind it.
        for raw, body_ua in ((b"POST /a HTTP/1.1\r\nHost: x\r\nUser-Agent: te-id-cl\r\n"
                              b"Transfer-Encoding: identity\r\nContent-Length: 3\r\n\r\nabc", "te-id-cl"),
                             (b"GET /a HTTP/1.1\r\nHost: x\r\nUser-Agent: te-id\r\n"
                              b"Transfer-Encoding: identity\r\n\r\n", "te-id")):
            c = self.lb.connect()
            self.addCleanup(c.close)
            c.send(raw + get_raw("/after-" + body_ua))
            r = c.read_response()
            self.assertEqual((r.status, r.body, r.header("Connection")), (200, b"ok", "keep-alive"))
            self.assertEqual(c.read_response().status, 200)
            e = log_for(self.lb, f'"{body_ua}"')
            self.assertEqual(e["received_bytes"], str(len(raw)))
            self.assertEqual(log_for(self.lb, f"/after-{body_ua} ")["elb_status_code"], "200")

    def test_http2_request_on_an_http1_connection_is_505(self):
        # ALB: "HTTP 505 ... when an HTTP/2 request arrives on a connection established as
        # HTTP/1" (alb-http-targets-and-tls.md §2): the prior-knowledge preface, or a
        # request line naming HTTP/2.0. Logged as type http, with HDG's BadVersion.
        for raw in (b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", b"GET /v2 HTTP/2.0\r\nHost: x\r\n\r\n"):
            c = self.lb.connect()
            self.addCleanup(c.close)
            c.send(raw)
            r = c.read_response()
            self.assertEqual((r.status, r.body, r.header("Connection")),
                             (505, page("505 HTTP Version Not Supported"), "close"))
            self.assertEqual(c.read_all(), b"")
            e = log_for(self.lb, f"127.0.0.1:{c.sock.getsockname()[1]} ")
            self.assertEqual((e["type"], e["elb_status_code"], e["classification_reason"]),
                             ("http", "505", "BadVersion"))

    def test_transfer_encoding_not_ending_in_chunked_is_400_and_close(self):
        # RFC 9112 §6.3: its body's length cannot be known (llhttp refuses it).
        c = self.lb.connect()
        self.addCleanup(c.close)
        c.send(b"POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n\r\n"
               b"3\r\nabc\r\n0\r\n\r\n" + get_raw("/smuggled"))
        r = c.read_response()
        self.assertEqual((r.status, r.body, r.header("Connection")), (400, PAGE_400, "close"))
        self.assertEqual(c.read_all(), b"")


class DesyncDefensiveTest(DesyncBase):
    MODE = "defensive"
    CONFIG = config(attributes={"routing.http.desync_mitigation_mode": "defensive"})

    def test_blocked_request_is_logged_with_its_request_line(self):
        raw = CASES["nul_header"][0].replace(b"User-Agent: UA", b"User-Agent: blocked-line")
        r = self.ask(raw)
        self.assertEqual(r.status, 400)
        e = log_for(self.lb, '"blocked-line"')
        self.assertEqual(e["request"], f"GET http://x:{self.lb.port}/foo/bar HTTP/1.1")
        self.assertEqual(e["matched_rule_priority"], "-")

    def test_smuggled_request_behind_an_ambiguous_one_is_never_answered(self):
        c = self.lb.connect()
        self.addCleanup(c.close)
        c.send(b"POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\n\r\n"
               b"0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n")
        r = c.read_response()
        self.assertEqual(r.header("Connection"), "close")
        self.assertEqual(c.read_all(), b"")


class DesyncDefaultModeTest(DesyncBase):
    """No attribute: defensive is ALB's default."""
    MODE = "defensive"
    CONFIG = config()


class DesyncStrictestTest(DesyncBase):
    MODE = "strictest"
    CONFIG = config(attributes={"routing.http.desync_mitigation_mode": "strictest"})


del DesyncBase

if __name__ == "__main__":
    unittest.main()
