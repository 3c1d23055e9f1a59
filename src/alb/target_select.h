/*
 * target_select: which registered target of an instance/ip target group a
 * new request goes to (alb-http-targets-and-tls.md §1.7, §1.8, §1.10.4):
 * round robin (with slow start), least outstanding requests, or weighted
 * random, over the healthy targets, or over all registered ones when the
 * group fails open. Pure: the I/O side owns the targets' states and passes
 * them in, with the time and the random source.
 *
 * Targets are indices into the caller's array t[0..n). A selector keeps
 * per-group position and weights between calls; when the caller's array
 * changes (a reload adds or removes targets) it may keep the selector (only
 * fairness across that one change suffers) or init it again.
 */
#ifndef LB_TARGET_SELECT_H
#define LB_TARGET_SELECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alb/health_state.h"
#include "base/util.h"
#include "config/config.h"

/* What selection knows of one registered target; the I/O side owns and updates these. */
struct target_state {
	enum target_health health;
	unsigned outstanding;         /* requests in flight to it */
	int64_t healthy_since_us;     /* monotonic time it last became healthy (slow start) */
	bool slow_start;              /* it entered slow start (target_enters_slow_start) */
	/*
	 * Registered together with the group's first targets: every target of
	 * lb's first load, or a reload's targets added to a group that had none.
	 * ALB does not put these in slow start the first time they turn healthy
	 * (§1.8); the I/O side clears it once the target has turned healthy.
	 */
	bool first_registration;
};

struct target_selector {
	size_t cursor;        /* round robin, and least-outstanding ties: where the next scan starts */
	bool weighted;        /* the last round-robin pick used slow-start weights */
	int64_t *current;     /* smooth weighted round robin: each target's current weight */
	size_t ncurrent;
};

void target_selector_init(struct target_selector *s);
void target_selector_release(struct target_selector *s);

/*
 * The target a new request goes to, or -1 when none is routable (ALB: 503).
 * exclude: -1, or an index not to pick. rng is used by weighted_random only.
 * Without slow start in effect, round robin is a plain rotation: with three
 * healthy targets it picks 0, 1, 2, 0, 1, 2...
 */
int target_select(struct target_selector *s, const struct tg_attributes *a,
		  const struct target_state *t, size_t n, int64_t now_us, struct rng *rng,
		  int exclude);

/* Whether target i may receive a sticky request now (healthy, or the group
 * fails open; never draining or unused). */
bool target_routable(const struct tg_attributes *a, const struct target_state *t, size_t n,
		     size_t i);

/* Whether the group fails open: fewer healthy targets than its
 * unhealthy_state_routing thresholds, so every registered target is routable. */
bool target_group_fails_open(const struct tg_attributes *a, const struct target_state *t,
			     size_t n);

/*
 * Whether target i, which has just turned healthy, enters slow start (ALB's
 * rules, §1.8): slow start is on, i is not of the group's first registration,
 * and another target is healthy and not in slow start. Call it after setting
 * t[i].health to HEALTH_HEALTHY and t[i].healthy_since_us to now; targets
 * that were already healthy when slow start was turned on never call it.
 */
bool target_enters_slow_start(const struct tg_attributes *a, const struct target_state *t,
			      size_t n, size_t i);

/*
 * A target's round-robin weight now, out of TARGET_WEIGHT_FULL: full, or
 * for a healthy target in its slow-start period a linear ramp from
 * TARGET_WEIGHT_FLOOR at the start to full at the end.
 */
#define TARGET_WEIGHT_FULL 1000
#define TARGET_WEIGHT_FLOOR 10
int target_weight(const struct tg_attributes *a, const struct target_state *t, int64_t now_us);

#endif
