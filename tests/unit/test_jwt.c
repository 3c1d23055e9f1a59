/*
 * jwt-validation (alb-listener-rules.md §2.5): JWKS parsing, and jwt_check
 * with real RS256 signatures made here with OpenSSL (a key generated per
 * run) and verified by auth/jwt_rsa.c: the bearer header, RS256 only, the
 * key by kid, iss/exp required, nbf/iat when present, additional claims in
 * their three formats.
 */
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <string.h>

#include "alb/jwt.h"
#include "auth/jwt_rsa.h"
#include "base/base64.h"
#include "config/rules_jwt.h"
#include "test.h"

#define NOW 1800000000

static struct config cfg;   /* owns the parsed keys (its arena) */
static EVP_PKEY *signer, *stranger;

static void b64url(const void *p, size_t n, struct buf *out)
{
	struct buf std = BUF_INIT;

	base64_encode_buf(p, n, &std);
	for (size_t i = 0; i < std.len; i++) {
		char c = std.p[i];
		if (c == '=')
			break;
		buf_putc(out, c == '+' ? '-' : c == '/' ? '_' : c);
	}
	buf_release(&std);
}

static void bn_b64url(EVP_PKEY *k, const char *name, struct buf *out)
{
	BIGNUM *bn = NULL;
	unsigned char bytes[600];
	int n;

	EVP_PKEY_get_bn_param(k, name, &bn);
	n = BN_bn2bin(bn, bytes);
	b64url(bytes, (size_t)n, out);
	BN_free(bn);
}

/* A JWKS holding signer's public key as kid "k1" (and an EC key, skipped). */
static char *jwks_text(void)
{
	struct buf n = BUF_INIT, e = BUF_INIT, out = BUF_INIT;

	bn_b64url(signer, OSSL_PKEY_PARAM_RSA_N, &n);
	bn_b64url(signer, OSSL_PKEY_PARAM_RSA_E, &e);
	buf_printf(&out, "{\"keys\": [{\"kty\": \"EC\", \"crv\": \"P-256\", \"x\": \"AA\", \"y\": \"AA\"},"
			 " {\"kty\": \"RSA\", \"use\": \"sig\", \"kid\": \"k1\", \"n\": \"%s\", \"e\": \"%s\"}]}",
		   buf_cstr(&n), buf_cstr(&e));
	buf_release(&n);
	buf_release(&e);
	return buf_detach(&out, NULL);
}

/* header.payload.signature, signed RS256 with key. */
static char *token(EVP_PKEY *key, const char *header, const char *payload)
{
	struct buf t = BUF_INIT;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char sig[512];
	size_t siglen = sizeof(sig);

	b64url(header, strlen(header), &t);
	buf_putc(&t, '.');
	b64url(payload, strlen(payload), &t);
	EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key);
	EVP_DigestSign(md, sig, &siglen, (const unsigned char *)t.p, t.len);
	EVP_MD_CTX_free(md);
	buf_putc(&t, '.');
	b64url(sig, siglen, &t);
	return buf_detach(&t, NULL);
}

static struct jwt_claim aud_claim = { "aud", JWT_CLAIM_STRING_ARRAY, 1, (const char *[]){ "api" } };
static struct jwt_claim scope_claim = { "scope", JWT_CLAIM_SPACE_SEPARATED, 2,
					(const char *[]){ "write", "admin" } };
static struct jwt_claim tenant_claim = { "tenant", JWT_CLAIM_SINGLE_STRING, 2,
					 (const char *[]){ "a", "b" } };

static struct jwt_validation_cfg jwtcfg = { .issuer = "https://idp.test" };

/* jwt_check of "Authorization: <auth>": "valid", "missing" or the reason. */
static const char *verdict(const char *auth)
{
	static char out[128];
	struct http_request req;
	const char *why = NULL;
	enum jwt_verdict v;

	http_request_init(&req);
	req.method = SV("GET");
	http_request_set_target(&req, SV("/"));
	if (auth)
		http_request_add_header(&req, SV("Authorization"), sv_from(auth));
	v = jwt_check(&jwtcfg, &req, NOW, jwt_rsa_verify, &cfg, &why);
	snprintf(out, sizeof(out), "%s", v == JWT_VALID ? "valid" : v == JWT_MISSING ? "missing" : why);
	http_request_release(&req);
	return out;
}

/* The verdict for a token of payload signed by key with header. */
static const char *signed_verdict(EVP_PKEY *key, const char *header, const char *payload)
{
	static char out[128];
	char *t = token(key, header, payload);
	char *auth = xmalloc(strlen(t) + 8);

	sprintf(auth, "Bearer %s", t);
	snprintf(out, sizeof(out), "%s", verdict(auth));
	free(auth);
	free(t);
	return out;
}

#define H1 "{\"alg\":\"RS256\",\"kid\":\"k1\"}"
#define GOOD_CLAIMS "\"iss\":\"https://idp.test\",\"exp\":1800000600,\"aud\":[\"x\",\"api\"],\"scope\":\"read write\",\"tenant\":\"b\""

static const char *with(const char *claims)
{
	return signed_verdict(signer, H1, claims);
}

TEST(jwks_keeps_rsa_signing_keys_only)
{
	char msg[128];
	struct jwk_rsa *keys;
	size_t n = 0;

	CHECK_INT(jwtcfg.nkeys, 1);
	CHECK_STR(jwtcfg.keys[0].kid, "k1");
	CHECK_INT(jwtcfg.keys[0].n_len, 256);
	CHECK(rules_jwks_parse(&cfg.arena, "{\"keys\": []}", 12, &keys, &n, msg, sizeof(msg)) == -1);
	CHECK_STR(msg, "no RSA signing key");
	CHECK(rules_jwks_parse(&cfg.arena, "[", 1, &keys, &n, msg, sizeof(msg)) == -1);
	CHECK(strncmp(msg, "not JSON", 8) == 0);
	{
		const char *bad = "{\"keys\":[{\"kty\":\"RSA\",\"n\":\"a+b\",\"e\":\"AQAB\"}]}";
		CHECK(rules_jwks_parse(&cfg.arena, bad, strlen(bad), &keys, &n, msg, sizeof(msg)) == -1);
	}
	CHECK_STR(msg, "key 0: \"n\" and \"e\" must be base64url");
}

/* e = 1 makes the padded hash its own signature: anyone could forge tokens. */
TEST(jwks_refuses_an_exponent_of_one_or_an_even_one)
{
	static const char *const bad[] = { "AQ", "AAE", "Ag", "AAAC", "AQAA" };
	static const char *const good[] = { "Aw", "AQAB", "AAAD" };
	char msg[128], text[256];
	struct jwk_rsa *keys;
	size_t n = 0;

	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		snprintf(text, sizeof(text), "{\"keys\":[{\"kty\":\"RSA\",\"n\":\"AQIDBA\",\"e\":\"%s\"}]}", bad[i]);
		CHECK(rules_jwks_parse(&cfg.arena, text, strlen(text), &keys, &n, msg, sizeof(msg)) == -1);
		CHECK_STR(msg, "key 0: \"e\" must be an odd number of 3 or more");
	}
	for (size_t i = 0; i < ARRAY_LEN(good); i++) {
		snprintf(text, sizeof(text), "{\"keys\":[{\"kty\":\"RSA\",\"n\":\"AQIDBA\",\"e\":\"%s\"}]}", good[i]);
		CHECK(rules_jwks_parse(&cfg.arena, text, strlen(text), &keys, &n, msg, sizeof(msg)) == 0);
	}
}

TEST(a_valid_token_passes)
{
	CHECK_STR(with("{" GOOD_CLAIMS "}"), "valid");
	/* Without kid, every key is tried. */
	CHECK_STR(signed_verdict(signer, "{\"alg\":\"RS256\"}", "{" GOOD_CLAIMS "}"), "valid");
	/* nbf and iat in the past are fine. */
	CHECK_STR(with("{" GOOD_CLAIMS ",\"nbf\":1799999999,\"iat\":1799999000}"), "valid");
}

TEST(the_bearer_header_is_required)
{
	CHECK_STR(verdict(NULL), "missing");
	CHECK_STR(verdict("Basic dXNlcjpwYXNz"), "missing");
	CHECK_STR(verdict("Bearer"), "missing");
	CHECK_STR(verdict("Bearer a.b"), "the token is not a JWS in compact form");
	CHECK_STR(verdict("Bearer a.b.c.d"), "the token is not a JWS in compact form");
	CHECK_STR(verdict("Bearer !!.??.**"), "the token is malformed");
}

/* A valid token first and another after it: the target would get the second unchecked. */
TEST(a_second_authorization_header_is_refused)
{
	char *t = token(signer, H1, "{" GOOD_CLAIMS "}"), *auth = xmalloc(strlen(t) + 8);
	static const char *const seconds[] = { "Bearer e30.e30.", "Basic dXNlcjpwYXNz", "" };
	struct http_request req;
	const char *why;

	sprintf(auth, "Bearer %s", t);
	CHECK_STR(verdict(auth), "valid");
	for (size_t i = 0; i < ARRAY_LEN(seconds); i++) {
		http_request_init(&req);
		req.method = SV("GET");
		http_request_set_target(&req, SV("/"));
		http_request_add_header(&req, SV("Authorization"), sv_from(auth));
		http_request_add_header(&req, SV("authorization"), sv_from(seconds[i]));
		CHECK(jwt_check(&jwtcfg, &req, NOW, jwt_rsa_verify, &cfg, &why) == JWT_INVALID);
		CHECK_STR(why, "the request has more than one Authorization header");
		http_request_release(&req);
	}
	free(auth);
	free(t);
}

TEST(only_rs256_signatures_by_a_jwks_key_pass)
{
	CHECK_STR(signed_verdict(signer, "{\"alg\":\"ES256\",\"kid\":\"k1\"}", "{" GOOD_CLAIMS "}"),
		  "the token is not signed RS256");
	CHECK_STR(signed_verdict(signer, "{\"alg\":\"none\"}", "{" GOOD_CLAIMS "}"), "the token is not signed RS256");
	CHECK_STR(signed_verdict(stranger, H1, "{" GOOD_CLAIMS "}"), "the token's signature does not verify");
	CHECK_STR(signed_verdict(signer, "{\"alg\":\"RS256\",\"kid\":\"k9\"}", "{" GOOD_CLAIMS "}"),
		  "the token's signature does not verify");
}

TEST(a_tampered_payload_fails)
{
	char *t = token(signer, H1, "{" GOOD_CLAIMS "}"), *dot = strchr(t, '.');
	char auth[2048];

	dot[3] = dot[3] == 'A' ? 'B' : 'A';
	snprintf(auth, sizeof(auth), "Bearer %s", t);
	CHECK(strcmp(verdict(auth), "valid") != 0);
	free(t);
}

TEST(iss_and_exp_are_required)
{
	CHECK_STR(with("{\"exp\":1800000600}"), "the token has no iss claim");
	CHECK_STR(with("{\"iss\":\"https://other\",\"exp\":1800000600}"), "the token's issuer is not the configured one");
	CHECK_STR(with("{\"iss\":\"https://idp.test\"}"), "the token has no exp claim");
	CHECK_STR(with("{\"iss\":\"https://idp.test\",\"exp\":1800000000}"), "the token has expired");
}

TEST(nbf_and_iat_are_checked_when_present)
{
	CHECK_STR(with("{" GOOD_CLAIMS ",\"nbf\":1800000001}"), "the token is not valid yet (nbf)");
	CHECK_STR(with("{" GOOD_CLAIMS ",\"iat\":1800000100}"), "the token was issued in the future (iat)");
	CHECK_STR(with("{" GOOD_CLAIMS ",\"nbf\":\"soon\"}"), "the token is not valid yet (nbf)");
}

TEST(additional_claims_in_three_formats)
{
	CHECK_STR(with("{\"iss\":\"https://idp.test\",\"exp\":1800000600,\"aud\":[\"x\"],\"scope\":\"write\",\"tenant\":\"a\"}"),
		  "the token's claim 'aud' does not match");
	CHECK_STR(with("{\"iss\":\"https://idp.test\",\"exp\":1800000600,\"aud\":\"api\",\"scope\":\"write\",\"tenant\":\"a\"}"),
		  "the token's claim 'aud' does not match");
	CHECK_STR(with("{\"iss\":\"https://idp.test\",\"exp\":1800000600,\"aud\":[\"api\"],\"scope\":\"read\",\"tenant\":\"a\"}"),
		  "the token's claim 'scope' does not match");
	CHECK_STR(with("{\"iss\":\"https://idp.test\",\"exp\":1800000600,\"aud\":[\"api\"],\"scope\":\"admin\",\"tenant\":\"c\"}"),
		  "the token's claim 'tenant' does not match");
	CHECK_STR(with("{\"iss\":\"https://idp.test\",\"exp\":1800000600,\"aud\":[\"api\"],\"scope\":\"admin\"}"),
		  "the token's claim 'tenant' is missing");
	CHECK_STR(with("{\"iss\":\"https://idp.test\",\"exp\":1800000600,\"aud\":[\"api\"],\"scope\":\"  admin \",\"tenant\":\"a\"}"), "valid");
}

TEST(www_authenticate_follows_rfc_6750)
{
	CHECK_STR(jwt_www_authenticate(JWT_MISSING), "Bearer");
	CHECK_STR(jwt_www_authenticate(JWT_INVALID), "Bearer error=\"invalid_token\"");
}

int main(void)
{
	char msg[128], *text;

	signer = EVP_RSA_gen(2048);
	stranger = EVP_RSA_gen(2048);
	text = jwks_text();
	if (!signer || !stranger ||
	    rules_jwks_parse(&cfg.arena, text, strlen(text), &jwtcfg.keys, &jwtcfg.nkeys, msg, sizeof(msg))) {
		printf("not ok - setup: %s\n", msg);
		return 1;
	}
	free(text);
	jwtcfg.claims = (struct jwt_claim[]){ aud_claim, scope_claim, tenant_claim };
	jwtcfg.nclaims = 3;
	RUN(jwks_keeps_rsa_signing_keys_only);
	RUN(jwks_refuses_an_exponent_of_one_or_an_even_one);
	RUN(a_valid_token_passes);
	RUN(the_bearer_header_is_required);
	RUN(a_second_authorization_header_is_refused);
	RUN(only_rs256_signatures_by_a_jwks_key_pass);
	RUN(a_tampered_payload_fails);
	RUN(iss_and_exp_are_required);
	RUN(nbf_and_iat_are_checked_when_present);
	RUN(additional_claims_in_three_formats);
	RUN(www_authenticate_follows_rfc_6750);
	EVP_PKEY_free(signer);
	EVP_PKEY_free(stranger);
	arena_release(&cfg.arena);
	return test_done();
}
