#include <stdio.h>
#include <string.h>

#include "alb/http_msg.h"
#include "test.h"

#define DATE "Tue, 06 Apr 2021 20:57:31 GMT"

static struct http_request target_req(const char *target)
{
	struct http_request req;

	http_request_init(&req);
	http_request_set_target(&req, sv_from(target));
	return req;
}

#define CHECK_SV(v, s) CHECK_MEM((v).p, (v).n, s)

TEST(error_page_502_is_nginx_style_crlf_122_bytes)
{
	struct sv p = http_error_page(502);

	CHECK_SV(p, "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
		    "<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n");
	CHECK_INT(p.n, 122);
}

TEST(error_page_503_is_service_temporarily_unavailable_162_bytes)
{
	struct sv p = http_error_page(503);

	CHECK_SV(p, "<html>\r\n<head><title>503 Service Temporarily Unavailable</title></head>\r\n"
		    "<body>\r\n<center><h1>503 Service Temporarily Unavailable</h1></center>\r\n"
		    "</body>\r\n</html>\r\n");
	CHECK_INT(p.n, 162);
}

TEST(error_page_lengths_match_captured_and_template_counts)
{
	CHECK_INT(http_error_page(400).n, 122);
	CHECK_INT(http_error_page(301).n, 134);
	CHECK_INT(http_error_page(504).n, 132);
	CHECK_INT(http_error_page(413).n, 148);
}

TEST(error_page_for_code_without_phrase_titles_the_bare_code)
{
	CHECK_SV(http_error_page(463),
		 "<html>\r\n<head><title>463</title></head>\r\n<body>\r\n"
		 "<center><h1>463</h1></center>\r\n</body>\r\n</html>\r\n");
	CHECK_INT(http_error_page(460).n, 98);
	CHECK_INT(http_error_page(561).n, 98);
}

TEST(error_page_redirect_302_is_found)
{
	CHECK_SV(http_error_page(302),
		 "<html>\r\n<head><title>302 Found</title></head>\r\n<body>\r\n"
		 "<center><h1>302 Found</h1></center>\r\n</body>\r\n</html>\r\n");
}

TEST(error_page_exists_for_every_code_alb_generates)
{
	static const int codes[] = { 301, 302, 400, 401, 403, 405, 408, 413, 414,
				     460, 463, 500, 501, 502, 503, 504, 505, 561 };

	for (size_t i = 0; i < ARRAY_LEN(codes); i++) {
		char title[64];
		struct sv p = http_error_page(codes[i]);
		const char *r = http_reason(codes[i]);

		snprintf(title, sizeof(title), "<title>%d%s%s</title>", codes[i], *r ? " " : "", r);
		CHECK(p.n > 0 && memmem(p.p, p.n, title, strlen(title)) != NULL);
	}
}

TEST(error_page_is_empty_for_codes_alb_never_pages)
{
	CHECK(http_error_page(200).n == 0 && http_error_page(200).p == NULL);
	CHECK_INT(http_error_page(404).n, 0);
	CHECK_INT(http_error_page(0).n, 0);
	CHECK_INT(http_error_page(-1).n, 0);
	CHECK_INT(http_error_page(600).n, 0);
	CHECK_INT(http_error_page(100000).n, 0);
}

TEST(reason_uses_nginx_phrases_where_alb_does)
{
	CHECK_STR(http_reason(503), "Service Temporarily Unavailable");
	CHECK_STR(http_reason(405), "Not Allowed");
	CHECK_STR(http_reason(408), "Request Time-out");
	CHECK_STR(http_reason(413), "Request Entity Too Large");
	CHECK_STR(http_reason(414), "Request-URI Too Large");
	CHECK_STR(http_reason(504), "Gateway Time-out");
}

TEST(reason_uses_rfc9110_phrases_otherwise)
{
	CHECK_STR(http_reason(200), "OK");
	CHECK_STR(http_reason(201), "Created");
	CHECK_STR(http_reason(301), "Moved Permanently");
	CHECK_STR(http_reason(302), "Found");
	CHECK_STR(http_reason(404), "Not Found");
	CHECK_STR(http_reason(502), "Bad Gateway");
	CHECK_STR(http_reason(505), "HTTP Version Not Supported");
}

TEST(reason_is_empty_for_alb_codes_and_unknown_codes)
{
	CHECK_STR(http_reason(460), "");
	CHECK_STR(http_reason(463), "");
	CHECK_STR(http_reason(561), "");
	CHECK_STR(http_reason(418), "");
	CHECK_STR(http_reason(599), "");
	CHECK_STR(http_reason(0), "");
	CHECK_STR(http_reason(-200), "");
	CHECK_STR(http_reason(1000), "");
}

static void check_head(const struct http_response *resp, bool keep_alive, bool head_request,
		       const char *want)
{
	struct buf out = BUF_INIT;

	http_response_head(&out, resp, DATE, keep_alive, head_request);
	CHECK_MEM(out.p, out.len, want);
	buf_release(&out);
}

TEST(response_head_error_page_in_alb_order)
{
	struct http_response r = { .status = 502, .content_type = SV("text/html"),
				   .body = http_error_page(502), .close = true };

	check_head(&r, true, false,
		   "HTTP/1.1 502 Bad Gateway\r\nServer: awselb/2.0\r\nDate: " DATE "\r\n"
		   "Content-Type: text/html\r\nContent-Length: 122\r\nConnection: close\r\n\r\n");
}

TEST(response_head_fixed_response_keep_alive)
{
	struct http_response r = { .status = 200, .content_type = SV("text/plain"),
				   .body = SV("ok") };

	check_head(&r, true, false,
		   "HTTP/1.1 200 OK\r\nServer: awselb/2.0\r\nDate: " DATE "\r\n"
		   "Content-Type: text/plain\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\n");
}

TEST(response_head_lambda_headers_follow_connection)
{
	static const struct http_header h[] = { { SV("cache-control"), SV("no-store") },
						 { SV("Set-Cookie"), SV("a=1") },
						 { SV("set-cookie"), SV("b=2") } };
	struct http_response r = { .status = 400, .content_type = SV("application/json"),
				   .headers = h, .nheaders = 3,
				   .body = SV("{\"error\":\"authorization_pending\"}") };

	check_head(&r, true, false,
		   "HTTP/1.1 400 Bad Request\r\nServer: awselb/2.0\r\nDate: " DATE "\r\n"
		   "Content-Type: application/json\r\nContent-Length: 33\r\n"
		   "Connection: keep-alive\r\ncache-control: no-store\r\nSet-Cookie: a=1\r\n"
		   "set-cookie: b=2\r\n\r\n");
}

TEST(response_head_keeps_target_date_in_its_position)
{
	static const struct http_header h[] = { { SV("Some-Header"), SV("x") },
						 { SV("Date"), SV("Wed, 30 Dec 2020 08:27:16 GMT") } };
	struct http_response r = { .status = 200, .content_type = SV("text/plain; charset=utf-8"),
				   .headers = h, .nheaders = 2, .has_date = true,
				   .body = SV("hello") };

	check_head(&r, true, false,
		   "HTTP/1.1 200 OK\r\nServer: awselb/2.0\r\n"
		   "Content-Type: text/plain; charset=utf-8\r\nContent-Length: 5\r\n"
		   "Connection: keep-alive\r\nSome-Header: x\r\n"
		   "Date: Wed, 30 Dec 2020 08:27:16 GMT\r\n\r\n");
}

TEST(response_head_uses_status_description_reason)
{
	struct http_response r = { .status = 201, .reason = SV("Made It") };

	check_head(&r, false, false,
		   "HTTP/1.1 201 Made It\r\nServer: awselb/2.0\r\nDate: " DATE "\r\n"
		   "Content-Length: 0\r\nConnection: close\r\n\r\n");
}

TEST(response_head_unknown_status_keeps_the_space_before_empty_reason)
{
	struct http_response r = { .status = 463, .body = http_error_page(463) };

	check_head(&r, true, false,
		   "HTTP/1.1 463 \r\nServer: awselb/2.0\r\nDate: " DATE "\r\n"
		   "Content-Length: 98\r\nConnection: keep-alive\r\n\r\n");
}

TEST(response_head_to_head_request_states_body_length)
{
	struct http_response r = { .status = 200, .content_type = SV("text/html"),
				   .body = SV("<p>1234567890</p>") };

	check_head(&r, true, true,
		   "HTTP/1.1 200 OK\r\nServer: awselb/2.0\r\nDate: " DATE "\r\n"
		   "Content-Type: text/html\r\nContent-Length: 17\r\nConnection: keep-alive\r\n\r\n");
	CHECK(!http_response_has_body(200, true));
}

TEST(response_head_204_and_304_have_no_content_length)
{
	struct http_response r = { .status = 204 };

	check_head(&r, true, false,
		   "HTTP/1.1 204 No Content\r\nServer: awselb/2.0\r\nDate: " DATE "\r\n"
		   "Connection: keep-alive\r\n\r\n");
	r.status = 304;
	r.body = SV("ignored");
	check_head(&r, true, false,
		   "HTTP/1.1 304 Not Modified\r\nServer: awselb/2.0\r\nDate: " DATE "\r\n"
		   "Connection: keep-alive\r\n\r\n");
	r.status = 100;
	check_head(&r, true, false,
		   "HTTP/1.1 100 Continue\r\nServer: awselb/2.0\r\nDate: " DATE "\r\n"
		   "Connection: keep-alive\r\n\r\n");
}

TEST(response_head_large_content_length_is_exact)
{
	static char body[1048576];
	struct http_response r = { .status = 200, .body = { body, sizeof(body) } };
	struct buf out = BUF_INIT;

	http_response_head(&out, &r, DATE, true, true);
	CHECK(strstr(buf_cstr(&out), "\r\nContent-Length: 1048576\r\n") != NULL);
	buf_release(&out);
}

TEST(response_head_appends_to_existing_buffer)
{
	struct http_response r = { .status = 204, .has_date = true };
	struct buf out = BUF_INIT;

	buf_puts(&out, "previous");
	http_response_head(&out, &r, DATE, false, false);
	CHECK_MEM(out.p, out.len,
		  "previousHTTP/1.1 204 No Content\r\nServer: awselb/2.0\r\nConnection: close\r\n\r\n");
	buf_release(&out);
}

TEST(has_body_false_for_1xx_204_304_and_head)
{
	CHECK(!http_response_has_body(100, false));
	CHECK(!http_response_has_body(101, false));
	CHECK(!http_response_has_body(204, false));
	CHECK(!http_response_has_body(304, false));
	CHECK(!http_response_has_body(502, true));
	CHECK(http_response_has_body(200, false));
	CHECK(http_response_has_body(205, false));
	CHECK(http_response_has_body(302, false));
	CHECK(http_response_has_body(502, false));
}

TEST(set_target_origin_form_splits_path_query_and_drops_fragment)
{
	struct http_request req = target_req("/a%20b/c?x=1&y=%2F#frag");

	CHECK_SV(req.target, "/a%20b/c?x=1&y=%2F#frag");
	CHECK_SV(req.path, "/a%20b/c");
	CHECK(req.has_query);
	CHECK_SV(req.query, "x=1&y=%2F");
	CHECK_INT(req.uri_host.n, 0);
	http_request_release(&req);
}

TEST(set_target_query_is_after_the_first_question_mark)
{
	struct http_request req = target_req("/p?a=?b?");

	CHECK_SV(req.path, "/p");
	CHECK_SV(req.query, "a=?b?");
	http_request_release(&req);
}

TEST(set_target_empty_query_still_has_query)
{
	struct http_request req = target_req("/p?");

	CHECK_SV(req.path, "/p");
	CHECK(req.has_query);
	CHECK_INT(req.query.n, 0);
	http_request_release(&req);
}

TEST(set_target_question_mark_inside_fragment_is_no_query)
{
	struct http_request req = target_req("/p#f?x=1");

	CHECK_SV(req.path, "/p");
	CHECK(!req.has_query);
	CHECK_INT(req.query.n, 0);
	http_request_release(&req);
}

TEST(set_target_asterisk_form_path_is_asterisk)
{
	struct http_request req = target_req("*");

	CHECK_SV(req.path, "*");
	CHECK(!req.has_query);
	CHECK_INT(req.uri_host.n, 0);
	http_request_release(&req);
}

TEST(set_target_absolute_form_takes_authority_and_path)
{
	struct http_request req = target_req("http://Host:8080/p/q?x=1#f");

	CHECK_SV(req.uri_host, "Host:8080");
	CHECK_SV(req.path, "/p/q");
	CHECK_SV(req.query, "x=1");
	CHECK(req.has_query);
	http_request_release(&req);
}

TEST(set_target_absolute_form_without_path_is_slash)
{
	struct http_request req = target_req("https://example.com");

	CHECK_SV(req.uri_host, "example.com");
	CHECK_SV(req.path, "/");
	CHECK(!req.has_query);
	http_request_set_target(&req, SV("HTTP://example.com?k=v"));
	CHECK_SV(req.uri_host, "example.com");
	CHECK_SV(req.path, "/");
	CHECK_SV(req.query, "k=v");
	http_request_release(&req);
}

TEST(set_target_absolute_form_ipv6_authority)
{
	struct http_request req = target_req("http://[::1]:8443/x");

	CHECK_SV(req.uri_host, "[::1]:8443");
	CHECK_SV(req.path, "/x");
	CHECK_SV(http_request_host(&req), "[::1]");
	http_request_release(&req);
}

TEST(set_target_relative_path_with_colon_slash_slash_is_origin_form)
{
	struct http_request req = target_req("/redirect?to=http://x/");

	CHECK_SV(req.path, "/redirect");
	CHECK_SV(req.query, "to=http://x/");
	CHECK_INT(req.uri_host.n, 0);
	http_request_release(&req);
}

TEST(set_target_nul_byte_is_an_ordinary_path_byte)
{
	struct http_request req;

	http_request_init(&req);
	http_request_set_target(&req, (struct sv){ "/a\0b?q", 6 });
	CHECK_INT(req.path.n, 4);
	CHECK(req.has_query);
	CHECK_SV(req.query, "q");
	http_request_release(&req);
}

TEST(set_target_again_forgets_the_previous_query_and_authority)
{
	struct http_request req = target_req("http://h/a?b");

	http_request_set_target(&req, SV("/c"));
	CHECK_SV(req.path, "/c");
	CHECK(!req.has_query);
	CHECK_INT(req.uri_host.n, 0);
	http_request_release(&req);
}

TEST(header_lookup_is_case_insensitive_and_returns_the_first)
{
	struct http_request req;

	http_request_init(&req);
	http_request_add_header(&req, SV("X-A"), SV("1"));
	http_request_add_header(&req, SV("x-a"), SV("2"));
	CHECK_SV(http_request_header(&req, "x-A")->value, "1");
	CHECK(http_request_header(&req, "x-b") == NULL);
	CHECK(http_request_header(&req, "X-") == NULL);
	http_request_release(&req);
}

TEST(add_header_grows_and_keeps_order)
{
	static const char *names[] = { "a", "b", "c", "d", "e", "f", "g", "h", "i", "j" };
	struct http_request req;

	http_request_init(&req);
	for (int i = 0; i < 100; i++)
		http_request_add_header(&req, sv_from(names[i % 10]), sv_from(names[(i + 1) % 10]));
	CHECK_INT(req.nheaders, 100);
	CHECK(req.cap_headers >= 100);
	CHECK_SV(req.headers[57].name, "h");
	CHECK_SV(req.headers[57].value, "i");
	http_request_release(&req);
}

TEST(host_is_first_host_header_without_port)
{
	struct http_request req = target_req("/");

	http_request_add_header(&req, SV("host"), SV("Example.com:8080"));
	http_request_add_header(&req, SV("Host"), SV("other.example"));
	CHECK_SV(http_request_host(&req), "Example.com");
	http_request_release(&req);
}

TEST(host_keeps_ipv6_brackets_without_port)
{
	struct http_request req = target_req("/");

	http_request_add_header(&req, SV("Host"), SV("[::1]:8080"));
	CHECK_SV(http_request_host(&req), "[::1]");
	req.headers[0].value = SV("[2001:db8::1]");
	CHECK_SV(http_request_host(&req), "[2001:db8::1]");
	req.headers[0].value = SV("2001:db8::1");
	CHECK_SV(http_request_host(&req), "2001:db8::1");
	http_request_release(&req);
}

TEST(host_prefers_absolute_form_authority_and_drops_userinfo)
{
	struct http_request req = target_req("http://user:pw@api.example.com:81/x");

	http_request_add_header(&req, SV("Host"), SV("ignored.example"));
	CHECK_SV(http_request_host(&req), "api.example.com");
	http_request_release(&req);
}

TEST(host_is_null_without_host_or_authority)
{
	struct http_request req = target_req("/");

	http_request_add_header(&req, SV("X-Host"), SV("nope"));
	CHECK(http_request_host(&req).p == NULL);
	CHECK_INT(http_request_host(&req).n, 0);
	http_request_release(&req);
}

TEST(reset_forgets_the_request_and_keeps_memory_and_connection)
{
	struct http_request req;
	struct http_header *headers;
	char *head;

	http_request_init(&req);
	buf_init(&req.head, 65536);
	buf_puts(&req.head, "GET /x HTTP/1.1\r\nHost: a\r\n\r\n");
	req.body.max = 1048576;
	buf_puts(&req.body, "body");
	http_request_set_target(&req, SV("/x?y"));
	http_request_add_header(&req, SV("Host"), SV("a"));
	req.peer_port = 4321;
	req.local_port = 8080;
	snprintf(req.peer_ip, sizeof(req.peer_ip), "10.0.0.1");
	req.conn_trace_id = "TID_0123";
	req.body_bytes = 4;
	req.keep_alive = true;
	req.route = &req;
	headers = req.headers;
	head = req.head.p;

	http_request_reset(&req);
	CHECK_INT(req.nheaders, 0);
	CHECK(req.headers == headers && req.cap_headers >= 1);
	CHECK(req.head.p == head && req.head.len == 0 && req.head.max == 65536);
	CHECK(req.body.len == 0 && req.body.max == 0);
	CHECK_INT(req.path.n, 0);
	CHECK(!req.has_query && !req.keep_alive && req.route == NULL);
	CHECK_INT(req.body_bytes, 0);
	CHECK_INT(req.peer_port, 4321);
	CHECK_INT(req.local_port, 8080);
	CHECK_STR(req.peer_ip, "10.0.0.1");
	CHECK_STR(req.conn_trace_id, "TID_0123");
	http_request_release(&req);
	CHECK(req.headers == NULL && req.head.p == NULL && req.body.p == NULL);
}

TEST(reset_gives_back_a_large_body_buffer)
{
	struct http_request req;
	char *small;

	http_request_init(&req);
	buf_puts(&req.body, "small body");
	small = req.body.p;
	http_request_reset(&req);
	CHECK(req.body.p == small);             /* kept for the next request */
	buf_reserve(&req.body, 65 * 1024);
	http_request_reset(&req);
	CHECK(req.body.p == NULL && req.body.cap == 0);   /* an idle connection holds nothing */
	http_request_release(&req);
}

TEST(version_str_names_each_version)
{
	CHECK_STR(http_version_str(9), "HTTP/0.9");
	CHECK_STR(http_version_str(10), "HTTP/1.0");
	CHECK_STR(http_version_str(11), "HTTP/1.1");
	CHECK_STR(http_version_str(20), "HTTP/2.0");
	CHECK_STR(http_version_str(12), "-");
}

/* A result with no trailer fields (none kept: no buffer) has none, without
 * pointer arithmetic on NULL (UBSan; found by fuzz_runtime_api). */
TEST(trailer_of_a_request_without_trailers_is_null)
{
	struct http_request req;

	http_request_init(&req);
	req.keep_trailers = true;
	CHECK(http_request_trailer(&req, "lambda-runtime-function-error-type").p == NULL);
	buf_append(&req.trailers, "Lambda-Runtime-Function-Error-Type: Oops \n", 42);
	CHECK(sv_eq_cstr(http_request_trailer(&req, "lambda-runtime-function-error-type"), "Oops"));
	CHECK(http_request_trailer(&req, "other").p == NULL);
	http_request_release(&req);
}

int main(void)
{
	RUN(error_page_502_is_nginx_style_crlf_122_bytes);
	RUN(error_page_503_is_service_temporarily_unavailable_162_bytes);
	RUN(error_page_lengths_match_captured_and_template_counts);
	RUN(error_page_for_code_without_phrase_titles_the_bare_code);
	RUN(error_page_redirect_302_is_found);
	RUN(error_page_exists_for_every_code_alb_generates);
	RUN(error_page_is_empty_for_codes_alb_never_pages);
	RUN(reason_uses_nginx_phrases_where_alb_does);
	RUN(reason_uses_rfc9110_phrases_otherwise);
	RUN(reason_is_empty_for_alb_codes_and_unknown_codes);
	RUN(response_head_error_page_in_alb_order);
	RUN(response_head_fixed_response_keep_alive);
	RUN(response_head_lambda_headers_follow_connection);
	RUN(response_head_keeps_target_date_in_its_position);
	RUN(response_head_uses_status_description_reason);
	RUN(response_head_unknown_status_keeps_the_space_before_empty_reason);
	RUN(response_head_to_head_request_states_body_length);
	RUN(response_head_204_and_304_have_no_content_length);
	RUN(response_head_large_content_length_is_exact);
	RUN(response_head_appends_to_existing_buffer);
	RUN(has_body_false_for_1xx_204_304_and_head);
	RUN(set_target_origin_form_splits_path_query_and_drops_fragment);
	RUN(set_target_query_is_after_the_first_question_mark);
	RUN(set_target_empty_query_still_has_query);
	RUN(set_target_question_mark_inside_fragment_is_no_query);
	RUN(set_target_asterisk_form_path_is_asterisk);
	RUN(set_target_absolute_form_takes_authority_and_path);
	RUN(set_target_absolute_form_without_path_is_slash);
	RUN(set_target_absolute_form_ipv6_authority);
	RUN(set_target_relative_path_with_colon_slash_slash_is_origin_form);
	RUN(set_target_nul_byte_is_an_ordinary_path_byte);
	RUN(set_target_again_forgets_the_previous_query_and_authority);
	RUN(header_lookup_is_case_insensitive_and_returns_the_first);
	RUN(add_header_grows_and_keeps_order);
	RUN(host_is_first_host_header_without_port);
	RUN(host_keeps_ipv6_brackets_without_port);
	RUN(host_prefers_absolute_form_authority_and_drops_userinfo);
	RUN(host_is_null_without_host_or_authority);
	RUN(reset_forgets_the_request_and_keeps_memory_and_connection);
	RUN(reset_gives_back_a_large_body_buffer);
	RUN(version_str_names_each_version);
	RUN(trailer_of_a_request_without_trailers_is_null);
	return test_done();
}
