/* health_state: thresholds and matchers, without I/O. */
#include "alb/health_state.h"

#include <stdlib.h>
#include <string.h>

bool health_state_record(struct health_state *st, bool passed, int healthy_threshold,
			 int unhealthy_threshold)
{
	enum target_health before = st->health;

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
	static const char *const names[] = { "initial", "healthy", "unhealthy" };

	return names[h];
}
