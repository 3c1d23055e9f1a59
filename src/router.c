/*
 * router: what lb does with each request, in ALB's order:
 *
 *   head     trace id; front-end checks (TRACE → 405, more than 30
 *            X-Forwarded-For addresses → 463); rule matching; the body
 *            policy the chosen action needs
 *   request  the action: fixed-response, redirect, or forward: a target
 *            group is picked (weighted, sticky) at the head and its kind
 *            (targets/target.h: lambda or http) takes the request from
 *            there, answering through forward_done; one access-log line
 *   error    a request http_server could not read (400, 408, 501): ALB's
 *            error page and a log line
 *   abort    the client left mid-flight: logged as 460 (a WebSocket
 *            tunnel's end: 101, type ws)
 *   cut      lb stops and its drain ran out (router_cut): a request still
 *            with a Lambda function gets 502, as a failed invocation; a
 *            login callback still waiting on the IdP gets 502 too
 *
 * Per-request state (struct route) comes from a free list, so a request
 * costs no allocation once the router has warmed up. A route holds a
 * reference to the configuration it was matched against, so a reload never
 * frees a rule or target group under a request in flight.
 */
#include "router_int.h"

#include <stdlib.h>
#include <string.h>

#include "auth_flow.h"
#include "alb/auth_oidc.h"
#include "auth/jwt_rsa.h"
#include "net/jwks_fetch.h"
#include "alb/fwd_headers.h"
#include "alb/jwt.h"
#include "alb/http_msg.h"
#include "alb/match.h"
#include "alb/redirect.h"
#include "alb/sticky.h"
#include "alb/trace_id.h"
#include "alb/transform.h"
#include "base/log.h"
#include "console/console.h"
#include "targets/target.h"
#include "targets/targets.h"

struct router *router_new(struct rng *rng, struct targets *targets)
{
	struct router *r = xcalloc(1, sizeof(*r));

	r->rng = rng;
	r->targets = targets;
	buf_init(&r->scratch, 0);
	return r;
}

/* Whether the listener has an authenticate action on any rule. */
static bool listener_authenticates(const struct listener_cfg *l)
{
	if (l->default_rule.action.auth)
		return true;
	for (size_t i = 0; i < l->nrules; i++)
		if (l->rules[i].action.auth)
			return true;
	return false;
}

static bool uses_authenticate(const struct config *cfg)
{
	for (size_t i = 0; i < cfg->nlisteners; i++)
		if (listener_authenticates(&cfg->listeners[i]))
			return true;
	return false;
}

void router_set_config(struct router *r, struct config *cfg)
{
	struct config *old = r->cfg;

	r->cfg = config_ref(cfg);
	config_unref(old);
	/* The keys are made when a configuration first needs them: an lb without
	 * authenticate actions never touches its crypto (or pays its memory). */
	if (!r->auth && uses_authenticate(cfg) &&
	    !(r->auth = auth_flow_new(targets_http_client(r->targets))))
		log_error("authenticate: no keys (libcrypto failed): authenticate actions answer 500");
}

void router_set_access_log(struct router *r, struct access_log *al)
{
	r->alog = al;
}

void router_set_console(struct router *r, struct console *c)
{
	r->console = c;
}

void router_free(struct router *r)
{
	if (!r)
		return;
	jwks_refresh_cancel_all();   /* the JWKS refreshes routes started */
	while (r->free_routes) {
		struct route *rt = r->free_routes;
		r->free_routes = rt->next_free;
		buf_release(&rt->trace);
		buf_release(&rt->cookies);
		auth_req_release(&rt->auth);
		buf_release(&rt->xform_mem);
		buf_release(&rt->held_mem);
		forward_release(&rt->f);
		free(rt);
	}
	config_unref(r->cfg);
	buf_release(&r->scratch);
	auth_flow_free(r->auth);
	free(r);
}

const char *router_auth_key_pem(const struct router *r, struct sv kid)
{
	return auth_flow_key_pem(r->auth, kid);
}

static const char *router_date(struct router *r)
{
	int64_t now = time_wall_us() / 1000000;

	if (now != r->date_s) {
		r->date_s = now;
		time_http_date(now, r->date);
	}
	return r->date;
}

static struct route *route_get(struct router *r, struct http_request *req)
{
	struct route *rt = r->free_routes;

	if (rt)
		r->free_routes = rt->next_free;
	else {
		rt = xcalloc(1, sizeof(*rt));
		buf_init(&rt->trace, 0);
		buf_init(&rt->cookies, 0);
		auth_req_init(&rt->auth);
		buf_init(&rt->xform_mem, 0);
		buf_init(&rt->held_mem, 0);
		forward_init(&rt->f);
	}
	memset(&rt->xf, 0, sizeof(rt->xf));
	rt->log_host = rt->log_target = SV_NULL;
	rt->auth_ran = false;
	rt->www_auth = NULL;
	rt->router = r;
	rt->cfg = config_ref(r->cfg);
	rt->listener = &rt->cfg->listeners[req->listener];
	rt->rule = NULL;
	rt->front_status = 0;
	rt->front_reason = NULL;
	rt->forwarding = false;
	rt->sticky_error = NULL;
	rt->f.tg = NULL;
	rt->f.ops = NULL;
	rt->auth_mode = AUTH_NONE;
	rt->auth.nhdrs = 0;
	rt->login = NULL;
	buf_reset(&rt->trace);
	rt->prev_busy = NULL;
	rt->next_busy = r->busy;
	if (r->busy)
		r->busy->prev_busy = rt;
	r->busy = rt;
	req->route = rt;
	return rt;
}

static void route_put(struct router *r, struct http_request *req)
{
	struct route *rt = req->route;

	if (!rt)
		return;
	req->route = NULL;
	if (rt->prev_busy)
		rt->prev_busy->next_busy = rt->next_busy;
	else
		r->busy = rt->next_busy;
	if (rt->next_busy)
		rt->next_busy->prev_busy = rt->prev_busy;
	config_unref(rt->cfg);
	rt->cfg = NULL;
	rt->next_free = r->free_routes;
	r->free_routes = rt;
}

/* --- answers ---------------------------------------------------------------------- */

/* ALB's own HTML page for status. */
static size_t answer_page(struct router *r, struct http_request *req, int status, bool close)
{
	struct http_response resp = {
		.status = status,
		.content_type = SV("text/html"),
		.body = http_error_page(status),
		.close = close,
	};

	return http_server_respond(req, &resp, router_date(r));
}

/* ALB's 401 of a failed jwt-validation: its page, with WWW-Authenticate. */
static size_t answer_unauthorized(struct router *r, struct http_request *req, const char *www_auth)
{
	struct http_header h = { SV("WWW-Authenticate"), sv_from(www_auth) };
	struct http_response resp = {
		.status = 401,
		.content_type = SV("text/html"),
		.headers = &h,
		.nheaders = 1,
		.body = http_error_page(401),
	};

	return http_server_respond(req, &resp, router_date(r));
}

/* ALB sends fixed responses as UTF-8 text (unverified: observed
 * "text/plain; charset=utf-8"). One entry per content type ALB allows. */
static struct sv fixed_content_type(const char *type)
{
	static const char *const with_charset[] = {
		"text/plain; charset=utf-8", "text/css; charset=utf-8", "text/html; charset=utf-8",
		"application/javascript; charset=utf-8", "application/json; charset=utf-8",
	};
	size_t n = strlen(type);

	for (size_t i = 0; i < ARRAY_LEN(with_charset); i++)
		if (strncmp(with_charset[i], type, n) == 0 && with_charset[i][n] == ';')
			return sv_from(with_charset[i]);
	return sv_from(type);
}

static void answer_fixed(struct router *r, struct http_request *req, struct outcome *o)
{
	const struct fixed_response_cfg *f = &((struct route *)req->route)->rule->action.fixed;
	struct http_response resp = {
		.status = f->status_code,
		.body = { f->body, f->body_len },
	};

	if (f->content_type)
		resp.content_type = fixed_content_type(f->content_type);
	o->status = f->status_code;
	o->actions = "fixed-response";
	o->sent = http_server_respond(req, &resp, router_date(r));
}

static void answer_redirect(struct router *r, struct http_request *req, struct outcome *o)
{
	const struct route *rt = req->route;
	const struct redirect_cfg *rc = &rt->rule->action.redirect;
	char port[8], addr[48];
	struct redirect_request in;
	struct http_header location;
	struct http_response resp;

	snprintf(port, sizeof(port), "%u", req->local_port);
	in.protocol = req->https ? SV("https") : SV("http");
	in.host = http_request_host(req);
	if (!in.host.n)
		in.host = route_listener_host(rt->listener->address, addr);
	in.port = sv_from(port);
	in.path = req->path;
	in.query = req->query;
	buf_reset(&r->scratch);
	redirect_location(rc, &in, &r->scratch);
	location = (struct http_header){ SV("Location"), { r->scratch.p, r->scratch.len } };
	/* ALB's redirects carry its HTML page for the status, like its errors. */
	resp = (struct http_response){
		.status = rc->status_code,
		.content_type = SV("text/html"),
		.headers = &location,
		.nheaders = 1,
		.body = http_error_page(rc->status_code),
	};
	o->status = rc->status_code;
	o->actions = "redirect";
	o->redirect_url = location.value;
	o->sent = http_server_respond(req, &resp, router_date(r));
}

/* Picks a target group of a forward action by weight (ALB: traffic splits in
 * proportion to weight, alb-listener-rules.md §2.2). NULL if all weigh 0. */
static const struct target_group *pick_by_weight(struct router *r, const struct forward_cfg *f)
{
	long total = 0, x;

	if (f->ngroups == 1)
		return f->groups[0].tg;
	for (size_t i = 0; i < f->ngroups; i++)
		total += f->groups[i].weight;
	if (total == 0)
		return NULL;
	x = (long)(rng_next(r->rng) % (uint64_t)total);
	for (size_t i = 0; i < f->ngroups; i++) {
		if (x < f->groups[i].weight)
			return f->groups[i].tg;
		x -= f->groups[i].weight;
	}
	return NULL;
}

/*
 * With stickiness, a request carrying a valid AWSALBTG cookie goes to the
 * group it names (while that group is in the action with a weight above 0 —
 * lb's choice, so a group weighted down to 0 drains); without one, weights
 * decide. An invalid cookie is logged as AWSALBTGCookieInvalid (§5.3).
 */
static const struct target_group *pick_target_group(struct router *r, const struct http_request *req,
						    struct route *rt)
{
	const struct forward_cfg *f = &rt->rule->action.forward;
	struct sv name;

	if (!f->stickiness)
		return pick_by_weight(r, f);
	switch (sticky_decode(req, targets_sticky_key(r->targets), req->start_wall_us / 1000000, &rt->cookies,
			      &name)) {
	case STICKY_OK:
		for (size_t i = 0; i < f->ngroups; i++)
			if (f->groups[i].weight > 0 && sv_eq_cstr(name, f->groups[i].tg->name))
				return f->groups[i].tg;
		break;
	case STICKY_INVALID:
		rt->sticky_error = "AWSALBTGCookieInvalid";
		break;
	case STICKY_NONE:
	case STICKY_EXPIRED:
		break;
	}
	return pick_by_weight(r, f);
}

/* The AWSALBTG cookies naming tg, for every answer of a sticky forward
 * (ALB sets them on each one, renewing their expiry). */
static void set_group_cookies(struct route *rt, const struct http_request *req, const struct target_group *tg)
{
	struct forward *f = &rt->f;
	size_t cors_at;

	buf_reset(&rt->cookies);
	sticky_set_cookies(&rt->cookies, targets_sticky_key(rt->router->targets), sv_from(tg->name),
			   req->start_wall_us / 1000000, rt->rule->action.forward.stickiness_duration, &cors_at);
	f->cookies[0] = (struct http_header){ SV("Set-Cookie"), sv_from(rt->cookies.p) };
	f->cookies[1] = (struct http_header){ SV("Set-Cookie"), sv_from(rt->cookies.p + cors_at) };
	f->ncookies = 2;
}

/* Keeps o for on_sent, with copies of the strings it names (their owners,
 * the router's scratch, a target, a login, may change or go meanwhile). */
static void route_hold(struct route *rt, const struct outcome *o)
{
	struct buf *m = &rt->held_mem;
	size_t at_target, at_reason, at_url;

	rt->held = *o;
	buf_reset(m);
	at_target = m->len;
	if (o->target)
		buf_append(m, o->target, strlen(o->target) + 1);
	at_reason = m->len;
	if (o->error_reason)
		buf_append(m, o->error_reason, strlen(o->error_reason) + 1);
	at_url = m->len;
	if (o->redirect_url.p)
		buf_append(m, o->redirect_url.p, o->redirect_url.n);
	if (o->target)
		rt->held.target = m->p + at_target;
	if (o->error_reason)
		rt->held.error_reason = m->p + at_reason;
	rt->held.redirect_url = o->redirect_url.p ? (struct sv){ m->p + at_url, o->redirect_url.n } : SV_NULL;
}

/* Logs the request and releases its route: the end of every request. */
static void route_finish(struct router *r, struct http_request *req, const struct outcome *o)
{
	/* An HTTP/2 answer the client's window may hold back is logged once
	 * it has left lb, or not (on_sent). */
	if (req->route && http_server_answer_held(req)) {
		route_hold(req->route, o);
		return;
	}
	route_log(r, req, o);
	route_put(r, req);
}

static double seconds_between(int64_t from_us, int64_t to_us)
{
	return from_us && to_us >= from_us ? (double)(to_us - from_us) / 1e6 : -1;
}

/* A forward's outcome, as the access log wants it. */
static void forward_outcome(const struct route *rt, const struct http_request *req, struct outcome *o)
{
	const struct forward_outcome *fo = &rt->f.out;

	o->actions = "forward";
	o->tg = rt->f.tg;
	o->target = fo->target;
	o->target_status = fo->target_status;
	o->error_reason = fo->error_reason ? fo->error_reason : rt->sticky_error;
	o->websocket = fo->websocket;
	/* ALB: -1 for all three when the request could not be dispatched or
	 * the target closed before answering (alb-listener-rules.md §5.1). */
	if (fo->dispatch_us && fo->answer_us) {
		o->t_request = seconds_between(req->start_mono_us, fo->dispatch_us);
		o->t_target = seconds_between(fo->dispatch_us, fo->answer_us);
		o->t_response = seconds_between(fo->answer_us, fo->done_us);
	}
}

/* forward_done: the target kind answered (or gave up); log the request. */
static void on_forward_done(struct forward *f)
{
	struct http_request *req = f->req;
	struct route *rt = req->route;
	struct outcome o;

	rt->forwarding = false;
	outcome_init(&o, f->out.status, rt);
	forward_outcome(rt, req, &o);
	o.sent = req->sent_bytes;
	route_finish(rt->router, req, &o);
}

/* A forward's head: the target group is picked, then its kind takes the request. */
static void forward_head(struct router *r, struct http_request *req, struct route *rt)
{
	struct forward *f = &rt->f;
	const struct target_group *tg = pick_target_group(r, req, rt);

	memset(&f->out, 0, sizeof(f->out));
	f->req = req;
	f->cfg = rt->cfg;
	f->listener = rt->listener;
	f->tg = tg;
	f->targets = r->targets;
	f->trace = (struct sv){ buf_cstr(&rt->trace), rt->trace.len };
	f->ncookies = 0;
	f->auth_headers = rt->auth.hdrs;
	f->nauth_headers = rt->auth.nhdrs;
	f->done = on_forward_done;
	f->record = r->console ? console_record_limit(r->console) : 0;
	if (!tg)
		return;     /* every group weighs 0: 503 once the request is in */
	if (rt->rule->action.forward.stickiness)
		set_group_cookies(rt, req, tg);
	f->ops = target_ops_for(tg);
	rt->forwarding = true;
	f->ops->head(f);
}

/* --- authenticate actions (auth_flow.c) -------------------------------------------- */


/*
 * At the head: a rule with an authenticate action either has a valid
 * session (its x-amzn-oidc-* headers go to the target) or decides by
 * on_unauthenticated_request (§2.5). Returns whether the routing action
 * runs now.
 */
static bool auth_head(struct router *r, struct http_request *req, struct route *rt)
{
	const struct auth_cfg *a = rt->rule->action.auth;
	const struct load_balancer_cfg *lb = &rt->cfg->lb;
	char signer[256];

	if (!a)
		return true;
	rt->auth_ran = true;   /* logged "authenticate,..." once the routing action runs */
	snprintf(signer, sizeof(signer), "arn:aws:elasticloadbalancing:%s:%s:loadbalancer/%s",
		 lb->region, lb->account_id, lb->elb);
	if (r->auth && auth_flow_session(r->auth, &rt->auth, req, a, signer,
					 req->start_wall_us / 1000000))
		return true;
	if (a->on_unauthenticated == AUTH_ALLOW)
		return true;   /* ALB: allow passes the request on without claims */
	rt->auth_ran = false;
	rt->auth_mode = a->on_unauthenticated == AUTH_DENY ? AUTH_DENY_401 : AUTH_REDIRECT;
	return false;
}

static void on_login_done(void *cookie, int status, const struct http_header *hdrs, size_t n,
			  const char *error_reason)
{
	struct http_request *req = cookie;
	struct route *rt = req->route;
	struct router *r = rt->router;
	struct outcome o;

	rt->login = NULL;
	outcome_init(&o, status, rt);
	o.actions = "authenticate";
	o.error_reason = error_reason;
	if (hdrs) {
		struct http_response resp = {
			.status = status,
			.content_type = SV("text/html"),
			.headers = hdrs,
			.nheaders = n,
			.body = http_error_page(status),
		};
		o.redirect_url = hdrs[0].value;
		o.sent = http_server_respond(req, &resp, router_date(r));
	} else {
		o.sent = answer_page(r, req, status, false);
	}
	route_finish(r, req, &o);
}

/* The answer of an authenticate action; true if it comes later (a callback). */
static bool auth_answer(struct router *r, struct http_request *req, struct route *rt,
			struct outcome *o)
{
	const struct http_header *hh = http_request_header(req, "host");
	/* ALB's redirect_uri and return URL use the Host header as sent, port included. */
	struct sv host = hh && hh->value.n ? hh->value : http_request_host(req);

	o->actions = "authenticate";
	if (!host.n) {
		/* ALB: no Host (HTTP/1.0), no redirect URL possible → 401 (§4.4). */
		o->status = 401;
		o->error_reason = "AuthMissingHostHeader";
	} else if (!r->auth) {
		o->status = 500;
		o->error_reason = "AuthUnhandledException";
	} else if (rt->auth_mode == AUTH_CALLBACK) {
		rt->login = auth_flow_callback(r->auth, req, rt->listener, host,
					       req->start_wall_us / 1000000, on_login_done, req);
		return true;
	} else if (rt->auth_mode == AUTH_REDIRECT) {
		struct http_header hdrs[2];
		struct http_response resp;
		char set_cookie[AUTH_NONCE_SET_COOKIE_MAX];

		buf_reset(&r->scratch);
		auth_flow_login_url(r->auth, req, rt->rule->action.auth, rt->rule->priority, host,
				    req->start_wall_us / 1000000, &r->scratch, set_cookie);
		hdrs[0] = (struct http_header){ SV("Location"), { r->scratch.p, r->scratch.len } };
		hdrs[1] = (struct http_header){ SV("Set-Cookie"), sv_from(set_cookie) };
		resp = (struct http_response){ .status = 302, .content_type = SV("text/html"),
					       .headers = hdrs, .nheaders = 2,
					       .body = http_error_page(302) };
		o->status = 302;
		o->redirect_url = hdrs[0].value;
		o->sent = http_server_respond(req, &resp, router_date(r));
		return false;
	} else {
		o->status = 401;   /* on_unauthenticated_request: deny */
	}
	o->sent = answer_page(r, req, o->status, false);
	return false;
}

/*
 * The rule's jwt-validation action (alb-listener-rules.md §2.5), before its
 * routing action: a missing or invalid bearer token is ALB's 401 with a
 * WWW-Authenticate header; a valid one goes on untouched ("the load balancer
 * forwards the request with token as is"). Returns -1 on a 401.
 */
static int route_authenticate(struct route *rt, struct http_request *req)
{
	const char *why = NULL;
	struct jwt_validation_cfg keys;   /* the action as it is now (loops share its keys) */
	enum jwt_verdict v;

	rt->auth_ran = true;
	jwks_snapshot(rt->rule->action.jwt, &keys);
	v = jwt_check(&keys, req, time_wall_us() / 1000000, jwt_rsa_verify, rt->cfg, &why);
	if (v == JWT_VALID)
		return 0;
	/* A signature no key verifies: the IdP may have rotated its keys (a URL's JWKS is
	 * fetched again in the background; this request is answered with the keys held). */
	if (v == JWT_INVALID && rt->rule->action.jwt->jwks_remote &&
	    strcmp(why, "the token's signature does not verify") == 0)
		jwks_refresh(rt->cfg, rt->rule->action.jwt, targets_http_client(rt->router->targets));
	rt->www_auth = jwt_www_authenticate(v);
	log_warn("%.*s %.*s: rule %d: jwt-validation: %s: 401", SV_ARG(req->method), SV_ARG(req->path),
		 rt->rule->priority, v == JWT_MISSING ? "no bearer token" : why);
	return -1;
}

/*
 * The matched rule's transforms (alb-listener-rules.md §2.6): after routing,
 * so conditions saw the original request, and before the action, so targets
 * see the rewritten one. The request as received is kept for the log line.
 * Returns -1 when a rewrite failed: ALB answers 500.
 */
static int route_transform(struct route *rt, struct http_request *req)
{
	if (!rt->rule->host_rewrite && !rt->rule->url_rewrite)
		return 0;
	if (transform_request(rt->rule, req, &rt->xform_mem, &rt->xf) < 0) {
		log_warn("%.*s %.*s: rule %d: a transform failed (no valid host or URL, or the regex gave up): 500",
			 SV_ARG(req->method), SV_ARG(req->path), rt->rule->priority);
		return -1;
	}
	if (!rt->xf.status)
		return 0;
	rt->log_host = http_request_host(req);
	rt->log_target = route_log_target(req);
	transform_commit(req, &rt->xf);
	return 0;
}

/* --- http_server callbacks --------------------------------------------------------- */

static void on_head(void *cookie, struct http_request *req)
{
	struct router *r = cookie;
	struct route *rt = route_get(r, req);
	const struct http_header *in = http_request_header(req, "x-amzn-trace-id");
	uint8_t rnd[12];

	rng_bytes(r->rng, rnd, sizeof(rnd));
	trace_id_build(&rt->trace, in ? in->value : SV_NULL, in != NULL, req->head.len,
		       (uint32_t)(req->start_wall_us / 1000000), rnd);
	if (sv_eq_cstr(req->method, "TRACE")) {
		rt->front_status = 405;  /* ALB does not support TRACE (§4.4) */
	} else if (fwd_xff_count(req) > FWD_XFF_MAX) {
		rt->front_status = 463;  /* ALB: X-Forwarded-For with more than 30 IPs (§4.4) */
	} else if (sv_eq_cstr(req->path, AUTH_CALLBACK_PATH) && listener_authenticates(rt->listener)) {
		/* ALB takes /oauth2/idpresponse itself on a listener that authenticates. */
		rt->auth_mode = AUTH_CALLBACK;
	} else {
		rt->rule = match_rules(rt->listener, req, NULL, NULL);
		if (rt->rule->action.jwt && route_authenticate(rt, req) < 0)
			rt->front_status = 401;
		else if (!auth_head(r, req, rt))
			return;  /* the authenticate action answers (302, 401) */
		else if (route_transform(rt, req) < 0)
			rt->front_status = 500;
		else if (rt->rule->action.type == ACTION_FORWARD)
			forward_head(r, req, rt);
	}
}

static void on_body(void *cookie, struct http_request *req, const char *p, size_t n)
{
	struct route *rt = req->route;

	(void)cookie;
	if (rt && rt->forwarding && rt->f.ops->body)
		rt->f.ops->body(&rt->f, p, n);
}

static void on_request(void *cookie, struct http_request *req)
{
	struct router *r = cookie;
	struct route *rt = req->route;
	struct outcome o;

	if (rt->forwarding) {
		rt->f.ops->request(&rt->f);   /* answered through forward_done */
		return;
	}
	outcome_init(&o, 0, rt);
	if (rt->www_auth) {
		o.status = 401;
		o.sent = answer_unauthorized(r, req, rt->www_auth);
	} else if (rt->front_status) {
		o.status = rt->front_status;
		o.error_reason = rt->front_reason;
		o.sent = answer_page(r, req, rt->front_status, false);
	} else if (rt->auth_mode != AUTH_NONE) {
		if (auth_answer(r, req, rt, &o))
			return;   /* a callback: answered once the IdP has */
	} else if (rt->rule->action.type == ACTION_FIXED_RESPONSE) {
		answer_fixed(r, req, &o);
	} else if (rt->rule->action.type == ACTION_REDIRECT) {
		answer_redirect(r, req, &o);
	} else {
		/* ALB: a forward with no target group to send to → 503. */
		o.status = 503;
		o.actions = "forward";
		o.error_reason = rt->sticky_error;
		o.sent = answer_page(r, req, 503, false);
	}
	route_finish(r, req, &o);
}

/* The kind stops what it started for the request (without answering). */
static void forward_stop(struct route *rt, struct outcome *o)
{
	if (!rt || !rt->forwarding)
		return;
	rt->forwarding = false;
	rt->f.ops->abort(&rt->f);
	forward_outcome(rt, rt->f.req, o);
}

static void on_error(void *cookie, struct http_request *req, int status)
{
	struct router *r = cookie;
	struct route *rt = req->route;
	struct outcome o;

	/* Before on_head (a head refused): a route to hold the line in
	 * while the answer waits for its client (route_finish). */
	if (!rt)
		rt = route_get(r, req);

	outcome_init(&o, status, rt);
	forward_stop(rt, &o);
	if (rt)
		auth_login_cancel(rt->login);
	o.status = status;
	o.priority = ALOG_PRIORITY_NONE;
	answer_page(r, req, status, true);
	/* With what an answer already under way sent (an HTTP/2 stream reset
	 * for its malformed body once its target's answer had begun). */
	o.sent = req->sent_bytes;
	route_finish(r, req, &o);
}

static void on_abort(void *cookie, struct http_request *req)
{
	struct router *r = cookie;
	struct route *rt = req->route;
	struct outcome o;

	/* ALB logs 460 when the client closes before the answer (§4.4). */
	outcome_init(&o, 460, rt);
	forward_stop(rt, &o);
	if (rt) {
		auth_login_cancel(rt->login);
		rt->login = NULL;
	}
	/* A WebSocket connection is logged when it closes, with its 101 (§1.14). */
	if (o.websocket)
		o.status = 101;
	o.sent = req->sent_bytes;
	route_finish(r, req, &o);
}

/* The answer route_finish held has left lb, or never will. */
static void on_sent(void *cookie, struct http_request *req, bool whole)
{
	struct router *r = cookie;
	struct route *rt = req->route;
	struct outcome o = rt->held;

	/* ALB logs 460 when the client closes before its answer is sent
	 * (§4.4); lb logs so a client that left, reset the stream or kept its
	 * window shut until the idle timeout, as an HTTP/1.1 client that stops
	 * reading a streamed answer, with the bytes that left. */
	if (!whole)
		o.status = 460;
	o.sent = req->sent_bytes;
	route_log(r, req, &o);
	route_put(r, req);
}

static void on_drain(void *cookie, struct http_request *req)
{
	struct route *rt = req->route;

	(void)cookie;
	if (rt && rt->forwarding && rt->f.ops->drain)
		rt->f.ops->drain(&rt->f);
}

/* A request lb must end itself when its drain runs out: its Lambda invocation
 * or its login's exchange with the IdP is still in flight. */
static struct route *first_to_cut(struct router *r)
{
	for (struct route *rt = r->busy; rt; rt = rt->next_busy)
		if (rt->login || (rt->forwarding && lambda_fwd_running(&rt->f)))
			return rt;
	return NULL;
}

unsigned router_cut(struct router *r)
{
	struct route *rt;
	unsigned n = 0;

	/* Each cut ends its request (its route leaves the list) and its answer
	 * may end others on the same connection: look again from the start. */
	for (; (rt = first_to_cut(r)); n++) {
		if (rt->login)
			auth_login_cut(rt->login);   /* on_login_done answers */
		else
			lambda_fwd_cut(&rt->f);
	}
	return n;
}

static const struct http_server_cbs router_cbs = {
	.on_head = on_head,
	.on_body = on_body,
	.on_request = on_request,
	.on_error = on_error,
	.on_abort = on_abort,
	.on_drain = on_drain,
	.on_sent = on_sent,
};

const struct http_server_cbs *router_http_callbacks(void)
{
	return &router_cbs;
}
