#!/usr/bin/env python3
"""Runs every test tier and ends with the line `N passed, N failed`.

  unit         each build/asan/tests/test_* binary (tests/unit/*.c)
  integration  tests/integration/test_*.py against the sanitized ./lb
  clients      tests/clients/test_*.py (real third-party clients)

Usage: tests/run.py --lb build/asan/lb --unit build/asan/tests [-k PATTERN] [--tier T]
The exit status is non-zero when anything failed.
"""
import argparse
import os
import re
import subprocess
import sys
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_unit(unit_dir, pattern):
    passed = failed = 0
    if not os.path.isdir(unit_dir):
        return 0, 0
    for name in sorted(os.listdir(unit_dir)):
        path = os.path.join(unit_dir, name)
        if not name.startswith("test_") or not os.access(path, os.X_OK):
            continue
        if pattern and pattern not in name:
            continue
        proc = subprocess.run([path], cwd=ROOT, capture_output=True, text=True, errors="replace")
        seen = 0
        for line in proc.stdout.splitlines():
            if line.startswith("ok - "):
                passed += 1
                seen += 1
            elif line.startswith("not ok - "):
                failed += 1
                seen += 1
                print(f"FAIL unit/{name}: {line[len('not ok - '):]}")
            elif line.startswith("    also: "):
                print(f"     {line.strip()}")
        # A crash (sanitizer report, abort) counts as one more failure.
        if proc.returncode != 0 and (seen == 0 or "Sanitizer" in proc.stderr or proc.returncode < 0):
            failed += 1
            print(f"FAIL unit/{name}: exit status {proc.returncode}")
            sys.stdout.write(proc.stderr[-4000:])
        print(f"unit/{name}: {seen} tests")
    return passed, failed


class CountingResult(unittest.TextTestResult):
    def __init__(self, *a, **k):
        super().__init__(*a, **k)
        self.npassed = 0

    def addSuccess(self, test):
        super().addSuccess(test)
        self.npassed += 1


def run_python(tier, pattern):
    directory = os.path.join(ROOT, "tests", tier)
    if not os.path.isdir(directory):
        return 0, 0
    loader = unittest.TestLoader()
    if pattern:
        loader.testNamePatterns = [f"*{pattern}*"]
    suite = loader.discover(directory, pattern="test_*.py", top_level_dir=directory)
    if suite.countTestCases() == 0:
        return 0, 0
    runner = unittest.TextTestRunner(stream=sys.stdout, verbosity=1, resultclass=CountingResult)
    result = runner.run(suite)
    failed = len(result.failures) + len(result.errors) + len(result.unexpectedSuccesses)
    print(f"{tier}: {result.npassed} passed, {failed} failed, {len(result.skipped)} skipped")
    return result.npassed, failed


def prefetch_node(lb, majors):
    """Fetches Node majors into lb's cache before any test runs (network on first use only).

    Tests and client tests run functions as nodejs20.x (and the runtime-version tests on
    18, 20 and 22); where the machine's node is another major (Debian 12 ships 18), lb uses
    Node from its cache. Fetching here, once, keeps the download out of every test's
    timeout. LB_NODE20 tells the client tests which node binary is Node 20.
    """
    for major in majors:
        p = subprocess.run([lb, "runtime", "fetch", f"nodejs{major}.x"], capture_output=True,
                           text=True, timeout=900)
        sys.stderr.write(p.stderr)
        if p.returncode == 0 and major == 20:
            os.environ["LB_NODE20"] = p.stdout.strip()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lb", default="build/asan/lb")
    ap.add_argument("--unit", default="build/asan/tests")
    ap.add_argument("-k", dest="pattern", default=None)
    ap.add_argument("--tier", action="append", choices=["unit", "integration", "clients"])
    args = ap.parse_args()
    os.environ["LB_BIN"] = os.path.abspath(os.path.join(ROOT, args.lb))
    os.environ.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0")
    os.environ.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
    tiers = args.tier or ["unit", "integration", "clients"]
    if "integration" in tiers or "clients" in tiers:
        prefetch_node(os.environ["LB_BIN"], [20, 18, 22])
    passed = failed = 0
    for tier in tiers:
        if tier == "unit":
            p, f = run_unit(os.path.join(ROOT, args.unit), args.pattern)
        else:
            p, f = run_python(tier, args.pattern)
        passed += p
        failed += f
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
