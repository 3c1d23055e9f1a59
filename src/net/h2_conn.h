/*
 * h2_conn: what h2_server.c (the session and its connection, the request
 * side), h2_stream.c (its streams, and the count of the client's errors)
 * and h2_answer.c (answers, as HEADERS and DATA from a stream's buffer)
 * share. Private to those files; everything else uses h2_server.h.
 */
#ifndef LB_NET_H2_CONN_H
#define LB_NET_H2_CONN_H

#include <stdbool.h>
#include <stdint.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <nghttp2/nghttp2.h>

#include "alb/h2_msg.h"
#include "base/buf.h"
#include "net/h2_server.h"
#include "net/http_conn.h"

struct h2_stream {
	enum http_io_kind io_kind;     /* HTTP_IO_H2: first, see http_io_is_h2 */
	struct h2_conn *hc;
	struct h2_stream *prev, *next; /* hc->streams, or hc->dead / hc->free (next only) */
	int32_t id;
	unsigned nth;                  /* its request's number on the connection, from 1 */
	struct http_request req;       /* req.io points at this stream */
	bool shown;                    /* on_head (or on_error) was called */
	bool owned;                    /* the owner holds req */
	bool answered;                 /* an answer was queued */
	bool req_done;                 /* END_STREAM from the client */
	bool closed;                   /* nghttp2 closed the stream */
	bool no_body;                  /* the answer carries no DATA */
	bool out_eof;                  /* the answer's body is all in out */
	bool deferred;                 /* the data source waits for bytes */
	bool paused;                   /* the owner paused the request body */
	bool want_drain;               /* the owner waits for on_drain */
	bool drain_now;                /* out fell below the low watermark: tell the owner */
	bool abort_after;              /* reset the stream once out is written (stream_abort) */
	bool pending;                  /* its head is in, shown to the owner after the read (show_pending) */
	bool malformed;                /* nghttp2 reset it for a malformed request (PROTOCOL_ERROR) */
	bool doomed;                   /* nghttp2 will reset it for the client's error (on_invalid_frame) */
	bool head_end;                 /* the head had END_STREAM */
	bool log_wait;                 /* the owner waits for on_sent (h2_answer_held) */
	bool sent_all;                 /* the answer went out whole (END_STREAM, or lb's reset after it) */
	int head_status;               /* h2_req_end's verdict on the head: 0 or 400 */
	uint32_t head_bytes;           /* the head's frame bytes, for received_bytes */
	struct h2_stream *pend_next;   /* hc->pending */
	size_t unconsumed;             /* DATA bytes taken while paused, not yet in a WINDOW_UPDATE */
	struct evbuffer *out;          /* the answer's body, waiting for DATA frames */
	struct evbuffer *early;        /* DATA that came before the head was shown (show_pending) */
	nghttp2_nv *trail;             /* trailers sent after the body (a target's, gRPC) */
	size_t ntrail, cap_trail;
	struct buf trail_mem;          /* their names and values */
};

struct h2_conn {
	struct conn *c;                /* the connection's shell: bev, peer, listener */
	nghttp2_session *session;
	struct h2_stream *streams;     /* open streams */
	struct h2_stream *dead;        /* closed, to be recycled by reap */
	struct h2_stream *free;        /* recycled */
	struct h2_stream *pending;     /* heads not shown yet, in arrival order */
	struct h2_stream **pending_tail;
	size_t nfree;
	struct event *send_ev;         /* deferred send (and reap) */
	struct event *idle_ev;
	struct h2_req_build build;
	struct h2_fields fields;
	nghttp2_nv *nva;
	size_t cap_nva;
	unsigned requests;             /* streams begun on this connection */
	unsigned nstreams;             /* streams in hc->streams (open, lb's to answer) */
	size_t block_bytes;            /* decoded bytes of the header block being read */
	int64_t active_us;             /* the last frame from the client other than PING */
	uint32_t glitch_tokens;        /* client errors still allowed (h2_glitch) */
	int64_t glitch_at_us;          /* when glitch_tokens was last refilled */
	bool goaway;                   /* GOAWAY queued: no new streams */
	bool settings_out;             /* lb's SETTINGS went out, with its stream limit (on_send) */
	bool calm;                     /* lb ended the session for the client's abuse (ENHANCE_YOUR_CALM) */
	bool lingering;                /* done: half-closed, input discarded a while */
	bool freeing;
};

/* h2_server.c */
/* Sends what the session has queued, from the connection's send event (never from a callback). */
void h2_schedule(struct h2_conn *hc);

/* h2_stream.c */
/* A stream for request id, recycled if one is free, at the head of hc->streams. */
struct h2_stream *h2_stream_new(struct h2_conn *hc, int32_t id);
/* Takes st out of hc->streams (nghttp2 closed it). */
void h2_stream_unlink(struct h2_conn *hc, struct h2_stream *st);
void h2_stream_destroy(struct h2_stream *st);
/* Recycles the streams on hc->dead; never called with nghttp2 on the stack. */
void h2_reap(struct h2_conn *hc);
/* The owner lets go of the stream's request: it hears nothing more about it. */
void h2_disown(struct h2_stream *st);
/* Gives n DATA bytes of stream id back to the client's windows. */
void h2_consume(struct h2_conn *hc, int32_t id, size_t n);
/* One more error of the client's; past the limit the session ends (ENHANCE_YOUR_CALM). */
void h2_glitch(struct h2_conn *hc);
/* A new connection's allowance of client errors, refilled from now_us. */
void h2_glitch_start(struct h2_conn *hc, int64_t now_us);

#endif
