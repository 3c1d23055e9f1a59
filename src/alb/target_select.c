/*
 * target_select: ALB's routing algorithms over a snapshot of target states.
 *
 * The routable set is computed on every call from t[] (n is at most 1000):
 * the healthy targets, or, when the group fails open, every registered one
 * (initial, healthy and unhealthy; never draining or unused). Then:
 *
 * - round_robin: a cursor walks the array, skipping targets that are not
 *   routable, so the order is stable and predictable. While a routable
 *   target is in its slow-start period the pick is nginx's smooth weighted
 *   round robin instead (each pick adds every weight to a running score,
 *   takes the highest and subtracts the total from it), which spreads a
 *   ramping target's smaller share evenly rather than in bursts.
 * - least_outstanding_requests: the fewest requests in flight, ties broken
 *   by the same cursor, so equal targets still rotate.
 * - weighted_random: uniform over the routable set (ALB's weights only
 *   differ under anomaly mitigation, which lb does not do).
 *
 * The selector's only allocation is the smooth-WRR score array, grown to n.
 */
#include "alb/target_select.h"

#include <stdlib.h>
#include <string.h>

#define US_PER_S 1000000

void target_selector_init(struct target_selector *s)
{
	memset(s, 0, sizeof(*s));
}

void target_selector_release(struct target_selector *s)
{
	free(s->current);
	target_selector_init(s);
}

static bool registered(const struct target_state *t)
{
	return t->health != HEALTH_DRAINING && t->health != HEALTH_UNUSED;
}

/*
 * Why: below target_group_health.unhealthy_state_routing's count or
 * percentage of healthy targets, ALB routes to all targets regardless of
 * health (fail open; either threshold triggers; §1.10.4). The default count
 * 1 means "no healthy target". lb's choice where AWS is silent (§4.1 #9):
 * targets still in `initial` take part, so a fresh group serves at once.
 */
bool target_group_fails_open(const struct tg_attributes *a, const struct target_state *t,
			     size_t n)
{
	size_t min_count = a->min_healthy_count > 1 ? (size_t)a->min_healthy_count : 1;
	size_t healthy = 0, total = 0;

	for (size_t i = 0; i < n; i++) {
		total += registered(&t[i]);
		healthy += t[i].health == HEALTH_HEALTHY;
	}
	if (healthy < min_count)
		return true;
	return a->min_healthy_percentage > 0 &&
	       healthy * 100 < (size_t)a->min_healthy_percentage * total;
}

static bool pickable(const struct target_state *t, bool open)
{
	return open ? registered(t) : t->health == HEALTH_HEALTHY;
}

bool target_routable(const struct tg_attributes *a, const struct target_state *t, size_t n,
		     size_t i)
{
	if (i >= n || !registered(&t[i]))
		return false;
	return t[i].health == HEALTH_HEALTHY || target_group_fails_open(a, t, n);
}

/* Why: during slow start ALB linearly increases the requests it sends to the
 * target, then gives it its full share (§1.8). */
int target_weight(const struct tg_attributes *a, const struct target_state *t, int64_t now_us)
{
	int64_t period = (int64_t)a->slow_start * US_PER_S, elapsed;

	if (a->slow_start <= 0 || !t->slow_start || t->health != HEALTH_HEALTHY)
		return TARGET_WEIGHT_FULL;
	elapsed = now_us - t->healthy_since_us;
	if (elapsed >= period)
		return TARGET_WEIGHT_FULL;
	if (elapsed < 0)
		elapsed = 0;
	return (int)(TARGET_WEIGHT_FLOOR +
		     (TARGET_WEIGHT_FULL - TARGET_WEIGHT_FLOOR) * elapsed / period);
}

/* Why: round robin routes "in a sequential order" (§1.7). */
static int pick_next(struct target_selector *s, const struct target_state *t, size_t n,
		     bool open, int exclude)
{
	for (size_t k = 0; k < n; k++) {
		size_t i = (s->cursor + k) % n;

		if ((int)i != exclude && pickable(&t[i], open)) {
			s->cursor = i + 1;
			return (int)i;
		}
	}
	return -1;
}

/* Why: least_outstanding_requests routes to the target with the fewest
 * in-progress requests (§1.7); lb breaks ties in rotation. */
static int pick_least(struct target_selector *s, const struct target_state *t, size_t n,
		      bool open, int exclude)
{
	int best = -1;

	for (size_t k = 0; k < n; k++) {
		size_t i = (s->cursor + k) % n;

		if ((int)i == exclude || !pickable(&t[i], open))
			continue;
		if (best < 0 || t[i].outstanding < t[best].outstanding)
			best = (int)i;
	}
	if (best >= 0)
		s->cursor = (size_t)best + 1;
	return best;
}

/* Why: weighted_random routes evenly across the targets "in a random order" (§1.7). */
static int pick_random(const struct target_state *t, size_t n, bool open, int exclude,
		       struct rng *rng)
{
	size_t count = 0, r;

	for (size_t i = 0; i < n; i++)
		count += (int)i != exclude && pickable(&t[i], open);
	if (count == 0)
		return -1;
	r = (size_t)(rng_next(rng) % count);
	for (size_t i = 0; i < n; i++) {
		if ((int)i != exclude && pickable(&t[i], open) && r-- == 0)
			return (int)i;
	}
	return -1;
}

/* nginx's smooth weighted round robin over the routable targets. */
static int pick_smooth(struct target_selector *s, const struct tg_attributes *a,
		       const struct target_state *t, size_t n, int64_t now_us, bool open,
		       int exclude)
{
	int64_t total = 0;
	int best = -1;

	if (s->ncurrent < n) {
		s->current = xrealloc(s->current, n * sizeof(*s->current));
		memset(s->current + s->ncurrent, 0, (n - s->ncurrent) * sizeof(*s->current));
		s->ncurrent = n;
	}
	if (!s->weighted)
		memset(s->current, 0, s->ncurrent * sizeof(*s->current));
	s->weighted = true;
	for (size_t i = 0; i < n; i++) {
		int64_t w;

		if ((int)i == exclude || !pickable(&t[i], open))
			continue;
		w = target_weight(a, &t[i], now_us);
		s->current[i] += w;
		total += w;
		if (best < 0 || s->current[i] > s->current[best])
			best = (int)i;
	}
	if (best >= 0)
		s->current[best] -= total;
	return best;
}

static bool any_ramping(const struct tg_attributes *a, const struct target_state *t, size_t n,
			int64_t now_us, bool open)
{
	for (size_t i = 0; a->slow_start > 0 && i < n; i++) {
		if (pickable(&t[i], open) && target_weight(a, &t[i], now_us) < TARGET_WEIGHT_FULL)
			return true;
	}
	return false;
}

int target_select(struct target_selector *s, const struct tg_attributes *a,
		  const struct target_state *t, size_t n, int64_t now_us, struct rng *rng,
		  int exclude)
{
	bool open = target_group_fails_open(a, t, n);

	switch (a->algorithm) {
	case ALGO_LEAST_OUTSTANDING:
		return pick_least(s, t, n, open, exclude);
	case ALGO_WEIGHTED_RANDOM:
		return pick_random(t, n, open, exclude, rng);
	case ALGO_ROUND_ROBIN:
		break;
	}
	if (any_ramping(a, t, n, now_us, open))
		return pick_smooth(s, a, t, n, now_us, open, exclude);
	s->weighted = false;
	return pick_next(s, t, n, open, exclude);
}

bool target_enters_slow_start(const struct tg_attributes *a, const struct target_state *t,
			      size_t n, size_t i)
{
	int64_t now = t[i].healthy_since_us, period = (int64_t)a->slow_start * US_PER_S;

	/* Why: slow start is for round robin only, and targets registered into
	 * an empty group in one call do not enter it (§1.8). */
	if (a->slow_start <= 0 || a->algorithm != ALGO_ROUND_ROBIN || t[i].first_registration)
		return false;
	/* Why: a target enters slow start only if at least one healthy target
	 * not in slow start exists (§1.8). */
	for (size_t j = 0; j < n; j++) {
		if (j != i && t[j].health == HEALTH_HEALTHY &&
		    !(t[j].slow_start && now - t[j].healthy_since_us < period))
			return true;
	}
	return false;
}
