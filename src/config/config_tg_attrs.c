/*
 * config_tg_attrs: a target group's `attributes:` (DESIGN.md §13), by
 * AWS's keys verbatim (alb-http-targets-and-tls.md §2.9), with AWS's
 * ranges and defaults and the combinations AWS refuses (§1.7, §1.8,
 * §1.11), each reported at the value that breaks the rule.
 *
 * Lambda groups take only lambda.multi_value_headers.enabled; instance
 * and ip groups take the rest. A key that belongs to the other kind is
 * named as such rather than called unknown.
 *
 * Everything is allocated in cfg->arena; this file holds no state.
 */
#include "config/config_tg.h"

#include <string.h>

#define ATTR_SLOW_START "slow_start.duration_seconds"
#define ATTR_ALGORITHM "load_balancing.algorithm.type"
#define ATTR_ANOMALY "load_balancing.algorithm.anomaly_mitigation"
#define ATTR_CROSS_ZONE "load_balancing.cross_zone.enabled"
#define ATTR_STICKY "stickiness.enabled"
#define ATTR_STICKY_TYPE "stickiness.type"
#define ATTR_COOKIE_NAME "stickiness.app_cookie.cookie_name"
#define ATTR_ROUTING "target_group_health.unhealthy_state_routing.minimum_healthy_targets."
#define ATTR_DNS "target_group_health.dns_failover.minimum_healthy_targets."

#define TARGETS_MAX 1000       /* §1.1: targets per target group */
#define STICKY_DURATION_MAX 604800

/* Why: the one target-group attribute that applies to Lambda targets
 * (alb-listener-rules.md §3.3). */
static const struct yfield lambda_attr_fields[] = {
	YFIELD_BOOL("lambda.multi_value_headers.enabled", struct target_group, multi_value_headers),
};

/* Why: TargetGroupAttribute's keys and ranges for instance/ip groups (§2.9). */
static const struct yfield http_attr_fields[] = {
	YFIELD_INT("deregistration_delay.timeout_seconds", struct tg_attributes,
		   deregistration_delay, 0, 3600),
	YFIELD_INT(ATTR_SLOW_START, struct tg_attributes, slow_start, 0, 900),
	YFIELD_NODE(ATTR_ALGORITHM),
	YFIELD_NODE(ATTR_ANOMALY),
	YFIELD_NODE(ATTR_CROSS_ZONE),
	YFIELD_BOOL(ATTR_STICKY, struct tg_attributes, stickiness),
	YFIELD_NODE(ATTR_STICKY_TYPE),
	YFIELD_INT("stickiness.lb_cookie.duration_seconds", struct tg_attributes,
		   lb_cookie_duration, 1, STICKY_DURATION_MAX),
	YFIELD_INT("stickiness.app_cookie.duration_seconds", struct tg_attributes,
		   app_cookie_duration, 1, STICKY_DURATION_MAX),
	YFIELD_NODE(ATTR_COOKIE_NAME),
	YFIELD_INT(ATTR_ROUTING "count", struct tg_attributes, min_healthy_count, 1, TARGETS_MAX),
	YFIELD_NODE(ATTR_ROUTING "percentage"),
	YFIELD_NODE(ATTR_DNS "count"),
	YFIELD_NODE(ATTR_DNS "percentage"),
};

const char *const config_tg_algorithms[3] = {
	[ALGO_ROUND_ROBIN] = "round_robin",
	[ALGO_LEAST_OUTSTANDING] = "least_outstanding_requests",
	[ALGO_WEIGHTED_RANDOM] = "weighted_random",
};
static const char *const on_off[] = { "off", "on" };
static const char *const cross_zones[] = {
	[CROSS_ZONE_INHERIT] = "use_load_balancer_configuration",
	[CROSS_ZONE_ON] = "true",
	[CROSS_ZONE_OFF] = "false",
};
static const char *const stickiness_types[] = {
	[STICKINESS_LB_COOKIE] = "lb_cookie",
	[STICKINESS_APP_COOKIE] = "app_cookie",
};

/* Why: AWS's defaults for instance/ip groups (§2.9). */
static const struct tg_attributes http_attr_defaults = {
	.deregistration_delay = 300,
	.algorithm = ALGO_ROUND_ROBIN,
	.cross_zone = CROSS_ZONE_INHERIT,
	.stickiness_type = STICKINESS_LB_COOKIE,
	.lb_cookie_duration = 86400,
	.app_cookie_duration = 86400,
	.min_healthy_count = 1,
};

static bool in_fields(const struct yfield *f, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++) {
		if (strcmp(f[i].key, key) == 0)
			return true;
	}
	return false;
}

/* A key of the other kind of group is named as such, not as unknown. */
static int other_kind_keys(const struct ynode *map, bool lambda, struct lb_err *err)
{
	for (size_t i = 0; map->type == YNODE_MAPPING && i < map->n; i++) {
		const struct ynode *k = map->pairs[i].key;

		if (lambda && in_fields(http_attr_fields, ARRAY_LEN(http_attr_fields), k->str))
			return ydoc_err(err, k, "attribute '%s' does not apply to lambda target "
					"groups", k->str);
		if (!lambda && in_fields(lambda_attr_fields, ARRAY_LEN(lambda_attr_fields), k->str))
			return ydoc_err(err, k, "attribute '%s' applies only to lambda target groups",
					k->str);
	}
	return 0;
}

/* An enum-valued attribute, if present. */
static int attr_enum(const struct ynode *map, const char *key, const char *const *names,
		     size_t nnames, int *out, struct lb_err *err)
{
	const struct ynode *v = ydoc_get(map, key);

	return v ? ydoc_enum(v, key, names, nnames, out, err) : 0;
}

/* "off" (0) or an integer in [1, max], if present. */
static int attr_off_or_int(const struct ynode *map, const char *key, int max, int *out,
			   struct lb_err *err)
{
	const struct ynode *v = ydoc_get(map, key);
	struct lb_err ignored;
	const char *s;

	if (!v)
		return 0;
	if (ydoc_str(v, key, &s, err))
		return -1;
	if (strcmp(s, "off") == 0) {
		*out = 0;
		return 0;
	}
	if (ydoc_int(v, key, 1, max, out, &ignored) == 0)
		return 0;
	return ydoc_err(err, v, "'%s' must be off or between 1 and %d, not '%s'", key, max, s);
}

/* Why: RFC 6265's cookie-name is an RFC 2616 token; ALB compares the name
 * in the target's Set-Cookie, so it must be one a target can set. */
static bool cookie_token_ok(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c <= 0x20 || c >= 0x7f || strchr("()<>@,;:\\\"/[]?={}", c))
			return false;
	}
	return true;
}

static int cookie_name_load(struct config *cfg, const struct ynode *map, struct tg_attributes *a,
			    struct lb_err *err)
{
	const struct ynode *v = ydoc_get(map, ATTR_COOKIE_NAME);
	const char *s;

	if (!v) {
		/* Why: app_cookie stickiness needs the application's cookie name (§1.11). */
		if (a->stickiness_type == STICKINESS_APP_COOKIE)
			return ydoc_err(err, ydoc_get(map, ATTR_STICKY_TYPE), "missing key '"
					ATTR_COOKIE_NAME "' (stickiness.type is app_cookie)");
		return 0;
	}
	if (ydoc_str(v, ATTR_COOKIE_NAME, &s, err))
		return -1;
	if (!cookie_token_ok(s))
		return ydoc_err(err, v, "'" ATTR_COOKIE_NAME "' must be a cookie name (letters, "
				"digits and !#$%%&'*+-.^_`|~), not '%s'", s);
	/* Why: the prefixes AWSALB, AWSALBAPP and AWSALBTG are ALB's own (§1.11);
	 * AWSALB covers all three. */
	if (strncmp(s, "AWSALB", 6) == 0)
		return ydoc_err(err, v, "'" ATTR_COOKIE_NAME "' must not start with AWSALB, "
				"AWSALBAPP or AWSALBTG (ALB's own cookies), not '%s'", s);
	if (a->stickiness_type == STICKINESS_APP_COOKIE)
		a->app_cookie_name = arena_strdup(&cfg->arena, s);
	return 0;
}

static int http_attrs_read(struct config *cfg, const struct ynode *map, struct tg_attributes *a,
			   struct lb_err *err)
{
	int algo = a->algorithm, anomaly = 0, cz = a->cross_zone, st = a->stickiness_type;

	if (ydoc_fields(map, "attributes", http_attr_fields, ARRAY_LEN(http_attr_fields), a, NULL,
			err) ||
	    attr_enum(map, ATTR_ALGORITHM, config_tg_algorithms, ARRAY_LEN(config_tg_algorithms),
		      &algo, err) ||
	    attr_enum(map, ATTR_ANOMALY, on_off, ARRAY_LEN(on_off), &anomaly, err) ||
	    attr_enum(map, ATTR_CROSS_ZONE, cross_zones, ARRAY_LEN(cross_zones), &cz, err) ||
	    attr_enum(map, ATTR_STICKY_TYPE, stickiness_types, ARRAY_LEN(stickiness_types), &st,
		      err) ||
	    attr_off_or_int(map, ATTR_ROUTING "percentage", 100, &a->min_healthy_percentage, err) ||
	    attr_off_or_int(map, ATTR_DNS "count", TARGETS_MAX, &a->dns_min_healthy_count, err) ||
	    attr_off_or_int(map, ATTR_DNS "percentage", 100, &a->dns_min_healthy_percentage, err))
		return -1;
	a->algorithm = (enum lb_algorithm)algo;
	a->anomaly_mitigation = anomaly == 1;
	a->cross_zone = (enum cross_zone)cz;
	a->stickiness_type = (enum stickiness_type)st;
	return cookie_name_load(cfg, map, a, err);
}

/* The combinations AWS refuses, each reported at the value that asks for it. */
static int http_attrs_check(const struct ynode *map, const struct tg_attributes *a,
			    struct lb_err *err)
{
	const struct ynode *v;

	/* Why: slow start is 30-900 seconds, or 0 for off (§1.8). */
	if (a->slow_start > 0 && a->slow_start < 30)
		return ydoc_err(err, ydoc_get(map, ATTR_SLOW_START), "'" ATTR_SLOW_START "' must "
				"be 0 (off) or between 30 and 900, not %d", a->slow_start);
	/* Why: slow start works only with round robin (§1.7, §1.8). */
	if (a->slow_start > 0 && a->algorithm != ALGO_ROUND_ROBIN)
		return ydoc_err(err, ydoc_get(map, ATTR_SLOW_START), "slow start cannot be used "
				"with " ATTR_ALGORITHM " %s", config_tg_algorithms[a->algorithm]);
	/* Why: anomaly mitigation is only valid with weighted_random (§1.7). */
	if (a->anomaly_mitigation && a->algorithm != ALGO_WEIGHTED_RANDOM)
		return ydoc_err(err, ydoc_get(map, ATTR_ANOMALY), "'" ATTR_ANOMALY "' on needs "
				ATTR_ALGORITHM " weighted_random");
	v = ydoc_get(map, ATTR_STICKY);
	/* Why: sticky sessions are not supported with weighted_random (§1.7, §1.11.1). */
	if (a->stickiness && a->algorithm == ALGO_WEIGHTED_RANDOM)
		return ydoc_err(err, v, "stickiness cannot be used with " ATTR_ALGORITHM
				" weighted_random");
	/* Why: nor with cross-zone load balancing off (§1.7, §1.11.1). */
	if (a->stickiness && a->cross_zone == CROSS_ZONE_OFF)
		return ydoc_err(err, v, "stickiness cannot be used with " ATTR_CROSS_ZONE " false");
	/* Why: the DNS failover threshold must be at least the routing one (§1.10.4). */
	if (a->dns_min_healthy_count && a->dns_min_healthy_count < a->min_healthy_count)
		return ydoc_err(err, ydoc_get(map, ATTR_DNS "count"), "'" ATTR_DNS "count' (%d) "
				"must be at least the unhealthy_state_routing count (%d)",
				a->dns_min_healthy_count, a->min_healthy_count);
	if (a->dns_min_healthy_percentage && a->min_healthy_percentage &&
	    a->dns_min_healthy_percentage < a->min_healthy_percentage)
		return ydoc_err(err, ydoc_get(map, ATTR_DNS "percentage"), "'" ATTR_DNS
				"percentage' (%d) must be at least the unhealthy_state_routing "
				"percentage (%d)", a->dns_min_healthy_percentage,
				a->min_healthy_percentage);
	return 0;
}

int config_tg_attrs_load(struct config *cfg, const struct ynode *map, struct target_group *tg,
			 struct lb_err *err)
{
	bool lambda = tg->target_type == TARGET_LAMBDA;

	if (!lambda)
		tg->attrs = http_attr_defaults;
	if (!map)
		return 0;
	if (ydoc_mapping(map, "attributes", err) || other_kind_keys(map, lambda, err))
		return -1;
	if (lambda)
		return ydoc_fields(map, "attributes", lambda_attr_fields,
				   ARRAY_LEN(lambda_attr_fields), tg, NULL, err);
	return http_attrs_read(cfg, map, &tg->attrs, err) || http_attrs_check(map, &tg->attrs, err)
		       ? -1
		       : 0;
}
