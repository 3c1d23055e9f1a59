/*
 * proxy_head: the request head toward an HTTP target and the answer's
 * headers toward the client. Requests are read by the real reader (h1_read)
 * from raw bytes; the heads are compared byte for byte.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "alb/proxy_head.h"
#include "net/h1_read.h"
#include "test.h"

static const struct lb_attributes attrs = { .idle_timeout = 60, .xff_mode = XFF_APPEND };

/* The head toward the target for raw request bytes on listener port 8080. */
static char *head_for(const char *raw, const struct lb_attributes *a)
{
	struct http_request req;
	struct h1_reader r;
	struct header_list fwd;
	struct buf out = BUF_INIT;
	size_t used;
	char *s;

	http_request_init(&req);
	h1_reader_init_request(&r, &req, &h1_limits_alb_request);
	req.local_port = 8080;
	snprintf(req.peer_ip, sizeof(req.peer_ip), "203.0.113.7");
	req.peer_family = AF_INET;
	if (h1_read(&r, raw, strlen(raw), &used) != H1_HEAD) {
		h1_reader_release(&r);
		http_request_release(&req);
		return xstrdup("(not a head)");
	}
	header_list_init(&fwd);
	fwd_headers_build(&req, a, SV("Root=1-00000000-000000000000000000000000"), &fwd);
	proxy_request_head(&out, &req, &fwd, "127.0.0.1", a->preserve_host);
	s = xstrdup(buf_cstr(&out));
	buf_release(&out);
	header_list_release(&fwd);
	h1_reader_release(&r);
	http_request_release(&req);
	return s;
}

#define CHECK_HEAD(raw, a, expected)                  \
	do {                                          \
		char *got_ = head_for(raw, a);        \
		CHECK_STR(got_, expected);            \
		free(got_);                           \
	} while (0)

TEST(request_head_drops_hop_by_hop_and_adds_alb_headers)
{
	/* ALB's worked example (alb-http-targets-and-tls.md §1.4) plus hop-by-hop headers. */
	CHECK_HEAD("GET /a?x=1 HTTP/1.1\r\nHost: Example.com\r\nConnection: keep-alive, X-Secret\r\n"
		   "Keep-Alive: timeout=5\r\nX-Secret: 1\r\nTE: trailers\r\nX-Forwarded-For: 198.51.100.1\r\n"
		   "Accept: */*\r\n\r\n",
		   &attrs,
		   "GET /a?x=1 HTTP/1.1\r\n"
		   "Host: example.com:8080\r\n"
		   "X-Forwarded-For: 198.51.100.1, 203.0.113.7\r\n"
		   "Accept: */*\r\n"
		   "X-Forwarded-Proto: http\r\n"
		   "X-Forwarded-Port: 8080\r\n"
		   "X-Amzn-Trace-Id: Root=1-00000000-000000000000000000000000\r\n\r\n");
}

TEST(request_head_keeps_albs_own_headers_whatever_connection_lists)
{
	/* A client naming them in Connection once stripped X-Forwarded-* and the
	 * trace id, and replaced its Host with lb's address. */
	CHECK_HEAD("GET /c HTTP/1.1\r\nHost: a.b\r\nX-Forwarded-For: 198.51.100.1\r\nX-Hop: 1\r\n"
		   "Connection: X-Forwarded-For, X-Forwarded-Proto, x-forwarded-port, X-Amzn-Trace-Id, host, X-Hop\r\n\r\n",
		   &attrs,
		   "GET /c HTTP/1.1\r\n"
		   "Host: a.b:8080\r\n"
		   "X-Forwarded-For: 198.51.100.1, 203.0.113.7\r\n"
		   "X-Forwarded-Proto: http\r\n"
		   "X-Forwarded-Port: 8080\r\n"
		   "X-Amzn-Trace-Id: Root=1-00000000-000000000000000000000000\r\n\r\n");
}

TEST(request_head_keeps_body_framing)
{
	CHECK_HEAD("POST /u HTTP/1.1\r\nHost: h\r\nContent-Length: 12\r\n\r\n", &attrs,
		   "POST /u HTTP/1.1\r\nHost: h:8080\r\nX-Forwarded-For: 203.0.113.7\r\nX-Forwarded-Proto: http\r\n"
		   "X-Forwarded-Port: 8080\r\nX-Amzn-Trace-Id: Root=1-00000000-000000000000000000000000\r\n"
		   "Content-Length: 12\r\n\r\n");
}

TEST(request_with_length_and_chunked_goes_chunked)
{
	/* An Ambiguous request ALB forwards (defensive mode) is framed by chunked,
	 * as it was read: the target never sees both. */
	CHECK_HEAD("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", &attrs,
		   "POST / HTTP/1.1\r\nHost: h:8080\r\nX-Forwarded-For: 203.0.113.7\r\nX-Forwarded-Proto: http\r\n"
		   "X-Forwarded-Port: 8080\r\nX-Amzn-Trace-Id: Root=1-00000000-000000000000000000000000\r\n"
		   "Transfer-Encoding: chunked\r\n\r\n");
}

TEST(http10_request_without_host_gets_one)
{
	CHECK_HEAD("GET / HTTP/1.0\r\n\r\n", &attrs,
		   "GET / HTTP/1.1\r\nX-Forwarded-For: 203.0.113.7\r\nX-Forwarded-Proto: http\r\n"
		   "X-Forwarded-Port: 8080\r\nX-Amzn-Trace-Id: Root=1-00000000-000000000000000000000000\r\n"
		   "Host: 127.0.0.1:8080\r\n\r\n");
}

TEST(absolute_form_goes_in_origin_form)
{
	CHECK_HEAD("GET http://Other.example/p/q?z=1#frag HTTP/1.1\r\nHost: h\r\n\r\n", &attrs,
		   "GET /p/q?z=1 HTTP/1.1\r\nHost: other.example:8080\r\nX-Forwarded-For: 203.0.113.7\r\n"
		   "X-Forwarded-Proto: http\r\nX-Forwarded-Port: 8080\r\n"
		   "X-Amzn-Trace-Id: Root=1-00000000-000000000000000000000000\r\n\r\n");
	CHECK_HEAD("GET http://h HTTP/1.1\r\nHost: h\r\n\r\n", &attrs,
		   "GET / HTTP/1.1\r\nHost: h:8080\r\nX-Forwarded-For: 203.0.113.7\r\nX-Forwarded-Proto: http\r\n"
		   "X-Forwarded-Port: 8080\r\nX-Amzn-Trace-Id: Root=1-00000000-000000000000000000000000\r\n\r\n");
}

TEST(preserved_host_keeps_its_case)
{
	struct lb_attributes a = attrs;

	a.preserve_host = true;
	CHECK_HEAD("GET / HTTP/1.1\r\nHost: MiXed.Example\r\n\r\n", &a,
		   "GET / HTTP/1.1\r\nHost: MiXed.Example\r\nX-Forwarded-For: 203.0.113.7\r\nX-Forwarded-Proto: http\r\n"
		   "X-Forwarded-Port: 8080\r\nX-Amzn-Trace-Id: Root=1-00000000-000000000000000000000000\r\n\r\n");
}

TEST(an_http10_upgrade_is_ignored)
{
	/* RFC 9110 §7.8: the target sees a plain request, hop-by-hop Upgrade dropped */
	CHECK_HEAD("GET /ws HTTP/1.0\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n",
		   &attrs,
		   "GET /ws HTTP/1.1\r\nHost: h:8080\r\n"
		   "X-Forwarded-For: 203.0.113.7\r\nX-Forwarded-Proto: http\r\nX-Forwarded-Port: 8080\r\n"
		   "X-Amzn-Trace-Id: Root=1-00000000-000000000000000000000000\r\n\r\n");
}

TEST(websocket_upgrade_keeps_upgrade)
{
	CHECK_HEAD("GET /ws HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
		   "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
		   &attrs,
		   "GET /ws HTTP/1.1\r\nHost: h:8080\r\nUpgrade: websocket\r\n"
		   "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
		   "X-Forwarded-For: 203.0.113.7\r\nX-Forwarded-Proto: http\r\nX-Forwarded-Port: 8080\r\n"
		   "X-Amzn-Trace-Id: Root=1-00000000-000000000000000000000000\r\nConnection: Upgrade\r\n\r\n");
}

static char *response_headers(const char *raw)
{
	struct http_reply reply;
	struct h1_reader r;
	struct header_list out;
	struct buf b = BUF_INIT;
	size_t used;
	char *s;

	http_reply_init(&reply);
	h1_reader_init_reply(&r, &reply, &h1_limits_alb_response);
	r.upgrade_asked = true;   /* a 101 answers a WebSocket upgrade lb forwarded */
	h1_read(&r, raw, strlen(raw), &used);
	header_list_init(&out);
	proxy_response_headers(&reply, &out);
	for (size_t i = 0; i < out.n; i++)
		buf_printf(&b, "%.*s: %.*s|", SV_ARG(out.v[i].name), SV_ARG(out.v[i].value));
	s = xstrdup(buf_cstr(&b));
	buf_release(&b);
	header_list_release(&out);
	h1_reader_release(&r);
	http_reply_release(&reply);
	return s;
}

TEST(answer_headers_pass_but_hop_by_hop)
{
	char *got = response_headers("HTTP/1.1 200 OK\r\nServer: nginx\r\nConnection: keep-alive, X-Hop\r\n"
				     "Keep-Alive: timeout=5\r\nX-Hop: 1\r\nTransfer-Encoding: chunked\r\n"
				     "Set-Cookie: a=1\r\nSet-Cookie: b=2\r\nTrailer: X-T\r\n\r\n");

	CHECK_STR(got, "Server: nginx|Set-Cookie: a=1|Set-Cookie: b=2|");
	free(got);
	got = response_headers("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nDate: Thu, 03 Dec 2026 20:00:00 GMT\r\n\r\n");
	CHECK_STR(got, "Content-Length: 5|Date: Thu, 03 Dec 2026 20:00:00 GMT|");
	free(got);
}

TEST(answer_with_many_connection_names_drops_each_any_case)
{
	/* More names than fit in place: the sorted list answers the same. */
	char *got = response_headers("HTTP/1.1 200 OK\r\nConnection: A1, a2, a3, a4, a5, a6, a7, a8, a9\r\n"
				     "Connection: b1, b2, b3, b4, b5, b6, b7, b8, b9, close, X-Z\r\n"
				     "a9: 1\r\nB1: 2\r\nx-z: 3\r\nA10: 4\r\nb: 5\r\nKeep-Alive: 6\r\n\r\n");

	CHECK_STR(got, "A10: 4|b: 5|");
	free(got);
}

TEST(switching_protocols_keeps_upgrade)
{
	char *got = response_headers("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
				     "Connection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n");

	CHECK_STR(got, "Upgrade: websocket|Connection: Upgrade|Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=|");
	free(got);
}

int main(void)
{
	RUN(request_head_drops_hop_by_hop_and_adds_alb_headers);
	RUN(request_head_keeps_albs_own_headers_whatever_connection_lists);
	RUN(request_head_keeps_body_framing);
	RUN(request_with_length_and_chunked_goes_chunked);
	RUN(http10_request_without_host_gets_one);
	RUN(absolute_form_goes_in_origin_form);
	RUN(preserved_host_keeps_its_case);
	RUN(websocket_upgrade_keeps_upgrade);
	RUN(an_http10_upgrade_is_ignored);
	RUN(answer_headers_pass_but_hop_by_hop);
	RUN(answer_with_many_connection_names_drops_each_any_case);
	RUN(switching_protocols_keeps_upgrade);
	return test_done();
}
