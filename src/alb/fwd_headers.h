/*
 * fwd_headers: the header list ALB sends toward a target for a request
 * (alb-http-targets-and-tls.md §1.4, alb-listener-rules.md §4.1):
 * X-Forwarded-For per the xff mode, X-Forwarded-Proto, X-Forwarded-Port,
 * X-Amzn-Trace-Id, Host per preserve_host_header, Expect consumed, invalid
 * names dropped when drop_invalid_header_fields is on. Pure.
 */
#ifndef LB_FWD_HEADERS_H
#define LB_FWD_HEADERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "config/config.h"
#include "alb/http_msg.h"

/* Headers toward a target. Views point into the request or into mem. */
struct header_list {
	struct http_header *v;
	size_t n, cap;
	struct buf mem;
};

void header_list_init(struct header_list *l);
void header_list_reset(struct header_list *l);
void header_list_release(struct header_list *l);
/* Appends a header; its views must outlive l's use (or point into l->mem once it stops growing). */
void header_list_add(struct header_list *l, struct sv name, struct sv value);

/* ALB answers 463 when the X-Forwarded-For headers hold more than this many addresses. */
#define FWD_XFF_MAX 30

/* Number of addresses in all the request's X-Forwarded-For headers. */
size_t fwd_xff_count(const struct http_request *req);

/*
 * Fills out (reset first) with the headers toward a target, in the request's
 * order, with Host rewritten in place and X-Forwarded-For, X-Forwarded-Proto,
 * X-Forwarded-Port and X-Amzn-Trace-Id (trace_id) replacing any the client sent.
 */
void fwd_headers_build(const struct http_request *req, const struct lb_attributes *attrs,
		       struct sv trace_id, struct header_list *out);

#endif
