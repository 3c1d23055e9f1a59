/*
 * http_conn: what http_server.c (connections, reading), http_listener.c
 * (listening sockets) and http_answer.c (writing answers) share. Private to
 * those files; everything else uses http_server.h.
 */
#ifndef LB_NET_HTTP_CONN_H
#define LB_NET_HTTP_CONN_H

#include <stdbool.h>
#include <stdint.h>

#include <event2/bufferevent.h>

#include "net/h1_read.h"
#include "net/http_server.h"

/* While the owner holds a request, stop reading pipelined input past this. */
#define INPUT_HIGH_WATER (256 * 1024)
/* A streamed answer's writer hears on_drain once its backlog is below this. */
#define OUTPUT_LOW_WATER (64 * 1024)
/* Bytes asked of the kernel per read. */
#define READ_CHUNK (16 * 1024)
/* How long a closing connection keeps discarding input after its answer. */
#define LINGER_SECONDS 2

enum conn_state { CONN_HEAD, CONN_BODY, CONN_WAIT, CONN_DONE, CONN_TUNNEL, CONN_CLOSING, CONN_LINGER };

/* How a streamed answer's body goes to the client. */
enum out_framing { OUT_NONE, OUT_AS_IS, OUT_CHUNKED };

/*
 * What req->io points at: an HTTP/1 connection (struct conn) or an HTTP/2
 * stream (h2_server.c). Both begin with this tag, so the answer calls of
 * http_server.h find their writer with one compare.
 */
enum http_io_kind { HTTP_IO_H1, HTTP_IO_H2 };

static inline bool http_io_is_h2(const struct http_request *req)
{
	return *(const enum http_io_kind *)req->io == HTTP_IO_H2;
}

struct h2_conn;

struct tls_listener;
struct ssl_st;

/* Headers a listener adds to every answer (routing.http.response.*); shared
 * by the listener and its connections, freed with the last reference. */
struct answer_extra {
	int refs;
	size_t n;
	struct http_header *headers;    /* names and values owned here */
	bool no_server;                 /* routing.http.response.server.enabled: false */
};

void answer_extra_unref(struct answer_extra *x);

struct http_listener {
	struct http_server *srv;
	struct tls_listener *tls;       /* HTTPS: its certificates and policy; NULL for HTTP */
	struct answer_extra *extra;     /* NULL: none */
	struct evconnlistener *ev;
	struct event *accept_resume;    /* re-enables accepting after a pause (out of descriptors) */
	bool starved;                   /* accepting is paused, or failed since the last success */
	struct http_listener *prev, *next;
	int index;
	uint16_t port;
};

struct conn {
	enum http_io_kind io_kind;      /* HTTP_IO_H1 (0): first, see http_io_is_h2 */
	struct h2_conn *h2;             /* HTTP/2 serves this connection (h2_server.c) */
	struct http_server *srv;
	struct conn *prev, *next;
	struct bufferevent *bev;        /* writes (and write timeouts); for TLS, reads too */
	struct event *read_ev;          /* reads, with the idle timeout; for TLS a timer, the deadline of decrypted input */
	struct ssl_st *ssl;             /* HTTPS: the connection's TLS (owned by bev); else NULL */
	bool handshaking;               /* HTTPS: no request is read before the handshake ends */
	struct http_tls tls;            /* HTTPS: what the handshake negotiated */
	struct answer_extra *extra;     /* the listener's answer headers when accepted (a reference) */
	bool read_paused;               /* input past INPUT_HIGH_WATER while the owner holds a request */
	bool output_full;               /* answers past HTTP_SERVER_HIGH_WATER: no next request yet */
	bool owner_paused;              /* http_server_pause_reading */
	struct event *resume;
	struct event *flush_ev;         /* writes a streamed answer's pieces once the callback is done */
	struct http_listener *listener; /* NULL once that listener is closed */
	int listener_index;
	uint16_t local_port;
	enum conn_state state;
	struct h1_reader reader;
	struct http_request req;
	bool in_parse;                  /* conn_parse is on the stack */
	bool in_feed;                   /* h1_read is on the stack: input must not move */
	bool close_after;               /* serve, then close (desync, a closed listener) */
	bool peer_eof;                  /* the client half-closed (answer_half_closed): what it sent
	                                 * is served, then the connection closes */

	/* a streamed answer */
	bool streaming;
	bool stream_keep;               /* the connection may continue after it */
	enum out_framing framing;
	bool want_drain;
	int64_t active_us;              /* a tunnel's last byte, either way */
	uint64_t acked_mark;            /* bytes the client had acked when writing last waited */
	uint64_t idle_acked_mark;       /* the same, when the idle timeout last fired */

	int64_t born_mono_us;
	struct buf out;                 /* answer head scratch */

	/* connection facts copied into each request */
	int peer_family;
	uint8_t peer_addr[16];
	char peer_ip[46];
	uint16_t peer_port;
	char tid[37];
};

struct http_server {
	struct event_base *base;
	const struct http_server_cbs *cbs;
	void *cookie;
	struct rng *rng;
	struct http_server_settings set;
	struct http_listener *listeners;
	struct conn *conns;
	size_t nconns;
	bool stopping;
	bool reuse_port;             /* listeners bind with SO_REUSEPORT (`workers`) */
	bool idle_mid_request_only;  /* the idle timeout spares connections between requests */
	bool answer_half_closed;     /* a FIN after a whole request is a half-close, not a leave */
	uint64_t accepted;           /* connections accepted; written by its loop, read atomically */
	size_t max_conns;            /* past this many open, a new connection is closed; 0: no cap */
	bool capped;                 /* the cap's warning was given since the last accept under it */
	char *cap_who;               /* names the server in that warning */
};


/* http_server.c */
void conn_begin_close(struct conn *c);
/* The connection's facts a request carries: listener, ports, TLS, peer, trace id. */
void conn_request_facts(const struct conn *c, struct http_request *req);
/* Unlinks and frees c with its bufferevent and socket. */
void conn_free(struct conn *c);
/* Client connections open in the whole process: every server (listeners,
 * console, Invoke API, Runtime APIs) on every thread. */
size_t conn_count_in_process(void);
/* The listener's accept callback (arg: its struct http_listener). */
struct evconnlistener;
struct sockaddr;
void conn_on_accept(struct evconnlistener *ev, evutil_socket_t fd, struct sockaddr *sa, int salen, void *arg);
void conn_update_reading(struct conn *c);
/* Reads (again), with the idle timeout or tv. */
void conn_read_for(struct conn *c, const struct timeval *tv);

/* http_answer.c */
/* Writes queued output now; past what the socket takes, the write event finishes it. */
void conn_flush(struct conn *c);
/* Half-closes a closing connection once its answer is out, and discards input a while. */
void conn_linger(struct conn *c);
/* Whether name is one of the listener's answer headers (x may be NULL). */
bool answer_is_extra(const struct answer_extra *x, struct sv name);
/* resp with the listener's answer headers (routing.http.response.*) in place
 * of its own of those names; *tmp holds the merged list (free() it). */
struct http_response answer_with_extra(const struct answer_extra *x, const struct http_response *resp,
				       struct http_header **tmp);

#endif
