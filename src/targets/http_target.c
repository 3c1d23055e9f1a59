/*
 * http_target: one request to an instance/ip target group.
 *
 *   head     a target: the one a valid stickiness cookie names while it is
 *            routable, else the group's algorithm (none routable: 503 once
 *            the request is in). The request head (proxy_head) goes out at
 *            once on a pooled or new connection; the body follows as it
 *            arrives (stream_body), framed as it came.
 *   answer   the target's head becomes the client's (its headers, minus
 *            hop-by-hop, plus ALB's stickiness cookies), its body streams
 *            through; a 101 turns both connections into one tunnel.
 *   failure  ALB's answers (alb-http-targets-and-tls.md §1.12): refused,
 *            reset, closed or malformed → 502; not connected in 10 s or
 *            silent past the idle timeout → 504. Once the answer's head went
 *            to the client, a failure can only cut the client's connection.
 *
 * Flow control both ways: past the high watermark of one side's output,
 * reading the other side stops until it drains, so memory stays bounded
 * whatever the size of bodies.
 */
#include "alb/auth_oidc.h"
#include "alb/mtls_headers.h"
#include "targets/http_target.h"

#include <stdio.h>
#include <string.h>

#include "alb/proxy_head.h"
#include "alb/target_cookie.h"
#include "base/log.h"
#include "alb/h2_req_head.h"
#include "net/h2_client.h"
#include "net/http_client.h"
#include "net/http_server.h"
#include "targets/target.h"
#include "targets/target_rt.h"
#include "targets/targets.h"

/* ALB's connect timeout toward targets (alb-http-targets-and-tls.md §1.12). */
#define CONNECT_SECONDS 10

void http_fwd_init(struct http_fwd *h)
{
	memset(h, 0, sizeof(*h));
	header_list_init(&h->headers);
	buf_init(&h->head, 0);
	buf_init(&h->cookies, 0);
	buf_init(&h->scratch, 0);
}

void http_fwd_release(struct http_fwd *h)
{
	header_list_release(&h->headers);
	buf_release(&h->head);
	buf_release(&h->cookies);
	buf_release(&h->scratch);
}

/* --- the exchange, over HTTP/1.1 or HTTP/2 ---------------------------------------- */

static void x_forget(struct http_fwd *h)
{
	h->x = NULL;
	h->x2 = NULL;
}

/* Ends f's use of its target and its exchange (without callbacks). */
static void release(struct forward *f)
{
	struct http_fwd *h = &f->http;

	http_exchange_cancel(h->x);
	h2_exchange_cancel(h->x2);
	x_forget(h);
	if (h->target)
		target_rt_detach(h->target, f);
}

/* --- picking a target --------------------------------------------------------- */

/* The target a valid stickiness cookie names, while it can take requests; else NULL. */
static struct target_rt *sticky_target(struct forward *f, struct tg_state *g, int64_t now_s)
{
	const struct tg_attributes *a = &f->tg->attrs;
	struct http_fwd *h = &f->http;
	struct sv tkey, tg = sv_from(f->tg->name);
	struct target_rt *r;
	enum sticky_status st;

	if (!a->stickiness)
		return NULL;
	buf_reset(&h->scratch);
	if (a->stickiness_type == STICKINESS_LB_COOKIE)
		st = lb_cookie_decode(f->req, targets_sticky_key(f->targets), tg, now_s, &h->scratch, &tkey);
	else
		st = app_cookie_decode(f->req, targets_sticky_key(f->targets), tg, now_s, &h->scratch, &tkey);
	if (st != STICKY_OK || !(r = tg_state_find(g, tkey)))
		return NULL;
	h->app_binding = true;
	/* ALB: a cookie naming an unhealthy, draining or removed target is
	 * ignored; the algorithm picks again (§1.11.4). */
	return target_routable(a, g->st, g->n, r->index) ? r : NULL;
}

static struct target_rt *pick(struct forward *f)
{
	struct tg_state *g = targets_group(f->targets, f->tg);
	int64_t now = time_mono_us();
	struct target_rt *r;
	int i;

	if (!g || !g->n)
		return NULL;
	if ((r = sticky_target(f, g, f->req->start_wall_us / 1000000)))
		return r;
	if (f->tg->attrs.algorithm == ALGO_LEAST_OUTSTANDING)
		tg_state_load_outstanding(g);
	i = target_select(&g->sel, &f->tg->attrs, g->st, g->n, now, targets_rng(f->targets), -1);
	return i < 0 ? NULL : g->rt[i];
}

/* The Set-Cookie values target stickiness adds to the answer (§1.11). */
static void add_target_cookies(struct forward *f, const struct http_reply *reply)
{
	const struct tg_attributes *a = &f->tg->attrs;
	struct http_fwd *h = &f->http;
	struct sv tg = sv_from(f->tg->name), tkey = sv_from(h->target->key);
	int64_t now_s = f->req->start_wall_us / 1000000;
	size_t at[APP_COOKIE_SHARDS], n = 0;

	buf_reset(&h->cookies);
	if (!a->stickiness)
		return;
	if (a->stickiness_type == STICKINESS_LB_COOKIE) {
		/* ALB sets AWSALB and AWSALBCORS on every answer, renewing them. */
		lb_cookie_set(&h->cookies, targets_sticky_key(f->targets), tg, tkey, now_s, a->lb_cookie_duration, &at[1]);
		at[0] = 0;
		n = 2;
	} else if (h->app_binding || app_cookie_seen(reply->headers, reply->nheaders, a->app_cookie_name)) {
		/* ALB's application cookie follows the target's own (§1.11.3). */
		app_cookie_set(&h->cookies, targets_sticky_key(f->targets), f->req, tg, tkey, now_s,
			       a->app_cookie_duration, at, &n);
	}
	for (size_t i = 0; i < n; i++)
		header_list_add(&h->headers, SV("Set-Cookie"), sv_from(h->cookies.p + at[i]));
}

/* --- the answer ------------------------------------------------------------------- */

/* Removes every header called name (any case) from l. */
static void drop_header(struct header_list *l, const char *name)
{
	size_t k = 0;

	for (size_t i = 0; i < l->n; i++)
		if (!sv_eq_cstr_nocase(l->v[i].name, name))
			l->v[k++] = l->v[i];
	l->n = k;
}

static void on_head(void *cookie, struct http_reply *reply)
{
	struct forward *f = cookie;
	struct http_fwd *h = &f->http;
	struct http_stream_head sh;

	f->out.answer_us = time_mono_us();
	f->out.target_status = reply->status;
	proxy_response_headers(reply, &h->headers);
	/* RFC 9110 §8.6: no Content-Length on a 204, which has no body whatever it
	 * says (its bytes are dropped); HTTP/2 clients (nghttp2, curl) reset a 204
	 * stream whose content-length is not 0. */
	if (reply->status == 204)
		drop_header(&h->headers, "content-length");
	for (size_t i = 0; i < f->ncookies; i++)
		header_list_add(&h->headers, f->cookies[i].name, f->cookies[i].value);
	add_target_cookies(f, reply);
	sh = (struct http_stream_head){ reply->status, reply->reason, h->headers.v, h->headers.n, reply->framing,
					reply->no_body, false };
	f->out.status = reply->status;
	h->head_sent = true;
	h->tunnel = reply->upgrade;
	f->out.websocket = h->tunnel;
	http_server_stream_head(f->req, &sh);
	f->out.done_us = time_mono_us();
	if (h->tunnel)
		http_server_resume_reading(f->req);
}

static void on_body(void *cookie, const char *p, size_t n)
{
	struct forward *f = cookie;

	if (http_server_stream_body(f->req, p, n) > HTTP_SERVER_HIGH_WATER) {
		/* until the client drains (drain) */
		if (f->http.x2)
			h2_exchange_pause(f->http.x2);
		else
			http_exchange_pause(f->http.x);
	}
}

static void on_end(void *cookie)
{
	struct forward *f = cookie;
	struct http_fwd *h = &f->http;

	x_forget(h);
	if (h->target)
		target_rt_detach(h->target, f);
	if (h->tunnel)
		http_server_stream_abort(f->req);   /* the target closed the tunnel */
	else
		http_server_stream_end(f->req);
	forward_done(f);
}

/* ALB's status when a target fails (§1.12). */
static int failure_status(enum http_client_error e, const char **why)
{
	switch (e) {
	case HTTP_CLIENT_REFUSED:
		*why = "refused the connection";
		return 502;
	case HTTP_CLIENT_CONNECT_TIMEOUT:
		*why = "did not accept the connection within 10 s";
		return 504;
	case HTTP_CLIENT_TIMEOUT:
		*why = "sent nothing within the idle timeout";
		return 504;
	case HTTP_CLIENT_MALFORMED:
		*why = "sent a malformed answer";
		return 502;
	case HTTP_CLIENT_TLS:
		*why = "failed the TLS handshake";
		return 502;
	case HTTP_CLIENT_CLOSED:
	default:
		*why = "closed the connection before its answer ended";
		return 502;
	}
}

/* The forward failed with status: ALB's page, or a cut connection once the answer began. */
static void fail(struct forward *f, int status, const char *why)
{
	struct http_fwd *h = &f->http;
	struct http_request *req = f->req;

	log_warn("%.*s %.*s: target %s %s: %d", SV_ARG(req->method), SV_ARG(req->path),
		 h->target ? h->target->key : "-", why, h->head_sent ? f->out.status : status);
	release(f);
	if (h->head_sent) {
		http_server_stream_abort(req);
	} else {
		/* A request whose body was not read whole cannot leave the connection reusable. */
		forward_answer_page(f, status, !h->request_in);
	}
	forward_done(f);
}

static void on_error(void *cookie, enum http_client_error e)
{
	struct forward *f = cookie;
	const char *why;
	int status = failure_status(e, &why);

	x_forget(&f->http);
	fail(f, status, why);
}

/* The target took what was buffered toward it: read the client again. */
static void on_target_drain(void *cookie)
{
	struct forward *f = cookie;

	http_server_resume_reading(f->req);
}

/* gRPC's status travels in trailers: passed on to HTTP/2 clients. */
static void on_trailers(void *cookie, const struct http_header *h, size_t n)
{
	struct forward *f = cookie;

	http_server_stream_trailers(f->req, h, n);
}

static const struct http_exchange_cbs exchange_cbs = {
	.on_head = on_head,
	.on_body = on_body,
	.on_end = on_end,
	.on_error = on_error,
	.on_drain = on_target_drain,
};

void http_fwd_cut(struct forward *f, const char *why)
{
	/* ALB: a request still running on a deregistered target when the delay
	 * elapses gets 502 (alb-http-targets-and-tls.md §1.9). */
	fail(f, 502, why);
}

/* --- the request ---------------------------------------------------------------- */

/*
 * ALB's 464 for a request its group's protocol version cannot carry
 * (alb-http-targets-and-tls.md §1.2): an HTTP/1.1 request to an HTTP2 or
 * GRPC group, a non-POST request to a GRPC group, a gRPC request to an
 * HTTP1 group. 0 when the request may go.
 */
static int version_mismatch(struct forward *f)
{
	const struct http_header *ct = http_request_header(f->req, "content-type");
	bool h2 = f->req->version == 20;
	bool grpc = h2 && ct && h2_is_grpc_content_type(ct->value);

	switch (f->tg->protocol_version) {
	case TG_PROTO_HTTP2:
		return h2 ? 0 : 464;
	case TG_PROTO_GRPC:
		return h2 && sv_eq_cstr(f->req->method, "POST") ? 0 : 464;
	case TG_PROTO_HTTP1:
	default:
		return grpc ? 464 : 0;
	}
}

static void http_head(struct forward *f)
{
	struct http_request *req = f->req;
	struct http_fwd *h = &f->http;
	struct http_exchange_opts opt = { .connect_timeout = CONNECT_SECONDS,
					  .idle_timeout = targets_idle_timeout(f->targets) };
	struct target_rt *r;

	x_forget(h);
	h->target = NULL;
	h->reject = 0;
	h->head_sent = h->tunnel = h->request_in = h->app_binding = false;
	h->chunked = req->framing == HTTP_FRAMING_CHUNKED;
	if ((h->reject = version_mismatch(f)))
		return;
	if (!(r = pick(f))) {
		/* ALB: no registered or no routable target → 503 (§1.12). */
		h->reject = 503;
		return;
	}
	target_rt_attach(r, f);
	f->out.target = r->key;
	req->stream_body = req->framing != HTTP_FRAMING_NONE;
	fwd_headers_build(req, &f->cfg->lb.attrs, f->trace, &h->headers);
	mtls_headers_apply(&h->headers, req, &f->cfg->lb.attrs, &f->cfg->listeners[req->listener].attrs);
	auth_headers_apply(&h->headers, f->auth_headers, f->nauth_headers);
	buf_reset(&h->head);
	proxy_request_head(&h->head, req, &h->headers, f->listener->address, f->cfg->lb.attrs.preserve_host);
	f->out.dispatch_us = time_mono_us();
	if (!r->resolved) {
		h->reject = 502;
		return;
	}
	opt.head_request = sv_eq_cstr(req->method, "HEAD");
	/* Only a WebSocket upgrade (HTTP/1.1) may be answered 101 (§1.14): any
	 * other 101 is a malformed answer (502), never a tunnel. */
	opt.upgrade = proxy_is_websocket(req);
	/* protocol: HTTPS — TLS without SNI or certificate checks, as ALB toward targets (§1.3). */
	opt.tls = r->group && r->group->tg->protocol == TG_PROTO_HTTPS;
	if (f->tg->protocol_version != TG_PROTO_HTTP1) {
		/* HTTP2/GRPC groups: the request goes on as HTTP/2 (§1.2), its body unframed. */
		h->chunked = false;
		h->x2 = h2_client_start(targets_h2_client(f->targets), &r->origin, h->head.p, h->head.len, &opt,
					&exchange_cbs, f);
		h2_exchange_on_trailers(h->x2, on_trailers);
		return;
	}
	h->x = http_client_start(targets_http_client(f->targets), &r->origin, h->head.p, h->head.len, &opt,
				 &exchange_cbs, f);
}

static void http_body(struct forward *f, const char *p, size_t n)
{
	struct http_fwd *h = &f->http;
	size_t pending;
	char size[24];

	if (!h->x && !h->x2)
		return;
	if (h->x2) {
		pending = h2_exchange_send(h->x2, p, n);
	} else if (h->chunked && !h->tunnel) {
		int k = snprintf(size, sizeof(size), "%zx\r\n", n);
		http_exchange_send(h->x, size, (size_t)k);
		http_exchange_send(h->x, p, n);
		pending = http_exchange_send(h->x, "\r\n", 2);
	} else {
		pending = http_exchange_send(h->x, p, n);
	}
	if (pending > HTTP_CLIENT_HIGH_WATER)
		http_server_pause_reading(f->req);   /* until the target drains (on_target_drain) */
}

static void http_request(struct forward *f)
{
	struct http_fwd *h = &f->http;

	h->request_in = true;
	if (h->reject) {
		if (h->reject == 502)
			log_warn("target %s: cannot resolve its address", h->target->key);
		if (h->reject == 464)
			log_warn("%.*s %.*s: the protocol version does not fit target group %s: 464",
				 SV_ARG(f->req->method), SV_ARG(f->req->path), f->tg->name);
		if (h->reject == 503)
			log_warn("%.*s %.*s: target group %s has no registered target that can take it: 503",
				 SV_ARG(f->req->method), SV_ARG(f->req->path), f->tg->name);
		release(f);
		forward_answer_page(f, h->reject, false);
		forward_done(f);
		return;
	}
	if (h->x2) {
		h2_exchange_request_done(h->x2);
		return;
	}
	if (!h->x)
		return;
	if (h->chunked)
		http_exchange_send(h->x, "0\r\n\r\n", 5);
	http_exchange_request_done(h->x);
}

static void http_abort(struct forward *f)
{
	release(f);
}

/* The client took what was buffered toward it: read the target again. */
static void http_drain(struct forward *f)
{
	if (f->http.x2)
		h2_exchange_resume(f->http.x2);
	else if (f->http.x)
		http_exchange_resume(f->http.x);
}

const struct target_ops http_target_ops = {
	.head = http_head,
	.body = http_body,
	.request = http_request,
	.abort = http_abort,
	.drain = http_drain,
};
