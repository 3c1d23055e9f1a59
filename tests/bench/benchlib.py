"""Pieces shared by the bench's sections (bench.py, lambda_bench.py, peers.py).

Processes, ports, wrk, /proc accounting and the C tools the bench compiles.
Python stdlib only.
"""
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import threading
import time

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(BENCH_DIR))
LB = os.path.join(ROOT, "lb")
# The flags lb starts a Node.js sandbox with at the default memory_size (128 MB), as
# Lambda's Node.js bootstrap does (lambda_env.c): the runtime alone runs with them too.
NODE_FLAGS = ["--expose-gc", "--max-http-header-size", "81920", "--max-semi-space-size=6",
              "--max-old-space-size=116"]


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


def _status_kb(pid, field):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def rss_kb(pid):
    return _status_kb(pid, "VmRSS:")


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


def wrk(url, threads, connections, duration, pipeline=1):
    """One wrk run: requests/s, latency p50/p99 (ms), non-2xx/3xx answers, socket errors,
    and wrk's own CPU in cores (client_cores). With pipeline > 1 each connection sends
    that many requests at a time (pipeline.lua), which cuts wrk's CPU per request."""
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency", url]
    if pipeline > 1:
        cmd[-1:-1] = ["-s", os.path.join(BENCH_DIR, "pipeline.lua")]
        cmd += ["--", str(pipeline)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    client = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = to_ms(re.search(r"\s50%\s+(\S+)", out).group(1))
    p99 = to_ms(re.search(r"\s99%\s+(\S+)", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return {"rps": rps, "p50": p50, "p99": p99, "non2xx": int(errors.group(1)) if errors else 0,
            "sock_errors": sum(int(x) for x in sock.groups()) if sock else 0,
            "client_cores": client / duration}


def start_nginx(tmp, template, name="nginx", **fmt):
    """nginx with template formatted with dir (its own folder tmp/name), port (a free one)
    and fmt; returns (master process, port)."""
    folder = os.path.join(tmp, name)
    os.makedirs(folder, exist_ok=True)
    port = free_port()
    conf = os.path.join(folder, "nginx.conf")
    with open(conf, "w") as f:
        f.write(template.format(dir=folder, port=port, **fmt))
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    proc = subprocess.Popen([nginx, "-c", conf, "-p", folder], stderr=subprocess.DEVNULL)
    wait_port(port, proc=proc)
    return proc, port


def nginx_worker_pid(master):
    """The single worker's pid (the master only supervises)."""
    for _ in range(50):
        out = subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True).stdout.split()
        if out:
            return int(out[0])
        time.sleep(0.1)
    return master


def measured(url, pid, threads, connections, duration):
    """One wrk run, with the server's (pid's) CPU microseconds per request as cpu_us."""
    before = cpu_seconds(pid)
    r = wrk(url, threads, connections, duration)
    r["cpu_us"] = (cpu_seconds(pid) - before) * 1e6 / max(1, r["rps"] * duration)
    return r


class PeakRss:
    """Peak resident memory of one process while it works: VmRSS sampled every
    `interval` seconds in a thread (.sampled_kb), and the kernel's own high-water mark
    (.hwm_kb, VmHWM after resetting it through /proc/PID/clear_refs; None when that
    reset is refused)."""

    def __init__(self, pid, interval=0.01):
        self.pid, self.interval = pid, interval
        self.sampled_kb, self.hwm_kb = 0, None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._hwm_reset = False

    def _run(self):
        while not self._stop.is_set():
            self.sampled_kb = max(self.sampled_kb, rss_kb(self.pid))
            self._stop.wait(self.interval)

    def __enter__(self):
        try:
            with open(f"/proc/{self.pid}/clear_refs", "w") as f:
                f.write("5")   # 5: reset the peak RSS (proc(5))
            self._hwm_reset = True
        except OSError:
            pass
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.sampled_kb = max(self.sampled_kb, rss_kb(self.pid))
        if self._hwm_reset:
            self.hwm_kb = _status_kb(self.pid, "VmHWM:")


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


def row(name, r, width=24, latency=True):
    """latency=False for pipelined runs: wrk times a pipelined batch, not a request (and
    prints 0.00us as the 99th percentile of some)."""
    line = f"  {name:<{width}} {r['rps']:>10,.0f} req/s"
    return line + f"   p50 {r['p50']:7.3f} ms   p99 {r['p99']:7.3f} ms" if latency else line


def median_run(runs, key="rps"):
    return sorted(runs, key=lambda r: r[key])[len(runs) // 2]


def median(values):
    values = sorted(values)
    return values[len(values) // 2]
