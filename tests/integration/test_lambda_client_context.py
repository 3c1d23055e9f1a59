"""X-Amz-Client-Context through lb's Invoke API (API_Invoke; lambda-runtime-api.md §2.2):
base64 of a JSON object, at most 3,583 bytes, decoded and handed to the runtime as
Lambda-Runtime-Client-Context, which the bundled runtimes read into context.clientContext
(Node) and context.client_context (Python). An ALB invocation has none.

Each function returns what its context held, in an ALB-shaped result (so a target group
can call it too), and writes it to the file its event names, for Event invocations. The
files go to a directory the test makes: a function's code directory is read-only.
"""
import base64
import json
import os
import tempfile
import unittest

from lambdacommon import NODE, UUID, fn, lambda_config, wait_for
from test_lambda_api import ApiCase

PY = """
import json, os
def got(context):
    cc = context.client_context
    if cc is None:
        return None
    c = cc.client
    return {"custom": cc.custom, "env": cc.env,
            "client": None if c is None else {k: getattr(c, k) for k in c.__slots__}}
def handler(event, context):
    g = got(context)
    ev = event if isinstance(event, dict) else {}
    if "fail_once" in ev and not os.path.exists(ev["fail_once"]):
        open(ev["fail_once"], "w").close()
        raise ValueError("the first attempt fails")
    if "out" in ev:
        with open(ev["out"] + ".tmp", "w") as f:
            json.dump(g, f)
        os.rename(ev["out"] + ".tmp", ev["out"])
    return {"statusCode": 200, "body": json.dumps(g)}
"""

NODE_FN = """
import { writeFileSync, renameSync } from 'node:fs';
export const handler = async (event, context) => {
  const got = context.clientContext === undefined ? null : context.clientContext;
  if (event && event.out) {
    writeFileSync(event.out + '.tmp', JSON.stringify(got));
    renameSync(event.out + '.tmp', event.out);
  }
  return {statusCode: 200, body: JSON.stringify(got)};
};
"""

CONTEXT = {"client": {"installation_id": "inst-1", "app_title": "Demo", "app_version_name": "1.2",
                      "app_version_code": "12", "app_package_name": "com.example.demo"},
           "custom": {"k": "v", "n": 7},
           "env": {"platform": "Android", "locale": "en_GB"}}
# The text as a client sends it: pretty-printed, line breaks and all.
CONTEXT_TEXT = json.dumps(CONTEXT, indent=2)
CONTEXT_B64 = base64.b64encode(CONTEXT_TEXT.encode()).decode()
BAD = {"message": "Client context must be a valid Base64-encoded JSON object.", "Type": "User"}


def b64(text):
    return base64.b64encode(text.encode()).decode()


class ClientContextTests(ApiCase):
    """One lb: a Python and a Node function, each behind the Invoke API and a target group."""

    @classmethod
    def setUpClass(cls):
        functions = [fn("py"), fn("node", runtime=NODE, code="node")]
        config, rules = lambda_config(functions)
        cls.start_class_lb(config + "lambda_api: {port: 0}\n", rules,
                           {"fn/index.py": PY, "node/index.mjs": NODE_FN}, env={"LB_ASYNC_RETRY_DELAYS": "1,1"})
        cls.out = tempfile.TemporaryDirectory()

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            cls.out.cleanup()

    def path(self, name):
        return os.path.join(self.out.name, self.id().rsplit(".", 1)[-1] + "-" + name)

    def got(self, r):
        self.assertEqual(r.status, 200, r)
        self.assertIsNone(r.header("x-amz-function-error"), r)
        return json.loads(json.loads(r.body)["body"])

    def wait_json(self, path):
        self.assertTrue(wait_for(lambda: os.path.exists(path), 60),
                        f"{path} never appeared; lb's stderr:\n{self.lb.stderr()[-3000:]}")
        with open(path) as f:
            return json.load(f)

    # --- RequestResponse ------------------------------------------------------------------

    def test_python_gets_client_custom_and_env(self):
        r = self.invoke("py", {}, [("X-Amz-Client-Context", CONTEXT_B64)])
        self.assertEqual(self.got(r), CONTEXT)

    def test_node_gets_the_parsed_client_context(self):
        r = self.invoke("node", {}, [("X-Amz-Client-Context", CONTEXT_B64)])
        self.assertEqual(self.got(r), CONTEXT)

    def test_text_beyond_ascii_arrives_as_sent(self):
        # UTF-8 in the decoded JSON, read by runtimes whose HTTP heads are Latin-1
        cc = {"client": {"app_title": "Café ☕"}, "custom": {"city": "Zürich"}}
        value = base64.b64encode(json.dumps(cc, ensure_ascii=False).encode()).decode()
        r = self.invoke("py", {}, [("X-Amz-Client-Context", value)])
        got = self.got(r)
        self.assertEqual((got["client"]["app_title"], got["custom"]), ("Café ☕", {"city": "Zürich"}))
        r = self.invoke("node", {}, [("X-Amz-Client-Context", value)])
        self.assertEqual(self.got(r), cc)

    def test_a_partial_context_leaves_the_rest_empty(self):
        r = self.invoke("py", {}, [("X-Amz-Client-Context", b64('{"custom":{"only":"this"}}'))])
        self.assertEqual(self.got(r), {"custom": {"only": "this"}, "env": None, "client": None})
        r = self.invoke("node", {}, [("X-Amz-Client-Context", b64('{"custom":{"only":"this"}}'))])
        self.assertEqual(self.got(r), {"custom": {"only": "this"}})

    def test_without_the_header_there_is_no_client_context(self):
        # and a warm sandbox does not keep the previous invocation's
        for name in ("py", "node"):
            self.got(self.invoke(name, {}, [("X-Amz-Client-Context", CONTEXT_B64)]))
            self.assertIsNone(self.got(self.invoke(name, {})))
            self.assertIsNone(self.got(self.invoke(name, {}, [("X-Amz-Client-Context", "")])))

    # --- Event and DryRun -----------------------------------------------------------------

    def test_event_keeps_its_client_context_through_a_retry(self):
        for name in ("py", "node"):
            out = self.path(name)
            ev = {"out": out}
            if name == "py":
                ev["fail_once"] = self.path("failed")
            r = self.invoke(name, ev, [("X-Amz-Invocation-Type", "Event"),
                                       ("X-Amz-Client-Context", CONTEXT_B64)])
            self.assertEqual((r.status, r.body), (202, b""), r)
            self.assertRegex(r.header("x-amzn-requestid"), "^" + UUID + "$")
            self.assertEqual(self.wait_json(out), CONTEXT)
        # the Python event ran twice: its first attempt failed
        self.assertTrue(os.path.exists(self.path("failed")))
        self.wait_stderr(self.lb, r"^lb: warning: function py: Event \S+ attempt 1 of 3 failed: "
                                  r".*the first attempt fails")

    def test_dry_run_checks_the_context_and_runs_nothing(self):
        out = self.path("dry")
        r = self.invoke("py", {"out": out}, [("X-Amz-Invocation-Type", "DryRun"),
                                             ("X-Amz-Client-Context", CONTEXT_B64)])
        self.assertEqual(r.status, 204, r)
        r = self.invoke("py", {"out": out}, [("X-Amz-Invocation-Type", "DryRun"),
                                             ("X-Amz-Client-Context", b64("[1]"))])
        self.assert_error(r, 400, "InvalidRequestContentException", BAD)
        self.assertFalse(wait_for(lambda: os.path.exists(out), 0.5))

    # --- errors -----------------------------------------------------------------------------

    def test_not_base64_or_not_a_json_object_is_400(self):
        for value in ("not base64!", b64("[1, 2]"), b64('"text"'), b64('{"custom":'), "e30"):
            for invocation_type in ("RequestResponse", "Event"):
                out = self.path("bad")
                r = self.invoke("py", {"out": out}, [("X-Amz-Invocation-Type", invocation_type),
                                                     ("X-Amz-Client-Context", value)])
                self.assert_error(r, 400, "InvalidRequestContentException", BAD)
        self.assertFalse(wait_for(lambda: os.path.exists(self.path("bad")), 0.5))

    def test_more_than_3583_bytes_of_base64_is_400(self):
        # {"custom":{"pad":"xx...x"}}: 2,685 bytes are 3,580 of base64, the most that fits
        fits = '{"custom":{"pad":"%s"}}' % ("x" * (2685 - 22))
        self.assertEqual(len(b64(fits)), 3580)
        r = self.invoke("py", {}, [("X-Amz-Client-Context", b64(fits))])
        self.assertEqual(self.got(r)["custom"]["pad"], "x" * (2685 - 22))
        over = b64(fits[:-2] + 'xxx"}}')   # 2,688 bytes: 3,584 of base64
        self.assertEqual(len(over), 3584)
        r = self.invoke("py", {}, [("X-Amz-Client-Context", over)])
        self.assert_error(r, 400, "InvalidRequestContentException",
                          {"message": "Client context must be at most 3583 bytes of Base64 (got 3584).",
                           "Type": "User"})

    # --- ALB ----------------------------------------------------------------------------------

    def test_an_alb_invocation_has_no_client_context(self):
        # Real ALB sends the runtime an empty client context (alb-lambda-targets.md §4),
        # even right after an Invoke API call that had one, in the same sandbox
        for name in ("py", "node"):
            self.got(self.invoke(name, {}, [("X-Amz-Client-Context", CONTEXT_B64)]))
            r = self.lb.get(f"/{name}", headers=[f"X-Amz-Client-Context: {CONTEXT_B64}"])
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.body, b"null", r)


if __name__ == "__main__":
    unittest.main()
