"""ALB's request limits and the status codes it generates itself
(alb-listener-rules.md §4.1, §4.3, §4.4): 16 KB request line, 16 KB header,
64 KB of headers → 400; TRACE → 405; more than 30 X-Forwarded-For entries →
463; an unsupported Transfer-Encoding → 501; a malformed request → 400; the
idle timeout → close, or 408 when a request was partly received.

lb's boundaries: a line is at most 16384 bytes before its CRLF (request line
and each header line), and the header lines together, CRLFs included, at most
65536 bytes.
"""
import socket
import threading
import time
import unittest

from lbcommon import (PAGE_400, PAGE_405, PAGE_408, PAGE_463, PAGE_501, ClassLb, config,
                      fixed, get_raw, log_for, read_log, rules_file, wait_for)

RULES = rules_file(fixed(1, '[{path_pattern: {values: ["/*"]}}]', "ok"))
ERROR_HEAD = ["Server", "Date", "Content-Type", "Content-Length", "Connection"]


def request_line_of(length, method="GET"):
    """A request line of exactly length bytes (CRLF not counted)."""
    fixed_part = len(f"{method} / HTTP/1.1")
    return f"{method} /{'a' * (length - fixed_part)} HTTP/1.1".encode()


def header_line_of(length, name="X-Big"):
    return f"{name}: {'h' * (length - len(name) - 2)}".encode()


def headers_of(total, line=8000):
    """Header lines totalling exactly total bytes, CRLFs included."""
    out, left, i = [], total, 0
    while left:
        n = min(line, left)
        if left - n and left - n < 10:   # keep every line at least "X-Hnn: " long
            n -= 10
        name = f"X-H{i:03d}"
        out.append(f"{name}: {'v' * (n - len(name) - 4)}\r\n".encode())
        left -= n
        i += 1
    data = b"".join(out)
    assert len(data) == total
    return data


class LimitsTest(ClassLb):
    RULES = {"a.yaml": RULES}

    def conn(self):
        c = self.lb.connect()
        self.addCleanup(c.close)
        return c

    def assert_error(self, c, status_line, page, reason_ua=None):
        """One ALB error page, Connection: close, then the connection closes."""
        r = c.read_response()
        self.assertEqual(r.status_line, status_line)
        self.assertAlbHead(r, ERROR_HEAD)
        self.assertEqual(r.header("Content-Type"), "text/html")
        self.assertEqual(r.header("Content-Length"), str(len(page)))
        self.assertEqual(r.header("Connection"), "close")
        self.assertEqual(r.body, page)
        self.assertEqual(c.read_all(), b"")
        return r

    def ok(self, raw):
        c = self.conn()
        c.send(raw)
        r = c.read_response()
        self.assertEqual((r.status, r.body), (200, b"ok"), r)
        self.assertEqual(r.header("Connection"), "keep-alive")
        return r

    # --- request line ----------------------------------------------------------------

    def test_request_line_of_16384_bytes_is_served(self):
        self.ok(request_line_of(16384) + b"\r\nHost: x\r\n\r\n")

    def test_request_line_of_16385_bytes_is_400(self):
        c = self.conn()
        c.send(request_line_of(16385) + b"\r\nHost: x\r\n\r\n")
        self.assert_error(c, "HTTP/1.1 400 Bad Request", PAGE_400)

    def test_request_line_over_limit_is_answered_before_it_ends(self):
        c = self.conn()
        c.send(b"GET /" + b"a" * 17000)   # no CRLF yet: lb must not wait for one
        self.assert_error(c, "HTTP/1.1 400 Bad Request", PAGE_400)

    # --- one header ------------------------------------------------------------------

    def test_header_of_16384_bytes_is_served(self):
        self.ok(b"GET / HTTP/1.1\r\nHost: x\r\n" + header_line_of(16384) + b"\r\n\r\n")

    def test_header_of_16385_bytes_is_400(self):
        c = self.conn()
        c.send(b"GET / HTTP/1.1\r\nHost: x\r\n" + header_line_of(16385) + b"\r\nX-After: 1\r\n\r\n")
        self.assert_error(c, "HTTP/1.1 400 Bad Request", PAGE_400)

    def test_cookie_header_over_limit_is_400(self):
        c = self.conn()
        c.send(b"GET / HTTP/1.1\r\nHost: x\r\n" + header_line_of(20000, "Cookie") + b"\r\n\r\n")
        self.assert_error(c, "HTTP/1.1 400 Bad Request", PAGE_400)

    # --- all headers -----------------------------------------------------------------

    def test_headers_of_65536_bytes_are_served(self):
        self.ok(b"GET / HTTP/1.1\r\n" + headers_of(65536 - 9) + b"Host: x\r\n\r\n")

    def test_headers_of_65537_bytes_are_400(self):
        c = self.conn()
        c.send(b"GET / HTTP/1.1\r\n" + headers_of(65537 - 9) + b"Host: x\r\n\r\n")
        self.assert_error(c, "HTTP/1.1 400 Bad Request", PAGE_400)

    def test_headers_far_over_64k_are_400(self):
        c = self.conn()
        c.send(b"GET / HTTP/1.1\r\nHost: x\r\n" + headers_of(100000))
        self.assert_error(c, "HTTP/1.1 400 Bad Request", PAGE_400)

    def test_largest_head_with_all_limits_at_once_is_served(self):
        self.ok(request_line_of(16384) + b"\r\n" + headers_of(65536 - 9, line=16386)
                + b"Host: x\r\n\r\n")

    def test_over_limit_log_line(self):
        c = self.conn()
        raw = request_line_of(16385) + b"\r\nHost: x\r\nUser-Agent: big-line\r\n\r\n"
        c.send(raw)
        r = self.assert_error(c, "HTTP/1.1 400 Bad Request", PAGE_400)
        port = c.sock.getsockname()[1]
        e = wait_for(lambda: [x for x in read_log(self.lb)
                              if x["client_port"] == f"127.0.0.1:{port}"])[0]
        self.assertEqual(e["elb_status_code"], "400")
        self.assertEqual(e["request"], f"- http://127.0.0.1:{self.lb.port}- -")
        self.assertEqual(e["sent_bytes"], str(len(r.raw) + 4))
        self.assertEqual(e["matched_rule_priority"], "-")
        self.assertEqual(e["actions_executed"], "-")
        self.assertEqual(e["trace_id"], "-")

    # --- TRACE -----------------------------------------------------------------------

    def test_trace_is_405(self):
        c = self.conn()
        c.send(get_raw("/", method="TRACE", headers=["User-Agent: trace-1"]))
        r = c.read_response()
        self.assertEqual(r.status_line, "HTTP/1.1 405 Not Allowed")
        self.assertAlbHead(r, ERROR_HEAD)
        self.assertEqual(r.header("Content-Type"), "text/html")
        self.assertEqual(r.body, PAGE_405)
        self.assertEqual(r.header("Content-Length"), str(len(PAGE_405)))
        # ALB answers TRACE itself; the connection stays usable
        self.assertEqual(r.header("Connection"), "keep-alive")
        c.send(get_raw("/"))
        self.assertEqual(c.read_response().body, b"ok")
        e = log_for(self.lb, '"trace-1"')
        self.assertEqual(e["elb_status_code"], "405")
        self.assertEqual(e["request"], f"TRACE http://example.com:{self.lb.port}/ HTTP/1.1")
        self.assertEqual(e["actions_executed"], "-")

    # --- X-Forwarded-For -------------------------------------------------------------

    def xff(self, *counts, ua="xff"):
        headers = ["X-Forwarded-For: " + ", ".join(f"10.0.{j}.{i}" for i in range(n))
                   for j, n in enumerate(counts)]
        return self.lb.request(get_raw("/", headers=headers + [f"User-Agent: {ua}"]))

    def test_xff_30_entries_is_served(self):
        r = self.xff(30)
        self.assertEqual((r.status, r.body), (200, b"ok"))

    def test_xff_31_entries_is_463(self):
        r = self.xff(31, ua="xff-31")
        self.assertEqual(r.status_line, "HTTP/1.1 463 ")
        self.assertAlbHead(r, ERROR_HEAD)
        self.assertEqual(r.body, PAGE_463)
        e = log_for(self.lb, '"xff-31"')
        self.assertEqual(e["elb_status_code"], "463")
        self.assertEqual(e["matched_rule_priority"], "-")

    def test_xff_counted_across_two_headers(self):
        self.assertEqual(self.xff(15, 15).status, 200)
        self.assertEqual(self.xff(15, 16).status, 463)
        self.assertEqual(self.xff(1, 30).status, 463)

    # --- Transfer-Encoding -----------------------------------------------------------

    def test_unsupported_transfer_encoding_is_501(self):
        c = self.conn()
        c.send(b"POST / HTTP/1.1\r\nHost: x\r\nUser-Agent: te-gzip\r\n"
               b"Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n")
        self.assert_error(c, "HTTP/1.1 501 Not Implemented", PAGE_501)
        e = wait_for(lambda: [x for x in read_log(self.lb) if x["elb_status_code"] == "501"])[0]
        self.assertEqual(e["request"], f"POST http://x:{self.lb.port}/ HTTP/1.1")

    def test_identity_transfer_encoding_is_accepted(self):
        self.ok(b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: identity, chunked\r\n\r\n"
                b"2\r\nhi\r\n0\r\n\r\n")

    # --- malformed -------------------------------------------------------------------

    def test_malformed_request_line_is_400(self):
        c = self.conn()
        c.send(b"GARBAGE\r\n\r\n")
        r = self.assert_error(c, "HTTP/1.1 400 Bad Request", PAGE_400)
        port = c.sock.getsockname()[1]
        e = wait_for(lambda: [x for x in read_log(self.lb)
                              if x["client_port"] == f"127.0.0.1:{port}"])[0]
        self.assertEqual(e["request"], f"- http://127.0.0.1:{self.lb.port}- -")
        self.assertEqual(e["elb_status_code"], "400")
        self.assertEqual(e["target_status_code"], "-")
        self.assertEqual(e["received_bytes"], "11")
        self.assertEqual(e["sent_bytes"], str(len(r.raw) + 4))
        self.assertEqual(e["user_agent"], "-")
        self.assertEqual(e["trace_id"], "-")
        self.assertEqual(e["matched_rule_priority"], "-")
        self.assertEqual((e["request_processing_time"], e["target_processing_time"],
                          e["response_processing_time"]), ("-1", "-1", "-1"))

    def test_malformed_header_line_is_400_and_logs_the_host(self):
        c = self.conn()
        c.send(b"GET /x HTTP/1.1\r\nHost: h.example.com\r\nNo colon here\r\n\r\n")
        self.assert_error(c, "HTTP/1.1 400 Bad Request", PAGE_400)

    def test_bad_version_is_400(self):
        c = self.conn()
        c.send(b"GET / HTTP/9.9\r\nHost: x\r\n\r\n")
        self.assert_error(c, "HTTP/1.1 400 Bad Request", PAGE_400)

    def test_client_half_closing_mid_body_gets_400(self):
        # ALB: 400 when the client closes before sending the full body (§4.4)
        c = self.conn()
        c.send(b"POST / HTTP/1.1\r\nHost: x\r\nUser-Agent: half-body\r\nContent-Length: 10\r\n\r\n123")
        time.sleep(0.1)
        c.sock.shutdown(socket.SHUT_WR)
        self.assert_error(c, "HTTP/1.1 400 Bad Request", PAGE_400)
        e = log_for(self.lb, '"half-body"')
        self.assertEqual(e["elb_status_code"], "400")
        self.assertEqual(e["request"], f"POST http://x:{self.lb.port}/ HTTP/1.1")

    def test_client_closing_mid_body_is_logged_as_400(self):
        c = self.lb.connect()
        c.send(b"POST / HTTP/1.1\r\nHost: x\r\nUser-Agent: gone-body\r\nContent-Length: 10\r\n\r\n123")
        time.sleep(0.1)
        c.close()
        e = log_for(self.lb, '"gone-body"')
        self.assertEqual(e["elb_status_code"], "400")
        self.assertEqual(e["received_bytes"], str(len(b"POST / HTTP/1.1\r\nHost: x\r\nUser-Agent: "
                                                       b"gone-body\r\nContent-Length: 10\r\n\r\n123")))

    def test_error_after_good_requests_on_the_same_connection(self):
        c = self.conn()
        c.send(get_raw("/") + get_raw("/") + b"BAD\x01LINE\r\n\r\n" + get_raw("/"))
        self.assertEqual(c.read_response().body, b"ok")
        self.assertEqual(c.read_response().body, b"ok")
        self.assert_error(c, "HTTP/1.1 400 Bad Request", PAGE_400)


class IdleTimeoutTest(ClassLb):
    CONFIG = config(attributes={"idle_timeout.timeout_seconds": 1})
    RULES = {"a.yaml": RULES}

    def test_idle_new_connection_is_closed_without_bytes(self):
        c = self.lb.connect()
        t0 = time.time()
        self.assertEqual(c.read_all(), b"")
        self.assertGreater(time.time() - t0, 0.8)
        self.assertLess(time.time() - t0, 4)
        c.close()

    def test_idle_keep_alive_connection_is_closed_without_bytes(self):
        c = self.lb.connect()
        c.send(get_raw("/"))
        self.assertEqual(c.read_response().body, b"ok")
        t0 = time.time()
        self.assertEqual(c.read_all(), b"")
        self.assertGreater(time.time() - t0, 0.8)
        c.close()

    def test_partial_request_gets_408_then_close(self):
        c = self.lb.connect()
        c.send(b"GET /partial HTTP/1.1\r\nHost: x\r\n")
        t0 = time.time()
        r = c.read_response()
        self.assertGreater(time.time() - t0, 0.8)
        self.assertEqual(r.status_line, "HTTP/1.1 408 Request Time-out")
        self.assertEqual(r.header("Connection"), "close")
        self.assertEqual(r.header("Content-Type"), "text/html")
        self.assertEqual(r.body, PAGE_408)
        self.assertEqual(c.read_all(), b"")
        port = c.sock.getsockname()[1]
        c.close()
        e = wait_for(lambda: [x for x in read_log(self.lb)
                              if x["client_port"] == f"127.0.0.1:{port}"])[0]
        self.assertEqual(e["elb_status_code"], "408")
        self.assertEqual(e["sent_bytes"], str(len(r.raw) + 4))

    def test_partial_body_gets_408(self):
        c = self.lb.connect()
        c.send(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n12345")
        r = c.read_response()
        self.assertEqual(r.status, 408)
        self.assertEqual(r.body, PAGE_408)
        self.assertEqual(c.read_all(), b"")
        c.close()

    def test_trickling_client_is_not_timed_out(self):
        # the idle timeout is about silence, not about the request's duration
        raw = get_raw("/")
        c = self.lb.connect()
        t0 = time.time()
        for i in range(0, len(raw), 4):
            c.send(raw[i:i + 4])
            time.sleep(0.35)
        r = c.read_response()
        self.assertGreater(time.time() - t0, 2)
        self.assertEqual((r.status, r.body), (200, b"ok"))
        c.close()


class PipelineFloodTest(ClassLb):
    """A client that pipelines requests and never reads its answers: lb answers until
    the answers waiting for it pass 256 KB, then reads nothing more from it until they
    drain; nothing is lost once the client reads."""
    RULES = {"a.yaml": rules_file(fixed(1, '[{path_pattern: {values: ["/*"]}}]', "b" * 1000))}

    def test_answers_not_read_stop_the_pipeline_until_they_drain(self):
        n = 40000   # 46 MB of answers: far more than any kernel's socket buffers hold
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.connect(("127.0.0.1", self.lb.port))
        self.addCleanup(s.close)
        sender = threading.Thread(target=s.sendall, args=(b"GET /x HTTP/1.1\r\nHost: a\r\n\r\n" * n,),
                                  daemon=True)
        sender.start()
        # lb stops once the kernel's buffers and its own 256 KB are full (about 4 MB
        # of 1 KB answers on loopback); before, it answered all of them into memory
        before, now = -1, len(read_log(self.lb))
        while now != before:
            time.sleep(1.5)
            before, now = now, len(read_log(self.lb))
        self.assertLess(now, n // 2)
        s.settimeout(30)
        mark, seen, tail = b"HTTP/1.1 200 OK", 0, b""
        while seen < n:
            chunk = s.recv(1 << 20)
            self.assertTrue(chunk, f"closed after {seen} answers")
            seen += (tail + chunk).count(mark)   # a mark cut by the recv is counted once
            tail = (tail + chunk)[-(len(mark) - 1):]
        sender.join(10)
        self.assertTrue(wait_for(lambda: len(read_log(self.lb)) == n, 10))


if __name__ == "__main__":
    unittest.main()
