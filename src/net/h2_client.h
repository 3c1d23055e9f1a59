/*
 * h2_client: HTTP/2 toward targets of `protocol_version: HTTP2 | GRPC`
 * groups (alb-http-targets-and-tls.md §1.2), with nghttp2's client session:
 * h2c with prior knowledge for `protocol: HTTP` targets, ALPN h2 over TLS
 * (certificate not checked, as ALB toward targets) for `protocol: HTTPS`.
 * One connection per origin carries every exchange to it, multiplexed;
 * a GOAWAY retires it (its streams run out, new exchanges open another).
 *
 * The interface is http_client's (same options, callbacks and errors), so
 * the HTTP target drives both alike: the request head is given as the
 * HTTP/1.1 head proxy_request_head writes (mapped by alb/h2_req_head), the
 * body as unframed bytes; the answer comes as a struct http_reply and body
 * spans. Flow control both ways: send returns what is buffered toward the
 * target (past HTTP_CLIENT_HIGH_WATER wait for on_drain); while paused the
 * answer's bytes are not acknowledged, so the target stops at the stream's
 * window. An exchange is freed right after on_end or on_error returns, or
 * by h2_exchange_cancel.
 */
#ifndef LB_NET_H2_CLIENT_H
#define LB_NET_H2_CLIENT_H

#include "net/http_client.h"

struct h2_client;
struct h2_exchange;

struct h2_client *h2_client_new(struct event_base *base);
/* Idle connections (no exchange) close after this many seconds (default 60). */
void h2_client_set_idle_timeout(struct h2_client *hc, int seconds);
/* Closes every connection; exchanges in flight are dropped without callbacks. NULL-safe. */
void h2_client_free(struct h2_client *hc);

/* As http_client_start (opt->fresh is ignored: streams share the connection). */
struct h2_exchange *h2_client_start(struct h2_client *hc, const struct http_origin *origin, const char *head,
				    size_t n, const struct http_exchange_opts *opt,
				    const struct http_exchange_cbs *cbs, void *cookie);
size_t h2_exchange_send(struct h2_exchange *x, const char *p, size_t n);
void h2_exchange_request_done(struct h2_exchange *x);
/* The answer's trailers (gRPC's grpc-status) go to fn, with the exchange's
 * cookie, just before on_end; without fn they are dropped. */
typedef void (*h2_trailers_fn)(void *cookie, const struct http_header *h, size_t n);
void h2_exchange_on_trailers(struct h2_exchange *x, h2_trailers_fn fn);
void h2_exchange_pause(struct h2_exchange *x);
void h2_exchange_resume(struct h2_exchange *x);
/* Abandons the exchange (RST_STREAM CANCEL): no more callbacks. NULL-safe. */
void h2_exchange_cancel(struct h2_exchange *x);

#endif
