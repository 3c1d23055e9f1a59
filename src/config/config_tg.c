/*
 * config_tg: target groups (DESIGN.md §5, §13): their type, targets and
 * the keys only one kind takes, checked against AWS's ranges
 * (alb-http-targets-and-tls.md §1.1); config_tg_attrs.c reads their
 * attributes, config_tg_hc.c their health checks.
 *
 * Two kinds of group share struct target_group. A lambda group names at
 * most one function (`targets: ["fn:alias"]`); an instance or ip group
 * has a protocol, a port and up to 1000 `{id, port}` targets, each given
 * a key ("127.0.0.1:3001", "[::1]:3001", "localhost:3001") that is
 * unique within the group and stable across reloads. Keys that only
 * apply to one kind are errors on the other, named as such.
 *
 * Everything is allocated in cfg->arena; this file holds no state.
 */
#include "config/config_tg.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "config/config_fn.h"
#include "config/config_int.h"

#define TARGET_GROUPS_MAX 100  /* alb-listener-rules.md §1: target groups per ALB */
#define TARGETS_MAX 1000       /* alb-http-targets-and-tls.md §1.1: targets per group */
#define HOST_NAME_MAX_LEN 253

static const struct yfield tg_fields[] = {
	YFIELD_STR("name", struct target_group, name, .required = true),
	YFIELD_NODE("target_type", .required = true),
	YFIELD_NODE("targets"),
	YFIELD_NODE("protocol"),
	YFIELD_INT("port", struct target_group, port, 1, 65535),
	YFIELD_NODE("protocol_version"),
	YFIELD_NODE("ip_address_type"),
	YFIELD_NODE("attributes"),
	YFIELD_NODE("health_check"),
};

/* Why: Port, Protocol (and so ProtocolVersion, IpAddressType) do not apply
 * to lambda groups (alb-listener-rules.md §3.3). */
static const char *const http_only_keys[] = { "protocol", "port", "protocol_version",
					      "ip_address_type" };

static const struct yfield target_fields[] = {
	YFIELD_STR("id", struct http_target, id, .required = true),
	YFIELD_INT("port", struct http_target, port, 1, 65535),
};

/* Why: TargetType is instance, ip, lambda or alb (§1.1). */
static const char *const target_types[] = { "instance", "ip", "lambda", "alb" };
enum { TT_INSTANCE, TT_IP, TT_LAMBDA, TT_ALB };
const char *const config_tg_protocols[2] = {
	[TG_PROTO_HTTP] = "HTTP",
	[TG_PROTO_HTTPS] = "HTTPS",
};
const char *const config_tg_protocol_versions[3] = {
	[TG_PROTO_HTTP1] = "HTTP1",
	[TG_PROTO_HTTP2] = "HTTP2",
	[TG_PROTO_GRPC] = "GRPC",
};
static const char *const ip_address_types[] = { "ipv4", "ipv6" };

/* "fn", "fn:$LATEST", "fn:VERSION" or "fn:ALIAS" into tg->function and tg->qualifier. */
static int target_resolve(struct config *cfg, struct target_group *tg, const struct ynode *at,
			  struct lb_err *err)
{
	const char *colon = strchr(tg->targets[0], ':');
	char *name = colon ? xstrndup(tg->targets[0], (size_t)(colon - tg->targets[0]))
			   : xstrdup(tg->targets[0]);
	int rc = -1;

	if (!(tg->function = config_function(cfg, name))) {
		ydoc_err(err, at, "function '%s' is not defined", name);
		goto out;
	}
	if (colon && strcmp(colon + 1, "$LATEST") != 0) {
		/* A remote function's versions and aliases live at its endpoint:
		 * the qualifier goes there as ?Qualifier= unchecked. */
		if (!tg->function->endpoint && !config_fn_qualifier_ok(tg->function, colon + 1)) {
			ydoc_err(err, at, "function '%s' has no version or alias '%s'", name,
				 colon + 1);
			goto out;
		}
		tg->qualifier = colon + 1;
	}
	rc = 0;
out:
	free(name);
	return rc;
}

static int lambda_group_load(struct config *cfg, const struct ynode *n, struct target_group *tg,
			     struct lb_err *err)
{
	const struct ynode *targets = ydoc_get(n, "targets");

	for (size_t i = 0; i < ARRAY_LEN(http_only_keys); i++) {
		const struct ynode *k = ydoc_key(n, http_only_keys[i]);

		if (k)
			return ydoc_err(err, k, "'%s' does not apply to lambda target groups",
					k->str);
	}
	if (targets &&
	    ydoc_str_list(targets, "targets", &cfg->arena, &tg->targets, &tg->ntargets, err))
		return -1;
	/* Why: a lambda target group holds one function (alb-listener-rules.md §1, §3.3). */
	if (tg->ntargets > 1)
		return ydoc_err(err, targets->items[1], "a lambda target group has one target");
	return tg->ntargets ? target_resolve(cfg, tg, targets->items[0], err) : 0;
}

/* RFC 1123 host name: dot-separated labels of 1-63 letters, digits and
 * hyphens, not starting or ending with a hyphen; at most 253 characters. */
static bool host_name_ok(const char *s)
{
	size_t n = strlen(s), label = 0;

	if (n == 0 || n > HOST_NAME_MAX_LEN)
		return false;
	for (size_t i = 0; i <= n; i++) {
		char c = s[i];

		if (c == '.' || c == '\0') {
			if (label == 0 || label > 63 || s[i - 1] == '-' || s[i - label] == '-')
				return false;
			label = 0;
		} else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			   (c >= '0' && c <= '9') || c == '-') {
			label++;
		} else {
			return false;
		}
	}
	return true;
}

/* id and port of one target; its key from the canonical address or the lower-cased name. */
static int http_target_load(struct config *cfg, const struct ynode *n, struct target_group *tg,
			    struct http_target *t, struct lb_err *err)
{
	uint8_t addr[16];
	char text[INET6_ADDRSTRLEN];

	t->pos = (struct src_pos){ n->file, n->line, n->col };
	t->port = tg->port;
	if (ydoc_fields(n, "targets", target_fields, ARRAY_LEN(target_fields), t, &cfg->arena,
			err))
		return -1;
	if (inet_pton(AF_INET, t->id, addr) == 1)
		t->family = AF_INET;
	else if (inet_pton(AF_INET6, t->id, addr) == 1)
		t->family = AF_INET6;
	/* Why: ip targets are addresses (§1.1); lb's choice: any address,
	 * loopback and public ones included, since it runs locally. */
	else if (tg->target_type == TARGET_IP)
		return ydoc_err(err, ydoc_get(n, "id"), "target id '%s' must be an IPv4 or IPv6 "
				"address (target_type ip)", t->id);
	/* lb's choice: an instance id is a host name or an address, as there
	 * are no EC2 instances locally (§5.1). */
	else if (!host_name_ok(t->id))
		return ydoc_err(err, ydoc_get(n, "id"), "target id '%s' must be a host name or an "
				"IP address", t->id);
	if (t->family) {
		inet_ntop(t->family, addr, text, sizeof(text));
		t->key = t->family == AF_INET6 ? config_printf(&cfg->arena, "[%s]:%d", text, t->port)
					       : config_printf(&cfg->arena, "%s:%d", text, t->port);
	} else {
		char *key = config_printf(&cfg->arena, "%s:%d", t->id, t->port);

		for (char *p = key; *p; p++)
			*p = ascii_lower(*p);
		t->key = key;
	}
	return 0;
}

/* Why: the targets of an ip group share one address family (§1.1). */
static int family_check(const struct ynode *group, const struct target_group *tg,
			const struct http_target *t, struct lb_err *err)
{
	const struct ynode *id = ydoc_get(group, "targets");

	if (tg->target_type != TARGET_IP || (t->family == AF_INET6) == tg->ipv6)
		return 0;
	id = ydoc_get(id->items[t - tg->http_targets], "id");
	if (ydoc_get(group, "ip_address_type"))
		return ydoc_err(err, id, "target '%s' is %s, but ip_address_type is %s", t->id,
				tg->ipv6 ? "IPv4" : "IPv6", tg->ipv6 ? "ipv6" : "ipv4");
	return ydoc_err(err, id, "target '%s' is %s, but the group's first target '%s' is %s "
			"(a target group has one address family)", t->id,
			tg->ipv6 ? "IPv4" : "IPv6", tg->http_targets[0].id,
			tg->ipv6 ? "IPv6" : "IPv4");
}

static int http_targets_load(struct config *cfg, const struct ynode *n, struct target_group *tg,
			     struct lb_err *err)
{
	const struct ynode *seq = ydoc_get(n, "targets");

	if (!seq)
		return 0;
	if (ydoc_list(seq, "targets", YNODE_MAPPING, err))
		return -1;
	if (seq->n > TARGETS_MAX)
		return ydoc_err(err, seq->items[TARGETS_MAX], "a target group has at most %d "
				"targets", TARGETS_MAX);
	tg->http_targets = arena_alloc(&cfg->arena, seq->n * sizeof(*tg->http_targets));
	for (; tg->nhttp_targets < seq->n; tg->nhttp_targets++) {
		struct http_target *t = &tg->http_targets[tg->nhttp_targets];

		if (http_target_load(cfg, seq->items[tg->nhttp_targets], tg, t, err))
			return -1;
		if (tg->nhttp_targets == 0 && !ydoc_get(n, "ip_address_type"))
			tg->ipv6 = t->family == AF_INET6;
		if (family_check(n, tg, t, err))
			return -1;
		for (size_t i = 0; i < tg->nhttp_targets; i++) {
			if (strcmp(tg->http_targets[i].key, t->key) == 0)
				return ydoc_err(err, ydoc_get(seq->items[tg->nhttp_targets], "id"),
						"target %s is registered twice (first on line %d)",
						t->key, tg->http_targets[i].pos.line);
		}
	}
	return 0;
}

static int http_group_load(struct config *cfg, const struct ynode *n, struct target_group *tg,
			   struct lb_err *err)
{
	const struct ynode *proto = ydoc_get(n, "protocol"), *pv = ydoc_get(n, "protocol_version");
	const struct ynode *ipt = ydoc_get(n, "ip_address_type");
	int p = TG_PROTO_HTTP, v = TG_PROTO_HTTP1, fam = 0;

	/* Why: instance and ip groups need a port, the default of their
	 * targets (§1.1). lb's choice: the protocol defaults to HTTP. */
	if (!ydoc_key(n, "port"))
		return ydoc_err(err, n, "missing key 'port' (target_type %s needs one)",
				tg->target_type == TARGET_IP ? "ip" : "instance");
	if ((proto && ydoc_enum(proto, "protocol", config_tg_protocols,
				ARRAY_LEN(config_tg_protocols), &p, err)) ||
	    (pv && ydoc_enum(pv, "protocol_version", config_tg_protocol_versions,
			     ARRAY_LEN(config_tg_protocol_versions), &v, err)) ||
	    (ipt && ydoc_enum(ipt, "ip_address_type", ip_address_types,
			      ARRAY_LEN(ip_address_types), &fam, err)))
		return -1;
	/* Why: IPv6 target groups take ip targets only (§1.1). */
	if (fam == 1 && tg->target_type != TARGET_IP)
		return ydoc_err(err, ipt, "ip_address_type ipv6 needs target_type ip");
	tg->protocol = (enum tg_protocol)p;
	tg->protocol_version = (enum tg_protocol_version)v;
	tg->ipv6 = fam == 1;
	return http_targets_load(cfg, n, tg, err);
}

static int target_type_load(const struct ynode *n, struct target_group *tg, struct lb_err *err)
{
	const struct ynode *v = ydoc_get(n, "target_type");
	int type;

	if (ydoc_enum(v, "target_type", target_types, ARRAY_LEN(target_types), &type, err))
		return -1;
	if (type == TT_ALB)
		return ydoc_err(err, v, "target_type 'alb' is only for Network Load Balancers");
	tg->target_type = type == TT_LAMBDA ? TARGET_LAMBDA
			  : type == TT_IP   ? TARGET_IP
					    : TARGET_INSTANCE;
	return 0;
}

static int tg_load(struct config *cfg, const struct ynode *n, struct target_group *tg,
		   struct lb_err *err)
{
	const struct target_group *dup;
	bool lambda;

	tg->pos = (struct src_pos){ n->file, n->line, n->col };
	if (ydoc_fields(n, "target_groups", tg_fields, ARRAY_LEN(tg_fields), tg, &cfg->arena,
			err) ||
	    config_elb_name_check(n, "target group", tg->name, err))
		return -1;
	if ((dup = config_target_group(cfg, tg->name)))
		return ydoc_err(err, ydoc_get(n, "name"), "duplicate target group '%s' (first on "
				"line %d)", tg->name, dup->pos.line);
	if (target_type_load(n, tg, err))
		return -1;
	lambda = tg->target_type == TARGET_LAMBDA;
	if (lambda ? lambda_group_load(cfg, n, tg, err) : http_group_load(cfg, n, tg, err))
		return -1;
	if (config_tg_attrs_load(cfg, ydoc_get(n, "attributes"), tg, err))
		return -1;
	return config_tg_hc_load(cfg, ydoc_get(n, "health_check"), tg, err);
}

int config_tg_load(struct config *cfg, const struct ynode *seq, struct lb_err *err)
{
	if (!seq)
		return 0;
	if (ydoc_list(seq, "target_groups", YNODE_MAPPING, err))
		return -1;
	if (seq->n > TARGET_GROUPS_MAX)
		return ydoc_err(err, seq->items[TARGET_GROUPS_MAX],
				"a load balancer has at most %d target groups", TARGET_GROUPS_MAX);
	cfg->target_groups = arena_alloc(&cfg->arena, seq->n * sizeof(*cfg->target_groups));
	for (; cfg->ntarget_groups < seq->n; cfg->ntarget_groups++) {
		struct target_group *tg = &cfg->target_groups[cfg->ntarget_groups];
		char id[17];

		if (tg_load(cfg, seq->items[cfg->ntarget_groups], tg, err))
			return -1;
		config_stable_id(tg->name, id);
		tg->arn = config_printf(&cfg->arena,
				       "arn:aws:elasticloadbalancing:%s:%s:targetgroup/%s/%s",
				       cfg->lb.region, cfg->lb.account_id, tg->name, id);
	}
	return 0;
}
