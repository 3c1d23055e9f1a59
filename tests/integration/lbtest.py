"""Test harness for integration tests: runs the real lb binary and speaks raw HTTP.

    with Lb(CONFIG, rules={"api.yaml": RULES}) as lb:
        r = lb.request(b"GET / HTTP/1.1\\r\\nHost: a\\r\\n\\r\\n")
        assert r.status == 404

Lb writes the config (and rule files) into a temporary directory, starts lb on
port 0 with the access log in that directory, and reads the listening ports
from lb's stdout. On exit it sends SIGTERM and asserts a clean exit: status 0
and no sanitizer report on stderr. Python stdlib only.
"""
import os
import re
import shlex
import signal
import socket
import subprocess
import tempfile
import textwrap
import time
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LB_BIN = os.environ.get("LB_BIN", os.path.join(ROOT, "build", "asan", "lb"))

SIMPLE_CONFIG = """
load_balancer:
  name: test-alb
listeners:
  - port: 0
    rules: ["rules/*.yaml"]
    default_actions:
      - type: fixed-response
        fixed_response: {status_code: "404", content_type: text/plain, message_body: "no rule matched"}
"""


class Response:
    """One HTTP response as read off the wire."""

    def __init__(self, raw_head, body):
        self.raw_head = raw_head
        self.body = body
        lines = raw_head.decode("latin-1").split("\r\n")
        self.status_line = lines[0]
        parts = lines[0].split(" ", 2)
        self.version = parts[0]
        self.status = int(parts[1])
        self.reason = parts[2] if len(parts) > 2 else ""
        self.headers = []  # (name, value) in order
        for line in lines[1:]:
            if line:
                name, _, value = line.partition(":")
                self.headers.append((name, value.strip()))

    def header(self, name):
        """The first value of header name (case-insensitive), or None."""
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    def header_all(self, name):
        return [v for k, v in self.headers if k.lower() == name.lower()]

    @property
    def raw(self):
        return self.raw_head + self.body

    def __repr__(self):
        return f"<Response {self.status_line!r} {self.headers!r} {self.body[:200]!r}>"


class Conn:
    """A raw client connection."""

    def __init__(self, port, host="127.0.0.1", timeout=10):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def send(self, data):
        self.sock.sendall(data)

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError("connection closed")
        self.buf += chunk

    def _read_line(self):
        while b"\r\n" not in self.buf:
            self._fill()
        line, _, self.buf = self.buf.partition(b"\r\n")
        return line

    def _read_chunked(self):
        """A chunked body, de-chunked (trailers dropped)."""
        body = b""
        while True:
            size = int(self._read_line().split(b";")[0], 16)
            if size == 0:
                while self._read_line():
                    pass
                return body
            while len(self.buf) < size + 2:
                self._fill()
            body += self.buf[:size]
            self.buf = self.buf[size + 2:]

    def read_response(self, head_request=False):
        """Reads one response (Content-Length or chunked framed, or to EOF without either)."""
        while b"\r\n\r\n" not in self.buf:
            self._fill()
        head, _, self.buf = self.buf.partition(b"\r\n\r\n")
        r = Response(head, b"")
        if r.status == 100:
            return r
        length = r.header("content-length")
        if head_request or r.status in (204, 304):
            return r
        if (r.header("transfer-encoding") or "").lower() == "chunked":
            r.body = self._read_chunked()
            return r
        if length is None:
            while True:
                try:
                    self._fill()
                except EOFError:
                    break
            r.body, self.buf = self.buf, b""
            return r
        n = int(length)
        while len(self.buf) < n:
            self._fill()
        r.body, self.buf = self.buf[:n], self.buf[n:]
        return r

    def read_all(self):
        """Everything until the peer closes."""
        while True:
            try:
                self._fill()
            except EOFError:
                break
            except ConnectionResetError:
                break
        data, self.buf = self.buf, b""
        return data

    def closed_by_peer(self, timeout=5):
        """True when the server closes the connection within timeout."""
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(65536)
        except socket.timeout:
            return False
        except ConnectionResetError:
            return True
        self.buf += data
        return data == b""

    def close(self):
        self.sock.close()


def parse_log_line(line):
    """Splits an access-log line into its fields, honouring double quotes."""
    fields, i, n = [], 0, len(line)
    while i < n:
        if line[i] == " ":
            i += 1
            continue
        if line[i] == '"':
            j, out = i + 1, []
            while line[j] != '"':
                if line[j] == "\\":
                    out.append(line[j:j + 2])
                    j += 2
                else:
                    out.append(line[j])
                    j += 1
            fields.append("".join(out))
            i = j + 1
        else:
            j = line.find(" ", i)
            j = n if j < 0 else j
            fields.append(line[i:j])
            i = j
    return fields


LOG_FIELDS = [
    "type", "time", "elb", "client_port", "target_port", "request_processing_time",
    "target_processing_time", "response_processing_time", "elb_status_code",
    "target_status_code", "received_bytes", "sent_bytes", "request", "user_agent",
    "ssl_cipher", "ssl_protocol", "target_group_arn", "trace_id", "domain_name",
    "chosen_cert_arn", "matched_rule_priority", "request_creation_time", "actions_executed",
    "redirect_url", "error_reason", "target_port_list", "target_status_code_list",
    "classification", "classification_reason", "conn_trace_id", "transformed_host",
    "transformed_uri", "request_transform_status",
]


class Lb:
    """A running lb with a config written to a temporary directory."""

    def __init__(self, config=SIMPLE_CONFIG, rules=None, files=None, args=(), access_log=True,
                 env=None, preexec=None):
        self.tmp = tempfile.TemporaryDirectory(prefix="lbtest-")
        self.dir = self.tmp.name
        self.config_path = os.path.join(self.dir, "lb.yaml")
        self.access_log_path = os.path.join(self.dir, "access.log") if access_log else None
        self.write("lb.yaml", config)
        os.makedirs(os.path.join(self.dir, "rules"), exist_ok=True)
        for name, text in (rules or {}).items():
            self.write(os.path.join("rules", name), text)
        for name, text in (files or {}).items():
            self.write(name, text)
        self.args = list(args)
        self.env = env
        self.preexec = preexec   # run in the child before lb starts (limits, say)
        self.proc = None
        self.ports = []
        self.stderr_path = os.path.join(self.dir, "stderr.txt")

    def write(self, name, text):
        path = os.path.join(self.dir, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        mode = "wb" if isinstance(text, bytes) else "w"
        with open(path, mode) as f:
            f.write(text if isinstance(text, bytes) else textwrap.dedent(text))
        return path

    def start(self):
        cmd = [LB_BIN, "-c", self.config_path] + self.args
        if self.access_log_path:
            cmd += ["--access-log", self.access_log_path]
        env = dict(os.environ)
        env.update(self.env or {})
        self.stderr_file = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self.stderr_file,
                                     cwd=self.dir, env=env, preexec_fn=self.preexec)
        self.ports = []
        deadline = time.time() + 15
        while time.time() < deadline:
            line = self.proc.stdout.readline().decode()
            if not line:
                raise RuntimeError(f"lb exited ({self.proc.wait()}): {self.stderr()}")
            m = re.match(r"lb: listening on https?://(.+):(\d+)$", line.strip())
            if m:
                self.ports.append(int(m.group(2)))
                if len(self.ports) == self.expected_listeners():
                    return self
        raise RuntimeError("lb did not start: " + self.stderr())

    def expected_listeners(self):
        with open(self.config_path) as f:
            return max(1, sum(1 for line in f if re.match(r"\s*- port:", line)))

    @property
    def port(self):
        return self.ports[0]

    def stderr(self):
        self.stderr_file.flush()
        with open(self.stderr_path, "rb") as f:
            return f.read().decode(errors="replace")

    def connect(self, index=0, timeout=10):
        return Conn(self.ports[index], timeout=timeout)

    def request(self, raw, index=0, head_request=False):
        """Sends raw bytes on a new connection and reads one response."""
        c = self.connect(index)
        try:
            c.send(raw)
            return c.read_response(head_request=head_request)
        finally:
            c.close()

    def get(self, path="/", host="example.com", headers=(), method="GET", body=b""):
        lines = [f"{method} {path} HTTP/1.1", f"Host: {host}"] + list(headers)
        if body:
            lines.append(f"Content-Length: {len(body)}")
        raw = ("\r\n".join(lines) + "\r\n\r\n").encode() + body
        return self.request(raw, head_request=(method == "HEAD"))

    def complete_log_lines(self):
        """The access log's raw lines so far, without a last line still being written:
        a reader can see part of lb's write(2)."""
        if not self.access_log_path or not os.path.exists(self.access_log_path):
            return []
        with open(self.access_log_path) as f:
            text = f.read()
        return [l for l in text[:text.rfind("\n") + 1].split("\n") if l.strip()]

    def log_lines(self, count=1, timeout=5):
        """Waits for at least count access-log lines and returns them all, parsed."""
        deadline = time.time() + timeout
        lines = []
        while time.time() < deadline:
            lines = self.complete_log_lines()
            if len(lines) >= count:
                break
            time.sleep(0.02)
        return [dict(zip(LOG_FIELDS, parse_log_line(l))) | {"_raw": l} for l in lines]

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, check=True):
        """SIGTERM, wait, and (check) assert a clean, leak-free exit."""
        if not self.proc:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait()
        self.proc.stdout.close()
        err = self.stderr()
        self.stderr_file.close()
        self.proc = None
        if check:
            if "Sanitizer" in err or "runtime error:" in err:
                raise AssertionError("sanitizer report:\n" + err[-6000:])
            if code != 0:
                raise AssertionError(f"lb exited with {code}:\n{err[-3000:]}")

    def __enter__(self):
        return self.start()

    def __exit__(self, exc_type, exc, tb):
        try:
            self.stop(check=exc_type is None)
        finally:
            self.tmp.cleanup()


def run_lb(*args, cwd=None, timeout=30):
    """Runs lb with arguments to completion: (exit status, stdout, stderr)."""
    p = subprocess.run([LB_BIN] + list(args), capture_output=True, text=True, cwd=cwd,
                       timeout=timeout)
    return p.returncode, p.stdout, p.stderr


class LbTestCase(unittest.TestCase):
    """Base class: self.start(...) runs an lb stopped (and checked) after the test."""

    def start(self, *args, **kwargs):
        lb = Lb(*args, **kwargs)
        lb.start()
        self.addCleanup(lb.tmp.cleanup)
        self.addCleanup(lb.stop)
        return lb
