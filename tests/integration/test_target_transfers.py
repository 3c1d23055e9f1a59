"""Large and slow transfers through lb to HTTP targets (alb-http-targets-and-tls.md §1.3,
§1.12; DESIGN.md §13): 1 GiB downloaded and uploaded with lb's RSS sampled from /proc
(bounded memory: bodies are streamed both ways), and a client that reads slowly but
steadily for longer than the idle timeout (ALB's idle timeout counts inactivity; bytes
moving are activity).
"""
import hashlib
import json
import os
import socket
import threading
import time

from backendwire import pattern, pattern_pieces, pattern_sha256
from targetcommon import HEALTH, TargetsCase, http_group, rss_kb

GIB = 1 << 30
# lb's RSS bound during a 1 GiB transfer (issue 7: under 40 MB). An ASan build's shadow memory
# counts too (measured: about 20 MB under ASan with a small quarantine, 5 MB released).
RSS_LIMIT_KB = int(os.environ.get("LB_TEST_RSS_LIMIT_KB", 40 * 1024))


class RssSampler:
    """Samples a process's VmRSS every 50 ms in a thread; .peak in KiB."""

    def __init__(self, pid):
        self.pid, self.peak, self.samples = pid, 0, 0
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            try:
                self.peak = max(self.peak, rss_kb(self.pid))
                self.samples += 1
            except OSError:
                return
            self._stop.wait(0.05)

    def __enter__(self):
        self._t.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._t.join(5)


def report(name, value):
    """Measured numbers go to stderr (the run's log) for the report."""
    print(f"\n[measure] {name}: {value}", flush=True)


# ASan keeps freed blocks in a 256 MB quarantine by default, which a stream of buffers
# fills whatever lb's real footprint; a small quarantine lets RSS show what lb holds.
SMALL_QUARANTINE = {"ASAN_OPTIONS": (os.environ.get("ASAN_OPTIONS", "") + ":quarantine_size_mb=4").lstrip(":")}


class LargeTransferTests(TargetsCase):
    def setUp(self):
        (self.b,) = self.backends("a")
        self.lb = self.start_lb([http_group("web", [self.b], health=HEALTH)], env=SMALL_QUARANTINE)
        self.wait_healthy(self.lb, self.b)

    def test_1gib_download_keeps_lb_small(self):
        c = self.lb.connect(timeout=60)
        c.send(b"GET /bytes?n=1G HTTP/1.1\r\nHost: h\r\n\r\n")
        sock = c.sock
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = sock.recv(65536)
            self.assertTrue(chunk)
            head += chunk
        head, _, body = head.partition(b"\r\n\r\n")
        self.assertIn(b"Content-Length: %d" % GIB, head)
        sha = hashlib.sha256(body)
        got = len(body)
        t0 = time.monotonic()
        with RssSampler(self.lb.proc.pid) as rss:
            buf = bytearray(1 << 20)
            view = memoryview(buf)
            while got < GIB:
                n = sock.recv_into(view)
                self.assertGreater(n, 0, f"cut after {got} bytes")
                sha.update(view[:n])
                got += n
        c.close()
        report("1 GiB download: lb peak RSS KiB", rss.peak)
        report("1 GiB download: seconds", round(time.monotonic() - t0, 1))
        self.assertEqual(got, GIB)
        self.assertEqual(sha.hexdigest(), pattern_sha256(GIB))
        self.assertGreater(rss.samples, 0)
        self.assertLess(rss.peak, RSS_LIMIT_KB)

    def test_1gib_upload_keeps_lb_small(self):
        c = self.lb.connect(timeout=60)
        c.send(b"POST /upload HTTP/1.1\r\nHost: h\r\nContent-Length: %d\r\n\r\n" % GIB)
        t0 = time.monotonic()
        with RssSampler(self.lb.proc.pid) as rss:
            for piece in pattern_pieces(GIB, 1 << 20):
                c.sock.sendall(piece)
            r = c.read_response()
        c.close()
        report("1 GiB upload: lb peak RSS KiB", rss.peak)
        report("1 GiB upload: seconds", round(time.monotonic() - t0, 1))
        self.assertEqual(r.status, 200)
        got = json.loads(r.body)
        self.assertEqual(got["len"], GIB)
        self.assertEqual(got["sha256"], pattern_sha256(GIB))
        self.assertLess(rss.peak, RSS_LIMIT_KB)


class SlowReaderTests(TargetsCase):
    """idle_timeout 2 s. A reader taking 64 KiB every 100 ms lets the kernel's send
    buffer grow to megabytes, so the socket turns writable only every few seconds:
    before the fix, lb's write timeout cut it (after 8-13 s here) although bytes kept
    moving."""

    def test_slow_steady_reader_is_not_cut_by_the_idle_timeout(self):
        (b,) = self.backends("a")
        lb = self.start_lb([http_group("web", [b], health=HEALTH)],
                           attributes={"idle_timeout.timeout_seconds": 2})
        self.wait_healthy(lb, b)
        n = 256 << 20
        s = socket.create_connection(("127.0.0.1", lb.port), timeout=10)
        s.sendall(b"GET /bytes?n=256M HTTP/1.1\r\nHost: h\r\n\r\n")
        got = b""
        while b"\r\n\r\n" not in got:
            chunk = s.recv(4096)
            self.assertTrue(chunk)
            got += chunk
        head, _, body = got.partition(b"\r\n\r\n")
        self.assertIn(b"200 OK", head)
        total = len(body)
        end = time.monotonic() + 12
        # Well over the idle timeout, never idle for long: every 100 ms bytes move.
        while time.monotonic() < end:
            want = 64 << 10
            while want > 0:
                chunk = s.recv(want)
                self.assertTrue(chunk, f"lb cut a reader that kept reading, after {total} bytes")
                self.assertEqual(chunk[:64], pattern(total, min(64, len(chunk))))
                total += len(chunk)
                want -= len(chunk)
            time.sleep(0.1)
        s.close()
        self.assertLess(total, n)

    def test_reader_that_stops_is_cut_after_the_idle_timeout(self):
        (b,) = self.backends("a")
        lb = self.start_lb([http_group("web", [b], health=HEALTH)],
                           attributes={"idle_timeout.timeout_seconds": 1})
        self.wait_healthy(lb, b)
        s = socket.create_connection(("127.0.0.1", lb.port), timeout=30)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
        s.sendall(b"GET /bytes?n=1G HTTP/1.1\r\nHost: h\r\n\r\n")
        time.sleep(6)   # reads nothing: lb's buffers fill, then nothing moves for 1 s
        total = 0
        try:
            while True:
                chunk = s.recv(1 << 20)
                if not chunk:
                    break
                total += len(chunk)
        except ConnectionResetError:
            pass
        s.close()
        self.assertLess(total, GIB)


class SlowTargetReaderTests(TargetsCase):
    """The same toward a target: an upload whose first 6 MiB the target takes 256 KiB
    every 200 ms, for longer than the 2 s idle timeout. Bytes moving toward the target
    are activity on its connection, so lb must not answer 504 while the target still
    reads. (The rest is read at once: bytes already acknowledged into the target's
    socket buffer no longer move, and there ALB's idle timeout would run.)"""

    def test_slow_steady_target_reader_is_not_timed_out(self):
        (b,) = self.backends("a")
        lb = self.start_lb([http_group("web", [b], health=HEALTH)],
                           attributes={"idle_timeout.timeout_seconds": 2})
        self.wait_healthy(lb, b)
        n = 12 << 20
        c = lb.connect(timeout=60)
        c.send(b"POST /sip?slow=6M HTTP/1.1\r\nHost: h\r\nContent-Length: %d\r\n\r\n" % n)
        for piece in pattern_pieces(n, 1 << 20):
            c.sock.sendall(piece)
        r = c.read_response()
        c.close()
        self.assertEqual(r.status, 200, r.body[:200])
        got = json.loads(r.body)
        self.assertEqual(got["len"], n)
        self.assertEqual(got["sha256"], pattern_sha256(n))
