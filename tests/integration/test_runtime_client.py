"""The bundled runtime clients' HTTP side, against a scripted Runtime API (no lb).

Both clients pipeline the /next behind each result's post (one send per invocation).
These check what that has to survive: the post's answer and the next event arriving in
one segment (and a chunked answer), an answer with Connection: close (the pipelined
/next goes again on a new connection) and a connection closed before any answer (the
post and its /next go again, once, on a new connection).
"""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
NODE_RT = os.path.join(ROOT, "runtimes", "node", "bootstrap.mjs")
PY_RT = os.path.join(ROOT, "runtimes", "python", "bootstrap.py")
NEXT = b"GET /2018-06-01/runtime/invocation/next HTTP/1.1"
ACC = b'HTTP/1.1 202 Accepted\r\nContent-Length: 15\r\n\r\n{"status":"OK"}'
ACC_CHUNKED = (b"HTTP/1.1 202 Accepted\r\nTransfer-Encoding: chunked\r\n\r\n"
               b'5\r\n{"sta\r\na\r\ntus":"OK"}\r\n0\r\n\r\n')
ACC_CLOSE = b'HTTP/1.1 202 Accepted\r\nConnection: close\r\nContent-Length: 15\r\n\r\n{"status":"OK"}'


def event(i):
    body = json.dumps({"n": i}).encode()
    return (b"HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: id%d\r\n"
            b"Lambda-Runtime-Deadline-Ms: 4102444800000\r\nContent-Length: %d\r\n\r\n"
            % (i, len(body))) + body


def post_line(i):
    return b"POST /2018-06-01/runtime/invocation/id%d/response HTTP/1.1" % i


class Conn:
    """One accepted connection; reads whole requests (Content-Length framed)."""

    def __init__(self, listener):
        self.sock, _ = listener.accept()
        self.sock.settimeout(30)
        self.buf = b""

    def request(self):
        """(request line, body), or None at the end of the connection."""
        while b"\r\n\r\n" not in self.buf:
            d = self.sock.recv(65536)
            if not d:
                return None
            self.buf += d
        i = self.buf.index(b"\r\n\r\n")
        lines = self.buf[:i].split(b"\r\n")
        self.buf = self.buf[i + 4:]
        n = 0
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                n = int(value)
        while len(self.buf) < n:
            d = self.sock.recv(65536)
            if not d:
                return None
            self.buf += d
        body, self.buf = self.buf[:n], self.buf[n:]
        return lines[0], body

    def send(self, data):
        self.sock.sendall(data)

    def close(self):
        self.sock.close()


class RuntimeClientTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="lb-rtclient-")
        with open(os.path.join(self.tmp, "h.js"), "w") as f:
            f.write("exports.handler = async (e) => ({ n: e.n });\n")
        with open(os.path.join(self.tmp, "h.py"), "w") as f:
            f.write("def handler(e, c):\n    return {'n': e['n']}\n")
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(4)
        self.listener.settimeout(30)
        self.proc = None

    def tearDown(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.listener.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def start(self, runtime):
        port = self.listener.getsockname()[1]
        env = dict(os.environ, AWS_LAMBDA_RUNTIME_API=f"127.0.0.1:{port}",
                   _HANDLER="h.handler", LAMBDA_TASK_ROOT=self.tmp)
        argv = ["node", NODE_RT] if runtime == "node" else [sys.executable, "-u", PY_RT]
        self.proc = subprocess.Popen(argv, env=env, cwd=self.tmp, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE)
        return Conn(self.listener)

    def expect(self, conn, line, body=None):
        r = conn.request()
        self.assertIsNotNone(r, f"connection ended, expected {line!r}")
        self.assertEqual(r[0], line)
        if body is not None:
            self.assertEqual(json.loads(r[1]), body)

    def first(self, runtime):
        """Starts the runtime; serves event 1; returns the connection with its post read."""
        c = self.start(runtime)
        self.expect(c, NEXT)
        c.send(event(1))
        self.expect(c, post_line(1), {"n": 1})
        return c

    def finish(self, conn):
        """The Runtime API goes away: the runtime exits 0 by itself."""
        conn.close()
        self.listener.close()
        self.assertEqual(self.proc.wait(timeout=30), 0)

    def coalesced(self, runtime):
        c = self.first(runtime)
        self.expect(c, NEXT)           # pipelined behind the post
        c.send(ACC + event(2))         # the 202 and the next event in one segment
        self.expect(c, post_line(2), {"n": 2})
        self.expect(c, NEXT)
        c.send(ACC_CHUNKED)
        c.send(event(3))
        self.expect(c, post_line(3), {"n": 3})
        self.expect(c, NEXT)
        c.send(ACC)
        self.finish(c)

    def connection_close(self, runtime):
        c = self.first(runtime)
        self.expect(c, NEXT)
        c.send(ACC_CLOSE)
        c.close()
        c = Conn(self.listener)        # the /next that was not served, again
        self.expect(c, NEXT)
        c.send(event(4))
        self.expect(c, post_line(4), {"n": 4})
        self.expect(c, NEXT)
        c.send(ACC)
        self.finish(c)

    def closed_before_answer(self, runtime):
        c = self.first(runtime)
        self.expect(c, NEXT)
        c.close()                      # nothing answered: both go again, once
        c = Conn(self.listener)
        self.expect(c, post_line(1), {"n": 1})
        self.expect(c, NEXT)
        c.send(ACC + event(5))
        self.expect(c, post_line(5), {"n": 5})
        self.expect(c, NEXT)
        c.send(ACC)
        self.finish(c)

    def test_node_coalesced_answers(self):
        self.coalesced("node")

    def test_python_coalesced_answers(self):
        self.coalesced("python")

    def test_node_connection_close(self):
        self.connection_close("node")

    def test_python_connection_close(self):
        self.connection_close("python")

    def test_node_closed_before_answer(self):
        self.closed_before_answer("node")

    def test_python_closed_before_answer(self):
        self.closed_before_answer("python")


if __name__ == "__main__":
    unittest.main()
