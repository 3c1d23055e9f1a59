"""The wire side of backend.py: reading HTTP/1.1 requests off a socket and writing answers.

Kept apart from the routes so that what the backend *observes* (the raw head, the
framing of the body) is decided in one small place. Nothing here interprets a
request beyond RFC 9112's framing rules; the backend records the raw head as it
arrived, so a test sees exactly the bytes lb sent.

Invariants:
- Reader owns a byte buffer in front of one socket; bytes past the current request
  (a pipelined next request) stay in it for the next read_head().
- Bodies are read as a stream of pieces (body_pieces), never collected whole: a
  1 GB upload needs no more memory than one piece.
Python stdlib only.
"""
import hashlib
import socket
import urllib.parse

HEAD_LIMIT = 1 << 20     # a backend that takes anything lb may send (ALB's own cap is 64 KB)
PIECE = 64 * 1024

# The deterministic body of /bytes: byte i of a stream is i % 251. 251 is prime, so a
# piece lost, repeated or shifted by any multiple of 256 (a common buffer size) changes
# the bytes, not only the length.
PERIOD = 251
BLOCK = bytes(i % PERIOD for i in range(PERIOD * 256))   # 64,256 bytes, a whole number of periods


class WireError(Exception):
    """The peer sent something that is not HTTP/1.1 or closed in the middle of it."""


class Reader:
    """Buffered reads from one socket."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = bytearray()

    def fill(self):
        """One recv() into the buffer; False at end of stream."""
        data = self.sock.recv(PIECE)
        if not data:
            return False
        self.buf += data
        return True

    def read_head(self, limit=HEAD_LIMIT):
        """The next head up to and including its blank line, or None when the peer
        closed (or the socket timed out) before sending any byte of it."""
        start = 0
        while True:
            end = self.buf.find(b"\r\n\r\n", start)
            if end >= 0:
                head = bytes(self.buf[:end + 4])
                del self.buf[:end + 4]
                return head
            if len(self.buf) > limit:
                raise WireError(f"head longer than {limit} bytes")
            start = max(0, len(self.buf) - 3)
            try:
                more = self.fill()
            except socket.timeout:
                if not self.buf:
                    return None
                raise
            if not more:
                if not self.buf:
                    return None
                raise WireError("connection closed inside a head")

    def read_line(self, limit=8192):
        while True:
            end = self.buf.find(b"\r\n")
            if end >= 0:
                line = bytes(self.buf[:end])
                del self.buf[:end + 2]
                return line
            if len(self.buf) > limit or not self.fill():
                raise WireError("bad or unterminated chunk line")

    def read_some(self, most):
        """Up to most bytes (at least one); raises at end of stream."""
        if not self.buf and not self.fill():
            raise WireError("connection closed inside a body")
        piece = bytes(self.buf[:most])
        del self.buf[:most]
        return piece


class Request:
    """One parsed request head. Headers keep their arrival order and original case."""

    def __init__(self, head):
        self.head = head
        lines = head[:-4].decode("latin-1").split("\r\n")
        parts = lines[0].split(" ")
        if len(parts) != 3:
            raise WireError(f"bad request line {lines[0]!r}")
        self.method, self.target, self.version = parts
        self.headers = []
        for line in lines[1:]:
            if line[:1] in (" ", "\t") and self.headers:
                # An obsolete folded line (RFC 9112 §5.2): kept with the header it continues.
                self.headers[-1][1] += " " + line.strip()
                continue
            name, sep, value = line.partition(":")
            if not sep:
                raise WireError(f"bad header line {line!r}")
            self.headers.append([name, value.strip(" \t")])
        path, _, query = self.target.partition("?")
        if path.startswith(("http://", "https://")):   # absolute form: route on its path
            path = "/" + path.split("/", 3)[3] if path.count("/") >= 3 else "/"
        self.path = path
        self.query = urllib.parse.parse_qsl(query, keep_blank_values=True)   # ordered pairs
        self.opts = dict(self.query)
        self.close = self.wants_close()     # a route may set it to close after answering
        self.sent_continue = False          # a 100 Continue already went out

    def header(self, name):
        """The values of header name (any case), joined with ", " as RFC 9110 §5.3 allows; None if absent."""
        values = [v for k, v in self.headers if k.lower() == name.lower()]
        return ", ".join(values) if values else None

    def framing(self):
        """("chunked",), ("length", n) or ("none",): RFC 9112 §6.3 for requests."""
        te = self.header("transfer-encoding")
        if te is not None:
            if te.split(",")[-1].strip().lower() != "chunked":
                raise WireError(f"request transfer-encoding {te!r} without final chunked")
            return ("chunked",)
        cl = self.header("content-length")
        if cl is not None:
            if not cl.isdigit():
                raise WireError(f"bad content-length {cl!r}")
            return ("length", int(cl))
        return ("none",)

    def wants_close(self):
        conn = (self.header("connection") or "").lower()
        tokens = {t.strip() for t in conn.split(",")}
        if self.version == "HTTP/1.0":
            return "keep-alive" not in tokens
        return "close" in tokens


def body_pieces(reader, framing):
    """Yields the body's bytes in pieces as they arrive (chunked bodies decoded; trailers
    read and dropped)."""
    if framing[0] == "length":
        left = framing[1]
        while left:
            piece = reader.read_some(min(left, PIECE))
            left -= len(piece)
            yield piece
    elif framing[0] == "chunked":
        while True:
            line = reader.read_line()
            size_text = line.split(b";", 1)[0].strip()
            try:
                size = int(size_text, 16)
            except ValueError:
                raise WireError(f"bad chunk size {line!r}")
            if size == 0:
                while reader.read_line():   # trailer fields, up to the blank line
                    pass
                return
            left = size
            while left:
                piece = reader.read_some(min(left, PIECE))
                left -= len(piece)
                yield piece
            if reader.read_line() != b"":
                raise WireError("chunk not followed by CRLF")


class BodyDigest:
    """Length, SHA-256 and the first `keep` bytes of a body read as a stream."""

    def __init__(self, keep=65536):
        self.len = 0
        self.sha = hashlib.sha256()
        self.keep = keep
        self.start = bytearray()

    def update(self, piece):
        self.len += len(piece)
        self.sha.update(piece)
        if len(self.start) < self.keep:
            self.start += piece[:self.keep - len(self.start)]


def pattern(offset, n):
    """n bytes of the /bytes stream starting at offset."""
    out = bytearray()
    while n:
        at = offset % len(BLOCK)
        piece = BLOCK[at:at + n]
        out += piece
        offset += len(piece)
        n -= len(piece)
    return bytes(out)


def pattern_pieces(n, size=PIECE):
    """The first n bytes of the /bytes stream as pieces of at most size bytes (generated
    on the fly: the whole stream is never in memory)."""
    offset = 0
    while offset < n:
        piece = pattern(offset, min(size, n - offset))
        offset += len(piece)
        yield piece


def pattern_sha256(n):
    """SHA-256 (hex) of the first n bytes of the /bytes stream."""
    sha = hashlib.sha256()
    full, rest = divmod(n, len(BLOCK))
    for _ in range(full):
        sha.update(BLOCK)
    sha.update(BLOCK[:rest])
    return sha.hexdigest()


def parse_size(text):
    """"1048576", "64K", "10M", "1G" (binary units) -> bytes."""
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    text = text.strip().upper()
    if text and text[-1] in units:
        return int(text[:-1]) * units[text[-1]]
    return int(text)
