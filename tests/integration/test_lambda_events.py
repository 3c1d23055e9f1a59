"""The ALB event a Lambda function receives through lb (alb-lambda-targets.md §1).

An echo function (Python and Node) returns the event it got; requests go through lb's
listener as raw bytes so that header case, repetition and order, the raw path and query
and the body bytes are exactly what the test chose. Every test runs against four target
groups: Python and Node, single-value and multi-value mode. The captured events in
tests/data/captured-events are re-created as real requests and compared with what the
function received.
"""
import base64
import copy
import json
import os
import re
import time
import unittest

from lambdacommon import (ECHO_NODE, ECHO_PY, NODE, PYTHON, TRACE_ROOT, SharedLbCase, fn,
                          raw_request, tg, tg_arn_re)

# (target group, runtime, multi-value mode)
VARIANTS = [("pys", PYTHON, False), ("pym", PYTHON, True), ("nodes", NODE, False),
            ("nodem", NODE, True)]

SINGLE_KEYS = {"requestContext", "httpMethod", "path", "queryStringParameters", "headers", "body",
               "isBase64Encoded"}
MULTI_KEYS = {"requestContext", "httpMethod", "path", "multiValueQueryStringParameters",
              "multiValueHeaders", "body", "isBase64Encoded"}


class LambdaEventTests(SharedLbCase):
    FUNCTIONS = [fn("echopy", PYTHON, "echo.handler"), fn("echonode", NODE, "echo.handler")]
    TARGET_GROUPS = [tg("pys", "echopy"), tg("pym", "echopy", multi=True),
                     tg("nodes", "echonode"), tg("nodem", "echonode", multi=True)]
    FILES = {"fn/echo.py": ECHO_PY, "fn/echo.mjs": ECHO_NODE}

    def event(self, variant, rest, headers=(), body=b"", method="GET", **kw):
        """The event the echo function of variant got for /<variant><rest>."""
        r = self.lb.request(raw_request(method, f"/{variant}{rest}", headers, body, **kw))
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.header("content-type"), "application/json", r)
        ev = json.loads(r.body)["event"]
        self.assertEqual(set(ev), MULTI_KEYS if variant.endswith("m") else SINGLE_KEYS, ev)
        return ev

    @staticmethod
    def headers_of(ev):
        return ev["multiValueHeaders"] if "multiValueHeaders" in ev else ev["headers"]

    @staticmethod
    def query_of(ev):
        if "multiValueQueryStringParameters" in ev:
            return ev["multiValueQueryStringParameters"]
        return ev["queryStringParameters"]

    def each(self):
        for name, runtime, multi in VARIANTS:
            with self.subTest(target_group=name):
                yield name, multi

    # --- headers ---------------------------------------------------------------------------

    def test_repeated_headers_and_lower_case_names(self):
        headers = [("X-Rep", "one"), ("x-rep", "two"), ("X-REP", "three"),
                   ("X-Mixed-Case", "MiXeD Value"), ("Cookie", "a=1; b=2"), ("Cookie", "c=3"),
                   ("X-List", "a, b,c"), ("X-Empty", "")]
        for name, multi in self.each():
            h = self.headers_of(self.event(name, "/hdr", headers))
            for key in h:
                self.assertEqual(key, key.lower(), h)
            got = {k: h[k] for k in ("x-rep", "x-mixed-case", "cookie", "x-list", "x-empty")}
            if multi:
                self.assertEqual(got, {"x-rep": ["one", "two", "three"],
                                       "x-mixed-case": ["MiXeD Value"],
                                       "cookie": ["a=1; b=2", "c=3"],
                                       "x-list": ["a, b,c"], "x-empty": [""]})
            else:
                self.assertEqual(got, {"x-rep": "three", "x-mixed-case": "MiXeD Value",
                                       "cookie": "c=3", "x-list": "a, b,c", "x-empty": ""})
            for k in ("X-Rep", "X-REP", "X-Mixed-Case", "Cookie"):
                self.assertNotIn(k, h)

    def test_forwarded_headers_and_trace_id(self):
        port = str(self.lb.port)
        for name, multi in self.each():
            h = self.headers_of(self.event(name, "/fwd"))
            one = (lambda v: [v]) if multi else (lambda v: v)
            self.assertEqual(h["x-forwarded-for"], one("127.0.0.1"))
            self.assertEqual(h["x-forwarded-proto"], one("http"))
            self.assertEqual(h["x-forwarded-port"], one(port))
            trace = h["x-amzn-trace-id"][0] if multi else h["x-amzn-trace-id"]
            m = re.fullmatch(r"Root=1-([0-9a-f]{8})-[0-9a-f]{24}", trace)
            self.assertIsNotNone(m, trace)
            self.assertLess(abs(int(m.group(1), 16) - time.time()), 10, trace)

            # What the client sent: XFF is appended to, the others are ALB's own,
            # an incoming Root gets a Self in front of it.
            h = self.headers_of(self.event(name, "/fwd2", [
                ("X-Forwarded-For", "203.0.113.9"), ("X-Forwarded-Proto", "https"),
                ("X-Forwarded-Port", "1"),
                ("X-Amzn-Trace-Id", "Root=1-5759e988-bd862e3fe1be46a994272793;CalledFrom=app")]))
            self.assertEqual(h["x-forwarded-for"], one("203.0.113.9, 127.0.0.1"))
            self.assertEqual(h["x-forwarded-proto"], one("http"))
            self.assertEqual(h["x-forwarded-port"], one(port))
            trace = h["x-amzn-trace-id"][0] if multi else h["x-amzn-trace-id"]
            self.assertRegex(trace, r"^Self=%s;Root=1-5759e988-bd862e3fe1be46a994272793;"
                                    r"CalledFrom=app$" % TRACE_ROOT)

    def test_event_keys_and_target_group_arn(self):
        for name, multi in self.each():
            ev = self.event(name, "/keys", method="PATCH")
            self.assertEqual(ev["httpMethod"], "PATCH")
            self.assertEqual(list(ev["requestContext"]), ["elb"])
            self.assertEqual(list(ev["requestContext"]["elb"]), ["targetGroupArn"])
            arn = ev["requestContext"]["elb"]["targetGroupArn"]
            self.assertRegex(arn, tg_arn_re(name))
            entry = self.log_entry(self.lb, f"/{name}/keys")
            self.assertEqual(entry["target_group_arn"], arn)
            self.assertEqual(entry["actions_executed"], "forward")
            self.assertEqual((entry["elb_status_code"], entry["target_status_code"]), ("200", "200"))
            self.assertEqual(entry["error_reason"], "-")
            # the header map is the mode's, with plain strings or arrays of strings
            for v in self.headers_of(ev).values():
                if multi:
                    self.assertTrue(isinstance(v, list) and all(isinstance(x, str) for x in v), v)
                else:
                    self.assertIsInstance(v, str)
            self.assertIs(ev["isBase64Encoded"], False)
            self.assertEqual(ev["body"], "")
        # Two target groups of the same function have their own ARNs.
        a = self.event("pys", "/arn")["requestContext"]["elb"]["targetGroupArn"]
        b = self.event("pym", "/arn")["requestContext"]["elb"]["targetGroupArn"]
        self.assertNotEqual(a.rsplit("/", 1)[1], b.rsplit("/", 1)[1])

    # --- path and query ----------------------------------------------------------------------

    def test_repeated_query_keys(self):
        for name, multi in self.each():
            q = self.query_of(self.event(name, "/q?a=1&b=x&a=2&a=3&B=y"))
            if multi:
                self.assertEqual(q, {"a": ["1", "2", "3"], "b": ["x"], "B": ["y"]})
            else:
                self.assertEqual(q, {"a": "3", "b": "x", "B": "y"})

    def test_raw_path_and_query(self):
        query = ("q=a%20b&enc=a%2Bb&plus=a+b&k=&flag&url=https%3A%2F%2Fx.example%2Fa&eq=a=b"
                 "&&uni=%E2%9C%93&")
        expected = {"q": "a%20b", "enc": "a%2Bb", "plus": "a+b", "k": "", "flag": "",
                    "url": "https%3A%2F%2Fx.example%2Fa", "eq": "a=b", "uni": "%E2%9C%93"}
        for name, multi in self.each():
            ev = self.event(name, "/sp%20ace/a%2Fb/%E2%9C%93/a+b?" + query)
            self.assertEqual(ev["path"], f"/{name}/sp%20ace/a%2Fb/%E2%9C%93/a+b")
            q = self.query_of(ev)
            self.assertEqual(q, {k: [v] for k, v in expected.items()} if multi else expected)
            self.assertEqual(list(q), list(expected))  # in the order they came

    def test_no_query_is_empty_object(self):
        for name, multi in self.each():
            for rest in ("/noq", "/noq?"):
                ev = self.event(name, rest)
                self.assertEqual(self.query_of(ev), {}, rest)
                self.assertEqual(ev["path"], f"/{name}/noq")

    # --- body ------------------------------------------------------------------------------

    def test_body_text_or_base64_by_content_type(self):
        body = b'{"k": "v", "n": 1}'
        cases = [  # (headers, is text)
            ([("Content-Type", "application/json")], True),
            ([("Content-Type", "application/json; charset=utf-8")], True),
            ([("Content-Type", "Application/JSON")], True),
            ([("Content-Type", "text/plain")], True),
            ([("Content-Type", "text/html; charset=iso-8859-1")], True),
            ([("Content-Type", "text/csv")], True),
            ([("Content-Type", "application/javascript")], True),
            ([("Content-Type", "application/xml")], True),
            ([("Content-Type", "application/x-www-form-urlencoded")], False),
            ([("Content-Type", "multipart/form-data; boundary=x")], False),
            ([("Content-Type", "application/vnd.api+json")], False),
            ([("Content-Type", "application/octet-stream")], False),
            ([("Content-Type", "image/png")], False),
            ([], False),  # no content type at all
            ([("Content-Type", "application/json"), ("Content-Encoding", "gzip")], False),
            ([("Content-Type", "text/plain"), ("Content-Encoding", "identity")], False),
        ]
        for name, multi in self.each():
            for i, (headers, text) in enumerate(cases):
                with self.subTest(headers=headers):
                    ev = self.event(name, f"/body{i}", headers, body, method="POST")
                    self.assertIs(ev["isBase64Encoded"], not text)
                    self.assertEqual(ev["body"], body.decode() if text
                                     else base64.b64encode(body).decode())
                    h = self.headers_of(ev)
                    self.assertEqual(h["content-length"], [str(len(body))] if multi
                                     else str(len(body)))

    def test_empty_body_is_empty_string_whatever_the_type(self):
        for name, multi in self.each():
            for ctype in ("application/octet-stream", "application/json", None):
                headers = [("Content-Length", "0")] + ([("Content-Type", ctype)] if ctype else [])
                ev = self.event(name, "/empty", headers, method="POST")
                self.assertEqual((ev["body"], ev["isBase64Encoded"]), ("", False), ctype)

    def test_binary_body_round_trip(self):
        payload = bytes(range(256)) * 64 + b"\x00\r\n\xff"
        for name, multi in self.each():
            ev = self.event(name, "/bin", [("Content-Type", "application/octet-stream")], payload,
                            method="PUT")
            self.assertIs(ev["isBase64Encoded"], True)
            self.assertEqual(base64.b64decode(ev["body"], validate=True), payload)
            # and back: the function returns the event's body as it got it
            r = self.lb.request(raw_request("PUT", f"/{name}/bin?reflect",
                                            [("Content-Type", "application/octet-stream")], payload))
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.header("content-length"), str(len(payload)))
            self.assertEqual(r.body, payload)

    def test_chunked_request_body(self):
        body = b"hello chunked world " * 100
        chunked = b"".join(b"%x\r\n%s\r\n" % (len(body[i:i + 300]), body[i:i + 300])
                           for i in range(0, len(body), 300)) + b"0\r\n\r\n"
        for name, multi in self.each():
            ev = self.event(name, "/chunked", [("Content-Type", "text/plain"),
                                               ("Transfer-Encoding", "chunked")],
                            chunked, method="POST", length=False)
            self.assertEqual(ev["body"], body.decode())
            self.assertIs(ev["isBase64Encoded"], False)

    def test_unicode_body_and_headers(self):
        text = '{"msg": "λ ✓ 😀 – naïve"}'
        for name, multi in self.each():
            ev = self.event(name, "/uni", [("Content-Type", "application/json; charset=utf-8"),
                                           ("X-Uni", "λ✓😀".encode())],
                            text.encode(), method="POST")
            self.assertEqual(ev["body"], text)
            self.assertIs(ev["isBase64Encoded"], False)
            h = self.headers_of(ev)
            self.assertEqual(h["x-uni"], ["λ✓😀"] if multi else "λ✓😀")
            # a UTF-8 body of a type ALB base64-encodes round-trips byte for byte
            r = self.lb.request(raw_request("POST", f"/{name}/uni?reflect",
                                            [("Content-Type", "text/plain; charset=utf-8")],
                                            text.encode()))
            self.assertEqual(r.body, text.encode())

    def test_bytes_not_utf8_in_a_header_or_a_text_body_are_502_without_invoking(self):
        # ALB: "request headers or a non-base64 body" that are not UTF-8 fail the
        # invocation, LambdaBadRequest (S-AL; the status is unverified, lb answers 502).
        cases = [("hdr", [("X-Name", b"caf\xe9")], b""),
                 ("hdr2", [("X-A", b"\xff"), ("X-A", b"ok")], b""),
                 ("txt", [("Content-Type", "text/plain")], b"caf\xe9")]
        for name, multi in self.each():
            for case, headers, body in cases:
                target = f"/{name}/bad-{case}"
                r = self.lb.request(raw_request("POST", target, headers, body))
                self.assert_502(self.lb, r, target, "LambdaBadRequest", name, method="POST",
                                detail="a header value or the text body is not UTF-8")
            # the same bytes in a body ALB base64-encodes are fine
            ev = self.event(name, "/ok-bin", [("Content-Type", "application/octet-stream")],
                            b"caf\xe9", method="POST")
            self.assertEqual(base64.b64decode(ev["body"]), b"caf\xe9")


# --------------------------------------------------------------------------------------
# Captured events, re-created as real requests

CAPTURES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "data",
                        "captured-events")
# README.md there: the mode of each capture
CAPTURE_MODES = {
    "single-curl-get-2019.json": False,
    "multi-curl-get-2019.json": True,
    "multi-no-query-2022.json": True,
    "multi-encoded-path-query-json-body-2026.json": True,
    "single-body-no-content-type-base64-2019.json": False,
    "single-put-json-https-2022.json": False,
    "health-check.json": False,
}
IGNORED = {"host", "x-forwarded-for", "x-forwarded-port", "x-forwarded-proto", "x-amzn-trace-id",
           "x-imforwards"}


class LambdaCapturedEventTests(SharedLbCase):
    FUNCTIONS = [fn("echo", PYTHON, "echo.handler")]
    TARGET_GROUPS = [tg("cap-single", "echo"), tg("cap-multi", "echo", multi=True)]
    ROUTES = [([{"host_header": {"values": ["multi.test"]}}], "cap-multi"),
              (["*"], "cap-single")]
    FILES = {"fn/echo.py": ECHO_PY}

    def test_files_are_all_covered(self):
        self.assertEqual(sorted(f for f in os.listdir(CAPTURES) if f.endswith(".json")),
                         sorted(CAPTURE_MODES))

    def recreate(self, capture, multi):
        """(request bytes, expected event) for one capture."""
        hmap = capture["multiValueHeaders"] if multi else capture["headers"]
        qmap = (capture["multiValueQueryStringParameters"] if multi
                else capture["queryStringParameters"])
        headers = []
        for k, v in hmap.items():
            if k in IGNORED:
                continue
            for value in (v if multi else [v]):
                headers.append((k, value))
        pieces = [f"{k}={v}" for k, vs in qmap.items() for v in (vs if multi else [vs])]
        target = capture["path"] + ("?" + "&".join(pieces) if pieces else "")
        expected = copy.deepcopy(capture)
        if capture["isBase64Encoded"]:
            # The 2019 capture's body was redacted: send bytes of the recorded length.
            body = bytes((i * 7 + 3) % 256 for i in range(int(hmap["content-length"])))
            expected["body"] = base64.b64encode(body).decode()
        else:
            body = capture["body"].encode()
        if "content-length" in hmap:
            n = hmap["content-length"][0] if multi else hmap["content-length"]
            self.assertEqual(int(n), len(body))
        raw = raw_request(capture["httpMethod"], target, headers, body,
                          host="multi.test" if multi else "single.test", length=False)
        return raw, expected

    def test_captured_events(self):
        for name, multi in CAPTURE_MODES.items():
            with self.subTest(capture=name):
                with open(os.path.join(CAPTURES, name)) as f:
                    capture = json.load(f)
                raw, expected = self.recreate(capture, multi)
                r = self.lb.request(raw)
                self.assertEqual(r.status, 200, r)
                got = json.loads(r.body)["event"]

                # what lb adds, and what a real ALB no longer sends
                tg_name = "cap-multi" if multi else "cap-single"
                self.assertRegex(got["requestContext"]["elb"]["targetGroupArn"], tg_arn_re(tg_name))
                hkey = "multiValueHeaders" if multi else "headers"
                for k in ("host", "x-forwarded-for", "x-forwarded-port", "x-forwarded-proto",
                          "x-amzn-trace-id"):
                    self.assertIn(k, got[hkey])
                self.assertNotIn("x-imforwards", got[hkey])
                # the 2026 logger's null keys: a real ALB (and lb) omits them
                for k in ("headers", "queryStringParameters") if multi else (
                        "multiValueHeaders", "multiValueQueryStringParameters"):
                    self.assertNotIn(k, got)
                    expected.pop(k, None)

                for ev in (got, expected):
                    ev["requestContext"]["elb"]["targetGroupArn"] = "-"
                    for k in IGNORED:
                        ev[hkey].pop(k, None)
                self.assertEqual(got, expected)


if __name__ == "__main__":
    unittest.main()
