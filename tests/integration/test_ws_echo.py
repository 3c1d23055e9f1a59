"""The WebSocket echo target (ws/echo.mjs on npm `ws`) and the test client (wsclient.py)
against each other, without lb: before lb's tunnel is tested with them, both must be
shown to speak RFC 6455 — ws rejects unmasked client frames and bad handshakes, and
the client checks the accept key and that server frames are unmasked.
"""
import json
import socket
import struct
import unittest

from wsclient import OP_BINARY, OP_CLOSE, OP_PONG, OP_TEXT, WsClient, WsError, accept_key, frame
from wsecho import start_echo, stop_echo


class TestWsEcho(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.proc, cls.port = start_echo("w1")

    @classmethod
    def tearDownClass(cls):
        stop_echo(cls.proc)

    def ws(self, path="/ws", headers=()):
        c = WsClient.connect(self.port, path, headers=headers)
        self.addCleanup(c.sock.close)
        return c

    def test_accept_key_matches_rfc6455_example(self):
        self.assertEqual(accept_key("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")

    def test_handshake_is_101_with_the_backend_id(self):
        c = self.ws()
        self.assertTrue(c.response_head.startswith(b"HTTP/1.1 101 Switching Protocols\r\n"))
        self.assertIn(b"\r\nX-Backend-Id: w1\r\n", c.response_head)

    def test_text_and_binary_of_every_length_encoding_come_back_as_sent(self):
        c = self.ws()
        c.send_text("héllo")
        self.assertEqual(c.recv(), (OP_TEXT, "héllo".encode()))
        for n in (0, 125, 126, 300, 65535, 65536, 200000):   # 7-bit, 16-bit and 64-bit lengths
            data = bytes(i % 256 for i in range(n))
            c.send_binary(data)
            self.assertEqual(c.recv(), (OP_BINARY, data), n)

    def test_ping_gets_pong_and_close_code_is_returned(self):
        c = self.ws()
        c.ping(b"are you there")
        self.assertEqual(c.recv(), (OP_PONG, b"are you there"))
        self.assertEqual(c.close(4001, b"done"), (4001, b"done"))
        c = self.ws()
        c.send_text("close:4002")
        op, data = c.recv()
        self.assertEqual((op, struct.unpack("!H", data[:2])[0], data[2:]), (OP_CLOSE, 4002, b"bye"))

    def test_headers_path_reports_the_upgrade_request_as_received(self):
        c = self.ws("/ws/headers?x=1", headers=["X-Forwarded-For: 10.0.0.1"])
        op, data = c.recv()
        got = json.loads(data)
        self.assertEqual(got["target"], "/ws/headers?x=1")
        self.assertEqual(got["headers"][0], ["Host", f"127.0.0.1:{self.port}"])
        self.assertIn(["Upgrade", "websocket"], got["headers"])
        self.assertEqual(got["headers"][-1], ["X-Forwarded-For", "10.0.0.1"])

    def test_server_refuses_unmasked_client_frames(self):
        c = self.ws()
        c.sock.sendall(frame(OP_TEXT, b"unmasked", mask=False))
        op, data = c.recv()
        self.assertEqual((op, struct.unpack("!H", data[:2])[0]), (OP_CLOSE, 1002))   # protocol error

    def test_plain_http_and_wrong_path(self):
        s = socket.create_connection(("127.0.0.1", self.port), timeout=5)
        self.addCleanup(s.close)
        s.sendall(b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
        data = b""
        while piece := s.recv(65536):
            data += piece
        self.assertTrue(data.startswith(b"HTTP/1.1 200 OK\r\n"))
        self.assertTrue(data.endswith(b"ws echo w1\n"))
        with self.assertRaises(WsError):
            self.ws("/other")


if __name__ == "__main__":
    unittest.main()
