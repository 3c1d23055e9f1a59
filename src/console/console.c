/*
 * console: the admin listener and its requests.
 *
 * The console has its own http_server (lb's one HTTP/1 layer), so its
 * connections never count toward the front end's draining, and its own
 * listener, bound and rebound like the Invoke API's: /metrics, /api/...
 * (GET, and POST for a replay), and the console's files at / (built into lb).
 * Every request first passes refusal(): a Host naming this machine, and for
 * a POST no foreign Origin (DNS rebinding and cross-site requests).
 *
 * Live streams (/api/stream) are Server-Sent Events: a streamed answer that
 * never ends, one `data:` line of JSON per finished request, and a comment
 * every PING_SECONDS so proxies and browsers keep it open. A stream ends
 * when its client leaves (on_abort) or the console shuts down.
 */
#include "console/console_int.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "alb/alb_event.h"
#include "base/log.h"
#include "lambda/lambda.h"
#include "net/http_client.h"
#include "net/http_server.h"
#include "router.h"

#define IDLE_SECONDS 60
#define PING_SECONDS 15

/* --- answers ------------------------------------------------------------------------- */

/*
 * Every answer's headers: any page the developer opens could frame the
 * console and have the Replay button clicked through its own page
 * (clickjacking: the click is the console's, its Origin too), so no page
 * may frame it (frame-ancestors, and X-Frame-Options for older browsers);
 * the page's script is its own file only (an injected <script> or on*=
 * would not run; its SVG legends use style attributes, which cannot run
 * script); nosniff so text and JSON are never read as HTML or script.
 * Cache-Control last: the assets go without it.
 */
const struct http_header console_headers[CONSOLE_NHEADERS] = {
	{ SV("X-Content-Type-Options"), SV("nosniff") },
	{ SV("X-Frame-Options"), SV("DENY") },
	{ SV("Content-Security-Policy"), SV("default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
					    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'") },
	{ SV("Cache-Control"), SV("no-store") },
};

void console_respond(struct http_request *req, int status, const char *content_type, const char *body, size_t n)
{
	struct http_response resp = {
		.status = status,
		.content_type = sv_from(content_type),
		.headers = console_headers,
		.nheaders = CONSOLE_NHEADERS,
		.body = { body, n },
		.bare = true,
	};
	char date[30];

	time_http_date(time_wall_us() / 1000000, date);
	http_server_respond(req, &resp, date);
}

void console_respond_json(struct console *c, struct http_request *req, int status, json_t *doc)
{
	char *text;

	(void)c;
	/* jansson's json_pack() is NULL for a string that is not UTF-8: an answer, not a crash. */
	if (!doc) {
		console_respond(req, 500, "application/json", "{\"error\":\"answer not encodable\"}", 32);
		return;
	}
	text = json_dumps(doc, JSON_COMPACT);
	console_respond(req, status, "application/json", text, strlen(text));
	free(text);
	json_decref(doc);
}

/*
 * jansson refuses strings that are not UTF-8 (json_string() is NULL), and
 * what the console shows comes from clients: a query's %ff, a path's raw
 * bytes. A byte that starts no well-formed sequence is read as Latin-1
 * (U+0080-U+00FF), as the event encoder writes it (alb_event.c), so the
 * text is shown rather than lost.
 */
json_t *console_json_text(struct sv v)
{
	json_t *s = json_stringn(v.p ? v.p : "", v.n);
	struct buf b = BUF_INIT;

	if (s)
		return s;
	for (size_t i = 0, k; i < v.n; i += k) {
		const unsigned char *p = (const unsigned char *)v.p + i;

		if (*p < 0x80 || (k = utf8_len(p, v.n - i)) == 0) {
			k = 1;
			if (*p >= 0x80)
				buf_putc(&b, (char)(0xc0 | *p >> 6));
			buf_putc(&b, (char)(*p < 0x80 ? *p : 0x80 | (*p & 0x3f)));
		} else {
			buf_append(&b, (const char *)p, k);
		}
	}
	s = json_stringn(b.p ? b.p : "", b.len);
	buf_release(&b);
	return s;
}

static void respond_asset(struct http_request *req, const struct console_asset *a)
{
	struct http_response resp = {
		.status = 200,
		.content_type = sv_from(a->content_type),
		.headers = console_headers,
		.nheaders = CONSOLE_NHEADERS - 1,
		.body = { (const char *)a->data, a->len },
		.bare = true,
	};
	char date[30];

	time_http_date(time_wall_us() / 1000000, date);
	http_server_respond(req, &resp, date);
}

/* --- live streams ------------------------------------------------------------------- */

static void stream_start(struct console *c, struct http_request *req)
{
	static const struct http_header headers[] = {
		{ SV("Content-Type"), SV("text/event-stream") },
		{ SV("X-Content-Type-Options"), SV("nosniff") },
		{ SV("Cache-Control"), SV("no-store") },
	};
	struct http_stream_head h = { 200, SV("OK"), headers, ARRAY_LEN(headers), HTTP_FRAMING_CLOSE, false, false };
	struct subscriber *s = xcalloc(1, sizeof(*s));
	char hello[64];
	int n;

	s->req = req;
	s->next = c->subs;
	if (c->subs)
		c->subs->prev = s;
	c->subs = s;
	req->route = s;
	http_server_stream_head(req, &h);
	/* The newest id, so a client can ask /api/requests?since= for what it missed. */
	n = snprintf(hello, sizeof(hello), "event: hello\ndata: {\"last_id\":%llu}\n\n",
		     (unsigned long long)(c->log ? reqlog_last_id(c->log) : 0));
	http_server_stream_body(req, hello, (size_t)n);
}

static void stream_remove(struct console *c, struct subscriber *s)
{
	if (s->prev)
		s->prev->next = s->next;
	else
		c->subs = s->next;
	if (s->next)
		s->next->prev = s->prev;
	s->req->route = NULL;
	free(s);
}

/* A reader that falls behind is dropped rather than buffered without bound:
 * past the high watermark (256 KB, hundreds of events unread; a browser's
 * EventSource keeps up even in a background tab), as each stream a client
 * opens and never reads holds that much until it is written or times out. */
static void stream_send(struct console *c, struct subscriber *s, const char *p, size_t n)
{
	if (http_server_stream_body(s->req, p, n) > HTTP_SERVER_HIGH_WATER) {
		struct http_request *req = s->req;
		stream_remove(c, s);
		http_server_stream_abort(req);
	}
}

void console_broadcast(struct console *c, const struct reqrec *r)
{
	json_t *doc;
	char *text;

	if (!c->subs)
		return;
	doc = console_summary(r);
	text = json_dumps(doc, JSON_COMPACT);
	json_decref(doc);
	buf_reset(&c->scratch);
	buf_printf(&c->scratch, "id: %llu\ndata: %s\n\n", (unsigned long long)r->id, text);
	free(text);
	for (struct subscriber *s = c->subs, *next; s; s = next) {
		next = s->next;
		stream_send(c, s, c->scratch.p, c->scratch.len);
	}
}

/* `workers`: records since the last wake-up go to the live streams, from the ring. */
static void on_wake(evutil_socket_t fd, short what, void *arg)
{
	struct console *c = arg;
	uint64_t last;

	(void)fd;
	(void)what;
	__atomic_store_n(&c->wake_armed, 0, __ATOMIC_SEQ_CST);
	console_lock(c);
	last = c->log ? reqlog_last_id(c->log) : 0;
	for (uint64_t id = c->sent_id + 1; c->subs && id <= last; id++) {
		const struct reqrec *r = reqlog_find(c->log, id);

		if (r)
			console_broadcast(c, r);
	}
	c->sent_id = last;
	console_unlock(c);
}

void console_wake(struct console *c)
{
	if (__atomic_exchange_n(&c->wake_armed, 1, __ATOMIC_SEQ_CST) == 0)
		event_active(c->wake, EV_READ, 0);
}

void console_set_threaded(struct console *c)
{
	pthread_mutexattr_t attr;

	pthread_mutexattr_init(&attr);
	pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(&c->mu, &attr);
	pthread_mutexattr_destroy(&attr);
	c->wake = event_new(c->base, -1, 0, on_wake, c);
	c->threaded = true;
}

static void on_ping(evutil_socket_t fd, short what, void *arg)
{
	struct console *c = arg;

	(void)fd;
	(void)what;
	for (struct subscriber *s = c->subs, *next; s; s = next) {
		next = s->next;
		stream_send(c, s, ": ping\n\n", 8);
	}
}

/* --- requests ------------------------------------------------------------------------- */

static void on_head(void *cookie, struct http_request *req)
{
	(void)cookie;
	req->keep_body = true;
	req->body.max = 64 * 1024;
}

static void answer(struct console *c, struct http_request *req);

/* Whether host is pattern (a name, or "*.name": any name under it), in any case. */
static bool host_matches(struct sv host, const char *pattern)
{
	size_t n = strlen(pattern);

	if (n > 2 && pattern[0] == '*' && pattern[1] == '.')
		return host.n > n - 1 &&
		       sv_eq_cstr_nocase((struct sv){ host.p + host.n - (n - 1), n - 1 }, pattern + 1);
	return sv_eq_cstr_nocase(host, pattern);
}

/* Host names that can only mean this machine: IP literals, "localhost" and
 * "*.localhost" (RFC 6761 §6.3: browsers resolve those to loopback themselves). */
static bool local_host(struct sv host)
{
	char name[64];
	unsigned char ip[16];

	if (host.n >= 2 && host.p[0] == '[' && host.p[host.n - 1] == ']') {
		snprintf(name, sizeof(name), "%.*s", (int)(host.n - 2), host.p + 1);
		return host.n - 2 < sizeof(name) && inet_pton(AF_INET6, name, ip) == 1;
	}
	snprintf(name, sizeof(name), "%.*s", SV_ARG(host));
	if (host.n < sizeof(name) && inet_pton(AF_INET, name, ip) == 1)
		return true;
	return sv_eq_cstr_nocase(host, "localhost") || host_matches(host, "*.localhost");
}

/* A name the configuration lets reach the console (admin.allowed_hosts). */
static bool allowed_host(const struct console *c, struct sv host)
{
	const struct admin_cfg *a = c->cfg ? &c->cfg->admin : NULL;

	for (size_t i = 0; a && i < a->nallowed_hosts; i++)
		if (host_matches(host, a->allowed_hosts[i]))
			return true;
	return false;
}

/*
 * Why a console request is refused, or NULL: the rule local dev servers
 * apply (Vite's and webpack-dev-server's allowedHosts, Jupyter's
 * local_hostnames), since the console is one: it shows every request with
 * its body and replays them, and any web page the developer opens can talk
 * to 127.0.0.1.
 *
 *  - Host must name this machine (local_host; the admin address is always
 *    an IP) or be one of admin.allowed_hosts (a container's service name,
 *    which the developer vouches for). A page on attacker.example whose
 *    name is re-pointed at 127.0.0.1 (DNS rebinding) is same-origin with
 *    the console and could read it; its requests carry Host:
 *    attacker.example. No Host at all (HTTP/1.0) is no browser's.
 *  - A request that may change something (any method but GET and HEAD) with
 *    an Origin must come from the console's own page. Other pages can POST
 *    here without asking (a CORS "simple request": a form, or text/plain),
 *    which would replay a request; browsers send Origin with every such
 *    request (curl and test code send none), and the console's own page
 *    has the origin http:// plus the Host it was loaded from.
 *
 * /.lb/keys/ is exempt: public keys, which ALB's endpoint serves to anyone
 * and targets fetch by whatever name reaches lb.
 */
static const char *refusal(const struct console *c, const struct http_request *req)
{
	const struct http_header *host = http_request_header(req, "host");
	const struct http_header *origin = http_request_header(req, "origin");
	struct sv o, name = http_request_host(req);

	if (req->path.n > 10 && memcmp(req->path.p, "/.lb/keys/", 10) == 0)
		return NULL;
	if ((host || req->uri_host.n) && !local_host(name) && !allowed_host(c, name))
		return "the console answers only to Host localhost, an IP address or a name in "
		       "admin.allowed_hosts (DNS rebinding)";
	if (!origin || sv_eq_cstr(req->method, "GET") || sv_eq_cstr(req->method, "HEAD"))
		return NULL;
	o = origin->value;
	if (!host || o.n != 7 + host->value.n || !sv_eq_cstr_nocase((struct sv){ o.p, 7 }, "http://") ||
	    !sv_eq_nocase((struct sv){ o.p + 7, o.n - 7 }, host->value))
		return "the console accepts this method only from its own page (Origin)";
	return NULL;
}

static void on_request(void *cookie, struct http_request *req)
{
	struct console *c = cookie;

	console_lock(c);
	answer(c, req);
	console_unlock(c);
}

static void answer(struct console *c, struct http_request *req)
{
	struct sv path = req->path;
	const struct console_asset *a;
	const char *why;

	if ((why = refusal(c, req)) != NULL) {
		const struct http_header *host = http_request_header(req, "host");
		const struct http_header *origin = http_request_header(req, "origin");
		struct sv none = SV("-");
		struct sv hv = host ? host->value : none, ov = origin ? origin->value : none;
		char p[256], h[256], o[256];

		/* Their sender chose every byte: an ESC or a C1 control would reach the
		 * developer's terminal as a command (title, clear screen). */
		log_warn("console: refused %.*s %s from %s (Host %s, Origin %s): %s", SV_ARG(req->method),
			 log_escape(p, sizeof(p), req->path.p, req->path.n, true), req->peer_ip,
			 log_escape(h, sizeof(h), hv.p, hv.n, true), log_escape(o, sizeof(o), ov.p, ov.n, true), why);
		console_respond_json(c, req, 403, json_pack("{s:s}", "error", why));
	} else if (!c->cfg) {
		console_respond(req, 503, "text/plain", "the console is off\n", 19);
	} else if (sv_eq_cstr(path, "/api/stream") && sv_eq_cstr(req->method, "GET")) {
		stream_start(c, req);
	} else if (console_api(c, req, path)) {
		/* answered */
	} else if (sv_eq_cstr(path, "/metrics")) {
		buf_reset(&c->out);
		console_metrics_write(c, &c->out);
		console_respond(req, 200, "text/plain; version=0.0.4; charset=utf-8", c->out.p, c->out.len);
	} else if (path.n > 10 && memcmp(path.p, "/.lb/keys/", 10) == 0 && sv_eq_cstr(req->method, "GET")) {
		/* The x-amzn-oidc-data signing key, as ALB's regional endpoint
		 * https://public-keys.auth.elb.REGION.amazonaws.com/{kid} serves it: a PEM. */
		struct sv kid = { path.p + 10, path.n - 10 };
		const char *pem = router_auth_key_pem(c->router, kid);

		if (pem)
			console_respond(req, 200, "text/plain", pem, strlen(pem));
		else
			console_respond(req, 404, "text/plain", "not found\n", 10);
	} else if ((a = console_asset_find(path)) != NULL) {
		respond_asset(req, a);
	} else {
		console_respond(req, 404, "text/plain", "not found\n", 10);
	}
}

static void on_error(void *cookie, struct http_request *req, int status)
{
	(void)cookie;
	console_respond(req, status, "text/plain", "bad request\n", 12);
}

static void on_abort(void *cookie, struct http_request *req)
{
	struct console *c = cookie;
	struct subscriber *s = req->route;

	if (s && s->replay)
		console_replay_abort(s);
	else if (s && s->list)
		console_list_abort(s);
	else if (s)
		stream_remove(c, s);
}

static void on_drain(void *cookie, struct http_request *req)
{
	struct subscriber *s = req->route;

	(void)cookie;
	if (s && s->list)
		console_list_drained(s);
}

static const struct http_server_cbs server_cbs = {
	.on_head = on_head,
	.on_request = on_request,
	.on_error = on_error,
	.on_abort = on_abort,
	.on_drain = on_drain,
};

/* --- lifecycle ------------------------------------------------------------------------- */

struct console *console_new(struct event_base *base, struct router *router, struct lambda *lambda,
			    struct targets *targets, struct health *health)
{
	struct console *c = xcalloc(1, sizeof(*c));
	struct http_server_settings set = { IDLE_SECONDS, 0, { 16 * 1024, 64 * 1024, false, DESYNC_MODE_MONITOR } };
	struct timeval ping = { PING_SECONDS, 0 };

	c->base = base;
	c->router = router;
	c->lambda = lambda;
	c->targets = targets;
	c->health = health;
	c->srv = http_server_new(base, &server_cbs, c, NULL);
	http_server_configure(c->srv, &set);
	c->ping = event_new(base, -1, EV_PERSIST, on_ping, c);
	event_add(c->ping, &ping);
	buf_init(&c->out, 0);
	buf_init(&c->scratch, 0);
	buf_init(&c->labels, 0);
	console_metrics_init(c);
	return c;
}

static bool same_place(const struct console *c, const struct admin_cfg *a)
{
	return c->l && c->port == a->port && strcmp(c->address, a->address) == 0;
}

int console_prepare(struct console *c, const struct config *cfg, struct lb_err *err)
{
	const struct admin_cfg *a = &cfg->admin;

	c->pending = NULL;
	if (!a->enabled || same_place(c, a))
		return 0;
	c->pending = http_server_listen(c->srv, "admin", a->address, a->port, err);
	return c->pending ? 0 : -1;
}

void console_cancel(struct console *c)
{
	http_listener_close(c->pending);
	c->pending = NULL;
}

void console_commit(struct console *c, struct config *cfg, const uint16_t *ports)
{
	const struct admin_cfg *a = &cfg->admin;
	struct config *old = c->cfg;
	bool on = a->enabled;

	if (!on || c->pending) {
		http_listener_close(c->l);
		c->l = NULL;
		free(c->address);
		c->address = NULL;
	}
	if (c->pending) {
		bool v6 = strchr(a->address, ':') != NULL;
		c->l = c->pending;
		c->pending = NULL;
		c->address = xstrdup(a->address);
		c->port = a->port;
		printf("lb: console on http://%s%s%s:%u\n", v6 ? "[" : "", a->address, v6 ? "]" : "",
		       http_listener_port(c->l));
		fflush(stdout);
	}
	console_lock(c);
	/* A new size or body limit starts a new history. */
	if (c->log && (!on || reqlog_history(c->log) != (size_t)a->history ||
		       reqlog_body_limit(c->log) != (size_t)a->body_limit)) {
		reqlog_free(c->log);
		c->log = NULL;
		c->log_gen++;
	}
	if (on && !c->log)
		c->log = reqlog_new((size_t)a->history, (size_t)a->body_limit);
	c->mask = a->mask_secrets;
	c->cfg = on ? config_ref(cfg) : NULL;
	free(c->ports);
	c->ports = xcalloc(cfg->nlisteners + 1, sizeof(*c->ports));
	if (ports)
		memcpy(c->ports, ports, cfg->nlisteners * sizeof(*c->ports));
	console_index(c);
	c->sent_id = c->log ? reqlog_last_id(c->log) : 0;
	console_unlock(c);
	config_unref(old);
	router_set_console(c->router, on ? c : NULL);
	lambda_set_observer(c->lambda, on ? console_observe_invocation : NULL, c);
}

size_t console_record_limit(const struct console *c)
{
	size_t n;

	if (!c->threaded)
		return reqlog_body_limit(c->log) + 1;
	pthread_mutex_lock((pthread_mutex_t *)&c->mu);
	n = c->log ? reqlog_body_limit(c->log) + 1 : 0;
	pthread_mutex_unlock((pthread_mutex_t *)&c->mu);
	return n;
}

void console_shutdown(struct console *c)
{
	http_listener_close(c->l);
	c->l = NULL;
	while (c->subs) {
		struct http_request *req = c->subs->req;
		stream_remove(c, c->subs);
		http_server_stream_abort(req);
	}
	http_server_shutdown(c->srv);
}

void console_free(struct console *c)
{
	if (!c)
		return;
	http_server_free(c->srv);     /* aborts the live streams and replays */
	http_client_free(c->client);
	event_free(c->ping);
	if (c->threaded) {
		event_free(c->wake);
		pthread_mutex_destroy(&c->mu);
	}
	free(c->address);
	free(c->ports);
	reqlog_free(c->log);
	metrics_free(c->m);
	for (size_t i = 0; i < c->nfns; i++)
		free(c->fns[i].name);
	free(c->fns);
	free(c->hits);
	console_index_free(c);
	buf_release(&c->out);
	buf_release(&c->scratch);
	buf_release(&c->labels);
	config_unref(c->cfg);
	free(c);
}
