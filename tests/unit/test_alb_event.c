/*
 * alb_event: exact event bytes for each encoding rule of
 * alb-lambda-targets.md §1 and DESIGN.md §6. Expected JSON is written with
 * ' for " (q() swaps them back) so the cases stay readable.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alb/alb_event.h"
#include "test.h"

#define ARN "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/t/0123456789abcdef"
#define CTX "{'requestContext':{'elb':{'targetGroupArn':'" ARN "'}},"

/* s with every ' turned into " (a test string never needs a literal '). */
static char *q(const char *s)
{
	char *out = xstrdup(s);

	for (char *p = out; *p; p++)
		if (*p == '\'')
			*p = '"';
	return out;
}

/* A request with headers given as "Name", "value" pairs ending in NULL. */
static void make_req(struct http_request *req, const char *method, const char *target,
		     const char *const *hdrs, const char *body, size_t body_n)
{
	http_request_init(req);
	req->method = sv_from(method);
	http_request_set_target(req, sv_from(target));
	for (size_t i = 0; hdrs && hdrs[i]; i += 2)
		http_request_add_header(req, sv_from(hdrs[i]), sv_from(hdrs[i + 1]));
	if (body_n)
		buf_append(&req->body, body, body_n);
}

/* The event for req in a mode, compared byte for byte with want (quoted with '). */
#define CHECK_EVENT(req, multi, want)                                                   \
	do {                                                                            \
		struct buf out_ = BUF_INIT;                                            \
		struct alb_event_input in_ = { (req), (req)->headers, (req)->nheaders, \
					       ARN, (multi) };                         \
		char *want_ = q(want);                                                 \
		alb_event_write(&out_, &in_);                                          \
		CHECK_MEM(out_.p, out_.len, want_);                                    \
		free(want_);                                                           \
		buf_release(&out_);                                                    \
	} while (0)

/* json_write_string of n bytes, compared with want (quoted with '). */
#define CHECK_JSON_STR(s, n, want)                                                      \
	do {                                                                            \
		struct buf out_ = BUF_INIT;                                            \
		char *want_ = q(want);                                                 \
		json_write_string(&out_, (s), (n));                                    \
		CHECK_MEM(out_.p, out_.len, want_);                                    \
		free(want_);                                                           \
		buf_release(&out_);                                                    \
	} while (0)

#define CHECK_JSON_LIT(lit, want) CHECK_JSON_STR(lit, sizeof(lit) - 1, want)

#define LIT(s) s, sizeof(s) - 1

/* ---- shape and key order ---- */

TEST(single_get_without_query_in_documented_key_order)
{
	static const char *const h[] = { "Host", "a.example", "User-Agent", "curl/8.7.1", NULL };
	struct http_request req;

	make_req(&req, "GET", "/", h, NULL, 0);
	CHECK_EVENT(&req, false,
		    CTX "'httpMethod':'GET','path':'/','queryStringParameters':{},"
			"'headers':{'host':'a.example','user-agent':'curl/8.7.1'},"
			"'body':'','isBase64Encoded':false}");
	http_request_release(&req);
}

TEST(multi_mode_has_only_the_multi_value_maps)
{
	static const char *const h[] = { "Host", "a.example", NULL };
	struct http_request req;

	make_req(&req, "GET", "/todos?key=hello", h, NULL, 0);
	CHECK_EVENT(&req, true,
		    CTX "'httpMethod':'GET','path':'/todos',"
			"'multiValueQueryStringParameters':{'key':['hello']},"
			"'multiValueHeaders':{'host':['a.example']},"
			"'body':'','isBase64Encoded':false}");
	http_request_release(&req);
}

TEST(no_headers_give_an_empty_map)
{
	struct http_request req;

	make_req(&req, "DELETE", "/x", NULL, NULL, 0);
	CHECK_EVENT(&req, false,
		    CTX "'httpMethod':'DELETE','path':'/x','queryStringParameters':{},"
			"'headers':{},'body':'','isBase64Encoded':false}");
	CHECK_EVENT(&req, true,
		    CTX "'httpMethod':'DELETE','path':'/x','multiValueQueryStringParameters':{},"
			"'multiValueHeaders':{},'body':'','isBase64Encoded':false}");
	http_request_release(&req);
}

TEST(appends_after_what_the_buffer_holds)
{
	struct http_request req;
	struct buf out = BUF_INIT;
	struct alb_event_input in = { &req, NULL, 0, "a", false };

	make_req(&req, "GET", "/", NULL, NULL, 0);
	buf_puts(&out, "prefix:");
	alb_event_write(&out, &in);
	CHECK(strncmp(out.p, "prefix:{\"requestContext\"", 24) == 0);
	CHECK(out.p[out.len - 1] == '}');
	buf_release(&out);
	http_request_release(&req);
}

/* ---- headers ---- */

TEST(header_names_lower_cased_values_as_sent)
{
	static const char *const h[] = { "X-MiXed-Name", "VaLue  With  Spaces", "DNT", "1",
					  "X-Empty", "", NULL };
	struct http_request req;

	make_req(&req, "GET", "/", h, NULL, 0);
	CHECK_EVENT(&req, false,
		    CTX "'httpMethod':'GET','path':'/','queryStringParameters':{},"
			"'headers':{'x-mixed-name':'VaLue  With  Spaces','dnt':'1','x-empty':''},"
			"'body':'','isBase64Encoded':false}");
	http_request_release(&req);
}

TEST(single_repeated_header_last_value_wins_at_first_position)
{
	static const char *const h[] = { "Cookie", "name1=value1", "Accept", "*/*", "COOKIE",
					  "name2=value2", NULL };
	struct http_request req;

	make_req(&req, "GET", "/", h, NULL, 0);
	CHECK_EVENT(&req, false,
		    CTX "'httpMethod':'GET','path':'/','queryStringParameters':{},"
			"'headers':{'cookie':'name2=value2','accept':'*/*'},"
			"'body':'','isBase64Encoded':false}");
	http_request_release(&req);
}

TEST(multi_repeated_header_every_value_in_arrival_order)
{
	static const char *const h[] = { "X-Voker-Probe", "first", "Accept", "*/*",
					  "x-voker-probe", "second", "X-VOKER-PROBE", "third",
					  "Cookie", "session=abc123; theme=dark", NULL };
	struct http_request req;

	make_req(&req, "GET", "/", h, NULL, 0);
	CHECK_EVENT(&req, true,
		    CTX "'httpMethod':'GET','path':'/','multiValueQueryStringParameters':{},"
			"'multiValueHeaders':{'x-voker-probe':['first','second','third'],"
			"'accept':['*/*'],'cookie':['session=abc123; theme=dark']},"
			"'body':'','isBase64Encoded':false}");
	http_request_release(&req);
}

TEST(header_value_not_utf8_is_escaped_as_latin1)
{
	static const char *const h[] = { "X-Name", "caf\xe9 \xce\xbb", NULL };
	struct http_request req;

	make_req(&req, "GET", "/", h, NULL, 0);
	CHECK_EVENT(&req, false,
		    CTX "'httpMethod':'GET','path':'/','queryStringParameters':{},"
			"'headers':{'x-name':'caf\\u00e9 \xce\xbb'},"
			"'body':'','isBase64Encoded':false}");
	http_request_release(&req);
}

/* Whether alb_event_write finds the headers and a text body UTF-8 (ALB: else LambdaBadRequest). */
static bool event_is_utf8(const char *target, const char *const *hdrs, const char *body, bool multi)
{
	struct http_request req;
	struct buf out = BUF_INIT;
	bool ok;

	make_req(&req, "POST", target, hdrs, body, body ? strlen(body) : 0);
	ok = alb_event_write(&out, &(struct alb_event_input){ &req, req.headers, req.nheaders, ARN, multi });
	CHECK(out.len && out.p[out.len - 1] == '}');   /* the event is whole either way */
	buf_release(&out);
	http_request_release(&req);
	return ok;
}

TEST(bytes_not_utf8_in_headers_or_a_text_body_fail_the_event)
{
	static const char *const latin1[] = { "X-Name", "caf\xe9", NULL };
	static const char *const utf8[] = { "X-Name", "caf\xc3\xa9 \xce\xbb", NULL };
	static const char *const second[] = { "X-A", "\xff", "X-A", "ok", NULL };
	static const char *const text[] = { "Content-Type", "text/plain", NULL };
	static const char *const bin[] = { "Content-Type", "application/octet-stream", NULL };

	CHECK(!event_is_utf8("/", latin1, NULL, false));
	CHECK(!event_is_utf8("/", latin1, NULL, true));
	CHECK(event_is_utf8("/", utf8, NULL, false));
	CHECK(!event_is_utf8("/", second, NULL, true));
	CHECK(!event_is_utf8("/", second, NULL, false));       /* a value single mode does not show */
	CHECK(!event_is_utf8("/", text, "caf\xe9", false));
	CHECK(event_is_utf8("/", text, "caf\xc3\xa9", false));
	CHECK(event_is_utf8("/", bin, "\xff\xfe", false));    /* base64: any bytes */
	CHECK(event_is_utf8("/?q=\xff", NULL, NULL, false));  /* only headers and body are judged */
}

TEST(an_empty_header_value_without_a_pointer_is_utf8)
{
	/* Found by fuzz_alb_event under clang's UBSan (a zero offset applied to
	 * NULL); its input is in the fuzz corpus as empty-header-value. */
	struct http_request req;
	struct buf out = BUF_INIT;

	make_req(&req, "GET", "/", NULL, NULL, 0);
	http_request_add_header(&req, SV("X-Empty"), (struct sv){ NULL, 0 });
	CHECK(alb_event_write(&out, &(struct alb_event_input){ &req, req.headers, req.nheaders, ARN, false }));
	buf_release(&out);
	http_request_release(&req);
}

/* ---- query ---- */

TEST(query_is_not_decoded_and_plus_stays)
{
	struct http_request req;

	make_req(&req, "GET",
		 "/?encodedPlus=a%2Bb&literalPlus=a+b&redirect=https%3A%2F%2Fexample.com%2Fa&"
		 "k%20ey=v%20al",
		 NULL, NULL, 0);
	CHECK_EVENT(&req, false,
		    CTX "'httpMethod':'GET','path':'/','queryStringParameters':{"
			"'encodedPlus':'a%2Bb','literalPlus':'a+b',"
			"'redirect':'https%3A%2F%2Fexample.com%2Fa','k%20ey':'v%20al'},"
			"'headers':{},'body':'','isBase64Encoded':false}");
	http_request_release(&req);
}

TEST(query_repeated_key_last_wins_single_all_in_order_multi)
{
	struct http_request req;

	make_req(&req, "GET", "/?repeat=one&x=1&repeat=two&repeat=three", NULL, NULL, 0);
	CHECK_EVENT(&req, false,
		    CTX "'httpMethod':'GET','path':'/','queryStringParameters':{"
			"'repeat':'three','x':'1'},'headers':{},'body':'','isBase64Encoded':false}");
	CHECK_EVENT(&req, true,
		    CTX "'httpMethod':'GET','path':'/','multiValueQueryStringParameters':{"
			"'repeat':['one','two','three'],'x':['1']},'multiValueHeaders':{},"
			"'body':'','isBase64Encoded':false}");
	http_request_release(&req);
}

TEST(query_empty_value_flag_and_empty_pieces)
{
	struct http_request req;

	make_req(&req, "GET", "/p?empty=&&flag&a=1&", NULL, NULL, 0);
	CHECK_EVENT(&req, true,
		    CTX "'httpMethod':'GET','path':'/p','multiValueQueryStringParameters':{"
			"'empty':[''],'flag':[''],'a':['1']},'multiValueHeaders':{},"
			"'body':'','isBase64Encoded':false}");
	http_request_release(&req);
}

TEST(query_splits_at_first_equals_keeps_empty_key_and_case)
{
	struct http_request req;

	make_req(&req, "GET", "/?a=b=c&=v&Key=1&key=2", NULL, NULL, 0);
	CHECK_EVENT(&req, false,
		    CTX "'httpMethod':'GET','path':'/','queryStringParameters':{"
			"'a':'b=c','':'v','Key':'1','key':'2'},'headers':{},"
			"'body':'','isBase64Encoded':false}");
	http_request_release(&req);
}

TEST(query_question_mark_alone_or_only_ampersands_gives_empty_map)
{
	struct http_request req;

	make_req(&req, "GET", "/p?", NULL, NULL, 0);
	CHECK_EVENT(&req, false,
		    CTX "'httpMethod':'GET','path':'/p','queryStringParameters':{},"
			"'headers':{},'body':'','isBase64Encoded':false}");
	http_request_release(&req);
	make_req(&req, "GET", "/p?&&&", NULL, NULL, 0);
	CHECK_EVENT(&req, true,
		    CTX "'httpMethod':'GET','path':'/p','multiValueQueryStringParameters':{},"
			"'multiValueHeaders':{},'body':'','isBase64Encoded':false}");
	http_request_release(&req);
}

TEST(query_value_with_quote_and_backslash_is_escaped)
{
	struct http_request req;

	make_req(&req, "GET", "/?a=x\"y\\z", NULL, NULL, 0);
	CHECK_EVENT(&req, false,
		    CTX "'httpMethod':'GET','path':'/','queryStringParameters':{'a':'x\\'y\\\\z'},"
			"'headers':{},'body':'','isBase64Encoded':false}");
	http_request_release(&req);
}

/* ---- path ---- */

TEST(path_is_raw_never_decoded_or_normalized)
{
	struct http_request req;

	make_req(&req, "POST", "/capture/space%20value/%2F/../a//b?x=1", NULL, NULL, 0);
	CHECK_EVENT(&req, false,
		    CTX "'httpMethod':'POST','path':'/capture/space%20value/%2F/../a//b',"
			"'queryStringParameters':{'x':'1'},'headers':{},"
			"'body':'','isBase64Encoded':false}");
	http_request_release(&req);
}

/* ---- body ---- */

TEST(json_body_is_text_with_escapes)
{
	static const char *const h[] = { "Content-Type", "application/json", NULL };
	static const char body[] = "{\"unicode\":\"lambda-\xce\xbb\",\n\"tab\":\"\t\"}";
	struct http_request req;

	make_req(&req, "POST", "/", h, LIT(body));
	CHECK_EVENT(&req, false,
		    CTX "'httpMethod':'POST','path':'/','queryStringParameters':{},"
			"'headers':{'content-type':'application/json'},"
			"'body':'{\\'unicode\\':\\'lambda-\xce\xbb\\',\\n\\'tab\\':\\'\\t\\'}',"
			"'isBase64Encoded':false}");
	http_request_release(&req);
}

TEST(text_media_type_matched_before_parameters_case_insensitively)
{
	static const char *const h[] = { "Content-Type", " Text/HTML ; charset=utf-8", NULL };
	struct http_request req;

	make_req(&req, "POST", "/", h, LIT("<p>"));
	CHECK_EVENT(&req, false,
		    CTX "'httpMethod':'POST','path':'/','queryStringParameters':{},"
			"'headers':{'content-type':' Text/HTML ; charset=utf-8'},"
			"'body':'<p>','isBase64Encoded':false}");
	http_request_release(&req);
}

TEST(body_without_content_type_is_base64)
{
	static const char *const h[] = { "Content-Length", "3", NULL };
	struct http_request req;

	make_req(&req, "GET", "/", h, LIT("\x00\x01\xff"));
	CHECK_EVENT(&req, false,
		    CTX "'httpMethod':'GET','path':'/','queryStringParameters':{},"
			"'headers':{'content-length':'3'},'body':'AAH/','isBase64Encoded':true}");
	http_request_release(&req);
}

TEST(content_encoding_makes_even_text_base64)
{
	static const char *const h[] = { "Content-Type", "text/plain", "Content-Encoding", "",
					  NULL };
	struct http_request req;

	make_req(&req, "POST", "/", h, LIT("hi!"));
	CHECK_EVENT(&req, false,
		    CTX "'httpMethod':'POST','path':'/','queryStringParameters':{},"
			"'headers':{'content-type':'text/plain','content-encoding':''},"
			"'body':'aGkh','isBase64Encoded':true}");
	http_request_release(&req);
}

TEST(form_urlencoded_body_is_base64)
{
	static const char *const h[] = { "Content-Type", "application/x-www-form-urlencoded",
					  NULL };
	struct http_request req;

	make_req(&req, "POST", "/", h, LIT("a=1"));
	CHECK_EVENT(&req, true,
		    CTX "'httpMethod':'POST','path':'/','multiValueQueryStringParameters':{},"
			"'multiValueHeaders':{'content-type':['application/x-www-form-urlencoded']},"
			"'body':'YT0x','isBase64Encoded':true}");
	http_request_release(&req);
}

TEST(empty_body_is_empty_string_and_false_whatever_the_type)
{
	static const char *const h[] = { "Content-Type", "image/png", "Content-Encoding", "gzip",
					  NULL };
	struct http_request req;

	make_req(&req, "POST", "/", h, NULL, 0);
	CHECK_EVENT(&req, false,
		    CTX "'httpMethod':'POST','path':'/','queryStringParameters':{},"
			"'headers':{'content-type':'image/png','content-encoding':'gzip'},"
			"'body':'','isBase64Encoded':false}");
	http_request_release(&req);
}

TEST(last_content_type_decides_like_single_mode_shows)
{
	static const char *const h[] = { "Content-Type", "image/png", "content-type", "text/plain",
					  NULL };
	struct http_request req;

	make_req(&req, "POST", "/", h, LIT("x"));
	CHECK_EVENT(&req, false,
		    CTX "'httpMethod':'POST','path':'/','queryStringParameters':{},"
			"'headers':{'content-type':'text/plain'},'body':'x','isBase64Encoded':false}");
	http_request_release(&req);
}

TEST(body_is_text_rule)
{
	CHECK(alb_event_body_is_text(SV("text/plain"), false));
	CHECK(alb_event_body_is_text(SV("text/csv;charset=x"), false));
	CHECK(alb_event_body_is_text(SV("application/json"), false));
	CHECK(alb_event_body_is_text(SV("Application/JSON; charset=utf-8"), false));
	CHECK(alb_event_body_is_text(SV("application/javascript"), false));
	CHECK(alb_event_body_is_text(SV("application/xml"), false));
	CHECK(alb_event_body_is_text(SV("\ttext/html\t"), false));
	CHECK(!alb_event_body_is_text(SV("text/plain"), true));
	CHECK(!alb_event_body_is_text(SV_NULL, false));
	CHECK(!alb_event_body_is_text(SV(""), false));
	CHECK(!alb_event_body_is_text(SV("text/"), false));
	CHECK(!alb_event_body_is_text(SV("text"), false));
	CHECK(!alb_event_body_is_text(SV("application/vnd.api+json"), false));
	CHECK(!alb_event_body_is_text(SV("application/jsonx"), false));
	CHECK(!alb_event_body_is_text(SV("application/x-www-form-urlencoded"), false));
	CHECK(!alb_event_body_is_text(SV("multipart/form-data; boundary=x"), false));
	CHECK(!alb_event_body_is_text(SV("image/png"), false));
}

/* ---- JSON strings ---- */

TEST(json_string_rfc8259_escapes)
{
	CHECK_JSON_LIT(("a\"b\\c/d\x7f"), "'a\\'b\\\\c/d\x7f'");
	CHECK_JSON_LIT(("\b\f\n\r\t"), "'\\b\\f\\n\\r\\t'");
	CHECK_JSON_LIT(("\x00\x01\x1f x"), "'\\u0000\\u0001\\u001f x'");
	CHECK_JSON_STR(NULL, 0, "''");
}

TEST(json_string_every_control_byte)
{
	char in[32];
	struct buf want = BUF_INIT;

	for (int c = 0; c < 32; c++)
		in[c] = (char)c;
	buf_puts(&want, "'");
	for (int c = 0; c < 32; c++) {
		const char *short_esc = c == 8 ? "\\b" : c == 9 ? "\\t" : c == 10 ? "\\n"
				      : c == 12 ? "\\f" : c == 13 ? "\\r" : NULL;
		if (short_esc)
			buf_puts(&want, short_esc);
		else
			buf_printf(&want, "\\u%04x", c);
	}
	buf_puts(&want, "'");
	CHECK_JSON_STR(in, sizeof(in), want.p);
	buf_release(&want);
}

TEST(json_string_valid_utf8_passes_through)
{
	/* 2-, 3- and 4-byte forms, the edges U+0080, U+07FF, U+FFFF, U+10FFFF,
	 * and U+E000 right after the surrogates. */
	CHECK_JSON_LIT(("\xce\xbb \xe2\x82\xac \xf0\x9d\x84\x9e"),
		       "'\xce\xbb \xe2\x82\xac \xf0\x9d\x84\x9e'");
	CHECK_JSON_LIT(("\xc2\x80\xdf\xbf\xef\xbf\xbf\xf4\x8f\xbf\xbf\xee\x80\x80"),
		       "'\xc2\x80\xdf\xbf\xef\xbf\xbf\xf4\x8f\xbf\xbf\xee\x80\x80'");
}

TEST(json_string_bytes_not_utf8_become_latin1_escapes)
{
	CHECK_JSON_LIT(("caf\xe9"), "'caf\\u00e9'");
	CHECK_JSON_LIT(("\x80"), "'\\u0080'");                            /* lone continuation */
	CHECK_JSON_LIT(("\xc0\x80"), "'\\u00c0\\u0080'");                 /* overlong NUL */
	CHECK_JSON_LIT(("\xe0\x9f\xbf"), "'\\u00e0\\u009f\\u00bf'");       /* overlong 3-byte */
	CHECK_JSON_LIT(("\xed\xa0\x80"), "'\\u00ed\\u00a0\\u0080'");       /* surrogate */
	CHECK_JSON_LIT(("\xf4\x90\x80\x80"), "'\\u00f4\\u0090\\u0080\\u0080'"); /* > U+10FFFF */
	CHECK_JSON_LIT(("\xf5\xff"), "'\\u00f5\\u00ff'");
	CHECK_JSON_LIT(("a\xe2\x82"), "'a\\u00e2\\u0082'");               /* truncated at end */
	CHECK_JSON_LIT(("\xe2\x82z"), "'\\u00e2\\u0082z'");               /* broken midway */
}

TEST(json_string_output_is_valid_json_for_any_bytes)
{
	char in[256];
	struct buf out = BUF_INIT;
	json_error_t err;
	json_t *v;

	for (int c = 0; c < 256; c++)
		in[c] = (char)(255 - c);
	json_write_string(&out, in, sizeof(in));
	v = json_loadb(out.p, out.len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
	CHECK(json_is_string(v));
	json_decref(v);
	buf_release(&out);
}

/* ---- many keys (the hash index past its stack size) ---- */

static bool same_key(struct sv a, struct sv b, bool headers)
{
	return headers ? sv_eq_nocase(a, b) : sv_eq(a, b);
}

/* The same map, built the slow obvious way: for each first occurrence,
 * scan everything. */
static void naive_map(struct buf *out, const struct http_header *p, size_t n, bool headers,
		      bool multi)
{
	bool first = true;

	buf_putc(out, '{');
	for (size_t i = 0; i < n; i++) {
		bool seen = false;
		size_t last = i;

		for (size_t j = 0; j < i && !seen; j++)
			seen = same_key(p[j].name, p[i].name, headers);
		if (seen)
			continue;
		buf_printf(out, "%s\"", first ? "" : ",");
		for (size_t k = 0; k < p[i].name.n; k++)
			buf_putc(out, headers ? ascii_lower(p[i].name.p[k]) : p[i].name.p[k]);
		buf_puts(out, multi ? "\":[" : "\":");
		first = false;
		for (size_t j = i, nv = 0; j < n; j++) {
			if (!same_key(p[j].name, p[i].name, headers))
				continue;
			last = j;
			if (multi)
				buf_printf(out, "%s\"%.*s\"", nv++ ? "," : "", SV_ARG(p[j].value));
		}
		if (multi)
			buf_putc(out, ']');
		else
			buf_printf(out, "\"%.*s\"", SV_ARG(p[last].value));
	}
	buf_putc(out, '}');
}

TEST(hundreds_of_headers_and_query_pieces_group_like_the_naive_way)
{
	static const char *const names[] = { "Accept", "X-A", "x-b", "Cookie", "X-Long-Header-Name",
					     "x-a", "COOKIE", "Vary", "x-c", "X-D", "x-e" };
	struct http_request req;
	struct buf target = BUF_INIT, text = BUF_INIT, want = BUF_INIT, got = BUF_INIT;
	struct http_header *qp = xcalloc(300, sizeof(*qp));
	char (*vals)[8] = xcalloc(300, 8);

	for (int multi = 0; multi < 2; multi++) {
		struct alb_event_input in = { &req, NULL, 0, ARN, multi };
		size_t nq = 0;

		make_req(&req, "GET", "/", NULL, NULL, 0);
		buf_reset(&target);
		buf_puts(&target, "/?");
		for (size_t i = 0; i < 300; i++) {
			snprintf(vals[i], 8, "v%zu", i);
			http_request_add_header(&req, sv_from(names[i * 7 % ARRAY_LEN(names)]),
						sv_from(vals[i]));
			buf_printf(&target, "k%zu=%s&", i * 13 % 37, vals[i]);
		}
		/* The query pieces as the writer sees them (the views die with target,
		 * which stays put from here on). */
		http_request_set_target(&req, (struct sv){ target.p, target.len });
		for (size_t i = 0, start = 2; i < target.len; i++) {
			if (target.p[i] != '&')
				continue;
			struct sv piece = { target.p + start, i - start };
			qp[nq].value = sv_cut(piece, '=', &qp[nq].name);
			nq++;
			start = i + 1;
		}
		in.headers = req.headers;
		in.nheaders = req.nheaders;

		buf_reset(&want);
		buf_reset(&text);
		naive_map(&text, qp, nq, false, multi);
		buf_printf(&want, CTX "'httpMethod':'GET','path':'/','%s':%s,", multi ?
			   "multiValueQueryStringParameters" : "queryStringParameters", text.p);
		buf_reset(&text);
		naive_map(&text, req.headers, req.nheaders, true, multi);
		buf_printf(&want, "'%s':%s,'body':'','isBase64Encoded':false}",
			   multi ? "multiValueHeaders" : "headers", text.p);
		char *want_q = q(want.p);

		buf_reset(&got);
		alb_event_write(&got, &in);
		CHECK_MEM(got.p, got.len, want_q);
		free(want_q);
		http_request_release(&req);
	}
	free(qp);
	free(vals);
	buf_release(&target);
	buf_release(&text);
	buf_release(&want);
	buf_release(&got);
}

/* ---- health checks ---- */

TEST(health_check_single_mode_user_agent_only)
{
	struct buf out = BUF_INIT;
	char *want = q(CTX "'httpMethod':'GET','path':'/v1/health/','queryStringParameters':{},"
			   "'headers':{'user-agent':'ELB-HealthChecker/2.0'},"
			   "'body':'','isBase64Encoded':false}");

	alb_event_write_health_check(&out, "/v1/health/", ARN, false);
	CHECK_MEM(out.p, out.len, want);
	free(want);
	buf_release(&out);
}

TEST(health_check_multi_mode_user_agent_as_array)
{
	struct buf out = BUF_INIT;
	char *want = q(CTX "'httpMethod':'GET','path':'/','multiValueQueryStringParameters':{},"
			   "'multiValueHeaders':{'user-agent':['ELB-HealthChecker/2.0']},"
			   "'body':'','isBase64Encoded':false}");

	alb_event_write_health_check(&out, "/", ARN, true);
	CHECK_MEM(out.p, out.len, want);
	free(want);
	buf_release(&out);
}

TEST(health_check_path_query_fills_the_query_map)
{
	struct buf out = BUF_INIT;
	char *want = q(CTX "'httpMethod':'GET','path':'/health','queryStringParameters':"
			   "{'deep':'1','x':''},'headers':{'user-agent':'ELB-HealthChecker/2.0'},"
			   "'body':'','isBase64Encoded':false}");

	alb_event_write_health_check(&out, "/health?deep=1&x", ARN, false);
	CHECK_MEM(out.p, out.len, want);
	free(want);
	buf_release(&out);
}

int main(void)
{
	RUN(single_get_without_query_in_documented_key_order);
	RUN(multi_mode_has_only_the_multi_value_maps);
	RUN(no_headers_give_an_empty_map);
	RUN(appends_after_what_the_buffer_holds);
	RUN(header_names_lower_cased_values_as_sent);
	RUN(single_repeated_header_last_value_wins_at_first_position);
	RUN(multi_repeated_header_every_value_in_arrival_order);
	RUN(header_value_not_utf8_is_escaped_as_latin1);
	RUN(bytes_not_utf8_in_headers_or_a_text_body_fail_the_event);
	RUN(an_empty_header_value_without_a_pointer_is_utf8);
	RUN(query_is_not_decoded_and_plus_stays);
	RUN(query_repeated_key_last_wins_single_all_in_order_multi);
	RUN(query_empty_value_flag_and_empty_pieces);
	RUN(query_splits_at_first_equals_keeps_empty_key_and_case);
	RUN(query_question_mark_alone_or_only_ampersands_gives_empty_map);
	RUN(query_value_with_quote_and_backslash_is_escaped);
	RUN(path_is_raw_never_decoded_or_normalized);
	RUN(json_body_is_text_with_escapes);
	RUN(text_media_type_matched_before_parameters_case_insensitively);
	RUN(body_without_content_type_is_base64);
	RUN(content_encoding_makes_even_text_base64);
	RUN(form_urlencoded_body_is_base64);
	RUN(empty_body_is_empty_string_and_false_whatever_the_type);
	RUN(last_content_type_decides_like_single_mode_shows);
	RUN(body_is_text_rule);
	RUN(json_string_rfc8259_escapes);
	RUN(json_string_every_control_byte);
	RUN(json_string_valid_utf8_passes_through);
	RUN(json_string_bytes_not_utf8_become_latin1_escapes);
	RUN(json_string_output_is_valid_json_for_any_bytes);
	RUN(hundreds_of_headers_and_query_pieces_group_like_the_naive_way);
	RUN(health_check_single_mode_user_agent_only);
	RUN(health_check_multi_mode_user_agent_as_array);
	RUN(health_check_path_query_fills_the_query_map);
	return test_done();
}
