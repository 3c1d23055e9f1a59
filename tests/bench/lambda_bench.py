"""The Lambda path of `make bench`: request -> lb -> Runtime API -> function -> response.

One lb serves three functions behind ALB rules, each a lambda target group:

  /c      provided.al2023, `command:` runtime/bootstrap.c compiled with cc -O2 (a minimal
          custom runtime: one keep-alive connection, /next -> /response with the fixed
          result {"statusCode":200,"body":"ok"}); reserved_concurrent_executions
          --c-concurrency (20 = wrk's connections: every connection can have a warm
          sandbox, lb never queues).
  /node   nodejs20.x, the bundled runtime, peers/handler.js (`async () => ({statusCode:
          200, body: 'ok'})`); reserved_concurrent_executions --node-concurrency (default:
          one per CPU, as a Node process is CPU-bound. More sandboxes than cores add context
          switches and cache misses to every invocation: on the project's 2-core machine 20
          sandboxes gave ~2,400 req/s where 4 gave ~5,700, and 2 cut the Node processes'
          CPU per invocation from 97.6 to 64.2 us against 4. lb queues the requests beyond
          the limit, up to 100 per function, so none fails).
  /c-seq  the same C runtime with concurrency 1: one process, for the latency section.
  other   the listener's default fixed-response (200 "ok"), as a latency reference.

Throughput: wrk -t1 -c20 (the settings peers.md used for serverless-offline) against
/c, /node and serverless-offline serving the same handler (peers.py), default mode
(worker threads) and --useInProcess, in alternating rounds; the median round of each.
While one is measured, the serverless-offline instances not measured are stopped
(SIGSTOP): nothing but the measured system and wrk runs.
CPU per request from /proc/PID/stat: lb's own, the function processes' (lb's children)
and serverless-offline's (its whole process tree). lb writes its function log lines
(START/END/REPORT per invocation) to a file in the temporary directory, and so does
serverless-offline (its per-request lines).

lb's added latency per invocation, defined as in the brief:
  (a) one connection, one request at a time, client -> lb -> C runtime (/c-seq) ->
      client, timed by latency/client.c from its send() to the answer's last byte;
  (b) the same runtime binary served by latency/driver.c instead of lb: a Runtime API
      server that does nothing else, handing it lb's own event (dumped by the runtime
      from lb's first /c-seq event) and timed from the send() of the event to the last
      byte of the /response;
  added = p50(a) - p50(b). It holds lb's whole work for an invocation (HTTP parse,
  routing, event JSON, Runtime API, result decode, response, log lines) and the one
  extra loopback hop a load balancer adds (client <-> lb). The fixed-response row (same
  client, same lb) shows that hop plus lb's front end alone.
Each is measured twice: as the scheduler places the processes, and with all of them on
one CPU (sched_setaffinity, like taskset -c 0). On this 2-vCPU virtual machine a wake-up
of a process on the other CPU costs about 20 us (the driver's round trip is ~15 us on
one CPU, ~50 us across two), so the "as scheduled" numbers depend on where the scheduler
put each process; the one-CPU numbers show the software path without that.
Iterations: --iterations (20,000; 5,000 with --quick) after 1,000 untimed, p50 of each
round, median over --rounds rounds, alternating (a), (b) and the reference.
The driver also runs the bundled Node runtime alone (same event, same handler, one CPU):
its /next -> /next cycle bounds what one Node sandbox can do with no lb and no client.

RSS: lb before any sandbox starts and after the runs with all sandboxes warm; the
sandboxes' own RSS; serverless-offline's (process tree).
"""
import os
import signal
import time

import peers
from benchlib import (BENCH_DIR, NODE_FLAGS, ROOT, children, compile_c, cpu_seconds, median, median_run, row, rss_kb,
                      run_tool, start_lb, stop, wrk)

NODE_CODE = peers.PEERS_DIR          # handler.js, shared with serverless-offline
NODE_RUNTIME = os.path.join(ROOT, "runtimes", "node", "bootstrap.mjs")
LATENCY_WARMUP = 1000

LB_CONFIG = """\
load_balancer:
  name: bench
listeners:
  - port: 0
    rules: ["{tmp}/rules/*.yaml"]
    default_actions:
      - type: fixed-response
        fixed_response: {{status_code: "200", content_type: text/plain, message_body: "ok"}}
target_groups:
  - {{name: c, target_type: lambda, targets: [c]}}
  - {{name: node, target_type: lambda, targets: [node]}}
  - {{name: c-seq, target_type: lambda, targets: [c-seq]}}
functions:
  - name: c
    runtime: provided.al2023
    command: ["{bootstrap}"]
    code: {tmp}/fn-c
    reserved_concurrent_executions: {c_conc}
  - name: node
    runtime: nodejs20.x
    handler: handler.handler
    code: {node_code}
    reserved_concurrent_executions: {node_conc}
  - name: c-seq
    runtime: provided.al2023
    command: ["{bootstrap}"]
    code: {tmp}/fn-c-seq
    reserved_concurrent_executions: 1
    environment: {{variables: {{BENCH_EVENT_DUMP: "{tmp}/event.json"}}}}
"""

RULES = """\
rules:
  - priority: 1
    conditions: [{path_pattern: {values: ["/c"]}}]
    actions: [{type: forward, target_group: c}]
  - priority: 2
    conditions: [{path_pattern: {values: ["/node"]}}]
    actions: [{type: forward, target_group: node}]
  - priority: 3
    conditions: [{path_pattern: {values: ["/c-seq"]}}]
    actions: [{type: forward, target_group: c-seq}]
"""


def add_arguments(ap):
    g = ap.add_argument_group("Lambda path")
    g.add_argument("--lambda-connections", type=int, default=20,
                   help="wrk connections for the Lambda path (20, as peers.md measured serverless-offline)")
    g.add_argument("--iterations", type=int, default=None,
                   help="sequential requests per latency round (20000; 5000 with --quick)")
    g.add_argument("--c-concurrency", type=int, default=20,
                   help="reserved_concurrent_executions of the C runtime function (20)")
    g.add_argument("--node-concurrency", type=int, default=os.cpu_count() or 2,
                   help="reserved_concurrent_executions of the Node function (one per CPU)")
    g.add_argument("--no-peers", action="store_true", help="skip serverless-offline")
    g.add_argument("--no-inprocess", action="store_true", help="skip serverless-offline --useInProcess")
    g.add_argument("--no-latency", action="store_true", help="skip the added-latency measurement")


def resolve_arguments(args):
    if args.iterations is None:
        args.iterations = 5000 if args.quick else 20000


# --- processes --------------------------------------------------------------------------

def sandboxes(lb_pid):
    """{code directory: [pid, ...]} of lb's function processes."""
    out = {}
    for pid in children(lb_pid):
        try:
            out.setdefault(os.readlink(f"/proc/{pid}/cwd"), []).append(pid)
        except OSError:
            pass
    return out


def each_pid(pids, f):
    """f(pid) for each pid, skipping processes that have gone meanwhile."""
    for pid in pids:
        try:
            f(pid)
        except OSError:
            pass


def set_affinity(pids, cpus):
    each_pid(pids, lambda pid: os.sched_setaffinity(pid, cpus))


class System:
    """Something wrk measures: a URL and the processes whose CPU time counts."""

    def __init__(self, name, url, server_pids, function_pids=lambda: []):
        self.name, self.url = name, url
        self.server_pids, self.function_pids = server_pids, function_pids
        self.runs = []

    def measure(self, args, duration):
        servers, functions = self.server_pids(), self.function_pids()
        s0 = sum(cpu_seconds(p) for p in servers)
        f0 = sum(cpu_seconds(p) for p in functions)
        r = wrk(self.url, args.threads, args.lambda_connections, duration)
        n = max(1.0, r["rps"] * duration)
        r["server_us"] = (sum(cpu_seconds(p) for p in servers) - s0) * 1e6 / n
        r["function_us"] = (sum(cpu_seconds(p) for p in functions) - f0) * 1e6 / n
        return r


def signal_all(pids, sig):
    each_pid(pids, lambda pid: os.kill(pid, sig))


def measure_alone(s, systems, args):
    """s's round with the other systems' serverless-offline stopped (SIGSTOP, then SIGCONT):
    idle after its rounds one still used 1.4-8.2% of a CPU (timers, GC), which counted
    against whichever system was being measured. lb's idle sandboxes wait in /next and
    use none. One unmeasured second of load first: what a process stopped meanwhile
    catches up on when it resumes (timers, a garbage collection) is not in the round."""
    others = [p for o in systems if o is not s and hasattr(o, "so") for p in o.so.pids()]
    signal_all(others, signal.SIGSTOP)
    try:
        wrk(s.url, args.threads, args.lambda_connections, 1)
        return s.measure(args, args.duration)
    finally:
        signal_all(others, signal.SIGCONT)


# --- sections ---------------------------------------------------------------------------

def build_tools(tmp):
    tools = {}
    for name, src in (("bootstrap", "runtime/bootstrap.c"), ("driver", "latency/driver.c"),
                      ("client", "latency/client.c")):
        tools[name] = compile_c(os.path.join(BENCH_DIR, src), os.path.join(tmp, name))
    return tools


def latency(args, tools, tmp, lb, port):
    """(a), (b) and the fixed-response reference, as scheduled and on one CPU."""
    n, w = str(args.iterations), str(LATENCY_WARMUP)
    all_cpus = os.sched_getaffinity(0)
    event = os.path.join(tmp, "event.json")
    # Warms /c-seq's sandbox (and makes it dump lb's event for the driver).
    run_tool([tools["client"], str(port), "/c-seq", "200", "0"])
    seq_pids = sandboxes(lb.pid).get(os.path.join(tmp, "fn-c-seq"), [])
    results = {}
    for mode, cpus in (("scheduled", None), ("one_cpu", {min(all_cpus)})):
        if cpus:
            set_affinity([lb.pid] + seq_pids, cpus)
        rounds = {"a": [], "b": [], "fixed": []}
        try:
            for _ in range(args.rounds):
                c0 = cpu_seconds(lb.pid)
                rounds["a"].append(run_tool([tools["client"], str(port), "/c-seq", n, w], cpu=cpus))
                rounds["a"][-1]["lb_cpu_us"] = (cpu_seconds(lb.pid) - c0) * 1e6 / (args.iterations + LATENCY_WARMUP)
                rounds["b"].append(run_tool([tools["driver"], event, n, w, tools["bootstrap"]], cpu=cpus))
                c0 = cpu_seconds(lb.pid)
                rounds["fixed"].append(run_tool([tools["client"], str(port), "/fixed", n, w], cpu=cpus))
                rounds["fixed"][-1]["lb_cpu_us"] = ((cpu_seconds(lb.pid) - c0) * 1e6
                                                    / (args.iterations + LATENCY_WARMUP))
        finally:
            if cpus:
                set_affinity([lb.pid] + seq_pids, all_cpus)
        results[mode] = {
            "a50": median(r["lat_p50_us"] for r in rounds["a"]),
            "a99": median(r["lat_p99_us"] for r in rounds["a"]),
            "a_cpu": median(r["lb_cpu_us"] for r in rounds["a"]),
            "b50": median(r["rtt_p50_us"] for r in rounds["b"]),
            "b99": median(r["rtt_p99_us"] for r in rounds["b"]),
            "cycle50": median(r["cycle_p50_us"] for r in rounds["b"]),
            "f50": median(r["lat_p50_us"] for r in rounds["fixed"]),
            "f99": median(r["lat_p99_us"] for r in rounds["fixed"]),
            "f_cpu": median(r["lb_cpu_us"] for r in rounds["fixed"]),
        }
    # The bundled Node runtime alone, for the throughput section: what one process can do.
    env = {**os.environ, "_HANDLER": "handler.handler", "LAMBDA_TASK_ROOT": NODE_CODE,
           "AWS_LAMBDA_FUNCTION_NAME": "node", "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
           "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128", "AWS_REGION": "us-east-1", "TZ": ":UTC"}
    node = [run_tool([tools["driver"], event, n, w, "node", *NODE_FLAGS, NODE_RUNTIME], env=env, cwd=NODE_CODE,
                     cpu={min(all_cpus)}) for _ in range(args.rounds)]
    results["node_cycle50"] = median(r["cycle_p50_us"] for r in node)
    results["node_rtt50"] = median(r["rtt_p50_us"] for r in node)
    return results


def run(args, tmp):
    tools = build_tools(tmp)
    os.makedirs(os.path.join(tmp, "rules"), exist_ok=True)
    for d in ("fn-c", "fn-c-seq"):
        os.makedirs(os.path.join(tmp, d), exist_ok=True)
    with open(os.path.join(tmp, "rules", "lambda.yaml"), "w") as f:
        f.write(RULES)
    config = LB_CONFIG.format(tmp=tmp, bootstrap=tools["bootstrap"], node_code=NODE_CODE,
                              c_conc=args.c_concurrency, node_conc=args.node_concurrency)

    peer_problem = "skipped (--no-peers)" if args.no_peers else peers.ensure_installed()
    lb_log_path = os.path.join(tmp, "lb-lambda.log")
    lb_log = open(lb_log_path, "wb")
    lb, port = start_lb(tmp, config, name="lb-lambda.yaml", stderr=lb_log)
    sos, so_problems = [], {}
    code_c, code_node = os.path.join(tmp, "fn-c"), NODE_CODE
    try:
        time.sleep(0.3)
        rss_idle = rss_kb(lb.pid)
        base = f"http://127.0.0.1:{port}"
        systems = [
            System(f"lb -> C runtime ({args.c_concurrency} sandboxes)", base + "/c", lambda: [lb.pid],
                   lambda: sandboxes(lb.pid).get(code_c, [])),
            System(f"lb -> Node runtime ({args.node_concurrency} sandboxes)", base + "/node", lambda: [lb.pid],
                   lambda: sandboxes(lb.pid).get(code_node, [])),
        ]
        if peer_problem is None:
            modes = [False] if args.no_inprocess else [False, True]
            for in_process in modes:
                so = peers.ServerlessOffline(tmp, in_process)
                sos.append(so)
                problem = so.wait_ready()
                name = "serverless-offline" + (" --useInProcess" if in_process else " (worker threads)")
                if problem:
                    so_problems[name] = problem
                    so.stop()
                    continue
                systems.append(System(name, so.url, so.pids))
                systems[-1].so = so
        # Warm-up: starts every sandbox, lets Node's JIT settle in each process.
        for s in systems:
            wrk(s.url, args.threads, args.lambda_connections, 1 if "C runtime" in s.name else 3)
        for _ in range(args.rounds):
            for s in systems:
                s.runs.append(measure_alone(s, systems, args))
        so_rss = {s.name: s.so.rss_kb() for s in systems if hasattr(s, "so")}
        for so in sos:
            so.stop()         # idle, it still uses a few % of a CPU (timers, GC)
        lat = None if args.no_latency else latency(args, tools, tmp, lb, port)
        rss_warm = rss_kb(lb.pid)
        sb_rss = {d: [rss_kb(p) for p in pids] for d, pids in sandboxes(lb.pid).items()}
        lb_alive = lb.poll() is None
    finally:
        for so in sos:
            so.stop()
        stop(lb)
        lb_log.close()
    if not lb_alive:
        raise RuntimeError(f"lb exited during the Lambda bench (see {lb_log_path})")
    report(args, systems, so_problems, peer_problem, lat, rss_idle, rss_warm, sb_rss, so_rss,
           code_c, code_node, os.path.join(tmp, "fn-c-seq"))


def report(args, systems, so_problems, peer_problem, lat, rss_idle, rss_warm, sb_rss, so_rss,
           code_c, code_node, code_seq):
    print(f"Lambda path (wrk -t{args.threads} -c{args.lambda_connections} -d{args.duration}s, median of "
          f"{args.rounds} alternating runs; {os.cpu_count()} cores shared by wrk, lb and the function "
          f"processes)")
    res = {s.name: median_run(s.runs) for s in systems}
    width = max(len(s.name) for s in systems) + 1
    for s in systems:
        r = res[s.name]
        rps = [x["rps"] for x in s.runs]
        spread = f" (runs {min(rps):,.0f}-{max(rps):,.0f})" if len(rps) > 1 else ""
        cpu = (f"CPU/request: lb {r['server_us']:.1f} us + functions {r['function_us']:.1f} us"
               if s.name.startswith("lb") else f"CPU/request: {r['server_us']:.1f} us (its process tree)")
        print(row(s.name, r, width) + "   " + cpu + spread)
    if peer_problem:
        print(f"  serverless-offline: not measured: {peer_problem}")
    for name, why in so_problems.items():
        print(f"  {name}: not measured: {why}")
    node = res[systems[1].name]
    so_default = next((res[s.name] for s in systems if "worker threads" in s.name), None)
    so_inproc = next((res[s.name] for s in systems if "useInProcess" in s.name), None)
    if so_default:
        ratio = node["rps"] / so_default["rps"]
        line = (f"  ratio lb/serverless-offline, same Node handler: {ratio:.1f}x requests/s "
                f"(target >= 10x: {'met' if ratio >= 10 else 'NOT met'})")
        if so_inproc:
            line += f"; {node['rps'] / so_inproc['rps']:.1f}x against its --useInProcess"
        print(line)
        print(f"  lb with the C runtime / serverless-offline: "
              f"{res[systems[0].name]['rps'] / so_default['rps']:.1f}x")
    if lat:
        cyc = lat["node_cycle50"]
        print(f"  the Node runtime alone (bench driver, one process, one CPU): {cyc:.1f} us per invocation "
              f"(p50 /next -> /next): at most ~{1e6 / cyc:,.0f}/s per core with no lb and no client")
    bad = sum(r["non2xx"] + r["sock_errors"] for s in systems for r in s.runs)
    if bad:
        print(f"  WARNING: {bad} non-2xx answers or socket errors")

    if lat:
        s, o = lat["scheduled"], lat["one_cpu"]
        print()
        print(f"lb's added latency per invocation (one connection, one request at a time; p50 of "
              f"{args.iterations:,} exchanges, median of {args.rounds} rounds)")
        print(f"  {'':<50} {'as scheduled':>13} {'one CPU':>10}")
        print(f"  {'(a) client -> lb -> C runtime -> client':<50} {s['a50']:>10.1f} us {o['a50']:>7.1f} us")
        print(f"  {'(b) the same C runtime alone (bench Runtime API)':<50} {s['b50']:>10.1f} us "
              f"{o['b50']:>7.1f} us")
        added_s, added_o = s["a50"] - s["b50"], o["a50"] - o["b50"]
        verdict = lambda us: "met" if us < 100 else "NOT met"
        print(f"  {'lb added latency = (a) - (b)':<50} {added_s:>10.1f} us {added_o:>7.1f} us"
              f"   target < 100 us: {verdict(added_s)} as scheduled, {verdict(added_o)} on one CPU")
        print(f"  {'lb fixed-response, same client (the hop alone)':<50} {s['f50']:>10.1f} us "
              f"{o['f50']:>7.1f} us")
        print(f"  {'p99 of (a)':<50} {s['a99']:>10.1f} us {o['a99']:>7.1f} us")
        print(f"  {'p99 of (b)':<50} {s['b99']:>10.1f} us {o['b99']:>7.1f} us")
        print(f"  {'lb CPU per request, through the C runtime':<50} {s['a_cpu']:>10.1f} us {o['a_cpu']:>7.1f} us")
        print(f"  {'lb CPU per request, fixed response':<50} {s['f_cpu']:>10.1f} us {o['f_cpu']:>7.1f} us")
        print("  (b) is the driver's event -> /response round trip. 'one CPU' pins client, lb, runtime and")
        print("  driver to one CPU. A wake-up across CPUs costs ~20 us on this VM and (a) has two more of")
        print("  them than (b), so 'as scheduled' varies with where the scheduler puts each process;")
        print("  'one CPU' is lb's own cost.")

    def sb_line(code, label):
        v = sb_rss.get(code, [])
        return f"{label} {len(v)} x {sum(v) / max(1, len(v)) / 1024:.1f} MB" if v else f"{label} none"

    print()
    nsb = sum(len(v) for v in sb_rss.values())
    print(f"RSS: lb {rss_idle:,} KB before any sandbox, {rss_warm:,} KB with {nsb} warm sandboxes after the "
          f"runs; sandboxes: {sb_line(code_c, 'C')}, {sb_line(code_node, 'Node')}, "
          f"{sb_line(code_seq, 'C (latency)')}")
    if so_rss:
        print("     " + ", ".join(f"{name} {kb / 1024:.0f} MB" for name, kb in so_rss.items()))
