/*
 * http_server: connections, request reading and response writing.
 *
 * One struct conn per client connection, with one request at a time: a
 * request is read (head, then body), handed to the router, and the next
 * request on the connection is not read until the answer is queued. That
 * keeps responses in request order under pipelining and lets the request
 * struct and its buffers be reused for every request on the connection.
 *
 * Reading a request:
 *   HEAD   bytes are scanned for the end of the head, enforcing ALB's limits
 *          (16 KB request line, 16 KB per header, 64 KB of headers). The head
 *          is copied once into req->head, classified by desync mitigation,
 *          then parsed by llhttp, whose spans point into that copy.
 *   BODY   llhttp runs over the input buffer in place; body bytes are kept
 *          only if the router asked for them (req->keep_body).
 *   WAIT   the router has the request. Reading stays enabled (up to a high
 *          watermark) so a client that leaves is noticed (on_abort).
 *   DONE   the answer is queued and the connection stays open: the request is
 *          reset and reading resumes (from the resume event when the answer
 *          came asynchronously, so the router's callback returns first).
 *   CLOSING the answer is queued and the connection will close once it is
 *          written; then LINGER: half-closed, input discarded for a moment,
 *          so the client reads the answer instead of a reset.
 *
 * A conn is freed only from a libevent callback of its own (read, write,
 * event, resume), never from inside the parser or under the router.
 * Reading (HEAD and BODY) lives in http_read.c; what both files share, in
 * http_conn.h.
 */
#include "net/http_conn.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <llhttp.h>

#include "base/log.h"
#include "net/net.h"

/* While a request is in flight, stop reading pipelined input past this. */
#define INPUT_HIGH_WATER (256 * 1024)
/* Bytes asked of the kernel per read. */
#define READ_CHUNK (16 * 1024)
/* How long a closing connection keeps discarding input after its answer. */
#define LINGER_SECONDS 2

static void conn_free(struct conn *c);
static void conn_begin_close(struct conn *c);
static void conn_resume_reading(struct conn *c);

/* Reads and dispatches requests while input and state allow. Never frees c. */
static void conn_parse(struct conn *c)
{
	c->in_parse = true;
	for (;;) {
		if (c->state == CONN_DONE && !c->listener) {
			conn_begin_close(c);   /* its listener was removed by a reload */
			conn_flush(c);
			break;
		}
		if (c->state == CONN_DONE) {
			llhttp_resume(&c->parser);
			conn_start_request(c);
			conn_resume_reading(c);
		}
		if (c->state == CONN_HEAD) {
			int r = conn_read_head(c);
			if (r == 0)
				break;
			if (r < 0) {
				conn_fail(c, 400);
				break;
			}
			if (conn_handle_head(c) < 0)
				break;
		}
		if (c->state == CONN_BODY) {
			int r = conn_pump_body(c);
			if (r <= 0)
				break;
			c->state = CONN_WAIT;
			c->srv->cbs->on_request(c->srv->cookie, &c->req);
			continue;
		}
		break;
	}
	c->in_parse = false;
}

/* --- answering ---------------------------------------------------------------- */

static void conn_begin_close(struct conn *c)
{
	c->state = CONN_CLOSING;
	/* Nothing more is parsed; input is discarded until the answer is out. */
	evbuffer_drain(bufferevent_get_input(c->bev), evbuffer_get_length(bufferevent_get_input(c->bev)));
}

static void conn_linger(struct conn *c);

/*
 * Writes queued output now, in the callback that produced it. EV_WRITE stays
 * off while the socket keeps up, so an answer costs one send and no epoll
 * changes; only a client that reads slowly gets the write event (and the
 * idle timeout on writing).
 */
void conn_flush(struct conn *c)
{
	if (net_write_now(c->bev)) {
		bufferevent_enable(c->bev, EV_WRITE);
		return;
	}
	if (c->state == CONN_CLOSING)
		conn_linger(c);
}

static bool conn_may_continue(const struct conn *c, const struct http_response *resp)
{
	const struct http_request *req = &c->req;
	int64_t age_us = time_mono_us() - c->born_mono_us;

	/* After CONNECT (or an Upgrade) llhttp reads no further requests: the
	 * bytes that follow belong to a tunnel lb does not open, so it closes. */
	return c->state == CONN_WAIT && req->keep_alive && !resp->close && !c->close_after &&
	       !c->srv->stopping && !http_request_header(req, "upgrade") && !c->parser.upgrade &&
	       /* client_keep_alive.seconds bounds a connection's life. */
	       age_us < (int64_t)c->srv->set.client_keep_alive * 1000000;
}

size_t http_server_respond(struct http_request *req, const struct http_response *resp, const char *date)
{
	struct conn *c = req->io;
	struct evbuffer *out = bufferevent_get_output(c->bev);
	bool head_request = sv_eq_cstr(req->method, "HEAD");
	bool keep = conn_may_continue(c, resp);
	size_t n;

	buf_reset(&c->out);
	http_response_head(&c->out, resp, date, keep, head_request);
	n = c->out.len;
	if (http_response_has_body(resp->status, head_request) && resp->body.n) {
		buf_append(&c->out, resp->body.p, resp->body.n);
		n += resp->body.n;
	}
	/* One contiguous add: the answer leaves in one send (no Nagle stall). */
	evbuffer_add(out, c->out.p, c->out.len);
	if (!keep) {
		conn_begin_close(c);
		conn_flush(c);
		return n;
	}
	c->state = CONN_DONE;
	conn_flush(c);
	if (!c->in_parse)
		event_active(c->resume, EV_TIMEOUT, 0);
	return n;
}

/* Answers an error the router must phrase (400, 408, 501); the connection closes. */
void conn_fail(struct conn *c, int status)
{
	c->srv->cbs->on_error(c->srv->cookie, &c->req, status);
	if (c->state != CONN_CLOSING && c->state != CONN_LINGER)
		conn_begin_close(c);
}

/* --- libevent callbacks ------------------------------------------------------- */

static void conn_linger(struct conn *c)
{
	struct timeval tv = { LINGER_SECONDS, 0 };

	c->state = CONN_LINGER;
	shutdown(bufferevent_getfd(c->bev), SHUT_WR);
	bufferevent_disable(c->bev, EV_WRITE);
	c->read_paused = false;
	event_add(c->read_ev, &tv);
}

/* Input arrived: parse it, or discard it once the connection is closing. */
static void conn_on_input(struct conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);

	switch (c->state) {
	case CONN_HEAD:
	case CONN_BODY:
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
			event_del(c->read_ev);
			c->read_paused = true;
		}
		break;
	}
}

/* The output has drained after a partial write (see conn_flush). */
static void on_write(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;

	bufferevent_disable(bev, EV_WRITE);
	if (c->state == CONN_CLOSING)
		conn_linger(c);
}

static void on_resume(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	(void)fd;
	(void)what;
	if (c->state == CONN_DONE)
		conn_parse(c);
}

/* No byte from the client for the idle timeout (or the linger time). */
static void conn_on_timeout(struct conn *c)
{
	if (c->state == CONN_WAIT || c->state == CONN_DONE)
		return;     /* the wait is the target's, not the client's */
	if (c->state == CONN_BODY || (c->state == CONN_HEAD && c->started)) {
		/* ALB: 408 when the client sends no data within the idle timeout. */
		conn_fail(c, 408);
		return;
	}
	conn_free(c);
}

/* The client closed (eof) or the connection failed. */
static void conn_on_closed(struct conn *c, bool eof)
{
	if (c->state == CONN_WAIT)
		c->srv->cbs->on_abort(c->srv->cookie, &c->req);
	if (eof && c->state == CONN_BODY) {
		/* ALB: 400 when the client closes before sending the whole body
		 * (alb-listener-rules.md §4.4). A client that only half-closed
		 * still reads it; the close path frees c. */
		conn_fail(c, 400);
		return;
	}
	conn_free(c);
}

/*
 * Reads with one read(2) into the bufferevent's input buffer. lb reads the
 * socket itself rather than through the bufferevent, which asks the kernel
 * how much is readable (an ioctl) before every read: one system call per
 * request saved on the hot path.
 */
static void on_readable(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(c->bev);
	struct evbuffer_iovec v;
	ssize_t n;

	if (what & EV_TIMEOUT) {
		conn_on_timeout(c);
		return;
	}
	/* The bufferevent freezes its input's end so only it appends; lb is its reader now. */
	evbuffer_unfreeze(in, 0);
	evbuffer_reserve_space(in, READ_CHUNK, &v, 1);
	n = read(fd, v.iov_base, v.iov_len);
	if (n > 0) {
		v.iov_len = (size_t)n;
		evbuffer_commit_space(in, &v, 1);
	}
	evbuffer_freeze(in, 0);
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
	(void)bev;
	conn_on_closed(arg, (what & BEV_EVENT_EOF) != 0);
}

static void conn_resume_reading(struct conn *c)
{
	struct timeval idle = { c->srv->set.idle_timeout, 0 };

	if (c->read_paused) {
		c->read_paused = false;
		event_add(c->read_ev, &idle);
	}
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
	struct timeval idle = { c->srv->set.idle_timeout, 0 };

	bufferevent_set_timeouts(c->bev, NULL, &idle);
	if (!c->read_paused)
		event_add(c->read_ev, &idle);
}

static void on_accept(struct evconnlistener *ev, evutil_socket_t fd, struct sockaddr *sa, int salen,
		      void *arg)
{
	struct http_listener *l = arg;
	struct http_server *s = l->srv;
	struct conn *c;
	uint8_t tid[16];
	int one = 1;

	(void)ev;
	(void)salen;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c = xcalloc(1, sizeof(*c));
	c->srv = s;
	c->bev = bufferevent_socket_new(s->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (!c->bev) {
		evutil_closesocket(fd);
		free(c);
		return;
	}
	c->resume = event_new(s->base, -1, 0, on_resume, c);
	c->read_ev = event_new(s->base, fd, EV_READ | EV_PERSIST, on_readable, c);
	c->listener = l;
	c->listener_index = l->index;
	c->local_port = l->port;
	c->born_mono_us = time_mono_us();
	conn_set_peer(c, sa);
	rng_bytes(s->rng, tid, sizeof(tid));
	memcpy(c->tid, "TID_", 4);
	hex_encode(tid, sizeof(tid), c->tid + 4);
	http_request_init(&c->req);
	buf_init(&c->out, 0);
	conn_parser_init(c);
	conn_start_request(c);

	c->next = s->conns;
	if (s->conns)
		s->conns->prev = c;
	s->conns = c;
	s->nconns++;

	bufferevent_setcb(c->bev, NULL, on_write, on_event, c);
	/* A new bufferevent starts with EV_WRITE enabled; conn_flush writes directly. */
	bufferevent_disable(c->bev, EV_WRITE | EV_READ);
	conn_set_timeouts(c);
}

static void conn_free(struct conn *c)
{
	struct http_server *s = c->srv;

	if (c->prev)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	s->nconns--;
	event_free(c->resume);
	event_free(c->read_ev);
	bufferevent_free(c->bev);
	http_request_release(&c->req);
	buf_release(&c->out);
	free(c->dhdrs);
	free(c);
}

/* --- server and listeners ------------------------------------------------------- */

struct http_server *http_server_new(struct event_base *base, const struct http_server_cbs *cbs,
				    void *cookie, struct rng *rng)
{
	struct http_server *s = xcalloc(1, sizeof(*s));

	s->base = base;
	s->cbs = cbs;
	s->cookie = cookie;
	s->rng = rng;
	s->set = (struct http_server_settings){ 60, 3600, DESYNC_MODE_DEFENSIVE };
	conn_parser_settings_init(&s->parser_settings);
	return s;
}

void http_server_configure(struct http_server *s, const struct http_server_settings *set)
{
	s->set = *set;
	for (struct conn *c = s->conns; c; c = c->next)
		if (c->state != CONN_LINGER)
			conn_set_timeouts(c);
}

static void on_accept_error(struct evconnlistener *ev, void *arg)
{
	(void)ev;
	(void)arg;
	/* EMFILE and friends: libevent retries on the next readiness. */
	log_warn("accept failed: %s", strerror(errno));
}

struct http_listener *http_server_listen(struct http_server *s, const char *address, int port,
					 struct lb_err *err)
{
	struct http_listener *l = xcalloc(1, sizeof(*l));

	l->srv = s;
	l->ev = net_listen(s->base, on_accept, l, "listener", address, port, 1024, &l->port, err);
	if (!l->ev) {
		free(l);
		return NULL;
	}
	evconnlistener_set_error_cb(l->ev, on_accept_error);
	l->next = s->listeners;
	if (s->listeners)
		s->listeners->prev = l;
	s->listeners = l;
	return l;
}

uint16_t http_listener_port(const struct http_listener *l)
{
	return l->port;
}

void http_listener_set_index(struct http_listener *l, int index)
{
	l->index = index;
	/* A listener's connections are its own, not every one on its port:
	 * two listeners may share a port on different addresses. */
	for (struct conn *c = l->srv->conns; c; c = c->next) {
		if (c->listener != l)
			continue;
		c->listener_index = index;
		/* A request not shown to the router yet is routed with the
		 * configuration that numbered the listeners so. */
		if (c->state == CONN_HEAD)
			c->req.listener = index;
	}
}

void http_listener_close(struct http_listener *l)
{
	struct http_server *s;

	if (!l)
		return;
	s = l->srv;
	if (l->prev)
		l->prev->next = l->next;
	else
		s->listeners = l->next;
	if (l->next)
		l->next->prev = l->prev;
	/* Its connections end with the request they are in (ALB closes the
	 * connections of a deleted listener); idle ones at once. */
	for (struct conn *c = s->conns, *next; c; c = next) {
		next = c->next;
		if (c->listener != l)
			continue;
		c->listener = NULL;
		if (c->state == CONN_HEAD)
			conn_free(c);
		else
			c->close_after = true;
	}
	evconnlistener_free(l->ev);
	free(l);
}

void http_server_shutdown(struct http_server *s)
{
	struct conn *c, *next;

	s->stopping = true;
	while (s->listeners)
		http_listener_close(s->listeners);
	for (c = s->conns; c; c = next) {
		next = c->next;
		if (c->state == CONN_HEAD && !c->started &&
		    evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
			conn_free(c);
	}
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
		if (c->state == CONN_WAIT)
			s->cbs->on_abort(s->cookie, &c->req);
		conn_free(c);
	}
	free(s);
}
