/*
 * desync: ALB's HTTP desync mitigation (AWS http-desync-guardian): classify a
 * request as Compliant, Acceptable, Ambiguous or Severe with a reason code,
 * and decide what the configured mode does with it. Pure: it reads the raw
 * request head and touches nothing else.
 */
#ifndef LB_DESYNC_H
#define LB_DESYNC_H

#include <stdbool.h>
#include <stddef.h>

#include "base/util.h"

enum desync_class { DESYNC_COMPLIANT, DESYNC_ACCEPTABLE, DESYNC_AMBIGUOUS, DESYNC_SEVERE };

/* routing.http.desync_mitigation_mode */
enum desync_mode { DESYNC_MODE_MONITOR, DESYNC_MODE_DEFENSIVE, DESYNC_MODE_STRICTEST };

struct desync_verdict {
	enum desync_class cls;
	const char *reason;     /* ALB's code, e.g. "BothTeClPresent"; NULL when compliant */
};

/* A header exactly as it appeared: name is everything before the first ':'
 * (spaces included), value is what follows it without leading/trailing SP/HTAB. */
struct desync_header {
	struct sv name;
	struct sv value;
};

struct desync_request {
	struct sv method;
	struct sv uri;
	struct sv version;      /* "HTTP/1.1"; empty for HTTP/0.9 */
	const struct desync_header *headers;
	size_t nheaders;
};

/* The most severe finding over the whole request (first found among equals). */
struct desync_verdict desync_classify(const struct desync_request *req);

/*
 * Splits a raw request head (request line and header lines, through the empty
 * line or to the end of head) into *out. Header entries are stored in *hdrs
 * (grown as needed; the caller frees it). Line-level findings (bare LF line
 * ends, folded lines, lines without a colon) are merged into *parse_verdict.
 */
void desync_split_head(const char *head, size_t len, struct desync_request *out,
		       struct desync_header **hdrs, size_t *cap, struct desync_verdict *parse_verdict);

/* Classifies a raw head: desync_split_head + desync_classify, most severe wins. */
struct desync_verdict desync_classify_head(const char *head, size_t len,
					   struct desync_header **hdrs, size_t *cap);

enum desync_action {
	DESYNC_ALLOW,           /* serve normally */
	DESYNC_ALLOW_CLOSE,     /* serve, then close the client connection */
	DESYNC_BLOCK,           /* answer 400 and close */
};

/* What ALB does with a request of class cls in mode (alb-listener-rules.md §4.2). */
enum desync_action desync_decide(enum desync_mode mode, enum desync_class cls);
/* "Acceptable", "Ambiguous", "Severe"; NULL for compliant. */
const char *desync_class_name(enum desync_class cls);

#endif
