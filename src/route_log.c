/*
 * route_log: a finished request's access-log line (access_log.c writes it)
 * and console record, from what router.c gathered on its way (struct
 * outcome, struct route): ALB's fields, the request as received before any
 * transform, "authenticate" in actions_executed after an authentication.
 */
#include "router_int.h"

#include <stdio.h>
#include <string.h>

#include "access_log.h"
#include "alb/http_msg.h"
#include "console/console.h"

struct sv route_listener_host(const char *address, char out[48])
{
	int n = snprintf(out, 48, strchr(address, ':') ? "[%s]" : "%s", address);

	return (struct sv){ out, n < 48 ? (size_t)n : 47 };
}

/*
 * The log shows origin-form: an absolute-form target is logged from what
 * follows its authority (put_request adds the "/" an empty path stands for).
 */
struct sv route_log_target(const struct http_request *req)
{
	const char *after;

	if (!req->uri_host.p)
		return req->target;
	after = req->uri_host.p + req->uri_host.n;
	return (struct sv){ after, (size_t)(req->target.p + req->target.n - after) };
}

/* actions_executed after an authentication action: "authenticate" first (§5.2). */
static const char *authenticated(const char *actions)
{
	if (!actions)
		return "authenticate";
	if (strcmp(actions, "forward") == 0)
		return "authenticate,forward";
	if (strcmp(actions, "redirect") == 0)
		return "authenticate,redirect";
	if (strcmp(actions, "fixed-response") == 0)
		return "authenticate,fixed-response";
	return actions;
}

/* What the access log has beyond the console's fields (the console reads none of these). */
static void route_log_rest(const struct config *cfg, const struct route *rt, const struct http_request *req,
			   const struct outcome *o, struct alog_entry *e)
{
	const struct http_header *ua = http_request_header(req, "user-agent");

	e->time_us = time_wall_us();
	e->version = http_version_str(req->version);
	e->elb = cfg->lb.elb;
	e->scheme = req->https ? "https" : "http";
	e->port = req->local_port;
	e->user_agent = ua ? ua->value : SV_NULL;
	e->target_group_arn = o->tg ? o->tg->arn : NULL;
	e->request_creation_us = req->start_wall_us;
	e->classification = desync_class_name(req->desync.cls);
	e->classification_reason = req->desync.reason;
	e->conn_trace_id = req->conn_trace_id;
	if (req->tls) {
		e->ssl_cipher = req->tls->cipher;
		e->ssl_protocol = req->tls->protocol;
		e->domain_name = req->tls->sni_matched ? req->tls->sni : NULL;
		e->chosen_cert_arn = req->tls->cert_arn[0] ? req->tls->cert_arn : NULL;
	}
	if (rt && rt->xf.status) {
		e->transformed_host = rt->xf.host_set ? rt->xf.host : SV_NULL;
		e->transformed_uri = rt->xf.uri_set ? rt->xf.uri : SV_NULL;
		e->transform_status = rt->xf.status;
	}
}

/*
 * The finished request to the access log and the console. With the console
 * only, the entry holds just what console_record reads (its fields are listed
 * in console.h); the access log gets every field.
 */
void route_log(struct router *r, const struct http_request *req, const struct outcome *o)
{
	const struct route *rt = req->route;
	const struct config *cfg = rt ? rt->cfg : r->cfg;
	char addr[48];
	struct sv host;
	struct alog_entry e;

	if (!r->alog && !r->console)
		return;
	if (r->alog)
		memset(&e, 0, sizeof(e));
	/* The request field is the request as received, transforms or not (§5.1). */
	host = rt && rt->log_target.p ? rt->log_host : http_request_host(req);
	if (!host.n)
		host = route_listener_host(cfg->listeners[req->listener].address, addr);
	/* ALB logs HTTP/2 requests as type h2 (alb-http-targets-and-tls.md §2.5): those
	 * of an h2 connection, not an "HTTP/2.0" request line refused on an HTTP/1 one. */
	e.type = o->websocket ? (req->https ? "wss" : "ws")
		 : req->tls && strcmp(req->tls->alpn, "h2") == 0 ? "h2" : req->https ? "https" : "http";
	e.client_ip = req->peer_ip;
	e.client_port = req->peer_port;
	e.request_processing = o->t_request;
	e.target_processing = o->t_target;
	e.response_processing = o->t_response;
	e.elb_status = o->status;
	e.target_status = o->target_status;
	e.target = o->target;
	e.received_bytes = req->received_bytes;
	e.sent_bytes = o->sent;
	e.method = req->method;
	e.host = host;
	e.request_target = rt && rt->log_target.p ? rt->log_target : route_log_target(req);
	e.trace_id = rt ? (struct sv){ rt->trace.p, rt->trace.len } : SV_NULL;
	e.matched_rule_priority = o->priority;
	e.actions_executed = rt && rt->auth_ran ? authenticated(o->actions) : o->actions;
	e.redirect_url = o->redirect_url;
	e.error_reason = o->error_reason;
	if (r->alog) {
		route_log_rest(cfg, rt, req, o, &e);
		access_log_add(r->alog, &e);
	}
	if (r->console)
		console_record(r->console, &(struct console_req){ req, &e, rt ? rt->rule : NULL, o->tg,
								  rt && rt->f.ops ? &rt->f : NULL });
}

void outcome_init(struct outcome *o, int status, const struct route *rt)
{
	memset(o, 0, sizeof(*o));
	o->status = status;
	/* Answers ALB gives itself were never dispatched to a target: -1 (§5.1). */
	o->t_request = o->t_target = o->t_response = -1;
	o->priority = rt && rt->rule ? rt->rule->priority : ALOG_PRIORITY_NONE;
}
