"""Asynchronous invocation through lb's Invoke API (X-Amz-Invocation-Type: Event; DESIGN.md §18):
retries, maximum event age, throttles and destinations with Lambda's invocation records.

Retry delays are shortened with LB_ASYNC_RETRY_DELAYS and the event age with LB_ASYNC_MAX_AGE;
the tests wait for files to appear (the functions write them), never for a time.
"""
import json
import os
import signal
import subprocess
import tempfile
import time
import unittest

from lambdacommon import ACCOUNT, REGION, UUID, LambdaCase, fn, wait_for
from lbtest import LB_BIN, Lb
from test_lambda_api import PATH, api_config, read_api_port, ApiCase

ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:"
WAIT = 60  # generous: a retry waits its delay, and the machine may be loaded

WORKER = """
import json, os
def handler(event, context):
    if "count" in event:
        with open(event["count"], "a") as f:
            f.write(context.aws_request_id + "\\n")
    if "fail" in event:
        raise ValueError(event["fail"])
    return {"done": event.get("n"), "version": context.function_version}
"""

SINK = """
import json, os
def handler(event, context):
    path = event["requestPayload"]["sink"]
    with open(path + ".tmp", "w") as f:
        json.dump({"record": event, "request_id": context.aws_request_id}, f)
    os.rename(path + ".tmp", path)
    return None
"""

RELOADED = """
import os
def handler(event, context):
    with open(event["count"], "a") as f:
        f.write(context.aws_request_id + "\\n")
    if os.environ.get("V") != "two":
        raise ValueError("not reloaded yet")
    return {"v": os.environ["V"]}
"""

FILES = {"fn/index.py": WORKER, "sink/index.py": SINK, "reloaded/index.py": RELOADED}


def dests(success=None, failure=None, **extra):
    d = {}
    if success:
        d["on_success"] = {"destination": success}
    if failure:
        d["on_failure"] = {"destination": failure}
    extra["destination_config"] = d
    return extra


FUNCTIONS = [
    fn("worker", event_invoke_config=dests("sink", ARN + "sink", maximum_retry_attempts=2)),
    fn("once", event_invoke_config=dests(None, "file:failures.jsonl", maximum_retry_attempts=0)),
    fn("tofile", event_invoke_config=dests("file:records/success.jsonl")),
    fn("tofull", event_invoke_config=dests("file:/dev/full")),
    fn("plain"),
    fn("sink", code="sink"),
]


def read_json(path):
    with open(path) as f:
        return json.load(f)


def json_lines(path):
    try:
        with open(path) as f:
            return [json.loads(line) for line in f.read().splitlines()]
    except FileNotFoundError:
        return []


class AsyncCase(ApiCase):
    def event(self, name, payload):
        r = self.invoke(name, payload, headers=[("X-Amz-Invocation-Type", "Event")])
        self.assertEqual((r.status, r.body), (202, b""), r)
        rid = r.header("x-amzn-requestid")
        self.assertRegex(rid, "^" + UUID + "$")
        return rid

    def wait_file(self, path, pred=os.path.exists):
        ok = wait_for(lambda: pred(path), WAIT)
        self.assertTrue(ok, f"{path} never appeared; lb's stderr:\n{self.lb.stderr()[-3000:]}")

    def lines(self, path):
        try:
            with open(path) as f:
                return f.read().split()
        except FileNotFoundError:
            return []


class AsyncTests(AsyncCase):
    @classmethod
    def setUpClass(cls):
        cls.start_class_lb(*api_config(FUNCTIONS), FILES, env={"LB_ASYNC_RETRY_DELAYS": "1,2"},
                           before_start=lambda lb: os.mkdir(os.path.join(lb.dir, "records")))

    def path(self, name):
        return os.path.join(self.lb.dir, self.id().rsplit(".", 1)[-1] + "-" + name)

    def test_success_sends_the_record_to_the_on_success_function(self):
        sink, count = self.path("sink"), self.path("count")
        payload = {"n": 7, "sink": sink, "count": count}
        rid = self.event("worker", payload)
        self.wait_file(sink)
        got = read_json(sink)
        rec = got["record"]
        self.assertRegex(rec.pop("timestamp"), r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
        self.assertEqual(rec, {
            "version": "1.0",
            "requestContext": {"requestId": rid, "functionArn": ARN + "worker:$LATEST",
                               "condition": "Success", "approximateInvokeCount": 1},
            "requestPayload": payload,
            "responseContext": {"statusCode": 200, "executedVersion": "$LATEST"},
            "responsePayload": {"done": 7, "version": "$LATEST"},
        })
        # the function ran once, under the 202's request id; the destination under its own
        self.assertEqual(self.lines(count), [rid])
        self.assertNotEqual(got["request_id"], rid)

    def test_failure_is_retried_then_sent_to_on_failure(self):
        sink, count = self.path("sink"), self.path("count")
        payload = {"fail": "boom", "sink": sink, "count": count}
        rid = self.event("worker", payload)
        self.wait_file(sink)
        rec = read_json(sink)["record"]
        # the first attempt and maximum_retry_attempts (2) retries, all under one request id
        self.assertEqual(self.lines(count), [rid] * 3)
        self.assertEqual(rec["requestContext"], {
            "requestId": rid, "functionArn": ARN + "worker:$LATEST",
            "condition": "RetriesExhausted", "approximateInvokeCount": 3})
        self.assertEqual(rec["requestPayload"], payload)
        self.assertEqual(rec["responseContext"], {"statusCode": 200, "executedVersion": "$LATEST",
                                                  "functionError": "Unhandled"})
        self.assertEqual(rec["responsePayload"]["errorType"], "ValueError")
        self.assertEqual(rec["responsePayload"]["errorMessage"], "boom")
        err = self.lb.stderr()
        self.assertIn(f"function worker: Event {rid} attempt 1 of 3 failed", err)
        self.assertIn(f"function worker: Event {rid} attempt 2 of 3 failed", err)
        self.assertIn(f"function worker: Event {rid} dropped after 3 attempts", err)

    def test_zero_retries_and_a_file_destination(self):
        count = self.path("count")
        payload = {"fail": "once only", "count": count}
        rid = self.event("once", payload)
        failures = os.path.join(self.lb.dir, "failures.jsonl")
        self.wait_file(failures, lambda p: any(r["requestContext"]["requestId"] == rid for r in json_lines(p)))
        rec = [r for r in json_lines(failures) if r["requestContext"]["requestId"] == rid][0]
        self.assertEqual(self.lines(count), [rid])
        self.assertEqual(rec["requestContext"]["condition"], "RetriesExhausted")
        self.assertEqual(rec["requestContext"]["approximateInvokeCount"], 1)
        self.assertEqual(rec["requestContext"]["functionArn"], ARN + "once:$LATEST")
        self.assertEqual(rec["requestPayload"], payload)
        self.assertEqual(rec["responseContext"]["functionError"], "Unhandled")

    def test_file_destination_appends_one_line_per_record(self):
        rids = [self.event("tofile", {"n": i}) for i in range(3)]
        out = os.path.join(self.lb.dir, "records", "success.jsonl")
        self.wait_file(out, lambda p: len(json_lines(p)) >= 3)
        with open(out) as f:
            text = f.read()
        self.assertTrue(text.endswith("\n"))
        recs = [json.loads(line) for line in text.splitlines()]
        self.assertEqual(sorted(r["requestContext"]["requestId"] for r in recs), sorted(rids))
        for r in recs:
            self.assertEqual(r["requestContext"]["condition"], "Success")
            self.assertEqual(r["responsePayload"], {"done": r["requestPayload"]["n"], "version": "$LATEST"})

    def test_a_destination_file_that_cannot_be_written_is_one_warning(self):
        # /dev/full takes the open and the buffered write; the close fails (ENOSPC).
        self.event("tofull", {"n": 1})
        warning = "function tofull: could not append the invocation record to /dev/full: No space left on device"
        self.assertTrue(wait_for(lambda: warning in self.lb.stderr(), WAIT), self.lb.stderr()[-3000:])
        self.assertEqual(self.lb.stderr().count(warning), 1)
        r = self.invoke("plain", {"n": "after"})
        self.assertEqual((r.status, json.loads(r.body)), (200, {"done": "after", "version": "$LATEST"}), r)

    def test_without_configuration_an_event_still_runs(self):
        count = self.path("count")
        rid = self.event("plain", {"count": count})
        self.wait_file(count)
        self.assertEqual(self.lines(count), [rid])


class AsyncAgeTests(AsyncCase):
    """A short maximum age (LB_ASYNC_MAX_AGE) and a first retry delay longer than it."""

    def start_lb(self):
        functions = [
            fn("aging", event_invoke_config=dests(None, "sink", maximum_event_age_in_seconds=60)),
            fn("blocked", reserved_concurrent_executions=0,
               event_invoke_config=dests(None, "sink")),
            fn("sink", code="sink"),
        ]
        config, rules = api_config(functions)
        self.lb = self.start(config, rules=rules, files=FILES,
                             env={"LB_ASYNC_RETRY_DELAYS": "3,3", "LB_ASYNC_MAX_AGE": "2"})
        self.api_port = read_api_port(self.lb)

    def test_event_older_than_its_maximum_age_is_dropped(self):
        self.start_lb()
        sink, count = os.path.join(self.lb.dir, "sink-age"), os.path.join(self.lb.dir, "count")
        payload = {"fail": "late", "sink": sink, "count": count}
        rid = self.event("aging", payload)
        self.wait_file(sink)
        rec = read_json(sink)["record"]
        self.assertEqual(self.lines(count), [rid])
        self.assertEqual(rec["requestContext"]["condition"], "EventAgeExceeded")
        self.assertEqual(rec["requestContext"]["approximateInvokeCount"], 1)
        self.assertEqual(rec["responseContext"]["functionError"], "Unhandled")
        self.assertEqual(rec["responsePayload"]["errorMessage"], "late")
        self.assertIn(f"function aging: Event {rid} dropped after 1 attempt: older than 2s (EventAgeExceeded)",
                      self.lb.stderr())

        # throttled events are retried (never run) until their age runs out
        sink2 = os.path.join(self.lb.dir, "sink-throttled")
        rid2 = self.event("blocked", {"sink": sink2})
        self.wait_file(sink2)
        rec = read_json(sink2)["record"]
        self.assertEqual(rec["requestContext"], {
            "requestId": rid2, "functionArn": ARN + "blocked:$LATEST",
            "condition": "EventAgeExceeded", "approximateInvokeCount": 0})
        self.assertNotIn("responseContext", rec)
        self.assertNotIn("responsePayload", rec)
        self.assertIn(f"function blocked: Event {rid2} throttled", self.lb.stderr())


class AsyncReloadTests(AsyncCase):
    def test_a_retry_after_a_reload_runs_the_new_configuration(self):
        def functions(v):
            return [fn("r", code="reloaded", environment={"variables": {"V": v}},
                       event_invoke_config=dests("sink")),
                    fn("sink", code="sink")]
        config, rules = api_config(functions("one"))
        self.lb = self.start(config, rules=rules, files=FILES, env={"LB_ASYNC_RETRY_DELAYS": "5,5"})
        self.api_port = read_api_port(self.lb)
        sink, count = os.path.join(self.lb.dir, "record.json"), os.path.join(self.lb.dir, "count")
        rid = self.event("r", {"sink": sink, "count": count})
        self.wait_stderr(self.lb, r"^lb: warning: function r: Event %s attempt 1 of 3 failed" % rid, WAIT)
        self.lb.write("lb.yaml", api_config(functions("two"))[0])
        self.lb.signal(signal.SIGHUP)
        self.wait_stderr(self.lb, r"^lb: reloaded ", WAIT)
        self.wait_file(sink)
        rec = read_json(sink)["record"]
        self.assertEqual(rec["requestContext"]["condition"], "Success")
        self.assertEqual(rec["responsePayload"], {"v": "two"})
        self.assertEqual(rec["requestContext"]["approximateInvokeCount"], len(self.lines(count)))
        self.assertGreaterEqual(len(self.lines(count)), 2)


class AsyncConfigTests(unittest.TestCase):
    def check_config_error(self, functions, message):
        with tempfile.TemporaryDirectory() as d:
            for sub in ("fn", "sink"):
                os.mkdir(os.path.join(d, sub))
            config, _ = api_config(functions)
            with open(os.path.join(d, "lb.yaml"), "w") as f:
                f.write(config)
            p = subprocess.run([LB_BIN, "check", "-c", os.path.join(d, "lb.yaml")],
                               capture_output=True, text=True, timeout=60)
            self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
            self.assertRegex(p.stderr, r"lb\.yaml:\d+:\d+: ")
            self.assertIn(message, p.stderr)

    def test_limits(self):
        self.check_config_error([fn("f", event_invoke_config={"maximum_retry_attempts": 3})],
                                "maximum_retry_attempts")
        self.check_config_error([fn("f", event_invoke_config={"maximum_event_age_in_seconds": 59})],
                                "maximum_event_age_in_seconds")
        self.check_config_error([fn("f", event_invoke_config={"maximum_event_age_in_seconds": 21601})],
                                "maximum_event_age_in_seconds")
        self.check_config_error([fn("f", event_invoke_config={"retries": 1})], "unknown key 'retries'")

    def test_destinations(self):
        self.check_config_error([fn("f", event_invoke_config=dests("nope"))],
                                "destination function 'nope' is not defined")
        self.check_config_error([fn("f", event_invoke_config=dests(None, ARN + "sink:9")), fn("sink")],
                                "destination function 'sink' has no version or alias '9'")
        self.check_config_error([fn("f", event_invoke_config=dests("arn:aws:sqs:us-east-1:1:q"))],
                                "is not a Lambda function ARN")
        self.check_config_error([fn("f", event_invoke_config=dests("file:"))], "needs a path")
        self.check_config_error([fn("f", event_invoke_config={"destination_config": {"on_success": {}}})],
                                "destination")
        self.check_config_error(
            [fn("f", event_invoke_config={"destination_config": {"on_error": {"destination": "f"}}})],
            "unknown key 'on_error'")

    def test_a_destination_may_be_declared_later(self):
        with tempfile.TemporaryDirectory() as d:
            for sub in ("fn",):
                os.mkdir(os.path.join(d, sub))
            config, _ = api_config([fn("f", event_invoke_config=dests(ARN + "g:$LATEST", "g")), fn("g")])
            with open(os.path.join(d, "lb.yaml"), "w") as f:
                f.write(config)
            p = subprocess.run([LB_BIN, "check", "-c", os.path.join(d, "lb.yaml")],
                               capture_output=True, text=True, timeout=60)
            self.assertEqual(p.returncode, 0, p.stderr)


HOLD = """
import time
def handler(event, context):
    time.sleep(event.get("sleep", 0))
    return None
"""


class AsyncQueueLimitTests(AsyncCase):
    """lb's queue of events holds a bounded amount of payload (LB_ASYNC_QUEUED_MAX for
    the test): past it an Event invocation gets Lambda's 429, and once events have run
    the queue takes new ones."""

    def setUp(self):
        config, rules = api_config([fn("hold", code="hold", reserved_concurrent_executions=1, timeout=30)])
        self.lb = Lb(config, rules=rules, files={"hold/index.py": HOLD},
                     env={"LB_ASYNC_QUEUED_MAX": "6000"})
        self.addCleanup(self.lb.tmp.cleanup)
        self.lb.start()
        self.addCleanup(self.lb.stop)
        self.api_port = read_api_port(self.lb)

    def test_a_full_queue_refuses_events_with_429_until_some_have_run(self):
        # each event: about 920 bytes of payload and 1 KB for itself; three fit in 6000
        pad = "x" * 900
        for i in range(3):
            self.event("hold", {"sleep": 3 if i == 0 else 0, "pad": pad})
        r = self.invoke("hold", {"pad": pad}, headers=[("X-Amz-Invocation-Type", "Event")])
        self.assertEqual(r.status, 429, r)
        self.assertEqual(r.header("x-amzn-errortype"), "TooManyRequestsException")
        self.assertEqual(json.loads(r.body)["message"], "Rate Exceeded.")
        self.assertEqual(self.lb.stderr().count("new events are refused"), 1)
        # the three run and leave the queue: there is room again
        self.assertTrue(wait_for(lambda: self.invoke("hold", {"pad": pad}, headers=[
            ("X-Amz-Invocation-Type", "Event")]).status == 202, WAIT), self.lb.stderr()[-2000:])
        self.assertGreaterEqual(self.lb.stderr().count("[hold] END"), 1)



class AsyncEventCostTests(AsyncCase):
    """Events count for more than their payloads: what lb keeps for each, and the
    responses kept for their retries."""

    def setUp(self):
        config, rules = api_config([fn("hold", code="hold", reserved_concurrent_executions=1, timeout=30)])
        self.lb = Lb(config, rules=rules, files={"hold/index.py": HOLD},
                     env={"LB_ASYNC_QUEUED_MAX": "20000"})
        self.addCleanup(self.lb.tmp.cleanup)
        self.lb.start()
        self.addCleanup(self.lb.stop)
        self.api_port = read_api_port(self.lb)

    def test_empty_events_fill_the_queue_too(self):
        # Found by queueing 40,000 empty events: only their 2-byte payloads ("{}") were
        # counted, so 128 MB of them was 67 million events, each costing lb far more.
        self.event("hold", {"sleep": 5})    # 1024 + 12 bytes, running: none leaves meanwhile
        codes = [self.invoke("hold", b"", headers=[("X-Amz-Invocation-Type", "Event")]).status
                 for _ in range(30)]
        # 1036 + 18 x (1024 + 2) <= 20000 < 1036 + 19 x 1026
        self.assertEqual(codes, [202] * 18 + [429] * 12, codes)


class AsyncThrottleLogTests(AsyncCase):
    """A backlog of throttled events is one warning, not one per event per retry."""

    def setUp(self):
        config, rules = api_config([fn("hold", code="hold", reserved_concurrent_executions=1, timeout=30)])
        self.lb = Lb(config, rules=rules, files={"hold/index.py": HOLD})
        self.addCleanup(self.lb.tmp.cleanup)
        self.lb.start()
        self.addCleanup(self.lb.stop)
        self.api_port = read_api_port(self.lb)

    def test_throttled_events_are_one_warning_until_one_runs(self):
        # Found by queueing 40,000 events for a busy function: every event past the
        # function's queue of 100 logged each of its throttled retries, 120,000 lines
        # in seconds. One event runs for 8 s; of 130 more, 29 find no room.
        self.event("hold", {"sleep": 8})
        for _ in range(130):
            self.event("hold", {})
        self.assertTrue(wait_for(lambda: "throttled (" in self.lb.stderr(), WAIT))
        time.sleep(2.5)   # every throttled event has been retried at least once
        self.assertEqual(self.lb.stderr().count("throttled ("), 1, self.lb.stderr()[-3000:])
        self.assertRegex(self.lb.stderr(), r"(?m)^lb: warning: function hold: Event %s throttled "
                         r"\(TooManyRequestsException\); retrying in 1s \(events of hold throttled from "
                         r"now on are retried unlogged until one runs\)$" % UUID)

if __name__ == "__main__":
    unittest.main()
