/*
 * jwt_rsa: RS256 signature checks for jwt-validation, with OpenSSL
 * (RSASSA-PKCS1-v1_5 with SHA-256, RFC 7518 §3.3). Keys come from the
 * configuration's JWKS; each is turned into an OpenSSL key once, on first
 * use, and freed with the configuration.
 */
#ifndef LB_JWT_RSA_H
#define LB_JWT_RSA_H

#include <stddef.h>
#include <stdint.h>

#include "config/config.h"

/* A jwt_verify_fn: ctx is the struct config that owns key. 1 valid, 0 not. */
int jwt_rsa_verify(void *ctx, struct jwk_rsa *key, struct sv input, const uint8_t *sig, size_t sig_len);

#endif
