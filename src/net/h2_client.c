/*
 * h2_client: nghttp2 client sessions on bufferevents, one per origin.
 *
 *   conn      a bufferevent (plain or OpenSSL), its nghttp2 session, and the
 *             exchanges on it. Exchanges started before the connection is
 *             made wait in its list and are submitted once it is (h2c with
 *             prior knowledge, or TLS with ALPN h2). A connect timer, then
 *             an idle timer while no exchange is on it.
 *   exchange  one stream: its request headers, its body waiting in an
 *             evbuffer for nghttp2's data source (deferred when empty), the
 *             answer's head collected into a struct http_reply, an idle timer
 *             reset by any byte of the stream either way.
 *
 * A target whose name has IPv4 and IPv6 addresses (http_origin's alternate):
 * a connection its address refuses goes on toward the other one, once, its
 * exchanges still waiting (nothing is sent before the connection is made);
 * the client keeps per origin which address answered last (struct h2_pref),
 * and the next connection tries that one first. A connection's key names the
 * address it is made toward.
 *
 * nghttp2 must not be re-entered from its own callbacks, and a connection
 * is freed only from the event loop (never inside nghttp2 or under a
 * caller's feet): flush() is skipped while the session is receiving or
 * sending, and the outer call flushes afterwards.
 *
 * What the target answers (nghttp2's receive callbacks) is h2_client_recv.c's;
 * h2_client_int.h holds what the two share.
 */
#include "net/h2_client_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <nghttp2/nghttp2.h>
#include <openssl/ssl.h>

#include "alb/h2_req_head.h"
#include "base/log.h"
#include "base/util.h"

#define STREAM_WINDOW (256 * 1024)          /* what a paused answer may buffer */
#define CONN_WINDOW (16 * 1024 * 1024)
#define OUTPUT_HIGH (256 * 1024)            /* frames queued toward the target */

/* Which address of an origin with an alternate goes first, by its first address's key. */
struct h2_pref {
	struct h2_pref *next;
	char key[80];
	struct http_origin_pref pref;
};

struct h2_client {
	struct event_base *base;
	struct h2_conn *conns;
	struct h2_pref *prefs;
	SSL_CTX *ssl_ctx;
	int idle_timeout;
};

static void flush(struct h2_conn *c);
static void conn_schedule_close(struct h2_conn *c, enum http_client_error e);
static bool conn_fall_back(struct h2_conn *c);

/* --- exchanges ------------------------------------------------------------------- */

static void x_unlink(struct h2_exchange *x)
{
	struct h2_conn *c = x->conn;

	if (!c)
		return;
	if (x->prev)
		x->prev->next = x->next;
	else
		c->xs = x->next;
	if (x->next)
		x->next->prev = x->prev;
	x->prev = x->next = NULL;
	if (x->id && c->session)
		nghttp2_session_set_stream_user_data(c->session, x->id, NULL);
	/* Bytes held back while paused still count against the connection's window. */
	if (x->unconsumed && c->session)
		nghttp2_session_consume_connection(c->session, x->unconsumed);
	x->unconsumed = 0;
	x->conn = NULL;
	if (!c->xs && c->connected && !c->retired) {
		struct timeval tv = { c->hc->idle_timeout, 0 };
		evtimer_add(c->timer, &tv);
	}
}

void h2x_free(struct h2_exchange *x)
{
	x_unlink(x);
	if (x->idle)
		event_free(x->idle);
	evbuffer_free(x->out);
	header_list_release(&x->nv);
	buf_release(&x->head);
	http_reply_release(&x->reply);
	free(x->offs);
	buf_release(&x->trail);
	free(x->toffs);
	free(x->th);
	free(x);
}

void h2x_touch(struct h2_exchange *x)
{
	struct timeval tv = { x->idle_timeout, 0 };

	if (!x->failed)
		evtimer_add(x->idle, &tv);
}

/* Reports e and frees x (from the loop or after nghttp2 returned). */
static void x_fail(struct h2_exchange *x, enum http_client_error e)
{
	const struct http_exchange_cbs *cbs = x->cbs;
	void *cookie = x->cookie;
	struct h2_conn *c = x->conn;

	if (c && x->id && c->session)
		nghttp2_submit_rst_stream(c->session, NGHTTP2_FLAG_NONE, x->id, NGHTTP2_CANCEL);
	h2x_free(x);
	cbs->on_error(cookie, e);
	if (c)
		flush(c);
}

static void on_x_idle(evutil_socket_t fd, short what, void *arg)
{
	struct h2_exchange *x = arg;

	(void)fd;
	(void)what;
	x_fail(x, x->failed ? x->pending : HTTP_CLIENT_TIMEOUT);
}

/* Fails x from the loop (inside nghttp2's callbacks it cannot be freed). */
void h2x_fail_later(struct h2_exchange *x, enum http_client_error e)
{
	struct timeval now = { 0, 0 };

	if (x->failed)
		return;
	x->failed = true;
	x->pending = e;
	evtimer_add(x->idle, &now);
}

/* nghttp2's data source: the body bytes sent so far, then EOF once the request is done. */
static ssize_t on_read_body(nghttp2_session *s, int32_t id, uint8_t *dst, size_t len, uint32_t *flags,
			    nghttp2_data_source *src, void *user)
{
	struct h2_exchange *x = src->ptr;
	size_t have;

	(void)s;
	(void)id;
	(void)user;
	if (!x || !x->conn) {
		*flags |= NGHTTP2_DATA_FLAG_EOF;
		return 0;
	}
	have = evbuffer_get_length(x->out);
	if (!have && !x->request_done) {
		x->deferred = true;
		return NGHTTP2_ERR_DEFERRED;
	}
	if (have > len)
		have = len;
	evbuffer_remove(x->out, dst, have);
	if (x->request_done && !evbuffer_get_length(x->out))
		*flags |= NGHTTP2_DATA_FLAG_EOF;
	h2x_touch(x);
	return (ssize_t)have;
}

static void submit(struct h2_exchange *x)
{
	struct h2_conn *c = x->conn;
	nghttp2_nv nv[x->nv.n ? x->nv.n : 1];
	nghttp2_data_provider prd = { .source.ptr = x, .read_callback = on_read_body };
	int32_t id;

	for (size_t i = 0; i < x->nv.n; i++)
		nv[i] = (nghttp2_nv){ (uint8_t *)x->nv.v[i].name.p, (uint8_t *)x->nv.v[i].value.p, x->nv.v[i].name.n,
				      x->nv.v[i].value.n, NGHTTP2_NV_FLAG_NONE };
	/* Without a body the HEADERS frame ends the stream. */
	id = nghttp2_submit_request(c->session, NULL, nv, x->nv.n, x->has_body ? &prd : NULL, x);
	if (id < 0) {
		log_warn("target %s: HTTP/2 request not submitted: %s", c->key, nghttp2_strerror(id));
		c->retired = true;
		h2x_fail_later(x, HTTP_CLIENT_CLOSED);
		return;
	}
	x->id = id;
}

/* --- the connection ------------------------------------------------------------------ */

static void conn_free(struct h2_conn *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else if (c->hc->conns == c)
		c->hc->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	if (c->session)
		nghttp2_session_del(c->session);
	if (c->bev)
		bufferevent_free(c->bev);
	event_free(c->timer);
	event_free(c->kill);
	free(c);
}

/* Every exchange on c fails with e, and c closes. From the loop only. */
static void conn_close(struct h2_conn *c, enum http_client_error e)
{
	struct h2_exchange *x;

	c->retired = true;
	while ((x = c->xs)) {
		const struct http_exchange_cbs *cbs = x->cbs;
		void *cookie = x->cookie;

		h2x_free(x);
		cbs->on_error(cookie, e);
	}
	conn_free(c);
}

static void on_kill(evutil_socket_t fd, short what, void *arg)
{
	struct h2_conn *c = arg;

	(void)fd;
	(void)what;
	if (c->kill_error == HTTP_CLIENT_REFUSED && conn_fall_back(c))
		return;
	conn_close(c, c->kill_error);
}

static void conn_schedule_close(struct h2_conn *c, enum http_client_error e)
{
	struct timeval now = { 0, 0 };

	if (c->retired && evtimer_pending(c->kill, NULL))
		return;
	c->retired = true;
	c->kill_error = e;
	evtimer_add(c->kill, &now);
}

/* Sends what nghttp2 has queued, while the output is not too full. */
static void flush(struct h2_conn *c)
{
	struct evbuffer *out;
	struct h2_exchange *x;

	if (!c->connected || c->in_session || evtimer_pending(c->kill, NULL))
		return;
	out = bufferevent_get_output(c->bev);
	c->in_session = true;
	while (evbuffer_get_length(out) < OUTPUT_HIGH) {
		const uint8_t *p;
		ssize_t n = nghttp2_session_mem_send(c->session, &p);

		if (n < 0) {
			c->in_session = false;
			log_warn("target %s: HTTP/2 session failed: %s", c->key, nghttp2_strerror((int)n));
			conn_schedule_close(c, HTTP_CLIENT_CLOSED);
			return;
		}
		if (!n)
			break;
		bufferevent_write(c->bev, p, (size_t)n);
	}
	c->in_session = false;
	/* The target took what was buffered: callers waiting to send more hear it. */
	for (;;) {
		for (x = c->xs; x; x = x->next)
			if (x->want_drain && evbuffer_get_length(x->out) < HTTP_CLIENT_HIGH_WATER / 2)
				break;
		if (!x)
			break;
		x->want_drain = false;
		if (x->cbs->on_drain)
			x->cbs->on_drain(x->cookie);
	}
	if (!nghttp2_session_want_read(c->session) && !nghttp2_session_want_write(c->session) &&
	    !evbuffer_get_length(out))
		conn_schedule_close(c, HTTP_CLIENT_CLOSED);
}

static void on_connected(struct h2_conn *c);

static void on_read(struct bufferevent *bev, void *arg)
{
	struct h2_conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	size_t len = evbuffer_get_length(in);
	ssize_t n;

	/* The target's SETTINGS can be read before the connect event is seen; ours
	 * must go first (its ACK queued before them would break the preface). */
	if (!c->connected && !c->tls)
		on_connected(c);
	if (!len || !c->connected)
		return;
	c->in_session = true;
	n = nghttp2_session_mem_recv(c->session, evbuffer_pullup(in, -1), len);
	c->in_session = false;
	if (n < 0) {
		log_warn("target %s: bad HTTP/2 from the target: %s", c->key, nghttp2_strerror((int)n));
		conn_schedule_close(c, HTTP_CLIENT_MALFORMED);
		return;
	}
	evbuffer_drain(in, (size_t)n);
	flush(c);
}

static void on_write(struct bufferevent *bev, void *arg)
{
	(void)bev;
	flush(arg);
}

static void on_connected(struct h2_conn *c)
{
	nghttp2_settings_entry iv[] = {
		{ NGHTTP2_SETTINGS_ENABLE_PUSH, 0 },
		{ NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, STREAM_WINDOW },
	};
	struct h2_exchange *x, *next;

	if (c->tls) {
		const unsigned char *alpn = NULL;
		unsigned alpn_len = 0;

		SSL_get0_alpn_selected(bufferevent_openssl_get_ssl(c->bev), &alpn, &alpn_len);
		if (alpn_len != 2 || memcmp(alpn, "h2", 2)) {
			/* A target that does not choose h2 cannot serve an HTTP2 group (502). */
			log_warn("target %s: TLS without ALPN h2", c->key);
			conn_close(c, HTTP_CLIENT_TLS);
			return;
		}
	}
	c->connected = true;
	evtimer_del(c->timer);
	http_origin_answered(c->pref, &c->origin, c->on_alt, c->fell_back, "target");
	nghttp2_submit_settings(c->session, NGHTTP2_FLAG_NONE, iv, sizeof(iv) / sizeof(iv[0]));
	nghttp2_session_set_local_window_size(c->session, NGHTTP2_FLAG_NONE, 0, CONN_WINDOW);
	for (x = c->xs; x; x = next) {
		next = x->next;
		if (!x->id && !x->failed)
			submit(x);
	}
	flush(c);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	struct h2_conn *c = arg;

	(void)bev;
	if (what & BEV_EVENT_CONNECTED) {
		if (!c->connected)
			on_connected(c);
		return;
	}
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
		enum http_client_error e = HTTP_CLIENT_CLOSED;

		if (!c->connected)
			e = c->tls && (what & BEV_EVENT_ERROR) && bufferevent_get_openssl_error(c->bev) ?
				    HTTP_CLIENT_TLS : HTTP_CLIENT_REFUSED;
		else if (what & BEV_EVENT_EOF)
			on_read(c->bev, c);   /* the last frames (a GOAWAY) before the close */
		if (e == HTTP_CLIENT_REFUSED && conn_fall_back(c))
			return;
		conn_close(c, e);
	}
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct h2_conn *c = arg;

	(void)fd;
	(void)what;
	if (!c->connected) {
		conn_close(c, HTTP_CLIENT_CONNECT_TIMEOUT);
		return;
	}
	if (!c->xs) {
		/* Idle: close it politely. */
		nghttp2_session_terminate_session(c->session, NGHTTP2_NO_ERROR);
		flush(c);
		conn_close(c, HTTP_CLIENT_CLOSED);
	}
}

static nghttp2_session *session_new(struct h2_conn *c)
{
	nghttp2_session_callbacks *cb;
	nghttp2_option *opt;
	nghttp2_session *s = NULL;

	nghttp2_session_callbacks_new(&cb);
	h2_client_recv_callbacks(cb);
	nghttp2_option_new(&opt);
	/* Window updates follow what the client took (flow control while paused). */
	nghttp2_option_set_no_auto_window_update(opt, 1);
	nghttp2_session_client_new2(&s, cb, c, opt);
	nghttp2_option_del(opt);
	nghttp2_session_callbacks_del(cb);
	return s;
}

static struct bufferevent *tls_bev(struct h2_client *hc)
{
	SSL *ssl;

	if (!hc->ssl_ctx) {
		hc->ssl_ctx = SSL_CTX_new(TLS_client_method());
		if (!hc->ssl_ctx)
			return NULL;
		/* ALB does not verify target certificates (alb-http-targets-and-tls.md §1.3). */
		SSL_CTX_set_verify(hc->ssl_ctx, SSL_VERIFY_NONE, NULL);
		SSL_CTX_set_alpn_protos(hc->ssl_ctx, (const unsigned char *)"\x02h2", 3);
	}
	if (!(ssl = SSL_new(hc->ssl_ctx)))
		return NULL;
	return bufferevent_openssl_socket_new(hc->base, -1, ssl, BUFFEREVENT_SSL_CONNECTING, BEV_OPT_CLOSE_ON_FREE);
}

static void conn_key(char *key, size_t n, bool tls, const char *addr_key)
{
	snprintf(key, n, "%s%s", tls ? "https://" : "http://", addr_key);
}

/* Makes c's bufferevent and starts connecting it toward its origin's address, or
 * alternate (on_alt), under the connect timeout. Failures close c from the loop. */
static void conn_connect(struct h2_conn *c)
{
	struct h2_client *hc = c->hc;
	struct timeval tv = { c->connect_timeout, 0 }, now = { 0, 0 };
	socklen_t len;
	const struct sockaddr *sa = http_origin_addr(&c->origin, c->on_alt, &len);

	conn_key(c->key, sizeof(c->key), c->tls, c->on_alt ? c->origin.alt_key : c->origin.key);
	c->bev = c->tls ? tls_bev(hc) : bufferevent_socket_new(hc->base, -1, BEV_OPT_CLOSE_ON_FREE);
	if (!c->bev || !c->session) {
		c->kill_error = c->tls ? HTTP_CLIENT_TLS : HTTP_CLIENT_REFUSED;
		c->retired = true;
		evtimer_add(c->kill, &now);
		return;
	}
	if (c->tls)
		bufferevent_openssl_set_allow_dirty_shutdown(c->bev, 1);
	bufferevent_setcb(c->bev, on_read, on_write, on_event, c);
	evtimer_add(c->timer, &tv);
	if (bufferevent_socket_connect(c->bev, sa, (int)len) < 0) {
		c->kill_error = HTTP_CLIENT_REFUSED;
		c->retired = true;
		evtimer_add(c->kill, &now);
		return;
	}
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
}

/*
 * c's connection was refused: it goes on toward its origin's other address,
 * once, with its exchanges; false when there is none to try. Each address
 * gets the whole connect timeout: a refusal comes at once, and a connect
 * timeout is no refusal (ALB's 504 after 10 s), so it never falls back.
 */
static bool conn_fall_back(struct h2_conn *c)
{
	if (!c->origin.alt_len || c->fell_back || c->connected)
		return false;
	if (c->bev)
		bufferevent_free(c->bev);
	c->bev = NULL;
	c->fell_back = true;
	c->on_alt = !c->on_alt;
	c->retired = false;
	conn_connect(c);
	return true;
}

static struct h2_conn *conn_new(struct h2_client *hc, const struct http_origin *o,
				struct http_origin_pref *pref, const struct http_exchange_opts *opt)
{
	struct h2_conn *c = xcalloc(1, sizeof(*c));

	c->hc = hc;
	c->origin = *o;
	c->pref = pref;
	c->on_alt = http_origin_alt_first(pref, o);
	c->tls = opt->tls;
	c->connect_timeout = opt->connect_timeout;
	c->timer = evtimer_new(hc->base, on_timer, c);
	c->kill = evtimer_new(hc->base, on_kill, c);
	c->session = session_new(c);
	c->next = hc->conns;
	if (hc->conns)
		hc->conns->prev = c;
	hc->conns = c;
	conn_connect(c);
	return c;
}

/* The preference of origin o (by scheme and first address), made on first use. */
static struct http_origin_pref *pref_get(struct h2_client *hc, const struct http_origin *o, bool tls)
{
	struct h2_pref *p;
	char key[80];

	conn_key(key, sizeof(key), tls, o->key);
	for (p = hc->prefs; p; p = p->next)
		if (!strcmp(p->key, key))
			return &p->pref;
	p = xcalloc(1, sizeof(*p));
	snprintf(p->key, sizeof(p->key), "%s", key);
	p->next = hc->prefs;
	hc->prefs = p;
	return &p->pref;
}

/* --- the interface ---------------------------------------------------------------------- */

struct h2_client *h2_client_new(struct event_base *base)
{
	struct h2_client *hc = xcalloc(1, sizeof(*hc));

	hc->base = base;
	hc->idle_timeout = 60;
	return hc;
}

void h2_client_set_idle_timeout(struct h2_client *hc, int seconds)
{
	hc->idle_timeout = seconds > 0 ? seconds : 60;
}

void h2_client_free(struct h2_client *hc)
{
	if (!hc)
		return;
	while (hc->conns) {
		struct h2_conn *c = hc->conns;

		while (c->xs)
			h2x_free(c->xs);
		conn_free(c);
	}
	while (hc->prefs) {
		struct h2_pref *p = hc->prefs;

		hc->prefs = p->next;
		free(p);
	}
	if (hc->ssl_ctx)
		SSL_CTX_free(hc->ssl_ctx);
	free(hc);
}

struct h2_exchange *h2_client_start(struct h2_client *hc, const struct http_origin *origin, const char *head,
				    size_t n, const struct http_exchange_opts *opt,
				    const struct http_exchange_cbs *cbs, void *cookie)
{
	struct h2_exchange *x = xcalloc(1, sizeof(*x));
	struct http_origin_pref *pref = pref_get(hc, origin, opt->tls);
	struct h2_conn *c;
	char key[80];
	int body;

	conn_key(key, sizeof(key), opt->tls, http_origin_alt_first(pref, origin) ? origin->alt_key : origin->key);
	x->cbs = cbs;
	x->cookie = cookie;
	x->idle_timeout = opt->idle_timeout > 0 ? opt->idle_timeout : 60;
	x->head_request = opt->head_request;
	x->out = evbuffer_new();
	x->idle = evtimer_new(hc->base, on_x_idle, x);
	header_list_init(&x->nv);
	buf_init(&x->head, 0);
	http_reply_init(&x->reply);
	buf_init(&x->trail, 0);
	buf_append(&x->head, head, n);
	body = h2_req_head_from_h1(&x->nv, x->head.p, x->head.len, opt->tls ? "https" : "http");
	x->has_body = body > 0;
	for (c = hc->conns; c; c = c->next)
		if (!c->retired && !strcmp(c->key, key))
			break;
	if (!c)
		c = conn_new(hc, origin, pref, opt);
	x->conn = c;
	x->next = c->xs;
	if (c->xs)
		c->xs->prev = x;
	c->xs = x;
	if (c->connected)
		evtimer_del(c->timer);
	h2x_touch(x);
	if (body < 0) {
		h2x_fail_later(x, HTTP_CLIENT_MALFORMED);
		return x;
	}
	if (c->connected) {
		submit(x);
		flush(c);
	}
	return x;
}

size_t h2_exchange_send(struct h2_exchange *x, const char *p, size_t n)
{
	size_t len;

	evbuffer_add(x->out, p, n);
	len = evbuffer_get_length(x->out);
	if (len > HTTP_CLIENT_HIGH_WATER)
		x->want_drain = true;
	if (x->conn && x->id && x->deferred) {
		x->deferred = false;
		nghttp2_session_resume_data(x->conn->session, x->id);
	}
	if (x->conn)
		flush(x->conn);
	return len;
}

void h2_exchange_request_done(struct h2_exchange *x)
{
	x->request_done = true;
	if (x->conn && x->id && x->deferred) {
		x->deferred = false;
		nghttp2_session_resume_data(x->conn->session, x->id);
	}
	if (x->conn)
		flush(x->conn);
}

void h2_exchange_on_trailers(struct h2_exchange *x, h2_trailers_fn fn)
{
	x->on_trailers = fn;
}

void h2_exchange_pause(struct h2_exchange *x)
{
	x->paused = true;
}

void h2_exchange_resume(struct h2_exchange *x)
{
	struct h2_conn *c = x->conn;

	x->paused = false;
	if (c && x->id && x->unconsumed) {
		nghttp2_session_consume(c->session, x->id, x->unconsumed);
		x->unconsumed = 0;
		flush(c);
	}
}

void h2_exchange_cancel(struct h2_exchange *x)
{
	struct h2_conn *c;

	if (!x)
		return;
	c = x->conn;
	if (c && x->id && c->session)
		nghttp2_submit_rst_stream(c->session, NGHTTP2_FLAG_NONE, x->id, NGHTTP2_CANCEL);
	h2x_free(x);
	if (c)
		flush(c);
}
