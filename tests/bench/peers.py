"""serverless-offline, the closest peer, for the bench's Lambda section.

peers/package.json pins serverless 3.40.0 and serverless-offline 13.10.1 (the
versions measured in shared/reference/peers.md); `npm ci` installs them into
tests/bench/peers/node_modules when the bench runs (skipped once present,
never global). peers/serverless.yml gives peers/handler.js, the same file lb's
nodejs20.x function runs, an `alb` event on /ok.

It runs with no AWS account: telemetry, notifications and deprecation notices
off, dummy credentials (never used: `offline start` makes no AWS call).
"""
import json
import os
import shutil
import subprocess
import time
import urllib.request

from benchlib import BENCH_DIR, free_port, rss_kb, descendants, stop, wait_port

PEERS_DIR = os.path.join(BENCH_DIR, "peers")
MODULES = os.path.join(PEERS_DIR, "node_modules")
SERVERLESS = os.path.join(MODULES, "serverless", "bin", "serverless.js")
PATH = "/ok"

ENV = {
    "SLS_TELEMETRY_DISABLED": "1",
    "SLS_TRACKING_DISABLED": "1",
    "SLS_NOTIFICATIONS_MODE": "off",
    "SLS_DEPRECATION_DISABLE": "*",
    "SLS_INTERACTIVE_SETUP_DISABLE": "1",
    "AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE",
    "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def installed_versions():
    """{"serverless": "3.40.0", "serverless-offline": "13.10.1"} of what is in node_modules."""
    out = {}
    for name in ("serverless", "serverless-offline"):
        try:
            with open(os.path.join(MODULES, name, "package.json")) as f:
                out[name] = json.load(f)["version"]
        except (OSError, ValueError, KeyError):
            pass
    return out


def ensure_installed():
    """npm ci into peers/node_modules unless the pinned versions are there. None, or why not."""
    with open(os.path.join(PEERS_DIR, "package.json")) as f:
        wanted = json.load(f)["dependencies"]
    if installed_versions() == wanted:
        return None
    if not shutil.which("npm") or not shutil.which("node"):
        return "node/npm are not installed (scripts/deps.sh installs them)"
    print(f"  (installing serverless {wanted['serverless']} and serverless-offline "
          f"{wanted['serverless-offline']} with npm ci into tests/bench/peers/node_modules)", flush=True)
    r = subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=PEERS_DIR,
                       capture_output=True, text=True, timeout=900)
    if r.returncode != 0:
        return "npm ci failed: " + (r.stderr.strip() or r.stdout.strip())[-800:]
    if installed_versions() != wanted:
        return f"npm ci installed {installed_versions()}, not {wanted}"
    return None


class ServerlessOffline:
    """One `serverless offline start` on free ports; in_process adds --useInProcess."""

    def __init__(self, tmp, in_process=False):
        self.in_process = in_process
        self.port = free_port()
        tag = "inprocess" if in_process else "default"
        self.log_path = os.path.join(tmp, f"serverless-offline-{tag}.log")
        cmd = ["node", SERVERLESS, "offline", "start", "--host", "127.0.0.1",
               "--albPort", str(self.port), "--httpPort", str(free_port()),
               "--lambdaPort", str(free_port()), "--websocketPort", str(free_port())]
        if in_process:
            cmd.append("--useInProcess")
        self.log = open(self.log_path, "wb")
        # Its own session, so stopping it reaches anything it started.
        self.proc = subprocess.Popen(cmd, cwd=PEERS_DIR, env={**os.environ, **ENV}, stdin=subprocess.DEVNULL,
                                     stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}{PATH}"

    def wait_ready(self, timeout=90):
        """None once it answers 200 "ok" on /ok, else why not."""
        try:
            wait_port(self.port, timeout=timeout, proc=self.proc)
            deadline = time.time() + 30
            while True:
                try:
                    with urllib.request.urlopen(self.url, timeout=30) as r:
                        body = r.read()
                    if r.status == 200 and body == b"ok":
                        return None
                    return f"GET {PATH} answered {r.status} {body[:100]!r}"
                except OSError:
                    if time.time() > deadline:
                        raise
                    time.sleep(0.2)
        except (RuntimeError, OSError) as e:
            return f"{e}; its output ends with:\n{self.tail()}"

    def tail(self, n=15):
        self.log.flush()
        try:
            with open(self.log_path, errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""

    def pids(self):
        return [self.proc.pid] + descendants(self.proc.pid)

    def rss_kb(self):
        return sum(rss_kb(p) for p in self.pids())

    def stop(self):
        stop(self.proc, group=True)
        self.log.close()
