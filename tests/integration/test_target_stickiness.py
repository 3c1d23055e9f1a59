"""Target stickiness (alb-http-targets-and-tls.md §1.11): lb_cookie with AWSALB and
AWSALBCORS (attributes, 7-day expiry, precedence, duration, invalid cookies, an
unhealthy target), and app_cookie with AWSALBAPP-0..3 following the target's own
cookie.
"""
import email.utils
import time

from targetcommon import HEALTH, TargetsCase, health_line, http_group, who

LB_COOKIE = {"stickiness.enabled": "true", "stickiness.type": "lb_cookie"}
APP_COOKIE = {"stickiness.enabled": "true", "stickiness.type": "app_cookie",
              "stickiness.app_cookie.cookie_name": "SESSION"}
WEEK = 7 * 24 * 3600


def set_cookies(r):
    """{name: (value, [attributes])} of r's Set-Cookie headers."""
    out = {}
    for v in r.header_all("Set-Cookie"):
        parts = [p.strip() for p in v.split(";")]
        name, _, value = parts[0].partition("=")
        out[name] = (value, parts[1:])
    return out


def cookie_header(cookies):
    return "Cookie: " + "; ".join(f"{k}={v}" for k, v in cookies.items())


class LbCookieTests(TargetsCase):
    def start(self, attrs=None):
        self.a, self.b = self.backends("a", "b")
        self.lb = self.start_lb([http_group("web", [self.a, self.b], health=HEALTH,
                                            attributes=dict(LB_COOKIE, **(attrs or {})))])
        self.wait_healthy(self.lb, self.a, self.b)

    def test_cookies_and_their_attributes(self):
        self.start()
        r = self.lb.get("/echo")
        c = set_cookies(r)
        self.assertEqual(sorted(c), ["AWSALB", "AWSALBCORS"])
        (v, attrs), (cv, cattrs) = c["AWSALB"], c["AWSALBCORS"]
        # Same value; AWSALB: Expires and Path only; AWSALBCORS adds SameSite=None; Secure (§1.11.2).
        self.assertEqual(v, cv)
        self.assertRegex(v, r"^[A-Za-z0-9+/=_-]{20,}$")
        self.assertEqual([a.split("=")[0] for a in attrs], ["Expires", "Path"])
        self.assertEqual(attrs[1], "Path=/")
        self.assertEqual(cattrs, attrs + ["SameSite=None", "Secure"])
        # Expires: 7 days after the answer, whatever the duration (§1.11.2).
        expires = email.utils.parsedate_to_datetime(attrs[0][len("Expires="):]).timestamp()
        self.assertLessEqual(abs(expires - time.time() - WEEK), 5)

    def test_sticky_over_100_requests(self):
        self.start()
        first = self.lb.get("/echo")
        target = who(first)
        cookies = {k: v for k, (v, _) in set_cookies(first).items()}
        for name in ("AWSALB", "AWSALBCORS"):
            c = self.lb.connect()
            for _ in range(50):
                c.send(f"GET /echo HTTP/1.1\r\nHost: h\r\nCookie: {name}={cookies[name]}\r\n\r\n".encode())
                r = c.read_response()
                self.assertEqual(who(r), target)
                # Every answer renews the cookies (§1.11.1).
                self.assertEqual(sorted(set_cookies(r)), ["AWSALB", "AWSALBCORS"])
            c.close()

    def test_cors_cookie_wins(self):
        self.start()
        bound = {}
        while len(bound) < 2:
            r = self.lb.get("/echo")
            bound[who(r)] = set_cookies(r)["AWSALB"][0]
        # Both cookies, naming different targets: AWSALBCORS takes precedence (§1.11.2).
        for _ in range(5):
            r = self.lb.get("/echo", headers=[f"Cookie: AWSALB={bound['a']}; AWSALBCORS={bound['b']}"])
            self.assertEqual(who(r), "b")

    def test_binding_ends_with_the_duration(self):
        self.start({"stickiness.lb_cookie.duration_seconds": 1})
        r = self.lb.get("/echo")
        old = set_cookies(r)["AWSALB"][0]
        time.sleep(2.2)   # past the 1 s duration whatever the load
        # Expired binding: the algorithm picks again (both targets answer) and a new cookie is set.
        seen = set()
        for _ in range(4):
            r = self.lb.get("/echo", headers=[f"Cookie: AWSALB={old}"])
            seen.add(who(r))
            self.assertNotEqual(set_cookies(r)["AWSALB"][0], old)
        self.assertEqual(seen, {"a", "b"})

    def test_invalid_cookie_is_ignored_and_replaced(self):
        self.start()
        good = set_cookies(self.lb.get("/echo"))["AWSALB"][0]
        forged = good[:-6] + ("AAAAAA" if not good.endswith("AAAAAA") else "BBBBBB")
        seen = set()
        for value in (forged, "garbage", ""):
            for _ in range(2):
                r = self.lb.get("/echo", headers=[f"Cookie: AWSALB={value}"])
                self.assertEqual(r.status, 200)
                seen.add(who(r))
                self.assertNotIn(set_cookies(r)["AWSALB"][0], (forged, "garbage", ""))
        self.assertEqual(seen, {"a", "b"})

    def test_unhealthy_target_moves_the_client(self):
        self.start()
        r = self.lb.get("/echo")
        target, cookie = who(r), set_cookies(r)["AWSALB"][0]
        sick = self.a if target == "a" else self.b
        sick.health_status = 500
        self.wait_stderr(self.lb, health_line(sick, "unhealthy (was healthy)"))
        # ALB: a cookie naming an unhealthy target → a new target, cookie updated (§1.11.4).
        r = self.lb.get("/echo", headers=[f"Cookie: AWSALB={cookie}"])
        self.assertNotEqual(who(r), target)
        moved = set_cookies(r)["AWSALB"][0]
        for _ in range(5):
            self.assertEqual(who(self.lb.get("/echo", headers=[f"Cookie: AWSALB={moved}"])), who(r))

    def test_lambda_style_group_without_stickiness_sets_no_cookie(self):
        a, b = self.backends("a", "b")
        lb = self.start_lb([http_group("web", [a, b], health=HEALTH)])
        self.wait_healthy(lb, a, b)
        self.assertEqual(set_cookies(lb.get("/echo")), {})


class AppCookieTests(TargetsCase):
    def start(self):
        self.a, self.b = self.backends("a", "b")
        self.lb = self.start_lb([http_group("web", [self.a, self.b], health=HEALTH, attributes=APP_COOKIE)])
        self.wait_healthy(self.lb, self.a, self.b)

    def test_no_alb_cookie_until_the_target_sets_its_own(self):
        self.start()
        for _ in range(3):
            self.assertEqual(set_cookies(self.lb.get("/echo")), {})

    def test_alb_cookie_follows_the_application_cookie(self):
        self.start()
        r = self.lb.get("/cookie?name=SESSION&value=s1")
        target = who(r)
        c = set_cookies(r)
        # The target's cookie passes through, and ALB adds AWSALBAPP-0..3 (§1.11.3).
        self.assertEqual(c["SESSION"], ("s1", ["Path=/"]))
        self.assertEqual(sorted(k for k in c if k.startswith("AWSALBAPP-")),
                         ["AWSALBAPP-0", "AWSALBAPP-1", "AWSALBAPP-2", "AWSALBAPP-3"])
        self.assertNotEqual(c["AWSALBAPP-0"][0], "_remove_")
        self.assertEqual([c[f"AWSALBAPP-{i}"][0] for i in (1, 2, 3)], ["_remove_"] * 3)
        attrs = c["AWSALBAPP-0"][1]
        self.assertEqual([x.split("=")[0] for x in attrs], ["Expires", "Path"])   # no SameSite for non-Chromium
        jar = {"SESSION": "s1"} | {k: v for k, (v, _) in c.items() if k.startswith("AWSALBAPP-")}
        conn = self.lb.connect()
        for _ in range(100):
            conn.send(f"GET /cookie?name=SESSION&value=s1 HTTP/1.1\r\nHost: h\r\n{cookie_header(jar)}\r\n\r\n".encode())
            r = conn.read_response()
            self.assertEqual(who(r), target)
        conn.close()
        # The application cookie reaches the target untouched.
        self.assertIn("SESSION=s1", r.body.decode())

    def test_binding_renewed_without_the_target_cookie(self):
        self.start()
        r = self.lb.get("/cookie?name=SESSION")
        target = who(r)
        jar = {k: v for k, (v, _) in set_cookies(r).items() if k.startswith("AWSALBAPP-")}
        for _ in range(6):
            r = self.lb.get("/echo", headers=[cookie_header(jar)])
            self.assertEqual(who(r), target)
            # Each answer resets ALB's cookie (§1.11.3), even when the target set none.
            self.assertIn("AWSALBAPP-0", set_cookies(r))

    def test_chromium_gets_samesite(self):
        self.start()
        r = self.lb.get("/cookie?name=SESSION", headers=["User-Agent: Mozilla/5.0 Chrome/120.0.0.0 Safari/537.36"])
        self.assertEqual(set_cookies(r)["AWSALBAPP-0"][1][-2:], ["SameSite=None", "Secure"])

    def test_session_moves_for_good_when_its_target_fails(self):
        self.start()
        r = self.lb.get("/cookie?name=SESSION")
        target = who(r)
        jar = {k: v for k, (v, _) in set_cookies(r).items() if k.startswith("AWSALBAPP-")}
        sick = self.a if target == "a" else self.b
        sick.health_status = 500
        self.wait_stderr(self.lb, health_line(sick, "unhealthy (was healthy)"))
        r = self.lb.get("/echo", headers=[cookie_header(jar)])
        moved_to = who(r)
        self.assertNotEqual(moved_to, target)
        jar = {k: v for k, (v, _) in set_cookies(r).items() if k.startswith("AWSALBAPP-")}
        sick.health_status = 200
        self.wait_stderr(self.lb, health_line(sick, "healthy (was unhealthy)"))
        # ALB: the session stays on the new target even after the old one recovers (§1.11.3).
        for _ in range(6):
            self.assertEqual(who(self.lb.get("/echo", headers=[cookie_header(jar)])), moved_to)
