"""A minimal WebSocket client (RFC 6455) for lb's tests: the opening handshake and
masked frames over a plain socket. Python stdlib only.

    ws = WsClient.connect(port, "/ws")          # or WsClient.over(sock, "/ws", host=...)
    ws.send_text("hi"); assert ws.recv() == (OP_TEXT, b"hi")
    ws.close(1000)

It is deliberately strict about what the server sends (unmasked frames, the right
Sec-WebSocket-Accept), so a tunnel that alters a byte shows up as an error.
"""
import base64
import hashlib
import os
import socket
import struct

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA


class WsError(Exception):
    pass


def accept_key(key):
    """Sec-WebSocket-Accept for a Sec-WebSocket-Key (RFC 6455 §4.2.2)."""
    return base64.b64encode(hashlib.sha1(key.encode() + GUID).digest()).decode()


def frame(opcode, payload, fin=True, mask=True):
    """One frame; client frames are masked (RFC 6455 §5.3)."""
    head = bytes([(0x80 if fin else 0) | opcode])
    n = len(payload)
    bit = 0x80 if mask else 0
    if n < 126:
        head += bytes([bit | n])
    elif n < 1 << 16:
        head += bytes([bit | 126]) + struct.pack("!H", n)
    else:
        head += bytes([bit | 127]) + struct.pack("!Q", n)
    if not mask:
        return head + payload
    key = os.urandom(4)
    return head + key + _xor(payload, key)


def _xor(data, key):
    if not data:
        return b""
    k = int.from_bytes((key * (len(data) // 4 + 1))[:len(data)], "big")
    return (int.from_bytes(data, "big") ^ k).to_bytes(len(data), "big")


class WsClient:
    def __init__(self, sock, response_head, buf=b""):
        self.sock = sock
        self.response_head = response_head   # the raw 101 head, for header checks
        self.buf = buf

    @classmethod
    def connect(cls, port, path="/ws", host="127.0.0.1", headers=(), timeout=10):
        sock = socket.create_connection((host, port), timeout=timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return cls.over(sock, path, f"{host}:{port}", headers)

    @classmethod
    def over(cls, sock, path, host, headers=()):
        """Performs the handshake on an open socket; raises WsError unless the answer is
        a valid 101 (its head is in .response_head)."""
        key = base64.b64encode(os.urandom(16)).decode()
        lines = [f"GET {path} HTTP/1.1", f"Host: {host}", "Upgrade: websocket",
                 "Connection: Upgrade", f"Sec-WebSocket-Key: {key}", "Sec-WebSocket-Version: 13"]
        sock.sendall(("\r\n".join(lines + list(headers)) + "\r\n\r\n").encode())
        data = b""
        while b"\r\n\r\n" not in data:
            piece = sock.recv(65536)
            if not piece:
                raise WsError(f"closed during the handshake after {data!r}")
            data += piece
        head, _, rest = data.partition(b"\r\n\r\n")
        text = head.decode("latin-1")
        if not text.startswith("HTTP/1.1 101 "):
            raise WsError(f"not upgraded: {text.splitlines()[0]!r}")
        fields = {}
        for line in text.split("\r\n")[1:]:
            name, _, value = line.partition(":")
            fields[name.strip().lower()] = value.strip()
        if fields.get("sec-websocket-accept") != accept_key(key):
            raise WsError(f"bad Sec-WebSocket-Accept in {text!r}")
        if fields.get("upgrade", "").lower() != "websocket":
            raise WsError(f"no Upgrade: websocket in {text!r}")
        return cls(sock, head + b"\r\n\r\n", rest)

    def send_text(self, text):
        self.sock.sendall(frame(OP_TEXT, text.encode()))

    def send_binary(self, data):
        self.sock.sendall(frame(OP_BINARY, data))

    def ping(self, payload=b""):
        self.sock.sendall(frame(OP_PING, payload))

    def _read(self, n):
        while len(self.buf) < n:
            piece = self.sock.recv(max(65536, n - len(self.buf)))
            if not piece:
                raise WsError("connection closed inside a frame")
            self.buf += piece
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def recv_frame(self):
        """(fin, opcode, payload) of the next frame."""
        b0, b1 = self._read(2)
        if b1 & 0x80:
            raise WsError("the server masked a frame")   # RFC 6455 §5.1: servers never do
        n = b1 & 0x7F
        if n == 126:
            n = struct.unpack("!H", self._read(2))[0]
        elif n == 127:
            n = struct.unpack("!Q", self._read(8))[0]
        return bool(b0 & 0x80), b0 & 0x0F, self._read(n)

    def recv(self):
        """(opcode, payload) of the next message, fragments joined; control frames
        (ping, pong, close) are returned as they come."""
        fin, op, data = self.recv_frame()
        while not fin:
            fin, cont, more = self.recv_frame()
            if cont != OP_CONT:
                raise WsError(f"opcode {cont} inside a fragmented message")
            data += more
        return op, data

    def close(self, code=1000, reason=b""):
        """Sends a close frame and returns the server's (code, reason), or None when the
        connection ended without one."""
        self.sock.sendall(frame(OP_CLOSE, struct.pack("!H", code) + reason))
        try:
            while True:
                op, data = self.recv()
                if op == OP_CLOSE:
                    return (struct.unpack("!H", data[:2])[0] if len(data) >= 2 else None, data[2:])
        except (WsError, OSError):
            return None
        finally:
            self.sock.close()
