/*
 * config_tg: target groups (DESIGN.md §5, §13): their type, targets,
 * attributes and health check, checked against AWS's ranges.
 *
 * Everything is allocated in cfg->arena; this file holds no state.
 */
#include "config/config_tg.h"

#include <stdlib.h>
#include <string.h>

#include "config/config_fn.h"
#include "config/config_int.h"

#define TARGET_GROUPS_MAX 100  /* alb-listener-rules.md §1: target groups per ALB */

static const struct yfield tg_fields[] = {
	YFIELD_STR("name", struct target_group, name, .required = true),
	YFIELD_NODE("target_type", .required = true),
	YFIELD_STR_LIST("targets", struct target_group, targets, ntargets),
	YFIELD_NODE("attributes"),
	YFIELD_NODE("health_check"),
};

/* Why: the one target-group attribute that applies to Lambda targets (§3.3). */
static const struct yfield tg_attr_fields[] = {
	YFIELD_BOOL("lambda.multi_value_headers.enabled", struct target_group, multi_value_headers),
};

/* Why: CreateTargetGroup's health-check ranges (alb-listener-rules.md §3.3). */
static const struct yfield health_check_fields[] = {
	YFIELD_BOOL("enabled", struct health_check_cfg, enabled),
	YFIELD_STR("path", struct health_check_cfg, path),
	YFIELD_INT("interval", struct health_check_cfg, interval, 5, 300),
	YFIELD_INT("timeout", struct health_check_cfg, timeout, 2, 120),
	YFIELD_INT("healthy_threshold", struct health_check_cfg, healthy_threshold, 2, 10),
	YFIELD_INT("unhealthy_threshold", struct health_check_cfg, unhealthy_threshold, 2, 10),
	YFIELD_STR("matcher", struct health_check_cfg, matcher),
};

/* Why: TargetType is instance, ip, lambda or alb (alb-http-targets-and-tls.md §1.1). */
static const char *const target_types[] = { "instance", "ip", "lambda", "alb" };
enum { TT_INSTANCE, TT_IP, TT_LAMBDA, TT_ALB };

/*
 * Why: Lambda target groups' health-check defaults (alb-lambda-targets.md
 * §3: disabled, interval 35 s, timeout 30 s, healthy 5, unhealthy 2, matcher
 * 200). The current ELBv2 API doc says unhealthy 5 (alb-listener-rules.md
 * §3.3); lb follows the health-check guide, which is specific to Lambda.
 */
static const struct health_check_cfg health_check_defaults = {
	.enabled = false,
	.path = "/",
	.interval = 35,
	.timeout = 30,
	.healthy_threshold = 5,
	.unhealthy_threshold = 2,
	.matcher = "200",
};

static bool http_code_ok(const char *s, size_t n)
{
	int code = 0;

	if (n != 3)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		code = code * 10 + (s[i] - '0');
	}
	return code >= 200 && code <= 499;
}

/* Why: Matcher.HttpCode is 200-499, as "200", "200,202" or "200-299" (§3.3). */
static bool matcher_ok(const char *s)
{
	const char *dash = strchr(s, '-');

	if (dash)
		return http_code_ok(s, (size_t)(dash - s)) &&
		       http_code_ok(dash + 1, strlen(dash + 1)) && atoi(s) <= atoi(dash + 1);
	for (;;) {
		size_t n = strcspn(s, ",");

		if (!http_code_ok(s, n))
			return false;
		if (!s[n])
			return true;
		s += n + 1;
	}
}

static int health_check_load(struct config *cfg, const struct ynode *n,
			     struct health_check_cfg *hc, struct lb_err *err)
{
	const struct ynode *at;

	if (ydoc_fields(n, "health_check", health_check_fields, ARRAY_LEN(health_check_fields), hc,
			&cfg->arena, err))
		return -1;
	/* lb's choice: the path becomes the health-check event's path, so it must be one. */
	if (hc->path[0] != '/')
		return ydoc_err(err, ydoc_get(n, "path"), "'path' must start with '/', not '%s'",
				hc->path);
	if (!matcher_ok(hc->matcher))
		return ydoc_err(err, ydoc_get(n, "matcher"), "'matcher' must be HTTP codes 200-499 "
				"as \"200\", \"200,202\" or \"200-299\", not '%s'", hc->matcher);
	/* Why: the health-check timeout must be less than the interval (§3.3). */
	if (hc->timeout >= hc->interval) {
		at = ydoc_get(n, "timeout") ? ydoc_get(n, "timeout") : ydoc_get(n, "interval");
		return ydoc_err(err, at, "'timeout' (%d) must be less than 'interval' (%d)",
				hc->timeout, hc->interval);
	}
	return 0;
}

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

static int target_type_load(const struct ynode *n, struct target_group *tg, struct lb_err *err)
{
	const struct ynode *v = ydoc_get(n, "target_type");
	int type;

	if (ydoc_enum(v, "target_type", target_types, ARRAY_LEN(target_types), &type, err))
		return -1;
	if (type == TT_ALB)
		return ydoc_err(err, v, "target_type 'alb' is only for Network Load Balancers");
	if (type != TT_LAMBDA)
		return ydoc_err(err, v, "target_type '%s' is not supported yet",
				target_types[type]);
	tg->target_type = TARGET_LAMBDA;
	return 0;
}

static int tg_load(struct config *cfg, const struct ynode *n, struct target_group *tg,
		   struct lb_err *err)
{
	const struct ynode *attrs = ydoc_get(n, "attributes"), *hc = ydoc_get(n, "health_check");
	const struct ynode *targets = ydoc_get(n, "targets");
	const struct target_group *dup;

	tg->pos = (struct src_pos){ n->file, n->line, n->col };
	tg->health_check = health_check_defaults;
	if (ydoc_fields(n, "target_groups", tg_fields, ARRAY_LEN(tg_fields), tg, &cfg->arena,
			err) ||
	    config_elb_name_check(n, "target group", tg->name, err))
		return -1;
	if ((dup = config_target_group(cfg, tg->name)))
		return ydoc_err(err, ydoc_get(n, "name"), "duplicate target group '%s' (first on "
				"line %d)", tg->name, dup->pos.line);
	if (target_type_load(n, tg, err))
		return -1;
	/* Why: a lambda target group holds one function (alb-listener-rules.md §1, §3.3). */
	if (tg->ntargets > 1)
		return ydoc_err(err, targets->items[1], "a lambda target group has one target");
	if (tg->ntargets && target_resolve(cfg, tg, targets->items[0], err))
		return -1;
	if (attrs && ydoc_fields(attrs, "attributes", tg_attr_fields, ARRAY_LEN(tg_attr_fields),
				 tg, NULL, err))
		return -1;
	if (hc && health_check_load(cfg, hc, &tg->health_check, err))
		return -1;
	return 0;
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
