"""A function's code as a .zip file, as Lambda deploys it (README "Lambda targets": code).

`code:` may name a .zip file: lb checks at load that its central directory reads (a
garbage or truncated file is an error at lb.yaml's line and column) and, at a version's
first cold start, extracts it into a private directory under $TMPDIR that is the task root
(LAMBDA_TASK_ROOT, the handler's directory, the working directory) — with layer .zip's rules:
no entry outside it, modes kept (a custom runtime's bootstrap stays executable), and
Lambda's unzipped limit of 262144000 bytes for the code and the layers together. A failure
fails the invocation with one line on stderr. A reload (SIGHUP) extracts a changed zip again,
so it runs, and reuses the extraction of an unchanged one; an extracted directory goes when
its zip changed or no configuration names it and no sandbox uses it, and at exit. SAM's CodeUri, a CDK asset and Terraform's filename may name a zip,
and `lb export cloudformation` carries one across.

The zips are built here with zipfile, as `zip -r` would make them on Unix.
"""
import hashlib
import io
import json
import os
import re
import shutil
import signal
import stat
import tempfile
import threading
import unittest
import zipfile

from lambdacommon import (NODE, PROVIDED, PYTHON, LambdaCase, SharedLbCase, fn, lambda_config, tg,
                          wait_for)
from lbtest import run_lb
from test_lambda_layers import zip_of_zeros
from test_stack import STACK, StackLb, lb_run


def make_zip(entries):
    """Zip bytes: entries maps name -> text, or (text, mode); a name ending in / is a
    directory entry. Made on Unix (create_system 3, modes in the external attributes)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, value in entries.items():
            text, mode = value if isinstance(value, tuple) else (value, 0o644)
            info = zipfile.ZipInfo(name)
            info.create_system = 3
            if name.endswith("/"):
                info.external_attr = (stat.S_IFDIR | 0o755) << 16
                z.writestr(info, "")
                continue
            info.external_attr = (stat.S_IFREG | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, text)
    return out.getvalue()


def zip_dir(path):
    """A directory zipped with its modes, as `cd path && zip -r`."""
    entries = {}
    for top, dirs, files in os.walk(path):
        for name in sorted(files):
            full = os.path.join(top, name)
            with open(full) as f:
                entries[os.path.relpath(full, path)] = (f.read(), os.stat(full).st_mode & 0o777)
    return make_zip(entries)


def ok_handler(answer):
    return f"def handler(e, c):\n    return {{'statusCode': 200, 'body': {answer!r}}}\n"


PY_INDEX = """
import os, sys
from pkg import mod

def handler(event, context):
    with open(os.path.join(os.path.dirname(__file__), "data", "word.txt")) as f:
        word = f.read().strip()
    return {"statusCode": 200, "body": __import__("json").dumps({
        "mod": mod.VALUE, "word": word, "task_root": os.environ["LAMBDA_TASK_ROOT"],
        "cwd": os.getcwd(), "file": __file__, "sys_path0": sys.path[0],
        "layers": os.environ.get("LB_LAYERS_DIR"), "from_layer": _from_layer()})}

def _from_layer():
    try:
        import layered
        return layered.VALUE
    except ImportError:
        return None
"""

PY_ZIP = make_zip({
    "index.py": PY_INDEX,
    "pkg/": None,
    "pkg/__init__.py": "",
    "pkg/mod.py": "VALUE = 'module in a subdirectory of the zip'\n",
    "data/word.txt": "zipped\n",
})

NODE_ZIP = make_zip({
    "index.js": """
const greet = require('./lib/greet');
const pad = require('leftpad');
exports.handler = async () => ({
  statusCode: 200,
  body: JSON.stringify({ greet: greet('zip'), pad: pad('7', 3), taskRoot: process.env.LAMBDA_TASK_ROOT,
                         cwd: process.cwd(), dir: __dirname }),
});
""",
    "lib/greet.js": "module.exports = (n) => `hello ${n} from lib/greet.js`;\n",
    "node_modules/leftpad/package.json": '{"name": "leftpad", "main": "index.js"}',
    "node_modules/leftpad/index.js": "module.exports = (s, n) => s.padStart(n, '0');\n",
})

BOOTSTRAP = r"""#!/usr/bin/env python3
import http.client, json, os, stat
api = os.environ["AWS_LAMBDA_RUNTIME_API"]
here = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(here, "lib", "answer.txt")) as f:
    answer = f.read().strip()
conn = http.client.HTTPConnection(api)
while True:
    conn.request("GET", "/2018-06-01/runtime/invocation/next")
    r = conn.getresponse()
    rid = r.getheader("Lambda-Runtime-Aws-Request-Id")
    r.read()
    body = json.dumps({"answer": answer, "here": here, "task_root": os.environ["LAMBDA_TASK_ROOT"],
                       "cwd": os.getcwd(), "mode": stat.S_IMODE(os.stat(__file__).st_mode)})
    conn.request("POST", "/2018-06-01/runtime/invocation/%s/response" % rid,
                 json.dumps({"statusCode": 200, "body": body}))
    conn.getresponse().read()
"""

CUSTOM_ZIP = make_zip({"bootstrap": (BOOTSTRAP, 0o755), "lib/answer.txt": "42\n"})

LAYER_ZIP = make_zip({"python/layered.py": "VALUE = 'from the layer'\n"})

TASK_RE = r"/lb-layers-[^/]+/\d+-%s-task$"


class ZipCodeTests(SharedLbCase):
    FUNCTIONS = [
        fn("py", PYTHON, "index.handler", "code/py.zip"),
        fn("node", NODE, "index.handler", "code/node.zip"),
        fn("custom", PROVIDED, "bootstrap", "code/custom.zip"),
        fn("both", PYTHON, "index.handler", "code/py.zip", layers=["layers/l.zip"]),
        fn("ver", PYTHON, "index.handler", "fn-dir",
           versions=[{"version": "1", "code": "code/py.zip"}]),
    ]
    TARGET_GROUPS = [tg(n) for n in ("py", "node", "custom", "both", "ver")] + [tg("ver1", "ver:1")]
    FILES = {
        "code/py.zip": PY_ZIP, "code/node.zip": NODE_ZIP, "code/custom.zip": CUSTOM_ZIP,
        "layers/l.zip": LAYER_ZIP, "fn-dir/index.py": ok_handler("from a directory"),
    }

    def call(self, name):
        r = self.lb.get("/" + name)
        self.assertEqual(r.status, 200, (r, self.lb.stderr()[-3000:]))
        return json.loads(r.body)

    def test_python_handler_and_a_subdirectory_module_load_from_the_zip(self):
        out = self.call("py")
        self.assertEqual((out["mod"], out["word"]),
                         ("module in a subdirectory of the zip", "zipped"))
        root = out["task_root"]
        self.assertRegex(root, TASK_RE % "py-latest")
        # Lambda's task root is the handler's directory, the working directory and the
        # first entry of sys.path
        self.assertEqual((out["cwd"], out["sys_path0"], os.path.dirname(out["file"])),
                         (root, root, root))
        self.assertIsNone(out["layers"])
        # a private directory under $TMPDIR, not next to the zip
        self.assertFalse(root.startswith(self.lb.dir), root)

    def test_node_handler_requires_its_modules_from_the_zip(self):
        out = self.call("node")
        self.assertEqual((out["greet"], out["pad"]), ("hello zip from lib/greet.js", "007"))
        self.assertRegex(out["taskRoot"], TASK_RE % "node-latest")
        self.assertEqual((out["cwd"], out["dir"]), (out["taskRoot"], out["taskRoot"]))

    def test_custom_runtime_bootstrap_keeps_its_exec_bit(self):
        # no chmod here: the zip's mode (0755) is what makes bootstrap executable
        out = self.call("custom")
        self.assertEqual(out["answer"], "42")
        self.assertEqual(out["mode"], 0o755)
        self.assertRegex(out["here"], TASK_RE % "custom-latest")
        self.assertEqual((out["task_root"], out["cwd"]), (out["here"], out["here"]))

    def test_zip_code_and_zip_layer_together(self):
        out = self.call("both")
        self.assertEqual((out["mod"], out["from_layer"]),
                         ("module in a subdirectory of the zip", "from the layer"))
        self.assertRegex(out["task_root"], TASK_RE % "both-latest")
        # /opt and /var/task of one version: same build, side by side
        self.assertEqual(out["task_root"], out["layers"] + "-task")

    def test_a_version_runs_its_own_code(self):
        r = self.lb.get("/ver")
        self.assertEqual((r.status, r.body), (200, b"from a directory"))
        out = self.call("ver1")
        self.assertEqual(out["mod"], "module in a subdirectory of the zip")
        self.assertRegex(out["task_root"], TASK_RE % "ver-1")


class ZipCodeLifecycleTests(LambdaCase):
    def tmpdir(self):
        tmp = tempfile.mkdtemp(prefix="lbtest-tmpdir-")
        self.addCleanup(shutil.rmtree, tmp, True)
        return tmp

    def check_config(self, functions, files):
        """`lb check` and `lb` on a configuration: both exit 1; returns stderr of check."""
        text, rules = lambda_config(functions)
        with tempfile.TemporaryDirectory() as d:
            for name, data in dict(files, **{"lb.yaml": text, "rules/lambda.yaml": rules["lambda.yaml"]}).items():
                os.makedirs(os.path.dirname(os.path.join(d, name)), exist_ok=True)
                with open(os.path.join(d, name), "wb" if isinstance(data, bytes) else "w") as f:
                    f.write(data)
            status, _, err = run_lb("check", "-c", "lb.yaml", cwd=d)
            self.assertEqual(status, 1, err)
            serve_status, _, serve_err = run_lb("-c", "lb.yaml", "-p", "0", cwd=d)
            self.assertEqual(serve_status, 1, serve_err)
            self.assertNotIn("listening", serve_err)
            return err, text

    def assert_error_at_code(self, err, text, path, reason):
        m = re.search(r"lb\.yaml:(\d+):(\d+): code '%s': %s$" % (re.escape(path), re.escape(reason)),
                      err, re.M)
        self.assertIsNotNone(m, err)
        line, col = int(m.group(1)), int(m.group(2))
        self.assertTrue(text.splitlines()[line - 1][col - 1:].startswith(json.dumps(path)),
                        (line, col, text))

    def test_garbage_and_truncated_zips_are_load_errors_at_their_place(self):
        err, text = self.check_config([fn("bad", PYTHON, "index.handler", "fn.zip")],
                                      {"fn.zip": b"print('this is source, not a zip')\n" * 4})
        self.assert_error_at_code(err, text, "fn.zip",
                                  "not a zip archive (no end of central directory record)")
        # a download cut short: the central directory at the end is gone
        err, text = self.check_config([fn("cut", PYTHON, "index.handler", "code/cut.zip")],
                                      {"code/cut.zip": PY_ZIP[:len(PY_ZIP) // 2]})
        self.assert_error_at_code(err, text, "code/cut.zip",
                                  "not a zip archive (no end of central directory record)")
        # a directory that claims more entries than it holds
        damaged = bytearray(PY_ZIP)
        damaged[-12] += 1
        damaged[-14] += 1
        err, text = self.check_config([fn("dmg", PYTHON, "index.handler", "d.zip")],
                                      {"d.zip": bytes(damaged)})
        self.assert_error_at_code(err, text, "d.zip",
                                  "damaged zip archive (central directory entry out of place)")

    def test_zip_bomb_fails_the_invocation_and_leaves_tmpdir_clean(self):
        tmp = self.tmpdir()
        bomb = zip_of_zeros([300 << 20])     # 314572800 bytes unzipped, under 1 MB zipped
        half = zip_of_zeros([150 << 20])
        self.assertLess(len(bomb), 1 << 20)
        lb = self.serve([fn("bomb", PYTHON, "index.handler", "bomb.zip"),
                         # 150 MB of code and a 150 MB layer: each fits, not both
                         fn("shared", PYTHON, "index.handler", "half.zip", layers=["layer.zip"])],
                        {"bomb.zip": bomb, "half.zip": half, "layer.zip": half},
                        env={"TMPDIR": tmp})
        for i in range(2):   # not kept: the next cold start tries again, and fails again
            detail = self.assert_502(lb, lb.get(f"/bomb/{i}"), f"/bomb/{i}", "LambdaUnhandled", "bomb")
            self.assertIn("Runtime.InvalidEntrypoint", detail)
        self.wait_stderr(lb, r"^lb: error: function bomb: code '.*/bomb\.zip': its entries unzip to "
                             r"314572800 bytes, more than the 262144000 left of Lambda's limit of "
                             r"262144000 bytes \(250 MB\) for a function's code and layers$")
        self.assertEqual(lb.stderr().count("function bomb: code"), 2, lb.stderr())
        self.assert_502(lb, lb.get("/shared"), "/shared", "LambdaUnhandled", "shared")
        self.wait_stderr(lb, r"^lb: error: function shared: layer '.*/layer\.zip': its entries unzip "
                             r"to 157286400 bytes, more than the 104857600 left of Lambda's limit")
        # the half that fit was extracted, then removed with the failed build
        roots = [e for e in os.listdir(tmp) if e.startswith("lb-layers-")]
        self.assertEqual([os.listdir(os.path.join(tmp, r)) for r in roots], [[]])
        self.assertEqual([e for e in os.listdir(tmp) if not e.startswith("lb-layers-")], [])
        lb.stop()
        self.assertEqual(os.listdir(tmp), [])

    def test_an_entry_outside_the_zip_fails_the_invocation_in_one_line(self):
        slip = make_zip({"index.py": ok_handler("x"), "../escaped.py": "evil\n"})
        lb = self.serve([fn("slip", PYTHON, "index.handler", "code/slip.zip")],
                        {"code/slip.zip": slip})
        detail = self.assert_502(lb, lb.get("/slip"), "/slip", "LambdaUnhandled", "slip")
        self.assertIn("Runtime.InvalidEntrypoint", detail)
        self.wait_stderr(lb, r"^lb: error: function slip: code '.*/code/slip\.zip': entry "
                             r"'\.\./escaped\.py' is refused: absolute paths and '\.\.' are not "
                             r"allowed$")
        self.assertEqual(len(re.findall(r"^lb: error: ", lb.stderr(), re.M)), 1, lb.stderr())
        self.assertFalse(os.path.exists(os.path.join(lb.dir, "code", "escaped.py")))
        self.assertFalse(os.path.exists(os.path.join(lb.dir, "escaped.py")))

    def test_files_not_readable_by_everyone_are_made_readable_with_a_warning(self):
        # Lambda runs functions as a user that does not own /var/task's files: a 0600 file
        # fails there. lb extracts it readable by all, and says so once per zip.
        private = make_zip({"index.py": ("import os, stat\n"
                                         "def handler(e, c):\n"
                                         "    m = lambda n: oct(stat.S_IMODE(os.stat(n).st_mode))\n"
                                         "    return {'statusCode': 200, 'body': m('index.py') + ' ' + "
                                         "m('data.txt') + ' ' + m('run')}\n", 0o600),
                            "data.txt": ("x", 0o000), "run": ("#!/bin/sh\n", 0o700)})
        lb = self.serve([fn("priv", PYTHON, "index.handler", "priv.zip")], {"priv.zip": private})
        r = lb.get("/priv")
        self.assertEqual((r.status, r.body), (200, b"0o644 0o444 0o755"), lb.stderr()[-2000:])
        self.wait_stderr(lb, r"^lb: warning: '.*/priv\.zip': 3 files not readable by everyone \(the "
                             r"first: 'index\.py', mode 0600\): extracted readable by all, but Lambda "
                             r"runs functions as a user that does not own them, so reading them fails "
                             r"there \(zip with mode 644, or 755 for programs\)$")
        self.assertEqual(lb.stderr().count("not readable by everyone"), 1, lb.stderr())

    def test_reload_after_the_zip_changes_runs_the_new_code(self):
        tmp = self.tmpdir()
        v1 = make_zip({"index.py": PY_INDEX.replace("mod.VALUE", "'v1'"), "pkg/__init__.py": "",
                       "pkg/mod.py": "VALUE = 1\n", "data/word.txt": "one\n"})
        v2 = make_zip({"index.py": PY_INDEX.replace("mod.VALUE", "'v2, longer'"),
                       "pkg/__init__.py": "", "pkg/mod.py": "VALUE = 2\n",
                       "data/word.txt": "two\n"})
        lb = self.serve([fn("rl", PYTHON, "index.handler", "rl.zip")], {"rl.zip": v1},
                        env={"TMPDIR": tmp})
        first = json.loads(lb.get("/rl").body)
        self.assertEqual((first["mod"], first["word"]), ("v1", "one"))
        old_root = first["task_root"]
        self.assertTrue(old_root.startswith(tmp + "/"), old_root)
        lb.write("rl.zip", v2)
        # without a reload the warm sandbox runs what was extracted
        self.assertEqual(json.loads(lb.get("/rl").body)["mod"], "v1")
        lb.signal(signal.SIGHUP)
        self.wait_stderr(lb, r"^lb: reloaded ")
        second = json.loads(lb.get("/rl").body)
        self.assertEqual((second["mod"], second["word"]), ("v2, longer", "two"))
        self.assertNotEqual(second["task_root"], old_root)
        # the old configuration's copy goes once its sandbox is gone
        self.assertTrue(wait_for(lambda: not os.path.exists(old_root)), old_root)
        lb.stop()
        self.assertEqual(os.listdir(tmp), [])

    def test_reloads_reuse_the_extraction_of_an_unchanged_zip(self):
        # Lambda unzips a package once; lb extracts an unchanged zip once however often it reloads
        tmp = self.tmpdir()
        lb = self.serve([fn("rr", PYTHON, "index.handler", "rr.zip")], {"rr.zip": PY_ZIP},
                        env={"TMPDIR": tmp})
        first = json.loads(lb.get("/rr").body)["task_root"]
        layers_root = os.path.dirname(first)
        for i in range(5):
            lb.signal(signal.SIGHUP)
            self.assertTrue(wait_for(lambda: lb.stderr().count("lb: reloaded ") == i + 1), lb.stderr())
            out = json.loads(lb.get("/rr").body)
            self.assertEqual((out["task_root"], out["word"]), (first, "zipped"))
            self.assertEqual(os.listdir(layers_root), [os.path.basename(first)])
        # lb-layers-X and the /tmp of the one live sandbox: nothing piled up
        self.assertTrue(wait_for(lambda: len(os.listdir(tmp)) == 2), os.listdir(tmp))
        self.assertEqual(sorted(e.split("-")[1] for e in os.listdir(tmp)), ["layers", "tmp"])
        # a changed zip is extracted anew at the next reload, and the old copy goes
        lb.write("rr.zip", make_zip({"index.py": ok_handler("changed")}))
        lb.signal(signal.SIGHUP)
        self.assertTrue(wait_for(lambda: lb.stderr().count("lb: reloaded ") == 6), lb.stderr())
        self.assertEqual(lb.get("/rr").body, b"changed")
        self.assertTrue(wait_for(lambda: not os.path.exists(first)), os.listdir(layers_root))
        self.assertEqual(len(os.listdir(layers_root)), 1, os.listdir(layers_root))
        lb.stop()
        self.assertEqual(os.listdir(tmp), [])

    def test_later_sandboxes_reuse_the_extracted_code(self):
        tmp = self.tmpdir()
        slow = make_zip({"index.py": "import os, time\n"
                                     "def handler(e, c):\n"
                                     "    time.sleep(0.5)\n"
                                     "    return {'statusCode': 200, 'body': "
                                     "os.environ['LAMBDA_TASK_ROOT'] + ' ' + str(os.getpid())}\n"})
        lb = self.serve([fn("two", PYTHON, "index.handler", "two.zip")], {"two.zip": slow},
                        env={"TMPDIR": tmp})
        out = []
        threads = [threading.Thread(target=lambda: out.append(lb.get("/two").body.decode()))
                   for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        roots, pids = zip(*(o.split() for o in out))
        self.assertEqual(len(set(pids)), 2, out)     # two sandboxes ...
        self.assertEqual(len(set(roots)), 1, out)    # ... one extracted copy
        self.assertEqual([e for e in os.listdir(os.path.dirname(roots[0]))],
                         [os.path.basename(roots[0])])


# --- templates ---------------------------------------------------------------------------

CDK_TEMPLATE = {
    "Resources": {
        "Alb": {"Type": "AWS::ElasticLoadBalancingV2::LoadBalancer", "Properties": {}},
        "Listener": {"Type": "AWS::ElasticLoadBalancingV2::Listener", "Properties": {
            "LoadBalancerArn": {"Ref": "Alb"}, "Port": 80, "Protocol": "HTTP",
            "DefaultActions": [{"Type": "forward", "TargetGroupArn": {"Ref": "Group"}}]}},
        "Group": {"Type": "AWS::ElasticLoadBalancingV2::TargetGroup", "Properties": {
            "TargetType": "lambda", "Targets": [{"Id": {"Fn::GetAtt": ["Fn", "Arn"]}}]}},
        "Fn": {"Type": "AWS::Lambda::Function", "Properties": {
            "FunctionName": "zipped", "Runtime": PYTHON, "Handler": "index.handler",
            "Code": {"S3Bucket": "cdk-hnb659fds-assets-123456789012-us-east-1", "S3Key": "HASH.zip"}}},
    },
}


class ZipCodeStackTests(LambdaCase):
    def serve_stack(self, source, name, args):
        lb = StackLb(source, name, args=args)
        lb.start()
        self.addCleanup(lb.tmp.cleanup)
        self.addCleanup(lb.stop)
        return lb

    def test_sam_code_uri_may_name_a_zip_relative_to_the_template(self):
        with tempfile.TemporaryDirectory() as d:
            shutil.copytree(os.path.join(STACK, "sam"), os.path.join(d, "sam"))
            sam = os.path.join(d, "sam")
            with open(os.path.join(sam, "hello.zip"), "wb") as f:
                f.write(zip_dir(os.path.join(sam, "hello")))
            shutil.rmtree(os.path.join(sam, "hello"))
            with open(os.path.join(sam, "template.yaml")) as f:
                text = f.read()
            self.assertIn("CodeUri: hello/\n", text)
            with open(os.path.join(sam, "template.yaml"), "w") as f:
                f.write(text.replace("CodeUri: hello/\n", "CodeUri: hello.zip\n"))
            lb = self.serve_stack(sam, "template.yaml", ["-p", "0"])
        body = lb.json("/anything")
        self.assertEqual((body["fn"], body["version"], body["fromGlobals"]), ("Hello", "1", "yes"))

    def cdk_out(self, d, metadata):
        """A cloud assembly's template whose function's code is the staged file asset
        asset.HASH.zip, with or without the CDK CLI's asset metadata."""
        data = zip_dir(os.path.join(STACK, "tf", "src"))
        h = hashlib.sha256(data).hexdigest()
        with open(os.path.join(d, f"asset.{h}.zip"), "wb") as f:
            f.write(data)
        doc = json.loads(json.dumps(CDK_TEMPLATE).replace("HASH", h))
        if metadata:
            doc["Resources"]["Fn"]["Metadata"] = {"aws:asset:path": f"asset.{h}.zip",
                                                  "aws:asset:is-bundled": False,
                                                  "aws:asset:property": "Code"}
        with open(os.path.join(d, "ZipStack.template.json"), "w") as f:
            json.dump(doc, f)

    def test_cdk_file_asset_zip_with_and_without_asset_metadata(self):
        for metadata in (True, False):
            with self.subTest(metadata=metadata), tempfile.TemporaryDirectory() as d:
                self.cdk_out(d, metadata)
                lb = self.serve_stack(d, "ZipStack.template.json", ["--port-map", "80=0"])
                r = lb.get("/cdk")
                self.assertEqual((r.status, r.body), (200, b"tf :$LATEST:/cdk"), lb.stderr()[-2000:])
                lb.stop()

    def test_terraform_filename_may_be_the_zip_itself(self):
        with open(os.path.join(STACK, "tf", "state.json")) as f:
            doc = json.load(f)
        res = doc["values"]["root_module"]["resources"]
        # no archive_file in the document: lb runs build/api.zip as Lambda would
        doc["values"]["root_module"]["resources"] = [r for r in res if r["type"] != "archive_file"]
        with tempfile.TemporaryDirectory() as d:
            tf = os.path.join(d, "tf")
            shutil.copytree(os.path.join(STACK, "tf"), tf)
            os.makedirs(os.path.join(tf, "build"))
            with open(os.path.join(tf, "build", "api.zip"), "wb") as f:
                f.write(zip_dir(os.path.join(tf, "src")))
            shutil.rmtree(os.path.join(tf, "src"))
            with open(os.path.join(tf, "zip.json"), "w") as f:
                json.dump(doc, f)
            lb = self.serve_stack(tf, "zip.json", ["--port-map", "80=0"])
        r = lb.get("/api/x")
        self.assertEqual((r.status, r.body), (200, b"tf state:$LATEST:/api/x tf-layer"))

    def test_export_carries_a_zip_code_path_across(self):
        zipped = make_zip({"index.py": "import os\n" + ok_handler("exported zip")})
        lb = self.serve([fn("ex", PYTHON, "index.handler", "code/ex.zip")], {"code/ex.zip": zipped})
        r = lb.get("/ex")
        self.assertEqual((r.status, r.body), (200, b"exported zip"))
        code, template, err = lb_run("export", "cloudformation", "-c", lb.config_path, tmpdir=lb.dir)
        self.assertEqual(code, 0, err)
        doc = json.loads(template)
        fn_res = doc["Resources"]["ExFunction"]
        path = os.path.realpath(os.path.join(lb.dir, "code", "ex.zip"))
        self.assertEqual(fn_res["Metadata"], {"aws:asset:path": path, "aws:asset:property": "Code"})
        key = fn_res["Properties"]["Code"]["S3Key"]["Ref"]
        self.assertEqual(doc["Parameters"][key]["Description"], "S3 key of " + path)
        imported = StackLb(os.devnull, "x", args=["--port-map", "80=0"])
        self.addCleanup(imported.tmp.cleanup)
        imported.write("stack/exported.json", template)
        imported.config_path = os.path.join(imported.dir, "stack", "exported.json")
        imported.start()
        self.addCleanup(imported.stop)
        r = imported.get("/ex")
        self.assertEqual((r.status, r.body), (200, b"exported zip"))


if __name__ == "__main__":
    unittest.main()
