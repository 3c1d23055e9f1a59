#!/usr/bin/env python3
"""A real HTTP/1.1 backend for lb's HTTP-target tests: raw sockets, a thread per
connection, keep-alive, and misbehaviour on demand.

In-process:

    with Backend("a") as b:             # listens on 127.0.0.1, port 0
        ... lb forwards to b.port ...
        b.requests[0]["head"]           # the raw request head lb sent, byte for byte

As a process (so a test can kill it mid-answer): `python3 backend.py --port 0 --id a`
prints its port on the first line of stdout and serves until SIGTERM; spawn() does that.

Routes, by path (the query string sets options; any method):
  /echo...           200 JSON {method, target, version, headers: [[name, value], ...] in
                     arrival order and case, body_len, body_sha256, body (the first 64 KiB,
                     latin-1), chunked, conn (the connection's serial number from 1),
                     req_on_conn (from 1), backend}. Any path not listed here answers the same.
  /bytes?n=N         N bytes of a fixed pattern (backendwire.pattern), with Content-Length;
                     &chunked=1 chunked, &close=1 delimited by closing; N may be 10M, 1G.
  /upload            reads a body of any size as a stream; 200 {len, sha256, chunked}.
  /status/N          status N with a short body (none for 204 and 304).
  /head-check        a 1,000-byte resource (&chunked=1: chunked); HEAD gets its head only.
  /headers?k=v&...   adds each pair as a response header, in order (names may repeat:
                     several Set-Cookie); Connection: close also closes the connection.
  /cookie?name=N     Set-Cookie: N=<value, default the backend id>; Path=/
  /silent            reads the request, never answers (the connection stays open).
  /slow?ms=M         answers as /echo after M ms.
  /hold?key=K        answers as /echo once the test calls release(K) (in-process only);
                     held(K) counts the requests waiting on K.
  /drip?n=N&ms=M&piece=P   N bytes (Content-Length) written P bytes (4096) every M ms (100).
  /sip?ms=M&piece=P&slow=S  reads the first S bytes of the body (all) about P bytes
                     (262144) every M ms (200), the rest at once; then answers as /upload.
  /reset             reads the request, then RST (SO_LINGER 0).
  /close             reads the request, then FIN without an answer.
  /mid-close?n=N     head with Content-Length N (1000), N/2 bytes of body, then FIN.
  /malformed         a garbage status line, then keeps the connection open.
  /bigheader?kb=K    one K KiB response header (40); &parts=P splits it into P headers.
  /short-cl          Content-Length 10, 5 bytes, then keeps the connection open.
  /interim?code=C    an interim C (100; 103 with a Link header), then the /echo answer.
  /switch?ms=M       101 Switching Protocols, whatever was asked, and "GARBAGE"; then
                     records in the request's "after" what else arrives on the connection
                     within M ms (1000) or until lb closes it, and closes.
  /odd-status?code=C status C sent as is (any three digits: 099, 600, 999), Content-Length 2, "ok".
  /bodied?code=C    status C (204, 304) with Content-Length 5 and 5 body bytes, as a faulty
                     server sends them.
  /early?code=C     status C (413) with Connection: close before reading the body, then
                     FIN, reading and dropping the rest (a lingering close, as nginx's).
  /close-open       an answer with Connection: close and Content-Length, then keeps the
                     connection open without another byte.
  /raw?head=H&body=B H then B, percent-decoded, sent as they are (a hostile target's
                     answer, "\r\n\r\n" included in H); then the connection closes.
  /health            the status set by /_control?health=N (200), or the next of
                     health_script; after health_delay seconds; each check is recorded in
                     health_checks (raw head), not in requests.
  /_control?health=N&keepalive_timeout=S&reset=1   changes this backend's state.
  /_requests         JSON {requests, health_checks}: what the in-process lists hold.

Every answer carries X-Backend-Id: <id>. A request with Expect: 100-continue gets
`100 Continue` before its body is read, as a real server would send it. Connections
stay open across requests unless the request says Connection: close (or is HTTP/1.0
without keep-alive), the route closes, or keepalive_timeout (seconds) passes with no
new request. The _control and _requests routes are recorded nowhere.
Python stdlib only.
"""
import argparse
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from http import HTTPStatus

from backendwire import (BodyDigest, Reader, Request, WireError, body_pieces, parse_size,
                         pattern, pattern_pieces)

HERE = os.path.abspath(__file__)


class Backend:
    """One backend listening on host:port (port 0 picks a free one; see .port)."""

    def __init__(self, id="backend", host="127.0.0.1", port=0, keepalive_timeout=None, backlog=512,
                 accepting=True):
        """backlog=0, accepting=False: one connection fills the accept queue, and the
        SYNs after it go unanswered (connect hangs) until accept_again()."""
        self.id = id
        self.backlog = backlog
        self._accepting = threading.Event()
        if accepting:
            self._accepting.set()
        self.host = host
        self.requested_port = port
        self.keepalive_timeout = keepalive_timeout
        self.health_status = 200
        self.health_script = []   # statuses the next health checks get, in order, before health_status
        self.health_delay = 0     # seconds /health waits before answering
        self.requests = []        # one dict per request (see _record); health checks excluded
        self.health_checks = []   # one dict per /health request
        self.conn_count = 0       # connections accepted so far
        self.port = None
        self._lock = threading.Lock()
        self._listener = None
        self._socks = set()
        self._threads = []
        self._stopping = False
        self._holds = {}          # key -> [threading.Event, waiting count]

    # ---- lifecycle

    def start(self):
        self._listener = socket.socket(socket.AF_INET6 if ":" in self.host else socket.AF_INET)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind((self.host, self.requested_port))
        self._listener.listen(self.backlog)
        self.port = self._listener.getsockname()[1]
        t = threading.Thread(target=self._accept_loop, name=f"backend-{self.id}", daemon=True)
        t.start()
        self._threads.append(t)
        return self

    def stop(self):
        """Stops accepting and closes every open connection (FIN)."""
        with self._lock:
            self._stopping = True
        self._accepting.set()
        if self._listener:
            try:
                self._listener.shutdown(socket.SHUT_RDWR)   # wakes accept() on Linux
            except OSError:
                pass
            self._listener.close()
        with self._lock:
            socks = list(self._socks)
        with self._lock:
            for ev, _ in self._holds.values():
                ev.set()
        for s in socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        for t in list(self._threads):
            t.join(timeout=5)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def clear(self):
        with self._lock:
            self.requests.clear()
            self.health_checks.clear()

    def wait(self, predicate, timeout=10):
        """Polls predicate(self) until it is true (True) or timeout seconds pass (False):
        for what lb does on its own schedule, such as health checks."""
        deadline = time.time() + timeout
        while not predicate(self):
            if time.time() > deadline:
                return False
            time.sleep(0.01)
        return True

    def _hold_entry(self, key):
        with self._lock:
            return self._holds.setdefault(key, [threading.Event(), 0])

    def release(self, key="h"):
        """Lets every request held on key (and any that comes later) answer."""
        self._hold_entry(key)[0].set()

    def held(self, key="h"):
        """How many requests are waiting on key right now."""
        with self._lock:
            return self._holds.get(key, [None, 0])[1]

    # ---- connections

    def accept_again(self):
        """Starts accepting (a Backend made with accepting=False)."""
        self._accepting.set()

    def _accept_loop(self):
        self._accepting.wait()
        while not self._stopping:
            try:
                sock, _ = self._listener.accept()
            except OSError:
                return
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                if self._stopping:     # stop() has already shut the connections it knew
                    sock.close()
                    return
                self.conn_count += 1
                serial = self.conn_count
                self._socks.add(sock)
            t = threading.Thread(target=self._serve, args=(sock, serial), daemon=True)
            t.start()
            self._threads = [x for x in self._threads if x.is_alive()] + [t]

    def _serve(self, sock, serial):
        reader = Reader(sock)
        number = 0
        try:
            while not self._stopping:
                sock.settimeout(self.keepalive_timeout)
                head = reader.read_head()
                if head is None:
                    break        # the peer closed, or our keep-alive timeout passed
                sock.settimeout(None)
                number += 1
                req = Request(head)
                req.conn, req.req_on_conn, req.reader, req.sock = serial, number, reader, sock
                if self._route(req) == "closed" or req.close:
                    break
        except (WireError, OSError, ValueError):
            pass
        finally:
            with self._lock:
                self._socks.discard(sock)
            try:
                sock.close()
            except OSError:
                pass

    # ---- reading and writing

    def _record(self, req, into):
        entry = {"conn": req.conn, "req_on_conn": req.req_on_conn, "method": req.method,
                 "target": req.target, "version": req.version, "headers": req.headers,
                 "head": req.head, "body_len": None, "body_sha256": None,
                 "chunked": req.framing()[0] == "chunked", "time": time.time()}
        with self._lock:
            into.append(entry)
        return entry

    def _read_body(self, req, entry=None):
        """Reads the whole body as a stream; returns its BodyDigest."""
        framing = req.framing()
        if framing != ("none",) and framing != ("length", 0) and not req.sent_continue and \
                (req.header("expect") or "").lower() == "100-continue" and req.version == "HTTP/1.1":
            req.sock.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
        digest = BodyDigest()
        for piece in body_pieces(req.reader, framing):
            digest.update(piece)
        req.body_start = bytes(digest.start)
        if entry is not None:
            entry["body_len"], entry["body_sha256"] = digest.len, digest.sha.hexdigest()
        return digest

    def _head(self, status, headers, req, length=None, chunked=False, reason=None):
        if reason is None:
            try:
                reason = HTTPStatus(status).phrase
            except ValueError:
                reason = "Unknown"
        lines = [f"HTTP/1.1 {status} {reason}", f"X-Backend-Id: {self.id}"]
        lines += [f"{k}: {v}" for k, v in headers]
        if chunked:
            lines.append("Transfer-Encoding: chunked")
        elif length is not None:
            lines.append(f"Content-Length: {length}")
        if req.close:
            lines.append("Connection: close")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    def _respond(self, req, status, headers=(), body=b""):
        """One answer in one send (a head and body in two sends stall on Nagle + delayed ACK)."""
        no_body = status in (204, 304) or 100 <= status < 200
        head = self._head(status, headers, req, None if no_body else len(body))
        req.sock.sendall(head if no_body or req.method == "HEAD" else head + body)

    def _stream(self, req, status, headers, pieces, length=None, chunked=False):
        """A head, then the pieces with Content-Length (length), chunked, or to close."""
        if length is None and not chunked:
            req.close = True
        req.sock.sendall(self._head(status, headers, req, length, chunked))
        if req.method == "HEAD":
            return
        for piece in pieces:
            req.sock.sendall(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
        if chunked:
            req.sock.sendall(b"0\r\n\r\n")

    def _json(self, req, obj, status=200, headers=()):
        body = json.dumps(obj).encode()
        self._respond(req, status, [("Content-Type", "application/json")] + list(headers), body)

    def _hold(self, req):
        """Keeps the connection open, reading and dropping, until the peer closes or stop()."""
        try:
            while req.sock.recv(65536):
                pass
        except OSError:
            pass
        return "closed"

    # ---- routes

    def _route(self, req):
        path = req.path
        if path == "/_control":
            return self._control(req)
        if path == "/_requests":
            self._read_body(req)
            return self._json(req, {"requests": _jsonable(self.requests),
                                    "health_checks": _jsonable(self.health_checks)})
        if path == "/health":
            entry = self._record(req, self.health_checks)
            self._read_body(req, entry)
            with self._lock:
                status = self.health_script.pop(0) if self.health_script else self.health_status
                delay = self.health_delay
            if delay:
                time.sleep(delay)
            return self._respond(req, status, [("Content-Type", "text/plain")], f"{status}\n".encode())
        entry = self._record(req, self.requests)
        handler = ROUTES.get(path)
        if handler is None and path.startswith("/status/"):
            handler = Backend._status
        return (handler or Backend._echo)(self, req, entry)

    def _control(self, req):
        self._read_body(req)
        if "health" in req.opts:
            self.health_status = int(req.opts["health"])
        if "keepalive_timeout" in req.opts:
            v = req.opts["keepalive_timeout"]
            self.keepalive_timeout = None if v in ("", "none") else float(v)
        if req.opts.get("reset"):
            self.clear()
        return self._json(req, {"id": self.id, "health": self.health_status,
                                "keepalive_timeout": self.keepalive_timeout})

    def _echo(self, req, entry):
        self._read_body(req, entry)
        return self._echo_answer(req, entry)

    def _echo_answer(self, req, entry):
        return self._json(req, {
            "method": req.method, "target": req.target, "version": req.version,
            "headers": req.headers, "body_len": entry["body_len"], "body_sha256": entry["body_sha256"],
            "body": req.body_start.decode("latin-1"), "chunked": entry["chunked"],
            "conn": req.conn, "req_on_conn": req.req_on_conn, "backend": self.id})

    def _bytes(self, req, entry):
        self._read_body(req, entry)
        n = parse_size(req.opts.get("n", "0"))
        chunked = req.opts.get("chunked") == "1"
        close = req.opts.get("close") == "1"
        length = None if chunked or close else n
        return self._stream(req, 200, [("Content-Type", "application/octet-stream")],
                            pattern_pieces(n), length=length, chunked=chunked)

    def _upload(self, req, entry):
        digest = self._read_body(req, entry)
        return self._json(req, {"len": digest.len, "sha256": digest.sha.hexdigest(),
                                "chunked": entry["chunked"]})

    def _status(self, req, entry):
        self._read_body(req, entry)
        status = int(req.path[len("/status/"):])
        return self._respond(req, status, [("Content-Type", "text/plain")], f"status {status}\n".encode())

    def _head_check(self, req, entry):
        self._read_body(req, entry)
        chunked = req.opts.get("chunked") == "1"
        return self._stream(req, 200, [("Content-Type", "application/octet-stream")],
                            [pattern(0, 1000)], length=None if chunked else 1000, chunked=chunked)

    def _headers(self, req, entry):
        self._read_body(req, entry)
        # The backend frames its own answers: framing names from the query are dropped.
        headers = [(k, v) for k, v in req.query
                   if k.lower() not in ("content-length", "transfer-encoding")]
        if any(k.lower() == "connection" and "close" in v.lower() for k, v in headers):
            req.close = True
            headers = [(k, v) for k, v in headers if k.lower() != "connection"]
        return self._respond(req, 200, headers + [("Content-Type", "text/plain")], b"headers set\n")

    def _cookie(self, req, entry):
        self._read_body(req, entry)
        name = req.opts.get("name", "SESSION")
        value = req.opts.get("value", self.id)
        return self._json(req, {"cookie": name, "value": value, "backend": self.id,
                                "request_cookie": req.header("cookie")},
                          headers=[("Set-Cookie", f"{name}={value}; Path=/")])

    def _silent(self, req, entry):
        self._read_body(req, entry)
        return self._hold(req)

    def _slow(self, req, entry):
        self._read_body(req, entry)
        time.sleep(int(req.opts.get("ms", "1000")) / 1000)
        return self._echo_answer(req, entry)

    def _held(self, req, entry):
        self._read_body(req, entry)
        h = self._hold_entry(req.opts.get("key", "h"))
        with self._lock:
            h[1] += 1
        h[0].wait(60)
        with self._lock:
            h[1] -= 1
        return self._echo_answer(req, entry)

    def _drip(self, req, entry):
        self._read_body(req, entry)
        n = parse_size(req.opts.get("n", "65536"))
        ms = int(req.opts.get("ms", "100"))
        piece = int(req.opts.get("piece", "4096"))
        req.sock.sendall(self._head(200, [("Content-Type", "application/octet-stream")], req, n))
        sent = 0
        while sent < n:
            k = min(piece, n - sent)
            req.sock.sendall(pattern(sent, k))
            sent += k
            time.sleep(ms / 1000)
        return None

    def _sip(self, req, entry):
        ms = int(req.opts.get("ms", "200"))
        piece = int(req.opts.get("piece", "262144"))
        slow = parse_size(req.opts["slow"]) if "slow" in req.opts else None
        digest, since = BodyDigest(), 0
        for data in body_pieces(req.reader, req.framing()):
            digest.update(data)
            since += len(data)
            if since >= piece and (slow is None or digest.len < slow):
                since = 0
                time.sleep(ms / 1000)
        return self._json(req, {"len": digest.len, "sha256": digest.sha.hexdigest(), "chunked": False})

    def _reset(self, req, entry):
        self._read_body(req, entry)
        # SO_LINGER on with a zero timeout makes close() send RST instead of FIN.
        req.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        req.sock.close()
        return "closed"

    def _close(self, req, entry):
        self._read_body(req, entry)
        req.sock.shutdown(socket.SHUT_WR)
        return "closed"

    def _mid_close(self, req, entry):
        self._read_body(req, entry)
        n = parse_size(req.opts.get("n", "1000"))
        req.sock.sendall(self._head(200, [("Content-Type", "application/octet-stream")], req, n)
                         + pattern(0, n // 2))
        req.sock.shutdown(socket.SHUT_WR)
        return "closed"

    def _malformed(self, req, entry):
        self._read_body(req, entry)
        req.sock.sendall(b"this is not an HTTP status line\r\nX-Backend-Id: "
                         + self.id.encode() + b"\r\n\r\n")
        return self._hold(req)

    def _bigheader(self, req, entry):
        self._read_body(req, entry)
        size = int(req.opts.get("kb", "40")) * 1024
        parts = max(1, int(req.opts.get("parts", "1")))
        headers = [(f"X-Big-{i}", "b" * (size // parts)) for i in range(parts)]
        return self._respond(req, 200, headers + [("Content-Type", "text/plain")], b"big header\n")

    def _short_cl(self, req, entry):
        self._read_body(req, entry)
        req.sock.sendall(self._head(200, [("Content-Type", "text/plain")], req, 10) + b"12345")
        return self._hold(req)

    def _interim(self, req, entry):
        code = int(req.opts.get("code", "100"))
        extra = "Link: </style.css>; rel=preload\r\n" if code == 103 else ""
        req.sock.sendall(f"HTTP/1.1 {code} {HTTPStatus(code).phrase}\r\n{extra}\r\n".encode())
        req.sent_continue = code == 100
        self._read_body(req, entry)
        return self._echo_answer(req, entry)

    def _switch(self, req, entry):
        self._read_body(req, entry)
        req.sock.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                         b"Connection: Upgrade\r\n\r\nGARBAGE")
        after, deadline = bytes(req.reader.buf), time.monotonic() + int(req.opts.get("ms", "1000")) / 1000
        try:
            while time.monotonic() < deadline:
                req.sock.settimeout(max(0.01, deadline - time.monotonic()))
                piece = req.sock.recv(65536)
                if not piece:
                    break
                after += piece
        except OSError:
            pass
        entry["after"] = after.decode("latin-1")
        return "closed"

    def _bodied(self, req, entry):
        self._read_body(req, entry)
        code = int(req.opts.get("code", "204"))
        req.sock.sendall(self._head(code, [], req, 5) + b"hello")
        return "closed"     # the 5 bytes put the connection out of step

    def _early(self, req, entry):
        code = int(req.opts.get("code", "413"))
        req.close = True
        req.sock.sendall(self._head(code, [], req, 3) + b"no\n")
        req.sock.shutdown(socket.SHUT_WR)
        return self._hold(req)

    def _close_open(self, req, entry):
        self._read_body(req, entry)
        req.close = True
        req.sock.sendall(self._head(200, [], req, 5) + b"hello")
        return self._hold(req)

    def _raw(self, req, entry):
        self._read_body(req, entry)
        req.sock.sendall((req.opts.get("head", "") + req.opts.get("body", "")).encode("latin-1"))
        req.sock.shutdown(socket.SHUT_WR)
        return "closed"

    def _odd_status(self, req, entry):
        self._read_body(req, entry)
        code = req.opts.get("code", "099")
        req.sock.sendall(f"HTTP/1.1 {code} Odd\r\nX-Backend-Id: {self.id}\r\nContent-Length: 2\r\n\r\nok".encode())


ROUTES = {
    "/bytes": Backend._bytes, "/upload": Backend._upload, "/head-check": Backend._head_check,
    "/headers": Backend._headers, "/cookie": Backend._cookie, "/silent": Backend._silent,
    "/slow": Backend._slow, "/hold": Backend._held, "/drip": Backend._drip, "/sip": Backend._sip, "/reset": Backend._reset, "/close": Backend._close,
    "/mid-close": Backend._mid_close, "/malformed": Backend._malformed,
    "/bigheader": Backend._bigheader, "/short-cl": Backend._short_cl, "/interim": Backend._interim,
    "/switch": Backend._switch, "/odd-status": Backend._odd_status, "/bodied": Backend._bodied,
    "/early": Backend._early, "/close-open": Backend._close_open, "/raw": Backend._raw,
}


def _jsonable(entries):
    return [dict(e, head=e["head"].decode("latin-1")) for e in list(entries)]


def spawn(id="backend", port=0, host="127.0.0.1", keepalive_timeout=None):
    """Starts backend.py as its own process; returns (Popen, port). Stop it with
    terminate() or kill() (a killed backend drops its connections mid-answer)."""
    cmd = [sys.executable, HERE, "--id", id, "--port", str(port), "--host", host]
    if keepalive_timeout is not None:
        cmd += ["--keepalive-timeout", str(keepalive_timeout)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE)
    line = proc.stdout.readline()
    if not line.strip().isdigit():
        proc.kill()
        proc.wait()
        raise RuntimeError(f"backend.py did not start: {line!r}")
    return proc, int(line)


def main():
    ap = argparse.ArgumentParser(description="HTTP/1.1 test backend (see the module docstring)")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--id", default="backend")
    ap.add_argument("--keepalive-timeout", type=float, default=None)
    args = ap.parse_args()
    b = Backend(args.id, args.host, args.port, args.keepalive_timeout).start()
    print(b.port, flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        while True:
            time.sleep(3600)
    except (KeyboardInterrupt, SystemExit):
        b.stop()


if __name__ == "__main__":
    main()
