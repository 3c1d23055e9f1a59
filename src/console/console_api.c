/*
 * console_api: /api/... — JSON for the console and for tests.
 *
 *   GET /api/requests?function=&rule=&status=&header=Name:value&target_group=&since=&limit=
 *   GET /api/requests/ID          one request whole: head, body, event, result, log, timing
 *   GET /api/rules                listeners and their rules, with hit counts
 *   GET /api/target-groups        target groups and their targets' health
 *   GET /api/functions            functions, versions, aliases, sandboxes, counts
 *   GET /api/explain?url=&method=&header=   `lb explain` for a URL
 *   GET /api/charts               per-second counts of the last minutes
 *   POST /api/requests/ID/replay  the request sent again to its listener (console_replay.c)
 *
 * Secrets are masked here, on the way out (inspect/mask.h): the ring keeps
 * what was received, so `mask_secrets: false` shows it as it was.
 */
#include "console/console_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "alb/health_state.h"
#include "explain.h"
#include "inspect/mask.h"
#include "lambda/lambda.h"
#include "net/http_server.h"
#include "targets/health.h"
#include "targets/targets.h"

#define LIST_DEFAULT 100

/* --- query strings ------------------------------------------------------------------- */

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = ascii_lower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* The nth value of name in a query (percent-decoded, '+' as space) into out; false if absent. */
static bool query_get(struct sv query, const char *name, size_t nth, struct buf *out)
{
	size_t i = 0, n = strlen(name);

	if (!query.p)
		return false;
	while (i <= query.n) {
		const char *amp = memchr(query.p + i, '&', query.n - i);
		size_t end = amp ? (size_t)(amp - query.p) : query.n;
		struct sv part = { query.p + i, end - i }, key, val;

		val = sv_cut(part, '=', &key);
		if (key.n == n && memcmp(key.p, name, n) == 0 && nth-- == 0) {
			buf_reset(out);
			for (size_t k = 0; val.p && k < val.n; k++) {
				int hi, lo;
				if (val.p[k] == '+')
					buf_putc(out, ' ');
				else if (val.p[k] == '%' && k + 2 < val.n &&
					 (hi = hexval(val.p[k + 1])) >= 0 && (lo = hexval(val.p[k + 2])) >= 0) {
					buf_putc(out, (char)(hi * 16 + lo));
					k += 2;
				} else
					buf_putc(out, val.p[k]);
			}
			buf_cstr(out);
			return true;
		}
		if (!amp)
			break;
		i = end + 1;
	}
	return false;
}

/* --- masking on the way out --------------------------------------------------------------- */

static json_t *masked_text(struct console *c, struct sv v, bool json)
{

	if (!c->mask)
		return console_json_text(v);
	buf_reset(&c->scratch);
	if (json)
		mask_json(v, &c->scratch);
	else
		mask_head(v, &c->scratch);
	return console_json_text((struct sv){ c->scratch.p, c->scratch.len });
}

/* `lb explain`'s text: header lines, then the event's JSON. */
static json_t *masked_explain(struct console *c, struct sv text)
{
	struct buf heads = BUF_INIT;

	if (!c->mask)
		return console_json_text(text);
	mask_head(text, &heads);
	buf_reset(&c->scratch);
	mask_json((struct sv){ heads.p ? heads.p : "", heads.len }, &c->scratch);
	buf_release(&heads);
	return console_json_text((struct sv){ c->scratch.p, c->scratch.len });
}

/* A large field: {"text": ..., "truncated": bool} and, for whole JSON, "json": the document. */
static json_t *large_field(struct console *c, const struct reqrec *r, enum rec_field f, bool is_json)
{
	json_t *o = json_object(), *doc;
	struct sv v = rec_get(r, f);
	const char *text;

	if (!rec_has(r, f)) {
		json_decref(o);
		return json_null();
	}
	json_object_set_new(o, "text", masked_text(c, v, is_json));
	json_object_set_new(o, "truncated", json_boolean(rec_truncated(r, f)));
	text = json_string_value(json_object_get(o, "text"));
	if (is_json && !rec_truncated(r, f) && text && (doc = json_loads(text, JSON_DECODE_ANY, NULL)))
		json_object_set_new(o, "json", doc);
	return o;
}

/* --- requests ----------------------------------------------------------------------------- */

/* Whether the request's head has a header name (case-insensitive) with value (exact; NULL: any). */
static bool head_has(struct sv head, struct sv name, const struct sv *value)
{
	struct sv line, n, v;

	for (size_t i = 0; sv_next_line(head, &i, &line);) {
		v = sv_cut(line, ':', &n);
		if (v.p && sv_eq_nocase(n, name) && (!value || sv_eq(sv_trim(v), *value)))
			return true;
	}
	return false;
}

static bool status_matches(int status, const char *want)
{
	/* "502", or a class: "5xx" */
	if (strlen(want) == 3 && (want[1] == 'x' || want[1] == 'X'))
		return status / 100 == want[0] - '0';
	return status == atoi(want);
}

struct filters {
	struct buf function, rule, status, header, tg;
	bool has_function, has_rule, has_status, has_header, has_tg;
	uint64_t since;
	size_t limit;
};

static bool field_is(const struct reqrec *r, enum rec_field f, const char *want)
{
	return rec_has(r, f) && sv_eq_cstr(rec_get(r, f), want);
}

static bool keep(const struct reqrec *r, const struct filters *fl)
{
	if (r->id <= fl->since)
		return false;
	if (fl->has_function && !field_is(r, RF_FUNCTION, buf_cstr(&fl->function)))
		return false;
	if (fl->has_tg && !field_is(r, RF_TARGET_GROUP, buf_cstr(&fl->tg)))
		return false;
	if (fl->has_rule) {
		/* a priority ("10"), "default", or the rule's "file:line" */
		const char *w = buf_cstr(&fl->rule);
		bool num = *w && strspn(w, "0123456789") == strlen(w);
		if (num ? r->priority != atoi(w) : !field_is(r, RF_RULE, w))
			return false;
	}
	if (fl->has_status && !status_matches(r->status, buf_cstr(&fl->status)))
		return false;
	if (fl->has_header) {
		struct sv name, value = sv_cut((struct sv){ fl->header.p ? fl->header.p : "", fl->header.len }, ':', &name);
		struct sv v = sv_trim(value);
		if (!head_has(rec_get(r, RF_HEAD), sv_trim(name), value.p ? &v : NULL))
			return false;
	}
	return true;
}

static void filters_parse(struct sv q, struct filters *fl)
{
	struct buf tmp = BUF_INIT;

	fl->limit = LIST_DEFAULT;
	fl->has_function = query_get(q, "function", 0, &fl->function);
	fl->has_rule = query_get(q, "rule", 0, &fl->rule);
	fl->has_status = query_get(q, "status", 0, &fl->status);
	fl->has_header = query_get(q, "header", 0, &fl->header);
	fl->has_tg = query_get(q, "target_group", 0, &fl->tg);
	if (query_get(q, "since", 0, &tmp))
		fl->since = strtoull(buf_cstr(&tmp), NULL, 10);
	if (query_get(q, "limit", 0, &tmp) && atoi(buf_cstr(&tmp)) > 0)
		fl->limit = (size_t)atoi(buf_cstr(&tmp));
	buf_release(&tmp);
}

static void filters_release(struct filters *fl)
{
	buf_release(&fl->function);
	buf_release(&fl->rule);
	buf_release(&fl->status);
	buf_release(&fl->header);
	buf_release(&fl->tg);
}

/*
 * GET /api/requests: the summaries of the records the filters keep, newest
 * first, from the newest record when the request came down to the oldest the
 * ring still has. A list of up to LIST_WHOLE bytes (LIST_SCAN records looked
 * at) is one answer, as it is at the default limit; a longer one is a
 * streamed answer, made a slice of LIST_SLICE bytes at a time, the next once
 * the client has read most of the last (on_drain) or, for a client that
 * keeps up, after the event loop has polled for everyone's bytes. So a
 * client asking for a history of thousands costs lb about HTTP_SERVER_HIGH_WATER
 * of memory however slowly it reads, and the listeners are served between
 * slices (about 2 ms each). A new history (a reload that changed its size)
 * ends the list where it is.
 */
#define LIST_WHOLE (256 * 1024)
#define LIST_SLICE (64 * 1024)
#define LIST_SCAN 4096

struct request_list {
	struct filters fl;
	uint64_t next_id;       /* the next record to look at; lower ids are older */
	uint64_t last_id;       /* the newest when the request came: the answer's last_id */
	size_t history, count;
	uint64_t gen;           /* c->log_gen when it started */
	struct buf out;         /* the slice being made */
	struct event *more;     /* the next slice, for a client that keeps up */
};

/* Adds up to max bytes to l->out; true when that ends the list (its closing part added). */
static bool list_fill(struct console *c, struct request_list *l, size_t max)
{
	const struct reqrec *r;

	for (size_t scanned = 0; l->out.len < max && scanned < LIST_SCAN; scanned++) {
		if (l->count >= l->fl.limit || l->next_id <= l->fl.since || l->gen != c->log_gen || !c->log ||
		    !(r = reqlog_find(c->log, l->next_id))) {
			buf_printf(&l->out, "],\"last_id\":%llu,\"history\":%zu}", (unsigned long long)l->last_id,
				   l->history);
			return true;
		}
		l->next_id--;
		if (keep(r, &l->fl)) {
			json_t *doc = console_summary(r);
			char *text = json_dumps(doc, JSON_COMPACT);

			if (l->count++)
				buf_putc(&l->out, ',');
			buf_puts(&l->out, text);
			free(text);
			json_decref(doc);
		}
	}
	return false;
}

static void list_free(struct subscriber *s)
{
	struct request_list *l = s->list;

	if (l->more)
		event_free(l->more);
	filters_release(&l->fl);
	buf_release(&l->out);
	free(l);
	free(s);
}

/* Writes the slice made; the list ends, or goes on now or once drained. */
static void list_send(struct subscriber *s, bool done)
{
	struct request_list *l = s->list;
	struct http_request *req = s->req;
	size_t pending = http_server_stream_body(req, l->out.p ? l->out.p : "", l->out.len);

	buf_reset(&l->out);
	if (done) {
		req->route = NULL;
		http_server_stream_end(req);
		list_free(s);
	} else if (pending <= HTTP_SERVER_HIGH_WATER) {
		/* A timer, not event_active: libevent runs events activated while
		 * it runs active ones in the same pass, which would make the whole
		 * list before the next poll for anyone's bytes. */
		event_add(l->more, &(struct timeval){ 0, 0 });
	}
	/* else on_drain comes once the client has read most of it */
}

static void on_list_more(evutil_socket_t fd, short what, void *arg)
{
	struct subscriber *s = arg;

	(void)fd;
	(void)what;
	console_list_drained(s);
}

void console_list_drained(struct subscriber *s)
{
	struct console *c = s->c;

	console_lock(c);
	list_send(s, list_fill(c, s->list, LIST_SLICE));
	console_unlock(c);
}

void console_list_abort(struct subscriber *s)
{
	s->req->route = NULL;
	list_free(s);
}

static void list_requests(struct console *c, struct http_request *req)
{
	char date[30];
	struct http_header headers[] = {
		{ SV("Date"), { date, 29 } },
		{ SV("Content-Type"), SV("application/json") },
		{ SV("X-Content-Type-Options"), SV("nosniff") },
		{ SV("Cache-Control"), SV("no-store") },
	};
	struct http_stream_head h = { 200, SV("OK"), headers, ARRAY_LEN(headers), HTTP_FRAMING_CHUNKED, false,
				      false };
	struct request_list *l = xcalloc(1, sizeof(*l));
	struct subscriber *s;

	filters_parse(req->query, &l->fl);
	l->last_id = l->next_id = reqlog_last_id(c->log);
	l->history = reqlog_history(c->log);
	l->gen = c->log_gen;
	buf_puts(&l->out, "{\"requests\":[");
	s = xcalloc(1, sizeof(*s));
	s->c = c;
	s->req = req;
	s->list = l;
	if (list_fill(c, l, LIST_WHOLE)) {
		console_respond(req, 200, "application/json", l->out.p, l->out.len);
		list_free(s);
		return;
	}
	l->more = event_new(c->base, -1, 0, on_list_more, s);
	req->route = s;
	time_http_date(time_wall_us() / 1000000, date);
	http_server_stream_head(req, &h);
	/* HEAD: the head is the whole answer. */
	list_send(s, sv_eq_cstr(req->method, "HEAD"));
}

/* The request's header lines, parsed from its head, masked: [[name, value], ...]. */
static json_t *header_pairs(struct console *c, struct sv head)
{
	json_t *a = json_array();
	bool first = true;
	struct sv line, n, v;

	for (size_t i = 0; sv_next_line(head, &i, &line);) {
		v = sv_cut(line, ':', &n);
		if (!first && v.p && n.n) {
			buf_reset(&c->scratch);
			if (c->mask)
				mask_header_value(n, sv_trim(v), &c->scratch);
			else
				buf_append(&c->scratch, sv_trim(v).p, sv_trim(v).n);
			json_array_append_new(a, json_pack("[oo]", console_json_text(n),
							   console_json_text((struct sv){ c->scratch.p, c->scratch.len })));
		}
		first = false;
	}
	return a;
}

static json_t *timing(const struct reqrec *r)
{
	json_t *t = json_object();
	const double v[] = { r->t_request, r->t_target, r->t_response, r->t_total, r->t_init, r->t_invoke };
	const char *k[] = { "request_processing", "target_processing", "response_processing", "total",
			    "queued", "invocation" };

	for (size_t i = 0; i < ARRAY_LEN(v); i++)
		json_object_set_new(t, k[i], v[i] >= 0 ? json_real(v[i]) : json_null());
	return t;
}

/*
 * Why the matched rule matched and the rules before it did not: `lb explain`
 * run on the recorded request (method, Host and target, headers, body, client
 * address) against the configuration being served now.
 */
static json_t *rule_evaluation(struct console *c, const struct reqrec *r)
{
	struct sv head = rec_get(r, RF_HEAD), host = rec_get(r, RF_HOST), listener = rec_get(r, RF_LISTENER);
	struct buf url = BUF_INIT, method = BUF_INIT, ip = BUF_INIT, mem = BUF_INIT;
	const char **headers = xcalloc(128, sizeof(*headers));
	struct explain_request er = { 0 };
	struct lb_err err = { "" };
	const char *colon = listener.n ? memrchr(listener.p, ':', listener.n) : NULL;
	size_t at[128], i = 0;
	char *text = NULL;
	size_t n = 0;
	FILE *f;
	json_t *out;

	if (!rec_has(r, RF_METHOD) || rec_truncated(r, RF_HEAD) || !colon) {
		free(headers);
		return json_null();
	}
	buf_printf(&url, "http://%.*s:%.*s%.*s", SV_ARG(host), (int)(listener.p + listener.n - colon - 1), colon + 1,
		   SV_ARG(rec_get(r, RF_TARGET)));
	buf_printf(&method, "%.*s", SV_ARG(rec_get(r, RF_METHOD)));
	buf_printf(&ip, "%.*s", (int)strcspn(rec_get(r, RF_CLIENT).p, ":"), rec_get(r, RF_CLIENT).p);
	/* Header lines after the request line, but Host (the URL carries it) and framing (explain adds it). */
	for (const char *p = memchr(head.p, '\n', head.n); p && er.nheaders < 128; p = memchr(p + 1, '\n', (size_t)(head.p + head.n - p - 1))) {
		struct sv line = { p + 1, strcspn(p + 1, "\r\n") }, name;

		if (!line.n || !sv_cut(line, ':', &name).p)
			continue;
		name = sv_trim(name);
		if (sv_eq_cstr_nocase(name, "host") || sv_eq_cstr_nocase(name, "content-length") ||
		    sv_eq_cstr_nocase(name, "transfer-encoding"))
			continue;
		at[er.nheaders++] = mem.len;
		buf_append(&mem, line.p, line.n);
		buf_putc(&mem, '\0');
	}
	for (i = 0; i < er.nheaders; i++)
		headers[i] = mem.p + at[i];
	er.url = buf_cstr(&url);
	er.ports = c->ports;
	er.method = buf_cstr(&method);
	er.headers = headers;
	er.source_ip = buf_cstr(&ip);
	if (rec_get(r, RF_BODY).n && !rec_truncated(r, RF_BODY))
		er.body = rec_get(r, RF_BODY).p;
	f = open_memstream(&text, &n);
	if (explain_print(c->cfg, &er, f, &err) < 0)
		fprintf(f, "%s\n", err.msg);
	fclose(f);
	out = masked_explain(c, (struct sv){ text, n });
	free(text);
	free(headers);
	buf_release(&url);
	buf_release(&method);
	buf_release(&ip);
	buf_release(&mem);
	return out;
}

static void show_request(struct console *c, struct http_request *req, uint64_t id)
{
	const struct reqrec *r = reqlog_find(c->log, id);
	json_t *doc, *rq, *lam;

	if (!r) {
		console_respond_json(c, req, 404, json_pack("{s:s}", "error", "no such request (it may have left the history)"));
		return;
	}
	doc = console_summary(r);
	rq = json_object();
	json_object_set_new(rq, "head", large_field(c, r, RF_HEAD, false));
	json_object_set_new(rq, "headers", header_pairs(c, rec_get(r, RF_HEAD)));
	json_object_set_new(rq, "body", large_field(c, r, RF_BODY, false));
	json_object_set_new(rq, "received_bytes", json_integer((json_int_t)r->received));
	json_object_set_new(doc, "request", rq);
	json_object_set_new(doc, "sent_bytes", json_integer((json_int_t)r->sent));
	json_object_set_new(doc, "headers_to_target", large_field(c, r, RF_FWD_HEADERS, false));
	json_object_set_new(doc, "redirect_url", rec_has(r, RF_REDIRECT_URL) ? console_json_text(rec_get(r, RF_REDIRECT_URL)) : json_null());
	json_object_set_new(doc, "timing", timing(r));
	json_object_set_new(doc, "rule_evaluation", rule_evaluation(c, r));
	if (r->lambda) {
		lam = json_object();
		json_object_set_new(lam, "function", json_string(rec_get(r, RF_FUNCTION).p));
		json_object_set_new(lam, "qualifier", json_string(rec_get(r, RF_QUALIFIER).p));
		json_object_set_new(lam, "version", rec_has(r, RF_FN_VERSION) ? json_string(rec_get(r, RF_FN_VERSION).p) : json_null());
		json_object_set_new(lam, "request_id", rec_has(r, RF_REQUEST_ID) ? json_string(rec_get(r, RF_REQUEST_ID).p) : json_null());
		json_object_set_new(lam, "status", rec_has(r, RF_INVOKE_STATUS) ? json_string(rec_get(r, RF_INVOKE_STATUS).p) : json_null());
		json_object_set_new(lam, "cold", rec_has(r, RF_REQUEST_ID) ? json_boolean(r->cold) : json_null());
		json_object_set_new(lam, "event", large_field(c, r, RF_EVENT, true));
		json_object_set_new(lam, "result", large_field(c, r, RF_RESULT, true));
		json_object_set_new(lam, "log", large_field(c, r, RF_LOG, false));
		json_object_set_new(doc, "lambda", lam);
	} else {
		json_object_set_new(doc, "lambda", json_null());
	}
	json_object_set_new(doc, "body_limit", json_integer((json_int_t)reqlog_body_limit(c->log)));
	console_respond_json(c, req, 200, doc);
}

/* --- configuration views ------------------------------------------------------------------- */

/* What a describe function prints, as a JSON string. */
static json_t *described(void (*fn)(const void *, FILE *), const void *what)
{
	char *text = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&text, &n);
	json_t *s;

	fn(what, f);
	fclose(f);
	while (n && (text[n - 1] == '\n' || text[n - 1] == ' '))
		n--;
	s = json_stringn(text, n);
	free(text);
	return s ? s : json_string("");
}

static void describe_condition(const void *c, FILE *f)
{
	config_describe_condition(c, f);
}

static void describe_action(const void *a, FILE *f)
{
	config_describe_action(a, f);
}

static uint64_t hits_of(const struct console *c, int listener, int priority)
{
	for (size_t i = 0; i < c->nhits; i++)
		if (c->hits[i].listener == listener && c->hits[i].priority == priority)
			return c->hits[i].hits;
	return 0;
}

static json_t *rule_json(const struct console *c, int li, const struct rule *rule)
{
	json_t *o = json_object(), *conds = json_array();

	json_object_set_new(o, "priority", json_integer(rule->priority));
	json_object_set_new(o, "default", json_boolean(rule->priority == 0));
	if (rule->pos.file)
		json_object_set_new(o, "source", json_sprintf("%s:%d", rule->pos.file, rule->pos.line));
	for (size_t i = 0; i < rule->nconditions; i++)
		json_array_append_new(conds, described(describe_condition, &rule->conditions[i]));
	json_object_set_new(o, "conditions", conds);
	json_object_set_new(o, "action", described(describe_action, &rule->action));
	json_object_set_new(o, "hits", json_integer((json_int_t)hits_of(c, li, rule->priority)));
	return o;
}

static void list_rules(struct console *c, struct http_request *req)
{
	const struct config *cfg = c->cfg;
	json_t *ls = json_array();

	for (size_t i = 0; i < cfg->nlisteners; i++) {
		const struct listener_cfg *l = &cfg->listeners[i];
		json_t *o = json_object(), *rules = json_array();

		json_object_set_new(o, "address", json_string(l->address));
		/* The port it took, for a `port: 0` one. */
		json_object_set_new(o, "port", json_integer(c->ports && c->ports[i] ? c->ports[i] : l->port));
		for (size_t k = 0; k < l->nrules; k++)
			json_array_append_new(rules, rule_json(c, (int)i, &l->rules[k]));
		json_array_append_new(rules, rule_json(c, (int)i, &l->default_rule));
		json_object_set_new(o, "rules", rules);
		json_array_append_new(ls, o);
	}
	console_respond_json(c, req, 200, json_pack("{s:o}", "listeners", ls));
}

static void add_target(void *cookie, const char *key, const struct health_state *hs, unsigned in_flight)
{
	const char *reason = health_reason(hs);

	json_array_append_new(cookie, json_pack("{s:s,s:s,s:s?,s:i}", "id", key, "state", health_name(hs->health),
						"reason", reason, "in_flight", (int)in_flight));
}

static void list_target_groups(struct console *c, struct http_request *req)
{
	const struct config *cfg = c->cfg;
	static const char *const kinds[] = { "lambda", "instance", "ip" };
	json_t *gs = json_array();

	for (size_t i = 0; i < cfg->ntarget_groups; i++) {
		const struct target_group *tg = &cfg->target_groups[i];
		json_t *targets = json_array();

		if (tg->target_type == TARGET_LAMBDA && tg->ntargets) {
			const struct health_state *hs = health_lambda_state(c->health, tg->name);
			/* ALB: a Lambda target with health checks off is `unavailable`. */
			json_array_append_new(targets, json_pack("{s:s,s:s,s:s?}", "id", tg->targets[0], "state",
								 hs ? health_name(hs->health) : "unavailable", "reason",
								 hs ? health_reason(hs) : "Target.HealthCheckDisabled"));
		} else if (tg->target_type != TARGET_LAMBDA) {
			targets_each(c->targets, tg, add_target, targets);
		}
		json_array_append_new(gs, json_pack("{s:s,s:s,s:s,s:b,s:o}", "name", tg->name, "arn", tg->arn,
						    "target_type", kinds[tg->target_type], "health_check",
						    tg->health_check.enabled, "targets", targets));
	}
	console_respond_json(c, req, 200, json_pack("{s:o}", "target_groups", gs));
}

static json_t *env_json(const struct console *c, const struct function_settings *s)
{
	json_t *o = json_object();

	for (size_t i = 0; i < s->nenv; i++)
		json_object_set_new(o, s->env[i].name, json_string(c->mask && mask_env_is_secret(s->env[i].name)
								   ? "***" : s->env[i].value));
	return o;
}

static json_t *settings_json(const struct console *c, const struct function_settings *s)
{
	return json_pack("{s:s?,s:s?,s:i,s:i,s:o,s:i}", "runtime", s->runtime, "handler", s->handler, "timeout",
			 s->timeout, "memory_size", s->memory_size, "environment", env_json(c, s), "layers",
			 (int)s->nlayers);
}

static json_t *function_json(struct console *c, const struct function_cfg *fn)
{
	json_t *o = settings_json(c, &fn->latest), *vs = json_array(), *as = json_array();
	struct lambda_pool_stats st;
	const struct fn_counts *fc = NULL;

	for (size_t i = 0; i < c->nfns; i++)
		if (strcmp(c->fns[i].name, fn->name) == 0)
			fc = &c->fns[i];
	for (size_t i = 0; i < fn->nversions; i++) {
		json_t *v = settings_json(c, &fn->versions[i].settings);
		json_object_set_new(v, "version", json_string(fn->versions[i].version));
		json_array_append_new(vs, v);
	}
	for (size_t i = 0; i < fn->naliases; i++) {
		const struct function_alias *a = &fn->aliases[i];
		json_array_append_new(as, json_pack("{s:s,s:s,s:s?,s:f}", "name", a->name, "function_version",
						    a->function_version, "additional_version", a->extra_version,
						    "additional_weight", a->extra_version ? a->extra_weight : 0.0));
	}
	lambda_pool_stats(c->lambda, fn->name, &st);
	json_object_set_new(o, "name", json_string(fn->name));
	json_object_set_new(o, "endpoint", fn->endpoint ? json_string(fn->endpoint) : json_null());
	json_object_set_new(o, "reserved_concurrent_executions",
			    fn->reserved_concurrency >= 0 ? json_integer(fn->reserved_concurrency) : json_null());
	json_object_set_new(o, "versions", vs);
	json_object_set_new(o, "aliases", as);
	json_object_set_new(o, "sandboxes", json_pack("{s:i,s:i,s:i,s:i}", "starting", (int)st.starting, "warm",
						      (int)st.idle, "busy", (int)st.busy, "queued", (int)st.queued));
	json_object_set_new(o, "concurrent_executions", json_integer((json_int_t)(st.busy + st.starting)));
	json_object_set_new(o, "invocations", json_integer(fc ? (json_int_t)fc->invocations : 0));
	json_object_set_new(o, "errors", json_integer(fc ? (json_int_t)fc->errors : 0));
	json_object_set_new(o, "throttles", json_integer(fc ? (json_int_t)fc->throttles : 0));
	json_object_set_new(o, "cold_starts", json_integer(fc ? (json_int_t)fc->cold_starts : 0));
	return o;
}

static void list_functions(struct console *c, struct http_request *req)
{
	json_t *fs = json_array();

	for (size_t i = 0; i < c->cfg->nfunctions; i++)
		json_array_append_new(fs, function_json(c, &c->cfg->functions[i]));
	console_respond_json(c, req, 200, json_pack("{s:o}", "functions", fs));
}

/* --- explain and charts ---------------------------------------------------------------------- */

static void explain(struct console *c, struct http_request *req)
{
	struct buf url = BUF_INIT, method = BUF_INIT, body = BUF_INIT;
	struct buf hdr[16];
	const char *headers[16];
	struct explain_request er = { 0 };
	struct lb_err err = { "" };
	char *text = NULL;
	size_t n = 0;
	FILE *f;
	int r;

	if (!query_get(req->query, "url", 0, &url)) {
		console_respond_json(c, req, 400, json_pack("{s:s}", "error", "explain needs ?url=http://..."));
		return;
	}
	for (er.nheaders = 0; er.nheaders < ARRAY_LEN(hdr); er.nheaders++) {
		buf_init(&hdr[er.nheaders], 0);
		if (!query_get(req->query, "header", er.nheaders, &hdr[er.nheaders]))
			break;
		headers[er.nheaders] = buf_cstr(&hdr[er.nheaders]);
	}
	er.url = buf_cstr(&url);
	er.ports = c->ports;
	er.headers = headers;
	if (query_get(req->query, "method", 0, &method) && method.len)
		er.method = buf_cstr(&method);
	if (query_get(req->query, "body", 0, &body))
		er.body = buf_cstr(&body);
	f = open_memstream(&text, &n);
	r = explain_print(c->cfg, &er, f, &err);
	fclose(f);
	/* The URL, method and headers are any bytes a query carries (%ff): not json_pack's "s". */
	if (r < 0)
		console_respond_json(c, req, 400, json_pack("{s:o}", "error", console_json_text(sv_from(err.msg))));
	else
		console_respond_json(c, req, 200, json_pack("{s:o,s:o}", "url", console_json_text(sv_from(er.url)),
							    "text", masked_explain(c, (struct sv){ text, n })));
	free(text);
	for (size_t i = 0; i <= er.nheaders && i < ARRAY_LEN(hdr); i++)
		buf_release(&hdr[i]);
	buf_release(&url);
	buf_release(&method);
	buf_release(&body);
}

static void charts(struct console *c, struct http_request *req)
{
	int64_t now = time_wall_us() / 1000000;
	json_t *ticks = json_array(), *bounds = json_array();

	for (size_t i = 0; i < ARRAY_LEN(chart_bounds); i++)
		json_array_append_new(bounds, json_real(chart_bounds[i]));
	for (int64_t s = now - CHART_SECONDS + 1; s <= now; s++) {
		const struct chart_tick *t = &c->ticks[s % CHART_SECONDS];
		json_t *d;

		if (t->sec != s)
			continue;
		d = json_array();
		for (size_t b = 0; b < CHART_BUCKETS; b++)
			json_array_append_new(d, json_integer(t->duration[b]));
		json_array_append_new(ticks, json_pack("{s:I,s:i,s:i,s:i,s:i,s:i,s:i,s:o}", "time", (json_int_t)s,
						       "requests", (int)t->requests, "elb_5xx", (int)t->elb_5xx,
						       "target_5xx", (int)t->target_5xx, "invocations",
						       (int)t->invocations, "errors", (int)t->errors, "throttles",
						       (int)t->throttles, "duration", d));
	}
	console_respond_json(c, req, 200, json_pack("{s:I,s:o,s:o}", "now", (json_int_t)now, "duration_bounds",
						    bounds, "ticks", ticks));
}

bool console_api(struct console *c, struct http_request *req, struct sv path)
{
	uint64_t id;

	if (!sv_starts_with_nocase(path, "/api/"))
		return false;
	if (sv_eq_cstr(req->method, "POST") && path.n > 21 && memcmp(path.p, "/api/requests/", 14) == 0 &&
	    memcmp(path.p + path.n - 7, "/replay", 7) == 0 &&
	    sv_to_u64((struct sv){ path.p + 14, path.n - 21 }, &id) == 0) {
		console_replay(c, req, id);
		return true;
	}
	if (!sv_eq_cstr(req->method, "GET") && !sv_eq_cstr(req->method, "HEAD")) {
		console_respond_json(c, req, 405, json_pack("{s:s}", "error", "the API answers GET (and POST /api/requests/ID/replay)"));
		return true;
	}
	if (sv_eq_cstr(path, "/api/requests"))
		list_requests(c, req);
	else if (path.n > 14 && memcmp(path.p, "/api/requests/", 14) == 0 &&
		 sv_to_u64((struct sv){ path.p + 14, path.n - 14 }, &id) == 0)
		show_request(c, req, id);
	else if (sv_eq_cstr(path, "/api/rules"))
		list_rules(c, req);
	else if (sv_eq_cstr(path, "/api/target-groups"))
		list_target_groups(c, req);
	else if (sv_eq_cstr(path, "/api/functions"))
		list_functions(c, req);
	else if (sv_eq_cstr(path, "/api/explain"))
		explain(c, req);
	else if (sv_eq_cstr(path, "/api/charts"))
		charts(c, req);
	else
		console_respond_json(c, req, 404, json_pack("{s:s}", "error", "no such API path"));
	return true;
}
