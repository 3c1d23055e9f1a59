/*
 * explain: builds a struct http_request from command-line parts exactly as
 * http_server would from the wire (Host from the URL's authority as curl
 * sends it, the listener chosen by the URL's port among the ports the
 * listeners are bound to, when lb runs), then walks the same
 * matcher the server uses with a miss callback that prints each rule that
 * did not match and the condition that failed. For a forward it prints the
 * headers toward the target and the exact event a Lambda target would get.
 */
#include "explain.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "alb/alb_event.h"
#include "alb/fwd_headers.h"
#include "alb/jwt.h"
#include "alb/mtls_headers.h"
#include "alb/http_msg.h"
#include "alb/match.h"
#include "alb/proxy_head.h"
#include "alb/redirect.h"
#include "alb/trace_id.h"
#include "alb/transform.h"
#include "auth/jwt_rsa.h"
#include "base/util.h"

struct parsed_url {
	struct sv scheme, authority, host, target;
	int port;
};

/* Splits "http://host[:port]/path?query" (the path may be absent). */
static int parse_url(const char *url, struct parsed_url *u, struct lb_err *err)
{
	struct sv s = sv_from(url), rest, port;
	const char *slash;

	rest = (struct sv){ strstr(url, "://"), 0 };
	if (!rest.p)
		return lb_err_set(err, "explain: '%s' is not an http:// URL", url);
	u->scheme = (struct sv){ url, (size_t)(rest.p - url) };
	if (!sv_eq_cstr_nocase(u->scheme, "http") && !sv_eq_cstr_nocase(u->scheme, "https"))
		return lb_err_set(err, "explain: unsupported scheme in '%s'", url);
	rest = (struct sv){ rest.p + 3, s.n - (size_t)(rest.p + 3 - url) };
	slash = memchr(rest.p, '/', rest.n);
	u->authority = (struct sv){ rest.p, slash ? (size_t)(slash - rest.p) : rest.n };
	u->target = slash ? (struct sv){ slash, rest.n - u->authority.n } : SV("/");
	if (!u->authority.n)
		return lb_err_set(err, "explain: no host in '%s'", url);
	u->port = sv_eq_cstr_nocase(u->scheme, "https") ? 443 : 80;
	port = sv_cut(u->authority, ':', &u->host);
	if (u->authority.p[0] == '[') {
		const char *close = memchr(u->authority.p, ']', u->authority.n);
		if (!close)
			return lb_err_set(err, "explain: bad IPv6 host in '%s'", url);
		u->host = (struct sv){ u->authority.p, (size_t)(close + 1 - u->authority.p) };
		port = close + 1 < u->authority.p + u->authority.n && close[1] == ':'
			? (struct sv){ close + 2, (size_t)(u->authority.p + u->authority.n - close - 2) }
			: SV_NULL;
	}
	if (port.p) {
		uint64_t v;
		if (sv_to_u64(port, &v) < 0 || v == 0 || v > 65535)
			return lb_err_set(err, "explain: bad port in '%s'", url);
		u->port = (int)v;
	}
	return 0;
}

/* The port listener i answers on: bound, or as configured (0 before binding). */
static int listener_port(const struct config *cfg, const struct explain_request *er, size_t i)
{
	return er->ports && er->ports[i] ? er->ports[i] : cfg->listeners[i].port;
}

static int pick_listener(const struct config *cfg, const struct explain_request *er, int port,
			 struct lb_err *err)
{
	for (size_t i = 0; i < cfg->nlisteners; i++)
		if (listener_port(cfg, er, i) == port)
			return (int)i;
	if (cfg->nlisteners == 1)
		return 0;
	return lb_err_set(err, "explain: no listener on port %d", port);
}

static int set_peer(struct http_request *req, const char *ip, struct lb_err *err)
{
	if (inet_pton(AF_INET, ip, req->peer_addr) == 1)
		req->peer_family = AF_INET;
	else if (inet_pton(AF_INET6, ip, req->peer_addr) == 1)
		req->peer_family = AF_INET6;
	else
		return lb_err_set(err, "explain: --source-ip '%s' is not an IPv4 or IPv6 address", ip);
	snprintf(req->peer_ip, sizeof(req->peer_ip), "%s", ip);
	req->peer_port = 50000;
	return 0;
}

/* Fills req; every view points into store, which must outlive req. */
static int build_request(const struct explain_request *er, const struct parsed_url *u,
			 struct arena *store, struct http_request *req, struct lb_err *err)
{
	const char *method = er->method ? er->method : er->body ? "POST" : "GET";
	bool host_given = false;

	if (!sv_is_token(sv_from(method)))
		return lb_err_set(err, "explain: method '%s' is not a token (RFC 9110 §9.1)", method);
	req->method = sv_from(arena_strdup(store, method));
	http_request_set_target(req, (struct sv){ arena_strndup(store, u->target.p, u->target.n), u->target.n });
	req->version = 11;
	req->keep_alive = true;
	/* curl sends the URL's authority as Host, port included when not the
	 * default, unless -H gives a Host: then that one (rules read the first). */
	for (size_t i = 0; i < er->nheaders; i++)
		host_given |= strncasecmp(er->headers[i], "host:", 5) == 0;
	if (!host_given)
		http_request_add_header(req, SV("Host"), (struct sv){ arena_strndup(store, u->authority.p,
										u->authority.n), u->authority.n });
	for (size_t i = 0; i < er->nheaders; i++) {
		struct sv h = sv_from(er->headers[i]), name, value;
		value = sv_cut(h, ':', &name);
		if (!value.p || !name.n)
			return lb_err_set(err, "explain: header '%s' is not 'Name: value'", er->headers[i]);
		name = sv_trim(name);
		value = sv_trim(value);
		http_request_add_header(req, (struct sv){ arena_strndup(store, name.p, name.n), name.n },
					(struct sv){ arena_strndup(store, value.p, value.n), value.n });
	}
	if (er->body) {
		/* As curl -d does: a length, and a form type unless one was given. */
		char *len = arena_alloc(store, 24);
		snprintf(len, 24, "%zu", strlen(er->body));
		http_request_add_header(req, SV("Content-Length"), sv_from(len));
		if (!http_request_header(req, "content-type"))
			http_request_add_header(req, SV("Content-Type"), SV("application/x-www-form-urlencoded"));
		req->keep_body = true;
		buf_append(&req->body, er->body, strlen(er->body));
		req->body_bytes = strlen(er->body);
		req->framing = HTTP_FRAMING_LENGTH;
		req->content_length = req->body_bytes;
	}
	req->start_wall_us = time_wall_us();
	return set_peer(req, er->source_ip ? er->source_ip : "127.0.0.1", err);
}

static void on_miss(void *cookie, const struct rule *rule, const struct condition *failed)
{
	FILE *out = cookie;

	fprintf(out, "  rule %d (%s:%d): no match, ", rule->priority, rule->pos.file, rule->pos.line);
	config_describe_condition(failed, out);
	fprintf(out, " did not match\n");
}

/* An instance/ip group: its targets and the exact request head a target would get. */
static void print_http_group(const struct target_group *tg, const struct http_request *req,
			     const struct header_list *hl, const struct lb_attributes *attrs,
			     const struct listener_cfg *l, FILE *out)
{
	static const char *const algorithms[] = { "round_robin", "least_outstanding_requests", "weighted_random" };
	struct buf head = BUF_INIT;

	if (!tg->nhttp_targets) {
		fprintf(out, "target group %s has no target: ALB answers 503\n", tg->name);
		return;
	}
	fprintf(out, "target group %s (%s, %s): ", tg->name, tg->target_type == TARGET_IP ? "ip" : "instance",
		algorithms[tg->attrs.algorithm]);
	for (size_t i = 0; i < tg->nhttp_targets; i++)
		fprintf(out, "%s%s", i ? ", " : "", tg->http_targets[i].key);
	fprintf(out, "\nrequest toward a target:\n");
	proxy_request_head(&head, req, hl, l->address, attrs->preserve_host);
	for (const char *p = head.p, *nl; p && (nl = strstr(p, "\r\n")) && nl != p; p = nl + 2)
		fprintf(out, "  %.*s\n", (int)(nl - p), p);
	buf_release(&head);
}

/* Each target group of a forward: for Lambda targets the event each would
 * get, for instance/ip targets the request head. */
static void print_forward(const struct forward_cfg *f, const struct http_request *req,
			  const struct lb_attributes *attrs, const struct listener_cfg *l, FILE *out)
{
	struct header_list hl;
	struct buf trace = BUF_INIT, event = BUF_INIT;
	const struct http_header *in = http_request_header(req, "x-amzn-trace-id");
	uint8_t rnd[12];
	struct rng rng;

	rng_seed(&rng);
	rng_bytes(&rng, rnd, sizeof(rnd));
	trace_id_build(&trace, in ? in->value : SV_NULL, in != NULL, req->head.len,
		       (uint32_t)(req->start_wall_us / 1000000), rnd);
	header_list_init(&hl);
	fwd_headers_build(req, attrs, (struct sv){ trace.p, trace.len }, &hl);
	mtls_headers_apply(&hl, req, attrs, &l->attrs);
	fprintf(out, "headers toward the target:\n");
	for (size_t i = 0; i < hl.n; i++)
		fprintf(out, "  %.*s: %.*s\n", SV_ARG(hl.v[i].name), SV_ARG(hl.v[i].value));
	for (size_t i = 0; i < f->ngroups; i++) {
		const struct target_group *tg = f->groups[i].tg;
		struct alb_event_input ev = { req, hl.v, hl.n, tg->arn, tg->multi_value_headers };
		json_t *doc;

		if (tg->target_type != TARGET_LAMBDA) {
			print_http_group(tg, req, &hl, attrs, l, out);
			continue;
		}
		if (!tg->function) {
			fprintf(out, "target group %s has no target: ALB answers 503\n", tg->name);
			continue;
		}
		if (req->body.len > ALB_EVENT_BODY_MAX) {
			fprintf(out, "the body is over 1 MB: ALB answers 413 without invoking\n");
			continue;
		}
		buf_reset(&event);
		if (!alb_event_write(&event, &ev)) {
			fprintf(out, "a header value or the text body is not UTF-8: ALB answers 502 "
				"(LambdaBadRequest) without invoking\n");
			continue;
		}
		doc = json_loadb(event.p, event.len, 0, NULL);
		fprintf(out, "event for %s%s%s (target group %s, %s):\n", tg->function->name,
			tg->qualifier ? ":" : "", tg->qualifier ? tg->qualifier : "", tg->name,
			tg->multi_value_headers ? "multi-value headers" : "single-value headers");
		json_dumpf(doc, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		fputc('\n', out);
		json_decref(doc);
	}
	header_list_release(&hl);
	buf_release(&trace);
	buf_release(&event);
}

static void print_action(const struct config *cfg, const struct listener_cfg *l, const struct rule *rule,
			 const struct http_request *req, FILE *out)
{
	const struct action *a = &rule->action;

	fprintf(out, "action: ");
	config_describe_action(a, out);
	fprintf(out, "\n");
	if (a->type == ACTION_REDIRECT) {
		struct buf loc = BUF_INIT;
		char port[8];
		struct redirect_request in = {
			.protocol = req->https ? SV("https") : SV("http"),
			.host = http_request_host(req),
			.port = { port, (size_t)snprintf(port, sizeof(port), "%u", req->local_port) },
			.path = req->path,
			.query = req->query,
		};
		if (!in.host.n)
			in.host = sv_from(l->address);
		redirect_location(&a->redirect, &in, &loc);
		fprintf(out, "Location: %s\n", buf_cstr(&loc));
		buf_release(&loc);
	} else if (a->type == ACTION_FORWARD) {
		print_forward(&a->forward, req, &cfg->lb.attrs, l, out);
	}
}

/* The rule's jwt-validation, as the router runs it: -1 when ALB would answer 401. */
static int check_jwt(const struct config *cfg, const struct rule *rule, const struct http_request *req,
		     FILE *out)
{
	const struct jwt_validation_cfg *j = rule->action.jwt;
	const char *why = NULL;
	enum jwt_verdict v;

	if (!j)
		return 0;
	/* The verifier caches key objects in the configuration it is given. */
	v = jwt_check(j, req, time_wall_us() / 1000000, jwt_rsa_verify, (struct config *)cfg, &why);
	if (v == JWT_VALID) {
		fprintf(out, "jwt-validation: the bearer token is valid (issuer %s)\n", j->issuer);
		return 0;
	}
	fprintf(out, "jwt-validation: %s: ALB answers 401 (WWW-Authenticate: %s)\n",
		v == JWT_MISSING ? "no bearer token" : why, jwt_www_authenticate(v));
	return -1;
}

/* The matched rule's transforms, printed and applied to req (mem holds the results). */
static int apply_transforms(const struct rule *rule, struct http_request *req, struct buf *mem, FILE *out)
{
	struct transform_out xf;
	struct sv host = http_request_host(req);

	if (!rule->host_rewrite && !rule->url_rewrite)
		return 0;
	if (transform_request(rule, req, mem, &xf) < 0) {
		fprintf(out, "transform: failed (no valid host or URL, or the regex gave up): ALB answers 500\n");
		return -1;
	}
	if (rule->host_rewrite && xf.host_set)
		fprintf(out, "host-header-rewrite: %.*s -> %.*s\n", SV_ARG(host), SV_ARG(xf.host));
	else if (rule->host_rewrite)
		fprintf(out, "host-header-rewrite: regex '%s' does not match '%.*s': unchanged\n",
			rule->host_rewrite->regex, SV_ARG(host));
	if (rule->url_rewrite && xf.uri_set)
		fprintf(out, "url-rewrite: %.*s%s%.*s -> %.*s\n", SV_ARG(req->path), req->has_query ? "?" : "",
			SV_ARG(req->query), SV_ARG(xf.uri));
	else if (rule->url_rewrite)
		fprintf(out, "url-rewrite: regex '%s' does not match: unchanged\n", rule->url_rewrite->regex);
	transform_commit(req, &xf);
	return 0;
}

int explain_print(const struct config *cfg, const struct explain_request *er, FILE *out,
		  struct lb_err *err)
{
	struct buf xform = BUF_INIT;
	struct parsed_url u;
	struct arena store = { 0 };
	struct http_request req;
	const struct listener_cfg *l;
	const struct rule *rule;
	int li, port, r = -1;
	bool v6;

	http_request_init(&req);
	if (parse_url(er->url, &u, err) < 0 || (li = pick_listener(cfg, er, u.port, err)) < 0 ||
	    build_request(er, &u, &store, &req, err) < 0)
		goto out;
	l = &cfg->listeners[li];
	port = listener_port(cfg, er, (size_t)li);
	req.listener = li;
	req.local_port = (uint16_t)(port ? port : u.port);
	/* The listener decides the scheme toward targets, not the URL's. */
	req.https = l->protocol == PROTO_HTTPS;
	fprintf(out, "request: %.*s %s from %s\n", SV_ARG(req.method), er->url, req.peer_ip);
	v6 = strchr(l->address, ':') != NULL;
	fprintf(out, "listener: %s://%s%s%s:%d (%zu rules)\n", req.https ? "https" : "http", v6 ? "[" : "",
		l->address, v6 ? "]" : "", port, l->nrules);
	rule = match_rules(l, &req, on_miss, out);
	if (rule->priority)
		fprintf(out, "matched: rule %d (%s:%d)\n", rule->priority, rule->pos.file, rule->pos.line);
	else
		fprintf(out, "matched: the default rule (no other rule matched)\n");
	if (check_jwt(cfg, rule, &req, out) == 0 && apply_transforms(rule, &req, &xform, out) == 0)
		print_action(cfg, l, rule, &req, out);
	r = 0;
out:
	http_request_release(&req);
	buf_release(&xform);
	arena_release(&store);
	return r;
}
