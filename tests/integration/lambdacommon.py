"""Shared pieces of the Lambda-target integration tests (test_lambda_*.py, test_runtime_api.py).

A config builder that writes functions and target groups as JSON flow mappings (YAML
accepts them), echo functions for Python and Node, ALB's exact error pages, raw requests,
and checks of 4xx/5xx answers against the page, lb's stderr warning and the access log.
Python stdlib only.
"""
import json
import os
import re
import time
from urllib.parse import urlsplit

from lbtest import LOG_FIELDS, Lb, LbTestCase, parse_log_line

REGION = "us-east-1"
ACCOUNT = "123456789012"
NODE = "nodejs20.x"
PYTHON = "python3.11"
PROVIDED = "provided.al2023"


def page(title):
    """ALB's nginx-style error page (alb-lambda-targets.md §2.7)."""
    t = title.encode()
    return (b"<html>\r\n<head><title>" + t + b"</title></head>\r\n<body>\r\n<center><h1>" + t +
            b"</h1></center>\r\n</body>\r\n</html>\r\n")


PAGE_400 = page("400 Bad Request")
PAGE_413 = page("413 Request Entity Too Large")
PAGE_502 = page("502 Bad Gateway")
PAGE_503 = page("503 Service Temporarily Unavailable")
PAGE_504 = page("504 Gateway Time-out")
assert len(PAGE_502) == 122 and len(PAGE_400) == 122 and len(PAGE_503) == 162

UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"
TRACE_ROOT = r"1-[0-9a-f]{8}-[0-9a-f]{24}"


def tg_arn_re(name):
    return (r"^arn:aws:elasticloadbalancing:%s:%s:targetgroup/%s/[0-9a-f]{16}$"
            % (REGION, ACCOUNT, re.escape(name)))


def fn(name, runtime=PYTHON, handler="index.handler", code="fn", **extra):
    """A function entry: name, runtime, handler, code, then any other keys as given."""
    d = {"name": name, "runtime": runtime, "handler": handler, "code": code}
    d.update(extra)
    return d


def tg(name, target=None, multi=False):
    """A lambda target group; target False gives one with no target registered."""
    d = {"name": name, "target_type": "lambda", "targets": [] if target is False else [target or name]}
    d["attributes"] = {"lambda.multi_value_headers.enabled": multi}
    return d


def lambda_config(functions, target_groups=None, routes=None, multi=False, lb_extra=None):
    """lb.yaml text and the rules dict for Lb(...).

    target_groups defaults to one per function (named like it, in the given mode).
    routes: [(conditions, target group name)], conditions being a list of path patterns or
    a list of condition mappings; default: /<tg> and /<tg>/* for each group.
    """
    if target_groups is None:
        target_groups = [tg(f["name"], multi=multi) for f in functions]
    if routes is None:
        routes = [([f"/{g['name']}", f"/{g['name']}/*"], g["name"]) for g in target_groups]
    lb = {"name": "test-alb", "region": REGION, "account_id": ACCOUNT}
    lb.update(lb_extra or {})
    text = "load_balancer: " + json.dumps(lb) + "\n"
    text += """listeners:
  - port: 0
    rules: ["rules/*.yaml"]
    default_actions:
      - type: fixed-response
        fixed_response: {status_code: "404", content_type: text/plain, message_body: "no rule matched"}
"""
    text += "target_groups:\n" + "".join(f"  - {json.dumps(g)}\n" for g in target_groups)
    if functions:
        text += "functions:\n" + "".join(f"  - {json.dumps(f)}\n" for f in functions)
    def conditions(c):
        if all(isinstance(x, str) for x in c):
            return json.dumps([{"path_pattern": {"values": c}}])
        return json.dumps(c)
    rules = "rules:\n" + "".join(
        f"  - priority: {i + 1}\n"
        f"    conditions: {conditions(c)}\n"
        f"    actions: [{{type: forward, target_group: {name}}}]\n"
        for i, (c, name) in enumerate(routes))
    if not routes:
        rules = "rules: []\n"
    return text, {"lambda.yaml": rules}


# --- functions ------------------------------------------------------------------------

# Echo: the event, the process id and a per-process call counter, as JSON. The content
# type is given in both header fields so it shows whatever the target group's mode.
# ?reflect in the query sends the request body back as the response body.
ECHO_PY = """
import json, os
count = 0
def handler(event, context):
    global count
    count += 1
    q = event.get("queryStringParameters") or event.get("multiValueQueryStringParameters") or {}
    if "reflect" in q:
        return {"statusCode": 200, "headers": {"content-type": "application/octet-stream"},
                "multiValueHeaders": {"content-type": ["application/octet-stream"]},
                "body": event["body"], "isBase64Encoded": event["isBase64Encoded"]}
    return {"statusCode": 200, "headers": {"content-type": "application/json"},
            "multiValueHeaders": {"content-type": ["application/json"]},
            "body": json.dumps({"event": event, "pid": os.getpid(), "count": count,
                                "request_id": context.aws_request_id})}
"""

ECHO_NODE = """
let count = 0;
export const handler = async (event, context) => {
  count += 1;
  const q = event.queryStringParameters || event.multiValueQueryStringParameters || {};
  if ("reflect" in q) {
    return {statusCode: 200, headers: {"content-type": "application/octet-stream"},
            multiValueHeaders: {"content-type": ["application/octet-stream"]},
            body: event.body, isBase64Encoded: event.isBase64Encoded};
  }
  return {statusCode: 200, headers: {"content-type": "application/json"},
          multiValueHeaders: {"content-type": ["application/json"]},
          body: JSON.stringify({event, pid: process.pid, count, request_id: context.awsRequestId})};
};
"""


# --- requests ---------------------------------------------------------------------------

def raw_request(method, target, headers=(), body=b"", host="example.com", length=True):
    """Request bytes: headers is a list of (name, value) (str or bytes), sent in order."""
    def b(s):
        return s if isinstance(s, bytes) else s.encode()
    lines = [b(f"{method} {target} HTTP/1.1")]
    if host is not None:
        lines.append(b"Host: " + b(host))
    for name, value in headers:
        lines.append(b(name) + b": " + b(value))
    if body and length:
        lines.append(b"Content-Length: " + str(len(body)).encode())
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie still "exists": look at its state.
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def wait_for(pred, timeout=5.0, step=0.02):
    deadline = time.time() + timeout
    while True:
        v = pred()
        if v or time.time() >= deadline:
            return v
        time.sleep(step)


def read_access_log(lb):
    return [dict(zip(LOG_FIELDS, parse_log_line(l))) | {"_raw": l}
            for l in lb.complete_log_lines()]


def request_target(entry):
    """The origin-form target of an access-log entry's request field."""
    url = entry["request"].split(" ")[1]
    u = urlsplit(url)
    return u.path + ("?" + u.query if u.query else "")


class LambdaCase(LbTestCase):
    """Helpers shared by the Lambda-target tests."""

    maxDiff = None

    def start(self, *args, **kwargs):
        """An lb stopped (and its exit checked) after the test. If it does not start,
        nothing is left open, so a test may expect that (expectedFailure)."""
        lb = Lb(*args, **kwargs)
        self.addCleanup(lb.tmp.cleanup)
        try:
            lb.start()
        except Exception:
            if lb.proc:
                if lb.proc.poll() is None:
                    lb.proc.kill()
                lb.proc.wait()
                lb.proc.stdout.close()
                lb.stderr_file.close()
                lb.proc = None
            raise
        self.addCleanup(lb.stop)
        return lb

    def serve(self, functions, files, target_groups=None, routes=None, multi=False, env=None,
              lb_extra=None):
        config, rules = lambda_config(functions, target_groups, routes, multi, lb_extra)
        return self.start(config, rules=rules, files=files, env=env)

    # -- stderr -----------------------------------------------------------------------

    def wait_stderr(self, lb, pattern, timeout=5, flags=re.M):
        rx = re.compile(pattern, flags)
        m = wait_for(lambda: rx.search(lb.stderr()), timeout)
        self.assertIsNotNone(m, f"no stderr line matching {pattern!r} in:\n{lb.stderr()[-3000:]}")
        return m

    def warning_line(self, lb, method, target, status, reason, timeout=5):
        """lb's warning for a failed invocation: `lb: warning: METHOD PATH: STATUS REASON: detail`.
        Returns the detail."""
        path = target.split("?")[0]
        m = self.wait_stderr(lb, r"^lb: warning: %s %s: %d %s: (.*)$"
                             % (re.escape(method), re.escape(path), status, re.escape(reason)),
                             timeout)
        return m.group(1)

    # -- access log ---------------------------------------------------------------------

    def log_entry(self, lb, target, timeout=5, count=1):
        """The access-log entry (the count-th, last if more) for target (path?query)."""
        def find():
            found = [e for e in read_access_log(lb) if request_target(e) == target]
            return found if len(found) >= count else None
        found = wait_for(find, timeout)
        self.assertTrue(found, f"no access-log line for {target!r}: {read_access_log(lb)!r}")
        return found[-1]

    def assert_forward_log(self, lb, target, elb_status, target_status, reason, tg_name):
        e = self.log_entry(lb, target)
        self.assertEqual(e["elb_status_code"], str(elb_status), e["_raw"])
        self.assertEqual(e["target_status_code"], str(target_status), e["_raw"])
        self.assertEqual(e["error_reason"], reason, e["_raw"])
        self.assertEqual(e["actions_executed"], "forward", e["_raw"])
        self.assertEqual(e["target_port"], "-", e["_raw"])
        self.assertRegex(e["target_group_arn"], tg_arn_re(tg_name), e["_raw"])
        return e

    # -- answers ----------------------------------------------------------------------------

    def assert_page(self, r, status_line, page_bytes):
        self.assertEqual(r.status_line, status_line, r)
        self.assertEqual(r.header("content-type"), "text/html", r)
        self.assertEqual(r.header("server"), "awselb/2.0", r)
        self.assertEqual(r.header("content-length"), str(len(page_bytes)), r)
        self.assertEqual(r.body, page_bytes, r)

    def assert_502(self, lb, r, target, reason, tg_name, method="GET", detail=None):
        """A 502 page, the access-log line and lb's warning; returns the warning's detail.
        detail: a regex the whole detail must match (re.fullmatch), or None."""
        self.assert_page(r, "HTTP/1.1 502 Bad Gateway", PAGE_502)
        self.assertEqual(len(r.body), 122)
        self.assert_forward_log(lb, target, 502, "-", reason, tg_name)
        got = self.warning_line(lb, method, target, 502, reason)
        if detail is not None:
            self.assertRegex(got, "^(?:" + detail + ")$")
        return got

    def json_body(self, r):
        self.assertEqual(r.status, 200, r)
        return json.loads(r.body)


class SharedLbCase(LambdaCase):
    """One lb for the whole class (starting the sanitized binary and runtimes costs time).
    Subclasses set FUNCTIONS, FILES and optionally TARGET_GROUPS, ROUTES, ENV."""

    FUNCTIONS = []
    FILES = {}
    TARGET_GROUPS = None
    ROUTES = None
    ENV = None

    @classmethod
    def setUpClass(cls):
        config, rules = lambda_config(cls.FUNCTIONS, cls.TARGET_GROUPS, cls.ROUTES)
        cls.lb = Lb(config, rules=rules, files=cls.FILES, env=cls.ENV)
        try:
            cls.lb.start()
        except Exception:
            cls.lb.tmp.cleanup()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            cls.lb.stop()
        finally:
            cls.lb.tmp.cleanup()
