"""Shared pieces of the integration tests: ALB's exact pages, config builders,
response and access-log checks. Python stdlib only; imported by test_*.py.
"""
import email.utils
import re
import socket
import time
import unittest

from lbtest import LOG_FIELDS, Conn, Lb, parse_log_line

# ALB's nginx-style page (alb-lambda-targets.md §2.7): CRLF line ends, no bgcolor.
def page(title):
    t = title.encode()
    return (b"<html>\r\n<head><title>" + t + b"</title></head>\r\n<body>\r\n<center><h1>" + t +
            b"</h1></center>\r\n</body>\r\n</html>\r\n")


PAGE_400 = page("400 Bad Request")
PAGE_503 = page("503 Service Temporarily Unavailable")
PAGE_301 = page("301 Moved Permanently")
PAGE_302 = page("302 Found")
PAGE_405 = page("405 Not Allowed")
PAGE_408 = page("408 Request Time-out")
PAGE_501 = page("501 Not Implemented")
PAGE_463 = page("463")

assert len(PAGE_400) == 122 and len(PAGE_503) == 162 and len(PAGE_301) == 134

DATE_RE = re.compile(r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|"
                     r"Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d GMT$")
ISO_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
TRACE_ROOT_RE = re.compile(r"^Root=1-([0-9a-f]{8})-[0-9a-f]{24}$")
TID_RE = re.compile(r"^TID_[0-9a-f]{32}$")
ELB_RE = re.compile(r"^app/test-alb/[0-9a-f]{16}$")


def config(attributes=None, listeners=None, target_groups="", name="test-alb", extra_lb=""):
    """An lb.yaml: one listener on port 0 loading rules/*.yaml unless listeners is given."""
    attrs = ""
    if attributes:
        attrs = "  attributes:\n" + "".join(f"    {k}: {v}\n" for k, v in attributes.items())
    if listeners is None:
        listeners = LISTENER
    return f"load_balancer:\n  name: {name}\n{extra_lb}{attrs}listeners:\n{listeners}{target_groups}"


LISTENER = """\
  - port: 0
    rules: ["rules/*.yaml"]
    default_actions:
      - type: fixed-response
        fixed_response: {status_code: "404", content_type: text/plain, message_body: "no rule matched"}
"""

NO_RULES = "rules: []\n"


def fixed(priority, conditions, body, status="200", content_type="text/plain"):
    """One rule (YAML text, indented for a `rules:` list) answering with a fixed response."""
    ct = f", content_type: {content_type}" if content_type else ""
    return (f"  - priority: {priority}\n"
            f"    conditions: {conditions}\n"
            f"    actions:\n"
            f"      - type: fixed-response\n"
            f"        fixed_response: {{status_code: \"{status}\"{ct}, message_body: \"{body}\"}}\n")


def rules_file(*rules, listener=None):
    head = f"listener: {listener}\n" if listener is not None else ""
    return head + "rules:\n" + "".join(rules)


def free_port(family=socket.AF_INET, host="127.0.0.1"):
    s = socket.socket(family, socket.SOCK_STREAM)
    s.bind((host, 0))
    port = s.getsockname()[1]
    s.close()
    return port


def conn_from(port, source_ip, host="127.0.0.1", timeout=10):
    """A Conn whose client end is bound to source_ip (any 127.x.y.z works on loopback)."""
    c = Conn.__new__(Conn)
    c.sock = socket.create_connection((host, port), timeout=timeout, source_address=(source_ip, 0))
    c.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    c.buf = b""
    return c


def get_raw(path="/", host="example.com", headers=(), method="GET", version="HTTP/1.1", body=b""):
    lines = [f"{method} {path} {version}"]
    if host is not None:
        lines.append(f"Host: {host}")
    lines += list(headers)
    if body:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def wait_for(pred, timeout=5, step=0.02):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(step)
    return pred()


def log_entries(lb, count, timeout=5):
    """Exactly the parsed lines once at least count are there (dicts by LOG_FIELDS)."""
    return lb.log_lines(count, timeout=timeout)


def read_log(lb):
    """Every access-log line written so far, parsed (no waiting)."""
    return [parse_log(l) for l in lb.complete_log_lines()]


def log_for(lb, needle, timeout=5):
    """The one access-log line whose raw text contains needle (waits for it)."""
    def find():
        found = [e for e in read_log(lb) if needle in e["_raw"]]
        return found or None
    found = wait_for(find, timeout)
    if not found:
        raise AssertionError(f"no access-log line contains {needle!r}")
    if len(found) != 1:
        raise AssertionError(f"{len(found)} access-log lines contain {needle!r}")
    return found[0]


def parse_log(line):
    fields = parse_log_line(line)
    return dict(zip(LOG_FIELDS, fields)) | {"_n": len(fields), "_raw": line}


def wait_stderr(lb, text, timeout=5):
    return wait_for(lambda: text in lb.stderr(), timeout)


class ClassLb(unittest.TestCase):
    """One lb for a whole TestCase class (starting the sanitized binary costs time).

    Subclasses set CONFIG and RULES (a dict of rule files); the lb is stopped,
    and its exit checked (status 0, no sanitizer report), in tearDownClass.
    """
    CONFIG = None
    RULES = {"a.yaml": NO_RULES}
    FILES = None

    @classmethod
    def setUpClass(cls):
        cls.lb = Lb(cls.CONFIG or config(), rules=cls.RULES, files=cls.FILES)
        cls.lb.start()

    @classmethod
    def tearDownClass(cls):
        try:
            cls.lb.stop()
        finally:
            cls.lb.tmp.cleanup()

    # --- helpers for the tests -------------------------------------------------------

    def ask(self, raw, head_request=False):
        return self.lb.request(raw, head_request=head_request)

    def body_of(self, path, host="example.com", headers=(), method="GET"):
        r = self.ask(get_raw(path, host, headers, method))
        return r.body.decode("latin-1")

    def assertAlbHead(self, r, names):
        """The header names in order, and Server/Date as ALB writes them."""
        self.assertEqual([n for n, _ in r.headers], names, r)
        self.assertEqual(r.header("Server"), "awselb/2.0")
        self.assertRegex(r.header("Date"), DATE_RE)
        when = email.utils.parsedate_to_datetime(r.header("Date")).timestamp()
        self.assertLess(abs(when - time.time()), 5)
