"""Powertools for AWS Lambda (TypeScript) 2.35.0 against lb's events and results.

1. Parser (@aws-lambda-powertools/parser with zod 4): functions/powertools/parser.mjs
   validates every event it gets with `AlbSchema` (single mode) or
   `AlbMultiValueHeadersSchema` (multi mode), the same schema made `.strict()` (no unknown
   keys), and checks that exactly the mode's pair of header/query maps is present. A wide
   range of requests — methods, queries, repeated headers, cookies, text, JSON, form,
   binary, gzip-encoded, chunked and empty bodies, encoded paths — must all validate, and the
   body must decode to the bytes the client sent.
2. Event handler (@aws-lambda-powertools/event-handler/http `Router`; ALB support came with
   powertools-lambda-typescript#4759, and 2.35.0, the latest, runs on Node 20):
   functions/powertools/router.mjs, routes with path parameters, JSON bodies, 201/204/404,
   cookies and custom headers, in both modes.

Powertools behaviour these tests pin down (not lb's; real ALB does the same):
- The Router does not percent-decode ALB query values: `?x=a%20b` reaches the route as
  `a%20b` (ALB leaves decoding to the function, alb-lambda-targets.md §1.3).
- The Router answers ALB events with `headers` only (at most one value per name: of two
  Set-Cookie headers only the last survives), never `multiValueHeaders`. In multi-value mode
  ALB — and lb — read only `multiValueHeaders`, so every header the route set is lost there
  (Content-Type, Location, Set-Cookie, custom ones); status and body still arrive.
"""
import gzip
import json
import subprocess
import unittest

import clientenv  # noqa: E402
from clientenv import ClientTestCase, fn_dir, HERE

NODE = "nodejs20.x"
TG_ARN = r"^arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/parser/[0-9a-f]{16}$"

# (description, method, path, headers, body): what the parser function must accept.
REQUESTS = [
    ("plain GET", "GET", "/parser", [], b""),
    ("GET with a query", "GET", "/parser/a/b?x=1&y=%20two&x=2&flag&empty=&k%20ey=v+al", [], b""),
    ("repeated headers and cookies", "GET", "/parser?q=1",
     ["X-Rep: one", "X-Rep: two", "Cookie: a=1; b=2", "Cookie: c=3", "Accept: */*",
      "User-Agent: client-tests/1.0"], b""),
    ("encoded path", "GET", "/parser/caf%C3%A9/a%2Fb/%20", [], b""),
    ("trace header in", "GET", "/parser",
     ["X-Amzn-Trace-Id: Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1"], b""),
    ("XFF in", "GET", "/parser", ["X-Forwarded-For: 203.0.113.7, 198.51.100.2"], b""),
    ("text body", "POST", "/parser/text", ["Content-Type: text/plain; charset=utf-8"],
     "plain text \u00e9\u2615\n".encode()),
    ("JSON body", "POST", "/parser/json?v=1", ["Content-Type: application/json"],
     json.dumps({"a": [1, 2, {"b": None}], "s": "\u03bb"}).encode()),
    ("XML body", "PUT", "/parser/xml", ["Content-Type: application/xml"], b"<a>1</a>"),
    ("form body (base64)", "POST", "/parser/form",
     ["Content-Type: application/x-www-form-urlencoded"], b"a=1&b=%20+x"),
    ("binary body (base64)", "POST", "/parser/bin", ["Content-Type: application/octet-stream"],
     bytes(range(256)) * 3),
    ("no content type (base64)", "PATCH", "/parser/none", [], b"\x00\x01 no type"),
    ("gzip-encoded JSON (base64)", "POST", "/parser/gz",
     ["Content-Type: application/json", "Content-Encoding: gzip"], gzip.compress(b'{"z":1}')),
    ("image body (base64)", "PUT", "/parser/img", ["Content-Type: image/png"],
     b"\x89PNG\r\n\x1a\n" + bytes(range(200))),
    ("empty POST", "POST", "/parser/empty", ["Content-Type: application/json"], b""),
    ("DELETE", "DELETE", "/parser/item/1", [], b""),
    ("OPTIONS", "OPTIONS", "/parser", ["Origin: http://example.org",
                                       "Access-Control-Request-Method: PUT"], b""),
]


class ParserCase:
    multi = None

    def setUp(self):
        self.lb = self.serve([{"name": "parser", "runtime": NODE, "handler": "parser.handler",
                               "code": fn_dir("powertools"),
                               "env": {"SCHEMA": "multi" if self.multi else "single"}}],
                             multi_value=self.multi)

    def verdict(self, method, path, headers, body):
        r = self.lb.get(path, method=method, headers=headers, body=body)
        self.assertEqual(r.status, 200, r)
        return json.loads(r.body)

    def check(self, v, method, path, body):
        schema = "AlbMultiValueHeadersSchema" if self.multi else "AlbSchema"
        self.assertEqual(v["schema"], schema)
        self.assertTrue(v["valid"], v["issues"])
        self.assertTrue(v["strictValid"], v["strictIssues"])
        self.assertTrue(v["pair"], sorted(v["event"]))
        self.assertEqual(bytes.fromhex(v["bodyHex"]), body)
        e = v["event"]
        self.assertEqual(e["httpMethod"], method)
        self.assertEqual(e["path"], path.split("?")[0])
        self.assertRegex(e["requestContext"]["elb"]["targetGroupArn"], TG_ARN)

    def test_every_event_validates(self):
        for name, method, path, headers, body in REQUESTS:
            with self.subTest(name):
                self.check(self.verdict(method, path, headers, body), method, path, body)

    def test_chunked_request_body_validates(self):
        raw = (b"POST /parser/chunked HTTP/1.1\r\nHost: example.com\r\n"
               b"Content-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
               b"5\r\n\x00\x01\x02\x03\x04\r\n3\r\nabc\r\n0\r\n\r\n")
        r = self.lb.request(raw)
        self.assertEqual(r.status, 200, r)
        self.check(json.loads(r.body), "POST", "/parser/chunked", b"\x00\x01\x02\x03\x04abc")

    def test_repeated_values_per_mode(self):
        v = self.verdict("GET", "/parser?x=1&x=2", ["X-Rep: one", "X-Rep: two"], b"")
        e = v["event"]
        if self.multi:
            self.assertEqual(e["multiValueQueryStringParameters"]["x"], ["1", "2"])
            self.assertEqual(e["multiValueHeaders"]["x-rep"], ["one", "two"])
        else:
            self.assertEqual(e["queryStringParameters"]["x"], "2")
            self.assertEqual(e["headers"]["x-rep"], "two")

    def test_keep_alive_connection_many_events(self):
        # One client connection, many requests: every event validates.
        c = self.lb.connect()
        try:
            for i in range(20):
                body = f'{{"i": {i}}}'.encode()
                c.send(f"POST /parser/ka?i={i} HTTP/1.1\r\nHost: example.com\r\n"
                       f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
                       .encode() + body)
                r = c.read_response()
                self.assertEqual(r.status, 200, r)
                self.check(json.loads(r.body), "POST", "/parser/ka", body)
        finally:
            c.close()


class ParserSingle(ParserCase, ClientTestCase):
    multi = False


class ParserMulti(ParserCase, ClientTestCase):
    multi = True


class ParserControl(ClientTestCase):
    """The validating function is not vacuous: fed events lb never sends, it says so."""

    def test_rejects_non_alb_events(self):
        script = """
          const {handler} = await import(process.argv[1]);
          const base = {requestContext: {elb: {targetGroupArn: 'arn'}}, httpMethod: 'GET',
                        path: '/', body: '', isBase64Encoded: false};
          const cases = {
            nullBody: {...base, body: null, headers: {}, queryStringParameters: {}},
            bothPairs: {...base, headers: {}, queryStringParameters: {},
                        multiValueHeaders: {}, multiValueQueryStringParameters: {}},
            extraKey: {...base, headers: {}, queryStringParameters: {}, stage: 'dev'},
            noElb: {...base, requestContext: {}, headers: {}, queryStringParameters: {}},
          };
          const out = {};
          for (const [k, ev] of Object.entries(cases)) {
            const v = JSON.parse((await handler(ev)).body);
            out[k] = [v.valid, v.strictValid, v.pair];
          }
          console.log(JSON.stringify(out));
        """
        p = subprocess.run([clientenv.node20(), "--input-type=module", "-e", script,
                            fn_dir("powertools") + "/parser.mjs"],
                           capture_output=True, text=True, cwd=HERE, timeout=60,
                           env={"PATH": "/usr/bin:/bin", "SCHEMA": "single"})
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(json.loads(p.stdout), {
            "nullBody": [False, False, True],
            "bothPairs": [True, True, False],    # only the pair check catches it
            "extraKey": [True, False, True],
            "noElb": [False, False, True],
        })


class RouterCase:
    multi = None

    def setUp(self):
        self.lb = self.serve([{"name": "pt", "runtime": NODE, "handler": "router.handler",
                               "code": fn_dir("powertools")}], multi_value=self.multi)

    def test_routes(self):
        r = self.lb.get("/pt/hello/bob?x=a%20b&y=1&y=2",
                        headers=["Cookie: a=1; b=2", "X-Custom: one", "X-Custom: two"])
        self.assertEqual(r.status_line, "HTTP/1.1 200 OK", r)
        b = json.loads(r.body)
        self.assertEqual((b["hello"], b["method"], b["pathname"]), ("bob", "GET", "/pt/hello/bob"))
        self.assertEqual(b["cookie"], "a=1; b=2")
        self.assertEqual(b["forwardedFor"], "127.0.0.1")
        if self.multi:
            self.assertEqual(b["query"], [["x", "a%20b"], ["y", "1"], ["y", "2"]])
            self.assertEqual(b["custom"], "one, two")
        else:
            self.assertEqual(b["query"], [["x", "a%20b"], ["y", "2"]])
            self.assertEqual(b["custom"], "two")

        r = self.lb.get("/pt/items", method="POST", body=b'{"id": 3, "n": "\\u00e9"}',
                        headers=["Content-Type: application/json"])
        self.assertEqual(r.status_line, "HTTP/1.1 201 Created", r)
        self.assertEqual(json.loads(r.body)["created"], {"id": 3, "n": "\u00e9"})

        r = self.lb.get("/pt/items/3", method="DELETE")
        self.assertEqual((r.status_line, r.body), ("HTTP/1.1 204 No Content", b""), r)

        r = self.lb.get("/pt/nope")
        self.assertEqual(r.status_line, "HTTP/1.1 404 Not Found", r)
        self.assertEqual(json.loads(r.body), {"statusCode": 404, "error": "NotFoundError",
                                              "message": "Route /pt/nope for method GET not found"})

        r = self.lb.get("/pt/text")
        self.assertEqual((r.status, r.body), (200, b"plain words"), r)

    def test_response_headers(self):
        r1 = self.lb.get("/pt/hello/x")
        r2 = self.lb.get("/pt/items", method="POST", body=b'{"id": 4}',
                         headers=["Content-Type: application/json"])
        r3 = self.lb.get("/pt/cookies")
        r4 = self.lb.get("/pt/text")
        r5 = self.lb.get("/pt/items/3", method="DELETE")
        if self.multi:
            # The Router's `headers` are ignored in multi-value mode, as by ALB.
            for r in (r1, r2, r3, r4):
                self.assertNotIn(r.header("content-type"), ("application/json", "text/plain"), r)
            self.assertIsNone(r2.header("location"))
            self.assertEqual(r3.header_all("set-cookie"), [])
            self.assertIsNone(r4.header("x-custom-header"))
            self.assertIsNone(r5.header("x-deleted"))
        else:
            self.assertEqual(r1.header("content-type"), "application/json")
            self.assertEqual(r2.header("location"), "/pt/items/4")
            self.assertEqual(r3.header_all("set-cookie"), ["theme=dark; Path=/pt"])  # last only
            self.assertEqual(r4.header("content-type"), "text/plain")
            self.assertEqual(r4.header("x-custom-header"), "yes")
            self.assertEqual(r5.header("x-deleted"), "3")
        for r in (r1, r2, r3, r4, r5):
            self.assertEqual(r.header("server"), "awselb/2.0")


class RouterSingle(RouterCase, ClientTestCase):
    multi = False


class RouterMulti(RouterCase, ClientTestCase):
    multi = True


if __name__ == "__main__":
    unittest.main()
