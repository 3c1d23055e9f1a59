"""Routing algorithms of instance/ip target groups (alb-http-targets-and-tls.md §1.7,
§1.8): round_robin in a fixed order, least_outstanding_requests with requests held
open on a backend, weighted_random within a binomial bound, slow start ramping a
target added by a reload, and keep-alive reuse of target connections.
"""
import re
import threading
import time

from lbtest import Conn
from targetcommon import HEALTH, TargetsCase, http_group, key, wait_for, who


def keepalive_picks(lb, n, path="/echo"):
    """Which backend answered each of n requests sent on one client connection."""
    c = lb.connect()
    out = []
    try:
        for _ in range(n):
            c.send(f"GET {path} HTTP/1.1\r\nHost: h\r\n\r\n".encode())
            r = c.read_response()
            assert r.status == 200, r
            out.append(who(r))
    finally:
        c.close()
    return out


class RoundRobinTests(TargetsCase):
    def test_round_robin_is_a_fixed_rotation(self):
        bs = self.backends("a", "b", "c")
        lb = self.start_lb([http_group("web", bs, health=HEALTH)])
        self.wait_healthy(lb, *bs)
        got = keepalive_picks(lb, 30)
        # ALB: round robin routes "in a sequential order" (§1.7): one full rotation
        # over the three targets, repeated exactly.
        self.assertEqual(sorted(got[:3]), ["a", "b", "c"])
        self.assertEqual(got, got[:3] * 10)

    def test_round_robin_skips_an_unhealthy_target(self):
        bs = a, b, c = self.backends("a", "b", "c")
        lb = self.start_lb([http_group("web", bs, health=HEALTH)])
        self.wait_healthy(lb, *bs)
        b.health_status = 500
        self.wait_stderr(lb, f"target {key(b)} is unhealthy (was healthy): Target.ResponseCodeMismatch")
        got = keepalive_picks(lb, 10)
        self.assertEqual(sorted(set(got)), ["a", "c"])
        self.assertEqual(got, got[:2] * 5)

    def test_backend_connections_are_reused_per_target(self):
        bs = self.backends("a", "b")
        lb = self.start_lb([http_group("web", bs, health=HEALTH)])
        self.wait_healthy(lb, *bs)
        for b in bs:
            b.clear()
        got = self.picks(lb, 20)   # a new client connection each time
        self.assertEqual(got.count("a"), 10)
        # Sequential requests: each target keeps one pooled keep-alive connection (§1.3);
        # health checks, on their own connections, are not counted.
        for b in bs:
            self.assertEqual(len({r["conn"] for r in b.requests}), 1, b.id)
            self.assertEqual(max(r["req_on_conn"] for r in b.requests), 10, b.id)

    def test_reload_keeping_targets_keeps_serving(self):
        # A reload that keeps two registered targets (and adds one) must find the
        # kept ones by key; a freed slot in the old arrays once crashed lb here.
        bs = a, b, c = self.backends("a", "b", "c")
        lb = self.start_lb([http_group("web", [a, b], health=HEALTH)])
        self.wait_healthy(lb, a, b)
        self.reload(lb, [http_group("web", [b, a, c], health=HEALTH)])
        self.reload(lb, [http_group("web", [c, b, a], health=HEALTH)])
        self.wait_healthy(lb, c)
        self.assertEqual(sorted(set(keepalive_picks(lb, 9))), ["a", "b", "c"])
        # a and b kept their state: healthy once, never initial again.
        self.assertEqual(lb.stderr().count(f"target {key(a)} is healthy"), 1)


class LeastOutstandingTests(TargetsCase):
    def test_requests_go_to_the_target_with_fewer_in_flight(self):
        bs = a, b = self.backends("a", "b")
        lb = self.start_lb([http_group("web", bs, health=HEALTH,
                                       attributes={"load_balancing.algorithm.type": "least_outstanding_requests"})])
        self.wait_healthy(lb, a, b)
        threads = []

        def hold(total):
            t = threading.Thread(target=lambda: lb.get("/hold?key=h"))
            t.start()
            threads.append(t)
            self.assertTrue(wait_for(lambda: a.held() + b.held() == total, 10), (a.held(), b.held()))

        try:
            # Held requests: 1 (on one target), 2 (one each), 3 (two on one target).
            for total in (1, 2, 3):
                hold(total)
                if a.held() == b.held():
                    continue
                fewer = a if a.held() < b.held() else b
                # ALB: a new request goes to the target with the fewest in flight (§1.7).
                self.assertEqual(self.picks(lb, 5), [fewer.id] * 5, (total, a.held(), b.held()))
            self.assertEqual(sorted([a.held(), b.held()]), [1, 2])
        finally:
            for x in (a, b):
                x.release("h")
            for t in threads:
                t.join(15)

    def test_ties_rotate(self):
        bs = self.backends("a", "b")
        lb = self.start_lb([http_group("web", bs, health=HEALTH,
                                       attributes={"load_balancing.algorithm.type": "least_outstanding_requests"})])
        self.wait_healthy(lb, *bs)
        got = keepalive_picks(lb, 10)
        self.assertEqual(got, got[:2] * 5)
        self.assertEqual(sorted(got[:2]), ["a", "b"])


class WeightedRandomTests(TargetsCase):
    def test_choice_is_uniform_within_a_binomial_bound(self):
        bs = self.backends("a", "b")
        lb = self.start_lb([http_group("web", bs, health=HEALTH,
                                       attributes={"load_balancing.algorithm.type": "weighted_random"})])
        self.wait_healthy(lb, *bs)
        n = 400
        got = keepalive_picks(lb, n)
        count = got.count("a")
        # Binomial(400, 1/2): mean 200, sd 10. +-50 is 5 sd (p < 1e-6 of a false failure).
        self.assertTrue(150 <= count <= 250, count)
        # "in a random order" (§1.7): not a strict rotation (p = 2^-399 by chance).
        self.assertNotEqual(got, got[:2] * (n // 2))


class SlowStartTests(TargetsCase):
    ATTRS = {"slow_start.duration_seconds": 30}

    def test_targets_of_the_first_load_do_not_ramp(self):
        bs = self.backends("a", "b")
        lb = self.start_lb([http_group("web", bs, health=HEALTH, attributes=self.ATTRS)])
        self.wait_healthy(lb, *bs)
        # ALB: targets registered into an empty group do not enter slow start (§1.8).
        got = keepalive_picks(lb, 10)
        self.assertEqual(got, got[:2] * 5)

    def test_a_target_added_by_a_reload_ramps_up(self):
        a, b = self.backends("a", "b")
        lb = self.start_lb([http_group("web", [a], health=HEALTH, attributes=self.ATTRS)])
        self.wait_healthy(lb, a)
        t0 = time.monotonic()   # b cannot turn healthy before the reload
        self.reload(lb, [http_group("web", [a, b], health=HEALTH, attributes=self.ATTRS)])
        self.wait_healthy(lb, b)
        n = 60
        got = keepalive_picks(lb, n)
        elapsed = time.monotonic() - t0
        # ALB: the new target's share rises linearly over the period (§1.8). lb's
        # weight is 10/1000 at the start plus 990/1000 x elapsed/30 s; smooth weighted
        # round robin gives it about n*w/(1000+w) of n picks (+2 for rounding).
        w = 10 + 990 * min(elapsed, 30) / 30
        bound = n * w / (1000 + w) + 2
        self.assertLessEqual(got.count("b"), bound, (got, elapsed))
        if elapsed < 5:
            self.assertLess(got.count("b"), n // 4, got)   # far below the even share of round robin
        self.assertIn("a", got)
