"""lb's own Lambda Invoke API (`lambda_api: {port: N}`; lambda-runtime-api.md §4, AWS's
API_Invoke), spoken over raw sockets.

One function serves most tests; its event says what to do (print, sleep, fail, exit, touch a
file, return a value). The answers are checked the way AWS gives them: status, body bytes,
X-Amz-Executed-Version, X-Amz-Function-Error, X-Amz-Log-Result (decoded), x-amzn-RequestId,
and the service errors' x-amzn-ErrorType and JSON bodies.
"""
import base64
import json
import os
import re
import signal
import socket
import threading
import time
import unittest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from lambdacommon import ACCOUNT, REGION, UUID, LambdaCase, fn, pid_alive, wait_for
from lbtest import Conn, Lb
from targetcommon import rss_kb

PATH = "/2015-03-31/functions/%s/invocations"
ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:"

WORKER = """
import json, os, sys, time
def handler(event, context):
    ev = event if isinstance(event, dict) else {}
    if "print" in ev:
        print(ev["print"])
    if "write" in ev:
        sys.stdout.write(ev["write"])  # no final newline
    if "pid" in ev:  # its process id, for a test that checks the process is stopped
        with open(ev["pid"] + ".tmp", "w") as f:
            f.write(str(os.getpid()))
        os.rename(ev["pid"] + ".tmp", ev["pid"])
    for i in range(ev.get("print_kb", 0)):
        print("%04d" % i + "x" * 1019)  # 1024 bytes with the newline
    if "sleep" in ev:
        time.sleep(ev["sleep"])
    if "touch" in ev:
        with open(ev["touch"] + ".tmp", "w") as f:
            f.write(context.aws_request_id + " " + context.function_version)
        os.rename(ev["touch"] + ".tmp", ev["touch"])
    if "fail" in ev:
        raise ValueError(ev["fail"])
    if "exit" in ev:
        sys.stdout.flush()
        os._exit(3)
    if "return" in ev:
        return ev["return"]
    return {"event": event, "version": context.function_version,
            "request_id": context.aws_request_id, "arn": context.invoked_function_arn}
"""

FUNCTIONS = [
    fn("worker", timeout=6, versions=[{"version": "1", "environment": {"variables": {"V": "1"}}},
                                      {"version": "2"}],
       aliases=[{"name": "live", "function_version": "1"},
                {"name": "next", "function_version": "2"}]),
    fn("blocked", reserved_concurrent_executions=0),
]
FILES = {"fn/index.py": WORKER}


def api_config(functions, extra=""):
    """lb.yaml with one listener (no rules), the functions and lambda_api on port 0."""
    config = (f'load_balancer: {{name: test-alb, region: {REGION}, account_id: "{ACCOUNT}"}}\n'
              "listeners:\n  - port: 0\n    default_actions:\n"
              "      - {type: fixed-response, fixed_response: {status_code: \"404\"}}\n"
              "functions:\n" + "".join(f"  - {json.dumps(f)}\n" for f in functions))
    return config + "lambda_api: {port: 0}\n" + extra, {}


def read_api_port(lb):
    """The port of lb's "lb: lambda api on http://ADDRESS:PORT" line (after the listeners')."""
    line = lb.proc.stdout.readline().decode().strip()
    m = re.match(r"^lb: lambda api on http://127\.0\.0\.1:(\d+)$", line)
    assert m, f"no lambda api line, got {line!r}"
    return int(m.group(1))


def invoke_bytes(target, body=b"{}", headers=(), length=True):
    lines = [f"POST {target} HTTP/1.1", "Host: lambda.local"] + [f"{k}: {v}" for k, v in headers]
    if length:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


class ApiCase(LambdaCase):
    @classmethod
    def start_class_lb(cls, config, rules, files, env=None, before_start=None):
        """One lb for the whole class (starting the sanitized binary and runtimes costs
        time), its Invoke API port in cls.api_port; tearDownClass stops it."""
        cls.lb = Lb(config, rules=rules, files=files, env=env)
        if before_start:
            before_start(cls.lb)
        try:
            cls.lb.start()
            cls.api_port = read_api_port(cls.lb)
        except Exception:
            cls.lb.stop(check=False)
            cls.lb.tmp.cleanup()
            raise

    @classmethod
    def tearDownClass(cls):
        if "lb" not in cls.__dict__:
            return
        try:
            cls.lb.stop()
        finally:
            cls.lb.tmp.cleanup()

    def invoke(self, name, payload=b"{}", headers=(), query="", port=None):
        if not isinstance(payload, bytes):
            payload = json.dumps(payload).encode()
        c = Conn(port or self.api_port, timeout=20)
        try:
            c.send(invoke_bytes(PATH % name + query, payload, headers))
            return c.read_response()
        finally:
            c.close()

    def assert_error(self, r, status, error_type, body):
        self.assertEqual(r.status, status, r)
        self.assertEqual(r.header("x-amzn-errortype"), error_type, r)
        self.assertEqual(r.header("content-type"), "application/json", r)
        self.assertRegex(r.header("x-amzn-requestid"), "^" + UUID + "$")
        self.assertEqual(json.loads(r.body), body, r)


class LambdaApiTests(ApiCase):
    """One lb for the class: starting the sanitized binary and runtimes costs time."""

    @classmethod
    def setUpClass(cls):
        cls.start_class_lb(*api_config(FUNCTIONS), FILES)

    # --- RequestResponse ------------------------------------------------------------------

    def test_request_response_returns_the_result(self):
        r = self.invoke("worker", {"a": [1, "x"]})
        self.assertEqual(r.status_line, "HTTP/1.1 200 OK", r)
        self.assertEqual(r.header("content-type"), "application/json")
        self.assertEqual(int(r.header("content-length")), len(r.body))
        self.assertEqual(r.header("x-amz-executed-version"), "$LATEST")
        self.assertIsNone(r.header("x-amz-function-error"))
        self.assertIsNone(r.header("x-amz-log-result"))
        self.assertIsNotNone(r.header("date"))
        body = json.loads(r.body)
        self.assertEqual(body["event"], {"a": [1, "x"]})
        # the invocation's request id is the answer's, as in Lambda
        self.assertEqual(r.header("x-amzn-requestid"), body["request_id"])
        self.assertEqual(body["arn"], ARN + "worker")

    def test_result_bytes_are_passed_as_they_are(self):
        for value, raw in [("plain", b'"plain"'), (42, b"42"), (None, b"null"), ([1, 2], b"[1, 2]")]:
            with self.subTest(value=value):
                r = self.invoke("worker", {"return": value})
                self.assertEqual((r.status, r.body), (200, raw), r)

    def test_any_json_value_is_an_event(self):
        for payload in [b'"a string"', b"17", b"[1,2]", b"null", b' {"spaced": true} ']:
            with self.subTest(payload=payload):
                r = self.invoke("worker", payload)
                self.assertEqual(json.loads(r.body)["event"], json.loads(payload), r)

    def test_empty_payload_is_an_empty_object(self):
        for payload in [b"", b"  \r\n"]:
            r = self.invoke("worker", payload)
            self.assertEqual(json.loads(r.body)["event"], {}, r)

    def test_executed_version_for_latest_versions_and_aliases(self):
        cases = [("worker", "", "$LATEST", ""), ("worker", "?Qualifier=%24LATEST", "$LATEST", ""),
                 ("worker", "?Qualifier=1", "1", ":1"), ("worker", "?Qualifier=2", "2", ":2"),
                 ("worker", "?Qualifier=live", "1", ":live"), ("worker%3Anext", "", "2", ":next"),
                 ("worker:live", "", "1", ":live"), ("worker:1", "?Qualifier=1", "1", ":1")]
        for name, query, version, arn_suffix in cases:
            with self.subTest(name=name, query=query):
                r = self.invoke(name, {}, query=query)
                self.assertEqual(r.status, 200, r)
                self.assertEqual(r.header("x-amz-executed-version"), version)
                body = json.loads(r.body)
                self.assertEqual(body["version"], version)
                if query != "?Qualifier=%24LATEST":
                    self.assertEqual(body["arn"], ARN + "worker" + arn_suffix)

    def test_arn_forms_name_the_function(self):
        for name in [ARN + "worker", f"{ACCOUNT}:function:worker", ARN.replace(":", "%3A") + "worker",
                     ARN + "worker:live", f"{ACCOUNT}:function:worker:1"]:
            with self.subTest(name=name):
                r = self.invoke(name, {})
                self.assertEqual(r.status, 200, r)
                want = "1" if name.endswith((":live", ":1")) else "$LATEST"
                self.assertEqual(r.header("x-amz-executed-version"), want)

    # --- function errors ----------------------------------------------------------------------

    def test_function_error_is_200_unhandled_with_the_error_document(self):
        r = self.invoke("worker", {"fail": "it broke"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.header("x-amz-function-error"), "Unhandled")
        self.assertEqual(r.header("x-amz-executed-version"), "$LATEST")
        doc = json.loads(r.body)
        self.assertEqual((doc["errorType"], doc["errorMessage"]), ("ValueError", "it broke"))

    def test_timeout_is_unhandled(self):
        r = self.invoke("worker", {"sleep": 9}, query="?Qualifier=2")
        self.assertEqual((r.status, r.header("x-amz-function-error")), (200, "Unhandled"), r)
        self.assertEqual(r.header("x-amz-executed-version"), "2")
        self.assertEqual(json.loads(r.body), {"errorMessage": "Task timed out after 6.00 seconds",
                                              "errorType": "Sandbox.Timedout"})

    def test_runtime_exit_is_unhandled(self):
        r = self.invoke("worker", {"exit": True})
        self.assertEqual((r.status, r.header("x-amz-function-error")), (200, "Unhandled"), r)
        doc = json.loads(r.body)
        self.assertEqual(doc["errorType"], "Runtime.ExitError")
        self.assertRegex(doc["errorMessage"], r"^RequestId: %s Error: Runtime exited with error: "
                         r"exit status 3$" % r.header("x-amzn-requestid"))

    # --- log tail ------------------------------------------------------------------------------

    def tail(self, r):
        return base64.b64decode(r.header("x-amz-log-result"), validate=True).decode()

    def test_log_tail_is_the_invocations_log(self):
        r = self.invoke("worker", {"print": "hello from the handler"}, [("X-Amz-Log-Type", "Tail")])
        self.assertEqual(r.status, 200, r)
        rid = r.header("x-amzn-requestid")
        lines = self.tail(r).split("\n")
        self.assertEqual(lines[-1], "")  # every line ends with a newline
        self.assertIn(f"START RequestId: {rid} Version: $LATEST", lines)
        self.assertIn("hello from the handler", lines)
        self.assertEqual(lines[-3], f"END RequestId: {rid}")
        self.assertRegex(lines[-2], r"^REPORT RequestId: %s\tDuration: [0-9.]+ ms\tBilled Duration: "
                         r"\d+ ms\tMemory Size: 128 MB\tMax Memory Used: \d+ MB" % rid)
        self.assertNotIn("[worker]", self.tail(r))
        # without the header there is no tail
        self.assertIsNone(self.invoke("worker", {"print": "x"}).header("x-amz-log-result"))
        r = self.invoke("worker", {"print": "x"}, [("X-Amz-Log-Type", "None")])
        self.assertIsNone(r.header("x-amz-log-result"))

    def test_log_tail_has_output_without_a_final_newline(self):
        # Lambda's tail holds the invocation's unterminated last line, as a line of its own.
        r = self.invoke("worker", {"write": "no newline here"}, [("X-Amz-Log-Type", "Tail")])
        self.assertEqual(r.status, 200, r)
        self.assertIn("\nno newline here\nEND RequestId: " + r.header("x-amzn-requestid"), self.tail(r))

    def test_log_tail_is_the_last_4_kb(self):
        r = self.invoke("worker", {"print_kb": 10}, [("X-Amz-Log-Type", "Tail")], query="?Qualifier=1")
        tail = self.tail(r)
        self.assertEqual(len(tail.encode()), 4096)
        self.assertTrue(tail.endswith("\n"), tail[-200:])
        self.assertIn("0009" + "x" * 1019 + "\nEND RequestId: ", tail)
        self.assertNotIn("START RequestId", tail)

    def test_log_tail_of_a_failed_invocation(self):
        r = self.invoke("worker", {"fail": "tail me"}, [("X-Amz-Log-Type", "Tail")])
        self.assertEqual(r.header("x-amz-function-error"), "Unhandled")
        tail = self.tail(r)
        self.assertIn("ValueError: tail me", tail)
        self.assertIn("END RequestId: " + r.header("x-amzn-requestid"), tail)

    # --- Event and DryRun ---------------------------------------------------------------------

    def test_event_runs_in_the_background(self):
        mark = os.path.join(self.lb.dir, "event-mark")
        t0 = time.time()
        r = self.invoke("worker", {"sleep": 4, "touch": mark}, [("X-Amz-Invocation-Type", "Event")],
                        query="?Qualifier=live")
        self.assertLess(time.time() - t0, 3.5)   # answered before the function is done
        self.assertEqual(r.status_line, "HTTP/1.1 202 Accepted", r)
        self.assertEqual((r.header("content-length"), r.body), ("0", b""))
        self.assertIsNone(r.header("x-amz-executed-version"))
        rid = r.header("x-amzn-requestid")
        self.assertRegex(rid, "^" + UUID + "$")
        self.assertFalse(os.path.exists(mark))
        self.assertTrue(wait_for(lambda: os.path.exists(mark), 20), "the Event invocation did not run")
        with open(mark) as f:
            self.assertEqual(f.read(), rid + " 1")

    def test_event_failure_is_logged(self):
        r = self.invoke("worker", {"fail": "async boom"}, [("X-Amz-Invocation-Type", "Event")])
        self.assertEqual(r.status, 202, r)
        self.wait_stderr(self.lb, r"^lb: warning: function worker: Event %s attempt 1 of 3 failed: .*async boom"
                         % r.header("x-amzn-requestid"))

    def test_dry_run_checks_and_invokes_nothing(self):
        mark = os.path.join(self.lb.dir, "dry-mark")
        r = self.invoke("worker", {"touch": mark}, [("X-Amz-Invocation-Type", "DryRun")])
        self.assertEqual(r.status_line, "HTTP/1.1 204 No Content", r)
        self.assertEqual(r.body, b"")
        self.assertIsNone(r.header("content-length"))
        r = self.invoke("nope", {}, [("X-Amz-Invocation-Type", "DryRun")])
        self.assertEqual(r.status, 404, r)
        time.sleep(0.5)
        self.assertFalse(os.path.exists(mark))

    # --- service errors ---------------------------------------------------------------------------

    def test_unknown_function_or_qualifier_is_404(self):
        r = self.invoke("nope", {})
        self.assert_error(r, 404, "ResourceNotFoundException",
                          {"Message": "Function not found: " + ARN + "nope", "Type": "User"})
        r = self.invoke("worker", {}, query="?Qualifier=7")
        self.assert_error(r, 404, "ResourceNotFoundException",
                          {"Message": "Function not found: " + ARN + "worker:7", "Type": "User"})
        r = self.invoke("worker:staging", {})
        self.assert_error(r, 404, "ResourceNotFoundException",
                          {"Message": "Function not found: " + ARN + "worker:staging", "Type": "User"})

    def test_arn_of_another_region_or_account_is_404(self):
        for name in ["arn:aws:lambda:eu-west-1:%s:function:worker" % ACCOUNT,
                     "arn:aws:lambda:%s:999999999999:function:worker" % REGION,
                     "999999999999:function:worker"]:
            with self.subTest(name=name):
                r = self.invoke(name, {})
                want = name if name.startswith("arn:") else f"arn:aws:lambda:{REGION}:{name}"
                self.assert_error(r, 404, "ResourceNotFoundException",
                                  {"Message": "Function not found: " + want, "Type": "User"})

    def test_payload_that_is_not_json_is_400(self):
        for payload in [b"not json", b'{"a": 1', b'{"a": 1} trailing', b"\xff\xfe"]:
            with self.subTest(payload=payload):
                r = self.invoke("worker", payload)
                self.assertEqual((r.status, r.header("x-amzn-errortype")),
                                 (400, "InvalidRequestContentException"), r)
                doc = json.loads(r.body)
                self.assertEqual(set(doc), {"Type", "message"})
                self.assertEqual(doc["Type"], "User")
                self.assertTrue(doc["message"].startswith(
                    "Could not parse request body into json: Could not parse payload into json: "), doc)

    def test_payload_over_6_mb_is_413(self):
        limit = 6 * 1024 * 1024
        ok = b'"' + b"a" * (limit - 2) + b'"'
        r = self.invoke("worker", ok, [("X-Amz-Invocation-Type", "DryRun")])
        self.assertEqual(r.status, 204, r)
        big = ok + b" "
        r = self.invoke("worker", big)
        self.assert_error(r, 413, "RequestEntityTooLargeException", {
            "Type": "User", "message": "6291457 byte payload is too large for the RequestResponse "
                                       "invocation type (limit 6291456 bytes)"})

    def test_event_payload_over_1_mb_is_413(self):
        big = b'"' + b"a" * (1024 * 1024 - 1) + b'"'
        r = self.invoke("worker", big, [("X-Amz-Invocation-Type", "Event")])
        self.assert_error(r, 413, "RequestEntityTooLargeException", {
            "Type": "User", "message": "1048577 byte payload is too large for the Event invocation "
                                       "type (limit 1048576 bytes)"})

    def test_413_keeps_the_connection(self):
        c = Conn(self.api_port, timeout=20)
        self.addCleanup(c.close)
        c.send(invoke_bytes(PATH % "worker", b"x" * (6 * 1024 * 1024 + 10)))
        self.assertEqual(c.read_response().status, 413)
        c.send(invoke_bytes(PATH % "worker", b'{"return": 1}'))
        r = c.read_response()
        self.assertEqual((r.status, r.body), (200, b"1"), r)

    def test_expect_continue_over_the_limit_gets_413_without_a_100(self):
        c = Conn(self.api_port, timeout=20)
        self.addCleanup(c.close)
        c.send((f"POST {PATH % 'worker'} HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n"
                f"Content-Length: {6 * 1024 * 1024 + 1}\r\n\r\n").encode())
        r = c.read_response()   # the first answer: the 413 itself, not "100 Continue"
        self.assertEqual(r.status, 413, r)
        self.assertIn(b"6291457 byte payload is too large", r.body)

    def test_validation_errors_are_400(self):
        cases = [
            ("bad%20name", "", (), "'functionName' failed to satisfy constraint"),
            ("worker:", "", (), "'functionName' failed to satisfy constraint"),
            ("arn:aws:s3:us-east-1:123456789012:function:worker", "", (), "'functionName'"),
            ("a:b:c", "", (), "'functionName'"),
            ("worker", "?Qualifier=bad%20q", (), "'qualifier' failed to satisfy constraint"),
            ("worker", "", [("X-Amz-Invocation-Type", "Later")],
             "Value 'Later' at 'invocationType' failed to satisfy constraint: Member must satisfy "
             "enum value set: [Event, RequestResponse, DryRun]"),
            ("worker", "", [("X-Amz-Log-Type", "All")], "Value 'All' at 'logType'"),
        ]
        for name, query, headers, text in cases:
            with self.subTest(name=name, query=query, headers=headers):
                r = self.invoke(name, {}, headers, query=query)
                self.assertEqual((r.status, r.header("x-amzn-errortype")), (400, "ValidationException"), r)
                msg = json.loads(r.body)["message"]
                self.assertTrue(msg.startswith("1 validation error detected: "), msg)
                self.assertIn(text, msg)

    def test_qualifiers_that_disagree_are_400(self):
        r = self.invoke("worker:1", {}, query="?Qualifier=2")
        self.assert_error(r, 400, "InvalidParameterValueException", {
            "Type": "User",
            "message": "The derived qualifier from the function name does not match the specified qualifier."})

    def test_throttled_invocation_is_429(self):
        r = self.invoke("blocked", {})
        self.assert_error(r, 429, "TooManyRequestsException",
                          {"Reason": "ReservedFunctionConcurrentInvocationLimitExceeded", "Type": "User",
                           "message": "Rate Exceeded."})

    def test_other_operations_are_404(self):
        for raw in [b"GET /2015-03-31/functions/worker/invocations HTTP/1.1\r\nHost: x\r\n\r\n",
                    b"POST /2015-03-31/functions/worker HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
                    b"POST /2015-03-31/functions/a/b/invocations HTTP/1.1\r\nHost: x\r\n"
                    b"Content-Length: 0\r\n\r\n"]:
            with self.subTest(raw=raw):
                c = Conn(self.api_port)
                c.send(raw)
                r = c.read_response()
                c.close()
                self.assertEqual((r.status, r.header("x-amzn-errortype")), (404, "UnknownOperationException"), r)
        # HEAD gets the head only: the next answer on the connection is framed right
        c = Conn(self.api_port)
        self.addCleanup(c.close)
        c.send(b"HEAD /2015-03-31/functions/worker/invocations HTTP/1.1\r\nHost: x\r\n\r\n" +
               invoke_bytes(PATH % "worker", b'{"return": 3}'))
        r = c.read_response(head_request=True)
        self.assertEqual((r.status, r.body), (404, b""), r)
        self.assertEqual(c.read_response().body, b"3")

    # --- HTTP ---------------------------------------------------------------------------------

    def test_keep_alive_and_pipelining_answer_in_order(self):
        c = Conn(self.api_port, timeout=20)
        self.addCleanup(c.close)
        c.send(invoke_bytes(PATH % "worker", b'{"return": "first", "sleep": 0.3}') +
               invoke_bytes(PATH % "nope", b"{}") +
               invoke_bytes(PATH % "worker", b'{"return": "third"}', [("X-Amz-Invocation-Type", "DryRun")]) +
               invoke_bytes(PATH % "worker", b'{"return": "fourth"}'))
        answers = [c.read_response() for _ in range(4)]
        self.assertEqual([a.status for a in answers], [200, 404, 204, 200])
        self.assertEqual((answers[0].body, answers[3].body), (b'"first"', b'"fourth"'))
        self.assertEqual(answers[0].header("connection"), "keep-alive")

    def test_expect_100_continue_and_chunked_body(self):
        c = Conn(self.api_port, timeout=20)
        self.addCleanup(c.close)
        c.send(b"POST " + (PATH % "worker").encode() + b" HTTP/1.1\r\nHost: x\r\n"
               b"Expect: 100-continue\r\nTransfer-Encoding: chunked\r\n\r\n")
        self.assertEqual(c.read_response().status, 100)
        c.send(b"5\r\n{\"ret\r\n8\r\nurn\": 5}\r\n0\r\n\r\n")
        r = c.read_response()
        self.assertEqual((r.status, r.body), (200, b"5"), r)

    def test_http_1_0_closes_after_the_answer(self):
        c = Conn(self.api_port)
        self.addCleanup(c.close)
        c.send(b"POST " + (PATH % "worker").encode() + b" HTTP/1.0\r\nContent-Length: 13\r\n\r\n"
               b'{"return": 2}')
        r = c.read_response()
        self.assertEqual((r.status, r.body, r.header("connection")), (200, b"2", "close"), r)
        self.assertTrue(c.closed_by_peer())

    def test_malformed_request_is_400_and_closes(self):
        c = Conn(self.api_port)
        self.addCleanup(c.close)
        c.send(b"POST /x HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab")
        r = c.read_response()
        self.assertEqual(r.status, 400, r)
        self.assertTrue(c.closed_by_peer())

    def test_half_closed_client_gets_its_answers(self):
        # A FIN after whole requests is a half-close, not the client leaving: every
        # request it sent is answered in order, then lb closes. lb cancelled the
        # invocation and closed without a word. An unfinished request gets 400.
        cases = {
            "one": (invoke_bytes(PATH % "worker", b'{"sleep": 0.3, "return": 1}'), [(200, b"1")]),
            "pipelined": (invoke_bytes(PATH % "worker", b'{"sleep": 0.3, "return": 1}') +
                          invoke_bytes(PATH % "worker", b'{"return": 2}'), [(200, b"1"), (200, b"2")]),
            "unfinished": (invoke_bytes(PATH % "worker", b'{"return": 1}') +
                           b"POST " + (PATH % "worker").encode() + b" HTTP/1.1\r\nContent-Length: 10\r\n\r\n{}",
                           [(200, b"1"), (400, None)]),
        }
        for name, (data, answers) in cases.items():
            with self.subTest(name):
                c = Conn(self.api_port, timeout=20)
                self.addCleanup(c.close)
                c.send(data)
                c.sock.shutdown(socket.SHUT_WR)
                for status, body in answers:
                    r = c.read_response()
                    self.assertEqual(r.status, status, r)
                    if body is not None:
                        self.assertEqual(r.body, body, r)
                self.assertTrue(c.closed_by_peer())

    def test_http_layer_refusals_are_aws_errors_with_their_status(self):
        # What the HTTP layer refuses gets its own status and an AWS error, not a
        # generic 400 "malformed" (408, the read timeout's, has its own test below).
        cases = {
            "unknown transfer-encoding": (
                invoke_bytes(PATH % "worker", b"{}", [("Transfer-Encoding", "gzip, chunked")], length=False),
                501, "NotImplemented",
                "A header you provided implies functionality that is not implemented: Transfer-Encoding"),
            "HTTP/2.0 request line": (
                invoke_bytes(PATH % "worker").replace(b"HTTP/1.1", b"HTTP/2.0", 1),
                505, "HttpVersionNotSupported", "The HTTP version specified is not supported."),
        }
        for name, (data, status, error_type, message) in cases.items():
            with self.subTest(name):
                c = Conn(self.api_port)
                self.addCleanup(c.close)
                c.send(data)
                r = c.read_response()
                self.assert_error(r, status, error_type, {"message": message})
                self.assertTrue(c.closed_by_peer())

    def test_client_that_leaves_mid_invocation(self):
        c = Conn(self.api_port)
        c.send(invoke_bytes(PATH % "worker", b'{"sleep": 0.5}', [("X-Amz-Log-Type", "Tail")]))
        time.sleep(0.1)
        c.close()
        time.sleep(0.6)
        r = self.invoke("worker", {"return": "still here"})
        self.assertEqual((r.status, r.body), (200, b'"still here"'), r)


class InvokeHandler(BaseHTTPRequestHandler):
    """A stand-in remote Invoke API for an `endpoint:` function."""
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.server.requests.append((self.path, body, self.headers.get("X-Amz-Log-Type")))
        if "/functions/gone/" in self.path:
            data = b'{"Message":"Function not found: somewhere","Type":"User"}'
            self.send_response(404)
            self.send_header("x-amzn-ErrorType", "ResourceNotFoundException:http://internal.amazon.com/")
        else:
            data = json.dumps({"remote": json.loads(body)}).encode()
            self.send_response(200)
            self.send_header("X-Amz-Executed-Version", "7")
            if self.headers.get("X-Amz-Log-Type") == "Tail":
                self.send_header("X-Amz-Log-Result", base64.b64encode(b"remote log line\n").decode())
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class LambdaApiLifecycleTests(ApiCase):
    def start_api(self, functions=FUNCTIONS, extra="", files=FILES):
        config, rules = api_config(functions, extra)
        lb = self.start(config, rules=rules, files=files)
        self.api_port = read_api_port(lb)
        return lb

    def test_endpoint_function_is_proxied(self):
        server = ThreadingHTTPServer(("127.0.0.1", 0), InvokeHandler)
        server.requests = []
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        self.addCleanup(server.server_close)
        self.addCleanup(server.shutdown)
        endpoint = f"http://127.0.0.1:{server.server_address[1]}"
        self.start_api([{"name": "remote", "endpoint": endpoint, "function_name": "far"},
                        {"name": "gone", "endpoint": endpoint}], files={})
        r = self.invoke("remote", {"x": 1}, [("X-Amz-Log-Type", "Tail")], query="?Qualifier=live")
        self.assertEqual((r.status, json.loads(r.body)), (200, {"remote": {"x": 1}}), r)
        # what the endpoint said ran, and its log tail, come back as it sent them
        self.assertEqual(r.header("x-amz-executed-version"), "7")
        self.assertEqual(base64.b64decode(r.header("x-amz-log-result")), b"remote log line\n")
        self.assertEqual(server.requests, [("/2015-03-31/functions/far/invocations?Qualifier=live",
                                            b'{"x": 1}', "Tail")])
        # the endpoint's own service errors are passed on
        r = self.invoke("gone", {})
        self.assert_error(r, 404, "ResourceNotFoundException",
                          {"Message": "Function not found: somewhere", "Type": "User"})

    def test_a_request_stalled_mid_way_is_408_request_timeout(self):
        # Why: Lambda answers a request it stopped reading with 408
        # RequestTimeoutException (API reference, Common Errors); lb's idle timeout
        # (60 s, 1 s here) is the bound. An idle keep-alive connection just closes.
        config, rules = api_config(FUNCTIONS)
        lb = self.start(config, rules=rules, files=FILES, env={"LB_INVOKE_API_IDLE_SECONDS": "1"})
        self.api_port = read_api_port(lb)
        cases = {
            "mid-head": b"POST " + (PATH % "worker").encode() + b" HTTP/1.1\r\nHost: x\r\n",
            "mid-body": invoke_bytes(PATH % "worker", b'{"return": 1}')[:-4],
        }
        for name, data in cases.items():
            with self.subTest(name):
                c = Conn(self.api_port, timeout=10)
                self.addCleanup(c.close)
                c.send(data)
                r = c.read_response()
                self.assert_error(r, 408, "RequestTimeoutException",
                                  {"message": "Reading the request timed out."})
                self.assertTrue(c.closed_by_peer())
        c = Conn(self.api_port, timeout=10)
        self.addCleanup(c.close)
        c.send(invoke_bytes(PATH % "worker", b'{"return": 1}'))
        self.assertEqual(c.read_response().status, 200)
        self.assertTrue(c.closed_by_peer())   # after the idle second, without a word
        self.assertEqual(c.buf, b"")

    def test_sigterm_with_an_event_running_exits_cleanly(self):
        lb = self.start_api()
        r = self.invoke("worker", {"sleep": 1.5}, [("X-Amz-Invocation-Type", "Event")])
        self.assertEqual(r.status, 202, r)
        c = Conn(self.api_port)   # an idle keep-alive connection is closed at once
        self.addCleanup(c.close)
        time.sleep(0.2)
        lb.signal(signal.SIGTERM)
        self.assertTrue(c.closed_by_peer())
        self.assertEqual(lb.proc.wait(timeout=15), 0)

    def test_invocation_still_running_when_the_drain_ends_is_500_service_exception(self):
        # lb stopped under it, the function did not fail: a service error the SDK retries
        lb = self.start_api(FUNCTIONS + [fn("sleeper", timeout=60)])
        pid_path = os.path.join(lb.dir, "sleeper.pid")
        c = Conn(self.api_port, timeout=30)
        self.addCleanup(c.close)
        c.send(invoke_bytes(PATH % "sleeper", json.dumps({"pid": pid_path, "sleep": 60}).encode()))
        self.assertTrue(wait_for(lambda: os.path.exists(pid_path), 30), lb.stderr())
        with open(pid_path) as f:
            pid = int(f.read())
        t0 = time.time()
        lb.signal(signal.SIGTERM)
        r = c.read_response()
        self.assertGreater(time.time() - t0, 9.5)
        self.assert_error(r, 500, "ServiceException",
                          {"Message": "lb stopped while function sleeper was still running", "Type": "Service"})
        self.assertEqual(r.header("connection"), "close")
        self.assertTrue(c.closed_by_peer())
        self.assertEqual(lb.proc.wait(timeout=30), 0)
        # x-amzn-RequestId is the invocation's, as in its START line
        self.assertIn(f"START RequestId: {r.header('x-amzn-requestid')} ", lb.stderr())
        self.assertEqual(lb.stderr().count("lb: warning: lambda_api: sleeper: 500 ServiceException: "
                                           "the function was still running when lb stopped\n"), 1, lb.stderr())
        self.assertTrue(wait_for(lambda: not pid_alive(pid)), pid)

    def test_reload_keeps_or_rebinds_the_api(self):
        lb = self.start_api()
        old = self.api_port
        self.assertEqual(self.invoke("worker", {"return": 1}).status, 200)
        lb.signal(signal.SIGHUP)   # unchanged: same socket, no new line
        self.wait_stderr(lb, r"reloaded ")
        self.assertEqual(self.invoke("worker", {"return": 1}).status, 200)

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            free = s.getsockname()[1]
        config, _ = api_config(FUNCTIONS)
        lb.write("lb.yaml", config.replace("lambda_api: {port: 0}", f"lambda_api: {{port: {free}}}"))
        lb.signal(signal.SIGHUP)
        self.api_port = read_api_port(lb)
        self.assertEqual(self.api_port, free)
        self.assertEqual(self.invoke("worker", {"return": 2}).body, b"2")
        with self.assertRaises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", old), timeout=2).close()

        config, _ = api_config(FUNCTIONS)
        lb.write("lb.yaml", config.replace("lambda_api: {port: 0}\n", ""))
        lb.signal(signal.SIGHUP)
        self.wait_stderr(lb, r"reloaded (?:.|\n)*reloaded (?:.|\n)*reloaded ")
        with self.assertRaises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", free), timeout=2).close()

    def test_idle_keep_alive_connections_do_not_keep_their_payloads(self):
        # an SDK's pool of keep-alive connections, each of which once carried a large payload
        config, rules = api_config(FUNCTIONS)
        # ASan's quarantine keeps freed blocks: off, so RSS shows what lb holds
        env = {"ASAN_OPTIONS": (os.environ.get("ASAN_OPTIONS", "") + ":quarantine_size_mb=0").lstrip(":")}
        lb = self.start(config, rules=rules, files=FILES, env=env)
        self.api_port = read_api_port(lb)
        payload = b'"' + b"a" * (5 * 1024 * 1024 - 2) + b'"'
        self.assertEqual(self.invoke("worker", payload, [("X-Amz-Invocation-Type", "DryRun")]).status, 204)
        before = rss_kb(lb.proc.pid)
        pool = []
        for _ in range(10):
            c = Conn(self.api_port, timeout=20)
            self.addCleanup(c.close)
            c.send(invoke_bytes(PATH % "worker", payload, [("X-Amz-Invocation-Type", "DryRun")]))
            self.assertEqual(c.read_response().status, 204)
            pool.append(c)
        grown = rss_kb(lb.proc.pid) - before
        # 10 payloads of 5 MB kept would be 50 MB (measured: 51 MB kept, 1 MB released)
        self.assertLess(grown, 20 * 1024, f"lb grew {grown} KiB with 10 idle connections")
        for c in pool:   # the connections still work
            c.send(invoke_bytes(PATH % "worker", b'{"return": 7}', [("X-Amz-Invocation-Type", "DryRun")]))
            self.assertEqual(c.read_response().status, 204)

    def test_port_taken_fails_at_start(self):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            s.listen()
            config, rules = api_config(FUNCTIONS)
            config = config.replace("lambda_api: {port: 0}", f"lambda_api: {{port: {s.getsockname()[1]}}}")
            lb = Lb(config, rules=rules, files=FILES)
            self.addCleanup(lb.tmp.cleanup)
            # its port is bound before the listeners: lb exits before announcing any
            with self.assertRaises(RuntimeError) as failed:
                lb.start()
            self.assertEqual(lb.proc.wait(timeout=15), 1)
            self.assertIn("lb exited (1)", str(failed.exception))
            self.assertIn("lambda_api: cannot listen on 127.0.0.1:%d" % s.getsockname()[1], lb.stderr())
            lb.stop(check=False)


if __name__ == "__main__":
    unittest.main()
