/*
 * config_summary: a loaded configuration described for a person, as
 * `lb check` prints it and `lb explain` quotes it. One line per rule:
 *
 *   listener http://127.0.0.1:8080
 *     10 path_pattern: /shop AND http_request_method: GET -> forward to api
 *     default -> fixed-response 404 text/plain
 *
 * Read-only over struct config; writes only to the FILE it is given.
 */
#include "config/config.h"

#include <arpa/inet.h>
#include <string.h>

#include "config/config_fn.h"
#include "config/config_tg.h"
#include "config/rules.h"

static void describe_value(const struct condition *c, size_t i, FILE *out)
{
	char addr[INET6_ADDRSTRLEN];

	switch (c->type) {
	case COND_QUERY_STRING:
		fprintf(out, "%s=%s", c->query[i].key ? c->query[i].key : "(any key)",
			c->query[i].value);
		break;
	case COND_SOURCE_IP:
		inet_ntop(c->cidrs[i].family, c->cidrs[i].addr, addr, sizeof(addr));
		fprintf(out, "%s/%d", addr, c->cidrs[i].prefix);
		break;
	default:
		fputs(c->values[i], out);
		break;
	}
}

void config_describe_condition(const struct condition *c, FILE *out)
{
	fputs(rules_condition_key(c->type), out);
	if (c->type == COND_HTTP_HEADER)
		fprintf(out, " %s", c->header_name);
	fputs(c->regexes ? " ~ " : ": ", out);
	for (size_t i = 0; i < c->nvalues; i++) {
		if (i)
			fputs(", ", out);
		describe_value(c, i, out);
	}
}

static void describe_forward(const struct forward_cfg *f, FILE *out)
{
	fputs("forward to ", out);
	for (size_t i = 0; i < f->ngroups; i++) {
		fprintf(out, "%s%s", i ? ", " : "", f->groups[i].name);
		if (f->ngroups > 1)
			fprintf(out, " (weight %d)", f->groups[i].weight);
	}
	if (f->stickiness)
		fprintf(out, ", sticky for %ds", f->stickiness_duration);
}

/* The Location template, unset components shown as the placeholders they keep. */
static void describe_redirect(const struct redirect_cfg *r, FILE *out)
{
	const char *query = r->query ? r->query : "#{query}";

	fprintf(out, "redirect %d to %s://%s:%s%s", r->status_code,
		r->protocol ? r->protocol : "#{protocol}", r->host ? r->host : "#{host}",
		r->port ? r->port : "#{port}", r->path ? r->path : "/#{path}");
	if (*query)
		fprintf(out, "?%s", query);
}

void config_describe_action(const struct action *a, FILE *out)
{
	switch (a->type) {
	case ACTION_FORWARD:
		describe_forward(&a->forward, out);
		break;
	case ACTION_REDIRECT:
		describe_redirect(&a->redirect, out);
		break;
	case ACTION_FIXED_RESPONSE:
		fprintf(out, "fixed-response %d", a->fixed.status_code);
		if (a->fixed.content_type)
			fprintf(out, " %s", a->fixed.content_type);
		break;
	}
}

static void rule_summary(const struct rule *r, FILE *out)
{
	if (r->priority)
		fprintf(out, "  %d ", r->priority);
	else
		fputs("  default ", out);
	for (size_t i = 0; i < r->nconditions; i++) {
		if (i)
			fputs(" AND ", out);
		config_describe_condition(&r->conditions[i], out);
	}
	fputs(r->nconditions ? " -> " : "-> ", out);
	config_describe_action(&r->action, out);
	fputc('\n', out);
	if (r->action.jwt)
		fprintf(out, "      jwt-validation first: issuer %s, %zu key%s from %s\n", r->action.jwt->issuer,
			r->action.jwt->nkeys, r->action.jwt->nkeys == 1 ? "" : "s", r->action.jwt->jwks_endpoint);
	if (r->host_rewrite)
		fprintf(out, "      host-header-rewrite %s -> %s\n", r->host_rewrite->regex, r->host_rewrite->replace);
	if (r->url_rewrite)
		fprintf(out, "      url-rewrite %s -> %s\n", r->url_rewrite->regex, r->url_rewrite->replace);
}

static void listener_summary(const struct listener_cfg *l, FILE *out)
{
	bool v6 = strchr(l->address, ':') != NULL;

	static const char *const mtls[] = { "off", "passthrough", "verify" };
	bool https = l->protocol == PROTO_HTTPS;

	fprintf(out, "listener %s://%s%s%s:%d", https ? "https" : "http", v6 ? "[" : "",
		l->address, v6 ? "]" : "", l->port);
	if (https) {
		fprintf(out, " (%s, ", l->ssl_policy);
		if (l->auto_certificate)
			fprintf(out, "certificate from lb's local CA");
		else
			fprintf(out, "%zu certificate%s", l->ncertificates,
				l->ncertificates == 1 ? "" : "s");
		if (l->mtls.mode != MTLS_OFF)
			fprintf(out, ", mutual TLS %s", mtls[l->mtls.mode]);
		fputc(')', out);
	}
	fputc('\n', out);
	for (size_t i = 0; i < l->nrules; i++)
		rule_summary(&l->rules[i], out);
	rule_summary(&l->default_rule, out);
}

static void health_check_summary(const struct target_group *tg, FILE *out)
{
	const struct health_check_cfg *hc = &tg->health_check;

	if (!hc->enabled)
		return;
	fputs("  health check ", out);
	if (tg->target_type != TARGET_LAMBDA) {
		fprintf(out, "%s ", config_tg_protocols[hc->protocol]);
		if (hc->port)
			fprintf(out, "port %d ", hc->port);
		else
			fputs("traffic-port ", out);
	}
	fprintf(out, "GET %s every %ds, timeout %ds, healthy %d, unhealthy %d, matcher %s\n",
		hc->path, hc->interval, hc->timeout, hc->healthy_threshold, hc->unhealthy_threshold,
		hc->matcher);
}

static void lambda_group_summary(const struct target_group *tg, FILE *out)
{
	fprintf(out, "target group %s: lambda, %s headers, ", tg->name,
		tg->multi_value_headers ? "multi-value" : "single-value");
	if (tg->ntargets)
		fprintf(out, "target %s\n", tg->targets[0]);
	else
		fputs("no target\n", out);
}

/*
 *   target group web: ip, HTTP:3000, HTTP1, round_robin, 2 targets
 *     127.0.0.1:3001
 *     stickiness lb_cookie for 86400s
 */
static void http_group_summary(const struct target_group *tg, FILE *out)
{
	const struct tg_attributes *a = &tg->attrs;

	fprintf(out, "target group %s: %s, %s:%d, %s, %s, %zu target%s\n", tg->name,
		tg->target_type == TARGET_IP ? "ip" : "instance", config_tg_protocols[tg->protocol],
		tg->port, config_tg_protocol_versions[tg->protocol_version],
		config_tg_algorithms[a->algorithm], tg->nhttp_targets,
		tg->nhttp_targets == 1 ? "" : "s");
	for (size_t i = 0; i < tg->nhttp_targets; i++)
		fprintf(out, "  target %s\n", tg->http_targets[i].key);
	if (a->stickiness && a->stickiness_type == STICKINESS_LB_COOKIE)
		fprintf(out, "  stickiness lb_cookie for %ds\n", a->lb_cookie_duration);
	if (a->stickiness && a->stickiness_type == STICKINESS_APP_COOKIE)
		fprintf(out, "  stickiness app_cookie %s for %ds\n", a->app_cookie_name,
			a->app_cookie_duration);
	if (a->slow_start)
		fprintf(out, "  slow start %ds\n", a->slow_start);
	fprintf(out, "  deregistration delay %ds\n", a->deregistration_delay);
}

static void target_group_summary(const struct target_group *tg, FILE *out)
{
	if (tg->target_type == TARGET_LAMBDA)
		lambda_group_summary(tg, out);
	else
		http_group_summary(tg, out);
	fprintf(out, "  %s\n", tg->arn);
	health_check_summary(tg, out);
}

void config_summary(const struct config *cfg, FILE *out)
{
	const struct load_balancer_cfg *lb = &cfg->lb;

	fprintf(out, "load balancer %s (%s), %s, account %s\n", lb->name, lb->elb, lb->region,
		lb->account_id);
	if (lb->access_log)
		fprintf(out, "  access log %s\n", lb->access_log);
	for (size_t i = 0; i < cfg->nlisteners; i++)
		listener_summary(&cfg->listeners[i], out);
	for (size_t i = 0; i < cfg->ntarget_groups; i++)
		target_group_summary(&cfg->target_groups[i], out);
	for (size_t i = 0; i < cfg->nfunctions; i++)
		config_fn_summary(&cfg->functions[i], out);
	if (cfg->lambda_api.enabled)
		fprintf(out, "lambda api on %s port %d (Invoke API)\n", cfg->lambda_api.address,
			cfg->lambda_api.port);
	if (cfg->admin.enabled)
		fprintf(out, "console on %s port %d (history %d, body limit %d bytes, secrets %s)\n",
			cfg->admin.address, cfg->admin.port, cfg->admin.history, cfg->admin.body_limit,
			cfg->admin.mask_secrets ? "masked" : "shown");
}
