/*
 * h2_req_head: the HTTP/1.1 head lb writes toward a target, as the header
 * block of an HTTP/2 request (HTTP2/GRPC target groups). Fields are
 * compared as "name: value|" lines, pseudo-headers first.
 */
#include <stdlib.h>
#include <string.h>

#include "alb/h2_req_head.h"
#include "test.h"

/* The fields for head, or "(malformed)"; *body gets the return value. */
static char *fields_for(const char *head, const char *scheme, int *body)
{
	struct header_list l;
	struct buf out = BUF_INIT;
	char *s;

	header_list_init(&l);
	*body = h2_req_head_from_h1(&l, head, strlen(head), scheme);
	if (*body < 0)
		buf_puts(&out, "(malformed)");
	for (size_t i = 0; *body >= 0 && i < l.n; i++)
		buf_printf(&out, "%.*s: %.*s|", SV_ARG(l.v[i].name), SV_ARG(l.v[i].value));
	s = xstrdup(buf_cstr(&out));
	buf_release(&out);
	header_list_release(&l);
	return s;
}

TEST(request_line_and_host_become_pseudo_headers)
{
	int body;
	char *got = fields_for("GET /a%20b?x=1 HTTP/1.1\r\nHost: example.com\r\nX-Forwarded-For: 10.0.0.1\r\n"
			       "X-Amzn-Trace-Id: Root=1-0-0\r\n\r\n", "http", &body);

	CHECK_STR(got, ":method: GET|:scheme: http|:authority: example.com|:path: /a%20b?x=1|"
		       "x-forwarded-for: 10.0.0.1|x-amzn-trace-id: Root=1-0-0|");
	CHECK_INT(body, 0);
	free(got);
}

TEST(connection_specific_fields_are_dropped)
{
	int body;
	char *got = fields_for("POST /up HTTP/1.1\r\nHost: h\r\nConnection: keep-alive\r\nKeep-Alive: 5\r\n"
			       "Transfer-Encoding: chunked\r\nUpgrade: foo\r\nProxy-Connection: x\r\nTE: gzip\r\n"
			       "Content-Type: text/plain\r\n\r\n", "https", &body);

	CHECK_STR(got, ":method: POST|:scheme: https|:authority: h|:path: /up|content-type: text/plain|");
	CHECK_INT(body, 1);   /* chunked: a body follows, unframed */
	free(got);
}

TEST(te_trailers_is_kept_for_grpc)
{
	int body;
	char *got = fields_for("POST /pkg.Svc/Call HTTP/1.1\r\nHost: h\r\nTE: trailers\r\n"
			       "Content-Type: application/grpc\r\nContent-Length: 5\r\n\r\n", "http", &body);

	CHECK_STR(got, ":method: POST|:scheme: http|:authority: h|:path: /pkg.Svc/Call|te: trailers|"
		       "content-type: application/grpc|content-length: 5|");
	CHECK_INT(body, 1);
	free(got);
}

TEST(zero_length_means_no_body)
{
	int body;
	char *got = fields_for("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n", "http", &body);

	CHECK_INT(body, 0);
	free(got);
}

TEST(not_a_request_head_is_refused)
{
	int body;
	char *got = fields_for("garbage\r\n\r\n", "http", &body);

	CHECK_INT(body, -1);
	free(got);
	got = fields_for("GET / HTTP/1.1\r\nno colon here\r\n\r\n", "http", &body);
	CHECK_INT(body, -1);
	free(got);
}

TEST(grpc_content_types)
{
	CHECK(h2_is_grpc_content_type(SV("application/grpc")));
	CHECK(h2_is_grpc_content_type(SV("application/grpc+proto")));
	CHECK(h2_is_grpc_content_type(SV("application/grpc;charset=utf-8")));
	CHECK(!h2_is_grpc_content_type(SV("application/grpc-web")));
	CHECK(!h2_is_grpc_content_type(SV("application/json")));
}

int main(void)
{
	RUN(request_line_and_host_become_pseudo_headers);
	RUN(connection_specific_fields_are_dropped);
	RUN(te_trailers_is_kept_for_grpc);
	RUN(zero_length_means_no_body);
	RUN(not_a_request_head_is_refused);
	RUN(grpc_content_types);
	return test_done();
}
