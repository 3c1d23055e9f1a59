"""An Express 5 app behind lb through the two common adapters, in both target-group modes.

tests/clients/functions/express/app.js is an ordinary Express app; http.js wraps it with
serverless-http 4.0.0, codegenie.js with @codegenie/serverless-express 4.17.1 (5.x needs
Node >= 24). Each runs as a `nodejs20.x` function under lb's bundled runtime, behind a target
group with lambda.multi_value_headers.enabled false (single) or true (multi). The requests
go over real sockets to lb; the assertions are on what the client gets and on
what the app says it saw.

What this proves about lb: its events are ones these adapters turn into the right Express
request (method, path, raw query that the adapters then decode, JSON/text/form/binary bodies,
cookies, repeated headers, X-Forwarded-*), and their results come back as the right HTTP
responses (status, reason, custom headers, Set-Cookie per mode, base64 bodies decoded).

Adapter behaviour these tests pin down (not lb's; real ALB gives the same):
- single mode can carry one value per response header. For two Set-Cookie headers
  serverless-http puts the array only in multiValueHeaders, which single mode ignores, so
  *no* cookie arrives; @codegenie/serverless-express keeps the first one.
- ALB passes the query raw; both adapters percent-decode it (and `+` → space) before
  Express parses it. On a stray `%` (`?pct=100%`) serverless-http keeps the value as it
  is; @codegenie's decodeURIComponent throws and the adapter answers its own bare 500.
- @codegenie/serverless-express >= 4.16 may crash in Express's finalhandler (`ee.on is not
  a function`, CodeGenieApp/serverless-express#698), racily; codegenie.js works around it by
  answering 404s and errors in the app, so finalhandler never runs for that adapter.
"""
import gzip
import hashlib
import json
import os
import unittest

from clientenv import ClientTestCase, access_log_line, fn_dir

NODE = "nodejs20.x"
with open(os.path.join(fn_dir("express"), "image.png"), "rb") as _f:
    PNG = _f.read()
UPLOAD = bytes(range(256)) * 4 + b"\r\n\x00end"


class ExpressCase:
    """Mixin: the tests, run for every (adapter, mode) subclass below."""

    handler = None          # "http.handler" or "codegenie.handler"
    multi = None            # target-group mode
    joined = None           # how the adapter joins a repeated request header (multi mode)
    cookies_single = None   # Set-Cookie lines that arrive in single mode

    def setUp(self):
        self.lb = self.serve([{"name": "app", "runtime": NODE, "handler": self.handler,
                               "code": fn_dir("express")}], multi_value=self.multi)

    def json(self, path, status=200, **kw):
        r = self.lb.get(path, **kw)
        self.assertEqual(r.status, status, r)
        self.assertEqual(r.header("content-type"), "application/json; charset=utf-8", r)
        self.assertEqual(r.header("server"), "awselb/2.0", r)
        self.assertEqual(int(r.header("content-length")), len(r.body), r)
        return r, json.loads(r.body)

    def test_routing_methods_and_paths(self):
        r, b = self.json("/app/echo")
        self.assertEqual((b["route"], b["method"], b["path"]), ("echo", "GET", "/app/echo"))
        r, b = self.json("/app/items")
        self.assertEqual(b["route"], "list")

        body = json.dumps({"id": 7, "name": "caf\u00e9 \u2615"}, ensure_ascii=False).encode()
        r, b = self.json("/app/items", 201, method="POST", body=body,
                         headers=["Content-Type: application/json"])
        self.assertEqual(r.status_line, "HTTP/1.1 201 Created")
        self.assertEqual(r.header("location"), "/app/items/7")
        self.assertEqual(b["route"], "create")
        self.assertEqual(b["body"], {"id": 7, "name": "caf\u00e9 \u2615"})

        r, b = self.json("/app/items/7", method="PUT", body=b'{"id":7,"done":true}',
                         headers=["Content-Type: application/json; charset=utf-8"])
        self.assertEqual((b["route"], b["params"], b["body"]),
                         ("replace", {"id": "7"}, {"id": 7, "done": True}))
        r, b = self.json("/app/items/8", method="PATCH", body=b'{"done":false}',
                         headers=["Content-Type: application/json"])
        self.assertEqual((b["route"], b["params"]), ("patch", {"id": "8"}))

        r = self.lb.get("/app/items/7", method="DELETE")
        self.assertEqual(r.status_line, "HTTP/1.1 204 No Content", r)
        self.assertEqual(r.header("x-deleted"), "7")
        self.assertEqual(r.body, b"")

        # Outside the rule's /app and /app/* it is lb's own default action, not Express.
        r = self.lb.get("/elsewhere")
        self.assertEqual((r.status, r.body), (404, b"no rule matched"), r)

    def test_express_404(self):
        r = self.lb.get("/app/nope")
        self.assertEqual(r.status_line, "HTTP/1.1 404 Not Found", r)
        self.assertEqual(r.header("content-type"), "text/html; charset=utf-8")
        self.assertIn(b"<pre>Cannot GET /app/nope</pre>", r.body)
        r = self.lb.get("/app/echo", method="DELETE")
        self.assertEqual(r.status, 404, r)
        self.assertIn(b"<pre>Cannot DELETE /app/echo</pre>", r.body)
        # Express's 404 went through the function: target status 404, no lb error.
        line = self.lb.log_lines(2)[-1]
        self.assertEqual((line["elb_status_code"], line["target_status_code"],
                          line["error_reason"]), ("404", "404", "-"), line["_raw"])

    def test_query_raw_in_event_decoded_by_adapter(self):
        q = "q=hello%20world&plus=a+b&enc=%2Fx%3Fy&u=%C3%A9&tag=x&tag=y&flag&empty="
        r, b = self.json("/app/event?" + q)
        # lb, like ALB, passes keys and values raw: no percent-decoding, '+' stays '+'.
        raw = {"q": "hello%20world", "plus": "a+b", "enc": "%2Fx%3Fy", "u": "%C3%A9",
               "flag": "", "empty": ""}
        if self.multi:
            self.assertNotIn("queryStringParameters", b["event"])
            self.assertEqual(b["event"]["multiValueQueryStringParameters"],
                             {**{k: [v] for k, v in raw.items()}, "tag": ["x", "y"]})
        else:
            self.assertNotIn("multiValueQueryStringParameters", b["event"])
            self.assertEqual(b["event"]["queryStringParameters"], {**raw, "tag": "y"})
        # The adapter decodes, then Express parses: what the app sees.
        self.assertEqual(b["app"]["query"], {
            "q": "hello world", "plus": "a b", "enc": "/x?y", "u": "\u00e9",
            "tag": ["x", "y"] if self.multi else "y",  # single mode: last value wins
            "flag": "", "empty": ""})
        self.assertEqual(b["app"]["path"], "/app/event")
        # No query at all: {} in the mode's map, and Express sees none.
        r, b = self.json("/app/event")
        key = "multiValueQueryStringParameters" if self.multi else "queryStringParameters"
        self.assertEqual(b["event"][key], {})
        self.assertEqual(b["app"]["query"], {})

    def test_json_text_form_and_binary_request_bodies(self):
        r = self.lb.get("/app/items", method="POST", body=b'{"id": 1,',
                        headers=["Content-Type: application/json"])
        self.assertEqual(r.status, 400, r)  # express.json()'s own parse error
        self.assertIn(b"SyntaxError", r.body)

        r, b = self.json("/app/form", method="POST", body=b"name=J%C3%B6rg+M&x=1&x=2",
                         headers=["Content-Type: application/x-www-form-urlencoded"])
        self.assertEqual(b["form"], {"name": "J\u00f6rg M", "x": ["1", "2"]})

        # application/octet-stream reaches the function base64-encoded; the adapter decodes.
        r, b = self.json("/app/upload", method="POST", body=UPLOAD,
                         headers=["Content-Type: application/octet-stream"])
        self.assertEqual((b["length"], b["sha256"]),
                         (len(UPLOAD), hashlib.sha256(UPLOAD).hexdigest()))
        # So does a text body with a Content-Encoding; express.raw() then gunzips it.
        text = "gzipped text \u00e9 ".encode() * 50
        r, b = self.json("/app/upload", method="POST", body=gzip.compress(text),
                         headers=["Content-Type: text/plain", "Content-Encoding: gzip"])
        self.assertEqual((b["length"], b["sha256"]), (len(text), hashlib.sha256(text).hexdigest()))

    def test_cookies(self):
        r, b = self.json("/app/cookies", headers=["Cookie: sid=abc; theme=light%20blue"])
        self.assertEqual(b["cookies"], {"sid": "abc", "theme": "light blue"})
        got = r.header_all("set-cookie")
        if self.multi:
            self.assertEqual(len(got), 2, r)
            self.assertEqual(got[0], "session=abc123; Path=/; HttpOnly")
            self.assertRegex(got[1], r"^theme=dark; Max-Age=3600; Path=/app; Expires=\w{3}, ")
        else:
            self.assertEqual(got, self.cookies_single, r)

    def test_status_codes_and_custom_headers(self):
        for code, line in [(200, "200 OK"), (202, "202 Accepted"), (410, "410 Gone"),
                           (451, "451 Unavailable For Legal Reasons"),
                           (503, "503 Service Temporarily Unavailable")]:  # nginx's phrase, as ALB
            with self.subTest(code=code):
                r = self.lb.get(f"/app/status/{code}")
                self.assertEqual(r.status_line, "HTTP/1.1 " + line, r)
                self.assertEqual(r.header("x-custom-header"), f"custom-{code}")
                self.assertEqual(r.header("cache-control"), "no-store")
                self.assertEqual(r.header("content-type"), "text/plain; charset=utf-8")
                self.assertEqual(r.body, f"status {code}".encode())
        r = self.lb.get("/app/redirect")
        self.assertEqual(r.status_line, "HTTP/1.1 302 Found", r)
        self.assertEqual(r.header("location"), "/app/echo?from=redirect")
        # A repeated request header: last value in single mode (ALB), all of them in multi.
        r, b = self.json("/app/echo", headers=["X-Custom: one", "X-Custom: two"])
        self.assertEqual(b["headers"]["x-custom"], self.joined if self.multi else "two")

    def test_forwarded_headers_reach_the_app(self):
        r, b = self.json("/app/echo", host="shop.example.com")
        self.assertEqual(b["headers"]["x-forwarded-for"], "127.0.0.1")
        self.assertEqual(b["headers"]["x-forwarded-proto"], "http")
        self.assertEqual(b["headers"]["x-forwarded-port"], str(self.lb.port))
        self.assertRegex(b["headers"]["x-amzn-trace-id"], r"^Root=1-[0-9a-f]{8}-[0-9a-f]{24}$")
        self.assertEqual(b["protocol"], "http")          # trust proxy: from X-Forwarded-Proto
        self.assertEqual(b["hostname"], "shop.example.com")

    def test_binary_response(self):
        r = self.lb.get("/app/image.png")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.header("content-type"), "image/png")
        self.assertEqual(int(r.header("content-length")), len(PNG))
        self.assertEqual(r.body, PNG)

    def test_app_error_is_the_apps_500_not_a_502(self):
        r = self.lb.get("/app/boom")
        self.assertEqual(r.status_line, "HTTP/1.1 500 Internal Server Error", r)
        self.assertIn(b"Error: boom", r.body)
        line = self.lb.log_lines(1)[-1]
        self.assertEqual((line["target_status_code"], line["error_reason"]), ("500", "-"))


class ServerlessHttpSingle(ExpressCase, ClientTestCase):
    handler, multi = "http.handler", False
    cookies_single = []  # serverless-http drops an array-valued set-cookie from `headers`


class ServerlessHttpMulti(ExpressCase, ClientTestCase):
    handler, multi, joined = "http.handler", True, "one, two"


class CodegenieCase(ExpressCase):
    handler = "codegenie.handler"
    joined = "one,two"
    cookies_single = ["session=abc123; Path=/; HttpOnly"]  # the first value only

    def test_stray_percent_in_query(self):
        # Real ALB (and lb) pass `pct=100%` raw; the adapter's decodeURIComponent throws
        # URIError and it answers 500. serverless-http keeps the undecodable value instead.
        r = self.lb.get("/app/echo?pct=100%")
        self.assertEqual((r.status, r.body), (500, b""), r)


class CodegenieSingle(CodegenieCase, ClientTestCase):
    multi = False


class CodegenieMulti(CodegenieCase, ClientTestCase):
    multi = True


class ServerlessHttpExtras(ClientTestCase):
    """Things one adapter and mode are enough for."""

    def setUp(self):
        self.lb = self.serve([{"name": "app", "runtime": NODE, "handler": "http.handler",
                               "code": fn_dir("express")}])

    def test_stray_percent_in_query(self):
        r = self.lb.get("/app/echo?pct=100%")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(json.loads(r.body)["query"], {"pct": "100%"})

    def test_one_mebibyte_binary_upload(self):
        # 1,048,576 bytes is the largest body lb (ALB: 1 MB) forwards; as base64 it makes a
        # 1.4 MB event, which the runtime and the adapter take whole.
        body = bytes((i * 31 + (i >> 10)) & 255 for i in range(1 << 20))
        r = self.lb.get("/app/upload", method="POST", body=body,
                        headers=["Content-Type: application/octet-stream"])
        self.assertEqual(r.status, 200, r)
        b = json.loads(r.body)
        self.assertEqual((b["length"], b["sha256"]), (len(body), hashlib.sha256(body).hexdigest()))
        r = self.lb.get("/app/upload", method="POST", body=body + b"!",
                        headers=["Content-Type: application/octet-stream"])
        self.assertEqual(r.status_line, "HTTP/1.1 413 Request Entity Too Large", r)

    def test_large_binary_responses(self):
        # The result JSON (base64 body included) may be up to 1 MB: 700,000 bytes make about
        # 933 KB of base64 and arrive; 800,000 make 1.07 MB, and ALB answers 502.
        n = 700000
        want = bytes((i * 7 + (i >> 8)) & 255 for i in range(n))
        r = self.lb.get(f"/app/bytes/{n}")
        self.assertEqual((r.status, r.header("content-type")), (200, "application/octet-stream"))
        self.assertEqual(r.body, want)
        r = self.lb.get("/app/bytes/800000")
        self.assertEqual(r.status_line, "HTTP/1.1 502 Bad Gateway", r)
        line = access_log_line(self.lb, "/app/bytes/800000")
        self.assertEqual(line["error_reason"], "LambdaResponseTooLarge", line["_raw"])


if __name__ == "__main__":
    unittest.main()
