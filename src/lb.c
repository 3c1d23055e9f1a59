/*
 * lb: the serving process.
 *
 * Start: load and validate the configuration (exit 1 before binding anything
 * if it is wrong), remove the temporary directories of lbs that were killed
 * (tmp_dirs.h), bind every listener, print one "listening on" line per
 * listener in configuration order, then run the loop.
 *
 * SIGHUP reloads: the new files are loaded and validated first; if they are
 * wrong, lb logs why and keeps serving the old ones. Listeners are matched by
 * (address, configured port) so unchanged ones keep their sockets (and their
 * port, when the port is 0); new ones are bound before anything changes, so a
 * failed bind also leaves everything as it was. Requests in flight finish
 * with the configuration they started with.
 *
 * The Invoke API (lambda_api:) is bound after the listeners and announced
 * after them; a reload rebinds it only when its address or port changed,
 * binding the new one before anything changes, like a listener.
 *
 * `workers: N` (workers.c) adds N-1 loops in threads on the same ports
 * (SO_REUSEPORT); a reload reaches them as a message, SIGTERM drains them
 * with this one, and they are joined before the teardown. A reload does not
 * change their number (a restart does).
 *
 * SIGTERM/SIGINT: stop accepting, let requests in flight finish (at most
 * DRAIN_SECONDS; those still with an HTTP target or a Lambda function then
 * get 502, Invoke API invocations 500, the answers flushed for one tick),
 * then tear down in order: connections, router, Invoke API, sandboxes,
 * access log, configuration, event base. A second signal stops at once
 * (the teardown still runs); signals after the loop has exited are ignored.
 */
#include "lb.h"

#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <event2/thread.h>

#include "access_log.h"
#include "config/config.h"
#include "console/console.h"
#include "targets/health.h"
#include "net/http_server.h"
#include "net/jwks_fetch.h"
#include "net/net.h"
#include "lambda/image.h"
#include "lambda/lambda.h"
#include "lambda/lambda_api.h"
#include "lambda/tmp_dirs.h"
#include "base/log.h"
#include "router.h"
#include "net/tls.h"
#include "base/util.h"
#include "targets/targets.h"
#include "listeners.h"
#include "net/xqueue.h"
#include "workers.h"

#define DRAIN_SECONDS 10

struct lb {
	const struct lb_options *opt;
	struct event_base *base;
	struct rng rng;
	struct config *cfg;
	struct http_server *server;
	struct router *router;
	struct lambda *lambda;
	struct targets *targets;
	struct health *health;
	struct access_log *alog;
	struct listener_set ls;
	struct xqueue *main_q;             /* `workers` > 1: the other loops' messages to this one */
	struct workers *workers;           /* NULL with one loop */
	int nworkers;                      /* loops, this one included (a reload keeps it) */
	struct lambda_api *api;
	struct console *console;           /* admin: the console, /metrics and /api */
	struct http_listener *api_l; /* NULL when lambda_api: is not configured */
	char *api_address;
	int api_port;                      /* the configured port, the key for reloads */
	struct event *sig_term, *sig_int, *sig_hup, *drain_timer;
	int64_t drain_deadline_us;
	bool stopping;
	bool cut;                          /* the drain ran out: forwards in flight were cut */
};

static struct config *load_config(const struct lb_options *opt, struct lb_err *err)
{
	struct config *cfg = config_load_stack(opt->config_path, opt->stack, err);

	if (cfg && opt->port >= 0)
		cfg->listeners[0].port = opt->port;
	/* jwt-validation's JWKS URLs: fetched before the configuration serves. */
	if (cfg && jwks_fetch_all(cfg, err) < 0) {
		config_unref(cfg);
		return NULL;
	}
	return cfg;
}

static const char *access_log_path_of(const struct lb *lb, const struct config *cfg)
{
	return lb->opt->access_log ? lb->opt->access_log : cfg->lb.access_log;
}

static void configure_server(struct http_server *s, const struct config *cfg)
{
	const struct lb_attributes *a = &cfg->lb.attrs;

	struct http_server_settings set = { a->idle_timeout, a->client_keep_alive, h1_limits_alb_request };

	set.limits.desync_mode = a->desync_mode;
	http_server_configure(s, &set);
}

/* Binds cfg's listeners (listeners.c); with `workers`, they bind SO_REUSEPORT. */
static int bind_listeners(struct lb *lb, const struct config *cfg, struct lb_err *err)
{
	return listener_set_bind(&lb->ls, cfg, NULL, err);
}

/* The port each of cfg's listeners is bound to, once bind_listeners bound them (returns new). */
static uint16_t *bound_ports(struct lb *lb, const struct config *cfg)
{
	uint16_t *ports = xcalloc(cfg->nlisteners + 1, sizeof(*ports));

	for (size_t i = 0; i < cfg->nlisteners; i++)
		ports[i] = listener_set_port(&lb->ls, i);
	return ports;
}

/* The other loops (`workers`) take cfg too, on this loop's ports. */
static void workers_reload(struct lb *lb, struct config *cfg)
{
	uint16_t *ports;

	if (workers_wanted(cfg) != lb->nworkers)
		log_warn("workers: a change takes effect at restart; still running %d", lb->nworkers);
	if (!lb->workers)
		return;
	ports = bound_ports(lb, cfg);
	workers_set_config(lb->workers, cfg, ports, access_log_path_of(lb, cfg));
	free(ports);
}

/* The console serves cfg, knowing the ports its listeners are bound to. */
static void commit_console(struct lb *lb, struct config *cfg)
{
	uint16_t *ports = bound_ports(lb, cfg);

	console_commit(lb->console, cfg, ports);
	free(ports);
}

/*
 * The access log cfg asks for: lb's current one when the path is unchanged
 * (reopened, which is what log rotation needs), a newly opened one, or NULL.
 */
static int prepare_access_log(struct lb *lb, const struct config *cfg, struct access_log **out,
			      struct lb_err *err)
{
	const char *path = access_log_path_of(lb, cfg);

	*out = NULL;
	if (!path)
		return 0;
	if (lb->alog && strcmp(access_log_path(lb->alog), path) == 0) {
		*out = lb->alog;
		return access_log_reopen(lb->alog, err);
	}
	*out = access_log_open(lb->base, path, err);
	return *out ? 0 : -1;
}

static void commit_access_log(struct lb *lb, struct access_log *al)
{
	if (al == lb->alog)
		return;
	access_log_free(lb->alog);
	lb->alog = al;
	router_set_access_log(lb->router, al);
}

/*
 * The Invoke API listener cfg asks for: lb's current one when its address and
 * configured port are unchanged, a newly bound one, or NULL for none.
 */
static int prepare_lambda_api(struct lb *lb, const struct config *cfg, struct http_listener **out,
			      struct lb_err *err)
{
	const struct lambda_api_cfg *a = &cfg->lambda_api;

	*out = NULL;
	if (!a->enabled || lb->stopping)
		return 0;
	if (lb->api_l && lb->api_port == a->port && strcmp(lb->api_address, a->address) == 0) {
		*out = lb->api_l;
		return 0;
	}
	*out = lambda_api_listen(lb->api, a->address, a->port, err);
	return *out ? 0 : -1;
}

/* Makes l lb's Invoke API listener; a new one is announced on stdout
 * ("lb: lambda api on http://ADDRESS:PORT", tests read it). */
static void commit_lambda_api(struct lb *lb, const struct config *cfg, struct http_listener *l)
{
	const char *address = cfg->lambda_api.address;
	bool v6;

	if (l == lb->api_l)
		return;
	http_listener_close(lb->api_l);
	free(lb->api_address);
	lb->api_l = l;
	lb->api_address = l ? xstrdup(address) : NULL;
	lb->api_port = cfg->lambda_api.port;
	if (!l)
		return;
	v6 = strchr(address, ':') != NULL;
	printf("lb: lambda api on http://%s%s%s:%u\n", v6 ? "[" : "", address, v6 ? "]" : "",
	       http_listener_port(l));
	fflush(stdout);
}

static void reload(struct lb *lb)
{
	struct lb_err err = { "" };
	struct config *cfg = load_config(lb->opt, &err);
	struct access_log *al = NULL;
	struct http_listener *api_l = NULL;

	if (!cfg || prepare_access_log(lb, cfg, &al, &err) < 0 || prepare_lambda_api(lb, cfg, &api_l, &err) < 0 ||
	    console_prepare(lb->console, cfg, &err) < 0 || bind_listeners(lb, cfg, &err) < 0) {
		log_error("reload failed, still serving the previous configuration: %s", err.msg);
		if (al != lb->alog)
			access_log_free(al);
		if (api_l != lb->api_l)
			http_listener_close(api_l);
		console_cancel(lb->console);
		config_unref(cfg);
		return;
	}
	commit_access_log(lb, al);
	commit_lambda_api(lb, cfg, api_l);
	commit_console(lb, cfg);
	lambda_api_set_config(lb->api, cfg);
	lambda_set_config(lb->lambda, cfg);
	targets_set_config(lb->targets, cfg);
	router_set_config(lb->router, cfg);
	health_set_config(lb->health, cfg);
	configure_server(lb->server, cfg);
	workers_reload(lb, cfg);
	config_unref(lb->cfg);
	lb->cfg = cfg;
	if (!lb->workers)
		log_info("reloaded %s", cfg->path);   /* workers: once every loop has it */
}

static void on_drain_tick(evutil_socket_t fd, short what, void *arg)
{
	struct lb *lb = arg;

	(void)fd;
	(void)what;
	if (!lb->cut && time_mono_us() >= lb->drain_deadline_us) {
		lb->cut = true;
		/* Requests still with an HTTP target or a Lambda function get 502
		 * (not 460: the client did not leave), Invoke API invocations 500;
		 * their answers go out before the next tick. */
		if (targets_cut(lb->targets) + router_cut(lb->router) + lambda_api_cut(lb->api))
			return;
	}
	if ((http_server_connections(lb->server) == 0 && lambda_api_busy(lb->api) == 0 &&
	     (!lb->workers || workers_running(lb->workers) == 0)) ||
	    time_mono_us() >= lb->drain_deadline_us) {
		/* Lambda's extensions get SHUTDOWN and 2 seconds before their environment stops. */
		if (lambda_stop_sandboxes(lb->lambda) && time_mono_us() < lb->drain_deadline_us + 3000000)
			return;
		event_base_loopexit(lb->base, NULL);
	}
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct lb *lb = arg;
	struct timeval tick = { 0, 50000 };

	(void)what;
	if (sig == SIGHUP) {
		/* Stopping, the listeners are closed and freed: nothing to reload into
		 * (a logrotate or systemd reload may still send one). */
		if (lb->stopping)
			log_info("stopping: SIGHUP ignored");
		else
			reload(lb);
		return;
	}
	if (lb->stopping) {
		if (lb->workers)
			workers_stop_now(lb->workers);
		event_base_loopexit(lb->base, NULL);
		return;
	}
	lb->stopping = true;
	log_info("stopping: finishing requests in flight");
	http_server_shutdown(lb->server);
	lambda_api_shutdown(lb->api);      /* closes its listener too */
	lb->api_l = NULL;
	console_shutdown(lb->console);     /* closes its listener and live streams */
	lb->drain_deadline_us = time_mono_us() + DRAIN_SECONDS * 1000000LL;
	if (lb->workers)
		workers_stop(lb->workers, lb->drain_deadline_us);
	lb->drain_timer = event_new(lb->base, -1, EV_PERSIST, on_drain_tick, lb);
	event_add(lb->drain_timer, &tick);
}

static void lb_teardown(struct lb *lb)
{
	/* The other loops end first; what they left in main_q is dropped, their
	 * invocations cancelled (main_q goes with the event base it wakes). */
	workers_join(lb->workers);
	xqueue_free(lb->main_q);
	http_server_free(lb->server);      /* aborts requests in flight */
	listener_set_release(&lb->ls);
	router_free(lb->router);
	targets_free(lb->targets);         /* closes target connections, stops their checks */
	health_free(lb->health);           /* cancels checks in flight */
	lambda_api_free(lb->api);          /* cancels its invocations; closes its listener */
	free(lb->api_address);
	lambda_free(lb->lambda);           /* stops every sandbox */
	workers_free(lb->workers);         /* drops answers to invocations they gave up */
	console_free(lb->console);         /* after every request and invocation it records */
	access_log_free(lb->alog);
	config_unref(lb->cfg);
	if (lb->drain_timer)
		event_free(lb->drain_timer);
	if (lb->sig_term) {
		event_free(lb->sig_term);
		event_free(lb->sig_int);
		event_free(lb->sig_hup);
	}
	event_base_free(lb->base);
}

/* The other loops, on this one's ports, once its listeners are bound (port 0 included). */
static int start_workers(struct lb *lb, int n, struct lb_err *err)
{
	uint16_t *ports = bound_ports(lb, lb->cfg);

	lb->workers = workers_new(n, lb->cfg, ports, access_log_path_of(lb, lb->cfg), lb->main_q, lb->lambda,
				  lb->targets, lb->server, lb->console, err);
	free(ports);
	return lb->workers ? workers_run(lb->workers, err) : -1;
}

int lb_serve(const struct lb_options *opt)
{
	struct lb lb = { .opt = opt };
	struct lb_err err = { "" };
	struct access_log *al = NULL;
	struct http_listener *api_l = NULL;
	char *runtimes, cache[PATH_MAX];
	int nworkers, status = 1;

	lb.cfg = load_config(opt, &err);
	if (!lb.cfg) {
		log_error("%s", err.msg);
		return 1;
	}
	/* Once, before serving: what lbs killed with SIGKILL left in TMPDIR and the image cache. */
	tmp_dirs_sweep(images_cache_path(cache, sizeof(cache)) == 0 ? cache : NULL);
	signal(SIGPIPE, SIG_IGN);
	log_debug("open descriptors limit: %ld", net_raise_fd_limit());
	rng_seed(&lb.rng);
	lb.nworkers = nworkers = workers_wanted(lb.cfg);
	if (nworkers > 1)
		evthread_use_pthreads();   /* before any event base: other threads wake this loop */
	lb.base = net_base_new();
	runtimes = lambda_find_runtimes("/proc/self/exe");
	lb.lambda = lambda_new(lb.base, &lb.rng, runtimes);
	free(runtimes);
	lambda_set_config(lb.lambda, lb.cfg);
	lb.targets = targets_new(lb.base, &lb.rng, lb.lambda);
	lb.router = router_new(&lb.rng, lb.targets);
	router_set_config(lb.router, lb.cfg);
	lb.health = health_new(lb.base, lb.lambda, &lb.rng);
	lb.server = http_server_new(lb.base, router_http_callbacks(), lb.router, &lb.rng);
	lb.ls.server = lb.server;
	configure_server(lb.server, lb.cfg);
	lb.api = lambda_api_new(lb.base, lb.lambda, &lb.rng);
	lambda_api_set_config(lb.api, lb.cfg);
	lb.console = console_new(lb.base, lb.router, lb.lambda, lb.targets, lb.health);
	if (nworkers > 1) {
		http_server_set_reuse_port(lb.server, true);
		console_set_threaded(lb.console);
		lb.main_q = xqueue_new(lb.base);
	}
	/* Signals are caught before the "listening" lines tell anyone lb is up.
	 * Ignored first, as libevent puts back the disposition it found when
	 * their events are freed: one arriving during the teardown or the exit
	 * that follows must not kill lb (leaving sandboxes behind, or exiting of
	 * the signal rather than 0). Sandboxes start with default dispositions. */
	signal(SIGTERM, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	lb.sig_term = evsignal_new(lb.base, SIGTERM, on_signal, &lb);
	lb.sig_int = evsignal_new(lb.base, SIGINT, on_signal, &lb);
	lb.sig_hup = evsignal_new(lb.base, SIGHUP, on_signal, &lb);
	event_add(lb.sig_term, NULL);
	event_add(lb.sig_int, NULL);
	event_add(lb.sig_hup, NULL);
	/* The listeners last, as on reload: their "listening" lines must not precede
	 * a failure to bind the Invoke API's or the console's port. */
	if (prepare_access_log(&lb, lb.cfg, &al, &err) < 0 || prepare_lambda_api(&lb, lb.cfg, &api_l, &err) < 0 ||
	    console_prepare(lb.console, lb.cfg, &err) < 0 || bind_listeners(&lb, lb.cfg, &err) < 0) {
		log_error("%s", err.msg);
		access_log_free(al);
		http_listener_close(api_l);
		console_cancel(lb.console);
		goto out;
	}
	commit_access_log(&lb, al);
	commit_lambda_api(&lb, lb.cfg, api_l);
	commit_console(&lb, lb.cfg);
	targets_set_config(lb.targets, lb.cfg);
	health_set_config(lb.health, lb.cfg);
	if (nworkers > 1 && start_workers(&lb, nworkers, &err) < 0) {
		log_error("%s", err.msg);
		goto out;
	}
	net_dispatch(lb.base);
	status = 0;
out:
	lb_teardown(&lb);
	return status;
}
