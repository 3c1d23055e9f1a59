/*
 * h2_answer: answers on HTTP/2 streams (h2_server.h's h2_respond and
 * h2_stream_*), the counterpart of http_answer.c for HTTP/1.
 *
 * An answer's HEADERS are submitted with a data source reading the
 * stream's own buffer (out): a whole answer puts its body there at once, a
 * streamed one as the target sends it, the data source deferring while it
 * is empty. Trailers end the stream in place of the last DATA. Nothing is
 * sent here: h2_schedule asks the connection to send after the caller
 * returns. The listener's routing.http.response.* headers apply as on
 * HTTP/1.
 */
#include "net/h2_conn.h"

#include <stdlib.h>
#include <string.h>

#include "base/util.h"

/* At the body's end, trailers (if any) end the stream instead of its last DATA. */
static void send_trailers(nghttp2_session *session, struct h2_stream *st, uint32_t *data_flags)
{
	if (!st->ntrail)
		return;
	*data_flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
	nghttp2_submit_trailer(session, st->id, st->trail, st->ntrail);
	st->ntrail = 0;
}

/* DATA for a stream's answer, from its buffer. */
static ssize_t on_data_read(nghttp2_session *session, int32_t stream_id, uint8_t *buf, size_t length,
			    uint32_t *data_flags, nghttp2_data_source *source, void *user_data)
{
	struct h2_stream *st = source->ptr;
	size_t avail = evbuffer_get_length(st->out);
	int n;

	(void)session;
	(void)stream_id;
	(void)user_data;
	if (!avail) {
		/* What was queued went out: now the stream is reset (stream_abort). */
		if (st->abort_after)
			return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
		if (st->out_eof) {
			*data_flags |= NGHTTP2_DATA_FLAG_EOF;
			send_trailers(session, st, data_flags);
			return 0;
		}
		st->deferred = true;
		return NGHTTP2_ERR_DEFERRED;
	}
	n = evbuffer_remove(st->out, buf, length < avail ? length : avail);
	if (st->out_eof && evbuffer_get_length(st->out) == 0) {
		*data_flags |= NGHTTP2_DATA_FLAG_EOF;
		send_trailers(session, st, data_flags);
	}
	if (st->want_drain && evbuffer_get_length(st->out) < OUTPUT_LOW_WATER) {
		st->want_drain = false;
		st->drain_now = true;   /* told after nghttp2 returns (tell_drained) */
	}
	return n;
}
/* hc->fields as nghttp2's name-value pairs (nghttp2 copies them). */
static nghttp2_nv *make_nva(struct h2_conn *hc)
{
	const struct h2_fields *f = &hc->fields;

	xgrow(&hc->nva, &hc->cap_nva, f->n ? f->n : 1, sizeof(*hc->nva));
	for (size_t i = 0; i < f->n; i++)
		hc->nva[i] = (nghttp2_nv){ (uint8_t *)f->v[i].name.p, (uint8_t *)f->v[i].value.p, f->v[i].name.n,
					   f->v[i].value.n, NGHTTP2_NV_FLAG_NONE };
	return hc->nva;
}

static size_t fields_bytes(const struct h2_fields *f)
{
	size_t n = 0;

	for (size_t i = 0; i < f->n; i++)
		n += f->v[i].name.n + f->v[i].value.n;
	return n;
}

/* Queues the HEADERS of st's answer, with a data source unless no_body.
 * Returns their bytes (req->sent_bytes counts them once sent). */
static size_t submit(struct h2_conn *hc, struct h2_stream *st, bool no_body)
{
	nghttp2_data_provider prd = { .source.ptr = st, .read_callback = on_data_read };
	nghttp2_nv *nva = make_nva(hc);

	st->answered = true;
	st->no_body = no_body;
	if (nghttp2_submit_response(hc->session, st->id, nva, hc->fields.n, no_body ? NULL : &prd) != 0)
		nghttp2_submit_rst_stream(hc->session, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_INTERNAL_ERROR);
	h2_schedule(hc);
	return fields_bytes(&hc->fields) + 9;
}

size_t h2_respond(struct http_request *req, const struct http_response *resp, const char *date)
{
	struct h2_stream *st = req->io;
	struct h2_conn *hc = st->hc;
	bool body = http_response_has_body(resp->status, sv_eq_cstr(req->method, "HEAD")) && resp->body.n;
	size_t n = 0;
	struct http_header *tmp;
	struct http_response r;

	h2_disown(st);
	if (st->closed || st->answered)
		return 0;
	/* The listener's routing.http.response.* headers, as on HTTP/1. */
	r = answer_with_extra(hc->c->extra, resp, &tmp);
	h2_fields_response(&hc->fields, &r, date);
	free(tmp);
	if (body) {
		evbuffer_add(st->out, resp->body.p, resp->body.n);
		n = resp->body.n + 9;
	}
	st->out_eof = true;
	return n + submit(hc, st, !body);
}

/* A streamed answer's fields: the target's headers, the listener's answer
 * headers (routing.http.response.*) in place of its own of those names. */
static void head_fields(struct h2_conn *hc, const struct http_stream_head *h)
{
	const struct answer_extra *x = hc->c->extra;
	struct http_header *v;
	size_t k = 0;

	if (!x || !x->n) {
		h2_fields_head(&hc->fields, h->status, h->headers, h->nheaders);
		return;
	}
	v = xcalloc(h->nheaders + x->n, sizeof(*v));
	for (size_t i = 0; i < h->nheaders; i++)
		if (!answer_is_extra(x, h->headers[i].name))
			v[k++] = h->headers[i];
	for (size_t i = 0; i < x->n; i++)
		v[k++] = x->headers[i];
	h2_fields_head(&hc->fields, h->status, v, k);
	free(v);
}

size_t h2_stream_head(struct http_request *req, const struct http_stream_head *h)
{
	struct h2_stream *st = req->io;
	struct h2_conn *hc = st->hc;

	if (st->closed || st->answered)
		return 0;
	if (h->status == 101) {
		/* No upgrade on HTTP/2 (lb offers no extended CONNECT): the stream
		 * is reset, but stays the owner's until it ends it (or hears
		 * on_abort), so the request still ends exactly once. */
		st->answered = st->no_body = st->abort_after = true;
		nghttp2_submit_rst_stream(hc->session, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_INTERNAL_ERROR);
		h2_schedule(hc);
		return 0;
	}
	head_fields(hc, h);
	return submit(hc, st, h->no_body || sv_eq_cstr(req->method, "HEAD") || h->framing == HTTP_FRAMING_NONE);
}

size_t h2_stream_body(struct http_request *req, const char *p, size_t n)
{
	struct h2_stream *st = req->io;
	struct h2_conn *hc = st->hc;
	size_t pending;

	if (n && !st->closed && !st->no_body && !st->out_eof && !st->abort_after) {
		evbuffer_add(st->out, p, n);
		if (st->deferred) {
			st->deferred = false;
			nghttp2_session_resume_data(hc->session, st->id);
		}
		h2_schedule(hc);
	}
	pending = evbuffer_get_length(st->out);
	if (pending > HTTP_SERVER_HIGH_WATER)
		st->want_drain = true;
	return pending;
}

void h2_stream_trailers(struct http_request *req, const struct http_header *h, size_t n)
{
	struct h2_stream *st = req->io;
	size_t need = 0, at = 0;
	char *p;

	if (st->closed || st->out_eof || st->no_body || !n)
		return;
	for (size_t i = 0; i < n; i++)
		need += h[i].name.n + h[i].value.n;
	buf_reset(&st->trail_mem);
	p = buf_reserve(&st->trail_mem, need + 1);
	xgrow(&st->trail, &st->cap_trail, n, sizeof(*st->trail));
	st->ntrail = 0;
	for (size_t i = 0; i < n; i++) {
		char *name = p + at, *value = name + h[i].name.n;

		for (size_t k = 0; k < h[i].name.n; k++)
			name[k] = ascii_lower(h[i].name.p[k]);
		memcpy(value, h[i].value.p, h[i].value.n);
		at += h[i].name.n + h[i].value.n;
		st->trail[st->ntrail++] = (nghttp2_nv){ (uint8_t *)name, (uint8_t *)value, h[i].name.n, h[i].value.n,
							NGHTTP2_NV_FLAG_NONE };
	}
	buf_commit(&st->trail_mem, need);
}

void h2_stream_end(struct http_request *req)
{
	struct h2_stream *st = req->io;
	struct h2_conn *hc = st->hc;

	h2_disown(st);
	st->out_eof = true;
	if (st->closed)
		return;
	if (st->deferred) {
		st->deferred = false;
		nghttp2_session_resume_data(hc->session, st->id);
	}
	h2_schedule(hc);
}

void h2_stream_abort(struct http_request *req)
{
	struct h2_stream *st = req->io;
	struct h2_conn *hc = st->hc;
	bool has_source = st->answered && !st->no_body && !st->out_eof;

	h2_disown(st);
	if (st->closed || st->abort_after)
		return;
	/* The answer cannot be completed: the stream is reset (on HTTP/1 the
	 * connection would be cut), after what was queued, as HTTP/1 writes
	 * it before closing. */
	if (has_source) {
		st->abort_after = true;
		if (st->deferred) {
			st->deferred = false;
			nghttp2_session_resume_data(hc->session, st->id);
		}
	} else {
		nghttp2_submit_rst_stream(hc->session, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_INTERNAL_ERROR);
	}
	st->answered = true;
	h2_schedule(hc);
}

void h2_pause_reading(struct http_request *req)
{
	struct h2_stream *st = req->io;

	st->paused = true;
}

void h2_resume_reading(struct http_request *req)
{
	struct h2_stream *st = req->io;
	struct h2_conn *hc = st->hc;

	if (!st->paused)
		return;
	st->paused = false;
	if (st->closed)
		return;
	h2_consume(hc, st->id, st->unconsumed);
	st->unconsumed = 0;
	h2_schedule(hc);
}
