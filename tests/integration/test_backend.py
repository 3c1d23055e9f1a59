"""The test backend itself (backend.py), without lb: it must frame answers exactly as
it says and record exactly what it received, or the HTTP-target tests built on it
would prove nothing. Raw sockets on one side, and Python's http.client (an
independent HTTP/1.1 implementation) where it reads the answers.
"""
import hashlib
import http.client
import json
import socket
import unittest

from backend import Backend, spawn
from backendwire import pattern, pattern_sha256


def raw_conn(port, timeout=5):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def read_until_close(sock):
    data = b""
    while True:
        piece = sock.recv(65536)
        if not piece:
            return data
        data += piece


def read_exactly(sock, n):
    data = b""
    while len(data) < n:
        piece = sock.recv(n - len(data))
        if not piece:
            raise EOFError(f"closed after {len(data)} of {n} bytes")
        data += piece
    return data


def read_head(sock):
    data = b""
    while b"\r\n\r\n" not in data:
        piece = sock.recv(1)
        if not piece:
            raise EOFError("closed inside a head")
        data += piece
    return data


class BackendCase(unittest.TestCase):
    def setUp(self):
        self.b = Backend("b1").start()
        self.addCleanup(self.b.stop)

    def raw(self, port=None, timeout=5):
        s = raw_conn(port or self.b.port, timeout)
        self.addCleanup(s.close)
        return s

    def client(self):
        c = http.client.HTTPConnection("127.0.0.1", self.b.port, timeout=10)
        self.addCleanup(c.close)
        return c


class TestRecording(BackendCase):
    def test_echo_reports_and_records_the_raw_head_in_order_and_case(self):
        head = (b"POST /echo/x?a=1&a=2 HTTP/1.1\r\nHost: Example.COM\r\nx-lower: 1\r\n"
                b"X-UPPER: 2\r\nX-Dup: a\r\nX-Dup: b\r\nContent-Length: 5\r\n\r\n")
        s = self.raw()
        s.sendall(head + b"hello")
        h = read_head(s)
        self.assertTrue(h.startswith(b"HTTP/1.1 200 OK\r\n"))
        self.assertIn(b"\r\nX-Backend-Id: b1\r\n", h)
        length = int(h.split(b"Content-Length: ")[1].split(b"\r\n")[0])
        got = json.loads(read_exactly(s, length))
        self.assertEqual(got["method"], "POST")
        self.assertEqual(got["target"], "/echo/x?a=1&a=2")
        self.assertEqual(got["version"], "HTTP/1.1")
        self.assertEqual(got["headers"], [["Host", "Example.COM"], ["x-lower", "1"], ["X-UPPER", "2"],
                                          ["X-Dup", "a"], ["X-Dup", "b"], ["Content-Length", "5"]])
        self.assertEqual((got["body_len"], got["body"]), (5, "hello"))
        self.assertEqual(got["body_sha256"], hashlib.sha256(b"hello").hexdigest())
        self.assertEqual((got["chunked"], got["conn"], got["req_on_conn"]), (False, 1, 1))
        self.assertEqual(self.b.requests[0]["head"], head)
        # The same record over HTTP, for a backend running as a process.
        c = self.client()
        c.request("GET", "/_requests")
        listed = json.loads(c.getresponse().read())
        self.assertEqual(listed["requests"][0]["head"], head.decode("latin-1"))
        self.assertEqual(len(listed["requests"]), 1)   # /_requests records nothing

    def test_keep_alive_counts_requests_per_connection_and_serves_pipelined_requests(self):
        s = self.raw()
        s.sendall(b"GET /echo HTTP/1.1\r\nHost: a\r\n\r\nGET /echo HTTP/1.1\r\nHost: a\r\n\r\n"
                  b"GET /echo HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
        data = read_until_close(s)
        self.assertEqual(data.count(b"HTTP/1.1 200 OK"), 3)
        self.assertEqual(data.count(b"Connection: close"), 1)
        self.assertIn(b'"conn": 1, "req_on_conn": 3', data)
        c = self.client()
        c.request("GET", "/echo")
        self.assertEqual(json.loads(c.getresponse().read())["conn"], 2)
        self.assertEqual([r["req_on_conn"] for r in self.b.requests], [1, 2, 3, 1])

    def test_http10_without_keep_alive_is_closed(self):
        s = self.raw()
        s.sendall(b"GET /status/200 HTTP/1.0\r\n\r\n")
        data = read_until_close(s)
        self.assertTrue(data.startswith(b"HTTP/1.1 200 OK\r\n"))
        self.assertTrue(data.endswith(b"\r\n\r\nstatus 200\n"))


class TestFraming(BackendCase):
    def test_bytes_with_content_length_chunked_and_close(self):
        c = self.client()
        c.request("GET", "/bytes?n=300000")
        r = c.getresponse()
        body = r.read()
        self.assertEqual(r.getheader("Content-Length"), "300000")
        self.assertEqual(body, pattern(0, 300000))
        c.request("GET", "/bytes?n=1M&chunked=1")
        r = c.getresponse()
        self.assertEqual(r.getheader("Transfer-Encoding"), "chunked")
        self.assertEqual(hashlib.sha256(r.read()).hexdigest(), pattern_sha256(1 << 20))
        s = self.raw()
        s.sendall(b"GET /bytes?n=70000&close=1 HTTP/1.1\r\nHost: a\r\n\r\n")
        head, _, body = read_until_close(s).partition(b"\r\n\r\n")
        self.assertNotIn(b"Content-Length", head)
        self.assertIn(b"Connection: close", head)
        self.assertEqual(body, pattern(0, 70000))

    def test_pattern_is_i_mod_251(self):
        self.assertEqual(pattern(0, 3), b"\x00\x01\x02")
        self.assertEqual(pattern(250, 3), b"\xfa\x00\x01")
        p = pattern(64000, 1000)
        self.assertEqual(p, bytes((64000 + i) % 251 for i in range(1000)))

    def test_head_204_and_304_have_no_body_and_keep_the_connection_usable(self):
        s = self.raw()
        s.sendall(b"HEAD /head-check HTTP/1.1\r\nHost: a\r\n\r\n"
                  b"GET /status/204 HTTP/1.1\r\nHost: a\r\n\r\n"
                  b"GET /status/304 HTTP/1.1\r\nHost: a\r\n\r\n"
                  b"HEAD /head-check?chunked=1 HTTP/1.1\r\nHost: a\r\n\r\n"
                  b"GET /head-check HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
        data = read_until_close(s)
        heads = data.split(b"\r\n\r\n")
        self.assertIn(b"Content-Length: 1000", heads[0])
        self.assertTrue(heads[1].startswith(b"HTTP/1.1 204 No Content"))
        self.assertNotIn(b"Content-Length", heads[1])
        self.assertTrue(heads[2].startswith(b"HTTP/1.1 304 Not Modified"))
        self.assertIn(b"Transfer-Encoding: chunked", heads[3])
        self.assertEqual(heads[5], pattern(0, 1000))   # the only body on the connection

    def test_upload_streams_content_length_and_chunked_bodies(self):
        c = self.client()
        c.request("PUT", "/upload", body=b"z" * 200000)
        self.assertEqual(json.loads(c.getresponse().read()),
                         {"len": 200000, "sha256": hashlib.sha256(b"z" * 200000).hexdigest(),
                          "chunked": False})
        s = self.raw()
        s.sendall(b"POST /upload HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                  b"3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\nX-Trailer: t\r\n\r\n"
                  b"GET /status/200 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
        data = read_until_close(s)
        self.assertIn(json.dumps({"len": 5, "sha256": hashlib.sha256(b"abcde").hexdigest(),
                                  "chunked": True}).encode(), data)
        self.assertTrue(data.endswith(b"status 200\n"))

    def test_expect_100_continue_is_answered_before_the_body_is_read(self):
        s = self.raw()
        s.sendall(b"PUT /upload HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n")
        self.assertEqual(read_head(s), b"HTTP/1.1 100 Continue\r\n\r\n")
        s.sendall(b"abc")
        self.assertTrue(read_head(s).startswith(b"HTTP/1.1 200 OK"))

    def test_headers_and_cookie_set_response_headers_in_order(self):
        c = self.client()
        c.request("GET", "/headers?Set-Cookie=a%3D1&Set-Cookie=b%3D2&Server=srv%2F1&Keep-Alive=timeout%3D5"
                         "&Content-Length=99")
        r = c.getresponse()
        self.assertEqual(r.read(), b"headers set\n")
        hs = r.getheaders()
        self.assertEqual([v for k, v in hs if k == "Set-Cookie"], ["a=1", "b=2"])
        self.assertEqual((r.getheader("Server"), r.getheader("Keep-Alive")), ("srv/1", "timeout=5"))
        self.assertEqual(r.getheader("Content-Length"), "12")   # framing stays the backend's
        c.request("GET", "/cookie?name=SESSION")
        r = c.getresponse()
        r.read()
        self.assertEqual(r.getheader("Set-Cookie"), "SESSION=b1; Path=/")
        s = self.raw()
        s.sendall(b"GET /headers?Connection=close HTTP/1.1\r\nHost: a\r\n\r\n")
        self.assertTrue(read_until_close(s).endswith(b"headers set\n"))   # and it did close


class TestMisbehaviour(BackendCase):
    def send(self, target, timeout=5):
        s = self.raw(timeout=timeout)
        s.sendall(b"GET " + target + b" HTTP/1.1\r\nHost: a\r\n\r\n")
        return s

    def test_reset_sends_rst(self):
        with self.assertRaises(ConnectionResetError):
            read_until_close(self.send(b"/reset"))

    def test_close_sends_fin_without_an_answer(self):
        self.assertEqual(read_until_close(self.send(b"/close")), b"")

    def test_mid_close_sends_half_the_announced_body(self):
        head, _, body = read_until_close(self.send(b"/mid-close?n=1000")).partition(b"\r\n\r\n")
        self.assertIn(b"Content-Length: 1000", head)
        self.assertEqual(body, pattern(0, 500))

    def assert_open_and_quiet(self, s):
        """Nothing more arrives and the connection is not closed (for a moment)."""
        s.settimeout(0.3)
        with self.assertRaises(socket.timeout):
            self.assertNotEqual(s.recv(100), b"", "the connection was closed")

    def test_short_cl_and_silent_and_malformed_keep_the_connection_open(self):
        s = self.send(b"/short-cl")
        head = read_head(s)
        self.assertTrue(head.startswith(b"HTTP/1.1 200 OK\r\n"))
        self.assertIn(b"Content-Length: 10\r\n", head)
        self.assertEqual(read_exactly(s, 5), b"12345")
        self.assert_open_and_quiet(s)
        s = self.send(b"/silent")
        self.assertTrue(self.b.wait(lambda b: len(b.requests) == 2))
        self.assert_open_and_quiet(s)
        s = self.send(b"/malformed")
        self.assertEqual(read_head(s), b"this is not an HTTP status line\r\nX-Backend-Id: b1\r\n\r\n")
        self.assert_open_and_quiet(s)
        self.assertEqual([r["target"] for r in self.b.requests], ["/short-cl", "/silent", "/malformed"])

    def test_bigheader_and_interim(self):
        head = read_head(self.send(b"/bigheader?kb=40"))
        self.assertIn(b"X-Big-0: " + b"b" * 40960 + b"\r\n", head)
        head = read_head(self.send(b"/bigheader?kb=40&parts=4"))
        self.assertEqual(head.count(b"b" * 10240), 4)
        s = self.send(b"/interim?code=103")
        self.assertEqual(read_head(s), b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n")
        self.assertTrue(read_head(s).startswith(b"HTTP/1.1 200 OK\r\n"))

    def test_keepalive_timeout_closes_idle_connections(self):
        self.b.keepalive_timeout = 0.2
        s = self.send(b"/status/200")
        self.assertTrue(read_until_close(s).endswith(b"status 200\n"))


class TestHealthAndProcess(BackendCase):
    def test_health_status_is_set_by_control_and_checks_are_recorded_apart(self):
        c = self.client()
        c.request("GET", "/health", headers={"User-Agent": "ELB-HealthChecker/2.0"})
        r = c.getresponse()
        self.assertEqual((r.status, r.read()), (200, b"200\n"))
        c.request("GET", "/_control?health=503")
        self.assertEqual(json.loads(c.getresponse().read())["health"], 503)
        c.request("GET", "/health")
        self.assertEqual(c.getresponse().status, 503)
        self.assertTrue(self.b.wait(lambda b: len(b.health_checks) == 2, timeout=1))
        self.assertIn(b"User-Agent: ELB-HealthChecker/2.0\r\n", self.b.health_checks[0]["head"])
        self.assertEqual(self.b.requests, [])

    def test_spawned_backend_prints_its_port_and_can_be_killed_mid_answer(self):
        proc, port = spawn("p1")
        self.addCleanup(proc.stdout.close)
        self.addCleanup(proc.wait)
        self.addCleanup(proc.kill)
        s = self.raw(port)
        s.sendall(b"GET /bytes?n=1G HTTP/1.1\r\nHost: a\r\n\r\n")
        self.assertIn(b"X-Backend-Id: p1", read_head(s))
        proc.kill()
        received = 0
        try:
            received = len(read_until_close(s))
        except ConnectionResetError:
            pass
        self.assertLess(received, 1 << 30)


if __name__ == "__main__":
    unittest.main()
