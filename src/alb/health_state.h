/*
 * health_state: a target's health as ALB keeps it (alb-lambda-targets.md §3,
 * alb-listener-rules.md §3.3): consecutive passes or failures against the
 * healthy and unhealthy thresholds, and the matcher that says which status
 * codes pass. Pure.
 */
#ifndef LB_HEALTH_STATE_H
#define LB_HEALTH_STATE_H

#include <stdbool.h>

enum target_health { HEALTH_INITIAL, HEALTH_HEALTHY, HEALTH_UNHEALTHY };

struct health_state {
	enum target_health health;
	int passes;      /* consecutive, since the last failure */
	int failures;    /* consecutive, since the last pass */
};

/* Records one check; true when the target's health changed. */
bool health_state_record(struct health_state *st, bool passed, int healthy_threshold,
			 int unhealthy_threshold);
/* Whether status passes matcher: "200", "200,202" or "200-299". */
bool health_matcher_match(const char *matcher, int status);
/* "initial", "healthy", "unhealthy" (ALB's TargetHealth states). */
const char *health_name(enum target_health h);

#endif
