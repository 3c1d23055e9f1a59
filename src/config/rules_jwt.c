/*
 * rules_jwt: jwt-validation (alb-listener-rules.md §2.5; AWS's
 * JwtValidationActionConfig and JwtValidationActionAdditionalClaim).
 *
 *   - type: jwt-validation
 *     jwt_validation:
 *       issuer: https://idp.example.com          # required, at most 256 characters
 *       jwks_endpoint: https://idp.example.com/jwks  # a URL (AWS's), or a file
 *       additional_claims:                       # at most 10
 *         - {format: string-array, name: aud, values: [api]}
 *
 * A JWKS file is read once, here: its RSA keys are decoded into the arena, so
 * a bad key file is a load error with file:line:col, never a request-time
 * surprise. A URL is only marked here; net/jwks_fetch.c fetches it before the
 * configuration serves.
 */
#include "config/rules_jwt.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base64.h"

/* ALB's limits (API JwtValidationActionConfig, listener-verify-jwt). */
enum {
	JWT_TEXT_MAX = 256,            /* Issuer, JwksEndpoint, each claim value */
	JWT_CLAIMS_MAX = 10,           /* AdditionalClaims */
	JWT_CLAIM_VALUES_MAX = 10,     /* Values of one claim */
	JWKS_SIZE_MAX = 150 * 1024,    /* the JWKS response */
	JWKS_KEYS_MAX = 10,
};

static const char *const claim_formats[] = { "single-string", "string-array", "space-separated-values" };

struct jwt_fields {
	const char *issuer, *jwks_endpoint;
};

static const struct yfield jwt_fields[] = {
	YFIELD_STR("issuer", struct jwt_fields, issuer, .required = true),
	YFIELD_STR("jwks_endpoint", struct jwt_fields, jwks_endpoint, .required = true),
	YFIELD_NODE("additional_claims"),
};
static const struct yfield claim_fields[] = {
	YFIELD_NODE("format", .required = true),
	YFIELD_NODE("name", .required = true),
	YFIELD_NODE("values", .required = true),
};

/* base64url without padding (RFC 7515 §2) into the arena. */
static int b64url_arena(struct arena *a, const char *in, const uint8_t **out, size_t *n)
{
	struct buf std = BUF_INIT, raw = BUF_INIT;
	size_t len = strlen(in);
	int rc = -1;

	for (size_t i = 0; i < len; i++)
		buf_putc(&std, in[i] == '-' ? '+' : in[i] == '_' ? '/' : in[i]);
	while (std.len % 4)
		buf_putc(&std, '=');
	if (len && strpbrk(in, "+/=") == NULL && base64_decode(std.p, std.len, &raw) == 0 && raw.len) {
		uint8_t *p = arena_alloc(a, raw.len);
		memcpy(p, raw.p, raw.len);
		*out = p;
		*n = raw.len;
		rc = 0;
	}
	buf_release(&std);
	buf_release(&raw);
	return rc;
}

/* Whether a big-endian RSA public exponent is odd and at least 3. */
static bool exponent_ok(const uint8_t *e, size_t n)
{
	size_t i = 0;

	while (i < n && e[i] == 0)
		i++;
	return i < n && (e[n - 1] & 1) && (n - i > 1 || e[i] >= 3);
}

int rules_jwks_parse(struct arena *a, const char *text, size_t len, struct jwk_rsa **keys,
		     size_t *nkeys, char *msg, size_t msglen)
{
	json_error_t jerr;
	json_t *doc = json_loadb(text, len, 0, &jerr), *list, *k;
	size_t i, n = 0;
	int rc = -1;

	if (!doc) {
		snprintf(msg, msglen, "not JSON: %s (line %d)", jerr.text, jerr.line);
		return -1;
	}
	list = json_object_get(doc, "keys");
	if (!json_is_array(list)) {
		snprintf(msg, msglen, "no \"keys\" array");
		goto out;
	}
	/* Why: ALB takes at most 10 keys from a JWKS (listener-verify-jwt limits). */
	if (json_array_size(list) > JWKS_KEYS_MAX) {
		snprintf(msg, msglen, "%zu keys, ALB takes at most %d", json_array_size(list), JWKS_KEYS_MAX);
		goto out;
	}
	*keys = arena_alloc(a, (json_array_size(list) + 1) * sizeof(**keys));
	json_array_foreach(list, i, k) {
		const char *kty = json_string_value(json_object_get(k, "kty"));
		const char *nn = json_string_value(json_object_get(k, "n"));
		const char *e = json_string_value(json_object_get(k, "e"));
		const char *kid = json_string_value(json_object_get(k, "kid"));
		const char *use = json_string_value(json_object_get(k, "use"));
		struct jwk_rsa *key = &(*keys)[n];

		if (!kty || strcmp(kty, "RSA") != 0 || (use && strcmp(use, "sig") != 0))
			continue;   /* not a signing RSA key: ALB verifies RS256 only */
		if (!nn || !e || b64url_arena(a, nn, &key->n, &key->n_len) ||
		    b64url_arena(a, e, &key->e, &key->e_len)) {
			snprintf(msg, msglen, "key %zu: \"n\" and \"e\" must be base64url", i);
			goto out;
		}
		/* Why: with e = 1 a signature is the padded hash itself, so anyone forges
		 * tokens without the private key; RSA's exponent is odd and 3 or more (RFC 8017 §3.1). */
		if (!exponent_ok(key->e, key->e_len)) {
			snprintf(msg, msglen, "key %zu: \"e\" must be an odd number of 3 or more", i);
			goto out;
		}
		key->kid = kid ? arena_strdup(a, kid) : NULL;
		n++;
	}
	if (n == 0) {
		snprintf(msg, msglen, "no RSA signing key");
		goto out;
	}
	*nkeys = n;
	rc = 0;
out:
	json_decref(doc);
	return rc;
}

/* Reads the JWKS file the endpoint names (a URL is fetched later). */
static int jwks_load(struct config *cfg, const struct ynode *v, struct jwt_validation_cfg *j,
		     struct lb_err *err)
{
	const char *s = v->str, *path;
	char msg[200], *text = NULL;
	size_t len = 0;
	FILE *f;
	int rc = -1;

	/* An https:// endpoint (AWS's kind; http:// too, for a local IdP) is fetched by lb
	 * before it serves the configuration (net/jwks_fetch.c), not here. */
	if (strncmp(s, "http://", 7) == 0 || strncmp(s, "https://", 8) == 0) {
		j->jwks_remote = true;
		return 0;
	}
	if (strncmp(s, "file://", 7) == 0)
		path = arena_strdup(&cfg->arena, s + 7);
	else
		path = ydoc_path(v, false, &cfg->arena);
	if (!(f = fopen(path, "rb")))
		return ydoc_err(err, v, "cannot read the JWKS '%s'", path);
	text = xmalloc(JWKS_SIZE_MAX + 1);
	len = fread(text, 1, JWKS_SIZE_MAX + 1, f);
	fclose(f);
	/* Why: ALB refuses a JWKS response over 150 KB (listener-verify-jwt limits). */
	if (len > JWKS_SIZE_MAX)
		ydoc_err(err, v, "the JWKS '%s' is over 150 KB", path);
	else if (rules_jwks_parse(&cfg->arena, text, len, &j->keys, &j->nkeys, msg, sizeof(msg)))
		ydoc_err(err, v, "JWKS '%s': %s", path, msg);
	else
		rc = 0;
	free(text);
	return rc;
}

static int text_check(const struct ynode *v, const char *what, const char *s, struct lb_err *err)
{
	if (!*s || strlen(s) > JWT_TEXT_MAX)
		return ydoc_err(err, v, "'%s' must be 1-%d characters", what, JWT_TEXT_MAX);
	return 0;
}

static int claim_load(struct config *cfg, const struct ynode *n, struct jwt_claim *c, struct lb_err *err)
{
	static const char *const builtin[] = { "exp", "iss", "nbf", "iat" };
	const struct ynode *name = ydoc_get(n, "name"), *values = ydoc_get(n, "values");
	int format;

	if (ydoc_fields(n, "additional_claims", claim_fields, ARRAY_LEN(claim_fields), NULL, NULL, err) ||
	    ydoc_enum(ydoc_get(n, "format"), "format", claim_formats, ARRAY_LEN(claim_formats), &format,
		      err) ||
	    ydoc_str(name, "name", &c->name, err) || text_check(name, "name", c->name, err))
		return -1;
	c->format = (enum jwt_claim_format)format;
	/* Why: "You can't specify exp, iss, nbf, or iat because we validate them by default." */
	for (size_t i = 0; i < ARRAY_LEN(builtin); i++)
		if (strcmp(c->name, builtin[i]) == 0)
			return ydoc_err(err, name, "'%s' is validated by default: not an additional claim",
					c->name);
	c->name = arena_strdup(&cfg->arena, c->name);
	if (ydoc_str_list(values, "values", &cfg->arena, &c->values, &c->nvalues, err))
		return -1;
	if (c->nvalues == 0 || c->nvalues > JWT_CLAIM_VALUES_MAX)
		return ydoc_err(err, values, "'values' holds 1-%d values", JWT_CLAIM_VALUES_MAX);
	for (size_t i = 0; i < c->nvalues; i++) {
		if (text_check(values->items[i], "values", c->values[i], err))
			return -1;
		/* Why: "If the format is space-separated-values, the values can't include spaces." */
		if (c->format == JWT_CLAIM_SPACE_SEPARATED && strchr(c->values[i], ' '))
			return ydoc_err(err, values->items[i], "space-separated-values can't include spaces");
	}
	return 0;
}

int rules_jwt_load(struct config *cfg, const struct ynode *body, struct jwt_validation_cfg **out,
		   struct lb_err *err)
{
	struct jwt_validation_cfg *j = arena_alloc(&cfg->arena, sizeof(*j));
	struct jwt_fields f = { 0 };
	const struct ynode *claims;

	j->pos = (struct src_pos){ body->file, body->line, body->col };
	if (ydoc_fields(body, "jwt_validation", jwt_fields, ARRAY_LEN(jwt_fields), &f, &cfg->arena, err) ||
	    text_check(ydoc_get(body, "issuer"), "issuer", f.issuer, err) ||
	    text_check(ydoc_get(body, "jwks_endpoint"), "jwks_endpoint", f.jwks_endpoint, err))
		return -1;
	j->issuer = f.issuer;
	j->jwks_endpoint = f.jwks_endpoint;
	if (jwks_load(cfg, ydoc_get(body, "jwks_endpoint"), j, err))
		return -1;
	if ((claims = ydoc_get(body, "additional_claims"))) {
		if (ydoc_list(claims, "additional_claims", YNODE_MAPPING, err))
			return -1;
		if (claims->n > JWT_CLAIMS_MAX)
			return ydoc_err(err, claims->items[JWT_CLAIMS_MAX], "at most %d additional claims",
					JWT_CLAIMS_MAX);
		j->nclaims = claims->n;
		j->claims = arena_alloc(&cfg->arena, (claims->n + 1) * sizeof(*j->claims));
		for (size_t i = 0; i < claims->n; i++)
			if (claim_load(cfg, claims->items[i], &j->claims[i], err))
				return -1;
	}
	*out = j;
	return 0;
}
