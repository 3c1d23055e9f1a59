"""AWS's own Node.js runtime interface client (npm aws-lambda-ric 3.3.0) against lb.

lb runs functions/ric/index.mjs as a `provided.al2023` function whose command is
`node tests/clients/node_modules/.bin/aws-lambda-ric index.handler`: 3.3.0 takes the handler
from argv and loads it from its working directory, which lb sets to the function's code dir.
The client's /next, /response and /error calls go through AWS's native code (aws-lambda-cpp
0.2.8 over libcurl 7.83.1, one keep-alive connection), so this proves that lb's Runtime API
satisfies AWS's own client — not only lb's bundled runtimes:

- success: the event arrives intact, the context carries lb's request id, function name,
  version, ARN, memory, log group/stream and a remaining time within the timeout, and the
  X-Ray trace header becomes `_X_AMZN_TRACE_ID` with the same Root as the access log;
- errors the client posts to /error (`{errorType, errorMessage, trace}`, no
  Lambda-Runtime-Function-Error-Type header) become ALB's 502 with LambdaUnhandled, and the
  same client process goes on serving;
- an invalid result is a 502 LambdaInvalidResponse; a base64 result is decoded;
- a hung handler is killed at the timeout, a client that exits mid-invocation fails it, and
  either way the next request gets a fresh sandbox;
- warm sandboxes are reused.

The package compiles curl and aws-lambda-cpp when installed (about a minute, once: clientenv
runs `npm ci` only when tests/clients/node_modules does not match the lock).
"""
import json
import os
import re
import time
import unittest

import clientenv  # noqa: E402
from clientenv import ClientTestCase, RIC_BIN, access_log_line, fn_dir

BAD_GATEWAY = (b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
               b"<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n")
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


class AwsLambdaRic(ClientTestCase):
    def serve_ric(self, timeout=5, multi_value=False):
        return self.serve([{"name": "ric", "runtime": "provided.al2023", "code": fn_dir("ric"),
                            "command": [clientenv.node20(), RIC_BIN, "index.handler"],
                            "timeout": timeout, "memory": 512}], multi_value=multi_value)

    def ok(self, lb, path):
        r = lb.get(path)
        self.assertEqual(r.status_line, "HTTP/1.1 200 OK", r)
        self.assertEqual(r.header("x-runtime"), "aws-lambda-ric", r)
        return json.loads(r.body)

    def assert_502(self, lb, path, reason):
        r = lb.get(path)
        self.assertEqual(r.status_line, "HTTP/1.1 502 Bad Gateway", r)
        self.assertEqual(r.body, BAD_GATEWAY)
        line = self.log_line(lb, path)
        self.assertEqual((line["elb_status_code"], line["target_status_code"],
                          line["error_reason"]), ("502", "-", reason), line["_raw"])

    def log_line(self, lb, path):
        line = access_log_line(lb, path)
        self.assertIsNotNone(line, f"no access-log line for {path}")
        return line

    def wait_log(self, lb, pattern, timeout=5):
        rx = re.compile(pattern, re.M)
        deadline = time.time() + timeout
        while not rx.search(lb.stderr()) and time.time() < deadline:
            time.sleep(0.05)
        m = rx.search(lb.stderr())
        self.assertIsNotNone(m, f"no log line matching {pattern!r} in:\n{lb.stderr()[-3000:]}")
        return m

    def test_success_event_context_and_environment(self):
        lb = self.serve_ric(timeout=5)
        b = self.ok(lb, "/ric/hello?x=1&y=a%20b")
        self.assertEqual(b["event"]["httpMethod"], "GET")
        self.assertEqual(b["event"]["path"], "/ric/hello")
        self.assertEqual(b["event"]["query"], {"x": "1", "y": "a%20b"})
        self.assertEqual((b["event"]["body"], b["event"]["isBase64Encoded"]), ("", False))
        self.assertRegex(b["event"]["targetGroupArn"],
                         r"^arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/ric/")
        c = b["context"]
        self.assertRegex(c["awsRequestId"], "^" + UUID + "$")
        self.assertEqual(c["functionName"], "ric")
        self.assertEqual(c["functionVersion"], "$LATEST")
        self.assertEqual(c["invokedFunctionArn"], "arn:aws:lambda:us-east-1:123456789012:function:ric")
        self.assertEqual(str(c["memoryLimitInMB"]), "512")
        self.assertEqual(c["logGroupName"], "/aws/lambda/ric")
        self.assertTrue(c["logStreamName"])
        self.assertTrue(4000 < c["remaining"] <= 5000, c["remaining"])
        e = b["env"]
        self.assertRegex(e["AWS_LAMBDA_RUNTIME_API"], r"^127\.0\.0\.1:\d+$")
        self.assertEqual(os.path.realpath(e["cwd"]), os.path.realpath(fn_dir("ric")))
        self.assertEqual(os.path.realpath(e["LAMBDA_TASK_ROOT"]), os.path.realpath(fn_dir("ric")))
        # The trace id lb gave the request (access log) is the Root the client exported.
        line = self.log_line(lb, "/ric/hello?x=1&y=a%20b")
        self.assertEqual(line["target_status_code"], "200", line["_raw"])
        root = re.match(r"Root=(1-[0-9a-f]{8}-[0-9a-f]{24})$", line["trace_id"]).group(1)
        self.assertRegex(e["_X_AMZN_TRACE_ID"], rf"^Root={root}(;|$)")
        # lb frames the invocation in its log, with the client's own log line inside.
        rid = c["awsRequestId"]
        self.wait_log(lb, rf"^\[ric\] START RequestId: {rid} Version: \$LATEST$")
        self.wait_log(lb, rf"^\[ric\] \S+\t{rid}\tINFO\tric handler: GET /ric/hello$")
        self.wait_log(lb, rf"^\[ric\] END RequestId: {rid}$")
        self.wait_log(lb, rf"^\[ric\] REPORT RequestId: {rid}\tDuration: [\d.]+ ms\t"
                          rf"Billed Duration: \d+ ms\tMemory Size: 512 MB\t")

    def test_post_body_and_binary_result(self):
        lb = self.serve_ric()
        r = lb.get("/ric/echo", method="POST", body=b'{"a": 1}',
                   headers=["Content-Type: application/json"])
        self.assertEqual(r.status, 200, r)
        self.assertEqual(json.loads(r.body)["event"]["body"], '{"a": 1}')
        r = lb.get("/ric/echo", method="POST", body=b"\x00\xff\x10",
                   headers=["Content-Type: application/octet-stream"])
        ev = json.loads(r.body)["event"]
        self.assertEqual((ev["body"], ev["isBase64Encoded"]), ("AP8Q", True))
        r = lb.get("/ric/binary")
        self.assertEqual((r.status, r.header("content-type")), (200, "application/octet-stream"))
        self.assertEqual(r.body, bytes(range(256)))

    def test_thrown_error_is_502_lambda_unhandled(self):
        lb = self.serve_ric()
        first = self.ok(lb, "/ric/first")
        # Pauses let the client get back to /next, so one sandbox serves every request.
        time.sleep(0.5)
        self.assert_502(lb, "/ric/throw", "LambdaUnhandled")
        self.wait_log(lb, r"502 LambdaUnhandled: .*\"errorType\":\"TeapotError\",\"errorMessage\":"
                          r"\"thrown on purpose\"")
        time.sleep(0.5)
        self.assert_502(lb, "/ric/reject", "LambdaUnhandled")
        self.wait_log(lb, r"502 LambdaUnhandled: .*\"errorMessage\":\"rejected on purpose\"")
        time.sleep(0.5)
        # The same client process survived both handler errors and serves the next request.
        after = self.ok(lb, "/ric/after")
        self.assertEqual((after["pid"], after["invocations"]), (first["pid"], 4))

    def test_invalid_result_is_502_lambda_invalid_response(self):
        lb = self.serve_ric()
        self.assert_502(lb, "/ric/invalid", "LambdaInvalidResponse")

    def test_warm_sandbox_is_reused(self):
        lb = self.serve_ric()
        seen = [self.ok(lb, f"/ric/n{i}") for i in range(12)]
        per_pid = {}
        for b in seen:
            per_pid[b["pid"]] = max(per_pid.get(b["pid"], 0), b["invocations"])
        # One process served most of them (a request that arrives before the client's next
        # /next may start a second sandbox, as on Lambda).
        self.assertGreaterEqual(max(per_pid.values()), 6, per_pid)
        self.assertLessEqual(len(per_pid), 3, per_pid)

    def test_timeout_kills_the_client_and_the_next_request_gets_a_fresh_one(self):
        lb = self.serve_ric(timeout=1)
        before = self.ok(lb, "/ric/before")
        t = time.time()
        self.assert_502(lb, "/ric/hang", "LambdaUnhandled")
        self.assertLess(time.time() - t, 5)
        self.wait_log(lb, r"Task timed out after 1\.00 seconds")
        after = self.ok(lb, "/ric/after")
        self.assertNotEqual(after["pid"], before["pid"])
        self.assertEqual(after["invocations"], 1)

    def test_exit_mid_invocation(self):
        lb = self.serve_ric()
        before = self.ok(lb, "/ric/before")
        self.assert_502(lb, "/ric/exit", "LambdaUnhandled")
        self.wait_log(lb, r"Runtime\.ExitError")
        after = self.ok(lb, "/ric/after")
        self.assertNotEqual(after["pid"], before["pid"])

    def test_multi_value_mode(self):
        lb = self.serve_ric(multi_value=True)
        r = lb.get("/ric/mv?a=1&a=2")
        # The handler answers with `headers`, which multi-value mode ignores (as ALB does),
        # but its status and body arrive.
        self.assertEqual(r.status, 200, r)
        self.assertIsNone(r.header("x-runtime"))
        b = json.loads(r.body)
        self.assertNotIn("query", b["event"])  # no queryStringParameters in multi mode


if __name__ == "__main__":
    unittest.main()
