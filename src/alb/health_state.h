/*
 * health_state: a target's health as ALB keeps it (alb-lambda-targets.md §3,
 * alb-http-targets-and-tls.md §1.10): consecutive passes or failures against
 * the healthy and unhealthy thresholds, the matcher that says which status
 * codes pass, ALB's TargetHealth states and reason codes, and the bytes of an
 * HTTP target's health-check request. Pure.
 */
#ifndef LB_HEALTH_STATE_H
#define LB_HEALTH_STATE_H

#include <stdbool.h>

#include "base/buf.h"
#include "config/config.h"

/* ALB's TargetHealth states (§1.10.3); `unavailable` is for Lambda groups
 * with checks off, which lb does not report. */
enum target_health {
	HEALTH_INITIAL,    /* registered; initial checks in progress */
	HEALTH_HEALTHY,
	HEALTH_UNHEALTHY,
	HEALTH_DRAINING,   /* deregistered, finishing its requests (deregistration delay) */
	HEALTH_UNUSED,     /* not registered (any more) */
};

/* What the last health check saw. */
enum health_outcome {
	HEALTH_CHECK_NONE,      /* no check has finished yet */
	HEALTH_CHECK_PASSED,    /* answered with a status the matcher takes */
	HEALTH_CHECK_MISMATCH,  /* answered with another status */
	HEALTH_CHECK_TIMEOUT,   /* no answer within the timeout */
	HEALTH_CHECK_FAILED,    /* connection refused or reset, or a malformed answer */
};

struct health_state {
	enum target_health health;
	int passes;      /* consecutive, since the last failure */
	int failures;    /* consecutive, since the last pass */
	enum health_outcome last;
	int last_status; /* the status of the last answer, 0 when there was none */
};

/*
 * Records one check; true when the target's health changed. Targets that
 * are draining or unused keep their state (checks no longer move them).
 */
bool health_state_record(struct health_state *st, bool passed, int healthy_threshold,
			 int unhealthy_threshold);
/* Records one check of an HTTP target by its outcome (status: the answer's,
 * or 0); true when the target's health changed. */
bool health_state_check(struct health_state *st, enum health_outcome outcome, int status,
			int healthy_threshold, int unhealthy_threshold);
/* Whether status passes matcher: "200", "200,202" or "200-299". */
bool health_matcher_match(const char *matcher, int status);
/* "initial", "healthy", "unhealthy", "draining", "unused" (ALB's TargetHealth states). */
const char *health_name(enum target_health h);
/*
 * ALB's reason code for the state (§1.10.3), or NULL for a healthy target:
 * "Elb.RegistrationInProgress" before the first check, then
 * "Elb.InitialHealthChecking"; "Target.ResponseCodeMismatch",
 * "Target.Timeout" or "Target.FailedHealthChecks" after the last check;
 * "Target.DeregistrationInProgress"; "Target.NotRegistered".
 */
const char *health_reason(const struct health_state *st);

/*
 * Appends the health-check request for a target at host (its address or
 * name as registered) checked on port:
 *
 *   GET <path> HTTP/1.1\r\n
 *   Host: <host>[:<port>]\r\n         (the port unless the protocol's default)
 *   User-Agent: ELB-HealthChecker/2.0\r\n
 *   Connection: close\r\n
 *   \r\n
 */
void health_check_request(struct buf *out, const struct health_check_cfg *hc, const char *host,
			  int port);

#endif
