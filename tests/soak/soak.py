#!/usr/bin/env python3
"""`make soak`: lb's long checks (DESIGN.md §19), bounded and on loopback only.

Each check prints one line, `soak: NAME: what was measured: ok` (or FAIL), and
the exit status is non-zero when any failed. Runs the release ./lb unless
LB_BIN names another.

  idle-connections   10,000 idle keep-alive connections held in <= 50 MB
  descriptors        at a limit of 1024 descriptors, 1,100 clients: lb's CPU while
                     they wait, and the waiting ones answered once some leave
  slow-headers       clients trickling a request head are cut at the idle
                     timeout while other clients go on being served
  crash-storm        a function that crashes on every invocation, many times
  hung-functions     functions that never answer, killed at their timeout
  hostile-output     functions flooding their output and returning garbage
  sandbox-memory     a Node.js and a Python sandbox serving invocations for 20 s each:
                     their memory afterwards, per invocation (<= 20 bytes)
Afterwards lb must hold no leaked process, descriptor or temporary file.
"""
import os
import resource
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("LB_BIN", os.path.join(ROOT, "lb"))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))

from lambdacommon import NODE, PYTHON, fn, lambda_config  # noqa: E402
from lbcommon import config, fixed, get_raw, rules_file  # noqa: E402
from lbtest import Conn, Lb  # noqa: E402

FIXED_RULES = {"r.yaml": rules_file(fixed(1, '[{path_pattern: {values: ["/*"]}}]', "ok"))}
failures = 0


def report(name, detail, ok):
    global failures
    failures += not ok
    print(f"soak: {name}: {detail}: {'ok' if ok else 'FAIL'}", flush=True)


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def fd_count(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def children(pid):
    """Processes whose parent is pid."""
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        out.append(int(d))
            except OSError:
                pass
    return out


def wait_until(pred, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return True
        time.sleep(0.1)
    return pred()


def idle_connections():
    n = 10000
    with Lb(config(), rules=FIXED_RULES, access_log=False) as lb:
        base = rss_kb(lb.proc.pid)
        conns = []
        for _ in range(n):
            c = Conn(lb.port)
            c.send(get_raw("/"))
            if c.read_response().status != 200:
                break
            conns.append(c)
        rss = rss_kb(lb.proc.pid)
        alive = Conn(lb.port)
        alive.send(get_raw("/after"))
        served = alive.read_response().status == 200
        for c in conns + [alive]:
            c.close()
    report("idle-connections", f"{len(conns)} held, lb RSS {base / 1024:.1f} MB idle, "
           f"{rss / 1024:.1f} MB holding them (limit 50 MB)",
           len(conns) == n and rss <= 50 * 1024 and served)


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def descriptors():
    limit, n = 1024, 1100
    lim = lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))  # noqa: E731
    with Lb(config(), rules=FIXED_RULES, access_log=False, preexec=lim) as lb:
        conns = [Conn(lb.port, timeout=30) for _ in range(n)]
        for c in conns:
            c.send(get_raw("/wait"))
        starved = wait_until(lambda: "out of descriptors" in lb.stderr(), 30)
        before, t0 = cpu_seconds(lb.proc.pid), time.time()
        time.sleep(3)
        cpu = (cpu_seconds(lb.proc.pid) - before) / (time.time() - t0) * 100
        for c in conns[:200]:
            c.close()
        t0 = time.time()
        answered = sum(c.read_response().status == 200 for c in conns[200:])
        took = time.time() - t0
        for c in conns[200:]:
            c.close()
    report("descriptors", f"{n} clients at a limit of {limit}: lb CPU {cpu:.1f}% while they waited; "
           f"after 200 left, {answered}/{n - 200} answered in {took:.2f} s",
           starved and cpu < 5 and answered == n - 200)


def slow_headers():
    idle = 3
    cfg = config(attributes={"idle_timeout.timeout_seconds": idle})
    slow_n, stop = 300, threading.Event()
    with Lb(cfg, rules=FIXED_RULES, access_log=False) as lb:
        slow = []
        for _ in range(slow_n):
            s = socket.create_connection(("127.0.0.1", lb.port))
            s.sendall(b"GET / HTTP/1.1\r\n")
            slow.append(s)
        started = time.time()

        def trickle():
            i = 0
            while not stop.is_set():
                for s in slow:
                    try:
                        s.sendall(b"X-%d: y\r\n" % i)
                    except OSError:
                        pass
                i += 1
                stop.wait(0.5)
        t = threading.Thread(target=trickle)
        t.start()
        lat = []
        c = Conn(lb.port)
        while time.time() - started < idle + 1:
            t0 = time.perf_counter()
            c.send(get_raw("/fast"))
            ok = c.read_response().status == 200
            lat.append((time.perf_counter() - t0) * 1000)
            if not ok:
                break
        stop.set()
        t.join()
        closed = 0
        for s in slow:
            s.settimeout(10)
            try:
                data = s.recv(4096)
                closed += data == b"" or data.startswith(b"HTTP/1.1 408")
            except OSError:
                closed += 1
            s.close()
        c.close()
    lat.sort()
    p99 = lat[int(len(lat) * 0.99) - 1] if lat else float("inf")
    report("slow-headers", f"{closed}/{slow_n} trickling clients cut at the {idle} s idle timeout; "
           f"meanwhile {len(lat)} requests, p50 {statistics.median(lat):.2f} ms, p99 {p99:.2f} ms",
           closed == slow_n and len(lat) > 100)


CRASH = "import os\ndef handler(event, context):\n    os._exit(3)\n"
HANG = "import time\ndef handler(event, context):\n    time.sleep(3600)\n"
FLOOD = """import sys
def handler(event, context):
    kind = event["path"].rsplit("/", 1)[-1]
    if kind == "log":
        sys.stdout.write("x" * (1 << 20) * 20)
        return {"statusCode": 200, "body": "after log"}
    if kind == "big":
        return {"statusCode": 200, "body": "y" * (8 << 20)}
    if kind == "garbage":
        return b"\\xff\\xfe not json"
    return {"statusCode": "nope", "headers": [1, 2]}
"""


def function_checks():
    # The crashing function has a layer, so lb makes a temporary directory.
    functions = [fn("crash", code="crash", layers=["layer"]), fn("hang", code="hang", timeout=1),
                 fn("flood", code="flood", timeout=30)]
    text, rules = lambda_config(functions)
    files = {"crash/index.py": CRASH, "hang/index.py": HANG, "flood/index.py": FLOOD,
             "layer/python/helper.py": "X = 1\n"}
    tmp = tempfile.mkdtemp(prefix="lb-soak-")
    with Lb(text, rules=rules, files=files, access_log=False, env={"TMPDIR": tmp}) as lb:
        pid = lb.proc.pid
        c = Conn(lb.port)
        c.send(get_raw("/crash"))
        c.read_response()
        fds_base = fd_count(pid)

        n, statuses = 200, []
        t0 = time.time()
        for i in range(n):
            c.send(get_raw(f"/crash/{i}"))
            statuses.append(c.read_response().status)
        took = time.time() - t0
        settled = wait_until(lambda: not children(pid), 30)
        fds = fd_count(pid)
        report("crash-storm", f"{n} invocations crashing in {took:.1f} s: {statuses.count(502)} x 502, "
               f"sandboxes left {len(children(pid))}, lb descriptors {fds_base} -> {fds}",
               statuses.count(502) == n and settled and fds <= fds_base + 2)

        hung = [Conn(lb.port, timeout=30) for _ in range(10)]
        t0 = time.time()
        for h in hung:
            h.send(get_raw("/hang"))
        codes = [h.read_response().status for h in hung]
        took = time.time() - t0
        settled = wait_until(lambda: not children(pid), 30)
        for h in hung:
            h.close()
        report("hung-functions", f"{len(hung)} invocations past a 1 s timeout answered "
               f"{sorted(set(codes))} within {took:.1f} s; sandboxes left {len(children(pid))}",
               codes == [502] * len(hung) and settled)

        rss0 = rss_kb(pid)
        codes = []
        for kind in ["log", "big", "garbage", "shape"] * 3:
            c.send(get_raw(f"/flood/{kind}"))
            codes.append(c.read_response().status)
        rss = rss_kb(pid)
        report("hostile-output", f"20 MB of logs and 8 MB, non-JSON and ill-shaped results: "
               f"answers {codes[:4]}, lb RSS {rss0 / 1024:.1f} -> {rss / 1024:.1f} MB",
               codes[:4] == [200, 502, 502, 502] and codes[4:] == codes[:4] * 2 and rss - rss0 < 64 * 1024)
        c.close()
    leaked = os.listdir(tmp)
    if not leaked:
        os.rmdir(tmp)
    report("leaks", f"after stopping lb: entries left in its TMPDIR {leaked or 'none'}", not leaked)

TRIVIAL_NODE = "export const handler = async () => ({statusCode: 200, body: 'ok'});\n"
TRIVIAL_PYTHON = "def handler(event, context):\n    return {'statusCode': 200, 'body': 'ok'}\n"


def sandbox_memory():
    """One sandbox per runtime under load: what it holds after warm-up and after 20 s more.
    Each invocation sets _X_AMZN_TRACE_ID to a new value; through libc's setenv() that
    kept some 150 bytes per invocation (13 MB per 85,000 Node invocations)."""
    functions = [fn("node", NODE, code="node", reserved_concurrent_executions=1),
                 fn("py", code="py", reserved_concurrent_executions=1)]
    text, rules = lambda_config(functions)
    files = {"node/index.mjs": TRIVIAL_NODE, "py/index.py": TRIVIAL_PYTHON}
    with Lb(text, rules=rules, files=files, access_log=False) as lb:
        for name, script in (("node", "bootstrap.mjs"), ("py", "bootstrap.py")):
            url = f"http://127.0.0.1:{lb.port}/{name}"

            def load(seconds):
                out = subprocess.run(["wrk", "-t1", "-c2", f"-d{seconds}s", url], capture_output=True,
                                     text=True, check=True).stdout
                return int(re.search(r"(\d+) requests in", out).group(1)), "Non-2xx" not in out

            load(5)
            sandbox = [p for p in children(lb.proc.pid) if script in open(f"/proc/{p}/cmdline").read()]
            before = sum(rss_kb(p) for p in sandbox)
            n, all_ok = load(20)
            after = sum(rss_kb(p) for p in sandbox)
            per = (after - before) * 1024 / n
            report(f"sandbox-memory ({name})", f"{n:,} invocations in 20 s: sandbox RSS {before / 1024:.1f} -> "
                   f"{after / 1024:.1f} MB, {per:.1f} bytes per invocation", len(sandbox) == 1 and all_ok and per <= 20)


def main():
    for check in (idle_connections, descriptors, slow_headers, function_checks, sandbox_memory):
        try:
            check()
        except Exception as e:  # one broken check must not hide the others
            report(check.__name__.replace("_", "-"), f"{type(e).__name__}: {e}", False)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
