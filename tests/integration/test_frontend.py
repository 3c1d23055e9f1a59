"""The HTTP/1.x front end: keep-alive, HTTP/1.0, pipelining, split and slow
writes, chunked request bodies, Expect: 100-continue, leading empty lines, HEAD.

(TCP_NODELAY is not observable from a client on loopback; not tested.)
"""
import time
import unittest

from lbcommon import (PAGE_301, PAGE_503, ClassLb, config, fixed, get_raw, log_for, read_log,
                      rules_file)

TARGET_GROUPS = """\
target_groups:
  - name: empty
    target_type: lambda
"""

RULES = rules_file(
    fixed(1, '[{path_pattern: {values: ["/a"]}}]', "alpha"),
    fixed(2, '[{path_pattern: {values: ["/b"]}}]', "bravo", status="202"),
    fixed(3, '[{path_pattern: {values: ["/n/*"]}}]', "n"),
    "  - priority: 4\n"
    "    conditions: [{path_pattern: {values: [\"/r\"]}}]\n"
    "    actions: [{type: redirect, redirect: {host: r.example.com, status_code: HTTP_301}}]\n",
    "  - priority: 5\n"
    "    conditions: [{path_pattern: {values: [\"/f\"]}}]\n"
    "    actions: [{type: forward, target_group: empty}]\n",
)


class FrontEndTest(ClassLb):
    CONFIG = config(target_groups=TARGET_GROUPS)
    RULES = {"a.yaml": RULES}

    def conn(self):
        c = self.lb.connect()
        self.addCleanup(c.close)
        return c

    # --- keep-alive ------------------------------------------------------------------

    def test_keep_alive_several_requests_one_connection(self):
        c = self.conn()
        for i in range(5):
            c.send(get_raw("/a", headers=[f"User-Agent: ka-{i}"]))
            r = c.read_response()
            self.assertEqual((r.status, r.body), (200, b"alpha"))
            self.assertEqual(r.header("Connection"), "keep-alive")
        c.send(get_raw("/b"))
        self.assertEqual(c.read_response().body, b"bravo")
        c.close()
        tids = {log_for(self.lb, f'"ka-{i}"')["conn_trace_id"] for i in range(5)}
        self.assertEqual(len(tids), 1)

    def test_connection_close_request(self):
        c = self.conn()
        c.send(get_raw("/a", headers=["Connection: close"]) + get_raw("/b"))
        r = c.read_response()
        self.assertEqual((r.status, r.body), (200, b"alpha"))
        self.assertEqual(r.header("Connection"), "close")
        # the pipelined request after "Connection: close" is never answered
        self.assertEqual(c.read_all(), b"")

    def test_http10_closes_by_default(self):
        c = self.conn()
        c.send(b"GET /a HTTP/1.0\r\nHost: x\r\n\r\n")
        r = c.read_response()
        self.assertEqual(r.status_line, "HTTP/1.1 200 OK")
        self.assertEqual(r.header("Connection"), "close")
        self.assertEqual(r.body, b"alpha")
        self.assertTrue(c.closed_by_peer())

    def test_http10_keep_alive_when_asked(self):
        c = self.conn()
        c.send(b"GET /a HTTP/1.0\r\nHost: x\r\nConnection: keep-alive\r\n\r\n")
        r = c.read_response()
        self.assertEqual(r.header("Connection"), "keep-alive")
        self.assertEqual(r.body, b"alpha")
        c.send(b"GET /b HTTP/1.0\r\nHost: x\r\n\r\n")
        r = c.read_response()
        self.assertEqual((r.status, r.body), (202, b"bravo"))
        self.assertEqual(r.header("Connection"), "close")
        self.assertTrue(c.closed_by_peer())

    def test_http10_without_host(self):
        r = self.ask(b"GET /a HTTP/1.0\r\n\r\n")
        self.assertEqual((r.status, r.body), (200, b"alpha"))

    # --- pipelining ------------------------------------------------------------------

    def test_pipelining_ten_mixed_requests_answered_in_order(self):
        reqs = [("GET", "/a"), ("GET", "/r"), ("GET", "/f"), ("GET", "/nothing"), ("HEAD", "/a"),
                ("GET", "/b"), ("POST", "/n/1"), ("GET", "/f"), ("DELETE", "/r"), ("GET", "/a")]
        raw = b"".join(get_raw(p, "pipe.example.com", method=m,
                               headers=[f"User-Agent: pipe-{i}"],
                               body=b"xyz" if m == "POST" else b"")
                       for i, (m, p) in enumerate(reqs))
        c = self.conn()
        c.send(raw)
        got = [c.read_response(head_request=(m == "HEAD")) for m, _ in reqs]
        self.assertEqual([r.status for r in got], [200, 301, 503, 404, 200, 202, 200, 503, 301, 200])
        self.assertEqual(got[0].body, b"alpha")
        self.assertEqual(got[1].body, PAGE_301)
        self.assertEqual(got[1].header("Location"), f"http://r.example.com:{self.lb.port}/r")
        self.assertEqual(got[2].body, PAGE_503)
        self.assertEqual(got[3].body, b"no rule matched")
        self.assertEqual((got[4].header("Content-Length"), got[4].body), ("5", b""))
        self.assertEqual(got[5].body, b"bravo")
        self.assertEqual(got[6].body, b"n")
        self.assertEqual(got[9].body, b"alpha")
        self.assertTrue(all(r.header("Connection") == "keep-alive" for r in got))
        self.assertEqual(c.buf, b"")  # nothing beyond the ten answers
        entries = [log_for(self.lb, f'"pipe-{i}"') for i in range(len(reqs))]
        self.assertEqual([e["elb_status_code"] for e in entries],
                         ["200", "301", "503", "404", "200", "202", "200", "503", "301", "200"])
        self.assertEqual(len({e["conn_trace_id"] for e in entries}), 1)
        times = [e["time"] for e in entries]
        self.assertEqual(times, sorted(times))

    def test_pipelining_more_than_the_input_watermark(self):
        # 100 POSTs of 4 KB: 400 KB in flight, more than lb reads ahead at once.
        body = b"z" * 4096
        raw = b"".join(get_raw("/a" if i % 2 else "/b", method="POST", body=body) for i in range(100))
        c = self.conn()
        c.sock.sendall(raw)
        for i in range(100):
            r = c.read_response()
            self.assertEqual(r.body, b"alpha" if i % 2 else b"bravo", i)
        c.send(get_raw("/a"))
        self.assertEqual(c.read_response().body, b"alpha")

    # --- split and slow writes -------------------------------------------------------

    def test_request_in_one_byte_writes(self):
        raw = get_raw("/n/split?q=1", headers=["User-Agent: one-byte", "X-Pad: " + "p" * 50])
        c = self.conn()
        for i in range(len(raw)):
            c.send(raw[i:i + 1])
            if i % 8 == 0:
                time.sleep(0.002)
        r = c.read_response()
        self.assertEqual((r.status, r.body), (200, b"n"))
        e = log_for(self.lb, '"one-byte"')
        self.assertEqual(e["received_bytes"], str(len(raw)))
        self.assertEqual(e["request"], f"GET http://example.com:{self.lb.port}/n/split?q=1 HTTP/1.1")

    def test_body_split_across_writes(self):
        c = self.conn()
        c.send(b"POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n01234")
        time.sleep(0.1)
        c.send(b"56789GET /b HTTP/1.1\r\nHo")
        time.sleep(0.1)
        c.send(b"st: x\r\n\r\n")
        self.assertEqual(c.read_response().body, b"alpha")
        self.assertEqual(c.read_response().body, b"bravo")

    def test_slow_client_within_idle_timeout(self):
        raw = get_raw("/a")
        c = self.conn()
        t0 = time.time()
        for i in range(0, len(raw), 6):
            c.send(raw[i:i + 6])
            time.sleep(0.15)
        r = c.read_response()
        self.assertGreater(time.time() - t0, 0.5)
        self.assertEqual((r.status, r.body), (200, b"alpha"))

    # --- chunked bodies --------------------------------------------------------------

    def test_chunked_body(self):
        raw = (b"POST /a HTTP/1.1\r\nHost: x\r\nUser-Agent: chunked-1\r\n"
               b"Transfer-Encoding: chunked\r\n\r\n"
               b"5\r\nhello\r\n1a;ext=1\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\n\r\n")
        c = self.conn()
        c.send(raw + get_raw("/b"))
        r = c.read_response()
        self.assertEqual((r.status, r.body), (200, b"alpha"))
        self.assertEqual(r.header("Connection"), "keep-alive")
        self.assertEqual(c.read_response().body, b"bravo")
        self.assertEqual(log_for(self.lb, '"chunked-1"')["received_bytes"], str(len(raw)))

    def test_chunked_body_with_trailer_in_pieces(self):
        parts = [b"POST /b HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n",
                 b"wi", b"ki\r\n", b"5\r\npedia\r\n", b"0\r\nX-Trailer: t\r\n", b"\r\n"]
        c = self.conn()
        for p in parts:
            c.send(p)
            time.sleep(0.05)
        self.assertEqual(c.read_response().body, b"bravo")
        c.send(get_raw("/a"))
        self.assertEqual(c.read_response().body, b"alpha")

    def test_chunked_bad_size_is_400(self):
        c = self.conn()
        c.send(b"POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n")
        r = c.read_response()
        self.assertEqual(r.status, 400)
        self.assertEqual(r.header("Connection"), "close")
        self.assertTrue(c.closed_by_peer())

    def test_chunk_data_not_ended_by_crlf_is_400(self):
        # Any two bytes after a chunk's data passed for its CRLF: "helloXX0" ended the
        # body, where a stricter front proxy reads other framing (RFC 9112 §7.1).
        c = self.conn()
        c.send(b"POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n"
               b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n")
        r = c.read_response()
        self.assertEqual((r.status, r.header("Connection")), (400, "close"))
        self.assertTrue(c.closed_by_peer())

    # --- Expect: 100-continue --------------------------------------------------------

    def test_expect_100_continue_before_the_body(self):
        c = self.conn()
        c.send(b"POST /a HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n")
        c.sock.settimeout(5)
        interim = b""
        while not interim.endswith(b"\r\n\r\n"):
            chunk = c.sock.recv(100)
            self.assertTrue(chunk, "closed before 100 Continue")
            interim += chunk
        self.assertEqual(interim, b"HTTP/1.1 100 Continue\r\n\r\n")
        c.send(b"hello")
        r = c.read_response()
        self.assertEqual((r.status, r.body), (200, b"alpha"))
        c.send(get_raw("/b"))
        self.assertEqual(c.read_response().body, b"bravo")

    def test_expect_100_continue_with_body_already_sent(self):
        c = self.conn()
        c.send(b"POST /b HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc")
        r1 = c.read_response()
        self.assertEqual(r1.status_line, "HTTP/1.1 100 Continue")
        self.assertEqual(r1.headers, [])
        r2 = c.read_response()
        self.assertEqual((r2.status, r2.body), (202, b"bravo"))

    def test_no_100_continue_for_http10(self):
        c = self.conn()
        c.send(b"POST /a HTTP/1.0\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nok")
        r = c.read_response()
        self.assertEqual((r.status, r.body), (200, b"alpha"))

    # --- leading empty lines, HEAD -----------------------------------------------------

    def test_leading_crlfs_are_ignored(self):
        c = self.conn()
        c.send(b"\r\n\r\n\n" + get_raw("/a") + b"\r\n" + get_raw("/b"))
        self.assertEqual(c.read_response().body, b"alpha")
        self.assertEqual(c.read_response().body, b"bravo")

    def test_head_default_rule(self):
        r = self.ask(get_raw("/missing", method="HEAD"), head_request=True)
        self.assertEqual(r.status, 404)
        self.assertEqual(r.header("Content-Length"), "15")
        self.assertEqual(r.body, b"")

    def test_head_then_close_sends_no_body(self):
        c = self.conn()
        c.send(get_raw("/f", method="HEAD", headers=["Connection: close"]))
        data = c.read_all()
        head, sep, rest = data.partition(b"\r\n\r\n")
        self.assertTrue(head.startswith(b"HTTP/1.1 503 Service Temporarily Unavailable\r\n"))
        self.assertIn(b"\r\nContent-Length: 162\r\n", head)
        self.assertEqual((sep, rest), (b"\r\n\r\n", b""))

    # --- volume --------------------------------------------------------------------------

    def test_many_connections_at_once(self):
        conns = [self.lb.connect() for _ in range(100)]
        try:
            for i, c in enumerate(conns):
                c.send(get_raw("/a" if i % 2 else "/b"))
            for i, c in enumerate(conns):
                self.assertEqual(c.read_response().body, b"alpha" if i % 2 else b"bravo")
        finally:
            for c in conns:
                c.close()

    def test_two_thousand_small_headers(self):
        r = self.ask(get_raw("/a", headers=[f"X-{i}: v" for i in range(2000)]))
        self.assertEqual((r.status, r.body), (200, b"alpha"))

    def test_large_chunked_body_to_a_fixed_response(self):
        chunk = b"c" * 65536
        body = b"".join(b"10000\r\n" + chunk + b"\r\n" for _ in range(32)) + b"0\r\n\r\n"
        c = self.conn()
        c.send(b"POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
        c.sock.sendall(body)
        self.assertEqual(c.read_response().body, b"alpha")
        c.send(get_raw("/b"))
        self.assertEqual(c.read_response().body, b"bravo")

    # --- methods and tunnels ------------------------------------------------------------

    def test_connect_is_answered_then_closed(self):
        # llhttp reads nothing after CONNECT (it expects a tunnel): lb must not
        # promise keep-alive and then fail the next request with a 400.
        c = self.conn()
        c.send(b"CONNECT a.example.com:443 HTTP/1.1\r\nHost: a.example.com:443\r\n\r\n" + get_raw("/a"))
        r = c.read_response()
        self.assertEqual((r.status, r.body), (404, b"no rule matched"))
        self.assertEqual(r.header("Connection"), "close")
        self.assertEqual(c.read_all(), b"")

    def test_upgrade_request_is_answered_then_closed(self):
        c = self.conn()
        c.send(get_raw("/a", headers=["Upgrade: websocket", "Connection: Upgrade"]) + get_raw("/b"))
        r = c.read_response()
        self.assertEqual((r.status, r.body), (200, b"alpha"))
        self.assertEqual(r.header("Connection"), "close")
        self.assertEqual(c.read_all(), b"")

    def test_webdav_method_known_to_the_parser(self):
        r = self.ask(get_raw("/a", method="PROPFIND"))
        self.assertEqual((r.status, r.body), (200, b"alpha"))

    # ALB accepts custom methods; llhttp 8.1 does not know them, so lb parses them
    # as GET (same framing) and keeps the original for routing and the log.
    def test_custom_method_is_routed(self):
        r = self.ask(get_raw("/a", method="FROB"))
        self.assertEqual((r.status, r.body), (200, b"alpha"))
        self.assertEqual(log_for(self.lb, '"FROB http://')["request"].split(" ")[0], "FROB")

    def test_custom_method_with_a_body(self):
        r = self.ask(b"FROBNICATE /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello")
        self.assertEqual((r.status, r.body), (200, b"alpha"))

    # --- connection end ----------------------------------------------------------------

    def test_client_closing_an_idle_keep_alive_connection_logs_nothing_more(self):
        c = self.lb.connect()
        for i in range(3):
            c.send(get_raw("/a", headers=[f"User-Agent: quiet-{i}"]))
            c.read_response()
        tid = log_for(self.lb, '"quiet-2"')["conn_trace_id"]
        c.close()
        time.sleep(0.3)
        same = [e for e in read_log(self.lb) if e["conn_trace_id"] == tid]
        self.assertEqual([e["elb_status_code"] for e in same], ["200", "200", "200"])


if __name__ == "__main__":
    unittest.main()
