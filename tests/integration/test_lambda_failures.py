"""Lambda invocations that fail, and requests ALB refuses before invoking
(alb-lambda-targets.md §1.9, §2.6; DESIGN.md §6, §7).

Each failure is checked on the wire (status line, ALB's page byte for byte), in the
access log (elb_status_code, target_status_code, error_reason, actions_executed,
target_group_arn) and in lb's stderr (the warning line, the function's own lines), and
lb is shown to go on serving afterwards, with a fresh sandbox where Lambda would use one.
"""
import json
import os
import re
import resource
import socket
import threading
import time
import unittest

from lambdacommon import (NODE, PAGE_400, PAGE_413, PAGE_503, PROVIDED, PYTHON, UUID,
                          LambdaCase, fn, pid_alive, raw_request, tg, wait_for)

# A custom runtime in bash (provided.al2023, code/bootstrap): /dev/tcp, one connection
# per Runtime API request. It exits (or kills itself) when the event mentions it.
BASH_BOOTSTRAP = r"""#!/bin/bash
set -u
export LC_ALL=C
api=$AWS_LAMBDA_RUNTIME_API
host=${api%:*}
port=${api##*:}
while true; do
  exec 3<>"/dev/tcp/$host/$port"
  printf 'GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: %s\r\n\r\n' "$api" >&3
  id=""
  len=0
  while IFS= read -r line <&3; do
    line=${line%$'\r'}
    [ -z "$line" ] && break
    case "${line,,}" in
      lambda-runtime-aws-request-id:*) id=${line#*: } ;;
      content-length:*) len=${line#*: } ;;
    esac
  done
  body=""
  if [ "$len" -gt 0 ]; then IFS= read -r -N "$len" body <&3; fi
  exec 3<&-
  case "$body" in
    *crash-now*) echo "crashing on purpose"; exit 3 ;;
    *kill-now*) kill -KILL $$ ;;
  esac
  out="{\"statusCode\":200,\"body\":\"bash $$\"}"
  exec 3<>"/dev/tcp/$host/$port"
  printf 'POST /2018-06-01/runtime/invocation/%s/response HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n\r\n%s' "$id" "$api" "${#out}" "$out" >&3
  IFS= read -r status <&3
  exec 3<&-
done
"""

# A provided.al2023 runtime in Python whose first process fails its init through
# /runtime/init/error; later ones serve. Also: INIT_EXIT makes every init exit.
INIT_BOOTSTRAP = r"""
import http.client, json, os, sys
api = os.environ["AWS_LAMBDA_RUNTIME_API"]
# beside the code: the code itself is read-only, as on Lambda
marker = os.path.join(os.path.dirname(os.environ["LAMBDA_TASK_ROOT"]), "init-failed-once")
if os.environ.get("INIT_EXIT"):
    print("exiting during init")
    sys.exit(7)
conn = http.client.HTTPConnection(api)
if not os.path.exists(marker):
    open(marker, "w").close()
    body = json.dumps({"errorMessage": "cannot init", "errorType": "Runtime.Custom"})
    conn.request("POST", "/2018-06-01/runtime/init/error", body,
                 {"Lambda-Runtime-Function-Error-Type": "Runtime.Custom"})
    r = conn.getresponse()
    print("init/error answered", r.status, r.read().decode())
    sys.exit(1)
while True:
    conn.request("GET", "/2018-06-01/runtime/invocation/next")
    r = conn.getresponse()
    rid = r.getheader("Lambda-Runtime-Aws-Request-Id")
    r.read()
    out = json.dumps({"statusCode": 200, "body": "pid %d" % os.getpid()})
    conn.request("POST", "/2018-06-01/runtime/invocation/%s/response" % rid, out)
    conn.getresponse().read()
"""

# A provided runtime that starts a child process for each event (in a session of its
# own when the path has /detach/, as Node's `detached` spawn does), exits (as a
# crashing runtime does) when the event's path ends in /crash, and never answers when
# it ends in /hang.
SPAWNING_BOOTSTRAP = r"""
import http.client, json, os, subprocess, time
conn = http.client.HTTPConnection(os.environ["AWS_LAMBDA_RUNTIME_API"])
while True:
    conn.request("GET", "/2018-06-01/runtime/invocation/next")
    r = conn.getresponse()
    rid = r.getheader("Lambda-Runtime-Aws-Request-Id")
    event = json.loads(r.read())
    child = subprocess.Popen(["sleep", "60"], start_new_session="/detach/" in event["path"])
    with open(os.path.join(os.path.dirname(os.environ["LAMBDA_TASK_ROOT"]), "child.pid"), "w") as f:
        f.write(str(child.pid))
    if event["path"].endswith("/crash"):
        os._exit(3)
    if event["path"].endswith("/hang"):
        time.sleep(3600)
    conn.request("POST", "/2018-06-01/runtime/invocation/%s/response" % rid,
                 json.dumps({"statusCode": 200, "body": str(os.getpid())}))
    conn.getresponse().read()
"""

SLOW_PY = """
import json, os, subprocess, time
def handler(event, context):
    q = event["queryStringParameters"]
    if "sleep" in q:
        child = subprocess.Popen(["sleep", "30"])
        with open(os.path.join(os.path.dirname(os.environ["LAMBDA_TASK_ROOT"]), "pids.json"), "w") as f:
            json.dump({"pid": os.getpid(), "child": child.pid}, f)
        time.sleep(float(q["sleep"]))
    if "raise" in q:
        raise ValueError("kaboom " + q["raise"])
    return {"statusCode": 200, "body": json.dumps({"pid": os.getpid()})}
"""

NOISY_PY = r"""
import os, sys
def handler(event, context):
    out = sys.stdout
    for i in range(50000):
        out.write("line %06d %s\n" % (i, "y" * 88))
    out.write("L" * 200000 + "\n")
    sys.stderr.write("to stderr\r\n")
    return {"statusCode": 200, "body": "printed"}
"""

SINK_PY = """
import base64
def handler(event, context):
    body = event["body"]
    n = len(base64.b64decode(body)) if event["isBase64Encoded"] else len(body.encode())
    return {"statusCode": 200, "body": str(n)}
"""

GATE_PY = """
import os, time
def handler(event, context):
    gate = os.path.join(os.environ["LAMBDA_TASK_ROOT"], "gate")
    while not os.path.exists(gate):
        time.sleep(0.01)
    return {"statusCode": 200, "body": "through"}
"""

# Never returns: only lb's timeout ends it (each timeout kills the sandbox, so every
# invocation is a cold start).
SPIN_NODE = """
export const handler = async (event, context) => {
  while (true) {}
};
"""

BIG_PY = """
def handler(event, context):
    if event["path"].endswith("/big"):
        return {"statusCode": 200, "body": "x" * (7 * 1024 * 1024)}
    return {"statusCode": 200, "body": "small"}
"""


# A provided runtime whose /error body is not one line of text: line breaks (one
# starting what looks like lb's own line) and a NUL first.
RAW_ERROR_BOOTSTRAP = r"""
import http.client, json, os
conn = http.client.HTTPConnection(os.environ["AWS_LAMBDA_RUNTIME_API"])
while True:
    conn.request("GET", "/2018-06-01/runtime/invocation/next")
    r = conn.getresponse()
    rid = r.getheader("Lambda-Runtime-Aws-Request-Id")
    path = json.loads(r.read())["path"]
    body = b"\x00lead" if path.endswith("/nul") else b'{"errorMessage":"a\nlb: error: forged"}\r\nmore'
    conn.request("POST", "/2018-06-01/runtime/invocation/%s/error" % rid, body)
    conn.getresponse().read()
"""

# A provided runtime that answers its first event and never asks for another.
ONE_SHOT_BOOTSTRAP = r"""
import http.client, json, os, time
conn = http.client.HTTPConnection(os.environ["AWS_LAMBDA_RUNTIME_API"])
conn.request("GET", "/2018-06-01/runtime/invocation/next")
r = conn.getresponse()
rid = r.getheader("Lambda-Runtime-Aws-Request-Id")
r.read()
conn.request("POST", "/2018-06-01/runtime/invocation/%s/response" % rid,
             json.dumps({"statusCode": 200, "body": str(os.getpid())}))
conn.getresponse().read()
time.sleep(3600)
"""

# A provided runtime that opens 1100 more connections to its Runtime API (raising its
# own descriptor limit for them), counts those lb closed, closes them all, then answers.
MANY_CONNECTIONS_BOOTSTRAP = r"""
import http.client, json, os, resource, socket, time
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 4096), hard))
api = os.environ["AWS_LAMBDA_RUNTIME_API"]
host, port = api.rsplit(":", 1)
conn = http.client.HTTPConnection(api)
while True:
    conn.request("GET", "/2018-06-01/runtime/invocation/next")
    r = conn.getresponse()
    rid = r.getheader("Lambda-Runtime-Aws-Request-Id")
    r.read()
    extra = [socket.create_connection((host, int(port))) for _ in range(1100)]
    time.sleep(0.5)
    closed = 0
    for s in extra:
        s.setblocking(False)
        try:
            closed += s.recv(1) == b""
        except (BlockingIOError, ConnectionResetError) as e:
            closed += isinstance(e, ConnectionResetError)
        s.close()
    conn.request("POST", "/2018-06-01/runtime/invocation/%s/response" % rid,
                 json.dumps({"statusCode": 200, "body": str(closed)}))
    conn.getresponse().read()
"""

# A provided runtime that fails its init with three /init/error posts pipelined on one
# connection, then waits to be stopped.
INIT_ERROR_THRICE_BOOTSTRAP = r"""
import os, socket, time
api = os.environ["AWS_LAMBDA_RUNTIME_API"]
host, port = api.rsplit(":", 1)
body = b'{"errorMessage": "cannot init", "errorType": "Init.Thrice"}'
one = (b"POST /2018-06-01/runtime/init/error HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n"
       b"Lambda-Runtime-Function-Error-Type: Init.Thrice\r\n\r\n" % len(body)) + body
socket.create_connection((host, int(port))).sendall(one * 3)
time.sleep(3600)
"""

# A provided runtime streaming its result (response mode "streaming", chunked) that
# fails mid-stream, as the Node runtime interface client reports it: the error in the
# trailers, its document base64 in Lambda-Runtime-Function-Error-Body (none when the
# path ends in /nobody).
STREAM_ERROR_BOOTSTRAP = r"""
import base64, json, os, socket
api = os.environ["AWS_LAMBDA_RUNTIME_API"]
host, port = api.rsplit(":", 1)
nxt = socket.create_connection((host, int(port))).makefile("rwb")
while True:
    nxt.write(b"GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: x\r\n\r\n"); nxt.flush()
    head = {}
    nxt.readline()
    while True:
        line = nxt.readline().strip()
        if not line:
            break
        k, _, v = line.decode().partition(":")
        head[k.strip().lower()] = v.strip()
    path = json.loads(nxt.read(int(head["content-length"])))["path"]
    rid = head["lambda-runtime-aws-request-id"]
    part = b'{"statusCode": 200, "body": "partial"}'
    err = base64.b64encode(b'{"errorMessage": "broke mid-stream", "errorType": "Stream.Broke"}')
    trailers = b"Lambda-Runtime-Function-Error-Type: Stream.Broke\r\n"
    if not path.endswith("/nobody"):
        trailers += b"Lambda-Runtime-Function-Error-Body: " + err + b"\r\n"
    s = socket.create_connection((host, int(port)))
    s.sendall(b"POST /2018-06-01/runtime/invocation/%s/response HTTP/1.1\r\nHost: x\r\n"
              b"Lambda-Runtime-Function-Response-Mode: streaming\r\nTransfer-Encoding: chunked\r\n"
              b"Trailer: Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body\r\n\r\n"
              % rid.encode() + b"%x\r\n%s\r\n0\r\n" % (len(part), part) + trailers + b"\r\n")
    s.recv(1000)
    s.close()
"""

class LambdaFailureTests(LambdaCase):
    # --- function errors ---------------------------------------------------------------

    def test_unhandled_error_is_502(self):
        lb = self.serve([fn("slow", PYTHON, "index.handler")], {"fn/index.py": SLOW_PY})
        r = lb.get("/slow/x?raise=1")
        detail = self.assert_502(lb, r, "/slow/x?raise=1", "LambdaUnhandled", "slow")
        err = json.loads(detail)
        self.assertEqual((err["errorMessage"], err["errorType"]), ("kaboom 1", "ValueError"))
        self.wait_stderr(lb, r"^\[slow\] \[ERROR\] ValueError: kaboom 1$")

    def test_error_document_is_logged_on_one_line(self):
        # Found by posting such /error bodies from a custom runtime: the warning printed
        # them raw, over three lines (one forging "lb: error: ..."), and a NUL first
        # left the detail empty.
        lb = self.serve([fn("raw", PROVIDED, "x.handler", command=["python3", "bootstrap.py"])],
                        {"fn/bootstrap.py": RAW_ERROR_BOOTSTRAP})
        r = lb.get("/raw/lines")
        detail = self.assert_502(lb, r, "/raw/lines", "LambdaUnhandled", "raw")
        self.assertEqual(detail, r'{"errorMessage":"a\nlb: error: forged"}\r\nmore')
        self.assertNotIn("\nlb: error: forged", lb.stderr())
        self.assertNotRegex(lb.stderr(), r"(?m)^more$")
        r = lb.get("/raw/nul")
        self.assertEqual(self.assert_502(lb, r, "/raw/nul", "LambdaUnhandled", "raw"), r"\0lead")

    def test_timeout_kills_the_sandbox_and_the_next_request_gets_a_fresh_one(self):
        lb = self.serve([fn("slow", PYTHON, "index.handler", timeout=1)], {"fn/index.py": SLOW_PY})
        t0 = time.time()
        r = lb.get("/slow/t?sleep=5")
        elapsed = time.time() - t0
        self.assertTrue(1.0 <= elapsed < 2.5, elapsed)
        detail = self.assert_502(lb, r, "/slow/t?sleep=5", "LambdaUnhandled", "slow")
        self.assertEqual(detail, '{"errorMessage":"Task timed out after 1.00 seconds",'
                                 '"errorType":"Sandbox.Timedout"}')
        rid = self.wait_stderr(lb, r"^\[slow\] START RequestId: (%s) Version: \$LATEST$" % UUID).group(1)
        # Lambda's text line starts with the time, as a runtime's own lines do.
        self.wait_stderr(lb, r"^\[slow\] \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z %s Task timed out after 1\.00 seconds$"
                         % rid)
        self.wait_stderr(lb, r"^\[slow\] END RequestId: %s$" % rid)
        m = self.wait_stderr(lb, r"^\[slow\] REPORT RequestId: %s\tDuration: ([\d.]+) ms\t" % rid)
        self.assertTrue(990 <= float(m.group(1)) < 1500, m.group(0))
        # the runtime and everything it started are gone (its process group is killed)
        with open(os.path.join(lb.dir, "pids.json")) as f:
            pids = json.load(f)
        self.assertTrue(wait_for(lambda: not pid_alive(pids["pid"]) and not pid_alive(pids["child"])),
                        pids)
        r = lb.get("/slow/after")
        self.assertEqual(r.status, 200, r)
        self.assertNotEqual(json.loads(r.body)["pid"], pids["pid"])

    def test_timeout_never_stops_a_cold_function_before_its_deadline(self):
        # Lambda never ends a function before its timeout: REPORT's Duration is at least
        # the timeout (AWS's examples show 3004.92 ms for 3 s). lb's timer was measured
        # from libevent's cached loop time, stale on a cold start, and fired early.
        lb = self.serve([fn("spin", NODE, "index.handler", timeout=1)], {"fn/index.mjs": SPIN_NODE})
        for i in range(6):
            with self.subTest(i=i):
                target = f"/spin/{i}"
                self.assert_502(lb, lb.get(target), target, "LambdaUnhandled", "spin",
                                detail=r'\{"errorMessage":"Task timed out after 1\.00 seconds",'
                                       r'"errorType":"Sandbox\.Timedout"\}')
        # a timed-out invocation's REPORT ends with Lambda's "Status: timeout"
        reports = re.findall(r"^\[spin\] REPORT RequestId: %s\tDuration: ([\d.]+) ms\t.*"
                             r"\tInit Duration: [\d.]+ ms\tStatus: timeout$" % UUID, lb.stderr(), re.M)
        self.assertEqual(len(reports), 6, lb.stderr()[-3000:])
        for d in reports:
            self.assertGreaterEqual(float(d), 1000.0, reports)

    def test_runtime_exit_mid_invocation(self):
        lb = self.serve([fn("exiter", PROVIDED, "none")], {"fn/bootstrap": BASH_BOOTSTRAP})
        os.chmod(os.path.join(lb.dir, "fn", "bootstrap"), 0o755)
        r = lb.get("/exiter/ok")
        self.assertEqual(r.status, 200, r)
        pid1 = int(r.body.split()[1])
        for word, why in (("crash-now", "exit status 3"), ("kill-now", "signal: killed")):
            with self.subTest(word):
                target = f"/exiter/{word}"
                r = lb.get(target)
                detail = self.assert_502(lb, r, target, "LambdaUnhandled", "exiter")
                m = re.fullmatch(r'\{"errorMessage":"RequestId: (%s) Error: Runtime exited with '
                                 r'error: %s","errorType":"Runtime.ExitError"\}' % (UUID, why),
                                 detail)
                self.assertIsNotNone(m, detail)
                # Lambda logs the runtime's death before END; REPORT names the error
                rid = m.group(1)
                self.wait_stderr(lb, r"^\[exiter\] RequestId: %s Error: Runtime exited with error: %s\n"
                                     r"\[exiter\] Runtime\.ExitError\n"
                                     r"\[exiter\] END RequestId: %s\n"
                                     r"\[exiter\] REPORT RequestId: %s\t.*\tMax Memory Used: \d+ MB"
                                     r"(\tInit Duration: [\d.]+ ms)?\tStatus: error\tError Type: "
                                     r"Runtime\.ExitError$" % (rid, why, rid, rid))
                self.assertTrue(wait_for(lambda: not pid_alive(pid1)), pid1)
                # the next request gets a new process, which works
                r = lb.get("/exiter/ok")
                self.assertEqual(r.status, 200, r)
                pid2 = int(r.body.split()[1])
                self.assertNotEqual(pid2, pid1)
                pid1 = pid2
        self.wait_stderr(lb, r"^\[exiter\] crashing on purpose$")

    def test_runtime_exit_takes_its_processes_with_it(self):
        # Lambda discards the whole environment when its runtime exits: what the
        # runtime started goes with it (lb kills the process group on reaping).
        lb = self.serve([fn("spawner", PROVIDED, "x", command=["python3", "bootstrap.py"])],
                        {"fn/bootstrap.py": SPAWNING_BOOTSTRAP})
        child = None
        try:
            self.assert_502(lb, lb.get("/spawner/crash"), "/spawner/crash", "LambdaUnhandled",
                            "spawner")
            with open(os.path.join(lb.dir, "child.pid")) as f:
                child = int(f.read())
            self.assertTrue(wait_for(lambda: not pid_alive(child), timeout=10), child)
        finally:
            if child and pid_alive(child):
                os.kill(child, 9)

    def test_processes_in_a_session_of_their_own_go_with_their_sandbox(self):
        # Found by a runtime whose child called setsid (Node's detached spawn, as
        # puppeteer starts Chrome): killing the sandbox's process group missed it, so it
        # outlived its timed-out sandbox, and lb. Lambda leaves nothing of an environment.
        lb = self.serve([fn("spawner", PROVIDED, "x", command=["python3", "bootstrap.py"], timeout=1)],
                        {"fn/bootstrap.py": SPAWNING_BOOTSTRAP})
        children = []
        def child():
            with open(os.path.join(lb.dir, "child.pid")) as f:
                children.append(int(f.read()))
            return children[-1]
        try:
            self.assert_502(lb, lb.get("/spawner/detach/hang"), "/spawner/detach/hang", "LambdaUnhandled",
                            "spawner")
            self.assertTrue(wait_for(lambda: not pid_alive(children[-1]), timeout=5) if child() else False,
                            "the detached child of a timed-out sandbox is still running")
            self.assertEqual(lb.get("/spawner/detach/ok").status, 200)
            self.assertTrue(pid_alive(child()))
            lb.stop()
            self.assertTrue(wait_for(lambda: not pid_alive(children[-1]), timeout=5),
                            "the detached child of a warm sandbox outlived lb")
        finally:
            for pid in children:
                if pid_alive(pid):
                    os.kill(pid, 9)

    def test_runtime_that_never_asks_for_its_next_event_is_reset_at_the_timeout(self):
        # Found by a runtime that went quiet after its result: lb handed the next
        # request to its sandbox, "about to ask for the next", and that request waited
        # for ever. Lambda's invoke phase lasts until the runtime's next /next, within
        # the function's timeout; past it the environment is reset.
        lb = self.serve([fn("oneshot", PROVIDED, "x", command=["python3", "bootstrap.py"], timeout=1)],
                        {"fn/bootstrap.py": ONE_SHOT_BOOTSTRAP})
        first = lb.get("/oneshot/a")
        self.assertEqual(first.status, 200, first)
        c = lb.connect(timeout=15)
        try:
            c.send(raw_request("GET", "/oneshot/b"))
            second = c.read_response()
        finally:
            c.close()
        self.assertEqual(second.status, 200, second)
        self.assertNotEqual(second.body, first.body)   # a fresh sandbox
        self.wait_stderr(lb, r"^\[oneshot\] Runtime did not ask for its next event within the function's "
                             r"timeout: resetting the sandbox$")

    @unittest.skipIf(resource.getrlimit(resource.RLIMIT_NOFILE)[1] < 1200, "a runtime needs 1200 descriptors")
    def test_runtime_api_connections_are_capped_at_a_sandboxs_descriptors(self):
        # Found by a runtime opening thousands of idle connections to its Runtime API:
        # lb kept them all, so one runtime could take every descriptor lb had and lb
        # stopped accepting clients. A Lambda sandbox has 1024 descriptors: past 1024
        # open connections lb closes new ones, and says so once.
        lb = self.serve([fn("many", PROVIDED, "x", command=["python3", "bootstrap.py"], timeout=20)],
                        {"fn/bootstrap.py": MANY_CONNECTIONS_BOOTSTRAP})
        for _ in range(2):
            r = lb.get("/many/x")
            self.assertEqual(r.status, 200, r)
            # the /next connection is open too: 1023 of the 1100 are kept
            self.assertEqual(int(r.body), 1100 - 1023)
        self.assertEqual(len(re.findall(r"(?m)^lb: warning: \[many\] Runtime API: 1024 connections open: "
                                        r"closing new ones$", lb.stderr())), 2, lb.stderr()[-2000:])

    def test_init_errors_pipelined_give_one_init_report(self):
        # Found by a runtime pipelining /init/error posts: each after the first, which
        # had already failed the environment, logged another INIT_REPORT.
        lb = self.serve([fn("thrice", PROVIDED, "x", command=["python3", "bootstrap.py"])],
                        {"fn/bootstrap.py": INIT_ERROR_THRICE_BOOTSTRAP})
        self.assert_502(lb, lb.get("/thrice/x"), "/thrice/x", "LambdaUnhandled", "thrice")
        self.assertEqual(lb.get("/thrice/y").status, 502)
        time.sleep(0.5)
        self.assertEqual(len(re.findall(r"(?m)^\[thrice\] INIT_REPORT .*Error Type: Init\.Thrice$",
                                        lb.stderr())), 2, lb.stderr())

    def test_error_in_a_streamed_results_trailers_fails_the_invocation(self):
        # Found by a runtime streaming its result and failing mid-stream: lb dropped
        # the trailers that carry the error and answered 200 with the partial body.
        lb = self.serve([fn("streamer", PROVIDED, "x", command=["python3", "bootstrap.py"])],
                        {"fn/bootstrap.py": STREAM_ERROR_BOOTSTRAP})
        detail = self.assert_502(lb, lb.get("/streamer/a"), "/streamer/a", "LambdaUnhandled", "streamer")
        self.assertEqual(json.loads(detail), {"errorMessage": "broke mid-stream", "errorType": "Stream.Broke"})
        detail = self.assert_502(lb, lb.get("/streamer/nobody"), "/streamer/nobody", "LambdaUnhandled",
                                 "streamer")
        self.assertRegex(detail, r'^\{"errorMessage":"RequestId: %s Error: the response stream failed",'
                                 r'"errorType":"Stream.Broke"\}$' % UUID)

    def test_init_error_then_fresh_sandbox(self):
        lb = self.serve([fn("initfail", PROVIDED, "x", command=["python3", "bootstrap.py"])],
                        {"fn/bootstrap.py": INIT_BOOTSTRAP})
        r = lb.get("/initfail/1")
        detail = self.assert_502(lb, r, "/initfail/1", "LambdaUnhandled", "initfail")
        self.assertEqual(json.loads(detail), {"errorMessage": "cannot init",
                                              "errorType": "Runtime.Custom"})
        self.wait_stderr(lb, r"^\[initfail\] INIT_REPORT Init Duration: [\d.]+ ms\tPhase: init\t"
                             r"Status: error\tError Type: Runtime\.Custom$")
        r = lb.get("/initfail/2")
        self.assertEqual(r.status, 200, r)
        self.assertRegex(r.body, rb"^pid \d+$")

    def test_init_exit_and_missing_bootstrap(self):
        lb = self.serve([fn("initexit", PROVIDED, "x", command=["python3", "bootstrap.py"],
                            environment={"variables": {"INIT_EXIT": "1"}}),
                         fn("nobootstrap", PROVIDED, "x")],
                        {"fn/bootstrap.py": INIT_BOOTSTRAP})
        for i in range(2):  # every request tries a fresh init
            target = f"/initexit/{i}"
            detail = self.assert_502(lb, lb.get(target), target, "LambdaUnhandled", "initexit")
            self.assertRegex(detail, r'^\{"errorMessage":"RequestId: %s Error: Runtime exited with '
                                     r'error: exit status 7","errorType":"Runtime.ExitError"\}$' % UUID)
        self.assertEqual(lb.stderr().count("[initexit] exiting during init\n"), 2)
        # each is a failed init phase, logged as Lambda does
        self.assertEqual(len(re.findall(r"^\[initexit\] INIT_REPORT Init Duration: [\d.]+ ms\tPhase: init\t"
                                        r"Status: error\tError Type: Runtime\.ExitError$",
                                        lb.stderr(), re.M)), 2, lb.stderr())
        self.assertNotIn("[initexit] START", lb.stderr())
        # code/bootstrap does not exist
        detail = self.assert_502(lb, lb.get("/nobootstrap"), "/nobootstrap", "LambdaUnhandled",
                                 "nobootstrap")
        self.assertEqual(detail, '{"errorMessage":"the runtime could not be started",'
                                 '"errorType":"Runtime.InvalidEntrypoint"}')
        self.wait_stderr(lb, r"^lb: error: function nobootstrap: cannot start '.*/fn/bootstrap'")

    def test_lots_of_output(self):
        lb = self.serve([fn("noisy", PYTHON, "index.handler", timeout=30),
                         fn("quick", PYTHON, "sink.handler")],
                        {"fn/index.py": NOISY_PY, "fn/sink.py": SINK_PY})
        self.assertEqual(lb.get("/quick").status, 200)  # warm
        done = {}

        def noisy():
            c = lb.connect(timeout=60)
            c.send(raw_request("GET", "/noisy"))
            done["r"] = c.read_response()
            c.close()
        t = threading.Thread(target=noisy)
        t.start()
        # lb answers other requests while the function floods its output
        self.wait_stderr(lb, r"^\[noisy\] line 000100 ")
        t0 = time.time()
        time.sleep(0.25)
        self.assertEqual(lb.get("/quick").body, b"0")
        self.assertLess(time.time() - t0, 5.0)
        t.join(60)
        self.assertEqual((done["r"].status, done["r"].body), (200, b"printed"))
        self.wait_stderr(lb, r"^\[noisy\] to stderr$")
        err = lb.stderr()
        lines = err.split("\n")
        numbered = [l for l in lines if re.match(r"^\[noisy\] line \d{6} y{88}$", l)]
        self.assertEqual(len(numbered), 50000)
        self.assertEqual(numbered[0][:20], "[noisy] line 000000 ")
        self.assertEqual(numbered[-1][:20], "[noisy] line 049999 ")
        # the 200,000-byte line comes in pieces, each one prefixed
        pieces = [l for l in lines if "LLLL" in l]
        self.assertTrue(all(p.startswith("[noisy] L") for p in pieces), [p[:20] for p in pieces])
        self.assertEqual(sum(len(p) - len("[noisy] ") for p in pieces), 200000)
        self.assertGreater(len(pieces), 1)
        # every line of output is prefixed: nothing unprefixed slipped in
        for l in lines:
            if "y" * 88 in l or "LLLL" in l:
                self.assertTrue(l.startswith("[noisy] "), l[:40])

    # --- refused before invoking ---------------------------------------------------------

    def starts(self, lb, name):
        return len(re.findall(r"^\[%s\] START RequestId" % name, lb.stderr(), re.M))

    def test_request_body_over_1mb(self):
        lb = self.serve([fn("sink", PYTHON, "sink.handler")], {"fn/sink.py": SINK_PY})
        limit = 1024 * 1024
        r = lb.request(raw_request("POST", "/sink/exact", [("Content-Type", "application/octet-stream")],
                                   b"\x01" * limit))
        self.assertEqual((r.status, r.body), (200, str(limit).encode()), r)
        self.assertEqual(self.starts(lb, "sink"), 1)

        # Content-Length over the limit: answered at once, without reading the body
        c = lb.connect()
        try:
            c.send(raw_request("POST", "/sink/cl", [("Content-Type", "text/plain"),
                                                   ("Content-Length", str(limit + 1))]))
            r = c.read_response()
            self.assert_page(r, "HTTP/1.1 413 Request Entity Too Large", PAGE_413)
            self.assertEqual(r.header("connection"), "close")
            self.assertTrue(c.closed_by_peer())
        finally:
            c.close()
        self.assert_forward_log(lb, "/sink/cl", 413, "-", "LambdaRequestTooLarge", "sink")

        # the same with Expect: 100-continue: a final 413, the body is never asked for
        c = lb.connect()
        try:
            c.send(raw_request("POST", "/sink/expect", [("Content-Type", "text/plain"),
                                                       ("Expect", "100-continue"),
                                                       ("Content-Length", str(2 * limit))]))
            r = c.read_response()
            while r.status == 100:
                r = c.read_response()
            self.assert_page(r, "HTTP/1.1 413 Request Entity Too Large", PAGE_413)
            self.assertTrue(c.closed_by_peer())
        finally:
            c.close()

        # chunked: only known once the body has been read
        c = lb.connect()
        try:
            c.send(raw_request("POST", "/sink/chunked", [("Content-Type", "text/plain"),
                                                        ("Transfer-Encoding", "chunked")]))
            chunk = b"z" * 65536
            for _ in range(17):  # 17 x 64 KB > 1 MB
                c.send(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            c.sock.settimeout(0.5)
            with self.assertRaises(socket.timeout):
                c.sock.recv(1)  # nothing yet: the body is not complete
            c.sock.settimeout(10)
            c.send(b"0\r\n\r\n")
            r = c.read_response()
            self.assert_page(r, "HTTP/1.1 413 Request Entity Too Large", PAGE_413)
            self.assertTrue(c.closed_by_peer())
        finally:
            c.close()
        self.assert_forward_log(lb, "/sink/chunked", 413, "-", "LambdaRequestTooLarge", "sink")
        self.assertEqual(self.starts(lb, "sink"), 1)  # never invoked for either

    def test_websocket_upgrade_is_400(self):
        lb = self.serve([fn("sink", PYTHON, "sink.handler")], {"fn/sink.py": SINK_PY})
        r = lb.request(raw_request("GET", "/sink/ws", [
            ("Connection", "Upgrade"), ("Upgrade", "websocket"), ("Sec-WebSocket-Version", "13"),
            ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")]))
        self.assert_page(r, "HTTP/1.1 400 Bad Request", PAGE_400)
        self.assertEqual(len(r.body), 122)
        self.assert_forward_log(lb, "/sink/ws", 400, "-", "LambdaWebsocketNotSupported", "sink")
        self.assertEqual(self.starts(lb, "sink"), 0)
        # an upgrade to something else is an ordinary request
        r = lb.request(raw_request("GET", "/sink/h2c", [("Connection", "Upgrade"),
                                                        ("Upgrade", "h2c")]))
        self.assertEqual((r.status, r.body), (200, b"0"), r)

    def test_reserved_concurrency_zero_is_throttled(self):
        lb = self.serve([fn("zero", PYTHON, "sink.handler", reserved_concurrent_executions=0)],
                        {"fn/sink.py": SINK_PY})
        for i in range(2):
            target = f"/zero/{i}"
            detail = self.assert_502(lb, lb.get(target), target, "LambdaThrottling", "zero")
            self.assertEqual(detail, '{"errorMessage":"Rate Exceeded.",'
                                     '"errorType":"TooManyRequestsException"}')
        self.assertNotIn("[zero]", lb.stderr())  # no process was started

    def test_target_group_without_targets_is_503(self):
        lb = self.serve([], {}, target_groups=[tg("empty", False)])
        r = lb.get("/empty/x")
        self.assert_page(r, "HTTP/1.1 503 Service Temporarily Unavailable", PAGE_503)
        self.assertEqual(len(r.body), 162)
        self.assert_forward_log(lb, "/empty/x", 503, "-", "-", "empty")
        self.wait_stderr(lb, r"^lb: warning: GET /empty/x: target group empty has no registered target: 503$")

    def test_queue_overflow_is_throttled(self):
        lb = self.serve([fn("gate", PYTHON, "gate.handler", reserved_concurrent_executions=1,
                            timeout=30)], {"fn/gate.py": GATE_PY})
        conns = []
        try:
            for i in range(101):  # one runs (held at the gate), 100 wait in the queue
                c = lb.connect(timeout=30)
                c.send(raw_request("GET", f"/gate/{i}"))
                conns.append(c)
                if i == 0:
                    self.wait_stderr(lb, r"^\[gate\] START RequestId")
            time.sleep(0.3)
            t0 = time.time()
            target = "/gate/overflow"
            r = lb.get(target)
            self.assertLess(time.time() - t0, 10.0)  # not held like the queue (30 s)
            detail = self.assert_502(lb, r, target, "LambdaThrottling", "gate")
            self.assertEqual(detail, '{"errorMessage":"Rate Exceeded.",'
                                     '"errorType":"TooManyRequestsException"}')
            open(os.path.join(lb.dir, "fn", "gate"), "w").close()
            for c in conns:
                r = c.read_response()
                self.assertEqual((r.status, r.body), (200, b"through"), r)
        finally:
            for c in conns:
                c.close()
        self.assertEqual(self.starts(lb, "gate"), 101)
        self.assertEqual(lb.stderr().count("Init Duration"), 1)  # one sandbox served them all

    # --- results the Runtime API refuses ------------------------------------------------------

    def test_result_over_6mb_fails_at_once(self):
        # Lambda fails an invocation whose /response is over 6 MB at once
        # (Function.ResponseSizeTooLarge), instead of waiting for its timeout.
        # The timeout is far beyond any answer time on a loaded machine: an answer well
        # before it, with the refusal logged, is the refusal's and not the timeout's.
        lb = self.serve([fn("big", PYTHON, "index.handler", timeout=120)], {"fn/index.py": BIG_PY})
        try:
            t0 = time.time()
            c = lb.connect(timeout=100)
            c.send(raw_request("GET", "/big/big"))
            r = c.read_response()
            c.close()
            self.assertEqual(r.status, 502, r)
            self.assertLess(time.time() - t0, 60)
            self.wait_stderr(lb, r"answered 413 to a result")
            self.assertNotIn("Task timed out", lb.stderr())
        finally:
            lb.stop()

    def test_request_while_a_result_is_refused_is_not_lost(self):
        # After the 413 the runtime asks for its next event: the refused invocation is
        # over, and a request arriving meanwhile is served by the same sandbox, with
        # nothing lost or leaked.
        lb = self.serve([fn("big", PYTHON, "index.handler", timeout=2)], {"fn/index.py": BIG_PY})
        try:
            first = {}

            def big():
                c = lb.connect(timeout=30)
                c.send(raw_request("GET", "/big/big"))
                try:
                    first["r"] = c.read_response()
                except OSError as e:
                    first["r"] = e
                c.close()
            t = threading.Thread(target=big)
            t.start()
            self.wait_stderr(lb, r"answered 413 to a result")
            time.sleep(0.2)
            r = lb.get("/big/small")
            self.assertEqual((r.status, r.body), (200, b"small"), r)
            t.join(10)
            self.assertEqual(getattr(first["r"], "status", first["r"]), 502)
        finally:
            lb.stop()


if __name__ == "__main__":
    unittest.main()
