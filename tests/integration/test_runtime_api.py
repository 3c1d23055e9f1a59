"""Conformance of lb's Lambda Runtime API (lambda-runtime-api.md §2), seen from a runtime.

The function is a provided.al2023 runtime written here in Python (python3 on PATH,
sockets only, so that it can tell whether each answer came in a single recv). What it
does depends on the event's path; it records every exchange with the Runtime API (status,
headers, body, whether one recv held the whole answer) and reports them in its results:

  /probe/first      /next headers, wrong request ids, unknown paths, the environment;
                    then its result; then a second result for the same id
  /probe/error      /error (202), then /response and /error again for the same id
  /probe/big        a 7 MB /response, then a normal one
  /probe/hugehead   the head of a /response declaring 7 MB, no body; then a normal one
  /probe/hugechunked  a chunked /response past 6 MB that never ends; then a normal one
  /probe/badmode    a /response in response mode "bogus", then one with no mode
  /probe/streaming  the result chunked, in response mode "streaming"
  /probe/chunked    the result with Transfer-Encoding: chunked
  /probe/nextnext   a second GET /next while the invocation is open
  /probe/report     everything recorded so far (the records of the invocations above
                    whose answers could not carry them)
  /probe/cut...     a result whose body breaks off (cut: /response with Content-Length,
                    cuterror: /error, cutchunked: chunked, cutreset: chunked and the
                    connection reset); then it sleeps, so that only lb can end the
                    invocation

The test names contain "lambda" so that `tests/run.py -k lambda` (case-sensitive) runs them.
"""
import json
import os
import re
import shutil
import time
import unittest

from lambdacommon import (ACCOUNT, PROVIDED, REGION, TRACE_ROOT, UUID, LambdaCase, fn, raw_request,
                          tg, wait_for)
from lbtest import Conn

PROBE = r'''
import json, os, socket, struct, sys, time

API = os.environ["AWS_LAMBDA_RUNTIME_API"]
HOST, PORT = API.rsplit(":", 1)
BASE = "/2018-06-01/runtime"
records = []          # every exchange since the process started


def connect():
    s = socket.create_connection((HOST, int(PORT)))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def exchange(method, path, body=b"", headers=(), sock=None, chunks=None, timeout=None, name=None,
             length=None, last_chunk=True):
    """One request; the answer as a dict. single_recv: the first recv held all of it.
    length: the Content-Length to declare, if not the body's; last_chunk: False
    leaves a chunked body without its end."""
    own = sock is None
    s = sock or connect()
    s.settimeout(timeout)
    head = ["%s %s HTTP/1.1" % (method, path), "Host: " + API]
    if chunks is not None:
        head.append("Transfer-Encoding: chunked")
        body = b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in chunks) + (b"0\r\n\r\n" if last_chunk else b"")
    elif method == "POST":
        head.append("Content-Length: %d" % (len(body) if length is None else length))
    head += ["%s: %s" % h for h in headers]
    rec = {"name": name or path, "method": method, "path": path}
    try:
        s.sendall(("\r\n".join(head) + "\r\n\r\n").encode() + body)
        first = s.recv(1 << 20)
        data = first
        while b"\r\n\r\n" not in data:
            more = s.recv(1 << 20)
            if not more:
                raise EOFError("closed")
            data += more
        raw_head, _, rest = data.partition(b"\r\n\r\n")
        lines = raw_head.decode("latin-1").split("\r\n")
        hdrs = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            hdrs[k.strip().lower()] = v.strip()
        n = int(hdrs.get("content-length", "0"))
        while len(rest) < n:
            more = s.recv(1 << 20)
            if not more:
                raise EOFError("closed")
            rest += more
        rec.update(status_line=lines[0], status=int(lines[0].split()[1]), headers=hdrs,
                   body=rest[:n].decode("utf-8", "replace"),
                   single_recv=len(first) == len(raw_head) + 4 + n)
    except socket.timeout:
        rec.update(status="timeout")
    except (OSError, EOFError) as e:
        rec.update(status="error: %s" % e)
    if own:
        s.close()
    records.append(rec)
    return rec


def respond(rid, status, body):
    doc = json.dumps({"statusCode": status, "headers": {"content-type": "application/json"},
                      "body": body})
    return exchange("POST", "%s/invocation/%s/response" % (BASE, rid), doc.encode(), name="response")


def cut(rid, verb, chunked=False, reset=False):
    """10 bytes of a result that says it has 100 (or of a chunked one), then the
    connection closes (reset: with a reset), mid-body."""
    s = connect()
    head = "POST %s/invocation/%s/%s HTTP/1.1\r\nHost: %s\r\n" % (BASE, rid, verb, API)
    if chunked:
        data = (head + "Transfer-Encoding: chunked\r\n\r\n").encode() + b"a\r\n" + b"x" * 10 + b"\r\n"
    else:
        data = (head + "Content-Length: 100\r\n\r\n").encode() + b"x" * 10
    s.sendall(data)
    if reset:
        time.sleep(0.3)   # lb has read the head: the reset, not the head, is what it misses
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
    time.sleep(3600)


ENV = ["AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_VERSION", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
       "AWS_REGION", "AWS_DEFAULT_REGION", "LAMBDA_TASK_ROOT", "_HANDLER", "TZ",
       "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME", "AWS_LAMBDA_RUNTIME_API",
       "AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_EXECUTION_ENV", "PROBE_VAR", "PROBE_SPACES",
       "LB_LEAK_CHECK"]

nxt = connect()       # one keep-alive connection for every /next
while True:
    ev = exchange("GET", BASE + "/invocation/next", sock=nxt, name="next")
    ev["received_ms"] = time.time() * 1000
    rid = ev["headers"]["lambda-runtime-aws-request-id"]
    event = json.loads(ev["body"])
    path = event["path"]
    if path.endswith("/first"):
        exchange("POST", BASE + "/invocation/not-the-id/response", b"{}", name="wrong id response")
        exchange("POST", BASE + "/invocation/not-the-id/error", b"{}", name="wrong id error")
        exchange("GET", BASE + "/nope", name="unknown path")
        exchange("GET", "/2018-06-01/ping", name="ping")
        exchange("GET", "/", name="root")
        exchange("POST", "%s/invocation/%s/bogus" % (BASE, rid), b"{}", name="unknown verb")
        exchange("GET", "%s/invocation/%s/response" % (BASE, rid), name="GET response")
        exchange("POST", BASE + "/init/error", b'{"errorMessage": "late", "errorType": "Late.Init"}',
                 [("Lambda-Runtime-Function-Error-Type", "Late.Init")], name="late init error")
        report = {"next": ev, "event": event, "records": records[-9:],
                  "env": {k: os.environ.get(k) for k in ENV}, "cwd": os.getcwd()}
        respond(rid, 200, json.dumps(report))
        exchange("POST", "%s/invocation/%s/response" % (BASE, rid), b"{}", name="response again")
    elif path.endswith("/error"):
        err = json.dumps({"errorMessage": "probe failed", "errorType": "Probe.Error"}).encode()
        exchange("POST", "%s/invocation/%s/error" % (BASE, rid), err,
                 [("Lambda-Runtime-Function-Error-Type", "Probe.Error")], name="error")
        exchange("POST", "%s/invocation/%s/response" % (BASE, rid), b"{}", name="response after error")
        exchange("POST", "%s/invocation/%s/error" % (BASE, rid), err, name="error after error")
    elif path.endswith("/big"):
        exchange("POST", "%s/invocation/%s/response" % (BASE, rid), b"x" * (7 * 1024 * 1024),
                 name="7 MB response")
        respond(rid, 200, "after the big one")
    elif path.endswith("/chunked"):
        doc = json.dumps({"statusCode": 200, "body": "sent in chunks"}).encode()
        exchange("POST", "%s/invocation/%s/response" % (BASE, rid), chunks=[doc[:5], doc[5:20], doc[20:]],
                 name="chunked response")
    elif path.endswith("/hugehead"):
        exchange("POST", "%s/invocation/%s/response" % (BASE, rid), length=7 * 1024 * 1024, timeout=5,
                 name="huge head")
        exchange("POST", "%s/invocation/%s/response" % (BASE, rid), b"{}", name="response after the huge head")
    elif path.endswith("/hugechunked"):
        # 1 KB past the limit in chunks, and no end: only an early answer comes back
        exchange("POST", "%s/invocation/%s/response" % (BASE, rid), chunks=[b"x" * (1 << 20)] * 6 + [b"y" * 1024],
                 last_chunk=False, timeout=5, name="huge chunked")
        exchange("POST", "%s/invocation/%s/response" % (BASE, rid), b"{}", name="response after the huge chunks")
    elif path.endswith("/badmode"):
        doc = json.dumps({"statusCode": 200, "body": "in a bogus mode"}).encode()
        exchange("POST", "%s/invocation/%s/response" % (BASE, rid), doc,
                 [("Lambda-Runtime-Function-Response-Mode", "bogus")], name="bogus mode")
        exchange("POST", "%s/invocation/%s/response" % (BASE, rid), doc, name="response after the bogus mode")
    elif path.endswith("/streaming"):
        doc = json.dumps({"statusCode": 200, "body": "streamed"}).encode()
        exchange("POST", "%s/invocation/%s/response" % (BASE, rid), chunks=[doc[:7], doc[7:]],
                 headers=[("Lambda-Runtime-Function-Response-Mode", "streaming")], name="streaming response")
    elif path.endswith("/cut"):
        cut(rid, "response")
    elif path.endswith("/cuterror"):
        cut(rid, "error")
    elif path.endswith("/cutchunked"):
        cut(rid, "response", chunked=True)
    elif path.endswith("/cutreset"):
        cut(rid, "response", chunked=True, reset=True)
    elif path.endswith("/nextnext"):
        exchange("GET", BASE + "/invocation/next", timeout=1.0, name="second next")
        respond(rid, 200, "second next done")
    else:
        respond(rid, 200, json.dumps({"next": ev, "event": event, "records": records,
                                      "env": {k: os.environ.get(k) for k in ENV}}))
'''


# AWS's custom-runtime tutorial ("Building a custom runtime"): a shell bootstrap with curl.
TUTORIAL_BOOTSTRAP = r"""#!/bin/bash
set -euo pipefail
source $LAMBDA_TASK_ROOT/"$(echo $_HANDLER | cut -d. -f1).sh"
while true
do
  HEADERS="$(mktemp)"
  EVENT_DATA=$(curl -sS -LD "$HEADERS" "http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime/invocation/next")
  REQUEST_ID=$(grep -Fi Lambda-Runtime-Aws-Request-Id "$HEADERS" | tr -d '[:space:]' | cut -d: -f2)
  RESPONSE=$($(echo "$_HANDLER" | cut -d. -f2) "$EVENT_DATA")
  curl "http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime/invocation/$REQUEST_ID/response"  -d "$RESPONSE"
done
"""

TUTORIAL_FUNCTION = r"""function handler () {
  EVENT_DATA=$1
  echo "$EVENT_DATA" 1>&2;
  RESPONSE='{"statusCode": 200, "body": "from the tutorial runtime"}'
  echo $RESPONSE
}
"""


class LambdaRuntimeApiTests(LambdaCase):
    def serve_probe(self, lb_env=None, timeout=3):
        f = fn("probe", PROVIDED, "probe.handler", command=["python3", "bootstrap.py"], timeout=timeout,
               memory_size=256, reserved_concurrent_executions=1,
               environment={"variables": {"PROBE_VAR": "from config", "PROBE_SPACES": "a b  c"}},
               versions=[{"version": "1"}], aliases=[{"name": "live", "function_version": "1"}])
        tgs = [tg("probe", "probe"), tg("probe-live", "probe:live")]
        return self.serve([f], {"fn/bootstrap.py": PROBE}, target_groups=tgs, env=lb_env)

    def ask(self, lb, target, headers=()):
        r = lb.request(raw_request("GET", target, headers))
        self.assertEqual(r.status, 200, r)
        return json.loads(r.body)

    def records(self, report, name):
        return [r for r in report["records"] if r["name"] == name]

    def assert_answer(self, rec, status, reason, body):
        self.assertEqual(rec["status_line"], f"HTTP/1.1 {status} {reason}", rec)
        self.assertEqual(rec["headers"].get("content-type"), "application/json", rec)
        if isinstance(body, dict):
            self.assertEqual(json.loads(rec["body"]), body, rec)
        else:
            self.assertEqual(rec["body"], body, rec)
        self.assertTrue(rec["single_recv"], f"answer split over several reads: {rec}")

    # --- /next --------------------------------------------------------------------------

    def test_lambda_next_headers(self):
        lb = self.serve_probe()
        sent_ms = time.time() * 1000
        report = self.ask(lb, "/probe/first")
        nxt, event = report["next"], report["event"]
        self.assertEqual(nxt["status_line"], "HTTP/1.1 200 OK")
        self.assertTrue(nxt["single_recv"], nxt)
        h = nxt["headers"]
        self.assertEqual(h["content-type"], "application/json")
        rid = h["lambda-runtime-aws-request-id"]
        self.assertRegex(rid, "^" + UUID + "$")
        deadline = int(h["lambda-runtime-deadline-ms"])
        # now + timeout (3 s), as the runtime sees it
        self.assertTrue(2500 <= deadline - nxt["received_ms"] <= 3000, deadline - nxt["received_ms"])
        self.assertTrue(sent_ms + 2500 <= deadline <= time.time() * 1000 + 3000)
        self.assertEqual(h["lambda-runtime-invoked-function-arn"],
                         f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:probe")
        m = re.fullmatch(r"Root=(%s);Parent=([0-9a-f]{16});Sampled=0" % TRACE_ROOT,
                         h["lambda-runtime-trace-id"])
        self.assertIsNotNone(m, h)
        self.assertEqual(event["headers"]["x-amzn-trace-id"], "Root=" + m.group(1))
        # the event is the ALB event, and the request id is the one in START
        self.assertEqual(event["path"], "/probe/first")
        self.assertRegex(event["requestContext"]["elb"]["targetGroupArn"], "targetgroup/probe/")
        self.wait_stderr(lb, r"^\[probe\] START RequestId: %s Version: \$LATEST$" % rid)

    def test_lambda_next_with_incoming_trace_and_alias(self):
        lb = self.serve_probe()
        report = self.ask(lb, "/probe-live/report",
                          [("X-Amzn-Trace-Id", "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1")])
        h = report["next"]["headers"]
        self.assertEqual(h["lambda-runtime-invoked-function-arn"],
                         f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:probe:live")
        self.assertRegex(h["lambda-runtime-trace-id"],
                         r"^Root=1-5759e988-bd862e3fe1be46a994272793;Parent=[0-9a-f]{16};Sampled=0$")
        self.assertRegex(report["event"]["headers"]["x-amzn-trace-id"],
                         r"^Self=%s;Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1$" % TRACE_ROOT)
        self.assertEqual(report["env"]["AWS_LAMBDA_FUNCTION_VERSION"], "1")
        self.wait_stderr(lb, r"^\[probe:1\] START RequestId: %s Version: 1$"
                         % h["lambda-runtime-aws-request-id"])

    # --- results and errors ---------------------------------------------------------------------

    def test_lambda_results_and_state_checks(self):
        lb = self.serve_probe()
        first = self.ask(lb, "/probe/first")
        rid = first["next"]["headers"]["lambda-runtime-aws-request-id"]
        invalid_id = {"errorMessage": "Invalid request ID", "errorType": "InvalidRequestID"}
        self.assert_answer(self.records(first, "wrong id response")[0], 400, "Bad Request", invalid_id)
        self.assert_answer(self.records(first, "wrong id error")[0], 400, "Bad Request", invalid_id)
        for name in ("unknown path", "ping", "root", "unknown verb", "GET response"):
            with self.subTest(name):
                rec = self.records(first, name)[0]
                self.assertEqual(rec["status"], 404, rec)
                self.assertTrue(rec["single_recv"], rec)
                self.assertEqual(json.loads(rec["body"])["errorType"], "NotFound", rec)
        # /init/error once the init phase is over is out of order; the sandbox goes on
        self.assert_answer(self.records(first, "late init error")[0], 403, "Forbidden",
                           {"errorMessage": "the init phase is over", "errorType": "InvalidStateTransition"})

        r = lb.get("/probe/error")
        self.assert_502(lb, r, "/probe/error", "LambdaUnhandled", "probe",
                        detail=re.escape('{"errorMessage": "probe failed", "errorType": "Probe.Error"}'))

        report = self.ask(lb, "/probe/report")
        # /response for the open invocation: 202 {"status":"OK"}; once more: 403
        self.assert_answer(self.records(report, "response")[0], 202, "Accepted", '{"status":"OK"}')
        not_open = {"errorMessage": "no invocation is waiting for a result",
                    "errorType": "InvalidStateTransition"}
        self.assert_answer(self.records(report, "response again")[0], 403, "Forbidden", not_open)
        # /error: 202; after it, neither /response nor /error is allowed
        self.assert_answer(self.records(report, "error")[0], 202, "Accepted", '{"status":"OK"}')
        self.assert_answer(self.records(report, "response after error")[0], 403, "Forbidden", not_open)
        self.assert_answer(self.records(report, "error after error")[0], 403, "Forbidden", not_open)
        # every answer (and every event) came in one read
        for rec in report["records"]:
            self.assertTrue(rec.get("single_recv"), rec)
        # the /next connection was kept alive across invocations
        self.assertEqual(len(self.records(report, "next")), 3)
        self.assertTrue(all(r["status"] == 200 for r in self.records(report, "next")))
        self.assertEqual(first["next"]["headers"]["lambda-runtime-aws-request-id"], rid)

    def test_lambda_response_over_6mb_is_413(self):
        lb = self.serve_probe()
        lb.get("/probe/big")  # what the client gets is test_lambda_failures' business
        report = self.ask(lb, "/probe/report")
        rec = self.records(report, "7 MB response")[0]
        self.assert_answer(rec, 413, "Request Entity Too Large",
                           {"errorMessage": "payload is larger than 6291556 bytes",
                            "errorType": "RequestEntityTooLarge"})

    def test_lambda_result_cut_mid_body_fails_at_once(self):
        # A result whose body breaks off can never complete: the invocation fails at
        # once (lb waited for the function's timeout) with Runtime.TruncatedResponse,
        # the type AWS's emulator gives a cut /response, in the words Lambda uses for a
        # runtime that exits (502 LambdaUnhandled, as for Runtime.ExitError); one line
        # says what happened, and the next request gets a fresh sandbox. The timeout is
        # far beyond any answer time on a loaded machine.
        lb = self.serve_probe(timeout=120)
        cases = {
            "cut": "Runtime closed the connection after 10 of 100 bytes of its /response body",
            "cuterror": "Runtime closed the connection after 10 of 100 bytes of its /error body",
            # a FIN mid-chunk may reach lb as the body's malformed end or as the close
            # itself, whichever it reads first; a reset is always the close
            "cutchunked": r"Runtime's chunked /response body broke off after 10 bytes "
                          r"\(connection closed or chunk malformed\)|"
                          r"Runtime closed the connection after 10 bytes of its chunked /response body",
            "cutreset": "Runtime closed the connection after 10 bytes of its chunked /response body",
        }
        for name, why in cases.items():
            with self.subTest(name):
                target = f"/probe/{name}"
                t0 = time.time()
                r = lb.get(target)
                self.assertLess(time.time() - t0, 60)
                detail = self.assert_502(lb, r, target, "LambdaUnhandled", "probe")
                m = re.fullmatch(r'\{"errorMessage":"RequestId: (%s) Error: (?:%s)",'
                                 r'"errorType":"Runtime\.TruncatedResponse"\}' % (UUID, why), detail)
                self.assertIsNotNone(m, detail)
                rid = m.group(1)
                self.wait_stderr(lb, r"^\[probe\] RequestId: %s Error: (?:%s)\n"
                                     r"\[probe\] END RequestId: %s\n"
                                     r"\[probe\] REPORT RequestId: %s\t.*\tStatus: error\t"
                                     r"Error Type: Runtime\.TruncatedResponse$" % (rid, why, rid, rid))
        self.assertNotIn("Task timed out", lb.stderr())
        # each failure reset the sandbox: every request had a cold start, this one too
        self.assertEqual(self.ask(lb, "/probe/report")["event"]["path"], "/probe/report")
        # (its REPORT line may follow the answer)
        wait_for(lambda: lb.stderr().count("Init Duration") >= len(cases) + 1, 10)
        self.assertEqual(lb.stderr().count("Init Duration"), len(cases) + 1, lb.stderr()[-3000:])

    def test_lambda_result_over_6mb_is_refused_at_the_limit(self):
        # A Content-Length over Lambda's limit is refused as soon as the head is read, a
        # chunked result as soon as its chunks pass the limit, with the 413 an oversized
        # body gets and the same outcome for the client (Function.ResponseSizeTooLarge:
        # 502 LambdaResponseTooLarge); nothing past the limit is read into memory. lb
        # read the whole body first; the probe sends none (declared) or never ends it
        # (chunked), and waits 5 s for the answer.
        lb = self.serve_probe()
        for path, name, after in (("hugehead", "huge head", "response after the huge head"),
                                  ("hugechunked", "huge chunked", "response after the huge chunks")):
            with self.subTest(path):
                r = lb.get("/probe/" + path)
                self.assert_502(lb, r, "/probe/" + path, "LambdaResponseTooLarge", "probe",
                                detail=re.escape('{"errorMessage":"Response payload size exceeded maximum '
                                                 'allowed payload size (6291556 bytes).","errorType":'
                                                 '"Function.ResponseSizeTooLarge"}'))
                report = self.ask(lb, "/probe/report")
                rec = self.records(report, name)[0]
                self.assert_answer(rec, 413, "Request Entity Too Large",
                                   {"errorMessage": "payload is larger than 6291556 bytes",
                                    "errorType": "RequestEntityTooLarge"})
                self.assertEqual(rec["headers"].get("connection"), "close", rec)  # the rest is never read
                # the invocation is over
                self.assert_answer(self.records(report, after)[0], 403, "Forbidden",
                                   {"errorMessage": "no invocation is waiting for a result",
                                    "errorType": "InvalidStateTransition"})

    def test_lambda_request_stalled_mid_head_or_body_gets_408_and_closes(self):
        # A /next waits as long as it likes and a connection may idle between
        # requests, but a request stalled mid-head or mid-body held its descriptor
        # and buffers for ever: it gets 408 after the read timeout (here 2 s) and
        # is closed. Its status and bytes are checked, not how soon it came.
        lb = self.serve_probe(lb_env={"LB_RUNTIME_API_READ_SECONDS": "2"})
        report = self.ask(lb, "/probe/report")
        port = int(report["env"]["AWS_LAMBDA_RUNTIME_API"].rsplit(":", 1)[1])
        idle = Conn(port, timeout=30)
        self.addCleanup(idle.close)
        stalled = {
            "head": b"GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: x\r\n",
            "body": b"POST /2018-06-01/runtime/invocation/not-the-id/response HTTP/1.1\r\n"
                    b"Host: x\r\nContent-Length: 100\r\n\r\n" + b"x" * 10,
        }
        for name, data in stalled.items():
            with self.subTest(name):
                c = Conn(port, timeout=30)
                self.addCleanup(c.close)
                c.send(data)
                r = c.read_response()
                self.assertEqual(r.status_line, "HTTP/1.1 408 Request Time-out", r)
                self.assertEqual(r.header("connection"), "close", r)
                self.assertEqual(json.loads(r.body),
                                 {"errorMessage": "no byte of the request within the read timeout",
                                  "errorType": "RequestTimeout"})
                self.assertTrue(c.closed_by_peer())
        # the idle connection (past the timeout by now) still serves a request
        idle.send(b"GET /2018-06-01/runtime/nope HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertEqual(idle.read_response().status, 404)
        # and the probe's /next, which waited all along, still gets its invocation
        self.assertEqual(self.ask(lb, "/probe/report")["event"]["path"], "/probe/report")

    def test_lambda_http_layer_refusals_get_their_status_and_a_runtime_api_error(self):
        # What the HTTP layer refuses for an unknown Transfer-Encoding (501) or an
        # HTTP/2.0 request line (505) keeps its status, with the Runtime API's error
        # document; lb answered both 400 "malformed request", which is left for the rest.
        lb = self.serve_probe()
        report = self.ask(lb, "/probe/report")
        port = int(report["env"]["AWS_LAMBDA_RUNTIME_API"].rsplit(":", 1)[1])
        cases = {
            "unknown transfer-encoding": (
                b"POST /2018-06-01/runtime/init/error HTTP/1.1\r\nHost: x\r\n"
                b"Transfer-Encoding: gzip, chunked\r\n\r\n",
                "HTTP/1.1 501 Not Implemented",
                {"errorMessage": "A header you provided implies functionality that is not implemented: "
                                 "Transfer-Encoding", "errorType": "NotImplemented"}),
            "HTTP/2.0 request line": (
                b"GET /2018-06-01/runtime/invocation/next HTTP/2.0\r\nHost: x\r\n\r\n",
                "HTTP/1.1 505 HTTP Version Not Supported",
                {"errorMessage": "The HTTP version specified is not supported.",
                 "errorType": "HttpVersionNotSupported"}),
            "malformed": (
                b"GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost x\r\n\r\n",
                "HTTP/1.1 400 Bad Request",
                {"errorMessage": "malformed request", "errorType": "InvalidRequest"}),
        }
        for name, (data, status_line, body) in cases.items():
            with self.subTest(name):
                c = Conn(port, timeout=30)
                self.addCleanup(c.close)
                c.send(data)
                r = c.read_response()
                self.assertEqual(r.status_line, status_line, r)
                self.assertEqual((r.header("content-type"), r.header("connection")),
                                 ("application/json", "close"), r)
                self.assertEqual(json.loads(r.body), body, r)
                self.assertTrue(c.closed_by_peer())
        # the probe's /next, which waited all along, still gets its invocation
        self.assertEqual(self.ask(lb, "/probe/report")["event"]["path"], "/probe/report")

    def test_lambda_response_mode_other_than_streaming_is_refused(self):
        # Lambda knows one Lambda-Runtime-Function-Response-Mode, "streaming": any other
        # gets 400 InvalidFunctionResponseMode and fails the invocation with
        # Runtime.InvalidResponseModeHeader (lambda-runtime-api.md §2.6); lb took any
        # value. "streaming" (buffered: ALB cannot stream) and no mode still work.
        lb = self.serve_probe()
        r = lb.get("/probe/badmode")
        self.assert_502(lb, r, "/probe/badmode", "LambdaUnhandled", "probe",
                        detail=r'\{"errorMessage":"RequestId: %s Error: Lambda-Runtime-Function-Response-Mode '
                               r"'bogus' is not 'streaming'\",\"errorType\":\"Runtime\.InvalidResponseModeHeader\"\}"
                               % UUID)
        r = lb.get("/probe/streaming")
        self.assertEqual((r.status, r.body), (200, b"streamed"), r)
        report = self.ask(lb, "/probe/report")
        self.assert_answer(self.records(report, "bogus mode")[0], 400, "Bad Request",
                           {"errorMessage": "Invalid function response mode",
                            "errorType": "InvalidFunctionResponseMode"})
        self.assert_answer(self.records(report, "response after the bogus mode")[0], 403, "Forbidden",
                           {"errorMessage": "no invocation is waiting for a result",
                            "errorType": "InvalidStateTransition"})
        self.assert_answer(self.records(report, "streaming response")[0], 202, "Accepted", '{"status":"OK"}')

    def test_lambda_chunked_response(self):
        lb = self.serve_probe()
        r = lb.get("/probe/chunked")
        self.assertEqual((r.status, r.body), (200, b"sent in chunks"), r)
        report = self.ask(lb, "/probe/report")
        self.assert_answer(self.records(report, "chunked response")[0], 202, "Accepted",
                           '{"status":"OK"}')

    def test_lambda_second_next_while_an_invocation_is_open_is_refused(self):
        # A /next while the invocation it got is still open is out of order:
        # 403 InvalidStateTransition, as for the other calls out of order.
        lb = self.serve_probe()
        r = lb.get("/probe/nextnext")
        self.assertEqual((r.status, r.body), (200, b"second next done"), r)
        report = self.ask(lb, "/probe/report")
        rec = self.records(report, "second next")[0]
        self.assertEqual(rec["status"], 403, rec)
        self.assertEqual(json.loads(rec["body"]), {"errorMessage": "the open invocation has no result yet",
                                                   "errorType": "InvalidStateTransition"})

    @unittest.skipUnless(shutil.which("curl"), "needs curl")
    def test_lambda_aws_tutorial_runtime(self):
        lb = self.serve([fn("tut", PROVIDED, "function.handler")],
                        {"fn/bootstrap": TUTORIAL_BOOTSTRAP, "fn/function.sh": TUTORIAL_FUNCTION})
        os.chmod(os.path.join(lb.dir, "fn", "bootstrap"), 0o755)
        for i in range(3):
            r = lb.get(f"/tut/{i}")
            self.assertEqual((r.status, r.body), (200, b"from the tutorial runtime"), r)
            # the handler logs the event (to stderr)
            self.wait_stderr(lb, r'^\[tut\] \{"requestContext":.*"path":"/tut/%d"' % i)
        self.assertEqual(lb.stderr().count("Init Duration"), 1)

    # --- environment -------------------------------------------------------------------------

    def test_lambda_environment(self):
        lb = self.serve_probe(lb_env={"LB_LEAK_CHECK": "lb's own environment"})
        report = self.ask(lb, "/probe/first")
        env = report["env"]
        code = os.path.realpath(os.path.join(lb.dir, "fn"))
        self.assertEqual(os.path.realpath(env.pop("LAMBDA_TASK_ROOT")), code)
        self.assertEqual(os.path.realpath(report["cwd"]), code)
        self.assertRegex(env.pop("AWS_LAMBDA_RUNTIME_API"), r"^127\.0\.0\.1:\d+$")
        stream = env.pop("AWS_LAMBDA_LOG_STREAM_NAME")
        self.assertIn("[$LATEST]", stream)
        # lb sets AWS_Lambda_<runtime> for every runtime (whether Lambda defines it for
        # OS-only runtimes is not in the references): not checked here
        env.pop("AWS_EXECUTION_ENV")
        self.assertEqual(env, {
            "AWS_LAMBDA_FUNCTION_NAME": "probe",
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            "_HANDLER": "probe.handler",
            "TZ": ":UTC",
            "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/probe",
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "PROBE_VAR": "from config",
            "PROBE_SPACES": "a b  c",
            "LB_LEAK_CHECK": None,  # lb's own environment does not leak into the function
        })


if __name__ == "__main__":
    unittest.main()
