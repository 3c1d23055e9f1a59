"""The serving process: start-up errors, SIGHUP reloads, SIGTERM/SIGINT.

Every Lb is stopped by the harness, which asserts exit status 0 and no
sanitizer report on stderr. A request in flight at SIGTERM is held by a
backend (backend.py), a function that sleeps, or an IdP that never finishes
its answer, past the 10 s drain.
"""
import os
import re
import signal
import socket
import ssl
import subprocess
import threading
import time
import unittest
import urllib.parse

from lbcommon import (LISTENER, Lb, config, fixed, free_port, get_raw, log_for, read_log, rules_file,
                      wait_for)
from backend import Backend
from httpcommon import forward_config, http_group
from lambdacommon import PAGE_502, PYTHON, fn, lambda_config, pid_alive, raw_request, tg_arn_re
from lbtest import LB_BIN, Conn, LbTestCase, run_lb
from oidc_provider import OidcProvider
from test_auth_oidc import SITE, Browser, auth_rule

RULES_V1 = rules_file(fixed(10, '[{path_pattern: {values: ["/v"]}}]', "one"))
RULES_V2 = rules_file(fixed(10, '[{path_pattern: {values: ["/v"]}}]', "two"),
                      fixed(20, '[{path_pattern: {values: ["/new"]}}]', "new"))


def listener(port, address="127.0.0.1", body="second"):
    return (f"  - port: {port}\n"
            f"    address: {address}\n"
            f"    default_actions:\n"
            f"      - type: fixed-response\n"
            f"        fixed_response: {{status_code: \"200\", content_type: text/plain, "
            f"message_body: \"{body}\"}}\n")


class ReloadTest(LbTestCase):

    def body(self, lb, path="/v", index=0):
        return lb.request(get_raw(path), index=index).body

    def hup(self, lb, expect="reloaded"):
        before = lb.stderr()
        lb.signal(signal.SIGHUP)
        self.assertTrue(wait_for(lambda: expect in lb.stderr()[len(before):]), lb.stderr())
        return lb.stderr()[len(before):]

    def test_reload_changed_rule_file(self):
        lb = self.start(config(), rules={"a.yaml": RULES_V1})
        port = lb.port
        c = lb.connect()
        self.addCleanup(c.close)
        c.send(get_raw("/v"))
        self.assertEqual(c.read_response().body, b"one")
        self.assertEqual(self.body(lb, "/new"), b"no rule matched")
        lb.write("rules/a.yaml", RULES_V2)
        self.hup(lb)
        # same port, new rules, for new connections and for the open one
        self.assertEqual(self.body(lb), b"two")
        self.assertEqual(self.body(lb, "/new"), b"new")
        self.assertEqual(lb.port, port)
        c.send(get_raw("/v"))
        self.assertEqual(c.read_response().body, b"two")

    def test_reload_adds_a_rule_file(self):
        lb = self.start(config(), rules={"a.yaml": RULES_V1})
        lb.write("rules/b.yaml", rules_file(fixed(5, '[{path_pattern: {values: ["/v"]}}]', "b")))
        self.hup(lb)
        self.assertEqual(self.body(lb), b"b")

    def test_broken_rule_file_keeps_the_old_rules(self):
        lb = self.start(config(), rules={"a.yaml": RULES_V1})
        c = lb.connect()
        self.addCleanup(c.close)
        c.send(get_raw("/v"))
        self.assertEqual(c.read_response().body, b"one")
        lb.write("rules/a.yaml", "rules:\n  - priority: 10\n    conditions: [{path_patern: {values: [/x]}}]\n"
                                 "    actions: [{type: fixed-response, fixed_response: {status_code: \"200\"}}]\n")
        out = self.hup(lb, expect="reload failed")
        lines = out.strip("\n").split("\n")
        self.assertEqual(len(lines), 1, out)
        path = os.path.join(lb.dir, "rules", "a.yaml")
        self.assertRegex(lines[0], r"^lb: error: reload failed, still serving the previous "
                                   r"configuration: " + re.escape(path) + r":3:19: unknown key "
                                   r"'path_patern'")
        self.assertEqual(self.body(lb), b"one")
        c.send(get_raw("/v"))
        self.assertEqual(c.read_response().body, b"one")
        # fixing the file and reloading again works
        lb.write("rules/a.yaml", RULES_V2)
        self.hup(lb)
        self.assertEqual(self.body(lb), b"two")

    def test_broken_yaml_keeps_the_old_rules(self):
        lb = self.start(config(), rules={"a.yaml": RULES_V1})
        lb.write("rules/a.yaml", "rules:\n  - priority: 10\n    conditions: [\n")
        out = self.hup(lb, expect="reload failed")
        self.assertEqual(len(out.strip("\n").split("\n")), 1, out)
        self.assertRegex(out, re.escape(os.path.join(lb.dir, "rules", "a.yaml")) + r":\d+:\d+: ")
        self.assertEqual(self.body(lb), b"one")

    def test_broken_main_config_keeps_everything(self):
        lb = self.start(config(), rules={"a.yaml": RULES_V1})
        lb.write("lb.yaml", config(attributes={"idle_timeout.timeout_seconds": 0}))
        out = self.hup(lb, expect="reload failed")
        self.assertRegex(out, re.escape(lb.config_path) + r":\d+:\d+: ")
        self.assertEqual(self.body(lb), b"one")

    def test_reload_adds_a_second_listener(self):
        lb = self.start(config(), rules={"a.yaml": RULES_V1})
        port0 = lb.port
        c = lb.connect()
        self.addCleanup(c.close)
        p2 = free_port()
        lb.write("lb.yaml", config(listeners=LISTENER + listener(p2)))
        self.hup(lb)
        self.assertEqual(lb.request(get_raw("/v")).body, b"one")
        c2 = Conn(p2)
        self.addCleanup(c2.close)
        c2.send(get_raw("/v"))
        self.assertEqual(c2.read_response().body, b"second")
        # the first listener kept its socket (port 0 was not re-picked) and its connections
        self.assertEqual(lb.port, port0)
        c.send(get_raw("/v"))
        self.assertEqual(c.read_response().body, b"one")

    def test_reload_removes_a_listener(self):
        p2 = free_port()
        lb = self.start(config(listeners=LISTENER + listener(p2)), rules={"a.yaml": RULES_V1})
        lb.write("lb.yaml", config())
        self.hup(lb)
        with self.assertRaises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", p2), timeout=2).close()
        self.assertEqual(self.body(lb), b"one")

    def test_reload_reordering_listeners_keeps_each_connection_on_its_listener(self):
        pa, pb = free_port(), free_port()
        lb = self.start(config(listeners=listener(pa, body="A") + listener(pb, body="B")),
                        rules={"a.yaml": RULES_V1})
        ca, cb = Conn(pa), Conn(pb)
        self.addCleanup(ca.close)
        self.addCleanup(cb.close)
        for c, want in ((ca, b"A"), (cb, b"B")):
            c.send(get_raw("/x"))
            self.assertEqual(c.read_response().body, want)
        lb.write("lb.yaml", config(listeners=listener(pb, body="B") + listener(pa, body="A")))
        self.hup(lb)
        for _ in range(2):   # the request lb was already waiting for, and a later one
            for c, want in ((ca, b"A"), (cb, b"B")):
                c.send(get_raw("/x"))
                self.assertEqual(c.read_response().body, want)

    def test_reload_with_two_listeners_on_one_port(self):
        # 127.0.0.1:P and 127.0.0.2:P are two listeners; a reload must not mix
        # up their open connections.
        p = free_port()
        lb = self.start(config(listeners=listener(p, body="one") + listener(p, "127.0.0.2", "two")),
                        rules={"a.yaml": RULES_V1})
        c1, c2 = Conn(p, host="127.0.0.1"), Conn(p, host="127.0.0.2")
        self.addCleanup(c1.close)
        self.addCleanup(c2.close)
        self.hup(lb)
        for _ in range(2):
            for c, want in ((c1, b"one"), (c2, b"two")):
                c.send(get_raw("/x"))
                self.assertEqual(c.read_response().body, want)

    # A listener removed by a reload takes its connections with it: an idle
    # one is closed at once (lb's choice: deleting an ALB listener ends its
    # connections), lb keeps serving and exits cleanly.
    def test_reload_removing_a_listener_closes_its_idle_connections(self):
        p2 = free_port()
        lb = Lb(config(listeners=LISTENER + listener(p2)), rules={"a.yaml": RULES_V1})
        lb.start()
        self.addCleanup(lb.tmp.cleanup)
        self.addCleanup(lb.stop, check=False)
        c2 = Conn(p2)
        self.addCleanup(c2.close)
        c2.send(get_raw("/v"))
        self.assertEqual(c2.read_response().body, b"second")
        lb.write("lb.yaml", config())
        self.hup(lb)
        self.assertTrue(c2.closed_by_peer())
        self.assertEqual(lb.request(get_raw("/v")).status, 200)
        lb.stop()   # exit 0, no sanitizer report

    def test_reload_changes_attributes_for_open_connections(self):
        lb = self.start(config(), rules={"a.yaml": RULES_V1})
        c = lb.connect()
        self.addCleanup(c.close)
        lb.write("lb.yaml", config(attributes={"idle_timeout.timeout_seconds": 1}))
        self.hup(lb)
        t0 = time.time()
        self.assertEqual(c.read_all(), b"")
        self.assertLess(time.time() - t0, 4)

    def test_reload_reopens_the_access_log(self):
        lb = self.start(config(), rules={"a.yaml": RULES_V1})
        lb.request(get_raw("/v", headers=["User-Agent: before-rotate"]))
        self.assertTrue(wait_for(lambda: read_log(lb)))
        os.rename(lb.access_log_path, lb.access_log_path + ".1")
        self.hup(lb)
        lb.request(get_raw("/v", headers=["User-Agent: after-rotate"]))
        self.assertTrue(wait_for(lambda: read_log(lb)))
        self.assertEqual([e["user_agent"] for e in read_log(lb)], ["after-rotate"])
        with open(lb.access_log_path + ".1") as f:
            self.assertIn('"before-rotate"', f.read())


class ReloadStressTest(LbTestCase):

    def test_many_reloads_while_requests_flow(self):
        lb = self.start(config(), rules={"a.yaml": RULES_V1})
        c = lb.connect()
        self.addCleanup(c.close)
        seen = set()
        for i in range(20):
            lb.write("rules/a.yaml", RULES_V2 if i % 2 else RULES_V1)
            lb.signal(signal.SIGHUP)
            for _ in range(5):
                c.send(get_raw("/v"))
                r = c.read_response()
                self.assertEqual(r.status, 200)
                self.assertIn(r.body, (b"one", b"two"))
                seen.add(r.body)
        self.assertTrue(wait_for(lambda: lb.stderr().count("reloaded") == 20), lb.stderr())
        self.assertEqual(seen, {b"one", b"two"})
        self.assertNotIn("reload failed", lb.stderr())


class StopTest(LbTestCase):

    def test_sigterm_exits_0_with_an_idle_connection_open(self):
        lb = Lb(config(), rules={"a.yaml": RULES_V1})
        lb.start()
        self.addCleanup(lb.tmp.cleanup)
        c = lb.connect()
        c.send(get_raw("/v"))
        self.assertEqual(c.read_response().body, b"one")
        t0 = time.time()
        lb.stop()   # SIGTERM; asserts exit 0 and a clean stderr
        self.assertLess(time.time() - t0, 5)
        self.assertEqual(c.read_all(), b"")
        c.close()

    def test_sigint_exits_0(self):
        lb = Lb(config(), rules={"a.yaml": RULES_V1})
        lb.start()
        self.addCleanup(lb.tmp.cleanup)
        lb.request(get_raw("/v"))
        lb.signal(signal.SIGINT)
        self.assertEqual(lb.proc.wait(timeout=10), 0)
        lb.stop()

    def test_sigterm_stops_accepting(self):
        lb = Lb(config(), rules={"a.yaml": RULES_V1})
        lb.start()
        self.addCleanup(lb.tmp.cleanup)
        port = lb.port
        lb.stop()
        with self.assertRaises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port), timeout=2).close()

    def test_request_still_with_its_target_when_the_drain_ends_is_502(self):
        # lb cut it, the client did not leave: not 460. ALB's nearest case is a
        # deregistered target still holding a request when its delay ends (§1.9).
        b = Backend("a").start()
        self.addCleanup(b.stop)
        lb = Lb(forward_config([http_group("web", [b], health="{path: /health}")]),
                rules={"a.yaml": "rules: []\n"})
        lb.start()
        self.addCleanup(lb.tmp.cleanup)
        c = lb.connect(timeout=30)
        c.send(get_raw("/hold?key=s"))
        self.assertTrue(b.wait(lambda b: b.held("s") == 1))
        lb.signal(signal.SIGTERM)
        r = c.read_response()
        self.assertEqual((r.status, r.header("Connection")), (502, "close"))
        self.assertIn(b"<title>502 Bad Gateway</title>", r.body)
        self.assertEqual(lb.proc.wait(timeout=30), 0)
        line = log_for(lb, "/hold?key=s ")
        self.assertEqual([line["elb_status_code"], line["target_status_code"], line["target_port"],
                          line["error_reason"], line["target_processing_time"]],
                         ["502", "-", f"127.0.0.1:{b.port}", "-", "-1"])
        self.assertIn(f"GET /hold: target 127.0.0.1:{b.port} was still answering when lb stopped: 502",
                      lb.stderr())
        b.release("s")
        lb.stop()

    def test_p_overrides_the_first_listener_port(self):
        port = free_port()
        lb = self.start(config(), rules={"a.yaml": RULES_V1}, args=["-p", str(port)])
        self.assertEqual(lb.port, port)
        self.assertEqual(lb.request(get_raw("/v")).body, b"one")


# Sleeps past lb's 10 s drain, its process id in pid-KEY once it runs (in the code's parent:
# the code itself is read-only, as on Lambda).
SLEEPER_PY = """
import os, time
def handler(event, context):
    key = event["queryStringParameters"]["key"]
    with open(os.path.join(os.path.dirname(os.environ["LAMBDA_TASK_ROOT"]), "pid-" + key), "w") as f:
        f.write(str(os.getpid()))
    time.sleep(60)
    return {"statusCode": 200, "body": "woke"}
"""


class StopLambdaTest(unittest.TestCase):
    """A request still with its Lambda function when the drain ends: lb cut it, the
    client did not leave, so 502 as a failed invocation, not 460."""

    def serve(self, workers):
        text, rules = lambda_config([fn("sleeper", PYTHON, "index.handler", timeout=60)],
                                    lb_extra={"workers": workers})
        lb = Lb(text + "admin:\n  port: 0\n", rules=rules, files={"fn/index.py": SLEEPER_PY})
        self.addCleanup(lb.tmp.cleanup)
        lb.start()
        self.addCleanup(lb.stop)
        m = None
        while not m:
            line = lb.proc.stdout.readline().decode()
            self.assertTrue(line, "no console line")
            m = re.match(r"^lb: console on http://127\.0\.0\.1:(\d+)$", line.strip())
        return lb, int(m.group(1))

    def accepted(self, admin):
        """{loop index: connections it accepted}, from the console's /metrics."""
        c = Conn(admin)
        c.send(f"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1:{admin}\r\n\r\n".encode())
        text = c.read_response().body.decode()
        c.close()
        return {int(w): int(n) for w, n in re.findall(r'^lb_worker_connections\{worker="(\d+)"\} (\d+)$',
                                                       text, re.M)}

    @staticmethod
    def function_pids(lb, n):
        """The process ids the n held invocations' functions recorded."""
        pids = []
        for i in range(n):
            with open(os.path.join(lb.dir, f"pid-{i}")) as f:
                pids.append(int(f.read()))
        return pids

    def hold(self, lb, admin, loops):
        """Sleeping invocations on new connections until every loop holds one; the connections."""
        conns = []
        while len(conns) < 16:
            c = Conn(lb.port, timeout=30)
            self.addCleanup(c.close)
            c.send(raw_request("GET", f"/sleeper?key={len(conns)}"))
            conns.append(c)
            pid = os.path.join(lb.dir, f"pid-{len(conns) - 1}")
            self.assertTrue(wait_for(lambda: os.path.exists(pid) and os.path.getsize(pid), 30), lb.stderr())
            # one loop has no lb_worker_connections: its one connection will do
            if loops == 1 or len([n for n in self.accepted(admin).values() if n]) == loops:
                return conns
        self.fail(f"one loop accepted every connection: {self.accepted(admin)}")

    def check_cut(self, workers):
        lb, admin = self.serve(workers)
        conns = self.hold(lb, admin, workers)
        pids = self.function_pids(lb, len(conns))
        t0 = time.time()
        lb.signal(signal.SIGTERM)
        for c in conns:
            r = c.read_response()
            self.assertGreater(time.time() - t0, 9.5)
            self.assertEqual(r.status_line, "HTTP/1.1 502 Bad Gateway")
            self.assertEqual([(k, v) for k, v in r.headers if k != "Date"],
                             [("Server", "awselb/2.0"), ("Content-Type", "text/html"),
                              ("Content-Length", "122"), ("Connection", "close")])
            self.assertEqual(r.body, PAGE_502)
            self.assertEqual(c.read_all(), b"")
        self.assertEqual(lb.proc.wait(timeout=30), 0)
        for i in range(len(conns)):
            line = log_for(lb, f"/sleeper?key={i} ")
            self.assertEqual([line["elb_status_code"], line["target_status_code"], line["target_port"],
                              line["error_reason"], line["actions_executed"]],
                             ["502", "-", "-", "LambdaUnhandled", "forward"], line["_raw"])
            self.assertRegex(line["target_group_arn"], tg_arn_re("sleeper"))
            self.assertGreater(float(line["target_processing_time"]), 9)
        err = lb.stderr()
        self.assertEqual(err.count("lb: warning: GET /sleeper: 502 LambdaUnhandled: "
                                   "the function was still running when lb stopped\n"), len(conns), err)
        # the sandboxes were torn down: no function process outlives lb
        self.assertTrue(wait_for(lambda: not any(pid_alive(p) for p in pids)), pids)

    def test_request_still_with_its_function_when_the_drain_ends_is_502(self):
        self.check_cut(1)

    def test_with_workers_every_loops_request_is_502(self):
        self.check_cut(2)

    def check_second_signal(self, workers, sig):
        lb, admin = self.serve(workers)
        conns = self.hold(lb, admin, workers)
        pids = self.function_pids(lb, len(conns))
        lb.signal(signal.SIGTERM)
        self.assertTrue(wait_for(lambda: "stopping: finishing requests in flight" in lb.stderr()), lb.stderr())
        t0 = time.time()
        lb.signal(sig)   # during the drain: at once, not after its 10 s
        self.assertEqual(lb.proc.wait(timeout=30), 0, lb.stderr())
        self.assertLess(time.time() - t0, 5)
        for c in conns:   # cut, not answered
            self.assertEqual(c.read_all(), b"")
        # no function process outlives lb
        self.assertTrue(wait_for(lambda: not any(pid_alive(p) for p in pids)),
                        [p for p in pids if pid_alive(p)])

    def test_second_sigterm_during_the_drain_stops_at_once_and_kills_the_functions(self):
        self.check_second_signal(1, signal.SIGTERM)

    def test_sigint_during_the_drain_with_workers_stops_at_once_and_kills_the_functions(self):
        self.check_second_signal(2, signal.SIGINT)

    def test_signals_throughout_the_teardown_exit_0(self):
        # A test's cleanup or a supervisor may signal again while lb tears down
        # (after its loop exited, while it stops the sandboxes and frees the rest):
        # lb still kills every function process and exits 0, not of the signal.
        lb, admin = self.serve(1)
        conns = self.hold(lb, admin, 1)
        with open(os.path.join(lb.dir, "pid-0")) as f:
            pid = int(f.read())
        lb.signal(signal.SIGTERM)
        self.assertTrue(wait_for(lambda: "stopping: finishing requests in flight" in lb.stderr()), lb.stderr())
        sent = 0
        while lb.proc.poll() is None and sent < 20000:
            lb.signal([signal.SIGTERM, signal.SIGINT, signal.SIGHUP][sent % 3])
            sent += 1
            time.sleep(0.0005)
        self.assertEqual(lb.proc.wait(timeout=30), 0, lb.stderr())
        self.assertEqual(conns[0].read_all(), b"")
        self.assertTrue(wait_for(lambda: not pid_alive(pid)), pid)


class Trickle:
    """A token endpoint that answers a byte every half second, never finishing: lb's
    10 s wait for a byte from the IdP never runs out."""

    def __init__(self):
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.asked = threading.Event()
        self.stop = threading.Event()
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        c, _ = self.sock.accept()
        with c:
            c.recv(65536)
            self.asked.set()
            try:
                c.sendall(b"HTTP/1.1 200 OK\r\nX-Slow: ")
                while not self.stop.wait(0.5):
                    c.sendall(b"a")
            except OSError:
                pass

    def close(self):
        self.stop.set()
        self.sock.close()


class StopLoginTest(unittest.TestCase):
    def test_login_callback_still_waiting_on_the_idp_when_the_drain_ends_is_502(self):
        # lb cut it, the client did not leave: not 460.
        idp = OidcProvider().__enter__()
        self.addCleanup(idp.__exit__, None, None, None)
        web = Backend("web").start()
        self.addCleanup(web.stop)
        slow = Trickle()
        self.addCleanup(slow.close)
        config = ("load_balancer: {name: auth-alb}\nlisteners:\n  - port: 0\n    protocol: HTTPS\n"
                  f"    certificates: [{{certificate: {SITE.cert}, private_key: {SITE.key}}}]\n"
                  "    rules: [\"rules/*.yaml\"]\n"
                  "    default_actions: [{type: fixed-response, fixed_response: {status_code: \"404\"}}]\n"
                  "target_groups:\n" + http_group("web", [web]))
        rules = "rules:\n" + auth_rule(10, "/app*", idp, token=f"http://127.0.0.1:{slow.port}/token")
        lb = Lb(config, rules={"a.yaml": rules})
        self.addCleanup(lb.tmp.cleanup)
        lb.start()
        self.addCleanup(lb.stop)
        b = Browser(lb.port)
        first = b.get(f"https://localhost:{lb.port}/app")
        back = urllib.parse.urlsplit(b.get(first.headers["Location"]).headers["Location"])
        t = b.ctx.wrap_socket(socket.create_connection(("127.0.0.1", lb.port), timeout=30),
                              server_hostname="localhost")
        self.addCleanup(t.close)
        cookies = "; ".join(f"{k}={v}" for k, v in b.jar.items())
        t.sendall(f"GET {back.path}?{back.query} HTTP/1.1\r\nHost: localhost:{lb.port}\r\n"
                  f"Cookie: {cookies}\r\n\r\n".encode())
        self.assertTrue(slow.asked.wait(20))
        lb.signal(signal.SIGTERM)
        data = b""
        while True:
            try:
                chunk = t.recv(65536)
            except ssl.SSLError:
                break
            if not chunk:
                break
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        self.assertEqual(re.sub(rb"\r\nDate: [^\r]*", b"", head),
                         b"HTTP/1.1 502 Bad Gateway\r\nServer: awselb/2.0\r\nContent-Type: text/html\r\n"
                         b"Content-Length: 122\r\nConnection: close")
        self.assertEqual(body, PAGE_502)
        self.assertEqual(lb.proc.wait(timeout=30), 0)
        line = log_for(lb, "/oauth2/idpresponse?")
        self.assertEqual([line["elb_status_code"], line["actions_executed"], line["error_reason"],
                          line["target_port"], line["target_status_code"]],
                         ["502", "authenticate", "AuthTokenEpRequestFailed", "-", "-"], line["_raw"])
        self.assertEqual(lb.stderr().count("lb: warning: authenticate: AuthTokenEpRequestFailed (502): "
                                           "the identity provider had not answered when lb stopped\n"), 1,
                         lb.stderr())


class StartErrorTest(unittest.TestCase):

    def run_config(self, cfg, rules=None, args=()):
        lb = Lb(cfg, rules=rules or {})
        self.addCleanup(lb.tmp.cleanup)
        p = subprocess.run([LB_BIN, "-c", lb.config_path] + list(args), capture_output=True,
                           text=True, cwd=lb.dir, timeout=30)
        self.assertNotIn("Sanitizer", p.stderr)
        return lb, p

    def test_config_error_exits_1_with_position_before_binding(self):
        # The listener's port is taken: had lb bound before validating, it would
        # report the bind failure instead of the rule error.
        taken = socket.socket()
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        self.addCleanup(taken.close)
        port = taken.getsockname()[1]
        cfg = config(listeners=LISTENER.replace("port: 0", f"port: {port}"))
        lb, p = self.run_config(cfg, {"a.yaml": "rules:\n  - priority: 50001\n"
                                                "    conditions: [{path_pattern: {values: [/x]}}]\n"
                                                "    actions: [{type: fixed-response, "
                                                "fixed_response: {status_code: \"200\"}}]\n"})
        self.assertEqual(p.returncode, 1)
        self.assertEqual(p.stdout, "")
        path = os.path.join(lb.dir, "rules", "a.yaml")
        self.assertEqual(p.stderr, f"lb: error: {path}:2:15: 'priority' must be between 1 and "
                                   f"50000, not 50001\n")

    def test_unknown_key_in_main_config(self):
        lb, p = self.run_config(config(extra_lb="  nmae: x\n"), {"a.yaml": RULES_V1})
        self.assertEqual(p.returncode, 1)
        self.assertEqual(p.stdout, "")
        self.assertRegex(p.stderr, r"^lb: error: " + re.escape(lb.config_path) +
                         r":3:3: unknown key 'nmae'")

    def test_port_in_use_exits_1(self):
        taken = socket.socket()
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        self.addCleanup(taken.close)
        port = taken.getsockname()[1]
        lb, p = self.run_config(config(listeners=LISTENER.replace("port: 0", f"port: {port}")),
                                {"a.yaml": RULES_V1})
        self.assertEqual(p.returncode, 1)
        self.assertEqual(p.stdout, "")
        self.assertIn(f"127.0.0.1:{port}", p.stderr)
        self.assertIn("Address already in use", p.stderr)

    def test_a_taken_console_port_exits_1_before_any_listening_line(self):
        # The listeners bind last: a test harness that reads "listening on" from
        # stdout must never see one from an lb that is about to exit.
        taken = socket.socket()
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        self.addCleanup(taken.close)
        port = taken.getsockname()[1]
        lb, p = self.run_config(config() + f"admin:\n  port: {port}\n", {"a.yaml": RULES_V1})
        self.assertEqual(p.returncode, 1)
        self.assertEqual(p.stdout, "")
        self.assertIn(f"admin: cannot listen on 127.0.0.1:{port}: Address already in use (another "
                      "process, perhaps another lb, has it", p.stderr)

    def test_second_listener_bind_failure_binds_nothing(self):
        taken = socket.socket()
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        self.addCleanup(taken.close)
        port = taken.getsockname()[1]
        lb, p = self.run_config(config(listeners=LISTENER + listener(port)), {"a.yaml": RULES_V1})
        self.assertEqual(p.returncode, 1)
        self.assertEqual(p.stdout, "")

    def test_missing_config_file(self):
        code, out, err = run_lb("-c", "/nonexistent/lb.yaml")
        self.assertEqual(code, 1)
        self.assertEqual(out, "")
        self.assertIn("/nonexistent/lb.yaml", err)

    def test_bad_port_argument(self):
        code, out, err = run_lb("-p", "70000")
        self.assertEqual(code, 2)
        self.assertIn("bad port '70000'", err)


if __name__ == "__main__":
    unittest.main()
