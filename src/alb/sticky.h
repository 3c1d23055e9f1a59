/*
 * sticky: ALB's target-group stickiness cookies (alb-listener-rules.md §2.2).
 * A forward with stickiness answers with AWSALBTG (and AWSALBTGCORS, for
 * cross-origin requests) naming the chosen target group; a request carrying
 * one goes to that group until the cookie expires. ALB encrypts the value;
 * lb signs it (SipHash-2-4 with a key made at start) so a changed or forged
 * cookie is refused, as ALB refuses one it cannot decrypt. Pure.
 *
 * The sealed record underneath (sticky_seal, sticky_open) also carries
 * target stickiness, AWSALB and AWSALBAPP-N (target_cookie.h): a kind byte
 * keeps one cookie's value from being replayed as another's.
 */
#ifndef LB_STICKY_H
#define LB_STICKY_H

#include <stdint.h>

#include "base/buf.h"
#include "alb/http_msg.h"
#include "base/util.h"

struct sticky_key {
	uint64_t k0, k1;
};

enum sticky_status {
	STICKY_NONE,       /* no cookie */
	STICKY_OK,         /* *name is the group it names */
	STICKY_INVALID,    /* present but not ours, or tampered (ALB: AWSALBTGCookieInvalid) */
	STICKY_EXPIRED,    /* authentic but past its duration */
};

/* Appends the cookie value for target group name, valid until expires (epoch s). */
void sticky_encode(struct buf *out, const struct sticky_key *key, struct sv name, int64_t expires);
/*
 * Reads the request's AWSALBTGCORS or AWSALBTG cookie (the CORS one wins, as
 * for AWSALB/AWSALBCORS). On STICKY_OK *name points into scratch.
 */
enum sticky_status sticky_decode(const struct http_request *req, const struct sticky_key *key,
				 int64_t now, struct buf *scratch, struct sv *name);
/* Appends both Set-Cookie values (AWSALBTG, then AWSALBTGCORS), each NUL-terminated,
 * and returns their offsets in out through *cors_at. */
void sticky_set_cookies(struct buf *out, const struct sticky_key *key, struct sv name, int64_t now,
			int duration, size_t *cors_at);

/*
 * Appends a sealed value: base64 of kind, then the n text fields (no NUL
 * inside), each after a NUL, then a SipHash-2-4 tag over all of it.
 */
void sticky_seal(struct buf *out, const struct sticky_key *key, char kind, const struct sv *fields,
		 size_t n);
/*
 * Opens a sealed value of kind: fields[0..*n) point into scratch. -1 when
 * it is not base64, its tag is wrong (tampered, or made with another key),
 * it is of another kind, or it holds more than max fields.
 */
int sticky_open(const struct sticky_key *key, struct sv value, char kind, struct buf *scratch,
		struct sv *fields, size_t max, size_t *n);
/* A sealed decimal expiry (epoch seconds); -1 when s is not one. */
int64_t sticky_expiry(struct sv s);
/* The value of the request's cookie named name (the last one of that name,
 * in any Cookie header), or SV_NULL. */
struct sv sticky_cookie(const struct http_request *req, const char *name);

/* SipHash-2-4 of n bytes (exposed for tests against the reference vectors). */
uint64_t siphash24(const struct sticky_key *key, const void *p, size_t n);

#endif
