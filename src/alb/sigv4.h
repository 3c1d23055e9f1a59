/*
 * sigv4: AWS Signature Version 4 for requests lb sends to AWS (Lambda's
 * Invoke API), pure: no clock, no I/O (aws-integration.md §1). Every step
 * is exposed so tests compare each one with AWS's published test suite
 * (tests/data/sigv4-test-suite) and the Lambda vectors of §1.12.
 */
#ifndef LB_ALB_SIGV4_H
#define LB_ALB_SIGV4_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/util.h"

struct sigv4_header {
	struct sv name;       /* any case */
	struct sv value;      /* as sent; trimmed and collapsed for signing */
};

struct sigv4_request {
	struct sv method;
	struct sv path;       /* the path as on the request line (already percent-encoded once) */
	struct sv query;      /* the query after '?', or empty */
	const struct sigv4_header *headers;   /* every header to sign (host and x-amz-date included) */
	size_t nheaders;
	const char *payload_hash;             /* lower-case hex SHA-256 of the body */
};

struct sigv4_credentials {
	const char *access_key;
	const char *secret_key;
};

struct sigv4_scope {
	const char *amz_date;   /* YYYYMMDD'T'HHMMSS'Z', the X-Amz-Date sent */
	const char *region;
	const char *service;    /* "lambda" */
};

/* What signing produced, each step kept for tests and for debugging a 403. */
struct sigv4_result {
	struct buf creq;        /* the canonical request */
	struct buf sts;         /* the string to sign */
	struct buf authz;       /* the Authorization header's value */
	char signature[65];
};

/* Signs r; out's buffers are (re)filled. Release them with sigv4_result_release. */
void sigv4_sign(const struct sigv4_request *r, const struct sigv4_credentials *c, const struct sigv4_scope *s,
		struct sigv4_result *out);
void sigv4_result_release(struct sigv4_result *out);

/* UriEncode: every byte but A-Z a-z 0-9 - _ . ~ as %XX (upper-case hex). */
void sigv4_uri_encode(struct buf *out, struct sv s);
/* The canonical URI of a wire path: dot segments and repeated slashes removed,
 * then each segment UriEncoded again (the non-S3 double encoding, §1.3). */
void sigv4_canonical_uri(struct buf *out, struct sv path);
/* The canonical query string: pairs decoded, UriEncoded once, sorted by name then value (§1.4). */
void sigv4_canonical_query(struct buf *out, struct sv query);
/* X-Amz-Date of a Unix time: "20150830T123600Z". */
void sigv4_amz_date(int64_t unix_seconds, char out[17]);

#endif
