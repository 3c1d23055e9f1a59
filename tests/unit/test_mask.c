/* inspect/mask: secrets kept out of the console and its API. */
#include <string.h>

#include "test.h"
#include "inspect/mask.h"

static void check_json(const char *in, const char *want)
{
	struct buf out = BUF_INIT;

	mask_json(sv_from(in), &out);
	CHECK_STR(buf_cstr(&out), want);
	buf_release(&out);
}

static void check_head(const char *in, const char *want)
{
	struct buf out = BUF_INIT;

	mask_head(sv_from(in), &out);
	CHECK_STR(buf_cstr(&out), want);
	buf_release(&out);
}

TEST(secret_header_names_are_recognised_in_any_case)
{
	CHECK(mask_header_is_secret(SV("Authorization")));
	CHECK(mask_header_is_secret(SV("cookie")));
	CHECK(mask_header_is_secret(SV("SET-COOKIE")));
	CHECK(!mask_header_is_secret(SV("x-marker")));
	/* the session cookie is masked: so is the access token it carries */
	CHECK(mask_header_is_secret(SV("X-Amzn-Oidc-Accesstoken")));
	CHECK(!mask_header_is_secret(SV("x-amzn-oidc-data")));
}

TEST(env_names_that_look_secret_are_masked)
{
	CHECK(mask_env_is_secret("API_KEY"));
	CHECK(mask_env_is_secret("db_password"));
	CHECK(mask_env_is_secret("GITHUB_TOKEN"));
	CHECK(mask_env_is_secret("JWT_SECRET"));
	CHECK(!mask_env_is_secret("STAGE"));
	CHECK(!mask_env_is_secret("TABLE_NAME"));
}

TEST(an_authorization_value_keeps_its_scheme)
{
	check_head("GET / HTTP/1.1\r\nAuthorization: Bearer abc.def\r\nX-A: 1\r\n\r\n",
		   "GET / HTTP/1.1\r\nAuthorization: Bearer ***\r\nX-A: 1\r\n\r\n");
	check_head("authorization:token\n", "authorization: ***\n");
}

TEST(cookies_keep_their_names)
{
	check_head("Cookie: a=1; b=two\r\n", "Cookie: a=***; b=***\r\n");
	check_head("Set-Cookie: s=xyz; Path=/; HttpOnly\n", "Set-Cookie: s=***; Path=/; HttpOnly\n");
}

TEST(event_headers_are_masked_in_json)
{
	check_json("{\"headers\":{\"host\":\"a\",\"authorization\":\"Basic eHk=\",\"cookie\":\"k=v\"}}",
		   "{\"headers\":{\"host\":\"a\",\"authorization\":\"Basic ***\",\"cookie\":\"k=***\"}}");
}

TEST(multi_value_headers_are_masked_in_arrays)
{
	check_json("{\"multiValueHeaders\": {\"set-cookie\": [\"a=1; Path=/\", \"b=2\"], \"x\": [\"y\"]}}",
		   "{\"multiValueHeaders\": {\"set-cookie\": [\"a=***; Path=/\", \"b=***\"], \"x\": [\"y\"]}}");
}

TEST(a_secret_name_inside_a_string_is_left_alone)
{
	check_json("{\"body\":\"{\\\"authorization\\\":\\\"x\\\"}\"}", "{\"body\":\"{\\\"authorization\\\":\\\"x\\\"}\"}");
	check_json("{\"cookie\": null, \"a\": \"b\"}", "{\"cookie\": null, \"a\": \"b\"}");
}

TEST(truncated_json_is_masked_without_leaking_the_cut_value)
{
	check_json("{\"headers\":{\"authorization\":\"Bearer sec", "{\"headers\":{\"authorization\":\"");
	check_json("{\"a\":\"unterminated", "{\"a\":\"unterminated");
}

int main(void)
{
	RUN(secret_header_names_are_recognised_in_any_case);
	RUN(env_names_that_look_secret_are_masked);
	RUN(an_authorization_value_keeps_its_scheme);
	RUN(cookies_keep_their_names);
	RUN(event_headers_are_masked_in_json);
	RUN(multi_value_headers_are_masked_in_arrays);
	RUN(a_secret_name_inside_a_string_is_left_alone);
	RUN(truncated_json_is_masked_without_leaking_the_cut_value);
	return test_done();
}
