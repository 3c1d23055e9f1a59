/*
 * h2_stream: the streams of an HTTP/2 server connection (h2_server.c): made
 * for a request's HEADERS, unlinked when nghttp2 closes them, recycled
 * once no nghttp2 call is on the stack (h2_reap); the owner letting go of
 * a stream; and the count of the client's errors that ends an abusive
 * connection (h2_glitch).
 */
#include "net/h2_conn.h"

#include <stdlib.h>

#include "base/log.h"

/* Recycled streams kept per connection. */
#define FREE_STREAMS_MAX 16
/* Client errors a connection may make at once, and again per second (h2_glitch). */
#define GLITCH_BURST 1000
#define GLITCH_RATE 33

struct h2_stream *h2_stream_new(struct h2_conn *hc, int32_t id)
{
	struct h2_stream *st = hc->free;
	struct conn *c = hc->c;
	struct http_request *req;

	if (st) {
		hc->free = st->next;
		hc->nfree--;
		evbuffer_drain(st->out, evbuffer_get_length(st->out));
		evbuffer_drain(st->early, evbuffer_get_length(st->early));
	} else {
		st = xcalloc(1, sizeof(*st));
		st->io_kind = HTTP_IO_H2;
		http_request_init(&st->req);
		st->out = evbuffer_new();
		st->early = evbuffer_new();
	}
	st->hc = hc;
	st->id = id;
	st->shown = st->owned = st->answered = st->req_done = st->closed = false;
	st->no_body = st->out_eof = st->deferred = st->paused = st->want_drain = st->drain_now = false;
	st->abort_after = st->pending = st->head_end = st->malformed = st->doomed = false;
	st->log_wait = st->sent_all = false;
	st->pend_next = NULL;
	st->unconsumed = 0;
	st->ntrail = 0;
	st->prev = NULL;
	st->next = hc->streams;
	if (hc->streams)
		hc->streams->prev = st;
	hc->streams = st;
	hc->nstreams++;

	req = &st->req;
	h2_req_begin(&hc->build, req);
	req->io = st;
	conn_request_facts(c, req);
	req->start_wall_us = time_wall_us();
	req->start_mono_us = time_mono_us();
	return st;
}

void h2_stream_unlink(struct h2_conn *hc, struct h2_stream *st)
{
	if (st->prev)
		st->prev->next = st->next;
	else
		hc->streams = st->next;
	if (st->next)
		st->next->prev = st->prev;
	st->prev = st->next = NULL;
	hc->nstreams--;
}

void h2_stream_destroy(struct h2_stream *st)
{
	http_request_release(&st->req);
	evbuffer_free(st->out);
	evbuffer_free(st->early);
	free(st->trail);
	buf_release(&st->trail_mem);
	free(st);
}

/* Recycles the streams nghttp2 closed; never called with nghttp2 on the stack. */
void h2_reap(struct h2_conn *hc)
{
	while (hc->dead) {
		struct h2_stream *st = hc->dead;

		hc->dead = st->next;
		if (hc->nfree >= FREE_STREAMS_MAX) {
			h2_stream_destroy(st);
			continue;
		}
		http_request_reset(&st->req);
		st->next = hc->free;
		hc->free = st;
		hc->nfree++;
	}
}

/* The owner lets go of req: it hears nothing more about it. DATA held back
 * while it was paused goes back to the windows (the connection's would
 * shrink for good otherwise). */
void h2_disown(struct h2_stream *st)
{
	st->owned = false;
	st->want_drain = st->drain_now = false;
	st->paused = false;
	if (st->unconsumed && !st->hc->freeing)
		nghttp2_session_consume(st->hc->session, st->id, st->unconsumed);
	st->unconsumed = 0;
}

/* Gives DATA bytes back to the client's windows. */
void h2_consume(struct h2_conn *hc, int32_t id, size_t n)
{
	if (n)
		nghttp2_session_consume(hc->session, id, n);
}

/*
 * One more stream error or suspicious frame from the client: a stream
 * nghttp2 resets for the client's fault (a window past 2^31-1, a body
 * longer or shorter than its content-length, a malformed field), a head
 * lb refuses (400), a stream past the 128 lb advertised, a PRIORITY
 * frame, an empty DATA frame that does not end its stream. A reset
 * stream may have cost lb a target connection or a Lambda invocation and
 * the client nothing, and nghttp2 1.52's rapid-reset limit counts only
 * the client's own RST_STREAM (CVE-2025-8671, "MadeYouReset"). Past GLITCH_BURST, refilled at
 * GLITCH_RATE a second (the numbers of that limit, as nghttp2 1.66's own
 * glitch limit has them), the connection ends with
 * GOAWAY(ENHANCE_YOUR_CALM).
 */
void h2_glitch(struct h2_conn *hc)
{
	int64_t now = time_mono_us();
	uint64_t earned = (uint64_t)(now - hc->glitch_at_us) * GLITCH_RATE / 1000000;

	if (earned) {
		hc->glitch_tokens = earned >= GLITCH_BURST - hc->glitch_tokens ? GLITCH_BURST
										  : hc->glitch_tokens + (uint32_t)earned;
		hc->glitch_at_us = now;
	}
	if (hc->glitch_tokens) {
		hc->glitch_tokens--;
		return;
	}
	log_debug("HTTP/2 from %s:%u: too many stream errors, refused heads, PRIORITY or empty DATA frames: GOAWAY",
		  hc->c->peer_ip, hc->c->peer_port);
	nghttp2_session_terminate_session(hc->session, NGHTTP2_ENHANCE_YOUR_CALM);
	hc->calm = true;
}

void h2_glitch_start(struct h2_conn *hc, int64_t now_us)
{
	hc->glitch_tokens = GLITCH_BURST;
	hc->glitch_at_us = now_us;
}
