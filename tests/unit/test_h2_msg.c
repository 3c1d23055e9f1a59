/*
 * h2_msg: HTTP/2 request fields become the request the HTTP/1 reader would
 * build for the same request, and answers become HTTP/2 fields.
 */
#include <stdlib.h>
#include <string.h>

#include "alb/h2_msg.h"
#include "test.h"

struct nv {
	const char *name, *value;
};

/* Builds a request from fields; returns h2_req_end's status. */
static int build(struct http_request *req, const struct nv *f, size_t n, bool end_stream)
{
	struct h2_req_build b;
	int status;

	h2_req_build_init(&b);
	h2_req_begin(&b, req);
	for (size_t i = 0; i < n; i++)
		h2_req_field(&b, sv_from(f[i].name), sv_from(f[i].value));
	status = h2_req_end(&b, end_stream);
	h2_req_build_release(&b);
	return status;
}

static const char *header_at(const struct http_request *req, size_t i, char *out, size_t cap)
{
	snprintf(out, cap, "%.*s: %.*s", (int)req->headers[i].name.n, req->headers[i].name.p,
		 (int)req->headers[i].value.n, req->headers[i].value.p);
	return out;
}

TEST(request_line_from_pseudo_headers)
{
	static const struct nv f[] = {
		{ ":method", "GET" }, { ":scheme", "https" }, { ":authority", "Example.com:8443" },
		{ ":path", "/a%20b?x=1&y" }, { "user-agent", "curl/7.88.1" }, { "accept", "*/*" },
	};
	struct http_request req;
	char h[128];

	http_request_init(&req);
	CHECK_INT(build(&req, f, ARRAY_LEN(f), true), 0);
	CHECK_MEM(req.method.p, req.method.n, "GET");
	CHECK_MEM(req.target.p, req.target.n, "/a%20b?x=1&y");
	CHECK_MEM(req.path.p, req.path.n, "/a%20b");
	CHECK_MEM(req.query.p, req.query.n, "x=1&y");
	CHECK(req.has_query);
	CHECK_INT(req.version, 20);
	CHECK_STR(http_version_str(req.version), "HTTP/2.0");
	CHECK_INT(req.framing, HTTP_FRAMING_NONE);
	/* :authority becomes Host, first, as HTTP/1.1 clients send it. */
	CHECK_INT(req.nheaders, 3);
	CHECK_STR(header_at(&req, 0, h, sizeof(h)), "Host: Example.com:8443");
	CHECK_STR(header_at(&req, 1, h, sizeof(h)), "user-agent: curl/7.88.1");
	CHECK_STR(header_at(&req, 2, h, sizeof(h)), "accept: */*");
	CHECK_MEM(http_request_host(&req).p, http_request_host(&req).n, "Example.com");
	http_request_release(&req);
}

TEST(cookie_crumbs_join_with_semicolon_at_the_first_crumb)
{
	static const struct nv f[] = {
		{ ":method", "GET" }, { ":path", "/" }, { ":authority", "a.example" },
		{ "x-a", "1" }, { "cookie", "a=1" }, { "x-b", "2" }, { "cookie", "b=2" }, { "cookie", "c=3" },
	};
	struct http_request req;
	char h[128];

	http_request_init(&req);
	CHECK_INT(build(&req, f, ARRAY_LEN(f), true), 0);
	CHECK_INT(req.nheaders, 4);
	CHECK_STR(header_at(&req, 0, h, sizeof(h)), "Host: a.example");
	CHECK_STR(header_at(&req, 1, h, sizeof(h)), "x-a: 1");
	CHECK_STR(header_at(&req, 2, h, sizeof(h)), "cookie: a=1; b=2; c=3");
	CHECK_STR(header_at(&req, 3, h, sizeof(h)), "x-b: 2");
	http_request_release(&req);
}

TEST(authority_wins_over_a_host_field)
{
	static const struct nv f[] = {
		{ ":method", "GET" }, { ":path", "/" }, { ":authority", "a.example" }, { "host", "b.example" },
	};
	struct http_request req;
	char h[128];

	http_request_init(&req);
	CHECK_INT(build(&req, f, ARRAY_LEN(f), true), 0);
	CHECK_INT(req.nheaders, 1);
	CHECK_STR(header_at(&req, 0, h, sizeof(h)), "Host: a.example");
	http_request_release(&req);
}

TEST(host_field_kept_without_authority)
{
	static const struct nv f[] = { { ":method", "GET" }, { ":path", "/" }, { "host", "b.example" } };
	struct http_request req;
	char h[128];

	http_request_init(&req);
	CHECK_INT(build(&req, f, ARRAY_LEN(f), true), 0);
	CHECK_INT(req.nheaders, 1);
	CHECK_STR(header_at(&req, 0, h, sizeof(h)), "host: b.example");
	http_request_release(&req);
}

TEST(body_framing_from_content_length_or_chunked)
{
	static const struct nv with_len[] = { { ":method", "POST" }, { ":path", "/" }, { "content-length", "12" } };
	static const struct nv without[] = { { ":method", "POST" }, { ":path", "/" } };
	struct http_request req;

	http_request_init(&req);
	CHECK_INT(build(&req, with_len, ARRAY_LEN(with_len), false), 0);
	CHECK_INT(req.framing, HTTP_FRAMING_LENGTH);
	CHECK_INT(req.content_length, 12);
	/* No content-length: chunked toward HTTP/1.1 targets. */
	CHECK_INT(build(&req, without, ARRAY_LEN(without), false), 0);
	CHECK_INT(req.framing, HTTP_FRAMING_CHUNKED);
	CHECK_INT(build(&req, without, ARRAY_LEN(without), true), 0);
	CHECK_INT(req.framing, HTTP_FRAMING_NONE);
	http_request_release(&req);
}

TEST(missing_path_or_method_is_400)
{
	static const struct nv connect[] = { { ":method", "CONNECT" }, { ":authority", "a.example:443" } };
	static const struct nv no_method[] = { { ":path", "/" } };
	struct http_request req;

	http_request_init(&req);
	CHECK_INT(build(&req, connect, ARRAY_LEN(connect), false), 400);
	CHECK_MEM(req.method.p, req.method.n, "CONNECT");
	CHECK_INT(build(&req, no_method, ARRAY_LEN(no_method), true), 400);
	CHECK_INT(req.method.n, 0);
	http_request_release(&req);
}

TEST(fields_over_alb_limits_are_400)
{
	struct nv f[8] = { { ":method", "GET" }, { ":path", "/" } };
	char *big = malloc(17 * 1024), *mid = malloc(15 * 1024);
	struct http_request req;

	memset(big, 'a', 17 * 1024 - 1);
	big[17 * 1024 - 1] = 0;
	memset(mid, 'b', 15 * 1024 - 1);
	mid[15 * 1024 - 1] = 0;
	http_request_init(&req);
	f[2] = (struct nv){ "x-big", big };
	CHECK_INT(build(&req, f, 3, true), 400);
	/* 15 KB each is fine alone, five of them pass 64 KB in all. */
	for (size_t i = 2; i < 7; i++)
		f[i] = (struct nv){ "x-mid", mid };
	CHECK_INT(build(&req, f, 6, true), 0);
	CHECK_INT(build(&req, f, 7, true), 400);
	http_request_release(&req);
	free(big);
	free(mid);
}

/*
 * The 64 KB counts each field as the HTTP/1.1 line it becomes, as lb's
 * HTTP/1 limit does: "name: value" and CRLF, a later cookie crumb "; " and
 * its value. With ":method: GET" and ":path: /" (24 bytes), 13,102 empty
 * one-letter fields (one HPACK byte each, 5 bytes as lines) fit in 65,536,
 * and 13,097 with cookie crumbs "c=12" (14, then 6 each) up to 65,535.
 */
TEST(fields_count_as_their_http1_lines)
{
	size_t n = 2 + 13103;
	struct nv *f = calloc(n, sizeof(*f));
	struct http_request req;

	f[0] = (struct nv){ ":method", "GET" };
	f[1] = (struct nv){ ":path", "/" };
	for (size_t i = 2; i < n; i++)
		f[i] = (struct nv){ "a", "" };
	http_request_init(&req);
	CHECK_INT(build(&req, f, n - 1, true), 0);           /* 65,534 bytes */
	CHECK_INT(build(&req, f, n, true), 400);             /* 65,539 */
	for (size_t i = 2 + 13097; i < n; i++)
		f[i] = (struct nv){ "cookie", "c=12" };
	CHECK_INT(build(&req, f, n - 3, true), 0);           /* 65,535 */
	CHECK_INT(build(&req, f, n - 2, true), 400);         /* 65,541 */
	http_request_release(&req);
	free(f);
}

TEST(reused_request_forgets_the_previous_one)
{
	static const struct nv a[] = { { ":method", "GET" }, { ":path", "/a" }, { "cookie", "x=1" }, { "x-a", "1" } };
	static const struct nv b[] = { { ":method", "HEAD" }, { ":path", "/b" } };
	struct http_request req;

	http_request_init(&req);
	req.peer_port = 4242;
	CHECK_INT(build(&req, a, ARRAY_LEN(a), true), 0);
	CHECK_INT(build(&req, b, ARRAY_LEN(b), true), 0);
	CHECK_MEM(req.method.p, req.method.n, "HEAD");
	CHECK_MEM(req.target.p, req.target.n, "/b");
	CHECK_INT(req.nheaders, 0);
	CHECK_INT(req.peer_port, 4242);
	http_request_release(&req);
}

static const char *field(const struct h2_fields *f, size_t i, char *out, size_t cap)
{
	snprintf(out, cap, "%.*s: %.*s", (int)f->v[i].name.n, f->v[i].name.p, (int)f->v[i].value.n, f->v[i].value.p);
	return out;
}

TEST(whole_answer_fields_in_albs_order_lower_case)
{
	struct http_header extra[] = {
		{ SV("Location"), SV("https://a.example:443/") },
		{ SV("Connection"), SV("keep-alive") },
		{ SV("Set-Cookie"), SV("a=1") },
	};
	struct http_response resp = {
		.status = 301,
		.content_type = SV("text/html"),
		.headers = extra,
		.nheaders = ARRAY_LEN(extra),
		.body = SV("<html>moved</html>"),
	};
	struct h2_fields f;
	char s[128];

	h2_fields_init(&f);
	h2_fields_response(&f, &resp, "Fri, 04 Dec 2026 13:52:14 GMT");
	CHECK_INT(f.n, 7);
	CHECK_STR(field(&f, 0, s, sizeof(s)), ":status: 301");
	CHECK_STR(field(&f, 1, s, sizeof(s)), "server: awselb/2.0");
	CHECK_STR(field(&f, 2, s, sizeof(s)), "date: Fri, 04 Dec 2026 13:52:14 GMT");
	CHECK_STR(field(&f, 3, s, sizeof(s)), "content-type: text/html");
	CHECK_STR(field(&f, 4, s, sizeof(s)), "content-length: 18");
	CHECK_STR(field(&f, 5, s, sizeof(s)), "location: https://a.example:443/");
	/* Connection is HTTP/1's alone (RFC 9113 §8.2.2). */
	CHECK_STR(field(&f, 6, s, sizeof(s)), "set-cookie: a=1");
	h2_fields_release(&f);
}

TEST(bare_answer_with_own_date_and_no_body_status)
{
	struct http_header extra[] = { { SV("Date"), SV("Thu, 01 Jan 2026 00:00:00 GMT") } };
	struct http_response resp = { .status = 204, .headers = extra, .nheaders = 1, .has_date = true, .bare = true };
	struct h2_fields f;
	char s[128];

	h2_fields_init(&f);
	h2_fields_response(&f, &resp, "unused");
	CHECK_INT(f.n, 2);
	CHECK_STR(field(&f, 0, s, sizeof(s)), ":status: 204");
	CHECK_STR(field(&f, 1, s, sizeof(s)), "date: Thu, 01 Jan 2026 00:00:00 GMT");
	h2_fields_release(&f);
}

TEST(streamed_head_fields_drop_connection_specific_names)
{
	struct http_header h[] = {
		{ SV("Content-Type"), SV("application/json") }, { SV("Transfer-Encoding"), SV("chunked") },
		{ SV("Keep-Alive"), SV("timeout=5") },           { SV("Upgrade"), SV("h2c") },
		{ SV("Proxy-Connection"), SV("close") },        { SV("X-Backend-Id"), SV("a") },
	};
	struct h2_fields f;
	char s[128];

	h2_fields_init(&f);
	h2_fields_head(&f, 200, h, ARRAY_LEN(h));
	CHECK_INT(f.n, 3);
	CHECK_STR(field(&f, 0, s, sizeof(s)), ":status: 200");
	CHECK_STR(field(&f, 1, s, sizeof(s)), "content-type: application/json");
	CHECK_STR(field(&f, 2, s, sizeof(s)), "x-backend-id: a");
	h2_fields_release(&f);
}

int main(void)
{
	RUN(request_line_from_pseudo_headers);
	RUN(cookie_crumbs_join_with_semicolon_at_the_first_crumb);
	RUN(authority_wins_over_a_host_field);
	RUN(host_field_kept_without_authority);
	RUN(body_framing_from_content_length_or_chunked);
	RUN(missing_path_or_method_is_400);
	RUN(fields_over_alb_limits_are_400);
	RUN(fields_count_as_their_http1_lines);
	RUN(reused_request_forgets_the_previous_one);
	RUN(whole_answer_fields_in_albs_order_lower_case);
	RUN(bare_answer_with_own_date_and_no_body_status);
	RUN(streamed_head_fields_drop_connection_specific_names);
	return test_done();
}
