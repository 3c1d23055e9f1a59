/*
 * workers: the extra event loops of `workers: N`.
 *
 * A worker is made on the main thread (its event base, server, router,
 * targets, access log and listeners, bound with SO_REUSEPORT to main's
 * ports), so a bind that fails fails lb's start; its thread then only runs
 * the loop and, once the loop ends, tears its own objects down (aborting
 * what is still in flight, which cancels its invocations on main). Its
 * queue and its xlambda outlive the thread: main may still answer an
 * invocation the worker gave up, and workers_free drops those answers.
 */
#include "workers.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "access_log.h"
#include "base/log.h"
#include "base/util.h"
#include "console/console.h"
#include "lambda/lambda_xthread.h"
#include "listeners.h"
#include "net/http_server.h"
#include "net/net.h"
#include "net/xqueue.h"
#include "router.h"
#include "targets/target_count.h"
#include "targets/targets.h"
#include "alb/regex_rule.h"
#include "alb/target_select.h"

#define MAX_WORKERS 64

struct worker {
	struct workers *ws;
	int index;                    /* 1..n-1; main is 0 */
	pthread_t thread;
	bool started;
	struct event_base *base;
	struct rng rng;
	struct http_server *server;
	struct router *router;
	struct targets *targets;
	struct access_log *alog;
	struct listener_set ls;
	struct xqueue *q;
	struct xlambda *xl;
	struct config *cfg;
	struct event *drain_timer;
	int64_t deadline_us;
	bool cut;                     /* the drain ran out: targets_cut and router_cut were called */
	uint64_t accepted;            /* its server's count once the server is gone (under ws->mu) */
};

struct workers {
	int n;                        /* loops, main's included */
	struct worker *w;             /* w[1..n) */
	struct xqueue *main_q;
	struct target_counts *counts; /* requests in flight to each target, every loop's */
	struct lambda *lambda;
	struct targets *main_targets;
	struct http_server *main_server;
	struct console *console;
	pthread_mutex_t mu;           /* the servers' lifetimes, for /metrics */
	int running;                  /* atomic */
	/* the reload in progress: "reloaded PATH" once every worker took it */
	unsigned gen;
	int acks;
	char *reload_path;
};

static struct workers *current;   /* for /metrics (main's thread) */

int workers_wanted(const struct config *cfg)
{
	long n = cfg->lb.workers;

	if (n == 0)
		n = sysconf(_SC_NPROCESSORS_ONLN);
	return n < 1 ? 1 : n > MAX_WORKERS ? MAX_WORKERS : (int)n;
}

static void configure_server(struct http_server *s, const struct config *cfg)
{
	const struct lb_attributes *a = &cfg->lb.attrs;
	struct http_server_settings set = { a->idle_timeout, a->client_keep_alive, h1_limits_alb_request };

	set.limits.desync_mode = a->desync_mode;
	http_server_configure(s, &set);
}

/* Switches w to cfg: its access log, listeners, targets, router and server settings. */
static int worker_apply(struct worker *w, struct config *cfg, const uint16_t *ports, const char *alog_path,
			struct lb_err *err)
{
	struct access_log *al = NULL;
	bool on = cfg->admin.enabled;

	if (alog_path && w->alog && strcmp(access_log_path(w->alog), alog_path) == 0) {
		al = w->alog;
		if (access_log_reopen(al, err) < 0)
			return -1;
	} else if (alog_path && !(al = access_log_open(w->base, alog_path, err))) {
		return -1;
	}
	if (listener_set_bind(&w->ls, cfg, ports, err) < 0) {
		if (al != w->alog)
			access_log_free(al);
		return -1;
	}
	if (al != w->alog) {
		access_log_free(w->alog);
		w->alog = al;
		router_set_access_log(w->router, al);
	}
	targets_set_config(w->targets, cfg);
	router_set_config(w->router, cfg);
	router_set_console(w->router, on ? w->ws->console : NULL);
	configure_server(w->server, cfg);
	config_ref(cfg);
	config_unref(w->cfg);
	w->cfg = cfg;
	return 0;
}

/* --- messages (in the worker's thread, or discarded after it) ------------------------- */

struct cfg_msg {
	struct worker *w;
	struct config *cfg;
	uint16_t *ports;
	char *alog_path;
	unsigned gen;
};

/* main's thread: a worker took reload gen. */
static void on_ack(void *arg, bool discard)
{
	struct cfg_msg *m = arg;
	struct workers *ws = m->w->ws;

	if (!discard && m->gen == ws->gen && ++ws->acks == ws->n - 1)
		log_info("reloaded %s", ws->reload_path);
	free(m);
}

static void on_config(void *arg, bool discard)
{
	struct cfg_msg *m = arg;
	struct lb_err err = { "" };
	struct cfg_msg *ack;

	if (!discard && worker_apply(m->w, m->cfg, m->ports, m->alog_path, &err) < 0)
		log_error("worker %d: reload failed, still serving the previous configuration: %s", m->w->index,
			  err.msg);
	if (!discard) {
		ack = xcalloc(1, sizeof(*ack));
		ack->w = m->w;
		ack->gen = m->gen;
		xqueue_post(m->w->ws->main_q, on_ack, ack);
	}
	config_unref(m->cfg);
	free(m->ports);
	free(m->alog_path);
	free(m);
}

struct health_msg {
	struct worker *w;
	char *group, *key;
	struct target_state st;
};

static void on_health(void *arg, bool discard)
{
	struct health_msg *m = arg;

	if (!discard)
		targets_apply_health(m->w->targets, m->group, m->key, &m->st);
	free(m->group);
	free(m->key);
	free(m);
}

static void on_drain_tick(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;

	(void)fd;
	(void)what;
	if (!w->cut && time_mono_us() >= w->deadline_us) {
		w->cut = true;
		if (targets_cut(w->targets) + router_cut(w->router))
			return;   /* their 502s go out before the next tick, as main's (lb.c) */
	}
	if (http_server_connections(w->server) == 0 || time_mono_us() >= w->deadline_us)
		event_base_loopexit(w->base, NULL);
}

struct stop_msg {
	struct worker *w;
	int64_t deadline_us;     /* 0: now */
};

static void on_stop(void *arg, bool discard)
{
	struct stop_msg *m = arg;
	struct worker *w = m->w;
	struct timeval tick = { 0, 50000 };

	if (!discard && !m->deadline_us) {
		event_base_loopexit(w->base, NULL);
	} else if (!discard && !w->drain_timer) {
		w->deadline_us = m->deadline_us;
		http_server_shutdown(w->server);
		w->drain_timer = event_new(w->base, -1, EV_PERSIST, on_drain_tick, w);
		event_add(w->drain_timer, &tick);
	}
	free(m);
}

/* --- main's side ------------------------------------------------------------------ */

/* main's targets: a target's health changed; every worker takes it. */
static void on_main_health(void *cookie, const char *group, const char *key, const struct target_state *st)
{
	struct workers *ws = cookie;

	for (int i = 1; i < ws->n; i++) {
		struct health_msg *m = xcalloc(1, sizeof(*m));

		m->w = &ws->w[i];
		m->group = xstrdup(group);
		m->key = xstrdup(key);
		m->st = *st;
		xqueue_post(ws->w[i].q, on_health, m);
	}
}

static int worker_init(struct workers *ws, struct worker *w, int index, struct config *cfg, const uint16_t *ports,
		       const char *alog_path, const struct sticky_key *key, struct lb_err *err)
{
	w->ws = ws;
	w->index = index;
	rng_seed(&w->rng);
	w->base = net_base_new();
	w->q = xqueue_new(w->base);
	w->xl = xlambda_new(ws->lambda, ws->main_q, w->q);
	w->targets = targets_new(w->base, &w->rng, NULL);
	targets_set_worker(w->targets, w->xl, key);
	targets_share_counts(w->targets, ws->counts);
	w->router = router_new(&w->rng, w->targets);
	w->server = http_server_new(w->base, router_http_callbacks(), w->router, &w->rng);
	http_server_set_reuse_port(w->server, true);
	w->ls.server = w->server;
	return worker_apply(w, cfg, ports, alog_path, err);
}

/* In the worker's thread once its loop ended, or in main's for one that never ran. */
static void worker_teardown(struct worker *w)
{
	struct workers *ws = w->ws;

	if (!w->base)
		return;
	pthread_mutex_lock(&ws->mu);
	w->accepted = w->server ? http_server_accepted(w->server) : 0;
	http_server_free(w->server);  /* aborts requests in flight (their invocations are cancelled) */
	w->server = NULL;
	pthread_mutex_unlock(&ws->mu);
	listener_set_release(&w->ls);
	router_free(w->router);
	targets_free(w->targets);
	access_log_free(w->alog);
	config_unref(w->cfg);
	if (w->drain_timer)
		event_free(w->drain_timer);
	xqueue_detach(w->q);
	event_base_free(w->base);
	w->base = NULL;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;

	net_dispatch(w->base);
	worker_teardown(w);
	regex_thread_release();
	__atomic_sub_fetch(&w->ws->running, 1, __ATOMIC_ACQ_REL);
	return NULL;
}

struct workers *workers_new(int n, struct config *cfg, const uint16_t *ports, const char *alog_path,
			    struct xqueue *main_q, struct lambda *lambda, struct targets *main_targets,
			    struct http_server *main_server, struct console *console, struct lb_err *err)
{
	struct workers *ws = xcalloc(1, sizeof(*ws));

	ws->n = n;
	ws->w = xcalloc((size_t)n, sizeof(*ws->w));
	ws->main_q = main_q;
	ws->lambda = lambda;
	ws->main_targets = main_targets;
	ws->main_server = main_server;
	ws->console = console;
	pthread_mutex_init(&ws->mu, NULL);
	ws->counts = target_counts_new();
	targets_share_counts(main_targets, ws->counts);
	for (int i = 1; i < n; i++) {
		if (worker_init(ws, &ws->w[i], i, cfg, ports, alog_path, targets_sticky_key(main_targets), err) < 0) {
			workers_free(ws);
			return NULL;
		}
	}
	targets_set_health_observer(main_targets, on_main_health, ws);
	current = ws;
	return ws;
}

int workers_run(struct workers *ws, struct lb_err *err)
{
	for (int i = 1; i < ws->n; i++) {
		struct worker *w = &ws->w[i];

		__atomic_add_fetch(&ws->running, 1, __ATOMIC_ACQ_REL);
		if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
			__atomic_sub_fetch(&ws->running, 1, __ATOMIC_ACQ_REL);
			lb_err_set(err, "workers: cannot start a thread");
			return -1;
		}
		w->started = true;
	}
	printf("lb: %d workers\n", ws->n);
	fflush(stdout);
	return 0;
}

void workers_set_config(struct workers *ws, struct config *cfg, const uint16_t *ports, const char *alog_path)
{
	ws->gen++;
	ws->acks = 0;
	free(ws->reload_path);
	ws->reload_path = xstrdup(cfg->path);
	for (int i = 1; i < ws->n; i++) {
		struct cfg_msg *m = xcalloc(1, sizeof(*m));

		m->w = &ws->w[i];
		m->cfg = config_ref(cfg);
		m->ports = xcalloc(cfg->nlisteners + 1, sizeof(*m->ports));
		memcpy(m->ports, ports, cfg->nlisteners * sizeof(*ports));
		m->alog_path = alog_path ? xstrdup(alog_path) : NULL;
		m->gen = ws->gen;
		xqueue_post(ws->w[i].q, on_config, m);
	}
}

static void post_stop(struct workers *ws, int64_t deadline_us)
{
	for (int i = 1; i < ws->n; i++) {
		struct stop_msg *m = xcalloc(1, sizeof(*m));

		m->w = &ws->w[i];
		m->deadline_us = deadline_us;
		xqueue_post(ws->w[i].q, on_stop, m);
	}
}

void workers_stop(struct workers *ws, int64_t deadline_us)
{
	post_stop(ws, deadline_us > 0 ? deadline_us : 1);
}

void workers_stop_now(struct workers *ws)
{
	post_stop(ws, 0);
}

int workers_running(const struct workers *ws)
{
	return __atomic_load_n(&ws->running, __ATOMIC_ACQUIRE);
}

void workers_join(struct workers *ws)
{
	if (!ws || !ws->main_targets)
		return;     /* joined already */
	targets_set_health_observer(ws->main_targets, NULL, NULL);
	ws->main_targets = NULL;
	workers_stop_now(ws);
	for (int i = 1; i < ws->n; i++) {
		if (ws->w[i].started)
			pthread_join(ws->w[i].thread, NULL);
		ws->w[i].started = false;
		worker_teardown(&ws->w[i]);   /* one that never ran */
	}
}

void workers_free(struct workers *ws)
{
	if (!ws)
		return;
	workers_join(ws);
	if (current == ws)
		current = NULL;
	for (int i = 1; i < ws->n; i++) {
		xqueue_free(ws->w[i].q);      /* drops answers to invocations the worker gave up */
		xlambda_free(ws->w[i].xl);
	}
	pthread_mutex_destroy(&ws->mu);
	target_counts_unref(ws->counts);
	free(ws->reload_path);
	free(ws->w);
	free(ws);
}

void workers_metrics_write(struct buf *out)
{
	struct workers *ws = current;

	if (!ws)
		return;
	buf_printf(out, "# HELP lb_worker_connections Connections each event loop accepted (workers).\n"
			"# TYPE lb_worker_connections counter\n");
	pthread_mutex_lock(&ws->mu);
	for (int i = 0; i < ws->n; i++) {
		const struct http_server *s = i == 0 ? ws->main_server : ws->w[i].server;
		uint64_t n = s ? http_server_accepted(s) : ws->w[i].accepted;

		buf_printf(out, "lb_worker_connections{worker=\"%d\"} %llu\n", i, (unsigned long long)n);
	}
	pthread_mutex_unlock(&ws->mu);
}
