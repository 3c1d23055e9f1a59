/*
 * jwt: ALB's jwt-validation action (alb-listener-rules.md §2.5): the bearer
 * token of a request checked against the action's JWKS keys, issuer and
 * additional claims. Pure: the signature check itself is the caller's
 * (auth/jwt_rsa.c, OpenSSL), passed in as a function.
 */
#ifndef LB_JWT_H
#define LB_JWT_H

#include <stdint.h>

#include "alb/http_msg.h"
#include "config/config.h"

enum jwt_verdict {
	JWT_VALID,
	JWT_MISSING,   /* no "Authorization: Bearer" token */
	JWT_INVALID,   /* a token that does not pass */
};

/* Whether sig is key's RS256 signature of input: 1 yes, 0 no. */
typedef int (*jwt_verify_fn)(void *ctx, struct jwk_rsa *key, struct sv input, const uint8_t *sig,
			     size_t sig_len);

/*
 * Checks req's bearer token at time now (Unix seconds). On JWT_INVALID,
 * *reason says why in a few words ("the token has expired").
 */
enum jwt_verdict jwt_check(const struct jwt_validation_cfg *cfg, const struct http_request *req,
			   int64_t now, jwt_verify_fn verify, void *ctx, const char **reason);

/* The WWW-Authenticate value ALB's 401 carries for a verdict (RFC 6750 §3). */
const char *jwt_www_authenticate(enum jwt_verdict v);

#endif
