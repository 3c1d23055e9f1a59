/*
 * health: health checks of Lambda target groups (off by default, as in ALB):
 * every `interval` the target's function is invoked with ALB's health-check
 * event; its answer, within `timeout`, passes when its status code matches
 * the matcher. A log line reports each change of state. As in ALB, routing
 * does not depend on it: with every target unhealthy ALB routes to them all
 * anyway (fail open), and a Lambda target group has one target.
 */
#ifndef LB_HEALTH_H
#define LB_HEALTH_H

#include "alb/health_state.h"
#include "config/config.h"
#include "base/util.h"

struct event_base;
struct lambda;
struct health;

/* l and rng are borrowed. */
struct health *health_new(struct event_base *base, struct lambda *l, struct rng *rng);
/* Checks cfg's target groups from now on (takes a reference); a target group
 * that keeps its name keeps its state. */
void health_set_config(struct health *h, struct config *cfg);
/* The health of a Lambda target group's target (by the group's name), or
 * NULL when its checks are off (ALB: `unavailable`). For the console. */
const struct health_state *health_lambda_state(const struct health *h, const char *tg_name);
/* Cancels checks in flight and frees h. NULL-safe. */
void health_free(struct health *h);

#endif
