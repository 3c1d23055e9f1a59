/*
 * SigV4: every case of AWS's test suite (tests/data/sigv4-test-suite, each
 * step compared byte for byte: canonical request, string to sign,
 * Authorization), the Lambda vectors of aws-integration.md §1.12, and the
 * SHA-256 / HMAC primitives under them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alb/sigv4.h"
#include "base/sha256.h"
#include "test.h"

#define SUITE "tests/data/sigv4-test-suite/"

static const struct sigv4_credentials suite_creds = { "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY" };
static const struct sigv4_scope suite_scope = { "20150830T123600Z", "us-east-1", "service" };

static char *slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	char *p;
	long len;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	fseek(f, 0, SEEK_SET);
	p = malloc((size_t)len + 1);
	*n = fread(p, 1, (size_t)len, f);
	p[*n] = '\0';
	fclose(f);
	return p;
}

/*
 * Parses a .req tolerantly (the suite's request-targets hold raw spaces and
 * its headers folded lines, which a conforming parser refuses), signs it and
 * compares each step with the case's files. extra: a header to sign besides.
 */
static void run_case(const char *dir, const char *name, const struct sigv4_header *extra)
{
	char path[512], hash[65];
	size_t n, len;
	struct sigv4_header h[16];
	size_t nh = 0;
	struct sigv4_result res = { BUF_INIT, BUF_INIT, BUF_INIT, "" };
	char *req, *exp, *line, *end, *body = "";

	snprintf(path, sizeof(path), SUITE "%s%s/%s.req", dir, name, name);
	req = slurp(path, &len);
	if (!req) {
		FAIL_AT("cannot read %s", path);
		return;
	}
	/* Request line: METHOD SP target SP HTTP/1.1, the target possibly with spaces. */
	end = strchr(req, '\n');
	*end = '\0';
	char *sp1 = strchr(req, ' '), *sp2 = strrchr(req, ' ');
	struct sigv4_request r = { { req, (size_t)(sp1 - req) }, { sp1 + 1, (size_t)(sp2 - sp1 - 1) }, { "", 0 },
				   h, 0, hash };
	char *q = memchr(r.path.p, '?', r.path.n);
	if (q) {
		r.query = (struct sv){ q + 1, (size_t)(r.path.p + r.path.n - q - 1) };
		r.path.n = (size_t)(q - r.path.p);
	}
	for (line = end + 1; line < req + len; line = end + 1) {
		end = strchr(line, '\n');
		if (!end)
			end = req + len;
		*end = '\0';
		if (!*line) {           /* the blank line: the body follows */
			body = end + 1 < req + len ? end + 1 : "";
			break;
		}
		if ((*line == ' ' || *line == '\t') && nh) {
			/* A folded line continues the previous value (joined by a space after collapsing). */
			h[nh - 1].value.n = (size_t)(end - h[nh - 1].value.p);
			*(line - 1) = ' ';
			continue;
		}
		char *colon = strchr(line, ':');
		h[nh].name = (struct sv){ line, (size_t)(colon - line) };
		h[nh].value = (struct sv){ colon + 1, (size_t)(end - colon - 1) };
		nh++;
	}
	if (extra)
		h[nh++] = *extra;
	r.nheaders = nh;
	sha256_hex(body, strlen(body), hash);
	sigv4_sign(&r, &suite_creds, &suite_scope, &res);

	snprintf(path, sizeof(path), SUITE "%s%s/%s.creq", dir, name, name);
	exp = slurp(path, &n);
	CHECK_MEM(res.creq.p, res.creq.len, exp);
	free(exp);
	snprintf(path, sizeof(path), SUITE "%s%s/%s.sts", dir, name, name);
	exp = slurp(path, &n);
	CHECK_MEM(res.sts.p, res.sts.len, exp);
	free(exp);
	snprintf(path, sizeof(path), SUITE "%s%s/%s.authz", dir, name, name);
	exp = slurp(path, &n);
	CHECK_MEM(res.authz.p, res.authz.len, exp);
	free(exp);
	sigv4_result_release(&res);
	free(req);
}

#define SUITE_CASE(fn, dir, name)                                                       \
	TEST(fn) { run_case(dir, name, NULL); }

SUITE_CASE(suite_get_header_key_duplicate, "", "get-header-key-duplicate")
SUITE_CASE(suite_get_header_value_multiline, "", "get-header-value-multiline")
SUITE_CASE(suite_get_header_value_order, "", "get-header-value-order")
SUITE_CASE(suite_get_header_value_trim, "", "get-header-value-trim")
SUITE_CASE(suite_get_unreserved, "", "get-unreserved")
SUITE_CASE(suite_get_utf8, "", "get-utf8")
SUITE_CASE(suite_get_vanilla, "", "get-vanilla")
SUITE_CASE(suite_get_vanilla_empty_query_key, "", "get-vanilla-empty-query-key")
SUITE_CASE(suite_get_vanilla_query, "", "get-vanilla-query")
SUITE_CASE(suite_get_vanilla_query_order_encoded, "", "get-vanilla-query-order-encoded")
SUITE_CASE(suite_get_vanilla_query_order_key, "", "get-vanilla-query-order-key")
SUITE_CASE(suite_get_vanilla_query_order_key_case, "", "get-vanilla-query-order-key-case")
SUITE_CASE(suite_get_vanilla_query_order_value, "", "get-vanilla-query-order-value")
SUITE_CASE(suite_get_vanilla_query_unreserved, "", "get-vanilla-query-unreserved")
SUITE_CASE(suite_get_vanilla_utf8_query, "", "get-vanilla-utf8-query")
SUITE_CASE(suite_normalize_get_relative, "normalize-path/", "get-relative")
SUITE_CASE(suite_normalize_get_relative_relative, "normalize-path/", "get-relative-relative")
SUITE_CASE(suite_normalize_get_slash, "normalize-path/", "get-slash")
SUITE_CASE(suite_normalize_get_slash_dot_slash, "normalize-path/", "get-slash-dot-slash")
SUITE_CASE(suite_normalize_get_slash_pointless_dot, "normalize-path/", "get-slash-pointless-dot")
SUITE_CASE(suite_normalize_get_slashes, "normalize-path/", "get-slashes")
SUITE_CASE(suite_normalize_get_space, "normalize-path/", "get-space")
SUITE_CASE(suite_normalize_get_special_character, "normalize-path/", "get-special-character")
SUITE_CASE(suite_post_header_key_case, "", "post-header-key-case")
SUITE_CASE(suite_post_header_key_sort, "", "post-header-key-sort")
SUITE_CASE(suite_post_header_value_case, "", "post-header-value-case")
SUITE_CASE(suite_post_vanilla, "", "post-vanilla")
SUITE_CASE(suite_post_vanilla_empty_query_value, "", "post-vanilla-empty-query-value")
SUITE_CASE(suite_post_vanilla_query, "", "post-vanilla-query")
SUITE_CASE(suite_post_x_www_form_urlencoded, "", "post-x-www-form-urlencoded")
SUITE_CASE(suite_post_x_www_form_urlencoded_parameters, "", "post-x-www-form-urlencoded-parameters")
/* The token is in the .req and signed like any x-amz-* header. */
SUITE_CASE(suite_post_sts_header_before, "post-sts-token/", "post-sts-header-before")
/* The token is added after signing: the signature covers host and x-amz-date only. */
SUITE_CASE(suite_post_sts_header_after, "post-sts-token/", "post-sts-header-after")

TEST(suite_get_vanilla_with_session_token)
{
	/* The .req omits the token its README names; a signer adds it as a signed header. */
	struct sigv4_header tok = { SV("X-Amz-Security-Token"),
				    SV("6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267") };
	run_case("", "get-vanilla-with-session-token", &tok);
}

/* --- Lambda vectors (aws-integration.md §1.12), signed by botocore ---------------- */

static const struct sigv4_credentials lambda_creds = { "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY" };
static const struct sigv4_scope lambda_scope = { "20150830T123600Z", "us-east-1", "lambda" };
#define HELLO_HASH "93a23971a914e5eacbf0a8d25154cda309c3c1c72fbb9914d47c60f3cb681588"

static void lambda_vector(const char *path, const char *query, const struct sigv4_header *extra, size_t nextra,
			  const char *payload_hash, const char *sts_hash, const char *signature)
{
	struct sigv4_header h[8] = { { SV("Host"), SV("lambda.us-east-1.amazonaws.com") },
				     { SV("X-Amz-Date"), SV("20150830T123600Z") } };
	struct sigv4_result res = { BUF_INIT, BUF_INIT, BUF_INIT, "" };
	struct sigv4_request r = { SV("POST"), sv_from(path), sv_from(query), h, 2 + nextra, payload_hash };

	memcpy(h + 2, extra, nextra * sizeof(*extra));
	sigv4_sign(&r, &lambda_creds, &lambda_scope, &res);
	CHECK_STR(res.signature, signature);
	CHECK(strstr(res.sts.p, sts_hash) != NULL);
	sigv4_result_release(&res);
}

TEST(lambda_plain_name)
{
	struct sigv4_header none[1] = { { SV(""), SV("") } };
	lambda_vector("/2015-03-31/functions/my-function/invocations", "", none, 0, HELLO_HASH,
		      "6485e4db48f47c8046b07c4fad77d0ea62fe8a5a053ac909764cf337da208a3c",
		      "eeaf9c74a6a3bc5b2a0c0dc540ad92a51684c3ac6b336fc49b5277683a8d44ab");
}

TEST(lambda_arn_with_qualifier_is_double_encoded)
{
	struct sigv4_header none[1] = { { SV(""), SV("") } };
	lambda_vector("/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Amy-function/invocations",
		      "Qualifier=live", none, 0, HELLO_HASH,
		      "5ae77b67476902ed288f6459f7d626b53ed376750847403280af27e016593ccc",
		      "f09fcbd0d58d260ea2ea3a1b4c271578c4c66f01f557553a53a6d71a328a9f0e");
}

TEST(lambda_alias_with_session_token)
{
	struct sigv4_header tok[1] = { { SV("X-Amz-Security-Token"), SV("EXAMPLE-SESSION-TOKEN") } };
	lambda_vector("/2015-03-31/functions/my-function%3Alive/invocations", "", tok, 1, HELLO_HASH,
		      "09762c63d08871491738505e583c8f57dd5049a72a132d691db5e2d8796783de",
		      "2b1026a78a7b494bbf9cf13f3d12546e51b0a3fbecc1d9fa73c3c281904beaaf");
}

TEST(lambda_latest_event_with_amz_headers)
{
	struct sigv4_header h[3] = { { SV("X-Amz-Invocation-Type"), SV("Event") },
				     { SV("X-Amz-Log-Type"), SV("None") },
				     { SV("X-Amz-Client-Context"), SV("eyJhIjoxfQ==") } };
	char hash[65];

	sha256_hex("{}", 2, hash);
	lambda_vector("/2015-03-31/functions/my-function/invocations", "Qualifier=%24LATEST", h, 3, hash,
		      "b3c08b100ae7dd2848b701951f93bab755a2d625128582ad690da5e6a0aa11a0",
		      "fdf533bc394839aad3dc016b9f6c8c663ad310765760c5de87dda22ebc734438");
}

TEST(canonical_uri_encodes_percent_again)
{
	struct buf b = BUF_INIT;

	sigv4_canonical_uri(&b, SV("/a%3Ab/c d"));
	CHECK_STR(buf_cstr(&b), "/a%253Ab/c%20d");
	buf_reset(&b);
	sigv4_canonical_uri(&b, SV(""));
	CHECK_STR(buf_cstr(&b), "/");
	buf_release(&b);
}

TEST(canonical_query_encodes_once)
{
	struct buf b = BUF_INIT;

	sigv4_canonical_query(&b, SV("Qualifier=%24LATEST&a&b=c d"));
	CHECK_STR(buf_cstr(&b), "Qualifier=%24LATEST&a=&b=c%20d");
	buf_release(&b);
}

TEST(amz_date_of_unix_time)
{
	char d[17];

	sigv4_amz_date(1440938160, d);
	CHECK_STR(d, "20150830T123600Z");
	sigv4_amz_date(951782400, d);       /* a leap day */
	CHECK_STR(d, "20000229T000000Z");
	sigv4_amz_date(0, d);
	CHECK_STR(d, "19700101T000000Z");
}

/* --- primitives -------------------------------------------------------------------- */

TEST(sha256_fips_vectors)
{
	char hex[65];
	char *million = malloc(1000000);

	sha256_hex("", 0, hex);
	CHECK_STR(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	sha256_hex("abc", 3, hex);
	CHECK_STR(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56, hex);
	CHECK_STR(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	memset(million, 'a', 1000000);
	sha256_hex(million, 1000000, hex);
	CHECK_STR(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	free(million);
}

TEST(hmac_sha256_rfc4231)
{
	uint8_t key[20], out[32], big[131];
	char hex[65];

	memset(key, 0x0b, sizeof(key));
	hmac_sha256(key, sizeof(key), "Hi There", 8, out);
	hex_encode(out, 32, hex);
	CHECK_STR(hex, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
	/* A key longer than the block is hashed first (test case 6). */
	memset(big, 0xaa, sizeof(big));
	hmac_sha256(big, sizeof(big), "Test Using Larger Than Block-Size Key - Hash Key First", 54, out);
	hex_encode(out, 32, hex);
	CHECK_STR(hex, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

int main(void)
{
	RUN(suite_get_header_key_duplicate);
	RUN(suite_get_header_value_multiline);
	RUN(suite_get_header_value_order);
	RUN(suite_get_header_value_trim);
	RUN(suite_get_unreserved);
	RUN(suite_get_utf8);
	RUN(suite_get_vanilla);
	RUN(suite_get_vanilla_empty_query_key);
	RUN(suite_get_vanilla_query);
	RUN(suite_get_vanilla_query_order_encoded);
	RUN(suite_get_vanilla_query_order_key);
	RUN(suite_get_vanilla_query_order_key_case);
	RUN(suite_get_vanilla_query_order_value);
	RUN(suite_get_vanilla_query_unreserved);
	RUN(suite_get_vanilla_utf8_query);
	RUN(suite_get_vanilla_with_session_token);
	RUN(suite_normalize_get_relative);
	RUN(suite_normalize_get_relative_relative);
	RUN(suite_normalize_get_slash);
	RUN(suite_normalize_get_slash_dot_slash);
	RUN(suite_normalize_get_slash_pointless_dot);
	RUN(suite_normalize_get_slashes);
	RUN(suite_normalize_get_space);
	RUN(suite_normalize_get_special_character);
	RUN(suite_post_header_key_case);
	RUN(suite_post_header_key_sort);
	RUN(suite_post_header_value_case);
	RUN(suite_post_sts_header_after);
	RUN(suite_post_sts_header_before);
	RUN(suite_post_vanilla);
	RUN(suite_post_vanilla_empty_query_value);
	RUN(suite_post_vanilla_query);
	RUN(suite_post_x_www_form_urlencoded);
	RUN(suite_post_x_www_form_urlencoded_parameters);
	RUN(lambda_plain_name);
	RUN(lambda_arn_with_qualifier_is_double_encoded);
	RUN(lambda_alias_with_session_token);
	RUN(lambda_latest_event_with_amz_headers);
	RUN(canonical_uri_encodes_percent_again);
	RUN(canonical_query_encodes_once);
	RUN(amz_date_of_unix_time);
	RUN(sha256_fips_vectors);
	RUN(hmac_sha256_rfc4231);
	return test_done();
}
