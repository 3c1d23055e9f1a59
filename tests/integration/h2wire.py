"""A raw HTTP/2 client over TLS for lb's tests: frames written and read by hand, so a
test controls exactly what goes on the wire (split cookie fields, RST_STREAM at a
chosen moment). Header blocks are sent as HPACK literals without indexing; received
header blocks are kept raw (status and fields are checked through the access log and
the bodies instead). Python stdlib only.

    c = H2Conn(port, cafile)                     # TLS with ALPN h2, preface, SETTINGS
    c.headers(1, [(":method", "GET"), (":path", "/"), (":scheme", "https"),
                  (":authority", "localhost")])
    frames, body = c.response(1)
    c.rst(3)
"""
import socket
import struct
import time

from tlscommon import client_context

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
DATA, HEADERS, RST_STREAM, SETTINGS, PING, GOAWAY, WINDOW_UPDATE, CONTINUATION = 0, 1, 3, 4, 6, 7, 8, 9
END_STREAM, END_HEADERS, ACK = 0x1, 0x4, 0x1
CANCEL = 0x8


def hpack_int(value, prefix_bits, first=0):
    limit = (1 << prefix_bits) - 1
    if value < limit:
        return bytes([first | value])
    out = [first | limit]
    value -= limit
    while value >= 128:
        out.append((value & 127) | 128)
        value >>= 7
    out.append(value)
    return bytes(out)


def hpack_literal(name, value, index=False):
    """A literal field without indexing (RFC 7541 §6.2.2), or with incremental indexing
    (§6.2.1: the field enters the dynamic table); new name, no Huffman."""
    n, v = name.encode("latin-1"), value.encode("latin-1")
    return (b"\x40" if index else b"\x00") + hpack_int(len(n), 7) + n + hpack_int(len(v), 7) + v


class H2Conn:
    def __init__(self, port, cafile, server_hostname="localhost", host="127.0.0.1", timeout=10):
        ctx = client_context(cafile, alpn=("h2",))
        raw = socket.create_connection((host, port), timeout=timeout)
        self.sock = ctx.wrap_socket(raw, server_hostname=server_hostname)
        self.alpn = self.sock.selected_alpn_protocol()
        self.buf = b""
        self.goaway = None      # (last stream id, error code) once received
        self.resets = {}        # stream id -> error code
        self.settings = {}      # the server's SETTINGS: id -> value
        self.ended = set()      # streams whose answer ended (END_STREAM)
        self.send(PREFACE + self.frame(SETTINGS, 0, 0, b""))

    def close(self):
        self.sock.close()

    def send(self, data):
        self.sock.sendall(data)

    @staticmethod
    def frame(ftype, flags, sid, payload):
        return struct.pack(">I", len(payload))[1:] + bytes([ftype, flags]) + struct.pack(">I", sid) + payload

    def headers_frame(self, sid, fields, end_stream=True, raw=b""):
        """HEADERS (and CONTINUATION frames past the 16 KB default frame size); raw is
        appended to the encoded fields as it is (indexed fields, say)."""
        block = b"".join(hpack_literal(n, v) for n, v in fields) + raw
        parts = [block[i:i + 16384] for i in range(0, len(block), 16384)] or [b""]
        out = b""
        for i, part in enumerate(parts):
            flags = END_HEADERS if i == len(parts) - 1 else 0
            if i == 0:
                out += self.frame(HEADERS, flags | (END_STREAM if end_stream else 0), sid, part)
            else:
                out += self.frame(CONTINUATION, flags, sid, part)
        return out

    def headers(self, sid, fields, end_stream=True, raw=b""):
        self.send(self.headers_frame(sid, fields, end_stream, raw))

    def data(self, sid, payload, end_stream=False):
        self.send(self.frame(DATA, END_STREAM if end_stream else 0, sid, payload))

    def rst(self, sid, code=CANCEL):
        self.send(self.frame(RST_STREAM, 0, sid, struct.pack(">I", code)))

    def _recv(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("connection closed")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def read_frame(self):
        """The next frame as (type, flags, stream id, payload); SETTINGS are acknowledged,
        DATA is given back to the windows, GOAWAY and RST_STREAM are recorded."""
        head = self._recv(9)
        length = struct.unpack(">I", b"\0" + head[:3])[0]
        ftype, flags = head[3], head[4]
        sid = struct.unpack(">I", head[5:9])[0] & 0x7FFFFFFF
        payload = self._recv(length)
        if ftype == SETTINGS and not flags & ACK:
            for i in range(0, len(payload) - 5, 6):
                k, v = struct.unpack(">HI", payload[i:i + 6])
                self.settings[k] = v
            self.send(self.frame(SETTINGS, ACK, 0, b""))
        elif ftype == DATA and length:
            inc = struct.pack(">I", length)
            try:
                self.send(self.frame(WINDOW_UPDATE, 0, 0, inc) + self.frame(WINDOW_UPDATE, 0, sid, inc))
            except OSError:
                pass    # the server may close once the last stream has ended
        elif ftype == GOAWAY:
            self.goaway = struct.unpack(">II", payload[:8])
        elif ftype == RST_STREAM:
            self.resets[sid] = struct.unpack(">I", payload[:4])[0]
        if ftype in (HEADERS, DATA) and flags & END_STREAM:
            self.ended.add(sid)
        return ftype, flags, sid, payload

    def response(self, sid, timeout=10):
        """Frames of stream sid until it ends: (header blocks, body)."""
        deadline = time.time() + timeout
        blocks, body = [], b""
        while time.time() < deadline:
            ftype, flags, fsid, payload = self.read_frame()
            if fsid != sid:
                continue
            if ftype == HEADERS:
                blocks.append(payload)
            elif ftype == DATA:
                body += payload
            elif ftype == RST_STREAM:
                break
            if ftype in (HEADERS, DATA) and flags & END_STREAM:
                break
        return blocks, body

    def closed_by_peer(self, timeout=10):
        """Reads (and drops) frames until the server closes the connection: True, or
        False if it is still open after timeout seconds."""
        self.sock.settimeout(timeout)
        try:
            while True:
                self.read_frame()
        except socket.timeout:
            return False
        except (EOFError, ConnectionError, OSError):
            return True
