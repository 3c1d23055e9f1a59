/*
 * jwt: bearer-token validation as ALB's jwt-validation action does it
 * (AWS: "Verify JWTs using an Application Load Balancer").
 *
 * "ALB will validate the token signature and requires two mandatory claims:
 * 'iss' and 'exp'. Additionally, if present in the token, ALB will also
 * validate 'nbf' and 'iat'." "Only the RS256 algorithm is supported." A
 * valid token is forwarded as is; anything else is answered 401.
 *
 * Additional claims: single-string (the claim is a string equal to one of
 * the values), string-array (an array holding one of the values),
 * space-separated-values (a string of space-separated words, one of them a
 * value). Values are OR, as in ALB's conditions; AWS does not say whether
 * several values mean any or all (unverified: lb's choice).
 */
#include "alb/jwt.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "base/base64.h"

/* base64url without padding (RFC 7515 §2). */
static int b64url_decode(struct sv in, struct buf *out)
{
	struct buf std = BUF_INIT;
	int rc;

	for (size_t i = 0; i < in.n; i++) {
		char c = in.p[i];

		if (c == '+' || c == '/' || c == '=') {
			buf_release(&std);
			return -1;
		}
		buf_putc(&std, c == '-' ? '+' : c == '_' ? '/' : c);
	}
	while (std.len % 4)
		buf_putc(&std, '=');
	rc = in.n ? base64_decode(std.p, std.len, out) : -1;
	buf_release(&std);
	return rc;
}

static json_t *b64url_json(struct sv in)
{
	struct buf raw = BUF_INIT;
	json_t *doc = NULL;

	if (b64url_decode(in, &raw) == 0)
		doc = json_loadb(raw.p, raw.len, JSON_REJECT_DUPLICATES, NULL);
	buf_release(&raw);
	if (doc && !json_is_object(doc)) {
		json_decref(doc);
		doc = NULL;
	}
	return doc;
}

static size_t authorization_count(const struct http_request *req)
{
	size_t n = 0;

	for (size_t i = 0; i < req->nheaders; i++)
		n += sv_eq_cstr_nocase(req->headers[i].name, "authorization");
	return n;
}

/* The token of "Authorization: Bearer TOKEN" (first Authorization header). */
static struct sv bearer_token(const struct http_request *req)
{
	const struct http_header *h = http_request_header(req, "authorization");
	struct sv v;

	if (!h)
		return SV_NULL;
	v = sv_trim(h->value);
	if (v.n < 7 || !sv_starts_with_nocase(v, "bearer "))
		return SV_NULL;
	return sv_trim((struct sv){ v.p + 7, v.n - 7 });
}

static bool has_value(const struct jwt_claim *c, struct sv word)
{
	for (size_t i = 0; i < c->nvalues; i++)
		if (sv_eq_cstr(word, c->values[i]))
			return true;
	return false;
}

static bool claim_ok(const struct jwt_claim *c, json_t *v)
{
	size_t i;
	json_t *item;

	switch (c->format) {
	case JWT_CLAIM_SINGLE_STRING:
		return json_is_string(v) && has_value(c, sv_from(json_string_value(v)));
	case JWT_CLAIM_STRING_ARRAY:
		json_array_foreach(v, i, item)
			if (json_is_string(item) && has_value(c, sv_from(json_string_value(item))))
				return true;
		return false;
	case JWT_CLAIM_SPACE_SEPARATED:
		if (json_is_string(v)) {
			struct sv rest = sv_from(json_string_value(v)), word;

			while (rest.p) {
				rest = sv_cut(rest, ' ', &word);
				if (word.n && has_value(c, word))
					return true;
			}
		}
		return false;
	}
	return false;
}

/* The registered time claims; NULL when they pass. */
static const char *times_fail(json_t *claims, int64_t now)
{
	json_t *exp = json_object_get(claims, "exp"), *nbf = json_object_get(claims, "nbf");
	json_t *iat = json_object_get(claims, "iat");

	if (!json_is_number(exp))
		return "the token has no exp claim";
	if ((double)now >= json_number_value(exp))
		return "the token has expired";
	if (nbf && (!json_is_number(nbf) || (double)now < json_number_value(nbf)))
		return "the token is not valid yet (nbf)";
	if (iat && (!json_is_number(iat) || (double)now < json_number_value(iat)))
		return "the token was issued in the future (iat)";
	return NULL;
}

static const char *claims_fail(const struct jwt_validation_cfg *cfg, json_t *claims, int64_t now)
{
	const char *iss = json_string_value(json_object_get(claims, "iss")), *why;

	if (!iss)
		return "the token has no iss claim";
	if (strcmp(iss, cfg->issuer) != 0)
		return "the token's issuer is not the configured one";
	if ((why = times_fail(claims, now)))
		return why;
	for (size_t i = 0; i < cfg->nclaims; i++) {
		/* The reason names the claim; one per thread, as `workers` check tokens in parallel. */
		static _Thread_local char named[160];
		json_t *v = json_object_get(claims, cfg->claims[i].name);

		if (!v || !claim_ok(&cfg->claims[i], v)) {
			snprintf(named, sizeof(named), "the token's claim '%.100s' %s", cfg->claims[i].name,
				 v ? "does not match" : "is missing");
			return named;
		}
	}
	return NULL;
}

/* Whether any key the header's kid names (every key without a kid) signed input. */
static bool signature_ok(const struct jwt_validation_cfg *cfg, const char *kid, struct sv input,
			 const struct buf *sig, jwt_verify_fn verify, void *ctx)
{
	for (size_t i = 0; i < cfg->nkeys; i++) {
		struct jwk_rsa *k = &cfg->keys[i];

		if (kid && k->kid && strcmp(kid, k->kid) != 0)
			continue;
		if (verify(ctx, k, input, (const uint8_t *)sig->p, sig->len) == 1)
			return true;
	}
	return false;
}

enum jwt_verdict jwt_check(const struct jwt_validation_cfg *cfg, const struct http_request *req,
			   int64_t now, jwt_verify_fn verify, void *ctx, const char **reason)
{
	struct sv token = bearer_token(req), head, payload, sig_b64, input;
	struct buf sig = BUF_INIT;
	json_t *header = NULL, *claims = NULL;
	const char *alg;
	enum jwt_verdict v = JWT_INVALID;

	*reason = NULL;
	/* Why: lb checks one token and forwards the request as is; a second Authorization
	 * would reach the target unchecked (and RFC 9110 §11.6.2 makes it a single field). */
	if (authorization_count(req) > 1) {
		*reason = "the request has more than one Authorization header";
		return JWT_INVALID;
	}
	if (!token.n)
		return JWT_MISSING;
	payload = sv_cut(token, '.', &head);
	sig_b64 = payload.p ? sv_cut(payload, '.', &payload) : SV_NULL;
	if (!sig_b64.p || memchr(sig_b64.p, '.', sig_b64.n)) {
		*reason = "the token is not a JWS in compact form";
		goto out;
	}
	input = (struct sv){ head.p, (size_t)(payload.p + payload.n - head.p) };
	if (!(header = b64url_json(head)) || !(claims = b64url_json(payload)) ||
	    b64url_decode(sig_b64, &sig) < 0) {
		*reason = "the token is malformed";
		goto out;
	}
	alg = json_string_value(json_object_get(header, "alg"));
	/* Why: "Only the RS256 algorithm is supported" (AWS, listener-verify-jwt). */
	if (!alg || strcmp(alg, "RS256") != 0) {
		*reason = "the token is not signed RS256";
		goto out;
	}
	if (!signature_ok(cfg, json_string_value(json_object_get(header, "kid")), input, &sig, verify, ctx)) {
		*reason = "the token's signature does not verify";
		goto out;
	}
	if ((*reason = claims_fail(cfg, claims, now)))
		goto out;
	v = JWT_VALID;
out:
	json_decref(header);
	json_decref(claims);
	buf_release(&sig);
	return v;
}

const char *jwt_www_authenticate(enum jwt_verdict v)
{
	/* RFC 6750 §3: no error code when the request had no token at all.
	 * ALB's exact header text is unverified. */
	return v == JWT_MISSING ? "Bearer" : "Bearer error=\"invalid_token\"";
}
