/*
 * test_desync: ALB's desync classification on hand-written raw heads, one
 * test per reason code, plus the mode table, real client heads that must
 * stay compliant, and the head tokenizer's exact views.
 */
#include <stdlib.h>

#include "base/buf.h"
#include "alb/desync.h"
#include "test.h"
#include "base/util.h"

static struct desync_verdict classify_raw(const char *head, size_t len)
{
	struct desync_header *hdrs = NULL;
	size_t cap = 0;
	struct desync_verdict v = desync_classify_head(head, len, &hdrs, &cap);

	free(hdrs);
	return v;
}

/* A head literal may hold NUL bytes: its length is the literal's size. */
#define CHECK_HEAD(lit, cls_, reason_)                                            \
	do {                                                                      \
		struct desync_verdict v_ = classify_raw(lit, sizeof(lit) - 1);    \
		CHECK_INT(v_.cls, cls_);                                          \
		CHECK_STR(v_.reason, reason_);                                    \
	} while (0)

/* One desync_split_head call's inputs and outputs. */
struct split {
	struct desync_request req;
	struct desync_header *hdrs;
	size_t cap;
	struct desync_verdict pv;
};

#define SPLIT_INIT { { SV_NULL, SV_NULL, SV_NULL, NULL, 0 }, NULL, 0, { DESYNC_COMPLIANT, NULL } }

static void split(struct split *s, const char *head, size_t len)
{
	desync_split_head(head, len, &s->req, &s->hdrs, &s->cap, &s->pv);
}

#define CHECK_COMPLIANT(lit)                                                      \
	do {                                                                      \
		struct desync_verdict v_ = classify_raw(lit, sizeof(lit) - 1);    \
		CHECK_INT(v_.cls, DESYNC_COMPLIANT);                              \
		CHECK(v_.reason == NULL);                                         \
	} while (0)

/* ---- Acceptable ---- */

TEST(trailing_space_in_custom_header_name_is_non_compliant_header)
{
	CHECK_HEAD("PUT /foo HTTP/1.1\r\nHost: a\r\nX-Custom : v\r\nContent-Length: 2\r\n\r\n",
		   DESYNC_ACCEPTABLE, "NonCompliantHeader");
	CHECK_HEAD("GET / HTTP/1.1\r\nX-Custom: a\x01z\r\n\r\n", DESYNC_ACCEPTABLE,
		   "NonCompliantHeader");
	CHECK_HEAD("GET / HTTP/1.1\r\nX-Cust\x7fom: a\r\n\r\n", DESYNC_ACCEPTABLE,
		   "NonCompliantHeader");
}

TEST(unescaped_space_in_uri_is_space_in_uri)
{
	CHECK_HEAD("GET /a?q=not escaped HTTP/1.1\r\nHost: a\r\n\r\n", DESYNC_ACCEPTABLE,
		   "SpaceInUri");
}

TEST(http_0_9_1_2_and_extra_spaces_are_non_compliant_version)
{
	CHECK_HEAD("GET /foo\r\n\r\n", DESYNC_ACCEPTABLE, "NonCompliantVersion");
	CHECK_HEAD("GET /foo HTTP/0.9\r\n\r\n", DESYNC_ACCEPTABLE, "NonCompliantVersion");
	CHECK_HEAD("GET /foo HTTP/1.2\r\nHost: a\r\n\r\n", DESYNC_ACCEPTABLE, "NonCompliantVersion");
	CHECK_HEAD("GET /foo HTTP/1.1 \r\nHost: a\r\n\r\n", DESYNC_ACCEPTABLE, "NonCompliantVersion");
	CHECK_HEAD("GET /foo  HTTP/1.1\r\nHost: a\r\n\r\n", DESYNC_ACCEPTABLE, "NonCompliantVersion");
}

TEST(get_or_head_with_zero_content_length_is_acceptable)
{
	CHECK_HEAD("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n", DESYNC_ACCEPTABLE,
		   "GetHeadZeroContentLength");
	CHECK_HEAD("HEAD / HTTP/1.1\r\nHost: a\r\nContent-Length: 000\r\n\r\n", DESYNC_ACCEPTABLE,
		   "GetHeadZeroContentLength");
}

TEST(bare_lf_line_ends_are_non_crlf_line_termination)
{
	CHECK_HEAD("GET / HTTP/1.1\nHost: a\n\n", DESYNC_ACCEPTABLE, "NonCrLfLineTermination");
	CHECK_HEAD("GET / HTTP/1.1\r\nHost: a\r\n\n", DESYNC_ACCEPTABLE, "NonCrLfLineTermination");
}

/* ---- Ambiguous ---- */

TEST(empty_or_blank_header_name_and_blank_line_are_empty_header)
{
	CHECK_HEAD("POST / HTTP/1.1\r\n: chunked\r\nContent-Length: 1\r\n\r\n", DESYNC_AMBIGUOUS,
		   "EmptyHeader");
	CHECK_HEAD("POST / HTTP/1.1\r\n \t : x\r\nHost: a\r\n\r\n", DESYNC_AMBIGUOUS, "EmptyHeader");
	CHECK_HEAD("POST / HTTP/1.1\r\nHost: a\r\n  \r\nX: y\r\n\r\n", DESYNC_AMBIGUOUS,
		   "EmptyHeader");
}

TEST(control_character_in_uri_is_ambiguous_uri)
{
	CHECK_HEAD("GET /a\tHTTP/1.1 HTTP/1.1\r\nHost: a\r\n\r\n", DESYNC_AMBIGUOUS, "AmbiguousUri");
	CHECK_HEAD("GET /a\x7f HTTP/1.1\r\nHost: a\r\n\r\n", DESYNC_AMBIGUOUS, "AmbiguousUri");
}

TEST(get_or_head_with_nonzero_content_length_is_undefined_semantics)
{
	CHECK_HEAD("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n", DESYNC_AMBIGUOUS,
		   "UndefinedContentLengthSemantics");
	CHECK_HEAD("POST / HTTP/0.9\r\nContent-Length: 0\r\n\r\n", DESYNC_AMBIGUOUS,
		   "UndefinedContentLengthSemantics");
}

TEST(transfer_encoding_on_get_head_or_http_1_0_is_undefined_semantics)
{
	CHECK_HEAD("HEAD / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n",
		   DESYNC_AMBIGUOUS, "UndefinedTransferEncodingSemantics");
	CHECK_HEAD("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", DESYNC_AMBIGUOUS,
		   "UndefinedTransferEncodingSemantics");
	CHECK_HEAD("POST /\r\nTransfer-Encoding: chunked\r\n\r\n", DESYNC_AMBIGUOUS,
		   "UndefinedTransferEncodingSemantics");
}

TEST(two_equal_content_lengths_are_duplicate_content_length)
{
	CHECK_HEAD("PUT / HTTP/1.1\r\nContent-Length: 10\r\ncontent-length: 010\r\n\r\n",
		   DESYNC_AMBIGUOUS, "DuplicateContentLength");
}

TEST(transfer_encoding_with_content_length_is_both_te_cl_present)
{
	CHECK_HEAD("POST / HTTP/1.1\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n",
		   DESYNC_AMBIGUOUS, "BothTeClPresent");
	CHECK_HEAD("POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\nContent-Length: 4\r\n\r\n",
		   DESYNC_AMBIGUOUS, "BothTeClPresent");
}

TEST(names_that_normalize_to_framing_headers_are_suspicious)
{
	CHECK_HEAD("POST / HTTP/1.1\r\nTransfer-Encoding : chunked\r\n\r\n", DESYNC_AMBIGUOUS,
		   "SuspiciousHeader");
	CHECK_HEAD("POST / HTTP/1.1\r\nContent_Length: 5\r\n\r\n", DESYNC_AMBIGUOUS,
		   "SuspiciousHeader");
	CHECK_HEAD("POST / HTTP/1.1\r\nTransfer--encoding\b: chunked\r\n\r\n", DESYNC_AMBIGUOUS,
		   "SuspiciousHeader");
	/* U+0131 dotless i, U+017F long s, U+00A0 as a lone byte. */
	CHECK_HEAD("POST / HTTP/1.1\r\nTransfer-Encod\xc4\xb1ng: chunked\r\n\r\n", DESYNC_AMBIGUOUS,
		   "SuspiciousHeader");
	CHECK_HEAD("POST / HTTP/1.1\r\nTran\xc5\xbf" "fer-Encoding: chunked\r\n\r\n",
		   DESYNC_AMBIGUOUS, "SuspiciousHeader");
	CHECK_HEAD("POST / HTTP/1.1\r\n\xa0" "Content-Length: 5\r\n\r\n", DESYNC_AMBIGUOUS,
		   "SuspiciousHeader");
}

TEST(similar_but_different_names_are_not_suspicious)
{
	CHECK_COMPLIANT("POST / HTTP/1.1\r\nX-Content-Length: 5\r\nContent-Lengths: 1\r\n"
			"Transfer-Encoding2: x\r\nContent-Length: 5\r\n\r\n");
}

TEST(folded_line_is_multiline_header)
{
	CHECK_HEAD("GET / HTTP/1.1\r\nX-Long: a,\r\n b\r\n\r\n", DESYNC_AMBIGUOUS, "MultilineHeader");
	CHECK_HEAD("GET / HTTP/1.1\r\nX-Long: a,\r\n\tb\r\n\r\n", DESYNC_AMBIGUOUS, "MultilineHeader");
}

TEST(folded_content_type_is_tolerated)
{
	CHECK_COMPLIANT("POST / HTTP/1.1\r\nContent-Type: multipart/form-data;\r\n boundary=x\r\n"
			"Content-Length: 5\r\n\r\n");
}

TEST(folded_line_with_a_colon_is_also_judged_as_a_header)
{
	/* A back end without folding sees a second Transfer-Encoding. */
	CHECK_HEAD("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nX-A: b\r\n"
		   " Transfer-Encoding: chunked\r\n\r\n",
		   DESYNC_SEVERE, "MultipleTransferEncodingChunked");
	CHECK_HEAD("POST / HTTP/1.1\r\nContent-Type: text/plain\r\n Transfer-Encoding: chunked\r\n"
		   "\r\n",
		   DESYNC_AMBIGUOUS, "SuspiciousHeader");
}

TEST(header_line_without_colon_is_missing_header_colon)
{
	CHECK_HEAD("GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding chunked\r\n\r\n",
		   DESYNC_AMBIGUOUS, "MissingHeaderColon");
}

TEST(request_line_without_uri_is_missing_uri)
{
	CHECK_HEAD("GET\r\nHost: a\r\n\r\n", DESYNC_AMBIGUOUS, "MissingUri");
	CHECK_HEAD("GET  HTTP/1.1\r\nHost: a\r\n\r\n", DESYNC_AMBIGUOUS, "MissingUri");
}

/* ---- Severe ---- */

TEST(nul_cr_or_lf_inside_a_header_is_bad_header)
{
	CHECK_HEAD("GET / HTTP/1.1\r\nX-A: a\0b\r\n\r\n", DESYNC_SEVERE, "BadHeader");
	CHECK_HEAD("GET / HTTP/1.1\r\nX-A: a\rTransfer-Encoding: chunked\r\n\r\n", DESYNC_SEVERE,
		   "BadHeader");
	CHECK_HEAD("GET / HTTP/1.1\r\n\rContent-Length: 5\r\n\r\n", DESYNC_SEVERE, "BadHeader");
	CHECK_HEAD("POST / HTTP/1.1\r\nContent-Length: 5\0\r\n\r\n", DESYNC_SEVERE, "BadHeader");
}

TEST(nul_or_cr_in_uri_is_bad_uri)
{
	CHECK_HEAD("GET /a\0b HTTP/1.1\r\nHost: a\r\n\r\n", DESYNC_SEVERE, "BadUri");
	CHECK_HEAD("GET /a\rGET /b HTTP/1.1\r\nHost: a\r\n\r\n", DESYNC_SEVERE, "BadUri");
}

TEST(malformed_version_is_bad_version)
{
	CHECK_HEAD("GET / HTTX/1.1\r\nHost: a\r\n\r\n", DESYNC_SEVERE, "BadVersion");
	CHECK_HEAD("GET / HTTP/2.0\r\nHost: a\r\n\r\n", DESYNC_SEVERE, "BadVersion");
	CHECK_HEAD("GET / http/1.1\r\nHost: a\r\n\r\n", DESYNC_SEVERE, "BadVersion");
	CHECK_HEAD("GET / HTTP/1.10\r\nHost: a\r\n\r\n", DESYNC_SEVERE, "BadVersion");
}

TEST(different_content_lengths_are_multiple_content_length)
{
	CHECK_HEAD("POST / HTTP/1.1\r\nContent-Length: 1000\r\nContent-Length: 100\r\n\r\n",
		   DESYNC_SEVERE, "MultipleContentLength");
	CHECK_HEAD("POST / HTTP/1.1\r\nContent-Length : 100\r\nContent-Length: 1000\r\n\r\n",
		   DESYNC_SEVERE, "MultipleContentLength");
}

TEST(content_length_that_is_not_one_decimal_is_bad_content_length)
{
	CHECK_HEAD("POST / HTTP/1.1\r\nContent-Length: 10,10\r\n\r\n", DESYNC_SEVERE,
		   "BadContentLength");
	CHECK_HEAD("POST / HTTP/1.1\r\nContent-Length: 10 10\r\n\r\n", DESYNC_SEVERE,
		   "BadContentLength");
	CHECK_HEAD("POST / HTTP/1.1\r\nContent-Length: +10\r\n\r\n", DESYNC_SEVERE,
		   "BadContentLength");
	CHECK_HEAD("POST / HTTP/1.1\r\nContent-Length:\r\n\r\n", DESYNC_SEVERE, "BadContentLength");
	CHECK_HEAD("POST / HTTP/1.1\r\nContent-Length: 18446744073709551616\r\n\r\n", DESYNC_SEVERE,
		   "BadContentLength");
	CHECK_COMPLIANT("POST / HTTP/1.1\r\nContent-Length: 18446744073709551615\r\n\r\n");
}

TEST(chunked_applied_twice_is_multiple_transfer_encoding_chunked)
{
	CHECK_HEAD("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n"
		   "\r\n",
		   DESYNC_SEVERE, "MultipleTransferEncodingChunked");
	CHECK_HEAD("POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip, Chunked\r\n\r\n",
		   DESYNC_SEVERE, "MultipleTransferEncodingChunked");
}

TEST(unknown_or_unclean_transfer_coding_is_bad_transfer_encoding)
{
	CHECK_HEAD("POST / HTTP/1.1\r\nTransfer-Encoding: xchunked\r\n\r\n", DESYNC_SEVERE,
		   "BadTransferEncoding");
	CHECK_HEAD("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\x80\r\n\r\n", DESYNC_SEVERE,
		   "BadTransferEncoding");
	CHECK_HEAD("POST / HTTP/1.1\r\nTransfer-Encoding: \x0b" "chunked\r\n\r\n", DESYNC_SEVERE,
		   "BadTransferEncoding");
	CHECK_HEAD("POST / HTTP/1.1\r\nTransfer-Encoding: ,\r\n\r\n", DESYNC_SEVERE,
		   "BadTransferEncoding");
	CHECK_HEAD("POST / HTTP/1.1\r\nTransfer-Encoding: ;a=b\r\n\r\n", DESYNC_SEVERE,
		   "BadTransferEncoding");
}

TEST(known_transfer_codings_lists_and_parameters_are_compliant)
{
	/* lb answers 501 for these elsewhere; HDG's corpus calls them Compliant. */
	CHECK_COMPLIANT("POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n");
	CHECK_COMPLIANT("POST / HTTP/1.1\r\nTransfer-Encoding: deflate , identity,,\tChunked\r\n\r\n");
	CHECK_COMPLIANT("POST / HTTP/1.1\r\nTransfer-Encoding: x-gzip\r\n"
			"Transfer-Encoding: chunked;ext=1\r\n\r\n");
}

TEST(malformed_method_is_bad_method)
{
	CHECK_HEAD("GE(T / HTTP/1.1\r\nHost: a\r\n\r\n", DESYNC_SEVERE, "BadMethod");
	CHECK_HEAD("GET\t/\tHTTP/1.1\r\nHost: a\r\n\r\n", DESYNC_SEVERE, "BadMethod");
	CHECK_HEAD(" GET / HTTP/1.1\r\nHost: a\r\n\r\n", DESYNC_SEVERE, "BadMethod");
	CHECK_HEAD("", DESYNC_SEVERE, "BadMethod");
}

/* ---- which finding is reported ---- */

TEST(most_severe_finding_wins_whatever_its_position)
{
	CHECK_HEAD("POST / HTTP/1.1\r\nX-A : 1\r\nContent-Length: 1\x11\r\n\r\n", DESYNC_SEVERE,
		   "BadContentLength");
	CHECK_HEAD("GET /a b HTTP/1.1\nTransfer-Encoding: chunked\r\n\r\n", DESYNC_AMBIGUOUS,
		   "UndefinedTransferEncodingSemantics");
}

TEST(framing_finding_outranks_other_findings_of_its_class)
{
	CHECK_HEAD("GET /a\tb HTTP/1.1\r\nX-A: b\r\nContent-Length: 9000\r\n\r\n", DESYNC_AMBIGUOUS,
		   "UndefinedContentLengthSemantics");
	CHECK_HEAD("POST / HTTP/1.1\r\nX-A: b\r\nX-A: c\r\n d\r\nContent-Length: 5\r\n"
		   "Content-Length: 5\r\n\r\n",
		   DESYNC_AMBIGUOUS, "DuplicateContentLength");
	CHECK_HEAD("GE(T / HTTP/1.1\r\nContent-Length: x\r\n\r\n", DESYNC_SEVERE, "BadContentLength");
}

TEST(first_finding_wins_among_framing_findings_of_one_class)
{
	CHECK_HEAD("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\x80\r\nContent-Length: $9\r\n\r\n",
		   DESYNC_SEVERE, "BadTransferEncoding");
	CHECK_HEAD("POST / HTTP/1.1\r\nContent-Length: $9\r\nTransfer-Encoding: chunked\x80\r\n\r\n",
		   DESYNC_SEVERE, "BadContentLength");
	CHECK_HEAD("POST / HTTP/1.1\r\nTransfer-Encoding\t: chunked\r\nContent-Length: 5\r\n\r\n",
		   DESYNC_AMBIGUOUS, "SuspiciousHeader");
}

TEST(broken_header_does_not_also_count_as_framing)
{
	CHECK_HEAD("POST / HTTP/1.1\r\n\rContent-Length: 1000\r\nContent-Length: 100\r\n\r\n",
		   DESYNC_SEVERE, "BadHeader");
}

/* ---- real clients stay compliant ---- */

TEST(curl_heads_are_compliant)
{
	CHECK_COMPLIANT("GET /api/items?id=1&x=%20y HTTP/1.1\r\nHost: localhost:8080\r\n"
			"User-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n");
	CHECK_COMPLIANT("POST /api HTTP/1.1\r\nHost: localhost:8080\r\nUser-Agent: curl/7.88.1\r\n"
			"Accept: */*\r\nContent-Type: application/json\r\nContent-Length: 13\r\n\r\n");
	CHECK_COMPLIANT("PUT /upload HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n"
			"Expect: 100-continue\r\n\r\n");
}

TEST(browser_heads_are_compliant)
{
	CHECK_COMPLIANT(
		"GET /shop/caf\xc3\xa9?q=a|b HTTP/1.1\r\n"
		"Host: app.example.com\r\n"
		"Connection: keep-alive\r\n"
		"sec-ch-ua: \"Chromium\";v=\"124\", \"Not-A.Brand\";v=\"99\"\r\n"
		"sec-ch-ua-mobile: ?0\r\n"
		"Upgrade-Insecure-Requests: 1\r\n"
		"User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko)\r\n"
		"Accept: text/html,application/xhtml+xml,*/*;q=0.8\r\n"
		"Accept-Encoding: gzip, deflate, br\r\n"
		"Accept-Language: en-US,en;q=0.9\r\n"
		"Cookie: a=1; b=\"x y\"; c=\xe2\x9c\x93\r\n"
		"X_Legacy_Header:\t\tvalue\t\r\n"
		"\r\n");
}

TEST(absolute_form_and_asterisk_targets_are_compliant)
{
	CHECK_COMPLIANT("GET http://example.com:8080/a?b=c HTTP/1.1\r\nHost: example.com\r\n\r\n");
	CHECK_COMPLIANT("OPTIONS * HTTP/1.1\r\nHost: example.com\r\n\r\n");
	CHECK_COMPLIANT("GET / HTTP/1.0\r\n\r\n");
}

TEST(compliant_head_with_a_64k_header_value_stays_compliant)
{
	struct buf head = BUF_INIT;
	struct desync_verdict v;

	buf_puts(&head, "GET / HTTP/1.1\r\nHost: a\r\nX-Big: ");
	for (int i = 0; i < 4096; i++)
		buf_puts(&head, "0123456789abcde=");
	buf_puts(&head, "\r\n\r\n");
	v = classify_raw(head.p, head.len);
	CHECK_INT(v.cls, DESYNC_COMPLIANT);
	buf_release(&head);
}

TEST(control_byte_anywhere_in_a_long_value_is_found)
{
	static const struct {
		char byte;
		enum desync_class cls;
	} cases[] = {
		{ '\x01', DESYNC_ACCEPTABLE }, { '\x1f', DESYNC_ACCEPTABLE },
		{ '\x7f', DESYNC_ACCEPTABLE }, { '\0', DESYNC_SEVERE },
		{ '\r', DESYNC_SEVERE },       { '\t', DESYNC_COMPLIANT },
		{ '\x80', DESYNC_COMPLIANT },  { '\xff', DESYNC_COMPLIANT },
		{ ' ', DESYNC_COMPLIANT },
	};
	char value[40];
	struct desync_header h = { SV("X-A"), { value, sizeof(value) } };
	struct desync_request req = { SV("GET"), SV("/"), SV("HTTP/1.1"), &h, 1 };

	for (size_t c = 0; c < ARRAY_LEN(cases); c++) {
		for (size_t at = 1; at + 1 < sizeof(value); at++) {
			memset(value, 'v', sizeof(value));
			value[at] = cases[c].byte;
			CHECK_INT(desync_classify(&req).cls, cases[c].cls);
		}
	}
}

TEST(classify_accepts_a_request_without_headers)
{
	struct desync_request req = { SV("GET"), SV("/"), SV("HTTP/1.1"), NULL, 0 };
	struct desync_verdict v = desync_classify(&req);

	CHECK_INT(v.cls, DESYNC_COMPLIANT);
	CHECK(v.reason == NULL);
}

/* ---- the tokenizer ---- */

TEST(split_head_views_point_into_the_head_with_names_exact_and_values_trimmed)
{
	static const char head[] = "\r\nPOST /a b?c HTTP/1.1\r\nHost:x\r\nX-Pad \t:  v 1 \t\r\n"
				   "\r\nBody: not a header\r\n";
	struct split s = SPLIT_INIT;

	split(&s, head, sizeof(head) - 1);
	CHECK_MEM(s.req.method.p, s.req.method.n, "POST");
	CHECK(s.req.method.p == head + 2);
	CHECK_MEM(s.req.uri.p, s.req.uri.n, "/a b?c");
	CHECK_MEM(s.req.version.p, s.req.version.n, "HTTP/1.1");
	CHECK_INT(s.req.nheaders, 2);
	CHECK(s.req.headers == s.hdrs);
	CHECK_MEM(s.hdrs[0].name.p, s.hdrs[0].name.n, "Host");
	CHECK_MEM(s.hdrs[0].value.p, s.hdrs[0].value.n, "x");
	CHECK_MEM(s.hdrs[1].name.p, s.hdrs[1].name.n, "X-Pad \t");
	CHECK_MEM(s.hdrs[1].value.p, s.hdrs[1].value.n, "v 1");
	CHECK(s.hdrs[1].value.p == strstr(head, "v 1"));
	CHECK_INT(s.pv.cls, DESYNC_COMPLIANT);
	free(s.hdrs);
}

TEST(split_head_reads_two_part_request_line_as_http_0_9)
{
	static const char head[] = "GET /index.html\r\n";
	struct split s = SPLIT_INIT;

	split(&s, head, sizeof(head) - 1);
	CHECK_MEM(s.req.method.p, s.req.method.n, "GET");
	CHECK_MEM(s.req.uri.p, s.req.uri.n, "/index.html");
	CHECK_INT(s.req.version.n, 0);
	CHECK_INT(s.req.nheaders, 0);
	free(s.hdrs);
}

TEST(split_head_puts_extra_spaces_in_the_version)
{
	static const char head[] = "GET /a  HTTP/1.1 \r\n\r\n";
	struct split s = SPLIT_INIT;

	split(&s, head, sizeof(head) - 1);
	CHECK_MEM(s.req.uri.p, s.req.uri.n, "/a");
	CHECK_MEM(s.req.version.p, s.req.version.n, " HTTP/1.1 ");
	free(s.hdrs);
}

TEST(split_head_grows_and_reuses_the_header_array)
{
	static const char small[] = "GET / HTTP/1.1\r\nA: b\r\n\r\n";
	struct buf head = BUF_INIT;
	struct split s = SPLIT_INIT;

	buf_puts(&head, "GET / HTTP/1.1\r\n");
	for (int i = 0; i < 100; i++)
		buf_printf(&head, "X-H%d: %d\r\n", i, i);
	buf_puts(&head, "\r\n");
	split(&s, head.p, head.len);
	CHECK_INT(s.req.nheaders, 100);
	CHECK(s.cap >= 100);
	CHECK_MEM(s.hdrs[99].name.p, s.hdrs[99].name.n, "X-H99");
	CHECK_MEM(s.hdrs[99].value.p, s.hdrs[99].value.n, "99");
	split(&s, small, sizeof(small) - 1);
	CHECK_INT(s.req.nheaders, 1);
	CHECK(s.cap >= 100);
	CHECK_MEM(s.hdrs[0].name.p, s.hdrs[0].name.n, "A");
	free(s.hdrs);
	buf_release(&head);
}

TEST(split_head_merges_into_the_callers_verdict)
{
	static const char head[] = "GET / HTTP/1.1\nHost: a\n\n";
	struct split s = SPLIT_INIT;

	s.pv = (struct desync_verdict){ DESYNC_AMBIGUOUS, "MissingUri" };
	split(&s, head, sizeof(head) - 1);
	CHECK_INT(s.pv.cls, DESYNC_AMBIGUOUS);
	CHECK_STR(s.pv.reason, "MissingUri");
	s.pv = (struct desync_verdict){ DESYNC_COMPLIANT, NULL };
	split(&s, head, sizeof(head) - 1);
	CHECK_INT(s.pv.cls, DESYNC_ACCEPTABLE);
	CHECK_STR(s.pv.reason, "NonCrLfLineTermination");
	free(s.hdrs);
}

/* ---- modes ---- */

TEST(mode_table_matches_alb)
{
	static const struct {
		enum desync_mode mode;
		enum desync_action want[4];   /* by class */
	} table[] = {
		{ DESYNC_MODE_MONITOR, { DESYNC_ALLOW, DESYNC_ALLOW, DESYNC_ALLOW, DESYNC_ALLOW } },
		{ DESYNC_MODE_DEFENSIVE,
		  { DESYNC_ALLOW, DESYNC_ALLOW, DESYNC_ALLOW_CLOSE, DESYNC_BLOCK } },
		{ DESYNC_MODE_STRICTEST,
		  { DESYNC_ALLOW, DESYNC_BLOCK, DESYNC_BLOCK, DESYNC_BLOCK } },
	};
	static const enum desync_class classes[4] = {
		DESYNC_COMPLIANT, DESYNC_ACCEPTABLE, DESYNC_AMBIGUOUS, DESYNC_SEVERE,
	};

	for (size_t m = 0; m < ARRAY_LEN(table); m++)
		for (size_t c = 0; c < 4; c++)
			CHECK_INT(desync_decide(table[m].mode, classes[c]), table[m].want[c]);
}

TEST(class_names_are_albs_and_compliant_has_none)
{
	CHECK(desync_class_name(DESYNC_COMPLIANT) == NULL);
	CHECK_STR(desync_class_name(DESYNC_ACCEPTABLE), "Acceptable");
	CHECK_STR(desync_class_name(DESYNC_AMBIGUOUS), "Ambiguous");
	CHECK_STR(desync_class_name(DESYNC_SEVERE), "Severe");
}

int main(void)
{
	RUN(trailing_space_in_custom_header_name_is_non_compliant_header);
	RUN(unescaped_space_in_uri_is_space_in_uri);
	RUN(http_0_9_1_2_and_extra_spaces_are_non_compliant_version);
	RUN(get_or_head_with_zero_content_length_is_acceptable);
	RUN(bare_lf_line_ends_are_non_crlf_line_termination);
	RUN(empty_or_blank_header_name_and_blank_line_are_empty_header);
	RUN(control_character_in_uri_is_ambiguous_uri);
	RUN(get_or_head_with_nonzero_content_length_is_undefined_semantics);
	RUN(transfer_encoding_on_get_head_or_http_1_0_is_undefined_semantics);
	RUN(two_equal_content_lengths_are_duplicate_content_length);
	RUN(transfer_encoding_with_content_length_is_both_te_cl_present);
	RUN(names_that_normalize_to_framing_headers_are_suspicious);
	RUN(similar_but_different_names_are_not_suspicious);
	RUN(folded_line_is_multiline_header);
	RUN(folded_content_type_is_tolerated);
	RUN(folded_line_with_a_colon_is_also_judged_as_a_header);
	RUN(header_line_without_colon_is_missing_header_colon);
	RUN(request_line_without_uri_is_missing_uri);
	RUN(nul_cr_or_lf_inside_a_header_is_bad_header);
	RUN(nul_or_cr_in_uri_is_bad_uri);
	RUN(malformed_version_is_bad_version);
	RUN(different_content_lengths_are_multiple_content_length);
	RUN(content_length_that_is_not_one_decimal_is_bad_content_length);
	RUN(chunked_applied_twice_is_multiple_transfer_encoding_chunked);
	RUN(unknown_or_unclean_transfer_coding_is_bad_transfer_encoding);
	RUN(known_transfer_codings_lists_and_parameters_are_compliant);
	RUN(malformed_method_is_bad_method);
	RUN(most_severe_finding_wins_whatever_its_position);
	RUN(framing_finding_outranks_other_findings_of_its_class);
	RUN(first_finding_wins_among_framing_findings_of_one_class);
	RUN(broken_header_does_not_also_count_as_framing);
	RUN(curl_heads_are_compliant);
	RUN(browser_heads_are_compliant);
	RUN(absolute_form_and_asterisk_targets_are_compliant);
	RUN(compliant_head_with_a_64k_header_value_stays_compliant);
	RUN(control_byte_anywhere_in_a_long_value_is_found);
	RUN(classify_accepts_a_request_without_headers);
	RUN(split_head_views_point_into_the_head_with_names_exact_and_values_trimmed);
	RUN(split_head_reads_two_part_request_line_as_http_0_9);
	RUN(split_head_puts_extra_spaces_in_the_version);
	RUN(split_head_grows_and_reuses_the_header_array);
	RUN(split_head_merges_into_the_callers_verdict);
	RUN(mode_table_matches_alb);
	RUN(class_names_are_albs_and_compliant_has_none);
	return test_done();
}
