/*
 * transform: ALB's rule transforms (alb-listener-rules.md §2.6), the
 * host-header-rewrite and url-rewrite of the rule a request matched,
 * applied after routing and before the action, so conditions saw the
 * original request and targets (Lambda events, HTTP requests) see the
 * rewritten one. Pure: a function of the rule and the request, writing into
 * a caller's buffer; allocation-free once that buffer has grown.
 */
#ifndef LB_TRANSFORM_H
#define LB_TRANSFORM_H

#include <stdbool.h>

#include "alb/http_msg.h"
#include "base/buf.h"
#include "config/config.h"

/* Longest results lb forwards: a DNS name, and ALB's 8K URL limit (§2.3). */
#define TRANSFORM_HOST_MAX 255
#define TRANSFORM_URI_MAX 8192

/* The access log's request_transform_status (§5.1 field 33; its value set
 * is unverified: lb's words). */
#define TRANSFORM_STATUS_OK "success"
#define TRANSFORM_STATUS_FAILED "failed"

enum transform_result {
	TRANSFORM_NO_MATCH,   /* the regex did not match: the original is kept */
	TRANSFORM_APPLIED,
	TRANSFORM_FAILED,     /* it matched, but the rewrite failed: ALB answers 500 */
};

/*
 * Applies one rewrite to subject: when rw's regex matches, the matched text
 * is replaced by rw->replace with $N / ${N} expanded to group N ($0 the
 * whole match; a group that did not take part is empty; '$' before anything
 * else is a literal '$'), and the whole result appended to out.
 */
enum transform_result transform_rewrite(const struct rule_rewrite *rw, struct sv subject, struct buf *out);

/*
 * The highest group replace refers to ($12 → 12), for the load-time check
 * against the regex's capture count; 0 when it refers to none. A number
 * past any regex's groups is capped (it still exceeds them). ref, if not
 * NULL, gets the first reference to that group as written ("${12}",
 * "$99999999999"), a view into replace; empty when there is none.
 */
unsigned transform_max_group(const char *replace, struct sv *ref);

/* What the rule's transforms made of a request (views into the caller's buffer). */
struct transform_out {
	bool host_set, uri_set;
	struct sv host;       /* the rewritten host name, without port */
	struct sv host_value; /* the Host value toward targets: host plus the client's ":port" */
	struct sv uri;        /* the rewritten path?query */
	const char *status;   /* NULL (no transform applied), TRANSFORM_STATUS_OK or _FAILED */
};

/*
 * Runs the rule's transforms over req: the host-header-rewrite over the host
 * name (http_request_host: without port), the url-rewrite over "path?query"
 * (re-split at its first '?' afterwards). A result that is no valid host
 * name or origin-form target (too long, control characters, spaces, no
 * leading '/') fails. mem is reset and holds the results. Returns -1 when a
 * transform failed (the answer is ALB's 500), else 0.
 */
int transform_request(const struct rule *rule, const struct http_request *req, struct buf *mem,
		      struct transform_out *out);

/* Points req's target, path, query and Host (or absolute-form authority)
 * at out's results; mem must outlive req's use of them. */
void transform_commit(struct http_request *req, const struct transform_out *out);

#endif
