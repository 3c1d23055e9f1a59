"""Temporary directories an lb killed with SIGKILL leaves are removed by the next lb (README
"Lambda targets": a sandbox's /tmp).

lb names the directories it makes with its process id: $TMPDIR/lb-tmp-PID-XXXXXX (a
sandbox's /tmp), lb-layers-PID-XXXXXX (merged layers, extracted .zip code), lb-image-PID-XXXXXX
(an image archive's scratch copy) and .tmp-PID-XXXXXX in the image cache (a root being
unpacked). An lb stopped by SIGTERM removes its own; one killed with SIGKILL cannot. The next
lb to serve removes, before it listens, each of those whose pid is no live process and that
its user owns, and says so in one line naming the pids. Everything else stays: the same names
with a live pid, pid-less names, other names, files, other users' directories.
"""
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import unittest

from lambdacommon import PYTHON, LambdaCase, fn, pid_alive, wait_for
from test_lambda_zip_code import make_zip

PID_ZIP = make_zip({"index.py": "import json, os\n"
                                "def handler(e, c):\n"
                                "    return {'statusCode': 200, 'body': json.dumps("
                                "{'pid': os.getpid(), 'pgid': os.getpgid(0), "
                                "'tmp': os.environ['TMPDIR']})}\n"})


def gone_pid():
    """The pid of a process that has exited and been reaped."""
    p = subprocess.Popen(["true"])
    p.wait()
    return p.pid


class LeftoverTest(LambdaCase):

    def tmpdir(self):
        d = tempfile.mkdtemp(prefix="lbtest-tmpdirs-")
        self.addCleanup(shutil.rmtree, d, True)
        return d

    def plant(self, parent, name, file=False):
        path = os.path.join(parent, name)
        if file:
            with open(path, "w") as f:
                f.write("x")
            return path
        os.makedirs(os.path.join(path, "sub"))
        with open(os.path.join(path, "sub", "data"), "w") as f:
            f.write("x")
        return path

    def kill_sandbox(self, pgid):
        """Kills the process group of a sandbox of the killed lb, if it is still there."""
        try:
            os.killpg(pgid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def test_directories_of_a_killed_lb_are_removed_by_the_next_one(self):
        tmp, cache = self.tmpdir(), self.tmpdir()
        images = os.path.join(cache, "lb", "images")
        os.makedirs(images)
        env = {"TMPDIR": tmp, "XDG_CACHE_HOME": cache}
        fns, files = [fn("z", PYTHON, "index.handler", "z.zip")], {"z.zip": PID_ZIP}

        first = self.serve(fns, files, env=env)
        pid = first.proc.pid
        r = first.get("/z")
        self.assertEqual(r.status, 200, first.stderr()[-3000:])
        out = json.loads(r.body)
        self.assertNotEqual(out["pgid"], os.getpgrp())   # its own group, which is killed below
        self.addCleanup(self.kill_sandbox, out["pgid"])
        # the sandbox's /tmp and the extracted zip carry the pid of the lb that made them
        made = sorted(os.listdir(tmp))
        self.assertEqual(len(made), 2, made)
        self.assertRegex(made[0], r"^lb-layers-%d-[A-Za-z0-9]{6}$" % pid)
        self.assertRegex(made[1], r"^lb-tmp-%d-[A-Za-z0-9]{6}$" % pid)
        self.assertEqual(out["tmp"], os.path.join(tmp, made[1]))
        first.signal(signal.SIGKILL)
        first.proc.wait()
        first.stop(check=False)
        self.assertFalse(pid_alive(pid))
        # its sandbox dies with it (test_lambda_sandboxes): gone before the next lb
        self.kill_sandbox(out["pgid"])
        self.assertTrue(wait_for(lambda: not pid_alive(out["pid"])))
        self.assertEqual(sorted(os.listdir(tmp)), made)      # nobody removed them

        # an image archive's scratch copy and a root being unpacked, of lbs that are gone
        other = gone_pid()
        scratch = self.plant(tmp, f"lb-image-{other}-Q1w2E3")
        outside = self.plant(tmp, "outside-the-tree")
        os.symlink(outside, os.path.join(scratch, "link"))   # removed, not followed
        unpacking = self.plant(images, f".tmp-{pid}-aZ09bY")
        # what stays: a live pid (this test's), pid-less names of older lbs, other names,
        # a file, the cache's own prefix in $TMPDIR, a finished image root
        live = os.getpid()
        keep = [self.plant(tmp, f"lb-tmp-{live}-abcdef"),
                self.plant(tmp, f"lb-layers-{live}-abcdef"),
                self.plant(tmp, "lb-tmp-abcdef"),
                self.plant(tmp, "lb-layers-123456"),
                self.plant(tmp, f"lb-tmpx-{other}-abcdef"),
                self.plant(tmp, f"lb-inline-{os.geteuid()}-abcdef"),
                self.plant(tmp, f"lb-tmp-{other}-abcdef.old"),
                self.plant(tmp, f"lb-image-{other}-ABCDEF", file=True),
                self.plant(tmp, f".tmp-{other}-abcdef"),
                self.plant(images, f".tmp-{live}-abcdef"),
                self.plant(images, "ab" * 32),
                outside]
        if os.geteuid() == 0:
            # another user's directory, with a pid that is gone
            theirs = self.plant(tmp, f"lb-tmp-{other}-nobody")
            for top, dirs, names in os.walk(theirs):
                for n in [top] + [os.path.join(top, x) for x in names]:
                    os.lchown(n, 65534, 65534)
            keep.append(theirs)

        second = self.serve(fns, files, env=env)
        # said, and done, before lb said it listens
        m = re.search(r"^lb: removed 4 temporary directories left by lb processes that are gone "
                      r"\(pids (\d+), (\d+)\)$", second.stderr(), re.M)
        self.assertIsNotNone(m, second.stderr())
        self.assertEqual(sorted(map(int, m.groups())), sorted([pid, other]))
        self.assertEqual(second.stderr().count("temporary director"), 1, second.stderr())
        for path in made:
            self.assertFalse(os.path.lexists(os.path.join(tmp, path)), path)
        self.assertFalse(os.path.lexists(scratch))
        self.assertFalse(os.path.lexists(unpacking))
        for path in keep:
            self.assertTrue(os.path.lexists(path), path)
        self.assertTrue(os.path.exists(os.path.join(outside, "sub", "data")))
        # the new lb serves, in directories of its own, and removes them when it stops
        self.assertEqual(second.get("/z").status, 200, second.stderr()[-3000:])
        own = [n for n in os.listdir(tmp) if re.match(r"^lb-(tmp|layers)-%d-" % second.proc.pid, n)]
        self.assertEqual(len(own), 2, os.listdir(tmp))
        second.stop()
        self.assertEqual(sorted(os.listdir(tmp)), sorted(os.path.basename(p) for p in keep
                                                         if os.path.dirname(p) == tmp))

    def test_nothing_to_remove_says_nothing(self):
        tmp = self.tmpdir()
        live = self.plant(tmp, f"lb-tmp-{os.getpid()}-abcdef")
        lb = self.serve([fn("z", PYTHON, "index.handler", "z.zip")], {"z.zip": PID_ZIP},
                        env={"TMPDIR": tmp, "XDG_CACHE_HOME": self.tmpdir()})
        self.assertEqual(lb.get("/z").status, 200, lb.stderr()[-3000:])
        self.assertNotIn("temporary director", lb.stderr())
        lb.stop()
        self.assertEqual(os.listdir(tmp), [os.path.basename(live)])


if __name__ == "__main__":
    unittest.main()
