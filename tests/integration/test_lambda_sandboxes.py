"""Sandboxes: how lb runs function processes (DESIGN.md §7).

Cold and warm starts (a module-level counter and the process id tell sandboxes apart),
concurrency and the queue, START/END/REPORT lines, idle reaping, a client leaving
mid-invocation, SIGTERM with an invocation in flight, SIGHUP reloads, versions and aliases.
"""
import json
import math
import os
import re
import signal
import socket
import tempfile
import threading
import time
import unittest

from lambdacommon import (ACCOUNT, NODE, PYTHON, REGION, UUID, LambdaCase, fn, lambda_config, pid_alive,
                          raw_request, tg, wait_for)

SANDBOX_PY = """
import json, os, time
count = 0
def handler(event, context):
    global count
    count += 1
    q = event["queryStringParameters"]
    start = time.time()
    print("handling", context.aws_request_id)
    if "sleep" in q:
        time.sleep(float(q["sleep"]))
    met = None
    if "barrier" in q:
        # Waits until n invocations have reached this point (or 20 s): they run at once.
        open(os.path.join(q["barrier"], str(os.getpid())), "w").close()
        deadline = time.time() + 20
        while len(os.listdir(q["barrier"])) < int(q["n"]) and time.time() < deadline:
            time.sleep(0.01)
        met = len(os.listdir(q["barrier"])) >= int(q["n"])
    return {"statusCode": 200, "headers": {"content-type": "application/json"},
            "body": json.dumps({
                "pid": os.getpid(), "count": count, "start": start, "end": time.time(),
                "request_id": context.aws_request_id, "arn": context.invoked_function_arn,
                "version": os.environ["AWS_LAMBDA_FUNCTION_VERSION"],
                "greeting": os.environ.get("GREETING"), "stage": os.environ.get("STAGE"),
                "barrier_met": met})}
"""

# /a writes without a final newline and returns; /b logs a whole line.
PARTIAL_NODE = """
export const handler = async (event) => {
  if (event.path.endsWith("/a")) process.stdout.write("node no newline");
  else console.log("written by B");
  return {statusCode: 200, body: "ok"};
};
"""

PARTIAL_PY = """
def handler(event, context):
    if event["path"].endswith("/a"):
        print("py no newline", end="")
    else:
        print("written by B")
    return {"statusCode": 200, "body": "ok"}
"""


def kill_group(pgid):
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass


class LambdaSandboxTests(LambdaCase):
    def serve_fn(self, env=None, lb_env=None, **settings):
        f = fn("sb", PYTHON, "index.handler", memory_size=256, **settings)
        if env:
            f["environment"] = {"variables": env}
        return self.serve([f], {"fn/index.py": SANDBOX_PY}, env=lb_env)

    def call(self, lb, rest="", conn=None):
        raw = raw_request("GET", "/sb" + rest)
        if conn:
            conn.send(raw)
            r = conn.read_response()
        else:
            r = lb.request(raw)
        self.assertEqual(r.status, 200, r)
        return json.loads(r.body)

    def parallel(self, lb, rests):
        out = [None] * len(rests)

        def one(i):
            c = lb.connect(timeout=20)
            try:
                c.send(raw_request("GET", "/sb" + rests[i]))
                out[i] = c.read_response()
            finally:
                c.close()
        threads = [threading.Thread(target=one, args=(i,)) for i in range(len(rests))]
        t0 = time.time()
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        elapsed = time.time() - t0
        for r in out:
            self.assertEqual(r.status, 200, r)
        return [json.loads(r.body) for r in out], elapsed

    # --- cold and warm ---------------------------------------------------------------------

    def test_cold_start_then_warm_reuse_and_log_frame(self):
        lb = self.serve_fn()
        a = self.call(lb)
        b = self.call(lb)
        self.assertEqual((a["count"], b["count"]), (1, 2))
        self.assertEqual(a["pid"], b["pid"])
        self.assertNotEqual(a["request_id"], b["request_id"])
        for rid in (a["request_id"], b["request_id"]):
            self.wait_stderr(lb, r"^\[sb\] REPORT RequestId: %s\t" % rid)
            # the function's own output, prefixed (its pipe is read independently of the
            # Runtime API, so it is not necessarily before END)
            self.wait_stderr(lb, r"^\[sb\] handling %s$" % rid)
        err = lb.stderr()
        for i, rid in enumerate((a["request_id"], b["request_id"])):
            with self.subTest(request=i):
                start = err.index(f"[sb] START RequestId: {rid} Version: $LATEST\n")
                end = err.index(f"[sb] END RequestId: {rid}\n")
                m = re.search(r"^\[sb\] REPORT RequestId: %s\tDuration: (\d+\.\d\d) ms\t"
                              r"Billed Duration: (\d+) ms\tMemory Size: 256 MB\t"
                              r"Max Memory Used: (\d+) MB(\tInit Duration: (\d+\.\d\d) ms)?$"
                              % rid, err, re.M)
                self.assertIsNotNone(m, err[-2000:])
                self.assertTrue(start < end < m.start(), (start, end, m.start()))
                duration, billed = float(m.group(1)), int(m.group(2))
                self.assertTrue(math.ceil(duration) <= billed <= math.ceil(duration) + 1, m.group(0))
                self.assertGreater(int(m.group(3)), 0)
                if i == 0:
                    self.assertIsNotNone(m.group(4), "the cold start reports its Init Duration")
                    self.assertGreater(float(m.group(5)), 0)
                else:
                    self.assertIsNone(m.group(4), "a warm start reports no Init Duration")
        self.assertEqual(err.count("Init Duration"), 1)

    def test_output_without_a_final_newline_stays_in_its_invocation(self):
        # Lambda logs what an invocation wrote without a final newline as a line of that
        # invocation; lb kept it buffered and prefixed it to the next invocation's output.
        lb = self.serve([fn("pnode", NODE, "index.handler", code="fn-node"),
                         fn("ppy", PYTHON, "index.handler", code="fn-py")],
                        {"fn-node/index.mjs": PARTIAL_NODE, "fn-py/index.py": PARTIAL_PY})
        for name, text in (("pnode", "node no newline"), ("ppy", "py no newline")):
            with self.subTest(name):
                for step in ("a", "b"):
                    r = lb.get(f"/{name}/{step}")
                    self.assertEqual(r.status, 200, r)
                self.wait_stderr(lb, r"^\[%s\] .*written by B$" % name)
                rids = re.findall(r"^\[%s\] START RequestId: (%s) " % (name, UUID), lb.stderr(), re.M)
                self.assertEqual(len(rids), 2, lb.stderr()[-3000:])
                for rid in rids:
                    self.wait_stderr(lb, r"^\[%s\] END RequestId: %s$" % (name, rid))
                err = lb.stderr()
                blocks = [err[err.index(f"[{name}] START RequestId: {rid}"):
                              err.index(f"[{name}] END RequestId: {rid}")] for rid in rids]
                self.assertIn(f"\n[{name}] {text}\n", blocks[0], blocks)
                self.assertNotIn(text, blocks[1], blocks)

    def test_back_to_back_requests_reuse_the_warm_sandbox(self):
        # The next request on a keep-alive connection arrives before the runtime has
        # asked for its next event: it must still go to the warm sandbox, not start a
        # second one (sequential requests used to alternate between two processes).
        lb = self.serve_fn()
        c = lb.connect()
        try:
            got = [self.call(lb, conn=c) for _ in range(6)]
        finally:
            c.close()
        self.assertEqual([g["count"] for g in got], [1, 2, 3, 4, 5, 6])
        self.assertEqual(len({g["pid"] for g in got}), 1)

    # --- concurrency ------------------------------------------------------------------------

    def test_parallel_requests_get_distinct_sandboxes(self):
        n = 4
        lb = self.serve_fn(reserved_concurrent_executions=n)
        with tempfile.TemporaryDirectory() as barrier:
            got, elapsed = self.parallel(lb, [f"?barrier={barrier}&n={n}"] * n)
        self.assertEqual(len({g["pid"] for g in got}), n, got)
        self.assertEqual([g["count"] for g in got], [1] * n)
        # they ran at the same time: each waited for all the others to arrive
        self.assertEqual([g["barrier_met"] for g in got], [True] * n)
        # REPORT follows the answer: the last one may still be on its way to stderr
        wait_for(lambda: lb.stderr().count("Init Duration") >= n)
        self.assertEqual(lb.stderr().count("Init Duration"), n)

    def test_concurrency_one_queues_on_one_sandbox(self):
        lb = self.serve_fn(reserved_concurrent_executions=1)
        got, elapsed = self.parallel(lb, ["?sleep=0.4"] * 3)
        self.assertEqual(len({g["pid"] for g in got}), 1, got)
        self.assertEqual(sorted(g["count"] for g in got), [1, 2, 3])
        runs = sorted((g["start"], g["end"]) for g in got)
        for (s1, e1), (s2, e2) in zip(runs, runs[1:]):
            self.assertLessEqual(e1, s2)  # one after another
        self.assertGreaterEqual(elapsed, 1.2)
        self.assertEqual(lb.stderr().count("Init Duration"), 1)

    # --- idle sandboxes ---------------------------------------------------------------------

    def test_idle_sandbox_is_stopped(self):
        lb = self.serve_fn(lb_env={"LB_LAMBDA_IDLE_SECONDS": "1"})
        a = self.call(lb)
        time.sleep(0.5)
        self.assertTrue(pid_alive(a["pid"]), "stopped too early")
        self.assertTrue(wait_for(lambda: not pid_alive(a["pid"]), timeout=4), "never stopped")
        b = self.call(lb)
        self.assertNotEqual(b["pid"], a["pid"])
        self.assertEqual(b["count"], 1)
        self.wait_stderr(lb, r"^\[sb\] REPORT RequestId: %s\t.*\tInit Duration: " % b["request_id"])

    def test_busy_sandbox_is_not_stopped_as_idle(self):
        lb = self.serve_fn(lb_env={"LB_LAMBDA_IDLE_SECONDS": "1"})
        a = self.call(lb)
        b = self.call(lb, "?sleep=1.6")  # longer than the idle time
        self.assertEqual((b["pid"], b["count"]), (a["pid"], 2))

    # --- the client goes away -------------------------------------------------------------------

    def test_client_closes_mid_invocation(self):
        lb = self.serve_fn(reserved_concurrent_executions=1)
        first = self.call(lb)
        running, queued = lb.connect(), lb.connect()
        running.send(raw_request("GET", "/sb/gone?sleep=0.6"))
        rid = self.wait_stderr(lb, r"^\[sb\] handling ((?!%s)%s)$"
                               % (first["request_id"], UUID)).group(1)
        queued.send(raw_request("GET", "/sb/queued-gone"))  # waits behind it (concurrency 1)
        time.sleep(0.1)
        running.close()
        queued.close()
        for target in ("/sb/gone?sleep=0.6", "/sb/queued-gone"):
            e = self.log_entry(lb, target)
            self.assertEqual((e["elb_status_code"], e["target_status_code"], e["error_reason"],
                              e["actions_executed"]), ("460", "-", "-", "forward"), e["_raw"])
        # the invocation runs to its end in its sandbox, which then serves the next request
        self.wait_stderr(lb, r"^\[sb\] END RequestId: %s$" % rid)
        nxt = self.call(lb, "/after")
        self.assertEqual((nxt["pid"], nxt["count"]), (first["pid"], 3))
        # the queued invocation was dropped, never run
        self.assertEqual(lb.stderr().count("[sb] START RequestId"), 3)

    # --- signals ---------------------------------------------------------------------------------

    def test_sigterm_finishes_the_invocation_in_flight(self):
        lb = self.serve_fn()
        c = lb.connect()
        try:
            c.send(raw_request("GET", "/sb/term?sleep=0.8"))
            self.wait_stderr(lb, r"^\[sb\] handling ")
            lb.signal(signal.SIGTERM)

            def refused():  # lb no longer accepts connections
                try:
                    socket.create_connection(("127.0.0.1", lb.port), timeout=2).close()
                except (ConnectionRefusedError, ConnectionResetError):
                    # reset: the connection sat in the listener's queue when lb closed it
                    return True
                return False
            self.assertTrue(wait_for(refused, timeout=10))
            r = c.read_response()
        finally:
            c.close()
        self.assertEqual(r.status, 200, r)
        got = json.loads(r.body)
        self.assertEqual(lb.proc.wait(timeout=10), 0)
        self.assertTrue(wait_for(lambda: not pid_alive(got["pid"])), got)
        # the access log has the answer
        self.assertEqual(self.log_entry(lb, "/sb/term?sleep=0.8")["elb_status_code"], "200")

    def test_sigkill_takes_the_sandboxes_with_it(self):
        lb = self.serve_fn()
        pid = self.call(lb)["pid"]
        self.addCleanup(kill_group, pid)          # only if the test failed: its own group
        c = lb.connect()
        try:
            c.send(raw_request("GET", "/sb/killed?sleep=30"))
            self.assertTrue(wait_for(lambda: lb.stderr().count("[sb] handling ") == 2), lb.stderr())
            lb.signal(signal.SIGKILL)
            lb.proc.wait(timeout=10)
        finally:
            c.close()
        lb.stop(check=False)
        # sleeping in its handler, the runtime would not notice lb is gone for 30 s
        self.assertTrue(wait_for(lambda: not pid_alive(pid)), pid)

    def test_sighup_changes_the_environment(self):
        f = fn("sb", PYTHON, "index.handler", environment={"variables": {"GREETING": "one"}})
        config, rules = lambda_config([f])
        lb = self.start(config, rules=rules, files={"fn/index.py": SANDBOX_PY})
        a = self.call(lb)
        self.assertEqual(a["greeting"], "one")

        busy = {}

        def slow():
            c = lb.connect()
            c.send(raw_request("GET", "/sb/slow?sleep=0.6"))
            busy["r"] = c.read_response()
            c.close()
        t = threading.Thread(target=slow)
        t.start()
        self.wait_stderr(lb, r"^\[sb\] handling (?!%s)" % a["request_id"])
        f["environment"]["variables"]["GREETING"] = "two"
        lb.write("lb.yaml", lambda_config([f])[0])
        lb.signal(signal.SIGHUP)
        self.wait_stderr(lb, r"^lb: reloaded ")
        b = self.call(lb, "/new")
        self.assertEqual(b["greeting"], "two")
        self.assertNotEqual(b["pid"], a["pid"])
        t.join(10)
        old = json.loads(busy["r"].body)
        # the invocation in flight finished in the old sandbox, with the old settings,
        # and that sandbox was retired afterwards
        self.assertEqual((old["pid"], old["greeting"]), (a["pid"], "one"))
        self.assertTrue(wait_for(lambda: not pid_alive(a["pid"])), a)
        c = self.call(lb, "/again")
        self.assertEqual((c["greeting"], c["pid"]), ("two", b["pid"]))

    # --- versions and aliases -------------------------------------------------------------------

    def test_versions_and_aliases(self):
        f = fn("vf", PYTHON, "index.handler", environment={"variables": {"STAGE": "latest"}},
               versions=[{"version": "1", "environment": {"variables": {"STAGE": "v1"}}},
                         {"version": "2", "environment": {"variables": {"STAGE": "v2"}}}],
               aliases=[{"name": "live", "function_version": "1"},
                        {"name": "canary", "function_version": "1",
                         "routing_config": {"additional_version_weights": {"2": 0.5}}}])
        tgs = [tg("latest", "vf"), tg("pinned", "vf:2"), tg("live", "vf:live"),
               tg("canary", "vf:canary")]
        lb = self.serve([f], {"fn/index.py": SANDBOX_PY}, target_groups=tgs)
        arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:vf"
        for name, version, stage, qualifier in (("latest", "$LATEST", "latest", ""),
                                                ("pinned", "2", "v2", ":2"),
                                                ("live", "1", "v1", ":live")):
            with self.subTest(name):
                r = lb.get(f"/{name}")
                self.assertEqual(r.status, 200, r)
                got = json.loads(r.body)
                self.assertEqual((got["version"], got["stage"], got["arn"]),
                                 (version, stage, arn + qualifier))
                prefix = "[vf]" if version == "$LATEST" else f"[vf:{version}]"
                self.wait_stderr(lb, r"^%s START RequestId: %s Version: %s$"
                                 % (re.escape(prefix), got["request_id"], re.escape(version)))
        seen = set()
        for _ in range(40):
            got = json.loads(lb.get("/canary").body)
            self.assertEqual(got["arn"], arn + ":canary")
            seen.add((got["version"], got["stage"]))
        self.assertEqual(seen, {("1", "v1"), ("2", "v2")})

    def test_versions_share_the_function_concurrency(self):
        f = fn("vf", PYTHON, "index.handler", reserved_concurrent_executions=1,
               versions=[{"version": "1"}])
        lb = self.serve([f], {"fn/index.py": SANDBOX_PY},
                        target_groups=[tg("latest", "vf"), tg("one", "vf:1")])
        a = json.loads(lb.get("/latest").body)
        b = json.loads(lb.get("/one").body)
        self.assertEqual((a["version"], b["version"]), ("$LATEST", "1"))
        self.assertNotEqual(a["pid"], b["pid"])
        # the idle $LATEST sandbox was stopped to make room for version 1
        self.assertTrue(wait_for(lambda: not pid_alive(a["pid"])), a)


if __name__ == "__main__":
    unittest.main()
