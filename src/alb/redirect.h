/*
 * redirect: expands a redirect action into the Location URL ALB sends
 * (alb-listener-rules.md §2.3): components not given keep their original
 * values, and #{protocol} #{host} #{port} #{path} #{query} are replaced by the
 * request's. Pure.
 */
#ifndef LB_REDIRECT_H
#define LB_REDIRECT_H

#include "base/buf.h"
#include "config/config.h"
#include "base/util.h"

struct redirect_request {
	struct sv protocol;  /* "http" or "https" */
	struct sv host;      /* the request's host, without port */
	struct sv port;      /* the listener port, decimal */
	struct sv path;      /* raw path, starting with '/' */
	struct sv query;     /* raw query, without '?' */
};

/* Appends the Location URL to out, any control byte in it percent-encoded;
 * -1 (out unchanged) if out's maximum would be passed. */
int redirect_location(const struct redirect_cfg *r, const struct redirect_request *in, struct buf *out);

#endif
