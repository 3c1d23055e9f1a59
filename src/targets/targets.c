/*
 * targets: the shared state of forwarding, kept across reloads.
 *
 * HTTP target groups are matched by name from one configuration to the
 * next, and their targets by key ("id:port"): a target that stays keeps its
 * health, its requests in flight and its place; a new one starts `initial`
 * (ALB sends it traffic once it passes its checks, or while the group fails
 * open); one that is gone drains (ALB: deregistration stops new requests at
 * once, in-flight ones continue for deregistration_delay.timeout_seconds,
 * then get 502 — alb-http-targets-and-tls.md §1.9).
 *
 * Draining targets wait on one list; a timer ticks once a second while it
 * is not empty, cutting what outlives its delay and freeing what is done.
 */
#include "targets/targets.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "base/log.h"
#include "net/h2_client.h"
#include "net/http_client.h"
#include "targets/target.h"
#include "targets/target_rt.h"

struct targets {
	struct event_base *base;
	struct rng *rng;
	struct lambda *lambda;
	struct http_client *client;
	struct h2_client *h2;           /* HTTP2/GRPC groups' targets */
	struct config *cfg;
	struct sticky_key sticky_key;   /* made at start; reloads keep it, so do sessions */
	struct tg_state *groups;
	struct target_counts *counts;   /* `workers`: in-flight counts shared by every loop, or NULL */
	struct target_rt *draining;
	struct event *drain_timer;
	/* `workers`: a worker's targets invoke through xl and take their health from main's */
	struct xlambda *xl;
	bool no_checks;
	targets_health_fn on_health;
	void *health_cookie;
	int64_t date_s;
	char date[30];
};

/* --- accessors -------------------------------------------------------------------- */

struct lambda *targets_lambda(struct targets *t)
{
	return t->lambda;
}

struct xlambda *targets_xlambda(struct targets *t)
{
	return t->xl;
}

struct http_client *targets_http_client(struct targets *t)
{
	return t->client;
}

struct h2_client *targets_h2_client(struct targets *t)
{
	return t->h2;
}

struct event_base *targets_base(struct targets *t)
{
	return t->base;
}

struct rng *targets_rng(struct targets *t)
{
	return t->rng;
}

const struct sticky_key *targets_sticky_key(struct targets *t)
{
	return &t->sticky_key;
}

int targets_idle_timeout(const struct targets *t)
{
	return t->cfg ? t->cfg->lb.attrs.idle_timeout : 60;
}

void targets_each(struct targets *t, const struct target_group *tg, targets_each_fn fn, void *cookie)
{
	struct tg_state *g = targets_group(t, tg);

	for (size_t i = 0; g && i < g->n; i++)
		fn(cookie, g->rt[i]->key, &g->rt[i]->hs, target_count_load(g->rt[i]->count));
}

const char *targets_date(struct targets *t)
{
	int64_t now = time_wall_us() / 1000000;

	if (now != t->date_s) {
		t->date_s = now;
		time_http_date(now, t->date);
	}
	return t->date;
}

/* --- workers ---------------------------------------------------------------------- */

void targets_set_worker(struct targets *t, struct xlambda *xl, const struct sticky_key *key)
{
	t->xl = xl;
	t->no_checks = true;
	t->sticky_key = *key;
}

void targets_share_counts(struct targets *t, struct target_counts *c)
{
	t->counts = target_counts_ref(c);
	/* Targets registered already (main's, at start) move their counts to the table. */
	for (struct tg_state *g = t->groups; g; g = g->next) {
		for (size_t i = 0; i < g->n; i++) {
			struct target_rt *r = g->rt[i];
			struct target_count *e = target_counts_get(c, g->name, r->key);

			atomic_fetch_add_explicit(&e->n, target_count_load(r->count), memory_order_relaxed);
			r->count = e;
		}
	}
}

void targets_set_health_observer(struct targets *t, targets_health_fn fn, void *cookie)
{
	t->on_health = fn;
	t->health_cookie = cookie;
}

void targets_health_changed(struct target_rt *r)
{
	struct targets *t = r->targets;

	if (t->on_health && r->group)
		t->on_health(t->health_cookie, r->group->name, r->key, target_rt_state(r));
}

void targets_apply_health(struct targets *t, const char *group, const char *key, const struct target_state *st)
{
	struct tg_state *g;
	struct target_rt *r;
	struct target_state *mine;

	for (g = t->groups; g && strcmp(g->name, group) != 0; g = g->next)
		;
	if (!g || !(r = tg_state_find(g, sv_from(key))))
		return;     /* no longer registered here: its drain is its own */
	mine = target_rt_state(r);
	if (mine->health == HEALTH_UNUSED || mine->health == HEALTH_DRAINING)
		return;
	mine->health = r->hs.health = st->health;
	mine->healthy_since_us = st->healthy_since_us;
	mine->slow_start = st->slow_start;
	mine->first_registration = st->first_registration;
}

/* --- targets ---------------------------------------------------------------------- */

struct target_state *target_rt_state(struct target_rt *r)
{
	return r->group ? &r->group->st[r->index] : &r->own;
}

void target_rt_attach(struct target_rt *r, struct forward *f)
{
	f->http.target = r;
	f->http.prev = NULL;
	f->http.next = r->forwards;
	if (r->forwards)
		r->forwards->http.prev = f;
	r->forwards = f;
	r->inflight++;
	target_count_add(r->count);
}

void target_rt_detach(struct target_rt *r, struct forward *f)
{
	if (f->http.prev)
		f->http.prev->http.next = f->http.next;
	else
		r->forwards = f->http.next;
	if (f->http.next)
		f->http.next->http.prev = f->http.prev;
	f->http.prev = f->http.next = NULL;
	f->http.target = NULL;
	r->inflight--;
	target_count_sub(r->count);
}

/*
 * Why: ALB's least_outstanding_requests counts every request in progress to
 * a target (§1.7), so with `workers` the counts are every loop's, read when
 * a request picks its target.
 */
void tg_state_load_outstanding(struct tg_state *g)
{
	for (size_t i = 0; i < g->n; i++)
		g->st[i].outstanding = target_count_load(g->rt[i]->count);
}

static struct target_rt *rt_new(struct targets *t, const char *group, const struct http_target *ht)
{
	struct target_rt *r = xcalloc(1, sizeof(*r));

	r->targets = t;
	r->count = t->counts ? target_counts_get(t->counts, group, ht->key) : &r->own_count;
	r->key = xstrdup(ht->key);
	r->id = xstrdup(ht->id);
	r->port = ht->port;
	/* An instance target may be a host name: resolved once, now (local names). */
	r->resolved = http_origin_resolve(&r->origin, ht->id, ht->port) == 0;
	if (!r->resolved)
		log_warn("target %s: cannot resolve '%s'; requests to it get 502", ht->key, ht->id);
	return r;
}

static void rt_free(struct target_rt *r)
{
	http_health_stop(r);
	if (r->count != &r->own_count)
		target_counts_put(r->targets->counts, r->count);
	free(r->key);
	free(r->id);
	free(r);
}

struct tg_state *targets_group(struct targets *t, const struct target_group *tg)
{
	for (struct tg_state *g = t->groups; g; g = g->next)
		if (g->tg == tg)
			return g;
	return NULL;
}


struct target_rt *tg_state_find(struct tg_state *g, struct sv key)
{
	/* A slot is NULL while group_update moves its target to the new arrays. */
	for (size_t i = 0; i < g->n; i++)
		if (g->rt[i] && sv_eq_cstr(key, g->rt[i]->key))
			return g->rt[i];
	return NULL;
}

/* --- draining ------------------------------------------------------------------- */

static void on_drain_tick(evutil_socket_t fd, short what, void *arg);

static void drain(struct targets *t, struct target_rt *r, int delay_s)
{
	r->own = *target_rt_state(r);
	r->own.health = HEALTH_DRAINING;
	r->hs.health = HEALTH_DRAINING;
	r->group = NULL;
	http_health_stop(r);
	r->drain_until_us = time_mono_us() + (int64_t)delay_s * 1000000;
	r->next_draining = t->draining;
	t->draining = r;
	/* With `workers`, every loop drains its copy; main speaks for all of them. */
	if (!t->xl)
		log_info("target %s: draining (%u requests in flight, deregistration delay %d s)",
			 r->key, target_count_load(r->count), delay_s);
	if (!evtimer_pending(t->drain_timer, NULL)) {
		struct timeval tick = { 1, 0 };
		evtimer_add(t->drain_timer, &tick);
	}
}

/*
 * Cuts what outlived its delay; frees targets with nothing left in flight.
 * With `workers`, main's copy also waits for the other loops' requests (the
 * shared count) until the delay is over, so its lines count them all.
 */
static void drain_sweep(struct targets *t)
{
	int64_t now = time_mono_us();
	struct target_rt **pp = &t->draining;

	while (*pp) {
		struct target_rt *r = *pp;
		bool over = now >= r->drain_until_us;
		unsigned all = target_count_load(r->count);

		if (over && all && !t->xl)
			log_warn("target %s: deregistration delay over, %u requests cut", r->key, all);
		if (over)
			while (r->forwards)
				http_fwd_cut(r->forwards, "was deregistered and its delay ran out");
		if (!r->forwards && (t->xl || over || !target_count_load(r->count))) {
			*pp = r->next_draining;
			if (!t->xl)
				log_info("target %s: deregistered", r->key);
			rt_free(r);
			continue;
		}
		pp = &r->next_draining;
	}
}

static void on_drain_tick(evutil_socket_t fd, short what, void *arg)
{
	struct targets *t = arg;
	struct timeval tick = { 1, 0 };

	(void)fd;
	(void)what;
	drain_sweep(t);
	if (t->draining)
		evtimer_add(t->drain_timer, &tick);
}

/* --- configuration ---------------------------------------------------------------- */

static void group_free(struct tg_state *g)
{
	free(g->name);
	free(g->st);
	free(g->rt);
	target_selector_release(&g->sel);
	free(g);
}

/*
 * Why: ALB health-checks only the targets of groups that a listener rule
 * forwards to; the others are `unused` with Target.NotInUse
 * (alb-http-targets-and-tls.md §1.10.2, §1.10.3).
 */
static bool group_in_use(const struct config *cfg, const struct target_group *tg)
{
	for (size_t l = 0; l < cfg->nlisteners; l++) {
		const struct listener_cfg *lc = &cfg->listeners[l];

		for (size_t i = 0; i <= lc->nrules; i++) {
			const struct action *a = i < lc->nrules ? &lc->rules[i].action : &lc->default_rule.action;

			for (size_t k = 0; a->type == ACTION_FORWARD && k < a->forward.ngroups; k++)
				if (a->forward.groups[k].tg == tg)
					return true;
		}
	}
	return false;
}

/* r's checks run while its group is in use; otherwise it is `unused`. */
static void set_in_use(struct target_rt *r, bool used, bool checked)
{
	struct target_state *st = target_rt_state(r);

	if (!used) {
		http_health_stop(r);
		if (st->health != HEALTH_UNUSED)
			log_info("target group %s: target %s is unused (was %s): Target.NotInUse", r->group->name,
				 r->key, health_name(st->health));
		st->health = r->hs.health = HEALTH_UNUSED;
		st->slow_start = false;
		return;
	}
	if (st->health == HEALTH_UNUSED) {
		/* Back in use: checked again from the start, as a new registration. */
		r->hs = (struct health_state){ .health = checked ? HEALTH_INITIAL : HEALTH_HEALTHY };
		st->health = r->hs.health;
	}
	if (checked && r->targets->no_checks) {
		/* A worker's target: main's checks decide its health (targets_apply_health). */
	} else if (checked) {
		http_health_start(r);
	} else {
		http_health_stop(r);
		target_rt_set_health(r, HEALTH_HEALTHY);
	}
}

/* g (kept or new) takes tg's targets: kept ones by key, new ones initial; all
 * unused while no rule forwards to the group. */
static void group_update(struct targets *t, struct tg_state *g, const struct target_group *tg, bool used)
{
	size_t n = tg->nhttp_targets;
	struct target_state *st = xcalloc(n ? n : 1, sizeof(*st));
	struct target_rt **rt = xcalloc(n ? n : 1, sizeof(*rt));
	bool first = g->n == 0;   /* targets registered into an empty group (§1.8) */

	for (size_t i = 0; i < n; i++) {
		const struct http_target *ht = &tg->http_targets[i];
		struct target_rt *r = tg_state_find(g, sv_from(ht->key));

		if (r) {
			st[i] = g->st[r->index];
			g->rt[r->index] = NULL;
		} else {
			r = rt_new(t, g->name, ht);
			st[i].health = tg->health_check.enabled ? HEALTH_INITIAL : HEALTH_HEALTHY;
			st[i].first_registration = first;
			r->hs.health = st[i].health;
		}
		rt[i] = r;
	}
	/* What is left of the old arrays is no longer registered. */
	for (size_t i = 0; i < g->n; i++) {
		if (g->rt[i]) {
			g->rt[i]->index = i;
			drain(t, g->rt[i], tg->attrs.deregistration_delay);
		}
	}
	free(g->st);
	free(g->rt);
	g->st = st;
	g->rt = rt;
	g->n = n;
	g->tg = tg;
	for (size_t i = 0; i < n; i++) {
		rt[i]->group = g;
		rt[i]->index = i;
		set_in_use(rt[i], used, tg->health_check.enabled);
	}
}

void targets_set_config(struct targets *t, struct config *cfg)
{
	struct tg_state *kept = NULL, *g;

	/* Unlink every group; the configuration's groups take theirs back by name. */
	for (size_t i = 0; i < cfg->ntarget_groups; i++) {
		const struct target_group *tg = &cfg->target_groups[i];
		struct tg_state **pp;

		if (tg->target_type == TARGET_LAMBDA)
			continue;
		for (pp = &t->groups; *pp && strcmp((*pp)->name, tg->name) != 0; pp = &(*pp)->next)
			;
		if ((g = *pp)) {
			*pp = g->next;
		} else {
			g = xcalloc(1, sizeof(*g));
			g->name = xstrdup(tg->name);
			target_selector_init(&g->sel);
		}
		g->next = kept;
		kept = g;
		group_update(t, g, tg, group_in_use(cfg, tg));
	}
	/* Groups no longer configured: their targets drain (with the old delay). */
	while ((g = t->groups)) {
		t->groups = g->next;
		for (size_t i = 0; i < g->n; i++) {
			g->rt[i]->index = i;
			drain(t, g->rt[i], g->tg->attrs.deregistration_delay);
		}
		group_free(g);
	}
	t->groups = kept;
	http_client_set_idle_timeout(t->client, cfg->lb.attrs.idle_timeout);
	h2_client_set_idle_timeout(t->h2, cfg->lb.attrs.idle_timeout);
	config_ref(cfg);
	config_unref(t->cfg);
	t->cfg = cfg;
}

/* --- lifecycle -------------------------------------------------------------------- */

struct targets *targets_new(struct event_base *base, struct rng *rng, struct lambda *lambda)
{
	struct targets *t = xcalloc(1, sizeof(*t));

	t->base = base;
	t->rng = rng;
	t->lambda = lambda;
	t->client = http_client_new(base);
	t->h2 = h2_client_new(base);
	t->sticky_key = (struct sticky_key){ rng_next(rng), rng_next(rng) };
	t->drain_timer = evtimer_new(base, on_drain_tick, t);
	return t;
}

static unsigned cut_all(struct target_rt *r)
{
	unsigned n = 0;

	for (; r->forwards; n++)
		http_fwd_cut(r->forwards, "was still answering when lb stopped");
	return n;
}

unsigned targets_cut(struct targets *t)
{
	unsigned n = 0;

	/* ALB has no shutdown of its own; its nearest case is a target that
	 * goes away under requests, deregistered past its delay: 502, the
	 * request logged with its target, target_status_code "-" (§1.9, §1.15).
	 * Not 460: the client did not close, lb did. */
	for (struct tg_state *g = t->groups; g; g = g->next)
		for (size_t i = 0; i < g->n; i++)
			n += cut_all(g->rt[i]);
	for (struct target_rt *r = t->draining; r; r = r->next_draining)
		n += cut_all(r);
	return n;
}

void targets_free(struct targets *t)
{
	if (!t)
		return;
	while (t->groups) {
		struct tg_state *g = t->groups;
		t->groups = g->next;
		for (size_t i = 0; i < g->n; i++)
			rt_free(g->rt[i]);
		group_free(g);
	}
	while (t->draining) {
		struct target_rt *r = t->draining;
		t->draining = r->next_draining;
		rt_free(r);
	}
	http_client_free(t->client);
	h2_client_free(t->h2);
	event_free(t->drain_timer);
	target_counts_unref(t->counts);
	config_unref(t->cfg);
	free(t);
}
