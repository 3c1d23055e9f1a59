"""How lb turns a Lambda function's result into the HTTP answer (alb-lambda-targets.md §2).

The function returns whatever the request asks for: the request body is JSON holding
`result` (returned as it is, so the runtime JSON-encodes it), `raw` (returned as bytes:
posted to the Runtime API verbatim) or `size` (a valid result document of exactly that many
bytes). A few results that a HEAD request must get are picked by ?case=. Target group
`res` is single-value mode, `resm` multi-value mode; both run the same function.
"""
import base64
import json
import struct
import unittest
import zlib

from lambdacommon import PAGE_502, PYTHON, SharedLbCase, fn, raw_request, tg

RESULT_FN = r'''
import base64, json

PRESET = {
    "hello": {"statusCode": 200, "headers": {"content-type": "text/plain"},
              "multiValueHeaders": {"content-type": ["text/plain"]}, "body": "hello world"},
    "nocontent": {"statusCode": 204, "headers": {"x-kind": "204"}, "body": "must not be sent"},
    "notmodified": {"statusCode": 304, "headers": {"etag": "\"abc\""}, "body": "nor this"},
}

def handler(event, context):
    q = event.get("queryStringParameters") or {
        k: v[-1] for k, v in (event.get("multiValueQueryStringParameters") or {}).items()}
    if "case" in q:
        return PRESET[q["case"]]
    body = event["body"]
    if event["isBase64Encoded"]:
        body = base64.b64decode(body)
    doc = json.loads(body)
    if "raw" in doc:
        return doc["raw"].encode("latin-1")
    if "size" in doc:
        head = b'{"statusCode": 200, "body": "'
        fill = doc["size"] - len(head) - 2
        return head + b"x" * fill + b'"}'
    return doc["result"]
'''


def png_2x2():
    """A small, valid PNG image: exact bytes to expect back."""
    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data +
                struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff))
    raw = b"".join(b"\x00" + bytes([255, 0, 0, 0, 255, 0]) for _ in range(2))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


class LambdaResultTests(SharedLbCase):
    FUNCTIONS = [fn("results", PYTHON, "index.handler")]
    TARGET_GROUPS = [tg("res", "results"), tg("resm", "results", multi=True)]
    FILES = {"fn/index.py": RESULT_FN}

    def ask(self, target, doc, method="POST", conn=None):
        raw = raw_request(method, target, [("Content-Type", "application/json")],
                          json.dumps(doc).encode())
        if conn:
            conn.send(raw)
            return conn.read_response(head_request=method == "HEAD")
        return self.lb.request(raw, head_request=method == "HEAD")

    # --- status line -------------------------------------------------------------------

    def test_status_code_only(self):
        for name in ("res", "resm"):
            with self.subTest(name):
                target = f"/{name}/only"
                r = self.ask(target, {"result": {"statusCode": 200}})
                self.assertEqual(r.status_line, "HTTP/1.1 200 OK")
                self.assertEqual(r.header("content-length"), "0")
                self.assertIsNone(r.header("content-type"))
                self.assertEqual(r.body, b"")
                self.assertEqual([n for n, _ in r.headers],
                                 ["Server", "Date", "Content-Length", "Connection"])
                self.assert_forward_log(self.lb, target, 200, 200, "-", name)

    def test_reason_phrase(self):
        cases = [
            ({"statusCode": 404}, "HTTP/1.1 404 Not Found"),
            ({"statusCode": 201, "statusDescription": "201 Created"}, "HTTP/1.1 201 Created"),
            ({"statusCode": 200, "statusDescription": "200 Everything Fine"},
             "HTTP/1.1 200 Everything Fine"),
            ({"statusCode": 418, "statusDescription": "418 I'm a teapot"},
             "HTTP/1.1 418 I'm a teapot"),
            ({"statusCode": 404, "statusDescription": ""}, "HTTP/1.1 404 Not Found"),
        ]
        for result, line in cases:
            with self.subTest(result):
                r = self.ask("/res/reason", {"result": result})
                self.assertEqual(r.status_line, line, r)
        # the function's code, not ALB's, is the target status in the log
        self.ask("/res/teapot", {"result": {"statusCode": 418, "body": "short and stout"}})
        self.assert_forward_log(self.lb, "/res/teapot", 418, 418, "-", "res")

    # --- headers -------------------------------------------------------------------------

    def test_multi_value_set_cookie_lines(self):
        r = self.ask("/resm/cookies", {"result": {
            "statusCode": 200,
            "multiValueHeaders": {"Set-Cookie": ["a=1; Path=/", "b=2; HttpOnly", "c=3"],
                                  "Vary": ["Accept-Encoding", "User-Agent"]},
            "body": "ok"}})
        self.assertEqual(r.status, 200, r)
        self.assertEqual([(n, v) for n, v in r.headers if n.lower() in ("set-cookie", "vary")],
                         [("Set-Cookie", "a=1; Path=/"), ("Set-Cookie", "b=2; HttpOnly"),
                          ("Set-Cookie", "c=3"), ("Vary", "Accept-Encoding"),
                          ("Vary", "User-Agent")])

    def test_single_value_case_variant_keys(self):
        r = self.ask("/res/cookies", {"result": {
            "statusCode": 200,
            "headers": {"set-cookie": "a=1", "Set-Cookie": "b=2", "SET-COOKIE": "c=3"},
            "body": "ok"}})
        self.assertEqual(r.status, 200, r)
        self.assertEqual([(n, v) for n, v in r.headers if n.lower() == "set-cookie"],
                         [("set-cookie", "a=1"), ("Set-Cookie", "b=2"), ("SET-COOKIE", "c=3")])

    def test_headers_of_the_other_mode_are_ignored(self):
        result = {"statusCode": 200, "headers": {"x-single": "s"},
                  "multiValueHeaders": {"x-multi": ["m1", "m2"]}, "body": "b"}
        r = self.ask("/res/mode", {"result": result})
        self.assertEqual((r.header("x-single"), r.header_all("x-multi")), ("s", []), r)
        r = self.ask("/resm/mode", {"result": result})
        self.assertEqual((r.header("x-single"), r.header_all("x-multi")), (None, ["m1", "m2"]), r)

    def test_header_order_and_case(self):
        r = self.ask("/res/order", {"result": {
            "statusCode": 200, "headers": {"X-First": "1", "content-type": "text/plain",
                                           "x-second": "2", "X-Third": "3"},
            "body": "abc"}})
        self.assertEqual([n for n, _ in r.headers],
                         ["Server", "Date", "Content-Type", "Content-Length", "Connection",
                          "X-First", "x-second", "X-Third"])
        self.assertEqual(r.header("content-type"), "text/plain")
        self.assertEqual(r.header("server"), "awselb/2.0")

    def test_content_length_computed_and_hop_by_hop_dropped(self):
        body = "twelve bytes"
        c = self.lb.connect()
        try:
            r = self.ask("/res/hop", {"result": {
                "statusCode": 200,
                "headers": {"Content-Length": "999", "Connection": "close",
                            "Transfer-Encoding": "chunked", "Keep-Alive": "timeout=5",
                            "Upgrade": "h2c", "TE": "trailers", "Trailer": "x-t",
                            "Proxy-Connection": "close", "X-Kept": "yes"},
                "body": body}}, conn=c)
            self.assertEqual(r.status, 200, r)
            names = [n.lower() for n, _ in r.headers]
            for dropped in ("transfer-encoding", "keep-alive", "upgrade", "te", "trailer",
                            "proxy-connection"):
                self.assertNotIn(dropped, names)
            self.assertEqual(r.header_all("content-length"), ["12"])
            self.assertEqual(r.header_all("connection"), ["keep-alive"])
            self.assertEqual(r.header("x-kept"), "yes")
            self.assertEqual(r.body, body.encode())
            # the connection stays open for the next request
            r = self.ask("/res/hop2", {"result": {"statusCode": 200, "body": "again"}}, conn=c)
            self.assertEqual(r.body, b"again")
        finally:
            c.close()

    def test_function_date_kept_and_server_is_albs(self):
        date = "Wed, 21 Oct 2015 07:28:00 GMT"
        r = self.ask("/res/date", {"result": {
            "statusCode": 200, "headers": {"x-a": "1", "Date": date, "Server": "my-server"},
            "body": "d"}})
        self.assertEqual(r.header_all("date"), [date])
        self.assertEqual(r.header_all("server"), ["awselb/2.0"])
        self.assertEqual([n for n, _ in r.headers],
                         ["Server", "Content-Type", "Content-Length", "Connection", "x-a",
                          "Date"])

    # --- bodies ------------------------------------------------------------------------------

    def test_base64_binary_body(self):
        png = png_2x2()
        for name in ("res", "resm"):
            with self.subTest(name):
                hkey = "multiValueHeaders" if name == "resm" else "headers"
                ctype = ["image/png"] if name == "resm" else "image/png"
                r = self.ask(f"/{name}/png", {"result": {
                    "statusCode": 200, hkey: {"Content-Type": ctype},
                    "body": base64.b64encode(png).decode(), "isBase64Encoded": True}})
                self.assertEqual(r.status, 200, r)
                self.assertEqual(r.header("content-type"), "image/png")
                self.assertEqual(r.header("content-length"), str(len(png)))
                self.assertEqual(r.body, png)

    def test_unknown_keys_are_ignored(self):
        r = self.ask("/res/unknown", {"result": {"statusCode": 200, "cookies": ["a=1"],
                                                "extra": {"x": 1}, "body": "fine"}})
        self.assertEqual((r.status, r.body), (200, b"fine"), r)
        self.assertEqual(r.header_all("set-cookie"), [])

    def test_text_body_is_utf8_and_default_content_type(self):
        r = self.ask("/res/utf8", {"result": {"statusCode": 200, "body": "λ ✓ 😀"}})
        self.assertEqual(r.body, "λ ✓ 😀".encode())
        self.assertEqual(r.header("content-length"), str(len("λ ✓ 😀".encode())))
        # no content type from the function: lb says octet-stream for a non-empty body
        self.assertEqual(r.header("content-type"), "application/octet-stream")
        # isBase64Encoded false: a body that looks like base64 is sent as it is
        r = self.ask("/res/notb64", {"result": {"statusCode": 200, "body": "aGVsbG8=",
                                               "isBase64Encoded": False}})
        self.assertEqual(r.body, b"aGVsbG8=")

    def test_head_request(self):
        c = self.lb.connect()
        try:
            c.send(raw_request("HEAD", "/res/head?case=hello"))
            r = c.read_response(head_request=True)
            self.assertEqual(r.status_line, "HTTP/1.1 200 OK", r)
            self.assertEqual(r.header("content-length"), "11")
            self.assertEqual(r.header("content-type"), "text/plain")
            # no body bytes follow: the next answer on the connection starts right away
            c.send(raw_request("GET", "/res/head2?case=hello"))
            r = c.read_response()
            self.assertEqual((r.status, r.body), (200, b"hello world"), r)
        finally:
            c.close()

    def test_204_and_304_framing(self):
        c = self.lb.connect()
        try:
            for case, line, header in (("nocontent", "HTTP/1.1 204 No Content", ("x-kind", "204")),
                                       ("notmodified", "HTTP/1.1 304 Not Modified",
                                        ("etag", '"abc"'))):
                with self.subTest(case):
                    c.send(raw_request("GET", f"/res/{case}?case={case}"))
                    r = c.read_response()
                    self.assertEqual(r.status_line, line, r)
                    self.assertIsNone(r.header("content-length"), r)
                    self.assertIsNone(r.header("transfer-encoding"), r)
                    self.assertEqual(r.header(header[0]), header[1])
                    c.send(raw_request("GET", "/res/after?case=hello"))
                    r = c.read_response()
                    self.assertEqual((r.status, r.body), (200, b"hello world"), r)
        finally:
            c.close()

    # --- results ALB refuses --------------------------------------------------------------------

    def test_invalid_results_are_502(self):
        cases = [  # (target group, what the function returns, lb's detail)
            ("res", {"result": {"statusCode": "200"}}, "statusCode is a string"),
            ("res", {"result": {"body": "no status"}}, "statusCode is missing"),
            ("res", {"result": {"statusCode": 200.0}}, "statusCode is a real number"),
            ("res", {"result": {"statusCode": 99}}, "statusCode 99 is outside 200-599"),
            ("res", {"result": {"statusCode": 600}}, "statusCode 600 is outside 200-599"),
            ("res", {"result": {"statusCode": 200, "body": None}}, "body is null"),
            ("res", {"result": {"statusCode": 200, "body": 123}}, "body is an integer"),
            ("res", {"result": {"statusCode": 200, "headers": None}}, "headers is null"),
            ("res", {"result": {"statusCode": 200, "statusDescription": None}},
             "statusDescription is null"),
            ("res", {"result": {"statusCode": 200, "multiValueHeaders": None}},
             "multiValueHeaders is null"),
            ("res", {"result": {"statusCode": 200, "headers": {"content-length": 123}}},
             'header "content-length" is an integer'),
            ("res", {"result": {"statusCode": 200, "headers": {"x-b": True}}},
             'header "x-b" is a boolean'),
            ("res", {"result": {"statusCode": 200, "headers": {"x-l": ["a"]}}},
             'header "x-l" is an array'),
            ("res", {"result": {"statusCode": 200, "isBase64Encoded": "true", "body": ""}},
             "isBase64Encoded is a string"),
            ("res", {"result": {"statusCode": 200, "isBase64Encoded": True, "body": "abc$"}},
             "body is not valid base64"),
            ("res", {"result": {"statusCode": 200, "isBase64Encoded": True,
                                "body": "QUJD\r\nREVG"}}, "body is not valid base64"),
            ("res", {"result": {"statusCode": 200, "headers": {"x-bad": "a\r\nInjected: 1"}}},
             'headers "x-bad" has CR, LF or NUL in its value'),
            ("res", {"result": {"statusCode": 200, "headers": {"bad name": "v"}}},
             'headers name "bad\\?name" is not a token'),
            ("res", {"result": {"statusCode": 200, "statusDescription": "200 OK\r\nX-Injected: 1"}},
             "statusDescription has CR, LF or NUL"),
            ("res", {"result": [200]}, "result is an array, not an object"),
            ("res", {"result": "200 OK"}, "result is a string, not an object"),
            ("res", {"result": None}, "result is null, not an object"),
            ("res", {"raw": "not json"}, "result is not JSON: .*"),
            ("resm", {"result": {"statusCode": 200, "multiValueHeaders": {"x": "one"}}},
             'multiValueHeaders "x" is a string'),
            ("resm", {"result": {"statusCode": 200, "multiValueHeaders": {"x": ["a", 1]}}},
             'multiValueHeaders "x" holds an integer'),
            ("resm", {"result": {"statusCode": 200, "headers": None}}, "headers is null"),
        ]
        for i, (name, doc, detail) in enumerate(cases):
            with self.subTest(doc=doc):
                target = f"/{name}/bad{i}"
                r = self.ask(target, doc)
                self.assert_502(self.lb, r, target, "LambdaInvalidResponse", name, method="POST",
                                detail=detail)

    def test_informational_status_code_is_invalid(self):
        # A 1xx is an interim response: sent as the final answer it would leave the
        # client waiting and desynchronize a keep-alive connection, so lb answers
        # 502 LambdaInvalidResponse, like 99 or 600.
        for code in (100, 101, 199):
            c = self.lb.connect(timeout=3)
            try:
                c.send(raw_request("POST", f"/res/info{code}", [("Content-Type", "application/json")],
                                   json.dumps({"result": {"statusCode": code, "body": "hi"}}).encode()))
                head = b""
                while b"\r\n\r\n" not in head:
                    head += c.sock.recv(4096)
            finally:
                c.close()
            self.assertTrue(head.startswith(b"HTTP/1.1 502 Bad Gateway\r\n"), head)

    def test_result_size_limit(self):
        # 1 MB is 1,048,576 bytes of result document (DESIGN.md §6)
        limit = 1024 * 1024
        r = self.ask("/res/size-ok", {"size": limit})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(len(r.body), limit - len('{"statusCode": 200, "body": ""}'))
        r = self.ask("/res/size-big", {"size": limit + 1})
        self.assert_502(self.lb, r, "/res/size-big", "LambdaResponseTooLarge", "res", method="POST",
                        detail="result is %d bytes" % (limit + 1))
        self.assertEqual(r.body, PAGE_502)


if __name__ == "__main__":
    unittest.main()
