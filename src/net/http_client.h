/*
 * http_client: lb's one HTTP/1.1 client, for HTTP targets, their health
 * checks and remote Lambda endpoints. One exchange (a request and its
 * answer) per connection at a time, never pipelined; connections that both
 * sides keep alive go back to a pool per origin and are reused, as ALB does
 * toward targets (alb-http-targets-and-tls.md §1.3). No connection is opened
 * before it is needed.
 *
 * The caller writes the request (head bytes, then body bytes, framed as it
 * chose) and hears the answer through callbacks: its head, body spans
 * (de-chunked) and its end, or one error. Flow control both ways: send
 * reports what is buffered toward the target (past HTTP_CLIENT_HIGH_WATER
 * wait for on_drain), and pause/resume stop reading the answer.
 *
 * An exchange is freed by the client right after its last callback (on_end
 * or on_error) returns, or by http_exchange_cancel; the caller forgets its
 * pointer then.
 */
#ifndef LB_NET_HTTP_CLIENT_H
#define LB_NET_HTTP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "alb/http_msg.h"

struct addrinfo;
struct event_base;
struct http_client;
struct http_exchange;

#define HTTP_CLIENT_HIGH_WATER (256 * 1024)

/*
 * Where an exchange goes: an address, and the name of its pool. A host name
 * with both IPv4 and IPv6 addresses also has an alternate of the other family,
 * which a connection tries when the address refuses it; once the alternate has
 * taken a connection, the origin's next ones try it first (the client keeps
 * that per origin).
 */
struct http_origin {
	struct sockaddr_storage addr;
	socklen_t addr_len;
	char key[64];            /* "10.0.0.1:80", "[::1]:8080": the pool's name and the log's target:port */
	struct sockaddr_storage alt;
	socklen_t alt_len;       /* 0: no alternate */
	char alt_key[64];        /* the alternate's pool name */
};

enum http_client_error {
	HTTP_CLIENT_REFUSED,          /* the connection could not be made (refused, unreachable) */
	HTTP_CLIENT_CONNECT_TIMEOUT,  /* not connected within the connect timeout */
	HTTP_CLIENT_CLOSED,           /* closed or reset before the answer ended */
	HTTP_CLIENT_TIMEOUT,          /* no byte either way for the idle timeout */
	HTTP_CLIENT_MALFORMED,        /* not an HTTP/1 answer, or its head past 32 KB */
	HTTP_CLIENT_TLS,              /* the TLS handshake failed, or the certificate did not verify */
};

struct http_exchange_cbs {
	/* The answer's head (interim 1xx answers are skipped, an asked-for 101 is not). reply
	 * is valid until the exchange ends. */
	void (*on_head)(void *cookie, struct http_reply *reply);
	/* Body bytes, de-chunked; after a 101, the tunnel's bytes from the target. */
	void (*on_body)(void *cookie, const char *p, size_t n);
	/* The answer is complete (a tunnel: the target closed it). */
	void (*on_end)(void *cookie);
	void (*on_error)(void *cookie, enum http_client_error e);
	/* What send buffered past the high watermark has drained. May be NULL. */
	void (*on_drain)(void *cookie);
};

struct http_exchange_opts {
	int connect_timeout;     /* seconds */
	int idle_timeout;        /* seconds without a byte either way */
	bool head_request;       /* the request is HEAD: its answer has no body */
	bool upgrade;            /* the request asks to switch protocols: only then may a 101
	                          * answer it (and open a tunnel); any other 101 is malformed */
	bool fresh;              /* a new connection, closed afterwards (health checks) */
	bool tls;                /* HTTPS: connections to the origin speak TLS (pooled apart) */
	const char *tls_host;    /* with tls: the name sent as SNI and verified against the
	                          * certificate; NULL: no SNI and no verification (HTTPS targets) */
	bool tls_sni_only;       /* with tls_host: send it as SNI but verify nothing (the
	                          * console's replays to lb's own listeners) */
};

/* Returns a new client; idle pooled connections close after idle_timeout seconds. */
struct http_client *http_client_new(struct event_base *base);
void http_client_set_idle_timeout(struct http_client *hc, int seconds);
/* A PEM file of CAs trusted besides the system store when verifying (copied). */
void http_client_set_ca_file(struct http_client *hc, const char *path);
/* Closes every connection; exchanges in flight are dropped without callbacks. NULL-safe. */
void http_client_free(struct http_client *hc);

/*
 * Starts an exchange: head (copied) is the request's head; body bytes
 * follow with http_exchange_send. Failures to connect are reported through
 * on_error, later, like every other outcome.
 */
struct http_exchange *http_client_start(struct http_client *hc, const struct http_origin *origin,
					const char *head, size_t n, const struct http_exchange_opts *opt,
					const struct http_exchange_cbs *cbs, void *cookie);
/* Request body bytes (copied), already framed. Returns the bytes buffered toward the target. */
size_t http_exchange_send(struct http_exchange *x, const char *p, size_t n);
/* The request has been sent whole: without this the connection is not reused. */
void http_exchange_request_done(struct http_exchange *x);
/* Stops and restarts reading the answer (the client it goes to is slow). */
void http_exchange_pause(struct http_exchange *x);
void http_exchange_resume(struct http_exchange *x);
/* Abandons the exchange: no more callbacks; its connection closes, unless it is
 * still connecting (nothing sent yet): then it goes to its pool once made. NULL-safe. */
void http_exchange_cancel(struct http_exchange *x);
/* Whether the exchange went out on a pooled connection (a reused one). */
bool http_exchange_reused(const struct http_exchange *x);

/* Fills o from a numeric address and port. -1 if address is not one. */
int http_origin_numeric(struct http_origin *o, const char *address, int port);
/* Fills o from a host name or address (resolved now, blocking: local names). -1 on failure. */
int http_origin_resolve(struct http_origin *o, const char *host, int port);
/* Fills o from getaddrinfo's answer ai (borrowed, not empty): its first IPv4 address,
 * and its first IPv6 one as the alternate; a name of one family has no alternate. */
void http_origin_from_addrinfo(struct http_origin *o, const struct addrinfo *ai, int port);
/* Moves o, alternate included, to another port (a health check's). */
void http_origin_set_port(struct http_origin *o, int port);
/* o's address, or with alt its alternate; its length in *len. */
const struct sockaddr *http_origin_addr(const struct http_origin *o, bool alt, socklen_t *len);

/* Which of an origin's addresses its connections try first: a client keeps one per
 * origin, zeroed at first (the address, then the alternate). */
struct http_origin_pref {
	bool alt_first;          /* the alternate took the last connection made */
	bool logged;             /* the origin's first fallback has been logged */
};
/* Whether o's next connection tries its alternate first. */
bool http_origin_alt_first(const struct http_origin_pref *p, const struct http_origin *o);
/* A connection toward o's address (alt: its alternate) was made, after the other one
 * refused it when fell_back: p follows it. The first fallback is one log line, which
 * calls o what ("target", "endpoint"). */
void http_origin_answered(struct http_origin_pref *p, const struct http_origin *o, bool alt, bool fell_back,
			  const char *what);
/* As http_origin_resolve, but a name's answer is kept by hc for a minute: remote
 * endpoints (lambda.REGION.amazonaws.com) are looked up at most once a minute. */
int http_client_resolve(struct http_client *hc, struct http_origin *o, const char *host, int port);

#endif
