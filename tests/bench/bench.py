#!/usr/bin/env python3
"""make bench: lb against baselines on this machine, in one run, under wrk.

Fixed-response path: lb's fixed-response rule against nginx `return 200`, one
worker process each, the same wrk settings, in alternating rounds. Prints the
median round's requests/s, latency p50/p99, each server's CPU time per request,
the ratios lb/nginx, and lb's idle and loaded RSS.

Usage: tests/bench/bench.py [--duration 10] [--connections 50] [--threads 1]
Load generator and servers share the machine: compare ratios measured in the
same run, not absolute numbers across runs.
"""
import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LB = os.path.join(ROOT, "lb")

LB_CONFIG = """
load_balancer:
  name: bench
listeners:
  - port: 0
    rules: []
    default_actions:
      - type: fixed-response
        fixed_response: {status_code: "200", content_type: text/plain, message_body: "ok"}
"""

NGINX_CONFIG = """
worker_processes 1;
daemon off;
pid {dir}/nginx.pid;
error_log {dir}/nginx-error.log;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    keepalive_requests 1000000;
    server {{
        listen 127.0.0.1:{port};
        location / {{ default_type text/plain; return 200 "ok"; }}
    }}
}}
"""


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_port(port, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"port {port} never opened")


def cpu_seconds(pid):
    """User + system CPU time of a process so far."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def to_ms(value):
    m = re.match(r"([\d.]+)(us|ms|s)", value)
    n, unit = float(m.group(1)), m.group(2)
    return n / 1000 if unit == "us" else n * 1000 if unit == "s" else n


def wrk(url, args):
    cmd = ["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{args.duration}s", "--latency", url]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = to_ms(re.search(r"\s50%\s+(\S+)", out).group(1))
    p99 = to_ms(re.search(r"\s99%\s+(\S+)", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": rps, "p50": p50, "p99": p99, "non2xx": int(errors.group(1)) if errors else 0}


def start_lb(tmp, config):
    path = os.path.join(tmp, "lb.yaml")
    with open(path, "w") as f:
        f.write(config)
    proc = subprocess.Popen([LB, "-q", "-c", path], stdout=subprocess.PIPE, cwd=tmp)
    line = proc.stdout.readline().decode()
    m = re.search(r":(\d+)$", line.strip())
    if not m:
        raise RuntimeError("lb did not start: " + line)
    return proc, int(m.group(1))


def start_nginx(tmp):
    port = free_port()
    conf = os.path.join(tmp, "nginx.conf")
    with open(conf, "w") as f:
        f.write(NGINX_CONFIG.format(dir=tmp, port=port))
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    proc = subprocess.Popen([nginx, "-c", conf, "-p", tmp], stderr=subprocess.DEVNULL)
    wait_port(port)
    return proc, port


def nginx_worker_pid(master):
    """The single worker's pid (the master only supervises)."""
    for _ in range(50):
        out = subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True).stdout.split()
        if out:
            return int(out[0])
        time.sleep(0.1)
    return master


def stop(proc):
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def row(name, r):
    return f"  {name:<24} {r['rps']:>12,.0f} req/s   p50 {r['p50']:7.3f} ms   p99 {r['p99']:7.3f} ms"


def measured(url, pid, args):
    """One wrk run, with the server's CPU microseconds per request."""
    before = cpu_seconds(pid)
    r = wrk(url, args)
    r["cpu_us"] = (cpu_seconds(pid) - before) * 1e6 / max(1, r["rps"] * args.duration)
    return r


def median_run(runs):
    return sorted(runs, key=lambda r: r["rps"])[len(runs) // 2]


def bench_fixed(args, tmp):
    lb, lb_port = start_lb(tmp, LB_CONFIG)
    nginx, nginx_port = start_nginx(tmp)
    nginx_worker = nginx_worker_pid(nginx.pid)
    lb_runs, nginx_runs = [], []
    try:
        time.sleep(0.3)
        idle = rss_kb(lb.pid)
        warm = argparse.Namespace(**{**vars(args), "duration": 1})
        wrk(f"http://127.0.0.1:{lb_port}/", warm)
        wrk(f"http://127.0.0.1:{nginx_port}/", warm)
        # Alternate the two so a noisy moment on the machine hits both alike.
        for _ in range(args.rounds):
            lb_runs.append(measured(f"http://127.0.0.1:{lb_port}/", lb.pid, args))
            nginx_runs.append(measured(f"http://127.0.0.1:{nginx_port}/", nginx_worker, args))
        loaded = rss_kb(lb.pid)
    finally:
        stop(lb)
        stop(nginx)
    r_lb, r_nginx = median_run(lb_runs), median_run(nginx_runs)
    print(f"fixed-response path (wrk -t{args.threads} -c{args.connections} -d{args.duration}s, "
          f"one worker each, median of {args.rounds} alternating runs)")
    print(row("lb fixed-response", r_lb) + f"   {r_lb['cpu_us']:.1f} us CPU/request")
    print(row("nginx return 200", r_nginx) + f"   {r_nginx['cpu_us']:.1f} us CPU/request")
    print(f"  ratio lb/nginx: {r_lb['rps'] / r_nginx['rps']:.2f}x requests/s, "
          f"{r_nginx['cpu_us'] / r_lb['cpu_us']:.2f}x CPU efficiency")
    print(f"  lb RSS: {idle} KB idle, {loaded} KB after the runs")
    bad = sum(r["non2xx"] for r in lb_runs + nginx_runs)
    if bad:
        print(f"  WARNING: {bad} non-2xx responses")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--duration", type=int, default=5)
    ap.add_argument("--connections", type=int, default=50)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    for tool in ("wrk",):
        if not shutil.which(tool):
            sys.exit(f"bench: {tool} is missing (scripts/deps.sh installs it)")
    with tempfile.TemporaryDirectory(prefix="lb-bench-") as tmp:
        bench_fixed(args, tmp)


if __name__ == "__main__":
    main()
