/*
 * config_tg_hc: a target group's `health_check:` (alb-http-targets-and-tls.md
 * §1.10.1; alb-lambda-targets.md §3 for Lambda groups): AWS's defaults for
 * the group's kind, its ranges, and the keys only instance/ip groups take
 * (protocol, port).
 *
 * Everything is allocated in cfg->arena; this file holds no state.
 */
#include "config/config_tg.h"

#include <stdlib.h>
#include <string.h>

#define HC_PATH_MAX 1024       /* §1.10.1: HealthCheckPath is 1-1024 characters */

/* Why: CreateTargetGroup's health-check ranges (§1.10.1). */
static const struct yfield health_check_fields[] = {
	YFIELD_BOOL("enabled", struct health_check_cfg, enabled),
	YFIELD_NODE("protocol"),
	YFIELD_NODE("port"),
	YFIELD_STR("path", struct health_check_cfg, path),
	YFIELD_INT("interval", struct health_check_cfg, interval, 5, 300),
	YFIELD_INT("timeout", struct health_check_cfg, timeout, 2, 120),
	YFIELD_INT("healthy_threshold", struct health_check_cfg, healthy_threshold, 2, 10),
	YFIELD_INT("unhealthy_threshold", struct health_check_cfg, unhealthy_threshold, 2, 10),
	YFIELD_STR("matcher", struct health_check_cfg, matcher),
};

/*
 * Why: Lambda target groups' health-check defaults (alb-lambda-targets.md
 * §3: disabled, interval 35 s, timeout 30 s, healthy 5, unhealthy 2, matcher
 * 200). The current ELBv2 API doc says unhealthy 5 (alb-listener-rules.md
 * §3.3); lb follows the health-check guide, which is specific to Lambda.
 */
static const struct health_check_cfg lambda_health_check_defaults = {
	.enabled = false,
	.path = "/",
	.interval = 35,
	.timeout = 30,
	.healthy_threshold = 5,
	.unhealthy_threshold = 2,
	.matcher = "200",
};

/*
 * Why: instance/ip defaults (§1.10.1): always enabled, HTTP, traffic-port,
 * /, 30 s, 5 s, 5, 2, 200. The ALB guide's 5 s timeout wins over the API's
 * generic 6 s (§4.2).
 */
static const struct health_check_cfg http_health_check_defaults = {
	.enabled = true,
	.protocol = TG_PROTO_HTTP,
	.port = 0,
	.path = "/",
	.interval = 30,
	.timeout = 5,
	.healthy_threshold = 5,
	.unhealthy_threshold = 2,
	.matcher = "200",
};

/* A status code of 1-3 digits within [lo, hi]. */
static bool code_ok(const char *s, size_t n, int lo, int hi)
{
	int code = 0;

	if (n < 1 || n > 3)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		code = code * 10 + (s[i] - '0');
	}
	return code >= lo && code <= hi;
}

/* Why: Matcher codes are "200", "200,202" or "200-299" (§1.10.1). */
static bool matcher_ok(const char *s, int lo, int hi)
{
	const char *dash = strchr(s, '-');

	if (dash)
		return code_ok(s, (size_t)(dash - s), lo, hi) &&
		       code_ok(dash + 1, strlen(dash + 1), lo, hi) && atoi(s) <= atoi(dash + 1);
	for (;;) {
		size_t n = strcspn(s, ",");

		if (!code_ok(s, n, lo, hi))
			return false;
		if (!s[n])
			return true;
		s += n + 1;
	}
}

/* `port: traffic-port` (0) or 1-65535. */
static int hc_port_load(const struct ynode *v, int *out, struct lb_err *err)
{
	struct lb_err ignored;
	const char *s;

	if (ydoc_str(v, "port", &s, err))
		return -1;
	if (strcmp(s, "traffic-port") == 0) {
		*out = 0;
		return 0;
	}
	if (ydoc_int(v, "port", 1, 65535, out, &ignored) == 0)
		return 0;
	return ydoc_err(err, v, "'port' must be traffic-port or between 1 and 65535, not '%s'", s);
}

/* protocol and port: instance/ip only; enabled: always, for them. */
static int hc_http_keys(const struct ynode *n, const struct target_group *tg,
			struct health_check_cfg *hc, struct lb_err *err)
{
	const struct ynode *proto = ydoc_get(n, "protocol"), *port = ydoc_get(n, "port");
	int p = hc->protocol;

	if (tg->target_type == TARGET_LAMBDA) {
		const struct ynode *k = ydoc_key(n, "protocol") ? ydoc_key(n, "protocol")
								: ydoc_key(n, "port");

		if (k)
			return ydoc_err(err, k, "'%s' does not apply to lambda target groups' health "
					"checks", k->str);
		return 0;
	}
	/* Why: health checks of instance/ip groups cannot be disabled (§1.10.1). */
	if (!hc->enabled)
		return ydoc_err(err, ydoc_get(n, "enabled"), "health checks of instance and ip "
				"target groups cannot be disabled");
	/* Why: HealthCheckProtocol is HTTP or HTTPS; TCP is not allowed (§1.10.1). */
	if (proto && ydoc_enum(proto, "protocol", config_tg_protocols,
			       ARRAY_LEN(config_tg_protocols), &p, err))
		return -1;
	hc->protocol = (enum tg_protocol)p;
	return port ? hc_port_load(port, &hc->port, err) : 0;
}

static int health_check_read(struct config *cfg, const struct ynode *n, struct target_group *tg,
			     struct lb_err *err)
{
	struct health_check_cfg *hc = &tg->health_check;
	bool grpc = tg->target_type != TARGET_LAMBDA && tg->protocol_version == TG_PROTO_GRPC;
	const struct ynode *at;

	if (ydoc_fields(n, "health_check", health_check_fields, ARRAY_LEN(health_check_fields), hc,
			&cfg->arena, err) ||
	    hc_http_keys(n, tg, hc, err))
		return -1;
	/* lb's choice: the path is a request's path (a Lambda event's, or the
	 * request line's), so it must be one. */
	if (hc->path[0] != '/' || strlen(hc->path) > HC_PATH_MAX)
		return ydoc_err(err, ydoc_get(n, "path"), "'path' must start with '/' and be at "
				"most %d characters, not '%s'", HC_PATH_MAX, hc->path);
	/* Why: HttpCode is 200-499, GrpcCode 0-99 (§1.10.1). */
	if (grpc && !matcher_ok(hc->matcher, 0, 99))
		return ydoc_err(err, ydoc_get(n, "matcher"), "'matcher' must be gRPC codes 0-99 "
				"as \"12\", \"0,12\" or \"0-99\", not '%s'", hc->matcher);
	if (!grpc && !matcher_ok(hc->matcher, 200, 499))
		return ydoc_err(err, ydoc_get(n, "matcher"), "'matcher' must be HTTP codes 200-499 "
				"as \"200\", \"200,202\" or \"200-299\", not '%s'", hc->matcher);
	/* Why: the health-check timeout must be less than the interval
	 * (alb-listener-rules.md §3.3). */
	if (hc->timeout >= hc->interval) {
		at = ydoc_get(n, "timeout") ? ydoc_get(n, "timeout") : ydoc_get(n, "interval");
		return ydoc_err(err, at, "'timeout' (%d) must be less than 'interval' (%d)",
				hc->timeout, hc->interval);
	}
	return 0;
}

int config_tg_hc_load(struct config *cfg, const struct ynode *n, struct target_group *tg,
		      struct lb_err *err)
{
	bool lambda = tg->target_type == TARGET_LAMBDA;

	tg->health_check = lambda ? lambda_health_check_defaults : http_health_check_defaults;
	/* Why: gRPC groups check /AWS.ALB/healthcheck and expect gRPC code 12 (§1.10.1). */
	if (!lambda && tg->protocol_version == TG_PROTO_GRPC) {
		tg->health_check.path = "/AWS.ALB/healthcheck";
		tg->health_check.matcher = "12";
	}
	return n ? health_check_read(cfg, n, tg, err) : 0;
}
