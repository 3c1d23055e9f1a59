/*
 * http_client_int: what the HTTP client's files share. Private to them;
 * everything else uses http_client.h.
 *
 *   http_client.c      connections, pools, exchanges: writing requests, reading replies
 *   http_client_tls.c  HTTPS connections: the OpenSSL bufferevent, its events, sessions
 *   http_origin.c      origins: addresses, names resolved and kept a minute
 */
#ifndef LB_NET_HTTP_CLIENT_INT_H
#define LB_NET_HTTP_CLIENT_INT_H

#include <stdbool.h>
#include <stdint.h>

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <openssl/ssl.h>

#include "net/h1_read.h"
#include "net/http_client.h"

struct pool {
	struct pool *next;
	char key[64];
	bool tls;
	char *host;                    /* tls: the verified name, or NULL */
	bool sni_only;                 /* tls: host is sent as SNI, not verified */
	SSL_SESSION *session;          /* tls: the last one issued, offered to the next connection */
	struct hc_conn *idle;          /* most recently used first */
	struct http_origin_pref pref;  /* as an origin's own address's: which of its addresses goes first */
};

struct hc_conn {
	struct http_client *hc;
	struct hc_conn *prev, *next;   /* every connection of the client */
	struct hc_conn *idle_next;     /* in its pool, while idle */
	struct pool *pool;             /* that of the address it is made toward */
	struct pool *home;             /* that of its origin's address: the origin's http_origin_pref */
	struct http_origin origin;
	bool on_alt;                   /* toward the origin's alternate address */
	bool fell_back;                /* the other address refused it first */
	int connect_timeout;           /* seconds, for each address tried */
	struct bufferevent *bev;
	struct event *read_ev;
	struct event *timer;           /* the connect timeout; a failure to report */
	struct event *resume;
	struct h1_reader reader;
	struct http_reply reply;
	struct http_exchange *x;       /* NULL while idle */
	bool connected;
	bool fresh;                    /* made for one exchange (opts.fresh): never pooled */
	bool tls;
	bool tunnel;
	bool paused;
	bool in_cb;                    /* a callback of x's is on the stack */
	enum http_client_error pending_error;  /* reported from the timer */
	uint64_t acked_mark;           /* bytes the target had acked when writing last waited */
};

struct http_exchange {
	struct http_client *hc;
	struct http_exchange *next_free;
	struct hc_conn *conn;
	const struct http_exchange_cbs *cbs;
	void *cookie;
	struct http_exchange_opts opt;
	bool request_done;
	bool reused;
	bool cancelled;
	bool want_drain;
};

struct http_client {
	struct event_base *base;
	struct pool *pools;
	struct hc_conn *conns;
	struct http_exchange *free_exchanges;   /* reused: an exchange costs no allocation */
	int idle_timeout;
	struct tls_client *tls;        /* made with the first HTTPS connection */
	char *ca_file;
	struct resolved *resolved;     /* http_client_resolve's answers */
};

/* http_client.c */
void hc_conn_close(struct hc_conn *c);
/* Parses what c's input holds (the reply, or a tunnel's bytes). */
void hc_conn_parse(struct hc_conn *c);
/* The peer closed its side. */
void hc_conn_on_eof(struct hc_conn *c);
/* Reports an error, then frees c's exchange and closes c. */
void hc_exchange_fail(struct hc_conn *c, enum http_client_error e);
/* c's connection could not be made: true if it goes on toward its origin's
 * other address (tried once, before HTTP_CLIENT_REFUSED is reported). */
bool hc_conn_fall_back(struct hc_conn *c);
/* c's read timeout fired: no failure while the target still takes the
 * request's bytes (the timeout is armed again); else the exchange fails, or an
 * idle connection closes. */
void hc_conn_timed_out(struct hc_conn *c);

/* http_client_tls.c */
/* An OpenSSL bufferevent for c toward opt->tls_host (NULL: no TLS to be had). */
struct bufferevent *hc_tls_bev(struct hc_conn *c, const struct http_exchange_opts *opt);
/* The bufferevent's read callback (arg: c), and its events (from on_event). */
void hc_on_tls_read(struct bufferevent *bev, void *arg);
void hc_on_tls_event(struct hc_conn *c, short what);

/* http_origin.c */
/* Forgets the names http_client_resolve keeps. */
void hc_forget_names(struct http_client *hc);

#endif
