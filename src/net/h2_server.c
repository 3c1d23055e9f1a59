/*
 * h2_server: an nghttp2 server session over a connection's bufferevent.
 *
 * One struct h2_conn per connection, one struct h2_stream per request. A
 * stream's request is shown to http_server's owner like an HTTP/1 one
 * (on_head once its HEADERS are in, on_body per DATA chunk, on_request at
 * END_STREAM), and answered through the same calls (h2_respond,
 * h2_stream_*, in h2_answer.c), which queue HEADERS and a data source on
 * the session. h2_conn.h holds the structs the two files share.
 *
 * Ownership: a stream is "owned" from on_head until its answer is complete
 * (respond, stream_end, stream_abort); a stream that closes while owned
 * (the client's RST_STREAM, the connection lost) gives the owner on_abort,
 * which ALB logs as 460. A complete answer may still wait for the
 * client's window: an owner that asks (h2_answer_held) hears on_sent once
 * it has left whole (END_STREAM sent) or cannot (the stream reset, the
 * session done), and logs it then, with the bytes its frames took
 * (req->sent_bytes counts them in on_frame_send). Streams are never
 * freed inside nghttp2's callbacks: a closed stream moves to the dead list
 * and is recycled once the outermost call into nghttp2 has returned
 * (h2_reap, in h2_stream.c). Frames go out only from this file's own event callbacks (after
 * reading, on the send event or when the output drains), never from
 * inside a callback of nghttp2 or of the owner.
 *
 * A hostile client (alb-http-targets-and-tls.md has no ALB numbers for
 * this; nghttp2's own limits and lb's): a stream's head (and DATA) is
 * shown to the owner only after the read that brought it and the resets
 * nghttp2 queued in it, so a stream reset in the same read (rapid reset,
 * MadeYouReset) is never routed (show_pending); nghttp2 cuts a
 * connection after 1,000 RST_STREAM (33 more a second), and h2_glitch does
 * the same for the streams it resets for the client's errors; a header
 * block that decodes past BLOCK_MAX (an HPACK bomb) ends the connection;
 * a silent client whose window holds an answer back meets the idle
 * timeout (on_idle).
 *
 * Flow control, both ways bounded: a streamed answer's body waits in the
 * stream's own buffer (the owner waits for on_drain past
 * HTTP_SERVER_HIGH_WATER), and frames enter the connection's output only
 * while it holds less than OUT_HIGH. Request bodies are consumed from the
 * window manually (no automatic WINDOW_UPDATE): DATA the owner took while
 * it was paused (its target not draining) is given back only on resume.
 */
#include "net/h2_conn.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <nghttp2/nghttp2.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "alb/h2_msg.h"
#include "base/log.h"
#include "net/http_conn.h"

/* Frames are written to the connection while its output holds less. */
#define OUT_HIGH (128 * 1024)
/* Per-stream receive window: what a client may send ahead of the target. */
#define STREAM_WINDOW (256 * 1024)
/* Connection receive window (several streams uploading at once). */
#define CONN_WINDOW (1024 * 1024)
/* Decoded bytes of one header block past which the client is cut (on_header). */
#define BLOCK_MAX (2 * H2_HEADERS_MAX)

static void h2_close(struct h2_conn *hc);
static void h2_linger(struct h2_conn *hc);
static void tell_cut(struct h2_conn *hc);
static int h2_input(struct h2_conn *hc);

static const struct http_server_cbs *owner(const struct h2_conn *hc)
{
	return hc->c->srv->cbs;
}

static void *owner_cookie(const struct h2_conn *hc)
{
	return hc->c->srv->cookie;
}

static struct h2_stream *stream_of(struct h2_conn *hc, int32_t id)
{
	return nghttp2_session_get_stream_user_data(hc->session, id);
}

/* Whether lb resets a stream with code for the client's fault: codes nghttp2
 * uses for stream errors; lb's own resets say NO_ERROR, CANCEL,
 * INTERNAL_ERROR or REFUSED_STREAM. */
static bool client_fault(uint32_t code)
{
	return code == NGHTTP2_PROTOCOL_ERROR || code == NGHTTP2_FLOW_CONTROL_ERROR ||
	       code == NGHTTP2_STREAM_CLOSED || code == NGHTTP2_FRAME_SIZE_ERROR;
}

/* --- nghttp2 callbacks: receiving ------------------------------------------- */

/* A frame nghttp2 answers with a stream (or connection) error: a stream whose
 * head waits is reset before it is shown (MadeYouReset sends the error with
 * the HEADERS); h2_glitch counts the reset once it is sent. */
static int on_invalid_frame(nghttp2_session *session, const nghttp2_frame *frame, int lib_error_code,
			    void *user_data)
{
	struct h2_stream *st = frame->hd.stream_id ? stream_of(user_data, frame->hd.stream_id) : NULL;

	(void)session;
	(void)lib_error_code;
	if (st && st->pending)
		st->doomed = true;
	return 0;
}

static int on_begin_headers(nghttp2_session *session, const nghttp2_frame *frame, void *user_data)
{
	struct h2_conn *hc = user_data;
	struct h2_stream *st;

	hc->block_bytes = 0;
	if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST)
		return 0;
	if (hc->requests >= H2_MAX_REQUESTS || hc->goaway) {
		/* Past the GOAWAY: refused, so the client may retry it elsewhere. */
		nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, frame->hd.stream_id, NGHTTP2_REFUSED_STREAM);
		return 0;
	}
	if (hc->nstreams >= H2_MAX_STREAMS) {
		/* Past the 128 streams lb advertised: this stream alone is refused
		 * (RFC 9113 §5.1.2), the others are served (session_new). */
		nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, frame->hd.stream_id, NGHTTP2_REFUSED_STREAM);
		h2_glitch(hc);
		return 0;
	}
	hc->requests++;
	st = h2_stream_new(hc, frame->hd.stream_id);
	st->nth = hc->requests;
	nghttp2_session_set_stream_user_data(session, st->id, st);
	return 0;
}

static int on_header(nghttp2_session *session, const nghttp2_frame *frame, const uint8_t *name, size_t namelen,
		     const uint8_t *value, size_t valuelen, uint8_t flags, void *user_data)
{
	struct h2_conn *hc = user_data;
	struct h2_stream *st;

	(void)flags;
	/*
	 * An HPACK bomb: a field put in the dynamic table once and named by a
	 * one-byte index thousands of times decodes to megabytes (a 16 KB
	 * block to 64 MB), each field checked by nghttp2 before it comes
	 * here. Past ALB's 64 KB a request gets 400 (h2_req_field); a block
	 * twice that is no request, and the connection ends with
	 * GOAWAY(ENHANCE_YOUR_CALM) instead of lb decoding the rest. (ALB's
	 * 2023 guide ends a connection whose compressed block exceeds 8 KB,
	 * alb-http-targets-and-tls.md §2.5.)
	 */
	hc->block_bytes += namelen + valuelen;
	if (hc->block_bytes > BLOCK_MAX) {
		if (!hc->calm) {
			log_debug("HTTP/2 from %s:%u: a header block decodes past %d bytes: GOAWAY", hc->c->peer_ip,
				  hc->c->peer_port, BLOCK_MAX);
			nghttp2_session_terminate_session(session, NGHTTP2_ENHANCE_YOUR_CALM);
			hc->calm = true;
		}
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	}
	if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST)
		return 0;     /* trailers are dropped, as on HTTP/1 */
	st = stream_of(hc, frame->hd.stream_id);
	if (!st || st->shown)
		return 0;
	h2_req_field(&hc->build, (struct sv){ (const char *)name, namelen }, (struct sv){ (const char *)value, valuelen });
	return 0;
}

/* DATA bytes of a shown stream: to the owner, or back to the window if nobody wants them. */
static void body_in(struct h2_conn *hc, struct h2_stream *st, const uint8_t *data, size_t len)
{
	struct http_request *req = &st->req;

	if (!st->shown || st->answered || !st->owned) {
		h2_consume(hc, st->id, len);   /* nobody wants it */
		return;
	}
	req->body_bytes += len;
	if (req->stream_body) {
		if (owner(hc)->on_body)
			owner(hc)->on_body(owner_cookie(hc), req, (const char *)data, len);
		/* The owner may have paused (its target is slow): the bytes
		 * stay charged to the window until it resumes. */
		if (st->paused && !st->closed)
			st->unconsumed += len;
		else
			h2_consume(hc, st->id, len);
		return;
	}
	if (req->keep_body && !req->body_too_large && buf_append(&req->body, data, len) < 0)
		req->body_too_large = true;
	h2_consume(hc, st->id, len);
}

/* The DATA held while the head waited (on_data_chunk): to the owner, or dropped. */
static void early_body(struct h2_conn *hc, struct h2_stream *st)
{
	while (evbuffer_get_length(st->early) > 0) {
		struct evbuffer_iovec v;

		evbuffer_peek(st->early, -1, NULL, &v, 1);
		body_in(hc, st, v.iov_base, v.iov_len);
		evbuffer_drain(st->early, v.iov_len);
	}
}

/* The request is complete: the owner has it whole (unless it answered already). */
static void request_done(struct h2_conn *hc, struct h2_stream *st)
{
	st->req_done = true;
	if (st->shown && !st->answered && st->owned)
		owner(hc)->on_request(owner_cookie(hc), &st->req);
}

/* The owner sees the request's head (or its 400). */
static void headers_done(struct h2_conn *hc, struct h2_stream *st)
{
	bool end = st->head_end;
	int status = st->head_status;

	st->req.received_bytes += st->head_bytes;
	st->shown = true;
	st->owned = true;
	if (st->nth == H2_MAX_REQUESTS) {
		/* ALB: GOAWAY after 10,000 requests on a connection
		 * (alb-http-targets-and-tls.md §2.5); this one is still served. */
		nghttp2_submit_goaway(hc->session, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_NO_ERROR, NULL, 0);
		hc->goaway = true;
	} else if (!hc->goaway && hc->c->srv->set.client_keep_alive &&
		   time_mono_us() - hc->c->born_mono_us >= (int64_t)hc->c->srv->set.client_keep_alive * 1000000) {
		/* ALB: GOAWAY when client_keep_alive.seconds ends (§2.5); the
		 * streams begun in the same read (not shown yet) are served. */
		nghttp2_submit_goaway(hc->session, NGHTTP2_FLAG_NONE, nghttp2_session_get_last_proc_stream_id(hc->session),
				      NGHTTP2_NO_ERROR, NULL, 0);
		hc->goaway = true;
	}
	if (status) {
		log_debug("HTTP/2 request from %s:%u refused: %d", hc->c->peer_ip, hc->c->peer_port, status);
		/* A whole request needs no RST_STREAM after its 400 (on_frame_send). */
		st->req_done = st->req_done || end;
		owner(hc)->on_error(owner_cookie(hc), &st->req, status);
		early_body(hc, st);
		return;
	}
	owner(hc)->on_head(owner_cookie(hc), &st->req);
	early_body(hc, st);
	if (end || st->req_done)
		request_done(hc, st);
}

/* A request nghttp2 reset as malformed (its DATA past or short of its
 * content-length) before it was shown: the owner logs its 400 without
 * routing it; no answer goes out, the stream is reset. */
static void malformed_unshown(struct h2_conn *hc, struct h2_stream *st)
{
	st->req.received_bytes += st->head_bytes;
	st->shown = true;
	st->owned = true;
	owner(hc)->on_error(owner_cookie(hc), &st->req, 400);
	h2_disown(st);
}

/*
 * Shows the owner the heads that came in, in order, with the DATA that
 * came with them. A head waits in hc->pending until the read that brought
 * it is processed, and the frames nghttp2 queued in it are sent (h2_input),
 * its stream's DATA held meanwhile: a stream reset in the same read is
 * never routed, so it costs no target connection and no Lambda
 * invocation. The client resets it in rapid reset (CVE-2023-44487:
 * HEADERS and RST_STREAM together), nghttp2 for the client's error in
 * MadeYouReset (CVE-2025-8671: a window past 2^31-1, DATA past the
 * content-length); neither was a request the owner hears of, but for a
 * body off its content-length, which is logged as a malformed request.
 */
static void show_pending(struct h2_conn *hc)
{
	while (hc->pending) {
		struct h2_stream *st = hc->pending;

		hc->pending = st->pend_next;
		if (!hc->pending)
			hc->pending_tail = &hc->pending;
		st->pend_next = NULL;
		st->pending = false;
		/* Not after lb ended the session, nor when the stream is (or is
		 * about to be) reset: nothing could be answered. */
		if (!st->closed && !st->doomed && !hc->calm) {
			headers_done(hc, st);
			continue;
		}
		if (st->closed && st->malformed && !st->doomed && !hc->calm)
			malformed_unshown(hc, st);
		h2_consume(hc, st->id, evbuffer_get_length(st->early));
		evbuffer_drain(st->early, evbuffer_get_length(st->early));
	}
}

/* A request's head is complete. It is made into the request at once (the
 * connection builds one head at a time); showing it waits (show_pending). */
static void headers_in(struct h2_conn *hc, struct h2_stream *st, const nghttp2_frame *frame)
{
	st->head_end = frame->hd.flags & NGHTTP2_FLAG_END_STREAM;
	st->head_bytes = frame->hd.length + 9;
	st->head_status = h2_req_end(&hc->build, st->head_end);
	/* A refused head (400) may have cost lb up to BLOCK_MAX of decoding. */
	if (st->head_status)
		h2_glitch(hc);
	st->pending = true;
	*hc->pending_tail = st;
	hc->pending_tail = &st->pend_next;
}

static int on_frame_recv(nghttp2_session *session, const nghttp2_frame *frame, void *user_data)
{
	struct h2_conn *hc = user_data;
	struct h2_stream *st;

	(void)session;
	/* ALB: PING frames do not count as activity (alb-http-targets-and-tls.md §2.5). */
	if (frame->hd.type != NGHTTP2_PING)
		hc->active_us = time_mono_us();
	if (frame->hd.type == NGHTTP2_PRIORITY ||
	    (frame->hd.type == NGHTTP2_DATA && !frame->hd.length && !(frame->hd.flags & NGHTTP2_FLAG_END_STREAM)))
		h2_glitch(hc);
	if (frame->hd.stream_id == 0 || !(st = stream_of(hc, frame->hd.stream_id)))
		return 0;
	switch (frame->hd.type) {
	case NGHTTP2_HEADERS:
		if (frame->headers.cat == NGHTTP2_HCAT_REQUEST) {
			headers_in(hc, st, frame);
			break;
		}
		st->req.received_bytes += frame->hd.length + 9;
		if (frame->hd.flags & NGHTTP2_FLAG_END_STREAM)
			request_done(hc, st);
		break;
	case NGHTTP2_DATA:
		st->req.received_bytes += frame->hd.length + 9;
		if (frame->hd.flags & NGHTTP2_FLAG_END_STREAM)
			request_done(hc, st);
		break;
	default:
		break;
	}
	return 0;
}

static int on_data_chunk(nghttp2_session *session, uint8_t flags, int32_t stream_id, const uint8_t *data,
			 size_t len, void *user_data)
{
	struct h2_conn *hc = user_data;
	struct h2_stream *st = stream_of(hc, stream_id);

	(void)session;
	(void)flags;
	if (!st) {
		h2_consume(hc, stream_id, len);   /* nobody wants it */
		return 0;
	}
	/* Its head waits for the end of the read (show_pending): so do its
	 * bytes, within the stream's window. */
	if (st->pending) {
		evbuffer_add(st->early, data, len);
		return 0;
	}
	body_in(hc, st, data, len);
	return 0;
}

static int on_stream_close(nghttp2_session *session, int32_t stream_id, uint32_t error_code, void *user_data)
{
	struct h2_conn *hc = user_data;
	struct h2_stream *st = stream_of(hc, stream_id);

	(void)session;
	(void)error_code;
	if (!st || hc->freeing)
		return 0;
	st->closed = true;
	h2_stream_unlink(hc, st);
	st->next = hc->dead;
	hc->dead = st;
	if (st->log_wait) {
		/* An answer the owner waits to log: it went out whole, or the
		 * client reset the stream before it did. */
		st->log_wait = false;
		owner(hc)->on_sent(owner_cookie(hc), &st->req, st->sent_all);
	} else if (st->owned && st->malformed) {
		/* A malformed request (RFC 9113 §8.1.1: a body longer or shorter
		 * than its content-length): a 400 in the log, as ALB gives one to
		 * an HTTP/1.1 body cut short (§4.4); the stream is reset, so no
		 * answer goes out (nghttp2 has reset it). */
		h2_disown(st);
		owner(hc)->on_error(owner_cookie(hc), &st->req, 400);
	} else if (st->owned) {
		/* The client reset the stream (or the session ended) before
		 * the answer was complete: ALB logs 460 (§4.4). */
		h2_disown(st);
		owner(hc)->on_abort(owner_cookie(hc), &st->req);
	}
	return 0;
}

static int on_frame_send(nghttp2_session *session, const nghttp2_frame *frame, void *user_data)
{
	struct h2_conn *hc = user_data;
	struct h2_stream *st = frame->hd.stream_id ? stream_of(hc, frame->hd.stream_id) : NULL;

	/* An answer's bytes count as they leave (req->sent_bytes): a client
	 * whose window holds them back never gets them. It is whole at its
	 * END_STREAM, or at the reset lb sends in place of its end
	 * (h2_stream_abort). */
	if (st && (frame->hd.type == NGHTTP2_HEADERS || frame->hd.type == NGHTTP2_DATA)) {
		st->req.sent_bytes += frame->hd.length + 9;
		if (frame->hd.flags & NGHTTP2_FLAG_END_STREAM)
			st->sent_all = true;
	}
	if (st && frame->hd.type == NGHTTP2_RST_STREAM && frame->rst_stream.error_code == NGHTTP2_INTERNAL_ERROR)
		st->sent_all = true;
	/* Counted as sent, which also covers the resets nghttp2 makes
	 * without telling (content-length): a client that stops reading
	 * stops after 128 streams, which wait for their RST_STREAM. */
	if (frame->hd.type == NGHTTP2_RST_STREAM && client_fault(frame->rst_stream.error_code))
		h2_glitch(hc);
	if (frame->hd.type == NGHTTP2_RST_STREAM && frame->rst_stream.error_code == NGHTTP2_PROTOCOL_ERROR &&
	    (st = stream_of(hc, frame->hd.stream_id)) && !st->req_done)
		st->malformed = true;
	if (!(frame->hd.flags & NGHTTP2_FLAG_END_STREAM) || !(st = stream_of(hc, frame->hd.stream_id)))
		return 0;
	/* The answer is complete before the request: the rest of it is not
	 * wanted (RFC 9113 §8.1). */
	if (!st->req_done)
		nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_NO_ERROR);
	return 0;
}

/* --- nghttp2 callbacks: sending ------------------------------------------- */

/*
 * Writes lb's first SETTINGS frame with SETTINGS_MAX_CONCURRENT_STREAMS
 * (H2_MAX_STREAMS) appended, an entry nghttp2 was not given (session_new).
 * Returns false, writing nothing, if data is not that frame.
 */
static bool settings_with_limit(struct evbuffer *out, const uint8_t *data, size_t length)
{
	uint8_t more[6] = { 0, NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, (uint8_t)(H2_MAX_STREAMS >> 24),
			    (uint8_t)(H2_MAX_STREAMS >> 16), (uint8_t)(H2_MAX_STREAMS >> 8), (uint8_t)H2_MAX_STREAMS };
	uint8_t head[9];
	size_t n;

	if (length < 9 || data[3] != NGHTTP2_SETTINGS || (data[4] & NGHTTP2_FLAG_ACK))
		return false;
	n = ((size_t)data[0] << 16 | (size_t)data[1] << 8 | data[2]) + sizeof(more);
	if (n != length - 9 + sizeof(more))
		return false;
	memcpy(head, data, 9);
	head[0] = (uint8_t)(n >> 16);
	head[1] = (uint8_t)(n >> 8);
	head[2] = (uint8_t)n;
	evbuffer_add(out, head, 9);
	evbuffer_add(out, data + 9, length - 9);
	evbuffer_add(out, more, sizeof(more));
	return true;
}

static ssize_t on_send(nghttp2_session *session, const uint8_t *data, size_t length, int flags, void *user_data)
{
	struct h2_conn *hc = user_data;
	struct evbuffer *out = bufferevent_get_output(hc->c->bev);

	(void)session;
	(void)flags;
	/* Bounded output: the rest waits for the write callback. */
	if (evbuffer_get_length(out) >= OUT_HIGH)
		return NGHTTP2_ERR_WOULDBLOCK;
	/* nghttp2 hands over one frame at a time; lb's SETTINGS is the first. */
	if (!hc->settings_out) {
		hc->settings_out = true;
		if (settings_with_limit(out, data, length))
			return (ssize_t)length;
		log_warn("HTTP/2 to %s:%u: the first frame is not lb's SETTINGS: no stream limit advertised",
			 hc->c->peer_ip, hc->c->peer_port);
	}
	evbuffer_add(out, data, length);
	return (ssize_t)length;
}


/* --- the connection ------------------------------------------------------------ */

/* The owner's writers whose backlog shrank hear on_drain (outside nghttp2). */
static void tell_drained(struct h2_conn *hc)
{
	bool again = true;

	while (again) {
		again = false;
		for (struct h2_stream *st = hc->streams; st; st = st->next) {
			if (!st->drain_now)
				continue;
			st->drain_now = false;
			if (st->owned && owner(hc)->on_drain) {
				owner(hc)->on_drain(owner_cookie(hc), &st->req);
				again = true;   /* the list may have changed */
				break;
			}
		}
	}
}

/*
 * Sends what nghttp2 has queued (as far as the output takes), recycles
 * closed streams, and closes the connection once the session is done.
 * Returns -1 when the connection was freed.
 */
static int h2_flush(struct h2_conn *hc)
{
	int rv;

	rv = nghttp2_session_send(hc->session);
	h2_reap(hc);
	if (rv != 0) {
		log_debug("HTTP/2 session with %s:%u: %s", hc->c->peer_ip, hc->c->peer_port, nghttp2_strerror(rv));
		h2_close(hc);
		return -1;
	}
	tell_drained(hc);
	if (!nghttp2_session_want_read(hc->session) && !nghttp2_session_want_write(hc->session) &&
	    evbuffer_get_length(bufferevent_get_output(hc->c->bev)) == 0) {
		h2_linger(hc);
		return -1;
	}
	return 0;
}

void h2_schedule(struct h2_conn *hc)
{
	if (!hc->freeing && !hc->lingering)
		event_active(hc->send_ev, EV_TIMEOUT, 0);
}

static void on_send_ev(evutil_socket_t fd, short what, void *arg)
{
	struct h2_conn *hc = arg;

	(void)fd;
	(void)what;
	if (hc->lingering)
		return;
	/* Bytes may wait since h2_conn_start (the preface, read with the handshake). */
	if (h2_input(hc) == 0)
		h2_flush(hc);
}

/* Feeds buffered bytes from the client to the session. Returns -1 when
 * the connection was freed (a protocol error nghttp2 cannot answer). */
static int h2_input(struct h2_conn *hc)
{
	struct evbuffer *in = bufferevent_get_input(hc->c->bev);
	int rv;

	while (evbuffer_get_length(in) > 0) {
		struct evbuffer_iovec v;
		ssize_t n;

		evbuffer_peek(in, -1, NULL, &v, 1);
		n = nghttp2_session_mem_recv(hc->session, v.iov_base, v.iov_len);
		if (n < 0) {
			log_debug("HTTP/2 from %s:%u: %s", hc->c->peer_ip, hc->c->peer_port,
				  nghttp2_strerror((int)n));
			h2_reap(hc);
			h2_close(hc);
			return -1;
		}
		evbuffer_drain(in, (size_t)n);
	}
	/* The resets nghttp2 queued in the read go out first, so the heads
	 * they end are not routed (show_pending). */
	if (hc->pending && (rv = nghttp2_session_send(hc->session)) != 0) {
		log_debug("HTTP/2 session with %s:%u: %s", hc->c->peer_ip, hc->c->peer_port, nghttp2_strerror(rv));
		h2_reap(hc);
		h2_close(hc);
		return -1;
	}
	show_pending(hc);
	return 0;
}

/* Bytes from the client: fed to the session, then whatever it answers goes out. */
static void on_read(struct bufferevent *bev, void *arg)
{
	struct h2_conn *hc = arg;

	if (hc->lingering) {
		evbuffer_drain(bufferevent_get_input(bev), evbuffer_get_length(bufferevent_get_input(bev)));
		return;
	}
	if (h2_input(hc) == 0)
		h2_flush(hc);
}

/* The output drained below the low watermark: more frames may go. */
static void on_write(struct bufferevent *bev, void *arg)
{
	struct h2_conn *hc = arg;

	(void)bev;
	if (!hc->lingering)
		h2_flush(hc);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	(void)what;
	/* The client closed or the connection failed: streams in flight end (460). */
	h2_close(arg);
}

static void idle_arm(struct h2_conn *hc, int64_t in_us)
{
	struct timeval tv = { in_us / 1000000, in_us % 1000000 };

	evtimer_add(hc->idle_ev, &tv);
}

/* Whether st's answer has bytes to send that the client's flow-control
 * windows (the stream's or the connection's) do not let out. */
static bool stream_stalled(struct h2_conn *hc, const struct h2_stream *st)
{
	if (!st->answered || st->no_body || st->closed || evbuffer_get_length(st->out) == 0)
		return false;
	return nghttp2_session_get_stream_remote_window_size(hc->session, st->id) <= 0 ||
	       nghttp2_session_get_remote_window_size(hc->session) <= 0;
}

/*
 * No frame from the client for idle_timeout.timeout_seconds. Without a
 * stream open the connection ends (GOAWAY); so it does when an answer
 * waits for a window the silent client does not open, since nothing moves
 * either way; a request the client started but did not finish gets ALB's
 * 408; requests waiting for their target keep the connection (the wait
 * is the target's).
 */
static void on_idle(evutil_socket_t fd, short what, void *arg)
{
	struct h2_conn *hc = arg;
	int64_t idle_us = (int64_t)hc->c->srv->set.idle_timeout * 1000000;
	int64_t quiet = time_mono_us() - hc->active_us;
	bool stalled = false;

	(void)fd;
	(void)what;
	if (!idle_us || hc->lingering)
		return;
	if (quiet < idle_us) {
		idle_arm(hc, idle_us - quiet);
		return;
	}
	for (struct h2_stream *st = hc->streams; st && !stalled; st = st->next)
		stalled = stream_stalled(hc, st);
	/* ALB's idle timeout: no data sent or received for its length ends
	 * the connection (alb-http-targets-and-tls.md §1.3); a zero window
	 * lets nothing be sent. */
	if (!hc->streams || stalled) {
		nghttp2_session_terminate_session(hc->session, NGHTTP2_NO_ERROR);
		h2_flush(hc);
		return;
	}
	for (struct h2_stream *st = hc->streams; st; st = st->next) {
		if (st->req_done || st->answered)
			continue;
		if (st->shown && st->owned)
			/* ALB: 408 when a request is not finished within the idle timeout. */
			owner(hc)->on_error(owner_cookie(hc), &st->req, 408);
		else
			nghttp2_submit_rst_stream(hc->session, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_CANCEL);
	}
	hc->active_us = time_mono_us();
	idle_arm(hc, idle_us);
	h2_flush(hc);
}

static nghttp2_session_callbacks *make_callbacks(void)
{
	nghttp2_session_callbacks *cbs;

	if (nghttp2_session_callbacks_new(&cbs) != 0)
		return NULL;
	nghttp2_session_callbacks_set_send_callback(cbs, on_send);
	nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, on_begin_headers);
	nghttp2_session_callbacks_set_on_header_callback(cbs, on_header);
	nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, on_frame_recv);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, on_data_chunk);
	nghttp2_session_callbacks_set_on_stream_close_callback(cbs, on_stream_close);
	nghttp2_session_callbacks_set_on_frame_send_callback(cbs, on_frame_send);
	nghttp2_session_callbacks_set_on_invalid_frame_recv_callback(cbs, on_invalid_frame);
	return cbs;
}

static int session_new(struct h2_conn *hc)
{
	nghttp2_session_callbacks *cbs = make_callbacks();
	nghttp2_option *opt = NULL;
	/*
	 * ALB: up to 128 requests in parallel on a connection, no server push
	 * (§2.5). The limit goes on the wire (on_send) but not to nghttp2,
	 * and lb enforces it (on_begin_headers): nghttp2 1.52 ends the whole
	 * connection (GOAWAY PROTOCOL_ERROR) for a stream past an acknowledged
	 * limit, and with it the answers of the 128 streams in flight, which
	 * its GOAWAY names as processed. lb refuses that stream alone
	 * (REFUSED_STREAM, RFC 9113 §5.1.2), as nginx does.
	 */
	nghttp2_settings_entry iv[] = {
		{ NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, STREAM_WINDOW },
	};
	int rv = -1;

	if (!cbs || nghttp2_option_new(&opt) != 0)
		goto out;
	/* Request bodies are given back to the window as the target drains. */
	nghttp2_option_set_no_auto_window_update(opt, 1);
	/* nghttp2 keeps closed streams (for RFC 7540 priorities) up to its
	 * stream limit, which it does not have: none are kept. */
	nghttp2_option_set_no_closed_streams(opt, 1);
	if (nghttp2_session_server_new2(&hc->session, cbs, hc, opt) != 0) {
		hc->session = NULL;
		goto out;
	}
	if (nghttp2_submit_settings(hc->session, NGHTTP2_FLAG_NONE, iv, ARRAY_LEN(iv)) != 0 ||
	    nghttp2_session_set_local_window_size(hc->session, NGHTTP2_FLAG_NONE, 0, CONN_WINDOW) != 0)
		goto out;
	rv = 0;
out:
	nghttp2_option_del(opt);
	nghttp2_session_callbacks_del(cbs);
	return rv;
}

int h2_conn_start(struct conn *c)
{
	struct h2_conn *hc = xcalloc(1, sizeof(*hc));
	struct timeval idle = { c->srv->set.idle_timeout, 0 };

	if (session_new(hc) < 0) {
		nghttp2_session_del(hc->session);
		free(hc);
		return -1;
	}
	hc->c = c;
	c->h2 = hc;
	h2_req_build_init(&hc->build);
	h2_fields_init(&hc->fields);
	hc->pending_tail = &hc->pending;
	hc->send_ev = event_new(c->srv->base, -1, 0, on_send_ev, hc);
	hc->idle_ev = evtimer_new(c->srv->base, on_idle, hc);
	hc->active_us = time_mono_us();
	h2_glitch_start(hc, hc->active_us);
	/* The HTTP/1 machinery of c stops; the bufferevent is HTTP/2's now. */
	if (c->read_ev)
		event_del(c->read_ev);
	event_del(c->resume);
	event_del(c->flush_ev);
	bufferevent_setcb(c->bev, on_read, on_write, on_event, hc);
	bufferevent_setwatermark(c->bev, EV_WRITE, OUTPUT_LOW_WATER, 0);
	/* A client that stops reading is cut after the idle timeout. */
	bufferevent_set_timeouts(c->bev, NULL, idle.tv_sec ? &idle : NULL);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	if (idle.tv_sec)
		idle_arm(hc, (int64_t)idle.tv_sec * 1000000);
	/* The server's SETTINGS go out (and buffered input is read) from the
	 * loop, so c is still whole when this returns. */
	h2_schedule(hc);
	return 0;
}

void h2_conn_shutdown(struct h2_conn *hc)
{
	if (hc->goaway || hc->lingering)
		return;
	hc->goaway = true;
	nghttp2_submit_goaway(hc->session, NGHTTP2_FLAG_NONE, nghttp2_session_get_last_proc_stream_id(hc->session),
			      NGHTTP2_NO_ERROR, NULL, 0);
	h2_schedule(hc);
}

void h2_conn_free(struct h2_conn *hc)
{
	struct conn *c = hc->c;

	/* Requests the owner holds end: it logs them (460). */
	for (struct h2_stream *st = hc->streams; st; st = st->next) {
		if (st->owned) {
			h2_disown(st);
			owner(hc)->on_abort(owner_cookie(hc), &st->req);
		}
	}
	tell_cut(hc);
	hc->freeing = true;
	nghttp2_session_del(hc->session);
	h2_reap(hc);
	while (hc->streams) {
		struct h2_stream *st = hc->streams;
		hc->streams = st->next;
		h2_stream_destroy(st);
	}
	while (hc->free) {
		struct h2_stream *st = hc->free;
		hc->free = st->next;
		h2_stream_destroy(st);
	}
	event_free(hc->send_ev);
	event_free(hc->idle_ev);
	h2_req_build_release(&hc->build);
	h2_fields_release(&hc->fields);
	free(hc->nva);
	free(hc);
	c->h2 = NULL;
	conn_free(c);
}

/*
 * The answers the owner waits to log that cannot leave any more (the
 * session is done, or the connection goes): the owner hears on_sent,
 * whole only if they had.
 */
static void tell_cut(struct h2_conn *hc)
{
	for (struct h2_stream *st = hc->streams; st; st = st->next) {
		if (st->log_wait) {
			st->log_wait = false;
			owner(hc)->on_sent(owner_cookie(hc), &st->req, st->sent_all);
		}
	}
}

bool h2_answer_held(struct http_request *req)
{
	struct h2_stream *st = req->io;
	struct h2_conn *hc = st->hc;

	if (!owner(hc)->on_sent || !st->answered || st->closed || hc->freeing || hc->lingering)
		return false;
	st->log_wait = true;
	return true;
}

/* Closes from one of the connection's own callbacks. */
static void h2_close(struct h2_conn *hc)
{
	h2_conn_free(hc);
}

/*
 * The session is done (GOAWAY sent, every stream ended, everything written):
 * close_notify and a half-close, then input is discarded for a moment, so
 * the client reads the last frames instead of a reset (as HTTP/1's
 * conn_linger). The client's close or the linger time frees it.
 */
static void h2_linger(struct h2_conn *hc)
{
	struct conn *c = hc->c;
	struct timeval tv = { LINGER_SECONDS, 0 };

	hc->lingering = true;
	tell_cut(hc);
	event_del(hc->idle_ev);
	event_del(hc->send_ev);
	if (c->ssl && SSL_shutdown(c->ssl) < 0)
		ERR_clear_error();
	shutdown(bufferevent_getfd(c->bev), SHUT_WR);
	bufferevent_disable(c->bev, EV_WRITE);
	bufferevent_set_timeouts(c->bev, &tv, NULL);
	bufferevent_enable(c->bev, EV_READ);
}
