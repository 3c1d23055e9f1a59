"""The proxy path of `make bench`: client -> proxy -> HTTP target.

Three reverse proxies forward to the same backend, one worker/process/thread each:

  nginx     `proxy_pass` to an upstream with a `keepalive` pool, proxy_http_version 1.1
            and `Connection ""` (so backend connections are reused, as ALB reuses them);
  HAProxy   Debian's haproxy, nbthread 1, `http-reuse always`;
  lb        a `target_type: ip` target group with the one backend as its target
            (DESIGN.md §13), forwarded to by the listener's default action.
nginx and HAProxy also set X-Forwarded-For/-Proto/-Port, which lb adds as ALB does, so
the three do comparable work per request.

Throughput: the backend is nginx `return 200 "ok"` (one worker). wrk -t1 -c50 -d5s
(the fixed-response section's settings) on / of each proxy, alternating rounds, the
median round of each; requests/s, latency p50/p99 and the proxy process's CPU time per
request (/proc/PID/stat). The backend alone is measured the same way as a reference:
no proxy can beat it. Ratios: lb / the better of nginx and HAProxy.

Transfers: 1 GiB downloaded (/bytes?n=...) and uploaded (PUT /upload, Content-Length,
no Expect) through each proxy, with curl as the client and tests/integration/backend.py
(a process of its own) as the target, where /bytes and /upload route; the download's
SHA-256 and the upload's length and SHA-256 (computed by the backend) are checked. The
proxy's peak RSS during each transfer is sampled every 10 ms, beside the kernel's own
high-water mark (VmHWM, reset before each transfer). Issue 7 bounds lb's at 40 MB.
nginx streams both ways there (proxy_buffering and proxy_request_buffering off), as
HAProxy and lb do, so all three hold a bounded window rather than spooling to disk.

lb cannot forward to HTTP targets before that work lands: when it refuses the config or
answers GET / with anything but 200 "ok", the section prints "lb: not available
(<reason>)" and still measures nginx and HAProxy.
"""
import hashlib
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request

from benchlib import (ROOT, PeakRss, free_port, measured, median_run, nginx_worker_pid, row, start_lb,
                      start_nginx, stop, wait_port, wrk)

sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
import backend as test_backend  # noqa: E402  (the integration tests' HTTP target)
from backendwire import parse_size, pattern_sha256  # noqa: E402

BACKEND_NGINX = """
worker_processes 1;
daemon off;
pid {dir}/nginx.pid;
error_log {dir}/error.log;
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

NGINX_PROXY = """
worker_processes 1;
daemon off;
pid {dir}/nginx.pid;
error_log {dir}/error.log;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    keepalive_requests 1000000;
    upstream small {{ server 127.0.0.1:{backend}; keepalive 64; keepalive_requests 1000000; }}
    upstream big {{ server 127.0.0.1:{big}; keepalive 8; }}
    proxy_http_version 1.1;
    proxy_set_header Connection "";
    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    proxy_set_header X-Forwarded-Proto $scheme;
    proxy_set_header X-Forwarded-Port $server_port;
    server {{
        listen 127.0.0.1:{port};
        location / {{ proxy_pass http://small; }}
        location ~ ^/(bytes|upload)$ {{
            proxy_pass http://big;
            proxy_buffering off;
            proxy_request_buffering off;
            client_max_body_size 0;
        }}
    }}
}}
"""

HAPROXY = """
global
    nbthread 1
    maxconn 4096
defaults
    mode http
    timeout connect 10s
    timeout client 60s
    timeout server 60s
    option forwardfor
    http-reuse always
frontend fe
    bind 127.0.0.1:{port}
    http-request set-header X-Forwarded-Proto http
    http-request set-header X-Forwarded-Port %[dst_port]
    use_backend big if {{ path /bytes /upload }}
    default_backend small
backend small
    server s1 127.0.0.1:{backend}
backend big
    server b1 127.0.0.1:{big}
"""

LB_CONFIG = """\
load_balancer:
  name: bench
listeners:
  - port: 0
    rules: ["{tmp}/proxy-rules/*.yaml"]
    default_actions:
      - {{type: forward, target_group: web}}
target_groups:
  - name: web
    target_type: ip
    protocol: HTTP
    port: {backend}
    targets: [{{id: 127.0.0.1, port: {backend}}}]
    attributes: {{load_balancing.algorithm.type: round_robin, stickiness.enabled: false}}
    health_check: {{enabled: true, path: /health, interval: 5, timeout: 2, healthy_threshold: 2, unhealthy_threshold: 2, matcher: "200"}}
  - name: big
    target_type: ip
    protocol: HTTP
    port: {big}
    targets: [{{id: 127.0.0.1, port: {big}}}]
    health_check: {{enabled: true, path: /health, interval: 5, timeout: 2, healthy_threshold: 2, unhealthy_threshold: 2, matcher: "200"}}
"""

LB_RULES = """\
rules:
  - priority: 1
    conditions: [{path_pattern: {values: ["/bytes", "/upload"]}}]
    actions: [{type: forward, target_group: big}]
"""

LB_RSS_LIMIT_KB = 40 * 1000   # issue 7: "stays under 40 MB"


def add_arguments(ap):
    g = ap.add_argument_group("proxy path")
    g.add_argument("--proxy-connections", type=int, default=50, help="wrk connections, proxy path (50)")
    g.add_argument("--transfer-size", default="1G", help="bytes per download and upload (1G)")
    g.add_argument("--no-transfer", action="store_true", help="skip the download and upload")


class Proxy:
    """One system wrk measures: a name, a port and the pid whose CPU and RSS count."""

    def __init__(self, name, proc, port, pid):
        self.name, self.proc, self.port, self.pid = name, proc, port, pid
        self.runs, self.transfers = [], {}

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"


def start_haproxy(tmp, backend, big):
    """haproxy -db (foreground, one process, one thread); (process, port) or (None, reason)."""
    exe = shutil.which("haproxy") or "/usr/sbin/haproxy"
    if not os.path.exists(exe):
        return None, "haproxy is not installed (scripts/deps.sh installs it)"
    port = free_port()
    conf = os.path.join(tmp, "haproxy.cfg")
    with open(conf, "w") as f:
        f.write(HAPROXY.format(port=port, backend=backend, big=big))
    log = open(os.path.join(tmp, "haproxy.log"), "wb")
    proc = subprocess.Popen([exe, "-db", "-f", conf], stdout=log, stderr=log)
    try:
        wait_port(port, proc=proc)
    except RuntimeError as e:
        stop(proc)
        with open(os.path.join(tmp, "haproxy.log"), errors="replace") as f:
            return None, f"{e}: {f.read().strip()[-300:]}"
    return proc, port


def start_lb_proxy(tmp, backend, big):
    """lb forwarding to the ip target groups; (process, port) or (None, reason)."""
    os.makedirs(os.path.join(tmp, "proxy-rules"), exist_ok=True)
    with open(os.path.join(tmp, "proxy-rules", "rules.yaml"), "w") as f:
        f.write(LB_RULES)
    err_path = os.path.join(tmp, "lb-proxy.stderr")
    with open(err_path, "wb") as err:
        try:
            lb, port = start_lb(tmp, LB_CONFIG.format(tmp=tmp, backend=backend, big=big),
                                name="lb-proxy.yaml", stderr=err)
        except (RuntimeError, OSError) as e:
            with open(err_path, errors="replace") as f:
                text = f.read().strip()
            return None, (text.splitlines()[-1] if text else str(e)).replace(tmp + os.sep, "").strip()
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as r:
            status, body = r.status, r.read()
    except urllib.error.HTTPError as e:
        status, body = e.code, e.read()
    except OSError as e:
        status, body = None, str(e).encode()
    if status != 200 or body != b"ok":
        stop(lb)
        return None, f"GET / answered {status} {body[:60]!r}, not 200 \"ok\""
    return lb, port


def download(proxy, size, want_sha):
    """curl the pattern through the proxy; (seconds, ok, detail)."""
    sha, n = hashlib.sha256(), 0
    t0 = time.time()
    p = subprocess.Popen(["curl", "-sS", "--fail", f"{proxy.url}/bytes?n={size}"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    for piece in iter(lambda: p.stdout.read(1 << 20), b""):
        sha.update(piece)
        n += len(piece)
    err = p.stderr.read().decode(errors="replace").strip()
    rc = p.wait()
    p.stdout.close()
    p.stderr.close()
    seconds = time.time() - t0
    ok = rc == 0 and n == size and sha.hexdigest() == want_sha
    return seconds, ok, "" if ok else f"curl exit {rc}, {n} bytes, {err[:120]}"


def upload(proxy, path, size, want_sha):
    """curl -T a file of size zero bytes through the proxy; (seconds, ok, detail)."""
    t0 = time.time()
    p = subprocess.run(["curl", "-sS", "--fail", "-H", "Expect:", "-T", path, f"{proxy.url}/upload"],
                       capture_output=True, text=True)
    seconds = time.time() - t0
    want = f'"len": {size}, "sha256": "{want_sha}"'
    ok = p.returncode == 0 and want in p.stdout
    return seconds, ok, "" if ok else f"curl exit {p.returncode}: {(p.stdout + p.stderr).strip()[:120]}"


def transfers(proxies, size, tmp):
    zeros = os.path.join(tmp, "upload.bin")
    with open(zeros, "wb") as f:
        f.truncate(size)   # sparse: size bytes of zeros, no disk space
    sha = hashlib.sha256()
    block = bytes(1 << 20)
    for _ in range(size >> 20):
        sha.update(block)
    sha.update(bytes(size & ((1 << 20) - 1)))
    want_up, want_down = sha.hexdigest(), pattern_sha256(size)
    for p in proxies:
        with PeakRss(p.pid) as rss:
            result = download(p, size, want_down)
        p.transfers["download"] = result + (rss,)
        with PeakRss(p.pid) as rss:
            result = upload(p, zeros, size, want_up)
        p.transfers["upload"] = result + (rss,)
    os.unlink(zeros)


def run(args, tmp):
    conns = args.proxy_connections
    wrk_args = (args.threads, conns, args.duration)
    started, proxies = [], []
    lb_problem = haproxy_problem = None
    big_proc = None
    try:
        backend, backend_port = start_nginx(tmp, BACKEND_NGINX, "backend")
        started.append(backend)
        big_proc, big_port = test_backend.spawn("big")
        direct = Proxy("backend direct", backend, backend_port, nginx_worker_pid(backend.pid))
        nginx, port = start_nginx(tmp, NGINX_PROXY, "proxy", backend=backend_port, big=big_port)
        started.append(nginx)
        proxies.append(Proxy("nginx proxy_pass", nginx, port, nginx_worker_pid(nginx.pid)))
        haproxy, port = start_haproxy(tmp, backend_port, big_port)
        if haproxy is None:
            haproxy_problem = port
        else:
            started.append(haproxy)
            proxies.append(Proxy("haproxy", haproxy, port, haproxy.pid))
        lb, port = start_lb_proxy(tmp, backend_port, big_port)
        if lb is None:
            lb_problem = port
        else:
            started.append(lb)
            proxies.append(Proxy("lb forward", lb, port, lb.pid))
        measured_systems = [direct] + proxies
        time.sleep(0.3)
        for s in measured_systems:
            wrk(s.url + "/", args.threads, conns, 1)
        # Alternate the systems so a noisy moment on the machine hits all alike.
        for _ in range(args.rounds):
            for s in measured_systems:
                s.runs.append(measured(s.url + "/", s.pid, *wrk_args))
        if not args.no_transfer:
            transfers(proxies, parse_size(args.transfer_size), tmp)
    finally:
        for p in reversed(started):
            stop(p)
        if big_proc is not None:
            stop(big_proc)
            big_proc.stdout.close()
    report(args, direct, proxies, haproxy_problem, lb_problem)


def report(args, direct, proxies, haproxy_problem, lb_problem):
    print(f"proxy path (wrk -t{args.threads} -c{args.proxy_connections} -d{args.duration}s on / through "
          f"each proxy to nginx return 200, one worker/process each, median of {args.rounds} "
          f"alternating runs)")
    for s in [direct] + proxies:
        r = median_run(s.runs)
        print(row(s.name, r) + f"   {r['cpu_us']:.1f} us CPU/request")
        bad = sum(x["non2xx"] + x["sock_errors"] for x in s.runs)
        if bad:
            print(f"    WARNING: {bad} non-2xx answers or socket errors")
    if haproxy_problem:
        print(f"  haproxy: not available ({haproxy_problem})")
    if lb_problem:
        print(f"  lb: not available ({lb_problem})")
    by_name = {p.name: median_run(p.runs) for p in proxies}
    peers = {k: v for k, v in by_name.items() if k != "lb forward"}
    if "lb forward" in by_name and peers:
        best = max(peers, key=lambda k: peers[k]["rps"])
        lb_r, best_r = by_name["lb forward"], peers[best]
        print(f"  ratio lb/max(nginx, haproxy) = lb/{best}: {lb_r['rps'] / best_r['rps']:.2f}x requests/s, "
              f"{best_r['cpu_us'] / lb_r['cpu_us']:.2f}x CPU efficiency (issue 7 target: >= 0.9x requests/s)")
    if args.no_transfer:
        return
    size = parse_size(args.transfer_size)
    print(f"\ntransfers of {size / (1 << 20):,.0f} MiB through each proxy (curl; backend.py as the target), "
          f"the proxy's peak RSS sampled every 10 ms / kernel high-water mark")
    for p in proxies:
        for kind in ("download", "upload"):
            seconds, ok, detail, rss = p.transfers[kind]
            hwm = f"{rss.hwm_kb:,} KB" if rss.hwm_kb is not None else "n/a"
            status = f"{size / seconds / 1e6:7.0f} MB/s" if ok else f"FAILED ({detail})"
            print(f"  {p.name:<18} {kind:<8} {seconds:6.2f} s {status}   peak RSS {rss.sampled_kb:,} KB / {hwm}")
        if p.name == "lb forward":
            peak = max(max(r[3].sampled_kb, r[3].hwm_kb or 0) for r in p.transfers.values())
            if not all(r[1] for r in p.transfers.values()):
                print(f"  lb peak RSS {peak:,} KB, not judged against issue 7's 40 MB: a transfer failed")
            else:
                verdict = "under" if peak < LB_RSS_LIMIT_KB else "OVER"
                print(f"  lb peak RSS {peak:,} KB: {verdict} the 40 MB bound of issue 7")
