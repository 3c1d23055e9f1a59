"""The bundled runtime clients (runtimes/node, runtimes/python) driven through lb.

Each test writes function code into lb's temporary directory (fn/...), configures
functions with `runtime: nodejs20.x` / `python3.11` behind a lambda target group, sends
requests through lb's listener and checks what comes back: the exact body and headers,
502 pages with their access-log error_reason, the sandbox's environment and the
function's log lines in lb's log.
"""
import base64
import json
import os
import re
import time
import unittest

from lbcommon import get_raw
from lbtest import LbTestCase

NODE = "nodejs20.x"
PYTHON = "python3.11"
REGION = "us-east-1"
ACCOUNT = "123456789012"

BAD_GATEWAY = (b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
               b"<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n")
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
ISO_TIME = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"


def make_config(functions, multi_value=False):
    """functions: [{name, runtime, handler, code="fn", env={}, memory=256, timeout=3}].

    Each function gets a target group of the same name and a rule forwarding
    /<name> and /<name>/* to it.
    """
    tgs, fns = [], []
    for f in functions:
        tgs.append(f"""
  - name: {f["name"]}
    target_type: lambda
    targets: ["{f["name"]}"]
    attributes:
      lambda.multi_value_headers.enabled: {"true" if multi_value else "false"}""")
        fns.append(f"""
  - name: {f["name"]}
    runtime: {f["runtime"]}
    handler: {f["handler"]}
    code: {f.get("code", "fn")}
    timeout: {f.get("timeout", 3)}
    memory_size: {f.get("memory", 256)}
    environment: {{variables: {json.dumps(f.get("env", {}))}}}""")
    config = f"""load_balancer:
  name: test-alb
  region: {REGION}
  account_id: "{ACCOUNT}"
listeners:
  - port: 0
    rules: ["rules/*.yaml"]
    default_actions:
      - type: fixed-response
        fixed_response: {{status_code: "404", content_type: text/plain, message_body: "no rule matched"}}
target_groups:{"".join(tgs)}
functions:{"".join(fns)}
"""
    rules = "rules:\n" + "".join(
        f"""  - priority: {i + 1}
    conditions: [{{path_pattern: {{values: ["/{f["name"]}", "/{f["name"]}/*"]}}}}]
    actions: [{{type: forward, target_group: {f["name"]}}}]
""" for i, f in enumerate(functions))
    return config, {"functions.yaml": rules}


class RuntimeCase(LbTestCase):
    def serve(self, functions, files, multi_value=False):
        config, rules = make_config(functions, multi_value)
        return self.start(config, rules=rules, files=files)

    def json_ok(self, lb, path, **kw):
        r = lb.get(path, **kw)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.header("content-type"), "application/json", r)
        return json.loads(r.body)

    def assert_502(self, lb, path, reason="LambdaUnhandled", count=None):
        r = lb.get(path)
        self.assertEqual(r.status_line, "HTTP/1.1 502 Bad Gateway", r)
        self.assertEqual(r.header("content-type"), "text/html", r)
        self.assertEqual(r.header("server"), "awselb/2.0", r)
        self.assertEqual(r.body, BAD_GATEWAY)
        lines = lb.log_lines(count or 1)
        line = [l for l in lines if l["request"].split(" ")[1].endswith(path)][-1]
        self.assertEqual(line["elb_status_code"], "502", line["_raw"])
        self.assertEqual(line["target_status_code"], "-", line["_raw"])
        self.assertEqual(line["error_reason"], reason, line["_raw"])
        return r

    def wait_log(self, lb, pattern, timeout=5):
        """Waits until lb's log (stderr) has a line matching pattern; returns the match."""
        rx = re.compile(pattern, re.M)
        deadline = time.time() + timeout
        while True:
            m = rx.search(lb.stderr())
            if m or time.time() > deadline:
                break
            time.sleep(0.05)
        self.assertIsNotNone(m, f"no log line matching {pattern!r} in:\n{lb.stderr()[-3000:]}")
        return m


# --------------------------------------------------------------------------------------
# Node.js


NODE_STYLES = {
    "fn/styles.mjs": """
        const out = (style, event) => ({
          statusCode: 200,
          headers: {"content-type": "application/json"},
          body: JSON.stringify({style, path: event.path, query: event.queryStringParameters}),
        });
        export const asyncHandler = async (event) => out("async", event);
        export function promiseHandler(event) {
          return new Promise((resolve) => setTimeout(() => resolve(out("promise", event)), 5));
        }
        export function callbackHandler(event, context, callback) {
          setTimeout(() => callback(null, out("callback", event)), 5);
        }
        export function syncHandler(event) {
          return out("sync", event);
        }
        export function succeedHandler(event, context) {
          setTimeout(() => context.succeed(out("succeed", event)), 5);
        }
        export async function nothingHandler() {}
    """,
    "fn/cjs.js": """
        exports.handler = async (event) => ({
          statusCode: 200, headers: {"content-type": "application/json"},
          body: JSON.stringify({style: "commonjs", path: event.path, query: event.queryStringParameters}),
        });
    """,
}


class NodeRuntimeTests(RuntimeCase):
    def test_handler_styles(self):
        styles = ["async", "promise", "callback", "sync", "succeed"]
        fns = [{"name": s, "runtime": NODE, "handler": f"styles.{s}Handler"} for s in styles]
        fns.append({"name": "commonjs", "runtime": NODE, "handler": "cjs.handler"})
        lb = self.serve(fns, NODE_STYLES)
        for style in styles + ["commonjs"]:
            with self.subTest(style):
                for _ in range(2):  # cold, then warm
                    r = lb.get(f"/{style}/x?a=1")
                    self.assertEqual(r.status, 200, r)
                    self.assertEqual(
                        r.body,
                        ('{"style":"%s","path":"/%s/x","query":{"a":"1"}}' % (style, style)).encode())

    def test_undefined_result_is_null(self):
        # An async handler returning nothing posts "null": not an ALB result.
        lb = self.serve([{"name": "nothing", "runtime": NODE, "handler": "styles.nothingHandler"}],
                        NODE_STYLES)
        self.assert_502(lb, "/nothing", reason="LambdaInvalidResponse")

    def test_context_and_environment(self):
        lb = self.serve(
            [{"name": "ctx", "runtime": NODE, "handler": "index.handler",
              "env": {"STAGE": "test", "GREETING": "hello world"}}],
            {"fn/index.mjs": """
                export const handler = async (event, context) => {
                  const e = process.env;
                  return {statusCode: 200, headers: {"content-type": "application/json"},
                    body: JSON.stringify({
                      awsRequestId: context.awsRequestId,
                      functionName: context.functionName,
                      functionVersion: context.functionVersion,
                      invokedFunctionArn: context.invokedFunctionArn,
                      memoryLimitInMB: context.memoryLimitInMB,
                      logGroupName: context.logGroupName,
                      logStreamName: context.logStreamName,
                      callbackWaitsForEmptyEventLoop: context.callbackWaitsForEmptyEventLoop,
                      remaining: context.getRemainingTimeInMillis(),
                      legacy: [typeof context.done, typeof context.succeed, typeof context.fail],
                      env: {
                        AWS_LAMBDA_FUNCTION_NAME: e.AWS_LAMBDA_FUNCTION_NAME,
                        AWS_LAMBDA_FUNCTION_VERSION: e.AWS_LAMBDA_FUNCTION_VERSION,
                        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: e.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
                        AWS_REGION: e.AWS_REGION, AWS_DEFAULT_REGION: e.AWS_DEFAULT_REGION,
                        AWS_LAMBDA_LOG_GROUP_NAME: e.AWS_LAMBDA_LOG_GROUP_NAME,
                        _HANDLER: e._HANDLER, TZ: e.TZ, STAGE: e.STAGE, GREETING: e.GREETING,
                      },
                      logStreamEnv: e.AWS_LAMBDA_LOG_STREAM_NAME,
                      runtimeApi: e.AWS_LAMBDA_RUNTIME_API,
                      taskRoot: e.LAMBDA_TASK_ROOT, cwd: process.cwd(),
                      traceId: e._X_AMZN_TRACE_ID ?? null,
                    })};
                };
            """})
        b = self.json_ok(lb, "/ctx")
        b2 = self.json_ok(lb, "/ctx")
        self.assertRegex(b["awsRequestId"], "^" + UUID + "$")
        self.assertNotEqual(b2.pop("awsRequestId"), b.pop("awsRequestId"))
        remaining = b.pop("remaining")
        self.assertTrue(0 < remaining <= 3000, remaining)
        self.assertTrue(b["logStreamName"], b)
        self.assertEqual(b.pop("logStreamName"), b.pop("logStreamEnv"))
        self.assertRegex(b.pop("runtimeApi"), r"^127\.0\.0\.1:\d+$")
        code_dir = os.path.realpath(os.path.join(lb.dir, "fn"))
        self.assertEqual(os.path.realpath(b.pop("taskRoot")), code_dir)
        self.assertEqual(os.path.realpath(b.pop("cwd")), code_dir)
        trace = b.pop("traceId")
        if trace is not None:
            self.assertRegex(trace, r"^Root=1-[0-9a-f]{8}-[0-9a-f]{24}")
        self.assertEqual(b, {
            "functionName": "ctx",
            "functionVersion": "$LATEST",
            "invokedFunctionArn": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:ctx",
            "memoryLimitInMB": "256",
            "logGroupName": "/aws/lambda/ctx",
            "callbackWaitsForEmptyEventLoop": True,
            "legacy": ["function", "function", "function"],
            "env": {
                "AWS_LAMBDA_FUNCTION_NAME": "ctx",
                "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
                "AWS_REGION": REGION, "AWS_DEFAULT_REGION": REGION,
                "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/ctx",
                "_HANDLER": "index.handler", "TZ": ":UTC",
                "STAGE": "test", "GREETING": "hello world",
            },
        })

    def test_node_flags_as_lambdas_bootstrap_sets_them(self):
        # Lambda's Node.js bootstrap: --expose-gc, --max-http-header-size 81920 and a V8
        # heap sized from memory_size (new space a tenth, semi-space half of it, old the rest).
        code = {"fn/index.mjs": """
            import http from 'node:http';
            import v8 from 'node:v8';
            export const handler = async () => ({statusCode: 200,
              headers: {"content-type": "application/json"},
              body: JSON.stringify({argv: process.execArgv, gc: typeof globalThis.gc,
                maxHeaderSize: http.maxHeaderSize,
                heapMB: v8.getHeapStatistics().heap_size_limit / 1048576})});
        """}
        lb = self.serve([{"name": "small", "runtime": NODE, "handler": "index.handler", "memory": 128},
                         {"name": "big", "runtime": NODE, "handler": "index.handler", "memory": 1024}], code)
        for path, semi, old in (("/small", 6, 116), ("/big", 51, 922)):
            b = self.json_ok(lb, path)
            self.assertEqual(b["argv"], ["--expose-gc", "--max-http-header-size", "81920",
                                         f"--max-semi-space-size={semi}", f"--max-old-space-size={old}"])
            self.assertEqual(b["gc"], "function")
            self.assertEqual(b["maxHeaderSize"], 81920)
            # V8's limit is the old space plus its young generation (three semi-spaces,
            # each rounded up to a power of two): 140 and 1114 MB on Node 20, not its 4 GB.
            self.assertGreaterEqual(b["heapMB"], old, b)
            self.assertLessEqual(b["heapMB"], old + 8 * semi, b)

    def test_thrown_error_is_502_and_sandbox_keeps_serving(self):
        lb = self.serve(
            [{"name": "thrower", "runtime": NODE, "handler": "index.handler"}],
            {"fn/index.mjs": """
                let n = 0;
                export const handler = async (event) => {
                  n += 1;
                  if (event.queryStringParameters.fail === "1") throw new TypeError("boom " + n);
                  return {statusCode: 200, body: "call " + n};
                };
            """})
        self.assertEqual(lb.get("/thrower?fail=0").body, b"call 1")
        self.assert_502(lb, "/thrower?fail=1", count=2)
        # the same process answers: its counter went on
        self.assertEqual(lb.get("/thrower?fail=0").body, b"call 3")
        self.wait_log(lb, r"ERROR\tInvoke Error \t\{\"errorType\":\"TypeError\",\"errorMessage\":\"boom 2\"")

    def test_unhandled_rejection_is_502_then_fresh_sandbox(self):
        lb = self.serve(
            [{"name": "reject", "runtime": NODE, "handler": "index.handler"}],
            {"fn/index.mjs": """
                let n = 0;
                export const handler = async (event) => {
                  n += 1;
                  if (event.queryStringParameters.fail === "1") {
                    Promise.reject(new Error("floating"));
                    await new Promise((r) => setTimeout(r, 100));
                  }
                  return {statusCode: 200, body: "call " + n};
                };
            """})
        self.assertEqual(lb.get("/reject").body, b"call 1")
        self.assert_502(lb, "/reject?fail=1", count=2)
        self.wait_log(lb, r"ERROR\tUnhandled Promise Rejection \t\{\"errorType\":\"Runtime\.UnhandledPromiseRejection\",\"errorMessage\":\"Error: floating\"")
        # the runtime exited after reporting: a new process starts counting again
        self.assertEqual(lb.get("/reject").body, b"call 1")

    def test_init_errors_are_502(self):
        fns = [
            {"name": "missing", "runtime": NODE, "handler": "nope.handler"},
            {"name": "syntax", "runtime": NODE, "handler": "syntax.handler"},
            {"name": "notfound", "runtime": NODE, "handler": "ok.other"},
            {"name": "throws", "runtime": NODE, "handler": "throws.handler"},
        ]
        lb = self.serve(fns, {
            "fn/syntax.mjs": "export const handler = async () => {;\n",
            "fn/ok.mjs": "export const handler = async () => ({statusCode: 200, body: 'ok'});\n",
            "fn/throws.cjs": "throw new Error('at import');\n",
        })
        count = 0
        for f, etype in [("missing", "Runtime.ImportModuleError"),
                         ("syntax", "Runtime.UserCodeSyntaxError"),
                         ("notfound", "Runtime.HandlerNotFound"),
                         ("throws", "Error")]:
            with self.subTest(f):
                for _ in range(2):  # every request tries a fresh init, and fails again
                    count += 1
                    self.assert_502(lb, f"/{f}", count=count)
                self.wait_log(lb, r"\tundefined\tERROR\tUncaught Exception \t\{\"errorType\":\"%s\""
                              % re.escape(etype))

    def test_init_error_then_retry_succeeds(self):
        # The first process to load the module fails its init; the next one succeeds.
        lb = self.serve(
            [{"name": "flaky", "runtime": NODE, "handler": "index.handler"}],
            {"fn/index.mjs": """
                import fs from "node:fs";
                // beside the code: the code itself is read-only, as on Lambda
                const marker = new URL("../initialised", import.meta.url);
                if (!fs.existsSync(marker)) {
                  fs.writeFileSync(marker, "1");
                  throw new Error("first init fails");
                }
                export const handler = async () => ({statusCode: 200, body: "second init works"});
            """})
        self.assert_502(lb, "/flaky")
        r = lb.get("/flaky")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body, b"second init works")

    def test_logging(self):
        lb = self.serve(
            [{"name": "logger", "runtime": NODE, "handler": "index.handler"}],
            {"fn/index.mjs": """
                console.log("init-marker");
                export const handler = async (event, context) => {
                  console.log("log-marker %s", "formatted", {a: 1});
                  console.warn("warn-marker");
                  console.error("error-marker");
                  return {statusCode: 200, body: context.awsRequestId};
                };
            """})
        r = lb.get("/logger")
        self.assertEqual(r.status, 200, r)
        rid = r.body.decode()
        self.assertRegex(rid, "^" + UUID + "$")
        self.wait_log(lb, ISO_TIME + r"\tundefined\tINFO\tinit-marker$")
        self.wait_log(lb, ISO_TIME + r"\t" + rid + r"\tINFO\tlog-marker formatted \{ a: 1 \}$")
        self.wait_log(lb, ISO_TIME + r"\t" + rid + r"\tWARN\twarn-marker$")
        self.wait_log(lb, ISO_TIME + r"\t" + rid + r"\tERROR\terror-marker$")
        self.wait_log(lb, r"START RequestId: " + rid)
        self.wait_log(lb, r"REPORT RequestId: " + rid)

    def test_alb_result_fields(self):
        payload = bytes(range(256))
        lb = self.serve(
            [{"name": "binary", "runtime": NODE, "handler": "index.handler"}],
            {"fn/index.mjs": """
                export const handler = async (event) => ({
                  statusCode: 201,
                  statusDescription: "201 Created",
                  headers: {"content-type": "application/octet-stream", "x-custom": "yes",
                            "x-echo": event.headers["x-in"] ?? "none"},
                  body: "%s",
                  isBase64Encoded: true,
                });
            """ % base64.b64encode(payload).decode()})
        r = lb.get("/binary", headers=["X-In: sent"])
        self.assertEqual(r.status_line, "HTTP/1.1 201 Created")
        self.assertEqual(r.header("content-type"), "application/octet-stream")
        self.assertEqual(r.header("x-custom"), "yes")
        self.assertEqual(r.header("x-echo"), "sent")
        self.assertEqual(r.header("content-length"), "256")
        self.assertEqual(r.body, payload)
        line = lb.log_lines(1)[-1]
        self.assertEqual((line["elb_status_code"], line["target_status_code"]), ("201", "201"))

    def test_multi_value_headers(self):
        lb = self.serve(
            [{"name": "multi", "runtime": NODE, "handler": "index.handler"}],
            {"fn/index.mjs": """
                export const handler = async (event) => ({
                  statusCode: 200,
                  multiValueHeaders: {"set-cookie": ["a=1", "b=2"], "content-type": ["text/plain"],
                                      "x-seen": [String(event.multiValueHeaders["x-rep"].length)]},
                  body: "multi",
                  isBase64Encoded: false,
                });
            """}, multi_value=True)
        r = lb.get("/multi", headers=["X-Rep: 1", "X-Rep: 2"])
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.header_all("set-cookie"), ["a=1", "b=2"])
        self.assertEqual(r.header("x-seen"), "2")
        self.assertEqual(r.body, b"multi")


# --------------------------------------------------------------------------------------
# Python


class PythonRuntimeTests(RuntimeCase):
    def test_handler_and_packages(self):
        fns = [{"name": "plain", "runtime": PYTHON, "handler": "app.handler"},
               {"name": "pkg", "runtime": PYTHON, "handler": "pkg.mod.handler"},
               {"name": "slash", "runtime": PYTHON, "handler": "src/app.handler"}]
        body = """
            import json
            def handler(event, context):
                return {"statusCode": 200, "headers": {"content-type": "application/json"},
                        "body": json.dumps({"where": __name__, "path": event["path"],
                                            "query": event["queryStringParameters"]})}
        """
        lb = self.serve(fns, {"fn/app.py": body, "fn/pkg/__init__.py": "", "fn/pkg/mod.py": body,
                              "fn/src/app.py": body})
        for name, module in [("plain", "app"), ("pkg", "pkg.mod"), ("slash", "src.app")]:
            with self.subTest(name):
                for _ in range(2):
                    r = lb.get(f"/{name}?q=1")
                    self.assertEqual(r.status, 200, r)
                    self.assertEqual(r.body, ('{"where": "%s", "path": "/%s", "query": {"q": "1"}}'
                                              % (module, name)).encode())

    def test_none_result_is_invalid(self):
        lb = self.serve([{"name": "none", "runtime": PYTHON, "handler": "index.handler"}],
                        {"fn/index.py": "def handler(event, context):\n    return None\n"})
        self.assert_502(lb, "/none", reason="LambdaInvalidResponse")

    def test_context_and_environment(self):
        lb = self.serve(
            [{"name": "ctx", "runtime": PYTHON, "handler": "index.handler",
              "env": {"STAGE": "test", "GREETING": "hello world"}}],
            {"fn/index.py": """
                import json, os, sys
                def handler(event, context):
                    e = os.environ
                    names = ["AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_VERSION",
                             "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_REGION", "AWS_DEFAULT_REGION",
                             "AWS_LAMBDA_LOG_GROUP_NAME", "_HANDLER", "TZ", "STAGE", "GREETING"]
                    return {"statusCode": 200, "headers": {"content-type": "application/json"},
                            "body": json.dumps({
                                "aws_request_id": context.aws_request_id,
                                "function_name": context.function_name,
                                "function_version": context.function_version,
                                "invoked_function_arn": context.invoked_function_arn,
                                "memory_limit_in_mb": context.memory_limit_in_mb,
                                "log_group_name": context.log_group_name,
                                "log_stream_name": context.log_stream_name,
                                "remaining": context.get_remaining_time_in_millis(),
                                "client_context": context.client_context,
                                "identity": [context.identity.cognito_identity_id,
                                             context.identity.cognito_identity_pool_id],
                                "env": {n: e.get(n) for n in names},
                                "log_stream_env": e.get("AWS_LAMBDA_LOG_STREAM_NAME"),
                                "runtime_api": e.get("AWS_LAMBDA_RUNTIME_API"),
                                "task_root": e.get("LAMBDA_TASK_ROOT"), "cwd": os.getcwd(),
                                "path0": sys.path[0],
                                "trace_id": e.get("_X_AMZN_TRACE_ID"),
                            })}
            """})
        b = self.json_ok(lb, "/ctx")
        self.assertRegex(b.pop("aws_request_id"), "^" + UUID + "$")
        remaining = b.pop("remaining")
        self.assertTrue(0 < remaining <= 3000, remaining)
        self.assertTrue(b["log_stream_name"], b)
        self.assertEqual(b.pop("log_stream_name"), b.pop("log_stream_env"))
        self.assertRegex(b.pop("runtime_api"), r"^127\.0\.0\.1:\d+$")
        code_dir = os.path.realpath(os.path.join(lb.dir, "fn"))
        for key in ("task_root", "cwd", "path0"):
            self.assertEqual(os.path.realpath(b.pop(key)), code_dir, key)
        trace = b.pop("trace_id")
        if trace is not None:
            self.assertRegex(trace, r"^Root=1-[0-9a-f]{8}-[0-9a-f]{24}")
        self.assertEqual(b, {
            "function_name": "ctx",
            "function_version": "$LATEST",
            "invoked_function_arn": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:ctx",
            "memory_limit_in_mb": "256",  # a string in AWS's Python runtime too
            "log_group_name": "/aws/lambda/ctx",
            "client_context": None,
            "identity": [None, None],
            "env": {
                "AWS_LAMBDA_FUNCTION_NAME": "ctx",
                "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
                "AWS_REGION": REGION, "AWS_DEFAULT_REGION": REGION,
                "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/ctx",
                "_HANDLER": "index.handler", "TZ": ":UTC",
                "STAGE": "test", "GREETING": "hello world",
            },
        })

    def test_exception_is_502_and_sandbox_keeps_serving(self):
        lb = self.serve(
            [{"name": "raiser", "runtime": PYTHON, "handler": "index.handler"}],
            {"fn/index.py": """
                calls = 0
                def handler(event, context):
                    global calls
                    calls += 1
                    if event["queryStringParameters"].get("fail") == "1":
                        raise ValueError("boom %d" % calls)
                    return {"statusCode": 200, "body": "call %d" % calls}
            """})
        self.assertEqual(lb.get("/raiser?fail=0").body, b"call 1")
        self.assert_502(lb, "/raiser?fail=1", count=2)
        self.assertEqual(lb.get("/raiser?fail=0").body, b"call 3")
        self.wait_log(lb, r"\[ERROR\] ValueError: boom 2$")

    def test_init_errors_are_502(self):
        fns = [
            {"name": "missing", "runtime": PYTHON, "handler": "nope.handler"},
            {"name": "syntax", "runtime": PYTHON, "handler": "syntax.handler"},
            {"name": "notfound", "runtime": PYTHON, "handler": "ok.other"},
            {"name": "raises", "runtime": PYTHON, "handler": "raises.handler"},
        ]
        lb = self.serve(fns, {
            "fn/syntax.py": "def handler(event, context):\n    return (\n",
            "fn/ok.py": "def handler(event, context):\n    return {'statusCode': 200}\n",
            "fn/raises.py": "raise RuntimeError('at import')\n",
        })
        count = 0
        for f, logged in [("missing", "Runtime.ImportModuleError: Unable to import module 'nope': "
                                      "No module named 'nope'"),
                          ("syntax", "Runtime.UserCodeSyntaxError: Syntax error in module 'syntax': "),
                          ("notfound", "Runtime.HandlerNotFound: Handler 'other' missing on module 'ok'"),
                          ("raises", "RuntimeError: at import")]:
            with self.subTest(f):
                for _ in range(2):
                    count += 1
                    self.assert_502(lb, f"/{f}", count=count)
                # AWS's runtime warns first, as a WARNING record without a request id
                self.wait_log(lb, r"^\[%s\] \[WARNING\]\t\d{4}-\d\d-\d\dT[\d:.]+Z\t\tLAMBDA_WARNING: "
                                  r"Unhandled exception\. The most likely cause .* see "
                                  r"https://docs\.aws\.amazon\.com/lambda/latest/dg/runtimes-update\.html\n"
                                  r"\[%s\] \[ERROR\] %s" % (f, f, re.escape(logged)))

    def test_init_error_then_retry_succeeds(self):
        lb = self.serve(
            [{"name": "flaky", "runtime": PYTHON, "handler": "index.handler"}],
            {"fn/index.py": """
                import os
                # beside the code: the code itself is read-only, as on Lambda
                marker = os.path.join(os.path.dirname(os.path.dirname(__file__)), "initialised")
                if not os.path.exists(marker):
                    open(marker, "w").close()
                    raise RuntimeError("first init fails")
                def handler(event, context):
                    return {"statusCode": 200, "body": "second init works"}
            """})
        self.assert_502(lb, "/flaky")
        r = lb.get("/flaky")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body, b"second init works")

    def test_logging(self):
        lb = self.serve(
            [{"name": "logger", "runtime": PYTHON, "handler": "index.handler"}],
            {"fn/index.py": """
                import logging
                logger = logging.getLogger()
                logger.setLevel(logging.INFO)
                print("init-marker")
                def handler(event, context):
                    print("print-marker", 1)
                    logger.info("info-marker %s", "formatted")
                    logging.getLogger("child").warning("warn-marker")
                    return {"statusCode": 200, "body": context.aws_request_id}
            """})
        r = lb.get("/logger")
        self.assertEqual(r.status, 200, r)
        rid = r.body.decode()
        self.assertRegex(rid, "^" + UUID + "$")
        self.wait_log(lb, r"init-marker$")
        self.wait_log(lb, r"print-marker 1$")
        self.wait_log(lb, r"\[INFO\]\t" + ISO_TIME + r"\t" + rid + r"\tinfo-marker formatted$")
        self.wait_log(lb, r"\[WARNING\]\t" + ISO_TIME + r"\t" + rid + r"\twarn-marker$")
        self.wait_log(lb, r"END RequestId: " + rid)

    def test_alb_result_fields(self):
        payload = bytes(range(255, -1, -1))
        lb = self.serve(
            [{"name": "binary", "runtime": PYTHON, "handler": "index.handler"}],
            {"fn/index.py": """
                def handler(event, context):
                    return {
                        "statusCode": 404,
                        "statusDescription": "404 Gone Fishing",
                        "headers": {"content-type": "image/png", "x-custom": "yes",
                                    "x-echo": event["headers"].get("x-in", "none")},
                        "body": "%s",
                        "isBase64Encoded": True,
                    }
            """ % base64.b64encode(payload).decode()})
        r = lb.get("/binary", headers=["X-In: sent"])
        self.assertEqual(r.status_line, "HTTP/1.1 404 Gone Fishing")
        self.assertEqual(r.header("content-type"), "image/png")
        self.assertEqual(r.header("x-custom"), "yes")
        self.assertEqual(r.header("x-echo"), "sent")
        self.assertEqual(r.body, payload)
        line = lb.log_lines(1)[-1]
        self.assertEqual((line["elb_status_code"], line["target_status_code"]), ("404", "404"))


class TraceIdEnv(RuntimeCase):
    """_X_AMZN_TRACE_ID, set by the runtime for each invocation as AWS's runtimes set it,
    seen by the handler, by a child process and in the list of variables; the runtimes
    set it without libc's setenv(), which keeps every value for good (a leak of some
    150 bytes per invocation: soak's sandbox-memory check)."""

    NODE_CODE = """
        import { execFileSync } from 'node:child_process';
        export const handler = async (event) => ({statusCode: 200, body: JSON.stringify({
          env: process.env._X_AMZN_TRACE_ID ?? null,
          child: execFileSync('printenv', ['_X_AMZN_TRACE_ID']).toString().trim(),
          listed: Object.keys(process.env).includes('_X_AMZN_TRACE_ID'),
          header: event.headers['x-amzn-trace-id'],
        })});
    """
    PYTHON_CODE = """
import json, os, subprocess
def handler(event, context):
    if event["path"].endswith("/quick"):
        return {"statusCode": 200, "body": "ok"}
    return {"statusCode": 200, "body": json.dumps({
        "env": os.environ.get("_X_AMZN_TRACE_ID"),
        "child": subprocess.run(["printenv", "_X_AMZN_TRACE_ID"], capture_output=True,
                                text=True).stdout.strip(),
        "listed": "_X_AMZN_TRACE_ID" in dict(os.environ),
        "header": event["headers"]["x-amzn-trace-id"],
    })}
"""

    def check(self, lb, name, roots):
        seen = set()
        for root in roots:
            r = lb.get(f"/{name}", headers=[f"X-Amzn-Trace-Id: Root={root}"])
            self.assertEqual(r.status, 200, r)
            b = json.loads(r.body)
            self.assertRegex(b["env"], r"^Root=%s;Parent=[0-9a-f]{16};Sampled=0$" % root, b)
            self.assertEqual(b["child"], b["env"], b)
            self.assertTrue(b["listed"], b)
            self.assertIn(f";Root={root}", b["header"])  # ALB puts its Self= first
            seen.add(b["env"])
        self.assertEqual(len(seen), len(roots))

    def test_node(self):
        lb = self.serve([{"name": "tr", "runtime": NODE, "handler": "index.handler"}],
                        {"fn/index.mjs": self.NODE_CODE})
        self.check(lb, "tr", ["1-67891233-abcdef012345678912345678", "1-67891234-000000000000000000000001"])

    def test_python_before_and_after_its_switch_to_a_buffer(self):
        # bootstrap.py's _TraceIdEnv uses os.environ for 999 invocations, then its buffer
        lb = self.serve([{"name": "tr", "runtime": PYTHON, "handler": "index.handler"}],
                        {"fn/index.py": self.PYTHON_CODE})
        self.check(lb, "tr", ["1-67891233-abcdef012345678912345678"])
        c = lb.connect()
        for _ in range(1000):
            c.send(get_raw("/tr/quick"))
            self.assertEqual(c.read_response().status, 200)
        c.close()
        self.check(lb, "tr", ["1-67891234-000000000000000000000001", "1-67891235-000000000000000000000002"])


if __name__ == "__main__":
    unittest.main()
