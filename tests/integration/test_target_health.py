"""Health checks of instance/ip targets (alb-http-targets-and-tls.md §1.10): the check
request, path, port, matcher, thresholds, timeout and interval; the states initial,
healthy, unhealthy with their reason codes; and fail open when every target is
unhealthy. LB_HEALTH_INTERVAL_MS=50 (lb's test hook) replaces the interval except
where the interval itself is tested.
"""
import re
import time

from targetcommon import HEALTH, TargetsCase, health_line, http_group, key, wait_for, who


def transitions(lb, b):
    """[(state, was), ...] of backend b's target, in the order lb logged them."""
    return re.findall(rf"target {re.escape(key(b))} is (\w+) \(was (\w+)\)", lb.stderr())


def spread(lb, n=10):
    """The set of backends that answered n requests on one connection."""
    c = lb.connect()
    seen = []
    try:
        for _ in range(n):
            c.send(b"GET /echo HTTP/1.1\r\nHost: h\r\n\r\n")
            r = c.read_response()
            assert r.status == 200, r
            seen.append(who(r))
    finally:
        c.close()
    return sorted(set(seen))


class CheckRequestTests(TargetsCase):
    def test_check_request_as_alb_sends_it(self):
        (b,) = self.backends("a")
        lb = self.start_lb([http_group("web", [b], health=HEALTH)])
        self.assertTrue(b.wait(lambda x: len(x.health_checks) >= 3))
        heads = [c["head"].decode("latin-1") for c in b.health_checks[:3]]
        # GET path over HTTP/1.1, Host: ip:port (not the default port), ALB's User-Agent,
        # and a new connection per check, closed after it (§1.10.2).
        self.assertEqual(heads[0], f"GET /health HTTP/1.1\r\nHost: 127.0.0.1:{b.port}\r\n"
                                   "User-Agent: ELB-HealthChecker/2.0\r\nConnection: close\r\n\r\n")
        self.assertEqual(len({c["conn"] for c in b.health_checks[:3]}), 3)
        self.wait_stderr(lb, health_line(b, "healthy (was initial)"))
        # Checks are not requests: nothing in the access log.
        self.assertEqual(b.requests, [])

    def test_path_matcher_and_port(self):
        a, other = self.backends("a", "h")
        # The check goes to another port (health_check.port) with path /status/202,
        # which a matcher "200,202" accepts and the default matcher "200" would not.
        hc = f"{{path: /status/202, port: {other.port}, matcher: \"200,202\", healthy_threshold: 2}}"
        lb = self.start_lb([http_group("web", [a], health=hc)])
        self.wait_stderr(lb, health_line(a, "healthy (was initial)"))
        self.assertEqual(a.requests, [])
        checks = [r for r in other.requests if r["target"] == "/status/202"]
        self.assertGreaterEqual(len(checks), 2)
        self.assertIn(f"Host: 127.0.0.1:{other.port}\r\n".encode(), checks[0]["head"])

    def test_matcher_range_and_mismatch_reason(self):
        a, b = self.backends("a", "b")
        a.health_status, b.health_status = 299, 300
        lb = self.start_lb([http_group("web", [a, b], health="{path: /health, matcher: \"200-299\", "
                                                            "healthy_threshold: 2}")])
        self.wait_stderr(lb, health_line(a, "healthy (was initial)"))
        self.wait_stderr(lb, health_line(b, "unhealthy (was initial): Target.ResponseCodeMismatch"))
        self.assertEqual(spread(lb), ["a"])

    def test_checks_cannot_be_disabled(self):
        (a,) = self.backends("a")
        # ALB: HealthCheckEnabled is always true for instance/ip groups (§1.10.1).
        with self.assertRaisesRegex(RuntimeError, "health checks of instance and ip target groups "
                                                  "cannot be disabled"):
            self.start_lb([http_group("web", [a], health="{enabled: false}")])


class ThresholdTests(TargetsCase):
    def test_consecutive_thresholds(self):
        (b,) = self.backends("a")
        # healthy_threshold 3, unhealthy_threshold 2; each check takes the next status.
        b.health_script = [200, 200, 500, 500,          # 2 passes are not enough; 2 failures are
                           200, 200, 500, 200, 200, 200,  # a failure restarts the count of passes
                           500, 500]                   # then 200 for good
        lb = self.start_lb([http_group("web", [b], health="{path: /health, healthy_threshold: 3, "
                                                          "unhealthy_threshold: 2}")])
        self.assertTrue(wait_for(lambda: len(transitions(lb, b)) >= 4, 15), lb.stderr())
        self.assertEqual(transitions(lb, b), [("unhealthy", "initial"), ("healthy", "unhealthy"),
                                              ("unhealthy", "healthy"), ("healthy", "unhealthy")])
        self.assertGreaterEqual(len(b.health_checks), 15)

    def test_timeout_makes_a_target_unhealthy(self):
        a, b = self.backends("a", "b")
        b.health_delay = 3     # longer than the 2 s timeout
        lb = self.start_lb([http_group("web", [a, b], health="{path: /health, timeout: 2, "
                                                            "healthy_threshold: 2, unhealthy_threshold: 2}")])
        self.wait_stderr(lb, health_line(b, "unhealthy (was initial): Target.Timeout"), timeout=30)
        self.assertEqual(spread(lb), ["a"])

    def test_refused_connection_reason(self):
        (a,) = self.backends("a")
        dead = self.backends("dead")[0]
        dead.stop()
        lb = self.start_lb([http_group("web", [a, dead], health=HEALTH)])
        self.wait_stderr(lb, health_line(dead, "unhealthy (was initial): Target.FailedHealthChecks"))
        self.assertEqual(spread(lb), ["a"])

    def test_interval_is_honoured(self):
        (b,) = self.backends("a")
        # No test hook: the 5 s interval itself. The first check goes at once.
        lb = self.start_lb([http_group("web", [b], health="{path: /health, interval: 5, timeout: 2}")],
                           env={"LB_HEALTH_INTERVAL_MS": ""})
        self.assertTrue(b.wait(lambda x: len(x.health_checks) >= 1))
        time.sleep(1.5)
        if time.time() - b.health_checks[0]["time"] < 3:
            self.assertEqual(len(b.health_checks), 1)
        self.assertTrue(b.wait(lambda x: len(x.health_checks) >= 2, timeout=20))
        # 5 s apart, less what a loaded machine may add to the first check's way there.
        self.assertGreaterEqual(b.health_checks[1]["time"] - b.health_checks[0]["time"], 3)
        self.assertIsNotNone(lb.proc)


class StateTests(TargetsCase):
    def test_unhealthy_target_gets_no_requests_and_returns(self):
        a, b = self.backends("a", "b")
        lb = self.start_lb([http_group("web", [a, b], health=HEALTH)])
        self.wait_healthy(lb, a, b)
        self.assertEqual(spread(lb), ["a", "b"])
        b.health_status = 503
        self.wait_stderr(lb, health_line(b, "unhealthy (was healthy)"))
        self.assertEqual(spread(lb), ["a"])
        b.health_status = 200
        self.wait_stderr(lb, health_line(b, "healthy (was unhealthy)"))
        self.assertEqual(spread(lb), ["a", "b"])

    def test_new_target_gets_no_requests_while_initial(self):
        a, b = self.backends("a", "b")
        lb = self.start_lb([http_group("web", [a], health=HEALTH)])
        self.wait_healthy(lb, a)
        # Checks now go to /silent, which never answers within the 20 s timeout: b stays
        # initial (a stays healthy) for the rest of the test.
        self.reload(lb, [http_group("web", [a, b], health="{path: /silent, timeout: 20}")])
        self.assertTrue(b.wait(lambda x: any(r["target"] == "/silent" for r in x.requests)))
        # ALB: a new target gets traffic once it passes its checks (§1.9).
        self.assertEqual(spread(lb, 8), ["a"])
        self.assertEqual(transitions(lb, b), [])

    def test_fail_open_when_every_target_is_unhealthy(self):
        a, b = self.backends("a", "b")
        lb = self.start_lb([http_group("web", [a, b], health=HEALTH)])
        self.wait_healthy(lb, a, b)
        a.health_status = b.health_status = 500
        self.wait_stderr(lb, health_line(a, "unhealthy (was healthy)"))
        self.wait_stderr(lb, health_line(b, "unhealthy (was healthy)"))
        # ALB: only unhealthy targets → route to all of them (fail open, §1.10.4).
        self.assertEqual(spread(lb), ["a", "b"])
        a.health_status = 200
        self.wait_stderr(lb, health_line(a, "healthy (was unhealthy)"))
        self.assertEqual(spread(lb), ["a"])

    def test_minimum_healthy_count_fails_open(self):
        a, b, c = self.backends("a", "b", "c")
        attrs = {"target_group_health.unhealthy_state_routing.minimum_healthy_targets.count": 2}
        lb = self.start_lb([http_group("web", [a, b, c], health=HEALTH, attributes=attrs)])
        self.wait_healthy(lb, a, b, c)
        c.health_status = 500
        self.wait_stderr(lb, health_line(c, "unhealthy (was healthy)"))
        self.assertEqual(spread(lb), ["a", "b"])      # two healthy: the threshold holds
        b.health_status = 500
        self.wait_stderr(lb, health_line(b, "unhealthy (was healthy)"))
        # Below 2 healthy targets ALB routes to all of them (§1.10.4).
        self.assertEqual(spread(lb, 12), ["a", "b", "c"])


class UnusedGroupTests(TargetsCase):
    def test_group_no_rule_forwards_to_is_unused_and_not_checked(self):
        a, spare = self.backends("a", "spare")
        lb = self.start_lb([http_group("web", [a], health=HEALTH), http_group("spare", [spare], health=HEALTH)])
        # ALB checks only groups a listener rule uses; the others are unused (§1.10.2-§1.10.3).
        self.wait_stderr(lb, "target group spare: target %s is unused (was initial): Target.NotInUse" % key(spare))
        self.assertTrue(a.wait(lambda x: len(x.health_checks) >= 5))
        self.assertEqual(spare.health_checks, [])
        # A rule forwards to it now: checked from the start, then served.
        lb.write("rules/a.yaml", "rules:\n  - {priority: 1, conditions: [{path_pattern: {values: [/spare*]}}], "
                                 "actions: [{type: forward, target_group: spare}]}\n")
        self.reload(lb, [http_group("web", [a], health=HEALTH), http_group("spare", [spare], health=HEALTH)])
        self.wait_stderr(lb, health_line(spare, "healthy (was initial)"))
        self.assertEqual(who(lb.get("/spare/x")), "spare")
        # And unused again when the rule goes.
        lb.write("rules/a.yaml", "rules: []\n")
        self.reload(lb, [http_group("web", [a], health=HEALTH), http_group("spare", [spare], health=HEALTH)])
        self.wait_stderr(lb, health_line(spare, "unused (was healthy)"))
        n, m = len(spare.health_checks), len(a.health_checks)
        self.assertTrue(a.wait(lambda x: len(x.health_checks) >= m + 5))
        self.assertLessEqual(len(spare.health_checks), n + 1)   # at most one check was in flight
