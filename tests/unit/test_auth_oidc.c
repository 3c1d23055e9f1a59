/*
 * auth_oidc: the pure formats of ALB's authenticate actions
 * (alb-listener-rules.md §2.5): base64url both ways, the authorization URL,
 * form values, login states and sessions, sharded session cookies, the
 * x-amzn-oidc-data signing input, and the headers toward targets.
 */
#include <stdlib.h>
#include <string.h>

#include "alb/auth_oidc.h"
#include "test.h"

TEST(base64url_pads_only_when_asked_and_decodes_either)
{
	struct buf b = BUF_INIT;

	auth_b64url(&b, "\xfb\xff", 2, true);
	CHECK_STR(buf_cstr(&b), "-_8=");
	buf_reset(&b);
	auth_b64url(&b, "\xfb\xff", 2, false);
	CHECK_STR(buf_cstr(&b), "-_8");
	buf_reset(&b);
	CHECK_INT(auth_b64url_decode(&b, "-_8", 3), 0);
	CHECK_MEM(b.p, b.len, "\xfb\xff");
	buf_reset(&b);
	CHECK_INT(auth_b64url_decode(&b, "-_8=", 4), 0);
	CHECK_INT((int)b.len, 2);
	buf_reset(&b);
	CHECK_INT(auth_b64url_decode(&b, "+/8=", 4), -1);   /* standard alphabet: not base64url */
	buf_release(&b);
}

TEST(authorize_url_has_albs_parameters_in_order)
{
	struct auth_param extra[] = { { "prompt", "login" }, { "ui_locales", "fr CA" } };
	struct auth_cfg a = { .authorization_endpoint = "https://idp/authorize",
			      .client_id = "c 1", .scope = "openid email", .nextra = 2,
			      .extra = extra };
	struct buf b = BUF_INIT;

	auth_authorize_url(&b, &a, "https://h:8443/oauth2/idpresponse", "S", "N");
	CHECK_STR(buf_cstr(&b), "https://idp/authorize?response_type=code&client_id=c%201"
		  "&redirect_uri=https%3A%2F%2Fh%3A8443%2Foauth2%2Fidpresponse"
		  "&scope=openid%20email&state=S&nonce=N&prompt=login&ui_locales=fr%20CA");
	buf_reset(&b);
	a.authorization_endpoint = "https://idp/authorize?tenant=x";
	a.nextra = 0;
	auth_authorize_url(&b, &a, "u", "S", "N");
	CHECK(strncmp(buf_cstr(&b), "https://idp/authorize?tenant=x&response_type=code&", 50) == 0);
	buf_release(&b);
}

TEST(form_values_are_found_and_decoded)
{
	struct buf b = BUF_INIT;
	struct sv q = SV("code=a%2Fb+c&state=xyz&statex=no&bad=%zz");

	CHECK_INT(auth_form_get(q, "code", &b), 0);
	CHECK_STR(buf_cstr(&b), "a/b c");
	CHECK_INT(auth_form_get(q, "state", &b), 0);
	CHECK_STR(buf_cstr(&b), "xyz");
	CHECK_INT(auth_form_get(q, "bad", &b), 0);
	CHECK_STR(buf_cstr(&b), "%zz");
	CHECK_INT(auth_form_get(q, "nonce", &b), -1);
	CHECK_INT(auth_form_get(SV(""), "code", &b), -1);
	buf_release(&b);
}

TEST(state_round_trips_and_garbage_is_refused)
{
	struct auth_state st = { .issued = 1700000000, .priority = 42, .nonce = "abc",
				 .url = "/a?b=\"1\"" }, back;
	struct buf b = BUF_INIT, url = BUF_INIT;

	auth_state_write(&b, &st);
	CHECK_INT(auth_state_read(b.p, b.len, &back, &url), 0);
	CHECK_INT((int)(back.issued - 1700000000), 0);
	CHECK_INT(back.priority, 42);
	CHECK_STR(back.nonce, "abc");
	CHECK_STR(back.url, "/a?b=\"1\"");
	CHECK_INT(auth_state_read("{}", 2, &back, &url), -1);
	CHECK_INT(auth_state_read("nope", 4, &back, &url), -1);
	buf_release(&b);
	buf_release(&url);
}

TEST(session_round_trips)
{
	struct auth_session s = { 1800000000, "tok", "{\"sub\":\"u\"}", "https://idp", "c1" }, back;
	struct buf b = BUF_INIT, mem = BUF_INIT;

	auth_session_write(&b, &s);
	CHECK_INT(auth_session_read(b.p, b.len, &back, &mem), 0);
	CHECK_INT((int)(back.exp - 1800000000), 0);
	CHECK_STR(back.access_token, "tok");
	CHECK_STR(back.claims, "{\"sub\":\"u\"}");
	CHECK_STR(back.issuer, "https://idp");
	CHECK_STR(back.client_id, "c1");
	CHECK_INT(auth_session_read("[]", 2, &back, &mem), -1);
	buf_release(&b);
	buf_release(&mem);
}

/* The values of n NUL-terminated strings packed in b. */
static const char *nth(const struct buf *b, size_t n)
{
	const char *p = b->p;

	while (n--)
		p += strlen(p) + 1;
	return p;
}

TEST(cookies_are_sharded_at_the_shard_size_and_joined_back)
{
	size_t n = 2 * AUTH_SHARD_MAX + 10;
	char *v = malloc(n);
	struct buf b = BUF_INIT, joined = BUF_INIT, hdr = BUF_INIT, hdr2 = BUF_INIT;
	struct http_request req;

	for (size_t i = 0; i < n; i++)
		v[i] = (char)('a' + i % 26);
	CHECK_INT((int)auth_cookie_set(&b, "S", v, n, 0), 3);
	CHECK(strncmp(nth(&b, 0), "S-0=abc", 7) == 0);
	CHECK(strstr(nth(&b, 0), "; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/; Secure; HttpOnly"));
	CHECK(strncmp(nth(&b, 2), "S-2=", 4) == 0);
	CHECK_INT((int)(strchr(nth(&b, 2), ';') - nth(&b, 2)), 4 + 10);
	/* a request carrying them (and another cookie) joins them back */
	http_request_init(&req);
	http_request_set_target(&req, SV("/"));
	buf_printf(&hdr, "x=1; S-1=%.*s; S-0=%.*s", AUTH_SHARD_MAX, v + AUTH_SHARD_MAX,
		   AUTH_SHARD_MAX, v);
	http_request_add_header(&req, SV("Cookie"), (struct sv){ hdr.p, hdr.len });
	buf_printf(&hdr2, "S-2=%.*s", 10, v + 2 * AUTH_SHARD_MAX);
	http_request_add_header(&req, SV("cookie"), (struct sv){ hdr2.p, hdr2.len });
	CHECK_INT(auth_cookie_join(&req, "S", &joined), 3);
	CHECK_INT((int)joined.len, (int)n);
	CHECK(memcmp(joined.p, v, n) == 0);
	buf_reset(&joined);
	CHECK_INT(auth_cookie_join(&req, "T", &joined), 0);
	http_request_release(&req);
	/* an empty value still makes NAME-0 */
	buf_reset(&b);
	CHECK_INT((int)auth_cookie_set(&b, "S", "", 0, 0), 1);
	free(v);
	buf_release(&b);
	buf_release(&joined);
	buf_release(&hdr);
	buf_release(&hdr2);
}

TEST(jwt_input_has_albs_header_fields_and_padded_segments)
{
	struct buf b = BUF_INIT, seg = BUF_INIT;
	const char *dot;

	CHECK_INT(auth_jwt_input(&b, "kid-1", "arn:aws:elasticloadbalancing:r:a:loadbalancer/app/x/1",
				 "https://idp", "cid", 1800000000, "{\"sub\":\"u\",\"n\":\"\\u00e9\"}"), 0);
	dot = strchr(b.p, '.');
	CHECK(dot != NULL);
	CHECK_INT(auth_b64url_decode(&seg, b.p, (size_t)(dot - b.p)), 0);
	CHECK_STR(buf_cstr(&seg), "{\"typ\":\"JWT\",\"kid\":\"kid-1\",\"alg\":\"ES256\",\"iss\":"
		  "\"https://idp\",\"client\":\"cid\",\"signer\":\"arn:aws:elasticloadbalancing:r:a:"
		  "loadbalancer/app/x/1\",\"exp\":1800000000}");
	CHECK_INT((int)((dot - b.p) % 4), 0);   /* padded to a multiple of 4, as ALB's */
	buf_reset(&seg);
	CHECK_INT(auth_b64url_decode(&seg, dot + 1, strlen(dot + 1)), 0);
	CHECK_STR(buf_cstr(&seg), "{\"sub\":\"u\",\"n\":\"\xc3\xa9\",\"exp\":1800000000,"
		  "\"iss\":\"https://idp\"}");
	buf_reset(&b);
	CHECK_INT(auth_jwt_input(&b, "k", "s", "i", "c", 1, "[1]"), -1);
	buf_release(&b);
	buf_release(&seg);
}

TEST(claims_sub)
{
	struct buf b = BUF_INIT;

	CHECK_INT(auth_claims_sub("{\"sub\":\"u-1\"}", &b), 0);
	CHECK_STR(buf_cstr(&b), "u-1");
	CHECK_INT(auth_claims_sub("{\"sub\":1}", &b), -1);
	buf_release(&b);
}

/* An unsigned JWT whose payload is claims. */
static const char *id_token(struct buf *b, const char *claims)
{
	buf_reset(b);
	buf_append(b, "eyJhbGciOiJub25lIn0.", 20);
	auth_b64url(b, claims, strlen(claims), false);
	buf_append(b, ".sig", 4);
	return buf_cstr(b);
}

TEST(id_token_nonce_must_be_present_and_equal)
{
	struct buf b = BUF_INIT;

	CHECK(auth_id_token_nonce_ok(id_token(&b, "{\"sub\":\"u\",\"nonce\":\"n1\"}"), "n1"));
	CHECK(!auth_id_token_nonce_ok(id_token(&b, "{\"sub\":\"u\",\"nonce\":\"n2\"}"), "n1"));
	CHECK(!auth_id_token_nonce_ok(id_token(&b, "{\"sub\":\"u\"}"), "n1"));
	CHECK(!auth_id_token_nonce_ok(id_token(&b, "{\"nonce\":null}"), "n1"));
	CHECK(!auth_id_token_nonce_ok(id_token(&b, "{\"nonce\":1}"), "n1"));
	CHECK(!auth_id_token_nonce_ok(id_token(&b, "[]"), "n1"));
	CHECK(!auth_id_token_nonce_ok("no-dots", "n1"));
	CHECK(!auth_id_token_nonce_ok("a.!!!.c", "n1"));
	buf_release(&b);
}

TEST(bearer_tokens_are_token68)
{
	CHECK(auth_bearer_token_ok("AT"));
	CHECK(auth_bearer_token_ok("eyJh.eyJz.c2ln"));
	CHECK(auth_bearer_token_ok("aZ09-._~+/=="));
	CHECK(!auth_bearer_token_ok(""));
	CHECK(!auth_bearer_token_ok("=="));
	CHECK(!auth_bearer_token_ok("a=b"));
	CHECK(!auth_bearer_token_ok("AT\r\nX-Injected: yes"));
	CHECK(!auth_bearer_token_ok("AT\n"));
	CHECK(!auth_bearer_token_ok("A T"));
	CHECK(!auth_bearer_token_ok("A\tT"));
	CHECK(!auth_bearer_token_ok("A,T"));
	CHECK(!auth_bearer_token_ok("A\x7f"));
	CHECK(!auth_bearer_token_ok("\xc3\xa9"));
}

TEST(field_values_refuse_control_characters_but_htab)
{
	CHECK(auth_field_value_ok(""));
	CHECK(auth_field_value_ok("user-1234"));
	CHECK(auth_field_value_ok("Ada Lovelace\t\xc3\xa9 \"!~"));
	CHECK(!auth_field_value_ok("u\r\nX-Injected: yes"));
	CHECK(!auth_field_value_ok("u\r"));
	CHECK(!auth_field_value_ok("u\n"));
	CHECK(!auth_field_value_ok("\x01u"));
	CHECK(!auth_field_value_ok("u\x1f"));
	CHECK(!auth_field_value_ok("u\x7f"));
}

TEST(client_oidc_headers_are_dropped_and_lbs_added)
{
	struct header_list l;
	struct http_header add[] = { { SV("x-amzn-oidc-identity"), SV("u") } };

	header_list_init(&l);
	header_list_add(&l, SV("Host"), SV("h"));
	header_list_add(&l, SV("X-Amzn-Oidc-Identity"), SV("mallory"));
	header_list_add(&l, SV("x-amzn-oidc-data"), SV("forged"));
	auth_headers_apply(&l, add, 1);
	CHECK_INT((int)l.n, 2);
	CHECK(sv_eq_cstr(l.v[0].name, "Host"));
	CHECK(sv_eq_cstr(l.v[1].value, "u"));
	auth_headers_apply(&l, NULL, 0);
	CHECK_INT((int)l.n, 1);
	header_list_release(&l);
}

int main(void)
{
	RUN(base64url_pads_only_when_asked_and_decodes_either);
	RUN(authorize_url_has_albs_parameters_in_order);
	RUN(form_values_are_found_and_decoded);
	RUN(state_round_trips_and_garbage_is_refused);
	RUN(session_round_trips);
	RUN(cookies_are_sharded_at_the_shard_size_and_joined_back);
	RUN(jwt_input_has_albs_header_fields_and_padded_segments);
	RUN(claims_sub);
	RUN(id_token_nonce_must_be_present_and_equal);
	RUN(bearer_tokens_are_token68);
	RUN(field_values_refuse_control_characters_but_htab);
	RUN(client_oidc_headers_are_dropped_and_lbs_added);
	return test_done();
}
