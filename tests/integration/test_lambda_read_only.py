"""Read-only code and layers (README "Sandboxes"; src/lambda/spawn.c).

On Lambda a function's code (/var/task) and layers (/opt) are on a read-only file system:
writing there fails with EROFS, only /tmp is writable. lb gives each sandbox a mount
namespace of its own where its code directory (or extracted .zip) and merged layers are
read-only, so a function that writes beside its code fails here as it would there, while
lb and the rest of the machine see the directories unchanged. Where the kernel gives no
namespace, the code stays writable and lb warns once.
"""
import ctypes
import io
import json
import os
import shutil
import subprocess
import tempfile
import unittest
import zipfile

from lambdacommon import NODE, PYTHON, LambdaCase, fn, lambda_config

EROFS = 30

# Tries to write a file in each place the query names; answers {place: "ok" or errno}.
WRITER_PY = """
import json, os
PLACES = {"cwd": lambda: ".", "task": lambda: os.environ["LAMBDA_TASK_ROOT"],
          "layer": lambda: os.environ.get("LB_LAYERS_DIR", "/nonexistent"),
          "tmp": lambda: os.environ["TMPDIR"]}
def handler(event, context):
    out = {}
    for place in event["queryStringParameters"]["places"].split(","):
        try:
            with open(os.path.join(PLACES[place](), "written-" + place), "w") as f:
                f.write("x")
            out[place] = "ok"
        except OSError as e:
            out[place] = e.errno
    return {"statusCode": 200, "body": json.dumps(out)}
"""

WRITER_NODE = """
import fs from 'node:fs';
export const handler = async () => {
  try {
    fs.writeFileSync('written-node', 'x');
    return {statusCode: 200, body: 'ok'};
  } catch (e) {
    return {statusCode: 200, body: e.code};
  }
};
"""


def namespaces_allowed():
    """Whether this machine gives a process a mount namespace, as lb asks for one."""
    cmd = ["unshare", "-m", "true"] if os.geteuid() == 0 else ["unshare", "-r", "-m", "true"]
    return shutil.which("unshare") and subprocess.run(cmd, stderr=subprocess.DEVNULL).returncode == 0


def zip_bytes(files):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name, text in files.items():
            z.writestr(name, text)
    return out.getvalue()


@unittest.skipUnless(namespaces_allowed(), "no mount namespace on this machine")
class ReadOnlyCodeTest(LambdaCase):
    def places(self, lb, path, places):
        r = lb.get(f"{path}?places={places}")
        self.assertEqual(r.status, 200, (r, lb.stderr()[-2000:]))
        return json.loads(r.body)

    def test_code_and_layers_refuse_writes_and_tmp_takes_them(self):
        lb = self.serve([fn("dir", PYTHON, "index.handler", "fn", layers=["layer"]),
                         fn("zipped", PYTHON, "index.handler", "fn.zip"),
                         fn("node", NODE, "index.handler", "fn-node")],
                        {"fn/index.py": WRITER_PY, "layer/python/marker.py": "", "fn.zip": zip_bytes(
                            {"index.py": WRITER_PY}), "fn-node/index.mjs": WRITER_NODE})
        self.assertEqual(self.places(lb, "/dir", "cwd,task,layer,tmp"),
                         {"cwd": EROFS, "task": EROFS, "layer": EROFS, "tmp": "ok"})
        self.assertEqual(self.places(lb, "/zipped", "cwd,task,tmp"), {"cwd": EROFS, "task": EROFS, "tmp": "ok"})
        self.assertEqual(lb.get("/node").body, b"EROFS")
        # the code directories themselves are untouched, and lb may still write there
        self.assertEqual(sorted(os.listdir(os.path.join(lb.dir, "fn"))), ["index.py"])
        self.assertEqual(os.listdir(os.path.join(lb.dir, "fn-node")), ["index.mjs"])
        lb.write("fn/by-lb.txt", "lb still writes here\n")
        self.assertNotIn("stay writable", lb.stderr())

    def test_a_tmpdir_inside_the_code_stays_writable(self):
        code = tempfile.mkdtemp(prefix="lbtest-code-")
        self.addCleanup(shutil.rmtree, code, True)
        with open(os.path.join(code, "index.py"), "w") as f:
            f.write(WRITER_PY)
        os.mkdir(os.path.join(code, "tmp"))
        config, rules = lambda_config([fn("inside", PYTHON, "index.handler", code)])
        lb = self.start(config, rules=rules, env={"TMPDIR": os.path.join(code, "tmp")})
        self.assertEqual(self.places(lb, "/inside", "cwd,tmp"), {"cwd": EROFS, "tmp": "ok"})
        self.assertEqual(sorted(os.listdir(code)), ["index.py", "tmp"])


def enter_user_namespace():
    """In lb's child before exec: a user namespace with no id mapped, where lb cannot map
    its ids into one of its own, so the kernel refuses the sandboxes their namespace."""
    if ctypes.CDLL(None, use_errno=True).unshare(0x10000000) != 0:  # CLONE_NEWUSER
        raise OSError(ctypes.get_errno(), "unshare")


def user_namespaces_allowed():
    return shutil.which("unshare") and subprocess.run(["unshare", "-U", "true"],
                                                      stderr=subprocess.DEVNULL).returncode == 0


@unittest.skipUnless(user_namespaces_allowed(), "no user namespace on this machine")
class NoNamespaceTest(LambdaCase):
    def test_without_a_namespace_code_stays_writable_with_one_warning(self):
        config, rules = lambda_config([fn("a", PYTHON, "index.handler", "fn"),
                                       fn("b", PYTHON, "index.handler", "fn")])
        lb = self.start(config, rules=rules, files={"fn/index.py": WRITER_PY}, preexec=enter_user_namespace)
        for path in ("/a", "/b"):
            r = lb.get(f"{path}?places=cwd,tmp")
            self.assertEqual((r.status, json.loads(r.body)), (200, {"cwd": "ok", "tmp": "ok"}), lb.stderr())
        self.assertTrue(os.path.exists(os.path.join(lb.dir, "fn", "written-cwd")))
        warnings = [line for line in lb.stderr().splitlines() if "stay writable" in line]
        self.assertEqual(warnings, ["lb: warning: functions' code and layers stay writable (on Lambda they are "
                                    "read-only): cannot make a mount namespace for them: Operation not permitted"])


if __name__ == "__main__":
    unittest.main()
