"""Running out of file descriptors (DESIGN.md §19): lb raises its soft limit to
the hard one at start; when accept() fails for want of descriptors it pauses
accepting instead of spinning on the still-readable listener, keeps serving the
connections it has, and accepts the waiting ones once descriptors come back.
"""
import os
import re
import resource
import unittest

from lbcommon import config, fixed, get_raw, rules_file, wait_for, wait_stderr
from lbtest import Conn, Lb

RULES = {"r.yaml": rules_file(fixed(1, '[{path_pattern: {values: ["/*"]}}]', "ok"))}


def limit_fds(soft, hard):
    return lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def cpu_seconds(pid):
    """User plus system CPU time of a process, in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def fd_limit(pid):
    with open(f"/proc/{pid}/limits") as f:
        for line in f:
            if line.startswith("Max open files"):
                return [int(x) for x in line.split()[3:5]]
    return None


class Descriptors(unittest.TestCase):
    def test_soft_limit_raised_to_hard_at_start(self):
        with Lb(config(), rules=RULES, preexec=limit_fds(256, 2048)) as lb:
            self.assertEqual(fd_limit(lb.proc.pid), [2048, 2048])
            self.assertEqual(lb.request(get_raw("/x")).status, 200)

    def test_out_of_descriptors_pauses_accepting_then_recovers(self):
        with Lb(config(), rules=RULES, preexec=limit_fds(64, 64)) as lb:
            first = Conn(lb.port)
            first.send(get_raw("/first"))
            self.assertEqual(first.read_response().status, 200)
            # More connections than lb has descriptors: the kernel completes
            # them all (the backlog), lb accepts until accept() fails.
            conns = [Conn(lb.port) for _ in range(100)]
            self.assertTrue(wait_stderr(lb, "out of descriptors", timeout=15), lb.stderr())
            self.assertEqual(lb.stderr().count("out of descriptors"), 1)

            # Starved, lb neither spins nor stops serving what it has. (A
            # spinning lb burns a whole core; idle, it burns almost nothing.)
            before = cpu_seconds(lb.proc.pid)
            first.send(get_raw("/still-served"))
            self.assertEqual(first.read_response().status, 200)
            wait_for(lambda: False, timeout=2)
            self.assertLess(cpu_seconds(lb.proc.pid) - before, 1.0)

            # Descriptors come back: every waiting connection is served.
            for c in conns[:70]:
                c.close()
            for c in conns[70:]:
                c.send(get_raw("/later"))
                c.sock.settimeout(30)
                self.assertEqual(c.read_response().status, 200)
            self.assertTrue(wait_stderr(lb, "descriptors available again", timeout=15))
            fresh = Conn(lb.port)
            fresh.send(get_raw("/fresh"))
            self.assertEqual(fresh.read_response().status, 200)
            for c in conns[70:] + [first, fresh]:
                c.close()

    def test_out_of_descriptors_reports_every_servers_connections(self):
        # The warning counted only the connections of the server whose accept
        # failed; descriptors are one pool, so it counts every client connection
        # lb holds (every listener, the console, the Invoke API) and gives the limit.
        text = config(listeners=LISTENERS_TWO) + "admin: {port: 0}\nlambda_api: {port: 0}\n"
        with Lb(text, rules=RULES, preexec=limit_fds(64, 64)) as lb:
            extra = {}
            for _ in range(2):
                line = lb.proc.stdout.readline().decode().strip()
                m = re.match(r"^lb: (console|lambda api) on http://127\.0\.0\.1:(\d+)$", line)
                self.assertIsNotNone(m, line)
                extra[m.group(1)] = int(m.group(2))
            others = []
            for port, raw in ((lb.ports[1], get_raw("/second")),
                              (extra["console"], get_raw("/", host="127.0.0.1")),
                              (extra["lambda api"], get_raw("/nope"))):
                for _ in range(4):
                    c = Conn(port)
                    c.send(raw)   # answered: accepted
                    c.read_response()
                    others.append(c)
            conns = [Conn(lb.port) for _ in range(100)]
            self.assertTrue(wait_stderr(lb, "out of descriptors", timeout=15), lb.stderr())
            m = re.search(r"out of descriptors \(Too many open files; limit 64\) with (\d+) client "
                          r"connections open in lb: new connections wait", lb.stderr())
            self.assertIsNotNone(m, lb.stderr())
            ports = set(lb.ports) | set(extra.values())
            self.assertEqual(int(m.group(1)), established(lb.proc.pid, ports))
            self.assertGreater(int(m.group(1)), len(others))
            for c in conns + others:
                c.close()


LISTENERS_TWO = """\
  - port: 0
    rules: ["rules/*.yaml"]
    default_actions:
      - type: fixed-response
        fixed_response: {status_code: "404", content_type: text/plain, message_body: "none"}
  - port: 0
    rules: ["rules/*.yaml"]
    default_actions:
      - type: fixed-response
        fixed_response: {status_code: "404", content_type: text/plain, message_body: "none"}
"""


def established(pid, ports):
    """lb's established TCP connections whose local port is one of ports (its clients')."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            link = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if link.startswith("socket:["):
            inodes.add(link[8:-1])
    n = 0
    for table in ("tcp", "tcp6"):
        with open(f"/proc/{pid}/net/{table}") as f:
            for line in f.readlines()[1:]:
                fields = line.split()
                port = int(fields[1].rsplit(":", 1)[1], 16)
                if fields[3] == "01" and port in ports and fields[9] in inodes:
                    n += 1
    return n


if __name__ == "__main__":
    unittest.main()
