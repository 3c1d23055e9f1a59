"""The HTTPS section of make bench: lb's HTTPS listener against nginx with the same
certificate, the same security policy (ELBSecurityPolicy-TLS13-1-2-2021-06: TLS 1.2
and 1.3, the policy's ciphers in its order, server preference; OpenSSL's default
session cache and tickets on both) and one worker each,
both answering a fixed 200, in alternating rounds:

- HTTP/2: h2load over TLS with ALPN h2 (--h2-clients connections, --h2-streams
  concurrent streams each, --h2-requests requests a round): requests/s and the
  server's CPU time per request;
- keep-alive TLS: wrk over HTTPS/1.1 (--tls-connections): requests/s, p50/p99;
- new handshakes: wrk with `Connection: close`, so every request is a new TCP
  connection and a full TLS handshake (no resumption): handshakes/s.

Each row prints the median round and the ratio lb/nginx. Load generator and servers
share the machine's cores: compare ratios from one run.
"""
import os
import re
import shutil
import subprocess
import time

from benchlib import cpu_seconds, median_run, nginx_worker_pid, row, start_lb, start_nginx, stop, wrk

POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"
# The policy's TLS 1.2 ciphers for an ECDSA certificate, and its TLS 1.3 suites, in order.
TLS12_CIPHERS = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES128-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:" \
                "ECDHE-ECDSA-AES256-SHA384"
TLS13_SUITES = "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256"

LB_TLS_CONFIG = """
load_balancer:
  name: bench
listeners:
  - port: 0
    protocol: HTTPS
    ssl_policy: {policy}
    certificates: [{{certificate: {cert}, private_key: {key}}}]
    rules: []
    default_actions:
      - type: fixed-response
        fixed_response: {{status_code: "200", content_type: text/plain, message_body: "ok"}}
"""

NGINX_TLS = """
worker_processes 1;
daemon off;
pid {dir}/nginx.pid;
error_log {dir}/nginx-error.log;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    keepalive_requests 1000000;
    http2_max_requests 1000000;
    server {{
        listen 127.0.0.1:{port} ssl http2;
        ssl_certificate {cert};
        ssl_certificate_key {key};
        ssl_protocols TLSv1.2 TLSv1.3;
        ssl_ciphers {ciphers};
        ssl_conf_command Ciphersuites {suites};
        ssl_prefer_server_ciphers on;
        ssl_session_cache builtin;
        ssl_session_tickets on;
        location / {{ default_type text/plain; return 200 "ok"; }}
    }}
}}
"""


def add_arguments(ap):
    g = ap.add_argument_group("HTTPS and HTTP/2")
    g.add_argument("--tls-connections", type=int, default=50, help="wrk connections over TLS (50)")
    g.add_argument("--h2-clients", type=int, default=10, help="h2load connections (10)")
    g.add_argument("--h2-streams", type=int, default=10, help="h2load concurrent streams per connection (10)")
    g.add_argument("--h2-requests", type=int, default=None,
                   help="h2load requests per round (100,000; 20,000 with --quick)")
    g.add_argument("--no-tls", action="store_true", help="skip the HTTPS and HTTP/2 section")


def make_cert(folder):
    """A self-signed P-256 certificate for localhost and 127.0.0.1 (openssl CLI)."""
    cert, key = os.path.join(folder, "bench.pem"), os.path.join(folder, "bench.key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-nodes", "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                   check=True, capture_output=True)
    return cert, key


def h2load(url, pid, clients, streams, requests):
    """One h2load run: requests/s, the server's (pid's) CPU microseconds per request,
    and the requests that did not succeed with 2xx."""
    before = cpu_seconds(pid)
    out = subprocess.run(["h2load", "-n", str(requests), "-c", str(clients), "-m", str(streams), url],
                         capture_output=True, text=True, timeout=600).stdout
    rps = float(re.search(r"finished in [\d.]+\w+, ([\d.]+) req/s", out).group(1))
    ok = int(re.search(r"status codes: (\d+) 2xx", out).group(1))
    proto = re.search(r"Application protocol: (\S+)", out)
    return {"rps": rps, "cpu_us": (cpu_seconds(pid) - before) * 1e6 / max(1, requests),
            "bad": requests - ok, "proto": proto.group(1) if proto else "-"}


def wrk_close(url, threads, connections, duration):
    """wrk with Connection: close: a new connection and TLS handshake per request."""
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency",
           "-H", "Connection: close", url]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))}


def run(args, tmp):
    if not shutil.which("h2load"):
        print("HTTPS and HTTP/2: h2load is missing (nghttp2-client; scripts/deps.sh installs it)")
        return
    folder = os.path.join(tmp, "tls")
    os.makedirs(folder, exist_ok=True)
    cert, key = make_cert(folder)
    requests = args.h2_requests or (20000 if args.quick else 100000)
    lb, lb_port = start_lb(folder, LB_TLS_CONFIG.format(policy=POLICY, cert=cert, key=key), name="lb-tls.yaml")
    nginx, nginx_port = start_nginx(tmp, NGINX_TLS, "nginx-tls", cert=cert, key=key, ciphers=TLS12_CIPHERS,
                                    suites=TLS13_SUITES)
    worker = nginx_worker_pid(nginx.pid)
    servers = [("lb", lb.pid, lb_port), ("nginx", worker, nginx_port)]
    runs = {name: {"h2": [], "ka": [], "hs": []} for name, _, _ in servers}
    try:
        time.sleep(0.3)
        for name, pid, port in servers:   # warm-up
            h2load(f"https://127.0.0.1:{port}/", pid, args.h2_clients, args.h2_streams, 2000)
        for _ in range(args.rounds):
            for name, pid, port in servers:
                url = f"https://127.0.0.1:{port}/"
                runs[name]["h2"].append(h2load(url, pid, args.h2_clients, args.h2_streams, requests))
                before = cpu_seconds(pid)
                r = wrk(url, args.threads, args.tls_connections, args.duration)
                r["cpu_us"] = (cpu_seconds(pid) - before) * 1e6 / max(1, r["rps"] * args.duration)
                runs[name]["ka"].append(r)
                runs[name]["hs"].append(wrk_close(url, args.threads, args.tls_connections, args.duration))
    finally:
        stop(lb)
        stop(nginx)
    med = {name: {k: median_run(v) for k, v in kinds.items()} for name, kinds in runs.items()}
    print(f"HTTPS and HTTP/2 ({POLICY}, one P-256 certificate, one worker each, median of "
          f"{args.rounds} alternating runs)")
    print(f" HTTP/2: h2load -n {requests} -c {args.h2_clients} -m {args.h2_streams}")
    for name in ("lb", "nginx"):
        r = med[name]["h2"]
        print(f"  {name:<24} {r['rps']:>10,.0f} req/s   {r['cpu_us']:.1f} us CPU/request   "
              f"(ALPN {r['proto']}, {r['bad']} not 2xx)")
    print(f"  ratio lb/nginx: {med['lb']['h2']['rps'] / med['nginx']['h2']['rps']:.2f}x requests/s")
    print(f" keep-alive TLS: wrk -t{args.threads} -c{args.tls_connections} -d{args.duration}s (HTTP/1.1)")
    for name in ("lb", "nginx"):
        r = med[name]["ka"]
        print(row(name, r) + f"   {r['cpu_us']:.1f} us CPU/request")
    print(f"  ratio lb/nginx: {med['lb']['ka']['rps'] / med['nginx']['ka']['rps']:.2f}x requests/s")
    print(f" new TLS handshakes: wrk -H 'Connection: close' -c{args.tls_connections}")
    for name in ("lb", "nginx"):
        print(f"  {name:<24} {med[name]['hs']['rps']:>10,.0f} handshakes/s")
    print(f"  ratio lb/nginx: {med['lb']['hs']['rps'] / med['nginx']['hs']['rps']:.2f}x handshakes/s")
