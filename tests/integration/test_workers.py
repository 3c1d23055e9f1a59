"""workers: N — more event loops on SO_REUSEPORT listeners sharing one configuration,
one sandbox pool, one health checker and one console (README "Workers").

Which loop accepted a connection is the kernel's choice (a hash of the connection's
addresses), so the tests open connections until /metrics' lb_worker_connections shows
that each loop accepted some: deterministic, whatever the hash does.
"""
import json
import os
import re
import signal
import threading
import time
import unittest

from backend import Backend
from lambdacommon import PYTHON, fn, lambda_config, raw_request, tg
from lbcommon import wait_for
from lbtest import Conn, Lb, run_lb

FIXED = """\
load_balancer:
  name: test-alb
  workers: 2
listeners:
  - port: 0
    default_actions:
      - type: fixed-response
        fixed_response: {status_code: "200", content_type: text/plain, message_body: "%s"}
admin:
  port: 0
"""

SLOW_PY = """
import json, os, time
def handler(event, context):
    q = event["queryStringParameters"] or {}
    print("handling", context.aws_request_id)
    if "sleep" in q:
        time.sleep(float(q["sleep"]))
    return {"statusCode": 200, "headers": {"content-type": "application/json"},
            "body": json.dumps({"pid": os.getpid()})}
"""


def start(test, config, **kw):
    """An lb whose stdout announces a console and 2 workers; returns (lb, console port)."""
    lb = Lb(config, **kw)
    test.addCleanup(lb.tmp.cleanup)
    lb.start()
    test.addCleanup(lb.stop)
    admin = None
    deadline = time.time() + 15
    while time.time() < deadline:
        line = lb.proc.stdout.readline().decode().strip()
        m = re.match(r"^lb: console on http://127\.0\.0\.1:(\d+)$", line)
        if m:
            admin = int(m.group(1))
        if line == "lb: 2 workers":
            break
    else:
        raise AssertionError("no 'lb: 2 workers' line")
    return lb, admin


def http_get(port, path):
    c = Conn(port)
    try:
        c.send(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
        return c.read_response()
    finally:
        c.close()


def accepted(admin):
    """{worker index: connections it accepted}, from /metrics."""
    text = http_get(admin, "/metrics").body.decode()
    return {int(w): int(n) for w, n in re.findall(r'^lb_worker_connections\{worker="(\d+)"\} (\d+)$', text, re.M)}


def get(port, path="/"):
    c = Conn(port)
    try:
        c.send(raw_request("GET", path))
        return c.read_response()
    finally:
        c.close()


def until_both_accepted(test, lb, admin, path="/", limit=200):
    """Requests on new connections until both loops accepted one; returns the responses."""
    out = []
    while len(out) < limit:
        out.append(get(lb.port, path))
        seen = accepted(admin)
        if seen.get(0, 0) > 0 and seen.get(1, 0) > 0:
            return out
    test.fail(f"one loop accepted every connection: {accepted(admin)}")


class WorkersTest(unittest.TestCase):
    def test_two_loops_serve_every_connection(self):
        lb, admin = start(self, FIXED % "hello")
        # the main thread and one worker thread (sandboxes are processes, not threads)
        self.assertGreaterEqual(len(os.listdir(f"/proc/{lb.proc.pid}/task")), 2)
        answers = until_both_accepted(self, lb, admin)
        for _ in range(64):
            answers.append(get(lb.port))
        self.assertTrue(all(r.status == 200 and r.body == b"hello" for r in answers))
        self.assertEqual(sum(accepted(admin).values()), len(answers))

    def test_access_log_has_one_whole_line_per_request(self):
        lb, admin = start(self, FIXED % "hello")
        errors = []

        def client(k):
            try:
                c = Conn(lb.port)
                for i in range(10):
                    c.send(raw_request("GET", f"/c{k}/r{i}"))
                    r = c.read_response()
                    if r.status != 200:
                        errors.append(r)
                c.close()
            except Exception as e:   # noqa: BLE001 (reported below)
                errors.append(e)
        threads = [threading.Thread(target=client, args=(k,)) for k in range(50)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        self.assertEqual(errors, [])
        self.assertGreater(accepted(admin).get(1, 0), 0)   # (fails with odds 2^-49)
        lines = lb.log_lines(500, timeout=20)
        self.assertEqual(len(lines), 500)
        targets = sorted(e["request"].split(" ")[1].split("/", 3)[3] for e in lines)
        self.assertEqual(targets, sorted(f"c{k}/r{i}" for k in range(50) for i in range(10)))
        self.assertTrue(all(e["elb_status_code"] == "200" for e in lines))

    def test_reload_reaches_every_loop(self):
        lb, admin = start(self, FIXED % "one")
        until_both_accepted(self, lb, admin)
        before = lb.stderr().count("reloaded ")
        lb.write("lb.yaml", FIXED % "two")
        lb.signal(signal.SIGHUP)
        self.assertTrue(wait_for(lambda: lb.stderr().count("reloaded ") > before, 15), lb.stderr())
        # "reloaded" is logged once every loop has the new configuration
        counts = accepted(admin)
        answers = [get(lb.port) for _ in range(64)]
        self.assertEqual([r.body for r in answers], [b"two"] * 64)
        after = accepted(admin)
        self.assertGreater(after[1], counts[1], after)
        self.assertGreater(after[0], counts[0], after)

    def test_a_listener_added_and_removed_by_a_reload_in_every_loop(self):
        lb, admin = start(self, FIXED % "one")
        second = ("  - port: 0\n    default_actions:\n      - type: fixed-response\n"
                  "        fixed_response: {status_code: \"200\", content_type: text/plain, "
                  "message_body: \"second\"}\n")
        two = (FIXED % "one").replace("admin:", second + "admin:")
        lb.write("lb.yaml", two)
        lb.signal(signal.SIGHUP)
        line = lb.proc.stdout.readline().decode().strip()
        m = re.match(r"^lb: listening on http://127\.0\.0\.1:(\d+)$", line)
        self.assertTrue(m, line)
        port = int(m.group(1))
        self.assertTrue(wait_for(lambda: "reloaded " in lb.stderr(), 15), lb.stderr())
        before = accepted(admin)
        for _ in range(200):
            self.assertEqual(get(port).body, b"second")
            now = accepted(admin)
            if now[0] > before[0] and now[1] > before[1]:
                break
        self.assertTrue(now[0] > before[0] and now[1] > before[1], (before, now))
        # removed again: once "reloaded" is logged no loop accepts on it
        n = lb.stderr().count("reloaded ")
        lb.write("lb.yaml", FIXED % "one")
        lb.signal(signal.SIGHUP)
        self.assertTrue(wait_for(lambda: lb.stderr().count("reloaded ") > n, 15), lb.stderr())
        for _ in range(32):
            with self.assertRaises(ConnectionRefusedError):
                get(port)
        self.assertEqual(get(lb.port).body, b"one")

    def test_the_console_records_every_loops_requests(self):
        lb, admin = start(self, FIXED % "hello")
        c = Conn(admin, timeout=10)
        self.addCleanup(c.close)
        c.send(b"GET /api/stream HTTP/1.1\r\nHost: localhost\r\n\r\n")
        deadline = time.time() + 10
        while b"event: hello" not in c.buf and time.time() < deadline:
            c._fill()
        answers = until_both_accepted(self, lb, admin, "/x")
        n = len(answers)

        def streamed():
            return [json.loads(l[6:]) for l in c.buf.split(b"\n") if l.startswith(b"data: {\"id\"")]
        deadline = time.time() + 15
        while len(streamed()) < n and time.time() < deadline:
            c._fill()
        # the live stream (main's) got each loop's requests, in the ring's order
        ids = [e["id"] for e in streamed()]
        self.assertEqual(len(ids), n)
        self.assertEqual(ids, sorted(ids))
        listed = json.loads(http_get(admin, f"/api/requests?limit={n + 10}").body)
        self.assertEqual(len(listed["requests"]), n)
        metrics = http_get(admin, "/metrics").body.decode()
        total = re.search(r'^aws_applicationelb_request_count_total\{[^}]*\} (\S+)$', metrics, re.M)
        self.assertTrue(total, metrics[:2000])
        self.assertEqual(float(total.group(1)), n)

    def test_a_reload_does_not_change_the_number_of_workers(self):
        lb, _ = start(self, FIXED % "one")
        lb.write("lb.yaml", (FIXED % "two").replace("workers: 2", "workers: 3"))
        lb.signal(signal.SIGHUP)
        self.assertTrue(wait_for(lambda: "reloaded " in lb.stderr(), 15), lb.stderr())
        self.assertIn("workers: a change takes effect at restart; still running 2", lb.stderr())
        self.assertEqual(get(lb.port).body, b"two")


class LambdaWorkersTest(unittest.TestCase):
    def config(self):
        text, rules = lambda_config([fn("slow", PYTHON, "index.handler")], lb_extra={"workers": 2})
        return text + "admin:\n  port: 0\n", rules

    def test_one_sandbox_pool_for_every_loop(self):
        text, rules = self.config()
        lb, admin = start(self, text, rules=rules, files={"fn/index.py": SLOW_PY})
        answers = until_both_accepted(self, lb, admin, "/slow")
        self.assertTrue(all(r.status == 200 for r in answers), answers)
        # sequential requests from both loops: one warm sandbox answered them all
        self.assertEqual(len({json.loads(r.body)["pid"] for r in answers}), 1)
        [f] = json.loads(http_get(admin, "/api/functions").body)["functions"]
        self.assertEqual(sum(f["sandboxes"].values()), 1, f)

    def test_clients_leaving_mid_invocation_in_every_loop(self):
        text, rules = self.config()
        lb, admin = start(self, text, rules=rules, files={"fn/index.py": SLOW_PY})
        n = 0
        while n < 100:
            c = Conn(lb.port)
            c.send(raw_request("GET", "/slow?sleep=0.3"))
            n += 1
            self.assertTrue(wait_for(lambda: sum(accepted(admin).values()) == n, 10))
            c.close()     # queued or running: cancelled, across threads for a worker's
            seen = accepted(admin)
            if seen[0] > 1 and seen[1] > 1:
                break
        self.assertTrue(seen[0] > 1 and seen[1] > 1, seen)
        # the pool still answers both loops; the exit (checked by the harness) leaks nothing
        self.assertTrue(all(r.status == 200 for r in until_both_accepted(self, lb, admin, "/slow")))
        lines = lb.log_lines(n, timeout=20)
        self.assertGreaterEqual(len(lines), n)

    def test_sigterm_lets_each_loops_request_finish(self):
        text, rules = self.config()
        lb, admin = start(self, text, rules=rules, files={"fn/index.py": SLOW_PY})
        conns = []
        self.addCleanup(lambda: [c.close() for c in conns])
        # slow requests on new connections until each loop holds one
        while len(conns) < 12:
            c = Conn(lb.port, timeout=30)
            c.send(raw_request("GET", "/slow?sleep=2"))
            conns.append(c)
            self.assertTrue(wait_for(lambda: sum(accepted(admin).values()) == len(conns), 10))
            seen = accepted(admin)
            if seen[0] > 0 and seen[1] > 0:
                break
        self.assertTrue(seen[0] > 0 and seen[1] > 0, seen)
        self.assertTrue(wait_for(lambda: lb.stderr().count("handling") >= 1, 30), lb.stderr())
        lb.signal(signal.SIGTERM)
        for c in conns:
            r = c.read_response()
            self.assertEqual(r.status, 200, r)
        self.assertEqual(lb.proc.wait(timeout=30), 0)


class HealthWorkersTest(unittest.TestCase):
    def test_one_health_checker(self):
        b = Backend("a").start()
        self.addCleanup(b.stop)
        config = ("load_balancer:\n  name: test-alb\n  workers: 2\n"
                  "listeners:\n  - port: 0\n"
                  "    default_actions: [{type: forward, target_group: web}]\n"
                  "admin:\n  port: 0\n"
                  "target_groups:\n"
                  "  - name: web\n    target_type: ip\n    protocol: HTTP\n    port: 80\n"
                  f"    targets: [{{id: 127.0.0.1, port: {b.port}}}]\n"
                  "    health_check: {path: /health, healthy_threshold: 2, unhealthy_threshold: 2}\n")
        lb, admin = start(self, config, env={"LB_HEALTH_INTERVAL_MS": "200"})
        self.assertTrue(wait_for(lambda: f"127.0.0.1:{b.port} is healthy" in lb.stderr(), 15), lb.stderr())
        answers = until_both_accepted(self, lb, admin, "/echo")
        self.assertTrue(all(r.status == 200 for r in answers), answers)
        # One checker sends at most one check per interval (load only slows it);
        # one per loop would send two.
        n0, t0 = len(b.health_checks), time.monotonic()
        time.sleep(3)
        n1, t1 = len(b.health_checks), time.monotonic()
        self.assertLessEqual(n1 - n0, (t1 - t0) / 0.2 + 2)
        self.assertGreater(n1 - n0, 0)


    def test_a_sticky_cookie_holds_in_every_loop(self):
        a, b = Backend("a").start(), Backend("b").start()
        self.addCleanup(a.stop)
        self.addCleanup(b.stop)
        config = ("load_balancer:\n  name: test-alb\n  workers: 2\n"
                  "listeners:\n  - port: 0\n"
                  "    default_actions: [{type: forward, target_group: web}]\n"
                  "admin:\n  port: 0\n"
                  "target_groups:\n"
                  "  - name: web\n    target_type: ip\n    protocol: HTTP\n    port: 80\n"
                  f"    targets: [{{id: 127.0.0.1, port: {a.port}}}, {{id: 127.0.0.1, port: {b.port}}}]\n"
                  "    attributes: {stickiness.enabled: \"true\", stickiness.type: lb_cookie}\n"
                  "    health_check: {path: /health, healthy_threshold: 2, unhealthy_threshold: 2}\n")
        lb, admin = start(self, config, env={"LB_HEALTH_INTERVAL_MS": "50"})
        for x in (a, b):
            self.assertTrue(wait_for(lambda: f"127.0.0.1:{x.port} is healthy" in lb.stderr(), 15), lb.stderr())
        first = get(lb.port, "/echo")
        cookie = [v.split(";")[0] for v in first.header_all("Set-Cookie") if v.startswith("AWSALB=")][0]
        answers = []
        while len(answers) < 200:
            c = Conn(lb.port)
            try:
                c.send(raw_request("GET", "/echo", headers=[("Cookie", cookie)]))
                answers.append(c.read_response())
            finally:
                c.close()
            seen = accepted(admin)
            if seen[0] > 1 and seen[1] > 1:
                break
        self.assertTrue(seen[0] > 1 and seen[1] > 1, seen)
        # every loop reads the cookie with the same key: the same target each time
        self.assertEqual({r.header("X-Backend-Id") for r in answers}, {first.header("X-Backend-Id")})


class ConfigTest(unittest.TestCase):
    def check_error(self, value, message):
        lb = Lb(FIXED.replace("workers: 2", f"workers: {value}") % "x")
        self.addCleanup(lb.tmp.cleanup)
        code, _, err = run_lb("-c", lb.config_path)
        self.assertEqual(code, 1, err)
        self.assertIn(f"lb.yaml:3:12: {message}", err)

    def test_bad_values(self):
        for value in ("0", "65", "many", "[2]"):
            with self.subTest(value=value):
                self.check_error(value, "'workers' must be a number from 1 to 64 or \"auto\"")


if __name__ == "__main__":
    unittest.main()
