/* Fuzzes jwt-validation's token handling (alb/jwt.c) and JWKS parsing
 * (config/rules_jwt.c): the first byte picks what the fake signature check
 * answers, the rest splits at the first NUL into an Authorization value and
 * a JWKS document. Whatever the input: no crash, no leak, and a verdict of
 * JWT_VALID only when the signature check said yes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "alb/jwt.h"
#include "config/rules_jwt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n);

static int fake_verify(void *ctx, struct jwk_rsa *key, struct sv input, const uint8_t *sig, size_t sig_len)
{
	(void)key;
	(void)input;
	(void)sig;
	(void)sig_len;
	return *(const int *)ctx;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
	static struct jwk_rsa one_key = { .kid = "k1" };
	struct jwt_claim claim = { "aud", JWT_CLAIM_STRING_ARRAY, 1, (const char *[]){ "api" } };
	struct jwt_validation_cfg cfg = { .issuer = "https://idp.test", .nkeys = 1, .keys = &one_key,
					  .nclaims = 1, .claims = &claim };
	struct arena arena = { 0 };
	struct http_request req;
	struct jwk_rsa *keys;
	size_t nkeys;
	const char *nul, *why;
	char msg[200], *auth;
	int answer;

	if (n < 1)
		return 0;
	answer = data[0] & 1;
	nul = memchr(data + 1, '\0', n - 1);
	auth = nul ? strndup((const char *)data + 1, (size_t)(nul - (const char *)data - 1))
		   : strndup((const char *)data + 1, n - 1);
	if (nul)
		rules_jwks_parse(&arena, nul + 1, (size_t)((const char *)data + n - nul - 1), &keys, &nkeys, msg,
				 sizeof(msg));
	http_request_init(&req);
	req.method = SV("GET");
	http_request_set_target(&req, SV("/"));
	http_request_add_header(&req, SV("Authorization"), sv_from(auth));
	if (jwt_check(&cfg, &req, 1800000000, fake_verify, &answer, &why) == JWT_VALID && !answer)
		abort();
	http_request_release(&req);
	arena_release(&arena);
	free(auth);
	return 0;
}
