"""Lambda layers through lb (DESIGN.md §5 `layers:`, §7; README "Layers").

A function's layers (directories or .zip files) are merged in order into one directory per
version, standing in for /opt: handlers import a layer's packages unchanged — Node with
require() and with ES `import` (NODE_PATH, as Lambda's Node.js runtimes search it for ES
modules too), Python with `import` (PYTHONPATH: python/lib/python3.N/site-packages, then
python/, after the task root, .pth files read) — a later layer's file replaces an earlier
one's, a layer's bin/ is on PATH, versions with different layers see different content, a
custom runtime's bootstrap may come from a layer, and a bad .zip fails the invocation.
"""
import io
import json
import os
import signal
import stat
import struct
import tempfile
import unittest
import zipfile
import zlib

from lambdacommon import (NODE, PROVIDED, PYTHON, SharedLbCase, LambdaCase, fn, lambda_config, tg,
                          wait_for)

PY_SITE = "python/lib/%s/site-packages" % PYTHON


def make_zip(entries):
    """Zip bytes: entries maps name -> text, or (text, mode); made on Unix, deflated."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, value in entries.items():
            text, mode = value if isinstance(value, tuple) else (value, 0o644)
            info = zipfile.ZipInfo(name)
            info.create_system = 3
            info.external_attr = (stat.S_IFREG | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, text)
    return out.getvalue()


def zip_of_zeros(sizes):
    """A zip bomb: entries big/I of sizes[I] zero bytes, a few hundred KB on disk.

    Its deflate data is one sync-flushed chunk of 1 MiB of zeros repeated (each chunk
    stands alone), then an empty final block, so it is built without deflating gigabytes.
    """
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    mib = bytes(1 << 20)
    chunk = c.compress(mib) + c.flush(zlib.Z_SYNC_FLUSH)
    out, central = io.BytesIO(), io.BytesIO()
    for i, size in enumerate(sizes):
        name = ("big/%d" % i).encode()
        data = chunk * (size >> 20) + b"\x01\x00\x00\xff\xff"
        crc = 0
        for _ in range(size >> 20):
            crc = zlib.crc32(mib, crc)
        head = struct.pack("<IHHHHHIIIHH", 0x04034b50, 20, 0, 8, 0, 0x21, crc, len(data), size,
                           len(name), 0)
        central.write(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014b50, 3 << 8 | 30, 20, 0, 8, 0, 0x21,
                                  crc, len(data), size, len(name), 0, 0, 0, 0,
                                  (stat.S_IFREG | 0o644) << 16, out.tell()) + name)
        out.write(head + name + data)
    cd = central.getvalue()
    return out.getvalue() + cd + struct.pack("<IHHHHIIH", 0x06054b50, 0, 0, len(sizes), len(sizes),
                                             len(cd), out.tell(), 0)


COMMON = {
    # a CommonJS package whose index requires a neighbour that a later layer replaces
    "layers/common/nodejs/node_modules/greet/package.json": '{"name": "greet", "main": "index.js"}',
    "layers/common/nodejs/node_modules/greet/index.js":
        "module.exports = (n) => `hello ${n} from ${require('./source.js')}`;\n",
    "layers/common/nodejs/node_modules/greet/source.js": "module.exports = 'common';\n",
    # a dual package: "import" and "require" conditions
    "layers/common/nodejs/node_modules/dual/package.json":
        '{"name": "dual", "exports": {"import": "./index.mjs", "require": "./index.cjs"}}',
    "layers/common/nodejs/node_modules/dual/index.mjs": "export const how = 'esm';\n",
    "layers/common/nodejs/node_modules/dual/index.cjs": "exports.how = 'cjs';\n",
    # Lambda's per-version folder (nodejs20.x: nodejs/node20/node_modules)
    "layers/common/nodejs/node20/node_modules/only20/index.js": "module.exports = 'node20 folder';\n",
    "layers/common/python/common_mod.py": "SOURCE = 'common layer'\n",
    "layers/common/python/shared.py": "VALUE = 'common'\n",
    "layers/common/bin/layer-tool": "#!/bin/sh\necho \"layer tool $1\"\n",
    "layers/common/lib/marker.txt": "lib\n",
    "layers/v1/python/shared.py": "VALUE = 'v1'\n",
}

OVERRIDE_ZIP = make_zip({
    "python/shared.py": "VALUE = 'override'\n",
    "python/zmod.py": "FROM = 'zip layer'\n",
    PY_SITE + "/sitepkg/__init__.py": "WHERE = 'site-packages'\n",
    PY_SITE + "/extra.pth": "extradir\n",
    PY_SITE + "/extradir/pthmod.py": "PTH = 'from a .pth file'\n",
    "nodejs/node_modules/greet/source.js": "module.exports = 'override';\n",
    "bin/zip-tool": ("#!/bin/sh\necho zip tool\n", 0o755),
})

PY_HANDLER = """
import json, os, subprocess, sys
import shared

def handler(event, context):
    out = {"shared": shared.VALUE, "sys_path": sys.path[:3],
           "env": {k: os.environ.get(k) for k in ("LB_LAYERS_DIR", "PYTHONPATH", "NODE_PATH",
                                                  "PATH", "LD_LIBRARY_PATH")}}
    for name, attr in (("common_mod", "SOURCE"), ("zmod", "FROM"), ("sitepkg", "WHERE"),
                       ("pthmod", "PTH")):
        try:
            out[name] = getattr(__import__(name), attr)
        except ImportError:
            out[name] = None
    for tool in ("layer-tool", "zip-tool"):
        try:
            out[tool] = subprocess.run([tool, "py"], capture_output=True, text=True).stdout.strip()
        except OSError:
            out[tool] = None
    return {"statusCode": 200, "body": json.dumps(out)}
"""

NODE_CJS = """
const greet = require('greet');
const { how } = require('dual');
const only20 = require('only20');
const { execFileSync } = require('node:child_process');
exports.handler = async () => ({
  statusCode: 200,
  body: JSON.stringify({ greet: greet('cjs'), how, only20,
                         tool: execFileSync('layer-tool', ['node']).toString().trim(),
                         nodePath: process.env.NODE_PATH, layers: process.env.LB_LAYERS_DIR }),
});
"""

NODE_ESM = """
import greet from 'greet';
import { how } from 'dual';
import only20 from 'only20';
import source from 'greet/source.js';
export const handler = async () => ({
  statusCode: 200,
  body: JSON.stringify({ greet: greet('esm'), how, only20, source }),
});
"""

NODE_ESM_MISSING = """
import nope from 'no-such-package';
export const handler = async () => ({ statusCode: 200, body: String(nope) });
"""

BOTH = ["layers/common", "layers/override.zip"]


class LayerTests(SharedLbCase):
    FUNCTIONS = [
        fn("py", PYTHON, "index.handler", "fn-py", layers=BOTH),
        fn("pyrev", PYTHON, "index.handler", "fn-py", layers=list(reversed(BOTH))),
        fn("nodecjs", NODE, "index.handler", "fn-cjs", layers=BOTH),
        fn("nodeesm", NODE, "index.handler", "fn-esm", layers=BOTH),
        fn("nodemissing", NODE, "index.handler", "fn-missing", layers=BOTH),
        fn("ver", PYTHON, "index.handler", "fn-py", layers=["layers/common"],
           versions=[{"version": "1", "layers": ["layers/common", "layers/v1"]},
                     {"version": "2"}]),
        fn("plain", PYTHON, "index.handler", "fn-plain"),
    ]
    TARGET_GROUPS = [tg(n) for n in ("py", "pyrev", "nodecjs", "nodeesm", "nodemissing", "ver",
                                     "plain")] + [tg("ver1", "ver:1"), tg("ver2", "ver:2")]
    FILES = dict(COMMON, **{
        "layers/override.zip": OVERRIDE_ZIP,
        "fn-py/index.py": PY_HANDLER,
        "fn-cjs/index.js": NODE_CJS,
        "fn-esm/index.mjs": NODE_ESM,
        "fn-missing/index.mjs": NODE_ESM_MISSING,
        "fn-plain/index.py": PY_HANDLER.replace("import shared\n", "")
                                       .replace("shared.VALUE", "None"),
    })

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        os.chmod(os.path.join(cls.lb.dir, "layers/common/bin/layer-tool"), 0o755)

    def call(self, name):
        r = self.lb.get("/" + name)
        self.assertEqual(r.status, 200, (r, self.lb.stderr()[-3000:]))
        return json.loads(r.body)

    def test_python_imports_from_directory_and_zip_layers(self):
        out = self.call("py")
        self.assertEqual(out["common_mod"], "common layer")    # directory layer
        self.assertEqual(out["zmod"], "zip layer")             # .zip layer
        self.assertEqual(out["sitepkg"], "site-packages")      # python/lib/python3.N/site-packages
        self.assertEqual(out["pthmod"], "from a .pth file")    # its .pth files are read

    def test_later_layer_overrides_earlier_in_both_runtimes(self):
        self.assertEqual(self.call("py")["shared"], "override")
        self.assertEqual(self.call("pyrev")["shared"], "common")
        # greet/index.js comes from the first layer, its neighbour source.js from the second
        self.assertEqual(self.call("nodecjs")["greet"], "hello cjs from override")
        self.assertEqual(self.call("nodeesm")["greet"], "hello esm from override")

    def test_node_require_resolves_through_node_path(self):
        out = self.call("nodecjs")
        self.assertEqual((out["how"], out["only20"]), ("cjs", "node20 folder"))
        opt = out["layers"]
        self.assertEqual(out["nodePath"], f"{opt}/nodejs/node20/node_modules:{opt}/nodejs/node_modules")

    def test_node_esm_import_resolves_layer_packages(self):
        out = self.call("nodeesm")
        self.assertEqual(out, {"greet": "hello esm from override", "how": "esm",
                               "only20": "node20 folder", "source": "override"})

    def test_node_esm_missing_package_still_fails_as_before(self):
        r = self.lb.get("/nodemissing")
        self.assertEqual(r.status, 502, r)
        self.assertRegex(self.lb.stderr(), r"Cannot find package 'no-such-package' imported from "
                                           r".*/fn-missing/index\.mjs")

    def test_layer_binaries_run_from_path(self):
        out = self.call("py")
        self.assertEqual(out["layer-tool"], "layer tool py")
        self.assertEqual(out["zip-tool"], "zip tool")          # the zip's mode kept it executable
        self.assertEqual(self.call("nodecjs")["tool"], "layer tool node")

    def test_environment_points_at_the_merged_directory_as_lambda_at_opt(self):
        out = self.call("py")
        env, opt = out["env"], out["env"]["LB_LAYERS_DIR"]
        self.assertTrue(os.path.isabs(opt), opt)
        self.assertEqual(env["PYTHONPATH"], f"{opt}/{PY_SITE}:{opt}/python")
        self.assertIsNone(env["NODE_PATH"])
        # Lambda's PATH ends with /opt/bin and its LD_LIBRARY_PATH with /opt/lib
        self.assertTrue(env["PATH"].endswith(":" + opt + "/bin"), env["PATH"])
        self.assertTrue(env["LD_LIBRARY_PATH"].endswith(opt + "/lib"), env["LD_LIBRARY_PATH"])
        code = os.path.realpath(os.path.join(self.lb.dir, "fn-py"))
        self.assertEqual(out["sys_path"], [code, f"{opt}/{PY_SITE}", f"{opt}/python"])
        with open(os.path.join(opt, "lib", "marker.txt")) as f:
            self.assertEqual(f.read(), "lib\n")

    def test_versions_with_different_layers_see_different_content(self):
        latest, v1, v2 = self.call("ver"), self.call("ver1"), self.call("ver2")
        self.assertEqual((latest["shared"], v1["shared"], v2["shared"]), ("common", "v1", "common"))
        dirs = {d["env"]["LB_LAYERS_DIR"] for d in (latest, v1, v2)}
        self.assertEqual(len(dirs), 3, dirs)                   # one merged directory per version

    def test_function_without_layers_gets_no_layer_environment(self):
        env = self.call("plain")["env"]
        self.assertEqual((env["LB_LAYERS_DIR"], env["PYTHONPATH"], env["NODE_PATH"]),
                         (None, None, None))
        self.assertEqual(env["PATH"], os.environ.get("PATH"))


BOOTSTRAP = r"""#!/usr/bin/env python3
import http.client, json, os
api = os.environ["AWS_LAMBDA_RUNTIME_API"]
conn = http.client.HTTPConnection(api)
while True:
    conn.request("GET", "/2018-06-01/runtime/invocation/next")
    r = conn.getresponse()
    rid = r.getheader("Lambda-Runtime-Aws-Request-Id")
    r.read()
    body = json.dumps({"statusCode": 200, "body": "bootstrap from " + os.path.dirname(__file__)})
    conn.request("POST", "/2018-06-01/runtime/invocation/%s/response" % rid, body)
    conn.getresponse().read()
"""


class LayerLifecycleTests(LambdaCase):
    def test_bad_zip_fails_the_invocation_like_an_init_error(self):
        bad = make_zip({"python/ok.py": "x = 1\n", "python/../../escaped.txt": "evil\n"})
        lb = self.serve([fn("badzip", PYTHON, "index.handler", "fn", layers=["layers/bad.zip"])],
                        {"fn/index.py": "def handler(e, c):\n    return {'statusCode': 200}\n",
                         "layers/bad.zip": bad})
        for i in range(2):   # not cached: every cold start tries again
            detail = self.assert_502(lb, lb.get(f"/badzip/{i}"), f"/badzip/{i}", "LambdaUnhandled",
                                     "badzip")
            self.assertIn("Runtime.InvalidEntrypoint", detail)
        self.wait_stderr(lb, r"^lb: error: function badzip: layer '.*/layers/bad\.zip': entry "
                             r"'python/\.\./\.\./escaped\.txt' is refused: absolute paths and "
                             r"'\.\.' are not allowed$")
        self.assertFalse(os.path.exists(os.path.join(lb.dir, "escaped.txt")))

    def test_zip_bomb_fails_the_invocation_and_fills_nothing(self):
        # Lambda refuses layers that unzip to more than 262144000 bytes (250 MB): two layers
        # of 150 MB each fit alone, not together; nothing of the second is ever written
        tmp = tempfile.mkdtemp(prefix="lbtest-tmpdir-")
        self.addCleanup(os.rmdir, tmp)
        bomb = zip_of_zeros([150 << 20])
        self.assertLess(len(bomb), 1 << 20)
        lb = self.serve([fn("bomb", PYTHON, "index.handler", "fn",
                            layers=["layers/a.zip", "layers/b.zip"])],
                        {"fn/index.py": "def handler(e, c):\n    return {'statusCode': 200}\n",
                         "layers/a.zip": bomb, "layers/b.zip": bomb}, env={"TMPDIR": tmp})
        detail = self.assert_502(lb, lb.get("/bomb"), "/bomb", "LambdaUnhandled", "bomb")
        self.assertIn("Runtime.InvalidEntrypoint", detail)
        self.wait_stderr(lb, r"^lb: error: function bomb: layer '.*/layers/b\.zip': its entries "
                             r"unzip to 157286400 bytes, more than the 104857600 left of Lambda's "
                             r"limit of 262144000 bytes \(250 MB\) for a function's code and "
                             r"layers$")
        self.assertEqual(lb.stderr().count("unzip to"), 1, lb.stderr())
        roots = [e for e in os.listdir(tmp) if e.startswith("lb-layers-")]
        self.assertEqual([os.listdir(os.path.join(tmp, r)) for r in roots], [[]])  # failed build gone
        lb.stop()
        self.assertEqual(os.listdir(tmp), [])

    def test_reload_rebuilds_and_exit_removes_the_temporary_directory(self):
        f = fn("rl", PYTHON, "index.handler", "fn", layers=["layers/r"],
               environment={"variables": {"N": "1"}})
        lb = self.serve([f], {"fn/index.py": PY_HANDLER,
                              "layers/r/python/shared.py": "VALUE = 'one'\n"})
        first = json.loads(lb.get("/rl").body)
        self.assertEqual(first["shared"], "one")
        old_dir = first["env"]["LB_LAYERS_DIR"]
        root = os.path.dirname(old_dir)
        self.assertRegex(os.path.basename(root), r"^lb-layers-")
        self.assertEqual(json.loads(lb.get("/rl").body)["env"]["LB_LAYERS_DIR"], old_dir)  # reused
        lb.write("layers/r/python/shared.py", "VALUE = 'two'\n")
        f["environment"]["variables"]["N"] = "2"
        lb.write("lb.yaml", lambda_config([f])[0])
        lb.signal(signal.SIGHUP)
        self.wait_stderr(lb, r"^lb: reloaded ")
        second = json.loads(lb.get("/rl").body)
        self.assertEqual(second["shared"], "two")
        self.assertNotEqual(second["env"]["LB_LAYERS_DIR"], old_dir)
        # the old configuration's directory goes once its sandbox is gone
        self.assertTrue(wait_for(lambda: not os.path.exists(old_dir)), old_dir)
        lb.stop()
        self.assertFalse(os.path.exists(root), root)

    def test_no_layers_no_temporary_directory(self):
        tmp = tempfile.mkdtemp(prefix="lbtest-tmpdir-")
        self.addCleanup(os.rmdir, tmp)
        lb = self.serve([fn("plain", PYTHON, "index.handler", "fn")],
                        {"fn/index.py": "def handler(e, c):\n    return {'statusCode': 200}\n"},
                        env={"TMPDIR": tmp})
        self.assertEqual(lb.get("/plain").status, 200)
        # only the sandbox's own /tmp, which goes with it
        self.assertEqual([e for e in os.listdir(tmp) if not e.startswith("lb-tmp-")], [])
        lb.stop()
        self.assertEqual(os.listdir(tmp), [])

    def test_custom_runtime_bootstrap_from_a_layer(self):
        lb = self.serve([fn("custom", PROVIDED, "x", "fn", layers=["layers/runtime"])],
                        {"fn/README": "no bootstrap here\n", "layers/runtime/bootstrap": BOOTSTRAP})
        os.chmod(os.path.join(lb.dir, "layers/runtime/bootstrap"), 0o755)
        r = lb.get("/custom")
        self.assertEqual(r.status, 200, (r, lb.stderr()[-2000:]))
        self.assertRegex(r.body.decode(), r"^bootstrap from /.*/lb-layers-[^/]+/\d+-custom-latest$")


if __name__ == "__main__":
    unittest.main()
