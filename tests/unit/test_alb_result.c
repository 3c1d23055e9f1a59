/*
 * alb_result: result documents → the response ALB sends or its 502 reason
 * (alb-lambda-targets.md §2, DESIGN.md §6), as a table; then the memory
 * rules (reuse, nothing pointing into the freed document) and the full
 * response head against the exchanges captured in §2.5.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alb/alb_result.h"
#include "test.h"

#define INVALID "LambdaInvalidResponse"

struct row {
	const char *name;
	bool multi;
	const char *doc;
	const char *error;      /* NULL: the result is valid */
	const char *detail;     /* the expected r->detail (errors only) */
	int status;
	const char *reason;     /* r->reason (NULL: empty) */
	const char *ctype;      /* r->content_type (NULL: empty) */
	const char *lines;      /* r->headers as "name: value\n" lines (NULL: none) */
	bool has_date;
	const char *body;       /* NULL: empty */
	size_t body_n;
};

#define OK(code) .status = (code)
#define BAD(why) .error = INVALID, .detail = (why)
#define BODY(lit) .body = (lit), .body_n = sizeof(lit) - 1

static const struct row rows[] = {
	/* statusCode (§2.2, §2.3) */
	{ "status_code_alone_is_200_with_empty_body", false, "{\"statusCode\":200}", OK(200) },
	{ "status_code_alone_multi_mode", true, "{\"statusCode\":204}", OK(204) },
	{ "status_code_599_is_the_last", false, "{\"statusCode\":599}", OK(599) },
	{ "status_code_1xx_is_not_a_final_answer", false, "{\"statusCode\":101}",
	  BAD("statusCode 101 is outside 200-599") },
	{ "status_code_missing", false, "{\"foo\":1}", BAD("statusCode is missing") },
	{ "status_code_string", false, "{\"statusCode\":\"200\"}", BAD("statusCode is a string") },
	{ "status_code_real", false, "{\"statusCode\":200.0}", BAD("statusCode is a real number") },
	{ "status_code_exponent_is_real", false, "{\"statusCode\":2e2}",
	  BAD("statusCode is a real number") },
	{ "status_code_null", false, "{\"statusCode\":null}", BAD("statusCode is null") },
	{ "status_code_99", false, "{\"statusCode\":99}", BAD("statusCode 99 is outside 200-599") },
	{ "status_code_600", false, "{\"statusCode\":600}", BAD("statusCode 600 is outside 200-599") },
	{ "status_code_negative", false, "{\"statusCode\":-200}",
	  BAD("statusCode -200 is outside 200-599") },
	{ "status_code_too_big_for_an_integer", false, "{\"statusCode\":99999999999999999999}",
	  BAD("result is not JSON: too big integer near '99999999999999999999'") },

	/* not an object (§2.3) */
	{ "invalid_json", false, "{\"statusCode\":200",
	  BAD("result is not JSON: '}' expected near end of file") },
	{ "trailing_garbage", false, "{\"statusCode\":200} x",
	  BAD("result is not JSON: end of file expected near 'x'") },
	{ "empty_document", false, "", BAD("result is not JSON: unexpected token near end of file") },
	{ "top_level_array", false, "[{\"statusCode\":200}]", BAD("result is an array, not an object") },
	{ "top_level_string", false, "\"hello\"", BAD("result is a string, not an object") },
	{ "top_level_number", false, "200", BAD("result is an integer, not an object") },
	{ "top_level_null", false, "null", BAD("result is null, not an object") },
	{ "invalid_utf8_in_document", false, "{\"statusCode\":200,\"body\":\"\xff\"}",
	  BAD("result is not JSON: unable to decode byte 0xff near '\"'") },

	/* present keys of the wrong type, null included (§2.3) */
	{ "body_null", false, "{\"statusCode\":200,\"body\":null}", BAD("body is null") },
	{ "body_object", false, "{\"statusCode\":200,\"body\":{}}", BAD("body is an object") },
	{ "headers_null_single", false, "{\"statusCode\":200,\"headers\":null}", BAD("headers is null") },
	{ "headers_null_multi_mode_still_checked", true,
	  "{\"statusCode\":200,\"headers\":null,\"multiValueHeaders\":{}}", BAD("headers is null") },
	{ "multi_value_headers_null_single_mode_still_checked", false,
	  "{\"statusCode\":200,\"headers\":{},\"multiValueHeaders\":null}",
	  BAD("multiValueHeaders is null") },
	{ "headers_array", false, "{\"statusCode\":200,\"headers\":[]}", BAD("headers is an array") },
	{ "status_description_null", false, "{\"statusCode\":200,\"statusDescription\":null}",
	  BAD("statusDescription is null") },
	{ "status_description_number", false, "{\"statusCode\":200,\"statusDescription\":200}",
	  BAD("statusDescription is an integer") },
	{ "is_base64_encoded_string", false,
	  "{\"statusCode\":200,\"body\":\"aGk=\",\"isBase64Encoded\":\"true\"}",
	  BAD("isBase64Encoded is a string") },
	{ "is_base64_encoded_null", false, "{\"statusCode\":200,\"isBase64Encoded\":null}",
	  BAD("isBase64Encoded is null") },

	/* header values (§2.3) */
	{ "number_header_value", false, "{\"statusCode\":200,\"headers\":{\"content-length\":123}}",
	  BAD("header \"content-length\" is an integer") },
	{ "boolean_header_value", false, "{\"statusCode\":200,\"headers\":{\"x-ok\":true}}",
	  BAD("header \"x-ok\" is a boolean") },
	{ "null_header_value", false, "{\"statusCode\":200,\"headers\":{\"x-a\":null}}",
	  BAD("header \"x-a\" is null") },
	{ "array_in_single_headers", false, "{\"statusCode\":200,\"headers\":{\"vary\":[\"a\"]}}",
	  BAD("header \"vary\" is an array") },
	{ "string_in_multi_headers", true, "{\"statusCode\":200,\"multiValueHeaders\":{\"vary\":\"a\"}}",
	  BAD("multiValueHeaders \"vary\" is a string") },
	{ "non_string_inside_multi_array", true,
	  "{\"statusCode\":200,\"multiValueHeaders\":{\"x-n\":[\"1\",2]}}",
	  BAD("multiValueHeaders \"x-n\" holds an integer") },
	{ "header_value_with_crlf", false,
	  "{\"statusCode\":200,\"headers\":{\"x-a\":\"1\\r\\nx-b: 2\"}}",
	  BAD("headers \"x-a\" has CR, LF or NUL in its value") },
	{ "header_value_with_nul", true,
	  "{\"statusCode\":200,\"multiValueHeaders\":{\"x-a\":[\"1\\u00002\"]}}",
	  BAD("multiValueHeaders \"x-a\" has CR, LF or NUL in its value") },
	{ "header_name_not_a_token", false, "{\"statusCode\":200,\"headers\":{\"x a\\n\":\"1\"}}",
	  BAD("headers name \"x?a?\" is not a token") },
	{ "header_name_empty", false, "{\"statusCode\":200,\"headers\":{\"\":\"1\"}}",
	  BAD("headers name \"\" is not a token") },

	/* base64 (§2.1, §2.3) */
	{ "base64_body_decoded", false,
	  "{\"statusCode\":200,\"body\":\"AAH/iVBORw==\",\"isBase64Encoded\":true}", OK(200),
	  BODY("\x00\x01\xff\x89PNG") },
	{ "base64_empty_body", false, "{\"statusCode\":200,\"body\":\"\",\"isBase64Encoded\":true}",
	  OK(200) },
	{ "base64_without_body", false, "{\"statusCode\":200,\"isBase64Encoded\":true}", OK(200) },
	{ "base64_invalid", false,
	  "{\"statusCode\":200,\"body\":\"not base64!\",\"isBase64Encoded\":true}",
	  BAD("body is not valid base64") },
	{ "base64_mime_style_crlf", false,
	  "{\"statusCode\":200,\"body\":\"aGVsbG8g\\r\\nd29ybGQ=\",\"isBase64Encoded\":true}",
	  BAD("body is not valid base64") },
	{ "base64_bad_padding", false, "{\"statusCode\":200,\"body\":\"aGk\",\"isBase64Encoded\":true}",
	  BAD("body is not valid base64") },
	{ "base64_flag_false_keeps_text", false,
	  "{\"statusCode\":200,\"body\":\"aGk=\",\"isBase64Encoded\":false}", OK(200), BODY("aGk=") },

	/* bodies */
	{ "unicode_body", false,
	  "{\"statusCode\":200,\"body\":\"lambda-\xce\xbb \\u20ac \\ud834\\udd1e\"}", OK(200),
	  BODY("lambda-\xce\xbb \xe2\x82\xac \xf0\x9d\x84\x9e") },
	{ "body_with_escaped_nul", false, "{\"statusCode\":200,\"body\":\"a\\u0000b\"}", OK(200),
	  BODY("a\0b") },

	/* headers of the mode (§2.4) */
	{ "two_set_cookie_multi", true,
	  "{\"statusCode\":200,\"multiValueHeaders\":{\"Set-Cookie\":[\"a=1\",\"b=2\"],\"Vary\":[]}}",
	  OK(200), .lines = "Set-Cookie: a=1\nSet-Cookie: b=2\n" },
	{ "case_variant_keys_single", false,
	  "{\"statusCode\":200,\"headers\":{\"set-cookie\":\"a=1\",\"Set-Cookie\":\"b=2\"}}",
	  OK(200), .lines = "set-cookie: a=1\nSet-Cookie: b=2\n" },
	{ "headers_ignored_in_multi_mode", true,
	  "{\"statusCode\":200,\"headers\":{\"x-single\":\"1\",\"x-num\":1},"
	  "\"multiValueHeaders\":{\"x-multi\":[\"2\"]}}",
	  OK(200), .lines = "x-multi: 2\n" },
	{ "multi_value_headers_ignored_in_single_mode", false,
	  "{\"statusCode\":200,\"headers\":{\"x-single\":\"1\"},"
	  "\"multiValueHeaders\":{\"x-multi\":[\"2\"],\"x-bad\":[3]}}",
	  OK(200), .lines = "x-single: 1\n" },
	{ "hop_by_hop_and_framing_dropped", false,
	  "{\"statusCode\":200,\"headers\":{\"Connection\":\"close\",\"x-a\":\"1\","
	  "\"Transfer-Encoding\":\"chunked\",\"Content-Length\":\"99\",\"keep-alive\":\"5\","
	  "\"Proxy-Connection\":\"x\",\"TE\":\"trailers\",\"Trailer\":\"x\",\"Upgrade\":\"h2c\","
	  "\"Server\":\"my-server\",\"x-b\":\"2\"},\"body\":\"hi\"}",
	  OK(200), .lines = "x-a: 1\nx-b: 2\n", BODY("hi") },
	{ "hop_by_hop_dropped_multi", true,
	  "{\"statusCode\":200,\"multiValueHeaders\":{\"connection\":[\"close\"],"
	  "\"content-length\":[\"1\",\"2\"],\"x-a\":[\"1\"]}}",
	  OK(200), .lines = "x-a: 1\n" },
	{ "date_kept_in_position", false,
	  "{\"statusCode\":200,\"headers\":{\"x-a\":\"1\",\"Date\":\"Wed, 30 Dec 2020 08:27:16 GMT\","
	  "\"x-b\":\"2\"}}",
	  OK(200), .lines = "x-a: 1\nDate: Wed, 30 Dec 2020 08:27:16 GMT\nx-b: 2\n", .has_date = true },
	{ "content_type_taken_out_first_wins", false,
	  "{\"statusCode\":200,\"headers\":{\"x-a\":\"1\",\"content-type\":\"text/html\","
	  "\"Content-Type\":\"text/plain\"},\"body\":\"<p>\"}",
	  OK(200), .ctype = "text/html", .lines = "x-a: 1\n", BODY("<p>") },
	{ "content_type_multi_first_value", true,
	  "{\"statusCode\":200,\"multiValueHeaders\":{\"Content-Type\":[\"application/json\",\"x/y\"]}}",
	  OK(200), .ctype = "application/json" },
	{ "empty_header_value_kept", false, "{\"statusCode\":200,\"headers\":{\"x-e\":\"\"}}",
	  OK(200), .lines = "x-e: \n" },

	/* statusDescription (§2.1, §2.2) */
	{ "status_description_sets_reason", false,
	  "{\"statusCode\":201,\"statusDescription\":\"201 Created\"}", OK(201), .reason = "Created" },
	{ "status_description_custom_phrase", false,
	  "{\"statusCode\":200,\"statusDescription\":\"200 Everything Fine\"}", OK(200),
	  .reason = "Everything Fine" },
	{ "status_description_without_space_is_the_phrase", false,
	  "{\"statusCode\":200,\"statusDescription\":\"Fine\"}", OK(200), .reason = "Fine" },
	{ "status_description_code_only_gives_standard_phrase", false,
	  "{\"statusCode\":404,\"statusDescription\":\"404 \"}", OK(404) },
	{ "status_description_with_crlf", false,
	  "{\"statusCode\":200,\"statusDescription\":\"200 OK\\r\\nX: 1\"}",
	  BAD("statusDescription has CR, LF or NUL") },

	/* unknown keys, duplicates (unverified: ignored; last wins) */
	{ "unknown_top_level_keys_ignored", false,
	  "{\"statusCode\":200,\"cookies\":[\"a=1\"],\"extra\":null}", OK(200) },
	{ "duplicate_key_last_wins", false, "{\"statusCode\":500,\"statusCode\":200}", OK(200) },

	/* the documented full shapes (§2.1) */
	{ "documented_single_shape", false,
	  "{\"isBase64Encoded\":false,\"statusCode\":200,\"statusDescription\":\"200 OK\","
	  "\"headers\":{\"Set-cookie\":\"cookies\",\"Content-Type\":\"application/json\"},"
	  "\"body\":\"Hello from Lambda (optional)\"}",
	  OK(200), .reason = "OK", .ctype = "application/json", .lines = "Set-cookie: cookies\n",
	  BODY("Hello from Lambda (optional)") },
	{ "documented_multi_shape", true,
	  "{\"statusCode\":200,\"multiValueHeaders\":{\"Set-cookie\":"
	  "[\"cookie-name=cookie-value;Domain=myweb.com;Secure;HttpOnly\","
	  "\"cookie-name=cookie-value;Expires=May 8, 2019\"],"
	  "\"Content-Type\":[\"application/json\"]}}",
	  OK(200), .ctype = "application/json",
	  .lines = "Set-cookie: cookie-name=cookie-value;Domain=myweb.com;Secure;HttpOnly\n"
		   "Set-cookie: cookie-name=cookie-value;Expires=May 8, 2019\n" },
};

static const struct row *row_now;

static void render_lines(const struct alb_result *r, struct buf *out)
{
	for (size_t i = 0; i < r->headers.n; i++)
		buf_printf(out, "%.*s: %.*s\n", SV_ARG(r->headers.v[i].name),
			   SV_ARG(r->headers.v[i].value));
}

/* Parses a private copy of the row's document, freed before anything is
 * checked: every view in r must be r's own memory. */
static void check_row(void)
{
	const struct row *w = row_now;
	struct alb_result r;
	struct buf lines = BUF_INIT;
	size_t n = strlen(w->doc);
	char *doc = xmalloc(n ? n : 1);
	int rc;

	memcpy(doc, w->doc, n);
	alb_result_init(&r);
	rc = alb_result_parse(&r, doc, n, w->multi);
	free(doc);
	if (w->error) {
		CHECK_INT(rc, -1);
		CHECK_STR(r.error_reason, w->error);
		CHECK_STR(r.detail, w->detail);
		CHECK_INT(r.status, 0);
		CHECK_INT(r.headers.n, 0);
		CHECK_INT(r.body.len, 0);
		goto out;
	}
	CHECK_INT(rc, 0);
	CHECK(r.error_reason == NULL);
	CHECK_INT(r.status, w->status);
	CHECK_MEM(r.reason.p, r.reason.n, w->reason ? w->reason : "");
	CHECK_MEM(r.content_type.p, r.content_type.n, w->ctype ? w->ctype : "");
	render_lines(&r, &lines);
	CHECK_MEM(buf_cstr(&lines), lines.len, w->lines ? w->lines : "");
	CHECK_INT(r.has_date, w->has_date);
	CHECK_INT(r.body.len, w->body_n);
	CHECK(w->body_n == 0 || memcmp(r.body.p, w->body, w->body_n) == 0);
out:
	buf_release(&lines);
	alb_result_release(&r);
}

/* ---- size limit (§2.3, DOC S-LF) ---- */

/* {"statusCode":200,"body":"xxx…"} of exactly n bytes. */
static char *doc_of_size(size_t n)
{
	static const char head[] = "{\"statusCode\":200,\"body\":\"";
	char *doc = xmalloc(n);

	memset(doc, 'x', n);
	memcpy(doc, head, sizeof(head) - 1);
	doc[n - 2] = '"';
	doc[n - 1] = '}';
	return doc;
}

TEST(result_of_exactly_1mb_is_accepted)
{
	struct alb_result r;
	char *doc = doc_of_size(ALB_RESULT_MAX);

	alb_result_init(&r);
	CHECK_INT(alb_result_parse(&r, doc, ALB_RESULT_MAX, false), 0);
	CHECK_INT(r.body.len, ALB_RESULT_MAX - 28);
	free(doc);
	alb_result_release(&r);
}

TEST(result_of_1mb_plus_one_byte_is_too_large)
{
	struct alb_result r;
	char *doc = doc_of_size(ALB_RESULT_MAX + 1);

	alb_result_init(&r);
	CHECK_INT(alb_result_parse(&r, doc, ALB_RESULT_MAX + 1, false), -1);
	CHECK_STR(r.error_reason, "LambdaResponseTooLarge");
	CHECK_STR(r.detail, "result is 1048577 bytes");
	free(doc);
	alb_result_release(&r);
}

/* ---- reuse ---- */

TEST(reused_struct_forgets_the_previous_result)
{
	static const char ok1[] = "{\"statusCode\":201,\"statusDescription\":\"201 Made\","
				  "\"headers\":{\"Date\":\"d\",\"x-a\":\"1\",\"content-type\":\"a/b\"},"
				  "\"body\":\"first body\"}";
	static const char bad[] = "{\"statusCode\":200,\"body\":null}";
	static const char ok2[] = "{\"statusCode\":200,\"headers\":{\"x-b\":\"2\"},\"body\":\"b\"}";
	struct alb_result r;
	struct buf lines = BUF_INIT;

	alb_result_init(&r);
	CHECK_INT(alb_result_parse(&r, ok1, sizeof(ok1) - 1, false), 0);
	CHECK_INT(r.has_date, 1);
	CHECK_INT(alb_result_parse(&r, bad, sizeof(bad) - 1, false), -1);
	CHECK_STR(r.error_reason, INVALID);
	CHECK_INT(alb_result_parse(&r, ok2, sizeof(ok2) - 1, false), 0);
	CHECK(r.error_reason == NULL);
	CHECK_STR(r.detail, "");
	CHECK_INT(r.status, 200);
	CHECK_INT(r.reason.n, 0);
	CHECK_INT(r.content_type.n, 0);
	CHECK_INT(r.has_date, 0);
	render_lines(&r, &lines);
	CHECK_MEM(lines.p, lines.len, "x-b: 2\n");
	CHECK_MEM(r.body.p, r.body.len, "b");
	buf_release(&lines);
	alb_result_release(&r);
}

/* Enough headers that mem and the header array grow (and move) mid-walk. */
TEST(many_headers_survive_mem_growth)
{
	struct buf doc = BUF_INIT, want = BUF_INIT, lines = BUF_INIT;
	struct alb_result r;

	buf_puts(&doc, "{\"statusCode\":200,\"multiValueHeaders\":{");
	for (int i = 0; i < 200; i++) {
		buf_printf(&doc, "%s\"x-h%d\":[\"value-%d-a\",\"value-%d-b\"]", i ? "," : "", i, i, i);
		buf_printf(&want, "x-h%d: value-%d-a\nx-h%d: value-%d-b\n", i, i, i, i);
	}
	buf_puts(&doc, "},\"statusDescription\":\"200 Fine\",\"headers\":{\"x\":1}}");
	alb_result_init(&r);
	CHECK_INT(alb_result_parse(&r, doc.p, doc.len, true), 0);
	buf_release(&doc);
	render_lines(&r, &lines);
	CHECK_MEM(lines.p, lines.len, want.p);
	CHECK_MEM(r.reason.p, r.reason.n, "Fine");
	alb_result_release(&r);
	buf_release(&lines);
	buf_release(&want);
}

/* ---- the response toward the client (§2.5) ---- */

static void head_of(const char *doc, bool multi, const char *date, struct buf *head,
		    struct alb_result *r)
{
	struct http_response resp;

	alb_result_init(r);
	CHECK_INT(alb_result_parse(r, doc, strlen(doc), multi), 0);
	alb_result_response(r, &resp);
	http_response_head(head, &resp, date, true, false);
}

/* aws-samples/cognito-device-grant-flow: the function returned lower-case
 * content-type and cache-control and no statusDescription. */
TEST(head_matches_captured_cognito_exchange)
{
	struct buf head = BUF_INIT;
	struct alb_result r;

	head_of("{\"statusCode\":400,\"headers\":{\"content-type\":\"application/json\","
		"\"cache-control\":\"no-store\"},\"body\":\"{\\\"error\\\":\\\"authorization_pending\\\"}\"}",
		false, "Tue, 06 Apr 2021 20:57:31 GMT", &head, &r);
	CHECK_MEM(head.p, head.len,
		  "HTTP/1.1 400 Bad Request\r\n"
		  "Server: awselb/2.0\r\n"
		  "Date: Tue, 06 Apr 2021 20:57:31 GMT\r\n"
		  "Content-Type: application/json\r\n"
		  "Content-Length: 33\r\n"
		  "Connection: keep-alive\r\n"
		  "cache-control: no-store\r\n"
		  "\r\n");
	CHECK_MEM(r.body.p, r.body.len, "{\"error\":\"authorization_pending\"}");
	buf_release(&head);
	alb_result_release(&r);
}

/* glassechidna/serverlessish#4: the function set Date itself, and ALB kept
 * it in the function's position instead of adding its own. */
TEST(head_matches_captured_serverlessish_exchange)
{
	struct buf doc = BUF_INIT, head = BUF_INIT;
	struct alb_result r;

	buf_puts(&doc, "{\"statusCode\":200,\"headers\":{\"Content-Type\":\"text/plain; charset=utf-8\","
		       "\"Some-Header-Set-Twice\":\"first\",\"Some-Header-Set-Once\":\"once\","
		       "\"Date\":\"Wed, 30 Dec 2020 08:27:16 GMT\"},\"body\":\"");
	for (int i = 0; i < 788; i++)
		buf_putc(&doc, (char)('a' + i % 26));
	buf_puts(&doc, "\"}");
	head_of(doc.p, false, "Thu, 01 Jan 1970 00:00:00 GMT", &head, &r);
	CHECK_MEM(head.p, head.len,
		  "HTTP/1.1 200 OK\r\n"
		  "Server: awselb/2.0\r\n"
		  "Content-Type: text/plain; charset=utf-8\r\n"
		  "Content-Length: 788\r\n"
		  "Connection: keep-alive\r\n"
		  "Some-Header-Set-Twice: first\r\n"
		  "Some-Header-Set-Once: once\r\n"
		  "Date: Wed, 30 Dec 2020 08:27:16 GMT\r\n"
		  "\r\n");
	buf_release(&doc);
	buf_release(&head);
	alb_result_release(&r);
}

TEST(response_defaults_content_type_only_for_a_body)
{
	struct buf head = BUF_INIT;
	struct alb_result r;

	head_of("{\"statusCode\":200,\"body\":\"x\",\"statusDescription\":\"200 Fine\"}", false,
		"Thu, 01 Jan 1970 00:00:00 GMT", &head, &r);
	CHECK_MEM(head.p, head.len,
		  "HTTP/1.1 200 Fine\r\nServer: awselb/2.0\r\nDate: Thu, 01 Jan 1970 00:00:00 GMT\r\n"
		  "Content-Type: application/octet-stream\r\nContent-Length: 1\r\n"
		  "Connection: keep-alive\r\n\r\n");
	alb_result_release(&r);
	buf_reset(&head);
	head_of("{\"statusCode\":200}", false, "Thu, 01 Jan 1970 00:00:00 GMT", &head, &r);
	CHECK_MEM(head.p, head.len,
		  "HTTP/1.1 200 OK\r\nServer: awselb/2.0\r\nDate: Thu, 01 Jan 1970 00:00:00 GMT\r\n"
		  "Content-Length: 0\r\nConnection: keep-alive\r\n\r\n");
	alb_result_release(&r);
	buf_release(&head);
}

TEST(response_views_are_the_results)
{
	struct alb_result r;
	struct http_response resp;
	static const char doc[] = "{\"statusCode\":302,\"headers\":{\"Location\":\"/x\",\"Date\":\"d\"},"
				  "\"body\":\"b\"}";

	alb_result_init(&r);
	CHECK_INT(alb_result_parse(&r, doc, sizeof(doc) - 1, false), 0);
	alb_result_response(&r, &resp);
	CHECK_INT(resp.status, 302);
	CHECK_INT(resp.reason.n, 0);
	CHECK(resp.headers == r.headers.v);
	CHECK_INT(resp.nheaders, 2);
	CHECK_MEM(resp.body.p, resp.body.n, "b");
	CHECK(resp.has_date);
	CHECK(!resp.close);
	alb_result_release(&r);
}

int main(void)
{
	for (size_t i = 0; i < ARRAY_LEN(rows); i++) {
		row_now = &rows[i];
		test_run(rows[i].name, check_row);
	}
	RUN(result_of_exactly_1mb_is_accepted);
	RUN(result_of_1mb_plus_one_byte_is_too_large);
	RUN(reused_struct_forgets_the_previous_result);
	RUN(many_headers_survive_mem_growth);
	RUN(head_matches_captured_cognito_exchange);
	RUN(head_matches_captured_serverlessish_exchange);
	RUN(response_defaults_content_type_only_for_a_body);
	RUN(response_views_are_the_results);
	return test_done();
}
