/*
 * http_server: connections, request reading and answer writing.
 *
 * One struct conn per client connection, with one request at a time: a
 * request is read (head, then body), handed to the owner, and the next
 * request on the connection is not read until the answer is done. That
 * keeps answers in request order under pipelining and lets the request
 * struct and its buffers be reused for every request on the connection.
 *
 * States of a connection:
 *   HEAD    h1_read scans and parses the head; the owner sees it (on_head)
 *           and picks a body policy.
 *   BODY    h1_read parses the body in place: stored (keep_body) or passed
 *           on (stream_body, on_body). A streamed answer may already be
 *           under way.
 *   WAIT    the owner has the whole request. Reading stays enabled (up to
 *           a high watermark) so a client that leaves is noticed (on_abort).
 *   DONE    the answer is queued and the connection stays open: the next
 *           request is read (from the resume event when the answer came
 *           asynchronously, so the owner's callback returns first).
 *   TUNNEL  a 101 was answered: bytes pass unframed both ways.
 *   CLOSING the answer is queued and the connection will close once it is
 *           written; then LINGER: half-closed, input discarded for a moment,
 *           so the client reads the answer instead of a reset.
 *
 * Writing answers lives in http_answer.c, listeners in http_listener.c;
 * what the files share, in http_conn.h.
 *
 * A conn is freed only from a libevent callback of its own (read, write,
 * event, resume), never from inside the reader or under the owner.
 *
 * HTTPS: conn_accept is shared; an HTTPS connection's bufferevent is an
 * OpenSSL one that reads, decrypts and writes itself (lb's own read event
 * and early writes are for plain sockets only). Requests are read once the
 * handshake is done (conn_tls_ready), then everything above is unchanged:
 * the bufferevent's input and output hold plain HTTP. Closing sends TLS
 * close_notify before the half-close (conn_linger).
 */
#include "net/http_conn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include <event2/bufferevent_ssl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "base/log.h"
#include "net/h2_server.h"
#include "net/net.h"
#include "net/tls.h"

static void conn_fail(struct conn *c, int status);

/* Client connections open in the process, for the out-of-descriptors warning
 * (the one process-wide figure: servers run on several threads). */
static size_t conns_in_process;

size_t conn_count_in_process(void)
{
	return __atomic_load_n(&conns_in_process, __ATOMIC_RELAXED);
}

static struct evbuffer *conn_input(struct conn *c)
{
	return bufferevent_get_input(c->bev);
}

static struct timeval idle_tv(const struct conn *c)
{
	return (struct timeval){ c->srv->set.idle_timeout, 0 };
}

void conn_read_for(struct conn *c, const struct timeval *tv)
{
	struct timeval write_tv = idle_tv(c);

	if (!c->ssl) {
		event_add(c->read_ev, tv);
		return;
	}
	/*
	 * A TLS bufferevent reads itself, but its read timeout would restart
	 * with every byte off the socket: a client that sends a record (or
	 * its ClientHello) a byte at a time would hold the connection for
	 * ever without a byte of HTTP. The deadline is read_ev, a timer that
	 * only decrypted input moves (conn_tls_input); during the handshake
	 * nothing moves it, so the handshake has the idle timeout in all.
	 */
	bufferevent_set_timeouts(c->bev, NULL, write_tv.tv_sec ? &write_tv : NULL);
	if (tv)
		event_add(c->read_ev, tv);
	else
		event_del(c->read_ev);
	bufferevent_enable(c->bev, EV_READ);
}

/* (Re)arms reading with the idle timeout, or without one when there is none. */
static void conn_arm_read(struct conn *c)
{
	struct timeval tv = idle_tv(c);

	conn_read_for(c, tv.tv_sec ? &tv : NULL);
}

void conn_update_reading(struct conn *c)
{
	if (!(c->read_paused || c->owner_paused))
		conn_arm_read(c);
	else if (c->ssl)
		bufferevent_disable(c->bev, EV_READ);
	if (c->read_paused || c->owner_paused)
		event_del(c->read_ev);
}

/* Drops buffered input, unless h1_read is reading it right now (conn_feed drops it then). */
static void conn_discard_input(struct conn *c)
{
	if (!c->in_feed)
		evbuffer_drain(conn_input(c), evbuffer_get_length(conn_input(c)));
}

void conn_begin_close(struct conn *c)
{
	c->state = CONN_CLOSING;
	/* Nothing more is parsed; input is discarded until the answer is out. */
	conn_discard_input(c);
}

/* --- reading ------------------------------------------------------------------ */

void conn_request_facts(const struct conn *c, struct http_request *req)
{
	req->listener = c->listener_index;
	req->local_port = c->local_port;
	req->https = c->ssl != NULL;
	req->tls = c->ssl ? &c->tls : NULL;
	req->peer_family = c->peer_family;
	memcpy(req->peer_addr, c->peer_addr, sizeof(c->peer_addr));
	memcpy(req->peer_ip, c->peer_ip, sizeof(c->peer_ip));
	req->peer_port = c->peer_port;
	req->conn_trace_id = c->tid;
}

static void conn_start_request(struct conn *c)
{
	c->req.io = c;
	conn_request_facts(c, &c->req);
	c->state = CONN_HEAD;
}

/* Body bytes from h1_read: stored, passed on, or (past the owner's interest) dropped. */
static void conn_on_body(void *cookie, const char *p, size_t n)
{
	struct conn *c = cookie;
	struct http_request *req = &c->req;

	if (c->state != CONN_BODY)
		return;
	if (req->stream_body) {
		if (c->srv->cbs->on_body)
			c->srv->cbs->on_body(c->srv->cookie, req, p, n);
		return;
	}
	if (req->keep_body && !req->body_too_large && buf_append(&req->body, p, n) < 0)
		req->body_too_large = true;
}

/*
 * Feeds buffered input to h1_read until something happens. With no input it
 * still runs once on zero bytes: that is how a message without a body
 * completes after its head.
 */
static enum h1_event conn_feed(struct conn *c)
{
	struct evbuffer *in = conn_input(c);
	enum h1_event ev;

	do {
		struct evbuffer_iovec v = { (void *)"", 0 };
		size_t used;

		evbuffer_peek(in, -1, NULL, &v, 1);
		c->in_feed = true;
		ev = h1_read(&c->reader, v.iov_base, v.iov_len, &used);
		c->in_feed = false;
		evbuffer_drain(in, used);
		if (c->state == CONN_CLOSING || c->state == CONN_LINGER) {
			conn_discard_input(c);  /* the owner answered and closed meanwhile */
			return H1_MORE;
		}
	} while (ev == H1_MORE && evbuffer_get_length(in) > 0 && !c->owner_paused);
	return ev;
}

/* The head is in: show it to the owner. 0: read the body, -1: answered. */
static int conn_on_head(struct conn *c)
{
	struct http_request *req = &c->req;

	c->close_after |= c->reader.close_after;
	c->srv->cbs->on_head(c->srv->cookie, req);
	if (c->state != CONN_HEAD)
		return -1;      /* the owner answered already */
	/* ALB answers "100 Continue" at once without checking Content-Length,
	 * and does not forward Expect (alb-http-targets-and-tls.md §1.6). */
	if (req->expect_continue && req->version == 11) {
		evbuffer_add(bufferevent_get_output(c->bev), "HTTP/1.1 100 Continue\r\n\r\n", 25);
		conn_flush(c);
	}
	c->state = CONN_BODY;
	return 0;
}

/* A tunnel's input goes to the owner as it is. */
static void conn_tunnel_input(struct conn *c)
{
	struct evbuffer *in = conn_input(c);

	while (c->state == CONN_TUNNEL && !c->owner_paused && evbuffer_get_length(in) > 0) {
		struct evbuffer_iovec v;
		size_t n;

		evbuffer_peek(in, -1, NULL, &v, 1);
		n = v.iov_len;
		c->active_us = time_mono_us();
		c->req.received_bytes += n;
		c->in_feed = true;
		c->srv->cbs->on_body(c->srv->cookie, &c->req, v.iov_base, n);
		c->in_feed = false;
		evbuffer_drain(in, n);
	}
	if (c->state == CONN_CLOSING || c->state == CONN_LINGER)
		conn_discard_input(c);
}

/* Reads and dispatches requests while input and state allow. Never frees c. */
static void conn_parse(struct conn *c)
{
	c->in_parse = true;
	for (;;) {
		enum h1_event ev;

		if (c->state == CONN_DONE && (!c->listener || c->close_after)) {
			conn_begin_close(c);   /* its listener was removed by a reload */
			conn_flush(c);
			break;
		}
		/* A pipelining client that does not read its answers: the next
		 * request waits until they drain (on_write), or lb would keep
		 * every answer of the flood in memory. */
		if (c->state == CONN_DONE &&
		    evbuffer_get_length(bufferevent_get_output(c->bev)) >= HTTP_SERVER_HIGH_WATER) {
			conn_flush(c);
			if (evbuffer_get_length(bufferevent_get_output(c->bev)) >= HTTP_SERVER_HIGH_WATER) {
				c->output_full = true;
				c->read_paused = true;
				conn_update_reading(c);
				break;
			}
		}
		if (c->state == CONN_DONE) {
			h1_reader_next(&c->reader);
			conn_start_request(c);
			if (c->read_paused && !c->peer_eof) {
				c->read_paused = false;
				conn_update_reading(c);
			}
		}
		if (c->state == CONN_TUNNEL) {
			conn_tunnel_input(c);
			break;
		}
		if ((c->state != CONN_HEAD && c->state != CONN_BODY) || c->owner_paused)
			break;
		ev = conn_feed(c);
		if (ev == H1_MORE && c->peer_eof) {
			/* What the half-closed client sent has been served: a
			 * request it left unfinished gets 400, as a leave mid-body. */
			if (h1_reader_busy(&c->reader)) {
				conn_fail(c, 400);
			} else {
				conn_begin_close(c);
				conn_flush(c);
			}
			break;
		}
		if (ev == H1_MORE)
			break;
		if (ev == H1_FAIL) {
			log_debug("malformed request from %s:%u: %s", c->peer_ip, c->peer_port,
				  c->reader.fail_detail);
			conn_fail(c, c->reader.fail_status);
			break;
		}
		if (ev == H1_HEAD) {
			if (conn_on_head(c) < 0)
				break;
			continue;
		}
		/* H1_END: the whole request is in. */
		c->state = CONN_WAIT;
		c->srv->cbs->on_request(c->srv->cookie, &c->req);
	}
	c->in_parse = false;
}

/* Answers an error the owner must phrase (400, 408, 501); the connection closes. */
static void conn_fail(struct conn *c, int status)
{
	c->srv->cbs->on_error(c->srv->cookie, &c->req, status);
	if (c->state != CONN_CLOSING && c->state != CONN_LINGER)
		conn_begin_close(c);
}

/* --- libevent callbacks ------------------------------------------------------- */


/* Whether the owner holds the request (it must hear on_abort if the client leaves). */
static bool conn_owned(const struct conn *c)
{
	return c->state == CONN_WAIT || c->state == CONN_TUNNEL || (c->state == CONN_BODY) ||
	       (c->streaming && c->state != CONN_CLOSING && c->state != CONN_LINGER);
}

/* Input arrived: parse it, or discard it once the connection is closing. */
static void conn_on_input(struct conn *c)
{
	struct evbuffer *in = conn_input(c);

	switch (c->state) {
	case CONN_HEAD:
	case CONN_BODY:
	case CONN_TUNNEL:
		conn_parse(c);
		break;
	case CONN_CLOSING:
	case CONN_LINGER:
		evbuffer_drain(in, evbuffer_get_length(in));
		break;
	case CONN_WAIT:
	case CONN_DONE:
		/* Kept for the next request; past the watermark, stop reading. */
		if (evbuffer_get_length(in) >= INPUT_HIGH_WATER) {
			c->read_paused = true;
			conn_update_reading(c);
		}
		break;
	}
}

/* The output has drained to the low watermark after a partial write. */
static void on_write(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;

	if (evbuffer_get_length(bufferevent_get_output(bev)) == 0) {
		bufferevent_disable(bev, EV_WRITE);
		if (c->state == CONN_CLOSING) {
			conn_linger(c);
			return;
		}
	}
	if (c->want_drain && c->streaming) {
		c->want_drain = false;
		if (c->srv->cbs->on_drain)
			c->srv->cbs->on_drain(c->srv->cookie, &c->req);
	}
	if (c->output_full && c->state == CONN_DONE) {
		c->output_full = false;
		event_active(c->resume, EV_TIMEOUT, 0);   /* the next request, from the loop */
	}
}

static void on_flush(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	(void)fd;
	(void)what;
	if (c->state != CONN_LINGER && evbuffer_get_length(bufferevent_get_output(c->bev)))
		conn_flush(c);
}

static void on_resume(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	(void)fd;
	(void)what;
	if (c->state == CONN_DONE || c->state == CONN_TUNNEL || c->state == CONN_HEAD || c->state == CONN_BODY)
		conn_parse(c);
}

/* The client closed (eof) or the connection failed. */
static void conn_on_closed(struct conn *c, bool eof)
{
	if (eof && c->state == CONN_BODY && !c->streaming) {
		/* ALB: 400 when the client closes before sending the whole body
		 * (alb-listener-rules.md §4.4). A client that only half-closed
		 * still reads it; the close path frees c. */
		conn_fail(c, 400);
		return;
	}
	if (eof && c->srv->answer_half_closed && !c->streaming &&
	    (c->state == CONN_HEAD || c->state == CONN_WAIT || c->state == CONN_DONE)) {
		/* A half-close: what the client sent is answered, then the
		 * connection closes (conn_parse); a client that closed outright
		 * is found when its answer is written. */
		c->peer_eof = true;
		c->read_paused = true;
		conn_update_reading(c);
		if (c->state == CONN_HEAD)
			conn_parse(c);
		return;
	}
	if (conn_owned(c))
		c->srv->cbs->on_abort(c->srv->cookie, &c->req);
	conn_free(c);
}

/* Whether bytes of an answer are still queued for the client (in lb or in
 * the kernel) and the client acknowledged some since the idle timeout last
 * fired: a reader that stopped is let go at the next one. */
static bool conn_still_draining(struct conn *c)
{
	int fd = bufferevent_getfd(c->bev);

	return (evbuffer_get_length(bufferevent_get_output(c->bev)) || net_unacked(fd)) &&
	       net_acked_moved(fd, &c->idle_acked_mark);
}

/* No byte from the client for the idle timeout (or the linger time). */
static void conn_on_timeout(struct conn *c)
{
	int64_t idle_us = (int64_t)c->srv->set.idle_timeout * 1000000, quiet;

	if (c->state == CONN_WAIT || c->state == CONN_DONE)
		return;     /* the wait is the target's, not the client's */
	if (c->state == CONN_TUNNEL) {
		/* The idle timeout applies to a tunnel as a whole: bytes either
		 * way keep it open (alb-http-targets-and-tls.md §1.14). */
		quiet = time_mono_us() - c->active_us;
		if (quiet < idle_us) {
			struct timeval tv = { (idle_us - quiet) / 1000000 + 1, 0 };
			conn_read_for(c, &tv);
			return;
		}
		conn_on_closed(c, false);
		return;
	}
	if (c->state == CONN_BODY || (c->state == CONN_HEAD && h1_reader_busy(&c->reader))) {
		/* ALB: 408 when the client sends no data within the idle timeout. */
		conn_fail(c, 408);
		return;
	}
	if (c->state == CONN_HEAD && c->srv->idle_mid_request_only)
		return;     /* between requests it may idle for ever */
	if (conn_still_draining(c)) {
		/* The last answer is still going out to a slow reader: that is
		 * activity, so the connection stays (ALB's idle timeout counts
		 * inactivity), and the idle wait starts again. */
		conn_arm_read(c);
		return;
	}
	conn_free(c);
}

/* Reads with one read(2) (net_read_now: no ioctl before it, as the bufferevent's own read has). */
static void on_readable(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	struct evbuffer *in = conn_input(c);
	ssize_t n;

	if (what & EV_TIMEOUT) {
		conn_on_timeout(c);
		return;
	}
	n = net_read_now(in, fd, READ_CHUNK);
	if (n > 0)
		conn_on_input(c);
	else if (n == 0)
		conn_on_closed(c, true);
	else if (errno != EAGAIN && errno != EINTR)
		conn_on_closed(c, false);
}

/* A write failed or timed out (a client not reading). */
static void on_event(struct bufferevent *bev, short what, void *arg)
{
	struct conn *c = arg;

	/* ALB's idle timeout counts inactivity: a client still taking bytes,
	 * however slowly, is active, so the write timeout is armed again
	 * (libevent disabled EV_WRITE when it fired). */
	if ((what & BEV_EVENT_TIMEOUT) && (what & BEV_EVENT_WRITING) &&
	    net_acked_moved(bufferevent_getfd(bev), &c->acked_mark)) {
		bufferevent_enable(bev, EV_WRITE);
		return;
	}
	conn_on_closed(c, (what & BEV_EVENT_EOF) != 0);
}

/* HTTPS: decrypted bytes arrived; the read deadline starts again. */
static void on_tls_read(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;
	struct timeval tv = c->state == CONN_LINGER ? (struct timeval){ LINGER_SECONDS, 0 } : idle_tv(c);

	(void)bev;
	if (tv.tv_sec && event_pending(c->read_ev, EV_TIMEOUT, NULL))
		event_add(c->read_ev, &tv);
	conn_on_input(c);
}

/* HTTPS: no decrypted byte for the idle timeout (or the linger time), or
 * the handshake did not finish within the idle timeout. */
static void on_tls_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	(void)fd;
	(void)what;
	if (c->handshaking) {
		log_debug("TLS handshake with %s:%u did not finish within the idle timeout", c->peer_ip,
			  c->peer_port);
		conn_free(c);
		return;
	}
	/* Waiting for the target is not the client's idleness: the deadline
	 * goes on (as a plain connection's persistent read event does). */
	if (c->state == CONN_WAIT || c->state == CONN_DONE) {
		conn_update_reading(c);
		return;
	}
	conn_on_timeout(c);
}

static void conn_tls_ready(struct conn *c);

/* HTTPS: the handshake ended, or the connection failed, closed or timed out. */
static void on_tls_event(struct bufferevent *bev, short what, void *arg)
{
	struct conn *c = arg;
	char e[256];

	if (what & BEV_EVENT_CONNECTED) {
		conn_tls_ready(c);
		return;
	}
	if (c->handshaking) {
		/* ALB logs failed handshakes in connection logs only, never in
		 * the access log (§2.6.1): one debug line, then close. */
		log_debug("TLS handshake with %s:%u failed: %s", c->peer_ip, c->peer_port,
			  what & BEV_EVENT_ERROR ? tls_last_error(e, sizeof(e)) : "closed or timed out");
		conn_free(c);
		return;
	}
	if ((what & BEV_EVENT_TIMEOUT) && (what & BEV_EVENT_READING)) {
		conn_on_timeout(c);
		return;
	}
	/* As on_event: a client still taking bytes, however slowly, is active. */
	if ((what & BEV_EVENT_TIMEOUT) && (what & BEV_EVENT_WRITING) &&
	    net_acked_moved(bufferevent_getfd(bev), &c->acked_mark)) {
		bufferevent_enable(bev, EV_WRITE);
		return;
	}
	ERR_clear_error();
	conn_on_closed(c, (what & BEV_EVENT_EOF) != 0);
}

/* --- connections ----------------------------------------------------------------- */

static void conn_set_peer(struct conn *c, const struct sockaddr *sa)
{
	uint16_t port = 0;

	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
		port = ntohs(s6->sin6_port);
		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
			c->peer_family = AF_INET;
			memcpy(c->peer_addr, s6->sin6_addr.s6_addr + 12, 4);
		} else {
			c->peer_family = AF_INET6;
			memcpy(c->peer_addr, s6->sin6_addr.s6_addr, 16);
		}
	} else {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
		port = ntohs(s4->sin_port);
		c->peer_family = AF_INET;
		memcpy(c->peer_addr, &s4->sin_addr, 4);
	}
	inet_ntop(c->peer_family, c->peer_addr, c->peer_ip, sizeof(c->peer_ip));
	c->peer_port = port;
}

static void conn_set_timeouts(struct conn *c)
{
	struct timeval idle = idle_tv(c);

	bufferevent_set_timeouts(c->bev, NULL, idle.tv_sec ? &idle : NULL);
	if (!c->read_paused && !c->owner_paused)
		conn_arm_read(c);
}

/*
 * A new connection on l over bev (plain or TLS): the conn both kinds share.
 * A TLS one waits for its handshake before reading requests.
 */
static struct conn *conn_accept(struct http_listener *l, struct bufferevent *bev, evutil_socket_t fd,
				const struct sockaddr *sa, bool tls)
{
	struct http_server *s = l->srv;
	struct conn *c = xcalloc(1, sizeof(*c));
	uint8_t tid[16];

	c->srv = s;
	c->bev = bev;
	c->resume = event_new(s->base, -1, 0, on_resume, c);
	c->flush_ev = event_new(s->base, -1, 0, on_flush, c);
	c->read_ev = tls ? evtimer_new(s->base, on_tls_deadline, c)
			 : event_new(s->base, fd, EV_READ | EV_PERSIST, on_readable, c);
	c->listener = l;
	c->listener_index = l->index;
	c->local_port = l->port;
	if ((c->extra = l->extra))
		c->extra->refs++;
	c->born_mono_us = time_mono_us();
	conn_set_peer(c, sa);
	if (s->rng) {
		rng_bytes(s->rng, tid, sizeof(tid));
		memcpy(c->tid, "TID_", 4);
		hex_encode(tid, sizeof(tid), c->tid + 4);
	}
	http_request_init(&c->req);
	h1_reader_init_request(&c->reader, &c->req, &s->set.limits);
	c->reader.on_body = conn_on_body;
	c->reader.cookie = c;
	buf_init(&c->out, 0);

	c->next = s->conns;
	if (s->conns)
		s->conns->prev = c;
	s->conns = c;
	s->nconns++;
	__atomic_add_fetch(&conns_in_process, 1, __ATOMIC_RELAXED);
	return c;
}

/* The first request's reading starts: plain at once, TLS after its handshake. */
static void conn_start(struct conn *c)
{
	conn_start_request(c);
	bufferevent_setcb(c->bev, c->ssl ? on_tls_read : NULL, on_write,
			  c->ssl ? on_tls_event : on_event, c);
	bufferevent_setwatermark(c->bev, EV_WRITE, OUTPUT_LOW_WATER, 0);
	/* A new bufferevent starts with EV_WRITE enabled; conn_flush writes directly. */
	bufferevent_disable(c->bev, EV_WRITE | (c->ssl ? 0 : EV_READ));
	conn_set_timeouts(c);
}

/*
 * HTTPS: the handshake is done. What it negotiated is kept for the
 * connection's requests (access log, x-amzn-tls-* and mTLS headers), and
 * HTTP/1.1 starts on the decrypted stream.
 */
static void conn_tls_ready(struct conn *c)
{
	c->handshaking = false;
	tls_info_fill(&c->tls, c->ssl);
	/* HTTP/2 when ALPN chose it (routing.http2.enabled); HTTP/1.1 otherwise. */
	if (strcmp(c->tls.alpn, "h2") == 0 && h2_conn_start(c) == 0)
		return;
	conn_start(c);
}

void conn_on_accept(struct evconnlistener *ev, evutil_socket_t fd, struct sockaddr *sa, int salen,
		    void *arg)
{
	struct http_listener *l = arg;
	struct http_server *s = l->srv;
	struct bufferevent *bev;
	struct conn *c;
	SSL *ssl = NULL;
	int one = 1;

	(void)ev;
	(void)salen;
	if (l->starved) {
		l->starved = false;
		log_info("descriptors available again: accepting connections");
	}
	if (s->max_conns && s->nconns >= s->max_conns) {
		if (!s->capped)
			log_warn("%s: %zu connections open: closing new ones", s->cap_who, s->nconns);
		s->capped = true;
		evutil_closesocket(fd);
		return;
	}
	s->capped = false;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	__atomic_store_n(&s->accepted, s->accepted + 1, __ATOMIC_RELAXED);  /* one writer: no lock prefix */
	if (l->tls && !(ssl = tls_listener_ssl(l->tls))) {
		evutil_closesocket(fd);
		return;
	}
	/* With BEV_OPT_CLOSE_ON_FREE the TLS bufferevent owns ssl and fd, also
	 * when it fails to be made; deferred callbacks keep OpenSSL's own
	 * reads and writes from calling back into lb mid-call. */
	bev = ssl ? bufferevent_openssl_socket_new(s->base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING,
						   BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS)
		  : bufferevent_socket_new(s->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (!bev) {
		if (!ssl)
			evutil_closesocket(fd);
		return;
	}
	c = conn_accept(l, bev, fd, sa, ssl != NULL);
	if (!ssl) {
		conn_start(c);
		return;
	}
	c->ssl = ssl;
	c->handshaking = true;
	conn_start_request(c);
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	bufferevent_setcb(bev, NULL, NULL, on_tls_event, c);
	/* The handshake has the idle timeout to complete. */
	conn_read_for(c, &(struct timeval){ s->set.idle_timeout ? s->set.idle_timeout : 60, 0 });
	bufferevent_enable(bev, EV_READ | EV_WRITE);
}

void conn_free(struct conn *c)
{
	struct http_server *s = c->srv;

	if (c->prev)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	s->nconns--;
	__atomic_sub_fetch(&conns_in_process, 1, __ATOMIC_RELAXED);
	event_free(c->resume);
	event_free(c->flush_ev);
	event_free(c->read_ev);
	/* TLS: every close is a clean end of the stream, the idle timeout's
	 * too (conn_linger sends it for closes after an answer); libevent
	 * 2.1 never sends close_notify itself (alb-http-targets-and-tls.md §3.2). */
	if (c->ssl && !c->handshaking && !(SSL_get_shutdown(c->ssl) & SSL_SENT_SHUTDOWN) && SSL_shutdown(c->ssl) < 0)
		ERR_clear_error();
	bufferevent_free(c->bev);   /* closes the socket, frees the SSL */
	tls_info_release(&c->tls);
	answer_extra_unref(c->extra);
	h1_reader_release(&c->reader);
	http_request_release(&c->req);
	buf_release(&c->out);
	free(c);
}

/* --- server ------------------------------------------------------- */

struct http_server *http_server_new(struct event_base *base, const struct http_server_cbs *cbs,
				    void *cookie, struct rng *rng)
{
	struct http_server *s = xcalloc(1, sizeof(*s));

	s->base = base;
	s->cbs = cbs;
	s->cookie = cookie;
	s->rng = rng;
	s->set = (struct http_server_settings){ 60, 3600, h1_limits_alb_request };
	return s;
}

void http_server_configure(struct http_server *s, const struct http_server_settings *set)
{
	s->set = *set;
	for (struct conn *c = s->conns; c; c = c->next) {
		c->reader.lim = set->limits;
		if (c->state != CONN_LINGER && !c->h2)
			conn_set_timeouts(c);
	}
}

void http_server_shutdown(struct http_server *s)
{
	struct conn *c, *next;

	s->stopping = true;
	while (s->listeners)
		http_listener_close(s->listeners);
	for (c = s->conns; c; c = next) {
		next = c->next;
		if (c->h2)
			h2_conn_shutdown(c->h2);
		else if (c->state == CONN_HEAD && !h1_reader_busy(&c->reader) &&
		    evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
			conn_free(c);
	}
}

void http_server_set_reuse_port(struct http_server *s, bool on)
{
	s->reuse_port = on;
}

void http_server_set_idle_mid_request_only(struct http_server *s, bool on)
{
	s->idle_mid_request_only = on;
}

void http_server_set_max_conns(struct http_server *s, size_t n, const char *who)
{
	s->max_conns = n;
	free(s->cap_who);
	s->cap_who = xstrdup(who);
}

void http_server_set_answer_half_closed(struct http_server *s, bool on)
{
	s->answer_half_closed = on;
}

uint64_t http_server_accepted(const struct http_server *s)
{
	return __atomic_load_n(&s->accepted, __ATOMIC_RELAXED);
}

size_t http_server_connections(const struct http_server *s)
{
	return s->nconns;
}

void http_server_free(struct http_server *s)
{
	if (!s)
		return;
	while (s->listeners)
		http_listener_close(s->listeners);
	while (s->conns) {
		struct conn *c = s->conns;
		if (c->h2) {
			h2_conn_free(c->h2);   /* frees c too */
			continue;
		}
		if (conn_owned(c))
			s->cbs->on_abort(s->cookie, &c->req);
		conn_free(c);
	}
	free(s->cap_who);
	free(s);
}
