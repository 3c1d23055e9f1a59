/*
 * lb: the serving process.
 *
 * Start: load and validate the configuration (exit 1 before binding anything
 * if it is wrong), bind every listener, print one "listening on" line per
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
 * SIGTERM/SIGINT: stop accepting, let requests in flight finish (at most
 * DRAIN_SECONDS), then tear down in order: connections, router, Invoke API,
 * sandboxes, access log, configuration, event base. A second signal stops at
 * once.
 */
#include "lb.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "access_log.h"
#include "config/config.h"
#include "console/console.h"
#include "targets/health.h"
#include "net/http_server.h"
#include "net/jwks_fetch.h"
#include "net/net.h"
#include "lambda/lambda.h"
#include "lambda/lambda_api.h"
#include "base/log.h"
#include "router.h"
#include "net/tls.h"
#include "base/util.h"
#include "targets/targets.h"

#define DRAIN_SECONDS 10

struct bound {
	char *address;
	bool https;
	int cfg_port;             /* the configured port (after -p), the key for reloads */
	struct http_listener *l;
	bool fresh;               /* bound by the reload in progress */
};

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
	struct bound *bound;
	size_t nbound;
	struct lambda_api *api;
	struct console *console;           /* admin: the console, /metrics and /api */
	struct http_listener *api_l; /* NULL when lambda_api: is not configured */
	char *api_address;
	int api_port;                      /* the configured port, the key for reloads */
	struct event *sig_term, *sig_int, *sig_hup, *drain_timer;
	int64_t drain_deadline_us;
	bool stopping;
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

/* "lb: listening on http://ADDRESS:PORT", once per newly bound listener (tests read it). */
static void print_listening(const struct bound *b)
{
	bool v6 = strchr(b->address, ':') != NULL;

	printf("lb: listening on %s://%s%s%s:%u\n", b->https ? "https" : "http", v6 ? "[" : "",
	       b->address, v6 ? "]" : "", http_listener_port(b->l));
}

static bool same_listener(const struct bound *b, const struct listener_cfg *lc)
{
	return b->cfg_port == lc->port && strcmp(b->address, lc->address) == 0;
}

/* A listener's routing.http.response.* attributes, on every answer it gives. */
static void set_answer_headers(struct http_listener *l, const struct listener_attrs *a)
{
	const char *names[RESP_H_COUNT], *values[RESP_H_COUNT];
	size_t n = 0;

	for (int i = 0; i < RESP_H_COUNT; i++) {
		if (!a->response[i])
			continue;
		names[n] = config_response_header_name((enum resp_header)i);
		values[n++] = a->response[i];
	}
	http_listener_set_answer_headers(l, names, values, n, !a->server_enabled);
}

/*
 * Makes lb's listener set the one cfg describes, reusing the sockets whose
 * (address, port) is unchanged. Binds every new one before changing anything,
 * so on failure everything stays as it was.
 */
static int bind_listeners(struct lb *lb, const struct config *cfg, struct lb_err *err)
{
	size_t n = cfg->nlisteners, i, k;
	struct bound *next = xcalloc(n, sizeof(*next));
	bool *reused = xcalloc(lb->nbound + 1, sizeof(*reused));
	struct tls_listener **tls = xcalloc(n, sizeof(*tls));
	int r = -1;

	/* TLS first: a bad certificate fails the load before any socket changes. */
	for (i = 0; i < n; i++) {
		if (cfg->listeners[i].protocol == PROTO_HTTPS &&
		    !(tls[i] = tls_listener_new(cfg, &cfg->listeners[i], err)))
			goto out;
	}
	for (i = 0; i < n; i++) {
		const struct listener_cfg *lc = &cfg->listeners[i];

		next[i].address = xstrdup(lc->address);
		next[i].https = lc->protocol == PROTO_HTTPS;
		next[i].cfg_port = lc->port;
		for (k = 0; k < lb->nbound; k++)
			if (!reused[k] && same_listener(&lb->bound[k], lc))
				break;
		if (k < lb->nbound) {
			reused[k] = true;
			next[i].l = lb->bound[k].l;
			continue;
		}
		next[i].l = http_server_listen(lb->server, "listener", lc->address, lc->port, err);
		if (!next[i].l)
			goto out;
		next[i].fresh = true;
	}
	for (k = 0; k < lb->nbound; k++) {
		if (!reused[k])
			http_listener_close(lb->bound[k].l);
		free(lb->bound[k].address);
	}
	free(lb->bound);
	lb->bound = next;
	lb->nbound = n;
	next = NULL;
	for (i = 0; i < lb->nbound; i++) {
		http_listener_set_tls(lb->bound[i].l, tls[i]);
		tls[i] = NULL;
		set_answer_headers(lb->bound[i].l, &cfg->listeners[i].attrs);
		if (lb->bound[i].fresh)
			print_listening(&lb->bound[i]);
		lb->bound[i].fresh = false;
		http_listener_set_index(lb->bound[i].l, (int)i);
	}
	fflush(stdout);
	r = 0;
out:
	for (i = 0; next && i < n; i++) {
		if (next[i].fresh)
			http_listener_close(next[i].l);
		free(next[i].address);
	}
	free(next);
	free(reused);
	for (i = 0; i < n; i++)
		tls_listener_free(tls[i]);
	free(tls);
	return r;
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
	console_commit(lb->console, cfg);
	lambda_api_set_config(lb->api, cfg);
	lambda_set_config(lb->lambda, cfg);
	targets_set_config(lb->targets, cfg);
	router_set_config(lb->router, cfg);
	health_set_config(lb->health, cfg);
	configure_server(lb->server, cfg);
	config_unref(lb->cfg);
	lb->cfg = cfg;
	log_info("reloaded %s", cfg->path);
}

static void on_drain_tick(evutil_socket_t fd, short what, void *arg)
{
	struct lb *lb = arg;

	(void)fd;
	(void)what;
	if ((http_server_connections(lb->server) == 0 && lambda_api_busy(lb->api) == 0) ||
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
		reload(lb);
		return;
	}
	if (lb->stopping) {
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
	lb->drain_timer = event_new(lb->base, -1, EV_PERSIST, on_drain_tick, lb);
	event_add(lb->drain_timer, &tick);
}

static void lb_teardown(struct lb *lb)
{
	http_server_free(lb->server);      /* aborts requests in flight */
	for (size_t i = 0; i < lb->nbound; i++)
		free(lb->bound[i].address);
	free(lb->bound);
	router_free(lb->router);
	targets_free(lb->targets);         /* closes target connections, stops their checks */
	health_free(lb->health);           /* cancels checks in flight */
	lambda_api_free(lb->api);          /* cancels its invocations; closes its listener */
	free(lb->api_address);
	lambda_free(lb->lambda);           /* stops every sandbox */
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

int lb_serve(const struct lb_options *opt)
{
	struct lb lb = { .opt = opt };
	struct lb_err err = { "" };
	struct access_log *al = NULL;
	struct http_listener *api_l = NULL;
	char *runtimes;
	int status = 1;

	lb.cfg = load_config(opt, &err);
	if (!lb.cfg) {
		log_error("%s", err.msg);
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	log_debug("open descriptors limit: %ld", net_raise_fd_limit());
	rng_seed(&lb.rng);
	lb.base = event_base_new();
	runtimes = lambda_find_runtimes("/proc/self/exe");
	lb.lambda = lambda_new(lb.base, &lb.rng, runtimes);
	free(runtimes);
	lambda_set_config(lb.lambda, lb.cfg);
	lb.targets = targets_new(lb.base, &lb.rng, lb.lambda);
	lb.router = router_new(&lb.rng, lb.targets);
	router_set_config(lb.router, lb.cfg);
	lb.health = health_new(lb.base, lb.lambda, &lb.rng);
	lb.server = http_server_new(lb.base, router_http_callbacks(), lb.router, &lb.rng);
	configure_server(lb.server, lb.cfg);
	lb.api = lambda_api_new(lb.base, lb.lambda, &lb.rng);
	lambda_api_set_config(lb.api, lb.cfg);
	lb.console = console_new(lb.base, lb.router, lb.lambda, lb.targets, lb.health);
	/* Signals are caught before the "listening" lines tell anyone lb is up. */
	lb.sig_term = evsignal_new(lb.base, SIGTERM, on_signal, &lb);
	lb.sig_int = evsignal_new(lb.base, SIGINT, on_signal, &lb);
	lb.sig_hup = evsignal_new(lb.base, SIGHUP, on_signal, &lb);
	event_add(lb.sig_term, NULL);
	event_add(lb.sig_int, NULL);
	event_add(lb.sig_hup, NULL);
	if (prepare_access_log(&lb, lb.cfg, &al, &err) < 0 || bind_listeners(&lb, lb.cfg, &err) < 0 ||
	    prepare_lambda_api(&lb, lb.cfg, &api_l, &err) < 0 || console_prepare(lb.console, lb.cfg, &err) < 0) {
		log_error("%s", err.msg);
		access_log_free(al);
		http_listener_close(api_l);
		goto out;
	}
	commit_access_log(&lb, al);
	commit_lambda_api(&lb, lb.cfg, api_l);
	console_commit(lb.console, lb.cfg);
	targets_set_config(lb.targets, lb.cfg);
	health_set_config(lb.health, lb.cfg);
	event_base_dispatch(lb.base);
	status = 0;
out:
	lb_teardown(&lb);
	return status;
}
