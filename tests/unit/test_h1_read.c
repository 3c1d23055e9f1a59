/*
 * h1_read: the socket-free HTTP/1 reader. Every message is read whole, then
 * again split in two at every offset and byte by byte: the transcript of
 * events (heads, bodies, ends, failures) must not depend on how the bytes
 * arrived.
 */
#include "h1_transcript.h"
#include "test.h"

/*
 * Reads in whole and checks the transcript against expected, then checks
 * that every split in two (and one byte at a time) gives the same.
 */
static void check_every_split(enum kind kind, const struct h1_limits *lim, bool skip, const char *in,
			      size_t n, bool eof, const char *expected)
{
	char *whole = transcript(kind, lim, skip, in, n, NULL, 0, eof), *other;

	CHECK_STR(whole, expected);
	for (size_t k = 1; k < n; k++) {
		other = transcript(kind, lim, skip, in, n, &k, 1, eof);
		if (strcmp(other, whole) != 0) {
			FAIL_AT("split at %zu of %zu: got\n%s\nexpected\n%s", k, n, other, whole);
			free(other);
			break;
		}
		free(other);
	}
	other = transcript_bytes(kind, lim, skip, in, n, eof);
	if (strcmp(other, whole) != 0)
		FAIL_AT("byte by byte: got\n%s\nexpected\n%s", other, whole);
	free(other);
	free(whole);
}

#define REQ(in, expected) check_every_split(REQUEST, &h1_limits_alb_request, false, in, sizeof(in) - 1, false, expected)
#define REP(in, expected) check_every_split(REPLY, &h1_limits_alb_response, false, in, sizeof(in) - 1, true, expected)
#define REP_HEAD(in, expected) check_every_split(REPLY, &h1_limits_alb_response, true, in, sizeof(in) - 1, true, expected)

TEST(request_without_body)
{
	REQ("GET /a?x=1 HTTP/1.1\r\nHost: example.com\r\nX-A:  b\r\n\r\n",
	    "REQ GET /a?x=1 v11 ka1 ec0 [Host=example.com] [X-A=b]\n"
	    "BODY 0 '' END\n");
}

TEST(header_values_lose_trailing_whitespace)
{
	/* RFC 9112 §5: the value excludes whitespace at either end */
	REQ("GET / HTTP/1.1\r\nHost: a.com \t\r\nX-A: b c  \r\nX-E: \t \r\n\r\n",
	    "REQ GET / v11 ka1 ec0 [Host=a.com] [X-A=b c] [X-E=]\n"
	    "BODY 0 '' END\n");
	REP_HEAD("HTTP/1.1 200 OK\r\nContent-Length: 0\r\nX-R: v \r\n\r\n",
		 "REP 200 'OK' v11 framing1 cl0 nb1 ka1 up0 [Content-Length=0] [X-R=v]\n"
		 "BODY 0 '' END\n");
}

TEST(request_with_length_body)
{
	REQ("POST /f HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello",
	    "REQ POST /f v11 ka1 ec0 [Host=h] [Content-Length=5]\n"
	    "BODY 5 'hello' END\n");
}

TEST(request_with_chunked_body_is_dechunked)
{
	REQ("POST /f HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nTrailer: x\r\n\r\n",
	    "REQ POST /f v11 ka1 ec0 [Host=h] [Transfer-Encoding=chunked]\n"
	    "BODY 11 'hello world' END\n");
}

TEST(trailers_are_dropped)
{
	REQ("POST /t HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n0\r\nX-Trailer: t\r\n\r\n"
	    "GET /next HTTP/1.1\r\nHost: h\r\n\r\n",
	    "REQ POST /t v11 ka1 ec0 [Host=h] [Transfer-Encoding=chunked]\nBODY 2 'ab' END\n"
	    "REQ GET /next v11 ka1 ec0 [Host=h]\nBODY 0 '' END\n");
	REP("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nz\r\n0\r\nX-T: 1\r\n\r\n",
	    "REP 200 'OK' v11 framing2 cl0 nb0 ka1 up0 [Transfer-Encoding=chunked]\nBODY 1 'z' END\n");
}

TEST(pipelined_requests_are_read_one_at_a_time)
{
	REQ("GET /1 HTTP/1.1\r\nHost: h\r\n\r\nPOST /2 HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nok"
	    "GET /3 HTTP/1.0\r\n\r\n",
	    "REQ GET /1 v11 ka1 ec0 [Host=h]\nBODY 0 '' END\n"
	    "REQ POST /2 v11 ka1 ec0 [Host=h] [Content-Length=2]\nBODY 2 'ok' END\n"
	    "REQ GET /3 v10 ka0 ec0\nBODY 0 '' END\n");
}

TEST(empty_lines_before_a_request_are_skipped)
{
	REQ("\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n", "REQ GET / v11 ka1 ec0 [Host=h]\nBODY 0 '' END\n");
}

TEST(expect_continue_is_noted)
{
	REQ("PUT /u HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\nx",
	    "REQ PUT /u v11 ka1 ec1 [Host=h] [Expect=100-continue] [Content-Length=1]\nBODY 1 'x' END\n");
}

TEST(custom_method_is_kept)
{
	REQ("BREW /pot HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\ntea",
	    "REQ BREW /pot v11 ka1 ec0 [Host=h] [Content-Length=3]\nBODY 3 'tea' END\n");
}

TEST(unsupported_transfer_encoding_is_501)
{
	REQ("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", "FAIL 501\n");
}

TEST(chunked_followed_by_a_tab_is_chunked)
{
	/* RFC 9110 §5.5: the tab is whitespace around the value; llhttp 8.1 took
	 * "chunked\t" for another coding, framed no body, and read the chunked
	 * body as the next request. */
	REQ("POST /t HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\t\r\n\r\n2\r\nab\r\n0\r\n\r\n"
	    "GET /next HTTP/1.1\r\nHost: h\r\n\r\n",
	    "REQ POST /t v11 ka1 ec0 [Host=h] [Transfer-Encoding=chunked]\nBODY 2 'ab' END\n"
	    "REQ GET /next v11 ka1 ec0 [Host=h]\nBODY 0 '' END\n");
	REQ("POST /t HTTP/1.1\r\nHost: h\r\nTransfer-Encoding:\tidentity\t,\tchunked\t\r\n\r\n1\r\nz\r\n0\r\n\r\n",
	    "REQ POST /t v11 ka1 ec0 [Host=h] [Transfer-Encoding=identity\t,\tchunked]\nBODY 1 'z' END\n");
	/* An answer too: read to the close, its chunks would reach the client as body. */
	REP("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\t\r\n\r\n1\r\nz\r\n0\r\n\r\n",
	    "REP 200 'OK' v11 framing2 cl0 nb0 ka1 up0 [Transfer-Encoding=chunked]\nBODY 1 'z' END\n");
}

TEST(request_header_names_lose_whitespace_before_the_colon)
{
	/* Framed by llhttp (lenient) as Content-Length; kept as "Content-Length ",
	 * the header escaped the proxy's framing and hop-by-hop filters. */
	REQ("POST / HTTP/1.1\r\nHost : h\r\nContent-Length : 2\r\n\r\nok",
	    "REQ POST / v11 ka1 ec0 [Host=h] [Content-Length=2]\nBODY 2 'ok' END close\n");
}

TEST(folded_request_header_is_unfolded)
{
	/* RFC 9112 §5.2: each CR and LF of an obs-fold becomes a space. */
	REQ("GET / HTTP/1.1\r\nHost: h\r\nX-A: a\r\n Content-Length: 5\r\nX-B: b\r\n\tc\r\n\r\n",
	    "REQ GET / v11 ka1 ec0 [Host=h] [X-A=a   Content-Length: 5] [X-B=b  \tc]\nBODY 0 '' END close\n");
}

TEST(malformed_request_line_is_400)
{
	REQ("GET / HTTP/1.1 extra\r\nHost: h\r\n\r\n", "FAIL 400\n");
}

TEST(bad_chunk_is_400_after_the_head)
{
	REQ("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
	    "REQ POST / v11 ka1 ec0 [Host=h] [Transfer-Encoding=chunked]\nFAIL 400\n");
}

TEST(chunk_data_must_end_with_crlf)
{
	/* llhttp 8.1 (loose) skipped any two bytes after a chunk's data. */
	REQ("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n",
	    "REQ POST / v11 ka1 ec0 [Host=h] [Transfer-Encoding=chunked]\nFAIL 400\n");
	REQ("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\rX0\r\n\r\n",
	    "REQ POST / v11 ka1 ec0 [Host=h] [Transfer-Encoding=chunked]\nFAIL 400\n");
	REP("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\n\n0\r\n\r\n",
	    "REP 200 'OK' v11 framing2 cl0 nb0 ka1 up0 [Transfer-Encoding=chunked]\nFAIL 502\n");
	REQ("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n2\r\nbc\r\n0\r\n\r\n",
	    "REQ POST / v11 ka1 ec0 [Host=h] [Transfer-Encoding=chunked]\nBODY 3 'abc' END\n");
}

TEST(ambiguous_request_is_served_then_closed)
{
	/* ALB (defensive): Content-Length with chunked is Ambiguous: served, then closed. */
	REQ("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
	    "REQ POST / v11 ka1 ec0 [Host=h] [Content-Length=3] [Transfer-Encoding=chunked]\nBODY 0 '' END close\n");
}

TEST(upgrade_request_stops_the_reader)
{
	REQ("GET /ws HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n\x81\x05hello",
	    "REQ GET /ws v11 ka1 ec0 [Host=h] [Connection=Upgrade] [Upgrade=websocket]\nBODY 0 '' END\n"
	    "UPGRADE\n");
}

/* A head of exactly `line` bytes of request line and `hdr` bytes in one header value. */
static char *make_head(size_t line, size_t hdr_value)
{
	struct buf b = BUF_INIT;
	size_t path = line - strlen("GET / HTTP/1.1");

	buf_puts(&b, "GET /");
	for (size_t i = 0; i < path; i++)
		buf_putc(&b, 'a');
	buf_puts(&b, " HTTP/1.1\r\nHost: h\r\n");
	if (hdr_value) {
		buf_puts(&b, "X: ");
		for (size_t i = 0; i < hdr_value; i++)
			buf_putc(&b, 'v');
		buf_puts(&b, "\r\n");
	}
	buf_puts(&b, "\r\n");
	return buf_detach(&b, NULL);
}

static const char *first_event(const char *in)
{
	static char out[64];
	char *t = transcript(REQUEST, &h1_limits_alb_request, false, in, strlen(in), NULL, 0, false);

	snprintf(out, sizeof(out), "%.4s", t);
	free(t);
	return out;
}

TEST(request_line_limit_is_16k)
{
	/* ALB: a request line over 16 KB → 400 (alb-listener-rules.md §4.3). */
	char *ok = make_head(16 * 1024, 0), *over = make_head(16 * 1024 + 1, 0);

	CHECK_STR(first_event(ok), "REQ ");
	CHECK_STR(first_event(over), "FAIL");
	free(ok);
	free(over);
}

TEST(single_header_limit_is_16k)
{
	/* "X: " plus the value is the line. */
	char *ok = make_head(20, 16 * 1024 - 3), *over = make_head(20, 16 * 1024 - 2);

	CHECK_STR(first_event(ok), "REQ ");
	CHECK_STR(first_event(over), "FAIL");
	free(ok);
	free(over);
}

TEST(all_headers_limit_is_64k)
{
	struct buf b = BUF_INIT;
	char *t;

	buf_puts(&b, "GET / HTTP/1.1\r\n");
	for (int i = 0; i < 5; i++) {
		buf_printf(&b, "X-%d: ", i);
		for (int k = 0; k < 14000; k++)
			buf_putc(&b, 'v');
		buf_puts(&b, "\r\n");
	}
	buf_puts(&b, "\r\n");
	t = transcript(REQUEST, &h1_limits_alb_request, false, b.p, b.len, NULL, 0, false);
	CHECK(strncmp(t, "FAIL 400", 8) == 0);
	free(t);
	buf_release(&b);
}

TEST(reply_with_length)
{
	REP("HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Length: 5\r\n\r\nhello",
	    "REP 200 'OK' v11 framing1 cl5 nb0 ka1 up0 [Server=nginx] [Content-Length=5]\n"
	    "BODY 5 'hello' END\n");
}

TEST(reply_chunked_is_dechunked)
{
	REP("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
	    "REP 200 'OK' v11 framing2 cl0 nb0 ka1 up0 [Transfer-Encoding=chunked]\nBODY 5 'abcde' END\n");
}

TEST(reply_ended_by_close)
{
	REP("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil close",
	    "REP 200 'OK' v11 framing3 cl0 nb0 ka0 up0 [Content-Type=text/plain]\n"
	    "BODY 11 'until close' END at eof\n");
}

TEST(reply_ended_by_close_with_no_body)
{
	REP("HTTP/1.0 200 OK\r\n\r\n", "REP 200 'OK' v10 framing3 cl0 nb0 ka0 up0\nBODY 0 '' END at eof\n");
}

TEST(reply_cut_short_fails)
{
	REP("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhalf",
	    "REP 200 'OK' v11 framing1 cl10 nb0 ka1 up0 [Content-Length=10]\nFAIL 502 at eof\n");
}

TEST(reply_to_head_has_no_body)
{
	REP_HEAD("HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n",
		 "REP 200 'OK' v11 framing1 cl1234 nb1 ka1 up0 [Content-Length=1234]\nBODY 0 '' END\n");
}

TEST(reply_204_and_304_have_no_body)
{
	REP("HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n",
	    "REP 204 'No Content' v11 framing0 cl0 nb1 ka1 up0\nBODY 0 '' END\n"
	    "REP 304 'Not Modified' v11 framing1 cl9 nb1 ka1 up0 [Content-Length=9]\nBODY 0 '' END\n");
}

TEST(interim_reply_then_final)
{
	REP("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok",
	    "REP 100 'Continue' v11 framing0 cl0 nb1 ka1 up0\nBODY 0 '' END\n"
	    "REP 201 'Created' v11 framing1 cl2 nb0 ka1 up0 [Content-Length=2]\nBODY 2 'ok' END\n");
}

TEST(reply_keep_alive_follows_connection_header)
{
	REP("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
	    "REP 200 'OK' v11 framing1 cl0 nb0 ka0 up0 [Connection=close] [Content-Length=0]\nBODY 0 '' END\n");
}

TEST(malformed_reply_is_502)
{
	REP("HTTP/1.1 abc OK\r\n\r\n", "FAIL 502\n");
	REP("garbage\r\n\r\n", "FAIL 502\n");
}

TEST(reply_head_over_32k_is_502)
{
	/* ALB: a target's response header over 32 KB → 502 (alb-http-targets-and-tls.md §1.13). */
	struct buf b = BUF_INIT;
	char *t;

	buf_puts(&b, "HTTP/1.1 200 OK\r\n");
	for (int i = 0; i < 3; i++) {
		buf_printf(&b, "X-%d: ", i);
		for (int k = 0; k < 11000; k++)
			buf_putc(&b, 'v');
		buf_puts(&b, "\r\n");
	}
	buf_puts(&b, "\r\n");
	t = transcript(REPLY, &h1_limits_alb_response, false, b.p, b.len, NULL, 0, false);
	CHECK_STR(t, "FAIL 502\n");
	free(t);
	buf_release(&b);
}

TEST(status_outside_100_to_599_is_502)
{
	/* RFC 9110 §15; llhttp takes any three digits. Read as a final answer,
	 * 099's Content-Length would be passed on without its body. */
	REP("HTTP/1.1 099 Low\r\nContent-Length: 2\r\n\r\nok", "FAIL 502\n");
	REP("HTTP/1.1 000 Zero\r\n\r\n", "FAIL 502\n");
	REP("HTTP/1.1 600 High\r\nContent-Length: 2\r\n\r\nok", "FAIL 502\n");
	REP("HTTP/1.1 999 Weird\r\nContent-Length: 2\r\n\r\nok", "FAIL 502\n");
	REP("HTTP/1.1 599 Edge\r\nContent-Length: 2\r\n\r\nok",
	    "REP 599 'Edge' v11 framing1 cl2 nb0 ka1 up0 [Content-Length=2]\nBODY 2 'ok' END\n");
}

TEST(answer_lb_may_not_pass_on_is_502)
{
	/* RFC 9112 §5.1, §5.2: a proxy must not forward these as they came. */
	REP("HTTP/1.1 200 OK\r\nX-A : a\r\nContent-Length: 2\r\n\r\nok", "FAIL 502\n");
	REP("HTTP/1.1 200 OK\r\n: x\r\nContent-Length: 2\r\n\r\nok", "FAIL 502\n");
	REP("HTTP/1.1 200 OK\r\nX A: 1\r\nContent-Length: 2\r\n\r\nok", "FAIL 502\n");
	REP("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n:status: 500\r\n\r\nok", "FAIL 502\n");
	REP("HTTP/1.1 200 OK\r\nX-A: a\r\n Content-Length: 9\r\nContent-Length: 2\r\n\r\nok", "FAIL 502\n");
	/* lb drops Transfer-Encoding and frames the body itself: the coding would be lost. */
	REP("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n", "FAIL 502\n");
	REP("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nok", "FAIL 502\n");
	/* The reason is copied into the client's status line. */
	REP("HTTP/1.1 200 O\x01K\r\nContent-Length: 2\r\n\r\nok", "FAIL 502\n");
	REP("HTTP/1.1 200 O\0K\r\nContent-Length: 2\r\n\r\nok", "FAIL 502\n");
	REP("HTTP/1.1 200 O\x7fK\r\nContent-Length: 2\r\n\r\nok", "FAIL 502\n");
	REP("HTTP/1.1 200 O\tK \xe9\r\nTransfer-Encoding: identity\r\n\r\nok",
	    "REP 200 'O\tK \xe9' v11 framing3 cl0 nb0 ka0 up0 [Transfer-Encoding=identity]\nBODY 2 'ok' END at eof\n");
}

TEST(switching_protocols_not_asked_for_is_502)
{
	/* Taken, the bytes after it (and the client's next requests) would be a tunnel. */
	REP("HTTP/1.1 101 Switching Protocols\r\n\r\nGARBAGE", "FAIL 502\n");
	REP("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n",
	    "REP 100 'Continue' v11 framing0 cl0 nb1 ka1 up0\nBODY 0 '' END\nFAIL 502\n");
}

TEST(switching_protocols_stops_at_the_head)
{
	struct subject s;
	static const char in[] = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x02hi";
	size_t used, n = sizeof(in) - 1;

	subject_init(&s, REPLY, &h1_limits_alb_response, T_UPGRADE_ASKED);   /* a WebSocket upgrade */
	CHECK_INT(h1_read(&s.r, in, n, &used), H1_HEAD);
	CHECK(s.reply.upgrade);
	CHECK_INT(n - used, 4);   /* the tunnel's bytes are left to the caller */
	subject_release(&s);
}

TEST(received_bytes_count_the_wire)
{
	struct subject s;
	static const char in[] = "\r\nPOST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\n\r\n";
	size_t used, off = 0, n = sizeof(in) - 1;

	subject_init(&s, REQUEST, &h1_limits_alb_request, false);
	CHECK_INT(h1_read(&s.r, in, n, &used), H1_HEAD);
	off += used;
	CHECK_INT(h1_read(&s.r, in + off, n - off, &used), H1_END);
	off += used;
	CHECK_INT(off, n);
	CHECK_INT(s.req.received_bytes, n);
	CHECK_INT(s.req.body_bytes, 1);
	subject_release(&s);
}

int main(void)
{
	RUN(request_without_body);
	RUN(request_with_length_body);
	RUN(header_values_lose_trailing_whitespace);
	RUN(request_with_chunked_body_is_dechunked);
	RUN(trailers_are_dropped);
	RUN(pipelined_requests_are_read_one_at_a_time);
	RUN(empty_lines_before_a_request_are_skipped);
	RUN(expect_continue_is_noted);
	RUN(custom_method_is_kept);
	RUN(unsupported_transfer_encoding_is_501);
	RUN(chunked_followed_by_a_tab_is_chunked);
	RUN(request_header_names_lose_whitespace_before_the_colon);
	RUN(folded_request_header_is_unfolded);
	RUN(malformed_request_line_is_400);
	RUN(bad_chunk_is_400_after_the_head);
	RUN(chunk_data_must_end_with_crlf);
	RUN(ambiguous_request_is_served_then_closed);
	RUN(upgrade_request_stops_the_reader);
	RUN(request_line_limit_is_16k);
	RUN(single_header_limit_is_16k);
	RUN(all_headers_limit_is_64k);
	RUN(reply_with_length);
	RUN(reply_chunked_is_dechunked);
	RUN(reply_ended_by_close);
	RUN(reply_ended_by_close_with_no_body);
	RUN(reply_cut_short_fails);
	RUN(reply_to_head_has_no_body);
	RUN(reply_204_and_304_have_no_body);
	RUN(interim_reply_then_final);
	RUN(reply_keep_alive_follows_connection_header);
	RUN(malformed_reply_is_502);
	RUN(reply_head_over_32k_is_502);
	RUN(status_outside_100_to_599_is_502);
	RUN(answer_lb_may_not_pass_on_is_502);
	RUN(switching_protocols_not_asked_for_is_502);
	RUN(switching_protocols_stops_at_the_head);
	RUN(received_bytes_count_the_wire);
	return test_done();
}
