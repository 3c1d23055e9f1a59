/*
 * http_client: connections toward targets and endpoints, each carrying one
 * exchange at a time, pooled per origin between exchanges.
 *
 * A connection (struct hc_conn) writes through a bufferevent (which also
 * makes the non-blocking connect) and reads the socket itself, like
 * http_server, into an evbuffer parsed in place by h1_read. States:
 *   connecting  the connect timer runs; the request waits in the output.
 *               Its exchange cancelled, it connects on without one and
 *               becomes idle once made (nothing of the request went out)
 *   busy        an exchange is on it; the read event carries the idle timeout
 *   idle        pooled: any byte or the close of the peer ends it, and so
 *               does the pool's idle timeout
 *
 * HTTPS connections (opts.tls) go through an OpenSSL bufferevent instead,
 * which reads and writes for them (the read callback replaces the read
 * event; its read timeout the idle timeout). "connected" then means the
 * handshake is done. Pools are per origin, TLS and host name; each keeps the
 * last session its server issued and offers it to the next connection.
 *
 * An origin with an alternate address (a name with IPv4 and IPv6 ones) is
 * pooled per address: a connection its address refuses goes on toward the
 * other, once, with its request (hc_conn_fall_back), and into that address's
 * pool. The pool of the origin's own address keeps which one answered last,
 * and exchanges try that one first (pool_first).
 *
 * HTTPS is http_client_tls.c's, origins and names http_origin.c's;
 * http_client_int.h holds what the three share.
 *
 * Callbacks run only from these files' libevent callbacks. The caller may
 * cancel its exchange from inside one; `busy` defers the teardown until
 * the callback has returned, so nothing is freed under anyone's feet.
 */
#include "net/http_client_int.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "base/log.h"
#include "base/util.h"
#include "net/h1_read.h"
#include "net/net.h"
#include "net/tls_client.h"

#define READ_CHUNK (16 * 1024)
#define OUTPUT_LOW_WATER (64 * 1024)

/* --- pools ---------------------------------------------------------------------- */

static struct pool *pool_get(struct http_client *hc, const char *key, const struct http_exchange_opts *opt)
{
	const char *host = opt->tls ? opt->tls_host : NULL;
	bool sni_only = host && opt->tls_sni_only;
	struct pool *p;

	/* Apart by verification too: a session from an unverified handshake must
	 * not be resumed where the certificate is to be verified. */
	for (p = hc->pools; p; p = p->next)
		if (strcmp(p->key, key) == 0 && p->tls == opt->tls && p->sni_only == sni_only &&
		    (p->host && host ? strcmp(p->host, host) == 0 : p->host == host))
			return p;
	p = xcalloc(1, sizeof(*p));
	snprintf(p->key, sizeof(p->key), "%s", key);
	p->tls = opt->tls;
	p->host = host ? xstrdup(host) : NULL;
	p->sni_only = sni_only;
	p->next = hc->pools;
	hc->pools = p;
	return p;
}

/* The pool an exchange to o takes an idle connection from: that of the address o tries first. */
static struct pool *pool_first(struct http_client *hc, const struct http_origin *o,
			       const struct http_exchange_opts *opt)
{
	struct pool *home = pool_get(hc, o->key, opt);

	return http_origin_alt_first(&home->pref, o) ? pool_get(hc, o->alt_key, opt) : home;
}

/* The options p was chosen by, as far as a connection's pool goes (a fallback's is chosen alike). */
static struct http_exchange_opts pool_opts(const struct pool *p)
{
	return (struct http_exchange_opts){ .tls = p->tls, .tls_host = p->host, .tls_sni_only = p->sni_only };
}

static void pool_remove(struct hc_conn *c)
{
	struct hc_conn **pp;

	if (!c->pool)
		return;
	for (pp = &c->pool->idle; *pp; pp = &(*pp)->idle_next) {
		if (*pp == c) {
			*pp = c->idle_next;
			break;
		}
	}
	c->idle_next = NULL;
}

/* --- the end of an exchange ----------------------------------------------------- */

static void arm_read(struct hc_conn *c, int seconds)
{
	struct timeval tv = { seconds, 0 };

	if (c->tls) {
		/* Setting the timeout again restarts it, as event_add does below. */
		bufferevent_set_timeouts(c->bev, seconds > 0 ? &tv : NULL, NULL);
		if (!c->paused)
			bufferevent_enable(c->bev, EV_READ);
		return;
	}
	event_add(c->read_ev, seconds > 0 ? &tv : NULL);
}

/*
 * On the idle timeout: ALB's idle timeout counts inactivity, so a target still
 * taking the request's bytes, however slowly (its acknowledgements advance),
 * is active: the timeout is armed again and true is returned.
 */
static bool still_sending(struct hc_conn *c)
{
	int fd = bufferevent_getfd(c->bev);

	if (!c->x || !(evbuffer_get_length(bufferevent_get_output(c->bev)) || net_unacked(fd)) ||
	    !net_acked_moved(fd, &c->acked_mark))
		return false;
	arm_read(c, c->x->opt.idle_timeout);
	return true;
}

void hc_conn_timed_out(struct hc_conn *c)
{
	if (still_sending(c))
		return;
	if (c->x)
		hc_exchange_fail(c, HTTP_CLIENT_TIMEOUT);
	else
		hc_conn_close(c);
}

/* Starts writing what the output holds. */
static void conn_flush(struct hc_conn *c)
{
	if (c->tls)
		bufferevent_enable(c->bev, EV_WRITE);   /* OpenSSL's bufferevent writes for itself */
	else if (net_write_now(c->bev))
		bufferevent_enable(c->bev, EV_WRITE);
}

/* Puts c in its pool, or closes it when it cannot carry another exchange. */
static void conn_release(struct hc_conn *c, bool reusable)
{
	struct http_client *hc = c->hc;

	if (!reusable || !c->connected || evbuffer_get_length(bufferevent_get_input(c->bev)) ||
	    evbuffer_get_length(bufferevent_get_output(c->bev))) {
		hc_conn_close(c);
		return;
	}
	h1_reader_next(&c->reader);
	c->reader.skip_body = c->reader.upgrade_asked = false;
	c->paused = false;
	c->idle_next = c->pool->idle;
	c->pool->idle = c;
	arm_read(c, hc->idle_timeout);
}

/* Detaches x from its connection and keeps it for the next exchange. */
static void exchange_free(struct http_exchange *x)
{
	if (x->conn)
		x->conn->x = NULL;
	x->next_free = x->hc->free_exchanges;
	x->hc->free_exchanges = x;
}

/* Reports an error, then frees x and closes its connection. */
void hc_exchange_fail(struct hc_conn *c, enum http_client_error e)
{
	struct http_exchange *x = c->x;

	if (x && !x->cancelled) {
		c->in_cb = true;
		x->cbs->on_error(x->cookie, e);
		c->in_cb = false;
	}
	if (x)
		exchange_free(x);
	hc_conn_close(c);
}

/* The answer ended: reports it, frees x, and pools or closes c. */
static void exchange_end(struct hc_conn *c)
{
	struct http_exchange *x = c->x;
	bool reusable = !c->tunnel && c->reply.keep_alive && x->request_done && !x->opt.fresh && !x->cancelled;

	if (!x->cancelled) {
		c->in_cb = true;
		x->cbs->on_end(x->cookie);
		c->in_cb = false;
	}
	reusable = reusable && !x->cancelled;
	exchange_free(x);
	conn_release(c, reusable);
}

/* --- reading -------------------------------------------------------------------- */

static void on_reply_body(void *cookie, const char *p, size_t n)
{
	struct hc_conn *c = cookie;
	struct http_exchange *x = c->x;

	if (x && !x->cancelled)
		x->cbs->on_body(x->cookie, p, n);
}

/* Tunnel bytes go to the exchange as they are. */
static void conn_tunnel_input(struct hc_conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);

	while (c->x && !c->x->cancelled && !c->paused && evbuffer_get_length(in)) {
		struct evbuffer_iovec v;

		evbuffer_peek(in, -1, NULL, &v, 1);
		c->x->cbs->on_body(c->x->cookie, v.iov_base, v.iov_len);
		evbuffer_drain(in, v.iov_len);
	}
}

/* Parses buffered input: heads, body spans and ends, until it runs out or the reader pauses. */
void hc_conn_parse(struct hc_conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);

	c->in_cb = true;
	while (c->x && !c->x->cancelled && !c->paused) {
		struct evbuffer_iovec v = { (void *)"", 0 };
		enum h1_event ev;
		size_t used;

		if (c->tunnel) {
			conn_tunnel_input(c);
			break;
		}
		evbuffer_peek(in, -1, NULL, &v, 1);
		ev = h1_read(&c->reader, v.iov_base, v.iov_len, &used);
		evbuffer_drain(in, used);
		if (ev == H1_MORE) {
			if (!evbuffer_get_length(in))
				break;
			continue;
		}
		if (ev == H1_FAIL) {
			c->in_cb = false;
			log_debug("target %s: %s", c->pool->key, c->reader.fail_detail);
			hc_exchange_fail(c, HTTP_CLIENT_MALFORMED);
			return;
		}
		if (ev == H1_HEAD) {
			/* An interim answer (100 Continue) is not the answer: ALB
			 * already told the client to go on. */
			if (c->reply.status >= 100 && c->reply.status < 200 && !c->reply.upgrade) {
				h1_read(&c->reader, "", 0, &used);
				h1_reader_next(&c->reader);
				c->reader.skip_body = c->x->opt.head_request;
				continue;
			}
			c->tunnel = c->reply.upgrade;
			c->x->cbs->on_head(c->x->cookie, &c->reply);
			continue;
		}
		/* H1_END */
		c->in_cb = false;
		exchange_end(c);
		return;
	}
	c->in_cb = false;
	if (c->x && c->x->cancelled) {
		exchange_free(c->x);
		hc_conn_close(c);
	}
}

/* The peer closed its side. */
void hc_conn_on_eof(struct hc_conn *c)
{
	enum h1_event ev;

	if (!c->x) {
		hc_conn_close(c);     /* an idle pooled connection: the target let it go */
		return;
	}
	if (c->tunnel) {
		exchange_end(c);
		return;
	}
	ev = h1_read_eof(&c->reader);
	if (ev == H1_END) {
		c->reply.keep_alive = false;
		exchange_end(c);
		return;
	}
	hc_exchange_fail(c, HTTP_CLIENT_CLOSED);
}

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
	struct hc_conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(c->bev);
	ssize_t n;

	if (what & EV_TIMEOUT) {
		hc_conn_timed_out(c);
		return;
	}
	if (!c->x) {
		/* Idle: a byte it was not asked for, or the close, ends it. */
		hc_conn_close(c);
		return;
	}
	n = net_read_now(in, fd, READ_CHUNK);
	if (n > 0)
		hc_conn_parse(c);
	else if (n == 0)
		hc_conn_on_eof(c);
	else if (errno != EAGAIN && errno != EINTR)
		hc_exchange_fail(c, HTTP_CLIENT_CLOSED);
}

static void on_resume(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	hc_conn_parse(arg);
}

/* --- connecting and writing ---------------------------------------------------- */

static void on_connected(struct hc_conn *c)
{
	int one = 1;

	c->connected = true;
	evtimer_del(c->timer);
	http_origin_answered(&c->home->pref, &c->origin, c->on_alt, c->fell_back,
			     c->pool->host ? "endpoint" : "target");
	setsockopt(bufferevent_getfd(c->bev), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (!c->tls)
		c->read_ev = event_new(c->hc->base, bufferevent_getfd(c->bev), EV_READ | EV_PERSIST, on_readable, c);
	if (!c->x) {
		/* Its exchange was cancelled while it connected: idle in its pool. */
		if (!c->tls)
			bufferevent_disable(c->bev, EV_WRITE);
		conn_release(c, true);
		return;
	}
	arm_read(c, c->x->opt.idle_timeout);
	if (c->tls) {
		conn_flush(c);
		return;
	}
	if (net_write_now(c->bev))
		bufferevent_enable(c->bev, EV_WRITE);
	else
		bufferevent_disable(c->bev, EV_WRITE);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	struct hc_conn *c = arg;

	(void)bev;
	if (what & BEV_EVENT_CONNECTED) {
		on_connected(c);
		return;
	}
	if (c->tls) {
		hc_on_tls_event(c, what);
		return;
	}
	if (!c->connected && hc_conn_fall_back(c))
		return;
	if (!c->x) {
		hc_conn_close(c);
		return;
	}
	hc_exchange_fail(c, c->connected ? HTTP_CLIENT_CLOSED : HTTP_CLIENT_REFUSED);
}

/* The output drained to the low watermark after a partial write. */
static void on_write(struct bufferevent *bev, void *arg)
{
	struct hc_conn *c = arg;
	struct http_exchange *x = c->x;

	if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		bufferevent_disable(bev, EV_WRITE);
	if (x && x->want_drain && !x->cancelled) {
		x->want_drain = false;
		if (x->cbs->on_drain) {
			c->in_cb = true;
			x->cbs->on_drain(x->cookie);
			c->in_cb = false;
			if (c->x && c->x->cancelled) {
				exchange_free(c->x);
				hc_conn_close(c);
			}
		}
	}
}

/* The connect timer: the connection was not made in time, or could not be started. */
static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct hc_conn *c = arg;

	(void)fd;
	(void)what;
	if (c->pending_error == HTTP_CLIENT_REFUSED && hc_conn_fall_back(c))
		return;
	hc_exchange_fail(c, c->pending_error);
}

/* Makes c's bufferevent and starts connecting it toward its origin's address, or
 * alternate (on_alt), under the connect timeout. Failures are reported from the loop. */
static void conn_connect(struct hc_conn *c, const struct http_exchange_opts *opt)
{
	struct http_client *hc = c->hc;
	struct timeval tv = { c->connect_timeout, 0 }, now = { 0, 0 };
	socklen_t len;
	const struct sockaddr *sa = http_origin_addr(&c->origin, c->on_alt, &len);

	c->pool = pool_get(hc, c->on_alt ? c->origin.alt_key : c->origin.key, opt);
	c->bev = opt->tls ? hc_tls_bev(c, opt) : NULL;
	if (!c->bev)
		c->bev = bufferevent_socket_new(hc->base, -1, BEV_OPT_CLOSE_ON_FREE);
	if (c->tls)
		bufferevent_openssl_set_allow_dirty_shutdown(c->bev, 1);
	bufferevent_setcb(c->bev, c->tls ? hc_on_tls_read : NULL, on_write, on_event, c);
	bufferevent_setwatermark(c->bev, EV_WRITE, OUTPUT_LOW_WATER, 0);
	c->pending_error = HTTP_CLIENT_CONNECT_TIMEOUT;
	if (opt->tls && !c->tls) {
		/* No TLS to be had: the exchange fails (from the loop), never goes out in clear. */
		c->pending_error = HTTP_CLIENT_TLS;
		evtimer_add(c->timer, &now);
		return;
	}
	evtimer_add(c->timer, &tv);
	if (bufferevent_socket_connect(c->bev, sa, (int)len) < 0) {
		/* Refused at once (e.g. no route): reported from the loop like any failure. */
		c->pending_error = HTTP_CLIENT_REFUSED;
		evtimer_add(c->timer, &now);
	}
	/* Offered once the socket is set (libevent resets the SSL then, with SSL_clear);
	 * the ClientHello goes when the connection is made. */
	if (c->tls && c->pool->session)
		SSL_set_session(bufferevent_openssl_get_ssl(c->bev), c->pool->session);
	if (!c->tls)
		bufferevent_disable(c->bev, EV_READ);
}

static struct hc_conn *conn_new(struct http_client *hc, const struct http_origin *o,
				const struct http_exchange_opts *opt)
{
	struct hc_conn *c = xcalloc(1, sizeof(*c));

	c->hc = hc;
	c->fresh = opt->fresh;
	c->origin = *o;
	c->home = pool_get(hc, o->key, opt);
	c->on_alt = http_origin_alt_first(&c->home->pref, o);
	c->connect_timeout = opt->connect_timeout;
	c->timer = evtimer_new(hc->base, on_timer, c);
	c->resume = event_new(hc->base, -1, 0, on_resume, c);
	http_reply_init(&c->reply);
	h1_reader_init_reply(&c->reader, &c->reply, &h1_limits_alb_response);
	c->reader.on_body = on_reply_body;
	c->reader.cookie = c;
	c->next = hc->conns;
	if (hc->conns)
		hc->conns->prev = c;
	hc->conns = c;
	conn_connect(c, opt);
	return c;
}

/*
 * Each address gets the whole connect timeout: a refusal comes at once, and a
 * connect timeout is no refusal (ALB's 504 after 10 s), so it never falls back.
 */
bool hc_conn_fall_back(struct hc_conn *c)
{
	struct http_exchange_opts opt = pool_opts(c->pool);
	struct evbuffer *request;

	if (!c->origin.alt_len || c->fell_back || c->connected)
		return false;
	/* No byte of the request reached the target: it goes on, whole, over the other address. */
	request = evbuffer_new();
	evbuffer_add_buffer(request, bufferevent_get_output(c->bev));
	bufferevent_free(c->bev);
	c->fell_back = true;
	c->on_alt = !c->on_alt;
	conn_connect(c, &opt);
	evbuffer_add_buffer(bufferevent_get_output(c->bev), request);
	evbuffer_free(request);
	return true;
}

void hc_conn_close(struct hc_conn *c)
{
	struct http_client *hc = c->hc;

	pool_remove(c);
	if (c->x)
		c->x->conn = NULL;
	if (c->prev)
		c->prev->next = c->next;
	else
		hc->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	if (c->read_ev)
		event_free(c->read_ev);
	/* A TLS connection that got through its handshake ends as if shut down
	 * cleanly: OpenSSL would otherwise mark its session (the pool's, shared)
	 * not resumable when the SSL is freed. Fatal alerts still void it. */
	if (c->tls && c->connected)
		SSL_set_shutdown(bufferevent_openssl_get_ssl(c->bev), SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
	event_free(c->timer);
	event_free(c->resume);
	bufferevent_free(c->bev);
	h1_reader_release(&c->reader);
	http_reply_release(&c->reply);
	free(c);
}

/* --- exchanges ------------------------------------------------------------------ */

struct http_exchange *http_client_start(struct http_client *hc, const struct http_origin *origin,
					const char *head, size_t n, const struct http_exchange_opts *opt,
					const struct http_exchange_cbs *cbs, void *cookie)
{
	struct http_exchange *x = hc->free_exchanges;
	struct hc_conn *c = NULL;

	if (x)
		hc->free_exchanges = x->next_free;
	else
		x = xmalloc(sizeof(*x));
	memset(x, 0, sizeof(*x));
	x->hc = hc;
	x->cbs = cbs;
	x->cookie = cookie;
	x->opt = *opt;
	if (!opt->fresh) {
		struct pool *p = pool_first(hc, origin, opt);
		if ((c = p->idle)) {
			p->idle = c->idle_next;
			c->idle_next = NULL;
			x->reused = true;
			arm_read(c, opt->idle_timeout);
		}
	}
	if (!c)
		c = conn_new(hc, origin, opt);
	c->x = x;
	x->conn = c;
	c->tunnel = false;
	c->reader.skip_body = opt->head_request;
	c->reader.upgrade_asked = opt->upgrade;
	evbuffer_add(bufferevent_get_output(c->bev), head, n);
	if (c->connected)
		conn_flush(c);
	return x;
}

size_t http_exchange_send(struct http_exchange *x, const char *p, size_t n)
{
	struct hc_conn *c = x->conn;
	struct evbuffer *out;
	size_t pending;

	if (!c)
		return 0;
	out = bufferevent_get_output(c->bev);
	evbuffer_add(out, p, n);
	if (c->connected) {
		conn_flush(c);
		/* Bytes the target did not take yet: progress is measured from here (still_sending). */
		if (evbuffer_get_length(out))
			net_acked_moved(bufferevent_getfd(c->bev), &c->acked_mark);
		/* Bytes toward the target count as activity on its connection. */
		arm_read(c, x->opt.idle_timeout);
	}
	pending = evbuffer_get_length(out);
	if (pending > HTTP_CLIENT_HIGH_WATER)
		x->want_drain = true;
	return pending;
}

void http_exchange_request_done(struct http_exchange *x)
{
	x->request_done = true;
}

void http_exchange_pause(struct http_exchange *x)
{
	struct hc_conn *c = x->conn;

	if (!c || c->paused)
		return;
	c->paused = true;
	if (c->tls)
		bufferevent_disable(c->bev, EV_READ);
	if (c->read_ev)
		event_del(c->read_ev);
}

void http_exchange_resume(struct http_exchange *x)
{
	struct hc_conn *c = x->conn;

	if (!c || !c->paused)
		return;
	c->paused = false;
	if (c->read_ev || (c->tls && c->connected))
		arm_read(c, x->opt.idle_timeout);
	event_active(c->resume, EV_TIMEOUT, 0);
}

void http_exchange_cancel(struct http_exchange *x)
{
	struct hc_conn *c;

	if (!x)
		return;
	c = x->conn;
	x->cancelled = true;
	if (c && c->in_cb)
		return;   /* torn down once the callback returns */
	exchange_free(x);
	if (!c)
		return;
	if (!c->connected && !c->fresh && c->pending_error == HTTP_CLIENT_CONNECT_TIMEOUT) {
		/* Still connecting: no byte of the request has gone out, so the
		 * connection can carry the next one. It is kept (pooled once made,
		 * on_connected) as ALB keeps backend connections for reuse (§1.3). */
		struct evbuffer *out = bufferevent_get_output(c->bev);
		evbuffer_drain(out, evbuffer_get_length(out));
		return;
	}
	hc_conn_close(c);
}

bool http_exchange_reused(const struct http_exchange *x)
{
	return x->reused;
}

/* --- the client ------------------------------------------------------------------ */

struct http_client *http_client_new(struct event_base *base)
{
	struct http_client *hc = xcalloc(1, sizeof(*hc));

	hc->base = base;
	hc->idle_timeout = 60;
	return hc;
}

void http_client_set_idle_timeout(struct http_client *hc, int seconds)
{
	hc->idle_timeout = seconds;
}

void http_client_set_ca_file(struct http_client *hc, const char *path)
{
	free(hc->ca_file);
	hc->ca_file = path ? xstrdup(path) : NULL;
}

void http_client_free(struct http_client *hc)
{
	if (!hc)
		return;
	while (hc->conns) {
		struct hc_conn *c = hc->conns;
		if (c->x)
			exchange_free(c->x);
		hc_conn_close(c);
	}
	while (hc->free_exchanges) {
		struct http_exchange *x = hc->free_exchanges;
		hc->free_exchanges = x->next_free;
		free(x);
	}
	while (hc->pools) {
		struct pool *p = hc->pools;
		hc->pools = p->next;
		if (p->session)
			SSL_SESSION_free(p->session);
		free(p->host);
		free(p);
	}
	hc_forget_names(hc);
	tls_client_free(hc->tls);
	free(hc->ca_file);
	free(hc);
}
