"""The AWS SDK for JavaScript v3 (npm @aws-sdk/client-lambda) against lb's Invoke API.

lb serves `lambda_api: {port: 0}`; aws_sdk/invoke.mjs runs InvokeCommand calls with a
LambdaClient pointed at it (endpoint http://127.0.0.1:PORT, region us-east-1, dummy
credentials, no retries) and prints what the SDK returned or threw. This proves that the SDK
accepts lb's answers as AWS's: it signs and sends the request (FunctionName URI-encoded, the
Qualifier as a query parameter, X-Amz-Invocation-Type and X-Amz-Log-Type headers), reads
StatusCode, ExecutedVersion, FunctionError, LogResult and Payload from lb's answer, and turns
lb's error answers into its own exception classes (ResourceNotFoundException,
TooManyRequestsException with its Reason, ...) by their x-amzn-ErrorType and JSON bodies.
"""
import base64
import json
import os
import re
import subprocess
import time
import unittest

import clientenv  # noqa: E402
from clientenv import ACCOUNT, HERE, NODE_MODULES, REGION, ClientTestCase

SCRIPT = os.path.join(HERE, "aws_sdk", "invoke.mjs")
ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:"
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"

HANDLER = """
import os, time
def handler(event, context):
    if event.get("fail"):
        print("about to fail")
        raise RuntimeError(event["fail"])
    if "touch" in event:
        time.sleep(0.3)
        with open(event["touch"] + ".tmp", "w") as f:
            f.write(context.aws_request_id)
        os.rename(event["touch"] + ".tmp", event["touch"])
    print("handled by version", context.function_version)
    return {"event": event, "version": context.function_version, "stage": os.environ.get("STAGE"),
            "arn": context.invoked_function_arn}
"""

CONFIG = f"""load_balancer: {{name: sdk-alb, region: {REGION}, account_id: "{ACCOUNT}"}}
listeners:
  - port: 0
    default_actions:
      - {{type: fixed-response, fixed_response: {{status_code: "404"}}}}
functions:
  - name: greeter
    runtime: python3.11
    handler: index.handler
    code: fn
    environment: {{variables: {{STAGE: latest}}}}
    versions:
      - {{version: "1", environment: {{variables: {{STAGE: v1}}}}}}
      - {{version: "2", environment: {{variables: {{STAGE: v2}}}}}}
    aliases:
      - {{name: live, function_version: "2"}}
  - name: closed
    runtime: python3.11
    handler: index.handler
    code: fn
    reserved_concurrent_executions: 0
lambda_api: {{port: 0}}
"""


class AwsSdkInvoke(ClientTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        if not os.path.exists(os.path.join(NODE_MODULES, "@aws-sdk", "client-lambda", "package.json")):
            raise AssertionError("@aws-sdk/client-lambda is missing from tests/clients/node_modules "
                                 "although the install matches package-lock.json")

    def setUp(self):
        self.lb = self.start(CONFIG, files={"fn/index.py": HANDLER})
        line = self.lb.proc.stdout.readline().decode().strip()
        m = re.match(r"^lb: lambda api on http://127\.0\.0\.1:(\d+)$", line)
        self.assertIsNotNone(m, line)
        self.port = int(m.group(1))

    def sdk(self, *calls):
        p = subprocess.run([clientenv.node20(), SCRIPT, str(self.port)], input=json.dumps(list(calls)),
                           capture_output=True, text=True, timeout=60, cwd=HERE)
        self.assertEqual(p.returncode, 0, p.stderr)
        return json.loads(p.stdout)

    def test_invoke_function_version_and_alias(self):
        latest, v1, alias, arn = self.sdk(
            {"FunctionName": "greeter", "payload": {"hello": "sdk"}},
            {"FunctionName": "greeter", "Qualifier": "1", "payload": {"n": 1}},
            {"FunctionName": "greeter", "Qualifier": "live", "payload": {}},
            {"FunctionName": ARN + "greeter:1"})
        for out in (latest, v1, alias, arn):
            self.assertTrue(out["ok"], out)
            self.assertEqual(out["StatusCode"], 200)
            self.assertIsNone(out["FunctionError"])
            self.assertIsNone(out["LogResult"])
            self.assertRegex(out["requestId"], "^" + UUID + "$")
        self.assertEqual(latest["ExecutedVersion"], "$LATEST")
        self.assertEqual(json.loads(latest["Payload"]),
                         {"event": {"hello": "sdk"}, "version": "$LATEST", "stage": "latest",
                          "arn": ARN + "greeter"})
        self.assertEqual(v1["ExecutedVersion"], "1")
        self.assertEqual(json.loads(v1["Payload"])["stage"], "v1")
        self.assertEqual(alias["ExecutedVersion"], "2")
        self.assertEqual(json.loads(alias["Payload"])["arn"], ARN + "greeter:live")
        self.assertEqual(json.loads(alias["Payload"])["stage"], "v2")
        # no Payload: the function gets {}
        self.assertEqual((arn["ExecutedVersion"], json.loads(arn["Payload"])["event"]), ("1", {}))

    def test_function_error_and_log_result(self):
        failed, tailed = self.sdk(
            {"FunctionName": "greeter", "payload": {"fail": "no luck"}, "LogType": "Tail"},
            {"FunctionName": "greeter", "Qualifier": "live", "payload": {}, "LogType": "Tail"})
        self.assertTrue(failed["ok"], failed)
        self.assertEqual((failed["StatusCode"], failed["FunctionError"]), (200, "Unhandled"))
        doc = json.loads(failed["Payload"])
        self.assertEqual((doc["errorType"], doc["errorMessage"]), ("RuntimeError", "no luck"))
        log = base64.b64decode(failed["LogResult"]).decode()
        self.assertIn("about to fail\n", log)
        self.assertRegex(log, r"START RequestId: %s Version: \$LATEST\n" % failed["requestId"])
        self.assertRegex(log, r"\nREPORT RequestId: %s\tDuration: " % failed["requestId"])

        self.assertIsNone(tailed["FunctionError"])
        log = base64.b64decode(tailed["LogResult"]).decode()
        self.assertIn("handled by version 2\n", log)
        self.assertIn(f"END RequestId: {tailed['requestId']}\n", log)

    def test_event_and_dry_run(self):
        mark = os.path.join(self.lb.dir, "sdk-event")
        event, dry = self.sdk(
            {"FunctionName": "greeter", "InvocationType": "Event", "payload": {"touch": mark}},
            {"FunctionName": "greeter", "InvocationType": "DryRun", "Qualifier": "1"})
        self.assertEqual((event["ok"], event["StatusCode"]), (True, 202), event)
        self.assertIn(event["Payload"], (None, ""))
        self.assertEqual((dry["ok"], dry["StatusCode"]), (True, 204), dry)
        for _ in range(200):
            if os.path.exists(mark):
                break
            time.sleep(0.05)
        with open(mark) as f:
            self.assertEqual(f.read(), event["requestId"])

    def test_service_errors_are_the_sdks_exceptions(self):
        missing, bad_qualifier, conflict, throttled, not_json, too_big = self.sdk(
            {"FunctionName": "nope", "payload": {}},
            {"FunctionName": "greeter", "Qualifier": "9", "payload": {}},
            {"FunctionName": "greeter:1", "Qualifier": "2", "payload": {}},
            {"FunctionName": "closed", "payload": {}},
            {"FunctionName": "greeter", "raw": "{not json"},
            {"FunctionName": "greeter", "InvocationType": "Event", "raw": '"' + "x" * (1024 * 1024) + '"'})
        self.assertEqual((missing["ok"], missing["name"], missing["isLambdaError"]),
                         (False, "ResourceNotFoundException", "ResourceNotFoundException"), missing)
        self.assertEqual((missing["message"], missing["httpStatusCode"], missing["fault"], missing["Type"]),
                         (f"Function not found: {ARN}nope", 404, "client", "User"))
        self.assertEqual((bad_qualifier["name"], bad_qualifier["message"]),
                         ("ResourceNotFoundException", f"Function not found: {ARN}greeter:9"))
        self.assertEqual((conflict["name"], conflict["httpStatusCode"]), ("InvalidParameterValueException", 400))
        self.assertEqual((throttled["name"], throttled["httpStatusCode"], throttled["message"],
                          throttled["Reason"]),
                         ("TooManyRequestsException", 429, "Rate Exceeded.",
                          "ReservedFunctionConcurrentInvocationLimitExceeded"))
        self.assertEqual((not_json["name"], not_json["httpStatusCode"]), ("InvalidRequestContentException", 400))
        self.assertTrue(not_json["message"].startswith("Could not parse request body into json"), not_json)
        # AWS sends RequestEntityTooLargeException, which the SDK's model does not name:
        # the SDK raises its base LambdaServiceException under that name.
        self.assertEqual((too_big["name"], too_big["httpStatusCode"], too_big["isLambdaError"]),
                         ("RequestEntityTooLargeException", 413, "LambdaServiceException"), too_big)
        self.assertEqual(too_big["message"], "1048578 byte payload is too large for the Event invocation "
                                             "type (limit 1048576 bytes)")


if __name__ == "__main__":
    unittest.main()
