"""Shared pieces of the target-group behaviour tests (balancing, health, stickiness,
draining, WebSockets, transfers): several backends behind one lb, which backend
answered, reloads, and lb's RSS. Python stdlib only.
"""
import os
import signal
import unittest

from backend import Backend
from httpcommon import forward_config, http_group
from lbcommon import wait_for
from lbtest import Lb

# Health checks every 50 ms (lb's test hook): thresholds pass in well under a second.
FAST_HEALTH = {"LB_HEALTH_INTERVAL_MS": "50"}
HEALTH = "{path: /health, healthy_threshold: 2, unhealthy_threshold: 2}"


def who(r):
    """The id of the backend that answered r."""
    return r.header("X-Backend-Id")


def key(b):
    """A backend's target key as lb logs it (id:port)."""
    return f"127.0.0.1:{b.port}"


def health_line(b, state):
    """The stderr text lb writes when backend b's target turns state."""
    return f"target {key(b)} is {state}"


def rss_kb(pid):
    """VmRSS of a process, in KiB (from /proc)."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class TargetsCase(unittest.TestCase):
    """Starts backends and an lb per test; everything is stopped (and lb's exit
    checked: status 0, no sanitizer report) when the test ends."""

    def backends(self, *ids, **kw):
        out = []
        for i in ids:
            b = Backend(i, **kw).start()
            self.addCleanup(b.stop)
            out.append(b)
        return out

    def start_lb(self, groups, attributes=None, rules=None, env=None, default="web"):
        lb = Lb(forward_config(groups, default=default, attributes=attributes),
                rules=rules or {"a.yaml": "rules: []\n"}, env=dict(FAST_HEALTH, **(env or {})))
        self.addCleanup(lb.tmp.cleanup)
        lb.start()
        self.addCleanup(lb.stop)
        return lb

    def wait_stderr(self, lb, text, timeout=15, count=1):
        self.assertTrue(wait_for(lambda: lb.stderr().count(text) >= count, timeout), lb.stderr()[-3000:])

    def reload(self, lb, groups, attributes=None, default="web"):
        """Rewrites lb.yaml and sends SIGHUP; returns once lb says it reloaded."""
        n = lb.stderr().count("reloaded ")
        lb.write("lb.yaml", forward_config(groups, default=default, attributes=attributes))
        lb.signal(signal.SIGHUP)
        self.wait_stderr(lb, "reloaded ", count=n + 1)
        self.assertNotIn("reload failed", lb.stderr())

    def wait_healthy(self, lb, *backends):
        for b in backends:
            self.wait_stderr(lb, health_line(b, "healthy"))

    def picks(self, lb, n, path="/echo", headers=()):
        """Which backend answered each of n requests (one new connection each)."""
        out = []
        for _ in range(n):
            r = lb.get(path, headers=headers)
            self.assertEqual(r.status, 200, r)
            out.append(who(r))
        return out


__all__ = ["Backend", "FAST_HEALTH", "HEALTH", "TargetsCase", "forward_config", "health_line",
           "http_group", "key", "os", "rss_kb", "wait_for", "who"]
