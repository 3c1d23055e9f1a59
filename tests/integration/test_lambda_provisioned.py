"""Provisioned concurrency and ephemeral storage (DESIGN.md §18).

provisioned_concurrent_executions on a version or alias: lb initializes that
many sandboxes at start, as Lambda does ahead of demand
(AWS_LAMBDA_INITIALIZATION_TYPE=provisioned-concurrency, no Init Duration in
REPORT), keeps them past the idle timeout, replaces one that dies, and spills
over to on-demand sandboxes when they are all busy. Each sandbox has its own
/tmp (TMPDIR), removed with it.
"""
import json
import os
import signal
import tempfile
import threading
import unittest

from lambdacommon import PYTHON, LambdaCase, fn, lambda_config, pid_alive, tg, wait_for
from lbtest import run_lb

# Module code runs at init: it leaves a marker naming the process and how it was initialized,
# in the test's directory (the code's parent; the code itself is read-only, as on Lambda).
FUNC = """
import json, os, time
root = os.path.dirname(os.environ["LAMBDA_TASK_ROOT"])
with open(os.path.join(root, "init-%d" % os.getpid()), "w") as f:
    f.write(os.environ["AWS_LAMBDA_INITIALIZATION_TYPE"])
def handler(event, context):
    if event["path"].endswith("/hold"):
        deadline = time.time() + 20
        while not os.path.exists(os.path.join(root, "release")) and time.time() < deadline:
            time.sleep(0.02)
    tmp = os.environ["TMPDIR"]
    with open(os.path.join(tmp, "scratch"), "w") as f:
        f.write("x")
    return {"statusCode": 200, "body": json.dumps({
        "pid": os.getpid(), "init": os.environ["AWS_LAMBDA_INITIALIZATION_TYPE"], "tmp": tmp})}
"""


def inits(lb):
    d = lb.dir
    out = {}
    for name in os.listdir(d):
        if name.startswith("init-"):
            with open(os.path.join(d, name)) as f:
                out[int(name[5:])] = f.read()
    return out


def sandboxes(lb):
    """The pids of lb's live child processes: its sandboxes' runtimes."""
    out = set()
    for name in os.listdir("/proc"):
        try:
            with open(f"/proc/{name}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[0] != "Z" and int(fields[1]) == lb.proc.pid:
            out.add(int(name))
    return out


class Provisioned(LambdaCase):
    def serve_provisioned(self, count=2, env=None):
        self.tmp = tempfile.mkdtemp(prefix="lb-prov-")
        f = fn("pc", PYTHON, versions=[{"version": "1", "provisioned_concurrent_executions": count}],
               reserved_concurrent_executions=3)
        text, rules = lambda_config([f], [tg("pc", "pc:1")])
        e = {"TMPDIR": self.tmp, "LB_LAMBDA_IDLE_SECONDS": "1"}
        e.update(env or {})
        return self.start(text, rules=rules, files={"fn/index.py": FUNC}, env=e)

    def test_sandboxes_initialized_at_start_and_kept(self):
        lb = self.serve_provisioned(2)
        self.assertTrue(wait_for(lambda: len(inits(lb)) == 2, 20), inits(lb))
        self.assertEqual(set(inits(lb).values()), {"provisioned-concurrency"})
        r = lb.get("/pc")
        self.assertEqual(r.status, 200, r)
        body = json.loads(r.body)
        self.assertIn(body["pid"], inits(lb))
        self.assertEqual(body["init"], "provisioned-concurrency")
        m = self.wait_stderr(lb, r"^\[pc:1\] REPORT RequestId: .*$")
        self.assertNotIn("Init Duration", m.group(0))
        # past the (1 s) idle timeout, provisioned sandboxes are still there
        wait_for(lambda: False, timeout=2.5)
        self.assertTrue(all(pid_alive(p) for p in inits(lb)), inits(lb))
        self.assertEqual(len(inits(lb)), 2)

    def test_spill_over_to_on_demand_when_all_busy(self):
        lb = self.serve_provisioned(2)
        self.assertTrue(wait_for(lambda: len(inits(lb)) == 2, 20), inits(lb))
        results = []
        threads = [threading.Thread(target=lambda: results.append(lb.get("/pc/hold")))
                   for _ in range(3)]
        for t in threads:
            t.start()
        self.assertTrue(wait_for(lambda: len(inits(lb)) == 3, 20), inits(lb))
        open(os.path.join(lb.dir, "release"), "w").close()
        for t in threads:
            t.join()
        self.assertEqual([r.status for r in results], [200] * 3)
        kinds = sorted(json.loads(r.body)["init"] for r in results)
        self.assertEqual(kinds, ["on-demand", "provisioned-concurrency", "provisioned-concurrency"])

    def test_a_provisioned_sandbox_that_dies_is_replaced(self):
        lb = self.serve_provisioned(1)
        self.assertTrue(wait_for(lambda: len(inits(lb)) == 1, 20), inits(lb))
        self.assertEqual(lb.get("/pc").status, 200)
        first = next(iter(inits(lb)))
        os.kill(first, signal.SIGKILL)
        self.assertTrue(wait_for(lambda: len(inits(lb)) == 2, 20), inits(lb))
        second = [p for p in inits(lb) if p != first][0]
        self.assertEqual(inits(lb)[second], "provisioned-concurrency")
        self.assertEqual(json.loads(lb.get("/pc").body)["pid"], second)

    def test_each_sandbox_has_its_own_tmp_removed_with_it(self):
        lb = self.serve_provisioned(2)
        self.assertTrue(wait_for(lambda: len(inits(lb)) == 2, 20), inits(lb))
        results = []
        threads = [threading.Thread(target=lambda: results.append(lb.get("/pc/hold")))
                   for _ in range(2)]
        for t in threads:
            t.start()
        wait_for(lambda: False, timeout=0.5)
        open(os.path.join(lb.dir, "release"), "w").close()
        for t in threads:
            t.join()
        tmps = {json.loads(r.body)["tmp"] for r in results}
        self.assertEqual(len(tmps), 2, tmps)
        for t in tmps:
            self.assertEqual(os.path.dirname(t), self.tmp)
            self.assertTrue(os.path.basename(t).startswith("lb-tmp-"), t)
            self.assertTrue(os.path.exists(os.path.join(t, "scratch")))
        lb.stop()
        self.assertEqual([e for e in os.listdir(self.tmp) if e.startswith("lb-tmp-")], [])
        os.rmdir(self.tmp)

    def test_a_burst_of_reloads_settles_on_the_provisioned_sandboxes(self):
        # Each reload lands while the previous one's provisioned sandboxes still initialize.
        slow_init = FUNC.replace("import json, os, time", "import json, os, time\ntime.sleep(0.5)")
        f = fn("pc", PYTHON, versions=[{"version": "1", "provisioned_concurrent_executions": 2}],
               reserved_concurrent_executions=4)
        text, rules = lambda_config([f], [tg("pc", "pc:1")])
        lb = self.start(text, rules=rules, files={"fn/index.py": slow_init})
        self.assertTrue(wait_for(lambda: len(inits(lb)) == 2, 20), inits(lb))
        most, before = 0, len(lb.stderr())
        for _ in range(8):
            lb.signal(signal.SIGHUP)
            most = max(most, len(sandboxes(lb)))
            wait_for(lambda: False, timeout=0.05)
        self.assertTrue(wait_for(lambda: "lb: reloaded " in lb.stderr()[before:]), lb.stderr())

        def settled():
            nonlocal most
            live = sandboxes(lb)
            most = max(most, len(live))
            return len(live) == 2 and live <= set(inits(lb)) and live
        live = wait_for(settled, 30)
        self.assertTrue(live, (sandboxes(lb), inits(lb)))
        self.assertLessEqual(most, 4)   # the function's concurrency
        r = lb.get("/pc")
        self.assertEqual(r.status, 200, r)
        self.assertIn(json.loads(r.body)["pid"], live)
        m = self.wait_stderr(lb, r"^\[pc:1\] REPORT RequestId: .*$")
        self.assertNotIn("Init Duration", m.group(0))
        self.assertEqual(sandboxes(lb), live)

    def test_more_than_the_function_concurrency_is_refused(self):
        f = fn("pc", PYTHON, versions=[{"version": "1", "provisioned_concurrent_executions": 2}],
               aliases=[{"name": "live", "function_version": "1",
                         "provisioned_concurrent_executions": 2}],
               reserved_concurrent_executions=3)
        text, rules = lambda_config([f], [tg("pc", "pc:live")])
        with tempfile.TemporaryDirectory() as d:
            with open(os.path.join(d, "lb.yaml"), "w") as out:
                out.write(text)
            os.makedirs(os.path.join(d, "fn"))
            os.makedirs(os.path.join(d, "rules"))
            with open(os.path.join(d, "rules", "lambda.yaml"), "w") as out:
                out.write(rules["lambda.yaml"])
            status, _, stderr = run_lb("check", "-c", "lb.yaml", cwd=d)
        self.assertEqual(status, 1, stderr)
        self.assertRegex(stderr, r"lb\.yaml:\d+:\d+: provisioned concurrency 4 is over the "
                                   r"function's concurrency 3")


if __name__ == "__main__":
    unittest.main()
