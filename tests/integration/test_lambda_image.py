"""Container-image functions without Docker (DESIGN.md §18; README "Container images").

The tests build their images themselves, with no Docker: a static runtime compiled from
image/bootstrap.c (it answers each invocation with what it sees inside its sandbox) goes
into a two-layer root whose second layer deletes a file of the first (a `.wh.` whiteout)
and hides a directory's old contents (an opaque whiteout), written as a gzip-compressed
`docker save` archive and as an OCI image layout. lb unpacks them into its cache and
runs them rooted there (bubblewrap, or chroot as root): the event arrives, the image's
Env, Entrypoint, Cmd and WorkingDir apply, ImageConfig overrides them, the root is
read-only with a private /tmp, and a layer with a `../` entry is refused.
"""
import gzip
import hashlib
import io
import json
import os
import shutil
import signal
import subprocess
import tarfile
import tempfile
import threading
import unittest

from lambdacommon import LambdaCase, SharedLbCase, tg, wait_for

HERE = os.path.dirname(os.path.abspath(__file__))


def works(cmd):
    """Whether cmd runs here (a container may forbid the namespaces it needs)."""
    try:
        return subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              timeout=30).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def can_isolate(mode=None):
    """Whether lb can isolate an image here: with bubblewrap, or as root with unshare."""
    chroot = os.geteuid() == 0 and shutil.which("unshare") and works(["unshare", "--mount", "true"])
    if mode == "chroot":
        return chroot
    if shutil.which("bwrap"):
        return works(["bwrap", "--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev", "true"])
    return chroot


def tar_bytes(entries, gz=False):
    """A tar: entries is a list of (name, kind, data) with kind file/dir/symlink/hardlink."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name, kind, data in entries:
            info = tarfile.TarInfo(name)
            if kind == "dir":
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                t.addfile(info)
            elif kind == "symlink":
                info.type, info.linkname = tarfile.SYMTYPE, data
                t.addfile(info)
            elif kind == "hardlink":
                info.type, info.linkname = tarfile.LNKTYPE, data
                t.addfile(info)
            else:
                body, mode = data if isinstance(data, tuple) else (data, 0o644)
                info.size, info.mode = len(body), mode
                t.addfile(info, io.BytesIO(body))
    raw = out.getvalue()
    return gzip.compress(raw, mtime=0) if gz else raw


def sha(b):
    return hashlib.sha256(b).hexdigest()


def layers(bootstrap):
    first = [("usr", "dir", None), ("usr/local", "dir", None), ("usr/local/bin", "dir", None),
             ("usr/local/bin/bootstrap", "file", (bootstrap, 0o755)),
             ("bin", "symlink", "usr/local/bin"),
             ("etc", "dir", None), ("etc/kept.txt", "file", b"kept\n"),
             ("etc/removed.txt", "file", b"removed\n"), ("etc/hard.txt", "hardlink", "etc/kept.txt"),
             ("var/task/old/a.txt", "file", b"a\n"), ("srv", "dir", None)]
    second = [("etc/.wh.removed.txt", "file", b""), ("etc/layer2.txt", "file", b"2\n"),
              ("var/task/old/b.txt", "file", b"b\n"), ("var/task/old/.wh..wh..opq", "file", b"")]
    return [first, second]


def image_config(diff_ids, env, entrypoint, cmd, workdir):
    return json.dumps({
        "architecture": "amd64", "os": "linux",
        "config": {"Env": env, "Entrypoint": entrypoint, "Cmd": cmd, "WorkingDir": workdir,
                   "User": "nobody"},
        "rootfs": {"type": "layers", "diff_ids": ["sha256:" + d for d in diff_ids]},
    }).encode()


ENV = ["PATH=/usr/local/bin:/usr/bin:/bin", "GREETING=hello from the image", "OVERRIDE=image"]


def docker_save(path, layer_entries, env=ENV):
    """A gzip-compressed `docker save` archive (manifest.json, <id>/layer.tar)."""
    raws = [tar_bytes(e) for e in layer_entries]
    config = image_config([sha(r) for r in raws], env, ["/usr/local/bin/bootstrap"], ["app.handler"],
                          "/var/task")
    files = []
    names = []
    for i, r in enumerate(raws):
        name = f"{sha(r)}/layer.tar"
        # one layer gzip-compressed inside the archive, as podman may write them
        files.append((name, "file", gzip.compress(r, mtime=0) if i == 1 else r))
        names.append(name)
    files.append((sha(config) + ".json", "file", config))
    files.append(("manifest.json", "file", json.dumps(
        [{"Config": sha(config) + ".json", "RepoTags": ["fn:latest"], "Layers": names}]).encode()))
    with open(path, "wb") as f:
        f.write(tar_bytes(files, gz=True))
    return sha(config)


def oci_layout(path, layer_entries, entrypoint, cmd, workdir="/var/task"):
    """An OCI image layout directory with gzip layers."""
    blobs = os.path.join(path, "blobs", "sha256")
    os.makedirs(blobs)

    def blob(b):
        with open(os.path.join(blobs, sha(b)), "wb") as f:
            f.write(b)
        return {"digest": "sha256:" + sha(b), "size": len(b)}

    raws = [tar_bytes(e) for e in layer_entries]
    gzs = [gzip.compress(r, mtime=0) for r in raws]
    config = image_config([sha(r) for r in raws], ENV, entrypoint, cmd, workdir)
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": dict(blob(config), mediaType="application/vnd.oci.image.config.v1+json"),
        "layers": [dict(blob(g), mediaType="application/vnd.oci.image.layer.v1.tar+gzip") for g in gzs],
    }).encode()
    m = blob(manifest)
    with open(os.path.join(path, "index.json"), "w") as f:
        json.dump({"schemaVersion": 2, "manifests": [dict(m, mediaType=
                   "application/vnd.oci.image.manifest.v1+json",
                   platform={"architecture": "amd64", "os": "linux"})]}, f)
    with open(os.path.join(path, "oci-layout"), "w") as f:
        f.write('{"imageLayoutVersion": "1.0.0"}')
    return sha(config)


def build_bootstrap(d):
    exe = os.path.join(d, "bootstrap")
    subprocess.run(["gcc", "-static", "-O1", "-o", exe, os.path.join(HERE, "image", "bootstrap.c")],
                   check=True)
    with open(exe, "rb") as f:
        return f.read()


class ImageBuild:
    """The images, built once per class in a temporary directory."""

    def __init__(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="lb-image-test-")
        d = self.tmp.name
        self.boot = boot = build_bootstrap(d)
        self.archive = os.path.join(d, "fn.tar.gz")
        self.archive_digest = docker_save(self.archive, layers(boot))
        self.layout = os.path.join(d, "oci")
        self.layout_digest = oci_layout(self.layout, layers(boot), ["/bin/bootstrap"], ["app.handler"])
        evil = layers(boot)
        evil[1].append(("../escape.txt", "file", b"out\n"))
        self.evil = os.path.join(d, "evil.tar")
        self.evil_digest = docker_save(self.evil, evil)
        # Lower layers' links on the way to an upper layer's entries (a usrmerge base: lib is a
        # link to usr/lib; an absolute link; a relative one climbing past the root)
        linked = layers(boot)
        linked[0] += [("usr/lib", "dir", None), ("usr/lib/base.txt", "file", b"base\n"),
                      ("lib", "symlink", "usr/lib"), ("data", "symlink", "/var/task"),
                      ("up", "symlink", "../../../../..")]
        linked[1] += [("lib/extra.txt", "file", b"extra\n"), ("lib/.wh.base.txt", "file", b""),
                      ("lib/hard.txt", "hardlink", "lib/extra.txt"), ("data/x.txt", "file", b"x\n"),
                      ("up/escape.txt", "file", b"kept inside\n")]
        self.linked = os.path.join(d, "linked.tar")
        self.linked_digest = docker_save(self.linked, linked)
        self.cache = os.path.join(d, "cache")
        self.host_dir = d


class ImageCase(SharedLbCase):
    SANDBOX = None

    @classmethod
    def setUpClass(cls):
        if not can_isolate(cls.SANDBOX):
            raise unittest.SkipTest("neither bubblewrap (bwrap) nor root: images cannot be isolated")
        if not shutil.which("gcc"):
            raise unittest.SkipTest("no gcc to build the test image's runtime")
        cls.images = ImageBuild()
        i = cls.images
        env = {"variables": {"OVERRIDE": "function", "FROM_FUNCTION": "yes", "HOST_DIR": i.host_dir}}
        cls.FUNCTIONS = [
            {"name": "archive", "image": i.archive, "environment": env},
            {"name": "layout", "image": i.layout,
             "image_config": {"command": ["other.handler", "x"], "working_directory": "/srv"}},
            {"name": "entry", "image": i.layout,
             "image_config": {"entry_point": ["/usr/local/bin/bootstrap", "--flag"]}},
            {"name": "evil", "image": i.evil},
            {"name": "linked", "image": i.linked},
            {"name": "slow", "image": i.archive, "timeout": 3},
        ]
        cls.TARGET_GROUPS = [tg(f["name"]) for f in cls.FUNCTIONS]
        cls.ENV = {"XDG_CACHE_HOME": i.cache}
        if cls.SANDBOX:
            cls.ENV["LB_IMAGE_SANDBOX"] = cls.SANDBOX
        try:
            super().setUpClass()
        except Exception:
            i.tmp.cleanup()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            cls.images.tmp.cleanup()

    def seen(self, path):
        r = self.lb.get(path)
        self.assertEqual(r.status, 200, (r, self.lb.stderr()[-3000:]))
        out = {}
        for line in r.body.decode().split("\n"):
            if "=" in line:
                k, v = line.split("=", 1)
                out[k] = v
        return out

    def test_archive_serves_the_event_with_the_images_settings(self):
        s = self.seen("/archive/hello?x=1")
        event = json.loads(s["event"])
        self.assertEqual(event["path"], "/archive/hello")
        self.assertEqual(event["queryStringParameters"], {"x": "1"})
        # Entrypoint + Cmd, WorkingDir, the image's Env under Lambda's and the function's
        self.assertEqual(s["argv"], "/usr/local/bin/bootstrap app.handler")
        self.assertEqual(s["cwd"], "/var/task")
        self.assertEqual(s["GREETING"], "hello from the image")
        self.assertEqual(s["OVERRIDE"], "function")
        self.assertEqual(s["FROM_FUNCTION"], "yes")
        self.assertEqual(s["PATH"], "/usr/local/bin:/usr/bin:/bin")
        self.assertEqual(s["_HANDLER"], "app.handler")
        self.assertEqual(s["LAMBDA_TASK_ROOT"], "/var/task")
        self.assertEqual(s["AWS_LAMBDA_FUNCTION_NAME"], "archive")
        self.assertEqual(s["AWS_REGION"], "us-east-1")
        self.assertEqual(s["TMPDIR"], "(unset)")

    def test_layers_apply_in_order_with_whiteouts(self):
        s = self.seen("/archive")
        self.assertEqual(s["/etc/kept.txt"], "yes")
        self.assertEqual(s["/etc/hard.txt"], "yes")
        self.assertEqual(s["/etc/layer2.txt"], "yes")
        self.assertEqual(s["/etc/removed.txt"], "no")       # .wh.removed.txt
        self.assertEqual(s["/var/task/old/a.txt"], "no")    # .wh..wh..opq
        self.assertEqual(s["/var/task/old/b.txt"], "yes")   # the same layer's own file stays
        self.assertEqual(s["/bin/bootstrap"], "yes")        # through the image's symlink

    def test_root_is_the_image_read_only_with_a_private_tmp(self):
        s = self.seen("/archive")
        self.assertEqual(s["host_dir"], "no")
        self.assertEqual(s["write_root"], "no")
        self.assertEqual(s["write_tmp"], "yes")

    def test_image_is_unpacked_once_into_the_cache_under_its_digest(self):
        self.seen("/archive")
        self.seen("/layout")
        root = os.path.join(self.images.cache, "lb", "images")
        self.assertTrue(os.path.isdir(os.path.join(root, self.images.archive_digest, "rootfs")))
        self.assertTrue(os.path.isdir(os.path.join(root, self.images.layout_digest, "rootfs")))
        self.assertEqual(self.lb.stderr().count(self.images.archive_digest), 1, self.lb.stderr())

    def test_oci_layout_with_image_config_command_and_working_directory(self):
        s = self.seen("/layout")
        self.assertEqual(s["argv"], "/bin/bootstrap other.handler x")
        self.assertEqual(s["cwd"], "/srv")
        self.assertEqual(s["_HANDLER"], "other.handler")
        self.assertEqual(s["OVERRIDE"], "image")
        self.assertEqual(s["/etc/removed.txt"], "no")

    def test_image_config_entry_point_keeps_the_images_cmd(self):
        s = self.seen("/entry")
        self.assertEqual(s["argv"], "/usr/local/bin/bootstrap --flag app.handler")

    def test_timeout_kills_the_whole_sandbox(self):
        def sandbox_pids():
            pids = []
            for p in os.listdir("/proc"):
                try:
                    with open(f"/proc/{p}/environ", "rb") as f:
                        if b"\0AWS_LAMBDA_FUNCTION_NAME=slow\0" in b"\0" + f.read():
                            with open(f"/proc/{p}/stat") as st:
                                if st.read().rsplit(")", 1)[1].split()[0] != "Z":
                                    pids.append(p)
                except OSError:
                    pass
            return pids
        got = {}
        t = threading.Thread(target=lambda: got.setdefault("r", self.lb.get("/slow")))
        t.start()
        running = wait_for(sandbox_pids, 15)
        t.join(30)
        self.assertTrue(running, "the sandbox never ran")
        self.assertEqual(got["r"].status, 502, got)
        self.wait_stderr(self.lb, r"\[slow\] .*Task timed out after 3\.00 seconds", timeout=15)
        self.assertEqual(wait_for(lambda: not sandbox_pids(), 15), True, sandbox_pids())

    def test_layer_escaping_the_root_is_refused(self):
        r = self.lb.get("/evil")
        self.assertEqual(r.status, 502, r)
        self.assertRegex(self.lb.stderr(), r"function evil: image '[^']*evil.tar': layer [0-9a-f]{64}/layer.tar: "
                                           r"entry '\.\./escape.txt' is outside the image root")
        # refused before anything was written, and its half-built root removed
        for top in (self.images.cache, self.images.host_dir, os.path.dirname(self.images.host_dir)):
            self.assertFalse(os.path.exists(os.path.join(top, "escape.txt")), top)
        self.assertFalse(any(n.startswith(".tmp") for n in os.listdir(
            os.path.join(self.images.cache, "lb", "images"))))
        # a bad image is read once, not at every request
        r = self.lb.get("/evil")
        self.assertEqual(r.status, 502, r)
        # archive, layout, linked and evil: each unpacked once
        self.assertEqual(self.lb.stderr().count("unpacking 2 layers into"), 4, self.lb.stderr())
        self.assertEqual(self.lb.stderr().count(self.images.evil_digest), 1, self.lb.stderr())


    def test_entries_below_a_lower_layers_link_go_where_it_leads_inside_the_root(self):
        # Docker and containerd resolve an entry's parents inside the image's root: a
        # layer's lib/extra.txt goes to usr/lib when a lower layer made lib a link to usr/lib
        self.assertEqual(self.seen("/linked")["argv"], "/usr/local/bin/bootstrap app.handler")
        root = os.path.join(self.images.cache, "lb", "images", self.images.linked_digest, "rootfs")
        self.assertEqual(os.readlink(os.path.join(root, "lib")), "usr/lib")   # still the link
        usr_lib = os.path.join(root, "usr", "lib")
        self.assertEqual(sorted(os.listdir(usr_lib)), ["extra.txt", "hard.txt"])  # base.txt whited out
        self.assertEqual(os.stat(os.path.join(usr_lib, "hard.txt")).st_ino,
                         os.stat(os.path.join(usr_lib, "extra.txt")).st_ino)
        self.assertEqual(os.readlink(os.path.join(root, "data")), "/var/task")   # from the root
        self.assertTrue(os.path.isfile(os.path.join(root, "var", "task", "x.txt")))
        with open(os.path.join(root, "escape.txt")) as f:                     # '..' stops at it
            self.assertEqual(f.read(), "kept inside\n")
        for top in (self.images.cache, self.images.host_dir, os.path.dirname(self.images.host_dir)):
            self.assertFalse(os.path.exists(os.path.join(top, "escape.txt")), top)


class ImageReloadCase(LambdaCase):
    def test_reload_reads_a_changed_image_again(self):
        if not can_isolate() or not shutil.which("gcc"):
            self.skipTest("neither bubblewrap (bwrap) nor root, or no gcc")
        tmp = tempfile.TemporaryDirectory(prefix="lb-image-test-")
        self.addCleanup(tmp.cleanup)
        boot = build_bootstrap(tmp.name)
        archive = os.path.join(tmp.name, "fn.tar.gz")
        docker_save(archive, layers(boot))
        lb = self.serve([{"name": "fn", "image": archive}], {},
                        env={"XDG_CACHE_HOME": os.path.join(tmp.name, "cache")})

        def greeting():
            r = lb.get("/fn")
            self.assertEqual(r.status, 200, (r, lb.stderr()[-2000:]))
            return [l for l in r.body.decode().split("\n") if l.startswith("GREETING=")][0]
        self.assertEqual(greeting(), "GREETING=hello from the image")
        new = os.path.join(tmp.name, "new.tar.gz")
        docker_save(new, layers(boot), env=["PATH=/bin", "GREETING=rebuilt"])
        os.replace(new, archive)
        n = lb.stderr().count("reloaded ")
        lb.signal(signal.SIGHUP)
        self.assertTrue(wait_for(lambda: lb.stderr().count("reloaded ") > n, 15), lb.stderr()[-2000:])
        self.assertEqual(greeting(), "GREETING=rebuilt")
        self.assertEqual(lb.stderr().count("unpacking 2 layers into"), 2, lb.stderr())


class ImageSizeLimitCase(LambdaCase):
    """Lambda refuses an image over 10 GB (all layers uncompressed); lb refuses it before
    it fills the disk. LB_IMAGE_SIZE_MAX lowers the limit to the test image's exact size."""

    def test_image_over_the_limit_is_refused_and_leaves_nothing(self):
        if not can_isolate() or not shutil.which("gcc"):
            self.skipTest("neither bubblewrap (bwrap) nor root, or no gcc")
        tmp = tempfile.TemporaryDirectory(prefix="lb-image-test-")
        self.addCleanup(tmp.cleanup)
        boot = build_bootstrap(tmp.name)
        # layers(boot)'s files: the runtime, kept.txt, removed.txt, a.txt | layer2.txt, b.txt
        exact = len(boot) + 5 + 8 + 2 + 2 + 2
        fits = os.path.join(tmp.name, "fits")
        oci_layout(fits, layers(boot), ["/bin/bootstrap"], ["app.handler"])
        big = layers(boot)
        big[1].append(("etc/one-more.txt", "file", b"x"))   # one byte past it, in the last layer
        over = os.path.join(tmp.name, "over")
        over_digest = oci_layout(over, big, ["/bin/bootstrap"], ["app.handler"])
        # a docker save archive holds its layers as files: they count too, before a layer is read
        archive = os.path.join(tmp.name, "fn.tar")
        with open(archive, "wb") as f:
            f.write(tar_bytes([("layer.tar", "file", tar_bytes(layers(boot)[0])),
                               ("manifest.json", "file", b"[]")]))
        cache, scratch = os.path.join(tmp.name, "cache"), os.path.join(tmp.name, "scratch")
        os.makedirs(scratch)
        lb = self.serve([{"name": "fits", "image": fits}, {"name": "over", "image": over},
                         {"name": "archive", "image": archive}], {},
                        env={"XDG_CACHE_HOME": cache, "TMPDIR": scratch,
                             "LB_IMAGE_SIZE_MAX": str(exact)})
        r = lb.get("/fits")
        self.assertEqual(r.status, 200, (r, lb.stderr()[-2000:]))
        r = lb.get("/over")
        self.assertEqual(r.status, 502, r)
        self.assertRegex(lb.stderr(), r"lb: error: function over: image '[^']*/over': layer blobs/sha256/[0-9a-f]{64}: "
                                      r"entry 'etc/one-more.txt' takes 1 bytes, more than the 0 left of the limit "
                                      r"of %d bytes for an image's files \(Lambda's: 10 GB, all layers "
                                      r"uncompressed\)" % exact)
        r = lb.get("/archive")
        self.assertEqual(r.status, 502, r)
        self.assertRegex(lb.stderr(), r"function archive: image '[^']*/fn.tar': entry 'layer.tar' takes \d+ bytes, "
                                      r"more than the %d left of the limit of %d bytes" % (exact, exact))
        # nothing of either stays on disk: no half-built root, no scratch copy of the archive
        images = os.path.join(cache, "lb", "images")
        self.assertFalse(os.path.exists(os.path.join(images, over_digest)))
        self.assertEqual([n for n in os.listdir(images) if n.startswith(".tmp")], [])
        self.assertEqual([n for n in os.listdir(scratch) if n.startswith("lb-image-")], [])


class ImageWorkdirCase(LambdaCase):
    """Docker and Lambda create a working directory the image lacks, WorkingDir or ImageConfig's."""

    def serve_image(self, functions):
        if not can_isolate() or not shutil.which("gcc"):
            self.skipTest("neither bubblewrap (bwrap) nor root, or no gcc")
        tmp = tempfile.TemporaryDirectory(prefix="lb-image-test-")
        self.addCleanup(tmp.cleanup)
        boot = build_bootstrap(tmp.name)
        layout = os.path.join(tmp.name, "oci")
        digest = oci_layout(layout, layers(boot), ["/bin/bootstrap"], ["app.handler"], workdir="/app/code")
        cache = os.path.join(tmp.name, "cache")
        lb = self.serve([dict(f, image=layout) for f in functions], {}, env={"XDG_CACHE_HOME": cache})
        return lb, os.path.join(cache, "lb", "images", digest, "rootfs")

    def cwd(self, lb, path):
        r = lb.get(path)
        self.assertEqual(r.status, 200, (r, lb.stderr()[-2000:]))
        return [l for l in r.body.decode().split("\n") if l.startswith("cwd=")][0][4:]

    def test_missing_workingdir_of_the_image_is_created_with_its_root(self):
        lb, root = self.serve_image([{"name": "image"}])
        # made with the root, before any sandbox runs
        self.assertEqual(os.stat(os.path.join(root, "app", "code")).st_mode & 0o7777, 0o755)
        self.assertEqual(self.cwd(lb, "/image"), "/app/code")

    def test_missing_image_config_working_directory_is_created(self):
        lb, root = self.serve_image([
            {"name": "override", "image_config": {"working_directory": "/srv/new/dir"}},
            {"name": "linked", "image_config": {"working_directory": "/bin/work"}},  # bin -> usr/local/bin
            {"name": "file", "image_config": {"working_directory": "/etc/kept.txt/sub"}}])
        self.assertEqual(self.cwd(lb, "/override"), "/srv/new/dir")
        self.assertEqual(os.stat(os.path.join(root, "srv", "new", "dir")).st_mode & 0o7777, 0o755)
        self.assertEqual(self.cwd(lb, "/linked"), "/usr/local/bin/work")   # getcwd gives the real path
        self.assertEqual(os.readlink(os.path.join(root, "bin")), "usr/local/bin")   # still the link
        r = lb.get("/file")
        self.assertEqual(r.status, 502, r)
        self.assertRegex(lb.stderr(), r"function file: image '[^']*/oci': working directory '/etc/kept.txt/sub': "
                                      r"'/etc/kept.txt' is not a directory in the image")


# A Lambda runtime in busybox's shell: wget -S shows the request id header.
BUSYBOX_BOOTSTRAP = r"""#!/bin/sh
api="http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime/invocation"
while true; do
  wget -q -S -O /tmp/event "$api/next" 2>/tmp/headers || exit 1
  id=$(sed -n 's/^ *[Ll]ambda-[Rr]untime-[Aa]ws-[Rr]equest-[Ii]d: *//p' /tmp/headers | tr -d '\r')
  path=$(sed -n 's/.*"path": *"\([^"]*\)".*/\1/p' /tmp/event | head -n 1)
  printf '{"statusCode":200,"headers":{"content-type":"text/plain"},"body":"%s %s %s"}' \
    "$path" "$GREETING" "$(cat /etc/motto)" > /tmp/out
  wget -q -O /dev/null --post-file /tmp/out "$api/$id/response"
done
"""


class BusyboxImageCase(LambdaCase):
    """An image made of Debian's busybox-static and a shell bootstrap, as a user would build one."""

    def test_busybox_image_serves_through_lb(self):
        busybox = "/bin/busybox"
        if not can_isolate() or not os.path.exists(busybox):
            self.skipTest("no bubblewrap/root, or no busybox-static (scripts/deps.sh installs it)")
        with open(busybox, "rb") as f:
            bb = f.read()
        if b"/lib64/ld-linux" in bb[:4096]:
            self.skipTest("/bin/busybox is not the static build")
        tmp = tempfile.TemporaryDirectory(prefix="lb-image-test-")
        self.addCleanup(tmp.cleanup)
        base = [("bin", "dir", None), ("bin/busybox", "file", (bb, 0o755))]
        base += [(f"bin/{a}", "symlink", "busybox") for a in ("sh", "wget", "sed", "tr", "cat", "head")]
        base += [("etc", "dir", None), ("etc/motto", "file", b"old\n")]
        app = [("var/task/bootstrap", "file", (BUSYBOX_BOOTSTRAP.encode(), 0o755)),
               ("etc/.wh.motto", "file", b""), ("etc/motto", "file", b"from layer two\n")]
        archive = os.path.join(tmp.name, "busybox.tar")
        raws = [tar_bytes(base), tar_bytes(app)]
        config = image_config([sha(r) for r in raws], ["PATH=/bin", "GREETING=hi"],
                              ["/bin/sh"], ["/var/task/bootstrap"], "/var/task")
        files = [(sha(r) + "/layer.tar", "file", r) for r in raws]
        files += [(sha(config) + ".json", "file", config),
                  ("manifest.json", "file", json.dumps([{"Config": sha(config) + ".json",
                                                         "Layers": [f[0] for f in files]}]).encode())]
        with open(archive, "wb") as f:
            f.write(tar_bytes(files))
        lb = self.serve([{"name": "bb", "image": archive}], {},
                        env={"XDG_CACHE_HOME": os.path.join(tmp.name, "cache")})
        for i in range(2):
            r = lb.get(f"/bb/{i}")
            self.assertEqual(r.status, 200, (r, lb.stderr()[-2000:]))
            self.assertEqual(r.body, f"/bb/{i} hi from layer two".encode())


class WithoutLibarchiveCase(LambdaCase):
    """lb loads libarchive only to unpack an image: without it, that function fails, lb serves."""

    def test_image_function_fails_with_one_line_and_lb_keeps_serving(self):
        tmp = tempfile.TemporaryDirectory(prefix="lb-image-test-")
        self.addCleanup(tmp.cleanup)
        # The loader finds this empty file first, so libarchive cannot be loaded.
        libdir = os.path.join(tmp.name, "lib")
        os.makedirs(libdir)
        open(os.path.join(libdir, "libarchive.so.13"), "wb").close()
        archive = os.path.join(tmp.name, "fn.tar")
        with open(archive, "wb") as f:
            f.write(tar_bytes([("manifest.json", "file", b"[]")]))
        lb = self.serve([{"name": "fn", "image": archive}], {},
                        env={"LD_LIBRARY_PATH": libdir, "XDG_CACHE_HOME": os.path.join(tmp.name, "cache")})
        for _ in range(2):
            r = lb.get("/fn")
            self.assertEqual(r.status, 502, r)
        self.assertRegex(lb.stderr(), r"lb: error: function fn: image '[^']*fn.tar': cannot load "
                                      r"libarchive.so.13 \(install libarchive13\): .*; it fails every invocation")


class ImageChrootCase(ImageCase):
    """The same images isolated with unshare and chroot (lb as root, no bubblewrap needed)."""
    SANDBOX = "chroot"


if __name__ == "__main__":
    unittest.main()
