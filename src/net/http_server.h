/*
 * http_server: ALB's HTTP/1.1 front end on libevent and llhttp. It accepts
 * connections on listeners, reads requests (keep-alive, pipelining, chunked
 * bodies, Expect: 100-continue), enforces ALB's request limits and desync
 * mitigation, and writes the responses the router gives it, in request order.
 *
 * It never decides what to answer: every request, good or bad, goes to the
 * router through the callbacks below, and the router answers with
 * http_server_respond, at once or later (a Lambda invocation).
 */
#ifndef LB_HTTP_SERVER_H
#define LB_HTTP_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "alb/desync.h"
#include "base/err.h"
#include "alb/http_msg.h"
#include "base/util.h"

struct event_base;
struct http_server;
struct http_listener;

struct http_server_cbs {
	/*
	 * A request's head has been parsed. The router sets req->keep_body and
	 * req->body.max, and may answer at once (e.g. 413): the connection then
	 * closes after the answer, since the body was not read.
	 */
	void (*on_head)(void *cookie, struct http_request *req);
	/* The whole request has arrived: answer now or later. */
	void (*on_request)(void *cookie, struct http_request *req);
	/*
	 * The request cannot be served: status is 400 (malformed, over a limit,
	 * blocked by desync mitigation), 408 (idle timeout mid-request) or 501
	 * (unsupported Transfer-Encoding). The router answers at once; the
	 * connection closes after it. req->method is empty when the request
	 * line itself was not understood.
	 */
	void (*on_error)(void *cookie, struct http_request *req, int status);
	/* The client went away while req was in flight (after on_request,
	 * before the answer). req must not be used after this returns. */
	void (*on_abort)(void *cookie, struct http_request *req);
};

struct http_server_settings {
	int idle_timeout;              /* seconds without a byte before closing (408 mid-request) */
	int client_keep_alive;         /* seconds a client connection may be reused */
	enum desync_mode desync_mode;
};

/* Returns a new server; cbs and rng are borrowed and must outlive it. */
struct http_server *http_server_new(struct event_base *base, const struct http_server_cbs *cbs,
				    void *cookie, struct rng *rng);
void http_server_configure(struct http_server *s, const struct http_server_settings *set);
/* Binds a listener (numeric address or "localhost"; port 0 picks a free one).
 * Returns NULL with err set on failure. */
struct http_listener *http_server_listen(struct http_server *s, const char *address, int port,
					 struct lb_err *err);
uint16_t http_listener_port(const struct http_listener *l);
/* The index reported in req->listener for requests arriving on l. */
void http_listener_set_index(struct http_listener *l, int index);
/* Stops accepting on l; connections it accepted carry on. */
void http_listener_close(struct http_listener *l);

/*
 * Queues the answer to req (borrowed; req stays valid until the caller's
 * callback returns). date is an IMF-fixdate. Returns the bytes queued, for
 * the access log's sent_bytes.
 */
size_t http_server_respond(struct http_request *req, const struct http_response *resp, const char *date);

/* Stops accepting, closes idle connections, and lets requests in flight finish
 * (their connections close after the answer). */
void http_server_shutdown(struct http_server *s);
size_t http_server_connections(const struct http_server *s);
/* Closes every connection (in-flight requests get on_abort) and frees s. NULL-safe. */
void http_server_free(struct http_server *s);

#endif
