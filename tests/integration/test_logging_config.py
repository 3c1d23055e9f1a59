"""logging_config (Lambda's LoggingConfig, DESIGN.md §18): log format and levels.

With log_format JSON, lb writes Lambda's JSON platform records (platform.start,
platform.runtimeDone, platform.report) instead of START/END/REPORT, passes
AWS_LAMBDA_LOG_FORMAT / AWS_LAMBDA_LOG_LEVEL to the runtime, and the bundled Node and
Python runtimes write each application log record as one JSON object, filtered by the
application level. Every function log line in lb's stderr is "[name] <line>"; the tests
parse those lines one by one.
"""
import json
import os
import subprocess
import sys
import tempfile
import time
import unittest

from lbtest import LB_BIN, LbTestCase

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lambdacommon import NODE, PYTHON, fn, lambda_config  # noqa: E402

NODE_FN = """export const handler = async (event, context) => {
  console.trace("a trace");
  console.debug("a debug", 1);
  console.log("hello", {n: 1});
  console.info({structured: true, n: 2});
  console.warn("careful");
  console.error("failed:", new TypeError("boom"));
  return {statusCode: 200, body: JSON.stringify({id: context.awsRequestId,
    format: process.env.AWS_LAMBDA_LOG_FORMAT ?? null,
    level: process.env.AWS_LAMBDA_LOG_LEVEL ?? null})};
};
"""
PY_FN = """import json, logging, os
log = logging.getLogger()
def handler(event, context):
    log.debug("a debug")
    log.info("hello %s", "py")
    log.warning("careful", extra={"order": 7})
    try:
        raise ValueError("bad value")
    except ValueError:
        log.exception("failed")
    print("plain print")
    return {"statusCode": 200, "body": json.dumps({"id": context.aws_request_id,
            "format": os.environ.get("AWS_LAMBDA_LOG_FORMAT"),
            "level": os.environ.get("AWS_LAMBDA_LOG_LEVEL")})}
"""
THROW_FN = """export const handler = async () => { throw new RangeError("out of range"); };
"""
EXIT_FN = """
export const handler = async () => { process.exit(4); };
"""
FILES = {"fn/index.mjs": NODE_FN, "fn/index.py": PY_FN, "thrower/index.mjs": THROW_FN,
         "exiter/index.mjs": EXIT_FN}
ISO_MS = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$"


def json_fn(name, runtime, **logging):
    return fn(name, runtime, logging_config=dict({"log_format": "JSON"}, **logging))


class LoggingConfig(LbTestCase):
    def serve(self, functions):
        config, rules = lambda_config(functions)
        return self.start(config, rules=rules, files=FILES)

    def call(self, lb, path):
        r = lb.get(path)
        self.assertEqual(r.status, 200, r)
        return json.loads(r.body)

    def lines(self, lb, name, until, timeout=15):
        """The function's log lines (without "[name] "), once `until(lines)` holds."""
        deadline = time.time() + timeout
        while True:
            prefix = f"[{name}] "
            got = [l[len(prefix):] for l in lb.stderr().splitlines() if l.startswith(prefix)]
            if until(got) or time.time() > deadline:
                return got

    def records(self, lb, name, until):
        out = []
        for line in self.lines(lb, name, lambda ls: until([self._parse(l) for l in ls])):
            out.append(self._parse(line))
        return out

    @staticmethod
    def _parse(line):
        try:
            return json.loads(line)
        except ValueError:
            return line

    def platform(self, recs, type_):
        return [r for r in recs if isinstance(r, dict) and r.get("type") == type_]

    def test_json_platform_records_replace_start_end_report(self):
        lb = self.serve([json_fn("nj", NODE)])
        rid = self.call(lb, "/nj")["id"]
        recs = self.records(lb, "nj", lambda rs: self.platform(rs, "platform.report"))
        self.assertFalse([r for r in recs if isinstance(r, str) and
                          r.startswith(("START", "END", "REPORT"))], recs)
        start, = self.platform(recs, "platform.start")
        done, = self.platform(recs, "platform.runtimeDone")
        report, = self.platform(recs, "platform.report")
        self.assertRegex(start["time"], ISO_MS)
        self.assertEqual(start["record"], {"requestId": rid, "version": "$LATEST"})
        self.assertEqual((done["record"]["requestId"], done["record"]["status"]), (rid, "success"))
        self.assertGreater(done["record"]["metrics"]["producedBytes"], 0)
        rec = report["record"]
        self.assertEqual((rec["requestId"], rec["status"]), (rid, "success"))
        m = rec["metrics"]
        self.assertEqual(m["memorySizeMB"], 128)
        self.assertGreaterEqual(m["billedDurationMs"], m["durationMs"])
        self.assertIn("initDurationMs", m)  # a cold start
        self.assertGreater(m["maxMemoryUsedMB"], 0)
        # records come in order: start, application logs, runtimeDone, report
        order = [r.get("type") if isinstance(r, dict) else r for r in recs]
        self.assertLess(order.index("platform.start"), order.index("platform.runtimeDone"))
        self.assertEqual(order[-1], "platform.report")

    def test_node_application_logs_are_json_records_filtered_by_level(self):
        lb = self.serve([json_fn("nj", NODE)])
        got = self.call(lb, "/nj")
        self.assertEqual((got["format"], got["level"]), ("JSON", "INFO"))  # Lambda's default
        recs = self.records(lb, "nj", lambda rs: self.platform(rs, "platform.report"))
        app = [r for r in recs if isinstance(r, dict) and "level" in r]
        self.assertEqual([r["level"] for r in app], ["INFO", "INFO", "WARN", "ERROR"], recs)
        for r in app:
            self.assertRegex(r["timestamp"], ISO_MS)
            self.assertEqual(r["requestId"], got["id"])
        self.assertEqual(app[0]["message"], "hello { n: 1 }")
        self.assertEqual(app[1]["message"], {"structured": True, "n": 2})  # one object stays one
        self.assertEqual(app[2]["message"], "careful")
        self.assertEqual((app[3]["errorType"], app[3]["errorMessage"]), ("TypeError", "boom"))
        self.assertTrue(app[3]["message"].startswith("failed: TypeError: boom"))
        self.assertIsInstance(app[3]["stackTrace"], list)

    def test_node_debug_level_lets_debug_through(self):
        lb = self.serve([json_fn("nd", NODE, application_log_level="DEBUG")])
        self.assertEqual(self.call(lb, "/nd")["level"], "DEBUG")
        recs = self.records(lb, "nd", lambda rs: self.platform(rs, "platform.report"))
        levels = [r["level"] for r in recs if isinstance(r, dict) and "level" in r]
        self.assertEqual(levels, ["DEBUG", "INFO", "INFO", "WARN", "ERROR"])

    def test_python_application_logs_are_json_records(self):
        lb = self.serve([json_fn("pj", PYTHON)])
        got = self.call(lb, "/pj")
        recs = self.records(lb, "pj", lambda rs: self.platform(rs, "platform.report"))
        app = [r for r in recs if isinstance(r, dict) and "level" in r]
        self.assertEqual([r["level"] for r in app], ["INFO", "WARN", "ERROR"], recs)
        info, warn, err = app
        self.assertEqual((info["message"], info["logger"], info["requestId"]),
                         ("hello py", "root", got["id"]))
        self.assertRegex(info["timestamp"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        self.assertEqual(warn["order"], 7)  # extra= fields are kept
        self.assertEqual((err["errorType"], err["errorMessage"]), ("ValueError", "bad value"))
        self.assertIn("plain print", recs)  # print() is not a log record: it stays text

    def test_system_level_warn_drops_platform_records(self):
        lb = self.serve([json_fn("nw", NODE, system_log_level="WARN"),
                         json_fn("pw", PYTHON, application_log_level="ERROR")])
        self.call(lb, "/nw")
        self.call(lb, "/pw")
        # the Python function's report shows its invocation is over; its ERROR record remains
        recs = self.records(lb, "pw", lambda rs: self.platform(rs, "platform.report"))
        self.assertEqual([r["level"] for r in recs if isinstance(r, dict) and "level" in r],
                         ["ERROR"])
        node = self.records(lb, "nw", lambda rs: any(isinstance(r, dict) and r.get("level") ==
                                                     "ERROR" for r in rs))
        self.assertFalse([r for r in node if isinstance(r, dict) and "type" in r], node)
        self.assertTrue([r for r in node if isinstance(r, dict) and r.get("level") == "INFO"])

    def test_function_error_is_reported_in_the_records(self):
        lb = self.serve([fn("thrower", NODE, code="thrower",
                            logging_config={"log_format": "JSON"})])
        self.assertEqual(lb.get("/thrower").status, 502)
        recs = self.records(lb, "thrower", lambda rs: self.platform(rs, "platform.report"))
        report, = self.platform(recs, "platform.report")
        self.assertEqual((report["record"]["status"], report["record"]["errorType"]),
                         ("error", "RangeError"))
        invoke_error = [r for r in recs if isinstance(r, dict) and r.get("message") == "Invoke Error"]
        self.assertEqual(invoke_error[0]["errorType"], "RangeError")
        self.assertEqual(invoke_error[0]["errorMessage"], "out of range")

    def test_runtime_exit_is_an_error_in_the_records(self):
        # Lambda's report of a runtime gone mid-invocation: status "error" and the
        # platform's error type (the text lines before END are Text format's alone)
        lb = self.serve([fn("exiter", NODE, code="exiter", logging_config={"log_format": "JSON"})])
        self.assertEqual(lb.get("/exiter").status, 502)
        recs = self.records(lb, "exiter", lambda rs: self.platform(rs, "platform.report"))
        report, = self.platform(recs, "platform.report")
        done, = self.platform(recs, "platform.runtimeDone")
        for rec in (report, done):
            self.assertEqual((rec["record"]["status"], rec["record"]["errorType"]),
                             ("error", "Runtime.ExitError"))
        self.assertFalse([r for r in recs if isinstance(r, str) and "Runtime exited" in r], recs)

    def test_text_format_is_the_default(self):
        lb = self.serve([fn("nt", NODE), fn("pt", PYTHON, logging_config={"log_format": "Text"})])
        got = self.call(lb, "/nt")
        self.assertEqual((got["format"], got["level"]), ("Text", None))
        lines = self.lines(lb, "nt", lambda ls: any(l.startswith("REPORT") for l in ls))
        self.assertTrue(lines[0].startswith(f"START RequestId: {got['id']} Version: $LATEST"), lines)
        self.assertIn(f"{got['id']}\tINFO\thello {{ n: 1 }}", "\n".join(lines))
        self.assertIn("\tDEBUG\ta debug 1", "\n".join(lines))  # no filtering in Text format
        self.assertEqual(self.call(lb, "/pt")["format"], "Text")

    def check_config_error(self, logging, message):
        with tempfile.TemporaryDirectory() as d:
            os.mkdir(os.path.join(d, "fn"))
            config, _ = lambda_config([fn("f", NODE, logging_config=logging)])
            with open(os.path.join(d, "lb.yaml"), "w") as f:
                f.write(config)
            p = subprocess.run([LB_BIN, "check", "-c", os.path.join(d, "lb.yaml")],
                               capture_output=True, text=True, timeout=60)
            self.assertEqual(p.returncode, 1, p.stdout)
            self.assertIn(message, p.stderr)

    def test_levels_need_json_format(self):
        self.check_config_error({"application_log_level": "DEBUG"},
                                "'application_log_level' needs log_format JSON")
        self.check_config_error({"log_format": "Text", "system_log_level": "WARN"},
                                "'system_log_level' needs log_format JSON")

    def test_bad_values_are_rejected(self):
        self.check_config_error({"log_format": "json"}, "'log_format' must be")
        self.check_config_error({"log_format": "JSON", "system_log_level": "ERROR"},
                                "'system_log_level' must be")
        self.check_config_error({"log_format": "JSON", "application_log_level": "VERBOSE"},
                                "'application_log_level' must be")
        self.check_config_error({"log_fromat": "JSON"}, "unknown key 'log_fromat'")


if __name__ == "__main__":
    unittest.main()
