"""workers: N and least_outstanding_requests: the count a target is chosen by is the
requests in flight to it over every loop (README "Workers"), not the requests of the
loop that picks.

The test sorts idle client connections by the loop that accepted them (the change of
/metrics' lb_worker_connections after each one), then holds requests open on the
backends, each on a connection of a chosen loop, one at a time.
"""
import signal
import unittest

from httpcommon import http_group
from lambdacommon import raw_request
from lbcommon import config, wait_for
from lbtest import Conn
from targetcommon import FAST_HEALTH, HEALTH, Backend, health_line, key, who
from test_workers import accepted, start

LOR = {"load_balancing.algorithm.type": "least_outstanding_requests"}


def lor_config(backends):
    listener = ("  - port: 0\n"
                "    rules: [\"rules/*.yaml\"]\n"
                "    default_actions: [{type: forward, target_group: web}]\n")
    groups = "target_groups:\n" + http_group("web", backends, health=HEALTH, attributes=LOR)
    return config(listeners=listener, target_groups=groups, extra_lb="  workers: 2\n") + "admin:\n  port: 0\n"


class WorkersLeastOutstandingTest(unittest.TestCase):
    def backend(self, id):
        b = Backend(id).start()
        self.addCleanup(b.stop)
        return b

    def connections_by_loop(self, lb, admin, each=3, limit=200):
        """{loop index: [idle connections it accepted]}, at least `each` per loop."""
        by_loop = {0: [], 1: []}
        before = accepted(admin)
        for _ in range(limit):
            if all(len(v) >= each for v in by_loop.values()):
                return by_loop
            c = Conn(lb.port)
            self.addCleanup(c.close)
            seen = [before]

            def one_more():
                seen[0] = accepted(admin)
                return sum(seen[0].values()) == sum(before.values()) + 1
            self.assertTrue(wait_for(one_more, 10), (before, seen[0]))
            now = seen[0]
            loop = next(i for i in now if now[i] != before.get(i, 0))
            by_loop[loop].append(c)
            before = now
        self.fail(f"one loop accepted almost every connection: {accepted(admin)}")

    def test_new_requests_go_to_the_target_with_fewer_in_flight_over_both_loops(self):
        a, b = self.backend("a"), self.backend("b")
        lb, admin = start(self, lor_config([a, b]), rules={"a.yaml": "rules: []\n"}, env=FAST_HEALTH)
        for x in (a, b):
            self.assertTrue(wait_for(lambda: health_line(x, "healthy") in lb.stderr(), 15), lb.stderr()[-2000:])
        # (Main's checks reach the worker as messages; both targets are routable there
        # meanwhile too: `initial` ones take part while the group fails open.)
        conns = self.connections_by_loop(lb, admin, each=4)
        held = []   # (connection, loop)

        def hold(loop):
            c = conns[loop].pop()
            total = a.held() + b.held()
            before = (a.held(), b.held())
            c.send(raw_request("GET", "/hold?key=h"))
            self.assertTrue(wait_for(lambda: a.held() + b.held() == total + 1, 10), (a.held(), b.held()))
            held.append(c)
            return before, ("a" if a.held() > before[0] else "b")

        try:
            # Loop 0, loop 1, then alternately: every request must go to the target with
            # fewer requests in flight counted over both loops (§1.7). Counted per loop,
            # the first request on loop 1 would see no request in flight anywhere and
            # pick by its own rotation, which starts at the same target as loop 0's.
            for loop in (0, 1, 1, 0, 0, 1):
                (na, nb), got = hold(loop)
                if na != nb:
                    self.assertEqual(got, "a" if na < nb else "b", (loop, na, nb, got))
            self.assertEqual((a.held(), b.held()), (3, 3))
        finally:
            a.release("h")
            b.release("h")
        for c in held:
            r = c.read_response()
            self.assertEqual(r.status, 200, r)
            self.assertIn(who(r), ("a", "b"))

    def test_a_removed_target_drains_in_one_set_of_lines_over_both_loops(self):
        # Each loop drains its own copy of the target; main's lines speak for both, so
        # the operator reads one "draining" with every loop's requests, one "deregistered".
        a, b = self.backend("a"), self.backend("b")
        lb, admin = start(self, lor_config([b]), rules={"a.yaml": "rules: []\n"}, env=FAST_HEALTH)
        self.assertTrue(wait_for(lambda: health_line(b, "healthy") in lb.stderr(), 15), lb.stderr()[-2000:])
        conns = self.connections_by_loop(lb, admin, each=1)
        for loop in (0, 1):
            conns[loop][0].send(raw_request("GET", "/hold?key=d"))
            self.assertTrue(wait_for(lambda: b.held("d") == loop + 1, 10), b.held("d"))
        lb.write("lb.yaml", lor_config([a]))
        lb.signal(signal.SIGHUP)
        line = f"target {key(b)}: draining ("
        self.assertTrue(wait_for(lambda: line in lb.stderr(), 10), lb.stderr()[-2000:])
        b.release("d")
        for loop in (0, 1):
            self.assertEqual(conns[loop][0].read_response().status, 200)
        done = f"target {key(b)}: deregistered"
        self.assertTrue(wait_for(lambda: done in lb.stderr(), 10), lb.stderr()[-2000:])
        lb.signal(signal.SIGTERM)   # every loop's lines are out once lb has exited
        lb.proc.wait(20)
        err = lb.stderr()
        self.assertEqual(err.count(line), 1, err)
        self.assertIn(line + "2 requests in flight", err)
        self.assertEqual(err.count(done), 1, err)


if __name__ == "__main__":
    unittest.main()
