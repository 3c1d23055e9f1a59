"""A real browser through lb: Debian's headless Chromium driven by playwright-core.

Chromium comes from Debian (package chromium, installed through scripts/deps.sh with
LB_DEPS_EXTRA=chromium; /usr/bin/chromium — playwright never downloads a browser here) and
is driven by tests/clients/browser.mjs with playwright-core from tests/clients/node_modules.
lb serves the Express app of test_express.py (serverless-http, multi-value target group) plus
an lb redirect rule, and the browser:

1. opens /start, which lb's own redirect action answers with 302 to /app/page?from=lb
   (Location built from the Host the browser sent, port included);
2. gets the page from the function with two Set-Cookie headers and keeps both cookies
   (path and HttpOnly attributes intact);
3. loads the PNG the function returns base64-encoded, and decodes it: 16x16, and the pixel
   at (5, 3) has the colour the image was made with;
4. fills the form and submits it: a urlencoded POST (base64 in the event), answered with 303;
   follows it with a GET that carries both cookies, and the app sees the typed text intact.
"""
import json
import subprocess
import unittest

import clientenv
from clientenv import ClientTestCase, HERE, fn_dir

REDIRECT_RULE = """  - priority: 10
    conditions: [{path_pattern: {values: ["/start"]}}]
    actions:
      - type: redirect
        redirect: {path: "/app/page", query: "from=lb", status_code: HTTP_302}
"""


class Chromium(ClientTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        clientenv.ensure_debs("chromium")

    def test_redirect_cookies_form_and_image(self):
        lb = self.serve([{"name": "app", "runtime": "nodejs20.x", "handler": "http.handler",
                          "code": fn_dir("express")}], multi_value=True,
                        extra_rules=REDIRECT_RULE)
        base = f"http://127.0.0.1:{lb.port}"
        p = subprocess.run([clientenv.node20(), "browser.mjs", base], cwd=HERE, capture_output=True,
                           text=True, timeout=180)
        self.assertEqual(p.returncode, 0, p.stderr[-3000:])
        out = json.loads(p.stdout)
        self.assertNotIn("error", out, out.get("error"))
        out["exchanges"] = [e for e in out["exchanges"] if not e["url"].endswith("/favicon.ico")]

        # 1. lb's redirect, followed.
        self.assertEqual(out["redirectChain"], [f"{base}/start", f"{base}/app/page?from=lb"])
        first = out["exchanges"][0]
        self.assertEqual((first["status"], first["location"]), (302, f"{base}/app/page?from=lb"))
        self.assertEqual(out["landed"], {"url": f"{base}/app/page?from=lb", "status": 200,
                                         "title": "lb client page"})
        self.assertEqual(out["from"], "lb")

        # 2. Both cookies kept.
        self.assertEqual(out["cookies"], [
            {"name": "session", "value": "abc123", "path": "/", "httpOnly": True},
            {"name": "theme", "value": "dark", "path": "/app", "httpOnly": False},
        ])

        # 3. The binary image, decoded by the browser.
        self.assertEqual(out["image"], {"complete": True, "width": 16, "height": 16,
                                        "pixel53": [5 * 16, 3 * 16, 5 * 3, 255]})
        png = [e for e in out["exchanges"] if e["url"] == f"{base}/app/image.png"]
        self.assertEqual([(e["status"], e["type"]) for e in png], [(200, "image/png")])

        # 4. The form: POST → 303 → GET, with both cookies at each step.
        post = [e for e in out["exchanges"] if e["method"] == "POST"]
        self.assertEqual([(e["url"], e["status"]) for e in post],
                         [(f"{base}/app/form-submit", 303)])
        self.assertTrue(post[0]["location"].startswith("/app/result?"), post)
        self.assertEqual(out["result"]["seen"], {
            "method": "GET",
            "query": {"name": "J\u00f6rg & Co", "note": "a+b=c 100% \u2713",
                      "cookiesAtPost": "session,theme"},
            "cookies": {"session": "abc123", "theme": "dark"},
        })

        # Every exchange went through lb to the function (or lb's redirect), none failed.
        statuses = [e["status"] for e in out["exchanges"]]
        self.assertEqual(statuses, [302, 200, 200, 303, 200])
        line = clientenv.access_log_line(lb, "/app/form-submit")
        self.assertEqual((line["elb_status_code"], line["target_status_code"]), ("303", "303"))
        self.assertEqual(line["request"], f"POST {base}/app/form-submit HTTP/1.1")


if __name__ == "__main__":
    unittest.main()
