"""Lambda extensions and the Telemetry API (DESIGN.md §18; README "Extensions and the
Telemetry API").

The extensions are small Python executables in a layer's extensions/ directory. They
write what they see, one JSON object a line, to a file named by the function's
environment (EXT_LOG), and the handler writes there too, so the tests assert the order
of events from the file, never from timing.
"""
import json
import os
import threading
import unittest

from lambdacommon import PYTHON, LambdaCase, fn, wait_for

# A generic extension, steered by the function's environment:
#   EXT_SLOW=1       on INVOKE, wait for the file release-<requestId> before asking for more
#   EXT_LATE=1       on INVOKE, try to register another extension (Lambda: 403)
#   EXT_TELEMETRY=1  subscribe to platform and function telemetry, log each batch
#   EXT_TELEMETRY_TWICE=1  with EXT_TELEMETRY: the same subscription again, still during init
#   EXT_CRASH=1      exit with status 3 before registering
#   EXT_FAIL=1       on INVOKE, report /exit/error and exit
#   EXT_STUCK=1      on INVOKE, never ask for the next event
EXTENSION = r'''#!/usr/bin/env python3
import http.server, json, os, socket, sys, threading, time, urllib.request, urllib.error

API = "http://" + os.environ["AWS_LAMBDA_RUNTIME_API"]
NAME = os.path.basename(sys.argv[0])
LOG = os.environ["EXT_LOG"]

def log(**rec):
    rec["ext"] = NAME
    with open(LOG, "a") as f:
        f.write(json.dumps(rec) + "\n")

def call(method, path, body=None, headers=None):
    req = urllib.request.Request(API + path, data=None if body is None else json.dumps(body).encode(),
                                 method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req) as r:
            return r.status, dict(r.headers), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read().decode()

if os.environ.get("EXT_CRASH"):
    sys.exit(3)
# requests Lambda refuses, before the real registration
probes = {
    "bad-event": call("POST", "/2020-01-01/extension/register", {"events": ["INVOKE", "RESTORE"]},
                      {"Lambda-Extension-Name": NAME}),
    "no-name": call("POST", "/2020-01-01/extension/register", {"events": ["INVOKE"]}),
    "no-id": call("GET", "/2020-01-01/extension/event/next"),
    "unknown-id": call("GET", "/2020-01-01/extension/event/next", None,
                       {"Lambda-Extension-Identifier": "00000000-0000-4000-8000-000000000000"}),
}
log(kind="probes", probes={k: [v[0], json.loads(v[2])] for k, v in probes.items()})
status, headers, body = call("POST", "/2020-01-01/extension/register", {"events": ["INVOKE", "SHUTDOWN"]},
                             {"Lambda-Extension-Name": NAME,
                              "Lambda-Extension-Accept-Feature": "accountId" if NAME == "beta" else ""})
ident = headers.get("Lambda-Extension-Identifier")
print(NAME + " says hello", flush=True)
log(kind="registered", status=status, body=json.loads(body), ident=ident)

if os.environ.get("EXT_TELEMETRY"):
    class Sink(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            data = self.rfile.read(int(self.headers["Content-Length"]))
            log(kind="telemetry", batch=json.loads(data), path=self.path)
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()
        def log_message(self, *a):
            pass
    srv = http.server.HTTPServer(("127.0.0.1", 0), Sink)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    sub = {"schemaVersion": "2022-12-13", "types": ["platform", "function", "extension"],
           "buffering": {"maxItems": 1000, "maxBytes": 262144, "timeoutMs": 25},
           "destination": {"protocol": "HTTP",
                           "URI": "http://sandbox.localdomain:%d/telemetry" % srv.server_port}}
    status, _, body = call("PUT", "/2022-07-01/telemetry", sub, {"Lambda-Extension-Identifier": ident})
    log(kind="subscribed", status=status, body=body)
    if os.environ.get("EXT_TELEMETRY_TWICE"):
        print(NAME + " subscribed once", flush=True)   # an init event between the two
        status, _, body = call("PUT", "/2022-07-01/telemetry", sub, {"Lambda-Extension-Identifier": ident})
        log(kind="subscribed-again", status=status, body=body)
    bad = dict(sub, buffering={"timeoutMs": 10})
    status, _, body = call("PUT", "/2022-07-01/telemetry", bad, {"Lambda-Extension-Identifier": ident})
    log(kind="bad-subscription", status=status, body=json.loads(body))

if os.environ.get("EXT_TELEMETRY_STUCK"):
    # a destination that takes connections into its backlog and never answers
    stuck = socket.socket()
    stuck.bind(("127.0.0.1", 0))
    stuck.listen(64)
    sub = {"schemaVersion": "2022-12-13", "types": ["function"],
           "buffering": {"maxItems": 1000, "maxBytes": 262144, "timeoutMs": 25},
           "destination": {"protocol": "HTTP",
                           "URI": "http://sandbox.localdomain:%d/stuck" % stuck.getsockname()[1]}}
    status, _, body = call("PUT", "/2022-07-01/telemetry", sub, {"Lambda-Extension-Identifier": ident})
    log(kind="subscribed", status=status, body=body)

while True:
    status, headers, body = call("GET", "/2020-01-01/extension/event/next", None,
                                 {"Lambda-Extension-Identifier": ident})
    event = json.loads(body)
    log(kind="event", status=status, event=event)
    if event.get("eventType") == "SHUTDOWN":
        log(kind="shutdown-done")
        sys.exit(0)
    rid = event.get("requestId")
    if os.environ.get("EXT_FAIL"):
        status, _, body = call("POST", "/2020-01-01/extension/exit/error", {"errorMessage": "agent broke",
                               "errorType": "Extension.AgentBroke"},
                               {"Lambda-Extension-Identifier": ident,
                                "Lambda-Extension-Function-Error-Type": "Extension.AgentBroke"})
        log(kind="exit-error", status=status, body=json.loads(body))
        sys.exit(1)
    if os.environ.get("EXT_STUCK"):
        log(kind="stuck", requestId=rid)
        while True:
            time.sleep(1)
    if os.environ.get("EXT_LATE"):
        status, _, body = call("POST", "/2020-01-01/extension/register", {"events": ["INVOKE"]},
                               {"Lambda-Extension-Name": "late"})
        log(kind="late-register", status=status, body=json.loads(body))
        status, _, body = call("POST", "/2020-01-01/extension/init/error", {"errorMessage": "late"},
                               {"Lambda-Extension-Identifier": ident,
                                "Lambda-Extension-Function-Error-Type": "Extension.Late"})
        log(kind="late-init-error", status=status, body=json.loads(body))
    if os.environ.get("EXT_SLOW"):
        marker = os.path.join(os.path.dirname(LOG), "release-" + rid)
        while not os.path.exists(marker):
            time.sleep(0.02)
        log(kind="released", requestId=rid)
'''

HANDLER = r'''
import json, os, time
def handler(event, context):
    if os.environ.get("EXT_FAIL"):
        while True:            # the extension's failure ends the invocation
            time.sleep(0.05)
    print("handler says hello for " + context.aws_request_id, flush=True)
    if os.environ.get("EXT_NOISY"):
        for i in range(3000):
            print("%04d " % i + "x" * 1000)
    with open(os.environ["EXT_LOG"], "a") as f:
        f.write(json.dumps({"kind": "handler", "requestId": context.aws_request_id}) + "\n")
    return {"statusCode": 200, "body": context.aws_request_id}
'''


class ExtensionTests(LambdaCase):
    def serve_ext(self, names=("alpha",), reserved=None, timeout=None, **flags):
        self.logdir = self.enterContext(__import__("tempfile").TemporaryDirectory(prefix="lbext-"))
        self.logpath = os.path.join(self.logdir, "events.jsonl")
        env = {"EXT_LOG": self.logpath}
        env.update({k: "1" for k, v in flags.items() if v})
        extra = {"layers": ["layers/ext"], "environment": {"variables": env}}
        if reserved is not None:
            extra["reserved_concurrent_executions"] = reserved
        if timeout is not None:
            extra["timeout"] = timeout
        files = {"fn/index.py": HANDLER}
        files.update({f"layers/ext/extensions/{n}": EXTENSION for n in names})
        lb = self.serve([fn("f", PYTHON, "index.handler", "fn", **extra)], files,
                        env={"LB_LAMBDA_IDLE_SECONDS": "600"})
        for n in names:
            os.chmod(os.path.join(lb.dir, f"layers/ext/extensions/{n}"), 0o755)
        return lb

    def records(self):
        if not os.path.exists(self.logpath):
            return []
        with open(self.logpath) as f:
            return [json.loads(l) for l in f if l.strip()]

    def wait_records(self, pred, timeout=15, count=1):
        got = wait_for(lambda: [r for r in self.records() if pred(r)][count - 1:] and
                       [r for r in self.records() if pred(r)], timeout)
        self.assertTrue(got, f"no matching record in {self.records()!r}")
        return got

    def invoke(self, lb):
        r = lb.get("/f")
        self.assertEqual(r.status, 200, (r, lb.stderr()[-3000:]))
        return r.body.decode()

    def test_registration_answer_and_invoke_events_match_the_request(self):
        lb = self.serve_ext(names=("alpha", "beta"))
        rid = self.invoke(lb)
        regs = self.wait_records(lambda r: r["kind"] == "registered", count=2)
        self.assertEqual(sorted(r["ext"] for r in regs), ["alpha", "beta"])
        for r in regs:
            self.assertEqual(r["status"], 200)
            expected = {"functionName": "f", "functionVersion": "$LATEST", "handler": "index.handler"}
            if r["ext"] == "beta":     # it asked for the accountId feature
                expected["accountId"] = "123456789012"
            self.assertEqual(r["body"], expected)
            self.assertRegex(r["ident"], r"^[0-9a-f-]{36}$")
        self.assertNotEqual(regs[0]["ident"], regs[1]["ident"])
        probes = self.wait_records(lambda r: r["kind"] == "probes" and r["ext"] == "alpha")[0]["probes"]
        self.assertEqual(probes, {
            "bad-event": [403, {"errorMessage": "Unknown event type: RESTORE",
                                "errorType": "Extension.InvalidEventType"}],
            "no-name": [403, {"errorMessage": "Empty extension name",
                              "errorType": "Extension.InvalidExtensionName"}],
            "no-id": [403, {"errorMessage": "Missing Lambda-Extension-Identifier header",
                            "errorType": "Extension.MissingHeader"}],
            "unknown-id": [403, {"errorMessage": "Unknown extension identifier",
                                 "errorType": "Extension.UnknownExtensionIdentifier"}],
        })
        events = self.wait_records(lambda r: r["kind"] == "event" and r["event"].get("requestId") == rid,
                                   count=2)
        self.assertEqual(sorted(e["ext"] for e in events), ["alpha", "beta"])
        ev = events[0]["event"]
        self.assertEqual(ev["eventType"], "INVOKE")
        self.assertEqual(ev["invokedFunctionArn"], "arn:aws:lambda:us-east-1:123456789012:function:f")
        self.assertEqual(ev["tracing"]["type"], "X-Amzn-Trace-Id")
        self.assertRegex(ev["tracing"]["value"], r"^Root=1-")
        self.assertIsInstance(ev["deadlineMs"], int)
        # init completed only after both extensions had registered: they precede the handler
        kinds = [(r["kind"], r.get("ext")) for r in self.records()]
        first_handler = kinds.index(("handler", None))
        self.assertLess(kinds.index(("registered", "alpha")), first_handler)
        self.assertLess(kinds.index(("registered", "beta")), first_handler)

    def test_shutdown_on_lb_stop(self):
        lb = self.serve_ext()
        self.invoke(lb)
        lb.stop()
        shut = [r for r in self.records() if r["kind"] == "event" and
                r["event"].get("eventType") == "SHUTDOWN"]
        self.assertEqual(len(shut), 1, self.records())
        self.assertEqual(shut[0]["event"]["shutdownReason"], "spindown")
        self.assertIsInstance(shut[0]["event"]["deadlineMs"], int)
        self.assertTrue([r for r in self.records() if r["kind"] == "shutdown-done"])

    def test_shutdown_when_the_idle_sandbox_stops(self):
        lb = self.serve_ext()
        self.invoke(lb)
        lb.signal(__import__("signal").SIGHUP)     # a reload retires idle sandboxes
        shut = self.wait_records(lambda r: r["kind"] == "event" and
                                 r["event"].get("eventType") == "SHUTDOWN")
        self.assertEqual(shut[0]["event"]["shutdownReason"], "spindown")

    def test_slow_extension_delays_the_next_invocation_not_the_response(self):
        lb = self.serve_ext(reserved=1, EXT_SLOW=True)
        first = self.invoke(lb)     # answered while the extension still holds the sandbox
        self.wait_records(lambda r: r["kind"] == "event" and r["event"].get("requestId") == first)
        second = {}
        t = threading.Thread(target=lambda: second.update(body=self.invoke(lb)))
        t.start()
        self.assertEqual([r for r in self.records() if r["kind"] == "released"], [])
        open(os.path.join(self.logdir, "release-" + first), "w").close()
        t.join(30)
        self.assertIn("body", second)
        order = [(r["kind"], r.get("requestId")) for r in self.records()
                 if r["kind"] in ("handler", "released")]
        self.assertLess(order.index(("released", first)), order.index(("handler", second["body"])))
        open(os.path.join(self.logdir, "release-" + second["body"]), "w").close()

    def test_registration_after_init_is_refused(self):
        lb = self.serve_ext(EXT_LATE=True)
        self.invoke(lb)
        late = self.wait_records(lambda r: r["kind"] == "late-register")[0]
        self.assertEqual(late["status"], 403)
        self.assertEqual(late["body"], {"errorMessage": "Extension registration is closed",
                                        "errorType": "Extension.RegistrationClosed"})
        # so is an init error: out of order once the init phase is over, and nothing fails
        rec = self.wait_records(lambda r: r["kind"] == "late-init-error")[0]
        self.assertEqual((rec["status"], rec["body"]), (403, {"errorMessage": "the init phase is over",
                                                              "errorType": "InvalidStateTransition"}))
        self.assertEqual(lb.get("/f").status, 200)
        self.assertNotIn("EXTENSION init error", lb.stderr())

    def test_a_subscriber_that_falls_behind_loses_batches_not_memory(self):
        # Lambda drops what a subscriber cannot take: lb queued every batch for a
        # destination that never answers (976 MB after 16 noisy invocations)
        lb = self.serve_ext(EXT_TELEMETRY_STUCK=True, EXT_NOISY=True, timeout=30)
        for _ in range(3):
            self.assertEqual(lb.get("/f").status, 200)
        self.wait_stderr(lb, r"^lb: warning: telemetry: 127\.0\.0\.1:\d+/stuck is not keeping up: "
                             r"dropping batches$", timeout=10)

    def test_telemetry_receives_platform_and_function_records(self):
        lb = self.serve_ext(EXT_TELEMETRY=True)
        rid = self.invoke(lb)
        sub = self.wait_records(lambda r: r["kind"] == "subscribed")[0]
        self.assertEqual((sub["status"], sub["body"]), (200, "OK"))
        bad = self.wait_records(lambda r: r["kind"] == "bad-subscription")[0]
        self.assertEqual(bad["status"], 400)
        self.assertEqual(bad["body"]["errorType"], "ValidationError")

        def events():
            return [e for r in self.records() if r["kind"] == "telemetry" for e in r["batch"]]

        def has(kind, pred=lambda e: True):
            return [e for e in events() if e["type"] == kind and pred(e)]

        self.assertTrue(wait_for(lambda: has("platform.report", lambda e: e["record"]["requestId"] == rid),
                                 15), events())
        # the init phase's events reach a subscription made during init
        init = has("platform.initStart")
        self.assertEqual(init[0]["record"], {"initializationType": "on-demand", "phase": "init",
                                             "functionName": "f", "functionVersion": "$LATEST"})
        self.assertEqual(has("platform.initRuntimeDone")[0]["record"],
                         {"initializationType": "on-demand", "phase": "init", "status": "success"})
        start = has("platform.start", lambda e: e["record"]["requestId"] == rid)
        self.assertEqual(start[0]["record"], {"requestId": rid, "version": "$LATEST"})
        done = has("platform.runtimeDone", lambda e: e["record"]["requestId"] == rid)[0]["record"]
        self.assertEqual(done["status"], "success")
        report = has("platform.report", lambda e: e["record"]["requestId"] == rid)[0]["record"]
        self.assertEqual(report["status"], "success")
        self.assertEqual(set(report["metrics"]) - {"initDurationMs"},
                         {"durationMs", "billedDurationMs", "memorySizeMB", "maxMemoryUsedMB"})
        self.assertEqual(report["metrics"]["memorySizeMB"], 128)
        logs = has("function", lambda e: e["record"] == "handler says hello for " + rid)
        self.assertEqual(len(logs), 1, events())
        self.assertRegex(logs[0]["time"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
        # the extension's own output is an "extension" record, not the function's
        self.assertEqual(len(has("extension", lambda e: e["record"] == "alpha says hello")), 1, events())
        self.assertEqual(has("function", lambda e: "says hello" in e["record"] and "handler" not in e["record"]),
                         [])
        paths = {r["path"] for r in self.records() if r["kind"] == "telemetry"}
        self.assertEqual(paths, {"/telemetry"})

    def test_a_second_subscription_during_init_gets_each_event_once(self):
        # The init phase's events reach a subscription made during init, once: lb
        # replayed them again to the same destination when the extension subscribed
        # a second time.
        lb = self.serve_ext(EXT_TELEMETRY=True, EXT_TELEMETRY_TWICE=True)
        rid = self.invoke(lb)
        again = self.wait_records(lambda r: r["kind"] == "subscribed-again")[0]
        self.assertEqual((again["status"], again["body"]), (200, "OK"))

        def events():
            return [e for r in self.records() if r["kind"] == "telemetry" for e in r["batch"]]

        self.assertTrue(wait_for(lambda: [e for e in events() if e["type"] == "platform.report"], 15),
                        events())
        seen = [(e["type"], json.dumps(e["record"], sort_keys=True)) for e in events()]
        self.assertEqual(len(seen), len(set(seen)), seen)
        for kind, record in (("platform.initStart", None), ("platform.initRuntimeDone", None),
                             ("extension", "alpha says hello"), ("extension", "alpha subscribed once"),
                             ("function", "handler says hello for " + rid)):
            with self.subTest(kind=kind, record=record):
                got = [e for e in events() if e["type"] == kind and record in (None, e["record"])]
                self.assertEqual(len(got), 1, events())

    def test_extension_crash_during_init_fails_the_invocation(self):
        lb = self.serve_ext(EXT_CRASH=True)
        r = lb.get("/f")
        self.assertEqual(r.status, 502, r)
        self.wait_stderr(lb, r"EXTENSION exited with error: exit status 3")
        self.wait_stderr(lb, r"INIT_REPORT .*Status: error\tError Type: Extension\.Crash")
        self.assertEqual([r for r in self.records() if r["kind"] == "handler"], [])

    def test_extension_exit_error_fails_the_invocation(self):
        lb = self.serve_ext(EXT_FAIL=True, timeout=30)
        r = lb.get("/f")
        self.assertEqual(r.status, 502, r)
        rec = self.wait_records(lambda r: r["kind"] == "exit-error")[0]
        self.assertEqual((rec["status"], rec["body"]), (202, {"status": "OK"}))
        self.wait_stderr(lb, r"EXTENSION exit error: Extension\.AgentBroke")
        self.assertNotRegex(lb.stderr(), r"Task timed out")

    def test_extension_past_the_timeout_resets_the_sandbox(self):
        lb = self.serve_ext(reserved=1, timeout=1, EXT_STUCK=True)
        first = self.invoke(lb)       # the runtime answered: the client has it
        self.wait_records(lambda r: r["kind"] == "stuck" and r["requestId"] == first)
        # with one sandbox allowed, the next request runs only once the stuck one is gone
        second = self.invoke(lb)
        self.assertNotEqual(first, second)
        self.wait_stderr(lb, r"EXTENSION did not ask for its next event within the function's timeout")
        self.assertEqual(len([r for r in self.records() if r["kind"] == "registered"]), 2)


if __name__ == "__main__":
    unittest.main()
