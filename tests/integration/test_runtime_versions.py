"""Runtime versions: nodejsNN.x runs Node NN, python3.N prefers python3.N (DESIGN.md §18).

Functions on nodejs18.x, nodejs20.x and nodejs22.x report process.version through lb; a
Node major the machine lacks comes from lb's cache (XDG_CACHE_HOME respected); a missing
one with no registry reachable is one log line and Lambda's init-failure answer (502);
python3.N falls back to python3 with one warning; interpreters are asked when a
configuration is loaded, never on a request. setUpClass makes sure Nodes 18, 20 and
22 are in the cache (tests/run.py has normally fetched them already: network once).
"""
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import unittest

from lbtest import LB_BIN, LbTestCase

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lambdacommon import PAGE_502, fn, lambda_config, pid_alive, wait_for  # noqa: E402

NODE_FN = """export const handler = async () => ({
  statusCode: 200, headers: {"content-type": "application/json"},
  body: JSON.stringify({version: process.version, execPath: process.execPath,
                        executionEnv: process.env.AWS_EXECUTION_ENV,
                        pathFirst: process.env.PATH.split(":")[0]}),
});
"""
PY_FN = """import json, sys
def handler(event, context):
    return {"statusCode": 200, "headers": {"content-type": "application/json"},
            "body": json.dumps({"version": list(sys.version_info[:2])})}
"""
# npm pointed at a closed local port, no retries: what an offline machine looks like to lb.
OFFLINE = {"npm_config_registry": "http://127.0.0.1:9/", "npm_config_fetch_retries": "0",
           "npm_config_fetch_timeout": "5000"}


def run_lb(*args, env=None):
    p = subprocess.run([LB_BIN, *args], capture_output=True, text=True, timeout=120, env=env)
    return p.returncode, p.stdout, p.stderr


def fetch(*runtimes):
    p = subprocess.run([LB_BIN, "runtime", "fetch", *runtimes], capture_output=True, text=True,
                       timeout=900)
    if p.returncode != 0:
        raise AssertionError("lb runtime fetch failed:\n" + p.stderr)
    return p.stdout.split()


class RuntimeVersions(LbTestCase):
    @classmethod
    def setUpClass(cls):
        cls.nodes = dict(zip((18, 20, 22), fetch("nodejs18.x", "nodejs20.x", "nodejs22.x")))

    def serve(self, functions, files, env=None):
        config, rules = lambda_config(functions)
        return self.start(config, rules=rules, files=files, env=env)

    def body(self, lb, path):
        r = lb.get(path)
        self.assertEqual(r.status, 200, r)
        return json.loads(r.body)

    def test_each_nodejs_runtime_runs_its_major(self):
        files = {"fn/index.mjs": NODE_FN}
        lb = self.serve([fn(f"n{m}", f"nodejs{m}.x") for m in (18, 20, 22)], files)
        for m in (18, 20, 22):
            got = self.body(lb, f"/n{m}")
            self.assertTrue(got["version"].startswith(f"v{m}."), got)
            self.assertEqual(got["executionEnv"], f"AWS_Lambda_nodejs{m}.x")
            if f"/lb/node-{m}/" in self.nodes[m]:
                # a cached Node's bin folder comes first on PATH, as Lambda's /var/lang/bin
                self.assertEqual(got["pathFirst"], os.path.dirname(self.nodes[m]), got)

    def test_runtime_which_names_a_node_of_that_major(self):
        for m, path in self.nodes.items():
            self.assertTrue(os.path.isabs(path), path)
            v = subprocess.run([path, "--version"], capture_output=True, text=True).stdout
            self.assertTrue(v.startswith(f"v{m}."), (path, v))
            code, out, err = run_lb("runtime", "which", f"nodejs{m}.x")
            self.assertEqual((code, out.strip()), (0, path), err)

    def test_cache_follows_xdg_cache_home(self):
        # A "Node 97" in a private cache that is really Node 20: lb must run that file.
        with tempfile.TemporaryDirectory() as cache:
            node = os.path.join(cache, "lb", "node-97", "bin", "node")
            os.makedirs(os.path.dirname(node))
            with open(node, "w") as f:
                f.write(f"#!/bin/sh\nexec '{self.nodes[20]}' \"$@\"\n")
            os.chmod(node, 0o755)
            lb = self.serve([fn("n97", "nodejs97.x")], {"fn/index.mjs": NODE_FN},
                            env={"XDG_CACHE_HOME": cache})
            got = self.body(lb, "/n97")
            self.assertTrue(got["version"].startswith("v20."), got)
            code, out, _ = run_lb("runtime", "which", "nodejs97.x")
            self.assertNotEqual(out.strip(), node)  # the default cache has no Node 97

    def test_which_says_what_runs_a_provided_runtime(self):
        code, out, err = run_lb("runtime", "which", "provided.al2023")
        self.assertEqual((code, out), (1, ""))
        self.assertIn("provided.al2023 has no interpreter to fetch or find: the function's own "
                      "bootstrap", err)
        code, out, err = run_lb("runtime", "which", "ruby3.3")
        self.assertEqual((code, out), (1, ""))
        self.assertIn("'ruby3.3' is not a nodejsNN.x or python3.N runtime", err)

    def test_unavailable_node_is_one_line_and_an_init_failure(self):
        with tempfile.TemporaryDirectory() as cache:
            env = dict(OFFLINE, XDG_CACHE_HOME=cache)
            lb = self.serve([fn("n96", "nodejs96.x"), fn("py", "python3.11")],
                            {"fn/index.mjs": NODE_FN, "fn/index.py": PY_FN}, env=env)
            r = lb.get("/n96")
            self.assertEqual((r.status, r.body), (502, PAGE_502))
            self.assertEqual(lb.log_lines(1)[0]["error_reason"], "LambdaUnhandled")
            self.assertEqual(lb.get("/py").status, 200)  # the others keep serving
            err = lb.stderr()
            self.assertRegex(err, r"lb: error: nodejs96\.x: Node 96 is not available")
            self.assertRegex(err, r"function n96: nodejs96\.x needs Node 96, but the local node "
                                  r"is \S+ and the cache has no Node 96 \(run 'lb runtime fetch "
                                  r"nodejs96\.x'")
            code, out, err = run_lb("runtime", "fetch", "nodejs96.x",
                                    env=dict(os.environ, **env))
            self.assertEqual((code, out), (1, ""))
            self.assertRegex(err, r"lb: cannot fetch Node 96: ")

    def test_python_minor_falls_back_to_python3_with_one_warning(self):
        lb = self.serve([fn("a", "python3.99"), fn("b", "python3.99"), fn("c", "python3.11")],
                        {"fn/index.py": PY_FN})
        local = self.body(lb, "/c")["version"]
        self.assertEqual(local[0], 3)
        self.assertEqual(self.body(lb, "/a")["version"][0], 3)
        self.assertEqual(self.body(lb, "/b")["version"][0], 3)
        warnings = re.findall(r"lb: warning: python3\.99 is not installed: python3 \(Python "
                              r"3\.\d+\.\d+\) runs the python3\.99 functions", lb.stderr())
        self.assertEqual(len(warnings), 1, lb.stderr())

    def test_interpreters_are_asked_at_load_not_on_a_request(self):
        # Fake python3.42 and python3.43 that record each probe (-c) and each run: a probe
        # started by a cold start would stall lb's whole event loop while it runs.
        with tempfile.TemporaryDirectory() as bin_dir:
            calls = os.path.join(bin_dir, "calls")
            for minor in (42, 43):
                path = os.path.join(bin_dir, f"python3.{minor}")
                with open(path, "w") as f:
                    f.write(f'#!/bin/sh\nif [ "$1" = -c ]; then echo probe{minor} >> "{calls}"; '
                            f'echo {minor}; exit 0; fi\necho run{minor} >> "{calls}"\n'
                            f'exec python3 "$@"\n')
                os.chmod(path, 0o755)

            def seen():
                if not os.path.exists(calls):
                    return []
                with open(calls) as f:
                    return f.read().split()

            files = {"fn/index.py": PY_FN}
            lb = self.serve([fn("a", "python3.42"), fn("b", "python3.42")], files,
                            env={"PATH": bin_dir + ":" + os.environ["PATH"]})
            self.assertEqual(seen(), ["probe42"])   # once, before lb listened
            self.assertEqual(self.body(lb, "/a")["version"][0], 3)
            self.assertEqual(self.body(lb, "/b")["version"][0], 3)
            self.assertEqual(seen(), ["probe42", "run42", "run42"])
            # A reload asks only about the version it has not seen, before it is served.
            config, rules = lambda_config([fn("a", "python3.42"), fn("c", "python3.43")])
            lb.write("lb.yaml", config)
            lb.write("rules/lambda.yaml", rules["lambda.yaml"])
            lb.signal(signal.SIGHUP)
            for _ in range(500):
                if "reloaded " in lb.stderr():
                    break
                time.sleep(0.02)
            self.assertIn("reloaded ", lb.stderr())
            self.assertEqual(seen(), ["probe42", "run42", "run42", "probe43"])
            self.assertEqual(self.body(lb, "/c")["version"][0], 3)
            self.assertEqual(seen(), ["probe42", "run42", "run42", "probe43", "run43"])

    def test_a_hanging_interpreter_probe_is_stopped(self):
        # A python3.45 that never answers its probe (and has started a child that holds
        # its output open): lb waited for it as long as it hung, before listening and
        # at each reload. It gets 2 seconds, then it and its child are killed and
        # reaped, one line says so, and python3 serves the python3.45 functions.
        with tempfile.TemporaryDirectory() as bin_dir:
            pids = os.path.join(bin_dir, "pids")
            path = os.path.join(bin_dir, "python3.45")
            with open(path, "w") as f:
                f.write(f'#!/bin/sh\necho $$ >> "{pids}"\nsleep 30 &\necho $! >> "{pids}"\nwait\n')
            os.chmod(path, 0o755)
            t0 = time.time()
            lb = self.serve([fn("h", "python3.45")], {"fn/index.py": PY_FN},
                            env={"PATH": bin_dir + ":" + os.environ["PATH"]})
            self.assertLess(time.time() - t0, 15)
            self.assertEqual(self.body(lb, "/h")["version"][0], 3)
            err = lb.stderr()
            self.assertEqual(re.findall(r"^lb: warning: python3\.45 did not answer within 2 seconds: "
                                        r"stopped; it counts as not installed$", err, re.M),
                             ["lb: warning: python3.45 did not answer within 2 seconds: stopped; "
                              "it counts as not installed"], err)
            self.assertRegex(err, r"lb: warning: python3\.45 is not installed: python3 \(Python "
                                  r"3\.\d+\.\d+\) runs the python3\.45 functions")
            with open(pids) as f:
                started = [int(p) for p in f.read().split()]
            self.assertEqual(len(started), 2, started)
            self.assertTrue(wait_for(lambda: not any(pid_alive(p) for p in started)), started)

    def test_runtime_names_need_their_version(self):
        with tempfile.TemporaryDirectory() as d:
            os.mkdir(os.path.join(d, "fn"))
            config, _ = lambda_config([fn("f", "nodejs")])
            with open(os.path.join(d, "lb.yaml"), "w") as f:
                f.write(config)
            code, _, err = run_lb("check", "-c", os.path.join(d, "lb.yaml"))
            self.assertEqual(code, 1)
            self.assertIn("runtime 'nodejs' is not supported (use nodejsNN.x, python3.N", err)


if __name__ == "__main__":
    unittest.main()
