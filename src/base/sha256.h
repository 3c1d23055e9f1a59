/*
 * sha256: SHA-256 (FIPS 180-4) and HMAC-SHA256 (RFC 2104), pure C so the
 * pure layers (SigV4 signing in alb/) need no crypto library. Checked by the
 * SigV4 test suite and the FIPS/RFC 4231 vectors in tests/unit/test_sigv4.c.
 */
#ifndef LB_SHA256_H
#define LB_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_LEN 32

struct sha256 {
	uint32_t h[8];
	uint64_t bytes;
	uint8_t block[64];
	size_t used;
};

void sha256_init(struct sha256 *s);
void sha256_update(struct sha256 *s, const void *p, size_t n);
void sha256_final(struct sha256 *s, uint8_t out[SHA256_LEN]);
/* One shot. */
void sha256(const void *p, size_t n, uint8_t out[SHA256_LEN]);
/* Lower-case hex of the SHA-256 of p (64 characters and a NUL). */
void sha256_hex(const void *p, size_t n, char out[2 * SHA256_LEN + 1]);
void hmac_sha256(const void *key, size_t kn, const void *msg, size_t mn, uint8_t out[SHA256_LEN]);

#endif
