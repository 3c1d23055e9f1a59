/*
 * h2_client_int.h: what h2_client.c (connections, exchanges, the interface)
 * and h2_client_recv.c (the target's answers, read by nghttp2's callbacks)
 * share.
 */
#ifndef LB_NET_H2_CLIENT_INT_H
#define LB_NET_H2_CLIENT_INT_H

#include <nghttp2/nghttp2.h>

#include "alb/h2_req_head.h"
#include "net/h2_client.h"

struct h2_conn;

struct h2_exchange {
	struct h2_conn *conn;
	struct h2_exchange *prev, *next;
	const struct http_exchange_cbs *cbs;
	void *cookie;
	int32_t id;                   /* 0 until submitted */
	bool has_body;
	bool request_done;
	bool deferred;                /* the data source waits for bytes */
	bool want_drain;
	bool head_request;
	bool head_seen;               /* the final answer's head went to on_head */
	bool paused;
	size_t unconsumed;            /* answer bytes not yet acknowledged (paused) */
	int idle_timeout;
	struct header_list nv;        /* request fields; views into head */
	struct buf head;              /* the HTTP/1.1 head, copied */
	struct evbuffer *out;         /* request body toward the target */
	struct http_reply reply;
	size_t *offs;                 /* answer fields as offsets into reply.head: name, len, value, len */
	size_t noffs, cap_offs;
	struct buf trail;             /* the trailers' names and values */
	size_t *toffs, ntoffs, cap_toffs;
	struct http_header *th;
	size_t cap_th;
	h2_trailers_fn on_trailers;
	struct event *idle;
	enum http_client_error pending;   /* reported by idle firing at once */
	bool failed;
};

struct h2_conn {
	struct h2_client *hc;
	struct h2_conn *prev, *next;
	char key[80];                 /* "http://127.0.0.1:80": its scheme and address */
	struct http_origin origin;
	struct http_origin_pref *pref;  /* the origin's, kept by the client */
	bool on_alt;                  /* toward the origin's alternate address */
	bool fell_back;               /* the other address refused it first */
	bool tls;
	bool connected;
	bool retired;                 /* GOAWAY either way or a failure: no new streams */
	bool in_session;              /* inside nghttp2_session_mem_recv/mem_send */
	struct bufferevent *bev;
	nghttp2_session *session;
	struct event *timer;          /* connect timeout, then idle close */
	struct event *kill;           /* closes the connection from the loop */
	enum http_client_error kill_error;
	struct h2_exchange *xs;
	int connect_timeout;          /* seconds, for each address tried */
};

void h2x_free(struct h2_exchange *x);
/* Any byte of the stream, either way, restarts its idle timer. */
void h2x_touch(struct h2_exchange *x);
/* Fails x from the event loop (never inside nghttp2's callbacks). */
void h2x_fail_later(struct h2_exchange *x, enum http_client_error e);
/* Sets the callbacks that read the target's answers (h2_client_recv.c). */
void h2_client_recv_callbacks(nghttp2_session_callbacks *cb);

#endif
