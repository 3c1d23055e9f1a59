/*
 * targets: what the target kinds share across requests — the Lambda runner,
 * the HTTP client and its pools, the runtime state of HTTP target groups
 * (their targets' health, requests in flight, draining), the stickiness key
 * and a cached Date. One per lb; reloads keep it, so state survives them.
 */
#ifndef LB_TARGETS_TARGETS_H
#define LB_TARGETS_TARGETS_H

#include "alb/sticky.h"
#include "base/util.h"
#include "config/config.h"

struct event_base;
struct http_client;
struct h2_client;
struct lambda;
struct targets;
struct tg_state;

/* rng and lambda are borrowed and must outlive it. */
struct targets *targets_new(struct event_base *base, struct rng *rng, struct lambda *lambda);
/* Serves cfg's target groups from now on (takes a reference). Targets keep
 * their state by (group name, target); a target no longer registered drains. */
void targets_set_config(struct targets *t, struct config *cfg);
/* Frees t; call after every forward has ended. NULL-safe. */
void targets_free(struct targets *t);
/* lb stops and its drain ran out: every forward to an instance/ip target
 * still in flight is cut (http_fwd_cut). Returns how many. */
unsigned targets_cut(struct targets *t);

struct lambda *targets_lambda(struct targets *t);
struct http_client *targets_http_client(struct targets *t);
struct h2_client *targets_h2_client(struct targets *t);
struct event_base *targets_base(struct targets *t);
struct rng *targets_rng(struct targets *t);
const struct sticky_key *targets_sticky_key(struct targets *t);
/* For the console: calls fn for each registered target of an instance/ip
 * group, with its key ("id:port"), its health and its requests in flight. */
struct health_state;
typedef void (*targets_each_fn)(void *cookie, const char *key, const struct health_state *hs,
				unsigned in_flight);
void targets_each(struct targets *t, const struct target_group *tg, targets_each_fn fn, void *cookie);
/*
 * `workers`: a worker's targets invoke Lambda functions through xl (main's
 * sandbox pool), sign sticky cookies with main's key, and run no health
 * checks: main's targets run them once per target and tell every worker of
 * each change of health (the observer on main, targets_apply_health on the
 * worker, by group name and target key).
 */
struct xlambda;
void targets_set_worker(struct targets *t, struct xlambda *xl, const struct sticky_key *key);
struct xlambda *targets_xlambda(struct targets *t);   /* NULL on main */
struct target_state;
typedef void (*targets_health_fn)(void *cookie, const char *group, const char *key,
				  const struct target_state *st);
void targets_set_health_observer(struct targets *t, targets_health_fn fn, void *cookie);
void targets_apply_health(struct targets *t, const char *group, const char *key, const struct target_state *st);
/* Every loop's targets count requests in flight in c (least_outstanding_requests
 * balances on the total); before a worker's first configuration, or on main's at once. */
struct target_counts;
void targets_share_counts(struct targets *t, struct target_counts *c);
/* The current IMF-fixdate, cached per second. */
const char *targets_date(struct targets *t);
/* The load balancer's idle timeout (idle_timeout.timeout_seconds). */
int targets_idle_timeout(const struct targets *t);

#endif
