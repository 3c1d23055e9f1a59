"""`endpoint:` functions: lb invokes them over the Lambda Invoke API
(lambda-runtime-api.md §3, §4; DESIGN.md §6, §7).

A stand-in Invoke API server runs in a thread of the test (http.server). The function
name in the request path picks how it answers, as AWS's runtime interface emulator (RIE)
does (200 for everything, errors recognised by their body, a timeout as plain text) or as
real Lambda does (X-Amz-Function-Error: Unhandled). It records every request, so the
tests also check what lb sent: the path, the headers and the ALB event as the body.
"""
import base64
import json
import re
import socket
import threading
import time
import unittest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from lambdacommon import PAGE_504, TRACE_ROOT, LambdaCase, tg, tg_arn_re
from test_lambda_api import PATH, api_config, invoke_bytes, read_api_port
from lbtest import Conn

RESULT = {"statusCode": 201, "statusDescription": "201 Created",
          "headers": {"content-type": "text/plain", "x-from": "remote"}, "body": "remote says hi"}
ERROR = {"errorMessage": "boom", "errorType": "Error", "stackTrace": ["at handler (index.js:1)"]}

# function name in the path → (status, headers, body)
ANSWERS = {
    "ok": (200, {"Content-Type": "application/json"}, json.dumps(RESULT)),
    "function": (200, {"Content-Type": "application/json"}, json.dumps(RESULT)),  # RIE's name
    "rie-error": (200, {"Content-Type": "application/json"}, json.dumps(ERROR)),
    "rie-timeout": (200, {"Content-Type": "text/plain"}, "Task timed out after 3.00 seconds"),
    "aws-error": (200, {"Content-Type": "application/json", "X-Amz-Function-Error": "Unhandled"},
                  json.dumps({"errorMessage": "boom", "errorType": "Error"})),
    # an error whose body looks like a result: the header decides
    "aws-error-result-shaped": (200, {"Content-Type": "application/json",
                                      "X-Amz-Function-Error": "Unhandled"},
                                json.dumps({"statusCode": 200, "body": "not really"})),
    # a result that also has errorMessage and errorType: statusCode makes it a result
    "result-with-error-keys": (200, {"Content-Type": "application/json"},
                               json.dumps({"statusCode": 200, "body": "a result",
                                           "errorMessage": "m", "errorType": "t"})),
    "throttled": (429, {"Content-Type": "application/json",
                        "x-amzn-ErrorType": "TooManyRequestsException"},
                  json.dumps({"Type": "User", "message": "Rate Exceeded."})),
    "not-json": (200, {"Content-Type": "application/json"}, "this is not JSON"),
    # a proxy's error page: no x-amzn-ErrorType
    "bad-gateway": (502, {"Content-Type": "text/html"}, "<html>bad gateway</html>"),
    "too-big": (200, {"Content-Type": "application/json"},
                json.dumps({"statusCode": 200, "body": "x" * (2 * 1024 * 1024)})),
}


class InvokeHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.server.requests.append({"path": self.path, "headers": dict(self.headers.items()),
                                     "body": body})
        m = re.match(r"^(?:/[^/]+)*/2015-03-31/functions/([^/?]+)/invocations(\?.*)?$", self.path)
        name = m.group(1) if m else None
        if name == "http10":
            # HTTP/1.0 style: no Content-Length, the body ends with the connection
            self.wfile.write(b"HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n" +
                             json.dumps(RESULT).encode())
            self.close_connection = True
            return
        if name == "late":
            time.sleep(4)   # past the function's timeout (1 s) and lb's grace (2 s)
            self.close_connection = True
            return          # lb has given up on this answer
        if name == "chunked":
            doc = json.dumps(RESULT).encode()
            self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                             b"Transfer-Encoding: chunked\r\n\r\n" +
                             b"".join(b"%x\r\n%s\r\n" % (len(doc[i:i + 10]), doc[i:i + 10])
                                      for i in range(0, len(doc), 10)) + b"0\r\n\r\n")
            return
        status, headers, text = ANSWERS.get(name, (404, {"Content-Type": "application/json",
                                                         "x-amzn-ErrorType": "ResourceNotFoundException"},
                                                   json.dumps({"Type": "User",
                                                               "message": "Function not found"})))
        data = text.encode()
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class LambdaRemoteTests(LambdaCase):
    def setUp(self):
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), InvokeHandler)
        self.server.daemon_threads = True
        self.server.requests = []
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,),
                                       daemon=True)
        self.thread.start()
        self.addCleanup(self.server.server_close)
        self.addCleanup(self.server.shutdown)

    def serve_remote(self, functions):
        """functions: [(function name, extra keys)]; each gets a target group named like it."""
        fns = [dict({"name": name, "endpoint": f"http://127.0.0.1:{self.port}"}, **extra)
               for name, extra in functions]
        return self.serve(fns, {})

    def requests_for(self, name):
        return [r for r in self.server.requests if f"/functions/{name}/invocations" in r["path"]]

    # --- success ------------------------------------------------------------------------

    def test_result_and_what_lb_sends(self):
        lb = self.serve_remote([("ok", {})])
        body = b"hello remote"
        r = lb.request(b"POST /ok/x?a=1&a=2 HTTP/1.1\r\nHost: example.com\r\nContent-Type: text/plain"
                       b"\r\nX-Custom: yes\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
        self.assertEqual(r.status_line, "HTTP/1.1 201 Created", r)
        self.assertEqual((r.header("content-type"), r.header("x-from")), ("text/plain", "remote"))
        self.assertEqual(r.body, b"remote says hi")
        self.assert_forward_log(lb, "/ok/x?a=1&a=2", 201, 201, "-", "ok")

        [req] = self.requests_for("ok")
        self.assertEqual(req["path"], "/2015-03-31/functions/ok/invocations")
        h = {k.lower(): v for k, v in req["headers"].items()}
        self.assertEqual(h["content-type"], "application/json")
        self.assertEqual(h["x-amz-invocation-type"], "RequestResponse")
        self.assertEqual(int(h["content-length"]), len(req["body"]))
        event = json.loads(req["body"])
        self.assertEqual(set(event), {"requestContext", "httpMethod", "path", "queryStringParameters",
                                      "headers", "body", "isBase64Encoded"})
        self.assertRegex(event["requestContext"]["elb"]["targetGroupArn"], tg_arn_re("ok"))
        self.assertEqual((event["httpMethod"], event["path"], event["queryStringParameters"]),
                         ("POST", "/ok/x", {"a": "2"}))
        self.assertEqual((event["body"], event["isBase64Encoded"]), ("hello remote", False))
        self.assertEqual(event["headers"]["x-custom"], "yes")
        self.assertEqual(event["headers"]["x-forwarded-for"], "127.0.0.1")
        self.assertRegex(event["headers"]["x-amzn-trace-id"], r"^Root=%s$" % TRACE_ROOT)
        # the trace id travels in the Invoke request too
        self.assertEqual(h["x-amzn-trace-id"], event["headers"]["x-amzn-trace-id"])

    def test_function_name_and_path_prefix(self):
        lb = self.serve([{"name": "in-docker", "endpoint": f"http://127.0.0.1:{self.port}",
                          "function_name": "function"},
                         {"name": "prefixed", "endpoint": f"http://127.0.0.1:{self.port}/base/path"}],
                        {})
        r = lb.get("/in-docker")
        self.assertEqual((r.status, r.body), (201, b"remote says hi"), r)
        self.assertEqual([q["path"] for q in self.server.requests],
                         ["/2015-03-31/functions/function/invocations"])
        self.assertNotIn("/functions/in-docker/", self.server.requests[0]["path"])
        r = lb.get("/prefixed")
        self.assertEqual(self.server.requests[1]["path"],
                         "/base/path/2015-03-31/functions/prefixed/invocations")

    def test_chunked_answer(self):
        lb = self.serve_remote([("chunked", {})])
        r = lb.get("/chunked")
        self.assertEqual((r.status, r.body), (201, b"remote says hi"), r)

    def test_answer_delimited_by_close(self):
        # An answer without Content-Length or chunking ends with the connection
        # (HTTP/1.0 style, as Python's http.server and other simple stand-ins send it).
        lb = self.serve_remote([("http10", {})])
        r = lb.get("/http10")
        self.assertEqual((r.status, r.body), (201, b"remote says hi"), r)

    def test_result_with_error_keys_is_a_result(self):
        lb = self.serve_remote([("result-with-error-keys", {})])
        r = lb.get("/result-with-error-keys")
        self.assertEqual((r.status, r.body), (200, b"a result"), r)

    def test_qualified_target_sends_qualifier(self):
        # GAP: a target group cannot name an endpoint function with a qualifier:
        # config.c target_resolve accepts "name:QUALIFIER" only for a version or alias
        # declared in lb.yaml, and config_fn.c endpoint_load rejects versions/aliases for
        # endpoint functions, so lb exits with "function 'remote' has no version or alias
        # 'live'". invoke_client.c's "?Qualifier=" is unreachable. ALB targets are usually
        # alias-qualified ARNs (alb-lambda-targets.md §4).
        fns = [{"name": "ok", "endpoint": f"http://127.0.0.1:{self.port}"}]
        lb = self.serve(fns, {}, target_groups=[tg("live", "ok:live")])
        r = lb.get("/live")
        self.assertEqual(r.status, 201, r)
        self.assertEqual(self.server.requests[0]["path"],
                         "/2015-03-31/functions/ok/invocations?Qualifier=live")

    def test_host_header_carries_the_port(self):
        # The Host header carries the endpoint's port (RFC 9110 §7.2).
        lb = self.serve_remote([("ok", {})])
        lb.get("/ok")
        self.assertEqual(self.requests_for("ok")[0]["headers"]["Host"], f"127.0.0.1:{self.port}")

    # --- errors ------------------------------------------------------------------------------

    def test_function_errors_are_502_unhandled(self):
        names = ["rie-error", "rie-timeout", "aws-error", "aws-error-result-shaped"]
        lb = self.serve_remote([(n, {}) for n in names])
        for name in names:
            with self.subTest(name):
                detail = self.assert_502(lb, lb.get(f"/{name}"), f"/{name}", "LambdaUnhandled", name)
                self.assertEqual(detail, ANSWERS[name][2])
                self.assertEqual(len(self.requests_for(name)), 1)

    def test_other_answers(self):
        lb = self.serve_remote([("throttled", {}), ("not-json", {}), ("too-big", {}), ("missing", {})])
        detail = self.assert_502(lb, lb.get("/throttled"), "/throttled", "LambdaThrottling", "throttled")
        self.assertEqual(detail, ANSWERS["throttled"][2])
        self.assert_502(lb, lb.get("/not-json"), "/not-json", "LambdaInvalidResponse", "not-json")
        self.assert_502(lb, lb.get("/too-big"), "/too-big", "LambdaResponseTooLarge", "too-big",
                        detail="result is %d bytes" % len(ANSWERS["too-big"][2]))
        # a 404 from the Invoke API (no such function) is still ALB's 502
        r = lb.get("/missing")
        self.assertEqual(r.status, 502, r)
        self.wait_stderr(lb, r"^lb: warning: function missing: endpoint answered 404: ")

    def test_connection_refused_is_504(self):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()  # nothing listens there now
        lb = self.serve([{"name": "gone", "endpoint": f"http://127.0.0.1:{port}"}], {})
        t0 = time.time()
        r = lb.get("/gone")
        self.assertLess(time.time() - t0, 5.0)
        self.assert_page(r, "HTTP/1.1 504 Gateway Time-out", PAGE_504)
        self.assert_forward_log(lb, "/gone", 504, "-", "LambdaConnectionTimeout", "gone")
        detail = self.warning_line(lb, "GET", "/gone", 504, "LambdaConnectionTimeout")
        self.assertEqual(detail, '{"errorMessage":"refused the connection",'
                                 '"errorType":"LambdaConnectionError"}')
        self.wait_stderr(lb, r"^lb: warning: function gone: endpoint refused the connection$")
        # lb goes on serving
        self.assertEqual(lb.get("/gone").status, 504)

    def start_api(self, functions, env=None):
        config, rules = api_config([dict({"endpoint": f"http://127.0.0.1:{self.port}"}, **f)
                                    for f in functions])
        lb = self.start(config, rules=rules, env=env)
        return lb, read_api_port(lb)

    def api_invoke(self, port, name, headers=()):
        c = Conn(port, timeout=20)
        try:
            c.send(invoke_bytes(PATH % name, b"{}", headers))
            return c.read_response()
        finally:
            c.close()

    def test_invoke_api_names_an_untyped_endpoint_error_service_exception(self):
        # Every Lambda error answer names its type; an endpoint's that has none is a
        # ServiceException (the header was sent empty)
        lb, port = self.start_api([{"name": "bad-gateway"}])
        r = self.api_invoke(port, "bad-gateway")
        self.assertEqual((r.status, r.header("x-amzn-errortype"), r.body),
                         (502, "ServiceException", b"<html>bad gateway</html>"), r)

    def test_invoke_api_passes_an_endpoints_throttle_and_missing_log_on_as_they_came(self):
        lb, port = self.start_api([{"name": "throttled"}, {"name": "ok"}])
        r = self.api_invoke(port, "throttled")
        self.assertEqual((r.status, r.header("x-amzn-errortype"), r.body.decode()),
                         (429, "TooManyRequestsException", ANSWERS["throttled"][2]), r)
        # the endpoint sent no X-Amz-Log-Result: there is none to pass on
        r = self.api_invoke(port, "ok", [("X-Amz-Log-Type", "Tail")])
        self.assertEqual(r.status, 200, r)
        self.assertIsNone(r.header("x-amz-log-result"), r)

    def test_invoke_api_passes_the_client_context_on(self):
        # The endpoint's Lambda decodes it for its runtime: the same base64 goes on
        lb, port = self.start_api([{"name": "ok"}])
        value = base64.b64encode(b'{"custom": {"k": "v"},\n "env": {}}').decode()
        r = self.api_invoke(port, "ok", [("X-Amz-Client-Context", value)])
        self.assertEqual(r.status, 200, r)
        self.assertEqual(self.requests_for("ok")[-1]["headers"].get("X-Amz-Client-Context"), value)
        r = self.api_invoke(port, "ok")
        self.assertEqual(r.status, 200, r)
        self.assertNotIn("X-Amz-Client-Context", self.requests_for("ok")[-1]["headers"])

    def test_an_event_the_endpoint_took_but_answered_late_counts_as_an_attempt(self):
        # Lambda retries a function's timeout at most maximum_retry_attempts times; only
        # an endpoint that never took the event is retried like a throttle
        lb, port = self.start_api([{"name": "late", "timeout": 1,
                                    "event_invoke_config": {"maximum_retry_attempts": 1}}],
                                  env={"LB_ASYNC_RETRY_DELAYS": "1,1"})
        r = self.api_invoke(port, "late", [("X-Amz-Invocation-Type", "Event")])
        self.assertEqual(r.status, 202, r)
        rid = r.header("x-amzn-requestid")
        self.wait_stderr(lb, r"^lb: warning: function late: Event %s dropped after 2 attempts "
                             r"\(RetriesExhausted\)" % rid, timeout=20)
        time.sleep(1.5)   # a third POST would come 1 s after the drop's timer; none may
        self.assertEqual(len(self.requests_for("late")), 2, lb.stderr())
        self.assertNotIn("throttled", lb.stderr())

    def test_silent_endpoint_is_504(self):
        # The kernel accepts connections into the backlog; nothing ever reads or answers.
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        s.listen(8)
        self.addCleanup(s.close)
        lb = self.serve([{"name": "silent", "endpoint": "http://127.0.0.1:%d" % s.getsockname()[1],
                          "timeout": 1}], {})
        t0 = time.time()
        r = lb.get("/silent")
        elapsed = time.time() - t0
        self.assertTrue(1.0 <= elapsed < 5.0, elapsed)  # the timeout plus lb's grace period
        self.assert_page(r, "HTTP/1.1 504 Gateway Time-out", PAGE_504)
        self.assert_forward_log(lb, "/silent", 504, "-", "LambdaConnectionTimeout", "silent")
        self.wait_stderr(lb, r"^lb: warning: function silent: endpoint did not answer in time$")


if __name__ == "__main__":
    unittest.main()
