"""Shared setup for the client tests: third-party software from npm and Debian.

Every test module here drives real third-party code (Express adapters, Powertools,
AWS's own runtime interface client, Chromium) through the real lb. Nothing is installed
globally:

- npm packages go into tests/clients/node_modules, from the committed package.json and
  package-lock.json, with `npm ci` — **the only step that needs the network** (the npm
  registry), and only when node_modules does not already match the lock. A marker file in
  node_modules records what was installed (hash of package.json, package-lock.json and the
  Node version, since aws-lambda-ric compiles a native addon); a flock on .install.lock
  serialises concurrent test runs in one checkout. Everything else runs offline.
- Debian packages come through scripts/deps.sh (LB_DEPS_EXTRA names the extra ones): the
  build tools aws-lambda-ric 3.3.0 needs before `npm ci` (it builds curl and aws-lambda-cpp
  with autotools and cmake, then a node-gyp addon against /usr's Node headers), and
  chromium for the browser test.

Node: the packages here (Playwright, Powertools, aws-lambda-ric's addon) and the functions
(`nodejs20.x`) need Node 20, while Debian 12's own node is 18. node20() is the machine's
node when it is Node 20, else the one lb keeps in its cache (`lb runtime fetch nodejs20.x`,
which tests/run.py runs before any test): every `node` the client tests start, npm ci's
native build included, is that one.

The function code the tests serve lives in tests/clients/functions/<name>/ and finds its
packages the way a deployed Lambda package would: Node resolves `require`/`import` by
walking up from the file to tests/clients/node_modules.
"""
import fcntl
import hashlib
import json
import os
import re
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))

from lbtest import LOG_FIELDS, Lb, LbTestCase, parse_log_line  # noqa: E402,F401 (Lb re-exported)

NODE_MODULES = os.path.join(HERE, "node_modules")
FUNCTIONS = os.path.join(HERE, "functions")
MARKER = os.path.join(NODE_MODULES, ".lb-installed")
LOCK_FILE = os.path.join(HERE, ".install.lock")
RIC_BIN = os.path.join(NODE_MODULES, ".bin", "aws-lambda-ric")

# What aws-lambda-ric 3.3.0's preinstall/postinstall need (reference/lambda-runtime-api.md
# §6.3): autoreconf for curl, cmake for aws-lambda-cpp, g++/make/python3 for node-gyp.
BUILD_DEBS = "autoconf automake libtool cmake g++ make python3 xz-utils"
# Files whose absence means a broken install even when the marker matches.
MUST_EXIST = [
    os.path.join(NODE_MODULES, "express", "package.json"),
    os.path.join(NODE_MODULES, "aws-lambda-ric", "dist", "rapid-client.node"),
]

REGION = "us-east-1"
ACCOUNT = "123456789012"

NETWORK_ERRORS = re.compile(
    r"ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|EHOSTUNREACH|"
    r"network request to .* failed|request to .* failed|socket hang up|"
    r"This is a problem related to network connectivity", re.I)


class ClientEnvError(AssertionError):
    """The environment could not be prepared: failing (not skipping) every test that needs it."""


_lock = threading.RLock()
_result = {}  # what -> None (done) or ClientEnvError (failed; not retried in this run)


def _once(what, fn):
    with _lock:
        if what not in _result:
            try:
                fn()
                _result[what] = None
            except ClientEnvError as e:
                _result[what] = e
        if _result[what] is not None:
            raise _result[what]


def ensure_debs(packages):
    """Installs missing Debian packages through scripts/deps.sh (it needs root or sudo)."""
    def run():
        env = dict(os.environ, LB_DEPS_EXTRA=packages)
        p = subprocess.run(["sh", os.path.join(ROOT, "scripts", "deps.sh")], env=env, cwd=ROOT,
                           capture_output=True, text=True, timeout=1200)
        if p.returncode != 0:
            raise ClientEnvError(f"scripts/deps.sh with LB_DEPS_EXTRA={packages!r} failed "
                                 f"(exit {p.returncode}):\n{p.stdout}{p.stderr}")
    _once("debs:" + packages, run)


def node20():
    """The path of a Node 20 binary: LB_NODE20 (set by tests/run.py), else lb's answer."""
    path = os.environ.get("LB_NODE20")
    if path and os.access(path, os.X_OK):
        return path
    lb = os.environ.get("LB_BIN") or os.path.join(ROOT, "build", "asan", "lb")
    try:
        p = subprocess.run([lb, "runtime", "fetch", "nodejs20.x"], capture_output=True,
                           text=True, timeout=900)
    except OSError as e:
        raise ClientEnvError(f"cannot run {lb} runtime fetch nodejs20.x: {e}")
    if p.returncode != 0:
        raise ClientEnvError("Node 20 is not available: " + p.stderr.strip()[-2000:])
    os.environ["LB_NODE20"] = p.stdout.strip()
    return os.environ["LB_NODE20"]


def node20_env(env=None):
    """env (default os.environ) with Node 20 first on PATH, for npm and scripts that call `node`."""
    env = dict(os.environ if env is None else env)
    env["PATH"] = os.path.dirname(node20()) + os.pathsep + env.get("PATH", "")
    return env


def _wanted():
    h = hashlib.sha256()
    for name in ("package.json", "package-lock.json"):
        with open(os.path.join(HERE, name), "rb") as f:
            h.update(f.read())
    node = subprocess.run([node20(), "--version"], capture_output=True, text=True).stdout.strip()
    h.update(node.encode())
    return h.hexdigest()


def _installed(want):
    try:
        with open(MARKER) as f:
            have = f.read().strip()
    except OSError:
        return False
    return have == want and all(os.path.exists(p) for p in MUST_EXIST)


def _npm_ci():
    want = _wanted()
    if _installed(want):
        return
    with open(LOCK_FILE, "w") as lockf:
        fcntl.flock(lockf, fcntl.LOCK_EX)  # another run in this checkout may be installing
        if _installed(want):
            return
        ensure_debs(BUILD_DEBS)
        # npm and node-gyp run on Node 20, and the addon is built against its headers: the
        # fetched Node ships them in include/node, Debian's and nodesource's in /usr.
        node = node20()
        env = node20_env()
        prefix = os.path.dirname(os.path.dirname(node))
        env["npm_config_nodedir"] = prefix if os.path.exists(
            os.path.join(prefix, "include", "node", "node.h")) else "/usr"
        cmd = ["npm", "ci", "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error"]
        sys.stderr.write("clientenv: npm ci in tests/clients (builds aws-lambda-ric; "
                         "about a minute) ...\n")
        try:
            p = subprocess.run(cmd, cwd=HERE, env=env, capture_output=True, text=True,
                               timeout=1200)
        except subprocess.TimeoutExpired:
            raise ClientEnvError("npm ci in tests/clients did not finish in 20 minutes")
        out = p.stdout + p.stderr
        if p.returncode != 0:
            if NETWORK_ERRORS.search(out):
                registry = subprocess.run(["npm", "config", "get", "registry"], cwd=HERE,
                                          capture_output=True, text=True).stdout.strip()
                raise ClientEnvError(
                    f"the npm registry ({registry}) is unreachable, so the client tests cannot "
                    f"install their packages (npm ci in tests/clients, exit {p.returncode}):\n"
                    + out[-2500:])
            raise ClientEnvError(f"npm ci in tests/clients failed (exit {p.returncode}):\n"
                                 + out[-5000:])
        missing = [p for p in MUST_EXIST if not os.path.exists(p)]
        if missing:
            raise ClientEnvError("npm ci succeeded but left out " + ", ".join(missing)
                                 + " (were install scripts blocked?):\n" + out[-3000:])
        with open(MARKER, "w") as f:
            f.write(want + "\n")


def ensure_node_modules():
    """npm ci into tests/clients/node_modules unless it already matches the lock (network)."""
    _once("npm", _npm_ci)


# --------------------------------------------------------------------------------------
# lb configuration for function tests


def lb_config(functions, multi_value=False, extra_rules=""):
    """functions: [{name, runtime, handler=None, code, command=None, env={}, timeout=10,
    memory=256, paths=None, multi_value=None}].

    Each function gets a target group of the same name and a rule forwarding its paths
    (default /<name> and /<name>/*) to it. Returns (config, rules) for Lb.
    """
    tgs, fns, rules = [], [], []
    for i, f in enumerate(functions):
        mv = multi_value if f.get("multi_value") is None else f["multi_value"]
        tgs.append(f"""
  - name: {f["name"]}
    target_type: lambda
    targets: ["{f["name"]}"]
    attributes:
      lambda.multi_value_headers.enabled: {"true" if mv else "false"}""")
        fn = f"""
  - name: {f["name"]}
    runtime: {f["runtime"]}
    code: {json.dumps(f["code"])}
    timeout: {f.get("timeout", 10)}
    memory_size: {f.get("memory", 256)}
    environment: {{variables: {json.dumps(f.get("env", {}))}}}"""
        if f.get("handler"):
            fn += f"\n    handler: {f['handler']}"
        if f.get("command"):
            fn += f"\n    command: {json.dumps(f['command'])}"
        fns.append(fn)
        paths = f.get("paths") or [f"/{f['name']}", f"/{f['name']}/*"]
        rules.append(f"""  - priority: {i + 1}
    conditions: [{{path_pattern: {{values: {json.dumps(paths)}}}}}]
    actions: [{{type: forward, target_group: {f["name"]}}}]
""")
    config = f"""load_balancer:
  name: client-alb
  region: {REGION}
  account_id: "{ACCOUNT}"
listeners:
  - port: 0
    rules: ["rules/*.yaml"]
    default_actions:
      - type: fixed-response
        fixed_response: {{status_code: "404", content_type: text/plain, message_body: "no rule matched"}}
target_groups:{"".join(tgs)}
functions:{"".join(fns)}
"""
    return config, {"functions.yaml": "rules:\n" + "".join(rules) + extra_rules}


class ClientTestCase(LbTestCase):
    """A test class whose functions use tests/clients/node_modules: setUpClass installs it
    (npm ci, network on the first run only) and fails every test of the class when it can't."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        ensure_node_modules()

    def serve(self, functions, multi_value=False, extra_rules="", files=None):
        config, rules = lb_config(functions, multi_value, extra_rules)
        return self.start(config, rules=rules, files=files)


def access_log_line(lb, path, timeout=5):
    """The parsed access-log line of the last request for path (request target as sent),
    waiting for lb to write it; None when there is none by then."""
    deadline = time.time() + timeout
    while True:
        found = None
        if os.path.exists(lb.access_log_path):
            with open(lb.access_log_path) as f:
                for raw in f:
                    fields = dict(zip(LOG_FIELDS, parse_log_line(raw.rstrip("\n"))))
                    target = fields.get("request", "").split(" ")
                    if len(target) == 3 and target[1].split("/", 3)[-1] == path.lstrip("/"):
                        found = fields | {"_raw": raw}
        if found or time.time() > deadline:
            return found
        time.sleep(0.02)


def fn_dir(name):
    """The committed code directory of a test function: tests/clients/functions/<name>."""
    return os.path.join(FUNCTIONS, name)
