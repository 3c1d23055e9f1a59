/*
 * http_target: forwarding to an instance/ip target group
 * (alb-http-targets-and-tls.md §1): a target picked by stickiness or the
 * group's algorithm, the request streamed to it over the shared HTTP client
 * with ALB's headers, its answer streamed back with its own headers, or
 * ALB's 502/503/504 when it fails; WebSocket upgrades become tunnels.
 */
#ifndef LB_TARGETS_HTTP_TARGET_H
#define LB_TARGETS_HTTP_TARGET_H

#include <stdbool.h>

#include "alb/fwd_headers.h"
#include "base/buf.h"

struct forward;
struct http_exchange;
struct h2_exchange;
struct target_ops;
struct target_rt;

/* An HTTP forward's state (in struct forward, reused from request to request). */
struct http_fwd {
	struct http_exchange *x;       /* in flight, or NULL */
	struct h2_exchange *x2;        /* in flight over HTTP/2 (HTTP2/GRPC groups), or NULL */
	struct target_rt *target;      /* the target it went to (attached), or NULL */
	struct forward *prev, *next;   /* the target's forwards */
	int reject;                    /* a status decided at the head (503), answered when the request is in */
	bool chunked;                  /* the body goes to the target chunked */
	bool head_sent;                /* the answer's head went to the client */
	bool tunnel;
	bool request_in;               /* the whole request was read */
	bool app_binding;              /* the request carried a valid AWSALBAPP binding */
	struct header_list headers;    /* toward the target, then the answer's toward the client */
	struct buf head;               /* the request head */
	struct buf cookies;            /* target stickiness Set-Cookie values */
	struct buf scratch;
};

extern const struct target_ops http_target_ops;

void http_fwd_init(struct http_fwd *h);
void http_fwd_release(struct http_fwd *h);
/* f is cut while in flight, why saying by what (the stderr line): 502, as ALB
 * answers a request its deregistered target still held when the delay ended
 * (§1.9); a cut connection if the answer's head was sent. */
void http_fwd_cut(struct forward *f, const char *why);

#endif
