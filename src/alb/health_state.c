/*
 * health_state: thresholds, matchers, states and reason codes, and the
 * health-check request bytes, without I/O. The prober (targets/health.c)
 * owns the timers and connections and feeds each outcome here.
 */
#include "alb/health_state.h"

#include <stdlib.h>
#include <string.h>

bool health_state_record(struct health_state *st, bool passed, int healthy_threshold,
			 int unhealthy_threshold)
{
	enum target_health before = st->health;

	if (st->health == HEALTH_DRAINING || st->health == HEALTH_UNUSED)
		return false;
	if (passed) {
		st->passes++;
		st->failures = 0;
		/* HealthyThresholdCount consecutive passes make a target healthy. */
		if (st->passes >= healthy_threshold)
			st->health = HEALTH_HEALTHY;
	} else {
		st->failures++;
		st->passes = 0;
		/* UnhealthyThresholdCount consecutive failures make it unhealthy. */
		if (st->failures >= unhealthy_threshold)
			st->health = HEALTH_UNHEALTHY;
	}
	return st->health != before;
}

bool health_state_check(struct health_state *st, enum health_outcome outcome, int status,
			int healthy_threshold, int unhealthy_threshold)
{
	if (st->health == HEALTH_DRAINING || st->health == HEALTH_UNUSED)
		return false;
	st->last = outcome;
	st->last_status = status;
	return health_state_record(st, outcome == HEALTH_CHECK_PASSED, healthy_threshold,
				   unhealthy_threshold);
}

bool health_matcher_match(const char *matcher, int status)
{
	const char *p = matcher;

	while (*p) {
		char *end;
		long lo = strtol(p, &end, 10), hi = lo;

		if (end == p)
			return false;
		if (*end == '-') {
			p = end + 1;
			hi = strtol(p, &end, 10);
		}
		if (status >= lo && status <= hi)
			return true;
		p = *end == ',' ? end + 1 : end;
		if (*end && *end != ',')
			return false;
	}
	return false;
}

const char *health_name(enum target_health h)
{
	static const char *const names[] = {
		[HEALTH_INITIAL] = "initial",
		[HEALTH_HEALTHY] = "healthy",
		[HEALTH_UNHEALTHY] = "unhealthy",
		[HEALTH_DRAINING] = "draining",
		[HEALTH_UNUSED] = "unused",
	};

	return names[h];
}

/* Why: TargetHealth's reason codes per state (alb-http-targets-and-tls.md §1.10.2, §1.10.3). */
const char *health_reason(const struct health_state *st)
{
	switch (st->health) {
	case HEALTH_INITIAL:
		return st->last == HEALTH_CHECK_NONE ? "Elb.RegistrationInProgress"
						     : "Elb.InitialHealthChecking";
	case HEALTH_HEALTHY:
		return NULL;
	case HEALTH_UNHEALTHY:
		if (st->last == HEALTH_CHECK_MISMATCH)
			return "Target.ResponseCodeMismatch";
		if (st->last == HEALTH_CHECK_TIMEOUT)
			return "Target.Timeout";
		return "Target.FailedHealthChecks";
	case HEALTH_DRAINING:
		return "Target.DeregistrationInProgress";
	case HEALTH_UNUSED:
		return "Target.NotRegistered";
	}
	return NULL;
}

void health_check_request(struct buf *out, const struct health_check_cfg *hc, const char *host,
			  int port)
{
	bool v6 = strchr(host, ':') != NULL;
	int default_port = hc->protocol == TG_PROTO_HTTPS ? 443 : 80;

	/* Why: ALB checks with GET of the path over HTTP/1.1 (§1.10.1). */
	buf_printf(out, "GET %s HTTP/1.1\r\nHost: %s%s%s", hc->path, v6 ? "[" : "", host,
		   v6 ? "]" : "");
	/* Why: Host is the target's IP with :port unless the port is the
	 * protocol's default ("Host: 10.0.0.10:8080", "Host: 10.0.0.10" on 80;
	 * §1.10.2). */
	if (port != default_port)
		buf_printf(out, ":%d", port);
	/* Why: ELB-HealthChecker/2.0 is ALB's User-Agent, and ALB closes the
	 * connection after each check (§1.10.2). */
	buf_puts(out, "\r\nUser-Agent: ELB-HealthChecker/2.0\r\nConnection: close\r\n\r\n");
}
