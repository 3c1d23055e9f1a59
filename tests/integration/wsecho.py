"""The WebSocket echo target (ws/echo.mjs, npm `ws`) for lb's tests.

npm `ws` goes into tests/integration/ws/node_modules from the committed package.json and
package-lock.json with `npm ci` — the only step that needs the network (the npm
registry), and only when node_modules does not already match the lock: a marker file
records the hash of both files, and a flock on ws/.install.lock serialises concurrent
test runs in one checkout. Nothing is installed globally.

    proc, port = start_echo("w1")   # node ws/echo.mjs; stop with stop_echo(proc)
"""
import fcntl
import hashlib
import os
import subprocess
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
WS_DIR = os.path.join(HERE, "ws")
NODE_MODULES = os.path.join(WS_DIR, "node_modules")
MARKER = os.path.join(NODE_MODULES, ".lb-installed")
ECHO = os.path.join(WS_DIR, "echo.mjs")

_lock = threading.Lock()


class WsEnvError(AssertionError):
    """npm ci could not install ws: the tests that need it fail (they are not skipped)."""


def _wanted():
    h = hashlib.sha256()
    for name in ("package.json", "package-lock.json"):
        with open(os.path.join(WS_DIR, name), "rb") as f:
            h.update(f.read())
    return h.hexdigest()


def _installed(want):
    try:
        with open(MARKER) as f:
            return f.read().strip() == want and os.path.exists(
                os.path.join(NODE_MODULES, "ws", "package.json"))
    except OSError:
        return False


def ensure_ws():
    """npm ci into ws/node_modules unless it already matches the lock (network once)."""
    want = _wanted()
    with _lock:
        if _installed(want):
            return
        with open(os.path.join(WS_DIR, ".install.lock"), "w") as lockf:
            fcntl.flock(lockf, fcntl.LOCK_EX)   # another run in this checkout may be installing
            if _installed(want):
                return
            cmd = ["npm", "ci", "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error"]
            try:
                p = subprocess.run(cmd, cwd=WS_DIR, capture_output=True, text=True, timeout=600)
            except (OSError, subprocess.TimeoutExpired) as e:
                raise WsEnvError(f"npm ci in tests/integration/ws did not run: {e}")
            if p.returncode != 0:
                raise WsEnvError(f"npm ci in tests/integration/ws failed (exit {p.returncode}):\n"
                                 + (p.stdout + p.stderr)[-3000:])
            with open(MARKER, "w") as f:
                f.write(want + "\n")


def start_echo(id="ws", port=0):
    """Starts node ws/echo.mjs; returns (Popen, port)."""
    ensure_ws()
    proc = subprocess.Popen(["node", ECHO, "--id", id, "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    line = proc.stdout.readline()
    if not line.strip().isdigit():
        proc.kill()
        err = proc.communicate()[1]
        raise RuntimeError(f"ws/echo.mjs did not start: {line!r} {err[-2000:]!r}")
    return proc, int(line)


def stop_echo(proc):
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    proc.stdout.close()
    proc.stderr.close()
