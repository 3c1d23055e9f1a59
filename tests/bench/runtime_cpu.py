#!/usr/bin/env python3
"""CPU per invocation of lb's bundled runtime clients, measured with no lb at all.

    python3 tests/bench/runtime_cpu.py [--runtimes node,python,c] [--iterations N]
                                       [--rounds R] [--callgrind]

Each runtime is served by the bench's Runtime API driver (latency/driver.c): one
connection, an ALB event as lb sends it (body and headers) on every /next, lb's 202 on
every /response. The handler returns {"statusCode": 200, "body": "ok"} (Node:
peers/handler.js, the bench's handler; Python: the same in a file of its own; c: the
bench's minimal C runtime, runtime/bootstrap.c, as a floor).

A run of N invocations and a run of 1 are measured; their difference divided by N-1
leaves out start-up and handler loading:

- CPU: user + system time of the driver and the runtime (getrusage of the children),
  in us per invocation; the driver's own share is what the c row shows.
- --callgrind: the runtime runs under valgrind --tool=callgrind and the figure is
  instructions (Ir) per invocation, the runtime process alone. It does not depend on the
  machine's load, so it is the figure to compare on a busy machine. (Node's JIT makes it
  a little noisier than Python's interpreter; use --iterations of a few thousand.)

The median over --rounds rounds is printed, with the spread.
"""
import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile

from benchlib import NODE_FLAGS

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(BENCH_DIR))

# An ALB event the shape and size of lb's (a GET with the usual browser-ish headers).
EVENT = (
    '{"requestContext":{"elb":{"targetGroupArn":"arn:aws:elasticloadbalancing:us-east-1:'
    '123456789012:targetgroup/node/0123456789abcdef"}},"httpMethod":"GET","path":"/node",'
    '"queryStringParameters":{},"headers":{"accept":"*/*","host":"127.0.0.1:8080",'
    '"user-agent":"wrk","x-amzn-trace-id":"Root=1-5f84c7a5-c1a2b3c4d5e6f7a8b9c0d1e2",'
    '"x-forwarded-for":"127.0.0.1","x-forwarded-port":"8080","x-forwarded-proto":"http"},'
    '"body":"","isBase64Encoded":false}'
)
RUNTIMES = os.path.join(ROOT, "runtimes")
PY_HANDLER = 'def handler(event, context):\n    return {"statusCode": 200, "body": "ok"}\n'


def build(tmp):
    tools = {}
    for name, src in (("driver", "latency/driver.c"), ("bootstrap", "runtime/bootstrap.c")):
        out = os.path.join(tmp, name)
        subprocess.run(["cc", "-O2", "-Wall", "-o", out, os.path.join(BENCH_DIR, src)], check=True)
        tools[name] = out
    with open(os.path.join(tmp, "event.json"), "w") as f:
        f.write(EVENT)
    os.makedirs(os.path.join(tmp, "py"), exist_ok=True)
    with open(os.path.join(tmp, "py", "handler.py"), "w") as f:
        f.write(PY_HANDLER)
    return tools


def runtime_cmd(name, tools):
    """(argv, task root) of one runtime."""
    if name == "node":
        return [shutil.which("node") or "node", *NODE_FLAGS, os.path.join(RUNTIMES, "node", "bootstrap.mjs")], \
            os.path.join(BENCH_DIR, "peers")
    if name == "python":
        py = shutil.which("python3.11") or shutil.which("python3")
        return [py, "-u", os.path.join(RUNTIMES, "python", "bootstrap.py")], None
    return [tools["bootstrap"]], None


def one_run(tools, tmp, name, n, callgrind):
    """CPU seconds (driver + runtime) and, with callgrind, the runtime's Ir, for n invocations."""
    argv, task_root = runtime_cmd(name, tools)
    task_root = task_root or os.path.join(tmp, "py")
    out = os.path.join(tmp, f"cg.{name}.{n}")
    if callgrind:
        argv = ["valgrind", "--tool=callgrind", "--smc-check=all", f"--callgrind-out-file={out}"] + argv
    env = {**os.environ, "_HANDLER": "handler.handler", "LAMBDA_TASK_ROOT": task_root,
           "AWS_LAMBDA_FUNCTION_NAME": name, "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
           "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128", "AWS_REGION": "us-east-1", "TZ": ":UTC",
           "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/" + name,
           "AWS_LAMBDA_LOG_STREAM_NAME": "2026/01/01/[$LATEST]0123456789abcdef"}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run([tools["driver"], os.path.join(tmp, "event.json"), str(n), "0"] + argv,
                   env=env, cwd=task_root, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, timeout=3600)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    ir = None
    if callgrind:
        with open(out) as f:
            for line in f:
                if line.startswith("summary:") or line.startswith("totals:"):
                    ir = int(line.split()[1])
        os.unlink(out)
    return cpu, ir


def median(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2] if len(xs) % 2 else (xs[len(xs) // 2 - 1] + xs[len(xs) // 2]) / 2


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runtimes", default="node,python,c")
    ap.add_argument("--iterations", type=int, default=None, help="20000 (2000 with --callgrind)")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--callgrind", action="store_true")
    ap.add_argument("--runtimes-dir", default=os.path.join(ROOT, "runtimes"),
                    help="the runtime clients to measure (runtimes/; another copy to compare)")
    args = ap.parse_args()
    global RUNTIMES
    RUNTIMES = os.path.abspath(args.runtimes_dir)
    n = args.iterations or (2000 if args.callgrind else 20000)
    with tempfile.TemporaryDirectory(prefix="lb-rtcpu-") as tmp:
        tools = build(tmp)
        for name in args.runtimes.split(","):
            cpus, irs = [], []
            for _ in range(args.rounds):
                c1, i1 = one_run(tools, tmp, name, 1, args.callgrind)
                cn, i_n = one_run(tools, tmp, name, n + 1, args.callgrind)
                cpus.append((cn - c1) * 1e6 / n)
                if args.callgrind:
                    irs.append((i_n - i1) / n)
            line = f"{name:<7} CPU {median(cpus):7.1f} us/invocation (rounds {min(cpus):.1f}-{max(cpus):.1f})"
            if irs:
                line += f"   Ir {median(irs):>10,.0f}/invocation (rounds {min(irs):,.0f}-{max(irs):,.0f})"
            print(line + f"   [{n} invocations, {args.rounds} rounds]", flush=True)


if __name__ == "__main__":
    sys.exit(main())
