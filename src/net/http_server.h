/*
 * http_server: lb's one HTTP/1.1 server on libevent, reading with h1_read.
 * It serves the front end (ALB's listeners: keep-alive, pipelining, chunked
 * bodies, Expect: 100-continue, ALB's limits and desync mitigation), the
 * Runtime API of each sandbox and lb's Invoke API; the settings say which
 * rules apply.
 *
 * It never decides what to answer: every request, good or bad, goes to its
 * owner through the callbacks below, and the owner answers — at once or
 * later (a Lambda invocation, a target's answer) — with a whole response
 * (http_server_respond) or a streamed one (http_server_stream_*), in
 * request order.
 */
#ifndef LB_NET_HTTP_SERVER_H
#define LB_NET_HTTP_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alb/desync.h"
#include "alb/http_msg.h"
#include "base/err.h"
#include "base/util.h"
#include "net/h1_read.h"

struct event_base;
struct http_server;
struct http_listener;
struct tls_listener;

struct http_server_cbs {
	/*
	 * A request's head has been parsed. The owner sets req->keep_body and
	 * req->body.max (the body is stored), or req->stream_body (its bytes go
	 * to on_body as they arrive), and may answer at once (e.g. 413): the
	 * connection then closes after the answer, since the body was not read.
	 */
	void (*on_head)(void *cookie, struct http_request *req);
	/* Body bytes of a req->stream_body request, de-chunked; after an
	 * upgrade (101), the tunnel's bytes from the client. May be NULL. */
	void (*on_body)(void *cookie, struct http_request *req, const char *p, size_t n);
	/* The whole request has arrived: answer now or later. */
	void (*on_request)(void *cookie, struct http_request *req);
	/*
	 * The request cannot be served: status is 400 (malformed, over a limit,
	 * blocked by desync mitigation, the client left mid-body), 408 (idle
	 * timeout mid-request) or 501 (unsupported Transfer-Encoding). The
	 * owner answers at once; the connection closes after it. req->method is
	 * empty when the request line itself was not understood; req->route is
	 * what on_head left there (NULL if it was not called).
	 */
	void (*on_error)(void *cookie, struct http_request *req, int status);
	/* The client went away while req was the owner's (after on_request,
	 * or during a streamed body or answer, or a tunnel). req must not be
	 * used after this returns. */
	void (*on_abort)(void *cookie, struct http_request *req);
	/* A streamed answer's output, once past HTTP_SERVER_HIGH_WATER, has
	 * drained below the low watermark: more may be written. May be NULL. */
	void (*on_drain)(void *cookie, struct http_request *req);
	/* An answer http_server_answer_held kept has left lb whole (whole), or
	 * never will: the client reset its stream, left, or let the idle
	 * timeout end the connection with it held back. req->sent_bytes counts
	 * what left; req must not be used after this returns. May be NULL. */
	void (*on_sent)(void *cookie, struct http_request *req, bool whole);
};

/* Buffered output of a streamed answer past which its writer should wait for on_drain. */
#define HTTP_SERVER_HIGH_WATER (256 * 1024)

struct http_server_settings {
	int idle_timeout;              /* seconds without a byte before closing (408 mid-request); 0: none */
	int client_keep_alive;         /* seconds a client connection may be reused; 0: no limit */
	struct h1_limits limits;       /* request limits and desync mitigation */
};

/* Returns a new server; cbs and rng are borrowed and must outlive it (rng
 * makes the connection trace ids of the access log; NULL for none). */
struct http_server *http_server_new(struct event_base *base, const struct http_server_cbs *cbs,
				    void *cookie, struct rng *rng);
void http_server_configure(struct http_server *s, const struct http_server_settings *set);
/* Binds a listener (numeric address or "localhost"; port 0 picks a free one).
 * Returns NULL with err set on failure; what names it in the error. */
struct http_listener *http_server_listen(struct http_server *s, const char *what, const char *address,
					 int port, struct lb_err *err);
uint16_t http_listener_port(const struct http_listener *l);
/* Listeners bound from now on share their port with other sockets (SO_REUSEPORT: `workers`). */
void http_server_set_reuse_port(struct http_server *s, bool on);
/* The idle timeout applies only to a request being read (its head begun, or
 * its body): connections between requests, and those waiting for an answer,
 * stay open however long they idle (the Runtime API's long-poll). */
void http_server_set_idle_mid_request_only(struct http_server *s, bool on);
/* With n connections open, a new one is closed at once (one warning, naming
 * who, each time the cap is reached); 0: no cap (the default). who is copied. */
void http_server_set_max_conns(struct http_server *s, size_t n, const char *who);
/* A client's FIN after a whole request is taken as a half-close: that
 * request and any pipelined behind it are answered, then the connection
 * closes. Off (the default), the FIN is the client leaving (on_abort). */
void http_server_set_answer_half_closed(struct http_server *s, bool on);
/* Connections accepted so far; any thread may read it. */
uint64_t http_server_accepted(const struct http_server *s);
/* The index reported in req->listener for requests arriving on l. */
void http_listener_set_index(struct http_listener *l, int index);
/* Makes l an HTTPS listener with tls (taking ownership; the previous one
 * is freed, connections it accepted keep their TLS), or HTTP with NULL. */
void http_listener_set_tls(struct http_listener *l, struct tls_listener *tls);
/* Headers added to every answer on connections l accepts from now on, in
 * place of any the answer has by those names (a listener's
 * routing.http.response.* attributes); no_server drops ALB's own Server
 * header. Copies names[0..n) and values. */
void http_listener_set_answer_headers(struct http_listener *l, const char *const *names,
				      const char *const *values, size_t n, bool no_server);
/* Stops accepting on l; connections it accepted carry on (ending after their request). */
void http_listener_close(struct http_listener *l);

/*
 * Queues the whole answer to req (borrowed; req stays valid until the
 * owner's callback returns). date is an IMF-fixdate. Returns the bytes
 * queued; req->sent_bytes counts them too (HTTP/2: as its frames go out).
 */
size_t http_server_respond(struct http_request *req, const struct http_response *resp, const char *date);

/* A streamed answer's head: a target's status and headers, passed on. */
struct http_stream_head {
	int status;
	struct sv reason;
	const struct http_header *headers;  /* end to end: no hop-by-hop or Transfer-Encoding,
					     * Content-Length kept where the body's length is known */
	size_t nheaders;
	enum http_framing framing;          /* how the body to come is delimited at its source */
	bool no_body;                       /* no body follows (HEAD, 1xx, 204, 304) */
	bool close;                         /* close the connection after it */
};

/*
 * Starts a streamed answer. The server frames the body for the client:
 * as it came when its length is known, chunked for an HTTP/1.1 client
 * otherwise, until close for HTTP/1.0. A 101 turns the connection into a
 * tunnel: bytes pass both ways unframed (on_body and stream_body) until
 * either side closes. Returns the head's bytes.
 */
size_t http_server_stream_head(struct http_request *req, const struct http_stream_head *h);
/* Body bytes of a streamed answer (copied). Returns the output buffered
 * for the client: past HTTP_SERVER_HIGH_WATER, wait for on_drain. */
size_t http_server_stream_body(struct http_request *req, const char *p, size_t n);
/* The streamed answer is complete; req is the server's again (like after
 * http_server_respond). */
void http_server_stream_end(struct http_request *req);
/* Trailers (copied) for a streamed answer, before http_server_stream_end: sent
 * to HTTP/2 clients (gRPC's grpc-status), dropped for HTTP/1. */
void http_server_stream_trailers(struct http_request *req, const struct http_header *h, size_t n);
/* The streamed answer cannot be completed (its source failed mid-body, or
 * a tunnel's other side closed): the connection closes once what is queued
 * has been written; req is the server's again. */
void http_server_stream_abort(struct http_request *req);

/*
 * Called once req's answer is queued whole (respond, stream_end or
 * stream_abort): true if it is still in lb and the owner hears on_sent
 * once it has left or never can, which an HTTP/2 client's flow control
 * decides; req stays valid until then. false (nothing to wait for) for
 * HTTP/1, whose answer is in the connection's output, and when the owner
 * has no on_sent.
 */
bool http_server_answer_held(struct http_request *req);

/* Stops and restarts reading the client's bytes (flow control for a
 * streamed body or a tunnel whose other side is slow). */
void http_server_pause_reading(struct http_request *req);
void http_server_resume_reading(struct http_request *req);

/* Stops accepting, closes idle connections, and lets requests in flight finish
 * (their connections close after the answer). */
void http_server_shutdown(struct http_server *s);
size_t http_server_connections(const struct http_server *s);
/* Closes every connection (requests the owner holds get on_abort) and frees s. NULL-safe. */
void http_server_free(struct http_server *s);

#endif
