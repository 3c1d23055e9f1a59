/*
 * console_record: what the console keeps of each finished request and each
 * invocation — a record in the ring (inspect/reqlog), the CloudWatch-named
 * counters (inspect/metrics), rule hits, per-function counts and one-second
 * chart ticks — then the record goes to the live streams.
 *
 * Only called when admin is configured; it copies what it shows, since the
 * request and its forward are reused as soon as the router is done.
 */
#include "console/console_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "targets/target.h"

const double chart_bounds[CHART_BUCKETS - 1] = {
	0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60,
};

static const char *const invoke_status_names[] = {
	"ok", "function_error", "timeout", "exit", "init_error", "throttled", "unreachable", "not_delivered",
	"rejected",
};

struct chart_tick *console_tick(struct console *c, int64_t wall_s)
{
	struct chart_tick *t = &c->ticks[wall_s % CHART_SECONDS];

	if (t->sec != wall_s) {
		memset(t, 0, sizeof(*t));
		t->sec = wall_s;
	}
	return t;
}

static struct fn_counts *fn_counts(struct console *c, const char *name)
{
	for (size_t i = 0; i < c->nfns; i++)
		if (strcmp(c->fns[i].name, name) == 0)
			return &c->fns[i];
	xgrow(&c->fns, &c->cap_fns, c->nfns + 1, sizeof(*c->fns));
	memset(&c->fns[c->nfns], 0, sizeof(*c->fns));
	c->fns[c->nfns].name = xstrdup(name);
	return &c->fns[c->nfns++];
}

static size_t hit_slot(struct console *c, int listener, int priority)
{
	for (size_t i = 0; i < c->nhits; i++)
		if (c->hits[i].listener == listener && c->hits[i].priority == priority)
			return i;
	xgrow(&c->hits, &c->cap_hits, c->nhits + 1, sizeof(*c->hits));
	c->hits[c->nhits] = (struct rule_hits){ listener, priority, 0 };
	return c->nhits++;
}

/* A hit of the rule: through its number when it is one of the served configuration's. */
static void count_hit(struct console *c, int listener, const struct rule *rule, int priority)
{
	long n = cfg_index_rule(&c->ix, listener, rule);
	size_t i;

	/* (hit_slot may move c->hits: it is called before c->hits is read.) */
	if (n < 0) {
		i = hit_slot(c, listener, priority);
	} else {
		if (c->rule_hit[n] < 0)
			c->rule_hit[n] = (int)hit_slot(c, listener, priority);
		i = (size_t)c->rule_hit[n];
	}
	c->hits[i].hits++;
}

void console_index_free(struct console *c)
{
	for (size_t i = 0; c->lnames && i < c->ix.nlisteners; i++)
		free(c->lnames[i].text);
	cfg_index_free(&c->ix);
	free(c->lnames);
	free(c->tg_series);
	free(c->rule_hit);
	c->lnames = NULL;
	c->tg_series = NULL;
	c->rule_hit = NULL;
}

void console_index(struct console *c)
{
	console_index_free(c);
	cfg_index_init(&c->ix, c->cfg);
	for (int i = 0; i < M_NFAMILIES; i++)
		c->lb_series[i] = -1;
	c->tg_series = xcalloc(c->ix.ntgs * M_NFAMILIES + 1, sizeof(*c->tg_series));
	for (size_t i = 0; i < c->ix.ntgs * M_NFAMILIES; i++)
		c->tg_series[i] = -1;
	c->rule_hit = xcalloc(c->ix.nrules + 1, sizeof(*c->rule_hit));
	for (size_t i = 0; i < c->ix.nrules; i++)
		c->rule_hit[i] = -1;
	c->lnames = xcalloc(c->ix.nlisteners + 1, sizeof(*c->lnames));
}

/* The listener's "address:port" (the port it took when configured with 0), made once. */
static struct sv listener_name(struct console *c, int listener, unsigned port)
{
	struct listener_name *n = &c->lnames[listener];

	if (!n->text || n->port != port) {
		struct buf b = BUF_INIT;

		free(n->text);
		buf_printf(&b, "%s:%u", c->cfg->listeners[listener].address, port);
		n->text = buf_detach(&b, &n->len);
		n->port = port;
	}
	return (struct sv){ n->text, n->len };
}

/* The client's "ip:port" composed in tmp (no printf); NULL p when ip does not fit. */
static struct sv client_name(char tmp[static 96], const char *ip, unsigned port)
{
	char *e = tmp + 96, *q = e;
	size_t n = strlen(ip);

	if (n > 96 - 8)
		return SV_NULL;
	do
		*--q = (char)('0' + port % 10);
	while (port /= 10);
	*--q = ':';
	q -= n;
	memcpy(q, ip, n);
	return (struct sv){ q, (size_t)(e - q) };
}

/* The series of family fam for the load balancer (tg NULL) or a target group. */
static int series(struct console *c, int fam, const struct target_group *tg)
{
	long t = tg ? cfg_index_tg(&c->ix, tg) : -1;
	int *slot = !tg ? &c->lb_series[fam] : t >= 0 ? &c->tg_series[(size_t)t * M_NFAMILIES + (size_t)fam] : NULL;
	int s;

	if (slot && *slot >= 0)
		return *slot;
	s = metrics_series(c->m, c->fam[fam], console_labels(c, tg));
	if (slot)
		*slot = s;
	return s;
}

static void inc(struct console *c, int fam, const struct target_group *tg, double v)
{
	metrics_add(c->m, c->fam[fam], series(c, fam, tg), v);
}

/*
 * CloudWatch's Lambda metrics: Invocations counts every invocation that ran
 * (function errors included), Errors the ones that failed in the function
 * (errors, timeouts, crashes, init failures), Throttles the ones refused
 * for concurrency, which are not Invocations (AWS Lambda metrics docs).
 */
static void observe(struct console *c, const char *function, const struct invoke_result *res)
{
	struct fn_counts *fc = fn_counts(c, function);
	struct chart_tick *t = console_tick(c, time_wall_us() / 1000000);
	bool throttled = res->status == INVOKE_THROTTLED;
	bool error = res->status == INVOKE_FUNCTION_ERROR || res->status == INVOKE_TIMEOUT ||
		     res->status == INVOKE_EXIT || res->status == INVOKE_INIT_ERROR;
	double seconds = (double)res->run_us / 1e6;
	size_t b = 0;

	if (res->status == INVOKE_UNREACHABLE || res->status == INVOKE_REJECTED ||
	    res->status == INVOKE_NOT_DELIVERED)
		return;     /* an endpoint's failure: the function never ran here */
	buf_reset(&c->labels);
	metrics_label(&c->labels, "function", function);
	if (throttled) {
		fc->throttles++;
		t->throttles++;
		metrics_inc(c->m, c->fam[M_THROTTLES], c->labels.p, 1);
		return;
	}
	metrics_label(&c->labels, "version", res->version ? res->version : "$LATEST");
	fc->invocations++;
	t->invocations++;
	metrics_inc(c->m, c->fam[M_INVOCATIONS], c->labels.p, 1);
	metrics_observe(c->m, c->fam[M_DURATION], c->labels.p, seconds);
	metrics_inc(c->m, c->fam[M_ERRORS], c->labels.p, error ? 1 : 0);
	if (error) {
		fc->errors++;
		t->errors++;
	}
	if (res->cold)
		fc->cold_starts++;
	while (b < ARRAY_LEN(chart_bounds) && seconds > chart_bounds[b])
		b++;
	t->duration[b]++;
}

void console_observe_invocation(void *cookie, const char *function, const struct invoke_result *res)
{
	struct console *c = cookie;

	console_lock(c);
	observe(c, function, res);
	console_unlock(c);
}

/* ALB's metrics of one request (CloudWatch AWS/ApplicationELB). */
static void count_request(struct console *c, const struct console_req *q, int64_t wall_s, int action)
{
	const struct alog_entry *e = q->log;
	const struct target_group *tg = q->tg;
	int elb = e->target_status > 0 ? 0 : e->elb_status;   /* an answer lb made itself */
	struct chart_tick *t = console_tick(c, wall_s);

	inc(c, M_REQUESTS, NULL, 1);
	inc(c, M_PROCESSED_BYTES, NULL, (double)(e->received_bytes + e->sent_bytes));
	t->requests++;
	if (elb >= 300 && elb < 600)
		inc(c, M_ELB_3XX + elb / 100 - 3, NULL, 1);
	if (elb == 500 || elb == 502 || elb == 503 || elb == 504)
		inc(c, elb == 500 ? M_ELB_500 : M_ELB_502 + elb - 502, NULL, 1);
	if (elb >= 500 && elb < 600)
		t->elb_5xx++;
	if (action == RS_FIXED_RESPONSE)
		inc(c, M_FIXED, NULL, 1);
	if (action == RS_REDIRECT)
		inc(c, M_REDIRECT, NULL, 1);
	if (!tg)
		return;
	inc(c, M_REQUESTS_TG, tg, 1);
	if (e->target_status >= 200 && e->target_status < 600)
		inc(c, M_TARGET_2XX + e->target_status / 100 - 2, tg, 1);
	if (e->target_status >= 500)
		t->target_5xx++;
	if (e->target_processing >= 0)
		metrics_observe_at(c->m, c->fam[M_TARGET_TIME], series(c, M_TARGET_TIME, tg), e->target_processing);
	/* ALB: LambdaUserError counts requests failed by the function's answer or errors. */
	if (e->error_reason && (strcmp(e->error_reason, "LambdaUnhandled") == 0 ||
				strcmp(e->error_reason, "LambdaInvalidResponse") == 0 ||
				strcmp(e->error_reason, "LambdaResponseTooLarge") == 0))
		inc(c, M_LAMBDA_USER_ERROR, tg, 1);
}

static void set_sv(struct console *c, struct reqrec *r, enum rec_field f, struct sv v)
{
	if (v.p)
		reqlog_set_small(c->log, r, f, v.p, v.n);
}

static inline void set_in_head(struct console *c, struct reqrec *r, enum rec_field f, const struct http_request *req,
			struct sv v)
{
	if (v.p)
		reqlog_set_in(c->log, r, f, RF_HEAD, req->head.p, v.p, v.n);
}

/* actions_executed as one of rec_statics when it is a single action; -1 otherwise. */
static int action_word(const char *a)
{
	if (!a)
		return -1;
	if (a[0] == 'f' && a[1] == 'i' && strcmp(a, "fixed-response") == 0)
		return RS_FIXED_RESPONSE;
	if (a[0] == 'f' && a[1] == 'o' && strcmp(a, "forward") == 0)
		return RS_FORWARD;
	if (a[0] == 'r' && strcmp(a, "redirect") == 0)
		return RS_REDIRECT;
	return -1;
}

static void set_str(struct console *c, struct reqrec *r, enum rec_field f, const char *s)
{
	if (s)
		reqlog_set_small(c->log, r, f, s, strlen(s));
}

/* The request's HTTP version, as http_version_str writes it (the access log's), as one of rec_statics. */
static void set_version(struct console *c, struct reqrec *r, int version)
{
	int s = version == 11 ? RS_HTTP11 : version == 10 ? RS_HTTP10 : version == 20 ? RS_HTTP20
		: version == 9 ? RS_HTTP09 : -1;

	if (s >= 0)
		reqlog_set_static(r, RF_VERSION, (enum rec_static)s);
	else
		set_str(c, r, RF_VERSION, http_version_str(version));
}

static void set_headers(struct console *c, struct reqrec *r, const struct http_header *h, size_t n)
{
	buf_reset(&c->scratch);
	for (size_t i = 0; i < n; i++)
		buf_printf(&c->scratch, "%.*s: %.*s\n", SV_ARG(h[i].name), SV_ARG(h[i].value));
	reqlog_set(c->log, r, RF_FWD_HEADERS, c->scratch.p ? c->scratch.p : "", c->scratch.len);
}

/*
 * An HTTP/2 request's head as the console shows it and a replay sends it:
 * "METHOD PATH HTTP/2.0" then its fields as "name: value" lines (:authority
 * as Host, cookie crumbs joined — the request lb itself saw), CRLF-ended. Its
 * req->head holds the fields' bytes run together, readable by no one else.
 */
static void set_h2_head(struct console *c, struct reqrec *r, const struct http_request *req)
{
	buf_reset(&c->scratch);
	buf_printf(&c->scratch, "%.*s %.*s HTTP/2.0\r\n", SV_ARG(req->method), SV_ARG(req->target));
	for (size_t i = 0; i < req->nheaders; i++)
		buf_printf(&c->scratch, "%.*s: %.*s\r\n", SV_ARG(req->headers[i].name), SV_ARG(req->headers[i].value));
	buf_append(&c->scratch, "\r\n", 2);
	reqlog_set(c->log, r, RF_HEAD, c->scratch.p, c->scratch.len);
}

static void record_lambda(struct console *c, struct reqrec *r, const struct forward *f)
{
	const struct lambda_fwd *l = &f->lambda;
	const struct lambda_rec *lr = &l->rec;

	r->lambda = true;
	set_str(c, r, RF_FUNCTION, f->tg->function ? f->tg->function->name : NULL);
	set_str(c, r, RF_QUALIFIER, f->tg->qualifier ? f->tg->qualifier : "");
	if (!f->out.dispatch_us)
		return;     /* never invoked: answered at the head (413, 400, 503) */
	set_headers(c, r, l->headers.v, l->headers.n);
	reqlog_set(c->log, r, RF_EVENT, l->event.p ? l->event.p : "", l->event.len);
	if (!lr->invoked)
		return;
	r->cold = lr->cold;
	r->t_init = lr->wait_us / 1e6;
	r->t_invoke = lr->run_us / 1e6;
	set_str(c, r, RF_FN_VERSION, lr->version);
	set_str(c, r, RF_REQUEST_ID, lr->request_id);
	set_str(c, r, RF_INVOKE_STATUS, (size_t)lr->status < ARRAY_LEN(invoke_status_names)
						 ? invoke_status_names[lr->status] : "unknown");
	reqlog_set(c->log, r, RF_RESULT, lr->result.p ? lr->result.p : "", lr->result.len);
	reqlog_set(c->log, r, RF_LOG, lr->log.p ? lr->log.p : "", lr->log.len);
}

void console_record(struct console *c, const struct console_req *q)
{
	const struct http_request *req = q->req;
	const struct alog_entry *e = q->log;
	struct reqrec *r;
	const struct config *cfg;
	char tmp[96];
	struct sv client;
	int action;
	int64_t took = time_mono_us() - req->start_mono_us;
	/* now on the wall clock, for the chart's second: one clock read, not two */
	int64_t wall_s = (req->start_wall_us + took) / 1000000;
	double total = (double)took / 1e6;

	console_lock(c);
	if (!c->log || !c->cfg) {
		console_unlock(c);   /* a worker's request as a reload turns the console off */
		return;
	}
	r = reqlog_next(c->log);
	cfg = c->cfg;

	r->time_us = req->start_wall_us;
	r->status = e->elb_status;
	r->target_status = e->target_status;
	r->priority = e->matched_rule_priority >= 0 ? e->matched_rule_priority : -1;
	r->listener = req->listener;
	r->websocket = e->type && e->type[0] == 'w';
	r->received = e->received_bytes;
	r->sent = e->sent_bytes;
	r->t_request = e->request_processing;
	r->t_target = e->target_processing;
	r->t_response = e->response_processing;
	r->t_total = total;
	r->body_follows = req->framing != HTTP_FRAMING_NONE;
	if (req->https && req->tls) {
		r->https = true;
		r->client_cert_required = req->tls->mtls_mode == MTLS_VERIFY;
		set_str(c, r, RF_SNI, req->tls->sni);
	}
	if (req->version == 20) {
		/* An HTTP/2 head is no text: its fields, shown as HTTP/1 lines. */
		set_h2_head(c, r, req);
		set_sv(c, r, RF_METHOD, e->method);
		set_sv(c, r, RF_TARGET, e->request_target);
		set_sv(c, r, RF_HOST, e->host);
	} else {
		reqlog_set_small(c->log, r, RF_HEAD, req->head.p ? req->head.p : "", req->head.len);
		/* Method, target and (nearly always) host are bytes of the head: kept as places in its copy. */
		set_in_head(c, r, RF_METHOD, req, e->method);
		set_in_head(c, r, RF_TARGET, req, e->request_target);
		set_in_head(c, r, RF_HOST, req, e->host);
	}
	set_version(c, r, req->version);
	client = client_name(tmp, e->client_ip, e->client_port);
	if (client.p)
		reqlog_set_small(c->log, r, RF_CLIENT, client.p, client.n);
	else
		reqlog_set_num(c->log, r, RF_CLIENT, e->client_ip, e->client_port);
	if (req->listener >= 0 && (size_t)req->listener < cfg->nlisteners) {
		struct sv l = listener_name(c, req->listener, req->local_port);

		reqlog_set_small(c->log, r, RF_LISTENER, l.p, l.n);
	}
	if (req->keep_body)
		reqlog_set(c->log, r, RF_BODY, req->body.p ? req->body.p : "", req->body.len);
	if (q->rule && r->priority >= 0) {
		if (q->rule->priority == 0)
			reqlog_set_static(r, RF_RULE, RS_DEFAULT);
		else
			reqlog_set_num(c->log, r, RF_RULE, q->rule->pos.file ? q->rule->pos.file : "",
				       q->rule->pos.line);
		count_hit(c, req->listener, q->rule, r->priority);
	}
	action = action_word(e->actions_executed);
	if (action >= 0)
		reqlog_set_static(r, RF_ACTION, (enum rec_static)action);
	else
		set_str(c, r, RF_ACTION, e->actions_executed);
	set_str(c, r, RF_TARGET_GROUP, q->tg ? q->tg->name : NULL);
	set_str(c, r, RF_TARGET_ADDR, e->target);
	set_str(c, r, RF_ERROR_REASON, e->error_reason);
	set_sv(c, r, RF_REDIRECT_URL, e->redirect_url);
	set_sv(c, r, RF_TRACE_ID, e->trace_id);
	if (q->f && q->tg && q->tg->target_type == TARGET_LAMBDA)
		record_lambda(c, r, q->f);
	else if (q->f && q->f->out.dispatch_us && q->f->http.head.len)
		reqlog_set(c->log, r, RF_FWD_HEADERS, q->f->http.head.p, q->f->http.head.len);
	count_request(c, q, wall_s, action);
	if (c->threaded) {
		console_unlock(c);
		console_wake(c);     /* main's loop feeds the live streams */
		return;
	}
	console_broadcast(c, r);
}

/* --- summaries --------------------------------------------------------------------------- */

static json_t *opt_str(const struct reqrec *r, enum rec_field f)
{
	struct sv v = rec_get(r, f);

	/* A path, Host or target address may hold any bytes: shown, not dropped as json_stringn would. */
	return rec_has(r, f) ? console_json_text(v) : json_null();
}

static json_t *seconds(double s)
{
	return s >= 0 ? json_real(s) : json_null();
}

json_t *console_summary(const struct reqrec *r)
{
	char when[28];
	json_t *o = json_object();

	time_iso8601_us(r->time_us, when);
	json_object_set_new(o, "id", json_integer((json_int_t)r->id));
	json_object_set_new(o, "time", json_string(when));
	json_object_set_new(o, "method", opt_str(r, RF_METHOD));
	json_object_set_new(o, "target", opt_str(r, RF_TARGET));
	json_object_set_new(o, "host", opt_str(r, RF_HOST));
	json_object_set_new(o, "client", opt_str(r, RF_CLIENT));
	json_object_set_new(o, "listener", opt_str(r, RF_LISTENER));
	json_object_set_new(o, "status", json_integer(r->status));
	json_object_set_new(o, "target_status", r->target_status > 0 ? json_integer(r->target_status) : json_null());
	json_object_set_new(o, "rule_priority", r->priority >= 0 ? json_integer(r->priority) : json_null());
	json_object_set_new(o, "rule", opt_str(r, RF_RULE));
	json_object_set_new(o, "action", opt_str(r, RF_ACTION));
	json_object_set_new(o, "target_group", opt_str(r, RF_TARGET_GROUP));
	json_object_set_new(o, "target_address", opt_str(r, RF_TARGET_ADDR));
	json_object_set_new(o, "function", opt_str(r, RF_FUNCTION));
	json_object_set_new(o, "function_version", opt_str(r, RF_FN_VERSION));
	json_object_set_new(o, "cold", r->lambda && rec_has(r, RF_REQUEST_ID) ? json_boolean(r->cold) : json_null());
	json_object_set_new(o, "error_reason", opt_str(r, RF_ERROR_REASON));
	json_object_set_new(o, "duration", seconds(r->t_total));
	json_object_set_new(o, "trace_id", opt_str(r, RF_TRACE_ID));
	return o;
}
