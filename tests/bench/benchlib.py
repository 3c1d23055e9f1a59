"""Pieces shared by the bench's sections (bench.py, lambda_bench.py, peers.py).

Processes, ports, wrk, /proc accounting and the C tools the bench compiles.
Python stdlib only.
"""
import os
import re
import signal
import socket
import subprocess
import time

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(BENCH_DIR))
LB = os.path.join(ROOT, "lb")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_port(port, timeout=10, proc=None):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"the process exited with status {proc.returncode} before port {port} opened")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"port {port} never opened")


def _stat_fields(pid):
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()


def cpu_seconds(pid):
    """User + system CPU time of a process so far (all its threads)."""
    try:
        fields = _stat_fields(pid)
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_kb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def children(pid):
    """Direct children of pid (every thread's children list)."""
    out = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                out.extend(int(c) for c in f.read().split())
    except OSError:
        pass
    return out


def descendants(pid):
    todo, seen = [pid], []
    while todo:
        for c in children(todo.pop()):
            seen.append(c)
            todo.append(c)
    return seen


def tree_cpu_seconds(pid):
    """CPU time of pid and all its live descendants."""
    return sum(cpu_seconds(p) for p in [pid] + descendants(pid))


def to_ms(value):
    m = re.match(r"([\d.]+)(us|ms|s)", value)
    n, unit = float(m.group(1)), m.group(2)
    return n / 1000 if unit == "us" else n * 1000 if unit == "s" else n


def wrk(url, threads, connections, duration):
    """One wrk run: requests/s, latency p50/p99 (ms), non-2xx/3xx answers, socket errors."""
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency", url]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = to_ms(re.search(r"\s50%\s+(\S+)", out).group(1))
    p99 = to_ms(re.search(r"\s99%\s+(\S+)", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return {"rps": rps, "p50": p50, "p99": p99, "non2xx": int(errors.group(1)) if errors else 0,
            "sock_errors": sum(int(x) for x in sock.groups()) if sock else 0}


def start_lb(tmp, config, name="lb.yaml", stderr=None):
    """Starts ./lb -q on config (written to tmp/name); returns (process, port)."""
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        f.write(config)
    proc = subprocess.Popen([LB, "-q", "-c", path], stdout=subprocess.PIPE, stderr=stderr, cwd=tmp)
    line = proc.stdout.readline().decode()
    m = re.search(r":(\d+)$", line.strip())
    if not m:
        raise RuntimeError("lb did not start: " + line)
    return proc, int(m.group(1))


def stop(proc, group=False):
    """SIGTERM (to its process group when group), then SIGKILL after 15 s."""
    if proc.poll() is not None:
        return
    try:
        if group:
            os.killpg(proc.pid, signal.SIGTERM)
        else:
            proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        if group:
            os.killpg(proc.pid, signal.SIGKILL)
        else:
            proc.kill()
        proc.wait()
    except ProcessLookupError:
        proc.wait()


def compile_c(src, out, cc="cc"):
    """cc -O2 src -o out (the bench's own tools); raises with the compiler's output."""
    r = subprocess.run([cc, "-O2", "-Wall", "-o", out, src], capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"cannot compile {src}:\n{r.stderr}")
    return out


def run_tool(cmd, env=None, cpu=None, cwd=None):
    """Runs one of the bench's C tools; returns its "name value" lines as a dict."""
    preexec = (lambda: os.sched_setaffinity(0, cpu)) if cpu is not None else None
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, preexec_fn=preexec, timeout=600, cwd=cwd)
    if r.returncode != 0:
        raise RuntimeError(f"{os.path.basename(cmd[0])} failed ({r.returncode}): {r.stderr.strip()[-500:]}")
    return {k: float(v) for k, v in (line.split() for line in r.stdout.splitlines() if line.strip())}


def row(name, r, width=24):
    return f"  {name:<{width}} {r['rps']:>10,.0f} req/s   p50 {r['p50']:7.3f} ms   p99 {r['p99']:7.3f} ms"


def median_run(runs, key="rps"):
    return sorted(runs, key=lambda r: r[key])[len(runs) // 2]


def median(values):
    values = sorted(values)
    return values[len(values) // 2]
