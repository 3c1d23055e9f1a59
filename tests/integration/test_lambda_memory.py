"""memory_size enforced as Lambda does (DESIGN.md §18): an environment whose
processes together go over the function's memory size is killed; the
invocation fails with Runtime.ExitError "signal: killed" (502 at the ALB),
REPORT shows the whole size used, and the next request gets a fresh sandbox.
"""
import json
import re
import unittest

from lambdacommon import NODE, PYTHON, UUID, LambdaCase, fn, pid_alive, wait_for

HUNGRY = """
import os, subprocess, sys
held = []
def handler(event, context):
    mb = int((event.get("queryStringParameters") or {}).get("mb", "0"))
    if event["path"].endswith("/hold"):
        # each invocation is quick and keeps what it took
        held.append(b"x" * (mb << 20))
        return {"statusCode": 200, "body": "pid %d holds %d MB" % (os.getpid(), sum(map(len, held)) >> 20)}
    if event["path"].endswith("/child"):
        # the memory is taken by a process the function starts
        p = subprocess.Popen([sys.executable, "-c",
                              "import time; x = b'x' * (%d << 20); time.sleep(60)" % mb])
        # beside the code: the code itself is read-only, as on Lambda
        with open(os.path.join(os.path.dirname(os.environ["LAMBDA_TASK_ROOT"]), "child.pid"), "w") as f:
            f.write(str(p.pid))
        p.wait()
        return {"statusCode": 200, "body": "child done"}
    data = b"x" * (mb << 20)   # written, so resident
    return {"statusCode": 200, "body": "pid %d held %d MB" % (os.getpid(), len(data) >> 20)}
"""

EXIT_NODE = """
export const handler = async () => { process.exit(1); };
"""


class Memory(LambdaCase):
    def serve_hungry(self, memory_size):
        return self.serve([fn("hungry", PYTHON, memory_size=memory_size)], {"fn/index.py": HUNGRY})

    def test_over_memory_size_kills_the_sandbox(self):
        lb = self.serve_hungry(128)
        r = lb.get("/hungry/small?mb=10")
        self.assertEqual(r.status, 200, r)
        pid1 = int(r.body.split()[1])

        r = lb.get("/hungry/big?mb=300")
        detail = self.assert_502(lb, r, "/hungry/big?mb=300", "LambdaUnhandled", "hungry")
        m = re.fullmatch(r'\{"errorMessage":"RequestId: (%s) Error: Runtime exited with error: '
                         r'signal: killed","errorType":"Runtime.ExitError"\}' % UUID, detail)
        self.assertIsNotNone(m, detail)
        self.wait_stderr(lb, r"^lb: warning: \[hungry\] memory \d+ MB over memory_size 128 MB: "
                             r"killing the sandbox$")
        # REPORT names the cause, as Lambda's does: Runtime.OutOfMemory
        self.wait_stderr(lb, r"^\[hungry\] RequestId: %s Error: Runtime exited with error: signal: killed\n"
                             r"\[hungry\] Runtime\.ExitError\n\[hungry\] END RequestId: %s\n"
                             r"\[hungry\] REPORT RequestId: %s\t.*\tMemory Size: 128 MB\t"
                             r"Max Memory Used: 128 MB\tStatus: error\tError Type: Runtime\.OutOfMemory$"
                             % ((m.group(1),) * 3))
        self.assertTrue(wait_for(lambda: not pid_alive(pid1)), pid1)

        r = lb.get("/hungry/again?mb=10")
        self.assertEqual(r.status, 200, r)
        self.assertNotEqual(int(r.body.split()[1]), pid1)

    def test_runtime_dying_in_its_first_invocation_reports_its_memory(self):
        # Lambda's REPORT shows the environment's peak even when the runtime died; lb
        # read it from /proc after the process was gone and showed 0 MB.
        lb = self.serve([fn("exiter", NODE, memory_size=512)], {"fn/index.mjs": EXIT_NODE})
        self.assert_502(lb, lb.get("/exiter/x"), "/exiter/x", "LambdaUnhandled", "exiter")
        m = self.wait_stderr(lb, r"^\[exiter\] REPORT RequestId: %s\t.*\tMemory Size: 512 MB\t"
                                 r"Max Memory Used: (\d+) MB" % UUID)
        self.assertGreater(int(m.group(1)), 0, m.group(0))
        self.assertLessEqual(int(m.group(1)), 512, m.group(0))

    def test_quick_invocations_that_keep_memory_are_seen(self):
        # Each invocation takes well under the 100 ms sampling interval: the samples
        # must not start over with each one (they did, and the sandbox grew unchecked).
        lb = self.serve_hungry(128)
        pids, answers = set(), []
        for _ in range(40):
            r = lb.get("/hungry/hold?mb=16")
            answers.append(r.status)
            if r.status == 200:
                pids.add(int(r.body.split()[1]))
            if len(pids) > 1:
                break
        self.wait_stderr(lb, r"^lb: warning: \[hungry\] memory \d+ MB over memory_size 128 MB: "
                             r"killing the sandbox$")
        self.assertEqual(len(pids), 2, answers)
        # no sandbox was reported over its size
        for m in re.finditer(r"Max Memory Used: (\d+) MB", lb.stderr()):
            self.assertLessEqual(int(m.group(1)), 128, m.group(0))

    def test_within_memory_size_is_left_alone(self):
        lb = self.serve_hungry(512)
        r = lb.get("/hungry/big?mb=200")
        self.assertEqual(r.status, 200, r)
        self.assertIn(b"held 200 MB", r.body)
        m = self.wait_stderr(lb, r"^\[hungry\] REPORT RequestId: .*\tMemory Size: 512 MB\t"
                                 r"Max Memory Used: (\d+) MB")
        self.assertTrue(200 <= int(m.group(1)) < 512, m.group(0))

    def test_processes_the_function_starts_count(self):
        lb = self.serve_hungry(128)
        r = lb.get("/hungry/child?mb=300")
        detail = self.assert_502(lb, r, "/hungry/child?mb=300", "LambdaUnhandled", "hungry")
        self.assertIn("signal: killed", json.loads(detail)["errorMessage"])
        with open(lb.dir + "/child.pid") as f:
            child = int(f.read())
        self.assertTrue(wait_for(lambda: not pid_alive(child)), child)


if __name__ == "__main__":
    unittest.main()
