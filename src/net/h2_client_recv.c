/*
 * h2_client_recv: what an HTTP/2 target answers, read by nghttp2's receive
 * callbacks: the head collected into the exchange's struct http_reply and
 * handed on once whole, the body as it comes (acknowledged as the client
 * takes it), trailers, and a stream's end or reset.
 */
#include "net/h2_client_int.h"

#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "base/util.h"

static struct h2_exchange *stream_x(nghttp2_session *s, int32_t id)
{
	return nghttp2_session_get_stream_user_data(s, id);
}

static int on_begin_headers(nghttp2_session *s, const nghttp2_frame *f, void *user)
{
	struct h2_exchange *x = stream_x(s, f->hd.stream_id);

	(void)user;
	if (x && !x->head_seen) {
		buf_reset(&x->reply.head);
		x->noffs = 0;
		x->reply.status = 0;
	} else if (x) {
		buf_reset(&x->trail);
		x->ntoffs = 0;
	}
	return 0;
}

static int on_header(nghttp2_session *s, const nghttp2_frame *f, const uint8_t *name, size_t namelen,
		     const uint8_t *value, size_t valuelen, uint8_t flags, void *user)
{
	struct h2_exchange *x = stream_x(s, f->hd.stream_id);
	struct buf *b;

	(void)flags;
	(void)user;
	if (!x)
		return 0;
	h2x_touch(x);
	if (x->head_seen) {
		/* Trailers (gRPC's grpc-status), kept for on_trailers. */
		xgrow(&x->toffs, &x->cap_toffs, x->ntoffs + 4, sizeof(*x->toffs));
		x->toffs[x->ntoffs++] = x->trail.len;
		x->toffs[x->ntoffs++] = namelen;
		buf_append(&x->trail, (const char *)name, namelen);
		x->toffs[x->ntoffs++] = x->trail.len;
		x->toffs[x->ntoffs++] = valuelen;
		buf_append(&x->trail, (const char *)value, valuelen);
		return 0;
	}
	if (namelen == 7 && !memcmp(name, ":status", 7)) {
		x->reply.status = 0;
		for (size_t i = 0; i < valuelen && i < 3; i++)
			x->reply.status = x->reply.status * 10 + (value[i] - '0');
		return 0;
	}
	b = &x->reply.head;
	xgrow(&x->offs, &x->cap_offs, x->noffs + 4, sizeof(*x->offs));
	x->offs[x->noffs++] = b->len;
	x->offs[x->noffs++] = namelen;
	buf_append(b, (const char *)name, namelen);
	x->offs[x->noffs++] = b->len;
	x->offs[x->noffs++] = valuelen;
	buf_append(b, (const char *)value, valuelen);
	return 0;
}

/* The answer's head is whole: a final one goes to on_head (1xx are skipped). */
static void head_done(struct h2_exchange *x, bool end_stream)
{
	struct http_reply *r = &x->reply;
	const struct http_header *cl;

	/* RFC 9110 §15: a status is 100-599, but nghttp2 takes any three
	 * digits: anything else is a malformed answer (502, §1.12). */
	if (r->status < 100 || r->status > 599) {
		h2x_fail_later(x, HTTP_CLIENT_MALFORMED);
		return;
	}
	if (r->status < 200)
		return;
	r->nheaders = 0;
	for (size_t i = 0; i + 3 < x->noffs; i += 4) {
		xgrow(&r->headers, &r->cap_headers, r->nheaders + 1, sizeof(*r->headers));
		r->headers[r->nheaders++] = (struct http_header){
			{ r->head.p + x->offs[i], x->offs[i + 1] }, { r->head.p + x->offs[i + 2], x->offs[i + 3] } };
	}
	r->version = 11;
	r->reason = sv_from(http_reason(r->status));
	r->keep_alive = true;
	r->upgrade = false;
	r->no_body = x->head_request || r->status == 204 || r->status == 304;
	cl = http_header_find(r->headers, r->nheaders, "content-length");
	if (cl) {
		r->framing = HTTP_FRAMING_LENGTH;
		r->content_length = strtoull(cl->value.p, NULL, 10);
	} else {
		/* HTTP/2 has no chunks: a body of unknown length is re-framed for the client. */
		r->framing = HTTP_FRAMING_CHUNKED;
		(void)end_stream;
		r->content_length = 0;
	}
	if (r->no_body)
		r->framing = HTTP_FRAMING_NONE;
	x->head_seen = true;
	x->cbs->on_head(x->cookie, r);
}

static int on_frame_recv(nghttp2_session *s, const nghttp2_frame *f, void *user)
{
	struct h2_conn *c = user;
	struct h2_exchange *x;

	if (f->hd.type == NGHTTP2_GOAWAY) {
		/* The target stops taking streams: the next exchanges open a new connection. */
		c->retired = true;
		return 0;
	}
	if (f->hd.type != NGHTTP2_HEADERS || !(x = stream_x(s, f->hd.stream_id)))
		return 0;
	if (!x->head_seen) {
		head_done(x, f->hd.flags & NGHTTP2_FLAG_END_STREAM);
	} else if (x->ntoffs && x->on_trailers) {
		size_t n = 0;

		xgrow(&x->th, &x->cap_th, x->ntoffs / 4, sizeof(*x->th));
		for (size_t i = 0; i + 3 < x->ntoffs; i += 4)
			x->th[n++] = (struct http_header){ { x->trail.p + x->toffs[i], x->toffs[i + 1] },
							   { x->trail.p + x->toffs[i + 2], x->toffs[i + 3] } };
		x->on_trailers(x->cookie, x->th, n);
	}
	return 0;
}

static int on_data(nghttp2_session *s, uint8_t flags, int32_t id, const uint8_t *data, size_t len, void *user)
{
	struct h2_exchange *x = stream_x(s, id);

	(void)flags;
	(void)user;
	if (!x) {
		nghttp2_session_consume(s, id, len);
		return 0;
	}
	h2x_touch(x);
	if (x->paused)
		x->unconsumed += len;
	else
		nghttp2_session_consume(s, id, len);
	if (x->head_seen && len)
		x->cbs->on_body(x->cookie, (const char *)data, len);
	return 0;
}

static int on_stream_close(nghttp2_session *s, int32_t id, uint32_t code, void *user)
{
	struct h2_exchange *x = stream_x(s, id);

	(void)user;
	if (!x || x->failed)
		return 0;
	nghttp2_session_set_stream_user_data(s, id, NULL);
	x->id = 0;
	if (code == NGHTTP2_NO_ERROR && x->head_seen) {
		const struct http_exchange_cbs *cbs = x->cbs;
		void *cookie = x->cookie;

		h2x_free(x);
		cbs->on_end(cookie);
		return 0;
	}
	/* RST_STREAM, REFUSED_STREAM past a GOAWAY, or no head: as a reset connection (502). */
	h2x_fail_later(x, HTTP_CLIENT_CLOSED);
	return 0;
}

/*
 * A frame nghttp2 refused on one stream (a 101, a bad pseudo-header): it resets
 * the stream, and the target sent a malformed answer (502, §1.12), not a reset.
 */
static int on_invalid_frame(nghttp2_session *s, const nghttp2_frame *f, int lib_error, void *user)
{
	struct h2_exchange *x = stream_x(s, f->hd.stream_id);

	(void)lib_error;
	(void)user;
	if (x && f->hd.type == NGHTTP2_HEADERS && !x->head_seen)
		h2x_fail_later(x, HTTP_CLIENT_MALFORMED);
	return 0;
}

void h2_client_recv_callbacks(nghttp2_session_callbacks *cb)
{
	nghttp2_session_callbacks_set_on_begin_headers_callback(cb, on_begin_headers);
	nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
	nghttp2_session_callbacks_set_on_frame_recv_callback(cb, on_frame_recv);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, on_data);
	nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_stream_close);
	nghttp2_session_callbacks_set_on_invalid_frame_recv_callback(cb, on_invalid_frame);
}
