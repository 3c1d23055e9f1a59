/*
 * http_conn: what http_server.c (connections, answers, listeners) and
 * http_read.c (reading one request with llhttp) share. Private to those two
 * files; everything else uses http_server.h.
 */
#ifndef LB_HTTP_CONN_H
#define LB_HTTP_CONN_H

#include <stdbool.h>
#include <stdint.h>

#include <event2/bufferevent.h>
#include <llhttp.h>

#include "base/buf.h"
#include "net/http_server.h"

enum conn_state { CONN_HEAD, CONN_BODY, CONN_WAIT, CONN_DONE, CONN_CLOSING, CONN_LINGER };

struct http_listener {
	struct http_server *srv;
	struct evconnlistener *ev;
	struct http_listener *prev, *next;
	int index;
	uint16_t port;
};

struct conn {
	struct http_server *srv;
	struct conn *prev, *next;
	struct bufferevent *bev;        /* writes (and write timeouts) */
	struct event *read_ev;          /* reads, with the idle timeout */
	bool read_paused;               /* input past INPUT_HIGH_WATER while a request is in flight */
	struct event *resume;
	struct http_listener *listener; /* NULL once that listener is closed */
	int listener_index;
	uint16_t local_port;
	enum conn_state state;
	llhttp_t parser;
	struct http_request req;

	/* head scanning */
	bool started;           /* a byte of the current request has arrived */
	size_t scan;            /* head bytes examined so far */
	size_t line_start;      /* offset of the line being scanned */
	size_t headers_start;   /* offset of the first header line, 0 before it */

	/* parser results for the current request */
	bool head_parsed;
	bool message_done;
	bool te_unsupported;
	bool in_field;          /* llhttp is inside a header name */
	bool in_parse;
	bool close_after;       /* desync: serve, then close (Ambiguous in defensive mode) */

	int64_t born_mono_us;
	struct desync_header *dhdrs;
	size_t dcap;
	struct buf out;         /* response head scratch */

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
	llhttp_settings_t parser_settings;
};


/* http_read.c: reading a request. */
void conn_parser_settings_init(llhttp_settings_t *s);
void conn_parser_init(struct conn *c);
/* Resets c for its next request (connection facts copied into it). */
void conn_start_request(struct conn *c);
/* Moves a complete head from the input into req->head. 1: done, 0: need more, -1: over a limit. */
int conn_read_head(struct conn *c);
/* Classifies, parses and shows the head to the router. 0: read the body, -1: answered. */
int conn_handle_head(struct conn *c);
/* Runs llhttp over buffered input. 1: the message is complete, 0: need more, -1: answered. */
int conn_pump_body(struct conn *c);

/* http_server.c: answering. */
void conn_fail(struct conn *c, int status);
void conn_flush(struct conn *c);

#endif
