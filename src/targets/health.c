/*
 * health: one checker per target group with health checks enabled and a
 * target. A checker invokes the target with ALB's health-check event on a
 * persistent timer (the first check at once), bounds each check by the
 * configured timeout, and feeds the outcome to health_state. Checks never
 * overlap: a tick while one is still running is skipped.
 *
 * Checkers are matched by target-group name across reloads, so a reload
 * keeps a target's state; the checker's event and result buffers belong to
 * it, so a check in flight across a reload stays valid.
 */
#include "targets/health.h"

#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "alb/alb_event.h"
#include "alb/alb_result.h"
#include "base/buf.h"
#include "alb/health_state.h"
#include "lambda/lambda.h"
#include "base/log.h"
#include "alb/trace_id.h"

struct checker {
	struct health *h;
	struct checker *next;
	char *name;                     /* the target group's */
	const struct target_group *tg;  /* in h->cfg */
	struct health_state st;
	struct event *tick;
	struct event *deadline;
	struct invocation *inv;
	struct buf event;
	struct buf trace;
	struct alb_result result;
};

struct health {
	struct event_base *base;
	struct lambda *lambda;
	struct rng *rng;
	struct config *cfg;
	struct checker *checkers;
	int interval_ms;                /* LB_HEALTH_INTERVAL_MS: tests only; 0 = configured */
};

static void record(struct checker *c, bool passed, const char *why)
{
	const struct target_group *tg = c->tg;

	if (health_state_record(&c->st, passed, tg->health_check.healthy_threshold,
				tg->health_check.unhealthy_threshold))
		log_info("target group %s: target %s is %s (%s)", c->name, tg->targets[0],
			 health_name(c->st.health), why);
	else
		log_debug("target group %s: health check %s (%s)", c->name, passed ? "passed" : "failed", why);
}

static void on_checked(void *cookie, const struct invoke_result *res)
{
	struct checker *c = cookie;
	const struct health_check_cfg *hc = &c->tg->health_check;
	char why[256];
	bool passed = false;

	c->inv = NULL;
	event_del(c->deadline);
	if (res->status != INVOKE_OK) {
		snprintf(why, sizeof(why), "the function failed: %s",
			 res->error_type ? res->error_type : "error");
	} else if (alb_result_parse(&c->result, res->payload, res->len, c->tg->multi_value_headers) < 0) {
		snprintf(why, sizeof(why), "%s: %s", c->result.error_reason, c->result.detail);
	} else {
		passed = health_matcher_match(hc->matcher, c->result.status);
		snprintf(why, sizeof(why), "status %d%s%s", c->result.status,
			 passed ? "" : " does not match ", passed ? "" : hc->matcher);
	}
	record(c, passed, why);
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct checker *c = arg;
	char why[64];

	(void)fd;
	(void)what;
	if (!c->inv)
		return;
	lambda_cancel(c->inv);
	c->inv = NULL;
	snprintf(why, sizeof(why), "no answer within %d s", c->tg->health_check.timeout);
	record(c, false, why);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct checker *c = arg;
	const struct target_group *tg = c->tg;
	struct timeval timeout = { tg->health_check.timeout, 0 };
	struct invoke_request ir;
	uint8_t rnd[12];

	(void)fd;
	(void)what;
	if (c->inv)
		return;
	buf_reset(&c->event);
	alb_event_write_health_check(&c->event, tg->health_check.path, tg->arn, tg->multi_value_headers);
	buf_reset(&c->trace);
	rng_bytes(c->h->rng, rnd, sizeof(rnd));
	trace_id_build(&c->trace, SV_NULL, false, 0, (uint32_t)(time_wall_us() / 1000000), rnd);
	ir = (struct invoke_request){ c->h->cfg, tg->function, tg->qualifier, c->event.p, c->event.len,
				      buf_cstr(&c->trace), false, NULL };
	c->inv = lambda_invoke(c->h->lambda, &ir, on_checked, c);
	event_add(c->deadline, &timeout);
}

static void checker_arm(struct checker *c)
{
	int ms = c->h->interval_ms ? c->h->interval_ms : c->tg->health_check.interval * 1000;
	struct timeval every = { ms / 1000, (ms % 1000) * 1000 };

	event_add(c->tick, &every);
}

static struct checker *checker_new(struct health *h, const struct target_group *tg)
{
	struct checker *c = xcalloc(1, sizeof(*c));

	c->h = h;
	c->name = xstrdup(tg->name);
	c->tg = tg;
	c->tick = event_new(h->base, -1, EV_PERSIST, on_tick, c);
	c->deadline = evtimer_new(h->base, on_deadline, c);
	buf_init(&c->event, 0);
	buf_init(&c->trace, 0);
	alb_result_init(&c->result);
	checker_arm(c);
	event_active(c->tick, EV_TIMEOUT, 0);   /* ALB checks a target as it registers */
	return c;
}

static void checker_free(struct checker *c)
{
	if (c->inv)
		lambda_cancel(c->inv);
	event_free(c->tick);
	event_free(c->deadline);
	buf_release(&c->event);
	buf_release(&c->trace);
	alb_result_release(&c->result);
	free(c->name);
	free(c);
}

struct health *health_new(struct event_base *base, struct lambda *l, struct rng *rng)
{
	struct health *h = xcalloc(1, sizeof(*h));
	const char *ms = getenv("LB_HEALTH_INTERVAL_MS");

	h->base = base;
	h->lambda = l;
	h->rng = rng;
	h->interval_ms = ms && atoi(ms) > 0 ? atoi(ms) : 0;
	return h;
}

void health_set_config(struct health *h, struct config *cfg)
{
	struct checker *old = h->checkers, *kept = NULL;

	for (size_t i = 0; i < cfg->ntarget_groups; i++) {
		const struct target_group *tg = &cfg->target_groups[i];
		struct checker **pp, *c = NULL;

		if (!tg->health_check.enabled || !tg->function)
			continue;
		for (pp = &old; *pp; pp = &(*pp)->next) {
			if (strcmp((*pp)->name, tg->name) == 0) {
				c = *pp;
				*pp = c->next;
				break;
			}
		}
		if (c) {
			c->tg = tg;
			checker_arm(c);
		} else {
			c = checker_new(h, tg);
		}
		c->next = kept;
		kept = c;
	}
	while (old) {
		struct checker *next = old->next;
		checker_free(old);
		old = next;
	}
	h->checkers = kept;
	config_ref(cfg);
	config_unref(h->cfg);
	h->cfg = cfg;
}

void health_free(struct health *h)
{
	if (!h)
		return;
	while (h->checkers) {
		struct checker *next = h->checkers->next;
		checker_free(h->checkers);
		h->checkers = next;
	}
	config_unref(h->cfg);
	free(h);
}

const struct health_state *health_lambda_state(const struct health *h, const char *tg_name)
{
	for (const struct checker *c = h->checkers; c; c = c->next)
		if (strcmp(c->name, tg_name) == 0)
			return &c->st;
	return NULL;
}
