"""WebSockets tunnelled to HTTP targets (alb-http-targets-and-tls.md §1.14): the upgrade
reaches a real `ws` server (ws/echo.mjs), its 101 turns both connections into one
tunnel, frames pass both ways untouched, either side's close ends it, the idle timeout
counts bytes either way, and the access log gets one `ws` line when it closes.
"""
import json
import socket
import struct
import time

from lbcommon import log_for
from targetcommon import TargetsCase, http_group, key, wait_for
from wsclient import OP_BINARY, OP_CLOSE, OP_PONG, OP_TEXT, WsClient, frame
from wsecho import start_echo, stop_echo

WS_HEALTH = "{path: /, healthy_threshold: 2}"



WS_KEY_HEADERS = b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"


def until_closed(lb, request):
    """Sends request on a new connection and reads until lb closes it."""
    s = socket.create_connection(("127.0.0.1", lb.port), timeout=10)
    s.sendall(request)
    data = b""
    while True:
        piece = s.recv(65536)
        if not piece:
            break
        data += piece
    s.close()
    return data


class WebSocketTests(TargetsCase):
    def setUp(self):
        self.proc, self.port = start_echo("w1")
        self.addCleanup(stop_echo, self.proc)

    def start(self, attributes=None):
        lb = self.start_lb([http_group("web", [self.port], health=WS_HEALTH)], attributes=attributes)
        self.wait_stderr(lb, f"target 127.0.0.1:{self.port} is healthy")
        return lb

    def ws(self, lb, path="/ws", headers=()):
        c = WsClient.connect(lb.port, path, headers=headers)   # checks the 101 and the accept key
        self.addCleanup(c.sock.close)
        return c

    def test_upgrade_reaches_the_target_with_albs_headers(self):
        lb = self.start()
        c = self.ws(lb, "/ws/headers?x=1", headers=["X-Forwarded-For: 10.0.0.1"])
        self.assertIn(b"\r\nX-Backend-Id: w1\r\n", c.response_head)
        op, data = c.recv()
        got = json.loads(data)
        names = {n.lower(): v for n, v in got["headers"]}
        self.assertEqual(got["target"], "/ws/headers?x=1")
        # Upgrade and Connection go to the target (§1.5), with ALB's X-Forwarded-*.
        self.assertEqual(names["upgrade"].lower(), "websocket")
        self.assertEqual(names["connection"].lower(), "upgrade")
        self.assertEqual(names["x-forwarded-for"], "10.0.0.1, 127.0.0.1")
        self.assertEqual(names["x-forwarded-port"], str(lb.port))
        self.assertIn("sec-websocket-key", names)

    def test_frames_pass_both_ways_untouched(self):
        lb = self.start()
        c = self.ws(lb)
        c.send_text("héllo")
        self.assertEqual(c.recv(), (OP_TEXT, "héllo".encode()))
        for n in (0, 125, 126, 65535, 65536, 1 << 20):
            data = bytes((i * 7) % 256 for i in range(n))
            c.send_binary(data)
            self.assertEqual(c.recv(), (OP_BINARY, data), n)
        c.ping(b"p")
        self.assertEqual(c.recv(), (OP_PONG, b"p"))
        self.assertEqual(c.close(4001, b"done"), (4001, b"done"))

    def test_target_close_ends_the_tunnel(self):
        lb = self.start()
        c = self.ws(lb)
        c.send_text("close:4002")
        op, data = c.recv()
        self.assertEqual((op, struct.unpack("!H", data[:2])[0], data[2:]), (OP_CLOSE, 4002, b"bye"))
        # The client answers the close handshake; the target then closes its TCP
        # connection, and lb closes the client's.
        c.sock.sendall(frame(OP_CLOSE, data[:2]))
        c.sock.settimeout(10)
        rest = b""
        try:
            while True:
                piece = c.sock.recv(65536)
                if not piece:
                    break
                rest += piece
        except ConnectionResetError:
            pass
        self.assertEqual(rest, b"")

    def test_access_log_has_one_ws_line_when_it_closes(self):
        lb = self.start()
        c = self.ws(lb, "/ws?logme=1")
        c.send_binary(b"x" * 1000)
        self.assertEqual(c.recv(), (OP_BINARY, b"x" * 1000))
        time.sleep(0.2)
        self.assertEqual([l for l in lb.log_lines(0, timeout=0.1) if "logme" in l["_raw"]], [])
        c.close(1000)
        line = log_for(lb, "/ws?logme=1 ")
        self.assertEqual(line["type"], "ws")
        self.assertEqual(line["elb_status_code"], "101")
        self.assertEqual(line["target_status_code"], "101")
        self.assertEqual(line["target_port"], f"127.0.0.1:{self.port}")
        self.assertGreater(int(line["received_bytes"]), 1000)
        self.assertGreater(int(line["sent_bytes"]), 1000)

    def test_idle_tunnel_is_closed_and_a_busy_one_is_not(self):
        lb = self.start({"idle_timeout.timeout_seconds": 2})
        busy = self.ws(lb)
        idle = self.ws(lb)
        end = time.monotonic() + 5
        while time.monotonic() < end:
            busy.send_text("tick")
            self.assertEqual(busy.recv(), (OP_TEXT, b"tick"))
            time.sleep(0.2)
        # Nothing either way on `idle` for over 2 s: lb closed it (§1.14).
        idle.sock.settimeout(10)
        try:
            self.assertEqual(idle.sock.recv(65536), b"")
        except ConnectionResetError:
            pass
        busy.send_text("still here")
        self.assertEqual(busy.recv(), (OP_TEXT, b"still here"))

    def test_upgrade_refused_by_the_target_is_a_plain_answer(self):
        (b,) = self.backends("plain")    # backend.py answers an upgrade request with 200
        lb = self.start_lb([http_group("web", [b], health="{path: /health}")])
        self.wait_stderr(lb, f"target {key(b)} is healthy")
        data = until_closed(lb, b"GET /echo HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n"
                                b"Connection: Upgrade\r\n" + WS_KEY_HEADERS)
        self.assertTrue(data.startswith(b"HTTP/1.1 200 OK\r\n"), data[:100])
        line = wait_for(lambda: [l for l in lb.log_lines(1) if "/echo" in l["_raw"]], 5)
        self.assertEqual(line[0]["type"], "http")

    def test_switching_protocols_to_an_http10_upgrade_is_502(self):
        # Only an HTTP/1.1 client's upgrade becomes a tunnel (an HTTP/1.0 request's Upgrade
        # is to be ignored, RFC 9110 §7.8): a 101 to it is a malformed answer (§1.12).
        (b,) = self.backends("plain")
        lb = self.start_lb([http_group("web", [b], health="{path: /health}")])
        self.wait_stderr(lb, f"target {key(b)} is healthy")
        data = until_closed(lb, b"GET /switch?ms=2000 HTTP/1.0\r\nHost: h\r\nUpgrade: websocket\r\n"
                                b"Connection: Upgrade\r\n" + WS_KEY_HEADERS)
        self.assertTrue(data.startswith(b"HTTP/1.1 502 Bad Gateway\r\n"), data[:100])
        self.assertNotIn(b"GARBAGE", data)
        line = log_for(lb, "/switch?ms=2000 ")
        self.assertEqual((line["type"], line["elb_status_code"], line["target_status_code"]), ("http", "502", "-"))
