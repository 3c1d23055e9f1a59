#!/usr/bin/env python3
"""make bench: lb against baselines on this machine, in one run, under wrk.

1. Fixed-response path: lb's fixed-response rule against nginx `return 200`,
   one worker process each, the same wrk settings, in alternating rounds.
   Prints the median round's requests/s, latency p50/p99, each server's CPU
   time per request, the ratios lb/nginx, and lb's idle and loaded RSS.
2. Proxy path (proxy_bench.py): lb forwarding to an `ip` target group against nginx
   `proxy_pass` (upstream keepalive) and HAProxy (`http-reuse always`), all in front of
   the same nginx `return 200` backend, same wrk settings, alternating rounds; then a
   1 GiB download and upload through each with the proxy's peak RSS. Its docstring says
   what each number means.
3. HTTPS and HTTP/2 (tls_bench.py): lb's HTTPS listener against nginx with the same
   certificate and policy, one worker each: h2load over HTTP/2, keep-alive TLS
   requests/s and new TLS handshakes/s under wrk, with the ratios.
4. Lambda path (lambda_bench.py): lb forwarding to a minimal C custom runtime
   and to the bundled Node runtime, serverless-offline serving the same Node
   handler (peers.py), lb's added latency per invocation, and RSS with warm
   sandboxes. Its docstring says what each number means.

--workers adds lb `workers: 1` and `workers: 2` against nginx with 2 worker processes,
   twice: with wrk as above, then with --pipeline requests pipelined per connection
   (pipeline.lua), where wrk takes a fraction of a core; each pass prints wrk's CPU.

Usage: tests/bench/bench.py [--quick] [--duration 5] [--rounds 3] [--connections 50]
         [--lambda-connections 20] [--iterations 20000] [--c-concurrency 20]
         [--node-concurrency CPUS] [--proxy-connections 50] [--transfer-size 1G]
         [--tls-connections 50] [--h2-clients 10] [--h2-streams 10] [--h2-requests N]
         [--no-fixed] [--no-proxy] [--no-transfer] [--no-tls] [--no-lambda] [--no-peers]
         [--no-inprocess] [--no-latency] [--workers [--pipeline 16]]          (make bench BENCH_ARGS="--quick" passes them through)
Load generator, servers and function processes share the machine (2 cores):
compare ratios measured in the same run, not absolute numbers across runs.
"""
import argparse
import os
import shutil
import sys
import tempfile
import subprocess
import time

from benchlib import (cpu_seconds, measured, median, median_run, nginx_worker_pid, rss_kb, row, start_lb, start_nginx,
                      stop, wrk)
import lambda_bench
import proxy_bench
import tls_bench

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

# The same with the console listening and nobody looking: its cost on the request path.
LB_ADMIN_CONFIG = LB_CONFIG + "admin: {port: 0}\n"

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


def bench_fixed(args, tmp):
    lb, lb_port = start_lb(tmp, LB_CONFIG)
    admin_dir = os.path.join(tmp, "admin")
    os.makedirs(admin_dir, exist_ok=True)
    lba, lba_port = start_lb(admin_dir, LB_ADMIN_CONFIG)
    nginx, nginx_port = start_nginx(tmp, NGINX_CONFIG)
    nginx_worker = nginx_worker_pid(nginx.pid)
    lb_runs, lba_runs, nginx_runs = [], [], []
    wrk_args = (args.threads, args.connections, args.duration)
    try:
        time.sleep(0.3)
        idle = rss_kb(lb.pid)
        for port in (lb_port, lba_port, nginx_port):
            wrk(f"http://127.0.0.1:{port}/", args.threads, args.connections, 1)
        # Alternate the two so a noisy moment on the machine hits both alike.
        for _ in range(args.rounds):
            lb_runs.append(measured(f"http://127.0.0.1:{lb_port}/", lb.pid, *wrk_args))
            lba_runs.append(measured(f"http://127.0.0.1:{lba_port}/", lba.pid, *wrk_args))
            nginx_runs.append(measured(f"http://127.0.0.1:{nginx_port}/", nginx_worker, *wrk_args))
        loaded = rss_kb(lb.pid)
    finally:
        stop(lb)
        stop(lba)
        stop(nginx)
    r_lb, r_lba, r_nginx = median_run(lb_runs), median_run(lba_runs), median_run(nginx_runs)
    print(f"fixed-response path (wrk -t{args.threads} -c{args.connections} -d{args.duration}s, "
          f"one worker each, median of {args.rounds} alternating runs)")
    print(row("lb fixed-response", r_lb) + f"   {r_lb['cpu_us']:.1f} us CPU/request")
    print(row("lb, console on (idle)", r_lba) + f"   {r_lba['cpu_us']:.1f} us CPU/request")
    print(row("nginx return 200", r_nginx) + f"   {r_nginx['cpu_us']:.1f} us CPU/request")
    print(f"  ratio lb/nginx: {r_lb['rps'] / r_nginx['rps']:.2f}x requests/s, "
          f"{r_nginx['cpu_us'] / r_lb['cpu_us']:.2f}x CPU efficiency")
    print(f"  console on/off: {r_lba['rps'] / r_lb['rps']:.2f}x requests/s, "
          f"{r_lb['cpu_us'] / r_lba['cpu_us']:.2f}x CPU efficiency")
    print(f"  lb RSS: {idle} KB idle, {loaded} KB after the runs")
    bad = sum(r["non2xx"] for r in lb_runs + lba_runs + nginx_runs)
    if bad:
        print(f"  WARNING: {bad} non-2xx responses")


# --workers: the same fixed response, lb with workers: 1 and 2, nginx with two worker processes;
# and the same three writing an access log (to /dev/null: each line is made and written, the
# disk is not what is measured).
LB_WORKERS_CONFIG = LB_CONFIG.replace("  name: bench\n", "  name: bench\n  workers: 2\n")
LB_LOG = "  name: bench\n  access_log: /dev/null\n"
NGINX2_CONFIG = NGINX_CONFIG.replace("worker_processes 1;", "worker_processes 2;")
NGINX2_LOG_CONFIG = NGINX2_CONFIG.replace("access_log off;", "access_log /dev/null;")


def measured_group(url, pids, threads, connections, duration, pipeline=1):
    """measured() over several processes (nginx's workers): their CPU summed."""
    before = sum(cpu_seconds(p) for p in pids)
    r = wrk(url, threads, connections, duration, pipeline)
    r["cpu_us"] = (sum(cpu_seconds(p) for p in pids) - before) * 1e6 / max(1, r["rps"] * duration)
    return r


def bench_workers(args, tmp):
    """Three passes, in alternating rounds. With one core per worker and a load generator
    costing c us per request against the server's s, two workers can reach about
    2*s/(c+s) of one on a 2-core machine: wrk's usual one request at a time per
    connection costs about what lb's fixed response does (c ~ s: no gain possible), so
    the second and third passes pipeline --pipeline requests per connection (wrk's cost
    per request falls several times), the third with the access log on (what lb does per
    request grows). Each pass prints the cores wrk left to the servers."""
    started = []

    def start(name, config, nginx=False):
        if nginx:
            proc, port = start_nginx(tmp, config, name=name)
            nginx_worker_pid(proc.pid)
            pids = [int(p) for p in subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True,
                                                   text=True).stdout.split()]
        else:
            folder = os.path.join(tmp, name)
            os.makedirs(folder, exist_ok=True)
            proc, port = start_lb(folder, config)
            pids = [proc.pid]
        started.append(proc)
        return f"http://127.0.0.1:{port}/", pids

    depth = args.pipeline
    passes = [("one request at a time", 1, False)]
    if depth > 1:
        passes += [(f"{depth} requests pipelined per connection", depth, False),
                   (f"{depth} requests pipelined per connection, access log on", depth, True)]
    try:
        servers = {}
        for log in sorted({log for _, _, log in passes}):
            lb_log = (lambda c: c.replace("  name: bench\n", LB_LOG)) if log else (lambda c: c)
            servers[log] = {"1": start(f"w1-{log}", lb_log(LB_CONFIG)),
                            "2": start(f"w2-{log}", lb_log(LB_WORKERS_CONFIG)),
                            "nginx": start(f"nginx2-{log}", NGINX2_LOG_CONFIG if log else NGINX2_CONFIG, True)}
        for group in servers.values():
            for url, _ in group.values():
                wrk(url, args.threads, args.connections, 1)
        runs = {(i, k): [] for i in range(len(passes)) for k in ("1", "2", "nginx")}
        for _ in range(args.rounds):
            for i, (_, pipeline, log) in enumerate(passes):
                for k, (url, pids) in servers[log].items():
                    runs[i, k].append(measured_group(url, pids, args.threads, args.connections,
                                                     args.duration, pipeline))
    finally:
        for proc in started:
            stop(proc)
    for i, (how, pipeline, _) in enumerate(passes):
        r1, r2, rn = (median_run(runs[i, k]) for k in ("1", "2", "nginx"))
        client = median([r["client_cores"] for k in ("1", "2", "nginx") for r in runs[i, k]])
        if i:
            print()
        print(f"workers (wrk -t{args.threads} -c{args.connections} -d{args.duration}s, {how}, fixed response, "
              f"median of {args.rounds} alternating runs)")
        print(f"  wrk used {client:.2f} of the {os.cpu_count()} cores: "
              f"{max(0.0, os.cpu_count() - client):.2f} left to the server")
        print(row("lb workers: 1", r1, latency=pipeline == 1) + f"   {r1['cpu_us']:.1f} us CPU/request")
        print(row("lb workers: 2", r2, latency=pipeline == 1) + f"   {r2['cpu_us']:.1f} us CPU/request")
        print(row("nginx 2 workers", rn, latency=pipeline == 1) + f"   {rn['cpu_us']:.1f} us CPU/request")
        print(f"  lb workers 2/1: {r2['rps'] / r1['rps']:.2f}x requests/s; lb/nginx with 2: "
              f"{r2['rps'] / rn['rps']:.2f}x")
    bad = sum(r["non2xx"] for v in runs.values() for r in v)
    if bad:
        print(f"  WARNING: {bad} non-2xx responses")


def main():
    ap = argparse.ArgumentParser(description="lb's benchmarks (make bench)")
    ap.add_argument("--quick", action="store_true",
                    help="shorter runs: 2 s per wrk run, 1 round, 5,000 latency iterations")
    ap.add_argument("--duration", type=int, default=None, help="seconds per wrk run (5)")
    ap.add_argument("--rounds", type=int, default=None, help="alternating rounds, median reported (3)")
    ap.add_argument("--connections", type=int, default=50, help="wrk connections, fixed-response path")
    ap.add_argument("--threads", type=int, default=1, help="wrk threads")
    lambda_bench.add_arguments(ap)
    proxy_bench.add_arguments(ap)
    tls_bench.add_arguments(ap)
    ap.add_argument("--no-fixed", action="store_true", help="skip the fixed-response section")
    ap.add_argument("--no-proxy", action="store_true", help="skip the proxy-path section")
    ap.add_argument("--no-lambda", action="store_true", help="skip the Lambda-path section")
    ap.add_argument("--workers", action="store_true",
                    help="add the workers section: lb workers 1 and 2 against nginx with 2 workers")
    ap.add_argument("--pipeline", type=int, default=16,
                    help="the workers section's second pass: requests pipelined per connection (16; 1: none)")
    args = ap.parse_args()
    if args.duration is None:
        args.duration = 2 if args.quick else 5
    if args.rounds is None:
        args.rounds = 1 if args.quick else 3
    lambda_bench.resolve_arguments(args)
    for tool in ("wrk",):
        if not shutil.which(tool):
            sys.exit(f"bench: {tool} is missing (scripts/deps.sh installs it)")
    print(f"bench: {os.cpu_count()} cores shared by wrk, the servers and the function processes; "
          f"load average before the run {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory(prefix="lb-bench-") as tmp:
        sections = []
        if not args.no_fixed:
            sections.append(lambda: bench_fixed(args, tmp))
        if args.workers:
            sections.append(lambda: bench_workers(args, tmp))
        if not args.no_proxy:
            sections.append(lambda: proxy_bench.run(args, tmp))
        if not args.no_tls:
            sections.append(lambda: tls_bench.run(args, tmp))
        if not args.no_lambda:
            sections.append(lambda: lambda_bench.run(args, tmp))
        for i, section in enumerate(sections):
            if i:
                print()
            section()
    print(f"bench: load average after the run {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
