"""Weighted target groups, target-group stickiness, alias weights and health checks.

Shares are checked against a binomial 99.9% interval: with n requests and a
share p, the count must lie within n*p +/- 3.29*sqrt(n*p*(1-p)).
"""
import math
import os
import re
import time
import unittest

from lambdacommon import ACCOUNT, REGION, LambdaCase, raw_request, read_access_log, wait_for

N = 2000

WHO_PY = """
import os

def handler(event, context):
    if event["path"] == "/health":
        # beside the code: the code itself is read-only, as on Lambda
        seen = os.path.join(os.path.dirname(os.environ["LAMBDA_TASK_ROOT"]), "health-event.json")
        with open(seen, "w") as f:
            import json
            json.dump(event, f)
        failing = os.path.exists(os.path.join(os.environ["LAMBDA_TASK_ROOT"], "fail"))
        return {"statusCode": 500 if failing else 200, "body": "checked"}
    return {"statusCode": 200, "body": os.environ.get("WHO", "") + ":" + context.function_version}
"""


def binomial_bounds(n, p):
    sd = math.sqrt(n * p * (1 - p))
    return n * p - 3.29 * sd, n * p + 3.29 * sd


def config(target_groups, functions, forward, extra_rules=""):
    import json
    return ("load_balancer: " + json.dumps({"name": "test-alb", "region": REGION, "account_id": ACCOUNT})
            + "\nlisteners:\n  - port: 0\n    rules: [\"rules/*.yaml\"]\n    default_actions:\n"
            + "      - type: forward\n        forward: " + json.dumps(forward) + "\n"
            + "target_groups: " + json.dumps(target_groups) + "\n"
            + "functions: " + json.dumps(functions) + "\n")


def fn(name, who, **extra):
    d = {"name": name, "runtime": "python3.11", "handler": "index.handler", "code": "fn",
         "environment": {"variables": {"WHO": who}}}
    d.update(extra)
    return d


def tg(name, target, **extra):
    d = {"name": name, "target_type": "lambda", "targets": [target]}
    d.update(extra)
    return d


class WeightsTests(LambdaCase):
    def run_many(self, lb, n, headers=()):
        """n requests on one keep-alive connection; the bodies, counted."""
        counts = {}
        c = lb.connect()
        try:
            for _ in range(n):
                c.send(raw_request("GET", "/", headers=headers))
                r = c.read_response()
                self.assertEqual(r.status, 200, r)
                counts[r.body] = counts.get(r.body, 0) + 1
        finally:
            c.close()
        return counts

    def test_weighted_target_groups_split_traffic_by_weight(self):
        lb = self.start(config([tg("blue", "blue"), tg("green", "green")],
                               [fn("blue", "blue"), fn("green", "green")],
                               {"target_groups": [{"name": "blue", "weight": 90},
                                                  {"name": "green", "weight": 10}]}),
                        files={"fn/index.py": WHO_PY})
        counts = self.run_many(lb, N)
        lo, hi = binomial_bounds(N, 0.1)
        self.assertEqual(set(counts), {b"blue:$LATEST", b"green:$LATEST"})
        self.assertTrue(lo <= counts[b"green:$LATEST"] <= hi, counts)

    def test_weight_zero_group_gets_nothing(self):
        lb = self.start(config([tg("blue", "blue"), tg("green", "green")],
                               [fn("blue", "blue"), fn("green", "green")],
                               {"target_groups": [{"name": "blue", "weight": 5},
                                                  {"name": "green", "weight": 0}]}),
                        files={"fn/index.py": WHO_PY})
        self.assertEqual(self.run_many(lb, 200), {b"blue:$LATEST": 200})

    def test_alias_routes_by_its_additional_version_weight(self):
        lb = self.start(config([tg("api", "api:live")],
                               [fn("api", "api", versions=[{"version": "1"}, {"version": "2"}],
                                   aliases=[{"name": "live", "function_version": "1",
                                             "routing_config": {"additional_version_weights": {"2": 0.1}}}])],
                               {"target_groups": [{"name": "api"}]}),
                        files={"fn/index.py": WHO_PY})
        counts = self.run_many(lb, N)
        lo, hi = binomial_bounds(N, 0.1)
        self.assertEqual(set(counts), {b"api:1", b"api:2"})
        self.assertTrue(lo <= counts[b"api:2"] <= hi, counts)


SLOW_PY = """
import os, time

def handler(event, context):
    if event["path"] == "/slow":
        time.sleep(0.7)
    return {"statusCode": 200, "body": os.environ.get("WHO", "") + ":" + context.function_version}
"""


class AliasReloadTests(LambdaCase):
    run_many = WeightsTests.run_many

    def alias_config(self, weight):
        return config([tg("api", "api:live")],
                      [fn("api", "api", versions=[{"version": "1"}, {"version": "2"}],
                          aliases=[{"name": "live", "function_version": "1",
                                    "routing_config": {"additional_version_weights": {"2": weight}}}])],
                      {"target_groups": [{"name": "api"}]})

    def test_weight_change_on_sighup_keeps_requests_in_flight(self):
        import signal
        import threading
        lb = self.start(self.alias_config(0.0), files={"fn/index.py": SLOW_PY})
        self.assertEqual(self.run_many(lb, 20), {b"api:1": 20})
        slow = {}

        def ask_slow():
            slow["r"] = lb.get("/slow")
        t = threading.Thread(target=ask_slow)
        t.start()
        time.sleep(0.2)   # the slow invocation is running on version 1
        lb.write("lb.yaml", self.alias_config(1.0))
        lb.signal(signal.SIGHUP)
        self.wait_stderr(lb, r"^lb: reloaded ")
        t.join(10)
        self.assertEqual((slow["r"].status, slow["r"].body), (200, b"api:1"))
        self.assertEqual(self.run_many(lb, 20), {b"api:2": 20})


STICKY = {"target_groups": [{"name": "blue", "weight": 50}, {"name": "green", "weight": 50}],
          "stickiness": {"enabled": True, "duration": 3600}}


class StickinessTests(LambdaCase):
    def start_sticky(self):
        return self.start(config([tg("blue", "blue"), tg("green", "green")],
                                 [fn("blue", "blue"), fn("green", "green")], STICKY),
                          files={"fn/index.py": WHO_PY})

    def test_answers_carry_albs_two_cookies(self):
        lb = self.start_sticky()
        r = lb.get("/")
        cookies = r.header_all("set-cookie")
        self.assertEqual(len(cookies), 2, r)
        plain, cors = cookies
        self.assertRegex(plain, r"^AWSALBTG=[A-Za-z0-9+/=]+; Expires=\w{3}, \d\d \w{3} \d{4} "
                                r"\d\d:\d\d:\d\d GMT; Path=/$")
        self.assertRegex(cors, r"^AWSALBTGCORS=[A-Za-z0-9+/=]+; Expires=.* GMT; Path=/; "
                               r"SameSite=None; Secure$")
        self.assertEqual(plain.split(";")[0].split("=", 1)[1], cors.split(";")[0].split("=", 1)[1])
        expires = time.mktime(time.strptime(plain.split("Expires=")[1].split(";")[0],
                                            "%a, %d %b %Y %H:%M:%S GMT")) - time.timezone
        self.assertAlmostEqual(expires, time.time() + 3600, delta=5)

    def test_cookie_pins_one_client_to_its_group(self):
        lb = self.start_sticky()
        first = lb.get("/")
        cookie = first.header_all("set-cookie")[0].split(";")[0]
        c = lb.connect()
        self.addCleanup(c.close)
        for _ in range(100):
            c.send(raw_request("GET", "/", headers=[("Cookie", cookie)]))
            self.assertEqual(c.read_response().body, first.body)

    def test_without_the_cookie_weights_decide(self):
        lb = self.start_sticky()
        seen = {lb.get("/").body for _ in range(100)}
        self.assertEqual(seen, {b"blue:$LATEST", b"green:$LATEST"})

    def test_forged_cookie_is_logged_and_routed_by_weight(self):
        lb = self.start_sticky()
        r = lb.get("/", headers=["Cookie: AWSALBTG=Z3JlZW4AAAAAAAAAAAAAAAAAAAAAAA=="])
        self.assertEqual(r.status, 200)
        self.assertTrue(wait_for(lambda: read_access_log(lb)))
        self.assertEqual(read_access_log(lb)[-1]["error_reason"], "AWSALBTGCookieInvalid")


HEALTH = {"enabled": True, "path": "/health", "interval": 5, "timeout": 2,
          "healthy_threshold": 2, "unhealthy_threshold": 2, "matcher": "200"}


class HealthCheckTests(LambdaCase):
    def test_state_follows_the_function_and_routing_fails_open(self):
        lb = self.start(config([tg("api", "api", health_check=HEALTH)], [fn("api", "api")],
                               {"target_groups": [{"name": "api"}]}),
                        files={"fn/index.py": WHO_PY}, env={"LB_HEALTH_INTERVAL_MS": "150"})
        healthy = r"^lb: target group api: target api is healthy \(status 200\)$"
        unhealthy = (r"^lb: target group api: target api is unhealthy "
                     r"\(status 500 does not match 200\)$")
        self.wait_stderr(lb, healthy, timeout=10)
        open(os.path.join(lb.dir, "fn", "fail"), "w").close()
        self.wait_stderr(lb, unhealthy, timeout=10)
        # ALB routes to unhealthy targets when all are unhealthy (fail open).
        self.assertEqual(lb.get("/").body, b"api:$LATEST")
        os.unlink(os.path.join(lb.dir, "fn", "fail"))
        self.assertTrue(wait_for(lambda: len(re.findall(healthy, lb.stderr(), re.M)) == 2, timeout=10))

    def test_health_check_event_is_albs(self):
        import json
        lb = self.start(config([tg("api", "api", health_check=HEALTH)], [fn("api", "api")],
                               {"target_groups": [{"name": "api"}]}),
                        files={"fn/index.py": WHO_PY}, env={"LB_HEALTH_INTERVAL_MS": "150"})
        path = os.path.join(lb.dir, "health-event.json")
        self.assertTrue(wait_for(lambda: os.path.exists(path) and os.path.getsize(path) > 0, timeout=10))
        time.sleep(0.05)
        with open(path) as f:
            event = json.load(f)
        self.assertEqual(event["httpMethod"], "GET")
        self.assertEqual(event["path"], "/health")
        self.assertEqual(event["headers"], {"user-agent": "ELB-HealthChecker/2.0"})
        self.assertEqual(event["queryStringParameters"], {})
        self.assertEqual(event["body"], "")
        self.assertIs(event["isBase64Encoded"], False)
        self.assertRegex(event["requestContext"]["elb"]["targetGroupArn"],
                         r"^arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/api/[0-9a-f]{16}$")

    def test_health_checks_are_off_by_default(self):
        lb = self.start(config([tg("api", "api")], [fn("api", "api")],
                               {"target_groups": [{"name": "api"}]}),
                        files={"fn/index.py": WHO_PY}, env={"LB_HEALTH_INTERVAL_MS": "100"})
        time.sleep(0.5)
        self.assertFalse(os.path.exists(os.path.join(lb.dir, "fn", "health-event.json")))
        self.assertNotIn("healthy", lb.stderr())


if __name__ == "__main__":
    unittest.main()
