/*
 * http_answer: writing answers on http_server's connections — whole ones
 * (ALB's head and the body in one buffer, one send), streamed ones (a
 * target's head, its body framed for the client, its end) and tunnels —
 * and deciding whether the connection goes on after them.
 *
 * Whole answers and the ends of streamed ones are written in the callback
 * that produced them (net_write_now), so an answer costs one send and no
 * epoll change while the client keeps up; the pieces of a streamed answer
 * wait for the end of the callback (flush_ev) unless they are large. Only
 * a slow reader gets the write event, the idle timeout on writing, and
 * on_drain once a streamed answer's backlog shrinks.
 */
#include "net/http_conn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "net/h2_server.h"
#include "net/net.h"

static void h1_stream_abort(struct http_request *req);

void conn_flush(struct conn *c)
{
	if (c->ssl) {
		/* on_write hears when the output has drained. */
		if (evbuffer_get_length(bufferevent_get_output(c->bev))) {
			if (net_tls_write_now(c->bev))
				net_acked_moved(bufferevent_getfd(c->bev), &c->acked_mark);
		} else if (c->state == CONN_CLOSING)
			conn_linger(c);
		return;
	}
	if (net_write_now(c->bev)) {
		/* The write timeout starts now: progress is measured from here (on_event). */
		net_acked_moved(bufferevent_getfd(c->bev), &c->acked_mark);
		bufferevent_enable(c->bev, EV_WRITE);
		return;
	}
	if (c->state == CONN_CLOSING)
		conn_linger(c);
}

static bool conn_may_continue(const struct conn *c, bool close)
{
	const struct http_request *req = &c->req;
	int64_t age_us = time_mono_us() - c->born_mono_us;
	int keep_alive_s = c->srv->set.client_keep_alive;

	/* After CONNECT (or an Upgrade) the bytes that follow belong to a
	 * tunnel; unless one was opened, the connection closes. */
	return c->state == CONN_WAIT && req->keep_alive && !close && !c->close_after &&
	       !c->srv->stopping && !http_request_header(req, "upgrade") && !h1_reader_upgrade(&c->reader) &&
	       /* client_keep_alive.seconds bounds a connection's life. */
	       (keep_alive_s == 0 || age_us < (int64_t)keep_alive_s * 1000000);
}

/* The answer is queued: read the next request, or close. */
static void conn_answered(struct conn *c, bool keep)
{
	if (!keep) {
		conn_begin_close(c);
		conn_flush(c);
		return;
	}
	c->state = CONN_DONE;
	/* A pipelined request is waiting behind this one (the Runtime API's
	 * /next behind a /response): its answer, if it has one at once, leaves
	 * with this one in one send at the end of the callback - one wake-up
	 * of the peer instead of two. */
	if (c->in_parse && !c->ssl && evbuffer_get_length(bufferevent_get_input(c->bev)) > 0)
		event_active(c->flush_ev, EV_TIMEOUT, 0);
	else
		conn_flush(c);
	if (!c->in_parse)
		event_active(c->resume, EV_TIMEOUT, 0);
}

bool answer_is_extra(const struct answer_extra *x, struct sv name)
{
	for (size_t i = 0; x && i < x->n; i++) {
		if (sv_eq_nocase(name, x->headers[i].name))
			return true;
	}
	return false;
}

struct http_response answer_with_extra(const struct answer_extra *x, const struct http_response *resp,
				       struct http_header **tmp)
{
	struct http_response r = *resp;
	size_t k = 0;

	*tmp = NULL;
	if (!x)
		return r;
	r.bare |= x->no_server;
	if (!x->n)
		return r;
	*tmp = xcalloc(resp->nheaders + x->n, sizeof(**tmp));
	for (size_t i = 0; i < resp->nheaders; i++) {
		if (!answer_is_extra(x, resp->headers[i].name))
			(*tmp)[k++] = resp->headers[i];
	}
	for (size_t i = 0; i < x->n; i++)
		(*tmp)[k++] = x->headers[i];
	r.headers = *tmp;
	r.nheaders = k;
	return r;
}

static size_t h1_respond(struct http_request *req, const struct http_response *resp0, const char *date)
{
	struct conn *c = req->io;
	bool head_request = sv_eq_cstr(req->method, "HEAD");
	bool keep = conn_may_continue(c, resp0->close);
	struct http_header *tmp;
	struct http_response r = answer_with_extra(c->extra, resp0, &tmp);
	const struct http_response *resp = &r;
	size_t n;

	buf_reset(&c->out);
	http_response_head(&c->out, resp, date, keep, head_request);
	n = c->out.len;
	if (http_response_has_body(resp->status, head_request) && resp->body.n) {
		buf_append(&c->out, resp->body.p, resp->body.n);
		n += resp->body.n;
	}
	free(tmp);
	/* One contiguous add: the answer leaves in one send (no Nagle stall). */
	evbuffer_add(bufferevent_get_output(c->bev), c->out.p, c->out.len);
	req->sent_bytes += n;
	conn_answered(c, keep);
	return n;
}

static void put_sv(struct buf *b, struct sv s)
{
	buf_append(b, s.p, s.n);
}

static size_t h1_stream_head(struct http_request *req, const struct http_stream_head *h)
{
	struct conn *c = req->io;
	bool keep = conn_may_continue(c, h->close);
	bool tunnel = h->status == 101;
	struct buf *out = &c->out;

	buf_reset(out);
	buf_puts(out, "HTTP/1.1 ");
	buf_putc(out, (char)('0' + h->status / 100 % 10));
	buf_putc(out, (char)('0' + h->status / 10 % 10));
	buf_putc(out, (char)('0' + h->status % 10));
	buf_putc(out, ' ');
	put_sv(out, h->reason.n ? h->reason : sv_from(http_reason(h->status)));
	buf_puts(out, "\r\n");
	for (size_t i = 0; i < h->nheaders; i++) {
		if (answer_is_extra(c->extra, h->headers[i].name))
			continue;   /* the listener's value replaces the target's */
		put_sv(out, h->headers[i].name);
		buf_puts(out, ": ");
		put_sv(out, h->headers[i].value);
		buf_puts(out, "\r\n");
	}
	for (size_t i = 0; c->extra && i < c->extra->n; i++) {
		put_sv(out, c->extra->headers[i].name);
		buf_puts(out, ": ");
		put_sv(out, c->extra->headers[i].value);
		buf_puts(out, "\r\n");
	}
	c->framing = OUT_AS_IS;
	if (tunnel) {
		keep = false;
	} else if (h->no_body || sv_eq_cstr(req->method, "HEAD")) {
		c->framing = OUT_NONE;
	} else if (h->framing == HTTP_FRAMING_CHUNKED || h->framing == HTTP_FRAMING_CLOSE) {
		/* A body of unknown length: chunked for HTTP/1.1, until close for 1.0. */
		if (req->version >= 11) {
			c->framing = OUT_CHUNKED;
			buf_puts(out, "Transfer-Encoding: chunked\r\n");
		} else {
			keep = false;
		}
	} else if (h->framing == HTTP_FRAMING_NONE) {
		c->framing = OUT_NONE;
	}
	if (!tunnel)
		buf_puts(out, keep ? "Connection: keep-alive\r\n" : "Connection: close\r\n");
	buf_puts(out, "\r\n");
	evbuffer_add(bufferevent_get_output(c->bev), out->p, out->len);
	req->sent_bytes += out->len;
	c->streaming = true;
	c->stream_keep = keep;
	event_active(c->flush_ev, EV_TIMEOUT, 0);
	if (tunnel) {
		c->state = CONN_TUNNEL;
		c->active_us = time_mono_us();
		conn_flush(c);
		/* Bytes the client sent after its request are the tunnel's. */
		if (!c->in_parse)
			event_active(c->resume, EV_TIMEOUT, 0);
	}
	return out->len;
}

static size_t h1_stream_body(struct http_request *req, const char *p, size_t n)
{
	struct conn *c = req->io;
	struct evbuffer *out = bufferevent_get_output(c->bev);
	size_t pending;

	if (n && c->framing != OUT_NONE) {
		if (c->framing == OUT_CHUNKED) {
			char size[24];
			int k = snprintf(size, sizeof(size), "%zx\r\n", n);
			evbuffer_add(out, size, (size_t)k);
			req->sent_bytes += (size_t)k + 2;
		}
		evbuffer_add(out, p, n);
		if (c->framing == OUT_CHUNKED)
			evbuffer_add(out, "\r\n", 2);
		req->sent_bytes += n;
		c->active_us = time_mono_us();
	}
	/* Large pieces go now; small ones wait for the end of the callback,
	 * so a head, a body and the end of an answer leave in one send. */
	if (evbuffer_get_length(out) >= OUTPUT_LOW_WATER)
		conn_flush(c);
	else
		event_active(c->flush_ev, EV_TIMEOUT, 0);
	pending = evbuffer_get_length(out);
	if (pending > HTTP_SERVER_HIGH_WATER)
		c->want_drain = true;
	return pending;
}

static void h1_stream_end(struct http_request *req)
{
	struct conn *c = req->io;

	if (c->state == CONN_TUNNEL) {
		h1_stream_abort(req);
		return;
	}
	if (c->framing == OUT_CHUNKED) {
		evbuffer_add(bufferevent_get_output(c->bev), "0\r\n\r\n", 5);
		req->sent_bytes += 5;
	}
	c->streaming = false;
	c->want_drain = false;
	event_del(c->flush_ev);   /* what it would write goes now */
	/* An answer that ends before its request's body was read leaves the
	 * rest of that body on the wire: the connection cannot be reused. */
	conn_answered(c, c->stream_keep && c->state == CONN_WAIT);
}

static void h1_stream_abort(struct http_request *req)
{
	struct conn *c = req->io;

	c->streaming = false;
	c->want_drain = false;
	conn_begin_close(c);
	conn_flush(c);
}

static void h1_pause_reading(struct http_request *req)
{
	struct conn *c = req->io;

	c->owner_paused = true;
	conn_update_reading(c);
}

static void h1_resume_reading(struct http_request *req)
{
	struct conn *c = req->io;

	if (!c->owner_paused)
		return;
	c->owner_paused = false;
	if (c->state == CONN_CLOSING || c->state == CONN_LINGER)
		return;
	conn_update_reading(c);
	/* What was read before the pause is parsed from the loop, not here. */
	event_active(c->resume, EV_TIMEOUT, 0);
}

/* --- the answer calls of http_server.h: HTTP/1 here, HTTP/2 in h2_server.c --- */

size_t http_server_respond(struct http_request *req, const struct http_response *resp0, const char *date)
{
	return http_io_is_h2(req) ? h2_respond(req, resp0, date) : h1_respond(req, resp0, date);
}

size_t http_server_stream_head(struct http_request *req, const struct http_stream_head *h)
{
	return http_io_is_h2(req) ? h2_stream_head(req, h) : h1_stream_head(req, h);
}

size_t http_server_stream_body(struct http_request *req, const char *p, size_t n)
{
	return http_io_is_h2(req) ? h2_stream_body(req, p, n) : h1_stream_body(req, p, n);
}

void http_server_stream_trailers(struct http_request *req, const struct http_header *h, size_t n)
{
	/* HTTP/2 clients get them; HTTP/1.1 answers drop trailers, as lb's chunked bodies carry none. */
	if (http_io_is_h2(req))
		h2_stream_trailers(req, h, n);
}

void http_server_stream_end(struct http_request *req)
{
	if (http_io_is_h2(req))
		h2_stream_end(req);
	else
		h1_stream_end(req);
}

void http_server_stream_abort(struct http_request *req)
{
	if (http_io_is_h2(req))
		h2_stream_abort(req);
	else
		h1_stream_abort(req);
}

bool http_server_answer_held(struct http_request *req)
{
	return http_io_is_h2(req) && h2_answer_held(req);
}

void http_server_pause_reading(struct http_request *req)
{
	if (http_io_is_h2(req))
		h2_pause_reading(req);
	else
		h1_pause_reading(req);
}

void http_server_resume_reading(struct http_request *req)
{
	if (http_io_is_h2(req))
		h2_resume_reading(req);
	else
		h1_resume_reading(req);
}

void conn_linger(struct conn *c)
{
	struct timeval tv = { LINGER_SECONDS, 0 };

	c->state = CONN_LINGER;
	/* TLS: close_notify first, so the client sees a clean end of the
	 * stream (libevent 2.1 never sends one itself, §3.2). */
	if (c->ssl && SSL_shutdown(c->ssl) < 0)
		ERR_clear_error();
	shutdown(bufferevent_getfd(c->bev), SHUT_WR);
	bufferevent_disable(c->bev, EV_WRITE);
	c->read_paused = c->owner_paused = false;
	conn_read_for(c, &tv);
}
