"""lb's web console in a real browser: Debian's headless Chromium driven by playwright-core
(tests/clients/console_browser.mjs, from tests/clients/node_modules; Chromium from Debian,
never downloaded).

lb serves a Python function at /fn and the console on `admin: {port: 0}`. The browser opens
the console, requests sent through lb appear in it live (Server-Sent Events), one opened with
the keyboard shows the event the function received (its marker header) and the function's
log, the replay button sends it again, the explain form explains a URL, and the rules,
functions and charts views render; nothing is loaded from outside lb. Screenshots, light and
dark, are written to $LB_SCREENSHOTS (default: a temporary directory) for a person to look at.
"""
import json
import os
import re
import subprocess
import tempfile

import clientenv
from clientenv import ClientTestCase, HERE

FUNCTION = """
def handler(event, context):
    print("handled", event["path"])
    return {"statusCode": 200, "headers": {"content-type": "text/plain"}, "body": "hello"}
"""

CONFIG = """
load_balancer: {name: browser-alb}
listeners:
  - port: 0
    rules: ["rules/*.yaml"]
    default_actions:
      - type: fixed-response
        fixed_response: {status_code: "404", content_type: text/plain, message_body: "no rule"}
admin: {port: 0}
target_groups:
  - {name: fn, target_type: lambda, targets: [fn]}
functions:
  - {name: fn, runtime: python3.11, handler: index.handler, code: fn}
"""

RULES = """
rules:
  - priority: 10
    conditions: [{path_pattern: {values: ["/fn", "/fn/*"]}}]
    actions: [{type: forward, target_group: fn}]
"""


class ConsoleBrowser(ClientTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        clientenv.ensure_debs("chromium")

    def test_requests_appear_live_and_show_the_event_the_function_received(self):
        lb = self.start(CONFIG, rules={"r.yaml": RULES}, files={"fn/index.py": FUNCTION})
        m = re.match(r"^lb: console on (http://127\.0\.0\.1:\d+)$", lb.proc.stdout.readline().decode().strip())
        self.assertTrue(m)
        shots = os.environ.get("LB_SCREENSHOTS") or tempfile.mkdtemp(prefix="lb-console-shots-")
        os.makedirs(shots, exist_ok=True)
        p = subprocess.run([clientenv.node20(), "console_browser.mjs", m.group(1), f"http://127.0.0.1:{lb.port}", shots],
                           cwd=HERE, capture_output=True, text=True, timeout=180)
        self.assertEqual(p.returncode, 0, p.stderr[-3000:])
        out = json.loads(p.stdout)
        self.assertNotIn("error", out, out.get("error"))
        self.assertEqual(out["title"], "lb console")
        self.assertEqual(out["outside"], [])
        self.assertEqual(out["firstStatus"], 200)
        self.assertEqual(out["rows"][:2], ["/nowhere", "/fn/page?n=1"])
        self.assertIn("/fn/page?n=1", out["detailTitle"])
        event = json.loads(out["event"])
        self.assertEqual(event["headers"]["x-marker"], "browser-marker-1")
        self.assertEqual(event["headers"]["authorization"], "Bearer ***")
        self.assertNotIn("hidden-token", out["detailText"])
        self.assertIn("handled /fn/page", out["log"])
        self.assertIn("replayed: answered 200", out["replayed"])
        self.assertTrue(out["detailHidden"])
        self.assertIn("matched: rule 10", out["explain"])
        self.assertIn("x-env", out["explain"])
        self.assertIn("forward to fn", out["rules"])
        self.assertIn("python3.11", out["functions"])
        self.assertEqual(len(out["charts"]), 3)
        self.assertEqual(out["darkBackground"], "rgb(21, 23, 26)")
        for name in ("console-light.png", "console-charts.png", "console-dark.png"):
            with open(os.path.join(shots, name), "rb") as f:
                self.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n")
