/*
 * cfn_map: the ELBv2 resources of a template as lb.yaml's load_balancer,
 * listeners (with their rules inline), target_groups and functions
 * (reference/aws-integration.md §4.4). Resources link through the ARNs that
 * cfn_eval gives them, so a TargetGroupArn built with Fn::Sub or written as
 * a literal ARN links as well as !Ref does.
 *
 * CloudFormation's property names become lb's by one rule, which is
 * DESIGN.md §5's: the AWS API in snake_case, with the "Config" suffix
 * dropped from action and condition bodies (FixedResponseConfig ->
 * fixed_response). What lb would reject, it rejects at the template's
 * position, through config_load's own checks.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "config/cfn.h"
#include "config/config_int.h"

#define ELB "AWS::ElasticLoadBalancingV2::"

/* "HttpHeaderName" -> "http_header_name"; "ForwardConfig" -> "forward" (strip). */
static const char *snake(struct cfn *c, const char *s, bool strip_config)
{
	size_t n = strlen(s);
	char *o = arena_alloc(c->a, 2 * n + 1), *p = o;

	if (strip_config && n > 6 && strcmp(s + n - 6, "Config") == 0)
		n -= 6;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];

		if (ch >= 'A' && ch <= 'Z') {
			if (i > 0 && !(s[i - 1] >= 'A' && s[i - 1] <= 'Z'))
				*p++ = '_';
			ch = (char)(ch - 'A' + 'a');
		} else if (ch == '-') {
			ch = '_';
		}
		*p++ = ch;
	}
	*p = '\0';
	return o;
}

/* A copy of v whose mapping keys, at every depth, are in snake_case. */
static struct ynode *snake_tree(struct cfn *c, const struct ynode *v)
{
	struct ynode *o;

	if (v->type == YNODE_SCALAR)
		return (struct ynode *)v;
	o = v->type == YNODE_SEQUENCE ? cfn_seq(c->a, v) : cfn_map(c->a, v);
	for (size_t i = 0; i < v->n; i++) {
		if (v->type == YNODE_SEQUENCE)
			cfn_push(c->a, o, snake_tree(c, v->items[i]));
		else
			cfn_put(c->a, o, snake(c, v->pairs[i].key->str, false),
				snake_tree(c, v->pairs[i].value));
	}
	return o;
}

static struct ynode *tg_name(struct cfn *c, const struct ynode *arn)
{
	struct cfn_res *r;

	if (arn->type != YNODE_SCALAR) {
		cfn_err(c, arn, "TargetGroupArn must be a string");
		return NULL;
	}
	if (!(r = cfn_by_ref(c, ELB "TargetGroup", arn->str))) {
		cfn_err(c, arn, "'%s' is not a target group of this %s", arn->str,
			c->nstacks > 1 ? "cloud assembly" : "template");
		return NULL;
	}
	return cfn_scalar(c->a, arn, r->name);
}

/* ForwardConfig's keys, as CloudFormation's ForwardConfig, TargetGroupTuple and
 * TargetGroupStickinessConfig types have them: any other key is a mistake. */
static const struct yfield forward_fields[] = {
	YFIELD_NODE("TargetGroups"), YFIELD_NODE("TargetGroupStickinessConfig"),
};
static const struct yfield tuple_fields[] = {
	YFIELD_NODE("TargetGroupArn", .required = true), YFIELD_NODE("Weight"),
};
static const struct yfield stickiness_fields[] = {
	YFIELD_NODE("Enabled"), YFIELD_NODE("DurationSeconds"),
};

static int forward(struct cfn *c, const struct ynode *fc, struct ynode *out)
{
	const struct ynode *tgs = ydoc_get(fc, "TargetGroups");
	const struct ynode *st = ydoc_get(fc, "TargetGroupStickinessConfig");
	struct ynode *f = cfn_map(c->a, fc), *list = tgs ? cfn_seq(c->a, tgs) : NULL;

	/* As config_load says of a RedirectConfig that is not a mapping. */
	if (ydoc_fields(fc, "forward", forward_fields, ARRAY_LEN(forward_fields), NULL, c->a, c->err) ||
	    (st && ydoc_fields(st, "stickiness", stickiness_fields, ARRAY_LEN(stickiness_fields), NULL,
			       c->a, c->err)) ||
	    (tgs && ydoc_list(tgs, "TargetGroups", YNODE_MAPPING, c->err)))
		return -1;
	for (size_t i = 0; tgs && i < tgs->n; i++) {
		const struct ynode *t = tgs->items[i];
		struct ynode *o = cfn_map(c->a, t), *name;

		if (ydoc_fields(t, "TargetGroups", tuple_fields, ARRAY_LEN(tuple_fields), NULL, c->a, c->err) ||
		    !(name = tg_name(c, ydoc_get(t, "TargetGroupArn"))))
			return -1;
		cfn_put(c->a, o, "name", name);
		cfn_put(c->a, o, "weight", (struct ynode *)ydoc_get(t, "Weight"));
		cfn_push(c->a, list, o);
	}
	cfn_put(c->a, f, "target_groups", list);
	if (st) {
		struct ynode *s = cfn_map(c->a, st);

		cfn_put(c->a, s, "enabled", (struct ynode *)ydoc_get(st, "Enabled"));
		cfn_put(c->a, s, "duration", (struct ynode *)ydoc_get(st, "DurationSeconds"));
		cfn_put(c->a, f, "stickiness", s);
	}
	cfn_put(c->a, out, "forward", f);
	return 0;
}

static int action(struct cfn *c, const struct ynode *a, struct ynode *list)
{
	struct ynode *o = cfn_map(c->a, a);

	if (a->type != YNODE_MAPPING)
		return cfn_err(c, a, "an action must be a mapping");
	for (size_t i = 0; i < a->n; i++) {
		const char *k = a->pairs[i].key->str;
		const struct ynode *v = a->pairs[i].value;
		struct ynode *name;

		if (strcmp(k, "TargetGroupArn") == 0) {
			if (!(name = tg_name(c, v)))
				return -1;
			cfn_put(c->a, o, "target_group", name);
		} else if (strcmp(k, "ForwardConfig") == 0) {
			if (forward(c, v, o))
				return -1;
		} else if (strcmp(k, "Type") == 0 || strcmp(k, "Order") == 0) {
			cfn_put(c->a, o, snake(c, k, false), (struct ynode *)v);
		} else {
			cfn_put(c->a, o, snake(c, k, true), snake_tree(c, v));
		}
	}
	cfn_push(c->a, list, o);
	return 0;
}

static int actions(struct cfn *c, const struct cfn_res *r, const char *key, struct ynode **out)
{
	struct ynode *v;

	*out = NULL;
	if (cfn_prop(c, r, key, &v))
		return -1;
	if (!v)
		return cfn_err(c, r->node, "'%s' needs %s", r->id, key);
	if (v->type != YNODE_SEQUENCE)
		return cfn_err(c, v, "'%s' must be a list", key);
	*out = cfn_seq(c->a, v);
	for (size_t i = 0; i < v->n; i++) {
		if (action(c, v->items[i], *out))
			return -1;
	}
	return 0;
}

/* {Field: path-pattern, PathPatternConfig: {Values}} or the older {Field, Values}. */
static int condition(struct cfn *c, const struct ynode *n, struct ynode *list)
{
	const struct ynode *field = ydoc_get(n, "Field"), *body = NULL;
	struct ynode *o = cfn_map(c->a, n);
	const char *key;

	if (!field || field->type != YNODE_SCALAR)
		return cfn_err(c, n, "a condition needs Field");
	key = snake(c, field->str, false);
	for (size_t i = 0; i < n->n; i++) {
		const char *k = n->pairs[i].key->str;

		if (strcmp(k, "Field") == 0 || strcmp(k, "Values") == 0)
			continue;
		if (body || strcmp(snake(c, k, true), key) != 0)
			return cfn_err(c, n->pairs[i].key, "unknown key '%s' in a condition on '%s'",
				       k, field->str);
		body = n->pairs[i].value;
	}
	if (body) {
		cfn_put(c->a, o, key, snake_tree(c, body));
	} else {
		struct ynode *m = cfn_map(c->a, n);

		cfn_put(c->a, m, "values", (struct ynode *)ydoc_get(n, "Values"));
		cfn_put(c->a, o, key, m);
	}
	cfn_push(c->a, list, o);
	return 0;
}

static int rule(struct cfn *c, struct cfn_res *r, struct ynode *list)
{
	struct ynode *o = cfn_map(c->a, r->node), *v, *acts, *conds;

	if (cfn_prop(c, r, "Priority", &v))
		return -1;
	cfn_put(c->a, o, "priority", v);
	if (cfn_prop(c, r, "Conditions", &v))
		return -1;
	conds = cfn_seq(c->a, v ? v : r->node);
	for (size_t i = 0; v && v->type == YNODE_SEQUENCE && i < v->n; i++) {
		if (condition(c, v->items[i], conds))
			return -1;
	}
	cfn_put(c->a, o, "conditions", conds);
	if (actions(c, r, "Actions", &acts))
		return -1;
	cfn_put(c->a, o, "actions", acts);
	/* Rule transforms: lb also reads AWS's nesting (host_header_rewrite_config). */
	if (cfn_prop(c, r, "Transforms", &v))
		return -1;
	if (v)
		cfn_put(c->a, o, "transforms", snake_tree(c, v));
	cfn_push(c->a, list, o);
	return 0;
}

/* A template's listener port as lb serves it: --port-map P=L, else ports
 * below 1024 move up by 8000 (80 -> 8080), said in one line. */
struct ynode *cfn_port(struct cfn *c, const struct ynode *port)
{
	char *end;
	long p, l = -1;

	if (!port || port->type != YNODE_SCALAR)
		return (struct ynode *)port; /* config_load reports it */
	p = strtol(port->str, &end, 10);
	if (!*port->str || *end)
		return (struct ynode *)port;
	for (size_t i = 0; c->opts && i < c->opts->nport_maps; i++) {
		const char *m = c->opts->port_maps[i];

		if (strtol(m, &end, 10) == p && *end == '=') {
			l = strtol(end + 1, NULL, 10);
			c->ports_used |= i < 64 ? (uint64_t)1 << i : 0;
		}
	}
	if (l < 0 && p < 1024 && p > 0) {
		/* lb's choice: binding below 1024 needs root; 80 -> 8080, 443 -> 8443. */
		l = p + 8000;
		log_info("listener port %ld serves on %ld (--port-map %ld=PORT to choose)", p, l,
			 p);
	}
	return l < 0 ? (struct ynode *)port : cfn_scalar(c->a, port, config_printf(c->a, "%ld", l));
}

static int listener(struct cfn *c, struct cfn_res *r, struct ynode *list)
{
	struct ynode *o = cfn_map(c->a, r->node), *v, *rules = cfn_seq(c->a, r->node), *acts;

	if (cfn_prop(c, r, "Port", &v))
		return -1;
	if (!v || v->type != YNODE_SCALAR)
		return cfn_err(c, v ? v : r->node, "listener '%s' needs a Port", r->id);
	cfn_put(c->a, o, "port", cfn_port(c, v));
	if (cfn_prop(c, r, "Protocol", &v))
		return -1;
	cfn_put(c->a, o, "protocol", v);
	/* An HTTPS listener's certificates are ACM ARNs: lb's local CA stands in for them. */
	if (cfn_prop(c, r, "SslPolicy", &v))
		return -1;
	cfn_put(c->a, o, "ssl_policy", v);
	if (actions(c, r, "DefaultActions", &acts))
		return -1;
	/* Naming a rule finds its listener, so every rule, whichever listener it is on,
	 * is checked to be on one of the template (as a forward's target group is). */
	for (size_t i = 0; i < c->nres; i++) {
		struct cfn_res *lr = &c->res[i];

		if (lr->off || strcmp(lr->type, ELB "ListenerRule") != 0)
			continue;
		if (cfn_name(c, lr) || (lr->parent == r && rule(c, lr, rules)))
			return -1;
	}
	if (rules->n)
		cfn_put(c->a, o, "rules", rules);
	cfn_put(c->a, o, "default_actions", acts);
	cfn_push(c->a, list, o);
	return 0;
}

/* Target-group properties that map one to one onto lb's keys. */
static const struct { const char *cfn, *lb; bool hc; } tg_keys[] = {
	{ "TargetType", "target_type", false },
	{ "Protocol", "protocol", false },
	{ "Port", "port", false },
	{ "ProtocolVersion", "protocol_version", false },
	{ "IpAddressType", "ip_address_type", false },
	{ "HealthCheckEnabled", "enabled", true },
	{ "HealthCheckProtocol", "protocol", true },
	{ "HealthCheckPort", "port", true },
	{ "HealthCheckPath", "path", true },
	{ "HealthCheckIntervalSeconds", "interval", true },
	{ "HealthCheckTimeoutSeconds", "timeout", true },
	{ "HealthyThresholdCount", "healthy_threshold", true },
	{ "UnhealthyThresholdCount", "unhealthy_threshold", true },
};

/* Properties that only matter on AWS (the VPC, tags, names lb makes itself). */
static const char *const tg_ignored[] = { "Name", "VpcId", "Tags" };

static int tg_targets(struct cfn *c, const struct ynode *t, bool lambda, struct ynode *o)
{
	struct ynode *list = cfn_seq(c->a, t);

	if (t->type != YNODE_SEQUENCE)
		return cfn_err(c, t, "'Targets' must be a list");
	for (size_t i = 0; i < t->n; i++) {
		const struct ynode *id = ydoc_get(t->items[i], "Id");
		const char *fn;

		if (!id || id->type != YNODE_SCALAR)
			return cfn_err(c, t->items[i], "a target needs an Id");
		if (lambda) {
			if (!(fn = cfn_lambda_target(c, id->str)))
				return cfn_err(c, id, "'%s' is not a Lambda function's ARN", id->str);
			cfn_push(c->a, list, cfn_scalar(c->a, id, fn));
		} else {
			struct ynode *m = cfn_map(c->a, t->items[i]);

			cfn_put(c->a, m, "id", (struct ynode *)id);
			cfn_put(c->a, m, "port", (struct ynode *)ydoc_get(t->items[i], "Port"));
			cfn_push(c->a, list, m);
		}
	}
	cfn_put(c->a, o, "targets", list);
	return 0;
}

static int key_values(struct cfn *c, const struct ynode *kv, const char *what, bool lb_attrs,
		      struct ynode **out);

/* A target group's Matcher: {HttpCode} or {GrpcCode}, as CloudFormation's Matcher type. */
struct codes {
	const char *http, *grpc;
};

static const struct yfield matcher_fields[] = {
	YFIELD_STR("HttpCode", struct codes, http),
	YFIELD_STR("GrpcCode", struct codes, grpc),
};

static int matcher(struct cfn *c, const struct ynode *m, struct ynode *hc)
{
	struct codes codes = { NULL, NULL };

	if (ydoc_fields(m, "Matcher", matcher_fields, ARRAY_LEN(matcher_fields), &codes, c->a,
			c->err))
		return -1;
	if (!codes.http && !codes.grpc)
		return cfn_err(c, m, "'Matcher' needs HttpCode or GrpcCode");
	cfn_put(c->a, hc, "matcher", ydoc_get(m, codes.http ? "HttpCode" : "GrpcCode"));
	return 0;
}

static int target_group(struct cfn *c, struct cfn_res *r, struct ynode *list)
{
	struct ynode *o = cfn_map(c->a, r->node), *hc = cfn_map(c->a, r->node), *v;
	const struct ynode *props = r->props;
	const char *type;
	bool lambda;

	if (cfn_name(c, r) || cfn_prop_str(c, r, "TargetType", &type))
		return -1;
	lambda = type && strcmp(type, "lambda") == 0;
	cfn_put(c->a, o, "name", cfn_scalar(c->a, r->node, r->name));
	/* Why: a target group's TargetType defaults to instance (CreateTargetGroup). */
	if (!type)
		cfn_put(c->a, o, "target_type", cfn_scalar(c->a, r->node, "instance"));
	for (size_t i = 0; props && i < props->n; i++) {
		const char *k = props->pairs[i].key->str;
		bool ign = false;
		size_t j;

		for (j = 0; j < ARRAY_LEN(tg_ignored); j++)
			ign |= strcmp(tg_ignored[j], k) == 0;
		if (ign)
			continue;
		if (cfn_prop(c, r, k, &v))
			return -1;
		for (j = 0; j < ARRAY_LEN(tg_keys) && strcmp(tg_keys[j].cfn, k) != 0; j++)
			;
		/* Lambda groups take no protocol or port (aws-integration.md §4.4). */
		if (j < ARRAY_LEN(tg_keys) && lambda && !tg_keys[j].hc && j > 0)
			continue;
		if (j < ARRAY_LEN(tg_keys)) {
			cfn_put(c->a, tg_keys[j].hc ? hc : o, tg_keys[j].lb, v);
		} else if (strcmp(k, "Matcher") == 0 && v) {
			if (matcher(c, v, hc))
				return -1;
		} else if (strcmp(k, "TargetGroupAttributes") == 0 && v) {
			if (key_values(c, v, k, false, &v))
				return -1;
			cfn_put(c->a, o, "attributes", v);
		} else if (strcmp(k, "Targets") == 0 && v) {
			if (tg_targets(c, v, lambda, o))
				return -1;
		} else if (strcmp(k, "Targets") != 0) {
			return cfn_err(c, props->pairs[i].key, "unknown target-group property '%s'",
				       k);
		}
	}
	if (hc->n)
		cfn_put(c->a, o, "health_check", hc);
	cfn_push(c->a, list, o);
	return 0;
}

/* The load balancer's attribute keys lb implements (config.c); AWS's others are skipped. */
static const char *const lb_attr_keys[] = {
	"idle_timeout.timeout_seconds", "client_keep_alive.seconds",
	"routing.http.desync_mitigation_mode", "routing.http.xff_header_processing.mode",
	"routing.http.xff_client_port.enabled", "routing.http.preserve_host_header.enabled",
	"routing.http.drop_invalid_header_fields.enabled", "routing.http2.enabled",
};

/* An attribute: Key and Value, strings (numbers and booleans in YAML are strings too). */
struct key_value {
	const char *key, *value;
};

static const struct yfield key_value_fields[] = {
	YFIELD_STR("Key", struct key_value, key, .required = true),
	YFIELD_STR("Value", struct key_value, value, .required = true),
};

/*
 * The list [{Key, Value}] of property what as a mapping in *out. Why: lb's own
 * keys are checked later, but a list of the wrong shape would otherwise vanish
 * unseen; with lb_attrs, keys lb does not implement are listed as skipped.
 */
static int key_values(struct cfn *c, const struct ynode *kv, const char *what, bool lb_attrs,
		      struct ynode **out)
{
	struct ynode *m = cfn_map(c->a, kv);

	if (ydoc_list(kv, what, YNODE_MAPPING, c->err))
		return -1;
	for (size_t i = 0; i < kv->n; i++) {
		struct key_value p;
		bool known = !lb_attrs;

		if (ydoc_fields(kv->items[i], what, key_value_fields, ARRAY_LEN(key_value_fields),
				&p, c->a, c->err))
			return -1;
		for (size_t j = 0; lb_attrs && j < ARRAY_LEN(lb_attr_keys); j++)
			known |= strcmp(lb_attr_keys[j], p.key) == 0;
		if (known)
			cfn_put(c->a, m, p.key, ydoc_get(kv->items[i], "Value"));
		else
			buf_printf(c->skipped, "%sattribute %s", c->skipped->len ? ", " : "", p.key);
	}
	*out = m;
	return 0;
}

static int load_balancer(struct cfn *c, struct cfn_res **lb, struct ynode *root)
{
	struct ynode *o, *v;
	const char *type;

	*lb = NULL;
	for (size_t i = 0; i < c->nres; i++) {
		struct cfn_res *r = &c->res[i];

		if (r->off || strcmp(r->type, ELB "LoadBalancer") != 0)
			continue;
		if (cfn_prop_str(c, r, "Type", &type))
			return -1;
		if (type && strcmp(type, "application") != 0) {
			buf_printf(c->skipped, "%s%s (a %s load balancer)",
				   c->skipped->len ? ", " : "", r->id, type);
			continue;
		}
		if (*lb)
			return cfn_err(c, r->node, "lb serves one load balancer; '%s' is a second "
				       "one (first: '%s')", r->id, (*lb)->id);
		*lb = r;
	}
	if (!*lb)
		return ydoc_err(c->err, ydoc_get(c->root, "Resources"), "the template defines no "
				"application load balancer (" ELB "LoadBalancer)");
	if (cfn_name(c, *lb))
		return -1;
	o = cfn_map(c->a, (*lb)->node);
	cfn_put(c->a, o, "name", cfn_scalar(c->a, (*lb)->node, (*lb)->name));
	cfn_put(c->a, o, "region", cfn_scalar(c->a, (*lb)->node, c->region));
	cfn_put(c->a, o, "account_id", cfn_scalar(c->a, (*lb)->node, c->account));
	if (cfn_prop(c, *lb, "LoadBalancerAttributes", &v))
		return -1;
	if (v && key_values(c, v, "LoadBalancerAttributes", true, &v))
		return -1;
	cfn_put(c->a, o, "attributes", v);
	cfn_put(c->a, root, "load_balancer", o);
	return 0;
}

static const char *const emulated[] = {
	ELB "LoadBalancer", ELB "Listener", ELB "ListenerRule", ELB "TargetGroup",
	"AWS::Lambda::Function", "AWS::Lambda::Version", "AWS::Lambda::Alias",
	"AWS::Lambda::LayerVersion", "AWS::Serverless::Function", "AWS::Serverless::LayerVersion",
	/* Why: locally ALB may always invoke; these only grant that on AWS. */
	"AWS::Lambda::Permission", "AWS::CDK::Metadata",
	/* Read as stacks of their own (stack.c), or said to be out of reach. */
	"AWS::CloudFormation::Stack", "AWS::Serverless::Application",
};

/* Resources lb knows by their name or ARN: two of one kind must not share it. */
static const char *const distinct[] = {
	ELB "Listener", ELB "ListenerRule", ELB "TargetGroup", "AWS::Lambda::Function",
	"AWS::Serverless::Function", "AWS::Lambda::Alias", "AWS::Lambda::LayerVersion",
	"AWS::Serverless::LayerVersion",
};

static bool same_kind(const char *a, const char *b)
{
	/* A SAM function is a Lambda function, and so for layers. */
	return strcmp(strrchr(a, ':'), strrchr(b, ':')) == 0;
}

/*
 * Why: lb names a resource by its logical id or Name (an ARN built on it), as
 * one template's ids are unique; two stacks may reuse an id (CDK's come from
 * the construct path within its stack), and then a rule, a target or a version
 * of one would silently be the other's.
 */
static int clashes(struct cfn *c)
{
	for (size_t i = 0; c->nstacks > 1 && i < c->nres; i++) {
		const struct cfn_res *r = &c->res[i];
		bool kept = false;

		for (size_t j = 0; j < ARRAY_LEN(distinct); j++)
			kept |= strcmp(distinct[j], r->type) == 0;
		if (!kept || r->off || !r->named)
			continue;
		for (size_t k = 0; k < i; k++) {
			const struct cfn_res *o = &c->res[k];

			if (o->stack == r->stack || o->off || !o->named || !same_kind(o->type, r->type) ||
			    strcmp(o->ref, r->ref) != 0)
				continue;
			return cfn_err(c, r->node, "'%s' of stack %s and '%s' of stack %s are both "
				       "'%s' to lb, which cannot tell them apart: give one another %s",
				       r->id, c->stacks[r->stack].stack, o->id, c->stacks[o->stack].stack,
				       strstr(r->type, "Alias") ? r->ref : r->name,
				       strstr(r->type, "Function") ? "FunctionName" :
				       strstr(r->type, "Alias") || strstr(r->type, "TargetGroup") ? "Name" :
				       strstr(r->type, "Layer") ? "LayerName" : "logical id");
		}
	}
	return 0;
}

int cfn_config(struct cfn *c, struct ynode **out)
{
	struct ynode *root = cfn_map(c->a, c->root);
	struct ynode *ls = cfn_seq(c->a, c->root), *tgs = cfn_seq(c->a, c->root);
	struct ynode *fns = cfn_seq(c->a, c->root);
	struct cfn_res *lb;

	/* First: a SAM "ALB event" is often the template's only try at a load balancer. */
	if (cfn_sam_events(c) || load_balancer(c, &lb, root))
		return -1;
	for (size_t i = 0; i < c->nres; i++) {
		struct cfn_res *r = &c->res[i];
		bool known = false;

		for (size_t j = 0; j < ARRAY_LEN(emulated); j++)
			known |= strcmp(emulated[j], r->type) == 0;
		if (!known && !r->off)
			buf_printf(c->skipped, "%s%s (%s)", c->skipped->len ? ", " : "", r->id,
				   r->type);
		if (r->off || strcmp(r->type, ELB "Listener") != 0)
			continue;
		/* Naming finds its load balancer; one of another load balancer of the
		 * template (a network one) goes with it. */
		if (cfn_name(c, r))
			return -1;
		if (r->parent == lb && listener(c, r, ls))
			return -1;
	}
	if (ls->n == 0)
		return cfn_err(c, lb->node, "load balancer '%s' has no listener", lb->id);
	for (size_t i = 0; i < c->nres; i++) {
		if (!c->res[i].off && strcmp(c->res[i].type, ELB "TargetGroup") == 0 &&
		    target_group(c, &c->res[i], tgs))
			return -1;
	}
	if (cfn_functions(c, fns) || clashes(c))
		return -1;
	cfn_put(c->a, root, "listeners", ls);
	if (tgs->n)
		cfn_put(c->a, root, "target_groups", tgs);
	if (fns->n)
		cfn_put(c->a, root, "functions", fns);
	*out = root;
	return 0;
}
